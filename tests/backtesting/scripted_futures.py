"""A scripted contract backtest for tests: a trading mode that runs given steps at given candles.

``await scripted_run(tmp_path, candles, steps, marks=...)`` writes the candles (and mark candles)
as files, reads them back with ``CandleData.from_file`` and runs the real ``run_backtest`` on
``XRP/USDT:USDT`` (leverage 10, mmr 0.004, tick 0.0001, step 1) with ``StepMode``: before each
published candle index ``i`` in ``steps``, ``await steps[i](ctx)`` runs with the mode's context.
``seen`` collects what ``every(ctx)`` returns at each candle.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.modes import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, TradingDecision

XRP = "XRP/USDT:USDT"
T0 = 1_699_999_200_000  # a whole hour
MINUTE = 60_000
Step = Callable[[Any], Awaitable[Any]]
Prices = Sequence[tuple[str, str, str, str]]


class _Quiet(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class _StepProducer(AbstractModeProducer):
    steps: ClassVar[dict[int, Step]] = {}
    every: ClassVar[Step | None] = None
    seen: ClassVar[list[Any]] = []
    count: ClassVar[list[int]] = [0]

    async def on_candle(self, candle: Any) -> None:
        index = self.count[0]
        self.count[0] += 1
        step = self.steps.get(index)
        if step is not None:
            await step(self.context)
        every = _StepProducer.every  # (a plain function kept on the class, not a method)
        if every is not None:
            self.seen.append(await every(self.context))


class StepMode(AbstractTradingMode):
    producer_classes = (_StepProducer,)
    consumer_classes = (_Quiet,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "scripted_contract_steps"


def write_candles(path: Path, prices: Prices, t0: int = T0, tf_ms: int = MINUTE, kind: str = "ohlcv") -> CandleData:
    rows = [[t0 + i * tf_ms, float(o), float(h), float(lo), float(c), 1000] for i, (o, h, lo, c) in enumerate(prices)]
    path.write_text(json.dumps(rows))
    return CandleData.from_file(path, kind=kind)


def flat(price: str) -> tuple[str, str, str, str]:
    return (price, price, price, price)


async def scripted_run(
    tmp_path: Path,
    prices: Prices,
    steps: Mapping[int, Step],
    *,
    marks: Prices | None = None,
    marks_t0: int = T0,
    marks_tf: str = "1m",
    every: Step | None = None,
    start: str = "1000",
    spec: ot.ContractSpec | None = None,
    data: CandleData | None = None,
    **run_kwargs: Any,
) -> tuple[Any, list[Any]]:
    """Run the backtest; return (result, what ``every`` returned at each candle)."""
    _StepProducer.steps, _StepProducer.every, _StepProducer.seen, _StepProducer.count = dict(steps), every, [], [0]
    if data is None:
        data = write_candles(tmp_path / "XRP_USDT_USDT-1m.json", prices)
    kwargs: dict[str, Any] = {}
    if marks is not None:
        tf_ms = ot.TimeFrame.parse(marks_tf).ms
        kwargs["mark_prices"] = write_candles(
            tmp_path / f"XRP_USDT_USDT-{marks_tf}-mark.json", marks, marks_t0, tf_ms, kind="mark"
        )
    contracts = run_kwargs.pop("contracts", None) or {
        XRP: spec
        or ot.ContractSpec(
            leverage="10", max_leverage="100", maintenance_margin_rate="0.004", price_tick="0.0001", amount_step="1"
        )
    }
    result = await run_backtest(
        data,
        trading_mode=StepMode,
        starting_portfolio={"USDT": start},
        fees=run_kwargs.pop("fees", ot.Fees(maker="0.0002", taker="0.0004")),
        contracts=contracts,
        **kwargs,
        **run_kwargs,
    )
    return result, list(_StepProducer.seen)


def market(side: ot.OrderSide, amount: str, symbol: str = XRP, **kwargs: Any) -> Step:
    async def step(ctx: Any) -> None:
        await ctx.trader.create_order(ot.OrderType.MARKET, side, symbol, amount, **kwargs)

    return step
