"""Board knowledge shared by real-board estimates and the simulated board.

* :mod:`labkit.boards.profiles` -- clocks, ports, CPU, memory of each board, every constant with
  its source;
* :mod:`labkit.boards.power_model` -- what each rail of a board draws for a stretch of activity.

Nothing here simulates anything: the simulated board (:mod:`labkit.sim`) is built from these
numbers, and so are the estimates labkit shows for a board you do not have.
"""

from __future__ import annotations

from .profiles import PROFILES, BoardProfile, Sourced, get_profile

__all__ = ["PROFILES", "BoardProfile", "Sourced", "get_profile"]
