#!/usr/bin/env python3
"""Writes demo data for sequence_model.yaml: OUT/pins.tsv (pins with categories and 8-float
embeddings) and OUT/events.ndjson (a month of events of 50 users, with dwell times on
engagements and prices on purchases), in time order, ending at --end (default: the start of
today, UTC, so that the signals answered as of now see it). The same arguments give the
same files.

    python3 generate_data.py --out data [--users 50] [--days 30] [--seed 1] [--end 2026-03-01]
"""

import argparse
import datetime
import json
import os
import random

CATEGORIES = ["food", "travel", "diy", "fashion", "home", "garden", "art", "cars"]
ACTIONS = [("click", 55), ("closeup", 20), ("save", 15), ("purchase", 5), ("search", 5)]
DAY_MS = 86_400_000


def write_pins(path, rng, count):
    with open(path, "w", encoding="utf-8") as out:
        out.write("item_id\tcategories\tembedding\n")
        for i in range(count):
            categories = sorted(set(rng.sample(CATEGORIES, rng.randint(1, 2))))
            embedding = ",".join(f"{rng.uniform(-1, 1):.3f}" for _ in range(8))
            out.write(f"pin{i}\t{'|'.join(categories)}\t{embedding}\n")


def pick_action(rng):
    roll = rng.randrange(100)
    for name, share in ACTIONS:
        if roll < share:
            return name
        roll -= share
    return ACTIONS[-1][0]


def write_events(path, rng, users, days, pins, end_ms):
    events = []
    start = end_ms - days * DAY_MS
    for user in range(1, users + 1):
        favourite = rng.randrange(pins)  # each user keeps coming back to some pins
        for _ in range(rng.randint(20, 400)):
            ts = start + rng.randrange(days * DAY_MS)
            action = pick_action(rng)
            event = {"user_id": user, "ts": ts, "action": action}
            if action == "search":
                event["query"] = rng.choice(CATEGORIES) + " ideas"
            else:
                near = (favourite + int(rng.gauss(0, 15))) % pins
                event["item_id"] = f"pin{near}"
                if action == "purchase":
                    event["attrs"] = {"price": round(rng.lognormvariate(3, 0.8), 2)}
                else:
                    event["attrs"] = {"dwell": round(rng.lognormvariate(1.5, 1.0), 1)}
            events.append(event)
    events.sort(key=lambda e: e["ts"])
    with open(path, "w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    return len(events)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to write pins.tsv and events.ndjson to")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--pins", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", help="UTC date the events end at, YYYY-MM-DD (default: today)")
    args = parser.parse_args()
    end = (datetime.date.fromisoformat(args.end) if args.end
           else datetime.datetime.now(datetime.timezone.utc).date())
    end_ms = int(datetime.datetime(end.year, end.month, end.day,
                                   tzinfo=datetime.timezone.utc).timestamp()) * 1000
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    write_pins(os.path.join(args.out, "pins.tsv"), rng, args.pins)
    n = write_events(os.path.join(args.out, "events.ndjson"), rng, args.users, args.days, args.pins, end_ms)
    print(f"wrote {args.pins} pins and {n} events to {args.out}")


if __name__ == "__main__":
    main()
