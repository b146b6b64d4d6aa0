"""The formulas of futures accounting, one function each, pure and exact (docs/futures.md).

``q`` is the position's quantity in the contract's unit: ``contracts x contract_size`` (base
currency for linear contracts, quote currency for inverse ones). Results are in the settle
currency (quote for linear, base for inverse).

Exactness: additions and multiplications are exact (callers run them in :data:`EXACT`, a context
that never rounds); every division goes through :func:`div`, which rounds the exact quotient
once to the nearest multiple of :data:`ACCOUNTING_STEP` (``1e-18``, ties to even). Linear
notional, PnL and fees have no division and are exact.
"""

from __future__ import annotations

from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, InvalidOperation

from octobot_trading.enums import PositionSide
from octobot_trading.util.contract_spec import ContractKind, ContractSpec
from octobot_trading.util.decimals import ONE, ZERO, divide_to_step

__all__ = ["ACCOUNTING_STEP", "EXACT", "div", "fee", "initial_margin", "liquidation_price", "notional", "pnl"]

#: Every quotient of the accounting is rounded (nearest, ties to even) to a multiple of this.
ACCOUNTING_STEP = Decimal("1e-18")
#: Context for additions and products: unlimited precision, so they are exact (never used to divide).
EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])


#: ``1 / ACCOUNTING_STEP``, and the exponent of :data:`ACCOUNTING_STEP`.
_STEP_SCALE, _STEP_EXPONENT = 10**18, -18


def div(numerator: Decimal, denominator: Decimal) -> Decimal:
    """``numerator / denominator`` rounded once to the nearest multiple of :data:`ACCOUNTING_STEP`.

    The value ``divide_to_step(numerator, denominator, ACCOUNTING_STEP)`` gives (its errors too,
    for a zero or non-finite operand), computed here for the one fixed step: the operands'
    integer ratios divided in integer arithmetic, ties to even, as ``units x 1e-18``.
    """
    try:
        a, b = numerator.as_integer_ratio()
        c, e = denominator.as_integer_ratio()
    except (ValueError, OverflowError):  # not finite: divide_to_step raises its error
        return divide_to_step(numerator, denominator, ACCOUNTING_STEP)
    d = b * c
    if d > 0:
        n = a * e * _STEP_SCALE
    elif d:
        n, d = -a * e * _STEP_SCALE, -d
    else:  # division by zero: divide_to_step raises its error
        return divide_to_step(numerator, denominator, ACCOUNTING_STEP)
    units, remainder = divmod(n, d)
    twice = remainder + remainder
    if twice > d or (twice == d and units & 1):
        units += 1
    return Decimal(units).scaleb(_STEP_EXPONENT, EXACT)


def notional(kind: ContractKind, q: Decimal, price: Decimal) -> Decimal:
    """Linear ``q x price`` (quote); inverse ``q / price`` (base)."""
    return EXACT.multiply(q, price) if kind == "linear" else div(q, price)


def initial_margin(kind: ContractKind, q: Decimal, entry: Decimal, leverage: Decimal) -> Decimal:
    """Linear ``q x entry / leverage``; inverse ``q / (entry x leverage)``."""
    if kind == "linear":
        return div(EXACT.multiply(q, entry), leverage)
    return div(q, EXACT.multiply(entry, leverage))


def pnl(kind: ContractKind, side: PositionSide, q: Decimal, entry: Decimal, exit_price: Decimal) -> Decimal:
    """PnL of ``q`` closed at ``exit_price``.

    Linear long ``q x (exit - entry)``; inverse long ``q/entry - q/exit`` (each quotient rounded);
    shorts mirrored.
    """
    if kind == "linear":
        long = EXACT.multiply(q, EXACT.subtract(exit_price, entry))
    else:
        long = EXACT.subtract(div(q, entry), div(q, exit_price))
    return long if side is PositionSide.LONG else EXACT.minus(long)


def fee(kind: ContractKind, q: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """``notional x rate`` in the settle currency."""
    return EXACT.multiply(notional(kind, q, price), rate)


def grown_entry(kind: ContractKind, q_old: Decimal, entry_old: Decimal, q_add: Decimal, price: Decimal) -> Decimal:
    """Entry after adding ``q_add`` at ``price``: weighted mean (linear), harmonic mean (inverse)."""
    total = EXACT.add(q_old, q_add)
    if kind == "linear":
        return div(EXACT.add(EXACT.multiply(q_old, entry_old), EXACT.multiply(q_add, price)), total)
    return div(total, EXACT.add(div(q_old, entry_old), div(q_add, price)))


def _solve(
    kind: ContractKind, side: PositionSide, q: Decimal, entry: Decimal, margin: Decimal, rate: Decimal, amount: Decimal
) -> Decimal | None:
    """Price where ``margin + PnL = rate x notional(price) - amount``; None when unreachable."""
    long = side is PositionSide.LONG
    if kind == "linear":
        base = EXACT.multiply(q, entry)
        if long:  # (q*E - IM - c) / (q*(1 - mmr))
            num, den = EXACT.subtract(EXACT.subtract(base, margin), amount), EXACT.multiply(q, ONE - rate)
        else:  # (q*E + IM + c) / (q*(1 + mmr))
            num, den = EXACT.add(EXACT.add(base, margin), amount), EXACT.multiply(q, ONE + rate)
    else:
        at_entry = div(q, entry)
        if long:  # q*(1 + mmr) / (IM + q/E + c)
            num, den = EXACT.multiply(q, ONE + rate), EXACT.add(EXACT.add(margin, at_entry), amount)
        else:  # q*(1 - mmr) / (q/E - IM - c)
            num, den = EXACT.multiply(q, ONE - rate), EXACT.subtract(EXACT.subtract(at_entry, margin), amount)
    if den <= 0 or num <= 0:
        return None
    price = div(num, den)
    return price if price > 0 else None


def liquidation_price(
    spec: ContractSpec,
    side: PositionSide,
    q: Decimal,
    entry: Decimal,
    margin: Decimal,
    kind: ContractKind | None = None,
) -> Decimal | None:
    """Isolated liquidation price: where ``margin + unrealized PnL = maintenance margin at that price``.

    With a flat rate this is the documented formula (docs/futures.md) (linear long ``(E*q - IM) / (q*(1 - mmr))``, short
    ``(E*q + IM) / (q*(1 + mmr))``; inverse long ``q*(1 + mmr) / (IM + q/E)``, short
    ``q*(1 - mmr) / (q/E - IM)``). With tiers, each tier's equation is solved and the first whose
    notional at the solution lies in the tier is kept (the last tier also past its bound). None
    when no positive price liquidates (e.g. a 1x long). ``kind``: ``spec.kind`` when the caller has it.
    """
    if kind is None:
        kind = spec.kind
    if not spec.margin_tiers:
        assert spec.maintenance_margin_rate is not None
        return _solve(kind, side, q, entry, margin, spec.maintenance_margin_rate, ZERO)
    low, last = ZERO, spec.margin_tiers[-1]
    for tier in spec.margin_tiers:
        price = _solve(kind, side, q, entry, margin, tier.maintenance_margin_rate, tier.maintenance_amount)
        if price is not None:
            value = notional(kind, q, price)
            # past a bounded last tier its rate still applies (as ContractSpec.tier_for)
            if value > low and (tier.max_notional is None or value <= tier.max_notional or tier is last):
                return price
        low = tier.max_notional if tier.max_notional is not None else low
    return None
