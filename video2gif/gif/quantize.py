"""Palettes chosen in Oklab: weighted median cut for a start, then k-means (Lloyd) refinement.

Pixels are first binned (6 bits of red and green, 5 of blue; each bin keeping its pixel count
and mean Oklab colour), so the cost depends on how many distinct colours a frame has, not on its
size.
Median cut alone puts boxes where colours are spread out; k-means then moves every entry to the
weighted mean of the pixels nearest to it, which is what minimises the average visible error.
A palette can start from the previous frame's, so consecutive palettes stay close (less flicker)
and need fewer iterations.

The nearest-colour search sorts the palette by lightness and stops once the lightness gap alone
exceeds the best distance found: exact, and about ten times fewer comparisons than a full scan.
"""

from __future__ import annotations

import numpy as np

from . import _threads
from ._jit import jit
from .colour import oklab_to_srgb

# Bits of each sRGB channel for the colour histogram: blue, which adds least to lightness, gets
# one fewer (k-means then has about 30% fewer bins to move, at the same SSIMULACRA2).
RED_BITS, GREEN_BITS, BLUE_BITS = 6, 6, 5
BIN_BITS = RED_BITS + GREEN_BITS + BLUE_BITS
BLOCK_BITS = BLUE_BITS  # bins marked used in runs of 32 (one red, one green level)
KMEANS_ITERATIONS = 6  # Lloyd steps from a median-cut start
KMEANS_ITERATIONS_WARM = 3  # from the previous frame's palette, already close
KMEANS_SHARED = 4000  # colours from which a spare core takes half of each k-means search


# The search starts from a lightness index: row of the first palette entry at or above each of
# LIGHTNESS_STEPS lightness levels over LIGHTNESS_RANGE, instead of a binary search (whose
# unpredictable branches cost more than the search itself).
LIGHTNESS_STEPS = 1024
LIGHTNESS_RANGE = (-0.1, 1.5)  # Oklab L (stretched by colour.L_WEIGHT), dithering overshoot too


@jit
def lightness_index(ps):
    """For :func:`nearest_sorted`: the first row of ``ps`` (sorted by L) at or above each level."""
    lo, hi = LIGHTNESS_RANGE
    step = (hi - lo) / LIGHTNESS_STEPS
    start = np.empty(LIGHTNESS_STEPS, np.int32)
    row = 0
    for q in range(LIGHTNESS_STEPS):
        level = lo + q * step
        while row < ps.shape[0] and ps[row, 0] < level:
            row += 1
        start[q] = row
    return start


@jit
def nearest_sorted(ps, start, lum, a, b):
    """Index into ``ps`` (palette rows sorted by L, column 0; ``start`` from
    :func:`lightness_index`) of the colour nearest (lum, a, b), and its squared distance."""
    n = ps.shape[0]
    lo, hi = LIGHTNESS_RANGE
    q = min(max(int((lum - lo) * (LIGHTNESS_STEPS / (hi - lo))), 0), LIGHTNESS_STEPS - 1)
    row = start[q]  # then exactly the first row with L >= lum, whatever the rounding above
    while row < n and ps[row, 0] < lum:
        row += 1
    while row > 0 and ps[row - 1, 0] >= lum:
        row -= 1
    # Rows are visited outward from there, alternately up and down; a direction stops once the
    # lightness gap alone reaches the best distance so far.
    best, best_d = 0, np.float32(1e30)
    up, down = row, row - 1
    while up < n or down >= 0:
        if up < n:
            dl = ps[up, 0] - lum
            if dl * dl >= best_d:
                up = n
            else:
                da, db = ps[up, 1] - a, ps[up, 2] - b
                d = dl * dl + da * da + db * db
                if d < best_d:
                    best, best_d = up, d
                up += 1
        if down >= 0:
            dl = ps[down, 0] - lum
            if dl * dl >= best_d:
                down = -1
            else:
                da, db = ps[down, 1] - a, ps[down, 2] - b
                d = dl * dl + da * da + db * db
                if d < best_d:
                    best, best_d = down, d
                down -= 1
    return best, best_d


def sort_palette(lab_palette: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows sorted by lightness, their original indices, their :func:`lightness_index`) for
    :func:`nearest_sorted`."""
    order = np.argsort(lab_palette[:, 0], kind="stable").astype(np.int32)
    ps = np.ascontiguousarray(lab_palette[order], np.float32)
    return ps, order, lightness_index(ps)


@jit
def _box_spread(colours, weights, perm, s, e):
    """(total weight, weighted variance per channel) of the colours ``perm[s:e]``."""
    tw = 0.0
    mean = np.zeros(3)
    for i in range(s, e):
        w = weights[perm[i]]
        tw += w
        for c in range(3):
            mean[c] += w * colours[perm[i], c]
    var = np.zeros(3)
    for i in range(s, e):
        w = weights[perm[i]]
        for c in range(3):
            d = colours[perm[i], c] - mean[c] / tw
            var[c] += w * d * d
    return tw, var


@jit
def _median_cut(colours, weights, k):
    """Split the weighted colour set into up to ``k`` boxes; return their weighted means."""
    m = colours.shape[0]
    perm = np.arange(m)
    starts = np.zeros(k, np.int64)
    ends = np.zeros(k, np.int64)
    ends[0] = m
    n_boxes = 1
    scores = np.full(k, -1.0)
    while n_boxes < k:
        # score = total weighted variance; the box that hides most error is split next
        best_box, best_score, best_axis = -1, 0.0, 0
        for bx in range(n_boxes):
            s, e = starts[bx], ends[bx]
            if e - s < 2:
                continue
            if scores[bx] < 0:
                scores[bx] = _box_spread(colours, weights, perm, s, e)[1].sum()
            if scores[bx] > best_score:
                best_box, best_score = bx, scores[bx]
        if best_box < 0:
            break
        s, e = starts[best_box], ends[best_box]
        tw, var = _box_spread(colours, weights, perm, s, e)
        best_axis = np.argmax(var)
        sub = perm[s:e].copy()
        order = np.argsort(colours[sub, best_axis])
        sub = sub[order]
        perm[s:e] = sub
        half, acc, cut = tw / 2.0, 0.0, s + 1
        for i in range(s, e - 1):
            acc += weights[perm[i]]
            if acc >= half:
                cut = i + 1
                break
        starts[n_boxes], ends[n_boxes] = cut, e
        ends[best_box] = cut
        scores[best_box] = -1.0
        scores[n_boxes] = -1.0
        n_boxes += 1
    out = np.zeros((n_boxes, 3), np.float32)
    for bx in range(n_boxes):
        tw = 0.0
        for i in range(starts[bx], ends[bx]):
            w = weights[perm[i]]
            tw += w
            for c in range(3):
                out[bx, c] += w * colours[perm[i], c]
        for c in range(3):
            out[bx, c] /= max(tw, 1e-12)
    return out


def _kmeans(colours, weights, centroids, iterations):
    """Weighted Lloyd iterations in place; an entry that wins no colour keeps its place. With a
    core to spare (:mod:`._threads`), half of each iteration's searches run on it."""
    n = colours.shape[0]
    helper = _threads.spare() if n >= KMEANS_SHARED else None
    nearest = np.empty(n, np.int64)
    for _ in range(iterations):
        order, ps, start = _sorted_entries(centroids)
        if helper is None:
            _assign(colours, ps, start, 0, n, nearest)
        else:
            other = helper.submit(_assign, colours, ps, start, n // 2, n, nearest)
            _assign(colours, ps, start, 0, n // 2, nearest)
            other.result()
        _move(colours, weights, nearest, ps, centroids, order)
    return centroids


@jit
def _sorted_entries(centroids):
    order = np.argsort(centroids[:, 0])
    ps = centroids[order].copy()
    return order, ps, lightness_index(ps)


@jit
def _assign(colours, ps, start, lo, hi, nearest):
    """The nearest entry of ``ps`` (sorted) for colours ``lo``..``hi - 1``."""
    for i in range(lo, hi):
        nearest[i] = nearest_sorted(ps, start, colours[i, 0], colours[i, 1], colours[i, 2])[0]


@jit
def _move(colours, weights, nearest, ps, centroids, order):
    """Each entry to the weighted mean of its colours (summed in colour order)."""
    k = centroids.shape[0]
    sums = np.zeros((k, 3))
    tw = np.zeros(k)
    for i in range(colours.shape[0]):
        j = nearest[i]
        w = weights[i]
        tw[j] += w
        for c in range(3):
            sums[j, c] += w * colours[i, c]
    for j in range(k):
        if tw[j] > 0:
            for c in range(3):
                ps[j, c] = sums[j, c] / tw[j]
    centroids[order] = ps


def _exact_colours(rgb: np.ndarray, n: int) -> np.ndarray | None:
    """The distinct colours of (N, 3) ``rgb`` if there are at most ``n`` (drawings, tests)."""
    packed = (rgb[:, 0].astype(np.int32) << 16) | (rgb[:, 1].astype(np.int32) << 8) | rgb[:, 2]
    exact = np.unique(packed)
    if len(exact) > n:
        return None
    return np.stack([exact >> 16, (exact >> 8) & 255, exact & 255], 1).astype(np.uint8)


def _refine(colours: np.ndarray, w: np.ndarray, n: int, start: np.ndarray | None) -> np.ndarray:
    """k-means from ``start`` (or from median cut) over the binned colours; sRGB uint8 out."""
    if start is not None and len(start) == n:
        centroids = _kmeans(colours, w, np.array(start, np.float32), KMEANS_ITERATIONS_WARM)
    else:
        centroids = _median_cut(colours, w, n)
        centroids = _kmeans(colours, w, centroids, KMEANS_ITERATIONS)
    return oklab_to_srgb(centroids)


class Histogram:
    """Colour bins reused from frame to frame (cleared as they are read): :func:`frame_palette`
    fills them straight from the frame, without gathering the drawn pixels first."""

    def __init__(self) -> None:
        size = 1 << BIN_BITS
        self.weights = np.zeros(size, np.float64)
        self.sums = np.zeros((size, 3), np.float64)
        self.blocks = np.zeros(size >> BLOCK_BITS, np.bool_)  # which runs of bins have any


def frame_palette(image: np.ndarray, lab: np.ndarray, draw: np.ndarray,
                  box: tuple[int, int, int, int], n: int, start: np.ndarray | None,
                  smooth_weight: float, smooth_scale: float, bins: Histogram) -> np.ndarray:
    """Up to ``n`` sRGB colours (uint8 (k, 3)) for the pixels ``draw`` marks inside ``box``
    (y0, y1, x0, x1) of the H×W×3 ``image`` (``lab``: its Oklab colours), each weighted
    1 + ``smooth_weight`` × its smoothness (see :func:`video2gif.gif.dither.dither_map`,
    measured within the box). ``start`` (Oklab, (n, 3)) seeds k-means instead of median cut.
    Pixels of at most ``n`` distinct colours get them exactly. One pass over the pixels."""
    y0, y1, x0, x1 = box
    n_used = _histogram(image, lab, draw, y0, y1, x0, x1, np.float32(smooth_weight),
                        np.float32(4 * smooth_scale), bins.weights, bins.sums, bins.blocks)
    colours, w = _collect(bins.weights, bins.sums, bins.blocks, n_used)
    if n_used <= n:
        crop = (slice(y0, y1), slice(x0, x1))
        exact = _exact_colours(image[crop][draw[crop]], n)
        if exact is not None:
            return exact
    return _refine(colours, w, n, start)


@jit
def _histogram(image, lab, draw, y0, y1, x0, x1, smooth_weight, scale4, weights, sums, blocks):
    # The smoothness in float32, as dither_map computes it; the sums in float64, in pixel order.
    one = np.float32(1.0)
    n_used = 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            if not draw[y, x]:
                continue
            light = lab[y, x, 0]
            busy = np.float32(0.0)
            if y > y0:
                busy += abs(light - lab[y - 1, x, 0])
            if y < y1 - 1:
                busy += abs(lab[y + 1, x, 0] - light)
            if x > x0:
                busy += abs(light - lab[y, x - 1, 0])
            if x < x1 - 1:
                busy += abs(lab[y, x + 1, 0] - light)
            t = busy / scale4
            wt = np.float64(one + smooth_weight * (one / (one + t * t)))
            key = (((image[y, x, 0] >> (8 - RED_BITS)) << (GREEN_BITS + BLUE_BITS))
                   | ((image[y, x, 1] >> (8 - GREEN_BITS)) << BLUE_BITS)
                   | (image[y, x, 2] >> (8 - BLUE_BITS)))
            if weights[key] == 0:
                n_used += 1
            blocks[key >> BLOCK_BITS] = True  # unconditionally: cheaper than in the branch
            weights[key] += wt
            for c in range(3):
                sums[key, c] += np.float64(lab[y, x, c]) * wt
    return n_used


@jit
def _collect(weights, sums, blocks, n_used):
    """Mean colour and weight of each used bin, in bin order; the bins are cleared. Only the
    runs of bins ``blocks`` marks are read: a frame uses a few thousand bins of the 131072."""
    colours = np.empty((n_used, 3), np.float32)
    w = np.empty(n_used, np.float64)
    k = 0
    for block in range(blocks.shape[0]):
        if not blocks[block]:
            continue
        blocks[block] = False
        for key in range(block << BLOCK_BITS, (block + 1) << BLOCK_BITS):
            if weights[key] == 0:
                continue
            w[k] = weights[key]
            for c in range(3):
                colours[k, c] = np.float32(sums[key, c] / weights[key])
                sums[key, c] = 0.0
            weights[key] = 0.0
            k += 1
    return colours, w
