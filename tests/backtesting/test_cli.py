"""The CLI commands: demo, backtest, download-data (against the fake Binance server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from octobot_trading.backtesting import CandleData
from octobot_trading.backtesting.cli import _download, parse_portfolio, parse_since
from octobot_trading.cli import build_parser, main
from octobot_trading.clock import LiveClock
from octobot_trading.config import ExchangeConfig, parse_config
from octobot_trading.errors import ConfigurationError
from octobot_trading.exchanges.builder import standalone_exchange
from octobot_trading.exchanges.types import Candle
from octobot_trading.exchanges.venues import BinanceExchange
from octobot_trading.testing.fake_exchange import FakeExchangeServer

FIXTURES = Path(__file__).parent / "fixtures"


def test_help_lists_the_backtesting_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("demo", "backtest", "download-data"):
        assert command in out


def test_demo_prints_metrics_and_writes_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "demo.html"
    assert main(["demo", "--report", str(report), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "5482 real candles" in out and "Total return" in out and "Sharpe" in out
    assert report.stat().st_size > 1_000_000 and "Event-log hash" in report.read_text()


def test_backtest_command_with_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "mode.json"
    config.write_text(json.dumps({"fast_period": 5, "slow_period": 20, "buy_fraction": 0.5}))
    report = tmp_path / "out.html"
    code = main(
        [
            "backtest",
            "--data",
            str(FIXTURES / "BTC_USDT-5m-head600.json"),
            "--symbol",
            "BTC/USDT",
            "--time-frame",
            "5m",
            "--mode",
            "sma_cross",
            "--config",
            str(config),
            "--portfolio",
            "USDT=5000",
            "--report",
            str(report),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "sma_cross on BTC/USDT (5m), 600 candles" in out
    assert report.exists()


def test_bad_cli_input_gives_a_typed_error_and_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(FIXTURES / "BTC_USDT-5m-head600.json")
    assert main(["backtest", "--data", data, "--portfolio", "USDT:5000", "--report", str(tmp_path / "r.html")]) == 2
    assert "--portfolio expects CURRENCY=AMOUNT" in capsys.readouterr().err
    assert main(["backtest", "--data", data, "--mode", "martingale", "--report", str(tmp_path / "r.html")]) == 2
    assert "unknown trading mode" in capsys.readouterr().err
    assert (
        main(["backtest", "--data", str(tmp_path / "missing.json"), "--symbol", "BTC/USDT", "--time-frame", "1m"]) == 2
    )
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(ConfigurationError):
        parse_portfolio(["=1"])
    assert parse_portfolio(["usdt=1", "BTC=0.5"]) == {"USDT": "1", "BTC": "0.5"}
    assert parse_since("2024-01-01") == 1704067200000
    with pytest.raises(ConfigurationError, match="not a date"):
        parse_since("yesterday")


async def test_download_data_command_against_the_fake_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "data.sqlite"
    args = build_parser().parse_args(
        [
            "download-data",
            "--exchange",
            "binance",
            "--symbols",
            "BTC/USDT",
            "ETH/USDT",
            "--time-frames",
            "1h",
            "--since",
            "2020-12-01",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    async with FakeExchangeServer(start_index=59) as server:
        report = await _download(args, client_hook=server.client_hook, ccxt_options=server.ccxt_config())
    assert [s.downloaded for s in report.series] == [60, 60]
    data = CandleData.from_file(out)
    assert sorted(data.symbols) == ["BTC/USDT", "ETH/USDT"] and data.total_candles == 120


class _CandleCountingBinance(BinanceExchange):
    """A venue class counting the candle pages its ``fix_candles`` hook repaired."""

    pages = 0

    def fix_candles(self, candles: list[Candle]) -> list[Candle]:
        type(self).pages += 1
        return super().fix_candles(candles)


async def test_download_data_reads_candles_through_the_venue_class(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "download-data",
            "--exchange",
            "binance",
            "--symbols",
            "BTC/USDT",
            "--time-frames",
            "1h",
            "--since",
            "2020-12-01",
            "--out",
            str(tmp_path / "data.sqlite"),
            "--no-progress",
        ]
    )
    _CandleCountingBinance.pages = 0
    async with FakeExchangeServer(start_index=59) as server:
        report = await _download(
            args,
            client_hook=server.client_hook,
            ccxt_options=server.ccxt_config(),
            exchange_class=_CandleCountingBinance,
        )
        assert [s.downloaded for s in report.series] == [60]
        assert _CandleCountingBinance.pages == report.series[0].requests >= 1
        # without one, the class registered for the ccxt id is used (the built-in Binance class)
        config = parse_config(ExchangeConfig, {"exchange": "binance"})
        exchange = standalone_exchange(config, LiveClock(), client_hook=server.client_hook)
        try:
            assert type(exchange) is BinanceExchange
        finally:
            await exchange.close()
