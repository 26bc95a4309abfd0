"""Trained RankNet models and their files.

:class:`RankNetModel` is an ensemble of networks plus its input standardisation and metadata.
:func:`save_model` / :func:`read_model` write and read it as an ``.npz`` of arrays plus a JSON
header, read with ``allow_pickle=False``, so opening a model file never runs code. The context
model shipped inside the package is one such file (:func:`context_model_path`).

Example:
    >>> model = read_model(context_model_path(), CONTEXT_MODEL_SHA256)
    >>> model.layout.context
    ('position', 'duration')
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .._io import atomic_path
from ..errors import ModelError, UsageError
from .layout import FeatureLayout
from .network import HIDDEN, HIDDEN_DROPOUT, INPUT_DROPOUT, RankNetMLP

MODEL_FORMAT = "video2gif-ranknet"  # the "format" field of every model file's header
FORMAT_VERSION = 1  # bumped when a reader of the previous version could misread a new file
CONTEXT_MODEL_FILE = "context_phd.npz"  # shipped in video2gif/models/
# SHA-256 of the shipped file; checked on every load so a damaged install fails loudly.
CONTEXT_MODEL_SHA256 = "e336a0681d64dc4479a9384b33d89e1f42c6ca8343434d5ce8f8a7b8b4e2e2bc"



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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            _write_npz(f, arrays)
    except OSError as e:
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



def context_model_path() -> Path:
    """Path of the context model shipped inside the package."""
    return Path(str(resources.files("video2gif") / "models" / CONTEXT_MODEL_FILE))
