"""Choose the top-k segments: best first, no two overlapping in time, no two that look the same.

Example:
    >>> import numpy as np
    >>> bounds = np.array([[0, 3], [1, 4], [5, 8]], dtype=float)
    >>> select_top_k(bounds, np.array([0.9, 0.8, 0.5]), k=2)
    [0, 2]
"""

from __future__ import annotations

import numpy as np

DUPLICATE_SIMILARITY = 0.8  # cosine similarity of descriptors at or above which two picks look alike
MIN_GAP_SECONDS = 0.0  # picks must not overlap; raise to keep them further apart


def select_top_k(
    bounds: np.ndarray,
    scores: np.ndarray,
    k: int,
    descriptors: np.ndarray | None = None,
    duplicate_similarity: float = DUPLICATE_SIMILARITY,
    min_gap: float = MIN_GAP_SECONDS,
) -> list[int]:
    """Greedy selection by score with temporal non-overlap and near-duplicate suppression.

    Arguments:
        bounds: (n, 2) start and end seconds of each candidate.
        scores: (n,) scores; NaN candidates are never picked.
        k: how many picks at most.
        descriptors: (n, d) unit vectors describing how each candidate looks (None: no check).
        duplicate_similarity: cosine similarity at or above which a candidate is a near-duplicate
            of an earlier pick.
        min_gap: seconds required between picks.

    Returns:
        Indices of the picks, best first. Fewer than ``k`` when the video has fewer distinct moments.
    """
    scores = np.asarray(scores, dtype=np.float64)
    order = [i for i in np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
             if not np.isnan(scores[i])]
    picks: list[int] = []
    for i in order:
        if len(picks) >= k:
            break
        start, end = bounds[i]
        if any(start < bounds[j][1] + min_gap and bounds[j][0] < end + min_gap for j in picks):
            continue
        if descriptors is not None and picks:
            similarity = descriptors[picks] @ descriptors[i]
            if float(similarity.max()) >= duplicate_similarity:
                continue
        picks.append(int(i))
    return picks
