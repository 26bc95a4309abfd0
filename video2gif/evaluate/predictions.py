"""Predictions to evaluate: read from files (JSON lines, segments.json), or made by running a
model over the annotated videos (the same analysis as training's).

Example:
    >>> predictions = read_predictions("out/")  # doctest: +SKIP
    >>> predictions, failed = model_predictions(videos, "prior", "videos/")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..datasets import VideoAnnotation
from ..errors import DatasetError, InputError, UsageError
from .evaluation import Prediction


def _prediction_from_obj(obj: dict) -> Prediction:
    if "pred_relevant_windows" in obj:
        windows = obj["pred_relevant_windows"]
        if not isinstance(windows, list) or any(
            not isinstance(w, (list, tuple)) or len(w) < 3 for w in windows
        ):
            raise ValueError("pred_relevant_windows must be a list of [start, end, score]")
        seg = [[w[0], w[1]] for w in windows]
        scores = [np.nan if w[2] is None else w[2] for w in windows]
    elif "segments" in obj:
        items = obj["segments"]
        if not isinstance(items, list) or any(not isinstance(s, dict) for s in items):
            raise ValueError("segments must be a list of objects with start, end, score")
        seg = [[s.get("start"), s.get("end")] for s in items]
        scores = [np.nan if s.get("score") is None else s.get("score") for s in items]
    else:
        raise ValueError("needs pred_relevant_windows or segments")
    try:
        seg_a = np.asarray(seg, dtype=np.float64).reshape(-1, 2)
        sc_a = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("segment times and scores must be numbers") from None
    if not np.isfinite(seg_a).all() or np.any(seg_a[:, 1] <= seg_a[:, 0]):
        raise ValueError("every segment needs finite times and must end after it starts")
    return Prediction(seg_a, sc_a)


def _prediction_id(obj: dict, fallback: str | None) -> str:
    for key in ("id", "vid", "video_id"):
        if obj.get(key) is not None:
            return str(obj[key])
    video = obj.get("video")
    if isinstance(video, dict) and video.get("path"):
        return Path(str(video["path"])).stem
    if fallback:
        return fallback
    raise ValueError("no id (expected id, vid, or video.path)")


def read_predictions(path: str | os.PathLike) -> dict[str, Prediction]:
    """Read predictions: JSON lines, one segments.json, or a folder of them.

    Each video is an object with an id (``id``, ``vid``, or the stem of ``video.path`` as in
    segments.json) and either ``pred_relevant_windows`` (``[[start, end, score], ...]``) or
    ``segments`` (``[{"start", "end", "score"}, ...]``), times in seconds. A folder is searched
    for ``segments.json`` files (the layout ``video2gif make`` writes: ``<stem>/segments.json``).

    Returns:
        ``id -> Prediction``.

    Raises:
        InputError: missing path. DatasetError: a malformed entry (``path:line``), or one id twice.

    Example:
        >>> preds = read_predictions("out/")  # doctest: +SKIP
        >>> preds["clip"].segments.shape  # doctest: +SKIP
        (42, 2)
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file or folder")
    entries: list[tuple[str, dict, str | None]] = []
    if p.is_dir():
        for doc_path in sorted(p.rglob("segments.json")):
            entries.append((str(doc_path), _load_json(doc_path), doc_path.parent.name))
        if not entries:
            raise DatasetError(path, "no segments.json inside this folder")
    else:
        text = p.read_text(encoding="utf-8-sig")
        doc = None
        if p.suffix.lower() != ".jsonl":
            try:
                doc = json.loads(text)  # one document: a segments.json or a list of entries
            except json.JSONDecodeError:
                doc = None
        if isinstance(doc, (dict, list)):
            docs = doc if isinstance(doc, list) else [doc]
            entries = [(str(path) if isinstance(doc, dict) else f"{path}[{i}]", d,
                        p.stem if isinstance(doc, dict) else None) for i, d in enumerate(docs)]
        else:
            for number, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    entries.append((f"{path}:{number}", json.loads(line), None))
                except json.JSONDecodeError as e:
                    raise DatasetError(f"{path}:{number}", f"not valid JSON ({e.msg})") from None
    out: dict[str, Prediction] = {}
    for where, obj, fallback in entries:
        try:
            if not isinstance(obj, dict):
                raise ValueError("each prediction must be a JSON object")
            vid = _prediction_id(obj, fallback)
            pred = _prediction_from_obj(obj)
        except (ValueError, UsageError) as e:
            raise DatasetError(where, str(e)) from None
        if vid in out:
            raise DatasetError(where, f"a second prediction for video {vid}")
        out[vid] = pred
    return out


def _load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}:{e.lineno}", f"not valid JSON ({e.msg})") from None


def model_predictions(
    annotations: Sequence[VideoAnnotation],
    model,
    folder: str | os.PathLike | None,
    base: str | os.PathLike | None = None,
    on_video: Callable[[str, str | None], None] | None = None,
    features=None,
) -> tuple[dict[str, Prediction], dict[str, str]]:
    """Run a model over the annotated videos found on disk and collect its segment scores.

    Arguments:
        annotations: the videos (each distinct id is scored once).
        model: a :class:`~video2gif.scorers.Scorer`, model name or model file.
        folder: where the videos are (``<id>.<ext>``); see :func:`locate_video`.
        base: the annotation file's folder, for relative ``path`` fields.
        on_video: called as ``on_video(id, error_or_None)`` after each video.
        features: a :class:`~video2gif.features.extract.FeatureExtractor` or its options, as
            :func:`~video2gif.pipeline.find_highlights` takes; one extractor (and its loaded
            backbone) serves every video. Default: the features the model reads.

    Returns:
        ``(predictions, failures)``: ``id -> Prediction`` for every video scored, and
        ``id -> reason`` for those missing or failing.

    Raises:
        ModelError: the model cannot be loaded.

    Example:
        >>> preds, failed = model_predictions(videos, "prior", "videos/")  # doctest: +SKIP
    """
    from ..analysis import analyse_annotated, feature_extractor  # decoding only needed here
    from ..errors import Video2GifError
    from ..scorers import Scorer, load_model

    scorer = model if isinstance(model, Scorer) else load_model(model)
    features = feature_extractor(features, scorer.needs())  # the backbone loads once, not per video
    unique: dict[str, VideoAnnotation] = {}
    for video in annotations:
        unique.setdefault(video.id, video)  # an id annotated several times is scored once
    predictions: dict[str, Prediction] = {}
    failures: dict[str, str] = {}
    # The same analysis as training's, the video's category and tags included.
    for video, analysis, error in analyse_annotated(unique.values(), folder, base, features,
                                                    consumers=scorer.consumers):
        if analysis is not None:
            try:
                scores = np.asarray(scorer.score(analysis.features), dtype=np.float64)
            except Video2GifError as e:
                error = str(e)
            else:
                predictions[video.id] = Prediction(analysis.bounds, scores)
        if error is not None:
            failures[video.id] = error
        if on_video is not None:
            on_video(video.id, error)
    return predictions, failures
