"""Historical funding rates of one perpetual contract: :class:`FundingData`.

Read with the candle importers (JSON, JSON.gz, CSV, feather / parquet in the candle layout) or
from the library's SQLite data file (its ``funding_rates`` table). freqtrade's funding files
(``XRP_USDT_USDT-8h-funding_rate.json``) keep the rate in the ``open`` column, which is the
column read; the other values are ignored. Rates become exact Decimals through their shortest
text (``Decimal(repr(x))``), like candle values.

Funding times are the funding schedule: venues record them a few milliseconds late
(``1637193600017``), so each time is floored to the funding interval (the file's time frame,
``8h`` by default); two rows falling on one funding time are an error. Funding data is for one
contract symbol: a spot symbol, or a file or data set of another symbol, is refused.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from octobot_trading.backtesting import data_file, importers
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, DataFileError
from octobot_trading.util.contract_spec import contract_kind
from octobot_trading.util.decimals import decimal_from_data_float, to_decimal

__all__ = ["FundingData"]


class FundingData:
    """Funding rates of one contract symbol at its funding times (ms), oldest first.

    Parameters
    ----------
    symbol
        A contract symbol (``XRP/USDT:USDT``); a spot symbol raises ``ConfigurationError``.
    times_ms, rates
        Funding times (floored to ``interval``) and their rates (``Decimal``, ``int`` or ``str``;
        a ``float`` raises ``TypeError``).
    interval
        The funding interval (default 8 hours).
    source, time_column
        The file and its time column, named by errors (``<memory>`` and ``times_ms`` by default).
    """

    def __init__(
        self,
        symbol: str,
        times_ms: Sequence[int] | npt.NDArray[np.int64],
        rates: Sequence[Decimal | int | str],
        *,
        interval: TimeFrame | str = TimeFrame.H8,
        source: str = "<memory>",
        exchange: str = "simulator",
        time_column: str = "times_ms",
    ) -> None:
        contract_kind(symbol)
        self.symbol = symbol
        self.interval = TimeFrame.parse(interval)
        self.source = source
        self.exchange = exchange
        raw = np.asarray(times_ms, dtype=np.int64)
        if raw.ndim != 1 or len(raw) != len(rates):
            raise DataFileError("funding times and rates have different lengths", path=source)
        if len(raw) == 0:
            raise DataFileError("no funding rates", path=source)
        values = tuple(to_decimal(r, name="rate") for r in rates)
        times = raw - raw % self.interval.ms
        steps = np.diff(times)
        if (steps <= 0).any():
            row = int(np.flatnonzero(steps <= 0)[0]) + 1
            what = "two rows on one funding time" if steps[row - 1] == 0 else "rows are not sorted by time"
            raise DataFileError(f"column {time_column}: {what}", path=source, row=row, column=time_column)
        times.setflags(write=False)
        self.times: npt.NDArray[np.int64] = times
        self.rates: tuple[Decimal, ...] = values
        #: How many times were moved onto the funding schedule (recorded late by the venue).
        self.adjusted_times = int((raw != times).sum())
        self._time_list: list[int] | None = None
        self._hint = 0  # index of the first time after the last start_ms asked (between's fast path)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        symbol: str | None = None,
        time_frame: TimeFrame | str | None = None,
        exchange: str | None = None,
        time_unit: str | None = None,
    ) -> FundingData:
        """Load funding rates from ``path`` (see the module docstring for the layouts read).

        ``symbol`` and ``time_frame`` (the funding interval) default to what the file name says
        (``XRP_USDT_USDT-8h-funding_rate.json``); a ``symbol`` that contradicts the name is
        refused. For a SQLite data file, ``symbol`` selects the contract.
        """
        file = Path(path)
        name = file.name.lower()
        if name.endswith((".sqlite", ".sqlite3", ".db")):
            file_exchange, found, rows = data_file.read_funding(file, symbol)
            if exchange is not None and exchange != file_exchange:
                raise DataFileError(f"file holds {file_exchange} data, not {exchange}", path=str(file))
            return cls(
                found,
                [t for t, _ in rows],
                [r for _, r in rows],
                interval=time_frame or TimeFrame.H8,
                source=str(file),
                exchange=file_exchange,
                time_column="timestamp",
            )
        guessed_symbol, guessed_tf = importers.guess_symbol_and_time_frame(file)
        if symbol is not None and guessed_symbol is not None and symbol != guessed_symbol:
            raise ConfigurationError(
                f"{file.name} holds funding rates of {guessed_symbol}, not {symbol}", field="symbol", symbol=symbol
            )
        chosen = symbol or guessed_symbol
        if chosen is None:
            raise ConfigurationError(f"{file}: give symbol= (the file name does not say it)", field="symbol")
        times, columns, report = importers.read_columns(file, time_unit)
        opens = columns[0]
        bad = ~np.isfinite(opens)
        if bad.any():
            raise DataFileError(
                "column open: the funding rate is not a finite number",
                path=str(file),
                row=int(np.flatnonzero(bad)[0]),
                column="open",
            )
        rates = [decimal_from_data_float(float(x)) for x in opens]
        return cls(
            chosen,
            times,
            rates,
            interval=time_frame or guessed_tf or TimeFrame.H8,
            source=str(file),
            exchange=exchange or "simulator",
            time_column=report.columns[0],
        )

    def write(self, path: str | Path) -> None:
        """Store these rates in the library's SQLite data file at ``path`` (exact rate text)."""
        data_file.write_funding(
            path, self.exchange, self.symbol, [(int(t), str(r)) for t, r in zip(self.times, self.rates, strict=True)]
        )

    def require_symbol(self, symbol: str) -> None:
        """Raise ``ConfigurationError`` (field ``funding_rates``) unless these rates are ``symbol``'s."""
        if symbol != self.symbol:
            raise ConfigurationError(
                f"funding rates of {self.symbol} given for {symbol}", field="funding_rates", symbol=symbol
            )

    def between(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        """Funding events with ``start_ms < time <= end_ms`` (those a candle closing at ``end_ms`` passes).

        Called once per candle by backtests: plain ``bisect`` on a list of ints (built once), and
        no search at all while ``(start_ms, end_ms]`` lies between two funding times.
        """
        times = self._time_list
        if times is None:
            times = self._time_list = [int(t) for t in self.times]
        index = self._hint
        if not (index == 0 or times[index - 1] <= start_ms) or not (index == len(times) or times[index] > start_ms):
            index = self._hint = bisect.bisect_right(times, start_ms)
        if index == len(times) or times[index] > end_ms:
            return []
        hi = bisect.bisect_right(times, end_ms, index)
        return [(times[i], self.rates[i]) for i in range(index, hi)]

    def __iter__(self) -> Iterator[tuple[int, Decimal]]:
        return ((int(t), r) for t, r in zip(self.times, self.rates, strict=True))

    def __len__(self) -> int:
        return len(self.rates)

    def __repr__(self) -> str:
        return f"FundingData({self.symbol!r}, {self.interval}, x{len(self)})"
