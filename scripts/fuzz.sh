#!/usr/bin/env bash
# Runs both fuzz targets for SECONDS each (default 600), at the same time, one core each.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable toolchain is told to accept the
# nightly-only flags cargo-fuzz passes (RUSTC_BOOTSTRAP=1). New corpus entries go to a scratch
# directory, not to the committed seed corpus; crashes land in fuzz/artifacts/<target>/.
#
#     bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
work="${FUZZ_WORK:-$(mktemp -d)}"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -O
pids=()
for target in manifest response; do
  mkdir -p "$work/$target"
  cargo fuzz run -O "$target" "$work/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    > "$work/$target.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for target in manifest response; do
  echo "== $target"
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|stat::new_units_added|^#[0-9]+ +DONE|ERROR|SUMMARY" "$work/$target.log" || true
  echo "corpus: $(ls "$work/$target" | wc -l) entries; log: $work/$target.log"
done
exit "$status"
