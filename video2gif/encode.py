"""Encode a chosen segment as a looping GIF (or WebP / MP4) under a byte budget.

GIFs go through video2gif's own encoder (:mod:`video2gif.gif`): a palette per frame chosen in
Oklab, light error diffusion that stays still where the picture does, transparent pixels for what
did not visibly change, frames merged when nothing changed, and lossy LZW at lower settings, all
driven by one ``quality`` knob (1-100). WebP and MP4 go through FFmpeg (libwebp, libx264) inside
PyAV. Frames are resampled to the output rate by timestamp, so variable frame rate input plays at
the right speed.

A file over ``max_bytes`` is encoded again at a lower quality (GIF), then with fewer frames per
second, then a smaller width, then (GIF) fewer colours, in that order. If even the smallest
setting is too big, :class:`EncodeError` is raised: a budget is never exceeded silently. Every
file is written under a temporary name and renamed, so a failure or an interrupt leaves nothing
behind.

Example:
    >>> out = encode_segment("clip.mp4", 10.0, 13.0, "best.gif")  # doctest: +SKIP
    >>> (out.width, out.fps, out.bytes <= 8_000_000)  # doctest: +SKIP
    (480, 12.0, True)
"""

from __future__ import annotations

import functools
import math
import os
import threading
from bisect import bisect_right
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import av
import av.error
import numpy as np

from ._io import atomic_path
from ._lazy import resolve
from .decode import FrameConsumer, TimedFrame, probe, read_range
from .errors import EncodeError, InputError, UsageError
from .formats import DEFAULT_FORMAT, OUTPUT_FORMATS
from .gif import busy as gif_busy
from .gif.encoder import DITHERS as GIF_DITHERS
from .gif.encoder import QUALITY

if TYPE_CHECKING:
    from .crop import CropPath, CropPlanner

WIDTH = 480  # output width, pixels (never more than the source's)
MIN_WIDTH, MAX_WIDTH = 2, 8192  # accepted output widths, pixels
FPS = 12.0  # output frames per second
MAX_FPS = 60.0  # highest accepted output rate (above 0)
MAX_BYTES = 8_000_000  # default size budget per file, bytes
COLOURS = 256  # GIF palette size
MIN_COLOURS = 2  # smallest accepted palette (COLOURS is also the largest a GIF holds)
FORMATS = tuple(OUTPUT_FORMATS)  # the --format names; facts about each in video2gif.formats
# Budget ladder: each step is tried only below the requested value: GIF quality first (on the
# benchmark curve it saves the most bytes per quality lost), then fps, then width, then colours
# (GIF only), because fewer frames hurt a GIF less than a smaller picture, and fewer colours most.
MIN_QUALITY, MAX_QUALITY = 1, 100  # the GIF quality knob's range (default: QUALITY)
QUALITY_STEPS = (70, 50, 30)  # GIF quality
FPS_STEPS = (10.0, 8.0, 6.0)  # frames per second
WIDTH_STEPS = (400, 320, 240, 160)  # pixels
COLOUR_STEPS = (128, 64, 32)  # palette entries
# Dithering (video2gif.gif.dither): "bayer" is ordered, "none" is none, the others diffuse the
# error with the kernel of that name.
DITHERS = GIF_DITHERS
DITHER = "sierra2_4a"  # default dithering
DITHER_ALIASES = {"ordered": "bayer", "diffusion": "sierra2_4a"}
# A rung whose estimated size exceeds the budget by this factor is skipped without encoding.
SKIP_MARGIN = 1.3
# A frame-list step before writing: (frames, holds, fps) -> (frames, holds).
FrameShaper = Callable[[list[np.ndarray], list[int], float], tuple[list[np.ndarray], list[int]]]
TIME_EPS = 1e-6  # seconds; tolerance when matching output ticks to frame times


@dataclass(frozen=True)
class EncodeOptions:
    """How a segment becomes a file. Override with ``dataclasses.replace(options, ...)``."""

    width: int = WIDTH  # output width in pixels, capped at the source width; height keeps aspect
    fps: float = FPS  # output frame rate; frames are picked by timestamp
    max_bytes: int | None = MAX_BYTES  # size budget per file in bytes; None or 0 means no budget
    format: str = DEFAULT_FORMAT  # one of FORMATS
    colours: int = COLOURS  # GIF palette size, 2-256 (ignored for webp/mp4)
    dither: str = DITHER  # one of DITHERS, or "ordered"/"diffusion"
    quality: int = QUALITY  # GIF quality 1-100 (video2gif.gif); WebP/MP4 keep fixed settings

    def validate(self) -> EncodeOptions:
        """Return self, or raise UsageError naming the option at fault."""
        if self.format not in FORMATS:
            raise UsageError("--format", f"{self.format!r} is not one of {', '.join(FORMATS)}")
        if not MIN_WIDTH <= self.width <= MAX_WIDTH:
            raise UsageError("--width", f"{self.width} is outside {MIN_WIDTH}-{MAX_WIDTH} pixels")
        if not 0 < self.fps <= MAX_FPS:
            raise UsageError("--fps", f"{self.fps} is outside (0, {MAX_FPS:g}] frames per second")
        if self.max_bytes is not None and self.max_bytes < 0:
            raise UsageError("--max-bytes", "must not be negative")
        if not MIN_COLOURS <= self.colours <= COLOURS:
            raise UsageError("--colours", f"{self.colours} is outside {MIN_COLOURS}-{COLOURS}")
        if not MIN_QUALITY <= self.quality <= MAX_QUALITY:
            raise UsageError("--quality",
                             f"{self.quality} is outside {MIN_QUALITY}-{MAX_QUALITY}")
        if DITHER_ALIASES.get(self.dither, self.dither) not in DITHERS:
            raise UsageError("--dither", f"{self.dither!r} is not one of {', '.join(DITHERS)}")
        return self


@dataclass(frozen=True)
class EncodedOutput:
    """A written file and the settings that produced it."""

    path: Path
    format: str
    bytes: int  # file size
    width: int  # pixels
    height: int  # pixels
    fps: float  # output tick rate; a frame held over several ticks counts once in ``frames``
    frames: int  # frames stored in the file
    duration: float  # seconds one loop lasts
    colours: int | None  # GIF palette size; None for webp/mp4
    attempts: int = 1  # encodes tried to meet the byte budget
    quality: int | None = None  # GIF quality setting used; None for webp/mp4


def encode_segment(
    path: str | os.PathLike,
    start: float,
    end: float,
    out_path: str | os.PathLike,
    options: EncodeOptions | None = None,
    crop: CropPath | CropPlanner | None = None,
    shape: FrameShaper | None = None,
) -> EncodedOutput:
    """Encode ``[start, end)`` seconds of ``path`` to ``out_path``, within the byte budget.

    The segment is decoded once, at the largest width needed; smaller attempts rescale those
    frames. The ladder is: GIF quality down to 30, then fps down to 6, then width down to
    160 px, then colours down to 32.

    Arguments:
        path: the source video.
        start, end: seconds from the video's first frame.
        out_path: the file to write (its folder must exist); replaced atomically.
        options: format, size, rate, palette and budget (default: EncodeOptions()).
        crop: a box per frame (:func:`video2gif.crop.plan_crop`) cut out before resampling;
            ``width`` then applies to the crop. A :class:`video2gif.crop.CropPlanner` plans
            it from the same read of the segment (decoded once). None: the whole frame.
        shape: called as ``shape(frames, holds, fps)`` on each attempt's frame list, returning
            the frames and holds to write (:class:`video2gif.loop.LoopShaper`). None: as read.

    Returns:
        EncodedOutput of the accepted attempt; its ``bytes`` is within ``options.max_bytes``.

    Raises:
        UsageError: a bad option or an empty time range.
        InputError, DecodeError: the video cannot be read or has no frame in the range.
        EncodeError: the file cannot be written, or no setting fits within the budget.

    Example:
        >>> opts = EncodeOptions(width=320, max_bytes=2_000_000)
        >>> encode_segment("clip.mp4", 4, 7.5, "out.gif", opts).bytes < 2e6  # doctest: +SKIP
        True
    """
    options = (options or EncodeOptions()).validate()
    if not end > start >= 0:
        raise UsageError(f"{start}-{end} s", "a segment needs 0 <= start < end")
    width = min(options.width, crop.width if crop else _source_width(path))
    width = max(2, width - width % 2)  # even, so yuv420p (mp4, webp) works
    ladder = _ladder(options, width)[: None if options.max_bytes else 1]  # no budget: one try
    read_width = crop.decode_width(width) if crop else width  # a crop needs the pixels around it

    def read(rates: set[float]) -> tuple[list[float], list[np.ndarray], float]:
        every = crop if getattr(crop, "needs_frames", False) else None  # a CropPlanner, unplanned
        times, images, stop = _read_segment(path, start, end, read_width, rates, every)
        return times, crop.apply(times, images) if crop is not None else images, stop

    # Frames are read for the first rung's rate (most GIFs fit at once); a lower rate of the
    # ladder, if it comes to that, reads the segment again for the frames it shows too.
    rate = ladder[0].fps
    streamed = None  # decoding overlaps the first encode when nothing needs all frames first
    if crop is None and shape is None and options.format == "gif" and rate >= 1:
        streamed = _Streamed(path, start, end, read_width, rate)
    out_path = Path(out_path)
    # busy: the GIF encoder lends its kernels a helper thread only while fewer segments are
    # being read or encoded than there are cores (``make`` does two at once)
    with gif_busy():
        source = read({rate}) if streamed is None else streamed
        try:
            return _attempts(source, start, out_path, options, ladder, shape,
                             lambda: read({r.fps for r in ladder}))
        except _ReadFailed as failed:
            raise failed.error from None
        finally:
            if streamed is not None:
                streamed.close()


def _attempts(source, start, out_path: Path, options: EncodeOptions, ladder: list[_Rung],
              shape: FrameShaper | None, read_all: Callable[[], tuple]) -> EncodedOutput:
    """Encode each rung of ``ladder`` until one fits the budget. ``source`` is (times, images,
    stop) read for the first rung's rate, or a :class:`_Streamed` read that the first rung
    encodes as it arrives; ``read_all()`` reads for every rate of the ladder."""
    budget = options.max_bytes or math.inf
    attempts, measured = 0, None
    covered = {ladder[0].fps}
    with _output(out_path) as tmp:
        for n, rung in enumerate(ladder):
            if isinstance(source, _Streamed) and n == 0:
                frames, holds = source, source.holds
            else:
                if rung.fps not in covered:
                    source, covered = read_all(), {r.fps for r in ladder}
                times, images, stop = (source.result() if isinstance(source, _Streamed)
                                       else source)
                frames, holds = _resample(times, images, start, stop, rung.fps)
                if shape is not None:  # the loop is shaped on frames, before any writer
                    frames, holds = shape(frames, holds, rung.fps)
                # hopeless at the quality just measured: do not spend an encode on it (the
                # last rung always runs)
                setting = (len(frames), rung.width, rung.colours or 2)
                if (measured and measured[0] == rung.quality and n < len(ladder) - 1
                        and _estimate(measured[1:], setting) > budget * SKIP_MARGIN):
                    continue
            size = _write(options.format, frames, holds, rung.fps, tmp, rung.width, rung.colours,
                          options.dither, rung.quality)
            attempts += 1
            if size[2] <= budget:
                return _result(out_path, options.format, size, rung, attempts)
            measured = (rung.quality, len(frames), rung.width, rung.colours or 2, size[2])
        smallest = f"{rung.fps:g} fps, {size[0]} px" + (
            f", {rung.colours} colours, quality {rung.quality}" if rung.colours else "")
        raise EncodeError(
            out_path,
            f"cannot meet --max-bytes {options.max_bytes}: the smallest setting "
            f"({smallest}) still takes {size[2]} bytes",
        )


def write_gif(
    frames: Sequence[np.ndarray],
    out_path: str | os.PathLike,
    fps: float = FPS,
    *,
    holds: Sequence[int] | None = None,
    width: int | None = None,
    colours: int = COLOURS,
    dither: str = "sierra2_4a",
    quality: int = QUALITY,
) -> EncodedOutput:
    """Write rgb24 frames as a GIF that loops forever (see :mod:`video2gif.gif`).

    Arguments:
        frames: H×W×3 uint8 images, all the same size.
        out_path: the file to write; replaced atomically.
        fps: tick rate; frame ``i`` lasts ``holds[i]`` ticks (default one each).
        width: scale to this width (lanczos, even height); None keeps the frames' size.
        colours: palette size, 2-256.
        dither: one of DITHERS (or "ordered"/"diffusion").
        quality: 1-100; lower gives smaller files (see README, "GIF quality").

    Returns:
        EncodedOutput describing the file.

    Raises:
        EncodeError: the file cannot be written.

    Example:
        >>> frames = [np.zeros((90, 160, 3), np.uint8)] * 12
        >>> write_gif(frames, "black.gif", fps=12).frames  # doctest: +SKIP
        12
    """
    return _write_file("gif", frames, out_path, fps, holds, width, colours, dither, quality)


def write_webp(
    frames: Sequence[np.ndarray],
    out_path: str | os.PathLike,
    fps: float = FPS,
    *,
    holds: Sequence[int] | None = None,
    width: int | None = None,
) -> EncodedOutput:
    """Write rgb24 frames as an animated WebP (lossy, looping forever); arguments as write_gif.

    Example:
        >>> write_webp(frames, "clip.webp", fps=12).format  # doctest: +SKIP
        'webp'
    """
    return _write_file("webp", frames, out_path, fps, holds, width, None, "", None)


def write_mp4(
    frames: Sequence[np.ndarray],
    out_path: str | os.PathLike,
    fps: float = FPS,
    *,
    holds: Sequence[int] | None = None,
    width: int | None = None,
) -> EncodedOutput:
    """Write rgb24 frames as a silent H.264 MP4 (yuv420p, fast start); arguments as write_gif.

    Example:
        >>> write_mp4(frames, "clip.mp4", fps=12).height % 2  # doctest: +SKIP
        0
    """
    return _write_file("mp4", frames, out_path, fps, holds, width, None, "", None)


def _write_file(fmt, frames, out_path, fps, holds, width, colours, dither, quality
                ) -> EncodedOutput:
    holds = list(holds) if holds is not None else [1] * len(frames)
    if not frames or len(holds) != len(frames) or min(holds) < 1:
        raise UsageError("holds", "need one or more frames and one hold of >= 1 tick per frame")
    out_path = Path(out_path)
    rung = _Rung(quality, fps, width or frames[0].shape[1], colours)
    with _output(out_path) as tmp:
        try:
            size = _write(fmt, frames, holds, fps, tmp, rung.width, colours, dither, quality)
        except ValueError as e:  # a setting the GIF encoder refuses: a dither, a palette size
            raise EncodeError(out_path, f"could not be written ({e})") from None
    return _result(out_path, fmt, size, rung, 1)


@contextmanager
def _output(out_path: Path) -> Iterator[Path]:
    """A temporary path beside ``out_path``, renamed to it only if the block succeeds."""
    if not out_path.parent.is_dir():
        raise EncodeError(out_path, "its folder does not exist")
    if out_path.is_dir():
        raise EncodeError(out_path, "is a directory")
    try:
        with atomic_path(out_path) as tmp:
            yield tmp
    except (av.error.FFmpegError, OSError) as e:  # name the real file, not the temporary one
        reason = getattr(e, "strerror", None) or str(e)
        raise EncodeError(out_path, f"could not be written ({reason})") from None


@dataclass(frozen=True)
class _Rung:
    """One setting of the budget ladder."""

    quality: int | None  # GIF only
    fps: float
    width: int
    colours: int | None  # GIF only


def _result(out_path, fmt, size, rung: _Rung, attempts) -> EncodedOutput:
    w, h, n_bytes, stored = size
    return EncodedOutput(
        path=out_path, format=fmt, bytes=n_bytes, width=w, height=h, fps=float(rung.fps),
        frames=len(stored), duration=sum(stored) / rung.fps, colours=rung.colours,
        attempts=attempts, quality=rung.quality if fmt == "gif" else None,
    )  # fmt: skip


def _ladder(options: EncodeOptions, width: int) -> list[_Rung]:
    """Settings to try, largest first: quality, then fps, then width, then colours."""
    gif = options.format == "gif"
    qualities = [options.quality] + [q for q in QUALITY_STEPS if q < options.quality]
    if not gif:
        qualities = [None]
    rates = [options.fps] + [f for f in FPS_STEPS if f < options.fps]
    widths = [width] + [w for w in WIDTH_STEPS if w < width]
    palettes: list[int | None] = [None]
    if gif:
        palettes = [options.colours] + [c for c in COLOUR_STEPS if c < options.colours]
    q, f, w, c = qualities[-1], rates[-1], widths[-1], palettes[0]
    return (
        [_Rung(x, rates[0], widths[0], c) for x in qualities]
        + [_Rung(q, x, widths[0], c) for x in rates[1:]]
        + [_Rung(q, f, x, c) for x in widths[1:]]
        + [_Rung(q, f, w, x) for x in palettes[1:]]
    )


def _estimate(measured: tuple[int, int, int, int], setting: tuple[int, int, int]) -> float:
    """Bytes expected for ``setting`` (frames, width, colours) from a measured encode.

    Size scales with frames × pixels × bits per palette index. On real clips one ladder step
    lands within 0.88-1.11× of this estimate, and fewer colours save a little more than it says.
    """
    n0, w0, c0, size = measured
    n, w, c = setting
    return size * (n / n0) * (w / w0) ** 2 * (math.log2(c) / math.log2(c0))


def _source_width(path) -> int:
    """The video's display width, probed once per version of the file (``make`` asks for each
    pick; a probe opens the file and decodes a frame)."""
    try:
        stat = os.stat(path)
    except OSError:
        return probe(path).width  # raises the InputError that names the problem
    return _probed_width(os.fspath(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _probed_width(path: str, mtime_ns: int, size: int) -> int:
    return probe(path).width


def _tick(start: float, k: int, fps: float) -> float:
    return start + k / fps


def _shown_at(times: Sequence[float], start: float, k: int, fps: float) -> int:
    """Index into the sorted frame ``times`` of the frame on screen at tick ``k``."""
    return max(0, bisect_right(times, _tick(start, k, fps) + TIME_EPS) - 1)


def _read_segment(path, start, end, width, rates, every: FrameConsumer | None = None
                  ) -> tuple[list[float], list[np.ndarray], float]:
    """Decode ``[start, end)`` once, scaling and converting only frames that some output rate
    will show (a 24 fps source at 12 fps shows half of them); ``every`` as
    :func:`~video2gif.decode.read_range`.

    Returns the kept frames' times and images, and where the footage stops (``end``, or the end
    of the video's last frame when the video ends first).
    """
    times: list[float] = []
    images: list[np.ndarray] = []
    reader = _segment_frames(path, start, end, width, rates, every)
    while True:
        try:
            frame = next(reader)
        except StopIteration as done:
            return times, images, done.value
        times.append(frame.time)
        images.append(frame.image)


def _segment_frames(path, start, end, width, rates, every: FrameConsumer | None = None
                    ) -> Generator[TimedFrame, None, float]:
    """The frames :func:`_read_segment` keeps, as they are decoded; returns where the footage
    stops."""
    kept = 0
    last: list[float] = []  # the latest frame's time and the gap before it, seconds

    def shown(t: float, until: float | None) -> bool:
        # On screen over [t, until): kept if a tick of any rate lands in there. The last frame
        # lasts as long as the gap before it (variable frame rate changes the gap).
        step = t - last[0] if last else 1.0 / max(rates)
        last[:] = [t, step]
        if until is None:
            until = min(end, t + step)
        return not kept or any(
            _tick(start, math.ceil((t - TIME_EPS - start) * f), f) < until - TIME_EPS
            for f in rates
        )

    for frame in read_range(path, start, end, width=width, keep=shown, every=every):
        kept += 1
        yield frame
    if not last:
        raise InputError(path, f"no frames between {start:.3f} s and {end:.3f} s")
    return min(end, last[0] + last[1])


class _Streamed(Sequence):
    """The first attempt's frames, handed to the GIF writer while the segment is still being
    decoded on a thread of its own, so decoding and encoding overlap.

    Frame ``j`` is released once frame ``j + 1`` has begun (its hold is then final), so
    ``holds`` always covers the frames released. The frames and holds are exactly
    :func:`_resample`'s for ``fps``; :meth:`result` gives what :func:`_read_segment` would
    for the one rate ``fps``.
    """

    def __init__(self, path, start: float, end: float, width: int, fps: float):
        self.start, self.fps = start, fps
        self.times: list[float] = []
        self.images: list[np.ndarray] = []
        self.frames: list[np.ndarray] = []
        self.holds: list[int] = []
        self._stop: float | None = None
        self._source = -1  # index into images of the last frame in ``frames``
        self._released = 0
        self._error: BaseException | None = None
        self._done = self._cancelled = False
        self._ready = threading.Condition()
        reader = _segment_frames(path, start, end, width, {fps})
        self._thread = threading.Thread(target=self._read, args=(reader,), daemon=True)
        self._thread.start()

    def _read(self, reader) -> None:
        try:
            while not self._cancelled:
                try:
                    frame = next(reader)
                except StopIteration as done:
                    self._finish(done.value)
                    return
                self.times.append(frame.time)
                self.images.append(frame.image)
                # ticks before this frame's time now know their frame
                self._ticks(lambda k: _tick(self.start, k, self.fps) + TIME_EPS < frame.time)
            reader.close()
        except BaseException as e:  # handed to the encoding thread
            with self._ready:
                self._error = e
        finally:
            with self._ready:
                self._done = True
                self._ready.notify_all()

    def _finish(self, stop: float) -> None:
        n_ticks = max(1, math.ceil((stop - self.start) * self.fps - TIME_EPS))
        self._ticks(lambda k: k < n_ticks)
        with self._ready:
            self._stop = stop
            self._released = len(self.frames)

    def _ticks(self, known: Callable[[int], bool]) -> None:
        k = sum(self.holds)
        while known(k):
            i = _shown_at(self.times, self.start, k, self.fps)
            if i == self._source:
                self.holds[-1] += 1
            else:
                self.frames.append(self.images[i])
                self.holds.append(1)
                self._source = i
            k += 1
        with self._ready:
            self._released = max(self._released, len(self.frames) - 1)
            self._ready.notify_all()

    def _wait(self, count: int) -> bool:
        """Wait until ``count`` frames are released or reading ended; True if they are."""
        with self._ready:
            self._ready.wait_for(lambda: self._released >= count or self._done)
            if self._error is not None:
                raise _ReadFailed(self._error)
            return self._released >= count

    def __getitem__(self, j):
        if isinstance(j, slice) or j < 0:
            self.result()
            return self.frames[j]
        self._wait(j + 1)
        return self.frames[j]

    def __iter__(self) -> Iterator[np.ndarray]:
        j = 0
        while self._wait(j + 1):
            yield self.frames[j]
            j += 1

    def __len__(self) -> int:
        self.result()
        return len(self.frames)

    def result(self) -> tuple[list[float], list[np.ndarray], float]:
        """Wait for the whole segment: its kept times and images, and where it stops."""
        self._thread.join()
        if self._error is not None:
            raise _ReadFailed(self._error)
        return self.times, self.images, self._stop

    def close(self) -> None:
        """Stop reading (when encoding failed) and wait for the thread."""
        self._cancelled = True
        self._thread.join()


class _ReadFailed(Exception):
    """Carries an error of the reading thread out through the writer and the output guard."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def _resample(times, images, start, stop, fps) -> tuple[list[np.ndarray], list[int]]:
    """Frames shown at each tick of ``fps`` over [start, stop), with repeats merged into holds."""
    n_ticks = max(1, math.ceil((stop - start) * fps - TIME_EPS))
    frames: list[np.ndarray] = []
    holds: list[int] = []
    previous = -1
    for k in range(n_ticks):
        i = _shown_at(times, start, k, fps)
        if i == previous:
            holds[-1] += 1  # the source shows the same frame: lengthen it, do not repeat it
        else:
            frames.append(images[i])
            holds.append(1)
            previous = i
    return frames, holds


def _write(fmt, frames, holds, fps, path: Path, width, colours, dither, quality
           ) -> tuple[int, int, int, list[int]]:
    """Encode to ``path`` (not atomic) with the format's writer (:mod:`video2gif.writers`);
    returns (width, height, bytes, ticks of each stored frame)."""
    width = max(2, width - width % 2)  # yuv420p needs even sizes; the height is made even too
    output = OUTPUT_FORMATS[fmt]
    write = resolve(output.writer)
    if not output.palette:
        return write(frames, holds, fps, path, width)
    return write(frames, holds, fps, path, width, colours=colours or COLOURS,
                 dither=DITHER_ALIASES.get(dither, dither), quality=quality or QUALITY)
