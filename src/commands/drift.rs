//! `intsync drift`: the plan restricted to drift — differences someone made live, outside git
//! (design §10). Read-only: exit 0 when there is none, 2 when there is, 1 on an error.

use intsync_manifest::Receivers;
use std::path::Path;

use intsync_plan::{DesiredIntegration, Plan};
use intsync_run::pipeline::classify;
use intsync_run::{Ended, Verdict};

use crate::cli::{DriftArgs, PlanFormat};
use crate::commands::plan::{load_and_plan, one_or_several, rendered, write_plan_file};
use crate::commands::{end, many};
use crate::output;

pub fn run(config: Option<&Path>, args: &DriftArgs) -> anyhow::Result<Verdict> {
    if let Some(rev) = &args.baseline {
        intsync_run::baseline::check(rev)?;
    }
    let finish = |mut plan: Plan, desired: &[DesiredIntegration], receivers: &Receivers| {
        classify(
            &mut plan,
            desired,
            args.baseline.as_deref(),
            &args.paths,
            receivers,
        )?;
        let drift = intsync_plan::drift::only_drift(plan);
        let verdict = if drift.has_changes {
            Verdict::Changes
        } else {
            Verdict::Ok
        };
        Ok((drift, verdict))
    };
    let verdict = match one_or_several(config, &args.targets)? {
        Ok(connected) => {
            let Some((desired, plan)) = load_and_plan(&connected, &args.paths)? else {
                return Ok(Verdict::Failed);
            };
            let (mut drift, verdict) = finish(plan, &desired, &connected.receivers)?;
            let text = match args.format {
                PlanFormat::Markdown => intsync_plan::render::markdown_titled(&drift, "drift"),
                format => rendered(&drift, format),
            };
            output::print_stdout(&text)?;
            if let Some(out) = &args.out {
                write_plan_file(&drift, out)?;
            }
            note(args);
            end(&Ended {
                verdict,
                target: drift.target.clone(),
                unreadable: std::mem::take(&mut drift.unreadable),
                rest: REST,
            })
        }
        Err((config, selection)) => {
            let report = many::Report {
                paths: &args.paths,
                format: args.format,
                out: args.out.as_deref(),
                what: "drift",
                rest: REST,
            };
            let verdict = many::run(&config, &selection, &report, finish)?;
            note(args);
            verdict
        }
    };
    Ok(verdict)
}

/// What became of the rest when live integrations could not be read.
const REST: &str = "drift was looked for in the rest";

fn note(args: &DriftArgs) {
    if args.baseline.is_none() {
        eprintln!(
            "note: without --baseline every difference counts as drift (a manifest change not applied yet too); give the last applied commit to tell them apart"
        );
    }
}
