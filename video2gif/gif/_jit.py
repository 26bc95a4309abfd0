"""numba's ``njit`` when numba is installed, else the plain Python function (the same
algorithm, much slower; float rounding can differ in the last bits, so the bytes can too): the
package must import and work on any machine ``pip`` can install it on.

numba itself is imported on the first call of a compiled function, not when the package is
imported: importing it costs about 0.3 s, which ``video2gif --help`` must not pay."""

from __future__ import annotations

import functools
import importlib.util
import threading

HAVE_NUMBA = importlib.util.find_spec("numba") is not None

_LOCK = threading.Lock()
_PENDING: list[_Lazy] = []
_NJIT = None  # numba's njit once the first compiled function has been called


class _Lazy:
    """Stands for a compiled function until the first call compiles every pending one."""

    def __init__(self, fn):
        self.fn = fn
        self.compiled = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        if self.compiled is None:
            _compile_pending()
        return self.compiled(*args, **kwargs)


def _compile_pending() -> None:
    # Every pending function at once, and the module globals that name one swapped for its
    # dispatcher: numba resolves a compiled function's callees through those globals.
    global _NJIT
    with _LOCK:
        if _NJIT is None:
            _NJIT = _load_njit()
        pending, _PENDING[:] = list(_PENDING), []
        for lazy in pending:
            lazy.compiled = _NJIT(lazy.fn)
        for namespace in {id(lazy.fn.__globals__): lazy.fn.__globals__ for lazy in pending}.values():
            _swap(namespace)


def _load_njit():
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - a broken install stays usable, slowly
        return lambda fn: fn
    # numpy's error model: no zero-division check per division, which would keep loops from
    # being vectorised (every divisor in these kernels is non-zero or guarded).
    return njit(cache=True, nogil=True, error_model="numpy")


def _swap(namespace: dict) -> None:
    for name, value in list(namespace.items()):
        if isinstance(value, _Lazy) and value.compiled is not None:
            namespace[name] = value.compiled


def jit(fn):
    """Compile ``fn`` with numba (cached on disk, so only the first run pays) when available."""
    if not HAVE_NUMBA:  # pragma: no cover
        return fn
    with _LOCK:
        if _NJIT is not None:  # a module imported after the first call
            _swap(fn.__globals__)
            return _NJIT(fn)
        lazy = _Lazy(fn)
        _PENDING.append(lazy)
        return lazy
