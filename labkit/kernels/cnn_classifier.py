"""cnn_classifier: the digit classifier as a streaming PL kernel.

A batch of 28x28 digit images goes in on a 64-bit AXI-Stream (from the MM2S
DMA), ten int32 class scores per image come out on a 32-bit AXI-Stream (to
the S2MM DMA), TLAST on the very last beat of the batch. The network and its
integer arithmetic are those of :mod:`labkit.classifier.reference`; this
module adds what the stream and the registers look like, the cycle model,
and a numpy twin of the whole kernel run that is bit for bit equal to the
C++ bridge (``hls/cnn_classifier/bridge.cpp``).

Stream format:

* input: pixel ``k`` (``k = 28 * row + col``) of image ``n`` is byte ``k % 8``
  (little-endian) of beat ``98 * n + k // 8``; :func:`pack_images` does it;
* output: beat ``10 * n + c`` is the score of digit ``c`` for image ``n``, as
  the 32 bits of an int32 (:func:`scores_from_words` turns them back).

C++ source: ``hls/cnn_classifier/``.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from labkit.classifier.reference import (
    IMAGE_SIDE, N_CLASSES, QuantizedCNN, as_image_batch, classify_reference)

from . import _status
from ._common import ADDR_RANGE, AXI_LITE_PORT, AXIS_INPUT, AXIS_OUTPUT  # every kernel's
from ._common import (RegisterTable, check_stream_args, kernel_registers, pipelined_loop_cycles,
                      raise_for_code, scalar_argument, tlast_flags, vlnv)

__all__ = [
    "KERNEL", "VLNV", "ADDR_RANGE", "AXI_LITE_PORT", "AXIS_INPUT", "AXIS_OUTPUT",
    "MAX_BATCH", "PIXELS_PER_BEAT", "BEATS_PER_IMAGE", "SCORES_PER_IMAGE", "BATCH_OFFSET",
    "REGISTERS", "STAGES", "pack_images", "unpack_images", "scores_from_words",
    "check_args", "model", "stage_cycles", "image_cycles", "cycles",
]

KERNEL = "cnn_classifier"
VLNV = vlnv(KERNEL)
# AXIS_INPUT has 64-bit TDATA here, AXIS_OUTPUT 32-bit.

#: Largest batch the bridge accepts (CNN_MAX_BATCH in cnn_classifier.h).
MAX_BATCH = 256
#: A 64-bit input beat carries 8 one-byte pixels.
PIXELS_PER_BEAT = 8
#: 784 pixels / 8 = 98 input beats per image (CNN_BEATS_PER_IMAGE).
BEATS_PER_IMAGE = IMAGE_SIDE * IMAGE_SIDE // PIXELS_PER_BEAT
#: One 32-bit output beat per class (CNN_SCORES_PER_IMAGE).
SCORES_PER_IMAGE = N_CLASSES

REGISTERS: RegisterTable = kernel_registers(
    scalar_argument("batch", f"images per run (1..{MAX_BATCH}); 0 runs nothing"),
)
BATCH_OFFSET = REGISTERS["batch"]["address_offset"]   # 0x10

# --- cycle model (the table in hls/cnn_classifier/cnn_classifier.cpp) -------
#: stage -> (trip count, II, pipeline depth) of its flattened, pipelined loop
#: nest. Trip counts and II are what the pragmas ask for; the depths are
#: estimates (address, ROM read, multiply, add, rescale), to be checked
#: against the csynth report.
STAGES: Dict[str, Tuple[int, int, int]] = {
    "read": (BEATS_PER_IMAGE, 1, 2),           # one beat, 8 pixels, per cycle
    "conv1": (13 * 13 * 2 * 2 * 3 * 3, 1, 10),  # pooled pixel x window x tap
    "conv2": (5 * 5 * 2 * 2 * 8 * 3 * 3, 1, 10),  # ... x input channel x tap
    "fc": (16 * 5 * 5, 1, 5),                  # one input activation per cycle
    "write": (SCORES_PER_IMAGE, 1, 2),         # one score beat per cycle
}
#: Each stage is a function call: ap_start/ap_done handshake of the sub-block.
CALL_OVERHEAD = 2
#: The IMAGES loop's own test and increment, per image.
IMAGE_LOOP_OVERHEAD = 1
#: ap_start -> first image, last image -> ap_done.
START_OVERHEAD = 3


def pack_images(images: np.ndarray) -> np.ndarray:
    """Images -> the uint64 input beats, 98 per image (little-endian bytes).

    Args:
        images: uint8 [B,28,28] or [28,28] (see
            :func:`labkit.classifier.reference.as_image_batch`).

    Returns:
        uint64 [B*98]: beat ``b`` of image ``n`` holds its pixels
        ``8b .. 8b+7``, pixel ``8b`` in the low byte.
    """
    flat = np.ascontiguousarray(as_image_batch(images)).reshape(-1)
    return flat.view("<u8").astype(np.uint64)


def unpack_images(beats: np.ndarray) -> np.ndarray:
    """The inverse of :func:`pack_images`: uint64 beats -> uint8 [B,28,28]."""
    words = np.ascontiguousarray(beats, dtype=np.uint64).reshape(-1)
    if words.size % BEATS_PER_IMAGE:
        raise ValueError(f"{words.size} beats is not a whole number of images "
                         f"({BEATS_PER_IMAGE} beats each)")
    return words.astype("<u8").view(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)


def scores_from_words(words: np.ndarray) -> np.ndarray:
    """Output beats (uint32) -> int32 scores [B,10] (same bits, read as signed)."""
    w = np.ascontiguousarray(words, dtype=np.uint32).reshape(-1)
    if w.size % SCORES_PER_IMAGE:
        raise ValueError(f"{w.size} words is not a whole number of images "
                         f"({SCORES_PER_IMAGE} scores each)")
    return w.view(np.int32).reshape(-1, SCORES_PER_IMAGE)


def check_args(in_len: int, batch: int, out_cap: Optional[int] = None) -> int:
    """The bridge's verdict before it runs: ``LAB_OK`` or a negative code.

    Same order of checks as ``lab_cnn_classifier``: batch 0, batch too large,
    output buffer too small, too many input beats. Too *few* input beats is
    only found while running (``LAB_ERR_INPUT_DRY``).
    """
    return check_stream_args(in_len, batch, MAX_BATCH, out_cap,
                             in_beats_per=BEATS_PER_IMAGE, out_beats_per=SCORES_PER_IMAGE)


def model(beats: np.ndarray, batch: int,
          weights: Optional[QuantizedCNN] = None) -> Tuple[np.ndarray, np.ndarray]:
    """One kernel run in numpy, bit for bit like the C++ bridge.

    Args:
        beats: the input beats (uint64, or any integers that fit 64 bits),
            ``98 * batch`` of them (see :func:`pack_images`).
        batch: the ``batch`` register.
        weights: default the committed weights (those compiled into the kernel).

    Returns:
        ``(words, last)``: uint32 [10*batch] output beats (int32 scores as
        raw bits) and uint8 [10*batch] TLAST flags, 1 only on the last beat.

    Raises:
        KernelArgumentError: where the bridge returns an error code (its
            ``code`` attribute holds that code).
    """
    words_in = np.asarray(beats)
    if words_in.dtype != np.uint64:
        if not np.issubdtype(words_in.dtype, np.integer) or (
                words_in.size and words_in.min() < 0):
            raise TypeError(f"beats must be unsigned 64-bit integers, got {words_in.dtype}")
        words_in = words_in.astype(np.uint64)
    words_in = words_in.reshape(-1)
    raise_for_code(check_args(words_in.size, batch),
                   f"batch={batch}, {words_in.size} input beats")
    if words_in.size < batch * BEATS_PER_IMAGE:
        raise_for_code(_status.LAB_ERR_INPUT_DRY,
                       f"batch={batch} needs {batch * BEATS_PER_IMAGE} input beats, got "
                       f"{words_in.size}")
    scores = classify_reference(unpack_images(words_in), weights)
    words = scores.reshape(-1).view(np.uint32).copy()
    return words, tlast_flags(words.size)


def stage_cycles() -> Dict[str, int]:
    """Cycles of each stage for one image: ``(trip - 1) * II + depth``."""
    return {name: pipelined_loop_cycles(trip, ii, depth)
            for name, (trip, ii, depth) in STAGES.items()}


def image_cycles() -> int:
    """Modelled cycles per image: the stages one after another, plus overheads.

    13,827 cycles = 138.3 us at 100 MHz.
    """
    return (sum(stage_cycles().values()) + len(STAGES) * CALL_OVERHEAD
            + IMAGE_LOOP_OVERHEAD)


def cycles(batch: int) -> int:
    """Modelled cycles from ap_start to ap_done for a batch (streams never stalling).

    ``START_OVERHEAD + batch * image_cycles()``: the images are processed one
    after another, each stage after the previous one (no DATAFLOW overlap).
    ``batch = 0`` still costs the start/done handshake.
    """
    if batch < 0:
        raise ValueError(f"batch must be >= 0, got {batch}")
    return START_OVERHEAD + batch * image_cycles()
