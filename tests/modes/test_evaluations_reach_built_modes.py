"""Evaluations reach the trading modes of built managers: replayed from files in backtests,
published on ``manager.evaluations`` on paper; bad evaluation files are refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.errors import ConfigurationError, DataFileError, InvalidNumber
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.modes import (
    AbstractModeConsumer,
    AbstractModeProducer,
    AbstractTradingMode,
    DecisionAction,
    Evaluation,
    SmaCrossMode,
    TradingDecision,
)
from octobot_trading.modes.evaluations import load_evaluations
from octobot_trading.testing.fake_exchange import FakeExchangeServer

FIXTURES = Path(__file__).parents[1] / "backtesting" / "fixtures"
HOUR = 3_600_000


def _data() -> CandleData:
    return CandleData.from_file(
        FIXTURES / "BTC_USDT-1h-head50.json", exchange="binance", symbol="BTC/USDT", time_frame="1h"
    )


class EvaluationProducer(AbstractModeProducer):
    """Buys on a strong positive evaluation (or "buy"), sells on a strong negative one (or "sell")."""

    seen: ClassVar[list[tuple[int, int, int | None]]] = []

    async def on_evaluation(self, evaluation: Evaluation) -> None:
        candles = self.context.symbols_data.get(evaluation.symbol).candles(self.mode.time_frame)
        type(self).seen.append((evaluation.time_ms, self.context.clock.now_ms(), candles.last_timestamp))
        value = evaluation.value
        if value == "buy" or (isinstance(value, Decimal) and value > Decimal("0.5")):
            action = DecisionAction.BUY
        elif value == "sell" or (isinstance(value, Decimal) and value < Decimal("-0.5")):
            action = DecisionAction.SELL
        else:
            return
        await self.submit(TradingDecision(evaluation.symbol, action, evaluation.time_ms, reason=evaluation.source))


class MarketOrders(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        if decision.action is DecisionAction.BUY:
            await self.context.create_order(ot.OrderType.MARKET, ot.OrderSide.BUY, decision.symbol, "0.01")
        else:
            await self.context.create_order(ot.OrderType.MARKET, ot.OrderSide.SELL, decision.symbol, "0.005")


class EvaluationMode(AbstractTradingMode):
    producer_classes = (EvaluationProducer,)
    consumer_classes = (MarketOrders,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "evaluation_trader"


@pytest.fixture(autouse=True)
def _clear() -> None:
    EvaluationProducer.seen = []


def _rows(data: CandleData) -> list[dict[str, Any]]:
    times = data.get("BTC/USDT", "1h").times
    close_5 = int(times[5]) + HOUR  # the close time of the 6th candle
    return [
        {"time": close_5 + 30 * 60_000, "symbol": "BTC/USDT", "evaluator": "ext", "value": "sell"},
        {"time": close_5, "symbol": "BTC/USDT", "evaluator": "rsi", "value": 0.75},
        {"time": close_5 + HOUR, "symbol": "BTC/USDT", "evaluator": "rsi", "value": "0.1"},
        {"time": close_5 + 10 * HOUR, "symbol": "BTC/USDT", "evaluator": "rsi", "value": "buy", "time_frame": "1h"},
    ]


async def test_backtest_replays_an_evaluations_file_on_the_simulated_clock(tmp_path: Path) -> None:
    data = _data()
    rows = _rows(data)
    path = tmp_path / "evaluations.json"
    path.write_text(json.dumps(rows))
    result = await run_backtest(
        data, trading_mode=EvaluationMode, evaluations=path, starting_portfolio={"USDT": "10000"}
    )
    close_5 = rows[1]["time"]
    # delivered in time order, each with the clock at its time, after the candle closing then
    assert EvaluationProducer.seen == [
        (close_5, close_5, close_5 - HOUR),
        (close_5 + 30 * 60_000, close_5 + 30 * 60_000, close_5 - HOUR),
        (close_5 + HOUR, close_5 + HOUR, close_5),
        (close_5 + 10 * HOUR, close_5 + 10 * HOUR, close_5 + 9 * HOUR),
    ]
    series = data.get("BTC/USDT", "1h")
    assert [(fill.time, str(fill.side), fill.amount) for fill in result.trades] == [
        (close_5, "buy", Decimal("0.01")),
        (close_5 + 30 * 60_000, "sell", Decimal("0.005")),
        (close_5 + 10 * HOUR, "buy", Decimal("0.01")),
    ]
    # market orders fill at the last close at their time (the candle closing at or before it)
    assert [fill.price for fill in result.trades] == [
        series.close_decimal(5),
        series.close_decimal(5),
        series.close_decimal(15),
    ]
    # deterministic, and the same evaluations written as CSV replay identically
    EvaluationProducer.seen = []
    csv_path = tmp_path / "evaluations.csv"
    csv_path.write_text(
        "time,symbol,evaluator,value,time_frame\n"
        + "".join(f"{r['time']},{r['symbol']},{r['evaluator']},{r['value']},{r.get('time_frame', '')}\n" for r in rows)
    )
    again = await run_backtest(
        data, trading_mode=EvaluationMode, evaluations=csv_path, starting_portfolio={"USDT": "10000"}
    )
    assert again.event_log_hash == result.event_log_hash
    listed = await run_backtest(
        data, trading_mode=EvaluationMode, evaluations=load_evaluations(path), starting_portfolio={"USDT": "10000"}
    )
    assert listed.event_log_hash == result.event_log_hash


async def test_a_mode_without_on_evaluation_is_unaffected_by_evaluations(tmp_path: Path) -> None:
    data = _data()
    path = tmp_path / "evaluations.json"
    path.write_text(json.dumps(_rows(data)))
    config = {"fast_period": 3, "slow_period": 8}
    plain = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config)
    with_evaluations = await run_backtest(data, trading_mode=SmaCrossMode, mode_config=config, evaluations=path)
    assert plain.trades and with_evaluations.event_log_hash == plain.event_log_hash


def test_evaluation_files_are_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(
        '[{"time": 5, "symbol": "BTC/USDT", "evaluator": "a", "value": 0.1},'
        ' {"time": 1, "symbol": "BTC/USDT", "evaluator": "b", "value": "bullish"},'
        ' {"time": 5, "symbol": "BTC/USDT", "evaluator": "c", "value": "-1e-3"}]'
    )
    evaluations = load_evaluations(path)
    assert [(e.time_ms, e.source, e.value) for e in evaluations] == [
        (1, "b", "bullish"),
        (5, "a", Decimal("0.1")),
        (5, "c", Decimal("-0.001")),
    ]


@pytest.mark.parametrize(
    ("name", "content", "row", "match"),
    [
        ("e.json", '{"time": 1}', None, "list of objects"),
        ("e.json", "[1, 2", None, "not valid JSON"),
        ("e.json", '[{"time": 1, "symbol": "BTC/USDT", "evaluator": "a"}]', 0, "missing value"),
        ("e.json", '[{"time": 1, "symbol": "BTC/USDT", "evaluator": "a", "value": 1, "note": "x"}]', 0, "unknown key"),
        (
            "e.json",
            '[{"time": 1, "symbol": "BTC/USDT", "evaluator": "a", "value": 1},'
            ' {"time": 1.5, "symbol": "BTC/USDT", "evaluator": "a", "value": 1}]',
            1,
            r"time .*1\.5",
        ),
        ("e.json", '[{"time": -1, "symbol": "BTC/USDT", "evaluator": "a", "value": 1}]', 0, "time -1"),
        ("e.json", '[{"time": true, "symbol": "BTC/USDT", "evaluator": "a", "value": 1}]', 0, "time True"),
        ("e.json", '[{"time": 1, "symbol": "BTC/USDT", "evaluator": "a", "value": NaN}]', None, "NaN"),
        ("e.json", '[{"time": 1, "symbol": "BTC/USDT", "evaluator": "a", "value": true}]', 0, "value True"),
        ("e.json", '[{"time": 1, "symbol": "", "evaluator": "a", "value": 1}]', 0, "symbol"),
        ("e.json", '[{"time": 1, "symbol": "BTC/USDT", "evaluator": "a", "value": " "}]', 0, "value is empty"),
        ("e.json", '["x"]', 0, "expected an object"),
        ("e.csv", "time,symbol,value\n1,BTC/USDT,1\n", None, "header"),
        ("e.csv", "", None, "empty file"),
        ("e.csv", "time,symbol,evaluator,value\n1,BTC/USDT,a,1\n2,BTC/USDT,a\n", 1, "3 fields"),
        ("e.csv", "time,symbol,evaluator,value\n1,BTC/USDT,a,1\n1e3,BTC/USDT,a,1\n", 1, "time '1e3'"),
        ("e.txt", "time,symbol,evaluator,value\n", None, ".json or .csv"),
    ],
)
def test_bad_evaluation_files_are_refused_naming_file_and_row(
    tmp_path: Path, name: str, content: str, row: int | None, match: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataFileError, match=match) as caught:
        load_evaluations(path)
    assert caught.value.path == str(path) and caught.value.row == row


async def test_backtest_refuses_evaluations_outside_the_replay_or_of_other_symbols(tmp_path: Path) -> None:
    data = _data()
    first_close = int(data.get("BTC/USDT", "1h").times[0]) + HOUR
    seconds = tmp_path / "seconds.json"  # times written in seconds instead of milliseconds
    seconds.write_text(json.dumps([{"time": first_close // 1000, "symbol": "BTC/USDT", "evaluator": "a", "value": 1}]))
    with pytest.raises(ConfigurationError, match=r"seconds.json, row 0: time .* outside the replay"):
        await run_backtest(data, trading_mode=EvaluationMode, evaluations=seconds)
    with pytest.raises(ConfigurationError, match=r"row 1: symbol 'ETH/USDT' is not backtested"):
        await run_backtest(
            data,
            trading_mode=EvaluationMode,
            evaluations=[
                Evaluation("BTC/USDT", "a", Decimal(1), first_close),
                Evaluation("ETH/USDT", "a", Decimal(1), first_close),
            ],
        )
    with pytest.raises(ConfigurationError, match=r"evaluations\[0\] is a dict"):
        await run_backtest(data, trading_mode=EvaluationMode, evaluations=[{"time": first_close}])
    with pytest.raises(DataFileError, match="no such evaluations file"):
        await run_backtest(data, trading_mode=EvaluationMode, evaluations=tmp_path / "missing.csv")
    assert len(ot.exchanges_registry) == 0  # refused before anything was built


def test_evaluation_values_are_exact() -> None:
    with pytest.raises(TypeError, match="not float"):
        Evaluation("BTC/USDT", "rsi", 0.5, 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidNumber):
        Evaluation("BTC/USDT", "rsi", Decimal("NaN"), 1)
    with pytest.raises(ValueError, match="time"):
        Evaluation("BTC/USDT", "rsi", Decimal(1), -5)
    assert Evaluation("BTC/USDT", "rsi", 1, 1).value == Decimal(1)  # type: ignore[arg-type]


async def test_live_and_paper_builds_refuse_an_evaluations_file() -> None:
    with pytest.raises(ConfigurationError, match=r"manager\.evaluations\.publish"):
        await (
            ExchangeBuilder("binance")
            .with_symbols(["BTC/USDT"])
            .use_simulated_trader()
            .use_trading_mode(EvaluationMode)
            .with_evaluations([])
            .build()
        )


async def test_paper_manager_delivers_published_evaluations_to_subscribed_modes() -> None:
    async with FakeExchangeServer() as server:
        manager = await (
            ExchangeBuilder("binance")
            .with_symbols(["BTC/USDT"])
            .with_time_frames(["1h"])
            .with_ccxt_options(server.ccxt_config())
            .with_client_hook(server.client_hook)
            .rest_only()
            .use_simulated_trader(starting_portfolio={"USDT": "10000"})
            .use_trading_mode(EvaluationMode)
            .use_trading_mode(SmaCrossMode, {"fast_period": 2, "slow_period": 3})  # no on_evaluation
            .build()
        )
        async with manager:
            await manager.wait_ready(timeout=30)
            assert manager.evaluations.subscriber_count == 1  # only the mode that overrides on_evaluation
            now = manager.clock.now_ms()
            await manager.evaluations.publish(Evaluation("ETH/USDT", "ext", Decimal(1), now))  # not its symbol
            assert EvaluationProducer.seen == []
            await manager.evaluations.publish(Evaluation("BTC/USDT", "ext", Decimal("0.9"), now))
            await manager.evaluations.publish(Evaluation("BTC/USDT", "ext", "neutral", now))
            assert [seen[0] for seen in EvaluationProducer.seen] == [now, now]
            orders = manager.exchange_personal_data.orders_manager.all_orders()
            assert [(str(o.side), str(o.order_type), o.amount, str(o.status)) for o in orders] == [
                ("buy", "market", Decimal("0.01"), "closed")
            ]
            btc = manager.exchange_personal_data.portfolio_manager.portfolio.get_currency_portfolio("BTC")
            assert btc.total == Decimal("0.01") - orders[0].fees.get("BTC", Decimal(0))
        assert manager.evaluations.subscriber_count == 0  # unsubscribed when the modes stop


async def test_the_documented_evaluations_example_replays_its_file() -> None:
    import importlib.util

    path = Path(__file__).parents[2] / "docs" / "examples" / "evaluations_mode.py"
    spec = importlib.util.spec_from_file_location("evaluations_mode_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = await module.main()
    # "0.8" buys, "-0.9" sells, "bullish" buys, "0.1" is ignored, "bearish" sells
    assert [(fill.time, str(fill.side), fill.amount) for fill in result.trades] == [
        (1606870800000, "buy", Decimal("0.05")),
        (1606957200000, "sell", Decimal("0.04")),
        (1607043600000, "buy", Decimal("0.05")),
        (1607216400000, "sell", Decimal("0.04")),
    ]
