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


class UsageError(Video2GifError, ValueError):
    """An option or argument has a bad value (exit code 2)."""

    exit_code = 2


class ModelError(Video2GifError, ValueError):
    """A model file or weights are missing, malformed, or do not fit the features."""


class EncodeError(Video2GifError, RuntimeError):
    """An output could not be written."""


class Video2GifWarning(UserWarning):
    """Something degraded but the work went on."""


class SizeBudgetWarning(Video2GifWarning):
    """An output could not be brought under the requested byte budget."""
