"""The digit classifier: integer reference model (the accelerator driver comes later).

>>> from labkit.classifier import predict
>>> predict(images)          # uint8 [B,28,28], white digit on black -> uint8 [B]

See :mod:`labkit.classifier.reference` for the network and its quantization.
"""

from labkit.classifier.reference import (
    N_CLASSES,
    ImageFormatError,
    QuantizedCNN,
    WeightsError,
    classify_reference,
    load_weights,
    predict,
)

__all__ = [
    "N_CLASSES",
    "ImageFormatError",
    "QuantizedCNN",
    "WeightsError",
    "classify_reference",
    "load_weights",
    "predict",
]
