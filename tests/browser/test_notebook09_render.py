"""Notebook 09 (instructor comparisons) renders in a real browser: JupyterLab + Debian's chromium.

Serves a copy of ``notebooks/09_instructor_compare.ipynb``, runs all its cells in headless
chromium, waits until the dashboard's bqplot figures are drawn with data and the synthetic
label shows, and saves ``test-artifacts/browser/notebook09.png``.  Same harness and needs as
``test_widgets_render.py``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_widgets_render import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, HOW_TO_ENABLE, TIMEOUT_S, _die_with_parent,
                                 _dismiss_news_toast, _free_port, _run_all_cells, _stop, _wait_for_kernel,
                                 _wait_for_server)

pytestmark = [pytest.mark.needs_browser, pytest.mark.slow]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "09_instructor_compare.ipynb"


@pytest.fixture
def lab09(tmp_path):
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, LABKIT_BOARD="sim", LABKIT_AUTOSAVE="0",
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "lab-workspaces"), IPYTHONDIR=str(tmp_path / "ipython"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    log = tmp_path / "jupyter.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--notebook-dir={root}",
           "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", proc, log, TIMEOUT_S)
        yield base, token, log
    finally:
        _stop(proc)


def test_notebook09_dashboard_renders_in_chromium(lab09, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: {HOW_TO_ENABLE}")
    sync_api = pytest.importorskip("playwright.sync_api", reason=f"playwright is missing; and {HOW_TO_ENABLE}")
    base, token, log = lab09
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "notebook09.png"
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1800})
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(TIMEOUT_S * 1000)
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell")
            page.wait_for_function("() => window.jupyterapp !== undefined")
            _wait_for_kernel(base, token, TIMEOUT_S)
            _run_all_cells(page)
            page.wait_for_selector(".jp-OutputArea-output:has-text('Correct:')")  # the last check ran
            page.wait_for_function("() => document.querySelectorAll('.bqplot svg.svg-figure').length >= 3")
            page.wait_for_function("() => document.querySelectorAll('.bqplot .dot').length > 20")
            drawn = page.evaluate("""() => ({
                figures: document.querySelectorAll('.bqplot svg.svg-figure').length,
                dots: document.querySelectorAll('.bqplot .dot').length,
                boxes: document.querySelectorAll('.bqplot .box').length,
                cells: document.querySelectorAll('.bqplot .heatmapcell').length,
                titles: Array.from(document.querySelectorAll('.bqplot .mainheading')).map(e => e.textContent),
                text: Array.from(document.querySelectorAll('.widget-html-content')).map(e => e.textContent).join(' | '),
                errors: Array.from(document.querySelectorAll(
                            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                          .map(e => e.textContent).filter(t => t.includes('Error')),
            })""")
            _dismiss_news_toast(page)
            page.locator(".bqplot").first.scroll_into_view_if_needed()
            page.screenshot(path=str(shot))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "notebook09-failure.png"))
            print(log.read_text(errors="replace")[-3000:])
            raise
        finally:
            context.close()
    assert drawn["figures"] >= 3 and drawn["dots"] > 20 and drawn["cells"] > 40, drawn
    assert all("SYNTHETIC" in t for t in drawn["titles"]) and len(drawn["titles"]) >= 3, drawn
    assert "SYNTHETIC CLASS" in drawn["text"] and "flagged run" in drawn["text"], drawn
    assert not drawn["errors"], drawn["errors"]
    assert shot.stat().st_size > 10_000
