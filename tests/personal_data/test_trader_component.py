"""The trader component: ``manager.trader`` and ``manager.exchange_personal_data`` as the builder makes them."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading.enums import OrderStatus, TraderType
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from tests.exchanges.conftest import FAST, FIXTURES

D = Decimal


@pytest.fixture
async def server():
    async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as srv:
        yield srv


def _builder(server: FakeExchangeServer) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .rest_only(True)
    )


def _other_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_paper_trading_uses_live_prices_and_simulated_fills(server):
    # the fake server replays old candles: its tickers are years old, so the stale-price rule is relaxed
    builder = _builder(server).with_trading_config(order_safety={"max_price_age_seconds": 10**10})
    manager = await builder.use_simulated_trader(starting_portfolio={"USDT": "1000"}).build()
    async with manager:
        assert manager.is_simulated and manager.trader.trader_type is TraderType.SIMULATED
        assert isinstance(manager.connector, SimulatedConnector)
        personal = manager.exchange_personal_data
        usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
        assert (usdt.total, usdt.available) == (D(1000), D(1000))
        last = server.state.markets["BTCUSDT"].last_price
        order = await manager.trader.create_order("market", "buy", "BTC/USDT", "0.001")
        assert order.status is OrderStatus.CLOSED and order.average_price == last
        assert server.state.orders == {}  # nothing sent to the venue
        assert personal.trades_manager.trades()[0].price == last
    assert not _other_tasks()


async def test_real_trader_component_syncs_balances(server):
    manager = await _builder(server).use_real_trader().build()
    try:
        assert manager.trader.trader_type is TraderType.REAL
        portfolio = manager.exchange_personal_data.portfolio_manager.portfolio
        balances = await manager.connector.fetch_balance()
        assert {c: (b.total, b.free) for c, b in balances.items() if b.total} == {
            c: (t, a) for c, (t, a) in portfolio.snapshot().items() if t
        }
    finally:
        await manager.stop()
    assert not _other_tasks()


async def test_paper_trader_reads_the_market_data_layer(server):
    builder = (
        _builder(server).with_time_frames(["5m"]).with_trading_config(order_safety={"max_price_age_seconds": 10**10})
    )
    manager = await builder.use_simulated_trader(starting_portfolio={"USDT": "1000"}).build()
    async with manager:
        await manager.wait_ready(timeout=30)
        symbol_data = manager.exchange_symbols_data.get("BTC/USDT")
        assert symbol_data.mark_price is not None
        price_of, price_events_for = manager.trader.price_of, manager.trader.price_events_for
        assert price_of is not None and price_events_for is not None
        assert price_of("BTC/USDT") == symbol_data.mark_price
        assert price_events_for("BTC/USDT") is symbol_data.price_events
    assert not _other_tasks()


async def test_real_trader_self_manages_the_types_binance_lacks(server):
    """Binance holds no plain stop-loss: a bundled stop-loss is self-managed, not dropped."""
    from octobot_trading.enums import OrderType

    builder = (
        _builder(server).with_time_frames(["5m"]).with_trading_config(order_safety={"max_price_age_seconds": 10**10})
    )
    manager = await builder.use_real_trader().build()
    async with manager:
        await manager.wait_ready(timeout=30)
        trader = manager.trader
        assert trader.supported_order_types == manager.exchange.supported_order_types
        assert OrderType.STOP_LOSS not in trader.supported_order_types
        last = server.state.markets["BTCUSDT"].last_price
        entry = await trader.create_order(
            "market", "buy", "BTC/USDT", "0.001", stop_loss_price=(last * D("0.8")).quantize(D("0.01"))
        )
        assert entry.status is OrderStatus.CLOSED
        (stop,) = entry.chained_orders
        assert stop.self_managed and not stop.is_active and stop.status is OrderStatus.PENDING_CREATION
        assert stop in manager.exchange_personal_data.orders_manager.open_orders("BTC/USDT")
        assert [o.side for o in server.state.orders.values()] == ["BUY"]  # the stop waits locally
    assert not _other_tasks()


async def test_poll_loop_survives_an_unexpected_error(server, caplog):
    """A non-library exception in one poll is logged with its traceback; polling goes on."""
    manager = await _builder(server).use_real_trader().build()
    try:
        component = manager.get_component("trader", TraderComponent)
        if component._task is not None:  # restart the loop with a short period (no 5 s wait in a test)
            component._task.cancel()
            await asyncio.gather(component._task, return_exceptions=True)
        calls: list[int] = []
        third = asyncio.Event()
        original = component._poll_once

        async def flaky() -> None:
            calls.append(1)
            if len(calls) >= 3:
                third.set()
            if len(calls) == 1:
                raise RuntimeError("bug in a poll")
            await original()

        component._poll_once = flaky  # type: ignore[method-assign]
        component.poll_seconds = 0.01
        component._task = asyncio.get_running_loop().create_task(component._poll_loop())
        await asyncio.wait_for(third.wait(), timeout=30)
        assert not component._task.done()
        assert "polling continues" in caplog.text and "bug in a poll" in caplog.text
    finally:
        await manager.stop()
    assert not _other_tasks()


async def test_paper_trading_fills_at_the_live_mark_price(server):
    """Paper market orders use the trader's price; resting orders see every mark price."""
    from octobot_trading.exchange_data.payloads import MarkPriceUpdate
    from octobot_trading.personal_data.orders.order import OrderEvent

    builder = (
        _builder(server).with_time_frames(["5m"]).with_trading_config(order_safety={"max_price_age_seconds": 10**10})
    )
    manager = await builder.use_simulated_trader(starting_portfolio={"USDT": "1000"}).build()
    async with manager:
        await manager.wait_ready(timeout=30)
        symbol_data = manager.exchange_symbols_data.get("BTC/USDT")
        mark = symbol_data.mark_price
        venue, price_of = manager.exchange.connector, manager.trader.price_of
        assert mark is not None and price_of is not None and isinstance(venue, SimulatedConnector)
        assert venue.last_price("BTC/USDT") == price_of("BTC/USDT") == mark
        order = await manager.trader.create_order(
            "limit", "buy", "BTC/USDT", "0.001", (mark * D("0.95")).quantize(D("0.01"))
        )
        closed = asyncio.Event()

        async def on_close(_order) -> None:
            closed.set()

        order.add_hook(OrderEvent.CLOSE, on_close)
        lower = (mark * D("0.94")).quantize(D("0.01"))
        await manager.channels.mark_price.publish(MarkPriceUpdate("BTC/USDT", lower, "test", manager.clock.now_ms()))
        await asyncio.wait_for(closed.wait(), timeout=30)  # filled between two polls
        assert order.status is OrderStatus.CLOSED and order.average_price == order.price
    assert not _other_tasks()
