"""What every command shares: the one-line error contract, JSON output, progress, warnings."""

from __future__ import annotations

import json
import os
import sys

import click

from ..errors import Video2GifError

MAX_WARNING_LINES = 20  # dataset warnings printed before the rest are counted
# --annotations of train and eval: every format load_annotations reads.
ANNOTATIONS_HELP = "GIF annotations: JSON lines, a PHD-GIFs CSV, or Video2GIF metadata.txt."
# The data commands' help, here so that the top-level --help lists them without importing them.
DATA_HELP = {
    "align": "Find where GIF was cut from VIDEO (times in seconds, frames end-exclusive).",
    "dataset": "Build GIF annotation files (JSON lines) for training and evaluation.",
    "eval": "Evaluate predictions (or a model) on annotated videos: mAP, nMSD, R@k, HIT@1, "
            "beside the random and position baselines.",
}


def debug() -> bool:
    """Whether ``VIDEO2GIF_DEBUG`` asks for tracebacks instead of one-line errors."""
    return os.environ.get("VIDEO2GIF_DEBUG", "") not in ("", "0")


def fail(error: Video2GifError) -> None:
    """Print ``error`` as the one-line message of the CLI contract."""
    click.echo(f"video2gif: error: {error}", err=True)


def echo_json(document: object) -> None:
    """Write a JSON document to stdout."""
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def progress_enabled(quiet: bool) -> bool:
    """Progress bars go to stderr, only when it is a terminal and --quiet is off."""
    return not quiet and sys.stderr.isatty()


def warn_unused(options) -> None:
    """Say which flags given to a GifOptions command the chosen format does not use."""
    if flags := options.unused_flags():
        verb = "applies" if len(flags) == 1 else "apply"
        click.echo(f"video2gif: warning: {', '.join(flags)} {verb} to GIF only, not to "
                   f"--format {options.format}", err=True)


def echo_warnings(caught: list) -> None:
    """Print recorded project warnings as ``video2gif: warning: ...`` lines on stderr."""
    from ..errors import Video2GifWarning

    messages = [str(w.message) for w in caught if issubclass(w.category, Video2GifWarning)]
    for message in messages[:MAX_WARNING_LINES]:
        click.echo(f"video2gif: warning: {message}", err=True)
    if len(messages) > MAX_WARNING_LINES:
        click.echo(f"video2gif: warning: ... and {len(messages) - MAX_WARNING_LINES} more",
                   err=True)
