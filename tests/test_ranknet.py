"""The RankNet's network, losses (against hand-computed values), popularity, feature layout and
model files (round trip, strict and safe loading, refusal of mismatched features)."""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from fractions import Fraction

import numpy as np
import pytest
import torch

from video2gif.context import VideoContext, context_features, context_names, embed_tags
from video2gif.decode import VideoInfo
from video2gif.errors import ModelError, UsageError
from video2gif.features import SegmentFeatures
from video2gif.features.backbones import Backbone, FrameSpec
from video2gif.ranknet import (
    FORMAT_VERSION,
    FeatureLayout,
    RankNetMLP,
    RankNetModel,
    backbone_id,
    check_backbone,
    layout_for_backbone,
    margin_violation,
    normalise_popularity,
    pair_loss,
    read_model,
    save_model,
    weight_penalty,
)
from video2gif.scorers import load_model
from video2gif.scorers.blend import BlendedScorer, zscore
from video2gif.scorers.context import load_context_model
from video2gif.scorers.model_file import RankNetScorer
from video2gif.scorers.prior import PriorScorer
from video2gif.segments import Segment


def features_of(n: int, duration: float = 60.0, embeddings=None, signals=None) -> SegmentFeatures:
    """n back-to-back 3 s segments of a 25 fps video of ``duration`` seconds."""
    info = VideoInfo("clip.mp4", duration, Fraction(25), int(duration * 25), 64, 36)
    segments = [Segment(3.0 * i, 3.0 * i + 3.0, 75 * i, 75 * i + 75, 0) for i in range(n)]
    return SegmentFeatures(info, segments, signals=signals or {}, embeddings=embeddings or {})


def tiny_model(layout: FeatureLayout, members: int = 2, seed: int = 0) -> RankNetModel:
    """A model with random weights (no training needed to test the file format)."""
    torch.manual_seed(seed)
    states = []
    for _ in range(members):
        net = RankNetMLP(layout.dim, hidden=(6, 4))
        states.append({k: v.detach().numpy().copy() for k, v in net.state_dict().items()})
    rng = np.random.default_rng(seed)
    return RankNetModel(
        layout=layout,
        mean=rng.normal(size=layout.dim).astype(np.float32),
        std=rng.uniform(0.5, 2.0, size=layout.dim).astype(np.float32),
        members=states,
        hidden=(6, 4),
        meta={"loss": "huber", "training": {"fingerprint": "abc", "description": "test"}},
    )


# --- losses ---------------------------------------------------------------------------------------


def test_margin_violation_by_hand():
    pos = torch.tensor([3.0, 1.0, 0.2, -1.0])
    neg = torch.tensor([0.0, 0.5, 0.2, 1.5])
    # u = max(0, 1 - pos + neg): 1-3+0 → 0; 1-1+0.5 = 0.5; 1-0.2+0.2 = 1; 1+1+1.5 = 3.5
    assert margin_violation(pos, neg).tolist() == pytest.approx([0.0, 0.5, 1.0, 3.5])


U = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.5])


def test_l1_l2_by_hand():
    assert pair_loss(U, "l1").tolist() == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 3.5])
    assert pair_loss(U, "l2").tolist() == pytest.approx([0.0, 0.25, 1.0, 2.25, 4.0, 12.25])


def test_huber_by_hand():
    # δ = 1.5: u²/2 up to 1.5 (0, .125, .5, 1.125); beyond, 1.5·(u − 0.75): 2 → 1.875, 3.5 → 4.125
    assert pair_loss(U, "huber").tolist() == pytest.approx(
        [0.0, 0.125, 0.5, 1.125, 1.875, 4.125]
    )


def test_adaptive_huber_by_hand():
    u = torch.tensor([2.0, 2.0, 2.0, 3.5])
    p = torch.tensor([0.0, 0.5, 1.0, 1.0])
    # δ = 1.5 + p: 1.5 → 1.5·(2 − .75) = 1.875; 2.0 → u ≤ δ: 2²/2 = 2; 2.5 → 2;
    # 3.5 with δ 2.5 → 2.5·(3.5 − 1.25) = 5.625
    assert pair_loss(u, "adaptive-huber", p).tolist() == pytest.approx([1.875, 2.0, 2.0, 5.625])
    # popularity 0 is the plain Huber loss
    zero = torch.zeros(len(U))
    assert torch.allclose(pair_loss(U, "adaptive-huber", zero), pair_loss(U, "huber"))


def test_huber_is_continuous_and_linear_beyond_delta():
    u = torch.tensor([1.5 - 1e-4, 1.5 + 1e-4], dtype=torch.float64)
    lo, hi = pair_loss(u, "huber").tolist()
    assert hi - lo == pytest.approx(1.5 * 2e-4, rel=1e-3)  # slope δ on both sides of δ
    u = torch.tensor([5.0, 6.0, 7.0], requires_grad=True)
    pair_loss(u, "huber").sum().backward()
    assert u.grad.tolist() == pytest.approx([1.5, 1.5, 1.5])  # bounded pull of outliers
    u = torch.tensor([5.0, 6.0], requires_grad=True)
    pair_loss(u, "l2").sum().backward()
    assert u.grad.tolist() == pytest.approx([10.0, 12.0])  # l2's pull grows with the violation


def test_loss_errors():
    with pytest.raises(UsageError, match="unknown loss"):
        pair_loss(U, "hinge")
    with pytest.raises(UsageError, match="popularity"):
        pair_loss(U, "adaptive-huber")


def test_normalise_popularity_by_hand():
    views = [0, 99, 9999, 50, 10, -1]
    age = [10, 1, 0.5, float("nan"), 0, 3]
    p = normalise_popularity(views, age)
    # views/day: 0, 99, 9999 (age under a day counts as one), unknown, 10 (age 0 → 1 day), unknown
    # log1p: 0, log 100, log 10000, -, log 11 ; min-max over the known ones
    expected = [0.0, np.log(100) / np.log(10000), 1.0, 0.0, np.log(11) / np.log(10000), 0.0]
    assert p == pytest.approx(expected)
    assert normalise_popularity([5, 5], [1, 1]).tolist() == [0.0, 0.0]  # no spread: all 0


def test_weight_penalty_and_its_sgd_step():
    """λ‖W‖² on weights only; SGD's weight_decay = 2λ gives the objective's exact gradient."""
    torch.manual_seed(1)
    net = RankNetMLP(5, hidden=(4, 3)).eval()
    expected = 0.001 * sum(float((w.detach() ** 2).sum()) for w in (
        net.hidden[0].weight, net.hidden[1].weight, net.out.weight))
    assert float(weight_penalty(net, 0.001).detach()) == pytest.approx(expected, rel=1e-6)

    from video2gif.train import TrainOptions
    from video2gif.train.ranker import _optimiser

    x = torch.randn(6, 5)
    a, b = RankNetMLP(5, hidden=(4, 3)).eval(), RankNetMLP(5, hidden=(4, 3)).eval()
    b.load_state_dict(a.state_dict())
    opt_a = _optimiser(a, TrainOptions(learning_rate=0.1, weight_decay=0.001))  # the trainer's
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(3):
        opt_a.zero_grad()
        a(x).sum().backward()
        opt_a.step()
        opt_b.zero_grad()
        (b(x).sum() + weight_penalty(b, 0.001)).backward()
        opt_b.step()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(pa, pb, atol=1e-6), name


# --- network --------------------------------------------------------------------------------------


def test_mlp_shape_and_dropout_law():
    torch.manual_seed(0)
    net = RankNetMLP(1000)
    assert [tuple(m.weight.shape) for m in net.hidden] == [(512, 1000), (128, 512)]
    assert tuple(net.out.weight.shape) == (1, 128)
    x = torch.ones(200, 1000)
    net.train()
    from video2gif.ranknet.network import _dropout

    dropped = _dropout(x, 0.8, True)
    kept = dropped != 0
    assert float(kept.float().mean()) == pytest.approx(0.2, abs=0.01)
    assert torch.all(dropped[kept] == 5.0)  # inverted dropout keeps the expectation
    assert not torch.equal(net(x[:4]), net(x[:4]))  # random while training
    net.eval()
    assert torch.equal(net(x[:4]), net(x[:4]))  # deterministic at inference


# --- context --------------------------------------------------------------------------------------


def test_context_features_by_hand():
    bounds = np.array([[0.0, 3.0], [57.0, 60.0]])
    video = VideoContext(60.0, category="comedy", tags=("funny cats",))
    x = context_features(bounds, video, ("position", "duration", "category", "tags"))
    names = context_names(("position", "duration", "category", "tags"))
    assert x.shape == (2, len(names)) and x.dtype == np.float32
    row = dict(zip(names, x[1]))
    assert row["start_log"] == pytest.approx(np.log1p(57.0))
    assert row["relative_position"] == pytest.approx(58.5 / 60.0)
    assert row["segment_duration_log"] == pytest.approx(np.log1p(3.0))
    assert row["video_duration_log"] == pytest.approx(np.log1p(60.0))
    assert row["category=Comedy"] == 1.0 and sum(v for k, v in row.items() if "category" in k) == 1
    tags = x[1, [i for i, n in enumerate(names) if n.startswith("tags_")]]
    assert np.linalg.norm(tags) == pytest.approx(1.0)
    unknown = context_features(bounds, VideoContext(60.0, category="Knitting"), ("category",))
    assert not unknown.any()
    with pytest.raises(UsageError, match="unknown block"):
        context_features(bounds, video, ("position", "weather"))


def test_tag_embedding_relates_shared_words():
    a, b, c = embed_tags(["funny cat"]), embed_tags(["cat videos", "funny"]), embed_tags(["f1"])
    assert a @ b > a @ c
    assert not embed_tags([]).any()


# --- feature layout -------------------------------------------------------------------------------


def test_layout_assembles_embedding_signals_context():
    layout = FeatureLayout("lite0", "1", backbone_dim=3, signals=("sharpness", "audio"),
                           context=("position",))
    emb = np.arange(12, dtype=np.float32).reshape(4, 3)
    feats = features_of(4, embeddings={"lite0": emb}, signals={"sharpness": np.full(4, 0.5)})
    x = layout.assemble(feats)
    assert layout.dim == 3 + 2 + 2 == x.shape[1]
    assert np.array_equal(x[:, :3], emb)
    assert np.all(x[:, 3] == 0.5) and np.all(np.isnan(x[:, 4]))  # a missing signal is NaN
    assert x[2, 5] == pytest.approx(np.log1p(6.0))


def test_layout_refuses_wrong_backbone_with_reason():
    layout = FeatureLayout("lite0", "1", backbone_dim=3)
    with pytest.raises(ModelError, match="trained on lite0 embeddings but the features have c3d"):
        layout.assemble(features_of(2, embeddings={"c3d": np.zeros((2, 3))}), "m.npz")
    with pytest.raises(ModelError, match="expects 3-d lite0 embeddings, the features have 5-d"):
        layout.assemble(features_of(2, embeddings={"lite0": np.zeros((2, 5))}), "m.npz")
    other = FeatureLayout("lite0", "2", backbone_dim=3)
    assert layout.differences(other) == ["backbone version 1 vs 2"]
    assert "context [] vs [position]" in FeatureLayout().differences(FeatureLayout(
        context=("position",)))


# --- model files ----------------------------------------------------------------------------------


LAYOUT = FeatureLayout(signals=("a", "b", "c"), context=("position", "duration"))


def test_model_file_round_trip(tmp_path):
    model = tiny_model(LAYOUT)
    path = save_model(model, tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left
    again = read_model(path)
    x = np.random.default_rng(0).normal(size=(7, LAYOUT.dim)).astype(np.float32)
    assert np.array_equal(model.predict(x), again.predict(x))
    assert again.layout == LAYOUT and again.hidden == (6, 4) and len(again.members) == 2
    assert again.meta["training"]["fingerprint"] == "abc"
    assert again.meta["format_version"] == FORMAT_VERSION
    # the header is plain JSON inside the .npz
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz["meta"].tobytes())
    assert header["format"] == "video2gif-ranknet" and header["layout"]["dim"] == LAYOUT.dim


def test_model_files_are_byte_for_byte_reproducible(tmp_path):
    a = save_model(tiny_model(LAYOUT), tmp_path / "a.npz").read_bytes()
    b = save_model(tiny_model(LAYOUT), tmp_path / "b.npz").read_bytes()
    assert a == b
    assert a != save_model(tiny_model(LAYOUT, seed=1), tmp_path / "c.npz").read_bytes()


def test_ensemble_predicts_the_average_of_its_members():
    model = tiny_model(LAYOUT, members=3)
    x = np.random.default_rng(1).normal(size=(5, LAYOUT.dim)).astype(np.float32)
    singles = [RankNetModel(LAYOUT, model.mean, model.std, [s], (6, 4)).predict(x)
               for s in model.members]
    assert model.predict(x) == pytest.approx(np.mean(singles, axis=0))


def _rewrite(path, out, change):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["meta"].tobytes())
    change(arrays, header)
    arrays["meta"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(out, **arrays)
    return out


@pytest.mark.parametrize("change, reason", [
    (lambda a, h: h.update(format_version=99), "format version 99"),
    (lambda a, h: h.update(format="something-else"), "not a video2gif RankNet"),
    (lambda a, h: a.pop("member1.out.bias"), "missing arrays member1.out.bias"),
    (lambda a, h: a.update(extra=np.zeros(2)), "unexpected arrays extra"),
    (lambda a, h: a.update({"member0.hidden.0.weight": np.zeros((6, 2))}), "has shape"),
    (lambda a, h: a.update(std=np.zeros(7, np.float32)), "std must be finite and positive"),
])
def test_model_file_strict_refusals(tmp_path, change, reason):
    good = save_model(tiny_model(LAYOUT), tmp_path / "good.npz")
    bad = _rewrite(good, tmp_path / "bad.npz", change)
    with pytest.raises(ModelError, match=reason):
        read_model(bad)


def test_model_file_never_unpickles(tmp_path):
    """An object array would need pickle to load; the reader refuses instead of running it."""
    evil = tmp_path / "evil.npz"
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("meta.npy", buf.getvalue())
    with pytest.raises(ModelError, match="not a video2gif model file"):
        read_model(evil)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"hello, not a model\n"])
def test_model_file_garbage(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="not a video2gif model file"):
        read_model(path)


def test_checksum_is_verified(tmp_path):
    path = save_model(tiny_model(LAYOUT), tmp_path / "m.npz")
    with pytest.raises(ModelError, match="checksum mismatch"):
        read_model(path, expected_sha256="0" * 64)


def test_load_model_accepts_a_model_file(tmp_path):
    layout = FeatureLayout(context=("position", "duration"))
    path = save_model(tiny_model(layout), tmp_path / "ctx.npz")
    scorer = load_model(path)
    assert isinstance(scorer, RankNetScorer)
    scores = scorer.score(features_of(5))
    assert scores.shape == (5,) and np.all(np.isfinite(scores))
    assert scorer.describe()["context"] == ["position", "duration"]
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.npz")


def test_model_needing_an_unknown_backbone_is_refused(tmp_path):
    layout = FeatureLayout("lite0", "1", backbone_dim=4, context=("position",))
    with pytest.raises(ModelError, match="trained on backbone lite0, which this installation"):
        load_model(save_model(tiny_model(layout), tmp_path / "m.npz"))


def test_scorer_refuses_features_from_another_backbone(tmp_path):
    layout = FeatureLayout("efficientnet-lite0", "1", backbone_dim=4, context=("position",))
    scorer = load_model(save_model(tiny_model(layout), tmp_path / "m.npz"))
    with pytest.raises(ModelError, match="trained on efficientnet-lite0 embeddings but the "
                                         "features have none"):
        scorer.score(features_of(3))
    emb = {"efficientnet-lite0": np.zeros((3, 4), np.float32)}
    assert scorer.score(features_of(3, embeddings=emb)).shape == (3,)
    feats = features_of(3, embeddings=emb)
    other = dataclasses.replace(feats, backbone_ids={"efficientnet-lite0":
                                                     "efficientnet-lite0/2/abc"})
    with pytest.raises(ModelError, match="trained on efficientnet-lite0/1/ features, these come "
                                         "from efficientnet-lite0/2/abc"):
        scorer.score(other)
    same = dataclasses.replace(feats, backbone_ids={"efficientnet-lite0": "efficientnet-lite0/1/"})
    assert scorer.score(same).shape == (3,)


class _TinyBackbone(Backbone):
    """A real (if trivial) backbone: the mean colour of each frame."""

    name = "efficientnet-lite0"
    version = "1"

    def __init__(self, dim: int = 2, weights_id: str = "w1") -> None:
        self.dim, self.weights_id, self.spec = dim, weights_id, FrameSpec(width=8, height=8)

    def encode(self, batch: np.ndarray) -> np.ndarray:
        return np.repeat(batch.mean(axis=(1, 2, 3))[:, None], self.dim, axis=1).astype(np.float32)


def test_layout_for_backbone_records_its_identity():
    layout = layout_for_backbone(_TinyBackbone(3, "w9"), ["motion"], ["position"])
    assert (layout.backbone_dim, layout.dim) == (6, 6 + 1 + 2)
    assert backbone_id(layout) == "efficientnet-lite0/1/w9" == _TinyBackbone(3, "w9").cache_id


def test_check_backbone_names_what_differs():
    layout = FeatureLayout("efficientnet-lite0", "1", backbone_weights="w1", backbone_dim=4)
    check_backbone(layout, _TinyBackbone(2, "w1"), "m.npz")  # fits: 2-d, mean+max pooled = 4
    with pytest.raises(ModelError, match="weights w1 vs w2"):
        check_backbone(layout, _TinyBackbone(2, "w2"), "m.npz")
    with pytest.raises(ModelError, match="embedding width 4 vs 6"):
        check_backbone(layout, _TinyBackbone(3, "w1"), "m.npz")
    old = FeatureLayout("efficientnet-lite0", "0", backbone_weights="w1", backbone_dim=4)
    with pytest.raises(ModelError, match="efficientnet-lite0 version 0 vs 1"):
        check_backbone(old, _TinyBackbone(2, "w1"), "m.npz")


def test_zscore():
    assert zscore(np.array([1.0, 2.0, 3.0])).tolist() == pytest.approx([-1.2247449, 0.0, 1.2247449])
    assert zscore(np.array([2.0, 2.0])).tolist() == [0.0, 0.0]
    out = zscore(np.array([1.0, np.nan, 3.0]))
    assert np.isnan(out[1]) and out[0] == pytest.approx(-1.0)


# --- the shipped context model -------------------------------------------------------------------


def test_shipped_context_model_loads_verified():
    import hashlib

    from video2gif.ranknet import CONTEXT_MODEL_SHA256, context_model_path

    path = context_model_path()
    assert path.stat().st_size < 1_000_000  # small enough to ship in the wheel
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CONTEXT_MODEL_SHA256
    scorer = load_context_model()
    layout = scorer.model.layout
    assert layout.backbone is None and layout.signals == () and layout.context == (
        "position", "duration")
    assert "PHD-GIFs" in scorer.model.meta["training"]["description"]
    assert isinstance(load_model("context"), RankNetScorer)


def test_shipped_context_model_ranks_by_position():
    """It has learned something about position: scores vary along a video, and a 3 s segment's
    score does not depend on a duration it never saw in training (ignored, constant column)."""
    scorer = load_context_model()
    feats = features_of(40, duration=120.0)
    scores = scorer.score(feats)
    assert np.all(np.isfinite(scores)) and np.ptp(scores) > 0.1
    x = scorer.inputs(feats)
    names = scorer.model.layout.names()
    column = names.index("context:segment_duration_log")
    other = x.copy()
    other[:, column] = np.log1p(5.0)
    assert np.array_equal(scorer.model.predict(x), scorer.model.predict(other))


def test_blended_scorer_adds_weighted_z_scores(tmp_path):
    layout = FeatureLayout(context=("position", "duration"))
    ranknet = RankNetScorer(tiny_model(layout), "ctx")
    feats = features_of(6, signals={"sharpness": np.linspace(0, 1, 6)})
    prior = PriorScorer({"sharpness": 1.0})
    blend = BlendedScorer([(prior, 1.0), (ranknet, 0.5)])
    expected = zscore(prior.score(feats)) + 0.5 * zscore(ranknet.score(feats))
    assert blend.score(feats) == pytest.approx(expected)
    assert [p["weight"] for p in blend.describe()["parts"]] == [1.0, 0.5]
    only_prior = BlendedScorer([(prior, 1.0), (ranknet, 0.0)]).score(feats)
    assert np.argsort(only_prior).tolist() == np.argsort(prior.score(feats)).tolist()
    with pytest.raises(UsageError):
        BlendedScorer([])
