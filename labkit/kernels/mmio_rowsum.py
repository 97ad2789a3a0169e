"""mmio_rowsum: the kernel whose input arrives through AXI-Lite (MMIO).

This is the kernel of the forum thread "MMIO write is too slow": the PS puts
a 70 x 80 image into a memory that sits inside the kernel's AXI-Lite address
window, one 32-bit bus write per word, then starts the kernel and reads one
sum per row back. Writing 5600 words with ``MMIO.write`` in a Python loop
takes 150-200 ms on a PYNQ-Z1; one ``mmio.array[a:b] = data`` slice about
1 ms; the kernel itself about 60 us.

Index vs address: ``mmio.array`` is indexed in 32-bit words, so the image
memory at byte offset ``0x8000`` is ``mmio.array[0x8000 // 4:]``.

16-bit pixels can be packed two per word (``pack16=1``): pixel ``2i`` in bits
15..0 of word ``i``, pixel ``2i+1`` in bits 31..16 -- half the bus writes.
:func:`pack_pixels16` does it with one numpy view.

C++ source: ``hls/mmio_rowsum/``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from . import _status
from ._common import ADDR_RANGE, AXI_LITE_PORT  # every kernel's
from ._common import (U32_MASK, RegisterTable, as_u32_words, kernel_registers,
                      pipelined_loop_cycles, raise_for_code, scalar_argument, vlnv)

__all__ = [
    "KERNEL", "VLNV", "ADDR_RANGE", "AXI_LITE_PORT", "MAX_WORDS", "MAX_ROWS",
    "PIXEL_BITS", "PIXEL_MASK", "PIXELS_PER_PACKED_WORD", "MEMORIES", "REGISTERS",
    "words_needed", "check_args", "pack_pixels16", "unpack_pixels", "model",
    "model_checked", "cycles",
]

KERNEL = "mmio_rowsum"
VLNV = vlnv(KERNEL)
# The image memory ends at the last byte of the AXI-Lite window (ADDR_RANGE).

# --- sizes (hls/mmio_rowsum/mmio_rowsum.h) ---------------------------------
MAX_WORDS = 8192
MAX_ROWS = 128
PIXEL_BITS = 16
PIXEL_MASK = 0xFFFF
PIXELS_PER_PACKED_WORD = 2

# --- address map (as Vitis HLS lays out the s_axilite bundle) --------------
#: The AXI-Lite registers in pynq's ip_dict "registers" format.
REGISTERS: RegisterTable = kernel_registers(
    scalar_argument("rows", "number of image rows (1..128)"),
    scalar_argument("cols", "pixels per row"),
    scalar_argument("pack16", "0: one pixel per word; 1: two 16-bit pixels per word"),
)
ROWS_OFFSET = REGISTERS["rows"]["address_offset"]       # 0x10
COLS_OFFSET = REGISTERS["cols"]["address_offset"]       # 0x18
PACK16_OFFSET = REGISTERS["pack16"]["address_offset"]   # 0x20
#: Each memory is aligned to its own (power-of-two) size: 128 words = 0x200
#: bytes -> 0x0200-0x03FF; 8192 words = 0x8000 bytes -> 0x8000-0xFFFF.
ROWSUM_OFFSET = 0x0200
IMAGE_OFFSET = 0x8000

#: The two AXI-Lite memories: byte offset in the window and size in words.
MEMORIES = {
    "image": {"offset": IMAGE_OFFSET, "words": MAX_WORDS},
    "rowsum": {"offset": ROWSUM_OFFSET, "words": MAX_ROWS},
}

# --- cycle model (comment in hls/mmio_rowsum/mmio_rowsum.cpp) --------------
#: COLS loop: PIPELINE II=1 -- one read of the image memory per cycle.
II_COLS = 1
#: COLS pipeline depth (estimate): address, memory read (2 cycles with the
#: registered BRAM output), add.
COLS_PIPELINE_DEPTH = 4
#: Per ROWS iteration outside COLS: loop entry/exit and the rowsum[r] write.
ROW_OVERHEAD = 2
#: Per call: ap_start sampling and the size checks, and raising ap_done.
CALL_OVERHEAD = 3


def words_needed(rows: int, cols: int, pack16: int) -> int:
    """Image words that ``rows x cols`` pixels occupy."""
    pixels = rows * cols
    if pack16:
        return (pixels + PIXELS_PER_PACKED_WORD - 1) // PIXELS_PER_PACKED_WORD
    return pixels


def check_args(rows: int, cols: int, pack16: int) -> int:
    """The bridge's verdict on the sizes: 0, or a negative code.

    Whenever this is not 0 the kernel itself writes nothing (it checks the
    same conditions and returns at once) -- the board shows ap_done and
    unchanged results. The code says why.
    """
    if rows == 0 or cols == 0:
        return _status.LAB_ERR_ZERO_LENGTH
    if rows > MAX_ROWS or words_needed(rows, cols, pack16) > MAX_WORDS:
        return _status.LAB_ERR_TOO_LARGE
    return _status.LAB_OK


def pack_pixels16(pixels: np.ndarray) -> np.ndarray:
    """Pack 16-bit pixels two per 32-bit word, little-endian (``pack16=1``).

    An odd count is padded with one zero pixel. On a little-endian CPU
    (ARM and x86 both are) this is just a view of the uint16 data.
    """
    flat = np.ascontiguousarray(pixels, dtype=np.uint16).reshape(-1)
    if flat.size % PIXELS_PER_PACKED_WORD:
        flat = np.concatenate([flat, np.zeros(1, dtype=np.uint16)])
    low = flat[0::2].astype(np.uint32)
    high = flat[1::2].astype(np.uint32)
    return low | (high << PIXEL_BITS)


def unpack_pixels(image: np.ndarray, count: int, pack16: int) -> np.ndarray:
    """The first ``count`` pixels of the image memory as uint32 values."""
    words = as_u32_words(image, "image")
    if not pack16:
        return words[:count]
    pixels = np.empty(words.size * PIXELS_PER_PACKED_WORD, dtype=np.uint32)
    pixels[0::2] = words & PIXEL_MASK
    pixels[1::2] = words >> PIXEL_BITS
    return pixels[:count]


def model(image: np.ndarray, rows: int, cols: int, pack16: int,
          rowsum: Optional[np.ndarray] = None) -> np.ndarray:
    """The kernel in numpy: the rowsum memory after one run.

    ``image`` is the image memory (up to 8192 words; missing words count as
    zeros); ``rowsum`` the result memory before the run (zeros if omitted).
    Returns a new 128-word uint32 array: ``rowsum[r]`` is the sum of row
    ``r`` modulo 2**32 for ``r < rows``; other words are unchanged. For sizes
    :func:`check_args` rejects, nothing changes (as on the board).
    """
    words = as_u32_words(image, "image")
    if words.size > MAX_WORDS:
        raise ValueError(f"image memory has {MAX_WORDS} words, got {words.size}")
    memory = np.zeros(MAX_WORDS, dtype=np.uint32)
    memory[: words.size] = words
    result = (np.zeros(MAX_ROWS, dtype=np.uint32) if rowsum is None
              else as_u32_words(rowsum, "rowsum").copy())
    if result.size != MAX_ROWS:
        raise ValueError(f"rowsum memory has {MAX_ROWS} words, got {result.size}")
    if check_args(rows, cols, pack16) != _status.LAB_OK:
        return result
    pixels = unpack_pixels(memory, rows * cols, pack16).reshape(rows, cols)
    # uint64 cannot overflow here (16384 values < 2**32 each), then wrap to 32 bits.
    sums = pixels.astype(np.uint64).sum(axis=1) & U32_MASK
    result[:rows] = sums.astype(np.uint32)
    return result


def model_checked(image: np.ndarray, rows: int, cols: int, pack16: int,
                  rowsum: Optional[np.ndarray] = None) -> np.ndarray:
    """Like :func:`model`, but raises :class:`KernelArgumentError` for sizes
    the bridge refuses -- handy in exercises, where silence hides the bug."""
    raise_for_code(check_args(rows, cols, pack16), f"rows={rows}, cols={cols}, pack16={pack16}")
    return model(image, rows, cols, pack16, rowsum)


def cycles(rows: int, cols: int, pack16: int = 0) -> int:
    """Modelled kernel cycles from ap_start to ap_done.

    ``CALL_OVERHEAD + rows * ((cols - 1) * II_COLS + COLS_PIPELINE_DEPTH
    + ROW_OVERHEAD)`` -- the COLS pipeline drains and refills on every row.
    Refused sizes cost only ``CALL_OVERHEAD``. ``pack16`` does not change the
    count: the kernel still handles one pixel per cycle.
    """
    if check_args(rows, cols, pack16) != _status.LAB_OK:
        return CALL_OVERHEAD
    per_row = pipelined_loop_cycles(cols, II_COLS, COLS_PIPELINE_DEPTH) + ROW_OVERHEAD
    return CALL_OVERHEAD + rows * per_row
