"""The data collector: download candles through a connector into the library's SQLite data file.

:func:`download_data` pages through ``connector.fetch_ohlcv`` (any
:class:`~octobot_trading.exchanges.connector.ExchangeConnector`; the CLI passes the venue's
exchange class over its connector, so the class's ``fix_candles`` / ``fix_markets`` apply)
for each symbol and time frame, appends the candles to the data file with ``aiosqlite``, and

* **resumes**: when the file already holds candles of a series, the download starts right
  after the last stored candle (an interrupted download is simply run again);
* **keeps only closed candles** (open time + time frame <= the connector clock's now);
* **detects gaps** the exchange has no candles for (reported in the result, never invented);
* shows a ``tqdm`` progress bar when asked;
* for **contract symbols** (``XRP/USDT:USDT``), also downloads the mark-price candles of each
  time frame (``fetch_mark_ohlcv``, into the ``mark_candles`` table) and the funding-rate
  history (``fetch_funding_rate_history``, into ``funding_rates``, rates as exact text), resumed
  the same way; a venue that does not offer one of them is noted in the report (``NotSupported``
  is not fatal), any other error is raised.

Re-running over the same range is idempotent (rows are keyed by symbol, time frame and open
time). The file's ``exchange`` metadata must match the connector's exchange and its format version
this library's (:func:`~octobot_trading.backtesting.data_file.prepare`, the same check as its writes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite

from octobot_trading.backtesting.candle_series import Gap
from octobot_trading.backtesting.data_file import CANDLE_TABLES, market_row, prepare
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import DataFileError, NotSupported
from octobot_trading.util.decimals import decimal_to_str
from octobot_trading.util.logging import get_logger
from octobot_trading.util.symbols import parse_symbol

__all__ = ["DownloadReport", "FundingReport", "SeriesReport", "download_data"]

_logger = get_logger(__name__)


@dataclass(slots=True)
class SeriesReport:
    """What was downloaded for one symbol and time frame (``kind``: ``"ohlcv"`` or ``"mark"`` candles).

    ``not_supported`` holds the venue's reason when it offers no such candles (mark prices).
    """

    symbol: str
    time_frame: TimeFrame
    resumed_from: int | None
    downloaded: int = 0
    requests: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    gaps: list[Gap] = field(default_factory=list)
    kind: str = "ohlcv"
    not_supported: str | None = None


@dataclass(slots=True)
class FundingReport:
    """What was downloaded of one contract's funding-rate history."""

    symbol: str
    resumed_from: int | None
    downloaded: int = 0
    requests: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    not_supported: str | None = None


@dataclass(slots=True)
class DownloadReport:
    """The result of :func:`download_data`: one :class:`SeriesReport` per series."""

    path: Path
    exchange: str
    series: list[SeriesReport]
    funding: list[FundingReport] = field(default_factory=list)

    @property
    def downloaded(self) -> int:
        """Candles written in this run."""
        return sum(s.downloaded for s in self.series)


async def _last_stored(
    db: aiosqlite.Connection, symbol: str, time_frame: TimeFrame | None, table: str = "candles"
) -> int | None:
    args: tuple[str, ...]
    if time_frame is None:  # funding_rates
        query, args = f"SELECT MAX(timestamp) FROM {table} WHERE symbol = ?", (symbol,)
    else:
        query = f"SELECT MAX(timestamp) FROM {table} WHERE symbol = ? AND time_frame = ?"
        args = (symbol, time_frame.value)
    async with db.execute(query, args) as cursor:
        row = await cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def download_data(
    connector: Any,
    *,
    symbols: Sequence[str],
    time_frames: Sequence[TimeFrame | str],
    since_ms: int,
    out: str | Path,
    until_ms: int | None = None,
    page_limit: int = 1000,
    progress: bool = False,
) -> DownloadReport:
    """Download closed candles into the SQLite data file ``out`` (created if missing).

    Parameters
    ----------
    connector
        An exchange connector (``fetch_ohlcv``, ``load_markets``, ``clock``, ``name``; for
        contract symbols also ``fetch_mark_ohlcv`` and ``fetch_funding_rate_history``).
    symbols, time_frames
        What to download.
    since_ms
        Open time of the first candle wanted (ignored for series the file already holds past it).
    until_ms
        Stop before this open time (default: the connector clock's now).
    page_limit
        Candles asked per request.
    progress
        Show a tqdm progress bar per series.

    Raises
    ------
    DataFileError
        The file belongs to another exchange, is of another format version or is not a data file
        (it is left unchanged).
    """
    path = Path(out)
    exchange = str(connector.name)
    now = connector.clock.now_ms()
    end = now if until_ms is None else min(until_ms, now)
    markets = await connector.load_markets()
    reports: list[SeriesReport] = []
    funding_reports: list[FundingReport] = []
    await asyncio.to_thread(prepare, path, exchange)  # checked, created and stamped
    try:
        db = await aiosqlite.connect(str(path))
    except Exception as exc:  # aiosqlite raises sqlite3 errors
        raise DataFileError(f"cannot open data file: {exc}", path=str(path)) from exc
    try:
        for symbol in symbols:
            info = markets.get(symbol)
            if info is not None:
                await db.execute("INSERT OR REPLACE INTO markets VALUES (?, ?, ?, ?, ?)", market_row(symbol, info.spec))
            contract = not parse_symbol(symbol).is_spot
            for tf_value in time_frames:
                tf = TimeFrame.parse(tf_value)
                report = await _download_series(db, connector, symbol, tf, since_ms, end, page_limit, progress)
                reports.append(report)
                await db.commit()
                if contract:
                    reports.append(
                        await _download_series(
                            db, connector, symbol, tf, since_ms, end, page_limit, progress, kind="mark"
                        )
                    )
                    await db.commit()
            if contract:
                funding_reports.append(await _download_funding(db, connector, symbol, since_ms, end, page_limit))
                await db.commit()
    finally:
        await db.close()
    for report in reports:
        for gap in report.gaps:
            _logger.warning(
                "%s %s: %d missing candle(s) after %d", report.symbol, report.time_frame, gap.missing, gap.after_ms
            )
    return DownloadReport(path, exchange, reports, funding_reports)


async def _download_funding(
    db: aiosqlite.Connection, connector: Any, symbol: str, since_ms: int, end_ms: int, page_limit: int
) -> FundingReport:
    """Page through the funding-rate history of ``symbol`` into ``funding_rates`` (resumed)."""
    last = await _last_stored(db, symbol, None, "funding_rates")
    cursor = since_ms if last is None or last < since_ms else last + 1
    report = FundingReport(symbol, None if last is None or last < since_ms else last)
    while cursor <= end_ms:
        try:
            events = await connector.fetch_funding_rate_history(symbol, since=cursor, limit=page_limit)
        except NotSupported as exc:
            report.not_supported = str(exc)
            _logger.warning("%s: no funding-rate history on this venue (%s)", symbol, exc)
            break
        report.requests += 1
        rows = [
            (symbol, e.timestamp, decimal_to_str(e.rate))
            for e in events
            if e.timestamp is not None and cursor <= e.timestamp <= end_ms
        ]
        if not rows:
            break
        await db.executemany("INSERT OR REPLACE INTO funding_rates VALUES (?, ?, ?)", rows)
        report.downloaded += len(rows)
        report.first_ms = rows[0][1] if report.first_ms is None else report.first_ms
        report.last_ms = rows[-1][1]
        cursor = rows[-1][1] + 1
    return report


async def _download_series(
    db: aiosqlite.Connection,
    connector: Any,
    symbol: str,
    tf: TimeFrame,
    since_ms: int,
    end_ms: int,
    page_limit: int,
    progress: bool,
    *,
    kind: str = "ohlcv",
) -> SeriesReport:
    tf_ms = tf.ms
    table = CANDLE_TABLES[kind]
    fetch = connector.fetch_mark_ohlcv if kind == "mark" else connector.fetch_ohlcv
    last = await _last_stored(db, symbol, tf, table)
    start = since_ms - since_ms % tf_ms if since_ms % tf_ms else since_ms
    resumed = None
    if last is not None and last + tf_ms > start:
        start = last + tf_ms
        resumed = last
    report = SeriesReport(symbol, tf, resumed, kind=kind)
    bar = None
    if progress:
        from tqdm import tqdm

        desc = f"{symbol} {tf}" + (" mark" if kind == "mark" else "")
        bar = tqdm(total=max(0, (end_ms - start) // tf_ms), unit="candle", desc=desc, leave=False)
    previous = last
    cursor = start
    try:
        while cursor + tf_ms <= end_ms:
            try:
                candles = await fetch(symbol, tf, since=cursor, limit=page_limit)
            except NotSupported as exc:
                if kind == "ohlcv":
                    raise
                report.not_supported = str(exc)
                _logger.warning("%s %s: no mark-price candles on this venue (%s)", symbol, tf, exc)
                break
            report.requests += 1
            rows = []
            for candle in candles:
                t = candle.timestamp
                if t < cursor or t + tf_ms > end_ms:
                    continue
                if previous is not None and t - previous > tf_ms:
                    report.gaps.append(Gap(previous, t, (t - previous) // tf_ms - 1))
                rows.append(
                    (
                        symbol,
                        tf.value,
                        t,
                        float(candle.open),
                        float(candle.high),
                        float(candle.low),
                        float(candle.close),
                        float(candle.volume or 0),
                    )
                )
                previous = t
            if not rows:
                break
            await db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            report.downloaded += len(rows)
            report.first_ms = rows[0][2] if report.first_ms is None else report.first_ms
            report.last_ms = rows[-1][2]
            cursor = rows[-1][2] + tf_ms
            if bar is not None:
                bar.update(len(rows))
    finally:
        if bar is not None:
            bar.close()
    return report
