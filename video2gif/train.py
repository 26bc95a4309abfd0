"""Train the Robust Deep RankNet on within-video GIF/non-GIF pairs, and ensembles of it.

Training data is a list of :class:`TrainingVideo` (segment feature rows, per-segment labels from
the GIFs cut from that video, and optionally each GIF's popularity). Every epoch pairs every
positive segment with :data:`NEGATIVES_PER_POSITIVE` random negatives of the same video (redrawn
each epoch), shuffles the pairs into mini-batches of :data:`BATCH_PAIRS`, and takes SGD steps with
Nesterov momentum on the mean pair loss plus λ‖W‖². After each epoch the model is scored on the
validation videos (mAP and nMSD, :mod:`video2gif.evaluate`); the best epoch is kept and training
stops when the validation mAP has not improved for :data:`PATIENCE` epochs. An ensemble is N such
models from consecutive seeds whose scores are averaged. A run repeats exactly given its seed.

Example:
    >>> net = RankNet(TrainOptions(loss="huber", ensemble=1, max_epochs=3))
    >>> net.fit(train_videos, val_videos)  # doctest: +SKIP
    >>> save_model(net.model_, "ranknet.npz")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from . import __version__
from .datasets import VideoAnnotation
from .context import DEFAULT_BLOCKS, check_blocks
from .errors import DatasetWarning, UsageError, Video2GifError, Video2GifWarning
from .features import SegmentFeatures
from .ranknet import (
    HIDDEN,
    HIDDEN_DROPOUT,
    HUBER_DELTA,
    INPUT_DROPOUT,
    WEIGHT_DECAY,
    FeatureLayout,
    RankNetMLP,
    RankNetModel,
    check_loss,
    margin_violation,
    pair_loss,
)

# --- training defaults (the paper's, where it gives them); TrainOptions overrides any ---
LOSS = "adaptive-huber"  # l1 | l2 | huber | adaptive-huber
LEARNING_RATE = 0.001  # initial SGD step size
LR_STEP_EPOCHS = 10  # the learning rate is divided ...
LR_FACTOR = 10.0  # ... by this every LR_STEP_EPOCHS epochs
MOMENTUM = 0.9  # Nesterov momentum
BATCH_PAIRS = 50  # pairs per mini-batch
NEGATIVES_PER_POSITIVE = 4  # random negatives of the same video per positive, redrawn each epoch
MAX_EPOCHS = 30  # upper bound on epochs per model
PATIENCE = 5  # stop after this many epochs without a better validation mAP
ENSEMBLE = 3  # models averaged (the paper's model averaging)
SEED = 0  # model k of an ensemble uses SEED + k
CONSTANT_TOLERANCE = 1e-6  # a column whose sd is below this (relative to its mean) is constant
IGNORED_SCALE = 1e30  # "standard deviation" of a constant column: standardised, it is always 0


@dataclass(frozen=True)
class TrainOptions:
    """Everything that decides a training run; stored in the model file."""

    loss: str = LOSS  # pair loss: l1, l2, huber or adaptive-huber
    hidden: tuple[int, ...] = HIDDEN  # hidden layer sizes
    input_dropout: float = INPUT_DROPOUT  # drop probability on the input
    hidden_dropout: float = HIDDEN_DROPOUT  # drop probability after the first hidden layer
    weight_decay: float = WEIGHT_DECAY  # λ of λ‖W‖²
    huber_delta: float = HUBER_DELTA  # δ of the Huber losses (adaptive adds the popularity)
    learning_rate: float = LEARNING_RATE  # initial learning rate
    lr_step_epochs: int = LR_STEP_EPOCHS  # epochs between learning-rate drops
    lr_factor: float = LR_FACTOR  # divisor of each drop
    momentum: float = MOMENTUM  # Nesterov momentum
    batch_pairs: int = BATCH_PAIRS  # pairs per mini-batch
    negatives: int = NEGATIVES_PER_POSITIVE  # negatives drawn per positive each epoch
    max_epochs: int = MAX_EPOCHS  # epochs at most, per model
    patience: int = PATIENCE  # epochs without validation gain before stopping (0: never stop)
    ensemble: int = ENSEMBLE  # models trained from consecutive seeds, scores averaged
    seed: int = SEED  # seed of the first model
    threads: int | None = None  # torch CPU threads while training; None keeps torch's setting

    def validate(self) -> TrainOptions:
        """Return self if every option is usable, else raise :class:`UsageError`."""
        check_loss(self.loss)
        checks = [
            ("--hidden", len(self.hidden) >= 1 and all(h >= 1 for h in self.hidden), "need ≥ 1"),
            ("--input-dropout", 0.0 <= self.input_dropout < 1.0, "must be in [0, 1)"),
            ("--hidden-dropout", 0.0 <= self.hidden_dropout < 1.0, "must be in [0, 1)"),
            ("--weight-decay", self.weight_decay >= 0.0, "must be ≥ 0"),
            ("--huber-delta", self.huber_delta > 0.0, "must be positive"),
            ("--learning-rate", self.learning_rate > 0.0, "must be positive"),
            ("--lr-step", self.lr_step_epochs >= 1, "must be ≥ 1"),
            ("--lr-factor", self.lr_factor >= 1.0, "must be ≥ 1"),
            ("--momentum", 0.0 < self.momentum < 1.0, "must be in (0, 1)"),
            ("--batch-pairs", self.batch_pairs >= 1, "must be ≥ 1"),
            ("--negatives", self.negatives >= 1, "must be ≥ 1"),
            ("--epochs", self.max_epochs >= 1, "must be ≥ 1"),
            ("--patience", self.patience >= 0, "must be ≥ 0"),
            ("--ensemble", self.ensemble >= 1, "must be ≥ 1"),
            ("--threads", self.threads is None or self.threads >= 1, "must be ≥ 1"),
        ]
        for option, ok, why in checks:
            if not ok:
                raise UsageError(option, why)
        return self


@dataclass(frozen=True)
class TrainingVideo:
    """One video's training (or validation) material.

    ``labels`` come from :func:`video2gif.datasets.label_segments`: 1 for a segment a GIF covers,
    0 for one no GIF touches, -1 for ambiguous segments, which are never paired. ``popularity``
    is p ∈ [0, 1] (:func:`~video2gif.ranknet.normalise_popularity`) of the GIF behind each
    positive segment (ignored elsewhere); None when unknown. ``annotation`` (the video's GIFs,
    duration and frame rate) is what validation measures mAP and nMSD against.
    """

    key: str  # the video's id
    features: np.ndarray  # (n, d) raw feature rows in the model's layout
    labels: np.ndarray  # (n,) int8: 1 positive, 0 negative, -1 unused
    bounds: np.ndarray  # (n, 2) segment start/end, seconds
    annotation: VideoAnnotation | None = None  # ground truth for validation metrics
    popularity: np.ndarray | None = None  # (n,) p of the GIF labelling each positive

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.features.ndim != 2 or self.features.shape[0] != n or self.bounds.shape != (n, 2):
            raise UsageError(
                self.key,
                f"features {self.features.shape}, labels ({n},) and bounds "
                f"{self.bounds.shape} do not describe the same segments",
            )
        if self.popularity is not None and len(self.popularity) != n:
            raise UsageError(self.key, "popularity must have one value per segment")


@dataclass(frozen=True)
class Pairs:
    """An epoch's training pairs as rows of the stacked training matrix."""

    pos: np.ndarray  # (m,) int64 row of s⁺
    neg: np.ndarray  # (m,) int64 row of s⁻
    popularity: np.ndarray  # (m,) float32 p of each pair (0 when unknown)

    def __len__(self) -> int:
        return len(self.pos)


class PairSampler(ABC):
    """Draws an epoch's pairs. Required: :meth:`sample`."""

    @abstractmethod
    def sample(self, rng: np.random.Generator) -> Pairs:
        """The pairs of one epoch, drawn with ``rng`` (so a seeded run repeats exactly)."""


class LabelPairs(PairSampler):
    """Every positive of a video with ``negatives`` random negatives of the same video.

    Rows are numbered as in the stack of ``videos``' features, in order. A video with no
    positive or no negative contributes no pair. When a video has fewer negatives than asked,
    all of them are used.

    Example:
        >>> sampler = LabelPairs(videos, negatives=4)  # doctest: +SKIP
        >>> pairs = sampler.sample(np.random.default_rng(0))  # doctest: +SKIP
    """

    def __init__(self, videos: Sequence[TrainingVideo], negatives: int = NEGATIVES_PER_POSITIVE):
        self.negatives = int(negatives)
        self._groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        offset = 0
        for video in videos:
            labels = np.asarray(video.labels)
            pos = np.flatnonzero(labels == 1)
            neg = np.flatnonzero(labels == 0)
            if len(pos) and len(neg):
                pop = (np.zeros(len(pos)) if video.popularity is None
                       else np.nan_to_num(np.asarray(video.popularity, np.float64)[pos]))
                self._groups.append((pos + offset, neg + offset, pop.astype(np.float32)))
            offset += len(labels)

    @property
    def pairs_per_epoch(self) -> int:
        return sum(len(p) * min(self.negatives, len(n)) for p, n, _ in self._groups)

    def sample(self, rng: np.random.Generator) -> Pairs:
        pos_out, neg_out, pop_out = [], [], []
        for pos, neg, pop in self._groups:
            k = min(self.negatives, len(neg))
            if k == len(neg):
                choice = np.tile(np.arange(k), (len(pos), 1))
            elif len(pos) * len(neg) <= 4_000_000:
                # k smallest of uniform keys per row = a uniform k-subset, vectorised.
                keys = rng.random((len(pos), len(neg)))
                choice = np.argpartition(keys, k - 1, axis=1)[:, :k]
            else:
                choice = np.stack([rng.choice(len(neg), k, replace=False) for _ in pos])
            pos_out.append(np.repeat(pos, k))
            neg_out.append(neg[choice].reshape(-1))
            pop_out.append(np.repeat(pop, k))
        if not pos_out:
            empty = np.zeros(0, dtype=np.int64)
            return Pairs(empty, empty, np.zeros(0, dtype=np.float32))
        return Pairs(
            np.concatenate(pos_out).astype(np.int64),
            np.concatenate(neg_out).astype(np.int64),
            np.concatenate(pop_out).astype(np.float32),
        )


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch did."""

    epoch: int  # 1-based
    loss: float  # mean pair loss over the epoch's mini-batches (without λ‖W‖²)
    learning_rate: float
    seconds: float
    validation: dict[str, float] = field(default_factory=dict)  # map, nmsd (empty: no val set)


@dataclass(frozen=True)
class MemberResult:
    """One model of an ensemble: its seed, its kept epoch and its history."""

    seed: int
    best_epoch: int
    history: tuple[EpochRecord, ...]

    @property
    def best(self) -> EpochRecord:
        return self.history[self.best_epoch - 1]


def fingerprint(videos: Sequence[TrainingVideo]) -> str:
    """SHA-256 of the training material (ids, features, labels, popularity), in order.

    Two model files with the same fingerprint were trained on identical data.
    """
    h = hashlib.sha256()
    for v in videos:
        h.update(v.key.encode() + b"\0")
        h.update(np.ascontiguousarray(v.features, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(v.labels, dtype=np.int8).tobytes())
        if v.popularity is not None:
            h.update(np.ascontiguousarray(v.popularity, dtype=np.float32).tobytes())
    return h.hexdigest()


def validation_metrics(videos: Sequence[TrainingVideo], scores: Sequence[np.ndarray]) -> dict:
    """mAP and nMSD of ``scores`` on ``videos``, exactly as the benchmarks compute them
    (:func:`video2gif.evaluate.evaluate_videos`, frame level, against each video's GIFs).

    Arguments:
        videos: validation videos, each with its ``annotation``.
        scores: one score array per video, row for row.

    Returns:
        ``{"map": …, "nmsd": …}`` as fractions (mAP higher is better, nMSD lower is better).

    Raises:
        UsageError: a video has no annotation.
        DatasetError: no video could be evaluated.
    """
    from .evaluate import Prediction, evaluate_videos

    missing = [v.key for v in videos if v.annotation is None]
    if missing:
        raise UsageError(missing[0], "a validation video needs its annotation (its GIFs)")
    # Keyed by object, not id: a video may be annotated several times (once per user).
    predictions = {
        id(v.annotation): Prediction(v.bounds, np.asarray(s, dtype=np.float64))
        for v, s in zip(videos, scores)
    }
    with warnings.catch_warnings():
        # Videos without a usable GIF are left out the same way every epoch; once is enough.
        warnings.simplefilter("ignore", DatasetWarning)
        result = evaluate_videos(
            [v.annotation for v in videos], lambda a: predictions.get(id(a)), name="validation"
        )
    return {"map": result.mAP, "nmsd": result.nMSD}


class RankNet:
    """The trainable ranker (scikit-learn conventions: ``fit`` returns self, learned state ends
    in ``_``).

    Arguments:
        options: training options; defaults are the paper's.

    Attributes (after :meth:`fit`):
        model_: the trained :class:`~video2gif.ranknet.RankNetModel` (save it with
            :func:`~video2gif.ranknet.save_model`).
        members_: one :class:`MemberResult` per ensemble member.
        metrics_: the ensemble's validation metrics (empty without validation videos).

    Example:
        >>> ranker = RankNet(TrainOptions(ensemble=1, max_epochs=2)).fit(videos)  # doctest: +SKIP
        >>> ranker.predict(videos[0].features)  # doctest: +SKIP
    """

    def __init__(self, options: TrainOptions | None = None) -> None:
        self.options = options or TrainOptions()

    def fit(
        self,
        train: Sequence[TrainingVideo],
        validation: Sequence[TrainingVideo] = (),
        layout: FeatureLayout | None = None,
        sampler: PairSampler | None = None,
        description: str = "",
        progress: bool = False,
    ) -> RankNet:
        """Train ``options.ensemble`` models and keep each one's best epoch.

        Arguments:
            train: training videos (their feature rows in ``layout`` order).
            validation: videos for the per-epoch mAP/nMSD, early stopping and best-epoch choice;
                without them each model keeps its last epoch.
            layout: the feature layout the rows follow (recorded in the model); default: an
                anonymous layout of plain columns.
            sampler: draws each epoch's pairs; default :class:`LabelPairs` over ``train``.
            description: what the training data is, in words (recorded in the model file).
            progress: show a progress bar with loss and validation figures on stderr.

        Returns:
            self

        Raises:
            UsageError: bad options, inconsistent features, no training pairs, or adaptive-huber
                without any popularity.
        """
        options = self.options.validate()
        if not train:
            raise UsageError("training data", "no training videos")
        dim = train[0].features.shape[1]
        if layout is None:
            layout = FeatureLayout(signals=tuple(f"x{i}" for i in range(dim)))
        for video in (*train, *validation):
            if video.features.shape[1] != layout.dim:
                raise UsageError(
                    video.key, f"has {video.features.shape[1]} feature columns, the layout "
                    f"{layout.dim}"
                )
        if options.loss == "adaptive-huber" and sampler is None and all(
            v.popularity is None for v in train
        ):
            raise UsageError(
                "--loss", "adaptive-huber needs GIF popularity (views and age), which the "
                "training data lacks; use --loss huber"
            )
        sampler = sampler or LabelPairs(train, options.negatives)

        rows = np.concatenate([v.features for v in train]).astype(np.float32, copy=False)
        mean, std = _standardisation(rows)
        shell = RankNetModel(layout, mean, std, [], options.hidden, options.input_dropout,
                             options.hidden_dropout)
        x = torch.from_numpy(_standardise_in_place(rows, mean, std))  # rows is our own copy
        x_val = [torch.from_numpy(shell.standardise(v.features)) for v in validation]

        previous_threads = torch.get_num_threads()
        if options.threads:
            torch.set_num_threads(options.threads)
        try:
            members, states = [], []
            for k in range(options.ensemble):
                result, state = _train_member(
                    x, sampler, validation, x_val, options, options.seed + k, dim,
                    desc=f"model {k + 1}/{options.ensemble}", progress=progress,
                )
                members.append(result)
                states.append(state)
        finally:
            torch.set_num_threads(previous_threads)

        model = replace(shell, members=states)
        metrics: dict[str, float] = {}
        if validation:
            metrics = validation_metrics(
                validation, [model.predict(v.features) for v in validation]
            )
        n_segments = int(sum(len(v.labels) for v in train))
        model.meta = {
            "loss": options.loss,
            "huber_delta": options.huber_delta,
            "weight_decay": options.weight_decay,
            "ensemble": options.ensemble,
            "seeds": [m.seed for m in members],
            "options": {k: list(v) if isinstance(v, tuple) else v
                        for k, v in asdict(options).items()},
            "training": {
                "description": description,
                "fingerprint": fingerprint([*train, *validation]),
                "videos": len(train),
                "validation_videos": len(validation),
                "segments": n_segments,
                "positives": int(sum((v.labels == 1).sum() for v in train)),
                "pairs_per_epoch": len(sampler.sample(np.random.default_rng(0))),
            },
            "metrics": {
                "validation": metrics,
                "members": [
                    {"seed": m.seed, "best_epoch": m.best_epoch, "epochs_run": len(m.history),
                     **m.best.validation}
                    for m in members
                ],
            },
            "video2gif_version": __version__,
        }
        self.model_ = model
        self.members_ = members
        self.metrics_ = metrics
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Ensemble scores of raw feature rows (see :meth:`RankNetModel.predict`)."""
        return self.model_.predict(x)


def _standardisation(x: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and standard deviation, ignoring NaN.

    A column that never varies in training (e.g. segment duration when every training segment
    lasts 3 s) taught the model nothing, so it gets :data:`IGNORED_SCALE` as its deviation:
    standardised, it is 0 whatever its value at inference, instead of feeding untrained weights
    a value they never saw. Computed chunk by chunk in float64 and merged (Chan et al.'s
    parallel variance), so memory stays small and precision good even for millions of rows.
    """
    d = x.shape[1]
    count, mean, m2 = np.zeros(d), np.zeros(d), np.zeros(d)
    for start in range(0, len(x), chunk):
        c = x[start:start + chunk].astype(np.float64)
        missing = np.isnan(c)
        if missing.any():
            n_c = (~missing).sum(axis=0).astype(np.float64)
            c[missing] = 0.0
            mean_c = c.sum(axis=0) / np.maximum(n_c, 1)
            c -= mean_c
            c[missing] = 0.0
        else:  # the usual case, without the masking passes
            n_c = np.full(x.shape[1], float(len(c)))
            mean_c = c.mean(axis=0)
            c -= mean_c
        m2_c = np.einsum("ij,ij->j", c, c)
        total = count + n_c
        delta = mean_c - mean
        safe = np.maximum(total, 1)
        mean = mean + delta * n_c / safe
        m2 = m2 + m2_c + delta**2 * count * n_c / safe
        count = total
    std = np.sqrt(m2 / np.maximum(count, 1))
    varies = np.isfinite(std) & (std > CONSTANT_TOLERANCE * np.maximum(1.0, np.abs(mean)))
    std = np.where(varies, std, IGNORED_SCALE)
    return mean.astype(np.float32), std.astype(np.float32)


def _standardise_in_place(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(x − mean) / std with NaN → 0 (the training mean), overwriting ``x`` (float32)."""
    x -= mean
    x /= std
    np.nan_to_num(x, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return x


def _optimiser(net: RankNetMLP, options: TrainOptions) -> torch.optim.SGD:
    """SGD with Nesterov momentum on the mean pair loss plus λ‖W‖².

    SGD's ``weight_decay`` adds wd·W to the gradient, and the gradient of λ‖W‖² is 2λW, so the
    weight matrices get wd = 2λ and the biases none. The fused CPU kernel, where this torch has
    it, makes the step several times cheaper (same arithmetic).
    """
    weights = net.weight_matrices()
    biases = [p for p in net.parameters() if all(p is not w for w in weights)]
    groups = [{"params": weights, "weight_decay": 2.0 * options.weight_decay},
              {"params": biases, "weight_decay": 0.0}]
    common = dict(lr=options.learning_rate, momentum=options.momentum, nesterov=True)
    try:
        return torch.optim.SGD(groups, fused=True, **common)
    except (RuntimeError, TypeError, ValueError):  # an older torch without fused CPU SGD
        return torch.optim.SGD(groups, **common)


def _train_member(
    x: torch.Tensor,
    sampler: PairSampler,
    validation: Sequence[TrainingVideo],
    x_val: list[torch.Tensor],
    options: TrainOptions,
    seed: int,
    dim: int,
    desc: str = "",
    progress: bool = False,
) -> tuple[MemberResult, dict[str, np.ndarray]]:
    """Train one network from ``seed``; return its history and its best epoch's weights."""
    from tqdm.auto import tqdm

    rng = np.random.default_rng(seed)
    # A private torch RNG stream: the run repeats exactly and the caller's RNG is left alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = RankNetMLP(dim, options.hidden, options.input_dropout, options.hidden_dropout)
        optimiser = _optimiser(net, options)
        schedule = torch.optim.lr_scheduler.StepLR(
            optimiser, step_size=options.lr_step_epochs, gamma=1.0 / options.lr_factor
        )
        adaptive = options.loss == "adaptive-huber"
        history: list[EpochRecord] = []
        best_epoch, best_map, best_state, stale = 0, -np.inf, None, 0
        bar = tqdm(total=options.max_epochs, desc=desc, unit="epoch", disable=not progress,
                   leave=True, dynamic_ncols=True,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| epoch {n:.1f}/{total} "
                              "[{elapsed}<{remaining}{postfix}]")
        try:
            for epoch in range(1, options.max_epochs + 1):
                started = time.perf_counter()
                pairs = sampler.sample(rng)
                if len(pairs) == 0:
                    raise UsageError(
                        "training data", "no video has both a GIF segment and a non-GIF segment"
                    )
                order = rng.permutation(len(pairs))
                pos = torch.from_numpy(pairs.pos[order])
                neg = torch.from_numpy(pairs.neg[order])
                pop = torch.from_numpy(pairs.popularity[order])
                lr = optimiser.param_groups[0]["lr"]
                net.train()
                total = torch.zeros((), dtype=torch.float64)
                n_batches = -(-len(pairs) // options.batch_pairs)
                tick = max(1, n_batches // 100)  # move the bar about 100 times an epoch
                for i, b in enumerate(range(0, len(pairs), options.batch_pairs), start=1):
                    p_rows, n_rows = pos[b:b + options.batch_pairs], neg[b:b + options.batch_pairs]
                    m = len(p_rows)
                    scores = net(x[torch.cat([p_rows, n_rows])])
                    u = margin_violation(scores[:m], scores[m:])
                    loss = pair_loss(
                        u, options.loss, pop[b:b + m] if adaptive else None, options.huber_delta
                    ).mean()
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    optimiser.step()
                    total += loss.detach().double() * m
                    if progress and i % tick == 0:
                        bar.update(tick / n_batches)
                schedule.step()
                net.eval()
                val: dict[str, float] = {}
                if validation:
                    with torch.inference_mode():
                        scores_val = [net(xv).double().numpy() for xv in x_val]
                    val = validation_metrics(validation, scores_val)
                record = EpochRecord(epoch, float(total) / len(pairs), lr,
                                     time.perf_counter() - started, val)
                history.append(record)
                bar.n = epoch  # whole epochs on the bar, whatever the ticks added up to
                bar.set_postfix(_postfix(record))
                current = val.get("map", np.nan) if validation else float(epoch)
                if best_state is None or (np.isfinite(current) and current > best_map):
                    best_epoch, best_state, stale = epoch, copy.deepcopy(net.state_dict()), 0
                    best_map = current if np.isfinite(current) else best_map
                else:
                    stale += 1
                    if options.patience and stale >= options.patience:
                        break
        finally:
            bar.close()
    state = {k: v.detach().numpy().copy() for k, v in best_state.items()}
    return MemberResult(seed, best_epoch, tuple(history)), state


def _postfix(record: EpochRecord) -> dict[str, str]:
    out = {"loss": f"{record.loss:.4f}"}
    if "map" in record.validation:
        out["mAP"] = f"{record.validation['map']:.4f}"
    if "nmsd" in record.validation:
        out["nMSD"] = f"{record.validation['nmsd']:.4f}"
    return out


# ------------------------------------------------------------------------------------------------
# From annotated videos on disk


VALIDATION_SHARE = 0.2  # of the annotated videos (by id) held back for validation by default
VALIDATION_SPLITS = ("val", "valid", "validation")  # annotation splits used as validation as-is


@dataclass(frozen=True)
class VideoMaterial:
    """One annotated video's segment features, as the pipeline computes them for scoring."""

    annotation: VideoAnnotation
    features: SegmentFeatures


def collect_features(
    annotations: Sequence[VideoAnnotation],
    folder: str | os.PathLike | None,
    extractor,
    base: str | os.PathLike | None = None,
    segment_options=None,
    on_video=None,
) -> tuple[list[VideoMaterial], dict[str, str]]:
    """Segment features of every annotated video found on disk, through the full pipeline.

    Each video is analysed once (:func:`video2gif.analysis.analyse`, the code that later scores
    with the trained model: shots, signals, and the backbone unless the extractor's feature
    cache already holds its embeddings, which it then keeps for the next run); the video's
    category and tags go into its context.

    Arguments:
        annotations: the videos (an id annotated several times is read once, its GIFs merged).
        folder: where the videos are (``<id>.<ext>``; see :func:`video2gif.evaluate.locate_video`).
        extractor: a :class:`~video2gif.features.extract.FeatureExtractor` (backbone and cache).
        base: the annotation file's folder, for relative ``path`` fields.
        segment_options: candidate lengths (default: the pipeline's).
        on_video: called as ``on_video(id, error_or_None)`` after each video.

    Returns:
        ``(materials, failures)``: one :class:`VideoMaterial` per video read, and
        ``id -> reason`` for the videos missing or failing.
    """
    from .analysis import analyse
    from .evaluate import locate_video

    merged: dict[str, VideoAnnotation] = {}
    for a in annotations:
        if a.id in merged:
            gifs = (*merged[a.id].gifs, *a.gifs)
            merged[a.id] = replace(merged[a.id], gifs=tuple(sorted(gifs, key=lambda g: g.start)))
        else:
            merged[a.id] = a
    materials: list[VideoMaterial] = []
    failures: dict[str, str] = {}
    for video in merged.values():
        path = locate_video(video, folder, base)
        if path is None:
            failures[video.id] = f"no video file for it in {folder or 'the annotation folder'}"
        else:
            try:
                analysis = analyse(path, segment_options, features=extractor,
                                   category=video.category, tags=video.tags)
            except Video2GifError as e:
                failures[video.id] = str(e)
            else:
                materials.append(VideoMaterial(video, analysis.features))
        if on_video is not None:
            on_video(video.id, failures.get(video.id))
    return materials, failures


def training_videos(
    materials: Sequence[VideoMaterial], layout: FeatureLayout
) -> list[TrainingVideo]:
    """Rows, labels and popularity of each video for :meth:`RankNet.fit`.

    Labels come from :func:`~video2gif.datasets.label_segments`. Popularity: each GIF's views
    per day, normalised over all GIFs of ``materials`` (:func:`normalise_popularity`); a positive
    segment takes the popularity of the GIF covering most of it. None when no GIF has views.

    Arguments:
        materials: from :func:`collect_features`.
        layout: the model's feature layout (see :func:`material_layout`).

    Returns:
        One :class:`TrainingVideo` per material, in order.
    """
    from .datasets import label_segments
    from .ranknet import normalise_popularity

    gifs = [g for m in materials for g in m.annotation.gifs]
    known = any(g.views is not None and g.age_days is not None for g in gifs)
    p_all = normalise_popularity(
        [np.nan if g.views is None else g.views for g in gifs],
        [np.nan if g.age_days is None else g.age_days for g in gifs],
    )
    out, start = [], 0
    for m in materials:
        a = m.annotation
        features = m.features
        bounds = np.array([[s.start, s.end] for s in features.segments], np.float64).reshape(-1, 2)
        labels = label_segments(bounds, a.gifs) if len(bounds) else np.zeros(0, np.int8)
        popularity = None
        if known and len(a.gifs) and len(bounds):
            g = np.array([[x.start, x.end] for x in a.gifs])
            cover = np.clip(np.minimum(bounds[:, None, 1], g[None, :, 1])
                            - np.maximum(bounds[:, None, 0], g[None, :, 0]), 0, None)
            popularity = p_all[start:start + len(a.gifs)][cover.argmax(axis=1)]
        start += len(a.gifs)
        out.append(TrainingVideo(a.id, layout.assemble(features), labels, bounds, a, popularity))
    return out


def material_layout(materials: Sequence[VideoMaterial], backbone, context: Sequence[str]
                    ) -> FeatureLayout:
    """The layout a model trained on ``materials`` reads: the backbone's pooled embedding, every
    signal any video has (sorted by name; a video lacking one reads the training mean), and the
    context blocks."""
    from .ranknet import layout_for_backbone

    signals = sorted({name for m in materials for name in m.features.signals})
    return layout_for_backbone(backbone, signals, context)


def split_validation(
    videos: Sequence[TrainingVideo], share: float = VALIDATION_SHARE, seed: int = SEED
) -> tuple[list[TrainingVideo], list[TrainingVideo]]:
    """Training and validation videos.

    Videos whose annotation ``split`` is one of :data:`VALIDATION_SPLITS` are the validation
    set when there are any; otherwise ``share`` of the videos (at least one when ``share`` > 0
    and there are two or more videos), drawn with ``seed``. Only videos with a GIF can validate.
    """
    marked = [v for v in videos if v.annotation is not None
              and (v.annotation.split or "").lower() in VALIDATION_SPLITS]
    if marked:
        held = {id(v) for v in marked}
    else:
        candidates = [i for i, v in enumerate(videos) if v.annotation is not None
                      and v.annotation.gifs and (v.labels == 1).any()]
        count = int(round(share * len(videos)))
        if share > 0 and len(videos) >= 2:
            count = max(1, count)
        count = min(count, len(candidates), max(len(videos) - 1, 0))
        order = np.random.default_rng(seed).permutation(len(candidates))[:count]
        held = {id(videos[candidates[i]]) for i in order}
    return ([v for v in videos if id(v) not in held], [v for v in videos if id(v) in held])


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_from_annotations` did."""

    path: Path  # the model file written
    ranker: RankNet  # the fitted ranker (``ranker.model_``, ``ranker.members_``)
    train_videos: int
    validation_videos: int
    failures: dict[str, str]  # id -> why the video could not be used
    loss: str  # the loss actually used


def train_from_annotations(
    annotations: str | os.PathLike,
    videos: str | os.PathLike | None,
    output: str | os.PathLike,
    options: TrainOptions | None = None,
    features=None,
    context: Sequence[str] = DEFAULT_BLOCKS,
    validation_share: float = VALIDATION_SHARE,
    progress: bool = False,
    on_video=None,
) -> TrainResult:
    """Train a RankNet on annotated videos and write the model file (``video2gif train``).

    Arguments:
        annotations: GIF annotations (JSON lines, a PHD-GIFs CSV or Video2GIF metadata.txt).
        videos: the folder holding the videos (``<id>.<ext>``), or None for the annotations'
            own ``path`` fields.
        output: the model file to write.
        options: training options (loss, ensemble size, epochs, seed, ...).
        features: a :class:`~video2gif.features.extract.FeatureExtractor` (its backbone and
            feature cache) or :class:`~video2gif.features.extract.FeatureOptions`; default:
            EfficientNet-Lite0, faces and sound, the default cache folder.
        context: context blocks (see :mod:`video2gif.context`).
        validation_share: share of the videos held back for validation (see
            :func:`split_validation`).
        progress: show progress bars.
        on_video: called as ``on_video(id, error_or_None)`` after each video is read.

    Returns:
        TrainResult.

    Raises:
        InputError, DatasetError: unreadable annotations. UsageError: bad options, or no video
        usable for training. ModelError: the model file cannot be written or the backbone's
        weights are missing.

    Warns:
        Video2GifWarning: adaptive-huber asked for but no GIF has popularity (huber is used).
    """
    from .datasets import load_annotations
    from .features.cache import FeatureCache
    from .features.extract import FeatureExtractor, FeatureOptions
    from .ranknet import save_model

    options = (options or TrainOptions()).validate()
    context = check_blocks(context)
    if not 0.0 <= validation_share < 1.0:
        raise UsageError("--validation-share", "must be in [0, 1)")
    if isinstance(features, FeatureExtractor):
        extractor = features
    else:
        extractor = FeatureExtractor(features if isinstance(features, FeatureOptions) else None,
                                     cache=FeatureCache())
    annotated = load_annotations(annotations)
    if not annotated:
        raise UsageError(annotations, "no annotated video to train on")
    base = Path(annotations).resolve().parent
    materials, failures = collect_features(annotated, videos, extractor, base, on_video=on_video)
    if not materials:
        raise UsageError(annotations, f"none of its {len(annotated)} videos could be read"
                         + (f" (first: {next(iter(failures.values()))})" if failures else ""))
    layout = material_layout(materials, extractor.backbone, context)
    all_videos = training_videos(materials, layout)
    train, validation = split_validation(all_videos, validation_share, options.seed)
    if options.loss == "adaptive-huber" and all(v.popularity is None for v in train):
        warnings.warn(Video2GifWarning(
            "--loss adaptive-huber needs GIF popularity (views and age_days), which these "
            "annotations lack; training with huber"), stacklevel=2)
        options = replace(options, loss="huber")
    description = (f"{len(train)} videos of {Path(annotations).name} "
                   f"({sum(len(v.annotation.gifs) for v in train)} GIFs)")
    ranker = RankNet(options).fit(train, validation, layout=layout, description=description,
                                  progress=progress)
    path = save_model(ranker.model_, output)
    return TrainResult(path, ranker, len(train), len(validation), failures, options.loss)


__all__ = [
    "TrainResult",
    "train_from_annotations",
    "VideoMaterial",
    "collect_features",
    "training_videos",
    "material_layout",
    "split_validation",
    "TrainOptions",
    "TrainingVideo",
    "Pairs",
    "PairSampler",
    "LabelPairs",
    "EpochRecord",
    "MemberResult",
    "RankNet",
    "fingerprint",
    "validation_metrics",
]
