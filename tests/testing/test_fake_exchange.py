"""The fake Binance server itself: its protocol checks over raw HTTP, its matching and its extension hooks."""

from __future__ import annotations

import hashlib
import hmac
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from octobot_trading.errors import ConfigurationError
from octobot_trading.testing import FakeExchangeServer, default_markets
from octobot_trading.testing.fake_exchange import FakeExchangeError, FakeExchangeState, load_candles

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fake_exchange"


def _signed(server: FakeExchangeServer, params: dict[str, str], secret: str | None = None) -> str:
    query = urlencode({**params, "timestamp": str(time.time_ns() // 1_000_000)})
    signature = hmac.new((secret or server.api_secret).encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={signature}"


async def _get(session: aiohttp.ClientSession, url: str, key: str) -> tuple[int, object]:
    async with session.get(url, headers={"X-MBX-APIKEY": key}) as response:
        return response.status, await response.json()


async def test_signed_endpoints_check_key_signature_and_timestamp() -> None:
    async with FakeExchangeServer() as server, aiohttp.ClientSession() as session:
        base = f"{server.url}/api/v3/account?"
        status, body = await _get(session, base + _signed(server, {}), server.api_key)
        assert status == 200 and {"asset": "USDT", "free": "10000", "locked": "0"} in body["balances"]  # type: ignore[index]
        status, body = await _get(session, base + _signed(server, {}), "unknown-key")
        assert (status, body["code"]) == (401, -2015)  # type: ignore[index]
        status, body = await _get(session, base + _signed(server, {}, secret="wrong"), server.api_key)
        assert (status, body["code"]) == (400, -1022)  # type: ignore[index]
        stale = urlencode({"timestamp": str(time.time_ns() // 1_000_000 - 120_000), "recvWindow": "5000"})
        signature = hmac.new(server.api_secret.encode(), stale.encode(), hashlib.sha256).hexdigest()
        status, body = await _get(session, f"{base}{stale}&signature={signature}", server.api_key)
        assert (status, body["code"]) == (400, -1021)  # type: ignore[index]
        status, body = await _get(session, f"{server.url}/api/v3/depth?symbol=BTCUSDT&limit=7", server.api_key)
        assert (status, body["code"]) == (400, -1100)  # type: ignore[index]
        status, body = await _get(session, f"{server.url}/api/v3/ticker/24hr?symbol=NOPE", server.api_key)
        assert (status, body["code"]) == (400, -1121)  # type: ignore[index]


async def test_klines_replay_real_candles_and_aggregate() -> None:
    markets = default_markets(FIXTURES, "5m")
    raw = load_candles(FIXTURES / "BTC_USDT-5m.json")
    async with FakeExchangeServer(markets, start_index=30) as server, aiohttp.ClientSession() as session:
        url = f"{server.url}/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=3"
        _, rows = await _get(session, url, "")
        assert isinstance(rows, list)
        assert [r[0] for r in rows] == [raw[i][0] for i in (28, 29, 30)]
        assert rows[-1][4] == str(raw[30][4])
        _, hourly = await _get(session, url.replace("5m", "1h"), "")
        first = raw[:12]
        assert hourly[0][0] == first[0][0]  # type: ignore[index]
        assert Decimal(hourly[0][2]) == max(r[2] for r in first)  # type: ignore[index]
        assert Decimal(hourly[0][5]) == sum((r[5] for r in first), Decimal(0))  # type: ignore[index]
        server.advance(2)
        _, rows = await _get(session, url, "")
        assert rows[-1][0] == raw[32][0]  # type: ignore[index]


def _state() -> FakeExchangeState:
    markets = default_markets(FIXTURES, "5m")
    for market in markets:
        market.cursor = 10
    state = FakeExchangeState(markets, lambda: 1_000)
    state.add_account("k", "s", {"USDT": Decimal("1000"), "BTC": Decimal("0.5")})
    return state


def test_matching_fills_resting_orders_at_their_price_with_maker_fees() -> None:
    state = _state()
    account = state.accounts["k"]
    market = state.markets["BTCUSDT"]
    high_ahead = max(c[2] for c in market.candles[11:40])
    low_ahead = min(c[3] for c in market.candles[11:40])
    buy = state.place_order(account, "BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), low_ahead, "b1")
    sell = state.place_order(account, "BTCUSDT", "SELL", "LIMIT", Decimal("0.1"), high_ahead, "s1")
    assert account.locked == {"USDT": Decimal("0.01") * low_ahead, "BTC": Decimal("0.1")}
    for _ in range(29):
        state.advance()
    assert buy.status == sell.status == "FILLED"
    assert buy.fills[0].price == low_ahead and buy.fills[0].is_maker
    assert account.locked == {"USDT": Decimal(0), "BTC": Decimal(0)}
    assert account.free["BTC"] == Decimal("0.5") + Decimal("0.01") * Decimal("0.999") - Decimal("0.1")
    assert account.free["USDT"] == (
        Decimal("1000") - Decimal("0.01") * low_ahead + Decimal("0.1") * high_ahead * Decimal("0.999")
    )


def test_marketable_limit_fills_at_last_and_releases_the_difference() -> None:
    state = _state()
    account = state.accounts["k"]
    last = state.markets["BTCUSDT"].last_price
    order = state.place_order(account, "BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), last + 100, "m1")
    assert order.status == "FILLED" and order.fills[0].price == last and not order.fills[0].is_maker
    assert account.free["USDT"] == Decimal("1000") - Decimal("0.01") * last
    assert account.locked["USDT"] == 0


@pytest.mark.parametrize(
    ("qty", "price", "code", "text"),
    [
        ("0.000001", "20000", -1013, "LOT_SIZE"),
        ("0.000015", "20000", -1013, "LOT_SIZE"),
        ("0.01", "20000.001", -1013, "PRICE_FILTER"),
        ("0.0001", "20000", -1013, "NOTIONAL"),
        ("1", "20000", -2010, "insufficient balance"),
    ],
)
def test_order_refusals_change_nothing(qty: str, price: str, code: int, text: str) -> None:
    state = _state()
    account = state.accounts["k"]
    with pytest.raises(FakeExchangeError) as caught:
        state.place_order(account, "BTCUSDT", "BUY", "LIMIT", Decimal(qty), Decimal(price), "x")
    assert caught.value.code == code and text in caught.value.msg
    assert state.orders == {} and account.free == {"USDT": Decimal("1000"), "BTC": Decimal("0.5")}


def test_cancel_releases_and_unknown_orders_are_reported() -> None:
    state = _state()
    account = state.accounts["k"]
    order = state.place_order(account, "BTCUSDT", "SELL", "LIMIT", Decimal("0.2"), Decimal("99999"), "c1")
    assert state.find_order("k", "BTCUSDT", None, "c1") is order
    state.cancel_order(order)
    assert account.free["BTC"] == Decimal("0.5") and order.status == "CANCELED"
    with pytest.raises(FakeExchangeError) as caught:
        state.cancel_order(order)
    assert caught.value.code == -2011
    with pytest.raises(FakeExchangeError) as caught:
        state.find_order("k", "BTCUSDT", "424242", None)
    assert caught.value.code == -2013


async def test_other_modules_can_attach_routes_and_listen() -> None:
    server = FakeExchangeServer()
    advanced: list[int] = []
    changed: list[str] = []
    stopped: list[bool] = []

    async def last_close(request: web.Request) -> web.Response:
        market = server.state.markets[request.query["symbol"]]
        return web.json_response({"close": str(market.last_price), "cursor": market.cursor})

    async def on_stop() -> None:
        stopped.append(True)

    server.add_routes([web.get("/extra/close", last_close)])
    server.state.advance_listeners.append(lambda state: advanced.append(state.markets["BTCUSDT"].cursor))
    server.order_listeners.append(lambda order: changed.append(order.status))
    server.on_stop.append(on_stop)
    async with server, aiohttp.ClientSession() as session:
        with pytest.raises(RuntimeError):
            server.add_routes([])
        server.advance()
        _, body = await _get(session, f"{server.url}/extra/close?symbol=BTCUSDT", "")
        assert body == {"close": str(server.state.markets["BTCUSDT"].last_price), "cursor": 101}
        account = server.account()
        low = server.state.markets["BTCUSDT"].candles[102][3]
        server.state.place_order(account, "BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), low, "l1")
        server.advance()
    assert advanced == [101, 102] and changed == ["FILLED"] and stopped == [True]


def test_bad_start_index_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        FakeExchangeServer(start_index=10_000)


async def test_client_hook_points_every_url_here_including_websockets() -> None:
    import ccxt.pro

    async with FakeExchangeServer() as server:
        client = ccxt.pro.binance(server.ccxt_config())
        try:
            server.client_hook(client)
            api = client.urls["api"]
            assert api["public"] == f"{server.url}/api/v3" and api["sapi"] == f"{server.url}/sapi/v1"
            assert api["ws"]["spot"] == f"ws://127.0.0.1:{server.port}/ws"
            assert api["ws"]["ws-api"]["spot"] == f"ws://127.0.0.1:{server.port}/ws-api/v3"

            def every_url(node: object) -> list[str]:
                if isinstance(node, dict):
                    return [u for value in node.values() for u in every_url(value)]
                return [node] if isinstance(node, str) else []

            assert all("127.0.0.1" in url for url in every_url(api))
        finally:
            await client.close()
