"""The annotation types: a video and the GIFs people cut from it, and what an annotation
reader is.

Example:
    >>> VideoAnnotation("abc", 20.0, 25.0, (GifInterval(2.0, 5.0),)).gifs[0].duration
    3.0
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GifInterval:
    """One GIF cut from a video: seconds ``[start, end)`` plus what is known of its popularity.

    ``start_frame``/``end_frame`` (end exclusive) are kept when the dataset gives exact frames
    (Video2GIF does); evaluation then uses them instead of rounding times.
    """

    start: float  # seconds from the video's first frame
    end: float  # seconds, exclusive
    views: float | None = None  # view count when the dataset has one
    age_days: float | None = None  # age of the GIF when its views were counted, days
    user_id: str | None = None  # who made it (PHD-GIFs)
    start_frame: int | None = None  # exact first frame, when the dataset gives it
    end_frame: int | None = None  # exact frame after the last one, when the dataset gives it

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        """The GIF as a JSON object; unknown optional fields are left out."""
        out: dict = {"start": self.start, "end": self.end}
        for key in ("views", "age_days", "user_id", "start_frame", "end_frame"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True)
class VideoAnnotation:
    """A video and the GIFs people cut from it."""

    id: str  # the dataset's id (a YouTube id for the public benchmarks)
    duration: float  # seconds
    fps: float | None  # average frame rate when known
    gifs: tuple[GifInterval, ...]
    path: str | None = None  # video file, relative to the annotation file or absolute
    category: str | None = None
    tags: tuple[str, ...] = ()
    split: str | None = None  # "train", "test", "last", "history", ...
    frames: int | None = None  # exact frame count when the dataset gives it
    extra: dict = field(default_factory=dict, compare=False, hash=False)  # other keys, kept

    def __post_init__(self) -> None:
        # Accept lists from callers; store tuples so the annotation stays hashable and frozen.
        object.__setattr__(self, "gifs", tuple(self.gifs))
        object.__setattr__(self, "tags", tuple(self.tags))

    def to_dict(self) -> dict:
        """One line of the JSON-lines format."""
        out = {
            "id": self.id,
            "duration": self.duration,
            "fps": self.fps,
            "frames": self.frames,
            "path": self.path,
            "category": self.category,
            "tags": list(self.tags),
            "split": self.split,
            "gifs": [g.to_dict() for g in self.gifs],
        }
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out


@dataclass(frozen=True)
class AnnotationReader:
    """One annotation file format: how to recognise a file of it, and how to read one.

    A new format is one module defining such a reader plus one line in
    :data:`video2gif.datasets.readers.READERS`.
    """

    name: str  # what detect_format() returns, e.g. "jsonl"
    description: str  # for messages, e.g. "JSON lines"
    recognises: Callable[[str], bool]  # given the file's first non-blank line
    # read(path, testset, strict) -> the annotations a benchmark evaluates
    read: Callable[[str | os.PathLike, str | os.PathLike | None, bool], list[VideoAnnotation]]
    takes_testset: bool = False  # whether a --testset list of ids applies
