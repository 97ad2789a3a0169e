"""``open_board()``: the lab's overlay on whatever board is here, real or simulated.

>>> import labkit
>>> ol = labkit.open_board()          # a pynq.Overlay
>>> print(labkit.board_info(ol))      # which board, which IP

On a PYNQ board this is ``pynq.Overlay("transfer_lab.bit")``.  Anywhere else
it is the same overlay on the simulated board, so everything after this line
-- ``MMIO``, ``allocate``, ``ol.dma_pp.sendchannel.transfer(...)`` -- is plain
pynq in both cases.  ``LABKIT_BOARD=sim`` forces the simulation, ``=real``
forbids it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pynq
from pynq.pl_server.device import Device

from .errors import BoardNotFoundError, OverlayNotFoundError
from .boardprobe import BoardProbe
# The seam: this module is the only one above labkit/sim that imports the simulated board.
from .sim.device import BOARD_ENV, board_choice, real_board_present
from .sim.cpp_kernel import register_cpp_kernel
from .sim.kernel_behaviour import register_kernel
from .sim.session import sim_device, sim_overlay_path

__all__ = ["open_board", "board_info", "BoardInfo", "sim_device", "board_label", "probe",
           "OVERLAY_ENV", "register_kernel", "register_cpp_kernel"]

OVERLAY_ENV = "LABKIT_OVERLAY"  #: path of transfer_lab.bit on a board, if not in a standard place
_PACKAGE_OVERLAYS = Path(__file__).parent / "overlays"


def _real_overlay_path(design: str) -> str:
    candidates = []
    if os.environ.get(OVERLAY_ENV):
        candidates.append(Path(os.environ[OVERLAY_ENV]))
    candidates.append(_PACKAGE_OVERLAYS / f"{design}.bit")
    for path in candidates:
        if path.is_file() and path.with_suffix(".hwh").is_file():
            return str(path)
    tried = ", ".join(str(p) for p in candidates)
    raise OverlayNotFoundError(
        f"{design}.bit and {design}.hwh are not installed on this board (looked at: {tried}). Build them with "
        f"`make -C overlays/{design}` on a machine with Vivado (see overlays/{design}/README.md), copy both files "
        f"next to each other into {_PACKAGE_OVERLAYS}, or point ${OVERLAY_ENV} at the .bit file.")


def open_board(design: str = "transfer_lab", *, pace: str | None = None, profile: str | None = None,
               pool_bytes: int | None = None, download: bool = True) -> pynq.Overlay:
    """Load the lab's overlay and return it as a ``pynq.Overlay``.

    Parameters
    ----------
    design:
        Overlay name; the lab has one, ``"transfer_lab"``.
    pace:
        Simulated board only: ``"board"`` (default, or ``$LABKIT_SIM_PACE``) makes the PL
        and the AXI-Lite bus take their modelled time on the wall clock; ``"host"`` runs as fast
        as this computer can.
    profile:
        Simulated board only: which board to simulate (``"PYNQ-Z1"``, ``"PYNQ-Z2"``).
    pool_bytes:
        Simulated board only: size of the contiguous memory pool (default: the board's CMA).
    download:
        Configure the PL (``True``), as ``pynq.Overlay`` does.
    """
    choice = board_choice()
    if choice == "real" or (choice == "auto" and real_board_present()):
        if any(arg is not None for arg in (pace, profile, pool_bytes)):
            raise ValueError("pace, profile and pool_bytes only apply to the simulated board; this is a real one")
        if not real_board_present():
            raise BoardNotFoundError(f"{BOARD_ENV}=real but no PYNQ board (FPGA manager) or XRT device is present")
        return pynq.Overlay(_real_overlay_path(design), download=download)
    device = sim_device(pace=pace, profile=profile, pool_bytes=pool_bytes)
    return pynq.Overlay(sim_overlay_path(design), download=download, device=device)


@dataclass
class BoardInfo:
    """What ``board_info()`` reports: enough for a student to know where their code runs."""

    simulated: bool
    board: str
    pace: str | None
    pl_clock_mhz: float | None
    cma_bytes: int | None
    ip: dict[str, tuple[str, int | None, int | None]] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.simulated:
            lines = [f"Board: {self.board} -- SIMULATED on this computer (pace: {self.pace})",
                     f"PL clock (modelled): {self.pl_clock_mhz:.1f} MHz, contiguous memory pool: "
                     f"{(self.cma_bytes or 0) >> 20} MiB",
                     "This simulated board belongs to this notebook's kernel alone: another notebook gets its "
                     "own board (its own registers and memory). On a real board all notebooks share one PL "
                     "and one memory pool."]
        else:
            lines = [f"Board: {self.board} -- real hardware"]
        lines.append("IP blocks:")
        for name, (vlnv, base, size) in sorted(self.ip.items(), key=lambda kv: kv[1][1] or 0):
            where = f"{base:#010x} +{size:#x}" if base is not None else "(no AXI-Lite)"
            lines.append(f"  {name:<22} {vlnv:<40} {where}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def probe(target: pynq.Overlay | pynq.Device | None = None) -> BoardProbe:
    """The board behind ``target`` (an overlay, a device, or pynq's active device) as lab code sees it.

    On the simulated board the probe also answers what the model computed (modelled PL clock, bus
    time, PL timeline, counters, power rails, pace, faults); on a real board those questions raise
    :class:`~labkit.boardprobe.NotAvailableError` -- there you measure.
    """
    if target is None:
        device = Device.active_device
    else:
        device = getattr(target, "device", target)
    make = getattr(device, "lab_probe", None)
    return make() if make is not None else BoardProbe(device)


def board_label(device: pynq.Device | None) -> tuple[str, bool, str | None]:
    """How results name the board they ran on: ``(label, simulated, pace)``.

    ``("PYNQ-Z1 (simulated, board pace)", True, "board")`` on the simulated board, the device's
    own name (``"board"`` if it has none) with ``(False, None)`` on a real one.
    """
    if device is None:
        return "board", False, None
    seen = probe(device)
    return seen.label, seen.simulated, seen.pace


def board_info(overlay: pynq.Overlay | None = None) -> BoardInfo:
    """Which board this is (real or simulated) and the IP blocks of ``overlay``."""
    device = overlay.device if overlay is not None else Device.active_device
    ip = {}
    if overlay is not None:
        for name, entry in overlay.ip_dict.items():
            ip[name] = (entry.get("type", "?"), entry.get("phys_addr"), entry.get("addr_range"))
    seen = probe(device)
    if seen.simulated:
        return BoardInfo(True, seen.board, seen.pace, seen.clock_hz / 1e6, seen.pool_bytes, ip)
    return BoardInfo(False, seen.board, None, None, None, ip)
