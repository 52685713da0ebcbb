//! Checks shared by the renderers' tests (`crates/intsync-plan/tests/hostile.rs`) and the
//! binary's (`tests/hostile_names.rs`, which includes this file by path): that hostile names
//! and values stay inert in a rendered plan. Markdown is parsed back with a CommonMark parser.

#![allow(dead_code)] // reason: each test file uses part of it

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// The most characters GitHub keeps in a comment or an issue body.
pub const MARKDOWN_LIMIT: usize = 65_536;

/// Each holds `ZQ` where it has room: that word must never be seen outside code.
pub const HOSTILE: &[&str] = &[
    "x\n\n## ✅ no changes, safe to merge ZQ",
    "x\r\n\r\n# ZQ heading after CRLF",
    "@team ZQ please approve",
    "[click ZQ](https://evil.example/)",
    "https://evil.example/ZQ",
    "www.evil.example ZQ",
    "<https://evil.example/ZQ>",
    "fixes #123 ZQ",
    "owner/repo#123 ZQ",
    "<img src=x onerror=alert(1)> ZQ",
    "<!-- ZQ",
    "</details>\n\n# ZQ escaped the block",
    "</code></b></summary></details>ZQ",
    "`ZQ`",
    "``ZQ``",
    "```ZQ```",
    "````ZQ````",
    "`",
    "ZQ `",
    "` ZQ",
    " ZQ ",
    "a | b ZQ |\n|---|---|\n| c | d |",
    "\u{202e}ZQ\u{202c}",
    "\u{2066}ZQ\u{2069}",
    "\u{1b}[2J\u{1b}[31mZQ",
    "\u{9b}31mZQ",
    "cr\rZQ",
    "nul\0ZQ",
    "del\u{7f}ZQ",
    "zero\u{200b}width ZQ",
    "line\u{2028}sep ZQ",
    "tag\u{e0041}ZQ",
    "*ZQ* _ZQ_ ~~ZQ~~",
    "![ZQ](https://evil.example/i.png)",
    "[ZQ]: https://evil.example/",
    "[^ZQ]",
    "&lt;ZQ&gt; &amp;",
    "\\`ZQ",
    "- [ ] ZQ",
    "> ZQ",
    "    ZQ indented",
    "---",
    "ZQ\n---",
];

/// Characters that must reach a reader only as a visible escape (a line feed is the renderings'
/// own: where a hostile one would break a line, the structure checks see it).
pub fn hidden(c: char) -> bool {
    c != '\n' && c.is_control()
        || matches!(
            c,
            '\u{200b}' | '\u{2028}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{e0000}'..='\u{e007f}'
        )
}

/// Allowed HTML: the tags of the collapsible blocks, and `<code>`/`<b>` inside their summaries.
const TAGS: [&str; 8] = [
    "details", "/details", "summary", "/summary", "code", "/code", "b", "/b",
];

/// What in the HTML of `html` is not one of [`TAGS`], or hostile text outside `<code>`; and the
/// `<details>` nesting, which must never go below zero.
fn check_html(html: &str, depth: &mut i64, in_code: &mut bool, problems: &mut Vec<String>) {
    let mut rest = html;
    while !rest.is_empty() {
        match rest.find('<') {
            Some(start) => {
                check_outside_tags(&rest[..start], *in_code, problems);
                let Some(end) = rest[start..].find('>') else {
                    problems.push(format!("an unclosed `<` in HTML: {rest:?}"));
                    return;
                };
                let tag = &rest[start + 1..start + end];
                if !TAGS.contains(&tag) {
                    problems.push(format!("HTML tag `<{tag}>` formed"));
                }
                match tag {
                    "details" => *depth += 1,
                    "/details" => {
                        *depth -= 1;
                        if *depth < 0 {
                            problems.push("a `</details>` closes a block it did not open".into());
                        }
                    }
                    "code" => *in_code = true,
                    "/code" => *in_code = false,
                    _ => {}
                }
                rest = &rest[start + end + 1..];
            }
            None => {
                check_outside_tags(rest, *in_code, problems);
                rest = "";
            }
        }
    }
}

fn check_outside_tags(text: &str, in_code: bool, problems: &mut Vec<String>) {
    if in_code {
        if let Some(c) = text.chars().find(|&c| hidden(c)) {
            problems.push(format!("a raw {c:?} in <code>: {text:?}"));
        }
        if text.contains('>') {
            problems.push(format!("a raw `>` in <code>: {text:?}"));
        }
    } else {
        check_prose(text, "HTML text", problems);
    }
}

/// Text a reader sees as prose (not code): none of the hostile text may be there.
fn check_prose(text: &str, what: &str, problems: &mut Vec<String>) {
    for needle in ["ZQ", "@", "http", "www.", "#", "<", ">", "`", "|"] {
        if text.contains(needle) {
            problems.push(format!("{what} holds `{needle}` outside code: {text:?}"));
        }
    }
    if let Some(c) = text.chars().find(|&c| hidden(c)) {
        problems.push(format!("{what} holds a raw {c:?}: {text:?}"));
    }
}

/// Everything in `markdown` that hostile text could have made.
pub fn markdown_problems(markdown: &str, title: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_GFM;
    let mut headings = 0;
    let mut heading_text = None::<String>;
    let mut tables = 0;
    let mut in_code_block = false;
    let mut in_table = false;
    let mut depth = 0;
    let mut html_code = false;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                headings += 1;
                heading_text = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => {
                let text = heading_text.take().unwrap_or_default();
                if !text.starts_with(title) {
                    problems.push(format!("a heading formed: {text:?}"));
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                problems.push(format!("a link formed: {dest_url}"));
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                problems.push(format!("an image formed: {dest_url}"));
            }
            Event::Start(Tag::Table(_)) => {
                tables += 1;
                in_table = true;
            }
            Event::End(TagEnd::Table) => in_table = false,
            Event::Start(Tag::CodeBlock(kind)) => {
                in_code_block = true;
                if let CodeBlockKind::Fenced(info) = &kind
                    && !["diff", "yaml"].contains(&info.as_ref())
                {
                    problems.push(format!("a code block of `{info}` formed"));
                }
                if let CodeBlockKind::Indented = kind {
                    problems.push("an indented code block formed".into());
                }
            }
            Event::End(TagEnd::CodeBlock) => in_code_block = false,
            Event::Start(
                tag @ (Tag::BlockQuote(_)
                | Tag::FootnoteDefinition(_)
                | Tag::Emphasis
                | Tag::Strikethrough),
            ) => {
                problems.push(format!("{tag:?} formed"));
            }
            Event::FootnoteReference(name) => problems.push(format!("a footnote `{name}` formed")),
            Event::TaskListMarker(_) => problems.push("a task list formed".into()),
            Event::Rule => problems.push("a thematic break formed".into()),
            Event::Html(html) | Event::InlineHtml(html) => {
                check_html(&html, &mut depth, &mut html_code, &mut problems);
            }
            Event::Code(code) => {
                if let Some(text) = &mut heading_text {
                    text.push_str(&code);
                }
                if let Some(c) = code.chars().find(|&c| hidden(c)) {
                    problems.push(format!("a raw {c:?} in a code span: {code:?}"));
                }
            }
            Event::Text(text) => {
                if let Some(heading) = &mut heading_text {
                    heading.push_str(&text);
                } else if in_code_block {
                    if let Some(c) = text.chars().find(|&c| hidden(c)) {
                        problems.push(format!("a raw {c:?} in a code block: {text:?}"));
                    }
                } else if in_table {
                    if text.chars().any(|c| !c.is_ascii_alphanumeric() && c != ' ') {
                        problems.push(format!("a table cell holds {text:?}"));
                    }
                } else {
                    check_prose(&text, "text", &mut problems);
                }
            }
            _ => {}
        }
    }
    if headings != 1 {
        problems.push(format!("{headings} headings, not 1"));
    }
    if tables != 1 {
        problems.push(format!("{tables} tables, not 1"));
    }
    if depth != 0 {
        problems.push(format!("{depth} <details> left open"));
    }
    for (n, line) in markdown.lines().enumerate().skip(1) {
        if line.starts_with('#') {
            problems.push(format!("line {} starts with `#`: {line:?}", n + 1));
        }
    }
    problems
}

pub fn assert_inert_markdown(markdown: &str, title: &str) {
    let problems = markdown_problems(markdown, title);
    assert!(
        problems.is_empty(),
        "{} problems, the first ones:\n{}\n\n{markdown}",
        problems.len(),
        problems[..problems.len().min(40)].join("\n"),
        markdown = markdown.chars().take(4_000).collect::<String>()
    );
    assert!(markdown.chars().count() <= MARKDOWN_LIMIT);
}

/// `text` without the colour codes intsync writes (`ESC [ digits m`).
pub fn strip_colour(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("\u{1b}[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit() && c != ';')
            .unwrap_or(after.len());
        if after[digits..].starts_with('m') && digits > 0 {
            rest = &after[digits + 1..];
        } else {
            // Not ours: keep it, so that the check sees it.
            out.push('\u{1b}');
            rest = &rest[start + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Asserts that no line of `text` (a text rendering, colour codes included) holds a raw
/// control or invisible character other than intsync's own colour codes.
pub fn assert_inert_text(text: &str) {
    let plain = strip_colour(text);
    for (n, line) in plain.split('\n').enumerate() {
        if let Some(c) = line.chars().find(|&c| hidden(c)) {
            panic!("line {} holds a raw {c:?}: {line:?}", n + 1);
        }
    }
}
