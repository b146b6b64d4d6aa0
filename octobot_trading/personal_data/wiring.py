"""Wire the trading core into ``ExchangeBuilder``: the paper-trading connector and the trader component.

:func:`install` registers (importing does not: the lead's wiring calls it, tests call
:func:`install` / :func:`uninstall` around their builds)

* the ``"simulated"`` connector factory (``use_simulated_trader``): a
  :class:`~octobot_trading.exchanges.connectors.simulator.SimulatedConnector` whose market data
  (markets, tickers, candles, books) comes from the real venue through a ``CCXTConnector`` and
  whose orders fill in the matching engine, starting from ``starting_portfolio``;
* the ``"trader"`` component factory: it creates ``manager.exchange_personal_data`` and
  ``manager.trader`` when the manager is built (so later components, such as trading modes,
  can use them) and, on start, initializes the trader and runs one background poll task:
  real trader — balances and open orders refreshed from the venue (fills / cancels / unknown
  orders applied once); paper trader — the last price of each symbol fed to the matching engine.
  The task is owned by the component and cancelled on stop.

The backtesting subsystem registers its own ``"backtesting"`` connector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

from octobot_trading.enums import TraderType
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.exchanges import builder as _builder
from octobot_trading.exchanges.builder import BuildContext, register_component_factory, register_connector_factory
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.trader import Trader
from octobot_trading.util.fees import Fees
from octobot_trading.util.logging import get_logger

__all__ = ["TraderComponent", "install", "uninstall"]

#: Seconds between two polls of the venue (real trader) or of prices (paper trader).
DEFAULT_POLL_SECONDS = 5.0


def _paper_connector(ctx: BuildContext) -> ExchangeConnector:
    from octobot_trading.exchanges.connectors.ccxt import CCXTConnector

    market_data = CCXTConnector(ctx.exchange_config, ctx.clock, client_hook=ctx.client_hook)
    trading = ctx.trading_config
    return SimulatedConnector(
        ctx.clock, markets=None, starting_balances=trading.starting_portfolio,
        fees=Fees(maker=trading.fees.maker, taker=trading.fees.taker), market_data=market_data,
    )


class TraderComponent:
    """Starts and stops the trader of one manager (see the module docstring)."""

    name = "trader"

    def __init__(self, manager: ExchangeManager, ctx: BuildContext, *, poll_seconds: float = DEFAULT_POLL_SECONDS
                 ) -> None:
        self.manager = manager
        self.poll_seconds = poll_seconds
        self._prices: dict[str, Decimal] = {}
        self._price_times: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._mark_subscription: Any = None
        #: Awaited on start after the trader is initialized and before its first sync (state restore).
        self.restore_hooks: list[Callable[[], Awaitable[None]]] = []
        self._log = get_logger("personal_data.wiring")
        trading = ctx.trading_config
        simulated = ctx.trader_type is TraderType.SIMULATED
        self.personal_data = ExchangePersonalData(
            ctx.clock, starting_balances=trading.starting_portfolio if simulated else None,
            reference_market=trading.reference_market,
        )
        self.trader = Trader(
            manager.connector, self.personal_data, clock=ctx.clock, simulated=simulated, price_of=self.price_of,
            price_time_of=self._price_times.get, spread_of=self.spread_of, safety=trading.order_safety,
            fees=Fees(maker=trading.fees.maker, taker=trading.fees.taker),
            price_events_for=self._price_events_for,
            # what the connector holds natively, others are self-managed: the venue's types for a real
            # connector (RestExchange capabilities), every type for the simulator (paper trading)
            supported_order_types=None if isinstance(manager.connector, SimulatedConnector)
            else getattr(manager.exchange, "supported_order_types", None),
        )
        manager.trader = self.trader
        manager.exchange_personal_data = self.personal_data
        connector = manager.connector
        if isinstance(connector, SimulatedConnector) and connector.price_source is None:
            # paper market orders fill at the price the trader reserved at (mark price when market
            # data runs, else the last polled price), not at a close up to one poll old
            connector.price_source = self.price_of

    def _symbol_data(self, symbol: str) -> Any:
        symbols_data = self.manager.exchange_symbols_data
        if symbols_data is None:
            return None
        try:
            return symbols_data.get(symbol)
        except (KeyError, OctoBotTradingError):
            return None

    def price_of(self, symbol: str) -> Decimal | None:
        """Mark price from the market-data layer when it runs, else the last polled price."""
        data = self._symbol_data(symbol)
        price = getattr(data, "mark_price", None) if data is not None else None
        return price if price is not None else self._prices.get(symbol)

    def spread_of(self, symbol: str) -> Decimal | None:
        """Spread of the market-data order book in percent of the mid price, or None without a book."""
        data = self._symbol_data(symbol)
        book = getattr(data, "order_book", None)
        if book is None:
            return None
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return None
        mid = (bid[0] + ask[0]) / 2
        return (ask[0] - bid[0]) / mid * 100 if mid > 0 else None

    def _price_events_for(self, symbol: str) -> Any:
        data = self._symbol_data(symbol)
        if data is None:
            raise OctoBotTradingError(f"no market data for {symbol}: price events unavailable", symbol=symbol)
        return data.price_events

    async def start(self) -> None:
        """Initialize the trader, run the restore hooks, take a first snapshot, start the poll task."""
        await self.trader.initialize()
        for hook in self.restore_hooks:
            await hook()
        await self._poll_once()
        if self.manager.is_simulated:
            self.personal_data.portfolio_manager.reset_starting_point()
        self._mark_account_ready()
        channels = getattr(self.manager, "channels", None)
        if isinstance(self.manager.connector, SimulatedConnector) and channels is not None \
                and self._mark_subscription is None:
            self._mark_subscription = channels.mark_price.subscribe(self._on_mark_price)
        self._task = asyncio.get_running_loop().create_task(self._poll_loop(), name="trader-poll")

    async def _on_mark_price(self, update: Any) -> None:
        """Paper trading: match resting orders against each new mark price of a traded symbol."""
        connector = self.manager.connector
        if not isinstance(connector, SimulatedConnector) or (
                self.manager.symbols and update.symbol not in self.manager.symbols):
            return
        try:
            await connector.on_price(update.symbol, update.price)
        except OctoBotTradingError as exc:
            self._log.warning("paper fill at mark price %s of %s failed: %s", update.price, update.symbol, exc)

    def _mark_account_ready(self) -> None:
        """Tell the readiness tracker (when market data is wired) that the account was read once."""
        readiness = getattr(self.manager, "readiness", None)
        mark = getattr(readiness, "mark_ready", None)
        if mark is None:
            return
        from octobot_trading.exchange_data.readiness import ReadinessTopic

        topics = [ReadinessTopic.BALANCE, ReadinessTopic.ORDERS]
        if self.manager.is_future:
            topics.append(ReadinessTopic.POSITIONS)
        for topic in topics:
            mark(str(topic))

    async def _poll_once(self) -> None:
        if self.manager.is_simulated:
            connector = self.manager.connector
            for symbol in self.manager.symbols:
                ticker = await connector.fetch_ticker(symbol)
                if ticker.last is None:
                    continue
                self._prices[symbol] = ticker.last
                self._price_times[symbol] = ticker.timestamp
                if isinstance(connector, SimulatedConnector):
                    await connector.on_price(symbol, ticker.last)
        else:
            # fills first, then the venue's balances: a fill made since the last poll is already in
            # those balances, so settling it after the refresh would count it twice
            await self.trader.sync_with_exchange(self.manager.symbols or None)
            await self.trader.refresh_balances()
            if self.manager.is_future:
                positions = await self.manager.connector.fetch_positions(list(self.manager.symbols) or None)
                self.personal_data.positions_manager.update_from_exchange(positions)

    async def _poll_loop(self) -> None:
        clock = self.manager.clock
        while True:
            await clock.sleep(self.poll_seconds)
            try:
                await self._poll_once()
            except asyncio.CancelledError:
                raise
            except OctoBotTradingError as exc:
                self._log.warning("trader poll failed: %s", exc)
            except Exception:  # a bug must not end the poll task silently: log it, poll again
                self._log.exception("trader poll failed unexpectedly; polling continues")

    async def stop(self) -> None:
        """Cancel the poll task and the trader's tasks (idempotent)."""
        subscription, self._mark_subscription = self._mark_subscription, None
        if subscription is not None:
            subscription.channel.unsubscribe(subscription)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
        await self.trader.stop()


def _trader_components(manager: ExchangeManager, ctx: BuildContext) -> Iterable[TraderComponent] | None:
    if ctx.is_backtesting:
        return None  # the backtesting subsystem builds its own session
    return [TraderComponent(manager, ctx)]


def install(*, before: str | None = None) -> None:
    """Register the paper-trading connector and the trader component with ``ExchangeBuilder``.

    ``before`` names a component factory the trader must precede (e.g. ``"trading_modes"``).
    """
    register_connector_factory("simulated", _paper_connector)
    register_component_factory("trader", _trader_components, before=before)


def uninstall() -> None:
    """Undo :func:`install`."""
    _builder.unregister_component_factory("trader")
    if _builder._CONNECTOR_FACTORIES.get("simulated") is _paper_connector:
        del _builder._CONNECTOR_FACTORIES["simulated"]
