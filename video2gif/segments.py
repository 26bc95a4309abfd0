"""Cut shots into GIF-length candidate segments.

Lengths come from what people cut: in the PHD-GIFs selections the median GIF lasts 3.1 s and half
of them last between 2.75 and 6 s. A candidate never crosses a shot boundary and keeps a few
frames away from cuts and transitions, where a GIF would start or end on a flash of another shot.

Example:
    >>> from video2gif.shots import Shot
    >>> shot = Shot(start=0.0, end=10.0, start_frame=0, end_frame=240, transition_in="cut")
    >>> segs = make_segments([shot], fps=24.0, duration=10.0)
    >>> (segs.segments[0].start, round(segs.segments[0].end, 3))
    (0.125, 3.125)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import UsageError
from .shots import Shot

TARGET_SECONDS = 3.0  # window length; PHD-GIFs median GIF is 3.1 s
MIN_SECONDS = 1.5  # shots shorter than this give no candidate (after trimming)
MAX_SECONDS = 6.0  # a shot no longer than this becomes one candidate, whole
STRIDE_SECONDS = 1.0  # windows overlap: 3 s windows every 1 s
CUT_TRIM_FRAMES = 3  # frames kept clear of a hard cut on each side
TRANSITION_TRIM_FRAMES = 6  # frames kept clear of a dissolve or fade
SHOT_CANDIDATES = "shots"  # windows inside shots (the default)
UNIFORM_CANDIDATES = "uniform5"  # the 2016 release tutorial's uniform segments, shots ignored
CANDIDATES = (SHOT_CANDIDATES, UNIFORM_CANDIDATES)
UNIFORM_SECONDS = 5  # length of the release tutorial's segments

# Fallback candidates: offered only when the candidates above leave fewer than k distinct picks
# (video2gif.select tries them kind by kind, in this order, after every candidate).
SPLIT = "split"  # a half of a shot that is otherwise one whole candidate
ACROSS = "across_transition"  # a too-short shot with some of the fades or dissolves around it
SHORT = "short_shot"  # a shot shorter than min_length, whole
FALLBACK_KINDS = (SPLIT, ACROSS, SHORT)
FALLBACK_MIN_SECONDS = 1.0  # a shorter shot gives no fallback either: a flash, not a GIF
FALLBACK_WHY = {  # for segments.json and the report
    SPLIT: "half of a shot that is otherwise one candidate, so that one shot gives two GIFs",
    ACROSS: "a shot too short for a GIF alone, with part of the fade or dissolve around it "
            "(never across a cut)",
    SHORT: f"a shot shorter than a candidate's minimum, whole (at least "
           f"{FALLBACK_MIN_SECONDS:g} s)",
}


@dataclass(frozen=True)
class SegmentOptions:
    """How candidates are cut from shots."""

    length: float = TARGET_SECONDS  # window length for shots longer than max_length, seconds
    min_length: float = MIN_SECONDS  # shorter (trimmed) shots are dropped, seconds
    max_length: float = MAX_SECONDS  # shots up to this long are one whole candidate, seconds
    stride: float = STRIDE_SECONDS  # step between windows, seconds
    candidates: str = SHOT_CANDIDATES  # one of CANDIDATES; "uniform5" ignores the lengths

    def validate(self) -> SegmentOptions:
        if self.candidates not in CANDIDATES:
            raise UsageError("--candidates", f"unknown kind {self.candidates!r}; choose one of "
                             f"{', '.join(CANDIDATES)}")
        if not (0 < self.min_length <= self.max_length):
            raise UsageError("--min-len/--max-len", "need 0 < min-len <= max-len")
        if not (self.min_length <= self.length <= self.max_length):
            raise UsageError(
                "--length", f"window length {self.length} s is outside [min-len, max-len]"
            )
        if self.stride <= 0:
            raise UsageError("--stride", "must be positive")
        return self


@dataclass(frozen=True)
class Segment:
    """A candidate GIF: frames ``[start_frame, end_frame)`` from ``start`` to ``end`` seconds."""

    start: float
    end: float
    start_frame: int
    end_frame: int
    shot: int  # index of the shot it lies in
    touches_transition: bool = False  # its shot begins or ends with a dissolve or fade
    fallback: str = ""  # "" for a candidate; a FALLBACK_KINDS entry for a fallback candidate

    @property
    def duration(self) -> float:
        return self.end - self.start


SegmentList = list[Segment]


@dataclass
class Segmentation:
    """Candidates plus what was left out, so the report can say so."""

    segments: SegmentList = field(default_factory=list)
    dropped_shots: list[int] = field(default_factory=list)  # shots too short for a candidate


def _trim(kind: str, fps: float) -> float:
    if kind in ("start", "end"):
        return 0.0
    frames = CUT_TRIM_FRAMES if kind == "cut" else TRANSITION_TRIM_FRAMES
    return frames / fps


def make_segments(
    shots: Sequence[Shot],
    fps: float,
    duration: float,
    options: SegmentOptions | None = None,
    frame_times: np.ndarray | None = None,
) -> Segmentation:
    """Cut every shot into candidates.

    Arguments:
        shots: the video's shots, in order.
        fps: average frame rate, used to turn times into frame indices and trims into seconds.
        duration: the video's duration in seconds.
        options: lengths and stride.
        frame_times: every frame's time from the decode pass; frame indices then come from
            timestamps (exact for variable frame rate) instead of ``time × fps``.

    Returns:
        Segmentation with the candidates in time order and the indices of dropped shots. A video
        shorter than one GIF always gives one candidate: the whole video.

    Raises:
        UsageError: the options contradict each other.
    """
    options = (options or SegmentOptions()).validate()
    if options.candidates == UNIFORM_CANDIDATES:
        return uniform_segments(shots, fps, duration, frame_times)
    out = Segmentation()
    for index, shot in enumerate(shots):
        lo = shot.start + _trim(shot.transition_in, fps)
        hi = shot.end - _trim(shot.transition_out, fps)
        span = hi - lo
        if span < options.min_length:
            out.dropped_shots.append(index)
            continue
        touches = "dissolve" in (shot.transition_in, shot.transition_out) or "fade" in (
            shot.transition_in,
            shot.transition_out,
        )
        if span <= options.max_length:
            windows = [(lo, hi)]
        else:
            count = math.floor((span - options.length) / options.stride + 1e-9) + 1
            windows = [(lo + i * options.stride, lo + i * options.stride + options.length)
                       for i in range(count)]
            if hi - windows[-1][1] > 0.25 * options.stride:  # cover the shot's end too
                windows.append((hi - options.length, hi))
        for start, end in windows:
            out.segments.append(_segment(start, end, fps, index, touches, frame_times))
    if not out.segments and shots and duration < options.length + options.min_length:
        # Shorter than one GIF: the whole video is the only sensible candidate.
        first, last = shots[0], shots[-1]
        out.segments.append(
            Segment(first.start, last.end, first.start_frame, last.end_frame, 0, False)
        )
        out.dropped_shots = []
    return out


def fallback_segments(
    shots: Sequence[Shot],
    fps: float,
    duration: float,
    options: SegmentOptions | None = None,
    frame_times: np.ndarray | None = None,
) -> SegmentList:
    """Fallback candidates, for a video whose candidates leave no room for k picks.

    Each has :attr:`Segment.fallback` set to its kind:

    - ``split``: both halves of a shot from ``2 × min_length`` to ``max_length`` long, which
      :func:`make_segments` gives as one whole candidate; selection can then trim a half and the
      whole apart, each keeping its middle third, when the shot is long enough for both;
    - ``across_transition``: a shot too short for a candidate that borders a fade or dissolve,
      widened to about ``length`` into the transitions around it, no further than their middle
      (the next shot's half) and never across a cut; at least ``min_length``;
    - ``short_shot``: otherwise, a too-short shot whole (clear of cuts), when it lasts at least
      :data:`FALLBACK_MIN_SECONDS`.

    Arguments: as :func:`make_segments`. ``uniform5`` candidates have no fallbacks.

    Returns:
        The fallback candidates in time order (none overlaps a candidate of another shot).
    """
    options = (options or SegmentOptions()).validate()
    if options.candidates != SHOT_CANDIDATES:
        return []
    out: SegmentList = []
    for index, shot in enumerate(shots):
        lo = shot.start + _trim(shot.transition_in, fps)
        hi = shot.end - _trim(shot.transition_out, fps)
        span = hi - lo
        touches = _touches(shot)
        windows: list[tuple[float, float, str]] = []
        if 2 * options.min_length <= span <= options.max_length:
            mid = (lo + hi) / 2
            windows = [(lo, mid, SPLIT), (mid, hi, SPLIT)]
        elif span < options.min_length:
            left = _gradual_edge(shots, index, -1, duration, lo)
            right = _gradual_edge(shots, index, +1, duration, hi)
            centre = (shot.start + shot.end) / 2
            start = max(left, centre - options.length / 2)
            end = min(right, start + options.length)
            start = max(left, end - options.length)
            if (left < lo or right > hi) and end - start >= options.min_length:
                windows = [(start, end, ACROSS)]
            elif span >= FALLBACK_MIN_SECONDS:
                windows = [(lo, hi, SHORT)]
        for start, end, kind in windows:
            seg = _segment(start, end, fps, index, touches or kind == ACROSS, frame_times)
            out.append(replace(seg, fallback=kind))
    return out


def _touches(shot: Shot) -> bool:
    return bool({"dissolve", "fade"} & {shot.transition_in, shot.transition_out})


def _gradual_edge(shots: Sequence[Shot], index: int, side: int, duration: float,
                  inner: float) -> float:
    """How far a fallback of shot ``index`` may reach on ``side`` (-1: before, +1: after): the
    middle of a gradual transition there (its far end at the video's edge), else ``inner``."""
    shot = shots[index]
    kind = shot.transition_in if side < 0 else shot.transition_out
    if kind not in ("dissolve", "fade"):
        return inner
    neighbour = index + side
    if not 0 <= neighbour < len(shots):
        return 0.0 if side < 0 else duration
    if side < 0:
        return (shots[neighbour].end + shot.start) / 2
    return (shot.end + shots[neighbour].start) / 2


def uniform_segments(
    shots: Sequence[Shot],
    fps: float,
    duration: float,
    frame_times: np.ndarray | None = None,
    seconds: float = UNIFORM_SECONDS,
) -> Segmentation:
    """The release tutorial's candidates: ``(start, int(start + fps * 5))`` for start in
    ``range(0, int(duration * fps), int(fps * 5))``, in frames, whatever the shots.

    Consecutive candidates share their boundary frame, as the tutorial's did (its scoring gave
    that frame to the earlier one; see :mod:`video2gif.features.release_preprocess`). Times are
    frame / fps as the tutorial cut its GIFs. The last one ends with the video (the tutorial's
    ran past it), and one starting past the last decoded frame is left out (the release gave
    it no score).

    Example:
        >>> segs = uniform_segments([Shot(0.0, 12.0, 0, 288)], fps=24.0, duration=12.0)
        >>> [(s.start_frame, s.end_frame) for s in segs.segments]
        [(0, 120), (120, 240), (240, 288)]
    """
    step = int(fps * seconds)
    if step < 1:
        raise UsageError("--candidates", f"{fps} frames per second leave no frame in {seconds} s")
    has_times = frame_times is not None and len(frame_times)
    count = len(frame_times) if has_times else round(duration * fps)  # frames in the video
    out = Segmentation()
    for first in range(0, min(int(duration * fps), count), step):
        stop = min(int(first + fps * seconds), count)
        start, end = first / fps, min(stop / fps, duration)
        inside = [i for i, s in enumerate(shots) if s.end > start and s.start < end]
        touches = any({"dissolve", "fade"} & {shots[i].transition_in, shots[i].transition_out}
                      for i in inside)
        out.segments.append(Segment(start=start, end=end, start_frame=first, end_frame=stop,
                                    shot=inside[0] if inside else 0, touches_transition=touches))
    return out


def _segment(
    start: float, end: float, fps: float, shot: int, touches: bool, frame_times: np.ndarray | None
) -> Segment:
    if frame_times is not None and len(frame_times):
        # First frame shown at or after each bound; end stays exclusive.
        first, stop = np.searchsorted(frame_times, [start - 1e-6, end - 1e-6])
    else:
        first, stop = round(start * fps), round(end * fps)
    return Segment(
        start=start,
        end=end,
        start_frame=int(first),
        end_frame=int(stop),
        shot=shot,
        touches_transition=touches,
    )
