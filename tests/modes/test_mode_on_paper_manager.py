"""The same mode on a paper-trading manager (live channels) against the fake Binance server."""

from __future__ import annotations

from typing import Any

import octobot_trading as ot
from octobot_trading.exchanges.builder import ExchangeBuilder
from octobot_trading.modes import AbstractModeConsumer, SmaCrossMode, TradingDecision
from octobot_trading.modes.sma_cross import SmaCrossProducer
from octobot_trading.testing.fake_exchange import FakeExchangeServer


class _Seen(SmaCrossProducer):
    candles: list[Any] = []

    async def on_candle(self, candle: Any) -> None:
        type(self).candles.append(candle)
        await super().on_candle(candle)


class _Recorder(AbstractModeConsumer):
    async def on_decision(self, decision: TradingDecision) -> None:
        return None


class PaperSma(SmaCrossMode):
    producer_classes = (_Seen,)
    consumer_classes = (_Recorder,)


async def test_mode_runs_unchanged_on_a_paper_manager() -> None:
    async with FakeExchangeServer() as server:
        manager = await (
            ExchangeBuilder("binance")
            .with_symbols(["BTC/USDT"])
            .with_time_frames(["1h"])
            .with_ccxt_options(server.ccxt_config())
            .with_client_hook(server.client_hook)
            .rest_only()
            .use_simulated_trader(starting_portfolio={"USDT": "1000"})
            .use_trading_mode(PaperSma, {"fast_period": 2, "slow_period": 3})
            .build()
        )
        async with manager:
            await manager.wait_ready(timeout=30)
            mode = manager.get_component("trading_modes").modes[0]
            assert mode.is_started and not manager.channels.synchronized
            _Seen.candles = []
            # a closed candle as the live updaters publish it: through queues and consumer tasks
            md = manager.market_data
            last = md.symbols_data.get("BTC/USDT").candles("1h")
            last_open, close = last.last_timestamp, last.last_close
            assert last_open is not None and close is not None
            t = last_open + 3_600_000
            await md.on_closed_candle("BTC/USDT", ot.TimeFrame.H1, t, close, close + 1, close - 1, close, 1.0)
            await md.channels.join()
            assert [(c.symbol, c.timestamp) for c in _Seen.candles] == [("BTC/USDT", t)]
            assert mode.producers[0]._states["BTC/USDT"].count == 1
    assert not mode.is_started  # stopped with the manager
