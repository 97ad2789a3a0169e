"""AXI GPIO (Xilinx PG144): two channels of general-purpose I/O behind AXI-Lite.

Registers (PG144 table 2-4): GPIO_DATA 0x000, GPIO_TRI 0x004, GPIO2_DATA 0x008, GPIO2_TRI 0x00C,
GIER 0x11C, IP_ISR 0x120 (toggle on write), IP_IER 0x128.  Parameters from the ``.hwh``:
``C_GPIO_WIDTH``/``C_GPIO2_WIDTH`` (bits per channel), ``C_IS_DUAL``, ``C_ALL_INPUTS(_2)``,
``C_ALL_OUTPUTS(_2)``, ``C_DOUT_DEFAULT(_2)``, ``C_TRI_DEFAULT(_2)``.

* A bit is an output where GPIO_TRI is 0.  Reading GPIO_DATA gives the output register for
  output bits and the pins for input bits (PG144: "reads return the value on the input pins").
* Outputs are recorded (:attr:`outputs`: every value driven, with its time), inputs are set from
  Python with :meth:`set_inputs` -- the buttons and switches of the board.
* An input change sets the channel's bit in IP_ISR (bit 0 channel 1, bit 1 channel 2), as the
  interrupt logic does; the interrupt line itself is not modelled (no UIO on the simulated board).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric

__all__ = ["AxiGpioModel", "GPIO_VLNV"]

GPIO_VLNV = "xilinx.com:ip:axi_gpio:2.0"
DATA, TRI, DATA2, TRI2 = 0x000, 0x004, 0x008, 0x00C
GIER, IP_ISR, IP_IER = 0x11C, 0x120, 0x128


def _param(spec: IPSpec, name: str, default: int) -> int:
    value = spec.parameters.get(name, spec.parameters.get(name.lower()))
    if value is None:
        return default
    try:
        return int(value, 0)
    except ValueError:
        return default


class _GpioChannel:
    def __init__(self, model: "AxiGpioModel", index: int) -> None:
        suffix = "" if index == 1 else "_2"
        spec = model.spec
        self.index = index
        self.present = index == 1 or bool(_param(spec, "C_IS_DUAL", 0))
        self.width = _param(spec, "C_GPIO_WIDTH" if index == 1 else "C_GPIO2_WIDTH", 32) if self.present else 0
        self.mask = (1 << self.width) - 1
        self.all_inputs = bool(_param(spec, f"C_ALL_INPUTS{suffix}", 0))
        self.all_outputs = bool(_param(spec, f"C_ALL_OUTPUTS{suffix}", 0))
        self.dout_default = _param(spec, f"C_DOUT_DEFAULT{suffix}", 0) & self.mask
        self.tri_default = _param(spec, f"C_TRI_DEFAULT{suffix}", 0xFFFFFFFF) & self.mask
        self.data_off, self.tri_off = (DATA, TRI) if index == 1 else (DATA2, TRI2)
        self.out = 0
        self.tri = 0
        self.pins = 0
        self.outputs: list[tuple[float, int]] = []

    def reset(self) -> None:
        self.out = self.dout_default
        self.tri = self.mask if self.all_inputs else 0 if self.all_outputs else self.tri_default
        self.outputs = []

    def value(self) -> int:
        if not self.present:
            return 0
        return ((self.out & ~self.tri) | (self.pins & self.tri)) & self.mask


class AxiGpioModel(IPModel):
    """Both channels of an AXI GPIO; pynq's ``AxiGPIO`` driver runs against it unchanged."""

    vlnv = GPIO_VLNV

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        self.channels = {1: _GpioChannel(self, 1), 2: _GpioChannel(self, 2)}
        for ch in self.channels.values():
            self.watch(ch.data_off, on_read=lambda ch=ch: self._data_read(ch),
                       on_write=lambda value, ch=ch: self._data_written(ch, value))
            self.watch(ch.tri_off, on_write=lambda value, ch=ch: self._tri_written(ch, value))
        self.watch(IP_ISR, on_write=self._isr_written)
        self._isr = 0
        self.reset()

    def on_reset(self) -> None:
        self._isr = 0
        for ch in self.channels.values():
            ch.reset()
            self.set_reg(ch.tri_off, ch.tri)
            self.set_reg(ch.data_off, ch.value())

    # -- the PS side ------------------------------------------------------------------------------
    def _data_read(self, ch: _GpioChannel) -> int:
        self.set_reg(ch.data_off, ch.value())
        return 0

    def _data_written(self, ch: _GpioChannel, value: int) -> None:
        if ch.present and not ch.all_inputs:
            ch.out = value & ch.mask
            ch.outputs.append((self.fabric.now(), ch.out & ~ch.tri & ch.mask))
        self.set_reg(ch.data_off, ch.value())

    def _tri_written(self, ch: _GpioChannel, value: int) -> None:
        if ch.present and not (ch.all_inputs or ch.all_outputs):
            ch.tri = value & ch.mask
        self.set_reg(ch.tri_off, ch.tri)
        self.set_reg(ch.data_off, ch.value())

    def _isr_written(self, value: int) -> None:
        self._isr ^= value & 0x3  # PG144: IP_ISR bits toggle on a write of 1
        self.set_reg(IP_ISR, self._isr)

    # -- the board side (Python plays the pins) -----------------------------------------------------
    def set_inputs(self, value: int, channel: int = 1) -> None:
        """Drive the input pins of ``channel`` (1 or 2) -- press buttons, flip switches."""
        ch = self.channels[channel]
        if not ch.present:
            raise ValueError(f"{self.name} has no channel {channel} (C_IS_DUAL = 0)")
        new = int(value) & ch.mask
        if new != ch.pins and ch.tri:
            self._isr |= 1 << (channel - 1)
            self.set_reg(IP_ISR, self._isr)
        ch.pins = new
        self.set_reg(ch.data_off, ch.value())

    def driven(self, channel: int = 1) -> int:
        """What the PS drives on the output pins of ``channel`` now."""
        ch = self.channels[channel]
        return ch.out & ~ch.tri & ch.mask

    @property
    def outputs(self) -> list[tuple[float, int]]:
        """Every value written to channel 1's outputs: (perf_counter time, output bits)."""
        return list(self.channels[1].outputs)

    def describe(self) -> dict:
        d = super().describe()
        d.update(widths=[self.channels[1].width, self.channels[2].width])
        return d
