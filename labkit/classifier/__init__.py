"""The digit classifier: integer reference model, camera preprocessing, the PL accelerator, the pipeline.

>>> from labkit.classifier import predict, preprocess, CnnAccelerator, Pipeline
>>> predict(images)                 # uint8 [B,28,28], white digit on black -> uint8 [B] (numpy)
>>> pre = preprocess(frame)         # camera frame (BGR) -> pre.input uint8 [28,28], pre.steps, pre.box
>>> acc = CnnAccelerator(ol)        # the same network in the PL, fed by its AXI DMA
>>> acc.classify(images)            # int32 [B,10], bit for bit classify_reference(images)
>>> Pipeline(ol).step()             # frame -> preprocessing -> scores, every stage timed

See :mod:`labkit.classifier.reference` for the network and its quantization, and the modules
``preprocessing``, ``accelerator`` and ``pipeline`` of this package for the rest.  The accelerator
and the pipeline are imported when first used (they need ``labkit.kernels``, which imports the
reference model).
"""

from __future__ import annotations

import importlib
from typing import Any

from labkit.classifier.reference import (
    N_CLASSES,
    ImageFormatError,
    QuantizedCNN,
    WeightsError,
    classify_reference,
    load_weights,
    predict,
)

#: name -> submodule that defines it, imported on first use (PEP 562): the accelerator needs
#: labkit.kernels, which imports the reference model above, so it cannot be imported here; the
#: preprocessing needs OpenCV, which ``import labkit`` (through labkit.kernels) should not load.
_LAZY = {
    "preprocess": "preprocessing",
    "Preprocessed": "preprocessing",
    "FrameError": "preprocessing",
    "annotate": "preprocessing",
    "CnnAccelerator": "accelerator",
    "AcceleratorRun": "accelerator",
    "AcceleratorError": "accelerator",
    "Pipeline": "pipeline",
    "FrameResult": "pipeline",
    "throughput_and_latency": "pipeline",
    "summarize": "pipeline",
    "checks": None,
}

__all__ = [
    "N_CLASSES",
    "ImageFormatError",
    "QuantizedCNN",
    "WeightsError",
    "classify_reference",
    "load_weights",
    "predict",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:  # a submodule itself
        value: Any = importlib.import_module(f"{__name__}.{name}")
    else:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
