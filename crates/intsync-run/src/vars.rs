//! Sensitive vars in plans (design §11): a plan shows and saves `(sensitive)` where a value
//! comes from a sensitive var, with the var's name and a keyed hash of the value; `apply --plan`
//! resolves the var again, and a value that changed since the plan makes the plan stale.
//!
//! The hash is HMAC-SHA256 keyed by the target's API token (the built-in emulator targets,
//! which have none, by a fixed key): whoever reads a saved plan without the token cannot test
//! guesses of the value against it. A token rotated between plan and apply also makes the plan
//! stale (plan again).

use intsync_plan::{DesiredIntegration, Plan};
use sha2::{Digest, Sha256};

use crate::config::{Endpoint, Target};

/// Why a saved plan's sensitive value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsealed {
    /// The var has no value now (not defined, or its environment variable unset).
    #[error(
        "the saved plan takes `{manifest}`'s value {pointer} from var `{var}` of target `{target}`, which has no value now: {reason}"
    )]
    Missing {
        manifest: String,
        pointer: String,
        var: String,
        target: String,
        reason: String,
    },
    /// The var's value is not the one planned.
    #[error(
        "var `{var}` of target `{target}` changed since the plan was made (`{manifest}`, {pointer})"
    )]
    Changed {
        manifest: String,
        pointer: String,
        var: String,
        target: String,
    },
}

/// The key the hashes of `target`'s values are made with.
fn key(target: &Target) -> Vec<u8> {
    match &target.endpoint {
        Endpoint::Remote { token_env, .. } => std::env::var(token_env)
            .map(|t| t.trim().as_bytes().to_vec())
            .unwrap_or_default(),
        Endpoint::Local { .. } => b"intsync built-in emulator target".to_vec(),
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, in hex.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash a plan keeps of `value`, var `var` of `target`.
fn hash(target: &Target, var: &str, value: &serde_json::Value) -> String {
    let mut message = var.as_bytes().to_vec();
    message.push(0);
    message.extend_from_slice(value.to_string().as_bytes());
    hmac_sha256(&key(target), &message)
}

/// Fills the hash of every sensitive value of `plan`, made from `desired` (`target`'s copies
/// among them) for `target`.
pub fn seal(plan: &mut Plan, desired: &[DesiredIntegration], target: &Target) {
    for sensitive in &mut plan.sensitive {
        let value = desired
            .iter()
            .find(|d| d.manifest == sensitive.manifest && d.routing.goes_to(&target.name))
            .and_then(|d| {
                let mut spec = d.spec.to_map();
                intsync_plan::pointer_mut(&mut spec, &sensitive.pointer).cloned()
            })
            .unwrap_or(serde_json::Value::Null);
        sensitive.hash = hash(target, &sensitive.var, &value);
    }
}

/// Puts back, into a saved `plan`, every sensitive value as `target`'s vars give it now: each
/// must hash as it did when planned.
pub fn unseal(plan: &mut Plan, target: &Target) -> Result<(), Unsealed> {
    for sensitive in plan.sensitive.clone() {
        let value = target
            .vars
            .get(&sensitive.var)
            .ok_or_else(|| "the target defines no such var".to_owned())
            .and_then(|var| var.resolve().map_err(|e| e.to_string()))
            .map_err(|reason| Unsealed::Missing {
                manifest: sensitive.manifest.clone(),
                pointer: sensitive.pointer.clone(),
                var: sensitive.var.clone(),
                target: target.name.clone(),
                reason,
            })?;
        if hash(target, &sensitive.var, &value) != sensitive.hash {
            return Err(Unsealed::Changed {
                manifest: sensitive.manifest,
                pointer: sensitive.pointer,
                var: sensitive.var,
                target: target.name.clone(),
            });
        }
        // The value goes where the plan writes it; the live side stays masked (it is shown,
        // never sent).
        if let Some(map) = plan.values_of(&sensitive.manifest).into_iter().next()
            && let Some(slot) = intsync_plan::pointer_mut(map, &sensitive.pointer)
        {
            *slot = value;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test cases 1 and 2.
    #[test]
    fn hmac_matches_the_rfc_vectors() {
        assert_eq!(
            hmac_sha256(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A key longer than a block is hashed first (test case 6).
        assert_eq!(
            hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
