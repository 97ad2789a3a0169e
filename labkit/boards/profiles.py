"""Board profiles: the numbers the simulated board is built from, each with its source.

A profile is what makes the simulated board a *PYNQ-Z1* rather than "some
FPGA": its clocks, memory, port widths, the cost of one AXI-Lite access over
the general-purpose (GP) port, and how fast its Cortex-A9 runs Python.

Every constant is a :class:`Sourced` value so that a notebook or a test can
ask where it came from.  Three kinds of source appear:

* a datasheet / reference manual / Xilinx product guide,
* a public forum report of a measurement on the board,
* ``estimate`` -- our own modelling choice, with the reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterator

from labkit.errors import DesignError

__all__ = ["Sourced", "BoardProfile", "PROFILES", "get_profile", "DEFAULT_PROFILE"]

FORUM_MMIO_SLOW = "discuss.pynq.io/t/mmio-write-is-too-slow/389 (seeds/mmio-write-too-slow.txt)"
PYNQ_Z1_MANUAL = "Digilent PYNQ-Z1 reference manual"
PYNQ_Z2_MANUAL = "TUL PYNQ-Z2 user manual"
UG585 = "Xilinx UG585 Zynq-7000 Technical Reference Manual"
PYNQ_400 = "pynq 4.0.0 source (pynq/ps.py, pl_server/xrt_device.py)"

MiB = 1 << 20


@dataclass(frozen=True)
class Sourced:
    """A number together with where it comes from."""

    value: float
    unit: str
    source: str

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)


@dataclass(frozen=True)
class BoardProfile:
    """Everything the simulated board needs to know about one board.

    Attributes are :class:`Sourced`; use ``float(profile.gp_write_cycles)`` for
    the number and ``profile.gp_write_cycles.source`` for its origin.
    """

    name: str
    part: str
    arch: str  #: ``platform.machine()`` of the board's CPU: pynq's Clocks picks its registers by it
    ref_clk_mhz: Sourced
    arm_pll_fdiv: Sourced
    cpu_divisor: Sourced
    io_pll_fdiv: Sourced
    ddr_pll_fdiv: Sourced
    fclk0_mhz: Sourced
    ddr_bytes: Sourced
    ddr_peak_mb_s: Sourced
    cma_bytes: Sourced
    cma_base: Sourced
    bo_min_bytes: Sourced
    gp_data_bits: Sourced
    gp_write_cycles: Sourced
    gp_read_cycles: Sourced
    hp_ports: Sourced
    hp_data_bits: Sourced
    ps_ref_loop_us: Sourced
    description: str = ""
    extra: dict = field(default_factory=dict)
    #: "zynq" (Zynq-7000, PS block processing_system7) or "zynq_us+" (Zynq UltraScale+ MPSoC,
    #: zynq_ultra_ps_e): a design's .hwh names its PS, and it only loads on a profile of that family
    family: str = "zynq"
    #: the PS block's VLNV name in a .hwh of this family
    ps_modtype: str = "processing_system7"

    @property
    def cpu_mhz(self) -> float:
        """CPU clock the profile's PLL settings give (ref clock x FDIV / divisor)."""
        return float(self.ref_clk_mhz) * float(self.arm_pll_fdiv) / float(self.cpu_divisor)

    def constants(self) -> Iterator[tuple[str, Sourced]]:
        """Yield ``(name, Sourced)`` for every sourced constant (for tables and tests)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Sourced):
                yield f.name, value


_ZYNQ7000_COMMON = dict(
    arch="armv7l",
    ref_clk_mhz=Sourced(50.0, "MHz", f"{PYNQ_Z1_MANUAL}: 50 MHz PS_CLK oscillator; pynq's _ClocksZynq default"),
    arm_pll_fdiv=Sourced(26, "", f"{UG585} ARM_PLL_CTRL; 26 x 50 MHz = 1300 MHz as in the PYNQ-Z1 board preset"),
    cpu_divisor=Sourced(2, "", "ARM_CLK_CTRL divisor: 1300 MHz / 2 = 650 MHz, the board's Cortex-A9 clock"),
    io_pll_fdiv=Sourced(20, "", f"{UG585} IO_PLL_CTRL; 20 x 50 MHz = 1000 MHz (PYNQ board preset)"),
    ddr_pll_fdiv=Sourced(21, "", "DDR_PLL_CTRL; 21 x 50 MHz = 1050 MHz, DDR3 at 525 MHz (board preset)"),
    fclk0_mhz=Sourced(100.0, "MHz", "FCLK_CLK0 of PYNQ overlays (IO PLL 1000 MHz / 10)"),
    cma_bytes=Sourced(128 * MiB, "B", "PYNQ image for Zynq-7000 boots with cma=128M (DESIGN.md)"),
    cma_base=Sourced(0x1800_0000, "address",
                     "estimate: Linux places CMA at the top of low memory; the last 128 MiB of 512 MiB"),
    bo_min_bytes=Sourced(8192, "B", f"{PYNQ_400}: allocate_bo rounds every buffer up to at least 8 KiB"),
    gp_data_bits=Sourced(32, "bit", f"{UG585} ch. 5: M_AXI_GP ports are 32 bits wide"),
    gp_write_cycles=Sourced(
        20, "PL cycles",
        f"{FORUM_MMIO_SLOW}: 5600 mmio.array stores take ~1.1 ms on a PYNQ-Z1, 196 ns = 20 cycles at 100 MHz"),
    gp_read_cycles=Sourced(
        30, "PL cycles",
        "estimate: a load is not posted, the CPU waits for the AXI read response; 1.5x the measured store cost"),
    hp_ports=Sourced(4, "", f"{UG585} ch. 5: S_AXI_HP0..HP3"),
    hp_data_bits=Sourced(64, "bit", f"{UG585} ch. 5: HP ports are 32 or 64 bits wide; overlays use 64"),
    ps_ref_loop_us=Sourced(
        31.5, "us",
        f"{FORUM_MMIO_SLOW}: one iteration of the per-word MMIO.write loop takes 27-36 us (150-200 ms / 5600)"),
)

PYNQ_Z1 = BoardProfile(
    name="PYNQ-Z1",
    part="xc7z020clg400-1",
    description="Digilent PYNQ-Z1: Zynq-7020, dual Cortex-A9 at 650 MHz, 512 MB DDR3",
    ddr_bytes=Sourced(512 * MiB, "B", f"{PYNQ_Z1_MANUAL}: 512 MB DDR3"),
    ddr_peak_mb_s=Sourced(2100, "MB/s", f"{PYNQ_Z1_MANUAL}: 16-bit DDR3 at 1050 MT/s"),
    **_ZYNQ7000_COMMON,
)

PYNQ_Z2 = BoardProfile(
    name="PYNQ-Z2",
    part="xc7z020clg400-1",
    description="TUL PYNQ-Z2: Zynq-7020, dual Cortex-A9 at 650 MHz, 512 MB DDR3",
    ddr_bytes=Sourced(512 * MiB, "B", f"{PYNQ_Z2_MANUAL}: 512 MB DDR3"),
    ddr_peak_mb_s=Sourced(2100, "MB/s", f"{PYNQ_Z2_MANUAL}: 16-bit DDR3 at 1050 MT/s"),
    **_ZYNQ7000_COMMON,
)

UG1085 = "Xilinx UG1085 Zynq UltraScale+ Device Technical Reference Manual"
ZCU104_UG = "Xilinx UG1267 ZCU104 Evaluation Board User Guide"
KV260_DS = "Xilinx DS986 Kria K26 SOM data sheet / UG1089 KV260 starter kit"
PYNQ_ZU_CMA = ("estimate: ZynqMP/Kria Linux images commonly boot with cma=512M (e.g. the Kria KD240 boot "
               "arguments); the PYNQ ZCU104/KV260 images' own value was not checked")

_ZYNQ_US_COMMON = dict(
    arch="aarch64",
    family="zynq_us+",
    ps_modtype="zynq_ultra_ps_e",
    ref_clk_mhz=Sourced(33.333, "MHz", f"{ZCU104_UG}: 33.333 MHz PS_REF_CLK; pynq's _ClocksUltrascale default"),
    arm_pll_fdiv=Sourced(72, "", f"{UG1085} APLL_CTRL.FBDIV: 72 x 33.333 MHz = 2400 MHz (board preset)"),
    cpu_divisor=Sourced(2, "", "ACPU_CTRL divisor: 2400 MHz / 2 = 1200 MHz, the Cortex-A53 clock of these boards"),
    io_pll_fdiv=Sourced(90, "", f"{UG1085} IOPLL_CTRL.FBDIV 90 with DIV2: 33.333 x 90 / 2 = 1500 MHz (board preset)"),
    ddr_pll_fdiv=Sourced(64, "", "DPLL_CTRL.FBDIV 64 with DIV2: 1066 MHz DPLL (board preset for DDR4-2133)"),
    fclk0_mhz=Sourced(100.0, "MHz", "pl_clk0 of PYNQ overlays (IOPLL 1500 MHz / 15)"),
    cma_bytes=Sourced(512 * MiB, "B", PYNQ_ZU_CMA),
    cma_base=Sourced(0x6000_0000, "address",
                     "estimate: Linux places CMA at the top of the low 2 GiB of DDR; the last 512 MiB of it"),
    bo_min_bytes=Sourced(8192, "B", f"{PYNQ_400}: allocate_bo rounds every buffer up to at least 8 KiB"),
    gp_data_bits=Sourced(32, "bit", "AXI-Lite on M_AXI_HPM0_FPD: PYNQ overlays register windows are 32-bit words"),
    gp_write_cycles=Sourced(
        20, "PL cycles",
        "estimate: the PYNQ-Z1 forum figure (20 cycles per store at 100 MHz) kept for the HPM0 port; no "
        "published per-store measurement on ZCU104/KV260 was found"),
    gp_read_cycles=Sourced(
        30, "PL cycles", "estimate: a load waits for the AXI read response; 1.5x the store cost as on Zynq-7000"),
    hp_ports=Sourced(4, "", f"{UG1085} ch. 35: S_AXI_HP0..HP3_FPD"),
    hp_data_bits=Sourced(128, "bit", f"{UG1085} ch. 35: HP ports are 32, 64 or 128 bits wide; 128 by default"),
    ps_ref_loop_us=Sourced(
        8.0, "us",
        "estimate: the PYNQ-Z1 forum figure (31.5 us per MMIO.write loop iteration) scaled by the Cortex-A53 at "
        "1.2 GHz vs the Cortex-A9 at 650 MHz (about 4x per clock and clock together)"),
)

ZCU104 = BoardProfile(
    name="ZCU104",
    part="xczu7ev-ffvc1156-2-e",
    description="Xilinx ZCU104: Zynq UltraScale+ XCZU7EV, quad Cortex-A53 at 1.2 GHz, 2 GB DDR4 on the PS",
    ddr_bytes=Sourced(2048 * MiB, "B", f"{ZCU104_UG}: 2 GB DDR4 SODIMM on the PS side (64-bit)"),
    ddr_peak_mb_s=Sourced(19200, "MB/s", f"{ZCU104_UG}: 64-bit DDR4 at 2400 MT/s"),
    **_ZYNQ_US_COMMON,
)

KV260 = BoardProfile(
    name="KV260",
    part="xck26-sfvc784-2LV-c",
    description="Xilinx Kria KV260: K26 SOM (Zynq UltraScale+ XCK26), quad Cortex-A53 at 1.333 GHz, 4 GB DDR4",
    ddr_bytes=Sourced(4096 * MiB, "B", f"{KV260_DS}: 4 GB 64-bit DDR4"),
    ddr_peak_mb_s=Sourced(19200, "MB/s", f"{KV260_DS}: 64-bit DDR4 at 2400 MT/s"),
    **{**_ZYNQ_US_COMMON,
       "arm_pll_fdiv": Sourced(80, "", f"{UG1085} APLL_CTRL.FBDIV: 80 x 33.333 MHz = 2666 MHz (K26 preset)"),
       "cpu_divisor": Sourced(2, "", f"ACPU_CTRL divisor: 2666 MHz / 2 = 1333 MHz ({KV260_DS}: A53 up to 1.333 GHz)")},
)

PROFILES: dict[str, BoardProfile] = {p.name: p for p in (PYNQ_Z1, PYNQ_Z2, ZCU104, KV260)}
DEFAULT_PROFILE = PYNQ_Z1.name


def get_profile(name: str | BoardProfile | None = None) -> BoardProfile:
    """Return the profile called ``name`` (case-insensitive, ``None`` = PYNQ-Z1)."""
    if isinstance(name, BoardProfile):
        return name
    if name is None:
        return PROFILES[DEFAULT_PROFILE]
    for key, profile in PROFILES.items():
        if key.lower() == str(name).lower():
            return profile
    raise DesignError(f"no board profile called {name!r}; known profiles: {', '.join(PROFILES)}")
