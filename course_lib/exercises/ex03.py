"""Checkers for the exercises of notebook 03 (dropout).

1. ``check_at_most_five_kept``: the probability that a mask keeps at most 5 of 10 units;
2. ``check_dropout_forward``: the student's inverted dropout forward pass, against ``inverted_dropout``
   on the same mask;
3. ``check_dropout_backward``: its backward pass, against autograd's gradient;
4. ``check_mc_average``: Monte-Carlo dropout, against ``mc_predict``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import NotAttempted, close, require, run_check
from ..dropout import dropout_mask, inverted_dropout, mc_predict

__all__ = ["check_at_most_five_kept", "check_dropout_forward", "check_dropout_backward", "check_mc_average"]


# --------------------------------------------------------------------------- exercise 1
def _binom_pmf(k: int, n: int = 10, q: float = 0.6) -> float:
    return math.comb(n, k) * q**k * (1 - q) ** (n - k)


def check_at_most_five_kept(answer) -> bool:
    """P(a mask over n = 10 units with keep probability 0.6 keeps at most 5 units) = P(K <= 5), K ~ Binomial(10, 0.6)."""
    expected = sum(_binom_pmf(k) for k in range(6))
    wrong = [
        (sum(_binom_pmf(k) for k in range(5)), "that is P(K < 5): 'at most 5' includes K = 5"),
        (_binom_pmf(5), "that is P(K = 5) only; add K = 0, 1, ..., 4"),
        (sum(_binom_pmf(k) for k in range(5, 11)), "that is P(K >= 5): at least 5 kept (= at most 5 DROPPED; "
                                                    "kept units have probability 0.6, dropped ones 0.4)"),
        (0.6, "0.6 is the chance that ONE unit is kept"),
        (0.4, "0.4 is the chance that ONE unit is dropped"),
    ]

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (int, float)) and not isinstance(answer, bool),
                f"give one number (a probability), got {type(answer).__name__}")
        value = float(answer)
        require(0.0 <= value <= 1.0, f"a probability lies in [0, 1], got {value:g}")
        for bad, hint in wrong:
            require(not close(value, bad, rtol=0, atol=5e-4), hint)
        require(close(value, expected, rtol=0, atol=5e-4),
                f"{value:.4f} is not it: the number K of kept units is Binomial(n=10, 0.6); "
                f"sum P(K = k) for k = 0..5 (4 decimals are enough)")

    return run_check("Exercise 1 (at most five kept)", check,
                     f"P(K <= 5) = {expected:.4f}: more than a third of the masks keep 50% of the units or fewer")


# --------------------------------------------------------------------------- exercises 2 and 3: forward and backward
_P = 0.3          # drop probability used by the checks (keep probability 0.7)
_SHAPE = (400, 500)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """x in [1, 2) (so a zero in the output can only be a dropped unit) and an upstream gradient dout."""
    g = _gen(0)
    return torch.rand(_SHAPE, generator=g) + 1.0, torch.randn(_SHAPE, generator=g)


def _call_forward(fn, x: torch.Tensor, p: float, mode: str, **kwargs):
    """Call the student's forward; return (out, cache) after checking the shape of the answer."""
    x_copy = x.clone()
    result = fn(x, p, mode, **kwargs)
    if result is None:
        raise NotAttempted
    require(isinstance(result, tuple) and len(result) == 2,
            f"dropout_forward must return two things, (out, cache); got {type(result).__name__}"
            + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    out, cache = result
    require(isinstance(out, torch.Tensor), f"out must be a tensor, got {type(out).__name__}")
    require(out.shape == x.shape, f"out must have the input's shape {tuple(x.shape)}, got {tuple(out.shape)}")
    require(torch.equal(x, x_copy), "dropout_forward changed x in place; compute a new tensor (x * mask ...)")
    return out.detach(), cache


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.float(), b.float(), rtol=1e-5, atol=1e-6)


def _explain_train_output(out: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, p: float) -> None:
    """Fail with what is wrong when out is not x * mask / (1 - p) for the KEEP mask ``mask``."""
    keep = 1.0 - p
    require(not torch.equal(out == 0, mask == 1),
            "the units you zeroed are the ones the mask KEEPS: the mask holds 1 for a kept unit and 0 for a dropped "
            "one; multiply by it")
    require(bool((out == 0).any()), "no unit was dropped: multiply x by the mask")
    require(torch.equal(out == 0, mask == 0),
            "the units you dropped are not the ones the mask drops: when a mask is given, use it (draw one only "
            "when mask is None)")
    require(not _close(out, x * mask),
            "kept units came out unchanged: you forgot to scale by 1/p_keep. Inverted dropout divides the kept "
            f"units by the keep probability 1 - p = {keep:g} (without it, this is vanilla dropout)")
    require(not _close(out, x * mask / p),
            f"you divided by p = {p:g}, the DROP probability; divide by the keep probability 1 - p = {keep:g}")
    require(not _close(out, x * mask * keep),
            f"you multiplied by the keep probability {keep:g}; inverted dropout DIVIDES the kept units by it")
    require(_close(out, x * mask / keep), f"kept units must be x / (1 - p) = x / {keep:g}; yours differ by up to "
                                          f"{(out - x * mask / keep).abs().max().item():.3g}")


def check_dropout_forward(fn) -> bool:
    """``fn(x, p, mode, mask=None, generator=None) -> (out, cache)``: inverted dropout, forward pass.

    Compared with ``course_lib.dropout.inverted_dropout`` on the same mask (train mode), checked for a
    mask drawn with drop probability ``p`` from ``generator``, and for the identity in test mode.
    """

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function dropout_forward(x, p, mode, mask=None, generator=None), "
                              f"got {type(fn).__name__}")
        p, keep = _P, 1.0 - _P
        x, _ = _inputs()
        with torch.random.fork_rng(devices=[]):
            # 1. the same mask as course_lib's inverted dropout
            mask = dropout_mask(x, p, generator=_gen(1))
            reference = inverted_dropout(x, p, generator=_gen(1))
            out, _ = _call_forward(fn, x, p, "train", mask=mask)
            _explain_train_output(out, x, mask, p)
            require(_close(out, reference), "your output differs from course_lib's inverted_dropout on the same mask "
                                            f"by up to {(out - reference).abs().max().item():.3g}")
            # 2. a mask of its own, drawn from the generator
            out, _ = _call_forward(fn, x, p, "train", generator=_gen(2))
            n = out.numel()
            dropped = (out == 0).float().mean().item()
            se = math.sqrt(p * keep / n)
            require(abs(dropped - keep) > 6 * se,
                    f"{dropped:.1%} of the units were dropped, about 1 - p: you used p as the KEEP probability. Here p "
                    f"is the DROP probability (PyTorch's convention): keep a unit where torch.rand(...) >= p")
            require(abs(dropped - p) < 6 * se,
                    f"{dropped:.1%} of the units were dropped; with p = {p} it should be about {p:.0%}")
            _explain_train_output(out, x, (out != 0).float(), p)
            again, _ = _call_forward(fn, x, p, "train", generator=_gen(2))
            require(torch.equal(again, out), "two calls with generators of the same seed drew different masks: draw the "
                                             "mask from the generator passed in (torch.rand(x.shape, generator=generator))")
            g = _gen(3)
            first, _ = _call_forward(fn, x, p, "train", generator=g)
            second, _ = _call_forward(fn, x, p, "train", generator=g)
            require(not torch.equal(first, second), "two calls drew the same mask: draw a fresh mask on every call")
            # 3. test mode
            test, _ = _call_forward(fn, x, p, "test")
            require(not _close(test, x * keep),
                    f"in test mode you multiplied by the keep probability {keep:g}: you scaled at test time too. "
                    f"Inverted dropout already scaled in training, so its test-time layer is the identity "
                    f"(scaling at test time is vanilla dropout's rule)")
            require(not _close(test, x / keep), "in test mode you divided by the keep probability: test time is the "
                                                "identity, out = x")
            require(bool((test != 0).all()), "in test mode no unit is dropped: out = x")
            require(_close(test, x), "in test mode inverted dropout returns x unchanged")

    return run_check("Exercise 2 (dropout forward)", check,
                     "it matches course_lib's inverted_dropout on the same mask, draws its own mask with drop "
                     "probability p, and is the identity at test time")


def check_dropout_backward(forward, backward) -> bool:
    """``backward(dout, cache) -> dx`` for the ``(out, cache)`` of ``forward``: compared with autograd's gradient."""

    def check() -> None:
        if forward is None or backward is None:
            raise NotAttempted
        require(callable(forward) and callable(backward), "give the two functions: "
                                                          "check_dropout_backward(dropout_forward, dropout_backward)")
        p, keep = _P, 1.0 - _P
        x, dout = _inputs()
        with torch.random.fork_rng(devices=[]):
            mask = dropout_mask(x, p, generator=_gen(1))
            out, cache = _call_forward(forward, x, p, "train", mask=mask)
            require(_close(out, inverted_dropout(x, p, generator=_gen(1))),
                    "dropout_forward does not pass exercise 2's check yet: fix it first (run check_dropout_forward)")
            # autograd's gradient through course_lib's inverted dropout, with the same mask
            x_leaf = x.clone().requires_grad_(True)
            inverted_dropout(x_leaf, p, generator=_gen(1)).backward(dout)
            expected = x_leaf.grad
            dout_copy = dout.clone()
            dx = backward(dout, cache)
            if dx is None:
                raise NotAttempted
            require(isinstance(dx, torch.Tensor), f"dropout_backward must return a tensor dx, got {type(dx).__name__}")
            require(dx.shape == x.shape, f"dx must have the shape of x {tuple(x.shape)}, got {tuple(dx.shape)}")
            require(torch.equal(dout, dout_copy), "dropout_backward changed dout in place; return a new tensor")
            dx = dx.detach()
            require(not _close(dx, dout), "dx = dout: the gradient passed through every unit. A dropped unit did not "
                                          "reach the output, so its gradient is 0: multiply dout by the mask")
            require(not _close(dx, dout * mask), "you forgot the 1/(1 - p) factor: the forward pass divided the kept "
                                                 f"units by {keep:g}, so d out / d x = mask / {keep:g}")
            require(not _close(dx, dout * mask / p), f"you divided by p = {p:g}, the drop probability; the forward "
                                                     f"pass divided by the keep probability 1 - p = {keep:g}")
            require(not _close(dx, dout * mask * keep), f"you multiplied by {keep:g}; the forward pass divided by it, "
                                                        f"so does the gradient")
            require(torch.equal(dx == 0, (mask == 0) | (dout == 0)),
                    "the gradient is zero on other units than the ones the forward pass dropped: use the mask saved "
                    "in the cache, do not draw a new one")
            require(_close(dx, expected), "dx differs from autograd's gradient (through course_lib's inverted_dropout, "
                                          f"same mask) by up to {(dx - expected).abs().max().item():.3g}")
            # a mask the forward pass drew itself
            out, cache = _call_forward(forward, x, p, "train", generator=_gen(4))
            own = (out != 0).float()
            dx = backward(dout, cache)
            require(isinstance(dx, torch.Tensor) and _close(dx.detach(), dout * own / keep),
                    "with a mask that dropout_forward drew itself, dx is not dout * mask / (1 - p): keep that mask "
                    "in the cache")
            # test mode: the identity, whose gradient is dout
            _, cache = _call_forward(forward, x, p, "test")
            dx = backward(dout, cache)
            require(isinstance(dx, torch.Tensor), f"dropout_backward must return a tensor in test mode too, "
                                                  f"got {type(dx).__name__}")
            require(not _close(dx.detach(), dout * keep) and not _close(dx.detach(), dout / keep),
                    "in test mode the layer is the identity, so dx = dout (no scaling)")
            require(_close(dx.detach(), dout), "in test mode the layer is the identity, so dx = dout (no mask)")

    return run_check("Exercise 3 (dropout backward)", check,
                     "dx = dout * mask / (1 - p) equals autograd's gradient; test mode passes dout through")


# --------------------------------------------------------------------------- exercise 4
def _exercise_net() -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        return nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 3))


def check_mc_average(fn) -> bool:
    """``fn(model, x, n_samples)``: Monte-Carlo dropout, the average of softmax outputs over random masks."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(model, x, n_samples), got {type(fn).__name__}")
        model = _exercise_net().eval()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1)
            x = torch.randn(50, 8) * 2
            probs = fn(model, x, 400)
            if probs is None:
                raise NotAttempted
            require(isinstance(probs, torch.Tensor), f"return a tensor, got {type(probs).__name__}")
            require(probs.shape == (50, 3), f"expected shape (N, classes) = (50, 3), got {tuple(probs.shape)}")
            require(not model.training, "the model was in eval mode before your function ran and should be "
                                        "left that way: restore its mode at the end")
            require(torch.allclose(probs.sum(1), torch.ones(50), atol=1e-4),
                    "each row must sum to 1: average the softmax probabilities, not the logits")
            with torch.no_grad():
                scaled = model(x).softmax(1)
            require(not torch.allclose(probs, scaled, atol=1e-6),
                    "your result equals the eval-mode (weight-scaled) prediction: dropout must stay ON "
                    "during the passes (model.train())")
            # two independent runs differ by the Monte-Carlo noise, which shrinks like 1/sqrt(n_samples)
            noise_400 = (fn(model, x, 400) - probs).abs().mean().item()
            noise_1 = (fn(model, x, 1) - fn(model, x, 1)).abs().mean().item()
            reference = mc_predict(model, x, 1000)
            diff = (probs.detach() - reference).abs().mean().item()
        require(noise_1 > 4 * noise_400, "n_samples = 1 and n_samples = 400 are equally noisy: average over "
                                         "n_samples passes, each with a fresh mask")
        require(diff < 0.02, f"your average is {diff:.3f} away from a 1000-mask average (mean absolute "
                             f"difference); expected under 0.02")

    return run_check("Exercise 4 (Monte-Carlo dropout)", check,
                     "averaging many random sub-networks gives the ensemble prediction")
