"""The futures accounting quotient (``contract_math.div``) has its own integer arithmetic for its one
fixed step; it must give exactly what ``divide_to_step(n, d, ACCOUNTING_STEP)`` gives (value and
exponent), and the same errors."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from octobot_trading.errors import InvalidNumber
from octobot_trading.personal_data.positions import contract_math as cm
from octobot_trading.util.decimals import divide_to_step

EDGES = [
    "0",
    "-0",
    "1",
    "-1",
    "3",
    "-3",
    "7",
    "0.5e-18",
    "1.5e-18",
    "2.5e-18",
    "-0.5e-18",
    "-2.5e-18",
    "1e-18",
    "5e-19",
]


def _reference(numerator: Decimal, denominator: Decimal) -> Decimal:
    return divide_to_step(numerator, denominator, cm.ACCOUNTING_STEP)


@pytest.mark.parametrize("numerator", EDGES)
@pytest.mark.parametrize("denominator", [e for e in EDGES if Decimal(e) != 0])
def test_quotient_of_edge_operands_rounds_ties_to_even_like_divide_to_step(numerator: str, denominator: str) -> None:
    n, d = Decimal(numerator), Decimal(denominator)
    assert cm.div(n, d).as_tuple() == _reference(n, d).as_tuple()


def test_quotient_of_random_operands_is_divide_to_step_exactly() -> None:
    rng = random.Random(20261204)
    for _ in range(20_000):
        n = Decimal(f"{rng.choice('-+')}{rng.randint(0, 10 ** rng.randint(1, 30))}e{rng.randint(-40, 18)}")
        d = Decimal(f"{rng.choice('-+')}{rng.randint(1, 10 ** rng.randint(1, 30))}e{rng.randint(-40, 18)}")
        assert cm.div(n, d).as_tuple() == _reference(n, d).as_tuple(), (n, d)


@pytest.mark.parametrize(
    ("numerator", "denominator"),
    [("1", "0"), ("0", "0"), ("NaN", "1"), ("1", "NaN"), ("Infinity", "2"), ("2", "-Infinity")],
)
def test_quotient_refuses_zero_and_non_finite_operands_with_divide_to_step_error(
    numerator: str, denominator: str
) -> None:
    n, d = Decimal(numerator), Decimal(denominator)
    with pytest.raises(InvalidNumber) as expected:
        _reference(n, d)
    with pytest.raises(InvalidNumber) as got:
        cm.div(n, d)
    assert str(got.value) == str(expected.value)
