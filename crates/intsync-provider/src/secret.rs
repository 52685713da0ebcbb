//! A value that never shows itself: `Debug` and `Display` print `***`.

use std::fmt;

/// A token or client secret. The only way to the text is [`Secret::expose`], used where the
/// value is sent (a header) or stored (a 0600 file), never where it is printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// Every secret value this process has seen, so that text leaving the process by a path that
/// does not go through `Secret`'s formatting (a panic message, a third-party error, a log line)
/// can still be scrubbed: see [`redact`].
static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Shorter values are not scrubbed from text: they would match ordinary words.
const MIN_REDACTED_LEN: usize = 6;

/// `text` with every secret this process has seen replaced by `***`.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    let seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut text = std::borrow::Cow::Borrowed(text);
    for secret in seen.iter() {
        if text.contains(secret.as_str()) {
            text = std::borrow::Cow::Owned(text.replace(secret.as_str(), "***"));
        }
    }
    text
}

/// `url` with any userinfo (`user:password@`) of its authority replaced by `***@`: a URL is
/// never printed with a password in it. Works on text that is not a valid URL too (a value a
/// configuration or a server chose), so that no error path can quote one.
pub fn without_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = url.find("://") else {
        return std::borrow::Cow::Borrowed(url);
    };
    let authority_start = scheme_end + 3;
    let authority_len = url[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - authority_start);
    let authority = &url[authority_start..authority_start + authority_len];
    match authority.rfind('@') {
        Some(at) => std::borrow::Cow::Owned(format!(
            "{}***{}",
            &url[..authority_start],
            &url[authority_start + at..]
        )),
        None => std::borrow::Cow::Borrowed(url),
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        if value.len() >= MIN_REDACTED_LEN {
            let mut seen = SEEN
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !seen.contains(&value) {
                seen.push(value.clone());
            }
        }
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn userinfo_is_never_shown() {
        for (url, shown) in [
            ("http://user:pass@host:1/x", "http://***@host:1/x"),
            ("https://a@b@host", "https://***@host"),
            ("https://host/path@x", "https://host/path@x"),
            ("https://host?q=a@b", "https://host?q=a@b"),
            ("http://user:pass@", "http://***@"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(super::without_userinfo(url), shown, "{url}");
        }
    }

    #[test]
    fn never_printed() {
        let s = super::Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?} {s:#?}"), "*** Secret(***) Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn redact_scrubs_every_secret_seen() {
        let a = super::Secret::new("tok-9f8e7d6c5b4a");
        let _b = super::Secret::new("sec-0a1b2c3d4e5f");
        let text = format!(
            "GET failed: Bearer {} and {}",
            a.expose(),
            "sec-0a1b2c3d4e5f"
        );
        assert_eq!(super::redact(&text), "GET failed: Bearer *** and ***");
        assert_eq!(super::redact("nothing secret"), "nothing secret");
    }
}
