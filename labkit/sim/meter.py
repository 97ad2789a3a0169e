"""The simulated board's power meter: its activity counters turned into the power model's input.

The model itself (constants, rails, energy) is board knowledge and lives in
:mod:`labkit.boards.power_model`; this module only reads the simulated fabric.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from labkit.boards.power_model import INPUT_RAIL, Activity, PowerModel, power_constants

if TYPE_CHECKING:
    from .device import SimDevice

__all__ = ["FabricMeter", "Reading", "PS_SOURCES"]

# -- reading the simulated board -------------------------------------------------------------------------------

PS_SOURCES = ("host_cpu", "none")


@dataclass(frozen=True)
class _Snapshot:
    time: float
    cpu_s: float
    sim_overhead_s: float
    ddr_bytes: int
    busy_cycles: dict[str, int]


@dataclass(frozen=True)
class Reading:
    """The model's output for the latest window, and the energy since the meter started."""

    time: float  #: perf_counter time at the end of the window
    window_s: float  #: how long the window was (the power is its average)
    rails_w: dict[str, float]
    energy_j: dict[str, float]  #: per rail, cumulative since the meter started
    activity: Activity

    @property
    def total_w(self) -> float:
        return self.rails_w[INPUT_RAIL]


def _thread_cpu_s() -> float:
    """CPU seconds of this process's Python threads (the simulated PL's C worker thread is not one)."""
    getclock = getattr(time, "pthread_getcpuclockid", None)
    if getclock is None:
        return time.process_time()
    total = 0.0
    for thread in threading.enumerate():
        try:
            total += time.clock_gettime(getclock(thread.ident))
        except (OSError, TypeError, OverflowError, ValueError):
            pass  # the thread ended meanwhile
    return total


class FabricMeter:
    """Turns a simulated board's counters into :class:`Activity`, window by window, and keeps the energy.

    PS load is a **stand-in**: the CPU time of this Python process's threads on this computer (less
    the time the PS thread spent inside the simulation's own IP models, ``fabric.sim_overhead_s``),
    as busy cores of the board's PS.  A Python loop, a polling wait and a bus stall keep one core
    busy here as on the board; work that uses several host threads (numpy/BLAS) counts up to the
    PS's two cores.  ``ps_source="none"`` leaves the PS idle (for tests and hand calculations).

    A reading is the average over the window since the previous reading by anyone (like a real
    power monitor averaging over its conversion time); windows shorter than ``min_window_s``
    return the previous reading.  :attr:`energy_j` adds up every window, so energy between two
    readings is exact whoever reads in between.
    """

    def __init__(self, device: "SimDevice", model: PowerModel | None = None, ps_source: str = "host_cpu",
                 min_window_s: float = 0.005, cpu_clock: Callable[[], float] = _thread_cpu_s) -> None:
        if ps_source not in PS_SOURCES:
            raise ValueError(f"ps_source must be one of {PS_SOURCES}, got {ps_source!r}")
        self.device = device
        self.fabric = device.fabric
        self.model = model or PowerModel(power_constants(device.profile), device.profile.cpu_mhz)
        self.ps_source = ps_source
        self.min_window_s = min_window_s
        self._cpu_clock = cpu_clock
        self._lock = threading.Lock()
        self._last = self._snapshot()
        idle = self.model.steady(0.0, self._clock_hz(), 1.0)
        self._reading = Reading(self._last.time, 0.0, self.model.rail_power(idle),
                                {name: 0.0 for name in self.model.rail_names}, idle)

    # -- counters ----------------------------------------------------------------------------------------
    def _clock_hz(self) -> float:
        if self.fabric.design is None:
            return 0.0
        return self.fabric.clock_hz

    def _snapshot(self) -> _Snapshot:
        cpu = self._cpu_clock() if self.ps_source == "host_cpu" else 0.0
        counters = self.fabric.counters()
        ddr = sum(c.get("read", 0) + c.get("write", 0)
                  for port, c in counters.port_bytes.items() if port.startswith("S_AXI"))
        return _Snapshot(time.perf_counter(), cpu, self.fabric.sim_overhead_s, ddr, counters.busy_cycles)

    def last_pl_end(self, since: float) -> float:
        """When the last PL work booked after ``since`` ends (``since`` if there is none)."""
        ends = [iv.end for iv in self.fabric.timeline.intervals(since=since)]
        return max(ends, default=since)

    def _activity(self, a: _Snapshot, b: _Snapshot, t_end: float | None = None) -> Activity:
        t1 = b.time if t_end is None else max(b.time, t_end)
        seconds = t1 - a.time
        cores = float(self.model.constants.ps_cores)
        ps = max(0.0, (b.cpu_s - a.cpu_s) - (b.sim_overhead_s - a.sim_overhead_s))
        ps = min(ps, cores * seconds)
        clock = self._clock_hz()
        busy: dict[str, float] = {}
        types: dict[str, str] = {}
        for resource, cycles in b.busy_cycles.items():
            booked = cycles - a.busy_cycles.get(resource, 0)
            if booked <= 0 or resource.endswith(".stall"):
                continue
            busy[resource] = booked / (clock or 100e6)
            ip = resource.split(".", 1)[0]
            model = self.fabric.ips.get(ip)
            if model is not None:
                types[ip] = model.spec.vlnv
        return Activity(seconds, ps_core_s=ps, clocked_s=seconds if clock else 0.0, clock_hz=clock or 100e6,
                        busy_s=busy, ip_types=types, ddr_bytes=b.ddr_bytes - a.ddr_bytes)

    # -- readings -------------------------------------------------------------------------------------------
    def read(self) -> Reading:
        """Close the current window (if it is long enough) and return the newest reading."""
        with self._lock:
            now = time.perf_counter()
            if now - self._last.time < self.min_window_s:
                return self._reading
            snap = self._snapshot()
            activity = self._activity(self._last, snap)
            energy = self.model.rail_energy(activity)
            total = {name: self._reading.energy_j[name] + energy[name] for name in energy}
            self._reading = Reading(snap.time, activity.seconds,
                                    {name: j / activity.seconds for name, j in energy.items()}, total, activity)
            self._last = snap
            return self._reading

    @property
    def energy_j(self) -> float:
        """Energy at the board's input since the meter started, up to now (closes a window)."""
        return self.read().energy_j[INPUT_RAIL]

    def snapshot(self) -> _Snapshot:
        """The counters now, for :meth:`activity_since` (energy of one piece of work)."""
        return self._snapshot()

    def activity_since(self, start: _Snapshot, include_pending: bool = True) -> Activity:
        """Everything since ``start``; with ``include_pending`` up to the end of PL work already booked.

        In host pace the modelled PL work can end after Python has moved on: counting up to its
        end keeps the energy of the work whole.
        """
        end = self._snapshot()
        t_end = self.last_pl_end(start.time) if include_pending else None
        return self._activity(start, end, t_end)

