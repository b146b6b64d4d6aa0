"""Live <-> backtest parity: the same mode on the same real candles gives the same orders, fills and
balances in a backtest and in paper trading against the fake Binance server replaying them.

The paper manager is the one a user builds (``use_simulated_trader``, the real ccxt client on
loopback, REST market data), on a simulated clock set to each candle's close time: the venue
closes its next candle (``server.advance()``), the clock moves to its close, and the candle
updater fetches and publishes it, so nothing waits on wall-clock time. The backtest replays the
same candles through ``run_backtest`` with the venue's market rules and the same fees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.clock import SimulatedClock
from octobot_trading.exchange_data.updaters.rest import RestCandlesUpdater, RestTickerUpdater
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.testing.fake_exchange import DEFAULT_DATA_DIR, FakeExchangeServer, default_markets
from tests.clock_driving import build_simulated, until_ready

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "scripted_sma.py"
HOUR = 3_600_000
SYMBOL = "BTC/USDT"
FEES = ot.Fees(maker="0.001", taker="0.002")
START = {"USDT": "10000"}
# the fake venue's BTC/USDT rules (octobot_trading.testing.fake_exchange.default_markets)
SPEC = ot.MarketSpec(price_tick="0.01", amount_step="0.00001", min_amount="0.00001", max_amount="9000", min_cost="5")
RAW = json.loads((DEFAULT_DATA_DIR / "BTC_USDT-1h.json").read_text(encoding="utf-8"))


def _fill_rows(trades: Any) -> list[tuple[Any, ...]]:
    return [(t.timestamp, str(t.side), str(t.order_type), t.price, t.amount, t.fee, t.fee_currency) for t in trades]


def _order_rows(orders: Any) -> list[tuple[Any, ...]]:
    return [(o.created_at, str(o.order_type), str(o.side), o.amount, o.price, str(o.status), o.filled) for o in orders]


async def _backtest(mode: type, config: dict[str, Any], first_index: int, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "BTC_USDT-1h.json"
    path.write_text(json.dumps(RAW[first_index:]), encoding="utf-8")
    data = CandleData.from_file(path, exchange="binance", symbol=SYMBOL, time_frame="1h")
    captured: dict[str, Any] = {}

    class Capturing(mode):  # type: ignore[misc, valid-type]
        async def stop(self) -> None:
            captured["orders"] = _order_rows(self.context.trader.orders_manager.all_orders())
            await super().stop()

    result = await run_backtest(
        data, trading_mode=Capturing, mode_config=config, starting_portfolio=START, fees=FEES, markets={SYMBOL: SPEC}
    )
    return {
        "fills": [(f.time, str(f.side), f.order_type, f.price, f.amount, f.fee, f.fee_currency) for f in result.trades],
        "orders": captured["orders"],
        "balances": {k: v for k, v in result.final_portfolio.items() if v},
    }


async def _paper(mode: type, config: dict[str, Any], start_index: int) -> dict[str, Any]:
    markets = default_markets(DEFAULT_DATA_DIR, "1h")
    candles = markets[0].candles
    clock = SimulatedClock(candles[start_index][0] + HOUR)
    async with FakeExchangeServer(markets, start_index=start_index) as server:
        manager = await build_simulated(
            ExchangeBuilder("binance")
            .with_symbols([SYMBOL])
            .with_time_frames(["1h"])
            .with_ccxt_options({**server.ccxt_config(), "enableRateLimit": False})  # loopback: no throttle
            .with_client_hook(server.client_hook)
            .rest_only()
            .with_clock(clock)
            .use_simulated_trader(starting_portfolio=START)
            .with_trading_config(fees={"maker": FEES.maker, "taker": FEES.taker})
            .use_trading_mode(mode, config)
        )
        async with manager:
            await until_ready(manager)
            updaters = manager.get_component("exchange_data").updaters
            updater = next(u for u in updaters if isinstance(u, RestCandlesUpdater))
            # Each pass below is one step of the venue's time. The pollers' own loops would wake on every
            # clock jump and race the step: a ticker fetched before server.advance() but stored after the
            # jump is stamped with the new time and, being valid 30 s, would price the next market order
            # at the previous close. So the market data of each step is fetched here, in order, once.
            for background in updaters:
                await background.stop()
            # the trader's price poll: it wakes once more at the first step (before the modes can trade),
            # then sleeps past the data
            manager.get_component("trader").poll_seconds = 10**7
            tickers = next(u for u in updaters if isinstance(u, RestTickerUpdater))
            buffer = manager.exchange_symbols_data.get(SYMBOL).candles("1h")
            for index in range(start_index + 1, len(candles)):
                server.advance()
                clock.set_time(candles[index][0] + HOUR)  # the candle's close
                await tickers.poll_all()  # the venue's ticker at the close: the candle's close
                await updater.fetch_new(SYMBOL, ot.TimeFrame.H1)
                await manager.channels.join()
                assert buffer.last_timestamp == candles[index][0]
            personal = manager.exchange_personal_data
            return {
                "fills": _fill_rows(personal.trades_manager.trades()),
                "orders": _order_rows(personal.orders_manager.all_orders()),
                "balances": {k: v for k, v in personal.portfolio_manager.portfolio.totals().items() if v},
            }


def _assert_same(paper: dict[str, Any], backtest: dict[str, Any]) -> None:
    assert len(backtest["fills"]) >= 4  # the comparison is about real trading, not two empty runs
    assert paper["fills"] == backtest["fills"]
    assert paper["orders"] == backtest["orders"]
    assert paper["balances"] == backtest["balances"]


async def test_built_in_mode_gives_the_same_orders_fills_and_balances_on_paper_and_in_a_backtest(
    tmp_path: Path,
) -> None:
    config = {"fast_period": 3, "slow_period": 8, "buy_fraction": "0.9"}
    start_index = 20
    # the SMA producer counts the candles it is given: both runs give it the candles after start_index
    paper = await _paper(ot.modes.SmaCrossMode, config, start_index)
    backtest = await _backtest(ot.modes.SmaCrossMode, config, start_index + 1, tmp_path)
    _assert_same(paper, backtest)


async def test_scripted_mode_gives_the_same_orders_fills_and_balances_on_paper_and_in_a_backtest(
    tmp_path: Path,
) -> None:
    # the example rests a +3 % take-profit after each buy (cancelled at the next cross down: it never fills
    # on these candles); the script reads the candle buffers, and both runs hold every candle from the first
    # one; it waits for SLOW + 1 = 22 closes, so the candles the paper run loads as history (0..15) and its
    # first candles trigger nothing, in either run
    config = {"script": str(EXAMPLE), "on_error": "raise"}
    paper = await _paper(ot.modes.ScriptedMode, config, 15)
    backtest = await _backtest(ot.modes.ScriptedMode, config, 0, tmp_path)
    _assert_same(paper, backtest)
    assert any(order[1] == "limit" and order[5] == "canceled" for order in paper["orders"])


async def test_resting_limit_reached_inside_a_candle_fills_at_the_same_candle_on_paper_and_in_a_backtest(
    tmp_path: Path,
) -> None:
    # a +0.5 % take-profit, reached inside candles (wicks): on paper too it fills at the candle whose high
    # reaches it, at its price, as in the backtest
    script = tmp_path / "strategy.py"
    script.write_text(EXAMPLE.read_text(encoding="utf-8").replace('offset="+3%"', 'offset="+0.5%"'), encoding="utf-8")
    config = {"script": str(script), "on_error": "raise"}
    paper = await _paper(ot.modes.ScriptedMode, config, 15)
    backtest = await _backtest(ot.modes.ScriptedMode, config, 0, tmp_path)
    _assert_same(paper, backtest)
    assert sum(1 for fill in paper["fills"] if fill[2] == "limit") >= 3
