#!/usr/bin/env bash
# Issue #2's figure: `intsync validate` on 10,000 generated manifests, wall time and peak memory
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

for _ in $(seq "$runs"); do
  /usr/bin/time -f '%e %M' -o target/bench-validate.time \
    target/release/intsync validate "$corpus" --format json >/dev/null
  cat target/bench-validate.time
done | sort -n | awk -v runs="$runs" '
  { wall[NR] = $1; if ($2 > rss) rss = $2 }
  END { printf "intsync validate (CLI, %d runs): median %.2f s wall, peak RSS %.0f MB\n", runs, wall[int((NR + 1) / 2)], rss / 1024 }'
