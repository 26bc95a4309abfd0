"""The original Video2GIF model (Gygli et al., CVPR 2016) as released: C3D fc6 → 512 ReLU → 128
ReLU → 1 linear score.

``video2gif make --model video2gif-original --weights-dir DIR`` scores with it. DIR holds the
three released files: ``c3d_model.pkl`` and ``snipplet_mean.npy`` (see
:mod:`video2gif.features.c3d`) and ``video2gif_weights.npz``, whose key ``arr_0`` holds six arrays:
W and b of the two hidden layers and of the score layer, dense W as (in, out).

Scoring follows the release: windows of 16 consecutive frames at the native frame rate, one every
8 frames; each window is scored on itself and on its horizontal mirror and the two averaged; a
segment's score is the mean over its windows. Frames are resized and windows cut exactly as the
release did (:mod:`video2gif.features.release_preprocess`): scikit-image's 2016 bilinear resize of
the full decoded frame, windows from each segment's own first frame to its end frame included.
A segment shorter than 16 frames gets no score (NaN, shown as ``null`` in segments.json; the
model description counts them).

The scorer itself is :class:`video2gif.scorers.original.OriginalScorer`; this module holds the
released network (C3D, then the scoring head) as a :class:`WindowScores` "backbone".

Example:
    >>> head = build_head()  # doctest: +SKIP
    >>> head.load_state_dict(load_head_weights("video2gif_weights.npz"))  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ModelError
from .backbones import Backbone, FrameSpec
from .c3d import (
    CLIP_STRIDE,
    INTERPOLATION,
    RESIZE_HEIGHT,
    RESIZE_WIDTH,
    C3DModel,
    read_npz_arrays,
)

MODEL_NAME = "video2gif-original"
HEAD_UNITS = (512, 128, 1)  # h1, h2, score
HEAD_LAYERS = ("h1", "h2", "score")
HEAD_KEY = "arr_0"  # the npz key holding the six arrays


def load_head_weights(path: str | os.PathLike, inputs: int = 4096) -> dict:
    """Read ``video2gif_weights.npz`` into a state dict for :func:`build_head`.

    Arguments:
        path: the released archive; ``arr_0`` holds [W1, b1, W2, b2, W3, b3] with dense W as
            (in, out). Six separate keys ``arr_0`` … ``arr_5`` are accepted too.
        inputs: width of the features fed to the head (C3D fc6: 4096).

    Returns:
        ``{"h1.weight": tensor (512, inputs), …, "score.bias": tensor (1,)}``.

    Raises:
        ModelError: missing file, missing key, wrong number of arrays or a wrong shape.
    """
    import torch

    arrays = read_npz_arrays(path)
    if HEAD_KEY not in arrays:
        found = ", ".join(sorted(arrays)) or "none"
        raise ModelError(path, f"no key {HEAD_KEY!r} (keys: {found})")
    first = arrays[HEAD_KEY]
    if first.dtype == object:
        params = list(first.ravel())
    elif all(f"arr_{i}" in arrays for i in range(6)):
        params = [arrays[f"arr_{i}"] for i in range(6)]
    else:
        raise ModelError(path, f"{HEAD_KEY!r} must hold the six head arrays, found one "
                         f"{first.dtype} array of shape {first.shape}")
    if len(params) != 2 * len(HEAD_LAYERS):
        raise ModelError(path, f"{HEAD_KEY!r} holds {len(params)} arrays; expected 6 (W, b of "
                         f"{', '.join(HEAD_LAYERS)})")
    state = {}
    cin = inputs
    for i, (layer, cout) in enumerate(zip(HEAD_LAYERS, HEAD_UNITS)):
        w, b = (np.asarray(a) for a in params[2 * i : 2 * i + 2])
        if w.shape != (cin, cout) or b.shape != (cout,):
            raise ModelError(path, f"{layer}: W {w.shape}, b {b.shape}; expected W "
                             f"{(cin, cout)}, b {(cout,)} (dense W is (in, out))")
        state[f"{layer}.weight"] = torch.from_numpy(np.ascontiguousarray(w.T, dtype=np.float32))
        state[f"{layer}.bias"] = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32))
        cin = cout
    return state


def build_head(inputs: int = 4096):
    """The Video2GIF scoring head: inputs → 512 ReLU → 128 ReLU → 1 linear."""
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.h1 = nn.Linear(inputs, HEAD_UNITS[0])
            self.h2 = nn.Linear(HEAD_UNITS[0], HEAD_UNITS[1])
            self.score = nn.Linear(HEAD_UNITS[1], HEAD_UNITS[2])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.relu(self.h1(x))
            x = torch.relu(self.h2(x))
            return self.score(x)[:, 0]

    return Head().eval()


class WindowScores(Backbone):
    """The full released model as a one-dimensional "backbone": a clip in, its score out
    (the mean of the clip's and its mirror's), so a window collector can batch it. Clips are
    (n, 16, 128, 171, 3) RGB, uint8 or float (the release's resize keeps fractions)."""

    name = MODEL_NAME
    version = "2"  # 2: the release's resize from full frames (1: FFmpeg's bilinear scaler)
    dim = 1
    batch_size = 2

    def __init__(self, c3d: C3DModel, head, head_id: str) -> None:
        self.c3d = c3d
        self.head = head
        self.spec = FrameSpec(fps=None, width=RESIZE_WIDTH, height=RESIZE_HEIGHT,
                              clip=c3d.network.config.frames, stride=CLIP_STRIDE,
                              interpolation=INTERPOLATION)
        self.weights_id = f"{c3d.weights_id}+{head_id}"

    def encode(self, batch: np.ndarray) -> np.ndarray:
        import torch

        fc6 = self.c3d.fc6_with_mirror(batch)  # (2, n, 4096)
        with torch.inference_mode():
            scores = self.head(fc6.reshape(-1, fc6.shape[-1])).view(2, -1).mean(dim=0)
        return scores.numpy().astype(np.float32)[:, None]
