"""The deposit / withdrawal calls of :class:`~octobot_trading.exchanges.rest_exchange.RestExchange`.

They delegate to the exchange's connector (``NotSupported`` where it lacks them, as the
connector contract says) and pass every :class:`~octobot_trading.exchanges.types.ExchangeTransaction`
through ``fix_transaction``, the venue class's hook for repairing transactions (like
``fix_order`` for orders). A withdrawal is sent once, as the connector sends it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.exchanges.types import DepositAddress, ExchangeTransaction

if TYPE_CHECKING:
    from octobot_trading.exchanges.connector import ExchangeConnector

__all__ = ["TransferCalls"]


class TransferCalls:
    """Mixed into ``RestExchange``: transfers through ``self.connector`` and ``fix_transaction``."""

    connector: ExchangeConnector

    def fix_transaction(self, transaction: ExchangeTransaction) -> ExchangeTransaction:
        """Repair a deposit or withdrawal before it is returned."""
        return transaction

    async def fetch_deposits(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return deposits to the account, oldest first."""
        return [self.fix_transaction(t) for t in await self.connector.fetch_deposits(currency, since, limit)]

    async def fetch_withdrawals(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return withdrawals from the account, oldest first."""
        return [self.fix_transaction(t) for t in await self.connector.fetch_withdrawals(currency, since, limit)]

    async def fetch_deposit_address(self, currency: str, *, network: str | None = None) -> DepositAddress:
        """Return the address crediting ``currency`` to the account."""
        return await self.connector.fetch_deposit_address(currency, network=network)

    async def withdraw(
        self, currency: str, amount: Decimal, address: str, *, tag: str | None = None, network: str | None = None
    ) -> ExchangeTransaction:
        """Send ``amount`` of ``currency`` to ``address`` (``WithdrawalsDisabled`` unless the
        configuration allows withdrawals)."""
        return self.fix_transaction(await self.connector.withdraw(currency, amount, address, tag=tag, network=network))
