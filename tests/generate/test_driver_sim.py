"""The generated drivers on the simulated board: results equal numpy (and the hand-written
classifier driver), and a table of wrong inputs each gets a clear KernelInputError, sends nothing
and leaves the board usable; a hung kernel times out and the next call works."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pynq
import pytest

import labkit
from labkit.errors import LabTimeoutError
from labkit.generate import generate, load_spec, spec_from_dict
from labkit.generate.runtime import DriverError, KernelInputError
from labkit.sim import SimDevice, use_device
from labkit.sim.patches import active_sim_device

from _gen_data import SPECS

pytestmark = pytest.mark.needs_gxx  # the points and scale kernels run their generated C++ on the board
if shutil.which("g++") is None:
    pytest.skip("g++ not found: the generated kernels' C++ cannot run on the simulated board", allow_module_level=True)

SCALE_BODY = """\
#ifndef SCALE_COMPUTE_H
#define SCALE_COMPUTE_H
static void scale_compute(const scale_x_t x[SCALE_X_COUNT], scale_y_t y[SCALE_Y_COUNT], scale_gain_t gain) {
    for (int k = 0; k < SCALE_Y_COUNT; k++) y[k] = (scale_y_t)x[k] * gain;
}
#endif
"""


def scale_spec(tmp_path: Path):
    body = tmp_path / "scale_body.h"
    body.write_text(SCALE_BODY)
    return spec_from_dict({
        "kernel": {"name": "scale", "control": "ap_ctrl_hs", "max_batch": 4},
        "inputs": [{"name": "x", "dtype": "int16", "shape": [4, 8], "beat_bits": 32}],
        "outputs": [{"name": "y", "dtype": "int32", "shape": 32}],
        "scalars": [{"name": "gain", "dtype": "int32", "min": -8, "max": 8}],
        "hls": {"body": str(body)}}, base=tmp_path)


@pytest.fixture
def sim():
    """A fresh simulated PYNQ-Z2 made pynq's active device; the previous one back afterwards."""
    previous = active_sim_device()
    device = SimDevice(profile="PYNQ-Z2", pace="host")
    use_device(device)
    yield device
    device.close()
    if previous is not None:
        use_device(previous)


def open_generated(out: Path, name: str, driver, cpp: bool = True):
    module = driver(name, out)
    ol = pynq.Overlay(str(out / "overlay" / f"{name}.bit"))
    if cpp:
        module.simulate_cpp()
    cls = next(v for v in vars(module).values() if isinstance(v, type) and "bindto" in vars(v))
    return module, ol, cls.open(ol, timeout=5.0)


def test_points_on_the_simulated_board(sim, generated, driver):
    _, ol, points = open_generated(generated("points"), "points", driver)
    assert "points_0" not in ol.ip_dict  # ap_ctrl_none without scalars: no AXI-Lite, pynq lists no IP
    x = np.random.default_rng(0).integers(-2**31, 2**31, size=(16, 1024), dtype=np.int64).astype(np.int32)
    np.testing.assert_array_equal(points(x), x)
    one = points(x[3])
    assert one.shape == (1024,) and one.dtype == np.int32
    np.testing.assert_array_equal(one, x[3])
    np.testing.assert_array_equal(points(x[:2].astype(np.int16)), x[:2].astype(np.int16))  # a safe cast


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


@pytest.mark.parametrize("where", ["generated overlay", "lab overlay"])
def test_cnn_classifier_scores_equal_the_hand_written_driver(sim, generated, driver, where):
    from labkit.classifier import CnnAccelerator, classify_reference

    out = generated("cnn_classifier")
    if where == "generated overlay":
        _, ol, cnn = open_generated(out, "cnn_classifier", driver, cpp=False)
    else:
        module = driver("cnn_classifier", out)
        ol = labkit.open_board()
        cnn = module.CnnClassifierDriver.open(ol)
    with cnn, CnnAccelerator(ol) as hand:
        for n in (1, 7, 64):
            images = _images(n, seed=n)
            scores = cnn(images)
            np.testing.assert_array_equal(scores, hand.classify(images))
            np.testing.assert_array_equal(scores, classify_reference(images))
        assert cnn(images[0]).shape == (10,)


# -- wrong inputs: a clear error, nothing sent, the board still works -------------------------------------

X = np.arange(2 * 32, dtype=np.int16).reshape(2, 4, 8)
WRONG = [
    # (what, call arguments, words the message must contain)
    ("a list, not an array", ([[1, 2]] * 4,), {"gain": 1}, "expected a numpy array"),
    ("wrong item shape", (np.zeros((2, 4, 7), np.int16),), {"gain": 1}, "shape (2, 4, 7) does not match"),
    ("wrong length (flat)", (np.zeros(32, np.int16),), {"gain": 1}, "does not match the spec"),
    ("batch too large", (np.zeros((5, 4, 8), np.int16),), {"gain": 1}, "larger than the spec's max_batch 4"),
    ("empty batch", (np.zeros((0, 4, 8), np.int16),), {"gain": 1}, "the batch is empty"),
    ("non-contiguous view", (np.zeros((4, 4, 8), np.int16)[::2],), {"gain": 1}, "non-contiguous view"),
    ("NaN for an integer stream", (np.full((1, 4, 8), np.nan),), {"gain": 1}, "NaN or infinite"),
    ("infinity", (np.full((4, 8), np.inf),), {"gain": 1}, "NaN or infinite"),
    ("fractions for an integer stream", (np.full((4, 8), 0.5),), {"gain": 1}, "holds fractions"),
    ("value out of int16 range", (np.full((4, 8), 40000, np.int32),), {"gain": 1}, "outside int16's range"),
    ("bool array", (np.ones((4, 8), bool),), {"gain": 1}, "dtype bool cannot carry int16"),
    ("complex array", (np.ones((4, 8), complex),), {"gain": 1}, "cannot carry int16"),
    ("scalar out of range", (X,), {"gain": 9}, "outside the allowed range -8..8"),
    ("scalar missing", (X,), {}, "'gain' is required"),
    ("scalar of the wrong type", (X,), {"gain": "2"}, "expected a number"),
    ("scalar fraction for an int32", (X,), {"gain": 1.5}, "takes whole numbers"),
    ("unknown argument", (X,), {"gain": 1, "gian": 2}, "unknown argument gian"),
]


@pytest.fixture
def scale(sim, driver, tmp_path):
    spec = scale_spec(tmp_path)
    out = tmp_path / "gen"
    generate(spec, out)
    _, ol, kernel = open_generated(out, "scale", driver)
    yield ol, kernel
    kernel.close()


def _dma_untouched(ol) -> tuple:
    dma = ol.scale_dma
    return dma.mmio.read(0x28), dma.mmio.read(0x58)  # MM2S_LENGTH, S2MM_LENGTH (PG021)


def test_the_table_of_wrong_inputs(scale):
    ol, kernel = scale
    np.testing.assert_array_equal(kernel(X, gain=3), X.reshape(2, 32).astype(np.int32) * 3)
    assert len(WRONG) >= 10
    for what, args, kwargs, words in WRONG:
        before = _dma_untouched(ol)
        with pytest.raises(KernelInputError) as err:
            kernel(*args, **kwargs)
        assert words in str(err.value), f"{what}: {err.value}"
        assert "scale" in str(err.value), what  # names the kernel
        assert _dma_untouched(ol) == before, f"{what}: something reached the DMA"
        np.testing.assert_array_equal(kernel(X, gain=-2), X.reshape(2, 32).astype(np.int32) * -2, err_msg=what)


def test_casts_that_are_safe_or_checked_are_accepted(scale):
    _, kernel = scale
    want = X.reshape(2, 32).astype(np.int32)
    np.testing.assert_array_equal(kernel(X.astype(np.int8), gain=1), want)       # safe cast
    np.testing.assert_array_equal(kernel(X.astype(np.int64), gain=1), want)      # in range: checked cast
    np.testing.assert_array_equal(kernel(X.astype(np.float64), gain=1), want)    # whole numbers
    np.testing.assert_array_equal(kernel(X, gain=np.int64(1)), want)


def test_a_hung_kernel_times_out_and_the_next_call_works(scale):
    ol, kernel = scale
    ol.device.fabric.faults.inject("scale_0", "hang")
    with pytest.raises(LabTimeoutError, match="scale"):
        kernel(X, gain=1, timeout=0.3)
    np.testing.assert_array_equal(kernel(X, gain=2), X.reshape(2, 32).astype(np.int32) * 2)


def test_a_closed_or_unattached_driver_says_so(scale, driver, tmp_path):
    ol, kernel = scale
    kernel.close()
    with pytest.raises(DriverError, match="closed"):
        kernel(X, gain=1)
    bare = type(kernel)(ol.ip_dict["scale_0"])
    with pytest.raises(DriverError, match="open\\(overlay\\)"):
        bare(X, gain=1)


def test_a_changed_body_is_compiled_again_and_the_exercise_check(sim, tmp_path, driver, capsys):
    from labkit.generate.checks import check_points_body

    out = tmp_path / "points"
    generate(load_spec(SPECS["points"]), out)
    module, ol, points = open_generated(out, "points", driver)
    x = np.arange(-512, 512, dtype=np.int32)
    assert not check_points_body(x, points(x))
    assert "still the pass-through" in capsys.readouterr().out
    body = out / "hls" / "points_compute.h"
    body.write_text(body.read_text().replace(
        "(labgen_e < POINTS_IN_STREAM_COUNT) ? (points_out_stream_t)in_stream[labgen_e] : (points_out_stream_t)0",
        "2 * in_stream[labgen_e] + 1"))
    module.simulate_cpp()
    assert check_points_body(x, points(x))
    assert check_points_body(x, points(x)) and "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("y, hint", [
    (lambda x: x, "still the pass-through"), (lambda x: 2 * x, "the + 1 is missing"),
    (lambda x: x + 1, "the factor 2 is missing"), (lambda x: 2 * x + 2, "point 0 is"),
    (lambda x: x[:3], "returned shape"), (lambda x: (2 * x + 1).astype(np.int64), "y is int64"),
    (lambda x: "nonsense", "returned shape")])
def test_the_exercise_check_hints_and_never_raises(y, hint, capsys):
    from labkit.generate.checks import check_points_body

    x = np.arange(8, dtype=np.int32)
    assert check_points_body(x, y(x)) is False
    assert hint in capsys.readouterr().out


TYPED = {
    # int8 packed 4 per beat in, float32 out with TLAST after every item: one S2MM transfer per item
    "widen": {"kernel": {"name": "widen", "max_batch": 3},
              "inputs": [{"name": "a", "dtype": "int8", "shape": [6, 4], "beat_bits": 32}],
              "outputs": [{"name": "b", "dtype": "float32", "shape": 24, "tlast": "end_of_item"}]},
    # fixed point through a free-running kernel that has a scalar (so an AXI-Lite port but no CTRL)
    "fixed": {"kernel": {"name": "fixed", "control": "ap_ctrl_none", "max_batch": 2},
              "inputs": [{"name": "a", "dtype": "fixed<16,8>", "shape": 8, "beat_bits": 64}],
              "outputs": [{"name": "b", "dtype": "fixed<16,8>", "shape": 8, "beat_bits": 64}],
              "scalars": [{"name": "unused", "dtype": "uint8", "min": 0, "max": 3, "default": 0}]},
}


@pytest.mark.parametrize("name", sorted(TYPED))
def test_other_types_and_policies_on_the_simulated_board(sim, driver, tmp_path, name):
    spec = spec_from_dict(TYPED[name])
    out = tmp_path / name
    generate(spec, out)
    _, ol, kernel = open_generated(out, name, driver)
    rng = np.random.default_rng(5)
    if name == "widen":
        x = rng.integers(-128, 128, size=(3, 6, 4)).astype(np.int8)
        y = kernel(x)
        assert y.dtype == np.float32 and y.shape == (3, 24)
        np.testing.assert_array_equal(y, x.reshape(3, 24).astype(np.float32))
    else:
        x = np.round(rng.uniform(-100, 100, size=(2, 8)) * 256) / 256  # exactly representable
        np.testing.assert_array_equal(kernel(x, unused=1), x)
        with pytest.raises(KernelInputError, match="outside fixed<16,8>'s range"):
            kernel(np.full(8, 200.0))
    kernel.close()
