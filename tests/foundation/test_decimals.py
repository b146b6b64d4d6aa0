"""Exact money helpers."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from octobot_trading.errors import InvalidNumber
from octobot_trading.util.decimals import (
    ceil_to_step,
    decimal_from_data_float,
    decimal_to_str,
    divide_to_step,
    floor_significant,
    floor_to_step,
    nearest_to_step,
    to_decimal,
)


def test_to_decimal_accepts_exact_types():
    assert to_decimal("0.1") == Decimal("0.1")
    assert to_decimal(" 12.5 ") == Decimal("12.5")
    assert to_decimal(3) == Decimal(3)
    assert to_decimal(Decimal("1.23")) == Decimal("1.23")


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan")])
def test_to_decimal_refuses_float(value):
    with pytest.raises(TypeError, match="float"):
        to_decimal(value)


@pytest.mark.parametrize("value", [True, None, [1], object()])
def test_to_decimal_refuses_other_types(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize("value", ["abc", "", "1,5", "NaN", "inf", "-Infinity", Decimal("NaN")])
def test_to_decimal_refuses_garbage_and_non_finite(value):
    with pytest.raises(InvalidNumber):
        to_decimal(value, name="price")


def test_to_decimal_names_the_field():
    with pytest.raises(InvalidNumber, match="price"):
        to_decimal("x", name="price")


def test_non_finite_allowed_when_asked():
    assert to_decimal("inf", allow_non_finite=True).is_infinite()


def test_decimal_from_data_float_uses_shortest_repr():
    assert decimal_from_data_float(0.1) == Decimal("0.1")
    assert decimal_from_data_float(19695.87) == Decimal("19695.87")
    assert decimal_from_data_float(5) == Decimal(5)
    with pytest.raises(InvalidNumber):
        decimal_from_data_float(float("inf"))


def test_rounding_directions():
    step = Decimal("0.01")
    assert floor_to_step(Decimal("1.239"), step) == Decimal("1.23")
    assert ceil_to_step(Decimal("1.231"), step) == Decimal("1.24")
    assert nearest_to_step(Decimal("1.235"), step) == Decimal("1.24")
    assert nearest_to_step(Decimal("1.225"), step) == Decimal("1.22")
    assert floor_to_step(Decimal("-1.231"), step) == Decimal("-1.24")
    assert str(floor_to_step(Decimal("5"), Decimal("0.001"))) == "5.000"
    assert floor_to_step(Decimal("123"), Decimal("10")) == Decimal("120")


def test_step_must_be_positive():
    with pytest.raises(InvalidNumber):
        floor_to_step(Decimal(1), Decimal(0))


def test_floor_significant():
    assert floor_significant(Decimal("123.456"), 4) == Decimal("123.4")
    assert floor_significant(Decimal("0.00123456"), 2) == Decimal("0.0012")
    assert floor_significant(Decimal("-987"), 2) == Decimal("-980")


def test_decimal_to_str_is_positional():
    assert decimal_to_str(Decimal("1E-8")) == "0.00000001"
    assert decimal_to_str(Decimal("1.5000")) == "1.5"
    assert decimal_to_str(Decimal("1E+3")) == "1000"
    assert decimal_to_str(Decimal("-0.0")) == "0"


steps = st.sampled_from([Decimal(s) for s in ("1", "0.1", "0.01", "0.00001", "0.00000001", "0.5", "0.25", "5")])
amounts = st.decimals(min_value=Decimal(0), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False, places=10)


@given(amounts, steps)
def test_floor_is_exact_multiple_not_above(value, step):
    result = floor_to_step(value, step)
    assert isinstance(result, Decimal)
    assert result <= value
    assert value - result < step
    assert (result / step) == (result / step).to_integral_value()
    assert "E" not in decimal_to_str(result)


@given(amounts, steps)
def test_ceil_is_exact_multiple_not_below(value, step):
    result = ceil_to_step(value, step)
    assert result >= value
    assert result - value < step
    assert (result / step) == (result / step).to_integral_value()


@pytest.mark.parametrize(
    "value, step",
    [
        ("12345678901234567890.123456789", "1e-8"),
        ("123456789012345678901.5", "1e-8"),
        ("99999999999999999999.999999999", "0.00000001"),
        ("1e40", "0.5"),
        ("-98765432109876543210.98765", "0.0003"),
    ],
)
def test_rounding_is_exact_beyond_the_default_context(value, step):
    v, s = Decimal(value), Decimal(step)
    low, high = floor_to_step(v, s), ceil_to_step(v, s)
    assert low <= v <= high
    assert high - low in (0, s)
    assert (low / s) == (low / s).to_integral_value() or low % s == 0


huge = st.decimals(
    min_value=Decimal("-1e30"), max_value=Decimal("1e30"), allow_nan=False, allow_infinity=False, places=12
)


@given(huge, steps)
def test_rounding_properties_at_any_magnitude(value, step):
    low, high, near = floor_to_step(value, step), ceil_to_step(value, step), nearest_to_step(value, step)
    assert low <= value <= high
    assert high - low in (0, step)
    assert near in (low, high)
    assert abs(near - value) <= step / 2


def test_non_finite_value_cannot_be_rounded():
    with pytest.raises(InvalidNumber):
        floor_to_step(Decimal("NaN"), Decimal("0.1"))


def _bound_id(value):
    return type(value).__name__ + str(value.bit_length() if isinstance(value, int) else len(str(value)))


_HUGE_OR_ABSURD = [
    "1e30",
    10**30,
    "9" * 26,
    "-1e999999999",
    "1e999999999",
    "1e-999999999",
    Decimal("1e999999999"),
    Decimal("-1E+30"),
    "1" * 200,
    10**5000,
    -(10**19),
]


@pytest.mark.parametrize("value", _HUGE_OR_ABSURD, ids=_bound_id)
def test_to_decimal_refuses_money_outside_the_bounds_with_a_typed_error(value):
    with pytest.raises(InvalidNumber) as excinfo:
        to_decimal(value, name="amount")
    message = str(excinfo.value)
    assert message.startswith("amount:")
    assert len(message) < 200  # the message never writes out a huge number


@pytest.mark.parametrize(
    "value",
    [
        "9223372036854775807",
        "999999999999999999",
        "0.00000001",
        "1e-40",
        "1.0000000000000000000000000000000000000000000000000",
        "-5e18",
    ],
)
def test_to_decimal_keeps_every_realistic_money_value(value):
    assert to_decimal(value) == Decimal(value)


def test_to_decimal_keeps_zero_small_whatever_its_exponent():
    assert str(to_decimal("0e-999999999")) == "0"
    assert str(to_decimal("0E+999999")) == "0"


def test_market_spec_treats_an_unbounded_venue_maximum_as_no_limit():
    from octobot_trading.util.market_spec import MarketSpec

    spec = MarketSpec(max_amount="1e30", max_cost=str(2**127), max_price="1000000")
    assert spec.max_amount is None and spec.max_cost is None
    assert spec.max_price == Decimal("1000000")


divisors = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False, places=12
).filter(lambda d: d != 0)
division_steps = st.sampled_from([Decimal(s) for s in ("1e-18", "0.01", "1", "0.0005", "25", "1E+3", "0.10")])


@given(huge, divisors, division_steps, st.sampled_from(["nearest", "floor", "ceil"]))
def test_divide_to_step_is_the_exact_quotient_rounded_once_with_the_step_s_decimals(
    numerator, denominator, step, rounding
):
    exact = Fraction(numerator) / (Fraction(denominator) * Fraction(step))
    units = exact.numerator // exact.denominator
    rest = exact - units
    if rounding == "ceil" and rest:
        units += 1
    elif rounding == "nearest" and (rest > Fraction(1, 2) or (rest == Fraction(1, 2) and units % 2 == 1)):
        units += 1
    result = divide_to_step(numerator, denominator, step, rounding)
    assert result == Fraction(units) * Fraction(step)
    # the result is written with the step's decimals (its normalized exponent), never a negative zero
    places = max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
    assert result.as_tuple().exponent == -places
    assert not result.is_signed() or result < 0


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_non_finite_decimal_is_named_as_it_is_in_the_error(text):
    with pytest.raises(InvalidNumber) as raised:
        to_decimal(Decimal(text), name="x")
    assert f"x: '{text}'" in str(raised.value)
