"""The classifier in the (simulated) PL through pynq's DMA driver, the pipeline around it, its checks."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.camera import ArraySource, DemoClipSource
from labkit.classifier import (
    AcceleratorError,
    CnnAccelerator,
    FrameResult,
    ImageFormatError,
    Pipeline,
    classify_reference,
    summarize,
    throughput_and_latency,
)
from labkit.classifier import checks
from labkit.classifier.accelerator import MODELLED_STAGES, STAGES
from labkit.kernels import cnn_classifier as kernel


@pytest.fixture(scope="module")
def held_out() -> np.ndarray:
    """40 held-out MNIST digits (never used for training)."""
    from labkit.datasets import DatasetUnavailableError, digit_split, load_mnist_5k
    try:
        images, _ = load_mnist_5k()
    except DatasetUnavailableError as exc:
        pytest.skip(f"MNIST digits unavailable: {exc}")
    _, idx = digit_split()
    return images[idx[:40]]


def random_images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


# -- bit for bit ---------------------------------------------------------------------------------------

def test_one_held_out_digit_at_a_time(board, held_out):
    with CnnAccelerator(board, max_batch=1) as acc:
        for image in held_out[:6]:
            assert np.array_equal(acc.classify(image), classify_reference(image))


def test_held_out_digits_in_batches_in_both_paces(paced_board, held_out):
    with CnnAccelerator(paced_board, max_batch=16) as acc:
        scores = acc.classify(held_out)  # 40 images: runs of 16, 16 and 8
        assert acc.last_run.calls == 3 and acc.last_run.images == 40
    assert scores.dtype == np.int32 and scores.shape == (40, 10)
    assert np.array_equal(scores, classify_reference(held_out))


@pytest.mark.parametrize("n", [1, 8, 64])
def test_random_images(board, n):
    images = random_images(n, seed=n)
    with CnnAccelerator(board, max_batch=64) as acc:
        assert np.array_equal(acc.classify(images), classify_reference(images))
        assert np.array_equal(acc.predict(images), classify_reference(images).argmax(axis=1))


def test_extreme_images_and_other_integer_dtypes(board):
    images = np.stack([np.zeros((28, 28)), np.full((28, 28), 255), np.eye(28) * 255]).astype(np.int64)
    with CnnAccelerator(board, max_batch=4) as acc:
        assert np.array_equal(acc.classify(images), classify_reference(images.astype(np.uint8)))


def test_buffers_are_allocated_once(board):
    with CnnAccelerator(board, max_batch=8) as acc:
        where = (acc.inbuf.physical_address, acc.outbuf.physical_address)
        for n in (1, 8, 3):
            acc.classify(random_images(n))
        assert (acc.inbuf.physical_address, acc.outbuf.physical_address) == where
        assert acc.inbuf.dtype == np.uint64 and acc.outbuf.dtype == np.uint32
        assert acc.inbuf.size == 8 * kernel.BEATS_PER_IMAGE and acc.outbuf.size == 8 * kernel.SCORES_PER_IMAGE


# -- timing ----------------------------------------------------------------------------------------------

def test_stages_are_measured_modelled_and_estimated(board):
    with CnnAccelerator(board, max_batch=4) as acc:
        acc.classify(random_images(1))
        run = acc.last_run
    assert tuple(run.measured) == STAGES and all(v >= 0 for v in run.measured.values())
    assert tuple(run.modelled) == MODELLED_STAGES and tuple(run.estimated) == STAGES
    one_image = kernel.cycles(1) / board.device.fabric.clock_hz
    assert run.modelled["compute"] == pytest.approx(one_image, rel=0.01)
    assert 0 < run.modelled["transfer"] < one_image / 10, "98 beats at 64 bits take ~1 us"
    assert run.estimated["wait"] >= run.modelled_s
    resources = {iv.resource for iv in run.intervals}
    assert resources == {"dma_cnn.mm2s", "cnn_classifier", "dma_cnn.s2mm"}
    text = run.table()
    assert "measured on" in text and "modelled PL time" in text and "estimated board" in text


def test_back_to_back_runs_are_not_counted_twice(board):
    """In host pace the model can run ahead of the wall clock; each call counts only its own PL work."""
    clock = board.device.fabric.clock_hz
    most = (kernel.cycles(64) + 64 * kernel.BEATS_PER_IMAGE) / clock  # kernel + every input beat
    with CnnAccelerator(board, max_batch=64) as acc:
        for _ in range(4):
            acc.classify(random_images(64))
            assert 0.9 * kernel.cycles(64) / clock <= acc.last_run.modelled_s <= most


# -- errors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("images, expected", [
    (np.zeros((28, 27), np.uint8), r"shape \(28, 27\)"),
    (np.zeros((2, 28, 28, 1), np.uint8), r"shape \(2, 28, 28, 1\)"),
    (np.zeros((2, 28, 28), np.float32), "dtype float32"),
    (np.full((1, 28, 28), 300, np.int16), "values 300..300"),
    ([[0] * 28] * 28, "numpy array"),
])
def test_wrong_images_say_what_is_wrong(board, images, expected):
    with CnnAccelerator(board, max_batch=2) as acc:
        with pytest.raises(ImageFormatError, match=expected):
            acc.classify(images)


def test_empty_batch_gives_no_scores(board):
    with CnnAccelerator(board, max_batch=2) as acc:
        assert acc.classify(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)


@pytest.mark.parametrize("max_batch", [0, 257, True, 2.5])
def test_bad_max_batch(board, max_batch):
    with pytest.raises(ValueError, match="max_batch must be an integer 1..256"):
        CnnAccelerator(board, max_batch=max_batch)


def test_not_an_overlay_and_closed_accelerator(board):
    with pytest.raises(AcceleratorError, match="labkit.open_board"):
        CnnAccelerator(None)
    acc = CnnAccelerator(board, max_batch=1)
    acc.close()
    acc.close()
    with pytest.raises(AcceleratorError, match="closed"):
        acc.classify(random_images(1))


# -- the pipeline -----------------------------------------------------------------------------------------

def test_pipeline_accelerator_and_software_agree_on_the_demo_clip(board):
    results = {}
    for use_accelerator in (True, False):
        with Pipeline(board, DemoClipSource(loop=False), use_accelerator=use_accelerator) as pipe:
            results[use_accelerator] = pipe.run(frames=24)
    hw, sw = results[True], results[False]
    assert [r.label for r in hw] == [r.label for r in sw]
    for a, b in zip(hw, sw):
        assert (a.scores is None and b.scores is None) or np.array_equal(a.scores, b.scores)
    digits = [r for r in hw if r.label is not None]
    assert digits and all(r.modelled and r.modelled["compute"] > 0 for r in digits)
    assert all(r.modelled is None for r in sw)
    assert all(r.seconds["transfer"] == 0 for r in sw)
    assert all(tuple(r.seconds) == ("capture", "preprocess", "transfer", "compute", "read back") for r in hw)
    summary = summarize(hw)
    assert summary["accuracy"] >= 0.9 and summary["frames"] == 24


def test_pipeline_batches_share_one_kernel_run(board):
    with Pipeline(board, DemoClipSource(loop=False), batch=4) as pipe:
        results = pipe.run(frames=12)
    for start in range(0, 12, 4):
        group = results[start:start + 4]
        assert len({r.done_at for r in group}) == 1, "a batch is done at once"
        runs = {id(r.run) for r in group if r.run is not None}
        assert len(runs) <= 1
    assert results[0].latency > results[3].latency, "the first frame of a batch waits for the others"


def test_pipeline_ends_with_the_source_and_can_be_software_only():
    frames = [np.full((64, 64, 3), 200, np.uint8)] * 3
    with Pipeline(None, ArraySource(frames), use_accelerator=False) as pipe:
        results = pipe.run(frames=10)
        assert pipe.step() is None
    assert len(results) == 3 and all(r.label is None and r.correct is None for r in results)
    with pytest.raises(ValueError, match="overlay"):
        Pipeline(None, ArraySource(frames))


def test_pipeline_batch_limits(board):
    with Pipeline(board, DemoClipSource(loop=False), batch=1) as pipe:
        with pytest.raises(ValueError, match="1..256"):
            pipe.batch = 0
        pipe.batch = 100  # the accelerator is remade with room for it
        assert len(pipe.run(frames=100)) == 100
        assert pipe.accelerator.max_batch >= 100


def test_throughput_and_latency_of_a_run(board):
    with Pipeline(board, DemoClipSource(loop=False)) as pipe:
        results = pipe.run(frames=10)
    fps, latency = throughput_and_latency(results)
    assert fps > 0 and 0 < latency < 1
    assert fps == pytest.approx(10 / (results[-1].done_at - results[0].started_at))


# -- the notebook's check functions --------------------------------------------------------------------------

def _right(results):
    return (len(results) / (results[-1].done_at - results[0].started_at),
            float(np.mean([r.done_at - r.captured_at for r in results])))


@pytest.mark.parametrize("answer, verdict, says", [
    (_right, True, "batch 4 gives"),
    (lambda rs: _right(rs)[::-1], False, "order"),
    (lambda rs: (len(rs) / (rs[-1].done_at - rs[0].done_at), _right(rs)[1]), False, "first result was ready"),
    (lambda rs: (_right(rs)[0], np.mean([r.done_at - r.started_at for r in rs])), False, "captured_at"),
    (lambda rs: (_right(rs)[0], 1e3 * _right(rs)[1]), False, "milliseconds"),
    (lambda rs: 1 / 0, False, "ZeroDivisionError"),
    (lambda rs: 42, False, "two numbers"),
])
def test_check_throughput_latency(answer, verdict, says, capsys):
    assert checks.check_throughput_latency(answer) is verdict
    assert says in capsys.readouterr().out


@pytest.mark.parametrize("answer, verdict, says", [
    (7 / 30, True, "233.33 ms"),
    (8 / 30, False, "other 7 frames"),
    (1 / 30, False, "one frame period"),
    (7 / 30 * 1e3, False, "milliseconds"),
    (0.5, False, "is not it"),
])
def test_check_batch_wait(answer, verdict, says, capsys):
    assert checks.check_batch_wait(8, 30, answer) is verdict
    assert says in capsys.readouterr().out


def test_frame_result_top_and_text(board):
    with Pipeline(board, DemoClipSource(loop=False)) as pipe:
        result = next(r for r in pipe if r.label is not None)
    assert isinstance(result, FrameResult)
    top = result.top(3)
    assert len(top) == 3 and top[0][0] == result.label and top[0][1] >= top[1][1] >= top[2][1]
    assert "modelled PL" in str(result) and "measured" in str(result)
