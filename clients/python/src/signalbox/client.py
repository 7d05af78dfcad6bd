"""The HTTP client: one object per server, safe to share between threads."""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from .errors import SignalboxError, Unavailable, error_for_status
from .times import TimeLike, as_of_param, event_ts

# The most user ids one batchGet takes (docs/http-api.md); batch_get() splits larger lists.
MAX_BATCH_USERS = 1000

# Answers worth sending the same request again for: overload and transient unavailability.
_RETRY_STATUSES = (429, 503)


class Client:
    """A client of one Signalbox server's HTTP API.

    ``url`` is the server's base URL (``http://127.0.0.1:8080``); ``token``, when given, is
    sent as ``Authorization: Bearer <token>``; ``timeout`` bounds each attempt in seconds.
    A 503 or 429 answer, or a failed connection, is retried up to ``retries`` times, waiting
    the answer's ``Retry-After`` when it has one and otherwise ``backoff`` seconds doubled at
    each attempt (with jitter), never more than ``max_backoff``; then :class:`Unavailable` is
    raised. Retrying is safe for every call: queries change nothing, and ingest is idempotent
    on each event's (user_id, event_id).

    Results are plain dicts and lists, as the API's JSON has them.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8080",
        token: Optional[str] = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
    ):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    # -- queries ---------------------------------------------------------------------------

    def get(
        self,
        user: Union[int, str],
        names: Optional[Sequence[str]] = None,
        as_of: Optional[TimeLike] = None,
    ) -> Dict[str, Any]:
        """One user's signals: ``{"user_id", "as_of", "as_of_iso", "seen", "signals": {...}}``.

        ``names`` picks signals and views (default: all); ``as_of`` is the time to evaluate
        at: int milliseconds, an ISO 8601 string, an aware datetime or a date (default: now).
        """
        params = []
        if names:
            params.append(("names", ",".join(_names(names))))
        if as_of is not None:
            params.append(("as_of", as_of_param(as_of)))
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self._call("GET", f"/v1/users/{_user_id(user)}/signals{query}")

    def batch_get(
        self,
        users: Iterable[Union[int, str]],
        names: Optional[Sequence[str]] = None,
        as_of: Optional[TimeLike] = None,
    ) -> List[Dict[str, Any]]:
        """The answers of :meth:`get` for many users, in the order given, all at one ``as_of``.

        More than 1000 users are sent in several requests; their as_of is then fixed to the
        time of the call when none is given, so that every answer is at the same instant.
        """
        ids = [_user_id(u) for u in users]
        if as_of is None and len(ids) > MAX_BATCH_USERS:
            as_of = int(time.time() * 1000)
        results: List[Dict[str, Any]] = []
        for start in range(0, len(ids), MAX_BATCH_USERS) or [0]:
            body: Dict[str, Any] = {"user_ids": ids[start : start + MAX_BATCH_USERS]}
            if names:
                body["names"] = list(_names(names))
            if as_of is not None:
                body["as_of"] = as_of_param(as_of)
            results.extend(self._call("POST", "/v1/signals:batchGet", json.dumps(body))["results"])
        return results

    def signals(self) -> Dict[str, Any]:
        """The configured signals and views with their parameters:
        ``{"signals": [...], "views": [...]}``."""
        return self._call("GET", "/v1/signals")

    def health(self) -> bool:
        """Whether the server answers ``/healthz``."""
        try:
            return self._call("GET", "/healthz").get("status") == "ok"
        except SignalboxError:
            return False

    # -- ingest ----------------------------------------------------------------------------

    def ingest(self, events: Iterable[Mapping[str, Any]]) -> Dict[str, Any]:
        """Sends events (dicts of docs/events.md; ``ts`` may be an aware datetime) in one
        request. Returns ``{"accepted", "rejected", "errors": [{"index", "error"}],
        "duplicates"}``: invalid events are reported there, not raised."""
        lines = []
        for event in events:
            event = dict(event)
            if "ts" in event:
                event["ts"] = event_ts(event["ts"])
            lines.append(json.dumps(event, separators=(",", ":")))
        return self._call("POST", "/v1/events", "\n".join(lines) + "\n", "application/x-ndjson")

    # -- transport -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Optional[str] = None,
        content_type: str = "application/json",
    ) -> Any:
        attempt = 0
        while True:
            try:
                return self._once(method, path, body, content_type)
            except _Retryable as retry:
                if attempt >= self.retries:
                    raise retry.error from None
                time.sleep(self._wait(attempt, retry.retry_after))
                attempt += 1

    def _once(self, method: str, path: str, body: Optional[str], content_type: str) -> Any:
        data = body.encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.loads(answer.read().decode("utf-8"))
        except urllib.error.HTTPError as answer:
            text = answer.read().decode("utf-8", "replace")
            error = error_for_status(answer.code, _error_message(text), text)
            if answer.code in _RETRY_STATUSES:
                raise _Retryable(error, _retry_after(answer.headers.get("Retry-After")))
            raise error from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as e:
            reason = getattr(e, "reason", e)
            raise _Retryable(
                Unavailable(f"{method} {self.url}{path}: cannot reach the server ({reason})"), None
            )

    def _wait(self, attempt: int, retry_after: Optional[float]) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        wait = self.backoff * (2**attempt)
        return min(wait * (0.5 + random.random() / 2), self.max_backoff)


class _Retryable(Exception):
    def __init__(self, error: SignalboxError, retry_after: Optional[float]):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _user_id(user: Union[int, str]) -> str:
    text = str(user)
    if not text.isdigit():
        raise ValueError(f"user id {user!r} is not an unsigned integer")
    return text


def _names(names: Union[str, Sequence[str]]) -> Sequence[str]:
    return [names] if isinstance(names, str) else list(names)


def _error_message(text: str) -> str:
    try:
        message = json.loads(text).get("error")
    except (ValueError, AttributeError):
        message = None
    return message if isinstance(message, str) else text.strip() or "(no message)"


def _retry_after(header: Optional[str]) -> Optional[float]:
    """Seconds of a ``Retry-After`` header in seconds; None for none or an HTTP date."""
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None
