"""Row-level helpers shared by the annotation readers: malformed rows are reported (a warning
each, or an error at the first with ``strict``), never dropped silently."""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import DatasetError, DatasetWarning, InputError


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
