"""Shot boundaries from small thumbnails, in the shared decode pass.

:class:`ShotDetector` is a :class:`~video2gif.decode.FrameConsumer`. It keeps a ring of the last
48 thumbnails (32×18 colour cells, 1.7 KB each) and records a few numbers per frame: mean luma,
the share of lit cells, the mean absolute difference to the thumbnails 1, 2, 3, 4, 6 … 48 frames
back, and how far the frame half-way back is from the average of the two ends ("blend
residual"). No frame is kept. When the pass finishes it finds, in this order:

- **fades through black**: runs of black frames, widened over the luma ramps on either side (a
  fade-in at the very start and a fade-out at the very end belong to no shot, so they make none);
- **hard cuts**: a one-frame difference several times larger than its neighbours' (as
  PySceneDetect's AdaptiveDetector does) that persists: a flash of one to three frames, after
  which the old picture is back, is no cut;
- **dissolves** (and dips that stop short of black): a window across which the picture changes a
  lot compared with same-length windows before and after, along a straight path (the per-frame
  changes add up to the total change) and through a blend (the middle frame is the average of
  the ends, which motion is not);

then merges shots shorter than a minimum length. Frames of a gradual transition belong to no
shot: a shot ends where the transition starts and the next begins after it.

Known limits: a dissolve between two fast-moving shots, or a cut into or out of motion as large
as the cut itself, looks like the motion around it and is missed; a fade through white is
reported as a dissolve.

Example:
    >>> from video2gif.shots import detect_shots
    >>> result = detect_shots("clip.mp4")  # doctest: +SKIP
    >>> [(s.start, s.end, s.transition_in) for s in result.shots]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ._io import json_seconds
from .decode import FrameConsumer, FrameRequest, VideoInfo, decode_pass
from .errors import UsageError

THUMB_WIDTH, THUMB_HEIGHT = 64, 36  # pixels asked of FFmpeg; 2×2 blocks make the 32×18 grid
# Every frame is scaled for the thumbnails, so the scaler's cost is paid 30 times a second of
# video: the fast bilinear filter is 7× cheaper than the area filter at 720p and the thumbnails
# only feed differences and histograms (the shot benchmark holds its accuracy with it).
# The detector needs no deblocking (exact=False): a pass for shots alone skips the loop filter,
# and the shot benchmark finds the same boundaries on every clip either way.
THUMB_REQUEST = FrameRequest(width=THUMB_WIDTH, height=THUMB_HEIGHT, interpolation="FAST_BILINEAR",
                             exact=False)
# Frames between compared thumbnails. 1 finds cuts, 2-4 also reject flashes, the longer ones
# span dissolves; above FPS_PER_STRIDE frames per second the gaps from 6 up are stretched so that
# they cover the same time.
GAPS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48)
FPS_PER_STRIDE = 36.0  # frames per second covered by one stride of the long gaps
FLASH_FRAMES = 3  # a change undone within this many frames is a flash, not a cut

CUT_RATIO = 3.0  # a cut's frame difference is this many times its neighbours' average
CUT_MIN_DIFF = 10.0  # mean absolute difference (0-255) below which nothing is a cut
NEIGHBOUR_FRAMES = 2  # frames each side that make the adaptive average
FLASH_KEEP = 0.5  # after a cut, frames must stay at least this share of the jump away
DIFF_FLOOR = 1.0  # neighbours quieter than this (0-255) count as this: compression noise

GRADUAL_MIN_DIFF = 25.0  # a dissolve changes the picture by at least this much (0-255)
GRADUAL_RATIO = 2.0  # … this many times the change over same-length windows around it
GRADUAL_STRAIGHTNESS = 0.5  # total change / sum of per-frame changes; motion wanders
BLEND_MAX = 0.25  # middle frame's distance from the ends' average, relative to the change
EDGE_SHARE = 0.3  # a frame changing less than this share of a dissolve's typical step is shot

BLACK_LUMA = 12.0  # mean luma (0-255) under which a frame may be black …
BLACK_BRIGHT_SHARE = 0.01  # … when fewer cells than this share are brighter than BRIGHT_LUMA
BRIGHT_LUMA = 40.0  # luma (0-255) of a cell that is visibly lit
FADE_LEVEL = 0.88  # a fade ends where luma reaches this share of the shot's level
FADE_DIP = 0.5  # a gradual transition whose luma dips under this share of its ends is a fade
FADE_STRENGTH = 255.0  # fades through black outrank any cut when short shots are merged
MAX_FADE_SECONDS = 5.0  # longest fade ramp followed away from the black frames
FADE_STALL_SECONDS = 0.125  # a ramp that stops brightening for this long has ended
MIN_SHOT_SECONDS = 0.6  # shorter shots are merged into a neighbour

KINDS = ("start", "end", "cut", "dissolve", "fade")  # values of transition_in/transition_out
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Rec. 601 weights
_CHUNK = 4096  # rows of per-frame numbers allocated at a time


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
            "start": json_seconds(self.start),
            "end": json_seconds(self.end),
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "transition_in": self.transition_in,
            "transition_out": self.transition_out,
        }


ShotList = list[Shot]


@dataclass(frozen=True)
class Transition:
    """A boundary between shots: frames ``[start_frame, end_frame)`` belong to no shot.

    A cut has ``start_frame == end_frame`` (the first frame of the new shot). A fade at the very
    start or end of the video borders only one shot.
    """

    kind: str  # "cut", "dissolve" or "fade"
    start: float  # seconds
    end: float  # seconds
    start_frame: int
    end_frame: int
    strength: float = 0.0  # how clear it was: the change it makes (0-255), beyond its surroundings

    def to_dict(self) -> dict:
        return {"kind": self.kind, "start": json_seconds(self.start),
                "end": json_seconds(self.end), "start_frame": self.start_frame,
                "end_frame": self.end_frame}


@dataclass(frozen=True)
class ShotOptions:
    """Tuning of the detector; defaults work for ordinary edited video."""

    cut_ratio: float = CUT_RATIO  # adaptive threshold for hard cuts
    cut_min_diff: float = CUT_MIN_DIFF  # absolute floor for hard cuts (0-255 scale)
    min_shot_seconds: float = MIN_SHOT_SECONDS  # shorter shots are merged
    gradual: bool = True  # look for dissolves (and fades that stop short of black)
    fades: bool = True  # look for fades through black
    gradual_min_diff: float = GRADUAL_MIN_DIFF  # absolute floor for dissolves (0-255 scale)

    def validate(self) -> ShotOptions:
        """Return self, or raise UsageError naming the first bad field."""
        if not self.cut_ratio > 1.0:
            raise UsageError("cut_ratio", f"must be above 1 (got {self.cut_ratio})")
        if not self.cut_min_diff >= 0.0:
            raise UsageError("cut_min_diff", f"must be 0 or more (got {self.cut_min_diff})")
        if not self.gradual_min_diff >= 0.0:
            raise UsageError(
                "gradual_min_diff", f"must be 0 or more (got {self.gradual_min_diff})"
            )
        if not (self.min_shot_seconds >= 0.0 and math.isfinite(self.min_shot_seconds)):
            raise UsageError(
                "min_shot_seconds", f"must be 0 or more seconds (got {self.min_shot_seconds})"
            )
        return self


class ShotDetector(FrameConsumer):
    """Finds cuts, dissolves and fades from 32×18 thumbnails, keeping a few numbers per frame.

    After the decode pass, :attr:`shots` holds the shots, :attr:`transitions` the boundaries
    between them and :attr:`times` every frame's time.
    """

    def __init__(self, options: ShotOptions | None = None) -> None:
        super().__init__(THUMB_REQUEST)
        self.options = (options or ShotOptions()).validate()
        self._setup(1)
        self.shots: ShotList = []
        self.transitions: list[Transition] = []
        self.times: np.ndarray = np.zeros(0)
        self.frame_diffs: np.ndarray = np.zeros(0, dtype=np.float32)

    def _setup(self, stride: int) -> None:
        self.gaps = np.array(
            [g if g <= 4 else g * stride for g in GAPS], dtype=np.int64
        )  # frames
        self._ring_size = int(self.gaps[-1])
        self._ring: np.ndarray | None = None
        self._count = 0
        self._chunks: list[np.ndarray] = []  # per-frame numbers, _CHUNK rows at a time
        self._time_chunks: list[np.ndarray] = []  # frame times, float64 for long videos
        self._row = _CHUNK
        self._width = 2 + 2 * len(self.gaps) - 1  # luma, bright, differences, blend residuals

    def start(self, info: VideoInfo) -> None:
        self._setup(max(1, round(float(info.fps) / FPS_PER_STRIDE)))

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        grid = _grid(image)  # (cells·3,) sums of 2×2 pixels, 0-1020
        if self._ring is None or self._ring.shape[1] != grid.size:
            self._ring = np.repeat(grid[None], self._ring_size, axis=0)
        n = self._count
        gaps = self.gaps
        size = self._ring_size
        old = self._ring[(n - gaps) % size]
        # int32 sums: numpy's default int64 accumulator is a third slower here
        diffs = np.abs(old - grid).sum(axis=1, dtype=np.int32) * (0.25 / grid.size)
        mid = self._ring[(n - gaps[1:] // 2) % size]
        blend = np.abs(2 * mid - old[1:] - grid).sum(axis=1, dtype=np.int32) * (0.125 / grid.size)
        if n < gaps[-1]:  # no thumbnail that far back yet
            diffs[gaps > n] = np.nan
            blend[gaps[1:] > n] = np.nan
        self._ring[n % size] = grid
        cells = grid.reshape(-1, 3)
        mean_luma = float(cells.sum(axis=0, dtype=np.int32) @ _LUMA) * (0.25 / len(cells))
        if self._row == _CHUNK:
            self._chunks.append(np.empty((_CHUNK, self._width), dtype=np.float32))
            self._time_chunks.append(np.empty(_CHUNK, dtype=np.float64))
            self._row = 0
        self._time_chunks[-1][self._row] = time
        row = self._chunks[-1][self._row]
        row[0] = mean_luma
        # Lit cells only matter for telling black frames from dark ones: skip the work otherwise.
        if mean_luma < BLACK_LUMA:
            row[1] = np.count_nonzero(cells @ _LUMA > 4 * BRIGHT_LUMA) / len(cells)
        else:
            row[1] = 1.0
        row[2 : 2 + len(gaps)] = diffs
        row[2 + len(gaps) :] = blend
        self._row += 1
        self._count += 1

    def finish(self, info: VideoInfo) -> None:
        n = self._count
        if self._chunks:
            table = np.concatenate(self._chunks)[:n]
            self.times = np.concatenate(self._time_chunks)[:n]
        else:
            table = np.zeros((0, self._width), dtype=np.float32)
            self.times = np.zeros(0)
        self._chunks, self._time_chunks = [], []
        self._ring = None
        k = len(self.gaps)
        signals = _Signals(
            luma=table[:, 0],
            bright=table[:, 1],
            diffs=table[:, 2 : 2 + k],
            blend=table[:, 2 + k :],
            gaps=self.gaps,
        )
        self.frame_diffs = np.nan_to_num(signals.diffs[:, 0]) if n else np.zeros(0, np.float32)
        frame_seconds = _frame_seconds(self.times, info)
        transitions = _find_transitions(signals, frame_seconds, self.options)
        transitions = _merge_short_shots(
            transitions, self.times, info.duration, signals.luma, self.options.min_shot_seconds
        )
        self.transitions = [
            Transition(
                kind=kind,
                start=_time_at(self.times, s, info.duration),
                end=_time_at(self.times, e, info.duration),
                start_frame=s,
                end_frame=e,
                strength=strength,
            )
            for kind, s, e, strength in transitions
        ]
        self.shots = _shots_between(self.transitions, self.times, info.duration)
        if not self.shots and n:  # all transition (black, or fading all along): one shot of it
            self.transitions = []
            self.shots = [Shot(0.0, float(info.duration), 0, n)]


@dataclass(frozen=True)
class _Signals:
    """The per-frame numbers the detector kept, as arrays over frames."""

    luma: np.ndarray  # mean luma, 0-255
    bright: np.ndarray  # share of cells brighter than BRIGHT_LUMA
    diffs: np.ndarray  # (frames, gaps) mean absolute difference to the frame `gap` back
    blend: np.ndarray  # (frames, gaps[1:]) blend residual of the window ending at the frame
    gaps: np.ndarray  # frames


# A transition while deciding: (kind, first frame in no shot, first frame of the next shot,
# strength).
_Found = tuple[str, int, int, float]


def _grid(image: np.ndarray) -> np.ndarray:
    """Sum 2×2 blocks of an H×W×3 uint8 image into a flat int16 vector (cheap on 64×36)."""
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    a = image[:h, :w].reshape(h // 2, 2, w // 2, 6).astype(np.int16)
    s = a[:, 0] + a[:, 1]
    return (s[..., :3] + s[..., 3:]).ravel()


def _frame_seconds(times: np.ndarray, info: VideoInfo) -> float:
    if len(times) > 1:
        return max(float(np.median(np.diff(times))), 1e-3)
    return 1.0 / float(info.fps or 25)


def _time_at(times: np.ndarray, frame: int, duration: float) -> float:
    return float(times[frame]) if frame < len(times) else float(duration)


def _find_transitions(sig: _Signals, frame_seconds: float, options: ShotOptions) -> list[_Found]:
    """Fades, cuts and dissolves, in time order, not overlapping."""
    n = len(sig.luma)
    if n < 2:
        return []
    found: list[_Found] = []
    busy = np.zeros(n + 1, dtype=bool)  # frames already explained by a transition
    if options.fades:
        max_ramp = max(4, int(round(MAX_FADE_SECONDS / frame_seconds)))
        stall = max(3, int(round(FADE_STALL_SECONDS / frame_seconds)))
        for s, e in _black_fades(sig.luma, sig.bright, max_ramp, stall):
            found.append(("fade", s, e, FADE_STRENGTH))
            busy[s : e + 1] = True  # a cut into or out of the black is part of the fade
    d1 = np.nan_to_num(sig.diffs[:, 0])
    d1[0] = 0.0
    for c, strength in _cuts(sig.diffs, d1, busy, options):
        found.append(("cut", c, c, strength))
        busy[c] = True
    if options.gradual:
        found.extend(_dissolves(sig, d1, busy, options))
    found.sort(key=lambda t: (t[1], t[2]))
    return found


def _black_fades(
    luma: np.ndarray, bright: np.ndarray, max_ramp: int, stall: int
) -> list[tuple[int, int]]:
    """Runs of black frames widened over the fade-out before and the fade-in after them.

    Returns (first frame, frame after the last) spans, in order, not overlapping. ``max_ramp``
    bounds a ramp's length and ``stall`` is how many frames a ramp may go without brightening
    before it is over (both in frames).
    """
    n = len(luma)
    black = np.concatenate([[False], (luma < BLACK_LUMA) & (bright < BLACK_BRIGHT_SHARE), [False]])
    edges = np.flatnonzero(black[1:] != black[:-1])  # run starts and ends, alternating
    out: list[tuple[int, int]] = []
    for i, j in zip(edges[0::2].tolist(), edges[1::2].tolist()):
        s = _ramp(luma, i, -1, max_ramp, stall)
        e = _ramp(luma, j - 1, 1, max_ramp, stall) + 1
        # One black frame inside a shot, with no ramp either side, is a dropout, not a fade.
        if j - i == 1 and s == i and e == j and 0 < i and j < n:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def _ramp(luma: np.ndarray, black: int, step: int, max_ramp: int, stall: int) -> int:
    """Walk from the black frame ``black`` in direction ``step`` (-1: back over the fade-out,
    +1: on over the fade-in) while the picture brightens; return the last frame of the ramp.

    The ramp ends where luma reaches FADE_LEVEL of the level it climbs to, so the frames that
    are only slightly dimmed stay with the shot.
    """
    n = len(luma)
    v = black
    while 0 <= v + step < n and abs(v - black) < max_ramp:
        nxt = v + step
        if luma[nxt] < luma[v] - (1.5 + 0.03 * luma[v]):  # darker again: another shot
            break
        ahead = v + stall * step
        if v != black and 0 <= ahead < n and luma[ahead] - luma[v] < 0.5 + 0.01 * luma[v]:
            break  # flattened out: the shot's own level
        v = nxt
    if v == black:
        return black
    lo, hi = sorted((black, v + stall * step))
    level = FADE_LEVEL * float(luma[max(lo, 0) : min(hi, n - 1) + 1].max())
    end = black
    while end != v and luma[end + step] < level:
        end += step
    return end


def _neighbour_mean(values: np.ndarray, frames: np.ndarray, offsets: list[int], first: int):
    """Mean of ``values`` at ``frames + offset`` that exist (index ≥ first), else 0."""
    n = len(values)
    total = np.zeros(len(frames))
    count = np.zeros(len(frames))
    for off in offsets:
        idx = frames + off
        ok = (idx >= first) & (idx < n)
        total[ok] += values[idx[ok]]
        count[ok] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def _cuts(diffs: np.ndarray, d1: np.ndarray, busy: np.ndarray, options: ShotOptions):
    """Frames where a large one-frame change stands out from its neighbours and persists."""
    n = len(d1)
    frames = np.arange(1, n)
    offsets = [o for k in range(1, NEIGHBOUR_FRAMES + 1) for o in (-k, k)]
    base = _neighbour_mean(d1, frames, offsets, 1)
    jump = d1[frames]
    hit = (jump >= options.cut_min_diff) & (
        jump >= options.cut_ratio * np.maximum(base, DIFF_FLOOR)
    )
    out = []
    for i in np.nonzero(hit)[0]:
        c = int(frames[i])
        if busy[c] or _is_flash(diffs, c, float(jump[i])):
            continue
        out.append((c, float(jump[i] - base[i])))
    return out


def _is_flash(diffs: np.ndarray, c: int, jump: float) -> bool:
    """The picture before frame ``c`` comes back within FLASH_FRAMES frames (either side)."""
    n = len(diffs)
    for q in range(1, FLASH_FRAMES + 1):
        # frame c+q against frame c-1 (gap q+1): the flash ended and the old picture is back
        if c + q < n and diffs[c + q, q] < FLASH_KEEP * jump:
            return True
        # frame c against frame c-1-q: c ends a flash that began after c-1-q
        if c - 1 - q >= 0 and diffs[c, q] < FLASH_KEEP * jump:
            return True
    return False


def _dissolves(sig: _Signals, d1: np.ndarray, busy: np.ndarray, options: ShotOptions):
    """Gradual transitions: windows with a large, straight, blended change; best first."""
    n = len(d1)
    cum = np.concatenate([[0.0], np.cumsum(d1)])
    candidates = []
    for g, k in enumerate(sig.gaps):
        k = int(k)
        if k < 2 or k >= n:
            continue
        ends = np.arange(k, n)
        change = np.nan_to_num(sig.diffs[ends, g])
        path = cum[ends + 1] - cum[ends - k + 1]
        straight = change / np.maximum(path, 1e-6)
        blend = np.nan_to_num(sig.blend[ends, g - 1], nan=np.inf) / np.maximum(change, 1e-6)
        around = _neighbour_mean(np.nan_to_num(sig.diffs[:, g]), ends, [-k, k], k)
        ok = (
            (change >= options.gradual_min_diff)
            & (change >= GRADUAL_RATIO * np.maximum(around, DIFF_FLOOR))
            & (straight >= GRADUAL_STRAIGHTNESS)
            & (blend <= BLEND_MAX)
        )
        for i in np.nonzero(ok)[0]:
            e = int(ends[i])
            if busy[e - k + 1 : e + 1].any():
                continue
            score = float((change[i] - around[i]) * (1.0 - blend[i]))
            candidates.append((score, -k, e - k, e))
    candidates.sort(reverse=True)
    taken = busy.copy()
    out: list[_Found] = []
    for score, _, a, e in candidates:
        if taken[a + 1 : e].any():
            continue
        s, stop = _tighten(d1, a, e)
        if taken[s:stop].any():
            continue
        taken[s:stop] = True
        out.append((_gradual_kind(sig.luma, s, stop), s, stop, score))
    return out


def _tighten(d1: np.ndarray, a: int, e: int) -> tuple[int, int]:
    """The transition inside window (a, e]: the frames whose change stands out.

    A frame is part of it when its one-frame change beyond the surroundings' level is at least
    EDGE_SHARE of the typical (upper-half mean) such change in the window; the encoder's settling
    after a transition and nearly finished eases stay with the shots. Returns the first frame in
    no shot and the first frame of the next shot.
    """
    n = len(d1)
    outside = np.concatenate([d1[max(1, a - 3) : a + 1], d1[e + 1 : e + 4]])
    level = float(np.median(outside)) if len(outside) else 0.0
    excess = np.maximum(d1[a + 1 : e + 1] - level, 0.0)
    typical = float(np.sort(excess)[len(excess) // 2 :].mean())
    active = np.nonzero(excess >= EDGE_SHARE * typical)[0]
    if typical <= 0 or not len(active):
        return a + 1, e
    s = a + 1 + int(active[0])
    stop = a + 1 + int(active[-1])
    return s, min(max(stop, s + 1), n)


def _gradual_kind(luma: np.ndarray, s: int, stop: int) -> str:
    n = len(luma)
    ends = min(luma[max(0, s - 1)], luma[min(n - 1, stop)])
    return "fade" if luma[s:stop].min() < FADE_DIP * ends else "dissolve"


def _merge_short_shots(
    found: list[_Found], times: np.ndarray, duration: float, luma: np.ndarray, min_seconds: float
) -> list[_Found]:
    """Remove shots shorter than ``min_seconds``, shortest first.

    Next to a cut, the weaker of the short shot's two boundaries goes (the shot joins its
    neighbour). Between gradual transitions (or one and the video's edge) the short shot becomes
    part of them, as do transitions that touch (a dip to dark found as two halves).
    """
    trans = list(found)
    n = len(times)
    while True:
        shortest, where = math.inf, -1
        for i in range(len(trans) + 1):
            s = trans[i - 1][2] if i > 0 else 0
            e = trans[i][1] if i < len(trans) else n
            if e < s or (e == s and not 0 < i < len(trans)):
                continue
            length = 0.0 if e == s else _time_at(times, e, duration) - float(times[s])
            if (length < min_seconds or e == s) and length < shortest:
                shortest, where = length, i
        if where < 0:
            return trans
        before = trans[where - 1] if where > 0 else None
        after = trans[where] if where < len(trans) else None
        if before is None and after is None:
            return trans
        touching = before is not None and after is not None and before[2] >= after[1]
        if not touching and any(t[0] == "cut" for t in (before, after) if t):
            # The weaker boundary goes: the short shot joins the shot on its other side.
            sides = [(t[3], j) for t, j in ((before, where - 1), (after, where)) if t]
            del trans[min(sides)[1]]
            continue
        start = before[1] if before else 0
        stop = after[2] if after else n
        kinds = {t[0] for t in (before, after) if t}
        kind = "fade" if "fade" in kinds else _gradual_kind(luma, start, stop)
        strength = max(t[3] for t in (before, after) if t)
        lo = where - 1 if before else where
        hi = where + 1 if after else where
        trans[lo:hi] = [(kind, start, stop, strength)]


def _shots_between(transitions: list[Transition], times: np.ndarray, duration: float) -> ShotList:
    """The shots left between transitions (none when transitions cover every frame)."""
    n = len(times)
    if n == 0:
        return []
    shots = []
    for i in range(len(transitions) + 1):
        before = transitions[i - 1] if i > 0 else None
        after = transitions[i] if i < len(transitions) else None
        s = before.end_frame if before else 0
        e = after.start_frame if after else n
        if e <= s:
            continue
        shots.append(
            Shot(
                start=float(times[s]),
                end=_time_at(times, e, duration),
                start_frame=s,
                end_frame=e,
                transition_in=before.kind if before else "start",
                transition_out=after.kind if after else "end",
            )
        )
    return shots


@dataclass
class ShotResult:
    """Shots of a video with the info of the pass that found them."""

    info: VideoInfo
    shots: ShotList = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)


def detect_shots(path: str | os.PathLike, options: ShotOptions | None = None) -> ShotResult:
    """Decode ``path`` once and return its shots and the transitions between them.

    Arguments:
        path: the video.
        options: detector tuning (default :class:`ShotOptions`).

    Returns:
        ShotResult with the counted VideoInfo, the shots in time order (the last one ends at
        ``info.duration`` unless the video ends in a fade) and the transitions.

    Raises:
        InputError, DecodeError: the file is not a decodable video.
        UsageError: an option is out of range.

    Example:
        >>> result = detect_shots("clip.mp4")  # doctest: +SKIP
        >>> [(t.kind, round(t.start, 2)) for t in result.transitions]  # doctest: +SKIP
        [('cut', 4.17), ('dissolve', 9.5)]
    """
    detector = ShotDetector(options)
    info = decode_pass(path, [detector])
    return ShotResult(info=info, shots=detector.shots, transitions=detector.transitions)
