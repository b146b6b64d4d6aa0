"""Readers for historical candle files: CSV, JSON / JSON.gz, feather / parquet and SQLite data files.

Every reader fills the candle arrays column by column (see
:mod:`~octobot_trading.backtesting.text_columns`), with no Python object per row, and returns
validated :class:`~octobot_trading.backtesting.candle_series.CandleSeries` whose
:attr:`~octobot_trading.backtesting.candle_series.CandleSeries.report` says what was detected.
A bad, ambiguous or unreadable file raises :class:`~octobot_trading.errors.DataFileError`
naming the file, the 0-based data row (a CSV header is not counted) and the column.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from octobot_trading.backtesting import data_file, table_files
from octobot_trading.backtesting.candle_series import CandleSeries, LoadReport
from octobot_trading.backtesting.csv_layout import (
    BINANCE_KLINE_COLUMNS,
    CSV_HEADER,
    DATA_LIKE,
    TIME_COLUMN_NAMES,
    header_columns,
    headerless_layout,
    refuse_other_separator,
)
from octobot_trading.backtesting.text_columns import (
    EPOCH_UNITS,
    BadField,
    Block,
    StructureError,
    csv_blocks,
    epoch_ms,
    epoch_to_ms,
    iso_to_ms,
    json_blocks,
    line_chunks,
    parse_floats,
    unit_of,
)
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.util.market_spec import MarketSpec

__all__ = [
    "BINANCE_KLINE_COLUMNS",
    "CSV_HEADER",
    "TIME_COLUMN_NAMES",
    "Loaded",
    "guess_symbol_and_time_frame",
    "load",
    "read_columns",
    "read_csv",
    "read_json",
]

_UNIT_NAMES = {"s": "epoch-s", "ms": "epoch-ms", "us": "epoch-us", "ns": "epoch-ns"}
_CLASS_UNITS = ("s", "ms", "us", "ns")
_NAME = re.compile(r"^(?P<base>[A-Za-z0-9]+)_(?P<quote>[A-Za-z0-9]+)(?:_(?P<settle>[A-Za-z0-9]+))?-(?P<tf>\d+[mhdwM])")
_DUMP_NAME = re.compile(r"^[A-Za-z0-9]+-(?P<tf>\d+[mhdwM])-\d{4}-\d{2}")


@dataclass(slots=True)
class Loaded:
    """What :func:`load` read: the series, the exchange and the market specs (SQLite files)."""

    series: list[CandleSeries]
    exchange: str
    markets: dict[str, MarketSpec] = field(default_factory=dict)


def guess_symbol_and_time_frame(path: Path) -> tuple[str | None, str | None]:
    """Read ``BTC_USDT-5m.json`` style names as ``("BTC/USDT", "5m")`` (None when unknown).

    Binance dump names (``ADABTC-1m-2021-11-27.csv``) give the time frame only.
    """
    match = _NAME.match(path.name)
    if not match:
        dump = _DUMP_NAME.match(path.name)
        return None, (dump["tf"] if dump else None)
    symbol = f"{match['base']}/{match['quote']}" + (f":{match['settle']}" if match["settle"] else "")
    return symbol, match["tf"]


def load(
    path: Path,
    *,
    exchange: str | None,
    symbol: str | None,
    time_frame: TimeFrame | str | None,
    allow_gaps: bool,
    time_unit: str | None = None,
    price_only: bool = False,
) -> Loaded:
    """Dispatch on the file type; see :meth:`CandleData.from_file`."""
    if time_unit is not None and time_unit not in EPOCH_UNITS:
        raise ConfigurationError(
            f"time_unit must be one of {', '.join(EPOCH_UNITS)}, not {time_unit!r}", field="time_unit"
        )
    if not path.is_file():
        raise DataFileError("no such file", path=str(path))
    name = path.name.lower()
    if name.endswith((".sqlite", ".sqlite3", ".db")):
        contents = data_file.read(
            path, exchange=exchange, symbol=symbol, time_frame=time_frame, allow_gaps=allow_gaps, price_only=price_only
        )
        return Loaded(contents.series, contents.exchange, contents.markets)
    guessed_symbol, guessed_tf = guess_symbol_and_time_frame(path)
    symbol = symbol or guessed_symbol
    tf_name = time_frame or guessed_tf
    if symbol is None or tf_name is None:
        raise ConfigurationError(
            f"{path}: give symbol= and time_frame= (the file name does not say them)", field="symbol"
        )
    tf = TimeFrame.parse(tf_name)
    if name.endswith((".json", ".json.gz")):
        series = read_json(path, symbol, tf, allow_gaps=allow_gaps, time_unit=time_unit, price_only=price_only)
    elif name.endswith((".csv", ".csv.gz")):
        series = read_csv(path, symbol, tf, allow_gaps=allow_gaps, time_unit=time_unit, price_only=price_only)
    elif name.endswith(table_files.SUFFIXES):
        table = table_files.read_table(path, time_unit)
        columns, report = list(table.columns), table.report
        if price_only:
            columns[4], report = price_only_volumes(columns[4], report)
        series = _series(path, symbol, tf, allow_gaps, table.times_ms, columns, report)
    else:
        raise DataFileError(
            "unknown file type (expected .csv, .json, .json.gz, .feather, .parquet or .sqlite)", path=str(path)
        )
    return Loaded([series], exchange or "simulator")


def _read_bytes(path: Path, kind: str) -> bytes:
    try:
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFileError(f"cannot read {kind}: {exc}", path=str(path)) from exc
    return raw.removeprefix(b"\xef\xbb\xbf")


def _series(
    path: Path, symbol: str, tf: TimeFrame, allow_gaps: bool, times: Any, columns: list[Any], report: LoadReport
) -> CandleSeries:
    return CandleSeries.from_arrays(symbol, tf, times, *columns, source=str(path), allow_gaps=allow_gaps, report=report)


def price_only_volumes(volumes: Any, report: LoadReport) -> tuple[Any, LoadReport]:
    """For price-only data (mark prices): missing (NaN) volumes become 0, noted in the report.

    Mark-price candles have no traded volume (freqtrade stores it as NaN); only their prices
    are used. Any other volume is validated as usual (a negative or infinite one is an error).
    """
    missing = np.isnan(volumes)
    count = int(missing.sum())
    if not count:
        return volumes, report
    note = f"price-only data: {count} missing volume(s) read as 0"
    return np.where(missing, 0.0, volumes), replace(report, notes=(*report.notes, note))


class _Columns:
    """Arrays being filled block by block: open times (ms) and the five values."""

    def __init__(self, capacity: int) -> None:
        self.times = np.empty(capacity, dtype=np.int64)
        self.values = [np.empty(capacity, dtype=np.float64) for _ in range(5)]
        self.rows = 0

    def reserve(self, rows: int) -> None:
        """Grow the arrays when the line count was short (stray carriage returns as line breaks)."""
        if rows > len(self.times):
            size = max(rows, 2 * len(self.times))
            self.times = np.concatenate([self.times, np.empty(size - len(self.times), dtype=np.int64)])
            self.values = [np.concatenate([v, np.empty(size - len(v))]) for v in self.values]

    def finish(self) -> tuple[np.ndarray[Any, Any], list[np.ndarray[Any, Any]]]:
        n = self.rows
        if n == len(self.times):
            return self.times, self.values
        return self.times[:n].copy(), [v[:n].copy() for v in self.values]


class _TimeReader:
    """Parses the open-time column block by block, detecting (once) dates or the epoch unit."""

    def __init__(
        self, path: Path, name: str, time_unit: str | None, *, strict: bool, default_unit: str | None = None
    ) -> None:
        self.path, self.name, self.strict = str(path), name, strict
        self.unit = time_unit
        self.given = time_unit is not None
        self.required = "ms" if name.lower() == "timestamp_ms" else None
        if self.given and self.required is not None and time_unit != self.required:
            raise DataFileError(
                f"column {name}: holds ms by its name, not time_unit={time_unit!r}", path=self.path, column=name
            )
        self.hint = self.required or default_unit
        self.iso: bool | None = None
        self.with_offset = True
        self.small_ok = False  # the unit came from the hint because the first values were too small

    def read(self, block: Block, column: int) -> np.ndarray[Any, Any]:
        if self.iso is None:
            sample = block.text(0, column).strip().strip('"').strip()
            self.iso = len(sample) >= 10 and sample[4:5] == "-" and sample[7:8] == "-"
        if self.iso:
            if self.given:
                raise BadField(
                    0,
                    f"holds ISO-8601 dates, which say their time: time_unit={self.unit!r} is only for epoch "
                    "numbers too small to say their unit",
                )
            ms, with_offset = iso_to_ms(block, column)
            self.with_offset &= with_offset
            return ms
        slow, mantissa, decimals, ok = epoch_to_ms(block, column, strict=self.strict)
        classes = unit_of(mantissa, decimals, ok, slow)
        if self.given:  # the caller's unit is for values too small to say theirs: others must agree
            expected = _CLASS_UNITS.index(self.unit or "")
            differs = (classes >= 0) & (classes != expected)
            if differs.any():
                index = int(np.flatnonzero(differs)[0])
                found = int(classes[index])
                said = (
                    f"is in {_CLASS_UNITS[found]} by its magnitude" if found <= 3 else "is too large for an epoch time"
                )
                raise BadField(index, f"timestamp {said}, not in {self.unit} as time_unit= says")
        else:
            first = int(classes[0])
            if self.unit is None:
                if first < 0 and self.hint is None:
                    raise BadField(0, "timestamp too small to tell its unit (s, ms, us or ns): give time_unit=")
                if first > 3:
                    raise BadField(0, "timestamp too large for an epoch time")
                self.unit = _CLASS_UNITS[first] if first >= 0 else self.hint
                self.small_ok = first < 0
                if self.required is not None and self.unit != self.required:
                    raise BadField(0, f"holds times in {self.unit}, not ms")
            expected = _CLASS_UNITS.index(self.unit) if self.unit else -1
            differs = classes != expected
            if self.small_ok:
                differs &= classes >= 0
            if differs.any():
                index = int(np.flatnonzero(differs)[0])
                raise BadField(
                    index,
                    f"timestamp looks like another unit than the rows before ({self.unit}): "
                    "mixed or ambiguous time units",
                )
        assert self.unit is not None
        return epoch_ms(mantissa, decimals, ok, slow, self.unit)

    @property
    def time_format(self) -> str:
        return "iso-8601" if self.iso else _UNIT_NAMES.get(self.unit or "", "epoch-ms")

    @property
    def notes(self) -> tuple[str, ...]:
        if self.iso and not self.with_offset:
            return ("dates without a UTC offset were read as UTC",)
        if not self.iso and self.given:
            return (f"time unit {self.unit} given by the caller",)
        if self.small_ok:
            return (f"timestamps too small to tell their unit were read as {self.unit}",)
        return ()


def _error(message: str, path: str, row: int | None, column: str | None) -> DataFileError:
    where = f"column {column}: " if column else ""
    return DataFileError(f"{where}{message}", path=path, row=row, column=column)


def _fill(
    blocks: Iterator[Block],
    out: _Columns,
    picks: list[int],
    names: list[str],
    times: _TimeReader,
    path: Path,
    *,
    strict: bool,
    price_only: bool = False,
) -> None:
    current = "?"
    block: Block | None = None
    try:
        for block in blocks:
            start, stop = block.first_row, block.first_row + block.rows
            out.reserve(stop)
            current = names[0]
            out.times[start:stop] = times.read(block, picks[0])
            for k in range(5):
                current = names[k + 1]
                if picks[k + 1] < 0:  # price-only data without a volume column
                    out.values[k][start:stop] = np.nan
                    continue
                out.values[k][start:stop] = parse_floats(
                    block, picks[k + 1], strict=strict, missing_as_nan=price_only and k == 4
                )
            out.rows = stop
    except BadField as bad:
        assert block is not None
        raise _error(bad.message, str(path), block.first_row + bad.index, current) from None


def _open_csv(path: Path) -> BinaryIO:
    """The file (streamed) or, for ``.gz``, its decompressed bytes."""
    if path.name.lower().endswith(".gz"):
        return io.BytesIO(_read_bytes(path, "CSV"))
    try:
        return path.open("rb")
    except OSError as exc:
        raise DataFileError(f"cannot read CSV: {exc}", path=str(path)) from exc


def _count_lines(handle: BinaryIO) -> tuple[int, bool]:
    """Newlines in the file (``\\r`` when it has no ``\\n``) and whether it ends with one."""
    newlines = returns = 0
    last = b""
    for piece in iter(lambda: handle.read(1 << 22), b""):
        newlines += piece.count(b"\n")
        returns += piece.count(b"\r")
        last = piece[-1:]
    handle.seek(0)
    if newlines == 0:
        return returns, last == b"\r"
    return newlines, last == b"\n"


def _normalised(chunks: Iterator[bytes]) -> Iterator[bytes]:
    first = True
    for chunk in chunks:
        if first:
            chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
        if b"\r" in chunk:
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        yield chunk


def read_csv(
    path: Path,
    symbol: str,
    time_frame: TimeFrame,
    *,
    allow_gaps: bool = True,
    time_unit: str | None = None,
    price_only: bool = False,
) -> CandleSeries:
    """Read a CSV candle file (see ``docs/backtesting.md``: headers, headerless files, Binance dumps).

    Plain files are streamed in ~2 MB pieces: only the candle arrays and one piece are in memory.
    ``price_only`` (mark prices): a missing volume column or missing volumes read as 0.
    """
    times, columns, report = _csv_columns(path, time_unit, price_only)
    if price_only:
        columns[4], report = price_only_volumes(columns[4], report)
    return _series(path, symbol, time_frame, allow_gaps, times, columns, report)


def _csv_columns(path: Path, time_unit: str | None, price_only: bool = False) -> tuple[Any, list[Any], LoadReport]:
    source = str(path)
    try:
        with _open_csv(path) as handle:
            lines, ends_with_newline = _count_lines(handle)
            chunks = _normalised(line_chunks(handle))
            head, skipped = next(chunks, b""), 0
            while True:  # leading blank lines (empty, or spaces and tabs only)
                stripped = head.lstrip(b" \t\n")
                if stripped:
                    cut = head.rfind(b"\n", 0, len(head) - len(stripped)) + 1
                    skipped += head.count(b"\n", 0, cut)
                    head = head[cut:]
                    break
                skipped += head.count(b"\n")
                more = next(chunks, None)
                if more is None:
                    raise DataFileError("no candles", path=source)
                head = more
            line_end = head.find(b"\n")
            first_line = head if line_end < 0 else head[:line_end]
            try:
                first = next(csv.reader([first_line.decode("utf-8")]))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise DataFileError(f"cannot read CSV: {exc}", path=source) from exc
            refuse_other_separator(first, source)
            if DATA_LIKE.match(first[0]):  # an open time first: no header (bad values are errors of row 0)
                layout, picks, body = headerless_layout(first, source), list(range(6)), head
                names = [BINANCE_KLINE_COLUMNS[i] if layout == "binance-klines" else CSV_HEADER[i] for i in picks]
            else:
                layout, body = "header", head[line_end + 1 :] if line_end >= 0 else b""
                picks = header_columns(first, source, price_only)
                names = [first[i].strip() if i >= 0 else "(no volume)" for i in picks]
                skipped += 1
            capacity = max(lines - skipped + (0 if ends_with_newline else 1), 0)
            out = _Columns(capacity)
            times = _TimeReader(path, names[0], time_unit, strict=False)
            try:
                _fill(
                    csv_blocks(itertools.chain([body], chunks), len(first)),
                    out,
                    picks,
                    names,
                    times,
                    path,
                    strict=False,
                    price_only=price_only,
                )
            except StructureError as bad:
                raise DataFileError(bad.message, path=source, row=bad.row) from None
    except OSError as exc:
        raise DataFileError(f"cannot read CSV: {exc}", path=source) from exc
    if out.rows == 0:
        raise DataFileError("no candles", path=source)
    t, values = out.finish()
    report = LoadReport(
        source,
        "csv.gz" if source.lower().endswith(".gz") else "csv",
        layout,
        tuple(names),
        times.time_format,
        out.rows,
        "numpy",
        times.notes,
    )
    return t, values, report


def read_json(
    path: Path,
    symbol: str,
    time_frame: TimeFrame,
    *,
    allow_gaps: bool = True,
    time_unit: str | None = None,
    price_only: bool = False,
) -> CandleSeries:
    """Read freqtrade's ``[[open_time_ms, open, high, low, close, volume], ...]`` JSON (or .json.gz).

    ``price_only`` (mark prices): ``NaN`` / ``null`` volumes read as 0.
    """
    times, columns, report = _json_columns(path, time_unit, price_only)
    if price_only:
        columns[4], report = price_only_volumes(columns[4], report)
    return _series(path, symbol, time_frame, allow_gaps, times, columns, report)


def _json_columns(path: Path, time_unit: str | None, price_only: bool = False) -> tuple[Any, list[Any], LoadReport]:
    source = str(path)
    raw = _read_bytes(path, "JSON")
    head, tail = raw[:64].lstrip(), raw[-64:].rstrip()
    start, stop = len(raw[:64]) - len(head) + 1, len(raw) - len(raw[-64:]) + len(tail) - 1
    names = list(CSV_HEADER)
    times = _TimeReader(path, "timestamp", time_unit, strict=True, default_unit="ms")
    if start <= stop and head[:1] == b"[" and tail[-1:] == b"]":
        out = _Columns(raw.count(b"[", start, stop))
        try:
            _fill(
                json_blocks(raw, start, stop, 6),
                out,
                list(range(6)),
                names,
                times,
                path,
                strict=True,
                price_only=price_only,
            )
        except StructureError:
            _diagnose_json(raw, source)
            raise DataFileError("expected a list of 6-number rows", path=source) from None
    else:
        _diagnose_json(raw, source)
        raise DataFileError("expected a JSON list of [ms, open, high, low, close, volume] rows", path=source)
    if out.rows == 0:
        raise DataFileError("no candles", path=source)
    t, values = out.finish()
    report = LoadReport(
        source,
        "json.gz" if source.lower().endswith(".gz") else "json",
        "freqtrade",
        tuple(names),
        times.time_format,
        out.rows,
        "numpy",
        times.notes,
    )
    return t, values, report


def read_columns(path: Path, time_unit: str | None = None) -> tuple[Any, list[Any], LoadReport]:
    """Read a JSON / CSV / feather / parquet file's time column and five value columns, unvalidated.

    For files in the candle layout that do not hold candles (freqtrade's funding-rate files keep
    the rate in the ``open`` column): the times in ms, the ``open`` ... ``volume`` float arrays
    and what was detected. Parse errors raise ``DataFileError`` as for candles.
    """
    if time_unit is not None and time_unit not in EPOCH_UNITS:
        raise ConfigurationError(
            f"time_unit must be one of {', '.join(EPOCH_UNITS)}, not {time_unit!r}", field="time_unit"
        )
    if not path.is_file():
        raise DataFileError("no such file", path=str(path))
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        return _json_columns(path, time_unit)
    if name.endswith((".csv", ".csv.gz")):
        return _csv_columns(path, time_unit)
    if name.endswith(table_files.SUFFIXES):
        table = table_files.read_table(path, time_unit)
        return table.times_ms, list(table.columns), table.report
    raise DataFileError("unknown file type (expected .csv, .json, .json.gz, .feather or .parquet)", path=str(path))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _diagnose_json(raw: bytes, source: str) -> None:
    """Slow path, only for files the columnar reader refused: raise the exact error."""
    try:
        rows = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(f"cannot read JSON: {exc}", path=source) from exc
    if not isinstance(rows, list):
        raise DataFileError("expected a JSON list of [ms, open, high, low, close, volume] rows", path=source)
    if not rows:
        raise DataFileError("no candles", path=source)
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 6:
            raise DataFileError("expected 6 columns [ms, open, high, low, close, volume]", path=source, row=index)
        for column, value in zip(CSV_HEADER, row, strict=True):
            if not _is_number(value):
                raise _error(f"not a number: {value!r}", source, index, column)
