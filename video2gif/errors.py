"""One family of errors a user can cause, and warnings for degraded-but-working cases.

Every error names the thing at fault (``target``: a path or an option) and the reason, so the CLI
can print ``video2gif: error: <target>: <reason>`` without a traceback.

Example:
    >>> from video2gif.errors import InputError
    >>> str(InputError("clip.mp4", "no video stream"))
    'clip.mp4: no video stream'
"""

from __future__ import annotations


class Video2GifError(Exception):
    """Root of every error the project raises on purpose.

    Attributes:
        target: the file, option or object the error is about.
        reason: what is wrong with it, in one line.
    """

    exit_code = 1

    def __init__(self, target: object, reason: str) -> None:
        self.target = str(target)
        self.reason = " ".join(str(reason).split())  # always one line
        super().__init__(f"{self.target}: {self.reason}")


class InputError(Video2GifError, ValueError):
    """An input file is missing, unreadable, or not a usable video."""


class DecodeError(InputError):
    """The file opened but its video could not be decoded."""


class DatasetError(InputError):
    """An annotation, dataset or prediction file (or one of its rows) is malformed.

    ``target`` is ``path:line`` when a particular row is at fault.
    """


class UsageError(Video2GifError, ValueError):
    """An option or argument has a bad value (exit code 2)."""

    exit_code = 2


class ModelError(Video2GifError, ValueError):
    """A model file or weights are missing, malformed, or do not fit the features."""


class EncodeError(Video2GifError, RuntimeError):
    """An output could not be written."""


class OutputError(EncodeError):
    """An output folder or file cannot be written: read-only, full, or below a file."""


class Video2GifWarning(UserWarning):
    """Something degraded but the work went on."""


class DatasetWarning(Video2GifWarning):
    """A dataset row was skipped (malformed, or unusable for evaluation); names its file:line."""


class SizeBudgetWarning(Video2GifWarning):
    """An output could not be brought under the requested byte budget."""


class FeatureWarning(Video2GifWarning):
    """A signal could not be measured for this video (e.g. a broken audio track); scoring goes
    on without it."""


class CacheWarning(Video2GifWarning):
    """A feature cache entry was corrupt or stale and is rebuilt, or could not be written."""
