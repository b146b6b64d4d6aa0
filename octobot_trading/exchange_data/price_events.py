"""Price events: be told, exactly once, when the price of a symbol crosses a threshold.

``events.register(threshold, Crossing.BELOW, callback)`` returns a :class:`PriceEvent` that
fires when a price ``<= threshold`` is seen (``Crossing.ABOVE``: ``>= threshold``). Firing calls
the (synchronous) callback with the event and resolves ``await event.wait()`` with the price
that crossed. An event fires once and only once; :meth:`PriceEvent.cancel` withdraws it.

Registration checks the recent prices at once: the last price seen, or, with ``since_ms``, every
price recorded since that time (a bounded history), so a threshold already crossed when the
event is registered (say, an order created just before a spike) fires immediately.

Prices are fed by the symbol's data (trades, ticker, mark price, candle low/high). The check per
price is two comparisons against precomputed nearest thresholds (the lowest ABOVE and highest
BELOW threshold; infinities when there are none), so it costs nearly nothing when no event is
pending. Float prices (candles) are compared exactly with the Decimal thresholds and become
Decimals (shortest form) only when an event fires.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.util.decimals import decimal_from_data_float, to_decimal
from octobot_trading.util.logging import get_logger

__all__ = ["Crossing", "PriceEvent", "PriceEventsManager"]

_logger = get_logger(__name__)
_INF = float("inf")
DEFAULT_HISTORY = 256


class Crossing(StrEnum):
    """Direction of a price event: fire when the price reaches the threshold from below/above."""

    ABOVE = "above"
    BELOW = "below"


def _as_decimal(price: Decimal | float) -> Decimal:
    return price if isinstance(price, Decimal) else decimal_from_data_float(price)


class PriceEvent:
    """One registered threshold; fires once (see the module docstring)."""

    __slots__ = (
        "_future",
        "_manager",
        "callback",
        "canceled",
        "crossing",
        "fired",
        "price",
        "seq",
        "symbol",
        "threshold",
    )

    def __init__(
        self,
        manager: PriceEventsManager,
        threshold: Decimal,
        crossing: Crossing,
        callback: Callable[[PriceEvent], Any] | None,
        seq: int,
    ) -> None:
        self._manager = manager
        self.symbol = manager.symbol
        self.threshold = threshold
        self.crossing = crossing
        self.callback = callback
        self.seq = seq
        self.fired = False
        self.canceled = False
        #: the price that crossed the threshold, once fired
        self.price: Decimal | None = None
        self._future: asyncio.Future[Decimal] | None = None

    @property
    def done(self) -> bool:
        """True once fired or canceled."""
        return self.fired or self.canceled

    def cancel(self) -> bool:
        """Withdraw the event; return False when it had already fired or been canceled."""
        if self.done:
            return False
        self.canceled = True
        self._manager._on_cancel(self)
        if self._future is not None and not self._future.done():
            self._future.cancel()
        return True

    async def wait(self) -> Decimal:
        """Wait until the event fires and return the crossing price.

        Raises ``asyncio.CancelledError`` if the event is (or gets) canceled.
        """
        if self.fired:
            assert self.price is not None
            return self.price
        if self.canceled:
            raise asyncio.CancelledError(f"price event {self!r} was canceled")
        if self._future is None:
            self._future = asyncio.get_running_loop().create_future()
        # shielded: a canceled waiter must not cancel the event for other waiters
        return await asyncio.shield(self._future)

    def _fire(self, price: Decimal) -> None:
        self.fired = True
        self.price = price
        if self._future is not None and not self._future.done():
            self._future.set_result(price)
        if self.callback is not None:
            try:
                self.callback(self)
            except Exception:
                _logger.exception("price event callback failed for %s", self)

    def __repr__(self) -> str:
        state = "fired" if self.fired else "canceled" if self.canceled else "pending"
        return f"PriceEvent({self.symbol} {self.crossing} {self.threshold}, {state})"


class PriceEventsManager:
    """Pending price events of one symbol.

    Parameters
    ----------
    symbol:
        The symbol watched.
    clock:
        Time source for the price history (``since_ms`` checks).
    history:
        Number of recent prices remembered for ``since_ms`` checks (0 keeps only the last one).
    """

    def __init__(self, symbol: str, clock: Clock, history: int = DEFAULT_HISTORY) -> None:
        self.symbol = symbol
        self.clock = clock
        self._above: list[tuple[Decimal, int, PriceEvent]] = []  # min-heap by threshold
        self._below: list[tuple[Decimal, int, PriceEvent]] = []  # min-heap by -threshold
        self._lowest_above: Decimal | float = _INF
        self._highest_below: Decimal | float = -_INF
        self._seq = itertools.count()
        self._last: Decimal | float | None = None
        self._history: deque[tuple[int, Decimal | float, Decimal | float]] | None = (
            deque(maxlen=history) if history > 0 else None
        )

    # -- registration -----------------------------------------------------------------------
    def register(
        self,
        threshold: Decimal | int | str,
        crossing: Crossing | str,
        callback: Callable[[PriceEvent], Any] | None = None,
        *,
        since_ms: int | None = None,
    ) -> PriceEvent:
        """Register a threshold; fire at once if recent prices already crossed it.

        Parameters
        ----------
        threshold:
            The price (Decimal, int or str; a float is a ``TypeError``).
        crossing:
            ``ABOVE`` fires on a price ``>= threshold``; ``BELOW`` on a price ``<= threshold``.
        callback:
            Called once with the event when it fires (synchronously; schedule your own task
            for slow work).
        since_ms:
            Also check every price recorded since this clock time (default: only the last price).
        """
        value = to_decimal(threshold, name="threshold")
        direction = Crossing(crossing)
        event = PriceEvent(self, value, direction, callback, next(self._seq))
        crossed = self._recent_crossing(value, direction, since_ms)
        if crossed is not None:
            event._fire(_as_decimal(crossed))
            return event
        if direction is Crossing.ABOVE:
            heapq.heappush(self._above, (value, event.seq, event))
            self._lowest_above = self._above[0][0]
        else:
            heapq.heappush(self._below, (-value, event.seq, event))
            self._highest_below = -self._below[0][0]
        return event

    def _recent_crossing(self, value: Decimal, direction: Crossing, since_ms: int | None) -> Decimal | float | None:
        if self._last is None:
            return None
        candidates: list[tuple[Decimal | float, Decimal | float]] = [(self._last, self._last)]
        if since_ms is not None and self._history is not None:
            candidates = [(low, high) for t, low, high in self._history if t >= since_ms] + candidates
        for low, high in candidates:
            if direction is Crossing.ABOVE and high >= value:
                return high
            if direction is Crossing.BELOW and low <= value:
                return low
        return None

    @property
    def pending(self) -> int:
        """Number of events waiting to fire."""
        return sum(1 for *_, e in self._above if not e.done) + sum(1 for *_, e in self._below if not e.done)

    @property
    def last_price(self) -> Decimal | None:
        """The last price seen, or None."""
        return None if self._last is None else _as_decimal(self._last)

    def _on_cancel(self, event: PriceEvent) -> None:
        self._clean()

    def _clean(self) -> None:
        above, below = self._above, self._below
        while above and above[0][2].done:
            heapq.heappop(above)
        while below and below[0][2].done:
            heapq.heappop(below)
        self._lowest_above = above[0][0] if above else _INF
        self._highest_below = -below[0][0] if below else -_INF

    # -- prices -----------------------------------------------------------------------------
    def on_price(self, price: Decimal | float) -> None:
        """Check one observed price (hot path: two comparisons when nothing is due)."""
        self._last = price
        if self._history is not None:
            self._history.append((self.clock.now_ms(), price, price))
        if price >= self._lowest_above:
            self._fire_above(price)
        if price <= self._highest_below:
            self._fire_below(price)

    def on_price_range(
        self, low: Decimal | float, high: Decimal | float, last: Decimal | float, time_ms: int | None = None
    ) -> None:
        """Check a range of prices seen (a candle's low and high), then remember ``last``.

        ``time_ms`` dates the range in the history (default: the clock's time).
        """
        self._last = last
        if self._history is not None:
            self._history.append((self.clock.now_ms() if time_ms is None else time_ms, low, high))
        if high >= self._lowest_above:
            self._fire_above(high)
        if low <= self._highest_below:
            self._fire_below(low)

    def _fire_above(self, price: Decimal | float) -> None:
        due = []
        heap = self._above
        while heap and price >= heap[0][0]:
            _, _, event = heapq.heappop(heap)
            if not event.done:
                due.append(event)
        self._clean()
        if due:
            value = _as_decimal(price)
            for event in due:
                event._fire(value)

    def _fire_below(self, price: Decimal | float) -> None:
        due = []
        heap = self._below
        while heap and price <= -heap[0][0]:
            _, _, event = heapq.heappop(heap)
            if not event.done:
                due.append(event)
        self._clean()
        if due:
            value = _as_decimal(price)
            for event in due:
                event._fire(value)

    def cancel_all(self) -> None:
        """Cancel every pending event (on stop)."""
        for *_, event in list(self._above) + list(self._below):
            event.cancel()
        self._above.clear()
        self._below.clear()
        self._clean()
