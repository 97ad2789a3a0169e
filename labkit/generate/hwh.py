"""The generated design as a Vivado hardware handoff (``.hwh``) for the simulated board.

The simulated board loads a user's design from the ``.hwh`` beside its ``.bit``, through pynq's
own parser (``labkit/sim/hwh.py``).  A generated kernel is loaded the same way: this module
writes the ``.hwh`` Vivado would write for ``vivado/block_design.tcl`` -- the same cells, names,
addresses, parameters and stream connections -- restricted to what pynq and the simulated board
read: modules with their VLNV and parameters, the PS's memory map (AXI-Lite address windows),
bus interfaces with their bus names (stream and AXI connections), the HLS kernel's register map
(UG1399's s_axilite layout) and the PS7's clock and HP-port settings.  Pins, external ports and
documents are left out.  On a real board, Vivado's own ``.hwh`` replaces this file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .spec import KernelSpec
from .templates import DMA_BASE, KERNEL_BASE, LITE_RANGE, _dma_config

__all__ = ["hwh", "fclk_divisors", "IO_PLL_MHZ"]

#: PYNQ-Z1/Z2 board preset: IO PLL = 20 x 50 MHz (UG585 IO_PLL_CTRL; labkit/boards/profiles.py)
IO_PLL_MHZ = 1000.0
PS7 = "processing_system7_0"
AXIMM = "xilinx.com:interface:aximm:1.0"
AXIS = "xilinx.com:interface:axis:1.0"


def fclk_divisors(mhz: float) -> tuple[int, int, float]:
    """FCLK0's two 6-bit divisors from the IO PLL closest to ``mhz`` (as Vivado's clock wizard picks), and the rate."""
    best = min(((d0, d1) for d0 in range(1, 64) for d1 in range(1, 64)),
               key=lambda d: (abs(IO_PLL_MHZ / (d[0] * d[1]) - mhz), d[0] * d[1], d[0]))
    return best[0], best[1], IO_PLL_MHZ / (best[0] * best[1])


def _params(parent: ET.Element, values: dict[str, object]) -> None:
    el = ET.SubElement(parent, "PARAMETERS")
    for name, value in values.items():
        ET.SubElement(el, "PARAMETER", NAME=name, VALUE=str(value))


def _module(root: ET.Element, instance: str, vlnv: str, modtype: str, modclass: str = "PERIPHERAL") -> ET.Element:
    _, _, _, version = vlnv.split(":")
    return ET.SubElement(root, "MODULE", FULLNAME=f"/{instance}", HWVERSION=version, INSTANCE=instance,
                         IPTYPE=modclass, IS_ENABLE="1", MODCLASS=modclass, MODTYPE=modtype, VLNV=vlnv)


def _bus(parent: ET.Element, name: str, kind: str, busname: str, vlnv: str, tdata_bytes: int = 0) -> None:
    attrs = {"BUSNAME": busname, "NAME": name, "TYPE": kind, "VLNV": vlnv}
    if vlnv == AXIMM:
        attrs["DATAWIDTH"] = "32"
    bus = ET.SubElement(parent, "BUSINTERFACE", **attrs)
    if tdata_bytes:
        _params(bus, {"TDATA_NUM_BYTES": tdata_bytes})


def _register(parent: ET.Element, name: str, offset: int, access: str, description: str,
              fields: list[tuple[str, int, int, str]] = ()) -> None:
    reg = ET.SubElement(parent, "REGISTER", NAME=name)
    for key, value in (("DESCRIPTION", description), ("ADDRESS_OFFSET", offset), ("SIZE", 32),
                       ("ACCESS", access), ("IS_ENABLED", "true"), ("RESET_VALUE", 0)):
        ET.SubElement(reg, "PROPERTY", NAME=key, VALUE=str(value))
    if fields:
        el = ET.SubElement(reg, "FIELDS")
        for fname, bit, width, faccess in fields:
            field = ET.SubElement(el, "FIELD", NAME=fname)
            for key, value in (("DESCRIPTION", f"Control signal Register for '{fname.lower()}'."),
                               ("ADDRESS_OFFSET", bit), ("ACCESS", faccess), ("BIT_OFFSET", bit),
                               ("BIT_WIDTH", width)):
                ET.SubElement(field, "PROPERTY", NAME=key, VALUE=str(value))


def _kernel_registers(parent: ET.Element, spec: KernelSpec) -> None:
    block = ET.SubElement(ET.SubElement(parent, "ADDRESSBLOCKS"), "ADDRESSBLOCK", ACCESS="read-write",
                          INTERFACE="s_axi_control", NAME="Reg", RANGE=str(LITE_RANGE), USAGE="register")
    regs = ET.SubElement(block, "REGISTERS")
    if spec.control == "ap_ctrl_hs":  # UG1399: CTRL, GIER, IP_IER, IP_ISR at 0x00..0x0C
        _register(regs, "CTRL", 0, "read-write", "Control signals",
                  [("AP_START", 0, 1, "read-write"), ("AP_DONE", 1, 1, "read-only"), ("AP_IDLE", 2, 1, "read-only"),
                   ("AP_READY", 3, 1, "read-only"), ("AUTO_RESTART", 7, 1, "read-write")])
        _register(regs, "GIER", 4, "read-write", "Global Interrupt Enable Register", [("Enable", 0, 1, "read-write")])
        _register(regs, "IP_IER", 8, "read-write", "IP Interrupt Enable Register",
                  [("CHAN0_INT_EN", 0, 1, "read-write"), ("CHAN1_INT_EN", 1, 1, "read-write")])
        _register(regs, "IP_ISR", 12, "read-write", "IP Interrupt Status Register",
                  [("CHAN0_INT_ST", 0, 1, "read-write"), ("CHAN1_INT_ST", 1, 1, "read-write")])
    for name, offset in spec.register_offsets().items():
        _register(regs, name, offset, "write-only", f"Data signal of {name}")


def hwh(spec: KernelSpec, comment: str) -> str:
    """The ``.hwh`` text of the generated design (PYNQ-Z1/Z2, Zynq-7000)."""
    i, o = spec.inputs[0], spec.outputs[0]
    root = ET.Element("EDKSYSTEM", EDWVERSION="1.2", VIVADOVERSION="2022.1")
    ET.SubElement(root, "SYSTEMINFO", ARCH="zynq", DEVICE="7z020", NAME=spec.name, PACKAGE="clg400",
                  SPEEDGRADE="-1")
    ET.SubElement(root, "EXTERNALPORTS")  # DDR and FIXED_IO pins: nothing pynq or the simulated board reads
    ET.SubElement(root, "EXTERNALINTERFACES")
    modules = ET.SubElement(root, "MODULES")
    hp = spec.hp_port.replace("S_AXI_", "")  # HP0
    d0, d1, actual = fclk_divisors(spec.clock_mhz)
    mem_bus, periph_bus = f"{spec.dma}_mem_M00_AXI", "ps7_0_axi_periph_M0{}_AXI"

    # the DMA: direct register mode, both channels, HP port for memory
    dma = _module(modules, spec.dma, "xilinx.com:ip:axi_dma:7.1", "axi_dma")
    config = dict(_dma_config(spec))
    upper = {n.upper(): v for n, v in config.items()}
    _params(dma, {**upper, **config, "C_FAMILY": "zynq", "C_BASEADDR": f"{DMA_BASE:#010x}",
                  "C_HIGHADDR": f"{DMA_BASE + LITE_RANGE - 1:#010x}"})
    mm = ET.SubElement(dma, "MEMORYMAP")
    for master in ("M_AXI_MM2S", "M_AXI_S2MM"):
        ET.SubElement(mm, "MEMRANGE", ADDRESSBLOCK=f"{hp}_DDR_LOWOCM", BASENAME="C_BASEADDR", BASEVALUE="0x00000000",
                      HIGHNAME="C_HIGHADDR", HIGHVALUE="0x1FFFFFFF", INSTANCE=PS7, IS_DATA="TRUE",
                      IS_INSTRUCTION="TRUE", MASTERBUSINTERFACE=master, MEMTYPE="MEMORY", SLAVEBUSINTERFACE=spec.hp_port)
    buses = ET.SubElement(dma, "BUSINTERFACES")
    _bus(buses, "S_AXI_LITE", "SLAVE", periph_bus.format(0), AXIMM)
    _bus(buses, "M_AXI_MM2S", "MASTER", f"{spec.dma}_M_AXI_MM2S", AXIMM)
    _bus(buses, "M_AXI_S2MM", "MASTER", f"{spec.dma}_M_AXI_S2MM", AXIMM)
    _bus(buses, "M_AXIS_MM2S", "INITIATOR", f"{spec.dma}_M_AXIS_MM2S", AXIS, i.beat_bits // 8)
    _bus(buses, "S_AXIS_S2MM", "TARGET", f"{spec.instance}_{o.name}", AXIS, o.beat_bits // 8)

    # the kernel
    kernel = _module(modules, spec.instance, spec.vlnv, spec.name)
    kparams: dict[str, object] = {"clk_period": f"{1000.0 / spec.clock_mhz:g}", "Component_Name": f"{spec.name}_0"}
    if spec.has_lite:
        kparams.update({"C_S_AXI_CONTROL_ADDR_WIDTH": spec.lite_addr_bits, "C_S_AXI_CONTROL_DATA_WIDTH": 32,
                        "C_S_AXI_CONTROL_BASEADDR": f"{KERNEL_BASE:#010x}",
                        "C_S_AXI_CONTROL_HIGHADDR": f"{KERNEL_BASE + LITE_RANGE - 1:#010x}"})
    _params(kernel, kparams)
    if spec.has_lite:
        _kernel_registers(kernel, spec)
    buses = ET.SubElement(kernel, "BUSINTERFACES")
    if spec.has_lite:
        _bus(buses, "s_axi_control", "SLAVE", periph_bus.format(1), AXIMM)
    _bus(buses, i.name, "SLAVE", f"{spec.dma}_M_AXIS_MM2S", AXIS, i.beat_bits // 8)
    _bus(buses, o.name, "MASTER", f"{spec.instance}_{o.name}", AXIS, o.beat_bits // 8)

    # interconnects (transparent on the simulated board) and the reset
    periph = _module(modules, "ps7_0_axi_periph", "xilinx.com:ip:axi_interconnect:2.1", "axi_interconnect", "BUS")
    _params(periph, {"NUM_SI": 1, "NUM_MI": 2 if spec.has_lite else 1})
    buses = ET.SubElement(periph, "BUSINTERFACES")
    _bus(buses, "S00_AXI", "SLAVE", "processing_system7_0_M_AXI_GP0", AXIMM)
    for m in range(2 if spec.has_lite else 1):
        _bus(buses, f"M{m:02d}_AXI", "MASTER", periph_bus.format(m), AXIMM)
    mem = _module(modules, f"{spec.dma}_mem", "xilinx.com:ip:axi_interconnect:2.1", "axi_interconnect", "BUS")
    _params(mem, {"NUM_SI": 2, "NUM_MI": 1})
    buses = ET.SubElement(mem, "BUSINTERFACES")
    _bus(buses, "S00_AXI", "SLAVE", f"{spec.dma}_M_AXI_MM2S", AXIMM)
    _bus(buses, "S01_AXI", "SLAVE", f"{spec.dma}_M_AXI_S2MM", AXIMM)
    _bus(buses, "M00_AXI", "MASTER", mem_bus, AXIMM)
    reset = _module(modules, "rst_ps7_0", "xilinx.com:ip:proc_sys_reset:5.0", "proc_sys_reset")
    _params(reset, {"C_FAMILY": "zynq"})

    # the PS7: clock, GP0, the HP port, and the address map pynq reads
    ps = _module(modules, PS7, "xilinx.com:ip:processing_system7:5.5", "processing_system7")
    ps.set("IS_PL", "FALSE")
    _params(ps, {"PCW_FPGA0_PERIPHERAL_FREQMHZ": f"{spec.clock_mhz:g}",
                 "PCW_ACT_FPGA0_PERIPHERAL_FREQMHZ": f"{actual:.6f}",
                 "PCW_FCLK0_PERIPHERAL_DIVISOR0": d0, "PCW_FCLK0_PERIPHERAL_DIVISOR1": d1,
                 "PCW_FCLK0_PERIPHERAL_CLKSRC": "IO PLL", "PCW_FPGA_FCLK0_ENABLE": 1, "PCW_EN_CLK0_PORT": 1,
                 "PCW_FCLK_CLK0_BUF": "TRUE", "PCW_USE_M_AXI_GP0": 1,
                 f"PCW_USE_{spec.hp_port}": 1, f"PCW_{spec.hp_port}_DATA_WIDTH": 64,
                 f"C_USE_{spec.hp_port}": 1, f"C_{spec.hp_port}_DATA_WIDTH": 64,
                 # FCLK1..3 off: pynq's parser asks every PL clock whether it is enabled
                 **{f"PCW_FPGA_FCLK{n}_ENABLE": 0 for n in (1, 2, 3)},
                 **{f"PCW_EN_CLK{n}_PORT": 0 for n in (1, 2, 3)},
                 **{f"PCW_FCLK{n}_PERIPHERAL_DIVISOR{j}": 1 for n in (1, 2, 3) for j in (0, 1)},
                 **{f"PCW_FCLK{n}_PERIPHERAL_CLKSRC": "IO PLL" for n in (1, 2, 3)}})
    mm = ET.SubElement(ps, "MEMORYMAP")
    ET.SubElement(mm, "MEMRANGE", ADDRESSBLOCK="Reg", BASENAME="C_BASEADDR", BASEVALUE=f"{DMA_BASE:#010x}",
                  HIGHNAME="C_HIGHADDR", HIGHVALUE=f"{DMA_BASE + LITE_RANGE - 1:#010x}", INSTANCE=spec.dma,
                  IS_DATA="TRUE", IS_INSTRUCTION="TRUE", MASTERBUSINTERFACE="M_AXI_GP0", MEMTYPE="REGISTER",
                  SLAVEBUSINTERFACE="S_AXI_LITE")
    if spec.has_lite:
        ET.SubElement(mm, "MEMRANGE", ADDRESSBLOCK="Reg", BASENAME="C_S_AXI_CONTROL_BASEADDR",
                      BASEVALUE=f"{KERNEL_BASE:#010x}", HIGHNAME="C_S_AXI_CONTROL_HIGHADDR",
                      HIGHVALUE=f"{KERNEL_BASE + LITE_RANGE - 1:#010x}", INSTANCE=spec.instance, IS_DATA="TRUE",
                      IS_INSTRUCTION="TRUE", MASTERBUSINTERFACE="M_AXI_GP0", MEMTYPE="REGISTER",
                      SLAVEBUSINTERFACE="s_axi_control")
    buses = ET.SubElement(ps, "BUSINTERFACES")
    _bus(buses, "M_AXI_GP0", "MASTER", "processing_system7_0_M_AXI_GP0", AXIMM)
    _bus(buses, spec.hp_port, "SLAVE", mem_bus, AXIMM)

    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    comment = comment.replace("--", "- -")  # an XML comment cannot hold "--"
    return f'<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n<!-- {comment} -->\n{body}\n'
