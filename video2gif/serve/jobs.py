"""The job board: uploads become jobs in a bounded queue, served by worker processes
(:class:`~video2gif.batch.pool.WorkerPool`, the same per-video work as ``video2gif batch``);
finished jobs expire and their files are removed."""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..batch.manifest import DONE
from ..batch.pool import Finished, Progress, Started, VideoTask, WorkerPool
from ..errors import Video2GifError
from ..formats import format_of_file
from .config import ANALYSE_SHARE, REAP_INTERVAL, RESULT_FOLDER, ServeConfig

logger = logging.getLogger(__name__)


@dataclass
class Job:
    """One upload and what became of it (internal, guarded by the board's lock)."""

    id: str
    name: str  # the uploaded file's name, for display only
    dir: Path
    # The job's own options (query parameters, checked; k among them): field name → value.
    options: dict = field(default_factory=dict)
    status: str = "uploading"  # uploading, queued, running, done, failed
    ended: float | None = None  # time.monotonic() when it ended
    stage: str = ""
    fraction: float = 0.0
    error: str | None = None
    picks: list[dict] = field(default_factory=list)


class _Board:
    """The jobs, the queue bound and the worker pool; shared by request handlers and the
    dispatcher thread."""

    def __init__(self, config: ServeConfig, root: Path) -> None:
        self.config = config
        self.root = root
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.pool = WorkerPool(config.worker_settings(), config.workers)
        self.fatal: str | None = None
        self.orphans: dict[str, Path] = {}  # deleted while running: removed when the worker ends
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="video2gif-serve", daemon=True)

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.pool.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.pool.close(kill=True)
        with self.lock:
            folders = [job.dir for job in self.jobs.values()] + list(self.orphans.values())
            self.jobs.clear()
            self.orphans.clear()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self) -> None:
        last_reap = 0.0
        while not self._stop.is_set():
            try:
                last_reap = self._step(last_reap)
            except Exception:  # a bug here must not leave every job waiting forever
                logger.exception("video2gif serve: the job dispatcher failed; going on")
                self._stop.wait(1.0)

    def _step(self, last_reap: float) -> float:
        try:
            events = self.pool.events(timeout=0.2) if self.fatal is None else []
        except Video2GifError as e:  # the workers cannot load the models: nothing will run
            self._fail_all(str(e))
            return last_reap
        if self.fatal is not None:
            self._stop.wait(0.2)
        with self.lock:
            for event in events:
                self._apply(event)
        now = time.monotonic()
        if now - last_reap >= REAP_INTERVAL:
            self.reap(now)
            return now
        return last_reap

    def _fail_all(self, reason: str) -> None:
        with self.lock:
            self.fatal = reason
            for job in self.jobs.values():
                if job.status in ("queued", "running"):
                    self._end(job, f"the server cannot make GIFs: {reason}")

    def _apply(self, event) -> None:
        if isinstance(event, Finished) and event.task_id in self.orphans:
            shutil.rmtree(self.orphans.pop(event.task_id), ignore_errors=True)
            return
        job = self.jobs.get(event.task_id)
        if job is None:
            return
        if isinstance(event, Started):
            job.status, job.stage = "running", "analyse"
        elif isinstance(event, Progress):
            share = event.done / event.total if event.total > 0 else 0.0
            share = min(1.0, max(0.0, share))
            job.stage = event.stage
            job.fraction = (ANALYSE_SHARE * share if event.stage == "analyse"
                            else ANALYSE_SHARE + (1 - ANALYSE_SHARE) * share)
        elif isinstance(event, Finished):
            record = event.record
            if record["status"] == DONE:
                job.picks = record.get("picks") or []
                self._end(job, None)
            else:
                self._end(job, record.get("error") or "failed")

    def _end(self, job: Job, error: str | None) -> None:
        job.status = "done" if error is None else "failed"
        job.error = _public_error(error, job) if error else None
        job.fraction = 1.0 if error is None else job.fraction
        job.ended = time.monotonic()
        for upload in job.dir.glob("upload*"):  # the video is not needed any more
            upload.unlink(missing_ok=True)

    def reap(self, now: float | None = None) -> None:
        """Remove the jobs (and their files) whose results have expired."""
        now = time.monotonic() if now is None else now
        with self.lock:
            expired = [j for j in self.jobs.values()
                       if j.ended is not None and now - j.ended >= self.config.keep_seconds]
        # Files first (outside the lock), then the board: a job gone from the board has nothing
        # left on disk. A request in between finds the job but not its files (404).
        for job in expired:
            shutil.rmtree(job.dir, ignore_errors=True)
        with self.lock:
            for job in expired:
                self.jobs.pop(job.id, None)

    # -- jobs -------------------------------------------------------------------------------------

    def admit(self, name: str, options: dict | None = None) -> Job | None:
        """A new job in the "uploading" state, or None when the queue is full; ``options`` are
        its own (query parameters, already checked)."""
        with self.lock:
            active = len(self.orphans) + sum(j.status in ("uploading", "queued", "running")
                                             for j in self.jobs.values())
            if active >= self.config.workers + self.config.queue:
                return None
            job_id = secrets.token_urlsafe(12)
            job = Job(id=job_id, name=name, dir=self.root / job_id, options=dict(options or {}))
            job.dir.mkdir()
            self.jobs[job_id] = job
            return job

    def drop(self, job: Job) -> None:
        """Forget a job and remove its files (a failed upload, or DELETE)."""
        with self.lock:
            self.jobs.pop(job.id, None)
            if job.status == "running" or (job.status == "queued"
                                           and not self.pool.cancel(job.id)):
                self.orphans[job.id] = job.dir  # a worker is writing there; remove it after
                return
        shutil.rmtree(job.dir, ignore_errors=True)

    def enqueue(self, job: Job, video: Path) -> None:
        """Queue the uploaded video, to be made with the job's options over the settings."""
        with self.lock:
            if self.fatal is not None:
                self._end(job, f"the server cannot make GIFs: {self.fatal}")
                return
            job.status = "queued"
            self.pool.submit(VideoTask(id=job.id, input=str(video), outdir=str(job.dir / "out"),
                                       name=RESULT_FOLDER,
                                       overrides=tuple(sorted(job.options.items()))))

    def busy(self) -> dict:
        with self.lock:
            statuses = [j.status for j in self.jobs.values()]
        return {"workers": self.config.workers, "queue": self.config.queue,
                "running": statuses.count("running"),
                "waiting": statuses.count("queued") + statuses.count("uploading")}

    def describe(self, job: Job) -> dict:
        """The job's public JSON (call with the lock held)."""
        base = f"api/jobs/{job.id}"
        position = None
        if job.status == "queued":
            queued = self.pool.queued()
            position = queued.index(job.id) + 1 if job.id in queued else None
        gifs = []
        for p in job.picks:
            file = Path(p["output"]).name
            kind = format_of_file(file)
            gifs.append({
                "mime": kind.mime if kind else None, "element": kind.element if kind else "img",
                "pick": p.get("pick"), "rank": p.get("rank"), "start": p["start"],
                "end": p["end"], "score": p["score"],
                "file": file, "bytes": p.get("bytes"), "width": p.get("width"),
                "height": p.get("height"), "quality": p.get("quality"),
                "url": f"{base}/files/{file}",
                "download_url": f"{base}/files/{file}?download=1",
            })
        expires = None
        if job.ended is not None:
            expires = max(0.0, round(self.config.keep_seconds - (time.monotonic() - job.ended), 1))
        return {
            "id": job.id, "name": job.name, "status": job.status,
            "k": job.options.get("k", self.config.settings.k),
            "position": position, "stage": job.stage, "progress": round(job.fraction, 4),
            "error": job.error, "gifs": gifs, "options": job.options,
            "segments_url": f"{base}/files/segments.json" if job.status == "done" else None,
            "expires_in": expires,
        }


def _public_error(error: str, job: Job) -> str:
    """The error for the page: without the server's temporary paths."""
    return error.replace(str(job.dir) + "/", "").replace(str(job.dir), "")

