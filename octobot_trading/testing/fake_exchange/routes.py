"""REST handlers of the fake Binance spot server (response shapes as Binance sends them).

Numbers are sent as strings, like Binance does, so ccxt parses them from text and no value goes
through a float on its way to the library.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from octobot_trading.testing.fake_exchange.capital import capital_routes
from octobot_trading.testing.fake_exchange.common import (
    agg_trade_row,
    aggregate,
    book_limit,
    book_sides,
    clock_routes,
    kline_rows,
    lot_size_filter,
    one_or_all,
    order_ids,
    own_orders,
    parse_interval,
    price_filter,
    public_fills,
    time_window,
    trade_row,
    unknown_order_on_cancel,
)
from octobot_trading.testing.fake_exchange.state import FakeExchangeError, FakeMarket, FakeOrder
from octobot_trading.util.decimals import decimal_to_str, floor_to_step

if TYPE_CHECKING:
    from octobot_trading.testing.fake_exchange.server import FakeExchangeServer

__all__ = ["build_routes"]

_S = decimal_to_str
_BOOK_LIMITS = (5, 10, 20, 50, 100, 500, 1000, 5000)


def _market_json(market: FakeMarket) -> dict[str, Any]:
    return {
        "symbol": market.symbol_id,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "quoteOrderQtyMarketAllowed": False,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            price_filter(market.tick_size),
            lot_size_filter(market.min_qty, market.max_qty, market.step_size),
            {
                "filterType": "NOTIONAL",
                "minNotional": _S(market.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


def _order_result(order: FakeOrder, full: bool) -> dict[str, Any]:
    data = order.to_json()
    data["transactTime"] = order.time
    if full:
        data["fills"] = [
            {
                "price": _S(f.price),
                "qty": _S(f.qty),
                "commission": _S(f.commission),
                "commissionAsset": f.commission_asset,
                "tradeId": f.id,
            }
            for f in order.fills
        ]
    return data


def build_routes(server: FakeExchangeServer) -> list[web.RouteDef]:
    """Return the REST routes of ``server``."""
    state = server.state

    async def exchange_info(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": server.clock.now_ms(),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [_market_json(m) for m in state.markets.values()],
            }
        )

    def ticker(market: FakeMarket) -> dict[str, Any]:
        window = max(1, 86_400_000 // market.interval_ms)
        rows = market.visible_candles()[-window:]
        first, last = rows[0], rows[-1]
        volume = sum((r[5] for r in rows), Decimal(0))
        quote_volume = sum((r[5] * r[4] for r in rows), Decimal(0))
        change = last[4] - first[1]
        return {
            "symbol": market.symbol_id,
            "priceChange": _S(change),
            "priceChangePercent": _S((change * 100 / first[1]).quantize(Decimal("0.001"))),
            "weightedAvgPrice": _S((quote_volume / volume).quantize(market.tick_size)) if volume else "0",
            "prevClosePrice": _S(first[1]),
            "lastPrice": _S(last[4]),
            "lastQty": _S(market.min_qty),
            "bidPrice": _S(last[4] - market.tick_size),
            "bidQty": _S(market.step_size * 1000),
            "askPrice": _S(last[4] + market.tick_size),
            "askQty": _S(market.step_size * 1000),
            "openPrice": _S(first[1]),
            "highPrice": _S(max(r[2] for r in rows)),
            "lowPrice": _S(min(r[3] for r in rows)),
            "volume": _S(volume),
            "quoteVolume": _S(quote_volume),
            "openTime": first[0],
            "closeTime": last[0] + market.interval_ms - 1,
            "firstId": 0,
            "lastId": 0,
            "count": len(rows),
        }

    async def ticker_24hr(request: web.Request) -> web.Response:
        return web.json_response(one_or_all(request.query, state.markets, state.market, ticker))

    async def depth(request: web.Request) -> web.Response:
        market = state.market(request.query.get("symbol"))
        limit = book_limit(request.query, 100, _BOOK_LIMITS)
        qty = max(market.min_qty, floor_to_step(market.current[5] / 1000, market.step_size))
        bids, asks = book_sides(market.last_price, market.tick_size, qty, limit)
        return web.json_response({"lastUpdateId": market.cursor, "bids": bids, "asks": asks})

    async def klines(request: web.Request) -> web.Response:
        market = state.market(request.query.get("symbol"))
        interval = parse_interval(request.query)
        rows = time_window(aggregate(market.visible_candles(), market.interval_ms, interval), request.query, 1000)
        return web.json_response(kline_rows(rows, interval))

    def market_fills(market: FakeMarket, limit: int) -> list[Any]:
        return public_fills(state.orders.values(), market.symbol_id, limit)

    async def agg_trades(request: web.Request) -> web.Response:
        market = state.market(request.query.get("symbol"))
        fills = market_fills(market, int(request.query.get("limit", "500")))
        return web.json_response([{**agg_trade_row(f, f.is_maker == f.is_buyer), "M": True} for f in fills])

    async def trades(request: web.Request) -> web.Response:
        market = state.market(request.query.get("symbol"))
        fills = market_fills(market, int(request.query.get("limit", "500")))
        return web.json_response([{**trade_row(f, f.is_maker == f.is_buyer), "isBestMatch": True} for f in fills])

    async def account(request: web.Request) -> web.Response:
        acc, _ = await server._signed(request)
        return web.json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": True,
                "canWithdraw": False,
                "canDeposit": False,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "updateTime": server.clock.now_ms(),
                "accountType": "SPOT",
                "balances": [
                    {"asset": a, "free": _S(acc.free.get(a, Decimal(0))), "locked": _S(acc.locked.get(a, Decimal(0)))}
                    for a in acc.assets()
                ],
                "permissions": ["SPOT"],
                "uid": 1,
            }
        )

    async def new_order(request: web.Request) -> web.Response:
        acc, params = await server._signed(request)
        state.market(params.get("symbol"))
        client_id = params.get("newClientOrderId") or f"fake-{len(state.orders) + 1}"
        state.order_requests.append((acc.api_key, client_id))
        order = state.place_order(
            acc,
            params.get("symbol", ""),
            params.get("side", ""),
            params.get("type", ""),
            server._decimal(params, "quantity") or Decimal(0),
            server._decimal(params, "price", required=params.get("type") == "LIMIT"),
            client_id,
        )
        server._notify(order)
        return web.json_response(_order_result(order, params.get("newOrderRespType", "RESULT") == "FULL"))

    def lookup(acc_key: str, params: dict[str, str]) -> FakeOrder:
        symbol = params.get("symbol")
        state.market(symbol)
        order_id, client_id = order_ids(params)
        return state.find_order(acc_key, symbol or "", order_id, client_id)

    async def get_order(request: web.Request) -> web.Response:
        acc, params = await server._signed(request)
        return web.json_response(lookup(acc.api_key, params).to_json())

    async def cancel_order(request: web.Request) -> web.Response:
        acc, params = await server._signed(request)
        order = unknown_order_on_cancel(lambda: lookup(acc.api_key, params))
        state.cancel_order(order)
        server._notify(order)
        data = order.to_json()
        data["origClientOrderId"] = order.client_order_id
        data["transactTime"] = order.update_time
        return web.json_response(data)

    def account_orders(api_key: str, symbol: str | None) -> list[FakeOrder]:
        if symbol is not None:
            state.market(symbol)
        return own_orders(state.orders.values(), api_key, symbol)

    async def open_orders(request: web.Request) -> web.Response:
        acc, params = await server._signed(request)
        return web.json_response([o.to_json() for o in account_orders(acc.api_key, params.get("symbol")) if o.is_open])

    async def all_orders(request: web.Request) -> web.Response:
        acc, params = await server._signed(request)
        if params.get("symbol") is None:
            raise FakeExchangeError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
        rows = account_orders(acc.api_key, params["symbol"])
        if "startTime" in params:
            rows = [o for o in rows if o.time >= int(params["startTime"])]
        limit = min(int(params.get("limit", "500")), 1000)
        return web.json_response([o.to_json() for o in rows[-limit:]])

    async def my_trades(request: web.Request) -> web.Response:
        acc, params = await server._signed(request)
        market = state.market(params.get("symbol"))
        fills = state.fills_of(acc.api_key, market.symbol_id)
        if "startTime" in params:
            fills = [f for f in fills if f.time >= int(params["startTime"])]
        if "orderId" in params:
            fills = [f for f in fills if str(f.order_id) == params["orderId"]]
        limit = min(int(params.get("limit", "500")), 1000)
        return web.json_response(
            [
                {
                    "symbol": f.symbol_id,
                    "id": f.id,
                    "orderId": f.order_id,
                    "orderListId": -1,
                    "price": _S(f.price),
                    "qty": _S(f.qty),
                    "quoteQty": _S(f.price * f.qty),
                    "commission": _S(f.commission),
                    "commissionAsset": f.commission_asset,
                    "time": f.time,
                    "isBuyer": f.is_buyer,
                    "isMaker": f.is_maker,
                    "isBestMatch": True,
                }
                for f in fills[:limit]
            ]
        )

    prefix = "/api/v3"
    return [
        *clock_routes(prefix, server),
        web.get(f"{prefix}/exchangeInfo", exchange_info),
        web.get(f"{prefix}/ticker/24hr", ticker_24hr),
        web.get(f"{prefix}/depth", depth),
        web.get(f"{prefix}/klines", klines),
        web.get(f"{prefix}/aggTrades", agg_trades),
        web.get(f"{prefix}/trades", trades),
        web.get(f"{prefix}/account", account),
        web.post(f"{prefix}/order", new_order),
        web.get(f"{prefix}/order", get_order),
        web.delete(f"{prefix}/order", cancel_order),
        web.get(f"{prefix}/openOrders", open_orders),
        web.get(f"{prefix}/allOrders", all_orders),
        web.get(f"{prefix}/myTrades", my_trades),
        *capital_routes(server),
    ]
