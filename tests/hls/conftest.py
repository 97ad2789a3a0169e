"""Fixtures for the HLS kernel tests: build the csim testbenches and the
shared library of kernels + bridges with g++, in a temporary directory.

The library is built exactly as the package build does it: every
``hls/*/*.cpp`` except the ``*_tb.cpp`` testbenches, with the csim flags plus
``-fPIC -shared``. Tests that need a compiler carry the ``needs_gxx`` marker
and are skipped when g++ is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
HLS = REPO / "hls"
KERNELS = ("mmio_rowsum", "pp_load_compute", "pp_store", "ddr_rowsum", "cnn_classifier")
CXXFLAGS = ["-std=c++17", "-O2", "-Wall", "-Werror", "-Wno-unknown-pragmas"]
INCLUDES = ["-I", str(HLS / "common" / "csim"), "-I", str(HLS / "common")]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g"]
COMPILE_TIMEOUT_S = 120
RUN_TIMEOUT_S = 60

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_gxx: needs the g++ compiler (C-simulation of the kernels in hls/)")


def library_sources() -> List[Path]:
    """Every kernel and bridge source: hls/*/*.cpp except the testbenches."""
    return sorted(p for p in HLS.glob("*/*.cpp") if not p.name.endswith("_tb.cpp"))


def _compile(gxx: str, sources: Sequence[Path], output: Path, extra: Sequence[str]) -> Path:
    command = [gxx, *CXXFLAGS, *extra, *INCLUDES, *map(str, sources), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if result.returncode != 0:
        pytest.fail(f"compile failed: {' '.join(command)}\n{result.stderr}", pytrace=False)
    return output


@pytest.fixture(scope="session")
def gxx() -> str:
    path = shutil.which("g++")
    if path is None:
        pytest.skip("g++ not found: C-simulation tests skipped")
    return path


@pytest.fixture(scope="session")
def hls_lib_path(gxx: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared library of all kernels + bridges, freshly compiled."""
    out = tmp_path_factory.mktemp("hls_lib") / "liblabkit_hls.so"
    return _compile(gxx, library_sources(), out, ["-fPIC", "-shared"])


@pytest.fixture(scope="session")
def hls_lib(hls_lib_path: Path):
    """The compiled kernels behind labkit's ctypes wrapper."""
    from labkit.kernels._bridge import KernelLibrary

    return KernelLibrary(str(hls_lib_path))


@pytest.fixture(scope="session")
def build_testbench(gxx: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> Callable[..., Path]:
    """``build_testbench(kernel, sanitize=False)`` -> path of the compiled
    ``<kernel>_tb`` (testbench + kernel, no bridge); built once per session."""
    cache: Dict[Tuple[str, bool], Path] = {}
    directory = tmp_path_factory.mktemp("hls_tb")

    def build(kernel: str, sanitize: bool = False) -> Path:
        key = (kernel, sanitize)
        if key not in cache:
            sources = [HLS / kernel / f"{kernel}_tb.cpp", HLS / kernel / f"{kernel}.cpp"]
            name = f"{kernel}_tb{'_asan' if sanitize else ''}"
            cache[key] = _compile(gxx, sources, directory / name, SANITIZE if sanitize else [])
        return cache[key]

    return build


def _run(tb: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(tb), *args], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


@pytest.fixture
def run_testbench() -> Callable[..., subprocess.CompletedProcess]:
    """``run_testbench(tb, *args)`` -> the completed process (text output)."""
    return _run


@pytest.fixture
def run_vectors(tmp_path: Path) -> Callable[[Path, Sequence[Sequence[int]]], List[List[int]]]:
    """``run_vectors(tb, records)``: write the records (preceded by their
    count) to a vector file, run ``tb vectors in out``, and return the output
    lines as lists of ints."""
    def run(tb: Path, records: Sequence[Sequence[int]]) -> List[List[int]]:
        in_file = tmp_path / f"{tb.name}.in"
        out_file = tmp_path / f"{tb.name}.out"
        lines = [str(len(records))] + [" ".join(str(int(v)) for v in r) for r in records]
        in_file.write_text("\n".join(lines) + "\n")
        result = _run(tb, "vectors", str(in_file), str(out_file))
        assert result.returncode == 0, result.stderr
        return [[int(v) for v in line.split()] for line in out_file.read_text().splitlines()]

    return run


def sanitizers_work(gxx: str, directory: Path) -> bool:
    """True if this g++ can build and run an ASan/UBSan program."""
    probe = directory / "probe.cpp"
    probe.write_text("int main() { return 0; }\n")
    command = [gxx, *SANITIZE, str(probe), "-o", str(directory / "probe")]
    if subprocess.run(command, capture_output=True).returncode != 0:
        return False
    return subprocess.run([str(directory / "probe")], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def sanitizers(gxx: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    if not sanitizers_work(gxx, tmp_path_factory.mktemp("sanitizer_probe")):
        pytest.skip("g++ cannot build AddressSanitizer programs here")
