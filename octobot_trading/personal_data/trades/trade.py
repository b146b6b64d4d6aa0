"""Fill records (immutable) and the manager that deduplicates them by exchange trade id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import OrderSide, OrderType, TradeType
from octobot_trading.util.contract_spec import contract_kind
from octobot_trading.util.decimals import divide_to_step
from octobot_trading.util.records import fast_frozen_init

__all__ = ["Trade", "TradesManager"]

#: An inverse contract fill's notional is rounded to a multiple of this (the futures accounting step).
_NOTIONAL_STEP = Decimal("1e-18")


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Trade:
    """One fill of one of the account's orders; ``id`` is the exchange's trade id."""

    id: str
    order_id: str
    exchange_order_id: str | None
    symbol: str
    side: OrderSide
    order_type: OrderType
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str | None
    timestamp: int
    taker_or_maker: TradeType | None = None
    sub_portfolio: str | None = None
    #: Contract fills: gross PnL realized by the part of a position closed (None: spot, or not reported).
    realized_pnl: Decimal | None = None
    #: Contract fills: the contract size of the symbol (None: spot, or not known).
    contract_size: Decimal | None = None

    @property
    def cost(self) -> Decimal:
        """``price x amount`` in quote currency; a contract fill's notional in its settle currency:
        ``amount x contract_size x price`` (linear), ``amount x contract_size / price`` (inverse,
        rounded once to a multiple of 1e-18), as the notional of docs/futures.md."""
        size = self.contract_size
        if size is None:
            return self.price * self.amount
        if contract_kind(self.symbol) == "inverse":
            return divide_to_step(self.amount * size, self.price, _NOTIONAL_STEP)
        return self.amount * size * self.price


class TradesManager:
    """Holds the account's fills in arrival order; a trade id is recorded only once."""

    def __init__(self) -> None:
        self._by_id: dict[str, Trade] = {}
        self._superseded: set[str] = set()

    def has(self, trade_id: str) -> bool:
        """True when a fill with this exchange trade id was already applied (or superseded)."""
        return trade_id in self._by_id or trade_id in self._superseded

    def supersede(self, trade_id: str, replacement: Trade | None = None) -> None:
        """Replace the record ``trade_id`` (a fill inferred from an order's filled amount).

        With ``replacement`` None the record is dropped; either way the id stays known to
        :meth:`has`, so a repeat of the report that produced it is never applied again.
        """
        if replacement is None:
            self._by_id.pop(trade_id, None)
            self._superseded.add(trade_id)
        else:
            self._by_id[trade_id] = replacement

    def add(self, trade: Trade) -> bool:
        """Record ``trade``; return False (and ignore it) when its id is already known."""
        if trade.id in self._by_id:
            return False
        self._by_id[trade.id] = trade
        return True

    def get(self, trade_id: str) -> Trade | None:
        """Return the trade with this id, or None."""
        return self._by_id.get(trade_id)

    def trades(self, symbol: str | None = None) -> list[Trade]:
        """All trades (optionally of one symbol), oldest first."""
        return [t for t in self._by_id.values() if symbol is None or t.symbol == symbol]

    def for_order(self, order_id: str) -> list[Trade]:
        """Fills of the order with internal id ``order_id``."""
        return [t for t in self._by_id.values() if t.order_id == order_id]

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Trade]:
        return iter(list(self._by_id.values()))
