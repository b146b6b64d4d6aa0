"""What the fake futures venues store: orders, conditional (algo) orders, fills, income and force orders.

Each record renders itself in the shape Binance's ``/fapi`` endpoints return (the shapes ccxt's
``binanceusdm`` parses); amounts are exact ``Decimal`` rendered as plain strings. A record of an
inverse (COIN-M) contract carries its ``contract_size`` and renders the ``/dapi`` shape instead:
the value traded in the base asset (``cumBase``, ``baseQty``: ``qty x contract_size / price``,
8 decimals) where a linear one has it in the quote, and a harmonic ``avgPrice`` (exact, rounded once
to 1e-18: one price filled is that price).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from octobot_trading.util.decimals import ZERO, decimal_to_str, divide_to_step

__all__ = ["AlgoOrder", "ForceOrder", "FuturesFill", "FuturesOrder", "Income", "base_value", "mean_fill_price"]

_S = decimal_to_str
_AVG_STEP = Decimal("1e-18")
_BASE_STEP = Decimal("1e-8")


def base_value(quantity: Decimal, contract_size: Decimal, price: Decimal) -> Decimal:
    """The base-asset value of ``quantity`` inverse contracts at ``price`` (8 decimals, as the venue prints)."""
    return divide_to_step(quantity * contract_size, price, _BASE_STEP)


#: Regular order types accepted by ``POST /fapi/v1/order``.
ORDER_TYPES = ("LIMIT", "MARKET")
#: Conditional order types, accepted only by ``POST /fapi/v1/algoOrder``.
ALGO_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET")


def mean_fill_price(fills: list[FuturesFill]) -> Decimal:
    """The average price of ``fills`` (0 for none): quantity-weighted (linear), harmonic (inverse);
    exact, rounded once to 1e-18."""
    total = sum((Fraction(f.qty) for f in fills), Fraction(0))
    if not total:
        return ZERO
    if fills[0].contract_size is None:
        mean = sum((Fraction(f.qty) * Fraction(f.price) for f in fills), Fraction(0)) / total
    else:
        mean = total / sum((Fraction(f.qty) / Fraction(f.price) for f in fills), Fraction(0))
    return divide_to_step(Decimal(mean.numerator), Decimal(mean.denominator), _AVG_STEP)


@dataclass
class FuturesFill:
    """One fill of one order (a row of ``/fapi/v1/userTrades``)."""

    id: int
    order_id: int
    symbol_id: str
    side: str
    position_side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    time: int
    maker: bool
    #: Contract size of an inverse contract (None: linear).
    contract_size: Decimal | None = None

    def to_json(self) -> dict[str, object]:
        """The ``/fapi/v1/userTrades`` row (``/dapi/v1/userTrades`` for an inverse contract)."""
        data: dict[str, object] = {
            "buyer": self.side == "BUY",
            "commission": _S(self.commission),
            "commissionAsset": self.commission_asset,
            "id": self.id,
            "maker": self.maker,
            "orderId": self.order_id,
            "price": _S(self.price),
            "qty": _S(self.qty),
            "quoteQty": _S(self.price * self.qty),
            "realizedPnl": _S(self.realized_pnl),
            "side": self.side,
            "positionSide": self.position_side,
            "symbol": self.symbol_id,
            "time": self.time,
        }
        if self.contract_size is not None:
            del data["quoteQty"]
            data["baseQty"] = _S(base_value(self.qty, self.contract_size, self.price))
            data["pair"] = self.symbol_id.split("_")[0]
            data["marginAsset"] = self.commission_asset
        return data


@dataclass
class FuturesOrder:
    """A regular order (Binance field meanings); ``orig_type`` differs from ``type`` for triggered algo orders."""

    order_id: int
    client_order_id: str
    api_key: str
    symbol_id: str
    side: str
    type: str
    price: Decimal
    orig_qty: Decimal
    time: int
    position_side: str = "BOTH"
    reduce_only: bool = False
    close_position: bool = False
    time_in_force: str = "GTC"
    stop_price: Decimal = ZERO
    orig_type: str = ""
    working_type: str = "CONTRACT_PRICE"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    #: How many times ``PUT /fapi/v1/order`` modified the order.
    amendments: int = 0
    fills: list[FuturesFill] = field(default_factory=list)
    #: Contract size of an inverse contract (None: linear).
    contract_size: Decimal | None = None
    #: Exact sum of ``qty / price`` over the fills (inverse: the harmonic mean price's denominator).
    inverse_sum: Fraction = field(default_factory=Fraction)

    @property
    def is_open(self) -> bool:
        """True while the order rests in the book."""
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.orig_qty - self.executed_qty

    @property
    def avg_price(self) -> Decimal:
        """Average fill price (0 before any fill); harmonic for an inverse contract."""
        if not self.executed_qty:
            return ZERO
        if self.contract_size is not None and self.inverse_sum:
            mean = Fraction(self.executed_qty) / self.inverse_sum
            return divide_to_step(Decimal(mean.numerator), Decimal(mean.denominator), _AVG_STEP)
        return divide_to_step(self.cum_quote, self.executed_qty, _AVG_STEP)

    def add_fill_value(self, qty: Decimal, price: Decimal) -> None:
        """Count ``qty`` filled at ``price`` in the order's cumulative value and average price."""
        self.cum_quote += qty * price
        if self.contract_size is not None:
            self.inverse_sum += Fraction(qty) / Fraction(price)

    def to_json(self, *, with_time: bool = True) -> dict[str, object]:
        """The ``GET /fapi/v1/order`` shape (``with_time=False``: the ``POST`` reply, which has no ``time``)."""
        data: dict[str, object] = {
            "orderId": self.order_id,
            "symbol": self.symbol_id,
            "status": self.status,
            "clientOrderId": self.client_order_id,
            "price": _S(self.price),
            "avgPrice": _S(self.avg_price),
            "origQty": _S(self.orig_qty),
            "executedQty": _S(self.executed_qty),
            "cumQty": _S(self.executed_qty),
            "cumQuote": _S(self.cum_quote),
            "timeInForce": self.time_in_force,
            "type": self.type,
            "reduceOnly": self.reduce_only,
            "closePosition": self.close_position,
            "side": self.side,
            "positionSide": self.position_side,
            "stopPrice": _S(self.stop_price),
            "workingType": self.working_type,
            "priceProtect": False,
            "origType": self.orig_type or self.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "updateTime": self.update_time or self.time,
        }
        if self.contract_size is not None:
            del data["cumQuote"]
            value = self.inverse_sum * Fraction(self.contract_size)
            data["cumBase"] = _S(divide_to_step(Decimal(value.numerator), Decimal(value.denominator), _BASE_STEP))
            data["pair"] = self.symbol_id.split("_")[0]
        if with_time:
            data["time"] = self.time
        return data


@dataclass
class AlgoOrder:
    """A conditional order of the algo service (``STOP_MARKET``, ``TAKE_PROFIT_MARKET``, ``STOP``, ``TAKE_PROFIT``)."""

    algo_id: int
    client_algo_id: str
    api_key: str
    symbol_id: str
    side: str
    order_type: str
    quantity: Decimal
    trigger_price: Decimal
    create_time: int
    price: Decimal = ZERO
    position_side: str = "BOTH"
    reduce_only: bool = False
    close_position: bool = False
    working_type: str = "CONTRACT_PRICE"
    time_in_force: str = "GTC"
    algo_status: str = "NEW"
    update_time: int = 0
    trigger_time: int = 0
    actual_order_id: int | None = None

    @property
    def is_open(self) -> bool:
        """True until triggered, canceled or expired."""
        return self.algo_status == "NEW"

    def to_json(self) -> dict[str, object]:
        """The ``/fapi/v1/algoOrder`` shape."""
        return {
            "algoId": self.algo_id,
            "clientAlgoId": self.client_algo_id,
            "algoType": "CONDITIONAL",
            "orderType": self.order_type,
            "symbol": self.symbol_id,
            "side": self.side,
            "positionSide": self.position_side,
            "timeInForce": self.time_in_force,
            "quantity": _S(self.quantity),
            "algoStatus": self.algo_status,
            "actualOrderId": "" if self.actual_order_id is None else str(self.actual_order_id),
            "triggerPrice": _S(self.trigger_price),
            "price": _S(self.price),
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": self.working_type,
            "priceMatch": "NONE",
            "closePosition": self.close_position,
            "priceProtect": False,
            "reduceOnly": self.reduce_only,
            "createTime": self.create_time,
            "updateTime": self.update_time or self.create_time,
            "triggerTime": self.trigger_time,
            "goodTillDate": 0,
        }


@dataclass
class Income:
    """One row of ``/fapi/v1/income``: ``REALIZED_PNL``, ``COMMISSION`` or ``FUNDING_FEE``."""

    tran_id: int
    symbol_id: str
    income_type: str
    income: Decimal
    asset: str
    time: int
    trade_id: str = ""

    def to_json(self) -> dict[str, object]:
        """The ``/fapi/v1/income`` row."""
        return {
            "symbol": self.symbol_id,
            "incomeType": self.income_type,
            "income": _S(self.income),
            "asset": self.asset,
            "info": self.income_type,
            "time": self.time,
            "tranId": self.tran_id,
            "tradeId": self.trade_id,
        }


@dataclass
class ForceOrder:
    """An order the venue placed to close a position: ``LIQUIDATION`` or ``ADL`` (``/fapi/v1/forceOrders``)."""

    order: FuturesOrder
    auto_close_type: str
