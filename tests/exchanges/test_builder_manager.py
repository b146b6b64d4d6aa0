"""ExchangeBuilder -> ExchangeManager -> exchanges_registry, with the real ccxt client on the fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.exchanges import builder as builder_module
from octobot_trading.exchanges.manager import ExchangeManager
from octobot_trading.exchanges.venues import BinanceExchange
from octobot_trading.testing.fake_exchange import FakeExchangeServer

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
        t for t in asyncio.all_tasks()
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
    for name in ("first", "second", "broken"):
        builder_module.unregister_component_factory(name)


async def test_done_when_flow_real_trader(server: FakeExchangeServer) -> None:
    manager = await _builder(server).build()
    async with manager:
        await manager.wait_ready(timeout=5)
        assert isinstance(manager, ot.ExchangeManager) and manager.id in ot.exchanges_registry
        assert ot.exchanges_registry.get(manager.id) is manager
        assert manager in ot.exchanges_registry.get_by_name("binance")
        assert (manager.is_simulated, manager.is_backtesting, manager.is_future, manager.rest_only,
                manager.is_sandboxed) == (False, False, False, True, False)
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


async def test_invalid_configuration_names_the_field(
        registry_before: set[str], server: FakeExchangeServer) -> None:
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
        registry_before: set[str], server: FakeExchangeServer) -> None:
    # the fake venue lists spot markets only
    builder = (_builder(server).with_symbols([]).with_market_type(ot.MarketType.LINEAR)
               .with_ccxt_options(server.ccxt_config()))
    with pytest.raises(errors.ConfigurationError) as caught:
        await builder.build()
    assert caught.value.field == "market_type"
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_unknown_configured_symbol_fails_the_build_cleanly(
        registry_before: set[str], server: FakeExchangeServer) -> None:
    with pytest.raises(errors.UnknownSymbol) as caught:
        await _builder(server).with_symbols(["DOGE/USDT"]).build()
    assert caught.value.symbol == "DOGE/USDT"
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_unwired_subsystems_are_refused_not_ignored(server: FakeExchangeServer) -> None:
    class SomeMode:
        pass

    with builder_module.isolated_wiring():  # nothing wired but the real connector
        for builder, what in [
            (_builder(server).use_simulated_trader({"USDT": "1000"}), "use_simulated_trader"),
            (_builder(server).use_backtesting(object()), "use_backtesting"),
            (_builder(server).use_trading_mode(SomeMode, {"a": 1}), "use_trading_mode"),
            (_builder(server).with_storage("state.sqlite"), "with_storage"),
        ]:
            with pytest.raises(errors.NotSupported) as caught:
                await builder.build()
            assert what in str(caught.value)
    with pytest.raises(errors.ConfigurationError):
        ot.ExchangeBuilder("binance").use_trading_mode("not a class")  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigurationError):
        ot.ExchangeBuilder("binance").use_backtesting(None)
    assert server.faults.requests == []  # refused before any request


async def test_components_start_in_order_and_stop_in_reverse(server: FakeExchangeServer,
                                                             journal: list[str]) -> None:
    builder_module.register_component_factory("second", lambda m, ctx: [Recorder("second", journal)])
    builder_module.register_component_factory("first", lambda m, ctx: [Recorder("first", journal)],
                                              before="second")
    manager = await _builder(server).build()
    assert [c.name for c in manager.components] == ["connector", "first", "second"]
    assert journal == ["start first", "start second"]
    assert len(_other_tasks()) == 2
    await manager.stop()
    await manager.stop()
    assert journal == ["start first", "start second", "stop second", "stop first"]
    assert not _other_tasks() and manager.id not in ot.exchanges_registry


async def test_failed_build_half_way_leaves_nothing_running(
        registry_before: set[str], server: FakeExchangeServer,
                                                            journal: list[str]) -> None:
    builder_module.register_component_factory("first", lambda m, ctx: [Recorder("first", journal)])
    builder_module.register_component_factory("broken", lambda m, ctx: [Recorder("broken", journal, True)])
    with pytest.raises(RuntimeError, match="broken failed"):
        await _builder(server).build()
    assert journal == ["start first", "start broken", "stop broken", "stop first"]
    assert set(ot.exchanges_registry.ids()) == registry_before
    assert not _other_tasks()


async def test_manager_rejects_late_components_and_restart(server: FakeExchangeServer) -> None:
    manager = await _builder(server).build()
    try:
        with pytest.raises(RuntimeError):
            manager.add_component(Recorder("late", []))
        from octobot_trading.exchanges.manager import ConnectorComponent

        assert manager.get_component("connector") is not None and manager.get_component("nope") is None
        assert manager.get_component("connector", ConnectorComponent).connector is manager.connector
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


async def test_manager_context_manager_and_readiness_hook(server: FakeExchangeServer) -> None:
    class Ready:
        waited: float | None = None

        async def wait_ready(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
            Ready.waited = timeout

    manager = await _builder(server).build()
    manager.readiness = Ready()
    async with manager as entered:
        assert entered is manager and manager.is_running
        await manager.wait_ready(timeout=7)
        assert Ready.waited == 7
    assert not manager.is_running and manager.id not in ot.exchanges_registry


async def test_registered_connector_factory_is_used_for_simulated_trader(server: FakeExchangeServer) -> None:
    from octobot_trading.exchanges.connectors.ccxt import CCXTConnector

    seen: list[ot.TraderType] = []

    def factory(ctx: builder_module.BuildContext) -> CCXTConnector:
        seen.append(ctx.trader_type)
        return CCXTConnector(ctx.exchange_config, ctx.clock, client_hook=ctx.client_hook)

    with builder_module.isolated_wiring():
        builder_module.register_connector_factory("simulated", factory)
        manager = await _builder(server).use_simulated_trader({"USDT": "500"}).build()
        async with manager:
            assert manager.is_simulated and not manager.is_backtesting
            assert manager.trading_config.starting_portfolio == {"USDT": Decimal("500")}
        assert seen == [ot.TraderType.SIMULATED]


async def test_manager_type_is_exported_lazily() -> None:
    assert ot.ExchangeManager is ExchangeManager


async def test_cancelled_build_leaves_nothing_running(
        registry_before: set[str], server: FakeExchangeServer, journal: list[str]) -> None:
    started = asyncio.Event()

    class Hangs(Recorder):
        async def start(self) -> None:
            await super().start()
            started.set()
            await asyncio.Event().wait()  # never returns

    builder_module.register_component_factory("first", lambda m, ctx: [Recorder("first", journal)])
    builder_module.register_component_factory("second", lambda m, ctx: [Hangs("second", journal)])
    build = asyncio.create_task(_builder(server).build())
    await started.wait()
    build.cancel()
    with pytest.raises(asyncio.CancelledError):
        await build
    assert journal == ["start first", "start second", "stop second", "stop first"]
    assert set(ot.exchanges_registry.ids()) == registry_before and not _other_tasks()


async def test_secrets_never_reach_logs_reprs_or_errors(server: FakeExchangeServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    secret = "canary-secret-4f9a2b7c"
    caplog.set_level(logging.DEBUG)
    manager = await (_builder(server).with_credentials(api_key="canary-key-91e0", api_secret=secret).build())
    texts = [repr(manager), repr(manager.exchange), repr(manager.connector), repr(manager.exchange_config)]
    async with manager:
        server.faults.drop_after()
        server.faults.status(500, method="GET", path="/api/v3/order", times=None)
        for call in (manager.exchange.fetch_balance(),
                     manager.exchange.create_order("limit", "buy", BTC, "0.01", "17000")):
            with pytest.raises(errors.ExchangeError) as caught:
                await call
            texts.append(str(caught.value))
            texts.append(str(caught.value.__cause__))
    joined = "\n".join(texts) + caplog.text
    assert secret not in joined and "canary-key-91e0" not in joined
