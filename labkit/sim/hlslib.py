"""The HLS kernels of ``hls/``, compiled for this computer, as the simulated board calls them.

``setup.py`` compiles every kernel with its ``bridge.cpp`` into the shared
library ``labkit/sim/_hlskernels*.so`` when the package is installed.  Calls
go through ctypes, which releases the GIL for the duration of each call: the
PL's worker thread computes while the notebook's Python goes on.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

import numpy as np

from labkit.kernels import cnn_classifier
from labkit.kernels._bridge import KernelLibrary

__all__ = ["kernel_library", "SimKernelLibrary", "library_path"]

LIBRARY_STEM = "_hlskernels"


def library_path() -> Path:
    """Where the compiled kernels are (raises a clear error when the package was not built)."""
    here = Path(__file__).parent
    found = sorted(here.glob(f"{LIBRARY_STEM}*.so"))
    if not found:
        raise ImportError(
            f"the compiled HLS kernels ({LIBRARY_STEM}*.so) are missing from {here}: they are built when the "
            "package is installed. Run `make lab` or `pip install -e .` in the repository.")
    return found[-1]


class SimKernelLibrary(KernelLibrary):
    """:class:`~labkit.kernels._bridge.KernelLibrary` plus the classifier's bridge."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        fn = self.lib.lab_cnn_classifier
        fn.restype = ctypes.c_long
        fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t,
                       ctypes.c_uint32]

    def task_function(self, kernel: str) -> int:
        """Address of ``lab_task_<kernel>``, the entry the PL's job queue calls (see worker.py)."""
        return ctypes.cast(getattr(self.lib, f"lab_task_{kernel}"), ctypes.c_void_p).value

    def cnn_classifier(self, beats: np.ndarray, batch: int) -> tuple[int, np.ndarray, np.ndarray]:
        """One batch: returns ``(status, score words, last flags)`` (status < 0: bridge refused)."""
        beats = np.ascontiguousarray(beats, dtype=np.uint64).reshape(-1)
        cap = max(1, batch * cnn_classifier.SCORES_PER_IMAGE)
        out = np.zeros(cap, dtype=np.uint32)
        last = np.zeros(cap, dtype=np.uint8)
        status = self.lib.lab_cnn_classifier(beats.ctypes.data if beats.size else None, beats.size,
                                             out.ctypes.data, last.ctypes.data, cap, batch)
        if status < 0:
            return status, out[:0], last[:0]
        return status, out[:status], last[:status]


@functools.lru_cache(maxsize=1)
def kernel_library() -> SimKernelLibrary:
    """The compiled kernels (loaded once per process)."""
    return SimKernelLibrary(str(library_path()))
