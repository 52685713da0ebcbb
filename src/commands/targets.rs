//! `intsync targets`: every target, what it is and how many manifests it receives
//! (`intsync_run::targets`). Reads the configuration and the manifests; sends nothing.

use std::path::Path;

use intsync_run::Verdict;

use crate::cli::{TargetsArgs, TargetsFormat};
use crate::commands::load_config;
use crate::output;

pub fn run(config: Option<&Path>, args: &TargetsArgs) -> anyhow::Result<Verdict> {
    let config = load_config(config)?;
    // Manifests with errors are not counted; what is wrong is said, and the command fails.
    let loaded = intsync_manifest::load_for(&args.paths, &config.receivers());
    output::eprint_diagnostics(&loaded.diagnostics);
    let listing = intsync_run::targets::list(&config, &loaded.manifests);
    output::print_stdout(&match args.format {
        TargetsFormat::Text => listing.text(),
        TargetsFormat::Json => listing.json(),
    })?;
    Ok(if loaded.has_errors() {
        eprintln!(
            "error: {} manifest error{}; those manifests are not counted (run `intsync validate` for details)",
            loaded.error_count(),
            output::plural(loaded.error_count())
        );
        Verdict::Failed
    } else {
        Verdict::Ok
    })
}
