"""Board power: measured where the board has sensors, modelled on the simulated board, estimated otherwise.

>>> import labkit, labkit.power
>>> ol = labkit.open_board()
>>> power = labkit.power.open_power(ol)
>>> print(power)                       # where the watts come from
>>> print(power.read())                # total and per-rail power, and which kind of number it is
>>> with power.measure("dma", count=10) as m:
...     ...                            # ten transfers
>>> print(m)                           # energy, and energy per transfer

Three kinds of power, like the three kinds of time (:mod:`labkit.timing`), never mixed up:

``measured``
    A board with power sensors (ZCU104, ZCU102, Alveo ...): pynq's own ``pynq.get_rails()``
    (PMBus/hwmon through libsensors) and ``pynq.DataRecorder``.
``modelled``
    The simulated board: the power model of :mod:`labkit.boards.power_model`, driven by the
    simulation's activity counters.  Its rails are plugged into pynq's pmbus layer, so
    ``pynq.get_rails()`` and ``DataRecorder`` work on it unchanged.
``estimated``
    A real board without sensors (PYNQ-Z1, PYNQ-Z2): nothing can be measured from Python, so
    the model's figure for a busy or idle board is offered instead, and says so.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Iterator

import numpy as np
import pynq

from . import board as _board
from .boardprobe import BoardProbe
from .classroom.records import autosave
from .errors import LabkitError
from .boards.power_model import INPUT_RAIL, TERMS, Activity, PowerModel, power_constants
from .boards.profiles import PROFILES
from .timing import format_seconds

__all__ = ["KINDS", "PowerReading", "EnergyMeasurement", "PowerSource", "NoPowerSensors", "open_power",
           "TOTAL_RAIL_NAMES", "NO_SENSORS_MESSAGE", "format_watts", "format_joules", "integrate_j"]

KINDS = ("measured", "modelled", "estimated")
#: Names of a board's input rail, the one that shows total board power (first match wins).
TOTAL_RAIL_NAMES = ("VIN", "12V", "12V_PEX", "PEX12V", "VCC12V", "SYS12", "5V0", "VCC5V0")
NO_SENSORS_MESSAGE = ("no power sensors on this board: pynq.get_rails() found no PMBus/hwmon rails (a PYNQ-Z1 "
                      "or PYNQ-Z2 has none; ZCU104, ZCU102 and Alveo cards have them). Measure with a USB or "
                      "wall-socket power meter; until then the lab shows the power model's estimate, labelled "
                      "'estimated'.")
BOARD_ENV = "BOARD"  #: PYNQ images set it to the board's name, e.g. "Pynq-Z1"
DEFAULT_SAMPLE_S = 0.05  #: how often measure() reads a real sensor


class NoPowerSensors(LabkitError, RuntimeError):
    """Something needs a measured power, and this board has no sensors."""


def format_watts(watts: float) -> str:
    return f"{watts * 1e3:.1f} mW" if abs(watts) < 1 else f"{watts:.3f} W"


def integrate_j(times: Any, watts: Any) -> float:
    """Energy in joules of power samples taken at ``times`` (seconds): the trapezoid rule."""
    t = np.asarray(times, dtype=np.float64)
    p = np.asarray(watts, dtype=np.float64)
    return float(np.sum((t[1:] - t[:-1]) * (p[1:] + p[:-1]) / 2))


def format_joules(joules: float) -> str:
    value = abs(joules)
    if value < 1e-3:
        return f"{joules * 1e6:.2f} uJ"
    if value < 1:
        return f"{joules * 1e3:.3f} mJ"
    return f"{joules:.3f} J"


@dataclass(frozen=True)
class PowerReading:
    """Power at one moment: total and per rail, with what kind of number it is and where it comes from."""

    time: float  #: perf_counter time
    total_w: float
    rails_w: dict[str, float]
    kind: str  #: "measured", "modelled" or "estimated"
    source: str

    def __str__(self) -> str:
        rails = ", ".join(f"{name} {format_watts(w)}" for name, w in self.rails_w.items())
        return f"{format_watts(self.total_w)} ({self.kind}: {self.source})" + (f"\n  rails: {rails}" if rails else "")

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


@dataclass
class EnergyMeasurement:
    """The energy of one piece of work (a transfer, a batch of frames ...)."""

    label: str
    count: int  #: how many items (transfers, frames) the work was
    seconds: float = 0.0  #: measured wall time on the machine that ran it
    energy_j: float = 0.0
    kind: str = "modelled"
    source: str = ""
    terms: dict[str, float] = field(default_factory=dict)  #: model terms (simulated board / estimates only)
    activity: Activity | None = field(default=None, repr=False)
    profile: str = ""  #: board profile of the power model behind the figure (simulated board / estimates)

    @property
    def per_item_j(self) -> float:
        return self.energy_j / max(1, self.count)

    @property
    def average_w(self) -> float:
        return self.energy_j / self.seconds if self.seconds > 0 else float("nan")

    def on_board(self, board_seconds: float, ps_cores_busy: float = 1.0) -> "EnergyMeasurement":
        """The same work taking ``board_seconds`` on the board (an **estimate**; simulated board only).

        Static terms are rescaled to ``board_seconds``; the PS keeps ``ps_cores_busy`` cores busy the
        whole time (a Python transfer computes or polls from start to end); the PL's busy energy and
        the DDR traffic energy are those the simulation counted.
        """
        if self.activity is None:
            raise ValueError("on_board() needs the simulated board's activity: only measurements made on the "
                             "simulated board have it")
        model = _model(self.profile or "PYNQ-Z1")
        a = self.activity
        board = replace(a, seconds=board_seconds, ps_core_s=ps_cores_busy * board_seconds,
                        clocked_s=board_seconds if a.clocked_s else 0.0)
        rails = model.rail_energy(board)
        return EnergyMeasurement(self.label, self.count, board_seconds, rails[INPUT_RAIL], "estimated",
                                 f"{self.source}; time base: {format_seconds(board_seconds)} estimated on the board",
                                 model.terms(board), board, self.profile)

    def __str__(self) -> str:
        what = f"{self.label}: " if self.label else ""
        per = f", {format_joules(self.per_item_j)} per item ({self.count} items)" if self.count > 1 else ""
        return (f"{what}{format_joules(self.energy_j)} in {format_seconds(self.seconds)}, average "
                f"{format_watts(self.average_w)}{per} ({self.kind}: {self.source})")

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def to_dict(self) -> dict[str, Any]:
        record = {"label": self.label, "count": self.count, "seconds": self.seconds, "energy_j": self.energy_j,
                  "per_item_j": self.per_item_j, "average_w": self.average_w, "kind": self.kind,
                  "source": self.source}
        record.update({f"term_{k.replace(' ', '_')}_j": v for k, v in self.terms.items()})
        return record


_MODELS: dict[str, PowerModel] = {}


def _model(profile: str) -> PowerModel:
    if profile not in _MODELS:
        _MODELS[profile] = PowerModel(power_constants(profile), PROFILES[profile].cpu_mhz)
    return _MODELS[profile]


def _power_sensor(rail) -> Any:
    return getattr(rail, "power", None)


def _real_board_profile() -> tuple[str, str]:
    """(profile name, how it was chosen) for the model's estimate on a real board without sensors."""
    named = os.environ.get(BOARD_ENV, "")
    for name in PROFILES:
        if named.replace("_", "-").lower() == name.lower():
            return name, f"${BOARD_ENV}={named}"
    return "PYNQ-Z1", (f"${BOARD_ENV}={named!r} has no power model, using PYNQ-Z1's" if named
                       else "board unknown, using PYNQ-Z1's")


class PowerSource:
    """Where this board's power figures come from; open one with :func:`open_power`.

    Attributes: ``kind`` ("measured", "modelled" or "none"), ``board``, ``rails`` (pynq
    ``Rail`` objects by name, from ``pynq.get_rails()``), ``total_rail`` (the board's input rail,
    or None), ``message`` (one sentence for a person).
    """

    def __init__(self, board_probe: BoardProbe, rails: dict[str, Any], kind: str, board: str, message: str,
                 total_rail: str | None, model: PowerModel | None = None, meter=None) -> None:
        self.probe = board_probe
        self.rails = rails
        self.kind = kind
        self.board = board
        self.message = message
        self.total_rail = total_rail
        self.model = model
        self.meter = meter

    # -- what the figures are --------------------------------------------------------------------------
    @property
    def reading_kind(self) -> str:
        """The kind of number :meth:`read` returns: measured, modelled, or estimated."""
        return {"measured": "measured", "modelled": "modelled"}.get(self.kind, "estimated")

    @property
    def source(self) -> str:
        if self.kind == "modelled":
            return f"power model of the simulated {self.board}, {self.probe.pace} pace"
        if self.kind == "measured":
            return f"{self.board} sensors via pynq.get_rails()"
        return f"power model of a {self.board}, no sensors on this board"

    def __str__(self) -> str:
        rails = ", ".join(self.rails) or "none"
        return f"Power on {self.board}: {self.message}\n  rails: {rails}\n  total: {self.total_rail or '-'}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    # -- readings -------------------------------------------------------------------------------------
    def power_sensors(self, rails: list[str] | None = None) -> list:
        """The power sensors of ``rails`` (default: every rail that has one), for ``pynq.DataRecorder``."""
        names = rails if rails is not None else list(self.rails)
        sensors = [_power_sensor(self.rails[name]) for name in names]
        return [s for s in sensors if s is not None]

    def recorder(self, rails: list[str] | None = None) -> pynq.DataRecorder:
        """A ``pynq.DataRecorder`` of the power sensors of ``rails`` (raises on a board without sensors)."""
        sensors = self.power_sensors(rails)
        if not sensors:
            raise NoPowerSensors(NO_SENSORS_MESSAGE)
        return pynq.DataRecorder(*sensors)

    def read(self) -> PowerReading:
        """Power now: total and per rail (an estimate on a board without sensors)."""
        now = time.perf_counter()
        if self.kind == "modelled":
            reading = self.meter.read()
            return PowerReading(reading.time, reading.total_w, dict(reading.rails_w), "modelled", self.source)
        if self.kind == "measured":
            rails_w = {}
            for name, rail in self.rails.items():
                sensor = _power_sensor(rail)
                if sensor is not None:
                    rails_w[name] = float(sensor.value)
            if self.total_rail is not None:
                total = rails_w[self.total_rail]
                source = self.source
            else:
                total = sum(rails_w.values())
                source = f"{self.source}, total = sum of {len(rails_w)} rails (no input rail found; rails may overlap)"
            return PowerReading(now, total, rails_w, "measured", source)
        return self.estimate()

    def total_w(self) -> float:
        return self.read().total_w

    def estimate(self, ps_cores_busy: float = 1.0, pl_clock_hz: float = 100e6) -> PowerReading:
        """The model's figure for this board with ``ps_cores_busy`` cores busy and the PL clocked, idle.

        Always labelled ``estimated``: it is what the model says such a board draws, not a reading.
        """
        model = self.model or _model("PYNQ-Z1")
        rails = model.rail_power(model.steady(ps_cores_busy, pl_clock_hz))
        return PowerReading(time.perf_counter(), rails[INPUT_RAIL], rails, "estimated",
                            f"power model of a {model.constants.board}, {ps_cores_busy:g} PS cores busy, "
                            f"PL at {pl_clock_hz / 1e6:.0f} MHz and idle")

    # -- energy of a piece of work ------------------------------------------------------------------------
    @contextmanager
    def measure(self, label: str = "", count: int = 1,
                sample_s: float = DEFAULT_SAMPLE_S) -> Iterator[EnergyMeasurement]:
        """Energy of the work inside the ``with`` block; ``count`` items gives energy per item.

        * simulated board: the model's energy of everything the board did meanwhile (PL work the
          block started is counted to its modelled end), **modelled**;
        * sensors: total power read every ``sample_s`` seconds on a thread and integrated,
          **measured**;
        * no sensors: the model's busy-board power x the measured time, **estimated**.
        """
        result = EnergyMeasurement(label, count, kind=self.reading_kind,
                                   profile=self.model.constants.board if self.model is not None else "")
        start = time.perf_counter()
        if self.kind == "modelled":
            snap = self.meter.snapshot()
            yield result
            activity = self.meter.activity_since(snap)
            rails = self.model.rail_energy(activity)
            result.seconds = time.perf_counter() - start
            result.energy_j = rails[INPUT_RAIL]
            result.terms = self.model.terms(activity)
            result.activity = activity
            result.source = self.source
        elif self.kind == "measured":
            samples: list[tuple[float, float]] = [(start, self.total_w())]
            done = threading.Event()

            def sample() -> None:
                while not done.wait(sample_s):
                    samples.append((time.perf_counter(), self.total_w()))

            thread = threading.Thread(target=sample, name="labkit-power-measure", daemon=True)
            thread.start()
            try:
                yield result
            finally:
                done.set()
                thread.join()
            samples.append((time.perf_counter(), self.total_w()))
            result.seconds = samples[-1][0] - start
            result.energy_j = integrate_j(*zip(*samples))
            result.source = f"{self.source}, {len(samples)} samples integrated"
        else:
            yield result
            result.seconds = time.perf_counter() - start
            est = self.estimate()
            result.energy_j = est.total_w * result.seconds
            result.source = est.source + " x measured time"
        autosave(result)  # classroom record of the closed span


def open_power(overlay: pynq.Overlay | None = None, *, config_file: str | None = None) -> PowerSource:
    """The power figures of the board ``overlay`` runs on (default: pynq's active device).

    Never fails for lack of sensors: on a board without them the source's ``kind`` is "none", its
    ``message`` says so, and :meth:`PowerSource.read` returns the model's estimate, labelled.
    """
    board_probe = _board.probe(overlay)
    if board_probe.simulated:
        # The rails pynq.get_rails() returns while this board is active, and the model they read:
        # this board's, even when another simulated board became pynq's active device since.
        rails, meter = board_probe.power_rails()
        return PowerSource(board_probe, rails, "modelled", f"{board_probe.board} (simulated)",
                           f"modelled: no board here; watts come from the power model, driven by the simulated "
                           f"board's activity ({board_probe.pace} pace)", INPUT_RAIL, meter.model, meter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Could not initialise libsensors library" on boards without it
        try:
            rails = pynq.get_rails(config_file) if config_file else pynq.get_rails()
        except Exception as exc:  # noqa: BLE001 -- a broken libsensors must not stop the lab
            rails = {}
            warnings.warn(f"pynq.get_rails() failed ({exc}); treating this board as having no sensors")
    rails = {name: rail for name, rail in (rails or {}).items() if _power_sensor(rail) is not None}
    board = board_probe.board
    if rails:
        lower = {name.lower(): name for name in rails}
        total = next((lower[n.lower()] for n in TOTAL_RAIL_NAMES if n.lower() in lower), None)
        return PowerSource(board_probe, rails, "measured", board, f"measured: {len(rails)} rails with power sensors",
                           total)
    profile, why = _real_board_profile()
    return PowerSource(board_probe, {}, "none", board, f"{NO_SENSORS_MESSAGE} (model: {why})", None, _model(profile))


def terms_table(measurement: EnergyMeasurement) -> str:
    """The model terms of a measurement, one line each with its rail (simulated board / estimates)."""
    if not measurement.terms:
        return "(no model terms: this energy was measured)"
    lines = [f"{'term':<16}{'rail':<10}{'energy':>12}"]
    for term, joules in measurement.terms.items():
        lines.append(f"{term:<16}{TERMS[term]:<10}{format_joules(joules):>12}")
    return "\n".join(lines)
