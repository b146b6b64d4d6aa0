"""Futures positions as reported by the connector, held per symbol.

Positions are the venue's: the manager stores the latest :class:`~octobot_trading.exchanges.types.ExchangePosition`
of each symbol as a :class:`Position` and drops closed ones. Local position accounting from
fills (simulated futures) is not modelled yet; see docs/trading.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from octobot_trading.enums import PositionSide
from octobot_trading.errors import BadExchangeResponse
from octobot_trading.exchanges.types import ExchangePosition

__all__ = ["Position", "PositionsManager"]


@dataclass(frozen=True, slots=True)
class Position:
    """One open futures position."""

    symbol: str
    side: PositionSide
    contracts: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    liquidation_price: Decimal | None
    timestamp: int | None

    @classmethod
    def from_exchange(cls, raw: ExchangePosition) -> Position:
        """Build from the connector's typed position; raise ``BadExchangeResponse`` on an unknown side."""
        try:
            side = PositionSide(raw.side.lower())
        except ValueError:
            raise BadExchangeResponse(f"unknown position side {raw.side!r}", symbol=raw.symbol) from None
        if raw.contracts < 0:
            raise BadExchangeResponse("negative position size", symbol=raw.symbol)
        return cls(raw.symbol, side, raw.contracts, raw.entry_price, raw.mark_price, raw.unrealized_pnl,
                   raw.leverage, raw.liquidation_price, raw.timestamp)


class PositionsManager:
    """Latest open position per ``(symbol, side)``."""

    def __init__(self) -> None:
        self._positions: dict[tuple[str, PositionSide], Position] = {}

    def update_from_exchange(self, positions: Iterable[ExchangePosition], symbols: Iterable[str] | None = None) -> None:
        """Replace the positions of ``symbols`` (default: every symbol) with the exchange's view.

        Everything is parsed before anything is replaced, so a bad reply changes nothing.
        """
        parsed = [Position.from_exchange(p) for p in positions]
        scope = None if symbols is None else set(symbols)
        for key in list(self._positions):
            if scope is None or key[0] in scope:
                del self._positions[key]
        for position in parsed:
            if position.contracts != 0:
                self._positions[(position.symbol, position.side)] = position

    def get(self, symbol: str, side: PositionSide | None = None) -> Position | None:
        """Return the open position of ``symbol`` (of ``side`` when given), or None."""
        for (sym, pos_side), position in self._positions.items():
            if sym == symbol and (side is None or pos_side is side):
                return position
        return None

    def positions(self) -> list[Position]:
        """All open positions."""
        return list(self._positions.values())
