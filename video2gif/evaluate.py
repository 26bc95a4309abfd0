"""Benchmark metrics, exactly as the benchmarks' reference evaluations compute them, and baselines.

Frame-level metrics (Video2GIF, PHD-GIFs) work on a per-frame grid: a frame is positive when it
lies inside any GIF of the video (end frame exclusive), and takes the score of the segment it lies
in (the highest, where candidates overlap; frames in no segment take the video's lowest segment
score).

- **AP** follows ``v2g_evaluation.get_ap``: the precision/recall curve of scikit-learn's
  ``precision_recall_curve`` (one point per distinct score, increasing thresholds, a final point
  of precision 1 and recall 0), precision made monotone by a running maximum in that order, and
  AP = mean precision over the points where recall changes. mAP is the mean over videos.
- **nMSD** (lower is better) follows ``meaningful_summary_duration`` with ``min_inclusion`` 0.5.
- **R@5** is the fraction of ground-truth GIFs (pooled over videos) that overlap one of the 5
  top-scored segments; **HIT@1** the fraction of videos whose top segment overlaps a GIF.
- The QVHighlights highlight metrics (HL-mAP, HL-Hit1 at the Fair/Good/VeryGood levels) follow
  the benchmark's ``standalone_eval/eval.py``.

Everything is vectorised numpy; scikit-learn is only used by the tests, to cross-check.

Example:
    >>> labels = np.array([1, 0, 1, 0], dtype=bool)
    >>> round(average_precision(labels, np.array([0.9, 0.8, 0.7, 0.1])), 4)
    0.8333
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import GifInterval, VideoAnnotation
from .errors import DatasetError, DatasetWarning, InputError, UsageError

MIN_INCLUSION = 0.5  # nMSD: share of a GIF's frames the summary must include
RECALL_K = 5  # R@k: how many top segments count
NOMINAL_FPS = 25.0  # frames per second of the grid for videos whose frame rate is unknown
RANDOM_SEEDS = 10  # the random baseline is averaged over this many seeds
POSITION_FOLDS = 5  # the position baseline is fitted on the other folds' videos
POSITION_BINS = 50  # relative-position bins of the position prior
# Videos are grouped by duration for the position prior (people cut GIFs differently from a
# 20-second clip and from a 10-minute video); edges in seconds.
POSITION_DURATION_EDGES = (30.0, 60.0, 120.0, 240.0, 480.0)
POSITION_MIN_VIDEOS = 30  # a duration group with fewer training videos uses the pooled prior
POSITION_SMOOTHING = 10.0  # pseudo-videos of the pooled prior mixed into each group's prior
POSITION_BLUR_BINS = 3.0  # Gaussian blur of each prior curve, standard deviation in bins
QVH_CLIP_SECONDS = 2.0  # QVHighlights scores one clip every 2 seconds
QVH_LEVELS = (("Fair", 2), ("Good", 3), ("VeryGood", 4))  # name, minimum saliency for a positive


# -- per-frame ground truth and predictions ----------------------------------------------------


def frame_labels(n_frames: int, intervals: Iterable[tuple[int, int]]) -> np.ndarray:
    """Per-frame ground truth: True inside any interval ``[start_frame, end_frame)``.

    Arguments:
        n_frames: the video's frame count.
        intervals: GIFs as frame ranges, end exclusive; clipped to the video.

    Returns:
        bool array of ``n_frames``.

    Example:
        >>> frame_labels(6, [(1, 3), (2, 4)]).astype(int).tolist()
        [0, 1, 1, 1, 0, 0]
    """
    labels = np.zeros(int(n_frames), dtype=bool)
    for start, end in intervals:
        labels[max(0, int(start)) : max(0, min(int(n_frames), int(end)))] = True
    return labels


def frame_scores_from_segments(
    n_frames: int, segment_frame_bounds: np.ndarray, scores: np.ndarray
) -> np.ndarray:
    """Per-frame predictions: each frame takes its segment's score.

    Frames covered by several (overlapping) segments take the highest; frames in no segment take
    the lowest segment score of the video. NaN scores (segments a model could not judge) count as
    that lowest score too.

    Arguments:
        n_frames: the video's frame count.
        segment_frame_bounds: (n, 2) first frame and frame after the last of each segment.
        scores: (n,) one score per segment.

    Returns:
        float64 array of ``n_frames`` scores.

    Raises:
        UsageError: shapes disagree.

    Example:
        >>> frame_scores_from_segments(5, np.array([[0, 2], [3, 5]]), np.array([0.5, 0.9])).tolist()
        [0.5, 0.5, 0.5, 0.9, 0.9]
    """
    bounds = np.asarray(segment_frame_bounds, dtype=np.int64).reshape(-1, 2)
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(bounds) != len(values):
        raise UsageError("scores", f"{len(values)} scores for {len(bounds)} segments")
    n = int(n_frames)
    finite = values[np.isfinite(values)]
    lowest = float(finite.min()) if len(finite) else 0.0
    values = np.where(np.isfinite(values), values, lowest)
    out = np.full(n, lowest, dtype=np.float64)
    # Paint from the lowest score to the highest, so overlaps keep the highest.
    for i in np.argsort(values, kind="stable"):
        start, end = max(0, int(bounds[i, 0])), min(n, int(bounds[i, 1]))
        if end > start:
            out[start:end] = values[i]
    return out


# -- the metrics -------------------------------------------------------------------------------


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Interpolated average precision of ``scores`` against binary ``labels``.

    The reference computation of the Video2GIF benchmark (``v2g_evaluation.get_ap``), reproduced
    without scikit-learn: one precision/recall point per distinct score (tied scores share a
    point), in order of increasing threshold, then a final point (precision 1, recall 0);
    precision is interpolated in that order by a running maximum; AP is the mean precision over
    the points where recall changes.

    Arguments:
        labels: per-item ground truth, bool or {0, 1}.
        scores: per-item scores, higher meaning more likely positive.

    Returns:
        AP in [0, 1]; 1.0 when every label is positive.

    Raises:
        DatasetError: every label is negative (AP is undefined).
        UsageError: lengths differ, or a score is NaN.

    Example:
        >>> average_precision(np.array([0, 1, 1]), np.array([0.5, 0.5, 0.1]))
        0.6666666666666666
    """
    y = np.asarray(labels).astype(bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(y) != len(s):
        raise UsageError("scores", f"{len(s)} scores for {len(y)} labels")
    if np.isnan(s).any():
        raise UsageError("scores", "a score is NaN")
    positives = int(y.sum())
    if positives == 0:
        raise DatasetError("labels", "no positive label: average precision is undefined")
    if positives == len(y):
        return 1.0
    order = np.argsort(s, kind="mergesort")[::-1]
    s, y = s[order], y[order]
    last_of_tie = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y, dtype=np.float64)[last_of_tie]
    precision = tps / (last_of_tie + 1)
    recall = tps / tps[-1]
    precision = np.maximum.accumulate(np.r_[precision[::-1], 1.0])
    # The reference casts recall to float32 before looking for changes; so do we.
    recall = np.r_[recall[::-1], 0.0].astype(np.float32)
    changes = np.nonzero(np.diff(recall))[0]
    return float(np.mean(precision[changes]))


def nmsd(
    gif_frame_intervals: Sequence[tuple[int, int]],
    frame_scores: np.ndarray,
    n_frames: int | None = None,
    min_inclusion: float = MIN_INCLUSION,
) -> float:
    """Normalised meaningful summary duration of one video (lower is better).

    For each GIF of L frames in a video of V frames: the threshold is the
    ``(1 - min_inclusion) * 100``-th percentile of the predicted scores inside the GIF (numpy's
    linear interpolation); MSD is the number of frames scoring at least that; nMSD is
    ``(MSD - min_inclusion * L) / (V - min_inclusion * L)``. The video's value is the mean over its
    GIFs (the reference's ``mode='mean'``).

    Arguments:
        gif_frame_intervals: each GIF as ``(start_frame, end_frame)``, end exclusive.
        frame_scores: per-frame predicted scores (V of them).
        n_frames: V; defaults to ``len(frame_scores)``.
        min_inclusion: share of the GIF the summary must include.

    Returns:
        nMSD in [0, 1].

    Raises:
        DatasetError: a GIF has no frame inside the video. UsageError: ``n_frames`` disagrees with
        the scores, or no GIF is given.

    Example:
        >>> round(nmsd([(2, 4)], np.array([0.1, 0.9, 0.8, 0.7, 0.3, 0.0])), 4)
        0.2
    """
    scores = np.asarray(frame_scores, dtype=np.float64).reshape(-1)
    v = len(scores) if n_frames is None else int(n_frames)
    if v != len(scores):
        raise UsageError("frame_scores", f"{len(scores)} scores for {v} frames")
    if len(gif_frame_intervals) == 0:
        raise UsageError("gif_frame_intervals", "no GIF to measure")
    ordered = np.sort(scores)
    values = []
    for start, end in gif_frame_intervals:
        lo, hi = max(0, int(start)), min(v, int(end))
        if hi <= lo:
            raise DatasetError(f"GIF [{start}, {end})", f"has no frame inside the {v}-frame video")
        inside = scores[lo:hi]
        length = hi - lo
        threshold = np.percentile(inside, 100.0 * (1.0 - min_inclusion))
        msd = v - np.searchsorted(ordered, threshold, side="left")  # frames scoring >= threshold
        floor = min_inclusion * length
        values.append((msd - floor) / (v - floor))
    return float(np.mean(values))


def _overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) True where interval a[i] and b[j] share a positive length."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    return np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]) > 0


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best scores; ties go to the earlier segment; NaN ranks last."""
    s = np.asarray(scores, dtype=np.float64)
    s = np.where(np.isnan(s), -np.inf, s)
    return np.argsort(-s, kind="stable")[:k]


def recall_at_k(
    segment_bounds: np.ndarray, scores: np.ndarray, gif_bounds: np.ndarray, k: int = RECALL_K
) -> float:
    """Share of a video's GIFs that overlap one of its ``k`` top-scored segments.

    Arguments:
        segment_bounds: (n, 2) segments (seconds or frames, the same unit as ``gif_bounds``).
        scores: (n,) segment scores; ties go to the earlier segment.
        gif_bounds: (m, 2) the video's GIFs.
        k: how many top segments count.

    Returns:
        Fraction in [0, 1] (benchmark-level R@k pools GIFs over videos: see
        :func:`evaluate_videos`).

    Raises:
        UsageError: no GIF, or ``k`` < 1.

    Example:
        >>> recall_at_k(np.array([[0, 3], [3, 6], [6, 9]]), np.array([0.1, 0.9, 0.5]),
        ...             np.array([[4, 5], [0, 1]]), k=1)
        0.5
    """
    gifs = np.asarray(gif_bounds, dtype=np.float64).reshape(-1, 2)
    if len(gifs) == 0:
        raise UsageError("gif_bounds", "no GIF to recall")
    if k < 1:
        raise UsageError("k", "must be at least 1")
    top = np.asarray(segment_bounds, dtype=np.float64).reshape(-1, 2)[_top_k(scores, k)]
    return float(_overlaps(gifs, top).any(axis=1).mean())


def hit_at_1(scores: np.ndarray, labels: np.ndarray) -> float:
    """1.0 when the top-scored item is positive (for any annotator), else 0.0.

    Arguments:
        scores: (n,) scores of clips or segments; the first of tied maxima is the top one.
        labels: (n,) or (n, annotators) binary labels.

    Returns:
        1.0 or 0.0.

    Example:
        >>> hit_at_1(np.array([0.2, 0.9, 0.9]), np.array([0, 1, 0]))
        1.0
    """
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels)
    if len(s) == 0:
        return 0.0
    top = int(np.argmax(np.where(np.isnan(s), -np.inf, s)))
    if top >= len(y):
        return 0.0
    return float(np.max(np.asarray(y[top], dtype=np.float64)) > 0)


# -- evaluating many videos --------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """A model's scores for one video's candidate segments."""

    segments: np.ndarray  # (n, 2) start and end of each segment, seconds
    scores: np.ndarray  # (n,) higher is more GIF-worthy; NaN where the model could not judge

    def __post_init__(self) -> None:
        seg = np.asarray(self.segments, dtype=np.float64).reshape(-1, 2)
        sc = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        if len(seg) != len(sc):
            raise UsageError("scores", f"{len(sc)} scores for {len(seg)} segments")
        object.__setattr__(self, "segments", seg)
        object.__setattr__(self, "scores", sc)


@dataclass(frozen=True)
class VideoEval:
    """The metrics of one video."""

    id: str
    ap: float
    nmsd: float
    gifs: int  # GIFs evaluated
    gif_hits: int  # of those, how many overlap one of the top-k segments
    hit_at_1: float


@dataclass(frozen=True)
class EvalResult:
    """Benchmark metrics over many videos, as fractions in [0, 1] (printed as %).

    ``mAP`` and ``HIT@1`` are means over videos, ``nMSD`` the mean of per-video means over GIFs
    (lower is better), ``recall_at_5`` pools GIFs over videos.
    """

    mAP: float
    nMSD: float
    recall_at_5: float
    hit_at_1: float
    n_videos: int
    n_gifs: int
    name: str = "model"
    k: int = RECALL_K  # the k of recall_at_5 (5 unless asked otherwise)
    per_video: tuple[VideoEval, ...] = field(default=(), repr=False)
    skipped: tuple[str, ...] = ()  # ids of videos that could not be evaluated, with the reason
    runs: int = 1  # >1 for averaged baselines (seeds)

    def to_dict(self) -> dict:
        """Summary figures for JSON output (fractions, not %), plus skipped videos."""
        return {
            "name": self.name,
            "mAP": self.mAP,
            "nMSD": self.nMSD,
            f"R@{self.k}": self.recall_at_5,
            "HIT@1": self.hit_at_1,
            "n_videos": self.n_videos,
            "n_gifs": self.n_gifs,
            "runs": self.runs,
            "skipped": list(self.skipped),
        }


def _frame_grid(video: VideoAnnotation, fps: float | None) -> tuple[float, int]:
    rate = float(video.fps or fps or NOMINAL_FPS)
    frames = video.frames if video.frames else int(round(video.duration * rate))
    return rate, max(1, frames)


def _gif_frames(gif: GifInterval, rate: float, n: int) -> tuple[int, int]:
    if gif.start_frame is not None and gif.end_frame is not None:
        start, end = gif.start_frame, gif.end_frame
    else:
        start, end = int(round(gif.start * rate)), int(round(gif.end * rate))
    return max(0, start), min(n, end)


def evaluate_video(
    video: VideoAnnotation,
    prediction: Prediction,
    k: int = RECALL_K,
    min_inclusion: float = MIN_INCLUSION,
    fps: float | None = None,
) -> VideoEval:
    """All frame-level and segment-level metrics of one video.

    Arguments:
        video: its annotation (duration, frame rate or exact frames, GIFs).
        prediction: scored candidate segments, seconds.
        k: R@k's k.
        min_inclusion: nMSD's share.
        fps: frame rate of the grid when the annotation has none (default :data:`NOMINAL_FPS`).

    Returns:
        VideoEval.

    Raises:
        DatasetError: no GIF of the video has a frame inside it (nothing to evaluate).

    Example:
        >>> video = VideoAnnotation("v", 10.0, 10.0, (GifInterval(2.0, 4.0),))
        >>> pred = Prediction(np.array([[0.0, 3.0], [3.0, 6.0]]), np.array([0.9, 0.1]))
        >>> evaluate_video(video, pred).gif_hits
        1
    """
    rate, n = _frame_grid(video, fps)
    gifs = [_gif_frames(g, rate, n) for g in video.gifs]
    gifs = [g for g in gifs if g[1] > g[0]]
    if not gifs:
        raise DatasetError(video.id, "no GIF lies inside the video")
    seg_frames = np.rint(prediction.segments * rate).astype(np.int64)
    scores = frame_scores_from_segments(n, seg_frames, prediction.scores)
    labels = frame_labels(n, gifs)
    gif_bounds = np.asarray(gifs, dtype=np.float64)
    if len(prediction.scores):
        top = seg_frames[_top_k(prediction.scores, k)]
        hits = int(_overlaps(gif_bounds, top).any(axis=1).sum())
        seg_positive = _overlaps(seg_frames, gif_bounds).any(axis=1)
        hit1 = hit_at_1(prediction.scores, seg_positive)
    else:
        hits, hit1 = 0, 0.0
    return VideoEval(
        id=video.id,
        ap=average_precision(labels, scores),
        nmsd=nmsd(gifs, scores, n, min_inclusion),
        gifs=len(gifs),
        gif_hits=hits,
        hit_at_1=hit1,
    )


def evaluate_videos(
    annotations: Sequence[VideoAnnotation],
    predictions: Mapping[str, Prediction] | Callable[[VideoAnnotation], Prediction | None],
    k: int = RECALL_K,
    min_inclusion: float = MIN_INCLUSION,
    fps: float | None = None,
    name: str = "model",
) -> EvalResult:
    """Evaluate predictions on many videos: mAP, nMSD, R@k, HIT@1.

    Arguments:
        annotations: the videos with their GIFs.
        predictions: ``id -> Prediction``, or a function of the annotation returning one (None
            when it has none).
        k: R@k's k.
        min_inclusion: nMSD's share.
        fps: frame rate of the grid for annotations without one (default :data:`NOMINAL_FPS`).
        name: what the result is called in tables.

    Returns:
        EvalResult. Videos without a prediction or without a GIF inside them are left out, listed
        in ``skipped`` and warned about.

    Raises:
        DatasetError: no video could be evaluated.

    Warns:
        DatasetWarning: once per left-out video.

    Example:
        >>> video = VideoAnnotation("v", 10.0, 10.0, (GifInterval(2.0, 4.0),))
        >>> pred = Prediction(np.array([[0.0, 3.0], [3.0, 6.0]]), np.array([0.9, 0.1]))
        >>> round(evaluate_videos([video], {"v": pred}).recall_at_5, 2)
        1.0
    """
    get = predictions if callable(predictions) else predictions.get
    rows: list[VideoEval] = []
    skipped: list[str] = []
    for video in annotations:
        prediction = get(video) if callable(predictions) else get(video.id)
        if prediction is None:
            skipped.append(f"{video.id}: no prediction")
            continue
        try:
            rows.append(evaluate_video(video, prediction, k, min_inclusion, fps))
        except DatasetError as e:
            skipped.append(f"{video.id}: {e.reason}")
    for reason in skipped:
        warnings.warn(DatasetWarning(f"{name}: video {reason}; left out"), stacklevel=2)
    if not rows:
        raise DatasetError(name, "no video could be evaluated")
    n_gifs = sum(r.gifs for r in rows)
    return EvalResult(
        mAP=float(np.mean([r.ap for r in rows])),
        nMSD=float(np.mean([r.nmsd for r in rows])),
        recall_at_5=sum(r.gif_hits for r in rows) / n_gifs,
        hit_at_1=float(np.mean([r.hit_at_1 for r in rows])),
        n_videos=len(rows),
        n_gifs=n_gifs,
        name=name,
        k=k,
        per_video=tuple(rows),
        skipped=tuple(skipped),
    )


def mean_result(results: Sequence[EvalResult], name: str) -> EvalResult:
    """The average of several evaluations of the same videos (e.g. seeds of a random baseline).

    Raises:
        UsageError: no result to average.

    Example:
        >>> mean_result([run_a, run_b], "random (2 seeds)").runs  # doctest: +SKIP
        2
    """
    if not results:
        raise UsageError("results", "nothing to average")
    return EvalResult(
        mAP=float(np.mean([r.mAP for r in results])),
        nMSD=float(np.mean([r.nMSD for r in results])),
        recall_at_5=float(np.mean([r.recall_at_5 for r in results])),
        hit_at_1=float(np.mean([r.hit_at_1 for r in results])),
        n_videos=results[0].n_videos,
        n_gifs=results[0].n_gifs,
        name=name,
        k=results[0].k,
        skipped=results[0].skipped,
        runs=len(results),
    )


# -- baselines ---------------------------------------------------------------------------------


def uniform_segments(duration: float, length: float, stride: float | None = None) -> np.ndarray:
    """Candidate segments for a video without pixels: windows of ``length`` s every ``stride`` s.

    The last window is cut at the video's end; a video shorter than ``length`` is one segment.

    Example:
        >>> uniform_segments(7.0, 3.0).tolist()
        [[0.0, 3.0], [3.0, 6.0], [6.0, 7.0]]
    """
    if length <= 0 or (stride is not None and stride <= 0):
        raise UsageError("--segment-length", "segment length and stride must be positive")
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


# -- prediction files --------------------------------------------------------------------------


def _prediction_from_obj(obj: dict) -> Prediction:
    if "pred_relevant_windows" in obj:
        windows = obj["pred_relevant_windows"]
        if not isinstance(windows, list) or any(
            not isinstance(w, (list, tuple)) or len(w) < 3 for w in windows
        ):
            raise ValueError("pred_relevant_windows must be a list of [start, end, score]")
        seg = [[w[0], w[1]] for w in windows]
        scores = [np.nan if w[2] is None else w[2] for w in windows]
    elif "segments" in obj:
        items = obj["segments"]
        if not isinstance(items, list) or any(not isinstance(s, dict) for s in items):
            raise ValueError("segments must be a list of objects with start, end, score")
        seg = [[s.get("start"), s.get("end")] for s in items]
        scores = [np.nan if s.get("score") is None else s.get("score") for s in items]
    else:
        raise ValueError("needs pred_relevant_windows or segments")
    try:
        seg_a = np.asarray(seg, dtype=np.float64).reshape(-1, 2)
        sc_a = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("segment times and scores must be numbers") from None
    if not np.isfinite(seg_a).all() or np.any(seg_a[:, 1] <= seg_a[:, 0]):
        raise ValueError("every segment needs finite times and must end after it starts")
    return Prediction(seg_a, sc_a)


def _prediction_id(obj: dict, fallback: str | None) -> str:
    for key in ("id", "vid", "video_id"):
        if obj.get(key) is not None:
            return str(obj[key])
    video = obj.get("video")
    if isinstance(video, dict) and video.get("path"):
        return Path(str(video["path"])).stem
    if fallback:
        return fallback
    raise ValueError("no id (expected id, vid, or video.path)")


def read_predictions(path: str | os.PathLike) -> dict[str, Prediction]:
    """Read predictions: JSON lines, one segments.json, or a folder of them.

    Each video is an object with an id (``id``, ``vid``, or the stem of ``video.path`` as in
    segments.json) and either ``pred_relevant_windows`` (``[[start, end, score], ...]``) or
    ``segments`` (``[{"start", "end", "score"}, ...]``), times in seconds. A folder is searched
    for ``segments.json`` files (the layout ``video2gif make`` writes: ``<stem>/segments.json``).

    Returns:
        ``id -> Prediction``.

    Raises:
        InputError: missing path. DatasetError: a malformed entry (``path:line``), or one id twice.

    Example:
        >>> preds = read_predictions("out/")  # doctest: +SKIP
        >>> preds["clip"].segments.shape  # doctest: +SKIP
        (42, 2)
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file or folder")
    entries: list[tuple[str, dict, str | None]] = []
    if p.is_dir():
        for doc_path in sorted(p.rglob("segments.json")):
            entries.append((str(doc_path), _load_json(doc_path), doc_path.parent.name))
        if not entries:
            raise DatasetError(path, "no segments.json inside this folder")
    else:
        text = p.read_text(encoding="utf-8-sig")
        doc = None
        if p.suffix.lower() != ".jsonl":
            try:
                doc = json.loads(text)  # one document: a segments.json or a list of entries
            except json.JSONDecodeError:
                doc = None
        if isinstance(doc, (dict, list)):
            docs = doc if isinstance(doc, list) else [doc]
            entries = [(str(path) if isinstance(doc, dict) else f"{path}[{i}]", d,
                        p.stem if isinstance(doc, dict) else None) for i, d in enumerate(docs)]
        else:
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    entries.append((f"{path}:{number}", json.loads(line), None))
                except json.JSONDecodeError as e:
                    raise DatasetError(f"{path}:{number}", f"not valid JSON ({e.msg})") from None
    out: dict[str, Prediction] = {}
    for where, obj, fallback in entries:
        try:
            if not isinstance(obj, dict):
                raise ValueError("each prediction must be a JSON object")
            vid = _prediction_id(obj, fallback)
            pred = _prediction_from_obj(obj)
        except (ValueError, UsageError) as e:
            raise DatasetError(where, str(e)) from None
        if vid in out:
            raise DatasetError(where, f"a second prediction for video {vid}")
        out[vid] = pred
    return out


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}:{e.lineno}", f"not valid JSON ({e.msg})") from None


# -- predictions from a model ----------------------------------------------------------------

VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v", ".flv", ".mpg", ".mpeg")


def locate_video(
    video: VideoAnnotation, folder: str | os.PathLike | None, base: str | os.PathLike | None = None
) -> Path | None:
    """The file of an annotated video: its ``path`` (relative to ``base``, the annotation file's
    folder), else ``<folder>/<id>.<ext>`` for a usual video extension; None if neither exists.

    Example:
        >>> locate_video(VideoAnnotation("abc", 9.0, None, ()), "videos/")  # doctest: +SKIP
        PosixPath('videos/abc.mp4')
    """
    if video.path:
        p = Path(video.path)
        for candidate in (p, Path(base) / p if base is not None else None,
                          Path(folder) / p.name if folder is not None else None):
            if candidate is not None and candidate.is_file():
                return candidate
    if folder is not None:
        for ext in VIDEO_EXTENSIONS:
            for name in (video.id + ext, video.id + ext.upper()):
                candidate = Path(folder) / name
                if candidate.is_file():
                    return candidate
    return None


def model_predictions(
    annotations: Sequence[VideoAnnotation],
    model,
    folder: str | os.PathLike | None,
    base: str | os.PathLike | None = None,
    on_video: Callable[[str, str | None], None] | None = None,
    features=None,
) -> tuple[dict[str, Prediction], dict[str, str]]:
    """Run a model over the annotated videos found on disk and collect its segment scores.

    Arguments:
        annotations: the videos (each distinct id is scored once).
        model: a :class:`~video2gif.scorers.Scorer`, model name or model file.
        folder: where the videos are (``<id>.<ext>``); see :func:`locate_video`.
        base: the annotation file's folder, for relative ``path`` fields.
        on_video: called as ``on_video(id, error_or_None)`` after each video.
        features: a :class:`~video2gif.features.extract.FeatureExtractor` or its options, as
            :func:`~video2gif.pipeline.find_highlights` takes; one extractor (and its loaded
            backbone) serves every video. Default: the pipeline's default features.

    Returns:
        ``(predictions, failures)``: ``id -> Prediction`` for every video scored, and
        ``id -> reason`` for those missing or failing.

    Raises:
        ModelError: the model cannot be loaded.

    Example:
        >>> preds, failed = model_predictions(videos, "prior", "videos/")  # doctest: +SKIP
    """
    from .analysis import analyse, feature_extractor  # decoding is only needed here
    from .errors import Video2GifError
    from .scorers import Scorer, load_model

    scorer = model if isinstance(model, Scorer) else load_model(model)
    features = feature_extractor(features, scorer.needs())  # the backbone loads once, not per video
    predictions: dict[str, Prediction] = {}
    failures: dict[str, str] = {}
    for video in annotations:
        if video.id in predictions or video.id in failures:
            continue
        path = locate_video(video, folder, base)
        if path is None:
            failures[video.id] = f"no video file for it in {folder}"
        else:
            try:
                # The same analysis as training's, the video's category and tags included.
                analysis = analyse(path, features=features, consumers=scorer.consumers(),
                                   category=video.category, tags=video.tags)
                scores = np.asarray(scorer.score(analysis.features), dtype=np.float64)
            except Video2GifError as e:
                failures[video.id] = str(e)
            else:
                predictions[video.id] = Prediction(analysis.bounds, scores)
        if on_video is not None:
            on_video(video.id, failures.get(video.id))
    return predictions, failures


# -- QVHighlights ------------------------------------------------------------------------------


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON-lines file into dicts.

    Raises:
        InputError: missing file. DatasetError: a line that is not a JSON object (``path:line``).

    Example:
        >>> labels = read_jsonl("highlight_val_release.jsonl")  # doctest: +SKIP
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    out = []
    for number, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}:{number}", f"not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}:{number}", "not a JSON object")
        out.append(obj)
    return out


def _qvh_ap(y_true: np.ndarray, y_predict: np.ndarray) -> float:
    # The QVHighlights script scores a clip list with no positive as 0, not as an error.
    if len(set(y_true.tolist())) == 1:
        return 0.0 if y_true[0] == 0 else 1.0
    return average_precision(y_true, y_predict)


def qvhighlights_highlight_metrics(
    predictions: Sequence[dict], ground_truth: Sequence[dict]
) -> dict[str, dict[str, float]]:
    """QVHighlights highlight-detection metrics (HL-mAP and HL-Hit1 at three saliency levels).

    As the benchmark's ``standalone_eval/eval.py``: every 2-second clip of a video gets its three
    annotators' saliency (0 outside ``relevant_clip_ids``); at each level (Fair >= 2, Good >= 3,
    VeryGood >= 4) a clip is positive for an annotator when its saliency reaches the level.
    HL-mAP is the mean AP over queries and annotators (a prediction list is cut or zero-padded to
    the video's clips; an annotator with no positive clip scores 0); HL-Hit1 is the share of
    queries whose top-scored clip is positive for at least one annotator.

    Arguments:
        predictions: dicts with ``qid`` and ``pred_saliency_scores`` (one score per clip).
        ground_truth: dicts with ``qid``, ``duration``, ``relevant_clip_ids``, ``saliency_scores``.

    Returns:
        ``{"HL-min-Fair": {"HL-mAP": f, "HL-Hit1": f}, ...}`` as fractions in [0, 1].

    Raises:
        DatasetError: the query ids of predictions and ground truth differ, or an entry lacks a
        field.

    Example:
        >>> gt = [{"qid": 1, "duration": 6, "relevant_clip_ids": [1],
        ...        "saliency_scores": [[4, 4, 4]]}]
        >>> pred = [{"qid": 1, "pred_saliency_scores": [0.1, 0.9, 0.2]}]
        >>> qvhighlights_highlight_metrics(pred, gt)["HL-min-VeryGood"]["HL-Hit1"]
        1.0
    """
    try:
        pred_by_qid = {d["qid"]: np.asarray(d["pred_saliency_scores"], dtype=np.float64)
                       for d in predictions}
        gt_full = {d["qid"]: _qvh_gt_scores(d) for d in ground_truth}
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise DatasetError("QVHighlights entry", f"missing or malformed field ({e})") from None
    if set(pred_by_qid) != set(gt_full):
        missing = len(set(gt_full) - set(pred_by_qid))
        extra = len(set(pred_by_qid) - set(gt_full))
        raise DatasetError(
            "predictions",
            f"query ids differ from the ground truth ({missing} missing, {extra} extra)",
        )
    out = {}
    for name, level in QVH_LEVELS:
        aps, hits = [], []
        for qid, scores in pred_by_qid.items():
            binary = (gt_full[qid] >= level).astype(np.float64)  # (clips, 3)
            hits.append(hit_at_1(scores, binary) if len(scores) else 0.0)
            n = len(binary)
            fitted = np.zeros(n)
            fitted[: min(n, len(scores))] = scores[:n]
            for annotator in range(binary.shape[1]):
                aps.append(_qvh_ap(binary[:, annotator], fitted))
        out[f"HL-min-{name}"] = {"HL-mAP": float(np.mean(aps)), "HL-Hit1": float(np.mean(hits))}
    return out


def _qvh_gt_scores(d: dict) -> np.ndarray:
    n = int(d["duration"] / QVH_CLIP_SECONDS)
    full = np.zeros((n, 3))
    ids = np.asarray(d["relevant_clip_ids"], dtype=np.int64)
    if len(ids):
        full[ids] = np.asarray(d["saliency_scores"], dtype=np.float64).reshape(len(ids), -1)
    return full


def format_table(results: Sequence[EvalResult]) -> str:
    """A plain-text table of results, figures in %.

    Example:
        >>> print(format_table([result, random_result]))  # doctest: +SKIP
    """
    k = results[0].k if results else RECALL_K
    header = f"{'':<24}{'mAP':>8}{'nMSD':>8}{f'R@{k}':>8}{'HIT@1':>8}{'videos':>8}{'GIFs':>8}"
    lines = [header]
    for r in results:
        lines.append(
            f"{r.name:<24}{100 * r.mAP:>7.2f}%{100 * r.nMSD:>7.2f}%{100 * r.recall_at_5:>7.2f}%"
            f"{100 * r.hit_at_1:>7.2f}%{r.n_videos:>8d}{r.n_gifs:>8d}"
        )
    return "\n".join(lines)

