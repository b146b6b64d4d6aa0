"""``ExchangeBuilder``: the one supported way to construct an ``ExchangeManager``.

``build()`` does, in this order:

1. validate the settings into :class:`~octobot_trading.config.ExchangeConfig` and
   :class:`~octobot_trading.config.TradingConfig` (``ConfigurationError`` naming the field);
2. check that every requested subsystem is wired (else ``NotSupported`` naming it);
3. pick the exchange class by ccxt id (:mod:`.exchange_classes`) and merge its default ccxt
   options under the user's;
4. create the connector through the connector factory of the trader kind (``"real"``: the
   ccxt connector; ``"simulated"`` / ``"backtesting"``: registered by their subsystems);
5. create the manager, whose first component loads the markets, then add the components of
   every registered component factory, in registration order;
6. start the manager (components in order) and register it in ``ot.exchanges_registry``.

Any failure stops what was started (reverse order), closes the connector, leaves no registry
entry, and re-raises.

Wiring hooks for the other subsystems (call at import time of the subsystem, or from the lead's
wiring module):

* :func:`register_connector_factory` ``(kind, fn(ctx) -> ExchangeConnector)`` for ``"simulated"``
  (paper trading) and ``"backtesting"``;
* :func:`register_component_factory` ``(name, fn(manager, ctx) -> iterable of components)``;
  the names ``"trading_modes"`` and ``"storage"`` are required by ``use_trading_mode`` and
  ``with_storage``. A factory reads what it needs from the :class:`BuildContext`.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from octobot_trading.clock import Clock, LiveClock, SimulatedClock
from octobot_trading.config import ExchangeConfig, TradingConfig, parse_config
from octobot_trading.enums import MarketType, TraderType
from octobot_trading.errors import ConfigurationError, NotSupported
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.exchange_classes import get_exchange_class
from octobot_trading.exchanges.manager import Component, ExchangeManager
from octobot_trading.exchanges.registry import exchanges_registry
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.util.decimals import to_decimal

__all__ = [
    "BuildContext",
    "ConnectorKind",
    "ExchangeBuilder",
    "TradingModeSetting",
    "isolated_wiring",
    "register_component_factory",
    "register_connector_factory",
    "unregister_component_factory",
]

ConnectorKind = Literal["real", "simulated", "backtesting"]
ClientHook = Callable[[Any], None]


@dataclass(frozen=True)
class TradingModeSetting:
    """One ``use_trading_mode`` call: the mode class, its raw config (validated by the mode) and,
    when given, the allocation of its own sub-portfolio."""

    mode_class: type
    config: Mapping[str, Any] | BaseModel | None
    sub_portfolio: Mapping[str, Decimal] | None = None


@dataclass(frozen=True)
class BuildContext:
    """Everything the builder validated, handed to connector and component factories."""

    exchange_config: ExchangeConfig
    trading_config: TradingConfig
    clock: Clock
    trader_type: TraderType
    exchange_class: type[RestExchange]
    client_hook: ClientHook | None = None
    backtesting_data: Any = None
    trading_modes: tuple[TradingModeSetting, ...] = ()
    storage_path: Path | None = None

    @property
    def is_backtesting(self) -> bool:
        """True when ``use_backtesting`` was called."""
        return self.backtesting_data is not None


ConnectorFactory = Callable[[BuildContext], "ExchangeConnector | Awaitable[ExchangeConnector]"]
ComponentFactory = Callable[[ExchangeManager, BuildContext], "Iterable[Component] | None"]


def _ccxt_connector(ctx: BuildContext) -> ExchangeConnector:
    from octobot_trading.exchanges.connectors.ccxt import CCXTConnector

    return CCXTConnector(ctx.exchange_config, ctx.clock, client_hook=ctx.client_hook)


_CONNECTOR_FACTORIES: dict[str, ConnectorFactory] = {"real": _ccxt_connector}

#: When True, ``build()`` first wires every built-in subsystem that is not registered yet
#: (:func:`octobot_trading.wiring.install_defaults`). Tests of the bare builder turn it off.
AUTO_WIRE = True
_COMPONENT_FACTORIES: list[tuple[str, ComponentFactory]] = []


def register_connector_factory(kind: ConnectorKind, factory: ConnectorFactory) -> None:
    """Set the connector factory of a trader kind (replaces the previous one)."""
    if kind not in ("real", "simulated", "backtesting"):
        raise ValueError(f"unknown connector kind {kind!r}")
    _CONNECTOR_FACTORIES[kind] = factory


def register_component_factory(name: str, factory: ComponentFactory, *, before: str | None = None) -> None:
    """Add (or replace) a named component factory; ``before`` inserts it ahead of another one."""
    unregister_component_factory(name)
    index = len(_COMPONENT_FACTORIES)
    if before is not None:
        names = [n for n, _ in _COMPONENT_FACTORIES]
        if before not in names:
            raise ValueError(f"no component factory named {before!r}")
        index = names.index(before)
    _COMPONENT_FACTORIES.insert(index, (name, factory))


def unregister_component_factory(name: str) -> None:
    """Remove a named component factory (no error when absent)."""
    _COMPONENT_FACTORIES[:] = [(n, f) for n, f in _COMPONENT_FACTORIES if n != name]


@contextlib.contextmanager
def isolated_wiring(*, auto_wire: bool = False) -> Iterator[None]:
    """Run a block with no subsystem wired but the real connector; restore the wiring after.

    For tests (the project's and plugin authors'): inside, register only what the test needs.
    ``auto_wire`` sets :data:`AUTO_WIRE` for the block (default False: nothing is added by
    ``build()``).
    """
    global AUTO_WIRE
    components = list(_COMPONENT_FACTORIES)
    connectors = dict(_CONNECTOR_FACTORIES)
    saved_auto_wire = AUTO_WIRE
    AUTO_WIRE = auto_wire
    _COMPONENT_FACTORIES.clear()
    for kind in [k for k in _CONNECTOR_FACTORIES if k != "real"]:
        del _CONNECTOR_FACTORIES[kind]
    try:
        yield
    finally:
        AUTO_WIRE = saved_auto_wire
        _COMPONENT_FACTORIES[:] = components
        _CONNECTOR_FACTORIES.clear()
        _CONNECTOR_FACTORIES.update(connectors)


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

    # -- settings (each returns the builder) ------------------------------------------------
    def with_credentials(self, api_key: str | None = None, api_secret: str | None = None,
                         password: str | None = None) -> ExchangeBuilder:
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

    def use_real_trader(self) -> ExchangeBuilder:
        """Send orders to the exchange (the default)."""
        self._trader_type, self._backtesting_data = TraderType.REAL, None
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

    def use_trading_mode(self, mode_class: type, config: Mapping[str, Any] | BaseModel | None = None, *,
                         sub_portfolio: Mapping[str, Decimal | int | str] | None = None) -> ExchangeBuilder:
        """Run a trading mode (repeatable).

        ``sub_portfolio`` (e.g. ``{"USDT": "5000"}``) carves that allocation out of the account
        for this mode alone; without it the mode trades the account's unallocated funds. Floats
        raise ``TypeError``; negative amounts ``ConfigurationError``; an allocation larger than
        the account fails the build with ``InsufficientFunds``.
        """
        if not inspect.isclass(mode_class):
            raise ConfigurationError(f"use_trading_mode() needs a mode class, got {mode_class!r}",
                                     field="trading_mode")
        if config is not None and not isinstance(config, Mapping | BaseModel):
            raise ConfigurationError("a trading mode config is a mapping or a pydantic model",
                                     field="trading_mode.config")
        allocation: dict[str, Decimal] | None = None
        if sub_portfolio is not None:
            if not isinstance(sub_portfolio, Mapping) or not sub_portfolio:
                raise ConfigurationError("sub_portfolio is a non-empty mapping of currency to amount",
                                         field="trading_mode.sub_portfolio")
            allocation = {}
            for currency, amount in sub_portfolio.items():
                value = to_decimal(amount, name=f"sub_portfolio.{currency}")
                if value < 0:
                    raise ConfigurationError(f"sub_portfolio.{currency} is negative",
                                             field=f"trading_mode.sub_portfolio.{currency}")
                allocation[str(currency)] = value
        self._modes.append(TradingModeSetting(mode_class, config, allocation))
        return self

    def with_storage(self, path: str | PathLike[str]) -> ExchangeBuilder:
        """Persist state in the SQLite file at ``path``."""
        if not isinstance(path, str | PathLike) or not str(path).strip():
            raise ConfigurationError("with_storage() needs a file path", field="storage")
        self._storage = Path(path)
        return self

    # -- build --------------------------------------------------------------------------------
    def context(self) -> BuildContext:
        """Validate the settings and return the build context (no I/O)."""
        exchange_config = parse_config(ExchangeConfig, self._data)
        exchange_class = get_exchange_class(exchange_config.exchange)
        options = _deep_merge(exchange_class.default_ccxt_options(exchange_config.market_type),
                              exchange_config.ccxt_options)
        exchange_config = exchange_config.model_copy(update={"ccxt_options": options})
        trading_config = parse_config(TradingConfig, self._trading)
        backtesting = self._backtesting_data is not None
        clock = self._clock or (SimulatedClock() if backtesting else LiveClock())
        return BuildContext(
            exchange_config=exchange_config,
            trading_config=trading_config,
            clock=clock,
            trader_type=self._trader_type,
            exchange_class=exchange_class,
            client_hook=self._client_hook,
            backtesting_data=self._backtesting_data,
            trading_modes=tuple(self._modes),
            storage_path=self._storage,
        )

    @staticmethod
    def _connector_kind(ctx: BuildContext) -> str:
        if ctx.is_backtesting:
            return "backtesting"
        return "simulated" if ctx.trader_type is TraderType.SIMULATED else "real"

    def _check_wired(self, ctx: BuildContext) -> None:
        missing = []
        kind = self._connector_kind(ctx)
        if kind not in _CONNECTOR_FACTORIES:
            missing.append("use_backtesting (backtesting connector)" if kind == "backtesting"
                           else "use_simulated_trader (simulated connector)")
        names = {n for n, _ in _COMPONENT_FACTORIES}
        if ctx.trading_modes and "trading_modes" not in names:
            missing.append("use_trading_mode (trading-mode subsystem)")
        if ctx.storage_path is not None and "storage" not in names:
            missing.append("with_storage (storage subsystem)")
        if missing:
            raise NotSupported("not wired into ExchangeBuilder yet: " + "; ".join(missing),
                               exchange=ctx.exchange_config.exchange)

    async def build(self) -> ExchangeManager:
        """Validate, connect, load markets, start the subsystems and register the manager.

        Raises a typed error and leaves nothing running (and nothing registered) on failure.
        """
        ctx = self.context()
        if AUTO_WIRE:
            from octobot_trading.wiring import install_defaults

            install_defaults()
        self._check_wired(ctx)
        made = _CONNECTOR_FACTORIES[self._connector_kind(ctx)](ctx)
        connector = await made if inspect.isawaitable(made) else made
        try:
            exchange = ctx.exchange_class(connector, ctx.clock, market_type=ctx.exchange_config.market_type)
            manager = ExchangeManager(
                exchange_config=ctx.exchange_config,
                trading_config=ctx.trading_config,
                clock=ctx.clock,
                connector=connector,
                exchange=exchange,
                trader_type=ctx.trader_type,
                is_backtesting=ctx.is_backtesting,
                settings={"trading_modes": ctx.trading_modes, "storage_path": ctx.storage_path,
                          "backtesting_data": ctx.backtesting_data},
            )
        except BaseException:
            await connector.close()
            raise
        try:
            for _name, factory in list(_COMPONENT_FACTORIES):
                for component in factory(manager, ctx) or ():
                    manager.add_component(component)
            await manager.start()
        except BaseException:
            await manager.stop()
            raise
        exchanges_registry.add(manager)
        return manager
