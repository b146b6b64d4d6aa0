"""Account transactions (fees, realised PnL, deposits, withdrawals, transfers) with unique ids."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import TransactionType

__all__ = ["Transaction", "TransactionsManager"]


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
    """Keeps transactions in order; a transaction id is recorded only once."""

    def __init__(self) -> None:
        self._by_id: dict[str, Transaction] = {}

    def has(self, transaction_id: str) -> bool:
        """True when a transaction with this id is recorded."""
        return transaction_id in self._by_id

    def record(self, transaction: Transaction) -> bool:
        """Record ``transaction``; return False (and ignore it) when its id is already known."""
        if transaction.id in self._by_id:
            return False
        self._by_id[transaction.id] = transaction
        return True

    def transactions(self, kind: TransactionType | None = None, currency: str | None = None) -> list[Transaction]:
        """Recorded transactions, optionally of one type and/or currency, oldest first."""
        return [
            t for t in self._by_id.values()
            if (kind is None or t.type is kind) and (currency is None or t.currency == currency)
        ]

    def total(self, kind: TransactionType, currency: str) -> Decimal:
        """Sum of the amounts of ``kind`` in ``currency``."""
        return sum((t.amount for t in self.transactions(kind, currency)), Decimal(0))

    def __len__(self) -> int:
        return len(self._by_id)
