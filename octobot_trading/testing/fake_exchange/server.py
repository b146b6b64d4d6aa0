"""A fake Binance spot exchange on 127.0.0.1, spoken to by the real ccxt ``binance`` client.

The server answers the REST endpoints that ccxt's ``binance`` class uses for spot trading::

    GET    /api/v3/ping, /api/v3/time, /api/v3/exchangeInfo
    GET    /api/v3/ticker/24hr, /api/v3/depth, /api/v3/klines, /api/v3/aggTrades, /api/v3/trades
    GET    /api/v3/account                                   (signed)
    POST   /api/v3/order   GET /api/v3/order   DELETE /api/v3/order   (signed)
    GET    /api/v3/openOrders, /api/v3/allOrders, /api/v3/myTrades   (signed)

Signed requests are checked like Binance does: ``X-MBX-APIKEY`` must name a known account
(-2015), the HMAC-SHA256 ``signature`` of the query string / form body must match (-1022) and
``timestamp`` must be within ``recvWindow`` of the server clock (-1021). Order errors use
Binance's codes (-2010 insufficient balance / duplicate, -2011 cancel of an unknown order,
-2013 unknown order, -1013 filter failure naming LOT_SIZE / PRICE_FILTER / NOTIONAL).

Market data is replayed from real candles (:mod:`.state`); :meth:`FakeExchangeServer.advance`
moves to the next candle and matches resting orders. Faults are armed on
:attr:`FakeExchangeServer.faults` (:mod:`.faults`).

Usage with ccxt (what ``ExchangeBuilder(...).with_client_hook(server.client_hook)`` does)::

    async with FakeExchangeServer() as server:
        client = ccxt.async_support.binance({"apiKey": server.api_key, "secret": server.api_secret,
                                             **server.ccxt_config()})
        server.client_hook(client)          # rewrites client.urls["api"] to this server
        await client.load_markets()

Extending the server (e.g. a websocket module)
----------------------------------------------
Another module can attach routes and read the same replayed state:

* call :meth:`FakeExchangeServer.add_routes` (a list of ``aiohttp.web.RouteDef``) **before**
  :meth:`start`; handlers read ``server.state`` (markets, cursor, accounts, orders);
* register a callback in ``server.state.advance_listeners`` to be told after each
  :meth:`advance` (e.g. to push a kline / ticker / depth message to websocket subscribers);
* register a callback in ``server.order_listeners`` to be told ``(order)`` after any order
  change made through the REST API or a match (e.g. to push private user-data events);
* ``server.on_stop`` callbacks run first in :meth:`stop` (close websockets there).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from octobot_trading.clock import Clock, LiveClock
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.testing.fake_exchange.faults import Fault, FaultInjector, FaultKind
from octobot_trading.testing.fake_exchange.state import (
    FakeAccount,
    FakeExchangeError,
    FakeExchangeState,
    FakeMarket,
    FakeOrder,
    load_candles,
)

__all__ = ["DEFAULT_DATA_DIR", "FakeExchangeServer", "default_markets"]

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
_DEFAULT_BALANCES = {"USDT": Decimal("10000"), "BTC": Decimal("1"), "ETH": Decimal("10")}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def default_markets(data_dir: str | Path = DEFAULT_DATA_DIR, time_frame: str = "1h") -> list[FakeMarket]:
    """BTC/USDT and ETH/USDT replayed from ``{BASE}_{QUOTE}-{time_frame}.json`` files in ``data_dir``."""
    interval = TimeFrame.parse(time_frame).ms
    specs = {
        ("BTC", "USDT"): dict(tick_size=Decimal("0.01"), step_size=Decimal("0.00001"), min_qty=Decimal("0.00001")),
        ("ETH", "USDT"): dict(tick_size=Decimal("0.01"), step_size=Decimal("0.0001"), min_qty=Decimal("0.0001")),
    }
    markets = []
    for (base, quote), spec in specs.items():
        candles = load_candles(Path(data_dir) / f"{base}_{quote}-{time_frame}.json")
        markets.append(FakeMarket(base, quote, candles, interval, **spec))  # type: ignore[arg-type]
    return markets


class FakeExchangeServer:
    """The fake Binance spot server; see the module docstring.

    Parameters
    ----------
    markets:
        Listed markets (default: :func:`default_markets`).
    clock:
        Server time for ``timestamp`` checks and order times (default: :class:`LiveClock`,
        since ccxt signs requests with the wall clock).
    start_index:
        Index of the candle each market starts on (earlier candles are its history).
    api_key, api_secret, balances:
        The default account created at start.
    """

    def __init__(
        self,
        markets: Iterable[FakeMarket] | None = None,
        *,
        clock: Clock | None = None,
        start_index: int = 100,
        api_key: str = "fake-api-key",
        api_secret: str = "fake-api-secret",
        balances: dict[str, Decimal] | None = None,
        maker_fee: Decimal = Decimal("0.001"),
        taker_fee: Decimal = Decimal("0.001"),
    ) -> None:
        self.clock: Clock = clock or LiveClock()
        market_list = list(markets) if markets is not None else default_markets()
        for market in market_list:
            if not 0 <= start_index < len(market.candles):
                raise ConfigurationError(
                    f"start_index {start_index} outside {market.symbol_id}'s candles", field="start_index"
                )
            market.cursor = start_index
        self.state = FakeExchangeState(market_list, self.clock.now_ms, maker_fee=maker_fee, taker_fee=taker_fee)
        self.api_key = api_key
        self.api_secret = api_secret
        self.state.add_account(api_key, api_secret, dict(balances if balances is not None else _DEFAULT_BALANCES))
        self.faults = FaultInjector()
        self.order_listeners: list[Callable[[FakeOrder], object]] = []
        self.on_stop: list[Callable[[], Awaitable[None]]] = []
        self.app = web.Application(middlewares=[self._middleware])
        self._extra_routes: list[web.RouteDef] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._processing: set[asyncio.Future[web.StreamResponse]] = set()

    # -- lifecycle ------------------------------------------------------------------------
    def add_routes(self, routes: Iterable[web.RouteDef]) -> None:
        """Attach more routes (call before :meth:`start`)."""
        if self._runner is not None:
            raise RuntimeError("add_routes() must be called before start()")
        self._extra_routes.extend(routes)

    async def start(self) -> FakeExchangeServer:
        """Listen on 127.0.0.1 on a free port."""
        if self._runner is not None:
            return self
        self.app.add_routes(self._routes() + self._extra_routes)
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        return self

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for callback in list(self.on_stop):
            await callback()
        for task in list(self._processing):
            task.cancel()
        await asyncio.gather(*self._processing, return_exceptions=True)
        await runner.cleanup()

    async def __aenter__(self) -> FakeExchangeServer:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port listened on (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("the fake exchange server is not started")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    # -- ccxt wiring ----------------------------------------------------------------------
    def client_hook(self, client: Any) -> None:
        """Point a ccxt ``binance`` client at this server: every API url is rewritten to it.

        Urls that this server does not serve (sapi, futures, ...) also point here, so a stray
        call gets a 404 instead of reaching the internet. Websocket urls of a ``ccxt.pro`` client
        (``urls["api"]["ws"]``) become ``ws://127.0.0.1:<port><same path>`` (``/ws`` for spot),
        ready for a websocket module attached with :meth:`add_routes`.
        """
        api = client.urls.get("api")
        rewritten: dict[str, Any] = self._rewrite(api) if isinstance(api, dict) else {}
        rewritten["public"] = self.url + "/api/v3"
        rewritten["private"] = self.url + "/api/v3"
        rewritten["v1"] = self.url + "/api/v1"
        client.urls["api"] = rewritten
        for key in ("test", "demo"):
            if isinstance(client.urls.get(key), dict):
                client.urls[key] = dict(rewritten)

    def _rewrite(self, urls: dict[str, Any]) -> dict[str, Any]:
        """Point every url of a (nested) ccxt url map here, keeping its path (ws urls stay ws)."""
        result: dict[str, Any] = {}
        for name, value in urls.items():
            if isinstance(value, dict):
                result[name] = self._rewrite(value)
            elif isinstance(value, str):
                parts = urlsplit(value)
                scheme = "ws" if parts.scheme in ("ws", "wss") else "http"
                result[name] = f"{scheme}://127.0.0.1:{self.port}{parts.path}"
            else:
                result[name] = value
        return result

    @staticmethod
    def ccxt_config() -> dict[str, Any]:
        """ccxt options that keep the binance client to the spot endpoints this server serves."""
        return {
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            }
        }

    # -- replay ---------------------------------------------------------------------------
    def advance(self, steps: int = 1) -> None:
        """Move every market to its next candle (``steps`` times) and match resting orders."""
        before = {oid: (o.status, o.executed_qty) for oid, o in self.state.orders.items()}
        self.state.advance(steps)
        for oid, order in self.state.orders.items():
            if before.get(oid) != (order.status, order.executed_qty):
                self._notify(order)

    def account(self, api_key: str | None = None) -> FakeAccount:
        """The account of ``api_key`` (default: the server's default account)."""
        return self.state.accounts[api_key or self.api_key]

    def _notify(self, order: FakeOrder) -> None:
        for listener in list(self.order_listeners):
            listener(order)

    # -- HTTP plumbing --------------------------------------------------------------------
    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = self.faults.take(request.method, request.path)
        if fault is not None and fault.kind is FaultKind.STATUS:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
            return web.json_response(fault.body(), status=fault.status, headers=headers)
        if fault is not None and fault.kind is FaultKind.DROP_BEFORE:
            return self._drop(request)
        # like a real venue, a request keeps being processed when its client gives up
        processing = asyncio.ensure_future(self._process(request, handler, fault))
        self._processing.add(processing)
        processing.add_done_callback(self._processing.discard)
        response = await asyncio.shield(processing)
        if fault is not None and fault.kind is FaultKind.DROP_AFTER:
            return await self._cut(request)
        if fault is not None and fault.kind is FaultKind.STATUS_AFTER:
            return web.json_response(fault.body(), status=fault.status)
        if fault is not None and fault.kind is FaultKind.TIMEOUT_AFTER:
            await self.clock.sleep(fault.delay)
        if fault is not None and fault.rewrite is not None and isinstance(response, web.Response):
            text = fault.rewrite(response.text or "")
            return web.Response(text=text, status=response.status, content_type=response.content_type)
        return response

    async def _process(self, request: web.Request, handler: Handler, fault: Fault | None) -> web.StreamResponse:
        await request.read()  # the request has arrived whole; what follows is the exchange's work
        if fault is not None and fault.kind is FaultKind.LATENCY:
            await self.clock.sleep(fault.delay)
        try:
            return await handler(request)
        except FakeExchangeError as exc:
            return web.json_response({"code": exc.code, "msg": exc.msg}, status=exc.status)

    @staticmethod
    async def _cut(request: web.Request) -> web.StreamResponse:
        """Start a reply and cut the connection mid-body (the client cannot retry it silently)."""
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = 4096
        await response.prepare(request)
        await response.write(b'{"symbol":')
        if request.transport is not None:
            request.transport.close()
        return response

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

    async def _params(self, request: web.Request) -> tuple[str, dict[str, str]]:
        raw = request.query_string if request.method in ("GET", "DELETE") else await request.text()
        if request.method not in ("GET", "DELETE") and request.query_string:
            raw = request.query_string + ("&" + raw if raw else "")
        return raw, dict(parse_qsl(raw, keep_blank_values=True))

    async def _signed(self, request: web.Request) -> tuple[FakeAccount, dict[str, str]]:
        raw, params = await self._params(request)
        account = self.state.accounts.get(request.headers.get("X-MBX-APIKEY", ""))
        if account is None:
            raise FakeExchangeError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        payload, sep, signature = raw.rpartition("&signature=")
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(expected, signature):
            raise FakeExchangeError(-1022, "Signature for this request is not valid.")
        try:
            timestamp = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError):
            raise FakeExchangeError(-1102, "Mandatory parameter 'timestamp' was not sent or malformed.") from None
        now = self.clock.now_ms()
        if timestamp > now + 1000 or now - timestamp > min(recv_window, 60000):
            raise FakeExchangeError(-1021, "Timestamp for this request is outside of the recvWindow.")
        return account, params

    @staticmethod
    def _decimal(params: dict[str, str], name: str, required: bool = True) -> Decimal | None:
        text = params.get(name)
        if text is None or text == "":
            if required:
                raise FakeExchangeError(
                    -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
                )
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise FakeExchangeError(-1100, f"Illegal characters found in parameter '{name}'.") from None
        if not value.is_finite():
            raise FakeExchangeError(-1100, f"Illegal characters found in parameter '{name}'.")
        return value

    def _routes(self) -> list[web.RouteDef]:
        from octobot_trading.testing.fake_exchange import routes

        return routes.build_routes(self)
