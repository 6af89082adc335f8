"""The training loop: mini-batch gradient descent with train / validation tracking.

One epoch of :func:`fit` is exactly the loop of the lecture::

    model.train()
    for x, y in train_batches:            # shuffled mini-batches
        optimizer.zero_grad()
        loss = loss_fn(model(x), y) (+ penalties from callbacks)
        loss.backward()                   # gradients ∂J/∂θ
        optimizer.step()                  # θ ← θ − α ∂J/∂θ (or the optimizer's rule)
    model.eval(); evaluate on the validation set without gradients

and records a :class:`History` (loss, accuracy and learning rate per epoch). Callbacks
plug into named points of the loop (penalties, gradient clipping, max-norm, schedulers,
early stopping, monitors). Everything runs on the device the model lives on.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import Tensor, nn

from .data import DatasetSplits, DeviceLoader, Split

__all__ = ["History", "Callback", "FitState", "LambdaCallback", "SchedulerCallback", "fit", "evaluate",
           "accuracy", "predict", "default_loss"]


# --------------------------------------------------------------------------- history
@dataclass
class History:
    """Per-epoch record of a run. Accuracy is ``nan`` for regression; val entries ``nan`` without val data."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")

    def __len__(self) -> int:
        return len(self.epoch)

    def append(self, epoch: int, **values: float) -> None:
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
        pick = max if metric.endswith("acc") else min
        return pick(finite, key=lambda ve: ve[0])[1]

    def last(self, metric: str) -> float:
        values = self._metric(metric)
        if not values:
            raise ValueError("history is empty")
        return values[-1]

    def _metric(self, metric: str) -> list[float]:
        if metric not in self.METRICS:
            raise KeyError(f"unknown metric {metric!r}; choose one of {self.METRICS}")
        return getattr(self, metric)

    def to_dict(self) -> dict[str, list]:
        return {name: list(getattr(self, name)) for name in ("epoch", *self.METRICS)}

    def __repr__(self) -> str:
        if not self.epoch:
            return "History(empty)"
        parts = [f"{m}={getattr(self, m)[-1]:.4g}" for m in self.METRICS[:4] if not math.isnan(getattr(self, m)[-1])]
        return f"History({len(self)} epochs, last: {', '.join(parts)})"


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
    logs: dict[str, float] = field(default_factory=dict)  # metrics of the epoch just finished

    def evaluate(self, data=None) -> dict[str, float]:
        """Loss and accuracy of the model on ``data`` (default: the validation data)."""
        target = self.val if data is None else data
        if target is None:
            raise ValueError("no validation data was given to fit(), so there is nothing to evaluate")
        return evaluate(self.model, target, self.loss_fn, device=self.device)


class Callback:
    """Base class: override the hooks you need. Each receives the :class:`FitState`.

    Order within one step: ``extra_loss`` (add a term to the loss) → backward →
    ``on_after_backward`` (gradients ready: clip, inspect) → ``optimizer.step()`` →
    ``on_step_end`` (weights updated: project, schedule per step, stop early).
    """

    def on_fit_start(self, state: FitState) -> None: ...
    def on_epoch_start(self, state: FitState) -> None: ...
    def extra_loss(self, state: FitState) -> Tensor | None: return None
    def on_after_backward(self, state: FitState) -> None: ...
    def on_step_end(self, state: FitState) -> None: ...
    def on_epoch_end(self, state: FitState) -> None: ...
    def on_fit_end(self, state: FitState) -> None: ...


class LambdaCallback(Callback):
    """A callback made of plain functions, e.g. ``LambdaCallback(on_after_backward=clip)``."""

    HOOKS = ("on_fit_start", "on_epoch_start", "extra_loss", "on_after_backward", "on_step_end",
             "on_epoch_end", "on_fit_end")

    def __init__(self, **hooks: Callable[[FitState], Any]) -> None:
        unknown = set(hooks) - set(self.HOOKS)
        if unknown:
            raise TypeError(f"unknown hooks {sorted(unknown)}; available: {self.HOOKS}")
        for name, fn in hooks.items():
            setattr(self, name, fn)


class SchedulerCallback(Callback):
    """Steps a ``torch.optim.lr_scheduler`` scheduler once per epoch (default) or per step.

    For ``ReduceLROnPlateau`` the monitored metric (``monitor``, default ``val_loss``) is passed on.
    """

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if interval not in ("epoch", "step"):
            raise ValueError(f"interval must be 'epoch' or 'step', got {interval!r}")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor

    def _step(self, state: FitState) -> None:
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if self.monitor not in state.logs or math.isnan(state.logs[self.monitor]):
                raise ValueError(f"ReduceLROnPlateau needs {self.monitor!r} each epoch; pass val data to fit()")
            self.scheduler.step(state.logs[self.monitor])
        else:
            self.scheduler.step()

    def on_step_end(self, state: FitState) -> None:
        if self.interval == "step":
            self._step(state)

    def on_epoch_end(self, state: FitState) -> None:
        if self.interval == "epoch":
            self._step(state)


# --------------------------------------------------------------------------- helpers
def accuracy(logits: Tensor, y: Tensor) -> Tensor:
    """Fraction of rows whose arg-max equals the label (a 0-dim tensor on the logits' device)."""
    return (logits.argmax(dim=1) == y).float().mean()


def default_loss(y: Tensor) -> nn.Module:
    """Cross-entropy for integer class labels, mean squared error for float targets."""
    return nn.CrossEntropyLoss() if not torch.is_floating_point(y) else nn.MSELoss()


def _is_classification(y: Tensor) -> bool:
    return not torch.is_floating_point(y)


def _model_device(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")


def _as_pair(data, what: str) -> tuple[Tensor, Tensor] | None:
    """(x, y) tensors from a Split or a 2-tuple; None for any other iterable of batches."""
    if isinstance(data, DatasetSplits):
        raise TypeError(f"{what}: pass one split (for example data.train), not the whole DatasetSplits")
    if isinstance(data, Split):
        return data.x, data.y
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        Split(data[0], data[1])  # validates lengths
        return data[0], data[1]
    if isinstance(data, Tensor):
        raise TypeError(f"{what}: expected (x, y), got a single tensor of shape {tuple(data.shape)}")
    return None


def _batches(data, what: str, batch_size: int, shuffle: bool, device: torch.device,
             generator: torch.Generator | None) -> Iterable:
    pair = _as_pair(data, what)
    if pair is not None:
        x, y = pair
        if len(x) == 0:
            raise ValueError(f"{what} is empty (0 samples)")
        return DeviceLoader(x.to(device), y.to(device), batch_size=batch_size, shuffle=shuffle, generator=generator)
    if not hasattr(data, "__iter__"):
        raise TypeError(f"{what} must be a Split, an (x, y) pair of tensors or an iterable of batches, "
                        f"got {type(data).__name__}")
    if hasattr(data, "__len__") and len(data) == 0:
        raise ValueError(f"{what} is empty (0 batches)")
    return data


def _check_shapes(output: Tensor, y: Tensor, loss_fn) -> None:
    """Clear errors for the common mismatches between a model's output and the targets."""
    if output.shape[0] != y.shape[0]:
        raise ValueError(f"model output has {output.shape[0]} rows but the batch has {y.shape[0]} targets "
                         f"(output shape {tuple(output.shape)}, target shape {tuple(y.shape)})")
    if _is_classification(y):
        if output.ndim != 2:
            raise ValueError(f"classification needs logits of shape (N, classes); the model gives "
                             f"{tuple(output.shape)}")
        if y.ndim != 1:
            raise ValueError(f"class labels must have shape (N,), got {tuple(y.shape)}")
        top = int(y.max()) if y.numel() else 0
        if top >= output.shape[1] or (y.numel() and int(y.min()) < 0):
            raise ValueError(f"labels must lie in 0..{output.shape[1] - 1} for a model with {output.shape[1]} "
                             f"outputs; this batch has labels from {int(y.min())} to {top}")
    elif isinstance(loss_fn, (nn.MSELoss, nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss)) and output.shape != y.shape:
        raise ValueError(f"regression output shape {tuple(output.shape)} differs from target shape {tuple(y.shape)}; "
                         f"they must match (e.g. y of shape (N, 1) for one output)")


def _make_optimizer(model: nn.Module, optimizer, lr: float) -> torch.optim.Optimizer:
    if optimizer is None:
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        return torch.optim.SGD(model.parameters(), lr=lr)
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if callable(optimizer):
        opt = optimizer(model.parameters())
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(f"optimizer factory must return a torch.optim.Optimizer, got {type(opt).__name__}")
        return opt
    raise TypeError(f"optimizer must be a torch.optim.Optimizer, a factory taking parameters, or None; "
                    f"got {type(optimizer).__name__}")


def _progress_default() -> bool:
    return os.environ.get("COURSE_PROGRESS", "1").strip().lower() not in ("0", "false", "no", "off")


# --------------------------------------------------------------------------- evaluate / predict
@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable | None = None, *, batch_size: int = 4096,
             device: torch.device | str | None = None) -> dict[str, float]:
    """Mean loss and accuracy (``nan`` for regression) of ``model`` on ``data``, in eval mode.

    ``data``: a :class:`Split`, an ``(x, y)`` pair of tensors, or an iterable of batches.
    The model's train/eval mode is restored afterwards.
    """
    dev = torch.device(device) if device is not None else _model_device(model)
    batches = _batches(data, "evaluation data", batch_size, False, dev, None)
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev)
    n = 0
    classification = None
    try:
        for x, y in batches:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            if loss_fn is None:
                loss_fn = default_loss(y)
            out = model(x)
            if n == 0:
                _check_shapes(out, y, loss_fn)
                classification = _is_classification(y)
            total_loss += loss_fn(out, y).detach() * len(y)
            if classification:
                correct += (out.argmax(dim=1) == y).sum()
            n += len(y)
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("evaluation data is empty (0 samples)")
    return {"loss": total_loss.item() / n, "acc": correct.item() / n if classification else math.nan}


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, *, batch_size: int = 4096) -> Tensor:
    """Model outputs for inputs ``x`` in eval mode, computed in batches on the model's device."""
    dev = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        outs = [model(x[i:i + batch_size].to(dev)) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    if not outs:
        raise ValueError("predict() got an empty input (0 samples)")
    return torch.cat(outs)


# --------------------------------------------------------------------------- fit
def fit(model: nn.Module, train, val=None, *, epochs: int = 10, optimizer=None, lr: float = 0.1,
        loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None, batch_size: int = 64,
        callbacks: Sequence[Callback] = (), device: torch.device | str | None = None,
        progress: bool | None = None, seed: int | None = None, generator: torch.Generator | None = None,
        eval_train: bool = False, history: History | None = None) -> History:
    """Train ``model`` with mini-batch gradient descent and return its :class:`History`.

    Parameters
    ----------
    train, val : a :class:`~course_lib.data.Split`, an ``(x, y)`` pair of tensors (kept on the
        device and batched there), or any iterable of ``(x, y)`` batches such as a ``DataLoader``.
    epochs : passes over the training data.
    optimizer : a ``torch.optim.Optimizer``, a factory ``params -> Optimizer``, or ``None`` for
        plain SGD with learning rate ``lr``.
    loss_fn : default cross-entropy for integer labels, mean squared error for float targets.
    callbacks : :class:`Callback` objects (penalties, clipping, schedulers, early stopping, ...).
    device : move the model there first; default: where the model already is.
    progress : a ``tqdm`` bar over epochs; default on unless ``COURSE_PROGRESS=0``.
    seed, generator : make the batch order reproducible (default: drawn from torch's global RNG).
    eval_train : after each epoch also evaluate on the whole training set in eval mode and record
        that instead of the running average over the epoch's batches (exact, but one extra pass).
    history : continue recording into an existing History (epochs keep counting).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
    dev = torch.device(device) if device is not None else _model_device(model)
    model.to(dev)
    if generator is None:
        seed = int(torch.randint(0, 2**62, ())) if seed is None else seed
        generator = torch.Generator().manual_seed(seed)
    train_batches = _batches(train, "training data", batch_size, True, dev, generator)
    if val is not None:
        _batches(val, "validation data", batch_size, False, dev, None)  # validate early, before training
    opt = _make_optimizer(model, optimizer, lr)
    if loss_fn is None:
        pair = _as_pair(train, "training data")
        loss_fn = default_loss(pair[1]) if pair is not None else None
    history = history if history is not None else History()
    state = FitState(model=model, optimizer=opt, loss_fn=loss_fn, history=history, device=dev, val=val,
                     epoch=history.epoch[-1] if history.epoch else 0)
    show = _progress_default() if progress is None else progress
    bar = None
    if show and epochs > 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc="epochs", leave=False)

    for cb in callbacks:
        cb.on_fit_start(state)
    checked = False
    for _ in range(epochs):
        if state.stop:
            break
        state.epoch += 1
        lr_now = opt.param_groups[0]["lr"]
        for cb in callbacks:
            cb.on_epoch_start(state)
        start = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev)
        seen = 0
        classification = True
        for x, y in train_batches:
            x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
            if state.loss_fn is None:
                state.loss_fn = loss_fn = default_loss(y)
            opt.zero_grad(set_to_none=True)
            out = model(x)
            if not checked:
                _check_shapes(out, y, loss_fn)
                checked = True
            classification = _is_classification(y)
            data_loss = loss_fn(out, y)
            state.batch, state.output, state.loss = (x, y), out, data_loss
            loss = data_loss
            for cb in callbacks:
                extra = cb.extra_loss(state)
                if extra is not None:
                    loss = loss + extra
            state.loss = loss
            loss.backward()
            for cb in callbacks:
                cb.on_after_backward(state)
            opt.step()
            state.step += 1
            n = len(y)
            loss_sum += data_loss.detach() * n
            if classification:
                correct += (out.detach().argmax(dim=1) == y).sum()
            seen += n
            for cb in callbacks:
                cb.on_step_end(state)
            if state.stop:
                break
        if seen == 0:
            raise ValueError("training data produced no batches")
        if eval_train:
            m = evaluate(model, train_batches, loss_fn, device=dev)
            train_loss, train_acc = m["loss"], m["acc"]
        else:
            train_loss = loss_sum.item() / seen
            train_acc = correct.item() / seen if classification else math.nan
        val_m = evaluate(model, val, loss_fn, device=dev) if val is not None else {"loss": math.nan, "acc": math.nan}
        state.logs = {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_m["loss"],
                      "val_acc": val_m["acc"], "lr": lr_now}
        history.append(state.epoch, seconds=time.perf_counter() - start, **state.logs)
        for cb in callbacks:
            cb.on_epoch_end(state)
        if bar is not None:
            bar.set_postfix({k: f"{v:.3g}" for k, v in state.logs.items() if k != "lr" and not math.isnan(v)})
            bar.update(1)
    if bar is not None:
        bar.close()
    for cb in callbacks:
        cb.on_fit_end(state)
    return history
