"""Decode a video once, as a stream, and hand each frame to every stage that needs pixels.

Stages never open the video themselves. They subclass :class:`FrameConsumer`, say which frames
they need (size, pixel format, sampling rate) and :func:`decode_pass` feeds them all from a single
threaded decode. Frames are scaled inside FFmpeg (swscale), never in numpy, and rotation metadata
is honoured. Times are float seconds from the first frame, from presentation timestamps, so
variable frame rate works.

Example:
    >>> class Brightness(FrameConsumer):
    ...     def __init__(self):
    ...         super().__init__(FrameRequest(width=64, height=36, pixel_format="gray"))
    ...         self.values = []
    ...     def push(self, index, time, image):
    ...         self.values.append(image.mean())
    >>> b = Brightness()
    >>> info = decode_pass("clip.mp4", [b])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import queue
import threading
import warnings
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from . import _reread
from .errors import DecodeError, FeatureWarning, InputError

# Fewer decoding errors than this are tolerated (a damaged packet in a long file); more means the
# file is not worth decoding on.
MAX_BAD_PACKETS = 200
QUEUE_FRAMES = 8  # decoded frames waiting for the consumers; bounds memory
# Decoder options when every consumer of a pass takes frames scaled down (thumbnails, samples):
# the deblocking (in-loop) filter only smooths block edges, which vanish when a 720p frame
# becomes 64×36 or 224×224, and costs about a fifth of an H.264 decode. Codecs without such a
# filter ignore the option. Re-reading picks for encoding always decodes exactly.
FAST_DECODER_OPTIONS = {"skip_loop_filter": "all"}
SCALE_THREADS = 1  # swscale threads per conversion: slice threads cost more than a small scale
AUDIO_RATE = 16000  # Hz: audio consumers get mono float32 samples at this rate
MAX_BAD_AUDIO_PACKETS = 20  # more undecodable audio packets than this: the track is given up


@dataclass(frozen=True)
class VideoInfo:
    """What a video is. Sizes are as displayed (after rotation)."""

    path: str
    duration: float  # seconds from the first frame to the end of the last one
    fps: Fraction  # average frame rate; frame indices use timestamps, not this
    frames: int  # decoded frame count after a pass, the container's estimate before one
    width: int
    height: int
    rotation: int = 0  # degrees, counter-clockwise, as FFmpeg reports the display matrix
    start_time: float = 0.0  # presentation time of the first frame in the container, seconds
    codec: str = ""
    has_audio: bool = False

    def to_dict(self) -> dict:
        """The ``video`` object of segments.json."""
        out = asdict(self)
        out["fps"] = float(self.fps)
        return out


@dataclass(frozen=True)
class FrameRequest:
    """Which frames a consumer needs, and how they should look.

    ``width``/``height`` are the display size wanted; leave one as None to keep the aspect ratio,
    both None for the native size. ``fps`` None means every frame; otherwise frames are sampled
    on a regular clock (the first frame at or after each tick).
    """

    width: int | None = None
    height: int | None = None
    pixel_format: str = "rgb24"  # any PyAV format with an ndarray view: rgb24, gray, bgr24
    fps: float | None = None
    interpolation: str = "AREA"  # swscale filter used for downscaling
    # False: the consumer only needs the picture's content (it scales it down), so the pass may
    # decode without the in-loop deblocking filter (FAST_DECODER_OPTIONS) when no other
    # consumer needs exact pixels.
    exact: bool = True


class FrameConsumer(ABC):
    """A stage that takes frames from the shared decode pass.

    Required: :meth:`push`. Optional hooks: :meth:`start` (told the video's info before the first
    frame) and :meth:`finish` (after the last frame).
    """

    def __init__(self, request: FrameRequest) -> None:
        self.request = request

    def start(self, info: VideoInfo) -> None:  # noqa: B027 - optional hook
        """Called once before the first frame."""

    @abstractmethod
    def push(self, index: int, time: float, image: np.ndarray) -> None:
        """Receive frame ``index`` (presentation order) shown at ``time`` seconds."""

    def finish(self, info: VideoInfo) -> None:  # noqa: B027 - optional hook
        """Called once after the last frame, with the counted info."""


def _check_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(path, "no such file")
    if p.is_dir():
        raise InputError(path, "is a directory, not a video file")
    if p.stat().st_size == 0:
        raise InputError(path, "file is empty (0 bytes)")
    return p


def _open(path: str | os.PathLike) -> av.container.InputContainer:
    p = _check_path(path)
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as e:
        raise InputError(path, f"not a readable media file ({_ffmpeg_reason(e)})") from None
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["no streams"]  # before close
        container.close()
        raise InputError(path, f"no video stream (found: {', '.join(kinds)})")
    return container


def _ffmpeg_reason(e: Exception) -> str:
    msg = getattr(e, "strerror", None) or str(e)
    return " ".join(str(msg).split())


def _rotation(stream: av.video.stream.VideoStream, first: av.VideoFrame | None) -> int:
    rot = getattr(first, "rotation", 0) if first is not None else 0
    return int(round(rot or 0)) % 360


def _display_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    return (height, width) if rotation in (90, 270) else (width, height)


def _target_size(req: FrameRequest, display_w: int, display_h: int) -> tuple[int, int]:
    """Display-space output size for a request, keeping aspect when one side is open."""
    w, h = req.width, req.height
    if w is None and h is None:
        return display_w, display_h
    if w is None:
        w = max(2, round(display_w * h / display_h))
    elif h is None:
        h = max(2, round(display_h * w / display_w))
    return int(w), int(h)


def _prepare(stream: av.video.stream.VideoStream, exact: bool = True) -> None:
    # Frame and slice threads: both cores decode; FFmpeg keeps output in presentation order.
    stream.thread_type = "AUTO"
    if not exact:  # read when the decoder opens, at the first packet
        stream.codec_context.options = dict(FAST_DECODER_OPTIONS)


def probe(path: str | os.PathLike) -> VideoInfo:
    """Open ``path``, check it holds a decodable video stream, and describe it.

    Arguments:
        path: a media file FFmpeg can read.

    Returns:
        VideoInfo with the container's frame-count estimate.

    Raises:
        InputError: missing, empty, a directory, not media, or no video stream.
        DecodeError: the video stream yields no decodable frame.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        _prepare(stream)
        first = next(_frames(container, stream, path), None)
        if first is None:
            raise DecodeError(path, "the video stream has no decodable frame")
        return _info_from(path, container, stream, first)


def _info_from(path, container, stream, first: av.VideoFrame) -> VideoInfo:
    rotation = _rotation(stream, first)
    w, h = _display_size(first.width, first.height, rotation)
    fps = stream.average_rate or stream.guessed_rate or Fraction(25)
    start_time = float(first.time) if first.time is not None else 0.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frames = stream.frames or max(1, round(duration * float(fps)))
    return VideoInfo(
        path=str(path),
        duration=duration,
        fps=Fraction(fps),
        frames=int(frames),
        width=w,
        height=h,
        rotation=rotation,
        start_time=start_time,
        codec=stream.codec_context.name,
        has_audio=bool(container.streams.audio),
    )


def _frames(container, stream, path, audio: _AudioTap | None = None) -> Iterator[av.VideoFrame]:
    """Decode the video stream, skipping damaged packets up to a bound; audio packets, when
    ``audio`` is given, are demuxed in the same read and handed to it."""
    bad = 0
    decoded = 0
    last_error = ""
    streams = (stream, audio.stream) if audio is not None else (stream,)
    packets = container.demux(*streams)
    while True:
        try:
            packet = next(packets, None)
        except av.error.FFmpegError as e:  # the container breaks here (e.g. a size field gone
            if not decoded:  # wrong asks for gigabytes; found by tests/test_fuzz.py)
                raise DecodeError(path, f"damaged container ({_ffmpeg_reason(e)})") from None
            return  # keep what was decoded, as for a file cut short
        if packet is None:
            return
        if audio is not None and packet.stream.index == audio.stream.index:
            audio.feed(packet)
            continue
        try:
            frames = packet.decode()
        except av.error.FFmpegError as e:
            bad += 1
            last_error = _ffmpeg_reason(e)
            if bad > MAX_BAD_PACKETS:
                raise DecodeError(path, f"too many undecodable packets ({last_error})") from None
            continue
        decoded += len(frames)
        yield from frames


class AudioConsumer(ABC):
    """A stage that takes the audio track from the same pass, as mono float32 samples at
    :data:`AUDIO_RATE` in [-1, 1].

    Required: :meth:`push`. Optional hooks: :meth:`start`, :meth:`finish` (called even for a
    video without audio, which then pushes nothing) and :meth:`fail` (the track turned out to be
    broken: drop what was collected; video decoding goes on).
    """

    def start(self, info: VideoInfo) -> None:  # noqa: B027 - optional hook
        """Called once before the first samples."""

    @abstractmethod
    def push(self, time: float, samples: np.ndarray) -> None:
        """Receive ``samples`` whose first one plays at ``time`` seconds from the first frame."""

    def finish(self, info: VideoInfo) -> None:  # noqa: B027 - optional hook
        """Called once after the last samples."""

    def fail(self, reason: str) -> None:  # noqa: B027 - optional hook
        """The audio track could not be decoded; no more samples will come."""


class _AudioTap:
    """Decodes the first audio stream beside the video. A broken track never stops the video:
    after too many bad packets (or a resampling failure) it warns once and goes quiet."""

    def __init__(self, consumers: Sequence[AudioConsumer], stream, path) -> None:
        self.consumers = consumers
        self.stream = stream
        self.path = path
        self.resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
        self.t0: float | None = None  # the video's first frame time, once known
        self.pending: list[tuple[float, np.ndarray]] = []  # samples decoded before that
        self.bad = 0
        self.active = True

    def begin(self, t0: float) -> None:
        self.t0 = t0
        for time, samples in self.pending:
            self._push(time, samples)
        self.pending = []

    def feed(self, packet: av.Packet) -> None:
        if not self.active:
            return
        decoded = []
        try:
            for frame in packet.decode():
                time = float(frame.time) if frame.time is not None else None
                for out in self.resampler.resample(frame):
                    decoded.append((time, out.to_ndarray().reshape(-1).astype(np.float32)))
                    if time is not None:
                        time += out.samples / AUDIO_RATE
        except av.error.FFmpegError as e:
            self.bad += 1
            if self.bad > MAX_BAD_AUDIO_PACKETS:
                self._fail(f"too many undecodable audio packets ({_ffmpeg_reason(e)})")
            return
        except Exception as e:  # noqa: BLE001 - no decoder, a layout the resampler refuses…
            self._fail(f"{type(e).__name__}: {e}")
            return
        for time, samples in decoded:
            if time is None or not len(samples):
                continue
            if self.t0 is None:
                self.pending.append((time, samples))
            else:
                self._push(time, samples)

    def _push(self, time: float, samples: np.ndarray) -> None:
        for c in self.consumers:
            c.push(time - self.t0, samples)

    def _fail(self, reason: str) -> None:
        self.active = False
        self.pending = []
        warnings.warn(FeatureWarning(f"{self.path}: audio track unusable, audio signals are off "
                                     f"for this video ({reason})"), stacklevel=2)
        for c in self.consumers:
            c.fail(reason)


class _Sampler:
    """Decides which frames a consumer gets and turns them into arrays of the wanted size."""

    def __init__(self, consumer: FrameConsumer, info: VideoInfo) -> None:
        self.consumer = consumer
        req = consumer.request
        self.period = 1.0 / req.fps if req.fps else 0.0
        self.next_time = 0.0
        self.scale = _scaler(req, info)
        self.key = (*self.scale.size, req.pixel_format, req.interpolation)

    def offer(self, index: int, time: float, frame: av.VideoFrame, cache: dict) -> None:
        if self.period:
            if time + 1e-6 < self.next_time:
                return
            # Next tick after this frame; skipped ticks are not replayed (no duplicate frames).
            self.next_time = (math.floor(time / self.period + 1e-6) + 1) * self.period
        image = cache.get(self.key)
        if image is None:  # consumers asking for the same picture share one conversion
            image = self.scale(frame)
            image.flags.writeable = False
            cache[self.key] = image
        self.consumer.push(index, time, image)


class Worker:
    """Runs ``work(item)`` for every submitted item, in order, on one background thread.

    FFmpeg's decoding and scaling, PyTorch and OpenCV release the GIL, so work here overlaps
    the thread that submits. The queue is bounded (at most ``pending`` items wait: memory stays
    flat) and the first error is raised again in the submitting thread, by :meth:`submit` or
    :meth:`close`. The decode pass runs its consumers on one; the backbone and the face search
    each run on another.

    Example:
        >>> out = []
        >>> w = Worker(out.append, pending=2, name="demo")
        >>> for i in range(3):
        ...     w.submit(i)
        >>> w.close()
        >>> out
        [0, 1, 2]
    """

    def __init__(self, work: Callable[[object], None], pending: int, name: str) -> None:
        self._work = work
        self._queue: queue.Queue = queue.Queue(maxsize=pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:  # after an error keep draining, so submit never blocks
                try:
                    self._work(item)
                except BaseException as e:  # noqa: BLE001 - raised again by submit/close
                    self._error = e

    def submit(self, item: object) -> None:
        """Queue ``item`` (blocks while ``pending`` items wait); raises an earlier error."""
        if self._error is not None:
            raise self._error
        self._queue.put(item)

    def discard(self) -> None:
        """Finish and drop a worker left by a pass that failed half-way; its error is moot."""
        with contextlib.suppress(Exception):  # that pass already failed
            self.close()

    def close(self) -> None:
        """Wait for every queued item; raises the first error the work raised."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _offer_all(samplers: list[_Sampler]) -> Callable[[tuple], None]:
    def offer(item: tuple) -> None:
        index, time, frame = item
        converted: dict = {}  # consumers asking for the same picture share one conversion
        for sampler in samplers:
            sampler.offer(index, time, frame, converted)

    return offer


def decode_pass(
    path: str | os.PathLike,
    consumers: Sequence[FrameConsumer],
    on_progress: Callable[[float, float], None] | None = None,
    audio: Sequence[AudioConsumer] = (),
) -> VideoInfo:
    """Decode ``path`` once and feed every consumer the frames it asked for.

    Arguments:
        path: the video.
        consumers: stages that need pixels; each gets ``start``, ``push`` per frame, ``finish``.
        on_progress: called as ``on_progress(seconds_done, seconds_total)`` now and then.
        audio: stages that need the sound; its packets are demuxed in the same read. A broken
            audio track gives a :class:`~video2gif.errors.FeatureWarning`, never an error.

    Returns:
        VideoInfo with the exact decoded frame count and duration.

    Raises:
        InputError, DecodeError: as :func:`probe`, or when decoding fails part-way with nothing
        decoded.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        _prepare(stream, exact=any(c.request.exact for c in consumers))
        tap = None
        if audio and container.streams.audio:
            tap = _AudioTap(audio, container.streams.audio[0], path)
        frames = _frames(container, stream, path, tap)
        first = next(frames, None)
        if first is None:
            raise DecodeError(path, "the video stream has no decodable frame")
        info = _info_from(path, container, stream, first)
        for c in [*consumers, *audio]:
            c.start(info)
        if tap is not None:
            tap.begin(info.start_time)
        samplers = [_Sampler(c, info) for c in consumers]
        t0 = info.start_time
        fallback_step = 1.0 / float(info.fps)
        index = 0
        time = 0.0
        last_time = -math.inf
        durations: deque[float] = deque(maxlen=32)  # recent frame durations only
        frame: av.VideoFrame | None = first
        # The consumers (scaling and analysis) run beside the decoder, on the other core.
        worker = Worker(_offer_all(samplers), QUEUE_FRAMES, "video2gif-consumers")
        try:
            while frame is not None:
                if frame.time is not None:
                    time = float(frame.time) - t0
                else:
                    time = last_time + fallback_step if index else 0.0
                if time <= last_time:  # broken or repeated timestamps: keep times increasing
                    time = last_time + 1e-3
                if index:
                    durations.append(time - last_time)
                worker.submit((index, time, frame))
                if on_progress is not None and index % 64 == 0:
                    on_progress(time, info.duration)
                last_time = time
                index += 1
                frame = next(frames, None)
        except BaseException:
            worker.discard()
            raise
        worker.close()
        # The last frame lasts as long as a typical frame.
        last_duration = float(np.median(durations)) if durations else fallback_step
        counted = replace(info, frames=index, duration=time + last_duration)
        for c in [*consumers, *audio]:
            c.finish(counted)
        if on_progress is not None:
            on_progress(counted.duration, counted.duration)
        return counted


@dataclass(frozen=True)
class TimedFrame:
    """A frame re-read for encoding: the image and its time in seconds from the first frame."""

    time: float
    image: np.ndarray


def read_range(
    path: str | os.PathLike,
    start: float,
    end: float,
    width: int | None = None,
    height: int | None = None,
    pixel_format: str = "rgb24",
    keep: Callable[[float, float | None], bool] | None = None,
    every: FrameConsumer | None = None,
) -> Iterator[TimedFrame]:
    """Re-read the frames shown in ``[start, end)`` seconds by exact seeking.

    Seeks to the keyframe before ``start`` and decodes forward, dropping earlier frames, so the
    first frame returned is exactly the first one at or after ``start``.

    Arguments:
        path: the video.
        start, end: seconds from the first frame.
        width, height: display size wanted (one may be None to keep the aspect ratio).
        pixel_format: PyAV format name.
        keep: called as ``keep(time, next_time)`` for every frame in the range, in order
            (``next_time`` is None for the last); a frame it refuses is neither scaled nor
            converted, nor yielded. None keeps every frame.
        every: a consumer also given every frame of the range (``keep`` aside), scaled and
            converted as its request asks (its ``fps`` and ``exact`` do not apply: every frame,
            decoded exactly), from the same decode: one read serves two uses (the crop plan of
            ``make --aspect`` and the GIF's frames). Its ``start`` is called at each read, then
            ``push`` with indices counted from 0 at the range's first frame; not ``finish``.

    Yields:
        TimedFrame for each frame in the range (that ``keep`` accepts), in order, rotation
        applied.

    Raises:
        InputError, DecodeError: as :func:`probe`.
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        _prepare(stream)
        frames = _frames(container, stream, path)
        first = next(frames, None)
        if first is None:
            raise DecodeError(path, "the video stream has no decodable frame")
        info = _info_from(path, container, stream, first)
        scale = _scaler(FrameRequest(width=width, height=height, pixel_format=pixel_format,
                                     interpolation=_reread.RANGE_INTERPOLATION), info)
        if start > 0.5 and stream.time_base is not None:
            target = int((start + info.start_time) / stream.time_base)
            container.seek(target, stream=stream, backward=True, any_frame=False)
            early = (start - _reread.PREROLL_MARGIN + info.start_time) / stream.time_base
            frames = _frames(_reread.PrerollSkipping(container, stream, int(early)), stream, path)
        else:
            frames = _chain(first, frames)
        for t, frame in _reread.in_range(frames, start, end, info.start_time, keep,
                                         _every(every, info)):
            yield TimedFrame(t, scale(frame))


def _every(consumer: FrameConsumer | None, info: VideoInfo
           ) -> Callable[[float, av.VideoFrame], None] | None:
    """:func:`read_range`'s ``every`` as a callback on decoded frames, numbered from 0."""
    if consumer is None:
        return None
    consumer.start(info)
    scale = _scaler(consumer.request, info)
    count = itertools.count()
    return lambda t, frame: consumer.push(next(count), t, scale(frame))


def _scaler(req: FrameRequest, info: VideoInfo) -> _reread.Scaler:
    """Frames of ``info``'s video as ``req`` asks (its size, format and filter)."""
    out_w, out_h = _target_size(req, info.width, info.height)
    # swscale works before rotation: ask for the pre-rotation size.
    coded_w, coded_h = _display_size(out_w, out_h, info.rotation)
    return _reread.Scaler(coded_w, coded_h, req.pixel_format, info.rotation, SCALE_THREADS,
                          req.interpolation)


def _chain(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest
