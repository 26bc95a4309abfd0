"""Alignment of GIFs with their source videos: the hash, the matching, the CLI and dataset build.

GIFs are made the way GIF makers make them: a known range of a video, fewer frames per second,
resized, a palette of at most 256 colours with dithering, sometimes a cropped border.
"""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from video2gif.align import (
    MATCH_CONFIDENCE,
    align,
    align_many,
    crop_hypotheses,
    hamming,
    phash,
    read_gif,
)
from video2gif.datasets import read_annotations
from video2gif.errors import InputError

from . import synthetic
from .conftest import media, run_cli

FPS = 24


def frames_of(path, start=0, stop=None, step=1, width=None) -> list[np.ndarray]:
    """RGB frames ``start:stop:step`` of a video (decoding stops at ``stop``)."""
    out = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if stop is not None and i >= stop:
                break
            if i >= start and (i - start) % step == 0:
                height = None if width is None else round(frame.height * width / frame.width)
                out.append(frame.to_ndarray(format="rgb24", width=width or frame.width,
                                            height=height or frame.height))
    return out


def six_scenes(seeds=(11, 12, 13, 14, 15, 16)) -> list[np.ndarray]:
    # Each pan lasts 60 frames, less than the 80-frame period of synthetic.moving, so no
    # moment of the video repeats.
    return synthetic.cuts([(synthetic.moving(s, speed=2), 60) for s in seeds])


@pytest.fixture(scope="module")
def scenes_frames() -> list[np.ndarray]:
    return six_scenes()


@pytest.fixture
def scenes_video(tmp_path, scenes_frames):
    """24 fps, 160×96, 360 frames (15 s): six panning textures of 60 frames, hard cuts between."""
    return synthetic.write_video(tmp_path / "scenes.mp4", scenes_frames, fps=FPS)


def assert_near(result, start_frame, end_frame, tolerance=3):
    assert result.matched, result
    assert result.confidence >= MATCH_CONFIDENCE
    assert abs(result.start_frame - start_frame) <= tolerance, result
    assert abs(result.end_frame - end_frame) <= tolerance, result
    assert result.start == pytest.approx(result.start_frame / FPS, abs=1e-3)


# -- the hash ----------------------------------------------------------------------------------


def test_phash_is_bit_identical_to_imagehash_on_random_images():
    imagehash = pytest.importorskip("imagehash")
    rng = np.random.default_rng(0)
    for _ in range(100):
        h, w = rng.integers(8, 240, size=2)
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        assert f"{phash(image):016x}" == str(imagehash.phash(image))


def test_phash_is_bit_identical_to_imagehash_on_real_frames_and_gif_frames():
    imagehash = pytest.importorskip("imagehash")
    frames = frames_of(media("moviepy/chaplin.mp4"))[::6]
    for frame in frames:
        image = Image.fromarray(frame)
        assert f"{phash(image):016x}" == str(imagehash.phash(image))
        assert phash(frame) == phash(image)  # arrays are hashed as the same image
    with Image.open(media("moviepy/pigs_in_a_polka.gif")) as gif:
        for i in range(0, gif.n_frames, 3):
            gif.seek(i)
            frame = gif.convert("RGB")
            assert f"{phash(frame):016x}" == str(imagehash.phash(frame))


def test_phash_tells_images_apart_and_survives_gif_treatment():
    a, b = synthetic.textured(1), synthetic.textured(2)
    small = Image.fromarray(a).resize((80, 48)).quantize(64, dither=Image.Dither.FLOYDSTEINBERG)
    assert hamming(phash(a), phash(small)) <= 6
    assert hamming(phash(a), phash(b)) >= 16
    with pytest.raises(InputError):
        phash(np.zeros((4, 4, 2), dtype=np.uint8))


def test_hamming_is_vectorised():
    hashes = np.array([0, 0xFF, 2**64 - 1], dtype=np.uint64)
    assert hamming(hashes, np.uint64(0)).tolist() == [0, 8, 64]
    assert hamming(0b1011, 0b0001) == 2


def test_crop_hypotheses_include_the_aspect_crop():
    crops = crop_hypotheses((400, 170), (1280, 720))  # a 2.35:1 GIF from a 16:9 video
    assert (0.0, 0.0) in crops
    assert any(cx == 0 and 0.1 < cy < 0.15 for cx, cy in crops)  # top and bottom bars cut
    assert crop_hypotheses((320, 180), (1280, 720)) == [(0.0, 0.0), (0.06, 0.06), (0.12, 0.12)]


# -- reading GIFs ------------------------------------------------------------------------------


def test_read_gif_honours_frame_delays(tmp_path, scenes_frames):
    delays = [80, 170, 0, 40, 120]  # a zero delay is shown for 100 ms, as browsers do
    gif = synthetic.write_gif(tmp_path / "d.gif", scenes_frames[:5], delays)
    frames = read_gif(gif)
    assert frames.durations.tolist() == pytest.approx([0.08, 0.17, 0.1, 0.04, 0.12])
    assert frames.times.tolist() == pytest.approx([0.0, 0.08, 0.25, 0.35, 0.39])
    assert frames.size == (160, 96) and frames.informative.all()


def test_read_gif_marks_blank_frames_and_rejects_non_gifs(tmp_path):
    gif = synthetic.write_gif(
        tmp_path / "b.gif", [np.zeros((48, 64, 3), np.uint8), synthetic.textured(3)[:48, :64]]
    )
    assert read_gif(gif).informative.tolist() == [False, True]
    text = tmp_path / "notes.gif"
    text.write_text("not a gif")
    with pytest.raises(InputError, match="notes.gif"):
        read_gif(text)
    with pytest.raises(InputError, match="no such file"):
        read_gif(tmp_path / "missing.gif")


# -- alignment, synthetic ----------------------------------------------------------------------


def test_align_finds_a_resized_dithered_low_fps_gif(tmp_path, scenes_video, scenes_frames):
    # Frames 130..210 (crossing the cut at 180), every 3rd frame: 8 fps, 120 ms per frame
    # (3/24 s = 125 ms is not a whole number of GIF ticks), 120 px wide, 64 colours.
    gif = synthetic.write_gif(tmp_path / "g.gif", scenes_frames[130:211:3], 120, width=120,
                              colors=64)
    result = align(gif, scenes_video)
    assert_near(result, 130, 211)
    assert result.end == pytest.approx(result.end_frame / FPS, abs=0.05)


def test_align_finds_a_gif_with_a_cropped_border(tmp_path, scenes_video, scenes_frames):
    gif = synthetic.write_gif(tmp_path / "c.gif", scenes_frames[40:100:2], 80, width=128,
                              crop=0.1)
    result = align(gif, scenes_video)
    assert_near(result, 40, 100)
    assert result.crop != (0.0, 0.0)


def test_align_honours_a_long_held_frame(tmp_path, scenes_video, scenes_frames):
    # One frame is held for a whole second (the GIF skips 24 video frames there); a matcher that
    # ignored the delays could not jump that far between consecutive GIF frames.
    picks = list(range(200, 230, 3)) + list(range(251, 290, 3))
    delays = [125] * len(picks)
    delays[picks.index(227)] = 1000
    gif = synthetic.write_gif(tmp_path / "h.gif", [scenes_frames[i] for i in picks], delays)
    result = align(gif, scenes_video)
    assert_near(result, 200, 290)


def test_a_gif_from_another_video_is_not_matched(tmp_path, scenes_video):
    other = six_scenes(seeds=(41, 42, 43, 44, 45, 46))
    gif = synthetic.write_gif(tmp_path / "o.gif", other[100:160:3], 120, width=120)
    result = align(gif, scenes_video)
    assert not result.matched
    assert result.confidence < 0.2
    assert result.reason


def test_a_gif_of_a_long_static_shot_is_ambiguous(tmp_path):
    # A 6-second still: a 1.25-second GIF from its middle fits other parts of it just as well.
    frames = synthetic.cuts([(synthetic.moving(11), 60), (synthetic.still(7), 150),
                             (synthetic.moving(13), 60)])
    video = synthetic.write_video(tmp_path / "still.mp4", frames, fps=FPS)
    gif = synthetic.write_gif(tmp_path / "s.gif", frames[120:150:3], 120, width=120)
    result = align(gif, video)
    assert not result.matched and "ambiguous" in result.reason
    assert 60 <= result.start_frame < 210  # the guess is inside the still, but unsure where


def test_a_single_still_frame_is_found(tmp_path, scenes_video, scenes_frames):
    still = tmp_path / "frame.png"
    Image.fromarray(scenes_frames[150]).save(still)
    result = align(still, scenes_video)
    assert result.matched and abs(result.start_frame - 150) <= 2


def test_a_blank_gif_is_not_matched(tmp_path, scenes_video):
    gif = synthetic.write_gif(tmp_path / "k.gif", [np.zeros((96, 160, 3), np.uint8)] * 4)
    result = align(gif, scenes_video)
    assert not result.matched and result.confidence == 0.0


def test_align_many_decodes_once_and_reports_bad_gifs(tmp_path, scenes_video, scenes_frames):
    good = synthetic.write_gif(tmp_path / "a.gif", scenes_frames[10:50:2], 80, width=100)
    wide = synthetic.write_gif(tmp_path / "w.gif", [f[20:76] for f in scenes_frames[250:330:3]],
                               120)  # top and bottom cut off: a wider aspect ratio
    out = align_many([good, tmp_path / "missing.gif", wide], scenes_video)
    assert out.info.frames == 360
    first, missing, third = out.results
    assert_near(first, 10, 50)
    assert isinstance(missing, InputError)
    assert_near(third, 250, 330)


# -- alignment, real clips ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chaplin_frames():
    return frames_of(media("moviepy/chaplin.mp4"))


def test_align_real_clip_at_10_fps(tmp_path, chaplin_frames):
    video = media("moviepy/chaplin.mp4")  # 25 fps, 241 frames
    picks = [round(75 + 2.5 * i) for i in range(30)]  # 3.0-6.0 s at 10 fps
    gif = synthetic.write_gif(tmp_path / "ch.gif", [chaplin_frames[i] for i in picks], 100,
                              width=200)
    result = align(gif, video)
    assert result.matched and result.confidence > 0.9
    assert abs(result.start_frame - 75) <= 3 and abs(result.end_frame - 150) <= 3
    assert result.start == pytest.approx(3.0, abs=0.15)
    assert result.end == pytest.approx(6.0, abs=0.15)


def test_align_real_clip_with_cropped_border(tmp_path, chaplin_frames):
    video = media("moviepy/chaplin.mp4")
    gif = synthetic.write_gif(tmp_path / "chc.gif", chaplin_frames[150:225:3], 120, width=180,
                              crop=0.12, colors=128)
    result = align(gif, video)
    assert result.matched
    assert abs(result.start_frame - 150) <= 3 and abs(result.end_frame - 225) <= 3


def test_align_720p_clip(tmp_path):
    video = media("pyscenedetect/testvideo.mp4")  # 1280×720, 29.97 fps
    frames = frames_of(video, 300, 420, 3, width=320)
    gif = synthetic.write_gif(tmp_path / "t.gif", frames, 100)
    result = align(gif, video)
    assert result.matched
    assert abs(result.start_frame - 300) <= 3 and abs(result.end_frame - 420) <= 4


def test_align_across_two_encodings_of_one_scene(tmp_path):
    # Megamind_bugy.avi (30 fps) and Megamind.avi (23.976 fps) hold the same frames: the GIF's
    # frame indices carry over, its times do not.
    bugy = frames_of(media("opencv/Megamind_bugy.avi"))
    gif = synthetic.write_gif(tmp_path / "m.gif", bugy[100:200:3], 100, width=240)
    result = align(gif, media("opencv/Megamind.avi"))
    assert result.matched
    assert abs(result.start_frame - 100) <= 3 and abs(result.end_frame - 200) <= 4


def test_real_gif_from_another_film_is_not_matched():
    result = align(media("moviepy/pigs_in_a_polka.gif"), media("moviepy/chaplin.mp4"))
    assert not result.matched and result.confidence < 0.2


# -- command line ------------------------------------------------------------------------------


def test_cli_align_json_contract(capsys, tmp_path, scenes_video, scenes_frames):
    gif = synthetic.write_gif(tmp_path / "g.gif", scenes_frames[60:120:3], 120, width=120)
    code, out, err = run_cli(capsys, "align", gif, scenes_video, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) == {"start", "end", "start_frame", "end_frame", "confidence", "matched"}
    assert doc["matched"] is True and abs(doc["start_frame"] - 60) <= 3
    assert 0 <= doc["confidence"] <= 1
    code, out, _ = run_cli(capsys, "align", gif, scenes_video)
    assert code == 0 and "matched" in out and "frames" in out


def test_cli_align_errors_are_one_line(capsys, tmp_path, scenes_video):
    code, out, err = run_cli(capsys, "align", tmp_path / "nope.gif", scenes_video)
    assert code == 1 and out == ""
    assert err.startswith("video2gif: error: ") and "nope.gif" in err and err.count("\n") == 1
    gif = synthetic.write_gif(tmp_path / "g.gif", [synthetic.textured(1)] * 2)
    code, _, err = run_cli(capsys, "align", gif, tmp_path / "nope.mp4")
    assert code == 1 and "nope.mp4" in err and "Traceback" not in err


def test_cli_dataset_build_keeps_confident_pairs(capsys, tmp_path, scenes_video, scenes_frames):
    a = synthetic.write_gif(tmp_path / "a.gif", scenes_frames[20:80:3], 120, width=120)
    b = synthetic.write_gif(tmp_path / "b.gif", scenes_frames[200:260:2], 80, width=100, crop=0.08)
    other = six_scenes(seeds=(51, 52, 53, 54, 55, 56))
    c = synthetic.write_gif(tmp_path / "c.gif", other[30:90:3], 120)
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "gif,video,views,user_id\n"
        f"{a.name},{scenes_video.name},120,u1\n"
        f"{b.name},{scenes_video.name},,u2\n"
        f"{c.name},{scenes_video.name},,\n"
        f"missing.gif,{scenes_video.name},,\n"
    )
    out = tmp_path / "out" / "annotations.jsonl"
    out.parent.mkdir()
    report = tmp_path / "rejected.jsonl"
    code, _, err = run_cli(capsys, "dataset", "build", pairs, "-o", out, "--report", report, "-q")
    assert code == 1  # one input was unreadable
    assert "missing.gif (line 5)" in err and "kept 2 of 4 GIFs (1 videos)" in err
    [video] = read_annotations(out)
    assert video.id == "scenes" and video.frames == 360 and video.fps == pytest.approx(24)
    assert (out.parent / video.path).resolve() == scenes_video.resolve()
    (g1, g2) = video.gifs
    assert abs(g1.start_frame - 20) <= 3 and abs(g2.start_frame - 200) <= 3
    assert g1.views == 120 and g1.user_id == "u1" and g2.user_id == "u2"
    rejected = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(r["line"] for r in rejected) == [4, 5]
    assert not list(tmp_path.rglob("*.tmp-*"))
