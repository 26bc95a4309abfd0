"""Sound excitement: how much louder a segment is than the video's own typical level.

:class:`LoudnessCollector` takes the audio track from the single decode pass (mono, 16 kHz, see
:class:`~video2gif.decode.AudioConsumer`) and keeps only the energy of every 0.1 s bin. After the
pass, :func:`sound_signals` gives each segment ``sound_excitement`` in [0, 1]: 0.5 when the
segment is as loud as the video's median bin, 1 when it is :data:`EXCITEMENT_RANGE_DB` louder
(cheering, a crash, music kicking in), 0 when that much quieter. Silent videos (no audio track,
or digital silence) and broken tracks simply lack the signal.

Example:
    >>> loud = LoudnessCollector()
    >>> # decode_pass(path, frame_consumers, audio=[loud]); then:
    >>> # sound_signals(loud.result, segments)  # {"sound_excitement": array([...])} or {}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..decode import AUDIO_RATE, AudioConsumer, VideoInfo
from ..segments import Segment

BIN_SECONDS = 0.1  # loudness is measured on bins this long
FLOOR_DB = -90.0  # dBFS given to bins of digital silence
SILENCE_DB = -60.0  # a track whose loudest bin stays below this (dBFS) counts as silent
EXCITEMENT_RANGE_DB = 10.0  # dB above the video's median level that scores 1 (below: 0)
EPS = 1e-6  # seconds


@dataclass(frozen=True)
class Loudness:
    """Energy of the sound per bin: bin ``i`` covers ``[i, i + 1) × BIN_SECONDS``."""

    energy: np.ndarray  # (n,) mean squared sample value (full scale = 1)
    counts: np.ndarray  # (n,) samples that fell in each bin (0 where the track has gaps)

    @property
    def db(self) -> np.ndarray:
        """Level of each bin in dBFS (FLOOR_DB for silence)."""
        return np.maximum(10 * np.log10(np.maximum(self.energy, 1e-30)), FLOOR_DB)

    @property
    def silent(self) -> bool:
        heard = self.counts > 0
        return not heard.any() or float(self.db[heard].max()) < SILENCE_DB


class LoudnessCollector(AudioConsumer):
    """Accumulates the energy of each 0.1 s bin of the audio track; keeps no samples."""

    def __init__(self) -> None:
        self.result: Loudness | None = None
        self.failure: str | None = None
        self._sums = np.zeros(0)
        self._counts = np.zeros(0, dtype=np.int64)

    def start(self, info: VideoInfo) -> None:
        self.result, self.failure = None, None
        self._sums = np.zeros(0)
        self._counts = np.zeros(0, dtype=np.int64)

    def push(self, time: float, samples: np.ndarray) -> None:
        if self.failure is not None or not len(samples):
            return
        t = time + np.arange(len(samples)) / AUDIO_RATE
        keep = t >= 0  # sound before the first video frame is not part of any segment
        if not keep.any():
            return
        bins = (t[keep] / BIN_SECONDS).astype(np.int64)
        need = int(bins.max()) + 1
        if need > len(self._sums):
            grow = max(need, 2 * len(self._sums))  # amortised growth; a few floats per second
            self._sums = np.pad(self._sums, (0, grow - len(self._sums)))
            self._counts = np.pad(self._counts, (0, grow - len(self._counts)))
        squares = samples[keep].astype(np.float64) ** 2
        self._sums[:need] += np.bincount(bins, weights=squares, minlength=need)
        self._counts[:need] += np.bincount(bins, minlength=need)

    def fail(self, reason: str) -> None:
        self.failure = reason
        self._sums = np.zeros(0)
        self._counts = np.zeros(0, dtype=np.int64)

    def finish(self, info: VideoInfo) -> None:
        if self.failure is not None or not self._counts.any():
            self.result = None  # no audio track, or a broken one
            return
        n = int(np.nonzero(self._counts)[0].max()) + 1
        counts = self._counts[:n]
        energy = self._sums[:n] / np.maximum(counts, 1)
        self.result = Loudness(energy=energy, counts=counts)


def sound_signals(loudness: Loudness | None, segments: Sequence[Segment]) -> dict[str, np.ndarray]:
    """``{"sound_excitement": (n,)}`` in [0, 1], or ``{}`` for a silent or broken track.

    A segment's level is the mean energy of its bins, in dB; the video's level is the median of
    all its bins' levels. Bins the track does not cover count as silence.

    Example:
        >>> loud = Loudness(energy=np.array([1e-4] * 10 + [1e-2] * 10), counts=np.full(20, 1600))
        >>> segs = [Segment(0.0, 1.0, 0, 24, 0), Segment(1.0, 2.0, 24, 48, 0)]
        >>> sound_signals(loud, segs)["sound_excitement"].round(2).tolist()
        [0.0, 1.0]
    """
    if loudness is None or loudness.silent:
        return {}
    heard = loudness.counts > 0
    db = np.where(heard, loudness.db, FLOOR_DB)
    reference = float(np.median(db))
    energy = np.where(heard, loudness.energy, 0.0)
    out = np.zeros(len(segments))
    for i, seg in enumerate(segments):
        lo = int(np.floor(seg.start / BIN_SECONDS + EPS))
        hi = max(lo + 1, int(np.ceil(seg.end / BIN_SECONDS - EPS)))
        part = energy[lo:hi]
        level = 10 * np.log10(max(float(part.mean()), 1e-30)) if len(part) else FLOOR_DB
        level = max(level, FLOOR_DB)
        out[i] = 0.5 + (level - reference) / (2 * EXCITEMENT_RANGE_DB)
    return {"sound_excitement": np.clip(out, 0.0, 1.0)}
