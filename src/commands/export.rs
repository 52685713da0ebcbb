//! `intsync export`: one manifest per live integration, so that adopting intsync is one command
//! (`intsync_run::export`). With several targets, each target's manifests go to a directory of
//! its own under `--dir`, named after it.

use std::path::Path;

use intsync_manifest::Kind;
use intsync_run::Verdict;
use intsync_run::export::{Options, export};
use intsync_run::many::Each;

use crate::cli::{ExportArgs, KindArg};
use crate::commands::plan::one_or_several;
use crate::commands::{Stderr, end};

pub fn run(config: Option<&Path>, args: &ExportArgs) -> anyhow::Result<Verdict> {
    let (config, selection) = match one_or_several(config, &args.targets)? {
        Ok(connected) => {
            return Ok(end(&export(
                &connected,
                &options(args, &args.dir, false),
                &Stderr,
            )?));
        }
        Err(several) => several,
    };
    let mut verdicts = Vec::new();
    let only = options(args, &args.dir, true).kind;
    for Each { target, outcome } in intsync_run::many::connect(&config, &selection)? {
        if let Ok(connected) = &outcome
            && only.is_some_and(|kind| !connected.target.kinds().contains(&kind))
        {
            eprintln!(
                "Skipping target `{}`: it does not serve that kind.",
                intsync_plan::inert::visible(&target)
            );
            continue;
        }
        let dir = args.dir.join(intsync_apply::secrets::file_stem(&target));
        eprintln!(
            "Exporting target `{}` into {}...",
            intsync_plan::inert::visible(&target),
            dir.display()
        );
        let exported = outcome
            .map_err(|failure| failure.lines)
            .and_then(|connected| {
                export(&connected, &options(args, &dir, true), &Stderr)
                    .map_err(|error| intsync_run::many::Failure::of(&error).lines)
            });
        verdicts.push(match exported {
            Ok(ended) => end(&ended),
            Err(lines) => {
                for line in lines {
                    eprintln!("{}", intsync_plan::inert::visible(&line));
                }
                Verdict::Failed
            }
        });
    }
    Ok(Verdict::fold(verdicts))
}

/// `pin_target`: several targets are exported, each manifest limited to its own.
fn options<'a>(args: &ExportArgs, dir: &'a Path, pin_target: bool) -> Options<'a> {
    Options {
        pin_target,
        dir,
        kind: args.kind.map(|kind| match kind {
            KindArg::Ada => Kind::AdaPlatformIntegration,
            KindArg::Truto => Kind::TrutoIntegration,
        }),
        force: args.force,
    }
}
