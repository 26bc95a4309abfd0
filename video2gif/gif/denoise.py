"""Temporal denoise before any palette or redraw decision (gifski's idea, our own code).

Grain and sensor noise make a still pixel flicker from frame to frame: each flicker is redrawn
(or held back only by the keep tolerance) and every redrawn patch of noise costs LZW bytes,
although no viewer wants the noise. Each pixel of frame ``i`` becomes a weighted mean of its
values in frames ``i - RADIUS`` to ``i + RADIUS``, each weighted by ``1 - d²/t²`` where ``d`` is
its Oklab distance from the pixel's value in frame ``i`` and ``t`` the threshold (0 beyond it).
Real motion moves a pixel further than ``t`` and is left alone; noise below ``t`` averages out.

The result is a convex combination of colours within ``t`` of the source, so every denoised
pixel lies within ``t`` (Oklab) of its source: the encoder's tolerance grows by exactly ``t``.

The encoder takes the frames as they come (:func:`streamed`): a frame is done once the frame
``RADIUS`` after it has been read, so at most ``2 * RADIUS + 1`` frames are held and encoding
keeps pace with decoding.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from ._jit import jit
from .colour import srgb_to_oklab

RADIUS = 2  # frames each side: 5 in all, as gifski looks ahead


def streamed(images: Iterable[np.ndarray], threshold: float, radius: int = RADIUS
             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(image, its denoised Oklab colours) for each H×W×3 uint8 sRGB image of ``images``, in
    order (``threshold`` > 0), holding only ``2 * radius + 1`` frames: frame ``i`` comes once
    frame ``i + radius`` is read."""
    # Frames in a sliding window: each pair of frames is weighted once, when the later one
    # arrives, and adds to both; a frame is done once the frame ``radius`` after it has come.
    inv_t2 = np.float32(1.0 / threshold**2)
    window: deque[tuple] = deque()  # (image, Oklab, weighted sum, total weight) of each frame
    for image in images:
        image = np.ascontiguousarray(image, np.uint8)
        flat = srgb_to_oklab(image).reshape(-1, 3)
        entry = (image, flat, flat.copy(), np.ones(flat.shape[0], np.float32))
        for earlier in window:
            _pair(earlier[1], flat, earlier[2], entry[2], earlier[3], entry[3], inv_t2)
        window.append(entry)
        if len(window) > radius:
            yield _done(*window.popleft())
    while window:
        yield _done(*window.popleft())


def _done(image, _lab, total, weight) -> tuple[np.ndarray, np.ndarray]:
    return image, _mean(total, weight).reshape(image.shape)


@jit
def _pair(a, b, oa, ob, wa, wb, inv_t2):
    # Weights are symmetric: each adds the other's colour to its own sum. The loop runs along
    # pixels without a branch, which the compiler vectorises.
    zero, one = np.float32(0.0), np.float32(1.0)
    for p in range(a.shape[0]):
        dl, da, db = b[p, 0] - a[p, 0], b[p, 1] - a[p, 1], b[p, 2] - a[p, 2]
        wj = max(zero, one - (dl * dl + da * da + db * db) * inv_t2)
        oa[p, 0] += wj * b[p, 0]
        oa[p, 1] += wj * b[p, 1]
        oa[p, 2] += wj * b[p, 2]
        ob[p, 0] += wj * a[p, 0]
        ob[p, 1] += wj * a[p, 1]
        ob[p, 2] += wj * a[p, 2]
        wa[p] += wj
        wb[p] += wj


@jit
def _mean(sums, weights):
    one = np.float32(1.0)
    for p in range(sums.shape[0]):
        inv = one / weights[p]
        for c in range(3):
            sums[p, c] *= inv
    return sums
