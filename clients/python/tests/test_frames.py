"""pandas frames: to_frame of live answers, and backfill_frame through the real CLI, whose
table must hold the same values as the CLI's JSON backfill, with the query file's label and
id columns passed through."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import pandas

from signalbox import BackfillError, Client, backfill_frame, flatten, to_frame

from .support import Server, binary, write_config
from .test_client import HOUR, make_events, reference

T0 = 1767225600000  # 2026-01-01T00:00:00Z


def same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)
    return a == b


class ToFrame(unittest.TestCase):
    def test_one_row_per_answer_with_zeros_for_missing_group_keys(self):
        with Server() as server:
            client = Client(server.url, timeout=30)
            now = int(time.time() * 1000)
            events = make_events(now)
            self.assertEqual(client.ingest(events)["rejected"], 0)
            users = [1, 2, 6, 77]
            answers = client.batch_get(users, names=["saves", "by_surface"], as_of=now)
        frame = to_frame(answers)
        self.assertEqual(frame.shape[0], 4)
        self.assertEqual(list(frame["user_id"]), users)
        self.assertEqual(list(frame.columns[:3]), ["user_id", "as_of", "as_of_iso"])
        for i, user in enumerate(users):
            expected = reference(events, user, now)
            for window in ("1h", "1d"):
                self.assertEqual(frame[f"saves.{window}"][i], expected["saves"][window])
                for surface in ("home", "search", "board"):
                    column = f"by_surface.{window}.{surface}"
                    if column in frame:
                        self.assertEqual(
                            frame[column][i], expected["by_surface"][window].get(surface, 0)
                        )
        # User 77 was never seen: every count is 0, not missing.
        self.assertTrue((frame.iloc[3, 3:] == 0).all(), frame.iloc[3])
        self.assertEqual(to_frame({"results": answers}).shape, frame.shape)
        self.assertEqual(to_frame(answers[0]).shape, (1, frame.shape[1]))


class BackfillFrame(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="signalbox-frames-")
        self.config = write_config(self.folder)
        self.events = make_events(T0 + 2 * HOUR)
        self.log = os.path.join(self.folder, "events.ndjson")
        with open(self.log, "w", encoding="utf-8") as f:
            for e in self.events:
                f.write(json.dumps(e) + "\n")
        as_ofs = [T0, T0 + HOUR, T0 - 5 * HOUR, T0 + 2 * HOUR, T0 + 90 * 60_000]
        rows = []
        for i in range(30):
            as_of = as_ofs[i % len(as_ofs)]
            rows.append({"user_id": 1 + i % 7, "as_of": as_of, "label": str(i % 2),
                         "request_id": f"00{i}"})
        self.queries = pandas.DataFrame(rows)
        # Some times as ISO 8601, as a data scientist's table may hold them.
        self.queries["as_of"] = [
            pandas.Timestamp(t, unit="ms", tz="UTC").isoformat() if i % 3 == 0 else t
            for i, t in enumerate(self.queries["as_of"])
        ]

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def json_backfill(self, *extra):
        """The CLI's NDJSON answers for the same queries, parsed."""
        queries = os.path.join(self.folder, "q.csv")
        self.queries.to_csv(queries, index=False)
        out = os.path.join(self.folder, "out.ndjson")
        run = subprocess.run(
            [binary(), "backfill", "-q", "--config", self.config, "--events", self.log,
             "--queries", queries, "--out", out, *extra],
            capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        with open(out, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def test_the_frame_holds_the_json_backfills_values_and_the_labels(self):
        frame = backfill_frame(self.config, self.log, self.queries, binary=binary())
        answers = self.json_backfill()
        self.assertEqual(frame.shape[0], len(self.queries))
        self.assertEqual(list(frame["label"]), list(self.queries["label"]))
        self.assertEqual(list(frame["request_id"]), list(self.queries["request_id"]))
        self.assertEqual(list(frame.columns[:5]),
                         ["user_id", "as_of", "as_of_iso", "label", "request_id"])
        checked = 0
        for i, answer in enumerate(answers):
            self.assertEqual(answer["label"], frame["label"][i])
            row = flatten(answer)
            for column, value in row.items():
                cell = frame[column][i]
                if isinstance(value, list):
                    self.assertEqual(json.loads(cell), value, column)
                elif value is None:
                    self.assertTrue(pandas.isna(cell), column)
                else:
                    self.assertTrue(same(cell, value), f"row {i} {column}: {cell} vs {value}")
                checked += 1
            # A group key this answer lacks is a 0 in its row.
            for column in frame.columns:
                if column.startswith("by_surface.") and column not in row:
                    self.assertEqual(frame[column][i], 0, column)
            # And the counts are those of the events.
            expected = reference(self.events, answer["user_id"], answer["as_of"])
            self.assertEqual(answer["signals"]["saves"], expected["saves"])
        self.assertGreater(checked, 250)

    def test_names_and_top_keys_narrow_the_table(self):
        frame = backfill_frame(self.config, [self.log], self.queries, names=["saves", "by_surface"],
                               keys=1, binary=binary())
        signal_columns = [c for c in frame.columns if "." in c]
        self.assertEqual(sorted({c.split(".")[0] for c in signal_columns}), ["by_surface", "saves"])
        for window in ("1h", "1d"):
            self.assertEqual(len([c for c in signal_columns
                                  if c.startswith(f"by_surface.{window}.")]), 1)
        answers = self.json_backfill("--names", "saves,by_surface")
        # The key kept is the one with the largest total over every row and window.
        totals = {}
        for answer in answers:
            for counts in answer["signals"]["by_surface"].values():
                for key, n in counts.items():
                    totals[key] = totals.get(key, 0) + n
        top = max(sorted(totals), key=lambda k: totals[k])
        self.assertIn(f"by_surface.1d.{top}", frame.columns)

    def test_a_failing_backfill_raises_with_the_clis_message(self):
        bad = self.queries.assign(as_of=[T0 // 1000] * len(self.queries))
        with self.assertRaises(BackfillError) as caught:
            backfill_frame(self.config, self.log, bad, binary=binary())
        self.assertIn("looks like seconds", caught.exception.message)


if __name__ == "__main__":
    unittest.main()
