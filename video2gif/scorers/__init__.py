"""Score each segment's GIF-suitability: the scorers and their registry.

- :mod:`~video2gif.scorers.base`: the :class:`Scorer` base class, the registry :data:`MODELS`
  and :func:`load_model` (a registry name or a model file);
- :mod:`~video2gif.scorers.prior`: ``prior``, a weighted sum of interpretable signals;
- :mod:`~video2gif.scorers.context`: ``context``, the context RankNet shipped in the package;
- :mod:`~video2gif.scorers.model_file`: a RankNet model file written by ``video2gif train``;
- :mod:`~video2gif.scorers.blend`: blends of scorers, and ``default`` (prior + context);
- :mod:`~video2gif.scorers.original`: ``video2gif-original``, the released 2016 model (C3D).

Modules that need torch or C3D are imported only when their scorer is loaded.

Example:
    >>> scorer = load_model("default")
    >>> scorer.describe()["name"], scorer.needs().context
    ('default', ('position', 'duration'))
"""

from .base import DEFAULT_MODEL as DEFAULT_MODEL
from .base import MODELS as MODELS
from .base import Scorer as Scorer
from .base import load_model as load_model
from .base import register_model as register_model
from .prior import PRIOR_WEIGHTS as PRIOR_WEIGHTS
from .prior import PriorScorer as PriorScorer


def __getattr__(name: str):
    """The torch-backed scorers, imported on first use."""
    lazy = {
        "BlendedScorer": "blend", "CONTEXT_WEIGHT": "blend", "zscore": "blend",
        "RankNetScorer": "model_file", "load_model_file": "model_file",
        "load_context_model": "context", "OriginalScorer": "original",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{lazy[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
