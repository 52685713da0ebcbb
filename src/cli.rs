//! The command-line interface: flags as clap parses them. Commands turn these into typed
//! configuration before doing anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keep SaaS platform integrations (Ada, Truto) in line with YAML manifests in git.
#[derive(Debug, Parser)]
#[command(name = "intsync", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline and report every problem at its file:line:column.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the manifest format (for editors).
    Schema,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (searched recursively for *.yaml and *.yml).
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// A graphical report with source snippets.
    Human,
    /// A JSON array of {file, line, column, severity, code, message}.
    Json,
    /// GitHub Actions annotations (::error file=...,line=...,col=...::message).
    Github,
}
