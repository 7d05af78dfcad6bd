"""The exceptions the client raises: one base class, one subclass per kind of failure."""

from __future__ import annotations

from typing import Optional


class SignalboxError(Exception):
    """Any failure of a Signalbox call.

    ``status`` is the HTTP status (None when no answer came), ``message`` the server's
    ``error`` text (or a description of what failed), ``body`` the raw answer body.
    """

    def __init__(self, message: str, status: Optional[int] = None, body: str = ""):
        super().__init__(message if status is None else f"{status}: {message}")
        self.message = message
        self.status = status
        self.body = body


class BadRequest(SignalboxError):
    """The server refused the request as asked (400, 405, 413, 431): fix the request."""


class NotFound(SignalboxError):
    """No such route (404): the URL does not point at a Signalbox API."""


class Unauthorized(SignalboxError):
    """The server wants a valid token (401) or refuses this one (403)."""


class Unavailable(SignalboxError):
    """The server was overloaded or unreachable (503, 429, connection failures) through every
    retry."""


class ServerError(SignalboxError):
    """The server failed otherwise (500 and other 5xx)."""


class BackfillError(SignalboxError):
    """``signalbox backfill`` failed; ``message`` is what it printed on stderr."""


def error_for_status(status: int, message: str, body: str) -> SignalboxError:
    """The exception for an answer with HTTP status ``status``."""
    if status in (401, 403):
        return Unauthorized(message, status, body)
    if status == 404:
        return NotFound(message, status, body)
    if status in (429, 503):
        return Unavailable(message, status, body)
    if 400 <= status < 500:
        return BadRequest(message, status, body)
    return ServerError(message, status, body)
