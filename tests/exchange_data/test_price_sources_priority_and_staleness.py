"""PricesManager: source priority, validity windows on the injected clock, stale fallback."""

from __future__ import annotations

from decimal import Decimal as D

from octobot_trading.clock import SimulatedClock
from octobot_trading.enums import TimeFrame
from octobot_trading.exchange_data.prices import PricesManager, PriceSource


def test_priority_validity_and_fallback():
    clock = SimulatedClock(1_000_000)
    prices = PricesManager("BTC/USDT", clock)
    assert prices.mark_price is None and prices.info() is None

    prices.set_candle_close(19565.47, TimeFrame.H1.ms)  # float from a candle buffer
    info = prices.info()
    assert info is not None and info.price == D("19565.47") and info.source is PriceSource.CANDLE
    assert not info.stale

    prices.set_price(PriceSource.TICKER, D("19570"))
    assert prices.mark_price == D("19570")
    prices.set_price(PriceSource.RECENT_TRADES, D("19571.5"))
    assert prices.mark_price == D("19571.5")
    prices.set_price(PriceSource.MARK_PRICE, D("19572"))
    assert prices.info().source is PriceSource.MARK_PRICE  # type: ignore[union-attr]

    clock.advance(30_001)  # mark / trades / ticker windows (30 s) are over; the 1h candle is valid 2h
    info = prices.info()
    assert info is not None and info.source is PriceSource.CANDLE and info.price == D("19565.47")

    clock.advance(2 * TimeFrame.H1.ms)  # nothing valid: the most recent value, flagged stale
    info = prices.info()
    assert info is not None and info.stale and info.source is PriceSource.MARK_PRICE
    assert info.price == D("19572")
    assert prices.price_of(PriceSource.TICKER) == D("19570")


def test_configurable_windows():
    clock = SimulatedClock(0)
    prices = PricesManager("BTC/USDT", clock, {PriceSource.TICKER: 5_000, PriceSource.CANDLE: 1_000})
    prices.set_candle_close(D("10"), TimeFrame.M1.ms)
    prices.set_price(PriceSource.TICKER, D("11"))
    clock.advance(1_001)
    assert prices.info().source is PriceSource.TICKER  # type: ignore[union-attr]
    clock.advance(4_000)
    assert prices.info().stale  # type: ignore[union-attr]
    prices.set_price(PriceSource.TICKER, D("12"), window_ms=100_000)
    clock.advance(50_000)
    assert prices.mark_price == D("12") and not prices.info().stale  # type: ignore[union-attr]


def test_candle_source_is_read_from_the_buffers_newest_close_first(btc_1h_rows):
    from octobot_trading.exchange_data.symbol_data import ExchangeSymbolData

    t0 = btc_1h_rows[0][0]
    clock = SimulatedClock(t0 + TimeFrame.H1.ms)
    sd = ExchangeSymbolData("BTC/USDT", clock)
    sd.add_closed_candle(TimeFrame.H1, *btc_1h_rows[0])
    info = sd.prices.info()
    assert info is not None and info.source is PriceSource.CANDLE
    assert info.price == D(repr(btc_1h_rows[0][4])) and info.received_ms == t0 + TimeFrame.H1.ms
    # a 5m candle closing later is the newer close
    sd.add_closed_candle(TimeFrame.M5, t0 + TimeFrame.H1.ms, 1.0, 2.0, 0.5, 19_600.5, 1.0)
    clock.set_time(t0 + TimeFrame.H1.ms + TimeFrame.M5.ms)
    assert sd.mark_price == D("19600.5")
    # valid two candle lengths after its close, stale afterwards
    clock.advance(2 * TimeFrame.M5.ms)
    assert not sd.prices.info().stale  # type: ignore[union-attr]
    clock.advance(1)
    assert sd.prices.info().stale and sd.mark_price == D("19600.5")  # type: ignore[union-attr]
    # an explicit, newer close wins over the buffers
    sd.prices.set_candle_close(D("19700"), TimeFrame.M5.ms)
    assert sd.mark_price == D("19700") and sd.prices.price_of(PriceSource.CANDLE) == D("19700")
