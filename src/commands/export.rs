//! `intsync export`: one manifest per live integration, so that adopting intsync is one command
//! (`intsync_run::export`).

use std::path::Path;

use intsync_manifest::Kind;
use intsync_run::Verdict;
use intsync_run::export::{Options, export};

use crate::cli::{ExportArgs, KindArg};
use crate::commands::{Stderr, connect, end};

pub fn run(config: Option<&Path>, args: &ExportArgs) -> anyhow::Result<Verdict> {
    let connected = connect(config, args.target.as_deref())?;
    let options = Options {
        dir: &args.dir,
        kind: args.kind.map(|kind| match kind {
            KindArg::Ada => Kind::AdaPlatformIntegration,
            KindArg::Truto => Kind::TrutoIntegration,
        }),
        force: args.force,
    };
    Ok(end(&export(&connected, &options, &Stderr)?))
}
