"""Classroom tests: results files and the student label in a temporary folder, autosave on."""

from __future__ import annotations

import pytest


@pytest.fixture
def results_env(tmp_path, monkeypatch):
    """Autosave on, the results file and the config folder in ``tmp_path``; yields the results file."""
    path = tmp_path / "labkit-results.jsonl"
    monkeypatch.setenv("LABKIT_AUTOSAVE", "1")
    monkeypatch.setenv("LABKIT_RESULTS", str(path))
    monkeypatch.setenv("LABKIT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LABKIT_STUDENT", raising=False)
    return path
