"""Early stopping: the patience algorithm, restoring the best weights, and its link to L2.

The lecture's meta-algorithm (Goodfellow et al., *Deep Learning*, algorithm 7.1), with
``n`` the number of training steps between two evaluations and ``p`` the patience::

    θ ← θ_o;  i ← 0;  j ← 0;  v ← ∞;  θ* ← θ;  i* ← i
    while j < p:
        run the training algorithm for n steps;  i ← i + n
        v' ← ValidationSetError(θ)
        if v' < v:   j ← 0;  θ* ← θ;  i* ← i;  v ← v'      (an improvement: remember it)
        else:        j ← j + 1                              (one more evaluation without one)
    return θ*, i*                # the best parameters and the best number of steps

So training stops at step ``i = i* + p·n``: exactly ``p`` evaluations after the best one.

Three pieces:

* :class:`EarlyStopper` — the bookkeeping of the algorithm (``v``, ``i*``, ``j``) on plain
  numbers, with no model and no framework: ``stopper.update(v', i)`` returns ``True`` when
  training should stop. Two common extras: ``min_delta`` (an improvement must beat ``v`` by
  more than this) and ``mode='max'`` (for a metric to maximise, such as accuracy).
  ``patience=None`` never stops: that is **model selection** — train for the whole budget and
  keep the best weights seen.
* :class:`EarlyStopping` — a :class:`~course_lib.training.Callback` for
  :func:`~course_lib.training.fit` that adds the weights: it keeps ``θ*`` (a copy of the
  ``state_dict``) whenever the stopper reports an improvement, sets ``state.stop`` when the
  patience runs out, and loads ``θ*`` back into the model when training ends.
* The link to L2 for a quadratic loss: :func:`gd_filter`, :func:`ridge_filter` and
  :func:`equivalent_l2`. Gradient descent started at ``w = 0`` with learning rate ``α`` and
  stopped after ``τ`` steps lands close to the ridge (L2) solution with ``λ ≈ 1/(τ α)``.
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any

import torch
from torch import Tensor

from ._checks import describe, finite, integer, one_of, real, tensor
from .training import Callback, FitState, History

__all__ = ["EarlyStopper", "EarlyStopping", "check_patience", "gd_filter", "ridge_filter", "equivalent_l2"]

MODES = ("min", "max")
MONITORS = ("val_loss", "val_acc")


# --------------------------------------------------------------------------- validation
def check_patience(patience: Any) -> float:
    """Validate a patience: a positive int (evaluations without improvement), or ``None`` / ``math.inf``
    for no early stop at all (model selection). Returns it as a number (``math.inf`` for ``None``).

    A whole float such as ``3.0`` counts as ``3``; a fraction (``2.5``) or a non-number raises
    ``TypeError``, a value below 1 (or NaN) ``ValueError``.
    """
    if patience is None:
        return math.inf
    accepted = "a positive int or None (never stop)"
    if isinstance(patience, bool) or not isinstance(patience, numbers.Real):
        raise TypeError(f"patience must be {accepted}, got {describe(patience)}")
    if patience == math.inf:
        return math.inf
    if math.isnan(patience) or patience < 1:
        raise ValueError(f"patience must be {accepted}: the number of evaluations without improvement to wait "
                         f"before stopping, got {patience!r}")
    if not float(patience).is_integer():
        raise TypeError(f"patience must be {accepted}: it counts evaluations, so it must be a whole number, "
                        f"got {patience!r}")
    return int(patience)


def _check_min_delta(min_delta: Any) -> float:
    return real(min_delta, "min_delta", low=0.0)


def _check_value(value: Any, name: str = "value") -> float:
    """A validation value: a real number or a one-element tensor; NaN (a diverged run) is allowed."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {describe(value)}")
    return float(value)


# --------------------------------------------------------------------------- the algorithm on numbers
class EarlyStopper:
    """The bookkeeping of the patience algorithm, on plain numbers.

    Call :meth:`update` with each new validation value ``v'`` and the step ``i`` at which it
    was measured; it returns ``True`` once ``patience`` evaluations in a row brought no
    improvement. An improvement is (``δ`` = ``min_delta``)

        mode='min':  v' < v − δ          mode='max':  v' > v + δ

    where ``v`` is the best value so far (``+∞`` for 'min', ``−∞`` for 'max' before the first
    evaluation, so the first finite value is always an improvement). A ``nan`` value (a
    diverged run) is never an improvement.

    Attributes: ``best`` (v), ``best_step`` (i*), ``wait`` (j), ``stop_step`` (the step at
    which the patience ran out, or ``None``), ``improved`` (whether the last update was an
    improvement), and the whole record ``steps`` / ``values``.
    """

    def __init__(self, patience: int | None = 5, min_delta: float = 0.0, mode: str = "min") -> None:
        self.patience = check_patience(patience)
        self.min_delta = _check_min_delta(min_delta)
        self.mode = one_of(mode, "mode", MODES)
        self.reset()

    def reset(self) -> None:
        """Forget every evaluation: ``v ← ±∞``, ``i* ← 0``, ``j ← 0``."""
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_step: int = 0
        self.wait = 0
        self.stop_step: int | None = None
        self.improved = False
        self.steps: list[int] = []
        self.values: list[float] = []

    def is_improvement(self, value: float) -> bool:
        """``v' < v − δ`` (mode 'min') or ``v' > v + δ`` (mode 'max'); ``False`` for ``nan``."""
        value = _check_value(value)
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    @property
    def should_stop(self) -> bool:
        """``j >= p``: the patience has run out."""
        return self.wait >= self.patience

    def update(self, value: float, step: int) -> bool:
        """Record the validation value ``value`` measured at step ``step``; return ``True`` to stop."""
        value = _check_value(value)
        step = integer(step, "step", low=0)
        if self.steps and step <= self.steps[-1]:
            raise ValueError(f"steps must increase from one evaluation to the next: got step {step} after "
                             f"step {self.steps[-1]}")
        if self.should_stop:
            raise RuntimeError(f"the patience already ran out at step {self.stop_step}; call reset() to start over")
        self.steps.append(step)
        self.values.append(value)
        self.improved = self.is_improvement(value)
        if self.improved:                     # j ← 0;  i* ← i;  v ← v'
            self.wait, self.best_step, self.best = 0, step, value
        else:                                 # j ← j + 1
            self.wait += 1
        if self.should_stop:
            self.stop_step = step
        return self.should_stop

    def __repr__(self) -> str:
        patience = "None (model selection)" if self.patience == math.inf else self.patience
        return (f"EarlyStopper(patience={patience}, min_delta={self.min_delta:g}, mode={self.mode!r}, "
                f"best={self.best:.4g} at step {self.best_step}, wait={self.wait})")


# --------------------------------------------------------------------------- the callback for fit()
def _snapshot(model: torch.nn.Module) -> dict[str, Any]:
    """θ*: a copy of the model's state_dict (tensors cloned on their own device, not shared with the model)."""
    return {k: v.detach().clone() if isinstance(v, Tensor) else copy.deepcopy(v)
            for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Early stopping for :func:`~course_lib.training.fit`: algorithm 7.1 with the weights.

    Parameters
    ----------
    monitor : ``'val_loss'`` or ``'val_acc'`` — the validation metric ``v'``.
    patience : ``p``, evaluations without improvement before stopping; ``None`` never stops
        (model selection: train every epoch, keep and restore the best weights).
    min_delta : an improvement must beat the best value by more than this.
    mode : ``'min'``, ``'max'``, or ``'auto'`` (min for a loss, max for an accuracy).
    every_n_steps : ``n``; evaluate on the validation data every ``n`` optimizer steps
        (through ``state.evaluate()``). ``None`` (default): once per epoch, reading the
        validation metrics ``fit`` has just computed, and counting ``i`` in epochs.
    restore_best : load ``θ*`` back into the model when training ends.

    After ``fit`` returns: ``best_step`` (i*; an optimizer step, or an epoch when
    ``every_n_steps`` is ``None``), ``best_value`` (v), ``stop_step`` (``None`` if training ran
    to the end), ``best_state`` (θ*), ``steps`` / ``values`` (every evaluation), ``unit``.
    """

    def __init__(self, monitor: str = "val_loss", patience: int | None = 5, min_delta: float = 0.0,
                 mode: str = "auto", every_n_steps: int | None = None, restore_best: bool = True) -> None:
        monitor = one_of(monitor, "monitor", MONITORS)
        mode = one_of(mode, "mode", MODES + ("auto",))
        if mode == "auto":
            mode = "max" if monitor.endswith("acc") else "min"
        if every_n_steps is not None:
            if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, numbers.Integral):
                raise TypeError(f"every_n_steps must be a positive int or None (once per epoch), got "
                                f"{describe(every_n_steps)}")
            every_n_steps = integer(every_n_steps, "every_n_steps", low=1)
        if not isinstance(restore_best, bool):
            raise TypeError(f"restore_best must be True or False, got {describe(restore_best)}")
        self.monitor = monitor
        self.every_n_steps = every_n_steps
        self.restore_best = restore_best
        self.stopper = EarlyStopper(patience, min_delta, mode)
        self.best_state: dict[str, Any] | None = None
        self._start_step = 0

    @property
    def unit(self) -> str:
        """What ``i`` counts: ``'step'`` (optimizer steps) or ``'epoch'`` (once-per-epoch evaluation)."""
        return "epoch" if self.every_n_steps is None else "step"

    @property
    def best_step(self) -> int:
        """i*: the step (or epoch) at which the best weights θ* were taken."""
        return self.stopper.best_step

    @property
    def best_value(self) -> float:
        """v: the best value of the monitored metric."""
        return self.stopper.best

    @property
    def stop_step(self) -> int | None:
        """The step (or epoch) at which the patience ran out; ``None`` if training ran to the end."""
        return self.stopper.stop_step

    @property
    def steps(self) -> list[int]:
        return self.stopper.steps

    @property
    def values(self) -> list[float]:
        return self.stopper.values

    def on_fit_start(self, state: FitState) -> None:
        if state.val is None:
            raise ValueError("EarlyStopping needs validation data: pass val=... to fit()")
        self.stopper.reset()
        self._start_step = state.step
        self.stopper.best_step = state.step if self.every_n_steps is not None else state.epoch  # i* ← i
        self.best_state = _snapshot(state.model)                                                  # θ* ← θ_o

    def _evaluate(self, state: FitState, value: float, i: int) -> None:
        if math.isnan(value) and self.monitor == "val_acc":
            raise ValueError("val_acc is nan: the targets are not class labels (regression); monitor 'val_loss'")
        stop = self.stopper.update(value, i)
        if self.stopper.improved:
            self.best_state = _snapshot(state.model)                                              # θ* ← θ
        if stop:
            state.stop = True

    def on_step_end(self, state: FitState) -> None:
        n = self.every_n_steps
        if n is not None and (state.step - self._start_step) % n == 0:
            _, key = History.FIELDS[self.monitor]                                                 # ("val", "loss")
            self._evaluate(state, state.evaluate()[key], state.step)                              # v'

    def on_epoch_end(self, state: FitState) -> None:
        if self.every_n_steps is None and not self.stopper.should_stop:
            self._evaluate(state, state.logs[self.monitor], state.epoch)

    def on_fit_end(self, state: FitState) -> None:
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)                                          # θ ← θ*

    def __repr__(self) -> str:
        p = self.stopper.patience
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={None if p == math.inf else p}, "
                f"min_delta={self.stopper.min_delta:g}, mode={self.stopper.mode!r}, "
                f"every_n_steps={self.every_n_steps}, restore_best={self.restore_best})")


# --------------------------------------------------------------------------- the link to L2
def _check_eigenvalues(eigenvalues) -> Tensor:
    tensor(eigenvalues, "eigenvalues", floating=True, ndim=1)
    finite(eigenvalues, "eigenvalues")
    if bool((eigenvalues < 0).any()):
        raise ValueError(f"eigenvalues must be >= 0 (a quadratic loss has a positive semi-definite Hessian), "
                         f"got min {eigenvalues.min().item():.3g}")
    return eigenvalues


def _check_lr(lr) -> float:
    return real(lr, "lr", low=0.0, low_open=True)


def gd_filter(eigenvalues: Tensor, lr: float, steps: int) -> Tensor:
    """How much of ``w*`` gradient descent has reached along each eigenvector after ``τ`` steps.

    For ``J(w) = ½ (w − w*)ᵀ H (w − w*)`` (least squares: ``H = XᵀX / N``) and ``w⁽⁰⁾ = 0``,
    each step ``w ← w − α H (w − w*)`` shrinks the remaining error along eigenvector ``q_k`` of
    ``H`` (eigenvalue ``λ_k``) by ``(1 − α λ_k)``, so

        w⁽ᵗ⁾ = Q diag(f) Qᵀ w*,   f_k = 1 − (1 − α λ_k)^τ .

    ``eigenvalues``: shape ``(d,)``, each >= 0; ``lr`` α > 0; ``steps`` τ >= 0. Returns ``f``
    with the shape, dtype and device of ``eigenvalues``.
    """
    eigenvalues = _check_eigenvalues(eigenvalues)
    lr = _check_lr(lr)
    steps = integer(steps, "steps", low=0)
    return 1 - (1 - lr * eigenvalues) ** steps


def ridge_filter(eigenvalues: Tensor, lam: float) -> Tensor:
    """How much of ``w*`` the L2-regularized minimum keeps along each eigenvector.

    Minimising ``J(w) + (λ/2)‖w‖²`` gives ``w_λ = (H + λI)⁻¹ H w* = Q diag(f) Qᵀ w*`` with

        f_k = λ_k / (λ_k + λ) .

    ``eigenvalues``: shape ``(d,)``, each >= 0; ``lam`` λ >= 0. Returns ``f`` with the shape,
    dtype and device of ``eigenvalues``.
    A flat direction (``λ_k = 0``) gets ``f_k = 0`` even for ``λ = 0`` (the minimum-norm
    solution, which is also where gradient descent from ``w = 0`` stays), not ``0/0``.
    """
    eigenvalues = _check_eigenvalues(eigenvalues)
    lam = real(lam, "lam", low=0.0)
    denominator = eigenvalues + lam
    return torch.where(denominator > 0, eigenvalues / denominator.clamp_min(torch.finfo(eigenvalues.dtype).tiny),
                       torch.zeros_like(eigenvalues))


def equivalent_l2(lr: float, steps: int) -> float:
    """``λ ≈ 1/(τ α)``: the L2 strength that early stopping after ``τ`` steps of size ``α`` acts like.

    From ``(1 − α λ_k)^τ ≈ λ / (λ_k + λ)``: for small ``α λ_k`` and ``λ_k ≪ λ`` the logs of both
    sides are ``≈ −τ α λ_k`` and ``≈ −λ_k / λ``, which agree when ``λ = 1/(τ α)``.
    ``lr`` α > 0, ``steps`` τ >= 1.
    """
    lr = _check_lr(lr)
    steps = integer(steps, "steps", low=1)
    return 1.0 / (steps * lr)
