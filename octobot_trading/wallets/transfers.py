"""Transfers between a blockchain wallet and an exchange account, and the account's transfer ledger.

:class:`AccountTransfers` moves funds both ways:

* :meth:`AccountTransfers.deposit`: the wallet sends to the exchange's deposit address (a
  withdrawal from the wallet: the wallet must allow withdrawals);
* :meth:`AccountTransfers.withdraw`: the exchange sends to the wallet's deposit address (the
  exchange configuration must allow withdrawals);

and :meth:`AccountTransfers.sync` reads the exchange's deposits and withdrawals into a ledger
deduplicated by transaction id: a transaction is reported once when first seen and again only
when its status changes, and recorded once (when settled) as a ``DEPOSIT`` / ``WITHDRAWAL``
transaction of the manager's ``transactions_manager`` (id ``deposit:<id>`` / ``withdrawal:<id>``).
Given a ``portfolio`` (accounts whose balances are not read back from the venue, e.g. paper
trading), settled transfers are also applied to it, exactly once. On a simulated manager (paper
trading or a backtest, ``manager.is_simulated``) that portfolio defaults to the manager's own, so
the account the trader sizes orders from stays in step with the simulated venue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from octobot_trading.enums import TransactionType
from octobot_trading.errors import NotSupported
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.rest_exchange import RestExchange
from octobot_trading.exchanges.types import ExchangeTransaction, TransferStatus
from octobot_trading.util.decimals import to_decimal
from octobot_trading.util.logging import get_logger
from octobot_trading.wallets.wallet import BlockchainWallet, ChainTransaction

__all__ = ["AccountTransfers"]

_METHODS = ("fetch_deposits", "fetch_withdrawals", "fetch_deposit_address", "withdraw")
_MANAGER_PORTFOLIO: Any = object()  # default of ``portfolio``: the manager's own when simulated


def _default_portfolio(exchange: Any) -> Any:
    """The portfolio of a simulated manager (its balances live locally, not read from the venue)."""
    if getattr(exchange, "is_simulated", False) is not True or not isinstance(
        getattr(exchange, "exchange", None), RestExchange
    ):
        return None
    manager = getattr(getattr(exchange, "exchange_personal_data", None), "portfolio_manager", None)
    return getattr(manager, "portfolio", None)


def _implements(candidate: Any) -> bool:
    """True when ``candidate`` offers the transfer calls (not only the contract's NotSupported defaults)."""
    if candidate is None:
        return False
    for name in _METHODS:
        method = getattr(type(candidate), name, None)
        if not callable(method) or method is getattr(ExchangeConnector, name):
            return False
    return True


def _venue_of(exchange: Any) -> Any:
    """The object answering the transfer calls: a manager's exchange class (``manager.exchange``,
    whose ``fix_transaction`` hook repairs what its connector returns), else ``exchange`` itself
    (a ``RestExchange`` or a connector); never a manager's raw connector."""
    inner = getattr(exchange, "exchange", None)
    if isinstance(inner, RestExchange):
        return inner
    if _implements(exchange):
        return exchange
    raise NotSupported("this exchange offers no deposits / withdrawals")


class AccountTransfers:
    """Transfers between ``wallet`` and an exchange account.

    Parameters
    ----------
    exchange:
        An ``ExchangeManager`` (its ``exchange`` is used), a ``RestExchange`` or a connector
        offering the transfer calls.
    wallet:
        The blockchain wallet on the other side.
    transactions:
        Where settled transfers are recorded (default: the manager's ``transactions_manager``).
    portfolio:
        Local portfolio to apply settled transfers to (see the module docstring). By default the
        manager's own portfolio when ``exchange`` is a simulated manager (paper trading,
        backtests), else none; ``None`` applies them to no portfolio.
    """

    def __init__(
        self, exchange: Any, wallet: BlockchainWallet, *, transactions: Any = None, portfolio: Any = _MANAGER_PORTFOLIO
    ) -> None:
        self.venue = _venue_of(exchange)
        self.wallet = wallet
        personal = getattr(exchange, "exchange_personal_data", None)
        self.transactions = (
            transactions if transactions is not None else getattr(personal, "transactions_manager", None)
        )
        self.portfolio = _default_portfolio(exchange) if portfolio is _MANAGER_PORTFOLIO else portfolio
        #: every transaction seen, by ``(kind, id)``, as last reported
        self.ledger: dict[tuple[str, str], ExchangeTransaction] = {}
        self._applied: set[tuple[str, str]] = set()
        self._logger = get_logger("wallets.transfers")

    async def deposit(self, currency: str, amount: Decimal | int | str) -> ChainTransaction:
        """Send ``amount`` of ``currency`` from the wallet to the exchange account."""
        value = to_decimal(amount, name="amount")
        address = await self.venue.fetch_deposit_address(currency)
        return await self.wallet.withdraw(currency, value, address.address, tag=address.tag)

    async def withdraw(self, currency: str, amount: Decimal | int | str) -> ExchangeTransaction:
        """Send ``amount`` of ``currency`` from the exchange account to the wallet."""
        value = to_decimal(amount, name="amount")
        address = await self.wallet.deposit_address(currency)
        transaction = await self.venue.withdraw(currency, value, address)
        self._logger.info("withdrawal %s of %s %s requested", transaction.id, value, currency)
        return transaction

    async def sync(self, currency: str | None = None, since: int | None = None) -> list[ExchangeTransaction]:
        """Read deposits and withdrawals; return those new or whose status changed (oldest first)."""
        fetched = [
            *await self.venue.fetch_deposits(currency, since),
            *await self.venue.fetch_withdrawals(currency, since),
        ]
        changed = []
        for transaction in sorted(fetched, key=lambda t: (t.timestamp or 0, t.id)):
            key = (transaction.kind, transaction.id)
            known = self.ledger.get(key)
            if known is not None and known.status is transaction.status:
                continue
            self.ledger[key] = transaction
            changed.append(transaction)
            if transaction.status is TransferStatus.OK:
                self._settle(transaction)
        return changed

    def _settle(self, transaction: ExchangeTransaction) -> None:
        key = (transaction.kind, transaction.id)
        if key in self._applied:
            return
        self._applied.add(key)
        deposit = transaction.kind == "deposit"
        signed = transaction.amount if deposit else -transaction.amount
        if self.transactions is not None:
            from octobot_trading.personal_data.transactions.transaction import Transaction

            self.transactions.record(
                Transaction(
                    id=f"{transaction.kind}:{transaction.id}",
                    type=TransactionType.DEPOSIT if deposit else TransactionType.WITHDRAWAL,
                    currency=transaction.currency,
                    amount=signed,
                    timestamp=transaction.timestamp or 0,
                    source=None if deposit else "exchange",
                    destination=transaction.address,
                )
            )
        if self.portfolio is not None:
            self.portfolio.apply_deltas([(transaction.currency, signed, signed)])

    def settled(self, kind: str | None = None) -> list[ExchangeTransaction]:
        """Settled transactions of the ledger (of ``kind`` when given), oldest first."""
        return [t for t in self.ledger.values() if t.status is TransferStatus.OK and (kind is None or t.kind == kind)]
