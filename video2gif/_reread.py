"""Helpers of :func:`video2gif.decode.read_range`: which decoded frames fall in the range and are
wanted, a scaler kept for the whole range, and a pre-roll decoded without its B-frames."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import av
import numpy as np

RANGE_EPS = 1e-4  # s; a frame this close before ``start`` still counts as in the range
RANGE_INTERPOLATION = "LANCZOS"  # swscale filter of re-read frames: sharp, for the outputs
PREROLL_MARGIN = 1e-3  # s; packets before start minus this may skip their non-reference frames


def in_range(frames: Iterator[av.VideoFrame], start: float, end: float, start_time: float,
             keep: Callable[[float, float | None], bool] | None,
             every: Callable[[float, av.VideoFrame], None] | None = None
             ) -> Iterator[tuple[float, av.VideoFrame]]:
    """(time, frame) of the decoded ``frames`` in ``[start, end)`` that ``keep`` accepts, asked
    as ``keep(time, next_time)`` once the next frame's time is known (None for the last).
    ``every``, when given, is called with each frame of the range, kept or not, in order."""
    pending: tuple[float, av.VideoFrame] | None = None
    for frame in frames:
        if frame.time is None:
            continue
        t = float(frame.time) - start_time
        if t < start - RANGE_EPS:
            continue
        if t >= end - RANGE_EPS:
            break
        if every is not None:
            every(t, frame)
        if keep is None:
            yield t, frame
            continue
        if pending is not None and keep(pending[0], t):
            yield pending
        pending = (t, frame)
    if pending is not None and keep(pending[0], None):
        yield pending


class Scaler:
    """Scales and converts frames to one size (before rotation) and format, rotation applied,
    through one swscale context for the whole range (a new one per frame costs more than the
    scaling). The decode pass's samplers convert through one too."""

    def __init__(self, width: int, height: int, pixel_format: str, rotation: int, threads: int,
                 interpolation: str):
        self.size, self.format, self.rotation = (width, height), pixel_format, rotation
        self.threads, self.interpolation = threads, interpolation
        self.reformatter = av.video.reformatter.VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> np.ndarray:
        w, h = self.size
        image = self.reformatter.reformat(frame, width=w, height=h, format=self.format,
                                          interpolation=self.interpolation, threads=self.threads)
        image = image.to_ndarray()
        if self.rotation:
            image = np.ascontiguousarray(np.rot90(image, k=self.rotation // 90))
        return image


class PrerollSkipping:
    """The container, for ``decode._frames``, with the packets before ``early`` (pts) decoded
    with ``skip_frame = NONREF``: the frames from the keyframe up to the range are decoded only
    to be dropped, and those no other frame refers to (B-frames) need not be decoded at all.
    Frames of the range decode exactly as before (tests/test_encode_reread.py)."""

    def __init__(self, container, stream, early: int):
        self.container, self.stream, self.early = container, stream, early

    def demux(self, *streams):
        context = self.stream.codec_context
        skipping = False
        for packet in self.container.demux(*streams):
            skip = packet.pts is not None and packet.pts < self.early
            if skip != skipping:
                context.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
            yield packet
