"""How well crops follow the subject: the share of frames whose subject lies wholly in the crop.

Builds small clips with a known subject (a bright disc, or a drawn face) in a temporary folder,
plans crops with :func:`video2gif.crop.plan_crop` and checks every frame against the truth; on
the shared real clips with faces, checks that the faces OpenCV finds lie in the crop. Also times
the planning (seconds of CPU per second of video).

Run:
    .venv/bin/python benchmarks/crop_follow.py [--out benchmarks/results/crop_follow.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import synthetic
from tests.test_crop import (
    FPS,
    RADIUS,
    bystander,
    disc_video,
    draw_disc,
    face_centres,
    share_inside,
    texture,
    turning_face,
    walking_face,
)
from video2gif.crop import CropPath, plan_crop
from video2gif.features.faces import face_detection_unavailable

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
ASPECTS = ("1:1", "4:5", "9:16")


def panning_with_disc(path: Path, n: int = 72):
    """The camera pans 3 px a frame over a wide texture while the disc crosses it faster."""
    w, h = 256, 144
    strip = np.concatenate([texture(11, w, h), texture(12, w, h), texture(13, w, h)], axis=1)
    frames, truth = [], []
    for i in range(n):
        image = np.ascontiguousarray(strip[:, 3 * i : 3 * i + w]).copy()
        cx, cy = 30 + 2.8 * i, 72 + 30 * np.sin(i / 10)
        frames.append(draw_disc(image, cx, cy))
        truth.append((cx, cy))
    return synthetic.write_video(path, frames, fps=FPS), truth


def noisy_disc(path: Path, n: int = 72, sigma: float = 8.0):
    """Sensor-like noise (σ = 8 grey levels, new every frame) over a disc crossing diagonally."""
    rng = np.random.default_rng(5)
    background = texture(14, 256, 144)
    frames, truth = [], []
    for i in range(n):
        image = draw_disc(background.copy(), 230 - 2.8 * i, 25 + 1.3 * i)
        noise = rng.normal(0, sigma, image.shape)
        frames.append(np.clip(image + noise, 0, 255).astype(np.uint8))
        truth.append((230 - 2.8 * i, 25 + 1.3 * i))
    return synthetic.write_video(path, frames, fps=FPS), truth


def disc_and_swaying_tree(path: Path, n: int = 72):
    """A distractor: a large, dim patch at the left flickers (a tree in wind) while the disc
    crosses the right two thirds."""
    rng = np.random.default_rng(6)
    background = texture(15, 256, 144)
    frames, truth = [], []
    for i in range(n):
        image = background.copy()
        patch = rng.integers(60, 100, size=(9, 5, 1), dtype=np.uint8)
        image[40:112, 8:48] = np.kron(patch, np.ones((8, 8, 3), dtype=np.uint8))
        cx, cy = 110 + 1.8 * i, 72
        frames.append(draw_disc(image, cx, cy))
        truth.append((cx, cy))
    return synthetic.write_video(path, frames, fps=FPS), truth


def fast_disc(path: Path, n: int = 48):
    """A disc crossing the whole width in 0.75 s, then bouncing back."""
    frames, truth = [], []
    background = texture(16, 256, 144)
    for i in range(n):
        x = 14 * i % 456
        cx = 16 + (x if x <= 228 else 456 - x)
        frames.append(draw_disc(background.copy(), cx, 72))
        truth.append((cx, 72))
    return synthetic.write_video(path, frames, fps=FPS), truth


def scenarios(folder: Path):
    yield "disc crossing, cut at 2 s", *disc_video(folder / "cut.mp4", 256, 144, [
        (1, 48, lambda i: (20 + 4.5 * i, 50 + 20 * np.sin(i / 8))),
        (2, 48, lambda i: (40 + 1.0 * i, 100)),
    ]), RADIUS
    yield "disc over a panning camera", *panning_with_disc(folder / "pan.mp4"), RADIUS
    yield "disc in sensor noise", *noisy_disc(folder / "noise.mp4"), RADIUS
    yield "disc beside a flickering patch", *disc_and_swaying_tree(folder / "tree.mp4"), RADIUS
    yield "fast disc, 14 px a frame, bouncing", *fast_disc(folder / "fast.mp4"), RADIUS
    yield "disc, bystander jumping for 0.4 s", *bystander(folder / "bystander.mp4"), RADIUS
    if face_detection_unavailable() is None:
        yield "drawn face walking", *walking_face(folder / "face.mp4"), 30
        yield "drawn face walking, turns away", *turning_face(folder / "turn.mp4"), 30


def centre_crop(plan: CropPath) -> CropPath:
    """The same crop held still at the centre of the frame: the baseline."""
    x = (plan.source_width - plan.width) // 2
    y = (plan.source_height - plan.height) // 2
    return dataclasses.replace(plan, boxes=((x, y),) * len(plan.times))


def shake(plan: CropPath) -> float:
    """Mean change of the box's velocity from frame to frame, pixels per frame² (0: still or a
    steady pan), within pieces: how much the crop jerks."""
    xy = np.asarray(plan.boxes, dtype=float)
    starts = [plan.times.index(t) for t, _ in plan.pieces] + [len(xy)]
    steps = [np.abs(np.diff(xy[a:b], n=2, axis=0)).sum(axis=1)
             for a, b in itertools.pairwise(starts) if b - a > 2]
    return float(np.concatenate(steps).mean()) if steps else 0.0


def real_faces():
    """(name, path, start, end) of shared clips with faces."""
    for name, start, end in (("opencv/Megamind.avi", 1.0, 4.0), ("opencv/Megamind.avi", 8.35, 11.0)):
        if (MEDIA / name).is_file():
            yield f"{name} {start:g}-{end:g} s", MEDIA / name, start, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, truth, margin in scenarios(Path(tmp)):
            for aspect in ASPECTS:
                t0 = time.process_time()
                plan = plan_crop(path, 0.0, len(truth) / FPS, aspect)
                cpu = time.process_time() - t0
                share = share_inside(plan, truth, margin=margin)
                centred = share_inside(centre_crop(plan), truth, margin=margin)
                rows.append({"clip": name, "aspect": aspect, "inside": round(share, 4),
                             "inside_centre_crop": round(centred, 4),
                             "shake": round(shake(plan), 3),
                             "frames": len(truth), "follows": [s for _, s in plan.pieces],
                             "cpu_per_video_second": round(cpu / (len(truth) / FPS), 3)})
                print(f"{name:34s} {aspect:5s} inside {share:6.1%} (centre crop {centred:6.1%}) shake {rows[-1]['shake']:.2f}  "
                      f"{','.join(s for _, s in plan.pieces):13s} {rows[-1]['cpu_per_video_second']:.2f} s/s")
    if face_detection_unavailable() is None:
        for name, path, start, end in real_faces():
            for aspect in ASPECTS:
                t0 = time.process_time()
                plan = plan_crop(path, start, end, aspect)
                cpu = time.process_time() - t0
                seen = face_centres(path, start, end)
                inside = [plan.box_at(t)[0] <= x <= plan.box_at(t)[0] + plan.width
                          and plan.box_at(t)[1] <= y <= plan.box_at(t)[1] + plan.height
                          for t, x, y in seen]
                share = float(np.mean(inside)) if inside else float("nan")
                rows.append({"clip": name, "aspect": aspect, "inside": round(share, 4),
                             "frames": len(seen), "follows": [s for _, s in plan.pieces],
                             "cpu_per_video_second": round(cpu / (end - start), 3)})
                print(f"{name:34s} {aspect:5s} face centre inside {share:6.1%} of {len(seen)} "
                      f"detections  {rows[-1]['cpu_per_video_second']:.2f} s/s")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
