"""Training the RankNet: pairs, the loop (learning, repeatability, best epoch, early stopping,
learning-rate schedule), ensembles and the metadata a trained model carries."""

from __future__ import annotations

import numpy as np
import pytest

from video2gif.datasets import GifInterval, VideoAnnotation
from video2gif.errors import UsageError
from video2gif.evaluate import average_precision
from video2gif.ranknet import FeatureLayout, RankNetModel, read_model, save_model
from video2gif.train import LabelPairs, RankNet, TrainingVideo, TrainOptions, fingerprint

from .conftest import run_cli

DIM = 12
FAST = dict(loss="huber", ensemble=1, threads=1, input_dropout=0.2, learning_rate=0.01,
            max_epochs=6)


def planted_videos(count: int, seed: int, n: int = 24, positives: int = 3, dim: int = DIM,
                   popularity: bool = False) -> list[TrainingVideo]:
    """Videos of ``n`` back-to-back 1 s segments whose features hide a linear signal: the
    ``positives`` segments of highest w·x are the GIFs (annotated at 10 fps)."""
    rng = np.random.default_rng(seed)
    w = np.random.default_rng(1234).normal(size=dim)  # the same truth for every set
    out = []
    for v in range(count):
        x = rng.normal(size=(n, dim)).astype(np.float32)
        labels = np.zeros(n, dtype=np.int8)
        top = np.argsort(-(x @ w))[:positives]
        labels[top] = 1
        bounds = np.stack([np.arange(n), np.arange(n) + 1.0], axis=1)
        gifs = tuple(GifInterval(float(i), float(i) + 1.0) for i in sorted(top))
        annotation = VideoAnnotation(f"s{seed}v{v}", float(n), 10.0, gifs)
        pop = rng.uniform(size=n) if popularity else None
        out.append(TrainingVideo(annotation.id, x, labels, bounds, annotation, pop))
    return out


def test_label_pairs_every_positive_with_four_negatives_of_its_video():
    videos = planted_videos(3, 0, n=10, positives=2)
    labels = videos[1].labels.copy()
    labels[np.flatnonzero(labels == 0)[:3]] = -1  # ambiguous segments are never paired
    videos[1] = TrainingVideo("odd", videos[1].features, labels, videos[1].bounds)
    videos.append(TrainingVideo("none", videos[0].features, np.zeros(10, np.int8),
                                videos[0].bounds))  # no positive: no pair
    sampler = LabelPairs(videos, negatives=4)
    pairs = sampler.sample(np.random.default_rng(0))
    assert len(pairs) == sampler.pairs_per_epoch == 3 * 2 * 4
    all_labels = np.concatenate([v.labels for v in videos])
    assert np.all(all_labels[pairs.pos] == 1) and np.all(all_labels[pairs.neg] == 0)
    assert np.all(pairs.pos // 10 == pairs.neg // 10)  # same video
    for p in np.unique(pairs.pos):
        negs = pairs.neg[pairs.pos == p]
        assert len(negs) == 4 and len(set(negs.tolist())) == 4  # distinct negatives


def test_pairs_are_redrawn_each_epoch_but_repeat_with_the_seed():
    sampler = LabelPairs(planted_videos(4, 0), negatives=4)
    a = sampler.sample(np.random.default_rng(0))
    b = sampler.sample(np.random.default_rng(0))
    rng = np.random.default_rng(0)
    first, second = sampler.sample(rng), sampler.sample(rng)
    assert np.array_equal(a.neg, b.neg) and np.array_equal(a.pos, first.pos)
    assert not np.array_equal(first.neg, second.neg)


def test_fewer_negatives_than_asked_uses_them_all():
    video = planted_videos(1, 0, n=4, positives=2)
    pairs = LabelPairs(video, negatives=4).sample(np.random.default_rng(0))
    assert len(pairs) == 2 * 2


def test_fit_learns_the_planted_ranking():
    train, test = planted_videos(60, 0), planted_videos(20, 1)
    ranker = RankNet(TrainOptions(**FAST)).fit(train)
    aps = [average_precision(v.labels == 1, ranker.predict(v.features)) for v in test]
    random = [average_precision(v.labels == 1, np.random.default_rng(0).random(len(v.labels)))
              for v in test]
    assert np.mean(aps) > 0.8 > np.mean(random) + 0.3
    history = ranker.members_[0].history
    assert history[-1].loss < history[0].loss


@pytest.mark.parametrize("loss", ["l1", "l2", "adaptive-huber"])
def test_every_loss_trains(loss):
    train = planted_videos(30, 0, popularity=True)
    ranker = RankNet(TrainOptions(**{**FAST, "loss": loss, "max_epochs": 3})).fit(train)
    assert ranker.model_.meta["loss"] == loss
    assert np.all(np.isfinite(ranker.predict(train[0].features)))


def test_a_run_repeats_exactly_and_seeds_matter():
    train = planted_videos(10, 0)
    options = TrainOptions(**{**FAST, "max_epochs": 2})
    a = RankNet(options).fit(train).model_
    b = RankNet(options).fit(train).model_
    c = RankNet(TrainOptions(**{**FAST, "max_epochs": 2, "seed": 1})).fit(train).model_
    for name in a.members[0]:
        assert np.array_equal(a.members[0][name], b.members[0][name]), name
    assert not np.array_equal(a.members[0]["out.weight"], c.members[0]["out.weight"])


def test_best_epoch_is_kept_and_training_stops_early():
    train, val = planted_videos(20, 0), planted_videos(8, 1)
    # A step so large that validation mAP soon stops improving.
    options = TrainOptions(**{**FAST, "learning_rate": 0.5, "max_epochs": 25, "patience": 2})
    ranker = RankNet(options).fit(train, val)
    member = ranker.members_[0]
    maps = [r.validation["map"] for r in member.history]
    assert all(0.0 <= m <= 1.0 for m in maps)
    assert all(0.0 <= r.validation["nmsd"] <= 1.0 for r in member.history)
    assert member.best_epoch == int(np.argmax(maps)) + 1  # first epoch with the best mAP
    if len(maps) < 25:  # stopped early: the last `patience` epochs did not beat the best
        assert len(maps) - member.best_epoch == 2
    # the kept weights are the best epoch's: re-scoring validation gives its mAP back
    assert ranker.metrics_["map"] == pytest.approx(maps[member.best_epoch - 1])
    assert ranker.model_.meta["metrics"]["members"][0]["best_epoch"] == member.best_epoch


def test_learning_rate_is_divided_every_few_epochs():
    options = TrainOptions(**{**FAST, "max_epochs": 5, "lr_step_epochs": 2, "lr_factor": 10})
    history = RankNet(options).fit(planted_videos(5, 0)).members_[0].history
    assert [r.learning_rate for r in history] == pytest.approx([0.01, 0.01, 0.001, 0.001, 1e-4])


def test_ensemble_averages_members_from_consecutive_seeds():
    train = planted_videos(10, 0)
    ranker = RankNet(TrainOptions(**{**FAST, "ensemble": 3, "max_epochs": 2, "seed": 7}))
    model = ranker.fit(train).model_
    assert [m.seed for m in ranker.members_] == [7, 8, 9] == model.meta["seeds"]
    x = train[0].features
    singles = [RankNetModel(model.layout, model.mean, model.std, [m], model.hidden).predict(x)
               for m in model.members]
    assert ranker.predict(x) == pytest.approx(np.mean(singles, axis=0))
    single = RankNet(TrainOptions(**{**FAST, "max_epochs": 2, "seed": 8})).fit(train).model_
    assert np.array_equal(single.members[0]["out.weight"], model.members[1]["out.weight"])


def test_trained_model_file_carries_its_story(tmp_path):
    train, val = planted_videos(10, 0), planted_videos(4, 1)
    layout = FeatureLayout(signals=tuple(f"f{i}" for i in range(DIM)))
    ranker = RankNet(TrainOptions(**{**FAST, "max_epochs": 2})).fit(
        train, val, layout=layout, description="planted test data")
    path = save_model(ranker.model_, tmp_path / "m.npz")
    model = read_model(path)
    meta = model.meta
    assert meta["loss"] == "huber" and meta["huber_delta"] == 1.5
    assert meta["ensemble"] == 1 and meta["options"]["max_epochs"] == 2
    assert meta["training"]["fingerprint"] == fingerprint([*train, *val])
    assert meta["training"]["description"] == "planted test data"
    assert meta["training"]["pairs_per_epoch"] == 10 * 3 * 4
    assert set(meta["metrics"]["validation"]) == {"map", "nmsd"}
    assert model.layout == layout
    x = val[0].features
    assert np.array_equal(model.predict(x), ranker.predict(x))


def test_fingerprint_changes_with_the_data():
    videos = planted_videos(3, 0)
    labels = videos[0].labels.copy()
    labels[np.flatnonzero(labels == 0)[0]] = -1
    changed = [TrainingVideo(videos[0].key, videos[0].features, labels, videos[0].bounds),
               *videos[1:]]
    assert fingerprint(videos) == fingerprint(list(videos))
    assert fingerprint(videos) != fingerprint(changed)


def test_adaptive_huber_without_popularity_is_refused():
    with pytest.raises(UsageError, match="adaptive-huber needs GIF popularity"):
        RankNet(TrainOptions(**{**FAST, "loss": "adaptive-huber"})).fit(planted_videos(3, 0))


@pytest.mark.parametrize("change, option", [
    ({"loss": "hinge"}, "--loss"),
    ({"ensemble": 0}, "--ensemble"),
    ({"input_dropout": 1.0}, "--input-dropout"),
    ({"batch_pairs": 0}, "--batch-pairs"),
    ({"learning_rate": 0}, "--learning-rate"),
])
def test_bad_options_name_the_option(change, option):
    with pytest.raises(UsageError) as info:
        RankNet(TrainOptions(**change)).fit(planted_videos(2, 0))
    assert info.value.target == option


def test_no_pairs_is_a_clear_error():
    video = planted_videos(1, 0)[0]
    empty = TrainingVideo("v", video.features, np.zeros(len(video.labels), np.int8), video.bounds)
    with pytest.raises(UsageError, match="no video has both a GIF segment and a non-GIF"):
        RankNet(TrainOptions(**FAST)).fit([empty])


def test_standardisation_matches_numpy_and_ignores_nan():
    from video2gif.train.ranker import _standardisation

    rng = np.random.default_rng(0)
    x = (rng.normal(size=(10_000, 3)) * [1.0, 5.0, 0.0] + [1e4, -3.0, 7.0]).astype(np.float32)
    x[::7, 1] = np.nan
    mean, std = _standardisation(x, chunk=999)
    assert mean == pytest.approx(np.nanmean(x.astype(np.float64), axis=0), rel=1e-6)
    assert std[:2] == pytest.approx(np.nanstd(x.astype(np.float64), axis=0)[:2], rel=1e-5)
    assert std[2] > 1e20  # a constant column taught nothing: standardised, it is always 0


def test_a_column_constant_in_training_is_ignored_at_inference():
    train = planted_videos(6, 0)
    constant = [TrainingVideo(v.key, np.c_[v.features, np.full(len(v.labels), 3.0)], v.labels,
                              v.bounds, v.annotation) for v in train]
    ranker = RankNet(TrainOptions(**{**FAST, "max_epochs": 1})).fit(constant)
    x = constant[0].features.copy()
    changed = x.copy()
    changed[:, -1] = 6.0  # a value the model never saw
    assert np.array_equal(ranker.predict(x), ranker.predict(changed))


# --- `video2gif train` and `make --model`, end to end -------------------------------------------


def write_jsonl(path, videos: list[dict]):
    import json

    path.write_text("".join(json.dumps(v) + "\n" for v in videos))
    return path


@pytest.fixture
def synthetic_annotations(tmp_path):
    """Three 12 s synthetic videos (two 6 s pans each, see tests/synthetic.py), each annotated
    with one GIF inside its first or second shot; views and age make popularity known."""
    from . import synthetic

    videos = []
    for i in range(3):
        frames = synthetic.cuts([(synthetic.moving(10 + i, speed=2), 144),
                                 (synthetic.moving(20 + i, speed=1), 144)])
        path = synthetic.write_video(tmp_path / f"clip{i}.mp4", frames, fps=24)
        start = 0.5 if i % 2 == 0 else 6.5  # most of one shot: its whole-shot candidate is a GIF
        videos.append({"id": f"clip{i}", "duration": 12.0, "path": path.name,
                       "gifs": [{"start": start, "end": start + 5.0, "views": 100 * (i + 1),
                                 "age_days": 10}]})
    return write_jsonl(tmp_path / "annotations.jsonl", videos)


def test_train_command_then_make_with_the_model(capsys, tmp_path, synthetic_annotations):
    model = tmp_path / "models" / "mine.npz"
    code, _, err = run_cli(capsys, "train", "-a", synthetic_annotations, "-o", model,
                           "--backbone", "none", "--ensemble", "2", "--epochs", "2",
                           "--threads", "1", "--no-cache", "-q")
    assert code == 0, err
    assert "2 model(s) (adaptive-huber loss" in err
    assert "trained on 2 videos, 1 for validation" in err
    loaded = read_model(model)
    assert loaded.layout.backbone is None and loaded.layout.context == ("position", "duration")
    assert "motion_appeal" in loaded.layout.signals and len(loaded.members) == 2
    assert loaded.meta["training"]["videos"] == 2 and loaded.meta["loss"] == "adaptive-huber"
    assert set(loaded.meta["metrics"]["validation"]) == {"map", "nmsd"}
    assert not [p for p in model.parent.iterdir() if p.name != "mine.npz"]  # no temp files

    out = tmp_path / "out"
    video = tmp_path / "clip0.mp4"
    code, _, err = run_cli(capsys, "make", video, "-o", out, "-k", "2", "--model", model,
                           "--backbone", "none", "--no-cache", "--width", "64", "-q")
    assert code == 0, err
    import json

    doc = json.loads((out / "clip0" / "segments.json").read_text())
    assert doc["model"]["name"] == "ranknet" and doc["model"]["source"] == str(model)
    scores = [s["score"] for s in doc["segments"]]
    assert all(s is not None and np.isfinite(s) for s in scores)
    assert len(set(scores)) > 1  # the model tells segments apart


def test_train_command_errors(capsys, tmp_path, synthetic_annotations):
    code, _, err = run_cli(capsys, "train", "-a", tmp_path / "nope.jsonl", "-o", tmp_path / "m",
                           "--backbone", "none")
    assert code == 1 and err.startswith("video2gif: error: ") and "no such file" in err
    code, _, err = run_cli(capsys, "train", "-a", synthetic_annotations, "-o", tmp_path / "m",
                           "--context", "position,weather", "--backbone", "none")
    assert code == 2 and "--context" in err and "weather" in err
    lost = write_jsonl(tmp_path / "lost.jsonl", [{"id": "gone", "duration": 5.0,
                                                  "gifs": [{"start": 1, "end": 3}]}])
    code, _, err = run_cli(capsys, "train", "-a", lost, "-o", tmp_path / "m", "--videos",
                           tmp_path, "--backbone", "none", "--no-cache")
    assert code == 2 and "none of its 1 videos could be read" in err
    assert "Traceback" not in err and not (tmp_path / "m").exists()


def test_make_refuses_a_model_of_another_backbone(capsys, tmp_path, synthetic_annotations):
    layout = FeatureLayout("efficientnet-lite0", "1", backbone_dim=4, context=("position",))
    from .test_ranknet import tiny_model

    model = save_model(tiny_model(layout), tmp_path / "lite.npz")
    code, _, err = run_cli(capsys, "make", tmp_path / "clip0.mp4", "-o", tmp_path / "out",
                           "--model", model, "--backbone", "none", "--no-cache", "-q")
    assert code == 1 and "Traceback" not in err
    line = next(x for x in err.splitlines() if x.startswith("video2gif: error: "))
    assert "trained on efficientnet-lite0 embeddings but the features have none" in line


# Hand-labelled GIF intervals on real clips of ../shared/media, for the end-to-end test only.
# THIS IS A TEST FIXTURE, NOT DATA: the intervals were chosen by looking at one frame per second
# of each clip (Big Buck Bunny: the bird on the branch and the title card; testvideo: the deer;
# Chaplin: the walk towards the camera). They say nothing about what makes a good GIF in general.
HAND_LABELLED_FIXTURE = {
    "moviepy/big_buck_bunny_0_30.webm": [(16.5, 20.8), (26.0, 29.5)],
    "pyscenedetect/testvideo.mp4": [(8.2, 11.8)],
    "moviepy/chaplin.mp4": [(1.0, 4.5)],
}


@pytest.fixture
def hand_labelled_annotations(tmp_path):
    """JSON lines over three real clips with the hand-labelled GIFs above (a fixture)."""
    from .conftest import media
    from video2gif.decode import probe

    videos = []
    for relative, gifs in HAND_LABELLED_FIXTURE.items():
        path = media(relative)
        videos.append({"id": path.stem, "duration": probe(path).duration, "path": str(path),
                       "gifs": [{"start": a, "end": b} for a, b in gifs]})
    return write_jsonl(tmp_path / "hand_labelled_fixture.jsonl", videos)


def test_train_and_make_on_real_clips(capsys, tmp_path, hand_labelled_annotations):
    """EfficientNet-Lite0 features from the cache (extracted once), a 2-model ensemble, then
    `make --model` on one of the clips."""
    cache = tmp_path / "cache"
    model = tmp_path / "real.npz"
    args = ["train", "-a", hand_labelled_annotations, "-o", model, "--loss", "huber",
            "--ensemble", "2", "--epochs", "3", "--threads", "1", "--cache", cache, "-q"]
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err
    entries = sorted(p for p in cache.rglob("*") if p.is_file())
    assert len(entries) == 3  # one feature-cache entry per clip
    # Reading an entry touches its file time (the cache's size cap evicts the least recently
    # used); writing one replaces the file. So the inode, not the time, tells them apart.
    inodes = [p.stat().st_ino for p in entries]
    code, _, err = run_cli(capsys, *args[:-3], "-o", tmp_path / "again.npz", "--cache", cache,
                           "-q")
    assert code == 0, err
    assert [p.stat().st_ino for p in entries] == inodes  # read back, not re-extracted
    first, again = read_model(model), read_model(tmp_path / "again.npz")
    assert first.meta["training"]["fingerprint"] == again.meta["training"]["fingerprint"]
    layout = first.layout
    assert layout.backbone == "efficientnet-lite0" and layout.backbone_dim == 2560
    assert layout.dim == 2560 + len(layout.signals) + 4

    out = tmp_path / "out"
    from .conftest import media

    clip = next(iter(HAND_LABELLED_FIXTURE))

    code, _, err = run_cli(capsys, "make", media(clip), "-o", out, "-k", "2", "--model", model,
                           "--cache", cache, "--width", "96", "-q")
    assert code == 0, err
    import json

    doc = json.loads((out / "big_buck_bunny_0_30" / "segments.json").read_text())
    assert doc["model"]["backbone"] == "efficientnet-lite0"
    assert sum(1 for s in doc["segments"] if s["output"]) == 2


def test_split_validation():
    from dataclasses import replace as dc_replace

    from video2gif.train import split_validation

    videos = planted_videos(10, 0)
    train, val = split_validation(videos, 0.2, seed=0)
    assert len(val) == 2 and len(train) == 8 and not {v.key for v in train} & {v.key for v in val}
    assert split_validation(videos, 0.2, seed=0) == (train, val)  # repeatable
    assert split_validation(videos, 0.0) == (videos, [])
    assert len(split_validation(videos[:2], 0.1)[1]) == 1  # at least one when asked for some
    marked = [TrainingVideo(v.key, v.features, v.labels, v.bounds,
                            dc_replace(v.annotation, split="val" if i < 3 else "train"))
              for i, v in enumerate(videos)]
    train, val = split_validation(marked, 0.5)
    assert [v.key for v in val] == [v.key for v in marked[:3]]  # the annotations' own split
