"""Checkers for the exercises of notebook 08 (weight initialization and gradient flow).

1. ``check_kaiming_normal``: the student's He initializer for Linear and Conv2d weights, against the
   formula σ = √(2 / fan_in) that ``course_lib.init.kaiming_normal_`` implements; recognises the
   typical slips (fan_out, no kernel area, variance for std, no gain, uniform draws, no ``no_grad``);
2. ``check_collapse``: the per-layer factor of a small-init tanh net (0.005·randn, width 1000) and layer 10's std;
3. ``check_clip_grad_norm``: the student's clipping by total norm, against ``course_lib.gradients.clip_grad_norm_``;
4. ``check_lsuv``: the student's LSUV rescaling (Mishkin & Matas), by its defining property: every Linear layer's
   output has unit variance on the batch; recognises one forward pass for all layers, dividing by the variance,
   measuring after the activation, new directions instead of a rescaling, and weights left unchanged.
"""

from __future__ import annotations

import copy
import math
from numbers import Real

import torch
from torch import nn

from . import NotAttempted, close, require, run_check
from ..gradients import clip_grad_norm_
from ..init import orthogonal_

__all__ = ["check_kaiming_normal", "check_collapse", "check_clip_grad_norm", "check_lsuv", "lsuv_case",
           "COLLAPSE_WIDTH", "COLLAPSE_STD", "COLLAPSE_LAYERS"]


# --------------------------------------------------------------------------- exercise 1
_LINEAR = (300, 800)          # nn.Linear(800, 300).weight: fan_in 800, fan_out 300
_CONV = (48, 32, 3, 3)        # nn.Conv2d(32, 48, 3).weight: fan_in 32·9 = 288, fan_out 48·9 = 432


def _slips(shape: tuple[int, ...]) -> list[tuple[float, str]]:
    """(std a typical slip gives, what it is) for a weight of ``shape``."""
    out_c, in_c = shape[0], shape[1]
    k = math.prod(shape[2:])
    fan_in, fan_out = in_c * k, out_c * k
    slips = [
        (math.sqrt(2 / fan_out), "it matches √(2/fan_out): you used the number of OUTPUTS. He's forward rule divides "
                                 "by fan_in, the number of inputs each unit sums: weight.shape[1] (times the kernel "
                                 "area for a conv)"),
        (2 / fan_in, "it matches 2/fan_in, the VARIANCE: the standard deviation is its square root"),
        (math.sqrt(1 / fan_in), "it matches √(1/fan_in), LeCun's scale: He's ReLU rule has the gain √2 "
                                "(variance 2/fan_in), because ReLU zeroes half of its inputs"),
        (2 / math.sqrt(fan_in), "it matches 2/√fan_in: the 2 belongs under the square root (variance 2/fan_in)"),
        (math.sqrt(fan_in / 2), "it matches √(fan_in/2): you divided randn by √(2/fan_in) instead of multiplying"),
        (math.sqrt(1 / ((fan_in + fan_out) / 2)), "it matches Xavier's √(1/fan_avg): He uses fan_in only, and 2"),
        (math.sqrt(2 / ((fan_in + fan_out) / 2)), "it matches √(2/fan_avg): He uses fan_in, not the average of the fans"),
    ]
    if k > 1:
        slips = [(math.sqrt(2 / in_c), "the Linear weight is right but this conv weight matches √(2/in_channels): "
                                       "each output of a conv sums over in_channels × kernel height × kernel width "
                                       "inputs, so fan_in includes the kernel area"),
                 (math.sqrt(2 / out_c), "this conv weight matches √(2/out_channels): fan_in is in_channels × kernel "
                                        "area (weight.shape[1] times the product of weight.shape[2:])"),
                 (math.sqrt(2 / (in_c * shape[2])), "this conv weight matches a fan_in with only one side of the "
                                                    "kernel: multiply by the kernel AREA, height × width")] + slips
    return slips


def _call(fn, tensor: torch.Tensor, seed: int) -> torch.Tensor:
    out = fn(tensor, generator=torch.Generator().manual_seed(seed))
    if out is None:
        raise NotAttempted
    return out


def _check_std(fn, shape: tuple[int, ...], what: str) -> None:
    k = math.prod(shape[2:])
    fan_in = shape[1] * k
    expected = math.sqrt(2 / fan_in)
    w = torch.full(shape, float("nan"))
    out = _call(fn, w, 0)
    require(isinstance(out, torch.Tensor), f"return the tensor you filled, got {type(out).__name__}")
    require(out is w, f"{what}: return the tensor you were given, filled IN PLACE (tensor.normal_(...)), not a new one")
    require(not torch.isnan(w).any(), f"{what}: the tensor still holds its old values: fill it in place with "
                                      f"tensor.normal_(mean, std, generator=generator)")
    std = w.std().item()
    mean = w.mean().item()
    if not close(std, expected, rtol=0.03):
        for bad, hint in _slips(shape):
            require(not close(std, bad, rtol=0.03), f"{what}: the std of your weights is {std:.4g}; {hint}")
        require(False, f"{what}: the std of your weights is {std:.4g}, He's rule gives {expected:.4g} "
                       f"(fan_in = {fan_in}). Check the fan and the formula σ² = 2/fan_in")
    require(abs(mean) < 5 * expected / math.sqrt(w.numel()),
            f"{what}: your weights have mean {mean:.3g}: draw them around 0")
    beyond = (w.abs() > 2 * expected).float().mean().item()
    require(beyond > 0.03, f"{what}: no weight lies beyond 2σ: these are uniform draws. kaiming_NORMAL_ draws from "
                           f"N(0, σ²) (a normal has 4.6% of its mass beyond 2σ)")
    require(beyond < 0.06, f"{what}: {beyond:.1%} of the weights lie beyond 2σ (a normal has 4.6%): draw from a "
                           f"normal distribution N(0, σ²)")


def check_kaiming_normal(fn) -> bool:
    """``fn(tensor, generator=None)``: fill ``tensor`` in place with N(0, 2/fan_in) (He, fan_in mode) and return it.

    Checked on the weight of ``nn.Linear(800, 300)`` and of ``nn.Conv2d(32, 48, 3)``: the empirical std
    against √(2/fan_in), normal draws, the generator used, in place and on a parameter that requires grad.
    """

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(tensor, generator=None), got {type(fn).__name__}")
        _check_std(fn, _LINEAR, "Linear(800, 300).weight")
        _check_std(fn, _CONV, "Conv2d(32, 48, 3).weight")
        a = _call(fn, torch.empty(_LINEAR), 1).clone()
        b = _call(fn, torch.empty(_LINEAR), 1).clone()
        c = _call(fn, torch.empty(_LINEAR), 2).clone()
        require(torch.equal(a, b) and not torch.equal(a, c),
                "two calls with generators of the same seed gave different weights (or different seeds the same): "
                "draw with generator=generator")
        layer = nn.Linear(800, 300)
        try:
            out = fn(layer.weight, generator=torch.Generator().manual_seed(3))
        except RuntimeError as exc:
            if "leaf Variable" in str(exc) or "in-place" in str(exc):
                require(False, "on a layer's weight (a parameter that requires grad) your in-place fill fails: "
                               "do it inside `with torch.no_grad():`")
            raise
        require(out is layer.weight, "on a layer's weight, return the weight itself (filled in place)")
        require(out.grad_fn is None and layer.weight.requires_grad,
                "the weight must stay a trainable leaf: fill it inside torch.no_grad()")

    return run_check("Exercise 1 (He initialization)", check,
                     "σ = √(2/fan_in), fan_in = in_channels × kernel area, drawn in place under no_grad: "
                     "that is course_lib.init.kaiming_normal_(w, nonlinearity='relu')")


# --------------------------------------------------------------------------- exercise 2
COLLAPSE_WIDTH = 1000   # the net of the exercise: 10 tanh layers of this width,
COLLAPSE_STD = 0.005    # weights COLLAPSE_STD · randn, unit-Gaussian input
COLLAPSE_LAYERS = 10


def _number(value, name: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    require(isinstance(value, Real) and not isinstance(value, bool), f"{name} must be a number, got "
                                                                      f"{type(value).__name__}")
    value = float(value)
    require(math.isfinite(value) and value > 0, f"{name} must be a positive number, got {value:g}")
    return value


def check_collapse(answer) -> bool:
    """``answer = (factor, std10)`` for 10 tanh layers of width 1000 with 0.005·randn weights on unit-Gaussian input.

    ``factor``: what each layer multiplies the std of the activations by (tanh(z) ≈ z for small z);
    ``std10``: the std of layer 10's activations. Accepted within 5% (factor) and a factor 1.4 (std10).
    """
    factor_ok = COLLAPSE_STD * math.sqrt(COLLAPSE_WIDTH)   # 0.158
    expected = factor_ok ** COLLAPSE_LAYERS                # ≈ 9.8e-9

    def near(value: float, target: float) -> bool:
        return abs(math.log10(value / target)) < 0.15

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (tuple, list)) and len(answer) == 2,
                f"give a pair (factor, std10), got {type(answer).__name__}")
        if answer[0] is None or answer[1] is None:
            raise NotAttempted
        factor, std10 = _number(answer[0], "factor"), _number(answer[1], "std10")
        if not close(factor, factor_ok, rtol=0.05):
            require(not close(factor, COLLAPSE_STD, rtol=0.05),
                    f"factor: {COLLAPSE_STD} is the std of ONE weight; each unit sums {COLLAPSE_WIDTH} products w·x, "
                    f"and the variances of independent terms add: Var(y) = n·Var(w)·Var(x)")
            require(not close(factor, COLLAPSE_STD * COLLAPSE_WIDTH, rtol=0.05),
                    f"factor: {COLLAPSE_STD} × {COLLAPSE_WIDTH} adds up standard deviations; independent terms add "
                    f"their VARIANCES, so the std grows with √n")
            require(not close(factor, COLLAPSE_STD ** 2 * COLLAPSE_WIDTH, rtol=0.05),
                    f"factor: {COLLAPSE_WIDTH} × {COLLAPSE_STD}² is the factor of the VARIANCE; the question asks for "
                    f"the std")
            require(False, f"factor: {factor:g} is not it. Use Var(y) = n·Var(w)·Var(x) with n = {COLLAPSE_WIDTH}, "
                           f"Var(w) = {COLLAPSE_STD}², and tanh(z) ≈ z for small z")
        if not near(std10, expected):
            require(not near(std10, expected / factor_ok),
                    f"std10: {std10:.3g} applies the factor one time too few: the input has std 1 and each of the "
                    f"{COLLAPSE_LAYERS} layers multiplies it once")
            require(not near(std10, expected * factor_ok),
                    f"std10: {std10:.3g} applies the factor once too often: {COLLAPSE_LAYERS} layers, "
                    f"{COLLAPSE_LAYERS} factors")
            require(False, f"std10: {std10:.3g} is off by a factor of {10 ** abs(math.log10(std10 / expected)):.2g}: "
                           f"start from the input's std 1 and multiply by your factor once per layer")

    return run_check("Exercise 2 (the collapse)", check,
                     f"each layer multiplies the std by {COLLAPSE_STD}·√{COLLAPSE_WIDTH} ≈ {factor_ok:.3f}, so layer "
                     f"{COLLAPSE_LAYERS} is at ≈ {expected:.1e}: the activations vanish")


# --------------------------------------------------------------------------- exercise 3
def _case(seed: int, scale: float, none_at: int | None = None) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    params = []
    for i, shape in enumerate([(20, 10), (20,), (5, 20), (5,)]):
        p = torch.randn(shape, generator=g).requires_grad_()
        if i != none_at:
            p.grad = scale * torch.randn(shape, generator=g)
        params.append(p)
    return params


def _copy(params: list[torch.Tensor]) -> list[torch.Tensor]:
    out = []
    for p in params:
        q = p.detach().clone().requires_grad_()
        q.grad = None if p.grad is None else p.grad.clone()
        out.append(q)
    return out


def check_clip_grad_norm(fn) -> bool:
    """``fn(parameters, max_norm)``: scale all gradients by min(1, max_norm / (‖g‖ + 1e-6)) in place; return ‖g‖ before.

    Compared with ``course_lib.gradients.clip_grad_norm_`` on the same gradients (large ones that are
    clipped, small ones that are not, and a parameter without a gradient).
    """

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(parameters, max_norm), got {type(fn).__name__}")
        for seed, scale, none_at, max_norm in ((0, 5.0, None, 1.0), (1, 0.01, None, 1.0), (2, 3.0, 1, 2.0)):
            mine, ref = _case(seed, scale, none_at), _case(seed, scale, none_at)
            before = [None if p.grad is None else p.grad.clone() for p in mine]
            total_ref = clip_grad_norm_(ref, max_norm).item()
            got = fn(mine, max_norm)
            if got is None:
                raise NotAttempted
            got = float(got.item() if isinstance(got, torch.Tensor) else got)
            case = f"gradients of total norm {total_ref:.3g}, max_norm {max_norm:g}"
            if none_at is not None:
                require(mine[none_at].grad is None, f"{case}: a parameter without a gradient must keep .grad = None")
            unchanged = all(b is None or torch.equal(p.grad, b) for p, b in zip(mine, before))
            require(not (unchanged and total_ref > max_norm),
                    f"{case}: the gradients did not change: scale p.grad in place (p.grad.mul_(...)), and only "
                    f"those that are not None")
            after_norm = math.sqrt(sum(p.grad.square().sum().item() for p in mine if p.grad is not None))
            require(not close(got, after_norm, rtol=1e-4) or close(got, total_ref, rtol=1e-4),
                    f"{case}: you returned the norm AFTER clipping ({got:.4g}); return the total norm before it")
            require(close(got, total_ref, rtol=1e-4),
                    f"{case}: you returned {got:.4g}, the total norm is {total_ref:.4g}: the 2-norm of ALL gradients "
                    f"viewed as one vector, √(Σ over parameters of ‖p.grad‖²)")
            per_tensor = [None if b is None else b * min(1.0, max_norm / (b.norm().item() + 1e-6)) for b in before]
            separately = all(b is None or torch.allclose(p.grad, s, rtol=1e-4, atol=1e-7)
                             for p, s, b in zip(mine, per_tensor, before))
            ok = all(q.grad is None or torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-7) for p, q in zip(mine, ref))
            if not ok:
                require(not separately, f"{case}: you clipped each parameter's gradient separately; clipping by norm "
                                        f"scales ALL gradients by the same factor, from their total norm, so the "
                                        f"direction of the whole update is kept")
                require(not (total_ref < max_norm and after_norm > total_ref * 1.0001),
                        f"{case}: the gradients grew: the factor is min(1, max_norm / norm); clipping never scales up")
                require(False, f"{case}: after your clipping the gradients differ from clip_grad_norm_'s: every "
                               f"p.grad is multiplied by min(1, max_norm / (total_norm + 1e-6))")

    return run_check("Exercise 3 (clipping by norm)", check,
                     "one factor min(1, max_norm/‖g‖) for all gradients: the same as torch.nn.utils.clip_grad_norm_")


# --------------------------------------------------------------------------- exercise 4
def lsuv_case(seed: int = 0) -> tuple[nn.Sequential, torch.Tensor]:
    """The checker's net and batch: Linear → Tanh → Linear → ReLU → Linear → Tanh → Linear, no biases, orthogonal
    weights, and 256 inputs with mean 1 and std 3 (so that no layer starts at variance 1)."""
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Linear(30, 40, bias=False), nn.Tanh(), nn.Linear(40, 40, bias=False), nn.ReLU(),
                          nn.Linear(40, 40, bias=False), nn.Tanh(), nn.Linear(40, 5, bias=False))
    for m in model:
        if isinstance(m, nn.Linear):
            orthogonal_(m.weight, generator=g)
    x = 3.0 * torch.randn(256, 30, generator=g) + 1.0
    return model, x


@torch.no_grad()
def _linear_variances(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """The variance of each Linear layer's output on x."""
    h, out = x, []
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            out.append(h.var().item())
    return out


@torch.no_grad()
def _lsuv_variant(model: nn.Sequential, x: torch.Tensor, *, sequential: bool = True, power: float = 0.5,
                  after_activation: bool = False) -> list[torch.Tensor]:
    """LSUV's step 2 on a copy of ``model``, right (the defaults) or with one of the typical slips; returns the weights.

    ``sequential=False``: every layer measured in one forward pass before any is rescaled; ``power=1``: divided by
    the variance instead of the std; ``after_activation``: the activation after the layer measured instead of it.
    """
    net = copy.deepcopy(model)

    def measured(i: int) -> float:
        h = x
        for j, layer in enumerate(net):
            h = layer(h)
            if j == i:
                if after_activation and i + 1 < len(net):
                    h = net[i + 1](h)
                return h.var().item()
        raise IndexError(i)

    linear = [i for i, m in enumerate(net) if isinstance(m, nn.Linear)]
    first = {i: measured(i) for i in linear}
    for i in linear:
        var = measured(i) if sequential else first[i]
        net[i].weight.div_(var ** power)
    return [net[i].weight.detach() for i in linear]


def check_lsuv(fn) -> bool:
    """``fn(model, x)``: rescale each ``nn.Linear`` weight of ``model`` in place, in order, so that its output has
    variance 1 on ``x`` (LSUV's step 2; the weights are already orthogonal). Checked on :func:`lsuv_case`: every
    Linear output within 2% of variance 1, every weight a positive multiple of the orthogonal one it started from.
    """

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(model, x), got {type(fn).__name__}")
        model, x = lsuv_case(0)
        start = [m.weight.detach().clone() for m in model if isinstance(m, nn.Linear)]
        slips = [
            (_lsuv_variant(model, x, sequential=False),
             "you measured every layer in one forward pass before rescaling any: after you rescale a layer, the "
             "layers above it see a different input. Run the batch through the model again for each layer, in order"),
            (_lsuv_variant(model, x, power=1.0),
             "you divided the weights by the output's variance: scaling W by c scales the output's variance by c², "
             "so divide by the standard deviation"),
            (_lsuv_variant(model, x, after_activation=True),
             "you measured the activation after each Linear layer: LSUV gives unit variance to the output of the "
             "weighted layer itself, before the activation"),
        ]
        got = fn(model, x)
        require(got is None or got is model, "return the model you were given (changed in place), or nothing")
        weights = [m.weight.detach() for m in model if isinstance(m, nn.Linear)]
        require(not all(torch.equal(w, w0) for w, w0 in zip(weights, start)),
                "the weights did not change: divide each layer's weight in place (layer.weight.div_(...) under "
                "torch.no_grad()), not a copy of it")
        for k, (w, w0) in enumerate(zip(weights, start)):
            ratio = w / w0
            require(bool((ratio > 0).all()) and torch.allclose(ratio, ratio.mean(), rtol=1e-3),
                    f"Linear layer {k}: its weight is not a positive multiple of the orthogonal weight it started "
                    f"from. LSUV keeps the directions and only rescales each weight matrix by one number")
        variances = _linear_variances(model, x)
        if all(abs(v - 1) < 0.02 for v in variances):
            return
        for slip, hint in slips:
            require(not all(torch.allclose(w, s_w, rtol=1e-2, atol=0) for w, s_w in zip(weights, slip)), hint)
        require(False, f"the Linear layers' outputs have variances {', '.join(f'{v:.3g}' for v in variances)} on x, "
                       f"not 1: for each Linear layer in order, run x through the model, take the std of that layer's "
                       f"output, and divide the layer's weight by it")

    return run_check("Exercise 4 (LSUV)", check,
                     "every Linear layer's output has variance 1 on the batch, the directions kept: that is LSUV's "
                     "step 2 (course_lib.init.lsuv_ also starts from orthogonal weights and iterates when there are "
                     "biases)")
