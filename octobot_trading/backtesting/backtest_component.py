"""``BacktestComponent``: the replay of one backtesting ``ExchangeManager`` (``use_backtesting(data)``).

For a backtest the builder assembles, in order:

1. the connector: :func:`backtesting_connector`, the trading core's
   :class:`~octobot_trading.exchanges.connectors.simulator.SimulatedConnector` (matching engine,
   simulated account from the trading config's ``starting_portfolio`` and ``fees``) whose market
   data is a :class:`~octobot_trading.backtesting.market_side.HistoricalMarketSide` over ``data``;
2. the market data: :func:`backtest_market_data`, a hub with **synchronized** channels (every
   candle reaches its consumers by direct calls, in priority order);
3. this component, in place of the live trader component: it owns the account's
   ``ExchangePersonalData`` and ``Trader`` (the same classes as live, trading through
   ``manager.exchange``), marks the account topics ready on start and owns the
   :class:`~octobot_trading.backtesting.driver.BacktestDriver`, which also replays the builder's
   evaluations (``with_evaluations``) on ``manager.evaluations`` at their times.

Contract symbols (``XRP/USDT:USDT``) are traded as futures by the simulated venue (specs, funding
rates and mark prices from ``ExchangeBuilder.with_contracts``); the driver then matches candles
with the venue's ``candle_matcher()``, which adds the futures candle events (mark path, funding,
liquidations; docs/futures.md) after the engine's walk. Without contracts the driver gets the bare
matching engine, so spot replays run exactly as before.

Replay with ``await manager.get_component("backtest", BacktestComponent).run()``
(``run_backtest`` does all of this and collects the results). ``data`` is a :class:`CandleData`;
its symbols / time frames must include the builder's (``with_symbols`` / ``with_time_frames``;
default: all of the data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.driver import BacktestDriver
from octobot_trading.backtesting.market_side import HistoricalMarketSide
from octobot_trading.clock import Clock, SimulatedClock
from octobot_trading.config import ExchangeConfig, TradingConfig
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchange_data.market_data import ExchangeMarketData
from octobot_trading.exchange_data.readiness import ReadinessTopic
from octobot_trading.exchanges.connectors.simulator.futures_calls import FuturesSetup
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.trader import Trader
from octobot_trading.util.fees import Fees

if TYPE_CHECKING:
    from octobot_trading.exchanges.manager import ExchangeManager

__all__ = [
    "COMPONENT_NAME",
    "BacktestComponent",
    "backtest_market_data",
    "backtesting_connector",
    "checked_data",
    "checked_evaluations",
]

COMPONENT_NAME = "backtest"


def checked_data(data: Any) -> CandleData:
    """``data`` when it is a :class:`CandleData`, else ``ConfigurationError`` (before any I/O)."""
    if not isinstance(data, CandleData):
        raise ConfigurationError(
            "use_backtesting() needs a CandleData (ot.backtesting.CandleData.from_file)", field="backtesting_data"
        )
    return data


def checked_evaluations(data: CandleData, config: ExchangeConfig, evaluations: list[Any], source: str) -> list[Any]:
    """``evaluations`` (sorted by time) when each names a replayed symbol and falls in the replay's
    range: from the time every replayed symbol and time frame has closed a candle (the manager is
    ready) to the last candle close. Else ``ConfigurationError`` naming ``source`` and the row."""
    symbols = replayed_symbols(data, config)
    time_frames = [TimeFrame.parse(tf) for tf in (config.time_frames or data.time_frames)]
    firsts, lasts = [], []
    for symbol in symbols:
        for tf in time_frames:
            series = data.get(symbol, tf)
            if len(series):
                firsts.append(int(series.times[0]) + tf.ms)
                lasts.append(int(series.times[-1]) + tf.ms)
    if not firsts:
        return []
    ready_ms, end_ms = max(firsts), max(lasts)
    for index, evaluation in enumerate(evaluations):
        if evaluation.symbol not in symbols:
            raise ConfigurationError(
                f"{source}, row {index}: symbol {evaluation.symbol!r} is not backtested ({', '.join(symbols)})",
                field="evaluations",
            )
        if not ready_ms <= evaluation.time_ms <= end_ms:
            raise ConfigurationError(
                f"{source}, row {index}: time {evaluation.time_ms} is outside the replay [{ready_ms}, {end_ms}] "
                "(milliseconds, from the first time every symbol and time frame has a closed candle to the "
                "last close)",
                field="evaluations",
            )
    return evaluations


def replayed_symbols(data: CandleData, config: ExchangeConfig) -> list[str]:
    """The configured symbols, else every symbol of the data (sorted)."""
    return list(config.symbols) or sorted(data.symbols)


def backtesting_connector(
    data: CandleData, config: ExchangeConfig, trading: TradingConfig, clock: Clock, futures: FuturesSetup | None = None
) -> SimulatedConnector:
    """The simulated venue replaying ``data`` (see the module docstring).

    Contract symbols (``XRP/USDT:USDT``) are traded as futures: with ``futures``' specs, funding
    rates and mark prices when given, else with a spec derived from the market (docs/futures.md).
    A spec of a symbol that is not replayed raises ``ConfigurationError(field="contracts")``.
    """
    fees = Fees(maker=trading.fees.maker, taker=trading.fees.taker)
    side = HistoricalMarketSide(data, clock, fees=(fees.maker, fees.taker))
    symbols = list(config.symbols) or data.symbols
    markets = {symbol: side.market_info(symbol) for symbol in symbols}
    connector = SimulatedConnector(
        clock,
        markets=markets,
        starting_balances=trading.starting_portfolio,
        fees=fees,
        market_data=side,  # type: ignore[arg-type]
    )
    connector.allow_withdrawals = config.allow_withdrawals  # the builder's allow_withdrawals(), as live
    for symbol in futures.contracts if futures is not None else ():
        if symbol not in markets:
            raise ConfigurationError(f"contracts names {symbol!r}, which is not replayed", field="contracts")
    if futures is not None:
        futures.apply(connector)
    elif any(":" in symbol for symbol in markets):
        connector.enable_futures()
    return connector


def backtest_market_data(data: CandleData, config: ExchangeConfig, clock: Clock) -> ExchangeMarketData:
    """The market-data hub of a backtest: synchronized channels, default readiness topics."""
    market_data = ExchangeMarketData(clock, synchronized=True, exchange_name=data.exchange)
    time_frames: list[TimeFrame | str] = list(config.time_frames or data.time_frames)
    market_data.readiness.require_defaults(replayed_symbols(data, config), time_frames)
    return market_data


class BacktestComponent:
    """The trader and the replay of one backtesting manager (see the module docstring).

    Parameters
    ----------
    manager:
        The manager; its ``exchange`` wraps the :func:`backtesting_connector` and its market data
        is the :func:`backtest_market_data` hub.
    data:
        The replayed candles.
    market_data:
        The manager's market-data hub (stopped with this component).
    """

    name = COMPONENT_NAME

    def __init__(
        self,
        manager: ExchangeManager,
        data: CandleData,
        market_data: ExchangeMarketData,
        evaluations: list[Any] | None = None,
    ) -> None:
        self.manager = manager
        self.data = data
        config = manager.exchange_config
        self.symbols = replayed_symbols(data, config)
        self.time_frames: list[TimeFrame | str] = list(config.time_frames or data.time_frames)
        self.market_data = market_data
        venue = manager.exchange
        simulated = venue.connector
        if not isinstance(simulated, SimulatedConnector):
            raise ConfigurationError("a backtest runs on the simulated venue", field="backtesting_data")
        trading = manager.trading_config
        symbols_data = market_data.symbols_data
        self.personal_data = ExchangePersonalData(
            manager.clock, starting_balances=trading.starting_portfolio, reference_market=trading.reference_market
        )
        self.trader = Trader(
            venue,
            self.personal_data,
            clock=manager.clock,
            simulated=True,
            price_of=simulated.last_price,
            safety=trading.order_safety,
            fees=Fees(maker=trading.fees.maker, taker=trading.fees.taker),
            price_events_for=lambda symbol: symbols_data.get(symbol).price_events,
        )
        self.trader.due_triggers = []  # fired price triggers are awaited by the driver, not run in tasks
        clock = manager.clock
        if not isinstance(clock, SimulatedClock):
            raise ConfigurationError("a backtest runs on a SimulatedClock", field="clock")
        self.driver = BacktestDriver(
            data,
            clock=clock,
            market_data=market_data,
            engine=simulated.candle_matcher(),  # the bare engine unless contracts are traded
            symbols=self.symbols,
            time_frames=self.time_frames,
            due_triggers=self.trader.due_triggers,
            run_triggers=self.trader.run_due_triggers,
            evaluations=evaluations,
            publish_evaluation=None if not evaluations else manager.evaluations.publish,
        )

    async def start(self) -> None:
        """Initialize the trader; mark the simulated account's topics ready (balances, orders known)."""
        await self.trader.initialize()
        readiness = self.market_data.readiness
        for kind in (ReadinessTopic.BALANCE, ReadinessTopic.ORDERS, ReadinessTopic.MARKETS):
            readiness.mark_ready(str(kind))

    async def run(self) -> int:
        """Replay every candle; return how many were published."""
        return await self.driver.run()

    async def stop(self) -> None:
        """Stop the trader and the market-data hub (idempotent)."""
        await self.trader.stop()
        await self.market_data.stop()
