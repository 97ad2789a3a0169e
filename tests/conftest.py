"""Fixtures shared by every test: a fresh simulated board per test, made pynq's active device.

Tests never set ``Device.active_device`` themselves (STYLE.md): they ask for
``board`` (an opened overlay) or ``device`` (a bare simulated board) and get
the previous active device back afterwards.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("LABKIT_BOARD", "sim")  # never probe real hardware from the test suite
os.environ.setdefault("LABKIT_AUTOSAVE", "0")  # no classroom results files in the repo; classroom tests turn it on

import labkit  # noqa: E402  (after LABKIT_BOARD is set)
from labkit.sim import SimDevice, use_device  # noqa: E402
from labkit.sim.patches import active_sim_device  # noqa: E402

MiB = 1 << 20


def _open(pace: str, pool_bytes: int | None = None, download: bool = True):
    previous = active_sim_device()
    device = SimDevice(pace=pace, pool_bytes=pool_bytes)
    use_device(device)
    overlay = labkit.open_board(download=download) if download else None
    return previous, device, overlay


def _close(previous, device) -> None:
    device.close()
    if previous is not None:
        use_device(previous)


@pytest.fixture(params=["host", "board"])
def pace(request) -> str:
    """Run a test in both paces."""
    return request.param


@pytest.fixture
def device():
    """A simulated PYNQ-Z1 with nothing loaded in the PL (host pace)."""
    previous, dev, _ = _open("host", download=False)
    yield dev
    _close(previous, dev)


@pytest.fixture
def board():
    """The lab's overlay on a fresh simulated PYNQ-Z1, host pace."""
    previous, dev, overlay = _open("host")
    yield overlay
    _close(previous, dev)


@pytest.fixture
def paced_board(pace):
    """The lab's overlay on a fresh simulated PYNQ-Z1, once per pace."""
    previous, dev, overlay = _open(pace)
    yield overlay
    _close(previous, dev)


@pytest.fixture
def big_board():
    """A simulated board with a 256 MiB pool: room for two maximum-size DMA buffers."""
    previous, dev, overlay = _open("host", pool_bytes=256 * MiB)
    yield overlay
    _close(previous, dev)
