"""Checkers for the exercises of notebook 04 (data augmentation, noise and label smoothing)."""

from __future__ import annotations

import numbers

import torch

from ..augment import smooth_labels
from . import NotAttempted, close, require, run_check

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3", "DIGIT_TRANSFORMS", "LABEL_PRESERVING"]

# Exercise 3: transforms one could apply to handwritten digits, and whether the label survives them.
DIGIT_TRANSFORMS = {
    "mirror": "a left-right mirror turns 2, 3, 4, 5, 7, 9 into shapes that are not digits (or other digits)",
    "upside_down": "a top-bottom flip turns 6 into a 9-like shape and 2, 3, 4, 5, 7 into non-digits",
    "rotate_10": None,
    "rotate_180": "a half turn swaps 6 and 9",
    "shift_1px": None,
    "small_noise": None,
}
LABEL_PRESERVING = {name for name, why in DIGIT_TRANSFORMS.items() if why is None}


def check_exercise_1(smooth) -> bool:
    """Exercise 1: ``smooth(y, num_classes, eps)`` returns the lecture's smoothed targets (N, k)."""

    def check() -> None:
        if smooth is None:
            raise NotAttempted
        require(callable(smooth), f"give a function smooth(y, num_classes, eps), got {type(smooth).__name__}")
        for y, k, eps in [([2, 0, 1], 3, 0.3), ([4, 4, 0, 9, 7], 10, 0.1), ([1, 0], 2, 0.2), ([0, 3], 4, 0.0)]:
            labels = torch.tensor(y)
            out = smooth(labels, k, eps)
            require(isinstance(out, torch.Tensor), f"return a tensor, got {type(out).__name__}")
            require(tuple(out.shape) == (len(y), k), f"for {len(y)} labels and k = {k} the targets have shape "
                                                     f"({len(y)}, {k}), yours {tuple(out.shape)}")
            out = out.detach().double().cpu()
            want = smooth_labels(labels, k, eps, dtype=torch.float64)
            is_true = torch.nn.functional.one_hot(labels, k).bool()
            wrong, true = out[~is_true], out[is_true]
            if eps > 0 and torch.allclose(wrong, torch.full_like(wrong, eps / k), atol=1e-6):
                raise AssertionError(f"the wrong classes get ε/k = {eps / k:.4g}: that is PyTorch's convention; "
                                     f"the lecture gives each of them ε/(k − 1) = {eps / (k - 1):.4g} (k = {k}, ε = {eps})")
            require(torch.allclose(out.sum(1), torch.ones(len(y), dtype=torch.float64), atol=1e-6),
                    f"each row must sum to 1 (k = {k}, ε = {eps}); yours sum to "
                    f"{[round(v, 4) for v in out.sum(1).tolist()]}")
            require(torch.allclose(true, want[is_true], atol=1e-6),
                    f"the true class gets 1 − ε = {1 - eps:.4g} (k = {k}, ε = {eps}); yours gets "
                    f"{sorted(set(round(v, 4) for v in true.tolist()))}")
            require(torch.allclose(out, want, atol=1e-6),
                    f"each wrong class gets ε/(k − 1) = {eps / (k - 1) if k > 1 else 0:.4g} (k = {k}, ε = {eps}); "
                    f"yours gives {sorted(set(round(v, 4) for v in wrong.tolist()))}")

    return run_check("Exercise 1 (smoothed targets)", check, "1 − ε for the true class, ε/(k − 1) for the others")


def check_exercise_2(answer) -> bool:
    """Exercise 2: ``(p_true, eps)`` for ``nn.CrossEntropyLoss(label_smoothing=0.1)`` with 10 classes."""

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (tuple, list)) and len(answer) == 2
                and all(isinstance(v, numbers.Real) for v in answer),
                f"give a pair of numbers (p_true, eps), got {answer!r}")
        p_true, eps = (float(v) for v in answer)
        require(not close(p_true, 0.9, rtol=1e-3), "p_true = 1 − α = 0.9 forgets that PyTorch also gives the true "
                                                   "class its share α/k of the uniform part")
        require(close(p_true, 0.91, rtol=1e-3), f"the true class gets 1 − α + α/k; yours {p_true:.4g}")
        require(not close(eps, 0.1, rtol=1e-3), "ε is not α: the wrong classes get α/k = 0.01 each, so set "
                                                "ε/(k − 1) = 0.01")
        require(close(eps, 0.09, rtol=1e-3), f"the lecture's ε is the mass on all wrong classes together, "
                                             f"1 − p_true; yours {eps:.4g}")

    return run_check("Exercise 2 (two conventions)", check, "p_true = 0.91 and ε = α(k − 1)/k = 0.09")


def check_exercise_3(answer) -> bool:
    """Exercise 3: the set of names in ``DIGIT_TRANSFORMS`` that keep a digit's label."""

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (set, list, tuple, frozenset)) and all(isinstance(a, str) for a in answer),
                f"give a set of transform names, e.g. {{'rotate_10'}}; got {answer!r}")
        chosen = set(answer)
        unknown = chosen - set(DIGIT_TRANSFORMS)
        require(not unknown, f"unknown names {sorted(unknown)}; choose from {sorted(DIGIT_TRANSFORMS)}")
        harmful = sorted(chosen - LABEL_PRESERVING)
        require(not harmful, "; ".join(f"{name}: {DIGIT_TRANSFORMS[name]}" for name in harmful))
        missing = sorted(LABEL_PRESERVING - chosen)
        require(not missing, f"{', '.join(missing)} also keep the label (a small change a writer could make)")

    return run_check("Exercise 3 (label-preserving transforms)", check,
                     "small rotations, shifts and noise keep the digit; flips and half turns can change it")
