"""Worker processes that load the models once, then make GIFs one video at a time: the per-video
work of ``video2gif batch`` and of the web app (``video2gif serve``).

Example:
    >>> with WorkerPool(GifOptions(k=3), workers=2) as pool:  # doctest: +SKIP
    ...     pool.submit(VideoTask(id="1", input="/v/a.mp4", outdir="/out", name="a"))
    ...     for event in pool.events(timeout=1.0): ...
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from .. import errors
from .._io import json_score, json_seconds
from ..errors import UsageError, Video2GifError
from ..options import GifOptions
from .manifest import DONE, FAILED

PROGRESS_INTERVAL = 0.25  # seconds; a worker reports a video's progress at most this often
POLL_INTERVAL = 0.2  # seconds; the pool's event loop wakes at least this often
STOP_GRACE = 10.0  # seconds a stopped worker gets to clean up its half-built folder
PARENT_CHECK_INTERVAL = 1.0  # seconds; a worker whose parent died stops within this
MAX_EARLY_DEATHS = 3  # workers dying before they are ready: the pool gives up


@dataclass(frozen=True)
class VideoTask:
    """One video to make: its input, its result folder and the hashes the manifest records."""

    id: str  # unique in a run
    input: str  # absolute path of the video
    outdir: str  # OUTDIR (absolute)
    name: str  # result folder relative to OUTDIR
    content: str | None = None  # content hash
    settings: str | None = None  # settings hash
    # Per-video overrides of the settings' fields that need no other model (the web app's query
    # parameters): (field name, value) pairs, see video2gif.options.parse_query.
    overrides: tuple[tuple[str, object], ...] = ()


class Maker:
    """Makes GIFs with loaded models, one video at a time; lives in a worker.

    Arguments:
        settings: the batch's options; the scorer and the feature extractor are loaded here.

    Raises:
        UsageError, ModelError: the settings cannot be loaded.
    """

    def __init__(self, settings: GifOptions) -> None:
        from ..gif import warm_up
        from ..scorers import load_model

        self.settings = settings
        self.scorer = load_model(settings.model, weights_dir=settings.weights_dir)
        self.extractor = settings.feature_extractor()
        # The GIF encoder's kernels too, before the first video (loaded from numba's cache in
        # under a second; compiled once, about 10 s, where nothing has compiled them yet):
        # a server's first upload then does not wait for them.
        warm_up()

    def run(self, task: VideoTask,
            on_progress: Callable[[str, float, float], None] | None = None) -> dict:
        """Make one video's GIFs and return its manifest record; never raises for a bad video."""
        from ..pipeline import make_gifs

        start = time.perf_counter()
        record = _record(task, FAILED)
        try:
            relative = Path(task.name)
            options = dataclasses.replace(self.settings, **dict(task.overrides))
            made = make_gifs(
                task.input, Path(task.outdir) / relative.parent, model=self.scorer,
                folder_name=relative.name, on_progress=on_progress, features=self.extractor,
                options=options,
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
                 "start": json_seconds(p.start), "end": json_seconds(p.end),
                 "score": json_score(p.score), "bytes": o.bytes,
                 "width": o.width, "height": o.height, "quality": o.quality}
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
    cls = getattr(errors, t[0], Video2GifError)
    if not (isinstance(cls, type) and issubclass(cls, Video2GifError)):
        cls = Video2GifError
    return cls(t[1], t[2])


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


def _worker_main(conn: Connection, settings: GifOptions, threads: int) -> None:
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
    def __init__(self, ctx, settings: GifOptions, threads: int) -> None:
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
        >>> with WorkerPool(GifOptions(), workers=2) as pool:  # doctest: +SKIP
        ...     pool.submit(task)
        ...     for event in pool.events(timeout=1.0): ...
    """

    def __init__(self, settings: GifOptions, workers: int, threads: int | None = None) -> None:
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
