"""The ccxt connector's futures calls through the real ccxt ``binanceusdm`` client against the fake
USDⓈ-M venue (loopback): positions equal the venue's own accounting exactly through open, grow,
reduce, flip and close; hedge mode holds both sides; settings, funding, mark prices and
liquidations come back typed and exact; bad input gets a typed error and changes nothing. Stream
positions (user-data ``ACCOUNT_UPDATE`` entries) are checked as ccxt.pro itself parses them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import ccxt.pro as ccxt_pro
import pytest

from octobot_trading import errors
from octobot_trading.enums import MarginMode, OrderSide, OrderType, PositionMode, PositionSide
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.exchanges.connectors.ccxt.futures_parsing import parse_position
from octobot_trading.exchanges.types import ExchangePosition
from octobot_trading.personal_data.positions.position import PositionsManager
from octobot_trading.testing import FakeFuturesServer
from tests.exchanges.usdm_connector import usdm_connector

D = Decimal
XRP = "XRP/USDT:USDT"
_ids = iter(range(1, 10**6))


@pytest.fixture
async def usdm() -> AsyncIterator[tuple[FakeFuturesServer, CCXTConnector]]:
    async with usdm_connector((XRP,), attempts=2) as venue:
        yield venue


async def _trade(connector: CCXTConnector, side: OrderSide, amount: str, **params: object) -> None:
    order = await connector.create_order(
        OrderType.MARKET, side, XRP, D(amount), client_order_id=f"t{next(_ids)}", params=dict(params) or None
    )
    assert order.filled == D(amount)


def _assert_matches_venue(server: FakeFuturesServer, position: ExchangePosition, side: PositionSide) -> None:
    venue = server.futures_account().futures.get(XRP, side)
    assert venue is not None
    assert (position.contracts, position.entry_price, position.leverage) == (
        venue.size,
        venue.entry_price,
        venue.leverage,
    )
    assert (position.liquidation_price, position.initial_margin) == (venue.liquidation_price, venue.initial_margin)
    assert position.margin_mode == (venue.margin_mode.value if venue.margin_mode else None)


async def _only_position(connector: CCXTConnector) -> ExchangePosition:
    positions = await connector.fetch_positions([XRP])
    assert len(positions) == 1
    return positions[0]


async def test_one_way_open_grow_reduce_flip_and_close_equal_the_venue_accounting(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    server, connector = usdm
    await connector.set_leverage(XRP, D("5"))
    await connector.set_margin_mode(XRP, MarginMode.ISOLATED)
    assert await connector.fetch_positions() == []

    await _trade(connector, OrderSide.BUY, "100")
    opened = await _only_position(connector)
    assert (opened.side, opened.hedged, opened.leverage, opened.margin_mode) == ("long", False, D(5), "isolated")
    _assert_matches_venue(server, opened, PositionSide.LONG)

    await _trade(connector, OrderSide.BUY, "50")
    grown = await _only_position(connector)
    assert grown.contracts == D(150)
    _assert_matches_venue(server, grown, PositionSide.LONG)

    await _trade(connector, OrderSide.SELL, "30", reduceOnly=True)
    reduced = await _only_position(connector)
    assert (reduced.contracts, reduced.entry_price) == (D(120), grown.entry_price)  # reducing keeps the entry
    _assert_matches_venue(server, reduced, PositionSide.LONG)

    await _trade(connector, OrderSide.SELL, "200")
    flipped = await _only_position(connector)
    assert (flipped.side, flipped.contracts) == ("short", D(80))
    _assert_matches_venue(server, flipped, PositionSide.SHORT)

    await _trade(connector, OrderSide.BUY, "80", reduceOnly=True)
    assert await connector.fetch_positions([XRP]) == []
    assert server.futures_account().futures.get(XRP) is None


async def test_hedge_mode_holds_a_long_and_a_short_of_one_symbol(usdm: tuple[FakeFuturesServer, CCXTConnector]) -> None:
    server, connector = usdm
    await connector.set_position_mode(XRP, PositionMode.HEDGE)
    await connector.set_position_mode(XRP, PositionMode.HEDGE)  # "no need to change": success
    await _trade(connector, OrderSide.BUY, "100", positionSide="long")
    await _trade(connector, OrderSide.SELL, "40", positionSide="short")
    positions = {p.side: p for p in await connector.fetch_positions([XRP])}
    assert set(positions) == {"long", "short"} and all(p.hedged for p in positions.values())
    assert (positions["long"].contracts, positions["short"].contracts) == (D(100), D(40))
    _assert_matches_venue(server, positions["long"], PositionSide.LONG)
    _assert_matches_venue(server, positions["short"], PositionSide.SHORT)

    await _trade(connector, OrderSide.SELL, "100", positionSide="long")  # closes the long only
    remaining = await _only_position(connector)
    assert (remaining.side, remaining.contracts) == ("short", D(40))
    with pytest.raises(errors.OpenPositionsError):
        await connector.set_position_mode(XRP, PositionMode.ONE_WAY)


async def test_settings_already_set_succeed_and_changes_with_a_position_are_refused(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    _, connector = usdm
    await connector.set_margin_mode(XRP, MarginMode.CROSS)  # the venue's default: "no need to change"
    await connector.set_position_mode(XRP, PositionMode.ONE_WAY)
    await connector.set_leverage(XRP, D("10"))
    await _trade(connector, OrderSide.BUY, "100")
    with pytest.raises(errors.OpenPositionsError):
        await connector.set_margin_mode(XRP, MarginMode.ISOLATED)
    with pytest.raises(errors.OpenPositionsError):
        await connector.set_position_mode(XRP, PositionMode.HEDGE)
    position = await _only_position(connector)
    assert (position.margin_mode, position.leverage) == ("cross", D(10))


async def test_bad_futures_input_raises_typed_errors_and_changes_nothing(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    server, connector = usdm
    await _trade(connector, OrderSide.BUY, "100")
    before = await _only_position(connector)
    wallet = server.futures_account().futures.wallet("USDT")
    with pytest.raises(TypeError):
        await connector.set_leverage(XRP, 5.0)  # type: ignore[arg-type]
    with pytest.raises(errors.ConfigurationError) as zero:
        await connector.set_leverage(XRP, D(0))
    assert zero.value.field == "leverage"
    with pytest.raises(errors.ConfigurationError) as fractional:  # sent as "2.5": Binance takes whole ones
        await connector.set_leverage(XRP, D("2.5"))
    assert fractional.value.field == "leverage"
    assert server.faults.count("POST", "/fapi/v1/leverage") == 0  # refused before any request
    with pytest.raises(errors.ConfigurationError) as too_high:
        await connector.set_leverage(XRP, D(100))  # XRP allows up to 75
    assert too_high.value.field == "leverage"
    with pytest.raises(errors.UnknownSymbol):
        await connector.fetch_positions(["NOPE/USDT:USDT"])
    with pytest.raises(errors.InvalidOrder) as reduce_only:
        await _trade(connector, OrderSide.SELL, "150", reduceOnly=True)  # larger than the position
    assert reduce_only.value.limit == "reduce_only"
    with pytest.raises(errors.InvalidOrder) as wrong_mode:
        await _trade(connector, OrderSide.BUY, "10", positionSide="long")  # hedge side in one-way mode
    assert wrong_mode.value.limit == "position_side"
    with pytest.raises(errors.InsufficientFunds):
        await _trade(connector, OrderSide.BUY, "1000000")
    assert await _only_position(connector) == before
    assert server.futures_account().futures.wallet("USDT") == wallet


async def test_funding_mark_prices_and_liquidations_are_typed_and_exact(
    usdm: tuple[FakeFuturesServer, CCXTConnector],
) -> None:
    server, connector = usdm
    market = server.market("XRPUSDT")
    rate = await connector.fetch_funding_rate(XRP)
    assert rate.mark_price == market.mark_price and rate.next_funding_timestamp == market.next_funding_time()
    history = await connector.fetch_funding_rate_history(XRP, limit=3)  # the events up to the venue's now
    assert history and history == sorted(history, key=lambda r: r.timestamp or 0)
    assert all(isinstance(r.rate, Decimal) and (r.timestamp or 0) <= market.now_ms for r in history)
    mark = await connector.fetch_mark_price(XRP)
    assert mark.mark_price == market.mark_price
    marks = await connector.fetch_mark_ohlcv(XRP, "1h", limit=2)
    assert len(marks) == 2 and marks[0].timestamp < marks[1].timestamp

    await connector.set_margin_mode(XRP, MarginMode.ISOLATED)
    await connector.set_leverage(XRP, D(10))
    await _trade(connector, OrderSide.BUY, "100")
    wallet = server.futures_account().futures.wallet("USDT")
    (paid,) = server.settle_funding("XRPUSDT", "0.001")
    (payment,) = await connector.fetch_funding_history(XRP)
    assert payment.amount == paid < 0 and payment.currency == "USDT"
    assert server.futures_account().futures.wallet("USDT") == wallet + paid

    position = await _only_position(connector)
    assert position.liquidation_price is not None
    (force_order,) = server.set_mark_price("XRPUSDT", position.liquidation_price * D("0.9"))
    assert await connector.fetch_positions([XRP]) == []
    (liquidation,) = await connector.fetch_my_liquidations(XRP)
    assert (liquidation.side, liquidation.contracts) == ("long", D(100))
    assert liquidation.id == str(force_order.order.order_id)


async def test_stream_positions_parsed_by_ccxt_pro_become_typed_closes_and_flips() -> None:
    async with FakeFuturesServer() as server:
        client = ccxt_pro.binanceusdm({"apiKey": server.api_key, "secret": server.api_secret, **server.ccxt_config()})
        server.client_hook(client)
        try:
            await client.load_markets()
            adapter = CCXTAdapter("binanceusdm")

            def update(**raw: str) -> ExchangePosition:  # one ACCOUNT_UPDATE "P" entry, as ccxt.pro parses it
                return parse_position(adapter, client.parse_ws_position({"s": "XRPUSDT", "cr": "0", "iw": "0", **raw}))

            opened = update(pa="100.0", ep="1.1039", up="0.051", mt="isolated", ps="BOTH")
            assert (opened.symbol, opened.side, opened.contracts, opened.hedged) == (XRP, "long", D(100), False)
            assert (opened.entry_price, opened.unrealized_pnl, opened.margin_mode) == (
                D("1.1039"),
                D("0.051"),
                "isolated",
            )
            flipped = update(pa="-80.0", ep="1.1", up="0", mt="isolated", ps="BOTH")
            closed = update(pa="0", ep="0.0", up="0", mt="isolated", ps="BOTH")
            assert (flipped.side, flipped.contracts, closed.side, closed.contracts) == ("short", D(80), "both", D(0))
            hedge_short = update(pa="-5", ep="1.2", up="0", mt="cross", ps="SHORT")
            assert (hedge_short.side, hedge_short.hedged, hedge_short.contracts) == ("short", True, D(5))

            manager = PositionsManager()
            manager.apply_updates([opened])
            manager.apply_updates([flipped])
            local = manager.get(XRP)
            assert local is not None and (local.side, local.size) == (PositionSide.SHORT, D(80))
            manager.apply_updates([closed])
            assert manager.get(XRP) is None
        finally:
            await client.close()
