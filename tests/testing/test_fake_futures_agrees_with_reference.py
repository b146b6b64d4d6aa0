"""The fake USDⓈ-M venue, read through the real ccxt client, agrees with the plain-Decimal reference.

Random sequences of market orders (with ``reduceOnly`` / ``positionSide``), last-price and
mark-price moves and funding events are sent to the venue through ccxt ``binanceusdm`` and
applied to the independent reference of docs/futures.md (``tests/personal_data/futures_reference.py``,
which shares no code with the library). After every event the venue's wallet, positions
(contracts, side, entry, liquidation price, unrealized PnL, as the exact strings of its replies)
and liquidations equal the reference's, and an order the reference refuses is refused with the
matching Binance code.

Positions stay in the first leverage bracket (maintenance rate 0.005, no maintenance amount),
the reference's single maintenance rate.
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st

from octobot_trading.testing import FakeFuturesServer
from octobot_trading.util.decimals import nearest_to_step
from tests.personal_data.futures_reference import Contract, Reference, Refused
from tests.testing.conftest import usdm_client

XRP, XRP_ID = "XRP/USDT:USDT", "XRPUSDT"
START_PRICE, TICK = Decimal("1.2"), Decimal("0.0001")
TAKER = Decimal("0.0004")
FACTORS = [Decimal(x) for x in ("0.6", "0.7", "0.85", "0.93", "0.98", "1.02", "1.07", "1.15", "1.4", "1.6")]
FUNDING_BASE = 1637222400000
_CODES = {-2019: "insufficient", -2022: "reduce_only", -4061: "position_side"}

order_event = st.tuples(
    st.just("order"),
    st.sampled_from(["buy", "sell"]),
    st.integers(10, 1200),
    st.sampled_from(["opening", "opening", "closing", "closing", "wrong"]),  # which position side is named
    st.sampled_from([False, False, False, True]),  # reduceOnly
)
price_event = st.tuples(st.sampled_from(["last", "mark"]), st.sampled_from(FACTORS))
funding_event = st.tuples(st.just("funding"), st.integers(-40, 40).map(lambda n: Decimal(n) * Decimal("0.00001")))
events = st.lists(st.one_of(order_event, order_event, order_event, price_event, funding_event), min_size=8, max_size=24)


def _price(factor: Decimal) -> Decimal:
    return nearest_to_step(START_PRICE * factor, TICK)


async def _place(client: Any, reference: Reference, event: tuple[Any, ...], last: Decimal, hedge: bool) -> None:
    _, side, qty, naming, reduce_only = event
    reduce_only = reduce_only and not hedge  # Binance refuses reduceOnly in hedge mode (closing is by side)
    opening = "long" if side == "buy" else "short"
    position_side = {
        "opening": opening if hedge else None,
        "closing": ("short" if opening == "long" else "long") if hedge else None,
        "wrong": None if hedge else opening,  # hedge mode needs a side, one-way mode refuses one
    }[naming]
    params: dict[str, Any] = {"reduceOnly": True} if reduce_only else {}
    if position_side is not None:
        params["positionSide"] = position_side.upper()
    try:
        reference.fill(XRP, side, Decimal(qty), last, TAKER, reduce_only, position_side)
        expected = None
    except Refused as refused:
        expected = "reduce_only" if refused.reason == "amount" else refused.reason
    try:
        await client.create_order(XRP, "market", side, qty, params=params)
        got = None
    except ccxt_async.ExchangeError as exc:
        code = int(str(exc).split('"code": ')[1].split(",")[0])
        got = _CODES.get(code, str(code))
    assert got == expected, event
    note_event(f"order {'refused: ' + expected if expected else 'filled'}")


async def _compare(client: Any, reference: Reference) -> None:
    balance = await client.fetch_balance()
    (asset,) = balance["info"]["assets"]
    assert Decimal(asset["walletBalance"]) == reference.wallets["USDT"]
    venue = sorted(
        (
            Decimal(p["info"]["positionAmt"]).copy_abs(),
            p["side"],
            Decimal(p["info"]["entryPrice"]),
            Decimal(p["info"]["liquidationPrice"]),
            Decimal(p["info"]["unRealizedProfit"]),
        )
        for p in await client.fetch_positions([XRP])
    )
    expected = sorted(
        (p.contracts, p.side, p.entry, p.liq or Decimal(0), reference.upnl(XRP, p))
        for p in reference.positions.values()
    )
    assert venue == expected


async def _run(sequence: list[tuple[Any, ...]], margin_mode: str, hedge: bool, leverage: int) -> None:
    async with FakeFuturesServer(wallets={"USDT": "300"}) as venue:
        client = usdm_client(venue)
        try:
            await client.load_markets()
            await client.set_leverage(leverage, XRP)
            if margin_mode == "isolated":
                await client.set_margin_mode("isolated", XRP)
            if hedge:
                await client.set_position_mode(True)
            contract = Contract(
                XRP,
                False,
                Decimal(1),
                Decimal(leverage),
                Decimal("0.005"),
                margin_mode,
                "hedge" if hedge else "one_way",
            )
            reference = Reference({XRP: contract}, {"USDT": Decimal(300)})
            last = START_PRICE
            venue.set_last_price(XRP_ID, last)
            venue.set_mark_price(XRP_ID, START_PRICE)
            reference.set_mark(XRP, START_PRICE)
            for index, event in enumerate(sequence):
                if event[0] == "order":
                    await _place(client, reference, event, last, hedge)
                elif event[0] == "last":
                    last = _price(event[1])
                    venue.set_last_price(XRP_ID, last)
                elif event[0] == "mark":
                    mark = _price(event[1])
                    forced = venue.set_mark_price(XRP_ID, mark)
                    reference.set_mark(XRP, mark)
                    liquidated = reference.isolated_liquidations(XRP, [mark]) + reference.cross_liquidations("USDT")
                    assert sorted((f.order.executed_qty, f.order.price) for f in forced) == sorted(
                        (row[2], row[3]) for row in liquidated
                    )
                    if forced:
                        note_event(f"{margin_mode} liquidation")
                else:
                    paid = venue.settle_funding(XRP_ID, rate=event[1], funding_time=FUNDING_BASE + index * 28_800_000)
                    assert sorted(paid) == sorted(amount for _, amount in reference.funding(XRP, event[1]))
                await _compare(client, reference)
        finally:
            await client.close()


EXAMPLES = int(os.environ.get("OT_PROPERTY_EXAMPLES_VENUE", "12"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.sampled_from(["cross", "isolated"]), st.booleans(), st.sampled_from([3, 5]))
def test_the_venue_agrees_with_the_reference_over_random_sequences(
    sequence: list[tuple[Any, ...]], margin_mode: str, hedge: bool, leverage: int
) -> None:
    asyncio.run(_run(sequence, margin_mode, hedge, leverage))
