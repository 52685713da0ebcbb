//! Request-body validation shared by both vendors: a table of fields, each with a type and the
//! documented constraints, checked the same way on create and update.

use serde_json::{Map, Value};

use crate::wire::ApiError;

#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// A string of `min..=max` characters.
    Str {
        min: usize,
        max: Option<usize>,
    },
    Bool,
    Object,
    /// A list of strings; with `allowed`, each must be one of them.
    StrList {
        allowed: Option<&'static [&'static str]>,
    },
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
}

/// What a value must look like beyond its type, as the vendor describes the field.
///
/// The emulator refuses what Ada is known to refuse: a URL field that is not an absolute
/// http(s) URL (the OpenAPI file's `format: url`), and `error_codes` whose messages are not
/// strings ("error codes and their corresponding error message"). The other formats are
/// recorded, not enforced: Ada's documents do not say that it checks them (api-facts A.4), and
/// an emulator stricter than the API would refuse what production accepts; `intsync validate`
/// checks them before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Nothing beyond the type.
    None,
    /// An absolute http(s) URL with a host ([`is_web_url`]). Enforced.
    Url,
    /// A URL or an e-mail address (Ada's `contact`). Recorded only.
    UrlOrEmail,
    /// A JSON Schema (Ada's `configuration_fields`). Recorded only.
    JsonSchema,
    /// A JMESPath into the JSON Schema field (Ada's `identifier_field_path`). Recorded only.
    JmesPath,
    /// An object whose values are all strings (Ada's `error_codes`). Enforced.
    StringValues,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub format: Format,
    pub required_on_create: bool,
    pub nullable: bool,
}

pub(crate) const fn field(
    name: &'static str,
    ty: Ty,
    required_on_create: bool,
    nullable: bool,
) -> Field {
    Field {
        name,
        ty,
        format: Format::None,
        required_on_create,
        nullable,
    }
}

impl Field {
    pub(crate) const fn format(self, format: Format) -> Field {
        Field { format, ..self }
    }
}

/// Parses a request body as a JSON object. Anything else is a 400, never a 500.
pub(crate) fn object_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object; it is empty",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::bad_request(format!(
            "the request body must be a JSON object, not {}",
            type_name(&other)
        ))),
        Err(e) => {
            Err(ApiError::bad_request("the request body is not valid JSON")
                .with_details(e.to_string()))
        }
    }
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An absolute http(s) URL with a host (Ada's `format: url`).
///
/// Whitespace and control characters anywhere are refused: the `url` crate silently drops tabs
/// and newlines and trims spaces and controls at either end, so on its own it would accept text
/// that is not the URL it stands for, and the emulator must never be more lenient than Ada. The
/// manifest crate has its own copy of this rule (`intsync_manifest::vendor::is_web_url`); a test
/// of the root package checks that the two agree.
pub fn is_web_url(text: &str) -> bool {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    url::Url::parse(text).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

/// Checks every key of `body` against `fields` (unknown keys are errors, except those in
/// `extra`), and on create that every required field is present.
pub(crate) fn validate(
    body: &Map<String, Value>,
    fields: &[Field],
    extra: &[&str],
    create: bool,
) -> Result<(), ApiError> {
    for (key, value) in body {
        if extra.contains(&key.as_str()) {
            continue;
        }
        let Some(field) = fields.iter().find(|f| f.name == key) else {
            return Err(
                ApiError::bad_request(format!("unknown field `{key}`")).with_details(key.clone())
            );
        };
        check(field, value).map_err(|reason| {
            ApiError::bad_request(format!("`{key}` {reason}")).with_details(key.clone())
        })?;
    }
    if create {
        let missing: Vec<&str> = fields
            .iter()
            .filter(|f| f.required_on_create && !body.contains_key(f.name))
            .map(|f| f.name)
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::bad_request(format!(
                "missing required fields: {}",
                missing.join(", ")
            ))
            .with_details(missing.join(",")));
        }
    }
    Ok(())
}

/// Why a field's value is refused (the 400's message says it after the field's name).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Invalid {
    Null,
    NotUrl,
    /// A `StringValues` mapping with a value that is not a string: its key, the value's type.
    NotStringValue(String, &'static str),
    /// What the type must be, and what it is.
    Type(&'static str, &'static str),
    TooShort(usize),
    TooLong(usize),
    /// A list item that is not a string: its type.
    ItemType(&'static str),
    /// A value outside the allowed set, as the list item or as the string it is.
    NotAllowed {
        item: bool,
        value: String,
        allowed: &'static [&'static str],
    },
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Null => f.write_str("may not be null"),
            Invalid::NotUrl => f.write_str("must be an absolute http(s) URL"),
            // The key is the client's: quoted as JSON, so no control character reaches a log.
            Invalid::NotStringValue(key, found) => write!(
                f,
                "must map each key to a string, but {} is {found}",
                Value::String(key.clone())
            ),
            Invalid::Type(expected, found) => write!(f, "must be {expected}, not {found}"),
            Invalid::TooShort(min) => write!(
                f,
                "must be at least {min} character{}",
                if *min == 1 { "" } else { "s" }
            ),
            Invalid::TooLong(max) => write!(f, "must be at most {max} characters"),
            Invalid::ItemType(found) => write!(f, "must contain only strings, not {found}"),
            Invalid::NotAllowed {
                item,
                value,
                allowed,
            } => write!(
                f,
                "{} `{value}`, which is not one of: {}",
                if *item { "contains" } else { "is" },
                allowed.join(", ")
            ),
        }
    }
}

fn check(field: &Field, value: &Value) -> Result<(), Invalid> {
    if value.is_null() {
        return if field.nullable {
            Ok(())
        } else {
            Err(Invalid::Null)
        };
    }
    check_type(field.ty, value)?;
    match field.format {
        Format::Url => match value.as_str() {
            Some(s) if !is_web_url(s) => Err(Invalid::NotUrl),
            _ => Ok(()),
        },
        Format::StringValues => match value
            .as_object()
            .and_then(|map| map.iter().find(|(_, v)| !v.is_string()))
        {
            Some((key, v)) => Err(Invalid::NotStringValue(key.clone(), type_name(v))),
            None => Ok(()),
        },
        Format::None | Format::UrlOrEmail | Format::JsonSchema | Format::JmesPath => Ok(()),
    }
}

fn check_type(ty: Ty, value: &Value) -> Result<(), Invalid> {
    let wrong = |expected: &'static str| Err(Invalid::Type(expected, type_name(value)));
    match ty {
        Ty::Str { min, max } => {
            let Some(s) = value.as_str() else {
                return wrong("a string");
            };
            let n = s.chars().count();
            if n < min {
                return Err(Invalid::TooShort(min));
            }
            if let Some(max) = max
                && n > max
            {
                return Err(Invalid::TooLong(max));
            }
            Ok(())
        }
        Ty::Bool if value.is_boolean() => Ok(()),
        Ty::Bool => wrong("a boolean"),
        Ty::Object if value.is_object() => Ok(()),
        Ty::Object => wrong("an object"),
        Ty::StrList { allowed } => {
            let Some(items) = value.as_array() else {
                return wrong("an array of strings");
            };
            for item in items {
                let Some(s) = item.as_str() else {
                    return Err(Invalid::ItemType(type_name(item)));
                };
                if let Some(allowed) = allowed
                    && !allowed.contains(&s)
                {
                    return Err(Invalid::NotAllowed {
                        item: true,
                        value: s.to_owned(),
                        allowed,
                    });
                }
            }
            Ok(())
        }
        Ty::Enum(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => Ok(()),
            Some(s) => Err(Invalid::NotAllowed {
                item: false,
                value: s.to_owned(),
                allowed,
            }),
            None => wrong("a string"),
        },
    }
}

/// Parses a `limit` query parameter: a positive integer, clamped to `max`.
pub(crate) fn limit(raw: Option<String>, default: usize, max: usize) -> Result<usize, ApiError> {
    match raw.as_deref() {
        None | Some("") => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(0) | Err(_) => Err(ApiError::bad_request(format!(
                "`limit` must be a positive integer, not `{text}`"
            ))),
            Ok(n) => Ok(n.min(max)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::is_web_url;

    #[test]
    fn web_urls_refuse_whitespace_and_controls() {
        assert!(is_web_url("https://coolshop.example.com/oauth/callback"));
        assert!(is_web_url("http://localhost:8080/x"));
        for text in [
            "ftp://example.com",
            "example.com/path",
            "https://",
            "https://example.com/a b",
            "https://example.com/a\tb",
            "https://exa\nmple.com",
            " https://example.com",
            "https://example.com\r\n",
            "\u{1}https://example.com",
            "https://example.com/\u{a0}",
        ] {
            assert!(!is_web_url(text), "{text:?}");
        }
    }
}
