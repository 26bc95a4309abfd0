"""End-to-end benchmark of `video2gif make` against a plain decode and PySceneDetect.

On one ~10-minute 1280×720 30 fps H.264 video built from the real clips (make_long_video.py), in
one run and one after another, each in its own process:

  (a) a plain PyAV decode of every frame (threaded, as video2gif decodes): the floor;
  (b) `video2gif make VIDEO -k 5` end to end, with its peak resident memory, and (b0) the same
      without a backbone (`--backbone none`);
  (c) PySceneDetect's AdaptiveDetector on the same file (shot detection alone);
  (d) (b)'s peak memory again on a 3× longer copy, to show memory stays flat.

Ratios within one run cancel most of the noise of a shared machine. Writes the table to
docs/BENCHMARKS.md (section "End to end").

    python benchmarks/run.py [--seconds 600] [--no-long] [--no-scenedetect]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import PLAIN_DECODE, REPO, WORK, machine, run_measured, write_section
from make_long_video import build, repeat

SCENEDETECT = """
import sys
from scenedetect import AdaptiveDetector, detect
print(len(detect(sys.argv[1], AdaptiveDetector(), backend="pyav")))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--no-long", action="store_true", help="skip the 3× memory check")
    parser.add_argument("--no-scenedetect", action="store_true")
    parser.add_argument("--write", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    video = build(WORK / f"long_{int(args.seconds)}s.mp4", args.seconds)
    py = sys.executable
    tool = [py, "-m", "video2gif"]
    out = Path(tempfile.mkdtemp(prefix="v2g-bench-"))
    rows = []
    try:
        a, a_mem, frames = run_measured([py, "-c", PLAIN_DECODE, str(video)])
        rows.append(("(a) plain PyAV decode, every frame", a, a_mem))
        print(f"a: {a:.1f} s, {frames.strip()} frames", flush=True)
        b, b_mem, _ = run_measured(
            [*tool, "make", str(video), "-o", str(out), "-k", "5", "-q", "--no-cache"])
        rows.append(("(b) video2gif make -k 5, end to end", b, b_mem))
        print(f"b: {b:.1f} s, peak {b_mem:.0f} MiB", flush=True)
        b0, b0_mem, _ = run_measured([*tool, "make", str(video), "-o", str(out), "-k", "5", "-q",
                                      "--no-cache", "--backbone", "none"])
        rows.append(("(b0) the same with `--backbone none` (signals only)", b0, b0_mem))
        print(f"b0: {b0:.1f} s", flush=True)
        c = None
        if not args.no_scenedetect:
            c, c_mem, n = run_measured([py, "-c", SCENEDETECT, str(video)])
            rows.append((f"(c) PySceneDetect AdaptiveDetector ({n.strip()} scenes)", c, c_mem))
            print(f"c: {c:.1f} s", flush=True)
        long_mem = None
        if not args.no_long:
            longer = repeat(video, WORK / f"long_{int(args.seconds) * 3}s.mp4", 3)
            d, long_mem, _ = run_measured(
                [*tool, "make", str(longer), "-o", str(out), "-k", "5", "-q", "--no-cache"])
            rows.append(("(d) video2gif make -k 5 on the 3× longer copy", d, long_mem))
            print(f"d: {d:.1f} s, peak {long_mem:.0f} MiB", flush=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)

    minutes = args.seconds / 60
    lines = [
        f"Video: {minutes:.0f} min 1280×720 30 fps H.264 built by `benchmarks/make_long_video.py` "
        f"from the clips in ../shared/media. Machine: {machine()}.",
        "",
        "Command: `python benchmarks/run.py`",
        "",
        "| step | seconds | peak RSS (MiB) |",
        "|---|---:|---:|",
        *[f"| {name} | {sec:.1f} | {mem:.0f} |" for name, sec, mem in rows],
        "",
        f"- b/a = **{b / a:.2f}** with the default EfficientNet-Lite0 backbone (target ≤ 2.5)",
        f"- b0/a = **{b0 / a:.2f}** without a backbone (target ≤ 2.0); the backbone adds "
        f"{(b - b0) / a:.2f} (target ≤ 0.5)",
    ]
    if c:
        lines.append(f"- b/c = **{b / c:.2f}** (target ≤ 1.0)")
    lines.append(f"- peak memory of (b) = **{b_mem:.0f} MiB** (target ≤ 1024)")
    if long_mem:
        lines.append(f"- peak memory on the 3× longer video = **{long_mem:.0f} MiB** "
                     f"({long_mem / b_mem:.2f}× the 10-minute run; flat means ≈ 1)")
    body = "\n".join(lines)
    print(body)
    write_section(args.write, "End to end: make vs plain decode vs PySceneDetect", body)


if __name__ == "__main__":
    main()
