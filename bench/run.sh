#!/usr/bin/env bash
# The Signalbox benchmarks, each with its baseline measured in the same run:
#
#   bench/run.sh [--quick] [--build DIR] [--work DIR] [--only SECTION]
#
# Builds the Release binaries, generates a deterministic data set (Zipf-skewed users, 90 days,
# a heavy tier of >= 20 000 events per user), then measures ingest (`signalbox replay`, HTTP
# POST batches and a Kafka backlog vs a raw RocksDB append; replay of a shuffled log vs the
# time-ordered one, with peak
# RSS under the sort's memory budget), queries over HTTP (saturation and a fixed offered rate,
# light and heavy users) vs naive recompute and vs a Redis sorted-set service, light users also
# vs the box's HTTP ceiling (nginx serving the same answers as static files), freshness
# (POST -> visible, over HTTP and from Kafka), state per user, what the sequence and sketch
# aggregators cost against a count signal, and how ingest, queries and state scale with the
# number of users and with one user's history. Prints a table and writes bench/results.md; the raw
# numbers stay in WORK/metrics.txt. BUILD defaults to build-release/, WORK to BUILD/bench-work
# (the data is reused while its parameters are unchanged). docs/performance.md explains every row.
#
# Default: about 15 minutes on 2 cores; --quick: ~2.5 minutes on small data, to check the
# harness. Sizes can be changed through the environment (see docs/performance.md).
# --only SECTION runs the build, the data and that section alone, prints its table and leaves
# bench/results.md as it is; the sections that can run alone: signal-costs, scaling, kafka.
# Needs: cmake, ninja, g++, redis-server (scripts/install-deps.sh installs them), and a
# few GB of disk under WORK; GNU time (/usr/bin/time) for peak RSS, which is left out without it;
# Debian's nginx-light (/usr/sbin/nginx) and curl for the HTTP ceiling, which install-deps.sh
# leaves out (apt-get install nginx-light curl). Not run by CI; tests/bench smoke-tests the programs instead.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-release"
work=""
quick=0
only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --build) build="$2"; shift ;;
    --work) work="$2"; shift ;;
    --only) only="$2"; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

case "$only" in
  ""|signal-costs|scaling|kafka) ;;
  *) echo "bench/run.sh: --only $only: no such section (signal-costs, scaling, kafka)" >&2; exit 2 ;;
esac

# --- sizes --------------------------------------------------------------------------------------
seed=42
days=90
end_ms=1767225600000  # 2026-01-01T00:00:00Z: the same data on every run
# Each size may be overridden from the environment (USERS=200000 EVENTS=10000000 bench/run.sh).
if [[ $quick == 1 ]]; then
  users=${USERS:-1000} events=${EVENTS:-50000} pins=${PINS:-5000} heavy_users=${HEAVY_USERS:-2}
  duration=${DURATION:-2} fresh_samples=${FRESH_SAMPLES:-200} http_ingest_events=${HTTP_INGEST_EVENTS:-25000}
  heavy_reps=10 check_sample=20 sort_memory=${SORT_MEMORY:-4MiB} cost_reps=10
  scaling_users=${SCALING_USERS:-1000,10000,100000} scaling_history=${SCALING_HISTORY:-100,1000,10000}
  scaling_background=${SCALING_BACKGROUND:-2000} scaling_queries=200
else
  users=${USERS:-20000} events=${EVENTS:-1000000} pins=${PINS:-20000} heavy_users=${HEAVY_USERS:-10}
  duration=${DURATION:-10} fresh_samples=${FRESH_SAMPLES:-2000} http_ingest_events=${HTTP_INGEST_EVENTS:-500000}
  heavy_reps=100 check_sample=100 sort_memory=${SORT_MEMORY:-64MiB} cost_reps=50
  scaling_users=${SCALING_USERS:-20000,200000,2000000} scaling_history=${SCALING_HISTORY:-1000,10000,100000}
  scaling_background=${SCALING_BACKGROUND:-20000} scaling_queries=1000
fi
# A little above 20 000: a few events of a session running past the end of history are dropped.
heavy_events=${HEAVY_EVENTS:-22000}
# Events of each user of the scaling section's users sweep (its 2 M-user point holds 2 M times
# this many: with 5, that point alone takes about 15 minutes on 2 busy cores).
scaling_each=${SCALING_EVENTS_PER_USER:-2}
connections=16        # keep-alive connections of the saturation runs (and Redis clients)
fixed_connections=64  # of the fixed-rate runs: enough that a slow answer does not stall the offer

# --- build --------------------------------------------------------------------------------------
echo "== building Release binaries in $build"
# A fresh build folder gets no tests (not needed here); an existing one keeps its setting.
configure=(-DCMAKE_BUILD_TYPE=Release)
[[ -f "$build/CMakeCache.txt" ]] || configure+=(-G Ninja -DSIGNALBOX_TESTS=OFF)
cmake -S "$root" -B "$build" "${configure[@]}" >"$build.cmake.log" 2>&1 ||
  { cat "$build.cmake.log" >&2; exit 1; }
rm -f "$build.cmake.log"
# Absolute from here: the runs below start the binaries from inside WORK.
build="$(cd "$build" && pwd)"
if [[ -n "$only" ]]; then
  case "$only" in
    signal-costs) ninja -C "$build" signalbox-demo-data signal_costs >/dev/null ;;
    scaling) ninja -C "$build" signalbox-demo-data scaling_bench >/dev/null ;;
    kafka) ninja -C "$build" signalbox signalbox-demo-data http_load >/dev/null ;;
  esac
else
  ninja -C "$build" signalbox signalbox-demo-data engine_bench http_load redis_baseline signal_costs \
    scaling_bench >/dev/null
fi
signalbox="$build/src/signalbox/cli/signalbox"
generator="$build/examples/signalbox-demo-data"
engine_bench="$build/bench/engine_bench"
http_load="$build/bench/http_load"
redis_baseline="$build/bench/redis_baseline"
signal_costs_bin="$build/bench/signal_costs"
scaling_bin="$build/bench/scaling_bench"
for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 2; }
done
# The HTTP ceiling baseline: not in scripts/install-deps.sh, which CI runs and which needs neither.
nginx="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$nginx" ]] || { echo "bench/run.sh: nginx is missing (apt-get install nginx-light: the HTTP ceiling baseline)" >&2; exit 2; }
command -v curl >/dev/null || { echo "bench/run.sh: curl is missing (apt-get install curl: the HTTP ceiling baseline)" >&2; exit 2; }

work="${work:-$build/bench-work}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
metrics="$work/metrics.txt"
: >"$metrics"
pids=()
temp_dirs=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "${temp_dirs[@]}"
  return 0
}
trap cleanup EXIT
metric() { echo "$1 $2" >>"$metrics"; }
get() { awk -v k="$1" '$1 == k { v = $2 } END { print (v == "" ? "nan" : v) }' "$metrics"; }
fmt() { awk -v x="$1" -v d="${2:-0}" 'BEGIN { if (x == "nan") print "-"; else printf "%.*f", d, x }'; }
ratio() {  # ratio A B [DIGITS (1)]
  awk -v a="$1" -v b="$2" -v d="${3:-1}" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "-"; else printf "%.*fx", d, a / b }'
}
verdict() {  # verdict VALUE OP TARGET
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    if (v == "nan" || v == "") { print "not measured"; exit }
    ok = (op == ">=") ? v >= t : v <= t; print ok ? "**met**" : "**not met**" }'
}
# under_load_verdict LABEL P99_US TARGET_US: a freshness target holds only if its samples were
# all taken while the load beside them still ran (LABEL.under_load), and none of them was still
# unseen after 10 s (LABEL.gave_up: the sampling then ends there, serve having fallen behind).
under_load_verdict() {
  if [[ "$(get "$1.gave_up")" == 1 ]]; then
    echo "**not met** (sample $(fmt "$(get "$1.samples")") of $(fmt "$(get "$1.samples_asked")") still unseen after 10 s)"
    return
  fi
  if [[ "$(get "$1.under_load")" != 1 ]]; then echo "not measured under load"; return; fi
  verdict "$2" "<=" "$3"
}
# half_rate LABEL: half the events/s an ingest run measured, the load beside a freshness run.
half_rate() { awk -v r="$(get "$1.events_per_s")" 'BEGIN { printf "%d", r / 2 }'; }
ms() { awk -v x="$1" 'BEGIN { if (x == "nan") print "-"; else printf "%.2f", x / 1000 }'; }
free_port() {  # a loopback port nobody listens on now
  # Below the kernel's range of ephemeral ports: a port in it may be the local end of an open
  # connection (to redis-server, say), and a server then cannot bind it though nobody listens.
  local p low
  low="$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
  (( low > 11000 )) || { echo "bench/run.sh: the ephemeral port range starts at $low: no room below it" >&2; exit 1; }
  while :; do
    p=$(( 10000 + RANDOM % (low - 10000) ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
now() { date +%s.%N; }
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# --- data ---------------------------------------------------------------------------------------
data="$work/data"
stamp="users=$users events=$events pins=$pins heavy=$heavy_users/$heavy_events days=$days end=$end_ms seed=$seed"
if [[ "$(cat "$data/stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "== generating data: $stamp"
  rm -rf "$data"
  "$generator" --out "$data" --users "$users" --events "$events" --pins "$pins" --days "$days" \
    --end-ms "$end_ms" --seed "$seed" --heavy-users "$heavy_users" --heavy-events "$heavy_events"
  echo "$stamp" >"$data/stamp"
fi
lines="$(wc -l <"$data/events.ndjson")"
# The ts of the first event after those posted by the ingest runs: where the load beside the
# freshness runs begins (see the HTTP freshness run below).
fresh_ts="$(sed -n "$((http_ingest_events + 1))p" "$data/events.ndjson" | grep -o '"ts":[0-9]*' | cut -d: -f2)"
[[ -n "$fresh_ts" ]] || { echo "bench/run.sh: the log has no event past the first $http_ingest_events" >&2; exit 1; }
# Queries are as of stream time once the whole log is in: the ts of its last event, what "now"
# is for a live service. (The data's end, end_ms, is the next midnight, as of which the stream's
# current day would be a whole day of the windows: a moment a live service sees only while its
# stream time crosses midnight.)
query_ms="$(awk 'match($0, /"ts":[0-9]+/) { t = substr($0, RSTART + 5, RLENGTH - 5) + 0; if (t > m) m = t }
                 END { printf "%.0f", m }' "$data/events.ndjson")"
# Heavy users: the tier's; light users: a deterministic sample of those at or below the median.
awk '{ if (match($0, /"user_id":[0-9]+/)) n[substr($0, RSTART + 10, RLENGTH - 10)]++ }
     END { for (u in n) print n[u], u }' "$data/events.ndjson" | sort -k1,1nr -k2,2n >"$work/users_by_count.txt"
head -n "$heavy_users" "$work/users_by_count.txt" | awk '{ print $2 }' >"$work/heavy.txt"
total_users="$(wc -l <"$work/users_by_count.txt")"
tail -n "$(( total_users / 2 ))" "$work/users_by_count.txt" | awk 'NR % 7 == 1 { print $2 }' | head -n 2000 >"$work/light.txt"
heavy_min="$(head -n "$heavy_users" "$work/users_by_count.txt" | tail -n 1 | cut -d' ' -f1)"
light_avg="$(tail -n "$(( total_users / 2 ))" "$work/users_by_count.txt" | awk '{ s += $1 } END { printf "%.0f", s / NR }')"
metric data.events "$lines"
metric data.users "$total_users"
metric data.heavy_min_events "$heavy_min"
metric data.light_avg_events "$light_avg"
echo "== $lines events of $total_users users; $heavy_users heavy users with >= $heavy_min events each"

# Config: examples/demo.yaml with the store and the port of this run (its relative paths
# resolve against the config's folder, where data/ is).
make_config() {  # make_config FILE STORE PORT
  sed -e "s|path: data/store|path: $2|" -e "s|http: 127.0.0.1:8080|http: 127.0.0.1:$3|" \
    "$root/examples/demo.yaml" >"$1"
  grep -q "path: $2" "$1" && grep -q "127.0.0.1:$3" "$1" ||
    { echo "bench/run.sh: examples/demo.yaml changed shape; update make_config" >&2; exit 1; }
}
healthy() {  # healthy PORT: GET /healthz answers 200
  local status
  status="$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n' >&3 &&
              head -n 1 <&3) 2>/dev/null)" || return 1
  [[ "$status" == *" 200 "* ]]
}
start_serve() {  # start_serve CONFIG PORT LOG: sets serve_pid
  (cd "$work" && exec "$signalbox" serve --config "$1") >"$3" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 600); do
    healthy "$2" && return 0
    kill -0 "$serve_pid" 2>/dev/null || { cat "$3" >&2; echo "bench/run.sh: serve exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench/run.sh: serve did not answer in 60 s" >&2; exit 1
}
stop_serve() {
  kill -TERM "$serve_pid"
  wait "$serve_pid" || { echo "bench/run.sh: serve exited with $?" >&2; exit 1; }
}
start_redis() {  # start_redis PORT LOG: a redis-server of this run, without persistence
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$2" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
query_tier() {  # query_tier PORT TIER LABEL_SUFFIX WHAT: saturation, then half of it at a fixed rate
  echo "== $4queries, $2 users: saturation"
  "$http_load" query --port "$1" --users "$work/$2.txt" --as-of "$query_ms" --duration "$duration" \
    --connections "$connections" --label "q_sat_$2$3" --metrics "$metrics"
  local half
  half="$(awk -v r="$(get "q_sat_$2$3.rps")" 'BEGIN { printf "%.0f", r / 2 }')"
  echo "== $4queries, $2 users: fixed rate $half/s (half of saturation)"
  "$http_load" query --port "$1" --users "$work/$2.txt" --as-of "$query_ms" --duration "$duration" \
    --connections "$fixed_connections" --rate "$half" --label "q_fixed_$2$3" --metrics "$metrics"
}
# The box's HTTP ceiling: nginx (Debian's nginx-light) serving each light user's answer, the
# bytes serve gave for it, as a static file at the URL http_load asks for
# (/v1/users/{id}/signals?as_of=...; nginx ignores the query string), measured by the same
# saturation run as q_sat_light: what the box answers over HTTP with no query work at all.
http_ceiling() {  # http_ceiling SERVE_PORT: the nginx_light run
  local dir="$work/nginx" www ceiling_port first worker_user=""
  rm -rf "$dir"
  mkdir -p "$dir"
  www="$(mktemp -d "${TMPDIR:-/tmp}/signalbox-bench-www.XXXXXX")"
  temp_dirs+=("$www")
  echo "== HTTP ceiling: the light users' answers from serve, as static files for nginx"
  awk -v port="$1" -v as_of="$query_ms" -v www="$www" 'NF {
      printf "url = \"http://127.0.0.1:%s/v1/users/%s/signals?as_of=%s\"\n", port, $1, as_of
      printf "output = \"%s/v1/users/%s/signals\"\n", www, $1 }' "$work/light.txt" >"$dir/fetch.curl"
  curl --silent --show-error --fail --fail-early --create-dirs --config "$dir/fetch.curl" ||
    { echo "bench/run.sh: cannot fetch the light users' answers from serve" >&2; exit 1; }
  chmod -R a+rX "$www"  # run as root, nginx's workers read as nobody
  # As root, nginx switches its workers to `user` (nobody; Debian has no group of that name).
  [[ $EUID == 0 ]] && worker_user="user nobody $(id -gn nobody);"
  ceiling_port="$(free_port)"
  # worker_processes auto: one worker per core, nginx's setting for a box of its own, so that
  # nothing caps it below the cores serve's thread pools may take (the load generator shares
  # them). On 2 cores, with http_load on one thread, 1 worker and auto measured alike (10
  # alternating runs of each, within the machine's noise): the client takes a core either way.
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes auto;
$worker_user
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  types { }
  default_type application/json;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  open_file_cache max=10000 inactive=300s;
  open_file_cache_valid 300s;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen 127.0.0.1:$ceiling_port reuseport;
    root $www;
    location /v1/users/ { try_files \$uri =404; }
  }
}
CONF
  "$nginx" -p "$dir/" -c "$dir/nginx.conf" >"$dir/nginx.log" 2>&1 &
  local nginx_pid=$!
  pids+=("$nginx_pid")
  first="$(awk 'NF { print $1; exit }' "$work/light.txt")"
  for _ in $(seq 100); do
    curl --silent --fail --output "$dir/first.json" \
      "http://127.0.0.1:$ceiling_port/v1/users/$first/signals?as_of=$query_ms" 2>/dev/null && break
    kill -0 "$nginx_pid" 2>/dev/null ||
      { cat "$dir/nginx.log" "$dir/error.log" >&2 2>/dev/null; echo "bench/run.sh: nginx exited" >&2; exit 1; }
    sleep 0.1
  done
  cmp -s "$dir/first.json" "$www/v1/users/$first/signals" ||
    { echo "bench/run.sh: nginx does not serve user $first's answer (logs in $dir)" >&2; exit 1; }
  echo "== HTTP ceiling, light users: saturation (nginx, static files)"
  "$http_load" query --port "$ceiling_port" --users "$work/light.txt" --as-of "$query_ms" --duration "$duration" \
    --connections "$connections" --label nginx_light --metrics "$metrics"
  kill -TERM "$nginx_pid"
  wait "$nginx_pid" || { echo "bench/run.sh: nginx exited with $? (logs in $dir)" >&2; exit 1; }
  rm -rf "$www"
}
check_against_redis() {  # check_against_redis PORT LABEL_SUFFIX: sampled answers vs the baseline
  local tier
  for tier in heavy light; do
    "$redis_baseline" check --port "$redis_port" --users "$work/$tier.txt" --pins "$data/pins.tsv" \
      --as-of "$query_ms" --signalbox-port "$1" --sample "$check_sample" --label "check_$tier$2" \
      --metrics "$metrics" || check_ok=0
  done
}

# --- 6. sequence and the sketches against a count signal (functions; run at the end) --------
signal_costs() {  # state bytes per user and query time of each, every signal in a store of its own
  echo "== signal costs: sequence (k 100 and 1000), quantile, top_frequent vs count, $lines events"
  make_config "$work/signal-costs.yaml" store-unused "$(free_port)"
  "$signal_costs_bin" --data "$data" --config "$work/signal-costs.yaml" --work "$work/signal-costs" \
    --reps "$cost_reps" --metrics "$metrics" --out "$work/signal-costs.md" >"$work/signal-costs.log" ||
    { cat "$work/signal-costs.log" >&2; exit 1; }
}
signal_costs_report() {  # the section of the report
  echo "## Sequence and sketches vs count"
  echo
  echo "Each signal alone in a store of its own, loaded with the same $(fmt "$(get signal_costs.events)") events of $(fmt "$(get signal_costs.users)") users (each given a"
  echo "numeric \`dwell\` for the quantile), windows 1d, 7d and 90d; state is the tiles column family after"
  echo "compaction (compressed); queries ask for that signal alone, in process, as of the end of the stream."
  echo "Ratios are against the \`count\` row, measured in the same run."
  echo
  cat "$work/signal-costs.md"
}

# --- 7. scaling: users and one user's history grow (functions; run at the end) ----------------
scaling_ok=1
scaling() {  # each sweep point a fresh store of generated events; the pins table of the data
  echo "== scaling: users $scaling_users ($scaling_each events each); one user's history $scaling_history among $scaling_background users"
  make_config "$work/scaling.yaml" store-unused "$(free_port)"
  local t0 status=0
  t0="$(now)"
  rm -f "$work/scaling.md"
  "$scaling_bin" --config "$work/scaling.yaml" --work "$work/scaling" --users "$scaling_users" \
    --events-per-user "$scaling_each" --history "$scaling_history" --background-users "$scaling_background" \
    --queries "$scaling_queries" --metrics "$metrics" --out "$work/scaling.md" >"$work/scaling.log" 2>&1 || status=$?
  metric scaling.seconds "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')"
  if [[ $status == 1 && -s "$work/scaling.md" ]]; then
    scaling_ok=0  # the tables are written, but some answer differs from the naive recompute
  elif [[ $status != 0 ]]; then
    cat "$work/scaling.log" >&2; exit 1
  fi
}
scaling_report() {  # the section of the report
  echo "## Scaling"
  echo
  echo "Each point a fresh RocksDB store (examples/demo.yaml), its events generated in ts order by a fixed rule and"
  echo "replayed as \`signalbox replay\` does; queries of every signal and view in process (no HTTP), $scaling_queries per"
  echo "point after a warm-up; state is the tiles column family after compaction (compressed). \"vs first\" is the"
  echo "ratio to the sweep's first point, measured in the same run. The section took $(fmt "$(get scaling.seconds)") s."
  echo
  cat "$work/scaling.md"
}
# --- 4b. Kafka: freshness and ingest throughput (functions; run after the Redis store) ---------
# http_load runs a librdkafka mock cluster in process and writes its bootstrap address to a
# file; serve is then started on a fresh store with a `kafka` ingest on it, and http_load
# measures, says done, and keeps the cluster up until serve stopped.
kafka_serve() {  # kafka_serve NAME HTTP_LOAD_MODE ARGS...: one run, its files named after NAME
  local name="$1" port load_pid
  shift
  port="$(free_port)"
  make_config "$work/$name.yaml" "store-$name" "$port"
  rm -rf "$work/store-$name" "$work/$name-brokers.txt" "$work/$name-done.txt"
  "$http_load" "$@" --port "$port" --brokers-file "$work/$name-brokers.txt" --done-file "$work/$name-done.txt" &
  load_pid=$!
  pids+=("$load_pid")
  # kafka-ingest writes the address only once every event is produced: that takes a while.
  for _ in $(seq 3000); do
    [[ -s "$work/$name-brokers.txt" ]] && break
    kill -0 "$load_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -s "$work/$name-brokers.txt" ]] || { echo "bench/run.sh: the Kafka mock cluster of $1 did not start" >&2; exit 1; }
  # The mock broker answers a fetch only when fetch.wait.max.ms (default 500) expires, even when
  # a message arrived meanwhile, where a real broker answers at once: 10 ms keeps the mock's
  # wait from hiding Signalbox's own latency (batch_linger, the commit). A backlog is fetched
  # without that wait either way.
  printf 'ingest:\n  - { kind: http }\n  - { kind: kafka, brokers: "%s", topic: signalbox-bench, group: signalbox-bench, rdkafka.fetch.wait.max.ms: 10 }\n' \
    "$(cat "$work/$name-brokers.txt")" >>"$work/$name.yaml"
  start_serve "$work/$name.yaml" "$port" "$work/serve-$name.log"
  while [[ ! -s "$work/$name-done.txt" ]] && kill -0 "$load_pid" 2>/dev/null; do sleep 0.2; done
  stop_serve
  wait "$load_pid" || { echo "bench/run.sh: http_load $1 failed (serve log: $work/serve-$name.log)" >&2; exit 1; }
}
kafka_skipped=0
kafka() {  # ingest throughput, then freshness under half that; both skipped when `signalbox check` refuses kafka
  make_config "$work/kafka-check.yaml" store-unused "$(free_port)"
  printf 'ingest:\n  - { kind: kafka, brokers: "127.0.0.1:9", topic: signalbox-bench }\n' >>"$work/kafka-check.yaml"
  if ! (cd "$work" && "$signalbox" check --config kafka-check.yaml) >"$work/kafka-check.log" 2>&1; then
    kafka_skipped=1
    echo "== Kafka: skipped (\`signalbox check\` refuses a kafka ingest: $(head -c 300 "$work/kafka-check.log"))"
    return 0
  fi
  # The events of the HTTP ingest run, all produced to the mock cluster before serve starts;
  # timed from serve's start of consumption until /metrics counts them all.
  echo "== ingest: Kafka, $http_ingest_events events consumed by serve from the mock cluster"
  kafka_serve kafka-ingest kafka-ingest --events "$data/events.ndjson" --limit "$http_ingest_events" \
    --label ingest_kafka --metrics "$metrics"
  # Freshness while a second producer sends the log from the same line as the HTTP run's load,
  # at half the rate just measured.
  local load_rate
  load_rate="$(half_rate ingest_kafka)"
  # Fewer samples than over HTTP: a sample takes ~40 ms here (the consumer's fetch wait and
  # batching), so 200 take some 8 s. (The load starts over when the log's rest runs out.)
  local samples=$(( fresh_samples < 200 ? fresh_samples : 200 ))
  echo "== freshness: Kafka produce -> visible, $samples samples, while producing $load_rate events/s (librdkafka mock cluster)"
  kafka_serve kafka kafka-freshness --samples "$samples" --as-of "$end_ms" \
    --ts "$fresh_ts" --load-events "$data/events.ndjson" --load-skip "$http_ingest_events" \
    --load-rate "$load_rate" --load-restamp "$fresh_ts" --label fresh_kafka --metrics "$metrics"
}
kafka_ingest_row() {  # the row of the Ingest table
  local what="Kafka, \`signalbox serve\` consuming from the librdkafka mock cluster"
  if [[ $kafka_skipped == 1 ]]; then
    echo "| $what | skipped | skipped | skipped | skipped |"
  else
    echo "| $what | $(fmt "$(get ingest_kafka.events)") | $(fmt "$(get ingest_kafka.seconds)" 2) | $(fmt "$(get ingest_kafka.events_per_s)") | $(fmt "$(get ingest_kafka.rejected)") |"
  fi
}
kafka_target_rows() {  # the Kafka rows of the Targets table
  echo "| freshness, Kafka produce -> visible, p99 (ms), while consuming $(fmt "$(get fresh_kafka.load_events_per_s)") events/s (offered: half the Kafka ingest rate) | $(ms "$(get fresh_kafka.p99_us)") (p50 $(ms "$(get fresh_kafka.p50_us)")) | | | <= 50 | $(under_load_verdict fresh_kafka "$(get fresh_kafka.p99_us)" 50000) |"
  if [[ $kafka_skipped == 1 ]]; then
    echo "| ingest, Kafka (events/s) | skipped | | | >= 300 000 | skipped |"
  else
    echo "| ingest, Kafka (events/s) | $(fmt "$(get ingest_kafka.events_per_s)") | raw RocksDB append: $(fmt "$(get raw_ingest.events_per_s)") | $(ratio "$(get ingest_kafka.events_per_s)" "$(get raw_ingest.events_per_s)") | >= 300 000 | $(verdict "$(get ingest_kafka.events_per_s)" ">=" 300000) |"
  fi
}
kafka_ingest_note() {  # how the Kafka ingest row was measured, below the Ingest table
  [[ $kafka_skipped == 1 ]] && return 0
  echo
  echo "Kafka ingest: the same events, produced before \`serve\` starts to a topic of $(fmt "$(get ingest_kafka.partitions)") partitions keyed by"
  echo "user_id, timed from when \`serve\` started consuming until its \`/metrics\` counted every event accepted or"
  echo "rejected (polled 50 ms down to 2 ms apart as the end nears). One consumer with the ingest's defaults (\`batch_size: 8192\`, \`batch_linger: 20ms\`):"
  echo "each batch is committed to the store, then its offsets to Kafka."
}
kafka_report() {  # the section alone (--only kafka)
  echo "## Kafka"
  echo
  echo "| what | Signalbox | baseline (same run) | ratio | target | |"
  echo "|---|---|---|---|---|---|"
  kafka_target_rows
  echo
  echo "| path | events | seconds | events/s | rejected |"
  echo "|---|---|---|---|---|"
  kafka_ingest_row
  kafka_ingest_note
}

case "$only" in
  signal-costs) signal_costs; echo; signal_costs_report; exit 0 ;;
  kafka) kafka; echo; kafka_report; exit 0 ;;
  scaling)
    scaling; echo; scaling_report
    [[ $scaling_ok == 1 ]] || { echo "bench/run.sh: some answers differ (see above)" >&2; exit 1; }
    exit 0 ;;
esac

# --- 1. ingest: signalbox replay vs raw RocksDB append ----------------------------------------
port="$(free_port)"
make_config "$work/replay.yaml" store-replay "$port"
rm -rf "$work/store-replay"
echo "== ingest: signalbox replay of $lines events"
t0="$(now)"
(cd "$work" && "$signalbox" replay --quiet --config replay.yaml data/events.ndjson) >"$work/replay.log"
t1="$(now)"
metric replay.events "$lines"
metric replay.seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
metric replay.events_per_s "$(awk -v a="$t0" -v b="$t1" -v n="$lines" 'BEGIN { print n / (b - a) }')"
cat "$work/replay.log"

# --- 1c. replay of a shuffled log vs the same log in time order --------------------------------
# The demo log is in arrival order (ts roughly increasing): a copy sorted by ts, and a shuffled
# copy of it. Both go through plain `signalbox replay`: the ordered one passes the order check
# and is ingested as it is; the shuffled one is sorted first (external sort, --sort-memory).
if [[ "$(cat "$work/order-stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "== replay order: a time-ordered and a shuffled copy of the log"
  awk '{ if (match($0, /"ts":[0-9]+/)) print substr($0, RSTART + 5, RLENGTH - 5) "\t" $0 }' \
    "$data/events.ndjson" | sort -s -n -k1,1 | cut -f2- >"$work/events-ordered.ndjson"
  shuf --random-source=<(yes "$seed") "$work/events-ordered.ndjson" >"$work/events-shuffled.ndjson"
  echo "$stamp" >"$work/order-stamp"
fi
measured_replay() {  # measured_replay LABEL FILE: replay into a fresh store, time and peak RSS
  rm -rf "$work/store-order"
  local t0 t1
  t0="$(now)"
  if [[ -x /usr/bin/time ]]; then
    (cd "$work" && /usr/bin/time -v -o "$work/$1.time" "$signalbox" replay --quiet --config order.yaml \
      --tmp-dir "$work" --sort-memory "$sort_memory" "$2") >"$work/$1.log"
    metric "$1.rss_kb" "$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$1.time")"
  else
    (cd "$work" && "$signalbox" replay --quiet --config order.yaml --tmp-dir "$work" \
      --sort-memory "$sort_memory" "$2") >"$work/$1.log"
  fi
  t1="$(now)"
  metric "$1.events_per_s" "$(awk -v a="$t0" -v b="$t1" -v n="$lines" 'BEGIN { print n / (b - a) }')"
  metric "$1.seconds" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
  cat "$work/$1.log"
}
make_config "$work/order.yaml" store-order "$port"
echo "== replay order: the time-ordered log"
measured_replay replay_ordered "$work/events-ordered.ndjson"
echo "== replay order: the shuffled log, sorted with --sort-memory $sort_memory"
measured_replay replay_shuffled "$work/events-shuffled.ndjson"
rm -rf "$work/store-order"

echo "== baseline ingest (raw RocksDB append), naive store, in-process queries, state sizes"
"$engine_bench" --data "$data" --config "$work/replay.yaml" --tiled "$work/store-replay" \
  --work "$work/engine" --metrics "$metrics" --out "$work/engine.md" --heavy-reps "$heavy_reps" \
  >"$work/engine.log" || { cat "$work/engine.log" >&2; exit 1; }

# --- 2-3. queries over HTTP, and the Redis baseline -------------------------------------------
redis_port="$(free_port)"
start_redis "$redis_port" "$work/redis.log"
echo "== Redis baseline: pipelined ZADD of every event"
"$redis_baseline" load --port "$redis_port" --events "$data/events.ndjson" --metrics "$metrics"

start_serve "$work/replay.yaml" "$port" "$work/serve-query.log"
metric serve.rss_kb_start "$(awk '/VmRSS/ { print $2 }' /proc/"$serve_pid"/status)"
for tier in light heavy; do
  query_tier "$port" "$tier" "" ""
  if [[ $tier == light ]]; then http_ceiling "$port"; fi
  echo "== Redis baseline, $tier users: saturation"
  "$redis_baseline" query --port "$redis_port" --users "$work/$tier.txt" --pins "$data/pins.tsv" \
    --as-of "$query_ms" --duration "$duration" --threads "$connections" --label "redis_$tier" --metrics "$metrics"
done
metric serve.rss_kb "$(awk '/VmRSS/ { print $2 }' /proc/"$serve_pid"/status)"
metric serve.hwm_kb "$(awk '/VmHWM/ { print $2 }' /proc/"$serve_pid"/status)"
echo "== Redis baseline answers vs Signalbox's"
check_ok=1
check_against_redis "$port" ""
stop_serve

# --- 1b, 4. ingest over HTTP, then freshness ---------------------------------------------------
port="$(free_port)"
make_config "$work/http.yaml" store-http "$port"
rm -rf "$work/store-http"
start_serve "$work/http.yaml" "$port" "$work/serve-http.log"
echo "== ingest: HTTP POST of $http_ingest_events events in batches of 1000"
"$http_load" ingest --port "$port" --events "$data/events.ndjson" --limit "$http_ingest_events" \
  --batch 1000 --connections 4 --label ingest_http --metrics "$metrics"
# Freshness is measured while the rest of the log is posted at half the rate just measured
# (the target's condition), from a second http_load that stops when the samples are taken.
fresh_load_rate="$(half_rate ingest_http)"
# The load's events are restamped as they are sent: the ts where that load begins in the log
# plus the time since it began, so that stream time moves as live traffic moves it (the log
# sent at many times its pace would move it by days a second, with a week's expiry every
# second or two). The samples' events carry that first ts, within every window of the query
# as of the log's end.
echo "== freshness: POST -> visible over HTTP, $fresh_samples samples, while posting $fresh_load_rate events/s"
rm -f "$work/fresh-http-stop" "$work/fresh-http-started"
"$http_load" ingest --port "$port" --events "$data/events.ndjson" --skip "$http_ingest_events" \
  --batch 1000 --connections 2 --rate "$fresh_load_rate" --until-file "$work/fresh-http-stop" \
  --started-file "$work/fresh-http-started" --restamp "$fresh_ts" \
  --label fresh_http_load --metrics "$metrics" &
fresh_load_pid=$!
pids+=("$fresh_load_pid")
# The samples start a second after the load sends its first batch (reading the log takes it a
# second or more before that), so that every sample is taken under the load.
for _ in $(seq 600); do [[ -e "$work/fresh-http-started" ]] && break; sleep 0.1; done
[[ -e "$work/fresh-http-started" ]] || { echo "bench/run.sh: the posting beside the freshness run did not start in 60 s" >&2; exit 1; }
sleep 1
"$http_load" freshness --port "$port" --samples "$fresh_samples" --as-of "$end_ms" \
  --ts "$fresh_ts" --label fresh_http --metrics "$metrics"
touch "$work/fresh-http-stop"
wait "$fresh_load_pid" || { echo "bench/run.sh: the posting beside the freshness run failed" >&2; exit 1; }
# Stopped by the file, not by the log's end: the samples were all taken under that load.
metric fresh_http.under_load "$(get fresh_http_load.stopped)"
stop_serve

# --- 5. the Redis store: replay into it, queries of serve on it, memory per user -------------
store_redis_port="$(free_port)"
start_redis "$store_redis_port" "$work/redis-store.log"
port="$(free_port)"
make_config "$work/redis-store.yaml" store-unused "$port"
sed -i "s|storage: { kind: rocksdb, path: store-unused }|storage: { kind: redis, nodes: [127.0.0.1:$store_redis_port] }|" \
  "$work/redis-store.yaml"
grep -q "kind: redis" "$work/redis-store.yaml" ||
  { echo "bench/run.sh: examples/demo.yaml changed shape; update the Redis store config" >&2; exit 1; }
echo "== Redis store: signalbox replay of $lines events"
t0="$(now)"
(cd "$work" && "$signalbox" replay --quiet --config redis-store.yaml data/events.ndjson) >"$work/replay-redis.log"
t1="$(now)"
metric replay_redis.events_per_s "$(awk -v a="$t0" -v b="$t1" -v n="$lines" 'BEGIN { print n / (b - a) }')"
metric replay_redis.seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
metric redis_store.used_memory_bytes "$(redis-cli -p "$store_redis_port" info memory | awk -F: '/^used_memory:/ { print $2 + 0 }')"
metric redis_store.bytes_per_user "$(awk -v m="$(get redis_store.used_memory_bytes)" -v u="$total_users" 'BEGIN { print m / u }')"
start_serve "$work/redis-store.yaml" "$port" "$work/serve-redis.log"
for tier in light heavy; do query_tier "$port" "$tier" _redis_store "Redis store, "; done
echo "== Redis baseline answers vs Signalbox's on the Redis store"
check_against_redis "$port" _redis_store
stop_serve

kafka
signal_costs
scaling
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -------------------------------------------------------------------------------------
rps_sat_light="$(get q_sat_light.rps)"; rps_sat_heavy="$(get q_sat_heavy.rps)"
worst_fixed_p99="$(awk -v a="$(get q_fixed_light.p99_us)" -v b="$(get q_fixed_heavy.p99_us)" 'BEGIN { print (a > b ? a : b) }')"
state_signal="$(get memory.state_per_user_signal)"
heavy_state_signal="$(get memory.heavy_state_per_user_signal)"
ceiling_light_ratio="$(awk -v a="$rps_sat_light" -v b="$(get nginx_light.rps)" 'BEGIN { print (a != "nan" && b != "nan" && b > 0 ? a / b : "nan") }')"
redis_light_ratio="$(awk -v a="$rps_sat_light" -v b="$(get redis_light.rps)" 'BEGIN { print (a != "nan" && b != "nan" && b > 0 ? a / b : "nan") }')"
redis_heavy_ratio="$(awk -v a="$rps_sat_heavy" -v b="$(get redis_heavy.rps)" 'BEGIN { print (b > 0 ? a / b : "nan") }')"
mismatch=$(( $(get inproc_heavy.mismatches | cut -d. -f1) + $(get inproc_light.mismatches | cut -d. -f1) ))
check_differ="$(awk -v a="$(get check_heavy.differing_answers)" -v b="$(get check_light.differing_answers)" 'BEGIN { print a + b }')"

out="$root/bench/results.md"
{
  echo "# Signalbox benchmark results"
  echo
  echo "\`bench/run.sh$([[ $quick == 1 ]] && echo " --quick")\` at $started, commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), load average $load_start at the start, $load_end at the end."
  echo "The whole run took $SECONDS s. Load generators run on the same cores as the server. How to read this: docs/performance.md."
  echo
  echo "Data: $(fmt "$(get data.events)") events of $(fmt "$(get data.users)") users over $days days (seed $seed, examples/demo.yaml: 7 signals, 3 views);"
  echo "$heavy_users heavy users with >= $(fmt "$(get data.heavy_min_events)") events each; light users average $(fmt "$(get data.light_avg_events)") events."
  echo
  echo "## Targets"
  echo
  echo "| what | Signalbox | baseline (same run) | ratio | target | |"
  echo "|---|---|---|---|---|---|"
  echo "| ingest, \`signalbox replay\` (events/s) | $(fmt "$(get replay.events_per_s)") | raw RocksDB append: $(fmt "$(get raw_ingest.events_per_s)") | $(ratio "$(get replay.events_per_s)" "$(get raw_ingest.events_per_s)") | >= 1 000 000 | $(verdict "$(get replay.events_per_s)" ">=" 1000000) |"
  echo "| ingest, HTTP POST batches of 1000 (events/s) | $(fmt "$(get ingest_http.events_per_s)") | raw RocksDB append: $(fmt "$(get raw_ingest.events_per_s)") | $(ratio "$(get ingest_http.events_per_s)" "$(get raw_ingest.events_per_s)") | >= 300 000 | $(verdict "$(get ingest_http.events_per_s)" ">=" 300000) |"
  echo "| queries at saturation, light users (req/s) | $(fmt "$rps_sat_light") | Redis + client compute: $(fmt "$(get redis_light.rps)") | $(ratio "$rps_sat_light" "$(get redis_light.rps)") | >= 50 000 | $(verdict "$rps_sat_light" ">=" 50000) |"
  echo "| queries at saturation, light users vs the HTTP ceiling (nginx static file) | $(fmt "$rps_sat_light") | nginx, the same answers as static files: $(fmt "$(get nginx_light.rps)") | $(ratio "$rps_sat_light" "$(get nginx_light.rps)" 2) | >= 0.75x | $(verdict "$ceiling_light_ratio" ">=" 0.75) |"
  echo "| queries at saturation, light users vs the Redis baseline | $(fmt "$rps_sat_light") | Redis + client compute: $(fmt "$(get redis_light.rps)") | $(ratio "$rps_sat_light" "$(get redis_light.rps)" 2) | >= 1.5x | $(verdict "$redis_light_ratio" ">=" 1.5) |"
  echo "| queries at saturation, heavy users (req/s) | $(fmt "$rps_sat_heavy") | Redis + client compute: $(fmt "$(get redis_heavy.rps)") | $(ratio "$rps_sat_heavy" "$(get redis_heavy.rps)") | >= 10 000 | $(verdict "$rps_sat_heavy" ">=" 10000) |"
  echo "| query p99 at half the saturation rate, worst tier (ms) | $(ms "$worst_fixed_p99") | | | <= 2 | $(verdict "$worst_fixed_p99" "<=" 2000) |"
  echo "| heavy-user query vs naive recompute (p50, in process) | $(fmt "$(get inproc_heavy.tiled_p50_us)") µs | $(fmt "$(get inproc_heavy.naive_p50_us)") µs | $(fmt "$(get inproc_heavy.speedup_p50)" 1)x | >= 50x | $(verdict "$(get inproc_heavy.speedup_p50)" ">=" 50) |"
  echo "| heavy-user queries vs Redis baseline (req/s at saturation) | $(fmt "$rps_sat_heavy") | $(fmt "$(get redis_heavy.rps)") | $(fmt "$redis_heavy_ratio" 1)x | >= 5x | $(verdict "$redis_heavy_ratio" ">=" 5) |"
  echo "| freshness, HTTP POST -> visible, p99 (ms), while posting $(fmt "$(get fresh_http_load.events_per_s)") events/s (offered: half the HTTP ingest rate) | $(ms "$(get fresh_http.p99_us)") (p50 $(ms "$(get fresh_http.p50_us)")) | | | <= 10 | $(under_load_verdict fresh_http "$(get fresh_http.p99_us)" 10000) |"
  kafka_target_rows
  echo "| state per user per windowed signal, average (bytes) | $(fmt "$state_signal") | | | <= 1024 | $(verdict "$state_signal" "<=" 1024) |"
  echo "| state per user per windowed signal, heavy users (bytes) | $(fmt "$heavy_state_signal") | | | <= 8192 | $(verdict "$heavy_state_signal" "<=" 8192) |"
  echo
  echo "Answers: Signalbox vs naive recompute: $mismatch differing signal answers ($(fmt "$(get scaling.differing_answers)") more in the scaling section); Redis baseline vs Signalbox (sampled users, every signal): $check_differ differing answers."
  echo
  echo "## Queries over HTTP (GET /v1/users/{id}/signals, every signal and view)"
  echo
  echo "| run | connections | offered req/s | achieved req/s | p50 ms | p99 ms | p99.9 ms | errors |"
  echo "|---|---|---|---|---|---|---|---|"
  for run in q_sat_light q_fixed_light q_sat_heavy q_fixed_heavy; do
    offered="$(get "$run.offered_rps")"
    echo "| $run | $(fmt "$(get "$run.connections")") | $([[ "$offered" == 0 ]] && echo "closed loop" || fmt "$offered") | $(fmt "$(get "$run.rps")") | $(ms "$(get "$run.p50_us")") | $(ms "$(get "$run.p99_us")") | $(ms "$(get "$run.p999_us")") | $(fmt "$(get "$run.errors")") |"
  done
  for run in nginx_light redis_light redis_heavy; do
    errors=0  # redis_baseline fails on an error rather than counting it
    [[ $run == nginx_* ]] && errors="$(fmt "$(get "$run.errors")")"
    echo "| $run (baseline) | $(fmt "$(get "$run.connections")") | closed loop | $(fmt "$(get "$run.rps")") | $(ms "$(get "$run.p50_us")") | $(ms "$(get "$run.p99_us")") | $(ms "$(get "$run.p999_us")") | $errors |"
  done
  echo
  echo "Queries (Signalbox, nginx, Redis baseline) are as of $query_ms ($(date -u -d "@$(( query_ms / 1000 ))" +%Y-%m-%dT%H:%M:%SZ)), the ts of the log's last event: stream time once it is all in."
  echo "Fixed-rate latencies count from each request's intended send time (no coordinated omission)."
  echo "nginx_light: the HTTP ceiling, nginx serving each light user's answer (the bytes serve gave) as a static file, the run of q_sat_light."
  echo "Redis baseline: pipelined load of $(fmt "$(get redis_load.events)") events at $(fmt "$(get redis_load.events_per_s)") events/s, $(fmt "$(get redis_load.used_memory_bytes)") bytes of Redis memory."
  echo
  echo "## Ingest"
  echo
  echo "| path | events | seconds | events/s | rejected |"
  echo "|---|---|---|---|---|"
  echo "| raw RocksDB append (baseline: decode + put, in process) | $(fmt "$(get raw_ingest.events)") | $(fmt "$(get raw_ingest.seconds)" 2) | $(fmt "$(get raw_ingest.events_per_s)") | - |"
  echo "| \`signalbox replay\` (decode, materialize, dedup, events + tiles, flush) | $(fmt "$(get replay.events)") | $(fmt "$(get replay.seconds)" 2) | $(fmt "$(get replay.events_per_s)") | 0 |"
  echo "| HTTP POST to \`signalbox serve\`, 4 connections | $(fmt "$(get ingest_http.events)") | $(fmt "$(get ingest_http.seconds)" 2) | $(fmt "$(get ingest_http.events_per_s)") | $(fmt "$(get ingest_http.rejected)") |"
  kafka_ingest_row
  echo
  echo "HTTP ingest posts the first events of the 90-day log in order over 4 connections: a batch"
  echo "that stalls while later ones move stream time more than the late horizon (the longest"
  echo "window) ahead would be rejected as too late, so rejected events are possible but unlikely."
  kafka_ingest_note
  echo
  echo "## The Redis store"
  echo
  echo "The same data replayed into \`storage: {kind: redis}\` (one local redis-server), then served by one"
  echo "\`signalbox serve\` on it; the baseline is the Redis sorted-set service of the query table above, on"
  echo "another redis-server of the same machine."
  echo
  echo "| what | Signalbox on Redis | baseline (same run) | ratio |"
  echo "|---|---|---|---|"
  echo "| \`signalbox replay\` into Redis (events/s) | $(fmt "$(get replay_redis.events_per_s)") | pipelined ZADD: $(fmt "$(get redis_load.events_per_s)") | $(ratio "$(get replay_redis.events_per_s)" "$(get redis_load.events_per_s)") |"
  for tier in light heavy; do
    echo "| queries at saturation, $tier users (req/s) | $(fmt "$(get "q_sat_${tier}_redis_store.rps")") | Redis + client compute: $(fmt "$(get "redis_$tier.rps")") | $(ratio "$(get "q_sat_${tier}_redis_store.rps")" "$(get "redis_$tier.rps")") |"
    echo "| query p99 at half saturation, $tier users (ms) | $(ms "$(get "q_fixed_${tier}_redis_store.p99_us")") | | |"
  done
  echo "| Redis memory per user (bytes) | $(fmt "$(get redis_store.bytes_per_user)") | sorted sets of 90 days: $(fmt "$(awk -v m="$(get redis_load.used_memory_bytes)" -v u="$(get data.users)" 'BEGIN { print m / u }')") | |"
  echo
  echo "Answers on the Redis store vs the baseline (sampled users, every signal): $(awk -v a="$(get check_heavy_redis_store.differing_answers)" -v b="$(get check_light_redis_store.differing_answers)" 'BEGIN { print a + b }') differing answers."
  echo
  echo "## Replay order"
  echo
  echo "The same events, time-ordered and shuffled, each replayed into a fresh store by plain \`signalbox replay\`:"
  echo "the ordered log passes the order check and is ingested as it is; the shuffled one goes through"
  echo "the external sort with \`--sort-memory $sort_memory\` (runs on disk, then a merge)."
  echo
  echo "| log | events | seconds | events/s | peak RSS (MiB) | ratio |"
  echo "|---|---|---|---|---|---|"
  echo "| time-ordered (check, then ingest) | $(fmt "$lines") | $(fmt "$(get replay_ordered.seconds)" 2) | $(fmt "$(get replay_ordered.events_per_s)") | $(fmt "$(awk -v k="$(get replay_ordered.rss_kb)" 'BEGIN { print k == "nan" ? "nan" : k / 1024 }')") | 1.0x |"
  echo "| shuffled (check, sort, ingest) | $(fmt "$lines") | $(fmt "$(get replay_shuffled.seconds)" 2) | $(fmt "$(get replay_shuffled.events_per_s)") | $(fmt "$(awk -v k="$(get replay_shuffled.rss_kb)" 'BEGIN { print k == "nan" ? "nan" : k / 1024 }')") | $(ratio "$(get replay_shuffled.events_per_s)" "$(get replay_ordered.events_per_s)") |"
  echo
  echo "## Freshness"
  echo
  echo "Each sample writes one event of a user nobody else writes and reads that user until it shows,"
  echo "while a second client writes the rest of the log at half the ingest rate measured above, each"
  echo "event restamped as it is sent (over Kafka starting over, with new ids, if the log runs out)."
  echo
  echo "| path | samples | ingest meanwhile (events/s achieved / offered) | p50 ms | p99 ms | max ms |"
  echo "|---|---|---|---|---|---|"
  echo "| HTTP POST -> GET shows it | $(fmt "$(get fresh_http.samples)") | $(fmt "$(get fresh_http_load.events_per_s)") / $(fmt "$(get fresh_http_load.offered_events_per_s)") | $(ms "$(get fresh_http.p50_us)") | $(ms "$(get fresh_http.p99_us)") | $(ms "$(get fresh_http.max_us)") |"
  echo "| Kafka produce -> GET shows it | $(fmt "$(get fresh_kafka.samples)") | $(fmt "$(get fresh_kafka.load_events_per_s)") / $(fmt "$(get fresh_kafka.load_offered_events_per_s)") | $(ms "$(get fresh_kafka.p50_us)") | $(ms "$(get fresh_kafka.p99_us)") | $(ms "$(get fresh_kafka.max_us)") |"
  echo
  echo "## Memory and disk"
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| state (tiles) per user, average | $(fmt "$(get memory.state_per_user)") bytes |"
  echo "| raw events per user: Signalbox (7 days + ids) | $(fmt "$(get memory.raw7_per_user)") bytes |"
  echo "| raw events per user: naive baseline (90 days + ids) | $(fmt "$(get memory.raw90_per_user)") bytes |"
  echo "| RocksDB on disk: Signalbox / naive | $(fmt "$(get memory.tiled_disk_bytes)") / $(fmt "$(get memory.naive_disk_bytes)") bytes |"
  echo "| \`signalbox serve\` RSS after the query runs (peak) | $(fmt "$(get serve.rss_kb)") KiB ($(fmt "$(get serve.hwm_kb)") KiB) |"
  echo
  signal_costs_report
  echo
  scaling_report
  echo
  echo "## In process (engine_bench)"
  echo
  sed 's/^## /### /' "$work/engine.md"
} >"$out"
echo
cat "$out"
echo
echo "wrote $out (raw numbers: $metrics)"
[[ $check_ok == 1 && $mismatch == 0 && $scaling_ok == 1 ]] || { echo "bench/run.sh: some answers differ (see above)" >&2; exit 1; }
