"""The registry of annotation formats: recognise a file's format and read it as a benchmark
evaluates it.

A new format is one module defining an :class:`~video2gif.datasets.types.AnnotationReader`
plus one line in :data:`READERS`.

Example:
    >>> [r.name for r in READERS]
    ['jsonl', 'phd_gifs', 'video2gif']
"""

from __future__ import annotations

import os

from ..errors import DatasetError, UsageError
from . import jsonl, phd_gifs, video2gif_metadata
from ._rows import _open_text
from .types import AnnotationReader, VideoAnnotation

# Every annotation format, tried in this order on a file's first non-blank line.
READERS: tuple[AnnotationReader, ...] = (
    jsonl.READER,
    phd_gifs.READER,
    video2gif_metadata.READER,
)


def _words(descriptions: list[str]) -> str:
    return " or ".join([", ".join(descriptions[:-1]), descriptions[-1]] if len(descriptions) > 1
                       else descriptions)


def detect_format(path: str | os.PathLike) -> str:
    """Which annotation format ``path`` holds: the name of one of :data:`READERS`
    ("jsonl", "phd_gifs" or "video2gif").

    Raises:
        InputError: missing file. DatasetError: none of them.

    Example:
        >>> detect_format("testing.csv")  # doctest: +SKIP
        'phd_gifs'
    """
    lines = _open_text(path)
    first = next((line for line in lines if line.strip()), "")
    for reader in READERS:
        if reader.recognises(first):
            return reader.name
    known = _words([r.description for r in READERS])
    raise DatasetError(path, f"not a known annotation format ({known})")


def load_annotations(
    path: str | os.PathLike,
    testset: str | os.PathLike | None = None,
    strict: bool = False,
) -> list[VideoAnnotation]:
    """Read annotations in any supported format, as a benchmark evaluates them.

    JSON lines are read as they are; a PHD-GIFs CSV gives each user's last video (one annotation
    per user and video); Video2GIF ``metadata.txt`` gives its test videos when ``testset`` is
    given, else all videos.

    Raises:
        InputError, DatasetError: as the readers. UsageError: ``testset`` with a format that has no
        use for it.

    Example:
        >>> videos = load_annotations("metadata.txt", testset="testset.txt")  # doctest: +SKIP
    """
    name = detect_format(path)
    reader = next(r for r in READERS if r.name == name)
    if testset is not None and not reader.takes_testset:
        formats = _words([r.description for r in READERS if r.takes_testset])
        raise UsageError("--testset", f"only applies to the {formats} format")
    return reader.read(path, testset, strict)
