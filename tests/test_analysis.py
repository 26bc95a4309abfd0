"""The one analysis step that find_highlights, training and evaluation share."""

from __future__ import annotations

import numpy as np

from video2gif.analysis import analyse, analyse_annotated
from video2gif.datasets import GifInterval, VideoAnnotation
from video2gif.features.extract import FeatureOptions
from video2gif.ranknet import FeatureLayout
from video2gif.scorers.model_file import RankNetScorer

from .test_ranknet import tiny_model

CHEAP = FeatureOptions(backbone="none", faces=False, audio=False)


def test_an_analysis_holds_the_candidates_and_their_typed_features(three_shot_video):
    analysis = analyse(three_shot_video, features=CHEAP, category="Music", tags=["live"])

    n = len(analysis.segments)
    assert n and analysis.bounds.shape == (n, 2) and len(analysis.features) == n
    assert [round(s.start, 2) for s in analysis.shots] == [0.0, 2.0, 4.0]
    assert all(len(v) == n for v in analysis.features.signals.values())
    context = analysis.features.context
    assert (context.duration, context.category, context.tags) == (
        analysis.info.duration, "Music", ("live",))
    assert analysis.descriptors.shape[0] == n and 0 < analysis.duplicate_similarity <= 1


def test_a_model_reading_the_category_sees_the_one_given(three_shot_video):
    """Training and evaluation pass the annotation's category the same way: as context."""
    # Random weights; seed 2's hidden units pass the category through (seed 0's are all off).
    scorer = RankNetScorer(tiny_model(FeatureLayout(context=("category",)), seed=2), "m")
    music = analyse(three_shot_video, features=CHEAP, category="Music").features
    sports = analyse(three_shot_video, features=CHEAP, category="Sports").features
    assert not np.allclose(scorer.score(music), scorer.score(sports))


def test_annotated_videos_are_analysed_or_say_why_not(three_shot_video, tmp_path):
    gifs = (GifInterval(0.5, 1.5),)
    found = VideoAnnotation(three_shot_video.stem, 6.0, 24.0, gifs, path=str(three_shot_video),
                            category="Comedy")
    missing = VideoAnnotation("absent", 6.0, 24.0, gifs)
    results = list(analyse_annotated([found, missing], tmp_path, features=CHEAP))

    (video, analysis, error), (other, nothing, why) = results
    assert video is found and error is None and analysis.features.context.category == "Comedy"
    assert other is missing and nothing is None and why == f"no video file for it in {tmp_path}"
