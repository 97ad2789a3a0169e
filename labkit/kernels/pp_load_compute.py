"""pp_load_compute: load (LB) + compute (COM) of the double-buffer design.

The blog "Design NN on ZCU102 (3) -- Double Buffer Design" splits the work
into three tasks: LB loads an input buffer from DDR through a DMA, COM
computes on it, SB stores the results. This kernel is LB + COM (the blog's
``dma_test``): it keeps two input buffers, IFM_0 and IFM_1, in BRAM between
calls.

* ``pingpong=1``: a call loads one buffer while it computes on the other --
  the one loaded by the *previous* call. Load and compute overlap, but the
  output of call ``k`` belongs to the input of call ``k-1`` (the first call
  computes on zeros). ``num`` (its parity) picks the buffers.
* ``pingpong=0``: a call loads IFM_0 and then computes on it: the output
  belongs to the same call, but the two stages take turns.

compute ("fire") sends ``IFM[i] + op`` (mod 2**32) with TLAST on the last beat.

C++ source: ``hls/pp_load_compute/``.
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

KERNEL = "pp_load_compute"
VLNV = vlnv(KERNEL)

#: Words per input buffer (PP_LC_MAX_N in hls/pp_load_compute/pp_load_compute.h).
MAX_N = 16384

REGISTERS: RegisterTable = kernel_registers(
    scalar_argument("num", "call counter; its parity picks the buffers"),
    scalar_argument("op", "added to every word by fire()"),
    scalar_argument("n", f"beats per call (1..{MAX_N})"),
    scalar_argument("pingpong", "0: load then compute; 1: double-buffered"),
)
NUM_OFFSET = REGISTERS["num"]["address_offset"]            # 0x10
OP_OFFSET = REGISTERS["op"]["address_offset"]              # 0x18
N_OFFSET = REGISTERS["n"]["address_offset"]                # 0x20
PINGPONG_OFFSET = REGISTERS["pingpong"]["address_offset"]  # 0x28

# --- cycle model (comment in hls/pp_load_compute/pp_load_compute.cpp) ------
#: RD loop (read_data): PIPELINE II=1, one stream beat per cycle.
II_READ = 1
#: RD depth (estimate): take the beat from the stream, write the BRAM.
READ_PIPELINE_DEPTH = 2
#: FIRE loop: PIPELINE II=1, one output beat per cycle.
II_FIRE = 1
#: FIRE depth (estimate): BRAM read (1), add, register the output beat.
FIRE_PIPELINE_DEPTH = 3
#: Per call: ap_start -> first state, last state -> ap_done.
CALL_OVERHEAD = 2


def check_args(in_len: int, n: int, out_cap: Optional[int] = None) -> int:
    """The bridge's verdict before it runs: 0 or a negative code.

    A short input (``in_len < n``) passes this check: the bridge runs and
    reports ``LAB_ERR_INPUT_DRY`` when the stream runs out.
    """
    return check_stream_args(in_len, n, MAX_N, out_cap)


class Model:
    """The kernel in numpy, with its two buffers kept between calls.

    >>> twin = Model()
    >>> twin.run(np.array([5, 6], np.uint32), num=0, op=1, n=2, pingpong=1)[0]
    array([1, 1], dtype=uint32)
    >>> twin.run(np.array([7, 8], np.uint32), num=1, op=1, n=2, pingpong=1)[0]
    array([6, 7], dtype=uint32)
    """

    def __init__(self) -> None:
        self.ifm_0 = np.zeros(MAX_N, dtype=np.uint32)
        self.ifm_1 = np.zeros(MAX_N, dtype=np.uint32)

    def buffers(self, num: int, pingpong: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(load, compute)``: the buffer read_data fills and the one fire reads."""
        if not pingpong:
            return self.ifm_0, self.ifm_0
        if num % 2 == 0:
            return self.ifm_0, self.ifm_1
        return self.ifm_1, self.ifm_0

    def run(self, in_words: np.ndarray, num: int, op: int, n: int,
            pingpong: int) -> Tuple[np.ndarray, np.ndarray]:
        """One call: returns ``(out_words, out_last)`` (uint32, uint8 arrays).

        Raises :class:`~labkit.kernels._common.KernelArgumentError` where the
        bridge returns an error code. If the input runs dry, the beats that
        did arrive stay in the load buffer (as on the board) before it raises.
        """
        words = as_u32_words(in_words, "in_words")
        raise_for_code(check_args(words.size, n), f"n={n}, {words.size} input beats")
        load, compute = self.buffers(num, pingpong)
        if words.size < n:
            load[: words.size] = words
            raise_for_code(_status.LAB_ERR_INPUT_DRY, f"n={n} but only {words.size} input beats")
        load[:n] = words
        # uint32 arithmetic wraps modulo 2**32, like the kernel's adder.
        out = compute[:n] + np.uint32(op & 0xFFFF_FFFF)
        return out, tlast_flags(n)


def stage_cycles(n: int, pingpong: int) -> Dict[str, int]:
    """The two stages of one call, for a simulator that overlaps them.

    Returns cycles counted from ap_start:

    * ``read``: read_data consumes ``n`` input beats, one per cycle;
    * ``compute``: fire produces ``n`` output beats, one per cycle;
    * ``read_start`` / ``compute_start``: when each stage begins (with
      ``pingpong`` both at 0 -- they run side by side; without, fire waits
      for read_data);
    * ``overhead``: CALL_OVERHEAD; ``latency``: ap_start to ap_done if the
      streams never stall.
    ``n`` is clamped to MAX_N, as in the kernel.
    """
    count = min(n, MAX_N)
    read = pipelined_loop_cycles(count, II_READ, READ_PIPELINE_DEPTH)
    compute = pipelined_loop_cycles(count, II_FIRE, FIRE_PIPELINE_DEPTH)
    if pingpong:
        compute_start = 0
        latency = CALL_OVERHEAD + max(read, compute)
    else:
        compute_start = read
        latency = CALL_OVERHEAD + read + compute
    return {
        "read": read,
        "compute": compute,
        "read_start": 0,
        "compute_start": compute_start,
        "overhead": CALL_OVERHEAD,
        "latency": latency,
    }


def cycles(n: int, pingpong: int) -> int:
    """Modelled cycles from ap_start to ap_done (streams never stalling)."""
    return stage_cycles(n, pingpong)["latency"]
