"""C3D and the original Video2GIF model: importers of the released file formats, and the PyTorch
port checked against an independent NumPy forward pass (reduced widths, real input size)."""

from __future__ import annotations

import itertools
import os
import pickle
import zipfile
from fractions import Fraction

import av
import numpy as np
import pytest

from video2gif.decode import decode_pass
from video2gif.errors import ModelError
from video2gif.features import SegmentFeatures
from video2gif.features.c3d import (
    C3DConfig,
    C3DModel,
    build_c3d,
    load_c3d_weights,
    load_snippet_mean,
    preprocess,
    read_legacy_pickle,
    weights_dir,
)
from video2gif.features.original import build_head, load_head_weights
from video2gif.features.release_preprocess import release_resize
from video2gif.scorers import load_model
from video2gif.scorers.original import OriginalScorer
from video2gif.segments import Segment

from . import synthetic
from .legacy_formats import write_c3d_pickle, write_head_npz, write_mean_npy

SMALL = C3DConfig(widths=(2, 3, 3, 4, 4, 4, 5, 5), fc6=6)  # real 3×16×112×112 input, few widths


def lasagne_params(config: C3DConfig, seed: int = 0, with_fc78: bool = True) -> list[np.ndarray]:
    """Random (W, b) arrays in Lasagne order and layout, He-scaled so activations stay alive."""
    rng = np.random.default_rng(seed)
    out = []
    for w_shape, b_shape in config.shapes().values():
        fan_in = int(np.prod(w_shape[1:])) if len(w_shape) == 5 else w_shape[0]
        out.append(rng.normal(0, np.sqrt(2 / fan_in), w_shape).astype(np.float32))
        out.append(rng.normal(0, 0.1, b_shape).astype(np.float32))
    if with_fc78:  # fc7, fc8: present in the release's file, never used
        out += [rng.normal(size=(config.fc6, 5)).astype(np.float32), np.zeros(5, np.float32),
                rng.normal(size=(5, 3)).astype(np.float32), np.zeros(3, np.float32)]
    return out


def head_params(inputs: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = [inputs, 512, 128, 1]
    out = []
    for cin, cout in itertools.pairwise(sizes):
        out.append(rng.normal(0, np.sqrt(2 / cin), (cin, cout)).astype(np.float32))
        out.append(rng.normal(0, 0.1, cout).astype(np.float32))
    return out


# -- an independent NumPy forward pass, following the Lasagne layer definitions ---------------


def np_conv3d(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross-correlation, 3×3×3, zero padding 1: x (c, t, h, w), w (out, c, 3, 3, 3)."""
    _, t, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (1, 1)))
    out = np.zeros((w.shape[0], t, h, wd))
    for dt in range(3):
        for dh in range(3):
            for dw in range(3):
                out += np.einsum("oc,cthw->othw", w[:, :, dt, dh, dw],
                                 xp[:, dt:dt + t, dh:dh + h, dw:dw + wd])
    return out + b[:, None, None, None]


def np_maxpool(x: np.ndarray, k: tuple[int, int, int]) -> np.ndarray:
    c, t, h, w = x.shape
    t2, h2, w2 = t // k[0], h // k[1], w // k[2]
    x = x[:, : t2 * k[0], : h2 * k[1], : w2 * k[2]]
    return x.reshape(c, t2, k[0], h2, k[1], w2, k[2]).max(axis=(2, 4, 6))


def _relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0)


def np_c3d_fc6(clip: np.ndarray, params: list[np.ndarray]) -> np.ndarray:
    """clip (3, 16, H, W) → fc6 after ReLU, with Lasagne's (in, out) dense weights."""
    x = clip.astype(np.float64)
    pools = {0: (1, 2, 2), 1: (2, 2, 2), 3: (2, 2, 2), 5: (2, 2, 2)}
    for i in range(8):
        x = _relu(np_conv3d(x, params[2 * i].astype(np.float64), params[2 * i + 1]))
        if i in pools:
            x = np_maxpool(x, pools[i])
    x = np.pad(x, ((0, 0), (0, 0), (0, 1), (0, 1)))  # right/bottom of height and width only
    x = np_maxpool(x, (2, 2, 2))
    return _relu(x.reshape(-1) @ params[16] + params[17])


def np_head(fc6: np.ndarray, params: list[np.ndarray]) -> np.ndarray:
    h = _relu(fc6 @ params[0] + params[1])
    h = _relu(h @ params[2] + params[3])
    return (h @ params[4] + params[5])[..., 0]


def release_preprocess(frames: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The release's get_snips/rgb2caffe on frames already at 128×171."""
    caffe = [f.astype(np.float32).transpose(2, 0, 1)[::-1] for f in frames]  # BGR, (3, h, w)
    snip = np.stack(caffe).swapaxes(0, 1) - mean
    return snip[:, :, 8:120, 29:141]


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def small_files(tmp_path):
    """The three released files in their exact formats, for the reduced network SMALL."""
    c3d = lasagne_params(SMALL)
    head = head_params(SMALL.fc6)
    mean = np.random.default_rng(2).uniform(80, 120, (3, 16, 128, 171)).astype(np.float32)
    return {
        "c3d": write_c3d_pickle(tmp_path / "c3d_model.pkl", c3d),
        "mean": write_mean_npy(tmp_path / "snipplet_mean.npy", mean),
        "head": write_head_npz(tmp_path / "video2gif_weights.npz", head),
        "params": c3d, "head_params": head, "mean_array": mean, "dir": tmp_path,
    }


@pytest.fixture
def pan_video(tmp_path):
    """24 fps, 160×96, 60 frames (2.5 s) of a texture panning 3 px per frame, one shot."""
    gen = synthetic.moving(7, speed=3)
    return synthetic.write_video(tmp_path / "pan.mp4", [gen(i) for i in range(60)], fps=24)


# -- importers ------------------------------------------------------------------------------


def test_python2_pickle_is_read_and_dense_weights_transposed(small_files):
    state = load_c3d_weights(small_files["c3d"], SMALL)
    params = small_files["params"]
    assert list(state)[:2] == ["conv1a.weight", "conv1a.bias"]
    np.testing.assert_array_equal(state["conv3b.weight"].numpy(), params[6])
    np.testing.assert_array_equal(state["fc6.weight"].numpy(), params[16].T)
    assert "fc7.weight" not in state


def test_pickle_without_fc7_fc8_is_accepted(tmp_path):
    path = write_c3d_pickle(tmp_path / "c3d_model.pkl", lasagne_params(SMALL, with_fc78=False))
    assert len(load_c3d_weights(path, SMALL)) == 18


def test_full_size_c3d_has_the_released_shapes():
    config = C3DConfig()
    assert config.fc6_inputs == 512 * 1 * 4 * 4
    net = build_c3d()
    assert tuple(net.conv5b.weight.shape) == (512, 512, 3, 3, 3)
    import torch

    with torch.inference_mode():
        out = net(torch.zeros(1, 3, 16, 112, 112))
    assert out.shape == (1, 4096) and bool((out >= 0).all())  # fc6 with ReLU


def test_preprocessing_is_the_releases(small_files):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (16, 128, 171, 3), dtype=np.uint8)
    got = preprocess(frames[None], small_files["mean_array"])[0]
    np.testing.assert_allclose(got, release_preprocess(frames, small_files["mean_array"]),
                               rtol=0, atol=1e-4)
    assert got.shape == (3, 16, 112, 112)


def test_conv_stack_matches_numpy(small_files):
    import torch

    model = C3DModel.from_files(small_files["c3d"], small_files["mean"], SMALL)
    clip = np.random.default_rng(4).normal(0, 50, (3, 16, 112, 112)).astype(np.float32)
    with torch.inference_mode():
        got = model.network(torch.from_numpy(clip[None]))[0].numpy()
    want = np_c3d_fc6(clip, small_files["params"])
    assert want.max() > 0  # the comparison means something: some units are active
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_head_matches_numpy_full_size(tmp_path):
    import torch

    params = head_params(4096)
    path = write_head_npz(tmp_path / "video2gif_weights.npz", params)
    head = build_head(4096)
    head.load_state_dict(load_head_weights(path, 4096), strict=True)
    x = np.abs(np.random.default_rng(5).normal(size=(3, 4096))).astype(np.float32)
    with torch.inference_mode():
        got = head(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, np_head(x.astype(np.float64), params), rtol=1e-4, atol=1e-4)


def test_head_from_python3_savez(tmp_path):
    """The same archive written by today's NumPy (object array pickled by Python 3)."""
    params = head_params(6)
    obj = np.empty(6, dtype=object)
    obj[:] = params
    np.savez(tmp_path / "h.npz", obj)
    state = load_head_weights(tmp_path / "h.npz", 6)
    np.testing.assert_array_equal(state["h2.weight"].numpy(), params[2].T)


# -- the original model end to end -------------------------------------------------------------


def test_original_scorer_end_to_end(small_files, pan_video):
    """Windows per segment, from its own first frame to its end frame included (the release's
    rule, in a second pass once the segments are known), frames resized as the release did."""
    scorer = OriginalScorer.from_files(small_files["c3d"], small_files["mean"],
                                       small_files["head"], SMALL)
    assert scorer.consumers() == []  # nothing in the shared pass
    info = decode_pass(pan_video, [])
    segments = [
        Segment(0.0, 2.0, 0, 48, 0),  # windows starting at frames 0, 8, 16, 24, 32
        Segment(0.5, 1.0, 12, 24, 0),  # 12 frames: shorter than a window, no score
        Segment(1.0, 2.5, 24, 60, 0),  # windows at 24, 32, 40
        Segment(0.25, 2.0, 6, 48, 0),  # windows at 6, 14, 22, 30 (off the 8-frame grid)
    ]
    scores = scorer.score(SegmentFeatures(info=info, segments=segments))

    # Independently: every frame at full size from PyAV, resized as the release (the resize is
    # checked against scikit-image in test_original_release.py), NumPy forward.
    with av.open(str(pan_video)) as c:
        frames = [release_resize(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    assert len(frames) == 60

    def window_score(start: int) -> float:
        clip = release_preprocess(np.stack(frames[start:start + 16]), small_files["mean_array"])
        s = [np_head(np_c3d_fc6(c, small_files["params"]), small_files["head_params"])
             for c in (clip, clip[..., ::-1])]
        return float(np.mean(s))

    w = {s: window_score(s) for s in (0, 6, 8, 14, 16, 22, 24, 30, 32, 40)}
    np.testing.assert_allclose(scores[0], np.mean([w[s] for s in (0, 8, 16, 24, 32)]),
                               rtol=1e-4, atol=1e-5)
    assert np.isnan(scores[1])
    np.testing.assert_allclose(scores[2], np.mean([w[s] for s in (24, 32, 40)]),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(scores[3], np.mean([w[s] for s in (6, 14, 22, 30)]),
                               rtol=1e-4, atol=1e-5)
    described = scorer.describe()
    assert described["unscored_segments"] == 1 and "16 frames" in described["note"]


def test_each_window_is_averaged_with_its_mirror(small_files):
    """The mirror (flipped after the crop, as released) gives other activations for asymmetric
    content, and the window's score is the mean of the two scores, not the score of the mean."""
    import torch

    scorer = OriginalScorer.from_files(small_files["c3d"], small_files["mean"],
                                       small_files["head"], SMALL)
    clip = np.random.default_rng(8).integers(0, 256, (1, 16, 128, 171, 3), dtype=np.uint8)
    halves = scorer.windows.c3d.fc6_with_mirror(clip)
    assert not np.allclose(halves[0].numpy(), halves[1].numpy())
    with torch.inference_mode():
        each = scorer.windows.head(halves[:, 0]).numpy()
    np.testing.assert_allclose(scorer.windows.encode(clip)[0, 0], each.mean(), rtol=1e-6)


# -- wrong or missing files --------------------------------------------------------------------


def test_missing_file_is_named(small_files):
    os.remove(small_files["head"])
    with pytest.raises(ModelError, match="video2gif_weights.npz: missing"):
        OriginalScorer.from_dir(small_files["dir"])


def test_no_weights_dir_says_how_to_give_one(monkeypatch, tmp_path):
    monkeypatch.delenv("VIDEO2GIF_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(ModelError, match="--weights-dir"):
        load_model("video2gif-original")


def test_weights_dir_from_config_entry(monkeypatch, tmp_path):
    monkeypatch.delenv("VIDEO2GIF_WEIGHTS_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "video2gif").mkdir()
    (tmp_path / "video2gif" / "config.toml").write_text(f'weights_dir = "{tmp_path / "w"}"\n')
    (tmp_path / "w").mkdir()
    assert weights_dir(None) == tmp_path / "w"


def test_wrong_array_count(tmp_path):
    path = write_c3d_pickle(tmp_path / "c3d_model.pkl", lasagne_params(SMALL)[:-1])
    with pytest.raises(ModelError, match="holds 21 arrays"):
        load_c3d_weights(path, SMALL)


def test_wrong_shape_names_the_layer(tmp_path):
    params = lasagne_params(SMALL)
    params[6] = params[6][:, :, :2]  # conv3b W with a 2×3×3 kernel
    path = write_c3d_pickle(tmp_path / "c3d_model.pkl", params)
    with pytest.raises(ModelError, match=r"c3d_model.pkl: conv3b: W \(4, 3, 2, 3, 3\)"):
        load_c3d_weights(path, SMALL)


def test_released_size_is_expected_by_default(small_files):
    with pytest.raises(ModelError, match="conv1a.*expected W \\(64, 3, 3, 3, 3\\)"):
        load_c3d_weights(small_files["c3d"])


def test_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "c3d_model.pkl"
    path.write_bytes(pickle.dumps([Evil()], protocol=2))
    with pytest.raises(ModelError, match="only numpy arrays are allowed"):
        load_c3d_weights(path, SMALL)
    assert not marker.exists()


def test_not_a_pickle(tmp_path):
    path = tmp_path / "c3d_model.pkl"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ModelError, match="not a readable weights pickle"):
        read_legacy_pickle(path)


def test_head_without_arr_0(tmp_path):
    np.savez(tmp_path / "video2gif_weights.npz", weights=np.zeros(3))
    with pytest.raises(ModelError, match="no key 'arr_0' \\(keys: weights\\)"):
        load_head_weights(tmp_path / "video2gif_weights.npz")


def test_head_with_five_arrays(tmp_path):
    path = write_head_npz(tmp_path / "video2gif_weights.npz", head_params(4096)[:5])
    with pytest.raises(ModelError, match="holds 5 arrays; expected 6"):
        load_head_weights(path)


def test_head_wrong_shape(tmp_path):
    params = head_params(4096)
    params[2] = params[2][:, :64]
    path = write_head_npz(tmp_path / "video2gif_weights.npz", params)
    with pytest.raises(ModelError, match=r"h2: W \(512, 64\)"):
        load_head_weights(path)


def test_head_not_a_zip(tmp_path):
    path = tmp_path / "video2gif_weights.npz"
    path.write_bytes(b"PK but not really")
    with pytest.raises(ModelError, match="not an .npz archive"):
        load_head_weights(path)


def test_head_object_array_refuses_code(tmp_path):
    path = tmp_path / "video2gif_weights.npz"
    with zipfile.ZipFile(path, "w") as z:
        header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
        header += " " * ((16 - (11 + len(header)) % 16) % 16) + "\n"
        z.writestr("arr_0.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                   + header.encode() + pickle.dumps(os.getcwd, protocol=2))
    with pytest.raises(ModelError, match="only numpy arrays"):
        load_head_weights(path)


def test_mean_wrong_shape(tmp_path):
    path = write_mean_npy(tmp_path / "snipplet_mean.npy", np.zeros((3, 16, 112, 112)))
    with pytest.raises(ModelError,
                       match=r"shape \(3, 16, 112, 112\).*expected \(3, 16, 128, 171\)"):
        load_snippet_mean(path)


def test_mean_with_batch_axis_is_accepted(tmp_path):
    path = write_mean_npy(tmp_path / "m.npy", np.ones((1, 3, 16, 128, 171)))
    assert load_snippet_mean(path).shape == (3, 16, 128, 171)


def test_fraction_frame_rate_windows(tmp_path, small_files):
    """Windows are counted in frames, whatever the frame rate: 30000/1001 fps, 40 frames →
    windows at 0, 8, 16, 24 (on the grid placement, in the shared pass)."""
    gen = synthetic.moving(3)
    video = synthetic.write_video(tmp_path / "ntsc.mp4", [gen(i) for i in range(40)],
                                  fps=Fraction(30000, 1001))
    scorer = OriginalScorer.from_files(small_files["c3d"], small_files["mean"],
                                       small_files["head"], SMALL, windows="grid")
    (collector,) = scorer.consumers()
    decode_pass(video, [collector])
    windows = collector.result
    assert collector.starts.tolist() == [0, 8, 16, 24]
    np.testing.assert_allclose(windows.times * 30000 / 1001, [0, 8, 16, 24], atol=1e-3)
    np.testing.assert_allclose((windows.ends - windows.times) * 30000 / 1001, 15, atol=1e-3)


# -- the command line with files of the released sizes -----------------------------------------


def test_make_with_the_original_model(tmp_path, capsys):
    """`video2gif make --model video2gif-original --weights-dir DIR` with files of the released
    shapes (random weights; fc7 and fc8 left out, as the importer allows: 0.25 GB instead of
    0.3 GB) on a 32-frame clip with the release tutorial's candidates: one segment, frames 0 to
    32, three windows from its first frame, scored with their mirrors."""
    from video2gif.cli import main

    noise = np.random.default_rng(9).standard_normal(1 << 20, dtype=np.float32)
    params = []
    for w_shape, b_shape in C3DConfig().shapes().values():
        fan_in = int(np.prod(w_shape[1:])) if len(w_shape) == 5 else w_shape[0]
        w = np.resize(noise, w_shape)  # repeated noise: fast to make, and enough here
        w *= np.float32(np.sqrt(2 / fan_in))
        params += [w, np.full(b_shape, 0.01, np.float32)]
    weights = tmp_path / "weights"
    weights.mkdir()
    write_c3d_pickle(weights / "c3d_model.pkl", params)
    del params, w
    write_mean_npy(weights / "snipplet_mean.npy", np.full((3, 16, 128, 171), 100, np.float32))
    write_head_npz(weights / "video2gif_weights.npz", head_params(4096))
    gen = synthetic.moving(11, speed=4)
    video = synthetic.write_video(tmp_path / "clip.mp4", [gen(i) for i in range(32)], fps=24)

    with pytest.raises(SystemExit) as exit_info:
        main(["make", str(video), "-o", str(tmp_path / "out"), "-k", "1", "--model",
              "video2gif-original", "--weights-dir", str(weights), "--backbone", "none",
              "--no-cache", "--candidates", "uniform5", "-q"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 0, err
    doc = __import__("json").loads((tmp_path / "out" / "clip" / "segments.json").read_text())
    assert doc["model"]["name"] == "video2gif-original"
    assert doc["model"]["unscored_segments"] == 0
    assert doc["model"]["windows"]["placement"] == "segment"
    assert doc["model"]["windows"]["computed"] == 3
    assert [(s["start_frame"], s["end_frame"]) for s in doc["segments"]] == [(0, 32)]
    assert all(isinstance(s["score"], float) for s in doc["segments"])
    assert (tmp_path / "out" / "clip" / "01.gif").is_file()


def test_make_with_a_broken_weights_folder_is_one_line(tmp_path, capsys, small_files):
    from video2gif.cli import main

    os.remove(small_files["c3d"])
    with pytest.raises(SystemExit) as exit_info:
        main(["make", "whatever.mp4", "-o", str(tmp_path / "out"), "--model",
              "video2gif-original", "--weights-dir", str(small_files["dir"])])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1
    assert err == f"video2gif: error: {small_files['c3d']}: missing: the weights folder needs " \
                  "c3d_model.pkl\n"
