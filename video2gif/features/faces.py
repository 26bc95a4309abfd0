"""Faces: how often a segment shows a face, and how big.

GIFs favour people. :class:`FaceCollector` runs OpenCV's frontal-face Haar cascade (Viola-Jones;
the cascade files ship inside ``opencv-python-headless`` below version 5, the ``faces`` extra) on
grey frames sampled at 1 fps and scaled by FFmpeg to 320 px wide (about 12 ms of CPU a frame, on
a thread of its own), keeping per frame only the number of faces and the height of the largest.
After the pass :func:`face_signals` gives each segment ``faces`` (the share of its sampled frames
with a face) and ``face_size`` (the mean height of the largest face relative to a close-up,
:data:`CLOSE_UP` of the frame height, capped at 1; frames without a face count 0).

Faces smaller than :data:`MIN_FACE` pixels at 320 px wide (about 11% of a 16:9 frame's height)
are not looked for: small faces in wide shots matter less for a GIF. (Searching at 256 px wide
instead cost 8.2 instead of 13.4 ms a frame but found faces in 2 instead of 8 of 20 sampled
frames of goldeneye-vfr-drop3.mp4.)

Example:
    >>> collector = FaceCollector()  # doctest: +SKIP
    >>> # decode_pass(path, [collector, ...]); then:
    >>> # face_signals(collector.result, segments)  # {"faces": …, "face_size": …}
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..decode import FrameConsumer, FrameRequest, VideoInfo, Worker
from ..segments import Segment

FACE_FPS = 1.0  # frames per second searched for faces: 3 looks at a 3 s segment
FACE_THREADS = 1  # OpenCV threads: the decoder and the backbone use the other core
FACE_WIDTH = 320  # pixels; the height keeps the aspect ratio
CASCADE_FILE = "haarcascade_frontalface_default.xml"  # in cv2.data.haarcascades
SCALE_FACTOR = 1.2  # step between the cascade's search scales
MIN_NEIGHBORS = 5  # overlapping detections needed to accept a face (fewer false positives)
MIN_FACE = 20  # pixels at FACE_WIDTH: the smallest face looked for
CLOSE_UP = 0.4  # a face this fraction of the frame height is a close-up: face_size 1
PENDING_FRAMES = 4  # frames waiting for the detector thread; bounds memory
EPS = 1e-6  # seconds


def _cascade_path() -> Path | str:
    """The cascade file, or a one-line reason why face detection is unavailable."""
    try:
        import cv2
    except ImportError:
        return "OpenCV is not installed (pip install 'video2gif[faces]')"
    if not hasattr(cv2, "CascadeClassifier"):
        return (f"OpenCV {cv2.__version__} has no Haar cascades (they ship below version 5: "
                "pip install 'opencv-python-headless<5')")
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    path = Path(folder) / CASCADE_FILE
    if not folder or not path.is_file():
        return f"OpenCV {cv2.__version__} ships without {CASCADE_FILE}"
    return path


def face_detection_unavailable() -> str | None:
    """None when faces can be detected; otherwise the reason, in one line."""
    found = _cascade_path()
    return found if isinstance(found, str) else None


@dataclass(frozen=True)
class FaceTrack:
    """Per sampled frame: its time, how many faces, and the largest face's height fraction."""

    times: np.ndarray  # (n,) seconds
    counts: np.ndarray  # (n,) faces found
    largest: np.ndarray  # (n,) height of the largest face / frame height (0 without a face)


class FaceCollector(FrameConsumer):
    """Finds frontal faces in grey frames sampled at ``fps``; keeps three numbers per frame.

    The search runs on a thread of its own beside the decoder (OpenCV releases the GIL).

    Raises:
        RuntimeError: OpenCV or its cascade is missing (check
            :func:`face_detection_unavailable` first).
    """

    def __init__(self, fps: float = FACE_FPS) -> None:
        super().__init__(FrameRequest(width=FACE_WIDTH, pixel_format="gray", fps=fps,
                                      exact=False))
        found = _cascade_path()
        if isinstance(found, str):
            raise RuntimeError(found)
        import cv2

        cv2.setNumThreads(FACE_THREADS)  # process-wide; idle worker threads spin on 2 cores
        self._cv2 = cv2
        self._cascade = cv2.CascadeClassifier(os.fspath(found))
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV could not read {found}")
        self.result: FaceTrack | None = None
        self._rows: list[tuple[float, int, float]] = []
        self._worker: Worker | None = None

    def start(self, info: VideoInfo) -> None:
        if self._worker is not None:  # a pass that failed half-way: drop its thread
            self._worker.discard()
        self._rows = []
        self.result = None
        self._worker = Worker(lambda item: self._detect(*item), PENDING_FRAMES, "video2gif-faces")

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        self._worker.submit((time, image))  # the decoder never reuses a handed-out array

    def find(self, image: np.ndarray) -> np.ndarray:
        """Face boxes ``(x, y, w, h)`` (int32, shape (n, 4)) in a grey image of FACE_WIDTH."""
        grey = self._cv2.equalizeHist(image)  # a copy: the decoder's frame is read-only
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS,
            minSize=(MIN_FACE, MIN_FACE))
        return np.asarray(found, dtype=np.int32).reshape(-1, 4)

    def _detect(self, time: float, image: np.ndarray) -> None:
        heights = self.find(image)[:, 3]
        self._rows.append((time, len(heights), heights.max(initial=0) / image.shape[0]))

    def finish(self, info: VideoInfo) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.close()
        rows = np.asarray(self._rows, dtype=np.float64).reshape(-1, 3)
        self.result = FaceTrack(rows[:, 0].copy(), rows[:, 1].astype(np.int32),
                                rows[:, 2].copy())
        self._rows = []


def face_signals(track: FaceTrack | None, segments: Sequence[Segment]) -> dict[str, np.ndarray]:
    """``{"faces": (n,), "face_size": (n,)}`` in [0, 1]; ``{}`` without a track.

    A segment uses the sampled frames inside it, or the nearest one when it holds none.

    Example:
        >>> track = FaceTrack(np.array([0.0, 0.5, 1.0, 1.5]), np.array([0, 1, 1, 0]),
        ...                   np.array([0.0, 0.2, 0.4, 0.0]))
        >>> sig = face_signals(track, [Segment(0.0, 2.0, 0, 48, 0)])
        >>> sig["faces"].tolist(), sig["face_size"].round(3).tolist()
        ([0.5], [0.375])
    """
    if track is None or not len(track.times):
        return {}
    presence = (track.counts > 0).astype(np.float64)
    size = np.minimum(track.largest / CLOSE_UP, 1.0)
    faces = np.zeros(len(segments))
    face_size = np.zeros(len(segments))
    for i, seg in enumerate(segments):
        lo, hi = np.searchsorted(track.times, [seg.start - EPS, seg.end - EPS])
        if hi <= lo:
            mid = (seg.start + seg.end) / 2
            lo = int(np.argmin(np.abs(track.times - mid)))
            hi = lo + 1
        faces[i] = presence[lo:hi].mean()
        face_size[i] = size[lo:hi].mean()
    return {"faces": faces, "face_size": face_size}
