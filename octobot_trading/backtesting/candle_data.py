"""Historical candles of one exchange: :class:`CandleData`, several :class:`CandleSeries`.

The series themselves (numpy arrays, validation, gaps) live in
:mod:`~octobot_trading.backtesting.candle_series`; the file readers in
:mod:`~octobot_trading.backtesting.importers`. ``CandleData`` is what ``run_backtest`` and
``ExchangeBuilder.use_backtesting`` take.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from octobot_trading.backtesting import data_file, importers
from octobot_trading.backtesting.candle_series import CandleSeries, Gap, LoadReport
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.market_spec import MarketSpec

__all__ = ["CandleData", "CandleSeries", "Gap", "LoadReport"]


class CandleData:
    """Historical candles of one exchange: several symbols and time frames, plus market specs.

    Build it with :meth:`from_file` (CSV, JSON, JSON.gz, feather / parquet or the library's SQLite data file) or
    from in-memory series with the constructor; combine several with :meth:`merge`.
    """

    def __init__(
        self,
        series: list[CandleSeries] | tuple[CandleSeries, ...] = (),
        *,
        exchange: str = "simulator",
        markets: Mapping[str, MarketSpec] | None = None,
    ) -> None:
        self.exchange = exchange
        self.markets: dict[str, MarketSpec] = dict(markets or {})
        self._series: dict[tuple[str, TimeFrame], CandleSeries] = {}
        for item in series:
            key = (item.symbol, item.time_frame)
            if key in self._series:
                raise ConfigurationError(f"two candle series for {item.symbol} {item.time_frame}", field="data")
            self._series[key] = item

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        exchange: str | None = None,
        symbol: str | None = None,
        time_frame: TimeFrame | str | None = None,
        allow_gaps: bool = True,
        time_unit: str | None = None,
        kind: str = "ohlcv",
    ) -> CandleData:
        """Load candles from ``path`` (see ``docs/backtesting.md`` for every layout read).

        Parameters
        ----------
        path
            ``.csv`` / ``.csv.gz`` (a header with the usual column names, or no header in the
            order ``timestamp,open,high,low,close,volume``, or Binance's 12-column kline dumps;
            times as epoch s / ms / µs / ns or ISO-8601 dates, detected), ``.json`` / ``.json.gz``
            (freqtrade's ``[[ms, o, h, l, c, v], ...]``), ``.feather`` / ``.parquet`` (needs
            ``pyarrow``) or a SQLite data file written by this library (``.sqlite`` / ``.db``).
        exchange
            Exchange name (SQLite files carry their own; default ``"simulator"`` otherwise).
        symbol, time_frame
            Required for single-series files unless the file name says them
            (``BTC_USDT-5m.json``). For SQLite files they select a subset (default: everything).
        allow_gaps
            When False, a gap in the data is an error instead of being reported in ``gaps``.
        time_unit
            ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``: the unit of numeric timestamps, for files
            whose values do not say it (by default it is detected from their magnitude).
        kind
            ``"ohlcv"`` (default): traded candles, every value required. ``"mark"``: mark-price
            candles (``run_backtest(..., mark_prices=)``), which trade nothing: a missing volume
            (``NaN`` / ``null`` / empty, as freqtrade's mark files store it, or no volume column
            in a CSV with a header) reads as 0 and is noted in the load report; prices are
            checked as strictly as ever. In a SQLite data file, ``"mark"`` reads its
            ``mark_candles`` table. Another value raises ``ConfigurationError(field="kind")``.

        What was detected is in each series' :attr:`CandleSeries.report` (also
        :attr:`load_reports`).

        Raises
        ------
        DataFileError
            The file is missing, unreadable, ambiguous or invalid; the message names the file,
            the 0-based data row and the column where it applies (``err.path``, ``err.row``).
        """
        price_only = data_file.candle_table(kind) == data_file.CANDLE_TABLES["mark"]
        loaded = importers.load(
            Path(path),
            exchange=exchange,
            symbol=symbol,
            time_frame=time_frame,
            allow_gaps=allow_gaps,
            time_unit=time_unit,
            price_only=price_only,
        )
        return cls(loaded.series, exchange=loaded.exchange, markets=loaded.markets)

    @property
    def load_reports(self) -> list[LoadReport]:
        """What the readers detected for each series loaded from a file (in-memory ones left out)."""
        return [s.report for s in self._series.values() if s.report is not None]

    def merge(self, other: CandleData) -> CandleData:
        """Return a new CandleData with the series and markets of both (same exchange)."""
        if other.exchange != self.exchange:
            raise ConfigurationError(f"cannot merge data of {self.exchange} and {other.exchange}", field="data")
        merged = CandleData(
            [*self._series.values(), *other._series.values()],
            exchange=self.exchange,
            markets={**self.markets, **other.markets},
        )
        return merged

    def get(self, symbol: str, time_frame: TimeFrame | str) -> CandleSeries:
        """Return the series of ``symbol`` / ``time_frame``; ``ConfigurationError`` if absent."""
        key = (symbol, TimeFrame.parse(time_frame))
        try:
            return self._series[key]
        except KeyError:
            raise ConfigurationError(f"no candles for {symbol} {key[1]} in the data", field="data") from None

    def __iter__(self) -> Iterator[CandleSeries]:
        return iter(self._series.values())

    def __len__(self) -> int:
        return len(self._series)

    @property
    def symbols(self) -> list[str]:
        """Symbols present, in insertion order."""
        return list(dict.fromkeys(s for s, _ in self._series))

    @property
    def time_frames(self) -> list[TimeFrame]:
        """Time frames present, shortest first."""
        return sorted({tf for _, tf in self._series}, key=lambda tf: tf.ms)

    @property
    def total_candles(self) -> int:
        """Number of candles over all series."""
        return sum(len(s) for s in self._series.values())

    def __repr__(self) -> str:
        parts = ", ".join(f"{s.symbol} {s.time_frame} x{len(s)}" for s in self._series.values())
        return f"CandleData(exchange={self.exchange!r}, [{parts}])"
