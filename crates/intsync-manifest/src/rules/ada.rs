//! How `AdaPlatformIntegration` values outside a documented set are reported (Ada's docs and
//! OpenAPI spec; design §4). The sets and their severity are Ada's table's
//! ([`crate::vendor::ADA_FIELDS`]); the other value rules are driven by the table in `mod.rs`.

use super::Checker;
use crate::diagnostic::{Code, Severity, did_you_mean};
use crate::vendor::{Allowed, FieldDef};
use intsync_yaml::Node;

/// `value` (an item of the list `def`, e.g. a tag or a scope) is not in `allowed`. An
/// error-level set is one the API enforces (`tags`: `invalid_tag`); a warning-level one is only
/// the documented set of values the API accepts any of (`scopes`: `unknown_scope`).
pub(super) fn not_allowed(
    checker: &mut Checker<'_>,
    def: &FieldDef,
    allowed: &Allowed,
    item: &Node,
    value: &str,
) {
    let field = def.name;
    let noun = field.strip_suffix('s').unwrap_or(field);
    let values = allowed.values;
    let suggestion = did_you_mean(value, values.iter().copied());
    match allowed.severity {
        Severity::Error => {
            let help = match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("Ada accepts only these {field}: {}", values.join(", ")),
            };
            checker
                .error(
                    Code::InvalidTag,
                    item.span,
                    format!("unknown {noun} `{value}`"),
                )
                .label(format!("not a documented {noun}"))
                .help(help);
        }
        Severity::Warning => {
            let help = match suggestion {
                Some(s) => format!(
                    "did you mean `{s}`? (the API accepts any string, so this is only a warning)"
                ),
                None => format!("documented {field}: {}", values.join(", ")),
            };
            checker
                .warning(
                    Code::UnknownScope,
                    item.span,
                    format!("{noun} `{value}` is not one Ada documents"),
                )
                .label(format!("undocumented {noun}"))
                .help(help);
        }
    }
}
