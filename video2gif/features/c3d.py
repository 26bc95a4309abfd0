"""C3D exactly as the 2016 Video2GIF release used it, and importers for the released files.

The network (Tran et al. 2015, Sports-1M) takes a 3×16×112×112 clip: conv1a 64, pool1 (1,2,2);
conv2a 128, pool2 (2,2,2); conv3a/3b 256, pool3; conv4a/4b 512, pool4; conv5a/5b 512; a zero pad
of one on the right and bottom of height and width only, pool5 (2,2,2); fc6 4096 with ReLU. All
convolutions are 3×3×3 with padding 1 and ReLU, computed as cross-correlation (PyTorch's
convention, as the release's cuDNN layers).

Preprocessing as released: each RGB frame resized to 128×171 keeping the 0-255 range, converted
to BGR, the mean snippet subtracted, centre crop rows 8:120 and columns 29:141. Windows are 16
consecutive frames at the native frame rate, one every 8 frames; each is encoded with its
horizontal mirror. The original model resizes and cuts windows exactly as the release did
(:mod:`video2gif.features.release_preprocess`: scikit-image's 2016 point-sampled bilinear resize
of the full frame, windows per segment). The C3D backbone (``--backbone c3d``) takes its frames
from the shared decode pass, scaled by FFmpeg's bilinear filter, which averages over the shrunk
footprint and so is blurrier than the release's resize, on one grid of windows.

The weights are files the user gives (``--weights-dir`` or a config entry), never downloaded:

- ``c3d_model.pkl``: a Python-2 pickle of a list of numpy arrays, (W, b) per layer in Lasagne
  order: 8 convolutions, fc6, fc7, fc8 (only up to fc6 is used). Conv W is (out, in, 3, 3, 3);
  dense W is (in, out) and is transposed for PyTorch.
- ``snipplet_mean.npy``: the mean snippet, 3×16×128×171, BGR.
- ``video2gif_weights.npz`` (read by :mod:`video2gif.features.original`).

Pickles are read by an unpickler that only builds numpy arrays, so a malicious file cannot run
code. Every shape is checked; a wrong or missing file is a :class:`~video2gif.errors.ModelError`
naming the file and what is wrong.

Example:
    >>> backbone = C3DBackbone.from_dir("~/video2gif-weights")  # doctest: +SKIP
    >>> backbone.encode(clips).shape  # clips: (n, 16, 128, 171, 3) uint8 RGB  # doctest: +SKIP
    (n, 4096)
"""

from __future__ import annotations

import codecs
import io
import math
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import sha256_file
from ..errors import ModelError
from .backbones import Backbone, FrameSpec, set_torch_threads

CLIP_FRAMES = 16  # frames per C3D window
CLIP_STRIDE = 8  # frames between the first frames of consecutive windows (50% overlap)
RESIZE_HEIGHT, RESIZE_WIDTH = 128, 171  # pixels, the release's frame size before cropping
CROP_ROWS = (8, 120)  # centre crop of the 128×171 frame …
CROP_COLS = (29, 141)  # … to CLIP_SIZE × CLIP_SIZE
CLIP_SIZE = 112  # pixels
INTERPOLATION = "BILINEAR"  # FFmpeg scaler of the C3D backbone's frames (not the release's)
FC6_UNITS = 4096
CONV_LAYERS = ("conv1a", "conv2a", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b")
CONV_WIDTHS = (64, 128, 256, 256, 512, 512, 512, 512)  # output channels, in CONV_LAYERS order
DENSE_LAYERS = ("fc6", "fc7", "fc8")
# Lasagne keeps (W, b) per layer in this order in c3d_model.pkl; only up to fc6 is loaded.
PICKLE_LAYERS = CONV_LAYERS + DENSE_LAYERS
USED_LAYERS = CONV_LAYERS + ("fc6",)
TRANSPOSED = frozenset(DENSE_LAYERS)  # Lasagne dense W is (in, out); torch Linear wants (out, in)
# Pools after these convolutions: (time, height, width) kernel = stride.
POOLS = {"conv1a": (1, 2, 2), "conv2a": (2, 2, 2), "conv3b": (2, 2, 2), "conv4b": (2, 2, 2)}

C3D_FILE = "c3d_model.pkl"
MEAN_FILE = "snipplet_mean.npy"
HEAD_FILE = "video2gif_weights.npz"
WEIGHTS_ENV = "VIDEO2GIF_WEIGHTS_DIR"  # where the released files are, if --weights-dir is absent
BATCH_SIZE = 2  # windows per forward pass (×2 with the mirrors); ~0.5 GB of activations


@dataclass(frozen=True)
class C3DConfig:
    """Layer sizes. The default is the released C3D; smaller ones exist for tests."""

    widths: tuple[int, ...] = CONV_WIDTHS  # output channels of conv1a … conv5b
    fc6: int = FC6_UNITS
    frames: int = CLIP_FRAMES
    size: int = CLIP_SIZE  # input height and width

    @property
    def fc6_inputs(self) -> int:
        """Flattened size of pool5's output: channels × time × height × width."""
        t, s = self.frames, self.size
        for pool in POOLS.values():
            t, s = t // pool[0], s // pool[1]
        t, s = t // 2, (s + 1) // 2  # pool5 after padding height and width by one
        return self.widths[-1] * t * s * s

    def shapes(self) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """Lasagne (W, b) shape of every used layer."""
        out = {}
        cin = 3
        for name, cout in zip(CONV_LAYERS, self.widths):
            out[name] = ((cout, cin, 3, 3, 3), (cout,))
            cin = cout
        out["fc6"] = ((self.fc6_inputs, self.fc6), (self.fc6,))
        return out


def build_c3d(config: C3DConfig | None = None):
    """The C3D network up to fc6 (with ReLU), randomly initialised; see :func:`load_c3d`."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    config = config or C3DConfig()

    class C3D(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            cin = 3
            for name, cout in zip(CONV_LAYERS, config.widths):
                setattr(self, name, nn.Conv3d(cin, cout, kernel_size=3, padding=1))
                cin = cout
            self.fc6 = nn.Linear(config.fc6_inputs, config.fc6)
            self.config = config

        def forward(self, clips: torch.Tensor) -> torch.Tensor:
            """(n, 3, frames, size, size) preprocessed BGR clips → (n, fc6) activations."""
            x = clips
            for name in CONV_LAYERS:
                x = F.relu(getattr(self, name)(x))
                if name in POOLS:
                    x = F.max_pool3d(x, POOLS[name], POOLS[name])
            # C3D pads only the right/bottom of height and width before pool5 (values are ≥ 0
            # after ReLU, so a zero pad never wins the max).
            x = F.pad(x, (0, 1, 0, 1))
            x = F.max_pool3d(x, 2, 2)
            return F.relu(self.fc6(x.flatten(1)))

    return C3D()


# -- reading the released files --------------------------------------------------------------


def _numpy_globals() -> dict[tuple[str, str], object]:
    """The only callables a weights pickle may reference: numpy's array and dtype rebuilders,
    under their Python-2 and NumPy-2 module names, and codecs.encode (protocol-2 bytes)."""
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float32(0).__reduce__()[0]
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
        allowed[(module, "scalar")] = scalar
    return allowed


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Builds numpy arrays, lists, tuples and dicts; refuses anything else."""

    _allowed = _numpy_globals()

    def find_class(self, module: str, name: str):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"references {module}.{name}; only numpy arrays are allowed") from None


def read_legacy_pickle(source: str | os.PathLike | io.BufferedIOBase, name: str | None = None
                       ) -> object:
    """Load a pickle (Python 2 or 3) that holds only numpy arrays and plain containers.

    Python-2 byte strings are read as latin-1, the way NumPy documents for Python-2 pickles.

    Raises:
        ModelError: not a pickle, truncated, or referencing anything but numpy arrays.
    """
    name = name or str(getattr(source, "name", source))
    try:
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as f:
                return _NumpyOnlyUnpickler(f, encoding="latin1").load()
        return _NumpyOnlyUnpickler(source, encoding="latin1").load()
    except FileNotFoundError:
        raise ModelError(name, "no such file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, ImportError, UnicodeDecodeError) as e:
        raise ModelError(name, f"not a readable weights pickle ({e or type(e).__name__})") from None


def load_c3d_weights(path: str | os.PathLike, config: C3DConfig | None = None) -> dict:
    """Read ``c3d_model.pkl`` into a PyTorch state dict for :func:`build_c3d` (up to fc6).

    Arguments:
        path: the released Lasagne pickle: a list of (W, b) arrays for conv1a … conv5b, fc6,
            fc7, fc8 (fc7 and fc8 may be absent; they are not used).
        config: layer sizes to expect (default: the released C3D).

    Returns:
        ``{"conv1a.weight": tensor, …, "fc6.bias": tensor}``.

    Raises:
        ModelError: the file is missing, not a list of arrays, has too few or too many arrays,
            or an array has the wrong shape (naming the layer).
    """
    import torch

    config = config or C3DConfig()
    arrays = read_legacy_pickle(path)
    if not isinstance(arrays, (list, tuple)) or not all(
            isinstance(a, np.ndarray) for a in arrays):
        raise ModelError(path, f"expected a list of numpy arrays, got {type(arrays).__name__}")
    counts = (2 * len(USED_LAYERS), 2 * len(PICKLE_LAYERS))
    if len(arrays) not in counts:
        raise ModelError(path, f"holds {len(arrays)} arrays; the C3D pickle has {counts[1]} "
                         f"((W, b) of {', '.join(PICKLE_LAYERS)})")
    state = {}
    for i, (layer, (w_shape, b_shape)) in enumerate(config.shapes().items()):
        w, b = arrays[2 * i], arrays[2 * i + 1]
        if tuple(w.shape) != w_shape or tuple(b.shape) != b_shape:
            raise ModelError(path, f"{layer}: W {tuple(w.shape)}, b {tuple(b.shape)}; expected "
                             f"W {w_shape}, b {b_shape}")
        w = w.T if layer in TRANSPOSED else w
        state[f"{layer}.weight"] = torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32))
        state[f"{layer}.bias"] = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32))
    return state


def load_snippet_mean(path: str | os.PathLike, config: C3DConfig | None = None) -> np.ndarray:
    """Read ``snipplet_mean.npy``: the BGR mean clip, (3, 16, 128, 171) float32.

    Raises:
        ModelError: missing, not an .npy array, or the wrong shape.
    """
    frames = (config or C3DConfig()).frames
    expected = (3, frames, RESIZE_HEIGHT, RESIZE_WIDTH)
    try:
        mean = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ModelError(path, "no such file") from None
    except (ValueError, OSError) as e:
        raise ModelError(path, f"not a numpy .npy array ({e})") from None
    if not isinstance(mean, np.ndarray):
        raise ModelError(path, "expected an .npy array, got an .npz archive")
    if mean.shape == (1, *expected):
        mean = mean[0]
    if mean.shape != expected or not np.issubdtype(mean.dtype, np.number):
        raise ModelError(path, f"mean snippet has shape {mean.shape} ({mean.dtype}); "
                         f"expected {expected} numbers")
    return np.ascontiguousarray(mean, dtype=np.float32)


def read_npz_arrays(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an .npz archive, object arrays included, without running pickled code.

    Raises:
        ModelError: missing, not a zip archive, or a member that is not a valid .npy array.
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ModelError(path, "no such file") from None
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelError(path, f"not an .npz archive ({e})") from None
    out = {}
    with archive:
        for member in archive.namelist():
            key = member.removesuffix(".npy")
            with archive.open(member) as f:
                out[key] = _read_npy(f, f"{path}[{key}]")
    return out


def _read_npy(f, name: str) -> np.ndarray:
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = header(f)
    except (ValueError, OSError) as e:
        raise ModelError(name, f"not an .npy array ({e})") from None
    if dtype.hasobject:  # e.g. np.savez of a list of differently shaped arrays
        array = read_legacy_pickle(f, name)
        if not isinstance(array, np.ndarray):
            raise ModelError(name, f"expected an array, got {type(array).__name__}")
        return array
    count = math.prod(shape)
    data = f.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ModelError(name, f"truncated: {len(data)} of {count * dtype.itemsize} bytes")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C").copy()


def file_id(path: str | os.PathLike) -> str:
    """Short SHA-256 of a weights file, to tell weights apart in reports and caches."""
    return sha256_file(path)[:16]


def weights_dir(path: str | os.PathLike | None) -> Path:
    """The folder holding the released files: ``path``, else $VIDEO2GIF_WEIGHTS_DIR, else the
    ``weights_dir`` entry of ``$XDG_CONFIG_HOME/video2gif/config.toml``.

    Raises:
        ModelError: none given, or not a folder.
    """
    if path is None:
        path = os.environ.get(WEIGHTS_ENV) or _config_entry("weights_dir")
    if not path:
        raise ModelError("--weights-dir", f"C3D and the original Video2GIF model need the released "
                         f"files ({C3D_FILE}, {MEAN_FILE}, {HEAD_FILE}); give their folder with "
                         f"--weights-dir DIR or ${WEIGHTS_ENV}")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ModelError(folder, "weights folder does not exist")
    return folder


def _config_entry(key: str) -> str | None:
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    config = base / "video2gif" / "config.toml"
    if not config.is_file():
        return None
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        return None
    try:
        value = tomllib.loads(config.read_text()).get(key)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ModelError(config, f"not valid TOML ({e})") from None
    return str(value) if value else None


def required_file(folder: Path, name: str) -> Path:
    """``folder/name``, or a ModelError naming the missing file."""
    path = folder / name
    if not path.is_file():
        raise ModelError(path, f"missing: the weights folder needs {name}")
    return path


def preprocess(clips: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The release's input: (n, 16, 128, 171, 3) RGB (uint8, or float from the release's
    resize) → (n, 3, 16, 112, 112) float32 BGR, mean snippet subtracted, centre-cropped."""
    clips = np.asarray(clips)
    if clips.ndim != 5 or clips.shape[2:] != (RESIZE_HEIGHT, RESIZE_WIDTH, 3):
        raise ValueError(f"expected (n, frames, {RESIZE_HEIGHT}, {RESIZE_WIDTH}, 3) clips, "
                         f"got {clips.shape}")
    bgr = clips[..., ::-1].transpose(0, 4, 1, 2, 3).astype(np.float32)  # n, c, t, h, w
    bgr -= mean
    return np.ascontiguousarray(bgr[..., CROP_ROWS[0]:CROP_ROWS[1], CROP_COLS[0]:CROP_COLS[1]])


class C3DModel:
    """C3D with its weights and mean snippet: clips in, fc6 activations (and mirrors) out."""

    def __init__(self, network, mean: np.ndarray, weights_id: str = "") -> None:
        import torch

        set_torch_threads()
        # Channels-last 3D memory order: about 20% less CPU per clip with oneDNN (measured).
        self.network = network.eval().to(memory_format=torch.channels_last_3d)
        self.mean = mean
        self.weights_id = weights_id

    @classmethod
    def from_files(cls, c3d_pkl: str | os.PathLike, mean_npy: str | os.PathLike,
                   config: C3DConfig | None = None) -> C3DModel:
        """Load ``c3d_model.pkl`` and ``snipplet_mean.npy``.

        Raises:
            ModelError: as :func:`load_c3d_weights` and :func:`load_snippet_mean`.
        """
        config = config or C3DConfig()
        network = build_c3d(config)
        network.load_state_dict(load_c3d_weights(c3d_pkl, config), strict=True)
        mean = load_snippet_mean(mean_npy, config)
        return cls(network, mean, f"{file_id(c3d_pkl)}+{file_id(mean_npy)}")

    def fc6_with_mirror(self, clips: np.ndarray):
        """fc6 of each clip and of its horizontal mirror: (2, n, fc6) torch tensor."""
        import torch

        x = torch.from_numpy(preprocess(clips, self.mean))
        with torch.inference_mode():
            both = torch.cat([x, x.flip(-1)]).contiguous(memory_format=torch.channels_last_3d)
            both = self.network(both)
        return both.view(2, len(clips), -1)


class C3DBackbone(Backbone):
    """C3D fc6 activations (4096-d) of 16-frame windows at the native frame rate, each the
    mean over the window and its mirror, as the release extracted features."""

    name = "c3d"
    version = "1"
    dim = FC6_UNITS
    batch_size = BATCH_SIZE

    def __init__(self, model: C3DModel) -> None:
        self.model = model
        self.dim = model.network.config.fc6
        self.spec = FrameSpec(fps=None, width=RESIZE_WIDTH, height=RESIZE_HEIGHT,
                              clip=model.network.config.frames, stride=CLIP_STRIDE,
                              interpolation=INTERPOLATION)
        self.weights_id = model.weights_id

    @classmethod
    def from_dir(cls, folder: str | os.PathLike | None) -> C3DBackbone:
        """Load ``c3d_model.pkl`` and ``snipplet_mean.npy`` from ``folder`` (see
        :func:`weights_dir`).

        Raises:
            ModelError: no folder given, or a file missing or malformed.
        """
        folder = weights_dir(folder)
        return cls(C3DModel.from_files(required_file(folder, C3D_FILE),
                                       required_file(folder, MEAN_FILE)))

    def encode(self, batch: np.ndarray) -> np.ndarray:
        return self.model.fc6_with_mirror(batch).mean(dim=0).numpy().astype(np.float32)


def load(**options) -> C3DBackbone:
    """Registry factory of ``--backbone c3d`` (option ``weights_dir``)."""
    return C3DBackbone.from_dir(options.get("weights_dir"))
