"""``ExchangeManager``: one exchange account, owning its connector, exchange and components.

The manager owns an ordered list of *components* — objects with a ``name``, ``async start()``
and ``async stop()`` (the :class:`Component` protocol): the connector first, then what
``ExchangeBuilder.build()`` assembles (market data, trader or backtest, storage, trading modes,
then the user's extra components). Its typed slots (``trader``, ``exchange_personal_data``,
``market_data``, ``channels``, ``exchange_symbols_data``, ``readiness``) are filled by the
builder, in the same order, before anything starts. ``start()`` starts
them in order; if one fails, those already started are stopped in reverse order and the error
propagates (the component whose start failed is stopped as well, so ``stop()`` must tolerate a
partial start). ``stop()`` stops them in reverse order, closes the connector and removes the
manager from ``exchanges_registry``; it is idempotent and keeps going when one component fails
(the failures are logged; ``CancelledError`` is always re-raised).

Mode flags (``is_simulated``, ``is_backtesting``, ``is_future``, ``rest_only``,
``is_sandboxed``) are read by the builder and the components it wires to choose connectors and
updaters; trading-mode code never branches on them.
"""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TypeVar, overload, runtime_checkable

from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig, TradingConfig
from octobot_trading.enums import TraderType
from octobot_trading.errors import NotSupported, ReadinessTimeout, UnknownSymbol
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.registry import exchanges_registry
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.util.logging import get_logger

if TYPE_CHECKING:
    from octobot_trading.exchange_data.channels import ExchangeChannels
    from octobot_trading.exchange_data.market_data import ExchangeMarketData
    from octobot_trading.exchange_data.readiness import ReadinessTracker
    from octobot_trading.exchange_data.symbol_data import ExchangeSymbolsData
    from octobot_trading.modes.channel import EvaluationChannel
    from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
    from octobot_trading.personal_data.trader import Trader

__all__ = ["Component", "ConnectorComponent", "ExchangeManager"]

C = TypeVar("C")


@runtime_checkable
class Component(Protocol):
    """Something the manager starts and stops."""

    name: str

    async def start(self) -> None:
        """Start (background tasks, subscriptions, first fetches)."""
        ...

    async def stop(self) -> None:
        """Stop and leave nothing running; idempotent."""
        ...


class ConnectorComponent:
    """The first component: loads the markets on start, closes the connector on stop.

    A configured symbol that the venue does not list raises ``UnknownSymbol`` at start.
    """

    name = "connector"

    def __init__(self, connector: ExchangeConnector, symbols: tuple[str, ...] = ()) -> None:
        self.connector = connector
        self.symbols = symbols

    async def start(self) -> None:
        """Load the markets and check the configured symbols."""
        markets = await self.connector.load_markets()
        missing = [s for s in self.symbols if s not in markets]
        if missing:
            raise UnknownSymbol(
                f"not listed on {self.connector.name}: {', '.join(missing)}",
                exchange=self.connector.name,
                symbol=missing[0],
            )

    async def stop(self) -> None:
        """Close the connector (idempotent)."""
        await self.connector.close()


class ExchangeManager:
    """One exchange account; build it with ``ot.ExchangeBuilder`` (see the module docstring)."""

    def __init__(
        self,
        *,
        exchange_config: ExchangeConfig,
        trading_config: TradingConfig,
        clock: Clock,
        connector: ExchangeConnector,
        exchange: RestExchange,
        trader_type: TraderType = TraderType.REAL,
        is_backtesting: bool = False,
    ) -> None:
        self.id = str(uuid.uuid4())
        self.exchange_config = exchange_config
        self.trading_config = trading_config
        self.clock = clock
        self.connector = connector
        self.exchange = exchange
        self.trader_type = trader_type
        self._is_backtesting = is_backtesting
        # the account (see the trader / exchange_personal_data properties): None until assembled,
        # and in a public_data_only() build
        self._trader: Trader | None = None
        self._personal_data: ExchangePersonalData | None = None
        self._symbols_data: ExchangeSymbolsData | None = None
        self._evaluations: EvaluationChannel | None = None
        #: The market-data hub: managers, channels and readiness behind one write API.
        self.market_data: ExchangeMarketData | None = None
        #: The per-exchange channels (``market_data.channels``).
        self.channels: ExchangeChannels | None = None
        #: The readiness tracker awaited by :meth:`wait_ready` (``market_data.readiness``, live and backtest).
        self.readiness: ReadinessTracker | None = None
        self._components: list[Component] = [ConnectorComponent(exchange, exchange_config.symbols)]
        self._started: list[Component] = []
        self._running = False
        self._stopped = False
        self._log = get_logger(f"octobot_trading.exchanges.manager.{exchange_config.exchange}")

    # -- identity and mode flags -----------------------------------------------------------
    @property
    def exchange_name(self) -> str:
        """The ccxt id of the exchange."""
        return self.exchange_config.exchange

    @property
    def is_simulated(self) -> bool:
        """True when orders are simulated (paper trading or backtesting)."""
        return self.trader_type is TraderType.SIMULATED

    @property
    def is_backtesting(self) -> bool:
        """True for a backtest (historical data, simulated clock)."""
        return self._is_backtesting

    @property
    def is_future(self) -> bool:
        """True when trading linear or inverse contracts."""
        return self.exchange_config.market_type.is_future

    @property
    def rest_only(self) -> bool:
        """True when no websocket feed may be used."""
        return self.exchange_config.rest_only

    @property
    def is_sandboxed(self) -> bool:
        """True when connected to the venue's sandbox / testnet."""
        return self.exchange_config.sandboxed

    @property
    def symbols(self) -> tuple[str, ...]:
        """Configured symbols."""
        return self.exchange_config.symbols

    @property
    def time_frames(self) -> tuple[str, ...]:
        """Configured time frames."""
        return tuple(tf.value for tf in self.exchange_config.time_frames)

    @property
    def is_running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._running

    def __repr__(self) -> str:
        return (
            f"ExchangeManager(id={self.id!r}, exchange={self.exchange_name!r}, "
            f"trader={self.trader_type.value!r}, backtesting={self.is_backtesting})"
        )

    def use_market_data(self, market_data: ExchangeMarketData) -> None:
        """Fill the market-data slots (hub, channels, per-symbol data, readiness) from ``market_data``."""
        self.market_data = market_data
        self.channels = market_data.channels
        self._symbols_data = market_data.symbols_data
        self.readiness = market_data.readiness

    def use_account(self, trader: Trader, personal_data: ExchangePersonalData) -> None:
        """Fill the account slots (:attr:`trader`, :attr:`exchange_personal_data`)."""
        self._trader, self._personal_data = trader, personal_data

    def use_evaluations(self, evaluations: EvaluationChannel) -> None:
        """Fill the :attr:`evaluations` slot (the builder does, for every build with an account)."""
        self._evaluations = evaluations

    # -- typed slots -------------------------------------------------------------------------
    def _missing(self, part: str) -> NotSupported:
        why = (
            "it was built with public_data_only(): market data only, no account"
            if self.market_data is not None
            else "it was not assembled by ExchangeBuilder.build()"
        )
        return NotSupported(f"this manager has no {part}: {why}", exchange=self.exchange_name)

    @property
    def has_account(self) -> bool:
        """True when the manager has a trader and the account's data (every build but ``public_data_only()``)."""
        return self._trader is not None and self._personal_data is not None

    @property
    def trader(self) -> Trader:
        """Where orders go (the same class live, on paper and in backtests).

        ``NotSupported`` naming the missing part on a manager without an account
        (``public_data_only()``); check :attr:`has_account` first when that can happen.
        """
        if self._trader is None:
            raise self._missing("trader")
        return self._trader

    @property
    def exchange_personal_data(self) -> ExchangePersonalData:
        """The account's orders / portfolio / trades / positions / transactions (``NotSupported``
        without an account, like :attr:`trader`)."""
        if self._personal_data is None:
            raise self._missing("account data (exchange_personal_data)")
        return self._personal_data

    @property
    def evaluations(self) -> EvaluationChannel:
        """The manager's evaluation channel: ``await manager.evaluations.publish(Evaluation(...))``
        reaches every trading mode whose producer overrides ``on_evaluation`` (``NotSupported``
        without an account, like :attr:`trader`)."""
        if self._evaluations is None:
            raise self._missing("evaluation channel (evaluations)")
        return self._evaluations

    @property
    def exchange_symbols_data(self) -> ExchangeSymbolsData:
        """Per-symbol market data (``market_data.symbols_data``; every build has it)."""
        if self._symbols_data is None:
            raise self._missing("market data (exchange_symbols_data)")
        return self._symbols_data

    # -- components ------------------------------------------------------------------------
    @property
    def components(self) -> tuple[Component, ...]:
        """The components in start order."""
        return tuple(self._components)

    def add_component(self, component: Component) -> None:
        """Append a component (before :meth:`start`); names must be unique."""
        if self._running or self._started:
            raise RuntimeError("components must be added before the manager starts")
        if not isinstance(component, Component):
            raise TypeError(f"{component!r} is not a component (name, async start(), async stop())")
        if any(c.name == component.name for c in self._components):
            raise ValueError(f"a component named {component.name!r} already exists")
        self._components.append(component)

    @overload
    def get_component(self, name: str) -> Component | None: ...

    @overload
    def get_component(self, name: str, kind: type[C]) -> C: ...

    def get_component(self, name: str, kind: type[C] | None = None) -> Component | C | None:
        """The component with this name (None when absent).

        With ``kind``, return it typed as ``kind``; raise ``LookupError`` when it is absent and
        ``TypeError`` when it is of another class.
        """
        found = next((c for c in self._components if c.name == name), None)
        if kind is None:
            return found
        if found is None:
            raise LookupError(f"no component named {name!r} on {self.exchange_name}")
        if not isinstance(found, kind):
            raise TypeError(f"component {name!r} is a {type(found).__name__}, not a {kind.__name__}")
        return found

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every component in order; on failure stop the started ones and re-raise."""
        if self._stopped:
            raise RuntimeError("a stopped ExchangeManager cannot be restarted; build a new one")
        if self._running:
            return
        try:
            for component in self._components:
                self._log.debug("starting %s", component.name)
                # listed before it starts: a failed or cancelled start is stopped too (partial state)
                self._started.append(component)
                await component.start()
        except BaseException:
            await self.stop()
            raise
        self._running = True

    async def stop(self) -> None:
        """Stop components in reverse order, close the connector, unregister. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._running = False
        cancelled: BaseException | None = None
        to_stop = list(reversed(self._started))
        if not any(c.name == "connector" for c in to_stop):
            to_stop.append(self._components[0])  # the connector may hold a session even if never started
        for component in to_stop:
            try:
                await component.stop()
            except asyncio.CancelledError as exc:
                cancelled = exc
            except Exception as exc:
                self._log.error("stopping %s failed: %s: %s", component.name, type(exc).__name__, exc)
        self._started.clear()
        exchanges_registry.remove(self.id)
        if cancelled is not None:
            raise cancelled

    async def wait_ready(self, timeout: float | None = 30) -> None:  # noqa: ASYNC109 - public signature
        """Wait until the market-data subsystem reports every required topic ready.

        Without a readiness tracker (a manager assembled by hand, without market data), the manager is
        ready once started. Raises ``ReadinessTimeout`` otherwise.
        """
        if not self._running:
            raise ReadinessTimeout(
                "the exchange manager is not running", missing=("started",), exchange=self.exchange_name
            )
        if self.readiness is not None:
            await self.readiness.wait_ready(timeout, exchange=self.exchange_name)

    async def __aenter__(self) -> ExchangeManager:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
