"""The client against the real server: ingest, get, batch_get and signals, with answers
recomputed here from the events sent, and the errors each bad request raises."""

from __future__ import annotations

import datetime as dt
import time
import unittest

import signalbox
from signalbox import BadRequest, Client, NotFound, Unavailable

from .support import Server, free_port

HOUR = 3_600_000
DAY = 24 * HOUR
SURFACES = ("home", "search", "board")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def at(ms: int, hours: int = 0) -> dt.datetime:
    """The instant `ms` as an aware datetime in UTC+hours (exact, unlike fromtimestamp)."""
    return (EPOCH + dt.timedelta(milliseconds=ms)).astimezone(dt.timezone(dt.timedelta(hours=hours)))


def make_events(now: int):
    """Events of users 1..6 over the last 30 hours before `now`, deterministic."""
    events = []
    for user in range(1, 7):
        for i in range(user * 4):
            ts = now - (i * 7919 * user) % (30 * HOUR) - 1
            events.append(
                {
                    "user_id": user,
                    "ts": ts,
                    "action": "save" if (i + user) % 3 == 0 else "click",
                    "item_id": f"p{user}-{i}",
                    "event_id": f"e{user}-{i}",
                    "attrs": {"surface": SURFACES[(i * user) % 3]},
                }
            )
    return events


def reference(events, user: int, as_of: int):
    """The answer the config's signals give, computed from the events alone."""
    mine = [e for e in events if e["user_id"] == user and e["ts"] <= as_of]

    def within(e, length):
        return as_of - length < e["ts"]

    saves = {
        w: sum(1 for e in mine if e["action"] == "save" and within(e, n))
        for w, n in (("1h", HOUR), ("1d", DAY))
    }
    by_surface = {}
    for w, n in (("1h", HOUR), ("1d", DAY)):
        counts = {}
        for e in mine:
            if within(e, n):
                s = e["attrs"]["surface"]
                counts[s] = counts.get(s, 0) + 1
        by_surface[w] = counts
    newest = sorted(mine, key=lambda e: (e["ts"], e["event_id"]), reverse=True)[:3]
    total = sum(by_surface["1d"].values())
    mix = {k: v / total for k, v in by_surface["1d"].items()} if total else {}
    return {
        "saves": saves,
        "by_surface": by_surface,
        "recent_items": [e["item_id"] for e in newest],
        "surface_mix_1d": mix,
    }


class ClientAgainstServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()
        cls.client = Client(cls.server.url, timeout=30)
        cls.now = int(time.time() * 1000)
        cls.events = make_events(cls.now)
        cls.ingested = cls.client.ingest(cls.events)

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        log = cls.server.log()
        cls.server.cleanup()
        if status != 0:
            raise AssertionError(f"signalbox serve exited {status}: {log}")

    def assert_matches_reference(self, answer, user, as_of):
        expected = reference(self.events, user, as_of)
        signals = answer["signals"]
        self.assertEqual(signals["saves"], expected["saves"])
        self.assertEqual(signals["by_surface"], expected["by_surface"])
        self.assertEqual([r["value"] for r in signals["recent_items"]], expected["recent_items"])
        self.assertEqual(signals["surface_mix_1d"].keys(), expected["surface_mix_1d"].keys())
        for key, share in expected["surface_mix_1d"].items():
            self.assertAlmostEqual(signals["surface_mix_1d"][key], share, places=12)

    def test_ingest_counts_every_event(self):
        self.assertEqual(self.ingested["accepted"], len(self.events))
        self.assertEqual(self.ingested["rejected"], 0, self.ingested)
        again = self.client.ingest(self.events[:5] + [{"user_id": 1, "ts": "soon", "action": "x"}])
        self.assertEqual(again["accepted"], 5)
        self.assertEqual(again["duplicates"], 5)
        self.assertEqual(again["rejected"], 1)
        self.assertEqual(again["errors"][0]["index"], 5)
        self.assertIn("ts", again["errors"][0]["error"])

    def test_ingest_takes_datetimes(self):
        ts = at(self.now - 2 * DAY, hours=-3)
        answer = self.client.ingest([{"user_id": 99, "ts": ts, "action": "save", "event_id": "d"}])
        self.assertEqual(answer["accepted"], 1, answer)
        got = self.client.get(99, names=["saves"], as_of=self.now - 2 * DAY + 1)
        self.assertEqual(got["signals"]["saves"], {"1h": 1, "1d": 1})

    def test_get_matches_the_reference_for_every_spelling_of_as_of(self):
        as_of = self.now
        iso = at(as_of).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for user in range(1, 7):
            by_ms = self.client.get(user, as_of=as_of)
            self.assertEqual(by_ms["user_id"], user)
            self.assertEqual(by_ms["as_of"], as_of)
            self.assertEqual(by_ms["as_of_iso"], iso)
            self.assert_matches_reference(by_ms, user, as_of)
            self.assertEqual(self.client.get(user, as_of=iso), by_ms)
            self.assertEqual(self.client.get(user, as_of=at(as_of, hours=5)), by_ms)
        earlier = self.now - 3 * HOUR - 12345
        self.assert_matches_reference(self.client.get(3, as_of=earlier), 3, earlier)

    def test_get_picks_names_in_order(self):
        answer = self.client.get(2, names=["surface_mix_1d", "saves"], as_of=self.now)
        self.assertEqual(list(answer["signals"]), ["surface_mix_1d", "saves"])
        self.assertEqual(list(self.client.get(2, names="saves")["signals"]), ["saves"])

    def test_batch_get_equals_one_get_per_user(self):
        users = [6, 1, 42, 3, 3]
        batch = self.client.batch_get(users, names=["saves", "by_surface"], as_of=self.now)
        self.assertEqual([a["user_id"] for a in batch], users)
        for user, answer in zip(users, batch):
            self.assertEqual(answer, self.client.get(user, ["saves", "by_surface"], self.now))
        self.assertEqual(self.client.batch_get([]), [])

    def test_batch_get_of_more_than_a_request_holds_answers_at_one_instant(self):
        users = list(range(1, 2501))
        batch = self.client.batch_get(users, names=["saves"])
        self.assertEqual(len(batch), 2500)
        self.assertEqual([a["user_id"] for a in batch], users)
        self.assertEqual(len({a["as_of"] for a in batch}), 1)
        as_of = batch[0]["as_of"]
        for answer in batch[:6]:
            self.assertEqual(
                answer["signals"]["saves"],
                reference(self.events, answer["user_id"], as_of)["saves"],
            )

    def test_signals_lists_the_config(self):
        described = self.client.signals()
        self.assertEqual(
            [s["name"] for s in described["signals"]], ["saves", "by_surface", "recent_items"]
        )
        self.assertEqual([v["name"] for v in described["views"]], ["surface_mix_1d"])
        self.assertTrue(self.client.health())

    def test_bad_requests_raise_bad_request_with_the_servers_message(self):
        with self.assertRaises(BadRequest) as caught:
            self.client.get(1, names=["savez"])
        self.assertEqual(caught.exception.status, 400)
        self.assertIn('"savez"', caught.exception.message)
        with self.assertRaises(BadRequest) as caught:
            self.client.get(1, as_of=self.now // 1000)
        self.assertIn("looks like seconds", caught.exception.message)
        self.assertIn("multiply by 1000", caught.exception.message)
        with self.assertRaises(BadRequest):
            self.client.batch_get([1], as_of="2026-02-30")
        with self.assertRaises(ValueError):
            self.client.get(1, as_of=dt.datetime(2026, 11, 30, 12))  # naive: which zone?
        with self.assertRaises(ValueError):
            self.client.get("abc")

    def test_a_wrong_url_raises_not_found(self):
        with self.assertRaises(NotFound):
            Client(self.server.url + "/nope").signals()

    def test_no_server_raises_unavailable_after_the_retries(self):
        client = Client(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01)
        with self.assertRaises(Unavailable) as caught:
            client.get(1)
        self.assertIsNone(caught.exception.status)
        self.assertIsInstance(caught.exception, signalbox.SignalboxError)
        self.assertFalse(client.health())


if __name__ == "__main__":
    unittest.main()
