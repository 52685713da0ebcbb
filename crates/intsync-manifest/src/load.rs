//! Finding manifest files, reading them within limits, and running every rule over them.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::{Code, Diagnostic, SourceFile, display_path};
use crate::model::{Kind, Manifest};
use crate::receivers::{self, Receivers};
use crate::rules::{self, Claims};
use intsync_yaml::{Node, ParseError, ParseErrorKind, Span, parse_documents};

/// Files above this size are refused unread: a manifest is a few kilobytes.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// The outcome of loading: every valid manifest and every diagnostic, in file order.
#[derive(Debug, Default)]
pub struct Loaded {
    pub manifests: Vec<Manifest>,
    pub diagnostics: Vec<Diagnostic>,
    /// The manifest files read, in the order they were read.
    pub files: Vec<PathBuf>,
}

impl Loaded {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }
}

/// The outcome of [`validate`]: what `load` finds, without the manifests themselves.
#[derive(Debug, Default)]
pub struct Validated {
    /// How many documents are valid manifests.
    pub manifests: usize,
    pub diagnostics: Vec<Diagnostic>,
    /// The manifest files read, in the order they were read.
    pub files: Vec<PathBuf>,
}

impl Validated {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }
}

/// Loads and validates every manifest under `paths` (files, or directories searched
/// recursively for `*.yaml` / `*.yml`; hidden directories are skipped).
///
/// Never stops at the first problem: the result holds the diagnostics of every file.
pub fn load(paths: &[PathBuf]) -> Loaded {
    load_for(paths, &Receivers::unchecked())
}

/// [`load`] for the targets of a configuration: `metadata.targets` is held to them, and a
/// document with `!var` yields one manifest per target receiving it, its references resolved
/// with that target's vars (design §11).
pub fn load_for(paths: &[PathBuf], receivers: &Receivers) -> Loaded {
    let mut manifests = Vec::new();
    let (diagnostics, files) = run(
        paths,
        receivers,
        // On the worker thread: a file's text is let go of once checked (a diagnostic keeps
        // its own; a duplicate identity found later reads the file again), so the manifests
        // are all that is kept of a valid file.
        |result| {
            let file = ClaimFile::Path(Arc::from(result.file.path.as_path()));
            let claims: Vec<_> = result
                .claims
                .into_iter()
                .map(|c| (file.clone(), c))
                .collect();
            (result.manifests, claims, result.diagnostics)
        },
        |(mut file_manifests, mut file_claims, mut file_diagnostics), diagnostics, claims| {
            manifests.append(&mut file_manifests);
            diagnostics.append(&mut file_diagnostics);
            claims.append(&mut file_claims);
        },
    );
    Loaded {
        manifests,
        diagnostics,
        files,
    }
}

/// The checks of [`load`], for `intsync validate`: the same diagnostics in the same order, but
/// each manifest is dropped once checked, and a file's text is kept only while a diagnostic
/// points into it (a duplicate identity found later reads its file again). Memory stays flat
/// however many manifests there are.
pub fn validate(paths: &[PathBuf]) -> Validated {
    validate_for(paths, &Receivers::unchecked())
}

/// [`validate`] for the targets of a configuration, as [`load_for`] checks.
pub fn validate_for(paths: &[PathBuf], receivers: &Receivers) -> Validated {
    let mut manifests = 0;
    let (diagnostics, files) = run(
        paths,
        receivers,
        // On the worker thread, so that no file's specs or text outlive its check.
        |result| {
            let file = ClaimFile::Path(Arc::from(result.file.path.as_path()));
            let claims: Vec<_> = result
                .claims
                .into_iter()
                .map(|c| (file.clone(), c))
                .collect();
            (result.manifests.len(), claims, result.diagnostics)
        },
        |(count, mut file_claims, mut file_diagnostics), diagnostics, claims| {
            manifests += count;
            diagnostics.append(&mut file_diagnostics);
            claims.append(&mut file_claims);
        },
    );
    Validated {
        manifests,
        diagnostics,
        files,
    }
}

/// Finds the files under `paths` and checks them in parallel; `keep` turns each file's result
/// into what the caller keeps of it (on the worker thread), `merge` takes those in file order
/// and adds their diagnostics and claims.
fn run<R: Send>(
    paths: &[PathBuf],
    receivers: &Receivers,
    keep: impl Fn(FileResult) -> R + Sync + Send,
    mut merge: impl FnMut(R, &mut Vec<Diagnostic>, &mut Vec<(ClaimFile, Claims)>),
) -> (Vec<Diagnostic>, Vec<PathBuf>) {
    let mut diagnostics = Vec::new();
    let files = discover(paths, &mut diagnostics);
    let results: Vec<R> = files
        .par_iter()
        .map(|path| keep(load_file(path, receivers)))
        .collect();
    // Most files claim one identity: one allocation, not a doubling series on this thread.
    let mut claims = Vec::with_capacity(files.len());
    for result in results {
        merge(result, &mut diagnostics, &mut claims);
    }
    finish(files, diagnostics, &claims)
}

/// Adds the cross-file diagnostics and puts every diagnostic in file order.
fn finish(
    files: Vec<PathBuf>,
    mut diagnostics: Vec<Diagnostic>,
    claims: &[(ClaimFile, Claims)],
) -> (Vec<Diagnostic>, Vec<PathBuf>) {
    let duplicates = duplicate_identities(claims, &diagnostics);
    diagnostics.extend(duplicates);
    if diagnostics.len() < 2 {
        return (diagnostics, files);
    }
    let order: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_path(), i))
        .collect();
    diagnostics.sort_by_key(|d| {
        (
            order
                .get(d.file.path.as_path())
                .copied()
                .unwrap_or(usize::MAX),
            d.span.line,
            d.span.column,
            d.code,
        )
    });
    (diagnostics, files)
}

/// Loads and validates YAML text that did not come from a file (tests, fuzzing, editors).
pub fn load_source(path: impl Into<PathBuf>, text: &str) -> Loaded {
    load_source_for(path, text, &Receivers::unchecked())
}

/// [`load_source`] for the targets of a configuration, as [`load_for`] reads.
pub fn load_source_for(path: impl Into<PathBuf>, text: &str, receivers: &Receivers) -> Loaded {
    let file = SourceFile::new(path, text);
    let result = check_source(file, receivers);
    let file = ClaimFile::Held(Arc::clone(&result.file));
    let claims: Vec<_> = result
        .claims
        .into_iter()
        .map(|c| (file.clone(), c))
        .collect();
    let mut diagnostics = result.diagnostics;
    let duplicates = duplicate_identities(&claims, &diagnostics);
    diagnostics.extend(duplicates);
    diagnostics.sort_by_key(|d| (d.span.line, d.span.column, d.code));
    Loaded {
        manifests: result.manifests,
        diagnostics,
        files: vec![result.file.path.clone()],
    }
}

/// Whether `load` reads this file (`*.yaml`, `*.yml`).
pub fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

fn discover(paths: &[PathBuf], diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in paths {
        let before = files.len();
        let mut unreadable = false;
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            // Hidden directories (.git, .intsync) never hold manifests; the root itself may be `.`.
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() => {
                    // A file named on the command line is read whatever its extension.
                    if entry.depth() == 0 || is_manifest_file(entry.path()) {
                        files.push(entry.into_path());
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    unreadable = true;
                    let path = error.path().unwrap_or(root).to_path_buf();
                    let reason = error
                        .io_error()
                        .map_or_else(|| error.to_string(), ToString::to_string);
                    let file = SourceFile::new(path.clone(), "");
                    let mut d = Diagnostic::error(
                        Code::Io,
                        &file,
                        Span::default(),
                        format!("cannot read `{}`: {reason}", display_path(&path)),
                    );
                    d.label("unreadable")
                        .help("check that the path exists and is readable");
                    diagnostics.push(d);
                }
            }
        }
        if files.len() == before && !unreadable {
            // Most likely a typo in CI configuration: say so rather than pass on nothing.
            let file = SourceFile::new(root.clone(), "");
            let mut d = Diagnostic::warning(
                Code::NoManifests,
                &file,
                Span::default(),
                format!(
                    "no manifests (*.yaml, *.yml) under `{}`",
                    display_path(root)
                ),
            );
            d.label("empty").help(
                "check the path; manifests are searched recursively, skipping hidden directories",
            );
            diagnostics.push(d);
        }
    }
    files.dedup();
    files
}

struct FileResult {
    file: Arc<SourceFile>,
    manifests: Vec<Manifest>,
    claims: Vec<Claims>,
    diagnostics: Vec<Diagnostic>,
}

impl FileResult {
    fn failed(file: Arc<SourceFile>, diagnostic: Diagnostic) -> FileResult {
        FileResult {
            file,
            manifests: Vec::new(),
            claims: Vec::new(),
            diagnostics: vec![diagnostic],
        }
    }
}

fn load_file(path: &Path, receivers: &Receivers) -> FileResult {
    let empty = SourceFile::new(path, "");
    let bytes = match read_limited(path) {
        Ok(bytes) => bytes,
        Err(ReadError::TooLarge(size)) => {
            let mut d = Diagnostic::error(
                Code::FileTooLarge,
                &empty,
                Span::default(),
                format!(
                    "`{}` is {size} bytes; manifests are limited to {MAX_FILE_BYTES} bytes (10 MiB)",
                    display_path(path)
                ),
            );
            d.label("too large")
                .help("split the file, or move large data out of the manifest");
            return FileResult::failed(empty, d);
        }
        Err(ReadError::Io(error)) => {
            let mut d = Diagnostic::error(
                Code::Io,
                &empty,
                Span::default(),
                format!("cannot read `{}`: {error}", display_path(path)),
            );
            d.label("unreadable")
                .help("check that the file exists and is readable");
            return FileResult::failed(empty, d);
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => check_source(SourceFile::new(path, text), receivers),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            let bytes = error.into_bytes();
            // Show the text up to the bad byte, so the label lands on the right line.
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let span = Span::at_offset(&prefix, valid);
            let file = SourceFile::new(path, prefix);
            let mut d = Diagnostic::error(
                Code::NotUtf8,
                &file,
                span,
                format!(
                    "`{}` is not valid UTF-8 (byte {valid} starts an invalid sequence)",
                    display_path(path)
                ),
            );
            d.label("invalid UTF-8 starts here")
                .help("save the file as UTF-8");
            FileResult::failed(file, d)
        }
    }
}

enum ReadError {
    TooLarge(u64),
    Io(std::io::Error),
}

/// Reads at most `MAX_FILE_BYTES + 1` bytes, so a file that grows while being read, or a
/// device that never ends, cannot exhaust memory.
fn read_limited(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = fs_err::File::open(path).map_err(ReadError::Io)?;
    let size = file.metadata().map_err(ReadError::Io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

fn check_source(file: Arc<SourceFile>, receivers: &Receivers) -> FileResult {
    let documents = match parse_documents(&file.text) {
        Ok(documents) => documents,
        Err(errors) => {
            let diagnostics = errors
                .into_iter()
                .map(|error| parse_diagnostic(&file, error))
                .collect();
            return FileResult {
                file,
                manifests: Vec::new(),
                claims: Vec::new(),
                diagnostics,
            };
        }
    };
    let mut result = FileResult {
        file: Arc::clone(&file),
        manifests: Vec::new(),
        claims: Vec::new(),
        diagnostics: Vec::new(),
    };
    for (index, document) in documents.iter().enumerate() {
        check_for_targets(&file, index, document, receivers, &mut result);
    }
    result
}

/// The rules over one document, for the targets that receive it: once when it has no `!var`,
/// else once per receiving target on the document resolved with that target's vars. A
/// diagnostic the passes share is reported once; one at a reference names its target.
fn check_for_targets(
    file: &Arc<SourceFile>,
    index: usize,
    document: &Node,
    receivers: &Receivers,
    result: &mut FileResult,
) {
    let routed = receivers::route(file, document, receivers);
    let mut diagnostics = routed.diagnostics;
    let listed = routed.listed;
    let has_var = document.has_var();
    let Some(chosen) = routed
        .receivers
        .as_ref()
        .filter(|chosen| has_var && !chosen.is_empty())
    else {
        if has_var && routed.receivers.is_none() {
            diagnostics.extend(receivers::unresolvable(file, document));
        }
        let checked = rules::check_document(file, index, document);
        let refused = diagnostics.iter().any(Diagnostic::is_error);
        result.diagnostics.append(&mut diagnostics);
        if !refused {
            result.manifests.extend(checked.manifest.map(|mut m| {
                m.routing.targets.clone_from(&listed);
                m
            }));
        }
        result.claims.extend(checked.claims.map(|mut c| {
            c.targets.clone_from(&listed);
            c
        }));
        result.diagnostics.extend(checked.diagnostics);
        return;
    };
    let mut seen: Vec<(Code, Span, String)> = Vec::new();
    for receiver in chosen.iter().copied().filter(|r| receivers.serves(&r.name)) {
        let mut pass = Vec::new();
        let Some((resolved, uses)) = receivers::resolve(file, document, receiver, &mut pass) else {
            diagnostics.append(&mut pass);
            continue;
        };
        let checked = rules::check_document(file, index, &resolved);
        for mut d in checked.diagnostics {
            if let Some(used) = uses.iter().find(|u| u.span == d.span) {
                if used.sensitive {
                    receivers::mask_in(&mut d, receiver.vars.get(&used.name));
                }
                d.message.push_str(&format!(
                    " (`!var {}` of target `{}`)",
                    used.name, receiver.name
                ));
            }
            let key = (d.code, d.span, d.message.clone());
            if !seen.contains(&key) {
                seen.push(key);
                diagnostics.push(d);
            }
        }
        result.manifests.extend(checked.manifest.map(|mut m| {
            m.routing.targets.clone_from(&listed);
            m.routing.target = Some(receiver.name.clone());
            m.routing.vars.clone_from(&uses);
            m
        }));
        result.claims.extend(checked.claims.map(|mut c| {
            c.targets = Some(vec![receiver.name.clone()]);
            c
        }));
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        // One target's copy wrong: no copy goes anywhere, as a document with an error.
        let first = result
            .manifests
            .iter()
            .rposition(|m| m.origin.document != index || m.origin.path != file.path)
            .map_or(0, |i| i + 1);
        result.manifests.truncate(first);
    }
    result.diagnostics.append(&mut diagnostics);
}

/// The diagnostic of a YAML error that stopped a file from being read.
fn parse_diagnostic(file: &Arc<SourceFile>, error: ParseError) -> Diagnostic {
    let (code, label, help) = match error.kind {
        ParseErrorKind::Syntax | ParseErrorKind::Tag => (
            Code::YamlSyntax,
            "invalid YAML",
            "fix the YAML syntax here; `intsync validate` reads every other file regardless",
        ),
        ParseErrorKind::Limit => (
            Code::YamlTooComplex,
            "limit exceeded",
            "manifests are small hand-written files: remove deep nesting or repeated aliases",
        ),
        ParseErrorKind::NotJson => (
            Code::NonJsonNumber,
            "no JSON number",
            "JSON, and so the vendor's API, has no infinity or NaN: quote the value to send a string, or write a finite number",
        ),
    };
    let span = error.span.unwrap_or_default();
    let mut d = Diagnostic::error(code, file, span, error.message);
    d.label(label).help(help);
    d
}

/// The file a claim was made in: held (its text still in memory), or only its path, read again
/// if a duplicate diagnostic must show it.
#[derive(Clone)]
enum ClaimFile {
    Held(Arc<SourceFile>),
    Path(Arc<Path>),
}

impl ClaimFile {
    fn path(&self) -> &Path {
        match self {
            ClaimFile::Held(file) => &file.path,
            ClaimFile::Path(path) => path,
        }
    }

    /// The file with its text: held, already held by another diagnostic, or read again.
    fn source(&self, known: &mut HashMap<PathBuf, Arc<SourceFile>>) -> Arc<SourceFile> {
        match self {
            ClaimFile::Held(file) => Arc::clone(file),
            ClaimFile::Path(path) => {
                Arc::clone(known.entry(path.to_path_buf()).or_insert_with(|| {
                    // The file was read and checked moments ago; if it has since become unreadable,
                    // the diagnostic still names the place, without a snippet.
                    let text = read_limited(path)
                        .ok()
                        .and_then(|bytes| String::from_utf8(bytes).ok())
                        .unwrap_or_default();
                    SourceFile::new(path.to_path_buf(), text)
                }))
            }
        }
    }
}

/// Two manifests claiming one live object (same kind and id, or same kind and name): each
/// place gets a diagnostic naming the others. `diagnostics` are the ones found so far, whose
/// files' texts need not be read again.
fn duplicate_identities(
    claims: &[(ClaimFile, Claims)],
    diagnostics: &[Diagnostic],
) -> Vec<Diagnostic> {
    // Grouped by sorting, not hashing: two lists, instead of a map and a list per identity.
    // Sorted in place; the claim's index breaks ties, so each group keeps the claims' order.
    type Claimed<'a> = (Kind, &'a str, usize, Span);
    // Sized once: growing them would touch (and fault in) twice the memory.
    let mut by_id: Vec<Claimed<'_>> = Vec::with_capacity(claims.len());
    let mut by_name: Vec<Claimed<'_>> = Vec::with_capacity(claims.len());
    for (index, (_, claim)) in claims.iter().enumerate() {
        if let Some((id, span)) = &claim.id {
            by_id.push((claim.kind, id.as_str(), index, *span));
        }
        if let Some((name, span)) = &claim.name {
            by_name.push((claim.kind, name.as_str(), index, *span));
        }
    }
    let mut groups: [(&str, Vec<&[Claimed<'_>]>); 2] = [("id", Vec::new()), ("name", Vec::new())];
    for (list, (_, found)) in [&mut by_id, &mut by_name].into_iter().zip(&mut groups) {
        list.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        found.extend(
            list.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1))
                .filter(|group| group.len() > 1),
        );
    }
    let mut known: HashMap<PathBuf, Arc<SourceFile>> = HashMap::new();
    if groups.iter().any(|(_, found)| !found.is_empty()) {
        for d in diagnostics {
            known
                .entry(d.file.path.clone())
                .or_insert_with(|| Arc::clone(&d.file));
        }
    }
    let mut diagnostics = Vec::new();
    for (what, found) in groups {
        for places in found {
            let (kind, value) = (places[0].0, places[0].1);
            // Ada allows two integrations with one name: manifests pinned by distinct ids
            // never conflict by name, only with a manifest matched by that name (design §4).
            let pinned = |index: usize| what == "name" && claims[index].1.id.is_some();
            for (i, &(_, _, index, span)) in places.iter().enumerate() {
                let file = &claims[index].0;
                let others: Vec<String> = places
                    .iter()
                    .enumerate()
                    .filter(|&(j, &(_, _, other, _))| {
                        j != i
                            && !(pinned(index) && pinned(other))
                            && share_a_target(&claims[index].1, &claims[other].1)
                    })
                    .map(|(_, &(_, _, other, s))| {
                        let path = display_path(claims[other].0.path());
                        format!("{path}:{}:{}", s.line, s.column)
                    })
                    .collect();
                if others.is_empty() {
                    continue;
                }
                let mut d = Diagnostic::error(
                    Code::DuplicateIdentity,
                    &file.source(&mut known),
                    span,
                    format!(
                        "another {kind} manifest claims the same {what} `{value}` (at {})",
                        others.join(", ")
                    ),
                );
                d.label(format!("{what} claimed twice"))
                    .help(if what == "name" {
                        "a manifest without `metadata.id` is matched by its name, so the name must be its own: merge them, rename one, or pin each to its live integration with `metadata.id`"
                    } else {
                        "each live integration is described by exactly one manifest: merge them or rename one"
                    });
                diagnostics.push(d);
            }
        }
    }
    diagnostics
}

/// Whether some target gets both claims' manifests (`None`: every target).
fn share_a_target(a: &Claims, b: &Claims) -> bool {
    match (&a.targets, &b.targets) {
        (Some(a), Some(b)) => a.iter().any(|t| b.contains(t)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render;

    const STYLE: render::HumanStyle = render::HumanStyle {
        color: false,
        width: 100,
    };

    /// `validate` must say exactly what `load` says, in the same order, snippets included.
    fn assert_same(paths: &[PathBuf]) {
        let loaded = load(paths);
        let validated = validate(paths);
        assert_eq!(validated.manifests, loaded.manifests.len());
        assert_eq!(validated.files, loaded.files);
        assert_eq!(
            render::json(&validated.diagnostics),
            render::json(&loaded.diagnostics)
        );
        assert_eq!(
            render::human(&validated.diagnostics, STYLE),
            render::human(&loaded.diagnostics, STYLE)
        );
        assert_eq!(validated.error_count(), loaded.error_count());
        assert_eq!(validated.warning_count(), loaded.warning_count());
    }

    #[test]
    fn validate_reports_what_load_reports() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert_same(&[
            root.join("tests/fixtures"),
            root.join("manifests"),
            root.join("no-such-dir"),
        ]);
    }

    /// Ada allows two integrations with one name: pinned by distinct ids they are two
    /// manifests, not a conflict; a manifest matched by that name conflicts with each of them.
    #[test]
    fn names_conflict_only_with_a_manifest_matched_by_name() {
        let doc = |id: Option<&str>, name: &str| {
            let metadata = id
                .map(|id| format!("metadata:\n  id: {id}\n"))
                .unwrap_or_default();
            format!(
                "apiVersion: intsync/v1\nkind: TrutoIntegration\n{metadata}spec:\n  name: {name}\n"
            )
        };
        let conflicts = |docs: &[String]| -> Vec<u32> {
            let loaded = load_source("m.yaml", &docs.join("---\n"));
            loaded
                .diagnostics
                .iter()
                .filter(|d| d.code == Code::DuplicateIdentity)
                .map(|d| d.span.line)
                .collect()
        };
        let pinned_a = doc(Some("a"), "Same");
        let pinned_b = doc(Some("b"), "Same");
        let by_name = doc(None, "Same");
        assert_eq!(
            conflicts(&[pinned_a.clone(), pinned_b.clone()]),
            [] as [u32; 0]
        );
        // The line of each `name:` value.
        assert_eq!(
            conflicts(&[pinned_a.clone(), pinned_b.clone(), by_name.clone()]),
            [6, 13, 18]
        );
        assert_eq!(conflicts(&[by_name.clone(), by_name.clone()]), [4, 9]);
        // The same id stays a conflict, whatever the names.
        assert_eq!(
            conflicts(&[pinned_a.clone(), doc(Some("a"), "Other")]).len(),
            2
        );
    }

    #[test]
    fn validate_reads_a_clean_file_again_for_a_duplicate_identity() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = |name: &str| {
            format!(
                "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  id: shared\nspec:\n  name: {name}\n"
            )
        };
        std::fs::write(dir.path().join("a.yaml"), manifest("one")).unwrap();
        // Clean but for the duplicate: its text is dropped after the check, read again later.
        std::fs::write(dir.path().join("b.yaml"), manifest("two")).unwrap();
        // Has its own diagnostic (and a duplicate name with c2).
        std::fs::write(
            dir.path().join("c.yaml"),
            format!(
                "{}  sharing: sometimes\n---\n{}",
                manifest("three"),
                manifest("three")
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("d.yaml"), b"name: \xff\n").unwrap();
        std::fs::write(
            dir.path().join("e.yaml"),
            manifest("four").replace("shared", "own"),
        )
        .unwrap();
        let paths = [dir.path().to_path_buf()];
        assert_same(&paths);
        let validated = validate(&paths);
        assert_eq!(validated.manifests, 4);
        assert!(
            validated
                .diagnostics
                .iter()
                .any(|d| d.code == Code::DuplicateIdentity
                    && d.file.path.ends_with("b.yaml")
                    && !d.file.text.is_empty())
        );
    }
}
