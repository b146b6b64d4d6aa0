"""Properties of futures accounting over random sequences of fills, mark moves and funding events.

For any sequence: wallet = start + Σ realized PnL - Σ fees + Σ funding, exactly; an isolated
liquidation loses exactly the position's initial margin, never more; in cross margin the margin
balance never goes below zero and the wallet is never negative once the account is flat; and the
engine agrees, event by event, with the plain-Decimal reference in ``futures_reference.py``.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from hypothesis import event as note_event
from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.enums import MarginMode, PositionMode, TransactionType
from octobot_trading.errors import InsufficientFunds, InvalidOrder
from octobot_trading.personal_data.positions.accounting import FuturesAccount
from octobot_trading.util.contract_spec import ContractSpec, settle_currency
from octobot_trading.util.decimals import floor_to_step
from tests.personal_data.futures_reference import Contract, Reference, Refused

XRP, BTC = "XRP/USDT:USDT", "BTC/USD:BTC"
TICKS = {XRP: D("0.0001"), BTC: D("1")}
START_MARKS = {XRP: D("1.2"), BTC: D("40000")}
START = {"USDT": D("100"), "BTC": D("0.3")}
FACTORS = [D(x) for x in ("0.7", "0.85", "0.93", "0.98", "0.995", "1.005", "1.02", "1.07", "1.15", "1.4")]

fill_event = st.tuples(
    st.just("fill"),
    st.sampled_from([XRP, BTC]),
    st.sampled_from(["buy", "sell"]),
    st.integers(1, 80),
    st.sampled_from([D(0), D("0.0002"), D("0.0004")]),
    st.sampled_from([None, "long", "short"]),
    st.booleans(),
)
mark_event = st.tuples(st.just("mark"), st.sampled_from([XRP, BTC]), st.sampled_from(FACTORS))
funding_event = st.tuples(
    st.just("funding"), st.sampled_from([XRP, BTC]), st.integers(-40, 40).map(lambda n: D(n) * D("0.00001"))
)
events = st.lists(st.one_of(fill_event, fill_event, mark_event, mark_event, funding_event), min_size=8, max_size=60)


def _make(margin_mode: str, position_mode: str, leverage: int) -> tuple[FuturesAccount, Reference]:
    specs = {
        XRP: ContractSpec(
            leverage=leverage,
            maintenance_margin_rate="0.004",
            max_leverage="125",
            margin_mode=MarginMode(margin_mode),
            position_mode=PositionMode(position_mode),
        ),
        BTC: ContractSpec(
            contract_size="100",
            leverage=leverage,
            maintenance_margin_rate="0.005",
            max_leverage="125",
            margin_mode=MarginMode(margin_mode),
            position_mode=PositionMode(position_mode),
        ),
    }
    account = FuturesAccount(specs, dict(START))
    reference = Reference(
        {
            XRP: Contract(XRP, False, D(1), D(leverage), D("0.004"), margin_mode, position_mode),
            BTC: Contract(BTC, True, D(100), D(leverage), D("0.005"), margin_mode, position_mode),
        },
        dict(START),
    )
    return account, reference


def _snapshot(account: FuturesAccount) -> list[tuple[Any, ...]]:
    return [
        (p.symbol, p.side.value, p.contracts, p.entry_price, p.initial_margin, p.liquidation_price)
        for p in account.positions()
    ]


def _ref_snapshot(reference: Reference) -> list[tuple[Any, ...]]:
    return [(k[0], p.side, p.contracts, p.entry, p.margin, p.liq) for k, p in sorted(reference.positions.items())]


@settings(max_examples=1000, deadline=None)
@given(
    events=events,
    margin_mode=st.sampled_from(["isolated", "cross"]),
    position_mode=st.sampled_from(["one_way", "hedge"]),
    leverage=st.sampled_from([1, 3, 10, 50]),
)
def test_any_sequence_keeps_the_ledger_exact_and_agrees_with_the_reference(
    events, margin_mode, position_mode, leverage
):
    account, reference = _make(margin_mode, position_mode, leverage)
    marks = dict(START_MARKS)
    for symbol, mark in marks.items():
        account.update_mark(symbol, mark)
        reference.set_mark(symbol, mark)
    realized = {"USDT": D(0), "BTC": D(0)}
    fees = {"USDT": D(0), "BTC": D(0)}
    funding = {"USDT": D(0), "BTC": D(0)}
    for index, event in enumerate(events):
        kind, symbol = event[0], event[1]
        currency = "USDT" if symbol == XRP else "BTC"
        if kind == "fill":
            _, _, side, contracts, fee_rate, position_side, reduce_only = event
            contracts *= 10 if symbol == XRP else 1  # 12 to 960 USDT, 100 to 8000 USD (0.003 to 0.2 BTC)
            if position_mode == "one_way":
                position_side = None
            elif position_side is None:
                position_side = "long" if side == "buy" else "short"
            try:
                expected: Any = reference.fill(
                    symbol, side, D(contracts), marks[symbol], fee_rate, reduce_only, position_side
                )
            except Refused as refused:
                expected = refused.reason
            try:
                result = account.apply_fill(
                    f"f{index}",
                    symbol,
                    side,
                    contracts,
                    marks[symbol],
                    index,
                    fee_rate=fee_rate,
                    reduce_only=reduce_only,
                    position_side=position_side,
                )
                assert result is not None
                got: Any = (result.realized_pnl, result.fee)
                note_event("flip" if result.closed and result.opened else "close" if result.closed else "open")
                realized[currency] += result.realized_pnl
                fees[currency] += result.fee
            except InsufficientFunds:
                got = "insufficient"
            except InvalidOrder as err:
                got = err.limit
            assert got == expected
        elif kind == "mark":
            new = floor_to_step(marks[symbol] * event[2], TICKS[symbol])
            path = [new]
            marks[symbol] = new
            account.update_mark(symbol, new)
            reference.set_mark(symbol, new)
            before = {(p.symbol, p.side): p.initial_margin for p in account.positions()}
            long_bound, short_bound = account.liquidation_bounds(symbol)
            liquidated = account.check_isolated_liquidation(symbol, path, index)
            if liquidated:  # the float pre-check never misses a liquidation
                assert float(new) <= long_bound or float(new) >= short_bound
            assert [
                (x.symbol, x.side.value, x.size, x.price, x.margin_lost) for x in liquidated
            ] == reference.isolated_liquidations(symbol, path)
            for liquidation in liquidated:
                note_event("isolated liquidation")
                assert liquidation.margin_lost == before[(liquidation.symbol, liquidation.side)]  # never more
                realized[currency] -= liquidation.margin_lost
        else:
            payments = account.apply_funding(symbol, event[2], marks[symbol], index)
            assert [(p.side.value, p.amount) for p in payments] == reference.funding(symbol, event[2])
            funding[currency] += sum((p.amount for p in payments), D(0))
        for settle in ("USDT", "BTC"):
            cross = account.check_cross_liquidation(settle, index)
            assert [
                (x.symbol, x.side.value, x.size, x.price, x.margin_lost) for x in cross
            ] == reference.cross_liquidations(settle)
            realized[settle] -= sum((x.margin_lost for x in cross), D(0))
            if cross:
                note_event("cross liquidation")
            if margin_mode == "cross":
                assert account.margin_balance(settle) >= 0
                flat = not any(settle_currency(p.symbol) == settle for p in account.positions())
                if cross or flat:
                    assert account.wallet(settle) >= 0
        assert _snapshot(account) == _ref_snapshot(reference)
        assert account.wallets == reference.wallets
    for settle in ("USDT", "BTC"):
        assert account.wallet(settle) == START[settle] + realized[settle] - fees[settle] + funding[settle]
        ledger = account.transactions
        assert account.wallet(settle) == (
            START[settle]
            + ledger.total(TransactionType.REALISED_PNL, settle)
            + ledger.total(TransactionType.TRADING_FEE, settle)
            + ledger.total(TransactionType.FUNDING_FEE, settle)
        )
