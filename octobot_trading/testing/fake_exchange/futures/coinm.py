"""A fake Binance COIN-M futures venue on 127.0.0.1, spoken to by the real ccxt ``binancecoinm`` client.

The same venue as :class:`~octobot_trading.testing.fake_exchange.futures.server.FakeFuturesServer`
(same state machine, matching, conditional orders, funding, liquidations, faults and test
controls) listing inverse perpetuals and serving Binance's COIN-M routes::

    GET  /dapi/v1/ping, time, exchangeInfo (contractSize, marginAsset, contractStatus), klines,
         markPriceKlines, premiumIndex, fundingRate, fundingInfo, ticker/24hr, ticker/price,
         ticker/bookTicker, depth, trades, aggTrades
    POST|GET|PUT|DELETE /dapi/v1/order   DELETE /dapi/v1/allOpenOrders   GET /dapi/v1/openOrder(s),
         allOrders, userTrades, income, forceOrders, commissionRate   GET /dapi/v2/leverageBracket
    POST|GET|DELETE /dapi/v1/algoOrder   GET /dapi/v1/openAlgoOrders, allAlgoOrders
    POST /dapi/v1/leverage, marginType   GET|POST /dapi/v1/positionSide/dual
    GET  /dapi/v1/positionRisk, account, balance

Inverse accounting (docs/futures.md, by the library's ``FuturesAccount``): an order's quantity is
in contracts of ``contract_size`` USD; notional ``q / price`` in the base coin; margins, PnL, fees,
funding and balances in the base coin; the entry price of a growing position is the harmonic
mean. Replies carry the COIN-M fields (``cumBase``, ``baseQty``, ``notionalValue``, ``maxQty``).

:func:`default_coinm_markets` lists ``BTCUSD_PERP`` (``BTC/USD:BTC``, 100 USD a contract,
margined in BTC) replaying Binance spot BTC/USDT 1h candles of December 2020 as its trade and
mark prices (no mark candles, no funding data: funding settles at the default rate). The
default account holds 1 BTC. There is no user-data stream on this venue (REST only).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from octobot_trading.enums import TimeFrame
from octobot_trading.testing.fake_exchange.futures.markets import DATA_DIR, Bracket, FuturesMarket, brackets_of
from octobot_trading.testing.fake_exchange.futures.server import FakeFuturesServer
from octobot_trading.testing.fake_exchange.state import load_candles
from octobot_trading.util.decimals import nearest_to_step

__all__ = ["BTCUSD_BRACKETS", "FakeCoinMServer", "default_coinm_markets"]

#: Brackets of the inverse BTC perpetual, bounded in BTC (cap, maintenance rate, cum in BTC, max leverage).
BTCUSD_BRACKETS: tuple[Bracket, ...] = brackets_of(
    [
        ("5", "0.004", "0", 125),
        ("10", "0.005", "0.005", 100),
        ("20", "0.01", "0.055", 50),
        (None, "0.025", "0.355", 20),
    ]
)


def default_coinm_markets(data_dir: str | Path = DATA_DIR) -> list[FuturesMarket]:
    """``BTCUSD_PERP`` replaying the package's data (see the module docstring)."""
    tick = Decimal("0.1")
    rows = [
        (ts, nearest_to_step(o, tick), nearest_to_step(h, tick), nearest_to_step(lo, tick), nearest_to_step(c, tick), v)
        for ts, o, h, lo, c, v in load_candles(Path(data_dir) / "BTC_USDT-1h.json")
    ]
    btc = FuturesMarket(
        "BTC",
        "USD",
        rows,
        TimeFrame.parse("1h").ms,
        BTCUSD_BRACKETS,
        tick_size=tick,
        step_size=Decimal(1),
        min_qty=Decimal(1),
        max_qty=Decimal(100000),
        market_max_qty=Decimal(10000),
        min_notional=Decimal(0),
        price_precision=1,
        quantity_precision=0,
        contract_size=Decimal(100),
    )
    return [btc]


class FakeCoinMServer(FakeFuturesServer):
    """The fake Binance COIN-M futures venue; see the module docstring.

    Parameters are those of :class:`FakeFuturesServer`; ``markets`` default to
    :func:`default_coinm_markets`, ``wallets`` to 1 BTC, the fees to 0.0001 / 0.0005.
    """

    api_root = "/dapi"
    is_coinm = True
    error_table = "inverse"

    default_wallets: dict[str, Decimal | str] = {"BTC": Decimal(1)}
    default_maker_fee = Decimal("0.0001")
    default_taker_fee = Decimal("0.0005")

    @staticmethod
    def default_markets() -> list[FuturesMarket]:
        return default_coinm_markets()

    async def __aenter__(self) -> FakeCoinMServer:
        await self.start()
        return self

    @staticmethod
    def ccxt_config() -> dict[str, Any]:
        """ccxt options that keep ``binancecoinm`` to the endpoints this venue serves."""
        return {
            "options": {
                "fetchMarkets": {"types": ["inverse"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            }
        }
