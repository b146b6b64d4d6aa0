"""Orders: one class per type, the state machine, groups and the orders manager."""

from octobot_trading.personal_data.orders.groups import GroupKind, OrderGroup
from octobot_trading.personal_data.orders.order import Order, OrderEvent
from octobot_trading.personal_data.orders.order_types import (
    ORDER_CLASSES,
    LimitOrder,
    MarketOrder,
    StopLossLimitOrder,
    StopLossOrder,
    TakeProfitLimitOrder,
    TakeProfitOrder,
    TrailingStopLimitOrder,
    TrailingStopOrder,
    create_order_instance,
)
from octobot_trading.personal_data.orders.orders_manager import OrdersManager
from octobot_trading.personal_data.orders.states import TRANSITIONS

__all__ = [
    "ORDER_CLASSES",
    "TRANSITIONS",
    "GroupKind",
    "LimitOrder",
    "MarketOrder",
    "Order",
    "OrderEvent",
    "OrderGroup",
    "OrdersManager",
    "StopLossLimitOrder",
    "StopLossOrder",
    "TakeProfitLimitOrder",
    "TakeProfitOrder",
    "TrailingStopLimitOrder",
    "TrailingStopOrder",
    "create_order_instance",
]
