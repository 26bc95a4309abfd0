"""Describe each candidate segment: cheap signals, backbone embeddings, context.

Everything here is computed from frames of the shared decode pass (see :mod:`video2gif.decode`).
:class:`SegmentFeatures` is what a :class:`~video2gif.scorers.Scorer` receives;
:class:`FeatureNeeds` is what a scorer declares it reads, so the analysis computes the right
features, or refuses a mismatch, before decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..context import VideoContext, check_blocks
from ..decode import VideoInfo
from ..errors import ModelError
from ..segments import SegmentList


@dataclass(frozen=True)
class SegmentFeatures:
    """Per-segment inputs of the ranking stage; row ``i`` describes ``segments[i]``.

    ``signals`` are named, interpretable numbers (each in [0, 1] unless its name says otherwise)
    that the report shows per segment. ``embeddings`` maps a backbone's name to its pooled
    (n_segments × dim) features, and ``backbone_ids`` that name to the ``Backbone.cache_id``
    (name/version/weights) that made them. ``context`` is what is known about the video beyond
    its pixels (duration, and category and tags when the caller knows them).
    """

    info: VideoInfo
    segments: SegmentList
    signals: dict[str, np.ndarray] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    backbone_ids: dict[str, str] = field(default_factory=dict)
    context: VideoContext | None = None  # None: only the duration (from ``info``) is known

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def video_context(self) -> VideoContext:
        """``context``, or the video's duration alone when no context was given."""
        return self.context or VideoContext(duration=float(self.info.duration))

    def signal_rows(self) -> list[dict[str, float]]:
        """The signals of each segment as a dict, for the report."""
        names = sorted(self.signals)
        return [
            {name: round(float(self.signals[name][i]), 4) for name in names}
            for i in range(len(self.segments))
        ]


@dataclass(frozen=True)
class FeatureNeeds:
    """What a scorer reads besides the cheap signals every analysis measures.

    Example:
        >>> FeatureNeeds(backbone="c3d").merge(FeatureNeeds(context=("position",))).backbone
        'c3d'
    """

    backbone: str | None = None  # embedding read (a --backbone name); None: none needed
    backbone_version: str | None = None  # the backbone version it was made for (None: any)
    backbone_weights: str = ""  # fingerprint of the backbone weights it was made for ("": any)
    backbone_dim: int = 0  # width of the pooled embedding it reads (0: any)
    windows: bool = False  # frames of its own in the decode pass (the original model's C3D clips)
    context: tuple[str, ...] = ()  # context blocks it reads (category and tags need metadata)
    source: str = ""  # the scorer's name or file, for messages

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", check_blocks(self.context))

    def merge(self, other: FeatureNeeds) -> FeatureNeeds:
        """Needs of two scorers used together (a blend).

        Raises:
            ModelError: they read different backbones.
        """
        if self.backbone and other.backbone and self.backbone_key() != other.backbone_key():
            raise ModelError(other.source or other.backbone,
                             f"reads {other.backbone} features, but {self.source or 'another'} "
                             f"reads {self.backbone}; one analysis computes one backbone")
        first = self if self.backbone else other
        return FeatureNeeds(
            backbone=first.backbone,
            backbone_version=first.backbone_version,
            backbone_weights=first.backbone_weights,
            backbone_dim=first.backbone_dim,
            windows=self.windows or other.windows,
            context=(*self.context, *other.context),
            source=first.source or self.source or other.source,
        )

    def backbone_differences(self, backbone) -> list[str]:
        """What differs between the backbone these needs name and ``backbone`` (a
        :class:`~video2gif.features.backbones.Backbone`, or None for no backbone), in words
        ("needed vs given"); empty when it fits."""
        if not self.backbone:
            return []
        if backbone is None:
            return [f"backbone {self.backbone} vs none"]
        from .backbones import POOLING

        differs = []
        if backbone.name != self.backbone:
            differs.append(f"backbone {self.backbone} vs {backbone.name}")
        if self.backbone_version is not None and str(backbone.version) != self.backbone_version:
            differs.append(f"{backbone.name} version {self.backbone_version} vs {backbone.version}")
        weights = backbone.weights_id
        if self.backbone_weights and weights and weights != self.backbone_weights:
            differs.append(f"{backbone.name} weights {self.backbone_weights} vs {weights}")
        if self.backbone_dim and len(POOLING) * backbone.dim != self.backbone_dim:
            differs.append(
                f"embedding width {self.backbone_dim} vs {len(POOLING) * backbone.dim} "
                f"({'+'.join(POOLING)} pooling of {backbone.dim}-d)"
            )
        return differs

    def backbone_key(self) -> tuple:
        return (self.backbone, self.backbone_version, self.backbone_weights, self.backbone_dim)
