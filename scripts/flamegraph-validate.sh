#!/usr/bin/env bash
# The flame graph of `intsync validate` on the benchmark corpus (issue #16), as committed in
# docs/: perf samples of a release build with line tables, folded by inferno, shortened by
# scripts/flamegraph-simplify.py.
#
# Usage: bash scripts/flamegraph-validate.sh OUT.svg [TITLE]
# (The "before" graph in docs/ was made the same way from the previous release binary, whose
# symbol table and unwind tables are kept: `perf record ... /path/to/old/intsync validate ...`.)
# Needs: perf (Debian's linux-perf) and inferno (`cargo install inferno`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: flamegraph-validate.sh OUT.svg [TITLE]}
title=${2:-intsync validate, 10,000 manifests}
cargo bench --bench validate >/dev/null # writes the corpus (target/bench-manifests)
cargo build --profile release --config 'profile.release.debug="line-tables-only"' \
  --config 'profile.release.strip="none"' --target-dir target/prof
perf record -F 999 -g --call-graph dwarf,16384 -o target/prof/validate.perf \
  target/prof/release/intsync validate target/bench-manifests --format json >/dev/null
perf script -i target/prof/validate.perf 2>/dev/null | inferno-collapse-perf \
  | python3 scripts/flamegraph-simplify.py \
  | inferno-flamegraph --title "$title" --width 1200 --minwidth 3 >"$out"
echo "wrote $out"
