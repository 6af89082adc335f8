"""Optimizers from scratch: SGD with momentum and Nesterov, AdaGrad, RMSProp, AdaDelta, Adam, AdamW, NAdam.

Every optimizer here updates each parameter θ from its gradient g = ∇f(θ) on the current
mini-batch (α is the learning rate ``lr``, ε the small ``eps``, t = 1, 2, ... the step, all
operations elementwise). In brackets, the names of the state each one keeps per parameter:

* :class:`SGD` with momentum ρ (``momentum_buffer``)::

      v ← ρ v + g,              θ ← θ − α v              (ρ = 0: plain SGD, θ ← θ − α g)
      Nesterov:  v ← ρ v + g,   θ ← θ − α (g + ρ v)

* :class:`Adagrad` (``sum``, ``step``)::

      s ← s + g²,               θ ← θ − α g / (√s + ε)

* :class:`RMSprop` with decay rate β (``square_avg``, ``step``)::

      s ← β s + (1 − β) g²,     θ ← θ − α g / (√s + ε)

* :class:`Adadelta` (``square_avg``, ``acc_delta``, ``step``)::

      s ← ρ s + (1 − ρ) g²,     Δ = √(u + ε) / √(s + ε) · g
      u ← ρ u + (1 − ρ) Δ²,     θ ← θ − α Δ

* :class:`Adam` (``exp_avg``, ``exp_avg_sq``, ``step``)::

      m ← β₁ m + (1 − β₁) g,    v ← β₂ v + (1 − β₂) g²
      m̂ = m / (1 − β₁ᵗ),        v̂ = v / (1 − β₂ᵗ),               θ ← θ − α m̂ / (√v̂ + ε)

* :class:`AdamW`: Adam plus decoupled weight decay θ ← (1 − αλ) θ (same state as Adam);
  :class:`NAdam`: Adam with Nesterov's look-ahead on the first moment (Adam's state and ``mu_product``).

**Two ways to write momentum.** The lecture ("How to Train ConvNets") writes momentum as PyTorch
does, with a velocity that sums gradients and is scaled by α when the step is taken,

    v ← ρ v + ∇f(θ),       θ ← θ − α v                  (:class:`SGD`, ``torch.optim.SGD``),

and Nesterov's method as Sutskever et al. (2013) do, with a velocity that already holds the step,

    v ← ρ v − α ∇f(θ),     θ ← θ + v                    (:class:`SutskeverSGD`).

With a constant α the two give the same iterates (the second velocity is −α times the first).
They differ when α changes during training: PyTorch's form rescales the whole velocity at once,
Sutskever's only the new gradients.

**Drop-in.** :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`, :class:`Adadelta`, :class:`Adam`,
:class:`AdamW` and :class:`NAdam` subclass ``torch.optim.Optimizer`` and take the constructor
arguments, defaults and per-parameter state names of their ``torch.optim`` namesakes (torch 2.14),
so a ``state_dict`` saved by one loads into the other and the run continues on the same
trajectory. Weight decay ``weight_decay = λ`` is the L2 penalty λ/2·‖θ‖² (gradient g ← g + λθ)
except in AdamW (and with ``decoupled_weight_decay=True``). ``maximize=True`` climbs f instead
(g ← −g). The classes here always run one readable loop over the parameters: ``step`` (shared, in
the base class) takes each gradient and applies the weight decay, and each class's
``update(p, g, state, group, lr)`` is its rule for one parameter. So ``foreach`` and ``fused``,
which choose between PyTorch's implementations of the same update, take only ``None`` (the
default) or ``False``: ``True`` asks for an implementation these classes do not have, and is
refused rather than silently ignored. ``differentiable=True`` and ``capturable=True`` are refused
too (the update runs under ``torch.no_grad()`` and reads the step count with ``.item()``). For any
of them, use the ``torch.optim`` class.

The course's one addition to torch's arguments: ``Adam(..., bias_correction=False)`` (and
AdamW's) skips the division by 1 − βᵗ, which shows the "problem with the idea" of the lecture's
first Adam listing: moments that start at zero make the first steps wrong.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor
from torch.optim import Optimizer

from ._checks import describe, flag, real

__all__ = ["SGD", "SutskeverSGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam"]


# --------------------------------------------------------------------------- argument checks
def _lr(value, name: str) -> float | Tensor:
    """A learning rate >= 0: a number, or a 1-element tensor (kept as a tensor, as torch keeps it)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a real number in [0, inf) or a 1-element tensor, got {describe(value)}")
        real(value.detach().reshape(()), name, low=0.0)
        return value
    return real(value, name, low=0.0)


def _nonnegative(value, name: str) -> float:
    return real(value, name, low=0.0)


def _fraction(value, name: str) -> float:
    """A decay rate or a dampening: a real number in [0, 1]."""
    return real(value, name, low=0.0, high=1.0)


def _betas(value, name: str) -> tuple[float, float]:
    """Adam's (β₁, β₂): two real numbers, each in [0, 1)."""
    if isinstance(value, (str, bytes, Tensor)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (beta1, beta2) of real numbers in [0, 1), got {describe(value)}")
    key, space, where = name.partition(" ")  # "betas (in param group 1)" -> "betas[0] (in param group 1)"
    return (real(value[0], f"{key}[0]{space}{where}", low=0.0, high=1.0, high_open=True),
            real(value[1], f"{key}[1]{space}{where}", low=0.0, high=1.0, high_open=True))


def _optional_flag(value, name: str) -> bool | None:
    if value is None:
        return None
    return flag(value, name)


def _unsupported(value, name: str) -> bool:
    if flag(value, name):
        raise ValueError(f"{name}=True is not supported by the course's optimizers (the update runs under "
                         f"torch.no_grad() and reads the step count with .item()); use the torch.optim class")
    return False


def _no_other_implementation(value, name: str) -> bool | None:
    """``foreach`` / ``fused``: None or False. True would ask for a PyTorch implementation the course lacks."""
    if _optional_flag(value, name):
        key = name.partition(" ")[0]
        raise ValueError(f"{name}=True is not supported by the course's optimizers: they always run one readable "
                         f"loop over the parameters, not PyTorch's {key} implementation; pass {key}=None (the "
                         f"default) or use the torch.optim class")
    return value


# How each hyperparameter is checked, for the constructor's arguments and for every param group.
_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "lr": _lr, "momentum": _nonnegative, "dampening": _fraction, "weight_decay": _nonnegative,
    "eps": _nonnegative, "betas": _betas, "alpha": _fraction, "rho": _fraction, "lr_decay": _nonnegative,
    "initial_accumulator_value": _nonnegative, "momentum_decay": _nonnegative,
    "nesterov": flag, "maximize": flag, "amsgrad": flag, "centered": flag, "decoupled_weight_decay": flag,
    "bias_correction": flag, "foreach": _no_other_implementation, "fused": _no_other_implementation,
    "differentiable": _unsupported, "capturable": _unsupported,
}


def _check_hyperparameters(values: dict, where: str = "") -> dict:
    """Return ``values`` with every known hyperparameter checked (and converted to its plain type)."""
    checked = dict(values)
    for key, check in _CHECKS.items():
        if key in checked:
            checked[key] = check(checked[key], key + where)
    if checked.get("nesterov") and (checked["momentum"] <= 0 or checked.get("dampening", 0) != 0):
        if "dampening" not in checked:
            raise ValueError(f"nesterov=True needs momentum > 0{where}, got momentum={checked['momentum']!r}")
        raise ValueError(f"nesterov=True needs momentum > 0 and dampening = 0{where}, got momentum="
                         f"{checked['momentum']!r} and dampening={checked['dampening']!r}")
    return checked


# --------------------------------------------------------------------------- shared pieces
def _scalar(value) -> float:
    """A hyperparameter as a Python float (a learning rate may be a 1-element tensor)."""
    return float(value.item()) if isinstance(value, Tensor) else float(value)


def _step_counter(value: float = 0.0) -> Tensor:
    """The step count t as torch keeps it: a 0-dim float tensor on the CPU (float64 if that is the default dtype)."""
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(value, dtype=dtype)


def _gradient(p: Tensor, maximize: bool) -> Tensor:
    """The gradient g of parameter ``p`` (−g with ``maximize``); ``p.grad`` itself is never modified."""
    if p.grad.is_sparse:
        raise RuntimeError("the course's optimizers do not support sparse gradients; use torch.optim")
    if torch.is_complex(p):
        raise RuntimeError("the course's optimizers do not support complex parameters; use torch.optim")
    return -p.grad if maximize else p.grad


class _CourseOptimizer(Optimizer):
    """What the optimizers below share: checked hyperparameters, and defaults for keys torch lacks."""

    def __init__(self, params, defaults: dict) -> None:
        super().__init__(params, _check_hyperparameters(defaults))

    def add_param_group(self, param_group: dict) -> None:
        """``torch.optim.Optimizer.add_param_group``, then the group's own hyperparameters are checked."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        index = len(self.param_groups) - 1
        checked = _check_hyperparameters({k: v for k, v in group.items() if k != "params"},
                                         f" (in param group {index})")
        group.update(checked)

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One update of every parameter that has a gradient; ``closure`` re-evaluates the loss first.

        The part every optimizer shares: g = ∇f(θ) (or −∇f with ``maximize``), then weight decay λ,
        as L2 (g ← g + λθ) or, with ``decoupled_weight_decay``, as AdamW's θ ← (1 − αλ)θ; the rule
        itself is each class's :meth:`update`.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, lam = _scalar(group["lr"]), group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = _gradient(p, group["maximize"])
                if lam != 0 and group.get("decoupled_weight_decay", False):
                    p.mul_(1 - lr * lam)                   # decoupled: θ ← (1 − αλ)θ
                elif lam != 0:
                    g = g.add(p, alpha=lam)                # L2: g ← ∇f + λθ
                state = self.state[p] if p in self.state else {}
                self.update(p, g, state, group, lr)
                if state and p not in self.state:          # no empty entries (plain SGD keeps no state), as torch
                    self.state[p] = state
        return loss

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        """The update rule for one parameter ``p`` with gradient ``g`` (weight decay included)."""
        raise NotImplementedError

    def __setstate__(self, state: dict) -> None:
        # Called by load_state_dict: a state_dict saved by torch.optim lacks the course's extra
        # keys (``bias_correction``); give them this optimizer's defaults. Old float steps become tensors.
        super().__setstate__(state)
        for index, group in enumerate(self.param_groups):
            for key, default in self.defaults.items():
                group.setdefault(key, default)
            for key in ("foreach", "fused", "differentiable", "capturable"):  # a saved state may ask for them
                if key in group:
                    _CHECKS[key](group[key], f"{key} (in param group {index} of the loaded state)")
        for p_state in self.state.values():
            if "step" in p_state and not torch.is_tensor(p_state["step"]):
                p_state["step"] = _step_counter(float(p_state["step"]))


# --------------------------------------------------------------------------- SGD and momentum
class SGD(_CourseOptimizer):
    """Stochastic gradient descent, with momentum and Nesterov momentum (= ``torch.optim.SGD``).

    With weight decay λ the gradient is g = ∇f(θ) + λθ. Then, with momentum ρ and dampening τ:

        plain (ρ = 0):   θ ← θ − α g
        momentum:        v ← ρ v + (1 − τ) g,        θ ← θ − α v
        Nesterov:        v ← ρ v + g,                θ ← θ − α (g + ρ v)

    On the first step the velocity starts as v = g (no dampening), as in PyTorch. The velocity v is
    the state ``momentum_buffer`` (same shape as θ), kept only when ρ > 0. The Nesterov line is
    the lecture's look-ahead v ← ρv − α∇f(θ + ρv), θ ← θ + v rewritten in the variable θ + ρv,
    where the gradient is taken.
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        rho, tau = group["momentum"], group["dampening"]
        if rho != 0:
            if state.get("momentum_buffer") is None:
                v = state["momentum_buffer"] = g.clone()  # first step: v = g
            else:
                v = state["momentum_buffer"].mul_(rho).add_(g, alpha=1 - tau)  # v ← ρv + (1−τ)g
            g = g + rho * v if group["nesterov"] else v   # Nesterov: g + ρv
        p.add_(g, alpha=-lr)                              # θ ← θ − α g


class SutskeverSGD(_CourseOptimizer):
    """Momentum written as Sutskever et al. (2013): the velocity holds the step itself.

        momentum:   v ← ρ v − α g,            θ ← θ + v
        Nesterov:   v_new = ρ v − α g,        θ ← θ + v_new + ρ (v_new − v)

    where g = ∇f(θ) + λθ (weight decay λ). The Nesterov line is the lecture's look-ahead
    v ← ρv − α∇f(θ + ρv), θ ← θ + v after the change of variables θ̃ = θ + ρv. The velocity is the
    state ``velocity`` (same shape as θ, zero at the start).

    For a constant α this gives exactly the iterates of :class:`SGD` (``torch.optim.SGD``) with the
    same momentum, because ``velocity = −α · momentum_buffer``. When α changes, PyTorch's form
    applies the new α to the whole accumulated velocity at once; this form applies it to the new
    gradients only, and the old velocity keeps the old step size. Not a torch class; the arguments
    follow :class:`SGD` (without dampening), with the lecture's typical ρ = 0.9 as default.
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, momentum: float = 0.9, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        rho = group["momentum"]
        if "velocity" not in state:
            state["velocity"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        v = state["velocity"]
        v_new = rho * v - lr * g               # v_new = ρv − αg
        if group["nesterov"]:
            p.add_(v_new + rho * (v_new - v))  # θ̃ ← θ̃ + v_new + ρ(v_new − v)
        else:
            p.add_(v_new)                      # θ ← θ + v_new
        v.copy_(v_new)


# --------------------------------------------------------------------------- adaptive learning rates
class Adagrad(_CourseOptimizer):
    """AdaGrad: a per-parameter step size from the historical sum of squared gradients (= ``torch.optim.Adagrad``).

        s ← s + g²,        θ ← θ − α_t g / (√s + ε),        α_t = α / (1 + (t − 1) η)

    with g = ∇f(θ) + λθ, ``lr_decay`` η (0: a constant α, the lecture's AdaGrad) and ``s`` starting at
    ``initial_accumulator_value``. State: ``sum`` = s (shape of θ) and ``step`` = t (a 0-dim tensor);
    like torch, both are created in the constructor. For a param group added later
    (``add_param_group``) they are created at its first step, s from the group's own
    ``initial_accumulator_value`` (torch 2.14 takes the constructor's value there instead). Because
    s only grows, the step size decays to zero after many iterations, the lecture's complaint that
    RMSProp answers.
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group["initial_accumulator_value"])

    @staticmethod
    def _init_state(state: dict, p: Tensor, initial_accumulator_value: float) -> None:
        state["step"] = _step_counter()
        state["sum"] = torch.full_like(p, initial_accumulator_value, memory_format=torch.preserve_format)

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        eta, eps = group["lr_decay"], group["eps"]
        if not state:                                   # a param group added later: its own s₀
            self._init_state(state, p, group["initial_accumulator_value"])
        state["step"] += 1
        t = state["step"].item()
        s = state["sum"].addcmul_(g, g)                 # s ← s + g²
        lr_t = lr / (1 + (t - 1) * eta)                 # α_t = α / (1 + (t−1)η)
        p.addcdiv_(g, s.sqrt().add_(eps), value=-lr_t)  # θ ← θ − α_t g / (√s + ε)


class RMSprop(_CourseOptimizer):
    """RMSProp: a leaky (exponentially weighted) average of squared gradients (= ``torch.optim.RMSprop``).

        s ← β s + (1 − β) g²                 (β = ``alpha``, the lecture's decay_rate)
        plain:         θ ← θ − α g / (√s + ε)
        centered:      ḡ ← β ḡ + (1 − β) g,      θ ← θ − α g / (√(s − ḡ²) + ε)
        momentum μ:    b ← μ b + g / (the same denominator),      θ ← θ − α b

    with g = ∇f(θ) + λθ. Centered RMSProp divides by an estimate of the gradient's standard deviation
    instead of its root mean square. Beware the names: torch calls the decay rate ``alpha`` and the learning rate
    ``lr``. State (shape of θ): ``square_avg`` = s, ``grad_avg`` = ḡ (centered), ``momentum_buffer``
    = b (μ > 0), and ``step`` (a 0-dim tensor).
    """

    def __init__(self, params, lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        beta, eps, mu = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if mu > 0:
                state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        s = state["square_avg"].mul_(beta).addcmul_(g, g, value=1 - beta)  # s ← βs + (1−β)g²
        if group["centered"]:
            g_avg = state["grad_avg"].mul_(beta).add_(g, alpha=1 - beta)  # ḡ ← βḡ + (1−β)g
            denom = (s - g_avg * g_avg).sqrt().add_(eps)              # √(s − ḡ²) + ε
        else:
            denom = s.sqrt().add_(eps)                                # √s + ε
        if mu > 0:
            b = state["momentum_buffer"].mul_(mu).addcdiv_(g, denom)  # b ← μb + g/denom
            p.add_(b, alpha=-lr)                                      # θ ← θ − αb
        else:
            p.addcdiv_(g, denom, value=-lr)                           # θ ← θ − αg/denom


class Adadelta(_CourseOptimizer):
    """AdaDelta: RMSProp whose step size is itself a running RMS of past updates (= ``torch.optim.Adadelta``).

        s ← ρ s + (1 − ρ) g²                   (running average of squared gradients)
        Δ = √(u + ε) / √(s + ε) · g             (the update, in the units of θ)
        u ← ρ u + (1 − ρ) Δ²                   (running average of squared updates)
        θ ← θ − α Δ                             (α = 1 in Zeiler's paper, torch's default)

    with g = ∇f(θ) + λθ. The ratio √(u + ε) replaces a hand-set learning rate, so the steps do not
    shrink to zero as AdaGrad's do. State (shape of θ): ``square_avg`` = s, ``acc_delta`` = u, and
    ``step`` (a 0-dim tensor).
    """

    def __init__(self, params, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = _step_counter()
            state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["acc_delta"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        s, u = state["square_avg"], state["acc_delta"]
        s.mul_(rho).addcmul_(g, g, value=1 - rho)                  # s ← ρs + (1−ρ)g²
        delta = (u + eps).sqrt_().div_((s + eps).sqrt_()).mul_(g)  # Δ = √(u+ε)/√(s+ε) · g
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)          # u ← ρu + (1−ρ)Δ²
        p.add_(delta, alpha=-lr)                                   # θ ← θ − αΔ


# --------------------------------------------------------------------------- Adam and its relatives
class Adam(_CourseOptimizer):
    """Adam: momentum on the gradient plus RMSProp's scaling, with bias correction (= ``torch.optim.Adam``).

        m ← β₁ m + (1 − β₁) g                  first moment ("momentum")
        v ← β₂ v + (1 − β₂) g²                 second moment ("RMSProp")
        m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)   bias correction, t = 1, 2, ...
        θ ← θ − α m̂ / (√v̂ + ε)

    with g = ∇f(θ) + λθ (L2), or, with ``decoupled_weight_decay=True`` (AdamW), g = ∇f(θ) and
    θ ← (1 − αλ) θ before the step. ``amsgrad=True`` divides by the running maximum of v instead of v.

    Why the correction: m and v start at 0, so after the first step m = (1 − β₁) g and
    v = (1 − β₂) g², far smaller than g and g²; dividing by 1 − βᵗ undoes exactly this start-up bias.

    **The course's addition**: ``bias_correction=False`` (not in torch) uses m and v uncorrected,
    θ ← θ − α m / (√v + ε), the lecture's first Adam listing; its first step is
    (1 − β₁)/√(1 − β₂) ≈ 3.16 times longer than Adam's with the default betas.

    State (shape of θ): ``exp_avg`` = m, ``exp_avg_sq`` = v, ``max_exp_avg_sq`` (amsgrad), and
    ``step`` = t (a 0-dim float tensor on the CPU, as torch keeps it).
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False,
                 bias_correction: bool = True) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      bias_correction=bias_correction))

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        (beta1, beta2), eps = group["betas"], group["eps"]
        if not state:
            state["step"] = _step_counter()
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        t = state["step"].item()
        m = state["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)  # m ← β₁m + (1−β₁)g
        v = state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v ← β₂v + (1−β₂)g²
        if group["amsgrad"]:
            v = torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # max of all v
        if group["bias_correction"]:
            m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)  # m̂, v̂
        else:
            m_hat, v_hat = m, v                                    # the course's switch
        p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)       # θ ← θ − α m̂/(√v̂ + ε)


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter) (= ``torch.optim.AdamW``).

        θ ← (1 − αλ) θ,    then the Adam step on g = ∇f(θ)  (λ = ``weight_decay``, default 0.01)

    Adam with L2 adds λθ to g, which Adam then divides by √v̂: weights with large gradients are
    hardly decayed. AdamW shrinks every weight by the same factor, outside the adaptive step.
    Same state as :class:`Adam`; ``bias_correction`` is the course's switch, as there.
    """

    def __init__(self, params, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, bias_correction: bool = True) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True, bias_correction=bias_correction)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # as torch: a loaded AdamW always decouples its weight decay
            group["decoupled_weight_decay"] = True


class NAdam(_CourseOptimizer):
    """NAdam: Adam with Nesterov momentum (Dozat 2016) (= ``torch.optim.NAdam``).

        μ_t = β₁ (1 − ½ · 0.96^(t ψ))          momentum schedule (ψ = ``momentum_decay``)
        m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,   v̂ = v / (1 − β₂ᵗ)
        θ ← θ − α (1 − μ_t) / (1 − Π_{i≤t} μ_i) · g / (√v̂ + ε)
              − α μ_{t+1} / (1 − Π_{i≤t+1} μ_i) · m / (√v̂ + ε)

    The second term uses next step's momentum μ_{t+1}: the look-ahead of Nesterov's method, with
    the bias correction of each term by the product of the μ's so far. g = ∇f(θ) + λθ, or with
    ``decoupled_weight_decay=True`` θ ← (1 − αλ) θ first (as AdamW). State (shape of θ): ``exp_avg``
    = m, ``exp_avg_sq`` = v; 0-dim tensors ``step`` = t and ``mu_product`` = Π_{i≤t} μ_i.
    """

    def __init__(self, params, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def update(self, p: Tensor, g: Tensor, state: dict, group: dict, lr: float) -> None:
        (beta1, beta2), eps = group["betas"], group["eps"]
        psi = group["momentum_decay"]
        if not state:
            state["step"] = _step_counter()
            state["mu_product"] = _step_counter(1.0)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        state["step"] += 1
        t = state["step"].item()
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))                 # μ_t
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))      # μ_{t+1}
        state["mu_product"] *= mu                                  # Π_{i≤t} μ_i
        mu_product = state["mu_product"].item()
        m = state["exp_avg"].mul_(beta1).add_(g, alpha=1 - beta1)  # m ← β₁m + (1−β₁)g
        v = state["exp_avg_sq"].mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v ← β₂v + (1−β₂)g²
        denom = (v / (1 - beta2 ** t)).sqrt().add_(eps)            # √v̂ + ε
        p.addcdiv_(g, denom, value=-lr * (1 - mu) / (1 - mu_product))
        p.addcdiv_(m, denom, value=-lr * mu_next / (1 - mu_product * mu_next))
