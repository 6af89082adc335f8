"""Checkers for the exercises of notebook 06 (activation functions).

1. ``check_elu``: the student's ELU and its derivative, against ``course_lib.activations.elu`` and
   autograd's gradient through it;
2. ``check_dead_fraction``: the fraction of ReLU units that are never active on a data set;
3. ``check_prelu_slope_grad``: the gradient of the loss with respect to PReLU's learned slope, against autograd.
"""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F

from . import NotAttempted, require, run_check
from ..activations import elu

__all__ = ["check_elu", "check_dead_fraction", "check_prelu_slope_grad"]

_ALPHAS = (1.0, 0.5, 2.0)


def _grid() -> torch.Tensor:
    """-5 .. 5 in steps of 0.05, float64: both branches, the kink 0 and points close to it."""
    return torch.arange(-100, 101, dtype=torch.float64) * 0.05


def _as_tensor(value, what: str, shape) -> torch.Tensor:
    if value is None:
        raise NotAttempted
    require(isinstance(value, torch.Tensor), f"{what} must return a tensor, got {type(value).__name__}")
    require(tuple(value.shape) == tuple(shape),
            f"{what} must return a tensor shaped like x {tuple(shape)}, got shape {tuple(value.shape)}")
    return value.detach().to(torch.float64)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, rtol=1e-6, atol=1e-8))


def _first_difference(got: torch.Tensor, expected: torch.Tensor, x: torch.Tensor) -> str:
    """Where ``got`` and ``expected`` differ: the region (x < 0, x = 0, x > 0) and one example."""
    bad = ~torch.isclose(got, expected, rtol=1e-6, atol=1e-8)
    for name, region in (("x < 0", x < 0), ("x = 0", x == 0), ("x > 0", x > 0)):
        idx = (bad & region).nonzero()
        if len(idx):
            i = int(idx[len(idx) // 2])
            return f"for {name} (e.g. x = {x[i].item():g}: got {got[i].item():.5g}, expected {expected[i].item():.5g})"
    return "somewhere"


def _elu_derivative_reference(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """autograd's dELU/dx: 1 for x > 0, alpha * e^x for x <= 0."""
    x = x.clone().requires_grad_()
    elu(x, alpha).sum().backward()
    return x.grad


def check_elu(forward, derivative) -> bool:
    """``forward(x, alpha)``: ELU element-wise; ``derivative(x, alpha)``: dELU/dx element-wise.

    Compared with ``course_lib.activations.elu`` and with autograd's gradient through it, for
    ``alpha`` in 1, 0.5 and 2, on x from −5 to 5 (float64). At the kink x = 0 either one-sided
    derivative (alpha or 1) is accepted.
    """

    def check() -> None:
        if forward is None or derivative is None:
            raise NotAttempted
        require(callable(forward) and callable(derivative),
                "give two functions, forward(x, alpha) and derivative(x, alpha)")
        x = _grid()
        # ---- the forward pass
        for alpha in _ALPHAS:
            x_in = x.clone()
            got = _as_tensor(forward(x_in, alpha), "forward(x, alpha)", x.shape)
            require(torch.equal(x_in, x), "forward changed its input x in place: compute a new tensor instead")
            expected = elu(x, alpha)
            if _same(got, expected):
                continue
            where = _first_difference(got, expected, x)
            neg = x < 0
            require(not (alpha != 1.0 and _same(got, elu(x, 1.0))),
                    f"with alpha = {alpha} your ELU equals the one with alpha = 1: alpha is ignored. It scales the "
                    f"negative branch, alpha * (e^x - 1), so the outputs saturate at -alpha")
            require(not _same(got[neg], alpha * torch.exp(x[neg])),
                    f"for x < 0 you return alpha * e^x: the '- 1' is missing. Then ELU jumps at 0 from alpha to 0 "
                    f"(discontinuous) and tends to 0 instead of -alpha for very negative x")
            require(not _same(got[neg], torch.zeros_like(x[neg])),
                    "for x < 0 you return 0: that is ReLU. ELU's negative branch is alpha * (e^x - 1)")
            require(not _same(got[~neg], alpha * (torch.exp(x[~neg]) - 1)),
                    "for x > 0 you apply the exponential branch: the branches are swapped. ELU is the identity "
                    "for x > 0 and alpha * (e^x - 1) for x < 0")
            require(not _same(got[~neg], torch.zeros_like(x[~neg])),
                    "for x > 0 you return 0: ELU is the identity there (it is the negative side that saturates)")
            require(False, f"with alpha = {alpha} your ELU differs from course_lib's elu {where}")
        # ---- the derivative
        for alpha in _ALPHAS:
            x_in = x.clone()
            got = _as_tensor(derivative(x_in, alpha), "derivative(x, alpha)", x.shape)
            require(torch.equal(x_in, x), "derivative changed its input x in place: compute a new tensor instead")
            expected = _elu_derivative_reference(x, alpha)
            at_zero = x == 0
            # at the kink, accept either one-sided derivative (left: alpha, right: 1)
            kink_ok = bool(((got[at_zero] - alpha).abs() < 1e-8).all() or ((got[at_zero] - 1).abs() < 1e-8).all())
            got_cmp = torch.where(at_zero & torch.tensor(kink_ok), expected, got)
            if _same(got_cmp, expected):
                continue
            neg, pos = x < 0, x > 0
            where = _first_difference(got_cmp, expected, x)
            require(not (alpha != 1.0 and _same(got[neg], torch.exp(x[neg]))),
                    f"with alpha = {alpha}, for x < 0 your derivative is e^x: the factor alpha is missing "
                    f"(d/dx alpha (e^x - 1) = alpha e^x)")
            require(not _same(got[neg], elu(x, alpha)[neg]),
                    "for x < 0 your derivative is ELU(x) itself, alpha (e^x - 1); the derivative is alpha e^x = "
                    "ELU(x) + alpha")
            require(not _same(got[neg], torch.zeros_like(x[neg])),
                    "for x < 0 your derivative is 0 (ReLU's): ELU keeps a gradient alpha e^x there, which is its "
                    "point; it only vanishes for very negative x")
            require(not _same(got[pos], x[pos]),
                    "for x > 0 your derivative is x: the derivative of the identity branch is 1")
            require(not _same(got[pos], alpha * torch.exp(x[pos])),
                    "for x > 0 you use the exponential branch's derivative: the branches are swapped")
            off_kink = ~at_zero
            require(_same(got[off_kink], expected[off_kink]),
                    f"with alpha = {alpha} your derivative differs from autograd's {where}")
            require(kink_ok, f"at x = 0 your derivative is {got[at_zero][0].item():g}; the one-sided derivatives "
                             f"there are alpha = {alpha:g} (left) and 1 (right): use one of them")

    return run_check("Exercise 1 (ELU and its derivative)", check,
                     "ELU matches course_lib and its derivative matches autograd; note the jump of the derivative "
                     "at 0 (from alpha to 1) unless alpha = 1")


# --------------------------------------------------------------------------- exercise 2
def _hidden_outputs() -> tuple[torch.Tensor, float]:
    """ReLU outputs (300 examples, 50 units): 12 dead units, some alive on a single example, most entries 0."""
    g = torch.Generator().manual_seed(6)
    z = torch.randn(300, 50, generator=g, dtype=torch.float64) - 1.0  # mostly negative: many zeros
    z[:, :12] = -1.0 - torch.rand(300, 12, generator=g, dtype=torch.float64)  # 12 dead units
    z[:, 12:16] = -1.0                                                    # 4 units alive on one example only
    z[torch.randint(0, 300, (4,), generator=g), torch.arange(12, 16)] = 0.01
    h = F.relu(z)
    return h, 12 / 50


def _as_fraction(value) -> float:
    if value is None:
        raise NotAttempted
    if isinstance(value, torch.Tensor):
        require(value.numel() == 1, f"return one number, got a tensor of shape {tuple(value.shape)}: take the mean "
                                    f"over the units")
        value = value.item()
    require(isinstance(value, Real) and not isinstance(value, bool), f"return a number, got {type(value).__name__}")
    return float(value)


def check_dead_fraction(fn) -> bool:
    """``fn(h)``: ``h`` the ReLU outputs ``(N examples, units)``; the fraction of units that are 0 on every example."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function dead_fraction(h), got {type(fn).__name__}")
        h, expected = _hidden_outputs()
        h_in = h.clone()
        got = _as_fraction(fn(h_in))
        require(torch.equal(h_in, h), "your function changed h in place")
        zero = h == 0
        require(abs(got - 12) > 1e-6, "you returned the NUMBER of dead units; return their fraction (divide by the "
                                      "number of units)")
        require(abs(got - zero.double().mean().item()) > 1e-6,
                f"{got:.3f} is the fraction of ENTRIES of h that are 0 (a unit is 0 on many examples and that is "
                f"normal); a unit is dead when it is 0 on EVERY example")
        require(abs(got - zero.any(0).double().mean().item()) > 1e-6,
                f"{got:.3f} counts the units that are 0 on at least ONE example; a dead unit is 0 on ALL of them")
        require(abs(got - (1 - expected)) > 1e-6, f"{got:.3f} is the fraction of units that are active at least once: "
                                                  f"the dead ones are the others")
        require(abs(got - 16 / 50) > 1e-6, "you also counted 4 units that are active on one single example each: they "
                                           "still learn from it, so they are alive. Test for exactly zero, not for a "
                                           "small mean")
        require(abs(got - expected) < 1e-6, f"the fraction of dead units here is not {got:.3f}: count the columns "
                                            f"(units) of h that are 0 on every row (example) and divide by the number "
                                            f"of columns")
        require(abs(_as_fraction(fn(torch.ones(5, 7))) - 0.0) < 1e-6, "with every unit active, the fraction must be 0")
        require(abs(_as_fraction(fn(torch.zeros(5, 7))) - 1.0) < 1e-6, "with h all zero, every unit is dead: 1.0")

    return run_check("Exercise 2 (dead ReLUs)", check,
                     "a unit is dead when it is zero on every example: (h > 0).any(dim=0) is False for it")


# --------------------------------------------------------------------------- exercise 3
def _slope_case(seed: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(64, 20, generator=g, dtype=torch.float64) * 2
    grad_out = torch.randn(64, 20, generator=g, dtype=torch.float64)
    a = torch.full((1,), 0.25, dtype=torch.float64, requires_grad=True)
    (F.prelu(z, a) * grad_out).sum().backward()                 # dL/df = grad_out
    return z, grad_out, a.grad.item()


def check_prelu_slope_grad(fn) -> bool:
    """``fn(z, grad_out)``: dL/da for PReLU with one shared slope a, given z and grad_out = dL/df (same shape)."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function slope_grad(z, grad_out), got {type(fn).__name__}")
        for seed in (0, 1):
            z, grad_out, expected = _slope_case(seed)
            got_raw = fn(z.clone(), grad_out.clone())
            if got_raw is None:
                raise NotAttempted
            if isinstance(got_raw, torch.Tensor) and got_raw.numel() > 1:
                require(False, f"you returned a tensor of shape {tuple(got_raw.shape)}: the slope a is ONE number "
                               f"shared by all units, so its gradient sums the contributions of every unit and example")
            got = _as_fraction(got_raw)

            def near(value) -> bool:
                return abs(got - float(value)) <= 1e-6 * max(1.0, abs(float(value)))

            neg = torch.clamp(z, max=0)
            require(not near((grad_out * z).sum()), "you multiplied grad_out by z everywhere: for z > 0 PReLU is the "
                                                    "identity and does not depend on a (df/da = 0 there)")
            require(not near((grad_out * torch.clamp(z, min=0)).sum()),
                    "you used the positive side: a only acts where z < 0 (f = a z there)")
            require(not near(neg.sum()), "you forgot grad_out: by the chain rule dL/da = sum of dL/df * df/da")
            require(not near((grad_out * neg).mean()), "you took the mean: the gradient of a shared parameter is the "
                                                       "SUM of its contributions")
            require(not near((grad_out * 0.25 * neg).sum()), "df/da does not contain a: f = a z for z < 0, so df/da = z")
            require(near(expected), f"dL/da should be {expected:.4f}, got {got:.4f}: which units does a act on, and "
                                    f"what is df/da there?")

    return run_check("Exercise 3 (PReLU's slope gradient)", check,
                     "dL/da = sum over units with z < 0 of dL/df * z, autograd's answer")
