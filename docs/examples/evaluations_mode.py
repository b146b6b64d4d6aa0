"""A trading mode driven by evaluations (signals computed outside the mode), replayed from a file.

Run from the repository root: ``python docs/examples/evaluations_mode.py``.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import octobot_trading as ot
from octobot_trading.modes import DecisionAction, Evaluation, TradingDecision

HERE = Path(__file__).resolve().parent


class SignalProducer(ot.modes.AbstractModeProducer):
    """Buy on a strong positive evaluation or "bullish", sell on a strong negative one or "bearish"."""

    async def on_evaluation(self, evaluation: Evaluation) -> None:
        value = evaluation.value  # a Decimal or a string
        if value == "bullish" or (isinstance(value, Decimal) and value >= Decimal("0.5")):
            action = DecisionAction.BUY
        elif value == "bearish" or (isinstance(value, Decimal) and value <= Decimal("-0.5")):
            action = DecisionAction.SELL
        else:
            return
        await self.submit(TradingDecision(evaluation.symbol, action, evaluation.time_ms, reason=evaluation.source))


class MarketConsumer(ot.modes.AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        side = ot.OrderSide.BUY if decision.action is DecisionAction.BUY else ot.OrderSide.SELL
        amount = "0.05" if side is ot.OrderSide.BUY else "0.04"
        await self.context.create_order(ot.OrderType.MARKET, side, decision.symbol, amount)


class SignalMode(ot.modes.AbstractTradingMode):
    producer_classes = (SignalProducer,)
    consumer_classes = (MarketConsumer,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "signal_follower"


async def main() -> ot.backtesting.BacktestResult:
    data = ot.backtesting.CandleData.from_file(HERE.parents[1] / "octobot_trading" / "data" / "BTC_USDT-1h.json.gz")
    result = await ot.backtesting.run_backtest(
        data, trading_mode=SignalMode, starting_portfolio={"USDT": "10000"},
        evaluations=HERE / "evaluations_BTC_USDT-1h.csv")
    for fill in result.trades:
        print(fill.time, fill.side, fill.amount, "at", fill.price)
    return result


if __name__ == "__main__":
    asyncio.run(main())
