"""Deposits, withdrawals and deposit addresses through ccxt (mixed into ``CCXTConnector``).

Reads (``fetch_deposits``, ``fetch_withdrawals``, ``fetch_deposit_address``) are retried like
every read. ``withdraw`` moves money out of the account: it is refused with
``WithdrawalsDisabled`` (nothing sent) unless the exchange configuration sets
``allow_withdrawals=True``, and it is never retried: after a transport failure its outcome is
unknown and the error is raised; ``fetch_withdrawals`` shows whether it was taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

from octobot_trading.config import ExchangeConfig
from octobot_trading.errors import BadExchangeResponse, InvalidOrder, WithdrawalsDisabled
from octobot_trading.exchanges.types import DepositAddress, ExchangeTransaction, TransferStatus
from octobot_trading.util.decimals import decimal_to_str, to_decimal

__all__ = ["CCXTTransfersMixin"]

T = TypeVar("T")


class CCXTTransfersMixin:
    """The transfer methods of the connector contract over a ccxt client."""

    client: Any
    adapter: Any
    config: ExchangeConfig
    name: str
    clock: Any

    async def _read(
        self, what: str, fn: Callable[[], Awaitable[T]], *, symbol: str | None = None, order_id: str | None = None
    ) -> T:  # provided by CCXTConnector
        raise NotImplementedError

    async def _call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        symbol: str | None = None,
        order_id: str | None = None,
        placing_order: bool = False,
    ) -> T:  # provided by CCXTConnector
        raise NotImplementedError

    async def _transactions(
        self, what: str, kind: str, currency: str | None, since: int | None, limit: int | None
    ) -> list[ExchangeTransaction]:
        method = getattr(self.client, what)
        rows = await self._read(what, lambda: method(currency, since, limit))
        parsed = [self.adapter.parse_transaction(row, kind) for row in rows]
        unique = {t.id: t for t in parsed}  # a venue page may repeat an entry: one per id
        return sorted(unique.values(), key=lambda t: (t.timestamp or 0, t.id))

    async def fetch_deposits(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return deposits to the account, oldest first, one per id."""
        return await self._transactions("fetch_deposits", "deposit", currency, since, limit)

    async def fetch_withdrawals(
        self, currency: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeTransaction]:
        """Return withdrawals from the account, oldest first, one per id."""
        return await self._transactions("fetch_withdrawals", "withdrawal", currency, since, limit)

    async def fetch_deposit_address(self, currency: str, *, network: str | None = None) -> DepositAddress:
        """Return the address crediting ``currency`` to the account."""
        params = {} if network is None else {"network": network}
        raw = await self._read("fetch_deposit_address", lambda: self.client.fetch_deposit_address(currency, params))
        return self.adapter.parse_deposit_address(raw)

    async def withdraw(
        self, currency: str, amount: Decimal, address: str, *, tag: str | None = None, network: str | None = None
    ) -> ExchangeTransaction:
        """Send ``amount`` of ``currency`` to ``address`` (sent once; see the module docstring)."""
        if not self.config.allow_withdrawals:
            raise WithdrawalsDisabled(
                f"withdrawals are disabled for {self.name}: set allow_withdrawals=True in "
                "the exchange configuration to enable them",
                exchange=self.name,
            )
        value = to_decimal(amount, name="amount")
        if value <= 0:
            raise InvalidOrder(
                f"withdrawal amount must be positive, got {decimal_to_str(value)}", limit="amount", exchange=self.name
            )
        if not address:
            raise InvalidOrder("a withdrawal needs a destination address", limit="address", exchange=self.name)
        params: dict[str, Any] = {}
        if tag is not None:
            params["tag"] = tag
        if network is not None:
            params["network"] = network
        raw = await self._call(lambda: self.client.withdraw(currency, decimal_to_str(value), address, params))
        transaction_id = str(raw.get("id") or "") if isinstance(raw, dict) else ""
        if not transaction_id:
            raise BadExchangeResponse("the withdrawal reply has no id", exchange=self.name)
        return ExchangeTransaction(
            id=transaction_id,
            kind="withdrawal",
            currency=currency,
            amount=value,
            status=TransferStatus.PENDING,
            timestamp=self.clock.now_ms(),
            address=address,
            tag=tag,
            network=network,
        )
