"""Modelled time: what each PL resource is doing, and when.

The PL is modelled at transaction level.  Every IP (or stage of an IP, such as
a DMA channel or the "load" half of a ping-pong kernel) is a *resource*; a
piece of work on it is an :class:`Interval` that starts at
``max(resource free, inputs ready, moment the PS asked)`` and lasts
``cycles / clock``.  Times are seconds on the host's ``time.perf_counter``
axis, so a modelled interval can be compared with the wall-clock moment the
PS issued the register write that caused it.

This is the *modelled PL/bus time* of DESIGN.md's three kinds of time: it is
never measured, and everything that shows it says so.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable

__all__ = ["Interval", "Timeline"]


@dataclass(frozen=True, slots=True)
class Interval:
    """One piece of modelled PL work."""

    resource: str  #: e.g. "dma_pp.mm2s", "pp_load_compute.read"
    label: str  #: short name for charts: "LB", "COM", "SB", "MM2S" ...
    start: float  #: modelled start, seconds on the perf_counter axis
    end: float  #: modelled end
    cycles: int  #: PL cycles the work takes at the clock it ran at
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def duration(self) -> float:
        return self.end - self.start


class Timeline:
    """The modelled schedule of every PL resource, newest ``maxlen`` intervals kept."""

    #: intervals are booked roughly in time order; a backwards search stops after this many old ones
    SEARCH_SLACK = 256

    def __init__(self, maxlen: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._intervals: deque[Interval] = deque(maxlen=maxlen)
        self._free_at: dict[str, float] = {}
        self._busy_cycles: dict[str, int] = {}
        self._booked = 0  # intervals booked so far (never trimmed)

    def abort_after(self, t: float) -> None:
        """The PL was reconfigured at ``t``: work booked to run past it was cut off, every resource is free."""
        for resource, free in list(self._free_at.items()):
            if free > t:
                self._free_at[resource] = t

    def free_at(self, resource: str) -> float:
        """When ``resource`` finishes the work booked on it so far (-inf if never used)."""
        return self._free_at.get(resource, float("-inf"))

    def book(self, resource: str, label: str, earliest: float, cycles: int, clock_hz: float,
             *, not_before: Iterable[float] = (), **meta: Any) -> Interval:
        """Schedule ``cycles`` of work on ``resource`` no earlier than ``earliest`` and every ``not_before``."""
        with self._lock:
            start = max(earliest, self.free_at(resource), *not_before)
            interval = Interval(resource, label, start, start + cycles / clock_hz, int(cycles), meta)
            self._record(interval)
            return interval

    def add(self, interval: Interval) -> Interval:
        """Record an interval whose start and end the caller worked out (e.g. a stream consumer)."""
        with self._lock:
            self._record(interval)
            return interval

    def _record(self, interval: Interval) -> None:
        self._intervals.append(interval)
        self._booked += 1
        self._free_at[interval.resource] = max(self.free_at(interval.resource), interval.end)
        self._busy_cycles[interval.resource] = self._busy_cycles.get(interval.resource, 0) + interval.cycles

    def intervals(self, since: float = float("-inf"), resources: Iterable[str] | None = None) -> list[Interval]:
        """Intervals that end after ``since``, optionally only for some resources, in booking order.

        Searches from the newest backwards, so asking about the last few microseconds stays
        cheap however long the timeline is.
        """
        wanted = set(resources) if resources is not None else None
        found: list[Interval] = []
        old_in_a_row = 0
        with self._lock:
            for iv in reversed(self._intervals):
                if iv.end > since:
                    old_in_a_row = 0
                    if wanted is None or iv.resource in wanted:
                        found.append(iv)
                else:
                    old_in_a_row += 1
                    if old_in_a_row > self.SEARCH_SLACK:
                        break
        found.reverse()
        return found

    def mark(self) -> int:
        """A bookmark for :meth:`booked_since`: how many intervals were booked so far."""
        with self._lock:
            return self._booked

    def booked_since(self, mark: int) -> list[Interval]:
        """Intervals booked after :meth:`mark` returned ``mark`` (at most the newest ``maxlen``), in order.

        What a piece of PS code made the PL do, whatever their modelled times: in host pace the
        model runs ahead of the wall clock, so the previous run's work may still end after this
        one began.
        """
        with self._lock:
            n = min(self._booked - mark, len(self._intervals))
            return list(self._intervals)[len(self._intervals) - n:] if n > 0 else []

    def busy_cycles(self) -> dict[str, int]:
        """Cycles booked on each resource since the timeline was created (never trimmed)."""
        with self._lock:
            return dict(self._busy_cycles)

    def clear(self) -> None:
        """Forget the recorded intervals (resources stay booked until their work ends)."""
        with self._lock:
            self._intervals.clear()
