"""Checkers for the exercises of notebook 03 (dropout)."""

from __future__ import annotations

import math

import torch
from torch import nn

from . import NotAttempted, close, require, run_check
from ..dropout import mc_predict

__all__ = ["check_at_most_five_kept", "check_inverted_dropout", "check_mc_average"]


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


# --------------------------------------------------------------------------- exercise 2
def check_inverted_dropout(fn) -> bool:
    """``fn(x, p, training)``: inverted dropout with drop probability ``p``."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(x, p, training), got {type(fn).__name__}")
        p, n = 0.3, 200_000
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            x = torch.rand(n) + 1.0  # values in [1, 2): a zero in the output can only be a dropped unit
            x_copy = x.clone()
            out = fn(x, p, True)
            if out is None:
                raise NotAttempted
            require(isinstance(out, torch.Tensor), f"return a tensor, got {type(out).__name__}")
            require(out.shape == x.shape, f"the output must have the input's shape {tuple(x.shape)}, "
                                          f"got {tuple(out.shape)}")
            require(torch.equal(x, x_copy), "your function changed its input in place; return a new tensor")
            dropped = (out == 0).float().mean().item()
            se = math.sqrt(p * (1 - p) / n)
            require(abs(dropped - (1 - p)) > 5 * se,
                    f"{dropped:.1%} of the units were dropped, about 1 - p: p is the DROP probability "
                    f"(keep with probability 1 - p)")
            require(abs(dropped - p) < 5 * se,
                    f"{dropped:.1%} of the units were dropped; with p = {p} it should be about {p:.0%}")
            kept = out != 0
            if torch.allclose(out[kept], x[kept]):
                raise AssertionError("kept units pass through unchanged: that is vanilla dropout; "
                                     "inverted dropout divides them by the keep probability 1 - p")
            require(torch.allclose(out[kept], x[kept] / (1 - p)),
                    "kept units must be x / (1 - p) (divide by the keep probability)")
            again = fn(x, p, True)
            require(not torch.equal(again, out), "two calls gave the same output: draw a fresh mask on every call")
            test = fn(x, p, False)
            require(isinstance(test, torch.Tensor) and torch.allclose(test, x),
                    "at test time (training=False) inverted dropout is the identity: return x unchanged")

    return run_check("Exercise 2 (inverted dropout)", check,
                     "kept units are scaled by 1/(1 - p) in training, and test time is the identity")


# --------------------------------------------------------------------------- exercise 3
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

    return run_check("Exercise 3 (Monte-Carlo dropout)", check,
                     "averaging many random sub-networks gives the ensemble prediction")
