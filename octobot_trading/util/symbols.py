"""ccxt unified symbols: ``BASE/QUOTE`` (spot), ``BASE/QUOTE:SETTLE`` (perpetual swaps),
``BASE/QUOTE:SETTLE-YYMMDD`` (dated futures) and ``BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P`` (options).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from octobot_trading.errors import InvalidSymbol

__all__ = ["Symbol", "cached_symbol", "format_symbol", "parse_symbol"]

_CURRENCY = r"[A-Za-z0-9][A-Za-z0-9._]*"
_SYMBOL_RE = re.compile(
    rf"^(?P<base>{_CURRENCY})/(?P<quote>{_CURRENCY})"
    rf"(?::(?P<settle>{_CURRENCY})"
    r"(?:-(?P<expiry>\d{6})(?:-(?P<strike>\d+(?:\.\d+)?)-(?P<option>[CP]))?)?)?$"
)


@dataclass(frozen=True, slots=True)
class Symbol:
    """A parsed unified symbol. ``str(symbol)`` gives back the unified string."""

    base: str
    quote: str
    settle: str | None = None
    expiry: str | None = None
    strike: Decimal | None = None
    option_type: str | None = None

    @property
    def is_spot(self) -> bool:
        """True for ``BASE/QUOTE`` symbols."""
        return self.settle is None

    @property
    def is_linear(self) -> bool:
        """True for contracts settled in the quote currency."""
        return self.settle is not None and self.settle == self.quote

    @property
    def is_inverse(self) -> bool:
        """True for contracts settled in the base currency."""
        return self.settle is not None and self.settle == self.base

    @property
    def is_dated(self) -> bool:
        """True for dated futures and options."""
        return self.expiry is not None

    @property
    def is_option(self) -> bool:
        """True for options."""
        return self.option_type is not None

    @property
    def spot(self) -> str:
        """The ``BASE/QUOTE`` part."""
        return f"{self.base}/{self.quote}"

    def __str__(self) -> str:
        return format_symbol(self)


def parse_symbol(symbol: str) -> Symbol:
    """Parse a ccxt unified symbol; raise ``InvalidSymbol`` naming the string when it is not one."""
    if not isinstance(symbol, str):
        raise InvalidSymbol(f"a symbol must be a string, got {type(symbol).__name__}")
    match = _SYMBOL_RE.match(symbol.strip())
    if match is None:
        raise InvalidSymbol(
            f"{symbol!r} is not a unified symbol (expected BASE/QUOTE, BASE/QUOTE:SETTLE or BASE/QUOTE:SETTLE-YYMMDD)",
            symbol=symbol,
        )
    strike: Decimal | None = None
    if match["strike"] is not None:
        try:
            strike = Decimal(match["strike"])
        except InvalidOperation:  # pragma: no cover - the regex only admits digits
            raise InvalidSymbol(f"{symbol!r}: invalid strike", symbol=symbol) from None
    expiry = match["expiry"]
    if expiry is not None:
        month, day = int(expiry[2:4]), int(expiry[4:6])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise InvalidSymbol(f"{symbol!r}: invalid expiry date {expiry}", symbol=symbol)
    return Symbol(
        base=match["base"].upper(),
        quote=match["quote"].upper(),
        settle=match["settle"].upper() if match["settle"] else None,
        expiry=expiry,
        strike=strike,
        option_type=match["option"],
    )


_parsed: dict[str, Symbol] = {}


def cached_symbol(symbol: str) -> Symbol:
    """``parse_symbol`` memoised: for the order and fill paths (an account trades few symbols)."""
    parsed = _parsed.get(symbol)
    if parsed is None:
        parsed = _parsed[symbol] = parse_symbol(symbol)
    return parsed


def format_symbol(symbol: Symbol) -> str:
    """Format a :class:`Symbol` back to its unified string."""
    text = f"{symbol.base}/{symbol.quote}"
    if symbol.settle is not None:
        text += f":{symbol.settle}"
        if symbol.expiry is not None:
            text += f"-{symbol.expiry}"
            if symbol.option_type is not None and symbol.strike is not None:
                text += f"-{format(symbol.strike, 'f')}-{symbol.option_type}"
    return text
