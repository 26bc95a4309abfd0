"""Evaluate the random and position baselines on the PHD-GIFs test set (no pixels needed).

Protocol: each of the 850 test users' last video is a query, scored against that user's GIFs
(``is_last == True``), with the metrics of :mod:`video2gif.evaluate` (mAP, nMSD, R@5, HIT@1) on
a 25 fps frame grid. Candidates are non-overlapping windows of ``--segment-length`` seconds.
``random`` is averaged over 10 seeds; ``position`` is a prior over relative position (by video
duration) fitted, per fold of a 5-fold split by video id, on every other annotated video of the
CSV (other users' last videos and all users' earlier videos), never on a video of the fold.

Usage:
    python scripts/phd_gifs_baselines.py [--csv ../shared/datasets/phd_gifs/testing.csv]
        [--segment-length 5 3 2] [--json results.json]

Prints a Markdown table per segment length.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from video2gif.datasets import phd_gifs_annotations, read_phd_gifs  # noqa: E402
from video2gif.errors import DatasetWarning  # noqa: E402
from video2gif.evaluate import (  # noqa: E402
    position_baseline,
    random_baseline,
    uniform_segments,
)

DEFAULT_CSV = REPO.parent / "shared" / "datasets" / "phd_gifs" / "testing.csv"
PUBLISHED = [  # PHD-GIFs README, on the 850 users' last videos
    ("Video2GIF public model (published)", 0.1569, 0.4259, 0.2728),
    ("PHD-GIFs personalised model (published)", 0.1668, 0.4026, 0.3071),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--segment-length", type=float, nargs="+", default=[5.0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write all figures here")
    args = parser.parse_args()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DatasetWarning)
        rows = read_phd_gifs(args.csv)
        test = phd_gifs_annotations(rows, which="last", per_user=True)
        history = phd_gifs_annotations(rows, which="history", per_user=False)
    left_out = [str(w.message) for w in caught]
    users = len({r.user_id for r in rows if r.is_last})
    unknown_last = len({(r.user_id, r.youtube_id) for r in rows
                        if r.is_last and r.video_duration is None})
    print(f"{len(rows)} GIFs, {users} test users; {len(test)} (user, last video) queries "
          f"evaluated with {sum(len(v.gifs) for v in test)} GIFs ({unknown_last} queries left "
          f"out: video duration unknown); {len(history)} earlier videos also train the position "
          f"prior ({len(left_out) - unknown_last} left out for the same reason).")

    document = {"csv": str(args.csv), "queries": len(test), "left_out": left_out, "tables": {}}
    for length in args.segment_length:
        segments = {v.id: uniform_segments(v.duration, length) for v in test}
        results = [
            random_baseline(test, segments, seeds=args.seeds),
            position_baseline(test, segments, folds=args.folds, extra_training=history),
        ]
        print(f"\nCandidates: non-overlapping {length:g} s windows\n")
        print("| model | mAP ↑ | nMSD ↓ | R@5 ↑ | HIT@1 ↑ | videos |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in results:
            print(f"| {r.name} | {100 * r.mAP:.2f}% | {100 * r.nMSD:.2f}% | "
                  f"{100 * r.recall_at_5:.2f}% | {100 * r.hit_at_1:.2f}% | {r.n_videos} |")
        for name, m, n, r5 in PUBLISHED:
            print(f"| {name} | {100 * m:.2f}% | {100 * n:.2f}% | {100 * r5:.2f}% | – | 850 |")
        document["tables"][f"{length:g}s"] = [r.to_dict() for r in results]
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
