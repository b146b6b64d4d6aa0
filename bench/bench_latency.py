"""Reaction latency of the live engine against the fake Binance server on loopback.

Two paths, each measured per event in the same run as the time spent in ccxt and on the wire:

* **fill -> chained exit**: a resting limit buy with a bundled take-profit is filled on the venue;
  the fill's ``executionReport`` arrives on the private stream (ccxt.pro ``watch_my_trades`` /
  ``watch_orders``), goes through ``AccountStreams`` and ``OrdersManager.apply_exchange_update``,
  the entry's fill hook submits the take-profit, and the trader sends it through ``RestExchange``
  and the ccxt connector;
* **ticker -> mode order**: a ticker event on the public stream goes through the market-data
  updater, the ticker channel, a trading mode's producer, the mode channel and its consumer,
  which sends a market order through the trader.

Timestamps (``time.perf_counter``), all in this one process:

* ``t0``: ccxt.pro's ``handle_message`` is entered with the event (the wire and JSON decoding
  are behind us); ``t1``: it returns (ccxt parsed the event and woke its watchers);
* ``t2``: the ccxt REST client's ``create_order`` is entered (the engine hands the request to
  ccxt); ``t3``: ccxt's ``fetch`` is entered with the POST (the request leaves ccxt for aiohttp).

Engine overhead = ``t2 - t1`` (the event loop waking the watcher, the adapter, the update path,
hooks, the trader's checks, ``RestExchange``, the connector); ccxt = ``(t1 - t0) + (t3 - t2)``;
the wire (venue queued the event -> ccxt got it) is reported for the private stream.

Run: ``python bench/bench_latency.py [N]`` (default 300 events per path, after 20 warm-up ones).
Goal: engine overhead median <= 1 ms, p99 <= 5 ms.

It first measures what refusing absurd money input costs at ``to_decimal`` (``"1e30"``, ``10**30``,
26 nines, ``"-1e999999999"``...): microseconds per value, against ``to_decimal("1.5")`` in the
same run; and the engine's CPU per depth update of a 1,000-level streamed book (parsing ccxt's book
into Decimals, from the previous book's levels, against a full parse in the same run; applying it
to the symbol's book), work a ticker that arrives right after a depth update waits behind.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import timeit
from decimal import ROUND_CEILING, Decimal
from functools import partial
from typing import Any

import octobot_trading as ot
from octobot_trading.enums import OrderStatus
from octobot_trading.errors import InvalidNumber
from octobot_trading.exchange_data.order_book import OrderBookManager
from octobot_trading.exchanges.connectors.ccxt.adapter import CCXTAdapter
from octobot_trading.modes.base import AbstractModeConsumer, AbstractModeProducer, AbstractTradingMode
from octobot_trading.modes.channel import DecisionAction, TradingDecision
from octobot_trading.personal_data.trader_component import TraderComponent
from octobot_trading.testing.fake_exchange import FakeBinanceStreams, FakeBinanceUserData, FakeExchangeServer
from octobot_trading.util.decimals import to_decimal

D = Decimal
WARM_UP = 20
BALANCES = {"USDT": D("100000000"), "BTC": D("1000"), "ETH": D("1000")}


class Probe:
    """Instruments the ccxt clients a manager creates (installed through the builder's client hook)."""

    def __init__(self, server_hook: Any) -> None:
        self._server_hook = server_hook
        self.event: tuple[float, float] | None = None  # (t0, t1) of the last watched event
        #: seconds spent inside ccxt.pro's handle_message (every message of every client) so far
        self.ws_busy = 0.0
        self._busy_at_t1 = 0.0
        self._busy_at_t2 = 0.0
        self._throttled = 0.0  # seconds of the last request spent in ccxt's rate limiter
        self.kinds: tuple[str, ...] = ()
        self.request: tuple[float, float] | None = None  # (t2, t3) of the last order request
        self._t2: float | None = None
        self.sent = asyncio.Event()
        self.throttled = 0.0

    def hook(self, client: Any) -> None:
        self._server_hook(client)
        if type(client).__module__.startswith("ccxt.pro"):  # the websocket clients
            original_handle = client.handle_message

            def handle_message(ws: Any, message: Any) -> Any:
                t0 = time.perf_counter()
                result = original_handle(ws, message)
                t1 = time.perf_counter()
                self.ws_busy += t1 - t0
                event = message.get("event", message) if isinstance(message, dict) else None
                if isinstance(event, dict) and (event.get("e") in self.kinds or event.get("x") in self.kinds):
                    self.event, self._busy_at_t1 = (t0, t1), self.ws_busy
                return result

            client.handle_message = handle_message
            return
        original_create, original_fetch, original_throttle = client.create_order, client.fetch, client.throttle

        async def throttle(cost: Any = None) -> Any:
            start = time.perf_counter()
            try:
                return await original_throttle(cost)
            finally:
                if self._t2 is not None:
                    self._throttled += time.perf_counter() - start

        async def create_order(*args: Any, **kwargs: Any) -> Any:
            self._t2, self._busy_at_t2, self._throttled = time.perf_counter(), self.ws_busy, 0.0
            return await original_create(*args, **kwargs)

        async def fetch(url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
            if method == "POST" and url.split("?")[0].endswith("/order") and self._t2 is not None:
                self.request, self._t2 = (self._t2, time.perf_counter()), None
                self.throttled = self._throttled
                self.sent.set()
            return await original_fetch(url, method, *args, **kwargs)

        client.create_order, client.fetch, client.throttle = create_order, fetch, throttle

    def arm(self, *kinds: str) -> None:
        self.kinds, self.event, self.request, self.throttled = kinds, None, None, 0.0
        self.sent.clear()

    def sample(self) -> tuple[float, ...] | None:
        """(engine, ccxt parse of the event, ccxt handling other messages meanwhile, ccxt request
        preparation, of which its rate limiter, total) seconds of the last event -> request, or
        None when not both seen."""
        if self.event is None or self.request is None:
            return None
        (t0, t1), (t2, t3) = self.event, self.request
        others = self._busy_at_t2 - self._busy_at_t1
        return t2 - t1 - others, t1 - t0, others, t3 - t2, self.throttled, t3 - t0


def _builder(server: FakeExchangeServer, probe: Probe) -> ot.ExchangeBuilder:
    return (
        ot.ExchangeBuilder("binance")
        .with_credentials(api_key=server.api_key, api_secret=server.api_secret)
        .with_symbols(["BTC/USDT"])
        .with_ccxt_options({**server.ccxt_config(), "rateLimit": 1, "timeout": 5000})
        .with_client_hook(probe.hook)
        .with_websocket_options(expected_interval=3600)
        .with_trading_config(
            order_safety={"max_price_age_seconds": 10**10, "max_open_orders_per_symbol": 10**6},
            account_poll_seconds=3600,
            streaming_poll_seconds=3600,
            stream_watchdog_seconds=3600,
        )
        .use_real_trader()
    )


async def _until(condition: Any, limit: float = 5.0) -> None:
    deadline = time.perf_counter() + limit
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the fake venue did not answer in time")
        await asyncio.sleep(0.0005)


async def fill_to_exit(count: int) -> tuple[list[tuple[float, ...]], list[float]]:
    server = FakeExchangeServer(start_index=100, balances=dict(BALANCES))
    streams = FakeBinanceStreams(server)
    user_data = FakeBinanceUserData(server)
    sent_at: list[float] = []
    user_data.event_listeners.append(
        lambda event: sent_at.append(time.perf_counter()) if event.get("x") == "TRADE" else None
    )
    samples: list[tuple[float, ...]] = []
    wire: list[float] = []
    async with server:
        probe = Probe(streams.client_hook)
        manager = await _builder(server, probe).build()
        try:
            component = manager.get_component("trader", TraderComponent)
            await _until(
                lambda: (
                    component.account_streams is not None
                    and component.account_streams.healthy
                    and component.account_streams.reconciliations >= 1
                )
            )
            market = server.state.markets["BTCUSDT"]
            tick = market.tick_size
            trader = manager.trader
            assert trader is not None
            for i in range(count + WARM_UP):
                last = market.last_price
                price = (last * D("0.98")).quantize(tick)
                exit_price = (last * D("1.05")).quantize(tick, rounding=ROUND_CEILING)
                entry = await trader.create_order(
                    "limit", "buy", "BTC/USDT", "0.001", price, take_profit_price=exit_price
                )
                (exit_order,) = entry.chained_orders
                fake = server.state.orders[int(entry.exchange_order_id or 0)]
                await asyncio.sleep(0.002)  # the NEW report and its balances reach the engine first
                probe.arm("TRADE")
                sent_at.clear()
                server.state._fill(fake, fake.price, fake.orig_qty, maker=True)  # the venue fills it ...
                server._notify(fake)  # ... and reports it
                await asyncio.wait_for(probe.sent.wait(), 5)
                sample = probe.sample()
                await _until(lambda order=exit_order: order.status is OrderStatus.OPEN)
                if sample is not None and i >= WARM_UP:
                    samples.append(sample)
                    if sent_at and probe.event is not None:
                        wire.append(probe.event[0] - sent_at[0])
                await trader.cancel_order(exit_order)
        finally:
            await manager.stop()
    return samples, wire


class _TickerProducer(AbstractModeProducer):
    async def on_ticker(self, update: Any) -> None:
        await self.submit(
            TradingDecision(update.symbol, DecisionAction.BUY, self.context.clock.now_ms(), update.ticker.last)
        )


class _MarketBuyConsumer(AbstractModeConsumer):
    placed = 0

    async def on_decision(self, decision: TradingDecision) -> None:
        await self.context.create_order("market", "buy", decision.symbol, "0.001")
        type(self).placed += 1


class TickerMode(AbstractTradingMode):
    """Buys at market on every ticker (the bench's mode)."""

    producer_classes = (_TickerProducer,)
    consumer_classes = (_MarketBuyConsumer,)

    @classmethod
    def get_mode_name(cls) -> str:
        return "bench_ticker"

    async def start(self) -> None:
        await super().start()
        ticker = self.context.channels.ticker
        for producer in self.producers:
            if isinstance(producer, _TickerProducer):
                for symbol in self.symbols:
                    subscription = ticker.subscribe(producer.on_ticker, symbol=symbol)
                    self._unsubscribers.append(partial(ticker.unsubscribe, subscription))


async def ticker_to_order(count: int, *, whole_candle: bool) -> list[tuple[float, ...]]:
    """``whole_candle``: each ticker comes with the rest of a candle close (kline, a depth diff
    of up to 2,000 levels, a trade), all processed by the same event loop; else the ticker alone."""
    server = FakeExchangeServer(start_index=60, balances=dict(BALANCES))  # 1h data: history, then candles to replay
    streams = FakeBinanceStreams(server)
    FakeBinanceUserData(server)
    samples: list[tuple[float, ...]] = []
    async with server:
        probe = Probe(streams.client_hook)
        manager = await _builder(server, probe).with_time_frames(["1h"]).use_trading_mode(TickerMode).build()
        try:
            await manager.wait_ready(timeout=30)
            assert manager.exchange_symbols_data is not None
            sd = manager.exchange_symbols_data.get("BTC/USDT")
            await _until(
                lambda: sd.order_book.valid and bool({"btcusdt@ticker", "btcusdt@miniTicker"} & streams.subscriptions)
            )
            await asyncio.sleep(0.2)
            market = server.state.markets["BTCUSDT"]
            candles_left = len(market.candles) - market.cursor - 1
            for i in range(min(count + WARM_UP, candles_left) if whole_candle else count + WARM_UP):
                placed = _MarketBuyConsumer.placed
                probe.arm("24hrTicker", "24hrMiniTicker")
                if whole_candle:
                    server.advance()
                else:
                    streams.push_ticker("BTCUSDT")
                await asyncio.wait_for(probe.sent.wait(), 5)
                sample = probe.sample()
                await _until(lambda before=placed: _MarketBuyConsumer.placed > before)
                await asyncio.sleep(0.002)  # the order's private events settle before the next ticker
                if sample is not None and i >= WARM_UP:
                    samples.append(sample)
        finally:
            await manager.stop()
    return samples


def _ms(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.3f} ms   p99 {p99 * 1000:7.3f} ms   (n={len(ordered)})"


def _report(title: str, samples: list[tuple[float, ...]]) -> None:
    print(title)
    for index, name in enumerate(
        (
            "engine overhead",
            "ccxt: parse the event",
            "ccxt: other messages meanwhile",
            "ccxt: prepare the request",
            "  of which its rate limiter",
            "total (ccxt got it -> left ccxt)",
        )
    ):
        print(f"  {name:33} {_ms([sample[index] for sample in samples])}")


_ABSURD: tuple[tuple[str, Any], ...] = (
    ('"1e30"', "1e30"),
    ("10**30", 10**30),
    ("26 nines", "9" * 26),
    ('"-1e999999999"', "-1e999999999"),
    ('"1e-999999999"', "1e-999999999"),
    ("10**5000", 10**5000),
)


def _refuse(value: Any) -> None:
    try:
        to_decimal(value, name="amount")
    except InvalidNumber:
        return
    raise AssertionError(f"{value!r:.40} was accepted")


def refusal_costs(number: int = 20_000) -> None:
    """Seconds per ``to_decimal`` refusal of absurd money values (best of 5), against a kept value."""

    def per_call(action: Any) -> float:
        return min(timeit.repeat(action, number=number, repeat=5)) / number

    baseline = per_call(lambda: to_decimal("1.5", name="amount"))
    print(f"to_decimal refusals (baseline: to_decimal('1.5') kept, {baseline * 1e6:.2f} us)")
    for label, value in _ABSURD:
        cost = per_call(partial(_refuse, value))
        print(f"  {label:33} {cost * 1e6:7.2f} us   {cost / baseline:5.1f}x the baseline")


def book_update_costs(levels: int = 1000, changed: int = 10, number: int = 50) -> None:
    """Milliseconds of engine CPU per depth update of a ``levels``-deep book where a diff changed
    ``changed`` levels a side: parse from scratch (baseline) or from the previous book's levels,
    then apply to the symbol's book."""
    adapter = CCXTAdapter("binance")
    bids = [[round(30000 - 0.01 * i, 2), round(0.001 * i + 0.001, 3)] for i in range(levels)]
    asks = [[round(30000.01 + 0.01 * i, 2), round(0.001 * i + 0.001, 3)] for i in range(levels)]
    moved_bids = [[p, round(q + 0.5, 3)] if i % (levels // changed) == 0 else [p, q] for i, (p, q) in enumerate(bids)]
    moved_asks = [[p, round(q + 0.5, 3)] if i % (levels // changed) == 0 else [p, q] for i, (p, q) in enumerate(asks)]
    books = [{"bids": b, "asks": a, "timestamp": 1, "nonce": 1} for b, a in ((bids, asks), (moved_bids, moved_asks))]
    state: dict[str, Any] = {"previous": None, "turn": 0}

    def incremental() -> None:
        seen: dict[Any, Any] = {}
        state["turn"] ^= 1
        adapter.parse_order_book(books[state["turn"]], "BTC/USDT", previous=state["previous"], seen=seen)
        state["previous"] = seen

    def per_call(action: Any) -> float:
        return min(timeit.repeat(action, number=number, repeat=5)) / number

    full = per_call(partial(adapter.parse_order_book, books[1], "BTC/USDT"))
    cached = per_call(incremental)
    manager = OrderBookManager("BTC/USDT")
    parsed = adapter.parse_order_book(books[1], "BTC/USDT")
    applied = per_call(partial(manager.apply_order_book, parsed))
    print(f"depth update of a {levels}-level book, {changed} levels a side changed (engine CPU)")
    print(f"  {'parse: every level (baseline)':33} {full * 1000:7.3f} ms")
    print(f"  {'parse: from the previous book':33} {cached * 1000:7.3f} ms   {cached / full:5.2f}x the baseline")
    print(f"  {'apply to the symbol book':33} {applied * 1000:7.3f} ms")


async def main(count: int) -> None:
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    refusal_costs()
    book_update_costs()
    samples, wire = await fill_to_exit(count)
    _report("fill -> chained exit request", samples)
    print(f"  {'wire: venue queued -> ccxt got it':33} {_ms(wire)}")
    _report("ticker alone -> mode's order request", await ticker_to_order(count, whole_candle=False))
    _report(
        "ticker with a whole candle close (kline, depth, trade) -> mode's order request",
        await ticker_to_order(count, whole_candle=True),
    )
    print("goal: engine overhead median <= 1 ms, p99 <= 5 ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
