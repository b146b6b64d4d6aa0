"""Deposits and withdrawals of the simulated account (``SimulatedConnector.transfers``).

:meth:`SimulatedTransfers.receive_deposit` credits an incoming deposit once per id (a
simulated chain, a test or a backtest calls it); ``withdraw`` debits the free balance and
records the withdrawal (refused with ``WithdrawalsDisabled``, nothing changed, unless
``allow_withdrawals`` is True). Callbacks in ``withdrawal_listeners`` are told each accepted
withdrawal (a simulated chain delivers it to its destination address).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.clock import Clock
from octobot_trading.errors import InsufficientFunds, InvalidOrder, WithdrawalsDisabled
from octobot_trading.exchanges.types import DepositAddress, ExchangeTransaction, TransferStatus
from octobot_trading.util.decimals import decimal_to_str, to_decimal

if TYPE_CHECKING:
    from octobot_trading.exchanges.connectors.simulator.account import SimulatedAccount

__all__ = ["SimulatedTransfers", "TransferCalls"]


class SimulatedTransfers:
    """The transfer methods of the connector contract on a simulated account.

    Parameters
    ----------
    account:
        ``account()``: the simulated account (read at each call: a restart recovery replaces it).
    clock:
        Time of the transfers.
    name:
        The venue's name (deposit addresses, errors).
    """

    def __init__(self, account: Callable[[], SimulatedAccount], clock: Clock, name: str) -> None:
        self._account_of = account
        self.clock = clock
        self.name = name
        #: Money leaving is never a default: set True to let ``withdraw`` work.
        self.allow_withdrawals = False
        #: ``withdraw`` fee per currency, taken from the withdrawn amount (default none).
        self.withdrawal_fees: dict[str, Decimal] | None = None
        #: Callbacks told ``(transaction)`` of each accepted withdrawal.
        self.withdrawal_listeners: list[Callable[[ExchangeTransaction], object]] = []
        self._deposits: dict[str, ExchangeTransaction] = {}
        self._withdrawals: dict[str, ExchangeTransaction] = {}

    @property
    def account(self) -> SimulatedAccount:
        return self._account_of()

    def deposit_address_of(self, currency: str) -> str:
        """The simulated account's deposit address for ``currency`` (stable)."""
        digest = hashlib.sha256(f"{self.name}/{id(self)}/{currency}".encode()).hexdigest()[:24]
        return f"sim-{currency.lower()}-{digest}"

    def receive_deposit(
        self,
        currency: str,
        amount: Decimal | int | str,
        *,
        transaction_id: str,
        txid: str | None = None,
        address: str | None = None,
    ) -> ExchangeTransaction:
        """Credit an incoming deposit; a known ``transaction_id`` changes nothing (returns the first)."""
        deposits = self._deposits
        known = deposits.get(transaction_id)
        if known is not None:
            return known
        value = to_decimal(amount, name="amount")
        if value <= 0:
            raise InvalidOrder(f"deposit amount must be positive, got {decimal_to_str(value)}", limit="amount")
        self.account.deposit(currency, value)
        record = ExchangeTransaction(
            id=transaction_id,
            kind="deposit",
            currency=currency,
            amount=value,
            status=TransferStatus.OK,
            timestamp=self.clock.now_ms(),
            address=address or self.deposit_address_of(currency),
            txid=txid,
        )
        deposits[transaction_id] = record
        return record

    @staticmethod
    def _window(
        rows: list[ExchangeTransaction], currency: str | None, since: int | None, limit: int | None
    ) -> list[ExchangeTransaction]:
        rows = [
            r
            for r in rows
            if (currency is None or r.currency == currency) and (since is None or (r.timestamp or 0) >= since)
        ]
        return rows if limit is None else rows[:limit]

    async def fetch_deposits(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return deposits to the account, oldest first."""
        return self._window(list(self._deposits.values()), currency, since, limit)

    async def fetch_withdrawals(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return withdrawals from the account, oldest first."""
        return self._window(list(self._withdrawals.values()), currency, since, limit)

    async def fetch_deposit_address(self, currency: str, *, network: str | None = None) -> DepositAddress:
        """Return the simulated deposit address of ``currency``."""
        return DepositAddress(currency=currency, address=self.deposit_address_of(currency), network=network)

    async def withdraw(
        self, currency: str, amount: Decimal, address: str, *, tag: str | None = None, network: str | None = None
    ) -> ExchangeTransaction:
        """Debit ``amount`` of free ``currency`` and record a completed withdrawal to ``address``."""
        if not self.allow_withdrawals:
            raise WithdrawalsDisabled(
                "withdrawals are disabled on this simulated account: set allow_withdrawals = True to enable them",
                exchange=self.name,
            )
        value = to_decimal(amount, name="amount")
        fee = (self.withdrawal_fees or {}).get(currency, Decimal(0))
        if value <= 0 or fee >= value:
            raise InvalidOrder(
                f"withdrawal amount {decimal_to_str(value)} must be positive and cover the fee {decimal_to_str(fee)}",
                limit="amount",
                exchange=self.name,
            )
        if not address:
            raise InvalidOrder("a withdrawal needs a destination address", limit="address", exchange=self.name)
        if self.account.free(currency) < value:
            raise InsufficientFunds(
                f"insufficient free {currency} to withdraw {decimal_to_str(value)}", exchange=self.name
            )
        self.account.deposit(currency, -value)
        withdrawals = self._withdrawals
        number = len(withdrawals) + 1
        record = ExchangeTransaction(
            id=f"sim-wd-{number}",
            kind="withdrawal",
            currency=currency,
            amount=value,
            status=TransferStatus.OK,
            timestamp=self.clock.now_ms(),
            address=address,
            tag=tag,
            network=network,
            txid=f"sim-tx-wd-{number}",
            fee=fee,
        )
        withdrawals[record.id] = record
        for listener in list(self.withdrawal_listeners):
            listener(record)
        return record


class TransferCalls:
    """The connector contract's transfer calls of the simulated connector, delegated to its
    public ``transfers`` (a :class:`SimulatedTransfers`)."""

    transfers: SimulatedTransfers

    @property
    def allow_withdrawals(self) -> bool:
        """False by default: ``withdraw`` is refused with ``WithdrawalsDisabled`` until set True."""
        return self.transfers.allow_withdrawals

    @allow_withdrawals.setter
    def allow_withdrawals(self, allowed: bool) -> None:
        self.transfers.allow_withdrawals = allowed

    @property
    def withdrawal_fees(self) -> dict[str, Decimal] | None:
        """``withdraw`` fee per currency, taken from the withdrawn amount (default none)."""
        return self.transfers.withdrawal_fees

    @withdrawal_fees.setter
    def withdrawal_fees(self, fees: dict[str, Decimal] | None) -> None:
        self.transfers.withdrawal_fees = fees

    @property
    def withdrawal_listeners(self) -> list[Callable[[ExchangeTransaction], object]]:
        """Callbacks told ``(transaction)`` of each accepted withdrawal."""
        return self.transfers.withdrawal_listeners

    def deposit_address_of(self, currency: str) -> str:
        """The simulated account's deposit address for ``currency`` (stable)."""
        return self.transfers.deposit_address_of(currency)

    def receive_deposit(
        self,
        currency: str,
        amount: Decimal | int | str,
        *,
        transaction_id: str,
        txid: str | None = None,
        address: str | None = None,
    ) -> ExchangeTransaction:
        """Credit an incoming deposit once per ``transaction_id`` (see :meth:`SimulatedTransfers.receive_deposit`)."""
        return self.transfers.receive_deposit(
            currency, amount, transaction_id=transaction_id, txid=txid, address=address
        )

    async def fetch_deposits(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Deposits to the account, oldest first."""
        return await self.transfers.fetch_deposits(currency, since, limit)

    async def fetch_withdrawals(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Withdrawals from the account, oldest first."""
        return await self.transfers.fetch_withdrawals(currency, since, limit)

    async def fetch_deposit_address(self, currency: str, *, network: str | None = None) -> DepositAddress:
        """The simulated deposit address of ``currency``."""
        return await self.transfers.fetch_deposit_address(currency, network=network)

    async def withdraw(
        self, currency: str, amount: Decimal, address: str, *, tag: str | None = None, network: str | None = None
    ) -> ExchangeTransaction:
        """Debit free ``currency`` and record a completed withdrawal (refused unless allowed)."""
        return await self.transfers.withdraw(currency, amount, address, tag=tag, network=network)
