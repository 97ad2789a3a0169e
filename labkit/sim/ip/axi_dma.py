"""AXI DMA (Xilinx PG021) in direct register mode, at its real register offsets and bits.

pynq's own driver (``pynq.lib.dma.DMA``) runs unchanged against this model and
raises its own errors from the status bits: "DMA channel not started" when
``Halted`` is set, "DMA channel not idle" while ``Idle`` is clear, the
internal/slave/decode error messages from DMASR bits 4-6.

Per channel (MM2S at 0x00, S2MM at 0x30):

* ``DMACR.RS`` starts the engine (``Halted`` clears at once); clearing it halts
  the engine once the transfer in flight is done.  ``DMACR.Reset`` resets
  both channels, dropping what is in flight.
* Writing ``LENGTH`` while running starts a transfer; ``Idle`` clears.  A
  length of 0 is an internal error; an address outside the memory the DMA
  can reach is a decode error.  Errors halt the channel until a reset.
* MM2S reads ``LENGTH`` bytes of DDR onto its stream, TLAST on the last beat,
  and is idle once the stream has taken them.
* S2MM writes what arrives to DDR up to TLAST and then reports the bytes it
  received in ``LENGTH``.  A stream that never sends TLAST leaves the channel
  busy for ever; more data than ``LENGTH`` without TLAST is an internal error.
* ``LENGTH`` is ``c_sg_length_width`` bits wide: larger values are truncated,
  which is why pynq checks the size first.

Status bits are computed when DMASR is read, from the modelled completion time
of the transfer (booked on the fabric's timeline; its data work is a job of
``worker.py``).  Fault kinds honoured: ``bus_error`` (slave error),
``decode_error``, ``hang`` (the transfer never completes).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..streams import Chunk, StreamConsumer, copy_ops, pieces
from ..timeline import Interval
from .base import IPModel, IPSpec

if TYPE_CHECKING:
    from ..fabric import Fabric
    from ..streams import StreamChannel

__all__ = ["AxiDmaModel", "DMA_VLNV", "DMA_RANGE", "DMA_REGISTERS"]

DMA_VLNV = "xilinx.com:ip:axi_dma:7.1"
DMA_RANGE = 0x10000

# PG021 table 2-6 (direct register mode register map) and the DMACR/DMASR bit tables.
MM2S, S2MM = 0x00, 0x30  # channel base offsets
DMACR, DMASR, ADDR, ADDR_MSB, LENGTH = 0x00, 0x04, 0x18, 0x1C, 0x28  # relative to the channel base
CR_RS, CR_RESET = 1 << 0, 1 << 2
CR_RESERVED_ONE = 1 << 1  # PG021: reserved, reads as 1
CR_RESET_VALUE = 0x0001_0000 | CR_RESERVED_ONE  # IRQThreshold resets to 1
SR_HALTED, SR_IDLE = 1 << 0, 1 << 1
SR_INT_ERR, SR_SLV_ERR, SR_DEC_ERR = 1 << 4, 1 << 5, 1 << 6
SR_IOC_IRQ, SR_DLY_IRQ, SR_ERR_IRQ = 1 << 12, 1 << 13, 1 << 14
SR_W1C = SR_IOC_IRQ | SR_DLY_IRQ | SR_ERR_IRQ
SR_ERRORS = SR_INT_ERR | SR_SLV_ERR | SR_DEC_ERR
CR_ERR_IRQ_EN = 1 << 14

# Modelled latencies (PL cycles).  Estimates: PG021 gives no single number; these are the order of
# magnitude of the command path plus a DDR3 access through an HP port at 100 MHz.
SETUP_CYCLES = 12  #: LENGTH write -> command issued to the DataMover
HP_READ_LATENCY_CYCLES = 24  #: first read data back from DDR through the HP port (~240 ns)
HP_WRITE_LATENCY_CYCLES = 16  #: last write response from DDR after the last beat


def _field(offset: int, width: int, access: str, description: str) -> dict:
    return {"bit_offset": offset, "bit_width": width, "access": access, "description": description}


def _channel_registers(prefix: str, base: int, addr_name: str, addr_field: str,
                       length_bits: int = 26) -> dict[str, dict]:
    """One channel's registers, with the register and field names Vivado writes into a ``.hwh``
    (``MM2S_SA.Source_Address``, ``S2MM_LENGTH.Length`` ...), so tutorial code that prints them
    runs on the lab's design as on a Vivado one."""
    return {
        f"{prefix}_DMACR": {"address_offset": base + DMACR, "size": 32, "access": "read-write",
                            "description": f"{prefix} DMA control register", "fields": {
                                "RS": _field(0, 1, "read-write", "Run/stop: 1 runs the channel"),
                                "Reset": _field(2, 1, "read-write", "Soft reset of the whole DMA"),
                                "Keyhole": _field(3, 1, "read-write", "Keyhole read/write (not modelled)"),
                                "Cyclic_BD_Enable": _field(4, 1, "read-write", "Cyclic descriptors (SG mode only)"),
                                "IOC_IrqEn": _field(12, 1, "read-write", "Interrupt on complete enable"),
                                "Dly_IrqEn": _field(13, 1, "read-write", "Delay interrupt enable"),
                                "Err_IrqEn": _field(14, 1, "read-write", "Error interrupt enable"),
                                "IRQThreshold": _field(16, 8, "read-write", "Interrupt threshold"),
                                "IRQDelay": _field(24, 8, "read-write", "Interrupt delay"),
                            }},
        f"{prefix}_DMASR": {"address_offset": base + DMASR, "size": 32, "access": "read-write",
                            "description": f"{prefix} DMA status register", "fields": {
                                "Halted": _field(0, 1, "read-only", "Channel halted (RS=0 or an error)"),
                                "Idle": _field(1, 1, "read-only", "Transfer finished, channel idle"),
                                "SGIncld": _field(3, 1, "read-only", "Scatter-gather engine included"),
                                "DMAIntErr": _field(4, 1, "read-only", "Internal error (length 0, overflow)"),
                                "DMASlvErr": _field(5, 1, "read-only", "Slave error from the memory"),
                                "DMADecErr": _field(6, 1, "read-only", "Decode error: address not mapped"),
                                "IOC_Irq": _field(12, 1, "read-write", "Transfer complete (write 1 to clear)"),
                                "Dly_Irq": _field(13, 1, "read-write", "Delay interrupt (write 1 to clear)"),
                                "Err_Irq": _field(14, 1, "read-write", "Error interrupt (write 1 to clear)"),
                            }},
        addr_name: {"address_offset": base + ADDR, "size": 32, "access": "read-write",
                    "description": f"{prefix} buffer physical address, low 32 bits",
                    "fields": {addr_field: _field(0, 32, "read-write", "buffer physical address, low 32 bits")}},
        f"{addr_name}_MSB": {"address_offset": base + ADDR_MSB, "size": 32, "access": "read-write",
                             "description": f"{prefix} buffer physical address, high 32 bits",
                             "fields": {addr_field: _field(0, 32, "read-write",
                                                           "buffer physical address, high 32 bits")}},
        f"{prefix}_LENGTH": {"address_offset": base + LENGTH, "size": 32, "access": "read-write",
                             "description": f"{prefix} transfer length in bytes; writing it starts the transfer",
                             "fields": {"Length": _field(0, length_bits, "read-write",
                                                         "bytes to transfer (S2MM: bytes received)")}},
    }


DMA_REGISTERS: dict[str, dict] = {**_channel_registers("MM2S", MM2S, "MM2S_SA", "Source_Address"),
                                  **_channel_registers("S2MM", S2MM, "S2MM_DA", "Destination_Address")}


class _Transfer:
    """One transfer of one channel: its modelled schedule, data work and outcome."""

    def __init__(self, channel: "_Channel", address: int, length: int, issued: float) -> None:
        self.channel = channel
        self.address = address
        self.length = length
        self.issued = issued
        self.start = issued
        self.end = math.inf  # decided when the stream side is done
        self.future = None
        self.error_bits = 0
        self.error_at = math.inf
        self.nbytes = 0  # bytes actually moved (S2MM: received)
        self.hang = False

    def finished(self) -> bool:
        if self.hang or self.end == math.inf:
            return False
        fabric = self.channel.fabric
        if not fabric.settle(self.future):
            return False
        return not fabric.board_pace or fabric.now() >= self.end

    def error_visible(self) -> bool:
        return bool(self.error_bits) and (not self.channel.fabric.board_pace or self.channel.fabric.now() >= self.error_at)

    # Producer protocol (MM2S): the stream took our chunk.
    def chunk_accepted(self, chunk: Chunk) -> None:
        self.future = chunk.consumed_future
        self.end = max(self.end if self.end != math.inf else 0.0, chunk.accept_end)
        self.channel.booked(self)


class _Channel:
    def __init__(self, dma: "AxiDmaModel", base: int, direction: str) -> None:
        self.dma = dma
        self.fabric = dma.fabric
        self.base = base
        self.direction = direction  # "mm2s" or "s2mm"
        self.resource = f"{dma.name}.{direction}"
        params = dma.spec.parameters
        stream_bits = int(params["c_m_axis_mm2s_tdata_width" if direction == "mm2s" else "c_s_axis_s2mm_tdata_width"])
        self.width = stream_bits // 8
        self.length_mask = (1 << int(params.get("c_sg_length_width", "26"))) - 1
        self.stream: "StreamChannel | None" = None
        self.transfer: _Transfer | None = None
        self.stop_requested = False
        self.cr = CR_RESET_VALUE
        self.sr = SR_HALTED
        dma.watch(base + DMACR, on_write=self._cr_written, on_read=self._cr_read)
        dma.watch(base + DMASR, on_write=self._sr_written, on_read=self._sr_read)
        dma.watch(base + LENGTH, on_write=self._length_written)

    def reset(self) -> None:
        """Power-on / soft-reset state: halted, nothing in flight."""
        self.transfer = None
        self.stop_requested = False
        self.cr = CR_RESET_VALUE
        self.sr = SR_HALTED
        self._publish()

    def _publish(self) -> None:
        self.dma.set_reg(self.base + DMACR, self.cr)
        self.dma.set_reg(self.base + DMASR, self.sr)

    # -- status, computed when read -------------------------------------------------------
    def refresh(self) -> None:
        t = self.transfer
        if t is not None:
            if t.error_visible():
                self.sr |= t.error_bits | (SR_ERR_IRQ if self.cr & CR_ERR_IRQ_EN else 0) | SR_HALTED
                self.sr &= ~SR_IDLE
                self.cr &= ~CR_RS
                self.transfer = None
            elif t.finished():
                self.sr |= SR_IDLE | SR_IOC_IRQ
                if self.direction == "s2mm":
                    self.dma.set_reg(self.base + LENGTH, t.nbytes)
                self.transfer = None
        if self.transfer is None and self.stop_requested:
            self.sr |= SR_HALTED
            self.stop_requested = False
        self._publish()

    def _sr_read(self) -> int:
        self.refresh()
        return 0

    def _cr_read(self) -> int:
        self.refresh()
        return 0

    @property
    def running(self) -> bool:
        return not self.sr & SR_HALTED

    # -- register writes --------------------------------------------------------------------
    def _cr_written(self, value: int) -> None:
        if value & CR_RESET:
            self.dma.soft_reset()
            return
        self.refresh()
        rs_was = self.cr & CR_RS
        self.cr = (value & ~CR_RESET) | CR_RESERVED_ONE
        if self.sr & SR_ERRORS:
            self.cr &= ~CR_RS  # PG021: after an error only a reset restarts the channel
        elif self.cr & CR_RS:
            self.sr &= ~SR_HALTED
            self.stop_requested = False
        elif rs_was:
            self.stop_requested = True
            self.refresh()
        self._publish()

    def _sr_written(self, value: int) -> None:
        self.refresh()
        self.sr &= ~(value & SR_W1C)  # interrupt bits are write-1-to-clear, the rest read-only
        self._publish()

    def _length_written(self, value: int) -> None:
        self.refresh()
        length = value & self.length_mask  # the register has only c_sg_length_width bits
        if self.transfer is not None:
            return  # still busy: the command is ignored (and the register keeps counting this one)
        self.dma.set_reg(self.base + LENGTH, length)
        if not self.running:
            return  # a halted channel does not start
        address = self.dma.reg(self.base + ADDR) | (self.dma.reg(self.base + ADDR_MSB) << 32)
        now = self.fabric.now()
        t = _Transfer(self, address, length, now)
        self.transfer = t
        self.sr &= ~SR_IDLE
        self._publish()
        t.start = max(now, self.fabric.timeline.free_at(self.resource))
        if length == 0:
            self._fail(t, SR_INT_ERR)
        elif self.fabric.faults.take(self.dma.name, "bus_error"):
            self._fail(t, SR_SLV_ERR)
        elif self.fabric.faults.take(self.dma.name, "decode_error") or not self.fabric.pool.contains(address, length):
            self._fail(t, SR_DEC_ERR)
        else:
            t.hang = self.fabric.faults.take(self.dma.name, "hang") is not None
            if self.direction == "mm2s":
                self._start_mm2s(t)
            else:
                self._start_s2mm(t)

    def _fail(self, t: _Transfer, bits: int) -> None:
        t.error_bits = bits
        t.error_at = t.start + self.fabric.cycles_to_s(SETUP_CYCLES + HP_READ_LATENCY_CYCLES)

    # -- data movement ------------------------------------------------------------------------
    def _start_mm2s(self, t: _Transfer) -> None:
        if self.stream is None:
            return  # unconnected stream: the data has nowhere to go, the channel stays busy
        cycle = 1 / self.fabric.clock_hz
        t_first = t.start + (SETUP_CYCLES + HP_READ_LATENCY_CYCLES) * cycle
        beats = -(-t.length // self.width)
        # A memory side narrower than the stream (the DMA's c_m_axi_mm2s_data_width, or the PS port's
        # width from the .hwh) cannot feed one stream beat per cycle: stretch the beats accordingly.
        beats_time = beats * max(1.0, self.width / self.dma.memory_bytes("mm2s"))
        view = self.fabric.pool.view(t.address, t.length)
        t.nbytes = t.length
        self.fabric.count_bytes(self.dma.spec.memory_port or self.dma.name, "read", t.length)
        self.stream.offer(Chunk(t.length, self.width, True, t_first, t_first + (beats_time - 1) * cycle, t,
                                data=view, owner=self, borrowed=True))

    def _start_s2mm(self, t: _Transfer) -> None:
        if self.stream is None:
            return
        ready = t.start + SETUP_CYCLES / self.fabric.clock_hz
        budget = -(-t.length // self.width)
        self.stream.post(StreamConsumer(ready, self.fabric.clock_hz, lambda c: self._s2mm_done(t, c),
                                        budget=budget, owner=self))

    def _s2mm_done(self, t: _Transfer, consumer: StreamConsumer) -> None:
        if self.transfer is not t:
            return  # reset while the data was on its way
        nbytes = min(consumer.nbytes, t.length)
        target = self.fabric.pool.view(t.address, t.length)[:nbytes]
        parts = pieces(consumer.takes)  # each beat's bytes where the stream delivered them
        t.future = self.fabric.submit(copy_ops(parts, target), keep=(target, *parts))
        consumer.release(t.future)
        t.nbytes = nbytes
        self.fabric.count_bytes(self.dma.spec.memory_port or self.dma.name, "write", nbytes)
        end = consumer.t + HP_WRITE_LATENCY_CYCLES / self.fabric.clock_hz
        if consumer.overflow:
            t.error_bits = SR_INT_ERR
            t.error_at = end
        t.end = end
        self.booked(t)

    def booked(self, t: _Transfer) -> None:
        """Record the transfer on the timeline once its end is known."""
        cycles = round((t.end - t.start) * self.fabric.clock_hz)
        self.fabric.timeline.add(Interval(self.resource, self.direction.upper(), t.start, t.end, cycles,
                                          {"bytes": t.nbytes, "address": t.address}))


class AxiDmaModel(IPModel):
    """Both channels of an AXI DMA; pynq's ``pynq.lib.dma.DMA`` drives it."""

    vlnv = DMA_VLNV

    def __init__(self, fabric: "Fabric", spec: IPSpec) -> None:
        super().__init__(fabric, spec)
        if spec.parameters.get("c_include_sg", "0") != "0":
            from labkit.errors import DesignError

            raise DesignError(f"{spec.name}: scatter-gather mode (c_include_sg = 1) is not simulated; the simulated "
                              f"AXI DMA runs direct register mode only. Rebuild the design with 'Enable Scatter "
                              f"Gather Engine' unchecked (pynq's DMA driver uses direct mode too).")
        self.mm2s = _Channel(self, MM2S, "mm2s")
        self.s2mm = _Channel(self, S2MM, "s2mm")
        self.reset()

    def on_reset(self) -> None:
        self.mm2s.reset()
        self.s2mm.reset()

    def soft_reset(self) -> None:
        """DMACR.Reset: both channels back to their reset state, transfers in flight dropped."""
        for channel in (self.mm2s, self.s2mm):
            if channel.stream is not None:
                channel.stream.withdraw(channel)
            channel.reset()

    def memory_bytes(self, direction: str) -> float:
        """Bytes per cycle the memory side moves: the DMA's AXI-MM width, capped by the PS port it reaches."""
        params = self.spec.parameters
        bits = int(params.get(f"c_m_axi_{direction}_data_width", "64"))
        port_bits = params.get("labkit_memory_port_width")  # from the .hwh's PS parameters (hwh.py)
        if port_bits:
            bits = min(bits, int(port_bits))
        return bits / 8

    def connect(self) -> None:
        self.mm2s.stream = self.fabric.channel_out(self.name, "M_AXIS_MM2S")
        self.s2mm.stream = self.fabric.channel_in(self.name, "S_AXIS_S2MM")

    def stream_width(self, port: str) -> int:
        return {"M_AXIS_MM2S": self.mm2s.width, "S_AXIS_S2MM": self.s2mm.width}[port]

    def shutdown(self) -> None:
        self.soft_reset()
