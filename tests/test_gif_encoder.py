"""video2gif.gif: the encoder's own exactness, checked by decoding its GIFs with Pillow."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from video2gif.gif import (Settings, _threads, dither, encode_gif, encoder, lzw, quantize,
                           settings_for, writer)
from video2gif.gif.colour import L_WEIGHT, oklab_to_srgb, srgb_to_oklab

from . import synthetic


def decode(data: bytes) -> tuple[Image.Image, list[int], list[np.ndarray]]:
    """The GIF, each frame's delay in ms, and each frame as shown (composited) in RGB."""
    im = Image.open(io.BytesIO(data))
    delays, pictures = [], []
    for k in range(im.n_frames):
        im.seek(k)
        delays.append(im.info["duration"])
        pictures.append(np.asarray(im.convert("RGB")))
    return im, delays, pictures


def few_colour_frames(n: int = 12, size=(40, 64)) -> list[np.ndarray]:
    """A 6-colour picture with a square moving over it and a slow change in one corner."""
    rng = np.random.default_rng(5)
    colours = rng.integers(0, 256, (6, 3), dtype=np.uint8)
    base = colours[rng.integers(0, 6, size)]
    frames = []
    for i in range(n):
        f = base.copy()
        f[5:15, 3 * i : 3 * i + 10] = colours[i % 6]
        f[-8:, -8:] = np.clip(base[-8:, -8:].astype(int) + i, 0, 255)  # 1 level per frame
        frames.append(f)
    return frames


def oklab_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(srgb_to_oklab(a) - srgb_to_oklab(b), axis=-1)


def test_oklab_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (5000, 3), dtype=np.uint8)
    assert np.abs(oklab_to_srgb(srgb_to_oklab(rgb)).astype(int) - rgb).max() <= 1
    white = srgb_to_oklab(np.array([255, 255, 255], np.uint8))
    assert white[0] == pytest.approx(L_WEIGHT, abs=1e-3) and np.abs(white[1:]).max() < 1e-3


@pytest.mark.parametrize("min_size,n", [(2, 4), (5, 32), (8, 256)])
def test_exact_lzw_decodes_to_the_same_indices(min_size, n):
    """Random indices (worst case: the table fills and clears many times) survive Pillow."""
    rng = np.random.default_rng(min_size)
    idx = rng.integers(0, n, (97, 131), dtype=np.uint8)
    idx[40:60] = 1  # long runs too
    data, used = lzw.encode(idx, min_size)
    assert np.array_equal(used, idx)
    palette = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    gif = (writer.header(131, 97) + writer.frame((0, 0, 131, 97), palette, data, 10, None)
           + writer.TRAILER)  # fmt: skip
    im = Image.open(io.BytesIO(gif))
    assert np.array_equal(np.asarray(im.convert("RGB")), palette[idx])


def test_frame_count_timing_and_loop():
    frames = [synthetic.textured(s)[:48, :80] for s in range(5)]
    holds = [1, 3, 2, 1, 4]
    g = encode_gif(frames, holds, 12.5, settings_for(90), keep_shown=True)
    im, delays, pictures = decode(g.data)
    assert im.info["loop"] == 0 and im.n_frames == 5 == len(g.holds)
    assert g.holds == tuple(holds)
    assert delays == [10 * d for d in g.delays_cs] == [80, 240, 160, 80, 320]
    assert sum(delays) == pytest.approx(1000 * sum(holds) / 12.5, abs=10)
    for shown, picture in zip(g.shown, pictures):
        assert np.array_equal(shown, picture)


def test_delays_keep_the_loop_length_at_rates_centiseconds_cannot_hold():
    frames = [np.full((8, 8, 3), 20 * i, np.uint8) for i in range(12)]
    g = encode_gif(frames, [1] * 12, 12.0)
    assert set(g.delays_cs) <= {8, 9} and sum(g.delays_cs) == 100


@pytest.mark.parametrize("quality", [100, 90, 50, 10])
def test_what_is_decoded_is_what_the_encoder_meant_within_its_tolerance(quality):
    """Transparency, cropping, merging and lossy coding: Pillow's composited frame equals the
    encoder's own screen exactly, and (every colour in the palette, no dithering) each pixel is
    within the settings' declared tolerance of the source."""
    frames = few_colour_frames()
    settings = replace(settings_for(quality), dither="none")
    g = encode_gif(frames, [1] * len(frames), 12, settings, keep_shown=True)
    _, _, pictures = decode(g.data)
    assert len(pictures) == len(g.holds) and sum(g.holds) == len(frames)
    tick = 0
    for shown, picture, hold in zip(g.shown, pictures, g.holds):
        assert np.array_equal(shown, picture)
        for source in frames[tick : tick + hold]:  # a merged frame stands for all its ticks
            assert oklab_distance(picture, source).max() <= settings.tolerance + 1e-4
        tick += hold
    if quality == 100:  # nothing lossy: the moving square is drawn exactly where it is
        assert all(np.array_equal(p[5:15], f[5:15]) for p, f in zip(pictures, frames))


def test_unchanged_pixels_are_transparent_and_frames_cropped():
    frames = few_colour_frames()
    g = encode_gif(frames, [1] * len(frames), 12, settings_for(100))
    controls = g.data.split(b"\x21\xf9\x04")[1:]  # graphic control extensions, one per frame
    assert len(controls) == len(frames)
    assert [c[0] & 1 for c in controls] == [0] + [1] * (len(frames) - 1)  # transparency flag
    assert all((c[0] >> 2) & 7 == writer.DISPOSE_KEEP for c in controls)
    im = Image.open(io.BytesIO(g.data))
    im.seek(3)
    left, top = im.tile[0][1][:2]
    assert (left, top) == (6, 5)  # cropped: from where the square was (x 6) to the corner


def test_identical_frames_merge_into_one_longer_frame():
    a, b = synthetic.textured(1)[:32, :32], synthetic.textured(2)[:32, :32]
    g = encode_gif([a, a.copy(), a.copy(), b], [1, 2, 1, 1], 10, keep_shown=True)
    assert g.holds == (4, 1) and g.delays_cs == (40, 10)
    _, delays, pictures = decode(g.data)
    assert delays == [400, 100] and len(pictures) == 2


def test_lower_quality_gives_smaller_files_of_the_same_frames():
    gen = synthetic.moving(2, speed=1)
    frames = [gen(i) for i in range(12)]
    sizes = [len(encode_gif(frames, [1] * 12, 12, settings_for(q)).data) for q in (100, 70, 30)]
    assert sizes[0] > sizes[1] > sizes[2]


def build_palette(rgb: np.ndarray, n: int) -> np.ndarray:
    """The encoder's palette of the (N, 3) pixels ``rgb``, all drawn, each weighing the same."""
    image = np.ascontiguousarray(rgb[None], np.uint8)
    box = (0, 1, 0, len(rgb))
    return quantize.frame_palette(image, srgb_to_oklab(image), np.ones((1, len(rgb)), bool), box,
                                  n, None, 0.0, 0.01, quantize.Histogram())


def test_palette_keeps_few_colours_exactly_and_stays_in_budget():
    rgb = np.array([[1, 2, 3], [200, 100, 0], [1, 2, 3]], np.uint8)
    assert sorted(map(tuple, build_palette(rgb, 8))) == [(1, 2, 3),
                                                                          (200, 100, 0)]
    many = np.random.default_rng(1).integers(0, 256, (20000, 3), dtype=np.uint8)
    assert len(build_palette(many, 16)) <= 16


@pytest.mark.parametrize("dither", ["sierra2_4a", "floyd_steinberg", "atkinson", "bayer", "none"])
def test_every_dither_decodes_exactly(dither):
    frames = [synthetic.textured(s)[:32, :48] for s in range(3)]
    g = encode_gif(frames, [1, 1, 1], 10, replace(Settings(), dither=dither, colours=16),
                   keep_shown=True)
    _, _, pictures = decode(g.data)
    assert all(np.array_equal(s, p) for s, p in zip(g.shown, pictures))
    assert all(len(np.unique(p.reshape(-1, 3), axis=0)) <= 16 * 3 for p in pictures)


def test_bad_settings_are_refused():
    frame = [np.zeros((4, 4, 3), np.uint8)]
    with pytest.raises(ValueError, match="dither"):
        encode_gif(frame, [1], 10, Settings(dither="random"))
    with pytest.raises(ValueError, match="colours"):
        encode_gif(frame, [1], 10, Settings(colours=1))


def test_coding_behind_the_ditherer_gives_the_same_bytes(monkeypatch):
    """With a core to spare, the LZW coder follows the ditherer band by band on another thread;
    the GIF is byte for byte the one coded after dithering."""
    gen = synthetic.moving(4, speed=3)
    frames = [np.kron(gen(i), np.ones((2, 2, 1), np.uint8)) for i in range(6)]  # 320×192
    assert frames[0].shape[0] >= 2 * encoder.BAND_ROWS
    assert frames[0].shape[0] * frames[0].shape[1] >= encoder.PIPELINE_PIXELS
    steps = []
    code = lzw.Coder.code
    monkeypatch.setattr(lzw.Coder, "code", lambda self, end, final=False: (
        steps.append(final), code(self, end, final)))
    monkeypatch.setattr(_threads, "CORES", 2)
    followed = encode_gif(frames, [1] * 6, 12, settings_for(70))
    assert steps.count(False) >= 6 * 2  # each frame coded in bands
    monkeypatch.setattr(_threads, "CORES", 1)  # one GIF already uses the one core: no helper
    alone = encode_gif(frames, [1] * 6, 12, settings_for(70))
    assert followed.data == alone.data


def test_a_failing_ditherer_releases_the_coder(monkeypatch):
    gen = synthetic.moving(4, speed=3)
    frames = [np.kron(gen(i), np.ones((2, 2, 1), np.uint8)) for i in range(2)]
    monkeypatch.setattr(_threads, "CORES", 2)
    rows = dither.Remap.rows

    def fail_below_the_top(self, y0, y1):
        if y0 > 0:
            raise MemoryError("no room")
        rows(self, y0, y1)

    monkeypatch.setattr(dither.Remap, "rows", fail_below_the_top)
    with pytest.raises(MemoryError) as failed:
        encode_gif(frames * 5, [1] * 10, 12)  # more frames than are prepared ahead
    # stopped when the encoder failed, not later when its traceback (held here) is freed
    assert failed.traceback and not [t for t in threading.enumerate() if t.name == "gif-frames"]


@pytest.mark.parametrize("quality", [100, 90, 50])  # 100: not denoised, 50: 3×3 means
def test_colours_prepared_ahead_give_the_same_bytes(monkeypatch, quality):
    """With a core to spare, a thread converts (and denoises) the frames' colours a few frames
    ahead of the encoder, into buffers that frames reuse; the GIF is byte for byte the one made
    on one thread, also when the encoder is slower than the thread (it then runs far ahead)."""
    gen = synthetic.moving(4, speed=3)
    frames = [gen(i) for i in range(12)]
    made = []
    paint = encoder._paint
    for cores in (2, 1):
        monkeypatch.setattr(_threads, "CORES", cores)
        made.append(encode_gif(frames, [1] * 12, 12, settings_for(quality)).data)
    monkeypatch.setattr(_threads, "CORES", 2)
    monkeypatch.setattr(encoder, "_paint", lambda *a: (time.sleep(0.01), paint(*a)))
    made.append(encode_gif(frames, [1] * 12, 12, settings_for(quality)).data)
    assert made[0] == made[1] == made[2]


def test_work_ahead_keeps_order_raises_errors_and_stops_when_closed():
    assert list(_threads.ahead(iter(range(20)), 2)) == list(range(20))

    def failing():
        yield 1
        raise ValueError("frame 2 is damaged")

    with pytest.raises(ValueError, match="damaged"):
        list(_threads.ahead(failing(), 2))
    made = []

    def counted():
        for i in range(100):
            made.append(i)
            yield i

    items = _threads.ahead(counted(), 2)
    assert next(items) == 0
    time.sleep(0.05)  # the producer fills the queue and waits
    items.close()  # the encoder failed: the producer stops before its next item
    assert len(made) == 4  # the consumer's, 2 waiting, 1 made before it waited
    assert not [t for t in threading.enumerate() if t.name == "gif-frames"]


def test_work_ahead_does_not_wait_for_a_source_it_is_not_in():
    """Closed while the producer waits to hand an item over, it does not pull another from a
    source that would block (a decode that the failed encode will cancel)."""
    gate = threading.Event()

    def blocking():
        yield from range(3)
        gate.wait(2.0)  # blocks until released (2 s at most: a wrong version fails, not hangs)
        yield 3

    items = _threads.ahead(blocking(), 1)
    assert next(items) == 0
    time.sleep(0.05)
    started = time.perf_counter()
    items.close()
    assert time.perf_counter() - started < 1.0
    gate.set()


def test_a_frame_source_failing_midway_fails_the_gif(monkeypatch):
    gen = synthetic.moving(4, speed=3)
    monkeypatch.setattr(_threads, "CORES", 2)

    class Frames:  # a sequence whose fifth frame cannot be read
        def __getitem__(self, i):
            if i == 4:
                raise OSError("read failed")
            return gen(i)

        def __iter__(self):
            return (self[i] for i in range(8))

    with pytest.raises(OSError, match="read failed"):
        encode_gif(Frames(), [1] * 8, 12)
    assert not [t for t in threading.enumerate() if t.name == "gif-frames"]


def test_k_means_shared_with_a_spare_core_gives_the_same_palette(monkeypatch):
    rgb = np.random.default_rng(3).integers(0, 256, (60000, 3), dtype=np.uint8)
    assert len(np.unique(rgb >> 3, axis=0)) >= quantize.KMEANS_SHARED  # bins: more than that
    monkeypatch.setattr(_threads, "CORES", 2)
    shared = build_palette(rgb, 64)
    monkeypatch.setattr(_threads, "CORES", 0)  # no core to spare
    alone = build_palette(rgb, 64)
    assert np.array_equal(shared, alone)


WARM_UP_SWEEP = """
import json, sys
import numpy as np
from numba.core.dispatcher import Dispatcher
from video2gif.gif import (colour, denoise, dither, encode_gif, encoder, lzw, quantize,
                           settings_for, thin, warm_up)
sys.path.insert(0, sys.argv[1])
import synthetic

modules = (colour, denoise, dither, encoder, lzw, quantize, thin)

def compiled():
    return {f"{m.__name__}.{name}": len(k.signatures) for m in modules
            for name, k in vars(m).items()
            if isinstance(k, Dispatcher) and k.py_func.__module__ == m.__name__}

warm_up()
before = compiled()
frames = [synthetic.moving(3)(i) for i in range(8)]  # textured and moving: many colours
for quality in (100, 90, 70, 50, 10):
    for method in encoder.DITHERS:
        encode_gif(frames, [1] * len(frames), 12.0, settings_for(quality, dither=method))
big = [np.kron(f, np.ones((2, 2, 1), np.uint8)) for f in frames[:3]]  # the helper-thread paths
for quality in (90, 50):
    for colours in (256, 16):
        encode_gif(big, [1] * len(big), 12.0, settings_for(quality, colours=colours))
print(json.dumps([before, compiled()]))
"""


def test_warm_up_compiles_every_kernel_a_gif_uses():
    """After ``warm_up`` (``make setup`` runs it), GIFs of every setting and dither, with full and
    cropped redraws, compile nothing more: the first real GIF does not wait for the compiler.
    In a fresh interpreter, so that kernels compiled by other tests do not count."""
    pytest.importorskip("numba")
    tests = str(Path(__file__).resolve().parent)
    run = subprocess.run([sys.executable, "-c", WARM_UP_SWEEP, tests], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    before, after = json.loads(run.stdout)
    assert sum(n > 0 for n in before.values()) >= 15, before
    assert after == before


WITHOUT_NUMBA = """
import io, sys, warnings
sys.modules["numba"] = None  # as on a machine where numba cannot be installed
import numpy as np
from PIL import Image
from video2gif.errors import Video2GifWarning
from video2gif.gif import _jit, encode_gif, settings_for, warm_up
assert not _jit.HAVE_NUMBA
warm_up()  # nothing to compile: returns
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    encode_gif([np.zeros((4, 4, 3), np.uint8)], [1], 12.0)
assert [w.category for w in caught] == [Video2GifWarning], caught  # the user is told why
rng = np.random.default_rng(0)
first = rng.integers(0, 256, (24, 32, 3), np.uint8)
patched = first.copy()
patched[8:16, 8:20] = 7
for quality in (100, 90, 50):
    for dither in ("sierra2_4a", "bayer"):
        gif = encode_gif([first, patched, first], [1, 2, 1], 12.0,
                         settings_for(quality, dither=dither), keep_shown=True)
        im = Image.open(io.BytesIO(gif.data))
        assert im.n_frames == len(gif.shown) == 3, (quality, dither)
        for k, shown in enumerate(gif.shown):
            im.seek(k)
            assert (np.asarray(im.convert("RGB")) == shown).all(), (quality, dither, k)
print("ok")
"""


def test_the_encoder_works_without_numba():
    """numba is optional for the package to work: its kernels then run as plain Python (slowly,
    which a warning says), and the GIFs still decode to what the encoder meant to show."""
    run = subprocess.run([sys.executable, "-c", WITHOUT_NUMBA], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
