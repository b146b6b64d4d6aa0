"""A fake Binance USDⓈ-M futures venue on 127.0.0.1, spoken to by the real ccxt ``binanceusdm`` client.

It is the spot :class:`~octobot_trading.testing.fake_exchange.server.FakeExchangeServer` (same
HTTP plumbing, signature / timestamp checks, Binance error replies, fault injection and request
log on :attr:`faults`) serving the ``/fapi`` endpoints instead of ``/api/v3``::

    GET  /fapi/v1/ping, time, exchangeInfo, klines, markPriceKlines, premiumIndex, fundingRate,
         fundingInfo, ticker/24hr, ticker/price, ticker/bookTicker, depth, trades, aggTrades
    POST|GET|PUT|DELETE /fapi/v1/order   DELETE /fapi/v1/allOpenOrders   GET /fapi/v1/openOrder(s),
         allOrders, userTrades, income, forceOrders, leverageBracket, symbolConfig, commissionRate
    POST|GET|DELETE /fapi/v1/algoOrder   GET /fapi/v1/openAlgoOrders, allAlgoOrders
         DELETE /fapi/v1/algoOpenOrders  (conditional orders: STOP_MARKET, TAKE_PROFIT_MARKET, ...)
    POST /fapi/v1/leverage, marginType   GET|POST /fapi/v1/positionSide/dual
    GET  /fapi/v2|v3/positionRisk, /fapi/v2|v3/account, /fapi/v2|v3/balance

The account state is the library's own futures accounting (:mod:`.state`), so positions, margins,
liquidation prices, funding and realized PnL follow docs/futures.md exactly.

Test control (Python methods, like the spot server's ``advance``):
:meth:`FakeFuturesServer.set_mark_price`, :meth:`~FakeFuturesServer.set_last_price`,
:meth:`~FakeFuturesServer.advance`, :meth:`~FakeFuturesServer.fill_order` (a resting order,
fully or partly), :meth:`~FakeFuturesServer.settle_funding`,
:meth:`~FakeFuturesServer.auto_deleverage`; :attr:`venue` holds the markets, accounts and orders.

Usage with ccxt::

    async with FakeFuturesServer() as server:
        client = ccxt.async_support.binanceusdm({"apiKey": server.api_key, "secret": server.api_secret,
                                                 **server.ccxt_config()})
        server.client_hook(client)          # every url of the client points here
        await client.load_markets()
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from aiohttp import web

from octobot_trading.clock import Clock
from octobot_trading.enums import PositionSide
from octobot_trading.errors import ConfigurationError
from octobot_trading.testing.fake_exchange.futures import events, private_routes, public_routes
from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket, default_futures_markets
from octobot_trading.testing.fake_exchange.futures.records import ForceOrder, FuturesOrder
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, FuturesVenueState
from octobot_trading.testing.fake_exchange.server import FakeExchangeServer
from octobot_trading.testing.fake_exchange.state import FakeAccount, FakeExchangeError
from octobot_trading.util.decimals import to_decimal

__all__ = ["FakeFuturesServer"]


class FakeFuturesServer(FakeExchangeServer):
    """The fake Binance USDⓈ-M futures venue; see the module docstring.

    :class:`~octobot_trading.testing.fake_exchange.futures.coinm.FakeCoinMServer` is its COIN-M
    (inverse) variant, serving ``/dapi``.

    Parameters
    ----------
    markets:
        Listed perpetuals (default: :func:`default_futures_markets`, ``XRPUSDT`` and ``BTCUSDT``).
    clock:
        Server time for ``timestamp`` checks and order times (default: the wall clock, since ccxt
        signs requests with it).
    start_index:
        Index of the candle every market starts on (earlier candles are its history); default:
        each market's own ``start_index`` (``XRPUSDT`` starts at 2021-11-18 01:00 UTC, after its
        first funding time in the data).
    api_key, api_secret, wallets:
        The default account created at start (``wallets``: margin balances, default
        :attr:`default_wallets`, 10000 USDT).
    maker_fee, taker_fee:
        Commission rates (default :attr:`default_maker_fee` / :attr:`default_taker_fee`, 0.0002 / 0.0004).
    """

    #: Margin balances of the default account when ``wallets`` is not given.
    default_wallets: dict[str, Decimal | str] = {"USDT": Decimal("10000")}
    #: Commission rates when ``maker_fee`` / ``taker_fee`` are not given.
    default_maker_fee = Decimal("0.0002")
    default_taker_fee = Decimal("0.0004")

    @staticmethod
    def default_markets() -> list[FuturesMarket]:
        """The markets listed when ``markets`` is not given."""
        return default_futures_markets()

    def __init__(
        self,
        markets: Iterable[FuturesMarket] | None = None,
        *,
        clock: Clock | None = None,
        start_index: int | None = None,
        api_key: str = "fake-api-key",
        api_secret: str = "fake-api-secret",
        wallets: dict[str, Decimal | str] | None = None,
        maker_fee: Decimal | None = None,
        taker_fee: Decimal | None = None,
    ) -> None:
        super().__init__([], clock=clock, api_key=api_key, api_secret=api_secret, balances={})
        market_list = list(markets) if markets is not None else self.default_markets()
        for market in market_list:
            start = market.start_index if start_index is None else start_index
            if not 0 <= start < len(market.candles):
                raise ConfigurationError(
                    f"start_index {start} outside {market.symbol_id}'s candles", field="start_index"
                )
            market.cursor = start
        self.venue = FuturesVenueState(
            market_list,
            self.clock.now_ms,
            maker_fee=self.default_maker_fee if maker_fee is None else maker_fee,
            taker_fee=self.default_taker_fee if taker_fee is None else taker_fee,
        )
        self.venue.add_account(api_key, dict(wallets if wallets is not None else self.default_wallets))

    #: Root of the routes served (``/fapi``; ``/dapi`` on the COIN-M venue).
    api_root = "/fapi"
    #: True on the COIN-M venue (inverse contracts, ``/dapi`` shapes).
    is_coinm = False
    #: ccxt's error table for this venue (Binance's tables are chosen by host, see :meth:`client_hook`).
    error_table = "linear"

    async def __aenter__(self) -> FakeFuturesServer:
        await self.start()
        return self

    # -- accounts ---------------------------------------------------------------------------
    def add_account(self, api_key: str, api_secret: str, wallets: dict[str, Decimal | str]) -> FuturesVenueAccount:
        """Create another account (its key and secret sign requests; ``wallets`` are its margin balances)."""
        self.state.add_account(api_key, api_secret, {})
        return self.venue.add_account(api_key, wallets)

    def futures_account(self, api_key: str | None = None) -> FuturesVenueAccount:
        """The futures account of ``api_key`` (default: the server's default account)."""
        return self.venue.accounts[api_key or self.api_key]

    async def signed_account(self, request: web.Request) -> tuple[FuturesVenueAccount, dict[str, str]]:
        """Check a signed request (key -2015, signature -1022, timestamp -1021); its account and params."""
        account, params = await self._signed(request)
        return self._venue_account(account), params

    def _venue_account(self, account: FakeAccount) -> FuturesVenueAccount:
        return self.venue.accounts[account.api_key]

    # -- ccxt wiring --------------------------------------------------------------------------
    @staticmethod
    def ccxt_config() -> dict[str, Any]:
        """ccxt options that keep ``binanceusdm`` to the endpoints this venue serves."""
        return {
            "options": {
                "fetchMarkets": {"types": ["linear"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            }
        }

    def client_hook(self, client: Any) -> None:
        """Point a ccxt ``binanceusdm`` client here: every url, and the venue's error classification.

        ccxt picks the exception class of a Binance error code from a table chosen by the request's
        host (``fapi.binance.com`` selects the USDⓈ-M table, where -2019 is ``InsufficientFunds``
        and -2022 ``InvalidOrder``); on 127.0.0.1 no host matches, so the hook also makes the
        USDⓈ-M table the client's default one. The client then raises what it would raise against
        the real venue.
        """
        super().client_hook(client)
        exceptions = getattr(client, "exceptions", None)
        table = exceptions.get(self.error_table) if isinstance(exceptions, dict) else None
        if isinstance(exceptions, dict) and isinstance(table, dict):
            for kind in ("exact", "broad"):
                exceptions[kind] = {**exceptions.get(kind, {}), **table.get(kind, {})}

    # -- test control -------------------------------------------------------------------------
    def market(self, symbol_id: str) -> FuturesMarket:
        """The market ``symbol_id`` (``"XRPUSDT"``)."""
        return self.venue.market(symbol_id)

    def set_last_price(self, symbol_id: str, price: Decimal | str) -> None:
        """Move the last price until the next candle: resting limits it reaches fill, last-price triggers fire."""
        events.set_last_price(self.venue, self.market(symbol_id), to_decimal(price, name="price"))

    def set_mark_price(self, symbol_id: str, price: Decimal | str) -> list[ForceOrder]:
        """Move the mark price until the next candle; return the liquidations it caused."""
        return events.set_mark_price(self.venue, self.market(symbol_id), to_decimal(price, name="price"))

    def advance(self, steps: int = 1) -> None:
        """Move every market to its next candle ``steps`` times (matching, triggers, funding, liquidations)."""
        events.advance(self.venue, steps)

    def fill_order(
        self, order_id: int, quantity: Decimal | str | None = None, price: Decimal | str | None = None
    ) -> FuturesOrder:
        """Fill a resting order now (maker), fully or ``quantity`` of it, at its price or ``price``."""
        order = self.venue.orders.get(order_id)
        if order is None or not order.is_open:
            raise FakeExchangeError(-2013, "Order does not exist.")
        qty = order.remaining if quantity is None else to_decimal(quantity, name="quantity")
        if not 0 < qty <= order.remaining:
            raise FakeExchangeError(-4003, "Quantity less than or equal to zero.")
        fill_price = order.price if price is None else to_decimal(price, name="price")
        self.venue.fill(order, fill_price, qty, maker=True)
        return order

    def settle_funding(
        self, symbol_id: str, rate: Decimal | str | None = None, funding_time: int | None = None
    ) -> list[Decimal]:
        """Settle funding now on every open position of ``symbol_id``.

        ``funding_time`` defaults to the next funding time (the one ``premiumIndex`` announces),
        ``rate`` to the data's rate for it, else the market's default rate. Returns the amounts
        paid (negative) or received.
        """
        value = None if rate is None else to_decimal(rate, name="rate")
        return events.settle_funding(self.venue, self.market(symbol_id), funding_time, value)

    def auto_deleverage(
        self, symbol_id: str, api_key: str | None = None, side: PositionSide | None = None
    ) -> ForceOrder:
        """Close a position at the mark price as an auto-deleveraging would (an ``ADL`` force order)."""
        return events.auto_deleverage(self.venue, self.futures_account(api_key), self.market(symbol_id), side)

    def _routes(self) -> list[web.RouteDef]:
        return public_routes.build_routes(self) + private_routes.build_routes(self)
