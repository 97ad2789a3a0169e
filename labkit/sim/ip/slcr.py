"""The Zynq-7000 System Level Control Registers (SLCR) that hold the clock settings.

pynq sets the PL clocks itself when an overlay is downloaded:
``pynq.ps.Clocks`` (``_ClocksZynq``) reads and writes the PLL and FPGA clock
control registers of the SLCR at 0xF8000000 through plain MMIO.  Modelling
those few registers (UG585, appendix B.28) lets pynq's own clock code run
unchanged on the simulated board -- ``Clocks.fclk0_mhz = 50`` really halves the
modelled PL clock -- instead of patching pynq.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric
    from labkit.boards.profiles import BoardProfile

__all__ = ["SlcrModel", "SLCR_BASE", "SLCR_RANGE"]

SLCR_BASE = 0xF800_0000  # UG585 table 4-6, and pynq's _ClocksZynq.SLCR_BASE_ADDRESS
SLCR_RANGE = 0x1000

ARM_PLL_CTRL = 0x100
DDR_PLL_CTRL = 0x104
IO_PLL_CTRL = 0x108
ARM_CLK_CTRL = 0x120
FPGA_CLK_CTRL = (0x170, 0x180, 0x190, 0x1A0)  # FPGA0..3_CLK_CTRL

PLL_FDIV_SHIFT, PLL_FDIV_MASK = 12, 0x7F
SRCSEL_SHIFT, SRCSEL_MASK = 4, 0x3
DIVISOR0_SHIFT, DIVISOR1_SHIFT, DIVISOR_MASK = 8, 20, 0x3F
# FPGAn_CLK_CTRL SRCSEL: 0/1 = IO PLL, 2 = ARM PLL, 3 = DDR PLL (UG585 B.28; pynq's PL_SRC_PLL_CTRLS)
_SRC_PLL = (IO_PLL_CTRL, IO_PLL_CTRL, ARM_PLL_CTRL, DDR_PLL_CTRL)


class SlcrModel(IPModel):
    """Clock registers of the PS. Writing an FPGA clock register retunes the modelled PL clock."""

    vlnv = "xilinx.com:ps7:slcr:1.0"

    def __init__(self, fabric: "Fabric", profile: "BoardProfile") -> None:
        spec = IPSpec(name="ps7_slcr", vlnv=self.vlnv, base=SLCR_BASE, addr_range=SLCR_RANGE,
                      description="Zynq-7000 SLCR clock registers")
        super().__init__(fabric, spec)
        self.ref_clk_mhz = float(profile.ref_clk_mhz)
        self.set_reg(ARM_PLL_CTRL, int(profile.arm_pll_fdiv) << PLL_FDIV_SHIFT)
        self.set_reg(DDR_PLL_CTRL, int(profile.ddr_pll_fdiv) << PLL_FDIV_SHIFT)
        self.set_reg(IO_PLL_CTRL, int(profile.io_pll_fdiv) << PLL_FDIV_SHIFT)
        self.set_reg(ARM_CLK_CTRL, int(profile.cpu_divisor) << DIVISOR0_SHIFT)  # SRCSEL 0 = ARM PLL
        io_pll_mhz = self.ref_clk_mhz * int(profile.io_pll_fdiv)
        div0 = round(io_pll_mhz / float(profile.fclk0_mhz))
        for offset in FPGA_CLK_CTRL:
            self.set_reg(offset, (div0 << DIVISOR0_SHIFT) | (1 << DIVISOR1_SHIFT))
        self.watch(FPGA_CLK_CTRL[0], on_write=self._fclk0_written)

    def _pll_mhz(self, pll_ctrl: int) -> float:
        return self.ref_clk_mhz * ((self.reg(pll_ctrl) >> PLL_FDIV_SHIFT) & PLL_FDIV_MASK)

    def fclk_mhz(self, index: int = 0) -> float:
        """Frequency of FCLK_CLK<index> as the registers set it, like pynq's get_pl_clk."""
        value = self.reg(FPGA_CLK_CTRL[index])
        src = _SRC_PLL[(value >> SRCSEL_SHIFT) & SRCSEL_MASK]
        div0 = (value >> DIVISOR0_SHIFT) & DIVISOR_MASK
        div1 = (value >> DIVISOR1_SHIFT) & DIVISOR_MASK
        if div0 == 0 or div1 == 0:
            return 0.0
        return self._pll_mhz(src) / (div0 * div1)

    def cpu_mhz(self) -> float:
        value = self.reg(ARM_CLK_CTRL)
        divisor = (value >> DIVISOR0_SHIFT) & DIVISOR_MASK
        return self._pll_mhz(ARM_PLL_CTRL) / divisor if divisor else 0.0

    def _fclk0_written(self, value: int) -> None:
        self.fabric.clock_changed()
