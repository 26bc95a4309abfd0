"""Describe each candidate segment: cheap signals, backbone embeddings, context.

Everything here is computed from frames of the shared decode pass (see :mod:`video2gif.decode`).
:class:`SegmentFeatures` is what a :class:`~video2gif.rank.Scorer` receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..decode import VideoInfo
from ..segments import SegmentList


@dataclass
class SegmentFeatures:
    """Per-segment inputs of the ranking stage; row ``i`` describes ``segments[i]``.

    ``signals`` are named, interpretable numbers (each in [0, 1] unless its name says otherwise)
    that the report shows per segment. ``embeddings`` maps a backbone's name to its pooled
    (n_segments × dim) features. ``extra`` holds anything a special scorer collected in the pass
    (the original Video2GIF model keeps its per-segment C3D scores there).
    """

    info: VideoInfo
    segments: SegmentList
    signals: dict[str, np.ndarray] = field(default_factory=dict)
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.segments)

    def signal_rows(self) -> list[dict[str, float]]:
        """The signals of each segment as a dict, for the report."""
        names = sorted(self.signals)
        return [
            {name: round(float(self.signals[name][i]), 4) for name in names}
            for i in range(len(self.segments))
        ]
