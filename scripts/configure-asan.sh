#!/usr/bin/env bash
# Configures the one ASan+UBSan build that the fuzz step and the asan step share (clang, with
# libFuzzer's coverage instrumentation; docs/reliability.md): scripts/fuzz.sh builds the fuzz
# targets in it, scripts/sanitize.sh asan the rest, so the libraries compile once for both.
#
# Usage: scripts/configure-asan.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:?usage: scripts/configure-asan.sh BUILD_DIR}"
command -v clang++ >/dev/null || { echo "configure-asan: clang++ not found (scripts/install-deps.sh installs it)" >&2; exit 2; }
# -O1 -g1: what the sanitizers recommend, with line numbers in stacks and half the compile time.
# No benchmarks: they measure speed, which the sanitizers distort.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSIGNALBOX_FUZZ=ON \
  -DSIGNALBOX_TESTS=ON -DSIGNALBOX_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
