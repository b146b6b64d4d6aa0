"""`octobot-trading backtest` futures options: documented, parsed into run_backtest arguments, bad values refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from pathlib import Path

import pytest

import octobot_trading as ot
from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.backtesting.cli import _download
from octobot_trading.backtesting.futures_cli import futures_arguments
from octobot_trading.cli import build_parser, main
from octobot_trading.modes.sma_cross import SmaCrossMode
from octobot_trading.testing.fake_exchange.futures.server import FakeFuturesServer

FIXTURES = Path(__file__).parent / "fixtures"
CANDLES = FIXTURES / "XRP_USDT_USDT-5m-futures-head600.json"
MARKS = FIXTURES / "XRP_USDT_USDT-1h-mark.json"
FUNDING = FIXTURES / "XRP_USDT_USDT-8h-funding_rate.json"
SPOT = FIXTURES / "BTC_USDT-1h-head50.json"


def _args(*extra: str) -> object:
    return build_parser().parse_args(["backtest", "--data", str(CANDLES), *extra])


def test_backtest_help_documents_every_futures_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["backtest", "--help"])
    out = capsys.readouterr().out
    for option in (
        "--leverage",
        "--margin-mode",
        "--position-mode",
        "--maintenance-margin-rate",
        "--contract-size",
        "--funding",
        "--mark",
    ):
        assert option in out
    assert "{cross,isolated}" in out and "{one_way,hedge}" in out


def test_futures_options_become_a_contract_spec_funding_and_mark_prices() -> None:
    args = _args(
        "--leverage",
        "5",
        "--margin-mode",
        "cross",
        "--position-mode",
        "hedge",
        "--maintenance-margin-rate",
        "0.004",
        "--funding",
        str(FUNDING),
        "--mark",
        str(MARKS),
    )
    data = CandleData.from_file(CANDLES)
    kwargs = futures_arguments(args, data)  # type: ignore[arg-type]
    spec = kwargs["contracts"]["XRP/USDT:USDT"]
    assert isinstance(spec, ot.ContractSpec)
    assert (spec.leverage, spec.margin_mode, spec.position_mode, spec.maintenance_margin_rate) == (
        D(5),
        ot.MarginMode.CROSS,
        ot.PositionMode.HEDGE,
        D("0.004"),
    )
    assert kwargs["funding_rates"].symbol == "XRP/USDT:USDT" and len(kwargs["funding_rates"]) == 91
    marks = kwargs["mark_prices"].get("XRP/USDT:USDT", "1h")
    assert len(marks) == 100 and not marks.volumes.any()


def test_no_futures_option_gives_no_futures_arguments() -> None:
    assert futures_arguments(_args(), CandleData.from_file(CANDLES)) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--leverage", "abc", "--leverage: not a number"),
        ("--leverage", "0.5", "--leverage: leverage 0.5 is outside"),
        ("--maintenance-margin-rate", "1.5", "--maintenance-margin-rate:"),
        ("--contract-size", "-1", "--contract-size:"),
        ("--funding", str(FIXTURES / "missing-funding.json"), "no such file"),
    ],
)
def test_a_bad_futures_value_exits_2_naming_the_option(
    option: str, value: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.html"
    code = main(["backtest", "--data", str(CANDLES), option, value, "--report", str(report), "--no-progress"])
    assert code == 2
    assert named in capsys.readouterr().err
    assert not report.exists()


def test_an_unknown_margin_mode_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["backtest", "--data", str(CANDLES), "--margin-mode", "portfolio"])
    assert caught.value.code == 2
    assert "invalid choice: 'portfolio'" in capsys.readouterr().err


def test_futures_options_on_spot_data_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.html"
    code = main(["backtest", "--data", str(SPOT), "--leverage", "5", "--report", str(report), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--leverage: only for contract symbols" in err and "BTC/USDT" in err
    assert not report.exists()


async def test_download_data_of_a_perp_stores_candles_mark_candles_and_funding_rates_and_resumes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "perp.sqlite"
    argv = ["download-data", "--exchange", "binanceusdm", "--symbols", "XRP/USDT:USDT", "--time-frames", "1h"]
    args = build_parser().parse_args([*argv, "--since", "2021-11-15", "--out", str(out), "--no-progress"])
    async with FakeFuturesServer() as server:
        first = await _download(args, client_hook=server.client_hook, ccxt_options=server.ccxt_config())
        again = await _download(args, client_hook=server.client_hook, ccxt_options=server.ccxt_config())
    candles, marks = first.series
    assert (candles.kind, marks.kind) == ("ohlcv", "mark")
    assert candles.downloaded > 20 and marks.downloaded > 20
    (funding,) = first.funding
    assert funding.downloaded >= 1 and funding.not_supported is None
    # a second run resumes after what is stored: nothing new
    assert [s.downloaded for s in again.series] == [0, 0] and again.funding[0].downloaded == 0
    assert again.series[1].resumed_from == marks.last_ms
    traded = CandleData.from_file(out).get("XRP/USDT:USDT", "1h")
    mark_series = CandleData.from_file(out, kind="mark").get("XRP/USDT:USDT", "1h")
    assert len(traded) == candles.downloaded and len(mark_series) == marks.downloaded
    rates = ot.backtesting.FundingData.from_file(out, symbol="XRP/USDT:USDT")
    assert len(rates) == funding.downloaded and all(int(t) % (8 * 3600 * 1000) == 0 for t in rates.times)


def test_download_data_refuses_spot_and_contract_symbols_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    symbols = ["--symbols", "BTC/USDT", "BTC/USDT:USDT", "--time-frames", "1h", "--since", "2024-01-01"]
    out = tmp_path / "unused.sqlite"
    code = main(["download-data", "--exchange", "binance", *symbols, "--out", str(out), "--no-progress"])
    assert code == 2
    assert "separate runs" in capsys.readouterr().err
    assert not out.exists()


def test_backtest_command_on_a_perp_with_futures_options_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mode.json"
    config.write_text('{"allow_short": true}')
    report = tmp_path / "perp.html"
    futures = ["--leverage", "5", "--margin-mode", "isolated", "--maintenance-margin-rate", "0.004"]
    files = ["--mark", str(MARKS), "--funding", str(FUNDING), "--taker-fee", "0.0004", "--report", str(report)]
    code = main(
        ["backtest", "--data", str(CANDLES), "--config", str(config), "--portfolio", "USDT=1000", *futures, *files]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "sma_cross on XRP/USDT:USDT (5m), 600 candles" in out
    for label in ("Realized PnL", "Funding (net)", "Liquidations", "Final portfolio"):
        assert label in out
    page = report.read_text()
    for heading in ("<h2>Open positions</h2>", "<h2>Funding</h2>", "<h2>Liquidations</h2>", "realized PnL"):
        assert heading in page
    # the same run through the API gives the same event log
    data = CandleData.from_file(CANDLES)
    result = asyncio.run(
        run_backtest(
            data,
            trading_mode=SmaCrossMode,
            mode_config={"allow_short": True},
            starting_portfolio={"USDT": "1000"},
            fees=ot.Fees(maker="0.001", taker="0.0004"),
            contracts={
                "XRP/USDT:USDT": ot.ContractSpec(leverage="5", maintenance_margin_rate="0.004"),
            },
            mark_prices=CandleData.from_file(MARKS, kind="mark"),
            funding_rates=ot.backtesting.FundingData.from_file(FUNDING),
        )
    )
    assert result.event_log_hash in out and result.trades and {f.side for f in result.trades} == set(ot.OrderSide)


def test_a_mark_file_of_another_symbol_is_refused_not_relabelled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "ADA_USDT_USDT-1h-mark.json"
    other.write_text(MARKS.read_text())
    report = tmp_path / "report.html"
    code = main(["backtest", "--data", str(CANDLES), "--mark", str(other), "--report", str(report), "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "mark_prices names ADA/USDT:USDT" in err
    assert not report.exists()
