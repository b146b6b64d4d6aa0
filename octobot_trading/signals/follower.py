"""``SignalFollower``: replays a leader's signal bundles on another account.

Each bundle is applied once (its id is remembered; a re-delivered bundle changes nothing), in
sequence order, one at a time:

* ``create``: the entry is sized on the follower's portfolio (``sizing="portfolio"``: the same
  share of its holdings of the spent currency as the leader's; ``"absolute"``: the leader's
  amount), adapted to the follower's market (amount down to the step, prices to the tick) and
  placed with its bundled exits, group and price trigger through the follower's trader in ONE
  ``create_order`` call, so the entry and its exits are created together or not at all. Every
  order of the bundle (exits included) must pass the follower market's minimums at the
  follower's size, else the whole bundle is refused before anything is sent.
* ``edit`` / ``cancel``: applied to the follower's order mapped to the leader's (``order_for``).

A refused operation is logged and recorded in :attr:`SignalFollower.refused`; it never stops
the follower. The source is a :class:`~octobot_trading.signals.publisher.SignalPublisher` of
the same process or the ``ws://host:port`` of a serving one; the websocket is reconnected with
a growing delay after a drop, resuming after the last sequence applied (of the publisher that
numbered it: a restarted publisher, with a new id, sends all the bundles it kept).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from octobot_trading.enums import OrderSide
from octobot_trading.errors import (
    ConfigurationError,
    InvalidSignal,
    OctoBotTradingError,
    SignalAuthenticationError,
)
from octobot_trading.personal_data.orders.groups import OrderGroup
from octobot_trading.personal_data.price_triggers import PriceTrigger
from octobot_trading.signals.bundle import SignalBundle, SignalOrder
from octobot_trading.signals.publisher import SignalPublisher, check_token
from octobot_trading.util.decimals import decimal_to_str
from octobot_trading.util.logging import get_logger, register_secret
from octobot_trading.util.symbols import parse_symbol

__all__ = ["RefusedSignal", "SignalFollower"]

SIZINGS = ("portfolio", "absolute")


@dataclass(frozen=True, slots=True)
class RefusedSignal:
    """A bundle (or wire message) the follower did not apply, and why."""

    bundle_id: str | None
    operation: str | None
    reason: str


class _Refused(Exception):
    """Internal: the bundle cannot be applied; nothing was changed."""


class SignalFollower:
    """Replay the bundles of ``source`` on ``manager``'s account (see the module docstring).

    Parameters
    ----------
    manager:
        The follower's exchange manager (its ``trader`` places the orders).
    source:
        A :class:`SignalPublisher` in this process, or ``"ws://host:port"`` of a serving one.
    sizing:
        ``"portfolio"`` (default): amounts scale to the follower's holdings; ``"absolute"``:
        the leader's amounts.
    token:
        Presented to a websocket source that requires one.
    sub_portfolio:
        The follower's sub-portfolio to trade and size from (default: the account's).
    reconnect_delay, max_reconnect_delay:
        Seconds before reconnecting a dropped websocket (doubling up to the maximum).
    replay_history:
        False (default): start with the leader's next operation. True: first replay the
        operations the publisher still keeps (orders of the past would be placed again).
    """

    def __init__(
        self,
        manager: Any,
        source: SignalPublisher | str,
        sizing: str = "portfolio",
        token: str | None = None,
        *,
        sub_portfolio: str | None = None,
        reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 10.0,
        replay_history: bool = False,
    ) -> None:
        trader = manager.trader if getattr(manager, "has_account", False) else None
        if trader is None:
            raise ConfigurationError("a signal follower needs a manager with a trader", field="manager")
        if sizing not in SIZINGS:
            raise ConfigurationError(
                f"unknown sizing {sizing!r} (expected one of {', '.join(SIZINGS)})", field="sizing"
            )
        if not isinstance(source, SignalPublisher) and not (
            isinstance(source, str) and source.startswith(("ws://", "wss://")) and _has_host(source)
        ):
            raise ConfigurationError(
                f"source must be a SignalPublisher or a ws://host:port url, got {source!r}", field="source"
            )
        check_token(token)
        if sub_portfolio is not None:
            trader.portfolio_manager.get_portfolio(sub_portfolio)  # ConfigurationError naming an unknown one
        self.manager = manager
        self.trader = trader
        self.source = source
        self.sizing = sizing
        self.sub_portfolio = sub_portfolio
        if token is not None:
            register_secret(token)  # redacted from every log line
        self._token = token
        self.reconnect_delay = reconnect_delay
        self.replay_history = replay_history
        self.max_reconnect_delay = max_reconnect_delay
        #: the leader's order id -> the follower's order
        self._orders: dict[str, Any] = {}
        self._groups: dict[str, OrderGroup] = {}
        self._seen: set[str] = set()
        #: highest sequence handled, per source id
        self.last_sequence: dict[str, int] = {}
        #: id of the websocket publisher that last greeted this follower (its sequence is resumed)
        self._greeted_by: str | None = None
        self.refused: list[RefusedSignal] = []
        self.connections = 0
        self._lock = asyncio.Lock()
        self._progress = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[SignalBundle] | None = None
        self._logger = get_logger("signals.follower")

    def __repr__(self) -> str:
        source = "in-process" if isinstance(self.source, SignalPublisher) else self.source
        return f"SignalFollower(source={source}, sizing={self.sizing}, applied={len(self._seen)})"

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start following (idempotent); a websocket source refusing the token raises ``SignalAuthenticationError``."""
        if self._task is not None:
            return
        if isinstance(self.source, SignalPublisher):
            self._queue = self.source.subscribe(self._resume_after(self.source.id))
            self._task = asyncio.ensure_future(self._consume_queue(self._queue))
            return
        session = aiohttp.ClientSession()
        try:
            ws = await self._connect(session)
        except SignalAuthenticationError:
            await session.close()
            raise
        except (aiohttp.ClientError, OSError) as exc:
            self._logger.warning("signal source %s unreachable (%r); retrying", self.source, exc)
            ws = None
        self._task = asyncio.ensure_future(self._follow_websocket(session, ws))

    async def stop(self) -> None:
        """Stop following (idempotent); orders already placed stay."""
        task, self._task = self._task, None
        if isinstance(self.source, SignalPublisher) and self._queue is not None:
            self.source.unsubscribe(self._queue)
            self._queue = None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> SignalFollower:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def _resume_after(self, source_id: str | None) -> int | None:
        """The last sequence handled (None: nothing yet and no replay wanted: start live)."""
        if source_id is None:
            last = max(self.last_sequence.values(), default=None)
        else:
            last = self.last_sequence.get(source_id)
        if last is None and self.replay_history:
            return 0
        return last

    # -- what was applied ----------------------------------------------------------------------
    def order_for(self, leader_order_id: str) -> Any:
        """The follower's order rebuilt from the leader's order ``leader_order_id`` (None if none)."""
        return self._orders.get(leader_order_id)

    async def wait_for(self, sequence: int, *, source: str | None = None) -> None:
        """Wait until the bundle numbered ``sequence`` (of ``source``, default: any) was handled.

        Bound the wait with ``async with asyncio.timeout(seconds):`` around the call.
        """

        def reached() -> bool:
            if source is not None:
                return self.last_sequence.get(source, 0) >= sequence
            return any(value >= sequence for value in self.last_sequence.values())

        async with self._progress:
            await self._progress.wait_for(reached)

    # -- delivery ------------------------------------------------------------------------------
    async def _consume_queue(self, queue: asyncio.Queue[SignalBundle]) -> None:
        while True:
            bundle = await queue.get()
            await self.apply(bundle)

    async def _connect(self, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        headers = {} if self._token is None else {"Authorization": f"Bearer {self._token}"}
        source_id = self._greeted_by
        after = self._resume_after(source_id)
        query = "" if after is None else f"?after={after}"
        if after is not None and source_id is not None:
            query += f"&source={source_id}"  # a restarted publisher (another id) then sends all it kept
        url = f"{str(self.source).rstrip('/')}/signals{query}"
        try:
            ws = await session.ws_connect(url, headers=headers, heartbeat=30)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401:
                raise SignalAuthenticationError("the signal source refused the token (missing or wrong)") from None
            raise
        self.connections += 1
        return ws

    async def _follow_websocket(
        self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse | None
    ) -> None:
        delay = self.reconnect_delay
        try:
            while True:
                if ws is None:
                    try:
                        ws = await self._connect(session)
                    except SignalAuthenticationError as exc:
                        self._logger.error("signal following stopped: %s", exc)
                        return
                    except (aiohttp.ClientError, OSError) as exc:
                        self._logger.info(
                            "signal source %s unreachable (%r); retrying in %.1fs", self.source, exc, delay
                        )
                        await asyncio.sleep(delay)
                        delay = min(delay * 2, self.max_reconnect_delay)
                        continue
                delay = self.reconnect_delay
                async for message in ws:
                    if message.type is aiohttp.WSMsgType.TEXT:
                        await self._receive(message.data)
                    elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                        break
                await ws.close()
                ws = None
                self._logger.info("signal source %s disconnected; reconnecting", self.source)
        finally:
            if ws is not None:
                await ws.close()
            await session.close()

    async def _receive(self, text: str) -> None:
        """Handle one text frame; whatever it holds, the receive loop goes on."""
        try:
            if not self._hello(text):
                await self.apply(text)
        except Exception as exc:  # never stop following on one message
            self._logger.exception("signal message could not be handled")
            self._refuse(None, None, f"unexpected {type(exc).__name__}: {exc}")

    def _hello(self, text: str) -> bool:
        """Handle the publisher's hello frame (its id and current sequence); False for anything else."""
        if not text.startswith('{"type": "hello"'):
            return False
        try:
            hello = json.loads(text)
            source, sequence = str(hello["source"]), int(hello["sequence"])
        except (ValueError, KeyError, TypeError, RecursionError):
            return False
        previous, self._greeted_by = self._greeted_by, source
        if previous is not None and previous != source:
            # a restarted publisher: it sends every bundle it kept (the follower resumed another id)
            self.last_sequence.setdefault(source, 0)
        elif not self.replay_history:  # resume from here if the link drops before the first bundle
            self.last_sequence.setdefault(source, sequence)
        return True

    # -- application ---------------------------------------------------------------------------
    async def apply(self, bundle: SignalBundle | str | bytes) -> bool:
        """Apply one bundle (or its wire text) once; return True when it changed the account.

        A malformed text, a bundle already handled or one that cannot be applied changes nothing
        (the last two return False; a refused one is logged and recorded in :attr:`refused`).
        """
        if not isinstance(bundle, SignalBundle):
            try:
                bundle = SignalBundle.from_json(bundle)
            except InvalidSignal as exc:
                self._refuse(None, None, str(exc))
                return False
        async with self._lock:
            if bundle.id in self._seen:
                return False
            try:
                await self._apply(bundle)
                applied = True
            except _Refused as exc:
                self._refuse(bundle.id, bundle.operation, str(exc))
                applied = False
            except OctoBotTradingError as exc:
                self._refuse(bundle.id, bundle.operation, f"{type(exc).__name__}: {exc}")
                applied = False
            except Exception as exc:  # never stop following on one bundle's unexpected failure
                self._logger.exception("signal %s failed unexpectedly", bundle.id)
                self._refuse(bundle.id, bundle.operation, f"unexpected {type(exc).__name__}: {exc}")
                applied = False
            self._seen.add(bundle.id)
            previous = self.last_sequence.get(bundle.source, 0)
            self.last_sequence[bundle.source] = max(previous, bundle.sequence)
        async with self._progress:
            self._progress.notify_all()
        return applied

    def _refuse(self, bundle_id: str | None, operation: str | None, reason: str) -> None:
        self._logger.warning("signal %s (%s) refused: %s", bundle_id or "?", operation or "?", reason)
        self.refused.append(RefusedSignal(bundle_id, operation, reason))

    async def _apply(self, bundle: SignalBundle) -> None:
        if bundle.operation == "create":
            await self._create(bundle)
            return
        order = self._orders.get(bundle.ref or "")
        if order is None:
            raise _Refused(f"no order of this follower maps the leader's order {bundle.ref}")
        if bundle.operation == "cancel":
            if not order.is_done:
                await self.trader.cancel_order(order)
            return
        amount = None
        if bundle.amount_ratio is not None:
            market = self.trader.market(order.symbol)
            amount = market.spec.adapt_quantity(order.amount * Decimal(bundle.amount_ratio))
        await self.trader.edit_order(
            order, amount=amount, price=_dec(bundle.price), trigger_price=_dec(bundle.trigger_price)
        )

    async def _create(self, bundle: SignalBundle) -> None:
        entry = bundle.entry
        exits = {o.role: o for o in bundle.orders[1:]}
        if (
            len(exits) != len(bundle.orders) - 1
            or set(exits) - {"stop_loss", "take_profit"}
            or any(o.parent != entry.ref for o in exits.values())
        ):
            raise _Refused("only exits bundled with their entry (a stop-loss and / or a take-profit) can be rebuilt")
        stop, take = exits.get("stop_loss"), exits.get("take_profit")
        if stop is not None and (stop.type != "stop_loss" or stop.trigger_price is None or stop.side == entry.side):
            raise _Refused("a bundled stop-loss is a stop_loss order on the other side with a trigger price")
        if take is not None and (take.type != "limit" or take.price is None or take.side == entry.side):
            raise _Refused("a bundled take-profit is a limit order on the other side with a price")
        market = self.trader.market(entry.symbol)
        spec = market.spec
        parent = None
        if entry.parent is not None:
            parent = self._orders.get(entry.parent)
            if parent is None:
                raise _Refused(f"the parent order {entry.parent} was not rebuilt on this follower")
        price = _dec(entry.price) or _dec(entry.trigger_price) or self._price(entry)
        amount = spec.adapt_quantity(self._size(entry, parent, price))
        if amount <= 0:
            raise _Refused(f"{entry.symbol}: the follower's size rounds to zero at step {spec.amount_step}")
        for order in bundle.orders:
            size = amount if order is entry else spec.adapt_quantity(amount * Decimal(order.fraction))
            reference = _dec(order.price) or _dec(order.trigger_price) or price
            if size <= 0 or not spec.passes_limits(size, reference):
                raise _Refused(
                    f"{order.role} order of {decimal_to_str(size)} {order.symbol} is under the "
                    f"follower market's minimums"
                )
        order = await self.trader.create_order(
            entry.type,
            entry.side,
            entry.symbol,
            amount,
            _dec(entry.price),
            trigger_price=_dec(entry.trigger_price),
            trailing_percent=_dec(entry.trailing_percent),
            trailing_offset=_dec(entry.trailing_offset),
            limit_offset=_dec(entry.limit_offset),
            stop_loss_price=None if stop is None else _dec(stop.trigger_price),
            take_profit_price=None if take is None else _dec(take.price),
            group=self._group(entry),
            chained_to=parent,
            reduce_only=entry.reduce_only,
            price_trigger=None
            if entry.price_trigger is None
            else PriceTrigger(entry.price_trigger.threshold, above=entry.price_trigger.above),
            sub_portfolio=self.sub_portfolio,
        )
        self._orders[entry.ref] = order
        for child in order.chained_orders:
            leader = stop if child.order_type.value == "stop_loss" else take
            if leader is not None:
                self._orders[leader.ref] = child

    def _group(self, order: SignalOrder) -> OrderGroup | None:
        if order.group is None:
            return None
        group = self._groups.get(order.group.name)
        if group is None:
            group = self._groups[order.group.name] = OrderGroup(order.group.kind)
        return group

    def _price(self, order: SignalOrder) -> Decimal | None:
        price_of = getattr(self.trader, "price_of", None)
        price = price_of(order.symbol) if callable(price_of) else None
        return price if price is not None else _dec(order.reference_price)

    def _size(self, entry: SignalOrder, parent: Any, price: Decimal | None) -> Decimal:
        if self.sizing == "absolute":
            return Decimal(entry.amount)
        fraction = Decimal(entry.fraction)
        if parent is not None:
            return parent.amount * fraction
        if fraction <= 0:
            raise _Refused("the leader's share of its holdings is unknown (it held none of the spent currency)")
        symbol = parse_symbol(entry.symbol)
        portfolio = self.trader.portfolio_manager.get_portfolio(self.sub_portfolio)
        if entry.side == OrderSide.BUY.value:
            if not price:
                raise _Refused(f"no price known for {entry.symbol} to size the order")
            return portfolio.total(symbol.quote) * fraction / price
        return min(portfolio.total(symbol.base) * fraction, portfolio.available(symbol.base))

    def known_orders(self) -> Iterable[tuple[str, Any]]:
        """``(leader order id, follower order)`` pairs rebuilt so far."""
        return list(self._orders.items())


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).hostname)
    except ValueError:  # a malformed port or address
        return False


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
