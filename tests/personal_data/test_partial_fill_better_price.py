"""A partial fill at a better price than the limit releases the reservation at the limit price."""

from __future__ import annotations

from decimal import Decimal

from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.exchanges.types import ExchangeOrder, ExchangeTrade
from octobot_trading.util.fees import Fees
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

from .helpers import make_account

D = Decimal


def _venue_view(order, filled: str, average: str, status: OrderStatus) -> ExchangeOrder:
    return ExchangeOrder(
        id=order.exchange_order_id,
        client_order_id=order.client_order_id,
        symbol="BTC/USDT",
        type=OrderType.LIMIT,
        side=OrderSide.BUY,
        status=status,
        price=D("100"),
        amount=D("1"),
        filled=D(filled),
        remaining=D("1") - D(filled),
        average=D(average),
        fee=None,
        timestamp=None,
    )


def _fill(order, trade_id: str, amount: str, price: str) -> ExchangeTrade:
    return ExchangeTrade(
        id=trade_id,
        order_id=order.exchange_order_id,
        symbol="BTC/USDT",
        side=OrderSide.BUY,
        price=D(price),
        amount=D(amount),
        fee=D("0"),
        fee_currency="BTC",
        timestamp=0,
    )


async def test_partial_fills_below_the_limit_keep_available_equal_to_the_venues_free_balance():
    account = await make_account({"USDT": "1000"}, fees=Fees(maker="0", taker="0"))
    order = await account.trader.create_order(OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", amount="1", price="100")
    assert account.asset("USDT") == (D("1000"), D("900"))
    manager = account.personal.orders_manager

    # the venue fills 0.4 at 90 (better than the limit): it now locks 0.6 x 100 and spent 36
    await manager.apply_exchange_update(
        _venue_view(order, "0.4", "90", OrderStatus.PARTIALLY_FILLED), [_fill(order, "t1", "0.4", "90")]
    )
    assert account.asset("USDT") == (D("964"), D("904"))
    assert order.reserved_amount == D("60")

    # a repeat of the same report changes nothing
    await manager.apply_exchange_update(
        _venue_view(order, "0.4", "90", OrderStatus.PARTIALLY_FILLED), [_fill(order, "t1", "0.4", "90")]
    )
    assert account.asset("USDT") == (D("964"), D("904"))

    # the rest fills at 95: nothing stays reserved, every fill recorded
    await manager.apply_exchange_update(
        _venue_view(order, "1", "93", OrderStatus.FILLED),
        [_fill(order, "t1", "0.4", "90"), _fill(order, "t2", "0.6", "95")],
    )
    assert order.status in (OrderStatus.FILLED, OrderStatus.CLOSED) and order.filled == D("1")
    assert account.asset("USDT") == (D("907"), D("907"))
    assert account.asset("BTC") == (D("1"), D("1"))
    assert order.reserved_amount == 0


async def test_live_marketable_limit_partly_filled_below_its_limit_matches_the_venue(live, caplog):
    """Real ccxt client: a limit buy above the market takes part of its amount at the (lower) last
    price, the rest rests at the limit and fills on later candles; every sync agrees with the venue."""
    server, connector, personal, trader = live
    market = server.state.markets["BTCUSDT"]
    server.state.max_fill_fraction = D("0.0001")
    price = (market.last_price * D("1.002")).quantize(market.tick_size)
    order = await trader.create_order("limit", "buy", "BTC/USDT", "0.5", price)
    await trader.sync_with_exchange()
    fake = server.state.orders[int(order.exchange_order_id)]
    assert D(0) < fake.executed_qty < D("0.5")
    assert all(fill.price < price for fill in fake.fills)  # filled below the limit
    assert order.filled == fake.executed_qty
    await assert_matches_exchange(connector, personal)
    for _ in range(60):
        if order.is_done:
            break
        server.advance()
        await trader.sync_with_exchange()
        await assert_matches_exchange(connector, personal)
    assert len(personal.trades_manager.trades()) == len(fake.fills) >= 2
    assert not [
        r for r in caplog.records if "PortfolioNegativeBalance" in r.getMessage() or "released twice" in r.getMessage()
    ]
    if order.is_open:
        await trader.cancel_order(order)
    await assert_matches_exchange(connector, personal)
