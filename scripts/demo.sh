#!/usr/bin/env bash
# From a fresh Debian 12 machine to real signals: installs what is missing, builds, generates
# the demo data, replays it into the embedded store and prints the signals of the heaviest
# users. Run it again at will: it starts from a clean demo store each time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${SIGNALBOX_BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
signalbox="$build/src/signalbox/cli/signalbox"
data="$root/examples/data"
rm -rf "$data/store"
mkdir -p "$data"
echo "== generating demo data into examples/data"
"$build/examples/signalbox-demo-data" --out "$data" 2>&1 | tee "$data/generator.txt"
echo "== checking the config"
"$signalbox" check --config "$root/examples/demo.yaml"
echo "== replaying the events"
"$signalbox" replay --config "$root/examples/demo.yaml" "$data/events.ndjson"
heavy="$(sed -n 's/^heaviest users: \([0-9]*\).*/\1/p' "$data/generator.txt")"
echo "== top categories, saves and last session of user $heavy"
"$signalbox" get --config "$root/examples/demo.yaml" --user "$heavy" \
  --names top_categories_7d,saves,category_mix_30d,last_session_pins
echo
echo "Every signal of that user:  $signalbox get --config examples/demo.yaml --user $heavy"
