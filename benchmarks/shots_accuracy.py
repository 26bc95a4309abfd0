"""Shot-boundary accuracy and speed: video2gif's detector against PySceneDetect's AdaptiveDetector.

Both detectors run on the same files:

- **synthetic edits**, generated here deterministically (numpy + PyAV, 320×180): shots of
  procedural pictures (stills, slow and fast pans, moving discs, zooms) or of frames taken from
  single shots of the real clips, joined by hard cuts, cross-dissolves (4-40 frames), fades
  through black, fade-outs cut into the next shot, dips to dark, with white flashes (1-2 frames)
  and whip pans inside shots that must not count as boundaries. The generator knows every
  transition exactly;
- **real clips** in ``../shared/media`` (skipped when absent), with boundaries labelled by hand
  after looking at the frames (``benchmarks/shots_labels.json``).

A boundary is found when a detection falls inside the transition's frames widened by
``--tolerance`` frames (2): a cut's first new frame, or a gradual transition's span. Our gradual
transitions count at their middle frame, so one wide detection cannot cover several labels.
Detections match labels one to one; fades at the very start or end of a video and other
``ignore`` spans count neither way. PySceneDetect's scene starts are mapped to frames by
timestamp.

Times are for the whole job (open, decode, detect), best of ``--repeat`` runs on the same machine
one after the other: wall seconds, and CPU seconds of all the process's threads (steadier when the
machine is shared). "plain PyAV decode" decodes every frame with threads and converts nothing, for
scale. ``ShotDetector.push()`` is also timed alone, on thumbnails decoded beforehand.

The synthetic seeds used here were never used to tune the detector (tuning used ``--seeds
0-5``); the real clips were studied while developing it, so their scores are not held out.

Usage:
    .venv/bin/python benchmarks/shots_accuracy.py            # writes results/shots_accuracy.md
    .venv/bin/python benchmarks/shots_accuracy.py --quick    # two synthetic clips, no file
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MEDIA, WORK, machine  # noqa: E402

from video2gif.decode import FrameConsumer, decode_pass  # noqa: E402
from video2gif.shots import ShotDetector, detect_shots  # noqa: E402

GENERATOR_VERSION = 3  # bump when the generator changes: cached clips are rebuilt
W, H = 320, 180  # synthetic frame size
SHOTS_PER_CLIP = 22
PROCEDURAL_SEEDS = (101, 102, 103, 104)
FOOTAGE_SEEDS = (201, 202, 203, 204)
CLIP_FPS = {101: 24, 102: 30, 103: 24, 104: 60, 201: 24, 202: 25, 203: 30, 204: 24}
LABELS = Path(__file__).resolve().parent / "shots_labels.json"
RESULTS = Path(__file__).resolve().parent / "results" / "shots_accuracy.md"
CLIPS = WORK / "shots"

# Single shots of the real clips (frame ranges checked by eye) that footage edits are cut from.
FOOTAGE = {
    "moviepy/big_buck_bunny_0_30.webm": [(48, 283), (283, 376), (376, 551), (551, 720)],
    "moviepy/chaplin.mp4": [(0, 241)],
    "opencv/Megamind.avi": [(1, 98), (98, 154), (154, 200), (200, 270)],
    "moviepy/video_with_failing_audio.mp4": [(0, 182)],
    "pyscenedetect/goldeneye-vfr-drop3.mp4": [(0, 60), (60, 140)],
    "pyscenedetect/testvideo.mp4": [(30, 180), (241, 331)],
}


# -- synthetic edits ---------------------------------------------------------------------------


def _noise_picture(rng: np.random.Generator, w: int, h: int, cells: tuple[int, int]) -> np.ndarray:
    small = rng.integers(0, 256, size=(cells[1], cells[0], 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC), dtype=np.float32)


def _picture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Large smooth colour regions, some finer detail, a little grain."""
    base = _noise_picture(rng, w, h, (max(2, w // 80), max(2, h // 80)))
    detail = _noise_picture(rng, w, h, (max(2, w // 12), max(2, h // 12))) - 128
    img = base * 0.8 + detail * rng.uniform(0.1, 0.4) + rng.normal(0, 5, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.float32)


class _Scene:
    gain = 1.0

    def frame(self, i: int) -> np.ndarray:
        return self.draw(i) * self.gain

    def draw(self, i: int) -> np.ndarray:
        raise NotImplementedError


class _Still(_Scene):
    def __init__(self, rng):
        self.img = _picture(rng, W, H)
        self.grain = rng.normal(0, 2.0, size=(4, H, W, 3)).astype(np.float32)

    def draw(self, i):
        return self.img + self.grain[i % 4]


def _bounce(x: float, span: float) -> float:
    x = x % (2 * span)
    return x if x <= span else 2 * span - x


class _Pan(_Scene):
    """A camera moving over a big picture at ``speed`` px/frame; optional whip pans."""

    def __init__(self, rng, speed, whip_at=-1):
        self.big = _picture(rng, W * 4, H * 2)
        ang = rng.uniform(0, 2 * np.pi)
        self.v = speed * np.array([np.cos(ang), np.sin(ang)])
        self.p0 = np.array([rng.uniform(0, 3 * W), rng.uniform(0, H)])
        self.whip_at = whip_at
        self.whip = rng.choice([-1, 1]) * rng.uniform(25, 45)

    def draw(self, i):
        p = self.p0 + self.v * i
        if self.whip_at >= 0:  # four very fast frames, then the camera settles
            p[0] += self.whip * min(max(i - self.whip_at, 0), 4)
        x = int(round(_bounce(p[0], 3 * W)))
        y = int(round(_bounce(p[1], H)))
        return self.big[y : y + H, x : x + W]


class _Discs(_Scene):
    def __init__(self, rng, speed):
        self.bg = _noise_picture(rng, W, H, (3, 2))
        n = int(rng.integers(3, 7))
        self.pos = rng.uniform([0, 0], [W, H], size=(n, 2))
        self.vel = rng.normal(0, speed, size=(n, 2))
        self.rad = rng.uniform(12, 45, size=n)
        self.col = rng.integers(0, 256, size=(n, 3)).astype(np.float32)
        self.yy, self.xx = np.mgrid[0:H, 0:W]

    def draw(self, i):
        img = self.bg.copy()
        for p, v, r, c in zip(self.pos, self.vel, self.rad, self.col):
            x, y = _bounce(p[0] + v[0] * i, W), _bounce(p[1] + v[1] * i, H)
            img[(self.xx - x) ** 2 + (self.yy - y) ** 2 <= r * r] = c
        return img


class _Zoom(_Scene):
    def __init__(self, rng, rate):
        self.img = Image.fromarray(_picture(rng, W * 2, H * 2).astype(np.uint8))
        self.rate = rate

    def draw(self, i):
        z = 1.0 + self.rate * i
        w, h = 2 * W / z, 2 * H / z
        box = (W - w / 2, H - h / 2, W + w / 2, H + h / 2)
        return np.asarray(self.img.resize((W, H), Image.BILINEAR, box=box), dtype=np.float32)


class _Footage(_Scene):
    """Frames of one real shot, played forwards then backwards if the edit needs more."""

    def __init__(self, frames, offset):
        self.frames = frames
        self.offset = offset

    def draw(self, i):
        n = len(self.frames)
        j = (self.offset + i) % (2 * n - 2) if n > 1 else 0
        return self.frames[j if j < n else 2 * n - 2 - j].astype(np.float32)


def _procedural_scene(rng, _previous):
    kind = rng.choice(["still", "pan", "fast", "discs", "zoom"], p=[0.15, 0.3, 0.15, 0.25, 0.15])
    if kind == "still":
        return _Still(rng)
    if kind == "pan":
        return _Pan(rng, rng.uniform(0.5, 5), whip_at=int(rng.integers(10, 30)) if
                    rng.random() < 0.3 else -1)
    if kind == "fast":
        return _Pan(rng, rng.uniform(8, 20))
    if kind == "discs":
        return _Discs(rng, rng.uniform(1, 6))
    return _Zoom(rng, rng.uniform(0.003, 0.012))


def _footage_scenes(shots: list[list[np.ndarray]]):
    def make(rng, previous):
        while True:
            i = int(rng.integers(len(shots)))
            if i != previous:
                break
        scene = _Footage(shots[i], int(rng.integers(len(shots[i]))))
        scene.source = i
        if rng.random() < 0.1:  # a dark shot: low light is not black
            scene.gain = rng.uniform(0.25, 0.45)
        return scene

    return make


def _load_footage() -> list[list[np.ndarray]]:
    shots = []
    for rel, ranges in FOOTAGE.items():
        want = {i for a, b in ranges for i in range(a, b)}
        frames = {}
        with av.open(str(MEDIA / rel)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i in want:
                    frames[i] = frame.to_ndarray(format="rgb24", width=W, height=H)
                if i >= max(want):
                    break
        shots += [[frames[i] for i in range(a, b)] for a, b in ranges]
    return shots


def make_edit(rng: np.random.Generator, new_scene, n_shots: int, fps: int):
    """Frames and labels of an edit: ``n_shots`` shots of 1-4 s joined by random transitions.

    Returns (frames, transitions, flashes): a transition is {"kind", "start", "end"} with start the
    first frame that is not purely the old shot and end the first frame purely of the new one
    (start == end for a cut); flashes lists the frames of white flashes.
    """
    frames: list[np.ndarray] = []
    truth: list[dict] = []
    flashes: list[int] = []
    scale = fps / 24  # transition lengths are drawn for 24 fps and scaled

    def shot(scene, first, n, allow_flash=True):
        flash_at = int(rng.integers(6, n - 6)) if allow_flash and n > 14 and \
            rng.random() < 0.2 else -1
        flash_len = int(rng.integers(1, 3))
        strength = rng.uniform(0.6, 0.9)
        for k in range(n):
            f = scene.frame(first + k)
            if flash_at >= 0 and flash_at <= k < flash_at + flash_len:
                f = f * (1 - strength) + 255 * strength
                flashes.append(len(frames))
            frames.append(f)
        return first + n

    prev = new_scene(rng, None)
    prev_i = shot(prev, 0, int(rng.integers(int(1.0 * fps), int(4.0 * fps))))
    for _ in range(1, n_shots):
        nxt = new_scene(rng, getattr(prev, "source", None))
        kind = rng.choice(["cut", "dissolve", "fade", "fadecut", "dip"],
                          p=[0.5, 0.28, 0.1, 0.06, 0.06])
        start = len(frames)
        j = 0
        if kind == "cut":
            truth.append({"kind": "cut", "start": start, "end": start})
        elif kind == "dissolve":
            m = int(round(rng.integers(4, 41) * scale))
            for k in range(m):
                a = (k + 1) / (m + 1)
                frames.append((1 - a) * prev.frame(prev_i) + a * nxt.frame(j))
                prev_i += 1
                j += 1
            truth.append({"kind": "dissolve", "start": start, "end": len(frames)})
        else:
            m1 = int(round(rng.integers(6, 25) * scale))
            black = int(round(rng.integers(0, 12) * scale)) if kind != "dip" else 0
            m2 = 0 if kind == "fadecut" else int(round(rng.integers(6, 25) * scale))
            floor = rng.uniform(0.1, 0.25) if kind == "dip" else 0.0
            for k in range(m1):
                g = 1 - (1 - floor) * (k + 1) / (m1 + 1)
                frames.append(prev.frame(prev_i) * g)
                prev_i += 1
            frames.extend(np.zeros((H, W, 3), np.float32) for _ in range(black))
            for k in range(m2):
                g = floor + (1 - floor) * (k + 1) / (m2 + 1)
                frames.append(nxt.frame(j) * g)
                j += 1
            truth.append({"kind": "fade", "start": start, "end": len(frames)})
        n = int(rng.integers(int(1.0 * fps), int(4.0 * fps)))
        prev_i = shot(nxt, j, n)
        prev = nxt
    frames8 = [np.clip(f, 0, 255).round().astype(np.uint8) for f in frames]
    return frames8, truth, flashes


def _write(path: Path, frames: list[np.ndarray], fps: int) -> None:
    tmp = path.with_name(path.stem + ".partial" + path.suffix)
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = W, H
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)


def synthetic_clips(procedural: tuple[int, ...], footage: tuple[int, ...]) -> list[dict]:
    """Generate (or reuse) the synthetic edits; returns [{name, path, transitions, ignore}]."""
    CLIPS.mkdir(parents=True, exist_ok=True)
    shots = None
    out = []
    for family, seeds in (("procedural", procedural), ("footage", footage)):
        for seed in seeds:
            name = f"{family}-{seed}"
            path = CLIPS / f"{name}-v{GENERATOR_VERSION}.mp4"
            labels = path.with_suffix(".json")
            if not (path.exists() and labels.exists()):
                if family == "footage":
                    if not MEDIA.is_dir():
                        continue
                    shots = shots or _load_footage()
                    new_scene = _footage_scenes(shots)
                else:
                    new_scene = _procedural_scene
                fps = CLIP_FPS.get(seed, (24, 30, 25, 60)[seed % 4])
                rng = np.random.default_rng(seed)
                frames, truth, flashes = make_edit(rng, new_scene, SHOTS_PER_CLIP, fps)
                _write(path, frames, fps)
                labels.write_text(json.dumps({"fps": fps, "frames": len(frames),
                                              "transitions": truth, "flashes": flashes}))
            doc = json.loads(labels.read_text())
            out.append({"name": name, "path": path, "transitions": doc["transitions"],
                        "ignore": [], "synthetic": True, "fps": doc["fps"]})
    return out


def real_clips() -> list[dict]:
    if not MEDIA.is_dir():
        return []
    doc = json.loads(LABELS.read_text())
    return [
        {"name": Path(rel).name, "path": MEDIA / rel, "transitions": c["transitions"],
         "ignore": c.get("ignore", []), "synthetic": False}
        for rel, c in doc["clips"].items()
        if (MEDIA / rel).exists()
    ]


# -- detectors ---------------------------------------------------------------------------------


@dataclass
class Run:
    points: list[float]  # detected boundaries, frame positions in our decode order
    seconds: float  # wall clock
    cpu: float  # CPU seconds of all the process's threads (steadier on a shared machine)


class _Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def run_ours(path: Path) -> Run:
    with _Clock() as clock:
        result = detect_shots(path)
    points = [t.start_frame if t.kind == "cut" else (t.start_frame + t.end_frame) / 2
              for t in result.transitions]
    return Run(points, clock.wall, clock.cpu)


def run_pyscenedetect(path: Path, times: np.ndarray) -> Run:
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    with _Clock() as clock:
        video = open_video(str(path), backend="pyav")
        manager = SceneManager()
        manager.add_detector(AdaptiveDetector())
        manager.detect_scenes(video)
        scenes = manager.get_scene_list()
    starts = [s[0].seconds if hasattr(s[0], "seconds") else s[0].get_seconds()
              for s in scenes[1:]]
    return Run([int(np.argmin(np.abs(times - t))) for t in starts], clock.wall, clock.cpu)


def plain_decode(path: Path) -> Run:
    with _Clock() as clock:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for _ in container.decode(stream):
                pass
    return Run([], clock.wall, clock.cpu)


def frame_times(path: Path) -> np.ndarray:
    """Every frame's time in our decode order (what both detectors' outputs are mapped to)."""
    det = ShotDetector()
    decode_pass(path, [det])
    return det.times


# -- scoring -----------------------------------------------------------------------------------


def match(truth: list[dict], points: list[float], ignore: list[list[int]], tol: int):
    """(true positives, false positives, matched labels) for one clip."""
    pts = [p for p in points if not any(a - tol <= p <= b + tol for a, b in ignore)]
    used: set[int] = set()
    hits = []
    for label in truth:
        lo, hi = label["start"] - tol, label["end"] + tol
        centre = (label["start"] + label["end"]) / 2
        best = min(((abs(p - centre), i) for i, p in enumerate(pts)
                    if i not in used and lo <= p <= hi), default=None)
        if best is not None:
            used.add(best[1])
        hits.append(best is not None)
    tp = sum(hits)
    return tp, len(pts) - tp, hits


def prf(tp: int, fp: int, n: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / n if n else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def push_cost(path: Path, repeat: int = 5) -> tuple[int, float]:
    """(frames, µs per ShotDetector.push call), timed on the thread's own CPU clock over
    thumbnails decoded beforehand, best of ``repeat`` passes."""

    class Thumbnails(FrameConsumer):
        def __init__(self):
            super().__init__(ShotDetector().request)
            self.frames: list[tuple[float, np.ndarray]] = []

        def push(self, index, time_, image):
            self.frames.append((time_, image))

    thumbs = Thumbnails()
    info = decode_pass(path, [thumbs])
    best = float("inf")
    for _ in range(repeat):
        detector = ShotDetector()
        detector.start(info)
        t0 = time.thread_time()
        for i, (t, image) in enumerate(thumbs.frames):
            detector.push(i, t, image)
        best = min(best, time.thread_time() - t0)
    return len(thumbs.frames), 1e6 * best / max(1, len(thumbs.frames))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two synthetic clips, print only")
    ap.add_argument("--seeds", help="use these seeds instead, e.g. 0-5 (development only)")
    ap.add_argument("--no-real", action="store_true", help="skip the real clips")
    ap.add_argument("--repeat", type=int, default=2, help="timing runs per clip (best counts)")
    ap.add_argument("--tolerance", type=int, default=2, help="frames of slack around a label")
    ap.add_argument("--out", type=Path, default=RESULTS, help="markdown file to write")
    args = ap.parse_args(argv)

    procedural, footage = PROCEDURAL_SEEDS, FOOTAGE_SEEDS
    if args.seeds:
        lo, hi = (int(x) for x in args.seeds.split("-"))
        procedural = tuple(range(lo, hi + 1))
        footage = tuple(range(1000 + lo, 1000 + hi + 1))
    if args.quick:
        procedural, footage = procedural[:1], footage[:1]
    clips = synthetic_clips(procedural, footage)
    if not (args.no_real or args.quick):
        clips += real_clips()

    rows = []
    for clip in clips:
        times = frame_times(clip["path"])
        runs = {
            "ours": min((run_ours(clip["path"]) for _ in range(args.repeat)),
                        key=lambda r: r.seconds),
            "psd": min((run_pyscenedetect(clip["path"], times) for _ in range(args.repeat)),
                       key=lambda r: r.seconds),
            "decode": min((plain_decode(clip["path"]) for _ in range(args.repeat)),
                          key=lambda r: r.seconds),
        }
        row = {"clip": clip["name"], "group": "synthetic" if clip["synthetic"] else "real",
               "frames": len(times), "labels": clip["transitions"], "runs": runs}
        for name in ("ours", "psd"):
            row[name] = match(clip["transitions"], runs[name].points, clip["ignore"],
                              args.tolerance)
        rows.append(row)
        print(f"{clip['name']:28s} ours tp={row['ours'][0]:2d} fp={row['ours'][1]:2d} "
              f"{runs['ours'].seconds:.2f}s | adaptive tp={row['psd'][0]:2d} "
              f"fp={row['psd'][1]:2d} {runs['psd'].seconds:.2f}s | decode "
              f"{runs['decode'].seconds:.2f}s | labels {len(clip['transitions'])}", flush=True)

    costs = []
    if not (args.no_real or args.quick):
        for rel in ("moviepy/big_buck_bunny_0_30.webm", "pyscenedetect/testvideo.mp4"):
            if (MEDIA / rel).exists():
                costs.append((Path(rel).name, *push_cost(MEDIA / rel)))
    table = _markdown(rows, costs, args)
    print()
    print(table)
    if not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_suffix(".partial")
        tmp.write_text(table)
        tmp.replace(args.out)
        print(f"wrote {args.out}")
    return 0


def _markdown(rows: list[dict], costs: list, args) -> str:
    command = "`.venv/bin/python benchmarks/shots_accuracy.py" + (
        f" --seeds {args.seeds}" if args.seeds else "") + (
        f" --repeat {args.repeat}" if args.repeat != 2 else "") + "`"
    lines = [
        "# Shot boundaries: video2gif vs PySceneDetect AdaptiveDetector",
        "",
        f"Command: {command}  ",
        f"Machine: {machine()} (shared with other work while measuring).  ",
        f"PySceneDetect {_psd_version()}, `AdaptiveDetector()` with its defaults, PyAV backend.  ",
        f"A label is found when a detection falls within ±{args.tolerance} frames of its span "
        "(see the script's docstring). Times: best of "
        f"{args.repeat} runs of the whole job (open, decode, detect); wall seconds, and CPU "
        "seconds of all threads.",
        "",
        "| clips | detector | precision | recall | F1 | cut recall | gradual recall | wall s "
        "| CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group in ("synthetic", "real"):
        mine = [r for r in rows if r["group"] == group]
        if not mine:
            continue
        walls = {}
        for name, label in (("ours", "video2gif"), ("psd", "AdaptiveDetector")):
            tp = sum(r[name][0] for r in mine)
            fp = sum(r[name][1] for r in mine)
            n = sum(len(r["labels"]) for r in mine)
            p, rec, f = prf(tp, fp, n)
            kinds = {"cut": [0, 0], "gradual": [0, 0]}
            for r in mine:
                for label_, hit in zip(r["labels"], r[name][2]):
                    k = kinds["cut" if label_["kind"] == "cut" else "gradual"]
                    k[0] += hit
                    k[1] += 1
            wall = sum(r["runs"][name].seconds for r in mine)
            cpu = sum(r["runs"][name].cpu for r in mine)
            walls[name] = (wall, cpu)
            lines.append(f"| {group} ({len(mine)} clips, {n} labels) | {label} | {p:.3f} | "
                         f"{rec:.3f} | {f:.3f} | {_recall(kinds['cut'])} | "
                         f"{_recall(kinds['gradual'])} | {wall:.2f} | {cpu:.2f} |")
        wall = sum(r["runs"]["decode"].seconds for r in mine)
        cpu = sum(r["runs"]["decode"].cpu for r in mine)
        lines.append(f"| {group} | plain PyAV decode | | | | | | {wall:.2f} | {cpu:.2f} |")
        lines.append(f"| {group} | *AdaptiveDetector ÷ video2gif time* | | | | | | "
                     f"*{walls['psd'][0] / walls['ours'][0]:.2f}×* | "
                     f"*{walls['psd'][1] / walls['ours'][1]:.2f}×* |")
    if costs:
        lines += ["", "`ShotDetector.push()` alone, on 64×36 thumbnails decoded beforehand "
                  "(thread CPU time, best of 5):", ""]
        lines += [f"- {name}: {frames} frames, {us:.0f} µs per frame"
                  for name, frames, us in costs]
    lines += [
        "",
        "## Per clip",
        "",
        "| clip | frames | labels | ours TP | ours FP | ours wall s | Adaptive TP | Adaptive FP "
        "| Adaptive wall s | decode wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['clip']} | {r['frames']} | {len(r['labels'])} | {r['ours'][0]} | "
            f"{r['ours'][1]} | {r['runs']['ours'].seconds:.2f} | {r['psd'][0]} | {r['psd'][1]} | "
            f"{r['runs']['psd'].seconds:.2f} | {r['runs']['decode'].seconds:.2f} |")
    return "\n".join(lines) + "\n"


def _recall(pair) -> str:
    return f"{pair[0] / pair[1]:.3f} ({pair[0]}/{pair[1]})" if pair and pair[1] else "–"


def _psd_version() -> str:
    try:
        import scenedetect

        return scenedetect.__version__
    except ImportError:
        return "not installed"


if __name__ == "__main__":
    sys.exit(main())
