#!/usr/bin/env bash
# Writes the seeds of proto_event_fuzz (fuzz/corpus/proto_event_fuzz/) from the text format
# below with `protoc --encode`. The seeds are committed; run this after changing the text.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/fuzz/corpus/proto_event_fuzz"
encode() {  # encode MESSAGE FILE < text
  protoc --proto_path="$root/proto" --encode="signalbox.v1.$1" \
    "$root/proto/signalbox/v1/signalbox.proto" >"$out/$2"
}
mkdir -p "$out"

encode IngestEventsRequest two_events.bin <<'TEXT'
events { user_id: 42 ts: 1700000000000 action: "click" item_id: "pin1"
         attrs { key: "country" value { string_value: "FR" } }
         attrs { key: "price" value { number_value: 12.5 } } }
events { user_id: 7 ts: 1700000000001 action: "search" query: "red shoes" event_id: "e-7" }
TEXT

# Missing required fields, a bad action, an attribute without a value, a non-finite number.
encode IngestEventsRequest rejected_events.bin <<'TEXT'
events { ts: 1 action: "x" }
events { user_id: 1 ts: -5 action: "BAD ACTION"
         attrs { key: "empty" value { } } attrs { key: "inf" value { number_value: inf } } }
events { }
TEXT

# A Kafka message: one bare Event, at the extremes of its integer fields.
encode Event kafka_event.bin <<'TEXT'
user_id: 18446744073709551615 ts: 9223372036854775807 action: "view" item_id: "a"
TEXT
