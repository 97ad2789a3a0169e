"""pp_store: the store stage (SB) of the double-buffer design.

The blog's ``dma_sending`` IP: results arrive from the compute IP on an
AXI-Stream and leave through the S2MM DMA back to DDR. It keeps two output
buffers, OFM_0 and OFM_1, in BRAM between calls.

* ``pingpong=1``: a call collects the incoming results into one buffer while
  it sends the other -- the one collected by the *previous* call -- to the
  DMA (the first call sends zeros). ``num`` (its parity) picks the buffers.
* ``pingpong=0``: pass-through: each beat goes straight out again, so the
  store overlaps the compute completely and no buffer is involved.

The last beat of every call carries TLAST: the S2MM DMA ends its transfer on
it (a TLAST that never fires leaves ``dma.recvchannel.wait()`` hanging).

C++ source: ``hls/pp_store/``.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from . import _status
from ._common import ADDR_RANGE, AXI_LITE_PORT, AXIS_INPUT, AXIS_OUTPUT  # every kernel's
from ._common import (RegisterTable, as_u32_words, check_stream_args, kernel_registers,
                      pipelined_loop_cycles, raise_for_code, scalar_argument, tlast_flags, vlnv)

__all__ = [
    "KERNEL", "VLNV", "ADDR_RANGE", "AXI_LITE_PORT", "AXIS_INPUT", "AXIS_OUTPUT",
    "MAX_N", "REGISTERS", "check_args", "Model", "stage_cycles", "cycles",
]

KERNEL = "pp_store"
VLNV = vlnv(KERNEL)

#: Words per output buffer (PP_ST_MAX_N in hls/pp_store/pp_store.h).
MAX_N = 32768

REGISTERS: RegisterTable = kernel_registers(
    scalar_argument("num", "call counter; its parity picks the buffers"),
    scalar_argument("n", f"beats per call (1..{MAX_N})"),
    scalar_argument("pingpong", "0: pass-through; 1: double-buffered"),
)
NUM_OFFSET = REGISTERS["num"]["address_offset"]            # 0x10
N_OFFSET = REGISTERS["n"]["address_offset"]                # 0x18
PINGPONG_OFFSET = REGISTERS["pingpong"]["address_offset"]  # 0x20

# --- cycle model (comment in hls/pp_store/pp_store.cpp) --------------------
#: RD_FIRE loop (read_from_fire): PIPELINE II=1.
II_READ = 1
#: RD_FIRE depth (estimate): take the beat, write the BRAM.
READ_PIPELINE_DEPTH = 2
#: WR loop (write_data): PIPELINE II=1.
II_WRITE = 1
#: WR depth (estimate): BRAM read (1), register the output beat.
WRITE_PIPELINE_DEPTH = 3
#: PASS loop (pingpong=0): PIPELINE II=1, reads and writes a beat per cycle.
II_PASS = 1
#: PASS depth (estimate): take the beat, register it on the output.
PASS_PIPELINE_DEPTH = 2
#: Per call: ap_start -> first state, last state -> ap_done.
CALL_OVERHEAD = 2


def check_args(in_len: int, n: int, out_cap: Optional[int] = None) -> int:
    """The bridge's verdict before it runs: 0 or a negative code (see
    :func:`labkit.kernels.pp_load_compute.check_args`)."""
    return check_stream_args(in_len, n, MAX_N, out_cap)


class Model:
    """The kernel in numpy, with its two buffers kept between calls.

    >>> twin = Model()
    >>> twin.run(np.array([5, 6], np.uint32), num=0, n=2, pingpong=1)[0]
    array([0, 0], dtype=uint32)
    >>> twin.run(np.array([7, 8], np.uint32), num=1, n=2, pingpong=1)[0]
    array([5, 6], dtype=uint32)
    """

    def __init__(self) -> None:
        self.ofm_0 = np.zeros(MAX_N, dtype=np.uint32)
        self.ofm_1 = np.zeros(MAX_N, dtype=np.uint32)

    def buffers(self, num: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(collect, send)`` for a double-buffered call with this ``num``."""
        if num % 2 == 0:
            return self.ofm_0, self.ofm_1
        return self.ofm_1, self.ofm_0

    def run(self, in_words: np.ndarray, num: int, n: int,
            pingpong: int) -> Tuple[np.ndarray, np.ndarray]:
        """One call: returns ``(out_words, out_last)`` (uint32, uint8 arrays).

        Raises :class:`~labkit.kernels._common.KernelArgumentError` where the
        bridge returns an error code; a dry input first leaves the beats that
        arrived in the collect buffer (pingpong=1), as on the board.
        """
        words = as_u32_words(in_words, "in_words")
        raise_for_code(check_args(words.size, n), f"n={n}, {words.size} input beats")
        if words.size < n:
            if pingpong:
                collect, _ = self.buffers(num)
                collect[: words.size] = words
            raise_for_code(_status.LAB_ERR_INPUT_DRY, f"n={n} but only {words.size} input beats")
        if pingpong:
            collect, send = self.buffers(num)
            collect[:n] = words
            out = send[:n].copy()
        else:
            out = words[:n].copy()
        return out, tlast_flags(n)


def stage_cycles(n: int, pingpong: int) -> Dict[str, int]:
    """The two stages of one call, for a simulator that overlaps them.

    Returns cycles counted from ap_start: ``read`` (n input beats consumed),
    ``write`` (n output beats produced), ``read_start``, ``write_start``
    (both 0: with ``pingpong`` the two loops run side by side, without it one
    loop does both), ``overhead`` and ``latency`` (ap_start to ap_done if the
    streams never stall). Without ``pingpong`` output beat ``i`` leaves about
    PASS_PIPELINE_DEPTH cycles after input beat ``i`` arrives.
    """
    count = min(n, MAX_N)
    if pingpong:
        read = pipelined_loop_cycles(count, II_READ, READ_PIPELINE_DEPTH)
        write = pipelined_loop_cycles(count, II_WRITE, WRITE_PIPELINE_DEPTH)
        busy = max(read, write)
    else:
        read = write = busy = pipelined_loop_cycles(count, II_PASS, PASS_PIPELINE_DEPTH)
    return {
        "read": read,
        "write": write,
        "read_start": 0,
        "write_start": 0,
        "overhead": CALL_OVERHEAD,
        "latency": CALL_OVERHEAD + busy,
    }


def cycles(n: int, pingpong: int) -> int:
    """Modelled cycles from ap_start to ap_done (streams never stalling)."""
    return stage_cycles(n, pingpong)["latency"]
