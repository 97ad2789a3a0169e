"""How much the simulated board adds to pynq's MMIO, against a plain memory-backed pynq device.

Targets (issue 2): one ``MMIO.write`` on the simulated board (host pace) within 1.5x of the same
call on a device whose ``mmap`` is a plain numpy array; a 5600-word ``mmio.array`` slice write
under 10 microseconds more than a raw numpy slice assignment.  Board pace is shown too: there
each AXI-Lite word also costs its modelled GP-port time.

    python benchmarks/mmio_cost.py
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("LABKIT_BOARD", "sim")

import numpy as np
import pynq
from pynq import MMIO

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, measure, table, us  # noqa: E402

import labkit  # noqa: E402
from labkit.kernels import mmio_rowsum  # noqa: E402

WORDS = 5600  # the forum's 70x80 image
IMAGE = mmio_rowsum.MEMORIES["image"]["offset"]


class PlainMemoryDevice(pynq.Device):
    """The baseline: a pynq device whose MMIO windows are plain numpy arrays (no side effects)."""

    def __init__(self) -> None:
        super().__init__("plain-memory")
        self.capabilities = {"MEMORY_MAPPED": True}

    def mmap(self, base_addr: int, length: int) -> np.ndarray:
        return np.zeros(length // 4, dtype=np.uint32)


def mmio_costs(mmio: MMIO) -> dict[str, tuple[float, float]]:
    data = np.arange(WORDS, dtype=np.uint32)
    lo = IMAGE // 4
    array = mmio.array
    return {
        "MMIO.write (one word)": measure(lambda: mmio.write(IMAGE, 5), number=20000),
        "MMIO.read (one word)": measure(lambda: mmio.read(IMAGE), number=20000),
        f"mmio.array[{WORDS} words] = data": measure(lambda: array.__setitem__(slice(lo, lo + WORDS), data),
                                                      number=2000),
    }


def main() -> None:
    plain = mmio_costs(MMIO(0x43C0_0000, 0x10000, device=PlainMemoryDevice()))
    overlay = labkit.open_board(pace="host")
    host = mmio_costs(MMIO(overlay.ip_dict["mmio_rowsum"]["phys_addr"], 0x10000))
    overlay.device.fabric.pace = "board"
    board = mmio_costs(MMIO(overlay.ip_dict["mmio_rowsum"]["phys_addr"], 0x10000))
    fabric = overlay.device.fabric
    raw_dst = np.zeros(0x4000, dtype=np.uint32)
    data = np.arange(WORDS, dtype=np.uint32)
    raw = measure(lambda: raw_dst.__setitem__(slice(0, WORDS), data), number=2000)

    rows = []
    for name in plain:
        p, h, b = plain[name][0], host[name][0], board[name][0]
        rows.append([name, us(p), us(h), f"{h / p:.2f}x", us(b)])
    print(f"measured on: {machine()}")
    print(table(["operation", "plain memory device", "sim, host pace", "host/plain", "sim, board pace"], rows))
    slice_name = f"mmio.array[{WORDS} words] = data"
    print()
    print(f"raw numpy slice assignment of {WORDS} words: {us(raw[0])} (measured)")
    print(f"added by the simulated board (host pace): {us(host[slice_name][0] - raw[0])} (target < 10 us)")
    print(f"MMIO.write on the simulated board vs plain memory: "
          f"{host['MMIO.write (one word)'][0] / plain['MMIO.write (one word)'][0]:.2f}x (target <= 1.5x)")
    print(f"modelled GP-port time of {WORDS} stores on {fabric.profile.name}: "
          f"{us(fabric.gp_access_s(writes=WORDS))} (modelled; board pace spends it on the wall clock)")


if __name__ == "__main__":
    main()
