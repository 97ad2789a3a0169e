"""The numpy integer reference model and its committed weights."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from labkit.classifier import (ImageFormatError, WeightsError, classify_reference,
                               load_weights, predict)
from labkit.classifier.reference import WEIGHTS_PATH, QuantizedCNN, requantize
from labkit.datasets import HELD_OUT_COUNT, SPLIT_SEED

TARGET_ACCURACY = 0.95


def test_held_out_accuracy_of_committed_integer_weights(digits) -> None:
    images = digits.images[digits.held_out_idx]
    labels = digits.labels[digits.held_out_idx]
    assert len(images) == HELD_OUT_COUNT
    accuracy = float((predict(images) == labels).mean())
    assert accuracy >= TARGET_ACCURACY
    # The number the training script recorded is the number we measure.
    assert accuracy == pytest.approx(load_weights().meta["accuracy"]["integer_held_out"], abs=1e-4)


def test_weights_record_how_they_were_made() -> None:
    meta = load_weights().meta
    training = meta["training"]
    assert training["split_seed"] == SPLIT_SEED          # held-out digits never trained on
    assert training["n_held_out"] == HELD_OUT_COUNT
    assert training["torch_version"] and isinstance(training["seed"], int)
    assert meta["accuracy"]["float_held_out"] >= TARGET_ACCURACY


def test_scores_are_int32_batches(digits) -> None:
    one = digits.images[digits.held_out_idx[0]]
    scores = classify_reference(one)
    assert scores.dtype == np.int32 and scores.shape == (1, 10)
    batch = classify_reference(digits.images[digits.held_out_idx[:3]])
    assert batch.shape == (3, 10)
    np.testing.assert_array_equal(batch[:1], scores)
    assert classify_reference(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


def test_other_integer_dtypes_in_range_are_accepted(digits) -> None:
    images = digits.images[digits.held_out_idx[:4]]
    np.testing.assert_array_equal(classify_reference(images.astype(np.int64)),
                                  classify_reference(images))


@pytest.mark.parametrize("bad, words", [
    (np.zeros((28, 27), np.uint8), "shape (28, 27)"),
    (np.zeros((2, 1, 28, 28), np.uint8), "shape (2, 1, 28, 28)"),
    (np.zeros(784, np.uint8), "shape (784,)"),
    (np.zeros((28, 28), np.float32), "dtype float32"),
    (np.zeros((28, 28), bool), "dtype bool"),
    (np.full((28, 28), 256, np.int32), "values 256..256"),
    (np.full((28, 28), -1, np.int16), "values -1..-1"),
])
def test_bad_images_say_what_was_expected_and_given(bad, words) -> None:
    with pytest.raises(ImageFormatError) as info:
        classify_reference(bad)
    message = str(info.value)
    assert "uint8 pixels 0..255" in message and words in message


def test_float_images_in_0_1_get_a_hint() -> None:
    with pytest.raises(ImageFormatError, match=r"astype\(np.uint8\)"):
        predict(np.full((28, 28), 0.5))


def test_a_list_is_refused() -> None:
    with pytest.raises(ImageFormatError, match="numpy array"):
        predict([[0] * 28] * 28)


def test_requantize_rounds_half_up_and_clamps() -> None:
    # M / 2**shift = 2**30 / 2**31 = 0.5: acc * 0.5 rounded half up, clamped 0..255.
    acc = np.array([-3, -1, 0, 1, 2, 3, 5, 509, 510, 511, 10**6]).reshape(1, 1, 1, -1)
    out = requantize(acc, np.array([2**30]), np.array([31]))
    np.testing.assert_array_equal(out.ravel(), [0, 0, 0, 1, 1, 2, 3, 255, 255, 255, 255])
    # -1 * 0.5 = -0.5 rounds up to 0; -3 * 0.5 = -1.5 rounds up to -1 -> ReLU 0.
    acc = np.array([253, 254, 255]).reshape(1, 1, 1, -1)   # 126.5, 127, 127.5
    np.testing.assert_array_equal(requantize(acc, np.array([2**30]), np.array([31])).ravel(),
                                  [127, 127, 128])


def _copy_weights(q: QuantizedCNN, **changes) -> QuantizedCNN:
    fields = {k: getattr(q, k) for k in q.__dataclass_fields__}
    fields.update(changes)
    return QuantizedCNN(**fields)


def _save(path: Path, q: QuantizedCNN, drop: str = "") -> Path:
    arrays = {k: getattr(q, k) for k in q.__dataclass_fields__ if k not in ("meta", drop)}
    np.savez(path, meta_json=np.array(json.dumps(q.meta)), **arrays)
    return path


def test_load_weights_refuses_broken_files(tmp_path: Path) -> None:
    q = load_weights()
    with pytest.raises(FileNotFoundError, match="train_classifier"):
        load_weights(tmp_path / "nothing.npz")
    with pytest.raises(WeightsError, match="missing tensors.*fc_b"):
        load_weights(_save(tmp_path / "a.npz", q, drop="fc_b"))
    with pytest.raises(WeightsError, match="fc_w should be int8"):
        load_weights(_save(tmp_path / "b.npz", _copy_weights(q, fc_w=q.fc_w.astype(np.int16))))
    big_bias = q.fc_b.copy()
    big_bias[0] = 2**31 - 1000       # plus the products it would overflow int32
    with pytest.raises(WeightsError, match="does not fit an int32"):
        load_weights(_save(tmp_path / "c.npz", _copy_weights(q, fc_b=big_bias)))
    small_m = q.conv1_m.copy()
    small_m[0] = 5
    with pytest.raises(WeightsError, match="multipliers"):
        load_weights(_save(tmp_path / "d.npz", _copy_weights(q, conv1_m=small_m)))


def test_committed_npz_is_written_reproducibly() -> None:
    # The training script writes every member with the same fixed timestamp
    # (np.savez would stamp the current time and break byte-identity).
    with zipfile.ZipFile(WEIGHTS_PATH) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
