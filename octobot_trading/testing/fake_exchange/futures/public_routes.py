"""Public ``/fapi/v1`` routes of the fake USDⓈ-M venue (``/dapi/v1`` on the COIN-M one): markets,
candles, mark price and funding."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from octobot_trading.testing.fake_exchange.common import (
    agg_trade_row,
    aggregate,
    book_limit,
    book_sides,
    clock_routes,
    kline_rows,
    lot_size_filter,
    one_or_all,
    parse_interval,
    price_filter,
    public_fills,
    time_window,
    trade_row,
)
from octobot_trading.testing.fake_exchange.futures.markets import FUNDING_INTERVAL_MS, FuturesMarket
from octobot_trading.testing.fake_exchange.state import CandleRow
from octobot_trading.util.decimals import decimal_to_str, divide_to_step

if TYPE_CHECKING:
    from octobot_trading.testing.fake_exchange.futures.server import FakeFuturesServer

__all__ = ["build_routes", "market_json"]

_S = decimal_to_str
_BOOK_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
_ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"]


def market_json(market: FuturesMarket) -> dict[str, Any]:
    """One ``exchangeInfo`` symbol entry (a USDⓈ-M contract, or a COIN-M one: ``contractSize``,
    ``contractStatus``, no minimum notional)."""
    data: dict[str, Any] = {
        "symbol": market.symbol_id,
        "pair": market.pair,
        "contractType": "CURRENT_QUARTER" if market.is_dated else "PERPETUAL",
        "deliveryDate": market.delivery_ms if market.delivery_ms is not None else 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": _S(market.brackets[0].maint_margin_ratio * 100),
        "requiredMarginPercent": _S(divide_to_step(Decimal(100), Decimal(market.max_leverage()), Decimal("0.0001"))),
        "baseAsset": market.base,
        "quoteAsset": market.quote,
        "marginAsset": market.settle,
        "pricePrecision": market.price_precision,
        "quantityPrecision": market.quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            price_filter(market.tick_size),
            lot_size_filter(market.min_qty, market.max_qty, market.step_size),
            lot_size_filter(market.min_qty, market.market_max_qty, market.step_size, "MARKET_LOT_SIZE"),
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": _S(market.min_notional)},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": list(_ORDER_TYPES),
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        "permissionSets": [],
    }
    if market.contract_size is not None:
        del data["status"], data["permissionSets"], data["underlyingSubType"], data["settlePlan"]
        data["contractStatus"] = "TRADING"
        data["contractSize"] = int(market.contract_size)
        data["equalQtyPrecision"] = 4
        data["filters"] = [f for f in data["filters"] if f["filterType"] != "MIN_NOTIONAL"]
    return data


def _candles(rows: list[CandleRow], row_interval: int, query: Any) -> tuple[list[CandleRow], int]:
    """The candles a ``klines`` query asks for (at most 1500) and their interval."""
    interval = parse_interval(query)
    return time_window(aggregate(rows, row_interval, interval), query, 1500), interval


def premium_index(market: FuturesMarket) -> dict[str, Any]:
    """The ``/fapi/v1/premiumIndex`` entry of ``market`` (``time``: the replay's now; a dated
    future quotes no funding: empty rates, next funding time 0)."""
    if market.is_dated:
        return {
            "symbol": market.symbol_id,
            "markPrice": _S(market.mark_price),
            "indexPrice": _S(market.mark_price),
            "estimatedSettlePrice": _S(market.mark_price),
            "lastFundingRate": "",
            "interestRate": "",
            "nextFundingTime": 0,
            "time": market.now_ms,
        }
    next_time = market.next_funding_time()
    return {
        "symbol": market.symbol_id,
        "pair": market.pair,
        "markPrice": _S(market.mark_price),
        "indexPrice": _S(market.mark_price),
        "estimatedSettlePrice": _S(market.mark_price),
        "lastFundingRate": _S(market.funding_rate_at(next_time)),
        "interestRate": "0.00010000",
        "nextFundingTime": next_time,
        "time": market.now_ms,
    }


def funding_history(market: FuturesMarket) -> list[dict[str, Any]]:
    """Funding events reached by the replay: the data's (raw times) and those the venue settled, by time."""
    now = market.now_ms
    rows: dict[int, dict[str, Any]] = {}
    for time_ms, rate in market.funding_rates:
        if time_ms - time_ms % FUNDING_INTERVAL_MS <= now:
            mark = next(
                (row[1] for row in market.mark_candles if row[0] == time_ms - time_ms % FUNDING_INTERVAL_MS), None
            )
            rows[time_ms - time_ms % FUNDING_INTERVAL_MS] = {
                "symbol": market.symbol_id,
                "fundingTime": time_ms,
                "fundingRate": _S(rate),
                "markPrice": "" if mark is None else _S(mark),
            }
    for time_ms, rate, mark in market.settled_funding:
        rows.setdefault(
            time_ms,
            {"symbol": market.symbol_id, "fundingTime": time_ms, "fundingRate": _S(rate), "markPrice": _S(mark)},
        )
    return [rows[t] for t in sorted(rows)]


def build_routes(server: FakeFuturesServer) -> list[web.RouteDef]:
    """The public routes of ``server``."""
    venue = server.venue

    async def exchange_info(request: web.Request) -> web.Response:
        settles = sorted({m.settle for m in venue.markets.values()})
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": server.clock.now_ms(),
                **({} if server.is_coinm else {"futuresType": "U_MARGINED"}),
                "rateLimits": [],
                "exchangeFilters": [],
                "assets": [{"asset": a, "marginAvailable": True, "autoAssetExchange": "0"} for a in settles],
                "symbols": [market_json(m) for m in venue.markets.values()],
            }
        )

    async def klines(request: web.Request) -> web.Response:
        market = venue.market(request.query.get("symbol"))
        rows, interval = _candles(market.visible_candles(), market.interval_ms, request.query)
        return web.json_response(kline_rows(rows, interval))

    async def mark_klines(request: web.Request) -> web.Response:
        market = venue.market(request.query.get("symbol"))
        rows, interval = _candles(market.visible_marks(), market.marks_interval_ms, request.query)
        return web.json_response(
            [
                [ts, _S(o), _S(h), _S(lo), _S(c), "0", ts + interval - 1, "0", 0, "0", "0", "0"]
                for ts, o, h, lo, c, _ in rows
            ]
        )

    async def premium(request: web.Request) -> web.Response:
        reply = one_or_all(request.query, venue.markets, venue.market, premium_index)
        if server.is_coinm and not isinstance(reply, list):  # COIN-M answers a list, even for one symbol
            reply = [reply]
        return web.json_response(reply)

    async def funding_rate(request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        markets = [venue.market(symbol)] if symbol is not None else list(venue.markets.values())
        rows = sorted((r for m in markets for r in funding_history(m)), key=lambda r: int(r["fundingTime"]))
        start, end = request.query.get("startTime"), request.query.get("endTime")
        if start is not None:
            rows = [r for r in rows if int(r["fundingTime"]) >= int(start)]
        if end is not None:
            rows = [r for r in rows if int(r["fundingTime"]) <= int(end)]
        limit = min(int(request.query.get("limit", "100")), 1000)
        return web.json_response(rows[:limit] if start is not None else rows[-limit:])

    def ticker(market: FuturesMarket) -> dict[str, Any]:
        window = max(1, 86_400_000 // market.interval_ms)
        rows = market.visible_candles()[-window:]
        first = rows[0]
        volume = sum((r[5] for r in rows), Decimal(0))
        last = market.last_price
        return {
            "symbol": market.symbol_id,
            "priceChange": _S(last - first[1]),
            "priceChangePercent": _S(divide_to_step((last - first[1]) * 100, first[1], Decimal("0.001"))),
            "weightedAvgPrice": _S(last),
            "lastPrice": _S(last),
            "lastQty": _S(market.min_qty),
            "openPrice": _S(first[1]),
            "highPrice": _S(max(max(r[2] for r in rows), last)),
            "lowPrice": _S(min(min(r[3] for r in rows), last)),
            "volume": _S(volume),
            "quoteVolume": _S(sum((r[5] * r[4] for r in rows), Decimal(0))),
            "openTime": first[0],
            "closeTime": market.now_ms - 1,
            "firstId": 0,
            "lastId": 0,
            "count": len(rows),
        }

    async def ticker_24hr(request: web.Request) -> web.Response:
        return web.json_response(one_or_all(request.query, venue.markets, venue.market, ticker))

    async def ticker_price(request: web.Request) -> web.Response:
        now = server.clock.now_ms()
        return web.json_response(
            one_or_all(
                request.query,
                venue.markets,
                venue.market,
                lambda m: {"symbol": m.symbol_id, "price": _S(m.last_price), "time": now},
            )
        )

    async def depth(request: web.Request) -> web.Response:
        market = venue.market(request.query.get("symbol"))
        limit = book_limit(request.query, 500, _BOOK_LIMITS)
        bids, asks = book_sides(market.last_price, market.tick_size, market.min_qty * 100, limit)
        now = server.clock.now_ms()
        return web.json_response({"lastUpdateId": market.cursor, "E": now, "T": now, "bids": bids, "asks": asks})

    async def book_ticker(request: web.Request) -> web.Response:
        def row(m: FuturesMarket) -> dict[str, Any]:
            return {
                "symbol": m.symbol_id,
                "bidPrice": _S(m.last_price - m.tick_size),
                "bidQty": _S(m.min_qty * 100),
                "askPrice": _S(m.last_price + m.tick_size),
                "askQty": _S(m.min_qty * 100),
                "time": m.now_ms,
            }

        return web.json_response(one_or_all(request.query, venue.markets, venue.market, row))

    async def funding_info(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "symbol": m.symbol_id,
                    "adjustedFundingRateCap": "0.02000000",
                    "adjustedFundingRateFloor": "-0.02000000",
                    "fundingIntervalHours": FUNDING_INTERVAL_MS // 3_600_000,
                    "disclaimer": False,
                }
                for m in venue.markets.values()
                if not m.is_dated
            ]
        )

    def market_fills(market: FuturesMarket, limit: int) -> list[Any]:
        return public_fills(venue.orders.values(), market.symbol_id, limit)

    async def agg_trades(request: web.Request) -> web.Response:
        market = venue.market(request.query.get("symbol"))
        fills = market_fills(market, min(int(request.query.get("limit", "500")), 1000))
        return web.json_response([agg_trade_row(f, f.maker == (f.side == "BUY")) for f in fills])

    async def trades(request: web.Request) -> web.Response:
        market = venue.market(request.query.get("symbol"))
        fills = market_fills(market, min(int(request.query.get("limit", "500")), 1000))
        return web.json_response([trade_row(f, f.maker == (f.side == "BUY")) for f in fills])

    prefix = f"{server.api_root}/v1"
    return [
        *clock_routes(prefix, server),
        web.get(f"{prefix}/exchangeInfo", exchange_info),
        web.get(f"{prefix}/klines", klines),
        web.get(f"{prefix}/markPriceKlines", mark_klines),
        web.get(f"{prefix}/premiumIndex", premium),
        web.get(f"{prefix}/fundingRate", funding_rate),
        web.get(f"{prefix}/ticker/24hr", ticker_24hr),
        web.get(f"{prefix}/ticker/price", ticker_price),
        web.get(f"{prefix}/depth", depth),
        web.get(f"{prefix}/ticker/bookTicker", book_ticker),
        web.get(f"{prefix}/fundingInfo", funding_info),
        web.get(f"{prefix}/aggTrades", agg_trades),
        web.get(f"{prefix}/trades", trades),
    ]
