"""The two entry points: find a video's best moments, and make GIFs of them.

Example:
    >>> import video2gif
    >>> found = video2gif.find_highlights("clip.mp4", k=3)  # doctest: +SKIP
    >>> [(p.rank, p.start, p.end, round(p.score, 2)) for p in found.picks]  # doctest: +SKIP
    >>> made = video2gif.make_gifs("clip.mp4", "out/", k=3)  # doctest: +SKIP
    >>> made.folder  # doctest: +SKIP
    PosixPath('out/clip')
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .analysis import Analysis, analyse, feature_extractor
from .boundaries import Cut
from .crop import Cropper
from .decode import VideoInfo
from .encode import EncodedOutput, EncodeOptions, encode_segment
from .errors import OutputError
from .features.extract import FeatureExtractor, FeatureOptions
from .formats import output_format
from .loop import DEFAULT_LOOP, LoopReport, LoopShaper
from .options import GifOptions, K
from .report import features_block, write_index_html, write_segments_json
from .scorers import DEFAULT_MODEL, Scorer, load_model
from .segments import SegmentOptions
from .select import Suppressed, choose_picks
from .shots import ShotList, ShotOptions

ENCODE_THREADS = 2  # picks encoded at once

# Progress callback: (stage, done, total); stage is "analyse" (seconds of video) or "encode" (GIFs).
Progress = Callable[[str, float, float], None]


@dataclass(frozen=True)
class ScoredSegment:
    """A candidate with its score, its rank among all candidates (1 = best) and its signals."""

    start: float
    end: float
    start_frame: int
    end_frame: int
    shot: int
    score: float | None  # None where the model could not judge the segment
    rank: int | None  # None also for a fallback: it is not ranked among the candidates
    signals: dict[str, float] = field(default_factory=dict)
    fallback: str = ""  # a fallback candidate's kind (video2gif.segments.FALLBACK_KINDS)

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Highlights:
    """Everything :func:`find_highlights` learned about one video."""

    info: VideoInfo
    shots: ShotList
    segments: list[ScoredSegment]  # every candidate in time order, then fallbacks if scored
    pick_indices: list[int]  # indices into ``segments``, best first
    model: dict  # the scorer's description
    dropped_shots: list[int] = field(default_factory=list)  # shots too short for a candidate
    cuts: list[Cut] = field(default_factory=list)  # each pick's GIF-shaped boundaries, as picks
    suppressed: dict[int, Suppressed] = field(default_factory=dict)  # why better ones were left
    features: dict = field(default_factory=dict)  # what measured them (report.features_block)

    @property
    def picks(self) -> list[ScoredSegment]:
        return [self.segments[i] for i in self.pick_indices]


@dataclass(frozen=True)
class MadeGifs:
    """What :func:`make_gifs` wrote: the folder, its report files and one output per pick."""

    highlights: Highlights
    folder: Path
    outputs: list[EncodedOutput]


def find_highlights(
    path: str | os.PathLike,
    k: int = K,
    model: Scorer | str | None = None,
    segment_options: SegmentOptions | None = None,
    shot_options: ShotOptions | None = None,
    on_progress: Progress | None = None,
    features: FeatureExtractor | FeatureOptions | None = None,
) -> Highlights:
    """Decode ``path`` once, cut it into candidates, score them and pick the best ``k``.

    Arguments:
        path: the video.
        k: how many picks at most.
        model: a :class:`Scorer`, a model name or file (see :func:`load_model`); default: the prior
            blended with the shipped context model.
        segment_options: candidate lengths and stride.
        shot_options: shot detector tuning.
        on_progress: called as ``on_progress("analyse", seconds_done, seconds_total)``.
        features: backbone, face and sound measurements: a :class:`FeatureExtractor` (reuse one
            across videos: it holds the loaded backbone and the feature cache) or
            :class:`FeatureOptions`; default: faces, sound and the backbone the model reads
            (EfficientNet-Lite0 when it reads none), no cache.

    Returns:
        Highlights with every candidate scored and the picks.

    Raises:
        InputError, DecodeError: the file is not a decodable video.
        ModelError: the model cannot be loaded, or does not fit ``features`` (say, a model file
            trained on another backbone); said before decoding.
        UsageError: contradictory options.
    """
    scorer = model if isinstance(model, Scorer) else load_model(model or DEFAULT_MODEL)
    extractor = feature_extractor(features, scorer.needs())  # a misfit is refused before decoding
    progress = (lambda done, total: on_progress("analyse", done, total)) if on_progress else None
    analysis = analyse(path, segment_options, shot_options, extractor,
                       consumers=scorer.consumers(), on_progress=progress, fallback=True)
    found = score_analysis(analysis, scorer, k, extractor.measurements())
    return replace(found, features=features_block(extractor))


def score_analysis(analysis: Analysis, scorer: Scorer, k: int = K,
                   measurements: dict | None = None) -> Highlights:
    """Score an :class:`~video2gif.analysis.Analysis` and pick its best ``k`` candidates.

    Arguments:
        analysis: from :func:`~video2gif.analysis.analyse` (with ``scorer``'s consumers in its
            pass, if it has any).
        scorer: the scorer.
        k: how many picks at most.
        measurements: the feature extractor's measurements (their sound is compared too).

    Returns:
        Highlights with every candidate scored and the picks. When the candidates give fewer
        than ``k`` picks and the analysis has fallback candidates, those are scored too (with
        the candidates, as one set; the candidates keep their own scores and ranks), listed
        after the candidates, and tried for the missing picks.
    """
    scores = np.asarray(scorer.score(analysis.features), dtype=np.float64)
    segments, descriptors = analysis.segments, analysis.descriptors
    selection, cuts = choose_picks(segments, scores, k, descriptors,
                                   analysis.duplicate_similarity, analysis.track, measurements)
    ranks = _ranks(scores)
    rows = analysis.features.signal_rows()
    extra = analysis.fallback
    if len(selection.picks) < k and extra is not None:  # no room for k: try the fallbacks
        n = len(segments)
        both = np.asarray(scorer.score(extra.features), dtype=np.float64)
        scores = np.concatenate([scores, both[n:]])
        segments, descriptors = [*segments, *extra.segments], extra.descriptors
        selection, cuts = choose_picks(segments, scores, k, descriptors,
                                       analysis.duplicate_similarity, analysis.track, measurements)
        ranks = [*ranks, *[None] * len(extra.segments)]
        rows = [*rows, *extra.features.signal_rows()[n:]]
    picks = selection.picks
    scored = [
        ScoredSegment(
            start=s.start,
            end=s.end,
            start_frame=s.start_frame,
            end_frame=s.end_frame,
            shot=s.shot,
            score=None if np.isnan(scores[i]) else float(scores[i]),
            rank=ranks[i],
            signals=rows[i],
            fallback=s.fallback,
        )
        for i, s in enumerate(segments)
    ]
    return Highlights(
        info=analysis.info,
        shots=analysis.shots,
        segments=scored,
        pick_indices=picks,
        model=scorer.describe(),
        dropped_shots=analysis.dropped_shots,
        cuts=cuts,
        suppressed=selection.suppressed,
    )


def make_gifs(
    path: str | os.PathLike,
    outdir: str | os.PathLike,
    k: int | None = None,
    model: Scorer | str | None = None,
    encode_options: EncodeOptions | None = None,
    segment_options: SegmentOptions | None = None,
    shot_options: ShotOptions | None = None,
    folder_name: str | None = None,
    on_progress: Progress | None = None,
    features: FeatureExtractor | FeatureOptions | None = None,
    *,
    options: GifOptions | None = None,
) -> MadeGifs:
    """Find the best ``k`` moments of ``path`` and write them with a report.

    Writes ``outdir/<video-stem>/`` holding ``01.gif`` … (or .webp/.mp4), ``segments.json`` and
    ``index.html``. The folder appears complete or not at all: it is built under a temporary name
    and renamed, replacing an earlier result for the same video.

    Arguments:
        path: the video.
        outdir: where the video's folder goes (created if needed).
        options: everything ``video2gif make`` takes (:class:`~video2gif.options.GifOptions`);
            with it, the feature cache is used as ``options.use_cache`` says.
        k, model, segment_options, shot_options, features: as :func:`find_highlights`; each
            given one overrides ``options``. ``model`` may be a loaded :class:`Scorer` and
            ``features`` a :class:`FeatureExtractor` (reuse both across videos).
        encode_options: output format, width, fps and byte budget (overrides ``options``).
        folder_name: name of the video's folder (default: the video's file stem).
        on_progress: as :func:`find_highlights`, plus ``("encode", done, total)``.

    Returns:
        MadeGifs with the folder and one EncodedOutput per pick, best first.

    Raises:
        as :func:`find_highlights`, UsageError for a bad option (naming its flag), and
        EncodeError when an output cannot be written.

    Example:
        >>> from video2gif.options import GifOptions
        >>> options = GifOptions(k=2, width=320)
        >>> made = make_gifs("clip.mp4", "out/", options=options)  # doctest: +SKIP
    """
    given = options is not None
    options = GifOptions.from_parts(
        options, k=k, model=model if isinstance(model, str) else None, encode=encode_options,
        segments=segment_options, features=features if isinstance(features, FeatureOptions)
        else None,
    ).validate(check_model=False)
    if features is None:  # the API without options keeps its old default: no feature cache
        features = options.feature_extractor() if given else options.feature_options()
    outdir = Path(outdir)
    folder = outdir / (folder_name or Path(path).stem)
    staging = _staging_folder(outdir, folder.name)  # an unwritable OUTDIR is said before decoding
    try:
        found = find_highlights(
            path, k=options.k, model=model if isinstance(model, Scorer) else options.model,
            segment_options=options.segment_options(), shot_options=shot_options,
            on_progress=on_progress, features=features,
        )
        loops: dict[int, LoopReport] = {}
        cropper = Cropper(options.aspect, [shot.start for shot in found.shots], found.info)
        outputs = _encode_picks(path, found.picks, staging, options.encode_options(),
                                on_progress, found.cuts, options.loop, loops, cropper)
        names = {i: o.path.name for i, o in zip(found.pick_indices, outputs)}
        loops = {i: loops.get(n) for n, i in enumerate(found.pick_indices, start=1)}
        crops = {i: cropper.plans.get(n) for n, i in enumerate(found.pick_indices, start=1)}
        try:
            write_segments_json(found, staging / "segments.json", names, loops, crops)
            write_index_html(found, staging / "index.html", names, loops, crops)
            _swap_into_place(staging, folder)
        except OSError as e:
            raise OutputError(folder, f"cannot write the results ({e.strerror or e})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    outputs = [replace(o, path=folder / o.path.name) for o in outputs]
    return MadeGifs(highlights=found, folder=folder, outputs=outputs)


def _encode_picks(path, picks, folder: Path, options: EncodeOptions,
                  on_progress: Progress | None, cuts: list[Cut] = (), loop: str = DEFAULT_LOOP,
                  loops: dict[int, LoopReport] | None = None,
                  cropper: Cropper | None = None) -> list[EncodedOutput]:
    """Encode the picks as 01.gif, 02.gif, … two at a time: FFmpeg releases the GIL, so both
    cores work. Each GIF spans its cut (when there is one), is cropped as ``cropper`` plans and
    loops as ``loop`` says; its LoopReport goes into ``loops`` under its pick number."""
    done = 0

    def encode(n_seg):
        nonlocal done
        n, seg = n_seg
        name = f"{n:02d}{output_format(options.format).extension}"
        cut = cuts[n - 1] if len(cuts) >= n else None
        start, end = (cut.start, cut.end) if cut else (seg.start, seg.end)
        shaper = LoopShaper(loop, start, end, *((cut.end_min, cut.start_max) if cut else ()))
        stop = cut.end_max if cut else end  # read to end_max: the loop search may end there
        crop = cropper.plan(n, path, start, stop) if cropper else None
        out = encode_segment(path, start, stop, folder / name, options, crop=crop, shape=shaper)
        if loops is not None:
            loops[n] = shaper.report
        done += 1
        if on_progress:
            on_progress("encode", done, len(picks))
        return out

    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        return list(pool.map(encode, enumerate(picks, start=1)))


def _staging_folder(outdir: Path, name: str) -> Path:
    """A new hidden folder in ``outdir`` (created if needed) to build the results in.

    Raises:
        OutputError: ``outdir`` cannot be created or written (read-only, below a file, full).
    """
    staging = outdir / f".{name}.partial-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as e:
        raise OutputError(outdir, f"cannot write the results here ({e.strerror or e})") from None
    return staging


def _swap_into_place(staging: Path, folder: Path) -> None:
    """Replace ``folder`` by ``staging`` so readers never see a half-written folder. Whatever
    held the name goes: an earlier result, a file, or a link (not the link's target)."""
    if os.path.lexists(folder):  # a dangling link too, which rename() would not replace
        old = folder.with_name(f".{folder.name}.old-{secrets.token_hex(3)}")
        folder.rename(old)
        staging.rename(folder)
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    else:
        staging.rename(folder)


def _ranks(scores: np.ndarray) -> list[int | None]:
    """1-based rank of each score (best = 1); None for NaN."""
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    ranks: list[int | None] = [None] * len(scores)
    r = 1
    for i in order:
        if not np.isnan(scores[i]):
            ranks[i] = r
            r += 1
    return ranks
