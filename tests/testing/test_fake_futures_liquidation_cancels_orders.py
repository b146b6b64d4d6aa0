"""A liquidation on the fake USDⓈ-M and COIN-M venues cancels the open orders of the liquidated
position, as the simulated venue does: every open order of the symbol in one-way mode (limit and
conditional orders, their margin released), only those of the liquidated side in hedge mode (the
other side's position and orders are left alone). Seen through the real ccxt ``binanceusdm`` /
``binancecoinm`` clients on loopback (``fetch_order``, ``fetch_open_orders``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.futures_venues import COINM, USDM, VenueKind, venue_client

D = Decimal
#: contracts traded per venue: 100 XRP, or 10 contracts of 100 USD
AMOUNT = {USDM.exchange: 100, COINM.exchange: 10}
KINDS = pytest.mark.parametrize("kind", [USDM, COINM], ids=["usdm", "coinm"])


def _price(client: Any, kind: VenueKind, last: Decimal, factor: str) -> float:
    return float(client.price_to_precision(kind.symbol, last * D(factor)))


async def _liquidate(client: Any, venue: FakeFuturesServer, kind: VenueKind, side: str) -> None:
    """Move the mark 5 % beyond the liquidation price of the ``side`` position; it is liquidated."""
    (position,) = [p for p in await client.fetch_positions([kind.symbol]) if p["side"] == side]
    liquidation = D(str(position["liquidationPrice"]))
    mark = liquidation * (D("0.95") if side == "long" else D("1.05"))
    (forced,) = venue.set_mark_price(kind.venue_id, mark)
    assert forced.auto_close_type == "LIQUIDATION"


async def _status(client: Any, kind: VenueKind, order: dict[str, Any], trigger: bool = False) -> str:
    status: str = (await client.fetch_order(order["id"], kind.symbol, params={"trigger": True} if trigger else {}))[
        "status"
    ]
    return status


async def _open_ids(client: Any, kind: VenueKind, trigger: bool = False) -> set[str]:
    opened = await client.fetch_open_orders(kind.symbol, params={"trigger": True} if trigger else {})
    return {order["id"] for order in opened}


@KINDS
async def test_a_one_way_liquidation_cancels_every_open_order_of_the_symbol(kind: VenueKind) -> None:
    async with kind.server() as venue, venue_client(kind, venue) as client:
        await client.load_markets()
        await client.set_margin_mode("isolated", kind.symbol)
        await client.set_leverage(10, kind.symbol)
        amount = AMOUNT[kind.exchange]
        await client.create_order(kind.symbol, "market", "buy", amount)
        last = venue.market(kind.venue_id).last_price
        grow = await client.create_order(kind.symbol, "limit", "buy", amount, _price(client, kind, last, "0.8"))
        exit_ = await client.create_order(
            kind.symbol, "limit", "sell", amount, _price(client, kind, last, "1.25"), params={"reduceOnly": True}
        )
        stop = await client.create_order(
            kind.symbol, "market", "sell", amount, params={"stopLossPrice": _price(client, kind, last, "0.5")}
        )
        assert await _open_ids(client, kind) == {grow["id"], exit_["id"]}
        assert await _open_ids(client, kind, trigger=True) == {stop["id"]}

        await _liquidate(client, venue, kind, "long")

        assert [await _status(client, kind, order) for order in (grow, exit_)] == ["canceled", "canceled"]
        assert await _status(client, kind, stop, trigger=True) == "canceled"
        assert await _open_ids(client, kind) == set() and await _open_ids(client, kind, trigger=True) == set()
        assert await client.fetch_positions([kind.symbol]) == []
        balance = (await client.fetch_balance())[kind.margin_asset]
        assert D(str(balance["free"])) == D(str(balance["total"]))  # no margin held by the canceled orders
        futures = venue.futures_account().futures
        assert futures.available(kind.margin_asset) == futures.wallet(kind.margin_asset)


@KINDS
async def test_a_hedge_mode_liquidation_cancels_the_orders_of_the_liquidated_side_only(kind: VenueKind) -> None:
    async with kind.server() as venue, venue_client(kind, venue) as client:
        await client.load_markets()
        await client.set_position_mode(True, kind.symbol)
        await client.set_margin_mode("isolated", kind.symbol)
        await client.set_leverage(10, kind.symbol)
        amount = AMOUNT[kind.exchange]
        await client.create_order(kind.symbol, "market", "buy", amount, params={"positionSide": "LONG"})
        await client.create_order(kind.symbol, "market", "sell", amount, params={"positionSide": "SHORT"})
        last = venue.market(kind.venue_id).last_price
        low, high = _price(client, kind, last, "0.8"), _price(client, kind, last, "1.25")
        long_grow = await client.create_order(kind.symbol, "limit", "buy", amount, low, params={"positionSide": "LONG"})
        long_exit = await client.create_order(
            kind.symbol, "limit", "sell", amount, high, params={"positionSide": "LONG"}
        )
        short_exit = await client.create_order(
            kind.symbol, "limit", "buy", amount, low, params={"positionSide": "SHORT"}
        )
        short_grow = await client.create_order(
            kind.symbol, "limit", "sell", amount, high, params={"positionSide": "SHORT"}
        )
        long_stop = await client.create_order(
            kind.symbol,
            "market",
            "sell",
            amount,
            params={"positionSide": "LONG", "stopLossPrice": _price(client, kind, last, "0.5")},
        )
        short_stop = await client.create_order(
            kind.symbol,
            "market",
            "buy",
            amount,
            params={"positionSide": "SHORT", "stopLossPrice": _price(client, kind, last, "1.5")},
        )
        reserved = venue.futures_account().futures.available(kind.margin_asset)

        await _liquidate(client, venue, kind, "long")

        assert [await _status(client, kind, o) for o in (long_grow, long_exit)] == ["canceled", "canceled"]
        assert await _status(client, kind, long_stop, trigger=True) == "canceled"
        assert [await _status(client, kind, o) for o in (short_exit, short_grow)] == ["open", "open"]
        assert await _status(client, kind, short_stop, trigger=True) == "open"
        assert await _open_ids(client, kind) == {short_exit["id"], short_grow["id"]}
        assert await _open_ids(client, kind, trigger=True) == {short_stop["id"]}
        (short,) = await client.fetch_positions([kind.symbol])
        assert (short["side"], short["contracts"]) == ("short", amount)
        # the canceled long grow released its margin; the short's resting grow keeps its own
        assert venue.futures_account().futures.available(kind.margin_asset) > reserved
