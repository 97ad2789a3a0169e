"""From a camera frame to the classifier's 28x28 input, with OpenCV, one visible step at a time.

The classifier was trained on MNIST digits: white strokes on black, the digit's
bounding box scaled so that its longer side is 20 pixels, and placed in a
28x28 field so that its centre of mass is in the middle.  A camera sees
something else entirely: dark ink on light paper, in colour, under uneven
light, anywhere in the picture and at any size.  :func:`preprocess` turns one
into the other:

=========  ======================================================================
step       what it does (OpenCV call)
=========  ======================================================================
gray       colour -> one brightness channel (``cv2.cvtColor``)
blurred    a small Gaussian blur, so sensor noise cannot pass for ink (``cv2.GaussianBlur``)
ink        Otsu's threshold, inverted: ink white (255), paper black (``cv2.threshold``)
digit      the largest blob of ink that is not cut by the frame's edge
           (``cv2.findContours`` on a slightly dilated copy, so a stroke broken in
           two still counts as one digit); everything else is erased
crop       the digit's bounding box plus a margin
box20      the digit scaled so its longer side is 20 pixels, aspect ratio kept
           (``cv2.resize`` with ``INTER_AREA``, which averages: grey edges as in MNIST)
input      placed in 28x28 with its centre of mass in the middle: the model's input
=========  ======================================================================

>>> from labkit.classifier import preprocess
>>> pre = preprocess(frame)            # frame: BGR uint8 H x W x 3 from a camera
>>> pre.found, pre.box                 # (True, (x, y, w, h)) in frame pixels
>>> pre.input                          # uint8 [28, 28], white digit on black
>>> pre                                # in Jupyter: every step as a picture

When there is no digit (blank paper, a frame of noise, a digit cut by the
edge) the result says so: ``found`` is False, ``input`` is None and
``reason`` explains.  Only a frame that is not a picture (wrong type, dtype,
shape or too small) raises :class:`FrameError`.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from labkit.errors import LabkitError

from .reference import IMAGE_SIDE

__all__ = ["Preprocessed", "FrameError", "preprocess", "check_frame", "annotate", "STEPS",
           "BOX_SIDE", "MIN_FRAME_SIDE", "MIN_CONTRAST"]

#: MNIST scales a digit's bounding box into a BOX_SIDE x BOX_SIDE box inside the 28x28 field.
BOX_SIDE = 20
#: Smallest frame accepted: nothing smaller can hold a 28x28 digit.
MIN_FRAME_SIDE = IMAGE_SIDE
#: Ink and paper must differ by at least this many grey levels (means of the two Otsu classes),
#: else the frame shows no marks at all (blank paper, a wall, a lens cap).
MIN_CONTRAST = 40
#: A digit must be at least this fraction of the frame's shorter side tall (or wide): smaller
#: blobs are specks, dust or text far away.
MIN_DIGIT_FRACTION = 0.12
#: Kernel of the noise blur, and of the dilation that joins broken strokes (fraction of the
#: frame's shorter side; at least 3 pixels).
BLUR_KERNEL = 5
JOIN_FRACTION = 0.025
#: The crop's margin around the digit, as a fraction of its longer side.
DEFAULT_MARGIN = 0.15

#: The names of the steps, in order (what ``Preprocessed.steps`` holds when a digit is found).
STEPS = ("gray", "blurred", "ink", "digit", "crop", "box20", "input")


class FrameError(LabkitError, ValueError):
    """A frame is not a picture :func:`preprocess` can read; the message says what was expected."""


@dataclass(frozen=True)
class Preprocessed:
    """What :func:`preprocess` made of one frame.

    Attributes:
        input: the model's input, uint8 [28, 28], white digit on black; None if no digit.
        steps: every intermediate image by name, in order (see :data:`STEPS`); all uint8.
            When no digit is found, the steps up to where it stopped.
        box: the digit's bounding box ``(x, y, w, h)`` in frame pixels, or None.
        reason: why no digit was found ("" when one was).
        threshold: the grey level Otsu's method chose between ink and paper.
        contrast: grey levels between the mean of the paper and the mean of the ink.
    """

    input: np.ndarray | None
    steps: dict[str, np.ndarray] = field(repr=False)
    box: tuple[int, int, int, int] | None
    reason: str = ""
    threshold: float = 0.0
    contrast: float = 0.0

    @property
    def found(self) -> bool:
        """True when a digit was found (``input`` is the model's input)."""
        return self.input is not None

    def __repr__(self) -> str:
        if self.found:
            return (f"Preprocessed(found digit at box={self.box}, threshold={self.threshold:.0f}, "
                    f"contrast={self.contrast:.0f}, steps={list(self.steps)})")
        return f"Preprocessed(no digit: {self.reason}; steps={list(self.steps)})"

    def _repr_html_(self) -> str:
        """Every step side by side (small images are enlarged, without smoothing)."""
        cells = []
        for name, image in self.steps.items():
            cells.append(f"<figure style='display:inline-block;margin:4px;text-align:center'>"
                         f"{_img_tag(image, min_height=84)}"
                         f"<figcaption style='font-size:small'>{html.escape(name)} "
                         f"{image.shape[1]}x{image.shape[0]}</figcaption></figure>")
        verdict = (f"digit at x={self.box[0]}, y={self.box[1]}, {self.box[2]}x{self.box[3]} pixels"
                   if self.found else f"no digit: {html.escape(self.reason)}")
        return (f"<div><div>{''.join(cells)}</div><div style='font-size:small'>{verdict}; "
                f"Otsu threshold {self.threshold:.0f}, ink/paper contrast {self.contrast:.0f} grey levels"
                f"</div></div>")


def _img_tag(image: np.ndarray, min_height: int = 0) -> str:
    """An <img> with the picture inline as PNG (no matplotlib, no files)."""
    ok, png = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - PNG encoding of a uint8 image does not fail
        return "<span>(image)</span>"
    height = max(min_height, image.shape[0])
    width = int(round(image.shape[1] * height / image.shape[0]))
    data = base64.b64encode(png.tobytes()).decode("ascii")
    return (f"<img src='data:image/png;base64,{data}' width='{width}' height='{height}' "
            f"style='image-rendering:pixelated;border:1px solid #ccc'/>")


# -- checking the frame --------------------------------------------------------------------------

_EXPECTED = "a camera frame: a numpy array of uint8 pixels, H x W x 3 (BGR, as OpenCV reads it) or H x W (grey)"


def check_frame(frame: object) -> np.ndarray:
    """Return ``frame`` if :func:`preprocess` can read it, else raise :class:`FrameError`.

    Accepted: uint8 arrays H x W (grey), H x W x 1, H x W x 3 (BGR) or H x W x 4 (BGRA), at
    least 28 pixels each way.  The message of the error says what was expected and what was given.
    """
    if not isinstance(frame, np.ndarray):
        hint = " (the source returned nothing: check source.read() before using the frame)" if frame is None else ""
        raise FrameError(f"expected {_EXPECTED}; got {type(frame).__name__}{hint}")
    if frame.size == 0:
        raise FrameError(f"expected {_EXPECTED}; got an empty array of shape {frame.shape}: "
                         "the camera or file gave no picture")
    if frame.ndim not in (2, 3):
        hint = " (a batch of frames? pass one frame at a time)" if frame.ndim == 4 else ""
        raise FrameError(f"expected {_EXPECTED}; got {frame.ndim} dimensions, shape {frame.shape}{hint}")
    if frame.ndim == 3 and frame.shape[2] not in (1, 3, 4):
        hint = " (channels first? use frame.transpose(1, 2, 0))" if frame.shape[0] in (1, 3, 4) else ""
        raise FrameError(f"expected 3 colour channels (BGR), or 1 (grey) or 4 (BGRA), in the last "
                         f"dimension; got {frame.shape[2]} channels, shape {frame.shape}{hint}")
    if frame.dtype != np.uint8:
        if np.issubdtype(frame.dtype, np.floating):
            hint = " (values 0..1? use (frame * 255).round().astype(np.uint8))"
        elif frame.dtype == np.uint16:
            hint = " (16-bit pixels? use (frame >> 8).astype(np.uint8))"
        else:
            hint = " (use frame.astype(np.uint8) if the values are 0..255)"
        raise FrameError(f"expected uint8 pixels 0..255; got dtype {frame.dtype}{hint}")
    height, width = frame.shape[:2]
    if min(height, width) < MIN_FRAME_SIDE:
        raise FrameError(f"the frame is {width}x{height} pixels; at least {MIN_FRAME_SIDE}x{MIN_FRAME_SIDE} "
                         "are needed to find a digit and scale it to the model's 28x28")
    return frame


def _to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    channels = frame.shape[2]
    if channels == 1:
        return frame[:, :, 0]
    code = cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(frame, code)


def _contrast(gray: np.ndarray, threshold: float) -> float:
    """Mean grey level above the threshold minus the mean below it (from the histogram: fast)."""
    hist = np.bincount(gray.reshape(-1), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    split = int(threshold) + 1
    low, high = hist[:split], hist[split:]
    if not low.sum() or not high.sum():
        return 0.0
    return float((high * levels[split:]).sum() / high.sum() - (low * levels[:split]).sum() / low.sum())


def _odd(n: float) -> int:
    n = max(3, int(round(n)))
    return n if n % 2 else n + 1


# -- the steps -------------------------------------------------------------------------------------

def preprocess(frame: np.ndarray, *, ink: Literal["dark", "light"] = "dark",
               margin: float = DEFAULT_MARGIN, min_contrast: float = MIN_CONTRAST,
               min_digit: float = MIN_DIGIT_FRACTION) -> Preprocessed:
    """Find the digit in a camera frame and turn it into the classifier's 28x28 input.

    Args:
        frame: BGR uint8 H x W x 3 (what OpenCV reads), or grey H x W; at least 28x28.
        ink: ``"dark"`` for dark ink on light paper (default); ``"light"`` for a light digit on a
            dark background (chalk, a screen).
        margin: margin of the ``crop`` step around the digit, as a fraction of its longer side.
        min_contrast: grey levels that must separate ink from paper (else: no digit).
        min_digit: smallest digit, as a fraction of the frame's shorter side (else: no digit).

    Returns:
        A :class:`Preprocessed`: ``input`` (uint8 [28,28] white on black, or None when no digit
        was found, with ``reason`` saying why), the intermediate images in ``steps`` and the
        digit's ``box`` in frame pixels.

    Raises:
        FrameError: the frame is not a uint8 picture of a usable shape (see :func:`check_frame`).
        ValueError: ``ink`` is neither "dark" nor "light".
    """
    frame = check_frame(frame)
    if ink not in ("dark", "light"):
        raise ValueError(f'ink must be "dark" (dark ink on light paper) or "light", got {ink!r}')
    steps: dict[str, np.ndarray] = {}
    height, width = frame.shape[:2]
    short = min(height, width)

    gray = steps["gray"] = _to_gray(frame)
    # Sensor noise makes single pixels darker than the threshold; a small blur averages them away
    # (and barely touches strokes that are several pixels wide).
    blurred = steps["blurred"] = cv2.GaussianBlur(gray, (BLUR_KERNEL, BLUR_KERNEL), 0)

    # Otsu picks the grey level that best splits the histogram into two groups (paper, ink).
    # THRESH_BINARY_INV makes dark ink white: the model wants a white digit on black.
    mode = cv2.THRESH_BINARY_INV if ink == "dark" else cv2.THRESH_BINARY
    threshold, ink_mask = cv2.threshold(blurred, 0, 255, mode | cv2.THRESH_OTSU)
    steps["ink"] = ink_mask
    contrast = _contrast(blurred, threshold)

    def nothing(reason: str) -> Preprocessed:
        return Preprocessed(None, steps, None, reason, float(threshold), contrast)

    if contrast < min_contrast:
        return nothing(f"no {ink} marks on a {'light' if ink == 'dark' else 'dark'} background "
                       f"(ink and paper differ by {contrast:.0f} grey levels, at least {min_contrast:.0f} needed)")

    # Join strokes that the threshold broke apart (a thin pen line, a "5" drawn in two strokes)
    # before looking for blobs, so the digit is one region.
    join = _odd(JOIN_FRACTION * short)
    joined = cv2.dilate(ink_mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (join, join)))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    min_px = min_digit * short
    big, cut = [], 0
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if max(w, h) < min_px:
            continue
        if x <= 0 or y <= 0 or x + w >= width or y + h >= height:
            cut += 1  # touches the edge: part of the digit (or a shadow, the desk) is out of view
            continue
        big.append((cv2.contourArea(contour), contour))
    if not big:
        if cut:
            return nothing("the only large marks touch the edge of the picture: move the paper so the "
                           "whole digit is inside the frame")
        return nothing(f"no mark is large enough to be a digit (at least {min_px:.0f} pixels tall or wide)")

    _, contour = max(big, key=lambda item: item[0])
    region = np.zeros_like(ink_mask)
    cv2.drawContours(region, [contour], -1, 255, thickness=cv2.FILLED)
    digit = steps["digit"] = cv2.bitwise_and(ink_mask, region)  # this blob's ink only: specks erased
    x, y, w, h = cv2.boundingRect(digit)  # the tight box of the ink itself (not of the dilated blob)
    if w == 0 or h == 0:  # pragma: no cover - a blob found above always holds ink
        return nothing("the region holds no ink")

    pad = int(round(margin * max(w, h)))
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    steps["crop"] = digit[y0:y1, x0:x1]

    # MNIST: the bounding box, scaled so its longer side is 20 pixels, aspect ratio kept.
    tight = digit[y:y + h, x:x + w]
    scale = BOX_SIDE / max(w, h)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    shrink = scale < 1.0  # INTER_AREA averages when shrinking: grey, anti-aliased edges as in MNIST
    small = cv2.resize(tight, (new_w, new_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    box20 = np.zeros((BOX_SIDE, BOX_SIDE), dtype=np.uint8)
    bx, by = (BOX_SIDE - new_w) // 2, (BOX_SIDE - new_h) // 2
    box20[by:by + new_h, bx:bx + new_w] = small
    steps["box20"] = box20

    steps["input"] = _centre_of_mass(small)
    return Preprocessed(steps["input"], steps, (int(x), int(y), int(w), int(h)), "", float(threshold), contrast)


def _centre_of_mass(small: np.ndarray) -> np.ndarray:
    """Place ``small`` (at most 20x20) in a 28x28 field with its centre of mass in the middle.

    The shift is rounded to whole pixels (no resampling blur) and limited so that the digit
    stays inside the field.  The brightest pixel is then stretched to 255, as in MNIST.
    """
    h, w = small.shape
    m = cv2.moments(small)
    if m["m00"] > 0:
        cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    else:  # pragma: no cover - the digit has ink
        cx, cy = (w - 1) / 2, (h - 1) / 2
    centre = (IMAGE_SIDE - 1) / 2
    left = int(np.clip(round(centre - cx), 0, IMAGE_SIDE - w))
    top = int(np.clip(round(centre - cy), 0, IMAGE_SIDE - h))
    field_ = np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    field_[top:top + h, left:left + w] = small
    peak = int(field_.max())
    if 0 < peak < 255:
        field_ = (field_.astype(np.uint16) * 255 // peak).astype(np.uint8)
    return field_


def annotate(frame: np.ndarray, pre: Preprocessed, text: str | None = None) -> np.ndarray:
    """A copy of ``frame`` (as BGR) with the digit's box drawn, and ``text`` above it.

    Green box when a digit was found; when none was, ``pre.reason`` is not drawn (it is long)
    but a red "no digit" is.
    """
    image = check_frame(frame)
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    else:
        image = image.copy()
    height = image.shape[0]
    thick = max(1, height // 160)
    font = max(0.35, height / 400)
    if pre.box is not None:
        x, y, w, h = pre.box
        cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), (0, 200, 0), thick)
        if text:
            org = (x, max(int(14 * font / 0.35), y - 3))
            cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, font, (0, 160, 0), thick, cv2.LINE_AA)
    else:
        cv2.putText(image, text or "no digit", (4, int(14 * font / 0.35)), cv2.FONT_HERSHEY_SIMPLEX, font,
                    (0, 0, 220), thick, cv2.LINE_AA)
    return image
