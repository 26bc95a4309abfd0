"""``align``, ``dataset`` and ``eval``: datasets and evaluation, loaded only when used (their
defaults come from modules that ``video2gif --help`` need not import)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from ..align import MATCH_CONFIDENCE
from ..errors import UsageError
from ..evaluate import NOMINAL_FPS, POSITION_FOLDS, RANDOM_SEEDS, RECALL_K
from .common import ANNOTATIONS_HELP, DATA_HELP, echo_json
from .common import echo_warnings as _echo_warnings


@click.command("align", help=DATA_HELP["align"])
@click.argument("gif", type=click.Path(path_type=str))
@click.argument("video", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True,
              help='Print {"start","end","start_frame","end_frame","confidence","matched"}.')
def align_command(gif, video, as_json):
    from ..align import align

    result = align(gif, video)
    if as_json:
        echo_json(result.to_dict())
        return 0
    verdict = "matched" if result.matched else f"not matched ({result.reason})"
    click.echo(f"{result.start:.3f}-{result.end:.3f} s  frames {result.start_frame}-"
               f"{result.end_frame}  confidence {result.confidence:.2f}  {verdict}")
    return 0


@click.group("dataset", help=DATA_HELP["dataset"])
def dataset_group():
    pass


@dataset_group.command("build")
@click.argument("pairs", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="Annotation file to write (JSON lines, one video per line).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=MATCH_CONFIDENCE,
              show_default=True,
              help="Alignments below this confidence are left out.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=str),
              help="Also write every left-out pair, with its reason, as JSON lines.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary line.")
def dataset_build(pairs, output, min_confidence, report, quiet):
    """Align the (gif, video) pairs of PAIRS (CSV with columns gif,video and optionally id,
    views, age_days, user_id, category, split) and write the confident ones as annotations."""
    from .._io import write_text_atomic
    from ..datasets import build_annotations, read_pairs, write_annotations

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


@click.command("eval", help=DATA_HELP["eval"])
@click.option("-a", "--annotations", required=True, type=click.Path(path_type=str),
              help=ANNOTATIONS_HELP)
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
@click.option("--seeds", type=click.IntRange(min=1), default=RANDOM_SEEDS, show_default=True,
              help="Seeds the random baseline is averaged over.")
@click.option("--folds", type=click.IntRange(min=2), default=POSITION_FOLDS, show_default=True,
              help="Video-level folds of the position baseline.")
@click.option("-k", "k", type=click.IntRange(min=1), default=RECALL_K, show_default=True,
              help="R@k: how many top segments count.")
@click.option("--fps", type=click.FloatRange(min=1), default=None,
              help="Frame rate of the metric grid for annotations without one "
                   f"[default: {NOMINAL_FPS:g}].")
@click.option("-q", "--quiet", is_flag=True, help="No per-video progress lines.")
def eval_command(annotations, testset, predictions, model, videos, output, as_json, baselines,
                 seeds, folds, k, fps, quiet):
    from .._io import write_text_atomic
    from ..datasets import load_annotations
    from ..evaluate import (
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
