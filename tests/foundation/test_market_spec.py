"""MarketSpec: adapt_quantity / adapt_price / check_limits, property-tested."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from octobot_trading import MarketSpec, OrderSide, PrecisionMode
from octobot_trading.errors import InvalidNumber, InvalidOrder
from octobot_trading.util.decimals import decimal_to_str

SPEC = MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="5", min_amount="0.0001", max_amount="9000")


def test_defaults_match_api():
    spec = MarketSpec()
    assert spec.price_tick == Decimal("0.00000001")
    assert spec.amount_step == Decimal("0.00000001")
    assert spec.min_cost is None and spec.min_amount is None
    spec.check_limits("0.000000001", "1")  # no minimums


def test_float_fields_are_refused():
    with pytest.raises(TypeError):
        MarketSpec(price_tick=0.01)  # type: ignore[arg-type]


def test_non_positive_tick_refused():
    with pytest.raises(InvalidOrder, match="price_tick"):
        MarketSpec(price_tick="0")


def test_adapt_quantity_rounds_down():
    assert SPEC.adapt_quantity("0.123456789") == Decimal("0.12345")
    assert SPEC.adapt_quantity("0.000009") == Decimal("0")
    with pytest.raises(TypeError):
        SPEC.adapt_quantity(0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrder):
        SPEC.adapt_quantity("-1")


def test_adapt_price_direction_is_safe_for_side():
    assert SPEC.adapt_price("100.019", OrderSide.BUY) == Decimal("100.01")
    assert SPEC.adapt_price("100.011", OrderSide.SELL) == Decimal("100.02")
    assert SPEC.adapt_price("100.015", rounding="nearest") == Decimal("100.02")
    assert SPEC.adapt_price("0.001", OrderSide.BUY) == Decimal("0.01")  # never zero
    with pytest.raises(ValueError):
        SPEC.adapt_price("1")
    with pytest.raises(InvalidOrder):
        SPEC.adapt_price("0", OrderSide.BUY)


def test_check_limits_names_the_limit():
    with pytest.raises(InvalidOrder) as exc:
        SPEC.check_limits("0.00005", "30000")
    assert exc.value.limit == "min_amount"
    with pytest.raises(InvalidOrder) as exc:
        SPEC.check_limits("0.0001", "30000")
    assert exc.value.limit == "min_cost"
    assert "below min_cost 5" in str(exc.value)
    with pytest.raises(InvalidOrder) as exc:
        SPEC.check_limits("9001", "1")
    assert exc.value.limit == "max_amount"
    with pytest.raises(InvalidOrder) as exc:
        SPEC.check_limits("0", "1")
    assert exc.value.limit == "amount"
    SPEC.check_limits("0.001", "30000")
    assert SPEC.passes_limits(Decimal("0.001"), Decimal("30000"))
    assert not SPEC.passes_limits(Decimal("0.0001"), Decimal("30000"))


def test_decimal_places_and_significant_digits():
    spec = MarketSpec.from_decimal_places(2, 3)
    assert spec.price_tick == Decimal("0.01") and spec.amount_step == Decimal("0.001")
    sig = MarketSpec(precision_mode=PrecisionMode.SIGNIFICANT_DIGITS, amount_significant_digits=3)
    assert sig.adapt_quantity("123.456") == Decimal("123")
    with pytest.raises(InvalidOrder):
        MarketSpec(precision_mode=PrecisionMode.SIGNIFICANT_DIGITS)


ticks = st.sampled_from(["0.01", "0.1", "1", "0.00000001", "0.5", "0.0001", "10"])
values = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("1e8"), allow_nan=False, allow_infinity=False, places=9
)


@given(values, ticks, ticks)
def test_adapt_quantity_properties(amount, step, tick):
    spec = MarketSpec(price_tick=tick, amount_step=step)
    result = spec.adapt_quantity(amount)
    assert type(result) is Decimal
    assert result <= amount
    assert amount - result < spec.amount_step
    assert result % spec.amount_step == 0
    assert "E" not in decimal_to_str(result) and "e" not in decimal_to_str(result)


@given(values, ticks, st.sampled_from(list(OrderSide)))
def test_adapt_price_properties(price, tick, side):
    spec = MarketSpec(price_tick=tick)
    result = spec.adapt_price(price, side)
    assert type(result) is Decimal
    assert result % spec.price_tick == 0
    assert result > 0
    if side is OrderSide.BUY:
        assert result <= price or result == spec.price_tick
    else:
        assert result >= price
    assert abs(result - price) < spec.price_tick or result == spec.price_tick


@given(values, values)
def test_check_limits_agrees_with_bounds(amount, price):
    spec = MarketSpec(min_amount="0.001", min_cost="10", max_cost="1000000")
    cost = amount * price
    expected_ok = amount >= Decimal("0.001") and Decimal("10") <= cost <= Decimal("1000000")
    assume(amount > 0)
    assert spec.passes_limits(amount, price) is expected_ok


def _limits(values: dict[str, str]) -> dict[str, Any]:
    """Limits passed by name (``MarketSpec(**limits)``): money as text, as users give it."""
    return values


@pytest.mark.parametrize("what", ["amount", "cost", "price"])
def test_min_above_max_refused(what):
    with pytest.raises(InvalidOrder) as info:
        MarketSpec(**_limits({f"min_{what}": "2", f"max_{what}": "1"}), symbol="BTC/USDT")
    assert info.value.limit == f"min_{what}"
    assert f"min_{what} 2 is above max_{what} 1" in str(info.value)
    equal = MarketSpec(**_limits({f"min_{what}": "1", f"max_{what}": "1"}))  # a single allowed value is valid
    assert getattr(equal, f"min_{what}") == getattr(equal, f"max_{what}") == Decimal(1)


def test_terms_that_just_passed_one_spec_are_checked_again_elsewhere():
    """An order's terms are checked several times in a row (mode, trader, venue); a pass is only
    reused for the same spec and the same Decimal terms, never for another spec, another
    ``reduce_only``, other types or a signaling NaN."""
    free = MarketSpec()
    strict = MarketSpec(min_cost="10")
    amount, price = Decimal("0.001"), Decimal("3000")  # cost 3: below strict's min_cost
    free.check_limits(amount, price)
    free.check_limits(Decimal("0.0010"), Decimal("3000.0"))  # the same values: passes again
    with pytest.raises(InvalidOrder) as exc:
        strict.check_limits(amount, price)
    assert exc.value.limit == "min_cost"
    strict.check_limits(amount, price, reduce_only=True)  # exempt from min_cost
    with pytest.raises(InvalidOrder) as exc:
        strict.check_limits(amount, price)  # the reduce-only pass is not reused
    assert exc.value.limit == "min_cost"
    free.check_limits(Decimal(1), None)
    with pytest.raises(TypeError):
        free.check_limits(True, None)  # type: ignore[arg-type]  # equal to 1, still not a number
    with pytest.raises(InvalidNumber):
        free.check_limits(Decimal("sNaN"), None)
    with pytest.raises(InvalidOrder) as exc:
        free.check_limits(Decimal(1), Decimal(0))
    assert exc.value.limit == "price"


def test_a_cost_a_hair_above_max_cost_is_refused_whatever_the_callers_decimal_context():
    from decimal import Context, Inexact, localcontext

    spec = MarketSpec(max_cost="100")
    amount, price = Decimal("1.000000000000000000000000000001"), Decimal("100")
    for context in (Context(prec=28), Context(prec=100), Context(prec=5, traps=[Inexact])):
        with localcontext(context), pytest.raises(InvalidOrder, match="max_cost"):
            spec.check_limits(amount, price)


def test_the_cost_check_gives_the_same_answer_under_any_decimal_context():
    from decimal import Context, Inexact, localcontext

    from octobot_trading import ContractSpec

    linear = MarketSpec(max_cost="1000")
    contract = ContractSpec(max_cost="1000", contract_size="100", maintenance_margin_rate="0.004")
    inverse = contract.for_symbol("BTC/USD:BTC")
    for spec, amount, price in ((linear, "1.23456789", "12.3456789"), (inverse, "3", "0.3")):
        with localcontext(Context(prec=5, traps=[Inexact])):
            spec.check_limits(Decimal(amount), Decimal(price))
        with localcontext(Context(prec=28)):
            spec.check_limits(Decimal(amount), Decimal(price))
    assert inverse.order_cost(Decimal("3"), Decimal("0.3")) == Decimal("1000")
