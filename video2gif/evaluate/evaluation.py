"""Evaluate one set of segment scores against annotated videos: per video and over a benchmark.

Example:
    >>> result = evaluate_videos(videos, predictions, name="model")  # doctest: +SKIP
    >>> print(format_table([result]))  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..datasets import GifInterval, VideoAnnotation
from ..errors import DatasetError, DatasetWarning, UsageError
from .metrics import (
    MIN_INCLUSION,
    RECALL_K,
    average_precision,
    frame_labels,
    frame_scores_from_segments,
    hit_at_1,
    nmsd,
    overlaps,
    top_k,
)

NOMINAL_FPS = 25.0  # frames per second of the grid for videos whose frame rate is unknown


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
        top = seg_frames[top_k(prediction.scores, k)]
        hits = int(overlaps(gif_bounds, top).any(axis=1).sum())
        seg_positive = overlaps(seg_frames, gif_bounds).any(axis=1)
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
