"""Mark price of one symbol, chosen among four sources by priority and freshness.

Sources, highest priority first (:class:`PriceSource`):

1. ``MARK_PRICE`` — the exchange's own mark price (futures; also funding updates);
2. ``RECENT_TRADES`` — the price of the last public trade;
3. ``TICKER`` — the ticker's last price;
4. ``CANDLE`` — the close of the last closed candle (read from the candle buffers registered with
   :meth:`PricesManager.add_candle_source` when the price is read, so a backtest pays nothing
   per candle; :meth:`PricesManager.set_candle_close` records one explicitly).

Each value is valid for a window after it was received (clock time; a candle close counts as
received at its candle's close time): 30 s for the first three by default, two candle lengths
for a candle close (so a backtest on 1h candles always has a
price). ``mark_price`` is the highest-priority *valid* value; when none is valid it falls back
to the most recently received value of any source (marked stale in :meth:`PricesManager.info`),
and it is None only before the first price. Windows are configurable per source.

Prices arrive as Decimal (from typed exchange results) or as float (candle buffers); a float
becomes a Decimal through its shortest string form only when it is read, so backtests pay no
Decimal cost per candle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from octobot_trading.clock import Clock
from octobot_trading.exchange_data.candles import CandlesManager
from octobot_trading.util.decimals import decimal_from_data_float

__all__ = ["MarkPrice", "PriceSource", "PricesManager"]


class PriceSource(StrEnum):
    """Where a mark price came from (declared in priority order)."""

    MARK_PRICE = "mark_price"
    RECENT_TRADES = "recent_trades"
    TICKER = "ticker"
    CANDLE = "candle"


DEFAULT_VALIDITY_MS: dict[PriceSource, int] = {
    PriceSource.MARK_PRICE: 30_000,
    PriceSource.RECENT_TRADES: 30_000,
    PriceSource.TICKER: 30_000,
    PriceSource.CANDLE: 0,  # 0: two lengths of the candle's time frame
}
_ORDER = tuple(PriceSource)


@dataclass(frozen=True, slots=True)
class MarkPrice:
    """The current mark price with where and when it came from."""

    price: Decimal
    source: PriceSource
    received_ms: int
    stale: bool


class PricesManager:
    """Mark price of ``symbol`` (see the module docstring).

    Parameters
    ----------
    symbol:
        The symbol priced.
    clock:
        Time source for the validity windows.
    validity_ms:
        Per-source validity windows overriding :data:`DEFAULT_VALIDITY_MS`.
    """

    __slots__ = ("_candle_buffers", "_decimals", "_received", "_until", "_values", "clock", "symbol", "validity_ms")

    def __init__(self, symbol: str, clock: Clock, validity_ms: Mapping[PriceSource, int] | None = None) -> None:
        self.symbol = symbol
        self.clock = clock
        self.validity_ms = dict(DEFAULT_VALIDITY_MS)
        if validity_ms:
            self.validity_ms.update({PriceSource(k): int(v) for k, v in validity_ms.items()})
        n = len(_ORDER)
        self._values: list[Decimal | float | None] = [None] * n
        self._decimals: list[Decimal | None] = [None] * n
        self._received: list[int] = [0] * n
        self._until: list[int] = [0] * n
        self._candle_buffers: list[CandlesManager] = []

    def add_candle_source(self, buffer: CandlesManager) -> None:
        """Read the CANDLE source from ``buffer`` when the price is read (nothing per candle).

        The newest close among the registered buffers counts, dated at its candle's close time.
        """
        if buffer not in self._candle_buffers:
            self._candle_buffers.append(buffer)

    def _sync_candles(self) -> None:
        best: CandlesManager | None = None
        best_close = -1
        for buffer in self._candle_buffers:
            last = buffer.last_timestamp
            if last is not None and last + buffer.time_frame.ms > best_close:
                best, best_close = buffer, last + buffer.time_frame.ms
        if best is None or (self._values[3] is not None and best_close < self._received[3]):
            return
        close = best.last_close
        if self._values[3] != close or self._received[3] != best_close:
            self._values[3] = close
            self._decimals[3] = None
            self._received[3] = best_close
            window = self.validity_ms[PriceSource.CANDLE]
            self._until[3] = best_close + (window if window > 0 else 2 * best.time_frame.ms)

    def set_price(self, source: PriceSource, price: Decimal | float, *, window_ms: int | None = None) -> None:
        """Record ``price`` from ``source`` now; ``window_ms`` overrides its validity window."""
        i = _ORDER.index(source)
        now = self.clock.now_ms()
        self._values[i] = price
        self._decimals[i] = price if isinstance(price, Decimal) else None
        self._received[i] = now
        self._until[i] = now + (self.validity_ms[source] if window_ms is None else window_ms)

    def set_candle_close(self, close: float | Decimal, time_frame_ms: int) -> None:
        """Record a closed candle's close (valid for ``validity_ms[CANDLE]`` or two candles)."""
        now = self.clock.now_ms()
        self._values[3] = close
        self._decimals[3] = close if isinstance(close, Decimal) else None
        self._received[3] = now
        window = self.validity_ms[PriceSource.CANDLE]
        self._until[3] = now + (window if window > 0 else 2 * time_frame_ms)

    def _decimal(self, i: int) -> Decimal:
        cached = self._decimals[i]
        if cached is None:
            value = self._values[i]
            assert value is not None
            cached = self._decimals[i] = decimal_from_data_float(value)  # type: ignore[arg-type]
        return cached

    def info(self) -> MarkPrice | None:
        """The current mark price with its source, or None before any price."""
        if self._candle_buffers:
            self._sync_candles()
        now = self.clock.now_ms()
        newest = -1
        for i in range(len(_ORDER)):
            if self._values[i] is None:
                continue
            if now <= self._until[i]:
                return MarkPrice(self._decimal(i), _ORDER[i], self._received[i], False)
            if newest < 0 or self._received[i] > self._received[newest]:
                newest = i
        if newest < 0:
            return None
        return MarkPrice(self._decimal(newest), _ORDER[newest], self._received[newest], True)

    @property
    def mark_price(self) -> Decimal | None:
        """The current mark price (see the module docstring), or None before any price."""
        info = self.info()
        return None if info is None else info.price

    def price_of(self, source: PriceSource) -> Decimal | None:
        """The last value received from ``source`` (valid or not), or None."""
        i = _ORDER.index(source)
        if i == 3 and self._candle_buffers:
            self._sync_candles()
        return None if self._values[i] is None else self._decimal(i)
