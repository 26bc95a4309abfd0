"""The ``video2gif`` command: a thin layer over the Python API.

Errors a user can cause print as one line, ``video2gif: error: <what>: <why>``, and exit 1
(processing) or 2 (usage). Set ``VIDEO2GIF_DEBUG=1`` to get the full traceback instead.

The pipeline's commands live in :mod:`video2gif._cli` (``make``, ``segments``, ``shots`` in
``make.py``; ``batch``, ``serve`` in ``scale.py``; ``train`` in ``train.py``, loaded only when
used); their options come from :class:`video2gif.options.GifOptions`. The data commands
(``align``, ``dataset``, ``eval``) are in ``data.py``, also loaded only when used. This module
holds the group and :func:`main`.
"""

from __future__ import annotations

import sys
import warnings

import click

from ._cli.common import DATA_HELP, echo_json, fail, progress_enabled
from ._cli.common import debug as _debug
from ._cli.make import make, segments, shots
from ._cli.scale import batch, serve
from ._cli.train_options import TRAIN_HELP
from ._lazy import resolve
from ._version import __version__
from .errors import UsageError, Video2GifError, Video2GifWarning


class _LazyGroup(click.Group):
    """A group whose heavy commands are imported only when used (``train`` imports torch)."""

    LAZY = {"train": "video2gif._cli.train:train_command",
            "align": "video2gif._cli.data:align_command",
            "dataset": "video2gif._cli.data:dataset_group",
            "eval": "video2gif._cli.data:eval_command"}
    # What the top-level --help lists for them, so listing imports nothing (--help ≤ 0.3 s).
    LAZY_HELP = {"train": TRAIN_HELP, **DATA_HELP}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def format_commands(self, ctx: click.Context, formatter) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and getattr(self, "_listing", False):
            return click.Command(name, help=self.LAZY_HELP[name])
        if name in self.LAZY:
            return resolve(self.LAZY[name])
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="video2gif")
def cli() -> None:
    """Turn videos into their best animated GIFs, automatically.

    \b
    Start with:
      video2gif make VIDEO -o OUTDIR        best GIFs of a video, with a report page
      video2gif segments VIDEO --json       every candidate segment and its score
      video2gif shots VIDEO --json          shot boundaries
    """


for _command in (make, segments, shots, batch, serve):
    cli.add_command(_command)


_default_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """The project's own warnings print as ``video2gif: warning: ...``; others as usual."""
    if issubclass(category, Video2GifWarning):
        click.echo(f"video2gif: warning: {message}", err=True)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn errors into the one-line contract."""
    warnings.showwarning = _show_warning
    try:
        # Commands return their exit code (None means 0).
        code = cli.main(args=argv, prog_name="video2gif", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("video2gif: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        if _debug():
            raise
        message = e.format_message()
        if (isinstance(e, click.BadParameter) and e.message
                and (e.param_hint or e.param is not None)):
            # the flag once, then click's reason (its own text restates the flag); a missing
            # one has no reason of its own, and click's text says which it is
            hint = e.param_hint or "/".join(e.param.opts) or e.param.name
            message = f"{hint}: {e.message}"
        click.echo(f"video2gif: error: {message}", err=True)
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
