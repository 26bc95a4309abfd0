"""``video2gif train``: learn a RankNet from annotated videos.

Loaded only when the command runs (or the top-level help lists it): its flags' defaults come from
:mod:`video2gif.train`, which imports torch.
"""

from __future__ import annotations

import click

from ..context import DEFAULT_BLOCKS
from ..options import FEATURES, GifOptions, click_options, option_fields
from ..train import VALIDATION_SHARE
from .common import ANNOTATIONS_HELP, progress_enabled
from .common import echo_warnings as _echo_warnings
from .train_options import TRAIN_HELP, train_options


def _context_blocks(text: str) -> tuple[str, ...]:
    from ..context import check_blocks

    if text.strip().lower() in ("", "none"):
        return ()
    return check_blocks([b.strip() for b in text.split(",") if b.strip()])


@click.command("train", help=TRAIN_HELP)
@click.option("-a", "--annotations", required=True, type=click.Path(path_type=str),
              help=ANNOTATIONS_HELP)
@click.option("--videos", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Folder holding the videos, named <id>.<ext> [default: the annotations' "
                   "path fields].")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="The model file to write (.npz).")
@click.option("--context", "context", default=",".join(DEFAULT_BLOCKS), show_default=True,
              help="Context blocks, comma-separated: position, duration, category, tags; "
                   "or none.")
@click.option("--validation-share", type=click.FloatRange(min=0, max=1, max_open=True),
              default=VALIDATION_SHARE, show_default=True,
              help="Share of the videos held back for validation (unless the annotations "
                   "mark a val split).")
@train_options()
@click_options(FEATURES)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def train_command(annotations, videos, output, context, validation_share, quiet, **fields):
    import warnings

    from ..train import TrainOptions, train_from_annotations

    # The feature flags are GifOptions fields (the same as make's); the rest are TrainOptions'.
    feature_names = {f.name for f, _ in option_fields(FEATURES)}
    features = GifOptions(**{k: v for k, v in fields.items() if k in feature_names})
    options = TrainOptions(**{k: v for k, v in fields.items()
                              if k not in feature_names}).validate()
    blocks = _context_blocks(context)
    extractor = features.validate(check_model=False).feature_extractor()

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
