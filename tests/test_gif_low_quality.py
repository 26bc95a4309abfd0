"""video2gif.gif at low quality: the temporal denoise and the palette thinning keep their bounds,
and a GIF made with them decodes to what the encoder meant, within the declared tolerance."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
from PIL import Image

from video2gif.gif import Settings, encode_gif, settings_for
from video2gif.gif.colour import srgb_to_oklab
from video2gif.gif.denoise import RADIUS, streamed
from video2gif.gif.thin import thin_palette


def noisy_frames(n: int = 10, size=(32, 48), noise: int = 6) -> list[np.ndarray]:
    """A still grey ramp with sensor-like noise, and a bright square moving across it."""
    rng = np.random.default_rng(3)
    ramp = np.linspace(40, 200, size[1])[None, :, None].repeat(size[0], 0).repeat(3, 2)
    frames = []
    for i in range(n):
        f = ramp + rng.normal(0, noise, ramp.shape)
        f[8:18, 4 * i : 4 * i + 10] = (250, 30, 30)
        frames.append(np.clip(np.round(f), 0, 255).astype(np.uint8))
    return frames


def test_denoise_stays_within_its_threshold_and_quiets_noise():
    labs = np.stack([srgb_to_oklab(f) for f in noisy_frames()])
    out = np.stack([lab for _image, lab in streamed(noisy_frames(), 0.05)])
    assert np.linalg.norm(out - labs, axis=-1).max() <= 0.05 + 1e-6
    still = (slice(None), slice(22, None))  # below the moving square: only noise changes
    assert out[still].std(0).mean() < 0.7 * labs[still].std(0).mean()
    # the square (far more than 0.05 from the ramp) is not smeared into the frames around it
    assert np.allclose(out[3, 8:18, 14:22], labs[3, 8:18, 14:22], atol=1e-6)


def test_streamed_denoise_is_the_weighted_mean_and_reads_ahead_only_its_radius():
    """Each frame is the mean of the 5 around it weighted ``1 - d²/t²`` (a direct float64
    reference), given out as soon as the frame 2 after it is read; 1 frame alone is unchanged."""
    frames, t = noisy_frames(7), 0.05
    labs = np.stack([srgb_to_oklab(f) for f in frames]).astype(np.float64)
    reference = []
    for i in range(len(frames)):
        near = labs[max(0, i - RADIUS) : i + RADIUS + 1]
        w = np.clip(1 - np.sum((near - labs[i]) ** 2, -1) / t**2, 0, None)[..., None]
        reference.append((w * near).sum(0) / w.sum(0))
    read = []

    def source():
        for f in frames:
            read.append(f)
            yield f

    out = []
    for k, (image, lab) in enumerate(streamed(source(), t)):
        assert len(read) == min(len(frames), k + RADIUS + 1) and np.array_equal(image, frames[k])
        out.append(lab)
    assert np.allclose(np.stack(out), np.stack(reference), atol=1e-6)
    (image, lab), = streamed(frames[:1], t)
    assert np.array_equal(lab, srgb_to_oklab(frames[0]))


def test_thinning_keeps_entries_and_moves_none_by_more_than_the_gap():
    greys = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, 1)
    lab = srgb_to_oklab(greys)
    for gap in (0.01, 0.03):
        keep = thin_palette(lab, gap)
        assert len(keep) < 256 and np.all(np.diff(keep) > 0)
        nearest = np.linalg.norm(lab[:, None] - lab[keep][None], axis=-1).min(1)
        assert nearest.max() < gap
    assert np.array_equal(thin_palette(lab, 0.0), np.arange(256))


def test_low_quality_uses_denoise_and_thinning_and_decodes_within_tolerance():
    frames = noisy_frames()
    settings = replace(settings_for(40), dither="none")
    assert settings.denoise > 0 and settings.palette_gap > 0
    assert settings_for(70).palette_gap == 0 and settings_for(100).denoise == 0
    denoised = [settings_for(q).denoise for q in (95, 90, 70, 50, 40)]  # more toward low quality
    assert 0 < denoised[0] and denoised == sorted(denoised)
    g = encode_gif(frames, [1] * len(frames), 12, settings, keep_shown=True)
    im = Image.open(io.BytesIO(g.data))
    tick = 0
    for k, (shown, hold) in enumerate(zip(g.shown, g.holds)):
        im.seek(k)
        picture = np.asarray(im.convert("RGB"))
        assert np.array_equal(shown, picture)
        for source in frames[tick : tick + hold]:
            d = np.linalg.norm(srgb_to_oklab(picture) - srgb_to_oklab(source), axis=-1)
            # palette quantisation error comes on top of the declared tolerance (the noisy ramp
            # has more colours than a palette holds), so check the bulk rather than the max
            assert np.quantile(d, 0.99) <= settings.tolerance
        tick += hold
    plain = encode_gif(frames, [1] * len(frames), 12, replace(settings, denoise=0.0))
    assert len(g.data) < len(plain.data)


def test_denoise_and_gap_are_part_of_the_tolerance():
    s = Settings(keep_tolerance=0.01, lossy_tolerance=0.02, denoise=0.03, palette_gap=0.01)
    assert abs(s.tolerance - (0.01 + 0.04 + 0.06 + 0.01)) < 1e-12


def stripes_moving(n: int = 8, size=(24, 48), levels=(112, 134)) -> list[np.ndarray]:
    """Fine vertical stripes (2 px of each grey) shifting right by 1 px a frame: slowly moving
    texture, whose signed changes cancel in a 3×3 mean."""
    cols = np.arange(size[1])
    frames = []
    for i in range(n):
        grey = np.where(((cols - i) // 2) % 2 == 0, *levels).astype(np.uint8)
        frames.append(np.repeat(np.repeat(grey[None, :, None], size[0], 0), 3, 2))
    return frames


def test_slowly_moving_texture_is_redrawn_at_quality_50():
    frames = stripes_moving()
    contrast = np.linalg.norm(np.diff(srgb_to_oklab(frames[0][:1, :3]), axis=1), axis=-1).max()
    # nothing but the redraw rule may differ from the source: exact LZW, no denoise, no merging
    settings = replace(settings_for(50), dither="none", lossy_tolerance=0.0, denoise=0.0,
                       palette_gap=0.0)
    assert settings.keep_blur and settings.keep_group > 0
    # past the keep tolerance, but below the lone-pixel threshold and cancelling in the mean
    assert settings.keep_tolerance < contrast < settings.keep_tolerance * settings.keep_single

    def worst(s: Settings) -> float:
        g = encode_gif(frames, [1] * len(frames), 12, s, keep_shown=True)
        tick, errors = 0, []
        for shown, hold in zip(g.shown, g.holds):
            for source in frames[tick : tick + hold]:
                d = np.linalg.norm(srgb_to_oklab(shown) - srgb_to_oklab(source), axis=-1)
                errors.append(d.max())
            tick += hold
        return max(errors)

    assert worst(settings) <= settings.keep_tolerance + 1e-3
    assert worst(replace(settings, keep_group=0)) > settings.keep_tolerance  # the mean alone: stale
