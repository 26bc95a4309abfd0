"""Training throughput of the RankNet: pairs per second, and the time of one 500K-pair epoch.

Runs the real trainer (:class:`video2gif.train.RankNet`, the paper's network, batches of 50
pairs, Nesterov SGD) for one epoch on synthetic features of the default layout's width: the
1280-d EfficientNet-Lite0 embedding plus the 4 columns of the position and duration context
blocks. Videos have 16 GIF segments and 16 others, so an epoch (every positive with 4 negatives)
of 500K pairs needs 250K segment rows (1.3 GB of float32). The epoch time includes drawing the
pairs. Each configuration runs in a fresh process, one after another.

Writes the table to docs/BENCHMARKS.md (section "training throughput").

    python benchmarks/train_throughput.py [--pairs 500000] [--threads 1 2] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine, write_section  # noqa: E402

EMBEDDING = 1280  # EfficientNet-Lite0's pooled width (one pooling)
CONTEXT = 4  # position (2) and duration (2) context columns
POSITIVES, NEGATIVES = 16, 16  # segments per synthetic video

ONE_RUN = """
import json, sys, time
import numpy as np, torch
from video2gif.train import RankNet, TrainingVideo, TrainOptions
pairs, dim, threads, pos, neg = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
per_video = pos * min(4, neg)
videos = []
rng = np.random.default_rng(0)
n = pos + neg
labels = np.r_[np.ones(pos), np.zeros(neg)].astype(np.int8)
bounds = np.stack([np.arange(n), np.arange(n) + 3.0], 1).astype(float)
for i in range(-(-pairs // per_video)):
    x = rng.standard_normal((n, dim), dtype=np.float32)
    videos.append(TrainingVideo(str(i), x, labels, bounds))
options = TrainOptions(loss="huber", ensemble=1, max_epochs=1, threads=threads)
started = time.perf_counter()
ranker = RankNet(options).fit(videos)
total = time.perf_counter() - started
epoch = ranker.members_[0].history[0]
print(json.dumps({"pairs": len(videos) * per_video, "dim": dim, "threads": threads,
                  "epoch_s": epoch.seconds, "fit_s": total}))
"""


def run(pairs: int, dim: int, threads: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(pairs), str(dim), str(threads), str(POSITIVES),
         str(NEGATIVES)],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["pairs_per_s"] = result["pairs"] / result["epoch_s"]
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=500_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pooled-pairs", type=int, default=100_000,
                        help="epoch size for the 2560-d (mean+max pooled) layout; 0 skips it")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = [run(args.pairs, EMBEDDING + CONTEXT, t) for t in args.threads]
    if args.pooled_pairs:
        rows += [run(args.pooled_pairs, 2 * EMBEDDING + CONTEXT, t) for t in args.threads]
    lines = ["| input columns | torch threads | pairs in the epoch | epoch time | pairs/s |",
             "|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['dim']} | {r['threads']} | {r['pairs']:,} | {r['epoch_s']:.1f} s | "
                     f"{r['pairs_per_s']:,.0f} |")
    threads = " ".join(str(t) for t in args.threads)
    body = f"""
One training epoch of the RankNet (512-128-1, input dropout 0.8, batches of 50 pairs, Nesterov
SGD, λ‖W‖²) on synthetic rows of the default width: {EMBEDDING}-d EfficientNet-Lite0 embedding +
{CONTEXT} context columns; and of the mean+max pooled width ({2 * EMBEDDING} + {CONTEXT}). The
epoch time includes drawing the pairs (every positive with 4 random negatives of its video).

{chr(10).join(lines)}

A second thread helps only while both cores are free: when other processes keep the cores busy,
two threads wait on each other and an epoch can take several times as long as with one, so on a
busy machine train with `--threads 1`.

Produced by `python benchmarks/train_throughput.py --pairs {args.pairs} --threads {threads}
--pooled-pairs {args.pooled_pairs}` on {machine()}, torch {_torch_version()}; the machine was
shared with other work, so figures are upper bounds on time.
"""
    print(body)
    if not args.no_write:
        write_section(REPO / "docs" / "BENCHMARKS.md", "training throughput", body)


def _torch_version() -> str:
    import torch

    return torch.__version__


if __name__ == "__main__":
    main()
