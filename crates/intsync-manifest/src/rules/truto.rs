//! How `TrutoIntegration` values outside a documented set are reported (Truto's Admin API docs;
//! design §4). The sets are Truto's table's ([`crate::vendor::TRUTO_FIELDS`]); the other value
//! rules are driven by the table in `mod.rs`.

use super::Checker;
use crate::diagnostic::{Code, Severity, did_you_mean};
use crate::vendor::{Allowed, FieldDef};
use intsync_yaml::Node;

/// `value` of `def` (e.g. `sharing`) is not in `allowed`.
pub(super) fn not_allowed(
    checker: &mut Checker<'_>,
    def: &FieldDef,
    allowed: &Allowed,
    item: &Node,
    value: &str,
) {
    let field = def.name;
    let values = allowed.values;
    let help = match did_you_mean(value, values.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("`{field}` is one of: {}", values.join(", ")),
    };
    let message = format!(
        "`{field}` must be one of {}; found `{value}`",
        values.join(", ")
    );
    let diagnostic = match allowed.severity {
        Severity::Error => checker.error(Code::InvalidEnumValue, item.span, message),
        Severity::Warning => checker.warning(Code::InvalidEnumValue, item.span, message),
    };
    let label = if field == "sharing" {
        "not a sharing policy".to_owned()
    } else {
        format!("not a documented `{field}`")
    };
    diagnostic.label(label).help(help);
}
