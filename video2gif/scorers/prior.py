"""The prior: an interpretable weighted sum of cheap signals, no learning.

Example:
    >>> PriorScorer().describe()["weights"]["sharpness"]
    0.2
"""

from __future__ import annotations

import numpy as np

from ..features import SegmentFeatures
from .base import Scorer

# The prior's weights, all in one place. Each signal is in [0, 1]; the score is their weighted sum.
# Motion is scored by how close it is to a lively-but-readable level (static and chaotic both
# score low), which is what "motion_appeal" measures; the transition term is a penalty.
PRIOR_WEIGHTS: dict[str, float] = {
    "motion_appeal": 0.35,
    "sharpness": 0.20,
    "exposure": 0.20,
    "colourfulness": 0.15,
    "stability": 0.10,  # no flashes or cuts inside the segment
    "near_transition": -0.30,
    # GIFs favour people and lively moments (video2gif.features: faces, audio, novelty). A video
    # without sound or faces lacks those signals; within one video the ranking stays fair.
    "faces": 0.25,  # share of sampled frames showing a frontal face
    "face_size": 0.15,  # how close-up the largest face is
    "sound_excitement": 0.20,  # louder than the video's own median level
    "novelty": 0.10,  # content unlike the video's typical content
}


class PriorScorer(Scorer):
    """Weighted sum of interpretable signals; weights default to :data:`PRIOR_WEIGHTS`."""

    name = "prior"

    def __init__(self, weights: dict[str, float] | None = None) -> None:
        self.weights = dict(PRIOR_WEIGHTS if weights is None else weights)

    def score(self, features: SegmentFeatures) -> np.ndarray:
        n = len(features)
        total = np.zeros(n, dtype=np.float64)
        for name, weight in self.weights.items():
            values = features.signals.get(name)
            if values is None:
                continue  # a signal this video lacks (e.g. no audio) simply does not count
            total += weight * np.asarray(values, dtype=np.float64)
        return total

    def describe(self) -> dict:
        return {"name": self.name, "weights": self.weights}


def load_prior(**_options) -> PriorScorer:
    """Registry factory: ``load_model("prior")``."""
    return PriorScorer()
