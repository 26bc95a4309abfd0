"""What the serve tests share: the in-process client's address, waiting for a job, listing what
the server left on disk. FastAPI is imported only by :func:`app_client`, so a test module can
skip cleanly (``pytest.importorskip``) before anything here needs it."""

from __future__ import annotations

import time
from pathlib import Path

LOCAL = "http://127.0.0.1:8000"  # the server answers only its own (loopback) host names
JOB_WAIT = 90.0  # seconds a tiny video's job may take on a busy machine


def app_client(config, base_url: str = LOCAL):
    """FastAPI's test client of ``create_app(config)``, talking to ``base_url``; use it in a
    ``with`` block so the app's workers start and stop."""
    from fastapi.testclient import TestClient

    from video2gif.serve import create_app

    return TestClient(create_app(config), base_url=base_url)


def wait_for(client, job_id: str, timeout: float = JOB_WAIT) -> dict:
    """Poll a job until it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")


def files_in(folder: Path) -> list[Path]:
    """The files under ``folder``, listed again if a job's folder vanished mid-listing."""
    while True:
        try:
            return [p for p in folder.rglob("*") if p.is_file()]
        except FileNotFoundError:
            continue
