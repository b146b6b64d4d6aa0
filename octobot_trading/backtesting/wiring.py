"""Wire backtesting into ``ExchangeBuilder``: ``use_backtesting(data)`` builds a replayable manager.

:func:`install` registers

* the ``"backtesting"`` connector factory: the trading core's
  :class:`~octobot_trading.exchanges.connectors.simulator.SimulatedConnector` (matching engine,
  simulated account from the trading config's ``starting_portfolio`` and ``fees``) whose market
  data is :class:`~octobot_trading.backtesting.market_side.HistoricalMarketSide` over ``data``;
* the ``"backtest"`` component factory (only for backtesting builds, placed before the trader
  and the trading modes): it gives the manager a market-data hub with **synchronized** channels
  when no market-data subsystem did (``manager.market_data``, ``manager.channels``,
  ``manager.exchange_symbols_data``, ``manager.readiness``) and, since the trader subsystem
  leaves backtests to it, the account's ``ExchangePersonalData`` and ``Trader`` (the same classes
  as live, on the simulated connector); it marks the account topics ready on start and owns the
  :class:`~octobot_trading.backtesting.driver.BacktestDriver`.

Replay with ``await manager.get_component("backtest").run()`` (``run_backtest`` does all of
this and collects the results). ``data`` is a :class:`CandleData`; its symbols / time frames
must include the builder's (``with_symbols`` / ``with_time_frames``; default: all of the data).
"""

from __future__ import annotations

from typing import Any

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.driver import BacktestDriver
from octobot_trading.backtesting.market_side import HistoricalMarketSide
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchange_data.readiness import ReadinessTopic
from octobot_trading.util.fees import Fees

__all__ = ["BacktestComponent", "install", "install_all", "uninstall"]

COMPONENT_NAME = "backtest"


def _data(ctx: Any) -> CandleData:
    data = ctx.backtesting_data
    if not isinstance(data, CandleData):
        raise ConfigurationError("use_backtesting() needs a CandleData (ot.backtesting.CandleData.from_file)",
                                 field="backtesting_data")
    return data


def _connector(ctx: Any) -> Any:
    from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector

    data = _data(ctx)
    trading = ctx.trading_config
    fees = Fees(maker=trading.fees.maker, taker=trading.fees.taker)
    side = HistoricalMarketSide(data, ctx.clock, fees=(fees.maker, fees.taker))
    symbols = list(ctx.exchange_config.symbols) or data.symbols
    markets = {symbol: side._market(symbol) for symbol in symbols}
    return SimulatedConnector(ctx.clock, markets=markets, starting_balances=trading.starting_portfolio, fees=fees,
                              market_data=side)  # type: ignore[arg-type]


class BacktestComponent:
    """The replay of one backtesting manager (see the module docstring)."""

    name = COMPONENT_NAME

    def __init__(self, manager: Any, ctx: Any) -> None:
        from octobot_trading.exchange_data.market_data import ExchangeMarketData

        self.manager = manager
        self.data = _data(ctx)
        self.symbols = list(ctx.exchange_config.symbols) or sorted(self.data.symbols)
        self.time_frames: list[TimeFrame | str] = list(ctx.exchange_config.time_frames or self.data.time_frames)
        market_data = getattr(manager, "market_data", None)
        if market_data is None:
            market_data = ExchangeMarketData(ctx.clock, synchronized=True, exchange_name=self.data.exchange)
            market_data.readiness.require_defaults(self.symbols, self.time_frames)
            manager.market_data = market_data
            manager.channels = market_data.channels
            manager.exchange_symbols_data = market_data.symbols_data
            manager.readiness = market_data.readiness
        self.market_data = market_data
        if manager.trader is None:
            # the trader subsystem leaves backtests to this component: same classes as live
            from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
            from octobot_trading.personal_data.trader import Trader

            trading = ctx.trading_config
            connector = manager.connector
            symbols_data = market_data.symbols_data
            manager.exchange_personal_data = ExchangePersonalData(
                ctx.clock, starting_balances=trading.starting_portfolio, reference_market=trading.reference_market)
            manager.trader = Trader(
                connector, manager.exchange_personal_data, clock=ctx.clock, simulated=True,
                price_of=connector.last_price, safety=trading.order_safety,
                fees=Fees(maker=trading.fees.maker, taker=trading.fees.taker),
                price_events_for=lambda symbol: symbols_data.get(symbol).price_events)
            self._owns_trader = True
        else:
            self._owns_trader = False
        trader = manager.trader
        if getattr(trader, "due_triggers", False) is None:
            trader.due_triggers = []  # fired price triggers are awaited by the driver, not run in tasks
        self.driver = BacktestDriver(self.data, clock=ctx.clock, market_data=market_data,
                                     engine=manager.connector.engine, symbols=self.symbols,
                                     time_frames=self.time_frames,
                                     due_triggers=getattr(trader, "due_triggers", None),
                                     run_triggers=getattr(trader, "run_due_triggers", None))

    async def start(self) -> None:
        """Initialize the trader; mark the simulated account's topics ready (balances, orders known)."""
        if self._owns_trader:
            await self.manager.trader.initialize()
        readiness = self.market_data.readiness
        for kind in (ReadinessTopic.BALANCE, ReadinessTopic.ORDERS, ReadinessTopic.MARKETS):
            readiness.mark_ready(str(kind))

    async def run(self) -> int:
        """Replay every candle; return how many were published."""
        return await self.driver.run()

    async def stop(self) -> None:
        """Stop the trader (when owned) and the market-data hub (idempotent)."""
        if self._owns_trader:
            await self.manager.trader.stop()
        await self.market_data.stop()


def _factory(manager: Any, ctx: Any) -> list[BacktestComponent]:
    return [BacktestComponent(manager, ctx)] if ctx.is_backtesting else []


def install() -> None:
    """Register the ``"backtesting"`` connector and the ``"backtest"`` component factories."""
    from octobot_trading.exchanges import builder

    builder.register_connector_factory("backtesting", _connector)
    names = [name for name, _ in builder._COMPONENT_FACTORIES]
    before = next((n for n in ("trader", "trading_modes") if n in names), None)
    builder.register_component_factory(COMPONENT_NAME, _factory, before=before)


def uninstall() -> None:
    """Remove the factories registered by :func:`install`."""
    from octobot_trading.exchanges import builder

    builder.unregister_component_factory(COMPONENT_NAME)
    builder._CONNECTOR_FACTORIES.pop("backtesting", None)


def install_all() -> None:
    """Install what a backtest build needs, keeping registrations already made.

    The trading-mode component (:mod:`octobot_trading.modes.wiring`), the trading core's trader
    component (:mod:`octobot_trading.personal_data.wiring`, which leaves backtests to the
    ``"backtest"`` component) and this module's factories.
    """
    from octobot_trading.exchanges import builder
    from octobot_trading.modes import wiring as modes_wiring
    from octobot_trading.personal_data import wiring as trader_wiring

    names = [name for name, _ in builder._COMPONENT_FACTORIES]
    if "trading_modes" not in names:
        modes_wiring.install()
    if "trader" not in names:
        trader_wiring.install(before="trading_modes")
    if "backtesting" not in builder._CONNECTOR_FACTORIES or COMPONENT_NAME not in names:
        install()
