"""A simulated chain and wallet, for tests and backtests (no network, exact Decimal ledger).

:class:`SimulatedChain` keeps balances per address and currency. A transfer debits its sender
at once (amount, fee included) and credits ``amount - fee`` to its destination when it is
confirmed: at once with ``auto_confirm=True`` (default), else at :meth:`SimulatedChain.confirm`.
Watchers registered with :meth:`SimulatedChain.watch` are told each confirmed transfer reaching
an address (e.g. an exchange crediting a deposit); :meth:`SimulatedChain.receive` brings funds
from outside the chain's addresses (e.g. an exchange's hot wallet paying a withdrawal).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Mapping
from decimal import Decimal

from pydantic import SecretStr

from octobot_trading.clock import Clock
from octobot_trading.errors import InsufficientFunds, WalletError
from octobot_trading.exchanges.types import TransferStatus
from octobot_trading.util.decimals import ZERO, decimal_to_str, to_decimal
from octobot_trading.util.logging import register_secret
from octobot_trading.wallets.wallet import BlockchainWallet, ChainTransaction

__all__ = ["SimulatedBlockchainWallet", "SimulatedChain"]

Watcher = Callable[[ChainTransaction], object]


class SimulatedChain:
    """An in-memory chain: balances by address, transfers by txid.

    Parameters
    ----------
    clock:
        Time of the transfers.
    network:
        The chain's name.
    fees:
        Network fee per currency, paid by the sender out of the amount sent (default none).
    auto_confirm:
        True: transfers confirm when sent; False: they stay pending until :meth:`confirm`.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        network: str = "SIM",
        fees: Mapping[str, Decimal | int | str] | None = None,
        auto_confirm: bool = True,
    ) -> None:
        self.clock = clock
        self.network = network
        self.fees = {currency: to_decimal(fee, name=f"fee of {currency}") for currency, fee in (fees or {}).items()}
        self.auto_confirm = auto_confirm
        self._balances: dict[str, dict[str, Decimal]] = {}
        self._transactions: dict[str, ChainTransaction] = {}
        self._watchers: dict[str, list[Watcher]] = {}
        self._ids = itertools.count(1)

    def new_address(self, label: str = "wallet") -> str:
        """Return a fresh address."""
        number = next(self._ids)
        return f"{self.network.lower()}-{hashlib.sha256(f'{label}/{number}'.encode()).hexdigest()[:32]}"

    def balance(self, address: str, currency: str) -> Decimal:
        """Confirmed balance of ``currency`` at ``address``."""
        return self._balances.get(address, {}).get(currency, ZERO)

    def _credit(self, address: str, currency: str, amount: Decimal) -> None:
        book = self._balances.setdefault(address, {})
        book[currency] = book.get(currency, ZERO) + amount

    def watch(self, address: str, watcher: Watcher) -> None:
        """Call ``watcher(transaction)`` for each confirmed transfer reaching ``address``."""
        self._watchers.setdefault(address, []).append(watcher)

    def receive(
        self, address: str, currency: str, amount: Decimal | int | str, *, txid: str | None = None
    ) -> ChainTransaction:
        """Bring ``amount`` to ``address`` from outside the chain's addresses (funding, exchange payouts).

        A known ``txid`` changes nothing (returns the first transfer).
        """
        if txid is not None and txid in self._transactions:
            return self._transactions[txid]
        value = to_decimal(amount, name="amount")
        if value <= 0:
            raise WalletError(f"a transfer amount must be positive, got {decimal_to_str(value)}")
        transaction = ChainTransaction(
            txid or self._txid(), currency, value, ZERO, None, address, TransferStatus.PENDING, self.clock.now_ms()
        )
        self._transactions[transaction.txid] = transaction
        if self.auto_confirm:
            self._confirm(transaction)
        return self._transactions[transaction.txid]

    def send(self, from_address: str, to_address: str, currency: str, amount: Decimal) -> ChainTransaction:
        """Debit ``amount`` from ``from_address`` now; ``amount - fee`` reaches ``to_address`` on confirmation."""
        fee = self.fees.get(currency, ZERO)
        if amount <= fee:
            raise WalletError(
                f"{decimal_to_str(amount)} {currency} does not cover the network fee {decimal_to_str(fee)}"
            )
        if self.balance(from_address, currency) < amount:
            raise InsufficientFunds(
                f"insufficient {currency}: {decimal_to_str(amount)} needed, "
                f"{decimal_to_str(self.balance(from_address, currency))} held"
            )
        self._credit(from_address, currency, -amount)
        transaction = ChainTransaction(
            self._txid(), currency, amount, fee, from_address, to_address, TransferStatus.PENDING, self.clock.now_ms()
        )
        self._transactions[transaction.txid] = transaction
        if self.auto_confirm:
            self._confirm(transaction)
        return self._transactions[transaction.txid]

    def _txid(self) -> str:
        return hashlib.sha256(f"{self.network}/tx/{next(self._ids)}".encode()).hexdigest()

    def _confirm(self, transaction: ChainTransaction) -> None:
        confirmed = ChainTransaction(
            transaction.txid,
            transaction.currency,
            transaction.amount,
            transaction.fee,
            transaction.from_address,
            transaction.to_address,
            TransferStatus.OK,
            transaction.timestamp,
        )
        self._transactions[transaction.txid] = confirmed
        self._credit(confirmed.to_address, confirmed.currency, confirmed.received)
        for watcher in list(self._watchers.get(confirmed.to_address, ())):
            watcher(confirmed)

    def confirm(self) -> list[ChainTransaction]:
        """Confirm every pending transfer (oldest first); return them."""
        pending = [t for t in self._transactions.values() if t.status is TransferStatus.PENDING]
        for transaction in pending:
            self._confirm(transaction)
        return [self._transactions[t.txid] for t in pending]

    def transaction(self, txid: str) -> ChainTransaction:
        """The transfer ``txid`` (``WalletError`` when unknown)."""
        try:
            return self._transactions[txid]
        except KeyError:
            raise WalletError(f"unknown transaction {txid}") from None


class SimulatedBlockchainWallet(BlockchainWallet):
    """A wallet with one address on a :class:`SimulatedChain`.

    ``private_key`` is kept as a secret (never in the repr or logs); the simulation does not use it.
    """

    def __init__(
        self,
        chain: SimulatedChain,
        *,
        private_key: str | SecretStr | None = None,
        allow_withdrawals: bool = False,
        balances: Mapping[str, Decimal | int | str] | None = None,
    ) -> None:
        super().__init__(chain.network, allow_withdrawals=allow_withdrawals)
        self.chain = chain
        self._private_key = SecretStr(private_key) if isinstance(private_key, str) else private_key
        if self._private_key is not None:
            register_secret(self._private_key.get_secret_value())
        self.address = chain.new_address()
        for currency, amount in (balances or {}).items():
            chain.receive(self.address, currency, amount)

    def __repr__(self) -> str:
        return (
            f"SimulatedBlockchainWallet(network={self.network!r}, address={self.address!r}, "
            f"allow_withdrawals={self.allow_withdrawals})"
        )

    async def balance(self, currency: str) -> Decimal:
        """Confirmed balance of ``currency``."""
        return self.chain.balance(self.address, currency)

    async def deposit_address(self, currency: str) -> str:
        """The wallet's address (one address for every currency on the simulated chain)."""
        return self.address

    async def transaction_status(self, txid: str) -> TransferStatus:
        """Where ``txid`` stands on the chain."""
        return self.chain.transaction(txid).status

    async def _send(self, currency: str, amount: Decimal, address: str, tag: str | None) -> ChainTransaction:
        return self.chain.send(self.address, address, currency, amount)
