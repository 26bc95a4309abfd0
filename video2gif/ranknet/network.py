"""The Robust Deep RankNet's network (Gygli et al., CVPR 2016): input → 512 ReLU → 128 ReLU → 1
linear score, with dropout on the input and after the first hidden layer.

Example:
    >>> net = RankNetMLP(8).eval()
    >>> net(torch.zeros(3, 8)).shape
    torch.Size([3])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

HIDDEN = (512, 128)  # units of the hidden layers
INPUT_DROPOUT = 0.8  # probability of dropping each input feature while training
HIDDEN_DROPOUT = 0.25  # probability of dropping each unit of the first hidden layer


class RankNetMLP(nn.Module):
    """input → (dropout) → 512 ReLU → (dropout) → 128 ReLU → 1 linear score.

    Arguments:
        n_in: input features (after standardisation).
        hidden: units of each hidden layer.
        input_dropout: drop probability on the input while training.
        hidden_dropout: drop probability after the first hidden layer while training.

    Example:
        >>> net = RankNetMLP(8).eval()
        >>> net(torch.zeros(3, 8)).shape
        torch.Size([3])
    """

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int] = HIDDEN,
        input_dropout: float = INPUT_DROPOUT,
        hidden_dropout: float = HIDDEN_DROPOUT,
    ) -> None:
        super().__init__()
        sizes = [int(n_in), *map(int, hidden)]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.out = nn.Linear(sizes[-1], 1)
        self.input_dropout = float(input_dropout)
        self.hidden_dropout = float(hidden_dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _dropout(x, self.input_dropout, self.training)
        for i, layer in enumerate(self.hidden):
            x = torch.relu(layer(x))
            if i == 0:
                x = _dropout(x, self.hidden_dropout, self.training)
        return self.out(x).squeeze(-1)

    def weight_matrices(self) -> list[nn.Parameter]:
        """The parameters the λ‖W‖² term covers (all weights, no biases)."""
        return [m.weight for m in (*self.hidden, self.out)]


def _dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Inverted dropout. Same law as ``F.dropout``; drawing the mask with ``rand`` is about twice
    as fast on the CPU as its Bernoulli sampler, and the input mask is most of a step's overhead."""
    if not training or p <= 0.0:
        return x
    keep = torch.rand_like(x) >= p
    return x * keep * (1.0 / (1.0 - p))
