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

import shutil
from pathlib import Path

import pytest

from lab import ARTIFACTS, dismiss_news_toast, need_browser, open_chromium, run_all_cells, start_lab, wait_for_kernel

pytestmark = [pytest.mark.needs_browser, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "widgets_smoke.ipynb"
TIMEOUT_S = 120


@pytest.fixture
def jupyter_lab(tmp_path):
    """(lab, notebook name) of a JupyterLab serving a copy of the smoke notebook."""
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    with start_lab(root, tmp_path, env={"LABKIT_SIM_PACE": "host"}) as lab:
        yield lab, NOTEBOOK.name


def test_bench_widgets_render_in_chromium(jupyter_lab, tmp_path):
    sync_api = need_browser()
    lab, name = jupyter_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open_chromium(sync_api, tmp_path / "chromium-profile", {"width": 1400, "height": 1600}) as page:
        page.set_default_timeout(TIMEOUT_S * 1000)
        try:
            page.goto(lab.url(name))
            page.wait_for_selector(".jp-Notebook .jp-CodeCell")
            page.wait_for_function("() => window.jupyterapp !== undefined")
            wait_for_kernel(lab, TIMEOUT_S)
            run_all_cells(page)
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
            dismiss_news_toast(page)
            page.locator(".bqplot").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "widgets.png"))
            page.locator(".bqplot").last.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "timeline.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "widgets-failure.png"))
            print(lab.log_tail())
            raise
    assert drawn["figures"] >= 5, drawn
    assert drawn["bars"] >= 2 and drawn["lines"] >= 1 and drawn["widgets"] >= 5, drawn
    assert "measured" in drawn["text"] and "estimated" in drawn["text"] and "modelled" in drawn["text"], drawn
    assert "done: 6/6 cells" in drawn["progress"], drawn
    assert "modelled PL time (simulated board)" in drawn["text"], drawn
    assert not drawn["errors"], drawn["errors"]
    assert (ARTIFACTS / "widgets.png").stat().st_size > 10_000
