"""Exact money: building Decimals and rounding them in a stated direction.

Every money value in the library goes through :func:`to_decimal`. Floats are refused with
``TypeError`` because ``0.1`` is not a decimal number; the only float-to-Decimal path is
:func:`decimal_from_data_float`, for numbers read from historical data files, which uses the
float's shortest round-tripping string (``Decimal(repr(x))``), so a price read as ``0.1`` is
exactly ``Decimal("0.1")``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
)

from octobot_trading.errors import InvalidNumber

__all__ = [
    "MAX_MONEY_ADJUSTED_EXPONENT",
    "MAX_MONEY_TEXT_LENGTH",
    "MIN_MONEY_EXPONENT",
    "ONE",
    "ZERO",
    "ceil_to_step",
    "decimal_from_data_float",
    "decimal_to_str",
    "divide_to_step",
    "floor_significant",
    "floor_to_step",
    "nearest_to_step",
    "to_decimal",
]

ZERO = Decimal(0)
ONE = Decimal(1)

#: Largest power of ten a money value may reach: every accepted value is below ``10**19``
#: (room for a signed 64-bit integer amount, and for 8+ decimals within 28 significant digits).
MAX_MONEY_ADJUSTED_EXPONENT = 18
#: Smallest power of ten a non-zero money value may reach (``1e-40``).
MIN_MONEY_EXPONENT = -40
#: Longest text accepted for one number, before it is parsed.
MAX_MONEY_TEXT_LENGTH = 100
_MAX_MONEY_INT = 10 ** (MAX_MONEY_ADJUSTED_EXPONENT + 1)


def _check_bounds(result: Decimal, value: object, name: str) -> Decimal:
    """Refuse a finite Decimal outside the money bounds (cheap: never expands the number)."""
    if result:
        adjusted = result.adjusted()
        if adjusted > MAX_MONEY_ADJUSTED_EXPONENT:
            raise InvalidNumber(
                f"{name}: {_short(value)} is too large (money values must be below 1e{MAX_MONEY_ADJUSTED_EXPONENT + 1})"
            )
        if adjusted < MIN_MONEY_EXPONENT:
            raise InvalidNumber(
                f"{name}: {_short(value)} is too small (the smallest non-zero money value is 1e{MIN_MONEY_EXPONENT})"
            )
        return result
    exponent = result.as_tuple().exponent
    # zero: drop an absurd exponent so that formatting it can never write out its zeros
    if isinstance(exponent, int) and MIN_MONEY_EXPONENT <= exponent <= 0:
        return result
    return Decimal(0).copy_sign(result)


def _short(value: object) -> str:
    """A bounded repr of a rejected input (an error message never expands a huge number)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return repr(str(value))
        sign, digits, exponent = value.as_tuple()
        if isinstance(exponent, int) and len(digits) <= 40 and -60 <= exponent <= 60:
            return repr(str(value))
        text = "".join(map(str, digits[:20])) + ("..." if len(digits) > 20 else "")
        return f"{'-' if sign else ''}{text}E{exponent}"
    if isinstance(value, int):
        return f"an integer of {len(str(abs(value))) if abs(value) < 10**4000 else 'over 4000'} digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_decimal(value: Decimal | int | str, *, name: str = "value", allow_non_finite: bool = False) -> Decimal:
    """Return ``value`` as an exact ``Decimal``.

    Accepts ``Decimal``, ``int`` and numeric ``str``. Raises ``TypeError`` for ``float`` (and
    ``bool`` and anything else), ``InvalidNumber`` for unparseable text, NaN or infinity (unless
    ``allow_non_finite``). ``name`` is used in error messages.

    Money is bounded so that no input can cost more than microseconds later (formatting or
    rounding ``1e999999999`` would write out a billion digits): a finite value must be below
    ``1e19`` and, when not zero, at least ``1e-40`` in magnitude, and text at most 100
    characters; anything else raises ``InvalidNumber``.
    """
    if type(value) is Decimal and value.is_finite() and value:
        # the common case, a non-zero finite Decimal: _check_bounds's test without its call
        adjusted = value.adjusted()
        if MIN_MONEY_EXPONENT <= adjusted <= MAX_MONEY_ADJUSTED_EXPONENT:
            return value
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"{name}: a bool is not a number")
    elif isinstance(value, int):
        if not -_MAX_MONEY_INT < value < _MAX_MONEY_INT:
            raise InvalidNumber(
                f"{name}: {_short(value)} is too large (money values must be below 1e{MAX_MONEY_ADJUSTED_EXPONENT + 1})"
            )
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_MONEY_TEXT_LENGTH:
            raise InvalidNumber(
                f"{name}: {_short(value)} is too long for a number (at most {MAX_MONEY_TEXT_LENGTH} characters)"
            )
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidNumber(f"{name}: {value!r} is not a decimal number") from None
    elif isinstance(value, float):
        raise TypeError(
            f"{name}: float {value!r} given for money; pass a str or Decimal (e.g. {str(value)!r}) "
            "so that the value is exact"
        )
    else:
        raise TypeError(f"{name}: expected Decimal, int or str, got {type(value).__name__}")
    if not result.is_finite():
        if not allow_non_finite:
            raise InvalidNumber(f"{name}: {_short(value)} is not a finite number")
        return result
    return _check_bounds(result, value, name)


def decimal_from_data_float(value: float | int) -> Decimal:
    """Convert a number read from a data file to Decimal through its shortest string form.

    ``decimal_from_data_float(0.1) == Decimal("0.1")``. Only for market data read from files
    (JSON / CSV candles); never for money given by a user.
    """
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return Decimal(value)
    result = Decimal(repr(float(value)))
    if not result.is_finite():
        raise InvalidNumber(f"{value!r} is not a finite number")
    return result


def _check_step(step: Decimal) -> None:
    if not step.is_finite() or step <= 0:
        raise InvalidNumber(f"step must be a positive finite number, got {step}")


# Exact context for integer-like work (scaling, products of integers): never divides.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact])

_ROUNDINGS = {"floor": ROUND_FLOOR, "ceil": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}


@dataclass(frozen=True, slots=True)
class _StepInfo:
    exponent: int
    digits: int
    adjusted: int
    quantum: Decimal | None  # exponent results are written at (the step's normalized one, if < 0)
    power_of_ten: bool


@functools.lru_cache(maxsize=1024)
def _step_info(step: Decimal) -> _StepInfo:
    """Facts about a (validated) step, cached: steps are a few per market."""
    _check_step(step)
    shape = step.as_tuple()
    normalized = step.normalize().as_tuple()
    assert isinstance(shape.exponent, int) and isinstance(normalized.exponent, int)
    quantum = Decimal((0, (1,), normalized.exponent)) if normalized.exponent < 0 else None
    return _StepInfo(
        shape.exponent,
        len(shape.digits),
        step.adjusted(),
        quantum,
        normalized.digits == (1,) and normalized.exponent <= 0,
    )


def _to_step(value: Decimal, step: Decimal, mode: str) -> Decimal:
    """Round ``value`` to a multiple of ``step``, exactly, at any magnitude.

    1. Power-of-ten steps (``0.01``, ``1``): ``quantize`` with the directed rounding, which is
       exact whenever the result fits the context (else step 3).
    2. Other steps: Decimal division in the default context, taken only when the operand sizes
       prove the rounded quotient decides the same integer as the exact one.
    3. Otherwise exact integer arithmetic.
    """
    info = _step_info(step)
    if not value.is_finite():
        raise InvalidNumber(f"cannot round the non-finite value {value}")
    rounding = _ROUNDINGS[mode]
    if info.power_of_ten and info.quantum is not None:
        try:
            result = value.quantize(info.quantum, rounding=rounding)
        except InvalidOperation:
            pass
        else:
            return result if result else abs(result)
    value_exp = value.as_tuple().exponent
    assert isinstance(value_exp, int)
    if value:
        integer_digits = max(0, value.adjusted() - info.adjusted + 2)
        if info.digits + max(0, info.exponent - value_exp) + integer_digits <= 26:
            quotient = (value / step).to_integral_value(rounding=rounding)
            result = quotient * step
            if info.quantum is not None:
                result = result.quantize(info.quantum)
            return result if result else abs(result)
    common = min(value_exp, info.exponent)
    numerator = int(_EXACT.scaleb(value, -common))
    denominator = int(_EXACT.scaleb(step, -common))
    if mode == "floor":
        units = numerator // denominator
    elif mode == "ceil":
        units = -((-numerator) // denominator)
    else:  # nearest, ties to even
        units, remainder = divmod(numerator, denominator)
        twice = 2 * remainder
        if twice > denominator or (twice == denominator and units % 2 == 1):
            units += 1
    result = _EXACT.multiply(Decimal(units), step)
    result = _EXACT.quantize(result, info.quantum if info.quantum is not None else Decimal(1))
    return result if result else abs(result)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` DOWN (towards -inf) to an exact multiple of ``step``.

    Exact for any magnitude (integer arithmetic, no context rounding). The result carries
    ``step``'s exponent, so ``str()`` of it never has more digits than the step.
    """
    return _to_step(value, step, "floor")


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` UP (towards +inf) to an exact multiple of ``step``."""
    return _to_step(value, step, "ceil")


def nearest_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` to the NEAREST multiple of ``step`` (ties to even)."""
    return _to_step(value, step, "nearest")


def divide_to_step(numerator: Decimal, denominator: Decimal, step: Decimal, rounding: str = "nearest") -> Decimal:
    """Return ``numerator / denominator`` rounded to a multiple of ``step``, exactly.

    The quotient is never rounded twice: both operands are scaled to integers and divided in
    integer arithmetic, then rounded ``"floor"``, ``"ceil"`` or ``"nearest"`` (ties to even).
    Raises ``InvalidNumber`` for a zero denominator or a non-finite operand.
    """
    _check_step(step)
    if not (numerator.is_finite() and denominator.is_finite()):
        raise InvalidNumber("cannot divide non-finite values")
    if not denominator:
        raise InvalidNumber("division by zero")
    if rounding not in _ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}")
    # numerator / (denominator * step) = (a/b) / ((c/e) * (s/t)) as a fraction of integers
    a, b = numerator.as_integer_ratio()
    c, e = denominator.as_integer_ratio()
    s, t = step.as_integer_ratio()
    n = a * e * t
    d = b * c * s
    if d < 0:
        n, d = -n, -d
    if rounding == "floor":
        units = n // d
    elif rounding == "ceil":
        units = -((-n) // d)
    else:
        units, remainder = divmod(n, d)
        twice = 2 * remainder
        if twice > d or (twice == d and units % 2 == 1):
            units += 1
    quantum = _step_info(step).quantum
    result = _EXACT.multiply(Decimal(units), step)
    result = _EXACT.quantize(result, quantum if quantum is not None else Decimal(1))
    return result if result else abs(result)


def floor_significant(value: Decimal, digits: int) -> Decimal:
    """Round ``value`` DOWN (towards zero) to ``digits`` significant digits."""
    if digits <= 0:
        raise InvalidNumber(f"significant digits must be positive, got {digits}")
    if value == 0:
        return ZERO
    exponent = value.adjusted() - digits + 1
    step = Decimal((0, (1,), exponent))
    if value > 0:
        return floor_to_step(value, step)
    return -floor_to_step(-value, step)


def decimal_to_str(value: Decimal) -> str:
    """Format ``value`` in plain positional notation (never ``1E-8``), as exchanges expect."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text
