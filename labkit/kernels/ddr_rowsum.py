"""ddr_rowsum: a kernel that reads DDR itself (a shared-DRAM AXI master).

This is the ZynqNet scheme: the PS and the PL share DDR. The PS allocates
contiguous buffers (``pynq.allocate``), writes their *physical* addresses and
the sizes into the kernel's registers, and starts it; the kernel fetches the
data through its own AXI master port (``m_axi_gmem``) -- no DMA engine and no
copy through AXI-Lite.

The catch: the PS caches are not coherent with the PL. Forget
``src.flush()`` (``sync_to_device``) before the run and the kernel reads stale
DDR; forget ``dst.invalidate()`` (``sync_from_device``) after it and the PS
reads stale cache lines.

``dst[r] = sum(src[r*cols : (r+1)*cols])`` modulo 2**32. Each row is one
sequential read burst; its latency is paid once per row.

C++ source: ``hls/ddr_rowsum/``.
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from . import _status
from ._common import ADDR_RANGE, AXI_LITE_PORT  # every kernel's
from ._common import (U32_MASK, WORD_BYTES, RegisterTable, as_u32_words, kernel_registers,
                      pipelined_loop_cycles, pointer_argument, scalar_argument, vlnv)

__all__ = [
    "KERNEL", "VLNV", "ADDR_RANGE", "AXI_LITE_PORT", "M_AXI_PORT", "M_AXI_ARGS",
    "BURST_BEATS", "REGISTERS", "rowsums", "check_args", "model", "cycles", "traffic",
]

KERNEL = "ddr_rowsum"
VLNV = vlnv(KERNEL)
#: The AXI master port (bundle "gmem") and the arguments that use it.
M_AXI_PORT = "m_axi_gmem"
M_AXI_ARGS = ("src", "dst")

#: Beats per AXI read burst (DDR_ROWSUM_BURST_BEATS; Vitis HLS's default
#: max_read_burst_length).
BURST_BEATS = 16

REGISTERS: RegisterTable = kernel_registers(
    pointer_argument("src", "physical address of the rows x cols input"),
    pointer_argument("dst", "physical address of the rows sums"),
    scalar_argument("rows", "number of rows"),
    scalar_argument("cols", "words per row"),
)
# A 64-bit pointer takes two data words plus one reserved word (12 bytes).
SRC_OFFSET = REGISTERS["src_1"]["address_offset"]   # 0x10 (low), 0x14 (high)
DST_OFFSET = REGISTERS["dst_1"]["address_offset"]   # 0x1C (low), 0x20 (high)
ROWS_OFFSET = REGISTERS["rows"]["address_offset"]   # 0x28
COLS_OFFSET = REGISTERS["cols"]["address_offset"]   # 0x30

# --- cycle model (comment in hls/ddr_rowsum/ddr_rowsum.cpp) ----------------
#: Cycles from a read request to its first data beat. 64 is the latency
#: Vitis HLS assumes for m_axi when it schedules the loop (UG1399, INTERFACE
#: "latency", default 64); the kernel's state machine waits that long per row.
M_AXI_READ_LATENCY = 64
#: Cycles from the dst[r] write to its write response, same default.
M_AXI_WRITE_LATENCY = 64
#: COLS loop: PIPELINE II=1, one 32-bit beat per cycle.
II_COLS = 1
#: COLS depth (estimate): take the beat, add, loop-carried accumulator.
COLS_PIPELINE_DEPTH = 3
#: Per ROWS iteration: loop bookkeeping (base += cols).
ROW_OVERHEAD = 1
#: Per call: ap_start -> first state, last state -> ap_done.
CALL_OVERHEAD = 2


def rowsums(matrix: np.ndarray) -> np.ndarray:
    """Sum of every row of a 2-D array of uint32 words, modulo 2**32."""
    m = np.asarray(matrix)
    if m.ndim != 2:
        raise ValueError("rowsums needs a 2-D array (rows x cols)")
    words = as_u32_words(m.reshape(-1), "matrix").reshape(m.shape)
    return (words.astype(np.uint64).sum(axis=1) & U32_MASK).astype(np.uint32)


def _decodes(addr: int, words: int, base: int, size: int) -> bool:
    if words == 0:
        return True
    if addr % WORD_BYTES:
        return False
    return base <= addr and addr + words * WORD_BYTES <= base + size


def check_args(ddr_phys_base: int, ddr_bytes: int, src_phys: int, dst_phys: int,
               rows: int, cols: int) -> int:
    """The bridge's verdict: 0 (runs), 1 (decode error, nothing touched), or
    ``LAB_ERR_BAD_WINDOW`` for a DDR window that is not word aligned.

    The src range is ``rows * cols`` words, the dst range ``rows`` words; an
    empty range is never checked (``rows == 0`` is a legal no-op and
    ``cols == 0`` only writes zeros to dst).
    """
    if ddr_phys_base % WORD_BYTES or ddr_bytes % WORD_BYTES:
        return _status.LAB_ERR_BAD_WINDOW
    if not (_decodes(src_phys, rows * cols, ddr_phys_base, ddr_bytes)
            and _decodes(dst_phys, rows, ddr_phys_base, ddr_bytes)):
        return _status.LAB_DECODE_ERROR
    return _status.LAB_OK


def model(ddr: np.ndarray, ddr_phys_base: int, src_phys: int, dst_phys: int,
          rows: int, cols: int) -> int:
    """The kernel in numpy, run on a simulated DDR region, in place.

    ``ddr`` is the region (a contiguous array of any dtype; its first byte
    has physical address ``ddr_phys_base``). Returns what the bridge returns:
    0 after the run, 1 for a decode error (nothing touched), or a negative
    code. As in the kernel, row ``r`` is read completely before ``dst[r]`` is
    written, so overlapping src/dst give the hardware's answer.
    """
    if not ddr.flags.c_contiguous or not ddr.flags.writeable:
        raise TypeError("ddr must be a writable C-contiguous array (it is updated in place)")
    code = check_args(ddr_phys_base, ddr.nbytes, src_phys, dst_phys, rows, cols)
    if code != _status.LAB_OK or rows == 0:
        return code
    memory = ddr.reshape(-1).view(np.uint32)
    src = (src_phys - ddr_phys_base) // WORD_BYTES
    dst = (dst_phys - ddr_phys_base) // WORD_BYTES
    count = rows * cols
    if cols == 0:
        memory[dst:dst + rows] = 0
    elif src + count <= dst or dst + rows <= src:
        memory[dst:dst + rows] = rowsums(memory[src:src + count].reshape(rows, cols))
    else:
        for r in range(rows):  # overlapping: one row at a time, like the kernel
            start = src + r * cols
            row = memory[start:start + cols].astype(np.uint64)
            memory[dst + r] = np.uint32(int(row.sum()) & U32_MASK)
    return _status.LAB_OK


def cycles(rows: int, cols: int) -> int:
    """Modelled cycles from ap_start to ap_done.

    ``CALL_OVERHEAD + rows * (M_AXI_READ_LATENCY + (cols - 1) * II_COLS
    + COLS_PIPELINE_DEPTH + M_AXI_WRITE_LATENCY + ROW_OVERHEAD)``; a row of
    zero columns skips the read. With few columns the two latencies dominate:
    that is why one long burst beats many short ones.
    """
    read = (M_AXI_READ_LATENCY + pipelined_loop_cycles(cols, II_COLS, COLS_PIPELINE_DEPTH)
            if cols else 0)
    per_row = read + M_AXI_WRITE_LATENCY + ROW_OVERHEAD
    return CALL_OVERHEAD + rows * per_row


def traffic(rows: int, cols: int) -> Dict[str, int]:
    """Bytes and AXI bursts on m_axi_gmem for one run (for the power model).

    Each row is read in bursts of at most BURST_BEATS beats; each ``dst[r]``
    is a one-beat write burst.
    """
    bursts_per_row = -(-cols // BURST_BEATS)  # ceil
    return {
        "read_bytes": rows * cols * WORD_BYTES,
        "write_bytes": rows * WORD_BYTES,
        "read_bursts": rows * bursts_per_row,
        "write_bursts": rows,
    }
