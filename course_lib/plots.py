"""Figures for the course: learning curves and decision boundaries, readable when projected.

Every function draws into an ``ax`` (created if not given), labels both axes, adds a
legend and a title, and returns the ``Axes`` so a notebook can add to it.
"""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from torch import nn

from .training import History

__all__ = ["use_course_style", "plot_history", "plot_learning_curve", "plot_decision_boundary",
           "plot_regression_fit", "plot_images", "show_as_jpeg"]

COURSE_STYLE = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 13,
    "legend.fontsize": 11,
    "lines.linewidth": 2.2,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def use_course_style() -> None:
    """Large fonts and thick lines (readable from the back of a room); small stored figures."""
    plt.rcParams.update(COURSE_STYLE)
    try:  # keep inline figures small in the stored notebooks
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:
        pass


def _ax(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.subplots()[1]


def plot_history(history: History, metric: str = "loss", ax: Axes | None = None, label: str = "",
                 title: str | None = None, color=None) -> Axes:
    """Train (solid) and validation (dashed) curves of ``metric`` ('loss' or 'acc') against epochs."""
    if metric not in ("loss", "acc"):
        raise ValueError(f"metric must be 'loss' or 'acc', got {metric!r}")
    ax = _ax(ax)
    prefix = f"{label} " if label else ""
    train = getattr(history, f"train_{metric}")
    val = getattr(history, f"val_{metric}")
    if not train:
        raise ValueError("history is empty: nothing to plot")
    (line,) = ax.plot(history.epoch, train, "-", color=color, label=f"{prefix}train")
    if not all(math.isnan(v) for v in val):
        ax.plot(history.epoch, val, "--", color=line.get_color(), label=f"{prefix}validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy" if metric == "acc" else "loss")
    ax.set_title(title or ("Accuracy" if metric == "acc" else "Loss") + " during training")
    ax.legend()
    return ax


def plot_learning_curve(sizes: Sequence[int], train_scores: Sequence[float], val_scores: Sequence[float],
                        ax: Axes | None = None, ylabel: str = "error", title: str = "Learning curve",
                        label: str = "") -> Axes:
    """Train and validation score against the number of training examples."""
    if not (len(sizes) == len(train_scores) == len(val_scores)) or not len(sizes):
        raise ValueError(f"sizes, train_scores and val_scores need the same non-zero length, got "
                         f"{len(sizes)}, {len(train_scores)}, {len(val_scores)}")
    ax = _ax(ax)
    prefix = f"{label} " if label else ""
    (line,) = ax.plot(sizes, train_scores, "o-", label=f"{prefix}train")
    ax.plot(sizes, val_scores, "s--", color=line.get_color(), label=f"{prefix}validation")
    ax.set_xlabel("training-set size")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax


@torch.no_grad()
def plot_decision_boundary(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ax: Axes | None = None,
                           title: str = "Decision boundary", resolution: int = 200, margin: float = 0.3) -> Axes:
    """Shade the class the model predicts over the plane; overlay the points ``(x, y)``.

    ``x`` has shape ``(N, 2)``; the model maps ``(M, 2)`` to logits ``(M, classes)``.
    """
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision boundaries need 2-D inputs of shape (N, 2), got {tuple(x.shape)}")
    ax = _ax(ax)
    xc, yc = x.detach().cpu(), y.detach().cpu()
    lo, hi = xc.min(0).values - margin, xc.max(0).values + margin
    g0, g1 = torch.meshgrid(torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution),
                            indexing="xy")
    grid = torch.stack([g0.reshape(-1), g1.reshape(-1)], dim=1)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    pred = model(grid.to(device)).argmax(dim=1).cpu().reshape(g0.shape)
    model.train(was_training)
    k = int(max(yc.max().item(), pred.max().item())) + 1
    cmap = plt.get_cmap("tab10")
    ax.contourf(g0.numpy(), g1.numpy(), pred.numpy(), levels=np.arange(k + 1) - 0.5, colors=[cmap(i) for i in range(k)],
                alpha=0.25)
    for c in range(k):
        sel = yc == c
        ax.scatter(xc[sel, 0], xc[sel, 1], s=14, color=cmap(c), edgecolors="k", linewidths=0.3, label=f"class {c}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=9)
    return ax


def plot_regression_fit(x: torch.Tensor, y: torch.Tensor, curves: dict[str, tuple[np.ndarray, np.ndarray]],
                        ax: Axes | None = None, title: str = "Fits", ylim: tuple[float, float] | None = None) -> Axes:
    """Training points plus named curves ``{label: (xs, ys)}`` for 1-D regression."""
    ax = _ax(ax)
    ax.scatter(x.detach().cpu().reshape(-1), y.detach().cpu().reshape(-1), s=18, color="k", label="training data",
               zorder=3)
    for label, (xs, ys) in curves.items():
        ax.plot(xs, ys, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.legend()
    return ax


def plot_images(images: Sequence[torch.Tensor], titles: Sequence[str] | None = None, ncols: int = 4,
                width: float = 2.4, suptitle: str | None = None):
    """Show image tensors in a grid, one title each; returns the ``Figure``.

    ``images``: ``(C, H, W)`` tensors with C = 1 (grey) or 3 (RGB), float in [0, 1] or uint8, on
    any device (all of the first image's height/width ratio). ``width``: inches per column.
    """
    if len(images) == 0:
        raise ValueError("plot_images needs at least one image")
    for i, img in enumerate(images):
        if not isinstance(img, torch.Tensor) or img.dim() != 3 or img.shape[0] not in (1, 3):
            shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
            raise ValueError(f"image {i} must be a (C, H, W) tensor with C = 1 or 3, got {shape}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, len(images))
    nrows = math.ceil(len(images) / ncols)
    aspect = images[0].shape[-2] / images[0].shape[-1]
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(width * ncols, nrows * (width * aspect + 0.45) + (0.45 if suptitle else 0)))
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, img) in enumerate(zip(axes.flat, images)):
        img = img.detach().cpu()
        img = img.float() / 255 if img.dtype == torch.uint8 else img.float().clamp(0, 1)
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).numpy())
        if titles is not None:
            ax.set_title(titles[i], fontsize=12)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_as_jpeg(fig, quality: int = 85) -> bytes:
    """Display ``fig`` in the notebook as a JPEG, close it, and return the JPEG bytes.

    Photos take a fraction of a PNG's space as JPEG, which keeps stored notebooks small.
    """
    import io

    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="jpeg", bbox_inches="tight", pil_kwargs={"quality": quality})
    plt.close(fig)
    data = buffer.getvalue()
    display(Image(data))
    return data
