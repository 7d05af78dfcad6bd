"""Signalbox's Python client: signals over HTTP as dicts, and pandas frames for training data.

    from signalbox import Client
    client = Client("http://127.0.0.1:8080")
    client.ingest([{"user_id": 42, "ts": 1796040000000, "action": "save", "item_id": "p7"}])
    client.get(42, names=["saves"], as_of="2026-11-30T12:00:00Z")
"""

from .client import MAX_BATCH_USERS, Client
from .errors import (
    BackfillError,
    BadRequest,
    NotFound,
    ServerError,
    SignalboxError,
    Unauthorized,
    Unavailable,
)
from .frames import backfill_frame, flatten, to_frame

__all__ = [
    "Client",
    "MAX_BATCH_USERS",
    "SignalboxError",
    "BadRequest",
    "NotFound",
    "Unauthorized",
    "Unavailable",
    "ServerError",
    "BackfillError",
    "to_frame",
    "flatten",
    "backfill_frame",
]
