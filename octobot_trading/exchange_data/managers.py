"""Small market-data managers: ticker, kline (candle in construction), recent trades, funding.

Each holds the latest state of one symbol in memory; updaters write into them (through
:class:`~octobot_trading.exchange_data.market_data.ExchangeMarketData`) and readers use the
properties. None of them reads time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.types import FundingRate, PublicTrade, Ticker

__all__ = ["FundingManager", "Kline", "KlineManager", "RecentTradesManager", "TickerManager"]

DEFAULT_RECENT_TRADES = 1000


class TickerManager:
    """The last ticker of one symbol."""

    __slots__ = ("symbol", "ticker")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.ticker: Ticker | None = None

    def update(self, ticker: Ticker) -> bool:
        """Store ``ticker`` unless it is older than the stored one; return True when stored."""
        current = self.ticker
        if current is not None and ticker.timestamp < current.timestamp:
            return False
        self.ticker = ticker
        return True


class Kline:
    """A candle in construction (floats, like the candle buffers)."""

    __slots__ = ("close", "high", "low", "open", "timestamp", "volume")

    def __init__(self, timestamp: int, open: float, high: float, low: float, close: float, volume: float) -> None:
        self.timestamp = timestamp
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume

    def __repr__(self) -> str:
        return f"Kline({self.timestamp}, o={self.open}, h={self.high}, l={self.low}, c={self.close}, v={self.volume})"


class KlineManager:
    """The candle in construction of one symbol, per time frame."""

    __slots__ = ("_klines", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._klines: dict[TimeFrame, Kline] = {}

    def update(
        self, time_frame: TimeFrame, timestamp: int, open: float, high: float, low: float, close: float, volume: float
    ) -> bool:
        """Set the current candle of ``time_frame``; an older open time is ignored (returns False)."""
        current = self._klines.get(time_frame)
        if current is not None and timestamp < current.timestamp:
            return False
        self._klines[time_frame] = Kline(timestamp, open, high, low, close, volume)
        return True

    def get(self, time_frame: TimeFrame | str) -> Kline | None:
        """The current candle of ``time_frame``, or None."""
        return self._klines.get(TimeFrame.parse(time_frame))


class RecentTradesManager:
    """The last ``max_trades`` public trades of one symbol, deduplicated by trade id."""

    def __init__(self, symbol: str, max_trades: int = DEFAULT_RECENT_TRADES) -> None:
        if max_trades < 1:
            raise ConfigurationError("max_trades must be >= 1", field="max_trades")
        self.symbol = symbol
        self._trades: deque[PublicTrade] = deque(maxlen=max_trades)
        self._ids: deque[str] = deque(maxlen=max_trades)
        self._id_set: set[str] = set()

    def add(self, trades: Iterable[PublicTrade]) -> list[PublicTrade]:
        """Add trades (oldest first); return those that were new (re-delivered ids are skipped)."""
        added = []
        last_ts = self._trades[-1].timestamp if self._trades else None
        for trade in trades:
            if trade.id is not None:
                if trade.id in self._id_set:
                    continue
                if len(self._ids) == self._ids.maxlen:
                    self._id_set.discard(self._ids[0])
                self._ids.append(trade.id)
                self._id_set.add(trade.id)
            elif last_ts is not None and trade.timestamp < last_ts:
                continue
            self._trades.append(trade)
            last_ts = trade.timestamp
            added.append(trade)
        return added

    @property
    def trades(self) -> list[PublicTrade]:
        """Kept trades, oldest first."""
        return list(self._trades)

    @property
    def last(self) -> PublicTrade | None:
        """The newest trade, or None."""
        return self._trades[-1] if self._trades else None

    def __len__(self) -> int:
        return len(self._trades)


class FundingManager:
    """The last funding information of one perpetual symbol."""

    __slots__ = ("funding", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.funding: FundingRate | None = None

    def update(self, funding: FundingRate) -> None:
        """Store ``funding``."""
        self.funding = funding
