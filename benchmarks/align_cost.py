"""What aligning a GIF costs, against decoding its source video once.

The source is a ~10-minute 1280×720 30 fps H.264 video built from the real clips of
../shared/media (scaled and padded inside FFmpeg, libx264 veryfast CRF 23), where every pass over
the clips is mirrored or flipped differently so that no moment repeats. The GIF is 6 seconds of
it (from 300 s, or the middle of a shorter video), every 3rd frame (10 fps), 320 px wide, a
256-colour palette with dithering.

Measured one after another, each in its own process, best of ``--runs``:

  (a) a plain threaded PyAV decode of every frame: the floor;
  (b) ``video2gif align GIF VIDEO --json``, end to end (process start and imports included);

and a GIF from another film (pigs_in_a_polka.gif), which must come back ``matched: false``.
Writes the table to docs/BENCHMARKS.md (section "align").

    python benchmarks/align_cost.py [--seconds 600] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import MEDIA, PLAIN_DECODE, REPO, WORK, machine, write_section
from make_long_video import FPS, build

sys.path.insert(0, str(REPO))

from tests.synthetic import write_gif  # noqa: E402
from video2gif.align import VideoHasher, match, read_gif  # noqa: E402
from video2gif.decode import decode_pass, read_range  # noqa: E402

GIF_START, GIF_SECONDS, GIF_STEP = 300.0, 6.0, 3  # seconds, seconds, video frames per GIF frame
# Each pass over the clips gets its own look, so the GIF's moment exists once in the video.
VARIANTS = ["", "hflip", "vflip", "hflip,vflip", "negate", "hflip,negate", "vflip,negate",
            "hflip,vflip,negate"]


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall s, CPU s (user + system, all threads), stdout).

    CPU time is the fairer figure on a shared machine: other processes stretch wall time, not it.
    (The child's peak memory is not reported: Linux carries the parent's high-water mark over
    fork and exec into it.)
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.read()[-2000:]}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, out.read()


def make_gif(video: Path, path: Path, start: float) -> Path:
    frames = [f.image for f in read_range(video, start, start + GIF_SECONDS, width=320)]
    return write_gif(path, frames[::GIF_STEP], int(round(1000 * GIF_STEP / FPS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    video = build(WORK / f"align_{int(args.seconds)}s.mp4", args.seconds, VARIANTS)
    gif_start = min(GIF_START, args.seconds / 2)
    gif = make_gif(video, WORK / "align_6s.gif", gif_start)
    py = sys.executable
    cli = [py, "-m", "video2gif", "align", str(gif), str(video), "--json"]

    decode, aligned = [], []
    for _ in range(args.runs):  # interleaved, so a busy moment hits both
        wall, cpu, out = run_measured([py, "-c", PLAIN_DECODE, str(video)])
        decode.append((wall, cpu))
        frames = int(out)
        wall, cpu, out = run_measured(cli)
        aligned.append((wall, cpu))
        result = json.loads(out)
    other = json.loads(run_measured([py, "-m", "video2gif", "align",
                                     str(MEDIA / "moviepy/pigs_in_a_polka.gif"), str(video),
                                     "--json"])[2])
    # In-process: how much of it is the matching itself (the hashes already computed).
    gif_frames = read_gif(gif)
    hasher = VideoHasher([gif_frames.size])
    decode_pass(video, [hasher])
    t0 = time.process_time()
    match(gif_frames, hasher)
    match_cpu = time.process_time() - t0
    d_wall, a_wall = min(r[0] for r in decode), min(r[0] for r in aligned)
    d_cpu, a_cpu = min(r[1] for r in decode), min(r[1] for r in aligned)
    start_frame = int(round(gif_start * FPS))
    end_frame = start_frame + int(round(GIF_SECONDS * FPS))
    minutes = f"{args.seconds / 60:.0f}-minute"
    n_gif = len(gif_frames.hashes)
    rows = [
        ("plain decode of every frame (PyAV, threaded)", d_wall, d_cpu),
        ("`video2gif align GIF VIDEO --json`", a_wall, a_cpu),
    ]
    table = "\n".join(
        f"| {name} | {w:.1f} | {w / d_wall:.2f} | {c:.1f} | {c / d_cpu:.2f} |"
        for name, w, c in rows
    )
    body = f"""
Aligning a 6-second GIF (10 fps, 320 px, 256 colours, dithered) with its {minutes}
1280×720 30 fps H.264 source ({frames} frames), against decoding that video once. Best of
{args.runs} runs, each in its own process (process start and imports included); CPU is user +
system time of all the process's threads, which other load on a shared machine does not inflate.

| | wall (s) | × decode | CPU (s) | × decode |
|---|---:|---:|---:|---:|
{table}

The extra CPU is FFmpeg scaling every frame to a 64×64 gray thumbnail and hashing it, in the
decode pass's consumer thread beside FFmpeg's decoding threads. Matching the GIF's {n_gif}
frames against the {frames} frame hashes (all crop hypotheses) took {match_cpu:.2f} s of CPU.

Found frames {result['start_frame']}–{result['end_frame']} (cut from {start_frame}–{end_frame}),
confidence {result['confidence']:.2f}, matched {str(result['matched']).lower()}. A GIF from
another film (pigs_in_a_polka.gif) against the same video: confidence
{other['confidence']:.2f}, matched {str(other['matched']).lower()}.

Produced by `python benchmarks/align_cost.py --seconds {args.seconds:g} --runs {args.runs}` on
{machine()}.
"""
    print(body)
    write_section(REPO / "docs" / "BENCHMARKS.md", "align", body)


if __name__ == "__main__":
    main()
