"""A placement the venue certainly did not process is a refusal: typed error, nothing reserved or kept."""

from __future__ import annotations

import pytest

from octobot_trading.enums import OrderSide, OrderType
from octobot_trading.errors import NetworkError, RateLimitExceeded
from tests.personal_data.live_venue import assert_matches_exchange
from tests.personal_data.live_venue import live as live

ORDER_PATH = "/api/v3/order"


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limited_placement_raises_and_reserves_nothing(live, status):
    server, connector, personal, trader = live
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    available_before = usdt.available
    server.faults.status(status, method="POST", path=ORDER_PATH, retry_after=1)
    with pytest.raises(RateLimitExceeded) as excinfo:
        await trader.create_order(OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", amount="0.001", price="20000")
    assert excinfo.value.not_processed
    assert usdt.available == available_before
    assert not personal.orders_manager.all_orders()
    assert not personal.orders_manager.in_flight()
    assert not server.state.orders  # the venue holds nothing
    if status == 429:  # (after a 418 the venue's ban pauses every request of this connector)
        await assert_matches_exchange(connector, personal)


async def test_placement_whose_connection_cannot_be_made_raises_and_reserves_nothing(live):
    server, connector, personal, trader = live
    usdt = personal.portfolio_manager.portfolio.get_currency_portfolio("USDT")
    available_before = usdt.available
    await connector.load_markets()
    # point the client at a closed loopback port: the connection is refused before any byte is sent
    api = connector.client.urls["api"]
    for key, url in list(api.items()):
        if isinstance(url, str):
            api[key] = url.replace(f":{server.port}", ":1")
    with pytest.raises(NetworkError) as excinfo:
        await trader.create_order(OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", amount="0.001", price="20000")
    assert excinfo.value.not_processed
    assert usdt.available == available_before
    assert not personal.orders_manager.all_orders()
    assert server.faults.count("POST", ORDER_PATH) == 0


async def test_ambiguous_placement_still_stays_in_flight(live):
    server, connector, personal, trader = live
    server.faults.status_after(500)  # processed, then answered with a server error
    order = await trader.create_order(OrderType.LIMIT, OrderSide.BUY, "BTC/USDT", amount="0.001", price="20000")
    # found again by its client order id: the venue has it, and so do we
    assert order.exchange_order_id is not None
    assert server.faults.count("POST", ORDER_PATH) == 1
    await assert_matches_exchange(connector, personal)
