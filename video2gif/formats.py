"""File formats, each fact written once: the videos a folder contributes, and the outputs.

:data:`OUTPUT_FORMATS` is the registry of what ``--format`` accepts. Each entry says what the
encoder, the CLI, the report page and the web page need to know about a format: its file
extension, its MIME type, whether it loops by itself, and how a web page shows it. Adding a
format is one :class:`OutputFormat` line here plus its writer, a module of
:mod:`video2gif.writers`.

Example:
    >>> output_format("webp").mime
    'image/webp'
    >>> format_of_file("01.mp4").element
    'video'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

# Extensions of the files a folder input contributes (lower case), the common ones first: a
# search for "<id>.<ext>" tries them in this order. GIFs are left out: they are this tool's
# output, not its input.
VIDEO_EXTENSIONS = (
    ".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v", ".flv", ".mpg", ".mpeg",
    ".wmv", ".asf", ".f4v", ".m2v", ".ts", ".mts", ".m2ts", ".vob", ".3gp", ".3g2", ".ogv",
    ".ogg", ".dv", ".mxf", ".y4m", ".nut", ".rm", ".rmvb",
)  # fmt: skip


@dataclass(frozen=True)
class OutputFormat:
    """What every part of the tool needs to know about one output format."""

    name: str  # the --format value, also the container name FFmpeg knows it by
    extension: str  # file suffix, with its dot
    mime: str  # Content-Type of the file (web server, downloads)
    loops: bool  # plays in a loop by itself; an MP4 loops only where the player is told to
    element: str  # how a web page shows it: "img" (an image) or "video" (autoplay, muted, loop)
    palette: bool  # GIF-style palette: --colours, --dither and --quality apply
    writer: str  # "module:function" that writes it (see video2gif.writers)


OUTPUT_FORMATS: dict[str, OutputFormat] = {f.name: f for f in (
    OutputFormat("gif", ".gif", "image/gif", loops=True, element="img", palette=True,
                 writer="video2gif.writers.gif:write"),
    OutputFormat("webp", ".webp", "image/webp", loops=True, element="img", palette=False,
                 writer="video2gif.writers.ffmpeg:write_webp"),
    OutputFormat("mp4", ".mp4", "video/mp4", loops=False, element="video", palette=False,
                 writer="video2gif.writers.ffmpeg:write_mp4"),
)}  # fmt: skip
DEFAULT_FORMAT = "gif"


def output_format(name: str) -> OutputFormat:
    """The registered format called ``name``.

    Raises:
        KeyError: no such format (callers validate ``--format`` first).
    """
    return OUTPUT_FORMATS[name]


def format_of_file(path: str | PurePath) -> OutputFormat | None:
    """The output format a file name belongs to, by its extension; None for anything else."""
    suffix = PurePath(path).suffix.lower()
    return next((f for f in OUTPUT_FORMATS.values() if f.extension == suffix), None)


def is_video_file(path: str | PurePath) -> bool:
    """Whether a folder input counts this file as a video (by its extension)."""
    return PurePath(path).suffix.lower() in VIDEO_EXTENSIONS
