"""A data scientist's first hour with Signalbox, as notebook cells (# %%).

Starts `signalbox serve` on a fresh store, sends a day of events, reads signals as dicts and
as a DataFrame, then builds a labelled, point-in-time training frame from the same events
with `signalbox backfill`. Run from the repository's root after building:

    SIGNALBOX_BIN=build/src/signalbox/cli/signalbox PYTHONPATH=clients/python/src \\
      python3 examples/python/first_hour.py
"""

# %% Setup: a config with three signals and a view, and a server on a free port.
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

import pandas

from signalbox import Client, backfill_frame, to_frame

signalbox_bin = os.environ.get("SIGNALBOX_BIN", "build/src/signalbox/cli/signalbox")
folder = tempfile.mkdtemp(prefix="signalbox-first-hour-")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
config = os.path.join(folder, "signalbox.yaml")
with open(config, "w") as f:
    f.write(f"""
server: {{ http: 127.0.0.1:{port} }}
storage: {{ kind: rocksdb, path: store }}
event_store: {{ retention: 7d }}
signals:
  - {{ name: saves, aggregator: count, actions: {{ save: 1 }}, windows: [1h, 1d] }}
  - {{ name: topic_counts, aggregator: count, group_by: attrs.topic, windows: [1h, 1d] }}
  - {{ name: recent_items, aggregator: last_k, value: item_id, k: 5 }}
views:
  - {{ name: top_topics_1d, signal: topic_counts, window: 1d, transform: top_k, k: 3 }}
""")
server = subprocess.Popen([signalbox_bin, "serve", "--config", config],
                          stderr=subprocess.DEVNULL)
client = Client(f"http://127.0.0.1:{port}")
while not client.health():
    time.sleep(0.05)

# %% Ingest: a day of clicks and saves of 50 users, ending now.
rng = random.Random(7)
now = int(time.time() * 1000)
topics = ["food", "travel", "diy", "fashion", "cars"]
events = []
for i in range(5000):
    user = rng.randrange(1, 51)
    events.append({
        "user_id": user,
        "ts": now - rng.randrange(24 * 3600 * 1000),
        "action": "save" if rng.random() < 0.2 else "click",
        "item_id": f"p{rng.randrange(300)}",
        "event_id": f"e{i}",
        "attrs": {"topic": topics[(user + rng.randrange(3)) % len(topics)]},
    })
events.sort(key=lambda e: e["ts"])
print(client.ingest(events))

# %% Read signals: one user as a dict, then many as a DataFrame.
print(client.get(7, names=["saves", "top_topics_1d"]))
frame = to_frame(client.batch_get(range(1, 51), names=["saves", "topic_counts"]))
print(frame.iloc[:5, :8])

# %% Stop the server (it flushes its store and exits 0).
server.terminate()
server.wait()

# %% Training data: signals as of each labelled moment, computed from the event log.
log = os.path.join(folder, "events.ndjson")
pandas.DataFrame(events).to_json(log, orient="records", lines=True)
queries = pandas.DataFrame({
    "user_id": [rng.randrange(1, 51) for _ in range(200)],
    "as_of": [pandas.Timestamp(now - rng.randrange(12 * 3600 * 1000), unit="ms", tz="UTC")
              for _ in range(200)],
    "label": [rng.randrange(2) for _ in range(200)],
})
training = backfill_frame(config, log, queries, names=["saves", "topic_counts"], keys=3,
                          binary=signalbox_bin)
print(training.iloc[:5, :9])
print("training frame:", training.shape)

# %% Clean up the store and the log.
shutil.rmtree(folder)
