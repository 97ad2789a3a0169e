"""Classroom: every result a record with provenance; an instructor collects and compares a whole class.

Students need nothing: results are saved as they run (``labkit-results.jsonl`` next to the
notebook).  Once, they say who they are::

    import labkit.classroom as classroom
    classroom.set_student("team-3")        # or classroom.ask_student() for a text box
    classroom.save(result)                 # any result, by hand (also when autosave is off)
    classroom.set_autosave(False)          # the one switch (or LABKIT_AUTOSAVE=0)

The instructor collects and compares (notebook 09, or ``labkit results collect/report``)::

    store = classroom.Store("class.sqlite")
    classroom.collect_servers("192.168.2.10-49", store)    # the boards' Jupyter servers (port 9090)
    classroom.collect_folder("/srv/shared/results", store)  # a JupyterHub shared folder
"""

from __future__ import annotations

from .collect import (Collection, SourceReport, collect_folder, collect_servers, collect_uploads, expand_sources,
                      fetch_server, progress_bar, upload_widget)
from .config import ask_student, autosave_enabled, results_path, set_autosave, set_student, student
from .records import (SCHEMA, SCHEMA_VERSION, CheckResult, RecordError, autosave, parse_lines, read_records,
                      record_of, save, validate)
from .store import Store, StoreError

#: the bundled synthetic class (40 students; tools/make_synthetic_class.py made it from the lab's own runs)
from pathlib import Path as _Path

SYNTHETIC_CLASS = _Path(__file__).resolve().parent.parent / "data" / "synthetic_class.jsonl.gz"

__all__ = ["SYNTHETIC_CLASS", "Store", "StoreError", "Collection", "SourceReport", "collect_servers", "collect_folder",
           "collect_uploads", "upload_widget", "progress_bar", "expand_sources", "fetch_server", "ask_student", "student",
           "set_student", "autosave_enabled", "set_autosave", "results_path", "SCHEMA", "SCHEMA_VERSION",
           "CheckResult", "RecordError", "autosave", "record_of", "save", "validate", "read_records",
           "parse_lines"]
