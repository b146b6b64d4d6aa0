"""``SignalPublisher``: turns a manager's order operations into signal bundles and serves them.

The publisher listens to the trader (``trader.add_order_listener``): each create, edit and
cancel a caller asks for becomes one :class:`~octobot_trading.signals.bundle.SignalBundle`,
numbered 1, 2, ... and kept in a bounded history. What the trader does by itself as a
consequence of a fill (a group sibling canceled or shrunk: ``event.automatic``) is not
published: followers' own groups do the same on their fills. A cancel or edit the user asks for
is published, even on a group whose other orders have filled.

Followers in the same process subscribe directly (``SignalFollower(manager, source=publisher)``);
remote ones connect to :meth:`SignalPublisher.serve` (aiohttp websocket, ``ws://host:port``,
path ``/signals?after=<last sequence seen>&source=<id of the publisher that numbered it>``; a
``source`` other than this publisher's id means a follower resuming a previous publisher
session, which gets all the kept history): the first frame is a hello
(``{"type": "hello", "source": <publisher id>, "sequence": <current sequence>}``), then the kept
history after ``after`` (none without ``after``: a new follower starts with the next operation),
then every new bundle; a follower reconnecting with ``after`` gets what it missed
(at-least-once delivery). Serving beyond the loopback
interface requires a token; when a token is set, a follower must present it
(``Authorization: Bearer <token>``) or the handshake is refused with HTTP 401.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import socket
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import TracebackType
from typing import Any

from aiohttp import WSMsgType, web
from pydantic import ValidationError

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import ConfigurationError
from octobot_trading.personal_data.order_listeners import OrderOperation, OrderOperationEvent
from octobot_trading.signals.bundle import GroupRef, Role, SignalBundle, SignalOrder, TriggerRef, money, optional_money
from octobot_trading.util.decimals import ZERO, to_decimal
from octobot_trading.util.logging import get_logger, register_secret
from octobot_trading.util.symbols import parse_symbol

__all__ = ["SignalPublisher", "check_token", "is_loopback"]

_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost"})


def check_token(token: Any) -> None:
    """Refuse a token no follower can present as ``Authorization: Bearer <token>``.

    ``ConfigurationError(field="token")`` unless None or a non-empty string of printable ASCII
    characters without leading or trailing spaces (HTTP strips those in transit and forbids
    control characters in headers).
    """
    if token is None:
        return
    if not isinstance(token, str) or not token:
        raise ConfigurationError("the signal token must be a non-empty string", field="token")
    if token != token.strip(" \t") or any(not " " <= char <= "~" for char in token):
        raise ConfigurationError(
            "the signal token must be printable ASCII without leading or trailing spaces "
            "(it travels in an HTTP header)",
            field="token",
        )


def is_loopback(host: str) -> bool:
    """True when ``host`` names the loopback interface only."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SignalPublisher:
    """Publish every order operation of ``manager`` (or of one trading mode) as signal bundles.

    Parameters
    ----------
    manager:
        The leader's exchange manager (its ``trader`` is observed).
    mode:
        Optional trading mode: only orders of its sub-portfolio are published (a mode without a
        sub-portfolio shares the account's: then every order of the account is).
    history:
        How many bundles are kept for followers that reconnect.
    """

    def __init__(self, manager: Any, mode: Any = None, *, history: int = 10_000) -> None:
        trader = manager.trader if getattr(manager, "has_account", False) else None
        if trader is None or not hasattr(trader, "add_order_listener"):
            raise ConfigurationError("a signal publisher needs a manager with a trader", field="manager")
        if history < 1:
            raise ConfigurationError("history must keep at least one bundle", field="history")
        self.manager = manager
        self.trader = trader
        self.mode = mode
        self._sub_portfolio = None if mode is None else getattr(getattr(mode, "context", None), "sub_portfolio", None)
        self.id = uuid.uuid4().hex
        self.sequence = 0
        self._history: deque[SignalBundle] = deque(maxlen=history)
        self._subscribers: list[asyncio.Queue[SignalBundle]] = []
        self._remove_listener: Callable[[], None] | None = trader.add_order_listener(self._on_operation)
        self._token: str | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        self._connections: set[web.WebSocketResponse] = set()
        self._logger = get_logger("signals.publisher")

    def __repr__(self) -> str:
        served = f", serving {self.url}" if self._runner is not None else ""
        return f"SignalPublisher(id={self.id}, sequence={self.sequence}{served})"

    # -- bundles -------------------------------------------------------------------------------
    def history(self, after: int = 0) -> list[SignalBundle]:
        """Bundles kept, with a sequence above ``after``, oldest first."""
        return [bundle for bundle in self._history if bundle.sequence > after]

    def subscribe(self, after: int | None = None) -> asyncio.Queue[SignalBundle]:
        """Return a queue receiving the kept bundles after ``after``, then every new one.

        ``after=None``: only bundles published from now on.
        """
        queue: asyncio.Queue[SignalBundle] = asyncio.Queue()
        if after is None:
            after = self.sequence
        kept = self.history(after)
        if kept and kept[0].sequence > after + 1:
            self._logger.warning(
                "bundles %d to %d are no longer kept: a follower missed them", after + 1, kept[0].sequence - 1
            )
        for bundle in kept:
            queue.put_nowait(bundle)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[SignalBundle]) -> None:
        """Stop feeding ``queue`` (unknown queues are ignored)."""
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def publish(self, bundle_fields: dict[str, Any]) -> SignalBundle:
        """Number, record and deliver one bundle built from ``bundle_fields`` (used by the listener)."""
        sequence = self.sequence + 1
        bundle = SignalBundle(
            id=f"{self.id}-{sequence}",
            source=self.id,
            sequence=sequence,
            timestamp=self.trader.clock.now_ms(),
            **bundle_fields,
        )
        self.sequence = sequence  # a bundle that could not be built leaves no gap in the sequence
        self._history.append(bundle)
        for queue in list(self._subscribers):
            queue.put_nowait(bundle)
        return bundle

    async def _on_operation(self, event: OrderOperationEvent) -> None:
        order = event.order
        if self.mode is not None and order.sub_portfolio != self._sub_portfolio:
            return
        if event.automatic:
            return  # the group's own rule: followers' groups do the same on their fills
        try:
            if event.operation is OrderOperation.CREATE:
                self.publish({"operation": "create", "orders": tuple(self._create_orders(event))})
            elif event.operation is OrderOperation.CANCEL:
                self.publish({"operation": "cancel", "ref": order.id})
            else:
                self.publish(self._edit_fields(event))
        except ValidationError as exc:  # e.g. a buy whose share of the holdings cannot be measured (no price)
            self._logger.warning("order %s operation not published: %s", order.id, exc.errors()[0]["msg"])

    def _edit_fields(self, event: OrderOperationEvent) -> dict[str, Any]:
        arguments, fields = event.arguments, {"operation": "edit", "ref": event.order.id}
        if arguments.get("amount") is not None and event.previous_amount:
            fields["amount_ratio"] = money(event.order.amount / event.previous_amount)
        for name in ("price", "trigger_price"):
            if arguments.get(name) is not None:
                fields[name] = money(to_decimal(arguments[name], name=name))
        return fields

    def _create_orders(self, event: OrderOperationEvent) -> Iterator[SignalOrder]:
        entry, arguments = event.order, event.arguments
        parent = arguments.get("chained_to")
        trigger = arguments.get("price_trigger")
        fraction = entry.amount / parent.amount if parent is not None else self._share_of_holdings(entry)
        yield _wire_order(
            entry,
            "entry",
            fraction,
            parent=None if parent is None else parent.id,
            price_trigger=None
            if trigger is None
            else TriggerRef(threshold=money(trigger.threshold), above=trigger.above),
        )
        for child in entry.chained_orders:
            role: Role
            if child.order_type is OrderType.STOP_LOSS and arguments.get("stop_loss_price") is not None:
                role = "stop_loss"
            elif child.order_type is OrderType.LIMIT and arguments.get("take_profit_price") is not None:
                role = "take_profit"
            else:
                role = "chained"
            yield _wire_order(child, role, child.amount / entry.amount, parent=entry.id)

    def _share_of_holdings(self, order: Any) -> Decimal:
        """The share of the leader's holdings of the spent currency the order uses (before it filled)."""
        symbol = parse_symbol(order.symbol)
        portfolio = self.trader.portfolio_manager.get_portfolio(order.sub_portfolio)
        if order.side is OrderSide.BUY:
            spent = symbol.quote
            before = portfolio.total(spent) + order.filled_cost + order.fees.get(spent, ZERO)
            price = order.price or order.trigger_price or order.average_price or _last_price(self.trader, order.symbol)
            used = order.amount * price if price else ZERO
        else:
            spent = symbol.base
            before = portfolio.total(spent) + order.filled + order.fees.get(spent, ZERO)
            used = order.amount
        if before <= 0 or used <= 0:
            return ZERO
        return used / before

    # -- websocket server -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``ws://host:port`` of the running server."""
        if self._port is None:
            raise ConfigurationError("the signal publisher is not serving", field="serve")
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"ws://{host}:{self._port}"

    async def serve(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> str:
        """Serve the bundles over websocket on ``host:port`` (0: a free port); return ``ws://host:port``.

        Raises ``ConfigurationError`` when serving beyond the loopback interface without a token.
        """
        check_token(token)
        if token is None and not is_loopback(host):
            raise ConfigurationError(f"serving signals on {host} (beyond loopback) needs a token", field="token")
        if self._runner is not None:
            raise ConfigurationError("the signal publisher is already serving", field="serve")
        if token is not None:
            register_secret(token)  # redacted from every log line
        app = web.Application()
        app.add_routes([web.get("/signals", self._handle)])
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            await web.SockSite(runner, sock).start()
        except BaseException as exc:
            sock.close()
            await runner.cleanup()
            if isinstance(exc, OSError):
                raise ConfigurationError(
                    f"cannot serve signals on {host}:{port}: {exc.strerror or exc}", field="port"
                ) from None
            raise
        self._host, self._port, self._token, self._runner = host, sock.getsockname()[1], token, runner
        return self.url

    def _authorized(self, request: web.Request) -> bool:
        if self._token is None:
            return True
        header = request.headers.get("Authorization", "")
        presented = header[7:] if header.startswith("Bearer ") else ""
        return hmac.compare_digest(presented.encode(), self._token.encode())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            self._logger.warning("signal follower from %s refused: missing or wrong token", request.remote)
            return web.json_response({"error": "missing or wrong token"}, status=401)
        try:
            after = int(request.query["after"]) if "after" in request.query else None
        except ValueError:
            return web.json_response({"error": "after must be an integer"}, status=400)
        resumed = request.query.get("source")
        if after is not None and resumed is not None and resumed != self.id:
            # the follower resumes another publisher's sequence (this one restarted): every bundle this
            # publisher keeps is new to it
            after = 0
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        self._connections.add(ws)
        hello = json.dumps({"type": "hello", "source": self.id, "sequence": self.sequence})
        queue = self.subscribe(after)
        reader = asyncio.ensure_future(_drain(ws))
        getter: asyncio.Future[SignalBundle] | None = None
        try:
            await ws.send_str(hello)
            while not ws.closed:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    break
                await ws.send_str(getter.result().to_json())
        except (ConnectionError, RuntimeError) as exc:
            self._logger.info("signal follower connection ended: %r", exc)
        finally:
            self.unsubscribe(queue)
            for pending in (reader, getter):
                if pending is not None and not pending.done():
                    pending.cancel()
            await asyncio.gather(*(f for f in (reader, getter) if f is not None), return_exceptions=True)
            self._connections.discard(ws)
            await ws.close()
        return ws

    async def stop_serving(self) -> None:
        """Close follower connections and stop listening (idempotent); publishing goes on."""
        runner, self._runner, self._port = self._runner, None, None
        for ws in list(self._connections):
            await ws.close()
        if runner is not None:
            await runner.cleanup()

    async def close(self) -> None:
        """Stop serving and stop listening to the trader (idempotent)."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        await self.stop_serving()

    async def __aenter__(self) -> SignalPublisher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read (and ignore) what a follower sends, until it closes."""
    async for message in ws:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


def _last_price(trader: Any, symbol: str) -> Decimal | None:
    price_of = getattr(trader, "price_of", None)
    return price_of(symbol) if callable(price_of) else None


def _wire_order(
    order: Any, role: Role, fraction: Decimal, *, parent: str | None = None, price_trigger: TriggerRef | None = None
) -> SignalOrder:
    group = order.group
    reference = order.price or order.trigger_price or order.average_price
    return SignalOrder(
        ref=order.id,
        role=role,
        type=order.order_type.value,
        side=order.side.value,
        symbol=order.symbol,
        amount=money(order.amount),
        fraction=money(fraction),
        price=optional_money(order.price),
        trigger_price=optional_money(order.trigger_price),
        reference_price=optional_money(reference),
        trailing_percent=optional_money(order.trailing_percent),
        trailing_offset=optional_money(order.trailing_offset),
        limit_offset=optional_money(order.limit_offset),
        reduce_only=order.reduce_only,
        parent=parent,
        group=None if group is None else GroupRef(name=group.name, kind=group.kind.value),
        price_trigger=price_trigger,
    )
