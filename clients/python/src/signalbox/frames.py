"""pandas DataFrames of signals: flat tables of answers, and backfills run by the CLI.

pandas is imported only here, when a frame is asked for: the client itself needs none.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess
import tempfile
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import BackfillError, BadRequest
from .times import epoch_ms

PathLike = Union[str, "os.PathLike[str]"]


def _pandas():
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError(
            "signalbox frames need pandas: pip install pandas (or apt install python3-pandas)"
        ) from e
    return pandas


def flatten(answer: Mapping[str, Any]) -> Dict[str, Any]:
    """One answer as ``{column: value}``: the top-level fields (user_id, as_of, as_of_iso, ...)
    as they are, and each signal's result followed down its objects to the leaves, named
    ``signal.window.key``; lists stay lists."""
    row: Dict[str, Any] = {}
    for field, value in answer.items():
        if field != "signals":
            row[field] = value
    for name, result in (answer.get("signals") or {}).items():
        _flatten_into(row, name, result)
    return row


def _flatten_into(row: Dict[str, Any], prefix: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten_into(row, f"{prefix}.{key}", item)
    else:
        row[prefix] = value


def to_frame(answers: Union[Mapping[str, Any], Iterable[Mapping[str, Any]]]):
    """A DataFrame of answers of :meth:`Client.get` or :meth:`Client.batch_get` (or a
    batchGet body ``{"results": [...]}``): one row per answer, one column per
    ``signal.window[.key]`` as :func:`flatten` names them.

    The columns are the union over the answers. A key missing from an object that the answer
    has (a category the user never touched) is 0; a column under a result that is not an
    object in this answer (null), or a top-level field it lacks, is missing (NaN/None).
    """
    pandas = _pandas()
    if isinstance(answers, Mapping):
        answers = answers["results"] if "results" in answers else [answers]
    answers = list(answers)
    leaves: Dict[Tuple[str, ...], None] = {}
    for answer in answers:
        _collect_paths(answer, (), leaves, top=True)
    # A path that is a leaf in one answer (null) and an object in another keeps only the
    # object's leaves.
    paths = [p for p in leaves if not any(q[: len(p)] == p and len(q) > len(p) for q in leaves)]
    rows = [[_cell(answer, path) for path in paths] for answer in answers]
    return pandas.DataFrame(rows, columns=[_column_name(p) for p in paths])


def _collect_paths(value: Any, path: Tuple[str, ...], out: Dict, top: bool = False) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if top and key != "signals":
                out.setdefault((key,), None)
            else:
                _collect_paths(item, path + (key,), out)
    else:
        out.setdefault(path, None)


def _column_name(path: Tuple[str, ...]) -> str:
    return ".".join(path[1:]) if path[0] == "signals" else path[0]


def _cell(answer: Mapping[str, Any], path: Tuple[str, ...]) -> Any:
    value: Any = answer
    for depth, key in enumerate(path):
        if not isinstance(value, dict):
            return None
        if key not in value:
            # A missing key of an object that is there is a count of nothing; a missing
            # top-level field (error, in an answer without one) is nothing at all.
            return None if depth == 0 else 0
        value = value[key]
    return value


def backfill_frame(
    config: PathLike,
    events: Union[PathLike, Sequence[PathLike]],
    queries,
    names: Optional[Sequence[str]] = None,
    keys: Optional[Union[int, str]] = None,
    binary: Optional[PathLike] = None,
    arrival_order: bool = False,
    lateness: Optional[str] = None,
    presorted: bool = False,
    tmp_dir: Optional[PathLike] = None,
):
    """Point-in-time training data: runs ``signalbox backfill --format csv`` and returns its
    table as a DataFrame, one row per query in query order.

    ``queries`` is a CSV path or a DataFrame with columns ``user_id`` and ``as_of`` (int ms,
    ISO 8601 strings, or datetimes: naive ones are taken as UTC, pandas' usual meaning) and
    any other columns (labels, ids), which come back unchanged beside the signals. ``events``
    is one NDJSON log or several (gzip too). ``names`` picks signals and views; ``keys`` keeps
    the N largest group keys per signal (an int N, or ``"top:N"``); default: all keys.
    ``binary`` is the ``signalbox`` executable (default: ``$SIGNALBOX_BIN``, else ``signalbox``
    on the PATH). Raises :class:`BackfillError` with the command's message when it fails.
    """
    pandas = _pandas()
    program = _binary(binary)
    logs = [events] if isinstance(events, (str, os.PathLike)) else list(events)
    with tempfile.TemporaryDirectory(prefix="signalbox-frame-", dir=tmp_dir) as folder:
        if isinstance(queries, (str, os.PathLike)):
            query_file = os.fspath(queries)
        else:
            query_file = os.path.join(folder, "queries.csv")
            _query_table(queries, pandas).to_csv(query_file, index=False)
        out = os.path.join(folder, "answers.csv")
        command = [program, "backfill", "--quiet", "--config", os.fspath(config),
                   "--queries", query_file, "--out", out, "--format", "csv", "--events"]
        command += [os.fspath(log) for log in logs]
        if names:
            command += ["--names", ",".join([names] if isinstance(names, str) else names)]
        if keys is not None:
            command += ["--keys", keys if isinstance(keys, str) else f"top:{int(keys)}"]
        if arrival_order:
            command.append("--arrival-order")
        if lateness is not None:
            command += ["--lateness", lateness]
        if presorted:
            command.append("--presorted")
        command += ["--tmp-dir", folder]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:
            raise BackfillError(run.stderr.strip() or f"exit status {run.returncode}")
        # Query file columns keep their text (ids such as 007); signal columns are numbers.
        extra = [c for c in _header(query_file) if c not in ("user_id", "as_of")]
        return pandas.read_csv(out, dtype={c: str for c in extra}, keep_default_na=False,
                               na_values=[""])


def _binary(binary: Optional[PathLike]) -> str:
    program = os.fspath(binary) if binary else os.environ.get("SIGNALBOX_BIN") or "signalbox"
    found = shutil.which(program)
    if not found:
        raise BackfillError(
            f"{program}: no such executable (pass binary=, or set SIGNALBOX_BIN to the "
            "signalbox binary, e.g. build/src/signalbox/cli/signalbox)"
        )
    return found


def _query_table(queries, pandas):
    """The queries DataFrame with as_of as the CLI reads it."""
    missing = [c for c in ("user_id", "as_of") if c not in queries.columns]
    if missing:
        raise BadRequest(f"queries: no column {', '.join(missing)} (need user_id and as_of)")
    table = queries.copy()
    as_of = table["as_of"]
    if pandas.api.types.is_datetime64_any_dtype(as_of):
        if getattr(as_of.dt, "tz", None) is None:
            as_of = as_of.dt.tz_localize("UTC")
        table["as_of"] = as_of.map(lambda t: epoch_ms(t.to_pydatetime()))
    else:
        table["as_of"] = as_of.map(_as_of_cell)
    return table


def _as_of_cell(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return epoch_ms(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    return value


def _header(path: str) -> List[str]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row]
    return []
