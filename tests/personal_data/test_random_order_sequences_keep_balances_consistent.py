"""Property tests: random create / cancel / edit / fill / partial fill / price-move sequences.

Invariants checked after every step, on the real trader + simulated connector + portfolio:
no balance is ever negative; ``total - available`` equals what open orders reserve; the local
portfolio equals the simulated exchange's balances; each currency's total equals its start plus
what fills brought in minus what they took out and the fees (conservation); a refused operation
changes nothing; canceling everything restores ``available == total``.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from octobot_trading.enums import OrderSide
from octobot_trading.errors import OctoBotTradingError
from octobot_trading.util.market_spec import MarketSpec
from tests.personal_data.helpers import make_account

D = Decimal
MARKETS = {"BTC/USDT": MarketSpec(price_tick="0.01", amount_step="0.001", min_cost="1")}

prices = st.integers(min_value=5000, max_value=15000).map(lambda v: D(v) / 100)
amounts = st.integers(min_value=1, max_value=3000).map(lambda v: D(v) / 1000)
sides = st.sampled_from(["buy", "sell"])


@st.composite
def candles(draw):
    o, c = draw(prices), draw(prices)
    high = max(o, c) + D(draw(st.integers(0, 2000))) / 100
    low = max(D("0.01"), min(o, c) - D(draw(st.integers(0, 2000))) / 100)
    volume = D(draw(st.integers(1, 5000))) / 1000
    return ("candle", o, high, low, c, volume)


operations = st.one_of(
    st.tuples(st.just("limit"), sides, amounts, prices),
    st.tuples(st.just("stop"), sides, amounts, prices),
    st.tuples(st.just("take_profit"), sides, amounts, prices),
    st.tuples(st.just("trailing"), sides, amounts, st.integers(1, 20).map(D)),
    st.tuples(st.just("market"), sides, amounts),
    st.tuples(st.just("bundle"), amounts, prices, prices),
    st.tuples(st.just("oco"), amounts, prices, prices),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("edit"), st.integers(0, 50), amounts),
    candles(),
)


def _flows(acc) -> dict[str, Decimal]:
    flows: dict[str, Decimal] = {}
    for trade in acc.personal.trades_manager:
        base, quote = trade.symbol.split("/")
        if trade.side is OrderSide.BUY:
            flows[base] = flows.get(base, D(0)) + trade.amount
            flows[quote] = flows.get(quote, D(0)) - trade.cost
        else:
            flows[base] = flows.get(base, D(0)) - trade.amount
            flows[quote] = flows.get(quote, D(0)) + trade.cost
        if trade.fee_currency:
            flows[trade.fee_currency] = flows.get(trade.fee_currency, D(0)) - trade.fee
    return flows


async def _check(acc, start: dict[str, Decimal]) -> None:
    snapshot = acc.portfolio.snapshot()
    for currency, (total, available) in snapshot.items():
        assert total >= 0 and available >= 0, (currency, total, available)
    reserved = acc.personal.orders_manager.reserved_by_open_orders()
    for currency, (total, available) in snapshot.items():
        assert total - available == reserved.get(currency, D(0)), (currency, total, available, reserved)
    await acc.exchange_matches_portfolio()
    flows = _flows(acc)
    for currency in set(snapshot) | set(start):
        assert acc.portfolio.total(currency) == start.get(currency, D(0)) + flows.get(currency, D(0)), currency


async def _run(ops) -> None:
    start = {"USDT": D(20000), "BTC": D(10)}
    acc = await make_account(
        {k: str(v) for k, v in start.items()}, markets=MARKETS, prices={"BTC/USDT": "100"}, partial_fill_fraction="0.5"
    )
    trader = acc.trader
    for op in ops:
        before = (acc.portfolio.snapshot(), len(acc.personal.orders_manager.all_orders()))
        kind = op[0]
        try:
            if kind == "limit":
                await trader.create_order("limit", op[1], "BTC/USDT", op[2], op[3])
            elif kind in ("stop", "take_profit"):
                order_type = "stop_loss" if kind == "stop" else "take_profit"
                await trader.create_order(order_type, op[1], "BTC/USDT", op[2], trigger_price=op[3])
            elif kind == "trailing":
                await trader.create_order("trailing_stop", op[1], "BTC/USDT", op[2], trailing_percent=op[3])
            elif kind == "market":
                await trader.create_order("market", op[1], "BTC/USDT", op[2])
            elif kind == "bundle":  # limit entry with chained, balanced stop-loss / take-profit exits
                low, high = sorted((op[2], op[3]))
                await trader.create_order(
                    "limit", "buy", "BTC/USDT", op[1], (low + high) / 2, stop_loss_price=low, take_profit_price=high
                )
            elif kind == "oco":  # two sells sharing one reservation
                from octobot_trading.personal_data import GroupKind, OrderGroup

                low, high = sorted((op[2], op[3]))
                group = OrderGroup(GroupKind.OCO)
                await trader.create_order("stop_loss", "sell", "BTC/USDT", op[1], trigger_price=low, group=group)
                await trader.create_order("limit", "sell", "BTC/USDT", op[1], high, group=group)
            elif kind == "cancel":
                open_orders = acc.personal.orders_manager.open_orders()
                if open_orders:
                    await trader.cancel_order(open_orders[op[1] % len(open_orders)])
            elif kind == "edit":
                open_orders = acc.personal.orders_manager.open_orders()
                if open_orders:
                    order = open_orders[op[1] % len(open_orders)]
                    await trader.edit_order(order, amount=order.filled + op[2])
            else:
                _, o, h, low, c, volume = op
                await acc.candle(str(o), str(h), str(low), str(c), volume=str(volume))
        except OctoBotTradingError:
            if kind not in ("edit", "cancel", "oco"):
                assert (acc.portfolio.snapshot(), len(acc.personal.orders_manager.all_orders())) == before
        await _check(acc, start)
    await trader.cancel_all_orders()
    for currency, (total, available) in acc.portfolio.snapshot().items():
        assert available == total, currency
    await _check(acc, start)


EXAMPLES = int(os.environ.get("OT_PROPERTY_EXAMPLES", "300"))

#: A partial fill of an OCO sell cancels its sibling holding the shared reservation; the remaining
#: part must stay reserved (a later sell must not take those funds, the rest of the fill must settle).
OCO_PARTLY_FILLED_THEN_MORE_SELLS = [
    ("limit", "sell", D("2.035"), D("50.01")),
    ("limit", "sell", D("2.999"), D("50.01")),
    ("oco", D("1.967"), D("50.00"), D("50.00")),
    ("candle", D("50.01"), D("50.01"), D("50"), D("50.00"), D("1.3")),
    ("limit", "sell", D("3"), D("50.00")),
    ("candle", D("50.00"), D("50"), D("50"), D("50.00"), D("2.634")),
]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=1, max_size=30))
@example(ops=OCO_PARTLY_FILLED_THEN_MORE_SELLS)
def test_random_sequences_keep_the_books_exact(ops):
    asyncio.run(_run(ops))


def test_oco_partly_filled_sell_keeps_its_remaining_reserved_once_the_sibling_is_canceled():
    asyncio.run(_run(OCO_PARTLY_FILLED_THEN_MORE_SELLS))
