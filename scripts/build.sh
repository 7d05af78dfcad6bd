#!/usr/bin/env bash
# Configures and builds Signalbox into build/ (or $SIGNALBOX_BUILD_DIR). Extra arguments go
# to cmake, e.g. -DCMAKE_BUILD_TYPE=Release. Warnings are errors in every build the scripts
# make, so that `scripts/demo.sh` and `scripts/test.sh` share one build: the second one
# compiles nothing again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SIGNALBOX_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja -DSIGNALBOX_WERROR=ON "$@" >/dev/null
ninja -C "$build" -j"${SIGNALBOX_JOBS:-$(nproc)}"
