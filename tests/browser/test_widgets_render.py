"""The bench widgets render in a real browser: JupyterLab + Debian's chromium, driven by playwright.

Starts JupyterLab on 127.0.0.1 (a free port, a random token) in a temporary folder holding a
copy of ``widgets_smoke.ipynb``, opens it in headless chromium, runs all cells (a small sweep on
the simulated board in host pace, a ``TransferRace`` and a ``BandwidthPlot``) and waits until the
bqplot figures and the ipywidgets are drawn.  The screenshot goes to
``test-artifacts/browser/widgets.png`` (and the ping-pong timeline to ``timeline.png``).

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` does it) and the Python
package ``playwright`` (in the ``test`` extra).  Never ``playwright install``: the browser is
Debian's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.needs_browser, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NOTEBOOK = HERE / "widgets_smoke.ipynb"
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_S = 120
HOW_TO_ENABLE = "install Debian's chromium: apt-get install chromium; .ci/run does it"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def _die_with_parent() -> None:
    """In the server's process (Linux): get SIGTERM when pytest dies, so a killed test run leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server we started (its own process group: the server and its kernel)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def _wait_for_kernel(base: str, token: str, timeout: float) -> None:
    """Until the notebook's kernel is started, connected to the page and idle (asked over the REST API)."""
    deadline = time.monotonic() + timeout
    kernels: list = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as response:
            kernels = json.loads(response.read())
        if any(k.get("execution_state") == "idle" and k.get("connections", 0) > 0 for k in kernels):
            return
        time.sleep(0.25)
    pytest.fail(f"the notebook's kernel was not ready within {timeout} s: {kernels}")


def _run_all_cells(page, attempts: int = 3, wait_s: float = 20) -> None:
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


def _dismiss_news_toast(page) -> None:
    """JupyterLab asks whether to fetch its news; answer no so the toast leaves the screenshot (best effort)."""
    try:
        page.locator(".jp-Notification-Toast button:has-text('No'), .Toastify button:has-text('No')").first.click(
            timeout=2000)
    except Exception:  # noqa: BLE001 -- no toast, nothing to do
        pass


@pytest.fixture
def jupyter_lab(tmp_path):
    """(base URL, token, notebook name) of a JupyterLab serving a copy of the smoke notebook."""
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, LABKIT_BOARD="sim", LABKIT_SIM_PACE="host",
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"),
               IPYTHONDIR=str(tmp_path / "ipython"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    log = tmp_path / "jupyter.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--notebook-dir={root}",
           "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run the cells by command
           # nothing from the network: no update check, no news feed, no PyPI extension manager
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root,
                                start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", proc, log, TIMEOUT_S)
        yield base, token, NOTEBOOK.name, log
    finally:
        _stop(proc)


def test_bench_widgets_render_in_chromium(jupyter_lab, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: {HOW_TO_ENABLE}")
    sync_api = pytest.importorskip("playwright.sync_api", reason=f"playwright is missing: pip install playwright "
                                                                 f"(the test extra); and {HOW_TO_ENABLE}")
    base, token, name, log = jupyter_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1600})
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(TIMEOUT_S * 1000)
        try:
            page.goto(f"{base}/lab/tree/{name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell")
            page.wait_for_function("() => window.jupyterapp !== undefined")
            _wait_for_kernel(base, token, TIMEOUT_S)
            _run_all_cells(page)
            page.wait_for_selector(".jp-OutputArea-output:has-text('SMOKE-DONE')")
            # two figures of the race, one bandwidth plot, two timeline panels
            page.wait_for_function("() => document.querySelectorAll('.bqplot svg.svg-figure').length >= 5")
            page.wait_for_selector(".jupyter-widgets.widget-hprogress")  # the sweep's progress bar
            # The bars and lines are drawn with data, not just empty axes.
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.bqplot rect.bar'))"
                "       .some(r => parseFloat(r.getAttribute('width')) > 1)")
            drawn = page.evaluate("""() => ({
                figures: document.querySelectorAll('.bqplot svg.svg-figure').length,
                bars: Array.from(document.querySelectorAll('.bqplot rect.bar'))
                          .filter(r => parseFloat(r.getAttribute('width')) > 1).length,
                lines: document.querySelectorAll('.bqplot path.line').length,
                widgets: document.querySelectorAll('.jupyter-widgets').length,
                progress: Array.from(document.querySelectorAll('.widget-hprogress ~ .widget-html .widget-html-content'))
                          .map(e => e.textContent).join(' | '),
                text: Array.from(document.querySelectorAll('.widget-html-content')).map(e => e.textContent).join(' | '),
                errors: Array.from(document.querySelectorAll(
                            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                          .map(e => e.textContent).filter(t => t.includes('Error')),
            })""")
            _dismiss_news_toast(page)
            page.locator(".bqplot").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "widgets.png"))
            page.locator(".bqplot").last.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "timeline.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "widgets-failure.png"))
            print(log.read_text(errors="replace")[-3000:])
            raise
        finally:
            context.close()
    assert drawn["figures"] >= 5, drawn
    assert drawn["bars"] >= 2 and drawn["lines"] >= 1 and drawn["widgets"] >= 5, drawn
    assert "measured" in drawn["text"] and "estimated" in drawn["text"] and "modelled" in drawn["text"], drawn
    assert "done: 6/6 cells" in drawn["progress"], drawn
    assert "modelled PL time (simulated board)" in drawn["text"], drawn
    assert not drawn["errors"], drawn["errors"]
    assert (ARTIFACTS / "widgets.png").stat().st_size > 10_000
