"""Train the context-only RankNet on the PHD-GIFs selections, evaluate it, and ship it.

Context only: the model sees where a segment lies in its video and how long the video is (the
position and duration blocks of :mod:`video2gif.context`), never a pixel. PHD-GIFs gives exactly
that: for 20K GIFs, which seconds of which YouTube video people cut, and the video's duration.

Evaluation follows the position baseline of ``scripts/phd_gifs_baselines.py`` exactly: the
queries are each test user's last video, scored against that user's GIFs on a 25 fps grid with
:func:`video2gif.evaluate.evaluate_videos`; candidates are non-overlapping windows of
``--segment-length`` seconds; the videos are split into 5 folds by id
(:func:`video2gif.evaluate.video_folds`, seed 0, the same split), and the model for a fold is
trained on every other annotated video of the CSV (other users' last videos and all earlier
videos, GIFs of all users merged per video), never on a video of the fold. Inside that training
set, a share of the videos (by id) is held back as the validation set for the per-epoch
mAP/nMSD, the best epoch and early stopping.

The shipped model is then trained the same way on every video of the CSV (a validation share
held back as before) with candidates of the pipeline's length (``--ship-length`` s windows every
``--ship-stride`` s), and written to video2gif/models/context_phd.npz; its SHA-256 is printed
for :data:`video2gif.ranknet.CONTEXT_MODEL_SHA256`.

Usage:
    python scripts/train_phd_context.py [--segment-length 5] [--losses huber l2 l1]
        [--input-dropout 0.8 0.0] [--ensemble 1] [--final-ensemble 3] [--ship]
        [--results docs/RESULTS.md]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from video2gif.context import VideoContext, context_features  # noqa: E402
from video2gif.datasets import (  # noqa: E402
    VideoAnnotation,
    label_segments,
    phd_gifs_annotations,
    read_phd_gifs,
)
from video2gif.errors import DatasetWarning  # noqa: E402
from video2gif.evaluate import (  # noqa: E402
    Prediction,
    evaluate_videos,
    position_baseline,
    random_baseline,
    uniform_segments,
    video_folds,
)
from video2gif.ranknet import FeatureLayout, context_model_path, save_model  # noqa: E402
from video2gif.train import RankNet, TrainingVideo, TrainOptions  # noqa: E402

DEFAULT_CSV = REPO.parent / "shared" / "datasets" / "phd_gifs" / "testing.csv"
BLOCKS = ("position", "duration")
LAYOUT = FeatureLayout(context=BLOCKS)
FOLDS = 5  # as the position baseline
VALIDATION_SHARE = 0.15  # of the training videos (by id), for the best epoch and early stopping
CURVE_POINTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # start, share of the way
CURVE_DURATIONS = (15.0, 30.0, 120.0, 600.0, 1800.0)  # seconds
PUBLISHED = [  # PHD-GIFs README, on the 850 users' last videos
    ("Video2GIF public model (published; visual)", 0.1569, 0.4259, 0.2728),
    ("PHD-GIFs personalised model (published; visual + user history)", 0.1668, 0.4026, 0.3071),
]


def training_video(video: VideoAnnotation, segments: np.ndarray) -> TrainingVideo:
    """Context rows and labels of one video's candidate segments."""
    x = context_features(segments, VideoContext(video.duration), BLOCKS)
    labels = label_segments(segments, video.gifs)
    return TrainingVideo(video.id, x, labels, segments, video)


def build(videos, length: float, stride: float | None) -> list[TrainingVideo]:
    """Training material: each video's full-length windows.

    A video's last window is cut short at its end; it is scored at test time but left out of
    training, so every training candidate lasts ``length`` seconds. Otherwise the only short
    candidates would be the last ones, and the model would learn "short means the end of the
    video" and apply it to the pipeline's whole-shot candidates, which may be short anywhere.
    Videos shorter than one window have no training candidate.
    """
    out = []
    for v in videos:
        segments = uniform_segments(v.duration, length, stride)
        full = segments[segments[:, 1] - segments[:, 0] >= length - 1e-9]
        if len(full):
            out.append(training_video(v, full))
    return out


def split_validation(videos: list[TrainingVideo], seed: int = 1):
    """Hold back VALIDATION_SHARE of the videos (by id) for validation."""
    ids = sorted({v.key for v in videos})
    order = np.random.default_rng(seed).permutation(len(ids))
    held = {ids[i] for i in order[: int(round(VALIDATION_SHARE * len(ids)))]}
    return [v for v in videos if v.key not in held], [v for v in videos if v.key in held]


def cross_validate(test, merged, options: TrainOptions, length: float, log) -> dict:
    """Fold by fold, as the position baseline; returns the evaluation and the members' epochs."""
    fold_of = video_folds([a.id for a in test], FOLDS, seed=0)
    segments = {a.id: uniform_segments(a.duration, length) for a in test}
    predictions: dict[str, Prediction] = {}
    epochs = []
    for f in range(FOLDS):
        held_out = {vid for vid, g in fold_of.items() if g == f}
        train_all = build([v for v in merged if v.id not in held_out], length, None)
        train, val = split_validation(train_all)
        started = time.perf_counter()
        ranker = RankNet(options).fit(train, val, layout=LAYOUT)
        epochs += [(m.best_epoch, len(m.history)) for m in ranker.members_]
        for a in test:
            if a.id in held_out and a.id not in predictions:
                x = context_features(segments[a.id], VideoContext(a.duration), BLOCKS)
                predictions[a.id] = Prediction(segments[a.id], ranker.predict(x))
        log(f"  fold {f + 1}/{FOLDS}: {len(train)} training videos, validation mAP "
            f"{100 * ranker.metrics_['map']:.2f}%, best epochs "
            f"{[m.best_epoch for m in ranker.members_]} ({time.perf_counter() - started:.0f} s)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        result = evaluate_videos(test, predictions, name="context RankNet")
    return {"result": result, "epochs": epochs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--segment-length", type=float, default=5.0)
    parser.add_argument("--losses", nargs="+", default=["huber"])
    parser.add_argument("--input-dropout", type=float, nargs="+", default=[0.8])
    parser.add_argument("--ensemble", type=int, default=3, help="models averaged in the sweep")
    parser.add_argument("--final-ensemble", type=int, default=0,
                        help="re-evaluate (and ship) the best configuration with this many")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ship", action="store_true", help="train on everything and ship")
    parser.add_argument("--ship-length", type=float, default=3.0)
    parser.add_argument("--ship-stride", type=float, default=None,
                        help="seconds between shipped-model training windows (default: length)")
    parser.add_argument("--json", type=Path,
                        default=REPO / "benchmarks" / "_work" / "phd_context.json")
    parser.add_argument("--results", type=Path, help="write the section into this markdown file")
    parser.add_argument("--select", choices=["mean-rank", "wins", "map"], default="mean-rank",
                        help="how the shipped configuration is chosen (see select())")
    parser.add_argument("--resume", action="store_true",
                        help="reuse configurations already evaluated in --json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        rows = read_phd_gifs(args.csv)
        test = phd_gifs_annotations(rows, which="last", per_user=True)
        history = phd_gifs_annotations(rows, which="history", per_user=False)
        merged = phd_gifs_annotations(rows, which="all", per_user=False)
    print(f"{len(test)} (user, last video) queries; {len(merged)} annotated videos "
          f"({len(history)} earlier ones)", flush=True)

    segments = {v.id: uniform_segments(v.duration, args.segment_length) for v in test}
    baselines = [
        random_baseline(test, segments, seeds=10),
        position_baseline(test, segments, folds=FOLDS, extra_training=history),
    ]
    for b in baselines:
        print(f"{b.name}: mAP {100 * b.mAP:.2f}% nMSD {100 * b.nMSD:.2f}%", flush=True)

    previous = _load_runs(args.json) if args.resume else []
    runs: list[dict] = []

    def evaluate(loss: str, dropout: float, ensemble: int) -> dict:
        key = {"loss": loss, "input_dropout": dropout, "ensemble": ensemble,
               "segment_length": args.segment_length, "max_epochs": args.epochs,
               "training_windows": "full-length"}
        for run in previous:
            if all(run.get(k) == v for k, v in key.items()):
                print(f"context RankNet, loss {loss}, input dropout {dropout}, {ensemble} "
                      f"averaged: from {args.json}", flush=True)
                return run
        options = TrainOptions(loss=loss, input_dropout=dropout, ensemble=ensemble,
                               max_epochs=args.epochs, threads=args.threads)
        print(f"context RankNet, loss {loss}, input dropout {dropout}, {ensemble} averaged:",
              flush=True)
        out = cross_validate(test, merged, options, args.segment_length, print)
        result = out["result"].to_dict()
        print(f"  mAP {100 * result['mAP']:.2f}% nMSD {100 * result['nMSD']:.2f}% R@5 "
              f"{100 * result['R@5']:.2f}% HIT@1 {100 * result['HIT@1']:.2f}%", flush=True)
        return {**key, "result": result, "epochs": out["epochs"]}

    def save_progress(shipped=None) -> None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "baselines": [b.to_dict() for b in baselines], "runs": runs, "shipped": shipped,
        }, indent=2) + "\n")

    for loss in args.losses:
        for dropout in args.input_dropout:
            runs.append(evaluate(loss, dropout, args.ensemble))
            save_progress()

    best = select(runs, args.select)
    final_ensemble = args.final_ensemble or args.ensemble
    if final_ensemble != args.ensemble:
        print("the selected configuration, again with more models averaged:", flush=True)
        best = evaluate(best["loss"], best["input_dropout"], final_ensemble)
        runs.append(best)
        save_progress()
    shipped = None
    if args.ship:
        options = TrainOptions(loss=best["loss"], input_dropout=best["input_dropout"],
                               ensemble=final_ensemble, max_epochs=args.epochs,
                               threads=args.threads)
        videos = build(merged, args.ship_length, args.ship_stride)
        train, val = split_validation(videos)
        description = (
            f"PHD-GIFs testing.csv: {len(merged)} YouTube videos, "
            f"{sum(len(v.gifs) for v in merged)} GIFs (start, duration, video duration only; "
            f"no pixels); candidates {args.ship_length:g} s every {args.ship_stride or args.ship_length:g} s; context "
            f"blocks {', '.join(BLOCKS)}"
        )
        ranker = RankNet(options).fit(train, val, layout=LAYOUT, description=description,
                                      progress=sys.stderr.isatty())
        ranker.model_.meta["training"]["cross_validation"] = {
            "protocol": f"PHD-GIFs users' last videos, {FOLDS} video-level folds, "
                        f"{args.segment_length:g} s windows",
            **{k: v for k, v in best["result"].items() if k != "skipped"},
        }
        path = save_model(ranker.model_, context_model_path())
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        shipped = {"model": ranker.model_, "path": str(path.relative_to(REPO)), "sha256": digest,
                   "bytes": path.stat().st_size, "validation": ranker.metrics_,
                   "loss": best["loss"], "input_dropout": best["input_dropout"]}
        print(f"shipped {path} ({path.stat().st_size} bytes), sha256 {digest}", flush=True)

    save_progress({k: v for k, v in shipped.items() if k != "model"} if shipped else None)
    section = _section(args, test, merged, baselines, runs, best, shipped,
                       time.perf_counter() - started)
    print(section)
    if args.results:
        from _common import write_section

        if not args.results.exists():
            args.results.write_text("# Results\n")
        write_section(args.results, "PHD-GIFs: learned context model", section)
    return 0


METRICS = (("mAP", +1), ("nMSD", -1), ("R@5", +1), ("HIT@1", +1))  # name, direction


def select(runs: list[dict], rule: str) -> dict:
    """The configuration to ship.

    - ``mean-rank``: the best mean of its ranks on the four metrics (ties share their ranks), so
      that no single metric decides: a model that wins mAP but whose top picks are worse than
      random does not win by default;
    - ``wins``: the one best on the most metrics (ties broken by mAP);
    - ``map``: the best mAP.
    """
    if rule == "map":
        return max(runs, key=lambda run: run["result"]["mAP"])
    if rule == "wins":
        wins = [0] * len(runs)
        for name, sign in METRICS:
            wins[max(range(len(runs)), key=lambda i: sign * runs[i]["result"][name])] += 1
        return runs[max(range(len(runs)), key=lambda i: (wins[i], runs[i]["result"]["mAP"]))]
    ranks = np.zeros(len(runs))
    for name, sign in METRICS:
        values = np.array([-sign * run["result"][name] for run in runs])  # smaller is better
        ranks += np.array([np.mean(np.flatnonzero(np.sort(values) == v)) + 1 for v in values])
    return runs[int(np.argmin(ranks / len(METRICS)))]


def _reading(baselines, sweep: list[dict], best: dict) -> str:
    """What the table shows, in figures taken from it."""
    rand, position = (b.to_dict() for b in baselines)
    r = best["result"]
    delta = ", ".join(f"{name} {100 * (r[name] - position[name]):+.2f}" for name, _ in METRICS)
    heavy = [run["result"] for run in sweep if run["input_dropout"] >= 0.5]
    light = [run["result"] for run in sweep if run["input_dropout"] < 0.5]
    text = (f"What it shows: the selected model is on a par with the position prior it was "
            f"evaluated beside (points against it: {delta}; nMSD is better lower); learning from the same timestamps, "
            f"the RankNet recovers what the prior knows about position and duration, and no "
            f"more.")
    if heavy and light:
        def span(rows: list[dict], k: str) -> str:
            lo, hi = (f"{100 * f(x[k] for x in rows):.2f}" for f in (min, max))
            return f"{lo}%" if lo == hi else f"{lo}–{hi}%"

        text += (f" The paper's input dropout (0.8, meant for 4096-d visual features) on these "
                 f"four columns gives a higher mAP ({span(heavy, 'mAP')} against "
                 f"{span(light, 'mAP')} without it) but top picks no better than random's "
                 f"(R@5 {span(heavy, 'R@5')}, HIT@1 {span(heavy, 'HIT@1')}; random "
                 f"{100 * rand['R@5']:.2f}% and {100 * rand['HIT@1']:.2f}%): with most of its "
                 f"four inputs dropped, the network settles for a simple trend along the video "
                 f"rather than the shape of the prior.")
    return text


def _rule_words(rule: str, runs: list[dict]) -> str:
    words = {"mean-rank": "the best mean rank over the four metrics",
             "wins": "the one best on the most of the four metrics (ties broken by mAP)",
             "map": "the best mAP"}
    others = []
    for other in ("mean-rank", "wins", "map"):
        if other != rule:
            pick = select(runs, other)
            others.append(f"{words[other]} would pick {pick['loss']} with input dropout "
                          f"{pick['input_dropout']:g}")
    return f"{words[rule]} among the RankNet rows ({'; '.join(others)})"


def _load_runs(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return json.loads(path.read_text()).get("runs", [])


def _row(name: str, r: dict) -> str:
    return (f"| {name} | {100 * r['mAP']:.2f}% | {100 * r['nMSD']:.2f}% | {100 * r['R@5']:.2f}% "
            f"| {100 * r['HIT@1']:.2f}% | {r['n_videos']} |")


def _curve(model, length: float) -> str:
    """The shipped model's scores along videos of a few durations, as a markdown table."""
    lines = ["| video | " + " | ".join(f"{p:.0%}" for p in CURVE_POINTS) + " |",
             "|---|" + "---:|" * len(CURVE_POINTS)]
    for duration in CURVE_DURATIONS:
        starts = np.array([p * (duration - length) for p in CURVE_POINTS])
        x = context_features(np.stack([starts, starts + length], 1), VideoContext(duration),
                             BLOCKS)
        scores = model.predict(x)
        lines.append(f"| {duration:g} s | " + " | ".join(f"{v:+.2f}" for v in scores) + " |")
    return "\n".join(lines)


def _section(args, test, merged, baselines, runs, best, shipped, elapsed) -> str:
    sweep = [run for run in runs if run["ensemble"] == args.ensemble]
    lines = ["| model | mAP ↑ | nMSD ↓ | R@5 ↑ | HIT@1 ↑ | videos |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [_row(b.name, b.to_dict()) for b in baselines]
    for run in runs:
        name = (f"context RankNet ({run['loss']}, input dropout {run['input_dropout']:g}, "
                f"{run['ensemble']} averaged)")
        lines.append(_row(f"**{name}**" if run is best else name, run["result"]))
    for name, m, n, r5 in PUBLISHED:
        lines.append(f"| {name} | {100 * m:.2f}% | {100 * n:.2f}% | {100 * r5:.2f}% | – | 850 |")
    epochs = [e for run in runs for e in run["epochs"]]
    ship = ""
    if shipped:
        ship = (f"\nThe selected configuration ({shipped['loss']}, input dropout "
                f"{shipped['input_dropout']:g}) was retrained on all {len(merged)} videos with "
                f"candidates of the pipeline's length ({args.ship_length:g} s windows every "
                f"{args.ship_stride or args.ship_length:g} s; validation mAP "
                f"{100 * shipped['validation']['map']:.2f}%"
                f" on the held-back {VALIDATION_SHARE:.0%}) and ships as `{shipped['path']}` "
                f"({shipped['bytes'] / 1024:.0f} KiB): `--model context`, "
                f"`video2gif.scorers.context.load_context_model()`. Its score of a "
                f"{args.ship_length:g} s segment starting at a share of the way through videos "
                f"of a few durations (a RankNet's scores only compare segments of one video):"
                f"\n\n{_curve(shipped['model'], args.ship_length)}\n")
    dropouts = " ".join(f"{d:g}" for d in args.input_dropout)
    resumed = (", reading back the configurations an earlier run of the same command had "
               "evaluated" if args.resume else "")
    return f"""
A context-only RankNet (the paper's 512-128-1 network on the position and duration blocks:
log start time, relative position, log segment duration, log video duration; no pixels) trained
on the PHD-GIFs selections, evaluated as the position baseline is: {len(test)} users' last videos,
non-overlapping {args.segment_length:g} s candidates, a 25 fps frame grid, {FOLDS} folds by video
id (the position baseline's split), each fold's model trained on all other annotated videos of
the CSV ({VALIDATION_SHARE:.0%} of them held back for validation; pairs of within-video
segments, every positive with 4 random negatives, batches of 50, Nesterov SGD 0.001 ÷10 every 10
epochs, up to {args.epochs} epochs with early stopping on validation mAP; best epochs
{min(e for e, _ in epochs)}–{max(e for e, _ in epochs)}). Training uses only full-length
windows (a video's last, shorter window is scored at test time but not trained on), so the
segment-duration column is constant in training and the model ignores it: what it learns is
where in a video of a given length people cut GIFs. The Huber losses' adaptive
variant needs GIF popularity, which PHD-GIFs does not have.

{chr(10).join(lines)}

In bold, the configuration selected to ship: {_rule_words(args.select, sweep)}.

{_reading(baselines, sweep, best)}

The published models see the pixels (C3D features) and were trained on other data (Video2GIF's
100K GIFs; PHD-GIFs' 13K training users), so they are a reference, not a like-for-like
comparison.
{ship}
Produced by `python scripts/train_phd_context.py --segment-length {args.segment_length:g}
--losses {" ".join(args.losses)} --input-dropout {dropouts} --ensemble {args.ensemble}
--final-ensemble {args.final_ensemble} --epochs {args.epochs} --select {args.select}\
{" --ship" if shipped else ""}{" --resume" if args.resume else ""}`
({time.strftime("%Y-%m-%d")}; this run {elapsed / 60:.0f} min on a shared 2-core CPU{resumed}).
"""


if __name__ == "__main__":
    sys.exit(main())
