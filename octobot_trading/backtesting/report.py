"""The HTML backtest report: one self-contained file, viewable offline.

Built with plotly; its JavaScript library is inlined once in the page (no CDN, no network), so
the file opens anywhere. Contents: equity curve with buy-and-hold, drawdown, price of the first
symbol with trade markers, the metrics table and the trades table.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from octobot_trading.enums import OrderSide
from octobot_trading.util.decimals import decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.backtesting.runner import BacktestResult

__all__ = ["MAX_TRADE_ROWS", "render_report", "write_report"]

MAX_TRADE_ROWS = 2000

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f2f2f2; } td:first-child { text-align: left; }
.note { color: #666; font-size: 0.85em; }
"""


def _dates(times: Any) -> Any:
    return np.asarray(times, dtype="datetime64[ms]")


def render_report(result: BacktestResult, *, title: str | None = None) -> str:
    """Return the report of ``result`` as one self-contained HTML document."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    curve = result.equity_curve
    dates = _dates(curve.times)
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.05,
        row_heights=[0.4, 0.2, 0.4],
        subplot_titles=(f"Equity ({curve.reference_market})", "Drawdown", f"Price {result.symbols[0]} with trades"),
    )
    fig.add_trace(go.Scatter(x=dates, y=curve.values, name="strategy", line={"color": "#1f77b4"}), row=1, col=1)
    if len(curve) and curve.prices[0] > 0:
        hold = curve.prices / curve.prices[0] * float(result.metrics.start_value)
        fig.add_trace(
            go.Scatter(x=dates, y=hold, name="buy & hold", line={"color": "#999", "dash": "dot"}), row=1, col=1
        )
    fig.add_trace(
        go.Scatter(x=dates, y=-curve.drawdown() * 100, name="drawdown %", fill="tozeroy", line={"color": "#d62728"}),
        row=2,
        col=1,
    )
    fig.add_trace(go.Scatter(x=dates, y=curve.prices, name="close", line={"color": "#555"}), row=3, col=1)
    first_symbol = result.symbols[0]
    for side, color, marker in (
        (OrderSide.BUY, "#2ca02c", "triangle-up"),
        (OrderSide.SELL, "#d62728", "triangle-down"),
    ):
        fills = [f for f in result.trades if f.side is side and f.symbol == first_symbol]
        if fills:
            fig.add_trace(
                go.Scatter(
                    x=_dates(np.array([f.time for f in fills], dtype=np.int64)),
                    y=[float(f.price) for f in fills],
                    mode="markers",
                    name=side.value,
                    marker={"color": color, "symbol": marker, "size": 8},
                ),
                row=3,
                col=1,
            )
    fig.update_layout(height=900, margin={"l": 60, "r": 20, "t": 40, "b": 30}, hovermode="x unified")
    chart = fig.to_html(full_html=False, include_plotlyjs=True, config={"displaylogo": False})
    metrics_rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(value)}</td></tr>" for label, value in result.metrics.rows()
    )
    trades = result.trades[:MAX_TRADE_ROWS]
    trade_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                str(np.datetime64(f.time, "ms")).replace("T", " "),
                f.symbol,
                f.side.value,
                f.order_type,
                decimal_to_str(f.price),
                decimal_to_str(f.amount),
                f"{decimal_to_str(f.fee)} {f.fee_currency}",
            )
        )
        + "</tr>"
        for f in trades
    )
    more = (
        f"<p class='note'>First {MAX_TRADE_ROWS} of {len(result.trades)} fills shown.</p>"
        if len(result.trades) > MAX_TRADE_ROWS
        else ""
    )
    portfolio = ", ".join(f"{decimal_to_str(v)} {k}" for k, v in sorted(result.final_portfolio.items()))
    heading = title or f"Backtest: {result.mode_name} on {', '.join(result.symbols)}"
    config = html.escape(", ".join(f"{k}={v}" for k, v in result.mode_config.items()) or "defaults")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(heading)}</h1>
<p>{html.escape(result.exchange)} · {html.escape(", ".join(result.time_frames))} ·
{result.candles} candles · mode config: {config}<br>
Final portfolio: {html.escape(portfolio)}<br>
<span class="note">Event-log hash: {result.event_log_hash}</span></p>
{chart}
<h2>Metrics</h2><table>{metrics_rows}</table>
<h2>Trades</h2>{more}
<table><tr><th>time (UTC)</th><th>symbol</th><th>side</th><th>type</th><th>price</th><th>amount</th><th>fee</th></tr>
{trade_rows}</table>
<p class="note">Generated by octobot_trading. Self-contained: no network needed to view this file.</p>
</body></html>
"""


def write_report(result: BacktestResult, path: str | Path, *, title: str | None = None) -> Path:
    """Write the report of ``result`` to ``path`` and return the path."""
    target = Path(path)
    target.write_text(render_report(result, title=title), encoding="utf-8")
    return target
