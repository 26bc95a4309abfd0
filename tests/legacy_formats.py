"""Writers for the file formats of the 2016 Video2GIF release, byte for byte as Python 2 made them.

``c3d_model.pkl`` was written by Python 2's cPickle (protocol 2) from a list of numpy arrays:
every array is rebuilt with ``numpy.core.multiarray._reconstruct`` and its raw data is a Python-2
``str`` (a BINSTRING opcode), which Python 3 can only read with ``encoding="latin1"``. Python 3's
pickler cannot produce that stream (it writes bytes as ``_codecs.encode`` calls and uses NumPy 2's
module names), so the opcodes are emitted here directly. ``video2gif_weights.npz`` held one object
array (``np.savez(f, list_of_arrays)``), pickled the same way inside ``arr_0.npy``.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np


class Py2Pickler:
    """Emits a protocol-2 pickle stream the way Python 2.7's cPickle wrote numpy data."""

    def __init__(self) -> None:
        self.out = bytearray(b"\x80\x02")  # PROTO 2
        self.memo = 0

    def _put(self) -> None:  # BINPUT: cPickle memoises every container and reduced object
        self.memo += 1
        if self.memo < 256:
            self.out += b"q" + bytes([self.memo])
        else:
            self.out += b"r" + struct.pack("<I", self.memo)

    def global_(self, module: str, name: str) -> None:
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        self._put()

    def int_(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)
        else:
            self.out += b"J" + struct.pack("<i", value)

    def str_(self, data: bytes) -> None:
        """A Python-2 ``str``: SHORT_BINSTRING or BINSTRING."""
        if len(data) < 256:
            self.out += b"U" + bytes([len(data)]) + data
        else:
            self.out += b"T" + struct.pack("<i", len(data)) + data

    def tuple_(self, items: list) -> None:
        if len(items) == 0:
            self.out += b")"
            return
        if len(items) > 3:
            self.out += b"("
        for item in items:
            self.value(item)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(items), b"t")

    def value(self, item) -> None:
        if item is None:
            self.out += b"N"
        elif item is False:
            self.out += b"\x89"
        elif item is True:
            self.out += b"\x88"
        elif isinstance(item, int):
            self.int_(item)
        elif isinstance(item, bytes):
            self.str_(item)
        elif isinstance(item, str):
            self.str_(item.encode("latin-1"))
        elif isinstance(item, tuple):
            self.tuple_(list(item))
        elif isinstance(item, list):
            self.list_(item)
        elif isinstance(item, np.dtype):
            self.dtype(item)
        elif isinstance(item, np.ndarray):
            self.array(item)
        else:
            raise TypeError(type(item))

    def list_(self, items: list) -> None:
        self.out += b"]"
        self._put()
        if items:
            self.out += b"("
            for item in items:
                self.value(item)
            self.out += b"e"  # APPENDS

    def dtype(self, dt: np.dtype) -> None:
        # numpy 1.x on Python 2: dtype('f4', 0, 1) then state (3, '<', None, None, None, -1,
        # -1, flags).
        self.global_("numpy", "dtype")
        code = "O8" if dt.hasobject else f"{dt.kind}{dt.itemsize}"
        self.tuple_([code, 0, 1])
        self.out += b"R"
        self._put()
        order = "|" if dt.hasobject or dt.itemsize == 1 else "<"
        flags = 63 if dt.hasobject else 0
        self.tuple_([3, order, None, None, None, -1, -1, flags])
        self.out += b"b"  # BUILD

    def array(self, a: np.ndarray) -> None:
        self.global_("numpy.core.multiarray", "_reconstruct")
        self.global_("numpy", "ndarray")
        self.tuple_([0])
        self.str_(b"b")
        self.out += b"\x87R"  # TUPLE3, REDUCE
        self._put()
        self.out += b"("
        self.int_(1)
        self.tuple_(list(a.shape))
        self.dtype(a.dtype)
        self.value(False)
        if a.dtype.hasobject:
            self.list_(list(a.ravel()))
        else:
            self.str_(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())
        self.out += b"tb"  # TUPLE, BUILD

    def finish(self) -> bytes:
        return bytes(self.out + b".")


def py2_pickle(obj) -> bytes:
    """``cPickle.dumps(obj, 2)`` as Python 2.7 with NumPy 1.x produced it."""
    p = Py2Pickler()
    p.value(obj)
    return p.finish()


def write_c3d_pickle(path: Path, arrays: list[np.ndarray]) -> Path:
    """``c3d_model.pkl``: the list of Lasagne parameter arrays, pickled by Python 2."""
    path.write_bytes(py2_pickle([np.asarray(a, dtype=np.float32) for a in arrays]))
    return path


def npy_bytes(array: np.ndarray) -> bytes:
    """An .npy v1.0 file as NumPy 1.x on Python 2 wrote it (object arrays pickled)."""
    if array.dtype.hasobject:
        descr = "|O"
    else:
        descr = array.dtype.newbyteorder("<").str
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {array.shape!r}, }}"
    total = 10 + len(header) + 1
    header += " " * ((16 - total % 16) % 16) + "\n"
    head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin-1")
    if array.dtype.hasobject:
        return head + py2_pickle(array)
    return head + np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()


def write_head_npz(path: Path, params: list[np.ndarray]) -> Path:
    """``video2gif_weights.npz``: ``np.savez(f, params)`` on Python 2, one object array arr_0."""
    obj = np.empty(len(params), dtype=object)
    for i, p in enumerate(params):
        obj[i] = np.asarray(p, dtype=np.float32)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("arr_0.npy", npy_bytes(obj))
    return path


def write_mean_npy(path: Path, mean: np.ndarray) -> Path:
    """``snipplet_mean.npy``: a plain float32 array."""
    path.write_bytes(npy_bytes(np.asarray(mean, dtype=np.float32)))
    return path
