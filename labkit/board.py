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
from .sim import SimDevice, active_sim_device, use_device
from .sim.designs import design_file
from .sim.device import BOARD_ENV, board_choice, real_board_present

__all__ = ["open_board", "board_info", "BoardInfo", "sim_device", "board_label", "profile_of", "OVERLAY_ENV"]

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


def sim_device(pace: str | None = None, profile: str | None = None, pool_bytes: int | None = None) -> SimDevice:
    """The simulated board pynq is using, made active (created if needed or if ``profile`` differs).

    ``pace`` ("board" or "host") is applied to the existing board; ``pool_bytes``
    (a different CMA size) and ``profile`` need a new board.
    """
    device = active_sim_device()
    if device is None and board_choice() == "real":
        raise BoardNotFoundError(f"{BOARD_ENV}=real, so the simulated board is not offered")
    wants_new = device is None or (profile is not None and device.profile.name.lower() != profile.lower()) or (
        pool_bytes is not None and device.pool.size != pool_bytes)
    if wants_new:
        device = SimDevice(profile=profile, pace=pace, pool_bytes=pool_bytes)
    elif pace is not None:
        device.fabric.pace = pace
    use_device(device)
    return device


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
    return pynq.Overlay(str(design_file(design)), download=download, device=device)


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


def board_label(device: pynq.Device | None) -> tuple[str, bool, str | None]:
    """How results name the board they ran on: ``(label, simulated, pace)``.

    ``("PYNQ-Z1 (simulated, board pace)", True, "board")`` on the simulated board, the device's
    own name (``"board"`` if it has none) with ``(False, None)`` on a real one.
    """
    if isinstance(device, SimDevice):
        return f"{device.profile.name} (simulated, {device.fabric.pace} pace)", True, device.fabric.pace
    return getattr(device, "name", "board"), False, None


def profile_of(label: str) -> str:
    """The board of a :func:`board_label`, without how it ran: ``"PYNQ-Z1 (simulated, ...)"`` -> ``"PYNQ-Z1"``."""
    return label.split(" (")[0]


def board_info(overlay: pynq.Overlay | None = None) -> BoardInfo:
    """Which board this is (real or simulated) and the IP blocks of ``overlay``."""
    device = overlay.device if overlay is not None else Device.active_device
    ip = {}
    if overlay is not None:
        for name, entry in overlay.ip_dict.items():
            ip[name] = (entry.get("type", "?"), entry.get("phys_addr"), entry.get("addr_range"))
    if isinstance(device, SimDevice):
        return BoardInfo(True, device.profile.name, device.fabric.pace, device.fabric.clock_hz / 1e6,
                         device.pool.size, ip)
    return BoardInfo(False, getattr(device, "name", type(device).__name__), None, None, None, ip)
