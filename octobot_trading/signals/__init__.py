"""Trading signals: a leader's order operations replayed by followers on their own portfolios.

* :class:`SignalBundle` — one order operation (create / edit / cancel) with its dependency
  graph, amounts relative to the leader's portfolio, in a versioned JSON wire format;
* :class:`SignalPublisher` — emits a bundle per order operation of a manager (or one mode) and
  optionally serves them over websocket;
* :class:`SignalFollower` — rebuilds each operation on another manager's account.

See ``docs/signals.md``.
"""

from octobot_trading.signals.bundle import WIRE_VERSION, SignalBundle, SignalOrder
from octobot_trading.signals.follower import RefusedSignal, SignalFollower
from octobot_trading.signals.publisher import SignalPublisher

__all__ = ["WIRE_VERSION", "RefusedSignal", "SignalBundle", "SignalFollower", "SignalOrder", "SignalPublisher"]
