"""Build the benchmark video: the real clips of ../shared/media, scaled to 1280×720 at 30 fps and
looped to about 10 minutes, H.264 (libx264 veryfast, CRF 23). Deterministic: same clips, same
order, same encoder settings. ``--repeat 3`` then makes a 3× longer copy by remuxing (no
re-encode), for the flat-memory check.

    python benchmarks/make_long_video.py            # benchmarks/_work/long_600s.mp4
    python benchmarks/make_long_video.py --repeat 3 # also benchmarks/_work/long_1800s.mp4
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av

from _common import MEDIA, WORK

CLIPS = [
    "moviepy/big_buck_bunny_0_30.webm",
    "pyscenedetect/testvideo.mp4",
    "moviepy/chaplin.mp4",
    "pyscenedetect/goldeneye-vfr-drop3.mp4",
    "opencv/Megamind.avi",
    "pyscenedetect/fades.mp4",
    "pyscenedetect/counter.mp4",
]
WIDTH, HEIGHT, FPS = 1280, 720, 30
TARGET_SECONDS = 600.0


def build(path: Path, seconds: float = TARGET_SECONDS, variants: Sequence[str] = ("",)) -> Path:
    """Encode the looped clips to ``path`` (skipped when it already exists). Each loop over the
    clips goes through the next of ``variants`` (FFmpeg filters, see :func:`_scaled_frames`)."""
    if path.exists():
        return path
    clips = [MEDIA / c for c in CLIPS if (MEDIA / c).exists()]
    if not clips:
        raise SystemExit(f"no clips found in {MEDIA}")
    tmp = path.with_suffix(".partial.mp4")
    total, written, loop = int(seconds * FPS), 0, 0
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": "250"}
        while written < total:
            variant = variants[loop % len(variants)]
            for clip in clips:
                for frame in _scaled_frames(clip, variant):
                    frame.pts, frame.time_base = written, Fraction(1, FPS)
                    for packet in stream.encode(frame):
                        out.mux(packet)
                    written += 1
                    if written >= total:
                        break
                if written >= total:
                    break
            loop += 1
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return path


def _scaled_frames(clip: Path, extra_filters: str = ""):
    """Frames of ``clip`` at 30 fps, scaled and padded to 1280×720 inside FFmpeg, then through
    ``extra_filters`` (comma-separated FFmpeg filter names, e.g. "hflip,negate")."""
    with av.open(str(clip)) as src:
        s = src.streams.video[0]
        s.thread_type = "AUTO"
        graph = av.filter.Graph()
        buf = graph.add_buffer(template=s)
        chain = [
            graph.add("fps", f"fps={FPS}"),
            graph.add("scale", f"w={WIDTH}:h={HEIGHT}:force_original_aspect_ratio=decrease"),
            graph.add("pad", f"w={WIDTH}:h={HEIGHT}:x=(ow-iw)/2:y=(oh-ih)/2"),
        ]
        chain += [graph.add(name) for name in extra_filters.split(",") if name]
        chain.append(graph.add("format", "pix_fmts=yuv420p"))
        sink = graph.add("buffersink")
        buf.link_to(chain[0])
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        chain[-1].link_to(sink)
        graph.configure()
        for frame in src.decode(s):
            graph.push(frame)
            yield from _drain(graph)
        graph.push(None)
        yield from _drain(graph)


def _drain(graph):
    while True:
        try:
            out = graph.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return
        out.pts = None
        yield out


def repeat(src: Path, dst: Path, times: int) -> Path:
    """``times`` copies of ``src`` back to back, by remuxing packets with shifted timestamps."""
    if dst.exists():
        return dst
    tmp = dst.with_suffix(".partial.mp4")
    with av.open(str(tmp), "w") as out:
        offset = 0
        s_out = None
        for _ in range(times):
            with av.open(str(src)) as inp:
                s_in = inp.streams.video[0]
                if s_out is None:
                    s_out = out.add_stream_from_template(s_in)
                last = 0
                for packet in inp.demux(s_in):
                    if packet.dts is None:
                        continue
                    packet.pts += offset
                    packet.dts += offset
                    last = max(last, packet.pts + (packet.duration or 0))
                    packet.stream = s_out
                    out.mux(packet)
                offset = last
    tmp.replace(dst)
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=TARGET_SECONDS)
    parser.add_argument("--repeat", type=int, default=0, help="also write an N× longer copy")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    base = build(WORK / f"long_{int(args.seconds)}s.mp4", args.seconds)
    print(base)
    if args.repeat > 1:
        print(repeat(base, WORK / f"long_{int(args.seconds) * args.repeat}s.mp4", args.repeat))


if __name__ == "__main__":
    main()
