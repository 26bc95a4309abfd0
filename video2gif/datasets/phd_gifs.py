"""The PHD-GIFs benchmark's CSV files (personalised highlight detection: which parts of YouTube
videos each user cut GIFs from).

Example:
    >>> videos = phd_gifs_annotations(read_phd_gifs("testing.csv"), which="last")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import DatasetWarning, UsageError
from ._rows import _csv_rows, _interval, _number, _Rows
from .types import AnnotationReader, GifInterval, VideoAnnotation

PHD_GIFS_FIELDS = ("youtubeId", "start", "duration", "user_id", "video_duration", "is_last")


@dataclass(frozen=True)
class PhdGifsRow:
    """One GIF of the PHD-GIFs CSV, as the dataset gives it."""

    youtube_id: str
    start: float  # seconds
    duration: float  # seconds
    user_id: str
    video_duration: float | None  # seconds; None where the CSV says -1 (unknown)
    is_last: bool  # this is the last video its user cut GIFs from (the test query)
    line: int  # line number in the CSV, for reports

    @property
    def end(self) -> float:
        return self.start + self.duration


def read_phd_gifs(csv_path: str | os.PathLike, strict: bool = False) -> list[PhdGifsRow]:
    """Read a PHD-GIFs CSV (``youtubeId,start,duration,user_id,video_duration,is_last``).

    Users and ``is_last`` are kept, so the benchmark's protocol (predict each user's last video)
    can be followed; :func:`phd_gifs_annotations` groups the rows into videos.

    Arguments:
        csv_path: ``testing.csv`` or ``training.csv`` of the dataset.
        strict: raise at the first malformed row instead of skipping it with a warning.

    Returns:
        One row per GIF, in file order. A ``video_duration`` of -1 (unknown) becomes None.

    Raises:
        InputError: the file is missing. DatasetError: the header lacks a column, or (strict) a
        malformed row.

    Warns:
        DatasetWarning: once per skipped row, naming ``path:line``.

    Example:
        >>> rows = read_phd_gifs("testing.csv")  # doctest: +SKIP
        >>> sum(r.is_last for r in rows)  # doctest: +SKIP
        1621
    """
    rows = _Rows(csv_path, strict)
    header, records = _csv_rows(csv_path, PHD_GIFS_FIELDS, rows, "PHD-GIFs CSV")
    col = {name: header.index(name) for name in PHD_GIFS_FIELDS}
    out = []
    for number, values in records:
        try:
            out.append(_phd_row(values, col, number))
        except ValueError as e:
            rows.bad(number, str(e))
    return out


def _phd_row(values: list[str], col: dict[str, int], number: int) -> PhdGifsRow:
    def get(name: str) -> str:
        return values[col[name]].strip()

    youtube_id = get("youtubeId")
    if not youtube_id:
        raise ValueError("youtubeId is missing")
    start = _number(get("start"), "start")
    duration = _number(get("duration"), "duration", positive=True)
    _interval(start, start + duration, "the GIF")
    video_duration = _number(get("video_duration"), "video_duration")
    if video_duration == -1:
        video_duration = None  # the dataset's mark for "unknown"
    elif video_duration <= 0:
        raise ValueError(f"video_duration must be positive or -1, not {get('video_duration')!r}")
    is_last = get("is_last").lower()
    if is_last not in ("true", "false", "1", "0"):
        raise ValueError(f"is_last must be True or False, not {get('is_last')!r}")
    user = get("user_id")
    if not user:
        raise ValueError("user_id is missing")
    return PhdGifsRow(
        youtube_id=youtube_id,
        start=start,
        duration=duration,
        user_id=user,
        video_duration=video_duration,
        is_last=is_last in ("true", "1"),
        line=number,
    )


def phd_gifs_annotations(
    rows: Sequence[PhdGifsRow], which: str = "last", per_user: bool = True
) -> list[VideoAnnotation]:
    """Group PHD-GIFs rows into videos.

    Arguments:
        rows: from :func:`read_phd_gifs`.
        which: "last" (each user's last video: the benchmark's test queries), "history" (the
            videos before it) or "all".
        per_user: one annotation per (user, video), holding only that user's GIFs, as the
            benchmark evaluates; False merges all users' GIFs of a video.

    Returns:
        Annotations in order of first appearance, ``split`` set to "last" or "history" (for
        ``which="all"``, "last" if any of the video's rows is a last one). Videos whose duration is
        unknown (-1 in the CSV) cannot be evaluated and are left out with a warning.

    Raises:
        UsageError: ``which`` is not one of the three.

    Warns:
        DatasetWarning: videos left out for an unknown duration, with the lines of their rows.

    Example:
        >>> queries = phd_gifs_annotations(read_phd_gifs("testing.csv"))  # doctest: +SKIP
        >>> queries[0].id, [g.user_id for g in queries[0].gifs]  # doctest: +SKIP
        ('dhuI9TO1rY8', ['12999', '12999'])
    """
    if which not in ("last", "history", "all"):
        raise UsageError("which", f"must be last, history or all, not {which!r}")
    groups: dict[tuple[str, str], list[PhdGifsRow]] = {}
    for r in rows:
        if which == "last" and not r.is_last or which == "history" and r.is_last:
            continue
        key = (r.user_id if per_user else "", r.youtube_id)
        groups.setdefault(key, []).append(r)
    out = []
    for (_, youtube_id), members in groups.items():
        durations = {m.video_duration for m in members}
        if None in durations:
            lines = ", ".join(str(m.line) for m in members)
            warnings.warn(
                DatasetWarning(
                    f"PHD-GIFs video {youtube_id} (lines {lines}): video_duration is unknown "
                    "(-1); left out"
                ),
                stacklevel=2,
            )
            continue
        gifs = tuple(
            GifInterval(start=m.start, end=m.end, user_id=m.user_id)
            for m in sorted(members, key=lambda m: (m.start, m.end))
        )
        out.append(
            VideoAnnotation(
                id=youtube_id,
                duration=max(durations),
                fps=None,
                gifs=gifs,
                split="last" if any(m.is_last for m in members) else "history",
            )
        )
    return out


READER = AnnotationReader(
    name="phd_gifs",
    description="PHD-GIFs CSV",
    recognises=lambda first: first.replace(" ", "").startswith(PHD_GIFS_FIELDS[0] + ","),
    # Each user's last video, one annotation per user and video: what the benchmark evaluates.
    read=lambda path, testset, strict: phd_gifs_annotations(
        read_phd_gifs(path, strict=strict), which="last"),
)
