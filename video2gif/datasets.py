"""GIF annotations of videos: one generic format, readers for the public benchmarks, and labels.

The generic format is JSON lines, one video per line::

    {"id": "dhuI9TO1rY8", "duration": 314.0, "fps": 29.97, "frames": null, "path": null,
     "category": "Music", "tags": ["live"], "split": "test",
     "gifs": [{"start": 204.39, "end": 211.47, "views": 1200, "age_days": 31, "user_id": "12999"}]}

``id``, ``duration`` (seconds) and ``gifs`` (intervals in seconds, end exclusive) are required;
everything else is optional (``null`` or absent). ``path`` is where the video file is, relative to
the annotation file or absolute; without it, videos are looked up by ``id`` in a folder. A video may
appear on several lines (for example once per user, in personalised benchmarks).

Readers never crash on a bad row and never drop one silently: by default each malformed row is
skipped with a :class:`~video2gif.errors.DatasetWarning` naming ``file:line`` and the reason;
with ``strict=True`` the first one raises :class:`~video2gif.errors.DatasetError` instead.

Example:
    >>> gifs = (GifInterval(2.0, 5.0),)
    >>> video = VideoAnnotation(id="abc", duration=20.0, fps=25.0, gifs=gifs)
    >>> label_segments(np.array([[2.0, 4.0], [10.0, 13.0], [4.0, 7.0]]), video.gifs).tolist()
    [1, 0, -1]
"""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._io import atomic_path
from .errors import DatasetError, DatasetWarning, InputError, UsageError

POSITIVE_COVERAGE = 0.66  # a segment is positive when one GIF covers at least this fraction of it

# Video2GIF metadata.txt: fields in order, separated by ";\t" (the dataset's README).
VIDEO2GIF_FIELDS = (
    "youtube_id", "is_creative_commons", "gif_id", "gif_url", "gif_start_frame", "gif_end_frame",
    "gif_start_sec", "gif_end_sec", "gif_title", "gif_views", "gif_age", "video_title",
    "video_views", "video_publish_date", "video_likes", "video_duration", "video_frame_count",
    "video_category", "video_rating", "video_description", "video_retrieved_date",
)  # fmt: skip
VIDEO2GIF_SEPARATOR = ";\t"
PHD_GIFS_FIELDS = ("youtubeId", "start", "duration", "user_id", "video_duration", "is_last")


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


class _Rows:
    """Reports malformed rows of one file: a warning each, or an error at the first (strict)."""

    def __init__(self, path: str | os.PathLike, strict: bool) -> None:
        self.path = str(path)
        self.strict = strict
        self.skipped = 0

    def bad(self, line: int, reason: str) -> None:
        if self.strict:
            raise DatasetError(f"{self.path}:{line}", reason)
        self.skipped += 1
        warnings.warn(DatasetWarning(f"{self.path}:{line}: {reason}; row skipped"), stacklevel=3)


def _csv_rows(csv_path, required: Sequence[str], rows: _Rows, what: str):
    """Header and then ``(line number, fields)`` of each well-formed row of a CSV file.

    Blank rows are skipped silently; rows with the wrong number of fields are reported to
    ``rows``. Raises DatasetError for an empty file or missing required columns.
    """
    reader = csv.reader(_open_text(csv_path))
    header = next(reader, None)
    if header is None:
        raise DatasetError(csv_path, f"empty file; expected a {what} header")
    header = [h.strip() for h in header]
    missing = [f for f in required if f not in header]
    if missing:
        raise DatasetError(f"{csv_path}:1", f"missing column(s) {', '.join(missing)}")

    def body():
        for values in reader:
            number = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                rows.bad(number, f"{len(values)} fields, expected {len(header)}")
                continue
            yield number, values

    return header, body()


def _open_text(path: str | os.PathLike) -> list[str]:
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    if p.is_dir():
        raise InputError(path, "is a directory, not an annotation file")
    try:
        return p.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise DatasetError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None


def _number(value, name: str, *, required: bool = True, positive: bool = False) -> float | None:
    """A finite float from a JSON/CSV value; None for an absent optional one."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "nan")):
        if required:
            raise ValueError(f"{name} is missing")
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, not {value!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return number


def _integer(value, name: str, *, required: bool = False) -> int | None:
    number = _number(value, name, required=required)
    if number is None:
        return None
    if number != int(number) or number < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return int(number)


def _interval(start: float, end: float, what: str) -> None:
    if start < 0:
        raise ValueError(f"{what} starts before the video ({start} s)")
    if end <= start:
        raise ValueError(f"{what} ends at {end} s, not after its start at {start} s")


# -- the generic JSON-lines format ------------------------------------------------------------


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
    with atomic_path(target) as tmp:
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return target


# -- PHD-GIFs ---------------------------------------------------------------------------------


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


# -- Video2GIF --------------------------------------------------------------------------------


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


# -- building annotations by alignment -------------------------------------------------------


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
    min_confidence: float = 0.5,
    relative_to: str | os.PathLike | None = None,
    on_video=None,
) -> BuildResult:
    """Align every pair's GIF with its video and keep the confident ones as annotations.

    Each video is decoded once, for all of its GIFs (see :func:`video2gif.align.align_many`).

    Arguments:
        pairs: from :func:`read_pairs`.
        min_confidence: alignments below this are rejected (0.5 keeps exactly the matched ones).
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
    from .align import align_many  # decoding is only needed here
    from .errors import Video2GifError

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


# -- loading any of the formats ---------------------------------------------------------------


def detect_format(path: str | os.PathLike) -> str:
    """Which annotation format ``path`` holds: "jsonl", "phd_gifs" or "video2gif".

    Raises:
        InputError: missing file. DatasetError: none of the three.

    Example:
        >>> detect_format("testing.csv")  # doctest: +SKIP
        'phd_gifs'
    """
    lines = _open_text(path)
    first = next((line for line in lines if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "jsonl"
    if first.replace(" ", "").startswith("youtubeId,"):
        return "phd_gifs"
    if VIDEO2GIF_SEPARATOR in first:
        return "video2gif"
    raise DatasetError(
        path, "not a known annotation format (JSON lines, PHD-GIFs CSV or Video2GIF metadata.txt)"
    )


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
    kind = detect_format(path)
    if testset is not None and kind != "video2gif":
        raise UsageError("--testset", "only applies to the Video2GIF metadata.txt format")
    if kind == "jsonl":
        return read_annotations(path, strict=strict)
    if kind == "phd_gifs":
        return phd_gifs_annotations(read_phd_gifs(path, strict=strict), which="last")
    videos = read_video2gif_metadata(path, testset=testset, strict=strict)
    return [v for v in videos if testset is None or v.split == "test"]


# -- training labels --------------------------------------------------------------------------


def label_segments(
    segment_bounds: np.ndarray,
    gifs: Sequence[GifInterval] | np.ndarray,
    positive_coverage: float = POSITIVE_COVERAGE,
) -> np.ndarray:
    """Label candidate segments from a video's GIFs for training a ranker.

    A segment is positive (1) when one GIF covers at least ``positive_coverage`` of it, negative
    (0) when it overlaps no GIF at all, and unused (-1) otherwise.

    Arguments:
        segment_bounds: (n, 2) start and end of each segment, seconds.
        gifs: the video's GIFs, as :class:`GifInterval` or an (m, 2) array of seconds.
        positive_coverage: fraction in (0, 1] of a segment one GIF must cover.

    Returns:
        int8 array of n labels in {1, 0, -1}.

    Raises:
        UsageError: bad shapes, a segment that does not end after it starts, or a coverage outside
        (0, 1].

    Example:
        >>> label_segments(np.array([[0.0, 3.0]]), np.array([[0.0, 2.0]])).tolist()
        [1]
    """
    if not 0 < positive_coverage <= 1:
        raise UsageError("positive_coverage", f"must be in (0, 1], not {positive_coverage}")
    seg = np.asarray(segment_bounds, dtype=np.float64).reshape(-1, 2)
    if np.any(seg[:, 1] <= seg[:, 0]):
        raise UsageError("segment_bounds", "every segment must end after it starts")
    if isinstance(gifs, np.ndarray):
        g = np.asarray(gifs, dtype=np.float64).reshape(-1, 2)
    else:
        g = np.array([[x.start, x.end] for x in gifs], dtype=np.float64).reshape(-1, 2)
    labels = np.zeros(len(seg), dtype=np.int8)
    if len(g) == 0 or len(seg) == 0:
        return labels
    lo = np.maximum(seg[:, None, 0], g[None, :, 0])
    overlap = np.clip(np.minimum(seg[:, None, 1], g[None, :, 1]) - lo, 0.0, None)
    coverage = overlap / (seg[:, 1] - seg[:, 0])[:, None]
    # A hair of tolerance so a GIF that covers exactly 66% in decimal is not lost to rounding.
    positive = coverage.max(axis=1) >= positive_coverage - 1e-9
    touched = overlap.max(axis=1) > 0
    labels[touched] = -1
    labels[positive] = 1
    return labels
