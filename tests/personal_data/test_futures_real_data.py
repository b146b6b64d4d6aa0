"""The futures accounting replayed on real perpetual data agrees with the plain-Decimal reference.

A long/short SMA-cross strategy (always in the market, flipping on each cross) runs over Binance's
XRP/USDT:USDT 5-minute perp candles with the venue's 8-hour funding rates, and over a month of
1-minute BTC-PERP candles read as the inverse BTC/USD:BTC. At each candle: isolated liquidation
on the candle's price path (open, nearer extreme, other extreme, close; the candles serve as mark
prices), the mark moves to the close, the funding events the candle passes are paid, cross
liquidation is checked, then the strategy trades at the close. The engine and the reference must
agree on every fill, funding payment, liquidation, position and wallet.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from octobot_trading.enums import MarginMode, PositionMode
from octobot_trading.errors import InsufficientFunds
from octobot_trading.personal_data.positions.accounting import FuturesAccount
from octobot_trading.testing.shared_data import require_shared_data_file
from octobot_trading.util.contract_spec import ContractSpec
from tests.personal_data.futures_reference import Contract, Reference, Refused

EIGHT_HOURS = 8 * 3600 * 1000


def _path(o: D, h: D, low: D, c: D) -> list[D]:
    return [o, low, h, c] if o - low <= h - o else [o, h, low, c]


def _replay(
    symbol: str,
    candles: list[tuple[int, D, D, D, D]],
    tf_ms: int,
    funding: list[tuple[int, D]],
    spec: ContractSpec,
    contract: Contract,
    start: D,
    contracts: D,
    fee_rate: D,
) -> dict[str, int]:
    currency = contract.settle
    account = FuturesAccount({symbol: spec}, {currency: start})
    reference = Reference({symbol: contract}, {currency: start})
    closes: list[D] = []
    previous_diff: D | None = None
    counts = {"fills": 0, "funding": 0, "liquidations": 0, "refused": 0}
    funding_index = 0
    for t, o, h, low, c in candles:
        close_ms = t + tf_ms
        path = _path(o, h, low, c)
        long_bound, short_bound = account.liquidation_bounds(symbol)
        liquidated = account.check_isolated_liquidation(symbol, path, close_ms)
        if liquidated:  # the float pre-check on the candle's low / high never misses one
            assert float(low) <= long_bound or float(h) >= short_bound
        assert [
            (x.symbol, x.side.value, x.size, x.price, x.margin_lost) for x in liquidated
        ] == reference.isolated_liquidations(symbol, path)
        account.update_mark(symbol, c)
        reference.set_mark(symbol, c)
        while funding_index < len(funding) and funding[funding_index][0] <= close_ms:
            when, rate = funding[funding_index]
            funding_index += 1
            if when <= t:
                continue
            paid = account.apply_funding(symbol, rate, c, when)
            assert [(p.side.value, p.amount) for p in paid] == reference.funding(symbol, rate)
            counts["funding"] += len(paid)
        cross = account.check_cross_liquidation(currency, close_ms)
        assert [
            (x.symbol, x.side.value, x.size, x.price, x.margin_lost) for x in cross
        ] == reference.cross_liquidations(currency)
        counts["liquidations"] += len(liquidated) + len(cross)
        closes.append(c)
        if len(closes) >= 30:
            diff = sum(closes[-10:], D(0)) / 10 - sum(closes[-30:], D(0)) / 30
            if previous_diff is not None and (previous_diff <= 0 < diff or previous_diff >= 0 > diff):
                side = "buy" if diff > 0 else "sell"
                held = account.get(symbol)
                opposite = held is not None and held.side.value != ("long" if side == "buy" else "short")
                amount = contracts + (held.size if held is not None and opposite else D(0))  # flip
                try:
                    expected: Any = reference.fill(symbol, side, amount, c, fee_rate)
                except Refused as refused:
                    expected = refused.reason
                try:
                    result = account.apply_fill(f"{close_ms}", symbol, side, amount, c, close_ms, fee_rate=fee_rate)
                    assert result is not None
                    got: Any = (result.realized_pnl, result.fee)
                    counts["fills"] += 1
                except InsufficientFunds:
                    got = "insufficient"
                    counts["refused"] += 1
                assert got == expected
            previous_diff = diff
        assert [
            (p.side.value, p.contracts, p.entry_price, p.initial_margin, p.liquidation_price)
            for p in account.positions()
        ] == [(p.side, p.contracts, p.entry, p.margin, p.liq) for _, p in sorted(reference.positions.items())]
        assert account.wallets == reference.wallets
    return counts


def _json_candles(name: str) -> list[tuple[int, D, D, D, D]]:
    rows = json.loads(require_shared_data_file("freqtrade_derived", name).read_text())
    return [(int(r[0]), D(repr(r[1])), D(repr(r[2])), D(repr(r[3])), D(repr(r[4]))) for r in rows]


@pytest.mark.parametrize("margin_mode", ["isolated", "cross"])
def test_linear_xrp_perp_with_real_funding_agrees_with_the_reference(margin_mode):
    candles = _json_candles("XRP_USDT_USDT-5m-futures.json")
    funding = [(t - t % EIGHT_HOURS, rate) for t, rate, *_ in _json_candles("XRP_USDT_USDT-8h-funding_rate.json")]
    leverage = "50" if margin_mode == "isolated" else "20"
    spec = ContractSpec(
        leverage=leverage,
        max_leverage="125",
        maintenance_margin_rate="0.004",
        margin_mode=MarginMode(margin_mode),
        position_mode=PositionMode.ONE_WAY,
    )
    contract = Contract("XRP/USDT:USDT", False, D(1), D(leverage), D("0.004"), margin_mode, "one_way")
    counts = _replay("XRP/USDT:USDT", candles, 300_000, funding, spec, contract, D(100), D(500), D("0.0004"))
    assert counts["fills"] > 20 and counts["funding"] >= 10
    if margin_mode == "isolated":
        assert counts["liquidations"] > 0  # 50x on XRP's moves: some positions are liquidated


@pytest.mark.parametrize("margin_mode", ["isolated", "cross"])
def test_inverse_btc_perp_read_as_btc_usd_agrees_with_the_reference(margin_mode):
    path = require_shared_data_file("nautilus", "btc-perp-20211231-20220201_1m.csv")
    candles = []
    with path.open() as handle:
        for row in csv.DictReader(handle):
            when = datetime.strptime(row["timestamp"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
            candles.append(
                (int(when.timestamp() * 1000), D(row["open"]), D(row["high"]), D(row["low"]), D(row["close"]))
            )
    candles = candles[:20_000]
    # this data set has no funding history: a fixed 8-hour schedule of alternating rates
    first = candles[0][0] - candles[0][0] % EIGHT_HOURS
    funding = [(first + k * EIGHT_HOURS, D("0.0001") if k % 3 else D("-0.00005")) for k in range(1, 60)]
    spec = ContractSpec(
        contract_size="100",
        leverage="50",
        max_leverage="100",
        maintenance_margin_rate="0.005",
        margin_mode=MarginMode(margin_mode),
    )
    contract = Contract("BTC/USD:BTC", True, D(100), D(50), D("0.005"), margin_mode, "one_way")
    counts = _replay("BTC/USD:BTC", candles, 60_000, funding, spec, contract, D("0.1"), D(20), D("0.0005"))
    assert counts["fills"] > 100 and counts["funding"] > 20
    if margin_mode == "isolated":
        assert counts["liquidations"] > 0
