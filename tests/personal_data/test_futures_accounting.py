"""Futures position accounting: every rule of docs/futures.md and every bad input, on small exact cases."""

from __future__ import annotations

import copy
from dataclasses import fields, replace
from decimal import Decimal as D
from typing import Any

import pytest

import octobot_trading as ot
from octobot_trading.enums import MarginMode, OrderSide, PositionMode, PositionSide, TransactionType
from octobot_trading.errors import (
    ConfigurationError,
    InsufficientFunds,
    InvalidNumber,
    InvalidOrder,
    OpenPositionsError,
)
from octobot_trading.personal_data.positions.accounting import FuturesAccount
from octobot_trading.personal_data.positions.fill_planning import valued
from octobot_trading.personal_data.positions.position import Position
from octobot_trading.util.contract_spec import ContractSpec, MarginTier, contract_kind, settle_currency
from octobot_trading.util.decimals import divide_to_step

XRP = "XRP/USDT:USDT"
BTC_INV = "BTC/USD:BTC"
STEP = D("1e-18")


def _account(
    margin_mode: str = "isolated", position_mode: str = "one_way", usdt: str = "1000", leverage: str = "10"
) -> FuturesAccount:
    return FuturesAccount(
        {
            XRP: ContractSpec(
                leverage=leverage,
                max_leverage="50",
                maintenance_margin_rate="0.004",
                margin_mode=MarginMode(margin_mode),
                position_mode=PositionMode(position_mode),
            ),
            BTC_INV: ContractSpec(
                contract_size="100",
                leverage="5",
                maintenance_margin_rate="0.005",
                margin_mode=MarginMode(margin_mode),
                position_mode=PositionMode(position_mode),
            ),
        },
        {"USDT": usdt, "BTC": "1"},
    )


def _state(account: FuturesAccount) -> tuple[object, ...]:
    return (
        account.wallets,
        account.positions(),
        len(account.transactions),
        copy.copy(account._reserved),
        [account.settings(s) for s in account.specs],
    )


# ---------------------------------------------------------------- contract specs and symbols
def test_contract_spec_is_exported_with_position_mode_and_reads_decimals_from_str_and_int():
    spec = ot.ContractSpec(
        contract_size=1,
        leverage="10",
        margin_mode=ot.MarginMode.ISOLATED,
        position_mode=ot.PositionMode.ONE_WAY,
        maintenance_margin_rate="0.004",
        price_tick="0.0001",
        amount_step="0.1",
        min_cost="5",
    )
    assert isinstance(spec, ot.MarketSpec)
    assert (spec.leverage, spec.maintenance_margin_rate, spec.contract_size) == (D(10), D("0.004"), D(1))
    assert spec.adapt_quantity("12.34") == D("12.3")
    assert [m.value for m in ot.PositionMode] == ["one_way", "hedge"]


@pytest.mark.parametrize(
    "name", ["leverage", "maintenance_margin_rate", "contract_size", "min_leverage", "max_leverage", "price_tick"]
)
def test_contract_spec_refuses_a_float_for_any_number(name):
    kwargs: dict[str, Any] = {
        "maintenance_margin_rate": "0.004",
        name: 5.0 if name != "maintenance_margin_rate" else 0.004,
    }
    with pytest.raises(TypeError, match=name):
        ContractSpec(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"leverage": "0"}, "leverage"),
        ({"leverage": "100", "max_leverage": "20"}, "leverage"),
        ({"leverage": "2", "min_leverage": "3"}, "leverage"),
        ({"min_leverage": "5", "max_leverage": "2", "leverage": "5"}, "max_leverage"),
        ({"maintenance_margin_rate": "1"}, "maintenance_margin_rate"),
        ({"maintenance_margin_rate": "-0.1"}, "maintenance_margin_rate"),
        ({"maintenance_margin_rate": None}, "maintenance_margin_rate"),
        ({"margin_mode": "portfolio"}, "margin_mode"),
        ({"position_mode": "both"}, "position_mode"),
        ({"symbol": "BTC/USDT"}, "symbol"),
        ({"symbol": "BTC/USDT:USDT-250627-50000-C"}, "symbol"),
        ({"symbol": "BTC/USDT:EUR"}, "symbol"),
    ],
)
def test_contract_spec_names_the_bad_field(kwargs, field):
    with pytest.raises(ConfigurationError) as err:
        ContractSpec(**{"maintenance_margin_rate": "0.004", **kwargs})
    assert err.value.field == field


def test_symbol_kinds_linear_inverse_and_dated_futures():
    assert contract_kind("BTC/USDT:USDT") == "linear"
    assert contract_kind("BTC/USD:BTC") == "inverse"
    assert contract_kind("BTC/USDT:USDT-250627") == "linear"
    assert contract_kind("BTC/USD:BTC-250627") == "inverse"
    assert settle_currency("BTC/USD:BTC") == "BTC"
    with pytest.raises(ConfigurationError, match="spot"):
        contract_kind("BTC/USDT")


def test_an_account_refuses_contract_specs_for_a_spot_symbol():
    with pytest.raises(ConfigurationError) as err:
        FuturesAccount({"XRP/USDT": ContractSpec(maintenance_margin_rate="0.004")}, {"USDT": "10"})
    assert err.value.field == "symbol"
    with pytest.raises(ConfigurationError, match="ContractSpec"):
        FuturesAccount({XRP: ot.MarketSpec()}, {"USDT": "10"})  # type: ignore[dict-item]


def test_margin_tiers_give_the_maintenance_margin_of_each_bracket():
    spec = ContractSpec(
        margin_tiers=(
            MarginTier("50000", "0.004"),
            MarginTier("250000", "0.005", "50"),
            MarginTier(None, "0.01", "1300"),
        )
    )
    assert spec.maintenance_margin(D(10000)) == D(40)
    assert spec.maintenance_margin(D(100000)) == D(450)
    assert spec.maintenance_margin(D(1000000)) == D(8700)
    with pytest.raises(ConfigurationError) as err:
        ContractSpec(margin_tiers=(MarginTier(None, "0.004"), MarginTier("10", "0.005")))
    assert err.value.field == "margin_tiers"
    with pytest.raises(TypeError):
        MarginTier("10", 0.004)  # type: ignore[arg-type]


def test_divide_to_step_rounds_the_exact_quotient_once():
    step = D("1e-18")
    assert divide_to_step(D(1), D(3), step) == D("0.333333333333333333")
    assert divide_to_step(D(2), D(3), step) == D("0.666666666666666667")
    assert divide_to_step(D(-1), D(3), step, "floor") == D("-0.333333333333333334")
    assert divide_to_step(D("2.5"), D(1), D(1)) == D(2)  # ties to even
    with pytest.raises(InvalidNumber):
        divide_to_step(D(1), D(0), step)


# ---------------------------------------------------------------- linear
def test_linear_open_grow_reduce_and_flip_in_one_way_mode():
    acc = _account()
    first = acc.apply_fill("f1", XRP, "buy", "100", "1.2", 1, fee_rate="0.0004")
    assert first is not None and first.fee == D("0.048")  # 100 x 1.2 x 0.0004
    pos = acc.get(XRP)
    assert pos is not None and pos.side is PositionSide.LONG and pos.size == D(100)
    assert pos.initial_margin == D(12)  # 120 / 10
    assert pos.maintenance_margin == D("0.48")
    # the documented formula (docs/futures.md), the quotient rounded to the accounting step (1e-18)
    assert pos.liquidation_price == ((D("1.2") * 100 - 12) / (100 * (1 - D("0.004")))).quantize(STEP)
    acc.apply_fill("f2", XRP, "buy", "50", "1.5", 2)
    grown = acc.get(XRP)
    assert grown is not None and grown.entry_price == D("1.3")  # (100 x 1.2 + 50 x 1.5) / 150
    reduced = acc.apply_fill("f3", XRP, "sell", "30", "1.4", 3)
    assert reduced is not None and reduced.realized_pnl == D(3)  # 30 x (1.4 - 1.3)
    pos = acc.get(XRP)
    assert pos is not None and pos.entry_price == D("1.3") and pos.size == D(120) and pos.realized_pnl == D(3)
    flip = acc.apply_fill("f4", XRP, "sell", "200", "1.1", 4, fee_rate="0.0004")
    assert flip is not None and (flip.closed, flip.opened) == (D(120), D(80))
    assert flip.realized_pnl == D(120) * (D("1.1") - D("1.3"))
    short = acc.get(XRP)
    assert short is not None and short.side is PositionSide.SHORT and short.size == D(80)
    assert short.entry_price == D("1.1") and short.realized_pnl == 0
    assert short.liquidation_price == ((D("1.1") * 80 + D("8.8")) / (80 * (1 + D("0.004")))).quantize(STEP)
    assert acc.wallet("USDT") == D(1000) + 3 + flip.realized_pnl - D("0.048") - flip.fee
    closed = acc.apply_fill("f5", XRP, "buy", "80", "1", 5)
    assert closed is not None and closed.position is None and acc.get(XRP) is None
    assert closed.realized_pnl == D(8)


def test_unrealized_pnl_follows_the_mark_price():
    acc = _account()
    acc.apply_fill("f1", XRP, "sell", "100", "2", 1)
    acc.update_mark(XRP, "1.9")
    pos = acc.get(XRP)
    assert pos is not None and pos.unrealized_pnl == D(10) and pos.mark_price == D("1.9")
    assert pos.maintenance_margin == D("0.76")


# ---------------------------------------------------------------- inverse
def test_inverse_notional_margin_pnl_fee_and_harmonic_entry():
    acc = _account()
    opened = acc.apply_fill("b1", BTC_INV, "buy", "10", "40000", 1, fee_rate="0.0005")  # q = 1000 USD
    assert opened is not None and opened.fee == D("0.0000125")  # 1000 / 40000 x 0.0005, in BTC
    pos = acc.get(BTC_INV)
    assert pos is not None and pos.initial_margin == D("0.005")  # 1000 / (40000 x 5)
    acc.apply_fill("b2", BTC_INV, "buy", "10", "50000", 2)
    pos = acc.get(BTC_INV)
    # harmonic mean: 2000 / (1000/40000 + 1000/50000) = 44444.44...
    assert pos is not None and pos.entry_price == D("44444.444444444444444444")
    sold = acc.apply_fill("b3", BTC_INV, "sell", "20", "50000", 3)
    assert sold is not None
    assert sold.realized_pnl == (D(2000) / D("44444.444444444444444444")).quantize(STEP) - D("0.04")
    assert acc.get(BTC_INV) is None
    assert acc.wallet("BTC") == D(1) - D("0.0000125") + sold.realized_pnl


def test_inverse_short_liquidation_price_matches_the_margin_equation():
    acc = _account()
    acc.apply_fill("b1", BTC_INV, "sell", "10", "40000", 1)
    pos = acc.get(BTC_INV)
    assert pos is not None and pos.liquidation_price is not None and pos.initial_margin is not None
    q, e, im, mmr, p = D(1000), D(40000), pos.initial_margin, D("0.005"), pos.liquidation_price
    assert abs((im + q / p - q / e) - mmr * q / p) < D("1e-17")


# ---------------------------------------------------------------- hedge mode and reduce_only
def test_hedge_mode_keeps_long_and_short_apart_and_needs_position_side():
    acc = _account(position_mode="hedge")
    before = _state(acc)
    with pytest.raises(InvalidOrder) as err:
        acc.apply_fill("h0", XRP, "buy", "10", "1", 1)
    assert err.value.limit == "position_side" and _state(acc) == before
    acc.apply_fill("h1", XRP, "buy", "10", "1", 1, position_side="long")
    acc.apply_fill("h2", XRP, "sell", "4", "1.2", 2, position_side="short")
    assert acc.get(XRP, PositionSide.LONG).size == D(10)  # type: ignore[union-attr]
    assert acc.get(XRP, PositionSide.SHORT).size == D(4)  # type: ignore[union-attr]
    closed = acc.apply_fill("h3", XRP, "sell", "10", "1.1", 3, position_side="long")
    assert closed is not None and closed.realized_pnl == D(1) and acc.get(XRP, PositionSide.LONG) is None
    with pytest.raises(InvalidOrder):
        acc.apply_fill("h4", XRP, "buy", "5", "1", 4, position_side="short")  # more than the short holds
    with pytest.raises(InvalidOrder) as err:
        acc.apply_fill("h5", XRP, "sell", "1", "1", 5, position_side="short", reduce_only=True)
    assert err.value.limit == "reduce_only"


def test_a_fill_given_a_new_mark_ends_as_the_mark_update_then_the_fill():
    def hedged() -> FuturesAccount:
        acc = _account(position_mode="hedge")
        acc.apply_fill("m1", XRP, "buy", "10", "1", 1, position_side="long")
        acc.apply_fill("m2", XRP, "sell", "4", "1.2", 2, position_side="short")
        return acc

    one, other = hedged(), hedged()
    one.update_mark(XRP, D("1.3"))
    one.apply_fill("m3", XRP, "buy", "6", "1.3", 3, position_side="long")
    other.apply_fill("m3", XRP, "buy", "6", "1.3", 3, position_side="long", mark=D("1.3"))
    assert _state(other) == _state(one)
    assert other.get(XRP, PositionSide.SHORT).unrealized_pnl == D("-0.4")  # type: ignore[union-attr]
    with pytest.raises(InvalidOrder):  # refused: the mark is still applied, nothing else changes
        other.apply_fill("m4", XRP, "buy", "50", "1.1", 4, position_side="short", mark=D("1.1"))
    one.update_mark(XRP, D("1.1"))
    assert _state(other) == _state(one)


def test_one_way_mode_refuses_a_position_side():
    acc = _account()
    with pytest.raises(InvalidOrder) as err:
        acc.apply_fill("o1", XRP, "buy", "10", "1", 1, position_side="long")
    assert err.value.limit == "position_side"


def test_reduce_only_never_opens_grows_or_flips():
    acc = _account()
    with pytest.raises(InvalidOrder, match="reduce_only"):
        acc.apply_fill("r0", XRP, "sell", "10", "1", 1, reduce_only=True)
    acc.apply_fill("r1", XRP, "buy", "10", "1", 1)
    before = _state(acc)
    for fill_id, side, amount in (("r2", "buy", "1"), ("r3", "sell", "11")):
        with pytest.raises(InvalidOrder) as err:
            acc.apply_fill(fill_id, XRP, side, amount, "1", 2, reduce_only=True)
        assert err.value.limit == "reduce_only"
    assert _state(acc) == before
    done = acc.apply_fill("r4", XRP, "sell", "10", "1", 3, reduce_only=True)
    assert done is not None and done.position is None


# ---------------------------------------------------------------- margin, leverage and modes
def test_an_order_needing_more_margin_than_available_is_refused_before_any_change():
    acc = _account(usdt="10")
    before = _state(acc)
    with pytest.raises(InsufficientFunds, match="USDT"):
        acc.apply_fill("m1", XRP, "buy", "100", "1.2", 1, fee_rate="0.001")  # needs 12 + 0.12
    assert _state(acc) == before
    assert acc.check_order(XRP, OrderSide.BUY, "50", "1.2", fee_rate="0.001") == D("6.06")
    acc.apply_fill("m2", XRP, "buy", "50", "1.2", 1)
    # closing is never refused, and a flip needs margin only for the part it opens
    with pytest.raises(InsufficientFunds):
        acc.apply_fill("m3", XRP, "sell", "200", "1.2", 2)
    assert acc.apply_fill("m4", XRP, "sell", "50", "1.2", 2) is not None


def test_reserved_margin_is_taken_from_available_and_released():
    acc = _account(usdt="20")
    assert acc.reserve("o1", XRP, "buy", "100", "1", fee_rate="0.001") == D("10.1")
    assert acc.available("USDT") == D("9.9")
    with pytest.raises(InsufficientFunds):
        acc.reserve("o2", XRP, "buy", "100", "1", fee_rate="0.001")
    result = acc.apply_fill("f1", XRP, "buy", "100", "1", 1, fee_rate="0.001", order_id="o1")
    assert result is not None and acc.available("USDT") == D("9.9")  # the reservation became margin + fee
    assert acc.release("o1") == 0
    assert acc.reserve("o3", XRP, "sell", "100", "1") == 0  # a reduction needs no margin


def test_leverage_is_checked_against_the_spec_and_float_refused():
    acc = _account()
    with pytest.raises(TypeError, match="leverage"):
        acc.set_leverage(XRP, 5.0)  # type: ignore[arg-type]
    for bad in ("0.5", "51"):
        with pytest.raises(ConfigurationError) as err:
            acc.set_leverage(XRP, bad)
        assert err.value.field == "leverage"
    assert acc.set_leverage(XRP, "20") == D(20)
    acc.apply_fill("l1", XRP, "buy", "100", "1", 1)
    assert acc.get(XRP).initial_margin == D(5)  # type: ignore[union-attr]


def test_modes_and_leverage_cannot_change_with_open_positions():
    acc = _account()
    acc.apply_fill("p1", XRP, "buy", "10", "1", 1)
    before = _state(acc)
    for change in (
        lambda: acc.set_margin_mode(XRP, "cross"),
        lambda: acc.set_position_mode(XRP, "hedge"),
        lambda: acc.set_leverage(XRP, "5"),
    ):
        with pytest.raises(OpenPositionsError):
            change()
    assert _state(acc) == before
    acc.set_margin_mode(BTC_INV, ot.MarginMode.CROSS)  # another symbol, flat: allowed
    acc.apply_fill("p2", XRP, "sell", "10", "1", 2)
    acc.set_position_mode(XRP, "hedge")
    acc.set_margin_mode(XRP, "cross")
    assert acc.settings(XRP)[1:] == (MarginMode.CROSS, PositionMode.HEDGE)
    with pytest.raises(ConfigurationError):
        acc.set_margin_mode(XRP, "portfolio")


# ---------------------------------------------------------------- funding
def test_funding_longs_pay_a_positive_rate_and_shorts_receive_it_once():
    acc = _account(position_mode="hedge")
    acc.apply_fill("a", XRP, "buy", "100", "1", 1, position_side="long")
    acc.apply_fill("b", XRP, "sell", "40", "1", 1, position_side="short")
    payments = acc.apply_funding(XRP, "0.0001", "1.5", 28_800_000)
    assert [(p.side, p.amount) for p in payments] == [  # what is received first, then what is paid
        (PositionSide.SHORT, D("0.006")),
        (PositionSide.LONG, D("-0.015")),
    ]
    assert acc.apply_funding(XRP, "0.0001", "1.5", 28_800_000) == []  # same funding time: not paid twice
    negative = acc.apply_funding(XRP, "-0.0002", "1", 57_600_000)
    assert [p.amount for p in negative] == [D("0.02"), D("-0.008")]
    assert acc.transactions.total(TransactionType.FUNDING_FEE, "USDT") == D("-0.015") + D("0.006") + D("0.012")
    assert acc.wallet("USDT") == D(1000) + D("0.003")


# ---------------------------------------------------------------- liquidation
def test_isolated_liquidation_on_the_path_loses_exactly_the_initial_margin():
    acc = _account()
    acc.apply_fill("l1", XRP, "buy", "100", "1.2", 1)
    pos = acc.get(XRP)
    assert pos is not None and pos.liquidation_price is not None
    assert acc.check_isolated_liquidation(XRP, ["1.2", "1.1", "1.3"], 2) == []
    wallet = acc.wallet("USDT")
    [liq] = acc.check_isolated_liquidation(XRP, ["1.2", "1.3", "1.0", "1.1"], 3)
    assert (liq.side, liq.size, liq.price, liq.margin_lost) == (PositionSide.LONG, D(100), pos.liquidation_price, D(12))
    assert acc.wallet("USDT") == wallet - 12 and acc.get(XRP) is None
    assert acc.transactions.has(f"liquidation:{XRP}:long:3")


def test_a_one_x_long_has_no_liquidation_price():
    acc = _account(leverage="1")
    acc.apply_fill("l1", XRP, "buy", "10", "1", 1)
    assert acc.get(XRP).liquidation_price is None  # type: ignore[union-attr]


def test_cross_liquidation_closes_every_cross_position_and_never_makes_the_wallet_negative():
    acc = _account(margin_mode="cross", usdt="20")
    acc.apply_fill("c1", XRP, "buy", "100", "1", 1)  # IM 10, wallet 20
    acc.update_mark(XRP, "0.85")  # margin balance 5, maintenance 0.34
    assert acc.check_cross_liquidation("USDT", 2) == []
    acc.update_mark(XRP, "0.5")  # margin balance -30 <= maintenance: liquidated, loss capped at the wallet
    [liq] = acc.check_cross_liquidation("USDT", 3)
    assert liq.price == D("0.5") and liq.margin_lost == D(20) and liq.margin_mode is MarginMode.CROSS
    assert acc.wallet("USDT") == 0 and acc.positions() == []


def test_fills_are_applied_once_by_id():
    acc = _account()
    assert acc.apply_fill("same", XRP, "buy", "10", "1", 1, fee_rate="0.001") is not None
    state = _state(acc)
    assert acc.apply_fill("same", XRP, "buy", "10", "1", 1, fee_rate="0.001") is None
    assert _state(acc) == state


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((XRP, "buy", "0", "1", 1), {}, InvalidOrder),
        ((XRP, "buy", "1", "-1", 1), {}, InvalidOrder),
        ((XRP, "buy", 1.0, "1", 1), {}, TypeError),
        ((XRP, "buy", "1", 1.5, 1), {}, TypeError),
        ((XRP, "buy", "1", "1", 1), {"fee_rate": 0.001}, TypeError),
        (("ETH/USDT:USDT", "buy", "1", "1", 1), {}, ConfigurationError),
    ],
)
def test_bad_fills_raise_a_typed_error_and_change_nothing(args, kwargs, error):
    acc = _account()
    before = _state(acc)
    with pytest.raises(error):
        acc.apply_fill("bad", *args, **kwargs)
    assert _state(acc) == before


def test_tiered_liquidation_price_is_solved_in_the_tier_its_notional_falls_in():
    tiers = (MarginTier("100", "0.01"), MarginTier(None, "0.02", "1"))
    acc = FuturesAccount({XRP: ContractSpec(leverage="10", margin_tiers=tiers)}, {"USDT": "1000"})
    acc.apply_fill("big", XRP, "buy", "1000", "1", 1)  # notional 1000: second tier
    big = acc.get(XRP)
    assert big is not None and big.liquidation_price == (D(899) / D(980)).quantize(STEP)
    p = big.liquidation_price
    assert abs((100 + 1000 * (p - 1)) - (1000 * p * D("0.02") - 1)) < D("1e-14")  # margin + PnL = maintenance
    acc.apply_fill("close", XRP, "sell", "1000", "1", 2)
    acc.apply_fill("small", XRP, "buy", "50", "1", 3)  # notional 50: first tier
    small = acc.get(XRP)
    assert small is not None and small.liquidation_price == (D(45) / D("49.5")).quantize(STEP)
    assert small.maintenance_margin == D("0.5")


def test_cross_liquidation_leaves_the_isolated_margins_in_the_wallet():
    eth = "ETH/USDT:USDT"
    acc = FuturesAccount(
        {
            XRP: ContractSpec(leverage="10", maintenance_margin_rate="0.004"),
            eth: ContractSpec(leverage="10", maintenance_margin_rate="0.004", margin_mode="cross"),
        },
        {"USDT": "30"},
    )
    acc.apply_fill("iso", XRP, "buy", "100", "1", 1)  # isolated margin 10
    acc.apply_fill("x", eth, "sell", "10", "10", 1)  # cross margin 10
    acc.update_mark(eth, "14")  # cross PnL -40: margin balance 30 - 10 - 40 < maintenance
    [liq] = acc.check_cross_liquidation("USDT", 2)
    assert liq.symbol == eth and liq.margin_lost == D(20)
    assert acc.wallet("USDT") == D(10) and acc.get(XRP) is not None  # the isolated position and its margin stay


def test_a_venue_position_keeps_its_margin_mode():
    from octobot_trading.exchanges.types import ExchangePosition
    from octobot_trading.personal_data.positions.position import Position

    raw = ExchangePosition(XRP, "short", D(3), D(1), D(1), D(0), D(5), "Isolated", D(2), 7)
    position = Position.from_exchange(raw)
    assert position.margin_mode is MarginMode.ISOLATED and position.size == D(3)
    odd = ExchangePosition(XRP, "long", D(3), D(1), D(1), D(0), D(5), "portfolio", None, 7)
    assert Position.from_exchange(odd).margin_mode is None


def test_contract_fills_get_no_spot_fifo_pnl_from_the_transactions_manager():
    from octobot_trading.enums import OrderType
    from octobot_trading.personal_data import Trade, TradesManager, TransactionsManager

    trades = TradesManager()
    trades.add(Trade("t1", "o1", "x1", XRP, OrderSide.BUY, OrderType.MARKET, D(1), D(100), D("0.04"), "USDT", 1))
    trades.add(Trade("t2", "o2", "x2", XRP, OrderSide.SELL, OrderType.MARKET, D(2), D(300), D("0.24"), "USDT", 2))
    ledger = TransactionsManager(trades)
    assert ledger.transactions(TransactionType.REALISED_PNL) == []  # a short of 200 was opened, no spot sale
    assert ledger.total(TransactionType.TRADING_FEE, "USDT") == D("-0.28")


def test_reserving_again_under_one_order_id_replaces_the_reservation():
    acc = _account(usdt="20")
    assert acc.reserve("o1", XRP, "buy", "150", "1") == D(15)
    assert acc.reserve("o1", XRP, "buy", "180", "1") == D(18)  # not 15 + 18: the first one is replaced
    assert acc.available("USDT") == D(2)


def test_liquidation_bounds_give_a_float_pre_check_that_follows_the_positions():
    acc = _account(position_mode="hedge", leverage="20")
    assert acc.liquidation_bounds(XRP) == (float("-inf"), float("inf"))
    acc.apply_fill("l", XRP, "buy", "100", "1.2", 1, position_side="long")
    acc.apply_fill("s", XRP, "sell", "100", "1.2", 1, position_side="short")
    long_liq = acc.get(XRP, PositionSide.LONG).liquidation_price
    short_liq = acc.get(XRP, PositionSide.SHORT).liquidation_price
    assert long_liq is not None and short_liq is not None
    low, high = acc.liquidation_bounds(XRP)
    assert low > float(long_liq) - 1e-12 and D(repr(low)) >= long_liq  # never below the exact price
    assert high < float(short_liq) + 1e-12 and D(repr(high)) <= short_liq
    [liq] = acc.check_isolated_liquidation(XRP, [long_liq], 2)
    assert liq.side is PositionSide.LONG
    assert acc.liquidation_bounds(XRP) == (float("-inf"), high)  # recomputed once the long is gone


def test_revaluing_a_position_at_a_mark_changes_only_mark_pnl_and_maintenance_margin() -> None:
    spec = ContractSpec(contract_size="10", maintenance_margin_rate="0.004").for_symbol(XRP)
    position = Position(
        XRP,
        PositionSide.SHORT,
        D("3"),
        D("1.25"),
        D("1.2"),
        D("1.5"),
        D("5"),
        D("1.49"),
        1_700_000_000_000,
        MarginMode.ISOLATED,
        D("7.5"),
        D("0.144"),
        D("-0.3"),
    )
    revalued = valued(spec, position, D("1.3"))
    expected = replace(position, mark_price=D("1.3"), unrealized_pnl=D("-1.5"), maintenance_margin=D("0.156"))
    assert revalued == expected
    assert all(getattr(revalued, f.name) == getattr(expected, f.name) for f in fields(Position))
