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
    n, m, _ = labs.shape
    for i in range(n):
        lo, hi = max(0, i - radius), min(n, i + radius + 1)
        for p in range(m):
            l0, a0, b0 = labs[i, p, 0], labs[i, p, 1], labs[i, p, 2]
            sl, sa, sb, sw = l0, a0, b0, np.float32(1.0)
            for j in range(lo, hi):
                if j == i:
                    continue
                dl, da, db = labs[j, p, 0] - l0, labs[j, p, 1] - a0, labs[j, p, 2] - b0
                wj = np.float32(1.0) - (dl * dl + da * da + db * db) * inv_t2
                if wj > 0:
                    sl += wj * labs[j, p, 0]
                    sa += wj * labs[j, p, 1]
                    sb += wj * labs[j, p, 2]
                    sw += wj
            out[i, p, 0] = sl / sw
            out[i, p, 1] = sa / sw
            out[i, p, 2] = sb / sw
