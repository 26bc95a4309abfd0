"""Where a command's CPU time goes, by library and thread: a `perf` sampling profile of every
thread (FFmpeg's decoding threads included, which a Python profiler does not see), grouped.

    python benchmarks/profile_split.py -- video2gif make VIDEO -o OUT -k 5 -q --no-cache
    python benchmarks/profile_split.py --data saved.perf     # group an earlier recording

Groups: FFmpeg's decoder threads (``av:*``); the other threads by shared library: PyTorch
(libtorch, oneDNN's JIT kernels, OpenMP), OpenCV (the face cascade), libavfilter and libavcodec
outside the decoder threads (GIF encoding: palettes, dithering, LZW), swscale (scaling), NumPy,
and the interpreter, C library and kernel (Python code, memory, imports, thread hand-offs).
Needs Linux ``perf`` with ``perf_event_paranoid`` ≤ 2.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

FREQUENCY = 250  # samples per second per thread
GROUPS = (  # (group, pattern on the shared object's name), first match wins
    ("backbone: PyTorch and oneDNN", r"libtorch|libc10|libgomp|\[JIT\]|libdnnl|libmkl"),
    ("faces: OpenCV", r"cv2|opencv"),
    ("GIF encoding: libavfilter", r"libavfilter"),
    ("libavcodec outside the decoder threads (GIF encoder, audio)", r"libavcodec"),
    ("scaling: swscale", r"libswscale"),
    ("NumPy (signals, shots, pooling)", r"_multiarray|numpy|openblas|scipy"),
    ("Python interpreter", r"libpython|python3"),
    ("C library (memory, copies)", r"libc\.so|libm\.so|ld-linux|libstdc"),
    ("kernel (page faults, thread hand-offs, I/O)", r"kernel"),
)


def record(cmd: list[str], data: str) -> None:
    subprocess.run(["perf", "record", "-q", "-F", str(FREQUENCY), "-o", data, "--", *cmd],
                   check=True, stdout=subprocess.DEVNULL)


def split(data: str) -> list[tuple[str, float]]:
    """(group, CPU seconds) pairs, largest first."""
    out = subprocess.run(["perf", "report", "-n", "-i", data, "--sort", "comm,dso", "--stdio"],
                         capture_output=True, text=True, check=True).stdout
    shares: dict[str, float] = defaultdict(float)
    for line in out.splitlines():
        m = re.match(r"\s*[\d.]+%\s+(\d+)\s+(\S+)\s+(.+?)\s*$", line)
        if not m or line.lstrip().startswith("#"):
            continue
        share, comm, dso = int(m.group(1)) / FREQUENCY, m.group(2), m.group(3)
        if comm.startswith("av:"):
            shares[f"decoding: FFmpeg's decoder threads ({comm.split(':')[1]})"] += share
            continue
        group = next((g for g, pat in GROUPS if re.search(pat, dso)), "other")
        shares[group] += share
    return sorted(shares.items(), key=lambda kv: -kv[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="an earlier perf recording to group")
    parser.add_argument("--keep", help="save the recording here")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args()
    cmd = [c for c in args.cmd if c != "--"]
    if cmd and cmd[0] == "video2gif":
        cmd = [sys.executable, "-m", "video2gif", *cmd[1:]]
    tmp = tempfile.mkdtemp(prefix="v2g-perf-")
    try:
        data = args.data or os.path.join(tmp, "perf.data")
        if not args.data:
            record(cmd, data)
            if args.keep:
                shutil.copy(data, args.keep)
        groups = split(data)
        total = sum(sec for _, sec in groups)
        for group, sec in groups:
            print(f"{sec:7.2f} s  {100 * sec / total:5.1f}%  {group}")
        print(f"{total:7.2f} s  100.0%  all threads")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
