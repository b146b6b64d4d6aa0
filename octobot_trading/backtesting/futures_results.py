"""The futures side of ``run_backtest``: its inputs checked, its results read back.

:func:`check_futures_inputs` validates ``contracts=``, ``funding_rates=`` and ``mark_prices=``
before anything is built (each refusal a ``ConfigurationError`` naming the argument, nothing
changed). After the replay, :func:`read_futures` reads from the simulated venue the funding
payments, the liquidations and the positions left open, as the result's
:class:`FundingEvent` / :class:`LiquidationEvent` records and ``ot.Position`` snapshots, and
:func:`futures_log_lines` gives their lines of the event log (none on a spot run, so spot hashes
do not change).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.funding_data import FundingData
from octobot_trading.enums import MarginMode, PositionSide, TimeFrame
from octobot_trading.errors import ConfigurationError, InvalidSymbol
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractSpec, settle_currency
from octobot_trading.util.decimals import ZERO, decimal_to_str
from octobot_trading.util.symbols import parse_symbol

__all__ = [
    "FundingEvent",
    "FuturesInputs",
    "FuturesOutcome",
    "LiquidationEvent",
    "check_futures_inputs",
    "futures_log_lines",
    "open_positions",
    "read_futures",
    "unrealized_by_currency",
]


@dataclass(frozen=True, slots=True)
class FundingEvent:
    """One funding payment of a backtest: ``amount`` in ``currency`` (the settle currency),
    negative when the position paid, at ``rate`` and the ``mark_price`` of funding ``time`` (ms)."""

    time: int
    symbol: str
    side: PositionSide
    rate: Decimal
    mark_price: Decimal
    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class LiquidationEvent:
    """One liquidation of a backtest: the ``side`` position of ``size`` contracts closed at
    ``price`` at ``time`` (ms), losing ``margin_lost`` (settle currency), no fee."""

    time: int
    symbol: str
    side: PositionSide
    size: Decimal
    price: Decimal
    margin_lost: Decimal
    margin_mode: MarginMode | None = None


@dataclass(slots=True)
class FuturesInputs:
    """``run_backtest``'s futures arguments, checked: the specs, one FundingData per symbol, the marks."""

    contracts: dict[str, ContractSpec] = field(default_factory=dict)
    funding_rates: list[FundingData] = field(default_factory=list)
    mark_prices: CandleData | None = None

    @property
    def any(self) -> bool:
        """True when any futures argument was given."""
        return bool(self.contracts or self.funding_rates or self.mark_prices is not None)


@dataclass(slots=True)
class FuturesOutcome:
    """What the venue's futures account did during the run."""

    positions: list[Position] = field(default_factory=list)
    funding: list[FundingEvent] = field(default_factory=list)
    liquidations: list[LiquidationEvent] = field(default_factory=list)


def _contract_symbol(symbol: str, argument: str) -> None:
    try:
        parsed = parse_symbol(symbol)
    except InvalidSymbol as exc:
        raise ConfigurationError(f"{argument} names {symbol!r}: {exc.message}", field=argument) from exc
    if parsed.is_spot:
        raise ConfigurationError(
            f"{argument} names {symbol}, a spot symbol: contracts are BASE/QUOTE:SETTLE (e.g. XRP/USDT:USDT)",
            field=argument,
            symbol=symbol,
        )
    settle_currency(symbol)  # options and third-currency settlement: ConfigurationError


def _backtested(symbol: str, run_symbols: Sequence[str], argument: str) -> None:
    if symbol not in run_symbols:
        raise ConfigurationError(
            f"{argument} names {symbol}, which is not a backtested symbol ({', '.join(run_symbols)})",
            field=argument,
            symbol=symbol,
        )


def check_futures_inputs(
    run_symbols: Sequence[str],
    base_time_frame: TimeFrame,
    contracts: Mapping[str, ContractSpec] | None,
    funding_rates: FundingData | Iterable[FundingData] | None,
    mark_prices: CandleData | None,
) -> FuturesInputs:
    """Check the futures arguments of ``run_backtest``; ``ConfigurationError`` names the bad one.

    * ``contracts``: ``{symbol: ContractSpec}`` of backtested contract symbols (a spot symbol,
      a symbol not backtested or a value that is not a ``ContractSpec`` is refused,
      ``field="contracts"``).
    * ``funding_rates``: a ``FundingData`` or several (one per symbol), each of a backtested
      contract symbol (``field="funding_rates"``).
    * ``mark_prices``: ``CandleData`` of mark-price candles, each series of a backtested contract
      symbol, at the replay's time frame or a whole multiple of it (``field="mark_prices"``).
    """
    checked = FuturesInputs()
    for symbol, spec in (contracts or {}).items():
        _contract_symbol(symbol, "contracts")
        _backtested(symbol, run_symbols, "contracts")
        if not isinstance(spec, ContractSpec):
            raise ConfigurationError(
                f"contracts[{symbol!r}] must be an ot.ContractSpec, not {type(spec).__name__}",
                field="contracts",
                symbol=symbol,
            )
        checked.contracts[symbol] = spec
    if funding_rates is not None:
        items = [funding_rates] if isinstance(funding_rates, FundingData) else list(funding_rates)
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, FundingData):
                raise ConfigurationError(
                    f"funding_rates must be ot.backtesting.FundingData, not {type(item).__name__}",
                    field="funding_rates",
                )
            _contract_symbol(item.symbol, "funding_rates")
            _backtested(item.symbol, run_symbols, "funding_rates")
            if item.symbol in seen:
                raise ConfigurationError(
                    f"two sets of funding rates for {item.symbol}", field="funding_rates", symbol=item.symbol
                )
            seen.add(item.symbol)
            checked.funding_rates.append(item)
    if mark_prices is not None:
        if not isinstance(mark_prices, CandleData):
            raise ConfigurationError(
                f"mark_prices must be a CandleData, not {type(mark_prices).__name__}", field="mark_prices"
            )
        if len(mark_prices) == 0:
            raise ConfigurationError("mark_prices holds no candles", field="mark_prices")
        for series in mark_prices:
            _contract_symbol(series.symbol, "mark_prices")
            _backtested(series.symbol, run_symbols, "mark_prices")
            if series.time_frame.ms % base_time_frame.ms:
                raise ConfigurationError(
                    f"mark_prices of {series.symbol} are {series.time_frame} candles: the replay runs on "
                    f"{base_time_frame}, so mark candles must be {base_time_frame} or a whole multiple of it",
                    field="mark_prices",
                    symbol=series.symbol,
                )
        checked.mark_prices = mark_prices
    return checked


def read_futures(venue: Any, personal_data: Any) -> FuturesOutcome:
    """Read the futures outcome from the simulated venue (empty on a spot run)."""
    funding = [
        FundingEvent(p.timestamp, p.symbol, p.side, p.rate, p.mark_price, p.amount, p.currency)
        for p in getattr(venue, "funding_payments", ())
    ]
    liquidations = [
        LiquidationEvent(q.timestamp, q.symbol, q.side, q.size, q.price, q.margin_lost, q.margin_mode)
        for q in getattr(venue, "liquidations", ())
    ]
    return FuturesOutcome(open_positions(venue, personal_data), funding, liquidations)


def open_positions(venue: Any, personal_data: Any) -> list[Position]:
    """The open positions (the venue's accounted view when it keeps one), by symbol and side."""
    snapshot = getattr(venue, "positions_snapshot", None)
    positions = list(snapshot() if snapshot is not None else personal_data.positions_manager.positions())
    positions.sort(key=lambda p: (p.symbol, str(p.side)))
    return positions


def unrealized_by_currency(positions: Iterable[Position]) -> dict[str, Decimal]:
    """Sum of the positions' unrealized PnL per settle currency (at their last mark price)."""
    totals: dict[str, Decimal] = {}
    for position in positions:
        if position.unrealized_pnl:
            currency = settle_currency(position.symbol)
            totals[currency] = totals.get(currency, ZERO) + position.unrealized_pnl
    return totals


def _text(value: Decimal | None) -> str:
    return "" if value is None else decimal_to_str(value)


def futures_log_lines(outcome: FuturesOutcome) -> list[bytes]:
    """Event-log lines of the funding payments, liquidations and open positions (none on spot)."""
    lines = [
        "|".join(
            ("funding", str(f.time), f.symbol, str(f.side), _text(f.rate), _text(f.mark_price), _text(f.amount))
        ).encode()
        for f in outcome.funding
    ]
    lines.extend(
        "|".join(
            ("liquidation", str(q.time), q.symbol, str(q.side), _text(q.size), _text(q.price), _text(q.margin_lost))
        ).encode()
        for q in outcome.liquidations
    )
    lines.extend(
        "|".join(
            (
                "position",
                p.symbol,
                str(p.side),
                _text(p.contracts),
                _text(p.entry_price),
                _text(p.realized_pnl),
                _text(p.initial_margin),
            )
        ).encode()
        for p in outcome.positions
    )
    return lines
