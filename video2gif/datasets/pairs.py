"""Annotations built from GIF/video pairs: each GIF aligned with its video
(:mod:`video2gif.align`), the confident alignments kept.

Example:
    >>> built = build_annotations(read_pairs("pairs.csv"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..align import MATCH_CONFIDENCE, align_many
from ..errors import Video2GifError
from ._rows import _csv_rows, _number, _Rows
from .types import GifInterval, VideoAnnotation

PAIR_FIELDS = ("gif", "video")  # required columns of a pairs CSV


@dataclass(frozen=True)
class GifPair:
    """One row of a pairs CSV: a GIF and the video it is believed to come from."""

    gif: str  # path, resolved against the CSV's folder
    video: str  # path, resolved against the CSV's folder
    line: int
    id: str | None = None  # the video's id in the output; default: the video file's stem
    views: float | None = None
    age_days: float | None = None
    user_id: str | None = None
    category: str | None = None
    split: str | None = None


def read_pairs(csv_path: str | os.PathLike, strict: bool = False) -> list[GifPair]:
    """Read a pairs CSV: columns ``gif,video`` and optionally ``id, views, age_days, user_id,
    category, split``. Relative paths are relative to the CSV's folder.

    Raises:
        InputError: missing file. DatasetError: no ``gif``/``video`` column, or (strict) a
        malformed row.

    Warns:
        DatasetWarning: once per skipped row, naming ``path:line``.

    Example:
        >>> pairs = read_pairs("pairs.csv")  # doctest: +SKIP
        >>> pairs[0].gif, pairs[0].video  # doctest: +SKIP
        ('/data/gifs/1.gif', '/data/videos/abc.mp4')
    """
    rows = _Rows(csv_path, strict)
    header, records = _csv_rows(csv_path, PAIR_FIELDS, rows, "pairs CSV (gif,video)")
    base = Path(csv_path).resolve().parent
    out = []
    for number, values in records:
        record = {h: v.strip() for h, v in zip(header, values)}
        try:
            if not record["gif"] or not record["video"]:
                raise ValueError("gif and video paths are required")
            out.append(
                GifPair(
                    gif=str(base / record["gif"]),
                    video=str(base / record["video"]),
                    line=number,
                    id=record.get("id") or None,
                    views=_number(record.get("views"), "views", required=False),
                    age_days=_number(record.get("age_days"), "age_days", required=False),
                    user_id=record.get("user_id") or None,
                    category=record.get("category") or None,
                    split=record.get("split") or None,
                )
            )
        except ValueError as e:
            rows.bad(number, str(e))
    return out


@dataclass(frozen=True)
class Rejected:
    """A pair left out of built annotations, and why."""

    gif: str
    video: str
    line: int
    reason: str
    confidence: float | None = None  # None when the files could not be read
    error: bool = False  # True for unreadable inputs, False for GIFs that did not align


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_annotations` kept and left out."""

    annotations: tuple[VideoAnnotation, ...]
    rejected: tuple[Rejected, ...]
    kept: int  # GIFs kept


def build_annotations(
    pairs: Sequence[GifPair],
    min_confidence: float = MATCH_CONFIDENCE,
    relative_to: str | os.PathLike | None = None,
    on_video=None,
) -> BuildResult:
    """Align every pair's GIF with its video and keep the confident ones as annotations.

    Each video is decoded once, for all of its GIFs (see :func:`video2gif.align.align_many`).

    Arguments:
        pairs: from :func:`read_pairs`.
        min_confidence: alignments below this are rejected (the default keeps exactly the
            matched ones).
        relative_to: folder the annotations' ``path`` fields are written relative to (the output
            file's folder); None keeps absolute paths.
        on_video: called as ``on_video(video_path, done, total)`` after each video.

    Returns:
        BuildResult: one annotation per video with at least one kept GIF (GIFs in time order,
        with exact frames), and every rejected pair with its reason.

    Example:
        >>> built = build_annotations(read_pairs("pairs.csv"))  # doctest: +SKIP
        >>> write_annotations(built.annotations, "annotations.jsonl")  # doctest: +SKIP
    """
    by_video: dict[str, list[GifPair]] = {}
    for pair in pairs:
        by_video.setdefault(pair.video, []).append(pair)
    annotations, rejected, kept = [], [], 0
    for done, (video, members) in enumerate(by_video.items(), start=1):
        try:
            result = align_many([m.gif for m in members], video)
        except Video2GifError as e:
            rejected += [Rejected(m.gif, video, m.line, str(e), None, True) for m in members]
            if on_video:
                on_video(video, done, len(by_video))
            continue
        gifs = []
        for pair, outcome in zip(members, result.results):
            if isinstance(outcome, Video2GifError):
                rejected.append(Rejected(pair.gif, video, pair.line, str(outcome), None, True))
            elif outcome.confidence < min_confidence:
                why = outcome.reason or f"confidence {outcome.confidence:.2f} < {min_confidence}"
                rejected.append(Rejected(pair.gif, video, pair.line, why, outcome.confidence))
            else:
                gifs.append(GifInterval(
                    start=outcome.start, end=outcome.end, views=pair.views,
                    age_days=pair.age_days, user_id=pair.user_id,
                    start_frame=outcome.start_frame, end_frame=outcome.end_frame,
                ))
        if gifs:
            kept += len(gifs)
            first = members[0]
            path = os.path.relpath(video, relative_to) if relative_to is not None else video
            annotations.append(VideoAnnotation(
                id=first.id or Path(video).stem,
                duration=result.info.duration,
                fps=float(result.info.fps),
                gifs=tuple(sorted(gifs, key=lambda g: (g.start, g.end))),
                path=path,
                category=first.category,
                split=first.split,
                frames=result.info.frames,
            ))
        if on_video:
            on_video(video, done, len(by_video))
    return BuildResult(tuple(annotations), tuple(rejected), kept)
