"""The live classifier view without a browser: a dummy comm records what would be sent (as in ipywidgets' tests)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from ipywidgets.widgets.tests.utils import setup_test_comm, teardown_test_comm

from labkit.camera import ArraySource, DemoClipSource
from labkit.classifier import FrameError, Pipeline
from labkit.widgets.classifier import ClassifierView


@pytest.fixture(autouse=True)
def dummy_comm():
    setup_test_comm()
    yield
    teardown_test_comm()


def sent(view: ClassifierView) -> int:
    return sum(len(w.comm.messages) for w in view.live_widgets)


def fast_view(board, **kwargs) -> ClassifierView:
    """A view on the looping demo clip with no frame-rate cap: as many frames as the host can do."""
    options = {"update_hz": 5.0, "max_fps": None}
    options.update(kwargs)
    return ClassifierView(board, DemoClipSource(loop=True), **options)


def test_start_and_stop(board):
    view = fast_view(board)
    try:
        assert not view.running and view.stop_button.disabled
        view.start()
        assert view.running and view.start_button.disabled and not view.stop_button.disabled
        deadline = time.perf_counter() + 5
        while view.frames < 5 and time.perf_counter() < deadline:
            time.sleep(0.01)
        view.stop()
        assert not view.running and not view.start_button.disabled and view.stop_button.disabled
        frames = view.frames
        time.sleep(0.05)
        assert view.frames == frames, "nothing runs after stop()"
        assert view.error is None and frames >= 5
        assert view.frame_image.value[:2] == b"\xff\xd8", "the frame is sent as JPEG"
        assert view.last.engine == "accelerator"
        view.start()
        view.start()  # a second start while running does nothing
        view.stop()
    finally:
        view.close()


def test_toggle_between_software_and_accelerator(board):
    view = fast_view(board)
    try:
        view.run_for(0.3)
        assert view.last.engine == "accelerator"
        measured, modelled = view.time_bars.y[:, 0], view.time_bars.y[:, 1]
        assert view.time_bars.y.shape == (5, 2) and view.time_bars.y.dtype == np.float32
        assert measured.sum() > 0 and modelled[:2].sum() == 0 and modelled[3] > 0  # PL: no capture/preprocess
        view.engine.value = "software"
        assert view.pipeline.use_accelerator is False
        view.run_for(0.3)
        assert view.last.engine == "software"
        assert "both measured here" in view.speed.value and "Not the PL's speed" in view.speed.value
        assert "<b>speedup" not in view.speed.value, "no measured speedup headline on the simulated board"
        assert view.time_bars.y[:, 1].sum() == 0, "no PL time when numpy classifies"
    finally:
        view.close()


def test_updates_are_throttled_and_bounded(board):
    view = fast_view(board, update_hz=5.0)
    try:
        before = sent(view)
        view.run_for(1.0)
        frames, messages = view.frames, sent(view) - before
        bar_messages = len(view.score_bars.comm.messages)
    finally:
        view.close()
    updates = 5.0 * 1.0 + 2  # the rate, plus the first update and the last one after stopping
    assert frames > 3 * updates, "the pipeline runs faster than the widgets are updated"
    assert messages <= updates * len(view.live_widgets), f"{messages} messages for {frames} frames"
    assert bar_messages <= updates, "x and y of the bars go in one message"


def test_frame_rate_cap(board):
    view = fast_view(board, max_fps=20.0)
    try:
        view.run_for(0.5)
        assert view.frames <= 0.5 * 20 + 2
        assert view.fps is None or view.fps < 25
    finally:
        view.close()


def test_source_that_ends_stops_the_loop(board):
    frames = [np.full((64, 64, 3), 200, np.uint8)] * 3
    view = ClassifierView(board, ArraySource(frames), max_fps=None)
    try:
        view.start()
        view._thread.join(5)
        assert not view.running and view.frames == 3
        assert "no more frames" in view.status.value and "no digit" in view.answer.value
    finally:
        view.close()


def test_an_error_in_the_loop_is_shown_not_lost(board):
    bad = [np.zeros((64, 64, 3), np.float32)]
    view = ClassifierView(board, ArraySource(bad), max_fps=None)
    try:
        view.start()
        view._thread.join(5)
        assert isinstance(view.error, FrameError)
        assert "stopped by an error" in view.status.value and not view.running
        assert not view.start_button.disabled
    finally:
        view.close()


def test_close_stops_and_releases_what_the_view_opened(board):
    view = ClassifierView(board, max_fps=None)  # opens its own source (the demo clip here)
    view.start()
    time.sleep(0.1)
    view.close()
    assert not view.running
    assert view.pipeline.closed and view.pipeline.source.closed
    assert view.comm is None


def test_close_leaves_a_given_pipeline_open(board):
    pipe = Pipeline(board, DemoClipSource(loop=True))
    view = ClassifierView(pipeline=pipe, max_fps=None)
    view.run_for(0.1)
    view.close()
    assert not pipe.closed and pipe.step() is not None
    pipe.close()


def test_software_only_without_an_overlay():
    view = ClassifierView(None, DemoClipSource(loop=True), max_fps=None)
    try:
        assert view.engine.disabled and view.engine.value == "software"
        view.run_for(0.2)
        assert view.last.engine == "software" and view.error is None
    finally:
        view.close()


def test_classifier_view_is_in_the_widget_registry():
    import labkit.widgets as widgets_package
    if not hasattr(widgets_package, "__getattr__") and "ClassifierView" not in dir(widgets_package):
        pytest.skip("labkit/widgets/__init__.py (the lazy registry) is not there yet")
    assert widgets_package.ClassifierView is ClassifierView


def test_release_keeps_the_view_on_screen(board):
    view = fast_view(board)
    try:
        assert view.frame_image.value and view.input_image.value, "placeholders, not broken images, before Start"
        view.run_for(0.2)
        frame = view.frame_image.value
        view.release()
        assert view.pipeline.closed and view.start_button.disabled and view.stop_button.disabled
        assert view.frame_image.value == frame
        view.start()                      # a click on Start after release: a message, no exception
        assert "released" in view.status.value and not view.running
    finally:
        view.close()
