"""Frame sources (labkit.camera): each source, the fallback chain down to the demo clip, clear errors."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from labkit import camera
from labkit.camera import (
    ArraySource,
    CameraSource,
    CameraUnavailableError,
    DemoClipSource,
    FrameSourceError,
    ImageFolderSource,
    SourceNotFoundError,
    VideoFileSource,
    demo_labels,
    open_source,
)
from labkit.errors import LabkitError


def _frames(n: int, size=(64, 48)) -> list[np.ndarray]:
    """Frames whose top-left pixel holds their number (to check order after JPEG: a big flat patch)."""
    w, h = size
    out = []
    for k in range(n):
        frame = np.full((h, w, 3), 200, dtype=np.uint8)
        frame[:16, :16] = 10 * k
        out.append(frame)
    return out


def _number(frame: np.ndarray) -> int:
    return int(round(float(frame[4:12, 4:12].mean()) / 10))


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter_fourcc(*"MJPG"), 50.0, (64, 48))
    assert writer.isOpened()
    for frame in _frames(6):
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def no_camera(monkeypatch):
    """Whatever this machine has, camera 0 is absent."""
    monkeypatch.setattr(camera, "_camera_device_missing", lambda index: f"no camera device /dev/video{index} (test)")


# -- a fake camera: a queue of stale frames, then fresh ones that take a frame period -------------

class FakeCapture:
    def __init__(self, queued: int = 4, period: float = 0.1, honours_buffersize: bool = False,
                 opened: bool = True, gives_frames: bool = True) -> None:
        self.queue = list(range(queued))  # stale frames waiting in the driver's buffers
        self.fresh = 100  # frames captured after we started reading are numbered from 100
        self.period = period
        self.honours = honours_buffersize
        self.opened = opened
        self.gives = gives_frames
        self.props: dict[int, float] = {}
        self.grabbed: int | None = None
        self.released = False

    def isOpened(self):
        return self.opened

    def set(self, prop, value):
        self.props[prop] = value
        return prop != cv2.CAP_PROP_BUFFERSIZE or self.honours

    def get(self, prop):
        return 1 / self.period if prop == cv2.CAP_PROP_FPS else 0.0

    def grab(self):
        if not self.gives:
            return False
        if self.queue:
            self.grabbed = self.queue.pop(0)
        else:
            time.sleep(self.period)  # waits for the sensor
            self.grabbed, self.fresh = self.fresh, self.fresh + 1
        return True

    def retrieve(self):
        frame = np.full((48, 64, 3), 0, dtype=np.uint8)
        frame[0, 0, 0] = self.grabbed % 256
        return True, frame

    def read(self):
        if not self.grab():
            return False, None
        return self.retrieve()

    def release(self):
        self.released = True


class FakeCameras:
    """What the fake_camera fixture returns: the captures made, and options for the next ones."""

    def __init__(self) -> None:
        self.made: list[FakeCapture] = []
        self.options: dict = {}

    def new_capture(self, target, api=cv2.CAP_ANY):
        if isinstance(target, int):
            self.made.append(FakeCapture(**self.options))
            return self.made[-1]
        return cv2.VideoCapture(target, api)


@pytest.fixture
def fake_camera(monkeypatch) -> FakeCameras:
    """Every camera index exists and is a FakeCapture."""
    cameras = FakeCameras()
    monkeypatch.setattr(camera, "_camera_device_missing", lambda index: None)
    monkeypatch.setattr(camera, "_new_capture", cameras.new_capture)
    return cameras


# -- the demo clip ----------------------------------------------------------------------------------

def test_demo_clip_has_a_label_per_frame_and_small_size():
    labels = demo_labels()
    with DemoClipSource(loop=False) as clip:
        frames = list(clip)
        assert clip.fps and clip.fps > 0
    assert len(frames) == len(labels) >= 100
    assert all(f.shape == frames[0].shape and f.dtype == np.uint8 and f.ndim == 3 for f in frames)
    assert camera.DEMO_CLIP.stat().st_size < 1_000_000
    assert set(v for v in labels if v is not None) == set(range(10))
    assert any(v is None for v in labels), "the clip has frames of empty paper"


def test_demo_clip_truth_follows_position_and_loops():
    labels = demo_labels()
    with DemoClipSource(loop=True) as clip:
        seen = []
        for _ in range(len(labels) + 3):
            assert clip.read() is not None
            seen.append((clip.position, clip.truth()))
    assert [p for p, _ in seen[:len(labels)]] == list(range(len(labels)))
    assert [p for p, _ in seen[len(labels):]] == [0, 1, 2]
    assert all(t == labels[p] for p, t in seen)


def test_missing_demo_clip_says_how_to_fix(tmp_path):
    with pytest.raises(SourceNotFoundError, match="make_demo_clip"):
        DemoClipSource(path=tmp_path / "gone.avi")


# -- video files ----------------------------------------------------------------------------------------

def test_video_file_frames_in_order_then_none(video):
    with VideoFileSource(video) as source:
        frames = list(source)
        assert source.read() is None
        assert source.fps == pytest.approx(50.0)
        assert "clip.avi" in source.describe()
    assert [_number(f) for f in frames] == list(range(6))


def test_video_file_loops(video):
    with VideoFileSource(video, loop=True) as source:
        numbers = [_number(source.read()) for _ in range(9)]
    assert numbers == [0, 1, 2, 3, 4, 5, 0, 1, 2]


def test_video_file_realtime_keeps_the_frame_rate(video):
    with VideoFileSource(video, realtime=True) as source:
        start = time.perf_counter()
        for _ in range(6):
            source.read()
        elapsed = time.perf_counter() - start
    assert elapsed >= 5 / 50 * 0.9


def test_video_file_errors(tmp_path):
    with pytest.raises(SourceNotFoundError, match="not found") as missing:
        VideoFileSource(tmp_path / "nothing.mp4")
    assert isinstance(missing.value, FileNotFoundError) and isinstance(missing.value, LabkitError)
    with pytest.raises(FrameSourceError, match="is a folder"):
        VideoFileSource(tmp_path)
    text = tmp_path / "notes.avi"
    text.write_text("not a video at all\n" * 100)
    with pytest.raises(FrameSourceError, match="decode"):
        VideoFileSource(text)


def test_closed_source_says_so(video):
    source = VideoFileSource(video)
    source.close()
    source.close()  # twice is fine
    with pytest.raises(FrameSourceError, match="closed"):
        source.read()


# -- folders of pictures ---------------------------------------------------------------------------------

def test_image_folder_in_name_order_skipping_unreadable(tmp_path):
    for k, frame in enumerate(_frames(3)):
        cv2.imwrite(str(tmp_path / f"img_{k:02d}.png"), frame)
    (tmp_path / "img_01b.png").write_bytes(b"not a png")
    (tmp_path / "readme.txt").write_text("ignored: not a picture")
    with ImageFolderSource(tmp_path) as source:
        with pytest.warns(UserWarning, match="img_01b.png"):
            numbers = [_number(f) for f in source]
    assert numbers == [0, 1, 2]
    assert [p.name for p in source.skipped] == ["img_01b.png"]


def test_image_folder_grey_pictures_become_bgr(tmp_path):
    cv2.imwrite(str(tmp_path / "grey.png"), np.full((40, 50), 128, dtype=np.uint8))
    with ImageFolderSource(tmp_path, loop=True) as source:
        first, second = source.read(), source.read()
    assert first.shape == (40, 50, 3) and second is not None


def test_image_folder_errors(tmp_path):
    with pytest.raises(SourceNotFoundError, match="no pictures"):
        ImageFolderSource(tmp_path)
    with pytest.raises(SourceNotFoundError, match="not found"):
        ImageFolderSource(tmp_path / "missing")
    file = tmp_path / "a.png"
    cv2.imwrite(str(file), np.zeros((30, 30, 3), np.uint8))
    with pytest.raises(FrameSourceError, match="not a folder"):
        ImageFolderSource(file)


# -- frames in memory ----------------------------------------------------------------------------------------

def test_array_source_with_labels():
    frames = _frames(3)
    with ArraySource(frames, labels=[1, None, 3]) as source:
        out = [(source.read() is not None, source.truth()) for _ in range(3)]
        assert source.read() is None
    assert out == [(True, 1), (True, None), (True, 3)]
    with pytest.raises(ValueError, match="2 labels for 3 frames"):
        ArraySource(frames, labels=[1, 2])
    with pytest.raises(SourceNotFoundError):
        ArraySource([])


# -- cameras --------------------------------------------------------------------------------------------------

def test_camera_reads_the_newest_frame_not_the_oldest_queued(fake_camera):
    with CameraSource(0) as cam:
        fake = fake_camera.made[0]
        assert fake.props.get(cv2.CAP_PROP_BUFFERSIZE) == 1, "asked the driver for a queue of one"
        assert cam.read()[0, 0, 0] == 0  # the probe frame
        frame = cam.read()  # frames 1..3 are stale in the queue: drained, then a fresh one
        assert frame[0, 0, 0] == 100
        assert not fake.queue
    assert fake.released


def test_camera_that_honours_the_buffer_size_drains_less(fake_camera):
    fake_camera.options = {"honours_buffersize": True, "queued": 1}
    with CameraSource(0) as cam:
        assert cam.buffer_size_set and cam.max_drain == 2
        cam.read()
        assert cam.read()[0, 0, 0] == 100


def test_camera_errors(fake_camera):
    with pytest.raises(TypeError, match="index"):
        CameraSource("0")
    fake_camera.options = {"opened": False}
    with pytest.raises(CameraUnavailableError, match="could not open camera 0"):
        CameraSource(0)
    fake_camera.options = {"gives_frames": False}
    with pytest.raises(CameraUnavailableError, match="gave no picture"):
        CameraSource(0)
    assert fake_camera.made[-1].released, "a camera that gives nothing is released at once"


def test_missing_camera_device_is_reported_not_tried(no_camera):
    with pytest.raises(CameraUnavailableError, match="/dev/video0"):
        CameraSource(0)


def test_probing_a_missing_camera_prints_no_opencv_warnings(monkeypatch, capfd):
    monkeypatch.setattr(camera, "_camera_device_missing", lambda index: None)  # make OpenCV really try
    with pytest.raises(CameraUnavailableError):
        CameraSource(63)
    out, err = capfd.readouterr()
    assert "WARN" not in out + err and "ERROR" not in out + err


# -- the fallback chain ----------------------------------------------------------------------------------------

def test_fallback_down_to_the_demo_clip(no_camera, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    source = open_source(video=tmp_path / "missing.mp4", folder=empty)
    try:
        assert isinstance(source, DemoClipSource)
        report = capsys.readouterr().out
        assert report == source.report + "\n"
        assert "demo clip" in report.splitlines()[0]
        assert "camera 0: skipped -- no camera device /dev/video0" in report
        assert "missing.mp4: skipped -- video file not found" in report
        assert "empty: skipped -- no pictures" in report
    finally:
        source.close()


def test_fallback_stops_at_the_first_source_that_works(no_camera, video, tmp_path):
    with open_source(video=video, folder=tmp_path, quiet=True) as source:
        assert isinstance(source, VideoFileSource) and not isinstance(source, DemoClipSource)
        assert "image folder" in source.report and "not tried" in source.report


def test_camera_first_when_there_is_one(fake_camera):
    with open_source(quiet=True) as source:
        assert isinstance(source, CameraSource)
        assert source.report.startswith("frame source: camera 0")


def test_prefer_moves_a_source_to_the_front(fake_camera, video, tmp_path):
    with open_source("demo", quiet=True) as source:
        assert isinstance(source, DemoClipSource)
        assert "camera 0: not tried" in source.report
    with open_source(video, quiet=True) as source:
        assert isinstance(source, VideoFileSource) and source.path == video
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((30, 30, 3), np.uint8))
    with open_source(tmp_path, quiet=True) as source:
        assert isinstance(source, ImageFolderSource)
    with pytest.raises(TypeError, match="prefer"):
        open_source(3.5)


def test_no_camera_asked_for(no_camera):
    with open_source(camera=None, quiet=True) as source:
        assert "camera: skipped -- not asked for" in source.report
