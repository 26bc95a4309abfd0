"""Train the Robust Deep RankNet on within-video GIF/non-GIF pairs, and ensembles of it.

- :mod:`~video2gif.train.options`: the training defaults and :class:`TrainOptions`;
- :mod:`~video2gif.train.pairs`: :class:`TrainingVideo` and the pair samplers;
- :mod:`~video2gif.train.ranker`: :class:`RankNet`, the trainable ranker (SGD with Nesterov
  momentum, validation mAP/nMSD per epoch, early stopping, ensembles);
- :mod:`~video2gif.train.annotated`: :func:`train_from_annotations` (``video2gif train``), from
  annotated videos on disk through :func:`video2gif.analysis.analyse`.

Example:
    >>> net = RankNet(TrainOptions(loss="huber", ensemble=1, max_epochs=3))
    >>> net.fit(train_videos, val_videos)  # doctest: +SKIP
    >>> save_model(net.model_, "ranknet.npz")  # doctest: +SKIP
"""

from .annotated import VALIDATION_SHARE as VALIDATION_SHARE
from .annotated import VALIDATION_SPLITS as VALIDATION_SPLITS
from .annotated import TrainResult as TrainResult
from .annotated import VideoMaterial as VideoMaterial
from .annotated import collect_features as collect_features
from .annotated import material_layout as material_layout
from .annotated import split_validation as split_validation
from .annotated import train_from_annotations as train_from_annotations
from .annotated import training_videos as training_videos
from .options import BATCH_PAIRS as BATCH_PAIRS
from .options import ENSEMBLE as ENSEMBLE
from .options import LEARNING_RATE as LEARNING_RATE
from .options import LOSS as LOSS
from .options import LR_FACTOR as LR_FACTOR
from .options import LR_STEP_EPOCHS as LR_STEP_EPOCHS
from .options import MAX_EPOCHS as MAX_EPOCHS
from .options import MOMENTUM as MOMENTUM
from .options import NEGATIVES_PER_POSITIVE as NEGATIVES_PER_POSITIVE
from .options import PATIENCE as PATIENCE
from .options import SEED as SEED
from .options import TrainOptions as TrainOptions
from .pairs import LabelPairs as LabelPairs
from .pairs import Pairs as Pairs
from .pairs import PairSampler as PairSampler
from .pairs import TrainingVideo as TrainingVideo
from .ranker import CONSTANT_TOLERANCE as CONSTANT_TOLERANCE
from .ranker import IGNORED_SCALE as IGNORED_SCALE
from .ranker import EpochRecord as EpochRecord
from .ranker import MemberResult as MemberResult
from .ranker import RankNet as RankNet
from .ranker import fingerprint as fingerprint
from .ranker import validation_metrics as validation_metrics
