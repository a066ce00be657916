#!/usr/bin/env bash
# The README's test command: installs what is missing, builds Release (gcc), ASan+UBSan
# (gcc) and the libFuzzer targets (clang), runs ctest on each (Release includes a
# 2-minute soak), runs the core and integration suites (multi-shard, reloads, the
# logger and prober threads) under ThreadSanitizer, replays every fuzz corpus, fuzzes
# each target briefly, and builds the benchmarks. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

step() { printf '\n=== %s ===\n' "$*"; }

step "dependencies"
tools/install-deps.sh

step "layering"
tools/check_layering.sh

step "format"
tools/check_format.sh

for preset in release asan; do
  step "build: $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  if [ "$preset" = release ]; then
    cmake --build --preset release --target checkheaders
  fi
  step "ctest: $preset"
  ctest --preset "$preset" -j2
done

step "build: tsan (core and integration suites)"
cmake --preset tsan >/dev/null
cmake --build --preset tsan
step "ctest: tsan"
TSAN_OPTIONS="halt_on_error=1" ctest --preset tsan -j2

step "build: fuzz (clang, libFuzzer + ASan + UBSan)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
step "ctest: fuzz (corpus replay under libFuzzer)"
ctest --preset fuzz -j2

step "fuzz: ${FUZZ_SECONDS}s per target"
for target in build/fuzz/fuzz/*_fuzz; do
  name=$(basename "$target")
  work=$(mktemp -d)
  # Fuzz from a copy so the committed seed corpus is not rewritten.
  cp -r "fuzz/corpus/$name/." "$work/"
  if ! "$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -artifact_prefix="$work/" \
    "$work" >"$work.log" 2>&1; then
    grep -vE '^#[0-9]+' "$work.log" | tail -40
    echo "fuzz: $name failed; the input is saved above (artifact_prefix $work/)"
    exit 1
  fi
  echo "$name: $(grep -E 'stat::number_of_executed_units' "$work.log" | awk '{print $2}') runs," \
    "$(grep -oE 'cov: [0-9]+' "$work.log" | tail -1)"
  rm -rf "$work" "$work.log"
done

step "benchmarks build (release)"
ls build/release/bench/*_bench
echo "all checks passed"
