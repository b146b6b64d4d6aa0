"""Wire market data into ``ExchangeBuilder``: the ``"exchange_data"`` component.

:func:`install` registers a component factory (importing registers nothing). For every live or
paper build it creates the manager's :class:`~octobot_trading.exchange_data.market_data.ExchangeMarketData`
with live channels and sets ``manager.market_data``, ``manager.channels``,
``manager.exchange_symbols_data`` and ``manager.readiness`` (the component: ``wait_ready`` /
``mark_ready``) when the manager is built, so later components can subscribe. On start it runs
the updaters:

* ``rest_only()`` or a connector without websockets: REST candles (history, then each close),
  ticker and order-book pollers (plus funding for futures);
* otherwise websocket watchers (see :mod:`~octobot_trading.exchange_data.updaters.ws`), each
  falling back to REST while its stream is stale.

Paper trading reads market data from the paper connector's ``market_data`` connector (the real
venue). Backtests are left to the backtesting subsystem (synchronized channels, its driver).

Readiness: candles of every configured symbol / time frame, a price per symbol and the markets
(loaded by the connector component, which starts first; for futures they are also the
contracts); futures add funding. When a trader component runs on the manager, ``balance`` and
``orders`` (futures: and ``positions``) are required too and count as seen once the manager has
started, since the trader component's start synchronizes the account (a failure there fails the
build); without a trader component they are not required.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.readiness import ReadinessTopic
from octobot_trading.exchange_data.updaters.base import MarketDataUpdater
from octobot_trading.exchange_data.updaters.rest import (
    RestCandlesUpdater,
    RestFundingUpdater,
    RestOrderBookUpdater,
    RestTickerUpdater,
)
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.util.logging import get_logger

__all__ = ["COMPONENT_NAME", "MarketDataComponent", "install", "market_data_source", "uninstall"]

COMPONENT_NAME = "exchange_data"
_ACCOUNT_COMPONENT = "trader"
_ACCOUNT_TOPICS = (str(ReadinessTopic.BALANCE), str(ReadinessTopic.ORDERS), str(ReadinessTopic.POSITIONS))


def market_data_source(connector: ExchangeConnector) -> ExchangeConnector:
    """The connector market data comes from (a paper connector's venue connector, else itself)."""
    inner = getattr(connector, "market_data", None)
    return inner if isinstance(inner, ExchangeConnector) else connector


class MarketDataComponent:
    """Market data of one live / paper manager (see the module docstring)."""

    name = COMPONENT_NAME

    def __init__(self, manager: Any, ctx: Any, *, websockets: bool | None = None,
                 websocket_options: dict[str, Any] | None = None) -> None:
        self.manager = manager
        config = ctx.exchange_config
        self.symbols = list(config.symbols)
        self.time_frames = [tf.value for tf in config.time_frames]
        self.is_future = config.market_type.is_future
        self.market_data = ExchangeMarketData(ctx.clock, synchronized=False, exchange_name=config.exchange)
        self.market_data.readiness.require_defaults(self.symbols, self.time_frames, is_future=self.is_future)
        self.source = market_data_source(manager.connector)
        if websockets is None:
            websockets = not config.rest_only and self.source.supports_websockets
        self.websockets = websockets
        self.websocket_options = dict(websocket_options or {})
        self.updaters: list[MarketDataUpdater] = []
        self._log = get_logger("exchange_data.wiring")
        manager.market_data = self.market_data
        manager.channels = self.market_data.channels
        manager.exchange_symbols_data = self.market_data.symbols_data
        manager.readiness = self

    def _make_updaters(self) -> list[MarketDataUpdater]:
        md, source, symbols = self.market_data, self.source, self.symbols
        if self.websockets:
            from octobot_trading.exchange_data.updaters.ws import websocket_updaters

            return websocket_updaters(md, source, symbols, self.time_frames, is_future=self.is_future,
                                      **self.websocket_options)
        updaters: list[MarketDataUpdater] = []
        if self.time_frames:
            updaters.append(RestCandlesUpdater(md, source, symbols, self.time_frames))
        updaters += [RestTickerUpdater(md, source, symbols), RestOrderBookUpdater(md, source, symbols)]
        if self.is_future:
            updaters.append(RestFundingUpdater(md, source, symbols))
        return updaters

    async def start(self) -> None:
        """Start the channels, then the updaters (their first fetches run in background tasks)."""
        readiness = self.market_data.readiness
        if any(c.name == _ACCOUNT_COMPONENT for c in self.manager.components):
            readiness.require(*self._account_topics())
        else:
            readiness.discard(*_ACCOUNT_TOPICS)
        readiness.mark_ready(str(ReadinessTopic.MARKETS))  # the connector component loaded them
        if self.is_future:
            readiness.mark_ready(str(ReadinessTopic.CONTRACTS))  # contract specs come with the markets
        await self.market_data.start()
        self.updaters = self._make_updaters()
        started: list[MarketDataUpdater] = []
        try:
            for updater in self.updaters:
                await updater.start()
                started.append(updater)
        except BaseException:
            for updater in reversed(started):
                await updater.stop()
            await self.market_data.stop()
            raise

    async def stop(self) -> None:
        """Stop the updaters, then the channels (idempotent).

        Everything is stopped even when the calling task is being cancelled; the cancellation
        is re-raised at the end.
        """
        updaters, self.updaters = self.updaters, []
        cancelled: asyncio.CancelledError | None = None
        for updater in reversed(updaters):
            try:
                await updater.stop()
            except asyncio.CancelledError as exc:
                cancelled = exc
        try:
            await self.market_data.stop()
        except asyncio.CancelledError as exc:
            cancelled = exc
        if cancelled is not None:
            raise cancelled

    # -- readiness (manager.readiness) --------------------------------------------------------
    def _account_topics(self) -> tuple[str, ...]:
        topics = (str(ReadinessTopic.BALANCE), str(ReadinessTopic.ORDERS))
        return (*topics, str(ReadinessTopic.POSITIONS)) if self.is_future else topics

    def mark_ready(self, topic: str) -> None:
        """Mark a readiness topic seen."""
        self.market_data.readiness.mark_ready(topic)

    async def wait_ready(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - API.md signature
        """Wait for every required topic; ``ReadinessTimeout`` names the missing ones.

        The account topics (balance, orders, positions on futures) are marked by the trader
        component once its first account sync is done, so trading modes gated on readiness act
        without anyone calling this.
        """
        await self.market_data.wait_ready(timeout)


def _factory(manager: Any, ctx: Any, websocket_options: dict[str, Any] | None = None
             ) -> Iterable[MarketDataComponent]:
    if ctx.is_backtesting:
        return []
    return [MarketDataComponent(manager, ctx, websocket_options=websocket_options)]


def install(*, before: str | None = None, **websocket_options: Any) -> None:
    """Register the ``"exchange_data"`` component factory with ``ExchangeBuilder``.

    ``before`` names a factory it must precede (default: ``"backtest"``, ``"trader"`` or
    ``"trading_modes"`` when registered, so the managers exist before they are built).
    ``websocket_options`` go to every websocket updater (``expected_interval``, ``stale_after``,
    ``backoff_base``, ``backoff_max``, ``jitter``).
    """
    from octobot_trading.exchanges import builder

    if before is None:
        names = [name for name, _ in builder._COMPONENT_FACTORIES if name != COMPONENT_NAME]
        before = next((n for n in ("backtest", _ACCOUNT_COMPONENT, "trading_modes") if n in names), None)
    options = dict(websocket_options)
    builder.register_component_factory(COMPONENT_NAME, lambda m, c: _factory(m, c, options), before=before)


def uninstall() -> None:
    """Remove the factory registered by :func:`install`."""
    from octobot_trading.exchanges import builder

    builder.unregister_component_factory(COMPONENT_NAME)
