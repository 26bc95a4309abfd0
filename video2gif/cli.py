"""The ``video2gif`` command: a thin layer over the Python API.

Errors a user can cause print as one line, ``video2gif: error: <what>: <why>``, and exit 1
(processing) or 2 (usage). Set ``VIDEO2GIF_DEBUG=1`` to get the full traceback instead.
"""

from __future__ import annotations

import json
import os
import sys

from pathlib import Path

import click

from . import __version__
from .encode import EncodeOptions
from .errors import UsageError, Video2GifError
from .pipeline import find_highlights, make_gifs
from .rank import load_model
from .report import segments_document
from .segments import SegmentOptions
from .shots import detect_shots


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


def _segment_options(min_len: float, max_len: float, length: float | None) -> SegmentOptions:
    base = SegmentOptions()
    if length is None:  # keep the default window inside a user's min/max
        length = min(max(base.length, min_len), max_len)
    return SegmentOptions(length=length, min_length=min_len, max_length=max_len).validate()


def _progress_bar(enabled: bool, label: str):
    """A tqdm bar over seconds of video (analysis) then picks (encoding); None when disabled."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, desc=label, unit="s", file=sys.stderr, leave=False,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} {unit} [{elapsed}<{remaining}]")

    def update(stage: str, done: float, total: float) -> None:
        if stage == "encode":
            bar.set_description(f"{label} · GIF {int(done)}/{int(total)}")
            return
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    return bar, update


_segment_opts = [
    click.option("--min-len", type=click.FloatRange(min=0.1), default=SegmentOptions().min_length,
                 show_default=True, help="Shortest candidate, seconds (shorter shots are dropped)."),
    click.option("--max-len", type=click.FloatRange(min=0.1), default=SegmentOptions().max_length,
                 show_default=True, help="Longest candidate: shots up to this long stay whole."),
    click.option("--length", type=click.FloatRange(min=0.1), default=None,
                 help=f"Window length in longer shots, seconds [default: {SegmentOptions().length}]."),
    click.option("--model", default="prior", show_default=True,
                 help="Scorer: a registered name or a model file."),
]


def _with(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


@cli.command()
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the results; each video gets OUTDIR/<video-stem>/.")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many GIFs per video.")
@click.option("--width", type=click.IntRange(min=16), default=EncodeOptions().width,
              show_default=True, help="Output width in pixels (never upscaled).")
@click.option("--fps", type=click.FloatRange(min=1, max=50), default=EncodeOptions().fps,
              show_default=True, help="Output frame rate.")
@click.option("--max-bytes", type=click.IntRange(min=1024), default=EncodeOptions().max_bytes,
              show_default=True, help="Size budget per file; met by lowering fps, width, colours.")
@click.option("--format", "fmt", type=click.Choice(["gif", "webp", "mp4"]), default="gif",
              show_default=True, help="Output format.")
@_with(_segment_opts)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def make(videos, outdir, k, width, fps, max_bytes, fmt, min_len, max_len, length, model, quiet):
    """Make the best GIFs of each VIDEO, with segments.json and an index.html report."""
    segment_options = _segment_options(min_len, max_len, length)
    encode_options = EncodeOptions(width=width, fps=fps, max_bytes=max_bytes, format=fmt)
    scorer = load_model(model)
    failed: list[str] = []
    used_names: set[str] = set()
    for video in videos:
        name = Path(video).stem or "video"
        if name in used_names:  # two inputs with one stem: keep both results
            n = 2
            while f"{name}-{n}" in used_names:
                n += 1
            name = f"{name}-{n}"
        used_names.add(name)
        bar, update = _progress_bar(progress_enabled(quiet), name)
        try:
            made = make_gifs(video, outdir, k=k, model=scorer, encode_options=encode_options,
                             segment_options=segment_options, folder_name=name,
                             on_progress=update)
        except Video2GifError as e:
            if _debug():
                raise
            failed.append(video)
            fail(e)
            continue
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            click.echo(f"{video}: {len(made.outputs)} {fmt.upper()}s in {made.folder}", err=True)
    if failed:
        click.echo(f"video2gif: {len(failed)} of {len(videos)} inputs failed: "
                   + ", ".join(failed), err=True)
        return 1
    return 0


@cli.command()
@click.argument("video", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the segments.json document.")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many picks to mark.")
@_with(_segment_opts)
def segments(video, as_json, k, min_len, max_len, length, model):
    """Score every candidate segment of VIDEO (nothing is encoded)."""
    found = find_highlights(video, k=k, model=model,
                            segment_options=_segment_options(min_len, max_len, length))
    if as_json:
        echo_json(segments_document(found))
        return 0
    picks = {i: n for n, i in enumerate(found.pick_indices, start=1)}
    click.echo(f"{'start':>8} {'end':>8} {'shot':>4} {'score':>8} {'rank':>5} pick")
    for i, s in enumerate(found.segments):
        score = "-" if s.score is None else f"{s.score:8.4f}"
        click.echo(f"{s.start:8.2f} {s.end:8.2f} {s.shot:4d} {score:>8} {s.rank or '-':>5} "
                   f"{picks.get(i, '')}")
    return 0


@cli.command()
@click.argument("video", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print {video, shots} as JSON.")
def shots(video, as_json):
    """Find the shot boundaries of VIDEO."""
    result = detect_shots(video)
    if as_json:
        echo_json({"video": result.info.to_dict(), "shots": [s.to_dict() for s in result.shots]})
        return 0
    for s in result.shots:
        click.echo(f"{s.start:9.3f} {s.end:9.3f}  frames {s.start_frame}-{s.end_frame}  "
                   f"{s.transition_in} → {s.transition_out}")
    return 0


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
