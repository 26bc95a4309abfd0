"""Atomic file output: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_name(path: Path) -> Path:
    """A hidden, unique name in the same folder as ``path`` (same filesystem, so rename is
    atomic)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; it becomes ``path`` only if the block succeeds.

    Example:
        >>> with atomic_path("out.json") as tmp:  # doctest: +SKIP
        ...     tmp.write_text("{}")
    """
    target = Path(path)
    tmp = temporary_name(target)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


HASH_BLOCK = 1 << 20  # bytes read at a time when hashing a file


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as hex, read a block at a time.

    Raises:
        OSError: the file cannot be read.
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(HASH_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


TIME_DECIMALS = 4  # seconds in JSON documents: 0.1 ms, finer than any frame
SCORE_DECIMALS = 6  # scores in JSON documents


def json_seconds(t: float) -> float:
    """A time in seconds as JSON documents write it (rounded to :data:`TIME_DECIMALS`)."""
    return round(float(t), TIME_DECIMALS)


def json_score(score: float | None) -> float | None:
    """A score as JSON documents write it (rounded to :data:`SCORE_DECIMALS`; None stays)."""
    return None if score is None else round(float(score), SCORE_DECIMALS)
