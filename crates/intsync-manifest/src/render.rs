//! The three renderings of diagnostics: miette's graphical report for people, a JSON array for
//! programs, and GitHub Actions workflow commands for pull-request annotations.

use std::fmt::Write as _;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};

use crate::diagnostic::{Diagnostic, Severity};

/// How the human rendering looks.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    /// ANSI colours (off under `NO_COLOR` or when not writing to a terminal).
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}

impl Default for HumanStyle {
    fn default() -> Self {
        HumanStyle {
            color: false,
            width: 100,
        }
    }
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    }
}

/// `text` (a file's text) with every [hidden](crate::inert::is_hidden) character but the line
/// breaks and tabs replaced by `?`, one per byte, so that the spans into it still hold: the
/// snippet shows a terminal escape or a bidi override in the file, it does not act on it.
fn inert_source(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let kept = match c {
            '\n' | '\t' => true,
            // A carriage return only as part of a CRLF line break.
            '\r' => chars.peek() == Some(&'\n'),
            c => !crate::inert::is_hidden(c),
        };
        if kept {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        }
    }
    out
}

/// One diagnostic as miette's graphical report, source snippet and labels included. Names from
/// the manifest in its message, help and labels (keys, `!var` names, values), the file's path
/// and its text are shown [inert](crate::inert::visible).
pub fn human_one(diagnostic: &Diagnostic, style: HumanStyle) -> String {
    use crate::inert::visible;
    let mut report = MietteDiagnostic::new(visible(&diagnostic.message).into_owned())
        .with_code(diagnostic.code.as_str())
        .with_severity(severity(diagnostic.severity));
    if let Some(help) = &diagnostic.help {
        report = report.with_help(visible(help).into_owned());
    }
    let has_text = !diagnostic.file.text.is_empty() && diagnostic.span.line > 0;
    if has_text {
        let clamp = |offset: usize, len: usize| {
            let text_len = diagnostic.file.text.len();
            let start = offset.min(text_len);
            (start, len.min(text_len - start))
        };
        let (start, len) = clamp(diagnostic.span.offset, diagnostic.span.len);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(visible(&diagnostic.label).into_owned()),
            (start, len),
        )];
        for label in &diagnostic.labels {
            let (start, len) = clamp(label.span.offset, label.span.len);
            labels.push(LabeledSpan::new_with_span(
                Some(visible(&label.text).into_owned()),
                (start, len),
            ));
        }
        report = report.with_labels(labels);
    }
    let report = if has_text {
        Report::new(report).with_source_code(
            NamedSource::new(
                &*visible(&diagnostic.file.display_path()),
                inert_source(&diagnostic.file.text),
            )
            .with_language("yaml"),
        )
    } else {
        Report::new(report)
    };
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        // Rendering into a String cannot fail on IO; keep a plain line if miette gives up.
        out = format!(
            "{}: {} [{}]\n",
            visible(&diagnostic.location()),
            visible(&diagnostic.message),
            diagnostic.code
        );
    } else if !has_text {
        // Without a snippet miette prints no location: put it on the first line.
        out = format!("{}: {out}", visible(&diagnostic.location()));
    }
    out
}

/// Every diagnostic, graphically, separated by blank lines.
pub fn human(diagnostics: &[Diagnostic], style: HumanStyle) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&human_one(d, style));
        out.push('\n');
    }
    out
}

/// `[{ "file", "line", "column", "severity", "code", "message" }]`, pretty-printed.
pub fn json(diagnostics: &[Diagnostic]) -> String {
    let items: Vec<serde_json::Value> = diagnostics
        .iter()
        .map(|d| {
            serde_json::json!({
                "file": d.file.display_path(),
                "line": d.span.line.max(1),
                "column": d.span.column.max(1),
                "severity": d.severity.as_str(),
                "code": d.code.as_str(),
                "message": d.message,
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".to_owned());
    out.push('\n');
    out
}

/// GitHub Actions workflow commands: `::error file=F,line=L,col=C::message`.
pub fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = format!("{}: {}", d.code, d.message);
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={}::{}",
            escape_property(&d.file.display_path()),
            d.span.line.max(1),
            d.span.column.max(1),
            escape_data(&message)
        );
    }
    out
}

/// Escaping of workflow command data, as the Actions toolkit does it.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_like_the_toolkit() {
        assert_eq!(escape_data("50%\na"), "50%25%0Aa");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
