"""Three kinds of time, never mixed up (DESIGN.md), and how to show them.

``measured``
    Wall-clock time on the machine that ran the code.  On the simulated board
    that is this computer, and it says which one.
``modelled``
    PL and bus time of the simulated board: cycles divided by the PL clock.
    Nobody measured it; the model computed it.
``estimated``
    What the board would take: the PS part of a measurement scaled to the
    board's CPU, plus the modelled PL/bus time.  Only the simulated board
    makes estimates; on a real board you measure.

>>> from labkit.timing import Timing
>>> print(Timing(0.0011, "modelled", "simulated PYNQ-Z1, PL at 100 MHz"))
1.10 ms (modelled: simulated PYNQ-Z1, PL at 100 MHz)
"""

from __future__ import annotations

import functools
import os
import platform
from dataclasses import dataclass
from typing import Literal

__all__ = ["Timing", "TimeKind", "KINDS", "this_machine", "format_seconds", "measured", "modelled"]

TimeKind = Literal["measured", "modelled", "estimated"]
KINDS: tuple[TimeKind, ...] = ("measured", "modelled", "estimated")


@functools.lru_cache(maxsize=1)
def this_machine() -> str:
    """A short name of the computer running this Python (what "measured" refers to)."""
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith(("model name", "hardware")):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.node() or 'this computer'} ({cpu}, {os.cpu_count()} cores)"


def format_seconds(seconds: float) -> str:
    """1.5e-6 -> '1.50 us', 0.0123 -> '12.30 ms', 2.5 -> '2.500 s'."""
    value = abs(seconds)
    if value < 1e-6:
        return f"{seconds * 1e9:.1f} ns"
    if value < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if value < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


@dataclass(frozen=True)
class Timing:
    """A duration together with what kind of time it is and where it comes from."""

    seconds: float
    kind: TimeKind
    source: str  #: machine that measured it / model that computed it / profile that estimated it

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    def __str__(self) -> str:
        return f"{format_seconds(self.seconds)} ({self.kind}: {self.source})"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def measured(seconds: float) -> Timing:
    """A wall-clock duration measured on this computer."""
    return Timing(seconds, "measured", this_machine())


def modelled(seconds: float, board: str, clock_hz: float) -> Timing:
    """A duration the simulated board's model computed."""
    return Timing(seconds, "modelled", f"simulated {board}, PL at {clock_hz / 1e6:.0f} MHz")
