"""Checkers for the exercises of notebook 05 (early stopping)."""

from __future__ import annotations

import math
import numbers

from . import NotAttempted, close, require, run_check
from ..early_stopping import EarlyStopper

__all__ = ["EXERCISE_1_VALUES", "EXERCISE_1_EVERY", "EXERCISE_1_PATIENCE", "EXERCISE_4", "check_stop_step",
           "check_patience_loop", "check_equivalent_l2", "check_retrain_budget"]

# --------------------------------------------------------------------------- exercise 1
EXERCISE_1_VALUES = (1.00, 0.80, 0.70, 0.72, 0.69, 0.71, 0.70, 0.69, 0.73, 0.60)  # v' at i = 20, 40, ..., 200
EXERCISE_1_EVERY = 20       # n: optimizer steps between two evaluations
EXERCISE_1_PATIENCE = 3     # p


def _run_stopper(values, patience, every=1, min_delta=0.0):
    """(i*, stop step or None) of the course's EarlyStopper on a list of values measured every `every` steps."""
    stopper = EarlyStopper(patience, min_delta=min_delta)
    for k, value in enumerate(values, 1):
        if stopper.update(value, k * every):
            break
    return stopper.best_step, stopper.stop_step


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_stop_step(answer) -> bool:
    """``answer = (i_star, i_stop)`` for the scripted run of exercise 1 (optimizer steps)."""
    values, n, p = EXERCISE_1_VALUES, EXERCISE_1_EVERY, EXERCISE_1_PATIENCE
    expected = _run_stopper(values, p, n)                      # (100, 160)

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (tuple, list)) and len(answer) == 2,
                f"give a pair (i_star, i_stop), got {answer!r}")
        i_star, i_stop = answer
        if i_star is None and i_stop is None:
            raise NotAttempted
        require(_is_int(i_star) and (i_stop is None or _is_int(i_stop)),
                f"both entries are step numbers (ints; i_stop may be None for 'never stops'), got {answer!r}")
        require(not (i_star, i_stop) == (expected[0] // n, expected[1] // n),
                f"those are evaluation numbers; the lecture's i counts optimizer steps: i grows by n = {n} "
                f"per evaluation")
        require(i_star % n == 0 and (i_stop is None or i_stop % n == 0),
                f"evaluations happen every n = {n} steps, so i* and the stop step are multiples of {n}")
        require(i_stop is not None, "the patience does run out before the values end: follow j step by step")
        require(i_star != 160, "a tie (0.69 again) is not an improvement: the test is v' < v, strictly")
        require(i_star == expected[0], f"i* = {i_star} is not the step of the best value before the stop; "
                                       f"after each evaluation, if v' < v set i* = i")
        require(i_stop != expected[1] + n, f"stop as soon as j reaches p = {p} (the loop runs while j < p), "
                                           f"not one evaluation later")
        require(i_stop == i_star + p * n, f"training stops exactly p = {p} evaluations after i*: "
                                          f"at i* + p·n, not at {i_stop}")

    return run_check("Exercise 1 (where does it stop?)", check,
                     f"i* = {expected[0]}, stopped at {expected[1]} = i* + p·n; the last value 0.60 is never seen")


# --------------------------------------------------------------------------- exercise 2
_SEQUENCES = [
    ([0.9, 0.7, 0.8, 0.75, 0.5, 0.6, 0.6, 0.6], 2, 0.0),
    ([0.9, 0.7, 0.8, 0.75, 0.5, 0.6, 0.6, 0.6], 3, 0.0),
    ([1.0, 0.9, 0.95, 0.9, 0.97, 0.8], 2, 0.0),        # a tie is not an improvement
    ([1.0, 0.96, 0.93, 0.95, 0.92, 0.94], 2, 0.05),    # min_delta: small gains do not count
    ([1.0, 0.96, 0.93, 0.95, 0.92, 0.94], 2, 0.0),
    ([0.5, 0.4, 0.3, 0.2], 2, 0.0),                    # never stops
    ([2.0, 1.0, 3.0, 0.5, 4.0, 5.0, 0.1], 2, 0.0),     # the best value after the stop must not be seen
    ([math.nan, 1.0, 1.1, 1.2], 2, 0.0),               # nan is never an improvement
    ([0.3, 0.4, 0.5], 1, 0.0),
]


def check_patience_loop(fn) -> bool:
    """``fn(values, patience, min_delta)`` → ``(i_star, i_stop)``, counted in evaluations (1, 2, ...)."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(values, patience, min_delta), got {type(fn).__name__}")
        for values, patience, min_delta in _SEQUENCES:
            got = fn(list(values), patience, min_delta)
            if got is None:
                raise NotAttempted
            expected = _run_stopper(values, patience, 1, min_delta)
            require(isinstance(got, (tuple, list)) and len(got) == 2,
                    f"return a pair (i_star, i_stop), got {got!r}")
            got = tuple(got)
            if got == expected:
                continue
            where = f"values={values}, patience={patience}, min_delta={min_delta}"
            ties = [v for v in values if not math.isnan(v)]
            require(not (len(set(ties)) < len(ties) and got == _run_stopper_le(values, patience, min_delta)),
                    f"{where}: you counted a tie as an improvement; the test is v' < v − min_delta (strict)")
            require(min_delta == 0 or got != _run_stopper(values, patience, 1, 0.0),
                    f"{where}: min_delta is ignored; an improvement must beat the best by more than min_delta")
            require(got != _run_stopper(values, patience + 1, 1, min_delta),
                    f"{where}: you wait one evaluation too many (p + 1 without improvement); stop as soon as "
                    f"j reaches p, one evaluation late is already too late")
            best = min(range(len(values)), key=lambda k: (math.isnan(values[k]), values[k])) + 1
            require(got[0] != best or expected[0] == best,
                    f"{where}: i* = {got[0]} is the best of ALL the values; the algorithm never sees the "
                    f"values after it stops")
            require(False, f"{where}: expected (i_star, i_stop) = {expected}, got {got}")

    return run_check("Exercise 2 (the patience loop)", check,
                     "your loop stops and remembers i* exactly like algorithm 7.1")


def _run_stopper_le(values, patience, min_delta):
    """The common mistake: ``v' <= v − min_delta`` counts as an improvement."""
    best, i_star, wait = math.inf, 0, 0
    for k, value in enumerate(values, 1):
        if value <= best - min_delta:
            best, i_star, wait = value, k, 0
        else:
            wait += 1
        if wait >= patience:
            return i_star, k
    return i_star, None


# --------------------------------------------------------------------------- exercise 3
EXERCISE_3 = {"lr": 0.05, "momentum": 0.9, "best_step": 400}


def check_equivalent_l2(answer) -> bool:
    """λ ≈ 1/(α_eff τ) with α_eff = lr / (1 − momentum) for the run of exercise 3."""
    lr, beta, tau = EXERCISE_3["lr"], EXERCISE_3["momentum"], EXERCISE_3["best_step"]
    alpha_eff = lr / (1 - beta)
    expected = 1 / (alpha_eff * tau)                          # 0.005

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, numbers.Real) and not isinstance(answer, bool),
                f"give one number (the L2 strength λ), got {type(answer).__name__}")
        value = float(answer)
        require(value > 0, f"an L2 strength is positive, got {value:g}")
        require(not close(value, 1 / (lr * tau), rtol=0.02), "that ignores the momentum: with momentum β a "
                "steady gradient moves the weights by α/(1 − β) per step, so use α_eff = lr/(1 − β)")
        require(not close(value, alpha_eff * tau, rtol=0.02) and not close(value, lr * tau, rtol=0.02),
                "λ ≈ 1/(α τ): longer training and bigger steps mean WEAKER regularization, so λ shrinks with τ")
        require(not close(value, 1 / tau, rtol=0.02), "the step size α_eff matters too: λ ≈ 1/(α_eff τ)")
        require(close(value, expected, rtol=0.02), f"{value:g} is not it: λ ≈ 1/(α_eff · τ) with "
                                                   f"α_eff = lr/(1 − momentum) and τ = i*")

    return run_check("Exercise 3 (the equivalent L2 strength)", check,
                     f"λ ≈ 1/({alpha_eff:g} · {tau}) = {expected:g}")


# --------------------------------------------------------------------------- exercise 4
EXERCISE_4 = {"n_train": 500, "n_val": 500, "batch_size": 50, "best_epoch": 8}


def _whole(value) -> bool:
    """An int, or a float with a whole value (4.0)."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))
            and float(value).is_integer())


def check_retrain_budget(answer) -> bool:
    """``answer = (epochs_same_updates, steps_same_passes)`` for retraining on all the data (algorithm 7.2)."""
    cfg = EXERCISE_4
    before = math.ceil(cfg["n_train"] / cfg["batch_size"])                        # 10 steps per epoch
    after = math.ceil((cfg["n_train"] + cfg["n_val"]) / cfg["batch_size"])        # 20 steps per epoch
    i_star = cfg["best_epoch"] * before                                            # 80 steps
    expected = (i_star / after, cfg["best_epoch"] * after)                        # (4, 160)

    def check() -> None:
        if answer is None:
            raise NotAttempted
        require(isinstance(answer, (tuple, list)) and len(answer) == 2,
                f"give a pair (epochs_same_updates, steps_same_passes), got {answer!r}")
        epochs, steps = answer
        if epochs is None and steps is None:
            raise NotAttempted
        require(_whole(epochs) and _whole(steps), f"both entries are whole numbers (epochs, steps), got {answer!r}")
        epochs, steps = float(epochs), float(steps)
        require(not (epochs == cfg["best_epoch"] and steps == i_star),
                f"that keeps both numbers as they were; with {cfg['n_train'] + cfg['n_val']} images an epoch has "
                f"{after} steps instead of {before}, so the two ways of retraining no longer agree")
        require(epochs != cfg["best_epoch"] * after / before,
                f"the same number of updates on twice the data takes FEWER epochs, not more: i* = "
                f"{cfg['best_epoch']} epochs x {before} steps = {i_star} updates")
        require(epochs == expected[0], f"{epochs:g} epochs is not it: i* = {cfg['best_epoch']} epochs x {before} steps "
                                       f"= {i_star} updates; how many epochs of {after} steps is that?")
        require(steps != i_star, f"{i_star} steps is the same number of updates; the same number of passes over "
                                 f"{cfg['n_train'] + cfg['n_val']} images is {cfg['best_epoch']} epochs of {after} steps")
        require(steps == expected[1], f"{steps:g} steps is not it: {cfg['best_epoch']} passes, each of "
                                      f"{cfg['n_train'] + cfg['n_val']} images in batches of {cfg['batch_size']}")

    return run_check("Exercise 4 (retraining on all the data)", check,
                     f"{int(expected[0])} epochs give the same {i_star} updates; the same {cfg['best_epoch']} passes take "
                     f"{expected[1]} steps")
