"""Checkers for the exercises of notebook 10 (optimizers)."""

from __future__ import annotations

from numbers import Real

import torch

from . import NotAttempted, close, require, run_check

__all__ = ["check_valley_learning_rates", "check_adam_step", "check_momentum_step", "check_rmsprop_step",
           "VALLEY_CURVATURES", "ADAM_HYPER", "adam_variant", "MOMENTUM_HYPER", "momentum_variant", "RMSPROP_HYPER",
           "rmsprop_variant"]


# --------------------------------------------------------------------------- exercise 1
VALLEY_CURVATURES = (0.04, 4.0)  # (λ_min, λ_max) of the exercise's quadratic


def _number(value, name: str) -> float:
    if isinstance(value, torch.Tensor):
        require(value.numel() == 1, f"{name} must be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    require(isinstance(value, Real) and not isinstance(value, bool), f"{name} must be a number, got {type(value).__name__}")
    return float(value)


def check_valley_learning_rates(answer) -> bool:
    """``answer = (largest, best)``: GD's stability limit and its best constant learning rate on the quadratic."""
    lam_min, lam_max = VALLEY_CURVATURES
    largest_ok, best_ok = 2 / lam_max, 2 / (lam_min + lam_max)

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (tuple, list)) and len(answer) == 2,
                f"give a pair (largest, best) of two numbers, got {type(answer).__name__}"
                + (f" of length {len(answer)}" if isinstance(answer, (tuple, list)) else ""))
        largest, best = _number(answer[0], "largest"), _number(answer[1], "best")
        require(not (close(largest, best_ok, rtol=1e-3) and close(best, largest_ok, rtol=1e-3)),
                "the two numbers are in the wrong order: (largest, best)")
        require(not close(largest, 1 / lam_max, rtol=1e-3),
                f"largest = {largest:g} is 1/λ_max: that rate sends the steep direction to 0 in one step, but GD still "
                f"converges above it, while |1 − α λ_max| < 1")
        require(not close(largest, 2 / lam_min, rtol=1e-3) and not close(largest, 1 / lam_min, rtol=1e-3),
                f"largest = {largest:g} comes from the flat direction (λ_min); the direction that diverges first is the "
                f"steepest one")
        require(close(largest, largest_ok, rtol=1e-3),
                f"largest = {largest:g} is not the limit: per step GD multiplies a direction of curvature λ by "
                f"(1 − α λ); find the α where the first of them reaches |1 − α λ| = 1")
        require(not close(best, 1 / lam_max, rtol=1e-3),
                f"best = {best:g} = 1/λ_max makes the steep direction vanish in one step, but the flat one then shrinks "
                f"only by 1 − α λ_min = {1 - lam_min / lam_max:.2f} per step; a slightly larger α helps the flat one")
        require(not close(best, largest_ok, rtol=1e-3),
                f"best = {best:g} sits on the limit: the steep direction keeps |1 − α λ_max| = 1 and never shrinks")
        require(best < largest_ok, f"best = {best:g} is above the limit {largest:g}: GD diverges there")
        require(not close(best, 1 / (lam_min + lam_max), rtol=1e-3),
                f"best = {best:g}: almost, but check the factor; write the two worst factors |1 − α λ_min| and "
                f"|1 − α λ_max| and make them equal")
        require(close(best, best_ok, rtol=1e-3),
                f"best = {best:g} is not the best rate: the worst factor max(|1 − α λ_min|, |1 − α λ_max|) is "
                f"smallest where the two are equal")

    return run_check("Exercise 1 (learning rates of a valley)", check,
                     "α < 2/λ_max, best α = 2/(λ_min + λ_max) ≈ 0.495, with a contraction of only 99/101 per step")


# --------------------------------------------------------------------------- exercise 2
ADAM_HYPER = dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3)  # not torch's defaults, so that slips show
_STEPS = 6


def _inputs() -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A (2, 4) float64 parameter and a sequence of gradients of very different sizes and changing signs."""
    g = torch.Generator().manual_seed(10)
    theta0 = torch.randn(2, 4, generator=g, dtype=torch.float64)
    scale = 10 ** torch.linspace(-3.5, 1, 8, dtype=torch.float64).reshape(2, 4)  # from 3e-4 to 10
    grads = [scale * torch.randn(2, 4, generator=g, dtype=torch.float64) for _ in range(_STEPS)]
    return theta0, grads


def _torch_adam(theta0: torch.Tensor, grads: list[torch.Tensor], lr, betas, eps) -> list[torch.Tensor]:
    p = torch.nn.Parameter(theta0.clone())
    opt = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    out = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        out.append(p.detach().clone())
    return out


def adam_variant(theta0: torch.Tensor, grads: list[torch.Tensor], lr, betas, eps, *, correct_m=True, correct_v=True,
                 eps_inside=False, square="square", sqrt=True, t_offset=0, sign=-1.0, keep_state=True,
                 dampen_m=True, swap=False) -> list[torch.Tensor]:
    """Adam with one detail changed (the typical slips), to recognise an answer by its iterates."""
    beta1, beta2 = (betas[1], betas[0]) if swap else betas
    theta = theta0.clone()
    m = v = torch.zeros_like(theta)
    t, out = 0, []
    for g in grads:
        if not keep_state:
            m = v = torch.zeros_like(theta)
            t = 0
        t += 1
        te = t + t_offset
        m = beta1 * m + ((1 - beta1) if dampen_m else 1.0) * g
        g2 = {"square": g * g, "none": g, "abs": g.abs()}[square]
        v = beta2 * v + (1 - beta2) * g2
        m_hat = m / (1 - beta1**te) if correct_m else m
        v_hat = v / (1 - beta2**te) if correct_v else v
        if eps_inside:
            denom = (v_hat + eps).sqrt()
        else:
            denom = (v_hat.sqrt() if sqrt else v_hat) + eps
        theta = theta + sign * lr * m_hat / denom
        out.append(theta.clone())
    return out


# (flags, hint): each typical slip, and what to say when an answer follows it
_SLIPS = [
    (dict(correct_m=False, correct_v=False),
     "your steps match Adam WITHOUT bias correction: divide m by (1 − beta1^t) and v by (1 − beta2^t)"),
    (dict(correct_m=False), "your m is not bias-corrected (v is): divide m by (1 − beta1^t) too"),
    (dict(correct_v=False), "your v is not bias-corrected (m is): divide v by (1 − beta2^t) too"),
    (dict(eps_inside=True), "eps is inside the square root, sqrt(v_hat + eps); torch.optim.Adam adds it outside: "
                            "sqrt(v_hat) + eps"),
    (dict(swap=True), "beta1 and beta2 are swapped: beta1 (the first of betas) averages the gradients, beta2 their squares"),
    (dict(square="none"), "v averages the gradient itself instead of its square (its square root is then NaN where "
                          "the average is negative): v ← beta2·v + (1 − beta2)·g²"),
    (dict(square="abs"), "v averages |g| instead of g²: square the gradient"),
    (dict(sqrt=False), "you divide by v_hat, not by its square root: the step is m_hat / (sqrt(v_hat) + eps)"),
    (dict(t_offset=1), "the step counter is one ahead: the first step must use t = 1 in 1 − beta^t"),
    (dict(t_offset=-1), "the step counter is one behind: on the first step 1 − beta^0 = 0, a division by zero; "
                        "increase t before you use it"),
    (dict(sign=1.0), "your steps go uphill: subtract lr · m_hat / (sqrt(v_hat) + eps)"),
    (dict(keep_state=False), "each of your steps is a first step: keep m, v and t in `state` between calls "
                             "(update the dict the caller gives you, do not replace it with a new one)"),
    (dict(dampen_m=False), "m is updated as beta1·m + g: the new gradient needs the factor (1 − beta1)"),
]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.allclose(x, y, rtol=1e-6, atol=1e-9, equal_nan=True) for x, y in zip(a, b))


def _step_through(fn, hyper: dict, grad_hint: str = "") -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """Call the answer ``fn(theta, grad, state, *hyper.values())`` over the checker's gradients, keeping one
    ``state`` dict; return ``theta0``, the gradients and the thetas it returned (float64 copies)."""
    theta0, grads = _inputs()
    state: dict = {}
    theta, got = theta0.clone(), []
    for k, g in enumerate(grads):
        g_in, theta_in = g.clone(), theta.clone()  # the answer may update them in place
        new = fn(theta_in, g_in, state, *hyper.values())
        if new is None:
            raise NotAttempted if k == 0 and not state and torch.equal(theta_in, theta0) else AssertionError(
                "your function returned None: return the new theta (a new tensor, or theta updated in place)")
        require(isinstance(new, torch.Tensor), f"return a tensor (the new theta), got {type(new).__name__}")
        require(new.shape == theta0.shape, f"the new theta has shape {tuple(new.shape)}, expected "
                                           f"{tuple(theta0.shape)} (the shape of theta)")
        require(torch.equal(g_in, g), "your function changed grad in place: leave the gradient as it is" + grad_hint)
        theta = new.detach().to(torch.float64).clone()
        got.append(theta)
    return theta0, grads, got


def _diagnose(got: list[torch.Tensor], expected: list[torch.Tensor], slips, variant, theta0, grads, hyper: dict,
              torch_name: str, rule: str) -> None:
    """Pass if ``got`` follows ``expected``; else raise the hint of the first slip that ``variant`` reproduces,
    or name the first step that differs and the rule to follow."""
    if _same(got, expected):
        return
    for flags, hint in slips:
        if _same(got, variant(theta0, grads, **hyper, **flags)):
            raise AssertionError(hint)
    first_wrong = next(k for k, (a, b) in enumerate(zip(got, expected))
                       if not torch.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
    diff = (got[first_wrong] - expected[first_wrong]).abs().max().item()
    args = ", ".join(f"{k}={v}" for k, v in hyper.items())
    raise AssertionError(
        f"step {first_wrong + 1} differs from {torch_name} (largest difference {diff:.2e}) with {args}: {rule}"
        + (" (your first step is right: check what you keep in `state`)" if first_wrong > 0 else ""))


def check_adam_step(fn) -> bool:
    """``fn(theta, grad, state, lr, betas, eps) -> new theta``: Adam's step, checked against ``torch.optim.Adam``."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function adam_step(theta, grad, state, lr, betas, eps), got {type(fn).__name__}")
        hyper = ADAM_HYPER
        theta0, grads, got = _step_through(fn, hyper)
        _diagnose(got, _torch_adam(theta0, grads, **hyper), _SLIPS, adam_variant, theta0, grads, hyper,
                  "torch.optim.Adam", "use the arguments you are given, update m and v, bias-correct both with the "
                  "step t (1 on the first step), then theta − lr · m_hat / (sqrt(v_hat) + eps)")

    return run_check("Exercise 2 (Adam's update)", check,
                     f"{_STEPS} steps equal torch.optim.Adam's, bias correction included")


# --------------------------------------------------------------------------- exercise 3
MOMENTUM_HYPER = dict(lr=0.1, momentum=0.8, dampening=0.3)  # dampening > 0, so that the slips show


def _torch_sgd(theta0: torch.Tensor, grads: list[torch.Tensor], lr, momentum, dampening) -> list[torch.Tensor]:
    p = torch.nn.Parameter(theta0.clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, dampening=dampening)
    out = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        out.append(p.detach().clone())
    return out


def momentum_variant(theta0: torch.Tensor, grads: list[torch.Tensor], lr, momentum, dampening, *, sign=-1.0,
                     step_first=False, dampen_first=False, factor="dampening", keep_state=True) -> list[torch.Tensor]:
    """SGD with momentum and dampening (PyTorch's form) with one detail changed (the typical slips).

    ``factor``: what multiplies the new gradient in v ← ρ v + factor · g: ``"dampening"`` (right: 1 − τ),
    ``"none"`` (1), ``"momentum"`` (1 − ρ, the average's weight), ``"tau"`` (τ itself)."""
    theta, v, out = theta0.clone(), None, []
    weight = {"dampening": 1 - dampening, "none": 1.0, "momentum": 1 - momentum, "tau": dampening}[factor]
    for g in grads:
        if not keep_state:
            v = None
        old = torch.zeros_like(theta) if v is None else v
        if v is None:
            v = weight * g if dampen_first else g.clone()
        else:
            v = momentum * v + weight * g
        theta = theta + sign * lr * (old if step_first else v)
        out.append(theta.clone())
    return out


_MOMENTUM_SLIPS = [
    (dict(sign=1.0), "your steps go uphill: subtract lr · v"),
    (dict(step_first=True), "you step with the velocity from before this step: update v with the new gradient first, "
                            "then theta ← theta − lr · v"),
    (dict(factor="none"), "dampening is missing: the new gradient enters v with the factor (1 − dampening)"),
    (dict(factor="momentum"), "the new gradient enters v with (1 − momentum), the weight of an average; PyTorch's "
                              "factor is (1 − dampening)"),
    (dict(factor="tau"), "the new gradient enters v with dampening itself; its factor is (1 − dampening)"),
    (dict(dampen_first=True), "your first step is (1 − dampening) · lr · g: on the first step torch.optim.SGD sets "
                              "v = g (no dampening), as if v were not there yet, not 0"),
    (dict(keep_state=False), "each of your steps is a first step (plain SGD): keep v in `state` between calls "
                             "(update the dict the caller gives you, do not replace it with a new one)"),
]


def check_momentum_step(fn) -> bool:
    """``fn(theta, grad, state, lr, momentum, dampening) -> new theta``: one step of SGD with momentum in PyTorch's
    form, checked over several steps against ``torch.optim.SGD``."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), "give a function momentum_step(theta, grad, state, lr, momentum, dampening), "
                              f"got {type(fn).__name__}")
        hyper = MOMENTUM_HYPER
        theta0, grads, got = _step_through(fn, hyper, " (v = g on the first step must be a copy, g.clone())")
        _diagnose(got, _torch_sgd(theta0, grads, **hyper), _MOMENTUM_SLIPS, momentum_variant, theta0, grads, hyper,
                  "torch.optim.SGD", "on the first step v = g, then v ← momentum · v + (1 − dampening) · g, and "
                  "theta ← theta − lr · v")

    return run_check("Exercise 3 (momentum's update)", check,
                     f"{_STEPS} steps equal torch.optim.SGD's with momentum and dampening")


# --------------------------------------------------------------------------- exercise 4
RMSPROP_HYPER = dict(lr=0.01, alpha=0.9, eps=1e-3)  # not torch's defaults, so that slips show


def _torch_rmsprop(theta0: torch.Tensor, grads: list[torch.Tensor], lr, alpha, eps) -> list[torch.Tensor]:
    p = torch.nn.Parameter(theta0.clone())
    opt = torch.optim.RMSprop([p], lr=lr, alpha=alpha, eps=eps)
    out = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        out.append(p.detach().clone())
    return out


def rmsprop_variant(theta0: torch.Tensor, grads: list[torch.Tensor], lr, alpha, eps, *, sign=-1.0, eps_inside=False,
                    sqrt=True, eps_on_step=False, swap=False, accumulate=False, dampen=True, square="square",
                    step_first=False, keep_state=True) -> list[torch.Tensor]:
    """RMSprop (torch's form, no momentum, not centered) with one detail changed (the typical slips)."""
    theta, s, out = theta0.clone(), torch.zeros_like(theta0), []
    for g in grads:
        if not keep_state:
            s = torch.zeros_like(theta)
        g2 = {"square": g * g, "abs": g.abs()}[square]
        old = s
        if accumulate:
            s = s + g2
        else:
            keep, new = (1 - alpha, alpha) if swap else (alpha, (1 - alpha) if dampen else 1.0)
            s = keep * s + new * g2
        use = old if step_first else s
        if eps_inside:
            theta = theta + sign * lr * g / (use + eps).sqrt()
        elif eps_on_step:
            theta = theta + sign * (lr * g / use.sqrt() + eps)
        else:
            theta = theta + sign * lr * g / ((use.sqrt() if sqrt else use) + eps)
        out.append(theta.clone())
    return out


_RMSPROP_SLIPS = [
    (dict(sign=1.0), "your steps go uphill: subtract lr · g / (sqrt(s) + eps)"),
    (dict(eps_inside=True), "eps is inside the square root, sqrt(s + eps); torch.optim.RMSprop adds it outside: "
                            "sqrt(s) + eps"),
    (dict(sqrt=False), "you divide by s, not by its square root: the step is g / (sqrt(s) + eps)"),
    (dict(eps_on_step=True), "eps is added to the step, not to the denominator: check the brackets, "
                             "lr · g / (sqrt(s) + eps)"),
    (dict(swap=True), "alpha and 1 − alpha are swapped: alpha is the weight of the old average, "
                      "s ← alpha · s + (1 − alpha) · g²"),
    (dict(accumulate=True), "s only grows (s ← s + g²): that is AdaGrad; RMSprop forgets, "
                            "s ← alpha · s + (1 − alpha) · g²"),
    (dict(dampen=False), "s is updated as alpha · s + g²: the new square needs the factor (1 − alpha)"),
    (dict(square="abs"), "s averages |g| instead of g²: square the gradient"),
    (dict(step_first=True), "you divide by s from before this step: update s with the new gradient first, then step"),
    (dict(keep_state=False), "each of your steps is a first step: keep s in `state` between calls (update the dict the "
                             "caller gives you, do not replace it with a new one)"),
]


def check_rmsprop_step(fn) -> bool:
    """``fn(theta, grad, state, lr, alpha, eps) -> new theta``: one step of RMSprop, checked over several steps
    against ``torch.optim.RMSprop``."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function rmsprop_step(theta, grad, state, lr, alpha, eps), got "
                              f"{type(fn).__name__}")
        hyper = RMSPROP_HYPER
        theta0, grads, got = _step_through(fn, hyper)
        _diagnose(got, _torch_rmsprop(theta0, grads, **hyper), _RMSPROP_SLIPS, rmsprop_variant, theta0, grads,
                  hyper, "torch.optim.RMSprop", "s starts at 0, s ← alpha · s + (1 − alpha) · g², then "
                  "theta ← theta − lr · g / (sqrt(s) + eps)")

    return run_check("Exercise 4 (RMSprop's update)", check, f"{_STEPS} steps equal torch.optim.RMSprop's")
