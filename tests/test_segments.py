from __future__ import annotations

import numpy as np
import pytest

from video2gif.errors import UsageError
from video2gif.segments import (
    ACROSS,
    FALLBACK_MIN_SECONDS,
    MIN_SECONDS,
    SHORT,
    SPLIT,
    TARGET_SECONDS,
    SegmentOptions,
    fallback_segments,
    make_segments,
)
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


# -- fallback candidates (used only when the candidates leave no room for k picks) ------------


def test_a_shot_that_is_one_whole_candidate_also_gives_its_two_halves():
    shots = [shot(0, 5.0, tin="start"), shot(5.0, 20, tout="end")]
    fallbacks = fallback_segments(shots, fps=24, duration=20)
    assert [s.fallback for s in fallbacks] == [SPLIT, SPLIT]  # none for the long shot
    first, second = fallbacks
    assert first.start == pytest.approx(0.0) and second.end == pytest.approx(5.0 - 3 / 24)
    assert first.end == pytest.approx(second.start) and first.duration >= MIN_SECONDS
    assert all(s.shot == 0 for s in fallbacks)
    # The candidates themselves are unchanged and are no fallbacks.
    assert not any(s.fallback for s in make_segments(shots, fps=24, duration=20).segments)


def test_a_shot_too_short_to_halve_gives_no_halves():
    assert fallback_segments([shot(0, 2.9, tin="start", tout="end")], fps=24, duration=2.9) == []


def test_a_short_shot_between_fades_reaches_into_them_up_to_their_middle():
    # 0.8-s shots between 2-s fades: too short for a candidate, trimmed or not.
    shots = [shot(1.0, 1.8, tin="fade", tout="fade"), shot(3.8, 4.6, tin="fade", tout="fade"),
             shot(6.6, 7.4, tin="fade", tout="cut"), shot(7.4, 12.0, tin="cut", tout="end")]
    assert make_segments(shots, fps=24, duration=12).dropped_shots == [0, 1, 2]
    across = [s for s in fallback_segments(shots, fps=24, duration=12) if s.fallback == ACROSS]
    assert [s.shot for s in across] == [0, 1, 2]
    a, b, c = across
    assert a.start >= 0.0 and a.end <= 2.8 + 1e-9  # the first fade is the video's start
    assert b.start >= 2.8 - 1e-9 and b.end <= 5.6 + 1e-9  # middles of the fades around it
    assert c.start >= 5.6 - 1e-9 and c.end <= 7.4 - 3 / 24 + 1e-9  # never across the cut
    for s in across:
        assert MIN_SECONDS <= s.duration <= TARGET_SECONDS + 1e-9
        assert s.touches_transition
        assert s.start <= shots[s.shot].start and shots[s.shot].end - 6 / 24 <= s.end + 1e-9


def test_a_short_shot_between_cuts_is_a_fallback_whole_down_to_a_second():
    shots = [shot(0, 6.5, tin="start"), shot(6.5, 7.8), shot(7.8, 8.5), shot(8.5, 16, tout="end")]
    short = [s for s in fallback_segments(shots, fps=24, duration=16) if s.fallback == SHORT]
    assert [s.shot for s in short] == [1]  # 1.3 s is kept; 0.7 s is a flash, not a GIF
    assert short[0].start == pytest.approx(6.5 + 3 / 24)
    assert short[0].end == pytest.approx(7.8 - 3 / 24)
    assert short[0].duration >= FALLBACK_MIN_SECONDS


def test_uniform_candidates_have_no_fallbacks():
    shots = [shot(0, 5.0, tin="start"), shot(5.0, 6.2), shot(6.2, 12, tout="end")]
    options = SegmentOptions(candidates="uniform5")
    assert fallback_segments(shots, fps=24, duration=12, options=options) == []
