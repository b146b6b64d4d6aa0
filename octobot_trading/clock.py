"""Clocks: the only place in the library that reads wall-clock time.

:class:`LiveClock` reads the system clock; :class:`SimulatedClock` holds a time that is moved
explicitly (by a backtest or a test) and whose ``sleep`` resolves when simulated time passes.
Everything else receives a :class:`Clock` and calls ``now_ms()`` / ``sleep()`` on it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "LiveClock", "SimulatedClock"]


@runtime_checkable
class Clock(Protocol):
    """Time source. Times are integer milliseconds since the Unix epoch (UTC)."""

    def now_ms(self) -> int:
        """Current time in milliseconds."""
        ...

    def now(self) -> float:
        """Current time in seconds."""
        ...

    def monotonic(self) -> float:
        """A monotonic time in seconds, for measuring durations."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` have passed on this clock."""
        ...


class LiveClock:
    """The system clock."""

    def now_ms(self) -> int:
        """Current wall-clock time in milliseconds."""
        return time.time_ns() // 1_000_000

    def now(self) -> float:
        """Current wall-clock time in seconds."""
        return time.time()

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "LiveClock()"


class SimulatedClock:
    """A clock moved explicitly; ``sleep`` returns once simulated time reaches the wake time.

    ``set_time`` / ``advance`` move time and wake due sleepers (their coroutines resume at the
    next event-loop turn); ``await run_until(t)`` moves time step by step through every pending
    wake time up to ``t``, letting each woken sleeper run (and schedule new sleeps) in order.
    Time never goes backwards.
    """

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = int(start_ms)
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now_ms(self) -> int:
        """Current simulated time in milliseconds."""
        return self._now_ms

    def now(self) -> float:
        """Current simulated time in seconds."""
        return self._now_ms / 1000

    def monotonic(self) -> float:
        """Simulated time in seconds (monotonic by construction)."""
        return self._now_ms / 1000

    def set_time(self, ms: int) -> None:
        """Move time to ``ms`` (not backwards) and wake sleepers that are due."""
        ms = int(ms)
        if ms < self._now_ms:
            raise ValueError(f"simulated time cannot go backwards ({ms} < {self._now_ms})")
        self._now_ms = ms
        sleepers = self._sleepers
        if sleepers and sleepers[0][0] <= ms:  # (checked here: this runs once per backtest candle)
            self._wake_due()

    def advance(self, ms: int) -> None:
        """Move time forward by ``ms`` milliseconds."""
        if ms < 0:
            raise ValueError("cannot advance by a negative duration")
        self.set_time(self._now_ms + int(ms))

    async def run_until(self, ms: int) -> None:
        """Advance through each pending wake time up to ``ms``, yielding so sleepers run in order."""
        while self._sleepers and self._sleepers[0][0] <= ms:
            self.set_time(max(self._now_ms, self._sleepers[0][0]))
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        self.set_time(max(self._now_ms, ms))
        await asyncio.sleep(0)

    @property
    def next_wake_ms(self) -> int | None:
        """The earliest pending wake time, or None."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    async def sleep(self, seconds: float) -> None:
        """Wait until simulated time has moved ``seconds`` forward."""
        wake = self._now_ms + max(0, round(seconds * 1000))
        if wake <= self._now_ms:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (wake, next(self._seq), future))
        await future

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now_ms:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def __repr__(self) -> str:
        return f"SimulatedClock(now_ms={self._now_ms})"
