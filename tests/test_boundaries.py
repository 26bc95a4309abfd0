"""GIF-shaped boundaries: motion-onset starts, loop-closing ends, always inside the reach."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests import synthetic
from video2gif.boundaries import (
    MAX_SHIFT,
    TRACK_FPS,
    TRACK_H,
    TRACK_W,
    MotionTrack,
    Reach,
    look_distance,
    shape_cut,
)
from video2gif.decode import decode_pass

FPS = 24


def _block_clip(positions):
    """Frames of a white block at the given x positions over a fixed texture."""
    background = synthetic.textured(31)
    frames = []
    for x in positions:
        img = background.copy()
        x = round(x)
        img[30:60, x : x + 24] = (255, 255, 255)
        frames.append(img)
    return frames


@pytest.fixture
def still_then_moving(tmp_path):
    """6 s at 24 fps: the block rests for 2 s, then moves right 3 px a frame (onset at 2.0 s)."""
    positions = [10] * 48 + [10 + 3 * (i - 47) for i in range(48, 96)] + [
        10 + 3 * 48 - 3 * (i - 95) for i in range(96, 144)]
    return synthetic.write_video(tmp_path / "onset.mp4", _block_clip(positions))


@pytest.fixture
def swinging(tmp_path):
    """6 s at 24 fps: the block swings with a period of 1.25 s (30 frames)."""
    positions = [60 + 50 * math.sin(2 * math.pi * i / 30) for i in range(144)]
    return synthetic.write_video(tmp_path / "swing.mp4", _block_clip(positions))


def _track(path):
    track = MotionTrack()
    decode_pass(path, [track])
    return track.result()


def test_the_track_keeps_motion_per_frame_and_thumbnails_a_few_times_a_second(still_then_moving):
    track = _track(still_then_moving)
    assert len(track.times) == len(track.motion) == 144
    assert track.thumbs.shape[1:] == (TRACK_H, TRACK_W) and track.thumbs.dtype == np.uint8
    assert abs(len(track.thumbs) - 6 * TRACK_FPS) <= 1
    assert track.motion[5:47].mean() < 0.3  # resting (compression noise only)
    assert track.motion[50:90].mean() > 1.0  # moving


def test_start_moves_to_the_motion_onset(still_then_moving):
    track = _track(still_then_moving)
    reach = Reach(start=1.3, end=4.3, lo=0.0, hi=6.0, core_start=2.3, core_end=3.3)
    cut = shape_cut(track, reach, min_length=1.5)
    assert cut.onset and cut.start == pytest.approx(2.0, abs=1.5 / FPS)
    assert "motion begins" in cut.why
    assert cut.start <= reach.core_start and cut.end >= reach.core_end


def test_an_onset_after_the_core_begins_is_not_taken(still_then_moving):
    track = _track(still_then_moving)
    # The core starts at 1.8 s, before the onset at 2.0 s: the start may not skip into it.
    reach = Reach(start=0.8, end=3.8, lo=0.0, hi=6.0, core_start=1.8, core_end=2.8)
    cut = shape_cut(track, reach, min_length=1.5)
    assert cut.start <= 1.8 + 1e-9


def test_steady_motion_keeps_the_start(swinging):
    track = _track(swinging)
    reach = Reach(start=2.0, end=5.0, lo=0.0, hi=6.0, core_start=3.0, core_end=4.0)
    cut = shape_cut(track, reach, min_length=1.5)
    assert not cut.onset and cut.start == pytest.approx(2.0)


def test_end_closes_the_loop_of_a_swing(swinging):
    track = _track(swinging)
    # 2.0 s asked = 1.6 periods: the loop would jump. Within a second, 2.5 s (2 periods) closes.
    reach = Reach(start=1.0, end=3.0, lo=0.0, hi=6.0, core_start=1.67, core_end=2.33)
    cut = shape_cut(track, reach, min_length=1.5)
    periods = (cut.end - cut.start) / 1.25
    assert abs(periods - round(periods)) * 1.25 <= 1 / TRACK_FPS + 1e-9
    as_asked = look_distance(track.thumb_at(3.0), track.thumb_at(cut.start))
    assert cut.seam < as_asked
    assert cut.end_min <= cut.end <= cut.end_max


@pytest.mark.parametrize("lo,hi", [(0.9, 4.1), (1.3, 4.3), (0.0, 6.0)])
def test_cuts_stay_inside_their_reach_and_move_at_most_max_shift(still_then_moving, lo, hi):
    track = _track(still_then_moving)
    reach = Reach(start=1.3, end=4.3, lo=lo, hi=hi, core_start=2.3, core_end=3.3)
    cut = shape_cut(track, reach, min_length=1.5)
    assert lo - 1e-9 <= cut.start and cut.end <= hi + 1e-9 and cut.end_max <= hi + 1e-9
    assert abs(cut.moved_start) <= MAX_SHIFT + 1e-9 and abs(cut.moved_end) <= MAX_SHIFT + 1e-9
    assert cut.end - cut.start >= 1.5 - 1e-9


def test_without_a_track_the_window_stays_as_ranked():
    reach = Reach(start=1.0, end=4.0, lo=0.0, hi=6.0, core_start=2.0, core_end=3.0)
    cut = shape_cut(None, reach, min_length=1.5)
    assert (cut.start, cut.end, cut.why) == (1.0, 4.0, "as ranked")
    assert cut.to_dict()["moved_start"] == 0.0


def test_a_window_shorter_than_the_minimum_keeps_its_length():
    reach = Reach(start=0.0, end=1.0, lo=0.0, hi=1.0, core_start=0.33, core_end=0.67)
    cut = shape_cut(None, reach, min_length=1.5)
    assert (cut.start, cut.end) == (0.0, 1.0)
