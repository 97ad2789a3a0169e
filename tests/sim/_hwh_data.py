"""Where the real Vivado .hwh test files are, and how tests lay them out beside a dummy .bit.

The files live in the steering repository's ``shared/hwh/`` (see its README for the source of
each), never in this repository.  CI clones the repository with ``../shared`` beside it; a
developer's worktree may sit elsewhere, so ``/work/shared`` is tried too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = (REPO.parent / "shared" / "hwh", Path("/work/shared/hwh"))


def hwh_dir() -> Path | None:
    for candidate in CANDIDATES:
        if candidate.is_dir():
            return candidate
    return None


def design_dir(tmp_path: Path, hwh_name: str, stem: str) -> Path:
    """``tmp_path/<stem>.bit`` (a dummy) beside a copy of ``shared/hwh/<hwh_name>``; skip if absent."""
    source = hwh_dir()
    if source is None or not (source / hwh_name).is_file():
        pytest.skip(f"{hwh_name} not found in ../shared/hwh (looked in {', '.join(map(str, CANDIDATES))}): "
                    f"these tests need the real Vivado .hwh files of the steering repository's shared/ folder")
    shutil.copy(source / hwh_name, tmp_path / f"{stem}.hwh")
    bit = tmp_path / f"{stem}.bit"
    bit.write_bytes(b"not a bitstream: the simulated board never reads it\n")
    return bit
