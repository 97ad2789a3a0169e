"""Where classroom results go and who made them: the student/team label and the autosave switch.

The label is asked once and kept in a small JSON file, ``student.json`` in the lab's
config folder (``$LABKIT_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/pynq-transfer-lab``, else
``~/.config/pynq-transfer-lab``): on a PYNQ board that is the ``xilinx`` user's home, so
every notebook of the workshop finds it.

Results are appended to ``labkit-results.jsonl`` in the folder the notebook runs in
(``$LABKIT_RESULTS`` names another file).  Saving is on by default;
``LABKIT_AUTOSAVE=0`` (or :func:`set_autosave`) turns it off.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

__all__ = ["RESULTS_FILE", "config_dir", "results_path", "student", "set_student", "autosave_enabled",
           "set_autosave", "ask_student", "UNNAMED"]

RESULTS_FILE = "labkit-results.jsonl"  #: the results file a notebook folder gets
AUTOSAVE_ENV = "LABKIT_AUTOSAVE"
RESULTS_ENV = "LABKIT_RESULTS"
CONFIG_ENV = "LABKIT_CONFIG_DIR"
STUDENT_ENV = "LABKIT_STUDENT"  #: overrides the config file (a JupyterHub can set it per user)
UNNAMED = "unnamed"
_LABEL = re.compile(r"^[\w .@+-]{1,64}$")


def config_dir() -> Path:
    """The folder of the lab's small config files (not created until something is written)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "pynq-transfer-lab"


def results_path() -> Path:
    """The results file records are appended to: ``$LABKIT_RESULTS`` or ./labkit-results.jsonl."""
    return Path(os.environ.get(RESULTS_ENV) or RESULTS_FILE)


def _student_file() -> Path:
    return config_dir() / "student.json"


def student() -> str:
    """The student or team label results are saved under (``"unnamed"`` until one is set)."""
    if os.environ.get(STUDENT_ENV):
        return os.environ[STUDENT_ENV]
    try:
        label = json.loads(_student_file().read_text(encoding="utf-8")).get("student")
    except (OSError, ValueError, AttributeError):
        return UNNAMED
    return label if isinstance(label, str) and label else UNNAMED


def set_student(label: str) -> Path:
    """Keep ``label`` (your name or your team's, as the instructor asked) for every later result."""
    label = str(label).strip()
    if not _LABEL.match(label):
        raise ValueError(f"a student/team label is 1-64 letters, digits, spaces or . @ + - _; got {label!r} "
                         "(for example 'team-3' or 'Ada L.')")
    path = _student_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"student": label}) + "\n", encoding="utf-8")
    return path


def ask_student() -> str:
    """Ask for the label once: returns the kept one, or shows a text box (notebook) / prompts (terminal)."""
    current = student()
    if current != UNNAMED:
        return current
    try:
        from IPython import get_ipython

        in_notebook = get_ipython() is not None and "IPKernelApp" in get_ipython().config
    except ImportError:
        in_notebook = False
    if in_notebook:
        import ipywidgets as w
        from IPython.display import display

        box = w.Text(placeholder="your name or team", description="Student/team:")
        button = w.Button(description="Keep it")
        note = w.Label("Your results are saved under this label for the instructor's comparison (notebook 09).")

        def keep(_):
            try:
                note.value = f"Kept in {set_student(box.value)}: results are saved as {box.value.strip()!r}."
            except ValueError as exc:
                note.value = str(exc)

        button.on_click(keep)
        display(w.VBox([w.HBox([box, button]), note]))
        return UNNAMED
    import sys

    if sys.stdin is not None and sys.stdin.isatty():
        set_student(input("Student or team label for your results: "))
    return student()


def autosave_enabled() -> bool:
    """True unless ``$LABKIT_AUTOSAVE`` is 0/false/off/no."""
    return os.environ.get(AUTOSAVE_ENV, "1").strip().lower() not in ("0", "false", "off", "no")


def set_autosave(on: bool) -> None:
    """The one switch: ``set_autosave(False)`` stops saving results automatically (this kernel and its children)."""
    os.environ[AUTOSAVE_ENV] = "1" if on else "0"
