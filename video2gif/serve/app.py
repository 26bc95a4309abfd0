"""The web page: upload a video, watch it being analysed, download its best GIFs.

A FastAPI app with one self-contained page (``page.html``, no external resource) and a small JSON
API. Uploads stream to a private temporary folder under a size cap; each becomes a job in a
bounded queue served by worker processes (:class:`~video2gif.batch.pool.WorkerPool`, the same
per-video work as ``video2gif batch``). When the queue is full a new upload is answered at once
with 429 "busy" (never left hanging); a job's files are removed when its results expire. Names
of uploaded files are only displayed, never used as paths.

API (all JSON except the files):

- ``GET /``: the page.   ``GET /api/config``: limits and defaults the page shows, and the
  per-job options it offers (``options``: each one's label, help, kind, choices or range, and
  the server's value), built from :class:`~video2gif.options.GifOptions`' metadata.
- ``GET /api/check?width=320&...``: 200 ``{"options"}`` when ``POST /api/jobs`` would take
  these query parameters, else its 422; the page asks before it uploads anything.
- ``POST /api/jobs?name=NAME&k=K``: the video as the request body (any content type), or as
  ``multipart/form-data`` (the first file field). Other query parameters set the job's options:
  those of :class:`~video2gif.options.GifOptions` marked ``per_job``, named like their flags
  (``width=320``, ``max-bytes=2M``, ``format=webp``); anything else is refused with 422 naming
  the parameter. 202 ``{"id", "url"}``; 413 over the cap; 429 busy.
- ``GET /api/jobs/ID``: status, progress, and when done the ranked GIFs with their time ranges,
  scores and URLs. 404 once expired.
- ``GET /api/jobs/ID/files/NAME``: a GIF or segments.json (``?download=1`` as an attachment).
- ``DELETE /api/jobs/ID``: forget a job now.

Every request must name this machine's loopback address as its ``Host`` (or a name given with
``--allow-host``), so a rebinding domain cannot reach the server through a browser; a POST or
DELETE from a page of another origin (``--allow-origin`` opts one in) is refused, so a web page
the user visits cannot submit jobs. Every answer says ``X-Content-Type-Options: nosniff`` and
carries a Content-Security-Policy (the page's allows its own inline script; the rest allow
nothing).

Example:
    >>> from video2gif.serve import ServeConfig, create_app
    >>> app = create_app(ServeConfig(workers=2))  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import shutil
import socket
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect

from ..errors import UsageError
from ..formats import OUTPUT_FORMATS
from ..options import parse_query, query_parameters
from .config import (
    HOST,
    MAX_K,
    MULTIPART_SLACK,
    PAGE,
    PORT,
    RESULT_FOLDER,
    RETRY_AFTER,
    ServeConfig,
    page_options,
)
from .jobs import Job, _Board
from .upload import (
    Pace,
    _BadUpload,
    _receive_multipart,
    _receive_raw,
    _TooLarge,
    _upload_suffix,
    display_name,
)

# The page loads nothing from elsewhere; the browser enforces it.
CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
# Everything else (JSON, GIFs, segments.json) runs nothing and embeds nowhere, even if a browser
# were talked into rendering it as a document.
DATA_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " \
           "sandbox"
ANY = "*"  # --allow-host / --allow-origin value that allows everything
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # listening addresses that mean every address
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # methods a foreign page may not send
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# What a download's plain file name may keep; anything else (quotes, semicolons, backslashes,
# non-ASCII) could end the parameter or the header, and becomes "_". The exact name travels
# percent-encoded in filename* (RFC 5987), which browsers prefer.
_PLAIN_NAME = re.compile(r"[^A-Za-z0-9._ -]")


def content_disposition(kind: str, filename: str) -> str:
    """A Content-Disposition header for ``filename``, whatever its characters (RFC 6266).

    Example:
        >>> print(content_disposition("attachment", 'a"; b.json'))
        attachment; filename="a__ b.json"; filename*=UTF-8''a%22%3B%20b.json
    """
    plain = _PLAIN_NAME.sub("_", filename)
    return f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _split_host(host: str, scheme: str) -> tuple[str, int | None]:
    """``host[:port]`` (IPv6 in brackets) as (lower-case name, port or the scheme's default)."""
    try:
        parts = urlsplit(f"//{host}")
        return (parts.hostname or "").rstrip("."), parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a malformed port
        return "", None


class _Guard:
    """ASGI middleware: refuses requests naming an unknown host (DNS rebinding, 400) and writes
    from other origins (cross-site requests, 403) before the app sees them, and adds
    ``nosniff`` and a Content-Security-Policy to every answer that has none."""

    def __init__(self, app, hosts: tuple[str, ...], origins: tuple[str, ...]) -> None:
        self.app = app
        self.hosts = {h.lower().strip("[]").rstrip(".") for h in hosts}
        self.origins = {o.lower().rstrip("/") for o in origins}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope, Headers(scope=scope))
        if refusal is not None:
            await refusal(scope, receive, _with_safety_headers(send))
            return
        await self.app(scope, receive, _with_safety_headers(send))

    def _refusal(self, scope, headers: Headers) -> JSONResponse | None:
        scheme = scope.get("scheme", "http")
        host = headers.get("host")
        if host is not None and ANY not in self.hosts:
            name, _ = _split_host(host, scheme)
            if not (is_loopback(name) or name in self.hosts):
                return _json_error(400, "unknown host", f"Host {host!r} is not this server's "
                                   f"(start it with --allow-host {name or host} to answer it)")
        if scope["method"] not in WRITES or ANY in self.origins:
            return None
        origin = headers.get("origin")
        if origin is None:  # not a browser's cross-site request, unless Fetch says it is
            if headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
                return None
            origin = f"a {headers['sec-fetch-site']} page"
        elif origin.lower().rstrip("/") in self.origins or (
                host is not None and _same_origin(origin, host, scheme)):
            return None
        return _json_error(403, "cross-origin", f"a request from {origin} is refused: only this "
                           "server's own page may send jobs (start it with --allow-origin "
                           "ORIGIN to allow another)")


def _same_origin(origin: str, host: str, scheme: str) -> bool:
    """Whether the Origin header names the server the request was sent to."""
    try:
        parts = urlsplit(origin)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    return (parts.scheme == scheme and parts.hostname is not None
            and (parts.hostname, port) == _split_host(host, scheme))


def _with_safety_headers(send):
    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("X-Content-Type-Options", "nosniff")
            headers.setdefault("Content-Security-Policy", DATA_CSP)
            headers.setdefault("Referrer-Policy", "no-referrer")
        await send(message)

    return wrapped


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
    options = page_options(config.settings)
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
    app.add_middleware(_Guard, hosts=config.allow_hosts, origins=config.allow_origins)
    pace = Pace(idle=config.upload_idle_seconds, min_rate=config.upload_min_rate,
                deadline=config.upload_deadline_seconds)

    def board() -> _Board:
        return holder["board"]

    def job_options(request: Request) -> dict:
        """The job's own options from the query (UsageError naming the parameter)."""
        overrides = parse_query(request.query_params, config.settings, ignore=("name",))
        if overrides.get("k", 0) > MAX_K:
            raise UsageError("k", f"must be at most {MAX_K}")
        return overrides

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": CSP,
                                           "Cache-Control": "no-store"})

    @app.get("/api/config")
    def get_config() -> dict:
        s = config.settings
        return {"max_upload_bytes": config.max_upload_bytes, "k": s.k, "max_k": MAX_K,
                "format": s.format, "keep_seconds": config.keep_seconds,
                "workers": config.workers, "queue": config.queue,
                "formats": {f.name: {"mime": f.mime, "element": f.element, "loops": f.loops}
                            for f in OUTPUT_FORMATS.values()},
                "parameters": sorted(query_parameters()), "options": options}

    @app.get("/api/check")
    def check(request: Request):
        try:
            return {"options": job_options(request)}
        except UsageError as e:
            return _json_error(422, "bad parameter", str(e))

    @app.get("/api/health")
    def health() -> dict:
        return board().busy()

    @app.post("/api/jobs", status_code=202)
    async def create_job(request: Request, name: str = ""):
        try:
            overrides = job_options(request)
        except UsageError as e:
            return _json_error(422, "bad parameter", str(e))
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
        job = b.admit(display_name(name), overrides)
        if job is None:
            state = b.busy()
            return _json_error(429, "busy", f"the server is busy ({state['running']} running, "
                                            f"{state['waiting']} waiting); try again shortly",
                               headers={"Retry-After": str(RETRY_AFTER)})
        video = job.dir / f"upload{_upload_suffix(job.name)}"
        try:
            if multipart:
                size, filename = await _receive_multipart(request, video, cap, pace)
                if not name and filename:
                    job.name = display_name(filename)
            else:
                size = await _receive_raw(request, video, cap, pace)
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
            return JSONResponse(doc, headers={"Content-Disposition": content_disposition(
                disposition, f"{stem}-segments.json")})
        path = folder / file
        if not path.is_file():
            return gone()
        return FileResponse(path, headers={"Content-Disposition": content_disposition(
            disposition, f"{stem}-{file}")})

    @app.delete("/api/jobs/{job_id}", status_code=204)
    def delete_job(job_id: str):
        job = find(job_id)
        if job is None:
            return gone()
        board().drop(job)
        return Response(status_code=204)

    return app


def answering(config: ServeConfig, host: str) -> ServeConfig:
    """``config`` for a server listening on ``host``: clients name the address they reach, so a
    specific one is answered too; one listening on every address (0.0.0.0, ::) has many names,
    so it answers any unless ``allow_hosts`` lists them."""
    if host not in WILDCARD_HOSTS:
        return config.answering(host)
    return config if config.allow_hosts else config.answering(ANY)


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

    def __init__(self, config: ServeConfig | None = None, host: str = HOST,
                 port: int = 0) -> None:
        import uvicorn

        self.app = create_app(answering(config or ServeConfig(), host))
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


def run_server(config: ServeConfig, host: str = HOST, port: int = PORT) -> None:
    """Serve until interrupted (the ``video2gif serve`` command)."""
    import uvicorn

    uvicorn.run(create_app(answering(config, host)), host=host, port=port, log_level="warning")
