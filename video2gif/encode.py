"""Encode a chosen segment as a looping GIF (or WebP / MP4) under a byte budget.

GIFs go through FFmpeg's own filters inside PyAV: lanczos scaling, ``palettegen`` with
``stats_mode=diff`` (the palette is spent on the pixels that move, not on a static background) and
``paletteuse`` with error-diffusion (``sierra2_4a``) or ordered (``bayer``) dithering. Frames are
resampled to the output rate by timestamp, so variable frame rate input plays at the right speed.

A file over ``max_bytes`` is encoded again with fewer frames per second, then a smaller width,
then fewer colours, in that order. If even the smallest setting is too big, :class:`EncodeError`
is raised: a budget is never exceeded silently. Every file is written under a temporary name and
renamed, so a failure or an interrupt leaves nothing behind.

Example:
    >>> out = encode_segment("clip.mp4", 10.0, 13.0, "best.gif")  # doctest: +SKIP
    >>> (out.width, out.fps, out.bytes <= 8_000_000)  # doctest: +SKIP
    (480, 12.0, True)
"""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import av.error
import av.filter
import numpy as np

from ._io import atomic_path
from .decode import probe, read_range
from .errors import EncodeError, InputError, UsageError
from .formats import DEFAULT_FORMAT, OUTPUT_FORMATS

if TYPE_CHECKING:
    from .crop import CropPath

WIDTH = 480  # output width, pixels (never more than the source's)
MIN_WIDTH, MAX_WIDTH = 2, 8192  # accepted output widths, pixels
FPS = 12.0  # output frames per second
MAX_FPS = 60.0  # highest accepted output rate (above 0)
MAX_BYTES = 8_000_000  # default size budget per file, bytes
COLOURS = 256  # GIF palette size
MIN_COLOURS = 2  # smallest accepted palette (COLOURS is also the largest a GIF holds)
FORMATS = tuple(OUTPUT_FORMATS)  # the --format names; facts about each in video2gif.formats
# Budget ladder: each step is tried only below the requested value, fps first, then width,
# then colours (GIF only), because fewer frames hurt a GIF least and fewer colours most.
FPS_STEPS = (10.0, 8.0, 6.0)  # frames per second
WIDTH_STEPS = (400, 320, 240, 160)  # pixels
COLOUR_STEPS = (128, 64, 32)  # palette entries
# paletteuse dithering; "bayer" is ordered dithering, the others diffuse the error.
DITHERS = ("sierra2_4a", "floyd_steinberg", "sierra2", "sierra3", "burkes", "atkinson",
           "heckbert", "bayer", "none")  # fmt: skip
DITHER = "sierra2_4a"  # default dithering
DITHER_ALIASES = {"ordered": "bayer", "diffusion": "sierra2_4a"}
BAYER_SCALE = 3  # 0-5: higher hides the cross-hatch pattern better but bands more
WEBP_QUALITY = 75  # libwebp lossy quality, 0-100
MP4_CRF = 20  # libx264 constant rate factor; lower is better and larger
MP4_PRESET = "medium"
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


def encode_segment(
    path: str | os.PathLike,
    start: float,
    end: float,
    out_path: str | os.PathLike,
    options: EncodeOptions | None = None,
    crop: CropPath | None = None,
    shape: FrameShaper | None = None,
) -> EncodedOutput:
    """Encode ``[start, end)`` seconds of ``path`` to ``out_path``, within the byte budget.

    The segment is decoded once, at the largest width needed; smaller attempts rescale those
    frames. The ladder is: fps down to 6, then width down to 160 px, then colours down to 32.

    Arguments:
        path: the source video.
        start, end: seconds from the video's first frame.
        out_path: the file to write (its folder must exist); replaced atomically.
        options: format, size, rate, palette and budget (default: EncodeOptions()).
        crop: a box per frame (:func:`video2gif.crop.plan_crop`) cut out before resampling;
            ``width`` then applies to the crop. None: the whole frame.
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
    width = min(options.width, crop.width if crop else probe(path).width)
    width = max(2, width - width % 2)  # even, so yuv420p (mp4, webp) works
    budget = options.max_bytes or math.inf
    ladder = _ladder(options, width)[: None if options.max_bytes else 1]  # no budget: one try
    read_width = crop.decode_width(width) if crop else width  # a crop needs the pixels around it
    times, images, stop = _read_segment(path, start, end, read_width, {f for f, _, _ in ladder})
    if crop is not None:
        images = crop.apply(times, images)
    out_path = Path(out_path)
    attempts, measured = 0, None
    with _output(out_path) as tmp:
        for rung, (fps, w, colours) in enumerate(ladder):
            frames, holds = _resample(times, images, start, stop, fps)
            if shape is not None:  # the loop is shaped on frames, before any writer sees them
                frames, holds = shape(frames, holds, fps)
            setting = (len(frames), w, colours or 2)
            if measured and rung < len(ladder) - 1:
                if _estimate(measured, setting) > budget * SKIP_MARGIN:
                    continue  # hopeless: do not spend an encode on it (the last rung always runs)
            size = _write(options.format, frames, holds, fps, tmp, w, colours, options.dither)
            attempts += 1
            if size[2] <= budget:
                return _result(out_path, options.format, size, fps, holds, colours, attempts)
            measured = (*setting, size[2])
        smallest = f"{fps:g} fps, {size[0]} px" + (f", {colours} colours" if colours else "")
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
) -> EncodedOutput:
    """Write rgb24 frames as a GIF that loops forever, with one palette from the moving pixels.

    Arguments:
        frames: H×W×3 uint8 images, all the same size.
        out_path: the file to write; replaced atomically.
        fps: tick rate; frame ``i`` lasts ``holds[i]`` ticks (default one each).
        width: scale to this width (lanczos, even height); None keeps the frames' size.
        colours: palette size, 2-256.
        dither: one of DITHERS (or "ordered"/"diffusion").

    Returns:
        EncodedOutput describing the file.

    Raises:
        EncodeError: the file cannot be written.

    Example:
        >>> frames = [np.zeros((90, 160, 3), np.uint8)] * 12
        >>> write_gif(frames, "black.gif", fps=12).frames  # doctest: +SKIP
        12
    """
    return _write_file("gif", frames, out_path, fps, holds, width, colours, dither)


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
    return _write_file("webp", frames, out_path, fps, holds, width, None, "")


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
    return _write_file("mp4", frames, out_path, fps, holds, width, None, "")


def _write_file(fmt, frames, out_path, fps, holds, width, colours, dither) -> EncodedOutput:
    holds = list(holds) if holds is not None else [1] * len(frames)
    if not frames or len(holds) != len(frames) or min(holds) < 1:
        raise UsageError("holds", "need one or more frames and one hold of >= 1 tick per frame")
    out_path = Path(out_path)
    with _output(out_path) as tmp:
        size = _write(fmt, frames, holds, fps, tmp, width or frames[0].shape[1], colours, dither)
    return _result(out_path, fmt, size, fps, holds, colours, 1)


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


def _result(out_path, fmt, size, fps, holds, colours, attempts) -> EncodedOutput:
    w, h, n_bytes = size
    return EncodedOutput(
        path=out_path, format=fmt, bytes=n_bytes, width=w, height=h, fps=float(fps),
        frames=len(holds), duration=sum(holds) / fps, colours=colours, attempts=attempts,
    )  # fmt: skip


def _ladder(options: EncodeOptions, width: int) -> list[tuple[float, int, int | None]]:
    """(fps, width, colours) settings to try, largest first."""
    rates = [options.fps] + [f for f in FPS_STEPS if f < options.fps]
    widths = [width] + [w for w in WIDTH_STEPS if w < width]
    palettes: list[int | None] = [None]
    if options.format == "gif":
        palettes = [options.colours] + [c for c in COLOUR_STEPS if c < options.colours]
    return (
        [(f, widths[0], palettes[0]) for f in rates]
        + [(rates[-1], w, palettes[0]) for w in widths[1:]]
        + [(rates[-1], widths[-1], c) for c in palettes[1:]]
    )


def _estimate(measured: tuple[int, int, int, int], setting: tuple[int, int, int]) -> float:
    """Bytes expected for ``setting`` (frames, width, colours) from a measured encode.

    Size scales with frames × pixels × bits per palette index. On real clips one ladder step
    lands within 0.88-1.11× of this estimate, and fewer colours save a little more than it says.
    """
    n0, w0, c0, size = measured
    n, w, c = setting
    return size * (n / n0) * (w / w0) ** 2 * (math.log2(c) / math.log2(c0))


def _tick(start: float, k: int, fps: float) -> float:
    return start + k / fps


def _read_segment(path, start, end, width, rates) -> tuple[list[float], list[np.ndarray], float]:
    """Decode ``[start, end)`` once, keeping only frames that some output rate will show.

    Returns the kept frames' times and images, and where the footage stops (``end``, or the end
    of the video's last frame when the video ends first).
    """
    times: list[float] = []
    images: list[np.ndarray] = []
    steps: list[float] = []  # gaps between frames, seconds
    last = None

    def keep_if_shown(frame, until: float) -> None:
        # On screen over [frame.time, until): keep it if a tick of any rate lands in there.
        shown = any(
            _tick(start, math.ceil((frame.time - TIME_EPS - start) * f), f) < until - TIME_EPS
            for f in rates
        )
        if shown or not times:
            times.append(frame.time)
            images.append(frame.image)

    for frame in read_range(path, start, end, width=width):
        if last is not None:
            keep_if_shown(last, frame.time)
            steps.append(frame.time - last.time)
        last = frame
    if last is None:
        raise InputError(path, f"no frames between {start:.3f} s and {end:.3f} s")
    # The last frame lasts as long as the gap before it (variable frame rate changes the gap).
    stop = min(end, last.time + (steps[-1] if steps else 1.0 / max(rates)))
    keep_if_shown(last, stop)
    return times, images, stop


def _resample(times, images, start, stop, fps) -> tuple[list[np.ndarray], list[int]]:
    """Frames shown at each tick of ``fps`` over [start, stop), with repeats merged into holds."""
    n_ticks = max(1, math.ceil((stop - start) * fps - TIME_EPS))
    frames: list[np.ndarray] = []
    holds: list[int] = []
    previous = -1
    for k in range(n_ticks):
        i = max(0, bisect_right(times, _tick(start, k, fps) + TIME_EPS) - 1)
        if i == previous:
            holds[-1] += 1  # the source shows the same frame: lengthen it, do not repeat it
        else:
            frames.append(images[i])
            holds.append(1)
            previous = i
    return frames, holds


def _write(fmt, frames, holds, fps, path: Path, width, colours, dither) -> tuple[int, int, int]:
    """Encode to ``path`` (not atomic); returns (width, height, bytes)."""
    rate = Fraction(fps).limit_denominator(1001)
    width = max(2, width - width % 2)  # yuv420p needs even sizes; height follows from "-2"
    graph = av.filter.Graph()
    h, w = frames[0].shape[:2]
    source = graph.add_buffer(width=w, height=h, format="rgb24", time_base=1 / rate)
    scale = graph.add("scale", f"{width}:-2:flags=lanczos")
    source.link_to(scale)
    if fmt == "gif":
        last = _palette_filters(graph, scale, colours, DITHER_ALIASES.get(dither, dither))
    else:
        last = graph.add("format", "yuv420p")
        scale.link_to(last)
    last.link_to(graph.add("buffersink"))
    graph.configure()
    out = _run(graph, frames, holds, 1 / rate)
    _mux(fmt, out, path, rate, final_ticks=holds[-1])
    return out[0].width, out[0].height, path.stat().st_size


def _palette_filters(graph, scale, colours: int, dither: str):
    """scale → split → palettegen (one palette for the clip) → paletteuse; returns paletteuse.

    ``reserve_transparent`` keeps one entry transparent so the GIF encoder can leave unchanged
    pixels transparent between frames (FFmpeg's default), losslessly: on the shared real clips
    this saved 0-28% of the bytes, at the cost of one colour.
    """
    split = graph.add("split")
    palettegen = graph.add(
        "palettegen", f"max_colors={colours}:reserve_transparent=1:stats_mode=diff"
    )
    options = f"dither={dither}:diff_mode=rectangle"
    if dither == "bayer":
        options += f":bayer_scale={BAYER_SCALE}"
    paletteuse = graph.add("paletteuse", options)
    scale.link_to(split)
    split.link_to(paletteuse, 0, 0)
    split.link_to(palettegen, 1, 0)
    palettegen.link_to(paletteuse, 0, 1)
    return paletteuse


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
    graph.push(None)  # palettegen emits its palette only at the end of the stream
    out.extend(_drain(graph))
    return out


def _drain(graph) -> list[av.VideoFrame]:
    out = []
    while True:
        try:
            out.append(graph.pull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return out


def _mux(fmt: str, frames: list[av.VideoFrame], path: Path, rate: Fraction, final_ticks: int):
    container_options = {}
    if fmt == "gif":
        # loop=0 loops forever; the last frame's delay is in centiseconds.
        final_cs = max(1, round(100 * final_ticks / rate))
        codec, pix_fmt, codec_options = "gif", "pal8", {}
        container_options = {"loop": "0", "final_delay": str(final_cs)}
    elif fmt == "webp":
        codec, pix_fmt, codec_options = "libwebp_anim", "yuv420p", {"quality": str(WEBP_QUALITY)}
        container_options = {"loop": "0"}
    else:
        codec, pix_fmt = "libx264", "yuv420p"
        codec_options = {"crf": str(MP4_CRF), "preset": MP4_PRESET}
        container_options = {"movflags": "+faststart"}
    with av.open(str(path), "w", format=fmt, options=container_options) as container:
        stream = container.add_stream(codec, rate=rate, options=codec_options)
        stream.width, stream.height, stream.pix_fmt = frames[0].width, frames[0].height, pix_fmt
        stream.codec_context.time_base = 1 / rate
        for frame in frames:
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
