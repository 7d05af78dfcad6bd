"""Times as the API takes them: ``as_of`` and event ``ts``."""

from __future__ import annotations

import datetime as _dt
from typing import Union

TimeLike = Union[int, str, _dt.datetime, _dt.date]


def epoch_ms(value: _dt.datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime; a naive one is refused, since
    Python would read it in the machine's local time zone."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"{value!r} has no time zone: give it one (datetime.timezone.utc, or "
            "pandas' tz_localize('UTC')), or pass an ISO 8601 string such as "
            "'2026-11-30T12:00:00Z'"
        )
    delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return delta // _dt.timedelta(milliseconds=1)


def as_of_param(value: TimeLike) -> str:
    """The text of an ``as_of`` parameter: an int is milliseconds, a str is passed as written
    (ISO 8601 or milliseconds; the server checks it), an aware datetime its instant, a date its
    midnight UTC."""
    if isinstance(value, bool):
        raise TypeError("as_of: a bool is not a time")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        return str(epoch_ms(value))
    if isinstance(value, _dt.date):
        return value.isoformat()
    raise TypeError(
        f"as_of: {type(value).__name__} is not a time (int ms, ISO 8601 str, datetime, date)"
    )


def event_ts(value: Union[int, _dt.datetime]) -> int:
    """An event's ``ts``: an int stays, an aware datetime becomes milliseconds."""
    if isinstance(value, _dt.datetime):
        return epoch_ms(value)
    return value
