"""The simulated venue's average fill price of a contract order, and the cost of a contract fill.

A contract fill's ``Trade.cost`` is its notional in the settle currency: contracts x contract size
x price (linear), contracts x contract size / price (inverse).

An inverse contract's entry price is the contract-weighted harmonic mean of its fill prices
(docs/futures.md); the order's average fill price follows the same rule, while a linear
contract's stays the contract-weighted arithmetic mean.
"""

from __future__ import annotations

from decimal import Decimal as D

from octobot_trading.enums import OrderSide, OrderStatus, OrderType
from octobot_trading.personal_data.positions.contract_math import ACCOUNTING_STEP
from octobot_trading.personal_data.trades.trade import Trade
from octobot_trading.storage.codec import trade_from_row, trade_row
from octobot_trading.util.contract_spec import ContractSpec
from octobot_trading.util.decimals import divide_to_step
from octobot_trading.util.fees import Fees
from tests.personal_data.helpers import SimAccount, make_account

INVERSE = "BTC/USD:BTC"
LINEAR = "BTC/USDT:USDT"


async def _account(symbol: str, wallet: dict[str, str], contract_size: str) -> SimAccount:
    spec = ContractSpec(
        contract_size=contract_size,
        leverage="5",
        maintenance_margin_rate="0.004",
        price_tick="0.5",
        amount_step="1",
    )
    return await make_account(
        wallet,
        markets={symbol: spec},
        prices={symbol: "100"},
        contracts={symbol: spec},
        fees=Fees(maker="0", taker="0"),
        partial_fill_fraction="0.5",
    )


async def _two_fills(acc: SimAccount, symbol: str):
    """A stop-market buy of 3 triggered at 90 and filled 2 there, its rest filled at market at the
    next candle's open, 95 (partial fills: at most half the candle's volume)."""
    acc.prices[symbol] = D(80)
    order = await acc.trader.create_order("stop_loss", "buy", symbol, "3", trigger_price="90")
    await acc.candle("85", "91", "84", "90", symbol=symbol, volume="4")
    assert order.filled == D(2)
    await acc.candle("95", "96", "94", "95", symbol=symbol, volume="10")
    assert order.status is OrderStatus.CLOSED and order.filled == D(3)
    assert order.exchange_order_id is not None
    return order, await acc.connector.fetch_order(order.exchange_order_id, symbol)


async def test_inverse_order_average_fill_price_is_the_contract_weighted_harmonic_mean():
    acc = await _account(INVERSE, {"BTC": "10"}, "100")
    _, venue_order = await _two_fills(acc, INVERSE)
    # 3 contracts / (2 / 90 + 1 / 95) = 25650 / 280, rounded once to the accounting step
    expected = divide_to_step(D(25650), D(280), ACCOUNTING_STEP)
    assert venue_order.average == expected
    assert expected != (D(2) * D(90) + D(95)) / D(3)  # not the arithmetic mean
    # the position's entry price is the accounting's harmonic mean (each quotient rounded to the
    # step): the same to 1e-15
    position = acc.connector.positions_snapshot()[0]
    assert position.entry_price is not None and abs(position.entry_price - expected) < D("1e-15")


async def test_linear_order_average_fill_price_stays_the_contract_weighted_mean():
    acc = await _account(LINEAR, {"USDT": "100000"}, "1")
    _, venue_order = await _two_fills(acc, LINEAR)
    assert venue_order.average == (D(2) * D(90) + D(95)) / D(3)


async def test_a_linear_contract_fill_costs_its_notional_contracts_times_size_times_price():
    acc = await _account(LINEAR, {"USDT": "100000"}, "10")
    acc.prices[LINEAR] = D(100)
    order = await acc.trader.create_order("market", "buy", LINEAR, "3")
    (trade,) = acc.personal.trades_manager.for_order(order.id)
    assert trade.contract_size == D(10)
    assert trade.cost == D(3) * D(10) * trade.price  # 3 contracts of 10 base units each


async def test_an_inverse_contract_fill_costs_its_notional_in_the_settle_currency():
    acc = await _account(INVERSE, {"BTC": "10"}, "100")
    acc.prices[INVERSE] = D(80)
    order = await acc.trader.create_order("market", "buy", INVERSE, "3")
    (trade,) = acc.personal.trades_manager.for_order(order.id)
    # 3 contracts of 100 USD at 80: 300 / 80 = 3.75 BTC
    assert trade.cost == divide_to_step(D(300), trade.price, ACCOUNTING_STEP) == D("3.75")


def test_a_contract_fill_keeps_its_cost_through_storage():
    trade = Trade(
        id="t1",
        order_id="o1",
        exchange_order_id="sim-1",
        symbol=INVERSE,
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        price=D(80),
        amount=D(3),
        fee=D(0),
        fee_currency="BTC",
        timestamp=1,
        contract_size=D(100),
    )
    restored = trade_from_row(trade_row(trade))
    assert restored == trade and restored.cost == D("3.75")
    spot = Trade("t2", "o2", None, "BTC/USDT", OrderSide.BUY, OrderType.MARKET, D(80), D(3), D(0), "USDT", 1)
    assert trade_from_row(trade_row(spot)).cost == D(240)
