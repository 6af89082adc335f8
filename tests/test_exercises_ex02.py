"""Each checker of notebook 02 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_lib.exercises import ex02


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def test_ex1_not_attempted(capsys):
    assert not ex02.check_elastic_net_value(None)
    assert _verdict(capsys).startswith("[not attempted]")


@pytest.mark.parametrize("wrong, hint", [
    (0.25 * 8 + 0.75 * 26, "deck 001's convention"),
    (0.25 * 8 + 0.375 * 26, "swapped"),
    (0.25 * 26 + 0.75 * 8, "(1 - r)/2, not (1 - r)"),
    (0.25 * math.sqrt(26) + 0.375 * 8, "SQUARED norm"),
    (0.25 * 13 + 0.375 * 8, "without a ½"),
    (0.25 * 26 + 0.375 * 6, "ABSOLUTE values"),
    (7.0, "R_ridge = Σ w_i²"),
    ("9.5", "one number"),
    (True, "one number"),
])
def test_ex1_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex02.check_elastic_net_value(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_accepts_the_lecture_value(capsys):
    from course_lib.regularizers import elastic_net_penalty

    assert ex02.check_elastic_net_value(9.5)
    assert ex02.check_elastic_net_value(elastic_net_penalty(torch.tensor([3.0, -4.0, 0.0, 1.0]), 0.25).item())
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 2
def test_ex2_not_attempted(capsys):
    def untouched(w, t):
        raise NotImplementedError

    assert not ex02.check_soft_threshold(None)
    assert not ex02.check_soft_threshold(untouched)
    assert not ex02.check_soft_threshold(lambda w, t: None)
    assert _verdict(capsys).count("[not attempted]") == 3


def _in_place(w, t):
    w.copy_(w.sign() * (w.abs() - t).clamp(min=0))
    return w


@pytest.mark.parametrize("wrong, hint", [
    (lambda w, t: (w - t).clamp(min=0), "negative weight became 0"),
    (lambda w, t: w - t * w.sign(), "exactly 0"),
    (lambda w, t: w * (w.abs() > t), "hard thresholding"),
    (lambda w, t: w.sign() * (w.abs() - 0.3).clamp(min=0), "threshold t you are given"),
    (lambda w, t: w.sign() * (w.abs() - t).clamp(min=0) * (w.abs() != t) + (w.abs() == t) * w, "at |w| = t"),
    (_in_place, "in place"),
    (lambda w, t: w.flatten().sign() * (w.flatten().abs() - t).clamp(min=0), "shape"),
    (lambda w, t: [0.0], "return a tensor"),
    (3.0, "give a function"),
])
def test_ex2_rejects_wrong_thresholds(capsys, wrong, hint):
    assert not ex02.check_soft_threshold(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_soft_thresholding(capsys):
    assert ex02.check_soft_threshold(lambda w, t: w.sign() * (w.abs() - t).clamp(min=0))
    assert ex02.check_soft_threshold(lambda w, t: F.softshrink(w, t))
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 3
def test_ex3_not_attempted(capsys):
    def untouched(W, c):
        raise NotImplementedError

    assert not ex02.check_max_norm_rows(None)
    assert not ex02.check_max_norm_rows(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


def _max_norm_in_place(W, c):
    W.mul_((c / W.norm(dim=1, keepdim=True)).clamp(max=1.0))
    return W


@pytest.mark.parametrize("wrong, hint", [
    (lambda W, c: W / W.norm(dim=1, keepdim=True) * c, "exactly c: rows already inside"),
    (lambda W, c: torch.renorm(W, 2, 1, c), "COLUMNS"),
    (lambda W, c: W * min(1.0, c / W.norm().item()), "Frobenius"),
    (lambda W, c: W.clone(), "norm above c"),
    (lambda W, c: torch.where(W.norm(dim=1, keepdim=True) > c, W / W.norm(dim=1, keepdim=True), W), "norm exactly c"),
    (lambda W, c: torch.where(W.norm(dim=1, keepdim=True) > c, W * 0.5 * c / W.norm(dim=1, keepdim=True), W),
     "norm exactly c"),
    (lambda W, c: W * 0.5, "stay exactly as they are"),
    (_max_norm_in_place, "in place"),
    (lambda W, c: W[:3], "shape"),
    (lambda W, c: W.tolist(), "return a tensor"),
])
def test_ex3_rejects_wrong_projections(capsys, wrong, hint):
    assert not ex02.check_max_norm_rows(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_accepts_the_row_projection(capsys):
    from course_lib.regularizers import max_norm_

    assert ex02.check_max_norm_rows(lambda W, c: W * (c / W.norm(dim=1, keepdim=True)).clamp(max=1.0))
    assert ex02.check_max_norm_rows(lambda W, c: max_norm_(W.clone(), c, "row"))
    assert ex02.check_max_norm_rows(lambda W, c: torch.renorm(W, 2, 0, c))
    assert _verdict(capsys).count("[correct]") == 3
