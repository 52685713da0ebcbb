//! `intsync validate`: every diagnostic of every manifest, offline.

use std::path::Path;

use intsync_manifest::render;

use crate::cli::{DiagnosticFormat, ValidateArgs};
use crate::commands::load_config;
use intsync_run::Verdict;

use crate::output;

/// Every manifest is checked for each target of the configuration that receives it (its
/// `!var` references resolved with that target's vars).
pub fn run(config: Option<&Path>, args: &ValidateArgs) -> anyhow::Result<Verdict> {
    let config = load_config(config)?;
    let loaded = intsync_manifest::validate_for(&args.paths, &config.receivers());
    let text = match args.format {
        DiagnosticFormat::Human => render::human(
            &loaded.diagnostics,
            render::HumanStyle {
                color: output::stdout_color(),
                width: output::width(),
            },
        ),
        DiagnosticFormat::Json => render::json(&loaded.diagnostics),
        DiagnosticFormat::Github => render::github(&loaded.diagnostics),
    };
    output::print_stdout(&text)?;
    if args.format == DiagnosticFormat::Human {
        eprintln!("{}", summary(&loaded));
    }
    Ok(if loaded.has_errors() {
        Verdict::Failed
    } else {
        Verdict::Ok
    })
}

fn summary(loaded: &intsync_manifest::Validated) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let files = plural(loaded.files.len(), "file");
    let manifests = plural(loaded.manifests, "valid manifest");
    match (loaded.error_count(), loaded.warning_count()) {
        (0, 0) => format!("validate: {manifests} in {files}, no problems"),
        (errors, warnings) => format!(
            "validate: {}, {} in {files} ({manifests})",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    }
}
