"""The segment-features stage in one object: backbone embeddings, faces and loudness from the
single decode pass, with the feature cache.

:class:`FeatureExtractor` adds its consumers to the pass (frames for the backbone and the face
detector, samples for the loudness meter). After the pass, or instead of it when the cache has
the video, it gives per-segment ``signals`` (``faces``, ``face_size``, ``sound_excitement``,
``novelty``), pooled ``embeddings`` and look-alike ``descriptors``.

Example:
    >>> extractor = FeatureExtractor(FeatureOptions(), cache=FeatureCache(tmp))  # doctest: +SKIP
    >>> if not extractor.prepare(path):  # False: not in the cache  # doctest: +SKIP
    ...     info = decode_pass(path, extractor.consumers(), audio=extractor.audio_consumers())
    ...     extractor.save_cached()
    >>> signals = extractor.signals(segments)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..decode import AUDIO_RATE, AudioConsumer, FrameConsumer
from ..errors import FeatureWarning, InputError
from ..segments import Segment
from . import audio, faces
from .backbones import (
    DEFAULT_BACKBONE,
    SAMPLE_FPS,
    Backbone,
    EmbeddingCollector,
    SampleEmbeddings,
    load_backbone,
    pool_segments,
)
from .cache import CacheKey, FeatureCache
from .novelty import novelty, segment_descriptors

FEATURES_VERSION = "1"  # bump when what is measured per frame changes; old cache entries rebuild


@dataclass(frozen=True)
class FeatureOptions:
    """What the features stage measures."""

    backbone: str = DEFAULT_BACKBONE  # --backbone NAME; "none" for the cheap signals only
    fps: float = SAMPLE_FPS  # frames per second seen by a still-image backbone
    weights_dir: str | None = None  # folder of the released C3D files (--weights-dir)
    faces: bool = True  # face presence and size (needs OpenCV below 5: the faces extra)
    audio: bool = True  # sound excitement from the audio track


_warned: set[str] = set()  # reasons already warned about in this process


def _warn_once(reason: str) -> None:
    if reason not in _warned:
        _warned.add(reason)
        warnings.warn(FeatureWarning(reason), stacklevel=3)


class FeatureExtractor:
    """Collects backbone, face and loudness measurements in the pass; see the module docstring.

    Arguments:
        options: what to measure.
        backbone: a ready backbone (overrides ``options.backbone``), e.g. shared with a scorer.
        cache: where to keep and find measurements (None: no cache).

    Raises:
        UsageError: unknown backbone name.
        ModelError: the backbone's weights are missing or malformed.
    """

    def __init__(self, options: FeatureOptions | None = None, backbone: Backbone | None = None,
                 cache: FeatureCache | None = None) -> None:
        self.options = options or FeatureOptions()
        self.backbone = backbone if backbone is not None else load_backbone(
            self.options.backbone, fps=self.options.fps, weights_dir=self.options.weights_dir)
        self.cache = cache
        self._embeddings = EmbeddingCollector(self.backbone) if self.backbone else None
        self._faces = None
        if self.options.faces:
            reason = faces.face_detection_unavailable()
            if reason is None:
                self._faces = faces.FaceCollector()
            else:
                _warn_once(f"face signals are off: {reason}")
        self._loudness = audio.LoudnessCollector() if self.options.audio else None
        self._state: dict[str, np.ndarray] | None = None  # measurements, once known
        self._key: CacheKey | None = None

    # -- the pass -------------------------------------------------------------------------------

    def consumers(self) -> list[FrameConsumer]:
        """Frame consumers for :func:`~video2gif.decode.decode_pass` (none after a cache hit)."""
        if self._state is not None:
            return []
        return [c for c in (self._embeddings, self._faces) if c is not None]

    def audio_consumers(self) -> list[AudioConsumer]:
        """Audio consumers for the pass's ``audio`` argument (none after a cache hit)."""
        if self._state is not None or self._loudness is None:
            return []
        return [self._loudness]

    def measurements(self) -> dict[str, np.ndarray]:
        """Everything measured per frame (and per audio bin), as plain arrays."""
        if self._state is None:
            self._state = self._collect()
        return self._state

    def _collect(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        if self._embeddings is not None:
            r = self._embeddings.result
            if r is None:
                raise RuntimeError("the decode pass has not run for this extractor")
            out.update({"backbone.times": r.times, "backbone.ends": r.ends,
                        "backbone.vectors": r.vectors})
        if self._faces is not None and self._faces.result is not None:
            f = self._faces.result
            out.update({"faces.times": f.times, "faces.counts": f.counts,
                        "faces.largest": f.largest})
        if self._loudness is not None and self._loudness.result is not None:
            loud = self._loudness.result
            out.update({"audio.energy": loud.energy, "audio.counts": loud.counts})
        return out

    # -- the cache ------------------------------------------------------------------------------

    def cache_params(self) -> dict:
        """Every parameter the measurements depend on (part of the cache key)."""
        b = self.backbone
        return {
            "features": FEATURES_VERSION,
            "backbone": None if b is None else {"id": b.cache_id, "frames": b.spec.to_dict()},
            "faces": None if self._faces is None else {
                "fps": faces.FACE_FPS, "width": faces.FACE_WIDTH, "cascade": faces.CASCADE_FILE,
                "scale": faces.SCALE_FACTOR, "neighbors": faces.MIN_NEIGHBORS,
                "min_face": faces.MIN_FACE},
            "audio": None if self._loudness is None else {
                "rate": AUDIO_RATE, "bin": audio.BIN_SECONDS},
        }

    def cache_key(self, path: str | os.PathLike) -> CacheKey:
        """The key of ``path``'s entry (reads 3 MiB of the file for its fingerprint)."""
        return CacheKey.of(path, **self.cache_params())

    def prepare(self, path: str | os.PathLike) -> bool:
        """Get ready for the video ``path`` (an extractor serves many videos in turn) and look
        it up in the cache. True on a hit: then :meth:`consumers` is empty and no pass is needed
        for these features."""
        self._state = None
        self._key = None
        if self.cache is None:
            return False
        try:
            self._key = self.cache_key(path)
        except InputError:  # missing or unreadable: the decode pass says so, in its own words
            return False
        entry = self.cache.load(self._key)
        if entry is None:
            return False
        needed = self._expected_arrays()
        if not needed <= set(entry.arrays):
            return False
        self._state = dict(entry.arrays)
        return True

    def save_cached(self, path: str | os.PathLike | None = None, meta: Mapping | None = None
                    ) -> None:
        """Store the measurements after a pass (no-op without a cache)."""
        if self.cache is None:
            return
        key = self._key if path is None else self.cache_key(path)
        if key is None:
            raise ValueError("save_cached() needs the video path when prepare() did not run")
        self.cache.save(key, self.measurements(), meta)

    def _expected_arrays(self) -> set[str]:
        names = set()
        if self._embeddings is not None:
            names |= {"backbone.times", "backbone.ends", "backbone.vectors"}
        return names  # faces and audio may be legitimately absent (no frames, no sound)

    # -- per segment ----------------------------------------------------------------------------

    def samples(self) -> SampleEmbeddings | None:
        """The per-frame (or per-clip) embeddings, if a backbone ran."""
        m = self.measurements()
        if self.backbone is None or "backbone.vectors" not in m:
            return None
        return SampleEmbeddings(self.backbone.cache_id, m["backbone.times"], m["backbone.ends"],
                                np.asarray(m["backbone.vectors"], dtype=np.float32))

    def signals(self, segments: Sequence[Segment]) -> dict[str, np.ndarray]:
        """Per-segment signals in [0, 1]: ``faces``, ``face_size`` (with OpenCV),
        ``sound_excitement`` (with sound) and ``novelty`` (with a backbone)."""
        m = self.measurements()
        out: dict[str, np.ndarray] = {}
        if "faces.times" in m:
            track = faces.FaceTrack(m["faces.times"], m["faces.counts"], m["faces.largest"])
            out.update(faces.face_signals(track, segments))
        if "audio.energy" in m:
            loud = audio.Loudness(m["audio.energy"], m["audio.counts"])
            out.update(audio.sound_signals(loud, segments))
        samples = self.samples()
        if samples is not None and len(samples):
            out["novelty"] = novelty(samples, segments)
        return out

    def embeddings(self, segments: Sequence[Segment]) -> dict[str, np.ndarray]:
        """``{backbone name: (n, 2·dim)}`` mean and max pooled embeddings ({} without one)."""
        samples = self.samples()
        if samples is None:
            return {}
        return {self.backbone.name: pool_segments(samples, segments)}

    def descriptors(self, segments: Sequence[Segment]) -> np.ndarray | None:
        """Unit vectors for near-duplicate suppression (None without a backbone)."""
        samples = self.samples()
        if samples is None or not len(samples):
            return None
        return segment_descriptors(samples, segments)
