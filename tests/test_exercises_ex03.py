"""Each checker of notebook 03 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import math

import pytest
import torch

from course_lib.exercises import ex03


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def _pmf(k, q=0.6):
    return math.comb(10, k) * q**k * (1 - q) ** (10 - k)


def test_ex1_not_attempted(capsys):
    assert not ex03.check_at_most_five_kept(None)
    assert _verdict(capsys).startswith("[not attempted]")


@pytest.mark.parametrize("wrong, hint", [
    (sum(_pmf(k) for k in range(5)), "includes K = 5"),
    (_pmf(5), "P(K = 5) only"),
    (sum(_pmf(k) for k in range(5, 11)), "at least 5 kept"),
    (sum(_pmf(k, 0.4) for k in range(6)), "at most 5 DROPPED"),  # the same number: K_kept >= 5 <=> K_dropped <= 5
    (0.6, "ONE unit is kept"),
    (0.5, "Binomial"),
    (1.7, "lies in [0, 1]"),
    ("0.37", "one number"),
])
def test_ex1_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex03.check_at_most_five_kept(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_accepts_the_binomial_probability(capsys):
    assert ex03.check_at_most_five_kept(sum(_pmf(k) for k in range(6)))
    assert ex03.check_at_most_five_kept(0.3669)
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 2
def right_dropout(x, p, training=True):
    if not training:
        return x
    return x * (torch.rand_like(x) >= p) / (1 - p)


def test_ex2_not_attempted(capsys):
    def untouched(x, p, training=True):
        raise NotImplementedError

    assert not ex03.check_inverted_dropout(None)
    assert not ex03.check_inverted_dropout(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, p, training=True: x * (torch.rand_like(x) < p) / p if training else x, "DROP probability"),
    (lambda x, p, training=True: x * (torch.rand_like(x) >= p) if training else x, "vanilla dropout"),
    (lambda x, p, training=True: x * (torch.rand_like(x) >= p) * 2 if training else x, "divide by the keep"),
    (lambda x, p, training=True: x * (torch.rand_like(x) >= p) / (1 - p) if training else x * (1 - p), "identity"),
    (lambda x, p, training=True: x * (torch.rand(x.shape, generator=torch.Generator().manual_seed(0)) >= p) / (1 - p),
     "fresh mask"),
    (lambda x, p, training=True: x.mul_((torch.rand_like(x) >= p) / (1 - p)), "in place"),
    (lambda x, p, training=True: (x * (torch.rand_like(x) >= p) / (1 - p))[:10], "shape"),
    (lambda x, p, training=True: [0.0], "return a tensor"),
])
def test_ex2_rejects_wrong_dropouts(capsys, wrong, hint):
    assert not ex03.check_inverted_dropout(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_inverted_dropout(capsys):
    from course_lib.dropout import inverted_dropout

    assert ex03.check_inverted_dropout(right_dropout)
    assert ex03.check_inverted_dropout(inverted_dropout)
    assert _verdict(capsys).count("[correct]") == 2


def test_ex2_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    ex03.check_inverted_dropout(right_dropout)
    assert torch.equal(torch.rand(3), expected)


# ----------------------------------------------------------------- exercise 3
def right_mc(model, x, n_samples):
    was = model.training
    model.train()
    with torch.no_grad():
        probs = torch.stack([model(x).softmax(1) for _ in range(n_samples)]).mean(0)
    model.train(was)
    return probs


def test_ex3_not_attempted(capsys):
    def untouched(model, x, n_samples):
        raise NotImplementedError

    assert not ex03.check_mc_average(None)
    assert not ex03.check_mc_average(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


def _no_restore(model, x, n):
    model.train()
    with torch.no_grad():
        return torch.stack([model(x).softmax(1) for _ in range(n)]).mean(0)


def _logits(model, x, n):
    was = model.training
    model.train()
    with torch.no_grad():
        out = torch.stack([model(x) for _ in range(n)]).mean(0)
    model.train(was)
    return out


def _dropout_off(model, x, n):
    with torch.no_grad():
        return torch.stack([model(x).softmax(1) for _ in range(n)]).mean(0)


def _one_pass(model, x, n):
    return right_mc(model, x, 1)


@pytest.mark.parametrize("wrong, hint", [
    (_no_restore, "restore its mode"),
    (_logits, "not the logits"),
    (_dropout_off, "stay ON"),
    (_one_pass, "equally noisy"),
    (lambda model, x, n: right_mc(model, x, n)[:, :2], "shape"),
])
def test_ex3_rejects_wrong_averages(capsys, wrong, hint):
    assert not ex03.check_mc_average(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_rejects_an_average_of_the_wrong_thing(capsys):
    def sharpened(model, x, n):  # averages the probabilities of a different (tempered) model
        p = right_mc(model, x, n)
        return p.pow(3) / p.pow(3).sum(1, keepdim=True)

    assert not ex03.check_mc_average(sharpened)
    assert "away from a 1000-mask average" in _verdict(capsys)


def test_ex3_accepts_mc_dropout(capsys):
    from course_lib.dropout import mc_predict

    assert ex03.check_mc_average(right_mc)
    assert ex03.check_mc_average(mc_predict)
    assert _verdict(capsys).count("[correct]") == 2
