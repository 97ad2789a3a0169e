"""The lab's notebooks as a package, so ``pynq get-notebooks pynq-transfer-lab`` can deliver them.

setup.py installs this folder as ``labkit.notebooks`` and registers it under pynq's
``pynq.notebooks`` entry point.  pynq copies the package folder; :func:`deliver_notebooks`
(which pynq calls instead of its own when a notebooks module defines one) does that with
pynq's own function, then removes this file and ``__pycache__`` from the copy: students get
the notebooks only.  The overlay is not copied: ``labkit.open_board()`` finds it in the
installed package (``labkit/overlays/transfer_lab.bit`` and ``.hwh``) or through ``$LABKIT_OVERLAY``.
"""

from __future__ import annotations

import os
import shutil


def deliver_notebooks(device_name, src_path, dst_path, name, folder=False, overlays_res_lookup=True):
    """pynq's delivery (same arguments as ``pynqutils.setup_utils.deliver_notebooks``), minus the package files."""
    from pynqutils.setup_utils import deliver_notebooks as pynq_deliver

    pynq_deliver(device_name, src_path, dst_path, name, folder=folder, overlays_res_lookup=overlays_res_lookup)
    target = os.path.join(dst_path, name) if folder else dst_path
    for leftover in ("__init__.py", "__pycache__"):
        path = os.path.join(target, leftover)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
