"""Grid and DCA modes on whole real data files (Binance spot 1h), checked from the outside."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.errors import ConfigurationError
from octobot_trading.modes.dca import DCATradingMode
from octobot_trading.modes.grid import GridTradingMode
from octobot_trading.testing.shared_data import require_shared_data_file

FIXTURES = Path(__file__).parents[1] / "backtesting" / "fixtures"


def _conserved(result: Any, start: dict[str, Decimal], base: str, quote: str) -> None:
    """Final balances equal the start plus the flows of the fills (exact)."""
    balances = {base: start.get(base, Decimal(0)), quote: start.get(quote, Decimal(0))}
    for fill in result.trades:
        cost = fill.amount * fill.price
        if fill.side is ot.OrderSide.BUY:
            balances[base] += fill.amount
            balances[quote] -= cost
        else:
            balances[base] -= fill.amount
            balances[quote] += cost
        balances[fill.fee_currency] -= fill.fee
    assert result.final_portfolio.get(base, Decimal(0)) == balances[base]
    assert result.final_portfolio.get(quote, Decimal(0)) == balances[quote]


def _candle_at_close(series: Any, close_ms: int) -> Any:
    index = int(series.times.searchsorted(close_ms - series.time_frame.ms))
    assert series.times[index] + series.time_frame.ms == close_ms
    return series.candle(index)


async def test_grid_fills_levels_refills_opposite_side_and_conserves_funds() -> None:
    data = CandleData.from_file(require_shared_data_file("binance_spot_nfi", "ETH_USDT-1h.json"))
    series = data.get("ETH/USDT", "1h")
    spec = ot.MarketSpec(price_tick="0.01", amount_step="0.0001", min_cost="10")
    config = {"levels": 4, "spacing_percent": "1.5", "amount_per_level": "0.4"}
    start = {"USDT": Decimal("3000"), "ETH": Decimal("2")}
    result = await run_backtest(
        data,
        trading_mode=GridTradingMode,
        mode_config=config,
        starting_portfolio={k: str(v) for k, v in start.items()},
        fees=ot.Fees(maker="0.001", taker="0.002"),
        markets={"ETH/USDT": spec},
    )
    assert len(result.trades) > 50
    _conserved(result, start, "ETH", "USDT")
    reference = series.close_decimal(0)
    levels: dict[str, dict[Decimal, int]] = {"buy": {}, "sell": {}}
    for level in range(-60, 61):
        exact = reference * (1 + level * Decimal("1.5") / 100)
        if exact > 0:
            for side in ("buy", "sell"):
                levels[side][spec.adapt_price(exact, ot.OrderSide(side))] = level
    pending: Counter[tuple[str, int, Decimal]] = Counter()
    for level in range(1, 5):
        pending["sell", level, Decimal("0.4")] += 1
    for fill in result.trades:
        level = levels[fill.side.value][fill.price]  # every fill is at a grid level price...
        assert fill.order_type == "limit"
        candle = _candle_at_close(series, fill.time)
        if fill.side is ot.OrderSide.BUY:  # ...reached by the candle's path, with the maker fee
            assert candle.low <= fill.price and fill.fee == fill.amount * Decimal("0.001")
            pending["sell", level + 1, spec.adapt_quantity(fill.amount - fill.fee)] += 1
        else:
            assert candle.high >= fill.price and fill.fee == fill.amount * fill.price * Decimal("0.001")
            key = ("sell", level, fill.amount)
            assert pending[key] > 0, f"sell {fill} was never placed by the grid"
            pending[key] -= 1


async def test_dca_periodic_entries_carry_grouped_take_profit_and_stop_loss() -> None:
    data = CandleData.from_file(require_shared_data_file("binance_spot_nfi", "BTC_USDT-1h.json"))
    series = data.get("BTC/USDT", "1h")
    spec = ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_cost="10")
    config = {
        "entry": "periodic",
        "every_candles": 24,
        "quote_amount": "500",
        "take_profit_percent": "3",
        "stop_loss_percent": "4",
        "max_open_entries": 2,
    }
    result = await run_backtest(
        data,
        trading_mode=DCATradingMode,
        mode_config=config,
        starting_portfolio={"USDT": "5000"},
        markets={"BTC/USDT": spec},
    )
    _conserved(result, {"USDT": Decimal("5000")}, "BTC", "USDT")
    entries = [f for f in result.trades if f.side is ot.OrderSide.BUY]
    exits = [f for f in result.trades if f.side is ot.OrderSide.SELL]
    assert len(entries) > 20 and len(exits) >= len(entries) - 2
    by_order: dict[str, Any] = {}
    for entry in entries:
        assert entry.order_type == "market"
        index = int(series.times.searchsorted(entry.time - 3_600_000))
        assert index % 24 == 0  # only on the periodic schedule (every 24 candles, gaps not counted)
        assert entry.price == _candle_at_close(series, entry.time).close
        assert entry.amount == spec.adapt_quantity(Decimal("500") / entry.price)
        by_order[entry.order_id] = entry
    # each exit closes exactly one entry: the base received, at the TP or SL price of that entry
    open_entries = list(entries)
    for fill in exits:
        matches = [
            e
            for e in open_entries
            if e.time < fill.time
            and fill.amount == spec.adapt_quantity(e.amount - e.fee)
            and fill.price
            in (
                spec.adapt_price(e.price * Decimal("1.03"), ot.OrderSide.SELL),
                spec.adapt_price(e.price * Decimal("0.96"), rounding="nearest"),
            )
        ]
        assert matches, f"exit {fill} matches no open entry"
        kind = "limit" if fill.price > matches[0].price else "stop_loss"
        assert fill.order_type == kind
        open_entries.remove(matches[0])  # the other exit of the group was canceled: never two exits
    assert len(open_entries) <= 2


async def test_dca_dip_entries_only_after_a_real_dip() -> None:
    data = CandleData.from_file(require_shared_data_file("binance_spot_nfi", "BTC_USDT-1h.json"))
    series = data.get("BTC/USDT", "1h")
    config = {
        "entry": "dip",
        "dip_percent": "4",
        "lookback": 24,
        "quote_amount": "300",
        "stop_loss_percent": None,
        "max_open_entries": 5,
    }
    result = await run_backtest(
        data, trading_mode=DCATradingMode, mode_config=config, starting_portfolio={"USDT": "5000"}
    )
    entries = [f for f in result.trades if f.side is ot.OrderSide.BUY]
    assert entries
    assert all(f.order_type == "limit" for f in result.trades if f.side is ot.OrderSide.SELL)
    for entry in entries:
        index = int(series.times.searchsorted(entry.time - 3_600_000))
        high = max(series.close_decimal(i) for i in range(index - 24, index))
        assert entry.price <= high * Decimal("0.96")


def test_builtin_mode_configs_refuse_bad_values() -> None:
    with pytest.raises(ConfigurationError, match="amount_per_level"):
        GridTradingMode.validate_config({"levels": 3})
    with pytest.raises(ConfigurationError):
        GridTradingMode.validate_config({"levels": 50, "spacing_percent": "3", "amount_per_level": "1"})
    with pytest.raises(TypeError):
        GridTradingMode.validate_config({"amount_per_level": 0.1})
    with pytest.raises(ConfigurationError, match="entry"):
        DCATradingMode.validate_config({"entry": "weekly"})
    assert DCATradingMode.validate_config({}).take_profit_percent == Decimal("2")
