"""labkit: the Python side of pynq-transfer-lab.

Open the lab's overlay -- on a PYNQ board, or on the simulated board when
there is none -- and use plain pynq from there::

    import labkit
    ol = labkit.open_board()
    print(labkit.board_info(ol))

Submodules: ``labkit.transfer`` (the transfer methods), ``labkit.bench``
(benchmarks), ``labkit.widgets`` (live charts), ``labkit.classifier``,
``labkit.camera``, ``labkit.power``; ``labkit.sim`` is the simulated board, reached only through
``labkit.probe(ol)``.
"""

from __future__ import annotations

from . import checks, timing
from ._version import __version__
from .board import BoardInfo, board_info, open_board, probe, register_cpp_kernel, register_kernel, sim_device  # board.py registers the simulated board
from .errors import LabkitError

__all__ = ["open_board", "board_info", "BoardInfo", "probe", "sim_device", "register_kernel", "register_cpp_kernel", "LabkitError", "checks", "timing", "__version__"]
