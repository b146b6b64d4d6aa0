"""A resting contract order reserves, at the venue's accounting, the initial margin and fee of the
contracts it opens at its own price: in cross margin a limit order far from the mark gets no credit
from the unrealized profit it would show at today's mark (it would not exist when the order
fills there), so the cross wallet can never be promised twice over to resting orders."""

from __future__ import annotations

import copy
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octobot_trading.enums import MarginMode, OrderSide
from octobot_trading.errors import InsufficientFunds
from octobot_trading.personal_data.positions.accounting import FuturesAccount
from octobot_trading.util.contract_spec import ContractSpec

XRP = "XRP/USDT:USDT"
BTC_INV = "BTC/USD:BTC"
FEE = D("0.0004")


def _cross(usdt: str = "1000") -> FuturesAccount:
    account = FuturesAccount(
        {
            XRP: ContractSpec(
                leverage="10", max_leverage="50", maintenance_margin_rate="0.004", margin_mode=MarginMode.CROSS
            ),
            BTC_INV: ContractSpec(
                contract_size="100", leverage="5", maintenance_margin_rate="0.005", margin_mode=MarginMode.CROSS
            ),
        },
        {"USDT": usdt, "BTC": "1"},
    )
    account.update_mark(XRP, "1")
    account.update_mark(BTC_INV, "50000")
    return account


@pytest.mark.parametrize(
    ("side", "price", "needed"),
    [
        (OrderSide.BUY, "0.5", D("50") + D("500") * FEE),  # far below the mark: no credit for 0.5/contract
        (OrderSide.SELL, "2", D("200") + D("2000") * FEE),  # far above the mark: same
        (OrderSide.BUY, "1", D("100") + D("1000") * FEE),  # at the mark
        (OrderSide.BUY, "1.5", D("150") + D("1500") * FEE + D("500")),  # above: the loss at the mark counts
    ],
)
def test_a_cross_limit_order_reserves_its_initial_margin_and_fee_at_its_own_price(
    side: OrderSide, price: str, needed: D
) -> None:
    account = _cross()
    assert account.check_order(XRP, side, "1000", price, fee_rate=FEE) == needed
    assert account.reserve("o1", XRP, side, "1000", price, fee_rate=FEE) == needed
    assert account.available("USDT") == D("1000") - needed


def test_an_inverse_cross_limit_order_far_below_the_mark_reserves_its_margin() -> None:
    account = _cross()
    # 10 contracts of 100 USD at 25000: 0.04 BTC notional, 0.008 BTC margin at leverage 5
    reserved = account.reserve("o1", BTC_INV, OrderSide.BUY, "10", "25000", fee_rate=FEE)
    assert reserved == D("0.008") + D("0.04") * FEE


def test_resting_cross_orders_far_from_the_mark_cannot_promise_the_wallet_twice() -> None:
    account = _cross("100")
    account.reserve("o1", XRP, OrderSide.BUY, "1000", "0.5", fee_rate=FEE)  # 50.2
    with pytest.raises(InsufficientFunds):
        account.reserve("o2", XRP, OrderSide.BUY, "1000", "0.5", fee_rate=FEE)
    assert account.available("USDT") == D("100") - D("50.2")


orders = st.lists(
    st.tuples(
        st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        st.integers(min_value=1, max_value=3000),  # contracts
        st.integers(min_value=2500, max_value=40000),  # price in 1/10000 USDT around a mark of 1
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(orders=orders, mark=st.integers(min_value=5000, max_value=20000))
def test_every_reserved_cross_order_can_fill_at_its_price_and_available_stays_non_negative(
    orders: list[tuple[OrderSide, int, int]], mark: int
) -> None:
    account = _cross("200")
    account.update_mark(XRP, D(mark) / 10000)
    reserved: list[tuple[str, OrderSide, int, D]] = []
    for number, (side, contracts, ticks) in enumerate(orders):
        price = D(ticks) / 10000
        try:
            account.reserve(f"o{number}", XRP, side, contracts, price, fee_rate=FEE)
        except InsufficientFunds:
            continue
        reserved.append((f"o{number}", side, contracts, price))
        assert account.available("USDT") >= 0
    for order_id, side, contracts, price in reserved:  # each one alone, the others still resting
        filled = copy.deepcopy(account)
        filled.update_mark(XRP, price)  # the market is at the order's price when it fills
        filled.apply_fill(f"f-{order_id}", XRP, side, contracts, price, 1, fee_rate=FEE, order_id=order_id)
        assert filled.available("USDT") >= 0
