"""Binance USDⓈ-M's user-data stream for the fake futures venue, spoken to by ``ccxt.pro.binanceusdm``.

Attach before the server starts::

    venue = FakeFuturesServer()
    user_data = FakeFuturesUserData(venue)     # listenKey REST routes + the /private/ws stream
    await venue.start()

Protocol (as ccxt.pro's ``watch_orders`` / ``watch_positions`` / ``watch_balance`` /
``watch_my_liquidations`` use it on a linear market): ``POST /fapi/v1/listenKey`` with the
``X-MBX-APIKEY`` header returns ``{"listenKey"}`` (the same key while it is valid; -2015 for an
unknown API key), ``PUT`` keeps it alive, ``DELETE`` closes its streams. The client then opens
``ws://127.0.0.1:<port>/private/ws?listenKey=<key>`` (the server's ``client_hook`` points the
client's ``wss://fstream.binance.com/ws`` there); an unknown key is refused with HTTP 400. Events
come as bare JSON objects:

* ``ORDER_TRADE_UPDATE`` on every change of a regular order: execution ``x`` ``NEW`` when
  placed, ``AMENDMENT`` when modified, one ``TRADE`` per fill (last qty ``l`` / price ``L``,
  commission ``n`` / ``N``, realized profit ``rp``, maker ``m``, cumulative ``z``), ``CANCELED``
  / ``EXPIRED``; an order the venue closed a position with has ``x`` ``CALCULATED`` and order
  type ``o`` ``LIQUIDATION`` (or ``ADL``);
* ``ALGO_UPDATE`` on every change of a conditional order (status ``X``: NEW, CANCELED,
  FINISHED, EXPIRED; ``ai`` the triggered order's id);
* ``ACCOUNT_UPDATE`` after each wallet or position change (reason ``m``: ORDER, FUNDING_FEE):
  the wallet ``wb`` / cross wallet ``cw`` of every margin asset and the positions of the account
  (a position just closed is sent once with ``pa`` 0).

On the COIN-M venue (:class:`~octobot_trading.testing.fake_exchange.futures.coinm.FakeCoinMServer`)
the same stream serves ``ccxt.pro.binancecoinm``: the listen key comes from ``/dapi/v1/listenKey``
and the client connects to ``ws://127.0.0.1:<port>/ws/<key>`` (its ``wss://dstream.binance.com/ws``
pointed here); amounts are contracts, wallets and PnL in the base coin, ``ap`` the harmonic mean.

Test controls, like the spot stream's: :meth:`FakeFuturesUserData.disconnect` closes every
connection; ``stalled = True`` keeps connections open but drops every event; ``drop_next = n``
drops the next ``n`` events; ``connections`` counts connections ever opened,
``open_connections`` those open now; ``events_sent`` counts events queued to a subscriber.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.testing.fake_exchange.common import QueuedSocket, SocketServer
from octobot_trading.testing.fake_exchange.futures.records import (
    AlgoOrder,
    FuturesFill,
    FuturesOrder,
    mean_fill_price,
)
from octobot_trading.testing.fake_exchange.futures.server import FakeFuturesServer
from octobot_trading.testing.fake_exchange.state import FakeExchangeError
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = ["FakeFuturesUserData"]

_S = decimal_to_str
PATH = "/private/ws"
#: Where ``ccxt.pro.binancecoinm`` opens the COIN-M stream: ``wss://dstream.binance.com/ws/<listenKey>``.
COINM_PATH = "/ws/{listen_key}"


class _Connection(QueuedSocket):
    def __init__(self, ws: web.WebSocketResponse, api_key: str) -> None:
        super().__init__(ws)
        self.api_key = api_key


class FakeFuturesUserData(SocketServer[_Connection]):
    """The USDⓈ-M user-data stream on a :class:`FakeFuturesServer` (see the module docstring)."""

    def __init__(self, server: FakeFuturesServer) -> None:
        super().__init__()
        self.server = server
        self.venue = server.venue
        self.stalled = False
        self.drop_next = 0
        self.events_sent = 0
        self._keys: dict[str, str] = {}  # listen key -> api key
        self._reported: dict[int, tuple[int, str]] = {}  # order id -> (fills reported, status reported)
        self._amended: dict[int, int] = {}  # order id -> amendments reported
        #: api key -> (symbol id, position side) of the positions last reported open
        self._open: dict[str, set[tuple[str, str]]] = {}
        server.add_routes(
            [
                web.post(f"{server.api_root}/v1/listenKey", self._new_key),
                web.put(f"{server.api_root}/v1/listenKey", self._keep_alive),
                web.delete(f"{server.api_root}/v1/listenKey", self._close_key),
                web.get(PATH, self._handle),
                web.get(COINM_PATH, self._handle),
            ]
        )
        self.venue.order_listeners.append(self._on_order)
        self.venue.algo_listeners.append(self._on_algo)
        self.venue.account_listeners.append(self._on_account)
        server.on_stop.append(self.close)

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        return len(self._conns)

    # -- listen keys ----------------------------------------------------------------------
    def _api_key(self, request: web.Request) -> str:
        api_key = request.headers.get("X-MBX-APIKEY", "")
        if api_key not in self.venue.accounts:
            raise FakeExchangeError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        return api_key

    async def _new_key(self, request: web.Request) -> web.Response:
        api_key = self._api_key(request)
        key = next((k for k, owner in self._keys.items() if owner == api_key), None)
        if key is None:
            key = secrets.token_hex(32)
            self._keys[key] = api_key
        return web.json_response({"listenKey": key})

    async def _keep_alive(self, request: web.Request) -> web.Response:
        api_key = self._api_key(request)
        if api_key not in self._keys.values():
            raise FakeExchangeError(-1125, "This listenKey does not exist.")
        return web.json_response({})

    async def _close_key(self, request: web.Request) -> web.Response:
        api_key = self._api_key(request)
        for key in [k for k, owner in self._keys.items() if owner == api_key]:
            del self._keys[key]
        for conn in [c for c in self._conns if c.api_key == api_key]:
            await conn.ws.close(code=1000, message=b"listen key closed")
        return web.json_response({})

    # -- connections ----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        api_key = self._keys.get(request.match_info.get("listen_key") or request.query.get("listenKey", ""))
        if api_key is None:
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        return await self.serve(request, lambda ws: _Connection(ws, api_key), lambda _conn, _text: None)

    # -- events ---------------------------------------------------------------------------
    def _send(self, api_key: str, event: dict[str, Any]) -> None:
        if self.stalled:
            return
        if self.drop_next > 0:
            self.drop_next -= 1
            return
        text = json.dumps(event)
        for conn in self._conns:
            if conn.api_key == api_key:
                self.events_sent += 1
                conn.queue.put_nowait(text)

    def _on_order(self, order: FuturesOrder) -> None:
        forced = next((f.auto_close_type for f in self.venue.force_orders if f.order is order), None)
        fills_done, status_done = self._reported.get(order.order_id, (0, ""))
        if forced is not None:
            for fill in order.fills[fills_done:]:
                self._send(order.api_key, self._update(order, "CALCULATED", fill, forced))
            self._reported[order.order_id] = (len(order.fills), order.status)
            return
        if not status_done:
            self._send(order.api_key, self._update(order, "NEW", None, None, status="NEW"))
            status_done = "NEW"
        if order.amendments > self._amended.get(order.order_id, 0):
            self._amended[order.order_id] = order.amendments
            self._send(order.api_key, self._update(order, "AMENDMENT", None, None))
        for fill in order.fills[fills_done:]:
            self._send(order.api_key, self._update(order, "TRADE", fill, None))
            status_done = order.status
        if order.status in ("CANCELED", "EXPIRED") and status_done != order.status:
            self._send(order.api_key, self._update(order, order.status, None, None))
            status_done = order.status
        self._reported[order.order_id] = (len(order.fills), status_done)

    def _update(
        self, order: FuturesOrder, exec_type: str, fill: FuturesFill | None, forced: str | None, status: str = ""
    ) -> dict[str, Any]:
        now = self.venue.now_ms()
        index = order.fills.index(fill) + 1 if fill is not None else len(order.fills)
        done = order.fills[:index]
        cumulative = sum((f.qty for f in done), ZERO)
        average = mean_fill_price(done)
        return {
            "e": "ORDER_TRADE_UPDATE",
            "E": now,
            "T": now,
            "o": {
                "s": order.symbol_id,
                "c": order.client_order_id,
                "S": order.side,
                "o": forced if forced is not None else order.type,
                "f": order.time_in_force,
                "q": _S(order.orig_qty),
                "p": _S(order.price),
                "ap": _S(average),
                "sp": _S(order.stop_price),
                "x": exec_type,
                "X": status or (order.status if fill is None or fill is order.fills[-1] else "PARTIALLY_FILLED"),
                "i": order.order_id,
                "l": _S(fill.qty) if fill else "0",
                "z": _S(cumulative),
                "L": _S(fill.price) if fill else "0",
                "N": fill.commission_asset if fill else None,
                "n": _S(fill.commission) if fill else "0",
                "T": fill.time if fill else order.update_time,
                "t": fill.id if fill else 0,
                "b": "0",
                "a": "0",
                "m": fill.maker if fill else False,
                "R": order.reduce_only,
                "wt": order.working_type,
                "ot": order.orig_type or order.type,
                "ps": order.position_side,
                "cp": order.close_position,
                "rp": _S(fill.realized_pnl) if fill else "0",
                "V": "EXPIRE_MAKER",
                "pm": "NONE",
                "gtd": 0,
            },
        }

    def _on_algo(self, algo: AlgoOrder) -> None:
        now = self.venue.now_ms()
        actual = self.venue.orders.get(algo.actual_order_id) if algo.actual_order_id is not None else None
        self._send(
            algo.api_key,
            {
                "e": "ALGO_UPDATE",
                "T": now,
                "E": now,
                "o": {
                    "caid": algo.client_algo_id,
                    "aid": algo.algo_id,
                    "at": "CONDITIONAL",
                    "o": algo.order_type,
                    "s": algo.symbol_id,
                    "S": algo.side,
                    "ps": algo.position_side,
                    "f": algo.time_in_force,
                    "q": _S(algo.quantity),
                    "X": algo.algo_status,
                    "ai": "" if actual is None else str(actual.order_id),
                    "ap": _S(actual.avg_price) if actual else "0",
                    "aq": _S(actual.executed_qty) if actual else "0",
                    "act": actual.type if actual else "0",
                    "tp": _S(algo.trigger_price),
                    "p": _S(algo.price),
                    "V": "EXPIRE_MAKER",
                    "wt": algo.working_type,
                    "pm": "NONE",
                    "cp": algo.close_position,
                    "pP": False,
                    "R": algo.reduce_only,
                    "tt": algo.trigger_time,
                    "gtd": 0,
                },
            },
        )

    def _on_account(self, api_key: str, reason: str) -> None:
        if reason not in ("ORDER", "FUNDING_FEE", "LIQUIDATION", "ADL"):
            return  # settings changes are ACCOUNT_CONFIG_UPDATE events on the venue, not sent here
        account = self.venue.accounts[api_key]
        self.venue.sync_marks(account)
        by_symbol = {m.symbol: m for m in self.venue.markets.values()}
        positions = []
        now_open: set[tuple[str, str]] = set()
        for position in account.futures.positions():
            market = by_symbol[position.symbol]
            side = position.side.value.upper() if account.dual_side else "BOTH"
            now_open.add((market.symbol_id, side))
            sign = -1 if position.side is PositionSide.SHORT else 1
            isolated = position.margin_mode is MarginMode.ISOLATED
            positions.append(
                {
                    "s": market.symbol_id,
                    "pa": _S(sign * position.contracts),
                    "ep": _S(position.entry_price or ZERO),
                    "bep": _S(position.entry_price or ZERO),
                    "cr": _S(position.realized_pnl or ZERO),
                    "up": _S(position.unrealized_pnl or ZERO),
                    "mt": "isolated" if isolated else "cross",
                    "iw": _S(position.initial_margin or ZERO) if isolated else "0",
                    "ps": side,
                }
            )
        for symbol_id, side in sorted(self._open.get(api_key, set()) - now_open):
            positions.append(
                {
                    "s": symbol_id,
                    "pa": "0",
                    "ep": "0",
                    "bep": "0",
                    "cr": "0",
                    "up": "0",
                    "mt": "cross",
                    "iw": "0",
                    "ps": side,
                }
            )
        self._open[api_key] = now_open
        isolated_margin = {
            asset: sum(
                (
                    p.initial_margin or ZERO
                    for p in account.futures.positions()
                    if p.margin_mode is MarginMode.ISOLATED and by_symbol[p.symbol].settle == asset
                ),
                ZERO,
            )
            for asset in account.futures.wallets
        }
        now = self.venue.now_ms()
        self._send(
            api_key,
            {
                "e": "ACCOUNT_UPDATE",
                "E": now,
                "T": now,
                "a": {
                    "m": "ORDER" if reason in ("LIQUIDATION", "ADL") else reason,
                    "B": [
                        {"a": asset, "wb": _S(wallet), "cw": _S(wallet - isolated_margin[asset]), "bc": "0"}
                        for asset, wallet in sorted(account.futures.wallets.items())
                    ],
                    "P": positions,
                },
            },
        )
