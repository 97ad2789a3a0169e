"""The simulated block designs, described once, and turned into the metadata pynq's Overlay reads.

A real overlay is a ``.bit`` file plus a ``.hwh`` file that Vivado writes
from the block design.  pynq parses the ``.hwh`` into ``ip_dict``,
``mem_dict``, ``clock_dict`` ... and binds a driver to every IP by its VLNV.
On the simulated board the same dictionaries come from :class:`Design`, so
pynq binds the same drivers: ``pynq.lib.dma.DMA`` for every
``xilinx.com:ip:axi_dma:7.1``, ``DefaultIP`` (with a ``register_map``) for
the HLS kernels.  No file pretends to be a bitstream: the overlay file on
the simulated board is a small ``.simdesign`` text file that names a design
in this module.

The Vivado Tcl in ``overlays/transfer_lab/`` builds the same design for a
real PYNQ-Z1/Z2; ``tests/test_overlay_tcl.py`` checks that both agree on
every IP name, type, address, range, parameter and stream connection.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from labkit.errors import DesignError
from labkit.kernels import cnn_classifier, ddr_rowsum, mmio_rowsum, pp_load_compute, pp_store

from .ip.axi_dma import DMA_RANGE, DMA_REGISTERS, DMA_VLNV
from .ip.axis_fifo import FIFO_VLNV
from .ip.base import IPSpec
from labkit.boards.profiles import BoardProfile

__all__ = ["Design", "SimParser", "fclk_divisors", "DESIGNS", "get_design", "design_file", "read_design_file",
           "PS7_NAME", "PS7_VLNV"]

PS7_NAME = "processing_system7_0"
PS7_VLNV = "xilinx.com:ip:processing_system7:5.5"
SIMDESIGN_SUFFIX = ".simdesign"
_OVERLAY_DIR = Path(__file__).parent / "overlays"


@dataclass
class Design:
    """One block design: its IPs, how their streams connect, and its PL clocks."""

    name: str
    description: str
    ips: list[IPSpec]
    #: AXI-Stream connections, ``(ip, master port) -> (ip, slave port)``
    streams: dict[tuple[str, str], tuple[str, str]]
    #: PL clocks in MHz by FCLK index, as the PS7 generates them
    clocks: dict[int, float] = field(default_factory=lambda: {0: 100.0})
    ps_parameters: dict[str, str] = field(default_factory=dict)

    def ip(self, name: str) -> IPSpec:
        for spec in self.ips:
            if spec.name == name:
                return spec
        raise DesignError(f"design {self.name} has no IP {name!r}; it has {', '.join(s.name for s in self.ips)}")

    def addressable(self) -> list[IPSpec]:
        """IPs with an AXI-Lite slave on the GP port (the ones in ``ip_dict``)."""
        return [spec for spec in self.ips if spec.base is not None]

    def check(self) -> None:
        """Raise :class:`DesignError` if names, addresses or streams are inconsistent."""
        names = [spec.name for spec in self.ips]
        if len(set(names)) != len(names):
            raise DesignError(f"{self.name}: duplicate IP names in {names}")
        spans = sorted((s.base, s.base + s.addr_range, s.name) for s in self.addressable())
        for (lo1, hi1, a), (lo2, _, b) in zip(spans, spans[1:]):
            if lo2 < hi1:
                raise DesignError(f"{self.name}: {a} [{lo1:#x}, {hi1:#x}) overlaps {b} at {lo2:#x}")
        for spec in self.addressable():
            if spec.base % spec.addr_range:
                raise DesignError(f"{self.name}: {spec.name} base {spec.base:#x} is not aligned to its "
                                  f"range {spec.addr_range:#x} (Vivado's address editor requires that)")
        for (src, _), (dst, _) in self.streams.items():
            for end in (src, dst):
                if end not in names:
                    raise DesignError(f"{self.name}: stream connects unknown IP {end!r}")

    # -- pynq metadata -------------------------------------------------------------------
    def ip_dict(self) -> dict[str, dict]:
        """``ip_dict`` in the form pynq's runtime metadata parser produces from a ``.hwh``."""
        result: dict[str, dict] = {}
        for spec in self.addressable():
            result[spec.name] = {
                "fullpath": spec.name,
                "type": spec.vlnv,
                "bdtype": None,
                "state": None,
                "phys_addr": spec.base,
                "addr_range": spec.addr_range,
                "mem_id": "s_axi_control" if ":hls:" in spec.vlnv else "S_AXI_LITE",
                "memtype": "REGISTER",
                "gpio": {},
                "interrupts": {},  # no interrupt lines: they need UIO, which only a board has
                "parameters": dict(spec.parameters),
                "registers": deepcopy(spec.registers),
                "driver": None,
                "device": None,
            }
        result[PS7_NAME] = {
            "fullpath": PS7_NAME,
            "type": PS7_VLNV,
            "gpio": {},
            "interrupts": {},
            "parameters": dict(self.ps_parameters),
            "driver": None,
            "device": None,
        }
        return result

    def clock_dict(self, profile: BoardProfile) -> dict[int, dict]:
        """``clock_dict`` with every field a Zynq-7000 ``.hwh`` gives pynq, so each pynq finds its own.

        pynq 4.0 sets each enabled FCLK from ``frequency``; pynq 3.1 from ``divisor0``/``divisor1``
        (``Clocks.set_pl_clk(i, div0, div1)``) and resets the disabled ones to pynq's default.  A
        ``.hwh`` records both (``PCW_FPGA<i>_PERIPHERAL_FREQMHZ``, ``PCW_FCLK<i>_PERIPHERAL_DIVISOR0/1``,
        ``PCW_FCLK<i>_PERIPHERAL_CLKSRC``; pynqmetadata's ``ZynqProcSysCore``), so the design does too.
        A disabled clock carries the divisors Vivado writes for one (1, 1).
        """
        io_pll_mhz = float(profile.ref_clk_mhz) * float(profile.io_pll_fdiv)
        result: dict[int, dict] = {}
        for i in range(4):
            if i in self.clocks:
                div0, div1 = fclk_divisors(io_pll_mhz, self.clocks[i])
                result[i] = {"enable": 1, "frequency": self.clocks[i], "divisor0": div0, "divisor1": div1,
                             "src_sel": "IO PLL"}
            else:
                result[i] = {"enable": 0, "frequency": 100.0, "divisor0": 1, "divisor1": 1, "src_sel": "IO PLL"}
        return result

    def mem_dict(self, profile: BoardProfile) -> dict[str, dict]:
        return {"PSDDR": {"fullpath": "PSDDR", "type": "DDR", "tag": "PSDDR", "used": 1, "streaming": False,
                          "base_address": 0, "phys_addr": 0, "addr_range": int(profile.ddr_bytes),
                          "size": int(profile.ddr_bytes), "memtype": "MEMORY", "idx": 0}}

    def parser(self, profile: BoardProfile) -> "SimParser":
        self.check()
        return SimParser(self, profile)


#: Width of each FCLK divisor field in FPGAn_CLK_CTRL (UG585 appendix B.28: DIVISOR0/DIVISOR1 are 6 bits).
_FCLK_DIVISOR_MAX = 63


def fclk_divisors(pll_mhz: float, fclk_mhz: float) -> tuple[int, int]:
    """The two FCLK divisors that bring ``pll_mhz`` closest to ``fclk_mhz`` (ties: the smallest DIVISOR1).

    The pair Vivado's PS7 configuration records as ``PCW_FCLK<i>_PERIPHERAL_DIVISOR0/1`` for a
    requested ``PCW_FPGA<i>_PERIPHERAL_FREQMHZ``: FCLK = PLL / (DIVISOR0 x DIVISOR1).  Vivado may
    pick another pair with the same product (e.g. 5 x 2 for 10); the clock is the same.
    """
    if fclk_mhz <= 0 or fclk_mhz > pll_mhz:
        raise DesignError(f"an FCLK of {fclk_mhz} MHz cannot be divided from a {pll_mhz} MHz PLL; "
                          f"choose a frequency between {pll_mhz / _FCLK_DIVISOR_MAX ** 2:.3f} and {pll_mhz} MHz")
    best = min(((abs(pll_mhz / (d0 * d1) - fclk_mhz), d1, d0)
                for d0 in range(1, _FCLK_DIVISOR_MAX + 1) for d1 in range(1, _FCLK_DIVISOR_MAX + 1)))
    return best[2], best[1]


class SimParser:
    """What ``Device.get_bitfile_metadata`` returns: the attributes pynq's Overlay and Device read."""

    def __init__(self, design: Design, profile: BoardProfile) -> None:
        self.design = design
        self.ip_dict = design.ip_dict()
        self.mem_dict = design.mem_dict(profile)
        self.clock_dict = design.clock_dict(profile)
        self.gpio_dict: dict = {}
        self.interrupt_controllers: dict = {}
        self.interrupt_pins: dict = {}
        self.hierarchy_dict: dict = {}
        self.systemgraph = None
        self.bin_data = None
        self.xclbin_data = None
        self.dtbo_data = None


# -- the transfer_lab design -------------------------------------------------------------------------

GP0 = "M_AXI_GP0"


def hls_lite_address_bits(kernel) -> int:
    """Address bits Vitis HLS gives a kernel's s_axi_control port: enough for its last register or memory."""
    end = max(reg["address_offset"] + reg["size"] // 8 for reg in kernel.REGISTERS.values())
    for memory in getattr(kernel, "MEMORIES", {}).values():
        end = max(end, memory["offset"] + 4 * memory["words"])
    return (end - 1).bit_length()


def _dma_parameters(mm2s_stream_bits: int, s2mm_stream_bits: int) -> dict[str, str]:
    """Parameters of an AXI DMA in direct register mode (PG021), with HWH's lower-case names."""
    return {
        "c_include_sg": "0",
        "c_sg_length_width": "26",  # PG021: 8..26 bits; 26 gives the largest transfer, 64 MiB - 1 bytes
        "c_include_mm2s": "1",
        "c_include_s2mm": "1",
        "c_m_axi_mm2s_data_width": "64",  # memory side on a 64-bit HP port
        "c_m_axi_s2mm_data_width": "64",
        "c_m_axis_mm2s_tdata_width": str(mm2s_stream_bits),
        "c_s_axis_s2mm_tdata_width": str(s2mm_stream_bits),
        "c_mm2s_burst_size": "16",
        "c_s2mm_burst_size": "16",
        "c_include_mm2s_dre": "0",
        "c_include_s2mm_dre": "0",
        "c_micro_dma": "0",
        "c_addr_width": "32",
        "c_sg_include_stscntrl_strm": "0",
    }


def _dma(name: str, base: int, hp: str, mm2s_bits: int, s2mm_bits: int, description: str) -> IPSpec:
    return IPSpec(name=name, vlnv=DMA_VLNV, base=base, addr_range=DMA_RANGE,
                  parameters=_dma_parameters(mm2s_bits, s2mm_bits), registers=deepcopy(DMA_REGISTERS),
                  memory_port=hp, description=description)


def _hls(name: str, kernel, base: int, extra: dict[str, str] | None = None, hp: str | None = None,
         description: str = "") -> IPSpec:
    params = {"C_S_AXI_CONTROL_ADDR_WIDTH": str(hls_lite_address_bits(kernel)), "C_S_AXI_CONTROL_DATA_WIDTH": "32"}
    params.update(extra or {})
    return IPSpec(name=name, vlnv=kernel.VLNV, base=base, addr_range=kernel.ADDR_RANGE, parameters=params,
                  registers=deepcopy(kernel.REGISTERS), memory_port=hp, description=description)


def transfer_lab() -> Design:
    """The lab's overlay for PYNQ-Z1/Z2: every transfer method of the teaching path in one design."""
    ips = [
        _hls("mmio_rowsum", mmio_rowsum, 0x43C0_0000,
             description="70x80 image written over AXI-Lite, per-row sums read back (notebooks 01-02)"),
        _hls("pp_load_compute", pp_load_compute, 0x43C1_0000,
             description="load + compute with two input buffers (LB, COM of the double-buffer seed)"),
        _hls("pp_store", pp_store, 0x43C2_0000,
             description="store with two output buffers (SB of the double-buffer seed)"),
        _hls("ddr_rowsum", ddr_rowsum, 0x43C3_0000,
             extra={"C_M_AXI_GMEM_DATA_WIDTH": "32", "C_M_AXI_GMEM_ADDR_WIDTH": "64"}, hp="S_AXI_HP2",
             description="m_axi master reading DDR by physical address (ZynqNet style, notebook 05)"),
        _hls("cnn_classifier", cnn_classifier, 0x43C4_0000,
             description="int8 CNN digit classifier on AXI-Stream (notebook 06)"),
        _dma("dma_loop", 0x4040_0000, "S_AXI_HP0", 64, 64,
             "DMA looped back through an AXI-Stream FIFO: raw DMA bandwidth (notebook 03)"),
        _dma("dma_pp", 0x4041_0000, "S_AXI_HP1", 32, 32,
             "DMA feeding pp_load_compute and draining pp_store (notebooks 03-04)"),
        _dma("dma_cnn", 0x4042_0000, "S_AXI_HP3", 64, 32,
             "DMA feeding cnn_classifier images and reading back scores (notebook 06)"),
        IPSpec(name="loop_fifo", vlnv=FIFO_VLNV, base=None, addr_range=0,
               parameters={"FIFO_DEPTH": "1024", "TDATA_NUM_BYTES": "8", "HAS_TLAST": "1", "HAS_TKEEP": "1"},
               description="AXI-Stream data FIFO closing the dma_loop loopback"),
    ]
    streams = {
        ("dma_loop", "M_AXIS_MM2S"): ("loop_fifo", "S_AXIS"),
        ("loop_fifo", "M_AXIS"): ("dma_loop", "S_AXIS_S2MM"),
        ("dma_pp", "M_AXIS_MM2S"): ("pp_load_compute", "in_stream"),
        ("pp_load_compute", "out_stream"): ("pp_store", "in_stream"),
        ("pp_store", "out_stream"): ("dma_pp", "S_AXIS_S2MM"),
        ("dma_cnn", "M_AXIS_MM2S"): ("cnn_classifier", "in_stream"),
        ("cnn_classifier", "out_stream"): ("dma_cnn", "S_AXIS_S2MM"),
    }
    ps_parameters = {
        "PCW_FPGA0_PERIPHERAL_FREQMHZ": "100",
        "PCW_APU_PERIPHERAL_FREQMHZ": "650",
        "PCW_USE_M_AXI_GP0": "1",
        "PCW_USE_S_AXI_HP0": "1", "PCW_S_AXI_HP0_DATA_WIDTH": "64",
        "PCW_USE_S_AXI_HP1": "1", "PCW_S_AXI_HP1_DATA_WIDTH": "64",
        "PCW_USE_S_AXI_HP2": "1", "PCW_S_AXI_HP2_DATA_WIDTH": "64",
        "PCW_USE_S_AXI_HP3": "1", "PCW_S_AXI_HP3_DATA_WIDTH": "64",
    }
    return Design(name="transfer_lab",
                  description="pynq-transfer-lab overlay: MMIO, DMA, ping-pong, m_axi and CNN kernels",
                  ips=ips, streams=streams, clocks={0: 100.0}, ps_parameters=ps_parameters)


DESIGNS: dict[str, Callable[[], Design]] = {"transfer_lab": transfer_lab}


def get_design(name: str) -> Design:
    """A fresh :class:`Design` by name."""
    try:
        return DESIGNS[name]()
    except KeyError:
        raise DesignError(f"no simulated design called {name!r}; designs: {', '.join(DESIGNS)}") from None


def design_file(name: str = "transfer_lab") -> Path:
    """Path of the ``.simdesign`` file to hand to ``pynq.Overlay`` on the simulated board."""
    path = _OVERLAY_DIR / f"{name}{SIMDESIGN_SUFFIX}"
    if not path.is_file():
        raise DesignError(f"{path} is missing: the package is incomplete (reinstall it)")
    return path


def read_design_file(path: str | Path) -> Design:
    """The design a ``.simdesign`` file names (a JSON object with a "design" key)."""
    path = Path(path)
    if path.suffix != SIMDESIGN_SUFFIX:
        raise DesignError(
            f"the simulated board cannot load {path.name}: it runs simulated designs ({SIMDESIGN_SUFFIX} files, "
            f"e.g. labkit.sim.designs.design_file()), not bitstreams. Use labkit.open_board().")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        name = content["design"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DesignError(f"{path} is not a valid {SIMDESIGN_SUFFIX} file ({exc})") from exc
    return get_design(name)
