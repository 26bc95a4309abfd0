"""Small videos with known content, written with PyAV, for unit tests.

Each builder returns the path it wrote. Scenes are described as numpy frame generators so tests
know exactly where cuts, dissolves and fades are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

W, H = 160, 96


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: int | Fraction = 24,
    codec: str = "libx264",
    rotation: int | None = None,
    pts: Iterable[int] | None = None,
    time_base: Fraction | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
) -> Path:
    """Encode RGB frames (H×W×3 uint8) to ``path``.

    ``pts`` with ``time_base`` gives each frame its own timestamp (variable frame rate);
    ``rotation`` sets the display matrix; ``audio`` (mono float32 in [-1, 1]) adds an AAC track.
    """
    frames = list(frames)
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "18", "preset": "ultrafast"}
        if time_base is not None:
            stream.codec_context.time_base = time_base
        astream = None
        if audio is not None:
            astream = out.add_stream("aac", rate=sample_rate)
            astream.layout = "mono"
        pts_list = list(pts) if pts is not None else None
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            if pts_list is not None:
                frame.pts = pts_list[i]
                frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if astream is not None:
            chunk = 1024
            samples = audio.astype(np.float32)
            for start in range(0, len(samples), chunk):
                block = samples[start : start + chunk]
                af = av.AudioFrame.from_ndarray(block[None, :], format="fltp", layout="mono")
                af.sample_rate = sample_rate
                af.pts = start
                for packet in astream.encode(af):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    if rotation is not None:
        _set_rotation(path, rotation)
    return path


def _set_rotation(path: Path, rotation: int) -> None:
    """Remux with a display-matrix rotation (degrees counter-clockwise)."""
    tmp = path.with_name("rot_" + path.name)
    with av.open(str(path)) as src, av.open(str(tmp), "w") as dst:
        s_in = src.streams.video[0]
        s_out = dst.add_stream_from_template(s_in)
        s_out.set_display_rotation(rotation) if hasattr(s_out, "set_display_rotation") else None
        for packet in src.demux(s_in):
            if packet.dts is None:
                continue
            packet.stream = s_out
            dst.mux(packet)
    tmp.replace(path)


# -- scene builders: each returns a function frame_index -> image ------------------------------


def textured(seed: int, w: int = W, h: int = H) -> np.ndarray:
    """A fixed random-colour texture: distinct per seed, detailed enough to be sharp."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(h // 8, w // 8, 3), dtype=np.uint8)
    base = np.kron(small, np.ones((8, 8, 1), dtype=np.uint8))
    noise = rng.integers(0, 40, size=(h, w, 3), dtype=np.uint8)
    return np.clip(base.astype(np.int16) + noise - 20, 0, 255).astype(np.uint8)


def moving(seed: int, speed: int = 2) -> Callable[[int], np.ndarray]:
    """A texture panning ``speed`` pixels per frame (motion without a cut)."""
    tex = np.concatenate([textured(seed), textured(seed + 1000)], axis=1)

    def frame(i: int) -> np.ndarray:
        x = (i * speed) % W
        return np.ascontiguousarray(tex[:, x : x + W])

    return frame


def still(seed: int) -> Callable[[int], np.ndarray]:
    img = textured(seed)
    return lambda i: img


def solid(value: int) -> Callable[[int], np.ndarray]:
    img = np.full((H, W, 3), value, dtype=np.uint8)
    return lambda i: img


def cuts(scenes: list[tuple[Callable[[int], np.ndarray], int]]) -> list[np.ndarray]:
    """Concatenate scenes (generator, n_frames) with hard cuts; returns all frames."""
    out = []
    for gen, n in scenes:
        out.extend(gen(i) for i in range(n))
    return out


def dissolve(a: Callable, b: Callable, n_a: int, n_mix: int, n_b: int) -> list[np.ndarray]:
    """Scene a, then a linear cross-dissolve of n_mix frames, then scene b."""
    out = [a(i) for i in range(n_a)]
    for j in range(n_mix):
        alpha = (j + 1) / (n_mix + 1)
        mix = (1 - alpha) * a(n_a + j).astype(np.float32) + alpha * b(j).astype(np.float32)
        out.append(mix.round().astype(np.uint8))
    out.extend(b(n_mix + i) for i in range(n_b))
    return out


def fade_through_black(a: Callable, b: Callable, n_a: int, n_fade: int, n_b: int) -> list:
    """Scene a fading out to black over n_fade frames, then b fading in over n_fade frames."""
    out = [a(i) for i in range(n_a)]
    for j in range(n_fade):
        g = 1 - (j + 1) / n_fade
        out.append((a(n_a + j).astype(np.float32) * g).round().astype(np.uint8))
    for j in range(n_fade):
        g = (j + 1) / n_fade
        out.append((b(j).astype(np.float32) * g).round().astype(np.uint8))
    out.extend(b(n_fade + i) for i in range(n_b))
    return out


def write_gif(
    path: Path,
    frames: Iterable[np.ndarray],
    delays_ms: int | Iterable[int] = 100,
    width: int | None = None,
    crop: float = 0.0,
    colors: int = 256,
) -> Path:
    """Write RGB frames as an animated GIF the way GIF makers do: optionally cropped (``crop`` of
    each side), resized to ``width``, reduced to a ``colors``-colour palette with Floyd-Steinberg
    dithering; ``delays_ms`` per frame (GIF stores them in 10 ms units)."""
    from PIL import Image

    images = []
    for frame in frames:
        im = Image.fromarray(np.ascontiguousarray(frame))
        if crop:
            w, h = im.size
            cx, cy = int(round(crop * w)), int(round(crop * h))
            im = im.crop((cx, cy, w - cx, h - cy))
        if width:
            im = im.resize((width, max(2, round(im.height * width / im.width))),
                           Image.Resampling.LANCZOS)
        images.append(im.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                                  dither=Image.Dither.FLOYDSTEINBERG))
    delays = delays_ms if isinstance(delays_ms, int) else list(delays_ms)
    images[0].save(path, save_all=True, append_images=images[1:], duration=delays, loop=0)
    return path


def panning(seed: int, speed: int) -> Callable[[int], np.ndarray]:
    """A camera panning ``speed`` pixels per frame along a strip of textures, never wrapping
    around (fast motion that is still one shot). The strip is long enough for 240 frames."""
    tiles = -(-speed * 240 // W) + 2
    strip = np.concatenate([textured(seed + 101 * t) for t in range(tiles)], axis=1)

    def frame(i: int) -> np.ndarray:
        x = i * speed
        return np.ascontiguousarray(strip[:, x : x + W])

    return frame


def with_flash(frames: list[np.ndarray], at: int, count: int = 1, level: float = 1.0) -> list:
    """Frames ``at`` … ``at + count - 1`` washed towards white (``level`` 1 is pure white), as a
    photographer's flash does; returns a new list."""
    out = list(frames)
    for i in range(at, at + count):
        f = out[i].astype(np.float32)
        out[i] = (f * (1 - level) + 255 * level).round().astype(np.uint8)
    return out


def gliding(seed: int, speed: float) -> Callable[[int], np.ndarray]:
    """A camera gliding ``speed`` pixels per frame over a smooth picture (soft colour regions, as
    most filmed scenes are at thumbnail size), for up to 240 frames without wrapping around."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    width = W + int(np.ceil(speed * 240)) + 1
    cells = rng.integers(0, 256, size=(6, max(2, width // 24), 3), dtype=np.uint8)
    big = np.asarray(Image.fromarray(cells).resize((width, H), Image.Resampling.BICUBIC))

    def frame(i: int) -> np.ndarray:
        x = int(round(i * speed))
        return np.ascontiguousarray(big[:, x : x + W])

    return frame
