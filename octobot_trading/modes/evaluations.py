"""Evaluation sources: files of evaluations replayed in backtests, and their strict reading.

File formats (one evaluation per row; the columns / keys are the same in both):

* **JSON** (``.json``): a list of objects ``{"time": 1700000000000, "symbol": "BTC/USDT",
  "evaluator": "rsi", "value": "-0.5"}``, optional ``"time_frame": "1h"``; no other key.
* **CSV** (``.csv``): a header ``time,symbol,evaluator,value`` (optional ``time_frame`` column
  last), then one row per evaluation.

``time`` is the evaluation's time in milliseconds (a non-negative integer), ``evaluator`` its
source name, ``value`` a number (a JSON number, or text that is a plain decimal number such as
``-0.25`` or ``1e-3``, read exactly as a ``Decimal``) or any other non-empty text (kept as a
string, e.g. ``"bullish"``). NaN, infinities, booleans, empty fields, missing or unknown columns
are refused with :class:`~octobot_trading.errors.DataFileError` naming the file and the row
(0-based, the header excluded). Rows are sorted by time (stable: rows of one time keep the
file's order).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from os import PathLike
from pathlib import Path
from typing import Any

from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.modes.channel import Evaluation, evaluation_value

__all__ = ["EvaluationsSource", "load_evaluations", "read_evaluations"]

#: What ``with_evaluations`` / ``run_backtest(evaluations=...)`` accept.
EvaluationsSource = str | PathLike[str] | Sequence[Evaluation]

_COLUMNS = ("time", "symbol", "evaluator", "value")
_OPTIONAL = ("time_frame",)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _value(raw: Any) -> Decimal | str:
    if isinstance(raw, Decimal | int) and not isinstance(raw, bool):
        return evaluation_value(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ValueError("value is empty")
        if _NUMBER.fullmatch(text):
            try:
                return evaluation_value(Decimal(text))
            except InvalidOperation as exc:  # pragma: no cover - the pattern only lets numbers through
                raise ValueError(f"value {raw!r} is not a number") from exc
        return text
    raise ValueError(f"value {raw!r} is neither a number nor text")


def _time(raw: Any) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    raise ValueError(f"time {raw!r} is not a non-negative integer of milliseconds")


def _text(row: dict[str, Any], key: str) -> str:
    raw = row.get(key)
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"{key} {raw!r} is not a non-empty string")
    return raw.strip()


def _evaluation(row: dict[str, Any]) -> Evaluation:
    missing = [key for key in _COLUMNS if key not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    unknown = sorted(set(row) - set(_COLUMNS) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}")
    time_frame = row.get("time_frame")
    if time_frame in ("", None):
        time_frame = None
    elif not isinstance(time_frame, str):
        raise ValueError(f"time_frame {time_frame!r} is not a string")
    return Evaluation(
        _text(row, "symbol"), _text(row, "evaluator"), _value(row["value"]), _time(row["time"]), time_frame=time_frame
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _rows(path: Path) -> Iterable[tuple[int, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            document = json.loads(
                path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=int, parse_constant=_refuse_constant
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataFileError(f"not valid JSON: {exc}", path=str(path)) from exc
        if not isinstance(document, list):
            raise DataFileError("a JSON evaluations file is a list of objects", path=str(path))
        return enumerate(document)
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise DataFileError("empty file (a header time,symbol,evaluator,value is expected)", path=str(path))
            header = [name.strip() for name in header]
            if header not in (list(_COLUMNS), [*_COLUMNS, *_OPTIONAL]):
                raise DataFileError(
                    f"header {','.join(header)!r}: expected time,symbol,evaluator,value[,time_frame]", path=str(path)
                )
            rows = []
            for index, fields in enumerate(reader):
                if len(fields) != len(header):
                    raise DataFileError(f"{len(fields)} fields, expected {len(header)}", path=str(path), row=index)
                rows.append((index, dict(zip(header, fields, strict=True))))
            return rows
    raise DataFileError("evaluations files are .json or .csv", path=str(path))


def load_evaluations(path: str | PathLike[str]) -> list[Evaluation]:
    """Read an evaluations file (see the module docstring), sorted by time (stable).

    Raises ``DataFileError`` naming the file and the row of the first invalid entry.
    """
    file = Path(path)
    if not file.is_file():
        raise DataFileError("no such evaluations file", path=str(file))
    evaluations = []
    for index, row in _rows(file):
        if not isinstance(row, dict):
            raise DataFileError(f"expected an object, got {type(row).__name__}", path=str(file), row=index)
        try:
            evaluations.append(_evaluation(row))
        except (ValueError, TypeError) as exc:
            raise DataFileError(str(exc), path=str(file), row=index) from exc
    evaluations.sort(key=lambda evaluation: evaluation.time_ms)
    return evaluations


def read_evaluations(source: EvaluationsSource) -> list[Evaluation]:
    """``source`` as a time-sorted list: a file path is read with :func:`load_evaluations`; a
    sequence must hold ``Evaluation`` objects only (``ConfigurationError`` naming the index)."""
    if isinstance(source, str | PathLike):
        return load_evaluations(source)
    if not isinstance(source, Sequence):
        raise ConfigurationError("evaluations are a file path or a list of Evaluation objects", field="evaluations")
    items: list[Any] = list(source)
    for index, item in enumerate(items):
        if not isinstance(item, Evaluation):
            raise ConfigurationError(
                f"evaluations[{index}] is a {type(item).__name__}, not an Evaluation", field=f"evaluations[{index}]"
            )
    return sorted(items, key=lambda evaluation: evaluation.time_ms)
