"""Training from annotated videos on disk (``video2gif train``): analyse each video once
(:func:`video2gif.analysis.analyse`, the code that later scores with the model), label its
candidates from its GIFs, hold some videos back for validation, fit, and write the model file.

Example:
    >>> result = train_from_annotations("gifs.jsonl", "videos/", "ranknet.npz")  # doctest: +SKIP
    >>> result.ranker.metrics_  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..context import DEFAULT_BLOCKS, check_blocks
from ..datasets import VideoAnnotation, label_segments, load_annotations
from ..errors import UsageError, Video2GifWarning
from ..features import SegmentFeatures
from ..ranknet import FeatureLayout, layout_for_backbone, normalise_popularity, save_model
from .options import SEED, TrainOptions
from .pairs import TrainingVideo
from .ranker import RankNet

VALIDATION_SHARE = 0.2  # of the annotated videos (by id) held back for validation by default
VALIDATION_SPLITS = ("val", "valid", "validation")  # annotation splits used as validation as-is


@dataclass(frozen=True)
class VideoMaterial:
    """One annotated video's segment features, as the pipeline computes them for scoring."""

    annotation: VideoAnnotation
    features: SegmentFeatures


def collect_features(
    annotations: Sequence[VideoAnnotation],
    folder: str | os.PathLike | None,
    extractor,
    base: str | os.PathLike | None = None,
    segment_options=None,
    on_video=None,
) -> tuple[list[VideoMaterial], dict[str, str]]:
    """Segment features of every annotated video found on disk, through the full pipeline.

    Each video is analysed once (:func:`video2gif.analysis.analyse`, the code that later scores
    with the trained model: shots, signals, and the backbone unless the extractor's feature
    cache already holds its embeddings, which it then keeps for the next run); the video's
    category and tags go into its context.

    Arguments:
        annotations: the videos (an id annotated several times is read once, its GIFs merged).
        folder: where the videos are (``<id>.<ext>``; see :func:`video2gif.datasets.locate_video`).
        extractor: a :class:`~video2gif.features.extract.FeatureExtractor` (backbone and cache).
        base: the annotation file's folder, for relative ``path`` fields.
        segment_options: candidate lengths (default: the pipeline's).
        on_video: called as ``on_video(id, error_or_None)`` after each video.

    Returns:
        ``(materials, failures)``: one :class:`VideoMaterial` per video read, and
        ``id -> reason`` for the videos missing or failing.
    """
    from ..analysis import analyse_annotated

    merged: dict[str, VideoAnnotation] = {}
    for a in annotations:
        if a.id in merged:
            gifs = (*merged[a.id].gifs, *a.gifs)
            merged[a.id] = replace(merged[a.id], gifs=tuple(sorted(gifs, key=lambda g: g.start)))
        else:
            merged[a.id] = a
    materials: list[VideoMaterial] = []
    failures: dict[str, str] = {}
    for video, analysis, error in analyse_annotated(merged.values(), folder, base, extractor,
                                                    segment_options):
        if analysis is not None:
            materials.append(VideoMaterial(video, analysis.features))
        else:
            failures[video.id] = error
        if on_video is not None:
            on_video(video.id, error)
    return materials, failures


def training_videos(
    materials: Sequence[VideoMaterial], layout: FeatureLayout
) -> list[TrainingVideo]:
    """Rows, labels and popularity of each video for :meth:`RankNet.fit`.

    Labels come from :func:`~video2gif.datasets.label_segments`. Popularity: each GIF's views
    per day, normalised over all GIFs of ``materials`` (:func:`normalise_popularity`); a positive
    segment takes the popularity of the GIF covering most of it. None when no GIF has views.

    Arguments:
        materials: from :func:`collect_features`.
        layout: the model's feature layout (see :func:`material_layout`).

    Returns:
        One :class:`TrainingVideo` per material, in order.
    """
    gifs = [g for m in materials for g in m.annotation.gifs]
    known = any(g.views is not None and g.age_days is not None for g in gifs)
    p_all = normalise_popularity(
        [np.nan if g.views is None else g.views for g in gifs],
        [np.nan if g.age_days is None else g.age_days for g in gifs],
    )
    out, start = [], 0
    for m in materials:
        a = m.annotation
        features = m.features
        bounds = np.array([[s.start, s.end] for s in features.segments], np.float64).reshape(-1, 2)
        labels = label_segments(bounds, a.gifs) if len(bounds) else np.zeros(0, np.int8)
        popularity = None
        if known and len(a.gifs) and len(bounds):
            g = np.array([[x.start, x.end] for x in a.gifs])
            cover = np.clip(np.minimum(bounds[:, None, 1], g[None, :, 1])
                            - np.maximum(bounds[:, None, 0], g[None, :, 0]), 0, None)
            popularity = p_all[start:start + len(a.gifs)][cover.argmax(axis=1)]
        start += len(a.gifs)
        out.append(TrainingVideo(a.id, layout.assemble(features), labels, bounds, a, popularity))
    return out


def material_layout(materials: Sequence[VideoMaterial], backbone, context: Sequence[str]
                    ) -> FeatureLayout:
    """The layout a model trained on ``materials`` reads: the backbone's pooled embedding, every
    signal any video has (sorted by name; a video lacking one reads the training mean), and the
    context blocks."""
    signals = sorted({name for m in materials for name in m.features.signals})
    return layout_for_backbone(backbone, signals, context)


def split_validation(
    videos: Sequence[TrainingVideo], share: float = VALIDATION_SHARE, seed: int = SEED
) -> tuple[list[TrainingVideo], list[TrainingVideo]]:
    """Training and validation videos.

    Videos whose annotation ``split`` is one of :data:`VALIDATION_SPLITS` are the validation
    set when there are any; otherwise ``share`` of the videos (at least one when ``share`` > 0
    and there are two or more videos), drawn with ``seed``. Only videos with a GIF can validate.
    """
    marked = [v for v in videos if v.annotation is not None
              and (v.annotation.split or "").lower() in VALIDATION_SPLITS]
    if marked:
        held = {id(v) for v in marked}
    else:
        candidates = [i for i, v in enumerate(videos) if v.annotation is not None
                      and v.annotation.gifs and (v.labels == 1).any()]
        count = int(round(share * len(videos)))
        if share > 0 and len(videos) >= 2:
            count = max(1, count)
        count = min(count, len(candidates), max(len(videos) - 1, 0))
        order = np.random.default_rng(seed).permutation(len(candidates))[:count]
        held = {id(videos[candidates[i]]) for i in order}
    return ([v for v in videos if id(v) not in held], [v for v in videos if id(v) in held])


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_from_annotations` did."""

    path: Path  # the model file written
    ranker: RankNet  # the fitted ranker (``ranker.model_``, ``ranker.members_``)
    train_videos: int
    validation_videos: int
    failures: dict[str, str]  # id -> why the video could not be used
    loss: str  # the loss actually used


def train_from_annotations(
    annotations: str | os.PathLike,
    videos: str | os.PathLike | None,
    output: str | os.PathLike,
    options: TrainOptions | None = None,
    features=None,
    context: Sequence[str] = DEFAULT_BLOCKS,
    validation_share: float = VALIDATION_SHARE,
    progress: bool = False,
    on_video=None,
) -> TrainResult:
    """Train a RankNet on annotated videos and write the model file (``video2gif train``).

    Arguments:
        annotations: GIF annotations (JSON lines, a PHD-GIFs CSV or Video2GIF metadata.txt).
        videos: the folder holding the videos (``<id>.<ext>``), or None for the annotations'
            own ``path`` fields.
        output: the model file to write.
        options: training options (loss, ensemble size, epochs, seed, ...).
        features: a :class:`~video2gif.features.extract.FeatureExtractor` (its backbone and
            feature cache) or :class:`~video2gif.features.extract.FeatureOptions`; default:
            EfficientNet-Lite0, faces and sound, the default cache folder.
        context: context blocks (see :mod:`video2gif.context`).
        validation_share: share of the videos held back for validation (see
            :func:`split_validation`).
        progress: show progress bars.
        on_video: called as ``on_video(id, error_or_None)`` after each video is read.

    Returns:
        TrainResult.

    Raises:
        InputError, DatasetError: unreadable annotations. UsageError: bad options, or no video
        usable for training. ModelError: the model file cannot be written or the backbone's
        weights are missing.

    Warns:
        Video2GifWarning: adaptive-huber asked for but no GIF has popularity (huber is used).
    """
    from ..features.cache import FeatureCache
    from ..features.extract import FeatureExtractor, FeatureOptions

    options = (options or TrainOptions()).validate()
    context = check_blocks(context)
    if not 0.0 <= validation_share < 1.0:
        raise UsageError("--validation-share", "must be in [0, 1)")
    if isinstance(features, FeatureExtractor):
        extractor = features
    else:
        extractor = FeatureExtractor(features if isinstance(features, FeatureOptions) else None,
                                     cache=FeatureCache())
    annotated = load_annotations(annotations)
    if not annotated:
        raise UsageError(annotations, "no annotated video to train on")
    base = Path(annotations).resolve().parent
    materials, failures = collect_features(annotated, videos, extractor, base, on_video=on_video)
    if not materials:
        raise UsageError(annotations, f"none of its {len(annotated)} videos could be read"
                         + (f" (first: {next(iter(failures.values()))})" if failures else ""))
    layout = material_layout(materials, extractor.backbone, context)
    all_videos = training_videos(materials, layout)
    train, validation = split_validation(all_videos, validation_share, options.seed)
    if options.loss == "adaptive-huber" and all(v.popularity is None for v in train):
        warnings.warn(Video2GifWarning(
            "--loss adaptive-huber needs GIF popularity (views and age_days), which these "
            "annotations lack; training with huber"), stacklevel=2)
        options = replace(options, loss="huber")
    description = (f"{len(train)} videos of {Path(annotations).name} "
                   f"({sum(len(v.annotation.gifs) for v in train)} GIFs)")
    ranker = RankNet(options).fit(train, validation, layout=layout, description=description,
                                  progress=progress)
    path = save_model(ranker.model_, output)
    return TrainResult(path, ranker, len(train), len(validation), failures, options.loss)
