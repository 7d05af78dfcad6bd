#!/usr/bin/env bash
# Installs the Debian 12 packages Signalbox builds and tests with (clang, its sanitizer
# runtimes and llvm-symbolizer are for scripts/fuzz.sh, clang-format for scripts/format.sh; python3-pandas for the Python client's
# frames and its tests, python3-setuptools and python3-pip to install it), and the npm
# packages of the browser test (tests/web). Does nothing when they are all present already;
# uses sudo when not run as root.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

packages=(
  build-essential cmake ninja-build pkg-config ccache
  librdkafka-dev librocksdb-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libboost-dev libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev
  libhiredis-dev redis-server libfasttext-dev fasttext libxxhash-dev zlib1g-dev libmimalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev wrk libssl-dev openssl
  clang clang-format libclang-rt-14-dev llvm-14
  chromium
  python3-pandas python3-setuptools python3-pip python3-wheel python3-venv
)
# The browser test runs on node; a machine that already has node (and npm) keeps its own.
command -v node >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core for tests/web, as pinned in its package-lock.json. It drives the system's
# Chromium: no browser is downloaded.
if [ ! -d "$root/tests/web/node_modules" ]; then
  echo "installing: npm packages of tests/web" >&2
  (cd "$root/tests/web" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
