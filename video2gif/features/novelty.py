"""Novelty and look-alike descriptors from backbone embeddings.

``novelty`` says how far a segment's content is from the video's typical content: the cosine
distance ``d`` between the segment's mean (unit) embedding and the video's mean embedding, mapped
to ``d / (d + median d)`` so 0.5 means "as unusual as the median segment of this video", values
near 1 stand out, 0 is the typical content itself. The scale is the video's own, so it needs no
tuning per backbone.

:func:`segment_descriptors` gives unit vectors for near-duplicate suppression in selection: the
segment's mean unit embedding, normalised (subtracting the video's mean first would make a
single-shot video's segments look unrelated). Selection compares segments by what they show and
by how they look: :func:`combine_descriptors` joins these with the colour-layout descriptors of
:mod:`video2gif.features.signals` so that the cosine similarity of the joined vectors is the mean
of the two similarities. Measured on the clips of ../shared/media, non-overlapping segments of one
shot score 0.58-0.95 and segments of different shots at most 0.85 (two shots of one scene); the
embedding alone would call synthetic noise textures of different colours the same thing (0.98),
the layout alone ignores meaning. Picks at or above
:data:`video2gif.select.CONTENT_DUPLICATE_SIMILARITY` are near-duplicates.

Example:
    >>> # samples = EmbeddingCollector(...).result after the pass
    >>> # novelty(samples, segments)  # (n,) in [0, 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..segments import Segment
from .backbones import SampleEmbeddings, segment_members, unit_rows


def _segment_means(samples: SampleEmbeddings, segments: Sequence[Segment]) -> np.ndarray:
    unit = unit_rows(samples.vectors)
    out = np.zeros((len(segments), samples.dim), dtype=np.float32)
    for i, rows in enumerate(segment_members(samples, segments)):
        if len(rows):
            out[i] = unit[rows].mean(axis=0)
    return out


def typical_content(samples: SampleEmbeddings) -> np.ndarray:
    """The video's mean unit embedding (every sampled frame weighs the same)."""
    if not len(samples):
        return np.zeros(samples.dim, dtype=np.float32)
    return unit_rows(samples.vectors).mean(axis=0)


def novelty(samples: SampleEmbeddings, segments: Sequence[Segment]) -> np.ndarray:
    """Per segment, how far its content is from the video's typical content, in [0, 1).

    Arguments:
        samples: per-frame embeddings of the whole video.
        segments: the candidates.

    Returns:
        (n,) ``d / (d + median d)`` with ``d`` the cosine distance to the video's mean
        embedding; zeros when every segment is typical (or there are no samples).
    """
    if not len(samples) or not len(segments):
        return np.zeros(len(segments))
    typical = unit_rows(typical_content(samples)[None])[0]
    means = unit_rows(_segment_means(samples, segments))
    d = np.clip(1.0 - means @ typical, 0.0, 2.0).astype(np.float64)
    scale = float(np.median(d))
    if scale <= 1e-9:
        return np.zeros(len(segments)) if float(d.max()) <= 1e-9 else (d > 1e-9).astype(float)
    return d / (d + scale)


def segment_descriptors(samples: SampleEmbeddings, segments: Sequence[Segment]) -> np.ndarray:
    """(n, dim) unit vectors: each segment's mean unit embedding, normalised."""
    return unit_rows(_segment_means(samples, segments))


def combine_descriptors(*blocks: np.ndarray) -> np.ndarray:
    """Join per-segment unit descriptors so that the dot product of two joined rows is the mean
    of the blocks' cosine similarities.

    Example:
        >>> a = np.array([[1.0, 0.0], [1.0, 0.0]]); b = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> j = combine_descriptors(a, b)
        >>> round(float(j[0] @ j[1]), 6)
        0.5
    """
    return np.hstack([unit_rows(b) for b in blocks]) / np.sqrt(len(blocks))
