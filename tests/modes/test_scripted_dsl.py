"""The scripted-mode order DSL: parsing refuses malformed strings by name; sizing is exact, rounded
down to the step and never above what is available."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.enums import OrderSide
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.modes import DSLError, ScriptError
from octobot_trading.modes.scripted_dsl import (
    AmountKind,
    PriceKind,
    parse_amount,
    parse_price,
    resolve_price,
    size_amount,
)
from octobot_trading.util.market_spec import MarketSpec


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("0.01", AmountKind.ABSOLUTE, Decimal("0.01")),
        (" 2 ", AmountKind.ABSOLUTE, Decimal("2")),
        ("10%", AmountKind.AVAILABLE, Decimal("10")),
        ("12.5%t", AmountKind.TOTAL, Decimal("12.5")),
        ("100%p", AmountKind.POSITION, Decimal("100")),
        ("all", AmountKind.AVAILABLE, Decimal("100")),
        ("ALL", AmountKind.AVAILABLE, Decimal("100")),
        (Decimal("0.5"), AmountKind.ABSOLUTE, Decimal("0.5")),
        (3, AmountKind.ABSOLUTE, Decimal("3")),
    ],
)
def test_amounts_parse_to_their_kind_and_exact_value(text: object, kind: AmountKind, value: Decimal) -> None:
    spec = parse_amount(text)
    assert (spec.kind, spec.value) == (kind, value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "10",
        "10%x",
        "%10",
        "-1",
        "0",
        "0%",
        "101%",
        "1e5",
        "1,5",
        "nan",
        "inf",
        "10 %%",
        "+5",
        "all%",
        "5%tp",
        "10 %",
        "1 0%",
        "10% t",
        "\u0661\u0660%",
        "\uff11",
        "\u0660.\u0660\u0661",
        "1\u00a00",
    ],
)
def test_malformed_amount_raises_dsl_error_naming_the_string(text: str) -> None:
    if text == "10":  # a plain number is valid: keep the list honest
        assert parse_amount(text).kind is AmountKind.ABSOLUTE
        return
    with pytest.raises(DSLError) as info:
        parse_amount(text)
    assert repr(text) in str(info.value)
    assert info.value.text == text
    assert isinstance(info.value, ScriptError) and isinstance(info.value, OctoBotTradingError)


def test_float_amounts_and_prices_are_type_errors() -> None:
    with pytest.raises(TypeError):
        parse_amount(0.1)
    with pytest.raises(TypeError):
        parse_price(25000.0)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("25000", PriceKind.ABSOLUTE, Decimal("25000")),
        ("@25000.5", PriceKind.ABSOLUTE, Decimal("25000.5")),
        ("+2%", PriceKind.CURRENT, Decimal("2")),
        ("-1.5%", PriceKind.CURRENT, Decimal("-1.5")),
        ("e+2%", PriceKind.ENTRY, Decimal("2")),
        ("e-0.5%", PriceKind.ENTRY, Decimal("-0.5")),
        (" +2% ", PriceKind.CURRENT, Decimal("2")),  # stripped at the ends only
        (Decimal("100"), PriceKind.ABSOLUTE, Decimal("100")),
    ],
)
def test_prices_parse_to_their_kind_and_exact_value(text: object, kind: PriceKind, value: Decimal) -> None:
    spec = parse_price(text)
    assert (spec.kind, spec.value) == (kind, value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x",
        "2%",
        "+2",
        "e2%",
        "@",
        "@-5",
        "-100%",
        "-150%",
        "0",
        "++2%",
        "e+%",
        "25 000",
        "1e3",
        "+1 0%",
        "+ 2 %",
        "e + 2 %",
        "+2 %",
        "e +2%",
        "@ 25000",
        "\u0662\u0665\u0660\u0660\u0660",
        "+\u0661\u0660%",
        "\uff11",
    ],
)
def test_malformed_price_raises_dsl_error_naming_the_string(text: str) -> None:
    with pytest.raises(DSLError) as info:
        parse_price(text)
    assert repr(text) in str(info.value)


def test_relative_prices_resolve_exactly_from_their_reference() -> None:
    assert resolve_price(parse_price("+2%"), current=Decimal("25000"), entry=None) == Decimal("25500")
    assert resolve_price(parse_price("-1%"), current=Decimal("100.10"), entry=None) == Decimal("99.099")
    assert resolve_price(parse_price("e+2%"), current=None, entry=Decimal("200")) == Decimal("204")
    assert resolve_price(parse_price("@7"), current=None, entry=None) == Decimal("7")


def test_entry_relative_price_without_a_position_is_a_typed_error() -> None:
    with pytest.raises(DSLError, match="no open position"):
        resolve_price(parse_price("e+2%"), current=Decimal("100"), entry=None)


def test_position_relative_amount_without_a_position_is_a_typed_error() -> None:
    with pytest.raises(DSLError, match="no open position"):
        size_amount(
            parse_amount("50%p"),
            side=OrderSide.SELL,
            price=Decimal("1"),
            market=MarketSpec(),
            available_base=Decimal("1"),
            available_quote=Decimal("1"),
        )


def test_all_of_the_available_quote_buys_exactly_what_it_pays_for() -> None:
    spec = MarketSpec(amount_step="0.001")
    amount = size_amount(
        parse_amount("all"),
        side=OrderSide.BUY,
        price=Decimal("3"),
        market=spec,
        available_base=Decimal(0),
        available_quote=Decimal("10"),
    )
    assert amount == Decimal("3.333")
    amount = size_amount(
        parse_amount("all"),
        side=OrderSide.BUY,
        price=Decimal("3"),
        market=spec,
        available_base=Decimal(0),
        available_quote=Decimal("10"),
        quote_cost_factor=Decimal("1.001"),
    )
    assert amount == Decimal("3.330") and amount * 3 * Decimal("1.001") <= 10


_steps = st.sampled_from(
    [
        Decimal("1"),
        Decimal("0.1"),
        Decimal("0.001"),
        Decimal("0.00001"),
        Decimal("0.00000001"),
        Decimal("0.5"),
        Decimal("0.025"),
    ]
)
_money = st.decimals(
    min_value=Decimal("0"), max_value=Decimal("1000000"), places=8, allow_nan=False, allow_infinity=False
)
_prices = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("1000000"), places=8, allow_nan=False, allow_infinity=False
)
_percent = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal("100"), places=4, allow_nan=False, allow_infinity=False
)
_factors = st.sampled_from([Decimal(1), Decimal("1.001"), Decimal("1.0025"), Decimal("1.02")])


@settings(max_examples=400, deadline=None)
@given(
    step=_steps,
    price=_prices,
    available_base=_money,
    available_quote=_money,
    extra_base=_money,
    extra_quote=_money,
    percent=_percent,
    suffix=st.sampled_from(["%", "%t"]),
    side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    factor=_factors,
)
def test_relative_amounts_are_exact_on_the_step_and_never_above_what_is_available(
    step: Decimal,
    price: Decimal,
    available_base: Decimal,
    available_quote: Decimal,
    extra_base: Decimal,
    extra_quote: Decimal,
    percent: Decimal,
    suffix: str,
    side: OrderSide,
    factor: Decimal,
) -> None:
    market = MarketSpec(amount_step=step)
    spec = parse_amount(f"{percent:f}{suffix}")
    total_base, total_quote = available_base + extra_base, available_quote + extra_quote
    amount = size_amount(
        spec,
        side=side,
        price=price,
        market=market,
        available_base=available_base,
        available_quote=available_quote,
        total_base=total_base,
        total_quote=total_quote,
        quote_cost_factor=factor,
    )
    assert isinstance(amount, Decimal) and amount >= 0
    assert amount % step == 0  # on the step, exactly
    fraction = percent / 100
    if side is OrderSide.BUY:
        budget = fraction * (available_quote if suffix == "%" else total_quote)
        assert amount * price * factor <= available_quote  # never above what is available
        assert amount * price * factor <= budget  # never above what was asked
        # rounded DOWN, and only down: one more step would exceed the budget or the available quote
        assert (amount + step) * price * factor > min(budget, available_quote)
    else:
        budget = fraction * (available_base if suffix == "%" else total_base)
        assert amount <= available_base and amount <= budget
        assert amount + step > min(budget, available_base)


@settings(max_examples=200, deadline=None)
@given(step=_steps, amount=_money.filter(lambda v: v > 0), side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]))
def test_absolute_amounts_are_only_rounded_down_to_the_step(step: Decimal, amount: Decimal, side: OrderSide) -> None:
    sized = size_amount(
        parse_amount(f"{amount:f}"),
        side=side,
        price=Decimal("1"),
        market=MarketSpec(amount_step=step),
        available_base=Decimal(0),
        available_quote=Decimal(0),
    )
    assert sized % step == 0 and sized <= amount < sized + step


@settings(max_examples=200, deadline=None)
@given(step=_steps, available=_money, side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]))
def test_all_spends_everything_available_down_to_one_step(step: Decimal, available: Decimal, side: OrderSide) -> None:
    market = MarketSpec(amount_step=step)
    price = Decimal("7.3")
    amount = size_amount(
        parse_amount("all"), side=side, price=price, market=market, available_base=available, available_quote=available
    )
    spent = amount * price if side is OrderSide.BUY else amount
    unit = step * price if side is OrderSide.BUY else step
    assert amount % step == 0 and spent <= available < spent + unit


@settings(max_examples=200, deadline=None)
@given(position=_money, percent=_percent, step=_steps)
def test_position_amounts_are_a_share_of_the_position_rounded_down(
    position: Decimal, percent: Decimal, step: Decimal
) -> None:
    amount = size_amount(
        parse_amount(f"{percent:f}%p"),
        side=OrderSide.SELL,
        price=Decimal("1"),
        market=MarketSpec(amount_step=step),
        available_base=Decimal(0),
        available_quote=Decimal(0),
        position_size=position,
    )
    exact = position * percent / 100
    assert amount % step == 0 and amount <= exact < amount + step
