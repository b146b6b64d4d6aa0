"""Parameter sweeps: one :func:`run_backtest` per combination of a grid, in parallel on Ray.

``run_sweep(data, SmaCrossMode, grid={"fast_period": [5, 10], "slow_period": [30, 50]})`` runs
the four combinations as four Ray tasks. The candle data goes into Ray's object store once
(``ray.put``); every task receives the same object reference and reads the numpy arrays from
shared memory without a copy. Each task is exactly the serial ``run_backtest`` of its config, so
a row's event-log hash equals the hash of running that config alone.

Ray is an optional dependency (``pip install 'octobot_trading[sweep]'``). Without ``address``,
the sweep starts a local Ray instance (as many workers as cores, loopback only, no dashboard,
usage statistics off) and shuts it down at the end; with ``address``, it joins that cluster. If
Ray is already initialised in the process (``ray.init(...)`` by the caller), the sweep uses it
and leaves it running.

A combination that fails (an invalid config, an error during its backtest, a crashed worker)
gets an error row (error type and message); the others go on. A malformed grid is refused with
a :class:`~octobot_trading.errors.ConfigurationError` naming it before anything runs.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from octobot_trading.backtesting.sweep_metrics import LOWER_IS_BETTER, METRIC_COLUMNS
from octobot_trading.backtesting.sweep_ray import check_address, start_ray
from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.decimals import decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.backtesting.candle_data import CandleData
    from octobot_trading.backtesting.metrics import BacktestMetrics
    from octobot_trading.backtesting.runner import BacktestResult
    from octobot_trading.modes.base import AbstractTradingMode
    from octobot_trading.util.fees import Fees
    from octobot_trading.util.market_spec import MarketSpec

__all__ = ["LOWER_IS_BETTER", "METRIC_COLUMNS", "SweepResult", "SweepRow", "SweepTable", "run_sweep"]


@dataclass(frozen=True, slots=True)
class SweepRow:
    """The outcome of one combination.

    Attributes
    ----------
    index
        Position of the combination in the grid's order (the last parameter varies fastest).
    params
        The grid values of this combination (``{"fast_period": 5, "slow_period": 30}``).
    mode_config
        The full mode config the backtest ran with (defaults and ``mode_config`` included), or
        the unvalidated mapping when it was refused.
    metrics, event_log_hash, final_portfolio, fills, candles
        As in :class:`~octobot_trading.backtesting.runner.BacktestResult` (None on error).
    elapsed_s
        Wall-clock time of the backtest in its worker.
    error_type, error_message
        Set when the combination failed: the exception's class name and message.
    """

    index: int
    params: dict[str, Any]
    mode_config: dict[str, Any]
    metrics: BacktestMetrics | None = None
    event_log_hash: str | None = None
    final_portfolio: dict[str, Decimal] | None = None
    fills: int | None = None
    candles: int | None = None
    elapsed_s: float = 0.0
    error_type: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        """True when the backtest of this combination completed."""
        return self.error_type is None

    @property
    def error(self) -> str | None:
        """``"ErrorType: message"`` for a failed combination, else None."""
        return None if self.error_type is None else f"{self.error_type}: {self.error_message}"

    def value(self, column: str) -> Any:
        """Return a grid parameter's value, a metric (``METRIC_COLUMNS``), ``fills`` or ``event_log_hash``."""
        if column in self.params:
            return self.params[column]
        if column in METRIC_COLUMNS:
            return None if self.metrics is None else getattr(self.metrics, column)
        if column in ("fills", "candles", "event_log_hash", "elapsed_s", "index"):
            return getattr(self, column)
        raise ConfigurationError(
            f"unknown sweep column {column!r}; columns: "
            f"{', '.join([*self.params, *METRIC_COLUMNS, 'fills', 'event_log_hash'])}",
            field="column",
        )


def _sort_key(value: Any) -> Any:
    if isinstance(value, bool | int | float | Decimal):
        return (0, float(value), "")
    return (1, 0.0, str(value))


class SweepTable(Sequence[SweepRow]):
    """The rows of a sweep, one per combination: sortable, exportable to CSV.

    ``table.sort("sharpe", descending=True)`` returns a new table (rows without a value last);
    ``table.to_records()`` gives flat dicts (e.g. for ``pandas.DataFrame``); ``table.to_csv(path)``
    writes them.
    """

    def __init__(self, rows: Sequence[SweepRow], parameters: Sequence[str]) -> None:
        self._rows = list(rows)
        self.parameters = list(parameters)

    @overload
    def __getitem__(self, index: int) -> SweepRow: ...

    @overload
    def __getitem__(self, index: slice) -> SweepTable: ...

    def __getitem__(self, index: int | slice) -> SweepRow | SweepTable:
        if isinstance(index, slice):
            return SweepTable(self._rows[index], self.parameters)
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[SweepRow]:
        return iter(self._rows)

    def __repr__(self) -> str:
        failed = sum(1 for row in self._rows if not row.ok)
        return f"SweepTable({len(self._rows)} rows, {failed} failed, parameters={self.parameters})"

    @property
    def failed(self) -> list[SweepRow]:
        """The rows whose combination failed."""
        return [row for row in self._rows if not row.ok]

    def sort(self, by: str = "total_return", *, descending: bool = False) -> SweepTable:
        """Return a new table sorted by a parameter or metric; rows without a value go last."""
        keyed = [(row.value(by), row) for row in self._rows]
        present = sorted(
            (item for item in keyed if item[0] is not None), key=lambda item: _sort_key(item[0]), reverse=descending
        )
        return SweepTable([row for _, row in present] + [row for value, row in keyed if value is None], self.parameters)

    def best(self, metric: str = "total_return") -> SweepRow:
        """Return the completed row with the best ``metric`` (smallest for ``LOWER_IS_BETTER``)."""
        if metric not in METRIC_COLUMNS:
            raise ConfigurationError(f"unknown metric {metric!r}; metrics: {', '.join(METRIC_COLUMNS)}", field="metric")
        ranked = self.sort(metric, descending=metric not in LOWER_IS_BETTER)
        if not ranked or ranked[0].value(metric) is None:
            raise ConfigurationError(f"no completed combination has a {metric}", field="metric")
        return ranked[0]

    def currencies(self) -> list[str]:
        """Currencies appearing in any final portfolio, sorted."""
        return sorted({c for row in self._rows for c in (row.final_portfolio or {})})

    @property
    def columns(self) -> list[str]:
        """Column names of :meth:`to_records` / :meth:`to_csv`, in order."""
        return [
            *self.parameters,
            *METRIC_COLUMNS,
            "fees_paid",
            "fills",
            "candles",
            "event_log_hash",
            *(f"final_{currency}" for currency in self.currencies()),
            "elapsed_s",
            "error",
        ]

    def to_records(self) -> list[dict[str, Any]]:
        """Return one flat dict per row (Decimals kept; ``None`` where a value is missing)."""
        currencies = self.currencies()
        records = []
        for row in self._rows:
            record: dict[str, Any] = dict(row.params)
            for name in METRIC_COLUMNS:
                record[name] = row.value(name)
            record["fees_paid"] = None if row.metrics is None else dict(row.metrics.fees_paid)
            record.update(fills=row.fills, candles=row.candles, event_log_hash=row.event_log_hash)
            for currency in currencies:
                record[f"final_{currency}"] = (row.final_portfolio or {}).get(currency) if row.ok else None
            record.update(elapsed_s=round(row.elapsed_s, 6), error=row.error)
            records.append(record)
        return records

    def to_csv(self, path: str | Path) -> Path:
        """Write the table as CSV (exact decimal text for money, empty cells for missing values)."""
        target = Path(path)
        columns = self.columns
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for record in self.to_records():
                writer.writerow([_csv_cell(record[name]) for name in columns])
        return target


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_to_str(value)
    if isinstance(value, dict):
        return " ".join(f"{_csv_cell(amount)} {currency}" for currency, amount in sorted(value.items()))
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(slots=True)
class SweepResult:
    """What :func:`run_sweep` produced: the :class:`SweepTable` and what was swept.

    Attributes
    ----------
    table
        One :class:`SweepRow` per combination, in grid order.
    grid
        The grid as given (parameter -> values).
    mode_name
        The trading mode's name.
    exchange, symbols, time_frames, candles
        What the data held.
    workers
        Number of CPUs of the Ray cluster the sweep ran on (0 when its mode refused every
        combination's config, so that no backtest ran and Ray was not needed).
    cluster_address
        Address of that cluster (``host:port`` of its control store; empty when Ray was not needed).
    elapsed_s
        Wall-clock time of the sweep (Ray start-up included when the sweep started Ray).
    """

    table: SweepTable
    grid: dict[str, list[Any]]
    mode_name: str
    exchange: str
    symbols: list[str]
    time_frames: list[str]
    candles: int
    workers: int
    cluster_address: str = ""
    elapsed_s: float = 0.0
    base_config: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        """The swept parameter names, in grid order."""
        return list(self.grid)

    def to_csv(self, path: str | Path) -> Path:
        """Write :attr:`table` as CSV (see :meth:`SweepTable.to_csv`)."""
        return self.table.to_csv(path)

    def write_report(
        self,
        path: str | Path,
        *,
        metric: str = "total_return",
        x: str | None = None,
        y: str | None = None,
        title: str | None = None,
    ) -> Path:
        """Write the HTML sweep report (heatmap of ``metric`` over parameters ``x`` and ``y``)."""
        from octobot_trading.backtesting.sweep_report import write_sweep_report

        return write_sweep_report(self, path, metric=metric, x=x, y=y, title=title)


# -- grid validation --------------------------------------------------------------------------------


def validate_grid(trading_mode: type[AbstractTradingMode], grid: Any) -> dict[str, list[Any]]:
    """Return ``grid`` as ``{parameter: [values]}``; ``ConfigurationError`` naming what is wrong.

    Every key must be a field of the mode's config model and every value a non-empty list (or
    tuple) without repeated values.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigurationError(
            f"grid must be a non-empty mapping of parameter -> list of values, got {grid!r}", field="grid"
        )
    model = trading_mode.config_model
    known = list(model.model_fields)
    extra_allowed = model.model_config.get("extra") == "allow"
    checked: dict[str, list[Any]] = {}
    for name, values in grid.items():
        if not isinstance(name, str):
            raise ConfigurationError(f"grid keys must be parameter names, got {name!r}", field="grid")
        if name not in known and not extra_allowed:
            raise ConfigurationError(
                f"grid parameter {name!r} is not a setting of {trading_mode.get_mode_name()} "
                f"(settings: {', '.join(known) or 'none'})",
                field=f"grid.{name}",
            )
        if not isinstance(values, list | tuple):
            raise ConfigurationError(
                f"grid parameter {name!r} needs a list of values, got {type(values).__name__} {values!r}",
                field=f"grid.{name}",
            )
        if not values:
            raise ConfigurationError(f"grid parameter {name!r} has no values", field=f"grid.{name}")
        for position, value in enumerate(values):
            if any(type(value) is type(other) and value == other for other in values[:position]):
                raise ConfigurationError(f"grid parameter {name!r} repeats the value {value!r}", field=f"grid.{name}")
        checked[name] = list(values)
    return checked


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``grid`` in order (the last parameter varies fastest)."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


# -- the Ray task ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    metrics: BacktestMetrics | None = None
    event_log_hash: str | None = None
    final_portfolio: dict[str, Decimal] | None = None
    fills: int | None = None
    candles: int | None = None
    elapsed_s: float = 0.0
    error_type: str | None = None
    error_message: str | None = None


def _outcome(result: BacktestResult) -> _Outcome:
    return _Outcome(
        metrics=result.metrics,
        event_log_hash=result.event_log_hash,
        final_portfolio=dict(result.final_portfolio),
        fills=len(result.trades),
        candles=result.candles,
        elapsed_s=result.elapsed_s,
    )


def run_combination(
    data: CandleData, trading_mode: type[AbstractTradingMode], mode_config: dict[str, Any], options: dict[str, Any]
) -> _Outcome:
    """Run one combination's backtest (the body of a sweep task); errors become an error outcome."""
    from octobot_trading.backtesting.runner import run_backtest

    try:
        result = asyncio.run(run_backtest(data, trading_mode=trading_mode, mode_config=mode_config, **options))
    except Exception as exc:  # reported in the combination's row
        return _Outcome(error_type=type(exc).__name__, error_message=str(exc))
    return _outcome(result)


def _check_inputs(data: Any, trading_mode: Any, address: Any) -> None:
    """Refuse, before any work, what is not a sweep's data, mode class or Ray address."""
    from octobot_trading.backtesting.candle_data import CandleData
    from octobot_trading.modes.base import AbstractTradingMode

    if not isinstance(trading_mode, type) or not issubclass(trading_mode, AbstractTradingMode):
        raise ConfigurationError(
            f"trading_mode must be a trading mode class (an AbstractTradingMode subclass), got {trading_mode!r}",
            field="trading_mode",
        )
    if not isinstance(data, CandleData):
        raise ConfigurationError(
            f"data must be a CandleData (e.g. CandleData.from_file(path)), got {type(data).__name__} {data!r:.80}",
            field="data",
        )
    if address is not None:
        check_address(address)


def _error_row(index: int, params: dict[str, Any], config: dict[str, Any], exc: BaseException) -> SweepRow:
    return SweepRow(
        index=index, params=params, mode_config=config, error_type=type(exc).__name__, error_message=str(exc)
    )


async def run_sweep(
    data: CandleData,
    trading_mode: type[AbstractTradingMode],
    *,
    grid: Mapping[str, Sequence[Any]],
    mode_config: Mapping[str, Any] | None = None,
    starting_portfolio: Mapping[str, Decimal | int | str] | None = None,
    fees: Fees | None = None,
    markets: Mapping[str, MarketSpec] | None = None,
    symbols: list[str] | None = None,
    time_frames: list[TimeFrame | str] | None = None,
    reference_market: str | None = None,
    slippage_percent: Decimal | int | str = 0,
    equity_points: int | None = None,
    partial_fill_fraction: Decimal | int | str | None = None,
    keep_orders: bool = True,
    address: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> SweepResult:
    """Backtest every combination of ``grid`` in parallel on Ray and return a :class:`SweepResult`.

    Parameters
    ----------
    data, trading_mode
        As for :func:`~octobot_trading.backtesting.runner.run_backtest`.
    grid
        ``{parameter: [values]}``: parameters of the mode's config; each combination's values
        override ``mode_config``.
    mode_config, starting_portfolio, fees, markets, symbols, time_frames, reference_market, \
slippage_percent, equity_points, partial_fill_fraction
        Passed to every ``run_backtest`` unchanged.
    keep_orders
        Passed to every ``run_backtest``: False drops done orders during each backtest, so a
        worker's memory stays flat on long data; the rows (metrics, final portfolio, event-log
        hash) are the same either way.
    address
        An existing Ray cluster to join (``"ray://host:10001"``, ``"host:6379"``, ``"auto"``);
        None (default) starts a local Ray instance for this sweep and stops it at the end.
    workers
        Number of workers of the local instance (default: the machine's cores); with an
        existing cluster, at most this many combinations run at once.
    progress
        Show a tqdm bar of completed combinations on stderr.
    """
    _check_inputs(data, trading_mode, address)
    checked = validate_grid(trading_mode, grid)
    base = dict(mode_config or {})
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ConfigurationError(f"workers must be a positive integer, got {workers!r}", field="workers")
    if not isinstance(keep_orders, bool):
        raise ConfigurationError(f"keep_orders must be True or False, got {keep_orders!r}", field="keep_orders")
    options: dict[str, Any] = {
        "starting_portfolio": None if starting_portfolio is None else dict(starting_portfolio),
        "fees": fees,
        "markets": None if markets is None else dict(markets),
        "symbols": symbols,
        "time_frames": time_frames,
        "reference_market": reference_market,
        "slippage_percent": slippage_percent,
        "partial_fill_fraction": partial_fill_fraction,
        "keep_orders": keep_orders,
    }
    if equity_points is not None:
        options["equity_points"] = equity_points
    combos = combinations(checked)
    rows: dict[int, SweepRow] = {}
    pending: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for index, params in enumerate(combos):
        config = {**base, **params}
        try:
            validated = trading_mode.validate_config(config)
        except ConfigurationError as exc:  # the same refusal run_backtest would give, without a task
            rows[index] = _error_row(index, params, config, exc)
            continue
        pending.append((index, params, validated.model_dump(mode="json")))

    from octobot_trading.clock import LiveClock

    clock = LiveClock()
    started = clock.monotonic()
    cluster_cpus, cluster_address = 0, ""
    if pending:  # when every config was refused, nothing needs Ray
        ray, started_here = start_ray(address, workers)
        try:
            cluster_cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
            cluster_address = str(ray.get_runtime_context().gcs_address)
            # Ray runs at most one task per CPU; queueing every combination lets a worker start its next one
            # at once. With an existing cluster, ``workers`` caps how many are sent at a time.
            limit = workers if workers is not None and not started_here else max(1, len(pending))
            await _run_tasks(ray, data, trading_mode, pending, options, rows, limit, progress, len(combos))
        finally:
            if started_here:
                ray.shutdown()
    table = SweepTable([rows[index] for index in range(len(combos))], list(checked))
    return SweepResult(
        table=table,
        grid=checked,
        mode_name=trading_mode.get_mode_name(),
        exchange=data.exchange,
        symbols=sorted(data.symbols) if symbols is None else list(symbols),
        time_frames=[TimeFrame.parse(tf).value for tf in (time_frames or data.time_frames)],
        candles=data.total_candles,
        workers=cluster_cpus,
        cluster_address=cluster_address,
        elapsed_s=clock.monotonic() - started,
        base_config=base,
    )


async def _run_tasks(
    ray: Any,
    data: CandleData,
    trading_mode: type[AbstractTradingMode],
    pending: list[tuple[int, dict[str, Any], dict[str, Any]]],
    options: dict[str, Any],
    rows: dict[int, SweepRow],
    limit: int,
    progress: bool,
    total: int,
) -> None:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=len(rows), unit="backtest", file=sys.stderr, disable=not progress, leave=False)
    task = ray.remote(num_cpus=1)(run_combination)
    data_ref = ray.put(data)  # once: every task reads the same object from the store
    queue = list(pending)
    running: dict[asyncio.Future[Any], tuple[Any, int, dict[str, Any], dict[str, Any]]] = {}
    try:
        while queue or running:
            while queue and len(running) < limit:
                index, params, config = queue.pop(0)
                ref = task.remote(data_ref, trading_mode, config, options)
                running[asyncio.wrap_future(ref.future())] = (ref, index, params, config)
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for future in done:
                _, index, params, config = running.pop(future)
                try:
                    outcome: _Outcome = future.result()
                except Exception as exc:  # a crashed worker or a lost task: the row says so
                    rows[index] = _error_row(index, params, config, exc)
                else:
                    rows[index] = SweepRow(
                        index=index,
                        params=params,
                        mode_config=config,
                        **{f.name: getattr(outcome, f.name) for f in fields(_Outcome)},
                    )
                bar.update(1)
    finally:
        for ref, *_ in running.values():
            ray.cancel(ref, force=True)
        bar.close()
