"""The HLS kernels of ``hls/``, compiled for this computer, as the simulated board calls them.

``setup.py`` compiles every kernel with its ``bridge.cpp`` into the shared
library ``labkit/sim/_hlskernels*.so`` when the package is installed.  The
simulated PL calls each kernel through its uniform ``lab_task_<kernel>`` entry
from the C job queue (``_plqueue.c``), without the GIL: the PL computes while
the notebook's Python goes on.
"""

from __future__ import annotations

import ctypes
import functools
from pathlib import Path

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
    """:class:`~labkit.kernels._bridge.KernelLibrary` plus the entries the PL's job queue calls."""

    def task_function(self, kernel: str) -> int:
        """Address of ``lab_task_<kernel>``, the entry the PL's job queue calls (see worker.py)."""
        return ctypes.cast(getattr(self.lib, f"lab_task_{kernel}"), ctypes.c_void_p).value


@functools.lru_cache(maxsize=1)
def kernel_library() -> SimKernelLibrary:
    """The compiled kernels (loaded once per process)."""
    return SimKernelLibrary(str(library_path()))
