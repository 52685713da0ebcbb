//! `intsync plan`: list live state, compute the plan, print it. Sends only GET requests.

use intsync_manifest::Receivers;
use std::path::Path;

use intsync_apply::SecretStore;
use intsync_plan::{DesiredIntegration, Plan, render};
use intsync_run::config::{Config, Selection};
use intsync_run::pipeline::{self, Connected, Planned};
use intsync_run::{Ended, Verdict};

use crate::cli::{DEFAULT_SECRETS_DIR, PlanArgs, PlanFormat, TargetArgs};
use crate::commands::{Stderr, end, load_config, many};
use crate::output;

/// The manifests under `paths`, planned against `connected`. `None` when the manifests or
/// their identities are wrong (what is wrong was said).
pub fn load_and_plan(
    connected: &Connected,
    paths: &[std::path::PathBuf],
) -> anyhow::Result<Option<(Vec<DesiredIntegration>, Plan)>> {
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let runtime = pipeline::runtime()?;
    let planned = pipeline::load_and_plan(&runtime, connected, paths, &secrets, &Stderr)?;
    Ok(planned.map(|(desired, Planned { observed, plan, .. })| {
        output::keep_until_exit(observed);
        (desired, plan)
    }))
}

/// The targets `targets` selects: `Ok` the one connected, `Err` several (with the
/// configuration), for `crate::commands::many`.
pub fn one_or_several(
    config: Option<&Path>,
    targets: &TargetArgs,
) -> anyhow::Result<Result<Connected, (Config, Selection)>> {
    let config = load_config(config)?;
    let selection = targets.selection();
    if let [target] = config.select(&selection)?.as_slice() {
        return Ok(Ok(Connected::within(&config, target)?));
    }
    Ok(Err((config, selection)))
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
    let finish = |mut plan: Plan, desired: &[DesiredIntegration], receivers: &Receivers| {
        if let Some(rev) = &args.baseline {
            pipeline::classify(&mut plan, desired, Some(rev), &args.paths, receivers)?;
        }
        let verdict = verdict(args.detailed_exitcode, &plan);
        Ok((plan, verdict))
    };
    let connected = match one_or_several(config, &args.targets)? {
        Ok(connected) => connected,
        Err((config, selection)) => {
            let report = many::Report {
                paths: &args.paths,
                format: args.format,
                out: args.out.as_deref(),
                what: "plan",
                rest: REST,
            };
            return many::run(&config, &selection, &report, finish);
        }
    };
    let Some((desired, plan)) = load_and_plan(&connected, &args.paths)? else {
        return Ok(Verdict::Failed);
    };
    let (mut plan, verdict) = finish(plan, &desired, &connected.receivers)?;
    output::print_stdout(&rendered(&plan, args.format))?;
    if let Some(out) = &args.out {
        write_plan_file(&plan, out)?;
    }
    // Live integrations that cannot be read: the plan of the rest is printed, then they are
    // said, and the command fails.
    let ended = Ended {
        verdict,
        target: plan.target.clone(),
        unreadable: std::mem::take(&mut plan.unreadable),
        rest: REST,
    };
    output::keep_until_exit((desired, plan));
    Ok(end(&ended))
}

/// What became of the rest when live integrations could not be read.
const REST: &str = "the rest was planned";

/// A plan's verdict: with `--detailed-exitcode`, blocked or changes.
fn verdict(detailed_exitcode: bool, plan: &Plan) -> Verdict {
    match (detailed_exitcode, plan.has_blocked(), plan.has_changes) {
        (false, _, _) | (true, false, false) => Verdict::Ok,
        (true, true, _) => Verdict::Blocked,
        (true, false, true) => Verdict::Changes,
    }
}
