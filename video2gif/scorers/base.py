"""What a scorer is, the registry of named scorers, and :func:`load_model`.

A :class:`Scorer` maps :class:`~video2gif.features.SegmentFeatures` to one score per segment,
higher meaning more GIF-worthy, and declares in :meth:`Scorer.needs` which features it reads
beyond the cheap signals, so :func:`video2gif.find_highlights` computes them, or refuses a
mismatch, before decoding. Scorers load by registry name (:data:`MODELS`) or from a model file.

A new scorer is one new module in this package plus one line in :data:`MODELS`.

Example:
    >>> model = load_model("prior")
    >>> model.name, model.needs().backbone
    ('prior', None)
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from .._lazy import resolve
from ..decode import FrameConsumer
from ..errors import ModelError
from ..features import FeatureNeeds, SegmentFeatures


class Scorer(ABC):
    """Anything that maps segment features to scores.

    Required: :meth:`score`. Optional hooks: :meth:`needs` (features beyond the cheap signals,
    e.g. a backbone's embeddings), :meth:`consumers` (frame consumers of its own in the decode
    pass) and :meth:`describe` (the report's ``model``).
    """

    name: ClassVar[str] = "scorer"

    def needs(self) -> FeatureNeeds:
        """The features :meth:`score` reads besides the signals (default: none)."""
        return FeatureNeeds(source=self.name)

    def consumers(self) -> list[FrameConsumer]:
        """Frame consumers to run in the decode pass; their results reach :meth:`score`."""
        return []

    @abstractmethod
    def score(self, features: SegmentFeatures) -> np.ndarray:
        """One float per segment; NaN where this scorer cannot judge a segment."""

    def describe(self) -> dict:
        """Metadata for segments.json's ``model`` object."""
        return {"name": self.name}


DEFAULT_MODEL = "default"  # what make/segments/find_highlights use unless told otherwise

# Registry of named scorers: name -> "module:factory" in this package, imported on first use (the
# RankNet scorers need torch, the original model C3D); each factory takes keyword options such as
# weights_dir and ignores the ones it does not use.
MODELS: dict[str, str | Callable[..., Scorer]] = {
    DEFAULT_MODEL: "blend:load_default",
    "prior": "prior:load_prior",
    "context": "context:load_context_model",
    "video2gif-original": "original:load_original",
}
MODEL_FILE_FACTORY = "model_file:load_model_file"  # what reads a model file given by path


def register_model(name: str, factory: str | Callable[..., Scorer]) -> None:
    """Make ``factory`` (a callable, or ``"module:function"`` in this package) available as
    ``load_model(name)`` and ``--model NAME``."""
    MODELS[name] = factory


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL, **options) -> Scorer:
    """Load a scorer by registry name or from a model file.

    Arguments:
        name_or_path: a key of :data:`MODELS` or the path of a saved model file.
        **options: passed to the model's factory (e.g. ``weights_dir`` for the original model).

    Returns:
        A ready :class:`Scorer`.

    Raises:
        ModelError: unknown name, or a file that is missing or not a model.

    Example:
        >>> load_model("context").needs().context
        ('position', 'duration')
    """
    key = str(name_or_path)
    if key in MODELS:
        return resolve(MODELS[key], __package__)(**options)
    path = Path(key)
    if path.suffix or os.sep in key:
        if not path.exists():
            raise ModelError(key, "no such model file")
        return resolve(MODEL_FILE_FACTORY, __package__)(path, **options)
    raise ModelError(key, f"unknown model; choose one of {', '.join(sorted(MODELS))} or a file")
