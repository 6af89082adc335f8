"""The training loop: mini-batch gradient descent with train / validation tracking.

The loop of the lecture is :func:`train_epoch`, about thirty lines::

    model.train()
    for x, y in batches:                  # shuffled mini-batches
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)       # J(θ) on the batch (+ penalty terms from callbacks)
        loss.backward()                   # gradients ∂J/∂θ
        optimizer.step()                  # θ ← θ − α ∂J/∂θ (or the optimizer's own rule)
        totals.add(loss, output, y)       # running sums for the epoch's loss and accuracy

:func:`fit` wraps it: it checks the inputs, decides the device, cuts the batches, builds the
optimizer, calls ``train_epoch`` once per epoch, evaluates on the validation data
(:func:`evaluate`, which sums with the same :class:`Accumulator`), records a :class:`History`,
shows progress, runs the callbacks, and stops a run whose loss becomes NaN or infinite.

**Where it runs** (the same rule in ``fit``, ``evaluate``, ``predict`` and ``dropout.mc_predict``,
see :func:`course_lib.device.resolve_device`): an explicit ``device=`` wins; otherwise data that
already lives on a device (a ``Split`` or an ``(x, y)`` pair) decides, and the model is moved
there; otherwise (an iterable of batches such as a ``DataLoader``) the model's device.

**Metric names.** :func:`evaluate` and ``train_epoch`` return ``{"loss": ..., "acc": ...}``; the
:class:`History` keeps one list per split and metric: ``train_loss``, ``train_acc``, ``val_loss``,
``val_acc`` (and ``lr``), listed with their (split, metric) in :data:`History.FIELDS`.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from . import _checks
from .data import DatasetSplits, DeviceLoader, Split
from .device import module_device, resolve_device, shifted_seed

__all__ = ["History", "Callback", "FitState", "LambdaCallback", "Accumulator", "data_pair", "make_batches",
           "make_optimizer", "train_epoch", "fit", "evaluate", "predict", "default_loss", "DivergenceWarning"]


class DivergenceWarning(RuntimeWarning):
    """The training loss became NaN or infinite, so :func:`fit` stopped the run."""


# --------------------------------------------------------------------------- history
@dataclass
class History:
    """Per-epoch record of a run. Accuracy is ``nan`` for regression; val entries ``nan`` without val data.

    ``diverged`` is True when the training loss became NaN or infinite; ``diverged_at`` then holds
    ``(epoch, step)`` of the first non-finite loss (step counts optimizer steps from the start of
    the run, 1-based), and no metrics of that epoch are recorded.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    diverged: bool = False
    diverged_at: tuple[int, int] | None = None

    #: each recorded metric and where it comes from: (split, key of the dict that evaluate returns)
    FIELDS = {"train_loss": ("train", "loss"), "train_acc": ("train", "acc"),
              "val_loss": ("val", "loss"), "val_acc": ("val", "acc")}
    METRICS = (*FIELDS, "lr")

    def __len__(self) -> int:
        return len(self.epoch)

    def record(self, epoch: int, train: dict[str, float], val: dict[str, float] | None, lr: float,
               seconds: float = math.nan) -> None:
        """Append one epoch: ``train`` and ``val`` are dicts as :func:`evaluate` returns them."""
        splits = {"train": train, "val": val or {}}
        self.append(epoch, lr=lr, seconds=seconds,
                    **{name: splits[split].get(key, math.nan) for name, (split, key) in self.FIELDS.items()})

    def append(self, epoch: int, **values: float) -> None:
        """Append one epoch given by field names (``train_loss=…, val_acc=…, lr=…``); missing ones are ``nan``."""
        unknown = set(values) - set(self.METRICS) - {"seconds"}
        if unknown:
            raise KeyError(f"unknown history fields {sorted(unknown)}; known: {self.METRICS}")
        self.epoch.append(epoch)
        for name in (*self.METRICS, "seconds"):
            getattr(self, name).append(float(values.get(name, math.nan)))

    def best_epoch(self, metric: str = "val_loss") -> int:
        """The epoch (1-based, as recorded) with the lowest loss or highest accuracy of ``metric``."""
        values = self._metric(metric)
        finite = [(v, e) for v, e in zip(values, self.epoch) if not math.isnan(v)]
        if not finite:
            raise ValueError(f"history has no recorded values of {metric!r}")
        pick = max if self.FIELDS.get(metric, ("", ""))[1] == "acc" else min
        return pick(finite, key=lambda ve: ve[0])[1]

    def last(self, metric: str) -> float:
        values = self._metric(metric)
        if not values:
            raise ValueError("history is empty" + (f" (the run diverged at epoch {self.diverged_at[0]}, "
                                                  f"step {self.diverged_at[1]})" if self.diverged else ""))
        return values[-1]

    def _metric(self, metric: str) -> list[float]:
        if metric not in self.METRICS:
            raise KeyError(f"unknown metric {metric!r}; choose one of {self.METRICS}")
        return getattr(self, metric)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: list(getattr(self, name)) for name in ("epoch", *self.METRICS)}
        out.update(diverged=self.diverged, diverged_at=self.diverged_at)
        return out

    def __repr__(self) -> str:
        tail = f", diverged at epoch {self.diverged_at[0]}, step {self.diverged_at[1]}" if self.diverged else ""
        if not self.epoch:
            return f"History(empty{tail})"
        parts = [f"{m}={getattr(self, m)[-1]:.4g}" for m in self.FIELDS if not math.isnan(getattr(self, m)[-1])]
        return f"History({len(self)} epochs, last: {', '.join(parts)}{tail})"


# --------------------------------------------------------------------------- callbacks
@dataclass
class FitState:
    """What callbacks can see and change while :func:`fit` runs."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: Callable[[Tensor, Tensor], Tensor]
    history: History
    device: torch.device
    val: Any = None
    epoch: int = 0          # current epoch, 1-based
    step: int = 0           # optimizer steps taken so far
    batch: tuple[Tensor, Tensor] | None = None
    output: Tensor | None = None
    loss: Tensor | None = None  # loss of the current batch (data loss + extra terms)
    stop: bool = False      # set True to end training after the current step
    logs: dict[str, float] = field(default_factory=dict)  # History fields of the epoch just finished

    def evaluate(self, data=None) -> dict[str, float]:
        """``{"loss", "acc"}`` of the model on ``data`` (default: the validation data), as :func:`evaluate`."""
        target = self.val if data is None else data
        if target is None:
            raise ValueError("no validation data was given to fit(), so there is nothing to evaluate")
        return evaluate(self.model, target, self.loss_fn, device=self.device)


class Callback:
    """Base class: override the hooks you need. Each receives the :class:`FitState`.

    Order within one step: forward → ``extra_loss`` (add a term to the loss) → backward →
    ``on_after_backward`` (gradients ready: clip, inspect) → ``optimizer.step()`` →
    ``on_step_end`` (weights updated: project, schedule per step, stop early).

    When training raises (a bad batch, ``KeyboardInterrupt``, a callback that aborts the run), ``fit``
    calls ``on_exception(state, exc)`` on every callback instead of ``on_fit_end`` and then re-raises:
    the place to remove hooks and close files that ``on_fit_start`` opened.
    """

    def on_fit_start(self, state: FitState) -> None: ...
    def on_epoch_start(self, state: FitState) -> None: ...
    def extra_loss(self, state: FitState) -> Tensor | None: return None
    def on_after_backward(self, state: FitState) -> None: ...
    def on_step_end(self, state: FitState) -> None: ...
    def on_epoch_end(self, state: FitState) -> None: ...
    def on_fit_end(self, state: FitState) -> None: ...
    def on_exception(self, state: FitState, exc: BaseException) -> None: ...


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g. ``LambdaCallback(on_after_backward=clip)``."""

    HOOKS = ("on_fit_start", "on_epoch_start", "extra_loss", "on_after_backward", "on_step_end",
             "on_epoch_end", "on_fit_end", "on_exception")

    def __init__(self, **hooks: Callable[[FitState], Any]) -> None:
        unknown = set(hooks) - set(self.HOOKS)
        if unknown:
            raise TypeError(f"unknown hooks {sorted(unknown)}; available: {self.HOOKS}")
        for name, fn in hooks.items():
            if not callable(fn):
                raise TypeError(f"hook {name} must be callable, got {_checks.describe(fn)}")
            setattr(self, name, fn)


# --------------------------------------------------------------------------- one pass over the data
class Accumulator:
    """Running sums over one pass through the data, kept on the device (no sync per batch).

    After batches b = 1..B with mean losses ℓ_b and sizes n_b::

        loss = Σ_b ℓ_b n_b / Σ_b n_b            (the mean loss per sample)
        acc  = Σ_b #{i : argmax_c f(x_i)_c = y_i} / Σ_b n_b    (integer labels only, else nan)

    Used by both :func:`train_epoch` and :func:`evaluate`. The batch losses are kept (as 0-dim
    tensors, summed once at the end), so ``first_nonfinite`` can tell which batch first had a NaN
    or infinite loss; a pass with one reports ``nan`` for both numbers, never a figure computed
    from non-finite values.
    """

    def __init__(self) -> None:
        self.losses: list[Tensor] = []    # ℓ_b, detached
        self.sizes: list[int] = []        # n_b
        self.correct: Tensor | None = None
        self.classification = True

    def add(self, loss: Tensor, output: Tensor, y: Tensor) -> None:
        """Add one batch: its mean ``loss`` (a 0-dim tensor), the model's ``output`` and the targets ``y``."""
        if not self.losses:
            self.classification = not torch.is_floating_point(y) and output.ndim == 2
            self.correct = torch.zeros((), device=output.device, dtype=torch.long)
        self.losses.append(loss.detach())
        self.sizes.append(y.shape[0])
        if self.classification:
            self.correct += (output.detach().argmax(dim=1) == y).sum()

    @property
    def batches(self) -> int:
        return len(self.losses)

    @property
    def count(self) -> int:
        return sum(self.sizes)

    @property
    def first_nonfinite(self) -> int | None:
        """0-based index of the first batch whose loss was NaN or infinite, or None."""
        if not self.losses:
            return None
        bad = (~torch.isfinite(torch.stack(self.losses))).nonzero()
        return int(bad[0]) if len(bad) else None

    def result(self) -> dict[str, float]:
        """``{"loss": mean loss, "acc": accuracy}`` of the pass (``nan`` where undefined)."""
        if not self.losses:
            raise ValueError("no batches were seen (0 samples)")
        sizes = torch.tensor(self.sizes, device=self.losses[0].device, dtype=self.losses[0].dtype)
        loss = (torch.stack(self.losses) * sizes).sum().item() / self.count
        if not math.isfinite(loss):
            return {"loss": math.nan, "acc": math.nan}
        return {"loss": loss, "acc": self.correct.item() / self.count if self.classification else math.nan}


def train_epoch(model: nn.Module, batches: Iterable, loss_fn: Callable[[Tensor, Tensor], Tensor],
                optimizer: torch.optim.Optimizer, *, callbacks: Sequence[Callback] = (),
                state: FitState | None = None) -> Accumulator:
    """One epoch of mini-batch gradient descent: the training loop of the lecture.

    For each mini-batch (x, y): the loss J(θ) = L(f(x; θ), y) (plus penalty terms that callbacks
    add), its gradient ∂J/∂θ by backpropagation, and one optimizer step, θ ← θ − α ∂J/∂θ for
    plain SGD. Batches are moved to the model's device. Returns the :class:`Accumulator` of the
    epoch's *data* losses (``.result()`` gives ``{"loss", "acc"}`` averaged over the batches, measured
    while θ was changing). ``state`` and ``callbacks`` are how :func:`fit` plugs in; alone, call
    ``train_epoch(model, batches, loss_fn, optimizer)``.
    """
    device = module_device(model)
    if state is None:
        state = FitState(model=model, optimizer=optimizer, loss_fn=loss_fn, history=History(), device=device)
    totals = Accumulator()
    model.train()
    for x, y in batches:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        output = model(x)
        loss = loss_fn(output, y)                      # the data loss J(θ) on this batch
        state.batch, state.output, state.loss = (x, y), output, loss
        total = loss
        for cb in callbacks:                           # penalty terms: J + λ Ω(θ)
            extra = cb.extra_loss(state)
            if extra is not None:
                total = total + extra
        state.loss = total
        total.backward()                               # ∂J/∂θ
        for cb in callbacks:
            cb.on_after_backward(state)
        optimizer.step()                               # θ ← θ − α ∂J/∂θ
        state.step += 1
        totals.add(loss, output, y)
        for cb in callbacks:
            cb.on_step_end(state)
        if state.stop:
            break
    return totals


# --------------------------------------------------------------------------- checks and set-up
def default_loss(y: Tensor) -> nn.Module:
    """Cross-entropy for integer class labels, mean squared error for float targets."""
    return nn.CrossEntropyLoss() if not torch.is_floating_point(y) else nn.MSELoss()


def data_pair(data, what: str) -> tuple[Tensor, Tensor] | None:
    """The one conversion rule for training data given as arrays. (x, y) tensors from a Split or a 2-tuple of tensors or NumPy arrays; None for an iterable of batches.

    NumPy arrays are converted as :class:`~course_lib.data.Split` converts them (float64 to float32,
    integer labels to int64).
    """
    if isinstance(data, DatasetSplits):
        raise TypeError(f"{what}: pass one split (for example data.train), not the whole DatasetSplits")
    if isinstance(data, Split):
        return data.x, data.y
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, (Tensor, np.ndarray)) for t in data):
        x, y = data
        if x.shape[:1] != y.shape[:1]:
            raise ValueError(f"{what}: x and y disagree on the number of samples: x has shape {tuple(x.shape)}, "
                             f"y has shape {tuple(y.shape)}")
        return tuple(Split(x, y))
    if isinstance(data, (Tensor, np.ndarray)):
        raise TypeError(f"{what}: expected (x, y), got a single array of shape {tuple(data.shape)}")
    if isinstance(data, tuple) and any(isinstance(t, (Tensor, np.ndarray)) for t in data):
        raise TypeError(f"{what}: a tuple must be (x, y) with two tensors or NumPy arrays, got "
                        f"{len(data)} items of types {[type(t).__name__ for t in data][:4]}")
    return None


def _check_inputs(x: Tensor, y: Tensor, what: str) -> None:
    """Reject empty data and NaN / inf in inputs or targets before any training."""
    if len(x) == 0:
        raise ValueError(f"{what} is empty (0 samples)")
    hint = "clean or impute the data first (e.g. drop those rows: keep = torch.isfinite(x).flatten(1).all(1))"
    _checks.finite(x, f"{what}: the inputs x", hint)
    _checks.finite(y, f"{what}: the targets y", hint)


def make_batches(data, what: str, batch_size: int, shuffle: bool, device: torch.device,
                 generator: torch.Generator | None, drop_last: bool = False) -> Iterable:
    """What ``fit`` iterates over: a :class:`~course_lib.data.DeviceLoader` on ``device`` for data given
    as a Split or an (x, y) pair (checked for NaN and inf), the iterable itself for batches (a DataLoader).
    ``what`` names the data in error messages."""
    pair = data_pair(data, what)
    if pair is not None:
        x, y = pair
        _check_inputs(x, y, what)
        return DeviceLoader(x.to(device), y.to(device), batch_size=batch_size, shuffle=shuffle,
                            drop_last=drop_last, generator=generator)
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise TypeError(f"{what} must be a Split, an (x, y) pair of tensors or NumPy arrays, or an iterable of "
                        f"(x, y) batches such as a DataLoader; got {_checks.describe(data)}")
    if hasattr(data, "__len__") and len(data) == 0:
        raise ValueError(f"{what} is empty (0 batches)")
    return data


def _shape(t: Tensor) -> str:
    """A shape with the batch dimension written N: ``(N, 1)``, ``(N,)``."""
    return "(N" + "".join(f", {d}" for d in t.shape[1:]) + (",)" if t.ndim == 1 else ")")


def _check_batch(output: Tensor, y: Tensor, loss_fn, what: str = "the data") -> None:
    """Clear errors for the common mismatches between a model's output and the targets."""
    if not isinstance(output, Tensor):
        raise TypeError(f"the model must return a tensor, got {_checks.describe(output)}")
    if output.shape[0] != y.shape[0]:
        raise ValueError(f"model output has {output.shape[0]} rows but the batch has {y.shape[0]} targets "
                         f"(output shape {tuple(output.shape)}, target shape {tuple(y.shape)})")
    cross_entropy = loss_fn is None or isinstance(loss_fn, nn.CrossEntropyLoss)  # None: the default is still open
    if torch.is_floating_point(y) and y.ndim == 1 and output.ndim == 2 and output.shape[1] > 1 and cross_entropy:
        raise TypeError(f"{what}: the targets are floats of shape {tuple(y.shape)} but the model gives "
                        f"{output.shape[1]} outputs per sample, a classifier: class labels must be integer class "
                        f"indices 0..{output.shape[1] - 1} (convert with y.long()); for regression give targets "
                        f"of the output's shape {tuple(output.shape)}")
    if not torch.is_floating_point(y):
        if y.dtype == torch.bool or y.is_complex():
            raise TypeError(f"{what}: class labels must be integer class indices, got dtype {y.dtype}")
        if output.ndim != 2:
            raise ValueError(f"classification needs logits of shape (N, classes); the model gives "
                             f"{tuple(output.shape)}")
        if y.ndim != 1:
            raise ValueError(f"class labels must have shape (N,), got {tuple(y.shape)}")
        top = int(y.max()) if y.numel() else 0
        if top >= output.shape[1] or (y.numel() and int(y.min()) < 0):
            raise ValueError(f"labels must lie in 0..{output.shape[1] - 1} for a model with {output.shape[1]} "
                             f"outputs; this batch has labels from {int(y.min())} to {top}")
    elif (loss_fn is None or isinstance(loss_fn, (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss))) \
            and output.shape != y.shape:
        raise ValueError(f"regression output shape {_shape(output)} differs from target shape {_shape(y)}; "
                         f"they must match (e.g. y of shape (N, 1) for one output)")


@torch.no_grad()
def _probe(model: nn.Module, x: Tensor, y: Tensor, loss_fn, what: str) -> None:
    """Check data against the model before training: dtypes, and two samples run through the model
    in eval mode (no state changes); integer labels are checked over all of ``y``."""
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if dtype is not None and torch.is_floating_point(x) and x.dtype != dtype:
        raise TypeError(f"{what}: the inputs have dtype {x.dtype} but the model's parameters are {dtype}; "
                        f"convert with x.to({dtype})")
    was_training = model.training
    model.eval()
    try:
        output = model(x[:2])
    except RuntimeError as exc:
        raise ValueError(f"{what}: the model cannot take inputs of shape {tuple(x.shape[1:])} (one sample); "
                         f"check the input size the model was built for. PyTorch says: {exc}") from exc
    finally:
        model.train(was_training)
    _check_batch(output, y[:2], loss_fn, what)
    if not torch.is_floating_point(y) and output.ndim == 2:
        _check_batch(output.new_empty(len(y), output.shape[1]), y, loss_fn, what)


def _first_batch(batches: Iterable, what: str) -> tuple[Tensor, Tensor]:
    """The first (x, y) of an iterable of batches, which must be re-iterable (one pass per epoch)."""
    if iter(batches) is batches:
        raise TypeError(f"{what}: an iterator can be consumed only once, but training makes one pass per "
                        f"epoch; pass a re-iterable (a DataLoader, a list of batches) or a Split")
    for batch in batches:
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2 and all(isinstance(t, Tensor) for t in batch)):
            raise TypeError(f"{what}: each batch must be an (x, y) pair of tensors, got {_checks.describe(batch)}")
        return batch[0], batch[1]
    raise ValueError(f"{what} produced no batches")


def _has_batch_norm(model: nn.Module) -> bool:
    """Whether ``model`` holds a layer that normalizes over the batch in training: ``torch.nn``'s batch norm
    (``BatchNorm1d/2d/3d``, ``SyncBatchNorm``, the lazy ones) or ``course_lib.normalization``'s ``BatchNorm1d/2d``."""
    from .normalization import BatchNorm1d, BatchNorm2d  # imported here: training does not load it otherwise

    return any(isinstance(m, (nn.modules.batchnorm._BatchNorm, BatchNorm1d, BatchNorm2d)) for m in model.modules())


def _is_optimizer_class(optimizer) -> bool:
    return isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)


def make_optimizer(model: nn.Module, optimizer, lr: float | None) -> torch.optim.Optimizer:
    """``fit``'s rule for its ``optimizer=``: ``None`` gives SGD at ``lr`` (default 0.1); an Optimizer class
    (``torch.optim.Adam``) is built on the model's parameters at ``lr`` (default: the class's own); an
    Optimizer is used as it is, and a factory ``params -> Optimizer`` is called on the model's parameters
    (both set their own rate, so ``lr`` is not used)."""
    if optimizer is None or _is_optimizer_class(optimizer):
        if lr is not None:
            lr = _checks.real(lr, "lr", low=0.0, low_open=True)
        if optimizer is None:
            return torch.optim.SGD(model.parameters(), lr=0.1 if lr is None else lr)
        return optimizer(model.parameters()) if lr is None else optimizer(model.parameters(), lr=lr)
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if callable(optimizer):
        opt = optimizer(model.parameters())
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"optimizer factory must return a torch.optim.Optimizer, got {type(opt).__name__}")
        return opt
    raise TypeError(f"optimizer must be a torch.optim.Optimizer, an Optimizer class, a factory taking parameters, "
                    f"or None; got {_checks.describe(optimizer)}")


def _progress_default() -> bool:
    return os.environ.get("COURSE_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off")


# --------------------------------------------------------------------------- evaluate / predict
@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable | None = None, *, batch_size: int = 4096,
             device: torch.device | str | None = None) -> dict[str, float]:
    """``{"loss": mean loss, "acc": accuracy}`` of ``model`` on ``data``, in eval mode, without gradients.

    ``data``: a :class:`Split`, an ``(x, y)`` pair of tensors or NumPy arrays, or an iterable of
    batches. Accuracy is ``nan`` for float (regression) targets. Computed where the device rule
    says (an explicit ``device``, else the data's device, else the model's); the model is moved
    there, and its train/eval mode is restored afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {_checks.describe(model)}")
    batch_size = _checks.integer(batch_size, "batch_size", low=1)
    dev = resolve_device(model, data, device)
    model.to(dev)
    batches = make_batches(data, "evaluation data", batch_size, False, dev, None)
    was_training = model.training
    model.eval()
    totals = Accumulator()
    try:
        for x, y in batches:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            loss_fn = default_loss(y) if loss_fn is None else loss_fn
            output = model(x)
            if totals.batches == 0:
                _check_batch(output, y, loss_fn, "evaluation data")
            totals.add(loss_fn(output, y), output, y)
    finally:
        model.train(was_training)
    if totals.count == 0:
        raise ValueError("evaluation data is empty (0 samples)")
    return totals.result()


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, *, batch_size: int = 4096,
            device: torch.device | str | None = None) -> Tensor:
    """Model outputs for inputs ``x`` ``(N, ...)`` in eval mode, computed in batches.

    Where: an explicit ``device``, else ``x``'s device (the model is moved there). The outputs
    are on that device.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {_checks.describe(model)}")
    x = _checks.as_tensor(x, "predict: x")
    batch_size = _checks.integer(batch_size, "batch_size", low=1)
    if len(x) == 0:
        raise ValueError("predict() got an empty input (0 samples)")
    dev = resolve_device(model, x, device)
    model.to(dev)
    was_training = model.training
    model.eval()
    try:
        outs = [model(x[i:i + batch_size].to(dev)) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs)


# --------------------------------------------------------------------------- fit
def fit(model: nn.Module, train, val=None, *, epochs: int = 10, optimizer=None, lr: float | None = None,
        loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None, batch_size: int = 64, drop_last: bool = False,
        callbacks: Sequence[Callback] = (), device: torch.device | str | None = None,
        progress: bool | None = None, seed: int | None = None, generator: torch.Generator | None = None,
        eval_train: bool = False, history: History | None = None) -> History:
    """Train ``model`` with mini-batch gradient descent (:func:`train_epoch` once per epoch); return its :class:`History`.

    Parameters
    ----------
    train, val : a :class:`~course_lib.data.Split`, an ``(x, y)`` pair of tensors or NumPy arrays
        (kept on the device and batched there), or any iterable of ``(x, y)`` batches such as a ``DataLoader``.
    epochs : passes over the training data.
    optimizer, lr : ``None`` for plain SGD at learning rate ``lr`` (default 0.1); an Optimizer class such as
        ``torch.optim.Adam``, built on the model's parameters at ``lr`` (default: the class's own); or a
        ``torch.optim.Optimizer`` or a factory ``params -> Optimizer``, which set their own rate (passing
        ``lr`` as well is refused, since it would be ignored).
    loss_fn : default cross-entropy for integer labels, mean squared error for float targets.
    batch_size, drop_last : mini-batch size; ``drop_last=True`` skips a last, smaller batch
        (batch norm cannot train on a batch of one sample).
    callbacks : :class:`Callback` objects (penalties, clipping, schedulers, early stopping, ...).
    device : where to train; default: the data's device for a Split or pair, else the model's.
        The model is moved there.
    progress : a ``tqdm`` bar over epochs; default on unless ``COURSE_PROGRESS=0``.
    seed, generator : make the batch order reproducible (default: drawn from torch's global RNG).
    eval_train : after each epoch also evaluate on the whole training set in eval mode and record
        that instead of the running average over the epoch's batches (exact, but one extra pass).
    history : continue recording into an existing History (epochs keep counting).

    A run whose training loss becomes NaN or infinite stops at the end of that epoch with a
    :class:`DivergenceWarning` naming the epoch and step; ``history.diverged`` is then True.
    """
    # ---- set-up and checks
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {_checks.describe(model)}")
    epochs = _checks.integer(epochs, "epochs", low=0)
    batch_size = _checks.integer(batch_size, "batch_size", low=1)
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback objects, got {_checks.describe(callbacks)}")
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (output, target) -> loss, got {_checks.describe(loss_fn)}")
    if history is not None and not isinstance(history, History):
        raise TypeError(f"history must be a History, got {_checks.describe(history)}")
    if generator is None:
        seed = int(torch.randint(0, 2**62, ())) if seed is None else shifted_seed(_checks.integer(seed, "seed", low=0))
        generator = torch.Generator().manual_seed(seed)
    elif not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {_checks.describe(generator)}")
    dev = resolve_device(model, train, device)
    model.to(dev)
    train_batches = make_batches(train, "training data", batch_size, True, dev, generator, drop_last)
    pair = data_pair(train, "training data")
    x0, y0 = pair if pair is not None else _first_batch(train_batches, "training data")
    x0, y0 = x0.to(dev), y0.to(dev)
    if pair is None:
        _check_inputs(x0, y0, "training data (first batch)")
    _probe(model, x0, y0, loss_fn, "training data")
    loss_fn = default_loss(y0) if loss_fn is None else loss_fn
    if pair is not None and _has_batch_norm(model) and not drop_last and len(x0) % batch_size == 1:
        raise ValueError(f"the last training batch would hold one sample ({len(x0)} samples, batch_size="
                         f"{batch_size}), and batch norm cannot normalize a batch of one; pass drop_last=True "
                         f"or choose another batch_size")
    if val is not None:
        val_batches = make_batches(val, "validation data", batch_size, False, dev, None)  # check before training
        if isinstance(val_batches, DeviceLoader):
            _probe(model, val_batches.x, val_batches.y, loss_fn, "validation data")
    if lr is not None and optimizer is not None and not _is_optimizer_class(optimizer):
        raise ValueError(f"lr={lr!r} would be ignored: the optimizer given ({_checks.describe(optimizer)}) sets its "
                         f"own learning rate; set it there, or pass the Optimizer class (optimizer=torch.optim.Adam, "
                         f"lr=...) for fit to build it at lr")
    opt = make_optimizer(model, optimizer, lr)
    history = history if history is not None else History()
    state = FitState(model=model, optimizer=opt, loss_fn=loss_fn, history=history, device=dev, val=val,
                     epoch=history.epoch[-1] if history.epoch else 0)
    show = _progress_default() if progress is None else bool(progress)
    bar = None
    if show and epochs > 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="epochs", leave=False)

    # ---- the epochs
    callbacks = list(callbacks)
    try:
        _run_epochs(model, train_batches, val, loss_fn, opt, callbacks, state, history, epochs, eval_train, dev, bar)
    except BaseException as exc:
        if bar is not None:
            bar.close()
        for cb in callbacks:
            try:
                cb.on_exception(state, exc)
            except Exception as inner:  # keep the original error; say that the clean-up failed too
                warnings.warn(f"{type(cb).__name__}.on_exception raised {inner!r} while handling {exc!r}",
                              RuntimeWarning, stacklevel=2)
        raise
    if bar is not None:
        bar.close()
    for cb in callbacks:
        cb.on_fit_end(state)
    return history


def _run_epochs(model, train_batches, val, loss_fn, opt, callbacks, state, history, epochs, eval_train, dev, bar):
    """The epochs of :func:`fit`, from ``on_fit_start`` to the last ``on_epoch_end``."""
    for cb in callbacks:
        cb.on_fit_start(state)
    for _ in range(epochs):
        if state.stop:
            break
        state.epoch += 1
        lr_now = opt.param_groups[0]["lr"]
        for cb in callbacks:
            cb.on_epoch_start(state)
        start = time.perf_counter()
        first_step = state.step
        try:
            totals = train_epoch(model, train_batches, loss_fn, opt, callbacks=callbacks, state=state)
        except ValueError as exc:
            if "Expected more than 1 value per channel" not in str(exc):
                raise
            raise ValueError(f"batch norm got a training batch of one sample (epoch {state.epoch}, step "
                             f"{state.step + 1}); pass drop_last=True to fit, or make the batches larger") from exc
        if totals.batches == 0:
            raise ValueError("training data produced no batches")
        epoch_m = totals.result()
        if math.isnan(epoch_m["loss"]):  # a NaN or infinite batch loss: stop, and say where
            _diverged(history, state.epoch, first_step + totals.first_nonfinite + 1, lr_now)
            break
        train_m = evaluate(model, train_batches, loss_fn, device=dev) if eval_train else epoch_m
        val_m = evaluate(model, val, loss_fn, device=dev) if val is not None else None
        history.record(state.epoch, train_m, val_m, lr=lr_now, seconds=time.perf_counter() - start)
        state.logs = {name: getattr(history, name)[-1] for name in History.METRICS}
        for cb in callbacks:
            cb.on_epoch_end(state)
        if bar is not None:
            bar.set_postfix({k: f"{v:.3g}" for k, v in state.logs.items() if k != "lr" and not math.isnan(v)})
            bar.update(1)


def _diverged(history: History, epoch: int, step: int, lr: float) -> None:
    history.diverged, history.diverged_at = True, (epoch, step)
    warnings.warn(
        f"training stopped: the loss became NaN or infinite at epoch {epoch}, step {step} (learning rate {lr:g}). "
        f"Try a lower learning rate, gradient clipping (torch.nn.utils.clip_grad_norm_ in a callback), or check "
        f"the data and the loss for values that overflow. history.diverged is True; the metrics of this epoch "
        f"are not recorded.", DivergenceWarning, stacklevel=4)
