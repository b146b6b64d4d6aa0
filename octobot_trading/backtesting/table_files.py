"""Feather (Arrow IPC) and parquet candle files, read with ``pyarrow`` when it is installed.

``pyarrow`` is an optional dependency (``pip install 'octobot_trading[arrow]'``): the columns
are already typed there, so they go straight into the candle arrays. The open-time column may
be an Arrow timestamp (freqtrade's ``date``), epoch numbers (unit detected as for CSV) or
ISO-8601 text; values may be any numeric type and are converted to float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from octobot_trading.backtesting.candle_series import LoadReport
from octobot_trading.errors import DataFileError

__all__ = ["SUFFIXES", "Table", "read_table"]

SUFFIXES = (".feather", ".arrow", ".ipc", ".parquet")
_TIME_NAMES = ("timestamp", "timestamp_ms", "time", "date", "datetime", "open_time")
_VALUE_NAMES = ("open", "high", "low", "close", "volume")
_UNIT_MS = {"s": (1000, 1), "ms": (1, 1), "us": (1, 1000), "ns": (1, 1_000_000)}
_EDGES = ((10**8, "s"), (10**11, "ms"), (10**14, "us"), (10**17, "ns"))


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


def _epoch_ms(values: np.ndarray[Any, Any], unit: str | None, source: str, name: str) -> tuple[Any, str]:
    if values.dtype.kind == "f":
        if not np.isfinite(values).all() or (values != np.round(values)).any():
            bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
            raise DataFileError(
                f"column {name}: timestamp is not a whole number", path=source, row=int(bad[0]), column=name
            )
        values = values.astype(np.int64)
    values = values.astype(np.int64)
    if unit is None:
        first = abs(int(values[0]))
        unit = next((u for edge, u in reversed(_EDGES) if first >= edge), None)
        if unit is None or first >= 10**20:
            raise DataFileError(
                f"column {name}: cannot tell the time unit of {first}: give time_unit=", path=source, row=0, column=name
            )
        low = dict((u, e) for e, u in _EDGES)[unit]
        odd = (np.abs(values) < low) | (np.abs(values) >= low * 1000)
        if odd.any():
            raise DataFileError(
                f"column {name}: mixed or ambiguous time units",
                path=source,
                row=int(np.flatnonzero(odd)[0]),
                column=name,
            )
    num, den = _UNIT_MS[unit]
    if den > 1 and (values % den != 0).any():
        raise DataFileError(
            f"column {name}: timestamp is not a whole number of ms",
            path=source,
            row=int(np.flatnonzero(values % den != 0)[0]),
            column=name,
        )
    return values * num // den, f"epoch-{unit}"


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
    for name in picked:
        row = _first_null(table.column(name))
        if row is not None:
            raise DataFileError(f"column {name}: missing value", path=source, row=row, column=name)
    time_column = table.column(picked[0])
    kind = time_column.type
    notes: tuple[str, ...] = ()
    if pa.types.is_timestamp(kind):
        raw = time_column.cast(pa.int64()).to_numpy()
        times, time_format = _epoch_ms(raw, kind.unit, source, picked[0])
        time_format = "arrow-timestamp"
        if kind.tz is None:
            notes = ("timestamps without time zone were read as UTC",)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        times, time_format = _epoch_ms(time_column.to_numpy(), time_unit, source, picked[0])
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            parsed = pa.compute.cast(time_column, pa.timestamp("us", tz="UTC"))
        except pa.ArrowException as exc:
            raise DataFileError(
                f"column {picked[0]}: not ISO-8601 dates ({exc})", path=source, column=picked[0]
            ) from exc
        times, _ = _epoch_ms(parsed.cast(pa.int64()).to_numpy(), "us", source, picked[0])
        time_format = "iso-8601"
    else:
        raise DataFileError(
            f"column {picked[0]}: unsupported type {kind} for open times", path=source, column=picked[0]
        )
    columns = []
    for name in picked[1:]:
        column = table.column(name)
        if not (
            pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type)
        ):
            raise DataFileError(f"column {name}: not numbers ({column.type})", path=source, column=name)
        columns.append(np.array(column.cast(pa.float64()).to_numpy(), dtype=np.float64, copy=True))
    fmt = "parquet" if path.name.lower().endswith(".parquet") else "feather"
    report = LoadReport(source, fmt, "table", tuple(picked), time_format, table.num_rows, "pyarrow", notes)
    return Table(np.array(times, dtype=np.int64, copy=True), columns, report)
