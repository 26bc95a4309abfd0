"""End-to-end benchmark: `video2gif shots`, `segments` and `make` against a plain decode of the
same file, on the float32 path, with a per-stage split of the CPU time.

On one ~10-minute 1280×720 30 fps H.264 video built from the real clips (make_long_video.py),
each command in its own process, in interleaved rounds (plain, shots, segments, make, then the
stage runs; next round), so that load from other work on a shared machine falls on all of them
alike. Figures are the median of the rounds; ratios are to the plain decode of the same round.

- **plain decode**: a threaded PyAV decode of every frame, nothing else: the floor;
- **shots / segments / make**: the commands as a user runs them (`--no-cache`, `-k 5`);
- **per-stage split** (CPU seconds, user + system, of all the process's threads): decode passes
  that add one stage's consumers at a time (decode → + shots → + signals → + faces → +
  backbone), each stage's share being the difference; imports and model loading; scoring (what
  `segments` spends beyond its pass and set-up); re-reading (five 3-s ranges decoded again at
  the GIF width, as the encoder does) and encoding (what `make` spends beyond `segments` and
  the re-reading). Audio is measured on the bundled example, since the benchmark video has no
  sound;
- **peak memory** of `make` on the 10-minute video and on a 3× longer copy (flat means ≈ 1);
- **`video2gif --help`** wall time (median of 5).

The float32 path is always measured: the children run with ``VIDEO2GIF_PRECISION=fp32``, whether
or not the CPU has native bfloat16 (the line above the table says which).

    python benchmarks/run.py [--seconds 600] [--rounds 3] [--no-long] [--no-split]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PLAIN_DECODE, REPO, WORK, machine, write_section
from make_long_video import build, repeat

from video2gif.features.backbones import SAMPLE_FPS
from video2gif.features.faces import FACE_FPS, FACE_WIDTH
from video2gif.features.signals import QUALITY_FPS, QUALITY_HEIGHT, QUALITY_WIDTH

SECTION = "End to end: shots, segments and make vs a plain decode (float32)"
EXAMPLE = REPO / "examples" / "big_buck_bunny_0_30.webm"  # has sound, for the audio stage
STAGES = ("decode", "shots", "signals", "faces", "backbone")  # each adds its consumers
RERUN_RANGES = 5  # picks re-read, as `make -k 5` does
RERUN_SECONDS = 3.0

# A decode pass with the consumers of the stages up to argv[1]; prints its own CPU and wall
# seconds, and the CPU spent before it (imports, loading the backbone).
STAGE_PASS = """
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
stage, path = sys.argv[1], sys.argv[2]
import video2gif.decode
from video2gif.decode import decode_pass, probe, read_range
video2gif.decode.FAST_DECODER_OPTIONS = {}  # as in make's pass, whose signals need exact frames
order = STAGES
consumers, audio = [], []
if stage == "audio":
    from video2gif.features.audio import LoudnessCollector
    audio = [LoudnessCollector()]
elif stage == "reread":
    from video2gif.encode import EncodeOptions
    width = EncodeOptions().width
else:
    upto = order.index(stage)
    if upto >= 1:
        from video2gif.shots import ShotDetector
        consumers.append(ShotDetector())
    if upto >= 2:
        from video2gif.features.signals import SignalCollector
        consumers += SignalCollector().consumers()
    if upto >= 3:
        from video2gif.features.faces import FaceCollector
        consumers.append(FaceCollector())
    if upto >= 4:
        from video2gif.features.backbones import EmbeddingCollector, load_backbone
        consumers.append(EmbeddingCollector(load_backbone("efficientnet-lite0")))
c0, w0 = cpu(), time.perf_counter()
if stage == "reread":
    step = probe(path).duration / RANGES
    for i in range(RANGES):
        start = (i + 0.5) * step
        for _ in read_range(path, start, start + SECONDS, width=width):
            pass
else:
    decode_pass(path, consumers, audio=audio)
print(json.dumps({"cpu": cpu() - c0, "wall": time.perf_counter() - w0, "setup": c0,
                  "seconds": probe(path).duration}))
""".replace("STAGES", repr(STAGES)).replace("RANGES", str(RERUN_RANGES)).replace(
    "SECONDS", repr(RERUN_SECONDS))

# CPU seconds of a child, from the launcher's rusage of its children.
_CPU_LAUNCHER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": wall, "cpu": r.ru_utime + r.ru_stime,
                  "rss_mib": r.ru_maxrss / 1024}))
"""


def run_child(cmd: list[str], env: dict) -> dict:
    """Run ``cmd`` (stdout discarded); its wall and CPU seconds and peak resident MiB."""
    proc = subprocess.run([sys.executable, "-S", "-c", _CPU_LAUNCHER, *cmd], env=env,
                          capture_output=True, text=True, check=False)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["code"]:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out['code']}): {proc.stderr[-2000:]}")
    return out


def stage_pass(stage: str, video: Path, env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", STAGE_PASS, stage, str(video)], env=env,
                          capture_output=True, text=True, cwd=REPO, check=False)
    if proc.returncode:
        raise RuntimeError(f"stage {stage} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bf16_native() -> bool:
    sys.path.insert(0, str(REPO))
    from video2gif.features.efficientnet import native_bf16

    return native_bf16()


def help_seconds(env: dict, times: int = 5) -> float:
    walls = []
    for _ in range(times):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "video2gif", "--help"], env=env, cwd=REPO,
                       capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-long", action="store_true", help="skip the 3× memory check")
    parser.add_argument("--no-split", action="store_true", help="skip the per-stage split")
    parser.add_argument("--write", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    video = build(WORK / f"long_{int(args.seconds)}s.mp4", args.seconds)
    env = {**os.environ, "VIDEO2GIF_PRECISION": "fp32", "PYTHONPATH": str(REPO)}
    py = sys.executable
    tool = [py, "-m", "video2gif"]
    native = bf16_native()
    print(f"Machine: {machine()}; bfloat16 native: {'yes' if native else 'no'}; "
          "measuring the float32 path", flush=True)
    out = Path(tempfile.mkdtemp(prefix="v2g-bench-"))
    commands = {
        "plain": [py, "-c", PLAIN_DECODE, str(video)],
        "shots": [*tool, "shots", str(video)],
        "segments": [*tool, "segments", str(video), "--no-cache"],
        "make": [*tool, "make", str(video), "-o", str(out), "-k", "5", "-q", "--no-cache"],
    }
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    split: dict[str, list[dict]] = {s: [] for s in (*STAGES, "reread")}
    loads = []
    try:
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for name, cmd in commands.items():
                runs[name].append(run_child(cmd, env))
                last = runs[name][-1]
                print(f"round {r + 1} {name}: {last['wall']:.1f} s wall, {last['cpu']:.1f} s CPU,"
                      f" {last['rss_mib']:.0f} MiB", flush=True)
            if not args.no_split:
                for stage, rows in split.items():
                    rows.append(stage_pass(stage, video, env))
                    print(f"round {r + 1} pass {stage}: {rows[-1]['cpu']:.1f} s CPU",
                          flush=True)
        long_mem = None
        if not args.no_long:
            longer = repeat(video, WORK / f"long_{int(args.seconds) * 3}s.mp4", 3)
            cmd = [*tool, "make", str(longer), "-o", str(out), "-k", "5", "-q", "--no-cache"]
            long_run = run_child(cmd, env)
            long_mem = long_run["rss_mib"]
            print(f"3x make: {long_run['wall']:.1f} s, peak {long_mem:.0f} MiB", flush=True)
        audio = None
        if not args.no_split and EXAMPLE.exists():
            with_sound = statistics.median(stage_pass("audio", EXAMPLE, env)["cpu"]
                                           for _ in range(3))
            without = statistics.median(stage_pass("decode", EXAMPLE, env)["cpu"]
                                        for _ in range(3))
            audio = max(0.0, with_sound - without) * 60 / stage_pass("decode", EXAMPLE,
                                                                     env)["seconds"]
        help_s = help_seconds(env)
    finally:
        shutil.rmtree(out, ignore_errors=True)

    body = report(args, video, native, runs, split, loads, long_mem, audio, help_s)
    print(body)
    write_section(args.write, SECTION, body)


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def report(args, video, native, runs, split, loads, long_mem, audio, help_s) -> str:
    ratios = {name: statistics.median(run["wall"] / plain["wall"]
                                      for run, plain in zip(rows, runs["plain"]))
              for name, rows in runs.items()}
    minutes = args.seconds / 60
    lines = [
        (f"Video: {minutes:.0f} min 1280×720 30 fps H.264 (`{video.name}`, built by "
         "`benchmarks/make_long_video.py` from the clips in ../shared/media). "
         f"Machine: {machine()}; bfloat16 native: **{'yes' if native else 'no'}**; all figures "
         "on the float32 path (`VIDEO2GIF_PRECISION=fp32`)."),
        "",
        (f"Command: `python benchmarks/run.py --seconds {args.seconds:.0f} --rounds "
         f"{args.rounds}`. Median of {args.rounds} interleaved rounds; 1-minute load average at "
         f"the start of each round: {', '.join(f'{x:.1f}' for x in loads)} (2 cores: above 2 "
         "means other work shared the machine)."),
        "",
        "| command | wall s | × plain decode | CPU s | × plain (CPU) | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    plain_cpu = _median(runs["plain"], "cpu")
    for name, label in (("plain", "plain PyAV decode, every frame"),
                        ("shots", "`video2gif shots`"),
                        ("segments", "`video2gif segments --no-cache`"),
                        ("make", "`video2gif make -k 5 --no-cache`")):
        rows = runs[name]
        lines.append(f"| {label} | {_median(rows, 'wall'):.1f} | {ratios[name]:.2f} | "
                     f"{_median(rows, 'cpu'):.1f} | {_median(rows, 'cpu') / plain_cpu:.2f} | "
                     f"{_median(rows, 'rss_mib'):.0f} |")
    lines += [
        "",
        f"- shots: **{ratios['shots']:.2f}×** a plain decode (target ≤ 0.8)",
        f"- segments: **{ratios['segments']:.2f}×** (target ≤ 1.1)",
        f"- make -k 5: **{ratios['make']:.2f}×** (target ≤ 1.5)",
        "- per round (shots, segments, make): " + "; ".join(
            f"{s['wall'] / p['wall']:.2f}, {g['wall'] / p['wall']:.2f}, "
            f"{m['wall'] / p['wall']:.2f}"
            for p, s, g, m in zip(runs["plain"], runs["shots"], runs["segments"], runs["make"])),
        f"- peak memory of make: **{_median(runs['make'], 'rss_mib'):.0f} MiB** (target ≤ 1024)",
    ]
    if long_mem:
        base = _median(runs["make"], "rss_mib")
        lines.append(f"- on the 3× longer copy: **{long_mem:.0f} MiB**, {long_mem / base:.2f}× "
                     "(target within 10%)")
    lines.append(f"- `video2gif --help`: **{help_s:.2f} s** (median of 5; target ≤ 0.3)")
    if split and all(split.values()):
        lines += ["", *split_table(runs, split, audio, args.seconds)]
    return "\n".join(lines)


def split_table(runs, split, audio, seconds) -> list[str]:
    cpu = {stage: _median(rows, "cpu") for stage, rows in split.items()}
    setup = _median(split["backbone"], "setup")
    parts = [(("decode (the pass alone, decoding exactly as `make` does, frames handed to the "
               "consumer thread)"), cpu["decode"])]
    for prev, stage, what in (
            ("decode", "shots", "shots: 64×36 thumbnails of every frame, detector"),
            ("shots", "signals", (f"signals: motion of every frame, quality samples at "
                                   f"{QUALITY_FPS:g} fps, {QUALITY_WIDTH}×{QUALITY_HEIGHT}")),
            ("signals", "faces", f"faces: Haar cascade, {FACE_FPS:g} fps at {FACE_WIDTH} px"),
            ("faces", "backbone", (f"backbone: EfficientNet-Lite0 float32, {SAMPLE_FPS:g} fps "
                                   "at 224×224"))):
        parts.append((what, cpu[stage] - cpu[prev]))
    parts.append(("imports and loading the backbone", setup))
    segments_cpu = _median(runs["segments"], "cpu")
    parts.append((("scoring and the rest of `segments` (candidates, their features, the model, "
                   "picks, the CLI's other imports)"),
                  segments_cpu - cpu["backbone"] - setup))
    reread = cpu["reread"]
    parts.append((f"re-reading: {RERUN_RANGES} ranges of {RERUN_SECONDS:.0f} s at the GIF width",
                  reread))
    parts.append(("encoding and the report (`make` beyond `segments` and the re-reading)",
                  _median(runs["make"], "cpu") - segments_cpu - reread))
    total = _median(runs["make"], "cpu")
    lines = [("Per-stage split of `make`'s CPU time (medians; differences between runs, so a "
              "small part can come out slightly negative on a busy machine):"), "",
             "| stage | CPU s | share of make |", "|---|---:|---:|"]
    lines += [f"| {what} | {sec:.1f} | {100 * sec / total:.0f}% |" for what, sec in parts]
    if audio is not None:
        lines.append(f"| audio (this video has none; on the bundled example: "
                     f"{audio:.2f} s CPU per minute of sound) | – | – |")
    lines.append(f"| **make, whole process** | **{total:.1f}** | 100% |")
    return lines


if __name__ == "__main__":
    main()
