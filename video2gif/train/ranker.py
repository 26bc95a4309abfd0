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
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .._version import __version__
from ..errors import DatasetWarning, UsageError
from ..ranknet import (
    FeatureLayout,
    RankNetMLP,
    RankNetModel,
    margin_violation,
    pair_loss,
)
from .options import TrainOptions
from .pairs import LabelPairs, PairSampler, TrainingVideo

CONSTANT_TOLERANCE = 1e-6  # a column whose sd is below this (relative to its mean) is constant
IGNORED_SCALE = 1e30  # "standard deviation" of a constant column: standardised, it is always 0


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
    from ..evaluate import Prediction, evaluate_videos

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
                "pairs_per_epoch": sampler.pairs_per_epoch,
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
