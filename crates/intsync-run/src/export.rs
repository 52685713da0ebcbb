//! `intsync export`: one manifest per live integration, so that adopting intsync is one command.
//!
//! Guarantee: `export` then `plan` on the exported directory shows no changes. A live
//! integration that breaks intsync's own rules (Ada's getting-started example does) is
//! exported with a `metadata.allow` naming them, so that it validates and plans; one that
//! breaks a vendor's rule (the vendor let it through) is exported with its problems told.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use intsync_manifest::Kind;
use intsync_plan::ObservedIntegration;
use intsync_plan::inert::visible;
use serde_json::{Map, Value};

use crate::pipeline::{Connected, runtime};
use crate::{Ended, Talk, Verdict, plural};

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

/// What to export, and where.
pub struct Options<'a> {
    /// The directory the manifests go to.
    pub dir: &'a Path,
    /// Only integrations of this kind; `None`: every kind the target serves.
    pub kind: Option<Kind>,
    /// Replace files of the exported integrations that hold other content.
    pub force: bool,
    /// Write `metadata.targets: [<this target>]` in each manifest: several targets exported
    /// into one repository, each manifest goes only to the target it came from.
    pub pin_target: bool,
}

/// Exports the live integrations of `connected`'s target to manifest files in `options.dir`
/// (design §9): one file per integration, an existing file of that integration replaced only
/// with `force`, a file of another integration never. What it did is told to `talk`.
pub fn export(connected: &Connected, options: &Options, talk: &dyn Talk) -> anyhow::Result<Ended> {
    let Connected {
        target, provider, ..
    } = connected;
    let kinds: Vec<Kind> = target
        .kinds()
        .into_iter()
        .filter(|k| options.kind.is_none_or(|only| only == *k))
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
    let finish = |verdict: Verdict, rest: &'static str| Ended {
        verdict,
        target: target.name.clone(),
        unreadable: unreadable.clone(),
        rest,
    };
    if ignored > 0 {
        talk.say(&format!(
            "note: {ignored} listed integration{} owned by Truto or by other teams left out (only your team's are exported)",
            plural(ignored)
        ));
    }

    let header = vec![
        format!("yaml-language-server: $schema={}", schema_path(options.dir)),
        format!(
            "Exported by `intsync export` from target `{}`.",
            target.name
        ),
    ];
    let directory = Directory::read(options.dir, &live)?;
    let mut taken: HashSet<String> = directory.names.keys().cloned().collect();
    let mut files: Vec<(PathBuf, String)> = Vec::with_capacity(live.len());
    let mut elsewhere = 0;
    // The files that allow some of intsync's own rules: a reviewer should see them.
    let mut allowing = Vec::new();
    let pinned = if options.pin_target {
        vec![target.name.clone()]
    } else {
        Vec::new()
    };
    // Said once the export is sure to write: a refusal is all a refused run says.
    let mut notes = Vec::new();
    for (integration, declared) in live.iter().zip(&directory.declared) {
        let path = match declared.as_slice() {
            [] => new_file(options.dir, integration, &directory, &mut taken, &mut notes),
            // Its own file, whatever its name: never a second file for one integration.
            [(path, true)] => path.clone(),
            // In a file of several manifests, or in more than one file: writing it again would
            // only add a duplicate identity.
            places => {
                elsewhere += 1;
                let places: Vec<String> = places
                    .iter()
                    .map(|(p, _)| format!("`{}`", shown(p)))
                    .collect();
                notes.push(format!(
                    "note: {} `{}` is already in {}; not exported again",
                    integration.kind,
                    visible(integration.name().unwrap_or(&integration.id)),
                    places.join(", ")
                ));
                continue;
            }
        };
        let (text, allows) = manifest_text(&header, integration, &pinned);
        if allows {
            allowing.push(path.clone());
        }
        files.push((path, text));
    }

    // Check every file before writing any: a refusal writes nothing. Every path here is the
    // integration's own file or a name no file in the directory had.
    let mut unchanged = 0;
    let mut conflicts = Vec::new();
    let mut to_write = Vec::new();
    for (path, text) in &files {
        match std::fs::read(path) {
            Ok(existing) if existing == text.as_bytes() => unchanged += 1,
            Ok(_) if !options.force => conflicts.push(shown(path)),
            _ => to_write.push((path, text)),
        }
    }
    if !conflicts.is_empty() {
        let n = conflicts.len();
        talk.say(&format!(
            "error: {n} {} of the exported integrations {} with other content (edited, or an earlier export); nothing was written:",
            if n == 1 { "file" } else { "files" },
            if n == 1 { "exists" } else { "exist" },
        ));
        for path in &conflicts {
            talk.say(&format!("  - {path}"));
        }
        talk.say(&format!(
            "help: review {}, then run again with --force to replace {} with the live state; --force replaces only files of the integrations being exported, never a file of another integration",
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "them" },
        ));
        return Ok(finish(Verdict::Failed, "nothing was written (above)"));
    }
    for note in &notes {
        talk.say(note);
    }
    for (path, text) in &to_write {
        crate::files::write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write `{}`", shown(path)))?;
    }
    let elsewhere = if elsewhere == 0 {
        String::new()
    } else {
        format!(", {elsewhere} not exported again (already declared)")
    };
    talk.say(&format!(
        "Exported {} integration{} from target `{}` to {}: {} written, {unchanged} unchanged{elsewhere}.",
        live.len(),
        plural(live.len()),
        visible(&target.name),
        shown(options.dir),
        to_write.len()
    ));

    // What plan will say about them: a live integration can break intsync's rules.
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    if !paths.is_empty() {
        let loaded = intsync_manifest::load_for(&paths, &connected.receivers);
        talk.diagnostics(&loaded.diagnostics);
        if !allowing.is_empty() {
            talk.say(&format!(
                "note: {} manifest{} {} rules of intsync's own that the live integration already breaks, in `metadata.allow` (warnings above; remove an allowance once the integration is fixed): {}",
                allowing.len(),
                plural(allowing.len()),
                if allowing.len() == 1 {
                    "allows"
                } else {
                    "allow"
                },
                allowing
                    .iter()
                    .map(|p| format!("`{}`", shown(p)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if loaded.has_errors() {
            talk.say(&format!(
                "warning: {} problem{} in the live integrations above; fix the manifests before `intsync plan`",
                loaded.error_count(),
                plural(loaded.error_count())
            ));
        }
    }
    Ok(finish(Verdict::Ok, "the others were exported (above)"))
}

/// The manifest text of one live integration, as export writes it, with a `metadata.allow`
/// for each of intsync's own rules the live values already break (design §4); and whether it
/// has one.
fn manifest_text(
    header: &[String],
    integration: &ObservedIntegration,
    targets: &[String],
) -> (String, bool) {
    let (text, allowed) = intsync_manifest::adopted_manifest_yaml(
        header,
        integration.kind,
        Some(&integration.id),
        targets,
        &spec_of(integration),
    );
    (text, !allowed.is_empty())
}

/// A path as messages show it: every character that would act on a terminal escaped.
fn shown(path: &Path) -> String {
    visible(&path.display().to_string()).into_owned()
}

/// A name for an integration without a file: the slug of its name, or, when a file of the
/// directory or an integration earlier in this run holds that, the slug with (the start of) its
/// id, then with a number. The same directory and the same live state give the same names.
fn new_file(
    dir: &Path,
    integration: &ObservedIntegration,
    directory: &Directory,
    taken: &mut HashSet<String>,
    notes: &mut Vec<String>,
) -> PathBuf {
    let base = slug(integration.name().unwrap_or(&integration.id));
    let mut name = format!("{base}.yaml");
    if !taken.insert(name.clone()) {
        let held = directory.names.get(&name);
        name = format!(
            "{base}-{}.yaml",
            slug(&integration.id.chars().take(8).collect::<String>())
        );
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}-{n}.yaml");
            n += 1;
        }
        if let Some(held) = held {
            notes.push(format!(
                "note: {} `{}` goes to `{}`: `{}` is not its manifest, and is left as it is",
                integration.kind,
                visible(integration.name().unwrap_or(&integration.id)),
                shown(&dir.join(&name)),
                shown(&dir.join(held)),
            ));
        }
    }
    dir.join(name)
}

/// What the export directory already holds: the names in it, and which live integrations its
/// manifest files declare. Only the directory itself is read, as export writes only there.
struct Directory {
    /// Every name in the directory, lowercased (a file system that ignores case holds one of
    /// `A.yaml` and `a.yaml`), and the name as it is.
    names: HashMap<String, std::ffi::OsString>,
    /// For each live integration (in `live`'s order), the files that declare it, and whether
    /// it is that file's only document.
    declared: Vec<Vec<(PathBuf, bool)>>,
}

impl Directory {
    fn read(dir: &Path, live: &[ObservedIntegration]) -> anyhow::Result<Directory> {
        let mut directory = Directory {
            names: HashMap::new(),
            declared: vec![Vec::new(); live.len()],
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(directory),
            Err(e) => anyhow::bail!(
                "cannot read the directory `{}`: {e}; export reads it so as to replace no file of another integration",
                shown(dir)
            ),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry =
                entry.with_context(|| format!("cannot read the directory `{}`", shown(dir)))?;
            names.push(entry.file_name());
        }
        // Sorted, so that notes list files in one order.
        names.sort();
        let index = Index::new(live.iter().map(|i| (i.kind, i.id.as_str(), i.name())));
        for name in names {
            let path = dir.join(&name);
            let hidden = name.to_string_lossy().starts_with('.');
            // What `load` reads (and so `plan`): `*.yaml` and `*.yml`, not hidden, files.
            if !hidden
                && intsync_manifest::is_manifest_file(&path)
                && std::fs::metadata(&path).is_ok_and(|m| m.is_file())
                && let Some(documents) = documents(&path)
            {
                let alone = documents.len() == 1;
                for document in &documents {
                    if let Some(i) = index.declared(document)
                        && directory.declared[i].last().is_none_or(|(p, _)| *p != path)
                    {
                        directory.declared[i].push((path.clone(), alone));
                    }
                }
            }
            directory
                .names
                .insert(name.to_string_lossy().to_lowercase(), name);
        }
        Ok(directory)
    }
}

/// The YAML documents of a file, if it can be read as YAML at all (within `load`'s size limit).
fn documents(path: &Path) -> Option<Vec<intsync_manifest::Node>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(intsync_manifest::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > intsync_manifest::MAX_FILE_BYTES {
        return None;
    }
    intsync_manifest::parse_documents(&String::from_utf8(bytes).ok()?).ok()
}

/// The live integrations by identity, as `plan` matches manifests to them (design §3).
struct Index<'a> {
    by_id: HashMap<(Kind, &'a str), usize>,
    /// `None` for a name two live integrations of the kind share: no manifest matches it by name.
    by_name: HashMap<(Kind, &'a str), Option<usize>>,
}

impl<'a> Index<'a> {
    fn new(live: impl Iterator<Item = (Kind, &'a str, Option<&'a str>)>) -> Index<'a> {
        let mut index = Index {
            by_id: HashMap::new(),
            by_name: HashMap::new(),
        };
        for (i, (kind, id, name)) in live.enumerate() {
            index.by_id.insert((kind, id), i);
            if let Some(name) = name {
                index
                    .by_name
                    .entry((kind, name))
                    .and_modify(|one| *one = None)
                    .or_insert(Some(i));
            }
        }
        index
    }

    /// The live integration a YAML document declares: the one of its `kind` and `metadata.id`,
    /// or, without an id, the only one of its `kind` and `spec.name`.
    fn declared(&self, document: &intsync_manifest::Node) -> Option<usize> {
        use intsync_manifest::Value as Yaml;
        let kind = Kind::parse(document.get("kind")?.1.as_str()?)?;
        let id = document
            .get("metadata")
            .and_then(|(_, metadata)| metadata.get("id"))
            .map(|(_, id)| &id.value);
        match id {
            Some(Yaml::String(id)) => self.by_id.get(&(kind, id.as_str())).copied(),
            None | Some(Yaml::Null) => {
                let name = document.get("spec")?.1.get("name")?.1.as_str()?;
                self.by_name.get(&(kind, name)).copied().flatten()
            }
            Some(_) => None,
        }
    }
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

    #[test]
    fn documents_declare_the_integration_plan_would_match_them_to() {
        use Kind::{AdaPlatformIntegration as Ada, TrutoIntegration as Truto};
        let live = [
            (Ada, "a1", Some("Cool Shop")),
            (Truto, "t1", Some("Cool Shop")),
            (Ada, "a2", Some("Twin")),
            (Ada, "a3", Some("Twin")),
            (Truto, "t2", None),
        ];
        let index = Index::new(live.into_iter());
        let declared = |yaml: &str| {
            let documents = intsync_manifest::parse_documents(yaml).unwrap();
            assert_eq!(documents.len(), 1, "{yaml}");
            index.declared(&documents[0])
        };
        let ada = "kind: AdaPlatformIntegration\n";
        let truto = "kind: TrutoIntegration\n";
        // By id, whatever the name says; an id is of one kind.
        assert_eq!(
            declared(&format!("{ada}metadata: {{id: a1}}\nspec: {{name: Other}}")),
            Some(0)
        );
        assert_eq!(declared(&format!("{truto}metadata: {{id: a1}}")), None);
        assert_eq!(declared(&format!("{truto}metadata: {{id: t2}}")), Some(4));
        assert_eq!(declared(&format!("{ada}metadata: {{id: gone}}")), None);
        // By name, without an id: the only live integration of the kind with that name.
        assert_eq!(
            declared(&format!("{truto}spec: {{name: Cool Shop}}")),
            Some(1)
        );
        assert_eq!(
            declared(&format!("{ada}metadata: null\nspec: {{name: Cool Shop}}")),
            Some(0)
        );
        assert_eq!(declared(&format!("{ada}spec: {{name: Twin}}")), None);
        assert_eq!(declared(&format!("{ada}spec: {{name: cool shop}}")), None);
        // Nothing plan could match.
        assert_eq!(declared(&format!("{ada}metadata: {{id: 7}}")), None);
        assert_eq!(declared(&format!("{ada}metadata: {{id: ''}}")), None);
        assert_eq!(declared("kind: Other\nmetadata: {id: a1}"), None);
        assert_eq!(declared("metadata: {id: a1}"), None);
        assert_eq!(declared("- a1"), None);
        assert_eq!(declared(&format!("{ada}spec: {{name: [Twin]}}")), None);
    }
}
