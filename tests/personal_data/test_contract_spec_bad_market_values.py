"""A ContractSpec with a bad market value (contract size, price tick, amount step, limits) is
refused with ConfigurationError whose field names it (not an order error): a spec is
configuration (docs/futures.md)."""

from __future__ import annotations

import pytest

import octobot_trading as ot
from octobot_trading.errors import ConfigurationError, InvalidOrder


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"contract_size": "0"}, "contract_size", "contract_size must be positive, got 0"),
        ({"contract_size": "-1"}, "contract_size", "contract_size must be positive, got -1"),
        ({"price_tick": "0"}, "price_tick", "price_tick must be positive, got 0"),
        ({"amount_step": "-1"}, "amount_step", "amount_step must be positive, got -1"),
        ({"min_cost": "-5"}, "min_cost", "min_cost must not be negative, got -5"),
        ({"min_amount": "5", "max_amount": "1"}, "min_amount", "min_amount 5 is above max_amount 1"),
    ],
)
def test_a_bad_market_value_of_a_contract_spec_is_a_configuration_error_naming_it(
    bad: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ot.ContractSpec(maintenance_margin_rate="0.004", **bad)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert message in str(caught.value)
    assert not isinstance(caught.value, InvalidOrder)


def test_a_plain_market_spec_keeps_its_order_error() -> None:
    with pytest.raises(InvalidOrder) as caught:
        ot.MarketSpec(price_tick="0", amount_step="1")
    assert caught.value.limit == "price_tick"
