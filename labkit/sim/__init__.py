"""The simulated PYNQ board: a layer under pynq, so students' pynq code runs unchanged.

Importing this package registers :class:`SimDevice` with pynq (pynq's
``Device`` metaclass does that for every subclass with ``_probe_``) and, in
:mod:`.patches`, makes sure pynq probes for it.  Nothing here is needed on a
real board, where the simulated device never shows up unless
``LABKIT_BOARD=sim`` asks for it.
"""

from __future__ import annotations

from .device import SimDevice, real_board_present, sim_wanted
from .kernel_behaviour import register_kernel


def register_cpp_kernel(*args, **kwargs):
    """Compile a user's HLS C++ and give a kernel of the loaded design that behaviour (see cpp_kernel.py)."""
    from .cpp_kernel import register_cpp_kernel as register

    return register(*args, **kwargs)


from .patches import active_sim_device, install, use_device

__all__ = ["SimDevice", "install", "use_device", "active_sim_device", "sim_wanted", "real_board_present",
           "register_kernel", "register_cpp_kernel"]

install()
