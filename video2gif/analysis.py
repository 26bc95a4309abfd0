"""One analysis of a video: the single decode pass, its shots, the candidate segments and their
features. :func:`~video2gif.find_highlights` scores an :class:`Analysis`, ``video2gif train``
learns from analyses of annotated videos, and ``video2gif eval --model`` scores them; all three
run exactly this code, so a model sees at run time the features it was trained on.

A scorer declares what it reads (:class:`~video2gif.features.FeatureNeeds`);
:func:`feature_extractor` builds the features stage for those needs, or refuses a mismatch (a
model trained on another backbone) in one line, before any decoding. With
:class:`~video2gif.options.GifOptions`, pass ``options.segment_options()`` and
``options.feature_extractor()`` (this module sits below the options, which name scorers).

Example:
    >>> from video2gif.scorers import load_model
    >>> scorer = load_model("prior")
    >>> extractor = feature_extractor(None, scorer.needs())  # doctest: +SKIP
    >>> analysis = analyse("clip.mp4", features=extractor)  # doctest: +SKIP
    >>> scores = scorer.score(analysis.features)  # doctest: +SKIP
    >>> len(scores) == len(analysis.segments)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from .boundaries import Track
from .context import VideoContext
from .datasets import VideoAnnotation, locate_video
from .decode import FrameConsumer, VideoInfo, decode_pass
from .errors import ModelError, Video2GifError
from .features import FeatureNeeds, SegmentFeatures
from .features.backbones import NO_BACKBONE
from .features.extract import FeatureExtractor, FeatureOptions
from .features.novelty import combine_descriptors
from .features.signals import SignalCollector
from .segments import SegmentList, SegmentOptions, fallback_segments, make_segments
from .select import CONTENT_DUPLICATE_SIMILARITY, DUPLICATE_SIMILARITY
from .shots import ShotDetector, ShotList, ShotOptions


@dataclass(frozen=True)
class FallbackCandidates:
    """Fallback candidates, for when the candidates leave no room for k picks."""

    segments: SegmentList  # the fallbacks, in time order (Segment.fallback says which kind)
    features: SegmentFeatures  # of the candidates then the fallbacks, measured together
    descriptors: np.ndarray  # (n + m, d) likewise


@dataclass(frozen=True)
class Analysis:
    """Everything measured about one video, before any scoring."""

    info: VideoInfo
    shots: ShotList
    segments: SegmentList  # the candidates, in time order
    features: SegmentFeatures  # per-candidate signals, embeddings and the video's context
    descriptors: np.ndarray  # (n, d) unit vectors: how each candidate looks, for look-alikes
    duplicate_similarity: float  # cosine similarity at which two candidates look alike
    track: Track  # per-frame motion and look thumbnails, for duplicates and the picks' cuts
    dropped_shots: list[int] = field(default_factory=list)  # shots too short for a candidate
    # With ``analyse(fallback=True)``: the fallback candidates (segments.fallback_segments), and
    # the features and descriptors of the candidates followed by them, measured together so
    # they are scored as candidates would be; ``features`` above stays the candidates' alone.
    fallback: FallbackCandidates | None = None

    @property
    def bounds(self) -> np.ndarray:
        """(n, 2) start and end seconds of each candidate."""
        return np.array([[s.start, s.end] for s in self.segments], dtype=np.float64).reshape(-1, 2)


def feature_extractor(
    features: FeatureExtractor | FeatureOptions | None = None,
    needs: FeatureNeeds | None = None,
) -> FeatureExtractor:
    """The features stage for a scorer's ``needs``, checked before any decoding.

    Arguments:
        features: a ready :class:`FeatureExtractor` (reuse one across videos: it holds the loaded
            backbone and the feature cache), :class:`FeatureOptions`, or None for the default
            features with the backbone ``needs`` names (EfficientNet-Lite0 when it names none).
        needs: what the scorer reads (default: nothing beyond the signals).

    Returns:
        A :class:`FeatureExtractor` whose backbone fits ``needs``.

    Raises:
        ModelError: the given features come from a backbone the scorer cannot read (another
            name, version, weights or width), naming the scorer and the difference.
        UsageError: unknown backbone name.
    """
    needs = needs or FeatureNeeds()
    if isinstance(features, FeatureExtractor):
        extractor = features
    elif features is None and needs.backbone:
        extractor = FeatureExtractor(FeatureOptions(backbone=needs.backbone))
    else:
        if isinstance(features, FeatureOptions) and needs.backbone and (
                features.backbone != needs.backbone):  # refused before loading the backbone
            _refuse(needs, features.backbone)
        extractor = FeatureExtractor(features)
    differences = needs.backbone_differences(extractor.backbone)
    if differences:
        _refuse(needs, extractor.backbone.name if extractor.backbone else None, differences)
    return extractor


def _refuse(needs: FeatureNeeds, given: str | None, differences: Sequence[str] = ()) -> None:
    if given != needs.backbone or not differences:
        what = (f"model was trained on {needs.backbone} embeddings but the features have "
                f"{given if given and given != NO_BACKBONE else 'none'}; compute features with "
                f"--backbone {needs.backbone}")
    else:
        what = ("model does not fit this backbone: " + "; ".join(differences)
                + " (model vs installed)")
    raise ModelError(needs.source or needs.backbone, what)


def analyse(
    path: str | os.PathLike,
    segment_options: SegmentOptions | None = None,
    shot_options: ShotOptions | None = None,
    features: FeatureExtractor | FeatureOptions | None = None,
    *,
    consumers: Sequence[FrameConsumer] = (),
    category: str | None = None,
    tags: Sequence[str] = (),
    on_progress: Callable[[float, float], None] | None = None,
    fallback: bool = False,
) -> Analysis:
    """Decode ``path`` once; find its shots, cut candidates and measure their features.

    Arguments:
        path: the video.
        segment_options: candidate lengths and stride (default: the pipeline's).
        shot_options: shot detector tuning.
        features: the features stage (see :func:`feature_extractor`; default: EfficientNet-Lite0,
            faces and sound, no cache). A ready extractor's cache is used and filled.
        consumers: more frame consumers for the same pass (a scorer's own, e.g. the original
            model's C3D windows).
        category, tags: what is known about the video (its context, for models that read it).
        on_progress: called as ``on_progress(seconds_done, seconds_total)`` while decoding.
        fallback: also measure fallback candidates (:attr:`Analysis.fallback`).

    Returns:
        The :class:`Analysis`.

    Raises:
        InputError, DecodeError: the file is not a decodable video.
        UsageError: contradictory segment options.
        ModelError: a backbone's weights are missing.
    """
    segment_options = (segment_options or SegmentOptions()).validate()
    detector = ShotDetector(shot_options)
    signals = SignalCollector()
    extractor = feature_extractor(features)
    cached = extractor.prepare(path)
    pass_consumers = [detector, *signals.consumers(), *extractor.consumers(), *consumers]
    info = decode_pass(path, pass_consumers, on_progress=on_progress,
                       audio=extractor.audio_consumers())
    if not cached:
        extractor.save_cached(meta={"video": info.to_dict()})

    segmentation = make_segments(
        detector.shots, float(info.fps), info.duration, segment_options, detector.times
    )
    segments = segmentation.segments
    gradual = [(t.start, t.end) for t in detector.transitions if t.kind != "cut"]

    def measure(segs: SegmentList) -> tuple[SegmentFeatures, np.ndarray, float]:
        measured = SegmentFeatures(
            info=info,
            segments=segs,
            signals={**signals.segment_signals(segs, gradual), **extractor.signals(segs)},
            embeddings=extractor.embeddings(segs),
            backbone_ids=_backbone_ids(extractor.backbone),
            context=VideoContext(duration=float(info.duration), category=category,
                                 tags=tuple(tags or ())),
        )
        layout = signals.segment_descriptors(segs)
        meaning = extractor.descriptors(segs)  # with a backbone: compare content too
        if meaning is None:
            return measured, layout, DUPLICATE_SIMILARITY
        return measured, combine_descriptors(meaning, layout), CONTENT_DUPLICATE_SIMILARITY

    segment_features, descriptors, similarity = measure(segments)
    extra = None
    if fallback:
        fallbacks = fallback_segments(detector.shots, float(info.fps), info.duration,
                                      segment_options, detector.times)
        if fallbacks:
            both, both_descriptors, _ = measure([*segments, *fallbacks])
            extra = FallbackCandidates(fallbacks, both, both_descriptors)
    _release_freed_memory()
    return Analysis(
        info=info,
        shots=detector.shots,
        segments=segments,
        features=segment_features,
        descriptors=descriptors,
        duplicate_similarity=similarity,
        track=signals.track(),
        dropped_shots=segmentation.dropped_shots,
        fallback=extra,
    )


def analyse_annotated(
    videos: Iterable[VideoAnnotation],
    folder: str | os.PathLike | None,
    base: str | os.PathLike | None = None,
    features: FeatureExtractor | FeatureOptions | None = None,
    segment_options: SegmentOptions | None = None,
    consumers: Callable[[], Sequence[FrameConsumer]] | None = None,
) -> Iterator[tuple[VideoAnnotation, Analysis | None, str | None]]:
    """Analyse annotated videos found on disk, one at a time (``video2gif train`` and
    ``video2gif eval --model``): each video's category and tags become its context.

    Arguments:
        videos: the annotated videos, in order.
        folder: where the videos are (``<id>.<ext>``; see
            :func:`~video2gif.datasets.locate_video`).
        base: the annotation file's folder, for relative ``path`` fields.
        features: one extractor for every video (its backbone loads once; its cache is used).
        segment_options: candidate lengths (default: the pipeline's).
        consumers: called before each video's pass for more frame consumers (a scorer's own).

    Yields:
        ``(video, analysis, None)``, or ``(video, None, reason)`` when its file is missing or
        cannot be analysed. Each analysis is yielded before the next video is decoded, so a
        scorer with consumers of its own can score it in between.
    """
    extractor = feature_extractor(features)
    for video in videos:
        path = locate_video(video, folder, base)
        if path is None:
            yield video, None, f"no video file for it in {folder or 'the annotation folder'}"
            continue
        try:
            analysis = analyse(path, segment_options, features=extractor,
                               consumers=consumers() if consumers else (),
                               category=video.category, tags=video.tags)
        except Video2GifError as e:
            yield video, None, str(e)
        else:
            yield video, analysis, None


def _release_freed_memory() -> None:
    """Hand the pass's freed buffers back to the system (glibc only; elsewhere a no-op).

    The pass allocates and frees frames on several threads for the whole video; glibc keeps
    much of what they freed mapped in its per-thread arenas, more the longer the video (about
    100 MiB after a 30-minute 720p video). Trimming makes peak memory flat in video length."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        try:
            import ctypes

            _MALLOC_TRIM = ctypes.CDLL(None).malloc_trim  # the process's own C library
        except (OSError, AttributeError, TypeError):  # not glibc (macOS, musl, Windows)
            pass
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None  # glibc's malloc_trim once looked up; False where there is none


def _backbone_ids(backbone) -> dict[str, str]:
    """name → name/version/weights of the backbone that made the embeddings, so a learned model
    can refuse features of another version (numeric precision does not count)."""
    if backbone is None:
        return {}
    return {backbone.name: f"{backbone.name}/{backbone.version}/{backbone.weights_id}"}
