"""The original Video2GIF model (Gygli et al., CVPR 2016) as a scorer.

``video2gif make --model video2gif-original --weights-dir DIR`` scores with it; the network and
its files are :mod:`video2gif.features.original` and :mod:`video2gif.features.c3d`. It scores
windows of 16 frames cut and resized as the release did (see
:mod:`video2gif.features.release_preprocess`): by default from each segment's own first frame,
in a second decode pass once the candidates are known; ``windows="grid"`` uses one grid in the
shared pass instead. A segment's score is the mean over its windows, and a segment shorter than
one window gets none.

Example:
    >>> scorer = OriginalScorer.from_dir("~/video2gif-weights")  # doctest: +SKIP
    >>> found = video2gif.find_highlights("clip.mp4", model=scorer)  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from ..decode import FrameConsumer
from ..errors import ModelError
from ..features import FeatureNeeds, SegmentFeatures
from ..features.c3d import (
    C3D_FILE,
    HEAD_FILE,
    MEAN_FILE,
    C3DConfig,
    C3DModel,
    file_id,
    required_file,
    weights_dir,
)
from ..features.original import MODEL_NAME, WindowScores, build_head, load_head_weights
from ..features.release_preprocess import PER_SEGMENT, ReleaseScoring
from .base import Scorer


class OriginalScorer(Scorer):
    """Scores segments with the released Video2GIF model; see the module docstring."""

    name = MODEL_NAME

    def __init__(self, c3d: C3DModel, head, head_id: str = "", windows: str = PER_SEGMENT
                 ) -> None:
        self.windows = WindowScores(c3d, head, head_id)
        self.scoring = ReleaseScoring(self.windows, windows)  # "segment" or "grid"
        self._unscored = 0

    @classmethod
    def from_files(cls, c3d_pkl, mean_npy, head_npz, config: C3DConfig | None = None,
                   windows: str = PER_SEGMENT) -> OriginalScorer:
        """Load the three released files (``config`` only for reduced test networks;
        ``windows`` "segment", as released, or "grid").

        Raises:
            ModelError: a file missing or malformed, naming the file and the problem.
        """
        config = config or C3DConfig()
        c3d = C3DModel.from_files(c3d_pkl, mean_npy, config)
        head = build_head(config.fc6)
        head.load_state_dict(load_head_weights(head_npz, config.fc6), strict=True)
        return cls(c3d, head, file_id(head_npz), windows)

    @classmethod
    def from_dir(cls, folder: str | os.PathLike | None = None) -> OriginalScorer:
        """Load ``c3d_model.pkl``, ``snipplet_mean.npy`` and ``video2gif_weights.npz`` from
        ``folder`` (default: $VIDEO2GIF_WEIGHTS_DIR or the config entry ``weights_dir``).

        Raises:
            ModelError: no folder, or a file missing or malformed.
        """
        folder = weights_dir(folder)
        return cls.from_files(required_file(folder, C3D_FILE), required_file(folder, MEAN_FILE),
                              required_file(folder, HEAD_FILE))

    def consumers(self) -> list[FrameConsumer]:
        return self.scoring.consumers()

    def needs(self) -> FeatureNeeds:
        return FeatureNeeds(windows=True, source=self.name)

    def score(self, features: SegmentFeatures) -> np.ndarray:
        scores = self.scoring.score(features.info, features.segments)
        self._unscored = int(np.isnan(scores).sum())
        return scores

    def describe(self) -> dict:
        return {
            "name": self.name,
            "weights": self.windows.weights_id,
            "windows": self.scoring.describe(),
            "unscored_segments": self._unscored,
            "note": "segments shorter than 16 frames (one C3D window) get no score",
        }


def load_original(**options) -> OriginalScorer:
    """Registry factory: ``load_model("video2gif-original", weights_dir=DIR)``."""
    try:
        return OriginalScorer.from_dir(options.get("weights_dir"))
    except MemoryError:
        raise ModelError(MODEL_NAME, "not enough memory to load the C3D weights") from None
