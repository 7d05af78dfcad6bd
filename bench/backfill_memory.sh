#!/usr/bin/env bash
# Peak memory and time of `signalbox backfill` over a large demo log, against `signalbox
# replay` of the same log as the baseline (the online ingest path, no queries).
#
#   bench/backfill_memory.sh [BUILD_DIR]          (default: build)
#
# Environment: EVENTS (10000000), USERS (100000), DAYS (90), QUERIES (5000), WORK (a fresh
# temporary folder, removed at the end unless given), BASELINE (1; 0 skips the replay run).
# Needs the `signalbox` and `signalbox-demo-data` targets built, GNU time (/usr/bin/time) and
# a few GB of disk under WORK. Takes minutes to tens of minutes: not part of ctest.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
signalbox="$build/src/signalbox/cli/signalbox"
generator="$build/examples/signalbox-demo-data"
events="${EVENTS:-10000000}"
users="${USERS:-100000}"
days="${DAYS:-90}"
queries="${QUERIES:-5000}"
baseline="${BASELINE:-1}"
end_ms=1767225600000  # 2026-01-01T00:00:00Z: the same data on every run

for tool in "$signalbox" "$generator" /usr/bin/time; do
  [[ -x "$tool" ]] || { echo "backfill_memory.sh: $tool is missing (build it first)" >&2; exit 2; }
done
if [[ -n "${WORK:-}" ]]; then
  work="$WORK"
  mkdir -p "$work"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/signalbox-bench-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

echo "== generating $events events of $users users over $days days into $work"
"$generator" --out "$work/data" --events "$events" --users "$users" --days "$days" \
  --end-ms "$end_ms"
cp "$root/examples/demo.yaml" "$work/demo.yaml"

# Queries: users drawn from the log's lines (so busy users are asked about more often, as in
# training data), as_of uniform over the history; the last one at the end of the history, so
# that the whole log is read.
lines="$(wc -l <"$work/data/events.ndjson")"
awk -v every="$(( lines / queries ))" -v want="$queries" -v end="$end_ms" \
  -v span="$(( days * 86400000 ))" \
  'BEGIN { srand(42); print "user_id,as_of" }
   NR % every == 0 && n < want {
     match($0, /"user_id":[0-9]+/); user = substr($0, RSTART + 10, RLENGTH - 10)
     printf "%s,%.0f\n", user, ++n == want ? end : end - span + rand() * span
   }' "$work/data/events.ndjson" >"$work/queries.csv"
echo "== $(( $(wc -l <"$work/queries.csv") - 1 )) queries;" \
  "log $(du -h "$work/data/events.ndjson" | cut -f1)"

# Runs a command under GNU time; prints "<peak RSS MiB> <wall seconds>".
measure() {
  local report="$work/time.txt"
  /usr/bin/time -v -o "$report" "$@" >"$work/stdout.txt"
  cat "$work/stdout.txt" >&2
  awk -F': ' '/Maximum resident set size/ { rss = $2 / 1024 }
              /Elapsed \(wall clock\)/ {
                n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
              END { printf "%.0f %.1f\n", rss, s }' "$report"
}

echo "== backfill"
read -r backfill_rss backfill_s < <(measure "$signalbox" backfill -q --config "$work/demo.yaml" \
  --events "$work/data/events.ndjson" --queries "$work/queries.csv" --out "$work/out.ndjson" \
  --tmp-dir "$work")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
printf 'backfill: peak RSS %s MiB, wall %s s, %.0f events/s\n' "$backfill_rss" "$backfill_s" \
  "$(ratio "$lines" "$backfill_s")"

if [[ "$baseline" == 1 ]]; then
  echo "== baseline: replay of the same log into a fresh store"
  rm -rf "$work/data/store"
  read -r replay_rss replay_s < <(measure "$signalbox" replay -q --config "$work/demo.yaml" \
    "$work/data/events.ndjson")
  printf 'replay:   peak RSS %s MiB, wall %s s, %.0f events/s\n' "$replay_rss" "$replay_s" \
    "$(ratio "$lines" "$replay_s")"
  printf 'backfill / replay: memory %.2f, time %.2f\n' "$(ratio "$backfill_rss" "$replay_rss")" \
    "$(ratio "$backfill_s" "$replay_s")"
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
