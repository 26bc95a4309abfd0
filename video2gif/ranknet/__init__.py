"""The Robust Deep RankNet (Gygli et al., CVPR 2016): what a trained model needs at run time.

- :mod:`~video2gif.ranknet.network`: :class:`RankNetMLP`, input → 512 ReLU → 128 ReLU → 1 score;
- :mod:`~video2gif.ranknet.losses`: :func:`margin_violation`, :func:`pair_loss` (l1, l2, Huber,
  adaptive Huber) and :func:`normalise_popularity`;
- :mod:`~video2gif.ranknet.layout`: :class:`FeatureLayout`, which columns a model reads from
  :class:`~video2gif.features.SegmentFeatures`;
- :mod:`~video2gif.ranknet.modelfile`: :class:`RankNetModel` (an ensemble plus its input
  standardisation and metadata), :func:`save_model` / :func:`read_model`.

Training is :mod:`video2gif.train`; scoring with a model is :mod:`video2gif.scorers.model_file`.

Example:
    >>> model = read_model(context_model_path())
    >>> model.layout.context
    ('position', 'duration')
"""

from .layout import FeatureLayout as FeatureLayout
from .layout import backbone_id as backbone_id
from .layout import check_backbone as check_backbone
from .layout import layout_for_backbone as layout_for_backbone
from .losses import HUBER_DELTA as HUBER_DELTA
from .losses import LOSSES as LOSSES
from .losses import MARGIN as MARGIN
from .losses import WEIGHT_DECAY as WEIGHT_DECAY
from .losses import check_loss as check_loss
from .losses import margin_violation as margin_violation
from .losses import normalise_popularity as normalise_popularity
from .losses import pair_loss as pair_loss
from .losses import weight_penalty as weight_penalty
from .modelfile import CONTEXT_MODEL_FILE as CONTEXT_MODEL_FILE
from .modelfile import CONTEXT_MODEL_SHA256 as CONTEXT_MODEL_SHA256
from .modelfile import FORMAT_VERSION as FORMAT_VERSION
from .modelfile import MODEL_FORMAT as MODEL_FORMAT
from .modelfile import RankNetModel as RankNetModel
from .modelfile import context_model_path as context_model_path
from .modelfile import read_model as read_model
from .modelfile import save_model as save_model
from .network import HIDDEN as HIDDEN
from .network import HIDDEN_DROPOUT as HIDDEN_DROPOUT
from .network import INPUT_DROPOUT as INPUT_DROPOUT
from .network import RankNetMLP as RankNetMLP
