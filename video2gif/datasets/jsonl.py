"""The generic annotation format, JSON lines, one video per line::

    {"id": "dhuI9TO1rY8", "duration": 314.0, "fps": 29.97, "frames": null, "path": null,
     "category": "Music", "tags": ["live"], "split": "test",
     "gifs": [{"start": 204.39, "end": 211.47, "views": 1200, "age_days": 31, "user_id": "12999"}]}

``id``, ``duration`` (seconds) and ``gifs`` (intervals in seconds, end exclusive) are required;
everything else is optional (``null`` or absent). ``path`` is where the video file is, relative to
the annotation file or absolute; without it, videos are looked up by ``id`` in a folder. A video may
appear on several lines (for example once per user, in personalised benchmarks).

Example:
    >>> videos = read_annotations("annotations.jsonl")  # doctest: +SKIP
    >>> write_annotations(videos, "copy.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from .._io import write_text_atomic
from ..errors import InputError
from ._rows import _integer, _interval, _number, _open_text, _Rows
from .types import AnnotationReader, GifInterval, VideoAnnotation


def _gif_from_json(obj, index: int) -> GifInterval:
    what = f"gifs[{index}]"
    if not isinstance(obj, dict):
        raise ValueError(f"{what} must be an object with start and end")
    start = _number(obj.get("start"), f"{what}.start")
    end = _number(obj.get("end"), f"{what}.end")
    _interval(start, end, what)
    user = obj.get("user_id")
    start_frame = _integer(obj.get("start_frame"), f"{what}.start_frame")
    end_frame = _integer(obj.get("end_frame"), f"{what}.end_frame")
    if start_frame is not None and end_frame is not None and end_frame <= start_frame:
        raise ValueError(f"{what}.end_frame must be after start_frame")
    return GifInterval(
        start=start,
        end=end,
        views=_number(obj.get("views"), f"{what}.views", required=False),
        age_days=_number(obj.get("age_days"), f"{what}.age_days", required=False),
        user_id=None if user is None else str(user),
        start_frame=start_frame,
        end_frame=end_frame,
    )


_KNOWN_KEYS = {"id", "duration", "fps", "frames", "path", "category", "tags", "split", "gifs"}


def annotation_from_dict(obj: dict) -> VideoAnnotation:
    """Build a :class:`VideoAnnotation` from one parsed line of the JSON-lines format.

    Raises:
        ValueError: a required field is missing or a value is out of range (the message says which).

    Example:
        >>> video = annotation_from_dict({"id": "a", "duration": 9,
        ...                               "gifs": [{"start": 1, "end": 3}]})
        >>> video.gifs[0].start, video.gifs[0].end, video.fps
        (1.0, 3.0, None)
    """
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    vid = obj.get("id")
    if vid is None or str(vid).strip() == "":
        raise ValueError("id is missing")
    duration = _number(obj.get("duration"), "duration", positive=True)
    fps = _number(obj.get("fps"), "fps", required=False, positive=True)
    gifs_raw = obj.get("gifs", [])
    if not isinstance(gifs_raw, list):
        raise ValueError("gifs must be a list")
    tags = obj.get("tags") or []
    if not isinstance(tags, list):
        raise ValueError("tags must be a list of strings")
    optional = {}
    for key in ("path", "category", "split"):
        value = obj.get(key)
        optional[key] = None if value is None else str(value)
    return VideoAnnotation(
        id=str(vid),
        duration=duration,
        fps=fps,
        gifs=tuple(_gif_from_json(g, i) for i, g in enumerate(gifs_raw)),
        tags=tuple(str(t) for t in tags),
        frames=_integer(obj.get("frames"), "frames"),
        extra={k: v for k, v in obj.items() if k not in _KNOWN_KEYS},
        **optional,
    )


def read_annotations(path: str | os.PathLike, strict: bool = False) -> list[VideoAnnotation]:
    """Read a JSON-lines annotation file (the generic format, see the module docstring).

    Arguments:
        path: the ``.jsonl`` file.
        strict: raise at the first malformed line instead of skipping it with a warning.

    Returns:
        The videos, in file order. Blank lines are ignored.

    Raises:
        InputError: the file is missing or unreadable.
        DatasetError: (strict) a malformed line, named ``path:line``.

    Warns:
        DatasetWarning: once per skipped line, naming ``path:line`` and the reason.

    Example:
        >>> videos = read_annotations("annotations.jsonl")  # doctest: +SKIP
        >>> videos[0].gifs[0].start  # doctest: +SKIP
        204.39
    """
    rows = _Rows(path, strict)
    out = []
    for number, text in enumerate(_open_text(path), start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            rows.bad(number, f"not valid JSON ({e.msg} at column {e.colno})")
            continue
        try:
            out.append(annotation_from_dict(obj))
        except ValueError as e:
            rows.bad(number, str(e))
    return out


def write_annotations(annotations: Iterable[VideoAnnotation], path: str | os.PathLike) -> Path:
    """Write annotations as JSON lines, atomically (a temporary file renamed into place).

    Arguments:
        annotations: the videos to write, in order.
        path: the ``.jsonl`` file to (over)write.

    Returns:
        The path written.

    Raises:
        InputError: the folder does not exist.

    Example:
        >>> write_annotations([VideoAnnotation("a", 10.0, None, ())], "a.jsonl")  # doctest: +SKIP
    """
    target = Path(path)
    if not target.parent.exists():
        raise InputError(target.parent, "output folder does not exist")
    lines = [json.dumps(a.to_dict(), ensure_ascii=False) for a in annotations]
    write_text_atomic(target, "".join(line + "\n" for line in lines))
    return target


READER = AnnotationReader(
    name="jsonl",
    description="JSON lines",
    recognises=lambda first: first.lstrip().startswith("{"),
    read=lambda path, testset, strict: read_annotations(path, strict=strict),
)
