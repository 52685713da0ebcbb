//! What would act on a reader's screen instead of showing (design §12): a manifest's key, a
//! `!var` name or a file name may hold `\u{1b}[2J` or a bidi override, and lands in diagnostics
//! and plans. `intsync_plan::inert` builds the Markdown and HTML renderings on these.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` would act on the reader's screen rather than show as itself: C0 and C1 controls
/// and DEL (terminal escapes, carriage returns, line breaks), the line and paragraph
/// separators, and the invisible format characters (Unicode category Cf: bidi embeddings,
/// overrides, isolates and marks, which reorder what follows; zero-width spaces, word joiners,
/// invisible operators, the byte-order mark, interlinear annotations, tag characters, the soft
/// hyphen). The zero-width joiner (U+200D) is kept: it joins emoji (`👩‍💻`), and moves nothing.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{61c}'
                | '\u{6dd}'
                | '\u{70f}'
                | '\u{890}'..='\u{891}'
                | '\u{8e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200c}'
                | '\u{200e}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

/// `text` with every [hidden](is_hidden) character spelled as Rust spells it: `\n`, `\r`,
/// `\t`, else `\u{202e}`. Other characters, backslashes included, are left as they are.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
