"""The matching engine: resting simulated orders checked against candles (the documented fill rules).

Hot path. ``MatchingEngine.on_candle(symbol, time_ms, open, high, low, close, volume=None)``
takes **floats** (the backtest's candle arrays; Decimals also work, slower). It returns ``None``
at once when the symbol has no resting order or when the candle cannot trigger any of them: each
symbol's book keeps two precomputed float thresholds, the highest price at which something
triggers on the way down (``lo``: highest buy limit, highest sell stop, ...) and the lowest at
which something triggers on the way up (``hi``), so that rejection costs two float comparisons.
Float thresholds are safe filters: rounding to float is monotonic, so a candle whose exact
Decimal extreme reaches a threshold always passes the filter; the exact decision is then taken
in Decimal (candle floats converted through their shortest repr, ``Decimal(repr(x))``).

Otherwise it returns an awaitable that walks the candle's price path (open -> nearer extreme
-> other extreme -> close) and, for each event in path order (ties: older order first), awaits
the fill callback. The callback (the simulated connector) may cancel or resize other orders
before the walk continues: this is how "the path order decides" between two orders of one
group. Orders added during a walk are checked from the next candle on.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from octobot_trading.enums import OrderSide, OrderType, TradeType
from octobot_trading.util.decimals import ZERO, ceil_to_step, decimal_from_data_float, floor_to_step

__all__ = ["FillCallback", "MatchingEngine", "RestingOrder"]

_INF = math.inf
_T = OrderType
_STOP_MARKET = (_T.STOP_LOSS, _T.TAKE_PROFIT)
_STOP_LIMIT = (_T.STOP_LOSS_LIMIT, _T.TAKE_PROFIT_LIMIT)
_TRAILING = (_T.TRAILING_STOP, _T.TRAILING_STOP_LIMIT)
_MARKET_LEVEL = Decimal("Infinity")


class RestingOrder:
    """An order resting in the engine (the simulated exchange's record of it)."""

    __slots__ = (
        "amount",
        "at_market",
        "best",
        "client_order_id",
        "filled",
        "id",
        "limit_offset",
        "order_type",
        "price",
        "seq",
        "side",
        "symbol",
        "tick",
        "trailing_offset",
        "trailing_percent",
        "trigger",
        "triggered",
    )

    def __init__(
        self,
        id: str,
        client_order_id: str | None,
        symbol: str,
        order_type: OrderType,
        side: OrderSide,
        amount: Decimal,
        price: Decimal | None,
        trigger: Decimal | None = None,
        *,
        trailing_percent: Decimal | None = None,
        trailing_offset: Decimal | None = None,
        limit_offset: Decimal | None = None,
        best: Decimal | None = None,
        seq: int = 0,
        tick: Decimal | None = None,
    ) -> None:
        self.id = id
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.order_type = order_type
        self.side = side
        self.amount = amount
        self.filled = ZERO
        self.price = price
        self.trigger = trigger
        self.trailing_percent = trailing_percent
        self.trailing_offset = trailing_offset
        self.limit_offset = limit_offset
        self.best = best
        self.seq = seq
        #: True once a stop-limit / trailing-limit has become a plain limit.
        self.triggered = order_type is _T.LIMIT
        #: True once a triggered stop / take-profit / trailing stop partly filled: the rest is a
        #: market order (fills at the first path point of each following candle).
        self.at_market = False
        #: Price tick a moved trailing stop is rounded to (sell: down, buy: up); None: no rounding.
        self.tick = tick

    @property
    def remaining(self) -> Decimal:
        """Amount still resting."""
        return self.amount - self.filled

    @property
    def acts_as_limit(self) -> bool:
        """True when the order now behaves as a limit order at ``price``."""
        return self.triggered

    def trail_stop(self, best: Decimal) -> Decimal:
        """Stop trailing ``best`` (peak for sells, trough for buys)."""
        distance = best * self.trailing_percent / 100 if self.trailing_percent is not None else self.trailing_offset
        assert distance is not None
        tick = self.tick
        if self.side is OrderSide.SELL:  # rounds down: never sells above the stop the path allows
            return best - distance if tick is None else floor_to_step(best - distance, tick)
        return best + distance if tick is None else ceil_to_step(best + distance, tick)

    def condition(self) -> tuple[bool, Decimal]:
        """``(down, X)``: the order acts when price <= X (``down``) or >= X (not ``down``)."""
        buy = self.side is OrderSide.BUY
        if self.at_market:
            return True, _MARKET_LEVEL  # acts at any price: the first point of the path
        if self.triggered:
            return buy, self.price  # type: ignore[return-value]
        if self.order_type is _T.STOP_LOSS or self.order_type is _T.STOP_LOSS_LIMIT:
            return not buy, self.trigger  # type: ignore[return-value]
        if self.order_type is _T.TAKE_PROFIT or self.order_type is _T.TAKE_PROFIT_LIMIT:
            return buy, self.trigger  # type: ignore[return-value]
        # trailing: a sell stop triggers on the way down, a buy stop on the way up
        return not buy, self.trigger  # type: ignore[return-value]

    def thresholds(self) -> tuple[float, float]:
        """Float filter thresholds ``(lo, hi)`` this order contributes (-inf / +inf when none)."""
        down, level = self.condition()
        lo, hi = (float(level), _INF) if down else (-_INF, float(level))
        if not self.triggered and self.order_type in _TRAILING and self.best is not None:
            # a new extreme beyond the best price seen moves the stop
            if self.side is OrderSide.SELL:
                hi = min(hi, float(self.best))
            else:
                lo = max(lo, float(self.best))
        return lo, hi


FillCallback = Callable[[RestingOrder, Decimal, Decimal, TradeType, int], Awaitable[None]]
"""``await callback(order, amount, price, taker_or_maker, time_ms)`` for each fill."""


class _Book:
    __slots__ = ("hi", "lo", "orders")

    def __init__(self) -> None:
        self.orders: dict[str, RestingOrder] = {}
        self.lo = -_INF
        self.hi = _INF

    def refresh(self) -> None:
        lo, hi = -_INF, _INF
        for order in self.orders.values():
            o_lo, o_hi = order.thresholds()
            if o_lo > lo:
                lo = o_lo
            if o_hi < hi:
                hi = o_hi
        self.lo, self.hi = lo, hi


class MatchingEngine:
    """Resting orders per symbol and the candle walk that fills them.

    Parameters
    ----------
    on_fill:
        Awaited for every fill (see :data:`FillCallback`).
    partial_fill_fraction:
        None (default): fills are complete. Otherwise at most this fraction of the candle's
        volume fills per order and candle (the rest keeps resting), rounded down to ``amount_step``.
    """

    def __init__(
        self,
        on_fill: FillCallback,
        *,
        partial_fill_fraction: Decimal | None = None,
        amount_steps: dict[str, Decimal] | None = None,
    ) -> None:
        self._on_fill = on_fill
        self._books: dict[str, _Book] = {}
        self.last_close: dict[str, float | Decimal] = {}
        self.partial_fill_fraction = partial_fill_fraction
        self.amount_steps = amount_steps if amount_steps is not None else {}
        self._seq = 0
        self._walk_seq = 0
        self._filled_this_candle: set[str] | None = None
        self._volume_cap = ZERO
        #: ``path_guard(symbol, time_ms)``: other events of the walk (the futures venue's isolated
        #: liquidations, ``liquidation_path``), taken in path order with the orders, first on a tie.
        self.path_guard: Callable[[str, int], Any] | None = None

    # -- book maintenance --------------------------------------------------------------------------
    def add(self, order: RestingOrder) -> None:
        """Rest ``order``; it is checked from the next candle on."""
        self._seq += 1
        order.seq = self._seq
        if order.order_type in _TRAILING and order.trigger is None:
            if order.best is None:
                raise ValueError("a trailing order needs a trigger or a best price")
            order.trigger = order.trail_stop(order.best)
        if order.order_type in _TRAILING and order.best is None:
            order.best = order.trigger
        book = self._books.get(order.symbol)
        if book is None:
            book = self._books[order.symbol] = _Book()
        book.orders[order.id] = order
        book.refresh()

    def remove(self, order_id: str, symbol: str) -> RestingOrder | None:
        """Take an order out of the book; None when it is not resting."""
        book = self._books.get(symbol)
        if book is None:
            return None
        order = book.orders.pop(order_id, None)
        if not book.orders:
            del self._books[symbol]
        elif order is not None:
            book.refresh()
        return order

    def get(self, order_id: str, symbol: str) -> RestingOrder | None:
        """The resting order with this id, or None."""
        book = self._books.get(symbol)
        return None if book is None else book.orders.get(order_id)

    def resize(
        self,
        order: RestingOrder,
        amount: Decimal | None = None,
        price: Decimal | None = None,
        trigger: Decimal | None = None,
    ) -> None:
        """Change a resting order's amount, limit price and/or trigger (edit_order).

        ``price`` is the limit price; a stop / take-profit without a limit has none, so there it is
        the trigger (as in ``Trader.edit_order``).
        """
        if amount is not None:
            order.amount = amount
        if price is not None:
            if order.order_type in _STOP_MARKET:
                order.trigger = price
            else:
                order.price = price
        if trigger is not None:
            order.trigger = trigger
        book = self._books.get(order.symbol)
        if book is not None:
            book.refresh()

    def orders(self, symbol: str | None = None) -> list[RestingOrder]:
        """Resting orders, optionally of one symbol."""
        books = self._books.values() if symbol is None else [b for s, b in self._books.items() if s == symbol]
        return [o for book in books for o in book.orders.values()]

    def thresholds(self, symbol: str) -> tuple[float, float]:
        """``(lo, hi)`` filter thresholds of ``symbol`` (no book: ``(-inf, inf)``)."""
        book = self._books.get(symbol)
        return (-_INF, _INF) if book is None else (book.lo, book.hi)

    # -- the hot path ---------------------------------------------------------------------------------
    def on_candle(
        self,
        symbol: str,
        time_ms: int,
        open: float,
        high: float,
        low: float,
        close: float,
        volume: float | None = None,
        *,
        max_seq: int | None = None,
    ) -> Awaitable[None] | None:
        """Check ``symbol``'s resting orders against one candle.

        Returns None when nothing can trigger (the common case), else an awaitable to await
        before publishing the candle. While that walk runs, :attr:`last_close` holds the path
        point reached (orders created by fill callbacks never see a later price); after it, the
        candle's close. ``max_seq`` leaves out the orders added after the one of that sequence
        number (paper trading: orders placed after the candle opened).
        """
        self.last_close[symbol] = close
        book = self._books.get(symbol)
        if book is None or (low > book.lo and high < book.hi):
            return None
        return self._walk(symbol, book, time_ms, open, high, low, close, volume, max_seq)

    def replay_parts(self) -> tuple[dict[str, float | Decimal], dict[str, _Book], Callable[..., Awaitable[None]]]:
        """``(last_close, books, walk)``: :meth:`on_candle` taken apart for a replay loop.

        Per candle, ``last_close[symbol] = close``, ``book = books.get(symbol)`` and, when
        ``book`` is not None and not ``low > book.lo and high < book.hi``, ``await walk(symbol,
        book, time_ms, open, high, low, close, volume, None)`` has exactly the effects of
        ``on_candle(...)`` and awaiting what it returns (the backtest driver: one call less per
        candle). The two dicts are this engine's own for its whole life.
        """
        return self.last_close, self._books, self._walk

    # -- the walk -------------------------------------------------------------------------------------------
    async def _walk(
        self,
        symbol: str,
        book: _Book,
        time_ms: int,
        open_: float,
        high_: float,
        low_: float,
        close_: float,
        volume: float | None,
        max_seq: int | None = None,
    ) -> None:
        o, h, lo, c = (
            v if isinstance(v, Decimal) else decimal_from_data_float(v) for v in (open_, high_, low_, close_)
        )
        path = (o, lo, h, c) if o - lo <= h - o else (o, h, lo, c)
        self._walk_seq = self._seq if max_seq is None else min(self._seq, max_seq)
        self._filled_this_candle = None
        if self.partial_fill_fraction is not None and volume is not None:
            self._filled_this_candle = set()
            vol = volume if isinstance(volume, Decimal) else decimal_from_data_float(volume)
            self._volume_cap = vol * self.partial_fill_fraction
        last_close = self.last_close
        last_close[symbol] = o  # while walking, the last price is the path point reached
        guard = None if self.path_guard is None else self.path_guard(symbol, time_ms)
        self._move_trailing(book, o)
        for index in range(3):
            start, end = path[index], path[index + 1]
            position = ZERO
            while True:
                event = self._next_event(book, start, end, position)
                if guard is not None:
                    at = guard.next_at(start, end, position)
                    if at is not None and (event is None or at <= event[1]):
                        position = at
                        last_close[symbol] = point = start - at if end < start else start + at
                        if await guard.fire(point, time_ms):
                            continue
                        guard = None  # (nothing liquidated there: never ask again this walk)
                if event is None:
                    break
                order, position, price = event
                point = start - position if end < start else start + position
                last_close[symbol] = point
                await self._act(book, order, point if order.at_market else price, time_ms)
            self._move_trailing(book, end)
        last_close[symbol] = close_
        self._filled_this_candle = None
        if self._books.get(symbol) is book:
            if book.orders:
                book.refresh()
            else:
                del self._books[symbol]

    @staticmethod
    def _move_trailing(book: _Book, price: Decimal) -> None:
        for order in book.orders.values():
            if order.triggered or order.at_market or order.order_type not in _TRAILING or order.best is None:
                continue
            if (order.side is OrderSide.SELL and price > order.best) or (
                order.side is OrderSide.BUY and price < order.best
            ):
                order.best = price
                stop = order.trail_stop(price)
                if order.trigger is None or (
                    stop > order.trigger if order.side is OrderSide.SELL else stop < order.trigger
                ):
                    order.trigger = stop

    def _next_event(
        self, book: _Book, start: Decimal, end: Decimal, position: Decimal
    ) -> tuple[RestingOrder, Decimal, Decimal] | None:
        best: tuple[Decimal, int, RestingOrder] | None = None
        descending = end < start
        for order in book.orders.values():
            if self._skipped(order):
                continue
            down, level = order.condition()
            if down:  # acts when price <= level
                if descending:
                    if level < end:
                        continue
                    at = max(start - level, ZERO)
                else:
                    if start + position > level:
                        continue
                    at = ZERO
            else:  # acts when price >= level
                if not descending:
                    if level > end:
                        continue
                    at = max(level - start, ZERO)
                else:
                    if start - position < level:
                        continue
                    at = ZERO
            at = max(at, position)
            key = (at, order.seq, order)
            if best is None or key[:2] < best[:2]:
                best = key
        if best is None:
            return None
        at, _, order = best
        return order, at, order.condition()[1]

    def _skipped(self, order: RestingOrder) -> bool:
        if order.seq > self._walk_seq:  # added during this walk: checked from the next candle
            return True
        done = self._filled_this_candle
        return done is not None and order.id in done

    async def _act(self, book: _Book, order: RestingOrder, level: Decimal, time_ms: int) -> None:
        if not order.triggered and order.order_type in _STOP_LIMIT:
            order.triggered = True  # becomes a limit at its limit price; may fill later on the path
            return
        if not order.triggered and order.order_type is _T.TRAILING_STOP_LIMIT:
            order.triggered = True
            offset = order.limit_offset or ZERO
            order.price = level - offset if order.side is OrderSide.SELL else level + offset
            return
        role = TradeType.MAKER if order.triggered and not order.at_market else TradeType.TAKER
        price = order.price if order.triggered and not order.at_market else level
        assert price is not None
        amount = order.remaining
        done = self._filled_this_candle
        if done is not None:
            done.add(order.id)  # at most one (partial) fill per order and candle
            step = self.amount_steps.get(order.symbol)
            cap = floor_to_step(self._volume_cap, step) if step else self._volume_cap
            amount = min(amount, cap)
            if not order.triggered:
                order.at_market = True  # a triggered stop stays triggered: its rest fills at market
            if amount <= 0:
                return
        order.filled += amount
        if order.remaining <= 0:
            book.orders.pop(order.id, None)
        await self._on_fill(order, amount, price, role, time_ms)
