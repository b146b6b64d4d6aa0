"""The simulated exchange account: free / used balances that the simulated venue enforces.

It plays the exchange's side of the books, independently of the trader's local portfolio, so
that ``fetch_balance`` answers like a venue would and tests can check that the local portfolio
matches the "exchange" exactly. Every operation is checked before anything changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from octobot_trading.errors import InsufficientFunds
from octobot_trading.exchanges.types import Balance
from octobot_trading.util.decimals import ZERO, decimal_to_str, to_decimal

__all__ = ["SimulatedAccount"]


class SimulatedAccount:
    """Balances of a simulated account (``free`` + ``used`` = ``total`` per currency)."""

    def __init__(self, balances: Mapping[str, Decimal | int | str] | None = None) -> None:
        self._free: dict[str, Decimal] = {}
        self._used: dict[str, Decimal] = {}
        for currency, amount in (balances or {}).items():
            value = to_decimal(amount, name=f"balance of {currency}")
            if value < 0:
                raise InsufficientFunds(f"starting balance of {currency} is negative")
            self._free[currency] = value

    def free(self, currency: str) -> Decimal:
        """Free amount of ``currency``."""
        return self._free.get(currency, ZERO)

    def used(self, currency: str) -> Decimal:
        """Amount of ``currency`` locked by open orders."""
        return self._used.get(currency, ZERO)

    def balances(self) -> dict[str, Balance]:
        """Every currency's balance."""
        currencies = set(self._free) | set(self._used)
        return {c: Balance(self.free(c), self.used(c), self.free(c) + self.used(c)) for c in sorted(currencies)}

    def lock(self, currency: str, amount: Decimal) -> None:
        """Move ``amount`` from free to used; ``InsufficientFunds`` (no change) when short."""
        free = self._free.get(currency, ZERO)
        if amount > free:
            raise InsufficientFunds(
                f"insufficient {currency}: {decimal_to_str(amount)} needed, {decimal_to_str(free)} free"
            )
        self._free[currency] = free - amount
        self._used[currency] = self._used.get(currency, ZERO) + amount

    def unlock(self, currency: str, amount: Decimal) -> None:
        """Move ``amount`` from used back to free."""
        amount = min(amount, self.used(currency))
        self._used[currency] = self.used(currency) - amount
        self._free[currency] = self.free(currency) + amount

    def settle(
        self,
        spent: str,
        spent_amount: Decimal,
        unlock: Decimal,
        received: str,
        received_amount: Decimal,
        fee_currency: str | None,
        fee: Decimal,
    ) -> None:
        """Apply one fill: take ``spent_amount`` (first from ``unlock`` of the used part), credit the
        received amount, charge the fee. Checked first; raises ``InsufficientFunds`` with no change."""
        free, used = self._free, self._used
        used_before = used.get(spent, ZERO)
        unlock = min(unlock, used_before)
        free_after = free.get(spent, ZERO) + unlock - spent_amount
        if free_after < 0:
            raise InsufficientFunds(f"insufficient {spent} to settle a fill")
        fee_free = free.get(fee_currency, ZERO) if fee_currency else ZERO
        if fee_currency == received:
            fee_free += received_amount
        elif fee_currency == spent:
            fee_free = free_after
        if fee_currency and fee > fee_free:
            raise InsufficientFunds(f"insufficient {fee_currency} to pay a fee")
        used[spent] = used_before - unlock
        free[spent] = free_after
        free[received] = free.get(received, ZERO) + received_amount
        if fee_currency and fee:
            free[fee_currency] = free.get(fee_currency, ZERO) - fee

    def deposit(self, currency: str, amount: Decimal) -> None:
        """Add (or, negative, withdraw) free funds."""
        if self.free(currency) + amount < 0:
            raise InsufficientFunds(f"insufficient free {currency} to withdraw")
        self._free[currency] = self.free(currency) + amount
