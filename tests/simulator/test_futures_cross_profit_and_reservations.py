"""Cross margin: a resting order's reservation while a cross position's unrealized profit is larger
than its margin (the available margin before open orders is then above the wallet and is shown
clipped to it). Reserving and releasing the order must keep the trader's balance equal to the
venue's at every step; the order's fill must never fail (docs/futures.md, "Margin", "Balances")."""

from __future__ import annotations

from decimal import Decimal as D

from octobot_trading.enums import MarginMode, OrderSide, OrderStatus, OrderType, PositionSide
from octobot_trading.util.fees import Fees
from tests.personal_data.helpers import SimAccount, make_account
from tests.simulator.test_futures_orders_positions_and_margin import XRP, candle, local_matches_venue, xrp_spec

BUY, SELL, MARKET, LIMIT = OrderSide.BUY, OrderSide.SELL, OrderType.MARKET, OrderType.LIMIT


async def cross_account(wallet: str = "300") -> SimAccount:
    contract = xrp_spec(leverage="20", margin_mode=MarginMode.CROSS)
    return await make_account(
        {"USDT": wallet},
        markets={XRP: contract},
        prices={XRP: "1"},
        contracts={XRP: contract},
        fees=Fees(maker="0.0002", taker="0.0005"),
    )


async def test_a_resting_cross_order_placed_while_the_profit_exceeds_the_margin_fills_and_balances_match():
    acc = await cross_account()
    await acc.trader.create_order(MARKET, SELL, XRP, "50")  # short 50 @1: IM 2.5, taker fee 0.025
    wallet = D(300) - D("0.025")
    await candle(acc, "1", "1", "0.93", "0.93")  # unrealized +3.5: 1.0 above the margin
    # available before orders = wallet - 2.5 + 3.5 = wallet + 1, shown clipped to the wallet
    assert acc.asset("USDT") == (wallet, wallet)
    await local_matches_venue(acc)

    order = await acc.trader.create_order(LIMIT, SELL, XRP, "50", "0.95")
    reserved = D("2.375") + D("0.02375")  # IM 50 x 0.95 / 20 + taker fee 47.5 x 0.0005
    assert order.reserved_amount == reserved
    # wallet + 1 - reserved: the reservation is taken from the unclipped available margin
    assert acc.asset("USDT") == (wallet, wallet + 1 - reserved)
    await local_matches_venue(acc)

    await candle(acc, "0.93", "0.93", "0.93", "0.93")
    assert acc.asset("USDT") == (wallet, wallet + 1 - reserved)
    await local_matches_venue(acc)

    await candle(acc, "0.93", "0.96", "0.93", "0.95")  # the limit fills at 0.95 (maker)
    assert order.status is OrderStatus.CLOSED and order.reserved_amount == 0
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.side is PositionSide.SHORT
    assert (position.size, position.entry_price, position.initial_margin) == (D(100), D("0.975"), D("4.875"))
    wallet -= D("47.5") * D("0.0002")
    # unrealized at 0.95: 100 x (0.975 - 0.95) = 2.5; available = wallet - 4.875 + 2.5
    assert acc.asset("USDT") == (wallet, wallet - D("4.875") + D("2.5"))
    await local_matches_venue(acc)


async def test_canceling_a_cross_order_placed_while_the_profit_exceeds_the_margin_restores_the_clipped_balance():
    acc = await cross_account()
    await acc.trader.create_order(MARKET, SELL, XRP, "50")
    wallet = D(300) - D("0.025")
    await candle(acc, "1", "1", "0.93", "0.93")
    order = await acc.trader.create_order(LIMIT, SELL, XRP, "50", "0.95")
    await candle(acc, "0.93", "0.93", "0.93", "0.93")
    await acc.trader.cancel_order(order)
    assert order.status is OrderStatus.CANCELED
    assert acc.asset("USDT") == (wallet, wallet)  # not wallet + reservation: available never above total
    await local_matches_venue(acc)
