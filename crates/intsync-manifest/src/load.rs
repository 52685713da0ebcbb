//! Finding manifest files, reading them within limits, and running every rule over them.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::{Code, Diagnostic, SourceFile, display_path};
use crate::model::{Kind, Manifest};
use crate::rules::{self, Claims};
use crate::tree::{self, Span};

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

/// Loads and validates every manifest under `paths` (files, or directories searched
/// recursively for `*.yaml` / `*.yml`; hidden directories are skipped).
///
/// Never stops at the first problem: the result holds the diagnostics of every file.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut discovery = Vec::new();
    let files = discover(paths, &mut discovery);
    let results: Vec<FileResult> = files.par_iter().map(|path| load_file(path)).collect();
    let mut loaded = Loaded {
        files,
        diagnostics: discovery,
        ..Loaded::default()
    };
    let mut claims = Vec::new();
    for result in results {
        loaded.manifests.extend(result.manifests);
        loaded.diagnostics.extend(result.diagnostics);
        claims.extend(
            result
                .claims
                .into_iter()
                .map(|c| (Arc::clone(&result.file), c)),
        );
    }
    loaded.diagnostics.extend(duplicate_identities(&claims));
    let order: HashMap<&Path, usize> = loaded
        .files
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_path(), i))
        .collect();
    loaded.diagnostics.sort_by_key(|d| {
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
    loaded
}

/// Loads and validates YAML text that did not come from a file (tests, fuzzing, editors).
pub fn load_source(path: impl Into<PathBuf>, text: &str) -> Loaded {
    let file = SourceFile::new(path, text);
    let result = check_source(file);
    let claims: Vec<_> = result
        .claims
        .into_iter()
        .map(|c| (Arc::clone(&result.file), c))
        .collect();
    let mut diagnostics = result.diagnostics;
    diagnostics.extend(duplicate_identities(&claims));
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

fn load_file(path: &Path) -> FileResult {
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
        Ok(text) => check_source(SourceFile::new(path, text)),
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

fn check_source(file: Arc<SourceFile>) -> FileResult {
    let documents = match tree::parse_documents(&file.text) {
        Ok(documents) => documents,
        Err(error) => {
            let (code, help) = if error.limit_exceeded {
                (
                    Code::YamlTooComplex,
                    "manifests are small hand-written files: remove deep nesting or repeated aliases",
                )
            } else {
                (
                    Code::YamlSyntax,
                    "fix the YAML syntax here; `intsync validate` reads every other file regardless",
                )
            };
            let span = error.span.unwrap_or_default();
            let mut d = Diagnostic::error(code, &file, span, error.message);
            d.label(if error.limit_exceeded {
                "limit exceeded"
            } else {
                "invalid YAML"
            })
            .help(help);
            return FileResult::failed(file, d);
        }
    };
    let mut result = FileResult {
        file: Arc::clone(&file),
        manifests: Vec::new(),
        claims: Vec::new(),
        diagnostics: Vec::new(),
    };
    for (index, document) in documents.iter().enumerate() {
        let checked = rules::check_document(&file, index, document);
        result.manifests.extend(checked.manifest);
        result.claims.extend(checked.claims);
        result.diagnostics.extend(checked.diagnostics);
    }
    result
}

/// Two manifests claiming one live object (same kind and id, or same kind and name): each
/// place gets a diagnostic naming the others.
fn duplicate_identities(claims: &[(Arc<SourceFile>, Claims)]) -> Vec<Diagnostic> {
    type Place<'a> = (&'a Arc<SourceFile>, Span);
    let mut by_id: HashMap<(Kind, &str), Vec<Place<'_>>> = HashMap::new();
    let mut by_name: HashMap<(Kind, &str), Vec<Place<'_>>> = HashMap::new();
    for (file, claim) in claims {
        if let Some((id, span)) = &claim.id {
            by_id
                .entry((claim.kind, id.as_str()))
                .or_default()
                .push((file, *span));
        }
        if let Some((name, span)) = &claim.name {
            by_name
                .entry((claim.kind, name.as_str()))
                .or_default()
                .push((file, *span));
        }
    }
    let mut diagnostics = Vec::new();
    for (what, groups) in [("id", by_id), ("name", by_name)] {
        for ((kind, value), places) in groups {
            if places.len() < 2 {
                continue;
            }
            for (i, (file, span)) in places.iter().enumerate() {
                let others: Vec<String> = places
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, (f, s))| format!("{}:{}:{}", f.display_path(), s.line, s.column))
                    .collect();
                let mut d = Diagnostic::error(
                    Code::DuplicateIdentity,
                    file,
                    *span,
                    format!(
                        "another {kind} manifest claims the same {what} `{value}` (at {})",
                        others.join(", ")
                    ),
                );
                d.label(format!("{what} claimed twice"))
                    .help("each live integration is described by exactly one manifest: merge them or rename one");
                diagnostics.push(d);
            }
        }
    }
    diagnostics
}
