"""The scorer of a trained RankNet model file (``video2gif train`` writes them).

Example:
    >>> scorer = load_model_file("ranknet.npz")  # doctest: +SKIP
    >>> scorer.needs().backbone  # doctest: +SKIP
    'efficientnet-lite0'
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelError
from ..features import FeatureNeeds, SegmentFeatures
from ..ranknet import RankNetModel, backbone_id, read_model
from .base import Scorer


class RankNetScorer(Scorer):
    """Scores segments with a trained :class:`RankNetModel`.

    A model with a backbone reads its pooled embeddings from ``features.embeddings``; it
    declares that backbone in :meth:`needs`, so the analysis computes them with it (or refuses
    another) before decoding. When ``features.backbone_ids`` names the backbone that made them
    (``name → name/version/weights``), it is checked against the model's again.

    Arguments:
        model: the trained model.
        source: where it came from (a path or registry name), for messages and the report.

    Example:
        >>> scorer = RankNetScorer(read_model("ranknet.npz"), "ranknet.npz")  # doctest: +SKIP
        >>> scores = scorer.score(features)  # doctest: +SKIP
    """

    name = "ranknet"

    def __init__(self, model: RankNetModel, source: str = "ranknet") -> None:
        self.model = model
        self.source = str(source)

    def inputs(self, features: SegmentFeatures) -> np.ndarray:
        """The raw input matrix of ``features`` (see :meth:`FeatureLayout.assemble`).

        Raises:
            ModelError: the features come from another backbone, version or feature layout.
        """
        layout = self.model.layout
        if layout.backbone:
            made_by = features.backbone_ids.get(layout.backbone)
            if made_by is not None:
                want = backbone_id(layout)
                if want is not None and str(made_by) != want:
                    raise ModelError(
                        self.source,
                        f"model was trained on {want} features, these come from {made_by}",
                    )
        return layout.assemble(features, self.source)

    def needs(self) -> FeatureNeeds:
        return self.model.layout.needs(self.source)

    def score(self, features: SegmentFeatures) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.model.predict(self.inputs(features))

    def describe(self) -> dict:
        meta = self.model.meta
        layout = self.model.layout
        return {
            "name": self.name,
            "source": self.source,
            "backbone": layout.backbone,
            "signals": list(layout.signals),
            "context": list(layout.context),
            "loss": meta.get("loss"),
            "ensemble": len(self.model.members),
            "trained_on": meta.get("training", {}).get("description"),
            "metrics": meta.get("metrics", {}).get("validation"),
        }


def load_model_file(path: str | os.PathLike, **_options) -> RankNetScorer:
    """Load a RankNet model file as a scorer (what :func:`video2gif.scorers.load_model` calls).

    Arguments:
        path: the model file.

    Returns:
        A :class:`RankNetScorer`.

    Raises:
        ModelError: the file is not a usable model (see :func:`read_model`), or it needs a
            backbone this installation does not have.
    """
    model = read_model(path)
    if model.layout.backbone:
        from ..features.backbones import BACKBONES

        if model.layout.backbone not in BACKBONES:
            raise ModelError(
                path,
                f"model was trained on backbone {model.layout.backbone}, which this installation "
                f"lacks (it has {', '.join(sorted(BACKBONES))})",
            )
    return RankNetScorer(model, str(path))
