"""The report renders in a real headless browser (skipped when no chromium is installed)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from octobot_trading.backtesting import CandleData, run_backtest
from octobot_trading.backtesting.report import write_report
from octobot_trading.modes.sma_cross import SmaCrossMode

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")
async def test_report_renders_offline_in_headless_chromium(tmp_path: Path) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    result = await run_backtest(data, trading_mode=SmaCrossMode, mode_config={"fast_period": 4, "slow_period": 12})
    path = write_report(result, tmp_path / "report.html")
    assert CHROMIUM is not None
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000", "--dump-dom",
        path.as_uri(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    dom = out.decode()
    assert dom.count('class="main-svg"') >= 1  # plotly drew its figure: the inlined library ran offline
    assert 'class="trace scatter' in dom
    assert "Total return" in dom
