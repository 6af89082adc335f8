"""Figures for the course: learning curves and decision boundaries, readable when projected.

Every plotting function draws into an ``ax`` (created if not given), labels both axes, adds
a legend and a title, and returns the ``Axes`` so a notebook can add to it. Photos are shown
as JPEG (:func:`show_as_jpeg`), which keeps stored notebooks small.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from cycler import cycler
from matplotlib.figure import Figure
from torch import nn

from ._checks import color as _color, describe, integer, one_of, real, tensor
from .training import History

__all__ = ["PALETTE", "COURSE_STYLE", "use_course_style", "plot_history", "plot_learning_curve", "plot_decision_boundary",
           "plot_regression_fit", "plot_images", "show_as_jpeg", "jpeg_bytes"]

# Okabe & Ito's colour-blind-safe palette, in the order of matplotlib's default colours, so that
# "C0" ... "C9" keep their usual roles: C0 blue, C1 orange, C2 (bluish) green, C3 (vermillion) red,
# C4 (reddish) purple, C5 sky blue, C6 yellow, C7 grey, C8 black, C9 wine. The first six stay
# distinct under protanopia, deuteranopia and tritanopia (tests/test_plots.py simulates them).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#999999", "#000000", "#882255")

COURSE_STYLE = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 13,
    "legend.fontsize": 12,
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


# --------------------------------------------------------------------------- argument checks
def _ax(ax: Axes | None) -> Axes:
    if ax is None:
        return plt.subplots()[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {describe(ax)}; "
                        f"make one with fig, ax = plt.subplots()")
    return ax


def _text(value: Any, name: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str{' or None' if optional else ''}, got {describe(value)}")
    return value


def _numbers(values: Any, name: str, **limits: Any) -> list[float]:
    """A sequence (list, array, 1-D tensor) of real numbers in the limits given to ``real``."""
    if isinstance(values, (torch.Tensor, np.ndarray)):
        values = values.tolist() if values.ndim == 1 else values
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence of numbers (list, 1-D array or tensor), got {describe(values)}")
    return [real(v, f"{name}[{i}]", **limits) for i, v in enumerate(values)]


# --------------------------------------------------------------------------- curves
def plot_history(history: History, metric: str = "loss", ax: Axes | None = None, label: str = "",
                 title: str | None = None, color=None) -> Axes:
    """Train (solid) and validation (dashed) curves of ``metric`` ('loss' or 'acc') against epochs.

    Reads ``history.train_<metric>`` and ``history.val_<metric>``; the validation curve is left
    out when the run had no validation data (all ``nan``).
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be a History (what fit returns), got {describe(history)}")
    metric = one_of(metric, "metric", ("loss", "acc"))
    ax, label, title, color = _ax(ax), _text(label, "label"), _text(title, "title", optional=True), _color(color)
    prefix = f"{label} " if label else ""
    train = getattr(history, f"train_{metric}")
    val = getattr(history, f"val_{metric}")
    if not train:
        diverged = getattr(history, "diverged_at", None)
        raise ValueError("history is empty: nothing to plot"
                         + (f" (the run diverged at epoch {diverged[0]})" if diverged else ""))
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
    """Train and validation score against the number of training examples (one point per size)."""
    sizes = _numbers(sizes, "sizes", low=0, low_open=True)
    train_scores = _numbers(train_scores, "train_scores")
    val_scores = _numbers(val_scores, "val_scores")
    if not (len(sizes) == len(train_scores) == len(val_scores)) or not len(sizes):
        raise ValueError(f"sizes, train_scores and val_scores need the same non-zero length, got "
                         f"{len(sizes)}, {len(train_scores)}, {len(val_scores)}")
    ax, ylabel, title, label = _ax(ax), _text(ylabel, "ylabel"), _text(title, "title"), _text(label, "label")
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

    ``x`` has shape ``(N, 2)`` and ``y`` holds the ``N`` integer labels; the model maps ``(M, 2)``
    to logits ``(M, classes)`` and is evaluated on a ``resolution × resolution`` grid that extends
    ``margin`` beyond the points, in eval mode.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    x = tensor(x, "x", floating=True)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision boundaries need 2-D inputs of shape (N, 2), got {tuple(x.shape)}")
    y = tensor(y, "y (the class labels)", floating=False, ndim=1)
    if len(y) != len(x):
        raise ValueError(f"x and y disagree on the number of points: x has {len(x)}, y has {len(y)}")
    if len(y) and int(y.min()) < 0:
        raise ValueError(f"y must hold class labels 0, 1, ..., got {int(y.min())}")
    ax, title = _ax(ax), _text(title, "title")
    resolution = integer(resolution, "resolution", low=2)
    margin = real(margin, "margin", low=0.0)
    xc, yc = x.detach().cpu(), y.detach().cpu()
    lo, hi = xc.min(0).values - margin, xc.max(0).values + margin
    g0, g1 = torch.meshgrid(torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution),
                            indexing="xy")
    grid = torch.stack([g0.reshape(-1), g1.reshape(-1)], dim=1)
    device = next(model.parameters(), torch.empty(0)).device
    was_training = model.training
    model.eval()
    try:
        logits = model(grid.to(device))
    finally:
        model.train(was_training)
    if logits.ndim != 2 or logits.shape[0] != len(grid):
        raise ValueError(f"model must map inputs of shape (M, 2) to logits of shape (M, classes), got "
                         f"{tuple(logits.shape)} for M = {len(grid)}")
    pred = logits.argmax(dim=1).cpu().reshape(g0.shape)
    k = int(max(yc.max().item() if len(yc) else 0, pred.max().item())) + 1
    colors = [PALETTE[i % len(PALETTE)] for i in range(k)]
    ax.contourf(g0.numpy(), g1.numpy(), pred.numpy(), levels=np.arange(k + 1) - 0.5, colors=colors, alpha=0.25)
    for c in range(k):
        sel = yc == c
        ax.scatter(xc[sel, 0], xc[sel, 1], s=14, color=colors[c], edgecolors="k", linewidths=0.3, label=f"class {c}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title)
    ax.legend(loc="upper right")
    return ax


def plot_regression_fit(x: torch.Tensor, y: torch.Tensor, curves: dict[str, tuple[np.ndarray, np.ndarray]],
                        ax: Axes | None = None, title: str = "Fits", ylim: tuple[float, float] | None = None) -> Axes:
    """Training points ``(x, y)`` (tensors with one value per point) plus named curves ``{label: (xs, ys)}``."""
    x, y = tensor(x, "x"), tensor(y, "y")
    if x.numel() != y.numel():
        raise ValueError(f"x and y need one value per point, got {x.numel()} and {y.numel()} values "
                         f"(shapes {tuple(x.shape)} and {tuple(y.shape)})")
    if not isinstance(curves, dict):
        raise TypeError(f"curves must be a dict {{label: (xs, ys)}}, got {describe(curves)}")
    for label, pair in curves.items():
        _text(label, "each label of curves")
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"curves[{label!r}] must be a pair (xs, ys), got {describe(pair)}")
        sizes = [a.numel() if isinstance(a, torch.Tensor) else np.size(a) for a in pair]
        if sizes[0] != sizes[1]:
            raise ValueError(f"curves[{label!r}] needs xs and ys of the same length, got {sizes[0]} and {sizes[1]}")
    if ylim is not None:
        if not isinstance(ylim, (tuple, list)) or len(ylim) != 2:
            raise TypeError(f"ylim must be a pair (bottom, top) or None, got {describe(ylim)}")
        ylim = (real(ylim[0], "ylim bottom"), real(ylim[1], "ylim top"))
        if ylim[0] >= ylim[1]:
            raise ValueError(f"ylim must have bottom < top, got {ylim}")
    ax, title = _ax(ax), _text(title, "title")
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


# --------------------------------------------------------------------------- images
def plot_images(images: Sequence[torch.Tensor], titles: Sequence[str] | None = None, ncols: int = 4,
                width: float = 2.4, suptitle: str | None = None) -> Figure:
    """Show image tensors in a grid, one title each; returns the ``Figure``.

    ``images``: a list of ``(C, H, W)`` tensors (or one ``(N, C, H, W)`` tensor) with C = 1 (grey)
    or 3 (RGB), float in [0, 1] or uint8, on any device (all of the first image's height/width
    ratio). ``width``: inches per column.
    """
    if isinstance(images, (str, bytes)) or not isinstance(images, (Sequence, torch.Tensor)):
        raise TypeError(f"images must be a list of (C, H, W) tensors, got {describe(images)}")
    if len(images) == 0:
        raise ValueError("plot_images needs at least one image")
    for i, img in enumerate(images):
        if not isinstance(img, torch.Tensor):
            raise TypeError(f"image {i} must be a (C, H, W) tensor, got {describe(img)}")
        if img.dim() != 3 or img.shape[0] not in (1, 3):
            raise ValueError(f"image {i} must be a (C, H, W) tensor with C = 1 or 3, got {tuple(img.shape)}")
    if titles is not None:
        if isinstance(titles, str) or not isinstance(titles, Sequence):
            raise TypeError(f"titles must be a list of str (one per image) or None, got {describe(titles)}")
        if len(titles) != len(images):
            raise ValueError(f"got {len(titles)} titles for {len(images)} images")
        titles = [_text(t, f"titles[{i}]") for i, t in enumerate(titles)]
    ncols = integer(ncols, "ncols", low=1)
    width = real(width, "width (inches per column)", low=0.0, low_open=True)
    suptitle = _text(suptitle, "suptitle", optional=True)
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


def jpeg_bytes(fig: Figure, quality: int = 85) -> bytes:
    """The figure encoded as JPEG (``quality`` 1–100), as bytes; the figure stays open."""
    import io

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure (e.g. what plot_images returns), got {describe(fig)}")
    quality = integer(quality, "quality", low=1, high=100)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="jpeg", bbox_inches="tight", pil_kwargs={"quality": quality})
    return buffer.getvalue()


def show_as_jpeg(fig: Figure, quality: int = 85) -> None:
    """Display ``fig`` in the notebook as a JPEG and close it; returns ``None``.

    Photos take a fraction of a PNG's space as JPEG, which keeps stored notebooks small.
    Nothing is returned, so a cell ending in ``show_as_jpeg(fig)`` stores only the image;
    :func:`jpeg_bytes` gives the bytes.
    """
    data = jpeg_bytes(fig, quality)
    plt.close(fig)
    from IPython.display import Image, display

    display(Image(data))
