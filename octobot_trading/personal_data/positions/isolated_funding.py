"""Funding an isolated position owes beyond the free wallet: taken from its isolated margin.

A funding payment is paid from the settle currency's wallet. The wallet holds the initial margins
of the open positions and the open orders' reserved margin, so only ``wallet - Σ initial margins -
Σ order reservations`` (never below 0) is free to pay with; at one funding time what a position
receives is in the wallet before another position pays (the caller orders the payments).
What an **isolated** position owes beyond that is taken from its own isolated margin, as venues
do (Bybit: "deducted from the available balance first, then from the position margin"): its
initial margin shrinks and its liquidation price moves towards the mark; what neither can pay is
not paid (the payment records what was taken), so the wallet never falls below the margins it
holds nor below zero. A position left with no margin is liquidated at the next check, losing 0.
The position keeps that cut through its later fills (:func:`keep_funding_cut`): a reduce keeps
the margin left in proportion to the contracts left, a grow adds the new contracts' margin (by the
rule, ``contracts x contract size x price / leverage``) to it; a position that funding never cut
is margined by the rule as before. Cross positions pay from the shared wallet (the cross liquidation check judges it).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractKind, ContractSpec, settle_currency
from octobot_trading.util.decimals import ZERO

__all__ = ["funding_due", "isolated_funding", "keep_funding_cut"]


def funding_due(
    positions: Mapping[tuple[str, PositionSide], Position],
    spec: ContractSpec,
    symbol: str,
    mark: Decimal,
    rate: Decimal,
    timestamp: int,
) -> list[tuple[tuple[str, PositionSide], Position, str, Decimal]]:
    """``(key, position, transaction id, amount)`` of the funding each position of ``symbol`` gets
    (negative: pays) at ``timestamp``: ``notional at mark x rate``, longs paying a positive rate;
    what is received comes first, so that it is in the wallet before another position pays."""
    due = []
    for key, position in sorted(positions.items()):
        if key[0] == symbol:
            amount = cm.notional(spec.kind, position.contracts * spec.contract_size, mark) * rate
            amount = -amount if position.side is PositionSide.LONG else amount
            due.append((key, position, f"funding:{symbol}:{position.side}:{timestamp}", amount))
    due.sort(key=lambda entry: entry[3] < 0)  # (stable: otherwise in position order)
    return due


def isolated_funding(
    spec: ContractSpec,
    positions: Mapping[tuple[str, PositionSide], Position],
    key: tuple[str, PositionSide],
    wallet: Decimal,
    amount: Decimal,
    reserved: Mapping[str, tuple[str, Decimal]],
) -> tuple[Decimal, Position | None]:
    """``(amount paid, the position with its margin reduced or None when unchanged)`` of a funding
    ``amount`` (negative: owed) of the position at ``key``, with ``wallet`` the settle currency's
    wallet before the payment and ``reserved`` the open orders' reservations (``{order id:
    (currency, margin)}``), computed in the caller's exact context."""
    position = positions[key]
    if amount >= 0 or position.margin_mode is not MarginMode.ISOLATED:
        return amount, None
    currency = settle_currency(key[0])
    held = sum(
        (p.initial_margin or ZERO for k, p in positions.items() if settle_currency(k[0]) == currency),
        ZERO,
    )
    held += sum((r for c, r in reserved.values() if c == currency), ZERO)
    free = max(wallet - held, ZERO)  # open orders' reserved margin is not spent either
    owed = -amount
    if owed <= free:
        return amount, None
    margin = position.initial_margin or ZERO
    taken = min(owed - free, margin)
    left = margin - taken
    return -(free + taken), with_margin(spec, position, left, spec.kind)


def keep_funding_cut(
    spec: ContractSpec,
    kind: ContractKind,
    current: Position,
    new: Position,
    added: Decimal,
    price: Decimal,
) -> Position:
    """``new``, the position a fill of ``current`` leaves (same side; ``added`` contracts at
    ``price`` when it grew, 0 when it shrank), keeping the cut funding made in ``current``'s
    isolated margin: in proportion to the contracts left after a reduce, the new contracts' margin
    added to it after a grow. ``new`` itself when funding never cut ``current``'s margin."""
    margin = current.initial_margin
    entry = current.entry_price
    if current.margin_mode is not MarginMode.ISOLATED or margin is None or entry is None or current.leverage is None:
        return new
    size = spec.contract_size
    cut = cm.initial_margin(kind, current.contracts * size, entry, current.leverage) - margin
    if cut <= 0:
        return new
    if added:
        left = margin + cm.initial_margin(kind, added * size, price, current.leverage)
    else:
        left = max((new.initial_margin or ZERO) - cm.div(cut * new.contracts, current.contracts), ZERO)
    return with_margin(spec, new, left, kind)


def with_margin(spec: ContractSpec, position: Position, margin: Decimal, kind: ContractKind) -> Position:
    """``position`` holding the isolated ``margin`` instead, its liquidation price moved with it."""
    entry = position.entry_price
    assert entry is not None
    q = position.contracts * spec.contract_size
    return Position(
        position.symbol,
        position.side,
        position.contracts,
        entry,
        position.mark_price,
        position.unrealized_pnl,
        position.leverage,
        cm.liquidation_price(spec, position.side, q, entry, margin, kind),
        position.timestamp,
        position.margin_mode,
        margin,
        position.maintenance_margin,
        position.realized_pnl,
    )
