//! `intsync drift`: the plan restricted to drift — differences someone made live, outside git
//! (design §10). Read-only: exit 0 when there is none, 2 when there is, 1 on an error.

use std::path::Path;

use intsync_run::{Ended, Verdict};

use crate::cli::{DriftArgs, PlanFormat};
use crate::commands::end;
use crate::commands::plan::{load_and_plan, rendered, write_plan_file};
use crate::output;

pub fn run(config: Option<&Path>, args: &DriftArgs) -> anyhow::Result<Verdict> {
    if let Some(rev) = &args.baseline {
        intsync_run::baseline::check(rev)?;
    }
    let Some((desired, mut plan, receivers)) =
        load_and_plan(config, args.target.as_deref(), &args.paths)?
    else {
        return Ok(Verdict::Failed);
    };
    intsync_run::pipeline::classify(
        &mut plan,
        &desired,
        args.baseline.as_deref(),
        &args.paths,
        &receivers,
    )?;
    let mut drift = intsync_plan::drift::only_drift(plan);
    let text = match args.format {
        PlanFormat::Markdown => intsync_plan::render::markdown_titled(&drift, "drift"),
        format => rendered(&drift, format),
    };
    output::print_stdout(&text)?;
    if let Some(out) = &args.out {
        write_plan_file(&drift, out)?;
    }
    if args.baseline.is_none() {
        eprintln!(
            "note: without --baseline every difference counts as drift (a manifest change not applied yet too); give the last applied commit to tell them apart"
        );
    }
    Ok(end(&Ended {
        verdict: if drift.has_changes {
            Verdict::Changes
        } else {
            Verdict::Ok
        },
        target: drift.target.clone(),
        unreadable: std::mem::take(&mut drift.unreadable),
        rest: "drift was looked for in the rest",
    }))
}
