"""Backtest throughput benchmark: W1 (a mode that does nothing) and W2 (SmaCrossMode).

Both workloads run through the full event-driven engine (``run_backtest``: simulated clock,
matching engine, market-data hub and synchronized channels, trader, portfolio, trading-mode
framework, equity sampler): the same code as live trading except the connector and the clock.

Data sets: a seeded synthetic 1-minute random walk of 100,000 and 500,000 candles (generated
here, prices with 2 decimals like BTC/USDT) and the real Binance BTC/USDT 5m file
(``binance_spot_nfi/BTC_USDT-5m.json`` in the shared data folder, 65,741 candles; see
``octobot_trading.testing.shared_data`` -- skipped with a message when absent). In the same run,
two plain-Python loops do W2 on the same data for the ratios: the exact reference
(``octobot_trading.testing.sma_cross_reference``: Decimal SMA sums, the documented fill rules,
the correctness oracle) and a float loop (float SMA sums: the fastest plain loop one could
write, not exact). Peak memory is the peak RSS (``VmHWM``) of a fresh subprocess running one
W2 backtest on 500,000 candles (interpreter, libraries and the generated data included), and
the peak RSS of a fresh subprocess that loads the same 500,000 candles from a CSV file with
``CandleData.from_file`` and runs W2, with ``keep_orders=True`` (default) and ``keep_orders=False``.

Usage::

    python bench/bench_backtest.py              # full table
    python bench/bench_backtest.py --quick      # 100k synthetic + real file only, no memory run
    python bench/bench_backtest.py --profile    # cProfile of W2 on the real file (top 25)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, CandleSeries, run_backtest
from octobot_trading.modes import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode, TradingDecision
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing.shared_data import missing_shared_data_reason, shared_data_file
from octobot_trading.testing.sma_cross_reference import sma_cross_reference

REAL_FILE = shared_data_file("binance_spot_nfi", "BTC_USDT-5m.json")


class _IdleProducer(AbstractModeProducer):
    async def on_candle(self, candle: Any) -> None:
        return None


class _IdleConsumer(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class IdleMode(AbstractTradingMode):
    """W1: subscribed to every candle close, never trades."""

    producer_classes = (_IdleProducer,)
    consumer_classes = (_IdleConsumer,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "idle"


def random_walk(n: int, seed: int = 42) -> CandleData:
    """A seeded 1-minute random walk of ``n`` candles, prices rounded to 0.01 (few temporaries)."""
    rng = np.random.default_rng(seed)
    start = 1_600_000_000_000 - 1_600_000_000_000 % 60_000
    times = start + 60_000 * np.arange(n, dtype=np.int64)
    closes = rng.normal(0.0, 0.0008, n)
    np.cumsum(closes, out=closes)
    np.exp(closes, out=closes)
    closes *= 30_000.0
    np.round(closes, 2, out=closes)
    opens = np.empty(n)
    opens[0] = 30_000.0
    opens[1:] = closes[:-1]
    highs = np.maximum(opens, closes)
    lows = np.minimum(opens, closes)
    spread = np.abs(rng.normal(0.0, 0.0004, n))
    spread += 1.0
    highs *= spread
    np.round(highs, 2, out=highs)
    np.maximum(highs, np.maximum(opens, closes, out=spread), out=highs)
    spread = np.abs(rng.normal(0.0, 0.0004, n))
    np.subtract(1.0, spread, out=spread)
    lows *= spread
    np.round(lows, 2, out=lows)
    np.minimum(lows, np.minimum(opens, closes, out=spread), out=lows)
    del spread
    volumes = rng.gamma(2.0, 5.0, n)
    np.round(volumes, 4, out=volumes)
    series = CandleSeries.from_arrays(
        "BTC/USDT", "1m", times, opens, highs, lows, closes, volumes, source=f"random-walk-{n}-seed{seed}"
    )
    return CandleData([series], exchange="simulator")


def float_sma_loop(closes: list[float], times: list[int], tf_ms: int, fast: int = 10, slow: int = 30) -> int:
    """Plain float loop: running float sums, market fills at the close, 0.1 % fees (W2 semantics)."""
    quote, base, fee = 10_000.0, 0.0, 0.001
    window: list[float] = []
    fs = ss = 0.0
    prev = None
    trades = 0
    for i, c in enumerate(closes):
        window.append(c)
        fs += c
        ss += c
        n = len(window)
        if n > fast:
            fs -= window[n - 1 - fast]
        if n > slow:
            ss -= window[n - 1 - slow]
        if n < slow:
            continue
        d = fs / fast - ss / slow
        if prev is not None:
            if prev <= 0 < d and base * c < 1e-8:
                amount = math.floor(0.95 * quote / c * 1e8) / 1e8
                quote -= amount * c
                base += amount * (1 - fee)
                trades += 1
            elif prev >= 0 > d and base > 0:
                amount = math.floor(base * 1e8) / 1e8
                quote += amount * c * (1 - fee)
                base -= amount
                trades += 1
        prev = d
        if n > 2 * slow + 2:
            del window[: n - slow - 1]
        _ = times[i] + tf_ms
    return trades


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    clock = ot.LiveClock()
    start = clock.monotonic()
    result = fn()
    return clock.monotonic() - start, result


def _engine(data: CandleData, mode: type[AbstractTradingMode]) -> tuple[float, Any]:
    async def run() -> Any:
        return await run_backtest(
            data, trading_mode=mode, starting_portfolio={"USDT": "10000"}, fees=ot.Fees(maker="0.001", taker="0.001")
        )

    clock = ot.LiveClock()
    start = clock.monotonic()
    result = asyncio.run(run())
    return clock.monotonic() - start, result


def bench(name: str, data: CandleData, repeat: int) -> list[dict[str, Any]]:
    """Run W1, W2 and both plain loops on ``data``; return result rows (best of ``repeat``)."""
    series = next(iter(data))
    closes, times, tf_ms = series.closes.tolist(), series.times.tolist(), series.time_frame.ms
    n = len(series)
    rows = []
    exact = min(_timed(lambda: sma_cross_reference(times, closes, tf_ms))[0] for _ in range(repeat))
    floaty = min(_timed(lambda: float_sma_loop(closes, times, tf_ms))[0] for _ in range(repeat))
    reference = sma_cross_reference(times, closes, tf_ms)
    for workload, mode in (("W1 idle mode", IdleMode), ("W2 SmaCrossMode", SmaCrossMode)):
        best = math.inf
        result = None
        for _ in range(repeat):
            elapsed, result = _engine(data, mode)
            best = min(best, elapsed)
        assert result is not None
        if mode is SmaCrossMode:
            same = [(f.time, f.price, f.amount, f.fee) for f in result.trades] == [
                (f.time, f.price, f.amount, f.fee) for f in reference.fills
            ]
            check = f"{len(result.trades)} fills, == reference: {same}"
        else:
            check = f"{len(result.trades)} fills"
        rows.append(
            {
                "data": name,
                "workload": workload,
                "candles": n,
                "engine": n / best,
                "exact_loop": n / exact,
                "float_loop": n / floaty,
                "check": check,
            }
        )
    return rows


def _hwm_mb() -> float:
    """Peak RSS of this process in MB (VmHWM: reset by exec, unlike ru_maxrss after a fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_subprocess(n: int) -> tuple[float, float, float]:
    """Peak RSS (MB) of a fresh interpreter running W2 on an ``n``-candle random walk.

    Returns ``(after imports, after generating the data, after the backtest)``.
    """
    folder = str(Path(__file__).parent)
    code = (
        f"import sys; sys.path.insert(0, {folder!r})\n"
        "import bench_backtest as b, asyncio, octobot_trading as ot\n"
        "from octobot_trading.modes.sma_cross import SmaCrossMode\n"
        "m0 = b._hwm_mb()\n"
        f"data = b.random_walk({n})\n"
        "m1 = b._hwm_mb()\n"
        "asyncio.run(ot.backtesting.run_backtest(data, trading_mode=SmaCrossMode,"
        " starting_portfolio={'USDT': '10000'}, fees=ot.Fees(maker='0.001', taker='0.001')))\n"
        "print(m0, m1, b._hwm_mb())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    m0, m1, m2 = (float(x) for x in out.stdout.strip().splitlines()[-1].split())
    return m0, m1, m2


def write_csv(data: CandleData, path: Path) -> None:
    """Write the single series of ``data`` as a ``timestamp,open,high,low,close,volume`` CSV file."""
    series = next(iter(data))
    columns = (
        series.times.tolist(),
        series.opens.tolist(),
        series.highs.tolist(),
        series.lows.tolist(),
        series.closes.tolist(),
        series.volumes.tolist(),
    )
    with path.open("w") as handle:
        handle.write("timestamp,open,high,low,close,volume\n")
        handle.writelines(",".join(map(repr, row)) + "\n" for row in zip(*columns, strict=True))


def peak_memory_csv_subprocess(csv_path: Path, keep_orders: bool) -> tuple[float, float, float, float]:
    """Peak RSS (MB) of a fresh interpreter loading ``csv_path`` with ``from_file`` and running W2 on it.

    Returns ``(after imports, peak after loading, resident after loading, peak after the backtest)``.
    """
    code = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "import octobot_trading as ot\n"
        "from octobot_trading.modes.sma_cross import SmaCrossMode\n"
        "def mb(key):\n"
        "    return [int(l.split()[1]) / 1024 for l in Path('/proc/self/status').read_text().splitlines()"
        " if l.startswith(key)][0]\n"
        "m0 = mb('VmHWM:')\n"
        f"data = ot.backtesting.CandleData.from_file({str(csv_path)!r}, exchange='binance')\n"
        "m1, r1 = mb('VmHWM:'), mb('VmRSS:')\n"
        "asyncio.run(ot.backtesting.run_backtest(data, trading_mode=SmaCrossMode,"
        " starting_portfolio={'USDT': '10000'}, fees=ot.Fees(maker='0.001', taker='0.001'),"
        f" keep_orders={keep_orders!r}))\n"
        "print(m0, m1, r1, mb('VmHWM:'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    m0, m1, r1, m2 = (float(x) for x in out.stdout.strip().splitlines()[-1].split())
    return m0, m1, r1, m2


def memory_rows(n: int) -> None:
    """Print the fresh-process peak RSS rows (generated data, then a CSV file of the same candles)."""
    imports, generated, peak = peak_memory_subprocess(n)
    print(
        f"peak RSS, W2 on {n:,} generated candles (fresh process): {peak:.0f} MB "
        f"(after imports {imports:.0f} MB, after generating the data {generated:.0f} MB)"
    )
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "BTC_USDT-1m.csv"
        write_csv(random_walk(n), csv_path)
        size = csv_path.stat().st_size / 1e6
        for keep in (True, False):
            imports, loaded, resident, peak = peak_memory_csv_subprocess(csv_path, keep)
            print(
                f"peak RSS, from_file on a {n:,}-row CSV ({size:.1f} MB) + W2 keep_orders={keep} "
                f"(fresh process): {peak:.0f} MB (after imports {imports:.0f} MB, peak of the load "
                f"{loaded:.0f} MB, resident after it {resident:.0f} MB)  goal <= 150 MB: "
                f"{'met' if peak <= 150 else 'NOT met'}"
            )


def machine() -> str:
    """One line describing the machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, numpy {np.__version__}"


def profile() -> None:
    """cProfile W2 on the real file; print the top functions by own time."""
    import cProfile
    import pstats

    missing = missing_shared_data_reason("binance_spot_nfi", "BTC_USDT-5m.json")
    if missing is not None:
        sys.exit(f"cannot profile: {missing}")
    data = CandleData.from_file(REAL_FILE, exchange="binance")
    profiler = cProfile.Profile()
    profiler.enable()
    _engine(data, SmaCrossMode)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k + real file, one repeat, no memory run")
    parser.add_argument("--profile", action="store_true", help="profile W2 on the real file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.profile:
        profile()
        return
    repeat = 1 if args.quick else args.repeat
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    sets: list[tuple[str, Callable[[], CandleData]]] = [("random walk 1m 100k", lambda: random_walk(100_000))]
    if not args.quick:
        sets.append(("random walk 1m 500k", lambda: random_walk(500_000)))
    missing = missing_shared_data_reason("binance_spot_nfi", "BTC_USDT-5m.json")
    if missing is None:
        sets.append(("real BTC/USDT 5m", lambda: CandleData.from_file(REAL_FILE, exchange="binance")))
    else:
        print(f"skipping the real-data rows: {missing}")
    header = (
        f"{'data':22} {'workload':17} {'candles':>8} {'engine c/s':>11} {'exact loop':>11} "
        f"{'float loop':>11} {'eng/exact':>9} {'eng/float':>9}  check"
    )
    print(header)
    print("-" * len(header))
    for name, make in sets:
        for row in bench(name, make(), repeat):
            print(
                f"{row['data']:22} {row['workload']:17} {row['candles']:>8} {row['engine']:>11,.0f} "
                f"{row['exact_loop']:>11,.0f} {row['float_loop']:>11,.0f} "
                f"{row['engine'] / row['exact_loop']:>9.3f} {row['engine'] / row['float_loop']:>9.3f}  "
                f"{row['check']}"
            )
    if not args.quick:
        memory_rows(500_000)
    print(f"this process peak RSS: {_hwm_mb():.0f} MB")


if __name__ == "__main__":
    main()
