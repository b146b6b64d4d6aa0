"""The market-data side of the backtest simulator connector: historical data read at clock time.

:class:`HistoricalMarketSide` answers the market-data half of the
:class:`~octobot_trading.exchanges.connector.ExchangeConnector` contract from a
:class:`~octobot_trading.backtesting.candle_data.CandleData` and the simulated clock, with no
look-ahead: only candles whose close time is ``<= clock.now_ms()`` exist. The simulated
connector of the trading core delegates its market-data methods here (``load_markets``,
``fetch_ticker``, ``fetch_ohlcv``, ``fetch_order_book``, ``fetch_recent_trades``).

Candle data has no order book and no public trades: those two raise ``NotSupported`` with a
message saying so rather than inventing them. The ticker's ``last`` is the last closed candle's
close (exact ``Decimal(repr(x))``); ``bid`` / ``ask`` are None.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from octobot_trading.backtesting.candle_data import CandleData, CandleSeries
from octobot_trading.clock import Clock
from octobot_trading.enums import MarketType, TimeFrame
from octobot_trading.errors import NotSupported, UnknownSymbol
from octobot_trading.exchanges.types import Candle, MarketInfo, OrderBook, PublicTrade, Ticker
from octobot_trading.util.decimals import decimal_from_data_float
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import parse_symbol

__all__ = ["HistoricalMarketSide"]


class HistoricalMarketSide:
    """Market data of a backtest at the clock's current time (see the module docstring).

    Parameters
    ----------
    data
        The historical candles.
    clock
        The simulated clock.
    markets
        Market specs by symbol (override ``data.markets``; default: ``1e-8`` steps, no minimums).
    fees
        ``(maker, taker)`` rates reported in the markets, if given.
    """

    def __init__(
        self,
        data: CandleData,
        clock: Clock,
        *,
        markets: Mapping[str, MarketSpec] | None = None,
        fees: tuple[Decimal, Decimal] | None = None,
    ) -> None:
        self.data = data
        self.clock = clock
        self.name = data.exchange
        specs = {**data.markets, **(markets or {})}
        self._markets: dict[str, MarketInfo] = {}
        for symbol in data.symbols:
            parsed = parse_symbol(symbol)
            market_type = (
                MarketType.SPOT if parsed.is_spot else (MarketType.LINEAR if parsed.is_linear else MarketType.INVERSE)
            )
            self._markets[symbol] = MarketInfo(
                symbol=symbol,
                base=parsed.base,
                quote=parsed.quote,
                market_type=market_type,
                spec=specs.get(symbol) or MarketSpec(symbol=symbol),
                settle=parsed.settle,
                maker_fee=fees[0] if fees else None,
                taker_fee=fees[1] if fees else None,
            )

    def market_spec(self, symbol: str) -> MarketSpec:
        """Return the spec of ``symbol``."""
        return self.market_info(symbol).spec

    def market_info(self, symbol: str) -> MarketInfo:
        """Return the market of ``symbol`` (``UnknownSymbol`` when the data has none)."""
        try:
            return self._markets[symbol]
        except KeyError:
            raise UnknownSymbol(f"{symbol} is not in the backtest data", symbol=symbol) from None

    async def load_markets(self, reload: bool = False) -> Mapping[str, MarketInfo]:
        """Return the markets of the data's symbols."""
        return dict(self._markets)

    def _base_series(self, symbol: str) -> CandleSeries:
        self.market_info(symbol)
        own = [s for s in self.data if s.symbol == symbol]
        return min(own, key=lambda s: s.time_frame.ms)

    def _closed_count(self, series: CandleSeries) -> int:
        """Number of candles of ``series`` closed at the clock's time."""
        limit = self.clock.now_ms() - series.time_frame.ms
        return int(np.searchsorted(series.times, limit, side="right"))

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """Return a ticker whose ``last`` is the last closed candle's close."""
        series = self._base_series(symbol)
        count = self._closed_count(series)
        last = series.close_decimal(count - 1) if count else None
        return Ticker(symbol=symbol, timestamp=self.clock.now_ms(), last=last, close=last)

    def last_price(self, symbol: str) -> Decimal | None:
        """The last closed candle's close of ``symbol`` (exact), or None before the first close."""
        series = self._base_series(symbol)
        count = self._closed_count(series)
        return decimal_from_data_float(float(series.closes[count - 1])) if count else None

    async def fetch_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return closed candles (oldest first) with open time ``>= since``, at most ``limit``."""
        self.market_info(symbol)
        series = self.data.get(symbol, time_frame)
        stop = self._closed_count(series)
        start = 0 if since is None else int(np.searchsorted(series.times[:stop], since, side="left"))
        if limit is not None:
            stop = min(stop, start + limit) if since is not None else stop
            start = max(start, stop - limit)
        return [series.candle(i) for i in range(start, stop)]

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """Candle data has no order book: raise ``NotSupported``."""
        raise NotSupported("backtests replay candles: there is no historical order book", symbol=symbol)

    async def fetch_recent_trades(self, symbol: str, limit: int | None = None) -> list[PublicTrade]:
        """Candle data has no public trades: raise ``NotSupported``."""
        raise NotSupported("backtests replay candles: there are no historical public trades", symbol=symbol)
