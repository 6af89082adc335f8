"""Checkers for the exercises of notebook 02 (norm penalties)."""

from __future__ import annotations

import math
from numbers import Real

import torch

from . import NotAttempted, close, require, run_check

__all__ = ["check_elastic_net_value", "check_soft_threshold", "check_max_norm_rows"]


# --------------------------------------------------------------------------- exercise 1
_W = (3.0, -4.0, 0.0, 1.0)
_R = 0.25
_SQ = sum(v * v for v in _W)        # ‖w‖₂² = 26
_ABS = sum(abs(v) for v in _W)      # ‖w‖₁ = 8


def check_elastic_net_value(answer) -> bool:
    """R(w) = r‖w‖₂² + (1 − r)/2 ‖w‖₁ for w = (3, −4, 0, 1), r = 0.25 (deck 002's convention): 9.5."""
    expected = _R * _SQ + (1 - _R) / 2 * _ABS
    wrong = [
        (_R * _ABS + (1 - _R) * _SQ, "that puts r on the L1 term and (1 - r) on the L2 term (deck 001's convention); "
                                     "here r multiplies the ridge term ‖w‖₂²"),
        (_R * _ABS + (1 - _R) / 2 * _SQ, "r and (1 - r)/2 are swapped: r multiplies the ridge term ‖w‖₂², "
                                         "(1 - r)/2 the LASSO term ‖w‖₁"),
        (_R * _SQ + (1 - _R) * _ABS, "the LASSO term carries (1 - r)/2, not (1 - r)"),
        (_R * math.sqrt(_SQ) + (1 - _R) / 2 * _ABS, "the ridge term is the SQUARED norm ‖w‖₂² = Σ w_i², not ‖w‖₂"),
        (_R * _SQ / 2 + (1 - _R) / 2 * _ABS, "the lecture's ridge term is ‖w‖₂² without a ½"),
        (_R * _SQ + (1 - _R) / 2 * 6.0, "‖w‖₁ sums the ABSOLUTE values: |−4| = 4"),
    ]

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, Real) and not isinstance(answer, bool),
                f"give one number, got {type(answer).__name__}")
        value = float(answer)
        for bad, hint in wrong:
            require(not close(value, bad, rtol=1e-3), hint)
        require(close(value, expected, rtol=1e-3),
                f"{value:g} is not it: compute R_ridge = Σ w_i² and R_LASSO = Σ |w_i|, then r·R_ridge + (1 - r)/2·R_LASSO")

    return run_check("Exercise 1 (elastic net)", check, f"R = 0.25·26 + 0.375·8 = {expected:g}")


# --------------------------------------------------------------------------- exercise 2
def check_soft_threshold(fn) -> bool:
    """``fn(w, t)``: sign(w)·max(|w| − t, 0), a new tensor."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(w, t), got {type(fn).__name__}")
        g = torch.Generator().manual_seed(0)
        w = torch.randn(6, 50, generator=g, dtype=torch.float64)
        w[0, :4] = torch.tensor([0.3, -0.3, 0.0, 0.29], dtype=torch.float64)  # on, at and inside the threshold
        t = 0.3
        w_copy = w.clone()
        out = fn(w, t)
        if out is None:
            raise NotAttempted
        require(isinstance(out, torch.Tensor), f"return a tensor, got {type(out).__name__}")
        require(out.shape == w.shape, f"the output must have the input's shape {tuple(w.shape)}, got {tuple(out.shape)}")
        require(torch.equal(w, w_copy), "your function changed w in place; return a new tensor")
        expected = torch.nn.functional.softshrink(w, t)
        neg = w < -t
        require(not (torch.all(out[neg] == 0) and torch.allclose(out[~neg], expected[~neg])),
                "every negative weight became 0: shrink the MAGNITUDE |w| by t and keep the sign "
                "(sign(w) · max(|w| - t, 0))")
        small = w.abs() < t
        require(torch.all(out[small] == 0),
                "weights with |w| < t must become exactly 0; yours cross zero or keep a value: clip |w| - t at 0")
        big = w.abs() > t
        require(torch.allclose(out[big], expected[big]),
                "weights with |w| > t must move towards 0 by exactly t (this is not hard thresholding, "
                "which keeps them unchanged)")
        require(torch.allclose(out, expected), "sign(w) · max(|w| - t, 0) differs from yours at |w| = t")
        other = fn(torch.tensor([2.0, -0.5, 0.1]), 1.0)
        require(torch.allclose(other, torch.tensor([1.0, 0.0, 0.0])), "use the threshold t you are given")

    return run_check("Exercise 2 (soft-thresholding)", check,
                     "weights inside [-t, t] become exactly 0, the others shrink by t: the proximal step of L1")


# --------------------------------------------------------------------------- exercise 3
def check_max_norm_rows(fn) -> bool:
    """``fn(W, c)``: every row with norm > c scaled to norm c, the others unchanged (``torch.renorm(W, 2, 0, c)``)."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(W, c), got {type(fn).__name__}")
        g = torch.Generator().manual_seed(1)
        W = torch.randn(12, 30, generator=g, dtype=torch.float64)
        W[:5] *= 0.1  # rows well inside the ball (norm ≈ 0.5)
        c = 2.0
        W_copy = W.clone()
        out = fn(W, c)
        if out is None:
            raise NotAttempted
        require(isinstance(out, torch.Tensor), f"return a tensor, got {type(out).__name__}")
        require(out.shape == W.shape, f"the output must have the shape of W {tuple(W.shape)}, got {tuple(out.shape)}")
        require(torch.equal(W, W_copy), "your function changed W in place; return a new tensor")
        expected = torch.renorm(W, p=2, dim=0, maxnorm=c)
        rows = out.norm(dim=1)
        require(not torch.allclose(rows, torch.full_like(rows, c)),
                "every row now has norm exactly c: rows already inside the ball (norm <= c) must stay unchanged")
        require(not math.isclose(out.norm().item(), c, rel_tol=1e-6),
                "you bounded the whole matrix (Frobenius norm); bound each row separately")
        require(not torch.allclose(out, torch.renorm(W, p=2, dim=1, maxnorm=c)),
                "you bounded the COLUMNS (dim=0); bound each ROW, the incoming weights of one unit: norm over dim=1")
        require(torch.allclose(out[:5], W[:5]), "rows with norm <= c must stay exactly as they are")
        require(bool((rows <= c * (1 + 1e-6)).all()), f"some rows still have norm above c = {c}: "
                                                      f"largest {rows.max().item():.3f}")
        require(torch.allclose(out, expected),
                "rows outside the ball must keep their direction and get norm exactly c: w_i · c / ‖w_i‖")

    return run_check("Exercise 3 (max-norm rows)", check,
                     "each unit's incoming weights are projected onto the ball of radius c; inside rows untouched")
