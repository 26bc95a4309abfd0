"""The QVHighlights highlight-detection metrics (HL-mAP, HL-Hit1 at the Fair/Good/VeryGood
levels), as the benchmark's ``standalone_eval/eval.py`` computes them.

Example:
    >>> gt = [{"qid": 1, "duration": 6, "relevant_clip_ids": [1],
    ...        "saliency_scores": [[4, 4, 4]]}]
    >>> pred = [{"qid": 1, "pred_saliency_scores": [0.1, 0.9, 0.2]}]
    >>> qvhighlights_highlight_metrics(pred, gt)["HL-min-VeryGood"]["HL-mAP"]
    1.0
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import DatasetError, InputError
from .metrics import average_precision, hit_at_1

QVH_CLIP_SECONDS = 2.0  # QVHighlights scores one clip every 2 seconds
QVH_LEVELS = (("Fair", 2), ("Good", 3), ("VeryGood", 4))  # name, minimum saliency for a positive


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON-lines file into dicts.

    Raises:
        InputError: missing file. DatasetError: a line that is not a JSON object (``path:line``).

    Example:
        >>> labels = read_jsonl("highlight_val_release.jsonl")  # doctest: +SKIP
    """
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    out = []
    for number, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}:{number}", f"not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}:{number}", "not a JSON object")
        out.append(obj)
    return out


def _qvh_ap(y_true: np.ndarray, y_predict: np.ndarray) -> float:
    # The QVHighlights script scores a clip list with no positive as 0, not as an error.
    if len(set(y_true.tolist())) == 1:
        return 0.0 if y_true[0] == 0 else 1.0
    return average_precision(y_true, y_predict)


def qvhighlights_highlight_metrics(
    predictions: Sequence[dict], ground_truth: Sequence[dict]
) -> dict[str, dict[str, float]]:
    """QVHighlights highlight-detection metrics (HL-mAP and HL-Hit1 at three saliency levels).

    As the benchmark's ``standalone_eval/eval.py``: every 2-second clip of a video gets its three
    annotators' saliency (0 outside ``relevant_clip_ids``); at each level (Fair >= 2, Good >= 3,
    VeryGood >= 4) a clip is positive for an annotator when its saliency reaches the level.
    HL-mAP is the mean AP over queries and annotators (a prediction list is cut or zero-padded to
    the video's clips; an annotator with no positive clip scores 0); HL-Hit1 is the share of
    queries whose top-scored clip is positive for at least one annotator.

    Arguments:
        predictions: dicts with ``qid`` and ``pred_saliency_scores`` (one score per clip).
        ground_truth: dicts with ``qid``, ``duration``, ``relevant_clip_ids``, ``saliency_scores``.

    Returns:
        ``{"HL-min-Fair": {"HL-mAP": f, "HL-Hit1": f}, ...}`` as fractions in [0, 1].

    Raises:
        DatasetError: the query ids of predictions and ground truth differ, or an entry lacks a
        field.

    Example:
        >>> gt = [{"qid": 1, "duration": 6, "relevant_clip_ids": [1],
        ...        "saliency_scores": [[4, 4, 4]]}]
        >>> pred = [{"qid": 1, "pred_saliency_scores": [0.1, 0.9, 0.2]}]
        >>> qvhighlights_highlight_metrics(pred, gt)["HL-min-VeryGood"]["HL-Hit1"]
        1.0
    """
    try:
        pred_by_qid = {d["qid"]: np.asarray(d["pred_saliency_scores"], dtype=np.float64)
                       for d in predictions}
        gt_full = {d["qid"]: _qvh_gt_scores(d) for d in ground_truth}
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise DatasetError("QVHighlights entry", f"missing or malformed field ({e})") from None
    if set(pred_by_qid) != set(gt_full):
        missing = len(set(gt_full) - set(pred_by_qid))
        extra = len(set(pred_by_qid) - set(gt_full))
        raise DatasetError(
            "predictions",
            f"query ids differ from the ground truth ({missing} missing, {extra} extra)",
        )
    out = {}
    for name, level in QVH_LEVELS:
        aps, hits = [], []
        for qid, scores in pred_by_qid.items():
            binary = (gt_full[qid] >= level).astype(np.float64)  # (clips, 3)
            hits.append(hit_at_1(scores, binary) if len(scores) else 0.0)
            n = len(binary)
            fitted = np.zeros(n)
            fitted[: min(n, len(scores))] = scores[:n]
            for annotator in range(binary.shape[1]):
                aps.append(_qvh_ap(binary[:, annotator], fitted))
        out[f"HL-min-{name}"] = {"HL-mAP": float(np.mean(aps)), "HL-Hit1": float(np.mean(hits))}
    return out


def _qvh_gt_scores(d: dict) -> np.ndarray:
    n = int(d["duration"] / QVH_CLIP_SECONDS)
    full = np.zeros((n, 3))
    ids = np.asarray(d["relevant_clip_ids"], dtype=np.int64)
    if len(ids):
        full[ids] = np.asarray(d["saliency_scores"], dtype=np.float64).reshape(len(ids), -1)
    return full
