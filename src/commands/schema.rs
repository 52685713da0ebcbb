//! `intsync schema`: the JSON Schema of the manifest format, for editors.

use crate::{Exit, output};

pub fn run() -> anyhow::Result<Exit> {
    let mut text = serde_json::to_string_pretty(&intsync_manifest::manifest_schema())?;
    text.push('\n');
    output::print_stdout(&text)?;
    Ok(Exit::Ok)
}
