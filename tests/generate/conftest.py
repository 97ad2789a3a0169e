"""Fixtures of the generator tests: the shipped example specs, generated once per session.

``generated(name)`` -> the output folder of ``examples/generated/<name>/<name>.toml``;
``driver(name, out)`` imports the generated driver module and takes its pynq registration back
afterwards (pynq keeps drivers in a process-wide table: a generated ``cnn_classifier`` driver
would otherwise bind to the lab overlay's kernel in later tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from labkit.generate import generate, import_driver, load_spec

from _gen_data import SPECS  # tests/generate is on sys.path (pytest's "prepend" import mode)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    cache: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in cache:
            out = tmp_path_factory.mktemp(f"gen_{name}")
            generate(load_spec(SPECS[name]), out)
            cache[name] = out
        return cache[name]

    return make


@pytest.fixture
def driver():
    imported = []

    def load(name: str, out: Path):
        module = import_driver(out, name)
        imported.append(module)
        return module

    yield load
    for module in imported:
        for value in vars(module).values():
            if isinstance(value, type) and "bindto" in vars(value):
                value.unregister()
