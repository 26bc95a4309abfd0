"""The pair losses of the Robust Deep RankNet: the paper's robust ranking loss and its variants.

A pair is a segment from a GIF (s⁺) and one not (s⁻) of the same video; the network should score
s⁺ above s⁻ by a margin of 1. :func:`pair_loss` turns each pair's margin violation into its loss
(l1, l2, Huber, adaptive Huber); :func:`normalise_popularity` gives the popularity that makes the
Huber loss adaptive.

Example:
    >>> u = margin_violation(torch.tensor([2.0, 0.5]), torch.tensor([0.0, 0.0]))
    >>> pair_loss(u, "l2").tolist()
    [0.0, 0.25]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import UsageError
from .network import RankNetMLP

MARGIN = 1.0  # h(s⁺) must exceed h(s⁻) by this much for a pair to cost nothing
HUBER_DELTA = 1.5  # δ: the Huber loss is quadratic up to δ, linear beyond
WEIGHT_DECAY = 0.001  # λ of the objective's λ‖W‖² (weight matrices, not biases)
LOSSES = ("l1", "l2", "huber", "adaptive-huber")


def margin_violation(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """u = max(0, 1 − h(s⁺) + h(s⁻)) for each pair.

    Example:
        >>> margin_violation(torch.tensor([2.0, 0.5]), torch.tensor([0.0, 0.0])).tolist()
        [0.0, 0.5]
    """
    return torch.clamp(MARGIN - pos_scores + neg_scores, min=0.0)


def pair_loss(
    u: torch.Tensor,
    loss: str,
    popularity: torch.Tensor | None = None,
    delta: float = HUBER_DELTA,
) -> torch.Tensor:
    """The loss of each pair from its margin violation ``u``.

    - ``l1``: u
    - ``l2``: u²
    - ``huber``: u²/2 for u ≤ δ, δ(u − δ/2) beyond (δ = 1.5)
    - ``adaptive-huber``: Huber with δ = 1.5 + p, p the pair's popularity in [0, 1]
      (:func:`normalise_popularity`): popular GIFs are trusted further into the quadratic zone,
      so a pair from an obscure GIF that the model strongly disagrees with pulls less.

    Arguments:
        u: margin violations (≥ 0), one per pair.
        loss: one of :data:`LOSSES`.
        popularity: p per pair, required by ``adaptive-huber``.
        delta: the base δ.

    Returns:
        One loss per pair (same shape as ``u``).

    Raises:
        UsageError: unknown loss, or adaptive-huber without popularity.

    Example:
        >>> u = torch.tensor([1.0, 3.0])
        >>> pair_loss(u, "huber").tolist()
        [0.5, 3.375]
    """
    if loss == "l1":
        return u
    if loss == "l2":
        return u * u
    if loss == "huber":
        d = torch.as_tensor(delta, dtype=u.dtype)
    elif loss == "adaptive-huber":
        if popularity is None:
            raise UsageError("--loss", "adaptive-huber needs the popularity of each pair")
        d = delta + popularity.to(u.dtype)
    else:
        raise UsageError("--loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return torch.where(u <= d, 0.5 * u * u, d * (u - 0.5 * d))


def check_loss(loss: str) -> str:
    """Return ``loss`` if it is one of :data:`LOSSES`, else raise :class:`UsageError`."""
    if loss not in LOSSES:
        raise UsageError("--loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return loss


def normalise_popularity(views: Sequence[float], age_days: Sequence[float]) -> np.ndarray:
    """Popularity p ∈ [0, 1] of each GIF, for the adaptive Huber loss.

    p = minmax(log(1 + views / max(age_days, 1))): views per day since the GIF was posted (an
    age under a day counts as one day, so a GIF posted an hour ago is not a million-views-a-day
    outlier), log-scaled because views are heavy-tailed, then min–max normalised over the given
    set (the training set). A GIF whose views or age is unknown (NaN or negative) gets p = 0, the
    plain Huber loss; if every known GIF has the same rate, all get 0.

    Arguments:
        views: view counts, one per GIF.
        age_days: days since each GIF was posted.

    Returns:
        float64 array of p, one per GIF.

    Example:
        >>> normalise_popularity([0, 99, 9999, 50], [10, 1, 0.5, float("nan")]).round(3).tolist()
        [0.0, 0.5, 1.0, 0.0]
    """
    views = np.asarray(views, dtype=np.float64)
    age = np.asarray(age_days, dtype=np.float64)
    known = np.isfinite(views) & np.isfinite(age) & (views >= 0) & (age >= 0)
    rate = np.zeros_like(views)
    rate[known] = np.log1p(views[known] / np.maximum(age[known], 1.0))
    out = np.zeros_like(views)
    if known.any():
        lo, hi = rate[known].min(), rate[known].max()
        if hi > lo:
            out[known] = (rate[known] - lo) / (hi - lo)
    return out


def weight_penalty(net: RankNetMLP, weight_decay: float = WEIGHT_DECAY) -> torch.Tensor:
    """λ‖W‖²: λ times the sum of squares of every weight matrix (biases are not penalised)."""
    return weight_decay * sum((w * w).sum() for w in net.weight_matrices())
