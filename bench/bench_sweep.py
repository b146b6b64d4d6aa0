"""Parameter-sweep benchmark: 16 W2 backtests serially vs ``run_sweep`` on Ray workers.

W2 is ``SmaCrossMode`` (0.1 % fees, 10,000 USDT) on the seeded 1-minute random walk of
``bench_backtest.py`` (100,000 candles by default). The grid is fast_period 5/10/15/20 x
slow_period 30/40/50/60: 16 combinations. In one run the script

1. runs the 16 backtests one after the other with ``run_backtest`` in this process (baseline);
2. starts a local Ray instance with ``--workers`` CPUs (timed apart: a one-off cost per session);
3. runs the same grid with ``run_sweep`` on it twice: first with cold workers (their first task
   imports the library), then again on the now warm workers (repeated sweeps on one instance);

then prints the speed-up (goal >= 1.7x on 2 workers) and checks that every sweep row equals the
serial backtest of its config (event-log hash, final portfolio, metrics).

Usage::

    python bench/bench_sweep.py                 # 100k candles, 2 workers
    python bench/bench_sweep.py --candles 20000 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

# a local benchmark cluster stays on loopback and sends no usage statistics (read when Ray is imported)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backtest import random_walk  # the W2 data of the backtest benchmark

import octobot_trading as ot
from octobot_trading.backtesting import run_backtest, run_sweep
from octobot_trading.modes.sma_cross import SmaCrossMode

GRID: dict[str, list[Any]] = {"fast_period": [5, 10, 15, 20], "slow_period": [30, 40, 50, 60]}
OPTIONS: dict[str, Any] = {"starting_portfolio": {"USDT": "10000"}, "fees": ot.Fees(maker="0.001", taker="0.001")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import ray

    data = random_walk(args.candles)
    combos = [{"fast_period": f, "slow_period": s} for f in GRID["fast_period"] for s in GRID["slow_period"]]
    print(f"W2 sweep: {len(combos)} combinations on {args.candles:,} candles; {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, Ray {ray.__version__}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    started = time.perf_counter()
    serial = [asyncio.run(run_backtest(data, trading_mode=SmaCrossMode, mode_config=combo, **OPTIONS))
              for combo in combos]
    serial_s = time.perf_counter() - started
    print(f"serial run_backtest x{len(combos)}: {serial_s:.2f} s "
          f"({sum(r.candles for r in serial) / serial_s:,.0f} candles/s)")

    started = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    startup_s = time.perf_counter() - started
    print(f"Ray start-up ({args.workers} CPUs): {startup_s:.2f} s")
    runs = []
    try:
        for label in ("first sweep, cold workers", "second sweep, warm workers"):
            started = time.perf_counter()
            result = asyncio.run(run_sweep(data, SmaCrossMode, grid=GRID, progress=False, **OPTIONS))
            sweep_s = time.perf_counter() - started
            busy = sum(row.elapsed_s for row in result.table)
            print(f"run_sweep on {result.workers} workers ({label}): {sweep_s:.2f} s, backtests {busy:.2f} s of "
                  f"worker time ({busy / (result.workers * sweep_s):.0%} of the workers' wall time); "
                  f"speed-up vs serial {serial_s / sweep_s:.2f}x")
            runs.append((sweep_s, result))
    finally:
        ray.shutdown()

    mismatches = []
    for _, result in runs:
        for row, reference in zip(result.table, serial, strict=True):
            same = (row.ok and row.event_log_hash == reference.event_log_hash
                    and row.final_portfolio == reference.final_portfolio and row.metrics == reference.metrics)
            if not same:
                mismatches.append((row.params, row.error))
    hashes = len({r.event_log_hash for r in serial})
    print(f"rows identical to the serial backtests: {2 * len(combos) - len(mismatches)}/{2 * len(combos)} "
          f"({hashes} distinct event logs, {sum(r.metrics.trades for r in serial):,} fills in all)")
    for params, error in mismatches:
        print(f"  MISMATCH {params}: {error}")
    cold_s, warm_s = runs[0][0], runs[1][0]
    print(f"speed-up, sweep vs serial: {serial_s / cold_s:.2f}x cold, {serial_s / warm_s:.2f}x warm (goal >= 1.7x); "
          f"first sweep counting Ray start-up: {serial_s / (cold_s + startup_s):.2f}x")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
