"""How many picks each shared clip gets, and how the picks meet hand-labelled GIFs, with the
selection before and after issue 11 (same scores, same candidates).

``before``: the earlier selection (greedy by score, whole windows, a look-alike is a duplicate).
``after``: :func:`video2gif.select.choose_picks` (duplicates by what changes, picks trimmed apart
when there is no room for k whole windows) and the GIF-shaped cuts of
:mod:`video2gif.boundaries` (before the loop search, which moves ends by a few frames).

Per clip and labeller: *hit* = the share of picks that overlap a labelled GIF by at least half of
the pick (or of the GIF, whichever is shorter); *found* = the share of labelled GIFs that some pick
overlaps that way. Default model, k = 3.

    .venv/bin/python benchmarks/picks_vs_labels.py benchmarks/labels/labeller_*.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import MEDIA, machine
from video2gif.analysis import analyse, feature_extractor
from video2gif.scorers import DEFAULT_MODEL, load_model
from video2gif.select import choose_picks, select_top_k

K = 3
SHARED_OVER = 9.0  # seconds: the clips the target is about


def _meets(a: tuple[float, float], b: tuple[float, float]) -> bool:
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    return overlap >= 0.5 * min(a[1] - a[0], b[1] - b[0])


def _score(picks: list[tuple[float, float]], gifs: list[tuple[float, float]]):
    hit = sum(any(_meets(p, g) for g in gifs) for p in picks) / len(picks) if picks else None
    found = sum(any(_meets(p, g) for p in picks) for g in gifs) / len(gifs) if gifs else None
    return hit, found


def clips(label_files: list[Path]) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """clip id → labeller → labelled GIF spans."""
    out: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for path in label_files:
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                spans = [(g["start"], g["end"]) for g in row.get("gifs", [])]
                out.setdefault(row["id"], {})[row.get("labeller", path.stem)] = spans
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", nargs="+", type=Path)
    args = parser.parse_args(argv)
    labelled = clips(args.labels)
    scorer = load_model(DEFAULT_MODEL)
    extractor = feature_extractor(None, scorer.needs())
    print(f"machine: {machine()}; model {DEFAULT_MODEL}, k = {K}")
    totals: dict[str, list] = {"before": [], "after": []}
    for clip in sorted(p.relative_to(MEDIA).as_posix() for p in MEDIA.glob("*/*")
                       if p.suffix in (".mp4", ".webm", ".avi")):
        a = analyse(MEDIA / clip, features=extractor, consumers=scorer.consumers())
        if a.info.duration <= SHARED_OVER:
            continue
        scores = np.asarray(scorer.score(a.features), dtype=np.float64)
        old = select_top_k(a.bounds, scores, K, a.descriptors, a.duplicate_similarity)
        _, cuts = choose_picks(a.segments, scores, K, a.descriptors,
                                a.duplicate_similarity, a.track,
                                extractor.measurements())
        spans = {"before": [tuple(a.bounds[i]) for i in old],
                 "after": [(c.start, c.end) for c in cuts]}
        for when, picks in spans.items():
            cells = []
            for labeller, gifs in sorted(labelled.get(clip, {}).items()):
                hit, found = _score(picks, gifs)
                totals[when].append((len(picks), hit, found))
                cells.append(f"{labeller}: hit {'–' if hit is None else f'{hit:.2f}'} found "
                             f"{'–' if found is None else f'{found:.2f}'}")
            shown = ", ".join(f"{s:.2f}–{e:.2f}" for s, e in picks)
            print(f"{clip:40} {when:6} {len(picks)} picks [{shown}] {'; '.join(cells)}")
    for when, rows in totals.items():
        hits = [h for _, h, _ in rows if h is not None]
        founds = [f for _, _, f in rows if f is not None]
        print(f"{when}: mean hit {np.mean(hits):.2f}, mean found {np.mean(founds):.2f} "
              f"over {len(rows)} clip-labeller pairs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
