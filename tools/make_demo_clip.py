#!/usr/bin/env python3
"""Make the bundled demo clip: held-out handwritten digits on paper, as a cheap camera sees them.

    .venv/bin/python tools/make_demo_clip.py             # (re)write labkit/data/demo_digits.{avi,json}
    .venv/bin/python tools/make_demo_clip.py --preview   # also write a contact sheet PNG to /tmp

Notebook 06 and the tests need a camera; most machines that run them have none. The clip stands
in for one (``labkit.camera.open_source`` falls back to it). How it is made, so that it is fair:

* **The digits** are MNIST digits from :func:`labkit.datasets.load_mnist_5k`, drawn only from the
  *held-out* set of :func:`labkit.datasets.digit_split` (never seen in training), four of each
  class, picked at random (seeded), whether or not the classifier gets them right.
* **The paper** fills the view: a warm off-white of random brightness, with a low-frequency
  texture and fine grain, lit unevenly (a linear light gradient in a random direction, and
  vignetting, as cheap lenses darken the corners).
* **The ink** is dark (black or a blue/black pen), slightly translucent: each pixel is
  ``paper * (1 - a) + ink * a`` where ``a`` is the MNIST digit's grey level (upscaled, so strokes
  are a few pixels wide and have soft edges).
* **The camera**: each digit is warped onto the frame by a random perspective transform (the
  paper is not quite parallel to the sensor): random size (40-65 % of the frame height), rotation
  (+-12 degrees), position (off centre), and corner jitter; then defocus blur, sensor noise and,
  finally, the clip's own JPEG compression (MJPG).
* **Motion**: a digit stays in view for four frames while the hand holding it drifts (a small
  random walk in position and angle), and one frame of each hold has motion blur.
* **Empty paper**: two frames with no digit at the start, and two after every eighth digit,
  labelled ``null``: a good pipeline answers "no digit" there.

Output: ``labkit/data/demo_digits.avi`` (MJPG in AVI, which every OpenCV build can read, including
opencv-python-headless) and ``labkit/data/demo_digits.json``: the true label of every frame
(``labels``, ``null`` for no digit), the index of its digit in ``load_mnist_5k()``
(``mnist_index``), and how the clip was made (seed, size, frame rate, this script's name).
Everything comes from one seeded ``numpy.random.RandomState`` (whose stream never changes), so
the script makes the same frames every time; only the JPEG bytes may differ between OpenCV versions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # so the script runs from a plain checkout

from labkit.datasets import digit_split, load_mnist_5k  # noqa: E402

OUT_DIR = REPO / "labkit" / "data"
CLIP_NAME = "demo_digits.avi"
LABELS_NAME = "demo_digits.json"

SEED = 20240606
WIDTH, HEIGHT = 160, 120
FPS = 8.0
DIGITS_PER_CLASS = 4
FRAMES_PER_DIGIT = 4
BLANK_FRAMES = 2          #: frames of empty paper at the start and after every BLANK_EVERY digits
BLANK_EVERY = 8
JPEG_QUALITY = 60         #: MJPG quality of OpenCV's built-in AVI writer (0..100)


def pick_digits(rng: np.random.RandomState, labels: np.ndarray, held_out: np.ndarray) -> list[int]:
    """DIGITS_PER_CLASS random held-out digits of every class, in a random order."""
    chosen: list[int] = []
    for digit in range(10):
        pool = held_out[labels[held_out] == digit]
        chosen.extend(int(i) for i in rng.choice(pool, size=DIGITS_PER_CLASS, replace=False))
    order = rng.permutation(len(chosen))
    return [chosen[i] for i in order]


class Scene:
    """One hold of the paper: lighting, paper, ink and the digit's pose, drawn at random."""

    def __init__(self, rng: np.random.RandomState) -> None:
        self.rng = rng
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        u, v = (xx - WIDTH / 2) / (WIDTH / 2), (yy - HEIGHT / 2) / (HEIGHT / 2)  # -1..1
        angle = rng.uniform(0, 2 * np.pi)
        strength = rng.uniform(0.10, 0.30)  # brightness changes by this much across the frame
        gradient = 1 + strength / 2 * (np.cos(angle) * u + np.sin(angle) * v) / np.sqrt(2)
        vignette = 1 - rng.uniform(0.08, 0.20) * (u * u + v * v) / 2
        texture = cv2.resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (WIDTH, HEIGHT),
                             interpolation=cv2.INTER_CUBIC) * rng.uniform(2, 5)
        brightness = rng.uniform(170, 225)
        tint = np.array([rng.uniform(0.90, 0.97), rng.uniform(0.96, 1.0), 1.0], dtype=np.float32)  # BGR
        self.light = (gradient * vignette)[:, :, None]
        self.paper = (brightness * tint[None, None, :] + texture[:, :, None]) * self.light
        pens = [(35, 35, 35), (80, 45, 30), (60, 40, 40)]  # black, blue-black, grey-black (BGR)
        pen = np.array(pens[rng.randint(len(pens))], dtype=np.float32) + rng.uniform(-10, 10, 3)
        self.ink = pen[None, None, :] * self.light
        self.opacity = rng.uniform(0.80, 0.97)
        # The digit's pose: size of its 20-pixel MNIST box, rotation, centre, perspective jitter.
        self.size = rng.uniform(0.40, 0.65) * HEIGHT
        self.angle = rng.uniform(-12, 12)
        self.cx = WIDTH / 2 + rng.uniform(-0.15, 0.15) * WIDTH
        self.cy = HEIGHT / 2 + rng.uniform(-0.10, 0.10) * HEIGHT
        self.jitter = rng.uniform(-0.08, 0.08, (4, 2)) * self.size
        self.blur = rng.uniform(0.5, 1.1)
        self.noise = rng.uniform(1.0, 2.0)
        self.motion_frame = rng.randint(FRAMES_PER_DIGIT)

    def drift(self) -> None:
        """The hand moves a little between frames."""
        self.cx += self.rng.normal(0, 1.0)
        self.cy += self.rng.normal(0, 1.0)
        self.angle += self.rng.normal(0, 0.8)

    def warp(self, digit: np.ndarray) -> np.ndarray:
        """Ink coverage 0..1 of the frame: the 28x28 digit under a perspective transform."""
        scale = self.size / 20.0  # MNIST draws the digit in the central 20x20 of 28x28
        c, s = np.cos(np.radians(self.angle)), np.sin(np.radians(self.angle))
        corners = np.array([[0, 0], [28, 0], [28, 28], [0, 28]], dtype=np.float32)
        centred = (corners - 14) * scale
        rotated = centred @ np.array([[c, s], [-s, c]], dtype=np.float32)
        target = (rotated + [self.cx, self.cy] + self.jitter).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(corners, target)
        alpha = cv2.warpPerspective(digit.astype(np.float32) / 255, matrix, (WIDTH, HEIGHT),
                                    flags=cv2.INTER_CUBIC, borderValue=0)
        return np.clip(alpha, 0, 1)

    def render(self, digit: np.ndarray | None, frame_no: int) -> np.ndarray:
        image = self.paper.copy()
        grain = self.rng.normal(0, 0.8, (HEIGHT, WIDTH, 1)).astype(np.float32)
        image += grain
        if digit is not None:
            a = (self.warp(digit) * self.opacity)[:, :, None]
            image = image * (1 - a) + self.ink * a
        image = cv2.GaussianBlur(image, (0, 0), self.blur)
        if digit is not None and frame_no == self.motion_frame:
            length = self.rng.randint(3, 6)
            kernel = np.zeros((length, length), dtype=np.float32)
            kernel[length // 2, :] = 1 / length
            rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), self.rng.uniform(0, 180), 1)
            kernel = cv2.warpAffine(kernel, rot, (length, length))
            image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
        image += self.rng.normal(0, self.noise, image.shape).astype(np.float32)
        return np.clip(np.round(image), 0, 255).astype(np.uint8)


def make_frames(seed: int = SEED) -> tuple[list[np.ndarray], list[int | None], list[int | None]]:
    """(frames BGR uint8, label per frame or None, mnist index per frame or None)."""
    images, labels = load_mnist_5k()
    _, held_out = digit_split()
    rng = np.random.RandomState(seed)
    chosen = pick_digits(rng, labels, held_out)
    frames: list[np.ndarray] = []
    truth: list[int | None] = []
    index: list[int | None] = []

    def blank() -> None:
        scene = Scene(rng)
        for n in range(BLANK_FRAMES):
            frames.append(scene.render(None, n))
            truth.append(None)
            index.append(None)

    blank()
    for k, mnist_index in enumerate(chosen):
        scene = Scene(rng)
        for n in range(FRAMES_PER_DIGIT):
            frames.append(scene.render(images[mnist_index], n))
            truth.append(int(labels[mnist_index]))
            index.append(mnist_index)
            scene.drift()
        if (k + 1) % BLANK_EVERY == 0 and k + 1 < len(chosen):
            blank()
    return frames, truth, index


def write_clip(frames: list[np.ndarray], path: Path) -> None:
    # OpenCV's own MJPEG writer (not FFmpeg's): present in every build, and it honours the quality.
    writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter_fourcc(*"MJPG"), FPS,
                             (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise SystemExit(f"OpenCV cannot write {path} (MJPG/AVI)")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, JPEG_QUALITY)
    for frame in frames:
        writer.write(frame)
    writer.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: labkit/data)")
    parser.add_argument("--preview", action="store_true", help="also write /tmp/demo_digits_sheet.png")
    args = parser.parse_args()
    frames, truth, index = make_frames()
    args.out.mkdir(parents=True, exist_ok=True)
    clip = args.out / CLIP_NAME
    write_clip(frames, clip)
    record = {
        "clip": CLIP_NAME,
        "made_by": "tools/make_demo_clip.py",
        "seed": SEED,
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "frames": len(frames),
        "frames_per_digit": FRAMES_PER_DIGIT,
        "source": "held-out digits of labkit.datasets.digit_split() from load_mnist_5k()",
        "labels": truth,
        "mnist_index": index,
    }
    (args.out / LABELS_NAME).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {clip} ({clip.stat().st_size / 1024:.0f} KiB, {len(frames)} frames {WIDTH}x{HEIGHT} "
          f"at {FPS:g} fps) and {args.out / LABELS_NAME}")
    if args.preview:
        rows = [np.hstack(frames[r:r + 10]) for r in range(0, len(frames) - 9, 10)]
        cv2.imwrite("/tmp/demo_digits_sheet.png", np.vstack(rows))
        print("contact sheet: /tmp/demo_digits_sheet.png")


if __name__ == "__main__":
    main()
