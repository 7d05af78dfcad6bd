"""The sequence-model example end to end, as its README runs it: generated data replayed into a
store, `signalbox serve` with gRPC, and `sequence-model-client` printing the tensor shapes of a
user's `history` as of now (the client asks without as_of, and the data ends today, as in the
README). The expected shapes are worked out here from the generated events.ndjson and pins.tsv
alone (the newest 50 clicks, closeups and saves of the last 30 days).

python3 sequence_model_client_test.py SIGNALBOX CLIENT SOURCE_DIR WORK_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from free_ports import free_port  # noqa: E402

DAY_MS = 86_400_000
K = 50
HISTORY_ACTIONS = {"click", "closeup", "save"}


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def expected_histories(events_path, pins_path, now_ms):
    """user -> (newest K qualifying events, or None where the 30-day edge makes the count unsure)."""
    dims = set()
    with open(pins_path, encoding="utf-8") as pins:
        next(pins)
        for line in pins:
            dims.add(len(line.rstrip("\n").split("\t")[2].split(",")))
    if len(dims) != 1:
        fail(f"pins.tsv has embeddings of several sizes: {dims}")
    events = [json.loads(line) for line in open(events_path, encoding="utf-8")]
    by_user = {}
    for e in events:
        if e["action"] in HISTORY_ACTIONS and e["ts"] > now_ms - 31 * DAY_MS:
            by_user.setdefault(e["user_id"], []).append(e)
    histories = {}
    for user, mine in by_user.items():
        mine.sort(key=lambda e: e["ts"], reverse=True)
        surely_inside = [e for e in mine if e["ts"] > now_ms - 29 * DAY_MS]
        # Beyond the 7-day retention a window is answered from whole-day tiles, so an event
        # within a day of the 30-day edge may or may not count: use users that do not depend on it.
        if len(surely_inside) >= K:
            chosen = surely_inside[:K]
        elif len(surely_inside) == len(mine):
            chosen = mine
        else:
            continue
        # A tie at the cut would leave which events are kept to the tie rule: skip such users.
        if len(chosen) == K and len(mine) > K and mine[K]["ts"] == chosen[-1]["ts"]:
            continue
        histories[user] = chosen
    return histories, dims.pop()


def main():
    signalbox, client, source_dir, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    example = os.path.join(source_dir, "examples", "sequence_model")
    data = os.path.join(work, "data")
    subprocess.run([sys.executable, os.path.join(example, "generate_data.py"), "--out", data,
                    "--users", "12", "--seed", "5"], check=True)
    http_port, grpc_port = free_port(), free_port()
    config = os.path.join(work, "sequence_model.yaml")
    with open(os.path.join(example, "sequence_model.yaml"), encoding="utf-8") as f:
        text = f.read()
    with open(config, "w", encoding="utf-8") as f:
        f.write(f"server: {{ http: 127.0.0.1:{http_port}, grpc: 127.0.0.1:{grpc_port} }}\n" + text)
    subprocess.run([signalbox, "replay", "--config", config, os.path.join(data, "events.ndjson")],
                   check=True, stdout=subprocess.DEVNULL)

    histories, dim = expected_histories(os.path.join(data, "events.ndjson"), os.path.join(data, "pins.tsv"),
                                        int(time.time() * 1000))
    if len(histories) < 3:
        fail(f"only {len(histories)} users to check")
    server = subprocess.Popen([signalbox, "serve", "--config", config],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1).read()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    fail("signalbox serve did not start")
                time.sleep(0.2)
        checked = 0
        for user, chosen in sorted(histories.items())[:6]:
            run = subprocess.run([client, f"127.0.0.1:{grpc_port}", str(user)],
                                 capture_output=True, text=True, timeout=60)
            if run.returncode != 0:
                fail(f"sequence-model-client for user {user} exited {run.returncode}: {run.stderr}")
            out = run.stdout
            n = len(chosen)
            dwell = sum(1 for e in chosen if "dwell" in e.get("attrs", {}))
            want = [
                f"user {user}: history of {n} events",
                f"  ts: int64 column [{n}] ({n} present)",
                f"  action: string column [{n}] ({n} present)",
                f"  item_id: string column [{n}] ({n} present)",
                f"  pin.embedding: float32 matrix [{n}, {dim}] ({n} present)",
                f"  attrs.dwell: float64 column [{n}] ({dwell} present)",
            ]
            for line in want:
                if line not in out.splitlines():
                    fail(f"user {user}: expected the line {line!r} in:\n{out}")
            if not re.search(r"^  pin\.categories: ragged strings \[%d, <=[1-9]\d*\]" % n, out, re.M):
                fail(f"user {user}: no ragged categories column of {n} rows in:\n{out}")
            if not re.search(r"^  dwell 30d: p0\.5=\S+ p0\.9=\S+ p0\.99=\S+$", out, re.M):
                fail(f"user {user}: no 30-day dwell quantiles in:\n{out}")
            checked += 1
        print(f"ok: {checked} users' sequence tensors as the events say")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
