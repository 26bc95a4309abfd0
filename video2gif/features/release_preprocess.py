"""The 2016 Video2GIF release's input pipeline, exactly: its resize and its windows.

The release (``video2gif/__init__.py`` and ``model.py`` of the published code) scored a list of
segments ``(first_frame, last_frame)`` in one sweep over the decoded frames:

- **Resize.** Each decoded RGB frame goes to 128×171 through scikit-image's ``resize`` as it was
  in 2016: bilinear (order 1), no anti-aliasing, ``mode="constant"`` with 0 outside the image,
  values kept in 0-255 as floats (``preserve_range``), never rounded. It samples the source at
  ``scale * (i + 0.5) - 0.5`` and blends the four nearest pixels, which is also Caffe's bilinear
  resize that C3D was trained with. FFmpeg's bilinear scaler widens its filter when it shrinks
  (an area-weighted average over ``scale`` pixels), a different, blurrier picture; so
  :func:`release_resize` does it here, in NumPy, from the full decoded frame.
- **Windows.** 16 consecutive frames, a new one every 8 frames, cut from each segment's own
  frames: the list of frames restarts at each segment, and a segment's last frame is included
  (the release moved on only when ``frame_idx > last_frame``). When the segments tile the video,
  each starting on the frame where the one before ends (the tutorial's uniform segments
  ``(0, 150), (150, 300), …``), the shared frame went to the earlier one, so the later one's
  windows start one frame after its first frame.
  :func:`segment_windows` states that rule for any candidate list.

Then BGR order, the mean snippet subtracted, the centre crop and the mirror, as
:func:`video2gif.features.c3d.preprocess` does.

Example:
    >>> frame = np.zeros((360, 640, 3), np.uint8)
    >>> release_resize(frame).shape
    (128, 171, 3)
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence

import numpy as np

from ..decode import FrameConsumer, FrameRequest, VideoInfo, Worker, decode_pass
from ..errors import ModelError
from ..segments import Segment
from .backbones import PENDING_BATCHES, Backbone, SampleEmbeddings, segment_members
from .c3d import CLIP_FRAMES, CLIP_STRIDE, RESIZE_HEIGHT, RESIZE_WIDTH

RESIZE_METHOD = "skimage-2016-bilinear"  # named in reports: point-sampled, no anti-aliasing
PER_SEGMENT, GRID = "segment", "grid"  # where windows start: each segment's frames, or one grid
PLACEMENTS = (PER_SEGMENT, GRID)
OUTSIDE_VALUE = 0.0  # skimage's mode="constant", cval=0: pixels beyond the edge are black


def _taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source pixels and weights along one axis, as skimage's 2016 ``resize``: the output
    pixel ``i`` samples ``scale * i + (scale / 2 - 1/2)``, the affine map it fitted through the
    pixel centres. Returns (floor, ceil, fraction); an index of -1 or ``n_in`` is outside."""
    scale = n_in / n_out
    src = scale * np.arange(n_out, dtype=np.float64) + (0.5 * scale - 0.5)
    lo = np.floor(src)
    return lo.astype(np.int64), np.ceil(src).astype(np.int64), src - lo


def _gather(img: np.ndarray, index: np.ndarray, axis: int) -> np.ma.MaskedArray:
    """``img`` taken at ``index`` along ``axis``, masked where the index falls off the image
    (only an upscale reaches past the edge). Gathered before any conversion to float, so a
    large frame is never copied whole."""
    n = img.shape[axis]
    outside = (index < 0) | (index >= n)
    out = np.take(img, np.clip(index, 0, n - 1), axis=axis)
    if isinstance(img, np.ma.MaskedArray) or outside.any():
        shape = [1] * img.ndim
        shape[axis] = len(index)
        mask = np.broadcast_to(outside.reshape(shape), out.shape)
        return np.ma.MaskedArray(out, mask=np.ma.getmaskarray(out) | mask)
    return out


def _float(pixels) -> np.ndarray:
    """float64 pixels, OUTSIDE_VALUE where masked."""
    if isinstance(pixels, np.ma.MaskedArray):
        return pixels.astype(np.float64).filled(OUTSIDE_VALUE)
    return pixels.astype(np.float64)


def release_resize(image: np.ndarray, height: int = RESIZE_HEIGHT, width: int = RESIZE_WIDTH
                   ) -> np.ndarray:
    """Resize an RGB (or grey) frame exactly as the release's ``skimage.transform.resize(im,
    (128, 171), preserve_range=True)`` did in 2016.

    Arguments:
        image: (h, w, 3) or (h, w) pixels, any numeric type; grey is repeated to RGB.
        height, width: the output size.

    Returns:
        (height, width, 3) float32, in the input's range (0-255 for uint8), not rounded.

    Example:
        >>> release_resize(np.array([[0, 10, 20, 30]], np.uint8), 1, 2)[..., 0].tolist()
        [[5.0, 25.0]]
    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"expected an (h, w, 3) image, got shape {img.shape}")
    r0, r1, dr = _taps(img.shape[0], height)
    c0, c1, dc = _taps(img.shape[1], width)
    rows0, rows1 = _gather(img, r0, axis=0), _gather(img, r1, axis=0)  # (height, w, 3) each
    wc = dc[None, :, None]
    # The same sums in the same order as skimage's bilinear_interpolation: across, then down.
    top = (1 - wc) * _float(_gather(rows0, c0, axis=1)) + wc * _float(_gather(rows0, c1, axis=1))
    bottom = ((1 - wc) * _float(_gather(rows1, c0, axis=1))
              + wc * _float(_gather(rows1, c1, axis=1)))
    wr = dr[:, None, None]
    return ((1 - wr) * top + wr * bottom).astype(np.float32)


def segment_windows(segments: Sequence[Segment], clip: int = CLIP_FRAMES,
                    stride: int = CLIP_STRIDE) -> list[np.ndarray]:
    """First frames of each segment's windows, as the release cut them.

    A segment's frames run from ``start_frame`` to ``end_frame`` inclusive (the release's end
    frame counted), except that when the list tiles the video (each segment starts on the end
    frame of the one before, as the release's sweep assumed), that shared frame went to the
    earlier segment. Windows of ``clip`` frames start at the first frame and every ``stride``
    frames after, while they fit. Windows past the video's last frame are listed too; they
    never complete, so they get no score.

    Example:
        >>> tiles = [Segment(0, 1, 0, 30, 0), Segment(1, 2, 30, 60, 0)]
        >>> [w.tolist() for w in segment_windows(tiles)]
        [[0, 8], [31, 39]]
    """
    tiled = len(segments) > 1 and all(
        a.end_frame == b.start_frame for a, b in itertools.pairwise(segments))
    out = []
    for i, seg in enumerate(segments):
        first = seg.start_frame + (1 if tiled and i else 0)
        last = seg.end_frame  # inclusive, as the release
        out.append(np.arange(first, last - clip + 2, stride, dtype=np.int64))
    return out


class ReleaseWindows(FrameConsumer):
    """Cuts 16-frame windows from full decoded frames resized by :func:`release_resize`, and
    encodes them with ``encoder`` in batches on a thread of its own.

    Arguments:
        encoder: a clip :class:`~video2gif.features.backbones.Backbone` taking (n, 16, 128,
            171, 3) float32 RGB clips.
        starts: the first frames of the windows wanted; None for every ``stride``-th frame from
            the first (one grid for the whole video).

    After the pass, :attr:`result` holds one row per completed window in start order, with
    :attr:`starts` their first frames.
    """

    def __init__(self, encoder: Backbone, starts: Sequence[int] | None = None,
                 stride: int = CLIP_STRIDE, threaded: bool = True) -> None:
        super().__init__(FrameRequest(width=None, height=None, pixel_format="rgb24", fps=None))
        self.encoder = encoder
        self.clip = encoder.spec.clip
        self.stride = stride
        self.threaded = threaded
        self.wanted = None if starts is None else np.unique(np.asarray(starts, np.int64))
        self.result: SampleEmbeddings | None = None
        self.starts = np.zeros(0, np.int64)
        self._worker: Worker | None = None
        self._reset()

    def _reset(self) -> None:
        self._frames: deque[tuple[int, float, np.ndarray]] = deque(maxlen=self.clip)
        self._batch: list[tuple[int, float, float, np.ndarray]] = []
        self._rows: list[tuple[int, float, float]] = []
        self._vectors: list[np.ndarray] = []

    def _is_start(self, index: int) -> bool:
        if self.wanted is None:
            return index >= 0 and index % self.stride == 0
        i = int(np.searchsorted(self.wanted, index))
        return i < len(self.wanted) and self.wanted[i] == index

    def _is_needed(self, index: int) -> bool:
        """Whether frame ``index`` lies in a wanted window (every frame, for the grid)."""
        if self.wanted is None:
            return True
        i = int(np.searchsorted(self.wanted, index, side="right"))  # wanted[i - 1] <= index
        return i > 0 and index - self.wanted[i - 1] < self.clip

    def start(self, info: VideoInfo) -> None:
        if self._worker is not None:  # a pass that failed half-way: drop its thread
            self._worker.discard()
        self._worker = None
        self._reset()
        self.result = None
        if self.threaded:
            self._worker = Worker(lambda item: self._encode(item), PENDING_BATCHES,
                                  f"video2gif-{self.encoder.name}-release")

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        if not self._is_needed(index):
            return
        self._frames.append((index, time, release_resize(image)))
        first = index - self.clip + 1
        if self._is_start(first) and self._frames[0][0] == first:
            clip = np.stack([f for _, _, f in self._frames])
            self._batch.append((first, self._frames[0][1], time, clip))
            if len(self._batch) >= self.encoder.batch_size:
                self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        if self._worker is not None:
            self._worker.submit(batch)  # blocks while PENDING_BATCHES are waiting
        else:
            self._encode(batch)

    def _encode(self, batch: list[tuple[int, float, float, np.ndarray]]) -> None:
        vectors = np.asarray(self.encoder.encode(np.stack([c for *_, c in batch])), np.float32)
        if vectors.shape != (len(batch), self.encoder.dim):
            raise RuntimeError(f"{self.encoder.name} returned {vectors.shape}, expected "
                               f"({len(batch)}, {self.encoder.dim})")
        self._vectors.append(vectors)
        self._rows.extend((first, t0, t1) for first, t0, t1, _ in batch)

    def finish(self, info: VideoInfo) -> None:
        self._flush()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.close()
        rows = np.asarray([r[1:] for r in self._rows], np.float64).reshape(-1, 2)
        vectors = (np.concatenate(self._vectors) if self._vectors
                   else np.zeros((0, self.encoder.dim), np.float32))
        self.starts = np.asarray([r[0] for r in self._rows], np.int64)
        self.result = SampleEmbeddings(self.encoder.cache_id, rows[:, 0].copy(),
                                       rows[:, 1].copy(), vectors)
        self._frames.clear()
        self._vectors = []


def score_segments(windows: np.ndarray, scores: np.ndarray,
                   per_segment: Sequence[np.ndarray]) -> np.ndarray:
    """Each segment's score: the mean of its windows' scores (NaN where none completed).

    Arguments:
        windows: first frames of the computed windows.
        scores: (len(windows),) their scores.
        per_segment: each segment's window starts (:func:`segment_windows`).
    """
    by_start = dict(zip(np.asarray(windows).tolist(), np.asarray(scores, np.float64).tolist()))
    out = np.full(len(per_segment), np.nan)
    for i, starts in enumerate(per_segment):
        got = [by_start[s] for s in starts.tolist() if s in by_start]
        if got:
            out[i] = float(np.mean(got))
    return out


def window_cost(per_segment: Sequence[np.ndarray], frames: int, clip: int = CLIP_FRAMES,
                stride: int = CLIP_STRIDE) -> dict[str, int]:
    """How many windows the per-segment rule computes against one shared grid, for a video of
    ``frames`` frames: distinct windows (identical windows of overlapping candidates are
    computed once), windows counted per segment, and the grid's windows."""
    fits = [s[s + clip <= frames] for s in per_segment]
    distinct = np.unique(np.concatenate(fits)) if fits else np.zeros(0)
    grid = max(0, (frames - clip) // stride + 1)
    return {"distinct": len(distinct), "per_segment": int(sum(len(s) for s in fits)),
            "grid": int(grid)}


class ReleaseScoring:
    """Scores segments with a window encoder (the released model as a one-number "backbone"),
    placing its windows as the release did (``"segment"``, the default: a second decode pass
    once the candidates are known) or on one grid from the video's first frame (``"grid"``:
    computed in the shared decode pass, each window once, the windows of a segment those lying
    inside it).

    Example:
        >>> scoring = ReleaseScoring(encoder)  # doctest: +SKIP
        >>> info = decode_pass(path, scoring.consumers())  # doctest: +SKIP
        >>> scores = scoring.score(info, segments)  # doctest: +SKIP
    """

    def __init__(self, encoder: Backbone, placement: str = PER_SEGMENT) -> None:
        if placement not in PLACEMENTS:
            raise ValueError(f"window placement {placement!r}: choose one of {PLACEMENTS}")
        self.encoder = encoder
        self.placement = placement
        self._grid: ReleaseWindows | None = None
        self.counts: dict[str, int] = {}

    def consumers(self) -> list[FrameConsumer]:
        """The grid's consumer for the shared decode pass (none per segment)."""
        if self.placement == GRID:
            self._grid = ReleaseWindows(self.encoder)
            return [self._grid]
        return []

    def score(self, info: VideoInfo, segments: Sequence[Segment]) -> np.ndarray:
        """One score per segment, NaN where no window fits.

        Raises:
            ModelError: grid placement without its consumer in the decode pass.
            InputError, DecodeError: the second pass cannot read ``info.path``.
        """
        if self.placement == GRID:
            return self._score_grid(segments)
        per_segment = segment_windows(segments, self.encoder.spec.clip)
        wanted = np.unique(np.concatenate(per_segment)) if per_segment else np.zeros(0, np.int64)
        if not len(wanted):
            self.counts = {"windows": 0, "per_segment": 0}
            return np.full(len(segments), np.nan)
        windows = ReleaseWindows(self.encoder, wanted)
        decode_pass(info.path, [windows])
        scores = score_segments(windows.starts, windows.result.vectors[:, 0], per_segment)
        done = set(windows.starts.tolist())
        self.counts = {"windows": len(done),
                       "per_segment": sum(s in done for w in per_segment for s in w.tolist())}
        return scores

    def _score_grid(self, segments: Sequence[Segment]) -> np.ndarray:
        result = self._grid.result if self._grid is not None else None
        if result is None:
            raise ModelError(self.encoder.name, "no window scores: run its consumers() in the "
                             "decode pass before score()")
        scores = np.full(len(segments), np.nan)
        if len(result):
            members = segment_members(result, segments)
            for i, (seg, rows) in enumerate(zip(segments, members)):
                if seg.end_frame - seg.start_frame >= self.encoder.spec.clip and len(rows):
                    scores[i] = float(result.vectors[rows, 0].mean())
        self.counts = {"windows": len(result), "per_segment": int(sum(
            len(m) for m in segment_members(result, segments))) if len(result) else 0}
        return scores

    def describe(self) -> dict:
        """The ``windows`` block of the model's description."""
        spec = self.encoder.spec
        return {"frames": spec.clip, "stride": spec.stride, "mirrored": True,
                "placement": self.placement, "resize": RESIZE_METHOD,
                "computed": self.counts.get("windows", 0)}
