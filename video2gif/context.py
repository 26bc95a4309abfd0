"""Context features of a segment: where it sits in its video, how long it is, what the video is.

The Video2GIF paper (§4.2) adds context to the visual description of a segment: people cut GIFs
from some parts of a video more than from others (rarely the first seconds or the credits), and
from some kinds of video more than others. Four blocks, each of which can be switched off:

- ``position``: the segment's start time (log-scaled seconds) and its relative position in the
  video (centre / video duration, 0 at the start, 1 at the end);
- ``duration``: the segment's duration and the video's duration (both log-scaled seconds);
- ``category``: the video's category, one-hot over a fixed vocabulary (all zeros when unknown);
- ``tags``: the video's tags as a fixed-length text embedding (all zeros when there are none).

Durations are log-scaled because video lengths span four orders of magnitude (3 s to hours); a
linear scale would let a handful of long videos dominate the standardisation.

Example:
    >>> import numpy as np
    >>> bounds = np.array([[0.0, 3.0], [57.0, 60.0]])
    >>> x = context_features(bounds, VideoContext(duration=60.0), ("position", "duration"))
    >>> x.shape, context_names(("position", "duration"))
    ((2, 4), ['start_log', 'relative_position', 'segment_duration_log', 'video_duration_log'])
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import UsageError

CONTEXT_BLOCKS = ("position", "duration", "category", "tags")  # every block, in layout order
DEFAULT_BLOCKS = ("position", "duration")  # what every video has; category/tags need metadata

# YouTube's video categories (the category field of Video2GIF's metadata). The one-hot block has
# one column per entry, in this order; a category outside the list is encoded as all zeros.
YOUTUBE_CATEGORIES = (
    "Autos & Vehicles",
    "Comedy",
    "Education",
    "Entertainment",
    "Film & Animation",
    "Gaming",
    "Howto & Style",
    "Music",
    "News & Politics",
    "Nonprofits & Activism",
    "People & Blogs",
    "Pets & Animals",
    "Science & Technology",
    "Shows",
    "Sports",
    "Travel & Events",
)

TAG_DIM = 32  # columns of the tags block (hashed bag of words)
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class VideoContext:
    """What is known about a video beyond its pixels."""

    duration: float  # seconds
    category: str | None = None  # one of YOUTUBE_CATEGORIES (matched case-insensitively), or None
    tags: tuple[str, ...] = ()  # free-text tags, as the uploader gave them


def check_blocks(blocks: Sequence[str]) -> tuple[str, ...]:
    """Validate a selection of context blocks and return it in layout order.

    Arguments:
        blocks: names from :data:`CONTEXT_BLOCKS`, in any order, or empty for no context.

    Returns:
        The same names, deduplicated, in the order of :data:`CONTEXT_BLOCKS`.

    Raises:
        UsageError: an unknown block name.

    Example:
        >>> check_blocks(["duration", "position"])
        ('position', 'duration')
    """
    unknown = sorted(set(blocks) - set(CONTEXT_BLOCKS))
    if unknown:
        choices = ", ".join(CONTEXT_BLOCKS)
        raise UsageError("--context", f"unknown block {', '.join(unknown)}; choose from {choices}")
    return tuple(b for b in CONTEXT_BLOCKS if b in set(blocks))


def context_names(
    blocks: Sequence[str], categories: Sequence[str] = YOUTUBE_CATEGORIES, tag_dim: int = TAG_DIM
) -> list[str]:
    """Column names of :func:`context_features` for ``blocks`` (the model file records them).

    Arguments:
        blocks: selected context blocks.
        categories: the category vocabulary of the one-hot block.
        tag_dim: columns of the tags block.

    Returns:
        One name per column, in column order.
    """
    names: list[str] = []
    for block in check_blocks(blocks):
        if block == "position":
            names += ["start_log", "relative_position"]
        elif block == "duration":
            names += ["segment_duration_log", "video_duration_log"]
        elif block == "category":
            names += [f"category={c}" for c in categories]
        elif block == "tags":
            names += [f"tags_{i}" for i in range(tag_dim)]
    return names


def context_features(
    bounds: np.ndarray,
    video: VideoContext,
    blocks: Sequence[str] = DEFAULT_BLOCKS,
    categories: Sequence[str] = YOUTUBE_CATEGORIES,
    tag_dim: int = TAG_DIM,
) -> np.ndarray:
    """Context block columns for each segment of one video.

    Arguments:
        bounds: (n, 2) segment start and end times in seconds.
        video: the video's duration and, when known, category and tags.
        blocks: which blocks to compute (see :data:`CONTEXT_BLOCKS`).
        categories: the category vocabulary of the one-hot block.
        tag_dim: columns of the tags block.

    Returns:
        (n, d) float32 array; columns named by :func:`context_names`.

    Raises:
        UsageError: an unknown block name.

    Example:
        >>> x = context_features(np.array([[30.0, 33.0]]), VideoContext(60.0), ("position",))
        >>> [round(float(v), 3) for v in x[0]]
        [3.434, 0.525]
    """
    blocks = check_blocks(blocks)
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 2)
    n = len(bounds)
    start, end = bounds[:, 0], bounds[:, 1]
    duration = max(float(video.duration), 1e-6)
    columns: list[np.ndarray] = []
    for block in blocks:
        if block == "position":
            centre = (start + end) / 2
            columns += [np.log1p(np.maximum(start, 0.0)), np.clip(centre / duration, 0.0, 1.0)]
        elif block == "duration":
            columns += [
                np.log1p(np.maximum(end - start, 0.0)),
                np.full(n, np.log1p(duration)),
            ]
        elif block == "category":
            onehot = np.zeros((n, len(categories)))
            index = _category_index(video.category, categories)
            if index is not None:
                onehot[:, index] = 1.0
            columns += list(onehot.T)
        elif block == "tags":
            columns += list(np.tile(embed_tags(video.tags, tag_dim), (n, 1)).T)
    if not columns:
        return np.zeros((n, 0), dtype=np.float32)
    return np.stack(columns, axis=1).astype(np.float32)


def _category_index(category: str | None, categories: Sequence[str]) -> int | None:
    if not category:
        return None
    wanted = category.strip().lower()
    for i, name in enumerate(categories):
        if name.lower() == wanted:
            return i
    return None


def embed_tags(tags: Sequence[str], dim: int = TAG_DIM) -> np.ndarray:
    """A fixed-length embedding of free-text tags: a signed, hashed bag of words.

    Every lower-cased word of every tag adds ±1 to one of ``dim`` buckets (both chosen by a
    BLAKE2 hash, so the embedding is the same on every machine and needs no vocabulary or
    weights); the sum is L2-normalised. Tags sharing words end up close.

    Arguments:
        tags: the video's tags.
        dim: length of the embedding.

    Returns:
        (dim,) float64, unit length, or all zeros when there are no words.

    Example:
        >>> v = embed_tags(["funny cats", "cat videos"])
        >>> round(float(np.linalg.norm(v)), 6)
        1.0
    """
    out = np.zeros(dim)
    for tag in tags:
        for word in _TOKEN.findall(str(tag).lower()):
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            out[h % dim] += 1.0 if (h >> 63) & 1 else -1.0
    norm = np.linalg.norm(out)
    return out / norm if norm > 0 else out
