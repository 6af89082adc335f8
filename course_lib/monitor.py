"""Training diagnostics: per-layer histograms and the update/weight ratio, as a ``fit`` callback, with TensorBoard.

"How to Train ConvNets" asks to watch, while a network trains, the distributions of each layer's

* **activations** ``h_l`` (the output of each activation layer, as ``course_lib.gradients.layer_stats``
  watches them): all near 0 or all saturated means a bad initialization or rate;
* **gradients** ``∂L/∂W_l`` of each weight, taken right after ``loss.backward()``;
* **weights** ``W_l`` themselves, at the end of each epoch;

and, per step and per layer, the **update/weight ratio** (cs231n's rule of thumb, quoted in the deck)

    r_l = ‖W_l(after step) − W_l(before step)‖ / ‖W_l(before step)‖ = ‖ΔW_l‖ / ‖W_l‖     (Frobenius norms)

(for plain SGD ``ΔW = −η ∂L/∂W``, so ``r = η ‖∂L/∂W‖ / ‖W‖``), "around 1e-3" by the rule of thumb: far below,
the rate is probably too small, far above, too large. The ratio is measured, not computed from the gradient,
so it holds for any optimizer (momentum, Adam, weight decay).

:class:`TrainingMonitor` records all of this, once per epoch for the histograms (on the epoch's first
batch: activations and gradients; at the epoch's end: weights) and at every step for the ratio, and
optionally writes it to TensorBoard (``torch.utils.tensorboard.SummaryWriter``) under
``run_dir(name)`` = ``course_lib.data.data_root() / "runs" / name``. Every forward hook it registers is
removed at the end of training, also when training raises (``on_exception``), and the writer is closed.
:func:`histogram` gives the counts and edges it records; :func:`read_events` reads the event files back
with TensorBoard's own ``EventAccumulator``.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor, nn

from ._checks import describe, integer
from .data import data_root
from .gradients import DEFAULT_LAYER_TYPES
from .training import Callback, FitState

__all__ = ["histogram", "update_ratio", "Histogram", "TrainingMonitor", "run_dir", "read_events",
           "WEIGHT_LAYER_TYPES"]

#: the layers whose weight the monitor watches (histograms of W and ∂L/∂W, the update/weight ratio)
WEIGHT_LAYER_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d)


def histogram(values: Tensor, bins: int = 30) -> tuple[Tensor, Tensor]:
    """``(counts, edges)`` of all entries of ``values`` over ``bins`` equal bins from their min to their max.

    ``counts``: ``bins`` float64 counts summing to ``values.numel()``; ``edges``: ``bins + 1`` float64 edges
    (both on the CPU). A constant tensor gets the range ``[v − 0.5, v + 0.5]``. The values are detached and
    copied first, so the histogram is a snapshot. Same counts as ``torch.histogram(values, bins)``.
    """
    if not isinstance(values, Tensor):
        raise TypeError(f"values must be a torch.Tensor, got {describe(values)}")
    bins = integer(bins, "bins", low=1)
    if values.numel() == 0:
        raise ValueError("values must hold at least one entry, got an empty tensor")
    flat = values.detach().to("cpu", torch.float64).reshape(-1)
    if not torch.isfinite(flat).all():
        raise ValueError("values must be finite to be binned, got NaN or infinite entries")
    lo, hi = flat.min().item(), flat.max().item()
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = torch.histogram(flat, bins=bins, range=(lo, hi))
    return counts, edges


def update_ratio(before: Tensor, after: Tensor) -> float:
    """‖after − before‖ / ‖before‖ (Frobenius norms): the size of one update relative to the weights."""
    for name, t in (("before", before), ("after", after)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (a weight), got {describe(t)}")
    if before.shape != after.shape:
        raise ValueError(f"before and after must have the same shape, got {tuple(before.shape)} and "
                         f"{tuple(after.shape)}")
    b, a = before.detach().double(), after.detach().double()
    norm = b.norm().item()
    return (a - b).norm().item() / norm if norm > 0 else math.inf


@dataclass
class Histogram:
    """One recorded histogram: ``counts`` (``bins``), ``edges`` (``bins + 1``) and the summary TensorBoard keeps."""

    epoch: int
    step: int
    counts: Tensor
    edges: Tensor
    num: int
    sum: float
    sum_squares: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Tensor, bins: int, epoch: int, step: int) -> "Histogram":
        counts, edges = histogram(values, bins)
        flat = values.detach().double().reshape(-1)
        return cls(epoch, step, counts, edges, flat.numel(), flat.sum().item(), (flat * flat).sum().item(),
                   flat.min().item(), flat.max().item())


def run_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """The TensorBoard log folder of run ``name``: ``root / name``, ``root`` default ``data_root() / "runs"``."""
    if not isinstance(name, str) or not name or any(c in name for c in "\\:") or ".." in Path(name).parts:
        raise ValueError(f"name must be a non-empty relative folder name such as 'notebook13/lr0.1', got {name!r}")
    return Path(root if root is not None else data_root() / "runs") / name


def _writer(log_dir: Path):
    import warnings
    with warnings.catch_warnings():  # tensorboard's import may warn about optional packages
        warnings.simplefilter("ignore")
        from torch.utils.tensorboard import SummaryWriter
    return SummaryWriter(log_dir=str(log_dir))


class TrainingMonitor(Callback):
    """A :func:`~course_lib.training.fit` callback recording per-layer histograms and update/weight ratios.

    ``self.activations[layer][k]``, ``self.gradients[layer][k]``, ``self.weights[layer][k]``: the
    :class:`Histogram` of epoch k (``every`` epochs apart; activations and ∂L/∂W on the epoch's first
    batch, W at its end; epoch 0 holds the weights before training). ``self.ratios[layer]``: the
    update/weight ratio ‖ΔW‖/‖W‖ at every optimizer step. Layers are named as in ``model.named_modules()``.

    ``log_dir``: a folder (e.g. :func:`run_dir`) to write TensorBoard events into (``None``: record only);
    ``clear=True`` empties it first. Written: histograms ``activation/<layer>``, ``gradient/<layer>``,
    ``weight/<layer>`` (step = epoch), scalars ``update_ratio/<layer>`` (step = optimizer step, written at
    the end of each epoch) and the epoch's ``loss/train``, ``loss/val``, ``acc/train``, ``acc/val``.
    """

    def __init__(self, *, bins: int = 30, every: int = 1, activation_types: Sequence[type[nn.Module]] =
                 DEFAULT_LAYER_TYPES, weight_types: Sequence[type[nn.Module]] = WEIGHT_LAYER_TYPES,
                 log_dir: str | os.PathLike | None = None, clear: bool = False) -> None:
        self.bins = integer(bins, "bins", low=1)
        self.every = integer(every, "every", low=1)
        for name, types in (("activation_types", activation_types), ("weight_types", weight_types)):
            if isinstance(types, type):
                types = (types,)
            if not isinstance(types, (tuple, list)) or not all(
                    isinstance(t, type) and issubclass(t, nn.Module) for t in types):
                raise TypeError(f"{name} must be a tuple of nn.Module classes such as (nn.ReLU,), got "
                                f"{describe(types)}")
            setattr(self, f"_{name}", tuple(types))
        if log_dir is not None and not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"log_dir must be a folder path or None, got {describe(log_dir)}")
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.clear = bool(clear)
        self.handles: list[Any] = []
        self.writer = None

    # ---------------------------------------------------------------- hooks of fit
    def on_fit_start(self, state: FitState) -> None:
        model = state.model
        self._weight_layers = {name or type(m).__name__: m for name, m in model.named_modules()
                               if isinstance(m, self._weight_types) and isinstance(getattr(m, "weight", None), Tensor)}
        acts = [(name or type(m).__name__, m) for name, m in model.named_modules()
                if isinstance(m, self._activation_types)]
        if not self._weight_layers and not acts:
            raise ValueError("model has no layer the monitor watches; pass weight_types= or activation_types=")
        self.activations = {name: [] for name, _ in acts}
        self.gradients = {name: [] for name in self._weight_layers}
        self.weights = {name: [] for name in self._weight_layers}
        self.ratios = {name: [] for name in self._weight_layers}
        self.ratio_steps: list[int] = []
        self._capture = False
        self._before: dict[str, Tensor] = {}
        self.handles = [m.register_forward_hook(self._hook(name)) for name, m in acts]
        if self.log_dir is not None:
            if self.clear and self.log_dir.exists():
                shutil.rmtree(self.log_dir)
            self.writer = _writer(self.log_dir)
        for name, m in self._weight_layers.items():
            self._record(self.weights, name, m.weight, epoch=0, step=state.step)

    def _hook(self, name: str):
        def hook(module, inputs, output):
            if self._capture and isinstance(output, Tensor):
                self._record(self.activations, name, output, self._epoch, self._step)
        return hook

    def on_epoch_start(self, state: FitState) -> None:
        self._epoch, self._step = state.epoch, state.step
        self._capture = (state.epoch - 1) % self.every == 0
        self._ratio_start = len(self.ratio_steps)

    def on_after_backward(self, state: FitState) -> None:
        if self._capture:
            for name, m in self._weight_layers.items():
                if m.weight.grad is not None:
                    self._record(self.gradients, name, m.weight.grad, state.epoch, state.step + 1)
            self._capture = False  # the histograms of activations and gradients: the first batch only
        self._before = {name: m.weight.detach().clone() for name, m in self._weight_layers.items()}

    def on_step_end(self, state: FitState) -> None:
        for name, m in self._weight_layers.items():
            self.ratios[name].append(update_ratio(self._before[name], m.weight))
        self.ratio_steps.append(state.step)
        self._before = {}

    def on_epoch_end(self, state: FitState) -> None:
        self._capture = False
        if (state.epoch - 1) % self.every == 0:
            for name, m in self._weight_layers.items():
                self._record(self.weights, name, m.weight, state.epoch, state.step)
        if self.writer is not None:
            self._write(state)

    def on_fit_end(self, state: FitState) -> None:
        self.close()

    def on_exception(self, state: FitState, exc: BaseException) -> None:
        self.close()

    # ---------------------------------------------------------------- helpers
    def close(self) -> None:
        """Remove every hook and close the TensorBoard writer (called by fit at the end, also after an error)."""
        for h in self.handles:
            h.remove()
        self.handles = []
        self._capture = False
        if self.writer is not None:
            self.writer.flush()
            self.writer.close()
            self.writer = None

    def _record(self, store: dict, name: str, values: Tensor, epoch: int, step: int) -> None:
        if values.numel() and bool(torch.isfinite(values).all()):
            store[name].append(Histogram.of(values, self.bins, epoch, step))

    def _write(self, state: FitState) -> None:
        w = self.writer
        for kind, store in (("activation", self.activations), ("gradient", self.gradients), ("weight", self.weights)):
            for name, hists in store.items():
                for h in hists:
                    if h.epoch == state.epoch or (h.epoch == 0 and state.epoch == 1):
                        w.add_histogram_raw(f"{kind}/{name}", min=h.min, max=h.max, num=h.num, sum=h.sum,
                                            sum_squares=h.sum_squares, bucket_limits=h.edges[1:].tolist(),
                                            bucket_counts=h.counts.tolist(), global_step=h.epoch)
        for name, values in self.ratios.items():
            for step, r in zip(self.ratio_steps[self._ratio_start:], values[self._ratio_start:]):
                if math.isfinite(r):
                    w.add_scalar(f"update_ratio/{name}", r, global_step=step)
        for key, tag in (("train_loss", "loss/train"), ("val_loss", "loss/val"), ("train_acc", "acc/train"),
                         ("val_acc", "acc/val")):
            v = state.logs.get(key, math.nan)
            if isinstance(v, float) and math.isfinite(v):
                w.add_scalar(tag, v, global_step=state.epoch)
        w.flush()

    def median_ratio(self, first_steps: int | None = None) -> dict[str, float]:
        """Per layer, the median update/weight ratio over all steps (or the first ``first_steps``)."""
        out = {}
        for name, values in self.ratios.items():
            v = torch.tensor(values[:first_steps] if first_steps else values, dtype=torch.float64)
            out[name] = v.nan_to_num(math.inf).median().item() if len(v) else math.nan
        return out


def read_events(log_dir: str | os.PathLike) -> dict[str, Any]:
    """Read a TensorBoard log folder back with TensorBoard's own ``EventAccumulator``.

    Returns ``{"scalars": {tag: [(step, value), ...]}, "histograms": {tag: [(step, limits, counts), ...]}}``
    (all events of the folder's event files; ``limits`` are the right bucket edges).
    """
    path = Path(log_dir)
    if not path.is_dir():
        raise ValueError(f"log_dir must be an existing folder of TensorBoard event files, got {str(path)!r}")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in tags.get("scalars", [])}
    hists = {t: [(e.step, list(e.histogram_value.bucket_limit), list(e.histogram_value.bucket))
                 for e in acc.Histograms(t)] for t in tags.get("histograms", [])}
    return {"scalars": scalars, "histograms": hists}
