"""Benchmark metrics, exactly as the benchmarks' reference evaluations compute them.

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

Everything is vectorised numpy; scikit-learn is only used by the tests, to cross-check.

Example:
    >>> labels = np.array([1, 0, 1, 0], dtype=bool)
    >>> round(average_precision(labels, np.array([0.9, 0.8, 0.7, 0.1])), 4)
    0.8333
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import DatasetError, UsageError

MIN_INCLUSION = 0.5  # nMSD: share of a GIF's frames the summary must include
RECALL_K = 5  # R@k: how many top segments count


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


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) True where interval a[i] and b[j] share a positive length."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    return np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]) > 0


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
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
    top = np.asarray(segment_bounds, dtype=np.float64).reshape(-1, 2)[top_k(scores, k)]
    return float(overlaps(gifs, top).any(axis=1).mean())


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
