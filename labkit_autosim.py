"""Let plain pynq code find the simulated board, without ``import labkit``.

Why a ``.pth`` file that only installs a lazy import hook (and not something else):

* pynq finds boards by probing ``pynq.Device`` subclasses that exist when ``Device.devices``
  is first read.  The simulated board is such a subclass, but it only exists once
  ``labkit.sim`` has been imported -- and a tutorial notebook never imports labkit.  pynq has no
  entry-point or plug-in registry for devices (its ``DeviceMeta`` only sees classes that
  are defined), so *something* must import ``labkit.sim`` right after ``pynq`` itself.
* An IPython extension or startup file would only cover Jupyter, not a plain ``python
  script.py`` with ``LABKIT_BOARD=sim``; pynq's own discovery cannot be extended from outside.
* A ``.pth`` file runs in every interpreter of the environment, so it must cost nothing: the
  line in ``labkit-autosim.pth`` reads one environment variable and, unless it says ``real``,
  imports this small module, which appends one finder to ``sys.meta_path``.  The finder answers
  only for the top-level name ``pynq`` (one string compare per import elsewhere), and then
  removes itself.  A process that never imports pynq never loads labkit, pynq or numpy.
* When pynq *is* imported, the finder lets pynq's own loader run unchanged and, once pynq is
  fully initialised, imports ``labkit.sim`` -- only if the simulated board is wanted:
  ``LABKIT_BOARD=sim``, or (no variable / ``auto``) inside a Jupyter kernel on a machine
  with no real board.  On a PYNQ board (FPGA manager present) or with XRT set up, "auto"
  never attaches the simulation.

Installed by ``setup.py`` both into wheels (``build_py``) and into editable installs
(``editable_wheel``), next to the package, as ``labkit-autosim.pth``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["install", "wanted"]

BOARD_ENV = "LABKIT_BOARD"
FPGA_MANAGER = "/sys/class/fpga_manager/fpga0/firmware"  # what pynq's EmbeddedDevice probes for


def _real_board() -> bool:
    if os.path.exists(FPGA_MANAGER):
        return True
    return bool(os.environ.get("XILINX_XRT"))


def wanted() -> bool:
    """Attach the simulated board to this process's pynq?  Decided when pynq is imported."""
    choice = os.environ.get(BOARD_ENV, "auto").strip().lower() or "auto"
    if choice == "sim":
        return True
    if choice != "auto":
        return False  # "real", or a typo that labkit.sim reports when it is imported
    # The lab's kernels: a Jupyter kernel without a board gets the simulation by default.
    return "ipykernel" in sys.modules and not _real_board()


class _PynqHook:
    """Answers only for ``pynq``: lets pynq load normally, then imports ``labkit.sim`` once.

    A plain class with ``find_spec`` is all ``sys.meta_path`` needs; not deriving from
    ``importlib.abc.MetaPathFinder`` keeps that module (and ``typing``) out of every interpreter's start.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "pynq":
            return None
        _remove()
        if not wanted():
            return None  # pynq is found by the usual finders, untouched
        spec = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if find is not None:
                spec = find(fullname, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        real_exec = loader.exec_module

        def exec_module(module):
            real_exec(module)
            del loader.exec_module  # this loader instance is pynq's alone: restore it
            _attach()

        loader.exec_module = exec_module
        return spec


def _attach() -> None:
    if "labkit" in sys.modules:
        return  # labkit itself is importing pynq (and registers the simulated board on its own)
    try:
        import labkit.sim  # noqa: F401  (registers SimDevice with pynq's Device metaclass)
    except Exception as exc:  # never break `import pynq` itself
        import warnings

        warnings.warn(f"LABKIT_BOARD asked for the simulated board, but labkit.sim could not be "
                      f"imported ({type(exc).__name__}: {exc}); pynq will see no simulated board",
                      RuntimeWarning, stacklevel=2)


_hook = _PynqHook()


def _remove() -> None:
    try:
        sys.meta_path.remove(_hook)
    except ValueError:
        pass


def install() -> None:
    """Put the hook in front of the import system (idempotent; nothing if pynq is already imported)."""
    if "pynq" in sys.modules or _hook in sys.meta_path:
        return
    sys.meta_path.insert(0, _hook)
