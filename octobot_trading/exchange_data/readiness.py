"""Readiness: an exchange is ready for strategies once every required topic has been seen.

Topics are strings built from :class:`ReadinessTopic` and, where they apply, a symbol and a
time frame: ``"balance"``, ``"orders"``, ``"markets"``, ``"candles:BTC/USDT:1h"``,
``"price:BTC/USDT"``; futures add ``"positions"``, ``"contracts"`` and, for each perpetual,
``"funding:BTC/USDT:USDT"`` (a dated future such as ``BTC/USDT:USDT-261225`` has no funding:
:func:`perpetual_symbols`).
:meth:`ReadinessTracker.require_defaults` declares the standard set for a configuration;
producers call :meth:`ReadinessTracker.mark_ready` on their first update;
``await tracker.wait_ready(timeout)`` returns when nothing is missing or raises
``ReadinessTimeout`` naming the missing topics. The timeout is measured on the injected clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from enum import StrEnum

from octobot_trading.clock import Clock
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, InvalidSymbol, ReadinessTimeout
from octobot_trading.util.symbols import cached_symbol

__all__ = ["ReadinessTopic", "ReadinessTracker", "perpetual_symbols", "topic"]


class ReadinessTopic(StrEnum):
    """Kinds of readiness topics."""

    BALANCE = "balance"
    ORDERS = "orders"
    MARKETS = "markets"
    CANDLES = "candles"
    PRICE = "price"
    POSITIONS = "positions"
    CONTRACTS = "contracts"
    FUNDING = "funding"


_PER_SYMBOL = {ReadinessTopic.PRICE, ReadinessTopic.FUNDING}


def topic(kind: ReadinessTopic | str, symbol: str | None = None, time_frame: TimeFrame | str | None = None) -> str:
    """Build the topic string of ``kind`` (with its symbol / time frame where it needs one)."""
    kind = ReadinessTopic(kind)
    if kind is ReadinessTopic.CANDLES:
        if symbol is None or time_frame is None:
            raise ConfigurationError("a candles topic needs a symbol and a time frame", field="topic")
        return f"{kind}:{symbol}:{TimeFrame.parse(time_frame)}"
    if kind in _PER_SYMBOL:
        if symbol is None:
            raise ConfigurationError(f"a {kind} topic needs a symbol", field="topic")
        return f"{kind}:{symbol}"
    return str(kind)


def perpetual_symbols(symbols: Iterable[str]) -> list[str]:
    """The perpetual contracts among ``symbols``: those with funding (not spot, not dated futures)."""
    result = []
    for symbol in symbols:
        try:
            parsed = cached_symbol(symbol)
        except InvalidSymbol:
            continue
        if not parsed.is_spot and not parsed.is_dated and not parsed.is_option:
            result.append(symbol)
    return result


class ReadinessTracker:
    """Tracks which required topics have produced a first update."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._required: set[str] = set()
        self._seen: set[str] = set()
        self._ready = asyncio.Event()
        self._ready.set()

    def require(self, *topics: str) -> None:
        """Add topics that must be seen before the exchange is ready."""
        self._required.update(topics)
        self._update()

    def require_defaults(
        self, symbols: Iterable[str], time_frames: Iterable[TimeFrame | str], *, is_future: bool = False
    ) -> None:
        """Require the standard topics for these symbols and time frames (see the module docstring)."""
        symbols = list(symbols)
        time_frames = list(time_frames)
        topics = [str(ReadinessTopic.BALANCE), str(ReadinessTopic.ORDERS), str(ReadinessTopic.MARKETS)]
        for symbol in symbols:
            topics.append(topic(ReadinessTopic.PRICE, symbol))
            topics.extend(topic(ReadinessTopic.CANDLES, symbol, tf) for tf in time_frames)
        if is_future:
            topics.extend(topic(ReadinessTopic.FUNDING, symbol) for symbol in perpetual_symbols(symbols))
        if is_future:
            topics += [str(ReadinessTopic.POSITIONS), str(ReadinessTopic.CONTRACTS)]
        self.require(*topics)

    def discard(self, *topics: str) -> None:
        """Stop requiring ``topics`` (no error for topics that were not required)."""
        self._required.difference_update(topics)
        self._update()

    def mark_ready(self, name: str) -> None:
        """Record that ``name`` produced its first update (cheap when already seen)."""
        if name in self._seen:
            return
        self._seen.add(name)
        self._update()

    def is_seen(self, name: str) -> bool:
        """True once ``name`` was marked ready."""
        return name in self._seen

    def _update(self) -> None:
        if self._required <= self._seen:
            self._ready.set()
        else:
            self._ready.clear()

    @property
    def required(self) -> tuple[str, ...]:
        """Every required topic, sorted."""
        return tuple(sorted(self._required))

    @property
    def missing(self) -> tuple[str, ...]:
        """Required topics not seen yet, sorted."""
        return tuple(sorted(self._required - self._seen))

    @property
    def is_ready(self) -> bool:
        """True when no required topic is missing."""
        return self._required <= self._seen

    async def _sleep_until(self, deadline_ms: int) -> None:
        await self.clock.sleep(max(0, deadline_ms - self.clock.now_ms()) / 1000)

    async def wait_ready(self, timeout: float | None = None, *, exchange: str | None = None) -> None:  # noqa: ASYNC109
        """Wait until ready; raise ``ReadinessTimeout`` naming missing topics after ``timeout`` s."""
        if self.is_ready:
            return
        if timeout is None:
            await self._ready.wait()
            return
        deadline_ms = self.clock.now_ms() + round(timeout * 1000)
        ready = asyncio.ensure_future(self._ready.wait())
        expiry = asyncio.ensure_future(self._sleep_until(deadline_ms))
        try:
            await asyncio.wait({ready, expiry}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ready, expiry):
                task.cancel()
            await asyncio.gather(ready, expiry, return_exceptions=True)
        if not self.is_ready:
            missing = self.missing
            raise ReadinessTimeout(
                f"not ready after {timeout}s; missing: {', '.join(missing)}", missing=missing, exchange=exchange
            )
