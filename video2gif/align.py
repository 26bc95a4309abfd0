"""Find where a GIF was cut from its source video, by perceptual hashes.

Every frame of the video is hashed in the shared decode pass (FFmpeg scales it to a 64×64 gray
thumbnail; a 64-bit DCT hash is computed from it, batched in numpy), and every GIF frame is hashed
the same way, honouring the GIF's frame delays. The GIF is then matched as an in-order subsequence
of the video's frames: a dynamic programme over video frames picks, for each GIF frame, a video
frame after the previous one's, minimising Hamming distance plus a penalty for departing from the
GIF's own timing. GIFs are smaller, paletted, dithered and slower than their source, so hashes of
the same moment differ by a few bits, while unrelated frames differ by about 32 of 64.

A GIF that comes back far from every position of the video, or that fits another, separate
position about as well (a loop, a static scene), is reported with low confidence and
``matched: false`` rather than as a confident wrong answer.

Cropped GIFs: the video is hashed under a few crop hypotheses (a uniform border, and the crop that
turns the video's aspect ratio into the GIF's), and the best one is used.

:func:`phash` is the standard 64-bit DCT perceptual hash, bit for bit the one of
``imagehash.phash``.

Example:
    >>> result = align("reaction.gif", "source.mp4")  # doctest: +SKIP
    >>> result.to_dict()  # doctest: +SKIP
    {'start': 12.4, 'end': 15.6, 'start_frame': 310, 'end_frame': 390, 'confidence': 0.98,
     'matched': True}
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from ._io import json_seconds
from .decode import FrameConsumer, FrameRequest, VideoInfo, decode_pass
from .errors import InputError, Video2GifError

HASH_SIZE = 8  # the DCT's top-left HASH_SIZE×HASH_SIZE block: 64 bits
HASH_GRID = 32  # pixels; the image is reduced to HASH_GRID×HASH_GRID before the DCT (as imagehash)
HASH_BITS = HASH_SIZE * HASH_SIZE  # 64
THUMB_SIZE = 64  # pixels; FFmpeg scales each frame to a THUMB_SIZE² gray square; crops come from it
BATCH_FRAMES = 512  # video frames hashed together in one numpy call

GIF_DEFAULT_DELAY = 0.1  # seconds; browsers show frames with a tiny or zero delay this long
GIF_MIN_DELAY = 0.02  # seconds; delays below this are replaced by the default, as browsers do
FLAT_STD = 2.0  # gray levels; a GIF frame flatter than this (blank, black) carries no hash

BORDER_CROPS = (0.0, 0.06, 0.12)  # share of width and height cropped from each side, tried
ASPECT_TOLERANCE = 0.03  # relative aspect difference under which GIF and video count as equal
MAX_CROP = 0.4  # no hypothesis crops more than this share from one side

MAX_SPEED = 2.0  # the GIF may play up to this many times faster than the video
STEP_PENALTY = 0.5  # bits per video frame of departure from the GIF's timing

MATCH_DISTANCE = 12.0  # bits; mean distance at which confidence is 0.5 (unrelated frames: ~32)
DISTANCE_SCALE = 2.0  # bits; how fast confidence falls around MATCH_DISTANCE
AMBIGUITY_MARGIN = 4.0  # bits; a separate position this much worse or closer lowers confidence
MIN_SEPARATION = 1.0  # seconds; positions closer than this (or than the GIF's span) are the same
MATCH_CONFIDENCE = 0.5  # an alignment at or above this confidence is ``matched``


# -- the hash ----------------------------------------------------------------------------------


def _dct_rows(n: int, k: int) -> np.ndarray:
    """First ``k`` rows of the unnormalised DCT-II matrix of size ``n`` (scipy.fftpack's)."""
    rows = np.arange(k)[:, None]
    cols = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * rows * (2 * cols + 1) / (2 * n))


_DCT = _dct_rows(HASH_GRID, HASH_SIZE)  # (8, 32), float64


def _pack(bits: np.ndarray) -> np.ndarray:
    """(n, 64) bool, row-major DCT order → (n,) uint64 with the first bit most significant."""
    return np.packbits(bits, axis=1).view(">u8").reshape(-1).astype(np.uint64)


def phash(image: Image.Image | np.ndarray) -> int:
    """The 64-bit DCT perceptual hash of an image, bit-identical to ``imagehash.phash``.

    Gray (ITU-R 601-2 luma), resized to 32×32 with Lanczos, DCT-II along both axes, the top-left
    8×8 coefficients; each bit says whether a coefficient is above their median. Bits are read
    row by row, the first one most significant, so ``f"{phash(im):016x}"`` equals
    ``str(imagehash.phash(im))``.

    Arguments:
        image: a PIL image, or a uint8 array (H×W gray, H×W×3 RGB or H×W×4 RGBA).

    Returns:
        The hash as an int in [0, 2**64).

    Raises:
        InputError: an array that is not an image.

    Example:
        >>> from PIL import Image
        >>> img = Image.linear_gradient("L").rotate(30)
        >>> f"{phash(img):016x}"  # doctest: +SKIP
        'e1c27a3d0e1f0f43'
    """
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (
            arr.ndim == 3 and arr.shape[2] not in (3, 4)
        ):
            raise InputError("image", f"expected a uint8 H×W, H×W×3 or H×W×4 array, got "
                             f"{arr.dtype} {arr.shape}")
        image = Image.fromarray(np.ascontiguousarray(arr))
    small = image.convert("L").resize((HASH_GRID, HASH_GRID), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    coeffs = (_DCT @ pixels @ _DCT.T).reshape(1, -1)
    bits = coeffs > np.median(coeffs)
    return int(_pack(bits)[0])


def hamming(a: int | np.ndarray, b: int | np.ndarray) -> np.ndarray | int:
    """Number of differing bits between 64-bit hashes (element-wise for arrays).

    Example:
        >>> hamming(0b1011, 0b0001)
        2
    """
    if isinstance(a, int) and isinstance(b, int):
        return (a ^ b).bit_count()
    return _popcount(np.asarray(a, dtype=np.uint64) ^ np.asarray(b, dtype=np.uint64))


_BYTE_POPCOUNT = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x)
    b = np.ascontiguousarray(x, dtype=np.uint64)
    return _BYTE_POPCOUNT[b.view(np.uint8)].reshape(*b.shape, 8).sum(axis=-1, dtype=np.uint8)


# -- crops and batched hashing of thumbnails ---------------------------------------------------


def _box_matrix(n_out: int, n_in: int, lo: float, hi: float) -> np.ndarray:
    """Area resampling of source pixels [lo, hi) into ``n_out`` equal cells: (n_out, n_in)."""
    step = (hi - lo) / n_out
    starts = lo + step * np.arange(n_out)[:, None]
    pix = np.arange(n_in)[None, :]
    overlap = np.minimum(starts + step, pix + 1) - np.maximum(starts, pix)
    return np.clip(overlap, 0.0, None) / step


Crop = tuple[float, float]  # share cropped from each side: (left and right, top and bottom)


class _ThumbHasher:
    """Hashes THUMB_SIZE² gray thumbnails under crop hypotheses, batched."""

    def __init__(self, crops: Sequence[Crop]) -> None:
        self.crops = list(crops)
        self.left, self.right = [], []
        for cx, cy in self.crops:
            rows = _box_matrix(HASH_GRID, THUMB_SIZE, cy * THUMB_SIZE, (1 - cy) * THUMB_SIZE)
            cols = _box_matrix(HASH_GRID, THUMB_SIZE, cx * THUMB_SIZE, (1 - cx) * THUMB_SIZE)
            # DCT of the resampled crop = (DCT·R) X (DCT·C)ᵀ: two small products per frame.
            self.left.append((_DCT @ rows).astype(np.float32))
            self.right.append((_DCT @ cols).T.astype(np.float32))

    def __call__(self, thumbs: np.ndarray) -> np.ndarray:
        """(n, 64, 64) thumbnails → (len(crops), n) uint64 hashes."""
        x = np.asarray(thumbs, dtype=np.float32)
        out = np.empty((len(self.crops), len(x)), dtype=np.uint64)
        for h in range(len(self.crops)):
            coeffs = (self.left[h] @ x @ self.right[h]).reshape(len(x), HASH_BITS)
            out[h] = _pack(coeffs > np.median(coeffs, axis=1, keepdims=True))
        return out


def crop_hypotheses(gif_size: tuple[int, int], video_size: tuple[int, int]) -> list[Crop]:
    """Crops of the video under which a GIF of ``gif_size`` might show it.

    Uniform borders (:data:`BORDER_CROPS`), and when the aspect ratios differ, the centred crop
    that gives the video the GIF's aspect, alone and with the smallest extra border.

    Example:
        >>> crop_hypotheses((320, 180), (1280, 720))
        [(0.0, 0.0), (0.06, 0.06), (0.12, 0.12)]
    """
    crops: list[Crop] = [(c, c) for c in BORDER_CROPS]
    gw, gh = gif_size
    vw, vh = video_size
    if min(gw, gh, vw, vh) > 0:
        ratio = (gw / gh) / (vw / vh)
        if ratio > 1 + ASPECT_TOLERANCE:  # GIF is wider: the video lost top and bottom
            base = (0.0, (1 - 1 / ratio) / 2)
        elif ratio < 1 - ASPECT_TOLERANCE:  # GIF is narrower: the video lost its sides
            base = ((1 - ratio) / 2, 0.0)
        else:
            base = None
        if base is not None:
            for c in BORDER_CROPS[:2]:
                crops.append((base[0] + c * (1 - 2 * base[0]), base[1] + c * (1 - 2 * base[1])))
    out: list[Crop] = []
    for cx, cy in crops:
        crop = (round(min(cx, MAX_CROP), 3), round(min(cy, MAX_CROP), 3))
        if crop not in out:
            out.append(crop)
    return out


# -- GIF frames ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GifFrames:
    """A GIF's frames as hashes: when each is shown and for how long."""

    path: str
    hashes: np.ndarray  # (k,) uint64, no crop
    times: np.ndarray  # (k,) seconds from the GIF's start at which each frame appears
    durations: np.ndarray  # (k,) seconds each frame is shown
    informative: np.ndarray  # (k,) bool: not blank (blank frames' hashes are noise)
    size: tuple[int, int]  # width, height

    @property
    def duration(self) -> float:
        return float(self.times[-1] + self.durations[-1]) if len(self.times) else 0.0


def _gif_delay(ms) -> float:
    seconds = (ms or 0) / 1000.0
    return GIF_DEFAULT_DELAY if seconds < GIF_MIN_DELAY else seconds


def _thumb(image: Image.Image) -> np.ndarray:
    gray = image.convert("L").resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BOX)
    return np.asarray(gray, dtype=np.float32)


class _ThumbCollector(FrameConsumer):
    """Keeps a gray thumbnail of every frame (for short animations decoded by FFmpeg)."""

    def __init__(self) -> None:
        super().__init__(FrameRequest(THUMB_SIZE, THUMB_SIZE, "gray", interpolation="AREA"))
        self.thumbs: list[np.ndarray] = []
        self.times: list[float] = []

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        self.thumbs.append(image.astype(np.float32))
        self.times.append(time)


# What Pillow raises on a damaged GIF (IndexError: cut off inside a frame; DecompressionBombError:
# a header claiming billions of pixels; both found by tests/test_fuzz.py).
_PIL_DAMAGE = (OSError, ValueError, EOFError, IndexError, Image.DecompressionBombError)


def read_gif(path: str | os.PathLike) -> GifFrames:
    """Hash every frame of a GIF (or of any animation or short video FFmpeg reads).

    Frame delays are honoured (a delay under 20 ms counts as 100 ms, as browsers show it).

    Arguments:
        path: the GIF.

    Returns:
        GifFrames.

    Raises:
        InputError: missing, empty, or not an animation.

    Example:
        >>> frames = read_gif("reaction.gif")  # doctest: +SKIP
        >>> frames.duration, len(frames.hashes)  # doctest: +SKIP
        (3.0, 30)
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    if p.is_dir() or p.stat().st_size == 0:
        raise InputError(path, "not a GIF file (a folder or empty)")
    thumbs: list[np.ndarray] = []
    delays: list[float] = []
    size = (0, 0)
    try:
        with Image.open(p) as im:
            size = im.size
            try:
                for frame in ImageSequence.Iterator(im):
                    delays.append(_gif_delay(frame.info.get("duration")))
                    thumbs.append(_thumb(frame))
            except _PIL_DAMAGE:
                if not thumbs:  # damaged after some frames: keep those
                    raise
        times = np.concatenate([[0.0], np.cumsum(delays)[:-1]])
        durations = np.asarray(delays)
    except (UnidentifiedImageError, *_PIL_DAMAGE):
        thumbs, times, durations, size = _read_with_ffmpeg(path)
    stack = np.stack(thumbs)
    hashes = _ThumbHasher([(0.0, 0.0)])(stack)[0]
    informative = stack.reshape(len(stack), -1).std(axis=1) >= FLAT_STD
    return GifFrames(str(path), hashes, np.asarray(times, float), durations, informative, size)


def _read_with_ffmpeg(path):
    collector = _ThumbCollector()
    try:
        info = decode_pass(path, [collector])
    except Video2GifError:
        raise InputError(path, "not a readable GIF, animation or video") from None
    times = np.asarray(collector.times)
    ends = np.r_[times[1:], info.duration]
    return collector.thumbs, times, np.maximum(ends - times, 1e-3), (info.width, info.height)


# -- video hashes ------------------------------------------------------------------------------


class VideoHasher(FrameConsumer):
    """Hashes every frame of the decode pass under the crop hypotheses the GIFs need.

    After the pass: :attr:`times` (seconds, per frame), :attr:`hashes` ((crops, frames) uint64)
    and :attr:`crops`. Memory is 8 bytes per frame and crop.
    """

    def __init__(self, gif_sizes: Sequence[tuple[int, int]]) -> None:
        super().__init__(FrameRequest(THUMB_SIZE, THUMB_SIZE, "gray", interpolation="AREA"))
        self.gif_sizes = list(gif_sizes)
        self.crops: list[Crop] = []
        self.times = np.zeros(0)
        self.hashes = np.zeros((0, 0), dtype=np.uint64)
        self.info: VideoInfo | None = None
        self._batch = np.empty((BATCH_FRAMES, THUMB_SIZE, THUMB_SIZE), dtype=np.float32)
        self._filled = 0
        self._chunks: list[np.ndarray] = []
        self._times: list[float] = []

    def start(self, info: VideoInfo) -> None:
        crops: list[Crop] = []
        for size in self.gif_sizes or [(info.width, info.height)]:
            crops += [c for c in crop_hypotheses(size, (info.width, info.height)) if c not in crops]
        self.crops = crops
        self._hasher = _ThumbHasher(crops)

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        self._batch[self._filled] = image
        self._filled += 1
        self._times.append(time)
        if self._filled == BATCH_FRAMES:
            self._flush()

    def _flush(self) -> None:
        if self._filled:
            self._chunks.append(self._hasher(self._batch[: self._filled]))
            self._filled = 0

    def finish(self, info: VideoInfo) -> None:
        self._flush()
        self.info = info
        self.times = np.asarray(self._times, dtype=np.float64)
        empty = np.zeros((len(self.crops), 0), dtype=np.uint64)
        self.hashes = np.concatenate(self._chunks, axis=1) if self._chunks else empty
        self._chunks = []


# -- matching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alignment:
    """Where a GIF lies in a video: frames ``[start_frame, end_frame)``, ``start``–``end`` s.

    ``confidence`` in [0, 1] falls with the mean Hamming distance of matched frames and when
    another, separate position fits about as well; ``matched`` is confidence >= 0.5. When not
    matched, the times are only the best guess.
    """

    start: float
    end: float
    start_frame: int
    end_frame: int
    confidence: float
    matched: bool
    distance: float = float("nan")  # mean Hamming distance of matched GIF frames, bits of 64
    margin: float = float("inf")  # bits by which the next separate position is worse
    crop: Crop = (0.0, 0.0)  # crop hypothesis that fitted best
    gif_frames: int = 0
    reason: str = ""  # why it is not matched, in a few words

    def to_dict(self) -> dict:
        """The CLI contract's keys: start, end, start_frame, end_frame, confidence, matched."""
        return {
            "start": json_seconds(self.start),
            "end": json_seconds(self.end),
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "confidence": round(self.confidence, 4),
            "matched": self.matched,
        }


@dataclass(frozen=True)
class _Path:
    start: int
    end: int
    distance: float
    margin: float


def _best_path(gif: GifFrames, hashes: np.ndarray, times: np.ndarray) -> _Path:
    """Dynamic programme: GIF frames as an in-order subsequence of video frames."""
    n = len(hashes)
    period = float(np.median(np.diff(times))) if n > 1 else GIF_DEFAULT_DELAY
    period = max(period, 1e-3)
    useful = max(float(gif.informative.sum()), 1.0)  # blank GIF frames add 0 and do not count

    def row(k: int) -> np.ndarray:
        if not gif.informative[k]:
            return np.zeros(n, dtype=np.float32)
        return _popcount(hashes ^ gif.hashes[k]).astype(np.float32)

    dist = row(0)
    cost = dist.copy()  # distance plus timing penalties
    ham = dist.copy()  # distance only
    start = np.arange(n)
    for k in range(1, len(gif.hashes)):
        gap = float(gif.times[k] - gif.times[k - 1])
        top = min(n - 1, int(math.ceil(MAX_SPEED * gap / period)) + 1)
        best = np.full(n, np.inf, dtype=np.float32)
        best_ham = np.zeros(n, dtype=np.float32)
        best_start = np.zeros(n, dtype=np.int64)
        for m in range(top + 1):
            if m == 0:
                step = np.zeros(n)
                prev_cost, prev_ham, prev_start = cost, ham, start
            else:
                step = times[m:] - times[:-m]
                prev_cost, prev_ham, prev_start = cost[:-m], ham[:-m], start[:-m]
            cand = prev_cost + (STEP_PENALTY * np.abs(step - gap) / period).astype(np.float32)
            better = cand < best[m:]
            target = np.nonzero(better)[0] + m
            best[target] = cand[better]
            best_ham[target] = prev_ham[better]
            best_start[target] = prev_start[better]
        dist = row(k)
        cost = best + dist
        ham = best_ham + dist
        start = best_start
    end = int(np.argmin(cost))
    first = int(start[end])
    mean = float(ham[end]) / useful
    # How well the best path that stays clear of the chosen one fits: a GIF's span (at least
    # MIN_SEPARATION) away on either side. A close second means the position is ambiguous.
    span = max(end - first + 1, int(math.ceil(MIN_SEPARATION / period)))
    ends = np.arange(n)
    separate = (ends < first - span) | (start > end + span)
    separate &= np.isfinite(cost)
    margin = float(ham[separate].min()) / useful - mean if separate.any() else float("inf")
    return _Path(first, end, mean, margin)


def _confidence(distance: float, margin: float) -> float:
    absolute = 1.0 / (1.0 + math.exp((distance - MATCH_DISTANCE) / DISTANCE_SCALE))
    distinct = 1.0 if not math.isfinite(margin) else min(1.0, max(0.0, margin / AMBIGUITY_MARGIN))
    return absolute * distinct


def match(gif: GifFrames, video: VideoHasher) -> Alignment:
    """Align hashed GIF frames with a hashed video (both from one pass each).

    Arguments:
        gif: from :func:`read_gif`.
        video: a :class:`VideoHasher` that went through :func:`~video2gif.decode.decode_pass`.

    Returns:
        Alignment (see there for confidence).

    Example:
        >>> gif = read_gif("reaction.gif")  # doctest: +SKIP
        >>> hasher = VideoHasher([gif.size])  # doctest: +SKIP
        >>> info = decode_pass("source.mp4", [hasher])  # doctest: +SKIP
        >>> match(gif, hasher).matched  # doctest: +SKIP
        True
    """
    times = video.times
    n = len(times)
    if n == 0 or not len(gif.hashes):
        return Alignment(0.0, 0.0, 0, 0, 0.0, False, gif_frames=len(gif.hashes),
                         reason="nothing to compare")
    if not gif.informative.any():
        return Alignment(0.0, 0.0, 0, 0, 0.0, False, gif_frames=len(gif.hashes),
                         reason="every GIF frame is blank")
    wanted = crop_hypotheses(gif.size, (video.info.width, video.info.height)) if video.info else []
    candidates = [i for i, c in enumerate(video.crops) if c in wanted] or range(len(video.crops))
    best, best_crop = None, 0
    for h in candidates:
        path = _best_path(gif, video.hashes[h], times)
        if best is None or path.distance < best.distance:
            best, best_crop = path, h
    speed = 1.0
    span_gif = float(gif.times[-1] - gif.times[0])
    if span_gif > 0 and best.end > best.start:
        speed = float(times[best.end] - times[best.start]) / span_gif
    duration = video.info.duration if video.info else float(times[-1])
    period = float(np.median(np.diff(times))) if n > 1 else GIF_DEFAULT_DELAY
    end = min(duration, float(times[best.end]) + float(gif.durations[-1]) * speed)
    end_frame = int(np.searchsorted(times, end - 0.25 * period, side="left"))
    end_frame = max(best.end + 1, min(n, end_frame))
    confidence = _confidence(best.distance, best.margin)
    matched = confidence >= MATCH_CONFIDENCE
    reason = ""
    if not matched:
        if best.distance > MATCH_DISTANCE:
            reason = f"no position fits (mean distance {best.distance:.1f} of 64 bits)"
        else:
            reason = f"ambiguous: another position fits within {best.margin:.1f} bits"
    return Alignment(
        start=float(times[best.start]),
        end=end,
        start_frame=best.start,
        end_frame=end_frame,
        confidence=confidence,
        matched=matched,
        distance=best.distance,
        margin=best.margin,
        crop=video.crops[best_crop],
        gif_frames=len(gif.hashes),
        reason=reason,
    )


@dataclass(frozen=True)
class VideoAlignments:
    """The alignments of several GIFs with one video, from a single decode of it."""

    info: VideoInfo
    results: tuple[Alignment | Video2GifError, ...]  # one per GIF, in order; errors for bad GIFs
    gifs: tuple[str, ...] = field(default=())


def align_many(
    gif_paths: Sequence[str | os.PathLike], video_path: str | os.PathLike, on_progress=None
) -> VideoAlignments:
    """Align several GIFs with the same video, decoding the video once.

    Arguments:
        gif_paths: the GIFs.
        video_path: their (supposed) source.
        on_progress: passed to :func:`~video2gif.decode.decode_pass`.

    Returns:
        VideoAlignments; a GIF that cannot be read gets its error in place of an alignment.

    Raises:
        InputError, DecodeError: the video cannot be decoded.

    Example:
        >>> out = align_many(["a.gif", "b.gif"], "source.mp4")  # doctest: +SKIP
        >>> [r.matched for r in out.results]  # doctest: +SKIP
        [True, False]
    """
    gifs: list[GifFrames | Video2GifError] = []
    for g in gif_paths:
        try:
            gifs.append(read_gif(g))
        except Video2GifError as e:
            gifs.append(e)
    sizes = [g.size for g in gifs if isinstance(g, GifFrames)]
    hasher = VideoHasher(sizes)
    info = decode_pass(video_path, [hasher], on_progress=on_progress)
    results = tuple(match(g, hasher) if isinstance(g, GifFrames) else g for g in gifs)
    return VideoAlignments(info, results, tuple(str(g) for g in gif_paths))


def align(gif_path: str | os.PathLike, video_path: str | os.PathLike) -> Alignment:
    """Find where ``gif_path`` was cut from ``video_path``.

    Arguments:
        gif_path: the GIF (or any animation or short clip).
        video_path: the video it may come from.

    Returns:
        Alignment: start/end in seconds and frames (end exclusive), confidence, matched.

    Raises:
        InputError: the GIF cannot be read. InputError, DecodeError: the video cannot be decoded.

    Example:
        >>> a = align("clip.gif", "movie.mp4")  # doctest: +SKIP
        >>> a.matched, a.start_frame, a.end_frame  # doctest: +SKIP
        (True, 75, 150)
    """
    gif = read_gif(gif_path)
    hasher = VideoHasher([gif.size])
    decode_pass(video_path, [hasher])
    return match(gif, hasher)
