"""The frame loop: which pixels to redraw, each frame's palette, dithering, lossy LZW, timing.

For every frame after the first, a pixel is redrawn only where the source has moved more than
``keep_tolerance`` (Oklab) away from the colour it had when that pixel was last drawn; the rest
stays transparent, so the previous frame shows through unchanged. Comparing with the colour at
the last *draw* (not the previous frame) bounds the drift: a slow fade is redrawn once it has
changed visibly, never left behind. The frame is cropped to the box around what is redrawn, and a
frame with nothing to redraw is merged into the one before it (its time is added to that frame's
delay). Each frame gets its own palette of the colours it draws, started from the previous
frame's palette so neighbouring frames agree.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import Video2GifWarning
from . import _threads, denoise, lzw, writer
from ._jit import HAVE_NUMBA, jit
from .colour import srgb_to_oklab
from .dither import KERNELS, ORDERED, Remap
from .quantize import Histogram, frame_palette
from .thin import thin_palette

QUALITY = 90  # default of the one knob, 1-100
# quality → (keep tolerance, lossy tolerance, dither strength, denoise, palette gap), linear
# between these anchors, chosen on benchmarks/gif_quality.py: redrawing less keeps SSIM up, lossy
# LZW keeps SSIMULACRA2 up, so both grow together; light dithering pays (banding) only at low
# strength. Below 100 the flicker of grain and codec noise is averaged away over neighbouring
# frames (denoise.py), more so toward 50: fewer pixels then cross the keep tolerance for nothing
# a viewer wants, which pays for a finer tolerance. Toward 50 the bytes go to what a viewer can
# see: barely different palette entries merge (thin.py), and from KEEP_BLUR_AT down a change is
# judged on 3×3 means, so lone noisy pixels are not redrawn, while a pixel whose neighbours moved
# too (KEEP_GROUP of its 3×3 window: slowly moving texture, whose signed changes cancel in the
# mean) still is; the flatter pictures these leave take stronger dithering against banding.
QUALITY_ANCHORS = (
    (1, 0.120, 0.080, 0.40, 0.15, 0.04),
    (50, 0.060, 0.045, 0.40, 0.13, 0.02),
    (70, 0.040, 0.030, 0.24, 0.06, 0.00),
    (90, 0.014, 0.012, 0.30, 0.03, 0.00),
    (100, 0.004, 0.000, 0.40, 0.00, 0.00),
)
KEEP_BLUR_AT = 50  # and below: Settings.keep_blur
KEEP_GROUP = 3  # Settings.keep_group with keep_blur
DITHERS = (*KERNELS, *ORDERED)
BAND_ROWS = 32  # rows the ditherer hands to the LZW coder at a time
PIPELINE_PIXELS = 20_000  # smaller frames are dithered, then coded, on one thread
AHEAD = 2  # frames whose colours (denoised) a spare core prepares ahead of the encoder


@dataclass(frozen=True)
class Settings:
    """Everything the encoder decides with; :func:`settings_for` derives it from ``quality``."""

    colours: int = 256  # palette entries per frame, transparency included (2-256)
    dither: str = "sierra2_4a"  # a name from dither.KERNELS, "bayer" or "none"
    dither_strength: float = 0.35  # 0-1
    dither_edges: float = 0.0  # Oklab lightness step at which dithering halves; 0: everywhere
    dither_max: float = 0.02  # Oklab; larger diffused errors are clipped
    smooth_weight: float = 3.0  # extra palette weight of pixels in smooth areas (banding shows)
    smooth_scale: float = 0.01  # Oklab lightness step between neighbours that counts as busy
    keep_tolerance: float = 0.010  # Oklab
    keep_blur: bool = False  # judge change on 3×3 means (noise cancels), lone pixels apart
    keep_single: float = 2.5  # with keep_blur, a pixel is redrawn past this × keep_tolerance
    keep_group: int = 0  # with keep_blur, also past keep_tolerance when this many of its 3×3 are
    lossy_tolerance: float = 0.0  # Oklab; 0 codes exactly
    denoise: float = 0.0  # Oklab threshold of the temporal denoise (denoise.py); 0: off
    palette_gap: float = 0.0  # Oklab; palette entries closer than this merge (thin.py); 0: off

    @property
    def tolerance(self) -> float:
        """Oklab distance within which every shown pixel matches its source when the palette
        holds every colour of the frame and nothing is dithered. An unredrawn pixel moved at
        most ``keep_tolerance`` (``keep_single`` times that with ``keep_blur``); a lossy
        substitution lands within twice ``lossy_tolerance`` of what would have been shown
        (which may be such a kept pixel); a merged palette entry lies within ``palette_gap`` of
        the entry it replaced; a denoised pixel lies within ``denoise`` of its source, so the
        entry nearest it within ``2 * denoise``."""
        keep = self.keep_tolerance * (self.keep_single if self.keep_blur else 1.0)
        return keep + 2 * self.lossy_tolerance + 2 * self.denoise + self.palette_gap


def settings_for(quality: int = QUALITY, colours: int = 256, dither: str = "sierra2_4a"
                 ) -> Settings:
    """Settings for ``quality`` 1-100 (100: exact LZW, redraw any visible change)."""
    q = min(max(quality, 1), 100)
    qs = [a[0] for a in QUALITY_ANCHORS]
    keep, lossy, strength, dn, gap = (float(np.interp(q, qs, [a[k] for a in QUALITY_ANCHORS]))
                                      for k in range(1, 6))
    return Settings(colours=colours, dither=dither, dither_strength=strength,
                    keep_tolerance=keep, lossy_tolerance=lossy, denoise=dn, palette_gap=gap,
                    keep_blur=q <= KEEP_BLUR_AT, keep_group=KEEP_GROUP if q <= KEEP_BLUR_AT else 0)


def warm_up() -> None:
    """Compile every kernel a GIF of any setting uses (or load it from numba's disk cache), on a
    few tiny frames, so that the first real GIF does not wait for the compiler (about 10 s on
    a 2-core machine). ``make setup`` runs it once after installing. Without numba there is
    nothing to compile."""
    if not HAVE_NUMBA:
        return
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, (24, 32, 3), np.uint8)  # more than 256 colours
    patched = first.copy()  # a change inside the frame: its box is a cropped view
    patched[8:16, 8:20] = rng.integers(0, 256, (8, 12, 3), np.uint8)
    frames = [first, patched, rng.integers(0, 256, (24, 32, 3), np.uint8)]
    for quality in (QUALITY, KEEP_BLUR_AT):  # exact redraws; denoise, 3×3 means, thinning
        for dither in ("sierra2_4a", "bayer"):
            encode_gif(frames, [1] * len(frames), 12.0, settings_for(quality, dither=dither))


@dataclass(frozen=True)
class GifEncoding:
    """A GIF in memory and what each of its frames shows."""

    data: bytes
    width: int
    height: int
    holds: tuple[int, ...]  # ticks each stored frame is shown (merged frames add up)
    delays_cs: tuple[int, ...]  # the same in GIF centiseconds
    shown: tuple[np.ndarray, ...] | None  # the screen after each stored frame (if asked for)


def encode_gif(frames: Sequence[np.ndarray], holds: Sequence[int], fps: float,
               settings: Settings | None = None, *, keep_shown: bool = False) -> GifEncoding:
    """Encode H×W×3 uint8 ``frames``, frame ``i`` shown ``holds[i]`` ticks of ``1/fps`` s."""
    if not HAVE_NUMBA:  # shown once: Python's warning filter keeps one per place
        warnings.warn(Video2GifWarning("numba is not installed: the GIF encoder runs as plain "
                                       "Python, many times slower (pip install numba)"),
                      stacklevel=2)
    with _threads.busy():
        return _encode_gif(frames, holds, fps, settings, keep_shown)


def _encode_gif(frames, holds, fps, settings, keep_shown) -> GifEncoding:
    s = settings or Settings()
    if s.dither not in DITHERS:
        raise ValueError(f"unknown dither {s.dither!r}")
    if not 2 <= s.colours <= 256:
        raise ValueError(f"colours {s.colours} is outside 2-256")
    h, w = frames[0].shape[:2]
    canvas_rgb = np.zeros((h, w, 3), np.uint8)
    canvas_lab = np.zeros((h, w, 3), np.float32)
    drawn_lab = np.zeros((h, w, 3), np.float32)  # the source colour when each pixel was drawn
    draw = np.ones((h, w), bool)
    bins = Histogram()
    stored: list[list] = []  # [box, palette, image data, ticks, transparent]
    shown: list[np.ndarray] = []
    start = None
    keep2 = np.float32(s.keep_tolerance**2)
    # Each frame and its Oklab colours: denoised (the encoder then works from the denoised
    # colours; the source's bin them), or converted into buffers that frames reuse. With a core
    # to spare, that runs a few frames ahead on a thread of its own.
    spare = _threads.spare() is not None
    if s.denoise > 0:
        sources = denoise.streamed(frames, s.denoise)
    else:
        held = AHEAD + 2 if spare else 1  # frames held at once (see _threads.ahead)
        buffers = [np.empty((h, w, 3), np.float32) for _ in range(held)]
        sources = _converted(frames, buffers)
    if spare:
        sources = _threads.ahead(sources, AHEAD)
    with contextlib.closing(sources):  # a failure stops the thread working ahead
        for i, ((image, lab), hold) in enumerate(zip(sources, holds)):
            if i == 0:
                y0, y1, x0, x1 = 0, h, 0, w
            elif s.keep_blur:
                draw = _changed(lab - drawn_lab, keep2, s.keep_single, s.keep_group)
                if not draw.any():  # nothing visible changed: the last frame just lasts longer
                    stored[-1][3] += hold
                    continue
                y0, y1, x0, x1 = _box(draw)
            else:
                y0, y1, x0, x1 = _changes(lab, drawn_lab, keep2, draw)
                if y1 == 0:
                    stored[-1][3] += hold
                    continue
            crop = (slice(y0, y1), slice(x0, x1))
            transparent = None if i == 0 else s.colours - 1
            n_real = s.colours if transparent is None else s.colours - 1
            palette = frame_palette(image, lab, draw, (y0, y1, x0, x1), n_real, start,
                                    s.smooth_weight, s.smooth_scale, bins)
            pal_lab = srgb_to_oklab(palette)
            start = pal_lab
            if s.palette_gap > 0:  # the next frame still starts from the full palette
                keep = thin_palette(pal_lab, s.palette_gap)
                palette, pal_lab = palette[keep], pal_lab[keep]
            t_index = len(palette) if transparent is not None else -1
            bands = Remap(lab[crop], draw[crop], pal_lab, s.dither, s.dither_strength,
                          max(t_index, 0), s.dither_edges, s.dither_max)
            lab256 = np.zeros((256, 3), np.float32)
            lab256[: len(palette)] = pal_lab
            n_entries = len(palette) + (transparent is not None)
            min_size = max(2, writer.table_bits(n_entries) + 1)
            coder = lzw.Coder(bands.idx, min_size, tolerance=s.lossy_tolerance,
                              lab_palette=lab256, canvas=canvas_lab[crop], transparent=t_index)
            data, used = _map_and_code(bands, coder, s.dither in KERNELS)
            _paint(used, t_index, palette, pal_lab, lab, canvas_rgb, canvas_lab, drawn_lab, y0,
                   x0)
            table = palette if t_index < 0 else np.vstack([palette, np.zeros((1, 3), np.uint8)])
            stored.append([(x0, y0, x1 - x0, y1 - y0), table, data, hold,
                           t_index if t_index >= 0 else None])
            if keep_shown:
                shown.append(canvas_rgb.copy())
    ticks = [f[3] for f in stored]
    delays = _delays(ticks, fps)
    parts = [writer.header(w, h)]
    for (box, table, data, _ticks, transparent), delay in zip(stored, delays):
        parts.append(writer.frame(box, table, data, delay, transparent))
    parts.append(writer.TRAILER)
    return GifEncoding(b"".join(parts), w, h, tuple(ticks), tuple(delays),
                       tuple(shown) if keep_shown else None)


def _converted(frames: Iterable[np.ndarray], buffers: list[np.ndarray]
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Each frame and its Oklab colours, in ``buffers`` in turn (as many as the frames held at
    once: a buffer is reused once its frame is done)."""
    for image, buffer in zip(frames, itertools.cycle(buffers)):
        image = np.ascontiguousarray(image, np.uint8)
        yield image, srgb_to_oklab(image, out=buffer)


def _map_and_code(bands: Remap, coder: lzw.Coder, follow: bool) -> tuple[bytes, np.ndarray]:
    """Dither a frame and LZW-code it. With ``follow`` (error diffusion, whose rows come one
    after the other), a frame big enough and a core to spare (fewer GIFs being encoded than
    cores: ``make`` encodes two at once), the coder works on a helper thread a band of rows
    behind the ditherer; the bytes are the same either way."""
    h, w = bands.idx.shape
    big = h * w >= PIPELINE_PIXELS and h >= 2 * BAND_ROWS
    helper = _threads.spare() if follow and big else None
    if helper is None:
        bands.rows(0, h)
        return coder.finish()
    edges = [*range(BAND_ROWS, h, BAND_ROWS), h]
    ready = [threading.Event() for _ in edges]
    stop = threading.Event()

    def code() -> None:
        for y1, band in zip(edges, ready):
            band.wait()
            if stop.is_set():
                return
            coder.code(y1 * w)

    coding = helper.submit(code)
    try:
        y0 = 0
        for y1, band in zip(edges, ready):
            bands.rows(y0, y1)
            band.set()
            y0 = y1
    finally:
        if y0 < h:  # the ditherer failed: release the coder
            stop.set()
            for band in ready:
                band.set()
        coding.result()
    return coder.finish()


@jit
def _paint(used, transparent, palette, pal_lab, lab, canvas_rgb, canvas_lab, drawn_lab, y0, x0):
    """Put the coded frame on the screen; remember the source colour of each pixel drawn."""
    for y in range(used.shape[0]):
        for x in range(used.shape[1]):
            k = used[y, x]
            if k == transparent:
                continue
            for c in range(3):
                canvas_rgb[y0 + y, x0 + x, c] = palette[k, c]
                canvas_lab[y0 + y, x0 + x, c] = pal_lab[k, c]
                drawn_lab[y0 + y, x0 + x, c] = lab[y0 + y, x0 + x, c]


@jit
def _changes(lab, drawn_lab, keep2, draw):
    """Mark in ``draw`` the pixels more than ``sqrt(keep2)`` from their colour when drawn;
    return the box around them (y0, y1, x0, x1), or y1 = 0 when there are none."""
    h, w = draw.shape
    y0, y1, x0, x1 = h, 0, w, 0
    for y in range(h):
        first, last = w, -1
        for x in range(w):
            d0 = lab[y, x, 0] - drawn_lab[y, x, 0]
            d1 = lab[y, x, 1] - drawn_lab[y, x, 1]
            d2 = lab[y, x, 2] - drawn_lab[y, x, 2]
            moved = d0 * d0 + d1 * d1 + d2 * d2 > keep2
            draw[y, x] = moved
            if moved:
                last = x
                first = min(first, x)
        if last >= 0:
            y0, y1 = min(y0, y), y + 1
            x0, x1 = min(x0, first), max(x1, last + 1)
    return y0, y1, x0, x1


def _changed(diff: np.ndarray, tol2: np.float32, single: float, group: int) -> np.ndarray:
    """Pixels to redraw when change is judged on 3×3 means (``Settings.keep_blur``): the mean
    change of the window past the tolerance (noise cancels there), a lone pixel past ``single``
    times it, or a pixel past it with ``group`` of its window past it too (texture moving slowly
    cancels in the signed mean, but moves many neighbours at once; 0: off)."""
    d2 = np.einsum("ijk,ijk->ij", diff, diff)
    n = _sum3(diff) / np.float32(9.0)
    draw = (np.einsum("ijk,ijk->ij", n, n) > tol2) | (d2 > tol2 * np.float32(single**2))
    if group > 0:  # the picture's edge repeated, so a pixel there also has a window of 9
        over = d2 > tol2
        count = _sum3(np.pad(over, 1, mode="edge").astype(np.float32))[1:-1, 1:-1]
        draw |= over & (count >= group - 0.5)
    return draw


def _sum3(a: np.ndarray) -> np.ndarray:
    """Sum over each pixel's 3×3 window (clipped at the edges), along the first two axes."""
    m = a.copy()
    m[1:] += a[:-1]
    m[:-1] += a[1:]
    n = m.copy()
    n[:, 1:] += m[:, :-1]
    n[:, :-1] += m[:, 1:]
    return n


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(1))
    cols = np.flatnonzero(mask.any(0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _delays(ticks: Sequence[int], fps: float) -> list[int]:
    """Centiseconds per frame, rounded on the running total so the loop keeps its length."""
    edges = np.round(100.0 * np.cumsum([0, *ticks]) / fps).astype(int)
    return [max(1, int(d)) for d in np.diff(edges)]

