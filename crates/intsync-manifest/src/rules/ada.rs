//! Rules for `AdaPlatformIntegration` values (Ada's docs and OpenAPI spec; design §4).

use super::{Checker, check_length, form};
use crate::diagnostic::{Code, did_you_mean};
use crate::model::{ADA_SCOPES, ADA_TAGS};
use crate::tree::{Key, Node, Value};

const NAME_MAX: usize = 160;

/// `well_typed` holds the fields whose type is already known to be right.
pub(super) fn check(checker: &mut Checker<'_>, spec: &Node, well_typed: &[(&Key, &Node)]) {
    for &(key, node) in well_typed {
        match key.name.as_str() {
            "name" => check_length(checker, "name", node, Some((NAME_MAX, Code::NameTooLong))),
            "author" => check_length(
                checker,
                "author",
                node,
                Some((NAME_MAX, Code::AuthorTooLong)),
            ),
            "description" | "call_to_action" => check_length(checker, &key.name, node, None),
            "contact" => check_contact(checker, node),
            "oauth_callback_url" | "uninstallation_url" | "icon_url" => {
                check_url(checker, &key.name, node)
            }
            "tags" => check_tags(checker, node),
            "scopes" => check_scopes(checker, node),
            "error_codes" => check_error_codes(checker, node),
            "configuration_fields" => form::check_schema(checker, node),
            "identifier_field_path" => {
                let form = spec
                    .get("configuration_fields")
                    .map(|(_, n)| n)
                    .filter(|n| matches!(n.value, Value::Mapping(_)));
                form::check_identifier_path(checker, node, form);
            }
            _ => {}
        }
    }
}

/// An absolute `http://` or `https://` URL with a host.
pub(super) fn is_web_url(text: &str) -> bool {
    match url::Url::parse(text) {
        Ok(url) => {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty())
                && !text.chars().any(char::is_whitespace)
        }
        Err(_) => false,
    }
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

fn check_url(checker: &mut Checker<'_>, field: &str, node: &Node) {
    let Some(text) = node.as_str() else { return };
    if text.is_empty() {
        check_length(checker, field, node, None);
    } else if !is_web_url(text) {
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
}

fn check_contact(checker: &mut Checker<'_>, node: &Node) {
    let Some(text) = node.as_str() else { return };
    if text.is_empty() {
        check_length(checker, "contact", node, None);
        return;
    }
    let is_email = |s: &str| {
        email_address::EmailAddress::parse_with_options(
            s,
            email_address::Options::default().without_display_text(),
        )
        .is_ok()
    };
    let ok =
        is_web_url(text) || is_email(text) || text.strip_prefix("mailto:").is_some_and(is_email);
    if !ok {
        checker
            .error(Code::InvalidContact, node.span, format!("`contact` is neither a URL nor an e-mail address: `{text}`"))
            .label("not a URL or e-mail address")
            .help("write a support e-mail address (help@example.com) or an absolute URL (https://example.com/support)");
    }
}

fn check_tags(checker: &mut Checker<'_>, node: &Node) {
    for item in node.as_sequence().unwrap_or_default() {
        let Some(tag) = item.as_str() else { continue };
        if !ADA_TAGS.contains(&tag) {
            let help = match did_you_mean(tag, ADA_TAGS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("Ada accepts only these tags: {}", ADA_TAGS.join(", ")),
            };
            checker
                .error(Code::InvalidTag, item.span, format!("unknown tag `{tag}`"))
                .label("not a documented tag")
                .help(help);
        }
    }
}

fn check_scopes(checker: &mut Checker<'_>, node: &Node) {
    for item in node.as_sequence().unwrap_or_default() {
        let Some(scope) = item.as_str() else { continue };
        if !ADA_SCOPES.contains(&scope) {
            let help = match did_you_mean(scope, ADA_SCOPES.iter().copied()) {
                Some(s) => format!(
                    "did you mean `{s}`? (the API accepts any string, so this is only a warning)"
                ),
                None => format!("documented scopes: {}", ADA_SCOPES.join(", ")),
            };
            checker
                .warning(
                    Code::UnknownScope,
                    item.span,
                    format!("scope `{scope}` is not one Ada documents"),
                )
                .label("undocumented scope")
                .help(help);
        }
    }
}

fn check_error_codes(checker: &mut Checker<'_>, node: &Node) {
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
    use super::{is_web_url, suggest_url};

    #[test]
    fn web_urls() {
        assert!(is_web_url("https://coolshop.example.com/oauth/callback"));
        assert!(is_web_url("http://localhost:8080/x"));
        assert!(!is_web_url("ftp://example.com"));
        assert!(!is_web_url("example.com/path"));
        assert!(!is_web_url("/relative"));
        assert!(!is_web_url("https://exa mple.com"));
        assert!(!is_web_url("https://"));
    }

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
