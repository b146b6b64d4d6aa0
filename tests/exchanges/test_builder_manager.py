"""ExchangeBuilder -> ExchangeManager -> exchanges_registry, with the real ccxt client on the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.clock import Clock
from octobot_trading.config import ExchangeConfig
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.types import MarketInfo, Ticker
from octobot_trading.exchanges.venues import BinanceExchange
from octobot_trading.testing.fake_exchange import FakeExchangeServer
from tests.exchange_data.helpers import until

from .conftest import FAST

BTC = "BTC/USDT"


def _builder(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols([BTC])
        .with_time_frames(["5m", "1h"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .sandboxed(False)
        .rest_only(True)
        .use_real_trader()
    )


def _other_tasks() -> set[asyncio.Task[object]]:
    """Tasks left besides this test's own and the fake server's connection handlers."""
    return {
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and not t.get_coro().__qualname__.startswith("RequestHandler.")
    }


class Recorder:
    """A component recording its start/stop calls in a shared journal."""

    def __init__(self, name: str, journal: list[str], fail_on_start: bool = False) -> None:
        self.name = name
        self.journal = journal
        self.fail_on_start = fail_on_start
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.journal.append(f"start {self.name}")
        if self.fail_on_start:
            raise RuntimeError(f"{self.name} failed")
        self.task = asyncio.create_task(asyncio.sleep(3600))

    async def stop(self) -> None:
        self.journal.append(f"stop {self.name}")
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None


@pytest.fixture
def journal() -> Iterator[list[str]]:
    entries: list[str] = []
    yield entries


async def test_done_when_flow_real_trader(server: FakeExchangeServer) -> None:
    manager = await _builder(server).build()
    async with manager:
        await manager.wait_ready(timeout=30)
        assert isinstance(manager, ot.ExchangeManager) and manager.id in ot.exchanges_registry
        assert ot.exchanges_registry.get(manager.id) is manager
        assert manager in ot.exchanges_registry.get_by_name("binance")
        assert (
            manager.is_simulated,
            manager.is_backtesting,
            manager.is_future,
            manager.rest_only,
            manager.is_sandboxed,
        ) == (False, False, False, True, False)
        assert manager.exchange_name == "binance" and manager.time_frames == ("5m", "1h")
        ex = manager.exchange
        assert isinstance(ex, BinanceExchange) and isinstance(ex, ot.RestExchange)

        balance = await ex.fetch_balance()
        assert balance["USDT"].total == Decimal("10000")
        ticker = await ex.fetch_ticker(BTC)
        last = ticker.last
        assert isinstance(last, Decimal)
        candles = await ex.fetch_ohlcv(BTC, "1h", limit=3)
        assert len(candles) == 3 and all(isinstance(c.close, Decimal) for c in candles)
        book = await ex.fetch_order_book(BTC, limit=5)
        assert book.bids[0][0] < book.asks[0][0]

        limit = await ex.create_order(ot.OrderType.LIMIT, ot.OrderSide.BUY, BTC, "0.01", "17000")
        assert limit.status is ot.OrderStatus.OPEN and limit.client_order_id
        market = await ex.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, BTC, "0.02")
        assert market.status is ot.OrderStatus.FILLED and market.price == last  # BinanceExchange.fix_order
        assert (await ex.fetch_order(limit.id, BTC)).id == limit.id
        assert [o.id for o in await ex.fetch_open_orders(BTC)] == [limit.id]
        assert (await ex.cancel_order(limit.id, BTC)).status is ot.OrderStatus.CANCELED
        trades = await ex.fetch_my_trades(BTC)
        assert [t.order_id for t in trades] == [market.id]
        fee = Decimal("0.02") * Decimal("0.001")
        balance = await ex.fetch_balance()
        assert balance["BTC"].total == Decimal("1") + Decimal("0.02") - fee
        assert balance["USDT"].total == Decimal("10000") - Decimal("0.02") * last
    assert manager.id not in ot.exchanges_registry
    await manager.stop()  # idempotent
    assert not _other_tasks()


async def test_invalid_configuration_names_the_field(registry_before: set[str], server: FakeExchangeServer) -> None:
    cases = [
        (ot.ExchangeBuilder("binance").with_time_frames(["7m"]), "time_frames"),
        (ot.ExchangeBuilder("binance").with_symbols(["BTCUSDT"]), "symbols"),
        (ot.ExchangeBuilder("binance").with_market_type("perpetual"), "market_type"),
        (ot.ExchangeBuilder("binance").with_ccxt_options({"secret": "x"}), "ccxt_options"),
        (ot.ExchangeBuilder("bin ance"), "exchange"),
    ]
    for builder, field in cases:
        with pytest.raises(errors.ConfigurationError) as caught:
            await builder.build()
        assert caught.value.field is not None and caught.value.field.startswith(field), caught.value
    with pytest.raises(errors.MoneyTypeError):
        await ot.ExchangeBuilder("binance").use_simulated_trader({"USDT": 10000.0}).build()
    with pytest.raises(errors.ConfigurationError) as caught:
        await ot.ExchangeBuilder("nosuchexchange").build()
    assert caught.value.field == "exchange"
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_unknown_market_type_on_the_venue_is_a_configuration_error(
    registry_before: set[str], server: FakeExchangeServer
) -> None:
    # the fake venue lists spot markets only
    builder = (
        _builder(server).with_symbols([]).with_market_type(ot.MarketType.LINEAR).with_ccxt_options(server.ccxt_config())
    )
    with pytest.raises(errors.ConfigurationError) as caught:
        await builder.build()
    assert caught.value.field == "market_type"
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_unknown_configured_symbol_fails_the_build_cleanly(
    registry_before: set[str], server: FakeExchangeServer
) -> None:
    with pytest.raises(errors.UnknownSymbol) as caught:
        await _builder(server).with_symbols(["DOGE/USDT"]).build()
    assert caught.value.symbol == "DOGE/USDT"
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_bad_subsystem_settings_are_refused_before_any_request(
    registry_before: set[str], server: FakeExchangeServer
) -> None:
    class SomeMode:
        pass

    for builder, field in [
        (_builder(server).use_backtesting(object()), "backtesting_data"),
        (_builder(server).use_trading_mode(SomeMode, {"a": 1}), "trading_mode"),
    ]:
        with pytest.raises(errors.ConfigurationError) as caught:
            await builder.build()
        assert caught.value.field == field
    with pytest.raises(errors.ConfigurationError) as caught:
        _builder(server).with_component("not callable")  # type: ignore[arg-type]
    assert caught.value.field == "component"
    with pytest.raises(errors.ConfigurationError) as caught:
        _builder(server).with_websocket_options(stale=3)
    assert caught.value.field == "websocket_options.stale"
    with pytest.raises(errors.ConfigurationError):
        ot.ExchangeBuilder("binance").use_trading_mode("not a class")  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigurationError):
        ot.ExchangeBuilder("binance").use_backtesting(None)
    assert server.faults.requests == []  # refused before any request
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_components_start_in_order_and_stop_in_reverse(server: FakeExchangeServer, journal: list[str]) -> None:
    seen: list[Any] = []

    def first(manager: ExchangeManager) -> Recorder:
        seen.append((manager.trader, manager.exchange_personal_data, manager.market_data))
        return Recorder("first", journal)

    builder = _builder(server).with_component(first).with_component(lambda m: [Recorder("second", journal)])
    manager = await builder.build()
    assert [c.name for c in manager.components] == ["connector", "exchange_data", "trader", "first", "second"]
    assert seen == [(manager.trader, manager.exchange_personal_data, manager.market_data)]  # built-ins exist
    assert None not in seen[0]
    assert journal == ["start first", "start second"]
    recorders = [manager.get_component(name, Recorder) for name in ("first", "second")]
    assert all(r.task is not None and not r.task.done() for r in recorders)
    await manager.stop()
    await manager.stop()
    assert journal == ["start first", "start second", "stop second", "stop first"]
    assert not _other_tasks() and manager.id not in ot.exchanges_registry


async def test_failed_build_half_way_leaves_nothing_running(
    registry_before: set[str], server: FakeExchangeServer, journal: list[str]
) -> None:
    builder = (
        _builder(server)
        .with_component(lambda m: Recorder("first", journal))
        .with_component(lambda m: [Recorder("broken", journal, True)])
    )
    with pytest.raises(RuntimeError, match="broken failed"):
        await builder.build()
    assert journal == ["start first", "start broken", "stop broken", "stop first"]
    assert set(ot.exchanges_registry.ids()) == registry_before
    assert not _other_tasks()


async def test_a_failing_component_factory_fails_the_build_before_any_request(
    registry_before: set[str], server: FakeExchangeServer
) -> None:
    def broken(manager: ExchangeManager) -> Recorder:
        raise ValueError("bad component")

    with pytest.raises(ValueError, match="bad component"):
        await _builder(server).with_component(broken).build()
    assert server.faults.requests == []  # assembled before anything starts: no markets loaded
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_manager_rejects_late_components_and_restart(server: FakeExchangeServer) -> None:
    manager = await _builder(server).build()
    try:
        with pytest.raises(RuntimeError):
            manager.add_component(Recorder("late", []))
        from octobot_trading.exchanges.manager import ConnectorComponent

        assert manager.get_component("connector") is not None and manager.get_component("nope") is None
        assert manager.get_component("connector", ConnectorComponent).connector is manager.exchange
        with pytest.raises(LookupError):
            manager.get_component("nope", ConnectorComponent)
        with pytest.raises(TypeError):
            manager.get_component("connector", Recorder)
        assert "api" not in repr(manager).lower() or server.api_key not in repr(manager)
    finally:
        await manager.stop()
    with pytest.raises(RuntimeError):
        await manager.start()
    with pytest.raises(errors.ReadinessTimeout):
        await manager.wait_ready(timeout=0.1)


async def test_manager_context_manager_and_readiness(server: FakeExchangeServer) -> None:
    manager = await _builder(server).build()
    assert manager.market_data is not None and manager.readiness is manager.market_data.readiness
    assert manager.channels is manager.market_data.channels
    assert manager.exchange_symbols_data is manager.market_data.symbols_data
    manager.readiness.require("custom")
    async with manager as entered:
        assert entered is manager and manager.is_running
        await until(lambda: manager.readiness.missing == ("custom",))  # the venue's topics came (loaded machine)
        with pytest.raises(errors.ReadinessTimeout) as caught:
            await manager.wait_ready(timeout=0.2)
        assert caught.value.missing == ("custom",)
        manager.readiness.mark_ready("custom")
        await manager.wait_ready(timeout=30)
    assert not manager.is_running and manager.id not in ot.exchanges_registry


class RecordingConnector(CCXTConnector):
    """The ccxt connector on the fake Binance server, recording the calls the engine makes."""

    def __init__(self, exchange_config: ExchangeConfig, clock: Clock, *, client_hook: Any = None) -> None:
        super().__init__(exchange_config, clock, client_hook=client_hook)
        self.calls: list[str] = []

    async def load_markets(self, reload: bool = False) -> Any:
        self.calls.append("load_markets")
        return await super().load_markets(reload)

    async def fetch_ticker(self, symbol: str) -> Any:
        self.calls.append("fetch_ticker")
        return await super().fetch_ticker(symbol)

    async def create_order(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("create_order")
        return await super().create_order(*args, **kwargs)


class RecordingVenue(BinanceExchange):
    """A venue class bringing its own connector (a plugin's "real" connector)."""

    connector_class = RecordingConnector


def _recording_builder(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_exchange_class(RecordingVenue)
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols([BTC])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .with_trading_config(order_safety={"max_price_age_seconds": 10**10})  # the replayed prices are old
    )


async def test_paper_trading_wraps_the_connector_live_trading_would_use(server: FakeExchangeServer) -> None:
    live = await _recording_builder(server).use_real_trader().build()
    async with live:
        assert isinstance(live.exchange, RecordingVenue) and isinstance(live.connector, RecordingConnector)
    manager = await _recording_builder(server).use_simulated_trader({"USDT": "1000"}).build()
    async with manager:
        assert isinstance(manager.exchange, RecordingVenue)
        simulated = manager.exchange.connector
        assert isinstance(simulated, SimulatedConnector)
        market_data = simulated.market_data
        assert isinstance(market_data, RecordingVenue)  # the venue class (its hooks) over ...
        venue = market_data.connector
        assert isinstance(venue, RecordingConnector)  # ... the plugin's connector, not a fresh ccxt one
        assert venue.calls[0] == "load_markets" and "fetch_ticker" in venue.calls  # market data read from it
        order = await manager.trader.create_order("market", "buy", BTC, "0.001")
        assert order.status is ot.OrderStatus.CLOSED
        assert "create_order" not in venue.calls and server.state.orders == {}  # fills stay simulated
    assert venue.calls and not _other_tasks()


async def test_manager_type_is_exported_lazily() -> None:
    assert ot.ExchangeManager is ExchangeManager


async def test_cancelled_build_leaves_nothing_running(
    registry_before: set[str], server: FakeExchangeServer, journal: list[str]
) -> None:
    started = asyncio.Event()

    class Hangs(Recorder):
        async def start(self) -> None:
            await super().start()
            started.set()
            await asyncio.Event().wait()  # never returns

    builder = (
        _builder(server)
        .with_component(lambda m: Recorder("first", journal))
        .with_component(lambda m: Hangs("second", journal))
    )
    build = asyncio.create_task(builder.build())
    await started.wait()
    build.cancel()
    with pytest.raises(asyncio.CancelledError):
        await build
    assert journal == ["start first", "start second", "stop second", "stop first"]
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_secrets_never_reach_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from octobot_trading.testing.fake_exchange import default_markets

    from .conftest import FIXTURES

    secret = "canary-secret-4f9a2b7c"
    caplog.set_level(logging.DEBUG)
    async with FakeExchangeServer(
        default_markets(FIXTURES, "5m"), start_index=100, api_key="canary-key-91e0", api_secret=secret
    ) as server:
        await _check_secrets_stay_hidden(server, secret, caplog)


async def _check_secrets_stay_hidden(server: FakeExchangeServer, secret: str, caplog: pytest.LogCaptureFixture) -> None:
    manager = await _builder(server).with_credentials(api_key="canary-key-91e0", api_secret=secret).build()
    texts = [repr(manager), repr(manager.exchange), repr(manager.connector), repr(manager.exchange_config)]
    async with manager:
        server.faults.drop_after()
        server.faults.status(500, method="GET", path="/api/v3/order", times=None)
        server.faults.status(500, method="GET", path="/api/v3/account", times=None)
        for call in (
            manager.exchange.fetch_balance(),
            manager.exchange.create_order("limit", "buy", BTC, "0.01", "17000"),
        ):
            with pytest.raises(errors.ExchangeError) as caught:
                await call
            texts.append(str(caught.value))
            texts.append(str(caught.value.__cause__))
    joined = "\n".join(texts) + caplog.text
    assert secret not in joined and "canary-key-91e0" not in joined


class _LooserMinimumsVenue(BinanceExchange):
    """A venue class repairing the markets (the venue really takes 1 USDT orders) and counting tickers."""

    tickers_repaired = 0

    def fix_markets(self, markets: dict[str, MarketInfo]) -> dict[str, MarketInfo]:
        return {
            symbol: replace(info, spec=replace(info.spec, min_cost=Decimal("1")))
            for symbol, info in super().fix_markets(markets).items()
        }

    def fix_ticker(self, ticker: Ticker) -> Ticker:
        type(self).tickers_repaired += 1
        return ticker


async def test_paper_trading_simulates_on_the_markets_the_venue_class_repaired(server: FakeExchangeServer) -> None:
    manager = await (
        _recording_builder(server)
        .with_exchange_class(_LooserMinimumsVenue)
        .use_simulated_trader({"USDT": "1000"})
        .build()
    )
    async with manager:
        simulated = manager.exchange.connector
        assert isinstance(simulated, SimulatedConnector)
        # the simulated venue checks orders against the repaired limits, like the trader
        assert simulated.markets[BTC].spec.min_cost == Decimal("1")
        assert manager.trader.markets[BTC].spec.min_cost == Decimal("1")
        price = (await manager.exchange.fetch_ticker(BTC)).last
        assert price is not None
        amount = (Decimal("3") / price).quantize(Decimal("0.00001"))  # about 3 USDT: under the venue's raw 5
        order = await manager.trader.create_order("market", "buy", BTC, amount)
        assert order.status is ot.OrderStatus.CLOSED
        # a market-data hook runs once per read, not once in the simulator's source and again outside
        before = _LooserMinimumsVenue.tickers_repaired
        await manager.exchange.fetch_ticker(BTC)
        assert _LooserMinimumsVenue.tickers_repaired == before + 1
    assert not _other_tasks()
