"""Default wiring: plug every built-in subsystem into ``ExchangeBuilder``.

``ExchangeBuilder.build()`` calls :func:`install_defaults` (unless
``octobot_trading.exchanges.builder.AUTO_WIRE`` is False), so a user never has to. It is
idempotent and keeps registrations already made (a plugin or a test may replace a subsystem
by registering its own factory under the same name first).

Resulting component order (started in this order, stopped in reverse):

1. ``exchange_data`` — channels, market-data managers, updaters, readiness (live and paper);
2. ``backtest`` — the historical market side, driver and simulated account (backtests only);
3. ``trader`` — personal data and the trader (live and paper);
4. ``storage`` — with ``with_storage(path)``: restores the saved state (through a restore hook
   of the trader, before its first sync), then writes changes in batches (live and paper);
5. ``trading_modes`` — the trading modes, which wait for readiness before their first decision.
"""

from __future__ import annotations

__all__ = ["install_defaults"]


def install_defaults() -> None:
    """Register the built-in subsystems that are not registered yet."""
    from octobot_trading.backtesting import wiring as backtest_wiring
    from octobot_trading.exchange_data import wiring as market_data_wiring
    from octobot_trading.exchanges import builder
    from octobot_trading.modes import wiring as modes_wiring
    from octobot_trading.personal_data import wiring as trader_wiring
    from octobot_trading.storage import component as storage

    def names() -> list[str]:
        return [name for name, _ in builder._COMPONENT_FACTORIES]

    if modes_wiring.COMPONENT_NAME not in names():
        modes_wiring.install()
    if backtest_wiring.COMPONENT_NAME not in names() or "backtesting" not in builder._CONNECTOR_FACTORIES:
        backtest_wiring.install()
    if "trader" not in names() or "simulated" not in builder._CONNECTOR_FACTORIES:
        trader_wiring.install(before=modes_wiring.COMPONENT_NAME)
    if market_data_wiring.COMPONENT_NAME not in names():
        market_data_wiring.install()
    if storage.COMPONENT_NAME not in names():
        storage.install(before=modes_wiring.COMPONENT_NAME)
