"""GIF-shaped boundaries: move each pick's start onto the beginning of an action and its end to
where the loop closes best, within about a second, inside its shot and clear of transitions.

The measurements come from the shared decode pass: :class:`MotionTrack` keeps, per frame, the
mean absolute luma change on the shot detector's 64×36 thumbnails (the same figure as the
``motion`` signal) and, :data:`TRACK_FPS` times a second, a 32×18 luma thumbnail. Nothing else is
kept: about 5 KB per second of video (33 MB for two hours at 30 fps).

The start goes to the strongest *motion onset* within reach: the frame where the motion of the
next :data:`ONSET_WINDOW` seconds most exceeds the motion of the one before (something begins to
move). Without a clear onset the start stays where it was. The end goes to the time whose
thumbnail is closest to the start's, so the jump from the last frame back to the first is small;
:mod:`video2gif.loop` refines it on the encoded frames. The ranked moment's *core* (its middle
:data:`~video2gif.select.CORE_SHARE`) always stays inside.

Example:
    >>> track = MotionTrack()
    >>> # decode_pass(path, [track, ...]); then, for a pick with its reach:
    >>> # cut = shape_cut(track.result(), Reach(2.0, 5.0, 1.2, 6.0, 2.75, 4.25), min_length=1.5)
    >>> # (cut.start, cut.end, cut.why)
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from ._io import json_seconds
from .decode import FrameConsumer, VideoInfo
from .shots import THUMB_REQUEST

TRACK_FPS = 8.0  # thumbnails kept per second for look comparisons and loop closure
TRACK_W, TRACK_H = 32, 18  # kept thumbnail size: 2×2 blocks of the 64×36 analysis thumbnail
MAX_SHIFT = 1.0  # seconds a boundary may move
ONSET_WINDOW = 0.5  # seconds of motion compared before and after a candidate start
ONSET_MIN = 0.6  # motion rise (mean |Δluma| per frame, 0-255) that counts as an action starting
ONSET_RATIO = 3.0  # ... and at least this many times the motion before (from rest, not a swing)
LENGTH_COST = 2.0  # typical frame-to-frame changes (at TRACK_FPS) one second of length change costs
EPS = 1e-6  # seconds


@dataclass(frozen=True)
class Track:
    """Per-frame motion and sampled thumbnails of one video."""

    times: np.ndarray  # (n,) seconds of every frame
    motion: np.ndarray  # (n,) mean |Δluma| to the previous frame (0 for the first), 0-255
    thumb_times: np.ndarray  # (m,) seconds of the kept thumbnails
    thumbs: np.ndarray  # (m, TRACK_H, TRACK_W) uint8 luma

    def thumbs_between(self, start: float, end: float) -> np.ndarray:
        """The kept thumbnails shown in ``[start, end)`` (at least the nearest one)."""
        lo, hi = np.searchsorted(self.thumb_times, [start - EPS, end - EPS])
        if hi <= lo and len(self.thumbs):
            lo = min(max(0, lo - 1), len(self.thumbs) - 1)
            hi = lo + 1
        return self.thumbs[lo:hi]

    def thumb_at(self, t: float) -> np.ndarray:
        """The kept thumbnail nearest to ``t``."""
        i = int(np.clip(np.searchsorted(self.thumb_times, t), 0, len(self.thumb_times) - 1))
        if i > 0 and abs(self.thumb_times[i - 1] - t) <= abs(self.thumb_times[i] - t):
            i -= 1
        return self.thumbs[i]


class MotionTrack(FrameConsumer):
    """Collects :class:`Track` in the shared decode pass (the shot detector's thumbnails).

    :class:`~video2gif.features.signals.SignalCollector` runs one in every analysis (its motion
    signal is this track's motion), so ``Analysis.track`` has it without a second consumer."""

    def __init__(self) -> None:
        super().__init__(THUMB_REQUEST)
        self._prev: np.ndarray | None = None
        # float64 arrays, not lists of floats: 8 bytes a frame each instead of about 32, since
        # they grow with the video.
        self._times = array("d")
        self._motion = array("d")
        self.mean_luma = array("d")  # of every frame, 0-255 (flashes, for the signals)
        self._thumb_times: list[float] = []
        self._thumbs: list[np.ndarray] = []
        self._next_tick = -np.inf

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        rgb = image.astype(np.float32)
        luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
        self._motion.append(0.0 if self._prev is None or self._prev.shape != luma.shape
                            else float(np.abs(luma - self._prev).mean()))
        self.mean_luma.append(float(luma.mean()))
        self._prev = luma
        self._times.append(time)
        if time >= self._next_tick - EPS:
            self._thumbs.append(_shrink(luma))
            self._thumb_times.append(time)
            self._next_tick = time + 1.0 / TRACK_FPS

    def result(self) -> Track:
        """What the pass collected (empty arrays before it ran)."""
        thumbs = (np.stack(self._thumbs) if self._thumbs
                  else np.zeros((0, TRACK_H, TRACK_W), np.uint8))
        return Track(np.asarray(self._times, dtype=np.float64),
                     np.asarray(self._motion, dtype=np.float64),
                     np.asarray(self._thumb_times, dtype=np.float64), thumbs)

    def finish(self, info: VideoInfo) -> None:
        self._prev = None


def _shrink(luma: np.ndarray) -> np.ndarray:
    """Block-mean a luma image to TRACK_H × TRACK_W (any input size)."""
    h, w = luma.shape
    ys = np.linspace(0, h, TRACK_H + 1).astype(int)
    xs = np.linspace(0, w, TRACK_W + 1).astype(int)
    rows = np.add.reduceat(luma, ys[:-1], axis=0) / np.diff(ys)[:, None]
    cells = np.add.reduceat(rows, xs[:-1], axis=1) / np.diff(xs)[None, :]
    return np.clip(cells.round(), 0, 255).astype(np.uint8)


def look_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute luma difference (0-255) of two thumbnails, ignoring an overall brightness
    shift (auto exposure, a flicker)."""
    d = a.astype(np.float32) - b.astype(np.float32)
    return float(np.abs(d - np.median(d)).mean())


@dataclass(frozen=True)
class Reach:
    """Where a pick may go: its ranked window, its core, and the outer limits."""

    start: float  # the ranked window, seconds
    end: float
    lo: float  # earliest allowed start: shot (clear of transitions), neighbours, MAX_SHIFT
    hi: float  # latest allowed end
    core_start: float  # the ranked moment's core: always inside the cut
    core_end: float


@dataclass(frozen=True)
class Cut:
    """A pick's final boundaries and why they moved."""

    start: float  # seconds
    end: float  # seconds: the frame shown at ``end`` would loop back to ``start`` best
    end_min: float  # the loop search in :mod:`video2gif.loop` may end anywhere in
    end_max: float  # [end_min, end_max]
    start_max: float  # ... and may start as late as this (the start itself after an onset)
    moved_start: float  # seconds the start moved (negative: earlier)
    moved_end: float
    onset: bool  # the start is a motion onset
    seam: float | None  # estimated last→first jump on the track thumbnails (0-255), or None
    why: str  # in words, for the report

    def to_dict(self) -> dict:
        return {"start": json_seconds(self.start), "end": json_seconds(self.end),
                "moved_start": round(self.moved_start, 3), "moved_end": round(self.moved_end, 3),
                "onset": self.onset, "why": self.why}


def shape_cut(track: Track | None, reach: Reach, min_length: float) -> Cut:
    """Choose the start (motion onset) and the end (best loop closure) of one pick.

    Arguments:
        track: the video's motion track (None or empty: the window stays as ranked, clamped).
        reach: the ranked window, its core and the limits.
        min_length: the shortest cut allowed, seconds (a shorter ranked window keeps its length).

    Returns:
        The Cut; its ``[start, end]`` holds ``[core_start, core_end]`` and lies in
        ``[reach.lo, reach.hi]``.
    """
    min_length = min(min_length, reach.end - reach.start)
    start_lo = max(reach.lo, reach.start - MAX_SHIFT)
    start_hi = min(reach.core_start, reach.start + MAX_SHIFT, reach.hi - min_length)
    start_hi = max(start_hi, start_lo)
    start = float(np.clip(reach.start, start_lo, start_hi))
    onset = False
    if track is not None and len(track.times) > 2:
        found = _onset(track, start_lo, start_hi)
        if found is not None:
            start, onset = found, True
    # A pick trimmed by more than MAX_SHIFT for a neighbour ends before reach.hi all the same.
    end_lo = max(reach.core_end, start + min_length, min(reach.end - MAX_SHIFT, reach.hi))
    end_hi = max(end_lo, min(reach.hi, reach.end + MAX_SHIFT))
    end, seam = float(np.clip(reach.end, end_lo, end_hi)), None
    if track is not None and len(track.thumbs) > 1:
        end, seam = _closing_end(track, start, end_lo, end_hi, reach.end - reach.start)
    why = []
    if onset:
        why.append(f"starts where motion begins ({start - reach.start:+.2f} s)")
    elif abs(start - reach.start) > EPS:
        why.append(f"start moved {start - reach.start:+.2f} s to stay clear of a neighbour")
    if reach.hi < reach.end - MAX_SHIFT - EPS:  # no choice: the neighbour's GIF starts there
        why.append(f"end moved {end - reach.end:+.2f} s to stay clear of a neighbour")
    elif abs(end - reach.end) > EPS:
        why.append(f"ends where the loop closes best ({end - reach.end:+.2f} s)")
    return Cut(start=start, end=end, end_min=end_lo, end_max=end_hi,
               start_max=start if onset else max(start, start_hi),
               moved_start=start - reach.start, moved_end=end - reach.end, onset=onset,
               seam=seam, why="; ".join(why) or "as ranked")


def _mean_motion(track: Track, lo: float, hi: float) -> float:
    a, b = np.searchsorted(track.times, [lo - EPS, hi - EPS])
    m = track.motion[max(a, 1) : b]  # the first frame's 0 is not a measurement
    return float(m.mean()) if len(m) else 0.0


def _onset(track: Track, lo: float, hi: float) -> float | None:
    """The frame time in [lo, hi] where motion rises most, if it rises clearly."""
    # A full window of frames must precede the onset: at the video's first frame nothing tells
    # whether the action begins there or was already under way.
    lo = max(lo, float(track.times[0]) + ONSET_WINDOW)
    a, b = np.searchsorted(track.times, [lo - EPS, hi + EPS])
    best, best_gain = None, 0.0
    for t in track.times[a:b]:
        before = _mean_motion(track, t - ONSET_WINDOW, t)
        after = _mean_motion(track, t + EPS, t + ONSET_WINDOW)
        gain = after - before
        if gain >= ONSET_MIN and after >= ONSET_RATIO * before and gain > best_gain:
            best, best_gain = float(t), gain
    return best


def _closing_end(track: Track, start: float, lo: float, hi: float, length: float
                 ) -> tuple[float, float]:
    """The end in [lo, hi] whose thumbnail is closest to the start's, and that distance.

    Changing the length costs LENGTH_COST typical thumbnail steps per second, so the end moves
    only for a loop that closes clearly better, not for noise.
    """
    first = track.thumb_at(start)
    wanted = float(np.clip(start + length, lo, hi))
    a, b = np.searchsorted(track.thumb_times, [lo - EPS, hi + EPS])
    options = [(wanted, look_distance(track.thumb_at(wanted), first))]
    options += [(float(t), look_distance(track.thumbs[i], first))
                for i, t in zip(range(a, b), track.thumb_times[a:b])]
    inside = track.thumbs_between(start, hi)
    steps = [look_distance(x, y) for x, y in pairwise(inside)]
    step = float(np.median(steps)) if steps else 0.0
    t, seam = min(options, key=lambda o: o[1] + LENGTH_COST * step * abs(o[0] - wanted))
    return t, seam


def shape_cuts(track: Track | None, reaches: Sequence[Reach], min_length: float) -> list[Cut]:
    """:func:`shape_cut` for each pick; reaches must already keep neighbours apart."""
    return [shape_cut(track, r, min_length) for r in reaches]
