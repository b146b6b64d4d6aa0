"""run_backtest on real perpetual data agrees with the plain-Decimal futures reference, event by event.

SmaCrossMode (long, and short with ``allow_short``) runs through the whole engine on Binance's
XRP/USDT:USDT 5-minute candles with the venue's 8-hour funding rates and 1-hour mark-price
candles, and on a month of 1-minute BTC-PERP candles read as the inverse BTC/USD:BTC. An
independent replay drives ``tests/personal_data/futures_reference.py`` with the documented rules
(docs/backtesting.md event order, docs/futures.md accounting, docs/modes.md SmaCross sizing):
every fill (time, side, contracts, price, fee, realized PnL), funding payment, liquidation, the
positions left open and the final wallet must be the same.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, FundingData, run_backtest
from octobot_trading.backtesting.report import render_report
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing.shared_data import require_shared_data_file
from tests.personal_data.futures_reference import Contract, Reference, Refused

FIXTURES = Path(__file__).parent / "fixtures"
XRP = "XRP/USDT:USDT"
BTC = "BTC/USD:BTC"


def _d(value: float) -> Decimal:
    return Decimal(repr(float(value)))


@dataclass
class Expected:
    fills: list[tuple[int, str, Decimal, Decimal, Decimal, Decimal]] = field(default_factory=list)
    funding: list[tuple[int, str, Decimal, Decimal, Decimal]] = field(default_factory=list)
    liquidations: list[tuple[int, str, Decimal, Decimal, Decimal]] = field(default_factory=list)
    refused: int = 0


def _path(o: Decimal, h: Decimal, low: Decimal, c: Decimal) -> list[Decimal]:
    return [o, low, h, c] if o - low <= h - o else [o, h, low, c]


def reference_run(
    series: Any,
    contract: Contract,
    start: Decimal,
    *,
    marks: Any = None,
    funding: FundingData | None = None,
    fee_rate: Decimal,
    amount_step: Decimal,
    allow_short: bool,
    fast: int = 10,
    slow: int = 30,
    buy_fraction: Decimal = Decimal("0.95"),
) -> tuple[Expected, Reference]:
    """Replay ``series`` through the reference with the documented event order and sizing."""
    symbol, currency = contract.symbol, contract.settle
    ref = Reference({symbol: contract}, {currency: start})
    out = Expected()
    tf_ms = series.time_frame.ms
    mark_rows: dict[int, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
    if marks is not None:
        mark_tf = marks.time_frame.ms
        for i in range(len(marks)):
            mark_rows[int(marks.times[i]) + mark_tf] = (
                _d(marks.opens[i]),
                _d(marks.highs[i]),
                _d(marks.lows[i]),
                _d(marks.closes[i]),
            )
    events = [] if funding is None else list(funding)
    mark_closes = sorted(mark_rows)
    closes: list[int] = []
    scale = 10**10  # exact: every close here has at most 10 decimals
    previous_sign: int | None = None
    previous_close: int | None = None
    for i in range(len(series)):
        close_ms = int(series.times[i]) + tf_ms
        o, h, low, c = (_d(x) for x in (series.opens[i], series.highs[i], series.lows[i], series.closes[i]))
        # 1-4: candle events (isolated path, mark, funding, cross); the mark moves while flat too
        mark: tuple[Decimal, ...] | None = (o, h, low, c) if marks is None else mark_rows.get(close_ms)
        k = bisect.bisect_left(mark_closes, close_ms)
        held = marks is not None and k < len(mark_closes) and mark_closes[k] - marks.time_frame.ms < close_ms
        if not held:  # no mark candle holds this close: the traded candle is the mark
            mark = (o, h, low, c)
        if ref.positions:
            if mark is not None:
                # a mark candle's path only acts on positions unchanged since its open; else its close
                changed = held and bool(out.fills) and out.fills[-1][0] > close_ms - marks.time_frame.ms
                for row in ref.isolated_liquidations(symbol, [mark[3]] if changed else _path(*mark)):
                    out.liquidations.append((close_ms, row[1], row[2], row[3], row[4]))
        if mark is not None:
            ref.set_mark(symbol, mark[3])
        if ref.positions:
            if previous_close is not None:
                for when, rate in events:
                    if previous_close < when <= close_ms:
                        sides = sorted(ref.positions)
                        paid = ref.funding(symbol, rate)
                        marked = ref.marks.get(symbol, ref.positions[sides[0]].entry)
                        out.funding.extend((when, side, rate, marked, amount) for side, amount in paid)
            if contract.margin_mode == "cross":
                for row in ref.cross_liquidations(currency):
                    out.liquidations.append((close_ms, row[1], row[2], row[3], row[4]))
        previous_close = close_ms
        # 5: the mode at the close
        closes.append(int(c * scale))
        if len(closes) < slow:
            continue
        d = sum(closes[-fast:]) * slow - sum(closes[-slow:]) * fast
        sign = (d > 0) - (d < 0)
        prior, previous_sign = previous_sign, sign
        if prior is None or sign == prior:
            continue
        if sign > 0 >= prior:
            want = "long"
        elif sign < 0 <= prior:
            want = "short"
        else:
            continue
        _act(ref, out, contract, want, c, close_ms, fee_rate, amount_step, allow_short, buy_fraction)
    return out, ref


def _act(
    ref: Reference,
    out: Expected,
    contract: Contract,
    want: str,
    close: Decimal,
    time: int,
    fee_rate: Decimal,
    step: Decimal,
    allow_short: bool,
    buy_fraction: Decimal,
) -> None:
    """The documented contract sizing: a flip is one order (the old size plus the new one) sized at the close."""
    symbol, settle = contract.symbol, contract.settle
    held = ref.positions.get((symbol, "both"))
    flip = held is not None and held.side != want
    side = "buy" if want == "long" else "sell"
    amount = Decimal(0)
    if (want == "long" or allow_short) and (held is None or flip):
        wallet = ref.wallets[settle]
        with localcontext(Context(prec=200)):
            margin = min(max(ref.available(settle, ref.positions, wallet), Decimal(0)), max(wallet, Decimal(0)))
            if held is not None and flip:
                # closing the old position at the close frees its margin and realizes its PnL there;
                # a cross position's PnL at the mark is already in the available margin
                margin += held.margin + ref.pnl(contract, held.side, held.contracts * contract.size, held.entry, close)
                if contract.margin_mode == "cross":
                    margin -= ref.upnl(symbol, held)
        if margin > 0:
            budget = buy_fraction * margin * contract.leverage
            raw = budget * close / contract.size if contract.inverse else budget / (close * contract.size)
            amount = (raw / step).to_integral_value(rounding=ROUND_DOWN) * step
    if held is not None and flip:
        if amount > 0:
            try:
                realized, fee = ref.fill(symbol, side, held.contracts + amount, close, fee_rate)
                out.fills.append((time, side, held.contracts + amount, close, fee, realized))
                return
            except Refused:
                out.refused += 1  # the mode then only closes
        realized, fee = ref.fill(symbol, side, held.contracts, close, fee_rate, reduce_only=True)
        out.fills.append((time, side, held.contracts, close, fee, realized))
        return
    if amount <= 0:
        return
    try:
        realized, fee = ref.fill(symbol, side, amount, close, fee_rate)
    except Refused:
        out.refused += 1
        return
    out.fills.append((time, side, amount, close, fee, realized))


def _compare(result: Any, expected: Expected, ref: Reference, contract: Contract) -> None:
    got_fills = [(f.time, f.side.value, f.amount, f.price, f.fee, f.realized_pnl) for f in result.trades]
    assert len(got_fills) == len(expected.fills)
    for ours, theirs in zip(got_fills, expected.fills, strict=True):
        assert ours == theirs
    got_funding = [(f.time, f.side.value, f.rate, f.mark_price, f.amount) for f in result.funding]
    assert got_funding == expected.funding
    got_liquidations = [(q.time, q.side.value, q.size, q.price, q.margin_lost) for q in result.liquidations]
    assert got_liquidations == expected.liquidations
    assert [(p.side.value, p.contracts, p.entry_price, p.initial_margin) for p in result.positions] == [
        (p.side, p.contracts, p.entry, p.margin) for _, p in sorted(ref.positions.items())
    ]
    assert result.final_portfolio[contract.settle] == ref.wallets[contract.settle]


async def _sma_cross_and_reference(
    data: CandleData,
    spec: ot.ContractSpec,
    contract: Contract,
    *,
    time_frame: str = "5m",
    start: str = "1000",
    taker: str = "0.0004",
    amount_step: str = "0.1",
    allow_short: bool = True,
    marks: CandleData | None = None,
    funding: FundingData | None = None,
) -> tuple[Any, Expected, Reference]:
    """SmaCrossMode backtested on ``contract``'s candles of ``data`` (wallet ``start`` of its settle
    asset, maker fee 0.0002, 1h ``marks``) and the reference replay of the same inputs."""
    result = await run_backtest(
        data,
        trading_mode=SmaCrossMode,
        mode_config={"allow_short": True} if allow_short else {},
        starting_portfolio={contract.settle: start},
        fees=ot.Fees(maker="0.0002", taker=taker),
        contracts={contract.symbol: spec},
        funding_rates=funding,
        mark_prices=marks,
    )
    expected, ref = reference_run(
        data.get(contract.symbol, time_frame),
        contract,
        Decimal(start),
        marks=None if marks is None else marks.get(contract.symbol, "1h"),
        funding=funding,
        fee_rate=Decimal(taker),
        amount_step=Decimal(amount_step),
        allow_short=allow_short,
    )
    return result, expected, ref


async def test_xrp_perp_long_short_sma_cross_with_funding_and_mark_candles_matches_the_reference() -> None:
    candles = CandleData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-5m-futures.json"))
    marks = CandleData.from_file(
        require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-1h-mark.json"), kind="mark"
    )
    funding = FundingData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-8h-funding_rate.json"))
    spec = ot.ContractSpec(leverage="10", maintenance_margin_rate="0.004", amount_step="0.1", price_tick="0.0001")
    contract = Contract(XRP, False, Decimal(1), Decimal(10), Decimal("0.004"), "isolated", "one_way")
    result, expected, ref = await _sma_cross_and_reference(candles, spec, contract, marks=marks, funding=funding)
    assert len(expected.fills) > 50 and len(expected.funding) >= 5
    assert {side for _, side, *_ in expected.fills} == {"buy", "sell"}
    _compare(result, expected, ref, contract)
    assert result.metrics.futures and result.metrics.liquidations == len(result.liquidations)
    page = render_report(result)
    for heading in ("Open positions", "Funding", "Liquidations", "realized PnL"):
        assert heading in page


@pytest.mark.parametrize(("margin_mode", "with_marks"), [("isolated", False), ("isolated", True), ("cross", False)])
async def test_xrp_perp_at_high_leverage_liquidates_like_the_reference(margin_mode: str, with_marks: bool) -> None:
    candles = CandleData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-5m-futures.json"))
    marks = (
        CandleData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-1h-mark.json"), kind="mark")
        if with_marks
        else None
    )
    funding = FundingData.from_file(require_shared_data_file("freqtrade_derived", "XRP_USDT_USDT-8h-funding_rate.json"))
    spec = ot.ContractSpec(
        leverage="50",
        maintenance_margin_rate="0.004",
        amount_step="0.1",
        margin_mode=ot.MarginMode(margin_mode),
    )
    contract = Contract(XRP, False, Decimal(1), Decimal(50), Decimal("0.004"), margin_mode, "one_way")
    result, expected, ref = await _sma_cross_and_reference(candles, spec, contract, marks=marks, funding=funding)
    assert expected.liquidations  # 50x on XRP's 5-minute moves
    _compare(result, expected, ref, contract)
    assert result.metrics.liquidations == len(expected.liquidations)


async def test_long_only_sma_cross_on_a_perp_never_opens_a_short() -> None:
    candles = CandleData.from_file(FIXTURES / "XRP_USDT_USDT-5m-futures-head600.json")
    spec = ot.ContractSpec(leverage="3", maintenance_margin_rate="0.004", amount_step="0.1")
    contract = Contract(XRP, False, Decimal(1), Decimal(3), Decimal("0.004"), "isolated", "one_way")
    result, expected, ref = await _sma_cross_and_reference(candles, spec, contract, allow_short=False)
    assert len(expected.fills) > 4
    _compare(result, expected, ref, contract)
    # every sell closes a long: the position never goes short
    assert all(f.realized_pnl != 0 or f.side is ot.OrderSide.BUY for f in result.trades)
    again = await run_backtest(
        candles,
        trading_mode=SmaCrossMode,
        mode_config={},
        starting_portfolio={"USDT": "1000"},
        fees=ot.Fees(maker="0.0002", taker="0.0004"),
        contracts={XRP: spec},
    )
    assert again.event_log_hash == result.event_log_hash  # futures events are in the hash, deterministically


async def test_inverse_btc_perp_sma_cross_matches_the_reference() -> None:
    data = CandleData.from_file(
        require_shared_data_file("nautilus", "btc-perp-20211231-20220201_1m.csv"), symbol=BTC, time_frame="1m"
    )
    spec = ot.ContractSpec(contract_size="100", leverage="5", maintenance_margin_rate="0.005", amount_step="1")
    contract = Contract(BTC, True, Decimal(100), Decimal(5), Decimal("0.005"), "isolated", "one_way")
    result, expected, ref = await _sma_cross_and_reference(
        data, spec, contract, time_frame="1m", start="1", taker="0.0005", amount_step="1"
    )
    assert len(expected.fills) > 100
    _compare(result, expected, ref, contract)
    assert result.equity_curve.reference_market == "USD"


async def test_sma_cross_in_hedge_mode_trades_like_one_way_naming_each_position_side() -> None:
    candles = CandleData.from_file(FIXTURES / "XRP_USDT_USDT-5m-futures-head600.json")
    results = {}
    for mode in (ot.PositionMode.ONE_WAY, ot.PositionMode.HEDGE):
        spec = ot.ContractSpec(leverage="3", maintenance_margin_rate="0.004", amount_step="0.1", position_mode=mode)
        results[mode] = await run_backtest(
            candles,
            trading_mode=SmaCrossMode,
            mode_config={"allow_short": True},
            starting_portfolio={"USDT": "1000"},
            fees=ot.Fees(maker="0.0002", taker="0.0004"),
            contracts={XRP: spec},
        )
    one_way, hedge = results[ot.PositionMode.ONE_WAY], results[ot.PositionMode.HEDGE]
    assert len(hedge.trades) > 4 and {f.side for f in hedge.trades} == set(ot.OrderSide)
    # hedge mode closes one side and opens the other with two orders (the second names its side);
    # one-way mode flips with one order of both sizes: the same contracts, fees and PnL per signal
    merged: dict[tuple[int, ot.OrderSide, Decimal], list[Decimal]] = {}
    for f in hedge.trades:
        row = merged.setdefault((f.time, f.side, f.price), [Decimal(0), Decimal(0), Decimal(0)])
        row[0] += f.amount
        row[1] += f.fee
        row[2] += f.realized_pnl or Decimal(0)
    assert len(merged) < len(hedge.trades) == 2 * len(merged) - 1  # every signal after the first flips
    fields = [(f.time, f.side, f.price, f.amount, f.fee, f.realized_pnl) for f in one_way.trades]
    assert [(*key, *row) for key, row in merged.items()] == fields
    assert hedge.final_portfolio == one_way.final_portfolio
    assert [(p.side, p.contracts) for p in hedge.positions] == [(p.side, p.contracts) for p in one_way.positions]
