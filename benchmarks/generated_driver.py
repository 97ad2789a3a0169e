"""The generated classifier driver against the hand-written one, on the same work.

``examples/generated/cnn_classifier/cnn_classifier.toml`` is generated into a temporary folder; its
driver and ``labkit.classifier.CnnAccelerator`` then drive the same ``cnn_classifier`` of the lab's
overlay on the simulated board (host pace: the simulated PL runs as fast as this machine can), with
the same images.  Rows:

* **per call, measured**: median wall time of one call (batch 1, 8, 64 images) of each driver, the
  two measured in alternating rounds so that load on this shared machine hits both alike; the
  simulated PL's work is the same for both, so the ratio generated / hand-written bounds the ratio
  of their PS-side overheads from above (target: at most 1.1x);
* **PS preparation, measured**: the part of a call that is pure PS work before the first register
  write -- checking the images and packing them into the DMA buffer;
* **images/s, measured** through the generated driver at batch 1, 8, 64, and the **modelled** PL
  throughput of the kernel at 100 MHz from its cycle model (``labkit.kernels.cnn_classifier.cycles``).

    python benchmarks/generated_driver.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LABKIT_BOARD", "sim")
os.environ.setdefault("LABKIT_AUTOSAVE", "0")  # no classroom records from a benchmark (it only speeds up the hand-written one)

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, table, us  # noqa: E402

import labkit  # noqa: E402
from labkit.classifier import CnnAccelerator  # noqa: E402
from labkit.classifier.reference import as_image_batch  # noqa: E402
from labkit.generate import generate, import_driver, load_spec  # noqa: E402
from labkit.kernels import cnn_classifier as kernel  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "generated" / "cnn_classifier" / "cnn_classifier.toml"
BATCHES = (1, 8, 64)
ROUNDS = 7
SAMPLE_S = 0.1  #: each round of each driver runs for about this long
CLOCK_HZ = 100e6  #: the lab overlay's FCLK0 (overlays/transfer_lab/block_design.tcl)


def alternating(fns: dict[str, callable], number: int, rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Seconds per call of each function, measured in alternating rounds after one warm-up round."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for round_ in range(rounds + 1):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            if round_:
                samples[name].append((time.perf_counter() - start) / number)
    return samples


def main() -> int:
    print(f"measured on: {machine()} (a shared 2-core VM when run by the project)")
    with tempfile.TemporaryDirectory() as tmp:
        generate(load_spec(SPEC), tmp)
        module = import_driver(tmp, "cnn_classifier")
        try:
            return run(module)
        finally:
            module.CnnClassifierDriver.unregister()


def run(module) -> int:
    ol = labkit.open_board()
    gen = module.CnnClassifierDriver.open(ol)
    hand = CnnAccelerator(ol, max_batch=64)
    rng = np.random.default_rng(0)
    rows, rates, prep_rows, worst = [], [], [], 0.0
    try:
        for batch in BATCHES:
            images = rng.integers(0, 256, size=(batch, 28, 28), dtype=np.uint8)
            assert np.array_equal(gen(images), hand.classify(images)), "the drivers disagree"
            start = time.perf_counter()
            gen(images)
            number = max(1, int(SAMPLE_S / max(time.perf_counter() - start, 1e-6)))
            got = alternating({"hand": lambda: hand.classify(images), "gen": lambda: gen(images)}, number)
            h, g = statistics.median(got["hand"]), statistics.median(got["gen"])
            worst = max(worst, g / h)
            rows.append([batch, us(h), us(g), f"{g / h:.2f}x", f"{min(got['gen']) * 1e6:.1f}-{max(got['gen']) * 1e6:.1f} us"])
            modelled = batch / (kernel.cycles(batch) / CLOCK_HZ)
            rates.append([batch, f"{batch / g:,.0f}", f"{modelled:,.0f}"])
            prep = alternating({"hand": lambda: kernel.pack_images(as_image_batch(images)),
                                "gen": lambda: gen.check(images)}, number * 10)
            prep_rows.append([batch, us(statistics.median(prep["hand"])), us(statistics.median(prep["gen"]))])
    finally:
        gen.close()
        hand.close()
    print("\nPer call, measured (host pace, simulated board; same overlay, same images):")
    print(table(["batch", "hand-written CnnAccelerator", "generated driver", "generated / hand", "generated spread"],
                rows))
    print("\nPS preparation before the first register write, measured (check + pack into the DMA beat layout;")
    print("the generated driver's check returns the buffer's layout, the copy into the buffer is in the call):")
    print(table(["batch", "hand-written (as_image_batch + pack_images)", "generated (check)"], prep_rows))
    print("\nImages per second through the generated driver (measured, host pace) and the kernel alone (modelled, "
          "100 MHz):")
    print(table(["batch", "measured images/s", "modelled PL images/s"], rates))
    verdict = "met" if worst <= 1.1 else "NOT met"
    print(f"\nworst generated / hand-written ratio: {worst:.2f}x (target at most 1.1x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
