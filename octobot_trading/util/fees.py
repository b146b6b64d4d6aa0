"""Fee rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from octobot_trading.enums import TradeType
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.decimals import to_decimal

__all__ = ["DEFAULT_FEE_RATE", "Fees"]

DEFAULT_FEE_RATE = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Fees:
    """Maker and taker fee rates as fractions (``Decimal("0.001")`` is 0.1 %).

    Accepts ``Decimal``, ``int`` or ``str``; a ``float`` raises ``TypeError``. Rates must be in
    ``[0, 1)``; negative (rebate) rates are refused here because the simulator does not model them.
    """

    maker: Decimal = DEFAULT_FEE_RATE
    taker: Decimal = DEFAULT_FEE_RATE

    if TYPE_CHECKING:
        # What callers may pass (``__post_init__`` converts); at run time the dataclass
        # generates this method.
        def __init__(self, maker: Decimal | int | str = ..., taker: Decimal | int | str = ...) -> None: ...

    def __post_init__(self) -> None:
        for name in ("maker", "taker"):
            value = to_decimal(getattr(self, name), name=f"fees.{name}")
            if not (0 <= value < 1):
                raise ConfigurationError(f"fees.{name} must be in [0, 1), got {value}", field=f"fees.{name}")
            object.__setattr__(self, name, value)

    def rate(self, role: TradeType) -> Decimal:
        """The rate for a maker or taker fill."""
        return self.maker if role is TradeType.MAKER else self.taker
