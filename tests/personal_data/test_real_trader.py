"""The real trader through the real ccxt client against the project's fake Binance server (loopback).

The fake server's replay fills resting orders completely when a candle reaches them; to get a
*partial* fill from the market the test calls the server state's own matching step
(``state._fill``) with half the quantity, as a replayed trade printing half the size would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus, TraderType
from octobot_trading.errors import InsufficientFunds
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

D = Decimal


async def test_limit_order_partly_filled_then_canceled_matches_exchange(live):
    server, connector, personal, trader = live
    assert trader.trader_type is TraderType.REAL
    await assert_matches_exchange(connector, personal)
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.9")).quantize(market.tick_size)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.002", price)
    assert order.status is OrderStatus.OPEN and order.exchange_order_id
    assert order.client_order_id.startswith("ot-")
    await assert_matches_exchange(connector, personal)  # local reservation == exchange lock

    fake = server.state.orders[int(order.exchange_order_id)]
    assert fake.client_order_id == order.client_order_id
    server.state._fill(fake, fake.price, D("0.001"), maker=True)  # the market takes half
    await trader.sync_with_exchange()
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled == D("0.001")
    await trader.sync_with_exchange()  # re-delivered: applied once
    assert len(personal.trades_manager) == 1 and order.filled == D("0.001")
    trade = personal.trades_manager.trades()[0]
    assert trade.fee_currency == "BTC" and trade.fee == D("0.001") * server.state.maker_fee
    await assert_matches_exchange(connector, personal)

    await trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED
    await assert_matches_exchange(connector, personal)
    await trader.refresh_balances()
    await assert_matches_exchange(connector, personal)


async def test_market_order_and_unknown_order_adopted(live):
    server, connector, personal, trader = live
    order = await trader.create_order("market", "buy", "BTC/USDT", "0.001")
    assert order.status is OrderStatus.CLOSED and order.filled == D("0.001")
    await assert_matches_exchange(connector, personal)  # the venue's trade and fee, without a refresh
    # an order placed by someone else on the same account is adopted once by the sync
    market = server.state.markets["ETHUSDT"]
    price = (market.last_price * D("1.2")).quantize(market.tick_size)
    elsewhere = await connector.create_order(
        "limit", "sell", "ETH/USDT", D("0.01"), price, client_order_id="elsewhere-1"
    )
    await trader.sync_with_exchange()
    await trader.sync_with_exchange()
    adopted = personal.orders_manager.get_by_exchange_id(elsewhere.id)
    assert adopted is not None and adopted.status is OrderStatus.OPEN
    assert len(personal.orders_manager.open_orders("ETH/USDT")) == 1
    await assert_matches_exchange(connector, personal)
    await trader.cancel_all_orders("ETH/USDT")
    assert adopted.status is OrderStatus.CANCELED
    await assert_matches_exchange(connector, personal)


async def test_balance_checked_before_sending(live):
    server, _connector, personal, trader = live
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT").available
    market = server.state.markets["BTCUSDT"]
    price = (market.last_price * D("0.95")).quantize(market.tick_size)
    amount = (usdt / price + 1).quantize(D("0.001"))
    with pytest.raises(InsufficientFunds):
        await trader.create_order("limit", "buy", "BTC/USDT", amount, price)
    assert server.state.orders == {}  # nothing reached the exchange
