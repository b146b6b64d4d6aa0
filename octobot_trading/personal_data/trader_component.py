"""``TraderComponent``: the trader of one live or paper ``ExchangeManager``.

The builder creates it third (after the connector and the market data) for live and paper
builds. It creates the account's :class:`~octobot_trading.personal_data.exchange_personal_data.ExchangePersonalData`
and :class:`~octobot_trading.personal_data.trader.Trader` (the builder hands them to the manager
as ``manager.exchange_personal_data`` and ``manager.trader``, so later components such as
storage and trading modes can use them) and, on start, initializes the trader and runs one
background poll task (live futures: before it, the venue's contract settings are adopted,
see :meth:`~octobot_trading.personal_data.futures_trading.FuturesTrading.adopt`): real trader —
balances and open orders refreshed from the venue (fills / cancels / unknown orders applied
once; on futures also the venue's positions, funding payments and liquidations through
:class:`~octobot_trading.personal_data.futures_sync.LiveFuturesSync`, and an order placed on a
contract brings the next poll forward); paper trader — the last price of each symbol fed to the
simulated venue. The task is owned by the component and cancelled on stop.

Every venue call goes through ``manager.exchange`` (the venue's ``RestExchange``, whose
``fix_*`` hooks see every result); the simulated backend of paper trading is reached through
``manager.exchange.connector``. Backtests use the backtest component instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import NotSupported, OctoBotTradingError
from octobot_trading.exchange_data.channels import ChannelPriority
from octobot_trading.exchange_data.readiness import ReadinessTopic
from octobot_trading.exchanges.connectors.simulator.simulated_connector import SimulatedConnector
from octobot_trading.personal_data.account_streams import AccountStreams
from octobot_trading.personal_data.exchange_personal_data import ExchangePersonalData
from octobot_trading.personal_data.futures_sync import LiveFuturesSync
from octobot_trading.personal_data.futures_trading import is_contract_symbol
from octobot_trading.personal_data.order_listeners import OrderOperation, OrderOperationEvent
from octobot_trading.personal_data.trader import Trader
from octobot_trading.util.fees import Fees
from octobot_trading.util.logging import get_logger

if TYPE_CHECKING:
    from octobot_trading.exchanges.manager import ExchangeManager

__all__ = ["DEFAULT_POLL_SECONDS", "TraderComponent"]

#: Seconds between two polls of the venue (real trader) or of prices (paper trader).
DEFAULT_POLL_SECONDS = 5.0


class TraderComponent:
    """Starts and stops the trader of one manager (see the module docstring)."""

    name = "trader"

    def __init__(self, manager: ExchangeManager, *, poll_seconds: float | None = None) -> None:
        self.manager = manager
        #: REST poll period without healthy private streams (``account_poll_seconds``) ...
        self.poll_seconds = manager.trading_config.account_poll_seconds if poll_seconds is None else poll_seconds
        #: ... and while they are healthy (``streaming_poll_seconds``).
        self.streaming_poll_seconds = manager.trading_config.streaming_poll_seconds
        #: The account's private streams (live trading on a venue that has them, not ``rest_only``).
        self.account_streams: AccountStreams | None = None
        #: Taken by every REST sync and stream update: they apply one at a time.
        self.sync_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._prices: dict[str, Decimal] = {}
        self._price_times: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._mark_subscription: Any = None
        self._candle_subscription: Any = None
        #: Awaited on start after the trader is initialized and before its first sync (state restore).
        self.restore_hooks: list[Callable[[], Awaitable[None]]] = []
        #: Awaited at the end of stop (storage releases its file when its own start never ran).
        self.stop_hooks: list[Callable[[], Awaitable[None]]] = []
        self._log = get_logger("personal_data.trader_component")
        trading = manager.trading_config
        simulated = manager.is_simulated
        venue = manager.exchange
        #: The simulated venue of paper trading (None live): fed with prices, matched on mark prices.
        self.simulated_venue = venue.connector if isinstance(venue.connector, SimulatedConnector) else None
        self.personal_data = ExchangePersonalData(
            manager.clock,
            starting_balances=trading.starting_portfolio if simulated else None,
            reference_market=trading.reference_market,
        )
        self.trader = Trader(
            venue,
            self.personal_data,
            clock=manager.clock,
            simulated=simulated,
            price_of=self.price_of,
            price_time_of=self.price_time_of,
            spread_of=self.spread_of,
            safety=trading.order_safety,
            fees=Fees(maker=trading.fees.maker, taker=trading.fees.taker),
            price_events_for=self._price_events_for,
            # what the venue holds natively (every type on the simulated venue); others are self-managed
            supported_order_types=venue.native_order_types,
            client_order_id_prefix=trading.client_order_id_prefix,
        )
        #: Live futures: the venue's positions, funding payments and liquidations (None otherwise).
        self.futures_sync = (
            LiveFuturesSync(venue, self.personal_data, clock=manager.clock, symbols=manager.symbols)
            if manager.is_future and not simulated
            else None
        )
        self._poll_due = False
        self._remove_order_listener: Callable[[], None] | None = None
        if self.simulated_venue is not None and self.simulated_venue.price_source is None:
            # paper market orders fill at the price the trader reserved at (mark price when market
            # data runs, else the last polled price), not at a close up to one poll old
            self.simulated_venue.price_source = self.price_of

    def _symbol_data(self, symbol: str) -> Any:
        try:  # NotSupported (an OctoBotTradingError) when the manager has no market data
            return self.manager.exchange_symbols_data.get(symbol)
        except (KeyError, OctoBotTradingError):
            return None

    def price_of(self, symbol: str) -> Decimal | None:
        """Mark price from the market-data layer when it runs, else the last polled price."""
        data = self._symbol_data(symbol)
        price = getattr(data, "mark_price", None) if data is not None else None
        return price if price is not None else self._prices.get(symbol)

    def price_time_of(self, symbol: str) -> int | None:
        """When the price :meth:`price_of` returns was received: the mark price's time when the
        market-data layer provides it, else the last polled ticker's (the price-age safety rule
        must judge the price orders are valued and filled at, not another one)."""
        data = self._symbol_data(symbol)
        prices = getattr(data, "prices", None) if data is not None else None
        info = prices.info() if prices is not None else None
        if info is not None:
            return int(info.received_ms)
        return self._price_times.get(symbol)

    def spread_of(self, symbol: str) -> Decimal | None:
        """Spread of the market-data order book in percent of the mid price, or None without a book."""
        data = self._symbol_data(symbol)
        book = getattr(data, "order_book", None)
        if book is None:
            return None
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            return None
        mid = (bid[0] + ask[0]) / 2
        return (ask[0] - bid[0]) / mid * 100 if mid > 0 else None

    def _price_events_for(self, symbol: str) -> Any:
        data = self._symbol_data(symbol)
        if data is None:
            raise OctoBotTradingError(f"no market data for {symbol}: price events unavailable", symbol=symbol)
        return data.price_events

    async def start(self) -> None:
        """Initialize the trader, run the restore hooks, take a first snapshot, start the poll task."""
        await self.trader.initialize()
        for hook in self.restore_hooks:
            await hook()
        await self._adopt_venue_settings()
        await self._poll_once()
        if self.manager.is_simulated:
            self.personal_data.portfolio_manager.reset_starting_point()
        self._mark_account_ready()
        channels = self.manager.channels
        if self.simulated_venue is not None and channels is not None and self._mark_subscription is None:
            self._mark_subscription = channels.mark_price.subscribe(self._on_mark_price)
            time_frames = sorted((TimeFrame.parse(tf) for tf in self.manager.time_frames), key=lambda tf: tf.ms)
            if time_frames:  # the shortest candles: their wicks reach resting orders, as in a backtest
                self._candle_subscription = channels.ohlcv.subscribe(
                    self._on_closed_candle, time_frame=time_frames[0], priority=ChannelPriority.HIGH
                )
        if self.futures_sync is not None and self._remove_order_listener is None:
            self._remove_order_listener = self.trader.add_order_listener(self._on_order_operation)
        self._task = asyncio.get_running_loop().create_task(self._poll_loop(), name="trader-poll")
        manager, venue = self.manager, self.manager.exchange
        if not manager.is_simulated and not manager.rest_only and venue.supports_private_streams:
            self.account_streams = AccountStreams(
                venue,
                self.trader,
                clock=manager.clock,
                lock=self.sync_lock,
                symbols=manager.symbols,
                futures=manager.is_future,
                positions_sync=self.futures_sync,
                watchdog_seconds=manager.trading_config.stream_watchdog_seconds,
                on_health_change=self._wake.set,
            )
            self.account_streams.start()

    @property
    def current_poll_seconds(self) -> float:
        """The REST poll period now: slower while the private streams are healthy."""
        streams = self.account_streams
        return self.streaming_poll_seconds if streams is not None and streams.healthy else self.poll_seconds

    async def _on_closed_candle(self, candle: Any) -> None:
        """Paper trading: match the orders resting since the candle opened against its whole path."""
        venue = self.simulated_venue
        if venue is None or (self.manager.symbols and candle.symbol not in self.manager.symbols):
            return
        open_ms = int(candle.timestamp)
        try:
            await venue.on_closed_candle(
                candle.symbol,
                open_ms,
                open_ms + candle.time_frame.ms,
                candle.open,
                candle.high,
                candle.low,
                candle.close,
            )
        except OctoBotTradingError as exc:
            self._log.warning("paper fills on the %s candle of %s failed: %s", candle.time_frame, candle.symbol, exc)

    async def _on_mark_price(self, update: Any) -> None:
        """Paper trading: match resting orders against each new mark price of a traded symbol."""
        venue = self.simulated_venue
        if venue is None or (self.manager.symbols and update.symbol not in self.manager.symbols):
            return
        try:
            await venue.on_price(update.symbol, update.price)
        except OctoBotTradingError as exc:
            self._log.warning("paper fill at mark price %s of %s failed: %s", update.price, update.symbol, exc)

    def _mark_account_ready(self) -> None:
        """Tell the readiness tracker (when market data is wired) that the account was read once."""
        readiness = self.manager.readiness
        if readiness is None:
            return
        topics = [ReadinessTopic.BALANCE, ReadinessTopic.ORDERS]
        if self.manager.is_future:
            topics.append(ReadinessTopic.POSITIONS)
        for topic in topics:
            readiness.mark_ready(str(topic))

    async def _adopt_venue_settings(self) -> None:
        """Live futures: take the leverage, margin and position modes the venue holds for each
        traded contract (before readiness opens; a venue without them keeps the local defaults)."""
        symbols = [s for s in self.manager.symbols if is_contract_symbol(s)]
        if self.futures_sync is None or not symbols:
            return
        try:
            settings = await self.manager.exchange.fetch_contract_settings(symbols)
        except NotSupported as exc:
            self._log.info("the venue's contract settings are unknown: %s", exc)
            return
        for entry in settings:
            self.trader.futures.adopt(entry)

    async def _poll_once(self) -> None:
        if self.manager.is_simulated:
            for symbol in self.manager.symbols:
                ticker = await self.manager.exchange.fetch_ticker(symbol)
                if ticker.last is None:
                    continue
                self._prices[symbol] = ticker.last
                self._price_times[symbol] = ticker.timestamp
                if self.simulated_venue is not None:
                    await self.simulated_venue.on_price(symbol, ticker.last)
        else:
            # fills first, then the venue's balances: a fill made since the last poll is already in
            # those balances, so settling it after the refresh would count it twice
            async with self.sync_lock:
                await self.trader.sync_with_exchange(self.manager.symbols or None)
                await self.trader.refresh_balances()
            await self._refresh_positions()

    async def _refresh_positions(self) -> None:
        """Live futures: the venue's positions replace the local ones (liquidations, funding read)."""
        if self.futures_sync is not None:
            async with self.sync_lock:
                await self.futures_sync.refresh()

    async def _on_order_operation(self, event: OrderOperationEvent) -> None:
        """Live futures: an order placed on a contract may have filled at once: poll the account
        (fills, balances, positions) at the poll loop's next turn instead of its next period."""
        if event.operation is OrderOperation.CREATE and ":" in event.order.symbol:
            self._poll_due = True
            self._wake.set()

    async def _poll_loop(self) -> None:
        clock = self.manager.clock
        while True:
            # a change of the streams' health wakes the loop: its pace changes at once
            self._wake.clear()
            if self._poll_due:  # brought forward while the last poll ran: not lost by the clear
                self._wake.set()
            sleeper = asyncio.ensure_future(clock.sleep(self.current_poll_seconds))
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()
            due = sleeper.done() and not sleeper.cancelled()
            early, self._poll_due = self._poll_due, False
            if not due and not early:
                continue
            try:
                await self._poll_once()
            except asyncio.CancelledError:
                raise
            except OctoBotTradingError as exc:
                self._log.warning("trader poll failed: %s", exc)
            except Exception:  # a bug must not end the poll task silently: log it, poll again
                self._log.exception("trader poll failed unexpectedly; polling continues")

    async def stop_poll(self) -> None:
        """Cancel the account poll task and wait for it to end (idempotent)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise

    async def stop(self) -> None:
        """Cancel the private streams, the poll task and the trader's tasks (idempotent)."""
        remove, self._remove_order_listener = self._remove_order_listener, None
        if remove is not None:
            remove()
        streams, self.account_streams = self.account_streams, None
        if streams is not None:
            await streams.stop()
        for name in ("_mark_subscription", "_candle_subscription"):
            subscription = getattr(self, name)
            setattr(self, name, None)
            if subscription is not None:
                subscription.channel.unsubscribe(subscription)
        await self.stop_poll()
        await self.trader.stop()
        for hook in self.stop_hooks:
            await hook()
