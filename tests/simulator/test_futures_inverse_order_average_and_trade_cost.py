"""The simulated venue's average fill price of a contract order, and the cost of a contract fill.

An inverse contract's entry price is the contract-weighted harmonic mean of its fill prices
(docs/futures.md); the order's average fill price follows the same rule, while a linear
contract's stays the contract-weighted arithmetic mean.
"""

from __future__ import annotations

from decimal import Decimal as D

from octobot_trading.enums import OrderStatus
from octobot_trading.personal_data.positions.contract_math import ACCOUNTING_STEP
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
