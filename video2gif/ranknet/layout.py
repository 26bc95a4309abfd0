"""Which columns a RankNet reads: :class:`FeatureLayout` (backbone embedding, signals, context),
and the checks that the features at hand were made the way the model's were.

Example:
    >>> layout_for_backbone(None, ["sharpness"], ["position"]).names()
    ['signal:sharpness', 'context:start_log', 'context:relative_position']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..context import TAG_DIM, YOUTUBE_CATEGORIES, check_blocks, context_features, context_names
from ..errors import ModelError
from ..features import FeatureNeeds, SegmentFeatures


@dataclass(frozen=True)
class FeatureLayout:
    """Which columns a model reads, in order: backbone embedding, then signals, then context.

    ``backbone`` names an entry of :attr:`SegmentFeatures.embeddings` (None: no visual
    embedding); ``signals`` names entries of :attr:`SegmentFeatures.signals`; ``context`` lists
    the :mod:`video2gif.context` blocks.
    """

    backbone: str | None = None  # embedding name, e.g. "efficientnet-lite0"
    backbone_version: str | None = None  # the backbone's version (architecture, preprocessing)
    backbone_weights: str = ""  # fingerprint of the backbone's weights ("" when unknown)
    backbone_dim: int = 0  # columns of the pooled embedding (mean + max: twice the backbone's)
    signals: tuple[str, ...] = ()  # signal names, in column order
    context: tuple[str, ...] = ()  # context blocks, in layout order
    categories: tuple[str, ...] = YOUTUBE_CATEGORIES  # vocabulary of the category block
    tag_dim: int = TAG_DIM  # columns of the tags block

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", check_blocks(self.context))
        object.__setattr__(self, "signals", tuple(self.signals))
        object.__setattr__(self, "categories", tuple(self.categories))

    def names(self) -> list[str]:
        """One name per input column."""
        names = [f"{self.backbone}[{i}]" for i in range(self.backbone_dim)] if self.backbone else []
        names += [f"signal:{s}" for s in self.signals]
        return names + [
            f"context:{c}" for c in context_names(self.context, self.categories, self.tag_dim)
        ]

    @property
    def dim(self) -> int:
        """Number of input columns."""
        return len(self.names())

    def to_dict(self) -> dict:
        out = asdict(self)
        out["dim"] = self.dim
        return out

    @classmethod
    def from_dict(cls, d: dict) -> FeatureLayout:
        return cls(
            backbone=d.get("backbone"),
            backbone_version=d.get("backbone_version"),
            backbone_weights=str(d.get("backbone_weights") or ""),
            backbone_dim=int(d.get("backbone_dim", 0)),
            signals=tuple(d.get("signals", ())),
            context=tuple(d.get("context", ())),
            categories=tuple(d.get("categories", YOUTUBE_CATEGORIES)),
            tag_dim=int(d.get("tag_dim", TAG_DIM)),
        )

    def differences(self, other: FeatureLayout) -> list[str]:
        """What differs between this (the model's) layout and ``other`` (the data's), in words."""
        out = []
        if (self.backbone, self.backbone_dim) != (other.backbone, other.backbone_dim):
            out.append(
                f"backbone {_backbone_words(self.backbone, self.backbone_dim)} "
                f"vs {_backbone_words(other.backbone, other.backbone_dim)}"
            )
        elif self.backbone and self.backbone_version != other.backbone_version:
            out.append(
                f"backbone version {self.backbone_version} vs {other.backbone_version}"
            )
        elif self.backbone and self.backbone_weights != other.backbone_weights:
            out.append(
                f"backbone weights {self.backbone_weights} vs {other.backbone_weights}"
            )
        if self.signals != other.signals:
            out.append(f"signals [{', '.join(self.signals)}] vs [{', '.join(other.signals)}]")
        if self.context != other.context:
            out.append(f"context [{', '.join(self.context)}] vs [{', '.join(other.context)}]")
        elif (self.categories, self.tag_dim) != (other.categories, other.tag_dim):
            out.append("context vocabulary (categories or tag embedding size)")
        return out

    def needs(self, source: str = "") -> FeatureNeeds:
        """What features a model of this layout reads (see :class:`FeatureNeeds`)."""
        return FeatureNeeds(backbone=self.backbone, backbone_version=self.backbone_version,
                            backbone_weights=self.backbone_weights,
                            backbone_dim=self.backbone_dim, context=self.context, source=source)

    def assemble(self, features: SegmentFeatures, where: str = "model") -> np.ndarray:
        """The (n, dim) input matrix of ``features`` in this layout.

        A signal the video lacks (e.g. an audio signal of a silent video) becomes NaN, which the
        model reads as the training mean. Category and tags come from ``features.context`` when
        the caller knows them (see :func:`video2gif.analysis.analyse`).

        Arguments:
            features: one video's segment features.
            where: the model's name or path, for error messages.

        Returns:
            float32 (n, dim).

        Raises:
            ModelError: the backbone's embedding is missing or has the wrong width.
        """
        n = len(features)
        parts: list[np.ndarray] = []
        if self.backbone:
            emb = features.embeddings.get(self.backbone)
            if emb is None:
                have = ", ".join(sorted(features.embeddings)) or "none"
                raise ModelError(
                    where,
                    f"model was trained on {self.backbone} embeddings but the features have "
                    f"{have}; compute features with --backbone {self.backbone}",
                )
            emb = np.asarray(emb, dtype=np.float32).reshape(n, -1)
            if emb.shape[1] != self.backbone_dim:
                raise ModelError(
                    where,
                    f"model expects {self.backbone_dim}-d {self.backbone} embeddings, "
                    f"the features have {emb.shape[1]}-d (a different pooling or version)",
                )
            parts.append(emb)
        for name in self.signals:
            values = features.signals.get(name)
            col = np.full(n, np.nan) if values is None else np.asarray(values, np.float64)
            parts.append(col.reshape(n, 1).astype(np.float32))
        if self.context:
            bounds = np.array([[s.start, s.end] for s in features.segments], np.float64)
            video = features.video_context
            parts.append(
                context_features(bounds, video, self.context, self.categories, self.tag_dim)
            )
        if not parts:
            return np.zeros((n, 0), dtype=np.float32)
        return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


def _backbone_words(name: str | None, dim: int) -> str:
    return f"{name} ({dim}-d)" if name else "none"


def check_backbone(layout: FeatureLayout, backbone, where: str) -> None:
    """Refuse a backbone whose name, version, weights or width differ from the model's.

    Arguments:
        layout: the model's feature layout.
        backbone: a :class:`~video2gif.features.backbones.Backbone`.
        where: the model's name or path, for the message.

    Raises:
        ModelError: naming what differs.
    """
    differs = layout.needs(where).backbone_differences(backbone)
    if differs:
        raise ModelError(where, "model does not fit this backbone: " + "; ".join(differs)
                         + " (model vs installed)")


def backbone_id(layout: FeatureLayout) -> str | None:
    """The ``Backbone.cache_id`` (name/version/weights) a layout was trained with, if recorded."""
    if not layout.backbone or layout.backbone_version is None:
        return None
    return f"{layout.backbone}/{layout.backbone_version}/{layout.backbone_weights}"


def layout_for_backbone(
    backbone, signals: Sequence[str] = (), context: Sequence[str] = ()
) -> FeatureLayout:
    """The feature layout of a model trained on ``backbone``'s pooled embeddings (None: no
    backbone), the named signals and the context blocks.

    Example:
        >>> layout_for_backbone(None, ["sharpness"], ["position"]).dim
        3
    """
    if backbone is None:
        return FeatureLayout(signals=tuple(signals), context=tuple(context))
    from ..features.backbones import POOLING

    return FeatureLayout(
        backbone=backbone.name,
        backbone_version=str(backbone.version),
        backbone_weights=str(backbone.weights_id or ""),
        backbone_dim=len(POOLING) * int(backbone.dim),
        signals=tuple(signals),
        context=tuple(context),
    )
