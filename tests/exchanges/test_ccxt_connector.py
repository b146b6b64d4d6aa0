"""CCXTConnector with the real ccxt binance client against the fake Binance server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from octobot_trading import errors
from octobot_trading.clock import LiveClock, SimulatedClock
from octobot_trading.enums import OrderSide, OrderStatus, OrderType, TradeType
from octobot_trading.exchanges.connectors.ccxt import CCXTConnector, markets_cache
from octobot_trading.exchanges.types import Balance, Candle, ExchangeOrder, MarketInfo, OrderBook, Ticker
from octobot_trading.testing.fake_exchange import FakeExchangeServer

from .conftest import drive, make_connector

BTC = "BTC/USDT"


def _all_decimal(*values: object) -> bool:
    return all(isinstance(v, Decimal) for v in values)


async def test_markets_are_typed_with_exact_precision(connector: CCXTConnector) -> None:
    markets = await connector.load_markets()
    assert set(markets) == {"BTC/USDT", "ETH/USDT"}
    btc = markets[BTC]
    assert isinstance(btc, MarketInfo)
    assert btc.spec.price_tick == Decimal("0.01") and btc.spec.amount_step == Decimal("0.00001")
    assert btc.spec.min_cost == Decimal("5") and btc.exchange_symbol == "BTCUSDT"


async def test_market_data_calls_are_typed_and_decimal(connector: CCXTConnector, server: FakeExchangeServer) -> None:
    market = server.state.markets["BTCUSDT"]
    ticker = await connector.fetch_ticker(BTC)
    assert isinstance(ticker, Ticker) and ticker.last == market.last_price
    assert _all_decimal(ticker.last, ticker.bid, ticker.ask, ticker.high, ticker.low, ticker.base_volume)
    assert ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask

    candles = await connector.fetch_ohlcv(BTC, "5m", limit=5)
    assert [c.timestamp for c in candles] == [row[0] for row in market.candles[96:101]]
    assert all(isinstance(c, Candle) and _all_decimal(c.open, c.high, c.low, c.close, c.volume) for c in candles)
    assert candles[-1].close == market.candles[100][4]
    since = market.candles[10][0]
    assert (await connector.fetch_ohlcv(BTC, "5m", since=since, limit=3))[0].timestamp == since

    book = await connector.fetch_order_book(BTC, limit=5)
    assert isinstance(book, OrderBook) and len(book.bids) == 5 and len(book.asks) == 5
    assert all(_all_decimal(p, a) for p, a in book.bids + book.asks)
    assert book.bids[0][0] < book.asks[0][0] and book.bids[0][0] > book.bids[1][0]

    tickers = await connector.fetch_tickers([BTC])
    assert list(tickers) == [BTC]


async def test_balance_is_exact(connector: CCXTConnector) -> None:
    balances = await connector.fetch_balance()
    assert balances["USDT"] == Balance(Decimal("10000"), Decimal("0"), Decimal("10000"))
    assert balances["BTC"].total == Decimal("1")


async def test_limit_order_lifecycle(connector: CCXTConnector, server: FakeExchangeServer) -> None:
    order = await connector.create_order(
        OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.0123456"), Decimal("17000.009"), client_order_id="lim-1"
    )
    assert isinstance(order, ExchangeOrder)
    # amount rounded DOWN to the step, buy price DOWN to the tick
    assert (order.amount, order.price, order.status) == (Decimal("0.01234"), Decimal("17000.00"), OrderStatus.OPEN)
    assert order.client_order_id == "lim-1" and order.filled == 0 and order.remaining == Decimal("0.01234")
    balances = await connector.fetch_balance()
    assert balances["USDT"].used == Decimal("0.01234") * Decimal("17000")
    assert balances["USDT"].free + balances["USDT"].used == Decimal("10000")

    assert (await connector.fetch_order(order.id, BTC)).status is OrderStatus.OPEN
    assert (await connector.fetch_order_by_client_id("lim-1", BTC)).id == order.id  # type: ignore[union-attr]
    assert await connector.fetch_order_by_client_id("never-placed", BTC) is None
    assert [o.id for o in await connector.fetch_open_orders(BTC)] == [order.id]
    assert [o.id for o in await connector.fetch_open_orders()] == [order.id]

    canceled = await connector.cancel_order(order.id, BTC)
    assert canceled.status is OrderStatus.CANCELED
    assert await connector.fetch_open_orders() == []
    assert (await connector.fetch_balance())["USDT"] == Balance(Decimal("10000"), Decimal("0"), Decimal("10000"))
    with pytest.raises(errors.OrderNotFound) as caught:
        await connector.cancel_order(order.id, BTC)
    assert caught.value.__cause__ is not None  # chained from the ccxt error
    with pytest.raises(errors.OrderNotFound):
        await connector.fetch_order("999999", BTC)
    closed = await connector.fetch_closed_orders(BTC)
    assert [o.status for o in closed] == [OrderStatus.CANCELED]


async def test_resting_limit_fills_on_a_later_candle(connector: CCXTConnector, server: FakeExchangeServer) -> None:
    market = server.state.markets["BTCUSDT"]
    next_low = market.candles[101][3]
    order = await connector.create_order(
        OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), next_low, client_order_id="rest-1"
    )
    assert order.status is OrderStatus.OPEN
    server.advance()
    filled = await connector.fetch_order(order.id, BTC)
    assert filled.status is OrderStatus.FILLED and filled.filled == Decimal("0.01")
    trades = await connector.fetch_my_trades(BTC)
    assert len(trades) == 1 and trades[0].price == next_low and trades[0].taker_or_maker is TradeType.MAKER
    balances = await connector.fetch_balance()
    assert balances["USDT"].total == Decimal("10000") - Decimal("0.01") * next_low
    assert balances["BTC"].total == Decimal("1") + Decimal("0.01") - Decimal("0.01") * Decimal("0.001")


async def test_market_order_fills_and_moves_balances_exactly(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    last = server.state.markets["BTCUSDT"].last_price
    order = await connector.create_order(
        OrderType.MARKET, OrderSide.SELL, BTC, Decimal("0.25"), client_order_id="mkt-1"
    )
    assert order.status is OrderStatus.FILLED and order.filled == Decimal("0.25") and order.average == last
    trades = await connector.fetch_my_trades()
    assert len(trades) == 1
    trade = trades[0]
    assert trade.order_id == order.id and trade.side is OrderSide.SELL and trade.taker_or_maker is TradeType.TAKER
    assert trade.fee == Decimal("0.25") * last * Decimal("0.001") and trade.fee_currency == "USDT"
    balances = await connector.fetch_balance()
    assert balances["BTC"].total == Decimal("0.75")
    assert balances["USDT"].total == Decimal("10000") + Decimal("0.25") * last - trade.fee
    public = await connector.fetch_recent_trades(BTC)
    assert [(t.price, t.amount) for t in public] == [(last, Decimal("0.25"))]


async def test_unknown_symbol_is_refused_before_any_request(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    await connector.load_markets()
    before = len(server.faults.requests)
    for call in (
        connector.fetch_ticker("DOGE/USDT"),
        connector.fetch_ohlcv("DOGE/USDT", "1h"),
        connector.fetch_order_book("not a symbol"),
        connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, "DOGE/USDT", Decimal(1), Decimal(1), client_order_id="x"
        ),
    ):
        with pytest.raises(errors.UnknownSymbol):
            await call
    assert len(server.faults.requests) == before


@pytest.mark.parametrize(
    ("amount", "price", "limit"),
    [
        ("0.000001", "17000", "amount"),  # rounds down to 0
        ("0.0001", "17000", "min_cost"),  # 1.7 USDT < 5
        ("10000", "17000", "max_amount"),
    ],
)
async def test_orders_off_limits_are_refused_locally(
    connector: CCXTConnector, server: FakeExchangeServer, amount: str, price: str, limit: str
) -> None:
    await connector.load_markets()
    before = server.faults.count("POST", "/api/v3/order")
    with pytest.raises(errors.InvalidOrder) as caught:
        await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, BTC, Decimal(amount), Decimal(price), client_order_id="bad"
        )
    assert caught.value.limit == limit
    assert server.faults.count("POST", "/api/v3/order") == before


async def test_float_money_is_a_type_error(connector: CCXTConnector) -> None:
    with pytest.raises(TypeError):
        await connector.create_order(
            OrderType.LIMIT,
            OrderSide.BUY,
            BTC,
            0.01,  # type: ignore[arg-type]
            Decimal(17000),
            client_order_id="f",
        )


async def test_exchange_side_refusals_are_typed(connector: CCXTConnector) -> None:
    with pytest.raises(errors.InsufficientFunds):
        await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("5"), Decimal("17000"), client_order_id="too-big"
        )
    with pytest.raises(errors.InvalidOrder):  # duplicate client order id (-2010)
        for _ in range(2):
            await connector.create_order(
                OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="dup"
            )


async def test_wrong_key_and_bad_signature_are_authentication_errors(server: FakeExchangeServer) -> None:
    for kwargs in ({"api_key": "not-a-key"}, {"api_secret": "wrong-secret"}):
        conn = make_connector(server, **kwargs)  # type: ignore[arg-type]
        try:
            with pytest.raises(errors.AuthenticationError) as caught:
                await conn.fetch_balance()
            assert "wrong-secret" not in str(caught.value)
        finally:
            await conn.close()


class _SkewedClock(LiveClock):
    """The exchange's clock running ahead of the client's (a real clock, shifted)."""

    def now_ms(self) -> int:
        return super().now_ms() + 120_000


async def test_timestamp_outside_recv_window_is_an_authentication_error() -> None:
    async with FakeExchangeServer(clock=_SkewedClock()) as skewed:
        conn = make_connector(skewed)
        try:
            await conn.load_markets()
            with pytest.raises(errors.AuthenticationError) as caught:  # an order is never re-sent
                await conn.create_order(
                    OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="skewed"
                )
            assert "recvWindow" in str(caught.value)
            assert "USDT" in await conn.fetch_balance()  # a read re-syncs the clock once and succeeds
        finally:
            await conn.close()


async def test_rate_limit_is_retried_with_backoff(server: FakeExchangeServer) -> None:
    clock = SimulatedClock(1_000_000)
    conn = make_connector(server, clock)
    try:
        await conn.load_markets()
        server.faults.status(429, path="/api/v3/ticker/24hr", times=1)
        ticker = await drive(clock, conn.fetch_ticker(BTC))
        assert ticker.last is not None
        assert server.faults.count("GET", "/api/v3/ticker/24hr") == 2
        assert clock.now_ms() - 1_000_000 >= 50  # waited at least half the 0.1 s rate-limit delay

        server.faults.status(429, path="/api/v3/ticker/24hr", times=None)
        with pytest.raises(errors.RateLimitExceeded) as caught:
            await drive(clock, conn.fetch_ticker(BTC))
        assert caught.value.retryable
        assert server.faults.count("GET", "/api/v3/ticker/24hr") == 2 + 3  # bounded: 3 attempts
    finally:
        await conn.close()


async def test_418_and_5xx_map_to_retryable_errors(connector: CCXTConnector, server: FakeExchangeServer) -> None:
    await connector.load_markets()
    server.faults.status(503, path="/api/v3/depth", times=None)
    with pytest.raises(errors.ExchangeUnavailable):
        await connector.fetch_order_book(BTC)
    server.faults.clear()
    server.faults.status(418, path="/api/v3/depth", times=None, retry_after=1)
    with pytest.raises(errors.RateLimitExceeded):  # (then the ban pauses every request of this venue)
        await connector.fetch_order_book(BTC)


async def test_server_down_is_a_network_error_after_bounded_retries() -> None:
    clock = SimulatedClock(0)
    async with FakeExchangeServer() as srv:
        conn = make_connector(srv, clock)
        await conn.load_markets()
    try:  # the server is stopped now
        with pytest.raises(errors.NetworkError) as caught:
            await drive(clock, conn.fetch_ticker(BTC))
        assert caught.value.__cause__ is not None
        assert clock.now_ms() > 0  # it backed off (twice) before giving up
    finally:
        await conn.close()


async def test_lost_response_after_acceptance_finds_the_order_once(server: FakeExchangeServer) -> None:
    conn = make_connector(server, timeout=400)
    try:
        await conn.load_markets()
        server.faults.timeout_after(1.5)
        order = await conn.create_order(
            OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="lost-1"
        )
        assert order.client_order_id == "lost-1" and order.status is OrderStatus.OPEN
        assert server.faults.count("POST", "/api/v3/order") == 1  # never re-sent
        assert len(server.state.orders) == 1

        server.faults.drop_after()
        order2 = await conn.create_order(
            OrderType.MARKET, OrderSide.BUY, BTC, Decimal("0.01"), client_order_id="lost-2"
        )
        assert order2.status is OrderStatus.FILLED
        assert server.faults.count("POST", "/api/v3/order") == 2 and len(server.state.orders) == 2
    finally:
        await conn.close()


async def test_refused_placement_is_reported_and_not_resent(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    await connector.load_markets()
    server.faults.status(502, method="POST", path="/api/v3/order")
    with pytest.raises(errors.AmbiguousOrderOutcome) as caught:  # a 5xx is "status unknown", not a refusal
        await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="refused"
        )
    assert not isinstance(caught.value, errors.NetworkError)  # never a retryable error
    assert server.faults.count("POST", "/api/v3/order") == 1 and server.state.orders == {}
    server.faults.status(429, method="POST", path="/api/v3/order")
    with pytest.raises(errors.RateLimitExceeded):
        await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="limited"
        )
    assert server.faults.count("POST", "/api/v3/order") == 2 and server.state.orders == {}


async def test_ambiguous_when_the_lookup_also_fails(server: FakeExchangeServer) -> None:
    clock = SimulatedClock(0)
    conn = make_connector(server, clock)
    try:
        await conn.load_markets()
        server.faults.drop_after()
        server.faults.status(500, method="GET", path="/api/v3/order", times=None)
        with pytest.raises(errors.AmbiguousOrderOutcome) as caught:
            await drive(
                clock,
                conn.create_order(
                    OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="amb-1"
                ),
            )
        assert caught.value.client_order_id == "amb-1"
        assert server.faults.count("POST", "/api/v3/order") == 1 and len(server.state.orders) == 1
        server.faults.clear()  # later, the order is found by its client order id
        found = await drive(clock, conn.fetch_order_by_client_id("amb-1", BTC))
        assert found is not None and found.client_order_id == "amb-1"
    finally:
        await conn.close()


async def test_cancel_with_lost_response_is_settled_by_lookup(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    order = await connector.create_order(
        OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="c-1"
    )
    server.faults.drop_after(method="DELETE", path="/api/v3/order")
    canceled = await connector.cancel_order(order.id, BTC)
    assert canceled.status is OrderStatus.CANCELED
    assert server.faults.count("DELETE", "/api/v3/order") == 1


async def test_latency_is_tolerated(connector: CCXTConnector, server: FakeExchangeServer) -> None:
    server.faults.latency(0.05, path="/api/v3/ticker/24hr", times=1)
    assert (await connector.fetch_ticker(BTC)).last is not None


async def test_markets_are_shared_process_wide_with_a_ttl(server: FakeExchangeServer) -> None:
    clock = SimulatedClock(0)
    first, second = make_connector(server, clock), make_connector(server, clock)
    try:
        await first.load_markets()
        await second.load_markets()
        assert server.faults.count("GET", "/api/v3/exchangeInfo") == 1
        clock.advance(3_600_001)  # past the one-hour TTL
        await second.load_markets()
        assert server.faults.count("GET", "/api/v3/exchangeInfo") == 2
        await first.load_markets(reload=True)
        assert server.faults.count("GET", "/api/v3/exchangeInfo") == 3
    finally:
        await first.close()
        await second.close()
        markets_cache.clear()


async def test_concurrency_is_bounded_per_connector(server: FakeExchangeServer) -> None:
    import asyncio

    conn = make_connector(server)
    conn._semaphore = asyncio.Semaphore(2)
    in_flight = peak = 0
    real = conn.client.fetch_ticker

    async def counting(*args: object, **kwargs: object) -> object:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await real(*args, **kwargs)
        finally:
            in_flight -= 1

    conn.client.fetch_ticker = counting
    try:
        await conn.load_markets()
        server.faults.latency(0.05, path="/api/v3/ticker/24hr", times=None)
        await asyncio.gather(*(conn.fetch_ticker(BTC) for _ in range(6)))
        assert peak == 2
    finally:
        await conn.close()


async def test_unknown_exchange_and_missing_market_type_are_configuration_errors(server: FakeExchangeServer) -> None:
    from octobot_trading.config import ExchangeConfig
    from octobot_trading.enums import MarketType

    with pytest.raises(errors.ConfigurationError) as caught:
        CCXTConnector(ExchangeConfig(exchange="nosuchexchange"), LiveClock())
    assert caught.value.field == "exchange"
    config = ExchangeConfig(
        exchange="binance", market_type=MarketType.LINEAR, ccxt_options={**server.ccxt_config(), "rateLimit": 1}
    )
    conn = CCXTConnector(config, LiveClock(), client_hook=server.client_hook)
    try:
        with pytest.raises(errors.ConfigurationError) as caught:
            await conn.load_markets()
        assert caught.value.field == "market_type"
    finally:
        await conn.close()


async def test_repr_and_errors_do_not_leak_secrets(server: FakeExchangeServer) -> None:
    conn = make_connector(server, api_secret="s3cr3t-value-xyz")
    try:
        assert "s3cr3t" not in repr(conn)
        with pytest.raises(errors.AuthenticationError) as caught:
            await conn.fetch_balance()
        assert "s3cr3t" not in str(caught.value)
    finally:
        await conn.close()


async def test_exchange_side_filter_failure_names_the_limit(connector: CCXTConnector) -> None:
    # a market order has no local price, so its minimum cost is checked by the exchange (-1013 NOTIONAL)
    with pytest.raises(errors.InvalidOrder) as caught:
        await connector.create_order(
            OrderType.MARKET, OrderSide.BUY, BTC, Decimal("0.0001"), client_order_id="tiny-market"
        )
    assert caught.value.limit == "min_cost"


async def test_dropped_and_timed_out_reads_are_retried(server: FakeExchangeServer) -> None:
    conn = make_connector(server, timeout=300)
    try:
        await conn.load_markets()
        server.faults.drop_before(path="/api/v3/ticker/24hr", times=1)
        assert (await conn.fetch_ticker(BTC)).last is not None
        assert server.faults.count("GET", "/api/v3/ticker/24hr") == 2
        server.faults.latency(0.6, path="/api/v3/depth", times=1)  # longer than the 0.3 s client timeout
        book = await conn.fetch_order_book(BTC, 5)
        assert book.bids and server.faults.count("GET", "/api/v3/depth") == 2
        server.faults.latency(0.6, path="/api/v3/depth", times=None)
        with pytest.raises(errors.RequestTimeout):
            await conn.fetch_order_book(BTC, 5)
        assert server.faults.count("GET", "/api/v3/depth") == 2 + 3
    finally:
        await conn.close()


async def test_close_releases_the_http_session(server: FakeExchangeServer) -> None:
    conn = make_connector(server)
    await conn.fetch_ticker(BTC)
    session = conn.client.session
    assert session is not None and not session.closed
    await conn.close()
    await conn.close()  # idempotent
    assert session.closed


async def test_accepted_order_with_unreadable_reply_stays_in_flight(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    class Garbled(type(connector.adapter)):  # type: ignore[misc]
        def fix_order(self, raw: dict[str, object]) -> dict[str, object]:
            return {**raw, "amount": "not-a-number"}

    connector.adapter = Garbled("binance")
    with pytest.raises(errors.AmbiguousOrderOutcome) as caught:
        await connector.create_order(
            OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="garbled-1"
        )
    assert caught.value.client_order_id == "garbled-1"
    assert isinstance(caught.value.__cause__, errors.BadExchangeResponse)
    assert len(server.state.orders) == 1  # it is on the exchange; the caller looks it up later


async def test_order_still_queued_at_the_exchange_is_ambiguous_then_found(server: FakeExchangeServer) -> None:
    import asyncio

    conn = make_connector(server, timeout=300)
    try:
        await conn.load_markets()
        # the exchange only processes the order 0.8 s later, after the client gave up and looked it up
        server.faults.latency(0.8, method="POST", path="/api/v3/order", times=1)
        with pytest.raises(errors.AmbiguousOrderOutcome) as caught:
            await conn.create_order(
                OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="queued-1"
            )
        assert caught.value.client_order_id == "queued-1"
        assert isinstance(caught.value.__cause__, errors.RequestTimeout)
        for _ in range(600):  # the exchange finishes processing it (bounded wait: 30 s)
            if server.state.orders:
                break
            await asyncio.sleep(0.05)
        found = await conn.fetch_order_by_client_id("queued-1", BTC)
        assert found is not None and found.status is OrderStatus.OPEN
        assert server.faults.count("POST", "/api/v3/order") == 1
    finally:
        await conn.close()


async def test_refused_connection_on_placement_is_not_ambiguous() -> None:
    clock = SimulatedClock(0)
    async with FakeExchangeServer() as srv:
        conn = make_connector(srv, clock)
        await conn.load_markets()
    try:  # the server is gone: the request could not even be sent
        with pytest.raises(errors.ExchangeUnavailable):
            await drive(
                clock,
                conn.create_order(
                    OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="refused-1"
                ),
            )
    finally:
        await conn.close()


async def test_placement_answered_5xx_but_processed_is_found_not_placed_twice(
    connector: CCXTConnector, server: FakeExchangeServer
) -> None:
    """The venue placed the order and answered 500: the lookup finds it; nothing re-sent."""
    await connector.load_markets()
    server.faults.status_after(500)
    order = await connector.create_order(
        OrderType.LIMIT, OrderSide.BUY, BTC, Decimal("0.01"), Decimal("17000"), client_order_id="placed-500"
    )
    assert order.client_order_id == "placed-500" and order.status is OrderStatus.OPEN
    assert server.faults.count("POST", "/api/v3/order") == 1 and len(server.state.orders) == 1
