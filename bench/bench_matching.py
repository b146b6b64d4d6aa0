"""Micro-benchmark of the matching engine's per-candle entry point.

Reports, in one run, the cost of ``MatchingEngine.on_candle`` per candle in three cases, next
to a same-run baseline (an empty Python function call with the same arguments):

1. the symbol has no resting order;
2. the symbol has resting orders that the candle cannot reach (rejected by the thresholds);
3. a candle that fills a limit order through the simulated connector (full path: account,
   listener, orders manager, portfolio, trade record), re-placing the order each time.

Run: ``python bench/bench_matching.py``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.exchanges.connectors.simulator import MatchingEngine, RestingOrder

N = 1_000_000


def _per_call(fn, *args) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(N):
            fn(*args)
        best = min(best, time.perf_counter() - start)
    return best / N * 1e9


def _noop(symbol, time_ms, o, h, low, c):  # type: ignore[no-untyped-def]
    return None


async def _nofill(*_args) -> None:  # type: ignore[no-untyped-def]
    return None


async def _fill_bench(rounds: int) -> float:
    from tests.personal_data.helpers import make_account

    acc = await make_account({"USDT": "100000000"})
    start = time.perf_counter()
    for _ in range(rounds):
        await acc.trader.create_order("limit", "buy", "BTC/USDT", "0.1", "90")
        await acc.candle("100", "101", "89", "95")
        await acc.trader.create_order("market", "sell", "BTC/USDT", "0.0999")
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    engine = MatchingEngine(_nofill)
    args = ("BTC/USDT", 0, 100.0, 101.0, 99.0, 100.5)
    base = _per_call(_noop, *args)
    empty = _per_call(engine.on_candle, *args)
    for i in range(20):
        engine.add(RestingOrder(f"b{i}", None, "BTC/USDT", OrderType.LIMIT, OrderSide.BUY, Decimal(1), Decimal(50 + i)))
        engine.add(
            RestingOrder(
                f"s{i}", None, "BTC/USDT", OrderType.STOP_LOSS, OrderSide.SELL, Decimal(1), None, Decimal(40 + i)
            )
        )
        engine.add(
            RestingOrder(f"t{i}", None, "BTC/USDT", OrderType.LIMIT, OrderSide.SELL, Decimal(1), Decimal(150 + i))
        )
    resting = _per_call(engine.on_candle, *args)
    fill_us = asyncio.run(_fill_bench(2000))
    print(f"baseline empty function call      : {base:7.1f} ns")
    print(f"on_candle, no resting order       : {empty:7.1f} ns  ({empty / base:.2f}x baseline)")
    print(f"on_candle, 60 unreachable orders  : {resting:7.1f} ns  ({resting / base:.2f}x baseline)")
    print(f"limit create + fill + market exit : {fill_us:7.1f} us per round trip (trader -> portfolio)")


if __name__ == "__main__":
    main()
