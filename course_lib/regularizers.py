"""Norm penalties and weight constraints: L2, L1, elastic net, the Lq family, max-norm, weight decay.

A norm penalty adds a term to the cost that grows with the size of the weights,

    J(θ) = L(θ) + λ R(θ),        λ >= 0 trades data fit against small weights,

and a constraint keeps the weights inside a ball instead (max-norm). The penalties here, for the
parameters θ = (θ_1, …, θ_n) taken together (every selected tensor, flattened):

=====================  ===========================================  =========================
name                   R(θ)                                         ∂R/∂θ_i
=====================  ===========================================  =========================
:func:`lq_penalty`     Σ |θ_i|^q = ‖θ‖_q^q   (the Lq family, q > 0)   q |θ_i|^(q−1) sign(θ_i)
:func:`l2_penalty`     ½ Σ θ_i² = ½ ‖θ‖₂²    (ridge, Tikhonov)        θ_i
:func:`l1_penalty`     Σ |θ_i| = ‖θ‖₁        (LASSO)                  sign(θ_i)
:func:`elastic_net_…`  r ‖θ‖₂² + (1 − r)/2 ‖θ‖₁                     2 r θ_i + (1 − r)/2 sign(θ_i)
=====================  ===========================================  =========================

**The factor convention for L2.** :func:`l2_penalty` carries the ½ of the lecture's weight-decay
derivation, so the penalty λ/2·‖w‖² has gradient λw and one gradient-descent step is

    w ← w − α(∇L + λw) = (1 − αλ) w − α ∇L,

exactly ``torch.optim.SGD(weight_decay=λ)``. (Without the ½, λ‖w‖² is ``weight_decay = 2λ``.)

**Which parameters?** Penalties and constraints act on the *weights* of the affine layers
(``nn.Linear``, ``nn.Conv*``, ``nn.Bilinear``), not on biases and not on the scale/shift of
normalization layers: see :func:`penalized_parameters`. Passing a model to any function here
selects those; pass tensors to choose yourself.

**Weight decay is not L2 for adaptive optimizers.** With SGD the two are the same update. Adam
divides the gradient, λw included, by the root of its running second moment, so "L2 in Adam"
shrinks every weight by about the same *step size*, not in proportion to the weight. Decoupled
weight decay (Loshchilov & Hutter, ``torch.optim.AdamW``) shrinks ``w ← (1 − αλ) w`` outside the
adaptive step: :func:`decoupled_weight_decay_` and :class:`DecoupledWeightDecay`.

Callbacks for :func:`course_lib.training.fit`: :class:`Penalty` (adds λ·R(θ) to the loss),
:class:`ProximalL1` (soft-thresholding after each step, which makes exact zeros),
:class:`MaxNorm` (projects onto the norm ball after each step), :class:`DecoupledWeightDecay`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import Tensor, nn

from . import _checks
from ._checks import describe, one_of, probability, real, tensor
from .training import Callback, FitState

__all__ = ["PENALTIES", "MAX_NORM_MODES", "penalized_parameters", "weight_decay_groups", "lq_penalty",
           "l2_penalty", "l1_penalty", "elastic_net_penalty", "penalty", "sgd_weight_decay_step_",
           "decoupled_weight_decay_", "soft_threshold_", "max_norm_", "Penalty", "ProximalL1", "MaxNorm",
           "DecoupledWeightDecay"]

PENALTIES = ("l2", "l1", "elastic_net", "lq")
MAX_NORM_MODES = ("row", "frobenius")

# Layers whose `weight` is a matrix (or a stack of filters) multiplying the input.
_AFFINE = (nn.Linear, nn.Bilinear, nn.modules.conv._ConvNd)


# --------------------------------------------------------------------------- validation
def _check_strength(value, name: str = "lam") -> float:
    """λ (or a learning rate, a threshold): a finite real number >= 0."""
    return real(value, name, low=0.0)


def _check_q(q) -> float:
    return real(q, "q", low=0.0, low_open=True)


def _check_ratio(r) -> float:
    return probability(r, "r", include_one=True, meaning="the elastic-net mixing ratio: r=0 is LASSO, r=1 is ridge")


def _check_bound(c, name: str = "max_norm") -> float:
    return real(c, name, low=0.0, low_open=True)


def _check_kind(kind, q, r) -> tuple[str, float | None, float | None]:
    """A penalty name with the number it needs: q for 'lq', r for 'elastic_net', neither for the others."""
    kind = one_of(kind, "kind", PENALTIES)
    if kind == "lq" and q is None:
        raise ValueError("kind='lq' needs q (q > 0): the penalty is Σ|θ_i|^q")
    if kind == "elastic_net" and r is None:
        raise ValueError("kind='elastic_net' needs the mixing ratio r in [0, 1]")
    if q is not None and kind != "lq":
        raise ValueError(f"q is the exponent of kind='lq' and has no effect on kind={kind!r}, got q={q!r}")
    if r is not None and kind != "elastic_net":
        raise ValueError(f"r is the mixing ratio of kind='elastic_net' and has no effect on kind={kind!r}, got r={r!r}")
    return kind, None if q is None else _check_q(q), None if r is None else _check_ratio(r)


_check_flag = _checks.flag


# --------------------------------------------------------------------------- which parameters
def penalized_parameters(model: nn.Module, *, include_bias: bool = False) -> list[nn.Parameter]:
    """The parameters a norm penalty should act on: weights of Linear / Conv / Bilinear layers.

    Biases (unless ``include_bias``) and the γ, β of normalization layers are left out: a bias
    only shifts a unit's output, and there are orders of magnitude fewer of them than weights,
    so penalizing them buys little regularization and can cost fit. Each parameter appears once
    even if layers share it; only parameters with ``requires_grad`` are returned.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {describe(model)}")
    _check_flag(include_bias, "include_bias")
    chosen: list[nn.Parameter] = []
    seen: set[int] = set()
    for module in model.modules():
        if not isinstance(module, _AFFINE):
            continue
        names = ("weight", "bias") if include_bias else ("weight",)
        for name in names:
            p = getattr(module, name, None)
            if isinstance(p, nn.Parameter) and p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                chosen.append(p)
    return chosen


def weight_decay_groups(model: nn.Module, weight_decay: float, *, include_bias: bool = False) -> list[dict]:
    """Two optimizer parameter groups: the :func:`penalized_parameters` with ``weight_decay``, the rest with 0.

    ``torch.optim.AdamW(weight_decay_groups(model, 0.01), lr=1e-3)`` decays the weights only.
    """
    decay = penalized_parameters(model, include_bias=include_bias)
    weight_decay = _check_strength(weight_decay, "weight_decay")
    ids = {id(p) for p in decay}
    rest = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def _params(params) -> list[Tensor]:
    """A list of tensors from a module (its penalized parameters), a tensor, or an iterable of tensors."""
    if isinstance(params, nn.Module):
        out = penalized_parameters(params)
        if not out:
            raise ValueError(f"{type(params).__name__} has no Linear/Conv weights to penalize; pass the "
                             f"tensors to penalize explicitly")
        return out
    if isinstance(params, Tensor):
        out = [params]
    elif not isinstance(params, Iterable) or isinstance(params, (str, bytes)):
        raise TypeError(f"params must be an nn.Module, a tensor or an iterable of tensors, got {describe(params)}")
    else:
        out = list(params)
        bad = [p for p in out if not isinstance(p, Tensor)]
        if bad:
            raise TypeError(f"params must contain tensors only, got {describe(bad[0])}")
        if not out:
            raise ValueError("params is empty: no tensors to penalize or update")
    ints = [p.dtype for p in out if not torch.is_floating_point(p)]
    if ints:
        raise TypeError(f"params must be floating-point tensors (weights), got dtype {ints[0]}; convert with .float()")
    return out


def _sum(terms: list[Tensor]) -> Tensor:
    return terms[0] if len(terms) == 1 else torch.stack(terms).sum()


# --------------------------------------------------------------------------- penalties
def lq_penalty(params, q: float) -> Tensor:
    """The Lq family: ``R_q(θ) = Σ_i |θ_i|^q = ‖θ‖_q^q`` over every entry of every tensor in ``params``.

    ``params``: a model (its weights, see :func:`penalized_parameters`), a tensor of any shape,
    or an iterable of tensors. Returns a 0-dim tensor (device and dtype of the parameters).
    q = 1 is L1, q = 2 the squared L2 norm; q < 1 is not convex (and sparsifies hardest),
    its unit ball {R_q <= 1} is star-shaped. Gradient ``q |θ_i|^(q−1) sign(θ_i)``; at θ_i = 0 the
    gradient is taken as 0 for every q (for q <= 1 there is no derivative there).
    """
    q = _check_q(q)
    terms = []
    for p in _params(params):
        a = p.abs()
        if q == 1.0:
            terms.append(a.sum())
        elif q == 2.0:
            terms.append((p * p).sum())
        elif q > 1.0:
            terms.append(a.pow(q).sum())
        else:  # |θ|^q has an infinite slope at 0: keep 0 out of pow so the gradient there is 0, not nan
            nz = a > 0
            terms.append(torch.where(nz, torch.where(nz, a, torch.ones_like(a)).pow(q), torch.zeros_like(a)).sum())
    return _sum(terms)


def l2_penalty(params) -> Tensor:
    """``R(θ) = ½ ‖θ‖₂² = ½ Σ θ_i²``, gradient ``θ``: λ·R is ``weight_decay = λ`` in ``torch.optim.SGD``.

    ``params``: a model (its weights), a tensor or an iterable of tensors → 0-dim tensor.
    """
    return 0.5 * _sum([(p * p).sum() for p in _params(params)])


def l1_penalty(params) -> Tensor:
    """``R(θ) = ‖θ‖₁ = Σ |θ_i|``, (sub)gradient ``sign(θ_i)`` (0 at θ_i = 0).

    ``params``: a model (its weights), a tensor or an iterable of tensors → 0-dim tensor.
    """
    return _sum([p.abs().sum() for p in _params(params)])


def elastic_net_penalty(params, r: float) -> Tensor:
    """Elastic net exactly as the lecture writes it: ``R(θ) = r·R_ridge(θ) + (1 − r)/2 · R_LASSO(θ)``

    with ``R_ridge = ‖θ‖₂² = Σ θ_i²`` (no ½ here) and ``R_LASSO = ‖θ‖₁ = Σ |θ_i|``; the mixing ratio
    ``r`` in [0, 1]: ``r = 0`` is (half) LASSO, ``r = 1`` is ridge. Beware that other texts mix the
    other way round (scikit-learn's ``l1_ratio`` and several slides put r on the L1 term).
    ``params``: a model (its weights), a tensor or an iterable of tensors → 0-dim tensor.
    """
    r = _check_ratio(r)
    ps = _params(params)
    ridge = _sum([(p * p).sum() for p in ps])
    lasso = _sum([p.abs().sum() for p in ps])
    return r * ridge + (1.0 - r) / 2.0 * lasso


def penalty(params, kind: str = "l2", *, q: float | None = None, r: float | None = None) -> Tensor:
    """``R(θ)`` by name: ``'l2'`` (½‖θ‖²), ``'l1'``, ``'elastic_net'`` (needs ``r``) or ``'lq'`` (needs ``q``)."""
    kind, q, r = _check_kind(kind, q, r)
    if kind == "lq":
        return lq_penalty(params, q)
    if kind == "elastic_net":
        return elastic_net_penalty(params, r)
    return l2_penalty(params) if kind == "l2" else l1_penalty(params)


# --------------------------------------------------------------------------- updates on the weights
@torch.no_grad()
def sgd_weight_decay_step_(params, lr: float, weight_decay: float) -> None:
    """One SGD step in the weight-decay form, in place: ``w ← (1 − αλ) w − α ∇L(w)``.

    ``∇L`` is each tensor's ``.grad`` (the gradient of the data loss only). Algebraically the same
    as a step on ``L + λ/2 ‖w‖²``: the weights shrink by the factor (1 − αλ) < 1, then move
    along the data gradient. Tensors without a gradient are only shrunk.
    """
    lr = _check_strength(lr, "lr")
    weight_decay = _check_strength(weight_decay, "weight_decay")
    for p in _params(params):
        p.mul_(1.0 - lr * weight_decay)
        if p.grad is not None:
            p.add_(p.grad, alpha=-lr)


@torch.no_grad()
def decoupled_weight_decay_(params, lr: float, weight_decay: float) -> None:
    """Decoupled weight decay, in place: ``w ← w − α λ w = (1 − αλ) w`` (no gradient involved).

    Applied just before an optimizer's step, with the step's learning rate α, this is how
    ``torch.optim.AdamW`` decays: Adam + this = AdamW, SGD + this = SGD(weight_decay=λ).
    """
    lr = _check_strength(lr, "lr")
    weight_decay = _check_strength(weight_decay, "weight_decay")
    for p in _params(params):
        p.mul_(1.0 - lr * weight_decay)


@torch.no_grad()
def soft_threshold_(params, threshold: float) -> None:
    """The proximal step of ``t‖w‖₁``, in place: ``w ← sign(w) · max(|w| − t, 0)`` (= ``F.softshrink``).

    After a gradient step with learning rate α on the data loss, soft-thresholding with
    ``t = αλ`` is one step of proximal gradient descent (ISTA) on ``L + λ‖w‖₁``. Every weight
    with ``|w| <= t`` becomes exactly 0, which is why L1 gives sparse weights.
    """
    t = _check_strength(threshold, "threshold")
    for p in _params(params):
        p.copy_(p.sign() * (p.abs() - t).clamp_min(0.0))


@torch.no_grad()
def max_norm_(weight: Tensor, max_norm: float, mode: str = "row") -> Tensor:
    """Project a layer's weight onto a norm ball, in place; returns ``weight``.

    ``mode='row'``: every unit's incoming weight vector (row ``w_i`` of a Linear weight of shape
    ``(out, in)``, or filter ``i`` of a Conv weight ``(out, in, *k)``, flattened) is kept within
    ``‖w_i‖₂ <= c``:  ``w_i ← w_i · min(1, c / ‖w_i‖₂)``  (as ``torch.renorm(w, 2, 0, c)``).
    ``mode='frobenius'``: the whole layer, ``‖W‖_F <= c``:  ``W ← W · min(1, c / ‖W‖_F)``.
    Rows (or layers) already inside the ball are left exactly as they are.
    """
    tensor(weight, "weight", floating=True)
    c = _check_bound(max_norm)
    mode = one_of(mode, "mode", MAX_NORM_MODES)
    if mode == "row":
        if weight.ndim < 2:
            raise ValueError(f"mode='row' bounds each output unit's row and needs a weight with >= 2 dims "
                             f"(out, in, ...), got shape {tuple(weight.shape)}; use mode='frobenius'")
        norms = weight.flatten(1).norm(dim=1)                                    # (out,)
        scale = torch.where(norms > c, c / norms, torch.ones_like(norms))        # min(1, c/‖w_i‖)
        weight.mul_(scale.view(-1, *([1] * (weight.ndim - 1))))
    else:
        norm = weight.norm()                                                     # ‖W‖_F
        weight.mul_((c / norm).clamp(max=1.0))                                   # min(1, c/‖W‖_F)
    return weight


# --------------------------------------------------------------------------- callbacks for fit()
def _lr_by_param(optimizer: torch.optim.Optimizer) -> dict[int, float]:
    return {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}


class _OnParams(Callback):
    """Shared part: act on explicit tensors, or on the model's penalized parameters (found at fit start)."""

    def __init__(self, params=None) -> None:
        self._given = None if params is None else _params(params)
        self.params: list[Tensor] | None = self._given

    def on_fit_start(self, state: FitState) -> None:
        self.params = self._given if self._given is not None else _params(state.model)


class Penalty(_OnParams):
    """Adds ``λ·R(θ)`` to the loss in :func:`~course_lib.training.fit` (the ``extra_loss`` hook).

    ``kind``: ``'l2'`` (λ/2·‖θ‖², same as ``weight_decay = λ`` for SGD), ``'l1'`` (λ‖θ‖₁, plain
    subgradient λ·sign(θ)), ``'elastic_net'`` (with ``r``, the lecture's mix) or ``'lq'`` (with ``q``).
    ``params``: tensors to penalize; default the model's Linear/Conv weights (no biases, no norm layers).
    The history records the data loss; the penalty is added for the gradient only.
    """

    def __init__(self, lam: float, kind: str = "l2", *, q: float | None = None, r: float | None = None,
                 params=None) -> None:
        self.lam = _check_strength(lam)
        self.kind, self.q, self.r = _check_kind(kind, q, r)
        super().__init__(params)

    def value(self) -> Tensor:
        """``R(θ)`` of the current parameters (without λ)."""
        if self.params is None:
            raise RuntimeError("no parameters yet: pass params= or use the callback in fit()")
        return penalty(self.params, self.kind, q=self.q, r=self.r)

    def extra_loss(self, state: FitState) -> Tensor | None:
        return None if self.lam == 0 else self.lam * self.value()

    def __repr__(self) -> str:
        extra = f", q={self.q:g}" if self.kind == "lq" else f", r={self.r:g}" if self.kind == "elastic_net" else ""
        return f"Penalty(lam={self.lam:g}, kind={self.kind!r}{extra})"


class ProximalL1(_OnParams):
    """L1 by proximal gradient: after every optimizer step, ``w ← soft_threshold(w, α λ)``.

    Minimizes ``L + λ‖w‖₁`` like :class:`Penalty` ``(kind='l1')``, but weights that the subgradient
    would make jitter around zero land exactly on 0. ``α`` is the learning rate of each
    parameter's group at that step. With plain SGD this is proximal gradient descent (ISTA),
    which converges to the LASSO solution on a convex problem; with momentum or Adam it is the
    usual heuristic (still exact zeros, no longer the exact proximal step of their update).
    """

    def __init__(self, lam: float, params=None) -> None:
        self.lam = _check_strength(lam)
        super().__init__(params)

    def on_step_end(self, state: FitState) -> None:
        lrs = _lr_by_param(state.optimizer)
        for p in self.params:
            soft_threshold_(p, lrs.get(id(p), 0.0) * self.lam)

    def __repr__(self) -> str:
        return f"ProximalL1(lam={self.lam:g})"


class MaxNorm(_OnParams):
    """Max-norm constraint: after every optimizer step, project each layer's weight onto ``‖·‖ <= c``.

    ``max_norm``: one bound c for every layer, or a sequence with one bound c^(ℓ) per selected
    weight (in the order of ``params`` / :func:`penalized_parameters`). ``mode``: ``'row'`` bounds
    every unit's incoming weights (Srivastava et al. use c ≈ 3–4, 2 for MNIST), ``'frobenius'``
    bounds the whole layer, ``‖W^(ℓ)‖_F <= c^(ℓ)``. See :func:`max_norm_`.
    """

    def __init__(self, max_norm: float | Sequence[float], mode: str = "row", params=None) -> None:
        if isinstance(max_norm, Sequence) and not isinstance(max_norm, str):
            if len(max_norm) == 0:
                raise ValueError("max_norm is an empty list of bounds; give one number or one bound per layer")
            self.bounds: float | list[float] = [_check_bound(c, f"max_norm[{i}]") for i, c in enumerate(max_norm)]
        else:
            self.bounds = _check_bound(max_norm)
        self.mode = one_of(mode, "mode", MAX_NORM_MODES)
        super().__init__(params)
        if self.params is not None:
            self._check_lengths()

    def _check_lengths(self) -> None:
        if isinstance(self.bounds, list) and len(self.bounds) != len(self.params):
            raise ValueError(f"max_norm has {len(self.bounds)} bounds but there are {len(self.params)} weights to "
                             f"constrain; give one number or one bound per weight")
        if self.mode == "row":
            for p in self.params:
                if p.ndim < 2:
                    raise ValueError(f"mode='row' needs weights with >= 2 dims, got shape {tuple(p.shape)}")

    def on_fit_start(self, state: FitState) -> None:
        super().on_fit_start(state)
        self._check_lengths()

    def apply(self) -> None:
        """Project the parameters now (also done after every step in fit)."""
        bounds = self.bounds if isinstance(self.bounds, list) else [self.bounds] * len(self.params)
        for p, c in zip(self.params, bounds):
            max_norm_(p, c, self.mode)

    def on_step_end(self, state: FitState) -> None:
        self.apply()

    def __repr__(self) -> str:
        return f"MaxNorm(max_norm={self.bounds}, mode={self.mode!r})"


class DecoupledWeightDecay(_OnParams):
    """Decoupled weight decay in fit: ``w ← (1 − α λ) w`` just before each optimizer step.

    Runs in ``on_after_backward`` (gradients computed, step not yet taken) with each parameter's
    current learning rate α, so ``Adam + DecoupledWeightDecay(λ)`` is ``AdamW(weight_decay=λ)``
    and ``SGD + DecoupledWeightDecay(λ)`` is ``SGD(weight_decay=λ)``. Default parameters: the
    model's Linear/Conv weights.
    """

    def __init__(self, weight_decay: float, params=None) -> None:
        self.weight_decay = _check_strength(weight_decay, "weight_decay")
        super().__init__(params)

    def on_after_backward(self, state: FitState) -> None:
        lrs = _lr_by_param(state.optimizer)
        for p in self.params:
            decoupled_weight_decay_(p, lrs.get(id(p), 0.0), self.weight_decay)

    def __repr__(self) -> str:
        return f"DecoupledWeightDecay(weight_decay={self.weight_decay:g})"
