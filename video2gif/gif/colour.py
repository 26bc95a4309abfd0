"""sRGB ↔ Oklab. Oklab (Björn Ottosson, 2020) is close to perceptually uniform: a distance of
0.01 is about the smallest difference a viewer notices, whatever the hue or lightness, so palettes,
dithering errors and every tolerance of the encoder are measured in it."""

from __future__ import annotations

import numpy as np

from . import _threads
from ._jit import jit

# linear sRGB → LMS and LMS' → Lab (Ottosson's published matrices)
_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]], np.float64)  # fmt: skip
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]], np.float64)  # fmt: skip
L_WEIGHT = 1.4  # lightness axis stretched by this: every distance weighs lightness errors more
_M2 = _M2 * np.array([[L_WEIGHT], [1.0], [1.0]])
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


# Every 8-bit sRGB value linearised once; the per-pixel work is then a lookup.
_LINEAR = _srgb_to_linear(np.arange(256) / 255.0).astype(np.float32)


SHARED_PIXELS = 50_000  # pixels from which a spare core converts half (a 480×270 frame: 130 K)
_M1_32 = _M1.astype(np.float32)
_M2_32 = _M2.astype(np.float32)
# A float32's bits divided by 3 plus this (W. Kahan's constant, as in fdlibm's cbrtf) are within
# a few per cent of its cube root: two Halley steps in float64 from there give the correctly
# rounded float32 cube root (checked against libm on every third float32 in [2e-6, 1]).
_CBRT_BIAS = np.uint32(709921077)


def srgb_to_oklab(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 (..., 3) sRGB → float32 (..., 3) Oklab (L in 0-1, a and b about ±0.3), into
    ``out`` (float32, C-contiguous, that shape) when given."""
    flat = np.ascontiguousarray(rgb, np.uint8).reshape(-1, 3)
    if out is None:
        out = np.empty(rgb.shape, np.float32)
    dest = out.reshape(-1, 3)
    n = flat.shape[0]
    helper = _threads.spare() if n >= SHARED_PIXELS else None
    if helper is None:
        _to_oklab(flat, _LINEAR, _M1_32, _M2_32, _CBRT_BIAS, dest)
    else:  # each pixel on its own: a spare core converts the second half
        half = n // 2
        other = helper.submit(_to_oklab, flat[half:], _LINEAR, _M1_32, _M2_32, _CBRT_BIAS,
                              dest[half:])
        _to_oklab(flat[:half], _LINEAR, _M1_32, _M2_32, _CBRT_BIAS, dest[:half])
        other.result()
    return out


@jit
def _to_oklab(rgb, linear, m1, m2, bias, out):
    # In passes over whole arrays, so that the compiler vectorises the cube roots (no libm
    # call per value): LMS, a first guess from the bits, Halley steps, then the Lab matrix.
    n = rgb.shape[0]
    lms = np.empty(n * 3, np.float32)
    for i in range(n):
        r, g, b = linear[rgb[i, 0]], linear[rgb[i, 1]], linear[rgb[i, 2]]
        for k in range(3):
            lms[3 * i + k] = m1[k, 0] * r + m1[k, 1] * g + m1[k, 2] * b
    root = out.reshape(-1)
    bits, root_bits = lms.view(np.uint32), root.view(np.uint32)
    for i in range(n * 3):
        root_bits[i] = bits[i] // np.uint32(3) + bias
    for i in range(n * 3):
        x, y = np.float64(lms[i]), np.float64(root[i])
        for _ in range(2):
            y3 = y * y * y
            y = y * (y3 + 2.0 * x) / (2.0 * y3 + x)
        root[i] = np.float32(y) if x > 0 else np.float32(0.0)
    for i in range(n):
        l_, m_, s_ = out[i, 0], out[i, 1], out[i, 2]
        for k in range(3):
            out[i, k] = m2[k, 0] * l_ + m2[k, 1] * m_ + m2[k, 2] * s_


def oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """float (..., 3) Oklab → uint8 (..., 3) sRGB, out-of-gamut colours clipped."""
    lms = np.asarray(lab, np.float64) @ _M2_INV.T
    lin = (lms**3) @ _M1_INV.T
    return np.round(_linear_to_srgb(lin) * 255.0).astype(np.uint8)
