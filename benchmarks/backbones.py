"""What the segment features cost: each backbone's compute per minute of video, and b/a
(`video2gif make` end to end over a plain decode) with the default backbone on and off.

On the ~10-minute 1280×720 30 fps H.264 benchmark video (make_long_video.py):

  (1) compute per minute of video, in a real decode pass (the collector encodes in the pass's
      thread here, so encode time is not inflated by decoding beside it):
      - EfficientNet-Lite0 (default, frames at 2 fps, 224 px): seconds per minute, ms per frame;
      - C3D (16-frame windows every 8 frames at the native rate, each with its mirror), and the
        original Video2GIF model on top of it: measured on the first --c3d-seconds of the video
        with randomly initialised weights of the released shapes (speed does not depend on the
        values; the released files are the user's), giving its real-time factor;
      - the face detector (Haar, 1 fps, 320 px) and the sound (audio decoding and loudness, on a
        real clip with sound: the benchmark video has none), the other work the prior adds;
  (2) b/a: (a) plain PyAV decode of every frame; (b) `video2gif make VIDEO -k 5 -q --no-cache`
      (default backbone); (b0) the same with `--backbone none`. Each run in its own process,
      rounds interleaved, best of --rounds. Wall seconds and CPU seconds (user + system of all
      the process's threads, which other load on a shared machine does not inflate).

Writes docs/BENCHMARKS.md, section "Backbones and segment features".

    python benchmarks/backbones.py [--seconds 600] [--rounds 2] [--c3d-seconds 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from _common import MEDIA, PLAIN_DECODE, REPO, WORK, machine, write_section
from make_long_video import build

sys.path.insert(0, str(REPO))


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; (wall seconds, CPU seconds of the child)."""
    with tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.read()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def excerpt(video: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``video``, remuxed (no re-encode)."""
    out = WORK / f"{video.stem}_first{int(seconds)}s.mp4"
    if out.exists():
        return out
    tmp = out.with_suffix(".partial.mp4")
    with av.open(str(video)) as src, av.open(str(tmp), "w") as dst:
        s_in = src.streams.video[0]
        s_out = dst.add_stream_from_template(s_in)
        for packet in src.demux(s_in):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * s_in.time_base >= seconds:
                break
            packet.stream = s_out
            dst.mux(packet)
    tmp.replace(out)
    return out


def timed(owner, method: str, totals: dict) -> None:
    """Wrap ``owner.<method>`` to add up its wall seconds and the CPU seconds of its thread
    (PyTorch with one thread and OpenCV with one thread compute in the calling thread, so the
    thread's CPU time is their cost, which other load on the machine does not inflate)."""
    inner = getattr(owner, method)
    totals.update(wall=0.0, cpu=0.0, calls=0, items=0)

    def wrapper(*a):
        w, c = time.perf_counter(), time.thread_time()
        out = inner(*a)
        totals["cpu"] += time.thread_time() - c
        totals["wall"] += time.perf_counter() - w
        totals["calls"] += 1
        totals["items"] += len(a[0]) if method == "encode" else 1
        return out

    setattr(owner, method, wrapper)


def backbone_cost(video: Path, backbone) -> tuple[dict, float]:
    """(encode totals, video seconds) of one pass."""
    from video2gif.decode import decode_pass
    from video2gif.features.backbones import EmbeddingCollector

    totals: dict = {}
    timed(backbone, "encode", totals)
    info = decode_pass(video, [EmbeddingCollector(backbone)])
    return totals, info.duration


def face_cost(video: Path) -> tuple[dict, float]:
    """(face-search totals, video seconds) of one pass."""
    from video2gif.decode import decode_pass
    from video2gif.features.faces import FaceCollector

    collector = FaceCollector()
    totals: dict = {}
    timed(collector, "_detect", totals)
    info = decode_pass(video, [collector])
    return totals, info.duration


def sound_cost(clip: Path) -> tuple[float, float]:
    """(extra seconds of a pass that also decodes the sound and meters it, video seconds); the
    benchmark video has no sound track, so a real clip with sound is used."""
    from video2gif.decode import decode_pass
    from video2gif.features.audio import LoudnessCollector

    if not clip.exists():
        return 0.0, 0.0
    best = {True: float("inf"), False: float("inf")}
    for _ in range(3):
        for with_sound in (False, True):
            start = time.perf_counter()
            info = decode_pass(clip, [], audio=[LoudnessCollector()] if with_sound else ())
            best[with_sound] = min(best[with_sound], time.perf_counter() - start)
    return max(0.0, best[True] - best[False]), info.duration


def c3d_models():
    """C3D and the original model with random weights of the released shapes."""
    from video2gif.features.c3d import C3DBackbone, C3DModel, build_c3d
    from video2gif.features.original import build_head
    from video2gif.scorers.original import OriginalScorer

    mean = np.full((3, 16, 128, 171), 100.0, np.float32)
    c3d = C3DModel(build_c3d(), mean, "random")
    return C3DBackbone(c3d), OriginalScorer(c3d, build_head(), "random").windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--c3d-seconds", type=float, default=8.0)
    parser.add_argument("--write", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    video = build(WORK / f"long_{int(args.seconds)}s.mp4", args.seconds)

    import torch

    from video2gif.features.efficientnet import (
        EfficientNetLite0Backbone,
        choose_precision,
        native_bf16,
    )
    from video2gif.features.faces import FACE_FPS, FACE_WIDTH, face_detection_unavailable

    rows = []  # (label, CPU seconds, wall seconds, video seconds, note)
    for precision in ("fp32", "bf16") if native_bf16() else ("fp32",):
        eff = EfficientNetLite0Backbone(precision=precision)
        t, dur = backbone_cost(video, eff)
        default = " (the default here)" if precision == choose_precision() else ""
        rows.append((f"EfficientNet-Lite0, 2 fps, 224 px, {precision}{default}", t["cpu"],
                     t["wall"], dur, f"{1000 * t['cpu'] / t['items']:.1f} ms CPU per frame"))
        print(rows[-1], flush=True)

    short = excerpt(video, args.c3d_seconds)
    c3d, original = c3d_models()
    for label, backbone in (("C3D fc6 (16-frame windows every 8 frames, each + mirror)", c3d),
                            ("Video2GIF original (C3D fc6 + 512-128-1 head)", original)):
        t, dur = backbone_cost(short, backbone)
        rows.append((label, t["cpu"], t["wall"], dur,
                     f"{1000 * t['cpu'] / t['items']:.0f} ms CPU per window; real-time factor "
                     f"{t['cpu'] / dur:.1f}× (CPU), {t['wall'] / dur:.1f}× (wall)"))
        print(rows[-1], flush=True)

    if face_detection_unavailable() is None:
        t, dur = face_cost(video)
        rows.append((f"faces (Haar cascade, {FACE_FPS:g} fps, {FACE_WIDTH} px)", t["cpu"],
                     t["wall"], dur, f"{1000 * t['cpu'] / t['items']:.1f} ms CPU per frame"))
        print(rows[-1], flush=True)
    sec, dur = sound_cost(MEDIA / "moviepy" / "big_buck_bunny_0_30.webm")
    if dur:
        rows.append(("sound: audio decoding + loudness (on big_buck_bunny_0_30.webm, Vorbis "
                     "44.1 kHz stereo; the benchmark video has no sound)", sec, sec, dur,
                     "wall time beyond a video-only pass, best of 3"))

    py = sys.executable
    out = Path(tempfile.mkdtemp(prefix="v2g-bench-"))
    runs = {"a": [py, "-c", PLAIN_DECODE, str(video)],
            "b": [py, "-m", "video2gif", "make", str(video), "-o", str(out), "-k", "5", "-q",
                  "--no-cache"],
            "b0": [py, "-m", "video2gif", "make", str(video), "-o", str(out), "-k", "5", "-q",
                   "--no-cache", "--backbone", "none"]}
    best: dict[str, tuple[float, float]] = {}
    ratios: list[tuple[float, float]] = []  # per round: b/a and (b - b0)/a, wall
    load = [os.getloadavg()[0]]
    try:
        for r in range(args.rounds):
            this = {}
            for name, cmd in runs.items():
                this[name] = run_process(cmd)
                print(f"round {r + 1} {name}: {this[name][0]:.1f} s wall, "
                      f"{this[name][1]:.1f} s CPU", flush=True)
                old = best.get(name)
                best[name] = (min(this[name][0], old[0]), min(this[name][1], old[1])) \
                    if old else this[name]
            a_r = this["a"][0]
            ratios.append((this["b"][0] / a_r, (this["b"][0] - this["b0"][0]) / a_r))
            load.append(os.getloadavg()[0])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    (a, a_cpu), (b, b_cpu), (b0, b0_cpu) = best["a"], best["b"], best["b0"]

    minutes = args.seconds / 60
    lines = [
        f"Video: {minutes:.0f} min 1280×720 30 fps H.264 (`benchmarks/make_long_video.py`). "
        f"Machine: {machine()}; PyTorch {torch.__version__} "
        f"({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''}).",
        "",
        f"Command: `python benchmarks/backbones.py --seconds {args.seconds:.0f} "
        f"--rounds {args.rounds} --c3d-seconds {args.c3d_seconds:g}`",
        "",
        "Compute per minute of video (in a decode pass; C3D rows on the first "
        f"{args.c3d_seconds:g} s, random weights of the released shapes):",
        "",
        "| part | CPU s per minute of video | wall s per minute | |",
        "|---|---:|---:|---|",
        *[f"| {label} | {60 * cpu / dur:.2f} | {60 * wall / dur:.2f} | {note} |"
          for label, cpu, wall, dur, note in rows],
        "",
        f"End to end, best of {args.rounds} interleaved rounds, each in its own process:",
        "",
        "| run | wall (s) | × a | CPU (s) | × a (CPU) |",
        "|---|---:|---:|---:|---:|",
        f"| (a) plain PyAV decode of every frame | {a:.1f} | 1.00 | {a_cpu:.1f} | 1.00 |",
        f"| (b) `video2gif make -k 5 --no-cache` (EfficientNet-Lite0, faces, sound) | {b:.1f} | "
        f"{b / a:.2f} | {b_cpu:.1f} | {b_cpu / a_cpu:.2f} |",
        f"| (b0) the same with `--backbone none` | {b0:.1f} | {b0 / a:.2f} | {b0_cpu:.1f} | "
        f"{b0_cpu / a_cpu:.2f} |",
        "",
        f"- the default backbone adds **{(b - b0) / a:.2f}** to b/a (target ≤ 0.5); "
        f"whole tool b/a = **{b / a:.2f}** (target ≤ 2.5); by CPU time the backbone adds "
        f"{(b_cpu - b0_cpu) / a_cpu:.2f} and the whole tool is {b_cpu / a_cpu:.2f}× a decode",
        "- per round (b/a, backbone's share): "
        + ", ".join(f"{x:.2f} ({y:+.2f})" for x, y in ratios)
        + "; 1-minute load average of the machine during the runs: "
        + ", ".join(f"{v:.1f}" for v in load) + " (2 cores, shared with other work)",
    ]
    body = "\n".join(lines)
    print(body)
    write_section(args.write, "Backbones and segment features", body)


if __name__ == "__main__":
    main()
