"""Starting or joining the Ray cluster of a parameter sweep.

``address`` is checked before Ray is asked anything: ``None`` (a local instance), ``"auto"``
(the cluster started on this machine with ``ray start``), ``"host:port"`` (a cluster's control
store) or ``"ray://host:port"`` (Ray Client, which needs ``pip install 'ray[client]'``). A
malformed address, a Ray Client address without the client package, no cluster found for
``"auto"``, a ``host:port`` that does not answer within :data:`CONNECT_TIMEOUT_S` seconds, one
that answers but is not a Ray cluster's control store (asked for its node list, it gives none
within that time: any other gRPC server) or a cluster with no alive node, and a joined cluster
offering no CPU are each a :class:`~octobot_trading.errors.ConfigurationError`
(``field="address"``) naming the address; Ray itself would wait for an unreachable (or
impostor) control store without end.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import sys
from typing import Any

from octobot_trading.errors import ConfigurationError

__all__ = ["CONNECT_TIMEOUT_S", "check_address", "import_ray", "start_ray"]

#: How long joining a cluster waits for its address to answer before giving up.
CONNECT_TIMEOUT_S = 10.0

_RAY_MISSING = "parameter sweeps need Ray: pip install 'octobot_trading[sweep]'"
_CLIENT_MISSING = "a ray:// address needs the Ray Client: pip install 'ray[client]'"
_HOST_PORT = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+)):(?P<port>[0-9]{1,5})$")


def import_ray() -> Any:
    """Return the ``ray`` module; ``ConfigurationError(field="ray")`` saying what to install."""
    try:
        import ray
    except ModuleNotFoundError as exc:
        if exc.name != "ray":
            raise
        raise ConfigurationError(_RAY_MISSING, field="ray") from exc
    return ray


def _host_port(address: str, text: str) -> tuple[str, int]:
    match = _HOST_PORT.match(text)
    port = int(match.group("port")) if match else 0
    if match is None or not 1 <= port <= 65535:
        raise ConfigurationError(
            f"not a Ray cluster address: {address!r} (expected 'host:port', 'ray://host:port' or 'auto')",
            field="address",
        )
    return match.group("ipv6") or match.group("host"), port


def check_address(address: str) -> tuple[str, int] | None:
    """Return the ``(host, port)`` of a ``host:port`` or ``ray://`` address (None for ``"auto"``).

    ``ConfigurationError(field="address")`` for a malformed address or a ``ray://`` address
    without the Ray Client installed.
    """
    if not isinstance(address, str):
        raise ConfigurationError(f"the Ray address must be text, got {address!r}", field="address")
    if address == "auto":
        return None
    if address.startswith("ray://"):
        host_port = _host_port(address, address.removeprefix("ray://"))
        if importlib.util.find_spec("grpc") is None:
            raise ConfigurationError(f"{_CLIENT_MISSING} (address {address!r})", field="address")
        return host_port
    return _host_port(address, address)


# what opens an HTTP/2 connection: Ray's control store and Ray Client servers are gRPC (HTTP/2)
# servers, which answer it with a SETTINGS frame (frame type 4)
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def _wait_reachable(address: str, host: str, port: int) -> None:
    """Connect to ``host:port`` and check a gRPC server answers, all within :data:`CONNECT_TIMEOUT_S`."""
    reason = f"no answer within {CONNECT_TIMEOUT_S:g} s"
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as connection:
            connection.sendall(_HTTP2_PREFACE)
            answer = b""
            while len(answer) < 9:
                chunk = connection.recv(9 - len(answer))
                if not chunk:
                    break
                answer += chunk
            if len(answer) == 9 and answer[3] == 4:
                return
            reason = "what answers there is not a Ray cluster (no gRPC server)"
    except TimeoutError:
        pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    raise ConfigurationError(f"cannot reach the Ray cluster at {address!r}: {reason}", field="address")


def _check_control_store(ray: Any, address: str) -> None:
    """Ask the control store at ``address`` for its nodes: only a Ray cluster's answers, with one alive."""
    gcs_client = getattr(ray, "_raylet", None)
    inner_client = getattr(gcs_client, "InnerGcsClient", None)
    if inner_client is None:  # another Ray layout: ray.init and the resource check decide
        return
    timeout = CONNECT_TIMEOUT_S
    try:
        client = inner_client.standalone(address, None, int(timeout * 1000))
        nodes = client.get_all_node_info(timeout=timeout)
    except ray.exceptions.RayError as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise ConfigurationError(
            f"what answers at {address!r} is not a Ray cluster: its control store did not list its nodes "
            f"within {timeout:g} s ({reason})",
            field="address",
        ) from None
    alive = [node for node in nodes.values() if getattr(node, "state", 0) == 0]  # GcsNodeInfo.ALIVE
    if not alive:
        raise ConfigurationError(f"the Ray cluster at {address!r} has no alive node", field="address")


def _check_resources(ray: Any, address: str) -> None:
    """A joined cluster must offer CPUs to run the sweep's backtests (leave it otherwise)."""
    cpus = ray.cluster_resources().get("CPU", 0)
    if cpus <= 0:
        ray.shutdown()
        raise ConfigurationError(f"the Ray cluster at {address!r} offers no CPU to run the sweep", field="address")


def _auto_address() -> str | None:
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:  # another Ray layout: Ray resolves "auto" itself
        return None
    try:
        found = canonicalize_bootstrap_address("auto")
    except (ConnectionError, ValueError) as exc:
        raise ConfigurationError(f"no running Ray cluster found for address 'auto': {exc}", field="address") from None
    if found:
        host, port = _host_port(found, found)
        _wait_reachable(found, host, port)
        return str(found)
    return None


def start_ray(address: str | None, workers: int | None) -> tuple[Any, bool]:
    """Return ``(ray, started_here)``: the initialised Ray module and whether this call started it."""
    target = None if address is None else check_address(address)
    if address is None and "ray" not in sys.modules:
        # a local sweep stays on loopback and sends no usage statistics (read when Ray is imported)
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    if address is None:
        ray.init(
            num_cpus=workers or os.cpu_count() or 1,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        return ray, True
    store = _auto_address() if target is None else address
    if target is not None:
        _wait_reachable(address, *target)
    if store is not None and not store.startswith("ray://"):
        _check_control_store(ray, store)
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, ValueError) as exc:
        raise ConfigurationError(f"cannot join the Ray cluster at {address!r}: {exc}", field="address") from None
    _check_resources(ray, address)
    return ray, True
