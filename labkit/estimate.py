"""Estimated board time: what the simulated board's profile says the real board would take.

An estimate has two parts (DESIGN.md, "three kinds of time"):

* the **PS part**: Python work measured on this computer, scaled to the board's
  CPU.  The scale is calibrated against the one PS figure with a public board
  measurement: one iteration of the forum's per-word ``MMIO.write`` loop takes
  27-36 us on a PYNQ-Z1.  We time the same loop body on this computer (on a
  plain memory-backed device, so only Python and pynq are timed) and divide.
  Bulk numpy copies do not scale like Python calls; they are estimated from
  the board's copy bandwidth instead.
* the **PL/bus part**: the simulated board's modelled time, unchanged.

Why it is measured the way it is (issue 9, part 7): a computer shared with
other work does not run at one speed.  On a 2-core VM the same loop took
0.7 us per iteration in one process and 1.3-1.7 us in the next, and the speed
flips between those two modes from one millisecond to the next (the
hypervisor, the other core's load); a 5 ms loop took up to 10x its work in
wall time when the scheduler gave the core away.  A factor calibrated once
per process ranged 20x-48x; one calibrated just after the run still missed
the run's speed in about one process in ten, and its estimate was 1.7x off.
So:

* **like for like, at the same moment**: a loop of register accesses (the
  forum's loop) is timed in blocks of :data:`BLOCK` accesses -- the simulated
  board stamps every block -- and while a run is recorded the simulated board
  times :data:`REFERENCE_ITERATIONS` iterations of the reference loop right
  after every :data:`REFERENCE_EVERY`-th block (``labkit/sim/_regwindow.c``).
  A block and the reference next to it ran at one speed, so their ratio does
  not depend on it; the loop's cost is the median ratio times the reference's
  cost (:func:`paired_cost`), and an interruption lands in a few pairs and is
  left out.  Measured on 270 recorded per-word runs in 90 fresh processes,
  quiet and beside a CPU-bound process: every estimate within 8.2% of the
  median (a calibration taken just after the run was up to 77% off).
  Shorter loops compare a low percentile of their blocks with the
  calibration's;
* other stretches of Python count **this thread's CPU time**: the stretches
  it was not running (another process, the hypervisor, another thread
  holding the GIL) are nobody's Python (``labkit.sim.probe.SimBoardProbe.python_s``);
* the calibration is **fresh**: a run's estimate uses one taken just after
  it (``BoardProbe.cpu_scale``), otherwise one at most :data:`CALIBRATION_MAX_AGE_S` old, so it sees this computer at the
  speed it had when the measured work ran (the ``factor`` may follow this
  computer's speed; the estimate, a ratio, should not), with the garbage
  collector off.

Estimates are labelled as estimates wherever they are shown.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .boards.profiles import BoardProfile

__all__ = ["CpuScale", "cpu_scale", "REFERENCE_LOOP", "BOARD_COPY_MB_S", "host_numpy_call_s",
           "ps_stage_s", "python_s", "paired_cost", "reference_timer", "copy_seconds", "CALIBRATION_MAX_AGE_S",
           "BLOCK", "REFERENCE_ITERATIONS", "REFERENCE_EVERY"]

#: What is timed for the calibration: the body of the forum's loop.
REFERENCE_LOOP = "PL.write(write_address, image_in[i][j]); write_address += 4"
#: Estimate of a PYNQ-Z1's memcpy bandwidth: a copy moves each byte twice over the 16-bit DDR3
#: (2.1 GB/s peak, about 75% usable per UG585 ch. 22) and the Cortex-A9 rarely gets all of it.
BOARD_COPY_MB_S = 600.0
#: A calibration older than this is measured again before it scales anything: the speed of a
#: shared computer drifts over seconds (measured: a whole process 1.8x slower than the next).
CALIBRATION_MAX_AGE_S = 0.5
#: ... and a run's estimate uses one taken after the run began, unless the last is younger than this.
CALIBRATION_MIN_INTERVAL_S = 0.005
#: Register accesses per timed block (the simulated board's blocks, labkit/sim/_regwindow.c).
BLOCK = 64
#: Which quantile of a loop's blocks is its cost, on both sides of the ratio: the 10th percentile.
#: On a loaded VM a loop's blocks are bimodal (measured: ~0.75 us and ~1.4 us per access, the
#: slow ones often the majority), and the fast mode is the loop's own cost.
BLOCK_QUANTILE = 0.10
#: Fewest whole blocks for the block statistic; shorter stretches count their CPU time.
MIN_BLOCKS = 8
#: Iterations of the reference loop the simulated board times after every REFERENCE_EVERY-th block
#: of a recorded run: ~25 us here, and 32 x 64 / (4 x 64) = 12.5% added to a per-word loop's wall time.
REFERENCE_ITERATIONS = 32
REFERENCE_EVERY = 4
#: Fewest (block group, reference) pairs for :func:`paired_cost`; with fewer, the block percentile.
MIN_PAIRS = 4
_CALIBRATION_BLOCKS = 24  # 24 x 64 iterations, ~1.1 ms here: right next to the run it scales
#: Rounds of the calibration, ``pause`` apart (default one round: a run's calibration should see
#: the computer as the run saw it, just after it, not a moment later).
_CALIBRATION_ROUNDS = 1
_CALIBRATION_PAUSE_S = 0.0
_NUMPY_CALLS = 200  # small numpy assignments per run of the copy calibration

#: This thread's CPU time: what the PS's Python cost, without the stretches it was not running.
cpu_time: Callable[[], float] = time.thread_time


@dataclass(frozen=True)
class CpuScale:
    """How many times slower the board runs the reference Python than this computer."""

    factor: float
    host_loop_s: float  #: one reference iteration here (measured just now, BLOCK_QUANTILE of its blocks)
    board_loop_s: float  #: one reference iteration on the board, bus time excluded (from the profile)
    board: str
    host_numpy_call_s: float = 0.0  #: one small numpy assignment here, measured with ``host_loop_s``

    def ps(self, host_seconds: float) -> float:
        """Board estimate of Python work that took ``host_seconds`` here."""
        return host_seconds * self.factor

    def __str__(self) -> str:
        return (f"{self.board} runs Python about {self.factor:.0f}x slower than this computer "
                f"(calibrated: {REFERENCE_LOOP!r} takes {self.host_loop_s * 1e6:.2f} us here "
                f"just now, {self.board_loop_s * 1e6:.1f} us on the board per the PYNQ forum)")


def _plain_memory(base: int, length: int) -> np.ndarray:
    return np.zeros(length // 4, dtype=np.uint32)


class _PlainDevice:
    """A stand-in with pynq's MMIO contract, so only Python and pynq are timed: its ``mmap`` hands out
    plain memory, or what ``mmap`` (same signature) returns."""

    capabilities = {"MEMORY_MAPPED": True}

    def __init__(self, mmap: Callable[[int, int], np.ndarray] = _plain_memory) -> None:
        self.mmap = mmap

    def has_capability(self, cap: str) -> bool:
        return bool(self.capabilities.get(cap))


def fastest_cpu_s(work: Callable[[], object], repeats: int) -> float:
    """The least CPU time (this thread) of ``repeats`` calls of ``work``, after one warm-up call,
    with the garbage collector off: the cost of the work itself, not of what interrupted it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        work()  # warm-up: first-call costs (caches, pynq's lazy attributes) are not the loop's
        best = float("inf")
        for _ in range(repeats):
            start = cpu_time()
            work()
            best = min(best, cpu_time() - start)
        return best
    finally:
        if was_enabled:
            gc.enable()


def block_cost_s(blocks: "np.ndarray | list[float]") -> float:
    """Seconds per access of a loop timed in blocks of :data:`BLOCK` accesses (see :data:`BLOCK_QUANTILE`)."""
    return float(np.quantile(np.asarray(blocks, dtype=float), BLOCK_QUANTILE)) / BLOCK


def _reference_loop(blocks: int) -> Callable[[], list[float]]:
    """The forum's loop over ``blocks`` rows of :data:`BLOCK` pixels on a plain memory-backed pynq
    MMIO, timing each row (one block) as the simulated board times its access blocks."""
    from pynq import MMIO

    pl = MMIO(0x4000_0000, 4 * blocks * BLOCK + 4, device=_PlainDevice())
    rows = [[row] for row in np.arange(blocks * BLOCK, dtype=np.uint32).reshape(blocks, BLOCK).tolist()]

    def loop() -> list[float]:
        stamps = [time.perf_counter()]
        for k, row in enumerate(rows):
            _forum_loop(pl, row, 4 * BLOCK * k)
            stamps.append(time.perf_counter())
        return [b - a for a, b in zip(stamps, stamps[1:])]

    return loop


def _numpy_calls() -> Callable[[], None]:
    a, b = np.zeros(16, dtype=np.uint32), np.ones(16, dtype=np.uint32)

    def calls() -> None:
        for _ in range(_NUMPY_CALLS):
            a[:] = b

    return calls


@dataclass(frozen=True)
class Calibration:
    """This computer's speed at one moment: seconds of CPU time per reference iteration and per
    small numpy call, and when it was measured (``perf_counter`` time)."""

    loop_s: float
    numpy_call_s: float
    taken: float


class Calibrator:
    """Measures this computer's speed on the reference loop, again whenever the last measurement
    is older than ``max_age_s`` (``clock`` is the time base for the age).  No lock: two threads
    that find it stale at once both measure, and either result is a fresh calibration."""

    def __init__(self, max_age_s: float = CALIBRATION_MAX_AGE_S, clock: Callable[[], float] = time.perf_counter,
                 blocks: int = _CALIBRATION_BLOCKS, rounds: int = _CALIBRATION_ROUNDS,
                 pause_s: float = _CALIBRATION_PAUSE_S) -> None:
        self.max_age_s = max_age_s
        self.clock = clock
        self.blocks = blocks
        self.rounds = rounds
        self.pause_s = pause_s
        self.measurements = 0  #: how many calibrations were taken
        self._last: Calibration | None = None
        self._loop: Callable[[], list[float]] | None = None

    def measure(self) -> Calibration:
        """A new calibration, now (about 1-2 ms)."""
        first = self._loop is None
        if first:
            self._loop = _reference_loop(self.blocks)
        loop = self._loop
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for _ in range(4 if first else 1):
                loop()  # warm-up: first-call costs (caches, pynq's lazy attributes) are not the loop's
            blocks = loop()
            for _ in range(self.rounds - 1):
                time.sleep(self.pause_s)
                blocks += loop()
        finally:
            if was_enabled:
                gc.enable()
        numpy_call_s = fastest_cpu_s(_numpy_calls(), 3) / _NUMPY_CALLS
        self._last = Calibration(block_cost_s(blocks), numpy_call_s, self.clock())
        self.measurements += 1
        return self._last

    @property
    def last(self) -> Calibration | None:
        """The newest calibration (None before the first)."""
        return self._last

    def current(self, since: float | None = None) -> Calibration:
        """The last calibration if it is fresh enough, else a new one.

        Fresh enough: at most ``max_age_s`` old and, given ``since`` (a ``clock`` time, e.g. when
        the measured run began), taken after it -- unless it is younger than
        :data:`CALIBRATION_MIN_INTERVAL_S` (back-to-back short runs share one).
        """
        last = self._last
        if last is None:
            return self.measure()
        age = self.clock() - last.taken
        if age > self.max_age_s or (since is not None and last.taken < since and age > CALIBRATION_MIN_INTERVAL_S):
            return self.measure()
        return last


_CALIBRATOR = Calibrator()  # a cache that expires by itself: nothing to reset between tests


def _host_loop_s() -> float:
    """Seconds per iteration of the forum's MMIO.write loop on this computer, now (see block_cost_s)."""
    return _CALIBRATOR.current().loop_s


def cpu_scale(profile: BoardProfile, since: float | None = None) -> CpuScale:
    """The CPU scale for ``profile``, from a calibration at most :data:`CALIBRATION_MAX_AGE_S` old,
    taken after ``since`` (a ``time.perf_counter()`` time, e.g. when the measured run began) if
    given.  Taking one costs about 1-2 ms."""
    bus_s = float(profile.gp_write_cycles) / (float(profile.fclk0_mhz) * 1e6)
    board_loop = float(profile.ps_ref_loop_us) * 1e-6 - bus_s
    calibration = _CALIBRATOR.current(since)
    return CpuScale(board_loop / calibration.loop_s, calibration.loop_s, board_loop, profile.name,
                    calibration.numpy_call_s)


def _forum_loop(PL: Any, image_in: list, write_address: int) -> None:
    """The forum's loop, as a student writes it (and as ``labkit.transfer``'s per_word runs it)."""
    for i in range(len(image_in)):
        for j in range(len(image_in[0])):
            PL.write(write_address, image_in[i][j])
            write_address = write_address + 4


def reference_timer(mmap: Callable[[int, int], np.ndarray] = _plain_memory) -> Callable[[], float]:
    """A speed reference a recorded run interleaves with its register accesses: each call runs
    :data:`REFERENCE_ITERATIONS` iterations of the forum's loop on a pynq MMIO over the array
    ``mmap(base, length)`` returns (default: plain memory) and returns their seconds.  Built and
    warmed up here (about a millisecond)."""
    from pynq import MMIO

    pl = MMIO(0x4000_0000, 4 * REFERENCE_ITERATIONS, device=_PlainDevice(mmap))
    image_in = [list(range(REFERENCE_ITERATIONS))]
    clock = time.perf_counter

    def reference() -> float:
        start = clock()
        _forum_loop(pl, image_in, 0)
        return clock() - start

    for _ in range(8):
        reference()  # warm-up: first-call costs (caches, pynq's lazy attributes) are not the loop's
    return reference


def host_numpy_call_s() -> float:
    """Python cost (CPU time) of one small numpy assignment here, now: a copy phase's non-copy part."""
    return _CALIBRATOR.current().numpy_call_s


def paired_cost(blocks: "np.ndarray", references: "np.ndarray") -> float | None:
    """One access of a loop in reference-loop iterations, from its blocks and the references timed
    beside them (aligned arrays, NaN where a block has none).  None with fewer than
    :data:`MIN_PAIRS` references.

    Each reference is compared with the faster of the two blocks next to it (the one before and the
    one after): an interruption only adds time, and this computer can switch speed from one block
    to the next (measured: between 0.8 and 1.8 us per access), so the faster neighbour is the one
    that ran as the reference did.  The cost is the median of those ratios (per access over per
    iteration): a reference that was itself interrupted is left out with the other outliers.
    """
    blocks = np.asarray(blocks, dtype=float) / BLOCK
    references = np.asarray(references, dtype=float)
    timed = np.flatnonzero(np.isfinite(references) & (references > 0))
    if timed.size < MIN_PAIRS:
        return None
    neighbours = np.array([blocks[k: k + 2].min() for k in timed])
    return float(np.median(neighbours / (references[timed] / REFERENCE_ITERATIONS)))


def python_s(elapsed: float, not_running_s: float, sim_s: float, accesses: int = 0,
             blocks: "np.ndarray | None" = None, references: "np.ndarray | None" = None,
             loop_s: float | None = None) -> float:
    """The student's Python in a stretch that took ``elapsed`` seconds of wall time, in this
    computer's seconds at the speed of the calibration whose reference iteration took ``loop_s``.

    Wall time minus the time the thread was not running (``not_running_s``) minus the time inside the
    simulation (``sim_s``).  A loop of at least :data:`MIN_BLOCKS` x :data:`BLOCK` register accesses
    (``blocks``: the seconds of its whole access blocks) counts its ``accesses`` by comparison with the
    reference loop: with the ``references`` timed beside its blocks, at :func:`paired_cost` reference
    iterations of ``loop_s`` each; without, at the :data:`BLOCK_QUANTILE` of its blocks, as the
    calibration measures the reference loop -- never more than the former.
    """
    python = max(0.0, elapsed - not_running_s - sim_s)
    if blocks is not None and blocks.size >= MIN_BLOCKS:
        paired = paired_cost(blocks, references) if references is not None and loop_s else None
        if paired is not None:
            return paired * loop_s * accesses
        python = min(python, block_cost_s(blocks) * accesses)
    return python


def ps_stage_s(scale: CpuScale, python_s: float, bus_s: float, copy_bytes: int = 0, numpy_calls: int = 0) -> float:
    """Board estimate of a PS stage measured here: its Python scaled to the board's CPU, plus its
    modelled GP-port time.  A bulk copy (``numpy_calls`` > 0) costs the board those calls'
    Python and ``copy_bytes`` at the board's copy bandwidth: a copy is bandwidth, not interpreter speed.
    """
    if numpy_calls:
        python_s = min(python_s, numpy_calls * (scale.host_numpy_call_s or host_numpy_call_s()))
    return scale.ps(python_s) + copy_seconds(copy_bytes) + bus_s


def copy_seconds(nbytes: int) -> float:
    """Board estimate of a bulk numpy copy of ``nbytes`` (see BOARD_COPY_MB_S)."""
    return nbytes / (BOARD_COPY_MB_S * 1e6)
