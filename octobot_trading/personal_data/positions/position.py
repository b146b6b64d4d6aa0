"""Futures positions: one :class:`Position` value per open position, and the manager holding them.

A :class:`Position` is an immutable snapshot. Live, the manager stores the venue's view
(:class:`~octobot_trading.exchanges.types.ExchangePosition`) of each symbol and drops closed ones;
positions accounted locally from fills (paper trading and backtests) come from
:mod:`~octobot_trading.personal_data.positions.accounting`, which fills every field
(margins, realized PnL, liquidation price). See docs/futures.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from octobot_trading.enums import MarginMode, PositionSide
from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchanges.types import ExchangePosition
from octobot_trading.util.records import fast_frozen_init

__all__ = ["Position", "PositionsManager", "stamped"]


@fast_frozen_init
@dataclass(frozen=True, slots=True)
class Position:
    """One open futures position (``side`` LONG or SHORT; ``size`` = ``contracts``, in contracts).

    Fields the venue does not report are None; a locally accounted position fills them all:
    ``initial_margin`` and ``maintenance_margin`` (settle currency), ``realized_pnl`` (gross of
    fees, since the position opened), ``liquidation_price`` (isolated margin; None in cross).
    """

    symbol: str
    side: PositionSide
    contracts: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None
    timestamp: int | None
    margin_mode: MarginMode | None = None
    initial_margin: Decimal | None = None
    maintenance_margin: Decimal | None = None
    realized_pnl: Decimal | None = None

    @property
    def size(self) -> Decimal:
        """Number of contracts held (never negative; the direction is ``side``)."""
        return self.contracts

    @classmethod
    def from_exchange(cls, raw: ExchangePosition) -> Position:
        """Build from the connector's typed position; raise ``BadExchangeResponse`` on an unknown side."""
        try:
            side = PositionSide(raw.side.lower())
        except ValueError:
            raise BadExchangeResponse(f"unknown position side {raw.side!r}", symbol=raw.symbol) from None
        if raw.contracts < 0:
            raise BadExchangeResponse("negative position size", symbol=raw.symbol)
        try:
            margin_mode = MarginMode(raw.margin_mode.lower()) if raw.margin_mode else None
        except ValueError:
            margin_mode = None  # a venue-specific label: the mode is unknown, not an error
        return cls(
            raw.symbol,
            side,
            raw.contracts,
            raw.entry_price,
            raw.mark_price,
            raw.unrealized_pnl,
            raw.leverage,
            raw.liquidation_price,
            raw.timestamp,
            margin_mode,
            raw.initial_margin,
            raw.maintenance_margin,
            raw.realized_pnl,
        )


def stamped(position: Position, timestamp: int | None) -> Position:
    """``position`` as reported at ``timestamp`` (the same object when its timestamp is already that)."""
    if position.timestamp == timestamp:
        return position
    p = position
    return Position(
        p.symbol,
        p.side,
        p.contracts,
        p.entry_price,
        p.mark_price,
        p.unrealized_pnl,
        p.leverage,
        p.liquidation_price,
        timestamp,
        p.margin_mode,
        p.initial_margin,
        p.maintenance_margin,
        p.realized_pnl,
    )


class PositionsManager:
    """Latest open position per ``(symbol, side)``, and the listeners told of liquidations.

    A liquidation reported by the venue (the simulated venue pushes each one with the positions)
    is passed to every listener added with :meth:`add_liquidation_listener`
    (``await listener(liquidation)``, an ``accounting.Liquidation``: time, symbol, side, size,
    price, margin lost, margin mode), after the positions are updated.
    """

    def __init__(self) -> None:
        self._positions: dict[tuple[str, PositionSide], Position] = {}
        self._liquidation_listeners: list[Callable[[Any], Awaitable[None]]] = []
        #: ``refresh(symbol)``: the venue's current positions of ``symbol`` when they moved since
        #: its last push (a simulated venue valuing a mark lazily), else None; read before every
        #: :meth:`get` / :meth:`positions`, so a read shows the current mark and unrealized PnL
        self.refresh: Callable[[str], list[Position] | None] | None = None

    def add_liquidation_listener(self, listener: Callable[[Any], Awaitable[None]]) -> Callable[[], None]:
        """Call ``await listener(liquidation)`` for each liquidation; return a function removing it."""
        self._liquidation_listeners.append(listener)

        def remove() -> None:
            if listener in self._liquidation_listeners:
                self._liquidation_listeners.remove(listener)

        return remove

    async def notify_liquidations(self, liquidations: Iterable[Any]) -> None:
        """Tell every liquidation listener of ``liquidations``, in order."""
        for liquidation in liquidations:
            for listener in list(self._liquidation_listeners):
                await listener(liquidation)

    def update_from_exchange(
        self, positions: Iterable[ExchangePosition | Position], symbols: Iterable[str] | None = None
    ) -> None:
        """Replace the positions of ``symbols`` (default: every symbol) with the exchange's view.

        A venue report (``ExchangePosition``) is parsed; a ``Position`` (the simulated venue's
        accounted positions, pushed as they are) is kept as given. Everything is parsed before
        anything is replaced, so a bad reply changes nothing.
        """
        parsed = [p if type(p) is Position else Position.from_exchange(p) for p in positions]  # type: ignore[arg-type]
        scope = None if symbols is None else set(symbols)
        for key in list(self._positions):
            if scope is None or key[0] in scope:
                del self._positions[key]
        for position in parsed:
            if position.contracts != 0:
                self._positions[(position.symbol, position.side)] = position

    def apply_updates(self, positions: Iterable[ExchangePosition]) -> None:
        """Apply the venue's pushed changes (a private stream): only the positions they name change.

        A hedge-mode update (``hedged`` True) replaces that ``(symbol, side)``; any other replaces
        every side of its symbol (a one-way position may have flipped). 0 contracts closes. The
        leverage and margin mode a stream update lacks are kept from the position it replaces.
        Everything is parsed before anything changes, so a bad update changes nothing.
        """
        updates = [(p, None if p.contracts == 0 else Position.from_exchange(p)) for p in positions]
        for raw, parsed in updates:
            previous = self.get(raw.symbol, parsed.side if parsed is not None and raw.hedged else None)
            if raw.hedged and raw.side in (PositionSide.LONG, PositionSide.SHORT):
                self._positions.pop((raw.symbol, PositionSide(raw.side)), None)
            else:
                for key in [k for k in self._positions if k[0] == raw.symbol]:
                    del self._positions[key]
            if parsed is None:
                continue
            if previous is not None and (parsed.leverage is None or parsed.margin_mode is None):
                parsed = replace(
                    parsed,
                    leverage=parsed.leverage if parsed.leverage is not None else previous.leverage,
                    margin_mode=parsed.margin_mode if parsed.margin_mode is not None else previous.margin_mode,
                )
            self._positions[(parsed.symbol, parsed.side)] = parsed

    def get(self, symbol: str, side: PositionSide | None = None) -> Position | None:
        """Return the open position of ``symbol`` (of ``side`` when given), or None."""
        refresh = self.refresh
        if refresh is not None and (fresh := refresh(symbol)) is not None:
            self._replace(symbol, fresh)
        for (sym, pos_side), position in self._positions.items():
            if sym == symbol and (side is None or pos_side is side):
                return position
        return None

    def positions(self) -> list[Position]:
        """All open positions."""
        if self.refresh is not None:
            for symbol in {key[0] for key in self._positions}:
                self._refresh(symbol)
        return list(self._positions.values())

    def _refresh(self, symbol: str) -> None:
        fresh = self.refresh(symbol)  # type: ignore[misc]
        if fresh is not None:
            self._replace(symbol, fresh)

    def _replace(self, symbol: str, fresh: list[Position]) -> None:
        """``update_from_exchange(fresh, (symbol,))`` for the one symbol."""
        parsed = [p if type(p) is Position else Position.from_exchange(p) for p in fresh]  # type: ignore[arg-type]
        positions = self._positions
        for key in [k for k in positions if k[0] == symbol]:
            del positions[key]
        for position in parsed:
            if position.contracts != 0:
                positions[(position.symbol, position.side)] = position
