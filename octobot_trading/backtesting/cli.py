"""Command-line commands of the backtesting harness: ``demo``, ``backtest``, ``download-data``.

Exported in :data:`COMMANDS` (``octobot_trading.cli`` gathers it).

* ``octobot-trading demo``: backtest of the built-in SMA-cross mode on the real BTC/USDT 1h
  candles bundled with the package (see ``octobot_trading/data/PROVENANCE.md``); prints the
  metrics and writes a self-contained HTML report.
* ``octobot-trading backtest --data FILE --symbol S --time-frame TF --mode NAME|module:Class|script.py
  [--config mode.json] [--portfolio USDT=10000 ...] [--maker-fee R --taker-fee R] [--report out.html]``;
  on a contract symbol (``XRP/USDT:USDT``) also ``[--leverage 5] [--margin-mode isolated|cross]
  [--position-mode one_way|hedge] [--maintenance-margin-rate 0.004] [--contract-size 1]
  [--funding FILE] [--mark FILE]`` (see :mod:`~octobot_trading.backtesting.futures_cli`).
* ``octobot-trading download-data --exchange binance --symbols BTC/USDT --time-frames 1h
  --since 2024-01-01 --out data.sqlite`` (public endpoints, no credentials needed); contract
  symbols also get their mark-price candles and funding-rate history.

Long runs show a tqdm progress bar on stderr (``--no-progress`` disables it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from octobot_trading.backtesting.futures_cli import (
    add_futures_arguments,
    download_market_type,
    futures_arguments,
    position_text,
)
from octobot_trading.errors import ConfigurationError

if TYPE_CHECKING:
    from octobot_trading.exchanges.rest_exchange import RestExchange

__all__ = ["COMMANDS", "DEMO_DATA", "check_output_path", "parse_portfolio", "parse_since", "write_output"]

DEMO_DATA = Path(__file__).resolve().parent.parent / "data" / "BTC_USDT-1h.json.gz"
PROGRESS_MIN_CANDLES = 20_000


def parse_portfolio(items: list[str] | None) -> dict[str, str]:
    """Parse ``["USDT=10000", "BTC=0.5"]``; ``ConfigurationError`` for a malformed item."""
    portfolio: dict[str, str] = {}
    for item in items or ["USDT=10000"]:
        currency, sep, amount = item.partition("=")
        if not sep or not currency.strip() or not amount.strip():
            raise ConfigurationError(f"--portfolio expects CURRENCY=AMOUNT, got {item!r}", field="portfolio")
        portfolio[currency.strip().upper()] = amount.strip()
    return portfolio


def check_output_path(path: str | Path, option: str) -> Path:
    """Return ``path`` if a file can be written there, else ``ConfigurationError`` naming ``option``.

    Called before a command's work starts, so that a result is not computed only to be lost.
    """
    target = Path(path)
    reason = None
    if target.is_dir():
        reason = "is a directory"
    elif not target.parent.is_dir():
        reason = f"its directory {str(target.parent)!r} does not exist"
    elif not os.access(target.parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        reason = "is not writable"
    if reason is not None:
        raise ConfigurationError(f"{option} {str(target)!r}: {reason}", field=option.lstrip("-"))
    return target


def write_output(write: Callable[[Path], Path], path: str | Path, option: str) -> Path:
    """Run ``write(path)``; an OS error (disk full, permissions changed since the check) becomes a
    ``ConfigurationError`` naming ``option``."""
    try:
        return write(Path(path))
    except OSError as exc:
        raise ConfigurationError(f"{option} {str(path)!r}: cannot write: {exc}", field=option.lstrip("-")) from None


def parse_since(text: str) -> int:
    """Parse a UTC date (``2024-01-01``, ISO date-time) or integer ms into ms since the epoch."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"not a date: {text!r} (expected YYYY-MM-DD)", field="since") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class _Progress:
    """A tqdm bar driven by the backtest driver's ``progress(done, total)`` callback."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="candle", unit_scale=True, file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _print_result(result: Any) -> None:
    rows = result.metrics.rows()
    width = max(len(label) for label, _ in rows)
    print(
        f"{result.mode_name} on {', '.join(result.symbols)} ({', '.join(result.time_frames)}), "
        f"{result.candles} candles, {len(result.trades)} fills, {result.candles_per_second:,.0f} candles/s"
    )
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    balances = ", ".join(f"{v.normalize():f} {k}" for k, v in sorted(result.final_portfolio.items()))
    print(f"  {'Final portfolio':<{width}}  {balances}")
    for position in result.positions:
        print(f"  {'Open position':<{width}}  {position_text(position)}")
    print(f"  {'Event-log hash':<{width}}  {result.event_log_hash}")


def _run(
    data: Any, args: argparse.Namespace, mode_name: str, config: dict[str, Any], futures: dict[str, Any] | None = None
) -> int:
    import octobot_trading as ot
    from octobot_trading.backtesting.report import write_report
    from octobot_trading.backtesting.runner import run_backtest

    check_output_path(args.report, "--report")
    mode = ot.modes.resolve_mode(mode_name)
    fees = ot.Fees(maker=args.maker_fee, taker=args.taker_fee)
    progress = _Progress(not args.no_progress and data.total_candles >= PROGRESS_MIN_CANDLES)
    try:
        result = asyncio.run(
            run_backtest(
                data,
                trading_mode=mode,
                mode_config=config,
                starting_portfolio=parse_portfolio(args.portfolio),
                fees=fees,
                progress=progress,
                **(futures or {}),
            )
        )
    finally:
        progress.close()
    _print_result(result)
    path = write_output(lambda target: write_report(result, target), args.report, "--report")
    print(f"report written to {path.resolve()}")
    return 0


def _common(parser: argparse.ArgumentParser, default_report: str) -> None:
    parser.add_argument(
        "--portfolio", action="append", metavar="CUR=AMOUNT", help="starting balance, repeatable (default USDT=10000)"
    )
    parser.add_argument("--maker-fee", default="0.001", help="maker fee rate (default 0.001)")
    parser.add_argument("--taker-fee", default="0.001", help="taker fee rate (default 0.001)")
    parser.add_argument("--report", default=default_report, help=f"HTML report path (default {default_report})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", default="sma_cross", help="built-in mode: sma_cross (default), grid, dca")
    _common(parser, "octobot_trading_demo_report.html")


def _run_demo(args: argparse.Namespace) -> int:
    from octobot_trading.backtesting.candle_data import CandleData

    data = CandleData.from_file(DEMO_DATA, exchange="binance", symbol="BTC/USDT", time_frame="1h")
    configs: dict[str, dict[str, Any]] = {
        "sma_cross": {"fast_period": 10, "slow_period": 30},
        "grid": {"levels": 5, "spacing_percent": "2", "amount_per_level": "0.01"},
        "dca": {"entry": "dip", "dip_percent": "4", "lookback": 24, "quote_amount": "500"},
    }
    if args.mode not in configs:
        raise ConfigurationError(f"demo modes: {', '.join(configs)}", field="mode")
    if args.mode == "grid" and not args.portfolio:
        args.portfolio = ["USDT=10000", "BTC=0.05"]
    print(f"demo: Binance BTC/USDT 1h, {data.total_candles} real candles bundled with the package")
    return _run(data, args, args.mode, configs[args.mode])


def _configure_backtest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="candle file: .json, .json.gz, .csv or .sqlite")
    parser.add_argument("--symbol", help="e.g. BTC/USDT (default: from the file name or all in a .sqlite file)")
    parser.add_argument("--time-frame", help="e.g. 1h (default: from the file name)")
    parser.add_argument("--exchange", default=None, help="exchange name recorded in the results")
    parser.add_argument(
        "--mode",
        default="sma_cross",
        help="sma_cross (default), grid, dca, package.module:Class or a script path (.py)",
    )
    parser.add_argument("--config", help="JSON file with the mode's config")
    _common(parser, "backtest_report.html")
    add_futures_arguments(parser)


def _run_backtest(args: argparse.Namespace) -> int:
    from octobot_trading.backtesting.candle_data import CandleData

    config: dict[str, Any] = {}
    if args.config:
        try:
            config = json.loads(Path(args.config).read_text(encoding="utf-8"), parse_float=str)
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read mode config {args.config}: {exc}", field="config") from exc
        if not isinstance(config, dict):
            raise ConfigurationError(f"{args.config}: the mode config must be a JSON object", field="config")
    data = CandleData.from_file(args.data, exchange=args.exchange, symbol=args.symbol, time_frame=args.time_frame)
    return _run(data, args, args.mode, config, futures_arguments(args, data))


def _configure_download(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exchange", required=True, help="ccxt exchange id, e.g. binance")
    parser.add_argument("--symbols", required=True, nargs="+", help="e.g. BTC/USDT ETH/USDT")
    parser.add_argument("--time-frames", required=True, nargs="+", help="e.g. 1h 5m")
    parser.add_argument("--since", required=True, help="first open time: YYYY-MM-DD (UTC) or ms")
    parser.add_argument("--until", help="stop before this open time (default: now)")
    parser.add_argument("--out", required=True, help="SQLite data file (created or resumed)")
    parser.add_argument("--sandbox", action="store_true", help="use the exchange's testnet")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


async def _download(
    args: argparse.Namespace,
    *,
    client_hook: Any = None,
    ccxt_options: dict[str, Any] | None = None,
    exchange_class: type[RestExchange] | None = None,
) -> Any:
    """Run ``download-data`` through the venue's exchange class (its connector, default ccxt
    options and ``fix_*`` hooks, as a build would use them). ``client_hook`` / ``ccxt_options``
    let tests aim at a local server; ``exchange_class`` replaces the registered class."""
    from octobot_trading.backtesting.collector import download_data
    from octobot_trading.clock import LiveClock
    from octobot_trading.config import ExchangeConfig, parse_config
    from octobot_trading.exchanges.builder import standalone_exchange

    config = parse_config(
        ExchangeConfig,
        {
            "exchange": args.exchange,
            "sandboxed": args.sandbox,
            "market_type": download_market_type(args.symbols),
            "symbols": args.symbols,
            "ccxt_options": ccxt_options or {},
        },
    )
    exchange = standalone_exchange(config, LiveClock(), exchange_class=exchange_class, client_hook=client_hook)
    try:
        return await download_data(
            exchange,
            symbols=args.symbols,
            time_frames=args.time_frames,
            since_ms=parse_since(args.since),
            until_ms=parse_since(args.until) if args.until else None,
            out=args.out,
            progress=not args.no_progress,
        )
    finally:
        await exchange.close()


def _run_download(args: argparse.Namespace) -> int:
    report = asyncio.run(_download(args))
    for series in report.series:
        label = f"{series.symbol} {series.time_frame}" + (" mark prices" if series.kind == "mark" else "")
        if series.not_supported is not None:
            print(f"{label}: not offered by the venue ({series.not_supported})")
            continue
        resumed = f", resumed after {series.resumed_from}" if series.resumed_from is not None else ""
        gaps = (
            f", {len(series.gaps)} gap(s): " + ", ".join(f"{g.missing} after {g.after_ms}" for g in series.gaps[:5])
            if series.gaps
            else ""
        )
        print(f"{label}: {series.downloaded} candles in {series.requests} request(s){resumed}{gaps}")
    for funding in report.funding:
        if funding.not_supported is not None:
            print(f"{funding.symbol} funding rates: not offered by the venue ({funding.not_supported})")
            continue
        resumed = f", resumed after {funding.resumed_from}" if funding.resumed_from is not None else ""
        print(f"{funding.symbol} funding rates: {funding.downloaded} in {funding.requests} request(s){resumed}")
    print(f"written to {report.path}")
    return 0


#: This module's commands: name -> (one-line help, argument setup, runner).
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "demo": ("backtest a built-in mode on bundled real data and write an HTML report", _configure_demo, _run_demo),
    "backtest": ("backtest a trading mode on a candle file", _configure_backtest, _run_backtest),
    "download-data": ("download candles into a SQLite data file (resumable)", _configure_download, _run_download),
}
