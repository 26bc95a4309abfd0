"""Where an annotated video's file is.

Example:
    >>> locate_video(VideoAnnotation("abc", 9.0, None, ()), "videos/")  # doctest: +SKIP
    PosixPath('videos/abc.mp4')
"""

from __future__ import annotations

import os
from pathlib import Path

from ..formats import VIDEO_EXTENSIONS
from .types import VideoAnnotation


def locate_video(
    video: VideoAnnotation, folder: str | os.PathLike | None, base: str | os.PathLike | None = None
) -> Path | None:
    """The file of an annotated video: its ``path`` (relative to ``base``, the annotation file's
    folder), else ``<folder>/<id>.<ext>`` for a video extension
    (:data:`video2gif.formats.VIDEO_EXTENSIONS`, in order); None if neither exists.

    Example:
        >>> locate_video(VideoAnnotation("abc", 9.0, None, ()), "videos/")  # doctest: +SKIP
        PosixPath('videos/abc.mp4')
    """
    if video.path:
        p = Path(video.path)
        for candidate in (p, Path(base) / p if base is not None else None,
                          Path(folder) / p.name if folder is not None else None):
            if candidate is not None and candidate.is_file():
                return candidate
    if folder is not None:
        for ext in VIDEO_EXTENSIONS:
            for name in (video.id + ext, video.id + ext.upper()):
                candidate = Path(folder) / name
                if candidate.is_file():
                    return candidate
    return None
