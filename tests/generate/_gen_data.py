"""Where the shipped example specs are (a module of its own: tests import it by name, which a
conftest.py cannot be when several test folders have one)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "generated"
SPECS = {"points": EXAMPLES / "points" / "points.toml",
         "cnn_classifier": EXAMPLES / "cnn_classifier" / "cnn_classifier.toml"}
