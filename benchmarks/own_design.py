"""Bring your own design: .hwh load times, and the modelled DMA efficiency of the workshop design vs PG021.

1. Measured (wall clock, this machine): the time ``pynq.Overlay("design.bit")`` takes on the
   simulated board for each real Vivado ``.hwh`` of ``../shared/hwh`` -- pynq's own parser plus
   the simulated board's design building.  The first load in a process also imports pynq's
   metadata package; it is shown apart.  Target (issue 11): < 1 s per load.
2. Modelled (PL cycles / the design's own PL clock from its ``.hwh``, 50 MHz): the efficiency of
   10,000-byte transfers through the PYNQ_Workshop ``dma_tutorial`` design (32-bit streams), MM2S
   and S2MM apart, against the efficiency Xilinx measured in PG021 (AXI DMA v7.1 product guide,
   "Throughput/Performance", 32-bit stream, 100 MHz, 10,000-byte transfers: MM2S 399.04 MB/s =
   99.8% and S2MM 298.59 MB/s = 74.6% of width x clock).

    python benchmarks/own_design.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LABKIT_BOARD", "sim")

import numpy as np
import pynq

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, table  # noqa: E402

from labkit.sim import SimDevice, use_device  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HWH_DIRS = (REPO.parent / "shared" / "hwh", Path("/work/shared/hwh"))
DESIGNS = [  # (file in shared/hwh, board profile of its family)
    ("workshop_s4_dma_tutorial.hwh", "PYNQ-Z2"),
    ("workshop_s4_axi_gpio.hwh", "PYNQ-Z2"),
    ("helloworld_pynqz2_resizer.hwh", "PYNQ-Z2"),
    ("helloworld_zcu104_resizer.hwh", "ZCU104"),
]
PG021 = {"MM2S": 99.8, "S2MM": 74.6}  # % of width x clock, PG021 table "AXI DMA throughput", 32-bit, 10,000 B
NBYTES = 10_000
LOAD_REPEAT = 5


def hwh_dir() -> Path | None:
    return next((d for d in HWH_DIRS if d.is_dir()), None)


def lay_out(folder: Path, hwh: Path) -> Path:
    shutil.copy(hwh, folder / "design.hwh")
    bit = folder / "design.bit"
    bit.write_bytes(b"dummy: the simulated board does not read bitstreams\n")
    return bit


def load_times(source: Path, workdir: Path) -> list[list[object]]:
    rows = []
    for name, profile in DESIGNS:
        folder = workdir / Path(name).stem
        folder.mkdir()
        bit = lay_out(folder, source / name)
        samples = []
        for _ in range(LOAD_REPEAT + 1):
            device = SimDevice(profile=profile, pace="host")
            use_device(device)
            start = time.perf_counter()
            pynq.Overlay(str(bit))
            samples.append(time.perf_counter() - start)
            device.close()
        first, rest = samples[0], samples[1:]
        verdict = "ok" if max(rest) < 1.0 else "over 1 s"
        rows.append([name, profile, f"{first * 1e3:.0f} ms", f"{statistics.median(rest) * 1e3:.0f} ms",
                     f"{max(rest) * 1e3:.0f} ms", verdict])
    return rows


def dma_efficiency(source: Path, workdir: Path) -> tuple[list[list[object]], float]:
    folder = workdir / "efficiency"
    folder.mkdir()
    bit = lay_out(folder, source / "workshop_s4_dma_tutorial.hwh")
    device = SimDevice(profile="PYNQ-Z2", pace="host")
    use_device(device)
    ol = pynq.Overlay(str(bit))
    fabric = device.fabric
    send, recv = ol.axi_dma_from_ps_to_pl, ol.axi_dma_from_pl_to_ps
    width = int(ol.ip_dict["axi_dma_from_ps_to_pl"]["parameters"]["c_m_axis_mm2s_tdata_width"]) // 8
    src = pynq.allocate(shape=(NBYTES,), dtype=np.uint8)
    dst = pynq.allocate(shape=(NBYTES,), dtype=np.uint8)
    src[:] = np.arange(NBYTES) % 251
    ideal = width * fabric.clock_hz  # bytes per second

    def run(first, second):
        first()
        second()
        send.sendchannel.wait()
        recv.recvchannel.wait()

    # MM2S as PG021 measures it: the sink (FIFO, then S2MM) is ready before MM2S starts.
    fabric.timeline.clear()
    run(lambda: recv.recvchannel.transfer(dst), lambda: send.sendchannel.transfer(src))
    mm2s = fabric.timeline.intervals(resources=["axi_dma_from_ps_to_pl.mm2s"])[-1]
    # S2MM as PG021 measures it: data is already waiting on the stream when S2MM starts.
    fabric.timeline.clear()
    run(lambda: send.sendchannel.transfer(src), lambda: recv.recvchannel.transfer(dst))
    s2mm = fabric.timeline.intervals(resources=["axi_dma_from_pl_to_ps.s2mm"])[-1]
    assert np.array_equal(dst, src), "the data did not loop back"
    rows = []
    for label, interval in (("MM2S", mm2s), ("S2MM", s2mm)):
        cycles = interval.cycles
        efficiency = 100.0 * NBYTES / (cycles * width)
        mb_s = NBYTES / (cycles / fabric.clock_hz) / 1e6
        gap = efficiency - PG021[label]
        rows.append([label, f"{cycles}", f"{mb_s:.1f} MB/s", f"{efficiency:.1f} %", f"{PG021[label]:.1f} %",
                     f"{gap:+.1f} pt", "within 5 pt" if abs(gap) <= 5 else "outside 5 pt (see note)"])
    device.close()
    return rows, ideal


def main() -> None:
    source = hwh_dir()
    if source is None:
        print(f"skipped: the real .hwh files are not there (looked in {', '.join(map(str, HWH_DIRS))})")
        return
    print(f"measured on: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rows = load_times(source, workdir)
        print("\n1. Time for pynq.Overlay('design.bit') with the Vivado .hwh beside it (measured, wall clock)")
        print(table(["design", "profile", "first load*", f"median of {LOAD_REPEAT}", "worst", "< 1 s"], rows))
        print("   * the first load in the process also warms up pynq's metadata parser (pynqmetadata) and the models")
        eff, ideal = dma_efficiency(source, workdir)
    print(f"\n2. dma_tutorial, {NBYTES:,}-byte transfers, 32-bit streams at the design's FCLK0 "
          f"(modelled: PL cycles / clock; ideal width x clock = {ideal / 1e6:.0f} MB/s)")
    print(table(["channel", "cycles", "modelled", "efficiency", "PG021", "gap", "verdict"], eff))
    print("   PG021 measured at 100 MHz; efficiency (% of width x clock) is what carries over to 50 MHz.")
    print("   What the model leaves out: it streams S2MM at one beat per cycle once data is there, with only a\n"
          "   fixed command set-up (12 cycles) and a final write response (16 cycles); it does not simulate AXI\n"
          "   bursts. PG021 gives no breakdown of its S2MM figure; the likely cause of the missing 24 points is\n"
          "   the per-burst cost of the S2MM write path (address/response handshakes between 16-beat bursts),\n"
          "   which the model leaves out. Modelled S2MM times are therefore optimistic by up to ~25% at 32 bits.")


if __name__ == "__main__":
    main()
