"""The Zynq UltraScale+ clock registers pynq's ``_ClocksUltrascale`` reads and writes (UG1085, CRL_APB/CRF_APB).

On an MPSoC board pynq sets the PL clocks through the PL0..PL3_REF_CTRL registers of CRL_APB,
whose source PLLs (IOPLL, RPLL in CRL_APB; DPLL in CRF_APB) it reads to compute divisors.  The
register offsets are taken from pynq itself (``pynq.ps.ZU_CRL_REGISTERS``/``ZU_CRF_REGISTERS``,
present in pynq 3.1 and 4.0) so the model and pynq's driver cannot disagree.  Writing PL0_REF_CTRL
retunes the modelled PL clock, as the SLCR model does on Zynq-7000.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric
    from labkit.boards.profiles import BoardProfile

__all__ = ["ZuClocks", "CRL_APB_BASE", "CRF_APB_BASE"]

CRL_APB_BASE = 0xFF5E_0000  # UG1085 table 10-1; pynq's _ClocksUltrascale.CRL_APB_ADDRESS
CRF_APB_BASE = 0xFD1A_0000  # pynq's _ClocksUltrascale.CRF_APB_ADDRESS
APB_RANGE = 0x1000

FBDIV_SHIFT, FBDIV_MASK, DIV2_BIT = 8, 0x7F, 1 << 16  # PLL_CTRL fields (pynq's ZU_PLL_FIELDS)
SRCSEL_MASK = 0x7
DIV0_SHIFT, DIV1_SHIFT, DIV_MASK, CLKACT = 8, 16, 0x3F, 1 << 24  # PLn_REF_CTRL (ZU_CLK_FIELDS)


def _offsets() -> tuple[dict[str, int], dict[str, int]]:
    from pynq.ps import ZU_CRF_REGISTERS, ZU_CRL_REGISTERS

    return ({k: v["address_offset"] for k, v in ZU_CRL_REGISTERS.items()},
            {k: v["address_offset"] for k, v in ZU_CRF_REGISTERS.items()})


class _ApbBlock(IPModel):
    vlnv = "xilinx.com:zynq_us:clock_regs:1.0"


class ZuClocks:
    """CRL_APB and CRF_APB clock registers; ``fclk_mhz``/``cpu_mhz`` as pynq computes them."""

    def __init__(self, fabric: "Fabric", profile: "BoardProfile") -> None:
        self.crl_off, self.crf_off = _offsets()
        self.crl = _ApbBlock(fabric, IPSpec("zu_crl_apb", _ApbBlock.vlnv, CRL_APB_BASE, APB_RANGE,
                                            description="Zynq UltraScale+ CRL_APB clock registers"))
        self.crf = _ApbBlock(fabric, IPSpec("zu_crf_apb", _ApbBlock.vlnv, CRF_APB_BASE, APB_RANGE,
                                            description="Zynq UltraScale+ CRF_APB clock registers"))
        self.ref_clk_mhz = float(profile.ref_clk_mhz)
        io = int(profile.io_pll_fdiv)
        self.crl.set_reg(self.crl_off["IOPLL_CTRL"], (io << FBDIV_SHIFT) | DIV2_BIT)
        self.crl.set_reg(self.crl_off["RPLL_CTRL"], (io << FBDIV_SHIFT) | DIV2_BIT)
        self.crf.set_reg(self.crf_off["APLL_CTRL"], int(profile.arm_pll_fdiv) << FBDIV_SHIFT)
        self.crf.set_reg(self.crf_off["DPLL_CTRL"], (int(profile.ddr_pll_fdiv) << FBDIV_SHIFT) | DIV2_BIT)
        self.crf.set_reg(self.crf_off["VPLL_CTRL"], (io << FBDIV_SHIFT) | DIV2_BIT)
        self.crf.set_reg(self.crf_off["ACPU_CTRL"], int(profile.cpu_divisor) << DIV0_SHIFT)  # SRCSEL 0 = APLL
        div0 = round(self._pll_mhz(self.crl, "IOPLL_CTRL") / float(profile.fclk0_mhz))
        self.pl_ctrl = [self.crl_off[f"PL{i}_REF_CTRL"] for i in range(4)]
        for offset in self.pl_ctrl:
            self.crl.set_reg(offset, CLKACT | (1 << DIV1_SHIFT) | (div0 << DIV0_SHIFT))
        self.crl.watch(self.pl_ctrl[0], on_write=lambda value: fabric.clock_changed())
        self.models = [self.crl, self.crf]

    def _pll_mhz(self, block: IPModel, name: str) -> float:
        offsets = self.crl_off if block is self.crl else self.crf_off
        value = block.reg(offsets[name])
        mhz = self.ref_clk_mhz * ((value >> FBDIV_SHIFT) & FBDIV_MASK)
        return mhz / 2 if value & DIV2_BIT else mhz

    def fclk_mhz(self, index: int = 0) -> float:
        """pl_clk<index> as the registers set it (source PLL by SRCSEL: 0 IOPLL, 2 RPLL, 3 DPLL)."""
        value = self.crl.reg(self.pl_ctrl[index])
        src = {0: (self.crl, "IOPLL_CTRL"), 2: (self.crl, "RPLL_CTRL"), 3: (self.crf, "DPLL_CTRL")}.get(
            value & SRCSEL_MASK)
        div0, div1 = (value >> DIV0_SHIFT) & DIV_MASK, (value >> DIV1_SHIFT) & DIV_MASK
        if src is None or not div0 or not div1:
            return 0.0
        return self._pll_mhz(*src) / (div0 * div1)

    def cpu_mhz(self) -> float:
        divisor = (self.crf.reg(self.crf_off["ACPU_CTRL"]) >> DIV0_SHIFT) & DIV_MASK
        return self._pll_mhz(self.crf, "APLL_CTRL") / divisor if divisor else 0.0
