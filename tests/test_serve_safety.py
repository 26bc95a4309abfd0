"""video2gif serve, as a web page the user's browser (and others) can reach: download names,
headers, slow uploads, cross-site requests, query parameters and what the server leaves behind.

Each test is the regression test of one defect found from outside; the in-process tests use
FastAPI's test client on the server's own address, the upload-pacing tests a real uvicorn server
and raw sockets (a trickling client must hold a connection while others are served).
"""

from __future__ import annotations

import dataclasses
import json
import re
import select
import socket
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .test_batch import SETTINGS, clip

pytest.importorskip("fastapi", reason="the web app is an extra: pip install 'video2gif[serve]'")
pytest.importorskip("httpx2", reason="FastAPI's test client needs httpx2 (the test extra)")

from video2gif.serve import BackgroundServer, ServeConfig, create_app

from .serving import JOB_WAIT, LOCAL, app_client, wait_for

PACING_WAIT = 10.0  # seconds a too-slow upload may take to be dropped
# One parameter of a Content-Disposition header: name=token or name="quoted string" (RFC 6266).
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def disposition(header: str) -> tuple[str, list[tuple[str, str]]]:
    """A Content-Disposition header as (type, [(parameter, raw value), ...])."""
    kind = header.split(";", 1)[0].strip()
    return kind, [(m.group(1).lower(), m.group(2)) for m in _PARAM.finditer(header)]


def extended_value(value: str) -> str:
    """The text of an RFC 5987 ``filename*`` value (UTF-8''percent-encoded)."""
    charset, _, encoded = value.partition("''")
    assert charset.lower() == "utf-8", value
    return urllib.parse.unquote(encoded, encoding="utf-8", errors="strict")


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A 3 s synthetic clip, 160×96: a pan cut to a still."""
    return clip(tmp_path_factory.mktemp("serve-safety") / "clip.mp4", 61)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """One worker, a queue of 4, results kept 120 s, talking to the server's own address."""
    root = tmp_path_factory.mktemp("serve-safety-root")
    config = ServeConfig(settings=SETTINGS, workers=1, queue=4, keep_seconds=120,
                         max_upload_bytes=2_000_000, work_dir=str(root))
    with app_client(config) as c:
        yield c


def done_job(client, video: Path, name: str) -> dict:
    r = client.post("/api/jobs", params={"name": name}, content=video.read_bytes())
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done", job["error"]
    return job


# -- 1, 2: download names ----------------------------------------------------------------------


def test_segments_json_downloads_under_a_name_outside_latin1(client, video):
    """Defect 1: a Cyrillic (or CJK, emoji) upload name made the segments.json route answer 500."""
    job = done_job(client, video, "видео 视频 🎬.mp4")
    for url in (job["segments_url"], job["segments_url"] + "?download=1"):
        r = client.get(url)
        assert r.status_code == 200 and r.json()["video"]["path"] == "видео 视频 🎬.mp4"
        header = r.headers["content-disposition"]
        header.encode("ascii")  # a header is ASCII; the name travels percent-encoded
        params = dict(disposition(header)[1])
        assert extended_value(params["filename*"]) == "видео 视频 🎬-segments.json"
    gif = client.get(job["gifs"][0]["download_url"])
    params = dict(disposition(gif.headers["content-disposition"])[1])
    assert extended_value(params["filename*"]) == f"видео 视频 🎬-{job['gifs'][0]['file']}"


@pytest.mark.parametrize("name", [
    'a"; filename=evil.html; x=".mp4',
    "b; filename=evil.html.mp4",
    'c\\"; filename*=UTF-8\'\'evil.html; y=".mp4',
])
def test_an_upload_name_cannot_add_header_parameters(client, video, name):
    """Defect 2: ``name=a"; filename=evil.html; x=".mp4`` made the segments.json download
    arrive as evil.html. Every download says exactly one plain and one extended file name, and
    the plain one holds nothing that could end a parameter."""
    job = done_job(client, video, name)
    stem = job["name"].rsplit(".mp4", 1)[0]
    for url, file in [(job["segments_url"] + "?download=1", "segments.json"),
                      (job["gifs"][0]["download_url"], job["gifs"][0]["file"])]:
        header = client.get(url).headers["content-disposition"]
        kind, params = disposition(header)
        assert kind == "attachment"
        assert [p for p, _ in params] == ["filename", "filename*"], header
        plain = params[0][1]
        assert re.fullmatch(r'"[A-Za-z0-9._ -]*"', plain), header
        assert extended_value(params[1][1]) == f"{stem}-{file}"


# -- 6: cross-site requests and DNS rebinding -------------------------------------------------


def test_cross_origin_writes_are_refused(client, video):
    """Defect 6: a page on another site could submit (and delete) jobs through the user's
    browser: a cross-origin POST or DELETE is refused before its body is read."""
    body = video.read_bytes()
    before = client.get("/api/health").json()
    for origin in ("http://evil.example", "null", "http://127.0.0.1:8001",
                   "https://127.0.0.1:8000"):
        r = client.post("/api/jobs?name=x.mp4", content=body, headers={"Origin": origin})
        assert r.status_code == 403, (origin, r.text)
        assert "origin" in r.json()["message"].lower()
    r = client.post("/api/jobs?name=x.mp4", content=body,
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    assert client.get("/api/health").json() == before  # no job was admitted
    job = done_job(client, video, "mine.mp4")
    r = client.delete(f"/api/jobs/{job['id']}", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and client.get(f"/api/jobs/{job['id']}").status_code == 200
    # The page itself (same origin), and clients that send no Origin (curl), still work.
    r = client.post("/api/jobs?name=y.mp4", content=body, headers={"Origin": LOCAL})
    assert r.status_code == 202
    wait_for(client, r.json()["id"])
    assert client.delete(f"/api/jobs/{job['id']}", headers={"Origin": LOCAL}).status_code == 204


def test_unknown_host_names_are_refused(client, video):
    """Defect 6: a rebinding domain (evil.example resolving to 127.0.0.1) could read results:
    requests naming a host other than this machine's loopback names are refused."""
    job = done_job(client, video, "rebind.mp4")
    for path in ("/", "/api/config", f"/api/jobs/{job['id']}", job["segments_url"]):
        r = client.get(path, headers={"Host": "evil.example:8000"})
        assert r.status_code == 400, (path, r.status_code)
        assert "host" in r.text.lower()
        for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "localhost"):
            assert client.get(path, headers={"Host": host}).status_code == 200, (path, host)


def test_hosts_and_origins_can_be_allowed(tmp_path, video):
    """The opt-ins: ``serve --allow-host NAME`` and ``--allow-origin URL`` (``*``: any)."""
    config = ServeConfig(settings=SETTINGS, workers=1, queue=1, work_dir=str(tmp_path),
                         allow_hosts=("gifs.lan",), allow_origins=("https://app.example",))
    with app_client(config, "http://gifs.lan:8000") as c:
        assert c.get("/api/config").status_code == 200
        r = c.post("/api/jobs?name=a.mp4", content=video.read_bytes(),
                   headers={"Origin": "https://app.example"})
        assert r.status_code == 202
        wait_for(c, r.json()["id"])
        assert c.post("/api/jobs", content=b"x",
                      headers={"Origin": "https://other.example"}).status_code == 403
    anything = dataclasses.replace(config, allow_hosts=("*",), allow_origins=("*",))
    with app_client(anything, "http://whatever.example") as c:
        assert c.get("/api/config").status_code == 200
        r = c.post("/api/jobs?name=a.mp4", content=video.read_bytes(),
                   headers={"Origin": "http://elsewhere.example"})
        assert r.status_code == 202
        wait_for(c, r.json()["id"])


def test_a_server_answers_the_address_it_listens_on():
    from video2gif.serve.app import answering

    config = ServeConfig(allow_hosts=("gifs.lan",))
    assert answering(config, "192.168.1.5").allow_hosts == ("gifs.lan", "192.168.1.5")
    assert answering(config, "0.0.0.0").allow_hosts == ("gifs.lan",)
    assert answering(ServeConfig(), "::").allow_hosts == ("*",)  # every address: any name


def test_serve_has_the_opt_in_flags(capsys):
    from video2gif.cli import main

    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for flag in ("--allow-host", "--allow-origin", "--upload-min-rate", "--upload-deadline"):
        assert flag in out


# -- 7: headers ---------------------------------------------------------------------------------


def test_json_and_file_responses_say_nosniff_and_a_csp(client, video):
    """Defect 7: the JSON and file responses carried neither ``X-Content-Type-Options: nosniff``
    nor a Content-Security-Policy (only the page had one)."""
    job = done_job(client, video, "headers.mp4")
    responses = {
        "config": client.get("/api/config"),
        "health": client.get("/api/health"),
        "job": client.get(f"/api/jobs/{job['id']}"),
        "segments": client.get(job["segments_url"]),
        "gif": client.get(job["gifs"][0]["url"]),
        "not found": client.get("/api/jobs/nope"),
        "refused": client.post("/api/jobs?k=0", content=b"x"),
        "page": client.get("/"),
    }
    for what, r in responses.items():
        assert r.headers.get("x-content-type-options") == "nosniff", what
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, what
    # The page keeps its own policy (it runs its inline script); the rest run nothing.
    assert "script-src" in responses["page"].headers["content-security-policy"]
    assert "script-src" not in responses["segments"].headers["content-security-policy"]


# -- 8: query parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("query, parameter", [
    ("width=99999", "width"),
    ("format=exe", "format"),
    ("colour=7", "colour"),
    ("backbone=c3d", "backbone"),
    ("k=2&frobnicate=1", "frobnicate"),
])
def test_unknown_or_bad_query_parameters_are_refused(client, query, parameter):
    """Defect 8: unknown parameters (and bad values) were silently ignored."""
    before = client.get("/api/health").json()
    r = client.post(f"/api/jobs?name=a.mp4&{query}", content=b"x")
    assert r.status_code == 422, r.text
    assert parameter in r.json()["message"].split(":")[0]
    assert client.get("/api/health").json() == before


def test_the_options_a_job_may_set_are_accepted(client, video):
    r = client.post("/api/jobs?name=a.mp4&k=1&width=64&fps=8&format=gif&colours=32",
                    content=video.read_bytes())
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done" and job["gifs"][0]["width"] == 64


# -- 9: the feature cache -----------------------------------------------------------------------


def test_the_server_keeps_no_features_in_the_users_cache(tmp_path, video):
    """Defect 9: features of uploaded videos stayed in the user's cache after their job was
    deleted and the server stopped. The server keeps none outside its own folder."""
    from video2gif.features.cache import default_cache_dir

    user_cache = default_cache_dir()  # a fresh folder per test (conftest)
    config = ServeConfig(settings=SETTINGS, workers=1, queue=1, work_dir=str(tmp_path / "r"))
    assert config.settings.use_cache and config.settings.cache_dir is None
    with app_client(config) as c:
        job = done_job(c, video, "private.mp4")
        assert c.delete(f"/api/jobs/{job['id']}").status_code == 204
    kept = [p for p in user_cache.rglob("*") if p.is_file()] if user_cache.exists() else []
    assert kept == []
    assert not [p for p in (tmp_path / "r").rglob("*") if p.is_file()]


# -- 5: slow uploads ----------------------------------------------------------------------------


class Trickler(threading.Thread):
    """A client that announces a large upload and sends one byte every ``interval`` seconds,
    until the server answers or ``seconds`` pass; keeps the first bytes of the answer."""

    def __init__(self, port: int, interval: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.port, self.interval, self.seconds = port, interval, seconds
        self.answer = b""

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"POST /api/jobs?name=slow.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: video/mp4\r\nContent-Length: 1000000\r\n\r\n")
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                readable, _, _ = select.select([s], [], [], self.interval)
                if readable:
                    self.answer = s.recv(4096)
                    return
                try:
                    s.sendall(b"\0")
                except OSError:  # the server closed the connection
                    self.answer = self.answer or s.recv(4096)
                    return


def _request(url: str, data: bytes | None = None, method: str = "GET") -> tuple[int, dict]:
    req = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _slot_freed(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _request(f"{url}/api/health")[1]["waiting"] == 0:
            return True
        time.sleep(0.1)
    return False


def _holds_the_slot(url: str) -> None:
    deadline = time.monotonic() + 10
    while _request(f"{url}/api/health")[1]["waiting"] != 1:
        assert time.monotonic() < deadline, "the trickling upload was never admitted"
        time.sleep(0.05)


def test_a_trickling_upload_cannot_hold_a_slot(tmp_path, video):
    """Defect 5: clients sending one byte every few seconds kept every upload slot, and real
    uploads got 429 for as long as they trickled. Below the minimum rate an upload is dropped
    (408), and its slot serves the next one."""
    config = ServeConfig(settings=SETTINGS, workers=1, queue=0, work_dir=str(tmp_path / "r"),
                         upload_idle_seconds=1.0, upload_min_rate=1000)
    with BackgroundServer(config) as server:
        slow = Trickler(server.port, interval=0.3, seconds=PACING_WAIT + 5)
        slow.start()
        _holds_the_slot(server.url)
        assert _slot_freed(server.url, PACING_WAIT), "the trickling upload still holds the slot"
        slow.join(10)
        assert slow.answer.startswith(b"HTTP/1.1 408"), slow.answer[:200]
        status, job = _request(f"{server.url}/api/jobs?name=a.mp4", video.read_bytes(), "POST")
        assert status == 202
        wait_for_url(server.url, job["id"])


def test_an_upload_has_an_overall_deadline(tmp_path):
    """Defect 5, the other guard: however it paces itself, an upload ends by its deadline."""
    config = ServeConfig(settings=SETTINGS, workers=1, queue=0, work_dir=str(tmp_path / "r"),
                         upload_min_rate=0, upload_deadline_seconds=1.5)
    with BackgroundServer(config) as server:
        slow = Trickler(server.port, interval=0.1, seconds=PACING_WAIT + 5)
        started = time.monotonic()
        slow.start()
        _holds_the_slot(server.url)
        assert _slot_freed(server.url, PACING_WAIT)
        slow.join(10)
        assert slow.answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 9


def test_upload_pacing_is_validated():
    for field, value, flag in [("upload_min_rate", -1, "--upload-min-rate"),
                               ("upload_deadline_seconds", 0, "--upload-deadline")]:
        with pytest.raises(ValueError, match=flag):
            create_app(dataclasses.replace(ServeConfig(), **{field: value}))


def wait_for_url(url: str, job_id: str, timeout: float = JOB_WAIT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _request(f"{url}/api/jobs/{job_id}")[1]
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")
