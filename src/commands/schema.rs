//! `intsync schema`: the JSON Schema of the manifest format, for editors.

use intsync_run::Verdict;

use crate::output;

pub fn run() -> anyhow::Result<Verdict> {
    let mut text = serde_json::to_string_pretty(&intsync_manifest::manifest_schema())?;
    text.push('\n');
    output::print_stdout(&text)?;
    Ok(Verdict::Ok)
}
