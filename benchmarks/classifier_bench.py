"""The digit classifier: the simulated accelerator, its model, numpy on this machine, notebook 06's loop.

Rows (issue 5):

* images per second through the simulated accelerator (pynq's DMA driver, ``CnnAccelerator``) for
  batches of 1, 8 and 64 images per kernel run, host pace, **measured** on this machine (cold: the
  first call of a fresh accelerator; warm: the median of later calls);
* the accelerator's **modelled** throughput at its 100 MHz clock: from the cycle model
  (``cycles()``/``image_cycles()``) and from the PL intervals of the calls above, and the
  **estimated** board throughput including the PS's share;
* the numpy reference (the "software on the PS" path) on this machine, **measured**;
* the end-to-end loop of notebook 06 (demo clip -> ``preprocess`` -> classifier) in frames per
  second, **measured**, board pace as the notebook runs it; target: at least 20 frames per second.

    python benchmarks/classifier_bench.py
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("LABKIT_BOARD", "sim")

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, measure, table  # noqa: E402

import labkit  # noqa: E402
from labkit.camera import DemoClipSource  # noqa: E402
from labkit.classifier import CnnAccelerator, Pipeline, classify_reference, preprocess, summarize  # noqa: E402
from labkit.kernels import cnn_classifier as kernel  # noqa: E402

BATCHES = (1, 8, 64)
TARGET_FPS = 20.0
SAMPLE_S = 0.05  #: aim for samples of about this long, so timer noise does not matter


def digits(n: int) -> tuple[np.ndarray, str]:
    """``n`` held-out MNIST digits, or the demo clip's preprocessed digits if MNIST is not available."""
    try:
        from labkit.datasets import digit_split, load_mnist_5k

        images, _ = load_mnist_5k()
        _, held_out = digit_split()
        return images[held_out[:n]], "held-out MNIST digits"
    except Exception as exc:  # noqa: BLE001 - any reason: fall back, and say so
        with DemoClipSource(loop=False) as clip:
            found = [p.input for p in map(preprocess, clip) if p.found]
        reps = -(-n // len(found))
        return np.stack((found * reps)[:n]), f"demo clip digits (MNIST unavailable: {exc})"


def calls_per_sample(fn, seconds: float = SAMPLE_S) -> int:
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-6)
    return max(1, int(seconds / once))


def main() -> None:
    images, what = digits(max(BATCHES))
    overlay = labkit.open_board(pace="host")
    clock = overlay.device.fabric.clock_hz
    rows = []
    ok = True

    for batch in BATCHES:
        x = images[:batch]
        with CnnAccelerator(overlay, max_batch=batch) as acc:
            start = time.perf_counter()
            scores = acc.classify(x)
            cold = time.perf_counter() - start
            ok &= bool(np.array_equal(scores, classify_reference(x)))
            warm, spread = measure(lambda: acc.classify(x), number=calls_per_sample(lambda: acc.classify(x)),
                                   repeat=5)
            run = acc.last_run
        rows.append([f"accelerator, batch {batch}, host pace", f"{batch / warm:,.0f} images/s",
                     f"measured (warm; cold {batch / cold:,.0f}/s, spread {100 * spread / warm:.0f}%)",
                     "the simulation on this machine"])
        rows.append(["  PL of that run", f"{batch / run.modelled_s:,.0f} images/s", "modelled",
                     f"{run.modelled_s * 1e6:,.1f} us per run, from the intervals"])
        rows.append(["  on the board", f"{batch / run.estimated_s:,.0f} images/s", "estimated",
                     f"{run.estimated_s * 1e3:.2f} ms per run: PS share + PL ({overlay.device.profile.name})"])

    rows.append([f"accelerator at {clock / 1e6:.0f} MHz, cycle model", f"{clock / kernel.image_cycles():,.0f} images/s",
                 "modelled", f"{kernel.image_cycles():,} cycles per image; batch 64: "
                             f"{64 * clock / kernel.cycles(64):,.0f}/s"])

    for batch in BATCHES:
        x = images[:batch]
        t, spread = measure(lambda: classify_reference(x), number=calls_per_sample(lambda: classify_reference(x)),
                            repeat=5)
        rows.append([f"numpy on the PS, batch {batch}", f"{batch / t:,.0f} images/s",
                     f"measured (spread {100 * spread / t:.0f}%)", "this machine"])

    # Notebook 06's loop: board pace, the looping demo clip, one frame at a time.
    board = labkit.open_board(pace="board")
    for use_accelerator in (True, False):
        with Pipeline(board, DemoClipSource(loop=True), use_accelerator=use_accelerator) as pipe:
            pipe.run(frames=10)  # warm-up: accelerator buffers, calibration
            results = pipe.run(seconds=2.0)
        s = summarize(results)
        worst = max(s["stages_s"], key=s["stages_s"].get)
        met = s["fps"] >= TARGET_FPS
        ok &= met
        rows.append([f"notebook 06 loop, {s['engine']}, board pace", f"{s['fps']:,.0f} frames/s",
                     "measured", f">= {TARGET_FPS:.0f}: {'met' if met else 'MISSED'}; slowest stage {worst}; "
                                 f"accuracy {s['accuracy']:.0%} on {s['frames']} frames"])

    print(f"measured on: {machine()}")
    print(f"images: {what}")
    print(table(["quantity", "value", "kind", "notes"], rows))
    print("checks: accelerator == numpy bit for bit, loop >= 20 frames/s:", "passed" if ok else "FAILED (see above)")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
