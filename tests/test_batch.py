"""video2gif batch on one machine: inputs, the manifest, resuming, and surviving interruptions.

Every run here is real: worker processes decode and encode tiny synthetic videos
(``--backbone none`` keeps the models out of the way).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from video2gif.batch import (
    FAILED,
    Finished,
    Manifest,
    Started,
    VideoTask,
    WorkerPool,
    find_inputs,
    run_batch,
)
from video2gif.cli import batch as batch_command
from video2gif.cli import make as make_command
from video2gif.cli import serve as serve_command
from video2gif.options import GifOptions

from . import synthetic
from .conftest import run_cli

REPO = Path(__file__).resolve().parents[1]
FAST = ["-k", "1", "--width", "64", "--backbone", "none", "--min-len", "1", "--max-len", "1.5"]
SETTINGS = GifOptions(k=1, width=64, length=1.5, min_length=1.0, max_length=1.5,
                      backbone="none")
KILL_WAIT = 90.0  # seconds a subprocess batch may take to finish its first video


def clip(path: Path, seed: int, frames: int = 72) -> Path:
    """24 fps 160×96: a pan for half the frames, a hard cut, a still for the rest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    half = frames // 2
    return synthetic.write_video(path, synthetic.cuts([
        (synthetic.moving(seed, speed=2), half), (synthetic.still(seed + 50), frames - half),
    ]), fps=24)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".partial-" in p.name or ".tmp-" in p.name
            or ".old-" in p.name]


def records(out: Path) -> list[dict]:
    lines = (out / "manifest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


# -- inputs -----------------------------------------------------------------------------------


def test_find_inputs_walks_folders_and_reads_lists(tmp_path):
    videos = tmp_path / "videos"
    for rel in ["b.mp4", "a/x.MKV", "a/y.webm", ".hidden/z.mp4", "same.mp4", "same.webm",
                "c.mp4", "c/d.mp4"]:
        p = videos / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    (videos / "notes.txt").write_text("not a video")
    (videos / "out.gif").write_bytes(b"GIF89a")
    names = {i.path.relative_to(videos).as_posix(): i.name for i in find_inputs(videos)}
    # Mirrored paths; one stem twice, or a result folder that would hold another, keep the
    # extension, so no result folder can replace another's.
    assert names == {"a/x.MKV": "a/x", "a/y.webm": "a/y", "b.mp4": "b", "c.mp4": "c-mp4",
                     "c/d.mp4": "c/d", "same.mp4": "same-mp4", "same.webm": "same-webm"}
    assert all(i.path.is_absolute() for i in find_inputs(videos))

    elsewhere = tmp_path / "elsewhere" / "far.mov"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(b"x")
    listing = videos / "list.txt"
    listing.write_text(f"# my videos\n\nb.mp4\n  a/x.MKV  \nb.mp4\n{elsewhere}\nmissing.mp4\n")
    listed = find_inputs(listing)
    assert [i.path for i in listed] == [videos / "b.mp4", videos / "a/x.MKV", elsewhere,
                                        videos / "missing.mp4"]
    assert [i.name for i in listed][:2] == ["b", "a/x"] and listed[3].name == "missing"
    assert listed[2].name.startswith("far-") and len(listed[2].name) == len("far-") + 8


@pytest.mark.parametrize("make_source, reason", [
    (lambda d: d / "nope", "no such folder or list file"),
    (lambda d: d, "no video files"),
    (lambda d: (d / "empty.txt").write_text("# nothing\n") and d / "empty.txt", "names no video"),
])
def test_batch_usage_errors_are_one_line(capsys, tmp_path, make_source, reason):
    code, _, err = run_cli(capsys, "batch", make_source(tmp_path), "-o", tmp_path / "out")
    assert code == 2
    assert err.startswith("video2gif: error: ") and reason in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_batch_takes_every_option_of_make():
    """batch and serve reuse make's option definitions; none may be left behind."""
    def names(command):
        return {p.name for p in command.params}

    shared = names(make_command) - {"videos", "outdir", "quiet"}
    assert shared <= names(batch_command)
    assert shared <= names(serve_command)
    for name in ("k", "width", "fps", "max_bytes", "format", "model", "backbone", "length"):
        assert name in shared  # the list above is not accidentally empty


# -- running, resuming, retrying --------------------------------------------------------------


def test_batch_records_each_video_and_resumes(capsys, tmp_path):
    videos = tmp_path / "videos"
    clip(videos / "one.mp4", 1)
    clip(videos / "sub" / "two.mp4", 2)
    bad = videos / "broken.mp4"
    bad.write_bytes(clip(tmp_path / "whole.mp4", 3).read_bytes()[:600])  # cut off after the header
    out = tmp_path / "out"

    code, _, err = run_cli(capsys, "batch", videos, "-o", out, "--workers", "2", *FAST)
    assert code == 1, err  # one input failed
    assert f"Skipping {bad} due to " in err
    first = records(out)
    assert {r["input"]: r["status"] for r in first} == {
        str(videos / "one.mp4"): "done", str(videos / "sub/two.mp4"): "done", str(bad): "failed"}
    for r in first:
        assert set(r) >= {"input", "content", "settings", "status", "outputs", "error", "seconds"}
        assert len(r["content"]) == 64 and len(r["settings"]) == 64
        if r["status"] == "done":
            assert r["error"] is None and r["seconds"] > 0 and len(r["outputs"]) == 1
            gif = out / r["outputs"][0]
            assert Image.open(gif).format == "GIF" and gif.parent.name in ("one", "two")
            assert (gif.parent / "segments.json").is_file()
        else:
            assert r["outputs"] == [] and r["error"].split(":")[0] in ("InputError", "DecodeError")
    assert len({r["settings"] for r in first}) == 1
    assert (out / "sub" / "two" / "index.html").is_file() and not leftovers(out)

    # Again: the finished videos are skipped, the failed one is tried again.
    code, _, err = run_cli(capsys, "batch", videos, "-o", out, "--workers", "2", *FAST)
    assert code == 1 and "2 of 3 videos already done, skipped" in err
    second = records(out)[len(first):]
    assert [(r["input"], r["status"]) for r in second] == [(str(bad), "failed")]

    # Repaired, it is made; the others are still skipped.
    clip(bad, 4)
    code, _, err = run_cli(capsys, "batch", videos, "-o", out, *FAST)
    assert code == 0, err
    third = records(out)[len(first) + 1:]
    assert [(r["input"], r["status"]) for r in third] == [(str(bad), "done")]

    # Other settings, or a changed video, or deleted results: made again.
    (out / "one" / "01.gif").unlink()
    clip(videos / "sub" / "two.mp4", 5, frames=64)
    code, _, err = run_cli(capsys, "batch", videos, "-o", out, *FAST, "-q")
    assert code == 0 and err == ""
    fourth = records(out)[len(first) + 2:]
    assert sorted(Path(r["input"]).name for r in fourth) == ["one.mp4", "two.mp4"]
    code, _, _ = run_cli(capsys, "batch", videos, "-o", out, *FAST[:-6], "--backbone", "none",
                         "--min-len", "1", "--max-len", "2", "-q")
    assert code == 0
    fifth = records(out)[len(first) + 4:]
    assert len(fifth) == 3 and len({r["settings"] for r in fifth} | {first[0]["settings"]}) == 2


def test_run_batch_api_with_a_list_file(tmp_path):
    """The Python API: a list of paths, a missing one among them, a manifest elsewhere."""
    a = clip(tmp_path / "a.mp4", 6)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{a}\nmissing.mp4\n")
    seen = []
    summary = run_batch(listing, tmp_path / "out", SETTINGS, workers=1,
                        manifest=tmp_path / "book.jsonl",
                        on_record=lambda r, done, failed, left: seen.append((r["status"], left)))
    assert (summary.done, summary.failed, summary.skipped) == (1, 1, 0)
    assert seen == [("failed", 1), ("done", 0)]  # the unreadable input is known at once
    missing = [r for r in summary.records if r["status"] == FAILED][0]
    assert missing["error"].startswith("InputError: ")
    assert "no such file" in missing["error"].lower()
    assert len(Manifest(tmp_path / "book.jsonl").records()) == 2
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


def test_manifest_survives_a_torn_last_line(tmp_path):
    m = Manifest(tmp_path / "manifest.jsonl")
    m.append({"input": "/v/a.mp4", "status": "done"})
    with open(m.path, "ab") as f:
        f.write(b'{"input": "/v/b.mp4", "sta')  # the writer was killed mid-line
    m.append({"input": "/v/c.mp4", "status": "failed"})
    assert [r["input"] for r in m.records()] == ["/v/a.mp4", "/v/c.mp4"]
    assert m.path.read_text().endswith('"failed"}\n')


def test_a_second_batch_on_the_same_manifest_is_refused(capsys, tmp_path):
    videos = tmp_path / "videos"
    clip(videos / "a.mp4", 7)
    out = tmp_path / "out"
    with Manifest(out / "manifest.jsonl").locked():
        code, _, err = run_cli(capsys, "batch", videos, "-o", out, *FAST)
    assert code == 2 and "another batch is writing this manifest" in err


def test_bad_settings_stop_before_any_work(capsys, tmp_path):
    videos = tmp_path / "videos"
    clip(videos / "a.mp4", 8)
    code, _, err = run_cli(capsys, "batch", videos, "-o", tmp_path / "out", "--model", "nope",
                           *FAST[:-8], "--backbone", "none")
    assert code == 1 and err.startswith("video2gif: error: --model: 'nope' is neither")
    code, _, err = run_cli(capsys, "batch", videos, "-o", tmp_path / "out", "--address", "auto",
                           *FAST)
    assert code == 2 and "--address: only applies with --engine ray" in err
    assert not (tmp_path / "out" / "manifest.jsonl").exists()


# -- faults -----------------------------------------------------------------------------------


def test_a_worker_that_dies_fails_only_its_video(tmp_path):
    """A worker killed mid-video (as the OOM killer would) fails that video; the pool replaces
    the worker and the next video is made."""
    long = clip(tmp_path / "long.mp4", 9, frames=240)
    short = clip(tmp_path / "short.mp4", 10)
    out = tmp_path / "out"
    finished: dict[str, dict] = {}
    with WorkerPool(SETTINGS, workers=1) as pool:
        pool.submit(VideoTask(id="long", input=str(long), outdir=str(out), name="long"))
        pool.submit(VideoTask(id="short", input=str(short), outdir=str(out), name="short"))
        deadline = time.monotonic() + KILL_WAIT
        killed = False
        while len(finished) < 2 and time.monotonic() < deadline:
            for event in pool.events(timeout=0.5):
                if isinstance(event, Started) and event.task_id == "long" and not killed:
                    os.kill(pool.pids()["long"], signal.SIGKILL)
                    killed = True
                elif isinstance(event, Finished):
                    finished[event.task_id] = event.record
    assert finished["long"]["status"] == "failed"
    assert "died (killed by SIGKILL)" in finished["long"]["error"]
    assert finished["short"]["status"] == "done"
    assert (out / "short" / "01.gif").is_file(), (finished, list(out.rglob("*")))


def _start_batch(videos: Path, out: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "VIDEO2GIF_DEBUG"}
    return subprocess.Popen(
        [sys.executable, "-m", "video2gif", "batch", str(videos), "-o", str(out),
         "--workers", "1", *FAST],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's job is
    )


def _wait_for_done(out: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        path = out / "manifest.jsonl"
        if path.exists() and '"done"' in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"no video finished (exit {proc.poll()})")


@pytest.fixture
def six_videos(tmp_path) -> Path:
    """Six 3-second clips (72 frames each), enough work to interrupt a batch midway."""
    for n in range(6):
        clip(tmp_path / "videos" / f"v{n}.mp4", 20 + n, frames=72)
    return tmp_path / "videos"


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_an_interrupted_batch_loses_nothing_finished(tmp_path, six_videos, how):
    """kill -9 of the whole process group (a power cut), or Ctrl-C: every finished video stays
    recorded and whole; the next run skips them, cleans up and finishes the rest."""
    out = tmp_path / "out"
    proc = _start_batch(six_videos, out)
    try:
        _wait_for_done(out, proc)
        os.killpg(proc.pid, getattr(signal, how))
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    before = Manifest(out / "manifest.jsonl").records()
    assert before and all(r["status"] == "done" for r in before)
    for r in before:  # recorded means complete
        folder = out / r["folder"]
        assert (folder / "segments.json").is_file() and (folder / "index.html").is_file()
        assert all(Image.open(out / o).format == "GIF" for o in r["outputs"])
    if how == "SIGINT":
        assert proc.returncode == 130 and b"video2gif: error: interrupted" in err
        assert b"Traceback" not in err
        assert not leftovers(out)  # the worker removed its half-built folder on the way out

    summary = run_batch(six_videos, out, SETTINGS, workers=1)
    assert summary.skipped == len(before)
    assert summary.done == 6 - len(before) and summary.failed == 0
    assert not leftovers(out)
    latest = Manifest(out / "manifest.jsonl").latest()
    assert len(latest) == 6 and all(r["status"] == "done" for r in latest.values())


def test_leftovers_of_a_killed_worker_not_yet_reaped_are_removed(tmp_path):
    """After kill -9 a worker lingers as a zombie until its new parent reaps it; its half-built
    folder must not be taken for the work of a live process."""
    from video2gif.batch import remove_leftovers

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # exited, not reaped: a zombie
        state = Path(f"/proc/{child.pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        if state == b"Z":
            break
        time.sleep(0.05)
    try:
        half_built = tmp_path / f".clip.partial-{child.pid}-abc123"
        half_built.mkdir()
        live = tmp_path / f".other.partial-{os.getpid()}-abc123"  # this process is alive
        live.mkdir()
        assert remove_leftovers({tmp_path}) == [half_built]
        assert not half_built.exists() and live.exists()
    finally:
        child.wait()


def test_models_that_cannot_load_stop_the_batch_with_one_error(capsys, tmp_path):
    """A setup error is not a bad video: the batch stops at once, with nothing recorded."""
    videos = tmp_path / "videos"
    clip(videos / "a.mp4", 11)
    weights = tmp_path / "weights"
    weights.mkdir()
    code, _, err = run_cli(capsys, "batch", videos, "-o", tmp_path / "out", *FAST[:-6],
                           "--backbone", "c3d", "--weights-dir", weights)
    assert code == 1 and "c3d_model.pkl" in err and "Traceback" not in err
    assert err.startswith("video2gif: error: ") and len(err.strip().splitlines()) == 1
    assert Manifest(tmp_path / "out" / "manifest.jsonl").records() == []


def test_a_worker_has_the_gif_kernels_before_its_first_video():
    """A worker's Maker loads (or compiles) the GIF encoder's kernels with its models, so the
    first video, or a server's first upload, does not wait for numba. In a fresh interpreter."""
    pytest.importorskip("numba")
    script = (
        "from video2gif.batch.pool import Maker\n"
        "from video2gif.gif import encoder\n"
        "from video2gif.options import GifOptions\n"
        "assert not getattr(encoder._paint, 'signatures', None)  # nothing compiled yet\n"
        "Maker(GifOptions(backbone='none'))\n"
        "print(len(encoder._paint.signatures), len(encoder._changes.signatures))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert all(int(n) >= 1 for n in run.stdout.split()), run.stdout
