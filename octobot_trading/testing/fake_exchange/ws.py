"""Binance public websocket streams for the fake exchange server, spoken to by ``ccxt.pro.binance``.

Attach before the server starts::

    server = FakeExchangeServer()
    streams = FakeBinanceStreams(server)       # routes /ws and /ws/<n> on the same port
    await server.start()
    client = ccxt.pro.binance({...}); streams.client_hook(client)   # REST + websocket urls

Protocol (Binance spot raw streams, as ccxt.pro uses them): the client sends
``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1h", ...], "id": n}`` and gets
``{"result": null, "id": n}``; ``UNSUBSCRIBE`` and ``LIST_SUBSCRIPTIONS`` work too. Each
:meth:`FakeExchangeServer.advance` pushes, to the subscribers of each stream:

* ``<id>@kline_<interval>`` — a ``kline`` event for the candle just closed (``x: true``), for the
  market's own interval;
* ``<id>@ticker`` / ``<id>@miniTicker`` — ``24hrTicker`` / ``24hrMiniTicker`` events;
* ``<id>@depth`` / ``<id>@depth@100ms`` — a ``depthUpdate`` turning the REST book of the previous
  candle into the current one (levels removed with quantity 0, new levels set), with ``U`` / ``u``
  continuing the REST snapshot's ``lastUpdateId`` (which is the candle cursor): ``U = u =
  cursor``, so a client following Binance's recipe never sees a gap;
* ``<id>@trade`` / ``<id>@aggTrade`` — one ``trade`` at the candle's close.

Test controls: :meth:`FakeBinanceStreams.push_trade` sends a trade now,
:meth:`FakeBinanceStreams.push_ticker` the current ticker (nothing else);
:meth:`FakeBinanceStreams.disconnect` closes every connection (a forced disconnect);
``stalled = True`` keeps connections open but silently drops every event (a silent stall);
``connections`` counts the connections ever opened.
"""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

from aiohttp import web

from octobot_trading.testing.fake_exchange.common import QueuedSocket, SocketServer
from octobot_trading.testing.fake_exchange.server import FakeExchangeServer
from octobot_trading.testing.fake_exchange.state import FakeExchangeState, FakeMarket
from octobot_trading.util.decimals import decimal_to_str, floor_to_step

__all__ = ["FakeBinanceStreams"]

_S = decimal_to_str
#: levels per side the depth diffs cover (ccxt.pro's default snapshot limit)
DEPTH_LEVELS = 1000
_INTERVALS = {
    60_000: "1m",
    180_000: "3m",
    300_000: "5m",
    900_000: "15m",
    1_800_000: "30m",
    3_600_000: "1h",
    7_200_000: "2h",
    14_400_000: "4h",
    21_600_000: "6h",
    28_800_000: "8h",
    43_200_000: "12h",
    86_400_000: "1d",
}


class _Connection(QueuedSocket):
    def __init__(self, ws: web.WebSocketResponse) -> None:
        super().__init__(ws)
        self.streams: set[str] = set()


class FakeBinanceStreams(SocketServer[_Connection]):
    """Binance public streams on a :class:`FakeExchangeServer` (see the module docstring)."""

    def __init__(self, server: FakeExchangeServer) -> None:
        super().__init__()
        self.server = server
        self.state: FakeExchangeState = server.state
        self.stalled = False
        self._trade_ids = itertools.count(900_000)
        server.add_routes([web.get("/ws", self._handle), web.get("/ws/{stream}", self._handle)])
        self.state.advance_listeners.append(self._on_advance)
        server.on_stop.append(self.close)

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:<port>/ws``."""
        return f"ws://127.0.0.1:{self.server.port}/ws"

    def client_hook(self, client: Any) -> None:
        """Point a ccxt client's REST urls (the server's hook) and websocket urls at this server."""
        self.server.client_hook(client)
        api = client.urls.get("api")
        if isinstance(api, dict):  # the WebSocket API url (private streams) keeps pointing at this server
            previous = api.get("ws")
            api["ws"] = {**(previous if isinstance(previous, dict) else {}), "spot": self.url, "margin": self.url}

    @property
    def subscriptions(self) -> set[str]:
        """Every stream some open connection subscribed to."""
        return set().union(*(c.streams for c in self._conns)) if self._conns else set()

    # -- connections ----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, _Connection, self._on_request)

    def _on_request(self, conn: _Connection, text: str) -> None:
        try:
            request = json.loads(text)
            method, rid = request.get("method"), request.get("id")
            params = request.get("params") or []
        except (ValueError, AttributeError):
            conn.queue.put_nowait(json.dumps({"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}))
            return
        if method == "SUBSCRIBE":
            conn.streams.update(str(p) for p in params)
            reply: dict[str, Any] = {"result": None, "id": rid}
        elif method == "UNSUBSCRIBE":
            conn.streams.difference_update(str(p) for p in params)
            reply = {"result": None, "id": rid}
        elif method == "LIST_SUBSCRIPTIONS":
            reply = {"result": sorted(conn.streams), "id": rid}
        else:
            reply = {"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"}, "id": rid}
        conn.queue.put_nowait(json.dumps(reply))

    # -- events ---------------------------------------------------------------------------
    def _send(self, stream: str, event: dict[str, Any]) -> None:
        if self.stalled:
            return
        text = json.dumps(event)
        for conn in self._conns:
            if stream in conn.streams:
                conn.queue.put_nowait(text)

    def _on_advance(self, state: FakeExchangeState) -> None:
        for market in state.markets.values():
            self._publish_market(market)

    def _publish_market(self, market: FakeMarket) -> None:
        sid = market.symbol_id.lower()
        ts, o, h, lo, c, v = market.current
        interval = market.interval_ms
        now = ts + interval
        name = _INTERVALS.get(interval)
        if name is not None:
            self._send(
                f"{sid}@kline_{name}",
                {
                    "e": "kline",
                    "E": now,
                    "s": market.symbol_id,
                    "k": {
                        "t": ts,
                        "T": ts + interval - 1,
                        "s": market.symbol_id,
                        "i": name,
                        "f": 0,
                        "L": 0,
                        "o": _S(o),
                        "c": _S(c),
                        "h": _S(h),
                        "l": _S(lo),
                        "v": _S(v),
                        "n": 1,
                        "x": True,
                        "q": _S(v * c),
                        "V": "0",
                        "Q": "0",
                        "B": "0",
                    },
                },
            )
        ticker = self._ticker(market, now)
        self._send(f"{sid}@ticker", ticker)
        mini = {k: ticker[k] for k in ("E", "s", "c", "o", "h", "l", "v", "q")}
        self._send(f"{sid}@miniTicker", {"e": "24hrMiniTicker", **mini})
        depth = self._depth_update(market, now)
        for stream in (f"{sid}@depth", f"{sid}@depth@100ms"):
            self._send(stream, depth)
        self._trade(market, c, market.min_qty, now - 1)

    def _ticker(self, market: FakeMarket, now: int) -> dict[str, Any]:
        window = max(1, 86_400_000 // market.interval_ms)
        rows = market.visible_candles()[-window:]
        first, last = rows[0], rows[-1]
        volume = sum((r[5] for r in rows), Decimal(0))
        return {
            "e": "24hrTicker",
            "E": now,
            "s": market.symbol_id,
            "p": _S(last[4] - first[1]),
            "P": "0",
            "w": _S(last[4]),
            "x": _S(first[1]),
            "c": _S(last[4]),
            "Q": _S(market.min_qty),
            "b": _S(last[4] - market.tick_size),
            "B": _S(market.step_size * 1000),
            "a": _S(last[4] + market.tick_size),
            "A": _S(market.step_size * 1000),
            "o": _S(first[1]),
            "h": _S(max(r[2] for r in rows)),
            "l": _S(min(r[3] for r in rows)),
            "v": _S(volume),
            "q": _S(sum((r[5] * r[4] for r in rows), Decimal(0))),
            "O": first[0],
            "C": now - 1,
            "F": 0,
            "L": 0,
            "n": len(rows),
        }

    @staticmethod
    def book_levels(
        market: FakeMarket, cursor: int, limit: int = DEPTH_LEVELS
    ) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """The REST book of ``market`` at candle ``cursor`` (same rule as ``GET /api/v3/depth``)."""
        row = market.candles[cursor]
        last = row[4]
        qty = max(market.min_qty, floor_to_step(row[5] / 1000, market.step_size))
        bids = {last - market.tick_size * i: qty * i for i in range(1, limit + 1)}
        asks = {last + market.tick_size * i: qty * i for i in range(1, limit + 1)}
        return bids, asks

    def _depth_update(self, market: FakeMarket, now: int) -> dict[str, Any]:
        old_bids, old_asks = self.book_levels(market, market.cursor - 1)
        new_bids, new_asks = self.book_levels(market, market.cursor)

        def diff(old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]) -> list[list[str]]:
            gone = [[_S(p), "0"] for p in old if p not in new]
            return gone + [[_S(p), _S(q)] for p, q in new.items() if old.get(p) != q]

        return {
            "e": "depthUpdate",
            "E": now,
            "s": market.symbol_id,
            "U": market.cursor,
            "u": market.cursor,
            "b": diff(old_bids, new_bids),
            "a": diff(old_asks, new_asks),
        }

    def _trade(self, market: FakeMarket, price: Decimal, qty: Decimal, time_ms: int) -> None:
        sid = market.symbol_id.lower()
        trade_id = next(self._trade_ids)
        event = {
            "e": "trade",
            "E": time_ms,
            "s": market.symbol_id,
            "t": trade_id,
            "p": _S(price),
            "q": _S(qty),
            "T": time_ms,
            "m": False,
            "M": True,
        }
        self._send(f"{sid}@trade", event)
        self._send(f"{sid}@aggTrade", {**event, "e": "aggTrade", "a": trade_id, "f": trade_id, "l": trade_id})

    def push_ticker(self, symbol_id: str) -> None:
        """Send the current ``24hrTicker`` / ``24hrMiniTicker`` of ``symbol_id`` now (no other stream)."""
        market = self.state.market(symbol_id)
        sid = market.symbol_id.lower()
        ticker = self._ticker(market, market.current[0] + market.interval_ms)
        self._send(f"{sid}@ticker", ticker)
        self._send(
            f"{sid}@miniTicker",
            {"e": "24hrMiniTicker", **{k: ticker[k] for k in ("E", "s", "c", "o", "h", "l", "v", "q")}},
        )

    def push_trade(self, symbol_id: str, price: Decimal, qty: Decimal, time_ms: int) -> None:
        """Send one public trade of ``symbol_id`` (``"BTCUSDT"``) now."""
        self._trade(self.state.market(symbol_id), price, qty, time_ms)
