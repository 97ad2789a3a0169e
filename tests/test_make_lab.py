"""``make lab``: starts as root and as a user, prints one URL that opens 00_start_here, and stays quiet.

Runs the real target against the virtual environment this test runs in (``VENV=sys.prefix``,
``-o`` so make never reinstalls), on a free loopback port, and stops it again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make(*args: str, **kwargs) -> list[str]:
    return ["make", "-s", "-C", str(REPO), f"VENV={VENV}", "-o", f"{VENV}/.installed", *args]


pytestmark = pytest.mark.skipif(shutil.which("make") is None or not (VENV / "bin" / "jupyter").exists(),
                                reason="needs make and JupyterLab in this environment (make test-install)")


def test_allow_root_only_for_root():
    dry = subprocess.run(_make("-n", "lab"), capture_output=True, text=True, timeout=30, check=True).stdout
    assert ("--allow-root" in dry) == (os.geteuid() == 0), dry
    assert "--LabApp.default_url=/lab/tree/00_start_here.ipynb" in dry


def test_make_lab_prints_a_url_that_opens_the_first_lesson(tmp_path):
    port = _free_port()
    # kernels talk over IPC sockets in the runtime folder: a short path (a socket path has at most 107 bytes)
    runtime = Path(tempfile.mkdtemp(prefix="labrt-"))
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"), BROWSER="true")  # BROWSER: open nothing
    log = tmp_path / "lab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(_make("lab", f"LAB_PORT={port}"), stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        deadline, url = time.monotonic() + START_TIMEOUT_S, None
        while url is None and time.monotonic() < deadline:
            assert proc.poll() is None, f"make lab exited with {proc.returncode}:\n{log.read_text()}"
            found = re.search(rf"http://127\.0\.0\.1:{port}/\S+", log.read_text(errors="replace"))
            url = found.group(0) if found else None
            time.sleep(0.25)
        assert url, f"make lab printed no URL within {START_TIMEOUT_S} s:\n{log.read_text()}"
        assert url.startswith(f"http://127.0.0.1:{port}/lab/tree/00_start_here.ipynb?token="), url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200 and b"JupyterLab" in response.read()
        # a kernel, as the page would start one: no "running over TCP without encryption" warning
        token = url.split("token=")[1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/sessions?token={token}", method="POST",
            data=json.dumps({"path": "00_start_here.ipynb", "type": "notebook", "kernel": {"name": "python3"}}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        time.sleep(5)
        output = log.read_text(errors="replace")
        assert "Running as root is not recommended" not in output
        assert "without encryption" not in output, output
        assert not re.search(r"^\[I ", output, re.M), f"info lines in a quiet start:\n{output}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        shutil.rmtree(runtime, ignore_errors=True)
