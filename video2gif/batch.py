"""Many videos, resumable: a pool of worker processes on one machine, or Ray on a cluster.

Every finished video appends one JSON line to a manifest (``OUTDIR/manifest.jsonl``): its input,
content hash, settings hash, status, outputs, error and seconds. Each line is written with one
``write`` and made durable with ``fsync`` before the next video is reported, and every video's
folder appears complete or not at all (:func:`~video2gif.pipeline.make_gifs` builds it under a
temporary name), so an interrupted run (Ctrl-C, ``kill -9``, a lost machine) loses nothing that was
finished. Running the same batch again skips the videos already done with the same content and
settings and retries the ones that failed. One bad video never stops the others: its error is
recorded and the batch goes on; even a worker that dies (a crash in a codec, the kernel's OOM
killer) only fails the video it was working on.

Example:
    >>> from video2gif.batch import MakeSettings, find_inputs, run_batch
    >>> inputs = find_inputs("videos/")  # doctest: +SKIP
    >>> summary = run_batch(inputs, "out/", MakeSettings(k=3), workers=2)  # doctest: +SKIP
    >>> summary.done, summary.failed, summary.skipped  # doctest: +SKIP
    (12, 1, 0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from .encode import EncodeOptions
from .errors import UsageError, Video2GifError
from .features.extract import FeatureOptions
from .rank import DEFAULT_MODEL
from .segments import SegmentOptions

# Extensions of the files a folder input contributes (lower case). GIFs are left out: they are
# this tool's output, not its input.
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".asf", ".flv", ".f4v", ".mpg",
    ".mpeg", ".m2v", ".ts", ".mts", ".m2ts", ".vob", ".3gp", ".3g2", ".ogv", ".ogg", ".dv",
    ".mxf", ".y4m", ".nut", ".rm", ".rmvb",
})  # fmt: skip
MANIFEST_NAME = "manifest.jsonl"  # default manifest, inside OUTDIR
LOCK_NAME = ".manifest.lock"  # held (flock) by the batch writing the manifest
DONE, FAILED = "done", "failed"  # manifest statuses
ENGINES = ("local", "ray")
PROGRESS_INTERVAL = 0.25  # seconds; a worker reports a video's progress at most this often
POLL_INTERVAL = 0.2  # seconds; the pool's event loop wakes at least this often
STOP_GRACE = 10.0  # seconds a stopped worker gets to clean up its half-built folder
PARENT_CHECK_INTERVAL = 1.0  # seconds; a worker whose parent died stops within this
MAX_EARLY_DEATHS = 3  # workers dying before they are ready: the pool gives up
STALE_SECONDS = 3600.0  # a leftover build folder this old is removed even if its pid looks alive
# Leftovers of an interrupted make_gifs or atomic write: ".<name>.partial-<pid>-<hex>",
# ".<name>.old-<hex>" (a replaced result being deleted) and ".<name>.tmp-<pid>-<hex>".
_LEFTOVER = re.compile(r"^\..+\.(?:(partial|tmp)-(\d+)-[0-9a-f]+|old-[0-9a-f]+)$")


# -- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchInput:
    """One video of a batch and where its results go.

    ``name`` is the result folder relative to OUTDIR (POSIX separators): the video's path relative
    to the input folder (or to the list file's folder), without its extension.
    """

    path: Path  # absolute
    name: str


def find_inputs(source: str | os.PathLike) -> list[BatchInput]:
    """The videos of a batch: a folder (searched recursively) or a text file of paths.

    In a folder, every file whose extension is in :data:`VIDEO_EXTENSIONS` counts, in sorted path
    order; hidden files and folders are skipped. A list file has one path per line; blank lines and
    lines starting with ``#`` are ignored, relative paths are relative to the list file's folder,
    and listed files are taken whatever their extension (a missing one fails on its own). Result
    folders mirror the paths below the folder (or the list file's folder); a video elsewhere gets
    its stem and a short hash of its path.

    Arguments:
        source: the folder or the list file.

    Returns:
        The inputs, each with a distinct result folder name.

    Raises:
        UsageError: ``source`` is missing, or holds no video.

    Example:
        >>> [i.name for i in find_inputs("videos/")]  # doctest: +SKIP
        ['holiday/beach', 'holiday/hotel', 'party']
    """
    src = Path(source)
    if src.is_dir():
        root = src.resolve()
        paths = sorted(
            p for p in _walk(root) if p.suffix.lower() in VIDEO_EXTENSIONS and p.is_file()
        )
        if not paths:
            raise UsageError(source, "no video files in this folder (looked for "
                                     f"{', '.join(sorted(VIDEO_EXTENSIONS)[:6])}, …)")
    elif src.is_file():
        root = src.resolve().parent
        try:
            lines = src.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(source, f"cannot read the list of videos ({e})") from None
        paths = []
        seen: set[Path] = set()
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = Path(os.path.expanduser(line))
            p = (p if p.is_absolute() else root / p).resolve()
            if p not in seen:
                seen.add(p)
                paths.append(p)
        if not paths:
            raise UsageError(source, "the list names no video")
    else:
        raise UsageError(source, "no such folder or list file")
    return _assign_names(paths, root)


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith("."):
                yield Path(dirpath) / name


def _assign_names(paths: list[Path], root: Path) -> list[BatchInput]:
    """Result folder names: the relative path without extension, made unique and never nested.

    Two videos with one stem (``a.mp4``, ``a.webm``), or a video whose folder would contain
    another's (``a.mp4`` beside a folder ``a/``), keep their extension in the name (``a-mp4``),
    since a result folder is replaced as a whole when its video is made again.
    """

    def plain(p: Path) -> str:
        try:
            rel = p.relative_to(root)
        except ValueError:  # listed from elsewhere: stem plus a hash of where it lives
            digest = hashlib.sha256(str(p).encode()).hexdigest()[:8]
            return f"{p.stem or 'video'}-{digest}"
        return rel.with_suffix("").as_posix() if rel.stem else rel.as_posix()

    names = [plain(p) for p in paths]
    taken: dict[str, int] = {}
    for n in names:
        taken[n] = taken.get(n, 0) + 1
    prefixes = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
    out = []
    for p, n in zip(paths, names):
        if taken[n] > 1 or n in prefixes:
            n = f"{n}-{p.suffix.lstrip('.').lower() or 'noext'}"
        out.append(BatchInput(path=p, name=n))
    return out


# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MakeSettings:
    """Everything :func:`~video2gif.pipeline.make_gifs` needs for each video of a batch.

    Only plain values: the models are loaded once in each worker, not in the caller.
    """

    k: int = 5  # GIFs per video
    encode: EncodeOptions = field(default_factory=EncodeOptions)  # format, width, fps, budget
    segments: SegmentOptions = field(default_factory=SegmentOptions)  # candidate lengths
    model: str = DEFAULT_MODEL  # scorer: a registry name or a model file
    features: FeatureOptions = field(default_factory=FeatureOptions)  # backbone, faces, sound
    cache_dir: str | None = None  # feature cache folder (None: the default location)
    use_cache: bool = True  # read and write the feature cache

    def validate(self) -> MakeSettings:
        """Return self, or raise UsageError/ModelError for a bad option (before any work)."""
        if self.k < 1:
            raise UsageError("-k", "must be at least 1")
        self.encode.validate()
        self.segments.validate()
        from .features.backbones import BACKBONES, NO_BACKBONE

        if self.features.backbone not in BACKBONES and self.features.backbone != NO_BACKBONE:
            raise UsageError("--backbone", f"unknown backbone {self.features.backbone!r}; choose "
                                           f"one of {', '.join(sorted(BACKBONES))} or none")
        from .rank import MODELS, load_model

        if self.model not in MODELS:  # a model file: small, check it here (ModelError when bad);
            load_model(self.model, weights_dir=self.features.weights_dir)  # names load in workers
        return self

    def digest(self) -> str:
        """The settings hash: SHA-256 over every setting that changes the outputs.

        The model counts by its contents when it is a file; the cache settings do not count.
        """
        doc = {
            "k": self.k,
            "encode": dataclasses.asdict(self.encode),
            "segments": dataclasses.asdict(self.segments),
            "model": _model_identity(self.model),
            "features": dataclasses.asdict(self.features),
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _model_identity(model: str) -> str:
    from .rank import MODELS

    if model in MODELS or not Path(model).is_file():
        return model
    digest = hashlib.sha256()
    with open(model, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"file:sha256:{digest.hexdigest()}"


def content_hash(path: str | os.PathLike) -> str:
    """The content hash a manifest records: :func:`video2gif.features.cache.fingerprint` (SHA-256
    over the size and the first, middle and last MiB), so it costs at most 3 MiB of reading.

    Raises:
        InputError: the file cannot be read.
    """
    from .features.cache import fingerprint

    return fingerprint(path)


# -- one video --------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoTask:
    """One video to make: its input, its result folder and the hashes the manifest records."""

    id: str  # unique in a run
    input: str  # absolute path of the video
    outdir: str  # OUTDIR (absolute)
    name: str  # result folder relative to OUTDIR
    content: str | None = None  # content hash
    settings: str | None = None  # settings hash
    k: int | None = None  # overrides the settings' k for this video


class Maker:
    """Makes GIFs with loaded models, one video at a time; lives in a worker.

    Arguments:
        settings: the batch's settings; the scorer and the feature extractor are loaded here.

    Raises:
        UsageError, ModelError: the settings cannot be loaded.
    """

    def __init__(self, settings: MakeSettings) -> None:
        from .features.cache import FeatureCache
        from .features.extract import FeatureExtractor
        from .rank import load_model

        self.settings = settings
        self.scorer = load_model(settings.model, weights_dir=settings.features.weights_dir)
        cache = FeatureCache(settings.cache_dir) if settings.use_cache else None
        self.extractor = FeatureExtractor(settings.features, cache=cache)

    def run(self, task: VideoTask,
            on_progress: Callable[[str, float, float], None] | None = None) -> dict:
        """Make one video's GIFs and return its manifest record; never raises for a bad video."""
        from .pipeline import make_gifs

        start = time.perf_counter()
        record = _record(task, FAILED)
        try:
            relative = Path(task.name)
            made = make_gifs(
                task.input, Path(task.outdir) / relative.parent, k=task.k or self.settings.k,
                model=self.scorer, encode_options=self.settings.encode,
                segment_options=self.settings.segments, folder_name=relative.name,
                on_progress=on_progress, features=self.extractor,
            )
        except Video2GifError as e:
            record["error"] = f"{type(e).__name__}: {e}"
        except Exception as e:  # a bug must not stop the batch either; keep its traceback
            record["error"] = f"{type(e).__name__}: {e}"
            record["traceback"] = traceback.format_exc(limit=-8)
        else:
            record["status"] = DONE
            record["outputs"] = [(relative / o.path.name).as_posix() for o in made.outputs]
            record["picks"] = [  # best first; "rank" is the rank among all candidates
                {"output": (relative / o.path.name).as_posix(), "pick": n, "rank": p.rank,
                 "start": round(p.start, 4), "end": round(p.end, 4),
                 "score": None if p.score is None else round(p.score, 6), "bytes": o.bytes,
                 "width": o.width, "height": o.height}
                for n, (p, o) in enumerate(zip(made.highlights.picks, made.outputs), start=1)
            ]
        record["seconds"] = round(time.perf_counter() - start, 3)
        return record


def _record(task: VideoTask, status: str, error: str | None = None) -> dict:
    return {
        "input": task.input,
        "content": task.content,
        "settings": task.settings,
        "status": status,
        "folder": task.name,
        "outputs": [],
        "error": error,
        "seconds": 0.0,
    }


def _error_tuple(e: Video2GifError) -> tuple[str, str, str]:
    return type(e).__name__, e.target, e.reason


def _rebuild_error(t: tuple[str, str, str]) -> Video2GifError:
    from . import errors

    cls = getattr(errors, t[0], Video2GifError)
    if not (isinstance(cls, type) and issubclass(cls, Video2GifError)):
        cls = Video2GifError
    return cls(t[1], t[2])


# -- the manifest -----------------------------------------------------------------------------


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
        """Every readable record, oldest first; a torn last line (a killed writer) is skipped."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as e:
            raise UsageError(self.path, f"cannot read the manifest ({e.strerror or e})") from None
        out = []
        for line in data.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("input"), str):
                out.append(record)
        return out

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
        """
        import fcntl

        lock = self.path.with_name(LOCK_NAME if self.path.name == MANIFEST_NAME
                                   else f".{self.path.name}.lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(self.path, "another batch is writing this manifest") from None
            yield self
        finally:
            os.close(fd)  # closing releases the lock; kill -9 releases it too


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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- worker processes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A running video's progress, as :func:`~video2gif.pipeline.make_gifs` reports it."""

    task_id: str
    stage: str  # "analyse" (seconds of video) or "encode" (GIFs)
    done: float
    total: float


@dataclass(frozen=True)
class Started:
    """A worker took a video."""

    task_id: str


@dataclass(frozen=True)
class Finished:
    """A video ended; ``record`` is its manifest record."""

    task_id: str
    record: dict


def _worker_main(conn: Connection, settings: MakeSettings, threads: int) -> None:
    """A worker process: load the models once, then make one video per message until told to
    stop (None) or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: parent decides
    signal.signal(signal.SIGTERM, _stop_now)  # stop → KeyboardInterrupt → make_gifs cleans up
    _watch_parent(os.getppid())
    _limit_threads(threads)
    send_lock = threading.Lock()

    def send(message) -> None:
        with send_lock:
            conn.send(message)

    try:
        try:
            maker = Maker(settings)
        except Video2GifError as e:
            send(("fatal", _error_tuple(e)))
            return
        send(("ready",))
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            send(("started", task.id))
            def progress(stage: str, done: float, total: float, task_id: str = task.id,
                         last: list[float] = [0.0]) -> None:  # noqa: B006 - one per video
                now = time.monotonic()
                if now - last[0] >= PROGRESS_INTERVAL or (stage == "encode" and done == total):
                    last[0] = now
                    send(("progress", task_id, stage, float(done), float(total)))

            record = maker.run(task, progress)
            send(("finished", task.id, record))
    except (KeyboardInterrupt, BrokenPipeError):
        return  # stopped: make_gifs has removed its half-built folder on the way out


def _limit_threads(threads: int) -> None:
    """Give torch ``threads`` threads, without importing it (2 s) where nothing needs it."""
    threads = max(1, threads)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))  # read when torch starts its thread pool
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _stop_now(signum, frame) -> None:
    raise KeyboardInterrupt


def _watch_parent(parent: int) -> None:
    """Stop this worker (cleanly, through SIGTERM) once its parent is gone, e.g. after kill -9."""

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_INTERVAL)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, daemon=True, name="video2gif-parent-watch").start()


class _Worker:
    def __init__(self, ctx, settings: MakeSettings, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, settings, threads),
                                   daemon=True, name="video2gif-worker")
        self.process.start()
        child.close()
        self.ready = False
        self.task: VideoTask | None = None


class WorkerPool:
    """Worker processes that load the models once and then make GIFs one video at a time.

    Thread-safe: :meth:`submit` may be called from any thread while one thread drives
    :meth:`events`. A worker that dies fails only the video it held, and is replaced.

    Arguments:
        settings: what to make; validated by the caller.
        workers: how many processes.
        threads: torch threads per worker (default: CPU cores / workers, at least 1).

    Example:
        >>> with WorkerPool(MakeSettings(), workers=2) as pool:  # doctest: +SKIP
        ...     pool.submit(task)
        ...     for event in pool.events(timeout=1.0): ...
    """

    def __init__(self, settings: MakeSettings, workers: int, threads: int | None = None) -> None:
        if workers < 1:
            raise UsageError("--workers", "must be at least 1")
        self.settings = settings
        self.size = workers
        self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
        # spawn: a fresh interpreter, not a fork of a parent that may hold threads and torch state
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._queue: deque[VideoTask] = deque()
        self._lock = threading.Lock()
        self._closed = False
        self._early_deaths = 0  # workers that died before loading their models

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def start(self) -> None:
        """Start the workers; returns at once (they load their models in the background)."""
        self._workers = [_Worker(self._ctx, self.settings, self.threads)
                         for _ in range(self.size)]

    def submit(self, task: VideoTask) -> None:
        """Queue a video; its events come from :meth:`events`."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            self._queue.append(task)

    def cancel(self, task_id: str) -> bool:
        """Drop a queued (not yet started) video; True if it was still queued."""
        with self._lock:
            for t in self._queue:
                if t.id == task_id:
                    self._queue.remove(t)
                    return True
        return False

    def queued(self) -> list[str]:
        """Ids of the videos waiting for a worker, first to start first."""
        with self._lock:
            return [t.id for t in self._queue]

    def busy(self) -> int:
        """How many videos are being made now."""
        return sum(w.task is not None for w in self._workers)

    def pids(self) -> dict[str, int]:
        """Process id of the worker making each running video, by task id."""
        return {w.task.id: w.process.pid for w in self._workers if w.task is not None}

    def events(self, timeout: float = POLL_INTERVAL) -> list[Started | Progress | Finished]:
        """Hand queued videos to idle workers and collect what happened, waiting up to
        ``timeout`` seconds for something to happen.

        Raises:
            Video2GifError: a worker could not load the settings' models (nothing can be made).
        """
        self._dispatch()
        out: list[Started | Progress | Finished] = []
        waitables = {w.conn: w for w in self._workers}
        sentinels = {w.process.sentinel: w for w in self._workers}
        for ready in wait([*waitables, *sentinels], timeout):
            if ready in waitables:
                self._read(waitables[ready], out)
        for w in list(self._workers):
            if not w.process.is_alive():
                self._read(w, out)  # whatever it sent before it went
                self._replace(w, out)
        self._dispatch()
        return out

    def _read(self, w: _Worker, out: list) -> None:
        while True:
            try:
                if not w.conn.poll():
                    return
                message = w.conn.recv()
            except (EOFError, OSError):
                return  # the process is gone: handled with the sentinels
            kind = message[0]
            if kind == "ready":
                w.ready = True
            elif kind == "fatal":
                self.close(kill=True)
                raise _rebuild_error(message[1])
            elif kind == "started":
                out.append(Started(message[1]))
            elif kind == "progress":
                out.append(Progress(*message[1:]))
            elif kind == "finished":
                w.task = None
                out.append(Finished(message[1], message[2]))

    def _replace(self, w: _Worker, out: list) -> None:
        w.process.join(0)
        code = w.process.exitcode
        if not w.ready and not self._closed:
            self._early_deaths += 1
            if self._early_deaths >= MAX_EARLY_DEATHS:  # it will not get better by retrying
                self.close(kill=True)
                raise Video2GifError("batch workers", f"worker processes die before they are "
                                                      f"ready (exit code {code})")
        if w.task is not None:
            how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
                   else f"exit code {code}")
            out.append(Finished(w.task.id, _record(
                w.task, FAILED, f"WorkerDied: the worker making this video died ({how})")))
        w.conn.close()
        self._workers.remove(w)
        if not self._closed:
            self._workers.append(_Worker(self._ctx, self.settings, self.threads))

    def _dispatch(self) -> None:
        with self._lock:
            for w in self._workers:
                if not self._queue:
                    return
                if w.ready and w.task is None and w.process.is_alive():
                    task = self._queue.popleft()
                    try:
                        w.conn.send(task)
                    except OSError:  # died just now; the sentinel reports it
                        self._queue.appendleft(task)
                        continue
                    w.task = task

    def close(self, kill: bool = False) -> None:
        """Stop the workers. Running videos are interrupted (their half-built folders removed)
        when ``kill`` is true, else each worker first finishes what it holds."""
        with self._lock:
            self._closed = True
            self._queue.clear()
        for w in self._workers:
            if kill and w.task is not None:
                w.process.terminate()  # SIGTERM: the worker removes its half-built folder
            else:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
        deadline = time.monotonic() + STOP_GRACE
        for w in self._workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        self._workers = []


# -- running a batch --------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSummary:
    """How a batch went."""

    done: int  # videos made in this run
    failed: int  # videos that failed in this run
    skipped: int  # videos already done with the same content and settings
    seconds: float  # wall time of this run
    manifest: Path
    records: list[dict]  # this run's manifest records, in the order they finished


# on_record(record, done, failed, remaining); on_plan(to_do, skipped)
RecordCallback = Callable[[dict, int, int, int], None]
PlanCallback = Callable[[int, int], None]


def run_batch(
    inputs: Sequence[BatchInput] | str | os.PathLike,
    outdir: str | os.PathLike,
    settings: MakeSettings | None = None,
    workers: int | None = None,
    engine: str = "local",
    address: str | None = None,
    manifest: str | os.PathLike | None = None,
    on_plan: PlanCallback | None = None,
    on_record: RecordCallback | None = None,
) -> BatchSummary:
    """Make the GIFs of many videos, skipping those already done, recording each as it ends.

    Arguments:
        inputs: :class:`BatchInput` list, or a folder / list file for :func:`find_inputs`.
        outdir: OUTDIR; each video's results go to ``OUTDIR/<name>/``.
        settings: what to make (default :class:`MakeSettings`).
        workers: parallel videos (local: processes, default the CPU count; ray: actors, default
            the cluster's CPUs).
        engine: "local" (a process pool) or "ray".
        address: with "ray": the cluster to join (e.g. "auto", "ray://head:10001"); default
            ``$RAY_ADDRESS`` if set, else a Ray started for this batch. Ignored when Ray is
            already initialised in this process.
        manifest: the manifest file (default ``OUTDIR/manifest.jsonl``).
        on_plan: called once with (videos to make, videos skipped).
        on_record: called after each video's record is written, with the record and the counts
            so far (done, failed, remaining).

    Returns:
        BatchSummary of this run.

    Workers are fresh interpreters (multiprocessing's "spawn"), which import the calling script's
    main module: in a script, call this under ``if __name__ == "__main__":``.

    Raises:
        UsageError: bad inputs, options, or another batch is writing the same manifest.
        ModelError: the model cannot be loaded. Nothing about a single video raises.
        KeyboardInterrupt: interrupted; everything finished so far is in the manifest.
    """
    if engine not in ENGINES:
        raise UsageError("--engine", f"{engine!r} is not one of {', '.join(ENGINES)}")
    if address is not None and engine != "ray":
        raise UsageError("--address", "only applies with --engine ray")
    if workers is not None and workers < 1:
        raise UsageError("--workers", "must be at least 1")
    settings = (settings or MakeSettings()).validate()
    if not isinstance(inputs, Sequence) or isinstance(inputs, str):
        inputs = find_inputs(inputs)
    out = Path(outdir).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(outdir, f"cannot create the output folder ({e.strerror or e})") from None
    book = Manifest(manifest if manifest is not None else out / MANIFEST_NAME)
    started = time.perf_counter()
    with book.locked(), _sigterm_as_interrupt():
        remove_leftovers({(out / i.name).parent for i in inputs})
        digest = settings.digest()
        latest = book.latest()
        tasks: list[VideoTask] = []
        unreadable: list[dict] = []
        skipped = 0
        for n, item in enumerate(inputs):
            task = VideoTask(id=str(n), input=str(item.path), outdir=str(out), name=item.name,
                             settings=digest)
            try:
                content = content_hash(item.path)
            except Video2GifError as e:
                unreadable.append(_record(task, FAILED, f"{type(e).__name__}: {e}"))
                continue
            if is_done(latest.get(task.input), content, digest, out):
                skipped += 1
                continue
            tasks.append(dataclasses.replace(task, content=content))
        if on_plan:
            on_plan(len(tasks) + len(unreadable), skipped)
        records: list[dict] = []
        counts = {DONE: 0, FAILED: 0}
        remaining = [len(tasks) + len(unreadable)]

        def finish(record: dict) -> None:
            book.append(record)
            records.append(record)
            counts[record["status"]] += 1
            remaining[0] -= 1
            if on_record:
                on_record(record, counts[DONE], counts[FAILED], remaining[0])

        for record in unreadable:
            finish(record)
        if tasks:
            if engine == "local":
                _run_local(tasks, settings, workers or os.cpu_count() or 1, finish)
            else:
                _run_ray(tasks, settings, workers, address, finish)
    return BatchSummary(done=counts[DONE], failed=counts[FAILED], skipped=skipped,
                        seconds=time.perf_counter() - started, manifest=book.path,
                        records=records)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A plain ``kill`` stops the batch the way Ctrl-C does (workers clean up, records stay)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_local(tasks: list[VideoTask], settings: MakeSettings, workers: int,
               finish: Callable[[dict], None]) -> None:
    pool = WorkerPool(settings, min(workers, len(tasks)))
    pool.start()
    interrupted = True
    try:
        for task in tasks:
            pool.submit(task)
        left = len(tasks)
        while left:
            for event in pool.events(timeout=1.0):
                if isinstance(event, Finished):
                    finish(event.record)
                    left -= 1
        interrupted = False
    finally:
        pool.close(kill=interrupted)


# -- Ray --------------------------------------------------------------------------------------


class RayWorker:
    """The per-video work as a Ray actor: the models are loaded once per actor."""

    def __init__(self, settings: MakeSettings, threads: int = 1) -> None:
        self.error: tuple[str, str, str] | None = None
        _limit_threads(threads)
        try:
            self.maker: Maker | None = Maker(settings)
        except Video2GifError as e:
            self.maker = None
            self.error = _error_tuple(e)

    def ready(self) -> tuple[str, str, str] | None:
        """None when the models loaded, else the error (type name, target, reason)."""
        return self.error

    def run(self, task: VideoTask) -> dict:
        assert self.maker is not None
        return self.maker.run(task)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise UsageError("--engine", "Ray is not installed; pip install 'video2gif[ray]'") from None
    return ray


def _run_ray(tasks: list[VideoTask], settings: MakeSettings, workers: int | None,
             address: str | None, finish: Callable[[dict], None]) -> None:
    ray = _import_ray()
    from ray.exceptions import RayActorError, RayError

    own = not ray.is_initialized()
    if own:
        address = address or os.environ.get("RAY_ADDRESS") or None
        options = {"include_dashboard": False, "log_to_driver": False}
        if address is None:  # a Ray of our own on this machine
            options["num_cpus"] = workers or os.cpu_count() or 1
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise UsageError("--address", f"cannot join the Ray cluster at {address} ({e})"
                             ) from None
    actor_class = ray.remote(num_cpus=1)(RayWorker)
    actors: list = []
    try:
        size = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        size = min(size, len(tasks))
        actors = [actor_class.remote(settings) for _ in range(size)]
        try:
            errors = ray.get([a.ready.remote() for a in actors])
        except RayError as e:  # e.g. video2gif is not installed where the actors run
            raise Video2GifError("--engine ray", f"the Ray workers could not start "
                                                 f"({_one_line(e)})") from None
        for error in errors:
            if error is not None:
                raise _rebuild_error(error)
        pending = deque(tasks)
        free = list(actors)
        running: dict = {}  # object ref -> (actor, task)
        while pending or running:
            while pending and free:
                actor, task = free.pop(), pending.popleft()
                running[actor.run.remote(task)] = (actor, task)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in ready:
                actor, task = running.pop(ref)
                try:
                    record = ray.get(ref)
                except RayActorError as e:  # the actor's process died with this video
                    record = _record(task, FAILED, f"WorkerDied: the Ray worker making this "
                                                   f"video died ({_one_line(e)})")
                    actors.remove(actor)
                    actor = actor_class.remote(settings)
                    actors.append(actor)
                except RayError as e:
                    record = _record(task, FAILED, f"{type(e).__name__}: {_one_line(e)}")
                free.append(actor)
                finish(record)
    finally:
        for a in actors:
            with contextlib.suppress(Exception):
                ray.kill(a)
        if own:
            ray.shutdown()


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:300]


__all__ = [
    "VIDEO_EXTENSIONS", "BatchInput", "BatchSummary", "Finished", "Maker", "MakeSettings",
    "Manifest", "Progress", "RayWorker", "Started", "VideoTask", "WorkerPool", "content_hash",
    "find_inputs", "is_done", "remove_leftovers", "run_batch",
]
