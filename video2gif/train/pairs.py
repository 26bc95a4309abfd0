"""Training material and the pairs drawn from it: every positive segment of a video with random
negatives of the same video, redrawn each epoch.

Example:
    >>> sampler = LabelPairs(videos, negatives=4)  # doctest: +SKIP
    >>> pairs = sampler.sample(np.random.default_rng(0))  # doctest: +SKIP
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..datasets import VideoAnnotation
from ..errors import UsageError
from .options import NEGATIVES_PER_POSITIVE


@dataclass(frozen=True)
class TrainingVideo:
    """One video's training (or validation) material.

    ``labels`` come from :func:`video2gif.datasets.label_segments`: 1 for a segment a GIF covers,
    0 for one no GIF touches, -1 for ambiguous segments, which are never paired. ``popularity``
    is p ∈ [0, 1] (:func:`~video2gif.ranknet.normalise_popularity`) of the GIF behind each
    positive segment (ignored elsewhere); None when unknown. ``annotation`` (the video's GIFs,
    duration and frame rate) is what validation measures mAP and nMSD against.
    """

    key: str  # the video's id
    features: np.ndarray  # (n, d) raw feature rows in the model's layout
    labels: np.ndarray  # (n,) int8: 1 positive, 0 negative, -1 unused
    bounds: np.ndarray  # (n, 2) segment start/end, seconds
    annotation: VideoAnnotation | None = None  # ground truth for validation metrics
    popularity: np.ndarray | None = None  # (n,) p of the GIF labelling each positive

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.features.ndim != 2 or self.features.shape[0] != n or self.bounds.shape != (n, 2):
            raise UsageError(
                self.key,
                f"features {self.features.shape}, labels ({n},) and bounds "
                f"{self.bounds.shape} do not describe the same segments",
            )
        if self.popularity is not None and len(self.popularity) != n:
            raise UsageError(self.key, "popularity must have one value per segment")


@dataclass(frozen=True)
class Pairs:
    """An epoch's training pairs as rows of the stacked training matrix."""

    pos: np.ndarray  # (m,) int64 row of s⁺
    neg: np.ndarray  # (m,) int64 row of s⁻
    popularity: np.ndarray  # (m,) float32 p of each pair (0 when unknown)

    def __len__(self) -> int:
        return len(self.pos)


class PairSampler(ABC):
    """Draws an epoch's pairs. Required: :meth:`sample`."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Pairs:
        """The pairs of one epoch, drawn with ``rng`` (so a seeded run repeats exactly)."""


class LabelPairs(PairSampler):
    """Every positive of a video with ``negatives`` random negatives of the same video.

    Rows are numbered as in the stack of ``videos``' features, in order. A video with no
    positive or no negative contributes no pair. When a video has fewer negatives than asked,
    all of them are used.

    Example:
        >>> sampler = LabelPairs(videos, negatives=4)  # doctest: +SKIP
        >>> pairs = sampler.sample(np.random.default_rng(0))  # doctest: +SKIP
    """

    def __init__(self, videos: Sequence[TrainingVideo], negatives: int = NEGATIVES_PER_POSITIVE):
        self.negatives = int(negatives)
        self._groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        offset = 0
        for video in videos:
            labels = np.asarray(video.labels)
            pos = np.flatnonzero(labels == 1)
            neg = np.flatnonzero(labels == 0)
            if len(pos) and len(neg):
                pop = (np.zeros(len(pos)) if video.popularity is None
                       else np.nan_to_num(np.asarray(video.popularity, np.float64)[pos]))
                self._groups.append((pos + offset, neg + offset, pop.astype(np.float32)))
            offset += len(labels)

    @property
    def pairs_per_epoch(self) -> int:
        return sum(len(p) * min(self.negatives, len(n)) for p, n, _ in self._groups)

    def sample(self, rng: np.random.Generator) -> Pairs:
        pos_out, neg_out, pop_out = [], [], []
        for pos, neg, pop in self._groups:
            k = min(self.negatives, len(neg))
            if k == len(neg):
                choice = np.tile(np.arange(k), (len(pos), 1))
            elif len(pos) * len(neg) <= 4_000_000:
                # k smallest of uniform keys per row = a uniform k-subset, vectorised.
                keys = rng.random((len(pos), len(neg)))
                choice = np.argpartition(keys, k - 1, axis=1)[:, :k]
            else:
                choice = np.stack([rng.choice(len(neg), k, replace=False) for _ in pos])
            pos_out.append(np.repeat(pos, k))
            neg_out.append(neg[choice].reshape(-1))
            pop_out.append(np.repeat(pop, k))
        if not pos_out:
            empty = np.zeros(0, dtype=np.int64)
            return Pairs(empty, empty, np.zeros(0, dtype=np.float32))
        return Pairs(
            np.concatenate(pos_out).astype(np.int64),
            np.concatenate(neg_out).astype(np.int64),
            np.concatenate(pop_out).astype(np.float32),
        )
