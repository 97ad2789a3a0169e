"""The simulated board's answers to :class:`labkit.boardprobe.BoardProbe`: everything its model knows.

This is the only door from lab code into the simulation (``labkit.board.probe(ol)`` opens it):
modelled clock and bus time, the timeline of PL work, activity counters, power rails, pace and
faults.  Nothing above ``labkit/sim`` touches the fabric any other way.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Iterable

import numpy as np

from labkit import estimate
from labkit.boardprobe import BoardProbe, Snapshot

from . import _regwindow
from .fabric import BLOCK_ACCESSES, CONFIG_LEN

if TYPE_CHECKING:
    from labkit.boards.profiles import BoardProfile

    from .device import SimDevice

__all__ = ["SimBoardProbe"]


class SimBoardProbe(BoardProbe):
    """A :class:`~labkit.boardprobe.BoardProbe` that answers from the simulated board's model."""

    simulated = True

    def __init__(self, device: "SimDevice") -> None:
        super().__init__(device)
        self._fabric = device.fabric

    @property
    def board(self) -> str:
        return self.device.profile.name

    @property
    def label(self) -> str:
        return f"{self.board} (simulated, {self._fabric.pace} pace)"

    @property
    def pace(self) -> str:
        return self._fabric.pace

    def set_pace(self, pace: str) -> None:
        self._fabric.pace = pace

    @property
    def profile(self) -> "BoardProfile":
        return self.device.profile

    @property
    def clock_hz(self) -> float:
        return self._fabric.clock_hz

    @property
    def pool_bytes(self) -> int:
        return self.device.pool.size

    def gp_access_s(self, reads: int = 0, writes: int = 0) -> float:
        return self._fabric.gp_access_s(reads, writes)

    def snapshot(self) -> Snapshot:
        fabric = self._fabric
        reads, writes = fabric.gp_totals()
        return Snapshot(reads, writes, fabric.sim_overhead_s, fabric.timeline.mark(), fabric.model_work_s,
                        time.perf_counter(), estimate.cpu_time(), fabric.access_count())

    def python_s(self, elapsed: float, before: Snapshot, after: Snapshot,
                 scale: "estimate.CpuScale | None" = None) -> float:
        """The stretch's Python at the speed of ``scale``'s calibration: without the simulation's own
        time, without the stretches this thread was not running, and for a loop of register accesses
        its accesses compared with the speed reference timed beside them (see
        :func:`labkit.estimate.python_s`)."""
        window = after.wall - before.wall
        not_running = max(0.0, window - (after.cpu - before.cpu) - max(0.0, window - elapsed))
        first = -(-before.accesses // BLOCK_ACCESSES)  # whole access blocks inside the stretch
        end = (after.accesses - 1) // BLOCK_ACCESSES
        blocks = references = None
        if end - first >= estimate.MIN_BLOCKS:
            blocks = self._fabric.access_block_seconds(first, end)
            references = self._fabric.access_block_references(first, end)
        return estimate.python_s(elapsed, not_running, after.sim_s - before.sim_s,
                                 after.accesses - before.accesses, blocks, references,
                                 scale.host_loop_s if scale is not None else None)

    def speed_reference(self) -> ContextManager[None]:
        """While open (a recorded run), the simulated board times the reference loop beside the
        run's register accesses, so the estimate compares them at one speed (labkit.estimate)."""
        return self._fabric.speed_reference(_reference_timer(), estimate.REFERENCE_EVERY)

    def cpu_scale(self, since: float) -> "estimate.CpuScale":
        return estimate.cpu_scale(self.device.profile, since=since)

    def intervals_since(self, mark: int) -> tuple[list, int]:
        timeline = self._fabric.timeline
        booked = timeline.booked_since(mark)
        # The timeline keeps only its newest intervals: number the first one from the count.
        return booked, timeline.mark() - len(booked)

    def intervals(self, since: float = float("-inf"), resources: Iterable[str] | None = None) -> list:
        return self._fabric.timeline.intervals(since=since, resources=resources)

    def counters(self) -> Any:
        return self._fabric.counters()

    def power_rails(self) -> tuple[dict[str, Any], Any]:
        from .rails import meter_for, sim_rails  # the rails need the whole board: built on first use

        return sim_rails(self.device), meter_for(self.device)

    def reconfiguration_s(self) -> float:
        return self.device.profile.reconfiguration_s

    @property
    def reconfigurations(self) -> int:
        return self._fabric.reconfigurations

    def stream_trace(self, n: int | None = None) -> list:
        return self._fabric.trace.last(n)

    def stream_pending(self) -> list:
        from .trace import pending

        return pending(self._fabric.stream_channels())

    @property
    def faults(self) -> Any:
        return self._fabric.faults


def _scratch_window(base: int, length: int) -> Any:
    """A register window of the simulated board's own type that reaches no IP: the speed reference
    runs the forum's loop through the same C path as the student's accesses (measured: the
    student/reference ratio then varies +-0.5% between fresh processes, against +-1.5% with a plain
    numpy array), and moves nothing on the simulated bus."""
    words = length // 4
    return _regwindow.make_window(np.zeros(words, np.uint32), 0, words, None, np.zeros(words, np.uint8),
                                  np.zeros(4, np.uint64), np.zeros(CONFIG_LEN, np.float64))


@functools.cache
def _reference_timer() -> Callable[[], float]:
    """This process's speed reference (one: it does not depend on the board)."""
    return estimate.reference_timer(_scratch_window)
