"""Random contract orders through a whole backtest (market, limit, reduce-only stops, cancels, in
isolated or cross margin, one-way or hedge, with funding and partial fills): the run completes and
the final wallet is exactly ``start + Σ realized PnL - Σ fees + Σ funding - Σ margin lost``
(docs/futures.md, "Exactness"). The seeds listed include ones where a cross position's unrealized
profit exceeded its margin while an order rested (its fill or cancel used to fail the run)."""

from __future__ import annotations

import json
import random
from decimal import Decimal as D
from pathlib import Path
from typing import Any, ClassVar

import pytest

import octobot_trading as ot
from octobot_trading import errors
from octobot_trading.backtesting import CandleData, FundingData, run_backtest
from octobot_trading.enums import MarginMode, OrderSide, OrderStatus, OrderType, PositionMode, PositionSide
from octobot_trading.modes import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, TradingDecision

XRP = "XRP/USDT:USDT"
T0 = 1_699_999_200_000  # a whole hour
CANDLES = 60


class _Quiet(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class _RandomProducer(AbstractModeProducer):
    rnd: ClassVar[random.Random] = random.Random(0)
    hedge: ClassVar[bool] = False
    unexpected: ClassVar[list[str]] = []

    async def on_candle(self, candle: Any) -> None:
        rnd, trader = self.rnd, self.context.trader
        try:
            k = rnd.random()
            side = rnd.choice([OrderSide.BUY, OrderSide.SELL])
            amount = str(rnd.choice([10, 50, 100, 250, 600]))
            sides = {"position_side": rnd.choice([PositionSide.LONG, PositionSide.SHORT])} if self.hedge else {}
            reduce = rnd.random() < 0.3
            if k < 0.3:
                await trader.create_order(OrderType.MARKET, side, XRP, amount, reduce_only=reduce, **sides)
            elif k < 0.6:
                price = round(candle.close * (1 + rnd.uniform(-0.05, 0.05)), 4)
                await trader.create_order(OrderType.LIMIT, side, XRP, amount, str(price), reduce_only=reduce, **sides)
            elif k < 0.7:
                price = round(candle.close * (1 + rnd.uniform(-0.08, 0.08)), 4)
                await trader.create_order(OrderType.STOP_LOSS, side, XRP, amount, str(price), reduce_only=True, **sides)
            elif k < 0.8:
                orders = trader.orders_manager.all_orders()
                resting = [o for o in orders if o.status is OrderStatus.OPEN]
                if resting:
                    await trader.cancel_order(rnd.choice(resting))
        except (errors.InsufficientFunds, errors.InvalidOrder):
            pass  # refused before anything changed: part of the random walk
        except Exception as exc:  # anything else is a defect the test reports
            type(self).unexpected.append(repr(exc))


class _RandomMode(AbstractTradingMode):
    producer_classes = (_RandomProducer,)
    consumer_classes = (_Quiet,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "random_contract_orders"


def _candles(rnd: random.Random, path: Path) -> CandleData:
    rows, price = [], 1.0
    for i in range(CANDLES):
        o = price
        c = max(0.2, round(o * (1 + rnd.gauss(0, 0.03)), 4))
        high = round(max(o, c) * (1 + abs(rnd.gauss(0, 0.01))), 4)
        low = round(min(o, c) * (1 - abs(rnd.gauss(0, 0.01))), 4)
        rows.append([T0 + i * 60_000, o, high, low, c, rnd.choice([100, 1000, 5000])])
        price = c
    path.write_text(json.dumps(rows))
    return CandleData.from_file(path)


@pytest.mark.parametrize("seed", [3, 15, 0, 7, 21])
async def test_random_contract_orders_complete_and_keep_the_wallet_identity(seed: int, tmp_path: Path) -> None:
    rnd = random.Random(seed)
    data = _candles(rnd, tmp_path / "XRP_USDT_USDT-1m.json")
    cross, hedge = rnd.random() < 0.4, rnd.random() < 0.3
    _RandomProducer.rnd, _RandomProducer.hedge, _RandomProducer.unexpected = rnd, hedge, []
    times = list(range(5, CANDLES, 7))
    funding = FundingData(
        XRP,
        [T0 + 60_000 * k for k in times],
        [rnd.choice(["0.001", "-0.002", "0.0005"]) for _ in times],
        interval="1m",
    )
    spec = ot.ContractSpec(
        leverage=str(rnd.choice([2, 5, 10, 20, 50])),
        max_leverage="50",
        maintenance_margin_rate="0.005",
        margin_mode=MarginMode.CROSS if cross else MarginMode.ISOLATED,
        position_mode=PositionMode.HEDGE if hedge else PositionMode.ONE_WAY,
        amount_step="1",
        price_tick="0.0001",
    )
    result = await run_backtest(
        data,
        trading_mode=_RandomMode,
        starting_portfolio={"USDT": "300"},
        fees=ot.Fees(maker="0.0002", taker="0.0005"),
        contracts={XRP: spec},
        funding_rates=funding,
        partial_fill_fraction=rnd.choice([None, "0.1"]),
    )
    assert _RandomProducer.unexpected == []
    wallet = result.final_portfolio.get("USDT", D(0))
    expected = (
        D(300)
        + sum((t.realized_pnl or D(0) for t in result.trades), D(0))
        - sum((t.fee for t in result.trades), D(0))
        + sum((f.amount for f in result.funding), D(0))
        - sum((liq.margin_lost for liq in result.liquidations), D(0))
    )
    assert wallet == expected and wallet >= 0
    assert all(p.size > 0 for p in result.positions)
