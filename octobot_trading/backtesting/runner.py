"""``run_backtest``: one call from historical data and a trading mode to a :class:`BacktestResult`.

The run builds the manager with ``ExchangeBuilder(...).use_backtesting(data)
.use_trading_mode(...)`` (the same builder, managers, channels, trader and mode code as live
trading; see :mod:`octobot_trading.backtesting.backtest_component`), subscribes an equity sampler at the
lowest priority of the OHLCV channel (portfolio value computed once per sampling interval, not
per price), replays the data and collects fills, final balances, metrics and a SHA-256 hash of
the event log (orders and fills in order, with their times, prices, amounts, fees and final
statuses; random internal ids excluded), so two runs of the same backtest can be compared.

Futures (``contracts=``, ``funding_rates=``, ``mark_prices=``; checked and read back in
:mod:`~octobot_trading.backtesting.futures_results`): the equity includes the open positions'
unrealized PnL, fills carry their realized PnL, and the event log also holds the funding
payments, liquidations and positions left open (a spot run's log, and hash, are unchanged).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from octobot_trading.backtesting.candle_data import CandleData
from octobot_trading.backtesting.equity_sampler import EquitySampler, with_unrealized
from octobot_trading.backtesting.funding_data import FundingData
from octobot_trading.backtesting.futures_results import (
    FundingEvent,
    LiquidationEvent,
    check_futures_inputs,
    futures_log_lines,
    open_positions,
    read_futures,
    unrealized_by_currency,
)
from octobot_trading.backtesting.mark_coverage import MarkFallback, mark_fallbacks
from octobot_trading.backtesting.metrics import BacktestMetrics, EquityCurve, Fill, compute_metrics
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, NotSupported
from octobot_trading.exchange_data.channels import ChannelPriority
from octobot_trading.modes.base import AbstractTradingMode
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractSpec
from octobot_trading.util.decimals import ZERO, decimal_from_data_float, decimal_to_str, to_decimal
from octobot_trading.util.fees import Fees
from octobot_trading.util.market_spec import MarketSpec
from octobot_trading.util.symbols import parse_symbol

__all__ = ["DEFAULT_EQUITY_POINTS", "BacktestResult", "run_backtest"]

DEFAULT_EQUITY_POINTS = 2000


@dataclass(slots=True)
class BacktestResult:
    """Everything a backtest produced.

    Attributes
    ----------
    trades
        Fills in time order (:class:`~octobot_trading.backtesting.metrics.Fill`).
    final_portfolio
        Total balance per currency at the end (exact Decimals).
    metrics
        :class:`~octobot_trading.backtesting.metrics.BacktestMetrics`.
    equity_curve
        Sampled portfolio value in the reference market.
    event_log_hash
        SHA-256 of the orders-and-fills event log (identical for identical runs).
    positions
        Futures positions left open at the end (``ot.Position``, at the last mark price).
    funding
        Funding payments (:class:`~octobot_trading.backtesting.futures_results.FundingEvent`).
    liquidations
        Liquidations (:class:`~octobot_trading.backtesting.futures_results.LiquidationEvent`).
    mark_fallback
        The traded candles no mark candle of ``mark_prices`` covered, each its own mark
        (:class:`~octobot_trading.backtesting.mark_coverage.MarkFallback` ranges; empty when the
        marks cover the run or none were given).
    """

    trades: list[Fill]
    final_portfolio: dict[str, Decimal]
    metrics: BacktestMetrics
    equity_curve: EquityCurve
    event_log_hash: str
    candles: int
    exchange: str
    symbols: list[str]
    time_frames: list[str]
    mode_name: str
    mode_config: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    positions: list[Position] = field(default_factory=list)
    funding: list[FundingEvent] = field(default_factory=list)
    liquidations: list[LiquidationEvent] = field(default_factory=list)
    mark_fallback: list[MarkFallback] = field(default_factory=list)

    @property
    def candles_per_second(self) -> float:
        """Replay speed of this run (wall clock)."""
        return self.candles / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def __repr__(self) -> str:
        # bounded: asyncio.run() formats the repr of the result it returns (when it restores the
        # SIGINT handler), and a field-by-field repr writes out every fill of the run
        return (
            f"BacktestResult(mode_name={self.mode_name!r}, exchange={self.exchange!r}, symbols={self.symbols!r}, "
            f"time_frames={self.time_frames!r}, candles={self.candles}, fills={len(self.trades)}, "
            f"final_portfolio={self.final_portfolio!r}, total_return={self.metrics.total_return!r}, "
            f"event_log_hash={self.event_log_hash!r})"
        )


class _frozen_heap:
    """Move every object alive before the replay out of the garbage collector's reach for its duration.

    The objects built before the replay (modules, the manager, configs, the candle data) live
    until its end; freezing them (``gc.freeze``) spares every full collection during the replay
    from traversing them again (only the objects the replay creates are scanned). Nothing is
    collected or kept differently: the objects are unfrozen afterwards. When something else
    already froze objects (``gc.get_freeze_count() > 0``) this does nothing.
    """

    def __enter__(self) -> None:
        self.active = gc.get_freeze_count() == 0
        if self.active:
            gc.freeze()

    def __exit__(self, *exc: object) -> None:
        if self.active:
            gc.unfreeze()


def _order_line(order: Any) -> bytes:
    """One order's line of the event log (its final state; random internal ids excluded)."""
    return "|".join(
        (
            "order",
            str(order.created_at),
            order.symbol,
            str(order.order_type),
            str(order.side),
            decimal_to_str(order.amount),
            "" if order.price is None else decimal_to_str(order.price),
            str(order.status),
            decimal_to_str(order.filled),
        )
    ).encode()


class _OrderLog:
    """The orders part of the event log; with ``keep_orders=False`` it also drops done orders.

    :meth:`prune` (called between candles, every few thousand candles) records the log line of
    every order that is done (its state can no longer change), then forgets the order in the
    orders manager and the simulated venue, so a long backtest keeps no per-order object. Lines
    keep the creation order of the orders (each order's place is taken when it is first seen),
    so the log, and its hash, are the same as when every order is kept.
    """

    def __init__(self, personal_data: Any, venue: Any) -> None:
        self.orders_manager = personal_data.orders_manager
        self.venue = venue
        self.lines: dict[str, bytes | None] = {}

    def prune(self) -> None:
        lines, manager = self.lines, self.orders_manager
        done = []
        for order in manager.all_orders():
            if order.is_done:
                lines[order.id] = _order_line(order)
                done.append(order)
            elif order.id not in lines:
                lines[order.id] = None  # takes its place; written when done or at the end
        for order in done:
            manager.forget(order)
        forget_venue = getattr(self.venue, "forget_closed_orders", None)
        if forget_venue is not None:
            forget_venue()

    def order_lines(self) -> list[bytes]:
        """Every order's line in creation order (orders still known are read now)."""
        known = {order.id: order for order in self.orders_manager.all_orders()}
        result = []
        for order_id, line in self.lines.items():
            order = known.pop(order_id, None)
            if order is not None:
                result.append(_order_line(order))
            elif line is not None:
                result.append(line)
        result.extend(_order_line(order) for order in known.values())
        return result


def _event_log_hash(
    order_lines: list[bytes], fills: list[Fill], final: Mapping[str, Decimal], futures_lines: Sequence[bytes] = ()
) -> str:
    digest = hashlib.sha256()
    for line in order_lines:
        digest.update(line)
        digest.update(b"\n")
    for fill in fills:
        digest.update(
            "|".join(
                (
                    "fill",
                    str(fill.time),
                    fill.symbol,
                    str(fill.side),
                    decimal_to_str(fill.price),
                    decimal_to_str(fill.amount),
                    decimal_to_str(fill.fee),
                    fill.fee_currency,
                    fill.order_type,
                    *(() if fill.realized_pnl is None else ("pnl", decimal_to_str(fill.realized_pnl))),
                )
            ).encode()
        )
        digest.update(b"\n")
    for line in futures_lines:
        digest.update(line)
        digest.update(b"\n")
    for currency in sorted(final):
        digest.update(f"balance|{currency}|{decimal_to_str(final[currency])}\n".encode())
    return digest.hexdigest()


def _fills(personal_data: Any, symbols: list[str]) -> list[Fill]:
    quote_of = {s: parse_symbol(s).quote for s in symbols}
    fills = []
    for trade in personal_data.trades_manager.trades():
        fills.append(
            Fill(
                time=trade.timestamp,
                symbol=trade.symbol,
                side=trade.side,
                price=trade.price,
                amount=trade.amount,
                fee=trade.fee,
                fee_currency=trade.fee_currency or quote_of[trade.symbol],
                order_type=str(trade.order_type),
                order_id=trade.order_id,
                realized_pnl=getattr(trade, "realized_pnl", None),
            )
        )
    return fills


def _value(totals: Mapping[str, Decimal], prices: Mapping[str, Decimal], reference: str) -> Decimal:
    value = totals.get(reference, ZERO)
    for currency, amount in totals.items():
        if currency != reference and amount:
            price = prices.get(currency)
            if price is None:
                raise ConfigurationError(
                    f"cannot value {currency} in {reference}: no {currency}/{reference} in the data",
                    field="reference_market",
                )
            value += amount * price
    return value


async def run_backtest(
    data: CandleData,
    *,
    trading_mode: type[AbstractTradingMode],
    mode_config: Mapping[str, Any] | None = None,
    starting_portfolio: Mapping[str, Decimal | int | str] | None = None,
    fees: Fees | None = None,
    markets: Mapping[str, MarketSpec] | None = None,
    symbols: list[str] | None = None,
    time_frames: list[TimeFrame | str] | None = None,
    reference_market: str | None = None,
    slippage_percent: Decimal | int | str = 0,
    equity_points: int = DEFAULT_EQUITY_POINTS,
    progress: Callable[[int, int], None] | None = None,
    partial_fill_fraction: Decimal | int | str | None = None,
    keep_orders: bool = True,
    evaluations: Any = None,
    contracts: Mapping[str, ContractSpec] | None = None,
    funding_rates: FundingData | list[FundingData] | None = None,
    mark_prices: CandleData | None = None,
) -> BacktestResult:
    """Backtest ``trading_mode`` on ``data`` and return a :class:`BacktestResult`.

    Parameters
    ----------
    data
        Historical candles (:meth:`CandleData.from_file`); several symbols and time frames allowed.
    trading_mode, mode_config
        The mode class and its config (validated by the mode's pydantic model).
    starting_portfolio
        Starting balances (default ``{"USDT": "10000"}``); floats are refused.
    fees
        Fee rates (default 0.1 % maker and taker).
    markets
        Precision and limits per symbol (default: from the data file, else ``1e-8`` steps).
    symbols, time_frames
        Subset of the data to replay (default: all of it).
    reference_market
        Currency of the equity curve (default: the first symbol's quote).
    slippage_percent
        Market-order slippage in % (default 0); must be in ``[0, 100)`` (``ConfigurationError``).
    equity_points
        About how many equity samples to keep (the sampling interval follows from it).
    progress
        ``progress(done, total)`` callback (the CLI passes a tqdm bar).
    partial_fill_fraction
        None (default): resting orders fill completely when reached. Otherwise a fraction in
        ``(0, 1]``: an order fills at most this fraction of each candle's volume per candle (rounded
        down to the amount step), the rest keeps resting; a triggered stop / take-profit / trailing
        stop fills its rest at market (the next candles' open). Market orders always fill at once.
    keep_orders
        True (default): every order object stays in the orders manager and the simulated venue
        until the run ends. False: every few thousand candles, the orders that are done (filled,
        canceled) are recorded in the event log and dropped, together with the venue's order
        records and fills history, so memory stays flat however many orders a long backtest
        places. The result (fills, final portfolio, metrics, equity curve, event-log hash) is the
        same; only code reading *done* orders back during the run (``orders_manager.get`` of an
        old id, ``fetch_closed_orders``) sees less. Modes that keep references to their own
        orders keep them.
    evaluations
        A ``.json`` / ``.csv`` evaluations file or a list of ``ot.modes.Evaluation``, published to
        the mode's producers (``on_evaluation``) at their times on the simulated clock, after the
        candles closing at that time (``ExchangeBuilder.with_evaluations``; format in docs/modes.md).
    contracts
        ``{symbol: ot.ContractSpec}`` of backtested contract symbols (``XRP/USDT:USDT``); a spot
        symbol is refused (``ConfigurationError``). Contract symbols without a spec get the
        default one (docs/futures.md).
    funding_rates
        ``ot.backtesting.FundingData`` (or a list, one per symbol) of backtested contract symbols;
        every open position pays or receives funding at their times.
    mark_prices
        ``CandleData`` of mark-price candles (``CandleData.from_file(..., kind="mark")``) of
        backtested contract symbols, at the replay's time frame or a whole multiple of it
        (default: the traded candles are the marks). Any bad futures argument raises
        ``ConfigurationError`` naming it, before anything is built.
    """
    from octobot_trading.backtesting.backtest_component import BacktestComponent
    from octobot_trading.exchanges.builder import ExchangeBuilder

    slippage = to_decimal(slippage_percent, name="slippage_percent")
    if not ZERO <= slippage < 100:
        raise ConfigurationError(f"slippage_percent must be in [0, 100), got {slippage}", field="slippage_percent")
    fraction = (
        None if partial_fill_fraction is None else to_decimal(partial_fill_fraction, name="partial_fill_fraction")
    )
    if fraction is not None and not ZERO < fraction <= 1:
        raise ConfigurationError(
            f"partial_fill_fraction must be in (0, 1], got {fraction}", field="partial_fill_fraction"
        )
    if starting_portfolio is not None and not any(
        to_decimal(v, name=f"starting_portfolio.{c}") for c, v in dict(starting_portfolio).items()
    ):
        raise ConfigurationError("starting_portfolio holds nothing to trade with", field="starting_portfolio")
    if len(data) == 0:
        raise ConfigurationError("no candles to backtest", field="data")
    run_symbols = list(symbols) if symbols is not None else sorted(data.symbols)
    # the configured order is kept (built-in modes default to the FIRST configured time frame);
    # the shortest one drives the replay
    configured_tfs = list(dict.fromkeys(TimeFrame.parse(tf) for tf in (time_frames or data.time_frames)))
    run_tfs = sorted(configured_tfs, key=lambda tf: tf.ms)
    for symbol in markets or {}:
        if symbol not in run_symbols:
            raise ConfigurationError(
                f"markets names {symbol!r}, which is not a backtested symbol ({', '.join(run_symbols)})",
                field=f"markets.{symbol}",
            )
    for symbol in run_symbols:
        for tf in run_tfs:
            data.get(symbol, tf)  # ConfigurationError naming what is missing
    base_tf = run_tfs[0]
    futures = check_futures_inputs(run_symbols, base_tf, contracts, funding_rates, mark_prices)
    fallback = mark_fallbacks(data, run_symbols, base_tf, futures.mark_prices)  # logged when any
    reference = reference_market or parse_symbol(run_symbols[0]).quote
    fees = fees or Fees()
    run_data = CandleData(list(data), exchange=data.exchange, markets={**data.markets, **(markets or {})})
    first_open = min(int(data.get(s, base_tf).times[0]) for s in run_symbols)
    builder = (
        ExchangeBuilder(data.exchange)
        .with_symbols(run_symbols)
        .with_time_frames([tf.value for tf in configured_tfs])
        .with_clock(SimulatedClock(first_open))
        .with_trading_config(
            starting_portfolio={"USDT": "10000"} if starting_portfolio is None else dict(starting_portfolio),
            fees={"maker": fees.maker, "taker": fees.taker},
            reference_market=reference,
        )
        .use_backtesting(run_data)
        .use_trading_mode(trading_mode, mode_config)
    )
    if evaluations is not None:
        builder.with_evaluations(evaluations)
    if futures.any:
        with_contracts = getattr(builder, "with_contracts", None)
        if with_contracts is None:
            raise NotSupported("futures backtests (contracts, funding_rates, mark_prices) are not available")
        with_contracts(futures.contracts, funding_rates=futures.funding_rates or None, mark_prices=futures.mark_prices)
    manager = await builder.build()
    first = data.get(run_symbols[0], base_tf)
    span = int(first.times[-1]) - int(first.times[0]) + base_tf.ms
    interval = max(base_tf.ms, -(-span // max(1, equity_points) // base_tf.ms) * base_tf.ms)
    personal_data, channels = manager.exchange_personal_data, manager.channels
    if personal_data is None or channels is None:  # the builder fills both for a backtest
        raise ConfigurationError("the backtest manager has no trader or market data", field="data")
    sampler = EquitySampler(
        personal_data.portfolio_manager.portfolio,
        reference,
        run_symbols,
        manager.exchange_symbols_data,
        base_tf,
        interval,
        span // interval + 2,
    )
    venue: Any = manager.exchange.connector  # the simulated venue
    if any(not parse_symbol(s).is_spot for s in run_symbols):
        snapshot = getattr(venue, "positions_snapshot", None)

        def futures_state() -> tuple[dict[str, Decimal], bool]:
            # the venue's snapshot is already by symbol then side (the order ``open_positions`` sorts to)
            positions = snapshot() if snapshot is not None else open_positions(venue, personal_data)
            return unrealized_by_currency(positions), bool(positions)

        sampler.futures_state = futures_state
    component = manager.get_component("backtest", BacktestComponent)
    clock = LiveClock()
    started = clock.monotonic()
    async with manager:
        if component.driver.merged:  # a close's candles come one by one: sampled once all are in
            component.driver.close_done = sampler.on_close
        else:
            channels.ohlcv.subscribe(
                sampler.on_candle, symbol=run_symbols[0], time_frame=base_tf, priority=ChannelPriority.LOW
            )
        if slippage:
            venue.slippage = slippage / 100
        if fraction is not None:
            venue.engine.partial_fill_fraction = fraction  # the driver then passes candle volumes
        order_log = _OrderLog(personal_data, venue)
        if keep_orders:
            component.driver.progress = progress
        else:

            def pruning_progress(done: int, total: int) -> None:
                order_log.prune()
                if progress is not None:
                    progress(done, total)

            component.driver.progress = pruning_progress
        start_totals = personal_data.portfolio_manager.portfolio.totals()
        with _frozen_heap():
            candles = await component.run()
        sampler.sample(manager.clock.now_ms())
        modes_component: Any = manager.get_component("trading_modes")
        modes = modes_component.modes
        config = modes[0].config.model_dump(mode="json") if modes else dict(mode_config or {})
    elapsed = clock.monotonic() - started
    final = personal_data.portfolio_manager.portfolio.totals()
    outcome = read_futures(venue, personal_data)
    first_prices: dict[str, Decimal] = {}
    last_prices: dict[str, Decimal] = {}
    for symbol in run_symbols:
        parsed = parse_symbol(symbol)
        if parsed.quote == reference:
            series = data.get(symbol, base_tf)
            first_prices[parsed.base] = decimal_from_data_float(float(series.opens[0]))
            last_prices[parsed.base] = series.close_decimal(len(series) - 1)
    start_value = _value(start_totals, first_prices, reference)
    final_value = _value(with_unrealized(final, unrealized_by_currency(outcome.positions)), last_prices, reference)
    base0 = parse_symbol(run_symbols[0]).base
    hold = last_prices[base0] / first_prices[base0] - 1 if base0 in first_prices else None
    fills = _fills(personal_data, run_symbols)
    curve = sampler.curve()
    metrics = compute_metrics(
        curve,
        fills,
        start_value=start_value,
        final_value=final_value,
        bases={s: parse_symbol(s).base for s in run_symbols},
        buy_and_hold_return=hold,
        funding=outcome.funding,
        liquidations=outcome.liquidations,
    )
    return BacktestResult(
        trades=fills,
        final_portfolio=dict(final),
        metrics=metrics,
        equity_curve=curve,
        event_log_hash=_event_log_hash(order_log.order_lines(), fills, final, futures_log_lines(outcome)),
        candles=candles,
        exchange=data.exchange,
        symbols=run_symbols,
        time_frames=[tf.value for tf in run_tfs],
        mode_name=trading_mode.get_mode_name(),
        mode_config=config,
        elapsed_s=elapsed,
        positions=outcome.positions,
        funding=outcome.funding,
        liquidations=outcome.liquidations,
        mark_fallback=fallback,
    )
