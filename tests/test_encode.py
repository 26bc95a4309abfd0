"""encode: looping GIFs (video2gif.gif), WebP and MP4, the byte budget ladder, atomic output."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from video2gif import encode
from video2gif.decode import read_range
from video2gif.encode import (
    EncodedOutput,
    EncodeOptions,
    encode_segment,
    write_gif,
    write_mp4,
    write_webp,
)
from video2gif.errors import EncodeError, InputError, UsageError

from . import synthetic
from .conftest import media


def gif_frames(path: Path) -> tuple[Image.Image, list[int], list[np.ndarray]]:
    """The opened GIF or WebP, each frame's duration in ms, and each frame as RGB."""
    im = Image.open(path)
    durations, images = [], []
    for k in range(im.n_frames):
        im.seek(k)
        im.load()  # WebP sets the duration only once the frame is loaded
        durations.append(im.info["duration"])
        images.append(np.asarray(im.convert("RGB")))
    return im, durations, images


def blurred_error(a: np.ndarray, b: np.ndarray, k: int = 4) -> float:
    """Mean absolute difference of k×k block means: dithering noise averages out, content not."""
    h, w = a.shape[0] // k * k, a.shape[1] // k * k
    blocks = [x[:h, :w].astype(float).reshape(h // k, k, w // k, k, 3).mean((1, 3)) for x in (a, b)]
    return float(np.abs(blocks[0] - blocks[1]).mean())


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


@pytest.fixture(scope="module")
def pan_video(tmp_path_factory) -> Path:
    """24 fps, 160×96, 3 s: a random-colour texture panning 2 px per frame (synthetic.moving)."""
    gen = synthetic.moving(1, speed=2)
    path = tmp_path_factory.mktemp("pan") / "pan.mp4"
    return synthetic.write_video(path, [gen(i) for i in range(72)], fps=24)


@pytest.fixture(scope="module")
def wide_pan_video(tmp_path_factory) -> Path:
    """24 fps, 320×192, 2 s: synthetic.moving(7) upscaled 2× by pixel repetition."""
    gen = synthetic.moving(7, speed=2)
    frames = [np.repeat(np.repeat(gen(i), 2, axis=0), 2, axis=1) for i in range(48)]
    path = tmp_path_factory.mktemp("wide") / "wide.mp4"
    return synthetic.write_video(path, frames, fps=24)


def test_gif_loops_forever_at_the_output_rate(pan_video, tmp_path):
    out = tmp_path / "pan.gif"
    result = encode_segment(pan_video, 0.5, 2.5, out, EncodeOptions(width=128, fps=12))
    im, durations, _ = gif_frames(out)
    assert im.format == "GIF" and im.info["loop"] == 0
    assert im.n_frames == result.frames == 24  # 2 s × 12 fps, each source frame distinct
    # 160×96 read at 128×77, then rounded to an even height
    assert im.size == (result.width, result.height) == (128, 78)
    assert sum(durations) == pytest.approx(2000, abs=10)
    assert all(80 <= d <= 90 for d in durations)  # 1/12 s in GIF centiseconds
    assert result == EncodedOutput(
        path=out, format="gif", bytes=out.stat().st_size, width=128, height=78, fps=12.0,
        frames=24, duration=2.0, colours=256, attempts=1, quality=90,
    )  # fmt: skip
    assert leftovers(tmp_path, keep=set()) == ["pan.gif"]  # no temporary file left


def test_gif_looks_like_the_source(pan_video, tmp_path):
    """At the source size, the palette and dithering keep every frame close to the original."""
    out = tmp_path / "same.gif"
    encode_segment(pan_video, 0.0, 1.0, out, EncodeOptions(fps=24))
    source = [f.image for f in read_range(pan_video, 0.0, 1.0)]
    _, _, frames = gif_frames(out)
    assert len(frames) == len(source) == 24
    errors = [blurred_error(a, b) for a, b in zip(frames, source)]
    assert max(errors) < 8  # on 0-255; the next frame of this pan is about 23 away
    # Frames are picked by timestamp: frame k of the GIF is source frame k, not a neighbour.
    assert blurred_error(frames[5], source[6]) > 3 * errors[5]


def test_never_upscales_and_dither_choices(pan_video, tmp_path):
    sizes = {}
    for dither in ("sierra2_4a", "ordered", "none"):
        out = tmp_path / f"{dither}.gif"
        result = encode_segment(pan_video, 0.0, 1.0, out, EncodeOptions(dither=dither))
        assert (result.width, result.height) == (160, 96)  # asked for 480, source is 160
        assert Image.open(out).size == (160, 96)
        sizes[dither] = result.bytes
    assert len(set(sizes.values())) == 3  # each dither really changes the output


def test_timestamps_drive_timing_for_variable_frame_rate(tmp_path):
    """1 s at 24 fps, then 1 s at 6 fps: the slow half's frames are held, not repeated."""
    gen = synthetic.moving(3, speed=3)
    pts = [i * 4 for i in range(24)] + [96 + i * 16 for i in range(6)]  # time base 1/96 s
    video = synthetic.write_video(
        tmp_path / "vfr.mp4", [gen(i) for i in range(30)], fps=24, pts=pts,
        time_base=Fraction(1, 96),
    )  # fmt: skip
    out = tmp_path / "vfr.gif"
    result = encode_segment(video, 0.0, 2.0, out, EncodeOptions(fps=12))
    _, durations, _ = gif_frames(out)
    assert result.frames == len(durations) == 12 + 6
    assert result.duration == pytest.approx(2.0)
    assert all(80 <= d <= 90 for d in durations[:12])
    assert all(160 <= d <= 170 for d in durations[12:])  # held two ticks each
    assert sum(durations) == pytest.approx(2000, abs=10)


def test_rotated_input_gives_rotated_output(tmp_path):
    gen = synthetic.moving(4)
    video = synthetic.write_video(
        tmp_path / "rot.mp4", [gen(i) for i in range(24)], fps=24, rotation=90
    )
    result = encode_segment(video, 0.0, 1.0, tmp_path / "rot.gif", EncodeOptions(width=48))
    assert (result.width, result.height) == (48, 80)  # 96×160 displayed, scaled to 48 wide
    assert Image.open(result.path).size == (48, 80)


def test_a_tight_budget_lowers_quality_first(pan_video, tmp_path):
    full = encode_segment(pan_video, 0.0, 3.0, tmp_path / "full.gif")
    assert full.quality == encode.QUALITY
    budget = int(full.bytes * 0.9)
    out = tmp_path / "tight.gif"
    result = encode_segment(pan_video, 0.0, 3.0, out, EncodeOptions(max_bytes=budget))
    assert result.bytes == out.stat().st_size <= budget
    assert result.quality < full.quality and result.quality in encode.QUALITY_STEPS
    assert (result.fps, result.width, result.colours) == (12, 160, 256)
    assert result.attempts >= 2
    assert Image.open(out).n_frames == result.frames == 36


def test_budget_steps_quality_then_fps_then_width_then_colours(wide_pan_video, tmp_path):
    lowest = encode.QUALITY_STEPS[-1]

    def encode_at(name, **kw):
        options = EncodeOptions(width=320, fps=12, max_bytes=None)
        return encode_segment(
            wide_pan_video, 0.0, 2.0, tmp_path / name, dataclasses.replace(options, **kw)
        )

    plain = encode_at("plain.gif", quality=lowest)  # the last quality rung, nothing else lowered
    slowest = encode_at("slowest.gif", quality=lowest, fps=6)  # the last fps rung at full width
    smallest = encode_at("smallest.gif", quality=lowest, fps=6, width=160)  # the last width rung
    # Just under the lowest quality: the frame rate must give next.
    result = encode_at("fps.gif", max_bytes=plain.bytes - 1)
    assert result.bytes <= plain.bytes - 1
    assert result.quality == lowest and result.fps < 12 and result.width == 320
    # Just under the slowest full-width file: fps is exhausted, so the width must give.
    result = encode_at("width.gif", max_bytes=slowest.bytes - 1)
    assert result.bytes <= slowest.bytes - 1
    assert (result.quality, result.fps, result.colours) == (lowest, 6.0, 256)
    assert 160 <= result.width < 320
    # Just under the smallest 256-colour file: only the palette is left to shrink.
    result = encode_at("colours.gif", max_bytes=smallest.bytes - 1)
    assert result.bytes <= smallest.bytes - 1
    assert result.fps == 6.0 and result.width == 160 and result.colours < 256
    im = Image.open(result.path)
    assert im.size == (result.width, result.height) and im.n_frames == result.frames <= 12


def test_quality_is_an_option_and_lower_is_smaller(pan_video, tmp_path):
    sizes = [encode_segment(pan_video, 0.0, 2.0, tmp_path / f"q{q}.gif",
                            EncodeOptions(quality=q, max_bytes=None)).bytes
             for q in (100, 60, 20)]  # fmt: skip
    assert sizes[0] > sizes[1] > sizes[2]
    with pytest.raises(UsageError, match="--quality"):
        encode_segment(pan_video, 0.0, 1.0, tmp_path / "x.gif", EncodeOptions(quality=0))


def test_an_impossible_budget_raises_and_leaves_nothing(pan_video, tmp_path):
    out = tmp_path / "tiny.gif"
    with pytest.raises(EncodeError, match="--max-bytes 500: the smallest setting"):
        encode_segment(pan_video, 0.0, 3.0, out, EncodeOptions(max_bytes=500))
    assert leftovers(tmp_path, keep=set()) == []


def test_no_budget_means_any_size(pan_video, tmp_path):
    result = encode_segment(pan_video, 0.0, 1.0, tmp_path / "a.gif", EncodeOptions(max_bytes=None))
    assert result.attempts == 1 and result.fps == 12.0


def test_webp_loops_forever(pan_video, tmp_path):
    out = tmp_path / "pan.webp"
    result = encode_segment(pan_video, 0.0, 2.0, out, EncodeOptions(format="webp", width=120))
    im, durations, _ = gif_frames(out)
    assert im.format == "WEBP" and im.info["loop"] == 0
    assert im.size == (result.width, result.height) == (120, 72)
    assert im.n_frames == result.frames == 24
    assert sum(durations) == pytest.approx(2000, abs=10)
    assert result.colours is None


def test_mp4_is_silent_h264_with_fast_start(tmp_path):
    gen = synthetic.moving(2)
    frames = [gen(i) for i in range(48)]
    video = synthetic.write_video(
        tmp_path / "talk.mp4", frames, fps=24, audio=np.zeros(32000, np.float32)
    )
    out = tmp_path / "out.mp4"
    result = encode_segment(video, 0.0, 2.0, out, EncodeOptions(format="mp4", width=101))
    assert (result.width, result.height) == (100, 60)  # even sizes for yuv420p
    with av.open(str(out)) as container:
        assert not container.streams.audio
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.format.name) == ("h264", "yuv420p")
        decoded = list(container.decode(stream))
    assert len(decoded) == result.frames == 24
    assert (decoded[0].width, decoded[0].height) == (100, 60)
    head = out.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat")  # +faststart: index before the data


def test_writers_take_frames_and_holds(tmp_path):
    frames = [synthetic.textured(s)[:64, :96] for s in range(3)]
    gif = write_gif(frames, tmp_path / "w.gif", fps=10, holds=[1, 3, 2], colours=64)
    _, durations, images = gif_frames(gif.path)
    assert durations == [100, 300, 200]  # the last frame keeps its own hold
    assert (gif.frames, gif.duration, gif.colours) == (3, 0.6, 64)
    assert len({tuple(c) for c in images[0].reshape(-1, 3)}) <= 64
    webp = write_webp(frames, tmp_path / "w.webp", fps=10, width=48)
    assert Image.open(webp.path).size == (48, 32)
    mp4 = write_mp4(frames, tmp_path / "w.mp4", fps=10)
    with av.open(str(mp4.path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 3
    assert leftovers(tmp_path, keep=set()) == ["w.gif", "w.mp4", "w.webp"]
    with pytest.raises(UsageError, match="holds"):
        write_gif(frames, tmp_path / "bad.gif", holds=[1, 2])
    with pytest.raises(EncodeError, match="bad.gif: could not be written"):
        write_gif(frames, tmp_path / "bad.gif", dither="random")
    assert leftovers(tmp_path, keep=set()) == ["w.gif", "w.mp4", "w.webp"]


def test_an_interrupt_leaves_no_partial_file(pan_video, tmp_path, monkeypatch):
    real_write = encode._write

    def write_then_interrupt(*args, **kwargs):
        real_write(*args, **kwargs)  # the temporary file is now complete on disk
        raise KeyboardInterrupt

    monkeypatch.setattr(encode, "_write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        encode_segment(pan_video, 0.0, 1.0, tmp_path / "int.gif")
    assert leftovers(tmp_path, keep=set()) == []


def test_errors_name_what_is_wrong(pan_video, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        encode_segment(tmp_path / "missing.mp4", 0.0, 1.0, tmp_path / "x.gif")
    with pytest.raises(EncodeError, match="folder does not exist"):
        encode_segment(pan_video, 0.0, 1.0, tmp_path / "no" / "x.gif")
    with pytest.raises(InputError, match="no frames"):
        encode_segment(pan_video, 10.0, 12.0, tmp_path / "x.gif")
    for bad, option in [
        ({"format": "png"}, "--format"),
        ({"width": 0}, "--width"),
        ({"fps": 0}, "--fps"),
        ({"colours": 1}, "--colours"),
        ({"dither": "random"}, "--dither"),
        ({"max_bytes": -1}, "--max-bytes"),
        ({"quality": 101}, "--quality"),
    ]:
        with pytest.raises(UsageError, match=option):
            encode_segment(pan_video, 0.0, 1.0, tmp_path / "x.gif", EncodeOptions(**bad))
    with pytest.raises(UsageError):
        encode_segment(pan_video, 2.0, 1.0, tmp_path / "x.gif")
    assert leftovers(tmp_path, keep=set()) == []


def test_big_buck_bunny_gif(tmp_path):
    """A real 3 s, 480 px, 12 fps GIF is well under the 8 MB default and close to its source."""
    clip = media("moviepy/big_buck_bunny_0_30.webm")
    out = tmp_path / "bbb.gif"
    result = encode_segment(clip, 10.0, 13.0, out)
    im, durations, frames = gif_frames(out)
    assert (result.width, result.height, result.frames, result.attempts) == (480, 270, 36, 1)
    assert im.info["loop"] == 0 and len(frames) == 36
    assert sum(durations) == pytest.approx(3000, abs=10)
    assert result.bytes < 4_000_000
    source = next(iter(read_range(clip, 10.0, 10.1, width=480))).image
    assert blurred_error(frames[0], source) < 4  # the next source frame is 3.5 away


def test_every_output_format_names_a_writer_that_exists():
    import importlib

    from video2gif.formats import OUTPUT_FORMATS

    for output in OUTPUT_FORMATS.values():
        module, function = output.writer.split(":")
        assert callable(getattr(importlib.import_module(module), function)), output.name
