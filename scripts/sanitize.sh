#!/usr/bin/env bash
# Builds and runs the tests under the sanitizers, each in a build folder of its own
# (docs/reliability.md):
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/, the clang build that
#         scripts/fuzz.sh shares (scripts/configure-asan.sh): every test, except web_explorer,
#         the browser test (it checks the page in Chromium; the server routes it calls run
#         sanitized in the end-to-end tests), and without the benchmarks (they measure speed,
#         which sanitizers distort).
#   tsan  ThreadSanitizer (-DSIGNALBOX_TSAN=ON) in build-tsan/: the tests that run threads
#         (the HTTP server and its concurrency test, gRPC end to end, concurrent materializing
#         and caching, replay's two-thread pipeline), against sanitized binaries.
# A report from any process, the test's own or a `signalbox` it started, fails the run: each
# is written under <build>/sanitizer-reports/ and printed. tests/tsan.supp lists the only
# suppressions, each with its reason.
#
# Usage: scripts/sanitize.sh [asan] [tsan]      (default: both)
#   SIGNALBOX_ASAN_BUILD_DIR, SIGNALBOX_TSAN_BUILD_DIR: the build folders
#   SIGNALBOX_JOBS: parallel compiles and tests (default: nproc)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${SIGNALBOX_JOBS:-$(nproc)}"
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(asan tsan)
# One ccache for every clone, as in scripts/build.sh.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

# -O1 -g1: what the sanitizers recommend, with line numbers in stacks and a much faster compile
# than the default -O2 -g.
tsan_cmake=(-G Ninja -DSIGNALBOX_WERROR=ON -DSIGNALBOX_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
              "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")

# The tests of the tsan run (ctest -R) and the targets they need. Not Kafka ingest: librdkafka
# starts its threads with C11 thrd_create, which g++ 12's TSan runtime does not intercept, and
# the runtime crashes (SEGV) in those threads; clang 14's runtime does the same (a build with
# -DCMAKE_CXX_COMPILER=clang++ -DSIGNALBOX_TSAN=ON, kafka_ingest_test: SEGV at the first test).
tsan_tests='^(ServeConcurrency|HttpServer|FeatureCache|GrpcEndToEnd)\.|\.Concurrent|^CliTest\.(ReplayThenGet|CompressedFiles)|RocksDbTileVersions\.|^PlanCache\.Threads|^RocksDbReadMoments\.'
tsan_targets=(signalbox signalbox-demo-data serve_test serve_e2e_test materialize_test
              grpc_e2e_test cli_test span_cache_test rocksdb_unflushed_tiles_test
              batch_handover_test rocksdb_tile_versions_test plan_cache_test rocksdb_read_moment_test)

# Fails when any process left a sanitizer report in $1/sanitizer-reports.
check_reports() {
  local dir="$1/sanitizer-reports"
  shopt -s nullglob
  local reports=("$dir"/*)
  shopt -u nullglob
  if [ ${#reports[@]} -gt 0 ]; then
    echo "sanitize: ${#reports[@]} sanitizer report(s) in $dir:" >&2
    for r in "${reports[@]}"; do echo "--- $r" >&2; head -80 "$r" >&2; done
    return 1
  fi
}

run_asan() {
  local build="${SIGNALBOX_ASAN_BUILD_DIR:-$root/build-asan}"
  "$root/scripts/configure-asan.sh" "$build"
  ninja -C "$build" -j"$jobs"
  rm -rf "$build/sanitizer-reports" && mkdir -p "$build/sanitizer-reports"
  local rc=0
  # log_path: a report of a `signalbox` started by a test would otherwise be lost with its stderr.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$build/sanitizer-reports/asan"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$build/sanitizer-reports/ubsan"
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp"
  ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 1200 \
    -E "^web_explorer\$" || rc=$?
  check_reports "$build" || rc=1
  return $rc
}

run_tsan() {
  local build="${SIGNALBOX_TSAN_BUILD_DIR:-$root/build-tsan}"
  cmake -S "$root" -B "$build" "${tsan_cmake[@]}" -DSIGNALBOX_TSAN=ON >/dev/null
  ninja -C "$build" -j"$jobs" "${tsan_targets[@]}"
  rm -rf "$build/sanitizer-reports" && mkdir -p "$build/sanitizer-reports"
  local rc=0
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp:log_path=$build/sanitizer-reports/tsan" \
    ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 1200 -R "$tsan_tests" || rc=$?
  check_reports "$build" || rc=1
  return $rc
}

for kind in "${kinds[@]}"; do
  case "$kind" in
    asan) run_asan ;;
    tsan) run_tsan ;;
    *) echo "sanitize: unknown run $kind (asan or tsan)" >&2; exit 2 ;;
  esac
done
