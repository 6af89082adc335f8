"""Each checker of notebook 05 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import math

import pytest

from course_lib.early_stopping import EarlyStopper
from course_lib.exercises import ex05


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def test_ex1_not_attempted(capsys):
    assert not ex05.check_stop_step(None)
    assert not ex05.check_stop_step((None, None))
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    ((5, 8), "evaluation numbers"),
    ((100, 170), "multiples of 20"),
    ((200, None), "does run out"),
    ((160, 220), "tie"),
    ((60, 160), "i* = 60 is not"),
    ((100, 180), "one evaluation later"),
    ((100, 140), "i* + p·n"),
    ((100,), "a pair"),
    (("100", "160"), "ints"),
])
def test_ex1_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex05.check_stop_step(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_accepts_the_right_steps(capsys):
    assert ex05.check_stop_step((100, 160))
    assert ex05.check_stop_step([100, 160])
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 2
def right_loop(values, patience, min_delta=0.0):
    best, i_star, wait = math.inf, 0, 0
    for k, v in enumerate(values, 1):
        if v < best - min_delta:
            best, i_star, wait = v, k, 0
        else:
            wait += 1
        if wait >= patience:
            return i_star, k
    return i_star, None


def with_stopper(values, patience, min_delta=0.0):
    s = EarlyStopper(patience, min_delta=min_delta)
    for k, v in enumerate(values, 1):
        if s.update(v, k):
            break
    return s.best_step, s.stop_step


def ties_improve(values, patience, min_delta=0.0):
    best, i_star, wait = math.inf, 0, 0
    for k, v in enumerate(values, 1):
        if v <= best - min_delta:
            best, i_star, wait = v, k, 0
        else:
            wait += 1
        if wait >= patience:
            return i_star, k
    return i_star, None


def no_min_delta(values, patience, min_delta=0.0):
    return right_loop(values, patience, 0.0)


def one_late(values, patience, min_delta=0.0):
    best, i_star, wait = math.inf, 0, 0
    for k, v in enumerate(values, 1):
        if v < best - min_delta:
            best, i_star, wait = v, k, 0
        else:
            wait += 1
        if wait > patience:
            return i_star, k
    return i_star, None


def global_best(values, patience, min_delta=0.0):
    stop = right_loop(values, patience, min_delta)[1]
    finite = [(v, k) for k, v in enumerate(values, 1) if not math.isnan(v)]
    return min(finite)[1], stop


def test_ex2_not_attempted(capsys):
    def untouched(values, patience, min_delta=0.0):
        raise NotImplementedError

    assert not ex05.check_patience_loop(None)
    assert not ex05.check_patience_loop(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (ties_improve, "tie"),
    (no_min_delta, "min_delta is ignored"),
    (one_late, "one evaluation too many"),
    (global_best, "best of ALL the values"),
    (lambda values, patience, min_delta=0.0: (1, len(values)), "expected (i_star, i_stop)"),
    (lambda values, patience, min_delta=0.0: 3, "return a pair"),
])
def test_ex2_rejects_wrong_loops(capsys, wrong, hint):
    assert not ex05.check_patience_loop(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_the_algorithm(capsys):
    assert ex05.check_patience_loop(right_loop)
    assert ex05.check_patience_loop(with_stopper)
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 3
def test_ex3_not_attempted(capsys):
    assert not ex05.check_equivalent_l2(None)
    assert _verdict(capsys).startswith("[not attempted]")


@pytest.mark.parametrize("wrong, hint", [
    (1 / (0.05 * 400), "ignores the momentum"),
    (0.5 * 400, "WEAKER"),
    (0.05 * 400, "WEAKER"),
    (1 / 400, "step size"),
    (0.01, "is not it"),
    (-0.005, "positive"),
    ("0.005", "one number"),
])
def test_ex3_rejects_wrong_strengths(capsys, wrong, hint):
    assert not ex05.check_equivalent_l2(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_accepts_one_over_alpha_tau(capsys):
    from course_lib.early_stopping import equivalent_l2

    assert ex05.check_equivalent_l2(0.005)
    assert ex05.check_equivalent_l2(equivalent_l2(0.05 / (1 - 0.9), 400))
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 4
def test_ex4_not_attempted(capsys):
    assert not ex05.check_retrain_budget(None)
    assert not ex05.check_retrain_budget((None, None))
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    ((8, 80), "keeps both numbers"),
    ((16, 160), "FEWER epochs"),
    ((2, 160), "2 epochs is not it"),
    ((4, 80), "same number of updates"),
    ((4, 320), "320 steps is not it"),
    ((4.5, 160), "whole numbers"),
    ((4,), "a pair"),
    (("4", "160"), "whole numbers"),
])
def test_ex4_rejects_wrong_budgets(capsys, wrong, hint):
    assert not ex05.check_retrain_budget(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex4_accepts_both_budgets(capsys):
    assert ex05.check_retrain_budget((4, 160))
    assert ex05.check_retrain_budget([4.0, 160.0])
    assert _verdict(capsys).count("[correct]") == 2
