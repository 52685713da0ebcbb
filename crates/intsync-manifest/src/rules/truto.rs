//! Rules for `TrutoIntegration` values (Truto's Admin API docs; design §4).

use super::{Checker, check_length};
use crate::diagnostic::{Code, did_you_mean};
use crate::model::TRUTO_SHARING;
use crate::tree::{Key, Node};

pub(super) fn check(checker: &mut Checker<'_>, well_typed: &[(&Key, &Node)]) {
    for &(key, node) in well_typed {
        match key.name.as_str() {
            "name" => check_length(checker, "name", node, None),
            "sharing" => {
                let Some(value) = node.as_str() else { continue };
                if !TRUTO_SHARING.contains(&value) {
                    let help = match did_you_mean(value, TRUTO_SHARING.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("`sharing` is one of: {}", TRUTO_SHARING.join(", ")),
                    };
                    checker
                        .error(
                            Code::InvalidEnumValue,
                            node.span,
                            format!("`sharing` must be one of allow, ask, deny; found `{value}`"),
                        )
                        .label("not a sharing policy")
                        .help(help);
                }
            }
            _ => {}
        }
    }
}
