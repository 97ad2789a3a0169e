"""Build and install pynq-transfer-lab (import package: labkit).

Three compiled parts:

* ``labkit.sim._regwindow`` -- the register windows of the simulated board (C, numpy API);
* ``labkit.sim._plqueue`` -- the simulated PL's job queue and its worker thread (C, pthreads);
* ``labkit.sim._hlskernels`` -- every HLS kernel in ``hls/`` compiled for this computer with its
  ``bridge.cpp``: the simulated board runs the same C++ that Vitis HLS synthesises.  It is a plain
  shared library loaded with ctypes (no Python entry point), built by setuptools for convenience.
"""

from __future__ import annotations

from glob import glob
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
# -O3: the simulated PL runs these kernels on every transfer, and -O3 makes them ~15% faster.
HLS_CXXFLAGS = ["-std=c++17", "-O3", "-Wall", "-Werror", "-Wno-unknown-pragmas"]


def hls_sources() -> list[str]:
    """Kernel and bridge sources: every hls/<kernel>/*.cpp except the testbenches."""
    return sorted(p for p in glob("hls/*/*.cpp") if not p.endswith("_tb.cpp"))


class BuildExt(build_ext):
    """numpy's include path is only known once the build requirements are installed."""

    def finalize_options(self) -> None:
        super().finalize_options()
        import numpy

        for ext in self.extensions:
            if ext.name.endswith("_regwindow"):
                ext.include_dirs.append(numpy.get_include())


setup(
    name="pynq-transfer-lab",
    version="0.1.0",
    description="A Jupyter lab on moving data between the PS and the PL of PYNQ boards, with a simulated board",
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=find_packages(include=["labkit", "labkit.*"]),
    package_data={
        "labkit.sim": ["overlays/*.simdesign"],
        "labkit.classifier": ["weights/*.npz"],
        "labkit": ["data/*", "overlays/*"],
    },
    ext_modules=[
        Extension("labkit.sim._regwindow", ["labkit/sim/_regwindow.c"], extra_compile_args=["-O2", "-Wall"]),
        Extension("labkit.sim._plqueue", ["labkit/sim/_plqueue.c"], extra_compile_args=["-O2", "-Wall"],
                  libraries=["pthread"]),
        Extension("labkit.sim._hlskernels", hls_sources(), language="c++",
                  include_dirs=["hls/common/csim", "hls/common"], extra_compile_args=HLS_CXXFLAGS),
    ],
    cmdclass={"build_ext": BuildExt},
    install_requires=[
        # CI tests pynq 4.0.0 (make test) and 3.1.2 (make test-pynq31); 3.1.x is the last pynq for
        # PYNQ-Z1/Z2 (see README). 3.0.x stays allowed, untested, because the overlay's tools match
        # the PYNQ v3.0.1 image and pip must not try to replace a board image's pynq. pynq's private
        # attributes labkit reads are checked per release (tests/test_pynq_compat.py), so a newer
        # pynq is allowed here once tested.
        "pynq>=3.0,<4.1",
        "numpy>=1.21,<2",  # pynq 3.1.2 and 4.0.0 both require numpy < 2 (and board images ship 1.x)
        "pycparser<3",  # pynq 3/4 break with pycparser 3; 4.0.0 pins it itself, 3.1.2 does not
        "ipywidgets>=8,<9",
        "bqplot>=0.12.40,<0.13",
        "opencv-python-headless>=4.6,<5",
        "pandas>=1.3,<3",  # pynq.DataRecorder keeps its samples in a DataFrame
    ],
    extras_require={
        "lab": ["jupyterlab>=4,<5", "ipykernel>=6"],
        "test": [
            "pytest>=7",
            "nbclient>=0.7",
            "nbformat>=5",
            "ipykernel>=6",
            "jupyterlab>=4,<5",
            "playwright>=1.40",
        ],
    },
    entry_points={"console_scripts": ["labkit=labkit.cli:main"]},
)
