"""Shot boundaries from small thumbnails, in the shared decode pass.

:class:`ShotDetector` is a :class:`~video2gif.decode.FrameConsumer`: it keeps a few numbers per
frame (never the frames) and decides the boundaries when the pass finishes.

Example:
    >>> from video2gif.shots import detect_shots
    >>> shots = detect_shots("clip.mp4")  # doctest: +SKIP
    >>> [(s.start, s.end) for s in shots]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .decode import FrameConsumer, FrameRequest, VideoInfo, decode_pass

THUMB_WIDTH, THUMB_HEIGHT = 64, 36  # pixels; enough to see a cut, cheap to scale to
CUT_RATIO = 3.0  # a cut's frame difference is this many times its neighbours' average
CUT_MIN_DIFF = 12.0  # mean absolute difference (0-255) below which nothing is a cut
NEIGHBOUR_FRAMES = 2  # frames each side that make the adaptive average
MIN_SHOT_SECONDS = 0.6  # shots shorter than this are merged into the one before


@dataclass(frozen=True)
class Shot:
    """A continuous shot: frames ``[start_frame, end_frame)`` shown from ``start`` to ``end`` s.

    ``transition_in``/``transition_out`` say how the shot begins and ends: "start", "end",
    "cut", "dissolve" or "fade".
    """

    start: float
    end: float
    start_frame: int
    end_frame: int
    transition_in: str = "start"
    transition_out: str = "end"

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {
            "start": round(self.start, 4),
            "end": round(self.end, 4),
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "transition_in": self.transition_in,
            "transition_out": self.transition_out,
        }


ShotList = list[Shot]


@dataclass
class ShotOptions:
    """Tuning of the detector; defaults work for ordinary edited video."""

    cut_ratio: float = CUT_RATIO  # adaptive threshold for hard cuts
    cut_min_diff: float = CUT_MIN_DIFF  # absolute floor for hard cuts (0-255 scale)
    min_shot_seconds: float = MIN_SHOT_SECONDS  # shorter shots are merged


class ShotDetector(FrameConsumer):
    """Finds hard cuts from per-frame differences of 64×36 thumbnails.

    After the decode pass, :attr:`shots` holds the shots and :attr:`times` every frame's time.
    """

    def __init__(self, options: ShotOptions | None = None) -> None:
        super().__init__(FrameRequest(width=THUMB_WIDTH, height=THUMB_HEIGHT))
        self.options = options or ShotOptions()
        self._prev: np.ndarray | None = None
        self._times: list[float] = []
        self._diffs: list[float] = []
        self.shots: ShotList = []
        self.times: np.ndarray = np.zeros(0)
        self.frame_diffs: np.ndarray = np.zeros(0)

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        thumb = image.astype(np.int16)
        diff = 0.0 if self._prev is None else float(np.abs(thumb - self._prev).mean())
        self._prev = thumb
        self._times.append(time)
        self._diffs.append(diff)

    def finish(self, info: VideoInfo) -> None:
        self.times = np.asarray(self._times, dtype=np.float64)
        self.frame_diffs = np.asarray(self._diffs, dtype=np.float32)
        cuts = self._hard_cuts()
        self.shots = _shots_from_boundaries(self.times, info.duration, cuts, self.options)

    def _hard_cuts(self) -> list[int]:
        d = self.frame_diffs
        n = len(d)
        out = []
        for t in range(1, n):
            if d[t] < self.options.cut_min_diff:
                continue
            lo, hi = max(1, t - NEIGHBOUR_FRAMES), min(n, t + NEIGHBOUR_FRAMES + 1)
            neighbours = np.concatenate([d[lo:t], d[t + 1 : hi]])
            base = float(neighbours.mean()) if len(neighbours) else 0.0
            if d[t] >= self.options.cut_ratio * max(base, 1.0):
                out.append(t)
        return out


def _shots_from_boundaries(
    times: np.ndarray, duration: float, cuts: list[int], options: ShotOptions
) -> ShotList:
    """Shots between boundary frames (each boundary is the first frame of a new shot)."""
    n = len(times)
    if n == 0:
        return []
    starts = [0]
    for c in sorted(cuts):
        if times[c] - times[starts[-1]] >= options.min_shot_seconds:
            starts.append(c)
    shots = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else n
        end_time = float(times[e]) if e < n else duration
        shots.append(
            Shot(
                start=float(times[s]),
                end=end_time,
                start_frame=s,
                end_frame=e,
                transition_in="start" if i == 0 else "cut",
                transition_out="end" if e == n else "cut",
            )
        )
    return shots


@dataclass
class ShotResult:
    """Shots of a video with the info of the pass that found them."""

    info: VideoInfo
    shots: ShotList = field(default_factory=list)


def detect_shots(path: str | os.PathLike, options: ShotOptions | None = None) -> ShotResult:
    """Decode ``path`` once and return its shots.

    Raises:
        InputError, DecodeError: the file is not a decodable video.
    """
    detector = ShotDetector(options)
    info = decode_pass(path, [detector])
    return ShotResult(info=info, shots=detector.shots)
