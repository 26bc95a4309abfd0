"""Training defaults (the paper's, where it gives them) and :class:`TrainOptions`, which
overrides any of them and is stored in the model file.

Example:
    >>> TrainOptions(loss="huber", ensemble=1).validate().max_epochs
    30
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from ..ranknet import (
    HIDDEN,
    HIDDEN_DROPOUT,
    HUBER_DELTA,
    INPUT_DROPOUT,
    WEIGHT_DECAY,
    check_loss,
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
