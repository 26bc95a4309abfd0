"""Feature cache: what one decode pass measured, stored per video content and parameters, so
re-scoring, re-training and evaluation never decode a video twice.

An entry is keyed by :class:`CacheKey`: the video's content fingerprint (:func:`fingerprint`)
plus every parameter that changes the measurements (backbone name, version and weights, sampling
rate and size, detector settings…). It is one ``.npz`` file of plain arrays (no pickles) plus a
JSON header (array ``__header__``) holding the format version, the full key, each array's dtype,
shape and SHA-256, and free-form metadata. Entries are written to a temporary name and renamed,
so a crash never leaves half a file. On reading, an entry that does not parse, has another format
version or key, or whose arrays do not match their checksums is deleted with a
:class:`~video2gif.errors.CacheWarning` and treated as a miss: it is rebuilt, never trusted.

The folder is ``--cache DIR``, else ``$XDG_CACHE_HOME/video2gif/features`` (``~/.cache/…``;
``%LOCALAPPDATA%`` on Windows). It is kept under a size cap (``--cache-max``, default
:data:`MAX_BYTES`): after each write, the least recently used entries (by file time; reading an
entry counts as a use) are deleted until the folder fits. Delete it at any time to reclaim the
space.

Example:
    >>> cache = FeatureCache(tmp_path)  # doctest: +SKIP
    >>> key = CacheKey.of("clip.mp4", backbone="efficientnet-lite0/1/x", fps=2.0)  # doctest: +SKIP
    >>> cache.save(key, {"times": times, "vectors": vectors}, {"duration": 12.5})  # doctest: +SKIP
    >>> entry = cache.load(key)  # None on a miss  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CacheWarning, InputError

CACHE_FORMAT = 1  # bump when the file layout changes; older entries are then rebuilt
FINGERPRINT_BLOCK = 1 << 20  # bytes hashed at the start, the middle and the end of a video
FINGERPRINT_SCHEME = "size+sha256(first,middle,last MiB)/1"
HEADER = "__header__"  # array holding the entry's JSON header as UTF-8 bytes
MAX_BYTES = 5 * 10**9  # default size cap of a cache folder, bytes (5 GB); 0: no cap
ENTRY_GLOB = "??/*.npz"  # the entries inside a cache folder


def fingerprint(path: str | os.PathLike) -> str:
    """A fast, robust content fingerprint of a video file.

    SHA-256 over the file size and three 1 MiB blocks: the first, the middle and the last (the
    whole file when it is smaller than 3 MiB). Reads at most 3 MiB, whatever the video's length.
    Renaming, copying or touching the file keeps the fingerprint; re-encoding, trimming or
    appending changes it (containers keep their index at the start or the end). Two different
    videos of identical size whose first, middle and last MiB are all identical would collide;
    the header's full key is checked on every read, but not the rest of the video.

    Raises:
        InputError: the file cannot be read.

    Example:
        >>> len(fingerprint(__file__))
        64
    """
    try:
        size = os.path.getsize(path)
        digest = hashlib.sha256(f"{FINGERPRINT_SCHEME}\0{size}\0".encode())
        with open(path, "rb") as f:
            if size <= 3 * FINGERPRINT_BLOCK:
                digest.update(f.read())
            else:
                for offset in (0, size // 2 - FINGERPRINT_BLOCK // 2, size - FINGERPRINT_BLOCK):
                    f.seek(offset)
                    digest.update(f.read(FINGERPRINT_BLOCK))
    except OSError as e:
        raise InputError(path, f"cannot read it ({e.strerror or e})") from None
    return digest.hexdigest()


def default_cache_dir() -> Path:
    """The user's cache folder for features (created on first write)."""
    if os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"])
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path.home() / ".cache"
    return base / "video2gif" / "features"


def _jsonable(value):
    """Parameters as JSON values: tuples become lists, numpy scalars plain numbers."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@dataclass(frozen=True)
class CacheKey:
    """What an entry depends on: the video's content and every measuring parameter."""

    video: str  # content fingerprint, see fingerprint()
    params: str  # canonical JSON of the parameters (sorted keys)

    @classmethod
    def of(cls, video: str | os.PathLike, **params) -> CacheKey:
        """Key for the video file ``video`` (fingerprinted) and ``params`` (JSON-able)."""
        return cls.from_fingerprint(fingerprint(video), **params)

    @classmethod
    def from_fingerprint(cls, video_fingerprint: str, **params) -> CacheKey:
        return cls(video_fingerprint, json.dumps(_jsonable(params), sort_keys=True))

    @property
    def digest(self) -> str:
        """File name of the entry: SHA-256 of the format version, the video and the params."""
        text = json.dumps({"format": CACHE_FORMAT, "video": self.video, "params": self.params})
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """A loaded entry: its arrays and the metadata saved with them."""

    arrays: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)


class FeatureCache:
    """A folder of feature entries; see the module docstring.

    Arguments:
        root: the folder (default: :func:`default_cache_dir`).
        max_bytes: size cap of the folder's entries; least recently used ones go first (0: no
            cap).
    """

    def __init__(self, root: str | os.PathLike | None = None, max_bytes: int = MAX_BYTES) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        if max_bytes < 0:
            raise ValueError("max_bytes cannot be negative")
        self.max_bytes = max_bytes

    def path(self, key: CacheKey) -> Path:
        digest = key.digest
        return self.root / digest[:2] / f"{digest}.npz"

    def load(self, key: CacheKey) -> CacheEntry | None:
        """The entry for ``key``, or None when there is none or it cannot be trusted (then it is
        deleted with a CacheWarning, so the caller rebuilds it)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(bytes(data[HEADER]).decode("utf-8"))
                problem = _check_header(header, key)
                if problem is None:
                    arrays = {name: data[name] for name in header["arrays"]}
                    problem = _check_arrays(header["arrays"], arrays)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile,
                UnicodeDecodeError) as e:
            problem = f"unreadable ({type(e).__name__}: {e})"
        if problem is not None:
            self._discard(path, problem)
            return None
        _touch(path)
        return CacheEntry(arrays=arrays, meta=header.get("meta", {}))

    def save(self, key: CacheKey, arrays: Mapping[str, np.ndarray], meta: Mapping | None = None
             ) -> Path | None:
        """Write the entry for ``key`` atomically; returns its path, or None (with a
        CacheWarning) when the folder is not writable: caching never stops the work."""
        path = self.path(key)
        arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
        if HEADER in arrays:
            raise ValueError(f"{HEADER} is reserved")
        header = {
            "format": CACHE_FORMAT,
            "video": key.video,
            "params": key.params,
            "fingerprint": FINGERPRINT_SCHEME,
            "arrays": {name: {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _sha(a)}
                       for name, a in arrays.items()},
            "meta": _jsonable(dict(meta or {})),
        }
        blob = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **{HEADER: blob}, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            warnings.warn(CacheWarning(f"{path}: could not write the feature cache "
                                       f"({e.strerror or e})"), stacklevel=2)
            return None
        self.trim(keep=path)
        return path

    def trim(self, keep: Path | None = None) -> list[Path]:
        """Delete the least recently used entries until the folder is within ``max_bytes``
        (never ``keep``, the entry just written). Returns the deleted paths.

        Other processes may write or trim the same folder at once: an entry that vanished
        meanwhile is simply skipped.
        """
        if not self.max_bytes:
            return []
        entries = []
        for path in self.root.glob(ENTRY_GLOB):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime_ns, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                continue
            total -= size
            removed.append(path)
        return removed

    def _discard(self, path: Path, problem: str) -> None:
        warnings.warn(CacheWarning(f"{path}: cache entry {problem}; rebuilding it"), stacklevel=3)
        try:
            path.unlink()
        except OSError:
            pass


def _check_header(header, key: CacheKey) -> str | None:
    if not isinstance(header, dict):
        return "has no header"
    if header.get("format") != CACHE_FORMAT:
        return f"has format {header.get('format')!r}, this version reads {CACHE_FORMAT} (stale)"
    if header.get("video") != key.video or header.get("params") != key.params:
        return "belongs to another video or other parameters (stale)"
    if not isinstance(header.get("arrays"), dict):
        return "has no array list"
    return None


def _check_arrays(listed: dict, arrays: dict[str, np.ndarray]) -> str | None:
    for name, spec in listed.items():
        a = arrays[name]
        if a.dtype.str != spec.get("dtype") or list(a.shape) != spec.get("shape"):
            return f"array {name} is {a.dtype.str} {list(a.shape)}, header says " \
                   f"{spec.get('dtype')} {spec.get('shape')} (corrupt)"
        if _sha(a) != spec.get("sha256"):
            return f"array {name} fails its checksum (corrupt)"
    return None


def _touch(path: Path) -> None:
    """Mark an entry as just used (its file time orders the size cap's evictions)."""
    try:
        os.utime(path)
    except OSError:  # a read-only cache still serves its entries
        pass


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
