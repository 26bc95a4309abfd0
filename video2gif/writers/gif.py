"""GIF files through video2gif's own encoder (:mod:`video2gif.gif`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from ..gif import encode_gif, settings_for


def write(frames: Sequence[np.ndarray], holds: Sequence[int], fps: float, path: Path,
          width: int, *, colours: int, dither: str, quality: int
          ) -> tuple[int, int, int, list[int]]:
    """Write a looping GIF; ``dither`` is one of :data:`video2gif.gif.encoder.DITHERS`."""
    encoded = encode_gif(scaled(frames, width), holds, fps, settings_for(quality, colours, dither))
    path.write_bytes(encoded.data)
    return encoded.width, encoded.height, path.stat().st_size, list(encoded.holds)


def scaled(frames: Sequence[np.ndarray], width: int) -> Sequence[np.ndarray]:
    """Frames resized (lanczos) to ``width`` and an even height, as FFmpeg's ``scale=W:-2``."""
    h, w = frames[0].shape[:2]
    height = max(2, 2 * math.floor(width * h / w / 2 + 0.5))
    if (w, h) == (width, height):
        return frames  # not copied: frames still being decoded are encoded as they arrive
    return [np.asarray(Image.fromarray(f).resize((width, height), Image.LANCZOS)) for f in frames]
