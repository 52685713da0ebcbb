//! The planner's hash maps: std's SipHash with fixed keys instead of `RandomState`, so that
//! planning draws no random number (the crate's promise: same inputs, same work, same plan).
//! The keys are the user's manifests and their own account's integrations.

use std::hash::{BuildHasherDefault, DefaultHasher};

/// std's hash map with a fixed hasher (build one with `default()` or [`with_capacity`]).
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<DefaultHasher>>;
/// std's hash set with a fixed hasher.
pub(crate) type HashSet<K> = std::collections::HashSet<K, BuildHasherDefault<DefaultHasher>>;

/// An empty [`HashMap`] with room for `n` entries.
pub(crate) fn with_capacity<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default())
}
