"""The generated C++ weights header, and the constants C++ and Python share."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from labkit.classifier.reference import WEIGHTS_PATH
from labkit.kernels import cnn_classifier as kernel

REPO = Path(__file__).resolve().parents[2]
KERNEL_DIR = REPO / "hls" / "cnn_classifier"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_cnn_header", REPO / "tools" / "gen_cnn_header.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_header_is_up_to_date_with_the_npz() -> None:
    gen = _generator()
    committed = (KERNEL_DIR / "cnn_weights.h").read_text()
    assert committed == gen.render(WEIGHTS_PATH), (
        "hls/cnn_classifier/cnn_weights.h is out of date: run python tools/gen_cnn_header.py")


def _cpp_constant(name: str) -> int:
    text = (KERNEL_DIR / "cnn_classifier.h").read_text()
    match = re.search(rf"constexpr uint32_t {name} = ([^;]+);", text)
    assert match, f"{name} not found in cnn_classifier.h"
    return int(eval(match.group(1), {"CNN_PIXELS_PER_BEAT": kernel.PIXELS_PER_BEAT}))


def test_python_and_cpp_interface_constants_agree() -> None:
    assert _cpp_constant("CNN_MAX_BATCH") == kernel.MAX_BATCH
    assert _cpp_constant("CNN_PIXELS_PER_BEAT") == kernel.PIXELS_PER_BEAT
    assert _cpp_constant("CNN_BEATS_PER_IMAGE") == kernel.BEATS_PER_IMAGE == 98
    assert _cpp_constant("CNN_SCORES_PER_IMAGE") == kernel.SCORES_PER_IMAGE == 10


def test_the_stated_cycle_model_is_the_modelled_one() -> None:
    # The comment in the kernel, the README and cycles() must tell the same story.
    per_image = kernel.image_cycles()
    assert per_image == 13827
    cpp = (KERNEL_DIR / "cnn_classifier.cpp").read_text()
    readme = (KERNEL_DIR / "README.md").read_text()
    for text in (cpp, readme):
        assert f"{per_image} cycles" in text
        assert f"{kernel.cycles(100):,} cycles" in text
    for name, cycles in kernel.stage_cycles().items():
        assert re.search(rf"{name.upper()}\b.*\b{cycles}\s*$", cpp, re.MULTILINE), name
