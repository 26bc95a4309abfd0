"""The ``video2gif`` command: a thin layer over the Python API.

Errors a user can cause print as one line, ``video2gif: error: <what>: <why>``, and exit 1
(processing) or 2 (usage). Set ``VIDEO2GIF_DEBUG=1`` to get the full traceback instead.
"""

from __future__ import annotations

import json
import os
import sys

import click

from . import __version__
from .errors import UsageError, Video2GifError


def _debug() -> bool:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="video2gif")
def cli() -> None:
    """Turn videos into their best animated GIFs, automatically.

    \b
    Start with:
      video2gif make VIDEO -o OUTDIR        best GIFs of a video, with a report page
      video2gif segments VIDEO --json       every candidate segment and its score
      video2gif shots VIDEO --json          shot boundaries
    """


# --- core commands: make, segments, shots (pipeline) -------------------------------------------

# --- align, dataset, eval (datasets and evaluation) --------------------------------------------

# --- train (learned ranking) -------------------------------------------------------------------

# --- batch, serve (scale-out and web) ----------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn errors into the one-line contract."""
    try:
        # Commands return their exit code (None means 0).
        code = cli.main(args=argv, prog_name="video2gif", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("video2gif: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        if _debug():
            raise
        hint = ""
        if isinstance(e, click.BadParameter) and e.param_hint:
            hint = f"{e.param_hint}: "
        elif isinstance(e, click.BadParameter) and e.param is not None:
            hint = f"{'/'.join(e.param.opts) or e.param.name}: "
        click.echo(f"video2gif: error: {hint}{e.format_message()}", err=True)
        sys.exit(2 if isinstance(e, click.UsageError) else e.exit_code)
    except Video2GifError as e:
        if _debug():
            raise
        fail(e)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("video2gif: error: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


__all__ = ["cli", "main", "fail", "echo_json", "progress_enabled", "UsageError"]
