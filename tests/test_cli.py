"""The command line, in-process: outputs, the error contract, and every kind of bad input."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image, ImageSequence

from . import synthetic
from .conftest import media, run_cli


def assert_no_partial_files(folder):
    leftovers = [p for p in folder.rglob("*") if ".tmp-" in p.name or ".partial-" in p.name]
    assert not leftovers, leftovers


def test_make_writes_gifs_and_report(capsys, three_shot_video, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", three_shot_video, "-o", out, "-k", "2", "--min-len", "1",
                           "--max-len", "2", "--width", "96", "-q")
    assert code == 0, err
    folder = out / "three shots"
    doc = json.loads((folder / "segments.json").read_text())
    assert set(doc) >= {"video", "model", "segments", "pred_relevant_windows"}
    assert doc["video"]["frames"] == 144 and doc["video"]["width"] == 160
    picks = [s for s in doc["segments"] if s["pick"]]
    assert len(picks) == 2
    for s in picks:
        gif = Image.open(folder / s["output"])
        assert gif.size[0] == 96 and gif.info.get("loop") == 0
    windows = doc["pred_relevant_windows"]
    assert [w[2] for w in windows] == sorted((w[2] for w in windows), reverse=True)
    page = (folder / "index.html").read_text()
    assert "<svg" in page and picks[0]["output"] in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert_no_partial_files(out)


def test_segments_and_shots_json(capsys, three_shot_video):
    code, out, _ = run_cli(capsys, "shots", three_shot_video, "--json")
    assert code == 0
    shots = json.loads(out)["shots"]
    assert [s["start_frame"] for s in shots] == [0, 48, 96]
    assert set(shots[0]) >= {"start", "end", "start_frame", "end_frame"}
    code, out, _ = run_cli(capsys, "segments", three_shot_video, "--json", "--min-len", "1",
                           "--max-len", "2")
    assert code == 0
    doc = json.loads(out)
    assert len(doc["segments"]) >= 3
    assert all(s["output"] is None for s in doc["segments"])


def test_version_and_help(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and "video2gif" in out
    code, out, _ = run_cli(capsys, "make", "--help")
    assert code == 0 and "--max-bytes" in out


@pytest.mark.parametrize("name, content, reason", [
    ("missing.mp4", None, "no such file"),
    ("empty.mp4", b"", "empty"),
    ("notes.mp4", b"just some text, not a video\n" * 20, "not a readable"),
    ("random.mp4", np.random.default_rng(3).bytes(20_000), "not a readable"),
])
def test_bad_file_is_one_line_error(capsys, tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", path, "-o", out, "-q")
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith(f"video2gif: error: {path}: ") and reason in first
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_directory_is_rejected(capsys, tmp_path):
    code, _, err = run_cli(capsys, "make", tmp_path, "-o", tmp_path / "out", "-q")
    assert code == 1 and "is a directory" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys, three_shot_video, tmp_path):
    code, _, err = run_cli(capsys, "make", three_shot_video, "-o", tmp_path, "-k", "0")
    assert code == 2 and err.startswith("video2gif: error:") and "Traceback" not in err
    code, _, err = run_cli(capsys, "make", three_shot_video, "-o", tmp_path, "--min-len", "5",
                           "--max-len", "2")
    assert code == 2 and "--min-len" in err
    code, _, err = run_cli(capsys, "make", three_shot_video)  # no -o
    assert code == 2 and err.startswith("video2gif: error:")
    code, _, err = run_cli(capsys, "make", three_shot_video, "-o", tmp_path, "--model", "nonsense")
    assert code == 1 and "nonsense" in err


def test_one_bad_input_does_not_stop_the_others(capsys, three_shot_video, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", bad, three_shot_video, "-o", out, "-k", "1", "-q")
    assert code == 1
    assert (out / "three shots" / "01.gif").exists()
    assert not (out / "broken").exists()
    assert "1 of 2 inputs failed" in err and str(bad) in err.splitlines()[-1]


def test_audio_only_file(capsys, tmp_path):
    import av

    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for p in [*stream.encode(frame), *stream.encode()]:
            container.mux(p)
    code, _, err = run_cli(capsys, "make", path, "-o", tmp_path / "out", "-q")
    assert code == 1 and "no video stream" in err


def test_truncated_file(capsys, three_shot_video, tmp_path):
    data = three_shot_video.read_bytes()
    cut = tmp_path / "truncated.mp4"
    cut.write_bytes(data[: len(data) // 2])
    code, _, err = run_cli(capsys, "make", cut, "-o", tmp_path / "out", "-q")
    assert code in (0, 1) and "Traceback" not in err
    if code == 1:
        assert err.startswith(f"video2gif: error: {cut}: ")
    assert_no_partial_files(tmp_path / "out")


@pytest.mark.parametrize("frames, size", [(1, (160, 96)), (30, (16, 16))])
def test_tiny_videos_make_one_gif(capsys, tmp_path, frames, size):
    w, h = size
    images = [np.full((h, w, 3), 40 + 5 * i, np.uint8) for i in range(frames)]
    path = synthetic.write_video(tmp_path / f"tiny{frames}.mp4", images)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "make", path, "-o", out, "-q")
    assert code == 0, err
    gifs = list((out / f"tiny{frames}").glob("*.gif"))
    assert len(gifs) == 1
    assert Image.open(gifs[0]).size[0] <= w


def test_rotated_vfr_and_unicode_name(capsys, tmp_path):
    """A rotated, variable-frame-rate clip with spaces and non-ASCII letters in its name."""
    images = [synthetic.moving(7)(i) for i in range(60)]
    pts = np.cumsum([0] + [40 if i % 3 else 80 for i in range(59)])
    path = synthetic.write_video(tmp_path / "Ünïcødé clip – 1.mkv", images, pts=pts,
                                 time_base=Fraction(1, 1000), rotation=90)
    out = tmp_path / "out dir"
    code, _, err = run_cli(capsys, "make", path, "-o", out, "-k", "1", "--min-len", "1")
    assert code == 0, err
    folder = out / "Ünïcødé clip – 1"
    assert f"{path}: 1 GIF in {folder}" in err  # one GIF, not "1 GIFs"
    gif = Image.open(next(folder.glob("*.gif")))
    assert gif.size[1] > gif.size[0]  # portrait after rotation


def test_real_clip_with_broken_audio(capsys, tmp_path):
    path = media("moviepy/video_with_failing_audio.mp4")
    code, _, err = run_cli(capsys, "make", path, "-o", tmp_path, "-k", "2", "-q")
    assert code == 0, err


@pytest.mark.parametrize("clip", [
    "moviepy/big_buck_bunny_0_30.webm",
    "moviepy/chaplin.mp4",
    "pyscenedetect/goldeneye-vfr-drop3.mp4",
    "pyscenedetect/issue-134-rotate.mp4",
])
def test_make_on_real_clips(capsys, tmp_path, clip):
    path = media(clip)
    budget = 3_000_000
    code, _, err = run_cli(capsys, "make", path, "-o", tmp_path, "-k", "3", "--max-bytes", budget,
                           "-q")
    assert code == 0, err
    folder = tmp_path / path.stem
    doc = json.loads((folder / "segments.json").read_text())
    picks = sorted((s for s in doc["segments"] if s["pick"]), key=lambda s: s["pick"])
    assert 1 <= len(picks) <= 3
    for s in picks:
        gif_path = folder / s["output"]
        assert gif_path.stat().st_size <= budget
        gif = Image.open(gif_path)
        assert gif.info.get("loop") == 0
        seconds = sum(f.info["duration"] for f in ImageSequence.Iterator(gif)) / 1000
        assert gif.n_frames >= 0.8 * seconds * 6  # at least ~6 fps survive
        assert gif.size[0] <= 480
    # The GIFs' spans (their cuts: candidates may be trimmed apart) do not overlap in time.
    spans = sorted((s["cut"]["start"], s["cut"]["end"]) for s in picks)
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:]))


def test_a_bad_flag_value_is_named_once(capsys, tmp_path):
    """One line: the flag, then the reason, without click's restatement of the flag."""
    code, _, err = run_cli(capsys, "make", tmp_path / "any.mp4", "-o", tmp_path, "--quality",
                           "500")
    assert code == 2
    assert err == "video2gif: error: --quality: 500 is not in the range 1<=x<=100.\n"
    code, _, err = run_cli(capsys, "make", tmp_path / "any.mp4")  # a missing flag says which
    assert code == 2 and err == "video2gif: error: Missing option '-o' / '--output'.\n"


def test_palette_flags_with_a_video_format_are_named_as_unused(capsys, three_shot_video, tmp_path):
    """--quality and --dither shape GIFs only: with --format mp4 make says so, then works."""
    code, _, err = run_cli(capsys, "make", three_shot_video, "-o", tmp_path, "-k", "1",
                           "--format", "mp4", "--quality", "50", "--dither", "bayer",
                           "--width", "96", "--min-len", "1", "-q")
    assert code == 0, err
    assert ("video2gif: warning: --dither, --quality apply to GIF only, not to --format mp4"
            in err.splitlines())
    assert list((tmp_path / "three shots").glob("*.mp4"))
