"""numba's ``njit`` when numba is installed, else the plain Python function (same results,
much slower): the package must import and work on any machine ``pip`` can install it on."""

from __future__ import annotations

try:
    from numba import njit as _njit
except ImportError:  # pragma: no cover - numba is a dependency; this keeps a broken install usable
    _njit = None

HAVE_NUMBA = _njit is not None


def jit(fn):
    """Compile ``fn`` with numba (cached on disk, so only the first run pays) when available."""
    if _njit is None:  # pragma: no cover
        return fn
    return _njit(cache=True, nogil=True)(fn)
