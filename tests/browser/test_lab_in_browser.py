"""Every lesson, run as a student runs it: JupyterLab in chromium, Run All Cells, then look.

One JupyterLab per pace serves a copy of ``notebooks/``.  For each notebook the test opens it in a
fresh tab, runs all cells, waits until every cell has run and the kernel is idle (with a timeout),
then fails on

* any error output (a traceback) or a stderr stream that reports an error or a warning,
* any widget output area left empty (a widget closed under the student's eyes, or never drawn),
  a control cut off at its right edge, or a widget wider than the notebook (a sideways scrollbar),
* any error in JupyterLab's log console for that notebook, or in the browser's console.

It saves ``test-artifacts/browser/<notebook>.png`` (the notebook's first screen) and one
``<notebook>-cell<N>-widget<K>.png`` per widget, for a person to look at.  The notebooks run on the
simulated board in host pace unless what they teach is the board's pace (``PACES``): the same
cells, as fast as this computer can, so the whole lab takes minutes.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from pathlib import Path

import pytest

from lab import ARTIFACTS, REPO, dismiss_news_toast, need_browser, open_chromium, run_all_cells, start_lab, \
    wait_for_kernel

pytestmark = [pytest.mark.needs_browser, pytest.mark.slow]

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: notebooks that teach what the board's pace shows (timings whose proportions are a board's); the rest: host
PACES = {"01_mmio_per_word": "board", "02_mmio_array": "board", "03_dma": "board", "04_double_buffering": "board"}
NOTEBOOK_TIMEOUT_S = 420     #: Run All of one notebook, until idle
OPEN_TIMEOUT_S = 120         #: the page, the kernel
WIDGET_SETTLE_S = 2.0        #: after the kernel is idle: let the last widget messages reach the page
VIEWPORT = {"width": 1280, "height": 900}
STDERR_BAD = re.compile(r"Traceback|Error|Warning|warn", re.IGNORECASE)

# What the notebook's model holds: every output of every code cell, by cell index.
_OUTPUTS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    for (const out of cell.model.outputs.toJSON()) {
      const text = out.text ? (Array.isArray(out.text) ? out.text.join('') : out.text) : '';
      found.push({cell: index, type: out.output_type, name: out.name || '', text: text,
                  error: out.output_type === 'error' ? out.ename + ': ' + out.evalue : ''});
    }
  });
  return found;
}"""

# Every widget output (by the notebook's model), marked in the page for its screenshot: its cell, its size,
# whether something is drawn in it.
_WIDGET_AREAS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const found = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON();
    outputs.forEach((out, k) => {
      if (!out.data || !out.data['application/vnd.jupyter.widget-view+json']) return;
      const child = cell.outputArea.widgets[k];
      if (!child) { found.push({mark: '', cell: index, height: 0, width: 0, children: 0, text: 'no output node'}); return; }
      const mark = `${index}-${k}`;
      child.node.setAttribute('data-labkit-widget', mark);
      const box = child.node.getBoundingClientRect();
      // a control pushed past the right edge (clipped), or an area that scrolls sideways
      const clipped = Array.from(child.node.querySelectorAll('select, button, .widget-dropdown, .widget-toggle-buttons'))
          .filter(e => e.getBoundingClientRect().right > box.right + 1).map(e => e.textContent.trim().slice(0, 40));
      const scrolls = [child.node, ...child.node.querySelectorAll('.jp-OutputArea-output')]
          .some(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'hidden');
      found.push({mark: mark, cell: index, height: box.height, width: box.width,
                  children: child.node.querySelectorAll('.jupyter-widgets, .widget-box, .bqplot').length,
                  text: child.node.textContent.slice(0, 300), clipped: clipped, scrolls: scrolls});
    });
  });
  return found;
}"""

_DONE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.sessionContext.session) return false;
  const kernel = panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return false;
  const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
                       .map(p => p.textContent.trim());
  return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
}"""


#: What a notebook must show beyond "no error": a JavaScript predicate on the page, and what it means.
EXPECT = {
    "09_instructor_compare": ("""() => {
        const titles = Array.from(document.querySelectorAll('.bqplot .mainheading')).map(e => e.textContent);
        const text = Array.from(document.querySelectorAll('.widget-html-content')).map(e => e.textContent).join(' ');
        return document.querySelectorAll('.bqplot svg.svg-figure').length >= 3
            && document.querySelectorAll('.bqplot .dot').length > 20
            && titles.length >= 3 && titles.every(t => t.includes('SYNTHETIC'))
            && text.includes('SYNTHETIC CLASS') && text.includes('flagged run');
    }""", "the dashboards drawn with data, every chart labelled SYNTHETIC, outliers flagged"),
}


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """``labs(pace)``: a JupyterLab serving a copy of notebooks/ whose kernels run the simulated board at ``pace``."""
    sync_api = need_browser()
    started: dict[str, object] = {}
    with contextlib.ExitStack() as stack:  # every server started here is stopped at the end
        def lab_for(pace: str):
            if pace not in started:
                scratch = tmp_path_factory.mktemp(f"lab-{pace}")
                root = scratch / "notebooks"
                shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
                started[pace] = stack.enter_context(start_lab(root, scratch, env={"LABKIT_SIM_PACE": pace}))
            return started[pace]

        yield sync_api, lab_for


@pytest.fixture(scope="module")
def browser(labs, tmp_path_factory):
    """One chromium for the module (a fresh profile); each notebook gets its own tab."""
    sync_api, _ = labs
    # a laptop's screen: what is clipped at this width is clipped for a student
    with open_chromium(sync_api, tmp_path_factory.mktemp("chromium-profile"), VIEWPORT) as page:
        console: list[str] = []
        page.context.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)
        page.context.on("weberror", lambda err: console.append(f"page error: {err.error}"))
        yield page.context, console


def _log_console_errors(page) -> list[str]:
    """The entries of JupyterLab's log console for the current notebook at level error or above."""
    page.evaluate("() => window.jupyterapp.commands.execute('logconsole:open', {insertMode: 'split-bottom'})")
    try:
        page.wait_for_selector(".jp-LogConsolePanel", timeout=10_000)
    except Exception:  # noqa: BLE001 -- playwright's TimeoutError
        pytest.fail("JupyterLab's log console did not open (command logconsole:open)")
    time.sleep(0.5)
    return page.evaluate("""() => Array.from(document.querySelectorAll('.jp-LogConsolePanel .jp-OutputArea-child'))
        .filter(e => /critical|error/i.test(e.querySelector('.jp-OutputArea-prompt')?.textContent || '')
                     || e.querySelector('[data-mime-type="application/vnd.jupyter.stderr"]'))
        .map(e => e.textContent.slice(0, 500))""")


def _shutdown_sessions(lab) -> None:
    """Stop every kernel of this JupyterLab: the next notebook starts on a quiet machine."""
    for session in lab.api("sessions"):
        lab.api(f"sessions/{session['id']}", method="DELETE")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_chromium(labs, browser, path: Path):
    _, lab_for = labs
    context, console = browser
    lab = lab_for(PACES.get(path.stem, "host"))
    console.clear()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{path.stem}*.png"):
        old.unlink()
    log_start = lab.log.stat().st_size
    page = context.new_page()
    page.set_default_timeout(OPEN_TIMEOUT_S * 1000)
    started = time.monotonic()
    try:
        page.goto(f"{lab.base}/lab/tree/{path.name}?reset&token={lab.token}")
        page.wait_for_selector(".jp-Notebook .jp-CodeCell")
        page.wait_for_function("() => window.jupyterapp !== undefined && window.jupyterapp.shell.currentWidget")
        wait_for_kernel(lab, OPEN_TIMEOUT_S)
        run_all_cells(page)
        try:
            page.wait_for_function(_DONE_JS, timeout=NOTEBOOK_TIMEOUT_S * 1000, polling=1000)
        except Exception:  # noqa: BLE001 -- playwright's TimeoutError, said in words
            page.screenshot(path=str(ARTIFACTS / f"{path.stem}-timeout.png"))
            pytest.fail(f"{path.name}: Run All did not finish within {NOTEBOOK_TIMEOUT_S} s "
                        f"(see {path.stem}-timeout.png)")
        ran_s = time.monotonic() - started
        time.sleep(WIDGET_SETTLE_S)
        outputs = page.evaluate(_OUTPUTS_JS)
        areas = page.evaluate(_WIDGET_AREAS_JS)
        expected = EXPECT.get(path.stem)
        shows = page.evaluate(expected[0]) if expected else True
        dismiss_news_toast(page)
        page.screenshot(path=str(ARTIFACTS / f"{path.stem}.png"))
        for area in areas:
            if area["height"] > 4:
                page.locator(f'[data-labkit-widget="{area["mark"]}"]').screenshot(
                    path=str(ARTIFACTS / f"{path.stem}-widget-{area['mark']}.png"))
        log_errors = _log_console_errors(page)
    finally:
        page.close()
        _shutdown_sessions(lab)
    print(f"{path.name}: ran in {ran_s:.0f} s (measured, this machine), {len(areas)} widget areas")

    problems = [f"cell {o['cell']}: {o['error']}" for o in outputs if o["type"] == "error"]
    problems += [f"cell {o['cell']}: stderr: {o['text'][:300]}" for o in outputs
                 if o["type"] == "stream" and o["name"] == "stderr" and STDERR_BAD.search(o["text"])]
    problems += [f"cell {a['cell']}: widget output area left empty ({a['width']:.0f}x{a['height']:.0f} px)"
                 for a in areas if a["height"] <= 4 or a["children"] == 0]
    problems += [f"cell {a['cell']}: widget not drawn: {a['text'][:200]}" for a in areas
                 if "Error displaying widget" in a["text"] or "model not found" in a["text"]]
    problems += [f"cell {a['cell']}: controls cut off at the right edge: {a['clipped']}" for a in areas if a["clipped"]]
    problems += [f"cell {a['cell']}: the widget scrolls sideways (wider than the notebook)" for a in areas
                 if a["scrolls"]]
    problems += [] if shows else [f"does not show {expected[1]}"]
    problems += [f"log console: {e}" for e in log_errors]
    problems += [f"browser console: {c[:300]}" for c in console]
    with lab.log.open("rb") as log:
        log.seek(log_start)
        server_log = log.read().decode(errors="replace")
    problems += [f"server log: {line[:300]}" for line in server_log.splitlines() if "No such comm" in line]
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
