"""The default wiring starts storage after the trader and before the trading modes."""

from __future__ import annotations

from octobot_trading.exchanges import builder
from octobot_trading.wiring import install_defaults


def test_storage_starts_after_the_trader_and_before_the_modes():
    builder._COMPONENT_FACTORIES.clear()
    install_defaults()
    names = [name for name, _ in builder._COMPONENT_FACTORIES]
    assert names.index("trader") < names.index("storage") < names.index("trading_modes")
    install_defaults()  # idempotent
    assert [name for name, _ in builder._COMPONENT_FACTORIES] == names
