#!/usr/bin/env bash
# Issues #2 and #16: `intsync validate` on 10,000 generated manifests, wall time and peak memory
# of the real CLI. The corpus is the one `benches/validate.rs` writes (target/bench-manifests).
#
# Usage: bash scripts/bench-validate.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}

cargo bench --bench validate            # in-process figure; also writes the corpus
cargo build --release --quiet
corpus=target/bench-manifests
files=$(find "$corpus" -name '*.yaml' | wc -l)
echo "corpus: $files manifests, $(du -sh --apparent-size "$corpus" | cut -f1)"

# CPU time (user + system) is reported too: on a shared machine it is steadier than wall time.
times=target/bench-validate.times
: >"$times"
for _ in $(seq "$runs"); do
  /usr/bin/time -f '%e %M %U %S' -o target/bench-validate.time \
    target/release/intsync validate "$corpus" --format json >/dev/null
  cat target/bench-validate.time >>"$times"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wall=$(awk '{ print $1 }' "$times" | median)
cpu=$(awk '{ print $3 + $4 }' "$times" | median)
rss=$(awk '$2 > m { m = $2 } END { printf "%.0f", m / 1024 }' "$times")
echo "intsync validate (CLI, $runs runs): median $wall s wall, median $cpu s CPU, peak RSS $rss MB"
