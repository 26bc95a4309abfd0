from __future__ import annotations

import numpy as np
import pytest

from video2gif.errors import UsageError
from video2gif.segments import SegmentOptions, make_segments
from video2gif.shots import Shot


def shot(start, end, fps=24, tin="cut", tout="cut"):
    return Shot(start, end, round(start * fps), round(end * fps), tin, tout)


def test_long_shot_gets_overlapping_windows_that_cover_it():
    seg = make_segments([shot(0, 10, tin="start", tout="end")], fps=24, duration=10).segments
    assert all(s.duration == pytest.approx(3.0) for s in seg)
    assert seg[0].start == 0.0 and seg[-1].end == pytest.approx(10.0)
    starts = [s.start for s in seg]
    assert np.allclose(np.diff(starts)[:-1], 1.0)


def test_windows_keep_clear_of_cuts_and_never_cross_them():
    shots = [shot(0, 8, tin="start"), shot(8, 20, tout="end")]
    result = make_segments(shots, fps=24, duration=20)
    for s in result.segments:
        sh = shots[s.shot]
        assert sh.start <= s.start and s.end <= sh.end
        if s.shot == 0:
            assert s.end <= 8 - 3 / 24 + 1e-9
        else:
            assert s.start >= 8 + 3 / 24 - 1e-9


def test_gradual_transitions_are_trimmed_more_and_flagged():
    shots = [shot(0, 8, tin="start", tout="dissolve"), shot(9, 16, tin="dissolve", tout="end")]
    result = make_segments(shots, fps=24, duration=16)
    assert all(s.touches_transition for s in result.segments)
    assert max(s.end for s in result.segments if s.shot == 0) <= 8 - 6 / 24 + 1e-9


def test_medium_shot_is_one_whole_candidate_and_short_shot_is_dropped():
    shots = [shot(0, 1.0, tin="start"), shot(1.0, 5.0), shot(5.0, 20, tout="end")]
    result = make_segments(shots, fps=24, duration=20)
    assert result.dropped_shots == [0]
    whole = [s for s in result.segments if s.shot == 1]
    assert len(whole) == 1
    assert whole[0].start == pytest.approx(1.0 + 3 / 24)
    assert whole[0].end == pytest.approx(5.0 - 3 / 24)


def test_video_shorter_than_a_gif_is_one_candidate():
    result = make_segments([shot(0, 0.8, tin="start", tout="end")], fps=24, duration=0.8)
    assert len(result.segments) == 1
    assert (result.segments[0].start, result.segments[0].end) == (0, 0.8)


def test_frame_indices_come_from_timestamps_when_given():
    times = np.array([0.0, 0.1, 0.5, 0.9, 1.3, 2.0, 2.2, 3.0, 3.5, 4.0])
    result = make_segments([shot(0, 4.5, tin="start", tout="end")], fps=24, duration=4.5,
                           frame_times=times)
    s = result.segments[0]
    assert (s.start_frame, s.end_frame) == (0, 10)


@pytest.mark.parametrize("kw", [dict(min_length=4, max_length=3), dict(length=10),
                                dict(stride=0)])
def test_contradictory_options_are_usage_errors(kw):
    with pytest.raises(UsageError):
        SegmentOptions(**kw).validate()
