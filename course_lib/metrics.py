"""Evaluation metrics: accuracy and calibration (how far confidence can be trusted).

* **Accuracy**: the fraction of examples whose highest-scoring class is the label,
  ``acc = (1/N) Σ_i [argmax_c z_ic = y_i]``.
* **Calibration.** A classifier is calibrated if, among the predictions it makes with
  confidence 0.8, 80 % are right. :func:`calibration_bins` sorts the predictions by their
  confidence ``max_c p_ic`` into ``M`` equal bins ``B_m``; :func:`expected_calibration_error`
  averages the gap between accuracy and confidence over the bins,

      ECE = Σ_m (|B_m| / N) · |acc(B_m) − conf(B_m)|,

  and :func:`reliability_diagram` draws the bins: accuracy against confidence, with the
  diagonal of a perfectly calibrated model. An over-confident network has its bars below the
  diagonal.

Every function takes tensors on any device (the two arguments on the same one).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import describe, finite, integer, tensor

__all__ = ["accuracy", "calibration_bins", "expected_calibration_error", "reliability_diagram"]


# --------------------------------------------------------------------------- checks
def _check_scores(scores, name: str) -> Tensor:
    """A float tensor (N, classes) with N >= 1, free of NaN and inf."""
    tensor(scores, name, floating=True)
    if scores.ndim != 2:
        raise ValueError(f"{name} must have shape (N, classes), got shape {tuple(scores.shape)}")
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one example and one class, got shape {tuple(scores.shape)}")
    return finite(scores, name)


def _check_labels(y, scores: Tensor, name: str) -> Tensor:
    """Class indices for the rows of ``scores``: an integer tensor (N,) in 0 .. classes − 1, on the same device."""
    tensor(y, "y", floating=False)
    n, k = scores.shape
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must hold one label per row of {name}, shape ({n},), got shape {tuple(y.shape)}")
    if y.device != scores.device:
        raise ValueError(f"y and {name} must be on the same device, got y on {y.device} and {name} on {scores.device}")
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise ValueError(f"y must lie in 0..{k - 1} for {k} classes, got values from {int(y.min())} to {int(y.max())}")
    return y


# --------------------------------------------------------------------------- accuracy
def accuracy(logits: Tensor, y: Tensor) -> float:
    """The fraction of rows whose largest entry is at the label: ``(1/N) Σ_i [argmax_c z_ic = y_i]``.

    ``logits`` (N, classes): scores, logits or probabilities (the argmax is the same);
    ``y`` (N,) class indices. Returns a float in [0, 1] (``sklearn.metrics.accuracy_score`` of the
    argmax and the labels).
    """
    _check_scores(logits, "logits")
    _check_labels(y, logits, "logits")
    return (logits.argmax(dim=1) == y).float().mean().item()


# --------------------------------------------------------------------------- calibration
def calibration_bins(probs: Tensor, y: Tensor, n_bins: int = 15) -> dict[str, Tensor]:
    """Reliability-diagram data: predictions binned by confidence ``max_c p_ic`` into
    ``n_bins`` equal bins ((0, 1/M], (1/M, 2/M], ...).

    probs (N, k) rows of probabilities, y (N,) labels → ``{"confidence", "accuracy", "count"}``,
    each (M,) (mean confidence, accuracy and number of predictions per bin; 0 for empty bins),
    and ``"edges"`` (M + 1,).
    """
    _check_scores(probs, "probs")
    if probs.min() < 0 or not torch.allclose(probs.sum(1), torch.ones_like(probs[:, 0]), atol=1e-3):
        raise ValueError("probs rows must be probabilities (>= 0, summing to 1); pass logits.softmax(dim=1)")
    n_bins = integer(n_bins, "n_bins", low=1)
    _check_labels(y, probs, "probs")
    conf, pred = probs.max(dim=1)
    correct = (pred == y).to(probs.dtype)
    edges = torch.linspace(0, 1, n_bins + 1, device=probs.device, dtype=probs.dtype)
    idx = torch.bucketize(conf, edges[1:-1])  # bin m holds conf in (edges[m], edges[m+1]]
    count = torch.zeros(n_bins, device=probs.device, dtype=probs.dtype).index_add_(0, idx, torch.ones_like(conf))
    conf_sum = torch.zeros_like(count).index_add_(0, idx, conf)
    acc_sum = torch.zeros_like(count).index_add_(0, idx, correct)
    safe = count.clamp_min(1)
    return {"confidence": conf_sum / safe, "accuracy": acc_sum / safe, "count": count, "edges": edges}


def expected_calibration_error(probs: Tensor, y: Tensor, n_bins: int = 15) -> float:
    """ECE = Σ_m (|B_m| / N) · |acc(B_m) − conf(B_m)|, over ``n_bins`` equal confidence bins.

    0 for a perfectly calibrated model (among predictions made with confidence 0.8, 80 % are
    right); an over-confident net has conf > acc in the top bins. probs (N, k), y (N,) → a float.
    """
    return _ece(calibration_bins(probs, y, n_bins))


def _ece(bins: dict[str, Tensor]) -> float:
    weights = bins["count"] / bins["count"].sum()
    return float((weights * (bins["accuracy"] - bins["confidence"]).abs()).sum())


def reliability_diagram(probs: Tensor, y: Tensor, n_bins: int = 10, ax=None, label: str = "model"):
    """Draw accuracy against confidence per bin (see :func:`calibration_bins`); returns the ``Axes``.

    One bar per non-empty bin, at the bin's centre, as high as the accuracy of its predictions;
    a dot at (mean confidence, accuracy) of each bin; the dashed diagonal acc = conf of a
    perfectly calibrated model. Bars below the diagonal: over-confident. The title gives the ECE.
    ``ax``: the matplotlib ``Axes`` to draw on (default: a new figure); ``label``: the model's name
    in the legend and the title.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {describe(ax)}")
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {describe(label)}")
    bins = calibration_bins(probs, y, n_bins)
    ece = _ece(bins)
    ax = ax if ax is not None else plt.subplots()[1]
    edges, count = bins["edges"].cpu(), bins["count"].cpu()
    filled = count > 0
    centers, width = (edges[:-1] + edges[1:]) / 2, 1.0 / bins["count"].numel()
    acc, conf = bins["accuracy"].cpu()[filled], bins["confidence"].cpu()[filled]
    ax.bar(centers[filled].numpy(), acc.numpy(), width=0.9 * width, alpha=0.7, label=f"{label}: accuracy in bin")
    ax.plot(conf.numpy(), acc.numpy(), "ko", ms=4, label="(mean confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "k--", lw=1.2, label="perfect calibration")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (max probability)", ylabel="accuracy",
           title=f"Reliability diagram, {label}: ECE = {ece:.3f}")
    ax.legend(loc="upper left")
    return ax
