"""Frame sources with one interface: a camera, a video file, a folder of images, the demo clip.

>>> from labkit.camera import open_source
>>> with open_source() as source:      # the first that works: camera, video, folder, demo clip
...     frame = source.read()          # BGR uint8 H x W x 3, or None when there are no more

Every source has ``read() -> frame | None``, ``close()``, ``name``, ``fps`` (None if not
known), ``position`` (index of the last frame read) and ``truth()`` (the true digit of the last
frame, for the demo clip); it is a context manager and iterates over its frames.

==================  ===========================================================================
source              what it reads
==================  ===========================================================================
CameraSource        a camera through OpenCV (``cv2.VideoCapture(index)``), always the newest frame
VideoFileSource     a video file OpenCV can decode (optionally looping, optionally in real time)
ImageFolderSource   the pictures in a folder, in name order (.png .jpg .bmp ...)
DemoClipSource      the bundled clip of held-out MNIST digits filmed on paper, with true labels
ArraySource         frames you already have in memory (tests, your own experiments)
==================  ===========================================================================

:func:`open_source` tries them in the order camera -> video file -> image folder -> demo clip
and reports which one it picked and why it skipped the others.  The demo clip always works, so
a notebook that calls ``open_source()`` runs on any machine.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterator, Sequence

import cv2
import numpy as np

from .errors import LabkitError

__all__ = [
    "FrameSource", "CameraSource", "VideoFileSource", "ImageFolderSource", "DemoClipSource", "ArraySource",
    "open_source", "demo_clip", "demo_labels", "DEMO_CLIP", "DEMO_LABELS", "IMAGE_SUFFIXES", "ORDER",
    "FrameSourceError", "SourceNotFoundError", "CameraUnavailableError",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_CLIP = DATA_DIR / "demo_digits.avi"  #: the bundled clip (made by tools/make_demo_clip.py)
DEMO_LABELS = DATA_DIR / "demo_digits.json"  #: its true label per frame
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")
ORDER = ("camera", "video", "folder", "demo")  #: what open_source tries, in this order
#: Frame period assumed for a camera that does not say its frame rate.
DEFAULT_CAMERA_FPS = 30.0


class FrameSourceError(LabkitError, RuntimeError):
    """A frame source cannot be opened or read; the message says which and why."""


class SourceNotFoundError(FrameSourceError, FileNotFoundError):
    """The file or folder a source should read does not exist, or holds no pictures."""


class CameraUnavailableError(FrameSourceError):
    """No camera at that index, or it opened but gave no picture (in use by another program?)."""


@contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's log while probing: a missing camera is an answer here, not a warning."""
    old = cv2.setLogLevel(0)  # 0 = silent
    try:
        yield
    finally:
        cv2.setLogLevel(old)


def _new_capture(target: int | str, api: int = cv2.CAP_ANY) -> cv2.VideoCapture:
    """``cv2.VideoCapture(target, api)``, quietly (the one place that opens captures; tests replace it)."""
    with _quiet_opencv():
        return cv2.VideoCapture(target, api)


def _camera_device_missing(index: int) -> str | None:
    """Why camera ``index`` surely is not there, or None if it may be (only Linux can tell cheaply)."""
    device = Path(f"/dev/video{index}")
    if sys.platform.startswith("linux") and not device.exists():
        return (f"no camera device {device} (this machine has no camera at index {index}, "
                "or the container/VM does not pass it through)")
    return None


# -- the interface -----------------------------------------------------------------------------------

class FrameSource:
    """What every source offers.  Subclasses implement :meth:`_read` and :meth:`_release`."""

    kind: ClassVar[str] = "source"

    def __init__(self, name: str, fps: float | None = None) -> None:
        self.name = name
        self.fps = fps if fps and fps > 0 else None  #: frames per second, if the source knows
        self.position: int | None = None  #: index (within the source) of the last frame read
        self.report = ""  #: how open_source chose this source (empty if made directly)
        self._closed = False

    # what subclasses provide
    def _read(self) -> np.ndarray | None:
        raise NotImplementedError

    def _release(self) -> None:
        pass

    # the interface
    def read(self) -> np.ndarray | None:
        """The next frame (BGR uint8 H x W x 3), or None when the source has no more."""
        if self._closed:
            raise FrameSourceError(f"{self.name} is closed; open a new source")
        return self._read()

    def truth(self) -> int | None:
        """The true digit of the last frame read, when the source knows it (the demo clip)."""
        return None

    def close(self) -> None:
        """Release the camera or file (safe to call twice)."""
        if not self._closed:
            self._closed = True
            self._release()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame

    def __del__(self) -> None:  # a forgotten camera stays busy for every other program
        try:
            self.close()
        except Exception:
            pass

    def describe(self) -> str:
        fps = f", {self.fps:g} frames/s" if self.fps else ""
        return f"{self.kind} {self.name}{fps}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}{' (closed)' if self._closed else ''}>"


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    """OpenCV returns BGR uint8 already; grey or BGRA pictures are turned into BGR."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


# -- a camera ------------------------------------------------------------------------------------------

class CameraSource(FrameSource):
    """A camera through OpenCV, reading the newest frame rather than the oldest queued one.

    Args:
        index: camera number (0 is the first; ``/dev/video0`` on Linux).
        width, height: ask the camera for this resolution (it may choose another).
        api: an OpenCV capture API (``cv2.CAP_V4L2``, ``cv2.CAP_DSHOW`` ...); default any.

    Raises:
        CameraUnavailableError: no such camera, or it gave no picture.
    """

    kind = "camera"

    def __init__(self, index: int = 0, *, width: int | None = None, height: int | None = None,
                 api: int = cv2.CAP_ANY) -> None:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"a camera is chosen by its index (0, 1, ...), got {index!r}; for a video file "
                            "use VideoFileSource(path)")
        index = int(index)
        super().__init__(f"{index}")
        missing = _camera_device_missing(index)
        if missing:
            raise CameraUnavailableError(missing)
        cap = _new_capture(index, api)
        if cap is None or not cap.isOpened():
            raise CameraUnavailableError(f"OpenCV could not open camera {index} (no such camera, or no permission)")
        with _quiet_opencv():
            if width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            # USB cameras keep filling a queue of frame buffers (V4L2 usually 4) whether or not we
            # read them. When our loop is slower than the camera, read() hands back the *oldest*
            # queued frame, so the digit we classify is several frames old and the result lags the
            # hand. Ask for a queue of one; not every backend honours it, so read() also drains.
            self.buffer_size_set = bool(cap.set(cv2.CAP_PROP_BUFFERSIZE, 1))
            ok, frame = cap.read()
        if not ok or frame is None:
            cap.release()
            raise CameraUnavailableError(f"camera {index} opened but gave no picture (is another program using it?)")
        self._cap = cap
        self._first: np.ndarray | None = frame
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
        self.frame_size = (frame.shape[1], frame.shape[0])
        #: grab() calls per read at most: the queue we asked for plus one fresh frame, or the usual 4 + 1
        self.max_drain = 2 if self.buffer_size_set else 5
        self._count = 0

    def _read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
        else:
            frame = self._newest()
            if frame is None:
                return None
        self.position = self._count
        self._count += 1
        return _as_bgr(frame)

    def _newest(self) -> np.ndarray | None:
        """Drain the queue with grab() (no decoding: cheap), then decode only the last frame.

        A grab() that returns at once took a frame that was already waiting (stale); one that
        blocks for a good part of a frame period waited for the sensor, so its frame is fresh.
        """
        period = 1.0 / (self.fps or DEFAULT_CAMERA_FPS)
        grabbed = False
        for _ in range(self.max_drain):
            start = time.perf_counter()
            if not self._cap.grab():
                break
            grabbed = True
            if time.perf_counter() - start > period / 2:
                break
        if not grabbed:
            return None
        ok, frame = self._cap.retrieve()
        return frame if ok else None

    def _release(self) -> None:
        self._cap.release()

    def describe(self) -> str:
        w, h = self.frame_size
        return f"camera {self.name} ({w}x{h}{f', {self.fps:g} frames/s' if self.fps else ''})"


# -- a video file ----------------------------------------------------------------------------------------

class VideoFileSource(FrameSource):
    """The frames of a video file.

    Args:
        path: a file OpenCV can decode (MJPG/AVI always; MP4 and others with FFmpeg).
        loop: start again at the first frame after the last one (else ``read()`` returns None).
        realtime: deliver frames no faster than the file's frame rate, as a camera would.

    Raises:
        SourceNotFoundError: no such file.
        FrameSourceError: OpenCV cannot decode it, or it has no frames.
    """

    kind = "video"

    def __init__(self, path: str | os.PathLike, *, loop: bool = False, realtime: bool = False) -> None:
        path = Path(path)
        super().__init__(path.name)
        if not path.exists():
            raise SourceNotFoundError(f"video file not found: {path}")
        if path.is_dir():
            raise FrameSourceError(f"{path} is a folder; for a folder of pictures use ImageFolderSource")
        self.path = path
        self.loop = loop
        self.realtime = realtime
        self._cap = self._open()
        with _quiet_opencv():
            ok, frame = self._cap.read()
        if not ok or frame is None:
            self._cap.release()
            raise FrameSourceError(f"{path} opened but has no frame OpenCV can decode")
        self._first: np.ndarray | None = frame
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or None
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
        self.frame_size = (frame.shape[1], frame.shape[0])
        self._next = 0  # index of the frame the next read returns
        self._clock: float | None = None  # realtime: when frame 0 was (or would have been) shown

    def _open(self) -> cv2.VideoCapture:
        # FFmpeg first (any format it has), then OpenCV's own MJPEG reader (in every build).
        for api in (cv2.CAP_FFMPEG, cv2.CAP_OPENCV_MJPEG, cv2.CAP_ANY):
            cap = _new_capture(str(self.path), api)
            if cap is not None and cap.isOpened():
                return cap
        raise FrameSourceError(f"OpenCV cannot decode {self.path} (not a video, or a codec this OpenCV build "
                               "lacks; MJPG in .avi always works)")

    def _rewind(self) -> bool:
        with _quiet_opencv():
            if self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
                return True
            self._cap.release()  # a backend that cannot seek: open the file again
            self._cap = self._open()
        return True

    def _read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
        else:
            with _quiet_opencv():
                ok, frame = self._cap.read()
            if not ok or frame is None:
                if not self.loop or self._next == 0:
                    return None
                self._rewind()
                self._next = 0
                with _quiet_opencv():
                    ok, frame = self._cap.read()
                if not ok or frame is None:
                    return None
        if self.realtime and self.fps:
            self._wait_for_frame_time()
        self.position = self._next
        self._next += 1
        return _as_bgr(frame)

    def _wait_for_frame_time(self) -> None:
        """Sleep until this frame is due at the file's frame rate (a late caller does not wait)."""
        now = time.perf_counter()
        if self._clock is None:  # the first frame is shown at once
            self._clock = now
            return
        due = self._clock + 1.0 / self.fps
        if due > now:
            time.sleep(due - now)
            self._clock = due
        else:
            self._clock = now  # we are slow: drop the backlog rather than race to catch up

    def _release(self) -> None:
        self._cap.release()

    def describe(self) -> str:
        w, h = self.frame_size
        count = f"{self.frame_count} frames " if self.frame_count else ""
        mode = ", looping" if self.loop else ""
        mode += ", real time" if self.realtime else ""
        return f"video file {self.name} ({count}{w}x{h}{f', {self.fps:g} frames/s' if self.fps else ''}{mode})"


class DemoClipSource(VideoFileSource):
    """The bundled demo clip: held-out MNIST digits on paper, filmed by a simulated cheap camera.

    :meth:`truth` gives the true digit of the last frame read (None on frames of empty paper).
    See ``tools/make_demo_clip.py`` for how it was made.
    """

    kind = "demo"

    def __init__(self, *, loop: bool = True, realtime: bool = False,
                 path: str | os.PathLike = DEMO_CLIP, labels: str | os.PathLike = DEMO_LABELS) -> None:
        path = Path(path)
        if not path.is_file():
            raise SourceNotFoundError(f"the demo clip {path} is missing: the package is incomplete (reinstall it, "
                                      "or run tools/make_demo_clip.py)")
        super().__init__(path, loop=loop, realtime=realtime)
        self.labels = demo_labels(labels)
        if self.frame_count and self.frame_count != len(self.labels):
            raise FrameSourceError(f"{labels} has {len(self.labels)} labels for {self.frame_count} frames")

    def truth(self) -> int | None:
        if self.position is None or self.position >= len(self.labels):
            return None
        return self.labels[self.position]

    def describe(self) -> str:
        return "demo clip " + super().describe().removeprefix("video file ")


def demo_labels(path: str | os.PathLike = DEMO_LABELS) -> list[int | None]:
    """The true digit of every frame of the demo clip (None: empty paper, no digit)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        return [None if v is None else int(v) for v in record["labels"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SourceNotFoundError(f"cannot read the demo clip's labels from {path}: {exc}") from exc


def demo_clip(*, loop: bool = True, realtime: bool = False) -> DemoClipSource:
    """The bundled demo clip as a source (looping by default)."""
    return DemoClipSource(loop=loop, realtime=realtime)


# -- a folder of pictures ---------------------------------------------------------------------------------

class ImageFolderSource(FrameSource):
    """The pictures in a folder, in name order (files OpenCV cannot read are skipped with a warning).

    Raises:
        SourceNotFoundError: no such folder, or no picture in it.
    """

    kind = "folder"

    def __init__(self, path: str | os.PathLike, *, loop: bool = False) -> None:
        path = Path(path)
        super().__init__(path.name or str(path))
        if not path.exists():
            raise SourceNotFoundError(f"image folder not found: {path}")
        if not path.is_dir():
            raise FrameSourceError(f"{path} is a file, not a folder; for a video use VideoFileSource")
        self.path = path
        self.files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise SourceNotFoundError(f"no pictures in {path} (looked for {' '.join(IMAGE_SUFFIXES)})")
        self.loop = loop
        self.skipped: list[Path] = []
        self._next = 0

    def _read(self) -> np.ndarray | None:
        tries = 0
        while tries < len(self.files):
            if self._next >= len(self.files):
                if not self.loop:
                    return None
                self._next = 0
            index, self._next = self._next, self._next + 1
            file = self.files[index]
            frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if frame is not None:
                self.position = index
                return frame
            tries += 1
            if file not in self.skipped:
                self.skipped.append(file)
                warnings.warn(f"{file}: OpenCV cannot read this picture; skipped", stacklevel=3)
        return None

    def describe(self) -> str:
        return f"image folder {self.path} ({len(self.files)} pictures{', looping' if self.loop else ''})"


# -- frames in memory ------------------------------------------------------------------------------------------

class ArraySource(FrameSource):
    """Frames you already have (a list or an array [N, H, W, 3]), with optional true labels."""

    kind = "frames"

    def __init__(self, frames: Sequence[np.ndarray] | np.ndarray, *, name: str = "in memory",
                 fps: float | None = None, loop: bool = False, labels: Sequence[int | None] | None = None) -> None:
        super().__init__(name, fps)
        self.frames = list(frames)
        if not self.frames:
            raise SourceNotFoundError("ArraySource needs at least one frame")
        if labels is not None and len(labels) != len(self.frames):
            raise ValueError(f"{len(labels)} labels for {len(self.frames)} frames")
        self.labels = list(labels) if labels is not None else None
        self.loop = loop
        self._next = 0

    def _read(self) -> np.ndarray | None:
        if self._next >= len(self.frames):
            if not self.loop:
                return None
            self._next = 0
        self.position, self._next = self._next, self._next + 1
        return self.frames[self.position]

    def truth(self) -> int | None:
        if self.labels is None or self.position is None:
            return None
        return self.labels[self.position]

    def describe(self) -> str:
        return f"{len(self.frames)} frames {self.name}"


# -- choosing a source ------------------------------------------------------------------------------------------

def _kind_of(prefer: Any) -> tuple[str | None, dict[str, Any]]:
    """``prefer`` -> (kind to try first, arguments it implies)."""
    if prefer is None:
        return None, {}
    if isinstance(prefer, bool):
        raise TypeError(f"prefer must be one of {ORDER}, a camera index or a path, got {prefer!r}")
    if isinstance(prefer, (int, np.integer)):
        return "camera", {"camera": int(prefer)}
    if isinstance(prefer, str) and prefer in ORDER:
        return prefer, {}
    if isinstance(prefer, (str, os.PathLike)):
        path = Path(prefer)
        return ("folder", {"folder": path}) if path.is_dir() else ("video", {"video": path})
    raise TypeError(f"prefer must be one of {ORDER}, a camera index or a path, got {prefer!r}")


def open_source(prefer: Any = None, *, camera: int | None = 0, video: str | os.PathLike | None = None,
                folder: str | os.PathLike | None = None, loop: bool = True, realtime: bool = False,
                quiet: bool = False) -> FrameSource:
    """Open the first frame source that works, and say which one and why.

    The order is: the **camera** (``camera`` index, 0 by default; None skips it), a **video**
    file (``video``), a **folder** of pictures (``folder``), and finally the bundled **demo**
    clip, which is always there.  ``prefer`` moves one of them to the front: a kind name
    (``"camera"``, ``"video"``, ``"folder"``, ``"demo"``), a camera index, or a path (a folder or
    a video file).  If the preferred one fails, the others are tried in the usual order.

    Args:
        loop: files, folders and the demo clip start again at the end.
        realtime: files and the demo clip deliver frames at their frame rate, as a camera does.
        quiet: do not print the report (it is in ``source.report`` either way).

    Returns:
        The open source; ``source.report`` lists what was tried: the one picked and the reason
        every other was skipped.
    """
    first, implied = _kind_of(prefer)
    camera = implied.get("camera", camera)
    video = implied.get("video", video)
    folder = implied.get("folder", folder)
    order = ([first] if first else []) + [k for k in ORDER if k != first]

    openers: dict[str, tuple[str, Callable[[], FrameSource] | None, str]] = {
        "camera": (f"camera {camera}" if camera is not None else "camera",
                   (lambda: CameraSource(camera)) if camera is not None else None,
                   "not asked for (camera=None)"),
        "video": (f"video file {video}" if video is not None else "video file",
                  (lambda: VideoFileSource(video, loop=loop, realtime=realtime)) if video is not None else None,
                  'none given (open_source(video="clip.mp4"))'),
        "folder": (f"image folder {folder}" if folder is not None else "image folder",
                   (lambda: ImageFolderSource(folder, loop=loop)) if folder is not None else None,
                   'none given (open_source(folder="photos/"))'),
        "demo": ("demo clip", lambda: DemoClipSource(loop=loop, realtime=realtime), ""),
    }
    skipped: list[str] = []
    chosen: FrameSource | None = None
    for kind in order:
        label, opener, why_not = openers[kind]
        if chosen is not None:
            skipped.append(f"  {label}: not tried (an earlier source works)")
            continue
        if opener is None:
            skipped.append(f"  {label}: skipped -- {why_not}")
            continue
        try:
            chosen = opener()
        except (FrameSourceError, TypeError) as exc:
            skipped.append(f"  {label}: skipped -- {exc}")
            if kind == "demo":
                raise FrameSourceError("no frame source works:\n" + "\n".join(skipped)) from exc
    assert chosen is not None
    chosen.report = f"frame source: {chosen.describe()}\n" + "\n".join(skipped)
    if not quiet:
        print(chosen.report)
    return chosen
