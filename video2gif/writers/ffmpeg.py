"""Animated WebP and MP4 through FFmpeg's encoders (libwebp, libx264) inside PyAV."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import av.error
import av.filter
import numpy as np

WEBP_QUALITY = 75  # libwebp lossy quality, 0-100
MP4_CRF = 20  # libx264 constant rate factor; lower is better and larger
MP4_PRESET = "medium"


def write_webp(frames: Sequence[np.ndarray], holds: Sequence[int], fps: float, path: Path,
               width: int) -> tuple[int, int, int, list[int]]:
    """Write a lossy animated WebP that loops forever."""
    return _write("webp", "libwebp_anim", {"quality": str(WEBP_QUALITY)}, {"loop": "0"},
                  frames, holds, fps, path, width)


def write_mp4(frames: Sequence[np.ndarray], holds: Sequence[int], fps: float, path: Path,
              width: int) -> tuple[int, int, int, list[int]]:
    """Write a silent H.264 MP4 (yuv420p, fast start)."""
    return _write("mp4", "libx264", {"crf": str(MP4_CRF), "preset": MP4_PRESET},
                  {"movflags": "+faststart"}, frames, holds, fps, path, width)


def _write(container_format, codec, codec_options, container_options, frames, holds, fps,
           path, width) -> tuple[int, int, int, list[int]]:
    rate = Fraction(fps).limit_denominator(1001)
    graph = av.filter.Graph()
    h, w = frames[0].shape[:2]
    source = graph.add_buffer(width=w, height=h, format="rgb24", time_base=1 / rate)
    scale = graph.add("scale", f"{width}:-2:flags=lanczos")
    source.link_to(scale)
    last = graph.add("format", "yuv420p")
    scale.link_to(last)
    last.link_to(graph.add("buffersink"))
    graph.configure()
    out = _run(graph, frames, holds, 1 / rate)
    with av.open(str(path), "w", format=container_format, options=container_options) as container:
        stream = container.add_stream(codec, rate=rate, options=codec_options)
        stream.width, stream.height, stream.pix_fmt = out[0].width, out[0].height, "yuv420p"
        stream.codec_context.time_base = 1 / rate
        for frame in out:
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out[0].width, out[0].height, path.stat().st_size, list(holds)


def _run(graph, frames, holds, time_base) -> list[av.VideoFrame]:
    """Push rgb24 frames at their tick times; return what the sink gives back."""
    out: list[av.VideoFrame] = []
    pts = 0
    for image, hold in zip(frames, holds):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        graph.push(frame)
        pts += hold
        out.extend(_drain(graph))
    graph.push(None)  # flush
    out.extend(_drain(graph))
    return out


def _drain(graph) -> list[av.VideoFrame]:
    out = []
    while True:
        try:
            out.append(graph.pull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return out
