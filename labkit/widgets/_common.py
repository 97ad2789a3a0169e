"""What every labkit widget shares: labels for the three kinds of time, colours, throttled updates.

Rules the widgets follow (STYLE.md, "For this project" 10):

* build every figure once, then only change traits, several at a time inside
  :func:`hold` (one message per widget instead of one per trait);
* at most ~10 updates a second (:class:`Throttle`), however fast results arrive;
* float32 arrays over bounded windows;
* background work in a thread with ``stop()`` (:class:`SweepFollower`), never ``with out:``
  from a thread.
"""

from __future__ import annotations

import contextlib
import html
import functools
import math
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..bench import DEFAULT_SIZES, Sweep
from ..board import probe
from ..results import BenchRecord, TransferResult, profile_of
from ..run import timing_in_progress
from ..timing import this_machine

__all__ = [
    "METHOD_COLORS", "STAGE_COLORS", "KIND_COLORS", "measured_label", "modelled_label", "estimated_label",
    "Throttle", "hold", "f32", "RecordView", "view_of", "SweepFollower", "host_copy_mb_s", "Limit", "port_limits",
    "html_escape", "decade_ticks",
]

#: One colour per transfer method (the same in every chart).
METHOD_COLORS = {
    "per_word": "#d62728", "array_slice": "#ff7f0e", "packed16": "#bcbd22", "dma": "#1f77b4",
    "dma_pingpong": "#2ca02c", "dram_master": "#9467bd",
}
#: Stages of the ping-pong design: load (LB), compute (COM), store (SB) and the DMA channels.
STAGE_COLORS = {"LB": "#1f77b4", "COM": "#ff7f0e", "SB": "#2ca02c", "SB.in": "#98df8a", "MM2S": "#aec7e8",
                "S2MM": "#c5b0d5", "stall": "#c7c7c7"}
#: The three kinds of time (DESIGN.md): solid blue measured, orange estimated, grey modelled.
KIND_COLORS = {"measured": "#1f77b4", "estimated": "#ff7f0e", "modelled": "#7f7f7f"}
_FALLBACK = ["#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#aec7e8", "#ffbb78"]


def method_color(method: str) -> str:
    return METHOD_COLORS.get(method, _FALLBACK[hash(method) % len(_FALLBACK)])


def stage_color(stage: str) -> str:
    return STAGE_COLORS.get(stage, _FALLBACK[hash(stage) % len(_FALLBACK)])


def measured_label(machine: str) -> str:
    """'measured: <machine>' -- wall-clock time on the computer that ran the code."""
    return f"measured: {machine}" if machine else "measured"


def modelled_label(what: str) -> str:
    """'modelled: <what>' -- computed by the simulated board's model, never measured."""
    return f"modelled: {what}"


def estimated_label(board: str) -> str:
    """'estimated: <board>' -- what the board would take, from its profile (simulated board only)."""
    return f"estimated: {board} (board profile)"


def decade_ticks(lo: float, hi: float) -> list[float]:
    """Tick values on a log axis: 1e-6, 1e-5 ... the whole decades nearest ``lo`` and ``hi`` and between."""
    first, last = round(math.log10(lo)), round(math.log10(hi))
    return [10.0 ** k for k in range(first, last + 1)]


def html_escape(text: Any) -> str:
    return html.escape(str(text))


def f32(values: Iterable[float] | np.ndarray) -> np.ndarray:
    """A float32 array (what the widgets send: half the bytes of float64, binary on the wire)."""
    return np.asarray(values, dtype=np.float32)


@contextlib.contextmanager
def hold(*widgets: Any) -> Iterator[None]:
    """``hold_sync()`` on several widgets at once: each sends one message with all its changes."""
    with contextlib.ExitStack() as stack:
        for w in widgets:
            stack.enter_context(w.hold_sync())
        yield


class Throttle:
    """Call ``fn`` at most once every ``interval`` seconds, however often it is asked for.

    ``throttle()`` runs ``fn`` at once if the last run is at least ``interval`` ago; otherwise
    it remembers the request and (``trailing=True``) a timer runs ``fn`` once when the interval
    is over, so the last request is never lost.  With ``trailing=False`` no timer thread is
    used: a pending request waits for the next call or for ``flush()`` -- what a widget
    following a benchmark wants, so that it never draws while a repeat is being timed.
    ``defer_while()`` (default: :func:`labkit.run.timing_in_progress`) postpones drawing while it is
    true, so a chart never takes the interpreter away from a benchmark's timed runs.
    ``flush()`` runs a pending request now.  Runs never overlap.  An exception in ``fn`` is
    kept in :attr:`last_error` and shown as a warning.
    """

    def __init__(self, fn: Callable[[], Any], interval: float = 0.1, *, trailing: bool = True,
                 defer_while: Callable[[], bool] | None = None) -> None:
        if interval < 0:
            raise ValueError(f"interval must be >= 0 seconds, got {interval}")
        self.fn = fn
        self.interval = float(interval)
        self.trailing = trailing
        if defer_while is None:
            defer_while = timing_in_progress
        self.defer_while = defer_while
        self.runs = 0  #: how many times fn ran
        self.requests = 0  #: how many times it was asked for
        self.last_error: BaseException | None = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._last = float("-inf")
        self._pending = False
        self._timer: threading.Timer | None = None

    def __call__(self) -> None:
        with self._lock:
            self.requests += 1
            now = time.monotonic()
            wait = self._last + self.interval - now
            deferred = self.defer_while()
            if deferred:  # a benchmark is timing: never draw now
                wait = max(wait, self.interval or 0.05)
            if wait <= 0 and self._timer is None and not deferred:
                self._last = now
                self._pending = False
                run_now = True
            else:
                self._pending = True
                run_now = False
                if self._timer is None and self.trailing:
                    self._timer = threading.Timer(max(wait, 0.0), self._fire)
                    self._timer.daemon = True
                    self._timer.start()
        if run_now:
            self._run()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            if not self._pending:
                return
            if self.defer_while():  # a benchmark is timing: try again later
                self._timer = threading.Timer(self.interval or 0.05, self._fire)
                self._timer.daemon = True
                self._timer.start()
                return
            self._pending = False
            self._last = time.monotonic()
        self._run()

    def _run(self) -> None:
        with self._run_lock:
            try:
                self.fn()
                self.runs += 1
            except Exception as exc:  # noqa: BLE001 -- shown, never lost; a chart must not kill a benchmark
                self.last_error = exc
                warnings.warn(f"labkit.widgets: updating the chart failed: {type(exc).__name__}: {exc}",
                              RuntimeWarning, stacklevel=2)

    def flush(self) -> None:
        """Run a pending request now (and cancel its timer)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            pending, self._pending = self._pending, False
            if pending:
                self._last = time.monotonic()
        if pending:
            self._run()

    def cancel(self) -> None:
        """Forget a pending request."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending = False


# -- records ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordView:
    """What a chart needs of a :class:`~labkit.bench.BenchRecord` or a :class:`~labkit.transfer.TransferResult`."""

    method: str
    size: int
    nbytes_in: int
    median_s: float | None
    estimated_s: float | None
    modelled_s: float | None
    machine: str
    board: str
    simulated: bool
    repeats: int
    verified: bool
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.median_s is not None and self.median_s > 0

    @property
    def mb_per_s(self) -> float | None:
        return self.nbytes_in / self.median_s / 1e6 if self.ok else None

    @property
    def estimated_mb_per_s(self) -> float | None:
        return self.nbytes_in / self.estimated_s / 1e6 if self.ok and self.estimated_s else None

    @property
    def profile(self) -> str:
        """The board's name without '(simulated, ... pace)'."""
        return profile_of(self.board) or "board"


def view_of(item: Any) -> RecordView:
    """A :class:`RecordView` of a BenchRecord or a TransferResult (anything else: a clear TypeError)."""
    if isinstance(item, BenchRecord):
        return RecordView(item.method, item.size, item.nbytes_in, item.median_s if item.ok else None,
                          item.estimated_s, item.modelled_s, item.machine, item.board, item.simulated,
                          item.repeats, item.verified, item.error)
    if isinstance(item, TransferResult):
        return RecordView(item.method, item.nbytes_in, item.nbytes_in, item.measured, item.estimated, item.modelled,
                          item.machine, item.board, item.simulated, 1, item.verified, None)
    raise TypeError(f"expected a labkit.bench.BenchRecord or a labkit.transfer.TransferResult, "
                    f"got {type(item).__name__}")


class SweepFollower:
    """Mixin: a widget that shows the records of a :class:`labkit.bench.Sweep` as they arrive.

    The widget needs ``methods`` and ``add(record)``.  ``start()`` runs a sweep in a background
    thread (the notebook stays usable), ``stop()`` stops it, ``join()`` waits for it.
    """

    methods: list[str]
    sweep: Any = None  #: the sweep this widget follows (None before follow()/start())
    _throttle: Throttle

    def add(self, record: Any) -> None:  # pragma: no cover -- implemented by the widget
        raise NotImplementedError

    def flush(self) -> None:
        """Draw now what is pending (e.g. at the end of a sweep)."""
        self._throttle.flush()

    def close(self) -> None:
        """Stop drawing, stop following the sweep, close the widget."""
        self._throttle.cancel()
        if self.sweep is not None:
            self.sweep.unsubscribe(self.add)
        super().close()  # the widget class after this mixin (ipywidgets)

    def follow(self, sweep: Any) -> Any:
        """Show every record of ``sweep`` (those it already has, and each new one).

        While following, the widget draws only when a record arrives (the sweep calls it between
        cells) and when the sweep ends -- never from a timer thread in the middle of a timed
        repeat, where it would take the interpreter away from the code being measured.
        """
        if self.sweep is not None and self.sweep is not sweep:
            self.sweep.unsubscribe(self.add)
        self.sweep = sweep
        self._throttle.trailing = False
        sweep.subscribe(self.add, on_finish=lambda _sweep: self.flush())
        if not sweep.running:
            self.flush()
        return sweep

    def start(self, overlay: Any = None, sizes: Any = None, *, methods: Sequence[str] | None = None,
              repeats: int = 3, warmup: int = 1, options: dict | None = None, progress: Any = "auto") -> Any:
        """Benchmark ``methods`` (default: this widget's) at ``sizes`` in the background, filling this widget.

        Returns the :class:`~labkit.bench.Sweep` (``.stop()``, ``.join()``, ``.table()``).
        """
        if self.sweep is not None and self.sweep.running:
            raise RuntimeError("this widget's sweep is still running: widget.stop() first, or widget.join()")
        sweep = Sweep(methods or self.methods, sizes if sizes is not None else getattr(self, "default_sizes",
                                                                                         DEFAULT_SIZES),
                      overlay=overlay, repeats=repeats, warmup=warmup, options=options, progress=progress)
        self.follow(sweep)
        return sweep.start()

    def stop(self) -> None:
        """Stop the sweep this widget follows (after the repeat in progress)."""
        if self.sweep is not None:
            self.sweep.stop()

    def join(self, timeout: float | None = None, *, raise_errors: bool = True) -> list:
        """Wait for the sweep this widget follows; then show every record at once."""
        if self.sweep is None:
            return []
        try:
            return self.sweep.join(timeout, raise_errors=raise_errors)
        finally:
            self.flush()


# -- reference lines ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def host_copy_mb_s(nbytes: int = 16 << 20, repeats: int = 5) -> float:
    """Measured ``numpy.copyto`` bandwidth of this computer, MB/s (bytes copied per second; best of ``repeats``)."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.zeros(nbytes, dtype=np.uint8)
    np.copyto(dst, src)  # touch the pages first
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return nbytes / best / 1e6


@dataclass(frozen=True)
class Limit:
    """A bandwidth limit drawn as a horizontal line: its value, kind of number and explanation."""

    name: str
    mb_per_s: float
    kind: str  #: "measured" or "modelled"
    label: str  #: what the chart writes next to the line


def port_limits(overlay: Any = None, *, machine: str | None = None, measure_copy: bool = True) -> list[Limit]:
    """The bandwidth limits a transfer runs into, each labelled with its kind.

    * measured: ``numpy.copyto`` on this computer (the PS can't feed the PL faster than it copies);
    * modelled (simulated board only): one HP port, data width x PL clock (64 bit x 100 MHz =
      800 MB/s on a PYNQ-Z1), and AXI-Lite over the GP port, 4 bytes per modelled access.
    """
    limits = []
    if measure_copy:
        copy = host_copy_mb_s()
        limits.append(Limit("copy", copy, "measured",
                            f"{measured_label(machine or this_machine())} numpy.copyto, {copy:,.0f} MB/s"))
    board = probe(overlay)
    if board.simulated:
        profile, clock_hz = board.profile, board.clock_hz
        bits = int(float(profile.hp_data_bits))
        hp = bits / 8 * clock_hz / 1e6
        limits.append(Limit("hp", hp, "modelled", modelled_label(
            f"HP port {bits} bit x {clock_hz / 1e6:.0f} MHz = {hp:,.0f} MB/s (simulated {profile.name})")))
        access = board.gp_access_s(writes=1)
        lite = 4 / access / 1e6
        limits.append(Limit("axi_lite", lite, "modelled", modelled_label(
            f"AXI-Lite on the GP port, 4 B per {access * 1e9:.0f} ns = {lite:,.0f} MB/s (simulated {profile.name})")))
    return limits
