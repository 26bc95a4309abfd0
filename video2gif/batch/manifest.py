"""The manifest: the append-only, durable JSON-lines record of a batch's finished videos, and the
clean-up of what interrupted runs leave behind.

Example:
    >>> m = Manifest("out/manifest.jsonl")  # doctest: +SKIP
    >>> m.latest()["/v/a.mp4"]["status"]  # doctest: +SKIP
    'done'
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from .._io import atomic_path
from ..errors import OutputError, UsageError

MANIFEST_NAME = "manifest.jsonl"  # default manifest, inside OUTDIR
LOCK_NAME = ".manifest.lock"  # held (flock) by the batch writing the manifest
DONE, FAILED = "done", "failed"  # manifest statuses
STALE_SECONDS = 3600.0  # a leftover build folder this old is removed even if its pid looks alive
# Leftovers of an interrupted make_gifs or atomic write: ".<name>.partial-<pid>-<hex>",
# ".<name>.old-<hex>" (a replaced result being deleted) and ".<name>.tmp-<pid>-<hex>".
_LEFTOVER = re.compile(r"^\..+\.(?:(partial|tmp)-(\d+)-[0-9a-f]+|old-[0-9a-f]+)$")


def content_hash(path: str | os.PathLike) -> str:
    """The content hash a manifest records: :func:`video2gif.features.cache.fingerprint` (SHA-256
    over the size and the first, middle and last MiB), so it costs at most 3 MiB of reading.

    Raises:
        InputError: the file cannot be read.
    """
    from ..features.cache import fingerprint

    return fingerprint(path)


class Manifest:
    """The append-only JSON-lines record of a batch's finished videos.

    Arguments:
        path: the manifest file (created on the first record).

    Example:
        >>> m = Manifest(tmp / "manifest.jsonl")  # doctest: +SKIP
        >>> m.append({"input": "/v/a.mp4", "status": "done", ...})  # doctest: +SKIP
        >>> m.latest()["/v/a.mp4"]["status"]  # doctest: +SKIP
        'done'
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock_file: int | None = None

    def records(self) -> list[dict]:
        """Every readable record, oldest first; a torn line (a killed writer) is skipped."""
        out = []
        for line in self._read().splitlines():
            record = _json_object(line)
            if record is not None and isinstance(record.get("input"), str):
                out.append(record)
        return out

    def repair(self) -> int:
        """Rewrite the file without the torn lines a killed writer left (the next record would
        otherwise follow them and leave them mid-file, where strict JSON-lines readers fail);
        atomically, so a crash now loses nothing. An intact file is left untouched. Call it with
        the lock held. Returns how many lines were dropped.

        Raises:
            UsageError: the manifest cannot be read.
            OutputError: it cannot be rewritten.
        """
        data = self._read()
        lines = data.splitlines()
        kept = [line for line in lines if _json_object(line) is not None]
        if len(kept) == len(lines) and (not data or data.endswith(b"\n")):
            return 0
        try:
            with atomic_path(self.path) as tmp:
                with open(tmp, "wb") as f:
                    f.write(b"".join(line + b"\n" for line in kept))
                    f.flush()
                    os.fsync(f.fileno())
                mode = self.path.stat().st_mode & 0o777
                os.chmod(tmp, mode)
        except OSError as e:
            raise OutputError(self.path, f"cannot repair the manifest ({e.strerror or e})"
                              ) from None
        return len(lines) - len(kept)

    def _read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as e:
            raise UsageError(self.path, f"cannot read the manifest ({e.strerror or e})") from None

    def latest(self) -> dict[str, dict]:
        """The last record of each input."""
        return {r["input"]: r for r in self.records()}

    def append(self, record: dict) -> None:
        """Add one record durably: one write of one line, then fsync."""
        line = json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and _last_byte(self.path) != b"\n":  # after a torn write: start a new line
                line = "\n" + line
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def locked(self) -> Iterator[Manifest]:
        """Hold the manifest's lock file for the block: a second batch on it is refused.

        Raises:
            UsageError: another batch holds the lock.
            OutputError: the lock file cannot be created (a read-only folder, or below a file).
        """
        import fcntl

        lock = self.path.with_name(LOCK_NAME if self.path.name == MANIFEST_NAME
                                   else f".{self.path.name}.lock")
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise OutputError(lock, f"cannot create the batch's lock file ({e.strerror or e})"
                              ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(self.path, "another batch is writing this manifest") from None
            yield self
        finally:
            os.close(fd)  # closing releases the lock; kill -9 releases it too


def _json_object(line: bytes) -> dict | None:
    """The JSON object on a manifest line, or None (a torn or blank line)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1)


def is_done(record: dict | None, content: str | None, settings: str, outdir: Path) -> bool:
    """Whether ``record`` says the video is finished with this content and these settings, and
    its outputs are still there."""
    return bool(
        record
        and record.get("status") == DONE
        and content is not None
        and record.get("content") == content
        and record.get("settings") == settings
        and all((outdir / o).is_file() for o in record.get("outputs") or ())
        and (outdir / str(record.get("folder", "")) / "segments.json").is_file()
    )


def remove_leftovers(folders: set[Path], stale_after: float = STALE_SECONDS) -> list[Path]:
    """Remove what interrupted runs left in ``folders`` (not recursive): half-built result folders
    and temporary files whose process is gone (or that are older than ``stale_after`` seconds,
    for those built on another machine). Returns what was removed."""
    removed = []
    now = time.time()
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            m = _LEFTOVER.match(entry.name)
            if not m:
                continue
            pid = int(m.group(2)) if m.group(2) else None
            try:
                old = now - entry.stat(follow_symlinks=False).st_mtime > stale_after
            except OSError:
                continue
            if pid is not None and _alive(pid) and not old:
                continue  # a live process (another batch, a make) is still building it
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs; a killed one not yet reaped (a zombie) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: after kill -9 the worker lingers as a zombie until its new parent reaps it
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
