"""The fake USDⓈ-M venue's user-data stream, watched by the real ``ccxt.pro.binanceusdm`` client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.pro
import pytest

from octobot_trading.testing import FakeFuturesServer
from octobot_trading.testing.fake_exchange.futures import FakeFuturesUserData

XRP = "XRP/USDT:USDT"


@pytest.fixture
async def streamed() -> AsyncIterator[tuple[FakeFuturesServer, FakeFuturesUserData, Any]]:
    venue = FakeFuturesServer()
    user_data = FakeFuturesUserData(venue)
    async with venue:
        client = ccxt.pro.binanceusdm(
            {"apiKey": venue.api_key, "secret": venue.api_secret, "rateLimit": 1, **venue.ccxt_config()}
        )
        venue.client_hook(client)
        try:
            await client.load_markets()
            yield venue, user_data, client
        finally:
            await client.close()


def _waiting(client: Any) -> int:
    """How many results the client's user-data connection is waiting for."""
    return sum(len(ws.futures) for url, ws in client.clients.items() if "/private/ws" in url)


async def _watching(awaitable: Any, client: Any, user_data: FakeFuturesUserData) -> asyncio.Future[Any]:
    """Start a ``watch_*`` call and return once it waits on a connected stream (real loopback I/O)."""
    before = _waiting(client)
    task = asyncio.ensure_future(awaitable)
    for _ in range(6000):  # 30 s at most on a loaded machine
        if task.done() or (_waiting(client) > before and user_data.open_connections):
            return task
        await asyncio.sleep(0.005)
    raise AssertionError("the watch call never started waiting")


async def test_watch_orders_sees_a_market_order_placed_and_filled(
    streamed: tuple[FakeFuturesServer, FakeFuturesUserData, Any],
) -> None:
    venue, user_data, client = streamed
    watching = await _watching(client.watch_orders(XRP), client, user_data)
    placed = await client.create_order(XRP, "market", "buy", 100, params={"newClientOrderId": "watched-1"})
    orders = await asyncio.wait_for(watching, 30)
    assert orders[-1]["id"] == placed["id"] and orders[-1]["clientOrderId"] == "watched-1"
    last = client.orders[-1]
    assert (last["status"], last["filled"], Decimal(str(last["average"]))) == (
        "closed",
        100.0,
        venue.market("XRPUSDT").last_price,
    )


async def test_watch_positions_follows_opens_and_closes(
    streamed: tuple[FakeFuturesServer, FakeFuturesUserData, Any],
) -> None:
    venue, user_data, client = streamed
    assert await client.watch_positions([XRP]) == []  # the first call returns ccxt's REST snapshot
    watching = await _watching(client.watch_positions([XRP]), client, user_data)
    await client.create_order(XRP, "market", "sell", 40)
    (opened,) = await asyncio.wait_for(watching, 30)
    assert (opened["side"], opened["contracts"], Decimal(str(opened["entryPrice"]))) == (
        "short",
        40.0,
        venue.market("XRPUSDT").last_price,
    )
    watching = await _watching(client.watch_positions([XRP]), client, user_data)
    await client.create_order(XRP, "market", "buy", 40, params={"reduceOnly": True})
    (closed,) = await asyncio.wait_for(watching, 30)
    assert closed["contracts"] == 0.0


async def test_funding_and_balance_reach_watch_balance(
    streamed: tuple[FakeFuturesServer, FakeFuturesUserData, Any],
) -> None:
    venue, user_data, client = streamed
    await client.create_order(XRP, "market", "buy", 100)
    watching = await _watching(client.watch_balance(), client, user_data)
    venue.set_mark_price("XRPUSDT", "1.5")
    (paid,) = venue.settle_funding("XRPUSDT", rate="0.0001")
    balance = await asyncio.wait_for(watching, 30)
    assert Decimal(str(balance["USDT"]["total"])) == venue.futures_account().futures.wallet("USDT")
    assert paid == Decimal("-0.015")


async def test_a_liquidation_reaches_watch_my_liquidations_and_conditional_orders_stream(
    streamed: tuple[FakeFuturesServer, FakeFuturesUserData, Any],
) -> None:
    venue, user_data, client = streamed
    await client.set_margin_mode("isolated", XRP)
    await client.create_order(XRP, "market", "buy", 100)
    watching = await _watching(client.watch_orders(XRP), client, user_data)
    stop = await client.create_order(XRP, "market", "sell", 100, params={"stopLossPrice": 0.5, "reduceOnly": True})
    seen = await asyncio.wait_for(watching, 30)
    assert seen[-1]["id"] == stop["id"] and seen[-1]["status"] == "open"
    watching = await _watching(client.watch_my_liquidations(XRP), client, user_data)
    (forced,) = venue.set_mark_price("XRPUSDT", "0.8")
    (liquidation,) = await asyncio.wait_for(watching, 30)
    assert (liquidation["contracts"], liquidation["side"]) == (100.0, "sell")
    assert Decimal(str(liquidation["price"])) == pytest.approx(forced.order.price)
    assert any(o["id"] == stop["id"] and o["status"] == "canceled" for o in client.orders)


async def test_listen_keys_need_a_known_api_key_and_the_stream_can_be_dropped(
    streamed: tuple[FakeFuturesServer, FakeFuturesUserData, Any],
) -> None:
    venue, user_data, client = streamed
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{venue.url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "nobody"}) as response:
            assert (response.status, (await response.json())["code"]) == (401, -2015)
        async with session.get(f"{venue.url}/private/ws?listenKey=unknown") as response:
            assert response.status == 400
    watching = await _watching(client.watch_orders(XRP), client, user_data)
    user_data.stalled = True
    await client.create_order(XRP, "market", "buy", 100)
    await asyncio.sleep(0.1)
    assert not watching.done() and user_data.events_sent == 0
    user_data.stalled = False
    await user_data.disconnect()
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(watching, 30)
