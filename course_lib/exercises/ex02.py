"""Checkers for the exercises of notebook 02 (norm penalties)."""

from __future__ import annotations

import math
from numbers import Real

import torch

from . import NotAttempted, close, require, run_check

__all__ = ["check_elastic_net", "check_soft_threshold", "check_max_norm_rows", "check_sklearn_to_lecture"]


# --------------------------------------------------------------------------- exercise 1
def _en_variants(w: torch.Tensor, r: float) -> list[tuple[torch.Tensor, str]]:
    """Typical slips in the elastic net R(w) = r‖w‖₂² + (1 − r)/2 ‖w‖₁, each with what it gets wrong."""
    sq, ab = (w * w).sum(), w.abs().sum()
    return [
        (r * ab + (1 - r) * sq, "that puts r on the L1 term and (1 - r) on the L2 term (the convention of \"How to "
                                "Train ConvNets\" and of scikit-learn's l1_ratio); here r multiplies the ridge term ‖w‖₂²"),
        (r * ab + (1 - r) / 2 * sq, "r and (1 - r)/2 are swapped: r multiplies the ridge term ‖w‖₂², (1 - r)/2 the "
                                    "LASSO term ‖w‖₁"),
        (r * sq + (1 - r) * ab, "the LASSO term carries (1 - r)/2, not (1 - r)"),
        (r * sq.sqrt() + (1 - r) / 2 * ab, "the ridge term is the SQUARED norm ‖w‖₂² = Σ w_i², not ‖w‖₂"),
        (r * sq / 2 + (1 - r) / 2 * ab, "the lecture's ridge term is ‖w‖₂² without a ½"),
        (r * sq + (1 - r) / 2 * w.sum(), "‖w‖₁ sums the ABSOLUTE values |w_i|; negative entries must count positively"),
        (r * sq + (1 - r) / 2 * w.abs().sum(dim=-1).max(), "sum |w_i| over EVERY entry of w, not one row"),
    ]


def check_elastic_net(fn) -> bool:
    """``fn(w, r)``: r‖w‖₂² + (1 − r)/2 ‖w‖₁ over every entry of ``w`` (the lecture's convention), as
    :func:`course_lib.regularizers.elastic_net_penalty` computes it."""
    from ..regularizers import elastic_net_penalty

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(w, r), got {type(fn).__name__}")
        g = torch.Generator().manual_seed(2)
        cases = [(torch.tensor([3.0, -4.0, 0.0, 1.0], dtype=torch.float64), 0.25),
                 (torch.randn(5, 7, generator=g, dtype=torch.float64), 0.6),
                 (torch.randn(3, 4, 2, generator=g, dtype=torch.float64), 0.1)]
        for w, r in cases:
            w_copy = w.clone()
            out = fn(w, r)
            if out is None:
                raise NotAttempted
            require(torch.equal(w, w_copy), "your function changed w in place; only compute the penalty")
            require(isinstance(out, (torch.Tensor, Real)) and not isinstance(out, bool),
                    f"return a number (a 0-dim tensor), got {type(out).__name__}")
            if isinstance(out, torch.Tensor):
                require(out.numel() == 1, f"return ONE number (sum over every entry of w), got a tensor of shape "
                                          f"{tuple(out.shape)}")
                value = float(out.reshape(()))
            else:
                value = float(out)
            expected = float(elastic_net_penalty(w, r))
            if close(value, expected, rtol=1e-6):
                continue
            for bad, hint in _en_variants(w, r):
                require(not close(value, float(bad), rtol=1e-6), hint)
            require(not close(value, float(elastic_net_penalty(w, 0.25)), rtol=1e-6), "use the ratio r you are given")
            require(False, f"for w of shape {tuple(w.shape)} and r = {r} you get {value:.6g}, course_lib's "
                           f"elastic_net_penalty gives {expected:.6g}: compute Σ w_i² and Σ |w_i| over every entry, "
                           f"then r·Σ w_i² + (1 - r)/2·Σ |w_i|")

    return run_check("Exercise 1 (elastic net)", check,
                     "r·‖w‖₂² + (1 - r)/2·‖w‖₁ over every entry, equal to course_lib's elastic_net_penalty")


# --------------------------------------------------------------------------- exercise 2
def check_soft_threshold(fn) -> bool:
    """``fn(w, t)``: sign(w)·max(|w| − t, 0), a new tensor, as :func:`course_lib.regularizers.soft_threshold_`."""

    from ..regularizers import soft_threshold_

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
        expected = w.clone()
        soft_threshold_(expected, t)  # course_lib's proximal step, on a copy
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
    """``fn(W, c)``: every row with norm > c scaled to norm c, the others unchanged, as
    :func:`course_lib.regularizers.max_norm_` with ``mode='row'`` (= ``torch.renorm(W, 2, 0, c)``)."""

    from ..regularizers import max_norm_

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
        expected = max_norm_(W.clone(), c, "row")  # course_lib's projection, on a copy
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


# --------------------------------------------------------------------------- exercise 4
_ALPHA, _RHO = 0.05, 0.2  # ElasticNet(alpha=0.05, l1_ratio=0.2)


def check_sklearn_to_lecture(answer) -> bool:
    """``(lam, r)`` for the course's MSE + λ·(r‖w‖₂² + (1 − r)/2 ‖w‖₁) equal to scikit-learn's
    ``ElasticNet(alpha=0.05, l1_ratio=0.2)``: λ = α(1 + 3ρ) = 0.08, r = (1 − ρ)/(1 + 3ρ) = 0.5."""
    lam_ok, r_ok = _ALPHA * (1 + 3 * _RHO), (1 - _RHO) / (1 + 3 * _RHO)
    lam_wrong = [
        (_ALPHA, "alpha is not λ: scikit-learn's data term is (1/2n)‖y − Xw‖², half the mean squared error, and its "
                 "L1 weight α·ρ must equal the lecture's λ(1 − r)/4 after halving; solve the two matching equations"),
        (_ALPHA * (1 + 3 * _RHO) / 2, "that is half of λ: the course's cost has the full mean squared error, "
                                      "scikit-learn's data term is half of it, so halve the course's cost, not alpha"),
        (4 * _ALPHA / (1 + 3 * _RHO), "that inverts the forward formula α = λ(1 + 3r)/4 with ρ in place of r; "
                                      "from α·ρ = λ(1 - r)/4 and α(1 - ρ) = λr, adding them gives λ = α(1 + 3ρ)"),
    ]
    r_wrong = [
        (_RHO, "l1_ratio is not r: it weights the L1 term, while the lecture's r weights the ridge term"),
        (1 - _RHO, "1 - l1_ratio is scikit-learn's ridge share, but the lecture's weights are r and (1 - r)/2 "
                   "(with a ½ on the L1 side), so r = (1 - ρ)/(1 + 3ρ)"),
    ]

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (tuple, list)) and len(answer) == 2,
                f"give a pair (lam, r), got {type(answer).__name__}")
        require(all(isinstance(v, Real) and not isinstance(v, bool) for v in answer),
                "give two numbers, (lam, r)")
        lam, r = (float(v) for v in answer)
        require(not (close(lam, r_ok, rtol=1e-3) and close(r, lam_ok, rtol=1e-3)), "the order is (lam, r)")
        for bad, hint in r_wrong:
            require(close(r, r_ok, rtol=1e-3) or not close(r, bad, rtol=1e-3), hint)
        for bad, hint in lam_wrong:
            require(close(lam, lam_ok, rtol=1e-3) or not close(lam, bad, rtol=1e-3), hint)
        require(close(r, r_ok, rtol=1e-3), f"r = {r:g} is not it: match α·ρ = λ(1 - r)/4 and α(1 - ρ) = λr, "
                                           f"divide the second by the sum of both")
        require(close(lam, lam_ok, rtol=1e-3), f"λ = {lam:g} is not it: add α·ρ = λ(1 - r)/4 and α(1 - ρ) = λr")

    return run_check("Exercise 4 (scikit-learn to the lecture)", check,
                     f"λ = α(1 + 3ρ) = {lam_ok:g}, r = (1 - ρ)/(1 + 3ρ) = {r_ok:g}")
