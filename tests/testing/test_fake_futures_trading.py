"""Orders, positions and contract settings on the fake USDⓈ-M venue, through the real ccxt ``binanceusdm`` client.

Expected numbers are computed here from the rules of docs/futures.md (linear: initial margin
``q x entry / leverage``, PnL ``q x (exit - entry)``, isolated long liquidation
``(entry x q - IM) / (q x (1 - mmr))``), independently of the venue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from octobot_trading.testing import FakeFuturesServer

XRP = "XRP/USDT:USDT"
TAKER, MAKER = Decimal("0.0004"), Decimal("0.0002")


def D(value: Any) -> Decimal:
    return Decimal(str(value))


async def _position(usdm: Any, symbol: str = XRP) -> dict[str, Any]:
    positions = await usdm.fetch_positions([symbol])
    assert len(positions) == 1
    return dict(positions[0])


async def test_market_buy_opens_an_isolated_long_with_the_documented_numbers(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    await usdm.set_leverage(10, XRP)
    await usdm.set_margin_mode("isolated", XRP)
    entry = futures_venue.market("XRPUSDT").last_price
    order = await usdm.create_order(XRP, "market", "buy", 100, params={"newClientOrderId": "open-long-1"})
    assert (order["status"], order["filled"], D(order["average"]), order["clientOrderId"]) == (
        "closed",
        100.0,
        entry,
        "open-long-1",
    )
    futures_venue.set_mark_price("XRPUSDT", "1.2")
    q, mark, mmr = Decimal(100), Decimal("1.2"), Decimal("0.005")  # notional 120: first bracket
    initial = q * entry / 10
    position = await _position(usdm)
    assert (position["side"], position["contracts"], position["marginMode"]) == ("long", 100.0, "isolated")
    assert D(position["entryPrice"]) == entry and D(position["markPrice"]) == mark
    assert D(position["unrealizedPnl"]) == q * (mark - entry)
    assert D(position["initialMargin"]) == initial
    assert D(position["maintenanceMargin"]) == q * mark * mmr
    assert position["liquidationPrice"] == pytest.approx(float((entry * q - initial) / (q * (1 - mmr))), rel=1e-12)
    v2 = await _position_v2(usdm)
    assert (v2["leverage"], v2["marginMode"]) == (10.0, "isolated")
    balance = await usdm.fetch_balance()
    fee = q * entry * TAKER
    assert D(balance["USDT"]["total"]) == Decimal(10000) - fee + q * (mark - entry)
    assert D(balance["USDT"]["used"]) == initial
    trades = await usdm.fetch_my_trades(XRP)
    assert [(t["side"], D(t["fee"]["cost"]), t["takerOrMaker"]) for t in trades] == [("buy", fee, "taker")]


async def _position_v2(usdm: Any) -> dict[str, Any]:
    positions = await usdm.fetch_positions([XRP], params={"useV2": True})
    assert len(positions) == 1
    return dict(positions[0])


async def test_reducing_realizes_pnl_and_keeps_the_entry(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    futures_venue.set_last_price("XRPUSDT", "1.2000")
    await usdm.create_order(XRP, "market", "buy", 150)
    futures_venue.set_last_price("XRPUSDT", "1.3000")
    await usdm.create_order(XRP, "market", "sell", 50, params={"reduceOnly": True})
    position = await _position(usdm)
    assert position["contracts"] == 100.0 and D(position["entryPrice"]) == Decimal("1.2")
    trades = await usdm.fetch_my_trades(XRP)
    assert D(trades[-1]["info"]["realizedPnl"]) == Decimal(50) * Decimal("0.1")
    await usdm.create_order(XRP, "market", "sell", 300)  # one-way: closes 100, opens a short of 200
    short = await _position(usdm)
    assert (short["side"], short["contracts"], D(short["entryPrice"])) == ("short", 200.0, Decimal("1.3"))
    income = await usdm.fetch_funding_history(XRP)
    assert income == []  # no funding yet: only REALIZED_PNL and COMMISSION rows exist


async def test_limit_orders_rest_reserve_margin_and_fill_partly(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    await usdm.set_margin_mode("isolated", XRP)  # cross margin would count the order's unrealized gain
    before = await usdm.fetch_balance()
    order = await usdm.create_order(XRP, "limit", "buy", 200, 1.0)
    assert order["status"] == "open" and order["filled"] == 0.0
    reserved = await usdm.fetch_balance()
    assert D(reserved["USDT"]["free"]) < D(before["USDT"]["free"])
    assert [o["id"] for o in await usdm.fetch_open_orders(XRP)] == [order["id"]]
    futures_venue.fill_order(int(order["id"]), "80")
    partly = await usdm.fetch_order(order["id"], XRP)
    assert (partly["status"], partly["filled"], partly["remaining"]) == ("open", 80.0, 120.0)
    assert (await _position(usdm))["contracts"] == 80.0
    canceled = await usdm.cancel_order(order["id"], XRP)
    assert canceled["status"] == "canceled"
    after = await usdm.fetch_balance()
    fee = Decimal(80) * Decimal("1.0") * MAKER
    assert D(after["USDT"]["total"]) + fee == D(before["USDT"]["total"]) + D((await _position(usdm))["unrealizedPnl"])


async def test_a_resting_limit_fills_when_the_replay_reaches_its_price(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    market = futures_venue.market("XRPUSDT")
    price = market.last_price - Decimal("0.0010")
    order = await usdm.create_order(XRP, "limit", "buy", 50, float(price))
    futures_venue.set_last_price("XRPUSDT", price)
    filled = await usdm.fetch_order(order["id"], XRP)
    assert filled["status"] == "closed" and D(filled["average"]) == price
    assert (await usdm.fetch_my_trades(XRP))[-1]["takerOrMaker"] == "maker"


async def test_refusals_use_binance_codes_and_change_nothing(usdm: Any, futures_venue: FakeFuturesServer) -> None:
    with pytest.raises(ccxt_async.InvalidOrder, match="-2022"):
        await usdm.create_order(XRP, "market", "sell", 10, params={"reduceOnly": True})
    with pytest.raises(ccxt_async.InsufficientFunds, match="-2019"):
        await usdm.create_order("BTC/USDT:USDT", "market", "buy", 100)
    with pytest.raises(ccxt_async.OrderNotFound, match="-2013"):
        await usdm.fetch_order("123", XRP)
    with pytest.raises(ccxt_async.InvalidOrder, match="-4164"):
        await usdm.create_order(XRP, "market", "buy", 1)
    with pytest.raises(ccxt_async.OperationRejected, match="-4061"):
        await usdm.create_order(XRP, "market", "buy", 10, params={"positionSide": "LONG"})
    assert await usdm.fetch_positions() == [] and await usdm.fetch_open_orders(XRP) == []
    assert D((await usdm.fetch_balance())["USDT"]["total"]) == Decimal(10000)


async def test_margin_mode_changes_follow_the_venue_rules(usdm: Any) -> None:
    assert (await usdm.fetch_margin_mode(XRP))["marginMode"] == "cross"
    assert (await usdm.set_margin_mode("isolated", XRP))["code"] == 200
    with pytest.raises(ccxt_async.MarginModeAlreadySet):
        await usdm.set_margin_mode("isolated", XRP)
    order = await usdm.create_order(XRP, "limit", "buy", 50, 1.0)
    with pytest.raises(ccxt_async.OperationRejected, match="-4047"):
        await usdm.set_margin_mode("cross", XRP)
    await usdm.cancel_order(order["id"], XRP)
    await usdm.create_order(XRP, "market", "buy", 50)
    with pytest.raises(ccxt_async.OperationRejected, match="-4048"):
        await usdm.set_margin_mode("cross", XRP)
    assert (await usdm.fetch_margin_mode(XRP))["marginMode"] == "isolated"


async def test_leverage_is_bounded_by_the_first_bracket(usdm: Any) -> None:
    assert (await usdm.set_leverage(75, XRP))["leverage"] == 75
    with pytest.raises(ccxt_async.BadRequest, match="-4028"):
        await usdm.set_leverage(76, XRP)
    leverage = await usdm.fetch_leverage(XRP)
    assert (leverage["longLeverage"], leverage["marginMode"]) == (75, "cross")
    tiers = await usdm.fetch_leverage_tiers([XRP])
    assert [t["maxLeverage"] for t in tiers[XRP]] == [75, 50, 25, 10]


async def test_hedge_mode_holds_a_long_and_a_short(usdm: Any) -> None:
    assert (await usdm.fetch_position_mode(XRP))["hedged"] is False
    await usdm.set_position_mode(True)
    assert (await usdm.fetch_position_mode(XRP))["hedged"] is True
    with pytest.raises(ccxt_async.OperationRejected, match="-4059"):
        await usdm.set_position_mode(True)
    await usdm.create_order(XRP, "market", "buy", 100, params={"positionSide": "LONG"})
    await usdm.create_order(XRP, "market", "sell", 40, params={"positionSide": "SHORT"})
    sides = sorted((p["side"], p["contracts"], p["hedged"]) for p in await usdm.fetch_positions([XRP]))
    assert sides == [("long", 100.0, True), ("short", 40.0, True)]
    await usdm.create_order(XRP, "market", "sell", 100, params={"hedged": True, "reduceOnly": True})  # closes the long
    assert [p["side"] for p in await usdm.fetch_positions([XRP])] == ["short"]
    with pytest.raises(ccxt_async.OperationRejected, match="-4068"):
        await usdm.set_position_mode(False)
    every = await usdm.fetch_orders()  # no symbol: every market's orders
    assert [(o["symbol"], o["side"], o["info"]["positionSide"]) for o in every] == [
        (XRP, "buy", "LONG"),
        (XRP, "sell", "SHORT"),
        (XRP, "sell", "LONG"),
    ]


async def test_edit_order_moves_a_resting_limit_and_its_reserved_margin(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    await usdm.set_margin_mode("isolated", XRP)
    order = await usdm.create_order(XRP, "limit", "buy", 100, 1.0)
    reserved = D((await usdm.fetch_balance())["USDT"]["free"])
    edited = await usdm.edit_order(order["id"], XRP, "limit", "buy", 200, 1.0)
    assert (edited["id"], edited["amount"], edited["status"]) == (order["id"], 200.0, "open")
    assert D((await usdm.fetch_balance())["USDT"]["free"]) < reserved
    assert (await usdm.fetch_open_order(order["id"], XRP))["amount"] == 200.0
    last = futures_venue.market("XRPUSDT").last_price
    crossed = await usdm.edit_order(order["id"], XRP, "limit", "buy", 200, float(last + Decimal("0.01")))
    assert crossed["status"] == "closed" and D(crossed["average"]) == last  # now marketable: filled at last
    with pytest.raises(ccxt_async.OrderNotFound, match="-2013"):
        await usdm.edit_order(order["id"], XRP, "limit", "buy", 300, 1.0)


async def test_time_in_force_ioc_expires_and_post_only_refuses_a_marketable_price(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    ioc = await usdm.create_order(XRP, "limit", "buy", 100, 1.0, params={"timeInForce": "IOC"})
    assert ioc["status"] == "expired" and ioc["filled"] == 0.0
    last = float(futures_venue.market("XRPUSDT").last_price)
    with pytest.raises(ccxt_async.OrderNotFillable, match="-5022"):
        await usdm.create_order(XRP, "limit", "buy", 100, last + 0.01, params={"postOnly": True})
    resting = await usdm.create_order(XRP, "limit", "buy", 100, 1.0, params={"postOnly": True})
    assert resting["status"] == "open" and resting["postOnly"] is True
    assert await usdm.fetch_positions() == []


async def test_hedge_mode_closes_below_the_minimum_notional(usdm: Any) -> None:
    await usdm.set_position_mode(True)
    await usdm.create_order(XRP, "market", "buy", 10, params={"positionSide": "LONG"})
    await usdm.create_order(XRP, "market", "sell", 2, params={"positionSide": "LONG"})  # 2 XRP: ~2.2 USDT
    assert (await _position(usdm))["contracts"] == 8.0
    with pytest.raises(ccxt_async.InvalidOrder, match="-4164"):
        await usdm.create_order(XRP, "market", "buy", 2, params={"positionSide": "LONG"})
