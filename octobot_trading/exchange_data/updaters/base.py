"""The updater interface: something that feeds an :class:`ExchangeMarketData` from a connector.

Every updater has a ``name``, ``async start()`` (spawns its background tasks and returns) and
``async stop()`` (cancels and awaits them; idempotent; nothing left running). REST pollers and
websocket watchers implement it, so the market-data component swaps one for the other and
consumers of the channels cannot tell which one fed them. Time is read (and slept) only through
the injected clock. In a build they read from the manager's exchange (the venue seam), never
from the raw connector.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.errors import ConfigurationError, NetworkError, OctoBotTradingError
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.util.logging import get_logger

__all__ = ["MarketDataUpdater", "polling_period"]


def polling_period(base_seconds: float, per_pair_seconds: float, pairs: int) -> float:
    """Refresh period of a poller: ``base + per_pair * (pairs - 1)`` seconds (grows with the pairs)."""
    if base_seconds <= 0 or per_pair_seconds < 0:
        raise ConfigurationError("polling periods must be positive", field="refresh_period")
    return base_seconds + per_pair_seconds * max(0, pairs - 1)


class MarketDataUpdater(abc.ABC):
    """Base class of updaters (see the module docstring).

    Parameters
    ----------
    market_data:
        The hub written into (managers + channels + readiness).
    connector:
        Where data comes from: in a build, the manager's exchange (``manager.exchange``, a
        ``RestExchange``), so the venue class's ``fix_*`` hooks repair every result the
        updaters publish; any :class:`~octobot_trading.exchanges.connector.ExchangeConnector`
        works.
    symbols:
        Symbols fed.
    """

    name = "updater"

    def __init__(self, market_data: ExchangeMarketData, connector: ExchangeConnector, symbols: Iterable[str]) -> None:
        self.market_data = market_data
        self.connector = connector
        self.clock: Clock = market_data.clock
        self.symbols = list(symbols)
        self._tasks: list[asyncio.Task[None]] = []
        self._log = get_logger(f"exchange_data.{self.name}")
        #: errors seen by the loops (for health checks and tests)
        self.errors = 0

    @property
    def is_running(self) -> bool:
        """True while at least one of its tasks runs."""
        return any(not t.done() for t in self._tasks)

    def _spawn(self, coro: Coroutine[Any, Any, None], label: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.name}:{label}")
        self._tasks.append(task)
        return task

    async def start(self) -> None:
        """Spawn the background tasks (returns at once)."""
        if self.is_running:
            return
        self._tasks = []
        self._start_tasks()

    @abc.abstractmethod
    def _start_tasks(self) -> None:
        """Create the tasks with :meth:`_spawn`."""

    async def stop(self) -> None:
        """Cancel and await every task (idempotent).

        Every task is awaited to its end even when the task calling ``stop()`` is itself being
        cancelled (Ctrl-C, a timed-out ``build()``); that cancellation is re-raised afterwards.
        """
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        cancelled = False
        for task in tasks:
            while not task.done():
                try:
                    await asyncio.wait({task})
                except asyncio.CancelledError:
                    cancelled = True  # keep waiting: the task was cancelled and ends promptly
            if not task.cancelled() and task.exception() is not None:  # died earlier: logged then
                self._log.debug("%s ended with %s", task.get_name(), type(task.exception()).__name__)
        if cancelled:
            raise asyncio.CancelledError

    async def _guard(self, what: str, coro: Coroutine[Any, Any, Any]) -> Any:
        """Await ``coro``; log and count library errors (return None) instead of dying."""
        try:
            return await coro
        except asyncio.CancelledError:
            raise
        except NetworkError as exc:
            self.errors += 1
            self._log.warning("%s failed (will retry): %s", what, exc)
        except OctoBotTradingError as exc:
            self.errors += 1
            self._log.error("%s failed: %s: %s", what, type(exc).__name__, exc)
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self.symbols)})"
