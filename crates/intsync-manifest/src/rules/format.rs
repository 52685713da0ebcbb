//! The formats of [`crate::vendor::Format`] that a single string or mapping can be checked for
//! (the JSON Schema and JMESPath ones are in `form.rs`).

use super::Checker;
use crate::diagnostic::Code;
use crate::vendor::{is_url_or_email, is_web_url};
use intsync_yaml::{Node, Value};

/// [`crate::vendor::Format::Url`]: an absolute http(s) URL.
pub(super) fn check_url(checker: &mut Checker<'_>, field: &str, node: &Node) {
    let Some(text) = node.as_str() else { return };
    if is_web_url(text) {
        return;
    }
    let help = match suggest_url(text) {
        Some(example) => format!("write an absolute URL, e.g. `{example}`"),
        None => "write an absolute URL starting with `https://` (or `http://`)".to_owned(),
    };
    checker
        .error(
            Code::InvalidUrl,
            node.span,
            format!("`{field}` is not an absolute http(s) URL: `{text}`"),
        )
        .label("not an absolute http(s) URL")
        .help(help);
}

/// A valid URL close to `text`, to show in the help: the host added to a bare path
/// (`/icon.png` → `https://example.com/icon.png`), or the scheme to a bare host
/// (`example.com/x` → `https://example.com/x`). `None` when no example would be valid.
fn suggest_url(text: &str) -> Option<String> {
    if text.contains("://") || text.chars().any(char::is_whitespace) {
        return None;
    }
    let example = if text.starts_with('/') {
        format!("https://example.com{text}")
    } else {
        let host = text.split(['/', '?', '#']).next().unwrap_or_default();
        if !host.contains('.') || host.starts_with('.') || host.ends_with('.') {
            return None;
        }
        format!("https://{text}")
    };
    is_web_url(&example).then_some(example)
}

/// [`crate::vendor::Format::UrlOrEmail`]: a URL or an e-mail address (`contact`).
pub(super) fn check_url_or_email(checker: &mut Checker<'_>, field: &str, node: &Node) {
    let Some(text) = node.as_str() else { return };
    if !is_url_or_email(text) {
        checker
            .error(
                Code::InvalidContact,
                node.span,
                format!("`{field}` is neither a URL nor an e-mail address: `{text}`"),
            )
            .label("not a URL or e-mail address")
            .help("write a support e-mail address (help@example.com) or an absolute URL (https://example.com/support)");
    }
}

/// [`crate::vendor::Format::StringValues`]: every value of the mapping is a string.
pub(super) fn check_string_values(checker: &mut Checker<'_>, node: &Node) {
    for (key, value) in node.as_mapping().unwrap_or_default() {
        if !matches!(value.value, Value::String(_)) {
            checker.wrong_type(
                value,
                "a string",
                &format!("the message of error code `{}`", key.name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::suggest_url;
    use crate::vendor::is_web_url;

    #[test]
    fn url_suggestions_are_valid_urls_or_none() {
        let cases = [
            ("/icon.png", Some("https://example.com/icon.png")),
            (
                "example.com/oauth/callback",
                Some("https://example.com/oauth/callback"),
            ),
            ("coolshop.example.com", Some("https://coolshop.example.com")),
            ("ftp://example.com/uninstall", None),
            ("icon.png/", Some("https://icon.png/")),
            ("nothing", None),
            (".hidden/x", None),
            ("a b.com", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = suggest_url(text);
            assert_eq!(got.as_deref(), want, "{text:?}");
            if let Some(example) = got {
                assert!(is_web_url(&example), "{example} is not valid");
                assert!(!example.contains(":///"), "{example}");
            }
        }
    }
}
