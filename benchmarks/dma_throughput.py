"""AXI DMA on the simulated board: modelled throughput, the simulation's own speed, fixed cost.

Targets (issue 3): the modelled throughput of a 64-bit, 100 MHz DMA for 1 MiB within 5% of
width x clock (800 MB/s); the simulation's free-running (host pace) DMA throughput for a 64 MiB
transfer at least half of numpy.copyto of the same size on this machine; and the fixed cost of a
4-byte transfer + wait.  The transfer goes through dma_loop (MM2S -> AXI-Stream FIFO -> S2MM)
with pynq's own DMA driver.

    python benchmarks/dma_throughput.py
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("LABKIT_BOARD", "sim")

import numpy as np
from pynq import allocate

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, measure, table, us  # noqa: E402

import labkit  # noqa: E402

MiB = 1 << 20
# One AXI DMA transfer moves at most 2**26 - 1 bytes (c_sg_length_width = 26); the largest whole
# number of 64-bit beats below that is 64 MiB - 8 bytes.
BIG = (1 << 26) - 8


def transfer(dma, src, dst) -> None:
    dma.recvchannel.transfer(dst)
    dma.sendchannel.transfer(src)
    dma.sendchannel.wait()
    dma.recvchannel.wait()


def main() -> None:
    overlay = labkit.open_board(pace="host", pool_bytes=256 * MiB)
    fabric = overlay.device.fabric
    dma = overlay.dma_loop
    width_bits = int(overlay.ip_dict["dma_loop"]["parameters"]["c_m_axis_mm2s_tdata_width"])
    ideal = width_bits / 8 * fabric.clock_hz  # bytes per second

    # 1. Modelled throughput of a 1 MiB transfer (from the simulated timeline).
    src, dst = allocate(MiB, np.uint8), allocate(MiB, np.uint8)
    transfer(dma, src, dst)
    mm2s = fabric.timeline.intervals(resources=["dma_loop.mm2s"])[-1]
    modelled = MiB / mm2s.duration

    # 2. The simulation's own speed in host pace for the biggest transfer, against numpy.copyto.
    big_src, big_dst = allocate(BIG, np.uint8), allocate(BIG, np.uint8)
    big_src[:] = 1
    sim_big, sim_spread = measure(lambda: transfer(dma, big_src, big_dst), number=1, repeat=5)
    plain_src, plain_dst = np.ones(BIG, dtype=np.uint8), np.zeros(BIG, dtype=np.uint8)
    copy_big, copy_spread = measure(lambda: np.copyto(plain_dst, plain_src), number=1, repeat=5)
    assert np.array_equal(big_dst[:: 1 << 20], big_src[:: 1 << 20])

    # 3. Fixed cost of a 4-byte transfer + wait, both paces.
    tiny_src, tiny_dst = allocate(4, np.uint8), allocate(4, np.uint8)
    host_tiny, _ = measure(lambda: transfer(dma, tiny_src, tiny_dst), number=200)
    fabric.pace = "board"
    board_tiny, _ = measure(lambda: transfer(dma, tiny_src, tiny_dst), number=200)
    tiny_modelled = fabric.timeline.intervals(resources=["dma_loop.s2mm"])[-1]
    tiny_model_total = tiny_modelled.end - fabric.timeline.intervals(resources=["dma_loop.mm2s"])[-1].start

    print(f"measured on: {machine()}")
    print(table(["quantity", "value", "kind", "target"], [
        ["DMA 1 MiB, 64 bit @ 100 MHz", f"{modelled / 1e6:.1f} MB/s ({100 * modelled / ideal:.1f}% of "
         f"{ideal / 1e6:.0f})", "modelled", "within 5% of width x clock"],
        [f"DMA {BIG / MiB:.2f} MiB, host pace", f"{BIG / sim_big / 1e9:.2f} GB/s ({1e3 * sim_big:.1f} ms, "
         f"spread {1e3 * sim_spread:.1f} ms)", "measured", "at least half of copyto"],
        [f"numpy.copyto {BIG / MiB:.2f} MiB", f"{BIG / copy_big / 1e9:.2f} GB/s ({1e3 * copy_big:.1f} ms)",
         "measured", ""],
        ["sim / copyto", f"{copy_big / sim_big:.2f}", "measured", ">= 0.5"],
        ["4-byte transfer + wait, host pace", us(host_tiny), "measured", ""],
        ["4-byte transfer + wait, board pace", us(board_tiny), "measured", ""],
        ["4-byte transfer, PL/bus time", us(tiny_model_total), "modelled", ""],
    ]))


if __name__ == "__main__":
    main()
