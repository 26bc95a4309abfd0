"""The flags of ``video2gif train``, one per :class:`~video2gif.train.TrainOptions` field.

Defaults and types come from ``TrainOptions()`` (whose defaults are the constants atop
:mod:`video2gif.train`), the loss choices from :data:`video2gif.ranknet.losses.LOSSES`; the
ranges are checked by :meth:`TrainOptions.validate`, whose errors name these flags.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import click

# ``train``'s help, here so that the top-level --help lists it without importing torch.
TRAIN_HELP = ("Train a RankNet on annotated videos and write the model file; use it with "
              "`video2gif make --model MODEL`.")

# TrainOptions field -> (flag, help). Every field a validator names must be here.
TRAIN_FLAGS: dict[str, tuple[str, str]] = {
    "loss": ("--loss", "Pair loss (adaptive-huber needs GIF views and age; else huber is used)."),
    "ensemble": ("--ensemble", "Models trained from consecutive seeds; their scores are "
                               "averaged."),
    "max_epochs": ("--epochs", "Epochs at most per model."),
    "patience": ("--patience", "Stop after this many epochs without a better validation mAP "
                               "(0: never)."),
    "learning_rate": ("--learning-rate", "Initial SGD learning rate (divided by --lr-factor "
                                         "every --lr-step epochs)."),
    "lr_step_epochs": ("--lr-step", "Epochs between learning-rate drops."),
    "lr_factor": ("--lr-factor", "Divisor of each learning-rate drop."),
    "momentum": ("--momentum", "Nesterov momentum, in (0, 1)."),
    "weight_decay": ("--weight-decay", "λ of the λ‖W‖² penalty."),
    "hidden": ("--hidden", "Hidden layer sizes, comma-separated."),
    "input_dropout": ("--input-dropout", "Drop probability on the input, in [0, 1)."),
    "hidden_dropout": ("--hidden-dropout", "Drop probability after the first hidden layer."),
    "huber_delta": ("--huber-delta", "δ of the Huber losses (adaptive-huber adds the "
                                     "popularity)."),
    "batch_pairs": ("--batch-pairs", "Pairs per mini-batch."),
    "negatives": ("--negatives", "Random negatives of the same video per positive, each "
                                 "epoch."),
    "seed": ("--seed", "Seed of the first model."),
    "threads": ("--threads", "CPU threads for training [default: torch's choice]; on a busy "
                             "machine 1 is often fastest."),
}


class _Sizes(click.ParamType):
    """Comma-separated positive layer sizes: ``512,128``."""

    name = "N,N"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return tuple(int(v) for v in str(value).split(",") if v.strip())
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of sizes", param, ctx)


def train_options() -> Callable:
    """A decorator adding one flag per entry of :data:`TRAIN_FLAGS`; the command receives
    them as keyword arguments named like the fields, for ``TrainOptions(**kwargs)``."""
    from ..ranknet.losses import LOSSES
    from ..train import TrainOptions

    defaults = TrainOptions()
    kinds = {f.name: str(f.type) for f in dataclasses.fields(TrainOptions)}

    def click_type(name: str):
        if name == "loss":
            return click.Choice(LOSSES)
        if name == "hidden":
            return _Sizes()
        kind = kinds[name]
        return int if kind.startswith("int") else float if kind.startswith("float") else str

    def decorate(f: Callable) -> Callable:
        for name, (flag, text) in reversed(TRAIN_FLAGS.items()):
            default = getattr(defaults, name)
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else True
            f = click.option(flag, name, type=click_type(name), default=default,
                             show_default=shown if default is not None else False,
                             help=text)(f)
        return f

    return decorate
