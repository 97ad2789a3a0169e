"""Fixtures for the HLS kernel tests: build the csim testbenches and the
shared library of kernels + bridges with g++, in a temporary directory, run
them, and compare the streaming kernels' results with their numpy twins.

The library is built exactly as the package build does it: every
``hls/*/*.cpp`` except the ``*_tb.cpp`` testbenches, with the csim flags plus
``-fPIC -shared``. Tests that need a compiler carry the ``needs_gxx`` marker
and are skipped when g++ is missing.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
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


# --- streaming kernels (pp_load_compute, pp_store): C++ against the numpy twin
#
# A call is the tuple ``(in_words, *args)`` that the twin's ``run`` takes
# (``args`` = num, op, n, pingpong or num, n, pingpong); the bridge instance's
# ``run`` takes the same, and the testbench's vector record is
# ``*args len(in_words) in_words``.

#: Status at the head of a streaming testbench's vector record
#: (TB_STATUS_OK / TB_STATUS_DRY in hls/common/lab_tb_axis.h).
TB_OK, TB_DRY = 0, 1

Call = Tuple[Any, ...]


def _beats_requested(twin: Any, call: Call) -> int:
    """The call's ``n`` argument: the beats the kernel reads and writes."""
    return inspect.signature(twin.run).bind(*call).arguments["n"]


def _expected_record(twin: Any, call: Call) -> List[int]:
    """The testbench's output record for this call, from the twin: ``[TB_OK,
    n, 0, d0, l0, d1, l1, ...]``, or ``[TB_DRY, 0, 0]`` if the input runs dry
    (the only error the twin may raise here)."""
    from labkit.kernels import KernelArgumentError, _status

    try:
        out, last = twin.run(*call)
    except KernelArgumentError as err:
        assert err.code == _status.LAB_ERR_INPUT_DRY
        return [TB_DRY, 0, 0]
    pairs = np.stack([out.astype(np.int64), last.astype(np.int64)], axis=1).reshape(-1)
    return [TB_OK, _beats_requested(twin, call), 0, *pairs.tolist()]


@pytest.fixture
def stream_vectors_match_twin(build_testbench: Callable[..., Path], run_vectors: Callable
                              ) -> Callable[[str, Any, Sequence[Call]], None]:
    """``stream_vectors_match_twin(kernel, twin, calls)``: run the calls in
    order through ``<kernel>_tb vectors`` (one process, so the HLS top's
    static buffers carry over, starting at zero like a fresh twin's) and
    assert that every output record equals the twin's."""
    def check(kernel: str, twin: Any, calls: Sequence[Call]) -> None:
        records = [[*args, len(in_words), *in_words.tolist()] for in_words, *args in calls]
        outputs = run_vectors(build_testbench(kernel), records)
        assert len(outputs) == len(calls)
        for i, (call, got) in enumerate(zip(calls, outputs)):
            assert got == _expected_record(twin, call), f"call {i}"

    return check


@pytest.fixture
def bridge_calls_match_twin() -> Callable[[Any, Any, Sequence[Call]], None]:
    """``bridge_calls_match_twin(instance, twin, calls)``: run the calls in
    order through a bridge instance and the twin. Each must return ``n``
    beats equal to the twin's data and TLAST, or, where the twin raises (only
    for a dry input), that same error code."""
    from labkit.kernels import KernelArgumentError, _status

    def check(instance: Any, twin: Any, calls: Sequence[Call]) -> None:
        for i, call in enumerate(calls):
            label = f"call {i}"
            status, out, last = instance.run(*call)
            try:
                want_out, want_last = twin.run(*call)
            except KernelArgumentError as err:
                assert status == err.code == _status.LAB_ERR_INPUT_DRY, label
                continue
            assert status == _beats_requested(twin, call), label
            np.testing.assert_array_equal(out, want_out, err_msg=label)
            np.testing.assert_array_equal(last, want_last, err_msg=label)

    return check
