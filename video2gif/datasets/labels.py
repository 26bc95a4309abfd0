"""Training labels of candidate segments from a video's GIFs.

Example:
    >>> label_segments(np.array([[2.0, 4.0], [10.0, 13.0], [4.0, 7.0]]),
    ...                np.array([[2.0, 5.0]])).tolist()
    [1, 0, -1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import UsageError
from .types import GifInterval

POSITIVE_COVERAGE = 0.66  # a segment is positive when one GIF covers at least this fraction of it


def label_segments(
    segment_bounds: np.ndarray,
    gifs: Sequence[GifInterval] | np.ndarray,
    positive_coverage: float = POSITIVE_COVERAGE,
) -> np.ndarray:
    """Label candidate segments from a video's GIFs for training a ranker.

    A segment is positive (1) when one GIF covers at least ``positive_coverage`` of it, negative
    (0) when it overlaps no GIF at all, and unused (-1) otherwise.

    Arguments:
        segment_bounds: (n, 2) start and end of each segment, seconds.
        gifs: the video's GIFs, as :class:`GifInterval` or an (m, 2) array of seconds.
        positive_coverage: fraction in (0, 1] of a segment one GIF must cover.

    Returns:
        int8 array of n labels in {1, 0, -1}.

    Raises:
        UsageError: bad shapes, a segment that does not end after it starts, or a coverage outside
        (0, 1].

    Example:
        >>> label_segments(np.array([[0.0, 3.0]]), np.array([[0.0, 2.0]])).tolist()
        [1]
    """
    if not 0 < positive_coverage <= 1:
        raise UsageError("positive_coverage", f"must be in (0, 1], not {positive_coverage}")
    seg = np.asarray(segment_bounds, dtype=np.float64).reshape(-1, 2)
    if np.any(seg[:, 1] <= seg[:, 0]):
        raise UsageError("segment_bounds", "every segment must end after it starts")
    if isinstance(gifs, np.ndarray):
        g = np.asarray(gifs, dtype=np.float64).reshape(-1, 2)
    else:
        g = np.array([[x.start, x.end] for x in gifs], dtype=np.float64).reshape(-1, 2)
    labels = np.zeros(len(seg), dtype=np.int8)
    if len(g) == 0 or len(seg) == 0:
        return labels
    lo = np.maximum(seg[:, None, 0], g[None, :, 0])
    overlap = np.clip(np.minimum(seg[:, None, 1], g[None, :, 1]) - lo, 0.0, None)
    coverage = overlap / (seg[:, 1] - seg[:, 0])[:, None]
    # A hair of tolerance so a GIF that covers exactly 66% in decimal is not lost to rounding.
    positive = coverage.max(axis=1) >= positive_coverage - 1e-9
    touched = overlap.max(axis=1) > 0
    labels[touched] = -1
    labels[positive] = 1
    return labels
