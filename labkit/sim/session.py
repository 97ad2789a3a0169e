"""The simulated board as ``labkit.open_board()`` opens it: made active for pynq, one per process.

Each Python process (each Jupyter kernel) has its own simulated board, with its own PL and
memory pool; on a real board every kernel shares one FPGA and one CMA pool.
"""

from __future__ import annotations

from .designs import design_file
from .device import BOARD_ENV, SimDevice, board_choice
from .patches import active_sim_device, use_device
from labkit.errors import BoardNotFoundError

__all__ = ["sim_device", "sim_overlay_path"]


def sim_device(pace: str | None = None, profile: str | None = None, pool_bytes: int | None = None) -> SimDevice:
    """The simulated board pynq is using, made active (created if needed or if ``profile`` differs).

    ``pace`` ("board" or "host") is applied to the existing board; ``pool_bytes``
    (a different CMA size) and ``profile`` need a new board.
    """
    device = active_sim_device()
    if device is None and board_choice() == "real":
        raise BoardNotFoundError(f"{BOARD_ENV}=real, so the simulated board is not offered")
    wants_new = device is None or (profile is not None and device.profile.name.lower() != profile.lower()) or (
        pool_bytes is not None and device.pool.size != pool_bytes)
    if wants_new:
        device = SimDevice(profile=profile, pace=pace, pool_bytes=pool_bytes)
    elif pace is not None:
        device.lab_probe().set_pace(pace)
    use_device(device)
    return device


def sim_overlay_path(design: str) -> str:
    """The file ``pynq.Overlay`` loads for the lab's ``design`` on the simulated board."""
    return str(design_file(design))
