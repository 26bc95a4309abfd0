"""The web page: upload a video, watch it being analysed, download its best GIFs.

A FastAPI app with one self-contained page (``page.html``, no external resource) and a small JSON
API. Uploads stream to a private temporary folder under a size cap; each becomes a job in a
bounded queue served by worker processes (:class:`~video2gif.batch.WorkerPool`, the same
per-video work as ``video2gif batch``). When the queue is full a new upload is answered at once
with 429 "busy" (never left hanging); a job's files are removed when its results expire. Names
of uploaded files are only displayed, never used as paths.

API (all JSON except the files):

- ``GET /``: the page.   ``GET /api/config``: limits and defaults the page shows.
- ``POST /api/jobs?name=NAME&k=K``: the video as the request body (any content type), or as
  ``multipart/form-data`` (the first file field). 202 ``{"id", "url"}``; 413 over the cap; 429 busy.
- ``GET /api/jobs/ID``: status, progress, and when done the ranked GIFs with their time ranges,
  scores and URLs. 404 once expired.
- ``GET /api/jobs/ID/files/NAME``: a GIF or segments.json (``?download=1`` as an attachment).
- ``DELETE /api/jobs/ID``: forget a job now.

Example:
    >>> from video2gif.serve import ServeConfig, create_app
    >>> app = create_app(ServeConfig(workers=2))  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
import shutil
import socket
import tempfile
import threading
import time
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.requests import ClientDisconnect

from ..batch import (
    DONE,
    VIDEO_EXTENSIONS,
    Finished,
    MakeSettings,
    Progress,
    Started,
    VideoTask,
    WorkerPool,
)
from ..errors import UsageError, Video2GifError

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1_000_000_000  # default upload cap, bytes (1 GB)
WORKERS = 1  # default worker processes (videos made at once)
QUEUE = 4  # default jobs waiting beyond the running ones
KEEP_SECONDS = 3600.0  # default lifetime of a finished job's results, seconds
MAX_K = 10  # most GIFs a page user may ask for
MULTIPART_SLACK = 64 * 1024  # bytes of multipart framing allowed on top of the cap
UPLOAD_IDLE_SECONDS = 60.0  # an upload that sends nothing for this long is dropped
REAP_INTERVAL = 0.5  # seconds between checks for expired jobs
RETRY_AFTER = 10  # seconds a busy answer suggests waiting
ANALYSE_SHARE = 0.85  # share of the progress bar given to analysis; encoding gets the rest
NAME_CHARS = 200  # longest displayed upload name
RESULT_FOLDER = "video"  # a job's results: <job>/out/video/
PAGE = "page.html"
# The page loads nothing from elsewhere; the browser enforces it.
CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class ServeConfig:
    """How the server runs."""

    settings: MakeSettings = field(default_factory=MakeSettings)  # what each job makes
    workers: int = WORKERS  # worker processes: videos made at once
    queue: int = QUEUE  # jobs waiting beyond the running ones; more are answered "busy"
    max_upload_bytes: int = MAX_UPLOAD_BYTES  # larger uploads are refused (413)
    keep_seconds: float = KEEP_SECONDS  # results (and their files) live this long after a job ends
    work_dir: str | None = None  # where uploads and results go (default: a new temporary folder)
    upload_idle_seconds: float = UPLOAD_IDLE_SECONDS  # a stalled upload is dropped after this

    def validate(self) -> ServeConfig:
        if self.workers < 1:
            raise UsageError("--workers", "must be at least 1")
        if self.queue < 0:
            raise UsageError("--queue", "cannot be negative")
        if self.max_upload_bytes < 1:
            raise UsageError("--max-upload", "must be positive")
        if self.keep_seconds <= 0:
            raise UsageError("--keep", "must be positive")
        if self.upload_idle_seconds <= 0:
            raise UsageError("upload_idle_seconds", "must be positive")
        return self


@dataclass
class Job:
    """One upload and what became of it (internal, guarded by the board's lock)."""

    id: str
    name: str  # the uploaded file's name, for display only
    k: int
    dir: Path
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
        self.pool = WorkerPool(config.settings, config.workers)
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
            for job in expired:
                del self.jobs[job.id]
        for job in expired:
            shutil.rmtree(job.dir, ignore_errors=True)

    # -- jobs -------------------------------------------------------------------------------------

    def admit(self, name: str, k: int) -> Job | None:
        """A new job in the "uploading" state, or None when the queue is full."""
        with self.lock:
            active = len(self.orphans) + sum(j.status in ("uploading", "queued", "running")
                                             for j in self.jobs.values())
            if active >= self.config.workers + self.config.queue:
                return None
            job_id = secrets.token_urlsafe(12)
            job = Job(id=job_id, name=name, k=k, dir=self.root / job_id)
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
        with self.lock:
            if self.fatal is not None:
                self._end(job, f"the server cannot make GIFs: {self.fatal}")
                return
            job.status = "queued"
            self.pool.submit(VideoTask(id=job.id, input=str(video), outdir=str(job.dir / "out"),
                                       name=RESULT_FOLDER, k=job.k))

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
            gifs.append({
                "pick": p.get("pick"), "rank": p.get("rank"), "start": p["start"],
                "end": p["end"], "score": p["score"],
                "file": file, "bytes": p.get("bytes"), "width": p.get("width"),
                "height": p.get("height"), "url": f"{base}/files/{file}",
                "download_url": f"{base}/files/{file}?download=1",
            })
        expires = None
        if job.ended is not None:
            expires = max(0.0, round(self.config.keep_seconds - (time.monotonic() - job.ended), 1))
        return {
            "id": job.id, "name": job.name, "k": job.k, "status": job.status,
            "position": position, "stage": job.stage, "progress": round(job.fraction, 4),
            "error": job.error, "gifs": gifs,
            "segments_url": f"{base}/files/segments.json" if job.status == "done" else None,
            "expires_in": expires,
        }


def _public_error(error: str, job: Job) -> str:
    """The error for the page: without the server's temporary paths."""
    return error.replace(str(job.dir) + "/", "").replace(str(job.dir), "")


def display_name(raw: str | None) -> str:
    """An upload's name fit for display: the last path component, printable, bounded.

    Example:
        >>> display_name("../../etc/passwd\\x00.mp4")
        'passwd.mp4'
    """
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    return name.strip()[:NAME_CHARS] or "video"


def _upload_suffix(name: str) -> str:
    """The stored upload's extension: the name's, when it is a known video extension (some
    containers are recognised by it), else none. Nothing else of the name is used."""
    suffix = Path(name).suffix.lower()
    return suffix if suffix in VIDEO_EXTENSIONS else ""


class _TooLarge(Exception):
    pass


class _BadUpload(Exception):
    status = 400


class _Stalled(_BadUpload):
    status = 408


async def _chunks(request: Request, idle: float) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk; gives up when the client sends nothing for ``idle``
    seconds (so a stalled upload cannot hold a queue slot forever)."""
    stream = request.stream().__aiter__()
    while True:
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), idle)
        except StopAsyncIteration:
            return
        except asyncio.TimeoutError:
            raise _Stalled(f"nothing received for {idle:g} s") from None
        if chunk:
            yield chunk


async def _receive_raw(request: Request, path: Path, cap: int, idle: float) -> int:
    size = 0
    # Plain blocking writes: each chunk is at most 64 KiB into the page cache.
    with open(path, "wb") as f:
        async for chunk in _chunks(request, idle):
            size += len(chunk)
            if size > cap:
                raise _TooLarge
            f.write(chunk)
    return size


async def _receive_multipart(request: Request, path: Path, cap: int,
                             idle: float) -> tuple[int, str | None]:
    """Stream the first file field of a multipart body into ``path``."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise _BadUpload("multipart body without a boundary")
    state = {"size": 0, "in_file": False, "done": False, "name": None, "header": b"",
             "headers": {}}
    out = open(path, "wb")

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        key = state["header"].lower()
        state["headers"][key] = state["headers"].get(key, b"") + data[start:end]

    def on_header_end() -> None:
        state["header"] = b""

    def on_headers_finished() -> None:
        disposition = state["headers"].get(b"content-disposition", b"")
        _, opts = parse_options_header(disposition)
        if not state["done"] and b"filename" in opts:
            state["in_file"] = True
            state["name"] = opts[b"filename"].decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["in_file"]:
            state["size"] += end - start
            if state["size"] > cap:
                raise _TooLarge
            out.write(data[start:end])

    def on_part_end() -> None:
        if state["in_file"]:
            state["in_file"], state["done"] = False, True

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    try:
        async for chunk in _chunks(request, idle):
            try:
                parser.write(chunk)
            except _TooLarge:
                raise
            except Exception as e:  # the parser's own errors: a malformed body
                raise _BadUpload(f"malformed multipart body ({e})") from None
    finally:
        out.close()
    if not state["done"]:
        raise _BadUpload("the multipart body has no complete file field")
    return state["size"], state["name"]


def _json_error(status: int, error: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status,
                        headers=headers)


def _mib(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def create_app(config: ServeConfig | None = None) -> FastAPI:
    """The web app: the page and its JSON API (see the module docstring).

    Worker processes start with the app (its lifespan) and stop with it; the temporary folder
    is removed at shutdown when the app made it.

    Arguments:
        config: limits and what each job makes.

    Returns:
        A FastAPI application, for uvicorn or any ASGI server.

    Raises:
        UsageError: a bad limit.

    Example:
        >>> from fastapi.testclient import TestClient  # doctest: +SKIP
        >>> with TestClient(create_app()) as client:  # doctest: +SKIP
        ...     job = client.post("/api/jobs?name=a.mp4", content=open("a.mp4", "rb")).json()
    """
    config = (config or ServeConfig()).validate()
    page = resources.files(__package__).joinpath(PAGE).read_text(encoding="utf-8")
    holder: dict[str, _Board] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        own = config.work_dir is None
        root = Path(tempfile.mkdtemp(prefix="video2gif-serve-") if own else config.work_dir)
        board = _Board(config, root)
        board.start()
        holder["board"] = board
        app.state.board = board
        try:
            yield
        finally:
            board.stop()
            if own:
                shutil.rmtree(root, ignore_errors=True)

    app = FastAPI(title="video2gif", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    def board() -> _Board:
        return holder["board"]

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP,
                                           "Cache-Control": "no-store"})

    @app.get("/api/config")
    def get_config() -> dict:
        s = config.settings
        return {"max_upload_bytes": config.max_upload_bytes, "k": s.k, "max_k": MAX_K,
                "format": s.encode.format, "keep_seconds": config.keep_seconds,
                "workers": config.workers, "queue": config.queue}

    @app.get("/api/health")
    def health() -> dict:
        return board().busy()

    @app.post("/api/jobs", status_code=202)
    async def create_job(request: Request, name: str = "", k: int | None = Query(None, ge=1,
                                                                                  le=MAX_K)):
        cap = config.max_upload_bytes
        multipart = request.headers.get("content-type", "").lower().startswith("multipart/")
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                declared_size = int(declared)
            except ValueError:
                return _json_error(400, "bad request", "Content-Length is not a number")
            if declared_size > cap + (MULTIPART_SLACK if multipart else 0):
                # Refused before a byte of the body is read.
                return _json_error(413, "too large", f"the upload is {_mib(declared_size)}; "
                                                     f"the limit is {_mib(cap)}")
        b = board()
        job = b.admit(display_name(name), k or config.settings.k)
        if job is None:
            state = b.busy()
            return _json_error(429, "busy", f"the server is busy ({state['running']} running, "
                                            f"{state['waiting']} waiting); try again shortly",
                               headers={"Retry-After": str(RETRY_AFTER)})
        video = job.dir / f"upload{_upload_suffix(job.name)}"
        try:
            if multipart:
                size, filename = await _receive_multipart(request, video, cap,
                                                          config.upload_idle_seconds)
                if not name and filename:
                    job.name = display_name(filename)
            else:
                size = await _receive_raw(request, video, cap, config.upload_idle_seconds)
        except _TooLarge:
            b.drop(job)
            return _json_error(413, "too large", f"the upload is over the limit of {_mib(cap)}")
        except ClientDisconnect:
            b.drop(job)  # nobody is left to answer; leave nothing behind
            return Response(status_code=400)
        except _BadUpload as e:
            b.drop(job)
            return _json_error(e.status, "bad upload", str(e))
        except BaseException:
            b.drop(job)
            raise
        if size == 0:
            b.drop(job)
            return _json_error(400, "empty", "the upload is empty")
        b.enqueue(job, video)
        return {"id": job.id, "url": f"api/jobs/{job.id}"}

    def find(job_id: str) -> Job | None:
        return board().jobs.get(job_id)

    def gone() -> JSONResponse:
        return _json_error(404, "not found", "no such job; results are kept "
                                             f"{config.keep_seconds:.0f} s after a job ends")

    @app.get("/api/jobs/{job_id}")
    def get_job(job_id: str):
        b = board()
        with b.lock:
            job = b.jobs.get(job_id)
            return gone() if job is None else b.describe(job)

    @app.get("/api/jobs/{job_id}/files/{file}")
    def get_file(job_id: str, file: str, download: bool = False):
        b = board()
        with b.lock:
            job = b.jobs.get(job_id)
            allowed = {Path(p["output"]).name for p in job.picks} if job else set()
            name = job.name if job else ""
            done = job is not None and job.status == "done"
        if not done:
            return gone()
        if file != "segments.json" and file not in allowed:  # only names the job made
            return _json_error(404, "not found", "no such file in this job")
        folder = job.dir / "out" / RESULT_FOLDER
        stem = Path(name).stem or "video"
        disposition = "attachment" if download else "inline"
        if file == "segments.json":
            try:
                doc = json.loads((folder / file).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return gone()
            if isinstance(doc.get("video"), dict):
                doc["video"]["path"] = name  # not the server's temporary path
            return JSONResponse(doc, headers={"Content-Disposition":
                                              f'{disposition}; filename="{stem}-segments.json"'})
        path = folder / file
        if not path.is_file():
            return gone()
        return FileResponse(path, filename=f"{stem}-{file}", content_disposition_type=disposition)

    @app.delete("/api/jobs/{job_id}", status_code=204)
    def delete_job(job_id: str):
        job = find(job_id)
        if job is None:
            return gone()
        board().drop(job)
        return Response(status_code=204)

    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BackgroundServer:
    """Run the app with uvicorn in a background thread (for notebooks and tests).

    Arguments:
        config: as :func:`create_app`.
        host: address to bind (loopback by default).
        port: port to bind; 0 picks a free one (see :attr:`url`).

    Example:
        >>> with BackgroundServer(ServeConfig()) as server:  # doctest: +SKIP
        ...     print(server.url)
        http://127.0.0.1:41877
    """

    def __init__(self, config: ServeConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        import uvicorn

        self.app = create_app(config)
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                     lifespan="on"))
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True,
                                        name="video2gif-uvicorn")

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def board(self) -> _Board:
        return self.app.state.board

    def start(self, timeout: float = 60.0) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join()
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_server(config: ServeConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve until interrupted (the ``video2gif serve`` command)."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
