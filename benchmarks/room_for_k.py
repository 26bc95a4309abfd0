"""How many GIFs `make -k 3` gives on each shared clip longer than 9 s, from the candidates alone
(*before*: the picks of the candidates, which fallbacks never change) and with fallback candidates
(*after*: :func:`video2gif.segments.fallback_segments`, tried only when the candidates leave fewer
than k picks), with each GIF's span (its cut) and, against the hand labels, *hit* and *found* as
benchmarks/picks_vs_labels.py defines them. Default model and features, as `video2gif make`.

    .venv/bin/python benchmarks/room_for_k.py benchmarks/labels/labeller_*.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import MEDIA, machine
from benchmarks.picks_vs_labels import SHARED_OVER, _score, clips
from video2gif import find_highlights
from video2gif.formats import VIDEO_EXTENSIONS

K = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("labels", nargs="*", type=Path)
    args = parser.parse_args(argv)
    labelled = clips(args.labels)
    print(f"machine: {machine()}; default model, k = {K}")
    for clip in sorted(p.relative_to(MEDIA).as_posix() for p in MEDIA.glob("*/*")
                       if p.suffix.lower() in VIDEO_EXTENSIONS):
        found = find_highlights(MEDIA / clip, k=K)
        if found.info.duration <= SHARED_OVER:
            continue
        picks = [(found.segments[i], cut) for i, cut in zip(found.pick_indices, found.cuts)]
        before = sum(1 for s, _ in picks if not s.fallback)
        offered = sum(1 for s in found.segments if s.fallback)
        duplicates = sum(1 for s in found.suppressed.values() if s.reason == "duplicate")
        shown = ", ".join(f"{c.start:.2f}–{c.end:.2f}{f' ({s.fallback})' if s.fallback else ''}"
                          for s, c in sorted(picks, key=lambda p: p[1].start))
        cells = []
        for labeller, gifs in sorted(labelled.get(clip, {}).items()):
            hit, got = _score([(c.start, c.end) for _, c in picks], gifs)
            cells.append(f"{labeller}: hit {'–' if hit is None else f'{hit:.2f}'} found "
                         f"{'–' if got is None else f'{got:.2f}'}")
        print(f"{clip:40} {found.info.duration:5.1f} s  picks {before} -> {len(picks)}  "
              f"fallbacks scored {offered}, duplicates left out {duplicates}  [{shown}]  "
              f"{'; '.join(cells)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
