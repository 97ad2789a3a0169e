"""The lab installs the PYNQ way: `pynq get-notebooks pynq-transfer-lab`, and a wheel that works in a clean venv.

pynq's ``get-notebooks`` finds the lab through the ``pynq.notebooks`` entry point (setup.py)
and copies the ``labkit.notebooks`` package folder.  Off-board there is no device to resolve
overlays for: ``-o`` (``--ignore-overlays``) delivers the notebooks as they are, and ``-d NAME``
names a device; ``-p DIR`` says where to.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))


def _get_notebooks(pynq: Path, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(pynq), "get-notebooks", "pynq-transfer-lab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("options", [["-o"], ["-d", "PYNQ-Z1"]], ids=["ignore-overlays", "device"])
def test_get_notebooks_delivers_the_lab(tmp_path, options):
    done = _get_notebooks(BIN / "pynq", *options, "-p", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    delivered = tmp_path / "out" / "pynq-transfer-lab"
    assert sorted(p.name for p in delivered.iterdir()) == NOTEBOOKS  # notebooks only: no __init__.py
    again = _get_notebooks(BIN / "pynq", *options, "-p", str(tmp_path / "out"), cwd=tmp_path)
    assert again.returncode == 0 and "already delivered" in (again.stdout + again.stderr)


@pytest.mark.slow
def test_wheel_installs_in_a_clean_venv_and_runs_a_delivered_notebook(tmp_path):
    """python -m build (sdist, then the wheel from it), a new venv, the wheel, get-notebooks, one notebook."""
    start = time.perf_counter()
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], capture_output=True,
                           text=True, timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    assert list(dist.glob("*.tar.gz")), "no sdist"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel), "nbclient>=0.7",
                          "ipykernel>=6"], capture_output=True, text=True, timeout=1800)
    assert pip.returncode == 0, pip.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(LABKIT_BOARD="sim", LABKIT_AUTOSAVE="0", PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    done = _get_notebooks(venv / "bin" / "pynq", "-o", "-p", str(tmp_path / "nb"), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    notebook = tmp_path / "nb" / "pynq-transfer-lab" / "00_start_here.ipynb"
    script = ("import nbformat, sys; from nbclient import NotebookClient; "
              f"nb = nbformat.read({str(notebook)!r}, 4); "
              f"NotebookClient(nb, timeout=600, kernel_name='python3', resources={{'metadata': {{'path': {str(notebook.parent)!r}}}}}).execute(); "
              "import labkit; print('ran with labkit from', labkit.__file__)")
    ran = subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=1200)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert str(venv) in ran.stdout  # the installed wheel, not this checkout
    print(f"wheel test: {time.perf_counter() - start:.0f} s measured on {os.cpu_count()} cores")
