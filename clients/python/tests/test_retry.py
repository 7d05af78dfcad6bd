"""Retries, tokens and status codes against a scripted stand-in server: overload answers
(503, 429) are sent again after Retry-After or a back-off, other errors at once raise their
exception."""

from __future__ import annotations

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from signalbox import BadRequest, Client, ServerError, Unauthorized, Unavailable

ANSWER = {"user_id": 1, "as_of": 1796040000000, "as_of_iso": "2026-11-30T12:00:00.000Z",
          "signals": {"saves": {"1d": 2}}}


class ScriptedServer:
    """Answers each request with the next (status, headers, body) of its script (the last one
    once the script runs out) and records (method, path, headers, body) of every request."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.times = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                server.requests.append((self.command, self.path, dict(self.headers), body))
                server.times.append(time.monotonic())
                status, headers, text = (
                    server.script.pop(0) if len(server.script) > 1 else server.script[0]
                )
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = answer
            do_POST = answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def error(status, message, headers=None):
    return (status, headers or {}, json.dumps({"error": message}))


OK = (200, {}, json.dumps(ANSWER))


class Retries(unittest.TestCase):
    def test_a_503_is_sent_again_after_retry_after(self):
        script = [error(503, "storage unavailable: redis", {"Retry-After": "0.2"}), OK]
        with ScriptedServer(script) as server:
            answer = Client(server.url, retries=3, backoff=5).get(1, names=["saves"])
        self.assertEqual(answer, ANSWER)
        self.assertEqual(len(server.requests), 2)
        self.assertEqual(server.requests[0][:2], server.requests[1][:2])
        # Retry-After (0.2 s) is what was waited, not the 5 s back-off.
        self.assertGreaterEqual(server.times[1] - server.times[0], 0.2)

    def test_overload_without_retry_after_backs_off_and_posts_the_same_body(self):
        batch = (200, {}, json.dumps({"results": [ANSWER]}))
        script = [error(429, "overloaded"), error(503, "overloaded"), batch]
        with ScriptedServer(script) as server:
            answer = Client(server.url, retries=2, backoff=0.01).batch_get([1], names=["saves"])
        self.assertEqual(answer, [ANSWER])
        self.assertEqual(len(server.requests), 3)
        bodies = {r[3] for r in server.requests}
        self.assertEqual(len(bodies), 1)
        self.assertEqual(json.loads(bodies.pop()), {"user_ids": ["1"], "names": ["saves"]})

    def test_gives_up_after_the_retries_with_the_last_answer(self):
        with ScriptedServer([error(503, "storage unavailable: down", {"Retry-After": "0"})]) as server:
            with self.assertRaises(Unavailable) as caught:
                Client(server.url, retries=2).get(1)
        self.assertEqual(len(server.requests), 3)
        self.assertEqual(caught.exception.status, 503)
        self.assertEqual(caught.exception.message, "storage unavailable: down")

    def test_other_errors_are_not_retried(self):
        for status, kind in ((400, BadRequest), (401, Unauthorized), (403, Unauthorized),
                             (500, ServerError)):
            with ScriptedServer([error(status, "no"), OK]) as server:
                with self.assertRaises(kind) as caught:
                    Client(server.url, retries=3, backoff=0.01).get(1)
            self.assertEqual(len(server.requests), 1, status)
            self.assertEqual(caught.exception.status, status)
            self.assertEqual(caught.exception.message, "no")

    def test_a_token_goes_in_the_authorization_header(self):
        with ScriptedServer([OK]) as server:
            Client(server.url, token="s3cret").get(1)
            Client(server.url).get(1)
        self.assertEqual(server.requests[0][2].get("Authorization"), "Bearer s3cret")
        self.assertNotIn("Authorization", server.requests[1][2])

    def test_ingest_sends_ndjson(self):
        accepted = (200, {}, json.dumps({"accepted": 2, "rejected": 0, "errors": [],
                                         "duplicates": 0}))
        with ScriptedServer([accepted]) as server:
            Client(server.url).ingest([{"user_id": 1, "ts": 5, "action": "a"},
                                       {"user_id": 2, "ts": 6, "action": "b"}])
        method, path, headers, body = server.requests[0]
        self.assertEqual((method, path), ("POST", "/v1/events"))
        self.assertEqual(headers["Content-Type"], "application/x-ndjson")
        self.assertEqual([json.loads(line) for line in body.splitlines()],
                         [{"user_id": 1, "ts": 5, "action": "a"},
                          {"user_id": 2, "ts": 6, "action": "b"}])


if __name__ == "__main__":
    unittest.main()
