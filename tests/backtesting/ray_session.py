"""One local Ray instance for the whole test session (a pytest plugin: ``pytest_plugins = [...]``).

Ray starts once (a few seconds), with 2 CPUs, no dashboard, on loopback only and without usage
statistics, and shuts down when the session ends. ``run_sweep`` finds it initialised and uses it.
Ray is installed by the ``test`` extra, so a missing Ray is a failure, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """The session's local Ray instance (started on first use, stopped at the end of the session)."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # read at import: keep Ray on 127.0.0.1
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()
