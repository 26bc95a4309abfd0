"""The public Python API, one usage example per test.

Read top to bottom, these show how to use video2gif from Python: the two entry points
(``find_highlights``, ``make_gifs``), loading a scorer once for many videos, the stages one at a
time, and writing a scorer of your own. Each runs on a small synthetic clip.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import video2gif
from video2gif.features.extract import FeatureOptions

# Features without the backbone, faces or sound keep these examples quick; leave ``features``
# out to get the defaults (EfficientNet-Lite0 embeddings, faces, sound).
QUICK = FeatureOptions(backbone="none", faces=False, audio=False)


def test_find_the_best_moments(three_shot_video):
    found = video2gif.find_highlights(three_shot_video, k=2, features=QUICK)

    best = found.picks[0]
    assert best.rank == 1 and best.start < best.end <= found.info.duration
    assert len(found.picks) <= 2
    # Every candidate is there, in time order, with its score and the signals behind it.
    assert [s.start for s in found.segments] == sorted(s.start for s in found.segments)
    assert "sharpness" in best.signals
    assert found.model["name"] == "default"  # the prior blended with the shipped context model


def test_make_gifs_writes_one_folder_per_video(three_shot_video, tmp_path):
    made = video2gif.make_gifs(three_shot_video, tmp_path / "out", k=1, features=QUICK)

    assert made.folder == tmp_path / "out" / three_shot_video.stem
    assert [o.path.name for o in made.outputs] == ["01.gif"]
    report = json.loads((made.folder / "segments.json").read_text())
    assert report["segments"] and (made.folder / "index.html").exists()


def test_load_a_scorer_once_for_many_videos(three_shot_video, long_two_shot_video):
    scorer = video2gif.load_model("prior")  # a registry name, or the path of a model file

    for video in (three_shot_video, long_two_shot_video):
        found = video2gif.find_highlights(video, k=1, model=scorer, features=QUICK)
        assert found.model["name"] == "prior"
    assert scorer.needs().backbone is None  # what features it reads beyond the signals


def test_the_stages_one_at_a_time(three_shot_video):
    from video2gif.segments import make_segments
    from video2gif.select import select_top_k

    info = video2gif.probe(three_shot_video)  # what the file is, without decoding it
    assert (info.width, info.height) == (160, 96)

    shots = video2gif.detect_shots(three_shot_video).shots  # hard cuts at 2 s and 4 s
    assert [round(s.start, 2) for s in shots] == [0.0, 2.0, 4.0]
    candidates = make_segments(shots, float(info.fps), info.duration).segments
    assert all(c.shot in (0, 1, 2) for c in candidates)

    # analyse() is the one decode pass that find_highlights, training and evaluation share.
    analysis = video2gif.analyse(three_shot_video, features=QUICK)
    scores = video2gif.load_model("prior").score(analysis.features)
    picks = select_top_k(analysis.bounds, scores, k=2)
    assert len(scores) == len(analysis.segments) and 1 <= len(picks) <= 2


def test_a_scorer_of_your_own(three_shot_video):
    class Stillest(video2gif.Scorer):
        """Prefers the calmest moments."""

        name = "stillest"

        def score(self, features):
            return -np.asarray(features.signals["motion"], dtype=np.float64)

    found = video2gif.find_highlights(three_shot_video, k=1, model=Stillest(), features=QUICK)
    assert found.picks[0].shot == 1  # the still shot
    assert found.model == {"name": "stillest"}


def test_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(video2gif.Video2GifError, match="nope.mp4"):
        video2gif.find_highlights(missing, features=QUICK)
