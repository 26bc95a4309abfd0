"""Loop seams on generated clips with a known period, ``--loop off`` vs ``auto`` vs ``bounce``.

Each clip is made here (a spinning bar, two pendulums, all 24 fps over a fixed texture), then
``video2gif make CLIP -k 1 --loop MODE`` runs through the Python API with the default model
(``ranked``: the ranked window as it was, before boundaries and loop search moved it). The
written GIF is decoded again and measured on 64×36 luma thumbnails (video2gif.loop.thumbnail):
the *seam* is the mean absolute difference from the last frame back to the first, beside the
smallest and the median difference between consecutive frames inside the GIF. A seamless loop
has a seam no bigger than the ordinary steps inside.

    .venv/bin/python benchmarks/loop_seams.py            # table on stdout, JSON in results/
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tempfile
from itertools import pairwise
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine
from tests import synthetic
from video2gif.encode import encode_segment
from video2gif.loop import LOOP_MODES, LoopShaper, thumbnail
from video2gif.options import GifOptions
from video2gif.pipeline import make_gifs

W, H, FPS, SECONDS = 160, 96, 24, 8
RESULTS = Path(__file__).resolve().parent / "results" / "loop_seams.json"


def spinning_bar(period_s: float):
    background = synthetic.textured(3, W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)

    def frame(i: int) -> np.ndarray:
        angle = 2 * math.pi * i / (period_s * FPS)
        ux, uy = math.cos(angle), math.sin(angle)
        along = (xx - W / 2) * ux + (yy - H / 2) * uy
        across = np.abs(-(xx - W / 2) * uy + (yy - H / 2) * ux)
        out = background.copy()
        out[(across < 5) & (along > -3) & (along < 40)] = (250, 240, 30)
        return out

    return frame


def pendulum(period_s: float, amplitude: float = 50, radius: float = 14):
    background = synthetic.textured(5, W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)

    def frame(i: int) -> np.ndarray:
        x = W / 2 + amplitude * math.sin(2 * math.pi * i / (period_s * FPS))
        out = background.copy()
        out[(xx - x) ** 2 + (yy - H / 2) ** 2 < radius**2] = (20, 30, 240)
        return out

    return frame


CLIPS = {  # name: (frame generator, period in seconds)
    "spinning bar, 1.55 s period": (spinning_bar(1.55), 1.55),
    "pendulum, 2.3 s period": (pendulum(2.3), 2.3),
    "pendulum, 1.1 s period": (pendulum(1.1, amplitude=40), 1.1),
}


def gif_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def measure(frames: list[np.ndarray]) -> dict:
    thumbs = [thumbnail(f) for f in frames]
    steps = [float(np.abs(a - b).mean()) for a, b in pairwise(thumbs)]
    moving = [s for s in steps if s > 1e-6] or [0.0]
    return {"frames": len(frames), "seam": float(np.abs(thumbs[-1] - thumbs[0]).mean()),
            "best_step": min(moving), "median_step": float(np.median(moving)),
            "largest_step": max(moving)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, (gen, period) in CLIPS.items():
            video = synthetic.write_video(tmp / "clip.mp4", [gen(i) for i in range(SECONDS * FPS)])
            for mode in LOOP_MODES:
                options = dataclasses.replace(GifOptions(k=1, use_cache=False), loop=mode)
                made = make_gifs(video, tmp / mode, options=options)
                doc = json.loads((made.folder / "segments.json").read_text())
                pick = next(s for s in doc["segments"] if s["pick"] == 1)
                row = {"clip": name, "period": period, "mode": mode,
                       "gif_seconds": made.outputs[0].duration,
                       "crossfade_frames": pick["loop"]["crossfade_frames"],
                       "written": {k: pick["loop"][k] for k in
                                   ("seam", "best_step", "typical_step")},
                       **measure(gif_frames(made.outputs[0].path))}
                rows.append(row)
                if mode == "off":  # the ranked window itself, before any boundary moved
                    seg = made.highlights.picks[0]
                    shaper = LoopShaper("off", seg.start, seg.end)
                    out = encode_segment(video, seg.start, seg.end, tmp / "ranked.gif",
                                         options.encode_options(), shape=shaper)
                    written = shaper.report.to_dict()
                    rows.append({**row, "mode": "ranked", "gif_seconds": out.duration,
                                 "written": {k: written[k] for k in
                                             ("seam", "best_step", "typical_step")},
                                 **measure(gif_frames(out.path))})
    print(f"machine: {machine()}")
    print("GIF: measured on the decoded file; written: segments.json's figures, on the frames "
          "before the palette")
    print(f"{'clip':30} {'mode':7} {'s':>5} | {'GIF seam':>8} {'best':>6} {'median':>6} "
          f"{'seam/best':>9} | {'written seam':>12} {'best':>6} {'median':>6} | {'xfade':>5}")
    for r in rows:
        ratio = r["seam"] / r["best_step"] if r["best_step"] else float("nan")
        w = r["written"]
        print(f"{r['clip']:30} {r['mode']:7} {r['gif_seconds']:5.2f} | {r['seam']:8.2f} "
              f"{r['best_step']:6.2f} {r['median_step']:6.2f} {ratio:9.2f} | {w['seam']:12.2f} "
              f"{w['best_step']:6.2f} {w['typical_step']:6.2f} | {r['crossfade_frames']:5d}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
