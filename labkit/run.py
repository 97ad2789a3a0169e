"""One run on the board: its phases timed, its waits bounded, its IPs held for it alone.

Every engine that drives the PL (the transfer methods, the classifier accelerator) records a
run the same way::

    with Run(ol, timeout=10) as run:            # holds the overlay: a second run waits its turn
        with run.ps("write", copy_bytes=n):      # PS work: Python, bus accesses, copying
            buf[:] = data
        with run.start():                        # PS work that launches PL work
            dma.sendchannel.transfer(buf)
        with run.wait("wait", ["dma_pp.mm2s"]):  # the PS waits for that PL work
            wait_dma(dma, "send", "dma_pp", run.timeout)
    timing = run.finish()                        # phases: measured, modelled, estimated

Words (one meaning each): a **phase** is a step of the PS (write, sync, start, wait, read back);
a **stage** is a step of the PL (the DMA's MM2S, a kernel's compute); a **transfer** is one DMA
job.  A phase is **measured** here; on the simulated board it is also **modelled** (the PL/bus
time the model computed) and **estimated** for the board (see :mod:`labkit.estimate`).

Every wait here has a timeout and raises :class:`~labkit.errors.LabTimeoutError` naming the IP,
its status bits in words and what to do (pynq's own ``DMA.wait()`` would spin for ever).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from . import estimate
from . import board
from .errors import BoardBusyError, DmaError, LabTimeoutError
from .boardprobe import BoardProbe
from .results import Phase
from .status import AP_DONE, CTRL_OFFSET, ap_ctrl, dma_status

__all__ = ["Run", "RunTiming", "WaitRecord", "DEFAULT_TIMEOUT_S", "wait_dma", "wait_ap_done", "wait_until",
           "overlay_lock", "timing", "timing_in_progress"]

#: How long labkit waits for the PL by default (seconds): far longer than any lesson's transfer
#: (16 MiB by DMA takes ~20 ms on a PYNQ-Z1), short enough that a hang is noticed.
DEFAULT_TIMEOUT_S = 10.0
_POLL_SLEEP_S = 50e-6  # after the first ~1000 polls: a hang must not burn a core for the whole timeout
_BUSY_POLLS = 1000


# -- timed waits ---------------------------------------------------------------------------------------

def wait_until(done: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
    """Poll ``done()`` until it is true; after ``timeout`` seconds raise :class:`LabTimeoutError`.

    Polls flat out first (a board's PS polls a register in a tight loop, and most waits are
    short), then with short sleeps.  ``describe()`` builds the error message at the moment of
    the timeout, so it can read the status registers as they are then.
    """
    if done():
        return
    deadline = time.perf_counter() + timeout
    polls = 0
    while not done():
        if time.perf_counter() > deadline:
            raise LabTimeoutError(describe())
        polls += 1
        if polls > _BUSY_POLLS:
            time.sleep(_POLL_SLEEP_S)


_RECOVER = ("To recover: labkit resets the DMA and reloads the overlay after a failed run; by hand, "
            "ol.download() (or labkit.open_board()) brings every IP back to its reset state.")


def wait_dma(dma: Any, direction: str, name: str, timeout: float) -> None:
    """Wait for ``dma``'s ``direction`` channel ("send" or "recv") like ``channel.wait()``, but bounded.

    Polls pynq's public ``idle``/``error`` until one is set, then calls pynq's own ``wait()`` --
    which returns at once, raising pynq's own message on an error and invalidating a received
    buffer as it always does.
    """
    channel = dma.sendchannel if direction == "send" else dma.recvchannel

    def describe() -> str:
        return (f"{name}.{direction}channel did not finish within {timeout:g} s. {dma_status(dma, direction, name)}. "
                f"{_RECOVER}")

    wait_until(lambda: channel.idle or channel.error, timeout, describe)
    try:
        channel.wait()
    except RuntimeError as exc:  # pynq's own message first, then what the status bits say
        raise DmaError(f"{name}.{direction}channel: {exc}. {dma_status(dma, direction, name)}. {_RECOVER}") from exc


def wait_ap_done(mmio: Any, name: str, timeout: float) -> None:
    """Poll an HLS kernel's ``ap_done`` (as the forum's loop does) for at most ``timeout`` seconds."""
    last = [0]

    def done() -> bool:
        last[0] = int(mmio.read(CTRL_OFFSET))
        return bool(last[0] & AP_DONE)

    def describe() -> str:
        return f"{name} did not raise ap_done within {timeout:g} s: ap_ctrl = {ap_ctrl(last[0])}. {_RECOVER}"

    wait_until(done, timeout, describe)


# -- is anything being timed right now? --------------------------------------------------------------------

class _TimingCount:
    """How many timed stretches (runs, benchmark cells) are going on in this process, in any thread.

    Widgets read it to hold their redraws while code is being timed: the interpreter is one, and a
    redraw in the middle of a timed phase would land in its measurement.  Only :func:`timing`
    changes it, and always undoes what it did, so nothing ever needs resetting.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1

    def active(self) -> bool:
        return self._count > 0


timing = _TimingCount()  #: ``with timing():`` marks a stretch being timed (see :func:`timing_in_progress`)


def timing_in_progress() -> bool:
    """True while a run or a benchmark cell is timing (widgets wait with their redraws until it is done)."""
    return timing.active()


# -- one run at a time per board -------------------------------------------------------------------------

_LOCKS: "weakref.WeakKeyDictionary[Any, threading.Lock]" = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def overlay_lock(overlay: Any) -> threading.Lock:
    """The lock that lets one run at a time drive ``overlay``'s device (one FPGA, one set of IPs).

    Kept per device, weakly: it goes away with the board, and nothing needs resetting.
    """
    device = getattr(overlay, "device", overlay)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(device)
        if lock is None:
            lock = _LOCKS[device] = threading.Lock()
        return lock


# -- the recorder ------------------------------------------------------------------------------------------

@dataclass
class WaitRecord:
    """A wait phase's modelled PL work: the intervals it waited for (simulated board)."""

    name: str
    work: list


@dataclass
class RunTiming:
    """What :meth:`Run.finish` found: the phases in order, and the modelled PL work of the run."""

    phases: list[Phase]
    intervals: list = field(repr=False)
    waits: list[WaitRecord] = field(repr=False)
    scale: "estimate.CpuScale | None"
    board: str  #: the probe's label: "PYNQ-Z1 (simulated, board pace)" or a real board's name
    simulated: bool
    pace: str | None


class _Event:
    """One timed stretch: a class with slots, not a generator -- the PS's loop must stay cheap."""

    __slots__ = ("run", "kind", "name", "copy_bytes", "numpy_calls", "launch", "resources", "span_from",
                 "final_polls", "start", "end", "before", "after")

    def __init__(self, run: "Run", kind: str, name: str, copy_bytes: int = 0, numpy_calls: int = 0,
                 launch: bool = False, resources: Iterable[str] = (), span_from: str = "launch",
                 final_polls: int = 0) -> None:
        self.run, self.kind, self.name = run, kind, name
        self.copy_bytes, self.numpy_calls, self.launch = copy_bytes, numpy_calls, launch
        self.resources, self.span_from, self.final_polls = frozenset(resources), span_from, final_polls

    def __enter__(self) -> None:
        self.before = self.run.probe.snapshot()
        self.start = time.perf_counter()

    def __exit__(self, *exc: Any) -> None:
        self.end = time.perf_counter()
        self.after = self.run.probe.snapshot()
        self.run.events.append(self)


class Run:
    """Records one run: phases of PS work and waits for the PL, each measured; modelled and estimated
    on the simulated board (through :func:`labkit.board.probe`, never the simulation itself).

    As a context manager it holds the overlay for this run alone (a second run waits up to
    ``timeout`` seconds, then gets :class:`~labkit.errors.BoardBusyError`) and keeps Python's
    cyclic garbage collector off while it times, as :mod:`timeit` does: a full collection walks
    every object (tens of milliseconds with pynq, OpenCV and widgets loaded) and would land in
    whichever phase happened to run.
    """

    def __init__(self, overlay: Any, *, timeout: float = DEFAULT_TIMEOUT_S, probe: BoardProbe | None = None) -> None:
        self.overlay = overlay
        self.timeout = check_timeout(timeout)
        self.probe = probe or board.probe(overlay)  # looked up on the module: tests can stand in a real board
        self.sim = self.probe.simulated
        self.mark = self.probe.snapshot().mark
        self.t0 = time.perf_counter()
        self.events: list[_Event] = []
        self._lock: threading.Lock | None = None
        self._gc_was_enabled = False
        #: called as progress(bytes_done, bytes_total) by :meth:`report`, between timed phases
        self.progress: Callable[[int, int], Any] | None = None

    # -- holding the board ------------------------------------------------------------------------------
    def __enter__(self) -> "Run":
        lock = overlay_lock(self.overlay)
        if not lock.acquire(timeout=self.timeout):
            raise BoardBusyError(f"another run is driving this board's IPs (a background Sweep or a second "
                                 f"transfer) and did not finish within {self.timeout:g} s: stop it "
                                 "(sweep.stop()) or wait for it, then run again")
        self._lock = lock
        self._timing = timing()
        self._timing.__enter__()
        self._reference = self.probe.speed_reference()  # the estimate's speed reference, beside the run
        self._reference.__enter__()
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self.mark = self.probe.snapshot().mark
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._gc_was_enabled:
            gc.enable()
        if self._lock is not None:
            self._reference.__exit__(None, None, None)
            self._timing.__exit__(None, None, None)
            self._lock.release()
            self._lock = None

    # -- recording ------------------------------------------------------------------------------------------
    def ps(self, name: str, copy_bytes: int = 0, *, numpy_calls: int | None = None, launch: bool = False) -> _Event:
        """``with run.ps(name)``: PS work -- Python, bus accesses, and ``copy_bytes`` of bulk copying
        done in ``numpy_calls`` numpy calls (default: one if there is a copy)."""
        calls = (1 if copy_bytes else 0) if numpy_calls is None else numpy_calls
        return _Event(self, "ps", name, copy_bytes, calls, launch)

    def start(self, name: str = "start") -> _Event:
        """``with run.start():`` a PS phase that launches PL work the next :meth:`wait` waits for."""
        return _Event(self, "ps", name, launch=True)

    def wait(self, name: str, resources: Iterable[str], *, span_from: str = "launch",
             final_polls: int = 0) -> _Event:
        """``with run.wait(name, resources)``: the PS polls until the PL work on ``resources`` launched
        by the last start phase is done.

        ``span_from``: the modelled span of that work starts at the launch (``"launch"``; work
        started earlier, like a store launched first, counts from the launch) or once every one
        of ``resources`` has started (``"all_started"``: in host pace a call can be launched while
        the model still runs the previous one, and that wait is the previous call's).
        ``final_polls``: status reads the PS makes after the PL is done (their board estimate is
        added to the wait).
        """
        if span_from not in ("launch", "all_started"):
            raise ValueError(f"span_from must be 'launch' or 'all_started', got {span_from!r}")
        return _Event(self, "wait", name, resources=resources, span_from=span_from, final_polls=final_polls)

    def report(self, done: int, total: int) -> None:
        """Tell the progress callback (if any) how far the run is: call it between phases, never inside."""
        if self.progress is not None:
            self.progress(done, total)

    # -- results ----------------------------------------------------------------------------------------------
    def finish(self) -> RunTiming:
        """Turn the recorded events into phases (in order of first appearance).

        On the simulated board the estimate runs on a virtual board clock: PS phases advance it
        by their Python part scaled to the board's CPU (time inside the simulation itself left
        out), bulk copies at the board's copy bandwidth, plus their modelled bus time.  A wait
        advances it to whichever comes last: one status read, or the end of the PL work it waits
        for -- counted from the end of the start phase that launched it, since a board's PS
        launches it later than ours does.
        """
        phases: dict[str, Phase] = {}
        waits: list[WaitRecord] = []
        intervals, base = self.probe.intervals_since(self.mark)
        scale = self.probe.cpu_scale(since=self.t0) if self.sim else None  # calibrated after the run began
        virtual = launched_virtual = 0.0
        launched_host, launch_mark = self.t0, self.mark
        counted: set[int] = set()  # intervals a wait already accounted for
        for ev in self.events:
            elapsed = ev.end - ev.start
            phase = phases.setdefault(ev.name, Phase(ev.name, 0.0, 0.0 if self.sim else None,
                                                     0.0 if self.sim else None))
            phase.measured += elapsed
            phase.count += 1
            if not self.sim:
                continue
            before, after = ev.before, ev.after
            python = self.probe.python_s(elapsed, before, after, scale)
            if ev.kind == "ps":
                bus = self.probe.gp_access_s(after.gp_reads - before.gp_reads, after.gp_writes - before.gp_writes)
                est = estimate.ps_stage_s(scale, python, bus, ev.copy_bytes, ev.numpy_calls)
                phase.modelled += bus
                phase.estimated += est
                virtual += est
                if ev.launch:
                    launched_virtual = virtual
                    launched_host, launch_mark = ev.start, before.mark
                continue
            # The PL work booked since the launch, up to the wait's end, not counted by an earlier wait:
            # booking order, not modelled times (in host pace the model runs ahead of the clock).
            booked = intervals[max(0, launch_mark - base): max(0, after.mark - base)]
            work = [iv for iv in booked if iv.resource in ev.resources and id(iv) not in counted]
            counted.update(id(iv) for iv in work)
            waits.append(WaitRecord(ev.name, work))
            span = _span(work, launched_host, ev.span_from)
            reads = after.gp_reads - before.gp_reads
            one_poll = scale.ps(python / max(1, reads)) + self.probe.gp_access_s(reads=1)
            end = max(virtual + one_poll, launched_virtual + span) + ev.final_polls * one_poll
            phase.modelled += span
            phase.estimated += end - virtual
            virtual = end
        return RunTiming(list(phases.values()), intervals, waits, scale, self.probe.label, self.sim,
                         self.probe.pace)


def _span(work: list, launched_host: float, span_from: str) -> float:
    """Modelled seconds from when the PS's launch (or every resource) got going to the last end."""
    if not work:
        return 0.0
    if span_from == "all_started":
        first: dict[str, float] = {}
        for iv in work:
            first[iv.resource] = min(first.get(iv.resource, iv.start), iv.start)
        begin = max(first.values())
    else:
        begin = max(launched_host, min(iv.start for iv in work))
    return max(0.0, max(iv.end for iv in work) - begin)


def check_timeout(timeout: Any) -> float:
    """A timeout in seconds: a positive number (bad input gets an error saying what is expected)."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)

