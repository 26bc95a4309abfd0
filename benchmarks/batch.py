"""Batch throughput: videos per minute with 1 and 2 local workers, and the Ray engine's overhead.

Runs ``video2gif batch ../shared/media -o OUT --no-cache -q`` (every video of the shared clips,
default settings: 5 GIFs each, EfficientNet-Lite0 features) end to end, each in its own process
(process start, imports, worker start-up included), with a fresh OUTDIR and no feature cache so
every video is really made:

  local, 1 worker;  local, 2 workers;  ray, 2 workers (a local Ray started by the batch).

Rounds are interleaved (each round runs every configuration once) so slow spells of a shared
machine hit all of them; the table shows the fastest round of each. Ray's own start-up
(``ray.init`` + shutdown, alone) is timed separately. Writes docs/BENCHMARKS.md, section
"batch and Ray".

    python benchmarks/batch.py [--rounds 2] [--write docs/BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import MEDIA, REPO, machine, write_section

sys.path.insert(0, str(REPO))

from video2gif import Video2GifError, probe  # noqa: E402
from video2gif.batch import find_inputs  # noqa: E402

CONFIGS = [("local", 1), ("local", 2), ("ray", 2)]  # (engine, workers)
RUN_TIMEOUT = 3600  # seconds one batch may take
TABLE_HEAD = ("| engine | workers | done | failed | GIFs | wall (s) | videos/min | CPU (s) "
              "| Σ per-video (s) | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def run_batch(engine: str, workers: int, out: Path) -> dict:
    """One batch in its own process; its wall time and what its manifest says."""
    cmd = [sys.executable, "-m", "video2gif", "batch", str(MEDIA), "-o", str(out),
           "--workers", str(workers), "--engine", engine, "--no-cache", "-q"]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the batch and the workers it reaped; Ray's workers are not its children.
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
           if engine == "local" else None)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    done = [r for r in records if r["status"] == "done"]
    return {"engine": engine, "workers": workers, "wall": wall, "load": load, "cpu": cpu,
            "done": len(done), "failed": len(records) - len(done),
            "video_seconds": sum(r["seconds"] for r in records),
            "gifs": sum(len(r["outputs"]) for r in done),
            "errors": [r["error"] for r in records if r["status"] != "done"]}


def ray_startup() -> float:
    """Seconds for ray.init(num_cpus=2) and shutdown in a fresh process, imports excluded."""
    code = ("import time, ray; t = time.perf_counter(); "
            "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False); "
            "ray.shutdown(); print(time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", type=Path, default=REPO / "docs" / "BENCHMARKS.md")
    args = parser.parse_args()
    if not MEDIA.exists():
        sys.exit(f"{MEDIA} not found: the benchmark needs the shared clips")

    results: dict[tuple[str, int], list[dict]] = {c: [] for c in CONFIGS}
    startups = []
    for n in range(args.rounds):
        for engine, workers in CONFIGS:
            with tempfile.TemporaryDirectory(prefix="video2gif-batch-bench-") as tmp:
                r = run_batch(engine, workers, Path(tmp) / "out")
            results[(engine, workers)].append(r)
            print(f"round {n + 1}: {engine} ×{workers}: {r['wall']:.1f} s, {r['done']} done, "
                  f"{r['failed']} failed (load {r['load']:.1f})", flush=True)
        startups.append(ray_startup())

    best = {c: min(rs, key=lambda r: r["wall"]) for c, rs in results.items()}
    videos = best[CONFIGS[0]]["done"] + best[CONFIGS[0]]["failed"]
    infos = []
    for item in find_inputs(MEDIA):
        try:
            infos.append(probe(item.path))
        except Video2GifError:
            pass
    durations = sorted(i.duration for i in infos)
    pixels = sorted(infos, key=lambda i: i.width * i.height)
    rows = []
    for (engine, workers), r in best.items():
        per_min = 60 * r["done"] / r["wall"]
        cpu = "–" if r["cpu"] is None else f"{r['cpu']:.1f}"
        rows.append(f"| {engine} | {workers} | {r['done']} | {r['failed']} | {r['gifs']} | "
                    f"{r['wall']:.1f} | {per_min:.2f} | {cpu} | {r['video_seconds']:.1f} | "
                    f"{r['load']:.1f} |")
    local1, local2, ray2 = (best[c]["wall"] for c in CONFIGS)
    startup = min(startups)
    failures = sorted({e for r in best.values() for e in r["errors"]})
    spread = max(max(r["wall"] for r in rs) / min(r["wall"] for r in rs)
                 for rs in results.values())
    body = f"""\
Every video of ../shared/media: {videos} clips, {durations[0]:.1f} to {durations[-1]:.1f} s long
({sum(durations):.0f} s in all), {pixels[0].width}×{pixels[0].height} to \
{pixels[-1].width}×{pixels[-1].height}. Each made with the default settings (5 GIFs at most,
EfficientNet-Lite0 features, no feature cache) by `video2gif batch` in its own process, so
process start, imports and worker start-up count. Fastest of {args.rounds} interleaved rounds;
"load" is the machine's 1-minute load average when the run began: the machine is shared, and
other work on it inflates wall times. "CPU" is user + system time of the batch and its worker
processes (other load does not inflate it; not measurable this way for Ray, whose workers are
not the batch's children); "Σ per-video" adds up each video's own time in the manifest.

{TABLE_HEAD}
{chr(10).join(rows)}

- 2 local workers against 1: {local1 / local2:.2f}× the throughput.
- The Ray engine against the local one, both with 2 workers: {ray2 - local2:+.1f} s
  ({100 * (ray2 / local2 - 1):+.0f} %) on this batch. Starting and stopping a local Ray alone
  (`ray.init(num_cpus=2)`, `ray.shutdown()`) takes {startup:.1f} s (best of {len(startups)}).
{"- Failed: " + "; ".join(failures) if failures else "- No video failed."}

All rounds (wall seconds, in order): \
{"; ".join(f"{e} ×{w}: " + ", ".join(f"{r['wall']:.1f}" for r in rs)
           for (e, w), rs in results.items())}. One configuration varied up to {spread:.1f}× between
rounds, so read the ratios above as rough.

Produced by `python benchmarks/batch.py --rounds {args.rounds}` on {machine()}.
"""
    write_section(args.write, "batch and Ray", body)
    print(body)


if __name__ == "__main__":
    main()
