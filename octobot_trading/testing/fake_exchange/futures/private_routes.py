"""Signed ``/fapi`` routes of the fake USDⓈ-M venue (``/dapi`` on the COIN-M one): orders, conditional
orders, positions, settings, history."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from octobot_trading.testing.fake_exchange.common import order_ids, own_orders, unknown_order_on_cancel
from octobot_trading.testing.fake_exchange.futures import coinm_views, views
from octobot_trading.testing.fake_exchange.futures.algo import AlgoRequest, cancel_algo, find_algo, place_algo
from octobot_trading.testing.fake_exchange.futures.markets import FuturesMarket
from octobot_trading.testing.fake_exchange.futures.records import AlgoOrder, FuturesOrder
from octobot_trading.testing.fake_exchange.futures.state import FuturesVenueAccount, OrderRequest
from octobot_trading.testing.fake_exchange.state import FakeExchangeError
from octobot_trading.util.decimals import decimal_to_str

if TYPE_CHECKING:
    from octobot_trading.testing.fake_exchange.futures.server import FakeFuturesServer

__all__ = ["build_routes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_SUCCESS = {"code": 200, "msg": "success"}


def _flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise FakeExchangeError(-1100, f"Illegal characters found in parameter '{name}'.")
    return value == "true"


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise FakeExchangeError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
    return value


def _limit(params: dict[str, str], default: int, maximum: int) -> int:
    return min(int(params.get("limit", str(default))), maximum)


def _window(
    rows: list[Any], params: dict[str, str], time_of: Callable[[Any], int], default: int, maximum: int
) -> list[Any]:
    if "startTime" in params:
        rows = [r for r in rows if time_of(r) >= int(params["startTime"])]
    if "endTime" in params:
        rows = [r for r in rows if time_of(r) <= int(params["endTime"])]
    limit = _limit(params, default, maximum)
    return rows[:limit] if "startTime" in params else rows[-limit:]


def build_routes(server: FakeFuturesServer) -> list[web.RouteDef]:
    """The signed routes of ``server``."""
    venue = server.venue
    decimal = server._decimal

    def signed(handler: Callable[[FuturesVenueAccount, dict[str, str]], Any]) -> Handler:
        async def wrapped(request: web.Request) -> web.Response:
            account, params = await server.signed_account(request)
            return web.json_response(handler(account, params))

        return wrapped

    # -- orders -------------------------------------------------------------------------------
    def new_order(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        market = venue.market(params.get("symbol"))
        order_type = _required(params, "type")
        request = OrderRequest(
            market.symbol_id,
            _required(params, "side"),
            order_type,
            decimal(params, "quantity") or Decimal(0),
            decimal(params, "price", required=False),
            params.get("newClientOrderId") or f"fake-{venue.next_order_id()}",
            position_side=params.get("positionSide", "BOTH"),
            reduce_only=_flag(params, "reduceOnly"),
            time_in_force=params.get("timeInForce", "GTC"),
        )
        if order_type == "LIMIT" and "timeInForce" not in params:
            raise FakeExchangeError(
                -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."
            )
        return venue.place_order(account, request).to_json(with_time=False)

    def lookup(account: FuturesVenueAccount, params: dict[str, str]) -> FuturesOrder:
        market = venue.market(params.get("symbol"))
        order_id, client_id = order_ids(params)
        return venue.find_order(account.api_key, market.symbol_id, order_id, client_id)

    def get_order(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        return lookup(account, params).to_json()

    def modify_order(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        order = lookup(account, params)
        quantity, price = decimal(params, "quantity"), decimal(params, "price")
        assert quantity is not None and price is not None
        return venue.modify(order, _required(params, "side"), quantity, price).to_json(with_time=False)

    def cancel_order(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        order = unknown_order_on_cancel(lambda: lookup(account, params))
        return venue.cancel(order).to_json(with_time=False)

    def cancel_all(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        market = venue.market(params.get("symbol"))
        for order in venue.open_orders_of(account.api_key, market.symbol_id):
            if isinstance(order, FuturesOrder):
                venue.cancel(order)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def account_orders(account: FuturesVenueAccount, symbol: str | None) -> list[FuturesOrder]:
        if symbol is not None:
            venue.market(symbol)
        return own_orders(venue.orders.values(), account.api_key, symbol)

    def open_orders(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        return [o.to_json() for o in account_orders(account, params.get("symbol")) if o.is_open]

    def open_order(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        order = lookup(account, params)
        if not order.is_open:
            raise FakeExchangeError(-2013, "Order does not exist.")
        return order.to_json()

    def all_orders(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = account_orders(account, params.get("symbol"))  # the symbol is optional on USDⓈ-M
        if "orderId" in params:
            rows = [o for o in rows if o.order_id >= int(params["orderId"])]
        return [o.to_json() for o in _window(rows, params, lambda o: o.time, 500, 1000)]

    def user_trades(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        market = venue.market(_required(params, "symbol"))
        fills = venue.fills_of(account.api_key, market.symbol_id)
        if "orderId" in params:
            fills = [f for f in fills if str(f.order_id) == params["orderId"]]
        if "fromId" in params:
            fills = [f for f in fills if f.id >= int(params["fromId"])]
        return [f.to_json() for f in _window(fills, params, lambda f: f.time, 500, 1000)]

    # -- conditional (algo) orders --------------------------------------------------------------
    def new_algo(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        if params.get("algoType") != "CONDITIONAL":
            raise FakeExchangeError(-1102, "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.")
        market = venue.market(params.get("symbol"))
        trigger = decimal(params, "triggerPrice")
        assert trigger is not None
        request = AlgoRequest(
            market.symbol_id,
            _required(params, "side"),
            _required(params, "type"),
            decimal(params, "quantity", required=False),
            trigger,
            params.get("clientAlgoId") or f"fake-algo-{venue.next_algo_id()}",
            price=decimal(params, "price", required=False),
            position_side=params.get("positionSide", "BOTH"),
            reduce_only=_flag(params, "reduceOnly"),
            close_position=_flag(params, "closePosition"),
            working_type=params.get("workingType", "CONTRACT_PRICE"),
            time_in_force=params.get("timeInForce", "GTC"),
        )
        return place_algo(venue, account, request).to_json()

    def algo_lookup(account: FuturesVenueAccount, params: dict[str, str]) -> AlgoOrder:
        return find_algo(venue, account.api_key, params.get("algoId"), params.get("clientAlgoId"))

    def get_algo(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        return algo_lookup(account, params).to_json()

    def cancel_algo_order(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        try:
            order = algo_lookup(account, params)
        except FakeExchangeError as exc:
            if exc.code == -2013:
                raise FakeExchangeError(-2011, "Unknown order sent.") from None
            raise
        cancel_algo(venue, order)
        return {"algoId": order.algo_id, "clientAlgoId": order.client_algo_id, **_SUCCESS}

    def own_algos(account: FuturesVenueAccount, symbol: str | None) -> list[AlgoOrder]:
        if symbol is not None:
            venue.market(symbol)
        return sorted(
            (a for a in venue.algo_orders.values() if a.api_key == account.api_key and symbol in (None, a.symbol_id)),
            key=lambda a: a.algo_id,
        )

    def open_algos(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        return [a.to_json() for a in own_algos(account, params.get("symbol")) if a.is_open]

    def all_algos(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = own_algos(account, _required(params, "symbol"))
        return [a.to_json() for a in _window(rows, params, lambda a: a.create_time, 500, 1000)]

    def cancel_all_algos(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        for algo in own_algos(account, _required(params, "symbol")):
            if algo.is_open:
                cancel_algo(venue, algo)
        return dict(_SUCCESS)

    # -- settings ---------------------------------------------------------------------------------
    def leverage(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        market = venue.market(params.get("symbol"))
        try:
            value = int(_required(params, "leverage"))
        except ValueError:
            raise FakeExchangeError(-1100, "Illegal characters found in parameter 'leverage'.") from None
        venue.set_leverage(account, market, value)
        if server.is_coinm:
            return coinm_views.leverage_reply(market, value)
        config = views.symbol_config(market, account)
        return {"leverage": value, "maxNotionalValue": config["maxNotionalValue"], "symbol": market.symbol_id}

    def margin_type(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        venue.set_margin_type(account, venue.market(params.get("symbol")), _required(params, "marginType"))
        return dict(_SUCCESS)

    def dual_get(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        return {"dualSidePosition": account.dual_side}

    def dual_post(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        venue.set_dual_side(account, _flag(params, "dualSidePosition"))
        return dict(_SUCCESS)

    def requested_markets(params: dict[str, str]) -> list[FuturesMarket]:
        symbol = params.get("symbol")
        return [venue.market(symbol)] if symbol is not None else list(venue.markets.values())

    def brackets(account: FuturesVenueAccount, params: dict[str, str]) -> Any:
        bound = "qty" if server.is_coinm else "notional"
        return [views.bracket_json(m, bound) for m in requested_markets(params)]

    def symbol_config(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        return [views.symbol_config(m, account) for m in requested_markets(params)]

    def commission_rate(account: FuturesVenueAccount, params: dict[str, str]) -> dict[str, Any]:
        market = venue.market(_required(params, "symbol"))
        return {
            "symbol": market.symbol_id,
            "makerCommissionRate": decimal_to_str(venue.maker_fee),
            "takerCommissionRate": decimal_to_str(venue.taker_fee),
        }

    # -- positions, account, history --------------------------------------------------------------
    def risk(version: int) -> Callable[[FuturesVenueAccount, dict[str, str]], Any]:
        return lambda account, params: views.position_risk(venue, account, params.get("symbol"), version)

    def account_info(version: int) -> Callable[[FuturesVenueAccount, dict[str, str]], Any]:
        return lambda account, params: views.account_json(venue, account, version)

    def balance(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        return views.balance_json(venue, account)

    def income(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = sorted(account.incomes, key=lambda i: (i.time, i.tran_id))
        if "symbol" in params:
            rows = [i for i in rows if i.symbol_id == params["symbol"]]
        if "incomeType" in params:
            rows = [i for i in rows if i.income_type == params["incomeType"]]
        return [i.to_json() for i in _window(rows, params, lambda i: i.time, 100, 1000)]

    def force_orders(account: FuturesVenueAccount, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = [f for f in venue.force_orders if f.order.api_key == account.api_key]
        if "symbol" in params:
            rows = [f for f in rows if f.order.symbol_id == params["symbol"]]
        if "autoCloseType" in params:
            rows = [f for f in rows if f.auto_close_type == params["autoCloseType"]]
        return [f.order.to_json() for f in _window(rows, params, lambda f: f.order.time, 50, 100)]

    v1 = f"{server.api_root}/v1"
    common = [
        web.post(f"{v1}/order", signed(new_order)),
        web.get(f"{v1}/order", signed(get_order)),
        web.put(f"{v1}/order", signed(modify_order)),
        web.get(f"{v1}/openOrder", signed(open_order)),
        web.delete(f"{v1}/order", signed(cancel_order)),
        web.delete(f"{v1}/allOpenOrders", signed(cancel_all)),
        web.get(f"{v1}/openOrders", signed(open_orders)),
        web.get(f"{v1}/allOrders", signed(all_orders)),
        web.get(f"{v1}/userTrades", signed(user_trades)),
        web.post(f"{v1}/algoOrder", signed(new_algo)),
        web.get(f"{v1}/algoOrder", signed(get_algo)),
        web.delete(f"{v1}/algoOrder", signed(cancel_algo_order)),
        web.get(f"{v1}/openAlgoOrders", signed(open_algos)),
        web.get(f"{v1}/allAlgoOrders", signed(all_algos)),
        web.delete(f"{v1}/algoOpenOrders", signed(cancel_all_algos)),
        web.post(f"{v1}/leverage", signed(leverage)),
        web.post(f"{v1}/marginType", signed(margin_type)),
        web.get(f"{v1}/positionSide/dual", signed(dual_get)),
        web.post(f"{v1}/positionSide/dual", signed(dual_post)),
        web.get(f"{v1}/commissionRate", signed(commission_rate)),
        web.get(f"{v1}/income", signed(income)),
        web.get(f"{v1}/forceOrders", signed(force_orders)),
    ]
    if server.is_coinm:
        return [
            *common,
            web.get(f"{v1}/positionRisk", signed(lambda a, p: coinm_views.position_risk(venue, a, p))),
            web.get(f"{v1}/account", signed(lambda a, p: coinm_views.account_json(venue, a))),
            web.get(f"{v1}/balance", signed(lambda a, p: views.balance_json(venue, a, coinm=True))),
            web.get(f"{server.api_root}/v2/leverageBracket", signed(brackets)),
        ]
    v2, v3 = "/fapi/v2", "/fapi/v3"
    return [
        *common,
        web.get(f"{v1}/leverageBracket", signed(brackets)),
        web.get(f"{v1}/symbolConfig", signed(symbol_config)),
        web.get(f"{v2}/positionRisk", signed(risk(2))),
        web.get(f"{v3}/positionRisk", signed(risk(3))),
        web.get(f"{v2}/account", signed(account_info(2))),
        web.get(f"{v3}/account", signed(account_info(3))),
        web.get(f"{v2}/balance", signed(balance)),
        web.get(f"{v3}/balance", signed(balance)),
    ]
