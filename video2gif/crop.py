"""Crops that follow the subject: square, portrait and vertical GIFs cut from wider video.

:func:`plan_crop` re-reads a segment as small grey frames (every frame, 320 px wide) and plans
one crop box per frame, of the asked aspect and the largest size that fits the frame:

1. **pieces**: the segment is split at shot cuts (the ones the caller knows, plus any hard cut
   found in these frames), and each piece is planned on its own, so the path restarts at a cut
   instead of drifting across it;
2. **subject**: in a piece where OpenCV's face detector (the ``faces`` extra) sees a face in at
   least :data:`FACE_MIN_SHARE` of the frames it searched, the target is the faces' box;
   otherwise it is the salient motion: frame differences, less the flicker that never leaves
   its place (leaves, water, screens), tracked by dynamic programming over windows so that the
   crop keeps to one subject (moving away costs, so a bystander's brief motion does not pull it
   over), and centred on the motion's centroid there; a piece with neither keeps the centre;
3. **path**: a running median removes outliers, then either the crop stays still (the target
   moves less than :data:`STATIC_SHARE` of the crop: a still crop looks best in a GIF) or it
   follows a Gaussian-smoothed path that never trails the subject by more than
   :data:`LAG_SHARE` of the crop; the box is clamped so it never leaves the frame.

:class:`CropPath` holds the result in source pixels; :meth:`CropPath.apply` crops the frames the
encoder re-reads, whatever size they were decoded at. :class:`CropPlanner` plans from the
encoder's own re-read instead (``make --aspect``: one decode per pick).

Example:
    >>> path = plan_crop("clip.mp4", 10.0, 13.0, "9:16")  # doctest: +SKIP
    >>> path.width, path.height, path.box_at(11.0)  # doctest: +SKIP
    (404, 720, (612, 0, 404, 720))
"""

from __future__ import annotations

import math
import os
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

import numpy as np

from ._io import json_seconds
from ._reread import RANGE_INTERPOLATION
from .decode import FrameConsumer, FrameRequest, VideoInfo, probe, read_range
from .errors import InputError, UsageError
from .features.faces import FACE_WIDTH, FaceCollector, face_detection_unavailable
from .shots import CUT_MIN_DIFF, CUT_RATIO, DIFF_FLOOR, NEIGHBOUR_FRAMES

SOURCE = "source"  # the aspect that means no crop
ASPECTS = (SOURCE, "1:1", "4:5", "9:16")  # offered by name; any other W:H works too
MAX_RATIO = 10  # the long side of an aspect may be at most this many times the short side
ANALYSIS_WIDTH = FACE_WIDTH  # pixels: the face detector's minimum face size assumes this width
# Every frame of the range, grey, as read_range scales (small videos are scaled up: the face and
# motion sizes below are set for this width).
ANALYSIS_REQUEST = FrameRequest(width=ANALYSIS_WIDTH, pixel_format="gray",
                                interpolation=RANGE_INTERPOLATION)
FACE_SAMPLE_FPS = 5.0  # frames per second searched for faces (about 12 ms each at 320 px)
FACE_MIN_SHARE = 0.25  # a piece follows faces when this share of its searched frames show one
FACE_DROP = 0.25  # aim this many face heights below the face's centre: keep some of the body
FACE_HOLD_SECONDS = 0.4  # a face holds the crop this long (two searches) after it was last
# seen; further away the crop follows the motion (the person turned away, or walked off)
MOTION_GAP_SECONDS = 0.1  # motion energy compares frames this far apart (3 at 30 fps)
MOTION_CELL = 4  # analysis pixels per side of a motion-energy cell (80×45 cells at 320 px)
NOISE_LUMA = 6.0  # a cell's mean change (0-255) above the frame's median below which is noise
MIN_MOTION_CELLS = 3  # fewer moving cells than this is no motion (a flicker, a compression blip)
PERSISTENT_WEIGHT = 2.0  # times a cell's median energy over the piece taken away as flicker
MOVE_SECONDS = 0.6  # moving the tracked window across the whole frame costs as much as this
# long with no motion in it: a bystander a quarter of the frame away must hold most of the
# motion for about 0.3 s before the crop goes over and back
TRACK_SHARE = 0.5  # the tracked window is this share of the crop on each side: small enough
# that a crop-sized window around it leaves out a bystander a crop width away
CENTRE_SIGMA = 0.6  # centre preference: Gaussian width in frame sizes (0.7× weight at an edge)
MEDIAN_SECONDS = 0.3  # running-median window on the target path
SMOOTH_SECONDS = 0.25  # Gaussian sigma of the followed path
LAG_SHARE = 0.15  # the path may trail the target by this share of the crop, no more
CORNER_SECONDS = 0.08  # Gaussian sigma that softens where the path was pulled along
STATIC_SHARE = 0.25  # a target moving less than this share of the crop gets a still crop
TIME_EPS = 1e-6  # seconds; tolerance when matching frame times


@dataclass(frozen=True)
class CropPath:
    """A crop box per frame of a segment, in source (display) pixels.

    The box is ``width``×``height`` everywhere; its top-left corner is ``boxes[i]`` from
    ``times[i]`` until the next time. ``pieces`` says where the path restarted (the segment's
    start and each cut inside it) and what it followed there: "faces", "motion" or "centre".
    """

    aspect: str  # as asked, e.g. "9:16"
    source_width: int  # pixels
    source_height: int  # pixels
    width: int  # crop width, pixels, even
    height: int  # crop height, pixels, even
    times: tuple[float, ...]  # seconds from the video's first frame, one per analysed frame
    boxes: tuple[tuple[int, int], ...]  # (x, y) top-left corner at each time
    pieces: tuple[tuple[float, str], ...]  # (start time, subject) of each piece between cuts

    def box_at(self, time: float) -> tuple[int, int, int, int]:
        """``(x, y, width, height)`` of the box shown at ``time`` seconds.

        Example:
            >>> p = CropPath("1:1", 160, 90, 90, 90, (0.0, 0.5), ((0, 0), (70, 0)),
            ...              ((0.0, "motion"),))
            >>> p.box_at(0.4), p.box_at(0.7)
            ((0, 0, 90, 90), (70, 0, 90, 90))
        """
        i = max(0, bisect_right(self.times, time + TIME_EPS) - 1)
        x, y = self.boxes[i]
        return x, y, self.width, self.height

    def decode_width(self, out_width: int) -> int:
        """Width to decode the source at so the crop is at least ``out_width`` pixels wide."""
        return _decode_width(self.source_width, self.width, out_width)

    def apply(self, times: Sequence[float], images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Crop frames shown at ``times`` (decoded at any size of the source's aspect).

        The crop keeps the same size in every frame (rounded to even pixels for yuv420p).
        """
        if not images:
            return []
        h, w = images[0].shape[:2]
        sx, sy = w / self.source_width, h / self.source_height
        cw = min(w, max(2, _even(self.width * sx)))
        ch = min(h, max(2, _even(self.height * sy)))
        out = []
        for t, image in zip(times, images):
            x, y, _, _ = self.box_at(t)
            x = min(max(0, round(x * sx)), w - cw)
            y = min(max(0, round(y * sy)), h - ch)
            out.append(np.ascontiguousarray(image[y : y + ch, x : x + cw]))  # frees the rest
        return out

    def to_dict(self) -> dict:
        """The ``crop`` object of a pick in segments.json.

        ``boxes`` lists ``[time, x, y]`` only where the box moves: each holds until the next.
        """
        boxes = []
        for t, (x, y) in zip(self.times, self.boxes):
            if not boxes or (boxes[-1][1], boxes[-1][2]) != (x, y):
                boxes.append([json_seconds(t), x, y])
        return {
            "aspect": self.aspect,
            "width": self.width,
            "height": self.height,
            "pieces": [{"start": json_seconds(t), "follows": s} for t, s in self.pieces],
            "boxes": boxes,
        }


def _decode_width(source_width: int, crop_width: int, out_width: int) -> int:
    return min(source_width, math.ceil(out_width * source_width / crop_width) + 2)


class CropPlanner(FrameConsumer):
    """The crop of one segment, planned from every frame of it, grey and
    :data:`ANALYSIS_WIDTH` wide, that a read pushes (``read_range(..., every=planner)``).

    Given as ``crop`` to :func:`~video2gif.encode.encode_segment`, it takes those frames from
    the same decode that gives the GIF its frames and plans before cutting them, so a pick is
    decoded once (``make --aspect``); :func:`plan_crop` reads for it alone. The plan is made
    once, on the first :meth:`plan` or :meth:`apply`; later reads of the segment (a lower rate
    of the byte-budget ladder) reuse it. ``path`` is the plan once made.

    Arguments:
        aspect: "W:H" (not "source").
        info: the video's :class:`VideoInfo`.
        cuts, faces: as :func:`plan_crop`.
    """

    def __init__(self, aspect: str, info: VideoInfo, cuts: Sequence[float] = (),
                 faces: bool = True) -> None:
        super().__init__(ANALYSIS_REQUEST)
        self.aspect, self.info, self.cuts, self.faces = aspect, info, tuple(cuts), faces
        self.width, self.height = crop_size(info.width, info.height, aspect)
        self.path: CropPath | None = None
        self._times: list[float] = []
        self._greys: list[np.ndarray] = []

    @property
    def needs_frames(self) -> bool:
        """Whether a read should push the segment's frames (no plan yet)."""
        return self.path is None

    @property
    def frames(self) -> int:
        """Frames pushed by the latest read, not yet planned from."""
        return len(self._times)

    def start(self, info: VideoInfo) -> None:
        self._times, self._greys = [], []  # a read cut short before is not mixed in

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        if self.path is None:
            self._times.append(time)
            self._greys.append(image)

    def decode_width(self, out_width: int) -> int:
        """As :meth:`CropPath.decode_width` (it depends on the crop's size only)."""
        return _decode_width(self.info.width, self.width, out_width)

    def apply(self, times: Sequence[float], images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`CropPath.apply` with the plan."""
        return self.plan().apply(times, images)

    def plan(self) -> CropPath:
        """The plan, made from the frames pushed if not made yet.

        Raises:
            InputError: no frame was pushed.
        """
        if self.path is not None:
            return self.path
        if not self._times:
            raise InputError(self.info.path, "no frames to plan a crop from")
        greys, times = self._greys, np.array(self._times)
        self._times, self._greys = [], []
        info, (cw, ch) = self.info, (self.width, self.height)
        h, w = greys[0].shape
        scale = np.array([info.width / w, info.height / h])  # analysis → source pixels
        box = np.array([cw, ch]) / scale  # the crop in analysis pixels
        finder = _face_finder() if self.faces else None
        bounds = _pieces(times, greys, self.cuts)
        xs = np.zeros(len(times), dtype=np.int64)
        ys = np.zeros(len(times), dtype=np.int64)
        pieces = []
        step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 25
        for a, b in pairwise(bounds):
            targets, subject = _targets(times[a:b], greys[a:b], box, finder, step)
            centres = targets * scale  # source pixels
            for axis, (size, full, out) in enumerate(((cw, info.width, xs),
                                                      (ch, info.height, ys))):
                path_ = _smooth(centres[:, axis], size, step) if full > size else centres[:, axis]
                out[a:b] = np.clip(np.round(path_ - size / 2), 0, full - size)
            pieces.append((float(times[a]), subject))
        self.path = CropPath(
            aspect=self.aspect, source_width=info.width, source_height=info.height, width=cw,
            height=ch, times=tuple(float(t) for t in times),
            boxes=tuple((int(x), int(y)) for x, y in zip(xs, ys)), pieces=tuple(pieces),
        )  # fmt: skip
        return self.path


class Cropper:
    """Plans each pick's crop for :func:`~video2gif.pipeline.make_gifs` and keeps the plans for
    the report (``plans``: pick number → CropPath). Safe to share between encoding threads.

    Arguments:
        aspect: as :func:`plan_crop`.
        cuts: the video's shot starts (seconds); plans restart at those inside their range.
        info: the video's :class:`VideoInfo`, when known (saves probing it for every pick).
    """

    def __init__(self, aspect: str, cuts: Sequence[float] = (),
                 info: VideoInfo | None = None) -> None:
        self.aspect = parse_aspect(aspect)
        self.cuts = tuple(cuts)
        self.info = info
        self._planners: dict[int, CropPlanner] = {}

    def plan(self, pick: int, path: str | os.PathLike, start: float, end: float
             ) -> CropPlanner | None:
        """The crop of pick number ``pick`` over ``[start, end)``, to hand to
        :func:`~video2gif.encode.encode_segment`, which plans it from the frames it reads;
        None for "source"."""
        if self.aspect == SOURCE:
            return None
        planner = CropPlanner(self.aspect, self.info or probe(path), self.cuts)
        self._planners[pick] = planner
        return planner

    @property
    def plans(self) -> dict[int, CropPath]:
        """Pick number → the crop it was encoded with."""
        return {n: p.path for n, p in self._planners.items() if p.path is not None}


def parse_aspect(text: str, flag: str = "--aspect") -> str:
    """Check an aspect: "source", or "W:H" with positive whole numbers; returns it normalised.

    Raises:
        UsageError: naming ``flag``, for anything else ("3:0", "wide", "1:20").

    Example:
        >>> parse_aspect(" 9:16 "), parse_aspect("Source")
        ('9:16', 'source')
    """
    value = str(text).strip().lower()
    if value == SOURCE:
        return SOURCE
    match = re.fullmatch(r"(\d{1,4})\s*[:/x]\s*(\d{1,4})", value)
    choices = ", ".join(ASPECTS)
    if not match:
        raise UsageError(flag, f"{text!r} is not an aspect: use {choices} or another W:H")
    w, h = int(match[1]), int(match[2])
    if w == 0 or h == 0:
        raise UsageError(flag, f"{text!r} has a zero side: use {choices} or another W:H")
    if max(w, h) > MAX_RATIO * min(w, h):
        raise UsageError(flag, f"{text!r} is narrower than 1:{MAX_RATIO}")
    return f"{w}:{h}"


def crop_size(width: int, height: int, aspect: str) -> tuple[int, int]:
    """The largest box of ``aspect`` inside a ``width``×``height`` frame, even-sized.

    Example:
        >>> crop_size(1280, 720, "9:16"), crop_size(1280, 720, "1:1"), crop_size(30, 16, "4:5")
        ((404, 720), (720, 720), (12, 16))
    """
    w, h = (int(v) for v in parse_aspect(aspect).split(":"))
    ratio = Fraction(w, h)
    if Fraction(width, height) >= ratio:  # the source is wider: full height
        cw, ch = height * ratio, Fraction(height)
    else:
        cw, ch = Fraction(width), width / ratio
    cw = min(width, max(2, _even(cw)))
    ch = min(height, max(2, _even(ch)))
    return cw, ch


def plan_crop(
    path: str | os.PathLike,
    start: float,
    end: float,
    aspect: str,
    cuts: Sequence[float] = (),
    faces: bool = True,
    info: VideoInfo | None = None,
) -> CropPath | None:
    """Plan a crop of ``aspect`` over ``[start, end)`` seconds of ``path`` that follows the subject.

    Arguments:
        path: the video.
        start, end: seconds from the video's first frame.
        aspect: "source" (no crop: returns None) or "W:H", e.g. "1:1", "4:5", "9:16".
        cuts: times (seconds) of shot cuts already known; hard cuts in the segment are also
            found from its frames. The path restarts at each.
        faces: follow faces when OpenCV can find them (False: motion only).
        info: the video's :class:`VideoInfo` when already known (None: probe it).

    Returns:
        CropPath with one box per frame, or None for "source".

    Raises:
        UsageError: a bad aspect or time range.
        InputError, DecodeError: the video cannot be read or has no frame in the range.

    Example:
        >>> plan = plan_crop("clip.mp4", 4.0, 7.0, "1:1")  # doctest: +SKIP
        >>> plan.to_dict()["pieces"]  # doctest: +SKIP
        [{'start': 4.0, 'follows': 'faces'}]
    """
    aspect = parse_aspect(aspect)
    if aspect == SOURCE:
        return None
    if not end > start >= 0:
        raise UsageError(f"{start}-{end} s", "a segment needs 0 <= start < end")
    planner = CropPlanner(aspect, info or probe(path), cuts, faces)
    for _ in read_range(path, start, end, keep=lambda _t, _next: False, every=planner):
        pass  # every frame goes to the planner; none is kept in colour
    if not planner.frames:
        raise InputError(path, f"no frames between {start:.3f} s and {end:.3f} s")
    return planner.plan()


def _even(value) -> int:
    """Round down to an even whole number."""
    n = int(value)
    return n - n % 2


def _face_finder():
    """A FaceCollector whose ``find`` gives face boxes, or None when OpenCV is missing."""
    if face_detection_unavailable() is not None:
        return None
    return FaceCollector()


def _pieces(times: np.ndarray, greys: list[np.ndarray], cuts: Sequence[float]) -> list[int]:
    """Frame indices where pieces start (the first is 0), plus len(times) at the end.

    Known cuts count; so does a hard cut found here: a one-frame change several times its
    neighbours' (the shot detector's rule and thresholds, on these frames).
    """
    n = len(times)
    starts = {int(np.searchsorted(times, c - TIME_EPS)) for c in cuts}
    if n > 1:
        small = [g[::4, ::4].astype(np.float32) for g in greys]  # every 4th pixel: cheap
        diffs = np.array([0.0] + [float(np.abs(b - a).mean()) for a, b in pairwise(small)])
        for i in range(1, n):
            around = [diffs[j] for j in range(i - NEIGHBOUR_FRAMES, i + NEIGHBOUR_FRAMES + 1)
                      if 1 <= j < n and j != i]
            floor = max(np.mean(around) if around else 0.0, DIFF_FLOOR)
            if diffs[i] >= CUT_MIN_DIFF and diffs[i] > CUT_RATIO * floor:
                starts.add(i)
    return sorted({0, n} | {i for i in starts if 0 < i < n})


def _targets(times, greys, box, finder, step) -> tuple[np.ndarray, str]:
    """(n, 2) subject centres in analysis pixels for one piece, and what was followed.

    In a piece that follows faces, frames more than FACE_HOLD_SECONDS from any face seen (the
    person turned away, or walked off) follow the motion, tracked from where the faces were.
    """
    n = len(greys)
    h, w = greys[0].shape
    centre = np.array([w / 2, h / 2])
    faces = _face_targets(times, greys, box, finder, step) if finder is not None else None
    motion = _motion_targets(greys, box, step, faces)
    if faces is not None:
        seen = times[~np.isnan(faces[:, 0])]
        far = np.abs(times[:, None] - seen[None, :]).min(axis=1) > FACE_HOLD_SECONDS
        use_motion = far & ~np.isnan(motion[:, 0])
        return np.where(use_motion[:, None], motion, _fill(faces, centre)), "faces"
    if np.isnan(motion[:, 0]).all():
        return np.tile(centre, (n, 1)), "centre"
    return _fill(motion, centre), "motion"


def _motion_targets(greys, box, step, anchors=None) -> np.ndarray:
    """(n, 2) centres of the salient motion in analysis pixels (NaN where nothing moves).

    ``anchors`` (n, 2), NaN where unknown, are where the subject is known to be (its faces):
    they weigh as much as the strongest motion of their frame, so the motion followed is the
    subject's.
    """
    n = len(greys)
    out = np.full((n, 2), np.nan)
    # Compare the frames half a gap before and after: the change then centres on frame i
    # (a one-sided difference lags a fast subject by half the gap).
    half = max(1, round(MOTION_GAP_SECONDS / step / 2)) if step > 0 else 1
    pairs = [(i, max(0, i - half), min(n - 1, i + half)) for i in range(n)]
    pairs = [(i, a, b) for i, a, b in pairs if a != b]
    if not pairs:
        return out
    energy = np.stack([_motion_energy(greys[a], greys[b]) for _, a, b in pairs])
    # Motion that never stops in one place (leaves, water, a screen) is not the subject: take
    # away each cell's usual energy, unless nothing would be left of the frame's motion.
    salient = np.maximum(energy - PERSISTENT_WEIGHT * np.median(energy, axis=0), 0.0)
    shape = energy.shape[1:]
    track = _window_cells(shape, box * TRACK_SHARE)
    maps = []
    for (i, _, _), raw, kept in zip(pairs, energy, salient):
        use = kept if np.count_nonzero(kept) >= MIN_MOTION_CELLS else raw
        use = use if np.count_nonzero(use) >= MIN_MOTION_CELLS else None
        if anchors is not None and not np.isnan(anchors[i, 0]):
            spot = _spot(anchors[i], track, shape)
            use = spot if use is None else use + spot * use.max()
        maps.append(use)
    if all(m is None for m in maps):
        return out
    windows = _follow_windows(maps, _centre_prior(shape), track, step)
    # The subject's centre: the motion's centroid in a crop-sized window around the tracked one.
    crop = _window_cells(shape, box)
    for k, ((i, _, _), window) in enumerate(zip(pairs, windows)):
        use = salient[k] if np.count_nonzero(salient[k]) >= MIN_MOTION_CELLS else energy[k]
        if np.count_nonzero(use) >= MIN_MOTION_CELLS:
            r0, c0 = _around(window, track, crop, shape)
            out[i] = _centroid(use[r0 : r0 + crop[0], c0 : c0 + crop[1]], r0, c0)
    return out


def _spot(anchor: np.ndarray, track: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """A map of ones over half a tracked window centred on ``anchor`` (analysis pixels)."""
    out = np.zeros(shape)
    r, c = int(anchor[1] // MOTION_CELL), int(anchor[0] // MOTION_CELL)
    hr, hc = max(1, track[0] // 4), max(1, track[1] // 4)
    out[max(0, r - hr) : r + hr + 1, max(0, c - hc) : c + hc + 1] = 1.0
    return out


def _face_targets(times, greys, box, finder, step) -> np.ndarray | None:
    """Face centres at the searched frames (NaN elsewhere), or None when faces are too rare.

    When not every face fits in the crop, which ones to keep is tracked as motion is (the faces
    are the map), so two faces of about one size do not take turns in the crop.
    """
    n = len(greys)
    every = max(1, round(len(times) / max(1.0, (times[-1] - times[0]) * FACE_SAMPLE_FPS)))
    searched = list(range(0, n, every))
    faces = [finder.find(greys[i]) for i in searched]
    hits = sum(1 for found in faces if len(found))
    if not hits or hits < FACE_MIN_SHARE * len(searched):
        return None
    shape = (greys[0].shape[0] // MOTION_CELL, greys[0].shape[1] // MOTION_CELL)
    track = _window_cells(shape, box * TRACK_SHARE)
    maps = [_face_map(found, shape) if len(found) else None for found in faces]
    windows = _follow_windows(maps, _centre_prior(shape), track, step * every)
    crop = _window_cells(shape, box)
    out = np.full((n, 2), np.nan)
    for i, found, window in zip(searched, faces, windows):
        r0, c0 = _around(window, track, crop, shape)
        centres = (found[:, :2] + found[:, 2:] / 2) / MOTION_CELL
        kept = found[(centres[:, 0] >= c0) & (centres[:, 0] <= c0 + crop[1])
                     & (centres[:, 1] >= r0) & (centres[:, 1] <= r0 + crop[0])]
        if not len(kept):
            continue
        x0, y0 = kept[:, :2].min(axis=0)
        x1, y1 = (kept[:, :2] + kept[:, 2:]).max(axis=0)
        if x1 - x0 > box[0] or y1 - y0 > box[1]:  # they do not all fit: the largest
            x0, y0, fw, fh = kept[np.argmax(kept[:, 2] * kept[:, 3])]
            x1, y1 = x0 + fw, y0 + fh
        out[i] = ((x0 + x1) / 2, (y0 + y1) / 2 + FACE_DROP * kept[:, 3].max())
    return None if np.isnan(out[:, 0]).all() else out


def _face_map(found: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The cells each face box covers, counted once per face."""
    out = np.zeros(shape)
    for x, y, w, h in found // MOTION_CELL:
        out[y : y + h + 1, x : x + w + 1] += 1.0
    return out


def _around(window: tuple[int, int], track: tuple[int, int], crop: tuple[int, int],
            shape: tuple[int, int]) -> tuple[int, int]:
    """Top-left cell of the crop-sized window centred on a tracked window, inside the grid."""
    r = min(max(0, window[0] + (track[0] - crop[0]) // 2), shape[0] - crop[0])
    c = min(max(0, window[1] + (track[1] - crop[1]) // 2), shape[1] - crop[1])
    return r, c


def _centre_prior(shape: tuple[int, int]) -> np.ndarray:
    """Gaussian weights over the motion cells, 1 at the centre."""
    rows, cols = shape
    y = (np.arange(rows) + 0.5) / rows - 0.5
    x = (np.arange(cols) + 0.5) / cols - 0.5
    return np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * CENTRE_SIGMA**2))


def _motion_energy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Change between two grey frames per MOTION_CELL-square cell, above the frame's usual
    change and the noise (0 where nothing moved)."""
    size = MOTION_CELL
    rows, cols = a.shape[0] // size, a.shape[1] // size
    if not rows or not cols:  # a sliver of a frame: no cells to compare
        return np.zeros((1, 1))
    a = a[: rows * size, : cols * size].astype(np.int16)
    b = b[: rows * size, : cols * size]
    cells = np.abs(a - b).reshape(rows, size, cols, size).mean(axis=(1, 3))
    return np.maximum(cells - np.median(cells) - NOISE_LUMA, 0.0)


def _window_cells(shape: tuple[int, int], box: np.ndarray) -> tuple[int, int]:
    """The crop's size in motion cells (rows, columns), within the grid."""
    return (min(shape[0], max(1, round(box[1] / MOTION_CELL))),
            min(shape[1], max(1, round(box[0] / MOTION_CELL))))


def _follow_windows(maps, prior, size, step) -> list[tuple[int, int]]:
    """One crop-sized window (top-left cell) per energy map: the sequence that holds the most
    motion for the least travel.

    Each frame scores each window by the share of its motion inside (weighted by ``prior``);
    dynamic programming then maximises the total less the distance travelled, crossing the
    whole frame costing MOVE_SECONDS' worth of frames with nothing in the crop. So a bystander
    moving for a moment does not pull the crop off the subject, while a subject that keeps
    moving is followed. A map of None scores nothing.
    """
    bh, bw = size
    grid = (prior.shape[0] - bh + 1, prior.shape[1] - bw + 1)
    scores = np.zeros((len(maps), *grid))
    for t, energy in enumerate(maps):
        if energy is not None:
            weighted = energy**2 * prior  # squared: strong, compact motion stands out
            table = np.pad(weighted.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
            sums = table[bh:, bw:] - table[:-bh, bw:] - table[bh:, :-bw] + table[:-bh, :-bw]
            scores[t] = sums / max(weighted.sum(), 1e-9)
    per_cell = MOVE_SECONDS / max(step, 1e-3) / prior.shape[1]  # cost of moving one cell
    value = scores.copy()
    for t in range(1, len(maps)):
        value[t] += _travel_max(value[t - 1], per_cell)
    # Walk back from the best end, each step to the predecessor that gave the maximum.
    rows, cols = np.indices(grid)
    r, c = np.unravel_index(np.argmax(value[-1]), grid)
    out = [(int(r), int(c))]
    for t in range(len(maps) - 2, -1, -1):
        reached = value[t] - per_cell * (np.abs(rows - r) + np.abs(cols - c))
        r, c = np.unravel_index(np.argmax(reached), grid)
        out.append((int(r), int(c)))
    return out[::-1]


def _travel_max(values: np.ndarray, per_cell: float) -> np.ndarray:
    """max over cells j of ``values[j] - per_cell * |i - j|`` (L1) for every cell i.

    Separable: along each axis, max_{j<=i} (v[j] + k j) - k i is a running maximum, and the
    same backwards.
    """
    for axis in (0, 1):
        ramp = per_cell * np.arange(values.shape[axis], dtype=np.float64)
        ramp = ramp[:, None] if axis == 0 else ramp[None, :]
        forward = np.maximum.accumulate(values + ramp, axis=axis) - ramp
        flipped = np.flip(values - ramp, axis=axis)
        backward = np.flip(np.maximum.accumulate(flipped, axis=axis), axis=axis) + ramp
        values = np.maximum(forward, backward)
    return values


def _centroid(energy: np.ndarray, r: int, c: int) -> tuple[float, float]:
    """Centre of the energy in a window whose top-left cell is (r, c), in analysis pixels."""
    total = energy.sum()
    if total <= 0:
        return np.nan, np.nan
    cy = (energy.sum(axis=1) @ (np.arange(r, r + energy.shape[0]) + 0.5)) / total
    cx = (energy.sum(axis=0) @ (np.arange(c, c + energy.shape[1]) + 0.5)) / total
    return cx * MOTION_CELL, cy * MOTION_CELL


def _fill(values: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Fill NaN rows by linear interpolation (held at the ends); all NaN → ``default``."""
    out = values.copy()
    known = ~np.isnan(values[:, 0])
    if not known.any():
        return np.tile(default, (len(values), 1))
    idx = np.arange(len(values))
    for axis in range(values.shape[1]):
        out[:, axis] = np.interp(idx, idx[known], values[known, axis])
    return out


def _smooth(targets: np.ndarray, size: float, step: float) -> np.ndarray:
    """A calm path through one piece's target centres (pixels along one axis).

    Outliers go by a running median; then a target that stays within STATIC_SHARE of the crop
    gets a still crop at the middle of its range, and one that travels further a Gaussian path,
    pulled along wherever it trails the target by more than LAG_SHARE of the crop (a fast
    subject turning: the median would flatten the turn, so the raw target counts there unless
    it is an outlier), its corners then softened.
    """
    n = len(targets)
    k = max(1, round(MEDIAN_SECONDS / step)) // 2 if step > 0 else 0
    centres = targets
    if n > 1 and k:
        padded = np.pad(targets, k, mode="edge")
        centres = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * k + 1), axis=1)
    lo, hi = centres.min(), centres.max()
    if hi - lo <= STATIC_SHARE * size:
        return np.full(n, (lo + hi) / 2)
    lag = LAG_SHARE * size
    followed = np.where(np.abs(targets - centres) <= lag, targets, centres)
    path = _gaussian(centres, SMOOTH_SECONDS / step)
    path = followed - np.clip(followed - path, -lag, lag)
    return _gaussian(path, CORNER_SECONDS / step)


def _gaussian(values: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing (``sigma`` in samples). The ends are padded by point reflection,
    which keeps a steady pan unbiased up to the edges."""
    r = min(len(values) - 1, math.ceil(3 * sigma))
    if r < 1:
        return values
    kernel = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    padded = np.pad(values, r, mode="reflect", reflect_type="odd")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")
