"""``BlockchainWallet``: the abstract wallet (balance, deposit address, withdraw, transaction status).

A wallet holds funds on a chain. Sending funds out of it (:meth:`BlockchainWallet.withdraw`) is
money leaving: it is refused with ``WithdrawalsDisabled`` (nothing sent) unless the wallet was
created with ``allow_withdrawals=True``. Amounts are Decimal (a float raises ``TypeError``).
Secrets (private keys, seeds) never appear in reprs, logs or errors: implementations keep them
in ``SecretStr`` and register them with the redacting logger.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.errors import InvalidOrder, WalletError, WithdrawalsDisabled
from octobot_trading.exchanges.types import TransferStatus
from octobot_trading.util.decimals import decimal_to_str, to_decimal

__all__ = ["BlockchainWallet", "ChainTransaction"]


@dataclass(frozen=True, slots=True)
class ChainTransaction:
    """One on-chain transfer: ``amount`` leaves ``from_address``, ``amount - fee`` reaches ``to_address``."""

    txid: str
    currency: str
    amount: Decimal
    fee: Decimal
    from_address: str | None
    to_address: str
    status: TransferStatus
    timestamp: int

    @property
    def received(self) -> Decimal:
        """What the destination receives."""
        return self.amount - self.fee


class BlockchainWallet(abc.ABC):
    """A wallet on one network.

    Parameters
    ----------
    network:
        The chain the wallet lives on (e.g. ``"BTC"``, ``"ETH"``).
    allow_withdrawals:
        Money leaving is never a default: False refuses every :meth:`withdraw`.
    """

    def __init__(self, network: str, *, allow_withdrawals: bool = False) -> None:
        self.network = network
        self.allow_withdrawals = allow_withdrawals

    def __repr__(self) -> str:
        return f"{type(self).__name__}(network={self.network!r}, allow_withdrawals={self.allow_withdrawals})"

    @abc.abstractmethod
    async def balance(self, currency: str) -> Decimal:
        """Return the confirmed balance of ``currency``."""

    @abc.abstractmethod
    async def deposit_address(self, currency: str) -> str:
        """Return the address receiving ``currency``."""

    @abc.abstractmethod
    async def transaction_status(self, txid: str) -> TransferStatus:
        """Return where the transaction ``txid`` stands (``WalletError`` when unknown)."""

    async def withdraw(
        self, currency: str, amount: Decimal | int | str, address: str, *, tag: str | None = None
    ) -> ChainTransaction:
        """Send ``amount`` of ``currency`` to ``address``; refused unless withdrawals are enabled."""
        value = to_decimal(amount, name="amount")
        if not self.allow_withdrawals:
            raise WithdrawalsDisabled(
                f"withdrawals are disabled on this {self.network} wallet: create it with "
                "allow_withdrawals=True to enable them"
            )
        if value <= 0:
            raise InvalidOrder(f"withdrawal amount must be positive, got {decimal_to_str(value)}", limit="amount")
        if not address:
            raise WalletError("a withdrawal needs a destination address")
        return await self._send(currency, value, address, tag)

    @abc.abstractmethod
    async def _send(self, currency: str, amount: Decimal, address: str, tag: str | None) -> ChainTransaction:
        """Broadcast the (checked) transfer; implemented by each wallet."""
