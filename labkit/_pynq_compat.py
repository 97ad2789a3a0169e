"""The one place where labkit reads or resets pynq's private attributes.

labkit runs on pynq 3.1.x (the last release for the PYNQ-Z1/Z2) and pynq 4.0.x.
A few things labkit needs have no public API in either version; each is here,
behind a small function, with the reason it is needed.  ``tests/test_pynq_compat.py``
checks every one of them against the pynq that is installed, and CI runs that
test on both versions (``make test`` and ``make test-pynq31``), so a pynq release
that renames one fails a test named after it instead of a lesson.

Everything else labkit does with pynq goes through pynq's public API.  The
simulated board also implements ``Device._probe_``: that is pynq's documented
hook for adding a device class (``pynq.pl_server.device.DeviceMeta``), not
private state, so it is not here.
"""

from __future__ import annotations

import pynq
from pynq.pl_server.device import Device
from pynq.ps import Clocks

__all__ = ["PYNQ_VERSION", "dma_alignment", "probed_devices", "forget_probed_devices", "chosen_active_device",
           "forget_active_device", "forget_clock_registers"]

#: The installed pynq's version as numbers, e.g. ``(3, 1, 2)``: what README's board table is about.
PYNQ_VERSION: tuple[int, ...] = tuple(int(part) for part in pynq.__version__.split(".")[:3] if part.isdigit())


class PynqCompatError(RuntimeError):
    """pynq no longer has an attribute labkit relies on: the installed pynq is newer than labkit knows."""


def _missing(what: str, owner: object) -> PynqCompatError:
    return PynqCompatError(f"pynq {pynq.__version__} has no {what} on {type(owner).__name__}; labkit is tested "
                           "with pynq 3.1.2 and 4.0.0. Install one of those (pip install 'pynq==3.1.2') or "
                           "update labkit/_pynq_compat.py for this pynq.")


def dma_alignment(channel: object) -> int:
    """Bytes every transfer of a DMA channel must start on (and so a multiple a chunk must be of).

    ``channel`` is ``dma.sendchannel`` or ``dma.recvchannel`` of a ``pynq.lib.dma.DMA``.  Without
    a Data Realignment Engine the AXI DMA can only start a transfer at a multiple of its memory
    port's width (PG021, "Data Realignment Engine"); pynq refuses an unaligned buffer ("DMA does not
    support unaligned transfers; Starting address must be aligned to 8 bytes.").  With the DRE any byte address works: 1.

    Why private: pynq keeps this width in ``_SDMAChannel._align`` / ``_dre`` (the same names in
    pynq 3.1.2 and 4.0.0) and exposes no public property.  Reading the DMA's ``description`` instead
    would need the DMA object, which a channel does not point back to.
    """
    try:
        align, dre = channel._align, channel._dre
    except AttributeError:
        raise _missing("_align/_dre (the DMA channel's alignment)", channel) from None
    return 1 if dre else int(align)


def probed_devices() -> list | None:
    """The device list pynq cached when something first read ``Device.devices``, or None if not yet probed.

    Why private: ``Device.devices`` probes when first read and then caches in the class attribute
    ``_devices``; reading the public property would probe, which is what the caller wants to avoid.
    """
    return Device.__dict__.get("_devices")


def forget_probed_devices() -> None:
    """Make the next ``Device.devices`` probe again (e.g. now that the simulated board is registered).

    Why private: pynq caches the probe in ``Device._devices`` for the life of the process and has no
    public way to probe again; deleting the cache is what pynq's own tests do between cases.
    """
    if "_devices" in Device.__dict__:
        del Device._devices


def chosen_active_device() -> object | None:
    """The device pynq uses by default if one was chosen or probed already, else None (nothing probed).

    Why private: the public ``Device.active_device`` probes the hardware (and raises "No Devices
    Found") when none was chosen yet; this only looks at what pynq keeps in ``_active_device``.
    """
    return Device.__dict__.get("_active_device")


def forget_active_device() -> None:
    """Undo a choice of ``Device.active_device``: the next read picks ``Device.devices[0]`` again.

    Why private: pynq has a public setter for ``active_device`` but no way back to "not chosen"
    other than removing ``_active_device``.
    """
    if "_active_device" in Device.__dict__:
        del Device._active_device


def forget_clock_registers() -> None:
    """Make ``pynq.ps.Clocks`` build its clock-register object again for ``Clocks.device``.

    Why private: ``Clocks`` builds the register object (``_ClocksZynq`` / ``_ClocksUltrascale``) for
    the first device it serves and keeps it in ``_real_instance``; ``Clocks.set_device`` changes
    ``Clocks.device`` but not that object, so after changing the device the cache must go.
    """
    if "_real_instance" in Clocks.__dict__:
        del Clocks._real_instance
