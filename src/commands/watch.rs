//! `intsync watch`: re-validate and re-plan on every save (`intsync_run::watch`); with
//! `--apply`, write what the saves change.

use std::path::Path;
use std::time::Duration;

use intsync_run::Verdict;
use intsync_run::pipeline::runtime;
use intsync_run::watch::{Options, run as watch};

use crate::cli::WatchArgs;
use crate::commands::{Stderr, connect};
use crate::output;
use crate::signals::{self, Idle};

pub fn run(config: Option<&Path>, args: &WatchArgs) -> anyhow::Result<Verdict> {
    let connected = connect(config, &args.targets)?;
    let options = Options {
        paths: args.paths.clone(),
        apply: args.apply,
        parallelism: usize::from(args.parallelism),
        secrets_dir: args.secrets_dir.clone(),
        lock_timeout: args.lock_timeout,
        debounce: Duration::from_millis(args.debounce_ms),
        refresh: Duration::from_secs(args.refresh.max(1)),
        style: output::plan_style(),
    };
    let runtime = runtime()?;
    // Listening before anything else: a signal during the first plan (or an apply) is not
    // fatal; the cycle in progress finishes (its writes in flight too), then watch stops.
    let control = signals::listen(&runtime, Idle::Stop)?;
    watch(&runtime, &connected, &options, &control, &Stderr)
}
