"""The ``sweep`` command: a parameter sweep from the command line.

``octobot-trading sweep --data FILE --mode sma_cross --grid fast_period=5,10,20
--grid slow_period=30,50 [--address HOST:PORT] [--workers N] [--metric total_return]``
backtests every combination on Ray (local by default), prints the combinations best first,
writes the table as CSV and the HTML sweep report (a heatmap of ``--metric`` over two
parameters). Data and portfolio options are the ``backtest`` command's.

Exported in :data:`COMMANDS` (``octobot_trading.cli`` gathers it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from octobot_trading.backtesting.cli import check_output_path, parse_portfolio, write_output
from octobot_trading.errors import ConfigurationError

__all__ = ["COMMANDS", "parse_grid"]


def _grid_value(text: str) -> Any:
    """``"5"`` -> 5, ``"0.5"`` -> ``"0.5"`` (exact), ``"true"`` -> True, anything else stays text."""
    try:
        value = json.loads(text, parse_float=str)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, bool | int | str) or value is None else text


def parse_grid(items: list[str] | None) -> dict[str, list[Any]]:
    """Parse ``["fast_period=5,10,20", "slow_period=30,50"]`` into a grid; ``ConfigurationError`` if malformed."""
    grid: dict[str, list[Any]] = {}
    for item in items or []:
        name, sep, values = item.partition("=")
        name = name.strip()
        texts = [text.strip() for text in values.split(",")]
        if not sep or not name or not all(texts):
            raise ConfigurationError(f"--grid expects NAME=VALUE,VALUE,..., got {item!r}", field="grid")
        if name in grid:
            raise ConfigurationError(f"--grid names {name!r} twice", field=f"grid.{name}")
        grid[name] = [_grid_value(text) for text in texts]
    if not grid:
        raise ConfigurationError("sweep needs at least one --grid NAME=VALUE,VALUE,...", field="grid")
    return grid


def _configure_sweep(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="candle file: .json, .json.gz, .csv or .sqlite")
    parser.add_argument("--symbol", help="e.g. BTC/USDT (default: from the file name or all in a .sqlite file)")
    parser.add_argument("--time-frame", help="e.g. 1h (default: from the file name)")
    parser.add_argument("--exchange", default=None, help="exchange name recorded in the results")
    parser.add_argument(
        "--mode",
        default="sma_cross",
        help="trading mode: a built-in name (sma_cross, grid, dca), package.module:Class or a script path",
    )
    parser.add_argument("--config", help="JSON file with the mode's base config (grid values override it)")
    parser.add_argument(
        "--grid",
        action="append",
        metavar="NAME=V1,V2,...",
        required=True,
        help="a swept parameter and its values, repeatable",
    )
    parser.add_argument("--address", help="join this Ray cluster (default: a local Ray instance)")
    parser.add_argument("--workers", type=int, help="local workers (default: one per core)")
    parser.add_argument("--metric", default="total_return", help="metric to rank by and draw (default total_return)")
    parser.add_argument("--x", help="heatmap x parameter (default: the first --grid)")
    parser.add_argument("--y", help="heatmap y parameter (default: the second --grid)")
    parser.add_argument(
        "--portfolio", action="append", metavar="CUR=AMOUNT", help="starting balance, repeatable (default USDT=10000)"
    )
    parser.add_argument("--maker-fee", default="0.001", help="maker fee rate (default 0.001)")
    parser.add_argument("--taker-fee", default="0.001", help="taker fee rate (default 0.001)")
    parser.add_argument("--report", default="sweep_report.html", help="HTML report path (default sweep_report.html)")
    parser.add_argument("--csv", default="sweep_results.csv", help="CSV path (default sweep_results.csv)")
    parser.add_argument("--top", type=int, default=20, help="combinations printed (default 20)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _read_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"), parse_float=str)
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read mode config {path}: {exc}", field="config") from exc
    if not isinstance(config, dict):
        raise ConfigurationError(f"{path}: the mode config must be a JSON object", field="config")
    return config


def _print_table(result: Any, metric: str, top: int) -> None:
    from octobot_trading.backtesting.sweep import LOWER_IS_BETTER
    from octobot_trading.backtesting.sweep_report import format_metric

    ranked = result.table.sort(metric, descending=metric not in LOWER_IS_BETTER)
    columns = list(dict.fromkeys([metric, "total_return", "max_drawdown", "sharpe", "trades"]))
    header = [*result.parameters, *columns, "event-log hash"]
    lines = []
    for row in ranked[:top]:
        cells = [str(row.params[p]) for p in result.parameters]
        if row.ok:
            cells += [format_metric(c, row.value(c)) for c in columns] + [(row.event_log_hash or "")[:16]]
        else:
            cells.append(f"failed: {row.error}")
        lines.append(cells)
    widths = [
        max([len(header[i]), *(len(line[i]) for line in lines if len(line) == len(header))]) for i in range(len(header))
    ]
    for line in [header, *lines]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip())
    if len(ranked) > top:
        print(f"... {len(ranked) - top} more in the CSV")


def _run_sweep(args: argparse.Namespace) -> int:
    import octobot_trading as ot
    from octobot_trading.backtesting.candle_data import CandleData
    from octobot_trading.backtesting.sweep import METRIC_COLUMNS, run_sweep

    grid = parse_grid(args.grid)
    if args.metric not in METRIC_COLUMNS:
        raise ConfigurationError(
            f"unknown metric {args.metric!r}; metrics: {', '.join(METRIC_COLUMNS)}", field="metric"
        )
    check_output_path(args.csv, "--csv")  # before the combinations run: their results must not be lost
    check_output_path(args.report, "--report")
    mode = ot.modes.resolve_mode(args.mode)  # the backtest command's resolution
    config = _read_config(args.config)
    portfolio = parse_portfolio(args.portfolio)
    fees = ot.Fees(maker=args.maker_fee, taker=args.taker_fee)
    data = CandleData.from_file(args.data, exchange=args.exchange, symbol=args.symbol, time_frame=args.time_frame)
    result = asyncio.run(
        run_sweep(
            data,
            mode,
            grid=grid,
            mode_config=config,
            starting_portfolio=portfolio,
            fees=fees,
            address=args.address,
            workers=args.workers,
            progress=not args.no_progress,
        )
    )
    failed = len(result.table.failed)
    print(
        f"{result.mode_name} sweep on {', '.join(result.symbols)} ({', '.join(result.time_frames)}), "
        f"{result.candles} candles: {len(result.table)} combinations, {failed} failed, "
        f"{result.workers} workers, {result.elapsed_s:.1f} s"
    )
    _print_table(result, args.metric, max(1, args.top))
    csv_path = write_output(result.to_csv, args.csv, "--csv")
    print(f"table written to {csv_path.resolve()}")
    report = write_output(
        lambda target: result.write_report(target, metric=args.metric, x=args.x, y=args.y), args.report, "--report"
    )
    print(f"report written to {report.resolve()}")
    if result.table and failed == len(result.table):
        first = result.table[0].error
        print(f"error: every one of the {failed} combinations failed (first: {first})", file=sys.stderr)
        return 2
    return 0


#: This module's commands: name -> (one-line help, argument setup, runner).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "sweep": ("backtest every combination of a parameter grid on Ray", _configure_sweep, _run_sweep),
}
