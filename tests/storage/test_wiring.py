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


async def test_default_wiring_builds_a_manager_with_storage(server, tmp_path):
    import sqlite3

    from tests.storage.conftest import builder_for, other_tasks

    builder._COMPONENT_FACTORIES.clear()
    builder.AUTO_WIRE = True  # restored by the autouse fixture
    path = tmp_path / "state.sqlite"
    manager = await builder_for(server).use_real_trader().with_storage(path).build()
    async with manager:
        assert manager.get_component("storage") is not None
        names = [c.name for c in manager.components]
        assert names.index("trader") < names.index("storage")
    await manager.stop()  # idempotent
    assert not other_tasks()
    with sqlite3.connect(path) as db:
        assert dict(db.execute("SELECT key, value FROM meta").fetchall()) == {
            "exchange": "binance", "trader": "real", "market_type": "spot"}
