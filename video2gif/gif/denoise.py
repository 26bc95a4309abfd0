"""Temporal denoise before any palette or redraw decision (gifski's idea, our own code).

Grain and sensor noise make a still pixel flicker from frame to frame: each flicker is redrawn
(or held back only by the keep tolerance) and every redrawn patch of noise costs LZW bytes,
although no viewer wants the noise. Each pixel of frame ``i`` becomes a weighted mean of its
values in frames ``i - RADIUS`` to ``i + RADIUS``, each weighted by ``1 - d²/t²`` where ``d`` is
its Oklab distance from the pixel's value in frame ``i`` and ``t`` the threshold (0 beyond it).
Real motion moves a pixel further than ``t`` and is left alone; noise below ``t`` averages out.

The result is a convex combination of colours within ``t`` of the source, so every denoised
pixel lies within ``t`` (Oklab) of its source: the encoder's tolerance grows by exactly ``t``.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

RADIUS = 2  # frames each side: 5 in all, as gifski looks ahead


def temporal(labs: np.ndarray, threshold: float, radius: int = RADIUS) -> np.ndarray:
    """Denoised copy of the float32 N×H×W×3 Oklab frames ``labs`` (see the module notes)."""
    labs = np.ascontiguousarray(labs, np.float32)
    if threshold <= 0 or labs.shape[0] < 2:
        return labs.copy()
    out = np.empty_like(labs)
    n, h, w, _ = labs.shape
    _temporal(labs.reshape(n, h * w, 3), np.float32(1.0 / threshold**2), radius,
              out.reshape(n, h * w, 3))
    return out


@jit
def _temporal(labs, inv_t2, radius, out):
    # Weights are symmetric, so each pair of frames is visited once and adds to both; the
    # inner loop runs along pixels without a branch, which the compiler vectorises.
    n, m, _ = labs.shape
    wsum = np.ones((n, m), np.float32)
    out[:] = labs
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(n):
        for j in range(i + 1, min(n, i + radius + 1)):
            a, b, oa, ob, wa, wb = labs[i], labs[j], out[i], out[j], wsum[i], wsum[j]
            for p in range(m):
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
    for i in range(n):
        for p in range(m):
            inv = one / wsum[i, p]
            for c in range(3):
                out[i, p, c] *= inv
