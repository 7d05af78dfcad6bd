#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest.
#
# Tests run two per core (SIGNALBOX_TEST_JOBS to change it): half of a test's time is spent
# waiting on the servers, processes and Kafka brokers it starts, so with one test per core the
# suite keeps the cores only about half busy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SIGNALBOX_BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j"${SIGNALBOX_TEST_JOBS:-$((2 * $(nproc)))}" --timeout 900
