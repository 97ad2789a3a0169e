"""SimDevice: the simulated PYNQ board, as a ``pynq.Device``.

pynq finds boards through subclasses of ``pynq.Device`` that define
``_probe_``; the first one found becomes ``Device.active_device``, which
``MMIO``, ``allocate`` and ``Overlay`` use when no device is given.  SimDevice
is such a subclass.  It provides what pynq's drivers call:

* ``capabilities`` ``MEMORY_MAPPED``: pynq's ``MMIO`` takes ``device.mmap()`` as
  its ``.array`` -- here a register window that reaches the IP models;
* ``default_memory.allocate`` / ``flush`` / ``invalidate``: ``pynq.allocate``
  and ``PynqBuffer.sync_*`` reach the contiguous pool and its cache model;
* ``get_bitfile_metadata`` / ``download``: ``pynq.Overlay`` gets its ip_dict
  from a simulated design and loads it into the fabric;
* ``arch`` of the board's CPU, so ``pynq.ps.Clocks`` drives the modelled SLCR.

It only appears when no real board is present, or when ``LABKIT_BOARD=sim``
(see :func:`sim_wanted`): it never takes over a real board.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any

import pynq

from labkit.errors import BoardNotFoundError

from .designs import SIMDESIGN_SUFFIX, SimParser, read_design_file
from .fabric import Fabric, pace_from_env
from .memory import BufferObject, ContiguousPool, SimBuffer
from .probe import SimBoardProbe
from labkit.boards.profiles import BoardProfile, get_profile

__all__ = ["SimDevice", "SimMemory", "sim_wanted", "real_board_present", "BOARD_ENV", "PROFILE_ENV"]

BOARD_ENV = "LABKIT_BOARD"  #: "sim", "real" or "auto" (default)
PROFILE_ENV = "LABKIT_SIM_PROFILE"  #: board profile of the simulated board, e.g. "PYNQ-Z2"
FPGA_MANAGER = "/sys/class/fpga_manager/fpga0/firmware"  # what pynq's EmbeddedDevice probes for
# Priorities taken by pynq: Versal 40, Embedded 50, Remote 100, XRT 200 (a duplicate raises).  Below
# Embedded, so that LABKIT_BOARD=sim on a board really selects the simulation.
SIM_PROBE_PRIORITY = 45


def real_board_present() -> bool:
    """True on a Zynq board (FPGA manager) or a host with XRT (Alveo) set up."""
    if Path(FPGA_MANAGER).exists():
        return True
    return bool(os.environ.get("XILINX_XRT")) and importlib.util.find_spec("pyxrt") is not None


def board_choice() -> str:
    choice = os.environ.get(BOARD_ENV, "auto").strip().lower() or "auto"
    if choice not in ("auto", "sim", "real"):
        raise BoardNotFoundError(f"{BOARD_ENV} must be 'auto', 'sim' or 'real', not {choice!r}")
    return choice


def sim_wanted() -> bool:
    """Whether the simulated board should be offered to pynq."""
    choice = board_choice()
    if choice == "sim":
        return True
    if choice == "real":
        return False
    return not real_board_present()


class SimMemory:
    """The board's DDR as pynq sees a memory bank: ``allocate`` from the CMA pool."""

    def __init__(self, device: "SimDevice") -> None:
        self.device = device

    def allocate(self, shape, dtype, **kwargs: Any) -> SimBuffer:
        return self.device.pool.allocate(shape, dtype, device=self.device, **kwargs)

    @property
    def mem_used(self) -> int:
        return self.device.pool.used_bytes

    @property
    def num_buffers(self) -> int:
        return self.device.pool.live_buffers


class SimDevice(pynq.Device):
    """A simulated PYNQ board (PYNQ-Z1 unless another profile is given)."""

    _probe_priority_ = SIM_PROBE_PRIORITY

    @classmethod
    def _probe_(cls) -> list["SimDevice"]:
        return [cls()] if sim_wanted() else []

    def __init__(self, profile: str | BoardProfile | None = None, pace: str | None = None,
                 pool_bytes: int | None = None, tag: str = "sim0") -> None:
        super().__init__(tag)
        self.profile = get_profile(profile or os.environ.get(PROFILE_ENV))
        self.name = f"{self.profile.name} (simulated)"
        self.arch = self.profile.arch
        self.capabilities = {"MEMORY_MAPPED": True, "REGISTER_RW": False, "CALLABLE": False}
        size = int(pool_bytes) if pool_bytes is not None else int(self.profile.cma_bytes)
        self.pool = ContiguousPool(int(self.profile.cma_base), size, min_block=int(self.profile.bo_min_bytes))
        self.fabric = Fabric(self.profile, self.pool, pace or pace_from_env())
        self.default_memory = SimMemory(self)
        self.timestamp = ""
        self.bitfile_name = None

    @property
    def simulated(self) -> bool:
        return True

    def lab_probe(self) -> "SimBoardProbe":
        """What ``labkit.board.probe`` hands lab code: this board's model, behind one interface."""
        return SimBoardProbe(self)

    # -- MMIO ------------------------------------------------------------------------------
    def mmap(self, base_addr: int, length: int):
        return self.fabric.mmap(base_addr, length)

    # -- memory ----------------------------------------------------------------------------
    def get_memory(self, description: dict) -> SimMemory:
        return self.default_memory

    def flush(self, bo: BufferObject, offset: int, ptr: int, size: int) -> None:
        start = time.perf_counter()
        self.pool.flush(bo, offset, size)
        self.fabric.extra_overhead_s += time.perf_counter() - start  # the board's driver call is C, not this

    def invalidate(self, bo: BufferObject, offset: int, ptr: int, size: int) -> None:
        start = time.perf_counter()
        self.pool.invalidate(bo, offset, size)
        self.fabric.extra_overhead_s += time.perf_counter() - start

    # -- overlays ----------------------------------------------------------------------------
    def get_bitfile_metadata(self, bitfile_name: str, partial: bool = False) -> Any:
        """Metadata of an overlay: a lab design (``.simdesign``) or a Vivado ``.bit`` with its ``.hwh``.

        For a ``.bit`` the metadata is pynq's own parse of the ``.hwh`` beside it (see ``hwh.py``).
        """
        if partial:
            raise NotImplementedError("the simulated board has no partial reconfiguration")
        if Path(bitfile_name).suffix == SIMDESIGN_SUFFIX:
            return read_design_file(bitfile_name).parser(self.profile)
        from .hwh import hwh_design  # imported late: pynq's metadata parser is slow to import

        parser = hwh_design(bitfile_name, self.profile)
        parser.design.check()
        return parser

    def ip_model(self, name: str):
        """The model of IP ``name`` in the loaded design -- e.g. to press an AXI GPIO's buttons:
        ``pynq.Device.active_device.ip_model("buttons").set_inputs(0b01)``."""
        return self.fabric.ip(name)

    def download(self, bitstream, parser: SimParser | None = None) -> None:
        if parser is None:
            parser = self.get_bitfile_metadata(bitstream.bitfile_name)
        self.fabric.load_design(parser.design)
        super().post_download(bitstream, parser, self.name)

    def gen_cache(self, bitstream, parser=None) -> None:
        """pynq's metadata cache is a board-file optimisation; nothing to cache here."""

    def close(self) -> None:
        """Stop the simulated PL's worker thread; the board stays usable, as a real one does.

        pynq 3.1's ``Overlay.free()`` calls this (4.0's does not); a later ``Overlay`` on the
        same device downloads again and works.
        """
        self.fabric.close()

    def __repr__(self) -> str:
        return f"<SimDevice {self.profile.name}, pace={self.fabric.pace}, pool={self.pool.size >> 20} MiB>"
