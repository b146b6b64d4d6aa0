"""``ExchangeBuilder``: the one supported way to construct an ``ExchangeManager``.

``build()`` validates every setting first (``ConfigurationError`` naming the field, before any
I/O), then assembles the manager in one fixed order (read it top to bottom in ``_make_connector``
and ``_assemble`` at the end of this module):

1. **connector** — the exchange class (picked by ccxt id, :mod:`.exchange_classes`) makes the
   venue's connector with ``create_connector(...)``; paper trading wraps the exchange class over
   that same connector in the simulated venue (orders fill locally; market data, markets and
   limits included, comes from it, repaired once by the class's hooks); a backtest uses the
   simulated venue over the historical data. ``manager.exchange`` is the exchange class over
   that connector: every engine component calls the venue through it;
2. **market data** — live and paper: the market-data component (REST pollers or websocket
   watchers reading ``manager.exchange``; on paper its feeds come from the wrapped live
   venue); backtest: a hub with synchronized channels;
3. **trader** (live and paper) or **backtest driver** (which owns the backtest's trader);
4. **storage** (``with_storage``, live and paper);
5. **trading modes** (``use_trading_mode``);
6. the user's **extra components** (``with_component``), in call order.

The manager then starts the components in that order (connector first: it loads the markets)
and the builder adds it to ``ot.exchanges_registry``. Any failure stops what was started
(reverse order), closes the connector, leaves no registry entry, and re-raises.

What is pluggable: the exchange class of a venue (``register_exchange_class`` or the
``octobot_trading.exchanges`` entry points for plugins; ``with_exchange_class`` for one build),
its connector (the class's ``connector_class`` / ``create_connector``) and extra components.
Nothing is registered globally by a build.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from octobot_trading.clock import Clock, LiveClock, SimulatedClock
from octobot_trading.config import ExchangeConfig, TradingConfig, parse_config
from octobot_trading.enums import MarketType, TraderType
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.exchange_classes import get_exchange_class
from octobot_trading.exchanges.manager import Component, ExchangeManager
from octobot_trading.exchanges.registry import exchanges_registry
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.fees import Fees

if TYPE_CHECKING:
    from octobot_trading.backtesting.backtest_component import BacktestComponent
    from octobot_trading.backtesting.candle_data import CandleData
    from octobot_trading.personal_data.trader_component import TraderComponent

__all__ = ["ComponentFactory", "ExchangeBuilder", "TradingModeSetting", "standalone_exchange"]

ClientHook = Callable[[Any], None]
#: ``factory(manager)`` -> a component, several, or None (see :meth:`ExchangeBuilder.with_component`).
ComponentFactory = Callable[[ExchangeManager], "Component | Iterable[Component] | None"]
_WEBSOCKET_OPTIONS = frozenset({"expected_interval", "stale_after", "backoff_base", "backoff_max", "jitter"})


@dataclass(frozen=True)
class TradingModeSetting:
    """One ``use_trading_mode`` call: the mode class, its raw config (validated by the mode) and,
    when given, the allocation of its own sub-portfolio."""

    mode_class: type
    config: Mapping[str, Any] | BaseModel | None
    sub_portfolio: Mapping[str, Decimal] | None = None


@dataclass(frozen=True)
class _Plan:
    """The validated settings of one build (no I/O happened yet)."""

    exchange_config: ExchangeConfig
    trading_config: TradingConfig
    clock: Clock
    trader_type: TraderType
    exchange_class: type[RestExchange]
    client_hook: ClientHook | None
    backtesting_data: CandleData | None
    trading_modes: tuple[TradingModeSetting, ...]
    storage_path: Path | None
    extra_components: tuple[ComponentFactory, ...]
    websocket_options: Mapping[str, Any]
    account: bool = True
    evaluations: tuple[Any, ...] = ()
    futures: Any = None  # a simulator FuturesSetup (with_contracts)
    storage_history: tuple[Any, int | None] | None = None  # (retention, max rows) when history is on


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


class ExchangeBuilder:
    """Fluent construction of an :class:`ExchangeManager`; see the module docstring.

    Parameters
    ----------
    exchange:
        ccxt exchange id (``"binance"``).
    """

    def __init__(self, exchange: str) -> None:
        self._data: dict[str, Any] = {"exchange": exchange}
        self._trading: dict[str, Any] = {}
        self._trader_type = TraderType.REAL
        self._client_hook: ClientHook | None = None
        self._clock: Clock | None = None
        self._backtesting_data: Any = None
        self._modes: list[TradingModeSetting] = []
        self._storage: Path | None = None
        self._storage_history: tuple[Any, int | None] | None = None
        self._extra_components: list[ComponentFactory] = []
        self._websocket_options: dict[str, Any] = {}
        self._account = True
        self._exchange_class: type[RestExchange] | None = None
        self._evaluations: Any = None
        self._futures: Any = None

    # -- settings (each returns the builder) ------------------------------------------------
    def with_credentials(
        self, api_key: str | None = None, api_secret: str | None = None, password: str | None = None
    ) -> ExchangeBuilder:
        """Set API credentials (kept as ``SecretStr``, redacted from logs)."""
        self._data.update(api_key=api_key, api_secret=api_secret, password=password)
        return self

    def with_symbols(self, symbols: Iterable[str]) -> ExchangeBuilder:
        """Set the traded symbols (ccxt unified form)."""
        if isinstance(symbols, str):
            raise ConfigurationError("with_symbols() takes a list of symbols, not one string", field="symbols")
        self._data["symbols"] = tuple(symbols)
        return self

    def with_time_frames(self, time_frames: Iterable[str]) -> ExchangeBuilder:
        """Set the candle time frames (``"1m"``, ``"1h"``, ...)."""
        if isinstance(time_frames, str):
            raise ConfigurationError("with_time_frames() takes a list, not one string", field="time_frames")
        self._data["time_frames"] = tuple(time_frames)
        return self

    def with_exchange_class(self, exchange_class: type[RestExchange]) -> ExchangeBuilder:
        """Use ``exchange_class`` (a ``RestExchange`` subclass) for this build only.

        It replaces the class registered for the ccxt id (``register_exchange_class``, entry
        points, built-ins) in this build; nothing is registered, other builds are unaffected.
        Its ``exchange_id`` need not be set: the builder's ccxt id names the venue.
        """
        if not (isinstance(exchange_class, type) and issubclass(exchange_class, RestExchange)):
            raise ConfigurationError(
                f"with_exchange_class() needs a RestExchange subclass, got {exchange_class!r}", field="exchange_class"
            )
        self._exchange_class = exchange_class
        return self

    def with_market_type(self, market_type: MarketType | str) -> ExchangeBuilder:
        """Set the market type (spot by default)."""
        self._data["market_type"] = market_type
        return self

    def with_ccxt_options(self, options: Mapping[str, Any]) -> ExchangeBuilder:
        """Merge ``options`` into the ccxt client config (credentials are refused here)."""
        self._data["ccxt_options"] = _deep_merge(dict(self._data.get("ccxt_options", {})), options)
        return self

    def with_client_hook(self, hook: ClientHook) -> ExchangeBuilder:
        """Run ``hook(raw_ccxt_client)`` before markets load (urls, proxies, test servers)."""
        if not callable(hook):
            raise ConfigurationError("the client hook must be callable", field="client_hook")
        self._client_hook = hook
        return self

    def with_clock(self, clock: Clock) -> ExchangeBuilder:
        """Use ``clock`` instead of the default (live, or simulated for backtests)."""
        if not isinstance(clock, Clock):
            raise ConfigurationError("with_clock() needs a Clock", field="clock")
        self._clock = clock
        return self

    def with_trading_config(self, **settings: Any) -> ExchangeBuilder:
        """Set ``TradingConfig`` fields (``reference_market``, ``fees``, ``order_safety``, ...)."""
        self._trading.update(settings)
        return self

    def sandboxed(self, enabled: bool = True) -> ExchangeBuilder:
        """Connect to the venue's sandbox / testnet."""
        self._data["sandboxed"] = enabled
        return self

    def rest_only(self, enabled: bool = True) -> ExchangeBuilder:
        """Use no websocket feed."""
        self._data["rest_only"] = enabled
        return self

    def allow_withdrawals(self, enabled: bool = True) -> ExchangeBuilder:
        """Let ``withdraw`` send money out of the account (off by default: ``WithdrawalsDisabled``)."""
        self._data["allow_withdrawals"] = enabled
        return self

    def with_websocket_options(self, **options: Any) -> ExchangeBuilder:
        """Tune every websocket market-data feed: ``expected_interval`` (seconds), ``stale_after``
        (intervals), ``backoff_base``, ``backoff_max`` (seconds), ``jitter`` (see ``docs/market_data.md``)."""
        unknown = sorted(set(options) - _WEBSOCKET_OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"unknown websocket option(s): {', '.join(unknown)}", field=f"websocket_options.{unknown[0]}"
            )
        self._websocket_options.update(options)
        return self

    def use_real_trader(self) -> ExchangeBuilder:
        """Send orders to the exchange (the default)."""
        self._trader_type, self._backtesting_data = TraderType.REAL, None
        self._account = True
        return self

    def public_data_only(self) -> ExchangeBuilder:
        """Market data only: no account is read and no trader is built (no credentials needed).

        ``manager.has_account`` is False (``manager.trader`` and ``manager.exchange_personal_data``
        raise ``NotSupported`` naming the missing part), ``wait_ready`` waits for the market topics
        alone, and ``exchange.execute_trade`` raises ``NotSupported``. Trading modes and storage
        need an account: combining them is a ``ConfigurationError``.
        """
        self._trader_type, self._backtesting_data = TraderType.REAL, None
        self._account = False
        return self

    def use_simulated_trader(self, starting_portfolio: Mapping[str, Any] | None = None) -> ExchangeBuilder:
        """Paper trading: live market data, simulated fills, from ``starting_portfolio``."""
        self._trader_type, self._backtesting_data = TraderType.SIMULATED, None
        if starting_portfolio is not None:
            self._trading["starting_portfolio"] = dict(starting_portfolio)
        return self

    def use_backtesting(self, data: Any) -> ExchangeBuilder:
        """Backtest on ``data`` (historical candles), with a simulated clock and trader."""
        if data is None:
            raise ConfigurationError("use_backtesting() needs data", field="backtesting_data")
        self._trader_type, self._backtesting_data = TraderType.SIMULATED, data
        return self

    def with_contracts(
        self, contracts: Mapping[str, Any], *, funding_rates: Any = None, mark_prices: Any = None
    ) -> ExchangeBuilder:
        """Paper trading and backtests: trade ``contracts`` (``{symbol: ot.ContractSpec}``) as futures.

        ``funding_rates`` (backtests): one ``ot.backtesting.FundingData`` or several;
        ``mark_prices`` (backtests): a ``CandleData`` of mark-price candles. A spec of a spot
        symbol raises ``ConfigurationError(field="contracts")`` here (docs/futures.md).
        """
        from octobot_trading.exchanges.connectors.simulator.futures_calls import FuturesSetup

        self._futures = FuturesSetup(dict(contracts), funding_rates, mark_prices)
        return self

    def use_trading_mode(
        self,
        mode_class: type,
        config: Mapping[str, Any] | BaseModel | None = None,
        *,
        sub_portfolio: Mapping[str, Decimal | int | str] | None = None,
    ) -> ExchangeBuilder:
        """Run a trading mode (repeatable).

        ``sub_portfolio`` (e.g. ``{"USDT": "5000"}``) carves that allocation out of the account
        for this mode alone; without it the mode trades the account's unallocated funds. Floats
        raise ``TypeError``; negative amounts ``ConfigurationError``; an allocation larger than
        the account fails the build with ``InsufficientFunds``.
        """
        if not inspect.isclass(mode_class):
            raise ConfigurationError(f"use_trading_mode() needs a mode class, got {mode_class!r}", field="trading_mode")
        if config is not None and not isinstance(config, Mapping | BaseModel):
            raise ConfigurationError(
                "a trading mode config is a mapping or a pydantic model", field="trading_mode.config"
            )
        allocation: dict[str, Decimal] | None = None
        if sub_portfolio is not None:
            if not isinstance(sub_portfolio, Mapping) or not sub_portfolio:
                raise ConfigurationError(
                    "sub_portfolio is a non-empty mapping of currency to amount", field="trading_mode.sub_portfolio"
                )
            allocation = {}
            for currency, amount in sub_portfolio.items():
                value = to_decimal(amount, name=f"sub_portfolio.{currency}")
                if value < 0:
                    raise ConfigurationError(
                        f"sub_portfolio.{currency} is negative", field=f"trading_mode.sub_portfolio.{currency}"
                    )
                allocation[str(currency)] = value
        self._modes.append(TradingModeSetting(mode_class, config, allocation))
        return self

    def with_evaluations(self, source: Any) -> ExchangeBuilder:
        """Replay evaluations in a backtest: ``source`` is a ``.json`` / ``.csv`` file (format in
        ``docs/modes.md``) or a list of ``ot.modes.Evaluation``.

        Each is published on ``manager.evaluations`` when the simulated clock reaches its time,
        after the candles closing at that time. The file is read and checked by ``build()``
        (``DataFileError`` naming the file and row; ``ConfigurationError`` for an evaluation of a
        symbol not backtested or outside the replay). Live and paper trading have no file to
        replay: publish with ``await manager.evaluations.publish(...)`` (``ConfigurationError`` here).
        """
        if source is None:
            raise ConfigurationError(
                "with_evaluations() needs a file path or a list of evaluations", field="evaluations"
            )
        self._evaluations = source
        return self

    def with_storage(
        self,
        path: str | PathLike[str],
        *,
        history: bool = False,
        history_retention: timedelta | float | None = timedelta(days=90),
        history_max_rows: int | None = None,
    ) -> ExchangeBuilder:
        """Persist state in the SQLite file at ``path`` (see docs/storage.md for what is durable when).

        ``history=True`` also records every order status change; rows older than
        ``history_retention`` (a ``timedelta`` or seconds; None: kept forever) and beyond the
        newest ``history_max_rows`` (None: no cap) are pruned, on the manager's clock.
        """
        if not isinstance(path, str | PathLike) or not str(path).strip():
            raise ConfigurationError("with_storage() needs a file path", field="storage")
        self._storage = Path(path)
        self._storage_history = (history_retention, history_max_rows) if history else None
        return self

    def with_component(self, factory: ComponentFactory) -> ExchangeBuilder:
        """Add components of your own after the built-in ones (repeatable, kept in call order).

        ``factory(manager)`` runs during ``build()`` once the built-in components exist (the
        manager's ``trader``, ``market_data``, ... are set) and returns a component (``name``,
        ``async start()``, ``async stop()``), several, or None. They start after the built-ins and
        stop before them; a failure fails the build and leaves nothing running.
        """
        if not callable(factory):
            raise ConfigurationError("with_component() needs a callable factory(manager)", field="component")
        self._extra_components.append(factory)
        return self

    # -- build --------------------------------------------------------------------------------
    def _plan(self) -> _Plan:
        """Validate every setting (no I/O): ``ConfigurationError`` naming what is wrong."""
        exchange_config = parse_config(ExchangeConfig, self._data)
        exchange_class = self._exchange_class or get_exchange_class(exchange_config.exchange)
        options = _deep_merge(
            exchange_class.default_ccxt_options(exchange_config.market_type), exchange_config.ccxt_options
        )
        exchange_config = exchange_config.model_copy(update={"ccxt_options": options})
        trading_config = parse_config(TradingConfig, self._trading)
        data: CandleData | None = None
        if self._backtesting_data is not None:
            from octobot_trading.backtesting.backtest_component import checked_data

            data = checked_data(self._backtesting_data)
            if self._storage is not None:
                raise ConfigurationError(
                    "with_storage is for live and paper trading; a backtest restarts from its data", field="storage"
                )
        if not self._account and (self._modes or self._storage is not None):
            raise ConfigurationError(
                "trading modes and storage need an account: remove public_data_only()",
                field="trading_mode" if self._modes else "storage",
            )
        if self._modes:
            from octobot_trading.modes.modes_component import check_settings

            check_settings(self._modes)
        evaluations: list[Any] = []
        if self._evaluations is not None:
            from octobot_trading.backtesting.backtest_component import checked_evaluations
            from octobot_trading.modes.evaluations import read_evaluations

            if data is None:
                raise ConfigurationError(
                    "with_evaluations() replays evaluations in backtests; live and paper "
                    "trading publish them with manager.evaluations.publish()",
                    field="evaluations",
                )
            source = self._evaluations
            name = str(source) if isinstance(source, str | PathLike) else "evaluations"
            evaluations = checked_evaluations(data, exchange_config, read_evaluations(source), name)
        clock = self._clock or (SimulatedClock() if data is not None else LiveClock())
        if data is not None and not isinstance(clock, SimulatedClock):
            raise ConfigurationError("a backtest runs on a SimulatedClock", field="clock")
        return _Plan(
            exchange_config=exchange_config,
            trading_config=trading_config,
            clock=clock,
            trader_type=self._trader_type,
            exchange_class=exchange_class,
            client_hook=self._client_hook,
            backtesting_data=data,
            trading_modes=tuple(self._modes),
            storage_path=self._storage,
            storage_history=self._storage_history,
            extra_components=tuple(self._extra_components),
            websocket_options=dict(self._websocket_options),
            account=self._account or data is not None,
            evaluations=tuple(evaluations),
            futures=self._futures,
        )

    async def build(self) -> ExchangeManager:
        """Validate, assemble (see the module docstring), start and register the manager.

        Raises a typed error and leaves nothing running (and nothing registered) on failure.
        """
        plan = self._plan()
        connector = _make_connector(plan)
        try:
            exchange = plan.exchange_class(connector, plan.clock, market_type=plan.exchange_config.market_type)
            manager = ExchangeManager(
                exchange_config=plan.exchange_config,
                trading_config=plan.trading_config,
                clock=plan.clock,
                connector=connector,
                exchange=exchange,
                trader_type=plan.trader_type,
                is_backtesting=plan.backtesting_data is not None,
            )
        except BaseException:
            await connector.close()
            raise
        try:
            _assemble(manager, plan)
            await manager.start()
        except BaseException:
            await manager.stop()
            raise
        exchanges_registry.add(manager)
        return manager


def standalone_exchange(
    exchange_config: ExchangeConfig,
    clock: Clock,
    *,
    exchange_class: type[RestExchange] | None = None,
    client_hook: ClientHook | None = None,
) -> RestExchange:
    """Step 1 alone, for tools that only read public data (``download-data``): the venue's
    exchange class (``exchange_class``, else the one registered for the ccxt id) over the
    connector it makes, with the class's default ccxt options under the configured ones.

    No manager, no component, nothing started: the caller ``close()``s it.
    """
    cls = exchange_class or get_exchange_class(exchange_config.exchange)
    options = _deep_merge(cls.default_ccxt_options(exchange_config.market_type), exchange_config.ccxt_options)
    config = exchange_config.model_copy(update={"ccxt_options": options})
    return cls(cls.create_connector(config, clock, client_hook=client_hook), clock, market_type=config.market_type)


def _make_connector(plan: _Plan) -> ExchangeConnector:
    """Step 1: the venue's connector; paper trading wraps it, a backtest replays its data instead."""
    from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector

    if plan.backtesting_data is not None:
        from octobot_trading.backtesting.backtest_component import backtesting_connector

        data, config = plan.backtesting_data, plan.exchange_config
        return backtesting_connector(data, config, plan.trading_config, plan.clock, plan.futures)
    live = plan.exchange_class.create_connector(plan.exchange_config, plan.clock, client_hook=plan.client_hook)
    if plan.trader_type is TraderType.REAL:
        return live
    trading = plan.trading_config
    # paper: the simulated venue reads its market data (markets and limits included) through the
    # venue class over the live connector, so the class's fix_markets / fix_ticker / ... repair it
    venue = plan.exchange_class(live, plan.clock, market_type=plan.exchange_config.market_type)
    paper = SimulatedConnector(
        plan.clock,
        markets=None,
        starting_balances=trading.starting_portfolio,
        fees=Fees(maker=trading.fees.maker, taker=trading.fees.taker),
        market_data=venue,
    )
    paper.allow_withdrawals = plan.exchange_config.allow_withdrawals  # allow_withdrawals(), as live
    if plan.futures is not None:
        plan.futures.apply(paper)  # contract symbols become futures once the markets are loaded
    return paper


def _assemble(manager: ExchangeManager, plan: _Plan) -> None:
    """Steps 2 to 6: create the components in start order and fill the manager's slots (no I/O)."""
    from octobot_trading.exchange_data.market_data_component import MarketDataComponent
    from octobot_trading.modes.channel import EvaluationChannel
    from octobot_trading.modes.modes_component import TradingModesComponent
    from octobot_trading.personal_data.trader_component import TraderComponent
    from octobot_trading.storage.component import StorageComponent
    from octobot_trading.storage.history import HistoryPolicy

    data = plan.backtesting_data
    account: TraderComponent | BacktestComponent
    if plan.account:  # evaluations reach the trading modes (step 5) through this channel
        manager.use_evaluations(EvaluationChannel(f"{plan.exchange_config.exchange}-evaluations"))
    if data is None:
        # 2. market data, read through manager.exchange
        market_data = MarketDataComponent(
            manager.exchange,
            plan.exchange_config,
            plan.clock,
            account_topics=plan.account,
            websocket_options=dict(plan.websocket_options),
        )
        manager.add_component(market_data)
        manager.use_market_data(market_data.market_data)
        if not plan.account:  # public data only: no account, no trader (and so no storage or modes)
            _add_extra_components(manager, plan)
            return
        # 3. the trader (live or paper)
        account = TraderComponent(manager)
    else:
        from octobot_trading.backtesting.backtest_component import BacktestComponent, backtest_market_data

        # 2. market data: synchronized channels fed by the replay
        hub = backtest_market_data(data, plan.exchange_config, plan.clock)
        manager.use_market_data(hub)
        # 3. the backtest driver, which owns the backtest's trader
        account = BacktestComponent(manager, data, hub, list(plan.evaluations))
    manager.add_component(account)
    manager.use_account(account.trader, account.personal_data)
    manager.exchange.set_order_entry(account.trader)  # execute_trade gets the trader's checks
    # 4. storage
    if plan.storage_path is not None:
        history = None
        if plan.storage_history is not None:
            history = HistoryPolicy.build(*plan.storage_history)
        manager.add_component(StorageComponent(manager, plan.storage_path, history=history))
    # 5. trading modes
    if plan.trading_modes:
        manager.add_component(TradingModesComponent(manager, plan.trading_modes))
    # 6. the user's components
    _add_extra_components(manager, plan)


def _add_extra_components(manager: ExchangeManager, plan: _Plan) -> None:
    for factory in plan.extra_components:
        made = factory(manager)
        for component in () if made is None else [made] if isinstance(made, Component) else made:
            manager.add_component(component)
