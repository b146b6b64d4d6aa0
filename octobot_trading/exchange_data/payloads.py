"""Channel payloads: the typed messages published on an exchange's channels.

Hot payloads (candles, klines, prices) are ``slots`` dataclasses that are *not* frozen, so a
backtest driver may build them cheaply (a frozen dataclass pays one ``object.__setattr__`` per
field); consumers must treat every payload as read-only. Facts that carry money use the typed
results of :mod:`octobot_trading.exchanges.types` (Decimal fields). Candle values in
:class:`CandleUpdate` are floats on purpose: they are the numbers written into the numpy candle
buffers; floats are allowed in candle buffers and indicator arrays, never for money (a
close becomes a Decimal through its shortest repr when it prices an order).

Personal-data payloads (orders, trades, balance, positions) wrap objects defined by the trading
core; they are typed loosely (``object``) so that market data does not depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import TimeFrame
from octobot_trading.exchanges.types import FundingRate, OrderBook, PublicTrade, Ticker

__all__ = [
    "BalanceUpdate",
    "CandleUpdate",
    "FundingUpdate",
    "KlineUpdate",
    "MarkPriceUpdate",
    "OrderBookUpdate",
    "OrderUpdate",
    "PositionUpdate",
    "RecentTradesUpdate",
    "TickerUpdate",
    "TradeUpdate",
]


@dataclass(slots=True)
class CandleUpdate:
    """A closed candle of ``symbol`` / ``time_frame``; ``timestamp`` is its open time (ms)."""

    symbol: str
    time_frame: TimeFrame
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(slots=True)
class KlineUpdate:
    """The candle still in construction (its values change until it closes)."""

    symbol: str
    time_frame: TimeFrame
    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True, slots=True)
class TickerUpdate:
    """A new ticker of ``symbol``."""

    symbol: str
    ticker: Ticker


@dataclass(frozen=True, slots=True)
class OrderBookUpdate:
    """The order book of ``symbol`` changed; ``book`` is a snapshot of its top levels."""

    symbol: str
    book: OrderBook


@dataclass(frozen=True, slots=True)
class RecentTradesUpdate:
    """New public trades of ``symbol``, oldest first."""

    symbol: str
    trades: tuple[PublicTrade, ...]


@dataclass(frozen=True, slots=True)
class FundingUpdate:
    """New funding information of a perpetual ``symbol``."""

    symbol: str
    funding: FundingRate


@dataclass(slots=True)
class MarkPriceUpdate:
    """The mark price of ``symbol`` changed; ``source`` says which source provided it."""

    symbol: str
    price: Decimal
    source: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order of the account changed (object defined by the trading core)."""

    symbol: str
    order: object


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    """A fill of the account (object defined by the trading core)."""

    symbol: str
    trade: object


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """The account's balances changed; ``balances`` maps currency to the core's balance object."""

    balances: object
    symbol: str | None = None


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """A futures position changed (object defined by the trading core)."""

    symbol: str
    position: object
