"""Cheap, interpretable per-segment signals for the default prior, from the shared decode pass.

Per frame the collector keeps a handful of numbers: motion on every frame from the 64×36
thumbnails the shot detector also uses (with the 32×18 look thumbnails of
:class:`~video2gif.boundaries.MotionTrack`, 8 a second), and sharpness, exposure and colourfulness on
frames sampled a few times a second at 256×144. After the pass, :meth:`SignalCollector.segment_signals`
turns them into per-segment values in [0, 1], each with a documented meaning.

Example:
    >>> collector = SignalCollector()
    >>> # decode_pass(path, [collector, ...]); then:
    >>> # signals = collector.segment_signals(segments)  # {"motion_appeal": array([...]), ...}
"""

from __future__ import annotations

import math
from array import array
from dataclasses import replace

import numpy as np

from ..boundaries import MotionTrack, Track
from ..decode import FrameConsumer, FrameRequest, VideoInfo
from ..segments import SegmentList
from ..shots import THUMB_REQUEST

# Frames per second measured for sharpness, exposure and colour; 4 fps picked the same 34 of 34
# picks on 9 real videos, at more CPU (docs/BENCHMARKS.md)
QUALITY_FPS = 2.0
QUALITY_WIDTH, QUALITY_HEIGHT = 256, 144  # pixels; enough detail for a sharpness estimate
DESCRIPTOR_SIDE = 8  # a segment's look is summarised as 8×8 colour thumbnails

# Motion is the mean absolute luma change per frame on 64×36 thumbnails (0-255 scale), converted to
# change per 1/24 s so frame rate does not matter. Lively-but-readable motion sits near
# MOTION_BEST; static shots and chaos both score low (log-normal bump of width MOTION_SPREAD).
MOTION_BEST = 2.0
MOTION_SPREAD = 1.0  # in natural-log units
SHARPNESS_HALF = 150.0  # Laplacian variance that scores 0.5
COLOUR_HALF = 35.0  # Hasler-Süsstrunk colourfulness that scores 0.5
EXPOSURE_BEST = 120.0  # mean luma (0-255) of a well exposed frame
EXPOSURE_SPREAD = 75.0
CLIP_DARK, CLIP_BRIGHT = 16, 240  # luma beyond these is crushed black or blown white
FLASH_JUMP = 40.0  # a frame-to-frame mean luma jump (0-255) this large is a flash or glitch
TRANSITION_MARGIN = 1.0  # seconds: within this of a dissolve/fade a segment is "near" it


class SignalCollector(FrameConsumer):
    """Collects motion on every frame and image quality on sampled frames."""

    def __init__(self) -> None:
        # The shot detector's thumbnails (converted once), from exactly decoded frames: without
        # the deblocking filter, block edges would add to motion (+26% on the bundled example)
        # and sharpness.
        super().__init__(replace(THUMB_REQUEST, exact=True))
        self.quality = _QualityCollector()
        # Motion and mean luma of every frame, and the look thumbnails that shape the cuts
        # (video2gif.boundaries): measured once, for the signals and the cuts alike.
        self.motion = MotionTrack()
        self.info: VideoInfo | None = None

    def consumers(self) -> list[FrameConsumer]:
        """Both frame consumers this collector needs in the decode pass."""
        return [self, self.quality]

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        self.motion.push(index, time, image)

    def finish(self, info: VideoInfo) -> None:
        self.motion.finish(info)
        self.info = info

    def track(self) -> Track:
        """Per-frame motion and look thumbnails (:class:`~video2gif.boundaries.Track`)."""
        return self.motion.result()

    def segment_signals(
        self, segments: SegmentList, transitions: list[tuple[float, float]] | None = None
    ) -> dict[str, np.ndarray]:
        """Per-segment signals in [0, 1].

        Arguments:
            segments: the candidates.
            transitions: (start, end) seconds of dissolves and fades, for ``near_transition``.

        Returns:
            ``motion_appeal``, ``sharpness``, ``exposure``, ``colourfulness``, ``stability``,
            ``near_transition``, plus the raw ``motion`` level (not in [0, 1]).
        """
        track = self.motion.result()
        times, motion = track.times, track.motion
        luma = np.asarray(self.motion.mean_luma, dtype=np.float64)
        if len(times) > 1:  # per 1/24 s, whatever the frame rate
            step = np.median(np.diff(times))
            motion = motion * ((1 / 24) / max(step, 1e-3))
        q = self.quality
        q_times = np.asarray(q.times)
        out: dict[str, list[float]] = {k: [] for k in (
            "motion", "motion_appeal", "sharpness", "exposure", "colourfulness", "stability",
            "near_transition")}
        for seg in segments:
            lo, hi = np.searchsorted(times, [seg.start - 1e-6, seg.end - 1e-6])
            seg_motion = motion[lo + 1 : hi] if hi - lo > 1 else motion[lo:hi]
            # Mean, not median: content with repeated frames shows motion on every other frame.
            m = float(np.mean(seg_motion)) if len(seg_motion) else 0.0
            out["motion"].append(m)
            out["motion_appeal"].append(_bump(m, MOTION_BEST, MOTION_SPREAD))
            jumps = np.abs(np.diff(luma[lo:hi])) if hi - lo > 1 else np.zeros(0)
            flashes = int((jumps > FLASH_JUMP).sum())
            out["stability"].append(1.0 / (1.0 + flashes))
            qlo, qhi = np.searchsorted(q_times, [seg.start - 1e-6, seg.end - 1e-6])
            if qhi <= qlo:  # very short segment: use the nearest sampled frame
                qlo = min(max(0, qlo - 1), max(0, len(q_times) - 1))
                qhi = qlo + 1
            sharp = np.median(q.sharpness[qlo:qhi]) if len(q.sharpness) else 0.0
            out["sharpness"].append(sharp / (sharp + SHARPNESS_HALF))
            colour = np.median(q.colourfulness[qlo:qhi]) if len(q.colourfulness) else 0.0
            out["colourfulness"].append(colour / (colour + COLOUR_HALF))
            mean_l = np.median(q.mean_luma[qlo:qhi]) if len(q.mean_luma) else 0.0
            clipped = np.median(q.clipped[qlo:qhi]) if len(q.clipped) else 0.0
            exposure = math.exp(-(((mean_l - EXPOSURE_BEST) / EXPOSURE_SPREAD) ** 2))
            out["exposure"].append(exposure * (1.0 - clipped))
            out["near_transition"].append(_near(seg.start, seg.end, transitions or []))
        return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}

    def segment_descriptors(self, segments: SegmentList) -> np.ndarray:
        """One unit vector per segment summarising how it looks (for near-duplicate checks)."""
        q = self.quality
        q_times = np.asarray(q.times)
        dim = DESCRIPTOR_SIDE * DESCRIPTOR_SIDE * 3
        thumbs = q.thumbs.astype(np.float32).reshape(-1, dim)
        out = np.zeros((len(segments), dim), dtype=np.float32)
        for i, seg in enumerate(segments):
            qlo, qhi = np.searchsorted(q_times, [seg.start - 1e-6, seg.end - 1e-6])
            if qhi <= qlo:
                qlo, qhi = max(0, qlo - 1), max(1, qlo)
            if len(thumbs):
                out[i] = thumbs[qlo:qhi].mean(axis=0)
        out -= out.mean(axis=1, keepdims=True)  # compare structure, not overall brightness
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-6)


class _QualityCollector(FrameConsumer):
    """Sharpness, exposure, colourfulness and a tiny thumbnail on a few frames per second."""

    def __init__(self) -> None:
        super().__init__(
            FrameRequest(width=QUALITY_WIDTH, height=QUALITY_HEIGHT, fps=QUALITY_FPS)
        )
        # Compact columns (see SignalCollector): float64 values, thumbnails as packed bytes.
        self.times = array("d")
        self.sharpness = array("d")
        self.colourfulness = array("d")
        self.mean_luma = array("d")
        self.clipped = array("d")
        self._thumbs = bytearray()

    @property
    def thumbs(self) -> np.ndarray:
        """(n, DESCRIPTOR_SIDE, DESCRIPTOR_SIDE, 3) uint8 thumbnails of the sampled frames."""
        side = DESCRIPTOR_SIDE
        return np.frombuffer(bytes(self._thumbs), dtype=np.uint8).reshape(-1, side, side, 3)

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        rgb = image.astype(np.float32)
        luma = _luma(image)
        self.times.append(time)
        self.sharpness.append(_laplacian_variance(luma))
        self.colourfulness.append(_colourfulness(rgb))
        self.mean_luma.append(float(luma.mean()))
        self.clipped.append(float(((luma < CLIP_DARK) | (luma > CLIP_BRIGHT)).mean()))
        self._thumbs += _block_mean(rgb, DESCRIPTOR_SIDE).astype(np.uint8).tobytes()


def _luma(image: np.ndarray) -> np.ndarray:
    rgb = image.astype(np.float32)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: high for crisp detail, low for blur or flat frames."""
    lap = (
        gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4 * gray[1:-1, 1:-1]
    )
    return float(lap.var())


def _colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colourfulness metric."""
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def _block_mean(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    hs, ws = h // side, w // side
    return rgb[: hs * side, : ws * side].reshape(side, hs, side, ws, -1).mean(axis=(1, 3))


def _bump(value: float, best: float, spread: float) -> float:
    """1 at ``best``, falling off log-normally; 0 for no motion at all."""
    if value <= 1e-3:
        return 0.0
    return math.exp(-((math.log(value / best) / spread) ** 2) / 2)


def _near(start: float, end: float, transitions: list[tuple[float, float]]) -> float:
    """1 when a segment touches a gradual transition, fading to 0 at TRANSITION_MARGIN away."""
    best = 0.0
    for t0, t1 in transitions:
        gap = max(t0 - end, start - t1, 0.0)
        best = max(best, 1.0 - min(gap / TRANSITION_MARGIN, 1.0))
    return best
