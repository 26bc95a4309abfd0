"""video2gif serve, in process (FastAPI's test client): the page, uploads, jobs, limits, expiry."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .test_batch import SETTINGS, clip

pytest.importorskip("fastapi", reason="the web app is an extra: pip install 'video2gif[serve]'")
pytest.importorskip("httpx2", reason="FastAPI's test client needs httpx2 (the test extra)")

from video2gif.crop import ASPECTS
from video2gif.encode import MAX_QUALITY, MIN_QUALITY
from video2gif.loop import LOOP_MODES
from video2gif.options import GifOptions, option_fields, query_parameters
from video2gif.serve import ServeConfig, create_app, display_name
from video2gif.serve.app import answering
from video2gif.serve.config import MAX_K, page_options

from .conftest import run_cli
from .serving import JOB_WAIT, app_client, files_in, wait_for

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A 3 s synthetic clip, 160×96: a pan cut to a still."""
    return clip(tmp_path_factory.mktemp("serve") / "clip.mp4", 41)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One worker, queue of 1, results kept 60 s, uploads up to 2 MB, in a known folder."""
    root = tmp_path_factory.mktemp("serve-root")
    config = ServeConfig(settings=SETTINGS, workers=1, queue=1, keep_seconds=60,
                         max_upload_bytes=2_000_000, work_dir=str(root))
    with app_client(config) as client:
        yield client, root


def test_the_page_is_one_self_contained_file(server):
    client, _ = server
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert 'type="file"' in page and "api/jobs" in page and "segments.json" in page
    # Nothing is fetched from elsewhere, and the browser is told so.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert "default-src 'none'" in r.headers["content-security-policy"]
    config = client.get("/api/config").json()
    assert config["max_upload_bytes"] == 2_000_000 and config["k"] == 1


def test_the_page_offers_every_per_job_option_from_its_metadata(server):
    """api/config hands the page one entry per per-job field of GifOptions, with its choices or
    range and the server's value; the page builds its controls from it alone."""
    client, _ = server
    offered = {o["name"]: o for o in client.get("/api/config").json()["options"]}
    assert set(offered) == set(query_parameters())
    assert {"quality", "aspect", "loop", "k", "width", "format", "max-bytes"} <= set(offered)
    specs = {f.name: (f, spec) for f, spec in option_fields()}
    for o in offered.values():
        f, spec = specs[o["field"]]
        assert o["value"] == getattr(SETTINGS, f.name) and o["help"] == spec.help and o["label"]
        assert o["choices"] == (list(spec.allowed()) if spec.choices is not None else None)
    assert (offered["quality"]["low"], offered["quality"]["high"]) == (MIN_QUALITY, MAX_QUALITY)
    assert offered["aspect"]["choices"] == list(ASPECTS) and offered["loop"]["kind"] == "choice"
    assert offered["loop"]["choices"] == list(LOOP_MODES) and offered["k"]["high"] == MAX_K
    assert not offered["quality"]["more"] and offered["stride"]["more"]  # folded away at first
    page = client.get("/").text
    # Not restated by hand: no control, choice or range of an option is in the page itself.
    assert 'id="opt-' not in page and not re.search(r"9:16|bounce|sierra|uniform5|<select", page)


def test_the_page_shows_the_dataclass_defaults():
    """A server started without flags offers exactly GifOptions' defaults."""
    defaults = {f.name: f.default for f in dataclasses.fields(GifOptions)}
    for o in page_options(ServeConfig().settings):
        assert o["value"] == o["default"] == defaults[o["field"]], o["name"]


def test_an_upload_becomes_ranked_downloadable_gifs(server, video):
    client, root = server
    r = client.post("/api/jobs", params={"name": "my holiday.mp4", "k": 2},
                    content=video.read_bytes(), headers={"content-type": "video/mp4"})
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done" and job["error"] is None and job["progress"] == 1.0
    assert job["name"] == "my holiday.mp4" and 1 <= len(job["gifs"]) <= 2
    assert [g["pick"] for g in job["gifs"]] == list(range(1, len(job["gifs"]) + 1))
    assert [g["rank"] for g in job["gifs"]] == sorted(g["rank"] for g in job["gifs"])
    for g in job["gifs"]:
        assert 0 <= g["start"] < g["end"] <= 3.0 and isinstance(g["score"], float)
        shown = client.get(g["url"])
        assert shown.status_code == 200 and shown.content[:6] == b"GIF89a"
        assert len(shown.content) == g["bytes"] and shown.headers["content-type"] == "image/gif"
        download = client.get(g["download_url"])
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.content == shown.content
    segments = client.get(job["segments_url"]).json()
    assert segments["video"]["path"] == "my holiday.mp4"  # never the server's own path
    picked = sorted((s["start"], s["end"]) for s in segments["segments"] if s["pick"])
    assert picked == sorted((g["start"], g["end"]) for g in job["gifs"])
    assert not list(root.rglob("upload*"))  # the video itself is gone once the GIFs exist


def test_a_job_sets_its_own_options_by_their_flag_names(server, video):
    """Per-job query parameters are make's flags without dashes; the output follows them, and
    the job says how each file is shown (from the format registry)."""
    client, _ = server
    assert {"k", "width", "format", "max-bytes"} <= set(client.get("/api/config").json()[
        "parameters"])
    r = client.post("/api/jobs", params={"name": "a.mp4", "format": "mp4", "width": "48"},
                    content=video.read_bytes())
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done" and job["options"] == {"format": "mp4", "width": 48}
    assert job["k"] == 1  # the server's
    (gif,) = job["gifs"]
    assert gif["file"].endswith(".mp4") and gif["width"] == 48
    assert (gif["mime"], gif["element"]) == ("video/mp4", "video")
    assert client.get(gif["url"]).headers["content-type"] == "video/mp4"
    r = client.post("/api/jobs", params={"width": "1"}, content=b"x")
    assert r.status_code == 422 and "width" in r.json()["message"]


def test_quality_aspect_and_loop_reach_the_gif(server, video):
    """The three options the page added: the encoder's quality, the crop's shape and the loop
    mode are what the job's GIF was made with (the job's result and segments.json say so)."""
    client, _ = server
    r = client.post("/api/jobs", params={"name": "a.mp4", "quality": "40", "aspect": "1:1",
                                         "loop": "bounce", "k": "1"},
                    content=video.read_bytes())
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done", job["error"]
    assert job["options"] == {"quality": 40, "aspect": "1:1", "loop": "bounce", "k": 1}
    (gif,) = job["gifs"]
    assert gif["quality"] == 40 and gif["width"] == gif["height"]  # square
    (pick,) = [s for s in client.get(job["segments_url"]).json()["segments"] if s["pick"]]
    assert pick["loop"]["mode"] == "bounce" and pick["crop"]["aspect"] == "1:1"


@pytest.mark.parametrize("query, parameter, why", [
    ({"quality": "0"}, "quality", "1<=x<=100"),
    ({"quality": "101"}, "quality", "1<=x<=100"),
    ({"quality": "best"}, "quality", "not a valid integer"),
    ({"aspect": "2:1:1"}, "aspect", "not one of"),
    ({"aspect": "wide"}, "aspect", "not one of"),
    ({"loop": "forever"}, "loop", "not one of"),
])
def test_bad_options_are_refused_with_one_line_naming_them(server, query, parameter, why):
    """The same 422 from the upload and from the check the page makes before uploading."""
    client, root = server
    before = set(files_in(root))
    for r in (client.post("/api/jobs", params={"name": "a.mp4", **query}, content=b"x"),
              client.get("/api/check", params=query)):
        assert r.status_code == 422, r.text
        message = r.json()["message"]
        assert message.startswith(f"{parameter}: ") and why in message and "\n" not in message
    assert set(files_in(root)) == before
    good = client.get("/api/check", params={"quality": "40", "aspect": "9:16", "k": "2"})
    assert good.status_code == 200
    assert good.json()["options"] == {"quality": 40, "aspect": "9:16", "k": 2}


def test_a_multipart_upload_works_too(server, video):
    """What ``curl -F file=@clip.mp4`` sends."""
    client, _ = server
    r = client.post("/api/jobs", files={"file": ("from-a-form.mp4", video.read_bytes(),
                                                  "video/mp4")})
    assert r.status_code == 202, r.text
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "done" and job["name"] == "from-a-form.mp4" and job["gifs"]


def test_a_bad_video_fails_with_a_message_not_a_traceback(server, video):
    client, root = server
    r = client.post("/api/jobs?name=broken.mp4", content=video.read_bytes()[:700])
    assert r.status_code == 202
    job = wait_for(client, r.json()["id"])
    assert job["status"] == "failed" and job["gifs"] == [] and job["segments_url"] is None
    assert job["error"].split(":")[0] in ("InputError", "DecodeError")
    assert "Traceback" not in job["error"] and str(root) not in job["error"]
    assert client.get(f"/api/jobs/{job['id']}/files/segments.json").status_code == 404


def test_upload_names_are_never_paths(server, video, tmp_path):
    client, root = server
    r = client.post("/api/jobs", params={"name": "../../../escape\x00.mp4"},
                    content=video.read_bytes())
    assert r.status_code == 202
    job_id = r.json()["id"]
    stored = [p.relative_to(root).as_posix() for p in root.rglob("upload*")]
    job = wait_for(client, job_id)
    assert job["name"] == "escape.mp4"
    assert stored in ([], [f"{job_id}/upload.mp4"])  # the only name the server gives it
    assert not list(root.parent.rglob("escape*"))
    assert display_name("C:\\Users\\me\\clip.mov") == "clip.mov" and display_name("") == "video"
    for bad in ["../segments.json", "..%2F..%2Fetc%2Fpasswd", "index.html", "upload.mp4"]:
        assert client.get(f"/api/jobs/{job_id}/files/{bad}").status_code == 404


def test_bad_requests_are_refused(server, video):
    client, root = server
    assert client.post("/api/jobs?k=0", content=b"x").status_code == 422
    assert client.post("/api/jobs?k=99", content=b"x").status_code == 422
    r = client.post("/api/jobs", content=b"")
    assert r.status_code == 400 and r.json()["error"] == "empty"
    r = client.post("/api/jobs", content=b"--x\r\nno", headers={
        "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400
    assert client.get("/api/jobs/nope").status_code == 404
    assert client.delete("/api/jobs/nope").status_code == 404
    assert client.get("/api/health").json()["running"] in (0, 1)
    assert not [p for p in files_in(root) if "upload" in p.name]


def test_uploads_over_the_cap_are_refused(server):
    client, root = server
    before = set(files_in(root))
    r = client.post("/api/jobs", content=b"\0" * 2_000_001)
    assert r.status_code == 413 and r.json()["error"] == "too large"

    def chunks():  # no Content-Length: the cap is enforced while streaming
        for _ in range(40):
            yield b"\0" * 65536

    r = client.post("/api/jobs", content=chunks())
    assert r.status_code == 413
    assert set(files_in(root)) == before


def test_a_full_queue_answers_busy_at_once(video, tmp_path):
    config = ServeConfig(settings=SETTINGS, workers=1, queue=0, work_dir=str(tmp_path))
    long = clip(tmp_path / "long.mp4", 42, frames=240)
    with app_client(config) as client:
        first = client.post("/api/jobs?name=long.mp4", content=long.read_bytes())
        assert first.status_code == 202
        started = time.monotonic()
        busy = client.post("/api/jobs?name=b.mp4", content=video.read_bytes())
        assert busy.status_code == 429 and time.monotonic() - started < 5
        assert busy.json()["error"] == "busy" and int(busy.headers["retry-after"]) > 0
        assert wait_for(client, first.json()["id"])["status"] == "done"
        again = client.post("/api/jobs?name=b.mp4", content=video.read_bytes())
        assert again.status_code == 202  # the slot is free again
        wait_for(client, again.json()["id"])


def test_results_expire_and_their_files_go(video, tmp_path):
    config = ServeConfig(settings=SETTINGS, workers=1, queue=2, keep_seconds=1.0,
                         work_dir=str(tmp_path / "root"))
    with app_client(config) as client:
        kept = client.post("/api/jobs", content=video.read_bytes()).json()["id"]
        deleted = client.post("/api/jobs", content=video.read_bytes()).json()["id"]
        assert wait_for(client, kept)["expires_in"] <= 1.0
        wait_for(client, deleted)
        assert client.delete(f"/api/jobs/{deleted}").status_code == 204
        assert client.get(f"/api/jobs/{deleted}").status_code == 404
        assert not (tmp_path / "root" / deleted).exists()
        deadline = time.monotonic() + 10
        while client.get(f"/api/jobs/{kept}").status_code != 404:
            assert time.monotonic() < deadline, "the job did not expire"
            time.sleep(0.1)
        assert files_in(tmp_path / "root") == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_serve_command_serves_on_loopback_and_stops_on_ctrl_c():
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "VIDEO2GIF_DEBUG"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "video2gif", "serve", "--port", str(port), "--backbone", "none",
         "--max-upload", "5M", "-k", "2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + JOB_WAIT
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config", timeout=2) as r:
                    config = r.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.2)
        assert '"max_upload_bytes":5000000' in config and '"k":2' in config
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"serving on http://127.0.0.1:{port}/" in err.decode()
    assert b"Traceback" not in err


@pytest.mark.parametrize("args, message", [
    (["--max-upload", "lots"], "--max-upload"),
    (["--workers", "0"], "--workers"),
    (["--model", "nope"], "--model: 'nope' is neither a model name"),
])
def test_serve_usage_errors(capsys, args, message):
    from video2gif.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *args])
    err = capsys.readouterr().err
    assert exit_info.value.code in (1, 2) and message in err and "Traceback" not in err


def test_serve_config_is_validated():
    with pytest.raises(ValueError, match="--queue"):
        create_app(dataclasses.replace(ServeConfig(), queue=-1))


def test_a_model_file_is_loaded_once_before_serving(monkeypatch, capsys, tmp_path):
    """The CLI validates the config, create_app takes it as validated: the server process
    loads a model file once (each worker loads its own), and a changed config is checked
    again."""
    import video2gif.scorers as scorers
    from video2gif.ranknet import FeatureLayout, save_model

    from .test_ranknet import tiny_model

    model = save_model(tiny_model(FeatureLayout(context=("position",))), tmp_path / "m.npz")
    loads = []
    real = scorers.load_model
    monkeypatch.setattr(scorers, "load_model", lambda *a, **kw: loads.append(a) or real(*a, **kw))
    config = ServeConfig(settings=dataclasses.replace(SETTINGS, model=str(model))).validate()
    create_app(config)
    create_app(answering(config, "0.0.0.0"))
    assert len(loads) == 1
    create_app(dataclasses.replace(config, queue=2))  # a new config: checked again
    assert len(loads) == 2

    # The command: everything up to uvicorn taking the app.
    import uvicorn

    served = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    code, _, err = run_cli(capsys, "serve", "--port", "0", "--model", model, "--backbone", "none")
    assert code == 0 and len(served) == 1 and "serving on" in err
    assert len(loads) == 3


def test_deleting_a_running_job_removes_its_files_once_the_worker_is_done(video, tmp_path):
    config = ServeConfig(settings=SETTINGS, workers=1, queue=1, work_dir=str(tmp_path / "root"))
    long = clip(tmp_path / "long.mp4", 43, frames=240)
    with app_client(config) as client:
        job_id = client.post("/api/jobs", content=long.read_bytes()).json()["id"]
        deadline = time.monotonic() + JOB_WAIT
        while client.get(f"/api/jobs/{job_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert client.delete(f"/api/jobs/{job_id}").status_code == 204
        assert client.get(f"/api/jobs/{job_id}").status_code == 404
        board = client.app.state.board
        deadline = time.monotonic() + JOB_WAIT
        while board.orphans or files_in(tmp_path / "root"):
            assert time.monotonic() < deadline, "the deleted job's files stayed"
            time.sleep(0.1)
        # Its slot is free again.
        again = client.post("/api/jobs", content=video.read_bytes())
        assert again.status_code == 202 and wait_for(client, again.json()["id"])["status"] == "done"


def test_workers_that_cannot_load_their_models_fail_jobs_with_the_reason(video, tmp_path):
    weights = tmp_path / "weights"  # empty: the C3D files are missing
    weights.mkdir()
    settings = dataclasses.replace(SETTINGS, backbone="c3d", weights_dir=str(weights))
    config = ServeConfig(settings=settings, work_dir=str(tmp_path / "r"))
    with app_client(config) as c:
        job = wait_for(c, c.post("/api/jobs", content=video.read_bytes()).json()["id"])
        assert job["status"] == "failed"
        assert job["error"].startswith("the server cannot make GIFs: ")
        assert "c3d_model.pkl" in job["error"]
        later = c.post("/api/jobs", content=video.read_bytes())  # answered, not hung
        assert later.status_code == 202 and wait_for(c, later.json()["id"])["status"] == "failed"
    assert files_in(tmp_path / "r") == []
