"""Learning-rate schedules: step, exponential, 1/t, cosine, warm restarts, cyclic, on plateau; the range test.

A schedule makes the learning rate a function of the training time t (epochs, or optimizer steps
for the per-batch schedules), starting from each parameter group's initial rate η₀:

=====================  ======================================================  ===========================
schedule               η_t                                                     torch name
=====================  ======================================================  ===========================
step decay             η₀ · γ^⌊t / s⌋                                          ``StepLR``
piecewise constant     η₀ · γ^(number of milestones m_i ≤ t)                   ``MultiStepLR``
exponential decay      η₀ · γ^t                                                ``ExponentialLR``
exponential, every N   η₀ · γ^(t/N) (smooth)  or  η₀ · γ^⌊t/N⌋ (staircase)     :class:`ExponentialDecayLR`
1/t decay              η₀ / (1 + k·t)                                          :class:`InverseTimeLR`
cosine annealing       η_min + ½ (η₀ − η_min)(1 + cos(π t / T_max))            ``CosineAnnealingLR``
warm restarts (SGDR)   η_min + ½ (η₀ − η_min)(1 + cos(π T_cur / T_i))          ``CosineAnnealingWarmRestarts``
cyclic (triangular)    η_base + (η_max − η_base) · triangle(t) · scale         ``CyclicLR``
on plateau             η ← max(factor · η, min_lr) after more than             ``ReduceLROnPlateau``
                       ``patience`` bad epochs ("performance scheduling")
=====================  ======================================================  ===========================

(:class:`ExponentialDecayLR` and :class:`InverseTimeLR` have no PyTorch twin.)

The "Regularization and Optimization of DNNs" deck writes the exponential schedule as
η(n) = η₀ / γ^(n/N) with γ = 10 for "a tenth every N epochs"; PyTorch (and this module) multiply by
``gamma`` once per ``step()`` instead. In general the deck's (γ, N) is ``ExponentialLR(gamma=γ^(−1/N))``
stepped once per epoch (γ = 10, N = 20: ``gamma = 10^(−1/20) ≈ 0.891``), or
``ExponentialDecayLR(gamma=1/γ, step_size=N)`` (``StepLR(step_size=N, gamma=1/γ)`` for the staircase).
The deck's γ is ``1 / gamma`` only when N = 1.

Each class with a ``torch.optim.lr_scheduler`` namesake is a drop-in for it: the same constructor
arguments and defaults, the same learning rates step by step, ``get_last_lr()``, and a
``state_dict`` with the same entries, so a state saved by one loads into the other. They subclass
PyTorch's base class ``LRScheduler``, which keeps the bookkeeping (``last_epoch`` counts the calls
to ``step()``, ``base_lrs`` holds η₀ of each group, ``step()`` writes the new rates into the
optimizer). What each class adds is the formula above, in ``_get_closed_form_lr()``, and one
step of it, in ``get_lr()``.

As PyTorch's, the decay schedules (step, piecewise, exponential, 1/t, cosine) are *chainable*:
``step()`` calls ``get_lr()``, which takes each group's current rate and applies one step of the
schedule to it (η_t = γ · η_{t−1} at a step of ``StepLR``, and so on), never starting again from η₀.
Alone they give the formula, to float rounding; and they compose with whatever else changes the
rate: a second scheduler on the same optimizer, ``ChainedScheduler``, a warm-up in ``SequentialLR``
or a rate set by hand. ``step(epoch)`` (deprecated in PyTorch) and ``SequentialLR``'s milestones use
the closed form. Warm restarts and the cyclic schedule are computed from η₀ each step, as in
PyTorch (a restart is a restart); ``ReduceLROnPlateau`` multiplies the current rate. A rate held in
a tensor (``lr=torch.tensor(0.1)``) is updated in place, as PyTorch does.

The usual loop calls ``scheduler.step()`` once per epoch, after the optimizer's steps;
``CyclicLR`` (and warm restarts, if wanted) once per batch. With :func:`course_lib.training.fit`,
:class:`SchedulerCallback` does it. :func:`lr_range_test` finds a learning rate to start from.
"""

from __future__ import annotations

import bisect
import copy
import math
import numbers
import types
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim import lr_scheduler as _torch_schedulers
from torch.optim.lr_scheduler import LRScheduler

from . import _checks
from ._checks import describe, integer, one_of, real
from .training import Callback, FitState, History, default_loss, data_pair, make_batches, make_optimizer

__all__ = ["StepLR", "MultiStepLR", "ExponentialLR", "ExponentialDecayLR", "InverseTimeLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "CyclicLR", "ReduceLROnPlateau", "SchedulerCallback", "lr_curve",
           "lr_range_test", "RangeTestResult"]


# --------------------------------------------------------------------------- argument checks
def _optimizer(optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {describe(optimizer)}")
    return optimizer


def _last_epoch(last_epoch: Any) -> int:
    return integer(last_epoch, "last_epoch", low=-1)


def _gamma(gamma: Any, name: str = "gamma") -> float:
    return real(gamma, name, low=0.0, low_open=True)


def _per_group(value: Any, name: str, optimizer: Optimizer, **limits: Any) -> list[float]:
    """One number for every parameter group: a number (the same for all) or a list with one per group."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{name} must be a number or a list with one value per parameter group "
                             f"({groups}), got {len(value)} values")
        return [real(v, f"{name}[{i}]", **limits) for i, v in enumerate(value)]
    return [real(value, name, **limits)] * groups


# --------------------------------------------------------------------------- writing rates into the optimizer
def _current_lrs(optimizer: Optimizer) -> list[float | Tensor]:
    """Each group's rate now; a tensor rate is copied (so the list never aliases the optimizer's)."""
    return [g["lr"].clone() if isinstance(g["lr"], Tensor) else g["lr"] for g in optimizer.param_groups]


def _set(group: dict, key: str, value: float | Tensor) -> None:
    """``group[key] = value``, but a tensor rate is filled in place: the optimizer keeps the same tensor."""
    if isinstance(group[key], Tensor):
        group[key].fill_(value.reshape(()) if isinstance(value, Tensor) else value)
    else:
        group[key] = value


def _warn_outside_step(scheduler: LRScheduler) -> None:
    """``get_lr()`` gives the *next* rates from the current ones: only ``step()`` should call it (as in PyTorch)."""
    if not scheduler._get_lr_called_within_step:
        warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                      UserWarning, stacklevel=3)


# --------------------------------------------------------------------------- the decay schedules
# Each one is chainable, as PyTorch's are: get_lr() takes the rates the optimizer has now and applies one
# step of the schedule to them, η_t = η_{t−1} · (η_t / η_{t−1} of the formula); it never starts again from
# η₀, so another scheduler, a warm-up or a rate set by hand is kept. The formula itself is
# _get_closed_form_lr(), which step(epoch) uses (and SequentialLR at its milestones).
class StepLR(LRScheduler):
    """Step decay: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

        η_t = η₀ · γ^⌊t / step_size⌋          (t = ``last_epoch``, η₀ = the group's initial lr)

    ``StepLR(optimizer, step_size=30, gamma=0.1)`` on an optimizer with lr = 0.05 (η₀ = 0.05): 0.05 for
    t < 30, 0.005 for 30 ≤ t < 60, 0.0005 for 60 ≤ t < 90, ...

    Each ``step()`` multiplies the current rate by γ when t is a multiple of ``step_size``, so the
    decay combines with whatever else changes the rate (another scheduler, a warm-up, a hand edit).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        self.step_size = integer(step_size, "step_size", low=1)
        self.gamma = _gamma(gamma)
        super().__init__(optimizer, _last_epoch(last_epoch))

    def get_lr(self) -> list[float | Tensor]:
        """One step: η_t = γ · η_{t−1} at t = step_size, 2·step_size, ...; η_t = η_{t−1} otherwise."""
        _warn_outside_step(self)
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float | Tensor]:
        """η_t = η₀ · γ^⌊t / step_size⌋."""
        return [lr0 * self.gamma ** (self.last_epoch // self.step_size) for lr0 in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Piecewise constant: multiply the learning rate by ``gamma`` at each milestone epoch.

        η_t = η₀ · γ^(number of milestones m_i ≤ t)

    ``MultiStepLR(optimizer, milestones=[30, 80], gamma=0.1)``: η₀ before epoch 30, η₀/10 until 80,
    η₀/100 after. The deck's "η = 0.1, then 0.0001 at epoch 50" is ``milestones=[50], gamma=0.001``.
    ``milestones``: epoch numbers, in any order, stored as a ``Counter`` as PyTorch does: a milestone
    given twice multiplies by γ twice.
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise TypeError(f"milestones must be a list of epoch numbers, got {describe(milestones)}")
        self.milestones = Counter(integer(m, "milestones[]", low=0) for m in milestones)
        self.gamma = _gamma(gamma)
        super().__init__(optimizer, _last_epoch(last_epoch))

    def get_lr(self) -> list[float | Tensor]:
        """One step: η_t = γ^c · η_{t−1}, c = how many times t is among the milestones (0: unchanged)."""
        _warn_outside_step(self)
        if self.last_epoch not in self.milestones:
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float | Tensor]:
        """η_t = η₀ · γ^(number of milestones m_i ≤ t)."""
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [lr0 * self.gamma ** passed for lr0 in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Exponential decay: multiply the learning rate by ``gamma`` every epoch.

        η_t = η₀ · γ^t
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        self.gamma = _gamma(gamma)
        super().__init__(optimizer, _last_epoch(last_epoch))

    def get_lr(self) -> list[float | Tensor]:
        """One step: η_t = γ · η_{t−1} (the constructor's own first step keeps the rates)."""
        _warn_outside_step(self)
        if self._is_initial:
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float | Tensor]:
        """η_t = η₀ · γ^t."""
        return [lr0 * self.gamma ** self.last_epoch for lr0 in self.base_lrs]


class ExponentialDecayLR(LRScheduler):
    """Exponential decay by ``gamma`` every ``step_size`` epochs, smooth or in a staircase (no torch twin).

        smooth:     η_t = η₀ · γ^(t / N)          (N = ``step_size``)
        staircase:  η_t = η₀ · γ^⌊t / N⌋

    The deck's η(n) = η₀ / γ^(n/N) with its γ = 10 is ``gamma=0.1`` here. ``staircase=True`` gives
    exactly ``StepLR(step_size=N, gamma=γ)``; ``step_size=1`` gives ``ExponentialLR(gamma)``. Chainable
    like them: each ``step()`` multiplies the current rate by γ^(1/N) (by γ every N steps).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, step_size: int = 1, staircase: bool = False,
                 last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        self.gamma = _gamma(gamma)
        self.step_size = integer(step_size, "step_size", low=1)
        self.staircase = _checks.flag(staircase, "staircase")
        super().__init__(optimizer, _last_epoch(last_epoch))

    def get_lr(self) -> list[float | Tensor]:
        """One step: smooth η_t = γ^(1/N) · η_{t−1}; staircase η_t = γ · η_{t−1} at t = N, 2N, ..."""
        _warn_outside_step(self)
        if self.staircase:   # as StepLR
            if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
                return _current_lrs(self.optimizer)
            factor = self.gamma
        else:                # as ExponentialLR
            if self._is_initial:
                return _current_lrs(self.optimizer)
            factor = self.gamma if self.step_size == 1 else self.gamma ** (1.0 / self.step_size)
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float | Tensor]:
        """η_t = η₀ · γ^(t/N), or η₀ · γ^⌊t/N⌋ in a staircase."""
        n = self.last_epoch // self.step_size if self.staircase else self.last_epoch / self.step_size
        return [lr0 * self.gamma ** n for lr0 in self.base_lrs]


class InverseTimeLR(LRScheduler):
    """1/t decay (no torch twin).

        η_t = η₀ / (1 + k · t)

    The rate halves at t = 1/k, is a tenth at t = 9/k, and decays more slowly than any exponential.
    Chainable: each ``step()`` multiplies the current rate by (1 + k(t − 1)) / (1 + k t).
    """

    def __init__(self, optimizer: Optimizer, k: float, last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        self.k = real(k, "k", low=0.0)
        super().__init__(optimizer, _last_epoch(last_epoch))

    def get_lr(self) -> list[float | Tensor]:
        """One step: η_t = η_{t−1} · (1 + k (t − 1)) / (1 + k t)."""
        _warn_outside_step(self)
        t = self.last_epoch
        if self._is_initial or t == 0:
            return _current_lrs(self.optimizer)
        factor = (1.0 + self.k * (t - 1)) / (1.0 + self.k * t)
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float | Tensor]:
        """η_t = η₀ / (1 + k t)."""
        return [lr0 / (1.0 + self.k * self.last_epoch) for lr0 in self.base_lrs]


# --------------------------------------------------------------------------- cosine and warm restarts
def _cosine(lr0: float, eta_min: float, fraction: float) -> float:
    """η_min + ½ (η₀ − η_min)(1 + cos(π · fraction)): η₀ at fraction 0, η_min at fraction 1."""
    return eta_min + (lr0 - eta_min) * (1.0 + math.cos(math.pi * fraction)) / 2.0


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from η₀ down to ``eta_min`` over ``T_max`` epochs.

        η_t = η_min + ½ (η₀ − η_min) (1 + cos(π t / T_max))

    Past ``T_max`` the cosine carries on (the rate rises again towards η₀ at t = 2 T_max), as
    PyTorch's does; for restarts use :class:`CosineAnnealingWarmRestarts`.

    Chainable, as PyTorch's: each ``step()`` moves the current rate's distance to η_min by the ratio
    of two consecutive cosine factors,

        η_t = η_min + (η_{t−1} − η_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t − 1) / T_max)),

    which is the formula above as long as nothing else changes the rate. (Where the denominator
    is 0, at the bottom t − 1 = T_max, 3 T_max, ..., the step adds ½ (η₀ − η_min)(1 − cos(π / T_max)).)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        self.T_max = integer(T_max, "T_max", low=1)
        self.eta_min = real(eta_min, "eta_min", low=0.0)
        super().__init__(optimizer, _last_epoch(last_epoch))

    def get_lr(self) -> list[float | Tensor]:
        """One step of the cosine from the current rates (see the class docstring)."""
        _warn_outside_step(self)
        t, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return _current_lrs(self.optimizer)
        if (t - 1 - T_max) % (2 * T_max) == 0:   # leaving the bottom of the cosine
            return [group["lr"] + (lr0 - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for lr0, group in zip(self.base_lrs, self.optimizer.param_groups)]
        ratio = (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float | Tensor]:
        """η_t = η_min + ½ (η₀ − η_min)(1 + cos(π t / T_max))."""
        return [_cosine(lr0, self.eta_min, self.last_epoch / self.T_max) for lr0 in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine annealing restarted every T_i epochs, the period growing by ``T_mult`` at each restart.

        η_t = η_min + ½ (η₀ − η_min) (1 + cos(π T_cur / T_i))

    ``T_cur`` counts the epochs since the last restart, ``T_i`` is the length of the current period
    (``T_0``, then ``T_0·T_mult``, ``T_0·T_mult²``, ...). When ``T_cur`` reaches ``T_i`` the rate
    jumps back to η₀ (a warm restart: the weights are kept). Each end of a period is a good model
    to keep for a snapshot ensemble (Huang et al. 2017).

    ``step()`` advances by one epoch; ``step(epoch)`` with a float (e.g. ``epoch + i / batches``)
    sets the position directly, for restarts within an epoch.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        _optimizer(optimizer)
        self.T_0 = integer(T_0, "T_0", low=1)
        self.T_mult = integer(T_mult, "T_mult", low=1)
        self.eta_min = real(eta_min, "eta_min", low=0.0)
        last_epoch = _last_epoch(last_epoch)
        # resuming at last_epoch = e: start from the position of epoch e (PyTorch starts from T_cur = e, T_i = T_0,
        # which is right only while T_mult = 1)
        self.T_cur, self.T_i = (-1, self.T_0) if last_epoch < 0 else self._locate(last_epoch)
        super().__init__(optimizer, last_epoch)

    def _locate(self, epoch: float) -> tuple[float, int]:
        """(T_cur, T_i) at time ``epoch``: subtract whole periods T_0, T_0·T_mult, ... while they fit."""
        t_cur, t_i = epoch, self.T_0
        while t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * self.T_mult
        return t_cur, t_i

    def step(self, epoch: float | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:                      # one more epoch: T_cur + 1, restart when it reaches T_i
            self.last_epoch += 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:         # modulo, as PyTorch: a T_cur set by hand past T_i wraps too
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        else:
            epoch = real(epoch, "epoch", low=0.0)
            self.T_cur, self.T_i = self._locate(epoch)
            self.last_epoch = math.floor(epoch)
        self._get_lr_called_within_step = True
        try:
            for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
                _set(group, "lr", lr)
        finally:
            self._get_lr_called_within_step = False  # the state has the same entries as PyTorch's
        self._last_lr = _current_lrs(self.optimizer)

    def get_lr(self) -> list[float | Tensor]:
        """η_min + ½ (η₀ − η_min)(1 + cos(π T_cur / T_i)) from η₀, as in PyTorch: a restart is a restart."""
        _warn_outside_step(self)
        return [_cosine(lr0, self.eta_min, self.T_cur / self.T_i) for lr0 in self.base_lrs]


# --------------------------------------------------------------------------- cyclic
class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith 2017): the rate goes up and down between ``base_lr`` and ``max_lr``.

    Stepped once per **batch**. With the cycle length L = ``step_size_up + step_size_down`` and the
    position in the cycle x = t/L − ⌊t/L⌋ ∈ [0, 1), the triangle rises over the first
    r = ``step_size_up / L`` of the cycle and falls over the rest:

        triangle(t) = x / r            if x ≤ r
                      (1 − x) / (1 − r) otherwise
        η_t = η_base + (η_max − η_base) · triangle(t) · scale

    ``mode`` chooses the scale: ``"triangular"`` 1; ``"triangular2"`` 1 / 2^(c−1), halving the
    height in each cycle c = 1 + ⌊t/L⌋; ``"exp_range"`` γ^t. ``scale_fn`` replaces it by your own
    function of the cycle number c (``scale_mode="cycle"``) or of t (``"iterations"``).

    With ``cycle_momentum`` (default, as in PyTorch) the momentum (or Adam's β₁) moves the other way,
    from ``max_momentum`` at the bottom of a cycle to ``base_momentum`` at its top.
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8, max_momentum: float = 0.9,
                 last_epoch: int = -1) -> None:
        self.optimizer = _optimizer(optimizer)
        last_epoch = _last_epoch(last_epoch)
        base_lrs = _per_group(base_lr, "base_lr", optimizer, low=0.0)
        self.max_lrs = _per_group(max_lr, "max_lr", optimizer, low=0.0)
        up = integer(step_size_up, "step_size_up", low=1)
        down = up if step_size_down is None else integer(step_size_down, "step_size_down", low=1)
        self.total_size = float(up + down)
        self.step_ratio = up / self.total_size
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"scale_fn must be a function of one number or None, got {describe(scale_fn)}")
        self.mode = mode if scale_fn is not None else one_of(mode, "mode", ("triangular", "triangular2", "exp_range"))
        self.gamma = _gamma(gamma)
        self._scale_fn_custom = scale_fn
        self.scale_mode = one_of(scale_mode, "scale_mode", ("cycle", "iterations"))
        if scale_fn is None:  # the built-in modes fix what their scale depends on
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"
        self.cycle_momentum = _checks.flag(cycle_momentum, "cycle_momentum")
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                _set(group, "lr", lr)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"cycle_momentum=True needs an optimizer with momentum or betas (SGD, Adam, ...), "
                                 f"got {type(optimizer).__name__}; pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            # any numbers, as PyTorch (its own tests cycle momenta from 1 to 12)
            self.base_momentums = _per_group(base_momentum, "base_momentum", optimizer)
            self.max_momentums = _per_group(max_momentum, "max_momentum", optimizer)
            if last_epoch == -1:
                for group, m_max, m_base in zip(optimizer.param_groups, self.max_momentums, self.base_momentums):
                    self._set_momentum(group, m_max)
                    group["max_momentum"], group["base_momentum"] = m_max, m_base
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The height factor of the cycle: ``scale_fn`` if given, else the one of ``mode``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular2":
            return 1.0 / 2.0 ** (x - 1)
        if self.mode == "exp_range":
            return self.gamma ** x
        return 1.0

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self) -> list[float]:
        """The closed form at t = ``last_epoch``, from base_lr and max_lr (as PyTorch's: not chainable)."""
        _warn_outside_step(self)
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)             # c = 1, 2, ...
        x = 1.0 + t / self.total_size - cycle                   # position in the cycle, in [0, 1)
        r = self.step_ratio
        triangle = x / r if x <= r else (1.0 - x) / (1.0 - r)   # 0 → 1 → 0
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else t)
        if self.cycle_momentum:
            for group, m_base, m_max in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                self._set_momentum(group, m_max - (m_max - m_base) * triangle * scale)
        return [lo + (hi - lo) * triangle * scale for lo, hi in zip(self.base_lrs, self.max_lrs)]

    def state_dict(self) -> dict[str, Any]:
        """As PyTorch's: a custom ``scale_fn`` is kept only if it is a callable object (its ``__dict__``)."""
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom", None)
        state.pop("_scale_fn_ref", None)  # PyTorch's private handle on its built-in scale functions
        super().load_state_dict(state)
        if fn is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn)


# --------------------------------------------------------------------------- performance scheduling
class ReduceLROnPlateau(LRScheduler):
    """Performance scheduling: cut the learning rate when a monitored metric stops improving.

    Call ``step(metric)`` once per epoch with the validation loss (``mode="min"``) or accuracy
    (``"max"``). A value is an improvement when it beats the best so far by the threshold:

        mode "min", "rel":  m < best · (1 − threshold)      "abs":  m < best − threshold
        mode "max", "rel":  m > best · (1 + threshold)      "abs":  m > best + threshold

    After more than ``patience`` epochs in a row without improvement, every group's rate is cut,

        η ← max(factor · η, min_lr)          (skipped if the change is smaller than ``eps``),

    and the next ``cooldown`` epochs do not count as bad ones. ``patience=0`` cuts after the first
    bad epoch.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: list[float] | float = 0, eps: float = 1e-8) -> None:
        # PyTorch's ReduceLROnPlateau does not call LRScheduler.__init__ either: it has no base_lrs,
        # and it counts last_epoch from 0. The same attributes here keep the state dicts alike.
        self.factor = real(factor, "factor", low=0.0, high=1.0, low_open=True, high_open=True)
        self.optimizer = _optimizer(optimizer)
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group(min_lr, "min_lr", optimizer, low=0.0)
        else:
            self.default_min_lr = real(min_lr, "min_lr", low=0.0)
            self.min_lrs = [self.default_min_lr] * len(optimizer.param_groups)
        self.patience = integer(patience, "patience", low=0)
        self.cooldown = integer(cooldown, "cooldown", low=0)
        self.eps = real(eps, "eps", low=0.0)
        self.last_epoch = 0
        self._last_lr = _current_lrs(optimizer)
        self._init_is_better(one_of(mode, "mode", ("min", "max")), real(threshold, "threshold", low=0.0),
                             one_of(threshold_mode, "threshold_mode", ("rel", "abs")))
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf  # the start value of best

    def is_better(self, metric: float, best: float) -> bool:
        """Is ``metric`` an improvement on ``best`` by more than the threshold? (see the class docstring)"""
        if self.mode == "min":
            bar = best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            return metric < bar
        bar = best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        return metric > bar

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics: float, epoch: int | None = None) -> None:
        """One epoch: compare ``metrics`` (the monitored value) with the best so far; cut the rate if it is time."""
        if isinstance(metrics, Tensor) and metrics.numel() == 1:
            metrics = metrics.item()
        if isinstance(metrics, bool) or not isinstance(metrics, numbers.Real):
            raise TypeError(f"metrics must be a number (the monitored value, e.g. the validation loss), "
                            f"got {describe(metrics)}")
        current = float(metrics)  # NaN never counts as an improvement
        if epoch is not None:
            warnings.warn("step(metrics, epoch) is deprecated in PyTorch; call step(metrics)", UserWarning,
                          stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:                 # bad epochs right after a cut do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = _current_lrs(self.optimizer)

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"the optimizer now has {len(groups)} parameter groups but min_lr was given "
                                   f"for {len(self.min_lrs)}; set scheduler.min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                _set(group, "lr", new)   # a tensor rate is filled in place

    def get_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


_PLATEAU_TYPES = (ReduceLROnPlateau, _torch_schedulers.ReduceLROnPlateau)


# --------------------------------------------------------------------------- with fit
# --------------------------------------------------------------------------- looking at a schedule
# --------------------------------------------------------------------------- stepping a scheduler from fit
class SchedulerCallback(Callback):
    """Steps a learning-rate scheduler from :func:`fit`: once per epoch (default) or per optimizer step.

    ``SchedulerCallback(scheduler, interval="epoch", monitor="val_loss")`` takes the schedulers of
    ``torch.optim.lr_scheduler`` and of ``course_lib.schedules``. A ``ReduceLROnPlateau`` (either) gets
    ``state.logs[monitor]`` at the end of each epoch (``"val_loss"``, ``"val_acc"``, ``"train_loss"``,
    ``"train_acc"``; give it ``mode="max"`` for an accuracy). Per step (``interval="step"``) suits
    ``CyclicLR`` and per-batch warm restarts. The scheduler must adjust the optimizer that ``fit``
    trains with: build the optimizer, the scheduler on it, and pass the same optimizer to ``fit``.
    """

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss") -> None:
        if not (hasattr(scheduler, "step") and hasattr(scheduler, "optimizer")):
            raise TypeError(f"scheduler must be a learning-rate scheduler (course_lib.schedules or "
                            f"torch.optim.lr_scheduler), got {describe(scheduler)}")
        self.interval = one_of(interval, "interval", ("epoch", "step"))
        self.monitor = one_of(monitor, "monitor", tuple(History.FIELDS))
        self.scheduler = scheduler
        if _watches_a_metric(scheduler) and self.interval == "step":
            raise ValueError("ReduceLROnPlateau watches a metric measured once per epoch; use interval='epoch'")

    def on_fit_start(self, state: FitState) -> None:
        if self.scheduler.optimizer is not state.optimizer:
            raise ValueError("the scheduler adjusts a different optimizer from the one fit trains with; create "
                             "the optimizer first, build the scheduler on it and pass the same optimizer to "
                             "fit(optimizer=...)")

    def _step(self, state: FitState) -> None:
        if _watches_a_metric(self.scheduler):
            value = state.logs.get(self.monitor, math.nan)
            if math.isnan(value):
                raise ValueError(f"ReduceLROnPlateau needs {self.monitor!r} at the end of every epoch, but it is "
                                 f"not recorded; pass validation data to fit() or monitor a train metric")
            self.scheduler.step(value)
        else:
            self.scheduler.step()

    def on_step_end(self, state: FitState) -> None:
        if self.interval == "step":
            self._step(state)

    def on_epoch_end(self, state: FitState) -> None:
        if self.interval == "epoch":
            self._step(state)


def _watches_a_metric(scheduler) -> bool:
    """``ReduceLROnPlateau``, PyTorch's or the course's: ``step()`` takes the monitored metric."""
    return isinstance(scheduler, _PLATEAU_TYPES)


def lr_curve(make_scheduler: Callable[[Optimizer], Any], steps: int, lr: float = 1.0,
             metrics: Sequence[float] | None = None) -> Tensor:
    """The learning rates a schedule gives over ``steps`` calls of ``step()``: a tensor of shape ``(steps + 1,)``.

    ``make_scheduler``: a function optimizer → scheduler, e.g. ``lambda opt: StepLR(opt, 30)``; it is
    given a throw-away SGD optimizer (one parameter, learning rate ``lr``). Entry 0 is the rate
    before the first ``step()``. A ``ReduceLROnPlateau`` needs ``metrics``, one value per step.
    """
    if not callable(make_scheduler):
        raise TypeError(f"make_scheduler must be a function optimizer -> scheduler, got {describe(make_scheduler)}")
    steps = integer(steps, "steps", low=0)
    lr = real(lr, "lr", low=0.0, low_open=True)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = make_scheduler(optimizer)
    plateau = isinstance(scheduler, _PLATEAU_TYPES)
    if plateau and (metrics is None or len(metrics) < steps):
        raise ValueError(f"a ReduceLROnPlateau schedule needs metrics with one value per step ({steps}), got "
                         f"{None if metrics is None else len(metrics)}")
    rates = [optimizer.param_groups[0]["lr"]]
    for t in range(steps):
        optimizer.step()  # no gradients: nothing moves, but the scheduler sees the usual order
        scheduler.step(metrics[t]) if plateau else scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return torch.tensor(rates, dtype=torch.float64)


# --------------------------------------------------------------------------- the learning-rate range test
@dataclass
class RangeTestResult:
    """What :func:`lr_range_test` measured, one entry per step, and the learning rates it suggests."""

    lrs: list[float]                  # the learning rate of each step
    losses: list[float]               # the smoothed (bias-corrected moving average) loss
    raw_losses: list[float]           # the batch losses as measured
    exploded_at: float | None = None  # the learning rate at which the smoothed loss blew up (None: it did not)
    reached_end: bool = False         # the test ran all its steps, up to lr_max (it may have exploded on the last)
    steepest_lr: float = math.nan     # where the smoothed loss falls fastest against log(lr)
    min_loss_lr: float = math.nan     # where the smoothed loss is lowest
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def suggestion(self) -> float:
        """The suggested learning rate: the steepest descent point (never above ``min_loss_lr``)."""
        return self.steepest_lr

    def summary(self) -> str:
        """One line: how far the test ran, whether and where it exploded, and the suggested rates.

        ``exploded_at`` alone cannot tell "exploded on the last step" (``exploded_at`` = lr_max) from
        "ran to lr_max" when printed as a rate; the summary says both."""
        steps = self.notes.get("steps", len(self.lrs))
        ran = f"{len(self.lrs)} of {steps} steps, " + ("reached the end" if self.reached_end else "stopped early")
        if self.exploded_at is None:
            blew = "no explosion"
        else:
            blew = f"exploded at {self.exploded_at:.3g}" + (" (on the last step)" if self.reached_end else "")
        return (f"range test: {ran}, {blew}; steepest {self.steepest_lr:.3g}, lowest loss at "
                f"{self.min_loss_lr:.3g}")

    def __repr__(self) -> str:  # the lists of 100 numbers stay out of it
        return (f"RangeTestResult(steps_run={len(self.lrs)}, reached_end={self.reached_end}, "
                f"exploded_at={self.exploded_at!r}, steepest_lr={self.steepest_lr!r}, "
                f"min_loss_lr={self.min_loss_lr!r})")

    __str__ = summary

    def plot(self, ax=None, title: str = "Learning-rate range test"):
        """Smoothed loss against the learning rate (log axis), with the suggestion and the explosion marked."""
        import matplotlib.pyplot as plt

        from .plots import COURSE_STYLE

        with plt.rc_context(COURSE_STYLE):
            if ax is None:
                ax = plt.subplots(layout="constrained")[1]
            ax.plot(self.lrs, self.raw_losses, color="0.75", lw=1, label="batch loss")
            ax.plot(self.lrs, self.losses, color="C0", label="smoothed loss")
            ax.axvline(self.suggestion, color="C2", ls="--", label=f"steepest: {self.suggestion:.2g}")
            ax.axvline(self.min_loss_lr / 10, color="C1", ls=":", label=f"min-loss / 10: {self.min_loss_lr / 10:.2g}")
            if self.exploded_at is not None:
                ax.axvline(self.exploded_at, color="C3", ls="-.", label=f"explodes: {self.exploded_at:.2g}")
            finite = [v for v in self.losses if math.isfinite(v)]
            if finite:
                # as fast.ai does: the top near 1.5 x the starting loss, so the fall fills the axes and the
                # explosion runs off the top; the bottom low enough for the batch losses too
                seen = finite + [v for v in self.raw_losses if math.isfinite(v)]
                low, high = min(seen), min(max(seen), 1.5 * finite[0])
                pad = 0.05 * (high - low + 1e-12)
                ax.set_ylim(low - pad, high + pad)
            ax.set_xscale("log")
            ax.set_xlabel("learning rate")
            ax.set_ylabel("loss")
            ax.set_title(title)
            ax.legend()
        return ax


def lr_range_test(model: nn.Module, train, *, optimizer=None, loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
                  lr_min: float = 1e-7, lr_max: float = 10.0, steps: int = 100, batch_size: int = 64,
                  smoothing: float = 0.98, diverge_factor: float = 4.0, device: torch.device | str | None = None,
                  generator: torch.Generator | None = None) -> RangeTestResult:
    """The learning-rate range test (Smith 2017; fast.ai's ``lr_find``): train briefly while the rate grows.

    Step k = 0, …, ``steps`` − 1 trains on one mini-batch at the rate

        η_k = η_min · (η_max / η_min)^(k / (steps − 1))       (exponential growth from lr_min to lr_max)

    and records the batch loss ℓ_k and its bias-corrected moving average (β = ``smoothing``)

        a_k = β a_{k−1} + (1 − β) ℓ_k,     ℓ̄_k = a_k / (1 − β^(k+1)).

    The test stops early when ℓ̄_k > ``diverge_factor`` · min_j ℓ̄_j or the loss is not finite: the
    rate has become too large (``exploded_at``). ``reached_end`` says whether all ``steps`` steps ran
    (with ``exploded_at`` = lr_max when the explosion came on the last one); ``print(result)`` says
    both. Suggested rates: where ℓ̄ falls fastest against log η (``steepest_lr``, the
    ``suggestion``; the slope is measured over ±``steps // 20`` steps, after the first tenth of the
    steps, whose averages rest on few batches, and before the lowest ℓ̄), and the rate of the
    lowest ℓ̄ divided by ten (``min_loss_lr / 10``, the other common rule). The moving average lags
    the batch losses, so the lowest ℓ̄ comes after the best rate: hence the division by ten.

    ``train``: what :func:`~course_lib.training.fit` takes (a Split, an ``(x, y)`` pair, or batches),
    cycled through as often as needed. A last batch of a single sample is left out (it would break
    batch norm): for a Split or a pair by dropping the incomplete last batch when it holds one sample,
    for given batches by skipping a batch of one that follows larger ones. ``optimizer``: an instance
    (its rates are overwritten during the test), a factory ``params -> Optimizer``, or ``None`` for
    SGD. The model's weights and buffers, its train/eval mode and the optimizer's state are restored
    afterwards: the test leaves no trace.
    """
    from .device import resolve_device

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    lr_min = real(lr_min, "lr_min", low=0.0, low_open=True)
    lr_max = real(lr_max, "lr_max", low=0.0, low_open=True)
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must be larger than lr_min, got lr_min={lr_min:g}, lr_max={lr_max:g}")
    steps = integer(steps, "steps", low=2)
    batch_size = integer(batch_size, "batch_size", low=1)
    smoothing = real(smoothing, "smoothing", low=0.0, high=1.0, high_open=True)
    diverge_factor = real(diverge_factor, "diverge_factor", low=1.0, low_open=True)
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (output, target) -> loss, got {describe(loss_fn)}")
    generator = _checks.generator(generator)
    dev = resolve_device(model, train, device)
    model.to(dev)
    # a last batch of one sample would break batch norm (and gives one noisy step): leave it out
    pair = data_pair(train, "training data")
    n = None if pair is None else len(pair[0])
    drop_last = n is not None and n > batch_size and n % batch_size == 1
    batches = make_batches(train, "training data", batch_size, True, dev, generator, drop_last=drop_last)
    if pair is None and iter(batches) is batches:
        raise TypeError("training data: pass a re-iterable (a DataLoader, a list of batches) or a Split, "
                        "not an iterator")
    opt = make_optimizer(model, optimizer, lr_min)
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    modes = {m: m.training for m in model.modules()}

    lrs, smooth, raw = [], [], []
    exploded_at, average, best = None, 0.0, math.inf
    model.train()
    try:
        stream, previous = iter(batches), None
        for k in range(steps):
            while True:
                try:
                    x, y = next(stream)
                except StopIteration:
                    stream, previous = iter(batches), None
                    x, y = next(stream)
                # given batches (a DataLoader): skip a ragged last batch of one sample after larger ones
                if not (len(x) == 1 and previous is not None and previous > 1):
                    break
            previous = len(x)
            x, y = x.to(dev), y.to(dev)
            lr = lr_min * (lr_max / lr_min) ** (k / (steps - 1))
            for group in opt.param_groups:
                group["lr"] = lr
            loss_fn = default_loss(y) if loss_fn is None else loss_fn
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            value = loss.item()
            average = smoothing * average + (1.0 - smoothing) * value
            smoothed = average / (1.0 - smoothing ** (k + 1))
            lrs.append(lr)
            raw.append(value)
            smooth.append(smoothed)
            if not math.isfinite(smoothed) or (k > 0 and smoothed > diverge_factor * best):
                exploded_at = lr
                break
            best = min(best, smoothed)
    finally:
        model.load_state_dict(saved_model)
        opt.load_state_dict(saved_opt)
        for m, mode in modes.items():
            m.training = mode

    # suggestions, from the part of the curve before the explosion
    n = len(smooth) - (1 if exploded_at is not None else 0)
    usable = torch.tensor(smooth[:max(n, 1)], dtype=torch.float64)
    log_lr = torch.tensor(lrs[:max(n, 1)], dtype=torch.float64).log()
    i_min = int(torch.argmin(usable))
    skip = steps // 10  # the first averages rest on a few noisy batches: leave them out, as fast.ai does
    w = max(1, steps // 20)  # the slope over ±w steps: the fall, not the noise of one batch
    centres = range(max(skip, w), i_min - w + 1)
    if centres:  # the steepest fall, looked for between the skipped start and the lowest point
        i_steep = min(centres, key=lambda i: (usable[i + w] - usable[i - w]) / (log_lr[i + w] - log_lr[i - w]))
    else:
        i_steep = i_min
    return RangeTestResult(lrs=lrs, losses=smooth, raw_losses=raw, exploded_at=exploded_at,
                           reached_end=len(lrs) == steps, steepest_lr=lrs[i_steep], min_loss_lr=lrs[i_min],
                           notes={"best_loss": float(usable[i_min]), "steps_run": len(lrs), "steps": steps})
