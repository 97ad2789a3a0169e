"""The generated C++ compiles with g++ against Xilinx's ap_int/hls_stream headers (the hls4ml
wheel, as labkit/sim/cpp_kernel.py uses them) and passes its csim testbench; what it computes
equals numpy: the paper's points copied through, the CNN's scores equal to
labkit.classifier.classify_reference, and the element packing of every type family."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from labkit.generate import generate, load_spec, spec_from_dict

from _gen_data import SPECS

pytestmark = pytest.mark.needs_gxx

#: -Wno-maybe-uninitialized: Xilinx's hls::stream::read() returns a default-constructed ap_axiu that
#: g++ 12 flags inside ap_private.h; everything of ours compiles with -Wall -Werror.
CXXFLAGS = ["-std=c++17", "-O2", "-Wall", "-Werror", "-Wno-unknown-pragmas", "-Wno-maybe-uninitialized"]
COMPILE_TIMEOUT_S, RUN_TIMEOUT_S = 180, 60


@pytest.fixture(scope="session")
def gxx() -> str:
    path = shutil.which("g++")
    if path is None:
        pytest.skip("g++ not found: C-simulation tests skipped")
    return path


def build(gxx: str, spec, out: Path) -> Path:
    from labkit.sim.cpp_kernel import xilinx_headers

    sim_cpp = Path(__import__("labkit.sim", fromlist=["x"]).__file__).parent / "cpp"
    hls = out / "hls"
    tb = out / f"{spec.name}_tb"
    command = [gxx, *CXXFLAGS, "-isystem", str(xilinx_headers()), "-isystem", str(sim_cpp), "-I", str(hls),
               *[f"-I{d}" for d in spec.include_dirs], str(hls / f"{spec.name}_tb.cpp"), str(hls / f"{spec.name}.cpp"),
               "-o", str(tb)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stderr[-3000:]}"
    return tb


def run(tb: Path, tmp: Path, data: np.ndarray, *args: str) -> tuple[subprocess.CompletedProcess, bytes]:
    src, dst = tmp / "in.bin", tmp / "out.bin"
    src.write_bytes(np.ascontiguousarray(data).tobytes())
    done = subprocess.run([str(tb), str(src), str(dst), *args], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    return done, dst.read_bytes() if dst.exists() else b""


def test_points_copies_the_points_through(gxx, generated, tmp_path):
    spec = load_spec(SPECS["points"])
    tb = build(gxx, spec, generated("points"))
    ramp = subprocess.run([str(tb)], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert ramp.returncode == 0 and "0 error(s)" in ramp.stdout, ramp.stderr
    points = np.random.default_rng(1).integers(-2**31, 2**31, size=1024, dtype=np.int64).astype("<i4")
    done, out = run(tb, tmp_path, points)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.frombuffer(out, "<i4"), points)


def test_cnn_classifier_scores_equal_the_reference(gxx, generated, tmp_path):
    from labkit.classifier import classify_reference

    spec = load_spec(SPECS["cnn_classifier"])
    tb = build(gxx, spec, generated("cnn_classifier"))
    images = np.random.default_rng(2).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    done, out = run(tb, tmp_path, images, "batch=5")
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(np.frombuffer(out, "<i4").reshape(5, 10), classify_reference(images))


def test_a_wrong_input_size_is_a_usage_error(gxx, generated, tmp_path):
    tb = build(gxx, load_spec(SPECS["points"]), generated("points"))
    done, _ = run(tb, tmp_path, np.zeros(10, "<i4"))
    assert done.returncode == 2 and "expected 4096" in done.stderr


TYPES = {
    # int8 packed 4 per 32-bit beat in, float32 out, TLAST after every item, 3 items per call
    "widen": ({"kernel": {"name": "widen", "max_batch": 3},
               "inputs": [{"name": "a", "dtype": "int8", "shape": [6, 4], "beat_bits": 32}],
               "outputs": [{"name": "b", "dtype": "float32", "shape": 24, "tlast": "end_of_item"}]},
              lambda x: x.astype("<f4")),
    # signed fixed point, 4 per 64-bit beat, through unchanged
    "fixed": ({"kernel": {"name": "fixed", "control": "ap_ctrl_none"},
               "inputs": [{"name": "a", "dtype": "fixed<16,8>", "shape": 8, "beat_bits": 64}],
               "outputs": [{"name": "b", "dtype": "fixed<16,8>", "shape": 8, "beat_bits": 64}]},
              lambda x: x),
    # uint16 in, 2 per beat; uint32 out
    "halves": ({"kernel": {"name": "halves", "max_batch": 2},
                "inputs": [{"name": "a", "dtype": "uint16", "shape": 6, "beat_bits": 32}],
                "outputs": [{"name": "b", "dtype": "uint32", "shape": 6}]},
               lambda x: x.astype("<u4")),
}


@pytest.mark.parametrize("name", sorted(TYPES))
def test_element_packing_of_every_type_family(gxx, tmp_path, name):
    data, reference = TYPES[name]
    spec = spec_from_dict(data)
    out = tmp_path / "gen"
    generate(spec, out)
    tb = build(gxx, spec, out)
    i, o = spec.inputs[0], spec.outputs[0]
    items = spec.items_per_call
    rng = np.random.default_rng(3)
    lo, hi = i.dtype.limits
    if i.dtype.kind == "fixed":
        raw = rng.integers(lo * 256, hi * 256, size=items * i.count, endpoint=True).astype(i.dtype.storage)
    else:
        raw = rng.integers(lo, hi, size=items * i.count, endpoint=True).astype(i.dtype.storage)
    args = [f"batch={items}"] if spec.has_batch_register else []
    done, got = run(tb, tmp_path, raw, *args)
    assert done.returncode == 0, done.stderr  # the testbench checks TLAST per the spec's policy
    np.testing.assert_array_equal(np.frombuffer(got, o.dtype.storage), reference(raw))
