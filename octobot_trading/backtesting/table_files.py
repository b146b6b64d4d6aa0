"""Feather (Arrow IPC) and parquet candle files, read with ``pyarrow`` when it is installed.

``pyarrow`` is an optional dependency (``pip install 'octobot_trading[arrow]'``): the columns
are already typed there, so they go straight into the candle arrays. The open-time column may
be an Arrow timestamp (freqtrade's ``date``; any unit, exact to the ms; a time zone is
converted to UTC, a naive timestamp is read as UTC), an Arrow date (``date32`` / ``date64``:
midnight UTC), epoch numbers (unit detected as for CSV) or ISO-8601 text (read by the CSV
reader's rules: an offset is applied, dates without one are UTC); values may be any numeric
type and are converted to float64 (a decimal value through its exact text and a float32 value
through its own shortest text, so ``100.1`` stays ``100.1``). Dictionary-encoded columns are read as their plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from octobot_trading.backtesting.candle_series import LoadReport
from octobot_trading.backtesting.text_columns import PAD, BadField, Block, iso_to_ms, magnitude_classes
from octobot_trading.errors import DataFileError

__all__ = ["SUFFIXES", "Table", "read_table"]

SUFFIXES = (".feather", ".arrow", ".ipc", ".parquet")
_TIME_NAMES = ("timestamp", "timestamp_ms", "time", "date", "datetime", "open_time")
_VALUE_NAMES = ("open", "high", "low", "close", "volume")
_UNIT_MS = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000), "ns": (1, 1_000_000)}
_UNITS = ("s", "ms", "us", "ns")
_ISO_BLOCK_ROWS = 65_536


@dataclass(slots=True)
class Table:
    """The columns read from a feather / parquet file."""

    times_ms: np.ndarray[Any, Any]
    columns: list[np.ndarray[Any, Any]]
    report: LoadReport


def _pyarrow(source: str) -> Any:
    try:
        import pyarrow
        import pyarrow.compute
        import pyarrow.feather
        import pyarrow.parquet
    except ImportError:
        raise DataFileError(
            "reading feather / parquet files needs pyarrow: pip install 'octobot_trading[arrow]'", path=source
        ) from None
    return pyarrow


def _pick(names: list[str], source: str) -> list[str]:
    lowered = {n.strip().lower(): n for n in names}
    times = [lowered[n] for n in _TIME_NAMES if n in lowered]
    if not times:
        raise DataFileError(f"no open-time column ({', '.join(_TIME_NAMES)}) among {names}", path=source)
    if len(times) > 1:
        raise DataFileError(f"ambiguous columns: {', '.join(times)} could all be the open time", path=source)
    picked = [times[0]]
    for name in _VALUE_NAMES:
        if name not in lowered:
            raise DataFileError(f"no {name} column among {names}", path=source)
        picked.append(lowered[name])
    return picked


def _first_null(column: Any) -> int | None:
    if column.null_count == 0:
        return None
    return int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])


def _epoch_ms(
    values: np.ndarray[Any, Any], unit: str | None, source: str, name: str, *, given: bool = False
) -> tuple[Any, str]:
    """Exact open times in ms of epoch numbers in ``unit`` (detected from their magnitude when None).

    ``given``: the unit came from the caller (``time_unit=``), for values too small to say
    theirs; a value whose magnitude says another unit is refused. A ``timestamp_ms`` column
    must hold milliseconds.
    """

    def refuse(message: str, row: int | None) -> DataFileError:
        return DataFileError(f"column {name}: {message}", path=source, row=row, column=name)

    if values.dtype.kind == "f":
        bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            raise refuse("timestamp is not a whole number", int(np.flatnonzero(bad)[0]))
        if (np.abs(values) >= 2.0**63).any():
            raise refuse("timestamp too large for an epoch time", int(np.flatnonzero(np.abs(values) >= 2.0**63)[0]))
    values = values.astype(np.int64)
    required = "ms" if name.strip().lower() == "timestamp_ms" else None
    if given and required is not None and unit != required:
        raise refuse(f"holds ms by its name, not time_unit={unit!r}", None)
    classes = magnitude_classes(values.astype(np.float64))
    if unit is None:
        first = int(classes[0])
        if first < 0:
            raise refuse(f"cannot tell the time unit of {int(values[0])}: give time_unit=", 0)
        if first > 3:
            raise refuse("timestamp too large for an epoch time", 0)
        unit = _UNITS[first]
        if required is not None and unit != required:
            raise refuse(f"holds times in {unit}, not ms", 0)
        odd = classes != first
        if odd.any():
            raise refuse("mixed or ambiguous time units", int(np.flatnonzero(odd)[0]))
    elif given:
        expected = _UNITS.index(unit)
        odd = (classes >= 0) & (classes != expected)
        if odd.any():
            row = int(np.flatnonzero(odd)[0])
            found = int(classes[row])
            said = f"is in {_UNITS[found]} by its magnitude" if found <= 3 else "is too large for an epoch time"
            raise refuse(f"timestamp {said}, not in {unit} as time_unit= says", row)
    num, den = _UNIT_MS[unit]
    limit = np.iinfo(np.int64).max // num  # in ms, a larger value would wrap around int64
    too_large = (values > limit) | (values < -limit)
    if too_large.any():
        raise refuse("timestamp too large for an epoch time", int(np.flatnonzero(too_large)[0]))
    if den > 1 and (values % den != 0).any():
        raise refuse("timestamp is not a whole number of ms", int(np.flatnonzero(values % den != 0)[0]))
    return values * num // den, f"epoch-{unit}"


def _iso_text_ms(column: Any, pa: Any, source: str, name: str) -> tuple[np.ndarray[Any, Any], bool]:
    """Open times of an ISO-8601 text column, read by the CSV reader's rules (``iso_to_ms``).

    The column's UTF-8 bytes and offsets go straight into the reader's field bounds, in blocks
    of rows (bounded temporaries). Returns the times and whether every date carried an offset.
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_string(array.type):
        array = array.cast(pa.large_string())  # 64-bit offsets, one code path
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    times = np.empty(len(array), dtype=np.int64)
    with_offset = True
    for first in range(0, len(array), _ISO_BLOCK_ROWS):
        last = min(first + _ISO_BLOCK_ROWS, len(array))
        lo, hi = int(offsets[first]), int(offsets[last])
        buffer = np.concatenate([np.frombuffer(PAD, dtype=np.uint8), data[lo:hi]])
        starts = (offsets[first:last] - lo).reshape(1, -1)
        ends = (offsets[first + 1 : last + 1] - lo).reshape(1, -1)
        try:
            ms, all_offsets = iso_to_ms(Block(buffer, starts, ends, first), 0)
        except BadField as bad:
            raise DataFileError(
                f"column {name}: {bad.message}", path=source, row=first + bad.index, column=name
            ) from None
        times[first:last] = ms
        with_offset &= all_offsets
    return times, with_offset


def _decoded(column: Any, pa: Any) -> Any:
    """A dictionary-encoded column as its plain values (the column itself otherwise)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _values(column: Any, pa: Any) -> np.ndarray[Any, Any]:
    """A value column as float64; a decimal or float32 / float16 value keeps its own text.

    ``100.1`` stored as float32 is ``100.09999847...``: widening it gives that float64, whose
    shortest text is not ``100.1``. Going through the narrow float's shortest text (which reads
    back to the same narrow float) gives the float64 of ``100.1``, so the Decimal is the file's.
    A decimal goes through its exact text too: Arrow's direct decimal-to-float cast rounds twice
    (``519501.60329669`` as ``decimal128(20, 8)`` would become ``519501.60329669004``), its text
    parse rounds once, to the float64 nearest the decimal.
    """
    kind = column.type
    if pa.types.is_float32(kind) or pa.types.is_decimal(kind):
        return np.array(column.cast(pa.string()).cast(pa.float64()).to_numpy(), dtype=np.float64, copy=True)
    if pa.types.is_float16(kind):
        narrow = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float16)
        return narrow.astype(str).astype(np.float64)
    return np.array(column.cast(pa.float64()).to_numpy(), dtype=np.float64, copy=True)


def read_table(path: Path, time_unit: str | None = None) -> Table:
    """Read the open-time and OHLCV columns of a feather / parquet file."""
    source = str(path)
    pa = _pyarrow(source)
    try:
        if path.name.lower().endswith(".parquet"):
            table = pa.parquet.read_table(path)
        else:
            table = pa.feather.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataFileError(f"cannot read {path.suffix[1:]} file: {exc}", path=source) from exc
    picked = _pick(list(table.column_names), source)
    if table.num_rows == 0:
        raise DataFileError("no candles", path=source)
    decoded = {name: _decoded(table.column(name), pa) for name in picked}
    for name in picked:
        row = _first_null(decoded[name])  # after decoding: a dictionary may hold a null value
        if row is not None:
            raise DataFileError(f"column {name}: missing value", path=source, row=row, column=name)
    time_column = decoded[picked[0]]
    kind = time_column.type
    notes: tuple[str, ...] = ()
    if time_unit is not None and not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise DataFileError(
            f"column {picked[0]}: holds dates ({kind}), which say their time: time_unit={time_unit!r} is only "
            "for epoch numbers too small to say their unit",
            path=source,
            column=picked[0],
        )
    if pa.types.is_timestamp(kind):
        # stored as the UTC instant in the type's unit, whatever the time zone: exact integers
        raw = time_column.cast(pa.timestamp(kind.unit)).cast(pa.int64()).to_numpy()
        times, time_format = _epoch_ms(raw, kind.unit, source, picked[0])
        time_format = "arrow-timestamp"
        if kind.tz is None:
            notes = ("timestamps without time zone were read as UTC",)
    elif pa.types.is_date32(kind):
        times, time_format = time_column.cast(pa.int32()).to_numpy().astype(np.int64) * 86_400_000, "arrow-date"
    elif pa.types.is_date64(kind):
        raw = time_column.cast(pa.int64()).to_numpy()
        times, time_format = _epoch_ms(raw, "ms", source, picked[0])
        time_format = "arrow-date"
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        raw = np.asarray(time_column.to_numpy())
        times, time_format = _epoch_ms(raw, time_unit, source, picked[0], given=time_unit is not None)
        if time_unit is not None:
            notes = (f"time unit {time_unit} given by the caller",)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        times, with_offset = _iso_text_ms(time_column, pa, source, picked[0])
        time_format = "iso-8601"
        if not with_offset:
            notes = ("dates without a UTC offset were read as UTC",)
    else:
        raise DataFileError(
            f"column {picked[0]}: unsupported type {kind} for open times", path=source, column=picked[0]
        )
    columns = []
    for name in picked[1:]:
        column = decoded[name]
        if not (
            pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type)
        ):
            raise DataFileError(f"column {name}: not numbers ({column.type})", path=source, column=name)
        columns.append(_values(column, pa))
    fmt = "parquet" if path.name.lower().endswith(".parquet") else "feather"
    report = LoadReport(source, fmt, "table", tuple(picked), time_format, table.num_rows, "pyarrow", notes)
    return Table(np.array(times, dtype=np.int64, copy=True), columns, report)
