"""The HTML backtest report: one self-contained file, viewable offline.

Built with plotly; its JavaScript library is inlined once in the page (no CDN, no network), so
the file opens anywhere. Contents: equity curve with buy-and-hold, drawdown, price of the first
symbol with trade markers, the metrics table and the trades table. A futures run adds its
liquidations to the price chart and three sections: the positions left open, the funding
payments (net total per currency, then the payments) and the liquidations; its trades table
shows each fill's realized PnL.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from octobot_trading.backtesting.mark_coverage import describe
from octobot_trading.enums import OrderSide
from octobot_trading.util.decimals import ZERO, decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.backtesting.runner import BacktestResult

__all__ = ["MAX_FUNDING_ROWS", "MAX_TRADE_ROWS", "render_report", "write_report"]

MAX_TRADE_ROWS = 2000
MAX_FUNDING_ROWS = 500

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


def _time(ms: int) -> str:
    return str(np.datetime64(ms, "ms")).replace("T", " ")


def _num(value: Any) -> str:
    return "n/a" if value is None else decimal_to_str(value)


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _is_futures(result: BacktestResult) -> bool:
    return bool(result.positions or result.funding or result.liquidations or any(":" in s for s in result.symbols))


def _futures_sections(result: BacktestResult) -> str:
    """The open positions, funding and liquidations sections (empty for a spot run)."""
    if not _is_futures(result):
        return ""
    positions = [
        (
            p.symbol,
            str(p.side),
            _num(p.contracts),
            _num(p.entry_price),
            _num(p.mark_price),
            _num(p.unrealized_pnl),
            _num(p.realized_pnl),
            _num(p.initial_margin),
            _num(p.liquidation_price),
        )
        for p in result.positions
    ]
    parts = ["<h2>Open positions</h2>"]
    if getattr(result, "mark_fallback", None):
        parts.insert(0, f"<p class='note'>{html.escape(describe(result.mark_fallback))}.</p>")
    parts.append(
        _table(
            ("symbol", "side", "contracts", "entry", "mark", "unrealized PnL", "realized PnL", "margin", "liquidation"),
            positions,
        )
        if positions
        else "<p>None: every position was closed.</p>"
    )
    totals: dict[str, Any] = {}
    for payment in result.funding:
        totals[payment.currency] = totals.get(payment.currency, ZERO) + payment.amount
    net = ", ".join(f"{decimal_to_str(v)} {k}" for k, v in sorted(totals.items())) or "0"
    parts.append(f"<h2>Funding</h2><p>{len(result.funding)} payment(s), net {html.escape(net)} (received > 0).</p>")
    if result.funding:
        shown = result.funding[:MAX_FUNDING_ROWS]
        if len(result.funding) > MAX_FUNDING_ROWS:
            parts.append(f"<p class='note'>First {MAX_FUNDING_ROWS} of {len(result.funding)} payments shown.</p>")
        parts.append(
            _table(
                ("time (UTC)", "symbol", "side", "rate", "mark", "amount"),
                [
                    (
                        _time(f.time),
                        f.symbol,
                        str(f.side),
                        _num(f.rate),
                        _num(f.mark_price),
                        f"{_num(f.amount)} {f.currency}",
                    )
                    for f in shown
                ],
            )
        )
    parts.append(f"<h2>Liquidations</h2><p>{len(result.liquidations)} liquidation(s).</p>")
    if result.liquidations:
        parts.append(
            _table(
                ("time (UTC)", "symbol", "side", "contracts", "price", "margin lost"),
                [
                    (_time(q.time), q.symbol, str(q.side), _num(q.size), _num(q.price), _num(q.margin_lost))
                    for q in result.liquidations
                ],
            )
        )
    return "\n".join(parts)


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
    liquidated = [q for q in result.liquidations if q.symbol == first_symbol]
    if liquidated:
        fig.add_trace(
            go.Scatter(
                x=_dates(np.array([q.time for q in liquidated], dtype=np.int64)),
                y=[float(q.price) for q in liquidated],
                mode="markers",
                name="liquidation",
                marker={"color": "#000", "symbol": "x", "size": 10},
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
    futures = _is_futures(result)
    trade_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                _time(f.time),
                f.symbol,
                f.side.value,
                f.order_type,
                decimal_to_str(f.price),
                decimal_to_str(f.amount),
                f"{decimal_to_str(f.fee)} {f.fee_currency}",
                *((_num(f.realized_pnl),) if futures else ()),
            )
        )
        + "</tr>"
        for f in trades
    )
    headers = (
        "time (UTC)",
        "symbol",
        "side",
        "type",
        "price",
        "amount",
        "fee",
        *(("realized PnL",) if futures else ()),
    )
    trade_headers = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
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
{_futures_sections(result)}
<h2>Trades</h2>{more}
<table><tr>{trade_headers}</tr>
{trade_rows}</table>
<p class="note">Generated by octobot_trading. Self-contained: no network needed to view this file.</p>
</body></html>
"""


def write_report(result: BacktestResult, path: str | Path, *, title: str | None = None) -> Path:
    """Write the report of ``result`` to ``path`` and return the path."""
    target = Path(path)
    target.write_text(render_report(result, title=title), encoding="utf-8")
    return target
