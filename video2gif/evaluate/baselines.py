"""Baselines on the same candidate segments as a model: random scores, and a position prior
fitted on other videos (where in a video people cut GIFs, by video duration).

Example:
    >>> random_result = random_baseline(videos, segments)  # doctest: +SKIP
    >>> position_result = position_baseline(videos, segments, folds=5)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..datasets import VideoAnnotation
from ..errors import DatasetError, DatasetWarning, UsageError
from .evaluation import EvalResult, Prediction, evaluate_videos, mean_result

RANDOM_SEEDS = 10  # the random baseline is averaged over this many seeds
POSITION_FOLDS = 5  # the position baseline is fitted on the other folds' videos
POSITION_BINS = 50  # relative-position bins of the position prior
# Videos are grouped by duration for the position prior (people cut GIFs differently from a
# 20-second clip and from a 10-minute video); edges in seconds.
POSITION_DURATION_EDGES = (30.0, 60.0, 120.0, 240.0, 480.0)
POSITION_MIN_VIDEOS = 30  # a duration group with fewer training videos uses the pooled prior
POSITION_SMOOTHING = 10.0  # pseudo-videos of the pooled prior mixed into each group's prior
POSITION_BLUR_BINS = 3.0  # Gaussian blur of each prior curve, standard deviation in bins


def uniform_segments(duration: float, length: float, stride: float | None = None) -> np.ndarray:
    """Candidate segments for a video without pixels: windows of ``length`` s every ``stride`` s.

    The last window is cut at the video's end; a video shorter than ``length`` is one segment.

    Example:
        >>> uniform_segments(7.0, 3.0).tolist()
        [[0.0, 3.0], [3.0, 6.0], [6.0, 7.0]]
    """
    if length <= 0 or (stride is not None and stride <= 0):
        raise UsageError("uniform_segments", "segment length and stride must be positive")
    step = length if stride is None else stride
    starts = np.arange(0.0, max(duration, 1e-9), step)
    starts = starts[(starts == 0) | (starts + 1e-9 < duration)]
    ends = np.minimum(starts + length, duration)
    keep = ends > starts
    if not keep.any():
        return np.array([[0.0, duration]])
    return np.stack([starts[keep], ends[keep]], axis=1)


def random_predictions(
    segments: Mapping[str, np.ndarray], seed: int
) -> dict[str, Prediction]:
    """Uniformly random scores for every video's segments (the ``random`` baseline).

    Example:
        >>> preds = random_predictions({"v": np.array([[0.0, 3.0], [3.0, 6.0]])}, seed=0)
        >>> preds["v"].scores.shape
        (2,)
    """
    rng = np.random.default_rng(seed)
    return {vid: Prediction(seg, rng.random(len(seg))) for vid, seg in segments.items()}


def random_baseline(
    annotations: Sequence[VideoAnnotation],
    segments: Mapping[str, np.ndarray],
    seeds: int = RANDOM_SEEDS,
    **options,
) -> EvalResult:
    """The ``random`` baseline on the given candidate segments, averaged over ``seeds`` seeds.

    ``options`` go to :func:`evaluate_videos` (k, min_inclusion, fps).

    Raises:
        DatasetError: no video could be evaluated.

    Example:
        >>> segments = {v.id: uniform_segments(v.duration, 3.0) for v in videos}  # doctest: +SKIP
        >>> random_baseline(videos, segments, seeds=10).mAP  # doctest: +SKIP
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)  # the same skips as the model's run
        runs = [
            evaluate_videos(annotations, random_predictions(segments, s), name="random", **options)
            for s in range(seeds)
        ]
    return mean_result(runs, f"random ({seeds} seeds)" if seeds > 1 else "random")


class PositionPrior:
    """How likely each relative position of a video is to be in a GIF, by video duration.

    Fitted on annotations: for each duration group (edges :data:`POSITION_DURATION_EDGES`), the
    mean share of each of ``bins`` relative-position bins that GIFs cover, smoothed towards the
    pooled curve (groups with few videos fall back to it) and blurred along the video (a Gaussian
    of ``blur_bins`` bins). A segment scores the curve's mean over its span (linear interpolation
    between bin centres).

    Example:
        >>> prior = PositionPrior().fit([VideoAnnotation("a", 10.0, None, (GifInterval(0, 2),))])
        >>> s = prior.score(np.array([[0.0, 2.0], [8.0, 10.0]]), 10.0)
        >>> bool(s[0] > s[1])
        True
    """

    def __init__(
        self,
        bins: int = POSITION_BINS,
        duration_edges: Sequence[float] = POSITION_DURATION_EDGES,
        min_videos: int = POSITION_MIN_VIDEOS,
        smoothing: float = POSITION_SMOOTHING,
        blur_bins: float = POSITION_BLUR_BINS,
    ) -> None:
        self.bins = bins
        self.duration_edges = tuple(duration_edges)
        self.min_videos = min_videos
        self.smoothing = smoothing
        self.blur_bins = blur_bins

    def _coverage(self, video: VideoAnnotation) -> np.ndarray:
        edges = np.linspace(0.0, 1.0, self.bins + 1)
        covered = np.zeros(self.bins)
        d = video.duration
        for g in video.gifs:
            lo, hi = np.clip(g.start / d, 0, 1), np.clip(g.end / d, 0, 1)
            covered += np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0, None)
        return np.minimum(covered * self.bins, 1.0)  # share of each bin inside some GIF

    def fit(self, annotations: Sequence[VideoAnnotation]) -> PositionPrior:
        """Learn the curves from videos with GIFs; returns self.

        Raises:
            DatasetError: no annotation has a GIF.
        """
        videos = [v for v in annotations if v.gifs and v.duration > 0]
        if not videos:
            raise DatasetError("annotations", "no video with a GIF to fit the position prior on")
        cover = np.stack([self._coverage(v) for v in videos])
        group = np.searchsorted(self.duration_edges, [v.duration for v in videos], side="right")
        pooled = cover.mean(axis=0)
        curves = np.empty((len(self.duration_edges) + 1, self.bins))
        counts = np.bincount(group, minlength=len(curves))
        for g in range(len(curves)):
            if counts[g] < self.min_videos:
                curves[g] = pooled
            else:
                total = cover[group == g].sum(axis=0) + self.smoothing * pooled
                curves[g] = total / (counts[g] + self.smoothing)
        if self.blur_bins > 0:
            radius = int(math.ceil(3 * self.blur_bins))
            kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / self.blur_bins) ** 2)
            kernel /= kernel.sum()
            padded = np.pad(curves, ((0, 0), (radius, radius)), mode="edge")
            curves = np.stack([np.convolve(row, kernel, mode="valid") for row in padded])
        self.curves_ = curves
        self.pooled_ = pooled
        self.n_videos_ = len(videos)
        return self

    def score(self, segments: np.ndarray, duration: float) -> np.ndarray:
        """The prior's score of each (start, end) segment, in seconds, of a video this long."""
        if not hasattr(self, "curves_"):
            raise UsageError("PositionPrior", "call fit() before score()")
        seg = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
        curve = self.curves_[np.searchsorted(self.duration_edges, duration, side="right")]
        centres = (np.arange(self.bins) + 0.5) / self.bins
        # Mean of the curve over each segment, from 9 evenly spaced samples.
        t = np.linspace(0.0, 1.0, 9)
        rel = (seg[:, :1] + (seg[:, 1:] - seg[:, :1]) * t[None, :]) / max(duration, 1e-9)
        return np.interp(rel, centres, curve).mean(axis=1)


def video_folds(ids: Iterable[str], folds: int, seed: int = 0) -> dict[str, int]:
    """Assign each distinct video id to one of ``folds`` folds at random (seeded).

    All annotations of one video (several users, say) land in the same fold, so a prior fitted
    on the other folds never saw the video it scores.

    Example:
        >>> sorted(video_folds(["a", "b", "a", "c"], folds=3).values())
        [0, 1, 2]
    """
    unique = sorted(set(ids))
    order = np.random.default_rng(seed).permutation(len(unique))
    return {unique[j]: int(i % folds) for i, j in enumerate(order)}


def position_predictions(
    annotations: Sequence[VideoAnnotation],
    segments: Mapping[str, np.ndarray],
    folds: int = POSITION_FOLDS,
    seed: int = 0,
    extra_training: Sequence[VideoAnnotation] = (),
) -> dict[str, Prediction]:
    """Cross-fitted position-prior scores: each video scored by a prior fitted on other videos.

    Videos are split into ``folds`` folds by id; the prior for a fold is fitted on the other
    folds' annotations plus ``extra_training`` (minus any of the fold's videos), so no video's own
    GIFs inform its score.

    Raises:
        UsageError: fewer than 2 folds or fewer distinct videos than folds.

    Example:
        >>> preds = position_predictions(videos, segments, folds=5)  # doctest: +SKIP
    """
    fold_of = video_folds([a.id for a in annotations], folds, seed)
    if folds < 2 or len(fold_of) < folds:
        raise UsageError("--folds", f"need 2 <= folds <= videos ({len(fold_of)})")
    out: dict[str, Prediction] = {}
    for f in range(folds):
        held_out = {vid for vid, g in fold_of.items() if g == f}
        train = [a for a in (*annotations, *extra_training) if a.id not in held_out]
        prior = PositionPrior().fit(train)
        for a in annotations:
            if a.id in held_out and a.id in segments and a.id not in out:
                seg = segments[a.id]
                out[a.id] = Prediction(seg, prior.score(seg, a.duration))
    return out


def position_baseline(
    annotations: Sequence[VideoAnnotation],
    segments: Mapping[str, np.ndarray],
    folds: int = POSITION_FOLDS,
    seed: int = 0,
    extra_training: Sequence[VideoAnnotation] = (),
    **options,
) -> EvalResult:
    """The ``position`` baseline: cross-fitted :class:`PositionPrior` on the given segments.

    ``options`` go to :func:`evaluate_videos` (k, min_inclusion, fps).

    Raises:
        UsageError: bad ``folds``. DatasetError: no video could be evaluated.

    Example:
        >>> position_baseline(videos, segments, folds=5).nMSD  # doctest: +SKIP
    """
    preds = position_predictions(annotations, segments, folds, seed, extra_training)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        return evaluate_videos(annotations, preds, name=f"position ({folds}-fold)", **options)
