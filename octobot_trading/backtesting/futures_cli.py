"""The futures options of ``octobot-trading backtest``: one contract spec, funding rates and mark prices.

On a contract symbol (``XRP/USDT:USDT``, ``BTC/USD:BTC``)::

    --leverage 5 --margin-mode isolated|cross --position-mode one_way|hedge
    --maintenance-margin-rate 0.004 --contract-size 1 --funding FILE --mark FILE

The options build one ``ot.ContractSpec`` applied to every contract symbol of the data (the
precision and limits come from the data file's market, when it has one), read ``--funding``
with ``FundingData.from_file`` and ``--mark`` with ``CandleData.from_file(..., kind="mark")``
(a SQLite data file written by ``download-data`` holds both). Giving any of them when the data
holds no contract symbol, or a bad value, raises ``ConfigurationError`` naming the option (the
CLI prints it and exits 2). Without them a contract symbol gets the default contract spec.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from octobot_trading.enums import MarginMode, MarketType, PositionMode
from octobot_trading.errors import ConfigurationError, OctoBotTradingError
from octobot_trading.util.decimals import decimal_to_str
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import parse_symbol

__all__ = ["FUTURES_OPTIONS", "add_futures_arguments", "download_market_type", "futures_arguments", "position_text"]

#: The futures options: argparse destination -> the option's name on the command line.
FUTURES_OPTIONS = {
    "leverage": "--leverage",
    "margin_mode": "--margin-mode",
    "position_mode": "--position-mode",
    "maintenance_margin_rate": "--maintenance-margin-rate",
    "contract_size": "--contract-size",
    "funding": "--funding",
    "mark": "--mark",
}


def add_futures_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the futures options (an argument group) to the ``backtest`` parser."""
    group = parser.add_argument_group(
        "futures (contract symbols such as XRP/USDT:USDT or BTC/USD:BTC)",
        "Applied to every contract symbol of the data; refused when the data holds none. "
        "Without them a contract gets the default spec (leverage 1, isolated, one-way, "
        "maintenance margin rate 0.005). The starting --portfolio is the margin (settle) currency.",
    )
    group.add_argument("--leverage", metavar="X", help="leverage of new positions, e.g. 5 (default 1)")
    group.add_argument(
        "--margin-mode",
        choices=[m.value for m in MarginMode],
        help="isolated (default): each position holds its own margin; cross: positions share the wallet",
    )
    group.add_argument(
        "--position-mode",
        choices=[m.value for m in PositionMode],
        help="one_way (default): one net position per symbol; hedge: a long and a short",
    )
    group.add_argument(
        "--maintenance-margin-rate",
        metavar="RATE",
        help="maintenance margin as a fraction of the notional, in [0, 1), e.g. 0.004 (default 0.005)",
    )
    group.add_argument(
        "--contract-size",
        metavar="SIZE",
        help="one contract in base (linear) or quote (inverse) units (default: the data file's market, else 1)",
    )
    group.add_argument(
        "--funding",
        metavar="FILE",
        help="funding rates: freqtrade's *-funding_rate.json (rate in the open column), CSV, or a SQLite data file",
    )
    group.add_argument(
        "--mark",
        metavar="FILE",
        help="mark-price candles (missing volumes allowed), at the replay's time frame or a multiple of it; "
        "default: the traded candles",
    )


def _given(args: argparse.Namespace) -> list[str]:
    return [dest for dest in FUTURES_OPTIONS if getattr(args, dest, None) is not None]


def _number(args: argparse.Namespace, dest: str, default: str | None) -> Decimal | None:
    text = getattr(args, dest)
    if text is None:
        return None if default is None else Decimal(default)
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        value = Decimal("NaN")
    if not value.is_finite():
        raise ConfigurationError(f"{FUTURES_OPTIONS[dest]}: not a number: {text!r}", field=dest)
    return value


def _spec(args: argparse.Namespace, symbol: str, market: MarketSpec | None) -> Any:
    from octobot_trading.util.contract_spec import ContractSpec

    base: dict[str, Any] = {}
    if market is not None:
        base = {f.name: getattr(market, f.name) for f in fields(MarketSpec) if f.name != "symbol"}
    values: dict[str, Any] = {
        "leverage": _number(args, "leverage", "1"),
        "margin_mode": args.margin_mode or MarginMode.ISOLATED.value,
        "position_mode": args.position_mode or PositionMode.ONE_WAY.value,
        "maintenance_margin_rate": _number(args, "maintenance_margin_rate", "0.005"),
    }
    contract_size = _number(args, "contract_size", None)
    if contract_size is not None:
        values["contract_size"] = contract_size
    try:
        return ContractSpec(**{**base, **values}).for_symbol(symbol)
    except ConfigurationError as exc:
        option = FUTURES_OPTIONS.get(exc.field or "", exc.field)
        raise ConfigurationError(f"{option}: {exc.message}", field=exc.field, symbol=symbol) from exc
    except OctoBotTradingError as exc:  # e.g. InvalidNumber, or MarketSpec's own checks
        dest = next((d for d in FUTURES_OPTIONS if exc.message.startswith(d)), "contracts")
        option = FUTURES_OPTIONS.get(dest, "contract options")
        raise ConfigurationError(f"{option}: {exc.message}", field=dest, symbol=symbol) from exc


def futures_arguments(args: argparse.Namespace, data: Any) -> dict[str, Any]:
    """The ``run_backtest`` keyword arguments (``contracts``, ``funding_rates``, ``mark_prices``) of ``args``.

    Empty when no futures option is given. ``data`` is the loaded ``CandleData``.
    """
    given = _given(args)
    if not given:
        return {}
    contract_symbols = [s for s in data.symbols if not parse_symbol(s).is_spot]
    if not contract_symbols:
        options = ", ".join(FUTURES_OPTIONS[d] for d in given)
        raise ConfigurationError(
            f"{options}: only for contract symbols (e.g. XRP/USDT:USDT); the data holds {', '.join(data.symbols)}",
            field=given[0],
        )
    from octobot_trading.backtesting import importers
    from octobot_trading.backtesting.candle_data import CandleData
    from octobot_trading.backtesting.funding_data import FundingData

    result: dict[str, Any] = {
        "contracts": {s: _spec(args, s, data.markets.get(s)) for s in contract_symbols},
    }
    if args.funding is not None:
        only = contract_symbols[0] if len(contract_symbols) == 1 else None
        if args.funding.lower().endswith((".sqlite", ".sqlite3", ".db")):
            result["funding_rates"] = [FundingData.from_file(args.funding, symbol=s) for s in contract_symbols]
        else:
            result["funding_rates"] = FundingData.from_file(args.funding, symbol=only)
    if args.mark is not None:
        single = contract_symbols[0] if len(contract_symbols) == 1 else None
        sqlite = args.mark.lower().endswith((".sqlite", ".sqlite3", ".db"))
        # a file name that says its symbol keeps it (marks of another symbol are then refused)
        named, _ = importers.guess_symbol_and_time_frame(Path(args.mark))
        result["mark_prices"] = CandleData.from_file(
            args.mark,
            symbol=single if sqlite else named or single,
            kind="mark",
            exchange=data.exchange if sqlite else None,
        )
    return result


def position_text(position: Any) -> str:
    """One line describing an open position (CLI output)."""

    def text(value: Any) -> str:
        return "n/a" if value is None else decimal_to_str(value)

    return (
        f"{position.symbol} {position.side} {text(position.contracts)} contracts at {text(position.entry_price)}, "
        f"mark {text(position.mark_price)}, unrealized PnL {text(position.unrealized_pnl)}, "
        f"liquidation {text(position.liquidation_price)}"
    )


def download_market_type(symbols: list[str]) -> str:
    """The market type ``download-data`` asks the venue for: spot, linear or inverse, as the symbols say.

    The venue's client lists one market type at a time, so spot symbols, linear and inverse
    contracts are downloaded in separate runs (mixing them raises ``ConfigurationError``).
    """
    kinds = set()
    for symbol in symbols:
        parsed = parse_symbol(symbol)
        kinds.add(MarketType.SPOT if parsed.is_spot else MarketType.INVERSE if parsed.is_inverse else MarketType.LINEAR)
    if len(kinds) > 1:
        names = ", ".join(sorted(k.value for k in kinds))
        raise ConfigurationError(
            f"--symbols mixes {names} markets: download spot, linear and inverse symbols in separate runs",
            field="symbols",
        )
    return (kinds.pop() if kinds else MarketType.SPOT).value
