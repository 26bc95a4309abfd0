"""The GIF variant of LZW (variable code width up to 12 bits, clear code when the table is full),
exact or lossy.

Lossy coding, as gifsicle's ``--lossy`` does it: when the string being built has no continuation
with the next pixel's exact colour, any existing continuation whose colour lies within a tolerance
(Oklab distance) of it is taken instead, so strings grow longer and codes fewer. The difference is
carried on to the next pixels (decaying, and never more than the tolerance), so a run of
substitutions cannot drift in one direction, and no shown colour is further than twice the
tolerance from the one the ditherer chose.
The transparent index is a candidate too, where the colour already on screen is close enough.
The coder writes the indices it really used back into its input, so the caller knows exactly what
each frame shows.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

MAX_CODES = 4096  # 12-bit codes, the GIF maximum
CARRY_DECAY = 0.6  # share of a substitution's error handed to the next pixel
HASH_SLOTS = 1 << 14  # string table slots: at most MAX_CODES used, so probes stay short
KEY_BITS = 20  # a (code, symbol) key: 12 + 8 bits
HASH_MULTIPLIER = 2654435761  # Knuth's multiplicative hash


@jit
def _emit(out, pos, acc, bits, code, size):
    """Append ``code`` (``size`` bits) to the bit accumulator; whole bytes go to ``out``."""
    acc |= np.uint64(code) << np.uint64(bits)
    bits += size
    while bits >= 8:
        out[pos] = np.uint8(acc & np.uint64(255))
        acc >>= np.uint64(8)
        bits -= 8
        pos += 1
    return pos, acc, bits


@jit
def _encode(idx, i0, i1, final, min_size, lossy, tol2, pal, canvas, transparent, out, tags,
            codes, first, sibling, symbol, clear_child, clear_gen, state, carry):
    # Codes pixels i0..i1-1 (the first call starts at 0), then, if ``final``, the last code and
    # the end code. What a call leaves unfinished is kept in ``state`` (out position, bit
    # accumulator, bit count, code size, next code, generation, current string) and ``carry``.
    clear = 1 << min_size
    eoi = clear + 1
    if i0 == 0:
        # The string table: (code, symbol) → code, hashed with linear probing. A slot holds
        # gen << KEY_BITS | code << 8 | symbol and counts only in its generation: a clear bumps
        # ``gen`` instead of wiping the table. Small enough to stay in the CPU's cache.
        # Strings continued by the transparent index (most of a frame that changes little) are
        # kept apart, one slot per code, so that they need no hashing.
        tags[:] = 0
        clear_gen[:] = 0
        first[:] = -1  # first child of a code (for the lossy scan)
        sibling[:] = -1
        gen, pos, acc, bits = 1, 0, np.uint64(0), 0
        size = min_size + 1
        next_code = clear + 2
        pos, acc, bits = _emit(out, pos, acc, bits, clear, size)
        c0 = c1 = c2 = np.float32(0.0)  # the carried error (float32, as the ditherer's colours)
        cur = np.int32(idx[0])
        i0 = 1
    else:
        pos, acc, bits = state[0], np.uint64(state[1]), state[2]
        size, next_code, gen, cur = state[3], state[4], state[5], np.int32(state[6])
        c0, c1, c2 = carry[0], carry[1], carry[2]
    for i in range(i0, i1):
        s = np.int32(idx[i])
        nxt, slot, tag = -1, -1, 0
        if s == transparent:
            if clear_gen[cur] == gen:
                nxt = clear_child[cur]
        else:
            key = (np.int64(cur) << 8) | s  # int64: the hash product overflows int32
            tag = (gen << KEY_BITS) | key
            slot = ((key * HASH_MULTIPLIER) >> 16) & (HASH_SLOTS - 1)
            while tags[slot] >> KEY_BITS == gen:
                if tags[slot] == tag:
                    nxt = codes[slot]
                    break
                slot = (slot + 1) & (HASH_SLOTS - 1)
        if nxt >= 0 and (not lossy or (c0 == 0 and c1 == 0 and c2 == 0)):
            # nothing carried and the string goes on: the carry stays exactly zero
            cur = nxt
            continue
        if lossy:
            if s == transparent:
                t0, t1, t2 = canvas[i, 0] + c0, canvas[i, 1] + c1, canvas[i, 2] + c2
            else:
                t0, t1, t2 = pal[s, 0] + c0, pal[s, 1] + c1, pal[s, 2] + c2
            if nxt < 0:
                best, best_d = -1, tol2
                c = first[cur]
                while c >= 0:
                    k = symbol[c]
                    if k == transparent:
                        d0, d1, d2 = canvas[i, 0] - t0, canvas[i, 1] - t1, canvas[i, 2] - t2
                    else:
                        d0, d1, d2 = pal[k, 0] - t0, pal[k, 1] - t1, pal[k, 2] - t2
                    d = d0 * d0 + d1 * d1 + d2 * d2
                    if d <= best_d:
                        best, best_d = c, d
                    c = sibling[c]
                if best >= 0:
                    nxt = best
                    s = symbol[best]
                    idx[i] = s
            if s == transparent:
                e0, e1, e2 = t0 - canvas[i, 0], t1 - canvas[i, 1], t2 - canvas[i, 2]
            else:
                e0, e1, e2 = t0 - pal[s, 0], t1 - pal[s, 1], t2 - pal[s, 2]
            c0 = np.float32(e0 * CARRY_DECAY)
            c1 = np.float32(e1 * CARRY_DECAY)
            c2 = np.float32(e2 * CARRY_DECAY)
            norm2 = c0 * c0 + c1 * c1 + c2 * c2
            if norm2 > tol2:  # bounded, so a shown colour stays within 2 × tolerance
                f = np.sqrt(tol2 / norm2)
                c0, c1, c2 = c0 * f, c1 * f, c2 * f
        if nxt >= 0:
            cur = nxt
            continue
        pos, acc, bits = _emit(out, pos, acc, bits, cur, size)
        if next_code < MAX_CODES:
            if next_code == (1 << size):
                size += 1
            if s == transparent:
                clear_child[cur] = next_code
                clear_gen[cur] = gen
            else:  # the free slot the lookup ended on (s was not substituted)
                tags[slot] = tag
                codes[slot] = next_code
            symbol[next_code] = s
            first[next_code] = -1
            sibling[next_code] = first[cur]
            first[cur] = next_code
            next_code += 1
        else:
            pos, acc, bits = _emit(out, pos, acc, bits, clear, size)
            gen += 1
            for r in range(clear):
                first[r] = -1
            size = min_size + 1
            next_code = clear + 2
        cur = s
    if final:
        pos, acc, bits = _emit(out, pos, acc, bits, cur, size)
        pos, acc, bits = _emit(out, pos, acc, bits, eoi, size)
        if bits > 0:
            out[pos] = np.uint8(acc & np.uint64(255))
            pos += 1
            bits = 0
    state[0], state[1], state[2], state[3] = pos, np.int64(acc), bits, size
    state[4], state[5], state[6] = next_code, gen, cur
    carry[0], carry[1], carry[2] = c0, c1, c2
    return pos


def encode(idx: np.ndarray, min_size: int, *, tolerance: float = 0.0,
           lab_palette: np.ndarray | None = None, canvas: np.ndarray | None = None,
           transparent: int = -1) -> tuple[bytes, np.ndarray]:
    """LZW-code the uint8 indices ``idx`` into GIF image data (code size byte, sub-blocks,
    terminator); return it with the indices really coded (lossy coding substitutes some).

    ``tolerance`` > 0 (Oklab distance) turns lossy matching on; it then needs ``lab_palette``
    (256×3 Oklab) and ``canvas`` (the Oklab colour on screen at each pixel, for ``transparent``).
    """
    coder = Coder(np.array(idx, np.uint8), min_size, tolerance=tolerance,  # a copy: substitutes
                  lab_palette=lab_palette, canvas=canvas, transparent=transparent)
    return coder.finish()


class Coder:
    """:func:`encode` of the H×W uint8 ``idx`` in place (substitutions go into it), in steps:
    ``code(end)`` codes the pixels up to ``end`` (row-major) as soon as they are known."""

    def __init__(self, idx: np.ndarray, min_size: int, *, tolerance: float = 0.0,
                 lab_palette: np.ndarray | None = None, canvas: np.ndarray | None = None,
                 transparent: int = -1):
        self.idx, self.min_size, self.transparent = idx, min_size, transparent
        self.flat = idx.reshape(-1)  # a view: idx must be C-contiguous
        n = self.flat.shape[0]
        self.lossy = tolerance > 0
        if not self.lossy:
            lab_palette = np.zeros((1, 3), np.float32)
            canvas = np.zeros((1, 3), np.float32)
        self.tol2 = np.float32(tolerance * tolerance)
        self.palette = np.ascontiguousarray(lab_palette, np.float32)
        self.canvas = np.ascontiguousarray(canvas.reshape(-1, 3), np.float32)
        self.out = np.empty(n * 2 + 64, np.uint8)  # 12-bit codes, at most one per pixel + clears
        self.tables = (np.zeros(HASH_SLOTS, np.int64), np.zeros(HASH_SLOTS, np.int32),
                       np.empty(MAX_CODES, np.int32), np.empty(MAX_CODES, np.int32),
                       np.zeros(MAX_CODES, np.int32), np.empty(MAX_CODES, np.int32),
                       np.zeros(MAX_CODES, np.int64))
        self.state = np.zeros(7, np.int64)
        self.carry = np.zeros(3, np.float32)
        self.done = 0  # pixels coded
        self.size = 0  # bytes of codes written

    def code(self, end: int, final: bool = False) -> None:
        """Code pixels ``done``..``end - 1``; ``final``: then close the image data."""
        if end > self.done or final:
            self.size = _encode(self.flat, self.done, end, final, self.min_size, self.lossy,
                                self.tol2, self.palette, self.canvas, self.transparent,
                                self.out, *self.tables, self.state, self.carry)
            self.done = end

    def finish(self) -> tuple[bytes, np.ndarray]:
        """Code what is left; the image data and the indices really coded."""
        self.code(self.flat.shape[0], final=True)
        data = bytes([self.min_size]) + _blocks(self.out[: self.size].tobytes())
        return data, self.idx


def _blocks(data: bytes) -> bytes:
    """Data sub-blocks: a length byte, then up to 255 bytes; an empty block ends them."""
    n = len(data)
    full, rest = divmod(n, 255)
    out = np.empty(n + full + (rest > 0) + 1, np.uint8)
    src = np.frombuffer(data, np.uint8)
    blocks = out[: full * 256].reshape(full, 256)  # whole blocks at once
    blocks[:, 0] = 255
    blocks[:, 1:] = src[: full * 255].reshape(full, 255)
    if rest:
        out[full * 256] = rest
        out[full * 256 + 1 : -1] = src[full * 255 :]
    out[-1] = 0
    return out.tobytes()
