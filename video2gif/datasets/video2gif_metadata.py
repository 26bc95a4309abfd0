"""The Video2GIF dataset's ``metadata.txt`` (fields separated by ``;\t``) and its id lists.

Example:
    >>> videos = read_video2gif_metadata("metadata.txt", testset="testset.txt")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable

from ..errors import DatasetWarning
from ._rows import _integer, _interval, _number, _open_text, _Rows
from .types import AnnotationReader, GifInterval, VideoAnnotation

# Video2GIF metadata.txt: fields in order, separated by ";\t" (the dataset's README).
VIDEO2GIF_FIELDS = (
    "youtube_id", "is_creative_commons", "gif_id", "gif_url", "gif_start_frame", "gif_end_frame",
    "gif_start_sec", "gif_end_sec", "gif_title", "gif_views", "gif_age", "video_title",
    "video_views", "video_publish_date", "video_likes", "video_duration", "video_frame_count",
    "video_category", "video_rating", "video_description", "video_retrieved_date",
)  # fmt: skip
VIDEO2GIF_SEPARATOR = ";\t"


def read_id_list(path: str | os.PathLike) -> list[str]:
    """Read a list of ids, one per line (Video2GIF's ``testset.txt``); blank lines ignored.

    Raises:
        InputError: missing file.

    Example:
        >>> len(read_id_list("testset.txt"))  # doctest: +SKIP
        357
    """
    return [line.strip() for line in _open_text(path) if line.strip()]


def read_video2gif_metadata(
    path: str | os.PathLike,
    testset: str | os.PathLike | Iterable[str] | None = None,
    strict: bool = False,
) -> list[VideoAnnotation]:
    """Read the Video2GIF dataset's ``metadata.txt`` (fields separated by ``;\\t``).

    Fields, in order: youtube_id, is_creative_commons, gif_id, gif_url, gif_start_frame,
    gif_end_frame, gif_start_sec, gif_end_sec, gif_title, gif_views, gif_age, video_title,
    video_views, video_publish_date, video_likes, video_duration, video_frame_count,
    video_category, video_rating, video_description, video_retrieved_date. A header line (starting
    with ``youtube_id``) is skipped. A ``;\\t`` inside the description is tolerated.

    Arguments:
        path: ``metadata.txt``.
        testset: ``testset.txt`` (or the ids themselves): those videos get ``split="test"``, all
            others ``"train"``. Without it ``split`` stays None.
        strict: raise at the first malformed row instead of skipping it with a warning.

    Returns:
        One annotation per video (in order of first appearance) with its GIFs in seconds and
        their exact frames, views and age; ``fps`` is frame count / duration.

    Raises:
        InputError: a file is missing. DatasetError: (strict) a malformed row.

    Warns:
        DatasetWarning: once per skipped row (``path:line``), and for test ids with no GIF.

    Example:
        >>> test = [v for v in read_video2gif_metadata("metadata.txt", "testset.txt")
        ...         if v.split == "test"]  # doctest: +SKIP
    """
    test_ids: set[str] | None = None
    if testset is not None:
        if isinstance(testset, (str, os.PathLike)):
            test_ids = set(read_id_list(testset))
        else:
            test_ids = {str(t) for t in testset}
    rows = _Rows(path, strict)
    videos: dict[str, dict] = {}
    for number, text in enumerate(_open_text(path), start=1):
        if not text.strip():
            continue
        if number == 1 and text.lstrip().lower().startswith("youtube_id"):
            continue  # header
        fields = text.split(VIDEO2GIF_SEPARATOR)
        n = len(VIDEO2GIF_FIELDS)
        if len(fields) > n:
            # The description is the only long free text: give it the extra separators.
            fields = fields[:19] + [VIDEO2GIF_SEPARATOR.join(fields[19:-1])] + fields[-1:]
        if len(fields) != n:
            rows.bad(number, f"{len(fields)} fields separated by ';\\t', expected {n}")
            continue
        record = dict(zip(VIDEO2GIF_FIELDS, (f.strip() for f in fields)))
        try:
            _video2gif_row(record, videos)
        except ValueError as e:
            rows.bad(number, str(e))
    out = []
    for vid, v in videos.items():
        split = None if test_ids is None else ("test" if vid in test_ids else "train")
        out.append(
            VideoAnnotation(
                id=vid,
                duration=v["duration"],
                fps=v["fps"],
                gifs=tuple(v["gifs"]),
                category=v["category"],
                split=split,
                frames=v["frames"],
            )
        )
    if test_ids is not None:
        absent = sorted(test_ids - set(videos))
        if absent:
            shown = ", ".join(absent[:5]) + (" ..." if len(absent) > 5 else "")
            warnings.warn(
                DatasetWarning(f"{path}: {len(absent)} test video(s) have no GIF rows: {shown}"),
                stacklevel=2,
            )
    return out


def _video2gif_row(record: dict[str, str], videos: dict[str, dict]) -> None:
    vid = record["youtube_id"]
    if not vid:
        raise ValueError("youtube_id is missing")
    start = _number(record["gif_start_sec"], "gif_start_sec")
    end = _number(record["gif_end_sec"], "gif_end_sec")
    _interval(start, end, "the GIF")
    start_frame = _integer(record["gif_start_frame"], "gif_start_frame", required=True)
    end_frame = _integer(record["gif_end_frame"], "gif_end_frame", required=True)
    if end_frame <= start_frame:
        raise ValueError(f"gif_end_frame {end_frame} is not after gif_start_frame {start_frame}")
    duration = _number(record["video_duration"], "video_duration", positive=True)
    frames = _integer(record["video_frame_count"], "video_frame_count", required=True)
    if frames <= 0:
        raise ValueError("video_frame_count must be positive")
    gif = GifInterval(
        start=start,
        end=end,
        views=_number(record["gif_views"], "gif_views", required=False),
        age_days=_number(record["gif_age"], "gif_age", required=False),
        start_frame=start_frame,
        end_frame=end_frame,
    )
    video = videos.get(vid)
    if video is None:
        videos[vid] = {
            "duration": duration,
            "frames": frames,
            "fps": frames / duration,
            "category": record["video_category"] or None,
            "gifs": [gif],
        }
    else:
        video["gifs"].append(gif)


def _read_benchmark(path, testset, strict: bool) -> list[VideoAnnotation]:
    """The test videos when ``testset`` is given, else all videos."""
    videos = read_video2gif_metadata(path, testset=testset, strict=strict)
    return [v for v in videos if testset is None or v.split == "test"]


READER = AnnotationReader(
    name="video2gif",
    description="Video2GIF metadata.txt",
    recognises=lambda first: VIDEO2GIF_SEPARATOR in first,
    read=_read_benchmark,
    takes_testset=True,
)
