"""Contact sheets for labelling GIF moments by eye: one thumbnail every ``--interval`` seconds,
each stamped with its time, laid out in a grid, several sheets for long clips.

Each thumbnail is the last decoded frame whose timestamp is at or before the stamped time, so
a label "from 3.5 s" means "from the frame shown at 3.5". Times are seconds from the video's
first frame (the convention of the annotation files), not raw container timestamps.

Usage:
    .venv/bin/python benchmarks/labels/contact_sheet.py ../shared/media/moviepy/chaplin.mp4 \
        -o /tmp/sheets [--interval 0.5] [--cols 6] [--rows 5] [--width 256] \
        [--start 15.5 --end 21.5]   # a detail sheet of one stretch
    .venv/bin/python benchmarks/labels/contact_sheet.py --all ../shared/media -o /tmp/sheets
        # every video longer than --min-duration (8 s) under the folder

Writes ``<out>/<relative path with / as __>_<n>.png`` and prints one line per sheet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

VIDEO_SUFFIXES = (".mp4", ".webm", ".avi", ".gif", ".mkv", ".mov")
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"  # falls back to PIL's default


def _font(size: int):
    try:
        return ImageFont.truetype(FONT_PATH, size)
    except OSError:
        return ImageFont.load_default()


def duration_of(path: Path) -> float:
    """Seconds of video: the container's duration, else the stream's, else by decoding."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if container.duration:
            return container.duration / 1e6
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        last = 0.0
        for frame in container.decode(stream):
            last = float(frame.time or 0.0)
        return last


def thumbnails(path: Path, interval: float, width: int, start: float = 0.0,
               end: float = float("inf")) -> list[tuple[float, Image.Image]]:
    """(time, thumbnail) every ``interval`` seconds from ``start`` to ``end``, times relative to
    the first frame."""
    out: list[tuple[float, Image.Image]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first = None
        previous = None  # (time, frame) of the last decoded frame
        next_t = start
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else 0.0
            if first is None:
                first = t
            t -= first
            # Emit every grid time that this frame has passed, using the frame shown then.
            while previous is not None and t > next_t + 1e-6 and next_t <= end + 1e-6:
                out.append((next_t, _thumb(previous[1], width)))
                next_t = round(next_t + interval, 6)
            previous = (t, frame)
        if previous is not None and previous[0] >= next_t - 1e-6 and next_t <= end + 1e-6:
            out.append((next_t, _thumb(previous[1], width)))
    return out


def _thumb(frame, width: int) -> Image.Image:
    image = frame.to_image()
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.BILINEAR)


def sheets(path: Path, label: str, interval: float, cols: int, rows: int, width: int,
           start: float = 0.0, end: float = float("inf")):
    """Yield PIL images, each a grid of up to cols*rows stamped thumbnails."""
    thumbs = thumbnails(path, interval, width, start, end)
    per_sheet = cols * rows
    font = _font(max(12, width // 10))
    title_font = _font(16)
    for start in range(0, len(thumbs), per_sheet):
        chunk = thumbs[start:start + per_sheet]
        th = chunk[0][1].height
        n_rows = (len(chunk) + cols - 1) // cols
        pad, title_h = 4, 24
        sheet = Image.new("RGB", (cols * (width + pad) + pad, title_h + n_rows * (th + pad) + pad),
                          (40, 40, 40))
        draw = ImageDraw.Draw(sheet)
        draw.text((pad, 4), f"{label}  {chunk[0][0]:.2f}-{chunk[-1][0]:.2f} s  every {interval} s",
                  fill=(255, 255, 255), font=title_font)
        for i, (t, im) in enumerate(chunk):
            x = pad + (i % cols) * (width + pad)
            y = title_h + pad + (i // cols) * (th + pad)
            sheet.paste(im, (x, y))
            text = f"{t:.2f}"
            box = draw.textbbox((x + 3, y + 3), text, font=font)
            draw.rectangle(box, fill=(0, 0, 0))
            draw.text((x + 3, y + 3), text, fill=(255, 255, 0), font=font)
        yield sheet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="video files (or folders with --all)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="folder for the PNG sheets")
    parser.add_argument("--all", action="store_true", help="inputs are folders: every video in them")
    parser.add_argument("--min-duration", type=float, default=8.0,
                        help="with --all: skip videos this short or shorter (s)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between thumbnails")
    parser.add_argument("--start", type=float, default=0.0, help="first thumbnail time (s)")
    parser.add_argument("--end", type=float, default=float("inf"), help="last thumbnail time (s)")
    parser.add_argument("--cols", type=int, default=6)
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--width", type=int, default=256, help="thumbnail width in pixels")
    args = parser.parse_args(argv)
    if args.interval <= 0 or args.cols < 1 or args.rows < 1 or args.width < 16:
        parser.error("--interval must be > 0, --cols/--rows >= 1, --width >= 16")
    if not args.out.is_dir():
        parser.error(f"--out {args.out}: no such folder")

    jobs: list[tuple[Path, str]] = []
    for item in args.inputs:
        if args.all:
            if not item.is_dir():
                parser.error(f"{item}: not a folder (with --all)")
            for p in sorted(item.rglob("*")):
                if p.suffix.lower() in VIDEO_SUFFIXES:
                    jobs.append((p, p.relative_to(item).as_posix()))
        else:
            if not item.is_file():
                parser.error(f"{item}: no such file")
            jobs.append((item, item.name))

    status = 0
    for path, label in jobs:
        try:
            duration = duration_of(path)
            if args.all and duration <= args.min_duration:
                continue
            stem = label.replace("/", "__")
            if args.start > 0 or args.end != float("inf"):
                stem += f"_{args.start:g}-{args.end:g}s"  # a detail sheet keeps the overview
            for n, sheet in enumerate(sheets(path, label, args.interval, args.cols, args.rows,
                                             args.width, args.start, args.end), start=1):
                target = args.out / f"{stem}_{n}.png"
                sheet.save(target)
                print(f"{target}  ({label}, {duration:.2f} s)")
        except (av.error.FFmpegError, IndexError, OSError) as e:
            print(f"{path}: cannot make a sheet: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
