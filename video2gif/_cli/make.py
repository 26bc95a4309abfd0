"""``make``, ``segments`` and ``shots``: the pipeline on one video at a time."""

from __future__ import annotations

import sys

import click

from ..errors import Video2GifError
from ..options import FEATURES, PICK, SEGMENTS, click_options, from_cli
from .common import debug, echo_json, fail, progress_enabled, warn_unused


def _progress_bar(enabled: bool, label: str):
    """A tqdm bar over seconds of video (analysis) then picks (encoding); None when disabled."""
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=0, desc=label, unit="s", file=sys.stderr, leave=False,
               bar_format="{desc} {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} {unit} "
                          "[{elapsed}<{remaining}]")

    def update(stage: str, done: float, total: float) -> None:
        if stage == "encode":
            bar.set_description(f"{label} · GIF {int(done)}/{int(total)}")
            return
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    return bar, update


@click.command()
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the results; each video gets OUTDIR/<video-stem>/ (inputs that "
                   "share a stem: OUTDIR/<stem>-<extension>/).")
@click_options()
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def make(videos, outdir, quiet, **fields):
    """Make the best GIFs of each VIDEO, with segments.json and an index.html report."""
    from ..batch.inputs import result_names
    from ..pipeline import make_gifs
    from ..scorers import load_model

    options = from_cli(fields)
    warn_unused(options)
    scorer = load_model(options.model, weights_dir=options.weights_dir)
    extractor = options.feature_extractor()
    failed: list[str] = []
    for video, name in zip(videos, result_names(videos)):
        bar, update = _progress_bar(progress_enabled(quiet), name)
        try:
            made = make_gifs(video, outdir, model=scorer, folder_name=name, on_progress=update,
                             features=extractor, options=options)
        except Video2GifError as e:
            if debug():
                raise
            failed.append(video)
            fail(e)
            continue
        finally:
            if bar is not None:
                bar.close()
        if not quiet:
            n = len(made.outputs)
            click.echo(f"{video}: {n} {options.format.upper()}{'s' * (n != 1)} in "
                       f"{made.folder}", err=True)
    if failed:
        click.echo(f"video2gif: {len(failed)} of {len(videos)} inputs failed: "
                   + ", ".join(failed), err=True)
        return 1
    return 0


@click.command()
@click.argument("video", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the segments.json document.")
@click_options(PICK, SEGMENTS, FEATURES)
def segments(video, as_json, **fields):
    """Score every candidate segment of VIDEO (nothing is encoded)."""
    from ..pipeline import find_highlights
    from ..report import segments_document
    from ..scorers import load_model

    options = from_cli(fields)
    found = find_highlights(video, k=options.k,
                            model=load_model(options.model, weights_dir=options.weights_dir),
                            segment_options=options.segment_options(),
                            features=options.feature_extractor())
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


@click.command()
@click.argument("video", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print {video, shots} as JSON.")
def shots(video, as_json):
    """Find the shot boundaries of VIDEO."""
    from ..shots import detect_shots

    result = detect_shots(video)
    if as_json:
        echo_json({"video": result.info.to_dict(), "shots": [s.to_dict() for s in result.shots],
                   "transitions": [t.to_dict() for t in result.transitions]})
        return 0
    for s in result.shots:
        click.echo(f"{s.start:9.3f} {s.end:9.3f}  frames {s.start_frame}-{s.end_frame}  "
                   f"{s.transition_in} → {s.transition_out}")
    return 0
