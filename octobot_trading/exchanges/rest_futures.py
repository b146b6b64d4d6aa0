"""The futures calls of :class:`~octobot_trading.exchanges.rest_exchange.RestExchange` beyond
positions, leverage, margin mode and the current funding rate (which ``RestExchange`` holds).

They delegate to the exchange's connector (``NotSupported`` where it lacks them, as the
connector contract says) and pass every result through the venue class's hook:

========================================  =========================================
call                                      hook
========================================  =========================================
``set_position_mode``                     (nothing returned)
``fetch_contract_settings``               (none: the venue's settings as read)
``fetch_funding_rate_history``            ``fix_funding_rate`` (each event)
``fetch_mark_price``                      ``fix_mark_price``
``fetch_mark_ohlcv``                      ``fix_candles`` (the list)
``fetch_funding_history``                 ``fix_funding_payment`` (each payment)
``fetch_my_liquidations``                 ``fix_liquidation`` (each liquidation)
========================================  =========================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from octobot_trading.enums import PositionMode, TimeFrame
from octobot_trading.exchanges.types import (
    Candle,
    ContractSettings,
    ExchangeLiquidation,
    FundingPayment,
    FundingRate,
    MarkPrice,
)

if TYPE_CHECKING:
    from octobot_trading.exchanges.connector import ExchangeConnector

__all__ = ["FuturesCalls"]


class FuturesCalls:
    """Mixed into ``RestExchange``: futures calls through ``self.connector`` and the ``fix_*`` hooks."""

    connector: ExchangeConnector

    def fix_funding_rate(self, rate: FundingRate) -> FundingRate:
        """Repair a funding rate before it is returned."""
        return rate

    def fix_candles(self, candles: list[Candle]) -> list[Candle]:
        """Repair candles before they are returned."""
        return candles

    def fix_mark_price(self, mark: MarkPrice) -> MarkPrice:
        """Repair a mark price before it is returned."""
        return mark

    def fix_funding_payment(self, payment: FundingPayment) -> FundingPayment:
        """Repair one of the account's funding payments before it is returned."""
        return payment

    def fix_liquidation(self, liquidation: ExchangeLiquidation) -> ExchangeLiquidation:
        """Repair one of the account's liquidations before it is returned."""
        return liquidation

    async def set_position_mode(self, symbol: str, position_mode: PositionMode) -> None:
        """Set one-way or hedge mode for a futures symbol (per account on some venues, e.g. Binance)."""
        await self.connector.set_position_mode(symbol, position_mode)

    async def fetch_contract_settings(self, symbols: list[str]) -> list[ContractSettings]:
        """Return the venue's leverage, margin mode and position mode of each contract of ``symbols``."""
        return await self.connector.fetch_contract_settings(symbols)

    async def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[FundingRate]:
        """Return past funding events of a perpetual, oldest first."""
        return [self.fix_funding_rate(r) for r in await self.connector.fetch_funding_rate_history(symbol, since, limit)]

    async def fetch_mark_price(self, symbol: str) -> MarkPrice:
        """Return the mark price of a contract."""
        return self.fix_mark_price(await self.connector.fetch_mark_price(symbol))

    async def fetch_mark_ohlcv(
        self, symbol: str, time_frame: TimeFrame | str, since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return mark-price candles of a contract, oldest first."""
        return self.fix_candles(await self.connector.fetch_mark_ohlcv(symbol, time_frame, since, limit))

    async def fetch_funding_history(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[FundingPayment]:
        """Return the account's funding payments, oldest first."""
        return [self.fix_funding_payment(p) for p in await self.connector.fetch_funding_history(symbol, since, limit)]

    async def fetch_my_liquidations(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[ExchangeLiquidation]:
        """Return the account's liquidations, oldest first."""
        return [self.fix_liquidation(x) for x in await self.connector.fetch_my_liquidations(symbol, since, limit)]
