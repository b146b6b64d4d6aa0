"""Binance's spot user-data stream for the fake exchange server, spoken to by ``ccxt.pro.binance``.

Attach before the server starts::

    server = FakeExchangeServer()
    user_data = FakeBinanceUserData(server)    # routes /ws-api/v3 (the WebSocket API) on the same port
    await server.start()

The server's ``client_hook`` already points a ``ccxt.pro`` client's WebSocket API url
(``urls["api"]["ws"]["ws-api"]["spot"]``) at ``ws://127.0.0.1:<port>/ws-api/v3``.

Protocol (Binance spot WebSocket API, as ccxt.pro's ``watch_orders`` / ``watch_my_trades`` /
``watch_balance`` use it): the client sends ``{"id", "method":
"userDataStream.subscribe.signature", "params": {"apiKey", "timestamp", "signature"}}``; the
signature is checked like a signed REST request (HMAC-SHA256 of the sorted ``key=value`` query
of the other params with the account's secret: -1022 when wrong, -2015 for an unknown key,
-1021 for a timestamp outside 60 s). The reply is ``{"id", "status": 200, "result":
{"subscriptionId": N}}``; errors are ``{"id", "status": 400 | 401, "error": {"code", "msg"}}``.
Events then come wrapped as ``{"subscriptionId": N, "event": {...}}``:

* ``executionReport`` on every order change: ``x`` / ``X`` ``NEW`` when an order is placed, one
  ``TRADE`` per fill (trade id ``t``, last qty ``l`` and price ``L``, commission ``n`` / ``N``,
  cumulative qty ``z`` and quote qty ``Z``, maker ``m``), ``CANCELED`` on a cancel;
* ``outboundAccountPosition`` after each balance change (free ``f`` / locked ``l`` of the order's
  base and quote assets).

Events are produced whether anybody listens or not (an event sent while a client is disconnected
is lost, as on the venue). Test controls: :meth:`FakeBinanceUserData.disconnect` closes every
connection; ``stalled = True`` keeps connections open and answering but silently drops every
event (a silent stall); ``drop_next = n`` drops only the next ``n`` events (a gap in an otherwise
live stream); ``connections`` counts connections ever opened, ``subscriptions`` the
confirmed subscriptions ever made; ``event_listeners`` are called with each event as it is
queued for a subscriber (benchmarks time the venue's side there).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from octobot_trading.testing.fake_exchange.common import QueuedSocket, SocketServer
from octobot_trading.testing.fake_exchange.server import FakeExchangeServer
from octobot_trading.testing.fake_exchange.state import FakeExchangeState, FakeFill, FakeOrder
from octobot_trading.util.decimals import decimal_to_str

__all__ = ["FakeBinanceUserData"]

_S = decimal_to_str
PATH = "/ws-api/v3"


class _Connection(QueuedSocket):
    def __init__(self, ws: web.WebSocketResponse) -> None:
        super().__init__(ws)
        #: subscription id -> api key
        self.subscribed: dict[int, str] = {}


class FakeBinanceUserData(SocketServer[_Connection]):
    """Binance's spot user-data stream on a :class:`FakeExchangeServer` (see the module docstring)."""

    def __init__(self, server: FakeExchangeServer) -> None:
        super().__init__()
        self.server = server
        self.state: FakeExchangeState = server.state
        self.stalled = False
        self.drop_next = 0
        self.subscriptions = 0
        self.events_sent = 0
        self.event_listeners: list[Callable[[dict[str, Any]], object]] = []
        self._subscription_ids = itertools.count(0)
        #: order id -> (fills reported, status reported)
        self._reported: dict[int, tuple[int, str]] = {}
        server.add_routes([web.get(PATH, self._handle)])
        server.order_listeners.append(self._on_order)
        server.on_stop.append(self.close)

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:<port>/ws-api/v3``."""
        return f"ws://127.0.0.1:{self.server.port}{PATH}"

    @property
    def open_subscriptions(self) -> int:
        """Confirmed subscriptions on the connections open now."""
        return sum(len(c.subscribed) for c in self._conns)

    # -- connections ----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        return await self.serve(request, _Connection, self._answer)

    def _answer(self, conn: _Connection, text: str) -> None:
        conn.queue.put_nowait(json.dumps(self._on_request(conn, text)))

    def _on_request(self, conn: _Connection, text: str) -> dict[str, Any]:
        try:
            request = json.loads(text)
            rid, method = request.get("id"), request.get("method")
            params = request.get("params") or {}
            if not isinstance(params, dict):
                raise ValueError
        except (ValueError, AttributeError):
            return {"id": None, "status": 400, "error": {"code": -1102, "msg": "Malformed request."}}
        if method == "userDataStream.subscribe.signature":
            error = self._check_signature(params)
            if error is not None:
                return {
                    "id": rid,
                    "status": 401 if error[0] == -2015 else 400,
                    "error": {"code": error[0], "msg": error[1]},
                }
            sid = next(self._subscription_ids)
            conn.subscribed[sid] = str(params["apiKey"])
            self.subscriptions += 1
            return {"id": rid, "status": 200, "result": {"subscriptionId": sid}}
        if method == "userDataStream.unsubscribe":
            wanted = params.get("subscriptionId")
            if wanted is None:
                conn.subscribed.clear()
            else:
                conn.subscribed.pop(int(wanted), None)
            return {"id": rid, "status": 200, "result": {}}
        return {"id": rid, "status": 400, "error": {"code": -1102, "msg": f"Unknown method {method!r}."}}

    def _check_signature(self, params: dict[str, Any]) -> tuple[int, str] | None:
        account = self.state.accounts.get(str(params.get("apiKey", "")))
        if account is None:
            return -2015, "Invalid API-key, IP, or permissions for action."
        signature = str(params.get("signature", ""))
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return -1022, "Signature for this request is not valid."
        try:
            timestamp = int(params["timestamp"])
        except (KeyError, ValueError):
            return -1102, "Mandatory parameter 'timestamp' was not sent or malformed."
        if abs(self.server.clock.now_ms() - timestamp) > 60_000:
            return -1021, "Timestamp for this request is outside of the recvWindow."
        return None

    # -- events ---------------------------------------------------------------------------
    def _send(self, api_key: str, event: dict[str, Any]) -> None:
        if self.stalled:
            return
        if self.drop_next > 0:
            self.drop_next -= 1
            return
        for conn in self._conns:
            for sid, key in conn.subscribed.items():
                if key == api_key:
                    self.events_sent += 1
                    for listener in list(self.event_listeners):
                        listener(event)
                    conn.queue.put_nowait(json.dumps({"subscriptionId": sid, "event": event}))

    def _on_order(self, order: FakeOrder) -> None:
        fills_done, status_done = self._reported.get(order.order_id, (0, ""))
        if not status_done:
            self._send(order.api_key, self._report(order, "NEW", "NEW", None, Decimal(0), Decimal(0)))
            status_done = "NEW"
        cumulative = sum((f.qty for f in order.fills[:fills_done]), Decimal(0))
        quote = sum((f.qty * f.price for f in order.fills[:fills_done]), Decimal(0))
        for index in range(fills_done, len(order.fills)):
            fill = order.fills[index]
            cumulative += fill.qty
            quote += fill.qty * fill.price
            status = "FILLED" if cumulative >= order.orig_qty else "PARTIALLY_FILLED"
            self._send(order.api_key, self._report(order, "TRADE", status, fill, cumulative, quote))
            status_done = status
        if order.status == "CANCELED" and status_done != "CANCELED":
            self._send(
                order.api_key,
                self._report(order, "CANCELED", "CANCELED", None, order.executed_qty, order.cumulative_quote_qty),
            )
            status_done = "CANCELED"
        self._reported[order.order_id] = (len(order.fills), status_done)
        self._send(order.api_key, self._account_position(order))

    def _report(
        self, order: FakeOrder, exec_type: str, status: str, fill: FakeFill | None, cumulative: Decimal, quote: Decimal
    ) -> dict[str, Any]:
        now = fill.time if fill is not None else order.update_time or self.state.now_ms()
        canceled = exec_type == "CANCELED"
        return {
            "e": "executionReport",
            "E": now,
            "s": order.symbol_id,
            "c": f"cancel-{order.order_id}" if canceled else order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force if order.type == "LIMIT" else "GTC",
            "q": _S(order.orig_qty),
            "p": _S(order.price),
            "P": "0.00000000",
            "F": "0.00000000",
            "g": -1,
            "C": order.client_order_id if canceled else "",
            "x": exec_type,
            "X": status,
            "r": "NONE",
            "i": order.order_id,
            "l": _S(fill.qty) if fill else "0",
            "z": _S(cumulative),
            "L": _S(fill.price) if fill else "0",
            "n": _S(fill.commission) if fill else "0",
            "N": fill.commission_asset if fill else None,
            "T": now,
            "t": fill.id if fill else -1,
            "I": order.order_id * 10 + len(order.fills),
            "w": status in ("NEW", "PARTIALLY_FILLED"),
            "m": fill.is_maker if fill else False,
            "M": False,
            "O": order.time,
            "Z": _S(quote),
            "Y": _S(fill.qty * fill.price) if fill else "0",
            "Q": "0",
            "W": order.time,
            "V": "NONE",
        }

    def _account_position(self, order: FakeOrder) -> dict[str, Any]:
        market = self.state.markets[order.symbol_id]
        account = self.state.accounts[order.api_key]
        now = self.state.now_ms()
        return {
            "e": "outboundAccountPosition",
            "E": now,
            "u": now,
            "B": [
                {
                    "a": asset,
                    "f": _S(account.free.get(asset, Decimal(0))),
                    "l": _S(account.locked.get(asset, Decimal(0))),
                }
                for asset in (market.base, market.quote)
            ],
        }
