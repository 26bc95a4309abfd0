"""Shared fixtures: where the real clips are, and small synthetic videos with known content."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from . import synthetic

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MEDIA = SHARED / "media"
DATASETS = SHARED / "datasets"


def media(relative: str) -> Path:
    """Path of a real clip in ../shared/media, skipping the test when it is absent."""
    path = MEDIA / relative
    if not path.exists():
        pytest.skip(f"{relative} not found: put the project's shared media in {MEDIA}")
    return path


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``video2gif ARGS`` in process, as the shell would: (exit code, stdout, stderr)."""
    from video2gif.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _private_feature_cache(tmp_path_factory, monkeypatch):
    """Feature caches default to a fresh temporary folder, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(autouse=True)
def _fail_on_error_logs(caplog):
    """A test that logs at ERROR level fails, even if it passes otherwise."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, f"ERROR logged: {errors[0].getMessage()}"


@pytest.fixture
def three_shot_video(tmp_path) -> Path:
    """24 fps, 160×96, 144 frames: a panning texture (0-47), a still (48-95), another pan
    (96-143), hard cuts at frames 48 and 96 (2.0 s and 4.0 s)."""
    frames = synthetic.cuts([
        (synthetic.moving(1, speed=2), 48),
        (synthetic.still(2), 48),
        (synthetic.moving(3, speed=3), 48),
    ])
    return synthetic.write_video(tmp_path / "three shots.mp4", frames, fps=24)


@pytest.fixture
def long_two_shot_video(tmp_path) -> Path:
    """24 fps, 160×96, 12 s: a 6 s pan (frames 0-143) cut to a 6 s pan of other content."""
    frames = synthetic.cuts([
        (synthetic.moving(5, speed=2), 144),
        (synthetic.moving(6, speed=1), 144),
    ])
    return synthetic.write_video(tmp_path / "two_shots.mp4", frames, fps=24)
