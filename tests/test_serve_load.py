"""Load and fault tests of video2gif serve over real sockets (uvicorn on 127.0.0.1 only).

Bounded in count and time: 50 uploads of a 3 s clip against 2 workers, and raw-socket clients
that stop mid-upload, stall, or announce more than the cap.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from .test_batch import SETTINGS, clip

pytest.importorskip("uvicorn", reason="the web app is an extra: pip install 'video2gif[serve]'")
httpx = pytest.importorskip("httpx2", reason="the load test's client (the test extra)")

from video2gif.serve import BackgroundServer, ServeConfig  # noqa: E402

from .serving import files_in  # noqa: E402

UPLOADS = 50  # concurrent uploads
WORKERS, QUEUE = 2, 2
KEEP = 1.0  # seconds results are kept
LOAD_TIMEOUT = 180.0  # seconds for the whole load test
SETTLE = 15.0  # seconds the server gets to clean up after a fault


def wait_until(condition, timeout: float = SETTLE, what: str = "the server to settle") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A 3 s synthetic clip, 160×96 (about 60 kB)."""
    return clip(tmp_path_factory.mktemp("load") / "clip.mp4", 51)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app under uvicorn on a free loopback port: 2 workers, a queue of 2, results kept
    1 s, uploads up to 1 MB, stalled uploads dropped after 1 s."""
    root = tmp_path_factory.mktemp("load-root")
    config = ServeConfig(settings=SETTINGS, workers=WORKERS, queue=QUEUE, keep_seconds=KEEP,
                         max_upload_bytes=1_000_000, work_dir=str(root), upload_idle_seconds=1.0)
    with BackgroundServer(config, host="127.0.0.1", port=0) as server:
        assert server.host == "127.0.0.1"
        yield server, root


def idle(server) -> bool:
    """No job at all, and nothing left on disk."""
    return not server.board.jobs and not server.board.orphans


def test_fifty_concurrent_uploads_are_all_answered(live, video):
    server, root = live
    body = video.read_bytes()

    async def one(client, n: int):
        r = await client.post(f"{server.url}/api/jobs", params={"name": f"clip{n}.mp4"},
                              content=body)
        if r.status_code != 202:
            return r.status_code, r.json(), None
        url = f"{server.url}/api/jobs/{r.json()['id']}"
        while True:  # the whole test is bounded by LOAD_TIMEOUT
            job = (await client.get(url)).json()
            if job["status"] in ("done", "failed"):
                return 202, r.json(), job
            await asyncio.sleep(0.2)

    async def main():
        limits = httpx.Limits(max_connections=UPLOADS)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            return await asyncio.wait_for(
                asyncio.gather(*(one(client, n) for n in range(UPLOADS))), LOAD_TIMEOUT)

    results = asyncio.run(main())
    statuses = [status for status, _, _ in results]
    assert len(results) == UPLOADS and set(statuses) <= {202, 429}, statuses  # no 5xx, no hang
    accepted = [job for status, _, job in results if status == 202]
    busy = [answer for status, answer, _ in results if status == 429]
    assert len(accepted) >= WORKERS + QUEUE and busy
    assert all(b["error"] == "busy" for b in busy)
    assert all(job["status"] == "done" and job["gifs"] for job in accepted)

    wait_until(lambda: idle(server), KEEP + SETTLE, "the results to expire")
    assert files_in(root) == []


def _raw_upload(server, headers: dict, body: bytes) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)  # "sent" ≈ what left the client
    sock.settimeout(10)
    sock.connect((server.host, server.port))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"POST /api/jobs?name=raw.mp4 HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
    if body:
        sock.sendall(body)
    return sock


def _status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_a_client_that_disconnects_mid_upload_leaves_nothing(live, video):
    server, root = live
    wait_until(lambda: idle(server))
    body = video.read_bytes()
    sock = _raw_upload(server, {"Content-Length": str(len(body) * 4),
                                "Content-Type": "application/octet-stream"}, body[:20_000])
    wait_until(lambda: any(j.status == "uploading" for j in server.board.jobs.values()),
               what="the upload to start")
    sock.close()  # gone, three quarters short
    wait_until(lambda: idle(server) and not files_in(root), what="the upload to be dropped")
    # The slot it held is free again.
    sock = _raw_upload(server, {"Content-Length": str(len(body))}, body)
    assert _status(sock) == 202
    sock.close()
    wait_until(lambda: idle(server) and not files_in(root), KEEP + SETTLE)


def test_a_stalled_upload_is_dropped(live, video):
    server, root = live
    wait_until(lambda: idle(server))
    sock = _raw_upload(server, {"Content-Length": "500000"}, video.read_bytes()[:10_000])
    try:
        assert _status(sock) == 408  # nothing more came for upload_idle_seconds
    finally:
        sock.close()
    wait_until(lambda: idle(server) and not files_in(root))


def test_an_upload_over_the_cap_is_refused_early(live):
    server, root = live
    wait_until(lambda: idle(server))
    # Announced too large: answered before a byte of the body is sent.
    started = time.monotonic()
    sock = _raw_upload(server, {"Content-Length": str(50_000_000)}, b"")
    try:
        assert _status(sock) == 413 and time.monotonic() - started < 5
    finally:
        sock.close()
    # Not announced (chunked): refused once the cap is passed, long before the end (40 MB);
    # "sent" also counts what the kernel buffers on the way, a few MB on loopback.
    sock = _raw_upload(server, {"Transfer-Encoding": "chunked"}, b"")
    sent = 0
    piece = b"\0" * 65536
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    try:
        sock.settimeout(0.5)
        status = None
        while status is None and sent < 40_000_000:
            try:
                sock.sendall(frame)
                sent += len(piece)
            except OSError:  # the server has answered and closed its side
                break
            try:
                sock.setblocking(False)
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except BlockingIOError:
                pass
            finally:
                sock.settimeout(5)
        status = _status(sock)
    finally:
        sock.close()
    assert status == 413 and sent < 4_000_000
    wait_until(lambda: idle(server) and not files_in(root))
