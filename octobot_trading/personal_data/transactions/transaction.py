"""Account transactions (fees, realised PnL, deposits, withdrawals, transfers) with unique ids.

Trading fees are not stored twice: when the manager is given the account's trades, it derives
one ``TRADING_FEE`` transaction per fill (id ``fee:<trade id>``, negative amount) when read, so
the fill path does not pay for them (values are computed when read, never per fill).

Realised PnL is derived the same way, per sell fill (id ``pnl:<trade id>``, in the quote
currency): the amount sold is matched first-in first-out against the amounts bought through the
account's fills (net of fees taken in the base currency), and the PnL is ``(sell price - buy
price) x matched amount`` summed over the matched lots — exact (no division), gross of fees
(fees are their own transactions). Amounts sold beyond what the recorded buys cover (holdings
from before) have no known cost and are left out. Fills of contracts (``BASE/QUOTE:SETTLE``)
are not matched this way: a sell of a contract opens or reduces a position, whose PnL the futures
accounting records itself (docs/futures.md). In paper trading and backtests the simulated venue's
own ledger (:attr:`TransactionsManager.ledger`) adds its funding (``FUNDING_FEE``), liquidations
(``LIQUIDATION``, ``-margin lost``) and contract realized PnL (``REALISED_PNL``, ``pnl:<fill id>``)
when the transactions are read, as a live venue's reads record them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.enums import OrderSide, TransactionType
from octobot_trading.util.records import fast_frozen_init

if TYPE_CHECKING:
    from octobot_trading.personal_data.trades.trade import TradesManager

__all__ = ["Transaction", "TransactionsManager"]


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Transaction:
    """One account movement; ``amount`` is signed (negative for what leaves the account)."""

    id: str
    type: TransactionType
    currency: str
    amount: Decimal
    timestamp: int
    symbol: str | None = None
    order_id: str | None = None
    trade_id: str | None = None
    source: str | None = None
    destination: str | None = None


class TransactionsManager:
    """Keeps transactions in order; a transaction id is recorded only once.

    Parameters
    ----------
    trades:
        The account's trades; their fees appear as ``TRADING_FEE`` transactions.
    """

    def __init__(self, trades: TradesManager | None = None) -> None:
        self._by_id: dict[str, Transaction] = {}
        self._trades = trades
        #: ``ledger()``: a simulated venue's own transactions (paper trading and backtests: its
        #: futures account's funding, liquidations and contract realized PnL), read when the
        #: transactions are read (nothing per fill); trading fees come from the trades instead
        self.ledger: Callable[[], Iterable[Transaction]] | None = None

    def _venue(self) -> Iterator[Transaction]:
        if self.ledger is None:
            return
        for transaction in self.ledger():
            if transaction.type is TransactionType.TRADING_FEE or transaction.id in self._by_id:
                continue
            if transaction.id.startswith("liquidation:"):  # a liquidation, as a live venue reports it
                transaction = replace(transaction, type=TransactionType.LIQUIDATION)
            yield transaction

    def _fees(self) -> Iterator[Transaction]:
        if self._trades is None:
            return
        for trade in self._trades:
            if trade.fee and trade.fee_currency:
                yield Transaction(
                    f"fee:{trade.id}",
                    TransactionType.TRADING_FEE,
                    trade.fee_currency,
                    -trade.fee,
                    trade.timestamp,
                    symbol=trade.symbol,
                    order_id=trade.order_id,
                    trade_id=trade.id,
                )

    def _realised(self) -> Iterator[Transaction]:
        if self._trades is None:
            return
        lots: dict[str, deque[list[Decimal]]] = {}
        for trade in self._trades:
            if ":" in trade.symbol:
                continue  # a contract: positions, not holdings (see the module docstring)
            base, quote = trade.symbol.split(":")[0].split("/")
            queue = lots.setdefault(trade.symbol, deque())
            if trade.side is OrderSide.BUY:
                net = trade.amount - (trade.fee if trade.fee_currency == base else Decimal(0))
                if net > 0:
                    queue.append([net, trade.price])
                continue
            left, pnl, matched = trade.amount, Decimal(0), False
            while left > 0 and queue:
                lot = queue[0]
                take = min(left, lot[0])
                pnl += (trade.price - lot[1]) * take
                matched = True
                left -= take
                lot[0] -= take
                if lot[0] == 0:
                    queue.popleft()
            if matched:
                yield Transaction(
                    f"pnl:{trade.id}",
                    TransactionType.REALISED_PNL,
                    quote,
                    pnl,
                    trade.timestamp,
                    symbol=trade.symbol,
                    order_id=trade.order_id,
                    trade_id=trade.id,
                )

    def has(self, transaction_id: str) -> bool:
        """True when a transaction with this id is recorded (or derived from a fill)."""
        if transaction_id in self._by_id:
            return True
        if self._trades is None and self.ledger is None:  # nothing derived (a futures account's own ledger)
            return False
        if self._trades is not None and transaction_id.startswith("fee:"):
            trade = self._trades.get(transaction_id[4:])
            return trade is not None and bool(trade.fee)
        if self._trades is not None and transaction_id.startswith("pnl:"):
            if any(t.id == transaction_id for t in self._realised()):
                return True
        return any(t.id == transaction_id for t in self._venue())

    def record(self, transaction: Transaction) -> bool:
        """Record ``transaction``; return False (and ignore it) when its id is already known."""
        if self.has(transaction.id):
            return False
        self._by_id[transaction.id] = transaction
        return True

    def recorded(self) -> list[Transaction]:
        """Transactions recorded with :meth:`record` (not those derived from fills), in recording order."""
        return list(self._by_id.values())

    def transactions(self, kind: TransactionType | None = None, currency: str | None = None) -> list[Transaction]:
        """Transactions, optionally of one type and/or currency, oldest first (stable for equal times)."""
        every = [*self._by_id.values(), *self._fees(), *self._realised(), *self._venue()]
        every.sort(key=lambda t: t.timestamp)
        return [t for t in every if (kind is None or t.type is kind) and (currency is None or t.currency == currency)]

    def total(self, kind: TransactionType, currency: str) -> Decimal:
        """Sum of the amounts of ``kind`` in ``currency``."""
        return sum((t.amount for t in self.transactions(kind, currency)), Decimal(0))

    def __len__(self) -> int:
        derived = sum(1 for _ in self._fees()) + sum(1 for _ in self._realised()) + sum(1 for _ in self._venue())
        return len(self._by_id) + derived
