"""Seamless loops: choose where a GIF ends so the jump back to its first frame is small, cross-fade
when that pays, or play forward then backward.

A GIF loops forever, so its last frame is followed by its first. :class:`LoopShaper` is applied
to the frame list (frames and their holds, in ticks of the output rate) before any writer sees it,
so it works for every output format:

- ``auto``: among the ends allowed (the cut's ``[end_min, end_max]``), and the starts allowed
  (up to the cut's ``start_max``, when the start is not a motion onset), take the pair after
  the jump from the last frame back to the first is smallest (for a swing or a spinning object:
  whole periods, closing where the motion is slowest, at a swing's turning point). Half as much
  weight goes to how far the first frame is from the one that would follow the last in the
  video, which prefers a smooth continuation among equally small jumps. Changing the length
  costs a little, so a clip without repetition keeps its length. If the jump is still more than
  :data:`CROSSFADE_WHEN` typical frame-to-frame changes, the last frames are blended into the
  first ones over up to :data:`CROSSFADE_SECONDS`, when that makes the seam smaller.
- ``off``: the frames as cut.
- ``bounce``: forward then backward (a "boomerang"); the seam is one ordinary step.

The seam figure is the mean absolute luma difference (0-255) between the last frame shown and the
first, on 64×36 thumbnails; :class:`LoopReport` gives it beside the median and the smallest
change between consecutive frames inside the clip.

Example:
    >>> import numpy as np
    >>> frames = [np.full((8, 8, 3), v, np.uint8) for v in (0, 80, 160, 80, 0, 80)]
    >>> out, holds, report = shape_loop(frames, [1] * 6, "auto", min_frames=3)
    >>> len(out), report.seam
    (4, 80.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .errors import UsageError

LOOP_MODES = ("auto", "off", "bounce")
DEFAULT_LOOP = "auto"
SEAM_W, SEAM_H = 64, 36  # thumbnail the seam is measured on, pixels
CROSSFADE_SECONDS = 0.5  # longest cross-fade
CROSSFADE_WHEN = 2.0  # cross-fade when the seam exceeds this many typical steps ...
CROSSFADE_GAIN = 0.7  # ... and the cross-fade brings it below this share of what it was
LENGTH_COST = 1.0  # typical steps that one second of change in length costs in the end search
FOLLOW_WEIGHT = 0.5  # weight of the continuation error beside the last→first jump in that search


def check_loop(mode: str) -> str:
    """Return ``mode`` if it is one of LOOP_MODES, else raise UsageError naming ``--loop``.

    Example:
        >>> check_loop("bounce")
        'bounce'
    """
    if mode not in LOOP_MODES:
        raise UsageError("--loop", f"{mode!r} is not one of {', '.join(LOOP_MODES)}")
    return mode


@dataclass(frozen=True)
class LoopReport:
    """How a GIF loops: its seam and the changes inside, for segments.json and the report."""

    mode: str
    seam: float  # mean |Δluma| (0-255) from the last frame shown back to the first
    typical_step: float  # median |Δluma| between consecutive frames inside the GIF
    best_step: float  # smallest |Δluma| between consecutive distinct frames inside
    seam_as_cut: float  # the seam of the frames as cut, before the search
    skipped_frames: int  # frames the search dropped at the start
    trimmed_frames: int  # frames the end search removed (of those read up to end_max)
    crossfade_frames: int  # frames blended into the start (0: none)

    @property
    def seam_ratio(self) -> float:
        """The seam in typical steps: about 1 or less loops without a visible jump."""
        return self.seam / self.typical_step if self.typical_step > 1e-9 else (
            0.0 if self.seam <= 1e-9 else float("inf"))

    def to_dict(self) -> dict:
        ratio = self.seam_ratio
        return {"mode": self.mode, "seam": round(self.seam, 3),
                "typical_step": round(self.typical_step, 3),
                "best_step": round(self.best_step, 3),
                "seam_steps": None if ratio == float("inf") else round(ratio, 3),
                "seam_as_cut": round(self.seam_as_cut, 3),
                "skipped_frames": self.skipped_frames, "trimmed_frames": self.trimmed_frames,
                 "crossfade_frames": self.crossfade_frames}


def thumbnail(image: np.ndarray) -> np.ndarray:
    """Luma of ``image`` block-averaged to SEAM_H × SEAM_W (float32, 0-255)."""
    rgb = image.astype(np.float32)
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    h, w = luma.shape
    ys = np.linspace(0, h, min(SEAM_H, h) + 1).astype(int)
    xs = np.linspace(0, w, min(SEAM_W, w) + 1).astype(int)
    rows = np.add.reduceat(luma, ys[:-1], axis=0) / np.diff(ys)[:, None]
    return np.add.reduceat(rows, xs[:-1], axis=1) / np.diff(xs)[None, :]


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def _steps(thumbs: Sequence[np.ndarray]) -> tuple[float, float]:
    """(median, smallest nonzero) change between consecutive frames; zeros for a still."""
    d = np.array([_distance(a, b) for a, b in pairwise(thumbs)])
    moving = d[d > 1e-6]
    if not len(moving):
        return 0.0, 0.0
    return float(np.median(moving)), float(moving.min())


def shape_loop(
    frames: Sequence[np.ndarray],
    holds: Sequence[int],
    mode: str = DEFAULT_LOOP,
    min_frames: int | None = None,
    wanted_frames: int | None = None,
    fps: float | None = None,
    max_skip: int = 0,
) -> tuple[list[np.ndarray], list[int], LoopReport]:
    """Shape a frame list into a loop.

    Arguments:
        frames: H×W×3 uint8 images in play order (at least one).
        holds: ticks each frame lasts (same length as ``frames``).
        mode: one of LOOP_MODES.
        min_frames: ``auto`` keeps at least this many frames (default: all).
        wanted_frames: the length the cut asked for; ``off`` and ``bounce`` keep exactly this many,
            ``auto`` pays for moving away from it (default: all).
        fps: ticks per second, for the length cost and the cross-fade length (default 12).
        max_skip: ``auto`` may drop up to this many frames at the start (its loop then still
            lasts at least as long as ``min_frames`` would).

    Returns:
        (frames, holds, LoopReport). The inputs are not modified.

    Raises:
        UsageError: an unknown mode, or frames and holds that do not match.
    """
    check_loop(mode)
    frames, holds = list(frames), [int(h) for h in holds]
    if not frames or len(frames) != len(holds):
        raise UsageError("frames", "need one or more frames and one hold per frame")
    fps = fps or 12.0
    n = len(frames)
    wanted = max(1, min(n, wanted_frames or n))
    least = max(1, min(wanted, min_frames or wanted))
    thumbs = [thumbnail(f) for f in frames]
    as_cut = _distance(thumbs[wanted - 1], thumbs[0])
    crossfade, skipped, trimmed = 0, 0, n - wanted
    if mode == "auto" and n > 1:
        typical = _steps(thumbs[:wanted])[0]
        a, m = _best_loop(thumbs, holds, least, wanted, min(max_skip, n - 1), typical, fps)
        frames, holds, thumbs = frames[a:m], holds[a:m], thumbs[a:m]
        skipped, trimmed = a, n - m
        seam = _distance(thumbs[-1], thumbs[0])
        if typical > 1e-9 and seam > CROSSFADE_WHEN * typical:
            frames, holds, thumbs, crossfade = _crossfade(frames, holds, thumbs, seam, fps)
    else:
        frames, holds, thumbs = frames[:wanted], holds[:wanted], thumbs[:wanted]
        if mode == "bounce" and len(frames) > 2:
            frames = frames + frames[-2:0:-1]
            holds = holds + holds[-2:0:-1]
            thumbs = thumbs + thumbs[-2:0:-1]
    typical, best = _steps(thumbs)
    report = LoopReport(mode=mode, seam=_distance(thumbs[-1], thumbs[0]), typical_step=typical,
                        best_step=best, seam_as_cut=as_cut, skipped_frames=skipped,
                        trimmed_frames=trimmed,
                        crossfade_frames=crossfade)
    return frames, holds, report


def _best_loop(thumbs, holds, least: int, wanted: int, max_skip: int, typical: float,
               fps: float) -> tuple[int, int]:
    """Which frames ``[a, m)`` to keep: the jump from the last back to the first is small, the
    frame after the last one (read beyond when there is one) is close to the first, and the
    length changes little."""
    n = len(thumbs)
    ticks = np.cumsum([0, *holds])  # ticks before frame m
    shortest = ticks[least]
    best, best_cost = (0, wanted), np.inf
    for a in range(max_skip + 1):
        for m in range(a + 1, n + 1):
            if ticks[m] - ticks[a] < min(shortest, ticks[n] - ticks[a]) or m < least:
                continue
            seam = _distance(thumbs[m - 1], thumbs[a])
            # Continuation error: how far the first frame is from what would follow the last.
            follow = _distance(thumbs[m], thumbs[a]) if m < n else seam + typical
            change = abs((ticks[m] - ticks[a]) - ticks[wanted]) / fps
            cost = seam + FOLLOW_WEIGHT * follow + LENGTH_COST * typical * change
            if cost < best_cost - 1e-9:
                best, best_cost = (a, m), cost
    return best


def _crossfade(frames, holds, thumbs, seam: float, fps: float):
    """Blend the last c frames towards the first c, then drop those first c: the loop then runs
    from frame c, whose predecessor the blend ends on. Kept only if the seam shrinks enough."""
    n = len(frames)
    c = min(round(CROSSFADE_SECONDS * fps), n // 4)
    if c < 1:
        return frames, holds, thumbs, 0
    out, new_thumbs = list(frames[c:]), list(thumbs[c:])  # only the blended ones change
    for j in range(c):
        alpha = (j + 1) / (c + 1)
        tail = frames[n - c + j].astype(np.float32)
        mixed = (1 - alpha) * tail + alpha * frames[j].astype(np.float32)
        out[n - 2 * c + j] = np.clip(mixed.round(), 0, 255).astype(np.uint8)
        new_thumbs[n - 2 * c + j] = thumbnail(out[n - 2 * c + j])
    if _distance(new_thumbs[-1], new_thumbs[0]) > CROSSFADE_GAIN * seam:
        return frames, holds, thumbs, 0
    return out, list(holds[c:]), new_thumbs, c


class LoopShaper:
    """The loop step for an encoder: called with each attempt's ``(frames, holds, fps)`` and
    returning the frames and holds to write; ``report`` holds the last attempt's LoopReport.

    Arguments:
        mode: one of LOOP_MODES.
        start: the first frame's time, seconds.
        end: where the cut ends, seconds (the encoder may have read up to a later ``end_max``).
        end_min: ``auto`` may end anywhere from here, seconds (default: ``end``).
        start_max: ``auto`` may start anywhere up to here, seconds (default: ``start``).
    """

    def __init__(self, mode: str, start: float, end: float, end_min: float | None = None,
                 start_max: float | None = None):
        self.mode = check_loop(mode)
        self.start, self.end = start, end
        self.end_min = min(end, end if end_min is None else end_min)
        self.start_max = max(start, start if start_max is None else start_max)
        self.report: LoopReport | None = None

    def __call__(self, frames, holds, fps: float) -> tuple[list[np.ndarray], list[int]]:
        ticks = np.cumsum([0, *holds])

        def frames_until(t: float) -> int:  # frames that start before t
            return max(1, int(np.searchsorted(ticks[:-1], (t - self.start) * fps - 1e-6)))

        out, out_holds, self.report = shape_loop(
            frames, holds, self.mode, min_frames=frames_until(self.end_min),
            wanted_frames=frames_until(self.end), fps=fps,
            max_skip=frames_until(self.start_max + 1e-6) - 1)
        return out, out_holds
