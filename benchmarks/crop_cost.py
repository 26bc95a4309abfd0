"""What ``--aspect`` costs: planning a crop, and encoding the cropped pick, in CPU seconds.

One 3-s pick of a 1280×720 clip from ../shared/media: plan_crop with and without faces, then
encode_segment without a crop, with the 9:16 crop at the default width, and at 270 px wide.

Run:
    .venv/bin/python benchmarks/crop_cost.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from video2gif.crop import plan_crop
from video2gif.encode import EncodeOptions, encode_segment

CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "moviepy" / \
    "big_buck_bunny_0_30.webm"
START, END = 10.0, 13.0  # seconds


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, call):
    t = cpu()
    out = call()
    print(f"{label:58s} {cpu() - t:6.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not CLIP.is_file():
        sys.exit(f"{CLIP} not found: put the project's shared media there")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            plan = timed("plan_crop 9:16 (faces at 5 fps, motion, path)",
                         lambda: plan_crop(CLIP, START, END, "9:16"))
            timed("plan_crop 9:16 without faces",
                  lambda: plan_crop(CLIP, START, END, "9:16", faces=False))
            for label, options, crop in (
                ("encode_segment, no crop", EncodeOptions(), None),
                ("encode_segment, 9:16 crop, default width", EncodeOptions(), plan),
                ("encode_segment, 9:16 crop, width 270", EncodeOptions(width=270), plan),
            ):
                out = timed(label, lambda o=options, c=crop: encode_segment(
                    CLIP, START, END, Path(tmp) / "out.gif", o, crop=c))
                print(f"{'':58s} {out.width}×{out.height}, {out.bytes} bytes")


if __name__ == "__main__":
    main()
