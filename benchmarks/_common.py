"""Shared helpers for benchmark scripts: the machine's description, child-process peak memory,
and replacing one section of a markdown results file."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
WORK = REPO / "benchmarks" / "_work"

# The floor every benchmark compares with: a threaded PyAV decode of every frame, nothing else.
PLAIN_DECODE = """
import sys, av
with av.open(sys.argv[1]) as c:
    s = c.streams.video[0]
    s.thread_type = "AUTO"
    n = sum(1 for _ in c.decode(s))
print(n)
"""


def machine() -> str:
    """One line: CPU model, cores, memory, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import av
    import numpy

    return (f"{cpu}, {os.cpu_count()} cores{mem}; Python {platform.python_version()}, "
            f"PyAV {av.__version__}, NumPy {numpy.__version__}")


# A small launcher runs the command and reports its children's peak RSS. Measuring from this
# process would be wrong: on Linux a child's ru_maxrss starts at its parent's RSS at fork time.
_LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def run_measured(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd``; return (wall seconds, peak resident MiB of that process, its stdout)."""
    import sys

    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, *cmd], capture_output=True,
                          text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    return wall, peak_kib / 1024, proc.stdout


def write_section(path: Path, title: str, body: str) -> None:
    """Replace (or append) the '## title' section of a markdown file."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip() + "\n\n" + section)
    path.write_text(text)
