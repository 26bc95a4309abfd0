"""The context RankNet shipped inside the package: where in a video, and how long, GIF-worthy
moments tend to be (trained on PHD-GIFs; it has never seen a frame).

Example:
    >>> scorer = load_context_model()
    >>> scorer.needs().context
    ('position', 'duration')
"""

from __future__ import annotations

from ..errors import ModelError
from ..ranknet import CONTEXT_MODEL_SHA256, context_model_path, read_model
from .model_file import RankNetScorer


def load_context_model(**_options) -> RankNetScorer:
    """The shipped context-only RankNet (position and duration blocks, no pixels).

    It was trained on the PHD-GIFs selections (which parts of YouTube videos people cut GIFs
    from), so it knows where in a video and how long GIF-worthy moments tend to be; it has never
    seen a frame. Combine it with a visual scorer (see :mod:`video2gif.scorers.blend`).

    Returns:
        A :class:`RankNetScorer`.

    Raises:
        ModelError: the shipped file is missing or damaged.
    """
    path = context_model_path()
    if not path.exists():
        raise ModelError(path, "the shipped context model is missing; reinstall video2gif")
    return RankNetScorer(read_model(path, CONTEXT_MODEL_SHA256 or None), "context")
