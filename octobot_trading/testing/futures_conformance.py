"""Futures conformance suite: reusable pytest tests of the connector contract's futures calls.

Subclass :class:`FuturesConnectorConformance` in a test module (name it ``Test...``) and provide a
``connector`` fixture yielding a connector on a test venue whose account holds margin in the
contract's settle currency and has no position, open order or other activity::

    class TestMyFutures(FuturesConnectorConformance):
        symbol = "XRP/USDT:USDT"

        @pytest.fixture
        async def connector(self):
            async with FakeFuturesServer() as server:
                conn = make_linear_connector(server)
                yield conn
                await conn.close()

Checks: contract markets (type, settle currency, contract size), the funding rate, typed
positions through open / grow / reduce / close (``reduceOnly`` never grows, sizes exact), the
settings (asking for the current one succeeds; changing the margin mode with a position raises
``OpenPositionsError``; a float leverage ``TypeError``; a non-positive one
``ConfigurationError(field="leverage")``), hedge mode holding both sides, and unknown symbols.

Balances: when the subclass overrides :meth:`FuturesConnectorConformance.move_mark_price` (how
the test venue's mark price moves), the settle currency's ``total`` is checked to be the **wallet
balance**: an open position's unrealized PnL is not in it (``free`` in ``[0, total]``,
``used = total - free``), the same on every connector (live and simulated).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest

from octobot_trading import errors
from octobot_trading.enums import MarginMode, MarketType, OrderSide, OrderType, PositionMode
from octobot_trading.exchanges.connector import ExchangeConnector
from octobot_trading.exchanges.types import ExchangePosition, FundingRate, MarketInfo

__all__ = ["FuturesConnectorConformance"]


class FuturesConnectorConformance:
    """The futures suite; see the module docstring. Override the class attributes to fit the venue."""

    pytestmark = [pytest.mark.asyncio]

    #: A listed perpetual the account can trade.
    symbol: ClassVar[str] = "XRP/USDT:USDT"
    #: A symbol the venue does not list.
    unlisted_symbol: ClassVar[str] = "NOTLISTED/USDT:USDT"
    #: Orders are sized to ``min_notional_multiple x`` the market's minimum cost (or 20 quote).
    min_notional_multiple: ClassVar[Decimal] = Decimal("3")
    #: Leverage set before trading.
    leverage: ClassVar[Decimal] = Decimal("5")

    async def move_mark_price(self, connector: ExchangeConnector, price: Decimal) -> None:
        """Move the test venue's mark price of :attr:`symbol` to ``price`` (override; the balance
        check is skipped without it)."""
        pytest.skip("the test venue's mark price cannot be moved: override move_mark_price")

    # -- helpers ----------------------------------------------------------------------------
    _ids: ClassVar[list[int]] = [0]

    def _client_id(self) -> str:
        self._ids[0] += 1
        return f"conformance-futures-{self._ids[0]}"

    async def _market(self, connector: ExchangeConnector) -> MarketInfo:
        return (await connector.load_markets())[self.symbol]

    async def _contracts(self, connector: ExchangeConnector) -> Decimal:
        """An amount of contracts worth a few times the market's minimum cost."""
        market = await self._market(connector)
        ticker = await connector.fetch_ticker(self.symbol)
        price = ticker.last or ticker.close
        assert price is not None and price > 0
        spec = market.spec
        cost = (spec.min_cost or Decimal("20")) * self.min_notional_multiple
        amount = spec.adapt_quantity(cost / (price * spec.contract_size))
        return max(amount, spec.min_amount or amount)

    async def _market_order(
        self, connector: ExchangeConnector, side: OrderSide, amount: Decimal, **params: object
    ) -> None:
        order = await connector.create_order(
            OrderType.MARKET, side, self.symbol, amount, client_order_id=self._client_id(), params=dict(params) or None
        )
        assert order.filled == amount

    async def _positions(self, connector: ExchangeConnector) -> dict[str, ExchangePosition]:
        positions = await connector.fetch_positions([self.symbol])
        assert all(isinstance(p, ExchangePosition) and p.symbol == self.symbol for p in positions)
        assert all(p.contracts > 0 for p in positions)  # only open positions are reported
        return {p.side: p for p in positions}

    # -- markets and funding ------------------------------------------------------------------
    async def test_contract_markets_carry_their_contract(self, connector: ExchangeConnector) -> None:
        """The symbol is a linear or inverse market with a settle currency and a contract size."""
        market = await self._market(connector)
        assert market.market_type in (MarketType.LINEAR, MarketType.INVERSE)
        assert market.settle == self.symbol.split(":")[1].split("-")[0]
        assert isinstance(market.spec.contract_size, Decimal) and market.spec.contract_size > 0

    async def test_funding_rate_is_typed(self, connector: ExchangeConnector) -> None:
        """The current funding rate is a Decimal of the symbol."""
        await connector.load_markets()
        rate = await connector.fetch_funding_rate(self.symbol)
        assert isinstance(rate, FundingRate) and rate.symbol == self.symbol and isinstance(rate.rate, Decimal)
        assert rate.mark_price is None or (isinstance(rate.mark_price, Decimal) and rate.mark_price > 0)

    # -- positions ----------------------------------------------------------------------------
    async def test_position_lifecycle_is_typed_and_exact(self, connector: ExchangeConnector) -> None:
        """Open, grow, reduce (reduce-only) and close a one-way long; sizes are exact Decimals."""
        await connector.load_markets()
        await connector.set_position_mode(self.symbol, PositionMode.ONE_WAY)
        await connector.set_leverage(self.symbol, self.leverage)
        assert await self._positions(connector) == {}
        amount = await self._contracts(connector)
        await self._market_order(connector, OrderSide.BUY, amount)
        (opened,) = (await self._positions(connector)).values()
        assert (opened.side, opened.contracts) == ("long", amount)
        assert opened.entry_price is not None and opened.entry_price > 0
        assert opened.leverage in (None, self.leverage)
        await self._market_order(connector, OrderSide.BUY, amount)
        grown = (await self._positions(connector))["long"]
        assert grown.contracts == 2 * amount
        await self._market_order(connector, OrderSide.SELL, amount, reduceOnly=True)
        reduced = (await self._positions(connector))["long"]
        assert (reduced.contracts, reduced.entry_price) == (amount, grown.entry_price)  # reducing keeps the entry
        await self._market_order(connector, OrderSide.SELL, amount, reduceOnly=True)
        assert await self._positions(connector) == {}

    async def test_reduce_only_never_opens_or_grows(self, connector: ExchangeConnector) -> None:
        """A reduce-only order on a flat account, or larger than the position, is refused."""
        await connector.load_markets()
        amount = await self._contracts(connector)
        with pytest.raises(errors.InvalidOrder):
            await self._market_order(connector, OrderSide.SELL, amount, reduceOnly=True)
        await self._market_order(connector, OrderSide.BUY, amount)
        with pytest.raises(errors.InvalidOrder):
            await self._market_order(connector, OrderSide.BUY, amount, reduceOnly=True)
        assert (await self._positions(connector))["long"].contracts == amount
        await self._market_order(connector, OrderSide.SELL, amount, reduceOnly=True)

    async def test_hedge_mode_holds_both_sides(self, connector: ExchangeConnector) -> None:
        """In hedge mode a long and a short of the symbol coexist; closing one keeps the other."""
        await connector.load_markets()
        await connector.set_position_mode(self.symbol, PositionMode.HEDGE)
        amount = await self._contracts(connector)
        await self._market_order(connector, OrderSide.BUY, amount, positionSide="long")
        await self._market_order(connector, OrderSide.SELL, amount, positionSide="short")
        positions = await self._positions(connector)
        assert {side: p.contracts for side, p in positions.items()} == {"long": amount, "short": amount}
        await self._market_order(connector, OrderSide.SELL, amount, positionSide="long")
        assert set(await self._positions(connector)) == {"short"}
        await self._market_order(connector, OrderSide.BUY, amount, positionSide="short")
        assert await self._positions(connector) == {}

    # -- balances -----------------------------------------------------------------------------
    async def test_settle_balance_total_is_the_wallet_without_unrealized_pnl(
        self, connector: ExchangeConnector
    ) -> None:
        """With a long in profit, the settle currency's total is still the wallet: it only lost the fee."""
        market = await self._market(connector)
        await connector.set_position_mode(self.symbol, PositionMode.ONE_WAY)
        await connector.set_leverage(self.symbol, self.leverage)
        settle = market.settle
        assert settle is not None
        before = (await connector.fetch_balance())[settle]
        amount = await self._contracts(connector)
        await self._market_order(connector, OrderSide.BUY, amount)
        entry = (await self._positions(connector))["long"].entry_price
        assert entry is not None
        await self.move_mark_price(connector, market.spec.adapt_price(entry * Decimal("1.04"), OrderSide.SELL))
        position = (await self._positions(connector))["long"]
        assert position.unrealized_pnl is None or position.unrealized_pnl > 0
        after = (await connector.fetch_balance())[settle]
        assert after.total <= before.total  # the fee left the wallet; the unrealized profit is not in it
        assert before.total - after.total <= before.total * Decimal("0.01")
        assert Decimal(0) <= after.free <= after.total and after.used == after.total - after.free
        await self._market_order(connector, OrderSide.SELL, amount, reduceOnly=True)

    # -- settings -----------------------------------------------------------------------------
    async def test_settings_already_set_succeed_and_refuse_changes_with_a_position(
        self, connector: ExchangeConnector
    ) -> None:
        """Asking for the current margin / position mode succeeds; a margin mode change with an
        open position raises OpenPositionsError."""
        await connector.load_markets()
        await connector.set_margin_mode(self.symbol, MarginMode.ISOLATED)
        await connector.set_margin_mode(self.symbol, MarginMode.ISOLATED)
        await connector.set_position_mode(self.symbol, PositionMode.ONE_WAY)
        await connector.set_position_mode(self.symbol, PositionMode.ONE_WAY)
        amount = await self._contracts(connector)
        await self._market_order(connector, OrderSide.BUY, amount)
        with pytest.raises(errors.OpenPositionsError):
            await connector.set_margin_mode(self.symbol, MarginMode.CROSS)
        assert (await self._positions(connector))["long"].margin_mode in (None, "isolated")
        await self._market_order(connector, OrderSide.SELL, amount, reduceOnly=True)

    async def test_bad_leverage_and_unknown_symbols_raise_typed_errors(self, connector: ExchangeConnector) -> None:
        """A float leverage raises TypeError, a non-positive one ConfigurationError(field="leverage"),
        an unlisted symbol UnknownSymbol."""
        await connector.load_markets()
        with pytest.raises(TypeError):
            await connector.set_leverage(self.symbol, 5.0)  # type: ignore[arg-type]
        with pytest.raises(errors.ConfigurationError) as caught:
            await connector.set_leverage(self.symbol, Decimal(0))
        assert caught.value.field == "leverage"
        with pytest.raises(errors.UnknownSymbol):
            await connector.fetch_positions([self.unlisted_symbol])
        with pytest.raises(errors.UnknownSymbol):
            await connector.fetch_funding_rate(self.unlisted_symbol)
