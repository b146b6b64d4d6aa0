"""The documented simulated-fill rules, end to end: trader -> simulated connector -> matching engine ->
orders manager -> portfolio, driven by scripted candles. Each test also checks that the local
portfolio equals the simulated exchange's balances exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octobot_trading.enums import OrderStatus, TradeType
from octobot_trading.errors import InvalidOrder
from octobot_trading.util.market_spec import MarketSpec
from tests.personal_data.helpers import make_account

D = Decimal


def _trade(acc, order):
    trades = acc.personal.trades_manager.for_order(order.id)
    assert len(trades) == 1
    return trades[0]


async def test_limit_buy_fills_at_its_price_with_maker_fee_in_base():
    acc = await make_account()
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "2", "90")
    assert acc.asset("USDT") == (D(10000), D(9820))
    await acc.candle("100", "101", "90.01", "95")  # does not reach 90
    assert order.status is OrderStatus.OPEN
    await acc.candle("95", "96", "85", "92")  # gaps through: still fills at 90
    assert order.status is OrderStatus.CLOSED
    trade = _trade(acc, order)
    assert (trade.price, trade.amount, trade.fee, trade.fee_currency) == (D(90), D(2), D("0.002"), "BTC")
    assert trade.taker_or_maker is TradeType.MAKER
    assert acc.asset("USDT") == (D(9820), D(9820))
    assert acc.asset("BTC") == (D("1.998"), D("1.998"))
    await acc.exchange_matches_portfolio()


async def test_limit_sell_fills_at_its_price_with_fee_in_quote():
    acc = await make_account({"BTC": "1", "USDT": "0"})
    order = await acc.trader.create_order("limit", "sell", "BTC/USDT", "1", "110")
    assert acc.asset("BTC") == (D(1), D(0))
    await acc.candle("100", "110", "99", "105")
    assert order.status is OrderStatus.CLOSED
    assert acc.asset("USDT") == (D("109.89"), D("109.89"))  # 110 - 110 x 0.001
    assert acc.asset("BTC") == (D(0), D(0))
    await acc.exchange_matches_portfolio()


@pytest.mark.parametrize(
    ("side", "trigger", "candle", "fills"),
    [
        ("sell", "90", ("100", "101", "90", "95"), True),  # stop-loss sell: <= S
        ("sell", "90", ("100", "101", "90.01", "95"), False),
        ("buy", "110", ("100", "110", "99", "105"), True),  # stop-loss buy (mirror): >= S
        ("buy", "110", ("100", "109.99", "99", "105"), False),
    ],
)
async def test_stop_loss_triggers_and_fills_at_the_stop_with_taker_fee(side, trigger, candle, fills):
    acc = await make_account({"BTC": "1", "USDT": "1000"})
    order = await acc.trader.create_order("stop_loss", side, "BTC/USDT", "1", trigger_price=trigger)
    await acc.candle(*candle)
    if not fills:
        assert order.status is OrderStatus.OPEN
        return
    trade = _trade(acc, order)
    assert trade.price == D(trigger) and trade.taker_or_maker is TradeType.TAKER
    rate = D("0.002")
    assert trade.fee == (D(trigger) * rate if side == "sell" else rate)
    await acc.exchange_matches_portfolio()


@pytest.mark.parametrize(
    ("side", "trigger", "candle"),
    [
        ("sell", "120", ("100", "125", "99", "110")),  # take-profit sell: >= T
        ("buy", "80", ("100", "101", "75", "90")),  # take-profit buy: <= T
    ],
)
async def test_take_profit_fills_at_the_target(side, trigger, candle):
    acc = await make_account({"BTC": "1", "USDT": "1000"})
    order = await acc.trader.create_order("take_profit", side, "BTC/USDT", "1", trigger_price=trigger)
    await acc.candle(*candle)
    trade = _trade(acc, order)
    assert trade.price == D(trigger) and trade.taker_or_maker is TradeType.TAKER
    await acc.exchange_matches_portfolio()


async def test_stop_loss_limit_becomes_a_limit_and_fills_at_the_limit():
    acc = await make_account({"BTC": "2"})
    below = await acc.trader.create_order("stop_loss_limit", "sell", "BTC/USDT", "1", "88", trigger_price="90")
    above = await acc.trader.create_order("stop_loss_limit", "sell", "BTC/USDT", "1", "93", trigger_price="90")
    # open 100 -> low 89 (both trigger at 90; the limit at 88 fills at once since 90 >= 88)
    # -> high 92 (the limit at 93 is not reached) -> close 91
    await acc.candle("100", "101", "89", "91")
    assert below.status is OrderStatus.CLOSED and _trade(acc, below).price == D(88)
    assert _trade(acc, below).taker_or_maker is TradeType.MAKER
    assert above.status is OrderStatus.OPEN
    await acc.candle("91", "93", "90.5", "92")  # now a limit: fills at 93 when the price reaches it
    assert above.status is OrderStatus.CLOSED and _trade(acc, above).price == D(93)
    await acc.exchange_matches_portfolio()


async def test_stop_limit_triggered_then_filled_later_in_the_same_candle():
    acc = await make_account({"BTC": "1"})
    order = await acc.trader.create_order("stop_loss_limit", "sell", "BTC/USDT", "1", "95", trigger_price="90")
    await acc.candle("100", "120", "85", "93")  # 100 -> 85 (trigger; 85 < 95) -> 120 (limit 95 fills) -> 93
    assert order.status is OrderStatus.CLOSED and _trade(acc, order).price == D(95)
    await acc.exchange_matches_portfolio()


async def test_take_profit_limit():
    acc = await make_account({"BTC": "1"})
    order = await acc.trader.create_order("take_profit_limit", "sell", "BTC/USDT", "1", "118", trigger_price="120")
    await acc.candle("100", "121", "99", "119")
    assert order.status is OrderStatus.CLOSED and _trade(acc, order).price == D(118)


async def test_trailing_stop_follows_the_path():
    acc = await make_account({"BTC": "1"})
    order = await acc.trader.create_order("trailing_stop", "sell", "BTC/USDT", "1", trailing_percent="10")
    assert order.trigger_price == D(90)  # 10 % under the last price 100
    await acc.candle("100", "120", "99", "115")  # 100 -> 99 -> 120 (stop up to 108) -> 115
    assert order.status is OrderStatus.OPEN
    await acc.candle("115", "116", "107", "110")  # 115 -> 116 -> 107: stop at 108 trips
    trade = _trade(acc, order)
    assert trade.price == D(108) and trade.taker_or_maker is TradeType.TAKER
    await acc.exchange_matches_portfolio()


async def test_trailing_buy_stop_and_trailing_limit():
    acc = await make_account({"USDT": "1000", "BTC": "1"})
    buy = await acc.trader.create_order("trailing_stop", "buy", "BTC/USDT", "1", trailing_offset="5")
    sell = await acc.trader.create_order(
        "trailing_stop_limit", "sell", "BTC/USDT", "1", trailing_offset="5", limit_offset="1"
    )
    assert buy.trigger_price == D(105) and sell.trigger_price == D(95)
    # 100 -> 100.5 (sell stop trails up to 95.5) -> 90 (trips at 95.5: limit at 94.5 fills at once)
    # buy: trough 90 -> stop 95; the close 96 >= 95 on the way up: fills at 95
    await acc.candle("100", "100.5", "90", "96")
    assert _trade(acc, sell).price == D("94.5") and _trade(acc, sell).taker_or_maker is TradeType.MAKER
    assert _trade(acc, buy).price == D(95)
    await acc.exchange_matches_portfolio()


@pytest.mark.parametrize(
    ("candle", "winner"),
    [
        (("100", "130", "70", "100"), "stop"),  # open-low 30 <= high-open 30: low first
        (("100", "125", "70", "100"), "target"),  # open-low 30 > high-open 25: high first
    ],
)
async def test_oco_candle_touching_both_sides_path_order_decides(candle, winner):
    from octobot_trading.personal_data import GroupKind, OrderGroup

    acc = await make_account({"BTC": "1"})
    group = OrderGroup(GroupKind.OCO)
    stop = await acc.trader.create_order("stop_loss", "sell", "BTC/USDT", "1", trigger_price="80", group=group)
    target = await acc.trader.create_order("limit", "sell", "BTC/USDT", "1", "120", group=group)
    assert acc.asset("BTC") == (D(1), D(0))  # one reservation shared by the group
    await acc.candle(*candle)
    filled, other = (stop, target) if winner == "stop" else (target, stop)
    assert filled.status is OrderStatus.CLOSED
    assert other.status is OrderStatus.CANCELED and other.filled == 0
    assert len(acc.personal.trades_manager) == 1
    assert acc.asset("BTC") == (D(0), D(0))
    await acc.exchange_matches_portfolio()


async def test_orders_are_checked_only_against_later_candles():
    acc = await make_account()
    await acc.candle("100", "101", "80", "99")
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "85")
    assert order.status is OrderStatus.OPEN  # the candle already published does not fill it
    await acc.candle("99", "100", "86", "90")
    assert order.status is OrderStatus.OPEN
    await acc.candle("90", "91", "84", "88")
    assert order.status is OrderStatus.CLOSED


async def test_market_order_fills_at_last_price_with_slippage():
    acc = await make_account({"USDT": "1000"}, slippage_percent="1")
    order = await acc.trader.create_order("market", "buy", "BTC/USDT", "2")
    trade = _trade(acc, order)
    assert trade.price == D("101.00") and trade.fee == D("0.004")  # taker rate on the base received
    assert acc.asset("USDT") == (D("798.00"), D("798.00"))
    await acc.exchange_matches_portfolio()


async def test_precision_rounds_amount_down_and_prices_safely():
    acc = await make_account()
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "0.123456", "95.129")
    assert order.amount == D("0.1234") and order.price == D("95.12")
    acc2 = await make_account({"BTC": "2"})
    sell = await acc2.trader.create_order("limit", "sell", "BTC/USDT", "0.99999", "95.121")
    assert sell.amount == D("0.9999") and sell.price == D("95.13")
    stop = await acc2.trader.create_order("stop_loss", "sell", "BTC/USDT", "0.1", trigger_price="90.005")
    assert stop.trigger_price == D("90.00")  # nearest tick, ties to even


async def test_under_minimum_is_refused_before_any_state_change():
    acc = await make_account()
    before = acc.portfolio.snapshot()
    with pytest.raises(InvalidOrder) as info:
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "0.01", "100")  # cost 1 < min_cost 5
    assert info.value.limit == "min_cost"
    with pytest.raises(InvalidOrder):
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "0.00001", "100")  # rounds to 0
    assert acc.portfolio.snapshot() == before
    assert acc.personal.orders_manager.all_orders() == []
    assert await acc.connector.fetch_open_orders() == []


async def test_exact_decimal_decision_at_the_float_boundary():
    markets = {"BTC/USDT": MarketSpec()}  # 1e-8 tick and step
    acc = await make_account({"USDT": "1000"}, markets=markets)
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "1", "0.30000001")
    await acc.candle("0.5", "0.5", "0.30000002", "0.4")
    assert order.status is OrderStatus.OPEN
    await acc.candle("0.5", "0.5", "0.30000001", "0.4")
    assert order.status is OrderStatus.CLOSED


async def test_partial_fills_when_enabled():
    acc = await make_account({"USDT": "10000"}, partial_fill_fraction="0.5")
    order = await acc.trader.create_order("limit", "buy", "BTC/USDT", "3", "90")
    await acc.candle("100", "101", "89", "95", volume="4")  # at most 0.5 x 4 = 2 per candle
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled == D(2)
    await acc.exchange_matches_portfolio()
    assert acc.asset("USDT") == (D(10000) - D(180), D(10000) - D(270))
    await acc.candle("95", "96", "88", "90", volume="10")
    assert order.status is OrderStatus.CLOSED and order.filled == D(3)
    await acc.exchange_matches_portfolio()
