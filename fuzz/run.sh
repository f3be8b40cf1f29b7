#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation on the stable toolchain (the
# flags `cargo fuzz build --sanitizer none` passes; AddressSanitizer needs nightly, and the
# service forbids unsafe code anyway) and runs each target for a while.
#   bash fuzz/run.sh [seconds per target, default 60] [target …]
set -euo pipefail
cd "$(dirname "$0")"
EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(image_intake coordinates phone sync_push sync_changes)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../target/fuzz}"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
PROFILE="${FUZZ_PROFILE:-release}"
# An explicit target keeps the instrumentation off build scripts and proc macros (host code).
HOST=$(rustc -vV | sed -n 's/^host: //p')
cargo build --locked --profile "$PROFILE" --target "$HOST" --bins
dir="$CARGO_TARGET_DIR/$HOST/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")"
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  echo "-- fuzzing $target for ${EACH}s"
  "$dir/$target" -max_total_time="$EACH" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1 "corpus/$target" "seeds/$target"
done
