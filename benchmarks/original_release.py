"""`--model video2gif-original` against the 2016 release's own scoring, on real clips.

For each clip, random weights are written in the release's three file formats and the clip's
tutorial candidates (uniform 5-s segments, ``--candidates uniform5``) are scored twice:

- **ours**: ``video2gif.find_highlights`` with the original model (per-segment windows, the
  release's resize), the way ``video2gif make --model video2gif-original --candidates uniform5``
  runs;
- **release**: ``tests/release_reference.py``, an independent line-by-line re-implementation of
  the release's ``get_scores`` (PyAV frames, scikit-image's resize, a functional forward pass).

It prints Pearson's r and the median relative error per clip and pooled, the same for the
preprocessing this project had before (FFmpeg's bilinear scaler, one window grid from the first
frame), how far FFmpeg's bilinear 128×171 frames are from the release's (mean absolute
difference, grey levels), and what per-segment windows cost with the default (overlapping,
shot-based) candidates: distinct windows computed against one grid.

With ``--timing``, it instead times ``find_highlights`` with the original model on each clip's
default candidates, windows per segment against one grid.

Usage:
    .venv/bin/python benchmarks/original_release.py                 # reduced widths, all clips
    .venv/bin/python benchmarks/original_release.py --size released --clips \\
        moviepy/chaplin.mp4 opencv/Megamind.avi --no-generated       # C3D's real sizes (slow)
    .venv/bin/python benchmarks/original_release.py --timing --size released \\
        --clips moviepy/chaplin.mp4 --no-generated

Needs the test extra (scikit-image) and ../shared/media.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
import warnings
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import MEDIA, machine
from tests import release_reference as ref
from tests import synthetic
from tests.legacy_formats import write_c3d_pickle, write_head_npz, write_mean_npy
from video2gif import find_highlights
from video2gif.decode import decode_pass
from video2gif.features.backbones import EmbeddingCollector, segment_members
from video2gif.features.c3d import CLIP_FRAMES, C3DConfig
from video2gif.features.extract import FeatureOptions
from video2gif.features.release_preprocess import (
    release_resize,
    segment_windows,
    window_cost,
)
from video2gif.scorers.original import OriginalScorer
from video2gif.segments import SegmentOptions

CLIPS = ("pyscenedetect/testvideo.mp4", "moviepy/big_buck_bunny_0_30.webm",
         "moviepy/chaplin.mp4", "opencv/Megamind.avi", "pyscenedetect/fades.mp4",
         "moviepy/video_with_failing_audio.mp4")
SIZES = {
    "reduced": C3DConfig(widths=(8, 16, 32, 32, 64, 64, 64, 64), fc6=256),
    "released": C3DConfig(),
}
NO_EXTRAS = FeatureOptions(backbone="none", faces=False, audio=False)
RESIZE_SAMPLE_EVERY = 10  # frames between those compared for the resize difference


def random_release_files(config: C3DConfig, folder: Path, seed: int = 0):
    """The three released files with He-scaled random weights; also returns the arrays."""
    rng = np.random.default_rng(seed)
    c3d = []
    for w_shape, b_shape in config.shapes().values():
        fan_in = int(np.prod(w_shape[1:])) if len(w_shape) == 5 else w_shape[0]
        c3d.append((rng.standard_normal(w_shape, np.float32) * np.sqrt(2 / fan_in))
                   .astype(np.float32))
        c3d.append(rng.normal(0, 0.1, b_shape).astype(np.float32))
    head, sizes = [], [config.fc6, 512, 128, 1]
    for cin, cout in itertools.pairwise(sizes):
        head.append(rng.normal(0, np.sqrt(2 / cin), (cin, cout)).astype(np.float32))
        head.append(rng.normal(0, 0.1, cout).astype(np.float32))
    mean = rng.uniform(80, 120, (3, 16, 128, 171)).astype(np.float32)
    files = (write_c3d_pickle(folder / "c3d_model.pkl", c3d),
             write_mean_npy(folder / "snipplet_mean.npy", mean),
             write_head_npz(folder / "video2gif_weights.npz", head))
    return files, c3d, head, mean


def before_scores(scorer: OriginalScorer, path: Path, segments) -> np.ndarray:
    """The earlier preprocessing: FFmpeg's bilinear 171×128 frames, one grid of windows from
    the first frame, a segment's windows those lying inside it."""
    collector = EmbeddingCollector(scorer.windows)
    decode_pass(path, [collector])
    windows = collector.result
    out = np.full(len(segments), np.nan)
    for i, (seg, rows) in enumerate(zip(segments, segment_members(windows, segments))):
        if seg.end_frame - seg.start_frame >= CLIP_FRAMES and len(rows):
            out[i] = float(windows.vectors[rows, 0].mean())
    return out


def resize_difference(path: Path) -> float:
    """Mean |FFmpeg bilinear − release resize| over every 10th frame, grey levels."""
    diffs = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % RESIZE_SAMPLE_EVERY:
                continue
            ffmpeg = frame.reformat(width=171, height=128, format="rgb24",
                                    interpolation="BILINEAR").to_ndarray()
            diffs.append(np.abs(ffmpeg - release_resize(frame.to_ndarray(format="rgb24"))).mean())
    return float(np.mean(diffs))


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def one_clip(name: str, path: Path, scorer: OriginalScorer, predict, mean) -> dict:
    started = time.perf_counter()
    found = find_highlights(path, k=1, model=scorer, features=NO_EXTRAS,
                            segment_options=SegmentOptions(candidates="uniform5"))
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs = ref.get_scores(predict, ref.tutorial_segments(path), ref.iter_frames(path), mean)
    release_s = time.perf_counter() - started
    before = before_scores(scorer, path, found.segments)
    rows = []
    for i, seg in enumerate(found.segments):
        key = next((k for k in theirs if k[0] == seg.start_frame), None)
        if key is not None and seg.score is not None:
            rows.append((seg.score, float(theirs[key][0]), before[i]))
    ours, release, old = (np.array(c) for c in zip(*rows))
    default = find_highlights(path, k=1, model="prior", features=NO_EXTRAS)
    cost = window_cost(segment_windows(default.segments), frame_count(path))
    return {"name": name, "ours": ours, "release": release, "before": old,
            "unmatched": len(found.segments) - len(rows), "ours_s": ours_s,
            "release_s": release_s, "resize": resize_difference(path), "cost": cost,
            "candidates": len(default.segments)}


def generated_clip(folder: Path) -> Path:
    """12 s at 24 fps, 320×176, a panning texture (no shared media needed)."""
    gen = synthetic.moving(31, speed=5)
    frames = [np.kron(gen(i), np.ones((2, 2, 1), np.uint8))[:176] for i in range(288)]
    return synthetic.write_video(folder / "generated.mp4", frames, fps=24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="reduced")
    parser.add_argument("--clips", nargs="*", default=list(CLIPS),
                        help="paths relative to ../shared/media")
    parser.add_argument("--no-generated", action="store_true")
    parser.add_argument("--timing", action="store_true",
                        help="time per-segment windows against one grid instead")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    config = SIZES[args.size]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, c3d, head, mean = random_release_files(config, folder)
        if args.timing:
            timing(files, config, [MEDIA / c for c in args.clips if (MEDIA / c).exists()])
            return
        scorer = OriginalScorer.from_files(*files, config)
        predict = ref.torch_predict(c3d, head)
        clips = [(c, MEDIA / c) for c in args.clips if (MEDIA / c).exists()]
        if not args.no_generated:
            clips.append(("generated 320×176 pan", generated_clip(folder)))
        results = []
        for name, path in clips:
            result = one_clip(name, path, scorer, predict, mean)
            results.append(result)
            print(f"done {name} ({result['ours_s']:.0f} s ours, {result['release_s']:.0f} s "
                  f"release)", file=sys.stderr, flush=True)
    print(f"Machine: {machine()}")
    print(f"Network: {args.size} ({config.widths}, fc6 {config.fc6}); random weights in the "
          "release's file formats\n")
    print("| clip | segments | r | median rel. err. | max rel. err. | r before | median before "
          "| resize diff (grey) | default candidates | windows: grid / per segment |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(_row(r["name"], r))
    pooled = {k: np.concatenate([r[k] for r in results]) for k in ("ours", "release", "before")}
    resize = float(np.mean([r["resize"] for r in results]))
    grid = sum(r["cost"]["grid"] for r in results)
    distinct = sum(r["cost"]["distinct"] for r in results)
    candidates = sum(r["candidates"] for r in results)
    print(_row("**all, pooled**", {**pooled, "resize": resize, "candidates": candidates,
                                   "cost": {"grid": grid, "distinct": distinct}}))


def timing(files, config: C3DConfig, clips: list[Path]) -> None:
    """Wall and CPU time (all threads of this process) of find_highlights with the original
    model, default candidates; CPU time is what a busy shared machine does not inflate."""
    print(f"Machine: {machine()}\nNetwork: {config.widths}, fc6 {config.fc6}\n")
    print("| clip | candidates | placement | windows computed | wall s | CPU s | CPU s per window |")
    print("|---|---|---|---|---|---|---|")
    for path in clips:
        for placement in ("grid", "segment"):
            scorer = OriginalScorer.from_files(*files, config, windows=placement)
            started, cpu = time.perf_counter(), time.process_time()
            found = find_highlights(path, k=1, model=scorer, features=NO_EXTRAS)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            count = found.model["windows"]["computed"]
            print(f"| {path.name} | {len(found.segments)} | {placement} | {count} | "
                  f"{seconds:.0f} | {cpu:.0f} | {cpu / max(count, 1):.2f} |", flush=True)


def _row(name: str, r: dict) -> str:
    err = np.abs(r["ours"] - r["release"]) / np.abs(r["release"])
    pearson, median = ref.pearson_and_median_error(r["ours"], r["release"])
    old_r, old_median = ref.pearson_and_median_error(r["before"], r["release"])
    cost = r["cost"]
    ratio = cost["distinct"] / max(cost["grid"], 1)
    return (f"| {name} | {len(r['ours'])} | {pearson:.7f} | {median:.1e} | {err.max():.1e} | "
            f"{old_r:.2f} | {old_median:.1%} | {r['resize']:.2f} | {r['candidates']} | "
            f"{cost['grid']} / {cost['distinct']} (×{ratio:.2f}) |")


if __name__ == "__main__":
    main()
