"""Checkers for the exercises of notebook 11 (learning-rate schedules and gradient clipping).

1. ``check_deck_gamma``: the per-epoch ``gamma`` of ``ExponentialLR`` that gives the deck's
   η(n) = η₀ / γ^(n/N) with γ = 10 and N = :data:`DECK_N` epochs;
2. ``check_warmup_cosine``: the student's ``LRScheduler`` for linear warm-up followed by cosine decay,
   against the closed formula :func:`warmup_cosine_reference` (the same rates as PyTorch's
   ``SequentialLR(LinearLR, CosineAnnealingLR)`` up to ``total_steps``); recognises the typical slips
   (off by one step, warm-up from 0, decay to 0 instead of ``eta_min``, a jump at the end of the
   warm-up, a cosine that rises again, one group's rate for all groups, ``base_lrs`` modified,
   rates compounded from the current rate);
3. ``check_plateau_lrs``: the student's ReduceLROnPlateau loop (threshold 0), against
   ``course_lib.schedules.ReduceLROnPlateau`` on validation curves built to tell the slips apart.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Callable

import torch
from torch import nn

from . import NotAttempted, close, require, run_check
from ..schedules import ReduceLROnPlateau, lr_curve

__all__ = ["check_deck_gamma", "check_warmup_cosine", "warmup_cosine_reference", "check_plateau_lrs", "DECK_N"]


# --------------------------------------------------------------------------- exercise 1
DECK_N = 20  # epochs for the deck's "a tenth every N epochs"


def _number(value, name: str = "your answer") -> float:
    if isinstance(value, torch.Tensor):
        require(value.numel() == 1, f"{name} must be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    require(isinstance(value, Real) and not isinstance(value, bool), f"{name} must be a number, got "
                                                                     f"{type(value).__name__}")
    return float(value)


def check_deck_gamma(answer) -> bool:
    """``answer``: the ``gamma`` of ``ExponentialLR`` (one step per epoch) equal to η₀ / 10^(n/N), N = DECK_N."""

    def check() -> None:
        if answer is None:
            raise NotAttempted
        g = _number(answer)
        right = 10 ** (-1 / DECK_N)
        slips = [
            (0.1, f"0.1 divides the rate by ten every epoch; the deck divides by ten every N = {DECK_N} epochs. "
                  f"ExponentialLR multiplies once per epoch, so gamma^{DECK_N} must equal 0.1"),
            (10 ** (1 / DECK_N), f"your gamma is above 1: the rate would GROW. The deck divides by γ^(1/N) each "
                                 f"epoch; PyTorch multiplies by gamma, so gamma = γ^(-1/N), the reciprocal of yours"),
            (10.0, f"10 is the deck's γ: it divides the rate by γ every N = {DECK_N} epochs. PyTorch multiplies by "
                   f"gamma every epoch, so gamma^{DECK_N} must equal 1/γ"),
            (1 - 0.1 / DECK_N, f"that removes a fixed share each epoch, as if the decay were linear; exponential "
                               f"decay multiplies by the same gamma each epoch, and gamma^{DECK_N} must be 0.1"),
            (1 - 0.9 / DECK_N, f"gamma^{DECK_N} must be exactly 0.1: the decay compounds, it is not linear"),
            (0.1 / DECK_N, "that is 0.1 divided by N; you need the N-th ROOT of 0.1"),
        ]
        if not close(g, right, rtol=1e-3):
            for value, message in slips:
                if close(g, value, rtol=1e-3):
                    require(False, message)
            require(0 < g < 1, f"gamma = {g:g} would not decay the rate: it must lie between 0 and 1")
            require(False, f"with gamma = {g:.4g} the rate after {DECK_N} epochs is {g ** DECK_N:.4g} × η₀, "
                           f"the deck's is 0.1 × η₀")

    return run_check("Exercise 1 (the deck's gamma)", check,
                     f"gamma = 10^(-1/{DECK_N}) ≈ {10 ** (-1 / DECK_N):.4f}: {DECK_N} multiplications give 0.1")


# --------------------------------------------------------------------------- exercise 2
def warmup_cosine_reference(t: int, lr0: float, warmup_steps: int, total_steps: int, start_factor: float = 0.1,
                            eta_min: float = 0.0) -> float:
    """Linear warm-up from ``start_factor·lr0`` to ``lr0`` over ``warmup_steps``, then cosine down to ``eta_min``.

        t ≤ W:       η_t = η₀ · (s + (1 − s) · t / W)
        W ≤ t ≤ T:   η_t = η_min + ½ (η₀ − η_min) (1 + cos(π (t − W) / (T − W)))
        t ≥ T:       η_t = η_min
    """
    w, total = warmup_steps, total_steps
    if t < w:
        return lr0 * (start_factor + (1 - start_factor) * t / w)
    if t >= total:
        return eta_min
    return eta_min + 0.5 * (lr0 - eta_min) * (1 + math.cos(math.pi * (t - w) / (total - w)))


_CASES = [  # (group lrs, warmup_steps, total_steps, start_factor, eta_min, steps to run)
    ((0.1, 0.03), 4, 14, 0.1, 0.002, 19),
    ((0.5,), 3, 10, 0.25, 0.0, 13),
]


def _run_schedule(cls, lrs, warmup, total, start_factor, eta_min, steps):
    """Rates of every group before the first step() and after each of ``steps`` steps, and base_lrs before/after."""
    params = [nn.Parameter(torch.zeros(1)) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])
    try:
        sched = cls(opt, warmup_steps=warmup, total_steps=total, start_factor=start_factor, eta_min=eta_min)
        base_before = list(getattr(sched, "base_lrs", []))
        rates = [[g["lr"] for g in opt.param_groups]]
        for _ in range(steps):
            opt.step()
            sched.step()
            rates.append([float(g["lr"]) for g in opt.param_groups])
    except TypeError as exc:
        if "not iterable" in str(exc) or "zip" in str(exc):
            require(False, f"get_lr must return a LIST with one rate per parameter group ({len(lrs)} here), "
                           f"one for each entry of self.base_lrs (PyTorch says: {exc})")
        raise
    return rates, base_before, list(sched.base_lrs)


def _curve(fn: Callable[[int, float], float], lrs, steps) -> list[list[float]]:
    return [[fn(t, lr) for lr in lrs] for t in range(steps + 1)]


def _same(a, b, rtol=1e-6, atol=1e-9) -> bool:
    return all(close(x, y, rtol=rtol, atol=atol) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def check_warmup_cosine(cls) -> bool:
    """``cls``: an ``LRScheduler`` subclass built as ``cls(optimizer, warmup_steps=, total_steps=, start_factor=,
    eta_min=)``; its rates over the steps must follow :func:`warmup_cosine_reference` for every parameter group."""

    def check() -> None:
        if cls is None:
            raise NotAttempted
        require(isinstance(cls, type) and issubclass(cls, torch.optim.lr_scheduler.LRScheduler),
                f"give the class itself (a subclass of torch.optim.lr_scheduler.LRScheduler), got "
                f"{type(cls).__name__}")
        for lrs, w, total, s, eta_min, steps in _CASES:
            rates, base_before, base_after = _run_schedule(cls, lrs, w, total, s, eta_min, steps)
            case = (f"lr {', '.join(f'{v:g}' for v in lrs)}, warmup_steps={w}, total_steps={total}, "
                    f"start_factor={s:g}, eta_min={eta_min:g}")
            require(base_after == base_before == list(lrs),
                    f"{case}: self.base_lrs changed from {base_before} to {base_after}. base_lrs holds each group's "
                    f"initial rate η₀, which every later rate is computed from: read it, never assign to it")
            ref = _curve(lambda t, lr: warmup_cosine_reference(t, lr, w, total, s, eta_min), lrs, steps)
            if _same(rates, ref):
                continue
            t_bad = next(t for t in range(steps + 1) if not _same(rates[t:t + 1], ref[t:t + 1]))
            variants = [
                (lambda t, lr: warmup_cosine_reference(t + 1, lr, w, total, s, eta_min),
                 "your rates are one step AHEAD of the formula: the rate before the first step() (t = 0, "
                 "last_epoch = 0) must be start_factor·η₀. Use t = self.last_epoch as it is"),
                (lambda t, lr: warmup_cosine_reference(max(t - 1, 0), lr, w, total, s, eta_min),
                 "your rates are one step BEHIND the formula: at t = self.last_epoch the rate is the formula at t, "
                 "not at t − 1"),
                (lambda t, lr: warmup_cosine_reference(t, lr, w, total, 0.0, eta_min),
                 "your warm-up starts from 0: at t = 0 the rate must be start_factor·η₀, rising linearly to η₀ at "
                 "t = warmup_steps"),
                (lambda t, lr: (warmup_cosine_reference(t, lr, w, total, s, eta_min) if t < w
                                else 0.5 * lr * (1 + math.cos(math.pi * min(t - w, total - w) / (total - w)))),
                 "your cosine ends at 0, not at eta_min: it runs from η₀ down to eta_min, "
                 "η = eta_min + ½(η₀ − eta_min)(1 + cos(...))"),
                (lambda t, lr: (warmup_cosine_reference(t, lr, w, total, s, eta_min) if t < w else
                                eta_min + 0.5 * (lr - eta_min) * (1 + math.cos(math.pi * min(t, total) / total))),
                 "at the end of the warm-up your rate jumps: the cosine must start at its top, η₀, at "
                 "t = warmup_steps. Measure its phase from the end of the warm-up, (t − W)/(T − W)"),
                (lambda t, lr: (warmup_cosine_reference(t, lr, w, total, s, eta_min) if t <= total else
                                eta_min + 0.5 * (lr - eta_min) * (1 + math.cos(math.pi * (t - w) / (total - w)))),
                 "after total_steps your rate rises again (the cosine is periodic): from t = total_steps on, "
                 "the rate must stay at eta_min"),
                (lambda t, lr: warmup_cosine_reference(t, lrs[0], w, total, s, eta_min),
                 "every parameter group gets the first group's rates: compute one rate per entry of "
                 "self.base_lrs, each from its own η₀"),
            ]
            for fn, message in variants:
                require(not _same(rates, _curve(fn, lrs, steps)), f"{case}: {message}")
            got, want = rates[t_bad], ref[t_bad]
            compounding = t_bad > 0 and any(
                close(g, want_i * prev / base, rtol=1e-6) and not close(want_i, prev, rtol=1e-6)
                for g, want_i, prev, base in zip(got, want, rates[t_bad - 1], lrs))
            require(not compounding, f"{case}: at t = {t_bad} your rate is the formula times the CURRENT rate: "
                                     f"compute from self.base_lrs (η₀), not from group['lr']")
            require(len(got) == len(want), f"{case}: get_lr must return one rate per parameter group "
                                           f"({len(want)}), got {len(got)}")
            phase = "warm-up" if t_bad < w else ("cosine decay" if t_bad <= total else "after total_steps")
            require(False, f"{case}: at t = {t_bad} ({phase}) the rates should be "
                           f"{', '.join(f'{v:.5g}' for v in want)}, yours are {', '.join(f'{v:.5g}' for v in got)}")

    return run_check("Exercise 2 (warm-up + cosine)", check,
                     "linear warm-up from start_factor·η₀, then a half cosine down to eta_min, then flat, "
                     "for every parameter group")


# --------------------------------------------------------------------------- exercise 3
_CURVES = [  # validation losses that tell the slips apart (patience 2 unless given)
    ([1.0, 0.9, 0.95, 0.93, 0.91, 0.92, 0.8, 0.85, 0.85, 0.84, 0.86, 0.7, 0.7, 0.7, 0.7], 2),
    ([2.0, 1.5, 1.6, 1.4, 1.45, 1.42, 1.41, 1.3, 1.35, 1.33, 1.34, 1.36, 1.2], 1),
    ([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7], 0),
    ([0.5, 0.6, 0.55, 0.52, 0.51, 0.58, 0.57, 0.49, 0.6, 0.61, 0.62, 0.63, 0.64], 3),
]
_FACTOR, _LR = 0.5, 0.1


def _plateau_reference(losses, lr, factor, patience) -> list[float]:
    rates = lr_curve(lambda opt: ReduceLROnPlateau(opt, factor=factor, patience=patience, threshold=0.0),
                     len(losses), lr=lr, metrics=losses)
    return rates[1:].tolist()


def _plateau_variant(losses, lr, factor, patience, *, cut_at=None, vs_previous=False, reset_after_cut=True,
                     reset_on_improvement=True, ties_improve=False) -> list[float]:
    """The loop with one detail changed, to recognise a slip by the rates it gives."""
    cut_at = patience + 1 if cut_at is None else cut_at
    best, previous, bad, out = math.inf, math.inf, 0, []
    for v in losses:
        reference = previous if vs_previous else best
        better = v <= reference if ties_improve else v < reference
        if better:
            best = min(best, v)
            if reset_on_improvement:
                bad = 0
        else:
            bad += 1
        previous = v
        if bad >= cut_at:
            lr *= factor
            if reset_after_cut:
                bad = 0
        out.append(lr)
    return out


def check_plateau_lrs(fn) -> bool:
    """``fn(val_losses, lr, factor, patience)``: the learning rate in force after each epoch's scheduler step,
    as ``ReduceLROnPlateau(mode="min", threshold=0)`` gives it (a list as long as ``val_losses``)."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(val_losses, lr, factor, patience), got {type(fn).__name__}")
        for losses, patience in _CURVES:
            got = fn(list(losses), _LR, _FACTOR, patience)
            if got is None:
                raise NotAttempted
            case = f"patience={patience}, val_losses={losses}"
            require(isinstance(got, (list, tuple)) and len(got) == len(losses),
                    f"{case}: return a list with one learning rate per epoch ({len(losses)}), got "
                    f"{type(got).__name__}" + (f" of length {len(got)}" if hasattr(got, "__len__") else ""))
            got = [_number(v, "each rate") for v in got]
            ref = _plateau_reference(losses, _LR, _FACTOR, patience)
            if all(close(a, b, rtol=1e-6, atol=1e-12) for a, b in zip(got, ref)):
                continue
            variants = [
                (dict(cut_at=patience), f"your rate is cut after {patience} epochs without improvement; the "
                                        f"scheduler waits until there have been MORE than patience of them"),
                (dict(cut_at=patience + 2), "your cut comes one epoch late: it happens as soon as the count of "
                                            "epochs without improvement exceeds patience"),
                (dict(vs_previous=True), "you compare each loss with the previous epoch's; compare with the BEST "
                                         "loss so far, so a small recovery after a bad epoch is not an improvement"),
                (dict(reset_after_cut=False), "after a cut the count of bad epochs must restart from 0; yours "
                                              "keeps counting, so the rate is cut again every epoch"),
                (dict(reset_on_improvement=False), "an improvement must reset the count of bad epochs to 0; yours "
                                                   "adds up all bad epochs since the last cut"),
                (dict(ties_improve=True), "a loss EQUAL to the best is no improvement (threshold 0: it must be "
                                          "strictly lower)"),
            ]
            for kwargs, message in variants:
                other = _plateau_variant(losses, _LR, _FACTOR, patience, **kwargs)
                require(not all(close(a, b, rtol=1e-6, atol=1e-12) for a, b in zip(got, other)), f"{case}: {message}")
            first = next(i for i, (a, b) in enumerate(zip(got, ref)) if not close(a, b, rtol=1e-6, atol=1e-12))
            require(False, f"{case}: after epoch {first + 1} (loss {losses[first]}) the rate should be {ref[first]:g}, "
                           f"yours is {got[first]:g}")

    return run_check("Exercise 3 (ReduceLROnPlateau by hand)", check,
                     "best so far, a count of bad epochs reset by an improvement and by a cut, and a cut when the "
                     "count exceeds patience: the same rates as ReduceLROnPlateau")
