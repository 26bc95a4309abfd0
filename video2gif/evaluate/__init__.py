"""Benchmark evaluation: metrics exactly as the benchmarks' reference evaluations compute them,
baselines, predictions, and QVHighlights.

- :mod:`~video2gif.evaluate.metrics`: AP, nMSD, R@k, HIT@1 on a per-frame grid;
- :mod:`~video2gif.evaluate.evaluation`: :class:`Prediction`, :func:`evaluate_video`,
  :func:`evaluate_videos` (one set of scores over annotated videos), :func:`format_table`;
- :mod:`~video2gif.evaluate.baselines`: the random and position baselines;
- :mod:`~video2gif.evaluate.predictions`: predictions read from files, or made by a model
  (:func:`model_predictions`, the same analysis as training's);
- :mod:`~video2gif.evaluate.qvhighlights`: the QVHighlights highlight metrics.

Example:
    >>> import numpy as np
    >>> labels = np.array([1, 0, 1, 0], dtype=bool)
    >>> round(average_precision(labels, np.array([0.9, 0.8, 0.7, 0.1])), 4)
    0.8333
"""

from ..datasets import locate_video as locate_video  # where it was before
from ..formats import VIDEO_EXTENSIONS as VIDEO_EXTENSIONS
from .baselines import POSITION_BINS as POSITION_BINS
from .baselines import POSITION_BLUR_BINS as POSITION_BLUR_BINS
from .baselines import POSITION_DURATION_EDGES as POSITION_DURATION_EDGES
from .baselines import POSITION_FOLDS as POSITION_FOLDS
from .baselines import POSITION_MIN_VIDEOS as POSITION_MIN_VIDEOS
from .baselines import POSITION_SMOOTHING as POSITION_SMOOTHING
from .baselines import RANDOM_SEEDS as RANDOM_SEEDS
from .baselines import PositionPrior as PositionPrior
from .baselines import position_baseline as position_baseline
from .baselines import position_predictions as position_predictions
from .baselines import random_baseline as random_baseline
from .baselines import random_predictions as random_predictions
from .baselines import uniform_segments as uniform_segments
from .baselines import video_folds as video_folds
from .evaluation import NOMINAL_FPS as NOMINAL_FPS
from .evaluation import EvalResult as EvalResult
from .evaluation import Prediction as Prediction
from .evaluation import VideoEval as VideoEval
from .evaluation import evaluate_video as evaluate_video
from .evaluation import evaluate_videos as evaluate_videos
from .evaluation import format_table as format_table
from .evaluation import mean_result as mean_result
from .metrics import MIN_INCLUSION as MIN_INCLUSION
from .metrics import RECALL_K as RECALL_K
from .metrics import average_precision as average_precision
from .metrics import frame_labels as frame_labels
from .metrics import frame_scores_from_segments as frame_scores_from_segments
from .metrics import hit_at_1 as hit_at_1
from .metrics import nmsd as nmsd
from .metrics import overlaps as overlaps
from .metrics import recall_at_k as recall_at_k
from .metrics import top_k as top_k
from .predictions import model_predictions as model_predictions
from .predictions import read_predictions as read_predictions
from .qvhighlights import QVH_CLIP_SECONDS as QVH_CLIP_SECONDS
from .qvhighlights import QVH_LEVELS as QVH_LEVELS
from .qvhighlights import qvhighlights_highlight_metrics as qvhighlights_highlight_metrics
from .qvhighlights import read_jsonl as read_jsonl
