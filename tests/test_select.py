from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from tests import synthetic
from tests.conftest import media
from video2gif.boundaries import TRACK_FPS, TRACK_H, TRACK_W, Track, shape_cuts
from video2gif.features.extract import FeatureOptions
from video2gif.select import (
    CORE_SHARE,
    MIN_PICK_SECONDS,
    ChangeEvidence,
    pick_reaches,
    select_picks,
    select_top_k,
)


def test_best_first_without_overlap():
    bounds = np.array([[0, 3], [1, 4], [2, 5], [6, 9], [10, 13]], float)
    scores = np.array([0.5, 0.9, 0.8, 0.7, 0.1])
    assert select_top_k(bounds, scores, k=3) == [1, 3, 4]


def test_near_duplicates_are_suppressed():
    bounds = np.array([[0, 3], [10, 13], [20, 23]], float)
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 0.0])
    descriptors = np.stack([a, a, b])  # segment 1 repeats segment 0
    scores = np.array([0.9, 0.8, 0.7])
    assert select_top_k(bounds, scores, k=3, descriptors=descriptors) == [0, 2]
    assert select_top_k(bounds, scores, k=3) == [0, 1, 2]


def test_nan_scores_are_never_picked_and_k_is_a_maximum():
    bounds = np.array([[0, 3], [4, 7]], float)
    assert select_top_k(bounds, np.array([np.nan, 0.1]), k=5) == [1]


def one_shot_windows(duration=9.64):
    """3-s windows every second over one shot, the last one flush with its end (as segments)."""
    starts = [*np.arange(0, duration - 3 + 1e-9, 1.0)]
    if duration - (starts[-1] + 3) > 0.25:
        starts.append(duration - 3)
    bounds = np.array([[s, s + 3] for s in starts])
    return bounds, np.tile([[0.0, duration]], (len(bounds), 1))


def test_overlapping_picks_are_trimmed_apart_when_whole_windows_leave_no_room():
    bounds, limits = one_shot_windows()
    scores = np.array([0.56, 1.55, 0.69, -0.75, -1.36, -0.49, -0.71, 0.51])  # chaplin's
    assert len(select_picks(bounds, scores, 3).picks) == 2  # whole windows only
    chosen = select_picks(bounds, scores, 3, limits=limits)
    assert len(chosen.picks) == 3 and chosen.trimmed
    assert chosen.picks[0] == 1  # the best stays first
    reaches = pick_reaches(bounds, chosen.picks, limits)
    cuts = shape_cuts(None, reaches, MIN_PICK_SECONDS)
    spans = sorted((c.start, c.end) for c in cuts)
    for (a0, a1), (b0, b1) in itertools.pairwise(spans):
        assert a1 <= b0 + 1e-9  # apart
    for i, cut in zip(chosen.picks, cuts):
        start, end = bounds[i]
        margin = (end - start) * (1 - CORE_SHARE) / 2
        assert cut.start <= start + margin + 1e-9 and cut.end >= end - margin - 1e-9
        assert cut.end - cut.start >= MIN_PICK_SECONDS - 1e-9
        assert 0 <= cut.start and cut.end <= 9.64 + 1e-9


def test_trimming_prefers_other_moments_to_cutting_a_pick_in_two():
    bounds, limits = one_shot_windows(7.48)
    scores = np.array([-0.92, 0.59, 1.20, 1.54, -0.51, -1.90])
    picks = select_picks(bounds, scores, 3, limits=limits).picks
    assert picks[0] == 3 and sorted(picks) == [0, 3, 5]


def test_no_room_means_fewer_picks():
    bounds, limits = one_shot_windows(3.5)  # cores [1, 2] and [1.5, 2.5] overlap
    picks = select_picks(bounds, np.array([0.1, 0.9]), 3, limits=limits).picks
    assert picks == [1]


def track_of(frames_per_second: list[np.ndarray]) -> Track:
    """A Track whose thumbnails are the given 32×18 images at TRACK_FPS, no frame motion."""
    thumbs = np.stack(frames_per_second).astype(np.uint8)
    times = np.arange(len(thumbs)) / TRACK_FPS
    return Track(times, np.zeros(len(times)), times, thumbs)


def scene(seed: int, n: int, moving: bool) -> list[np.ndarray]:
    """n thumbnails of one background; with ``moving``, a bright block walks across it, a little
    lower on each crossing (so no moment repeats)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, size=(TRACK_H, TRACK_W)).astype(np.uint8)
    out = []
    for i in range(n):
        img = base.copy()
        if moving:
            x, y = (i * 2) % (TRACK_W - 6), (i * 2) // (TRACK_W - 6)
            img[y : y + 6, x : x + 6] = 255
        out.append(img)
    return out


def test_another_moment_of_a_moving_shot_is_not_a_duplicate():
    frames = scene(1, 80, moving=True)  # 10 s of one shot, something moving all along
    bounds = np.array([[0.0, 3.0], [5.0, 8.0]])
    evidence = ChangeEvidence(bounds, track_of(frames))
    assert evidence(1, 0) is None


def test_a_still_scene_that_returns_is_a_duplicate():
    frames = scene(2, 80, moving=False)
    bounds = np.array([[0.0, 3.0], [5.0, 8.0]])
    reason = ChangeEvidence(bounds, track_of(frames))(1, 0)
    assert reason is not None and "nothing moves" in reason


def test_a_replay_is_a_duplicate_even_when_things_move():
    shot = scene(3, 24, moving=True)
    other = scene(4, 24, moving=True)
    frames = shot + other + shot  # the first shot shown again at 6 s
    bounds = np.array([[0.0, 3.0], [3.0, 6.0], [6.0, 9.0]])
    evidence = ChangeEvidence(bounds, track_of(frames))
    assert "reappear" in evidence(2, 0)
    assert evidence(1, 0) is None


def test_different_sound_over_the_same_still_picture_is_not_a_duplicate():
    frames = scene(5, 80, moving=False)
    bounds = np.array([[0.0, 3.0], [5.0, 8.0]])
    db = np.full(100, -30.0)
    db[50:80] = -60.0  # the second window is near-silent: something else is heard
    assert ChangeEvidence(bounds, track_of(frames), db)(1, 0) is None
    same = np.full(100, -30.0)
    assert "sound within" in ChangeEvidence(bounds, track_of(frames), same)(1, 0)


def test_suppressed_candidates_say_which_pick_and_why():
    frames = scene(6, 80, moving=False)
    bounds = np.array([[0.0, 3.0], [1.0, 4.0], [5.0, 8.0]])
    descriptors = np.tile([[1.0, 0.0]], (3, 1))  # all look alike
    chosen = select_picks(bounds, np.array([0.9, 0.8, 0.7]), 3, descriptors, 0.8,
                          same_content=ChangeEvidence(bounds, track_of(frames)))
    assert chosen.picks == [0]
    assert chosen.suppressed[1].reason == "overlap" and chosen.suppressed[1].pick == 0
    dup = chosen.suppressed[2]
    assert dup.reason == "duplicate" and dup.pick == 0
    assert "looks alike (1.00)" in dup.detail and "nothing moves" in dup.detail


# -- fallback tiers: tried only when the candidates leave fewer than k picks -------------------


def test_fallbacks_change_nothing_when_the_candidates_give_k_picks():
    bounds = np.array([[0, 3], [4, 7], [8, 11], [0, 1.5], [1.5, 3]], float)
    scores = np.array([0.2, 0.5, 0.1, 9.0, 9.0])  # fallbacks' scale is their own
    limits = bounds.copy()
    limits[3:] = [0, 3]
    plain = select_picks(bounds[:3], scores[:3], 3, limits=limits[:3])
    tiered = select_picks(bounds, scores, 3, limits=limits, tiers=np.array([0, 0, 0, 1, 1]))
    assert tiered.picks == plain.picks == [1, 0, 2]


def test_halves_of_a_whole_shot_candidate_give_a_second_gif_of_that_shot():
    # One 4.8-s shot, one whole candidate, and its halves as tier-1 fallbacks.
    bounds = np.array([[0, 4.8], [0, 2.4], [2.4, 4.8]], float)
    limits = np.tile([[0.0, 4.8]], (3, 1))
    tiers = np.array([0, 1, 1])
    chosen = select_picks(bounds, np.array([0.3, 0.1, 0.2]), 2, limits=limits, tiers=tiers)
    assert chosen.picks == [0, 2]  # the candidate first, then the better half
    cuts = shape_cuts(None, pick_reaches(bounds, chosen.picks, limits), MIN_PICK_SECONDS)
    (a0, a1), (b0, b1) = sorted((c.start, c.end) for c in cuts)
    assert a1 <= b0 + 1e-9 and min(a1 - a0, b1 - b0) >= MIN_PICK_SECONDS - 1e-9
    # A lower tier is tried only when the tiers before it leave room.
    more = np.array([[0, 4.8], [0, 2.4], [2.4, 4.8], [5.0, 6.2]], float)
    both = select_picks(more, np.array([0.3, 0.1, 0.2, 5.0]), 2,
                        limits=np.vstack([limits, [[5.0, 6.2]]]), tiers=np.array([0, 1, 1, 3]))
    assert both.picks == [0, 2]


def test_a_fallback_inside_a_duplicate_is_a_duplicate_too():
    frames = scene(7, 80, moving=True)
    frames = frames[:32] + frames[:32] + frames[64:]  # 0-4 s shown again at 4-8 s
    bounds = np.array([[0.0, 3.9], [4.0, 7.9], [4.0, 5.95], [5.95, 7.9]])
    descriptors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # halves look new
    limits = np.array([[0.0, 3.9], [4.0, 7.9], [4.0, 7.9], [4.0, 7.9]])
    chosen = select_picks(bounds, np.array([0.9, 0.8, 0.5, 0.4]), 3, descriptors, 0.8,
                          same_content=ChangeEvidence(bounds, track_of(frames)), limits=limits,
                          tiers=np.array([0, 0, 1, 1]))
    assert chosen.picks == [0]
    assert chosen.suppressed[1].reason == "duplicate"
    for half in (2, 3):
        assert chosen.suppressed[half].pick == 0
        assert chosen.suppressed[half].detail.startswith("part of a candidate that shows the same")


def test_a_fallback_overlapping_a_pick_is_compared_on_the_cores():
    frames = scene(8, 48, moving=True)  # 6 s, something moving all along
    bounds = np.array([[0.0, 4.8], [0.0, 2.4]])
    assert ChangeEvidence(bounds, track_of(frames))(1, 0) is not None  # shares its frames
    assert ChangeEvidence(bounds, track_of(frames), by_core=np.array([False, True]))(1, 0) is None


# -- end to end on generated and real clips --------------------------------------------------


@pytest.fixture
def walker_video(tmp_path):
    """One 10-s shot at 24 fps: a fixed background that a bright block crosses, back and forth,
    at changing heights (another moment is another pose, over the same background)."""
    background = synthetic.textured(11)
    frames = []
    for i in range(240):
        img = background.copy()
        x = int(abs((i * 3) % 260 - 130))
        y = 10 + (i // 40) * 10
        img[y : y + 24, x : x + 20] = (250, 250, 250)
        frames.append(img)
    return synthetic.write_video(tmp_path / "walker.mp4", frames)


@pytest.fixture
def repeated_shot_video(tmp_path):
    """Shot A (4 s, a block moving over texture 21), a cut to shot B (4 s, texture 22), then
    shot A again frame for frame: a repeated shot."""
    def shot(seed):
        background = synthetic.textured(seed)
        out = []
        for i in range(96):
            img = background.copy()
            img[30:54, 10 + i : 30 + i] = (250, 250, 250)
            out.append(img)
        return out
    a = shot(21)
    return synthetic.write_video(tmp_path / "repeat.mp4", a + shot(22) + a)


def test_one_continuous_shot_gives_k_picks(walker_video):
    import video2gif

    found = video2gif.find_highlights(walker_video, k=3, model="prior",
                                      features=FeatureOptions(backbone="none"))
    assert len(found.pick_indices) == 3
    spans = sorted((c.start, c.end) for c in found.cuts)
    assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))
    assert not any(s.reason == "duplicate" for s in found.suppressed.values())


def test_a_repeated_shot_is_left_out_with_its_reason(repeated_shot_video):
    import video2gif
    from video2gif.report import index_html, segments_document

    found = video2gif.find_highlights(repeated_shot_video, k=3, model="prior",
                                      features=FeatureOptions(backbone="none"))
    shots = {found.segments[i].shot for i in found.pick_indices}
    assert not {0, 2} <= shots  # never both copies of shot A
    doc = segments_document(found)
    left = [s for s in doc["segments"] if (s.get("suppressed") or {}).get("reason") == "duplicate"]
    assert left, "the repeat must be reported"
    for s in left:
        assert s["suppressed"]["pick"] in {1, 2, 3}
        assert "reappear" in s["suppressed"]["detail"]
    json.dumps(doc)  # serialisable
    page = index_html(found, {})
    assert "look-alike candidates left out" in page and "same as #" in page


@pytest.mark.parametrize("clip", ["moviepy/chaplin.mp4", "moviepy/video_with_failing_audio.mp4",
                                  "moviepy/big_buck_bunny_0_30.webm", "opencv/Megamind.avi",
                                  "pyscenedetect/testvideo.mp4",
                                  "pyscenedetect/goldeneye-vfr-drop3.mp4",  # with a half shot
                                  "pyscenedetect/issue-134-rotate.mp4"])
def test_shared_clips_longer_than_9_s_give_3_picks(clip):
    import video2gif

    found = video2gif.find_highlights(media(clip), k=3, model="prior",
                                      features=FeatureOptions(backbone="none"))
    assert len(found.pick_indices) == 3
    spans = sorted((c.start, c.end) for c in found.cuts)
    assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))


@pytest.fixture
def two_shots_and_a_flash(tmp_path):
    """Shots of 3.6 s and 4.8 s, then 1.25 s, with cuts (as goldeneye-vfr-drop3.mp4): two
    candidates, each a whole shot."""
    frames = synthetic.cuts([(synthetic.gliding(41, 1.0), 86), (synthetic.gliding(52, 1.0), 116),
                             (synthetic.gliding(63, 1.0), 30)])
    return synthetic.write_video(tmp_path / "three_shots.mp4", frames)


@pytest.fixture
def pulses(tmp_path):
    """Three 0.8-s moving shots, each fading in from black and out again over 1 s (as
    fades.mp4, but three different scenes): no candidate at all."""
    def ramp(gen, first, up):
        return [(gen(first + j).astype(np.float32) * ((j + 1) / 24 if up else 1 - (j + 1) / 24))
                .round().astype(np.uint8) for j in range(24)]
    frames = []
    for seed in (31, 32, 33):
        gen = synthetic.moving(seed, 3)
        frames += ramp(gen, 0, True) + [gen(24 + i) for i in range(20)] + ramp(gen, 44, False)
    return synthetic.write_video(tmp_path / "pulses.mp4", frames)


def test_a_shot_that_is_one_candidate_gives_two_gifs_when_k_needs_it(two_shots_and_a_flash):
    import video2gif
    from video2gif.report import index_html, segments_document

    quick = FeatureOptions(backbone="none")
    two = video2gif.find_highlights(two_shots_and_a_flash, k=2, model="prior", features=quick)
    three = video2gif.find_highlights(two_shots_and_a_flash, k=3, model="prior", features=quick)
    assert not any(s.fallback for s in two.segments)  # room for 2: no fallback is even scored
    assert len(three.pick_indices) == 3
    assert three.pick_indices[:2] == two.pick_indices  # the candidates' picks stay first
    extra = three.segments[three.pick_indices[2]]
    assert extra.fallback == "split" and extra.rank is None
    spans = sorted((c.start, c.end) for c in three.cuts)
    assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))
    assert all(end - start >= MIN_PICK_SECONDS - 1e-9 for start, end in spans)
    # The candidates keep their scores and ranks; fallbacks are listed after them, flagged.
    doc2, doc3 = segments_document(two), segments_document(three)
    n = len(doc2["segments"])
    for a, b in zip(doc2["segments"], doc3["segments"][:n]):
        assert (a["start"], a["end"], a["score"], a["rank"]) == (
            b["start"], b["end"], b["score"], b["rank"])
        assert "fallback" not in b
    assert doc2["pred_relevant_windows"] == doc3["pred_relevant_windows"]
    picked = next(s for s in doc3["segments"] if s["pick"] == 3)
    assert picked["fallback"]["kind"] == "split"
    assert "2 distinct picks" in picked["fallback"]["why"]
    assert all("fallback" in s for s in doc3["segments"][n:])
    assert "extra GIF: half of a shot" in index_html(three, {})


def test_short_shots_between_fades_give_gifs_across_the_fades(pulses):
    import video2gif

    found = video2gif.find_highlights(pulses, k=3, model="prior",
                                      features=FeatureOptions(backbone="none"))
    assert len(found.pick_indices) == 3
    assert {found.segments[i].fallback for i in found.pick_indices} == {"across_transition"}
    spans = sorted((c.start, c.end) for c in found.cuts)
    assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))
    assert all(end - start >= MIN_PICK_SECONDS - 1e-9 for start, end in spans)
    for (start, end), shot in zip(spans, found.shots):  # each holds its own shot
        assert start <= shot.start + 0.3 and shot.end - 0.3 <= end


def test_a_pick_trimmed_by_more_than_a_second_ends_before_its_neighbour():
    bounds = np.array([[0, 4.8], [2.4, 4.8]], float)  # a whole shot and its second half
    limits = np.tile([[0.0, 4.8]], (2, 1))
    whole, half = shape_cuts(None, pick_reaches(bounds, [0, 1], limits), MIN_PICK_SECONDS)
    assert whole.end <= half.start + 1e-9 and whole.end == pytest.approx(3.2)
    assert "stay clear of a neighbour" in whole.why
