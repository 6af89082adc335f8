"""Checkers for the exercises of notebook 09 (batch normalization)."""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from . import NotAttempted, require, run_check

__all__ = ["check_bn_forward", "check_bn_backward", "check_norm_axes", "NORM_AXES", "check_running_averages",
           "check_fold_bn"]

_EPS = 1e-5


def _inputs() -> tuple[Tensor, Tensor, Tensor]:
    """16 examples, 5 features on very different scales; feature 4 has a variance (1e-6) below eps."""
    g = torch.Generator().manual_seed(9)
    scale = torch.tensor([1.0, 3.0, 0.5, 10.0, 1e-3], dtype=torch.float64)
    shift = torch.tensor([0.0, 2.0, -1.0, 5.0, 0.3], dtype=torch.float64)
    x = torch.randn(16, 5, generator=g, dtype=torch.float64) * scale + shift
    gamma = torch.rand(5, generator=g, dtype=torch.float64) + 0.5
    beta = torch.randn(5, generator=g, dtype=torch.float64)
    return x, gamma, beta


def _reference(x: Tensor, gamma: Tensor, beta: Tensor) -> Tensor:
    return torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=_EPS)


def _close(a, b, tol: float = 1e-6) -> bool:
    return isinstance(a, Tensor) and a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=tol, atol=tol)


def _forward_slips(x: Tensor, gamma: Tensor, beta: Tensor) -> dict[str, Tensor]:
    """What the typical slips compute, to recognise them by their output."""
    mu, var = x.mean(0), x.var(0, correction=0)
    mu1, var1 = x.mean(1, keepdim=True), x.var(1, correction=0, keepdim=True)
    return {
        "the variance divides by m − 1 (unbiased, torch.var's default): batch norm normalizes with the biased "
        "variance, the mean of the squared deviations (divide by m; correction=0 or unbiased=False)":
            gamma * (x - mu) / torch.sqrt(x.var(0) + _EPS) + beta,
        "eps is added outside the square root: the lecture's x̂ = (x − μ)/√(σ² + ε) adds it to the variance "
        "(look at feature 4, whose variance is below eps)":
            gamma * (x - mu) / (torch.sqrt(var) + _EPS) + beta,
        "the mean and variance are taken over the wrong axis (per example, across features: that is layer "
        "norm). Batch norm averages each feature over the mini-batch, axis 0":
            gamma * (x - mu1) / torch.sqrt(var1 + _EPS) + beta,
        "the output is x̂ itself: scale and shift with the learned gamma and beta (out = gamma * x̂ + beta)":
            (x - mu) / torch.sqrt(var + _EPS),
        "gamma and beta are swapped (out = gamma * x̂ + beta)":
            beta * (x - mu) / torch.sqrt(var + _EPS) + gamma,
    }


def _run_forward(fn, x, gamma, beta):
    result = fn(x.clone(), gamma.clone(), beta.clone(), _EPS)
    if result is None:
        raise NotAttempted
    require(isinstance(result, tuple) and len(result) == 2,
            f"return a pair (out, cache), got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    out, cache = result
    require(isinstance(out, Tensor), f"out must be a tensor, got {type(out).__name__}")
    require(out.shape == x.shape, f"out must have the shape of x, {tuple(x.shape)}, got {tuple(out.shape)}")
    return out, cache


def check_bn_forward(fn) -> bool:
    """``fn(x, gamma, beta, eps)`` → ``(out, cache)``: batch norm's training-time forward pass for x of shape (N, D).

    Compared with ``torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True)``.
    """

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(x, gamma, beta, eps), got {type(fn).__name__}")
        x, gamma, beta = _inputs()
        out, _ = _run_forward(fn, x, gamma, beta)
        expected = _reference(x, gamma, beta)
        if not _close(out, expected):
            for message, slip in _forward_slips(x, gamma, beta).items():
                require(not _close(out, slip), message)
            worst = int((out.double() - expected).abs().max(0).values.argmax())
            require(False, f"out differs from torch's batch norm, most in feature {worst}: check μ = mean over the "
                           f"batch (axis 0), σ² = mean of (x − μ)², x̂ = (x − μ)/√(σ² + eps), out = gamma x̂ + beta")
        x2, gamma2, beta2 = (t.float() for t in _inputs())
        out2, _ = _run_forward(fn, x2, gamma2, beta2)
        require(_close(out2, _reference(x2, gamma2, beta2), 1e-4), "the function works in float64 but not in float32: "
                                                                   "do not convert the dtype")

    return run_check("Exercise 1 (batch norm forward)", check,
                     "each feature has mean beta and standard deviation about gamma over the batch")


def _backward_slips(x, gamma, dout) -> dict[str, dict[str, Tensor]]:
    m = x.shape[0]
    mu, var = x.mean(0), x.var(0, correction=0)
    inv = 1 / torch.sqrt(var + _EPS)
    xh = (x - mu) * inv
    dxh = dout * gamma
    return {
        "dx": {
            "dx treats μ and σ² as constants (dx = dout·gamma/√(σ² + ε)): both are computed from x, so every x_i "
            "also moves the output through them":
                dxh * inv,
            "dx is missing the path through the mean μ: each x_i shifts μ by 1/m, which shifts every x̂ of its "
            "feature. A check: the entries of dx for one feature must sum to zero":
                inv * (dxh - xh * (dxh * xh).mean(0)),
            "dx is missing the path through the variance σ²: each x_i also changes σ², which rescales every x̂ "
            "of its feature":
                inv * (dxh - dxh.mean(0)),
            "dx uses the unbiased variance (divide by m − 1) for the σ² path; the forward pass divided by m":
                inv * (dxh - dxh.mean(0) - xh * (dxh * xh).sum(0) / (m - 1)),
        },
        "dgamma": {
            "dgamma is the sum of dout: out = gamma·x̂ + beta, so ∂out/∂gamma is x̂, not 1 (dgamma = Σ dout·x̂)":
                dout.sum(0),
            "dgamma is a mean over the batch: gamma is used by every example, so the gradients add up (sum)":
                (dout * xh).mean(0),
        },
        "dbeta": {
            "dbeta is a mean over the batch: beta is added to every example, so the gradients add up (sum)":
                dout.mean(0),
            "dbeta is Σ dout·x̂, which is dgamma: ∂out/∂beta is 1":
                (dout * xh).sum(0),
        },
    }


def check_bn_backward(forward, backward) -> bool:
    """``backward(dout, cache)`` → ``(dx, dgamma, dbeta)`` with ``cache`` from ``forward`` (exercise 1).

    Compared with autograd's gradients through ``torch.nn.functional.batch_norm`` for the same ``dout``.
    """

    def check() -> None:
        if forward is None or backward is None:
            raise NotAttempted
        require(callable(forward) and callable(backward), "give your two functions: check_bn_backward(bn_forward, "
                                                         "bn_backward)")
        x, gamma, beta = _inputs()
        out, cache = _run_forward(forward, x, gamma, beta)
        require(_close(out, _reference(x, gamma, beta)), "your forward pass is not right yet: make exercise 1 pass first")
        dout = torch.randn(x.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
        result = backward(dout.clone(), cache)
        if result is None:
            raise NotAttempted
        require(isinstance(result, tuple) and len(result) == 3,
                f"return a triple (dx, dgamma, dbeta), got {type(result).__name__}"
                + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
        xr, gr, br = (t.clone().requires_grad_() for t in (x, gamma, beta))
        expected = torch.autograd.grad(_reference(xr, gr, br), (xr, gr, br), dout)
        slips = _backward_slips(x, gamma, dout)
        for name, got, want in zip(("dx", "dgamma", "dbeta"), result, expected):
            require(isinstance(got, Tensor), f"{name} must be a tensor, got {type(got).__name__}")
            if got.shape != want.shape:
                hint = (" (summed over the wrong axis: the parameters have one entry per feature, so sum over the "
                        "batch, axis 0)" if name != "dx" and got.shape == (x.shape[0],) else "")
                require(False, f"{name} must have shape {tuple(want.shape)}, got {tuple(got.shape)}{hint}")
            if not _close(got, want):
                for message, slip in slips[name].items():
                    require(not _close(got, slip), message)
                require(False, f"{name} differs from autograd's gradient (largest difference "
                               f"{float((got.double() - want).abs().max()):.3g}); derive it step by step through "
                               f"x̂, σ² and μ")

    return run_check("Exercise 2 (batch norm backward)", check,
                     "dx, dgamma and dbeta equal autograd's; note that dx sums to zero over each feature")


NORM_AXES = {"BatchNorm2d": (0, 2, 3), "LayerNorm": (1, 2, 3), "InstanceNorm2d": (2, 3)}
_AXIS_HINT = {
    "BatchNorm2d": "batch norm keeps one mean per channel, computed over the whole mini-batch and every position",
    "LayerNorm": "LayerNorm([C, H, W]) computes one mean per example, over everything that example holds",
    "InstanceNorm2d": "instance norm computes one mean per example and per channel: over the positions of one map",
}


def check_norm_axes(answer) -> bool:
    """``answer``: for an input of shape (N, C, H, W), the dims each layer averages over, e.g. ``{"BatchNorm2d": (...)}``."""

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, dict), f"give a dict like {{'BatchNorm2d': (...), ...}}, got {type(answer).__name__}")
        missing = sorted(set(NORM_AXES) - set(answer))
        require(not missing, f"give the axes of every layer: missing {missing}")
        if all(answer[k] in (None, (), ...) for k in NORM_AXES):
            raise NotAttempted
        for name, right in NORM_AXES.items():
            dims = answer[name]
            require(isinstance(dims, (tuple, list, set)) and all(isinstance(d, int) and not isinstance(d, bool)
                                                                 and -4 <= d < 4 for d in dims),
                    f"{name}: give the axes as a tuple of ints between 0 and 3, got {dims!r}")
            dims = {d % 4 for d in dims}
            if dims != set(right):
                extra = sorted(dims - set(right))
                lacking = sorted(set(right) - dims)
                detail = (f"it does not average over axis {extra[0]}" if extra else
                          f"it also averages over axis {lacking[0]}")
                require(False, f"{name}: {detail}. Hint: {_AXIS_HINT[name]}")

    return run_check("Exercise 3 (which axes)", check,
                     "batch norm is the only one that mixes the examples of a mini-batch")


# ----------------------------------------------------------------- exercise 4: running averages and eval mode
_STEPS = 6
_MOMENTUM = 0.2


def _stat_batches() -> list[Tensor]:
    """_STEPS batches of 8 examples, 4 features on different scales and offsets (float64)."""
    g = torch.Generator().manual_seed(19)
    scale = torch.tensor([1.0, 4.0, 0.3, 2.0], dtype=torch.float64)
    shift = torch.tensor([0.0, 3.0, -1.0, 8.0], dtype=torch.float64)
    return [torch.randn(8, 4, generator=g, dtype=torch.float64) * scale + shift for _ in range(_STEPS)]


def _torch_running(batches, momentum=_MOMENTUM):
    """nn.BatchNorm1d after len(batches) training steps: (running_mean, running_var, layer in eval mode)."""
    layer = torch.nn.BatchNorm1d(batches[0].shape[1], momentum=momentum, eps=_EPS).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.5, 1.5, 2.0, 1.0], dtype=torch.float64))
        layer.bias.copy_(torch.tensor([0.1, -0.2, 0.3, 1.0], dtype=torch.float64))
        for x in batches:
            layer(x)
    return layer.running_mean.clone(), layer.running_var.clone(), layer.eval()


def _running_slips(batches, momentum=_MOMENTUM) -> dict[str, tuple[Tensor, Tensor]]:
    def run(weight_new, correction):
        mean, var = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
        for x in batches:
            mean = (1 - weight_new) * mean + weight_new * x.mean(0)
            var = (1 - weight_new) * var + weight_new * x.var(0, correction=correction)
        return mean, var

    return {
        "the momentum convention is reversed: in PyTorch momentum is the weight of the NEW batch, running ← "
        "(1 − momentum)·running + momentum·new (Keras and optimizer momentum weight the old value instead)":
            run(1 - momentum, 1),
        "running_var uses the biased batch variance (divide by m): PyTorch stores the unbiased one, "
        "m/(m − 1)·σ²_B (correction=1), even though the batch is normalized with the biased one":
            run(momentum, 0),
    }


def check_running_averages(update, eval_forward) -> bool:
    """``update(x, running_mean, running_var, momentum)`` → the new ``(running_mean, running_var)`` after one
    training step on the batch ``x`` (N, D); ``eval_forward(x, running_mean, running_var, gamma, beta, eps)``
    → eval mode's output. Compared with ``nn.BatchNorm1d`` after several training steps."""

    def check() -> None:
        if update is None or eval_forward is None:
            raise NotAttempted
        require(callable(update) and callable(eval_forward),
                "give your two functions: check_running_averages(bn_update, bn_eval)")
        batches = _stat_batches()
        mean, var = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
        for x in batches:
            result = update(x.clone(), mean.clone(), var.clone(), _MOMENTUM)
            if result is None:
                raise NotAttempted
            require(isinstance(result, tuple) and len(result) == 2,
                    f"update must return the pair (running_mean, running_var), got {type(result).__name__}")
            mean, var = result
            require(isinstance(mean, Tensor) and isinstance(var, Tensor) and mean.shape == var.shape == (4,),
                    "running_mean and running_var must be tensors of shape (D,), one entry per feature")
        want_mean, want_var, layer = _torch_running(batches)
        if not (_close(mean, want_mean) and _close(var, want_var)):
            for message, (slip_mean, slip_var) in _running_slips(batches).items():
                require(not (_close(mean, slip_mean) and _close(var, slip_var)), message)
            require(_close(mean, want_mean), f"running_mean differs from nn.BatchNorm1d's after {_STEPS} steps "
                                             f"(momentum {_MOMENTUM}, starting from 0): check the update rule")
            require(False, f"running_var differs from nn.BatchNorm1d's after {_STEPS} steps (it starts at 1): "
                           f"check the update rule and which variance it averages")
        x = torch.randn(5, 4, generator=torch.Generator().manual_seed(23), dtype=torch.float64) * 3 + 2
        out = eval_forward(x.clone(), want_mean.clone(), want_var.clone(), layer.weight.detach().clone(),
                           layer.bias.detach().clone(), _EPS)
        if out is None:
            raise NotAttempted
        require(isinstance(out, Tensor) and out.shape == x.shape,
                f"eval_forward must return a tensor shaped like x, {tuple(x.shape)}")
        with torch.no_grad():
            expected = layer(x)
            batch_stats = torch.nn.functional.batch_norm(x, None, None, layer.weight, layer.bias, training=True,
                                                         eps=_EPS)
        if not _close(out, expected):
            require(not _close(out, batch_stats), "eval_forward normalizes with the statistics of the batch it is "
                                                  "given: in eval mode batch norm uses the running averages, so a "
                                                  "prediction does not depend on the other examples")
            no_eps = (x - want_mean) / want_var.sqrt() * layer.weight.detach() + layer.bias.detach()
            require(not _close(out, no_eps, 1e-9),
                    "eps is missing: x̂ = (x − running_mean)/√(running_var + eps)")
            require(False, "eval_forward differs from nn.BatchNorm1d in eval mode: x̂ = (x − running_mean)/"
                           "√(running_var + eps), then gamma·x̂ + beta")

    return run_check("Exercise 4 (running averages and eval mode)", check,
                     "the running averages and the eval-mode output equal nn.BatchNorm1d's")


# ----------------------------------------------------------------- exercise 5: folding batch norm into a Linear
def _fold_pair() -> tuple[torch.nn.Linear, torch.nn.BatchNorm1d]:
    """A Linear(6, 4) and a BatchNorm1d(4) in eval mode with trained-looking statistics and parameters.

    Feature 3 has a running variance (2e-5) of the order of eps, so forgetting eps shows."""
    g = torch.Generator().manual_seed(29)
    linear = torch.nn.Linear(6, 4).double()
    bn = torch.nn.BatchNorm1d(4, eps=_EPS).double()
    with torch.no_grad():
        linear.weight.copy_(torch.randn(4, 6, generator=g, dtype=torch.float64))
        linear.bias.copy_(torch.randn(4, generator=g, dtype=torch.float64) * 2)
        bn.weight.copy_(torch.rand(4, generator=g, dtype=torch.float64) + 0.5)
        bn.bias.copy_(torch.randn(4, generator=g, dtype=torch.float64))
        bn.running_mean.copy_(torch.randn(4, generator=g, dtype=torch.float64) * 3)
        bn.running_var.copy_(torch.tensor([4.0, 0.25, 9.0, 2e-5], dtype=torch.float64))
        bn.num_batches_tracked.fill_(100)
    return linear, bn.eval()


def _fold_slips(linear, bn) -> dict[str, tuple[Tensor, Tensor]]:
    w, b = linear.weight.detach(), linear.bias.detach()
    gamma, beta, mu, var = bn.weight.detach(), bn.bias.detach(), bn.running_mean, bn.running_var
    s = gamma / torch.sqrt(var + bn.eps)
    s0 = gamma / torch.sqrt(var)
    return {
        "eps is missing: the eval-mode layer divides by √(running_var + eps), so the scale is "
        "gamma/√(running_var + eps) (look at feature 3, whose running variance is of the order of eps)":
            (s0[:, None] * w, s0 * (b - mu) + beta),
        "the Linear layer's bias is lost: BN(Wx + b) = s·(Wx + b − μ) + β, so the new bias is s·(b − μ) + β":
            (s[:, None] * w, beta - s * mu),
        "the Linear layer's bias is added unscaled: it passes through the normalization too, new bias "
        "s·(b − μ) + β, not b − s·μ + β":
            (s[:, None] * w, b - s * mu + beta),
        "beta is missing from the new bias (it is the shift added after the scale)":
            (s[:, None] * w, s * (b - mu)),
        "the scale divides by the variance: divide by the standard deviation, √(running_var + eps)":
            ((gamma / (var + bn.eps))[:, None] * w, gamma / (var + bn.eps) * (b - mu) + beta),
    }


def check_fold_bn(fold) -> bool:
    """``fold(linear, bn)`` → an ``nn.Linear`` (or a pair ``(weight, bias)``) computing ``bn(linear(x))`` with ``bn``
    in eval mode: batch norm folded into the preceding layer, as done for inference."""

    def check() -> None:
        if fold is None:
            raise NotAttempted
        require(callable(fold), f"give a function fold(linear, bn), got {type(fold).__name__}")
        linear, bn = _fold_pair()
        reference = copy.deepcopy(linear), copy.deepcopy(bn)
        result = fold(linear, bn)
        if result is None:
            raise NotAttempted
        if isinstance(result, torch.nn.Linear):
            weight, bias = result.weight, result.bias
            require(bias is not None, "the folded Linear needs a bias (bias=True): batch norm's shift goes there")
        else:
            require(isinstance(result, tuple) and len(result) == 2,
                    f"return an nn.Linear or a pair (weight, bias), got {type(result).__name__}")
            weight, bias = result
        require(isinstance(weight, Tensor) and isinstance(bias, Tensor), "weight and bias must be tensors")
        weight, bias = weight.detach(), bias.detach()
        require(weight.shape == linear.weight.shape, f"the folded weight must have the Linear's shape "
                f"{tuple(linear.weight.shape)} (out_features, in_features), got {tuple(weight.shape)}: the scale "
                f"is per output feature, one row of the weight each")
        require(bias.shape == (linear.out_features,), f"the folded bias must have shape ({linear.out_features},), "
                                                      f"got {tuple(bias.shape)}")
        for (name, a), b in zip(linear.state_dict().items(), reference[0].state_dict().values()):
            require(torch.equal(a, b), f"fold changed the given Linear layer's {name}: build new tensors instead")
        for (name, a), b in zip(bn.state_dict().items(), reference[1].state_dict().values()):
            require(torch.equal(a, b), f"fold changed the given batch norm layer's {name}")
        x = torch.randn(7, 6, generator=torch.Generator().manual_seed(31), dtype=torch.float64)
        with torch.no_grad():
            expected = bn(linear(x))
            got = x @ weight.double().T + bias.double()
        if not _close(got, expected):
            for message, (w_slip, b_slip) in _fold_slips(linear, bn).items():
                require(not (_close(weight.double(), w_slip) and _close(bias.double(), b_slip)), message)
            require(False, "the folded layer differs from bn(linear(x)) in eval mode: scale each output row of the "
                           "weight by s = gamma/√(running_var + eps), and make the bias s·(b − running_mean) + beta")

    return run_check("Exercise 5 (folding batch norm into the Linear)", check,
                     "one Linear layer now computes Linear → BatchNorm in eval mode: no normalization at inference")
