"""Backbones: pretrained networks that turn the frames of the decode pass into embeddings.

A :class:`Backbone` says which frames it needs (:class:`FrameSpec`: sampling rate, size, clip
length) and encodes a batch of them. :class:`EmbeddingCollector` is the
:class:`~video2gif.decode.FrameConsumer` that feeds it from the single decode pass, in batches,
keeping one vector per sampled frame (or clip), never pixels. After the pass,
:func:`pool_segments` turns those into one row per candidate segment: the mean and the max of
the segment's vectors, concatenated.

Backbones register by name in :data:`BACKBONES`; ``--backbone NAME`` picks one.

Example:
    >>> from video2gif.decode import decode_pass
    >>> backbone = load_backbone("efficientnet-lite0")  # doctest: +SKIP
    >>> collector = EmbeddingCollector(backbone)  # doctest: +SKIP
    >>> info = decode_pass("clip.mp4", [collector])  # doctest: +SKIP
    >>> pooled = pool_segments(collector.result, segments)  # doctest: +SKIP
    >>> pooled.shape  # doctest: +SKIP
    (12, 2560)
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np

from .._lazy import resolve
from ..decode import FrameConsumer, FrameRequest, VideoInfo, Worker
from ..errors import UsageError
from ..segments import Segment

DEFAULT_BACKBONE = "efficientnet-lite0"
NO_BACKBONE = "none"  # --backbone none: cheap signals only
# Frames per second a still-image backbone sees; a 3 s segment gets ~3. Against 2 fps on 9 real
# videos it kept all 34 picks of k=5 and halved the backbone's CPU (docs/BENCHMARKS.md).
SAMPLE_FPS = 1.0
# Examples per forward pass. EfficientNet-Lite0 on one thread of this project's 2-core CPU:
# 12.6 ms of CPU per frame one at a time, 11.2 in twos, 11.5 in fours, 14.1 in eights (larger
# batches spill the early layers' activations out of the cache).
BATCH_SIZE = 4
POOLING = ("mean", "max")  # per-segment pooling, concatenated in this order
EPS = 1e-6  # seconds; boundary tolerance when matching sample times to segments
PENDING_BATCHES = 2  # batches waiting for the encoder thread; bounds memory
# Torch intra-op threads: half the cores, since the decoder and the other consumers keep the rest
# busy during the pass. On 2 shared cores a second torch thread tripled the CPU time per frame
# (OpenMP threads spin while waiting for a core): 16 ms with one thread, 52-58 ms with two.
TORCH_THREADS = max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class FrameSpec:
    """Which frames a backbone needs from the decode pass."""

    fps: float | None = SAMPLE_FPS  # sampling rate, frames per second; None = every frame
    width: int = 224  # pixels, as FFmpeg scales them (the aspect ratio is not kept)
    height: int = 224  # pixels
    clip: int = 1  # consecutive frames per example: 1 = single images, 16 = a C3D clip
    stride: int = 1  # frames between the first frames of consecutive clips (clip > 1)
    interpolation: str = "AREA"  # FFmpeg (swscale) filter used to scale the frames

    def to_dict(self) -> dict:
        return asdict(self)


class Backbone(ABC):
    """A pretrained network mapping frames (or clips of frames) to fixed-size vectors.

    Required: :attr:`name`, :attr:`version`, :attr:`dim`, :attr:`spec` and :meth:`encode`.
    Optional: :attr:`weights_id` (a fingerprint of the weights, so cached features change when
    the weights do) and :meth:`describe`.
    """

    name: ClassVar[str] = "backbone"
    version: ClassVar[str] = "1"  # bump when the architecture or the preprocessing changes
    dim: int  # length of one output vector
    spec: FrameSpec
    weights_id: str = ""
    batch_size: int = BATCH_SIZE

    @abstractmethod
    def encode(self, batch: np.ndarray) -> np.ndarray:
        """Encode ``batch``: (n, height, width, 3) uint8 RGB images, or (n, clip, height, width,
        3) clips when ``spec.clip > 1``. Returns (n, dim) float32. Deterministic."""

    @property
    def cache_id(self) -> str:
        """Identifies everything that changes this backbone's output, for the feature cache."""
        return f"{self.name}/{self.version}/{self.weights_id}"

    def describe(self) -> dict:
        """Metadata for reports and model files."""
        return {"name": self.name, "version": self.version, "dim": self.dim,
                "frames": self.spec.to_dict(), "pooling": list(POOLING)}


def set_torch_threads(threads: int | None = None) -> None:
    """Give PyTorch ``threads`` intra-op threads (default :data:`TORCH_THREADS`)."""
    import torch

    torch.set_num_threads(threads or TORCH_THREADS)


# Registry: name -> "module:factory" in this package (or a callable), each factory taking keyword
# options (fps, weights_dir) and ignoring the ones it does not use. Modules are imported by name
# on first use: torch and the weights load only then, and an implementation imports
# :class:`Backbone` from here without this module importing it back.
BACKBONES: dict[str, str | Callable[..., Backbone]] = {
    "efficientnet-lite0": "efficientnet:load",
    "c3d": "c3d:load",
}


def register_backbone(name: str, factory: str | Callable[..., Backbone]) -> None:
    """Make ``factory`` (a callable, or ``"module:function"`` in this package) available as
    ``--backbone NAME``."""
    BACKBONES[name] = factory


def backbone_choices() -> tuple[str, ...]:
    """The names ``--backbone`` accepts: the registered backbones, then ``"none"``."""
    return (*sorted(BACKBONES), NO_BACKBONE)


def check_backbone(name: str) -> str:
    """Return ``name`` if ``--backbone`` accepts it, else raise UsageError naming the flag."""
    if name not in backbone_choices():
        raise UsageError("--backbone", f"unknown backbone {name!r}; choose one of "
                                       f"{', '.join(backbone_choices())}")
    return name


def load_backbone(name: str | Backbone | None = DEFAULT_BACKBONE, **options) -> Backbone | None:
    """Build a backbone by registry name.

    Arguments:
        name: a key of :data:`BACKBONES`, ``"none"`` (or None) for no backbone, or a ready
            :class:`Backbone` (returned as is).
        **options: ``fps`` (sampling rate of still-image backbones), ``weights_dir`` (C3D).

    Returns:
        The backbone, or None for ``"none"``.

    Raises:
        UsageError: unknown name (names ``--backbone``).
        ModelError: the backbone's weights are missing or malformed.

    Example:
        >>> load_backbone("none") is None
        True
    """
    if isinstance(name, Backbone):
        return name
    if name is None or name == NO_BACKBONE:
        return None
    return resolve(BACKBONES[check_backbone(name)], __package__)(**options)


@dataclass(frozen=True)
class SampleEmbeddings:
    """One vector per sampled frame (or clip) of a video, in time order."""

    backbone: str  # the backbone's cache_id
    times: np.ndarray  # (n,) seconds of each example's first frame
    ends: np.ndarray  # (n,) seconds of each example's last frame (== times for still images)
    vectors: np.ndarray  # (n, dim) float32

    def __len__(self) -> int:
        return len(self.times)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


class EmbeddingCollector(FrameConsumer):
    """Feeds a backbone from the decode pass, in batches; keeps vectors, never frames.

    Still-image backbones get frames at ``spec.fps``; clip backbones get windows of ``spec.clip``
    consecutive frames whose first frames are ``spec.stride`` frames apart, from the first frame.

    With ``threaded`` (the default) batches are encoded on a thread of their own, so decoding and
    the other consumers go on meanwhile; at most :data:`PENDING_BATCHES` batches wait, which
    bounds memory. Results do not depend on it.
    """

    def __init__(self, backbone: Backbone, threaded: bool = True) -> None:
        spec = backbone.spec
        super().__init__(FrameRequest(width=spec.width, height=spec.height, fps=spec.fps,
                                      interpolation=spec.interpolation, exact=False))
        self.backbone = backbone
        self.threaded = threaded
        self.result: SampleEmbeddings | None = None
        self._worker: Worker | None = None
        self._reset()

    def _reset(self) -> None:
        self._window: deque[tuple[float, np.ndarray]] = deque(maxlen=self.backbone.spec.clip)
        self._received = 0
        self._batch: list[np.ndarray] = []
        self._batch_times: list[tuple[float, float]] = []
        self._times: list[tuple[float, float]] = []
        self._vectors: list[np.ndarray] = []

    def start(self, info: VideoInfo) -> None:
        if self._worker is not None:  # a pass that failed half-way: drop its thread
            self._worker.discard()
        self._reset()
        self.result = None
        self._worker = None
        if self.threaded:
            self._worker = Worker(lambda item: self._encode(*item), PENDING_BATCHES,
                                  f"video2gif-{self.backbone.name}")

    def push(self, index: int, time: float, image: np.ndarray) -> None:
        spec = self.backbone.spec
        if spec.clip == 1:
            self._add(image, time, time)
            return
        self._window.append((time, image))
        self._received += 1
        first = self._received - spec.clip  # count of frames before this window's first one
        if first >= 0 and first % spec.stride == 0:
            clip = np.stack([im for _, im in self._window])
            self._add(clip, self._window[0][0], time)

    def _add(self, example: np.ndarray, first: float, last: float) -> None:
        self._batch.append(example)
        self._batch_times.append((first, last))
        if len(self._batch) >= self.backbone.batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        batch, times = np.stack(self._batch), self._batch_times
        self._batch, self._batch_times = [], []
        if self._worker is not None:
            self._worker.submit((batch, times))  # blocks while PENDING_BATCHES are waiting
        else:
            self._encode(batch, times)

    def _encode(self, batch: np.ndarray, times: list[tuple[float, float]]) -> None:
        vectors = np.asarray(self.backbone.encode(batch), dtype=np.float32)
        if vectors.shape != (len(batch), self.backbone.dim):
            raise RuntimeError(f"{self.backbone.name} returned {vectors.shape}, expected "
                               f"({len(batch)}, {self.backbone.dim})")
        self._vectors.append(vectors)
        self._times.extend(times)

    def finish(self, info: VideoInfo) -> None:
        self._flush()
        if self._worker is not None:
            worker, self._worker = self._worker, None
            worker.close()
        times = np.asarray(self._times, dtype=np.float64).reshape(-1, 2)
        vectors = (np.concatenate(self._vectors) if self._vectors
                   else np.zeros((0, self.backbone.dim), np.float32))
        self.result = SampleEmbeddings(self.backbone.cache_id, times[:, 0].copy(),
                                       times[:, 1].copy(), vectors)
        self._window.clear()
        self._vectors = []


def segment_members(samples: SampleEmbeddings, segments: Sequence[Segment]) -> list[np.ndarray]:
    """Indices of the examples that lie inside each segment.

    An example belongs to a segment when its first frame is at or after the segment's start and
    its last frame before the segment's end. A segment that holds no example (shorter than the
    sampling period, or than a clip) gets the example overlapping it most, else the nearest one;
    it gets none only when the video gave no example at all.
    """
    times, ends = samples.times, samples.ends
    out = []
    for seg in segments:
        lo = int(np.searchsorted(times, seg.start - EPS))
        hi = int(np.searchsorted(times, seg.end - EPS))
        inside = np.arange(lo, hi)
        inside = inside[ends[inside] < seg.end - EPS]
        if len(inside) == 0 and len(times):
            overlap = np.minimum(ends, seg.end) - np.maximum(times, seg.start)
            if len(times) and overlap.max() > 0:
                inside = np.array([int(np.argmax(overlap))])
            else:
                mid = (seg.start + seg.end) / 2
                inside = np.array([int(np.argmin(np.abs((times + ends) / 2 - mid)))])
        out.append(inside.astype(np.int64))
    return out


def pool_segments(samples: SampleEmbeddings, segments: Sequence[Segment]) -> np.ndarray:
    """Pool the examples of each segment: mean and max of their vectors, concatenated.

    Arguments:
        samples: the collector's result.
        segments: the candidates.

    Returns:
        (len(segments), 2 * dim) float32; zeros for a segment when the video gave no example.

    Example:
        >>> s = SampleEmbeddings("x", np.array([0.0, 1.0]), np.array([0.0, 1.0]),
        ...                      np.array([[1.0, 0.0], [3.0, 2.0]], dtype=np.float32))
        >>> pool_segments(s, [Segment(0.0, 2.0, 0, 48, 0)]).tolist()
        [[2.0, 1.0, 3.0, 2.0]]
    """
    dim = samples.dim
    out = np.zeros((len(segments), len(POOLING) * dim), dtype=np.float32)
    for i, members in enumerate(segment_members(samples, segments)):
        if len(members):
            rows = samples.vectors[members]
            out[i, :dim] = rows.mean(axis=0)
            out[i, dim:] = rows.max(axis=0)
    return out


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
