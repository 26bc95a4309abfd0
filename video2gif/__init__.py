"""video2gif: turn any video into its best animated GIFs, automatically."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._version import __version__ as __version__

# The public names and the module each comes from. They are imported on first use (PEP 562),
# so ``import video2gif.cli`` and ``video2gif --help`` do not pay for NumPy, PyAV, numba or
# PyTorch.
_EXPORTS = {
    "Analysis": "analysis", "analyse": "analysis",
    "CropPath": "crop", "plan_crop": "crop",
    "VideoInfo": "decode", "decode_pass": "decode", "probe": "decode",
    "Video2GifError": "errors",
    "GifOptions": "options",
    "Highlights": "pipeline", "MadeGifs": "pipeline", "ScoredSegment": "pipeline",
    "find_highlights": "pipeline", "make_gifs": "pipeline",
    "Scorer": "scorers", "load_model": "scorers",
    "Segment": "segments", "SegmentOptions": "segments",
    "Shot": "shots", "detect_shots": "shots",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # the same names for type checkers and editors
    from .analysis import Analysis as Analysis
    from .analysis import analyse as analyse
    from .crop import CropPath as CropPath
    from .crop import plan_crop as plan_crop
    from .decode import VideoInfo as VideoInfo
    from .decode import decode_pass as decode_pass
    from .decode import probe as probe
    from .errors import Video2GifError as Video2GifError
    from .options import GifOptions as GifOptions
    from .pipeline import Highlights as Highlights
    from .pipeline import MadeGifs as MadeGifs
    from .pipeline import ScoredSegment as ScoredSegment
    from .pipeline import find_highlights as find_highlights
    from .pipeline import make_gifs as make_gifs
    from .scorers import Scorer as Scorer
    from .scorers import load_model as load_model
    from .segments import Segment as Segment
    from .segments import SegmentOptions as SegmentOptions
    from .shots import Shot as Shot
    from .shots import detect_shots as detect_shots
