"""Futures W2 benchmark: the short-enabled SmaCrossMode on a linear perpetual vs spot W2, same candles, same run.

Data: the seeded synthetic 1-minute random walk of the backtest benchmark (``bench_backtest.random_walk``,
500,000 candles by default, prices with 2 decimals around 30,000), replayed twice through
``run_backtest``:

* **spot W2**: ``SmaCrossMode`` (fast 10, slow 30, ``buy_fraction`` 0.95) on ``BTC/USDT``, 10,000 USDT,
  0.1 % fees -- the W2 workload of ``bench/bench_backtest.py``;
* **futures W2**: the same candles as ``BTC/USDT:USDT``, a linear perpetual (contract size 1,
  the default 1e-8 amount step, leverage 1, isolated, one-way, maintenance margin rate 0.004: the
  spot run's economics), ``SmaCrossMode`` with ``allow_short=True`` (every cross after the first
  turns the position around with one order of both sizes: spot's order count, each order about
  twice as large), funding every 8 hours (a seeded rate in
  [-0.0003, 0.0003], exact Decimals) and the same fees. Its margin is 10^14 USDT instead of
  10,000: flipping at every cross pays twice spot's fees, and on this walk (where crossing loses
  its fees) 10,000 USDT would fall below one amount step half-way and the account would stop
  trading, making the second half of the run cheap; with 10^14 it trades at every cross to the
  end (the fills, funding payments and open positions are printed to check it).

The goal is futures W2 time <= 1.3 x spot W2 time; the ratio is printed with both throughputs, the
fills, funding payments and liquidations of the futures run (best of ``--repeat`` runs each, the
workloads interleaved so machine load hits both alike). Times are the process's CPU time
(``time.process_time``) around each ``run_backtest``, which other processes' load moves far less
than wall time on a shared machine; the wall-clock ratio and the load average are printed too.

``--long-only`` adds a third workload, the same perpetual with ``allow_short=False`` (long or
flat: as many orders as spot W2), to tell the cost per futures order from the cost of placing
twice as many orders.

Usage::

    python bench/futures_w2.py                   # 500,000 candles, best of 2
    python bench/futures_w2.py --candles 100000 --repeat 3 --long-only
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import random_walk  # the W2 data of the backtest benchmark

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, CandleSeries, FundingData, run_backtest
from octobot_trading.modes.sma_cross import SmaCrossMode

GOAL = 1.3
CONTRACT = "BTC/USDT:USDT"
FUNDING_MS = 8 * 3600 * 1000
FUTURES_MARGIN = "100000000000000"  # 10^14 USDT: see the module docstring


def contract_data(spot: CandleData) -> CandleData:
    """The same candles under the perpetual's symbol."""
    s = next(iter(spot))
    series = CandleSeries.from_arrays(
        CONTRACT, s.time_frame, s.times, s.opens, s.highs, s.lows, s.closes, s.volumes, source=s.source
    )
    return CandleData([series], exchange=spot.exchange)


def funding_every_8h(data: CandleData, seed: int = 7) -> FundingData:
    """A seeded funding rate at every 8-hour boundary the candles cover (integer basis points / 10)."""
    series = next(iter(data))
    first = int(series.times[0]) - int(series.times[0]) % FUNDING_MS + FUNDING_MS
    last = int(series.times[-1])
    times = list(range(first, last + 1, FUNDING_MS))
    ticks = np.random.default_rng(seed).integers(-3, 4, len(times))
    rates = [f"{int(t)}e-4" for t in ticks]
    return FundingData(CONTRACT, times, rates)


def spec() -> ot.ContractSpec:
    return ot.ContractSpec(leverage="1", maintenance_margin_rate="0.004")


async def _spot(data: CandleData) -> Any:
    return await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config={},
        starting_portfolio={"USDT": "10000"},
        fees=ot.Fees(maker="0.001", taker="0.001"),
    )


async def _futures(data: CandleData, funding: FundingData, allow_short: bool = True) -> Any:
    return await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config={"allow_short": allow_short},
        starting_portfolio={"USDT": FUTURES_MARGIN},
        fees=ot.Fees(maker="0.001", taker="0.001"),
        contracts={CONTRACT: spec()},
        funding_rates=funding,
    )


def _timed(run: Any) -> tuple[float, Any]:
    """``(CPU seconds of this process, result)`` of one backtest coroutine."""
    start = time.process_time()
    result = asyncio.run(run)
    return time.process_time() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--long-only", action="store_true", help="also time the long-only SmaCross on the perp (spot's order count)"
    )
    args = parser.parse_args()
    spot = random_walk(args.candles)
    perp = contract_data(spot)
    funding = funding_every_8h(perp)
    best_spot = best_futures = best_long = math.inf
    wall_spot = wall_futures = math.inf
    spot_result = futures_result = long_result = None
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        cpu, spot_result = _timed(_spot(spot))
        best_spot, wall_spot = min(best_spot, cpu), min(wall_spot, spot_result.elapsed_s)
        cpu, futures_result = _timed(_futures(perp, funding))
        best_futures, wall_futures = min(best_futures, cpu), min(wall_futures, futures_result.elapsed_s)
        if args.long_only:
            cpu, long_result = _timed(_futures(perp, funding, allow_short=False))
            best_long = min(best_long, cpu)
    load_after = os.getloadavg()
    assert spot_result is not None and futures_result is not None
    n = args.candles
    ratio = best_futures / best_spot
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{n:,} 1m candles, best of {args.repeat} (CPU time); load average {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(f"spot W2     {best_spot:7.2f} s  {n / best_spot:>10,.0f} candles/s  {len(spot_result.trades)} fills")
    print(
        f"futures W2  {best_futures:7.2f} s  {n / best_futures:>10,.0f} candles/s  "
        f"{len(futures_result.trades)} fills, {len(futures_result.funding)} funding payments, "
        f"{len(futures_result.liquidations)} liquidations, {len(futures_result.positions)} open position(s)"
    )
    if long_result is not None:
        print(
            f"futures long-only W2 {best_long:7.2f} s  {n / best_long:>10,.0f} candles/s  "
            f"{len(long_result.trades)} fills, {len(long_result.funding)} funding payments "
            f"(as many orders as spot: {best_long / best_spot:.2f}x spot)"
        )
    print(f"futures / spot wall time: {wall_futures / wall_spot:.2f}x (best wall times, for reference)")
    print(f"futures / spot CPU time: {ratio:.2f}x (goal <= {GOAL}x): {'met' if ratio <= GOAL else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
