"""Readers for historical candle files: JSON / JSON.gz, CSV and the library's SQLite data file.

Every reader returns validated :class:`~octobot_trading.backtesting.candle_data.CandleSeries`
(numpy arrays); a bad file raises :class:`~octobot_trading.errors.DataFileError` naming the
file and the 0-based data row (the CSV header is not counted).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from octobot_trading.backtesting.candle_data import CandleSeries
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, DataFileError

if TYPE_CHECKING:
    from octobot_trading.backtesting.candle_data import CandleData

__all__ = ["CSV_HEADER", "guess_symbol_and_time_frame", "load", "read_csv", "read_json"]

CSV_HEADER = ("timestamp", "open", "high", "low", "close", "volume")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAME = re.compile(r"^(?P<base>[A-Za-z0-9]+)_(?P<quote>[A-Za-z0-9]+)(?:_(?P<settle>[A-Za-z0-9]+))?-(?P<tf>\d+[mhdwM])")


def guess_symbol_and_time_frame(path: Path) -> tuple[str | None, str | None]:
    """Read ``BTC_USDT-5m.json`` style names as ``("BTC/USDT", "5m")`` (None when unknown)."""
    match = _NAME.match(path.name)
    if not match:
        return None, None
    symbol = f"{match['base']}/{match['quote']}" + (f":{match['settle']}" if match["settle"] else "")
    return symbol, match["tf"]


def load(
    cls: type[CandleData],
    path: Path,
    *,
    exchange: str | None,
    symbol: str | None,
    time_frame: TimeFrame | str | None,
    allow_gaps: bool,
) -> CandleData:
    """Dispatch on the file type; see :meth:`CandleData.from_file`."""
    if not path.is_file():
        raise DataFileError("no such file", path=str(path))
    name = path.name.lower()
    if name.endswith((".sqlite", ".sqlite3", ".db")):
        from octobot_trading.backtesting import data_file

        return data_file.read(cls, path, exchange=exchange, symbol=symbol, time_frame=time_frame,
                              allow_gaps=allow_gaps)
    guessed_symbol, guessed_tf = guess_symbol_and_time_frame(path)
    symbol = symbol or guessed_symbol
    tf_name = time_frame or guessed_tf
    if symbol is None or tf_name is None:
        raise ConfigurationError(
            f"{path}: give symbol= and time_frame= (the file name does not say them)", field="symbol"
        )
    tf = TimeFrame.parse(tf_name)
    if name.endswith((".json", ".json.gz")):
        series = read_json(path, symbol, tf, allow_gaps=allow_gaps)
    elif name.endswith((".csv", ".csv.gz")):
        series = read_csv(path, symbol, tf, allow_gaps=allow_gaps)
    else:
        raise DataFileError("unknown file type (expected .json, .json.gz, .csv or .sqlite)", path=str(path))
    return cls([series], exchange=exchange or "simulator")


def _open_text(path: Path) -> Any:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8", newline="")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_json(path: Path, symbol: str, time_frame: TimeFrame, *, allow_gaps: bool = True) -> CandleSeries:
    """Read a ``[[open_time_ms, open, high, low, close, volume], ...]`` JSON (or .json.gz) file."""
    source = str(path)
    try:
        with _open_text(path) as handle:
            rows = json.load(handle)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(f"cannot read JSON: {exc}", path=source) from exc
    if not isinstance(rows, list):
        raise DataFileError("expected a JSON list of [ms, open, high, low, close, volume] rows", path=source)
    if not rows:
        raise DataFileError("no candles", path=source)
    try:
        array = np.array(rows, dtype=np.float64)
        ok = array.ndim == 2 and array.shape[1] == 6
    except (ValueError, TypeError):
        ok = False
    if not ok:
        for index, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != 6:
                raise DataFileError("expected 6 columns [ms, open, high, low, close, volume]", path=source,
                                    row=index)
            for column, value in zip(CSV_HEADER, row, strict=True):
                if not _is_number(value):
                    raise DataFileError(f"{column} is not a number: {value!r}", path=source, row=index)
        raise DataFileError("expected a list of 6-number rows", path=source)
    bad = [i for i, row in enumerate(rows) if not all(_is_number(v) for v in row)]
    if bad:
        raise DataFileError(f"value is not a number: {rows[bad[0]]!r}", path=source, row=bad[0])
    return _series_from_matrix(array, symbol, time_frame, source, allow_gaps)


def _series_from_matrix(
    array: np.ndarray[Any, Any], symbol: str, time_frame: TimeFrame, source: str, allow_gaps: bool
) -> CandleSeries:
    raw_times = array[:, 0]
    if len(raw_times) and not np.all(np.isfinite(raw_times)):
        raise DataFileError("timestamp is not finite", path=source, row=int(np.flatnonzero(~np.isfinite(raw_times))[0]))
    times = raw_times.astype(np.int64)
    fractional = times != raw_times
    if fractional.any():
        raise DataFileError("timestamp is not a whole number of ms", path=source,
                            row=int(np.flatnonzero(fractional)[0]))
    return CandleSeries.from_arrays(symbol, time_frame, times, array[:, 1], array[:, 2], array[:, 3],
                                    array[:, 4], array[:, 5], source=source, allow_gaps=allow_gaps)


def _parse_time(text: str) -> int:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def read_csv(path: Path, symbol: str, time_frame: TimeFrame, *, allow_gaps: bool = True) -> CandleSeries:
    """Read a CSV file with the header ``timestamp,open,high,low,close,volume``.

    ``timestamp`` is the open time, as integer milliseconds or an ISO-8601 date (UTC when no
    offset is given).
    """
    source = str(path)
    times: list[int] = []
    values: list[list[float]] = []
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(h.strip().lower() for h in header) != CSV_HEADER:
                raise DataFileError(f"expected the header {','.join(CSV_HEADER)}, got {header!r}", path=source)
            for index, row in enumerate(reader):
                if not row:
                    continue
                if len(row) != 6:
                    raise DataFileError(f"expected 6 columns, got {len(row)}", path=source, row=index)
                try:
                    times.append(_parse_time(row[0]))
                except ValueError:
                    raise DataFileError(f"timestamp is not a time: {row[0]!r}", path=source, row=index) from None
                try:
                    values.append([float(v) for v in row[1:]])
                except ValueError:
                    raise DataFileError(f"value is not a number in {row[1:]!r}", path=source, row=index) from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise DataFileError(f"cannot read CSV: {exc}", path=source) from exc
    if not values:
        raise DataFileError("no candles", path=source)
    matrix = np.asarray(values, dtype=np.float64)
    return CandleSeries.from_arrays(symbol, time_frame, np.asarray(times, dtype=np.int64), matrix[:, 0],
                                    matrix[:, 1], matrix[:, 2], matrix[:, 3], matrix[:, 4], source=source,
                                    allow_gaps=allow_gaps)
