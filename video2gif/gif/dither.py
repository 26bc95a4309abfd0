"""Map a frame to palette indices, dithered, leaving pixels that need no redraw transparent.

Error diffusion runs in Oklab over the pixels being drawn only: a pixel kept from the previous
frame neither takes nor passes on error, so a still background keeps exactly the dots it had and
does not shimmer while something moves in front of it. Ordered dithering (an 8×8 Bayer matrix)
is still by construction and compresses better, but shows its cross-hatch.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from .quantize import nearest_sorted, sort_palette

# (rows below, columns right, weight) of each error-diffusion kernel, named as FFmpeg names them.
KERNELS = {
    "floyd_steinberg": [(0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)],
    "sierra2_4a": [(0, 1, 2 / 4), (1, -1, 1 / 4), (1, 0, 1 / 4)],
    "sierra2": [(0, 1, 4 / 16), (0, 2, 3 / 16), (1, -2, 1 / 16), (1, -1, 2 / 16), (1, 0, 3 / 16),
                (1, 1, 2 / 16), (1, 2, 1 / 16)],
    "sierra3": [(0, 1, 5 / 32), (0, 2, 3 / 32), (1, -2, 2 / 32), (1, -1, 4 / 32), (1, 0, 5 / 32),
                (1, 1, 4 / 32), (1, 2, 2 / 32), (2, -1, 2 / 32), (2, 0, 3 / 32), (2, 1, 2 / 32)],
    "burkes": [(0, 1, 8 / 32), (0, 2, 4 / 32), (1, -2, 2 / 32), (1, -1, 4 / 32), (1, 0, 8 / 32),
               (1, 1, 4 / 32), (1, 2, 2 / 32)],
    "atkinson": [(0, 1, 1 / 8), (0, 2, 1 / 8), (1, -1, 1 / 8), (1, 0, 1 / 8), (1, 1, 1 / 8),
                 (2, 0, 1 / 8)],
    "heckbert": [(0, 1, 3 / 8), (1, 0, 3 / 8), (1, 1, 2 / 8)],
}  # fmt: skip
ORDERED = ("bayer", "none")  # not error diffusion
MAX_ERROR = 0.08  # Oklab; diffused error is clipped so one outlier cannot streak across a row
ORDERED_SPREAD = 0.035  # Oklab lightness swing of the Bayer pattern (chroma gets half)


def _bayer(n: int) -> np.ndarray:
    m = np.zeros((1, 1))
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return ((m + 0.5) / m.size - 0.5).astype(np.float32)  # centred thresholds in (-0.5, 0.5)


BAYER = _bayer(8)


@jit
def _diffuse(lab, draw, ps, start, order, kernel, strength, max_error, transparent, idx, err,
             y0, y1):
    # Rows y0..y1-1; ``err`` (H+3 × W+4 × 3, zeroed at first) carries the error between calls.
    # strength: H×W, the share of each pixel's error passed on.
    w = draw.shape[1]
    rows = kernel[:, 0].astype(np.int64)
    cols = kernel[:, 1].astype(np.int64) + 2  # 2 columns of margin each side
    shares = kernel[:, 2].copy()
    for y in range(y0, y1):
        for x in range(w):
            if not draw[y, x]:
                idx[y, x] = transparent
                continue
            v0 = lab[y, x, 0] + min(max(err[y, x + 2, 0], -max_error), max_error)
            v1 = lab[y, x, 1] + min(max(err[y, x + 2, 1], -max_error), max_error)
            v2 = lab[y, x, 2] + min(max(err[y, x + 2, 2], -max_error), max_error)
            j, _d = nearest_sorted(ps, start, v0, v1, v2)
            idx[y, x] = order[j]
            s = strength[y, x]
            e0, e1, e2 = (v0 - ps[j, 0]) * s, (v1 - ps[j, 1]) * s, (v2 - ps[j, 2]) * s
            for r in range(rows.shape[0]):
                yy, xx, share = y + rows[r], x + cols[r], shares[r]
                err[yy, xx, 0] += e0 * share
                err[yy, xx, 1] += e1 * share
                err[yy, xx, 2] += e2 * share


@jit
def _ordered(lab, draw, ps, start, order, bayer, spread, transparent, idx, y0):
    # ``y0``: the first row's place in the frame, for the pattern's phase
    h, w = draw.shape
    n = bayer.shape[0]
    for y in range(h):
        for x in range(w):
            if not draw[y, x]:
                idx[y, x] = transparent
                continue
            t = bayer[(y0 + y) % n, x % n] * spread
            j, _d = nearest_sorted(ps, start, lab[y, x, 0] + t, lab[y, x, 1] + t * 0.5,
                                   lab[y, x, 2] + t * 0.5)
            idx[y, x] = order[j]


class Remap:
    """Indices (uint8 H×W, ``idx``) for the Oklab frame ``lab``, mapped in bands of rows, top to
    bottom, so that a consumer of the indices (the LZW coder, on another thread) can follow close
    behind; ``idx`` fills as it goes.

    ``draw`` marks the pixels to draw; the others get ``transparent``. ``method`` is a name from
    KERNELS, "bayer" (ordered) or "none"; ``strength`` (0-1) scales the diffused error.
    ``edge_scale`` > 0 lowers it where the picture is busy (see :func:`dither_map`).
    """

    def __init__(self, lab: np.ndarray, draw: np.ndarray, lab_palette: np.ndarray, method: str,
                 strength: float, transparent: int, edge_scale: float = 0.0,
                 max_error: float = MAX_ERROR):
        self.ps, self.order, self.start = sort_palette(lab_palette)
        self.idx = np.empty(draw.shape, np.uint8)
        self.lab = np.ascontiguousarray(lab, np.float32)
        self.draw, self.method, self.transparent = draw, method, transparent
        h, w = draw.shape
        if method in KERNELS:
            self.kernel = np.array(KERNELS[method], np.float32)
            self.smap = dither_map(self.lab, edge_scale) * np.float32(strength)
            self.err = np.zeros((h + 3, w + 4, 3), np.float32)  # 2 rows, 2 columns of margin
            self.max_error = np.float32(max_error)
        else:
            self.spread = np.float32(ORDERED_SPREAD * strength if method == "bayer" else 0.0)

    def rows(self, y0: int, y1: int) -> None:
        """Map rows ``y0``..``y1 - 1`` (each band must follow the one before)."""
        if self.method in KERNELS:
            _diffuse(self.lab, self.draw, self.ps, self.start, self.order, self.kernel,
                     self.smap, self.max_error, self.transparent, self.idx, self.err, y0, y1)
        else:
            _ordered(self.lab[y0:y1], self.draw[y0:y1], self.ps, self.start, self.order, BAYER,
                     self.spread, self.transparent, self.idx[y0:y1], y0)


def dither_map(lab: np.ndarray, edge_scale: float) -> np.ndarray:
    """Per-pixel share of error to diffuse: 1 in smooth areas, where banding would show, falling
    where lightness varies by about ``edge_scale`` between neighbours, where texture hides banding
    and dither noise only blurs detail (pngquant's "dither map" idea). 0 turns this off."""
    h, w = lab.shape[:2]
    if edge_scale <= 0:
        return np.ones((h, w), np.float32)
    light = lab[..., 0]
    busy = np.zeros((h, w), np.float32)
    dy = np.abs(np.diff(light, axis=0))
    dx = np.abs(np.diff(light, axis=1))
    busy[1:] += dy
    busy[:-1] += dy
    busy[:, 1:] += dx
    busy[:, :-1] += dx
    return 1.0 / (1.0 + (busy / np.float32(4 * edge_scale)) ** 2)
