#!/usr/bin/env bash
# Configures and builds Signalbox into build/ (or $SIGNALBOX_BUILD_DIR). Extra arguments go
# to cmake, e.g. -DCMAKE_BUILD_TYPE=Release. Warnings are errors in every build the scripts
# make, so that `scripts/demo.sh` and `scripts/test.sh` share one build: the second one
# compiles nothing again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SIGNALBOX_BUILD_DIR:-$root/build}"
# ccache: paths inside the checkout are hashed relative to it, and the build folder is left out
# of the hash, so every clone of the repository (a CI checkout in a fresh folder) shares one cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
cmake -S "$root" -B "$build" -G Ninja -DSIGNALBOX_WERROR=ON "$@" >/dev/null
ninja -C "$build" -j"${SIGNALBOX_JOBS:-$(nproc)}"
