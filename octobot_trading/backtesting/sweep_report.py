"""The HTML sweep report: one self-contained file with a heatmap of a metric over two parameters.

Like the backtest report (:mod:`octobot_trading.backtesting.report`), plotly's JavaScript is
inlined once (no CDN, opens offline). Contents: a heatmap of the chosen metric over two grid
parameters (when the grid has more parameters, each cell shows the best value over the others),
then every combination in a table sorted best first, failed combinations with their error.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from octobot_trading.backtesting.sweep_metrics import LOWER_IS_BETTER, METRIC_COLUMNS
from octobot_trading.errors import ConfigurationError
from octobot_trading.util.decimals import decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.backtesting.sweep import SweepResult, SweepRow

__all__ = ["format_metric", "render_sweep_report", "write_sweep_report"]

_PERCENT = frozenset({"total_return", "buy_and_hold_return", "max_drawdown", "win_rate", "exposure"})
_TABLE_METRICS = ("total_return", "max_drawdown", "sharpe", "win_rate", "profit_factor", "trades")

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; } td { white-space: nowrap; } td.err { color: #b00; text-align: left; }
.note { color: #666; font-size: 0.85em; }
"""


def format_metric(metric: str, value: Any) -> str:
    """Format a metric's value for display (ratios as percentages, ``n/a`` when missing)."""
    if value is None:
        return "n/a"
    if metric in _PERCENT:
        return f"{float(value) * 100:.2f} %"
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.3f}"


def _axes(result: SweepResult, x: str | None, y: str | None) -> tuple[str, str | None]:
    parameters = result.parameters
    for name, label in ((x, "x"), (y, "y")):
        if name is not None and name not in parameters:
            raise ConfigurationError(
                f"heatmap {label} axis {name!r} is not a swept parameter ({', '.join(parameters)})", field=label
            )
    x_name = x or next(p for p in parameters if p != y)
    rest = [p for p in parameters if p != x_name]
    y_name = y or (rest[0] if rest else None)
    if y_name == x_name:
        raise ConfigurationError(f"the heatmap needs two different parameters, got {x_name!r} twice", field="y")
    return x_name, y_name


def _position(values: list[Any], value: Any) -> int:
    return next(i for i, candidate in enumerate(values) if type(candidate) is type(value) and candidate == value)


def _best(values: list[float], metric: str) -> float:
    return min(values) if metric in LOWER_IS_BETTER else max(values)


def _heatmap(result: SweepResult, metric: str, x_name: str, y_name: str | None) -> Any:
    import plotly.graph_objects as go

    xs = result.grid[x_name]
    ys = result.grid[y_name] if y_name is not None else [None]
    cells: dict[tuple[int, int], list[float]] = {}
    completed: set[tuple[int, int]] = set()
    for row in result.table:
        xi = _position(xs, row.params[x_name])
        yi = _position(ys, row.params[y_name]) if y_name is not None else 0
        value = row.value(metric)
        if row.ok:
            completed.add((yi, xi))
        if value is not None:
            cells.setdefault((yi, xi), []).append(float(value))
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for yi in range(len(ys)):
        z_row: list[float | None] = []
        text_row: list[str] = []
        for xi in range(len(xs)):
            found = cells.get((yi, xi))
            best = _best(found, metric) if found else None
            z_row.append(best)
            text_row.append(format_metric(metric, best) if best is not None or (yi, xi) in completed else "failed")
        z.append(z_row)
        text.append(text_row)
    scale = "RdYlGn_r" if metric in LOWER_IS_BETTER else "RdYlGn"
    figure = go.Figure(
        go.Heatmap(
            x=[str(v) for v in xs],
            y=[str(v) for v in ys] if y_name is not None else ["all"],
            z=z,
            text=text,
            texttemplate="%{text}",
            colorscale=scale,
            hoverongaps=False,
            colorbar={"title": {"text": metric}, "tickformat": ".1%" if metric in _PERCENT else ""},
            hovertemplate=f"{x_name}=%{{x}}<br>{y_name or ''}=%{{y}}<br>{metric}=%{{text}}<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(320, 70 * len(ys) + 160),
        margin={"l": 80, "r": 20, "t": 40, "b": 60},
        xaxis={"title": {"text": x_name}, "type": "category"},
        yaxis={"title": {"text": y_name or ""}, "type": "category"},
    )
    return figure


def _table(result: SweepResult, metric: str) -> str:
    ranked = result.table.sort(metric, descending=metric not in LOWER_IS_BETTER)
    metrics = [metric, *(m for m in _TABLE_METRICS if m != metric)]
    head = "".join(
        f"<th>{html.escape(name)}</th>" for name in (*result.parameters, *metrics, "final portfolio", "event-log hash")
    )

    def cells(row: SweepRow) -> str:
        params = "".join(f"<td>{html.escape(str(row.params[p]))}</td>" for p in result.parameters)
        if not row.ok:
            return params + f"<td class='err' colspan='{len(metrics) + 2}'>{html.escape(row.error or '')}</td>"
        values = "".join(f"<td>{html.escape(format_metric(m, row.value(m)))}</td>" for m in metrics)
        portfolio = ", ".join(f"{decimal_to_str(v)} {k}" for k, v in sorted((row.final_portfolio or {}).items()))
        return (
            params + values + f"<td>{html.escape(portfolio)}</td>"
            f"<td><code>{html.escape((row.event_log_hash or '')[:16])}</code></td>"
        )

    body = "".join(f"<tr>{cells(row)}</tr>" for row in ranked)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_sweep_report(
    result: SweepResult,
    *,
    metric: str = "total_return",
    x: str | None = None,
    y: str | None = None,
    title: str | None = None,
) -> str:
    """Return the sweep report as one self-contained HTML document.

    ``metric`` is one of :data:`~octobot_trading.backtesting.sweep.METRIC_COLUMNS`; ``x`` and
    ``y`` are swept parameters (default: the first two of the grid).
    """
    if metric not in METRIC_COLUMNS:
        raise ConfigurationError(f"unknown metric {metric!r}; metrics: {', '.join(METRIC_COLUMNS)}", field="metric")
    x_name, y_name = _axes(result, x, y)
    figure = _heatmap(result, metric, x_name, y_name)
    chart = figure.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False})
    others = [p for p in result.parameters if p not in (x_name, y_name)]
    note = (
        f"<p class='note'>Each cell shows the best {html.escape(metric)} over {html.escape(', '.join(others))}.</p>"
        if others
        else ""
    )
    failed = len(result.table.failed)
    heading = title or f"Sweep: {result.mode_name} on {', '.join(result.symbols)}"
    base = html.escape(", ".join(f"{k}={v}" for k, v in result.base_config.items()) or "defaults")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(heading)}</h1>
<p>{html.escape(result.exchange)} · {html.escape(", ".join(result.time_frames))} · {result.candles} candles ·
{len(result.table)} combinations ({failed} failed) on {result.workers} workers in {result.elapsed_s:.1f} s ·
base config: {base}</p>
<h2>{html.escape(metric)} by {html.escape(x_name)}{" and " + html.escape(y_name) if y_name else ""}</h2>
{note}{chart}
<h2>Combinations (best {html.escape(metric)} first)</h2>
{_table(result, metric)}
<p class="note">Generated by octobot_trading. Self-contained: no network needed to view this file.</p>
</body></html>
"""


def write_sweep_report(
    result: SweepResult,
    path: str | Path,
    *,
    metric: str = "total_return",
    x: str | None = None,
    y: str | None = None,
    title: str | None = None,
) -> Path:
    """Write the sweep report of ``result`` to ``path`` and return the path."""
    target = Path(path)
    target.write_text(render_sweep_report(result, metric=metric, x=x, y=y, title=title), encoding="utf-8")
    return target
