"""``MarketDataComponent``: the market data of one live or paper ``ExchangeManager``.

The builder creates it second (after the connector) for every live and paper build and hands
its :class:`~octobot_trading.exchange_data.market_data.ExchangeMarketData` to the manager
(``manager.market_data``, ``manager.channels``, ``manager.exchange_symbols_data``,
``manager.readiness``), so the components built after it can subscribe. On start it runs the
updaters, all reading from ``source`` (the venue's ``RestExchange``, whose ``fix_*`` hooks see
every result):

* ``rest_only()`` or a source without websockets: REST candles (history, then each close),
  ticker and order-book pollers (plus funding for futures);
* otherwise websocket watchers (see :mod:`~octobot_trading.exchange_data.updaters.ws`), each
  falling back to REST while its stream is stale.

Backtests do not use it: their market data has synchronized channels fed by the backtest driver.

Readiness: candles of every configured symbol / time frame, a price per symbol and the markets
(loaded by the connector component, which starts first; for futures they are also the
contracts: ``contracts`` is ready once every configured symbol is a listed contract market with
a contract size); futures add funding. With ``account_topics`` (a trader runs on the manager),
``balance`` and ``orders`` (futures: and ``positions``) are required too; the trader component
marks them once its first account sync is done (a failure there fails the build).
"""

from __future__ import annotations

import asyncio
from typing import Any

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.readiness import ReadinessTopic, perpetual_symbols
from octobot_trading.exchange_data.updaters.base import MarketDataUpdater
from octobot_trading.exchange_data.updaters.rest import (
    RestCandlesUpdater,
    RestFundingUpdater,
    RestOrderBookUpdater,
    RestTickerUpdater,
)
from octobot_trading.util.logging import get_logger

__all__ = ["COMPONENT_NAME", "MarketDataComponent"]

COMPONENT_NAME = "exchange_data"
_ACCOUNT_TOPICS = (str(ReadinessTopic.BALANCE), str(ReadinessTopic.ORDERS), str(ReadinessTopic.POSITIONS))


class MarketDataComponent:
    """Market data of one live / paper manager (see the module docstring).

    Parameters
    ----------
    source:
        Where market data is read (the venue's ``RestExchange``; any ``ExchangeConnector`` works).
    exchange_config, clock:
        The manager's configuration and clock.
    account_topics:
        Require the account topics (balance, orders; positions on futures) for readiness.
    websockets:
        Force websocket watchers on or off (default: on unless ``rest_only`` or the source has none).
    websocket_options:
        Passed to every websocket updater (``expected_interval``, ``stale_after``, ...).
    """

    name = COMPONENT_NAME

    def __init__(
        self,
        source: Any,
        exchange_config: ExchangeConfig,
        clock: Clock,
        *,
        account_topics: bool = True,
        websockets: bool | None = None,
        websocket_options: dict[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.symbols = list(exchange_config.symbols)
        self.time_frames = [tf.value for tf in exchange_config.time_frames]
        self.is_future = exchange_config.market_type.is_future
        self.market_data = ExchangeMarketData(clock, synchronized=False, exchange_name=exchange_config.exchange)
        readiness = self.market_data.readiness
        readiness.require_defaults(self.symbols, self.time_frames, is_future=self.is_future)
        if account_topics:
            readiness.require(*self._account_topics())
        else:
            readiness.discard(*_ACCOUNT_TOPICS)
        if websockets is None:
            websockets = not exchange_config.rest_only and bool(source.supports_websockets)
        self.websockets = websockets
        self.websocket_options = dict(websocket_options or {})
        self.updaters: list[MarketDataUpdater] = []
        self._log = get_logger("exchange_data.market_data_component")

    def _account_topics(self) -> tuple[str, ...]:
        topics = (str(ReadinessTopic.BALANCE), str(ReadinessTopic.ORDERS))
        return (*topics, str(ReadinessTopic.POSITIONS)) if self.is_future else topics

    async def _contracts_listed(self) -> bool:
        """True when every configured symbol is a listed contract market with a contract size."""
        markets = await self.source.load_markets()
        missing = [
            symbol
            for symbol in self.symbols
            if symbol not in markets
            or not markets[symbol].market_type.is_future
            or not markets[symbol].spec.contract_size > 0
        ]
        if missing:
            self._log.warning("no contract specification for %s: not ready for futures trading", ", ".join(missing))
        return not missing

    def _make_updaters(self) -> list[MarketDataUpdater]:
        md, source, symbols = self.market_data, self.source, self.symbols
        if self.websockets:
            from octobot_trading.exchange_data.updaters.ws import websocket_updaters

            return websocket_updaters(
                md, source, symbols, self.time_frames, is_future=self.is_future, **self.websocket_options
            )
        updaters: list[MarketDataUpdater] = []
        if self.time_frames:
            updaters.append(RestCandlesUpdater(md, source, symbols, self.time_frames))
        updaters += [RestTickerUpdater(md, source, symbols), RestOrderBookUpdater(md, source, symbols)]
        perpetuals = perpetual_symbols(symbols) if self.is_future else []
        if perpetuals:  # dated futures have no funding
            updaters.append(RestFundingUpdater(md, source, perpetuals))
        return updaters

    async def start(self) -> None:
        """Start the channels, then the updaters (their first fetches run in background tasks)."""
        readiness = self.market_data.readiness
        readiness.mark_ready(str(ReadinessTopic.MARKETS))  # the connector component loaded them
        if self.is_future and await self._contracts_listed():
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
