"""Isolated liquidation and resting orders on one candle happen in the order the price path reaches
them (open -> nearer extreme -> other extreme -> close): an isolated position never loses more
than its initial margin (docs/futures.md, "Isolated liquidation"). Linear XRP/USDT:USDT, long 100
at 1.2, 10x, mmr 0.004: initial margin 12, liquidation price 1.084337349397590361."""

from __future__ import annotations

from decimal import Decimal as D

from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.util.fees import Fees
from tests.personal_data.helpers import SimAccount, make_account
from tests.simulator.test_futures_orders_positions_and_margin import (
    XRP,
    candle,
    local_matches_venue,
    market,
    xrp_account,
    xrp_spec,
)

BUY, SELL, LIMIT = OrderSide.BUY, OrderSide.SELL, OrderType.LIMIT
LIQUIDATION = D("1.084337349397590361")
ENTRY_FEE = D("0.048")  # 120 x 0.0004


async def long_100(acc: SimAccount) -> None:
    await market(acc, BUY, "100", "1.2")
    position = acc.personal.positions_manager.get(XRP)
    assert position is not None and position.liquidation_price == LIQUIDATION


async def test_a_stop_loss_beyond_the_liquidation_price_is_canceled_by_the_liquidation_the_path_reaches_first():
    acc = await xrp_account()
    await long_100(acc)
    stop = await acc.trader.create_order(OrderType.STOP_LOSS, SELL, XRP, "100", "1.05", reduce_only=True)
    await candle(acc, "1.2", "1.2", "1.0", "1.0")  # open -> low passes 1.0843 before 1.05
    assert [(liq.price, liq.margin_lost) for liq in acc.connector.liquidations] == [(LIQUIDATION, D(12))]
    assert stop.status is OrderStatus.CANCELED and stop.filled == 0
    assert acc.personal.positions_manager.get(XRP) is None
    assert acc.asset("USDT") == (D(1000) - ENTRY_FEE - 12, D(1000) - ENTRY_FEE - 12)
    await local_matches_venue(acc)


async def test_a_limit_buy_beyond_the_liquidation_price_does_not_grow_the_position_before_its_liquidation():
    contract = xrp_spec()
    acc = await make_account(
        {"USDT": "1000"},
        markets={XRP: contract},
        prices={XRP: "1.2"},
        contracts={XRP: contract},
        fees=Fees(maker="0", taker="0"),
    )
    await long_100(acc)
    order = await acc.trader.create_order(LIMIT, BUY, XRP, "100", "1.05")
    await candle(acc, "1.2", "1.2", "1.0", "1.0")
    # the long of 100 is liquidated at 1.0843 losing 12; the liquidation cancels the limit the path
    # reaches later, so it opens nothing
    assert [(liq.size, liq.price, liq.margin_lost) for liq in acc.connector.liquidations] == [
        (D(100), LIQUIDATION, D(12))
    ]
    assert order.status is OrderStatus.CANCELED
    assert acc.personal.positions_manager.get(XRP) is None
    assert acc.asset("USDT") == (D(988), D(988))  # no fees: only the margin lost, nothing reserved
    await local_matches_venue(acc)


async def test_a_take_profit_reached_after_a_dip_through_the_liquidation_price_does_not_save_the_position():
    acc = await xrp_account()
    await long_100(acc)
    take_profit = await acc.trader.create_order(LIMIT, SELL, XRP, "100", "1.3", reduce_only=True)
    await candle(acc, "1.2", "1.45", "1.0", "1.2")  # open-low 0.2 <= high-open 0.25: down first
    assert [(liq.price, liq.margin_lost) for liq in acc.connector.liquidations] == [(LIQUIDATION, D(12))]
    assert take_profit.status is OrderStatus.CANCELED and take_profit.filled == 0
    assert acc.asset("USDT") == (D(1000) - ENTRY_FEE - 12, D(1000) - ENTRY_FEE - 12)
    await local_matches_venue(acc)


async def test_a_stop_loss_reached_before_the_liquidation_price_still_fills_first():
    acc = await xrp_account()
    await long_100(acc)
    stop = await acc.trader.create_order(OrderType.STOP_LOSS, SELL, XRP, "100", "1.1", reduce_only=True)
    await candle(acc, "1.2", "1.2", "1.0", "1.0")
    assert stop.status is OrderStatus.CLOSED and acc.connector.liquidations == []
    (_, close) = acc.personal.trades_manager.trades(XRP)
    assert (close.price, close.realized_pnl) == (D("1.1"), D(-10))
    await local_matches_venue(acc)


async def test_paper_a_price_gapping_past_the_liquidation_and_the_stop_liquidates_first():
    acc = await xrp_account()
    await long_100(acc)
    stop = await acc.trader.create_order(OrderType.STOP_LOSS, SELL, XRP, "100", "1.06", reduce_only=True)
    acc.clock.advance(1_000)
    acc.prices[XRP] = D("1.04")
    await acc.connector.on_price(XRP, D("1.04"))  # one price past both: the mark was past 1.0843 first
    assert [(liq.price, liq.margin_lost) for liq in acc.connector.liquidations] == [(LIQUIDATION, D(12))]
    assert stop.status is OrderStatus.CANCELED and stop.filled == 0
    assert acc.asset("USDT") == (D(1000) - ENTRY_FEE - 12, D(1000) - ENTRY_FEE - 12)
    await local_matches_venue(acc)
