"""``ScriptedMode``: a trading mode written as a plain Python file, reloaded when it changes.

A script declares its feeds at the top and defines async callbacks::

    TIME_FRAMES = ["1h"]            # candle feeds that trigger on_candle (default: the first configured)
    SYMBOLS = ["BTC/USDT"]          # optional (default: every symbol of the mode)

    async def on_start(ctx): ...            # optional: once per loaded version, before its first on_candle
    async def on_candle(ctx): ...           # required: at each closed candle of a declared feed
    async def on_fill(ctx, order): ...      # optional: when an order the script placed fills

``ctx`` is a :class:`~octobot_trading.modes.scripted_context.ScriptContext`. The declared feeds
are checked against the manager's configured symbols and time frames when the mode is built
and subscribed (behind the readiness gate) before the first call.

**Loading.** :func:`load_script` compiles and runs the file in a fresh namespace; any failure
(syntax error, exception at import, missing or non-async ``on_candle``, bad ``TIME_FRAMES``) is a
:class:`~octobot_trading.modes.scripted_dsl.ScriptError` naming the file and, when known, the
line. Errors raised by a callback (a ``DSLError`` included) are logged as a ``ScriptError`` naming
the script file and line and kept in :attr:`ScriptedMode.errors` (the last :data:`MAX_KEPT_ERRORS`;
an identical error is logged again only at its 10th, 100th... occurrence, with the count); config
``on_error="raise"`` re-raises them instead.

**Hot reload** (when ``ModeContext.hot_reload``: live and paper trading, never in backtests): at
a trigger, at most every ``reload_check_ms`` of the manager's clock, the file's modification time
and size are compared with the last seen ones; when they changed, its SHA-256 is compared with
the running version's, and a different content is loaded and takes over from that trigger on.
A file that fails to load keeps the previous version running and logs the typed error (once
per content). :meth:`ScriptedMode.reload_if_changed` is the same check, callable directly.

:func:`resolve_mode` turns a command-line spec (built-in name, ``package.module:Class`` or a
script path) into a mode class.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import sys
import types
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from octobot_trading.enums import TimeFrame
from octobot_trading.errors import ConfigurationError, OctoBotTradingError
from octobot_trading.modes.base import AbstractModeProducer, AbstractTradingMode, ModeConfig
from octobot_trading.modes.context import ModeContext
from octobot_trading.modes.scripted_context import ScriptContext
from octobot_trading.modes.scripted_dsl import ScriptError
from octobot_trading.personal_data.orders.order import OrderEvent

__all__ = ["LoadedScript", "ScriptedConfig", "ScriptedMode", "load_script", "resolve_mode"]

_MAX_SCRIPT_BYTES = 1_000_000
#: How many script errors :attr:`ScriptedMode.errors` keeps (the most recent).
MAX_KEPT_ERRORS = 100
_MAX_TRACKED_MESSAGES = 1000


@dataclass(slots=True)
class LoadedScript:
    """One loaded version of a script file."""

    path: Path
    digest: str
    on_candle: Callable[..., Any]
    on_fill: Callable[..., Any] | None
    on_start: Callable[..., Any] | None
    time_frames: tuple[TimeFrame, ...] | None
    symbols: tuple[str, ...] | None
    namespace: dict[str, Any] = field(repr=False, default_factory=dict)
    started: bool = False


def _assignment_lines(tree: ast.Module) -> dict[str, int]:
    lines: dict[str, int] = {}
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                lines.setdefault(target.id, node.lineno)
    return lines


def _failing_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _callback(namespace: dict[str, Any], name: str, path: str, required: bool) -> Callable[..., Any] | None:
    fn = namespace.get(name)
    if fn is None:
        if required:
            raise ScriptError(f"the script defines no `async def {name}(ctx)`", path=path)
        return None
    if not inspect.iscoroutinefunction(fn):
        line = getattr(getattr(fn, "__code__", None), "co_firstlineno", None)
        raise ScriptError(f"{name} must be an `async def` function", path=path, line=line)
    return fn


def _declared(
    namespace: dict[str, Any], name: str, path: str, line: int | None, parse: Callable[[Any], Any]
) -> tuple[Any, ...] | None:
    if name not in namespace:
        return None
    value = namespace[name]
    if not isinstance(value, list | tuple) or not value:
        raise ScriptError(f"{name} must be a non-empty list, got {value!r}", path=path, line=line)
    try:
        parsed = tuple(parse(item) for item in value)
    except (OctoBotTradingError, ValueError, TypeError) as exc:
        raise ScriptError(f"{name}: {exc}", path=path, line=line) from exc
    return parsed


def _symbol(value: Any) -> str:
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f'not a symbol: {value!r} (expected e.g. "BTC/USDT")')
    return value


def load_script(path: str | Path, source: bytes | None = None) -> LoadedScript:
    """Compile and run the script at ``path`` (or ``source``, its bytes) in a fresh namespace.

    Raises :class:`ScriptError` naming the file and line on any failure.
    """
    resolved = Path(path).resolve()
    filename = str(resolved)
    if source is None:
        try:
            source = resolved.read_bytes()
        except OSError as exc:
            raise ScriptError(f"cannot read the script: {exc.strerror or exc}", path=filename) from exc
    if len(source) > _MAX_SCRIPT_BYTES:
        raise ScriptError(f"the script is larger than {_MAX_SCRIPT_BYTES} bytes", path=filename)
    digest = hashlib.sha256(source).hexdigest()
    try:
        text = source.decode("utf-8")
        tree = ast.parse(text, filename=filename)
        code = compile(tree, filename, "exec")
    except SyntaxError as exc:
        raise ScriptError(f"syntax error: {exc.msg}", path=filename, line=exc.lineno) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise ScriptError(f"not a Python source file: {exc}", path=filename) from exc
    module_name = f"octobot_trading_script_{digest[:16]}"
    module = types.ModuleType(module_name)
    module.__file__ = filename
    namespace = module.__dict__
    sys.modules[module_name] = module  # for code that looks its module up (dataclasses, pickling)
    try:
        exec(code, namespace)
    except (Exception, SystemExit) as exc:  # sys.exit() in a script must not end the engine
        raise ScriptError(
            f"the script raised {type(exc).__name__}: {exc}", path=filename, line=_failing_line(exc, filename)
        ) from exc
    finally:
        sys.modules.pop(module_name, None)
    lines = _assignment_lines(tree)
    on_candle = _callback(namespace, "on_candle", filename, True)
    assert on_candle is not None
    return LoadedScript(
        path=resolved,
        digest=digest,
        on_candle=on_candle,
        on_fill=_callback(namespace, "on_fill", filename, False),
        on_start=_callback(namespace, "on_start", filename, False),
        time_frames=_declared(namespace, "TIME_FRAMES", filename, lines.get("TIME_FRAMES"), TimeFrame.parse),
        symbols=_declared(namespace, "SYMBOLS", filename, lines.get("SYMBOLS"), _symbol),
        namespace=namespace,
    )


class ScriptedConfig(ModeConfig):
    """Configuration of :class:`ScriptedMode`.

    Attributes
    ----------
    script
        Path of the script file.
    reload_check_ms
        Least time (manager clock) between two checks of the file for changes (default 1000;
        0 checks at every trigger). Live and paper trading only.
    on_error
        ``"log"`` (default): an exception from a script callback is logged and kept in
        :attr:`ScriptedMode.errors`; ``"raise"``: it is re-raised as a ``ScriptError``.
    """

    script: str
    reload_check_ms: int = Field(default=1000, ge=0)
    on_error: Literal["log", "raise"] = "log"


class ScriptProducer(AbstractModeProducer):
    """Hand every closed candle of the subscribed feeds to the mode's script."""

    async def on_candle(self, candle: Any) -> None:
        """Run the script's ``on_candle`` for ``candle`` (when it is a declared feed)."""
        mode: ScriptedMode = self.mode  # type: ignore[assignment]
        await mode.run_trigger(candle)


class ScriptedMode(AbstractTradingMode):
    """A mode whose decisions come from a script file; see the module docstring."""

    config_model: ClassVar[type[ModeConfig]] = ScriptedConfig
    producer_classes = (ScriptProducer,)
    consumer_classes = ()

    def __init__(self, context: ModeContext, config: Any = None, *, symbols: list[str] | None = None) -> None:
        super().__init__(context, config, symbols=symbols)
        self.script = load_script(self.config.script)
        self._check_feeds(self.script)
        #: The script's own variables (``ctx.state``), kept across calls and reloads.
        self.state: dict[str, Any] = {}
        #: The last script errors (load failures of a changed file, callback failures), at most
        #: :data:`MAX_KEPT_ERRORS`; :attr:`error_count` counts them all.
        self.errors: deque[ScriptError] = deque(maxlen=MAX_KEPT_ERRORS)
        #: Number of script errors since the mode was built.
        self.error_count = 0
        self._repeats: dict[str, int] = {}
        #: Orders the script placed (and their bundled exits) not yet done, by id: what
        #: ``ctx.open_orders()`` and ``ctx.cancel_all()`` act on.
        self._placed: dict[str, Any] = {}
        #: Number of successful reloads.
        self.reloads = 0
        self._seen = self._file_signature()
        self._failed_digest: str | None = None
        self._last_check_ms: int | None = None

    @classmethod
    def get_mode_name(cls) -> str:
        """Return ``"scripted"``."""
        return "scripted"

    @classmethod
    def for_script(cls, path: str | Path) -> type[ScriptedMode]:
        """Return a ``ScriptedMode`` subclass whose config defaults ``script`` to ``path``.

        The file is loaded once here, so a broken script fails now (``ScriptError``).
        """
        resolved = str(Path(path).resolve())
        load_script(resolved)

        class _Config(ScriptedConfig):
            script: str = resolved

        return type(f"ScriptedMode[{Path(resolved).name}]", (cls,), {"config_model": _Config})

    # -- feeds --------------------------------------------------------------------------------
    def _declared_time_frames(self, script: LoadedScript) -> tuple[TimeFrame, ...]:
        return script.time_frames or (self.time_frame,)

    def _declared_symbols(self, script: LoadedScript) -> tuple[str, ...]:
        return script.symbols or tuple(self.symbols)

    def _check_feeds(self, script: LoadedScript) -> None:
        """``ConfigurationError`` naming the script when it declares a feed the manager lacks."""
        configured_tfs = set(self.context.time_frames)
        missing_tfs = [str(tf) for tf in self._declared_time_frames(script) if tf not in configured_tfs]
        missing_symbols = [s for s in self._declared_symbols(script) if s not in self.symbols]
        if missing_tfs or missing_symbols:
            what = ", ".join([*(f"time frame {tf}" for tf in missing_tfs), *(f"symbol {s}" for s in missing_symbols)])
            raise ConfigurationError(
                f"{script.path}: declares {what}, not configured on the exchange (configured: "
                f"{', '.join(str(tf) for tf in self.context.time_frames)}; {', '.join(self.symbols)})",
                field="trading_mode.script",
            )

    async def _subscribe(self, producer: AbstractModeProducer) -> None:
        # every configured feed of the mode's symbols: a reloaded script may declare others (filtered per call)
        channel = self.context.channels.ohlcv
        for time_frame in self.context.time_frames:
            for symbol in self.symbols:
                self._subscribe_gated(channel, producer.on_candle, symbol, producer.priority, time_frame)

    # -- triggers -----------------------------------------------------------------------------
    async def run_trigger(self, candle: Any) -> None:
        """Check for a new script version, then run ``on_candle`` when ``candle`` is a declared feed."""
        self.maybe_reload()
        script = self.script
        if candle.time_frame not in self._declared_time_frames(script) or candle.symbol not in self._declared_symbols(
            script
        ):
            return
        ctx = ScriptContext(
            self.context,
            symbol=candle.symbol,
            time_frame=candle.time_frame,
            candle=candle,
            state=self.state,
            on_order=self._watch_order,
            owned=self._placed,
        )
        if not script.started:
            script.started = True
            if script.on_start is not None:
                await self._call(script, script.on_start, ctx)
        await self._call(script, script.on_candle, ctx)

    async def _call(self, script: LoadedScript, fn: Callable[..., Any], *args: Any) -> None:
        try:
            await fn(*args)
        except ScriptError as exc:
            exc.locate(str(script.path), _failing_line(exc, str(script.path)))
            self._script_failed(exc)
        except (Exception, SystemExit) as exc:  # sys.exit() in a callback must not end the engine
            error = ScriptError(
                f"{fn.__name__} raised {type(exc).__name__}: {exc}",
                path=str(script.path),
                line=_failing_line(exc, str(script.path)),
            )
            error.__cause__ = exc
            self._script_failed(error)

    def _script_failed(self, error: ScriptError) -> None:
        if self.config.on_error == "raise":
            self.errors.append(error)
            raise error
        self._report(error, "%s")

    def _report(self, error: ScriptError, template: str) -> None:
        """Keep ``error`` (the last :data:`MAX_KEPT_ERRORS`) and log it, an identical error only at
        its 1st, 10th, 100th... occurrence, with its count."""
        self.errors.append(error)
        self.error_count += 1
        text = str(error)
        seen = self._repeats
        count = seen[text] = seen.get(text, 0) + 1
        if len(seen) > _MAX_TRACKED_MESSAGES:
            seen.clear()
            seen[text] = count
        if count == 1:
            self.logger.error(template, error)
        elif count == 10 ** (len(str(count)) - 1):  # 10, 100, 1000...
            self.logger.error(template + " (repeated %d times)", error, count)

    async def _watch_order(self, order: Any) -> None:
        """Record an order the script placed (and its chained exits) as the mode's own and report
        their fills to ``on_fill``."""
        placed = self._placed
        for order_id in [i for i, o in placed.items() if o.is_done]:
            del placed[order_id]
        for watched in (order, *getattr(order, "chained_orders", ())):
            placed[watched.id] = watched
            watched.add_hook(OrderEvent.FILL, self._on_order_fill)
        if order.filled > 0:  # filled while being placed (market order), before the hook existed
            await self._on_order_fill(order)

    async def _on_order_fill(self, order: Any) -> None:
        script = self.script
        if script.on_fill is None:
            return
        time_frame = self._declared_time_frames(script)[0]
        candle = None
        data = self.context.symbols_data
        if data is not None:
            candle = data.get(order.symbol).candles(time_frame).last_candle()
        ctx = ScriptContext(
            self.context,
            symbol=order.symbol,
            time_frame=time_frame,
            candle=candle,
            state=self.state,
            on_order=self._watch_order,
            time_ms=self.context.clock.now_ms(),
            owned=self._placed,
        )
        await self._call(script, script.on_fill, ctx, order)

    # -- hot reload ---------------------------------------------------------------------------
    def maybe_reload(self) -> bool:
        """Run :meth:`reload_if_changed` when ``reload_check_ms`` passed on the manager's clock since
        the last check (what each trigger does); True when a new version took over."""
        if not self.context.hot_reload:
            return False
        now = self.context.clock.now_ms()
        last = self._last_check_ms
        if last is not None and now - last < self.config.reload_check_ms:
            return False
        self._last_check_ms = now
        return self.reload_if_changed()

    def _file_signature(self) -> tuple[int, int] | None:
        try:
            stat = self.script.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def reload_if_changed(self) -> bool:
        """Load the script again when its file changed; True when a new version took over.

        Does nothing in backtests (``ModeContext.hot_reload`` False). A version that fails to
        load (or declares feeds the manager lacks) leaves the running one in place; its error is
        logged once and kept in :attr:`errors`.
        """
        if not self.context.hot_reload:
            return False
        signature = self._file_signature()
        if signature is None or signature == self._seen:
            return False
        self._seen = signature
        try:
            source = self.script.path.read_bytes()
        except OSError:
            return False
        digest = hashlib.sha256(source).hexdigest()
        if digest in (self.script.digest, self._failed_digest):
            return False
        try:
            script = load_script(self.script.path, source)
            self._check_feeds(script)
        except (ScriptError, ConfigurationError) as exc:
            self._failed_digest = digest
            error = exc if isinstance(exc, ScriptError) else ScriptError(str(exc), path=str(self.script.path))
            self._report(error, "script not reloaded, the previous version keeps running: %s")
            return False
        self.script = script
        self._failed_digest = None
        self.reloads += 1
        self.logger.info("script %s reloaded (version %s)", script.path, script.digest[:12])
        return True


def resolve_mode(spec: str | type) -> type[AbstractTradingMode]:
    """Return the mode class named by ``spec``.

    ``spec`` is a built-in name (``"sma_cross"``, ``"grid"``, ``"dca"``, ``"scripted"``), a
    ``"package.module:Class"`` import path of an :class:`AbstractTradingMode` subclass, a path to
    a script file (``*.py``, see :class:`ScriptedMode`; the returned class has the script as its
    default config), or a mode class. Raises ``ConfigurationError`` (field ``mode``) for a spec
    naming nothing usable or a module that fails to import (whatever it raised, chained as the
    cause) and ``ScriptError`` for a script that does not load.
    """
    from octobot_trading.modes.builtin import BUILTIN_MODES

    if isinstance(spec, type):
        if issubclass(spec, AbstractTradingMode):
            return spec
        raise ConfigurationError(f"{spec!r} is not a trading mode class", field="mode")
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigurationError(f"empty or invalid mode spec {spec!r}", field="mode")
    text = spec.strip()
    if text in BUILTIN_MODES:
        return BUILTIN_MODES[text]
    if text == ScriptedMode.get_mode_name():
        return ScriptedMode
    if text.endswith(".py") or Path(text).is_file():
        return ScriptedMode.for_script(text)
    module_name, sep, attribute = text.partition(":")
    if sep and module_name and attribute:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(f"mode {text!r}: cannot import {module_name}: {exc}", field="mode") from exc
        except (Exception, SystemExit) as exc:  # the module itself fails (SyntaxError, sys.exit() at import...)
            raise ConfigurationError(
                f"mode {text!r}: importing {module_name} failed: {type(exc).__name__}: {exc}", field="mode"
            ) from exc
        target: Any = module
        for part in attribute.split("."):
            target = getattr(target, part, None)
            if target is None:
                raise ConfigurationError(f"mode {text!r}: {module_name} has no {attribute}", field="mode")
        if not (isinstance(target, type) and issubclass(target, AbstractTradingMode)):
            raise ConfigurationError(f"mode {text!r} is not an AbstractTradingMode subclass", field="mode")
        return target
    known = ", ".join(sorted([*BUILTIN_MODES, ScriptedMode.get_mode_name()]))
    raise ConfigurationError(
        f"unknown trading mode {text!r}: expected a built-in mode ({known}), "
        "package.module:Class or a script path ending in .py",
        field="mode",
    )
