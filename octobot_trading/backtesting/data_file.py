"""The library's own SQLite data file: several symbols and time frames of one exchange.

Schema (version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)            -- format_version, exchange
    markets(symbol TEXT PRIMARY KEY, price_tick TEXT, amount_step TEXT,
            min_amount TEXT, min_cost TEXT)            -- Decimal values as strings
    candles(symbol, time_frame, timestamp INTEGER, open REAL, high REAL, low REAL,
            close REAL, volume REAL, PRIMARY KEY (symbol, time_frame, timestamp)) WITHOUT ROWID
    funding_rates(symbol TEXT, timestamp INTEGER, rate TEXT,  -- optional; rates as exact Decimal text
                  PRIMARY KEY (symbol, timestamp)) WITHOUT ROWID
    mark_candles(...)                                  -- optional; mark-price candles, same columns
                                                       -- as candles (volume 0: marks trade nothing)

Candle values are stored as SQLite REAL (IEEE doubles), which round-trips the floats read from
exchanges exactly, so ``Decimal(repr(x))`` gives the same Decimal as the original JSON text.
Reads use the standard ``sqlite3`` module (``from_file`` is synchronous), streamed in pages
straight into preallocated candle arrays; the data collector readies its file with
:func:`prepare` (the same version check as :func:`write`), then writes with ``aiosqlite`` through
:func:`market_row`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from octobot_trading.backtesting.candle_series import CandleSeries, LoadReport
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.util.decimals import decimal_to_str
from octobot_trading.util.market_spec import MarketSpec

if TYPE_CHECKING:
    from octobot_trading.backtesting.candle_data import CandleData

__all__ = [
    "CANDLE_TABLES",
    "FORMAT_VERSION",
    "SCHEMA",
    "DataFileContents",
    "candle_table",
    "market_row",
    "prepare",
    "read",
    "read_funding",
    "write",
    "write_funding",
]

FORMAT_VERSION = "1"

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS markets (symbol TEXT PRIMARY KEY, price_tick TEXT, amount_step TEXT, "
    "min_amount TEXT, min_cost TEXT)",
    "CREATE TABLE IF NOT EXISTS candles (symbol TEXT NOT NULL, time_frame TEXT NOT NULL, "
    "timestamp INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, "
    "close REAL NOT NULL, volume REAL NOT NULL, PRIMARY KEY (symbol, time_frame, timestamp)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS funding_rates (symbol TEXT NOT NULL, timestamp INTEGER NOT NULL, "
    "rate TEXT NOT NULL, PRIMARY KEY (symbol, timestamp)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS mark_candles (symbol TEXT NOT NULL, time_frame TEXT NOT NULL, "
    "timestamp INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, "
    "close REAL NOT NULL, volume REAL NOT NULL, PRIMARY KEY (symbol, time_frame, timestamp)) WITHOUT ROWID",
)

#: The candle table of each kind of candles: traded (``ohlcv``) and mark-price (``mark``) ones.
CANDLE_TABLES = {"ohlcv": "candles", "mark": "mark_candles"}


@dataclass(slots=True)
class DataFileContents:
    """The series, exchange and market specs read from a data file."""

    series: list[CandleSeries]
    exchange: str
    markets: dict[str, MarketSpec] = field(default_factory=dict)


_PAGE = 50_000
_VALUE_COLUMNS = ("open", "high", "low", "close", "volume")


def _read_series(
    conn: sqlite3.Connection, source: str, sym: str, tf_name: str, allow_gaps: bool, table: str = "candles"
) -> CandleSeries:
    """One series, paged into preallocated arrays (no list of all rows)."""
    (count,) = conn.execute(
        f"SELECT COUNT(*) FROM {table} WHERE symbol = ? AND time_frame = ?",  # a CANDLE_TABLES name
        (sym, tf_name),
    ).fetchone()
    times = np.empty(count, dtype=np.int64)
    columns = [np.empty(count, dtype=np.float64) for _ in range(5)]
    cursor = conn.execute(
        f"SELECT timestamp, open, high, low, close, volume FROM {table} "  # a CANDLE_TABLES name
        "WHERE symbol = ? AND time_frame = ? ORDER BY timestamp",
        (sym, tf_name),
    )
    done = 0
    while True:
        page = cursor.fetchmany(_PAGE)
        if not page:
            break
        stamps = np.array([r[0] for r in page])
        if stamps.dtype.kind == "f" and _whole(stamps).all():  # REAL timestamps holding whole ms
            stamps = stamps.astype(np.int64)
        if stamps.dtype.kind != "i":  # a fraction of a ms or a TEXT timestamp: never truncated
            row = next(i for i, r in enumerate(page) if not (type(r[0]) is int or _whole(np.array([r[0]]))[0]))
            raise DataFileError(
                f"{sym} {tf_name}: column timestamp: not a whole number of ms: {page[row][0]!r}",
                path=source,
                row=done + row,
                column="timestamp",
            )
        times[done : done + len(page)] = stamps
        try:
            block = np.array(page, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            row, name, value = _first_non_number(page)
            raise DataFileError(
                f"{sym} {tf_name}: column {name}: not a number: {value!r}", path=source, row=done + row, column=name
            ) from exc
        for k, column in enumerate(columns):
            column[done : done + len(page)] = block[:, k + 1]
        done += len(page)
    label = f"{source}[{sym} {tf_name}]" if table == "candles" else f"{source}[{table}: {sym} {tf_name}]"
    report = LoadReport(
        label,
        "sqlite",
        "data-file",
        ("timestamp", "open", "high", "low", "close", "volume"),
        "epoch-ms",
        count,
        "sqlite3",
    )
    return CandleSeries.from_arrays(sym, tf_name, times, *columns, source=label, allow_gaps=allow_gaps, report=report)


def _whole(stamps: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Which float timestamps are whole numbers of ms that an int64 holds exactly."""
    if stamps.dtype.kind != "f":
        return np.zeros(len(stamps), dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        return np.isfinite(stamps) & (stamps == np.round(stamps)) & (np.abs(stamps) < 2.0**53)


def _first_non_number(page: list[tuple[object, ...]]) -> tuple[int, str, object]:
    """Where the first value of ``page`` that is not a number is: ``(index, column, value)``."""
    for index, row in enumerate(page):
        for name, value in zip(_VALUE_COLUMNS, row[1:], strict=True):
            if type(value) not in (int, float):
                return index, name, value
    return 0, "open", page[0][1]  # pragma: no cover - numpy refused a page of numbers


def market_row(symbol: str, spec: MarketSpec) -> tuple[str, str, str, str | None, str | None]:
    """Return the ``markets`` row of ``spec``."""

    def opt(value: object) -> str | None:
        return None if value is None else decimal_to_str(value)  # type: ignore[arg-type]

    return (
        symbol,
        decimal_to_str(spec.price_tick),
        decimal_to_str(spec.amount_step),
        opt(spec.min_amount),
        opt(spec.min_cost),
    )


def _create(conn: sqlite3.Connection, source: str) -> None:
    """Create the tables a data file holds (those missing) and stamp its format version.

    A file already holding a ``meta`` of another format version is refused (never re-stamped).
    """
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone():
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta and meta.get("format_version") != FORMAT_VERSION:
            raise DataFileError(
                f"unsupported data file version {meta.get('format_version')!r}: not written", path=source
            )
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('format_version', ?)", (FORMAT_VERSION,))


@contextlib.contextmanager
def _writing(path: str | Path) -> Iterator[sqlite3.Connection]:
    """The data file at ``path`` opened for one transaction (committed when the block ends, rolled
    back on an error), tables created and version checked; closed after. An SQLite error is a
    :class:`DataFileError` naming the file."""
    source = str(path)
    try:
        conn = sqlite3.connect(source)
    except sqlite3.Error as exc:
        raise DataFileError(f"cannot open SQLite file: {exc}", path=source) from exc
    try:
        with conn:
            conn.execute("BEGIN")  # the tables created too: the sqlite3 module begins only before DML
            _create(conn, source)
            yield conn
    except sqlite3.Error as exc:
        raise DataFileError(f"cannot write data file: {exc}", path=source) from exc
    finally:
        conn.close()


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[sqlite3.Connection, dict[str, str]]]:
    """The data file at ``path`` opened read-only and its ``meta`` (format version checked); closed
    after. An SQLite error, opening or reading, is a :class:`DataFileError` naming the file."""
    source = str(path)
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DataFileError(f"cannot open SQLite file: {exc}", path=source) from exc
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format_version") != FORMAT_VERSION:
            raise DataFileError(f"unsupported data file version {meta.get('format_version')!r}", path=source)
        yield conn, meta
    except sqlite3.Error as exc:
        raise DataFileError(f"not a valid data file: {exc}", path=source) from exc
    finally:
        conn.close()


def write(path: str | Path, data: CandleData, *, kind: str = "ohlcv") -> None:
    """Write ``data`` (series and market specs) into a new or existing data file at ``path``.

    Rows already present for the same symbol, time frame and timestamp are replaced. ``kind="mark"``
    writes the series as mark-price candles (the ``mark_candles`` table). A file of another format
    version, or not an SQLite file, is a :class:`DataFileError` naming it, and is left unchanged.
    """
    table = candle_table(kind)
    with _writing(path) as conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('exchange', ?)", (data.exchange,))
        for symbol, spec in data.markets.items():
            conn.execute("INSERT OR REPLACE INTO markets VALUES (?, ?, ?, ?, ?)", market_row(symbol, spec))
        for series in data:
            rows = zip(
                (series.symbol,) * len(series),
                (series.time_frame.value,) * len(series),
                series.times.tolist(),
                series.opens.tolist(),
                series.highs.tolist(),
                series.lows.tolist(),
                series.closes.tolist(),
                series.volumes.tolist(),
                strict=True,
            )
            conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def prepare(path: str | Path, exchange: str) -> None:
    """Ready the data file at ``path`` (created if missing) for adding ``exchange`` data to it:
    tables created, format version checked and stamped, ``exchange`` checked and stamped.

    A file of another format version or holding another exchange's data, or not an SQLite file,
    is a :class:`DataFileError` naming it, left unchanged (one transaction, tables included).
    """
    with _writing(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'exchange'").fetchone()
        if row is not None and row[0] != exchange:
            raise DataFileError(f"file holds {row[0]} data; cannot add {exchange} candles", path=str(path))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('exchange', ?)", (exchange,))


def read(
    path: Path,
    *,
    exchange: str | None = None,
    symbol: str | None = None,
    time_frame: TimeFrame | str | None = None,
    allow_gaps: bool = True,
    price_only: bool = False,
) -> DataFileContents:
    """Read a data file; ``symbol`` / ``time_frame`` select a subset. See :meth:`CandleData.from_file`.

    ``price_only`` reads the mark-price candles (``mark_candles``) instead of the traded ones.
    """
    source = str(path)
    table = CANDLE_TABLES["mark" if price_only else "ohlcv"]
    with _opened(path) as (conn, meta):
        file_exchange = meta.get("exchange", "simulator")
        if exchange is not None and exchange != file_exchange:
            raise DataFileError(f"file holds {file_exchange} data, not {exchange}", path=source)
        markets: dict[str, MarketSpec] = {}
        for sym, tick, step, min_amount, min_cost in conn.execute("SELECT * FROM markets ORDER BY symbol"):
            markets[sym] = MarketSpec(
                price_tick=tick, amount_step=step, min_amount=min_amount, min_cost=min_cost, symbol=sym
            )
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if table not in tables:
            raise DataFileError("the data file holds no mark-price candles", path=source)
        keys = conn.execute(f"SELECT DISTINCT symbol, time_frame FROM {table} ORDER BY symbol, time_frame").fetchall()
        wanted_tf = TimeFrame.parse(time_frame) if time_frame is not None else None
        series = [
            _read_series(conn, source, sym, tf_name, allow_gaps, table)
            for sym, tf_name in keys
            if (symbol is None or sym == symbol) and (wanted_tf is None or tf_name == wanted_tf.value)
        ]
    if not series:
        what = "mark-price candles" if price_only else "candles"
        raise DataFileError(f"no {what} for symbol={symbol} time_frame={time_frame}", path=source)
    return DataFileContents(series, file_exchange, markets)


def candle_table(kind: str) -> str:
    """The table holding candles of ``kind`` (``"ohlcv"`` or ``"mark"``); ``ConfigurationError`` otherwise."""
    try:
        return CANDLE_TABLES[kind]
    except KeyError:
        raise ConfigurationError(
            f"kind must be one of {', '.join(CANDLE_TABLES)}, not {kind!r}", field="kind"
        ) from None


def write_funding(path: str | Path, exchange: str, symbol: str, rows: list[tuple[int, str]]) -> None:
    """Write ``(timestamp ms, rate text)`` funding rows of ``symbol`` into the data file at ``path``."""
    with _writing(path) as conn:
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('exchange', ?)", (exchange,))
        conn.executemany(
            "INSERT OR REPLACE INTO funding_rates VALUES (?, ?, ?)", [(symbol, ts, rate) for ts, rate in rows]
        )


def read_funding(path: Path, symbol: str | None) -> tuple[str, str, list[tuple[int, str]]]:
    """Read the funding rows of ``symbol`` (the only one when None): ``(exchange, symbol, rows)``."""
    source = str(path)
    with _opened(path) as (conn, meta):
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "funding_rates" not in tables:
            raise DataFileError("the data file holds no funding rates", path=source)
        symbols = [s for (s,) in conn.execute("SELECT DISTINCT symbol FROM funding_rates ORDER BY symbol")]
        if symbol is None:
            if len(symbols) != 1:
                raise DataFileError(
                    f"give symbol=: the file holds funding rates of {', '.join(symbols) or 'none'}", path=source
                )
            symbol = symbols[0]
        rows = conn.execute(
            "SELECT timestamp, rate FROM funding_rates WHERE symbol = ? ORDER BY timestamp", (symbol,)
        ).fetchall()
    if not rows:
        raise DataFileError(f"no funding rates for {symbol}", path=source)
    checked = []
    for row, (ts, rate) in enumerate(rows):
        if type(ts) is not int:
            raise DataFileError(
                f"{symbol}: column timestamp: not a whole number of ms: {ts!r}",
                path=source,
                row=row,
                column="timestamp",
            )
        text = str(rate).strip() if isinstance(rate, str | int | float) else ""
        try:
            valid = text.isascii() and Decimal(text).is_finite()
        except InvalidOperation:
            valid = False
        if not valid:
            raise DataFileError(f"{symbol}: column rate: not a number: {rate!r}", path=source, row=row, column="rate")
        checked.append((ts, text))
    return meta.get("exchange", "simulator"), symbol, checked
