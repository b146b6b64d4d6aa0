"""Funding an isolated position owes beyond the free wallet: taken from its isolated margin.

A funding payment is paid from the settle currency's wallet. The wallet holds the initial margins
of the open positions, so only ``wallet - Σ initial margins`` (never below 0) is free to pay with.
What an **isolated** position owes beyond that is taken from its own isolated margin, as venues
do (Bybit: "deducted from the available balance first, then from the position margin"): its
initial margin shrinks and its liquidation price moves towards the mark; what neither can pay is
not paid (the payment records what was taken), so the wallet never falls below the margins it
holds nor below zero. A position left with no margin is liquidated at the next check, losing 0.
A later fill of the position margins it again by the rule (``contracts x contract size x entry
/ leverage``). Cross positions pay from the shared wallet (the cross liquidation check judges it).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractSpec, settle_currency
from octobot_trading.util.decimals import ZERO

__all__ = ["isolated_funding"]


def isolated_funding(
    spec: ContractSpec,
    positions: Mapping[tuple[str, PositionSide], Position],
    key: tuple[str, PositionSide],
    wallet: Decimal,
    amount: Decimal,
) -> tuple[Decimal, Position | None]:
    """``(amount paid, the position with its margin reduced or None when unchanged)`` of a funding
    ``amount`` (negative: owed) of the position at ``key``, with ``wallet`` the settle currency's
    wallet before the payment (computed in the caller's exact context)."""
    position = positions[key]
    if amount >= 0 or position.margin_mode is not MarginMode.ISOLATED:
        return amount, None
    currency = settle_currency(key[0])
    held = sum(
        (p.initial_margin or ZERO for k, p in positions.items() if settle_currency(k[0]) == currency),
        ZERO,
    )
    free = max(wallet - held, ZERO)
    owed = -amount
    if owed <= free:
        return amount, None
    margin = position.initial_margin or ZERO
    taken = min(owed - free, margin)
    left = margin - taken
    entry = position.entry_price
    assert entry is not None
    q = position.contracts * spec.contract_size
    liquidation = cm.liquidation_price(spec, position.side, q, entry, left)
    margined = Position(
        position.symbol,
        position.side,
        position.contracts,
        entry,
        position.mark_price,
        position.unrealized_pnl,
        position.leverage,
        liquidation,
        position.timestamp,
        position.margin_mode,
        left,
        position.maintenance_margin,
        position.realized_pnl,
    )
    return -(free + taken), margined
