"""The reports render in a real headless browser.

Skipped on a machine without chromium, but not in CI (``CI=true``): ``.ci/run`` installs chromium,
so a missing browser there is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from octobot_trading.backtesting import CandleData, run_backtest, run_sweep
from octobot_trading.backtesting.report import write_report
from octobot_trading.modes.sma_cross import SmaCrossMode

pytest_plugins = ["tests.backtesting.ray_session"]

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="session")
def browser() -> str:
    """The chromium executable (checked before anything else is set up)."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no chromium found in CI: .ci/run installs the chromium package")
        pytest.skip("no chromium installed")
    return CHROMIUM


async def _rendered_dom(browser: str, path: Path) -> str:
    """Open ``path`` in headless chromium, let its scripts run, return the resulting DOM."""
    process = await asyncio.create_subprocess_exec(
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--virtual-time-budget=8000",
        "--dump-dom",
        path.as_uri(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return out.decode()


async def test_report_renders_offline_in_headless_chromium(browser: str, tmp_path: Path) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    result = await run_backtest(data, trading_mode=SmaCrossMode, mode_config={"fast_period": 4, "slow_period": 12})
    dom = await _rendered_dom(browser, write_report(result, tmp_path / "report.html"))
    assert dom.count('class="main-svg"') >= 1  # plotly drew its figure: the inlined library ran offline
    assert 'class="trace scatter' in dom
    assert "Total return" in dom


async def test_sweep_report_heatmap_renders_offline_in_headless_chromium(
    browser: str, ray_cluster: Any, tmp_path: Path
) -> None:
    data = CandleData.from_file(FIXTURES / "BTC_USDT-5m-head600.json")
    result = await run_sweep(
        data, SmaCrossMode, grid={"fast_period": [4, 6, 12], "slow_period": [12, 20]}, progress=False
    )
    dom = await _rendered_dom(browser, result.write_report(tmp_path / "sweep.html", metric="total_return"))
    assert dom.count('class="main-svg"') >= 1
    assert dom.count('class="hm"') == 1  # the heatmap trace ...
    assert "data:image/png" in dom  # ... painted its cells
    assert dom.count('class="heatmap-label"') == 6  # one label per cell: 5 values and the refused 12/12
    best = result.table.best("total_return").metrics
    assert best is not None and f">{float(best.total_return) * 100:.2f} %</text>" in dom
    assert ">failed</text>" in dom
