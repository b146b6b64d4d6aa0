"""Parameter-sweep benchmark: 16 W2 backtests serially vs ``run_sweep`` on Ray workers.

W2 is ``SmaCrossMode`` (0.1 % fees, 10,000 USDT) on the seeded 1-minute random walk of
``bench_backtest.py`` (100,000 candles by default). The grid is fast_period 5/10/15/20 x
slow_period 30/40/50/60: 16 combinations. In one run the script

1. starts a local Ray instance with ``--workers`` CPUs (timed apart: a one-off cost per session);
2. runs the grid with ``run_sweep`` on it with cold workers (their first task imports the library);
3. ``--repeat`` times (default 3): the 16 backtests one after the other with ``run_backtest`` in
   this process (the baseline), then ``run_sweep`` again on the now warm workers (repeated
   sweeps on one instance). Alternating them spreads load from other processes over both sides;
   the best time of each side gives the speed-up;

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
import subprocess
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


_SPIN = "s = 0\nfor i in range(15_000_000):\n    s += i\n"


def parallel_capacity(workers: int) -> float:
    """How much faster ``workers`` CPU-bound Python processes get through the same work than one, right now.

    On an idle machine with ``workers`` free cores this is ``workers``; other processes' load and
    the machine's virtualisation lower it. It bounds any parallel speed-up measured in this run.
    """

    def run(count: int) -> float:
        started = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(count)]
        for process in processes:
            process.wait()
        return time.perf_counter() - started

    one = min(run(1) for _ in range(2))
    many = min(run(workers) for _ in range(2))
    return workers * one / many


def _sweep(data: Any, label: str, serial_s: float | None) -> tuple[float, Any]:
    started = time.perf_counter()
    result = asyncio.run(run_sweep(data, SmaCrossMode, grid=GRID, progress=False, **OPTIONS))
    sweep_s = time.perf_counter() - started
    busy = sum(row.elapsed_s for row in result.table)
    ratio = f"; {serial_s / sweep_s:.2f}x the serial run before it" if serial_s else ""
    print(
        f"  run_sweep on {result.workers} workers ({label}): {sweep_s:.2f} s, backtests {busy:.2f} s of worker "
        f"time ({busy / (result.workers * sweep_s):.0%} of the workers' wall time){ratio}"
    )
    return sweep_s, result


def _serial(data: Any, combos: list[dict[str, Any]]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = [
        asyncio.run(run_backtest(data, trading_mode=SmaCrossMode, mode_config=combo, **OPTIONS)) for combo in combos
    ]
    serial_s = time.perf_counter() - started
    print(
        f"  serial run_backtest x{len(combos)}: {serial_s:.2f} s "
        f"({sum(r.candles for r in results) / serial_s:,.0f} candles/s)"
    )
    return serial_s, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="serial / warm-sweep pairs (best of each kept)")
    args = parser.parse_args()

    import ray

    data = random_walk(args.candles)
    combos = [{"fast_period": f, "slow_period": s} for f in GRID["fast_period"] for s in GRID["slow_period"]]
    print(
        f"W2 sweep: {len(combos)} combinations on {args.candles:,} candles; {os.cpu_count()} cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, Ray {ray.__version__}"
    )
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")

    capacity_before = parallel_capacity(args.workers)
    print(
        f"parallel capacity of the machine now: {capacity_before:.2f}x ({args.workers} busy Python processes "
        "vs 1: the ceiling of any speed-up in this run)"
    )
    started = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    startup_s = time.perf_counter() - started
    print(f"Ray start-up ({args.workers} CPUs): {startup_s:.2f} s")
    serial_times: list[float] = []
    sweep_times: list[float] = []
    results = []
    try:
        cold_s, cold = _sweep(data, "first sweep, cold workers", None)
        results.append(cold)
        for _ in range(max(1, args.repeat)):  # alternated, so that load from elsewhere hits both sides alike
            serial_s, serial = _serial(data, combos)
            serial_times.append(serial_s)
            warm_s, warm = _sweep(data, "warm workers", serial_s)
            sweep_times.append(warm_s)
            results.append(warm)
    finally:
        ray.shutdown()

    mismatches = []
    for result in results:
        for row, reference in zip(result.table, serial, strict=True):
            same = (
                row.ok
                and row.event_log_hash == reference.event_log_hash
                and row.final_portfolio == reference.final_portfolio
                and row.metrics == reference.metrics
            )
            if not same:
                mismatches.append((row.params, row.error))
    checked = len(results) * len(combos)
    print(
        f"rows identical to the serial backtests: {checked - len(mismatches)}/{checked} "
        f"({len({r.event_log_hash for r in serial})} distinct event logs, "
        f"{sum(r.metrics.trades for r in serial):,} fills in all)"
    )
    for params, error in mismatches:
        print(f"  MISMATCH {params}: {error}")
    best_serial, best_sweep = min(serial_times), min(sweep_times)
    print(
        f"best of {len(serial_times)}: serial {best_serial:.2f} s, sweep {best_sweep:.2f} s -> speed-up "
        f"{best_serial / best_sweep:.2f}x (goal >= 1.7x); cold first sweep {best_serial / cold_s:.2f}x, "
        f"counting Ray start-up {best_serial / (cold_s + startup_s):.2f}x"
    )
    capacity_after = parallel_capacity(args.workers)
    print(
        f"parallel capacity of the machine after: {capacity_after:.2f}x; sweep speed-up / best capacity: "
        f"{best_serial / best_sweep / max(capacity_before, capacity_after):.0%}"
    )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
