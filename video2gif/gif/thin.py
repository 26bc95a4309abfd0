"""Fewer palette entries where the eye cannot tell them apart (at low quality).

A frame gets as many palette entries as it has room for, but entries that are barely
different still cost: every distinct index shortens the LZW strings that repeat, and lossy LZW
only substitutes within a run it is already extending. Greyscale film is the extreme case: 200
grey levels fit the palette exactly, and its grain then alternates between neighbours that no
viewer distinguishes. libimagequant (behind gifski) likewise stops adding colours once its
quality target is met.

Entries are visited by lightness; each one not yet taken leads a group of the untaken entries
within ``gap / 2`` of it (Oklab), and the group is replaced by its member nearest the group's
mean. Kept entries are entries of the palette (exact sRGB colours, nothing rounded), and any two
members of a group are less than ``gap`` apart, so a colour that had an exact entry is shown
within ``gap`` of itself: the encoder's declared tolerance grows by ``gap``.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


def thin_palette(lab_palette: np.ndarray, gap: float) -> np.ndarray:
    """Indices (ascending) of the entries of the Oklab (k, 3) palette that stay (see above)."""
    k = len(lab_palette)
    if gap <= 0 or k < 2:
        return np.arange(k)
    order = np.argsort(lab_palette[:, 0], kind="stable")
    ps = np.ascontiguousarray(lab_palette[order], np.float32)
    keep = _thin(ps, np.float32(gap / 2))
    return np.sort(order[keep])


@jit
def _thin(ps, radius):
    """Rows of ``ps`` (sorted by lightness) that stand for their groups."""
    k = ps.shape[0]
    taken = np.zeros(k, np.bool_)
    members = np.empty(k, np.int64)
    keep = np.empty(k, np.int64)
    r2 = radius * radius
    n = 0
    for i in range(k):
        if taken[i]:
            continue
        members[0] = i
        c = 1
        for j in range(i + 1, k):
            dl = ps[j, 0] - ps[i, 0]
            if dl >= radius:
                break
            da, db = ps[j, 1] - ps[i, 1], ps[j, 2] - ps[i, 2]
            if not taken[j] and dl * dl + da * da + db * db < r2:
                taken[j] = True
                members[c] = j
                c += 1
        m0 = m1 = m2 = np.float32(0.0)
        for q in range(c):
            m0 += ps[members[q], 0]
            m1 += ps[members[q], 1]
            m2 += ps[members[q], 2]
        m0, m1, m2 = m0 / c, m1 / c, m2 / c
        best, best_d = i, np.float32(1e30)
        for q in range(c):
            r = members[q]
            d0, d1, d2 = ps[r, 0] - m0, ps[r, 1] - m1, ps[r, 2] - m2
            d = d0 * d0 + d1 * d1 + d2 * d2
            if d < best_d:
                best, best_d = r, d
        keep[n] = best
        n += 1
    return keep[:n].copy()
