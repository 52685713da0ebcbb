//! `intsync plan`: list live state, compute the plan, print it. Sends only GET requests.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use intsync_plan::{DesiredIntegration, Plan, render};
use intsync_provider::Provider;

use crate::cli::{PlanArgs, PlanFormat};
use crate::config::{Config, Target};
use crate::{Exit, output};

/// Valid manifests, or the diagnostics (printed to stderr) and `None`.
pub fn load_manifests(paths: &[PathBuf]) -> Option<Vec<intsync_manifest::Manifest>> {
    let loaded = intsync_manifest::load(paths);
    output::eprint_diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        eprintln!(
            "error: {} manifest error{}; nothing was read from the target (run `intsync validate` for details)",
            loaded.error_count(),
            output::plural(loaded.error_count())
        );
        return None;
    }
    Some(loaded.manifests)
}

/// [`load_manifests`], as the planner's desired integrations.
pub fn load_desired(paths: &[PathBuf]) -> Option<Vec<DesiredIntegration>> {
    Some(
        load_manifests(paths)?
            .into_iter()
            .map(DesiredIntegration::from_manifest)
            .collect(),
    )
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Lists live state and plans. Identity errors are printed; `None` then.
pub async fn compute(
    target: &Target,
    provider: &Provider,
    desired: &[DesiredIntegration],
) -> anyhow::Result<Option<Plan>> {
    eprintln!("Reading live state of target `{}`...", target.name);
    let observed = provider.observe().await.with_context(|| {
        format!(
            "cannot read the live integrations of target `{}`",
            target.name
        )
    })?;
    eprintln!(
        "Read {} live integration{} in {} request{}.",
        observed.integrations.len(),
        if observed.integrations.len() == 1 {
            ""
        } else {
            "s"
        },
        provider.request_count(),
        if provider.request_count() == 1 {
            ""
        } else {
            "s"
        }
    );
    match intsync_plan::plan(&target.name, desired, &observed) {
        Ok(plan) => Ok(Some(plan)),
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
            }
            eprintln!(
                "error: no plan: {} manifest{} cannot be matched to live integrations",
                errors.len(),
                output::plural(errors.len())
            );
            Ok(None)
        }
    }
}

/// Marks the drift of `plan` against the manifests at git revision `baseline` (read from the
/// repository holding `paths`); without one, every difference is drift.
pub fn classify(
    plan: &mut Plan,
    desired: &[DesiredIntegration],
    baseline: Option<&str>,
    paths: &[PathBuf],
) -> anyhow::Result<()> {
    match baseline {
        Some(rev) => {
            let then = crate::baseline::desired_at(rev, paths)
                .with_context(|| format!("cannot read the manifests at --baseline `{rev}`"))?;
            let index = intsync_plan::drift::Baseline::new(&then);
            intsync_plan::drift::classify(plan, desired, Some(&index));
        }
        None => intsync_plan::drift::classify(plan, desired, None),
    }
    Ok(())
}

/// `plan` in the chosen format.
pub fn rendered(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => render::text(
            plan,
            render::Style {
                color: output::stdout_color(),
            },
        ),
        PlanFormat::Json => render::json(plan),
        PlanFormat::Markdown => render::markdown(plan),
    }
}

pub fn write_plan_file(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    output::write_atomically(path, render::json(plan).as_bytes())
        .with_context(|| format!("cannot write the plan to `{}`", path.display()))?;
    eprintln!(
        "Saved the plan to {} (apply it with `intsync apply --plan {}`).",
        path.display(),
        path.display()
    );
    Ok(())
}

/// The manifests under `paths`, planned against `target` (`None`: the default target). `None`
/// when the manifests or their identities are wrong (what is wrong was printed).
pub fn load_and_plan(
    config: Option<&Path>,
    target: Option<&str>,
    paths: &[PathBuf],
) -> anyhow::Result<Option<(Vec<DesiredIntegration>, Plan)>> {
    let config = Config::load(config)?;
    let target = config.target(target)?;
    let Some(desired) = load_desired(paths) else {
        return Ok(None);
    };
    let provider = target.provider()?;
    let plan = runtime()?.block_on(compute(target, &provider, &desired))?;
    Ok(plan.map(|plan| (desired, plan)))
}

pub fn run(config: Option<&Path>, args: &PlanArgs) -> anyhow::Result<Exit> {
    let Some((desired, mut plan)) = load_and_plan(config, args.target.as_deref(), &args.paths)?
    else {
        return Ok(Exit::Error);
    };
    if let Some(rev) = &args.baseline {
        classify(&mut plan, &desired, Some(rev), &args.paths)?;
    }
    output::print_stdout(&rendered(&plan, args.format))?;
    if let Some(out) = &args.out {
        write_plan_file(&plan, out)?;
    }
    Ok(
        match (args.detailed_exitcode, plan.has_blocked(), plan.has_changes) {
            (false, _, _) | (true, false, false) => Exit::Ok,
            (true, true, _) => Exit::Blocked,
            (true, false, true) => Exit::Changes,
        },
    )
}
