"""Regenerate the golden segments.json of the bundled example (tests/test_golden.py reads it).

The golden file pins what the default pipeline picks and scores on
``examples/big_buck_bunny_0_30.webm``: a change of picks or scores makes tests/test_golden.py
fail until this script is run again and the new file committed, so such a change is always a
deliberate one (say why in the commit message).

It uses only the public API (``find_highlights`` and ``report.segments_document``), so it runs
unchanged on older checkouts too, which is how a refactoring shows it changed nothing:

    .venv/bin/python scripts/regenerate_golden.py                   # rewrite the golden file
    .venv/bin/python scripts/regenerate_golden.py VIDEO... -o DIR   # DIR/<stem>.segments.json
    .venv/bin/python scripts/regenerate_golden.py --compare A.json B.json

The features cache is not used (a stale entry could hide a change). The document's
``generator`` field (the package version) is left out of the file, so a version bump alone does
not change it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "big_buck_bunny_0_30.webm"
GOLDEN_DIR = ROOT / "tests" / "data" / "golden"
K = 5  # picks, as `video2gif make` (its default)
SCORE_TOLERANCE = 1e-4  # absolute; float noise across BLAS builds is far below this


def golden_path(video: Path) -> Path:
    return GOLDEN_DIR / f"{video.stem}.segments.json"


def document(video: Path) -> dict:
    """The segments.json document of ``video`` with the default model, options and features."""
    import video2gif
    from video2gif.report import segments_document

    found = video2gif.find_highlights(video, k=K)
    doc = segments_document(found)
    doc.pop("generator", None)
    doc["video"].pop("path", None)  # where the file lies is not part of the result
    return doc


def compare(a: dict, b: dict, tolerance: float = SCORE_TOLERANCE) -> list[str]:
    """What differs between two segments documents, in words (empty: the same picks, candidates
    and scores, within ``tolerance``)."""
    out = []
    sa, sb = a["segments"], b["segments"]
    if len(sa) != len(sb):
        return [f"{len(sa)} candidates vs {len(sb)}"]
    picks_a = [(s["pick"], s["start"], s["end"]) for s in sa if s["pick"]]
    picks_b = [(s["pick"], s["start"], s["end"]) for s in sb if s["pick"]]
    if sorted(picks_a) != sorted(picks_b):
        out.append(f"picks {sorted(picks_a)} vs {sorted(picks_b)}")
    for i, (x, y) in enumerate(zip(sa, sb)):
        if (x["start"], x["end"], x["shot"]) != (y["start"], y["end"], y["shot"]):
            out.append(f"candidate {i}: {x['start']}-{x['end']} vs {y['start']}-{y['end']}")
            continue
        if (x["score"] is None) != (y["score"] is None) or (
            x["score"] is not None and not math.isclose(x["score"], y["score"],
                                                        abs_tol=tolerance)):
            out.append(f"candidate {i} score {x['score']} vs {y['score']}")
        if x["rank"] != y["rank"]:
            out.append(f"candidate {i} rank {x['rank']} vs {y['rank']}")
        for name in sorted(set(x["signals"]) | set(y["signals"])):
            u, v = x["signals"].get(name), y["signals"].get(name)
            if u is None or v is None or not math.isclose(u, v, abs_tol=tolerance):
                out.append(f"candidate {i} signal {name} {u} vs {v}")
    if a["model"] != b["model"]:
        out.append("model description differs")
    if a["shots"] != b["shots"]:
        out.append("shots differ")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("videos", nargs="*", type=Path, help="default: the bundled example")
    parser.add_argument("-o", "--output", type=Path, help="folder (default: the golden folder)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"),
                        help="compare two documents (or two folders of them) and exit")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = args.compare
        pairs = ([(a / p.name, p) for p in sorted(b.glob("*.segments.json"))] if b.is_dir()
                 else [(a, b)])
        bad = 0
        for x, y in pairs:
            diffs = compare(json.loads(x.read_text()), json.loads(y.read_text()))
            print(f"{y.name}: {'same' if not diffs else '; '.join(diffs[:6])}")
            bad += bool(diffs)
        return 1 if bad else 0
    out = args.output or GOLDEN_DIR
    out.mkdir(parents=True, exist_ok=True)
    for video in args.videos or [EXAMPLE]:
        target = out / f"{video.stem}.segments.json"
        try:
            doc = document(video)
        except Exception as e:  # noqa: BLE001 - one bad clip must not stop the others
            print(f"{video}: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        target.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
