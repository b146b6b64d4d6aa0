"""Exact, atomic balances: assets with ``total`` and ``available`` and the changes applied to them.

A :class:`Portfolio` holds one :class:`Asset` per currency. ``available`` is what new orders may
spend; ``total - available`` is what open orders have reserved. Every change goes through
:meth:`Portfolio.apply`, which computes all new values first, refuses (raising
``PortfolioNegativeBalance``, changing nothing) when any would be negative or when ``available``
would exceed ``total``, and only then commits. A sub-portfolio has a ``parent``: changes apply to
both or to neither. ``lock`` (an ``asyncio.Lock``) serialises multi-step sequences (check, then
send) done by the trader and the balance refresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.errors import PortfolioNegativeBalance
from octobot_trading.util.decimals import ZERO, decimal_to_str, to_decimal

__all__ = ["Asset", "BalanceChange", "Delta", "Portfolio"]

Delta = tuple[str, Decimal, Decimal]
"""``(currency, total delta, available delta)``: the tuple form of a :class:`BalanceChange`."""


class Asset:
    """Balance of one currency: ``total`` owned, ``available`` not reserved by open orders."""

    __slots__ = ("available", "currency", "total")

    def __init__(self, currency: str, total: Decimal = ZERO, available: Decimal | None = None) -> None:
        self.currency = currency
        self.total = total
        self.available = total if available is None else available

    @property
    def reserved(self) -> Decimal:
        """Amount locked by open orders (``total - available``)."""
        return self.total - self.available

    def __repr__(self) -> str:
        return f"Asset({self.currency}: total={decimal_to_str(self.total)}, available={decimal_to_str(self.available)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Asset):
            return NotImplemented
        return (self.currency, self.total, self.available) == (other.currency, other.total, other.available)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """A change of one currency: deltas of ``total`` and of ``available``."""

    currency: str
    total: Decimal = ZERO
    available: Decimal = ZERO


class Portfolio:
    """Balances of an account (or of a sub-portfolio when ``parent`` is given).

    Parameters
    ----------
    balances:
        Starting totals by currency (all available); ``Decimal``, ``int`` or ``str``.
    name:
        ``"main"`` for the account, the sub-portfolio name otherwise.
    parent:
        The portfolio this one is carved from; every change applies to both.
    """

    def __init__(
        self,
        balances: Mapping[str, Decimal | int | str] | None = None,
        *,
        name: str = "main",
        parent: Portfolio | None = None,
    ) -> None:
        self.name = name
        self.parent = parent
        self.lock = asyncio.Lock()
        self._assets: dict[str, Asset] = {}
        for currency, amount in (balances or {}).items():
            value = to_decimal(amount, name=f"balance of {currency}")
            if value < 0:
                raise PortfolioNegativeBalance(f"starting balance of {currency} is negative", currency=currency)
            self._assets[currency] = Asset(currency, value)

    # -- reading ------------------------------------------------------------------------------
    def get_currency_portfolio(self, currency: str) -> Asset:
        """Return the asset of ``currency`` (a zero asset when none is held; not stored)."""
        asset = self._assets.get(currency)
        return asset if asset is not None else Asset(currency)

    def available(self, currency: str) -> Decimal:
        """Available amount of ``currency``."""
        asset = self._assets.get(currency)
        return asset.available if asset is not None else ZERO

    def total(self, currency: str) -> Decimal:
        """Total amount of ``currency``."""
        asset = self._assets.get(currency)
        return asset.total if asset is not None else ZERO

    @property
    def currencies(self) -> list[str]:
        """Currencies with a stored asset."""
        return list(self._assets)

    def totals(self) -> dict[str, Decimal]:
        """Totals by currency (non-zero only)."""
        return {c: a.total for c, a in self._assets.items() if a.total != 0}

    def snapshot(self) -> dict[str, tuple[Decimal, Decimal]]:
        """``{currency: (total, available)}`` for every stored asset."""
        return {c: (a.total, a.available) for c, a in self._assets.items()}

    # -- changing -------------------------------------------------------------------------------
    def check(self, changes: Iterable[BalanceChange]) -> None:
        """Raise ``PortfolioNegativeBalance`` if ``changes`` cannot be applied (changes nothing)."""
        self._compute([(c.currency, c.total, c.available) for c in changes])

    def apply(self, changes: Iterable[BalanceChange]) -> None:
        """Apply ``changes`` atomically here and in every parent, or raise and change nothing."""
        self.apply_deltas([(c.currency, c.total, c.available) for c in changes])

    def apply_deltas(self, deltas: Sequence[Delta]) -> None:
        """Apply ``(currency, total delta, available delta)`` tuples like :meth:`apply` (atomic, checked).

        The allocation-free form used on the order path (no ``BalanceChange`` per change).
        """
        if self.parent is None:
            self._commit(self._compute(deltas))
            return
        chain: list[tuple[Portfolio, dict[str, tuple[Decimal, Decimal]]]] = []
        portfolio: Portfolio | None = self
        while portfolio is not None:
            chain.append((portfolio, portfolio._compute(deltas)))
            portfolio = portfolio.parent
        for target, new_values in chain:
            target._commit(new_values)

    def _compute(self, deltas: Sequence[Delta]) -> dict[str, tuple[Decimal, Decimal]]:
        assets = self._assets
        new_values: dict[str, tuple[Decimal, Decimal]] = {}
        for currency, d_total, d_available in deltas:
            current = new_values.get(currency)
            if current is None:
                asset = assets.get(currency)
                current = (asset.total, asset.available) if asset is not None else (ZERO, ZERO)
            new_values[currency] = (current[0] + d_total, current[1] + d_available)
        for currency, (total, available) in new_values.items():
            if total < 0 or available < 0:
                raise PortfolioNegativeBalance(
                    f"{self.name} portfolio: {currency} would become negative "
                    f"(total {decimal_to_str(total)}, available {decimal_to_str(available)})",
                    currency=currency,
                )
            if available > total:
                raise PortfolioNegativeBalance(
                    f"{self.name} portfolio: {currency} available {decimal_to_str(available)} would exceed "
                    f"total {decimal_to_str(total)} (reservation released twice?)",
                    currency=currency,
                )
        return new_values

    def _commit(self, new_values: dict[str, tuple[Decimal, Decimal]]) -> None:
        for currency, (total, available) in new_values.items():
            asset = self._assets.get(currency)
            if asset is None:
                self._assets[currency] = Asset(currency, total, available)
            else:
                asset.total = total
                asset.available = available

    def set_balances(self, balances: Mapping[str, tuple[Decimal, Decimal]]) -> None:
        """Replace balances with ``{currency: (total, available)}`` (exchange refresh); checked first."""
        for currency, (total, available) in balances.items():
            if total < 0 or available < 0 or available > total:
                raise PortfolioNegativeBalance(f"inconsistent balance for {currency}", currency=currency)
        for currency, (total, available) in balances.items():
            self._assets[currency] = Asset(currency, total, available)

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{c}: {decimal_to_str(a.available)}/{decimal_to_str(a.total)}" for c, a in self._assets.items()
        )
        return f"Portfolio({self.name}: {inner})"
