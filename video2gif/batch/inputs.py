"""The videos of a batch, and the rule that names their result folders.

Example:
    >>> [i.name for i in find_inputs("videos/")]  # doctest: +SKIP
    ['holiday/beach', 'holiday/hotel', 'party']
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..formats import VIDEO_EXTENSIONS, is_video_file


@dataclass(frozen=True)
class BatchInput:
    """One video of a batch and where its results go.

    ``name`` is the result folder relative to OUTDIR (POSIX separators): the video's path relative
    to the input folder (or to the list file's folder), without its extension.
    """

    path: Path  # absolute
    name: str


def find_inputs(source: str | os.PathLike) -> list[BatchInput]:
    """The videos of a batch: a folder (searched recursively) or a text file of paths.

    In a folder, every file whose extension is in :data:`VIDEO_EXTENSIONS` counts, in sorted path
    order; hidden files and folders are skipped. A list file has one path per line; blank lines and
    lines starting with ``#`` are ignored, relative paths are relative to the list file's folder,
    and listed files are taken whatever their extension (a missing one fails on its own). Result
    folders mirror the paths below the folder (or the list file's folder); a video elsewhere gets
    its stem and a short hash of its path.

    Arguments:
        source: the folder or the list file.

    Returns:
        The inputs, each with a distinct result folder name.

    Raises:
        UsageError: ``source`` is missing, or holds no video.

    Example:
        >>> [i.name for i in find_inputs("videos/")]  # doctest: +SKIP
        ['holiday/beach', 'holiday/hotel', 'party']
    """
    src = Path(source)
    if src.is_dir():
        root = src.resolve()
        paths = sorted(
            p for p in _walk(root) if is_video_file(p) and p.is_file()
        )
        if not paths:
            raise UsageError(source, "no video files in this folder (looked for "
                                     f"{', '.join(VIDEO_EXTENSIONS[:6])}, …)")
    elif src.is_file():
        root = src.resolve().parent
        try:
            lines = src.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(source, f"cannot read the list of videos ({e})") from None
        paths = []
        seen: set[Path] = set()
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = Path(os.path.expanduser(line))
            p = (p if p.is_absolute() else root / p).resolve()
            if p not in seen:
                seen.add(p)
                paths.append(p)
        if not paths:
            raise UsageError(source, "the list names no video")
    else:
        raise UsageError(source, "no such folder or list file")
    return _assign_names(paths, root)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith("."):
                yield Path(dirpath) / name


def _assign_names(paths: list[Path], root: Path) -> list[BatchInput]:
    """Result folder names: the path relative to ``root`` without extension (a video elsewhere:
    its stem and a short hash of where it lives), then :func:`result_names`."""

    def plain(p: Path) -> str:
        try:
            rel = p.relative_to(root)
        except ValueError:  # listed from elsewhere: stem plus a hash of where it lives
            digest = hashlib.sha256(str(p).encode()).hexdigest()[:8]
            return f"{p.stem or 'video'}-{digest}"
        return rel.with_suffix("").as_posix() if rel.stem else rel.as_posix()

    names = result_names(paths, [plain(p) for p in paths])
    return [BatchInput(path=p, name=n) for p, n in zip(paths, names)]


def result_names(paths: Sequence[str | os.PathLike],
                 names: Sequence[str] | None = None) -> list[str]:
    """The one rule for naming result folders, used by ``make`` and ``batch`` alike.

    Each input's folder is its name (default: the file's stem). A name that several inputs
    share, or whose folder would contain another's (``a.mp4`` beside a folder ``a/``), gets the
    input's extension: ``a.mp4`` and ``a.webm`` give ``a-mp4`` and ``a-webm``, whatever their
    order, since a result folder is replaced as a whole when its video is made again. Should
    names still collide (one name and extension from two folders), the later inputs get ``-2``,
    ``-3``, ... in input order.

    Example:
        >>> result_names(["x/a.mp4", "a.webm", "b.mp4", "y/a.mp4"])
        ['a-mp4', 'a-webm', 'b', 'a-mp4-2']
    """
    paths = [Path(p) for p in paths]
    names = list(names) if names is not None else [p.stem or "video" for p in paths]
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    prefixes = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
    wanted = [f"{n}-{p.suffix.lstrip('.').lower() or 'noext'}"
              if counts[n] > 1 or n in prefixes else n for p, n in zip(paths, names)]
    taken = set(wanted)
    out: list[str] = []
    used: set[str] = set()
    for n in wanted:
        unique, i = n, 2
        while unique in used or (unique != n and unique in taken):
            unique, i = f"{n}-{i}", i + 1
        used.add(unique)
        out.append(unique)
    return out
