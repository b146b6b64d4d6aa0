"""The simple-script path (``ExchangeFactory`` -> ``execute_trade``) applies the engine's order checks.

``execute_trade`` places through the manager's trader, so it refuses exactly what
``trader.create_order`` refuses (price protection, position limit, local balance), with the same
typed errors, and a refused order never reaches the venue: the fake server's request log shows
no order request. Real ccxt client against the fake Binance server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.clock import LiveClock
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.factory import ExchangeSession
from octobot_trading.testing.fake_exchange import FakeExchangeServer

from .conftest import FAST

BTC = "BTC/USDT"
ORDER = ("POST", "/api/v3/order")


def _session(server: FakeExchangeServer, **kwargs: Any) -> ExchangeSession:
    return ot.ExchangeFactory.create_exchange(
        "binance",
        api_key=server.api_key,
        api_secret=server.api_secret,
        testnet=True,
        ccxt_options=FAST,
        client_hook=server.client_hook,
        symbols=[BTC],
        **kwargs,
    )


@pytest.fixture
async def session(server: FakeExchangeServer) -> AsyncIterator[ExchangeSession]:
    opened = _session(server)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _order_requests(server: FakeExchangeServer) -> int:
    return server.faults.requests.count(ORDER)


async def test_execute_trade_refuses_a_limit_buy_far_above_the_market(
    session: ExchangeSession, server: FakeExchangeServer
) -> None:
    exchange = await session.open()
    price = await exchange.get_ticker_price(BTC)
    before = _order_requests(server)
    with pytest.raises(errors.OrderSafetyError) as refused:
        await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.01", price * Decimal("1.5"))
    assert refused.value.rule == "max_price_deviation_percent"
    # the trader refuses the same order with the same error
    assert session.manager is not None
    with pytest.raises(errors.OrderSafetyError) as same:
        await session.manager.trader.create_order(
            ot.OrderType.LIMIT, ot.OrderSide.BUY, BTC, "0.01", price * Decimal("1.5")
        )
    assert same.value.rule == refused.value.rule
    assert _order_requests(server) == before
    assert await exchange.fetch_open_orders(BTC) == []


async def test_execute_trade_refuses_orders_larger_than_the_balance(
    session: ExchangeSession, server: FakeExchangeServer
) -> None:
    exchange = await session.open()
    balances = await exchange.get_balances()
    price = await exchange.get_ticker_price(BTC)
    before = _order_requests(server)
    too_much_btc = balances["BTC"].free + 1
    with pytest.raises(errors.InsufficientFunds):
        await exchange.execute_trade(BTC, ot.OrderSide.SELL, too_much_btc, price)
    affordable = balances["USDT"].free / price
    with pytest.raises(errors.InsufficientFunds):
        await exchange.execute_trade(BTC, ot.OrderSide.BUY, (affordable * 2).quantize(Decimal("0.001")))
    assert _order_requests(server) == before
    assert (await exchange.get_balances()) == balances  # nothing moved


async def test_execute_trade_refuses_a_buy_past_the_position_limit(server: FakeExchangeServer) -> None:
    async with _session(server, order_safety={"max_position_value": "100"}) as exchange:
        before = _order_requests(server)
        with pytest.raises(errors.OrderSafetyError) as refused:
            await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.01")
        assert refused.value.rule == "max_position_value"
        assert _order_requests(server) == before


@pytest.mark.parametrize("side", ["foo", "BUY", "Sell", ""])
async def test_an_unknown_side_is_refused_with_invalid_order_on_every_path(
    session: ExchangeSession, server: FakeExchangeServer, side: str
) -> None:
    """Only ``OrderSide`` or its exact value ("buy" / "sell") is a side, on every entry point."""
    exchange = await session.open()
    price = await exchange.get_ticker_price(BTC)
    manager = session.manager
    assert manager is not None
    before = _order_requests(server)
    refusals = []
    for place in (
        lambda: exchange.execute_trade(BTC, side, "0.01", price),
        lambda: exchange.create_order(ot.OrderType.LIMIT, side, BTC, "0.01", price),
        lambda: manager.trader.create_order(ot.OrderType.LIMIT, side, BTC, "0.01", price),
    ):
        with pytest.raises(errors.InvalidOrder) as refused:
            await place()
        refusals.append((refused.value.limit, refused.value.symbol, repr(side) in str(refused.value)))
    assert refusals == [("side", BTC, True)] * 3
    assert _order_requests(server) == before
    assert manager.trader.orders_manager.open_orders(BTC) == []
    # the exact lower-case value is accepted like the enum
    order = await exchange.execute_trade(BTC, "buy", "0.01", price * Decimal("0.95"))
    assert order.side is ot.OrderSide.BUY and _order_requests(server) == before + 1


async def test_create_order_refuses_an_unknown_order_type_with_invalid_order(
    session: ExchangeSession, server: FakeExchangeServer
) -> None:
    exchange = await session.open()
    before = _order_requests(server)
    with pytest.raises(errors.InvalidOrder) as refused:
        await exchange.create_order("stop_market_foo", ot.OrderSide.BUY, BTC, "0.01", "100")
    assert refused.value.limit == "type" and "'stop_market_foo'" in str(refused.value)
    assert _order_requests(server) == before


async def test_execute_trade_places_an_acceptable_order(session: ExchangeSession, server: FakeExchangeServer) -> None:
    exchange = await session.open()
    price = await exchange.get_ticker_price(BTC)
    before = _order_requests(server)
    order = await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.01", price * Decimal("0.95"))
    assert order.type is ot.OrderType.LIMIT and order.status is ot.OrderStatus.OPEN
    assert _order_requests(server) == before + 1
    assert [o.id for o in await exchange.fetch_open_orders(BTC)] == [order.id]
    # the trader tracks it, with its funds reserved
    assert session.manager is not None
    tracked = session.manager.trader.orders_manager.open_orders(BTC)
    assert [o.exchange_order_id for o in tracked] == [order.id]


async def test_execute_trade_on_a_bare_exchange_sends_nothing(server: FakeExchangeServer) -> None:
    from .conftest import make_connector

    connector: CCXTConnector = make_connector(server)
    try:
        exchange = ot.RestExchange(connector, LiveClock())
        before = len(server.faults.requests)
        with pytest.raises(errors.NotSupported, match="execute_trade"):
            await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.01")
        assert len(server.faults.requests) == before
    finally:
        await connector.close()


async def test_exchange_factory_scripts_flow(server: FakeExchangeServer) -> None:
    session = _session(server)
    async with session as exchange:
        assert isinstance(exchange, ot.MarketDataProvider)
        assert isinstance(exchange, ot.TradingOperations)
        assert isinstance(exchange, ot.AccountOperations)
        assert session.manager is not None and session.manager.is_sandboxed and session.manager.rest_only
        market = server.state.markets["BTCUSDT"]
        price = await exchange.get_ticker_price(BTC)
        assert price == market.last_price
        bought = await exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.1")
        assert bought.type is ot.OrderType.MARKET and bought.status is ot.OrderStatus.FILLED
        resting = await exchange.execute_trade(BTC, ot.OrderSide.SELL, "0.05", "99999")
        assert resting.type is ot.OrderType.LIMIT and resting.status is ot.OrderStatus.OPEN
        history = await exchange.get_order_history(BTC)
        assert [o.id for o in history] == [bought.id, resting.id]
        assert await exchange.get_order_history() == history  # configured symbols
        balances = await exchange.get_balances()
        btc = Decimal("1") + Decimal("0.1") - Decimal("0.1") * Decimal("0.001")
        assert balances["BTC"].total == btc and balances["BTC"].used == Decimal("0.05")
        usdt = Decimal("10000") - Decimal("0.1") * price
        eth_price = server.state.markets["ETHUSDT"].last_price
        assert await exchange.get_portfolio_value("USDT") == usdt + btc * price + Decimal("10") * eth_price
        assert await exchange.get_positions() == []
        canceled = await exchange.cancel_order(resting.id, BTC)
        assert canceled.status is ot.OrderStatus.CANCELED
    assert session.manager.id not in ot.exchanges_registry


async def test_a_built_managers_exchange_applies_the_same_checks(server: FakeExchangeServer) -> None:
    manager = await (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols([BTC])
        .with_ccxt_options(FAST)
        .with_client_hook(server.client_hook)
        .rest_only(True)
        .build()
    )
    async with manager:
        assert manager.exchange.order_entry is manager.trader
        price = await manager.exchange.get_ticker_price(BTC)
        before = _order_requests(server)
        with pytest.raises(errors.OrderSafetyError):
            await manager.exchange.execute_trade(BTC, ot.OrderSide.BUY, "0.01", price * Decimal("1.5"))
        assert _order_requests(server) == before
