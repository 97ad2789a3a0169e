"""How long a call took of its own: wall clock less what was not the call's doing.

A watchdog (and anything that judges a call by its duration) must not blame a kernel for time the
PS spent elsewhere: waiting for a CPU while another program ran (Linux counts that per thread), in
Python's garbage collector, or -- on the simulated board -- computing the PL's data work on this
computer.  Real boards have the first two too; the third is zero there.
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["cpu_wait_s", "own_time", "no_gc"]

_SCHEDSTAT = "/proc/thread-self/schedstat"


def own_time(wall: float, cpu_wait: float, simulation: float) -> float:
    """A call's own time: wall clock less CPU waits and the simulation's own computing.  The two overlap
    (a CPU wait while the simulation computes counts in both) and are not told apart, so only the larger
    is taken off: a call is never made shorter than it was."""
    return max(0.0, wall - max(cpu_wait, simulation))


def cpu_wait_s() -> float:
    """Seconds this thread has so far spent runnable but waiting for a CPU (Linux schedstat, 0 elsewhere).

    A healthy call whose process was descheduled (another program had the cores) is not a slow
    kernel: the watchdog leaves that wait out of a call's time.  The file exists on a PYNQ board's
    Linux as on a PC (``/proc/<pid>/task/<tid>/schedstat``: on-CPU ns, run-queue wait ns, slices).
    """
    try:
        with open(_SCHEDSTAT, "rb") as f:
            return int(f.read().split()[1]) * 1e-9
    except (OSError, IndexError, ValueError):
        return 0.0


class no_gc:
    """Keep Python's cyclic garbage collector off while a call is timed, as :mod:`timeit` and labkit's Run
    do: a full collection walks every object (tens of ms with pynq and OpenCV loaded) and would look like
    a slow kernel.  Collections then happen between calls, untimed."""

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: Any) -> None:
        if self.was:
            gc.enable()
