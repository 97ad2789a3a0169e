"""The one place where labkit adjusts pynq's global state for the simulated board.

pynq keeps process-wide state in class attributes.  The simulated board has to
fit into it without forking pynq:

* ``Device.devices`` is probed once and cached.  If something read it before
  labkit registered :class:`SimDevice` (and found no board), the cache is
  dropped so the next read probes again and finds the simulation.
* ``Device.active_device`` decides where ``MMIO``/``allocate``/``Overlay`` go.
  :func:`use_device` sets it -- the same thing pynq documents for choosing a
  device by hand.
* ``pynq.ps.Clocks`` caches the clock-register object of the first device it
  served.  The simulated board models the SLCR clock registers, so pynq's own
  clock code works; only the cache must be dropped when the device changes.
* ``pynq.get_rails()`` finds power rails only through libsensors.  While a
  simulated board is active it returns the power model's rails instead
  (:func:`install_power_rails`); on any other device, pynq's own function runs.

The private pynq attributes behind the first three are read and reset only
through :mod:`labkit._pynq_compat`, the one module that touches pynq's private
state, tested on pynq 3.1.2 and 4.0.0.

Interrupts and GPIO need UIO and sysfs, which only a board has: the simulated
designs declare none, so pynq never creates one.
"""

from __future__ import annotations

import functools

import pynq
from pynq.pl_server.device import Device
from pynq.ps import Clocks

from labkit._pynq_compat import (chosen_active_device, forget_active_device, forget_clock_registers,
                                 forget_probed_devices, probed_devices)

from .device import SimDevice, sim_wanted

__all__ = ["install", "use_device", "active_sim_device", "install_power_rails"]

def install() -> None:
    """Make pynq's device list include the simulated board when it should, and its rails (idempotent)."""
    cached = probed_devices()
    if cached is not None and sim_wanted() and not any(isinstance(d, SimDevice) for d in cached):
        forget_probed_devices()  # probed before labkit was imported: probe again
        chosen = chosen_active_device()
        if chosen is not None and chosen not in Device.devices:
            forget_active_device()
    install_power_rails()


def use_device(device: pynq.Device) -> None:
    """Make ``device`` the one pynq uses by default (MMIO, allocate, Overlay, Clocks)."""
    if chosen_active_device() is not device:
        Device.active_device = device
    if Clocks.device is not device:
        Clocks.set_device(device)
        forget_clock_registers()  # built for another device's registers


def active_sim_device() -> SimDevice | None:
    """The active device if it is a simulated board, else None (no probing of real hardware)."""
    try:
        device = Device.active_device
    except RuntimeError:
        return None
    return device if isinstance(device, SimDevice) else None


# Power rails ---------------------------------------------------------------------------------------------
# Why a patch: pynq.pmbus.get_rails() enumerates libsensors chips and nothing else; pynq has no
# registry a device could add rails to, and `import pynq` has already bound the function into
# the pynq namespace (pynq/__init__.py: `from .pmbus import DataRecorder, get_rails`).  So both
# names are replaced by one wrapper that asks which device is active on every call.
# Why here: this module is the one place that adjusts pynq's global state for the simulated
# board.  The wrapper never shadows a real board's sensors: unless the active device is a
# SimDevice it calls pynq's own function, unchanged, with the same arguments.
def install_power_rails() -> None:
    """Make ``pynq.get_rails()`` and ``pynq.pmbus.get_rails()`` return the power model's rails on the sim.

    Idempotent.  ``config_file`` (a libsensors configuration) is passed on to pynq's function on
    real devices and has no meaning for the model.  Code that did ``from pynq.pmbus import
    get_rails`` before labkit was imported keeps pynq's original function.
    """
    import pynq.pmbus as pmbus

    if getattr(pmbus.get_rails, "_labkit_real", None) is not None:
        return
    real = pmbus.get_rails

    @functools.wraps(real)
    def get_rails(config_file=None):
        device = active_sim_device()
        if device is None:
            return real(config_file)
        from .rails import sim_rails  # imported late: the rails need the whole simulated board

        return sim_rails(device)

    get_rails._labkit_real = real
    pmbus.get_rails = get_rails
    if getattr(pynq, "get_rails", None) is real:  # absent under PYNQ_REMOTE_DEVICES
        pynq.get_rails = get_rails
