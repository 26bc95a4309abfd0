"""Blends of scorers, and the default scorer: the visual prior blended with the shipped context
RankNet (where in a video, how long).

Example:
    >>> blend = load_default()
    >>> [d["name"] for d in blend.describe()["parts"]]
    ['prior', 'ranknet']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import UsageError
from ..features import FeatureNeeds, SegmentFeatures
from .base import DEFAULT_MODEL, Scorer
from .context import load_context_model
from .prior import PriorScorer


def zscore(scores: np.ndarray) -> np.ndarray:
    """Scores standardised within one video (mean 0, sd 1; all 0 when they are constant).

    RankNet scores are only meaningful relative to the other segments of the same video (the
    model is trained on within-video pairs), so combine scorers on this scale.

    Example:
        >>> zscore(np.array([1.0, 2.0, 3.0])).round(3).tolist()
        [-1.225, 0.0, 1.225]
    """
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    out = np.full_like(scores, np.nan)
    if not finite.any():
        return out
    mu = scores[finite].mean()
    sd = scores[finite].std()
    out[finite] = (scores[finite] - mu) / sd if sd > 1e-12 else 0.0
    return out


CONTEXT_WEIGHT = 0.5  # suggested weight of the context model's z-scores beside a visual scorer's


class BlendedScorer(Scorer):
    """A weighted sum of scorers' within-video z-scores (see :func:`zscore`).

    Scorers' raw scales differ (a prior's weighted sum, a RankNet's margin units), so each is
    standardised within the video first. A segment one scorer cannot judge (NaN) takes that
    scorer's mean, 0, so the others still rank it.

    Arguments:
        parts: ``(scorer, weight)`` pairs.
        name: the blend's name in reports.

    Example:
        >>> from video2gif.scorers import PriorScorer, load_context_model
        >>> blend = BlendedScorer([(PriorScorer(), 1.0), (load_context_model(), CONTEXT_WEIGHT)])
        >>> [d["name"] for d in blend.describe()["parts"]]
        ['prior', 'ranknet']
    """

    def __init__(self, parts: Sequence[tuple[Scorer, float]], name: str = "blend") -> None:
        if not parts:
            raise UsageError("parts", "a blend needs at least one scorer")
        self.parts = [(scorer, float(weight)) for scorer, weight in parts]
        self.name = name

    def needs(self) -> FeatureNeeds:
        needs = FeatureNeeds(source=self.name)
        for scorer, _ in self.parts:
            needs = needs.merge(scorer.needs())
        return needs

    def consumers(self) -> list:
        return [c for scorer, _ in self.parts for c in scorer.consumers()]

    def score(self, features: SegmentFeatures) -> np.ndarray:
        total = np.zeros(len(features), dtype=np.float64)
        for scorer, weight in self.parts:
            z = zscore(np.asarray(scorer.score(features), dtype=np.float64))
            total += weight * np.nan_to_num(z, nan=0.0)
        return total

    def describe(self) -> dict:
        return {
            "name": self.name,
            "combination": "sum of weight × within-video z-score",
            "parts": [{**scorer.describe(), "weight": weight} for scorer, weight in self.parts],
        }


def load_default(**_options) -> BlendedScorer:
    """Registry factory of :data:`~video2gif.scorers.base.DEFAULT_MODEL`: the prior blended with
    the shipped context RankNet, 1 : :data:`CONTEXT_WEIGHT`."""
    return BlendedScorer([(PriorScorer(), 1.0), (load_context_model(), CONTEXT_WEIGHT)],
                         name=DEFAULT_MODEL)
