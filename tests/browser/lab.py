"""JupyterLab on loopback, driven by Debian's chromium through playwright: what the browser tests share.

``start_lab`` runs a JupyterLab over a folder of notebooks on 127.0.0.1 (a free port, a random
token, its own config/settings/runtime folders so nothing of the user's Jupyter set-up leaks in
and nothing is fetched from the network).  ``open_chromium`` starts the browser with a fresh
profile.  Never ``playwright install``: the browser is Debian's ``/usr/bin/chromium``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOW_TO_ENABLE = "install Debian's chromium: apt-get install -y chromium (.ci/run does it)"
SERVER_TIMEOUT_S = 120

# JupyterLab settings for a test: render every cell (windowing would leave the outputs of cells out of
# view out of the page, so they could not be checked), no news, no update check.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
}


def need_browser():
    """playwright's sync API; skips the test (saying how to enable it) without chromium or playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: {HOW_TO_ENABLE}")
    return pytest.importorskip("playwright.sync_api",
                               reason=f"playwright is missing: pip install -e '.[test]'; and {HOW_TO_ENABLE}")


@dataclass
class Lab:
    """A running JupyterLab: where it answers, its token, its log file."""

    base: str
    token: str
    log: Path

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}"

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base}/api/{path}?token={self.token}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process (Linux): get SIGTERM when pytest dies, so a killed test run leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started (its own process group: the server and its kernels)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _wait_for_server(lab: Lab, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{lab.log_tail()}")
        try:
            lab.api("status")
            return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer on {lab.base} within {timeout} s:\n{lab.log_tail()}")


@contextlib.contextmanager
def start_lab(root: Path, scratch: Path, env: dict[str, str] | None = None) -> Iterator[Lab]:
    """JupyterLab serving ``root`` on 127.0.0.1; ``scratch`` holds its config, settings and log."""
    for name, value in LAB_SETTINGS.items():
        path = scratch / "lab-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    full_env = dict(os.environ, LABKIT_BOARD="sim",
                    JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"),
                    JUPYTER_RUNTIME_DIR=str(scratch / "jupyter-runtime"),
                    JUPYTERLAB_SETTINGS_DIR=str(scratch / "lab-settings"),
                    JUPYTERLAB_WORKSPACES_DIR=str(scratch / "lab-workspaces"),
                    IPYTHONDIR=str(scratch / "ipython"), **(env or {}))
    full_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + full_env.get("PATH", "")
    log = scratch / "jupyter.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--notebook-dir={root}",
           "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run the cells by command
           # nothing from the network: no update check, no news feed, no PyPI extension manager
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=full_env, cwd=root,
                                start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    lab = Lab(f"http://127.0.0.1:{port}", token, log)
    try:
        _wait_for_server(lab, proc, SERVER_TIMEOUT_S)
        yield lab
    finally:
        _stop(proc)


@contextlib.contextmanager
def open_chromium(sync_api, profile: Path, viewport: dict | None = None):
    """A chromium page with a fresh profile (``--user-data-dir``), closed afterwards."""
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport=viewport or {"width": 1400, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()


def wait_for_kernel(lab: Lab, timeout: float) -> None:
    """Until a kernel is started, connected to the page and idle (asked over the REST API)."""
    deadline = time.monotonic() + timeout
    kernels: list = []
    while time.monotonic() < deadline:
        kernels = lab.api("kernels")
        if any(k.get("execution_state") == "idle" and k.get("connections", 0) > 0 for k in kernels):
            return
        time.sleep(0.25)
    pytest.fail(f"the notebook's kernel was not ready within {timeout} s: {kernels}")


def run_all_cells(page, attempts: int = 3, wait_s: float = 20) -> None:
    """Run > Run All Cells (the app's command), until the first code cell shows it has run.

    The command is not awaited: its promise only settles when every cell has finished.  If
    nothing starts (the page was not quite ready), it is issued again.
    """
    for _ in range(attempts):
        page.locator(".jp-Notebook .jp-Cell").first.click()  # the notebook must be the current widget
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return true; }")
        try:
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))"
                "       .some(p => /\\[(\\d+|\\*)\\]/.test(p.textContent))", timeout=wait_s * 1000)
            return
        except Exception:  # noqa: BLE001 -- playwright's TimeoutError: try once more
            continue
    pytest.fail(f"no cell started running after {attempts} x Run All Cells")


def dismiss_news_toast(page) -> None:
    """JupyterLab may ask whether to fetch its news; answer no so the toast leaves the screenshot (best effort)."""
    try:
        page.locator(".jp-Notification-Toast button:has-text('No'), .Toastify button:has-text('No')").first.click(
            timeout=1000)
    except Exception:  # noqa: BLE001 -- no toast, nothing to do
        pass
