"""Shot detection: cuts, dissolves, fades, flashes and motion on videos with known content, and
stable expectations on real clips (checked by eye on contact sheets of the frames)."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from video2gif.cli import cli
from video2gif.errors import UsageError
from video2gif.shots import (
    KINDS,
    ShotDetector,
    ShotOptions,
    ShotResult,
    detect_shots,
)

from . import synthetic
from .conftest import media

FPS = 24


def check_layout(result: ShotResult) -> None:
    """Invariants of every result: shots in order, not overlapping, inside the video, separated
    exactly by the transitions, the last one ending at the video's duration."""
    n = result.info.frames
    shots, transitions = result.shots, result.transitions
    assert shots, "a video always has at least one shot"
    for a, b in zip(shots, shots[1:]):
        assert a.end_frame <= b.start_frame
        assert a.end <= b.start + 1e-9
    for s in shots:
        assert 0 <= s.start_frame < s.end_frame <= n
        assert s.start < s.end
        assert s.transition_in in KINDS and s.transition_out in KINDS
    for t in transitions:
        assert 0 <= t.start_frame <= t.end_frame <= n
        assert (t.start_frame == t.end_frame) == (t.kind == "cut")
    # every boundary between two shots is one transition, and its frames are in no shot
    for a, b in zip(shots, shots[1:]):
        between = [t for t in transitions if t.start_frame == a.end_frame]
        assert len(between) == 1 and between[0].end_frame == b.start_frame
        assert a.transition_out == b.transition_in == between[0].kind
    if shots[-1].transition_out == "end":
        assert shots[-1].end_frame == n
        assert shots[-1].end == pytest.approx(result.info.duration)
    if shots[0].transition_in == "start":
        assert shots[0].start_frame == 0 and shots[0].start == 0.0


def starts(result: ShotResult) -> list[int]:
    return [s.start_frame for s in result.shots]


@pytest.fixture
def cut_video(tmp_path):
    """24 fps, 120 frames: a still (0-29), a pan at 3 px/frame (30-69), another still (70-119);
    hard cuts at frames 30 and 70."""
    frames = synthetic.cuts([
        (synthetic.still(1), 30),
        (synthetic.panning(2, speed=3), 40),
        (synthetic.still(3), 50),
    ])
    return synthetic.write_video(tmp_path / "cuts.mp4", frames, fps=FPS)


def test_hard_cuts_are_found_at_their_frames(cut_video):
    result = detect_shots(cut_video)
    check_layout(result)
    assert len(result.shots) == 3
    for found, expected in zip(starts(result)[1:], (30, 70)):
        assert abs(found - expected) <= 1
    assert [t.kind for t in result.transitions] == ["cut", "cut"]
    assert [(s.transition_in, s.transition_out) for s in result.shots] == [
        ("start", "cut"), ("cut", "cut"), ("cut", "end")]
    # times come from the frames' timestamps
    assert result.shots[1].start == pytest.approx(result.shots[1].start_frame / FPS, abs=1e-3)
    assert result.shots[-1].end == pytest.approx(120 / FPS, abs=1e-3)


def test_dissolve_frames_belong_to_no_shot(tmp_path):
    """A still, a 12-frame cross-dissolve (frames 40-51), another still from frame 52."""
    frames = synthetic.dissolve(synthetic.still(4), synthetic.still(5), 40, 12, 40)
    result = detect_shots(synthetic.write_video(tmp_path / "dissolve.mp4", frames, fps=FPS))
    check_layout(result)
    assert len(result.shots) == 2
    (t,) = result.transitions
    assert t.kind == "dissolve"
    assert abs(t.start_frame - 40) <= 2 and abs(t.end_frame - 52) <= 2
    assert result.shots[0].end_frame == t.start_frame
    assert result.shots[1].start_frame == t.end_frame
    assert result.shots[0].transition_out == "dissolve"


def test_dissolve_between_moving_shots(tmp_path):
    """Slow camera glides (half a pixel per frame) on both sides of a 16-frame dissolve (frames
    48-63)."""
    frames = synthetic.dissolve(
        synthetic.gliding(6, speed=0.5), synthetic.gliding(7, speed=0.5), 48, 16, 48
    )
    result = detect_shots(synthetic.write_video(tmp_path / "moving.mp4", frames, fps=FPS))
    check_layout(result)
    (t,) = result.transitions
    assert t.kind == "dissolve"
    assert abs(t.start_frame - 48) <= 2 and abs(t.end_frame - 64) <= 2


def test_fade_through_black(tmp_path):
    """Still A (0-35) fades out over 12 frames (36-47, the last one black), still B fades in over
    12 frames (48-59) and holds from frame 60."""
    frames = synthetic.fade_through_black(synthetic.still(8), synthetic.still(9), 36, 12, 36)
    result = detect_shots(synthetic.write_video(tmp_path / "fade.mp4", frames, fps=FPS))
    check_layout(result)
    assert len(result.shots) == 2
    (t,) = result.transitions
    assert t.kind == "fade"
    # the black frame is inside; only the barely dimmed ends of the ramps may stay with a shot
    assert t.start_frame <= 47 < t.end_frame
    assert 36 <= t.start_frame <= 38 and 58 <= t.end_frame <= 60


def test_fade_in_at_start_and_fade_out_at_end_make_no_extra_shot(tmp_path):
    """Black (0-5), fade-in (6-17), a pan (18-77), fade-out (78-89), black (90-95)."""
    scene = synthetic.panning(10, speed=2)
    black = np.zeros_like(scene(0))
    frames = [black] * 6
    frames += [(scene(i).astype(np.float32) * (i + 1) / 13).round().astype(np.uint8)
               for i in range(12)]
    frames += [scene(12 + i) for i in range(60)]
    frames += [(scene(72 + i).astype(np.float32) * (12 - i) / 13).round().astype(np.uint8)
               for i in range(12)]
    frames += [black] * 6
    result = detect_shots(synthetic.write_video(tmp_path / "in-out.mp4", frames, fps=FPS))
    check_layout(result)
    (shot,) = result.shots
    assert (shot.transition_in, shot.transition_out) == ("fade", "fade")
    assert 15 <= shot.start_frame <= 18 and 78 <= shot.end_frame <= 81
    assert [t.kind for t in result.transitions] == ["fade", "fade"]
    assert result.transitions[0].start_frame == 0
    assert result.transitions[-1].end_frame == len(frames)


def test_static_and_fast_motion_make_no_cut(tmp_path):
    """A static camera for 2 s, then the camera pans at 12 px/frame over a fine texture, so fast
    that no two consecutive frames share a pixel pattern: one shot."""
    scene = synthetic.panning(12, speed=12)
    frames = [scene(0)] * 48 + [scene(i) for i in range(1, 73)]
    result = detect_shots(synthetic.write_video(tmp_path / "motion.mp4", frames, fps=FPS))
    check_layout(result)
    assert len(result.shots) == 1
    assert result.transitions == []


@pytest.mark.parametrize("count", [1, 2])
def test_white_flash_is_not_a_cut(tmp_path, count):
    """A slow pan with one or two frames (40, 41) washed 90 % to white: a photographer's flash
    changes the picture for a moment and then the same shot goes on, so it is no boundary."""
    frames = [synthetic.panning(13, speed=1)(i) for i in range(96)]
    frames = synthetic.with_flash(frames, at=40, count=count, level=0.9)
    result = detect_shots(synthetic.write_video(tmp_path / "flash.mp4", frames, fps=FPS))
    check_layout(result)
    assert len(result.shots) == 1
    assert result.transitions == []


def test_short_shots_are_merged(tmp_path):
    """Shots of 40, 5 and 40 frames: the 5-frame (0.21 s) shot is shorter than the minimum, so it
    joins a neighbour; with no minimum it stays."""
    frames = synthetic.cuts([
        (synthetic.still(14), 40), (synthetic.still(15), 5), (synthetic.still(16), 40)])
    path = synthetic.write_video(tmp_path / "short.mp4", frames, fps=FPS)
    result = detect_shots(path)
    check_layout(result)
    assert len(result.shots) == 2
    assert all(s.duration >= ShotOptions().min_shot_seconds for s in result.shots)
    assert starts(result)[1] in (40, 45)
    everything = detect_shots(path, ShotOptions(min_shot_seconds=0))
    check_layout(everything)
    assert starts(everything) == [0, 40, 45]
    longer = detect_shots(path, ShotOptions(min_shot_seconds=2.0))
    assert len(longer.shots) == 1


def test_one_frame_video(tmp_path):
    path = synthetic.write_video(tmp_path / "one.mp4", [synthetic.still(17)(0)], fps=FPS)
    result = detect_shots(path)
    check_layout(result)
    (shot,) = result.shots
    assert (shot.start_frame, shot.end_frame, shot.start) == (0, 1, 0.0)
    assert shot.end == pytest.approx(result.info.duration)
    assert (shot.transition_in, shot.transition_out) == ("start", "end")


def test_all_black_video_is_one_shot(tmp_path):
    frames = [synthetic.solid(0)(i) for i in range(30)]
    result = detect_shots(synthetic.write_video(tmp_path / "black.mp4", frames, fps=FPS))
    check_layout(result)
    assert [(s.start_frame, s.end_frame) for s in result.shots] == [(0, 30)]
    assert result.transitions == []


def test_variable_frame_rate_times(tmp_path):
    """Frames 40 ms and 80 ms apart in turn (the pattern of a 24 fps film with every third frame
    dropped); a cut at frame 30, which is shown at 1.80 s."""
    frames = synthetic.cuts([(synthetic.still(18), 30), (synthetic.panning(19, speed=2), 30)])
    pts, t = [], 0
    for i in range(len(frames)):
        pts.append(t)
        t += 40 if i % 2 == 0 else 80
    path = synthetic.write_video(tmp_path / "vfr.mp4", frames, pts=pts,
                                 time_base=Fraction(1, 1000))
    result = detect_shots(path)
    check_layout(result)
    assert len(result.shots) == 2
    cut = result.shots[1]
    assert cut.start_frame == 30
    assert cut.start == pytest.approx(pts[30] / 1000, abs=1e-3)  # 1.80 s, not 30 / fps
    assert result.shots[0].end == cut.start
    assert result.shots[1].end == pytest.approx(result.info.duration)


def test_detector_keeps_no_frames(cut_video):
    """The detector's memory is a ring of recent thumbnails plus numbers per frame."""
    from video2gif.decode import decode_pass

    detector = ShotDetector()
    decode_pass(cut_video, [detector])
    assert len(detector.times) == 120
    assert detector.frame_diffs.shape == (120,)
    assert detector.frame_diffs[30] > 5 * np.median(detector.frame_diffs)
    assert detector._ring is None  # released after the pass


def test_bad_options_raise_usage_errors():
    with pytest.raises(UsageError, match="min_shot_seconds"):
        ShotOptions(min_shot_seconds=-1).validate()
    with pytest.raises(UsageError, match="cut_ratio"):
        ShotDetector(ShotOptions(cut_ratio=0.5))


def test_gradual_detection_can_be_switched_off(tmp_path):
    frames = synthetic.dissolve(synthetic.still(4), synthetic.still(5), 40, 12, 40)
    path = synthetic.write_video(tmp_path / "dissolve.mp4", frames, fps=FPS)
    result = detect_shots(path, ShotOptions(gradual=False))
    assert all(t.kind != "dissolve" for t in result.transitions)


def test_cli_prints_shots_as_json(cut_video):
    out = CliRunner().invoke(cli, ["shots", str(cut_video), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert [s["start_frame"] for s in doc["shots"]][1:] == [30, 70]
    assert set(doc["shots"][0]) >= {"start", "end", "start_frame", "end_frame"}


# -- real clips (skipped without ../shared/media); expectations checked on contact sheets ------


def test_testvideo_fades_and_dissolve():
    """pyscenedetect/testvideo.mp4: black leader cut to a leaf at 30; cut to black at 180 and a
    fade-in to a deer (211-240); fade-out (331-359), black, fade-in to a rock (394-423); a
    cross-dissolve to a tyre (529-558); fade-out to black at the end (664-692)."""
    result = detect_shots(media("pyscenedetect/testvideo.mp4"))
    check_layout(result)
    assert [t.kind for t in result.transitions] == ["fade", "fade", "fade", "dissolve", "fade"]
    lead, deer, rock, dissolve, tail = result.transitions
    assert (lead.start_frame, lead.end_frame) == (0, 30)
    assert abs(deer.start_frame - 180) <= 1 and abs(deer.end_frame - 241) <= 5
    assert abs(rock.start_frame - 331) <= 4 and abs(rock.end_frame - 424) <= 5
    assert abs(dissolve.start_frame - 529) <= 2 and abs(dissolve.end_frame - 559) <= 2
    assert abs(tail.start_frame - 664) <= 4 and tail.end_frame == result.info.frames
    assert len(result.shots) == 4


def test_fades_clip_dips_through_black():
    """pyscenedetect/fades.mp4: uniform grey pulsing black → white → black three times; the dips
    through black at frames ~82 and ~165 separate three shots."""
    result = detect_shots(media("pyscenedetect/fades.mp4"))
    check_layout(result)
    assert len(result.shots) == 3
    assert all(t.kind == "fade" for t in result.transitions)
    middles = [(t.start_frame + t.end_frame) / 2 for t in result.transitions[1:-1]]
    assert [round(m) for m in middles] == pytest.approx([84, 167], abs=4)


def test_goldeneye_variable_frame_rate():
    """pyscenedetect/goldeneye-vfr-drop3.mp4: every third frame of 24 fps dropped; cuts at frames
    60 (3.754 s) and 140 (8.759 s), as PySceneDetect finds them (3.75 s, 8.75 s)."""
    result = detect_shots(media("pyscenedetect/goldeneye-vfr-drop3.mp4"))
    check_layout(result)
    assert starts(result) == [0, 60, 140]
    assert [round(s.start, 3) for s in result.shots[1:]] == [3.754, 8.759]


def test_big_buck_bunny_cuts_and_opening_fade():
    """moviepy/big_buck_bunny_0_30.webm: fade-in from black over the first ~45 frames, cuts at
    283, 376 and 551; a camera tilt, a flapping bird and a title fading in over the last shot
    are no boundaries."""
    result = detect_shots(media("moviepy/big_buck_bunny_0_30.webm"))
    check_layout(result)
    assert result.shots[0].transition_in == "fade"
    assert 40 <= result.shots[0].start_frame <= 50
    assert starts(result)[1:] == [283, 376, 551]
    assert [t.kind for t in result.transitions] == ["fade", "cut", "cut", "cut"]


def test_one_shot_clips_with_motion():
    """moviepy/chaplin.mp4 (people walking) is one shot; video_with_failing_audio.mp4 (a camera
    tilt from the sky, then a fade-out to black from frame ~182) is one shot ending in a fade."""
    chaplin = detect_shots(media("moviepy/chaplin.mp4"))
    check_layout(chaplin)
    assert len(chaplin.shots) == 1 and chaplin.transitions == []
    tilt = detect_shots(media("moviepy/video_with_failing_audio.mp4"))
    check_layout(tilt)
    assert len(tilt.shots) == 1
    assert tilt.shots[0].transition_out == "fade"
    assert 182 <= tilt.shots[0].end_frame <= 200


def test_megamind_cuts():
    """opencv/Megamind.avi: one black frame, then cuts at 98, 154 and 200 (out-of-order packet
    timestamps in the AVI; times still increase)."""
    result = detect_shots(media("opencv/Megamind.avi"))
    check_layout(result)
    assert starts(result) == [1, 98, 154, 200]
