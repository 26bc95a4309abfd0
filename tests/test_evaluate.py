"""Benchmark metrics against hand-computed cases, the reference definitions and published figures;
baselines; prediction files; the eval command."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from video2gif.datasets import GifInterval, VideoAnnotation, write_annotations
from video2gif.errors import DatasetError, DatasetWarning, UsageError
from video2gif.evaluate import (
    PositionPrior,
    Prediction,
    average_precision,
    evaluate_video,
    evaluate_videos,
    format_table,
    frame_labels,
    frame_scores_from_segments,
    hit_at_1,
    nmsd,
    position_predictions,
    qvhighlights_highlight_metrics,
    random_baseline,
    read_jsonl,
    read_predictions,
    recall_at_k,
    uniform_segments,
)

from . import synthetic
from .conftest import DATASETS, run_cli

# -- references, transcribed from the benchmarks' evaluation code (test-only) ------------------


def reference_ap(y_true, y_predict):
    """v2g_evaluation.get_ap with interpolate=True, point_11=False (uses scikit-learn)."""
    metrics = pytest.importorskip("sklearn.metrics")
    if len(set(y_true)) == 1:
        return 1.0
    precision, recall, _ = metrics.precision_recall_curve(y_true, y_predict)
    recall = recall.astype(np.float32)
    for i in range(1, len(precision)):
        precision[i] = max(precision[i - 1], precision[i])
    return float(np.mean(precision[np.where(np.diff(recall))]))


def reference_nmsd(gif_ground_truths, y_predict, min_inclusion=0.5):
    """v2g_evaluation.meaningful_summary_duration with mode='mean'."""
    scores = []
    for y_true in gif_ground_truths:
        gif_scores = y_predict[np.where(y_true > 0)[0]]
        min_gt_length = len(gif_scores) * min_inclusion
        threshold = np.percentile(gif_scores, 100 * (1 - min_inclusion))
        duration = np.sum(y_predict >= threshold)
        scores.append((duration - min_gt_length) / (float(len(y_predict)) - min_gt_length))
    return float(np.mean(scores))


# -- frame grid ---------------------------------------------------------------------------------


def test_frame_labels_end_exclusive_and_clipped():
    assert frame_labels(8, [(1, 3), (6, 20), (-2, 0)]).astype(int).tolist() == [
        0, 1, 1, 0, 0, 0, 1, 1]


def test_frame_scores_take_their_segment_and_the_lowest_elsewhere():
    bounds = np.array([[1, 4], [3, 6], [8, 9]])
    scores = frame_scores_from_segments(10, bounds, np.array([0.5, 0.2, np.nan]))
    # Frame 3 is in two segments: the higher score; frames in no segment (and the NaN one) get
    # the lowest score, 0.2.
    assert scores.tolist() == [0.2, 0.5, 0.5, 0.5, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
    with pytest.raises(UsageError):
        frame_scores_from_segments(5, bounds, np.array([1.0]))


# -- AP -----------------------------------------------------------------------------------------


def test_average_precision_hand_computed():
    # Ranked 1 0 1 0: points (P, R) by increasing threshold: (.5, 1) (.667, 1) (.5, .5) (1, .5)
    # then (1, 0); running max .5 .667 .667 1 1; recall changes after points 2 and 4.
    y = np.array([1, 0, 1, 0])
    assert average_precision(y, np.array([0.9, 0.8, 0.7, 0.1])) == pytest.approx((2 / 3 + 1) / 2)
    # A tie shares one point: scores .5 .5 .1 for labels 0 1 1 give points (2/3, 1), (1/2, 1/2),
    # (1, 0); running max 2/3 2/3 1; AP = mean(2/3, 2/3).
    assert average_precision(np.array([0, 1, 1]), np.array([0.5, 0.5, 0.1])) == pytest.approx(2 / 3)
    # All tied: one point at the base rate.
    assert average_precision(np.array([1, 0, 0, 0]), np.zeros(4)) == pytest.approx(0.25)
    assert average_precision(np.array([1, 1]), np.array([0.1, 0.2])) == 1.0


def test_average_precision_errors():
    with pytest.raises(DatasetError, match="no positive"):
        average_precision(np.zeros(4), np.arange(4.0))
    with pytest.raises(UsageError):
        average_precision(np.array([0, 1]), np.array([0.1, np.nan]))
    with pytest.raises(UsageError):
        average_precision(np.array([0, 1]), np.array([0.1]))


def test_average_precision_matches_the_reference_with_ties():
    rng = np.random.default_rng(1)
    for trial in range(400):
        n = int(rng.integers(2, 80))
        y = rng.random(n) < rng.uniform(0.05, 0.9)
        if not y.any():
            y[0] = True
        levels = int(rng.integers(1, 6))
        s = rng.integers(0, levels, n).astype(float) if trial % 2 else rng.random(n)
        assert average_precision(y, s) == pytest.approx(reference_ap(y, s), abs=1e-12)


# -- nMSD ---------------------------------------------------------------------------------------


def test_nmsd_hand_computed_with_ties():
    scores = np.array([0.5, 0.5, 0.9, 0.5, 0.5, 0.1])
    # GIF frames 2-3 score .9 and .5: threshold .7, one frame at or above it; L=2 so
    # nMSD = (1 - 1) / (6 - 1) = 0.
    assert nmsd([(2, 4)], scores) == 0.0
    # GIF frames 0-1 both .5: threshold .5, five frames tie at or above it: (5 - 1) / (6 - 1).
    assert nmsd([(0, 2)], scores) == pytest.approx(0.8)
    assert nmsd([(0, 2), (2, 4)], scores, 6) == pytest.approx(0.4)
    with pytest.raises(DatasetError):
        nmsd([(6, 9)], scores)
    with pytest.raises(UsageError):
        nmsd([(0, 2)], scores, n_frames=7)


def test_nmsd_matches_the_reference():
    rng = np.random.default_rng(2)
    for trial in range(200):
        n = int(rng.integers(10, 300))
        scores = rng.integers(0, 4, n).astype(float) if trial % 2 else rng.random(n)
        gifs = []
        for _ in range(int(rng.integers(1, 4))):
            start = int(rng.integers(0, n - 2))
            gifs.append((start, int(rng.integers(start + 1, min(n, start + 60) + 1))))
        truths = [frame_labels(n, [g]).astype(float) for g in gifs]
        assert nmsd(gifs, scores) == pytest.approx(reference_nmsd(truths, scores), abs=1e-12)


# -- R@k and HIT@1 -------------------------------------------------------------------------------


def test_recall_at_k_and_hit_at_1():
    segments = np.array([[0, 3], [3, 6], [6, 9], [9, 12]], dtype=float)
    scores = np.array([0.1, 0.9, 0.5, 0.5])
    gifs = np.array([[4, 5], [10, 11], [0, 1]], dtype=float)
    assert recall_at_k(segments, scores, gifs, k=1) == pytest.approx(1 / 3)
    # Tied third and fourth: the earlier segment wins the second place.
    assert recall_at_k(segments, scores, gifs, k=2) == pytest.approx(1 / 3)
    assert recall_at_k(segments, scores, gifs, k=3) == pytest.approx(2 / 3)
    assert recall_at_k(segments, scores, np.array([[3.0, 3.0]]), k=4) == 0.0  # no overlap
    assert hit_at_1(scores, np.array([0, 1, 0, 0])) == 1.0
    assert hit_at_1(scores, np.array([[0, 0], [0, 1], [1, 1], [0, 0]])) == 1.0
    assert hit_at_1(np.array([0.3, 0.3]), np.array([0, 1])) == 0.0  # first of tied maxima
    with pytest.raises(UsageError):
        recall_at_k(segments, scores, np.zeros((0, 2)))


# -- many videos -------------------------------------------------------------------------------


def two_videos():
    a = VideoAnnotation("a", 10.0, 10.0, (GifInterval(2.0, 4.0), GifInterval(7.0, 8.0)))
    b = VideoAnnotation("b", 6.0, None, (GifInterval(0.0, 1.0),), frames=150)
    preds = {
        "a": Prediction(np.array([[0, 3], [3, 6], [6, 9]], float), np.array([0.2, 0.9, 0.4])),
        "b": Prediction(np.array([[0, 2], [2, 4], [4, 6]], float), np.array([0.1, 0.3, 0.2])),
    }
    return [a, b], preds


def test_evaluate_videos_combines_per_video_metrics():
    videos, preds = two_videos()
    result = evaluate_videos(videos, preds, k=1)
    a, b = result.per_video
    # Video a on a 10 fps grid (100 frames): frame scores from its segments, frames 90-99 in no
    # segment take the lowest score 0.2.
    labels = frame_labels(100, [(20, 40), (70, 80)])
    scores = frame_scores_from_segments(100, np.array([[0, 30], [30, 60], [60, 90]]),
                                        np.array([0.2, 0.9, 0.4]))
    assert a.ap == pytest.approx(reference_ap(labels, scores))
    assert a.nmsd == pytest.approx(nmsd([(20, 40), (70, 80)], scores))
    # Video b has exact frames (150) and no fps: 25 fps grid, the GIF is frames 0-24.
    assert b.ap == pytest.approx(
        reference_ap(frame_labels(150, [(0, 25)]),
                     frame_scores_from_segments(150, np.array([[0, 50], [50, 100], [100, 150]]),
                                                np.array([0.1, 0.3, 0.2]))))
    # R@1 pools GIFs: a's top segment [3, 6) hits its first GIF, b's [2, 4) misses: 1 of 3.
    assert (a.gif_hits, b.gif_hits) == (1, 0) and result.recall_at_5 == pytest.approx(1 / 3)
    assert result.hit_at_1 == pytest.approx(0.5)
    assert result.mAP == pytest.approx((a.ap + b.ap) / 2) and result.n_videos == 2
    assert result.n_gifs == 3
    assert "R@1" in result.to_dict() and "%" in format_table([result])


def test_evaluate_videos_skips_videos_it_cannot_score():
    videos, preds = two_videos()
    empty = VideoAnnotation("c", 5.0, 10.0, ())
    outside = VideoAnnotation("d", 5.0, 10.0, (GifInterval(6.0, 7.0),))
    with pytest.warns(DatasetWarning) as record:
        result = evaluate_videos([*videos, empty, outside, VideoAnnotation("e", 5.0, 1.0, ())],
                                 {**preds, "c": preds["a"], "d": preds["a"]})
    assert result.n_videos == 2 and len(result.skipped) == 3
    assert any("e: no prediction" in str(w.message) for w in record)
    with pytest.raises(DatasetError):
        evaluate_video(empty, preds["a"])
    with pytest.raises(DatasetError, match="no video"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate_videos([empty], preds)


def test_uniform_segments():
    assert uniform_segments(7.0, 3.0).tolist() == [[0, 3], [3, 6], [6, 7]]
    assert uniform_segments(2.0, 3.0).tolist() == [[0, 2]]
    assert uniform_segments(6.0, 3.0, stride=1.5).tolist() == [[0, 3], [1.5, 4.5], [3, 6],
                                                               [4.5, 6]]


# -- baselines ---------------------------------------------------------------------------------


def start_heavy_videos(n=60, seed=0):
    """Videos whose GIFs sit in their first fifth, of assorted durations."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        d = float(rng.uniform(20, 400))
        s = float(rng.uniform(0, 0.15 * d))
        out.append(VideoAnnotation(f"v{i}", d, None, (GifInterval(s, s + 3.0),)))
    return out


def test_position_prior_learns_where_gifs_are():
    prior = PositionPrior().fit(start_heavy_videos())
    scores = prior.score(np.array([[0.0, 10.0], [50.0, 60.0], [150.0, 160.0]]), 200.0)
    assert scores[0] > scores[1] > 0 and scores[1] >= scores[2]
    with pytest.raises(UsageError):
        PositionPrior().score(np.array([[0.0, 1.0]]), 5.0)
    with pytest.raises(DatasetError):
        PositionPrior().fit([VideoAnnotation("x", 5.0, None, ())])


def test_position_baseline_never_sees_the_video_it_scores():
    videos = start_heavy_videos()
    segments = {v.id: uniform_segments(v.duration, 5.0) for v in videos}
    before = position_predictions(videos, segments, folds=5)
    # Move one video's GIF to its end: its own prediction must not change (it is held out),
    # while videos of other folds may.
    moved = [VideoAnnotation(v.id, v.duration, None, (GifInterval(v.duration - 4, v.duration),))
             if v.id == "v7" else v for v in videos]
    after = position_predictions(moved, segments, folds=5)
    np.testing.assert_array_equal(before["v7"].scores, after["v7"].scores)
    assert any(not np.array_equal(before[k].scores, after[k].scores) for k in before)


def test_position_beats_random_where_position_matters():
    videos = start_heavy_videos(n=80)
    segments = {v.id: uniform_segments(v.duration, 5.0) for v in videos}
    rand = random_baseline(videos, segments, seeds=5)
    from video2gif.evaluate import position_baseline

    pos = position_baseline(videos, segments, folds=4)
    assert rand.runs == 5 and rand.n_videos == 80
    assert pos.mAP > rand.mAP and pos.nMSD < rand.nMSD
    again = random_baseline(videos, segments, seeds=5)
    assert again.mAP == rand.mAP  # seeded


# -- QVHighlights -------------------------------------------------------------------------------


def test_qvhighlights_hand_case():
    gt = [{"qid": 1, "duration": 8, "relevant_clip_ids": [1, 2],
           "saliency_scores": [[4, 2, 0], [1, 3, 4]]}]
    pred = [{"qid": 1, "pred_saliency_scores": [0.1, 0.9, 0.5]}]  # one clip short: padded
    out = qvhighlights_highlight_metrics(pred, gt)
    # VeryGood (>= 4): annotator 1 positive at clip 1 (AP 1), annotator 2 none (0), annotator 3
    # at clip 2 (ranked 2nd of 4 with clip 3 padded to 0: AP (1/2 + ...)).
    y3 = np.array([0, 0, 1, 0])
    expected = (1.0 + 0.0 + reference_ap(y3, np.array([0.1, 0.9, 0.5, 0.0]))) / 3
    assert out["HL-min-VeryGood"]["HL-mAP"] == pytest.approx(expected)
    assert out["HL-min-VeryGood"]["HL-Hit1"] == 1.0
    with pytest.raises(DatasetError, match="query ids differ"):
        qvhighlights_highlight_metrics([{"qid": 2, "pred_saliency_scores": [1]}], gt)


def test_qvhighlights_reproduces_the_official_figures():
    folder = DATASETS / "qvhighlights"
    if not (folder / "sample_val_preds.jsonl").exists():
        pytest.skip(f"QVHighlights files not found in {folder}")
    preds = read_jsonl(folder / "sample_val_preds.jsonl")
    gt = read_jsonl(folder / "highlight_val_release.jsonl")
    official = json.loads((folder / "sample_val_preds_metrics_raw.json").read_text())
    ours = qvhighlights_highlight_metrics(preds, gt)
    for level, figures in ours.items():
        for name, value in figures.items():
            assert f"{100 * value:.2f}" == f"{official[level][name]:.2f}", (level, name)


# -- prediction files --------------------------------------------------------------------------


def test_read_predictions_formats(tmp_path):
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text(
        json.dumps({"vid": "a", "pred_relevant_windows": [[0, 3, 0.5], [3, 6, None]]}) + "\n"
        + json.dumps({"id": "b", "segments": [{"start": 0, "end": 2, "score": 1.0}]}) + "\n"
    )
    preds = read_predictions(jsonl)
    assert preds["a"].segments.tolist() == [[0, 3], [3, 6]] and np.isnan(preds["a"].scores[1])
    folder = tmp_path / "out"
    (folder / "clip").mkdir(parents=True)
    (folder / "clip" / "segments.json").write_text(json.dumps(
        {"video": {"path": "/videos/clip.mp4"}, "segments": [],
         "pred_relevant_windows": [[1.0, 4.0, 0.7]]}))
    assert read_predictions(folder)["clip"].scores.tolist() == [0.7]
    assert list(read_predictions(folder / "clip" / "segments.json")) == ["clip"]
    dup = tmp_path / "dup.jsonl"
    dup.write_text(jsonl.read_text() + json.dumps({"id": "a", "segments": []}) + "\n")
    with pytest.raises(DatasetError, match="dup.jsonl:3"):
        read_predictions(dup)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "pred_relevant_windows": [[3, 1, 0.5]]}) + "\n")
    with pytest.raises(DatasetError, match="bad.jsonl:1"):
        read_predictions(bad)


# -- the eval command --------------------------------------------------------------------------


def test_cli_eval_predictions_with_baselines(capsys, tmp_path):
    videos = start_heavy_videos(n=12)
    ann = write_annotations(videos, tmp_path / "a.jsonl")
    rng = np.random.default_rng(3)
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(
        json.dumps({"id": v.id, "pred_relevant_windows": [
            [float(s), float(e), float(rng.random())] for s, e in uniform_segments(v.duration, 5)
        ]}) + "\n" for v in videos))
    out = tmp_path / "results.json"
    code, stdout, err = run_cli(capsys, "eval", "--annotations", ann, "--predictions", preds,
                                "-o", out, "--seeds", "3", "--folds", "3")
    assert code == 0, err
    lines = stdout.splitlines()
    assert "mAP" in lines[0] and "nMSD" in lines[0] and "R@5" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["predictions", "random", "position"]
    doc = json.loads(out.read_text())
    names = [r["name"] for r in doc["results"]]
    assert names == ["predictions", "random (3 seeds)", "position (3-fold)"]
    assert all(r["n_videos"] == 12 and 0 <= r["mAP"] <= 1 for r in doc["results"])
    code, stdout, _ = run_cli(capsys, "eval", "-a", ann, "-p", preds, "--json", "--no-baselines")
    assert code == 0 and len(json.loads(stdout)["results"]) == 1


def test_cli_eval_usage_errors(capsys, tmp_path):
    ann = write_annotations(start_heavy_videos(n=2), tmp_path / "a.jsonl")
    code, _, err = run_cli(capsys, "eval", "-a", ann)
    assert code == 2 and "--predictions/--model" in err
    code, _, err = run_cli(capsys, "eval", "-a", ann, "-m", "prior")
    assert code == 2 and "--videos" in err
    code, _, err = run_cli(capsys, "eval", "-a", tmp_path / "none.jsonl", "-p", ann)
    assert code == 1 and "none.jsonl" in err and err.count("\n") == 1


def test_cli_eval_runs_a_model_over_videos(capsys, tmp_path):
    # Two small videos; the first one's GIF is annotated, the third video is missing on disk.
    folder = tmp_path / "videos"
    folder.mkdir()
    for name, seeds in (("one", (1, 2, 3)), ("two", (4, 5, 6))):
        frames = synthetic.cuts([(synthetic.moving(s, speed=2), 72) for s in seeds])
        synthetic.write_video(folder / f"{name}.mp4", frames, fps=24)
    videos = [
        VideoAnnotation("one", 9.0, 24.0, (GifInterval(3.0, 6.0),)),
        VideoAnnotation("two", 9.0, 24.0, (GifInterval(6.0, 8.5),)),
        VideoAnnotation("three", 9.0, 24.0, (GifInterval(1.0, 2.0),)),
    ]
    ann = write_annotations(videos, tmp_path / "a.jsonl")
    code, stdout, err = run_cli(capsys, "eval", "-a", ann, "-m", "prior", "--videos", folder,
                                "--seeds", "2", "--folds", "2")
    assert code == 1  # a video was missing
    assert "three: skipped: no video file" in err
    rows = stdout.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["prior", "random", "position"]
    assert all(r.split()[-2] == "2" for r in rows)  # the two videos found, for every row
