"""Power rails of the simulated board, in the shape of pynq's own ``pynq.pmbus`` objects.

``pynq.get_rails()`` returns ``{name: Rail}``; a ``Rail`` has ``voltage``, ``current`` and
``power`` sensors (or None), and pynq's ``DataRecorder`` reads sensors through ``MultiSensor``:
for each sensor it calls ``sensor.get_value(parent_values)``, where ``sensor.parents`` are
sensors read once per sample and shared (pynq's Alveo rails use this for the one XRT info dump
behind all their sensors).  The simulated rails do the same: every current and power sensor has
one parent, :class:`ModelReading`, so a ``DataRecorder`` sample evaluates the power model once,
whatever the number of sensors it records.

The values are **modelled** (:mod:`labkit.boards.power_model`), never measured; the rails' and
sensors' ``repr`` say so.  Each rail also carries an ``energy`` sensor: joules since the model's
meter started (what Linux hwmon calls ``energy*_input``), exact whoever reads in between.

:func:`sim_rails` hands out one set of rails per simulated board, sharing one meter, so that
every reader -- a ``DataRecorder``, the power widget, ``labkit.power.measure`` -- sees the same
board.  :mod:`labkit.sim.patches` makes ``pynq.get_rails()`` return them on the simulated board.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from pynq.pmbus import Rail

from labkit.boards.power_model import INPUT_RAIL, RAILS, has_power_model

from .meter import FabricMeter

if TYPE_CHECKING:
    from .device import SimDevice

__all__ = ["ModelReading", "SimSensor", "SimRail", "sim_rails", "meter_for", "MODELLED"]

MODELLED = "modelled"


class ModelReading:
    """The parent of every modelled sensor: one model evaluation per sample, as a dict of rail watts."""

    def __init__(self, meter: FabricMeter) -> None:
        self.meter = meter
        self.name = "power_model"
        self.parents: tuple = ()

    def get_value(self, parents: Any = None) -> dict[str, float]:
        return self.meter.read().rails_w

    @property
    def value(self) -> dict[str, float]:
        return self.get_value()

    def __repr__(self) -> str:
        return f"ModelReading {{board={self.meter.device.profile.name} (simulated), rails={list(self.value)}}}"


class SimSensor:
    """A voltage, current, power or energy sensor of one modelled rail (pynq's sensor interface)."""

    UNITS = {"voltage": "V", "current": "A", "power": "W", "energy": "J"}

    def __init__(self, rail: str, kind: str, volts: float, reading: ModelReading) -> None:
        if kind not in self.UNITS:
            raise ValueError(f"sensor kind must be one of {list(self.UNITS)}, got {kind!r}")
        self.rail = rail
        self.kind = kind
        self.name = f"{rail}_{kind}"
        self._unit = self.UNITS[kind]
        self._volts = volts
        self._reading = reading
        self.parents: tuple = () if kind in ("voltage", "energy") else (reading,)

    def get_value(self, parents: Any = None) -> float:
        if self.kind == "voltage":
            return self._volts
        if self.kind == "energy":
            return self._reading.meter.read().energy_j[self.rail]
        rails_w = parents[0] if parents else self._reading.get_value()
        watts = rails_w[self.rail]
        return watts if self.kind == "power" else watts / self._volts

    @property
    def value(self) -> float:
        return self.get_value()

    def __repr__(self) -> str:
        return f"Sensor {{name={self.name}, value={self.value:.4g}{self._unit} ({MODELLED})}}"


class SimRail(Rail):
    """A pynq ``Rail`` whose sensors are the power model's (plus ``energy`` and ``description``)."""

    def __init__(self, name: str, volts: float, reading: ModelReading, description: str) -> None:
        super().__init__(name)
        self.voltage = SimSensor(name, "voltage", volts, reading)
        self.current = SimSensor(name, "current", volts, reading)
        self.power = SimSensor(name, "power", volts, reading)
        self.energy = SimSensor(name, "energy", volts, reading)
        self.description = description
        self.kind = MODELLED

    def __repr__(self) -> str:
        return super().__repr__().replace("Rail {", "Rail {modelled, ", 1)


_LOCK = threading.Lock()
_BY_DEVICE: "weakref.WeakKeyDictionary[SimDevice, tuple[FabricMeter, dict[str, SimRail]]]" = \
    weakref.WeakKeyDictionary()


def _build(device: "SimDevice") -> tuple[FabricMeter, dict[str, SimRail]]:
    meter = FabricMeter(device)
    reading = ModelReading(meter)
    rails = {spec.name: SimRail(spec.name, float(spec.volts), reading, spec.description) for spec in RAILS}
    rails[INPUT_RAIL] = SimRail(INPUT_RAIL, meter.model.volts(INPUT_RAIL), reading,
                                "board input (USB or the REG jumper): every rail over the regulators' efficiency")
    return meter, rails


def _entry(device: "SimDevice") -> tuple[FabricMeter, dict[str, SimRail]]:
    with _LOCK:
        entry = _BY_DEVICE.get(device)
        if entry is None:
            entry = _BY_DEVICE[device] = _build(device)
        return entry


def sim_rails(device: "SimDevice") -> dict[str, SimRail]:
    """The modelled rails of ``device``, by name (a new dict each call; the rails are shared).

    A board the power model does not cover (ZCU104, KV260 for now) has none, as ``pynq.get_rails()``
    returns ``{}`` on a board without PMBus sensors.
    """
    if not has_power_model(device.profile):
        return {}
    return dict(_entry(device)[1])


def meter_for(device: "SimDevice") -> FabricMeter:
    """The one meter behind ``device``'s rails."""
    return _entry(device)[0]
