"""The live order book of one symbol: a snapshot kept current by sequenced deltas.

Levels live in two ``sortedcontainers.SortedDict`` (bids keyed by negated price so that the
best level is first on both sides). :meth:`OrderBookManager.apply_snapshot` replaces the book
and sets its sequence number; :meth:`OrderBookManager.apply_deltas` applies one update covering
sequence numbers ``first_seq..last_seq``:

* ``last_seq <= seq`` — already applied (a re-delivery): ignored;
* ``first_seq > seq + 1`` — a gap: updates were lost, the book is marked **invalid** (best
  prices return None) and ``needs_snapshot`` is True until a fresh snapshot is applied;
* otherwise the levels are applied (amount 0 removes a level) and ``seq = last_seq``.

The book is never crossed: a level on one side removes the opposite levels it crosses (the
newest information wins), so ``best_bid < best_ask`` always holds. A malformed snapshot or delta
(negative amount or non-positive price, crossed snapshot) raises ``BadExchangeResponse`` and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from sortedcontainers import SortedDict

from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchanges.types import OrderBook

__all__ = ["OrderBookManager"]

Level = tuple[Decimal, Decimal]
_ZERO = Decimal(0)


class OrderBookManager:
    """The order book of ``symbol`` (see the module docstring)."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._bids: SortedDict = SortedDict()  # -price -> amount
        self._asks: SortedDict = SortedDict()  # price -> amount
        self.seq: int | None = None
        self.timestamp: int | None = None
        self.valid = False
        self.needs_snapshot = True
        self.gaps = 0
        #: called with the symbol when the book becomes invalid and needs a fresh snapshot
        self.on_snapshot_needed: Callable[[str], None] | None = None

    # -- validation -------------------------------------------------------------------------
    def _check(self, levels: Iterable[Level], side: str, allow_zero: bool) -> list[Level]:
        checked = []
        for level in levels:
            try:
                price, amount = level
            except (TypeError, ValueError):
                raise BadExchangeResponse(
                    f"{side} level {level!r} is not a (price, amount) pair", symbol=self.symbol
                ) from None
            if not isinstance(price, Decimal) or not isinstance(amount, Decimal):
                raise BadExchangeResponse(f"{side} level {level!r} must hold Decimals", symbol=self.symbol)
            if (
                not price.is_finite()
                or price <= 0
                or not amount.is_finite()
                or amount < 0
                or (amount == 0 and not allow_zero)
            ):
                raise BadExchangeResponse(f"invalid {side} level {level!r}", symbol=self.symbol)
            checked.append((price, amount))
        return checked

    # -- updates ----------------------------------------------------------------------------
    def apply_snapshot(
        self, bids: Sequence[Level], asks: Sequence[Level], *, seq: int | None = None, timestamp: int | None = None
    ) -> None:
        """Replace the whole book; the book becomes valid."""
        new_bids = self._check(bids, "bid", allow_zero=False)
        new_asks = self._check(asks, "ask", allow_zero=False)
        if new_bids and new_asks and max(p for p, _ in new_bids) >= min(p for p, _ in new_asks):
            raise BadExchangeResponse("order-book snapshot is crossed (best bid >= best ask)", symbol=self.symbol)
        self._bids = SortedDict({-p: a for p, a in new_bids})
        self._asks = SortedDict(dict(new_asks))
        self.seq = seq
        self.timestamp = timestamp
        self.valid = True
        self.needs_snapshot = False

    def apply_order_book(self, book: OrderBook) -> None:
        """Replace the book with a typed :class:`OrderBook` snapshot."""
        self.apply_snapshot(book.bids, book.asks, seq=book.nonce, timestamp=book.timestamp)

    def apply_deltas(
        self,
        bids: Sequence[Level],
        asks: Sequence[Level],
        *,
        first_seq: int | None = None,
        last_seq: int | None = None,
        timestamp: int | None = None,
    ) -> bool:
        """Apply one sequenced update; return False when it was not applied (gap, stale, invalid).

        ``first_seq`` / ``last_seq`` are the update's sequence range (Binance ``U`` / ``u``);
        leave them None for unsequenced feeds.
        """
        if not self.valid:
            return False
        if last_seq is not None and self.seq is not None:
            if last_seq <= self.seq:
                return False
            if first_seq is not None and first_seq > self.seq + 1:
                self.invalidate()
                self.gaps += 1
                return False
        new_bids = self._check(bids, "bid", allow_zero=True)
        new_asks = self._check(asks, "ask", allow_zero=True)
        book_bids, book_asks = self._bids, self._asks
        for price, amount in new_bids:
            if amount:
                book_bids[-price] = amount
                while book_asks and book_asks.peekitem(0)[0] <= price:
                    book_asks.popitem(0)
            else:
                book_bids.pop(-price, None)
        for price, amount in new_asks:
            if amount:
                book_asks[price] = amount
                while book_bids and -book_bids.peekitem(0)[0] >= price:
                    book_bids.popitem(0)
            else:
                book_asks.pop(price, None)
        if last_seq is not None:
            self.seq = last_seq
        if timestamp is not None:
            self.timestamp = timestamp
        return True

    def invalidate(self) -> None:
        """Mark the book unusable until the next snapshot."""
        self.valid = False
        self.needs_snapshot = True
        if self.on_snapshot_needed is not None:
            self.on_snapshot_needed(self.symbol)

    # -- reading ----------------------------------------------------------------------------
    def best_bid(self) -> Level | None:
        """Highest bid as ``(price, amount)``, or None (empty or invalid book)."""
        if not self.valid or not self._bids:
            return None
        neg, amount = self._bids.peekitem(0)
        return -neg, amount

    def best_ask(self) -> Level | None:
        """Lowest ask as ``(price, amount)``, or None (empty or invalid book)."""
        if not self.valid or not self._asks:
            return None
        price, amount = self._asks.peekitem(0)
        return price, amount

    def spread(self) -> Decimal | None:
        """``best_ask - best_bid``, or None when a side is missing."""
        bid, ask = self.best_bid(), self.best_ask()
        return None if bid is None or ask is None else ask[0] - bid[0]

    def mid_price(self) -> Decimal | None:
        """Average of best bid and best ask, or None when a side is missing."""
        bid, ask = self.best_bid(), self.best_ask()
        return None if bid is None or ask is None else (bid[0] + ask[0]) / 2

    def bids(self, limit: int | None = None) -> list[Level]:
        """Bid levels, best first (empty when invalid)."""
        if not self.valid:
            return []
        items = self._bids.items()[:limit] if limit is not None else self._bids.items()
        return [(-p, a) for p, a in items]

    def asks(self, limit: int | None = None) -> list[Level]:
        """Ask levels, best first (empty when invalid)."""
        if not self.valid:
            return []
        items = self._asks.items()[:limit] if limit is not None else self._asks.items()
        return list(items)

    def snapshot(self, limit: int | None = None) -> OrderBook:
        """The current book as a typed :class:`OrderBook` (top ``limit`` levels per side)."""
        return OrderBook(self.symbol, self.timestamp, self.bids(limit), self.asks(limit), self.seq)

    def __repr__(self) -> str:
        state = "valid" if self.valid else "invalid"
        return (
            f"OrderBookManager({self.symbol}, {state}, seq={self.seq}, {len(self._bids)} bids, {len(self._asks)} asks)"
        )
