//! `intsync export`: one manifest per live integration, so that adopting intsync is one command.
//!
//! Guarantee: `export` then `plan` on the exported directory shows no changes, for every live
//! integration that passes `intsync validate` (one that does not, e.g. Ada's own getting-started
//! example, is still exported, and its problems are printed).

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use intsync_manifest::Kind;
use intsync_plan::ObservedIntegration;
use serde_json::{Map, Value};

use crate::cli::{ExportArgs, KindArg};
use crate::commands::plan::runtime;
use crate::commands::report;
use crate::config::Config;
use crate::{Exit, output};

/// A file-name slug: lowercase letters and digits, single dashes.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(60).collect();
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "integration".to_owned()
    } else {
        out
    }
}

/// The spec as a manifest holds it: the API's field order, no server-managed fields, and no
/// `null` for a field that cannot be cleared (leaving it out means "not managed", which is what
/// a `null` there means live).
fn spec_of(live: &ObservedIntegration) -> Map<String, Value> {
    live.kind
        .fields()
        .iter()
        .filter_map(|f| {
            let value = live.fields.get(f.name)?;
            (f.nullable || !value.is_null()).then(|| (f.name.to_owned(), value.clone()))
        })
        .collect()
}

/// The schema header's path to `schemas/intsync-manifest.schema.json` of the working directory.
fn schema_path(dir: &Path) -> String {
    const SCHEMA: &str = "schemas/intsync-manifest.schema.json";
    if dir.is_absolute() {
        return std::env::current_dir().map_or_else(
            |_| SCHEMA.to_owned(),
            |cwd| cwd.join(SCHEMA).display().to_string(),
        );
    }
    let depth = dir
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    format!("{}{SCHEMA}", "../".repeat(depth))
}

pub fn run(config: Option<&Path>, args: &ExportArgs) -> anyhow::Result<Exit> {
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let provider = target.provider()?;
    let kinds: Vec<Kind> = target
        .kinds()
        .into_iter()
        .filter(|k| match args.kind {
            None => true,
            Some(KindArg::Ada) => *k == Kind::AdaPlatformIntegration,
            Some(KindArg::Truto) => *k == Kind::TrutoIntegration,
        })
        .collect();
    if kinds.is_empty() {
        anyhow::bail!("target `{}` does not serve that kind", target.name);
    }
    let runtime = runtime()?;
    let mut live = Vec::new();
    let mut ignored = 0;
    let mut unreadable = Vec::new();
    for kind in &kinds {
        let listing = runtime.block_on(provider.listing(*kind)).with_context(|| {
            format!(
                "cannot read the live integrations of target `{}`",
                target.name
            )
        })?;
        live.extend(listing.integrations);
        ignored += listing.ignored.len();
        unreadable.extend(listing.unreadable);
    }
    // Live integrations that cannot be read are not exported (a manifest made from a partial
    // answer would manage what it does not know); the others are, then they are said and the
    // command fails.
    let finish = |exit: Exit, rest: &str| {
        let failed = report::unreadable(&target.name, &unreadable, rest, "");
        exit.failed_if(failed)
    };
    if ignored > 0 {
        eprintln!(
            "note: {ignored} listed integration{} owned by Truto or by other teams left out (only your team's are exported)",
            output::plural(ignored)
        );
    }

    let header = vec![
        format!("yaml-language-server: $schema={}", schema_path(&args.dir)),
        format!(
            "Exported by `intsync export` from target `{}`.",
            target.name
        ),
    ];
    let mut taken = HashSet::new();
    let mut files: Vec<(PathBuf, String)> = Vec::with_capacity(live.len());
    for integration in &live {
        let base = slug(integration.name().unwrap_or(&integration.id));
        let mut name = base.clone();
        if !taken.insert(name.clone()) {
            name = format!(
                "{base}-{}",
                slug(&integration.id.chars().take(8).collect::<String>())
            );
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}-{n}");
                n += 1;
            }
        }
        let text = intsync_manifest::manifest_yaml(
            &header,
            integration.kind,
            Some(&integration.id),
            &spec_of(integration),
        );
        files.push((args.dir.join(format!("{name}.yaml")), text));
    }

    // Check every file before writing any: a refusal writes nothing.
    let mut unchanged = 0;
    let mut conflicts = Vec::new();
    let mut to_write = Vec::new();
    for (path, text) in &files {
        match std::fs::read(path) {
            Ok(existing) if existing == text.as_bytes() => unchanged += 1,
            Ok(_) if !args.force => conflicts.push(path.display().to_string()),
            _ => to_write.push((path, text)),
        }
    }
    if !conflicts.is_empty() {
        eprintln!(
            "error: {} file{} exist with other content; nothing was written (use --force to overwrite):",
            conflicts.len(),
            output::plural(conflicts.len())
        );
        for path in &conflicts {
            eprintln!("  - {path}");
        }
        return Ok(finish(Exit::Error, "nothing was written (above)"));
    }
    for (path, text) in &to_write {
        output::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    eprintln!(
        "Exported {} integration{} from target `{}` to {}: {} written, {unchanged} unchanged.",
        files.len(),
        output::plural(files.len()),
        target.name,
        args.dir.display(),
        to_write.len()
    );

    // What plan will say about them: a live integration can break intsync's rules.
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    if !paths.is_empty() {
        let loaded = intsync_manifest::load(&paths);
        output::eprint_diagnostics(&loaded.diagnostics);
        if loaded.has_errors() {
            eprintln!(
                "warning: {} problem{} in the live integrations above; fix the manifests before `intsync plan`",
                loaded.error_count(),
                output::plural(loaded.error_count())
            );
        }
    }
    Ok(finish(Exit::Ok, "the others were exported (above)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_schema_paths() {
        assert_eq!(
            slug("Connect to Cool Shop Knowledge Hub"),
            "connect-to-cool-shop-knowledge-hub"
        );
        assert_eq!(slug("my_custom_crm"), "my-custom-crm");
        assert_eq!(slug("Ünïcödé ✓ --- x"), "n-c-d-x");
        assert_eq!(slug("✓✓"), "integration");
        assert_eq!(
            schema_path(Path::new("manifests")),
            "../schemas/intsync-manifest.schema.json"
        );
        assert_eq!(
            schema_path(Path::new("./a/b")),
            "../../schemas/intsync-manifest.schema.json"
        );
    }
}
