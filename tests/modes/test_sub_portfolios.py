"""Two modes on one backtesting account, each on its own sub-portfolio."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.backtesting import CandleData
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.modes import ModeContext, SmaCrossMode
from octobot_trading.testing.sma_cross_reference import sma_cross_reference

FIXTURES = Path(__file__).parents[1] / "backtesting" / "fixtures"


async def test_two_sma_modes_on_separate_sub_portfolios_each_follow_their_own_reference() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance")
    manager = await (
        ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["5m"])
        .with_clock(ot.SimulatedClock(int(data.get("BTC/USDT", "5m").times[0])))
        .with_trading_config(starting_portfolio={"USDT": "10000"})
        .use_backtesting(data)
        .build()
    )
    configs: dict[str, tuple[dict[str, Any], str]] = {
        "fast": ({"fast_period": 4, "slow_period": 12}, "3000"),
        "slow": ({"fast_period": 8, "slow_period": 30, "buy_fraction": "0.5"}, "5000"),
    }
    async with manager:
        portfolios = manager.exchange_personal_data.portfolio_manager
        modes = []
        for name, (config, allocation) in configs.items():
            portfolios.create_sub_portfolio(name, {"USDT": allocation})
            mode = SmaCrossMode(ModeContext.from_manager(manager, sub_portfolio=name), config)
            await mode.start()
            modes.append(mode)
        await manager.get_component("backtest").run()
        subs = {name: portfolios.get_portfolio(name).totals() for name in configs}
        account = portfolios.portfolio.totals()
        for mode in modes:
            await mode.stop()
    series = data.get("BTC/USDT", "5m")
    for name, (config, allocation) in configs.items():
        ref = sma_cross_reference(
            series.times.tolist(), series.closes.tolist(), 300_000, starting_quote=allocation, **config
        )
        assert ref.fills, name
        assert subs[name].get("USDT") == ref.quote and subs[name].get("BTC", Decimal(0)) == ref.base, name
    # the account holds the unallocated 2000 USDT plus both sub-portfolios
    assert account["USDT"] == Decimal(2000) + subs["fast"]["USDT"] + subs["slow"]["USDT"]


async def test_builder_use_trading_mode_sub_portfolio_gives_each_mode_its_own_funds() -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json", exchange="binance")
    configs: dict[str, tuple[dict[str, Any], str]] = {
        "fast": ({"fast_period": 4, "slow_period": 12}, "3000"),
        "slow": ({"fast_period": 8, "slow_period": 30, "buy_fraction": "0.5"}, "5000"),
    }
    builder = (
        ExchangeBuilder("binance")
        .with_symbols(["BTC/USDT"])
        .with_time_frames(["5m"])
        .with_clock(ot.SimulatedClock(int(data.get("BTC/USDT", "5m").times[0])))
        .with_trading_config(starting_portfolio={"USDT": "10000"})
        .use_backtesting(data)
    )
    for config, allocation in configs.values():
        builder.use_trading_mode(SmaCrossMode, config, sub_portfolio={"USDT": allocation})
    manager = await builder.build()
    async with manager:
        portfolios = manager.exchange_personal_data.portfolio_manager
        await manager.get_component("backtest").run()
        names = sorted(portfolios.sub_portfolios)
        subs = [portfolios.get_portfolio(name).totals() for name in names]
        account = portfolios.portfolio.totals()
    assert names == ["sma_cross-0", "sma_cross-1"]
    series = data.get("BTC/USDT", "5m")
    for sub, (config, allocation) in zip(subs, configs.values(), strict=True):
        ref = sma_cross_reference(
            series.times.tolist(), series.closes.tolist(), 300_000, starting_quote=allocation, **config
        )
        assert ref.fills
        assert sub.get("USDT") == ref.quote and sub.get("BTC", Decimal(0)) == ref.base
    assert account["USDT"] == Decimal(2000) + subs[0]["USDT"] + subs[1]["USDT"]


def test_use_trading_mode_sub_portfolio_bad_input() -> None:
    import pytest

    from octobot_trading.errors import ConfigurationError

    builder = ExchangeBuilder("binance")
    with pytest.raises(TypeError):
        builder.use_trading_mode(SmaCrossMode, None, sub_portfolio={"USDT": 10.5})  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="negative"):
        builder.use_trading_mode(SmaCrossMode, None, sub_portfolio={"USDT": "-1"})
    with pytest.raises(ConfigurationError):
        builder.use_trading_mode(SmaCrossMode, None, sub_portfolio={})
