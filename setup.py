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
from setuptools.command.build_py import build_py

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


# labkit-autosim.pth: lets plain pynq code find the simulated board (see labkit_autosim.py for why).
# A .pth file only works at the top of site-packages, and neither kind of install puts package data
# there: a wheel gets it from build_py (copied to the root of build_lib, which is the wheel's root),
# an editable install (PEP 660, setuptools >= 64) from editable_wheel, whose wheel otherwise holds
# only setuptools' own __editable__ .pth and finder.
AUTOSIM_PTH = "labkit-autosim.pth"


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        self.copy_file(AUTOSIM_PTH, str(Path(self.build_lib, AUTOSIM_PTH)), preserve_mode=0)


CMDCLASS = {"build_ext": BuildExt, "build_py": BuildPyWithPth}
try:
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # setuptools < 64: `pip install -e` runs `develop`, which has no wheel to add to
    editable_wheel = None
else:
    class EditableWheelWithPth(editable_wheel):
        def _create_wheel_file(self, bdist_wheel):  # setuptools' one hook where the wheel exists
            wheel_path = super()._create_wheel_file(bdist_wheel)
            from wheel.wheelfile import WheelFile

            with WheelFile(wheel_path, "a") as wheel:
                wheel.write(str(HERE / AUTOSIM_PTH), AUTOSIM_PTH)
            return wheel_path

    CMDCLASS["editable_wheel"] = EditableWheelWithPth


setup(
    name="pynq-transfer-lab",
    version="0.1.0",
    description="A Jupyter lab on moving data between the PS and the PL of PYNQ boards, with a simulated board",
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    # labkit.notebooks is the notebooks/ folder: what `pynq get-notebooks pynq-transfer-lab` delivers
    packages=find_packages(include=["labkit", "labkit.*"]) + ["labkit.notebooks"],
    package_dir={"labkit.notebooks": "notebooks"},
    py_modules=["labkit_autosim"],
    package_data={
        "labkit.notebooks": ["*.ipynb"],
        "labkit.sim": ["overlays/*.simdesign", "cpp/*.h"],
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
    cmdclass=CMDCLASS,
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
        'tomli>=1.1; python_version<"3.11"',  # kernel specs are TOML (tomllib from 3.11)
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
            "jupyter_server>=2",  # the classroom tests start real Jupyter servers on loopback
            "build>=1",  # the wheel test
        ],
    },
    entry_points={
        "console_scripts": ["labkit=labkit.cli:main"],
        # pynq's notebook delivery: `pynq get-notebooks pynq-transfer-lab` (see notebooks/__init__.py)
        "pynq.notebooks": ["pynq-transfer-lab = labkit.notebooks"],
    },
)
