"""What the fake Binance spot server and the fake USDⓈ-M venue share.

Route pieces shaped as Binance sends them (``ping`` and ``time``, ``exchangeInfo`` filters,
candles and their time windows, order books, order lookups, public trades) and the connection
plumbing of their websocket servers. What differs between the two venues (limits, error texts,
row shapes) stays with each server and comes here as arguments, so neither changes behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import WSMsgType, web

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.testing.fake_exchange.state import CandleRow, FakeExchangeError
from octobot_trading.util.decimals import decimal_to_str

__all__ = [
    "QueuedSocket",
    "SocketServer",
    "agg_trade_row",
    "aggregate",
    "book_limit",
    "book_sides",
    "clock_routes",
    "kline_rows",
    "lot_size_filter",
    "one_or_all",
    "order_ids",
    "own_orders",
    "parse_interval",
    "price_filter",
    "public_fills",
    "time_window",
    "trade_row",
    "unknown_order_on_cancel",
]

_S = decimal_to_str
T = TypeVar("T")
MarketT = TypeVar("MarketT")


# -- REST ------------------------------------------------------------------------------------------
def clock_routes(prefix: str, server: Any) -> list[web.RouteDef]:
    """``GET <prefix>/ping`` and ``GET <prefix>/time`` (``server.clock``'s time when asked)."""

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({})

    async def time(request: web.Request) -> web.Response:
        return web.json_response({"serverTime": server.clock.now_ms()})

    return [web.get(f"{prefix}/ping", ping), web.get(f"{prefix}/time", time)]


def price_filter(tick_size: Decimal) -> dict[str, Any]:
    """The ``PRICE_FILTER`` of an ``exchangeInfo`` symbol."""
    return {"filterType": "PRICE_FILTER", "minPrice": _S(tick_size), "maxPrice": "1000000", "tickSize": _S(tick_size)}


def lot_size_filter(min_qty: Decimal, max_qty: Decimal, step_size: Decimal, kind: str = "LOT_SIZE") -> dict[str, Any]:
    """A ``LOT_SIZE`` (or ``MARKET_LOT_SIZE``) filter of an ``exchangeInfo`` symbol."""
    return {"filterType": kind, "minQty": _S(min_qty), "maxQty": _S(max_qty), "stepSize": _S(step_size)}


def aggregate(rows: list[CandleRow], row_interval: int, interval: int) -> list[CandleRow]:
    """``rows`` (candles ``row_interval`` ms long) merged into candles ``interval`` ms long (-1120
    when ``interval`` is not a multiple of ``row_interval``)."""
    if interval == row_interval:
        return rows
    if interval % row_interval:
        raise FakeExchangeError(-1120, "Invalid interval.")
    out: list[CandleRow] = []
    for ts, o, h, lo, c, v in rows:
        start = ts - ts % interval
        if out and out[-1][0] == start:
            p = out[-1]
            out[-1] = (start, p[1], max(p[2], h), min(p[3], lo), c, p[5] + v)
        else:
            out.append((start, o, h, lo, c, v))
    return out


def parse_interval(query: Any) -> int:
    """The ``interval`` parameter in milliseconds (-1120 when it is not a time frame)."""
    try:
        return TimeFrame.parse(query.get("interval", "")).ms
    except ConfigurationError:
        raise FakeExchangeError(-1120, "Invalid interval.") from None


def time_window(rows: list[CandleRow], query: Any, max_limit: int) -> list[CandleRow]:
    """The candles between ``startTime`` and ``endTime``: the first ``limit`` from ``startTime``,
    else the last ``limit`` (default 500, at most ``max_limit``)."""
    start, end = query.get("startTime"), query.get("endTime")
    if start is not None:
        rows = [r for r in rows if r[0] >= int(start)]
    if end is not None:
        rows = [r for r in rows if r[0] <= int(end)]
    limit = min(int(query.get("limit", "500")), max_limit)
    return rows[:limit] if start is not None else rows[-limit:]


def kline_rows(rows: Iterable[CandleRow], interval: int) -> list[list[Any]]:
    """``klines`` rows (open time, OHLCV as strings, close time, quote volume, one trade, ...)."""
    return [
        [ts, _S(o), _S(h), _S(lo), _S(c), _S(v), ts + interval - 1, _S(v * c), 1, "0", "0", "0"]
        for ts, o, h, lo, c, v in rows
    ]


def book_limit(query: Any, default: int, allowed: Sequence[int]) -> int:
    """The ``limit`` of a ``depth`` request (-1100 naming the legal ones when it is not one of ``allowed``)."""
    limit = int(query.get("limit", str(default)))
    if limit not in allowed:
        legal = ", ".join(str(n) for n in allowed)
        raise FakeExchangeError(-1100, f"Illegal characters found in parameter 'limit'; legal range is '{legal}'.")
    return limit


def book_sides(last: Decimal, tick: Decimal, qty: Decimal, limit: int) -> tuple[list[list[str]], list[list[str]]]:
    """``limit`` bid and ask levels one ``tick`` apart around ``last``, ``qty`` more at each level."""
    bids = [[_S(last - tick * i), _S(qty * i)] for i in range(1, limit + 1)]
    asks = [[_S(last + tick * i), _S(qty * i)] for i in range(1, limit + 1)]
    return bids, asks


def order_ids(params: dict[str, str]) -> tuple[str | None, str | None]:
    """``(orderId, origClientOrderId)`` of an order request (-1102 when both are missing)."""
    order_id, client_id = params.get("orderId"), params.get("origClientOrderId")
    if order_id is None and client_id is None:
        raise FakeExchangeError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    return order_id, client_id


def unknown_order_on_cancel(find: Callable[[], T]) -> T:
    """``find()`` for a cancel: an unknown order (-2013) is answered -2011, as Binance does."""
    try:
        return find()
    except FakeExchangeError as exc:
        if exc.code == -2013:
            raise FakeExchangeError(-2011, "Unknown order sent.") from None
        raise


class _Owned(Protocol):
    @property
    def api_key(self) -> str: ...

    @property
    def symbol_id(self) -> str: ...

    @property
    def order_id(self) -> int: ...


OrderT = TypeVar("OrderT", bound=_Owned)


def own_orders(orders: Iterable[OrderT], api_key: str, symbol: str | None) -> list[OrderT]:
    """The orders of ``api_key`` (on ``symbol`` unless None), by order id."""
    return sorted(
        (o for o in orders if o.api_key == api_key and (symbol is None or o.symbol_id == symbol)),
        key=lambda o: o.order_id,
    )


def one_or_all(
    query: Any, markets: Mapping[str, MarketT], find: Callable[[str], MarketT], row: Callable[[MarketT], Any]
) -> Any:
    """``row`` of the market the ``symbol`` parameter names, or every market's row when it names none."""
    symbol = query.get("symbol")
    if symbol is None:
        return [row(m) for m in markets.values()]
    return row(find(symbol))


def agg_trade_row(fill: Any, buyer_maker: bool) -> dict[str, Any]:
    """One ``aggTrades`` row (a fill alone in its aggregate)."""
    return {
        "a": fill.id,
        "p": _S(fill.price),
        "q": _S(fill.qty),
        "f": fill.id,
        "l": fill.id,
        "T": fill.time,
        "m": buyer_maker,
    }


def trade_row(fill: Any, buyer_maker: bool) -> dict[str, Any]:
    """One public ``trades`` row."""
    return {
        "id": fill.id,
        "price": _S(fill.price),
        "qty": _S(fill.qty),
        "quoteQty": _S(fill.price * fill.qty),
        "time": fill.time,
        "isBuyerMaker": buyer_maker,
    }


def public_fills(orders: Iterable[Any], symbol_id: str, limit: int) -> list[Any]:
    """The last ``limit`` fills of every order on ``symbol_id``, by fill id."""
    fills = sorted((f for o in orders if o.symbol_id == symbol_id for f in o.fills), key=lambda f: f.id)
    return fills[-limit:]


# -- websockets ------------------------------------------------------------------------------------
class QueuedSocket:
    """One server-side websocket whose messages are queued and written in order by one writer task."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.writer: asyncio.Task[None] | None = None

    async def write(self) -> None:
        """Send queued messages until the socket closes (run as the writer task)."""
        while True:
            text = await self.queue.get()
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except ConnectionError:  # the peer went away: the handler cleans up
                return


C = TypeVar("C", bound=QueuedSocket)


class SocketServer(Generic[C]):
    """The connections of a fake websocket server: ``connections`` counts those ever opened."""

    def __init__(self) -> None:
        self.connections = 0
        self._conns: list[C] = []

    async def serve(
        self, request: web.Request, connect: Callable[[web.WebSocketResponse], C], on_text: Callable[[C, str], Any]
    ) -> web.WebSocketResponse:
        """Accept the websocket of ``request`` as ``connect(ws)``, write its queue, hand each text
        message to ``on_text`` until it closes, then forget it."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = connect(ws)
        writer = conn.writer = asyncio.get_running_loop().create_task(conn.write())
        self._conns.append(conn)
        self.connections += 1
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    on_text(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            if conn in self._conns:
                self._conns.remove(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def disconnect(self) -> None:
        """Close every open connection (clients see the socket drop)."""
        for conn in list(self._conns):
            await conn.ws.close(code=1001, message=b"going away")

    async def close(self) -> None:
        """Close connections (run by the server's stop)."""
        await self.disconnect()
