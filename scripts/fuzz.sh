#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan+UBSan, in build-asan/ or
# $SIGNALBOX_ASAN_BUILD_DIR, the build the asan step of scripts/sanitize.sh shares) and runs each for $SIGNALBOX_FUZZ_SECONDS seconds (default 60),
# starting from its seed corpus fuzz/corpus/<target>/. Exits non-zero when a target finds a
# crash, a sanitizer report, a leak, a timeout or an out-of-memory; the input that caused it
# is kept as <build>/findings/<target>/crash-* (or leak-, timeout-, oom-) and the log as
# <build>/findings/<target>.log. Inputs that found new coverage go to <build>/corpus/<target>/,
# never into the repository. Runs $SIGNALBOX_JOBS targets at a time (default: nproc).
#
# Usage: scripts/fuzz.sh [target...]     (default: every target)
#   SIGNALBOX_FUZZ_SECONDS=600 scripts/fuzz.sh http_request_fuzz
#   reproduce: build-asan/fuzz/<target> <build>/findings/<target>/crash-...
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SIGNALBOX_ASAN_BUILD_DIR:-$root/build-asan}"
seconds="${SIGNALBOX_FUZZ_SECONDS:-60}"
jobs="${SIGNALBOX_JOBS:-$(nproc)}"
# One ccache for every clone, as in scripts/build.sh.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

# The longest input each target is given: a little beyond the largest thing the decoder is
# meant to take whole (an event line is at most 64 KiB), small enough to run fast.
declare -A max_len=(
  [event_fuzz]=70000
  [config_fuzz]=16384
  [proto_event_fuzz]=70000
  [http_request_fuzz]=70000
  [table_source_fuzz]=16384
  [fixture_fuzz]=8192
)
# Seconds one input may take before it counts as a hang; a fixture runs a real store.
declare -A timeout=([fixture_fuzz]=30)

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(event_fuzz config_fuzz proto_event_fuzz http_request_fuzz
                                      table_source_fuzz fixture_fuzz)
for t in "${targets[@]}"; do
  [ -n "${max_len[$t]:-}" ] || { echo "fuzz.sh: unknown target $t (known: ${!max_len[*]})" >&2; exit 2; }
done

"$root/scripts/configure-asan.sh" "$build"
ninja -C "$build" -j"$jobs" "${targets[@]}"

run_one() {
  local t="$1"
  local findings="$build/findings/$t"
  mkdir -p "$build/corpus/$t" "$findings"
  # The first folder receives new inputs; the committed seeds are only read.
  if "$build/fuzz/$t" "$build/corpus/$t" "$root/fuzz/corpus/$t" \
      -max_total_time="$seconds" -max_len="${max_len[$t]}" -timeout="${timeout[$t]:-10}" \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
      -artifact_prefix="$findings/" >"$build/findings/$t.log" 2>&1; then
    echo "fuzz: $t: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/findings/$t.log" | grep -o '[0-9]*$') inputs in ${seconds}s)"
  else
    echo "fuzz: $t: FAILED; log: $build/findings/$t.log; input:" $(ls "$findings") >&2
    grep -A30 -m1 'ERROR: \|==ERROR\|runtime error\|deadly signal' "$build/findings/$t.log" >&2 || tail -40 "$build/findings/$t.log" >&2
    return 1
  fi
}

failed=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ "$failed" -eq 0 ] || { echo "fuzz: a target failed (see above)" >&2; exit 1; }
echo "fuzz: every target ran ${seconds}s without a finding"
