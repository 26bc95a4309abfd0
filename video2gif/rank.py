"""Score each segment's GIF-suitability.

A :class:`Scorer` maps :class:`~video2gif.features.SegmentFeatures` to one score per segment,
higher meaning more GIF-worthy. The default is :class:`PriorScorer`, an interpretable weighted sum
of cheap signals; learned models are scorers too and load through :func:`load_model`, by registry
name or file path.

Example:
    >>> model = load_model("prior")
    >>> model.name
    'prior'
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from .decode import FrameConsumer
from .errors import ModelError
from .features import SegmentFeatures

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


class Scorer(ABC):
    """Anything that maps segment features to scores.

    Required: :meth:`score`. Optional hooks: :meth:`consumers` (extra frame consumers the scorer
    needs in the decode pass, e.g. a backbone) and :meth:`describe` (the report's ``model``).
    """

    name: ClassVar[str] = "scorer"

    def consumers(self) -> list[FrameConsumer]:
        """Frame consumers to run in the decode pass; their results reach :meth:`score`."""
        return []

    @abstractmethod
    def score(self, features: SegmentFeatures) -> np.ndarray:
        """One float per segment; NaN where this scorer cannot judge a segment."""

    def describe(self) -> dict:
        """Metadata for segments.json's ``model`` object."""
        return {"name": self.name}


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


def _original(**options) -> Scorer:
    from .features.original import load_original  # C3D: torch and the user's weights files

    return load_original(**options)


def _context(**_options) -> Scorer:
    from .ranknet import load_context_model  # the shipped context RankNet (PHD-GIFs)

    return load_context_model()


def _default(**_options) -> Scorer:
    """The visual prior blended with the shipped context RankNet (where in a video, how long)."""
    from .ranknet import CONTEXT_WEIGHT, BlendedScorer, load_context_model

    return BlendedScorer([(PriorScorer(), 1.0), (load_context_model(), CONTEXT_WEIGHT)],
                         name=DEFAULT_MODEL)


DEFAULT_MODEL = "default"  # what make/segments/find_highlights use unless told otherwise

# Registry of named models: name -> factory taking keyword options (e.g. weights_dir).
MODELS: dict[str, Callable[..., Scorer]] = {
    DEFAULT_MODEL: _default,
    "prior": lambda **_: PriorScorer(),
    "video2gif-original": _original,
    "context": _context,
}


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL, **options) -> Scorer:
    """Load a scorer by registry name or from a model file.

    Arguments:
        name_or_path: a key of :data:`MODELS` or the path of a saved model file.
        **options: passed to the model's factory (e.g. ``weights_dir`` for the original model).

    Returns:
        A ready :class:`Scorer`.

    Raises:
        ModelError: unknown name, or a file that is missing or not a model.
    """
    key = str(name_or_path)
    if key in MODELS:
        return MODELS[key](**options)
    path = Path(key)
    if path.suffix or os.sep in key:
        if not path.exists():
            raise ModelError(key, "no such model file")
        return _load_model_file(path, **options)
    raise ModelError(key, f"unknown model; choose one of {', '.join(sorted(MODELS))} or a file")


def _load_model_file(path: Path, **options) -> Scorer:
    """Model files are read by the training module, which owns their format."""
    from .ranknet import load_model_file

    return load_model_file(path, **options)
