//! `intsync plan`: list live state, compute the plan, print it. Sends only GET requests.

use std::path::Path;
use std::sync::Arc;

use intsync_manifest::Receivers;

use intsync_apply::SecretStore;
use intsync_plan::{DesiredIntegration, Plan, render};
use intsync_run::pipeline::{self, Planned};
use intsync_run::{Ended, Verdict};

use crate::cli::{DEFAULT_SECRETS_DIR, PlanArgs, PlanFormat};
use crate::commands::{Stderr, connect, end};
use crate::output;

/// The desired integrations, their plan, and the targets they were loaded for.
pub type Loaded = (Vec<DesiredIntegration>, Plan, Arc<Receivers>);

/// The manifests under `paths`, planned against `target` (`None`: the default target), and
/// the targets they were loaded for (what a baseline is read with). `None` when the manifests
/// or their identities are wrong (what is wrong was said).
pub fn load_and_plan(
    config: Option<&Path>,
    target: Option<&str>,
    paths: &[std::path::PathBuf],
) -> anyhow::Result<Option<Loaded>> {
    let connected = connect(config, target)?;
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let runtime = pipeline::runtime()?;
    let planned = pipeline::load_and_plan(&runtime, &connected, paths, &secrets, &Stderr)?;
    Ok(planned.map(|(desired, Planned { observed, plan, .. })| {
        output::keep_until_exit(observed);
        (desired, plan, Arc::clone(&connected.receivers))
    }))
}

/// `plan` in the chosen format.
pub fn rendered(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => render::text(plan, output::plan_style()),
        PlanFormat::Json => render::json(plan),
        PlanFormat::Markdown => render::markdown(plan),
    }
}

/// Writes `plan` to `path`, and says how to apply it.
pub fn write_plan_file(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    pipeline::write_plan_file(plan, path)?;
    eprintln!(
        "Saved the plan to {} (apply it with `intsync apply --plan {}`).",
        path.display(),
        path.display()
    );
    Ok(())
}

pub fn run(config: Option<&Path>, args: &PlanArgs) -> anyhow::Result<Verdict> {
    if let Some(rev) = &args.baseline {
        intsync_run::baseline::check(rev)?;
    }
    let Some((desired, mut plan, receivers)) =
        load_and_plan(config, args.target.as_deref(), &args.paths)?
    else {
        return Ok(Verdict::Failed);
    };
    if let Some(rev) = &args.baseline {
        pipeline::classify(&mut plan, &desired, Some(rev), &args.paths, &receivers)?;
    }
    output::print_stdout(&rendered(&plan, args.format))?;
    if let Some(out) = &args.out {
        write_plan_file(&plan, out)?;
    }
    let verdict = match (args.detailed_exitcode, plan.has_blocked(), plan.has_changes) {
        (false, _, _) | (true, false, false) => Verdict::Ok,
        (true, true, _) => Verdict::Blocked,
        (true, false, true) => Verdict::Changes,
    };
    // Live integrations that cannot be read: the plan of the rest is printed, then they are
    // said, and the command fails.
    let ended = Ended {
        verdict,
        target: plan.target.clone(),
        unreadable: std::mem::take(&mut plan.unreadable),
        rest: "the rest was planned",
    };
    output::keep_until_exit((desired, plan));
    Ok(end(&ended))
}
