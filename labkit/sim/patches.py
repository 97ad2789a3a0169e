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

Interrupts and GPIO need UIO and sysfs, which only a board has: the simulated
designs declare none, so pynq never creates one.  Power rails (pynq.pmbus) are
plugged in here too, once the power model exists.
"""

from __future__ import annotations

import pynq
from pynq.pl_server.device import Device
from pynq.ps import Clocks

from .device import SimDevice, sim_wanted

__all__ = ["install", "use_device", "active_sim_device"]

def install() -> None:
    """Make pynq's device list include the simulated board when it should (idempotent)."""
    cached = Device.__dict__.get("_devices")
    if cached is not None and sim_wanted() and not any(isinstance(d, SimDevice) for d in cached):
        del Device._devices  # probed before labkit was imported: probe again
        if "_active_device" in Device.__dict__ and Device._active_device not in Device.devices:
            del Device._active_device


def use_device(device: pynq.Device) -> None:
    """Make ``device`` the one pynq uses by default (MMIO, allocate, Overlay, Clocks)."""
    if Device.__dict__.get("_active_device") is not device:
        Device.active_device = device
    if Clocks.device is not device:
        Clocks.set_device(device)
        if "_real_instance" in Clocks.__dict__:
            del Clocks._real_instance  # built for another device's registers


def active_sim_device() -> SimDevice | None:
    """The active device if it is a simulated board, else None (no probing of real hardware)."""
    try:
        device = Device.active_device
    except RuntimeError:
        return None
    return device if isinstance(device, SimDevice) else None
