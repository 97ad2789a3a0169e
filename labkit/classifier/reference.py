"""Integer reference model of the digit classifier (numpy).

This is the "golden" model: the HLS kernel in ``hls/cnn_classifier/`` computes
exactly the same integers, bit for bit, and the tests check that. It is also
what the PS runs when the lab compares "software on the ARM" with "the
accelerator in the PL".

The network (weights in ``weights/digits_cnn_int8.npz``, made by
``tools/train_classifier.py``)::

    image  uint8 [28,28]   pixels 0..255, white digit on black (MNIST style)
    conv1  3x3, 1 -> 8 channels, no padding   -> int32 acc [8,26,26]
           rescale to uint8 (includes ReLU)    -> uint8 [8,26,26]
    pool1  2x2 max                              -> uint8 [8,13,13]
    conv2  3x3, 8 -> 16 channels, no padding  -> int32 acc [16,11,11]
           rescale to uint8 (includes ReLU)    -> uint8 [16,11,11]
    pool2  2x2 max (last row/column dropped)   -> uint8 [16,5,5]
    fc     400 -> 10                            -> int32 scores [10]

How the integers relate to real numbers (the quantization scheme):

* every tensor ``t`` stands for the real tensor ``scale_t * t``; there are no
  zero points (weights are symmetric around 0; activations follow a ReLU so
  they are >= 0 and fit uint8 with 0 meaning 0.0);
* the input pixel ``p`` means ``p / 255``;
* weights are int8 in -127..127: per output channel scales for conv1 and conv2,
  one scale for the whole fc layer (so that the 10 scores share one scale and
  can be compared with each other);
* biases are int32 with scale ``scale_in * scale_w`` so they add straight onto
  the accumulator;
* between layers the int32 accumulator is rescaled to the next layer's uint8
  scale with a fixed-point multiply: ``(acc * M + 2**(shift-1)) >> shift``, i.e.
  ``acc * M / 2**shift`` rounded half up, where the int32 ``M`` (2**30 <= M <
  2**31) and ``shift`` encode the real factor ``scale_in * scale_w / scale_out``
  (the scheme of gemmlowp / TensorFlow Lite); the result is clamped to
  0..255, and the clamp at 0 *is* the ReLU;
* the fc layer is not rescaled: its int32 accumulators are the class scores;
  the predicted digit is the index of the largest score.

Every step is integer arithmetic (int64 in numpy so nothing can overflow; the
C++ uses int32 accumulators, which :func:`load_weights` proves wide enough).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from labkit.errors import LabkitError

__all__ = [
    "IMAGE_SIDE", "N_CLASSES", "WEIGHTS_PATH", "QuantizedCNN",
    "ImageFormatError", "WeightsError",
    "load_weights", "as_image_batch", "requantize", "classify_reference", "predict",
]

IMAGE_SIDE = 28               #: input images are IMAGE_SIDE x IMAGE_SIDE pixels
N_CLASSES = 10                #: digits 0..9
KERNEL = 3                    #: both convolutions are 3x3, stride 1, no padding
POOL = 2                      #: both max-pools are 2x2, stride 2
UINT8_MAX = 255
INT32_MAX = 2**31 - 1
MULTIPLIER_MIN = 2**30        #: requantization multipliers are normalised to
MULTIPLIER_MAX = 2**31 - 1    #: [2**30, 2**31) so they keep 31 significant bits

#: Where the committed weights live.
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "digits_cnn_int8.npz"

#: Integer tensors the weights file must hold, with their dtypes.
_TENSORS = {
    "conv1_w": np.int8, "conv1_b": np.int32, "conv1_m": np.int32, "conv1_shift": np.int32,
    "conv2_w": np.int8, "conv2_b": np.int32, "conv2_m": np.int32, "conv2_shift": np.int32,
    "fc_w": np.int8, "fc_b": np.int32,
}


class ImageFormatError(LabkitError, ValueError):
    """The images are not uint8 [B,28,28] (or [28,28]) pixels 0..255; the message says what was given."""


class WeightsError(LabkitError, ValueError):
    """A weights file is incomplete, or its integers could overflow the int32 datapath."""


@dataclass(frozen=True)
class QuantizedCNN:
    """The integer weights of the classifier (all numpy arrays).

    Shapes: ``conv1_w`` [8,1,3,3], ``conv2_w`` [16,8,3,3], ``fc_w`` [10,400]
    (int8); biases int32 per output; ``conv*_m`` / ``conv*_shift`` int32 per
    output channel (the fixed-point rescaling). ``meta`` holds the training
    record (seed, torch version, accuracies, ...).
    """

    conv1_w: np.ndarray
    conv1_b: np.ndarray
    conv1_m: np.ndarray
    conv1_shift: np.ndarray
    conv2_w: np.ndarray
    conv2_b: np.ndarray
    conv2_m: np.ndarray
    conv2_shift: np.ndarray
    fc_w: np.ndarray
    fc_b: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def _worst_case_accumulator(w: np.ndarray, b: np.ndarray) -> int:
    """Largest |accumulator| any uint8 input can produce: sum|w| * 255 + |b|."""
    per_output = np.abs(w.astype(np.int64)).reshape(w.shape[0], -1).sum(axis=1) * UINT8_MAX
    return int((per_output + np.abs(b.astype(np.int64))).max())


def _check_weights(q: QuantizedCNN, where: str) -> None:
    """Refuse weights that the int32 hardware datapath could not compute exactly."""
    c1, c2, fc = q.conv1_w.shape, q.conv2_w.shape, q.fc_w.shape
    if len(c1) != 4 or c1[1:] != (1, KERNEL, KERNEL) or len(c2) != 4 \
            or c2[1:] != (c1[0], KERNEL, KERNEL) or len(fc) != 2 or fc[0] != N_CLASSES:
        raise WeightsError(f"{where}: unexpected layer shapes conv1 {c1}, conv2 {c2}, fc {fc}")
    side = ((IMAGE_SIDE - KERNEL + 1) // POOL - KERNEL + 1) // POOL
    if fc[1] != c2[0] * side * side:
        raise WeightsError(f"{where}: fc has {fc[1]} inputs, conv2 gives {c2[0] * side * side}")
    for name in ("conv1", "conv2"):
        m, s = getattr(q, f"{name}_m"), getattr(q, f"{name}_shift")
        if m.min() < MULTIPLIER_MIN or m.max() > MULTIPLIER_MAX or s.min() < 1 or s.max() > 62:
            raise WeightsError(f"{where}: {name} multipliers must be in [2**30, 2**31) and "
                             f"shifts in 1..62, got {m.min()}..{m.max()}, {s.min()}..{s.max()}")
    for name in ("conv1", "conv2", "fc"):
        bound = _worst_case_accumulator(getattr(q, f"{name}_w"), getattr(q, f"{name}_b"))
        if bound > INT32_MAX:
            raise WeightsError(f"{where}: {name} accumulator could reach {bound}, "
                             "which does not fit an int32")


def load_weights(path: str | Path | None = None) -> QuantizedCNN:
    """Load the integer weights (default: the committed ``digits_cnn_int8.npz``).

    Raises:
        FileNotFoundError: no such file.
        WeightsError: a tensor is missing, has the wrong dtype, or the weights
            could overflow the int32 accumulators.
    """
    path = Path(path) if path is not None else WEIGHTS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"classifier weights not found: {path} "
                                "(run tools/train_classifier.py to make them)")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in _TENSORS if k not in data.files]
        if missing:
            raise WeightsError(f"{path}: missing tensors {missing}")
        arrays = {}
        for name, dtype in _TENSORS.items():
            if data[name].dtype != dtype:
                raise WeightsError(f"{path}: {name} should be {np.dtype(dtype).name}, "
                                 f"is {data[name].dtype}")
            arrays[name] = data[name]
        meta = json.loads(data["meta_json"].item()) if "meta_json" in data.files else {}
    weights = QuantizedCNN(**arrays, meta=meta)
    _check_weights(weights, str(path))
    return weights


_default_weights: QuantizedCNN | None = None


def _weights_or_default(weights: QuantizedCNN | None) -> QuantizedCNN:
    """The given weights, or the committed ones (loaded once, then kept)."""
    global _default_weights
    if weights is not None:
        return weights
    if _default_weights is None:
        _default_weights = load_weights()
    return _default_weights


def as_image_batch(images: np.ndarray) -> np.ndarray:
    """Check the input convention and return the images as uint8 [B,28,28].

    A single image [28,28] becomes a batch of one. Integer arrays of another
    dtype are converted if every value is 0..255.

    Raises:
        ImageFormatError: not a numpy array, wrong shape, a float/bool dtype,
            or values outside 0..255. The message says what was expected and
            what was given.
    """
    if not isinstance(images, np.ndarray):
        raise ImageFormatError("images must be a numpy array of uint8 pixels, "
                               f"got {type(images).__name__}")
    expected = f"uint8 pixels 0..255 of shape [B,{IMAGE_SIDE},{IMAGE_SIDE}] or [{IMAGE_SIDE},{IMAGE_SIDE}]"
    given_shape = images.shape
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ImageFormatError(f"expected {expected}, got shape {given_shape} "
                               "(resize or crop camera frames to 28x28 first)")
    if images.dtype == np.uint8:
        return images
    if images.dtype == np.bool_ or not np.issubdtype(images.dtype, np.integer):
        hint = ""
        if np.issubdtype(images.dtype, np.floating) and images.size and images.max() <= 1.0:
            hint = " (values look like 0..1: use (images * 255).round().astype(np.uint8))"
        raise ImageFormatError(f"expected {expected}, got dtype {images.dtype}{hint}")
    if images.size and (images.min() < 0 or images.max() > UINT8_MAX):
        raise ImageFormatError(f"expected {expected}, got values {images.min()}..{images.max()}")
    return images.astype(np.uint8)


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Rescale int32 accumulators to uint8 activations (fixed point, with ReLU).

    ``out = clamp((acc * multiplier + 2**(shift-1)) >> shift, 0, 255)`` per
    channel; ``acc`` is [B, C, H, W] and ``multiplier``/``shift`` are [C].
    ``>>`` on a negative number rounds towards minus infinity (arithmetic
    shift), so adding half of ``2**shift`` first rounds half up. The product
    fits an int64: |acc| < 2**31 and multiplier < 2**31.
    """
    m = multiplier.astype(np.int64)[:, None, None]
    s = shift.astype(np.int64)[:, None, None]
    scaled = (acc.astype(np.int64) * m + (np.int64(1) << (s - 1))) >> s
    return np.clip(scaled, 0, UINT8_MAX).astype(np.uint8)


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray, out_side: int) -> np.ndarray:
    """Valid 3x3 convolution (really a correlation, as in torch) of [B,C,H,W].

    Only the top-left ``out_side x out_side`` outputs are computed (conv2 needs
    10x10 of its 11x11 outputs: the pool after it drops the last row/column).
    Returns int64 accumulators [B, O, out_side, out_side] including the bias.
    """
    windows = sliding_window_view(x, (KERNEL, KERNEL), axis=(2, 3))[:, :, :out_side, :out_side]
    batch, chans = x.shape[:2]
    # [B, y, x, C*3*3] @ [C*3*3, O]: one matrix product does every output pixel.
    patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(batch, out_side, out_side, chans * KERNEL * KERNEL)
    acc = patches.astype(np.int64) @ w.reshape(w.shape[0], -1).T.astype(np.int64)
    return acc.transpose(0, 3, 1, 2) + b.astype(np.int64)[:, None, None]


def _maxpool2(x: np.ndarray) -> np.ndarray:
    """2x2 max pool, stride 2, of [B,C,H,W]; an odd last row/column is dropped."""
    b, c, h, w = x.shape
    h2, w2 = h // POOL, w // POOL
    x = x[:, :, :h2 * POOL, :w2 * POOL].reshape(b, c, h2, POOL, w2, POOL)
    return x.max(axis=(3, 5))


def classify_reference(images: np.ndarray, weights: QuantizedCNN | None = None) -> np.ndarray:
    """Class scores of a batch of digits, in exact integer arithmetic.

    Args:
        images: uint8 [B,28,28] (or one image [28,28]), white digit on black,
            0..255. Other integer dtypes are accepted if the values are 0..255.
        weights: integer weights; default the committed ones.

    Raises:
        ImageFormatError: wrong type, shape, dtype or value range.

    Returns:
        int32 scores [B,10] (one image gives [1,10]); the largest score is the
        predicted digit. These are exactly the numbers the accelerator returns.
    """
    q = _weights_or_default(weights)
    x = as_image_batch(images)[:, np.newaxis].astype(np.int64)     # [B,1,28,28]

    side1 = IMAGE_SIDE - KERNEL + 1                                   # 26
    a1 = _maxpool2(requantize(_conv3x3(x, q.conv1_w, q.conv1_b, side1),
                              q.conv1_m, q.conv1_shift))              # [B,8,13,13]
    side2 = (a1.shape[-1] - KERNEL + 1) // POOL * POOL                # 10 of 11 used
    a2 = _maxpool2(requantize(_conv3x3(a1.astype(np.int64), q.conv2_w, q.conv2_b, side2),
                              q.conv2_m, q.conv2_shift))              # [B,16,5,5]

    flat = a2.reshape(len(a2), q.fc_w.shape[1]).astype(np.int64)      # (channel, y, x) order
    scores = flat @ q.fc_w.T.astype(np.int64) + q.fc_b.astype(np.int64)
    return scores.astype(np.int32)    # fits: load_weights checked the worst case


def predict(images: np.ndarray, weights: QuantizedCNN | None = None) -> np.ndarray:
    """Predicted digits, uint8 [B]: the index of the largest score.

    On a tie the smaller digit wins (``numpy.argmax`` returns the first maximum;
    the driver does the same with the accelerator's scores).
    """
    return classify_reference(images, weights).argmax(axis=1).astype(np.uint8)
