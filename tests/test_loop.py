"""Seamless loops on frame lists and on generated clips with a known period."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import av
import numpy as np
import pytest

from tests import synthetic
from video2gif.encode import EncodeOptions, encode_segment
from video2gif.errors import UsageError
from video2gif.loop import (
    LOOP_MODES,
    LoopShaper,
    check_loop,
    shape_loop,
    thumbnail,
)

from .conftest import run_cli

W, H = 96, 64


def rotating(period_frames: float, seed: int = 3):
    """A bar spinning about the centre over a fixed texture: one turn every ``period_frames``."""
    background = synthetic.textured(seed, W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    cy, cx = H / 2, W / 2

    def frame(i: int) -> np.ndarray:
        angle = 2 * math.pi * i / period_frames
        ux, uy = math.cos(angle), math.sin(angle)
        along = (xx - cx) * ux + (yy - cy) * uy
        across = np.abs(-(xx - cx) * uy + (yy - cy) * ux)
        bar = (across < 4) & (along > -2) & (along < 28)
        out = background.copy()
        out[bar] = (250, 240, 30)
        return out

    return frame


def pendulum(period_frames: float, seed: int = 5):
    """A ball swinging left and right, ``x = A sin(2π i / period)``, over a fixed texture."""
    background = synthetic.textured(seed, W, H)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)

    def frame(i: int) -> np.ndarray:
        x = W / 2 + 25 * math.sin(2 * math.pi * i / period_frames)
        ball = (xx - x) ** 2 + (yy - H / 2) ** 2 < 14**2
        out = background.copy()
        out[ball] = (20, 30, 240)
        return out

    return frame


def _gif_frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def _seam_and_steps(frames):
    thumbs = [thumbnail(f) for f in frames]
    steps = [float(np.abs(a - b).mean()) for a, b in itertools.pairwise(thumbs)]
    return float(np.abs(thumbs[-1] - thumbs[0]).mean()), [s for s in steps if s > 1e-6]


def test_modes_are_checked():
    assert check_loop("auto") == "auto"
    assert set(LOOP_MODES) == {"auto", "off", "bounce"}
    with pytest.raises(UsageError, match="--loop"):
        check_loop("sideways")
    with pytest.raises(UsageError, match="--loop"):
        LoopShaper("sideways", 0.0, 1.0)


@pytest.mark.parametrize("period", [37.3, 52.9])
def test_auto_ends_after_whole_turns_of_a_spinning_bar(period):
    gen = rotating(period)
    frames = [gen(i) for i in range(130)]
    wanted = 70  # not a multiple of the period: the cut as asked would jump
    out, holds, report = shape_loop(frames, [1] * 130, "auto", min_frames=40,
                                    wanted_frames=wanted)
    assert report.seam_as_cut > 2 * report.typical_step
    # The loop closes after whole turns (the last frame is the first again, or its predecessor).
    turns = round(len(out) / period)
    assert turns >= 1 and abs(len(out) - turns * period) <= 1.5
    assert report.crossfade_frames == 0
    # About as small as the smallest frame-to-frame change inside (the period is not a whole
    # number of frames, so the last frame can be up to half a step off).
    assert report.seam <= min(report.typical_step, 1.25 * report.best_step)
    assert len(holds) == len(out)


def test_auto_keeps_the_length_of_a_clip_without_repetition():
    gen = synthetic.panning(7, speed=3)
    frames = [gen(i) for i in range(40)]
    out, _, report = shape_loop(frames, [1] * 40, "auto", min_frames=30, wanted_frames=36)
    assert len(out) + report.crossfade_frames in (36, 35)  # at most a frame of slack


def test_crossfade_blends_a_hard_jump_and_drops_the_blended_head():
    # Brightness ramps up then the loop would jump back down: a cross-fade smooths it.
    frames = [np.full((16, 16, 3), 4 * i, np.uint8) for i in range(40)]
    out, holds, report = shape_loop(frames, [1] * 40, "auto", min_frames=40, wanted_frames=40,
                                    fps=12)
    assert report.crossfade_frames == 6  # 0.5 s at 12 fps
    assert len(out) == 40 - 6 and len(holds) == len(out)
    assert report.seam < 0.7 * report.seam_as_cut
    # The last frame is mostly the frame just before the new first frame.
    assert abs(int(out[-1][0, 0, 0]) - int(frames[5][0, 0, 0])) <= 40


def test_bounce_plays_forward_then_backward():
    frames = [np.full((8, 8, 3), v, np.uint8) for v in (0, 50, 100, 150)]
    out, holds, report = shape_loop(frames, [1, 2, 1, 3], "bounce")
    assert [int(f[0, 0, 0]) for f in out] == [0, 50, 100, 150, 100, 50]
    assert holds == [1, 2, 1, 3, 1, 2]
    assert report.seam == pytest.approx(50.0)
    assert report.seam_ratio == pytest.approx(1.0)


@pytest.mark.parametrize("mode", LOOP_MODES)
def test_one_frame_is_a_valid_loop(mode):
    frame = np.zeros((8, 8, 3), np.uint8)
    out, holds, report = shape_loop([frame], [5], mode)
    assert len(out) == 1 and holds == [5]
    assert report.seam == 0.0 and report.seam_ratio == 0.0


def test_off_keeps_the_frames_as_cut():
    frames = [np.full((8, 8, 3), v, np.uint8) for v in range(0, 200, 10)]
    out, _, report = shape_loop(frames, [1] * 20, "off", wanted_frames=15)
    assert len(out) == 15 and report.crossfade_frames == 0
    assert report.seam == pytest.approx(140.0)


def test_bad_frame_lists_are_refused():
    with pytest.raises(UsageError):
        shape_loop([], [], "auto")
    with pytest.raises(UsageError):
        shape_loop([np.zeros((4, 4, 3), np.uint8)], [1, 1], "auto")


@pytest.fixture
def pendulum_video(tmp_path):
    """A ball swinging with a period of 2.3 s (55.2 frames at 24 fps), 6 s long."""
    gen = pendulum(55.2)
    return synthetic.write_video(tmp_path / "pendulum.mp4", [gen(i) for i in range(144)])


def test_encoded_gif_of_a_pendulum_loops_without_a_jump(pendulum_video, tmp_path):
    # Cut 2.0 s long (0.87 periods); the search may end anywhere up to 2.5 s long: a period fits.
    shaper = LoopShaper("auto", 0.5, 2.5, end_min=1.6)
    out = encode_segment(pendulum_video, 0.5, 3.0, tmp_path / "auto.gif",
                         EncodeOptions(width=96, fps=12), shape=shaper)
    frames = _gif_frames(out.path)
    seam, steps = _seam_and_steps(frames)
    assert len(frames) == out.frames
    # On the written GIF the jump back is no bigger than the bigger frame-to-frame changes inside.
    assert seam <= max(steps) + 1.0
    off = encode_segment(pendulum_video, 0.5, 2.5, tmp_path / "off.gif",
                         EncodeOptions(width=96, fps=12), shape=LoopShaper("off", 0.5, 2.5))
    off_seam, _ = _seam_and_steps(_gif_frames(off.path))
    assert seam < off_seam
    assert shaper.report.seam <= 1.5 * shaper.report.typical_step


def test_bounce_doubles_back_in_the_file(pendulum_video, tmp_path):
    shaper = LoopShaper("bounce", 0.0, 1.0)
    out = encode_segment(pendulum_video, 0.0, 1.0, tmp_path / "b.gif",
                         EncodeOptions(width=96, fps=12), shape=shaper)
    assert out.frames == 2 * 12 - 2
    assert shaper.report.mode == "bounce"


def test_one_frame_video_bounces_to_a_valid_gif(tmp_path):
    video = synthetic.write_video(tmp_path / "one.mp4", [synthetic.textured(1)])
    shaper = LoopShaper("bounce", 0.0, 1 / 24)
    out = encode_segment(video, 0.0, 1 / 24, tmp_path / "one.gif", EncodeOptions(width=64),
                         shape=shaper)
    assert out.frames == 1 and len(_gif_frames(out.path)) == 1


# -- every entry point: the CLI, the API, the web API's query ----------------------------------


def test_cli_refuses_an_unknown_loop_mode_in_one_line(capsys, pendulum_video, tmp_path,
                                                       monkeypatch):
    monkeypatch.delenv("VIDEO2GIF_DEBUG", raising=False)  # the user's view: no traceback
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", pendulum_video, "-o", out, "--loop", "sideways")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--loop" in lines[0] and "sideways" in lines[0]
    assert not out.exists() or not any(out.iterdir())


def test_cli_make_reports_the_loop_seam(capsys, pendulum_video, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", pendulum_video, "-o", out, "-k", "1", "--width", "96",
                           "-q", "--no-cache", "--backbone", "none", "--model", "prior")
    assert code == 0, err
    doc = json.loads((out / "pendulum" / "segments.json").read_text())
    pick = next(s for s in doc["segments"] if s["pick"] == 1)
    loop = pick["loop"]
    assert loop["mode"] == "auto" and loop["seam"] <= loop["typical_step"] + 1e-6
    assert set(pick["cut"]) >= {"start", "end", "why"}
    page = (out / "pendulum" / "index.html").read_text()
    assert "loop auto · seam" in page


def test_one_frame_video_with_bounce_makes_a_valid_gif(capsys, tmp_path):
    video = synthetic.write_video(tmp_path / "one.mp4", [synthetic.textured(2)])
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", video, "-o", out, "--loop", "bounce", "-q", "--no-cache",
                           "--backbone", "none", "--model", "prior")
    assert code == 0, err
    gifs = sorted((out / "one").glob("*.gif"))
    assert len(gifs) == 1 and len(_gif_frames(gifs[0])) == 1
    doc = json.loads((out / "one" / "segments.json").read_text())
    assert next(s for s in doc["segments"] if s["pick"] == 1)["loop"]["mode"] == "bounce"


def test_api_and_web_query_take_the_loop_option(pendulum_video, tmp_path):
    from video2gif.options import GifOptions, parse_query
    from video2gif.pipeline import make_gifs

    base = GifOptions(k=1, width=96, backbone="none", model="prior", use_cache=False)
    assert parse_query({"loop": "bounce"}, base) == {"loop": "bounce"}
    with pytest.raises(UsageError, match="--loop"):
        GifOptions(loop="sideways").validate(check_model=False)
    assert base.digest() != dataclasses.replace(base, loop="off").digest()  # batch redoes work
    made = make_gifs(pendulum_video, tmp_path, options=dataclasses.replace(base, loop="bounce"))
    doc = json.loads((made.folder / "segments.json").read_text())
    loop = next(s for s in doc["segments"] if s["pick"] == 1)["loop"]
    assert loop["mode"] == "bounce"
    assert made.outputs[0].frames > 12  # forward and back
