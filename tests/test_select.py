from __future__ import annotations

import numpy as np

from video2gif.select import select_top_k


def test_best_first_without_overlap():
    bounds = np.array([[0, 3], [1, 4], [2, 5], [6, 9], [10, 13]], float)
    scores = np.array([0.5, 0.9, 0.8, 0.7, 0.1])
    assert select_top_k(bounds, scores, k=3) == [1, 3, 4]


def test_near_duplicates_are_suppressed():
    bounds = np.array([[0, 3], [10, 13], [20, 23]], float)
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 0.0])
    descriptors = np.stack([a, a, b])  # segment 1 repeats segment 0
    scores = np.array([0.9, 0.8, 0.7])
    assert select_top_k(bounds, scores, k=3, descriptors=descriptors) == [0, 2]
    assert select_top_k(bounds, scores, k=3) == [0, 1, 2]


def test_nan_scores_are_never_picked_and_k_is_a_maximum():
    bounds = np.array([[0, 3], [4, 7]], float)
    assert select_top_k(bounds, np.array([np.nan, 0.1]), k=5) == [1]
