//! Names and values from manifests and live state, made inert for a reader (design §12,
//! docs/plan.md "Hostile names"). A live integration may be named `x\n\n## ✅ no changes`,
//! `@team`, `</details>` or `\u{1b}[2J`: none of that may become a heading, a mention, a link,
//! HTML, a closed `<details>` block, or a terminal escape in what intsync prints.
//!
//! - [`visible`] spells every character that would act instead of show (controls, line
//!   breaks, bidi overrides, invisible format characters) as a visible escape: the text format.
//! - [`code_span`] puts text in a Markdown code span that nothing inside can close.
//! - [`html_code`] puts text in `<code>` for the HTML of a `<details>` summary, where Markdown is
//!   not parsed.

// The characters that act instead of showing, and their visible spelling, are said once, in
// intsync-manifest (its diagnostics print manifest names too).
pub use intsync_manifest::inert::{is_hidden, visible};

/// `text` as a Markdown code span that shows it exactly, [visibly](visible): delimited by a run
/// of backticks longer than any run inside it, and padded with a space on both sides when it
/// starts or ends with a backtick, or starts and ends with a space (CommonMark strips one
/// space from each side of such a span). Empty text is a span holding one space. Inside a
/// code span nothing is a heading, link, mention, reference or HTML, and, once line breaks
/// are escaped, nothing ends it but its own delimiter.
pub fn code_span(text: &str) -> String {
    let shown = visible(text);
    if shown.is_empty() {
        return "` `".to_owned();
    }
    let fence = "`".repeat(longest_backtick_run(&shown) + 1);
    let pad = shown.starts_with('`')
        || shown.ends_with('`')
        || (shown.starts_with(' ')
            && shown.ends_with(' ')
            && !shown.trim_start_matches(' ').is_empty());
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// The longest run of backticks in `text`.
pub fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// `text` in `<code>`, for HTML (a `<details>` summary line, where Markdown is not parsed and
/// GitHub links no mention or reference inside `<code>`): [visible](visible), then `&`, `<`,
/// `>` and `"` as entities, so that no tag (`</details>`) or comment can form, and no blank line
/// can end the HTML block.
pub fn html_code(text: &str) -> String {
    let shown = visible(text);
    let mut out = String::with_capacity(shown.len() + 13);
    out.push_str("<code>");
    for c in shown.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_spelled_out() {
        assert_eq!(visible("plain: `x` \\n é 👩‍💻"), "plain: `x` \\n é 👩‍💻");
        assert_eq!(
            visible("a\nb\r\tc\u{1b}[2J\u{9b}\u{7f}\0\u{202e}\u{2066}\u{200b}\u{feff}\u{e0041}"),
            r"a\nb\r\tc\u{1b}[2J\u{9b}\u{7f}\u{0}\u{202e}\u{2066}\u{200b}\u{feff}\u{e0041}"
        );
    }

    #[test]
    fn code_spans_outlast_backticks_and_keep_spaces() {
        assert_eq!(code_span("Alpha KB"), "`Alpha KB`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("```x"), "```` ```x ````");
        assert_eq!(code_span("x`"), "`` x` ``");
        assert_eq!(code_span(" x "), "`  x  `");
        assert_eq!(code_span("  "), "`  `");
        assert_eq!(code_span(""), "` `");
        assert_eq!(code_span("a\n\n# b"), r"`a\n\n# b`");
    }

    #[test]
    fn html_code_escapes_markup() {
        assert_eq!(
            html_code("</details>\n<!-- & \"x\""),
            r"<code>&lt;/details&gt;\n&lt;!-- &amp; &quot;x&quot;</code>"
        );
    }
}
