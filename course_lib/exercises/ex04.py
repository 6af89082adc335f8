"""Checkers for the exercises of notebook 04 (data augmentation, noise and label smoothing).

* :func:`check_random_shift` — the student writes a per-image random shift of a batch of images;
  each shifted image is compared with course_lib's :func:`~course_lib.augment.batch_affine` for the
  shift it appears to have, and the shifts are checked for range, spread and independence.
* :func:`check_smooth_labels` — the lecture's smoothed targets, against
  :func:`~course_lib.augment.smooth_labels`.
* :func:`check_pytorch_alpha` — reading PyTorch's ``label_smoothing=α`` in the lecture's ε.
* :func:`check_label_preserving` — which transforms keep a handwritten digit's label.
"""

from __future__ import annotations

import numbers

import torch

from ..augment import batch_affine, smooth_labels
from . import NotAttempted, Verdict, close, require, run_check

__all__ = ["check_random_shift", "check_smooth_labels", "check_pytorch_alpha", "check_label_preserving",
           "DIGIT_TRANSFORMS", "LABEL_PRESERVING"]


# --------------------------------------------------------------------------- exercise 1: a random shift
def _identify_shifts(x: torch.Tensor, out: torch.Tensor, reach: int, *, wrap: bool = False) -> list:
    """For each image, the (dx, dy) with |dx|, |dy| <= reach that turns x_i into out_i (None if none does).

    The candidates are x moved right by dx and down by dy with zeros shifted in, computed by
    course_lib's :func:`~course_lib.augment.batch_affine` in one call; ``wrap=True`` tries
    circular shifts (``torch.roll``) instead.
    """
    n = x.shape[0]
    candidates = [(dx, dy) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)]
    if wrap:
        refs = torch.stack([torch.roll(x, (dy, dx), dims=(-2, -1)) for dx, dy in candidates])
    else:
        k = len(candidates)
        translate = torch.tensor(candidates, dtype=x.dtype).repeat_interleave(n, 0)          # (k·n, 2)
        refs = batch_affine(x.repeat(k, 1, 1, 1), torch.zeros(k * n), translate, torch.ones(k * n),
                            torch.zeros(k * n, 2)).view(k, *x.shape)
    match = (refs - out.unsqueeze(0)).flatten(2).abs().amax(2) < 1e-5                        # (k, n)
    first = match.float().argmax(0).tolist()
    return [candidates[first[i]] if hit else None for i, hit in enumerate(match.any(0).tolist())]


def _spread(values: list[int], m: int, axis: str, n: int) -> None:
    """Each of −m..m should be drawn about n/(2m + 1) times."""
    counts = {v: values.count(v) for v in range(-m, m + 1)}
    never = [v for v, c in counts.items() if c == 0]
    if never == [m]:
        raise AssertionError(f"{axis} never equals +{m} in {n} images: torch.randint(low, high) never returns "
                             f"high; draw from torch.randint(-max_shift, max_shift + 1, ...)")
    require(not never, f"{axis} never takes the value{'s' if len(never) > 1 else ''} {never} in {n} images; each "
                       f"whole number from −{m} to {m} should be equally likely (counts {counts})")
    expected = n / (2 * m + 1)
    off = {v: c for v, c in counts.items() if not 0.5 * expected <= c <= 1.6 * expected}
    require(not off, f"the values of {axis} are not equally likely: counts {counts} in {n} images, expected about "
                     f"{expected:.0f} each; draw dx and dy uniformly from −max_shift..max_shift")


def check_random_shift(random_shift) -> Verdict:
    """Exercise 1: ``random_shift(x, max_shift, generator)`` moves each image of a batch by its own random shift.

    ``x`` (N, C, H, W) → the same shape; image i moved right by dx_i and down by dy_i pixels, with
    dx_i, dy_i drawn independently and uniformly from the whole numbers −max_shift..max_shift, zeros
    shifted in at the border (what ``BatchRandomAffine(translate=...)`` does with whole-pixel shifts);
    every random number drawn from ``generator``.
    """

    def check() -> None:
        if random_shift is None:
            raise NotAttempted
        require(callable(random_shift), f"give a function random_shift(x, max_shift, generator), got "
                                        f"{type(random_shift).__name__}")
        m, n = 2, 400
        x = torch.rand(n, 2, 6, 7, generator=torch.Generator().manual_seed(0)) + 0.5  # no pixel is 0
        original = x.clone()
        global_state = torch.get_rng_state()
        out = random_shift(x, m, torch.Generator().manual_seed(1))
        drew_globally = not torch.equal(global_state, torch.get_rng_state())
        require(isinstance(out, torch.Tensor), f"return the shifted batch as a tensor, got {type(out).__name__}")
        require(torch.equal(x, original), "your function changed its input x in place; work on a copy (or build a "
                                          "new tensor) and return that")
        require(tuple(out.shape) == tuple(x.shape), f"the shifted batch keeps the shape of x, {tuple(x.shape)} "
                                                    f"(N, C, H, W); yours has shape {tuple(out.shape)}")
        require(out.dtype == x.dtype, f"keep the dtype of x ({x.dtype}); yours is {out.dtype}")
        out = out.detach()
        require(not torch.equal(out, x), "your function returned the images unchanged: move each one by its random "
                                         "(dx, dy)")
        shifts = _identify_shifts(x, out, m + 1)
        bad = [i for i, s in enumerate(shifts) if s is None]
        if bad:
            rolled = _identify_shifts(x[bad[:20]], out[bad[:20]], m, wrap=True)
            if all(s is not None for s in rolled):
                raise AssertionError("your images wrap around (torch.roll): pixels pushed out on one side come back "
                                     "on the other; a shifted image gets zeros where it moved away from the border "
                                     "(pad with zeros, then crop)")
            i = bad[0]
            raise AssertionError(
                f"image {i} of the batch is not the input moved by whole pixels with zeros shifted in; every channel "
                f"of an image moves by the same (dx, dy), with |dx|, |dy| <= max_shift = {m} ({len(bad)} of {n} "
                f"images fail; the batch has 2 channels and is 6 × 7 pixels, so mind which axis is which)")
        too_far = [(i, s) for i, s in enumerate(shifts) if max(abs(s[0]), abs(s[1])) > m]
        if too_far:
            (i, s), count = too_far[0], len(too_far)
            raise AssertionError(f"image {i} moved by (dx, dy) = {s}, more than max_shift = {m} pixels ({count} of "
                                 f"{n} images moved too far)")
        dxs, dys = [s[0] for s in shifts], [s[1] for s in shifts]
        require(len(set(shifts)) > 1, f"every image of the batch moved by the same (dx, dy) = {shifts[0]}: draw one "
                                      f"shift per image (N values), not one for the whole batch")
        require(any(dxs), "no image moved left or right (dx = 0 always): shift along the width too")
        require(any(dys), "no image moved up or down (dy = 0 always): shift along the height too")
        require(dxs != dys, "dx and dy are always equal: draw them independently (N × 2 numbers)")
        _spread(dxs, m, "dx (left-right)", n)
        _spread(dys, m, "dy (up-down)", n)
        require(not drew_globally, "your function drew from PyTorch's global random state: pass the generator to "
                                   "the function that draws, e.g. torch.randint(..., generator=generator)")
        again = random_shift(x, m, torch.Generator().manual_seed(1))
        require(isinstance(again, torch.Tensor) and torch.equal(again.detach(), out),
                "two calls with generators seeded alike gave different batches: draw every random number from "
                "generator")
        other = random_shift(x, m, torch.Generator().manual_seed(2))
        require(isinstance(other, torch.Tensor) and not torch.equal(other.detach(), out),
                "generators with different seeds gave the same batch: the shifts must come from generator")
        still = random_shift(x[:8], 0, torch.Generator().manual_seed(3))
        require(isinstance(still, torch.Tensor) and torch.allclose(still.detach(), x[:8]),
                "with max_shift = 0 every image must come back unchanged")

    return run_check("Exercise 1 (random shift)", check,
                     "one zero-filled shift per image, uniform on −max_shift..max_shift, reproducible from the generator")


# --------------------------------------------------------------------------- exercise 2: smoothed targets
def check_smooth_labels(smooth) -> Verdict:
    """Exercise 2: ``smooth(y, num_classes, eps)`` returns the lecture's smoothed targets (N, k)."""

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
                    f"each wrong class gets ε/(k − 1) = {eps / (k - 1):.4g} (k = {k}, ε = {eps}); "
                    f"yours gives {sorted(set(round(v, 4) for v in wrong.tolist()))}")

    return run_check("Exercise 2 (smoothed targets)", check, "1 − ε for the true class, ε/(k − 1) for the others")


# --------------------------------------------------------------------------- exercise 3: PyTorch's α
def check_pytorch_alpha(answer) -> Verdict:
    """Exercise 3: ``(p_true, eps)`` for ``nn.CrossEntropyLoss(label_smoothing=0.1)`` with 10 classes."""

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

    return run_check("Exercise 3 (two conventions)", check, "p_true = 0.91 and ε = α(k − 1)/k = 0.09")


# --------------------------------------------------------------------------- exercise 4: label-preserving transforms
#: transforms one could apply to handwritten digits, and why a transform changes the label (None: it keeps it)
DIGIT_TRANSFORMS = {
    "mirror": "a left-right mirror turns 2, 3, 4, 5, 7, 9 into shapes that are not digits (or other digits)",
    "upside_down": "a top-bottom flip turns 6 into a 9-like shape and 2, 3, 4, 5, 7 into non-digits",
    "rotate_10": None,
    "rotate_180": "a half turn swaps 6 and 9",
    "shift_1px": None,
    "small_noise": None,
}
LABEL_PRESERVING = {name for name, why in DIGIT_TRANSFORMS.items() if why is None}


def check_label_preserving(answer) -> Verdict:
    """Exercise 4: the set of names in ``DIGIT_TRANSFORMS`` that keep a digit's label."""

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

    return run_check("Exercise 4 (label-preserving transforms)", check,
                     "small rotations, shifts and noise keep the digit; flips and half turns can change it")
