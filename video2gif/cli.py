"""The ``video2gif`` command: a thin layer over the Python API.

Errors a user can cause print as one line, ``video2gif: error: <what>: <why>``, and exit 1
(processing) or 2 (usage). Set ``VIDEO2GIF_DEBUG=1`` to get the full traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import click

from . import __version__
from .encode import EncodeOptions
from .errors import UsageError, Video2GifError, Video2GifWarning
from .features.backbones import BACKBONES, DEFAULT_BACKBONE, NO_BACKBONE
from .features.cache import FeatureCache
from .features.extract import FeatureExtractor, FeatureOptions
from .pipeline import find_highlights, make_gifs
from .scorers import DEFAULT_MODEL, load_model
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
    click.option("--model", default=DEFAULT_MODEL, show_default=True,
                 help="Scorer: a registered name or a model file."),
]

_feature_opts = [
    click.option("--backbone", default=DEFAULT_BACKBONE, show_default=True,
                 help=f"Visual features: {', '.join(sorted(BACKBONES))} or {NO_BACKBONE}."),
    click.option("--weights-dir", type=click.Path(file_okay=False, path_type=str), default=None,
                 help="Folder of the released C3D/Video2GIF files (c3d_model.pkl, "
                      "snipplet_mean.npy, video2gif_weights.npz) [default: "
                      "$VIDEO2GIF_WEIGHTS_DIR]."),
    click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=str),
                 default=None, help="Feature cache folder [default: "
                                    "$XDG_CACHE_HOME/video2gif/features]."),
    click.option("--no-cache", is_flag=True, help="Neither read nor write the feature cache."),
]


def _features(backbone: str, weights_dir: str | None, cache_dir: str | None, no_cache: bool
              ) -> FeatureExtractor:
    """One extractor for all inputs: it holds the loaded backbone and the cache."""
    cache = None if no_cache else FeatureCache(cache_dir)
    return FeatureExtractor(FeatureOptions(backbone=backbone, weights_dir=weights_dir),
                            cache=cache)


def _with(options):
    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


# make's output options; batch and serve take them too (with _segment_opts and _feature_opts).
_make_opts = [
    click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True,
                 help="How many GIFs per video."),
    click.option("--width", type=click.IntRange(min=16), default=EncodeOptions().width,
                 show_default=True, help="Output width in pixels (never upscaled)."),
    click.option("--fps", type=click.FloatRange(min=1, max=50), default=EncodeOptions().fps,
                 show_default=True, help="Output frame rate."),
    click.option("--max-bytes", type=click.IntRange(min=1024),
                 default=EncodeOptions().max_bytes, show_default=True,
                 help="Size budget per file; met by lowering fps, width, colours."),
    click.option("--format", "fmt", type=click.Choice(["gif", "webp", "mp4"]), default="gif",
                 show_default=True, help="Output format."),
]


@cli.command()
@click.argument("videos", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the results; each video gets OUTDIR/<video-stem>/.")
@_with(_make_opts)
@_with(_segment_opts)
@_with(_feature_opts)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def make(videos, outdir, k, width, fps, max_bytes, fmt, min_len, max_len, length, model,
         backbone, weights_dir, cache_dir, no_cache, quiet):
    """Make the best GIFs of each VIDEO, with segments.json and an index.html report."""
    segment_options = _segment_options(min_len, max_len, length)
    encode_options = EncodeOptions(width=width, fps=fps, max_bytes=max_bytes, format=fmt)
    scorer = load_model(model, weights_dir=weights_dir)
    extractor = _features(backbone, weights_dir, cache_dir, no_cache)
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
                             on_progress=update, features=extractor)
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
@_with(_feature_opts)
def segments(video, as_json, k, min_len, max_len, length, model, backbone, weights_dir, cache_dir,
             no_cache):
    """Score every candidate segment of VIDEO (nothing is encoded)."""
    found = find_highlights(video, k=k, model=load_model(model, weights_dir=weights_dir),
                            segment_options=_segment_options(min_len, max_len, length),
                            features=_features(backbone, weights_dir, cache_dir, no_cache))
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
        echo_json({"video": result.info.to_dict(), "shots": [s.to_dict() for s in result.shots],
                   "transitions": [t.to_dict() for t in result.transitions]})
        return 0
    for s in result.shots:
        click.echo(f"{s.start:9.3f} {s.end:9.3f}  frames {s.start_frame}-{s.end_frame}  "
                   f"{s.transition_in} → {s.transition_out}")
    return 0


# --- align, dataset, eval (datasets and evaluation) --------------------------------------------

MAX_WARNING_LINES = 20  # dataset warnings printed before the rest are counted


def _echo_warnings(caught: list) -> None:
    """Print recorded dataset warnings as ``video2gif: warning: ...`` lines on stderr."""
    from .errors import Video2GifWarning

    messages = [str(w.message) for w in caught if issubclass(w.category, Video2GifWarning)]
    for message in messages[:MAX_WARNING_LINES]:
        click.echo(f"video2gif: warning: {message}", err=True)
    if len(messages) > MAX_WARNING_LINES:
        click.echo(f"video2gif: warning: ... and {len(messages) - MAX_WARNING_LINES} more",
                   err=True)


@cli.command("align")
@click.argument("gif", type=click.Path(path_type=str))
@click.argument("video", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True,
              help='Print {"start","end","start_frame","end_frame","confidence","matched"}.')
def align_command(gif, video, as_json):
    """Find where GIF was cut from VIDEO (times in seconds, frames end-exclusive)."""
    from .align import align

    result = align(gif, video)
    if as_json:
        echo_json(result.to_dict())
        return 0
    verdict = "matched" if result.matched else f"not matched ({result.reason})"
    click.echo(f"{result.start:.3f}-{result.end:.3f} s  frames {result.start_frame}-"
               f"{result.end_frame}  confidence {result.confidence:.2f}  {verdict}")
    return 0


@cli.group("dataset")
def dataset_group():
    """Build GIF annotation files (JSON lines) for training and evaluation."""


@dataset_group.command("build")
@click.argument("pairs", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="Annotation file to write (JSON lines, one video per line).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Alignments below this confidence are left out.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=str),
              help="Also write every left-out pair, with its reason, as JSON lines.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary line.")
def dataset_build(pairs, output, min_confidence, report, quiet):
    """Align the (gif, video) pairs of PAIRS (CSV with columns gif,video and optionally id,
    views, age_days, user_id, category, split) and write the confident ones as annotations."""
    import warnings

    from ._io import write_text_atomic
    from .datasets import build_annotations, read_pairs, write_annotations

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rows = read_pairs(pairs)
    _echo_warnings(caught)
    if not rows:
        raise UsageError(pairs, "no (gif, video) pair to align")

    def progress(video, done, total):
        if not quiet:
            click.echo(f"[{done}/{total}] {video}", err=True)

    out_dir = Path(output).resolve().parent
    result = build_annotations(rows, min_confidence, relative_to=out_dir, on_video=progress)
    write_annotations(result.annotations, output)
    for r in result.rejected:
        if not quiet or r.error:
            click.echo(f"video2gif: skipped {r.gif} (line {r.line}): {r.reason}", err=True)
    if report:
        lines = [json.dumps({"gif": r.gif, "video": r.video, "line": r.line, "reason": r.reason,
                             "confidence": r.confidence, "error": r.error})
                 for r in result.rejected]
        write_text_atomic(report, "".join(line + "\n" for line in lines))
    errors = sum(r.error for r in result.rejected)
    click.echo(f"kept {result.kept} of {len(rows)} GIFs ({len(result.annotations)} videos) in "
               f"{output}; {len(result.rejected) - errors} did not align, {errors} unreadable",
               err=True)
    return 1 if errors else 0


@cli.command("eval")
@click.option("-a", "--annotations", required=True, type=click.Path(path_type=str),
              help="GIF annotations: JSON lines, a PHD-GIFs CSV, or Video2GIF metadata.txt.")
@click.option("--testset", type=click.Path(path_type=str),
              help="With Video2GIF metadata.txt: its testset.txt (evaluate those videos).")
@click.option("-p", "--predictions", type=click.Path(path_type=str),
              help="Predictions: JSON lines, a segments.json, or a folder of segments.json.")
@click.option("-m", "--model", help="Score the videos with this model (name or file) instead.")
@click.option("--videos", type=click.Path(file_okay=False, path_type=str),
              help="With --model: folder holding the videos, named <id>.<ext>.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=str),
              help="Write the results as JSON to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON results instead of a table.")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Also evaluate the random and position baselines on the same segments.")
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True,
              help="Seeds the random baseline is averaged over.")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Video-level folds of the position baseline.")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True,
              help="R@k: how many top segments count.")
@click.option("--fps", type=click.FloatRange(min=1), default=None,
              help="Frame rate of the metric grid for annotations without one [default: 25].")
@click.option("-q", "--quiet", is_flag=True, help="No per-video progress lines.")
def eval_command(annotations, testset, predictions, model, videos, output, as_json, baselines,
                 seeds, folds, k, fps, quiet):
    """Evaluate predictions (or a model) on annotated videos: mAP, nMSD, R@k, HIT@1, beside the
    random and position baselines."""
    import warnings

    from ._io import write_text_atomic
    from .datasets import load_annotations
    from .evaluate import (
        evaluate_videos,
        format_table,
        model_predictions,
        position_baseline,
        random_baseline,
        read_predictions,
    )

    if (predictions is None) == (model is None):
        raise UsageError("--predictions/--model", "give exactly one of them")
    if model is not None and videos is None:
        raise UsageError("--videos", "--model needs the folder of videos")
    if videos is not None and model is None:
        raise UsageError("--videos", "only applies with --model")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        videos_list = load_annotations(annotations, testset=testset)
        if not videos_list:
            raise UsageError(annotations, "no annotated video to evaluate")
        failures: dict[str, str] = {}
        if predictions is not None:
            preds = read_predictions(predictions)
            source = {"predictions": predictions}
        else:
            def progress(vid, error):
                if not quiet:
                    click.echo(f"{vid}: {'skipped: ' + error if error else 'scored'}", err=True)

            preds, failures = model_predictions(
                videos_list, model, videos, base=Path(annotations).resolve().parent,
                on_video=progress,
            )
            source = {"model": model, "videos": videos}
        options = {"k": k, "fps": fps}
        results = [evaluate_videos(videos_list, preds, name=str(model or "predictions"),
                                   **options)]
        if baselines:
            evaluated = {r.id for r in results[0].per_video}
            same = [v for v in videos_list if v.id in evaluated]
            segments = {vid: p.segments for vid, p in preds.items() if vid in evaluated}
            results.append(random_baseline(same, segments, seeds=seeds, **options))
            if len(evaluated) >= 2:
                results.append(position_baseline(same, segments, folds=min(folds, len(evaluated)),
                                                  **options))
            else:
                click.echo("video2gif: warning: one video: no position baseline (it is fitted "
                           "on other videos)", err=True)
    _echo_warnings(caught)
    document = {
        "annotations": annotations,
        **({"testset": testset} if testset else {}),
        **source,
        "k": k,
        "results": [r.to_dict() for r in results],
        "failed": failures,
    }
    if output:
        write_text_atomic(output, json.dumps(document, indent=2) + "\n")
    if as_json:
        echo_json(document)
    else:
        click.echo(format_table(results))
    return 1 if failures else 0

# --- train (learned ranking) -------------------------------------------------------------------


def _context_blocks(text: str) -> tuple[str, ...]:
    from .context import check_blocks

    if text.strip().lower() in ("", "none"):
        return ()
    return check_blocks([b.strip() for b in text.split(",") if b.strip()])


@cli.command("train")
@click.option("-a", "--annotations", required=True, type=click.Path(path_type=str),
              help="GIF annotations: JSON lines, a PHD-GIFs CSV, or Video2GIF metadata.txt.")
@click.option("--videos", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder holding the videos, named <id>.<ext> [default: the annotations' "
                   "path fields].")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The model file to write (.npz).")
@click.option("--loss", type=click.Choice(["l1", "l2", "huber", "adaptive-huber"]),
              default="adaptive-huber", show_default=True,
              help="Pair loss (adaptive-huber needs GIF views and age; else huber is used).")
@click.option("--ensemble", type=click.IntRange(min=1), default=3, show_default=True,
              help="Models trained from consecutive seeds; their scores are averaged.")
@click.option("--context", "context", default="position,duration", show_default=True,
              help="Context blocks, comma-separated: position, duration, category, tags; "
                   "or none.")
@click.option("--epochs", type=click.IntRange(min=1), default=30, show_default=True,
              help="Epochs at most per model.")
@click.option("--patience", type=click.IntRange(min=0), default=5, show_default=True,
              help="Stop after this many epochs without a better validation mAP (0: never).")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=0.001,
              show_default=True, help="Initial SGD learning rate (divided by 10 every 10 "
                                      "epochs).")
@click.option("--validation-share", type=click.FloatRange(min=0, max=1, max_open=True),
              default=0.2, show_default=True,
              help="Share of the videos held back for validation (unless the annotations "
                   "mark a val split).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the first model.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for training [default: torch's choice]; on a busy "
                   "machine 1 is often fastest.")
@_with(_feature_opts)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def train_command(annotations, videos, output, loss, ensemble, context, epochs, patience,
                  learning_rate, validation_share, seed, threads, backbone, weights_dir,
                  cache_dir, no_cache, quiet):
    """Train a RankNet on annotated videos and write the model file; use it with
    `video2gif make --model MODEL`."""
    import warnings

    from .train import TrainOptions, train_from_annotations

    options = TrainOptions(loss=loss, ensemble=ensemble, max_epochs=epochs, patience=patience,
                           learning_rate=learning_rate, seed=seed, threads=threads).validate()
    blocks = _context_blocks(context)
    extractor = _features(backbone, weights_dir, cache_dir, no_cache)

    def progress(vid, error):
        if not quiet:
            click.echo(f"{vid}: {'skipped: ' + error if error else 'features ready'}", err=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train_from_annotations(
            annotations, videos, output, options, features=extractor, context=blocks,
            validation_share=validation_share, progress=progress_enabled(quiet),
            on_video=progress,
        )
    _echo_warnings(caught)
    metrics = result.ranker.metrics_
    figures = (f"; validation mAP {100 * metrics['map']:.2f}%, nMSD {100 * metrics['nmsd']:.2f}%"
               if metrics else "; no validation videos")
    best = ", ".join(str(m.best_epoch) for m in result.ranker.members_)
    click.echo(f"{result.path}: {len(result.ranker.members_)} model(s) ({result.loss} loss, best "
               f"epochs {best}) trained on {result.train_videos} videos, "
               f"{result.validation_videos} for validation{figures}", err=True)
    if result.failures:
        click.echo(f"video2gif: {len(result.failures)} annotated videos could not be used: "
                   + ", ".join(sorted(result.failures)), err=True)
        return 1
    return 0


# --- batch, serve (scale-out and web) ----------------------------------------------------------


def _make_settings(options: dict):
    """make's options, as click passes them, as the MakeSettings of batch and serve."""
    from .batch import MakeSettings

    o = dict(options)
    settings = MakeSettings(
        k=o.pop("k"),
        encode=EncodeOptions(width=o.pop("width"), fps=o.pop("fps"),
                             max_bytes=o.pop("max_bytes"), format=o.pop("fmt")),
        segments=_segment_options(o.pop("min_len"), o.pop("max_len"), o.pop("length")),
        model=o.pop("model"),
        features=FeatureOptions(backbone=o.pop("backbone"), weights_dir=o.pop("weights_dir")),
        cache_dir=o.pop("cache_dir"),
        use_cache=not o.pop("no_cache"),
    )
    for name, value in o.items():  # an option of make that batch/serve do not pass on yet
        if value not in (None, False, ()):
            raise UsageError(f"--{name.replace('_', '-')}", "is not supported by this command")
    return settings


_SIZE_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,  # bytes per unit
               "KI": 2**10, "MI": 2**20, "GI": 2**30, "TI": 2**40}


class _ByteSize(click.ParamType):
    """A size in bytes: 1000000, 500K, 200M, 1G (powers of 1000) or KiB, MiB, GiB."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        import re

        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]I?)?B?\s*", str(value).upper())
        if not m:
            self.fail(f"{value!r} is not a size (e.g. 1G, 500M, 1000000)", param, ctx)
        size = int(float(m.group(1)) * _SIZE_UNITS[m.group(2) or ""])
        if size < 1:
            self.fail("must be at least 1 byte", param, ctx)
        return size


@cli.command()
@click.argument("source", type=click.Path(path_type=str))
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Folder for the results: OUTDIR/<path below SOURCE, no extension>/ per video, "
                   "and the manifest.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Videos made at once [default: the CPU count; with --engine ray: the "
                   "cluster's CPUs].")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: worker processes here; ray: a Ray cluster (pip install "
                   "'video2gif[ray]').")
@click.option("--address", default=None,
              help="With --engine ray: the cluster to join, e.g. auto or ray://HEAD:10001 "
                   "[default: $RAY_ADDRESS, else a Ray started for this batch].")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Manifest of finished videos (JSON lines) [default: OUTDIR/manifest.jsonl].")
@_with(_make_opts)
@_with(_segment_opts)
@_with(_feature_opts)
@click.option("-q", "--quiet", is_flag=True, help="Only failures and errors.")
def batch(source, outdir, workers, engine, address, manifest, quiet, **make_options):
    """Make the GIFs of every video in SOURCE: a folder (searched recursively) or a text file
    of paths, one per line.

    Resumable: each finished video is appended to the manifest, and running the same command
    again skips what is done with the same settings and retries what failed. One bad video does
    not stop the others; the exit code is 1 if any failed.
    """
    from .batch import find_inputs, run_batch

    settings = _make_settings(make_options)
    inputs = find_inputs(source)
    show_bar = progress_enabled(quiet)
    state: dict = {"bar": None}

    def plan(to_do: int, skipped: int) -> None:
        if skipped and not quiet:
            click.echo(f"video2gif: {skipped} of {len(inputs)} videos already done, skipped",
                       err=True)
        if show_bar and to_do:
            from tqdm import tqdm

            state["bar"] = tqdm(total=to_do, desc="batch", unit="video", file=sys.stderr,
                                dynamic_ncols=True)

    def record(r: dict, done: int, failed: int, remaining: int) -> None:
        bar = state["bar"]
        ok = r["status"] == "done"
        line = (f"{r['input']}: {len(r['outputs'])} files in {r['folder']} ({r['seconds']:.1f} s)"
                if ok else f"Skipping {r['input']} due to {r['error']}")
        if bar is not None:
            bar.set_postfix_str(f"done {done}, failed {failed}")
            bar.update(1)
            if not ok:
                bar.write(line, file=sys.stderr)
        elif not ok or not quiet:
            click.echo(f"[{done + failed}/{done + failed + remaining}] {line}", err=True)

    try:
        summary = run_batch(inputs, outdir, settings, workers=workers, engine=engine,
                            address=address, manifest=manifest, on_plan=plan, on_record=record)
    finally:
        if state["bar"] is not None:
            state["bar"].close()
    if not quiet:
        click.echo(f"video2gif: batch: {summary.done} done, {summary.failed} failed, "
                   f"{summary.skipped} skipped in {summary.seconds:.1f} s; manifest "
                   f"{summary.manifest}", err=True)
    return 1 if summary.failed else 0


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback opens the page to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Videos made at once (worker processes).")
@click.option("--queue", type=click.IntRange(min=0), default=4, show_default=True,
              help="Jobs waiting beyond the running ones; further uploads get a 'busy' answer.")
@click.option("--max-upload", type=_ByteSize(), default="1G", show_default=True,
              help="Largest upload (bytes, or 500M, 2G, 1GiB).")
@click.option("--keep", type=click.FloatRange(min=1), default=3600, show_default=True,
              help="Seconds a job's results stay downloadable; then its files are deleted.")
@_with(_make_opts)
@_with(_segment_opts)
@_with(_feature_opts)
def serve(host, port, workers, queue, max_upload, keep, **make_options):
    """Serve a web page on which to drop a video and get its best GIFs."""
    settings = _make_settings(make_options).validate()
    try:
        from .serve import ServeConfig, is_loopback, run_server
    except ImportError as e:
        raise UsageError("serve", f"the web app needs its extra: pip install 'video2gif[serve]' "
                                  f"({e})") from None
    config = ServeConfig(settings=settings, workers=workers, queue=queue,
                         max_upload_bytes=max_upload, keep_seconds=keep).validate()
    if not is_loopback(host):
        click.echo(f"video2gif: warning: listening on {host}: anyone who can reach this machine "
                   "can upload videos", err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"video2gif: serving on http://{shown}:{port}/ (Ctrl-C stops)", err=True)
    run_server(config, host=host, port=port)
    return 0


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
