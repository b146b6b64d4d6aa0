"""How one futures fill changes a position, as pure functions (no account state, no I/O).

:func:`plan_fill` checks an order against the symbol's position mode and ``reduce_only``, then
computes the position snapshot it leaves (closed, reduced, grown, opened or flipped), the gross
realized PnL and the fee; the account checks the margin and commits the plan. :func:`build_position`
and :func:`valued` derive a :class:`Position`'s margins, liquidation price and unrealized PnL from
its :class:`ContractSpec` and settings (formulas in
:mod:`~octobot_trading.personal_data.positions.contract_math`). Callers run them in
:data:`~octobot_trading.personal_data.positions.contract_math.EXACT`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import MarginMode, OrderSide, PositionMode, PositionSide
from octobot_trading.errors import InvalidOrder
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.personal_data.positions.isolated_funding import keep_funding_cut
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractKind, ContractSpec
from octobot_trading.util.decimals import ZERO, decimal_to_str

__all__ = [
    "ContractSettings",
    "FillPlan",
    "build_position",
    "maintenance_margin",
    "plan_fill",
    "unearned_profit",
    "valued",
]

_LONG, _SHORT, _BOTH = PositionSide.LONG, PositionSide.SHORT, PositionSide.BOTH


@dataclass(slots=True)
class ContractSettings:
    """The settings new positions of a symbol get: leverage, margin mode and position mode."""

    leverage: Decimal
    margin_mode: MarginMode
    position_mode: PositionMode


@dataclass(slots=True)
class FillPlan:
    """What a fill would do: the position left in ``slot`` (None when closed), PnL, fee, contracts moved."""

    symbol: str
    slot: PositionSide
    positions: dict[tuple[str, PositionSide], Position | None]
    realized: Decimal
    fee: Decimal
    closed: Decimal
    opened: Decimal


def maintenance_margin(spec: ContractSpec, notional: Decimal) -> Decimal:
    """``spec.maintenance_margin(notional)`` computed exactly whatever the current context (every
    operation in :data:`~.contract_math.EXACT`)."""
    rate, amount = spec.tier_for(notional)
    return max(cm.EXACT.subtract(cm.EXACT.multiply(notional, rate), amount), ZERO)


def valued(spec: ContractSpec, position: Position, mark: Decimal) -> Position:
    """``position`` at mark price ``mark``: its unrealized PnL and maintenance margin follow (exact
    whatever the current context: no context needed)."""
    q = cm.EXACT.multiply(position.contracts, spec.contract_size)
    entry = position.entry_price
    assert entry is not None
    kind, side = spec.kind, position.side
    # every field spelled out: a direct construction is several times cheaper than dataclasses.replace
    return Position(
        position.symbol,
        side,
        position.contracts,
        entry,
        mark,
        cm.pnl(kind, side, q, entry, mark),
        position.leverage,
        position.liquidation_price,
        position.timestamp,
        position.margin_mode,
        position.initial_margin,
        maintenance_margin(spec, cm.notional(kind, q, mark)),
        position.realized_pnl,
    )


def build_position(
    spec: ContractSpec,
    symbol: str,
    side: PositionSide,
    contracts: Decimal,
    entry: Decimal,
    realized: Decimal,
    settings: ContractSettings,
    timestamp: int | None,
    mark: Decimal | None,
    kind: ContractKind | None = None,
) -> Position:
    """A new position snapshot, valued at ``mark`` (at ``entry`` when there is no mark yet);
    ``kind``: ``spec.kind`` when the caller has it."""
    q = contracts * spec.contract_size
    if kind is None:
        kind = spec.kind
    margin = cm.initial_margin(kind, q, entry, settings.leverage)
    isolated = settings.margin_mode is MarginMode.ISOLATED
    liq = cm.liquidation_price(spec, side, q, entry, margin, kind) if isolated else None
    at = entry if mark is None else mark
    # built valued at ``at`` directly (the fields of ``valued``, one construction)
    return Position(
        symbol,
        side,
        contracts,
        entry,
        at,
        cm.pnl(kind, side, q, entry, at),
        settings.leverage,
        liq,
        timestamp,
        settings.margin_mode,
        margin,
        spec.maintenance_margin(cm.notional(kind, q, at)),
        realized,
    )


def plan_fill(
    spec: ContractSpec,
    settings: ContractSettings,
    positions: Mapping[tuple[str, PositionSide], Position],
    mark: Decimal | None,
    symbol: str,
    side: OrderSide,
    contracts: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    reduce_only: bool,
    position_side: PositionSide | str | None,
) -> FillPlan:
    """The plan of one fill on ``positions`` (not changed); ``InvalidOrder`` when the order is refused.

    The margin is not checked here.
    """
    if contracts <= 0:
        raise InvalidOrder(f"amount must be positive, got {decimal_to_str(contracts)}", limit="amount", symbol=symbol)
    if price <= 0:
        raise InvalidOrder(f"price must be positive, got {decimal_to_str(price)}", limit="price", symbol=symbol)
    if fee_rate < 0:
        raise InvalidOrder("fee_rate must not be negative", limit="fee_rate", symbol=symbol)
    pside = None if position_side is None else PositionSide(position_side)
    direction = _LONG if side is OrderSide.BUY else _SHORT
    if settings.position_mode is PositionMode.HEDGE:
        if pside not in (_LONG, _SHORT):
            raise InvalidOrder(
                f"{symbol} is in hedge mode: give position_side=LONG or SHORT", limit="position_side", symbol=symbol
            )
        slot = pside
        current = positions.get((symbol, slot))
        closing = direction is not pside
        if closing and (current is None or contracts > current.contracts):
            held = decimal_to_str(current.contracts) if current else "0"
            raise InvalidOrder(
                f"cannot close {decimal_to_str(contracts)} contracts of a {pside} position of {held}",
                limit="reduce_only" if reduce_only else "amount",
                symbol=symbol,
            )
        if reduce_only and not closing:
            raise InvalidOrder("a reduce_only order cannot open or grow a position", limit="reduce_only", symbol=symbol)
    else:
        if pside not in (None, _BOTH):
            raise InvalidOrder(
                f"{symbol} is in one-way mode: position_side must be None", limit="position_side", symbol=symbol
            )
        slot = _BOTH
        current = positions.get((symbol, slot))
        closing = current is not None and current.side is not direction
        if reduce_only and (not closing or current is None or contracts > current.contracts):
            raise InvalidOrder(
                "a reduce_only order cannot open, grow or flip a position", limit="reduce_only", symbol=symbol
            )
    q_fill = contracts * spec.contract_size
    kind = spec.kind
    fee = cm.fee(kind, q_fill, price, fee_rate)
    realized, closed, opened = ZERO, ZERO, contracts
    new: Position | None
    if current is not None and closing:
        assert current.entry_price is not None
        closed = min(contracts, current.contracts)
        opened = contracts - closed
        realized = cm.pnl(kind, current.side, closed * spec.contract_size, current.entry_price, price)
        left = current.contracts - closed
        new = None
        if left:
            new = build_position(
                spec,
                symbol,
                current.side,
                left,
                current.entry_price,
                (current.realized_pnl or ZERO) + realized,
                ContractSettings(
                    current.leverage or settings.leverage,
                    current.margin_mode or settings.margin_mode,
                    settings.position_mode,
                ),
                current.timestamp,
                mark,
                kind,
            )
            new = keep_funding_cut(spec, kind, current, new, ZERO, price)
        if opened:
            new = build_position(spec, symbol, direction, opened, price, ZERO, settings, None, mark, kind)
    elif current is not None:
        assert current.entry_price is not None
        entry = cm.grown_entry(kind, current.contracts * spec.contract_size, current.entry_price, q_fill, price)
        new = build_position(
            spec,
            symbol,
            current.side,
            current.contracts + contracts,
            entry,
            current.realized_pnl or ZERO,
            ContractSettings(
                current.leverage or settings.leverage,
                current.margin_mode or settings.margin_mode,
                settings.position_mode,
            ),
            current.timestamp,
            mark,
            kind,
        )
        new = keep_funding_cut(spec, kind, current, new, contracts, price)
    else:
        new = build_position(spec, symbol, direction, contracts, price, ZERO, settings, None, mark, kind)
    return FillPlan(symbol, slot, {(symbol, slot): new}, realized, fee, closed, opened)


def unearned_profit(spec: ContractSpec, plan: FillPlan, side: OrderSide, price: Decimal, mark: Decimal) -> Decimal:
    """The unrealized profit the contracts an order opens would show at ``mark`` (cross only, else 0).

    An order to place is checked at its own price: a cross limit order far from the mark gets no
    credit from this profit (the market is at the order's price when it fills); a loss at the
    mark still counts against it.
    """
    position = plan.positions.get((plan.symbol, plan.slot))
    if not plan.opened or position is None or position.margin_mode is not MarginMode.CROSS:
        return ZERO
    direction = _LONG if side is OrderSide.BUY else _SHORT
    q = plan.opened * spec.contract_size
    return max(cm.pnl(spec.kind, direction, q, price, mark), ZERO)
