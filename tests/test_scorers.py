"""One conformance suite, run over every registered scorer (and a RankNet model file): each keeps
the :class:`~video2gif.scorers.Scorer` contract on a real decode of a small synthetic video.

A scorer added to the registry without a way to build it here fails
``test_every_registered_scorer_is_covered``: add it to ``BUILDERS``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from video2gif.analysis import analyse, feature_extractor
from video2gif.errors import ModelError
from video2gif.features import FeatureNeeds, SegmentFeatures
from video2gif.features.extract import FeatureOptions
from video2gif.pipeline import find_highlights
from video2gif.ranknet import FeatureLayout, save_model
from video2gif.scorers import MODELS, Scorer, load_model
from video2gif.scorers.blend import BlendedScorer
from video2gif.scorers.prior import PriorScorer

from .test_c3d import SMALL, head_params, lasagne_params
from .test_ranknet import tiny_model

CHEAP = FeatureOptions(backbone="none", faces=False, audio=False)  # features every scorer can read


def _original(tmp_path):
    """The released model's scorer on the released file formats, with a reduced C3D network."""
    from video2gif.scorers.original import OriginalScorer

    from .legacy_formats import write_c3d_pickle, write_head_npz, write_mean_npy

    mean = np.random.default_rng(2).uniform(80, 120, (3, 16, 128, 171)).astype(np.float32)
    return OriginalScorer.from_files(
        write_c3d_pickle(tmp_path / "c3d_model.pkl", lasagne_params(SMALL)),
        write_mean_npy(tmp_path / "snipplet_mean.npy", mean),
        write_head_npz(tmp_path / "video2gif_weights.npz", head_params(SMALL.fc6)),
        SMALL,
    )


def _model_file(tmp_path):
    layout = FeatureLayout(signals=("motion", "sharpness"), context=("position", "duration"))
    return load_model(save_model(tiny_model(layout), tmp_path / "ranknet.npz"))


# How the suite builds each scorer: registry names through load_model where that needs nothing
# the test machine lacks; the original model from small files in its released formats.
BUILDERS = {
    "default": lambda tmp_path: load_model("default"),
    "prior": lambda tmp_path: load_model("prior"),
    "context": lambda tmp_path: load_model("context"),
    "video2gif-original": _original,
    "model file": _model_file,  # not a registry name: any file `video2gif train` writes
}


def test_every_registered_scorer_is_covered():
    assert set(MODELS) <= set(BUILDERS), f"add {sorted(set(MODELS) - set(BUILDERS))} to BUILDERS"


@pytest.fixture(params=sorted(BUILDERS))
def scorer(request, tmp_path) -> Scorer:
    return BUILDERS[request.param](tmp_path)


@pytest.fixture
def analysed(scorer, three_shot_video):
    """The three-shot clip analysed for ``scorer`` (its own consumers in the pass)."""
    extractor = feature_extractor(CHEAP, scorer.needs())
    return analyse(three_shot_video, features=extractor, consumers=scorer.consumers())


def test_declares_its_name_and_needs(scorer):
    assert isinstance(scorer, Scorer)
    assert isinstance(scorer.name, str) and scorer.name
    needs = scorer.needs()
    assert isinstance(needs, FeatureNeeds)
    assert needs.context == tuple(needs.context)


def test_scores_every_candidate(scorer, analysed):
    scores = np.asarray(scorer.score(analysed.features))
    assert scores.shape == (len(analysed.segments),) and len(scores) > 0
    assert scores.dtype.kind == "f"
    assert not np.isinf(scores).any()  # NaN means "cannot judge"; never ±inf


def test_is_deterministic(scorer, analysed):
    first = np.asarray(scorer.score(analysed.features))
    np.testing.assert_array_equal(first, np.asarray(scorer.score(analysed.features)))


def test_describes_itself_in_json(scorer, analysed):
    scorer.score(analysed.features)
    description = scorer.describe()
    assert description["name"]
    json.dumps(description)  # goes into segments.json as it is


def test_scores_a_video_without_candidates(scorer, analysed):
    empty = SegmentFeatures(info=analysed.info, segments=[], context=analysed.features.context)
    assert np.asarray(scorer.score(empty)).shape == (0,)


def test_find_highlights_ranks_by_its_scores(scorer, three_shot_video):
    found = find_highlights(three_shot_video, k=2, model=scorer, features=CHEAP)
    scored = [s for s in found.segments if s.score is not None]
    assert found.picks and all(p.score is not None for p in found.picks)
    best = max(s.score for s in scored)
    assert found.picks[0].score == best and found.picks[0].rank == 1
    assert found.model == scorer.describe()


# -- needs are honoured before decoding ---------------------------------------------------------


def test_a_model_for_another_backbone_is_refused_before_decoding(tmp_path):
    layout = FeatureLayout("efficientnet-lite0", "1", backbone_dim=4)
    scorer = load_model(save_model(tiny_model(layout), tmp_path / "lite.npz"))
    assert scorer.needs().backbone == "efficientnet-lite0"
    missing = tmp_path / "never decoded.mp4"  # decoding it first would raise InputError
    with pytest.raises(ModelError, match="trained on efficientnet-lite0 embeddings but the "
                                         "features have none"):
        find_highlights(missing, model=scorer, features=CHEAP)


def test_without_features_the_backbone_the_model_needs_is_chosen(tmp_path):
    layout = FeatureLayout("efficientnet-lite0", "1", backbone_dim=4)
    scorer = load_model(save_model(tiny_model(layout), tmp_path / "lite.npz"))
    with pytest.raises(ModelError, match="embedding width 4 vs 2560"):  # the real one is 1280-d
        feature_extractor(None, scorer.needs())


def test_a_blend_needs_what_its_parts_need(tmp_path):
    context = load_model("context")
    blend = BlendedScorer([(PriorScorer(), 1.0), (context, 0.5)])
    assert blend.needs().context == ("position", "duration")
    lite = load_model(save_model(tiny_model(FeatureLayout("efficientnet-lite0", "1",
                                                          backbone_dim=4)), tmp_path / "a.npz"))
    c3d = load_model(save_model(tiny_model(FeatureLayout("c3d", "1", backbone_dim=4)),
                                tmp_path / "b.npz"))
    with pytest.raises(ModelError, match="one analysis computes one backbone"):
        BlendedScorer([(lite, 1.0), (c3d, 1.0)]).needs()


def test_unknown_names_and_missing_files_are_refused():
    with pytest.raises(ModelError, match="unknown model; choose one of"):
        load_model("no-such-scorer")
    with pytest.raises(ModelError, match="no such model file"):
        load_model("missing/model.npz")
