"""The Robust Deep RankNet: an MLP scoring segments, its pair losses, and its model files.

The network is the paper's (Gygli et al., CVPR 2016): input → 512 ReLU → 128 ReLU → 1 linear
score, with dropout on the input and after the first hidden layer. It is trained on pairs of
segments of the same video, one from a GIF (s⁺) and one not (s⁻), to score s⁺ above s⁻ by a margin
of 1 (see :mod:`video2gif.train`). This module holds what a trained model needs at run time:

- :class:`RankNetMLP`, the network;
- :func:`margin_violation` and :func:`pair_loss`, the four losses (l1, l2, Huber, adaptive Huber),
  and :func:`normalise_popularity`, the popularity that makes the Huber loss adaptive;
- :class:`FeatureLayout`, which columns a model reads from
  :class:`~video2gif.features.SegmentFeatures`;
- :class:`RankNetModel` (an ensemble of networks plus its input standardisation and metadata),
  :func:`save_model` / :func:`read_model` (an ``.npz`` of arrays plus a JSON header, read with
  ``allow_pickle=False``, so opening a model file never runs code);
- :class:`RankNetScorer`, the :class:`~video2gif.rank.Scorer` of a model, and
  :func:`load_context_model`, the context model shipped inside the package.

Example:
    >>> scorer = load_context_model()
    >>> scorer.model.layout.context
    ('position', 'duration')
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .context import (
    TAG_DIM,
    YOUTUBE_CATEGORIES,
    VideoContext,
    check_blocks,
    context_features,
    context_names,
)
from .errors import ModelError, UsageError
from .features import SegmentFeatures
from .rank import Scorer

# --- architecture (the paper's) ---
HIDDEN = (512, 128)  # units of the hidden layers
INPUT_DROPOUT = 0.8  # probability of dropping each input feature while training
HIDDEN_DROPOUT = 0.25  # probability of dropping each unit of the first hidden layer

# --- losses (the paper's robust ranking loss and its variants) ---
MARGIN = 1.0  # h(s⁺) must exceed h(s⁻) by this much for a pair to cost nothing
HUBER_DELTA = 1.5  # δ: the Huber loss is quadratic up to δ, linear beyond
WEIGHT_DECAY = 0.001  # λ of the objective's λ‖W‖² (weight matrices, not biases)
LOSSES = ("l1", "l2", "huber", "adaptive-huber")

# --- model files ---
MODEL_FORMAT = "video2gif-ranknet"  # the "format" field of every model file's header
FORMAT_VERSION = 1  # bumped when a reader of the previous version could misread a new file
CONTEXT_MODEL_FILE = "context_phd.npz"  # shipped in video2gif/models/
# SHA-256 of the shipped file; checked on every load so a damaged install fails loudly.
CONTEXT_MODEL_SHA256 = "e336a0681d64dc4479a9384b33d89e1f42c6ca8343434d5ce8f8a7b8b4e2e2bc"


# ------------------------------------------------------------------------------------------------
# The network


class RankNetMLP(nn.Module):
    """input → (dropout) → 512 ReLU → (dropout) → 128 ReLU → 1 linear score.

    Arguments:
        n_in: input features (after standardisation).
        hidden: units of each hidden layer.
        input_dropout: drop probability on the input while training.
        hidden_dropout: drop probability after the first hidden layer while training.

    Example:
        >>> net = RankNetMLP(8).eval()
        >>> net(torch.zeros(3, 8)).shape
        torch.Size([3])
    """

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int] = HIDDEN,
        input_dropout: float = INPUT_DROPOUT,
        hidden_dropout: float = HIDDEN_DROPOUT,
    ) -> None:
        super().__init__()
        sizes = [int(n_in), *map(int, hidden)]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = nn.Linear(sizes[-1], 1)
        self.input_dropout = float(input_dropout)
        self.hidden_dropout = float(hidden_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _dropout(x, self.input_dropout, self.training)
        for i, layer in enumerate(self.hidden):
            x = torch.relu(layer(x))
            if i == 0:
                x = _dropout(x, self.hidden_dropout, self.training)
        return self.out(x).squeeze(-1)

    def weight_matrices(self) -> list[nn.Parameter]:
        """The parameters the λ‖W‖² term covers (all weights, no biases)."""
        return [m.weight for m in (*self.hidden, self.out)]


def _dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout. Same law as ``F.dropout``; drawing the mask with ``rand`` is about twice
    as fast on the CPU as its Bernoulli sampler, and the input mask is most of a step's overhead."""
    if not training or p <= 0.0:
        return x
    keep = torch.rand_like(x) >= p
    return x * keep * (1.0 / (1.0 - p))


# ------------------------------------------------------------------------------------------------
# Losses


def margin_violation(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """u = max(0, 1 − h(s⁺) + h(s⁻)) for each pair.

    Example:
        >>> margin_violation(torch.tensor([2.0, 0.5]), torch.tensor([0.0, 0.0])).tolist()
        [0.0, 0.5]
    """
    return torch.clamp(MARGIN - pos_scores + neg_scores, min=0.0)


def pair_loss(
    u: torch.Tensor,
    loss: str,
    popularity: torch.Tensor | None = None,
    delta: float = HUBER_DELTA,
) -> torch.Tensor:
    """The loss of each pair from its margin violation ``u``.

    - ``l1``: u
    - ``l2``: u²
    - ``huber``: u²/2 for u ≤ δ, δ(u − δ/2) beyond (δ = 1.5)
    - ``adaptive-huber``: Huber with δ = 1.5 + p, p the pair's popularity in [0, 1]
      (:func:`normalise_popularity`): popular GIFs are trusted further into the quadratic zone,
      so a pair from an obscure GIF that the model strongly disagrees with pulls less.

    Arguments:
        u: margin violations (≥ 0), one per pair.
        loss: one of :data:`LOSSES`.
        popularity: p per pair, required by ``adaptive-huber``.
        delta: the base δ.

    Returns:
        One loss per pair (same shape as ``u``).

    Raises:
        UsageError: unknown loss, or adaptive-huber without popularity.

    Example:
        >>> u = torch.tensor([1.0, 3.0])
        >>> pair_loss(u, "huber").tolist()
        [0.5, 3.375]
    """
    if loss == "l1":
        return u
    if loss == "l2":
        return u * u
    if loss == "huber":
        d = torch.as_tensor(delta, dtype=u.dtype)
    elif loss == "adaptive-huber":
        if popularity is None:
            raise UsageError("--loss", "adaptive-huber needs the popularity of each pair")
        d = delta + popularity.to(u.dtype)
    else:
        raise UsageError("--loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return torch.where(u <= d, 0.5 * u * u, d * (u - 0.5 * d))


def check_loss(loss: str) -> str:
    """Return ``loss`` if it is one of :data:`LOSSES`, else raise :class:`UsageError`."""
    if loss not in LOSSES:
        raise UsageError("--loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return loss


def normalise_popularity(views: Sequence[float], age_days: Sequence[float]) -> np.ndarray:
    """Popularity p ∈ [0, 1] of each GIF, for the adaptive Huber loss.

    p = minmax(log(1 + views / max(age_days, 1))): views per day since the GIF was posted (an
    age under a day counts as one day, so a GIF posted an hour ago is not a million-views-a-day
    outlier), log-scaled because views are heavy-tailed, then min–max normalised over the given
    set (the training set). A GIF whose views or age is unknown (NaN or negative) gets p = 0, the
    plain Huber loss; if every known GIF has the same rate, all get 0.

    Arguments:
        views: view counts, one per GIF.
        age_days: days since each GIF was posted.

    Returns:
        float64 array of p, one per GIF.

    Example:
        >>> normalise_popularity([0, 99, 9999, 50], [10, 1, 0.5, float("nan")]).round(3).tolist()
        [0.0, 0.5, 1.0, 0.0]
    """
    views = np.asarray(views, dtype=np.float64)
    age = np.asarray(age_days, dtype=np.float64)
    known = np.isfinite(views) & np.isfinite(age) & (views >= 0) & (age >= 0)
    rate = np.zeros_like(views)
    rate[known] = np.log1p(views[known] / np.maximum(age[known], 1.0))
    out = np.zeros_like(views)
    if known.any():
        lo, hi = rate[known].min(), rate[known].max()
        if hi > lo:
            out[known] = (rate[known] - lo) / (hi - lo)
    return out


def weight_penalty(net: RankNetMLP, weight_decay: float = WEIGHT_DECAY) -> torch.Tensor:
    """λ‖W‖²: λ times the sum of squares of every weight matrix (biases are not penalised)."""
    return weight_decay * sum((w * w).sum() for w in net.weight_matrices())


# ------------------------------------------------------------------------------------------------
# Feature layout


@dataclass(frozen=True)
class FeatureLayout:
    """Which columns a model reads, in order: backbone embedding, then signals, then context.

    ``backbone`` names an entry of :attr:`SegmentFeatures.embeddings` (None: no visual
    embedding); ``signals`` names entries of :attr:`SegmentFeatures.signals`; ``context`` lists
    the :mod:`video2gif.context` blocks.
    """

    backbone: str | None = None  # embedding name, e.g. "efficientnet-lite0"
    backbone_version: str | None = None  # the backbone's version (architecture, preprocessing)
    backbone_weights: str = ""  # fingerprint of the backbone's weights ("" when unknown)
    backbone_dim: int = 0  # columns of the pooled embedding (mean + max: twice the backbone's)
    signals: tuple[str, ...] = ()  # signal names, in column order
    context: tuple[str, ...] = ()  # context blocks, in layout order
    categories: tuple[str, ...] = YOUTUBE_CATEGORIES  # vocabulary of the category block
    tag_dim: int = TAG_DIM  # columns of the tags block

    def __post_init__(self) -> None:
        object.__setattr__(self, "context", check_blocks(self.context))
        object.__setattr__(self, "signals", tuple(self.signals))
        object.__setattr__(self, "categories", tuple(self.categories))

    def names(self) -> list[str]:
        """One name per input column."""
        names = [f"{self.backbone}[{i}]" for i in range(self.backbone_dim)] if self.backbone else []
        names += [f"signal:{s}" for s in self.signals]
        return names + [
            f"context:{c}" for c in context_names(self.context, self.categories, self.tag_dim)
        ]

    @property
    def dim(self) -> int:
        """Number of input columns."""
        return len(self.names())

    def to_dict(self) -> dict:
        out = asdict(self)
        out["dim"] = self.dim
        return out

    @classmethod
    def from_dict(cls, d: dict) -> FeatureLayout:
        return cls(
            backbone=d.get("backbone"),
            backbone_version=d.get("backbone_version"),
            backbone_weights=str(d.get("backbone_weights") or ""),
            backbone_dim=int(d.get("backbone_dim", 0)),
            signals=tuple(d.get("signals", ())),
            context=tuple(d.get("context", ())),
            categories=tuple(d.get("categories", YOUTUBE_CATEGORIES)),
            tag_dim=int(d.get("tag_dim", TAG_DIM)),
        )

    def differences(self, other: FeatureLayout) -> list[str]:
        """What differs between this (the model's) layout and ``other`` (the data's), in words."""
        out = []
        if (self.backbone, self.backbone_dim) != (other.backbone, other.backbone_dim):
            out.append(
                f"backbone {_backbone_words(self.backbone, self.backbone_dim)} "
                f"vs {_backbone_words(other.backbone, other.backbone_dim)}"
            )
        elif self.backbone and self.backbone_version != other.backbone_version:
            out.append(
                f"backbone version {self.backbone_version} vs {other.backbone_version}"
            )
        elif self.backbone and self.backbone_weights != other.backbone_weights:
            out.append(
                f"backbone weights {self.backbone_weights} vs {other.backbone_weights}"
            )
        if self.signals != other.signals:
            out.append(f"signals [{', '.join(self.signals)}] vs [{', '.join(other.signals)}]")
        if self.context != other.context:
            out.append(f"context [{', '.join(self.context)}] vs [{', '.join(other.context)}]")
        elif (self.categories, self.tag_dim) != (other.categories, other.tag_dim):
            out.append("context vocabulary (categories or tag embedding size)")
        return out

    def assemble(self, features: SegmentFeatures, where: str = "model") -> np.ndarray:
        """The (n, dim) input matrix of ``features`` in this layout.

        A signal the video lacks (e.g. an audio signal of a silent video) becomes NaN, which the
        model reads as the training mean. Category and tags come from ``features.extra``
        (``"category"``, ``"tags"``) when the caller knows them.

        Arguments:
            features: one video's segment features.
            where: the model's name or path, for error messages.

        Returns:
            float32 (n, dim).

        Raises:
            ModelError: the backbone's embedding is missing or has the wrong width.
        """
        n = len(features)
        parts: list[np.ndarray] = []
        if self.backbone:
            emb = features.embeddings.get(self.backbone)
            if emb is None:
                have = ", ".join(sorted(features.embeddings)) or "none"
                raise ModelError(
                    where,
                    f"model was trained on {self.backbone} embeddings but the features have "
                    f"{have}; compute features with --backbone {self.backbone}",
                )
            emb = np.asarray(emb, dtype=np.float32).reshape(n, -1)
            if emb.shape[1] != self.backbone_dim:
                raise ModelError(
                    where,
                    f"model expects {self.backbone_dim}-d {self.backbone} embeddings, "
                    f"the features have {emb.shape[1]}-d (a different pooling or version)",
                )
            parts.append(emb)
        for name in self.signals:
            values = features.signals.get(name)
            col = np.full(n, np.nan) if values is None else np.asarray(values, np.float64)
            parts.append(col.reshape(n, 1).astype(np.float32))
        if self.context:
            bounds = np.array([[s.start, s.end] for s in features.segments], np.float64)
            video = VideoContext(
                duration=float(features.info.duration),
                category=features.extra.get("category"),  # type: ignore[arg-type]
                tags=tuple(features.extra.get("tags", ()) or ()),  # type: ignore[arg-type]
            )
            parts.append(
                context_features(bounds, video, self.context, self.categories, self.tag_dim)
            )
        if not parts:
            return np.zeros((n, 0), dtype=np.float32)
        return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


def _backbone_words(name: str | None, dim: int) -> str:
    return f"{name} ({dim}-d)" if name else "none"


# ------------------------------------------------------------------------------------------------
# Trained models


@dataclass
class RankNetModel:
    """A trained ensemble: N networks whose scores are averaged, plus everything to use them.

    ``mean``/``std`` standardise the raw input columns (z = (x − mean) / std; NaN → 0, the
    training mean). ``members`` are the networks' parameters by name. ``meta`` is the JSON header
    of the model file (loss, training data fingerprint, metrics at the best epoch, ...).
    """

    layout: FeatureLayout
    mean: np.ndarray  # (dim,) float32
    std: np.ndarray  # (dim,) float32, > 0
    members: list[dict[str, np.ndarray]]
    hidden: tuple[int, ...] = HIDDEN
    input_dropout: float = INPUT_DROPOUT
    hidden_dropout: float = HIDDEN_DROPOUT
    meta: dict = field(default_factory=dict)
    _nets: list[RankNetMLP] | None = field(default=None, repr=False, compare=False)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        """(x − mean) / std with NaN → 0, as float32."""
        z = (np.asarray(x, dtype=np.float32) - self.mean) / self.std
        return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32, copy=False)

    def networks(self) -> list[RankNetMLP]:
        """The members as evaluation-mode torch networks (built once)."""
        if self._nets is None:
            nets = []
            for state in self.members:
                net = RankNetMLP(self.layout.dim, self.hidden, self.input_dropout,
                                 self.hidden_dropout)
                net.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
                nets.append(net.eval())
            self._nets = nets
        return self._nets

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Average score of the members for each row of raw (unstandardised) inputs ``x``.

        Arguments:
            x: (n, dim) raw feature rows in :attr:`layout` order.

        Returns:
            (n,) float64 scores.

        Raises:
            ModelError: ``x`` has the wrong number of columns.
        """
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.layout.dim:
            raise ModelError("model", f"expects {self.layout.dim} input columns, got {x.shape}")
        z = torch.from_numpy(self.standardise(x))
        with torch.inference_mode():
            total = sum(net(z).double() for net in self.networks())
        return (total / len(self.members)).numpy()


def _member_keys(n_hidden: int) -> list[str]:
    keys = []
    for i in range(n_hidden):
        keys += [f"hidden.{i}.weight", f"hidden.{i}.bias"]
    return keys + ["out.weight", "out.bias"]


def _member_shapes(dim: int, hidden: Sequence[int]) -> dict[str, tuple[int, ...]]:
    sizes = [dim, *hidden]
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        shapes[f"hidden.{i}.weight"] = (b, a)
        shapes[f"hidden.{i}.bias"] = (b,)
    shapes["out.weight"] = (1, sizes[-1])
    shapes["out.bias"] = (1,)
    return shapes


def save_model(model: RankNetModel, path: str | os.PathLike) -> Path:
    """Write ``model`` as one ``.npz`` file: arrays plus a JSON header, no pickled objects.

    The header (array ``meta``, UTF-8 JSON) holds the format version, the architecture, the
    feature layout and whatever :attr:`RankNetModel.meta` carries. Arrays: ``mean``, ``std`` and
    ``member{k}.{parameter}`` for each network. The file is written under a temporary name and
    renamed, so a failed save leaves nothing behind.

    Arguments:
        model: the trained model.
        path: where to write (any suffix; ``.npz`` is conventional).

    Returns:
        The path written.

    Raises:
        ModelError: the file could not be written.

    Example:
        >>> save_model(model, "ranknet.npz")  # doctest: +SKIP
    """
    path = Path(path)
    header = {
        "format": MODEL_FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": {
            "hidden": list(model.hidden),
            "input_dropout": model.input_dropout,
            "hidden_dropout": model.hidden_dropout,
            "members": len(model.members),
        },
        "layout": model.layout.to_dict(),
        **{k: v for k, v in model.meta.items() if k not in ("format", "format_version")},
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(header, sort_keys=True).encode(), dtype=np.uint8),
        "mean": np.asarray(model.mean, dtype=np.float32),
        "std": np.asarray(model.std, dtype=np.float32),
    }
    for k, state in enumerate(model.members):
        for name, value in state.items():
            arrays[f"member{k}.{name}"] = np.asarray(value, dtype=np.float32)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            _write_npz(f, arrays)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ModelError(path, f"cannot write model file ({e.strerror or e})") from None
    return path


def _write_npz(f, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed entry order and timestamps: the same model always
    gives the same bytes, so a shipped file's SHA-256 is reproducible."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]),
                                      allow_pickle=False)
            z.writestr(info, buffer.getvalue())


def read_model(path: str | os.PathLike, expected_sha256: str | None = None) -> RankNetModel:
    """Read a model file written by :func:`save_model`, strictly.

    Only arrays of plain numbers are read (``allow_pickle=False``): a model file cannot run code.
    Every expected array must be present with its exact shape, and nothing else may be there.

    Arguments:
        path: the model file.
        expected_sha256: when given, the file's SHA-256 must match (shipped models).

    Returns:
        The model.

    Raises:
        ModelError: missing, unreadable, corrupted, of another format or version, or with
            missing, unexpected or mis-shaped arrays (each named).

    Example:
        >>> model = read_model("ranknet.npz")  # doctest: +SKIP
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(path, f"cannot read model file ({e.strerror or e})") from None
    if expected_sha256 and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise ModelError(path, "checksum mismatch: the model file is damaged or was replaced")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as e:
        raise ModelError(path, f"not a video2gif model file ({type(e).__name__}: {e})") from None
    if "meta" not in arrays:
        raise ModelError(path, "not a video2gif model file (no metadata header)")
    try:
        header = json.loads(arrays.pop("meta").tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(path, "not a video2gif model file (unreadable metadata header)") from None
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise ModelError(path, "not a video2gif RankNet model file")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            path, f"model file format version {version}; this video2gif reads {FORMAT_VERSION}"
        )
    try:
        arch = header["architecture"]
        layout = FeatureLayout.from_dict(header["layout"])
        hidden = tuple(int(h) for h in arch["hidden"])
        n_members = int(arch["members"])
    except (KeyError, TypeError, ValueError, UsageError) as e:
        raise ModelError(path, f"malformed metadata header ({e})") from None
    if header["layout"].get("dim", layout.dim) != layout.dim:
        raise ModelError(path, "metadata header's feature layout does not add up")
    expected = {"mean": (layout.dim,), "std": (layout.dim,)}
    shapes = _member_shapes(layout.dim, hidden)
    for k in range(n_members):
        expected.update({f"member{k}.{name}": shape for name, shape in shapes.items()})
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        what = []
        if missing:
            what.append(f"missing arrays {', '.join(missing[:5])}")
        if unexpected:
            what.append(f"unexpected arrays {', '.join(unexpected[:5])}")
        raise ModelError(path, "; ".join(what))
    for name, shape in expected.items():
        if arrays[name].shape != shape or arrays[name].dtype.kind != "f":
            raise ModelError(
                path, f"array {name} has shape {arrays[name].shape}, expected {shape}"
            )
    std = arrays["std"].astype(np.float32)
    if not np.all(np.isfinite(std)) or np.any(std <= 0):
        raise ModelError(path, "array std must be finite and positive")
    members = [
        {name: arrays[f"member{k}.{name}"].astype(np.float32) for name in _member_keys(len(hidden))}
        for k in range(n_members)
    ]
    meta = {k: v for k, v in header.items() if k not in ("architecture", "layout")}
    return RankNetModel(
        layout=layout,
        mean=arrays["mean"].astype(np.float32),
        std=std,
        members=members,
        hidden=hidden,
        input_dropout=float(arch.get("input_dropout", INPUT_DROPOUT)),
        hidden_dropout=float(arch.get("hidden_dropout", HIDDEN_DROPOUT)),
        meta=meta,
    )


# ------------------------------------------------------------------------------------------------
# The scorer


class RankNetScorer(Scorer):
    """Scores segments with a trained :class:`RankNetModel`.

    A model with a backbone reads its pooled embeddings from ``features.embeddings`` (the
    pipeline's feature extractor computes them: run it with the same ``--backbone``). When
    ``features.extra["backbone_ids"]`` names the backbone that made them (``name →
    Backbone.cache_id``), its version and weights are checked against the model's too.

    Arguments:
        model: the trained model.
        source: where it came from (a path or registry name), for messages and the report.

    Example:
        >>> scorer = RankNetScorer(read_model("ranknet.npz"), "ranknet.npz")  # doctest: +SKIP
        >>> scores = scorer.score(features)  # doctest: +SKIP
    """

    name = "ranknet"

    def __init__(self, model: RankNetModel, source: str = "ranknet") -> None:
        self.model = model
        self.source = str(source)

    def inputs(self, features: SegmentFeatures) -> np.ndarray:
        """The raw input matrix of ``features`` (see :meth:`FeatureLayout.assemble`).

        Raises:
            ModelError: the features come from another backbone, version or feature layout.
        """
        layout = self.model.layout
        if layout.backbone:
            made_by = (features.extra.get("backbone_ids") or {}).get(layout.backbone)
            if made_by is not None:
                want = backbone_id(layout)
                if want is not None and str(made_by) != want:
                    raise ModelError(
                        self.source,
                        f"model was trained on {want} features, these come from {made_by}",
                    )
        return layout.assemble(features, self.source)

    def score(self, features: SegmentFeatures) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        return self.model.predict(self.inputs(features))

    def describe(self) -> dict:
        meta = self.model.meta
        layout = self.model.layout
        return {
            "name": self.name,
            "source": self.source,
            "backbone": layout.backbone,
            "signals": list(layout.signals),
            "context": list(layout.context),
            "loss": meta.get("loss"),
            "ensemble": len(self.model.members),
            "trained_on": meta.get("training", {}).get("description"),
            "metrics": meta.get("metrics", {}).get("validation"),
        }


def load_model_file(path: str | os.PathLike, **_options) -> RankNetScorer:
    """Load a RankNet model file as a scorer (what :func:`video2gif.rank.load_model` calls).

    Arguments:
        path: the model file.

    Returns:
        A :class:`RankNetScorer`.

    Raises:
        ModelError: the file is not a usable model (see :func:`read_model`), or it needs a
            backbone this installation does not have.
    """
    model = read_model(path)
    if model.layout.backbone:
        from .features.backbones import BACKBONES

        if model.layout.backbone not in BACKBONES:
            raise ModelError(
                path,
                f"model was trained on backbone {model.layout.backbone}, which this installation "
                f"lacks (it has {', '.join(sorted(BACKBONES))})",
            )
    return RankNetScorer(model, str(path))


def check_backbone(layout: FeatureLayout, backbone, where: str) -> None:
    """Refuse a backbone whose name, version, weights or width differ from the model's.

    Arguments:
        layout: the model's feature layout.
        backbone: a :class:`~video2gif.features.backbones.Backbone`.
        where: the model's name or path, for the message.

    Raises:
        ModelError: naming what differs.
    """
    from .features.backbones import POOLING

    differs = []
    if backbone.name != layout.backbone:
        differs.append(f"backbone {layout.backbone} vs {backbone.name}")
    if layout.backbone_version is not None and str(backbone.version) != layout.backbone_version:
        differs.append(f"{backbone.name} version {layout.backbone_version} vs {backbone.version}")
    weights = backbone.weights_id
    if layout.backbone_weights and weights and weights != layout.backbone_weights:
        differs.append(f"{backbone.name} weights {layout.backbone_weights} vs {weights}")
    if len(POOLING) * backbone.dim != layout.backbone_dim:
        differs.append(
            f"embedding width {layout.backbone_dim} vs {len(POOLING) * backbone.dim} "
            f"({'+'.join(POOLING)} pooling of {backbone.dim}-d)"
        )
    if differs:
        raise ModelError(where, "model does not fit this backbone: " + "; ".join(differs)
                         + " (model vs installed)")


def backbone_id(layout: FeatureLayout) -> str | None:
    """The ``Backbone.cache_id`` (name/version/weights) a layout was trained with, if recorded."""
    if not layout.backbone or layout.backbone_version is None:
        return None
    return f"{layout.backbone}/{layout.backbone_version}/{layout.backbone_weights}"


def layout_for_backbone(
    backbone, signals: Sequence[str] = (), context: Sequence[str] = ()
) -> FeatureLayout:
    """The feature layout of a model trained on ``backbone``'s pooled embeddings (None: no
    backbone), the named signals and the context blocks.

    Example:
        >>> layout_for_backbone(None, ["sharpness"], ["position"]).dim
        3
    """
    if backbone is None:
        return FeatureLayout(signals=tuple(signals), context=tuple(context))
    from .features.backbones import POOLING

    return FeatureLayout(
        backbone=backbone.name,
        backbone_version=str(backbone.version),
        backbone_weights=str(backbone.weights_id or ""),
        backbone_dim=len(POOLING) * int(backbone.dim),
        signals=tuple(signals),
        context=tuple(context),
    )


def context_model_path() -> Path:
    """Path of the context model shipped inside the package."""
    return Path(str(resources.files("video2gif") / "models" / CONTEXT_MODEL_FILE))


def load_context_model() -> RankNetScorer:
    """The shipped context-only RankNet (position and duration blocks, no pixels).

    It was trained on the PHD-GIFs selections (which parts of YouTube videos people cut GIFs
    from), so it knows where in a video and how long GIF-worthy moments tend to be; it has never
    seen a frame. Combine it with a visual scorer (see :func:`zscore`).

    Returns:
        A :class:`RankNetScorer`.

    Raises:
        ModelError: the shipped file is missing or damaged.
    """
    path = context_model_path()
    if not path.exists():
        raise ModelError(path, "the shipped context model is missing; reinstall video2gif")
    return RankNetScorer(read_model(path, CONTEXT_MODEL_SHA256 or None), "context")


def zscore(scores: np.ndarray) -> np.ndarray:
    """Scores standardised within one video (mean 0, sd 1; all 0 when they are constant).

    RankNet scores are only meaningful relative to the other segments of the same video (the
    model is trained on within-video pairs), so combine scorers on this scale.

    Example:
        >>> zscore(np.array([1.0, 2.0, 3.0])).round(3).tolist()
        [-1.225, 0.0, 1.225]
    """
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    out = np.full_like(scores, np.nan)
    if not finite.any():
        return out
    mu = scores[finite].mean()
    sd = scores[finite].std()
    out[finite] = (scores[finite] - mu) / sd if sd > 1e-12 else 0.0
    return out


CONTEXT_WEIGHT = 0.5  # suggested weight of the context model's z-scores beside a visual scorer's


class BlendedScorer(Scorer):
    """A weighted sum of scorers' within-video z-scores (see :func:`zscore`).

    Scorers' raw scales differ (a prior's weighted sum, a RankNet's margin units), so each is
    standardised within the video first. A segment one scorer cannot judge (NaN) takes that
    scorer's mean, 0, so the others still rank it.

    Arguments:
        parts: ``(scorer, weight)`` pairs.
        name: the blend's name in reports.

    Example:
        >>> from video2gif.rank import PriorScorer
        >>> blend = BlendedScorer([(PriorScorer(), 1.0), (load_context_model(), CONTEXT_WEIGHT)])
        >>> [d["name"] for d in blend.describe()["parts"]]
        ['prior', 'ranknet']
    """

    def __init__(self, parts: Sequence[tuple[Scorer, float]], name: str = "blend") -> None:
        if not parts:
            raise UsageError("parts", "a blend needs at least one scorer")
        self.parts = [(scorer, float(weight)) for scorer, weight in parts]
        self.name = name

    def consumers(self) -> list:
        return [c for scorer, _ in self.parts for c in scorer.consumers()]

    def score(self, features: SegmentFeatures) -> np.ndarray:
        total = np.zeros(len(features), dtype=np.float64)
        for scorer, weight in self.parts:
            z = zscore(np.asarray(scorer.score(features), dtype=np.float64))
            total += weight * np.nan_to_num(z, nan=0.0)
        return total

    def describe(self) -> dict:
        return {
            "name": self.name,
            "combination": "sum of weight × within-video z-score",
            "parts": [{**scorer.describe(), "weight": weight} for scorer, weight in self.parts],
        }


__all__ = [
    "CONTEXT_WEIGHT",
    "BlendedScorer",
    "HIDDEN",
    "INPUT_DROPOUT",
    "HIDDEN_DROPOUT",
    "HUBER_DELTA",
    "WEIGHT_DECAY",
    "LOSSES",
    "MODEL_FORMAT",
    "FORMAT_VERSION",
    "RankNetMLP",
    "margin_violation",
    "pair_loss",
    "check_loss",
    "normalise_popularity",
    "weight_penalty",
    "FeatureLayout",
    "RankNetModel",
    "save_model",
    "read_model",
    "RankNetScorer",
    "load_model_file",
    "check_backbone",
    "backbone_id",
    "layout_for_backbone",
    "load_context_model",
    "context_model_path",
    "zscore",
]
