"""``manager.trader`` / ``manager.exchange_personal_data`` through ``ExchangeBuilder`` (fake Binance server)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

import octobot_trading as ot
from octobot_trading.enums import OrderStatus, TraderType
from octobot_trading.exchanges.connectors.simulator import SimulatedConnector
from octobot_trading.personal_data import wiring
from octobot_trading.testing.fake_exchange import FakeExchangeServer, default_markets
from tests.exchanges.conftest import FAST, FIXTURES

D = Decimal


@pytest.fixture
async def server():
    wiring.install()
    try:
        async with FakeExchangeServer(default_markets(FIXTURES, "5m"), start_index=100) as srv:
            yield srv
    finally:
        wiring.uninstall()


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
            c: (t, a) for c, (t, a) in portfolio.snapshot().items() if t}
    finally:
        await manager.stop()
    assert not _other_tasks()


async def test_paper_trader_reads_the_market_data_layer(server):
    from octobot_trading.exchange_data import wiring as market_data_wiring
    market_data_wiring.install()
    try:
        builder = _builder(server).with_time_frames(["5m"]).with_trading_config(
            order_safety={"max_price_age_seconds": 10**10})
        manager = await builder.use_simulated_trader(starting_portfolio={"USDT": "1000"}).build()
        async with manager:
            await manager.wait_ready(timeout=10)
            symbol_data = manager.exchange_symbols_data.get("BTC/USDT")
            assert symbol_data.mark_price is not None
            assert manager.trader.price_of("BTC/USDT") == symbol_data.mark_price
            assert manager.trader.price_events_for("BTC/USDT") is symbol_data.price_events
    finally:
        market_data_wiring.uninstall()
    assert not _other_tasks()
