"""Funding, liquidation, auto-deleveraging and conditional orders on the fake USDⓈ-M venue, through ccxt.

Expected numbers follow docs/futures.md and are computed here: funding ``notional at mark x rate``
(longs pay a positive rate), isolated long liquidation at ``(entry x q - IM) / (q x (1 - mmr))``
losing exactly the initial margin, cross liquidation capping the loss at the wallet.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt.async_support as ccxt_async
import pytest

from octobot_trading.testing import FakeFuturesServer
from tests.testing.conftest import usdm_client

XRP = "XRP/USDT:USDT"
TAKER = Decimal("0.0004")
FUNDING_1 = 1637222400000  # 2021-11-18 08:00 UTC


def D(value: Any) -> Decimal:
    return Decimal(str(value))


async def test_funding_debits_longs_credits_shorts_and_appears_as_funding_fee(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    futures_venue.add_account("short-key", "short-secret", {"USDT": "1000"})
    other = usdm_client(futures_venue, "short-key", "short-secret")
    try:
        await other.load_markets()
        await usdm.create_order(XRP, "market", "buy", 100)
        await other.create_order(XRP, "market", "sell", 40)
        futures_venue.set_mark_price("XRPUSDT", "1.5")
        before = D((await usdm.fetch_balance())["USDT"]["total"])
        paid = futures_venue.settle_funding("XRPUSDT", rate="0.0001")
        assert sorted(paid) == [Decimal("-0.015"), Decimal("0.006")]
        history = await usdm.fetch_funding_history(XRP)
        assert [(D(h["amount"]), h["code"], h["timestamp"]) for h in history] == [
            (Decimal("-0.015"), "USDT", FUNDING_1)
        ]
        assert [D(h["amount"]) for h in await other.fetch_funding_history(XRP)] == [Decimal("0.006")]
        after = D((await usdm.fetch_balance())["USDT"]["total"])
        assert after == before - Decimal("0.015")
        market = futures_venue.market("XRPUSDT")
        futures_venue.advance((FUNDING_1 - market.now_ms) // market.interval_ms)  # reaches 08:00: already paid
        assert len(await usdm.fetch_funding_history(XRP)) == 1
    finally:
        await other.close()


async def test_the_replay_settles_funding_at_each_funding_time_with_the_data_rate(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    await usdm.create_order(XRP, "market", "buy", 100)
    market = futures_venue.market("XRPUSDT")
    futures_venue.advance((FUNDING_1 - market.now_ms) // market.interval_ms)
    (payment,) = await usdm.fetch_funding_history(XRP)
    mark = market.mark_price
    assert payment["timestamp"] == FUNDING_1 and D(payment["amount"]) == -(Decimal(100) * mark * Decimal("0.0001"))
    assert [h["timestamp"] // 1000 * 1000 for h in await usdm.fetch_funding_rate_history(XRP)][-1] == FUNDING_1


async def test_an_isolated_long_is_liquidated_when_the_mark_reaches_its_price(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    await usdm.set_margin_mode("isolated", XRP)
    await usdm.set_leverage(10, XRP)
    futures_venue.set_last_price("XRPUSDT", "1.2000")
    await usdm.create_order(XRP, "market", "buy", 100)
    resting = await usdm.create_order(XRP, "limit", "sell", 100, 1.5, params={"reduceOnly": True})
    q, entry, mmr = Decimal(100), Decimal("1.2"), Decimal("0.005")
    initial = q * entry / 10
    liquidation = (entry * q - initial) / (q * (1 - mmr))
    assert futures_venue.set_mark_price("XRPUSDT", "1.0855") == []  # just above it
    assert len(await usdm.fetch_positions()) == 1
    (forced,) = futures_venue.set_mark_price("XRPUSDT", "1.0854")
    assert forced.auto_close_type == "LIQUIDATION"
    assert await usdm.fetch_positions() == []
    (seen,) = await usdm.fetch_my_liquidations(XRP)
    assert (seen["contracts"], seen["side"]) == (100.0, "sell")  # ccxt reports the closing order's side
    assert seen["price"] == pytest.approx(float(liquidation), rel=1e-12)
    orders = await usdm.fetch_orders(XRP)
    assert (await usdm.fetch_order(resting["id"], XRP))["status"] == "canceled"
    assert orders[-1]["clientOrderId"].startswith("autoclose-") and orders[-1]["status"] == "closed"
    balance = await usdm.fetch_balance()
    assert D(balance["USDT"]["total"]) == Decimal(10000) - q * entry * TAKER - initial


async def test_cross_positions_are_liquidated_on_the_margin_balance_and_the_wallet_stays_at_zero(
    futures_venue: FakeFuturesServer,
) -> None:
    futures_venue.add_account("small-key", "small-secret", {"USDT": "20"})
    client = usdm_client(futures_venue, "small-key", "small-secret")
    try:
        await client.load_markets()
        await client.set_leverage(10, XRP)
        futures_venue.set_last_price("XRPUSDT", "1.0000")
        await client.create_order(XRP, "market", "buy", 100)
        assert futures_venue.set_mark_price("XRPUSDT", "0.85") == []  # margin balance 5 > maintenance 0.425
        (forced,) = futures_venue.set_mark_price("XRPUSDT", "0.5")
        assert (forced.order.price, forced.order.executed_qty) == (Decimal("0.5"), Decimal(100))
        assert await client.fetch_positions() == []
        assert D((await client.fetch_balance())["USDT"]["total"]) == 0
        assert len(await client.fetch_my_liquidations(XRP)) == 1
    finally:
        await client.close()


async def test_auto_deleveraging_closes_at_the_mark_price_without_fee(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    futures_venue.set_last_price("XRPUSDT", "1.2000")
    await usdm.create_order(XRP, "market", "sell", 100)
    futures_venue.set_mark_price("XRPUSDT", "1.1")
    forced = futures_venue.auto_deleverage("XRPUSDT")
    assert forced.auto_close_type == "ADL" and forced.order.client_order_id == "adl_autoclose"
    assert await usdm.fetch_positions() == []
    trades = await usdm.fetch_my_trades(XRP)
    assert (D(trades[-1]["price"]), D(trades[-1]["info"]["realizedPnl"]), D(trades[-1]["fee"]["cost"])) == (
        Decimal("1.1"),
        Decimal(10),
        Decimal(0),
    )
    assert await usdm.fetch_my_liquidations(XRP) == []  # ccxt asks for LIQUIDATION force orders only


async def test_stop_loss_and_take_profit_are_conditional_orders_that_trigger_on_the_price(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    futures_venue.set_last_price("XRPUSDT", "1.2000")
    await usdm.create_order(XRP, "market", "buy", 100)
    stop = await usdm.create_order(XRP, "market", "sell", 100, params={"stopLossPrice": 1.1, "reduceOnly": True})
    take = await usdm.create_order(XRP, "market", "sell", 100, params={"takeProfitPrice": 1.4, "reduceOnly": True})
    assert stop["status"] == "open" and stop["triggerPrice"] == 1.1
    open_ids = {o["id"] for o in await usdm.fetch_open_orders(XRP, params={"trigger": True})}
    assert open_ids == {stop["id"], take["id"]}
    with pytest.raises(ccxt_async.OrderImmediatelyFillable, match="-2021"):
        await usdm.create_order(XRP, "market", "sell", 100, params={"stopLossPrice": 1.3, "reduceOnly": True})
    futures_venue.set_last_price("XRPUSDT", "1.1500")
    assert (await usdm.fetch_order(stop["id"], XRP, params={"trigger": True}))["status"] == "open"
    futures_venue.set_last_price("XRPUSDT", "1.0900")  # gapped through the trigger: fills where it got
    done = await usdm.fetch_order(stop["id"], XRP, params={"trigger": True})
    assert done["status"] == "closed"
    actual = await usdm.fetch_order(done["info"]["actualOrderId"], XRP)
    assert (actual["info"]["origType"], D(actual["average"])) == ("STOP_MARKET", Decimal("1.09"))
    assert await usdm.fetch_positions() == []
    futures_venue.set_last_price("XRPUSDT", "1.4000")  # the take-profit finds nothing left to reduce
    assert (await usdm.fetch_order(take["id"], XRP, params={"trigger": True}))["status"] == "expired"


async def test_a_mark_price_stop_watches_the_mark_not_the_last_price(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    futures_venue.set_last_price("XRPUSDT", "1.2000")
    await usdm.create_order(XRP, "market", "buy", 100)
    stop = await usdm.create_order(
        XRP, "market", "sell", 100, params={"stopLossPrice": 1.1, "reduceOnly": True, "workingType": "MARK_PRICE"}
    )
    futures_venue.set_last_price("XRPUSDT", "1.0000")
    assert (await usdm.fetch_order(stop["id"], XRP, params={"trigger": True}))["status"] == "open"
    futures_venue.set_mark_price("XRPUSDT", "1.05")
    assert (await usdm.fetch_order(stop["id"], XRP, params={"trigger": True}))["status"] == "closed"
    canceled = await usdm.create_order(XRP, "market", "buy", 10, params={"stopLossPrice": 1.3})
    await usdm.cancel_order(canceled["id"], XRP, params={"trigger": True})
    assert (await usdm.fetch_order(canceled["id"], XRP, params={"trigger": True}))["status"] == "canceled"


async def test_signed_requests_are_checked_and_faults_apply_to_fapi_paths(
    usdm: Any, futures_venue: FakeFuturesServer
) -> None:
    futures_venue.faults.status(503, path="/fapi/v1/order")
    with pytest.raises(ccxt_async.OperationFailed, match="-1001"):
        await usdm.create_order(XRP, "market", "buy", 100)
    assert futures_venue.faults.count("POST", "/fapi/v1/order") == 1 and await usdm.fetch_positions() == []
    stale = urlencode({"timestamp": str(time.time_ns() // 1_000_000 - 120_000)})
    signature = hmac.new(futures_venue.api_secret.encode(), stale.encode(), hashlib.sha256).hexdigest()
    async with aiohttp.ClientSession() as session:
        url = f"{futures_venue.url}/fapi/v3/account?{stale}&signature={signature}"
        async with session.get(url, headers={"X-MBX-APIKEY": futures_venue.api_key}) as response:
            assert (response.status, (await response.json())["code"]) == (400, -1021)
    wrong = usdm_client(futures_venue, futures_venue.api_key, "not-the-secret")
    try:
        with pytest.raises(ccxt_async.AuthenticationError, match="-1022"):
            await wrong.fetch_balance()
    finally:
        await wrong.close()
