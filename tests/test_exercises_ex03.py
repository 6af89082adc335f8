"""Each checker of notebook 03 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import math

import pytest
import torch

from course_lib.dropout import dropout_mask
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


# ----------------------------------------------------------------- exercises 2 and 3: forward and backward
def right_forward(x, p, mode, mask=None, generator=None):
    if mode == "test":
        return x, (None, p, mode)
    if mask is None:
        mask = (torch.rand(x.shape, generator=generator) >= p).to(x.dtype)
    return x * mask / (1 - p), (mask, p, mode)


def right_backward(dout, cache):
    mask, p, mode = cache
    return dout if mode == "test" else dout * mask / (1 - p)


def library_forward(x, p, mode, mask=None, generator=None):
    """The same, drawing the mask exactly as course_lib (and F.dropout on the CPU) do."""
    if mode == "test":
        return x.clone(), {"mode": mode}
    if mask is None:
        mask = dropout_mask(x, p, generator=generator)
    return x * (mask / (1 - p)), {"mode": mode, "scaled_mask": mask / (1 - p)}


def library_backward(dout, cache):
    return dout.clone() if cache["mode"] == "test" else dout * cache["scaled_mask"]


def _forward(keep_rule=lambda u, p: u >= p, scale=lambda p: 1 / (1 - p), test=lambda x, p: x, use_mask=True,
             use_generator=True, returns_pair=True, in_place=False):
    """A forward pass with one part replaced (the typical mistakes)."""
    def forward(x, p, mode, mask=None, generator=None):
        if mode == "test":
            out = test(x, p)
            return (out, (None, p, mode)) if returns_pair else out
        if mask is None or not use_mask:
            u = torch.rand(x.shape, generator=generator if use_generator else None)
            mask = keep_rule(u, p).to(x.dtype)
        out = x.mul_(mask * scale(p)) if in_place else x * mask * scale(p)
        return (out, (mask, p, mode)) if returns_pair else out
    return forward


def test_ex2_not_attempted(capsys):
    def untouched(x, p, mode, mask=None, generator=None):
        raise NotImplementedError

    assert not ex03.check_dropout_forward(None)
    assert not ex03.check_dropout_forward(untouched)
    assert not ex03.check_dropout_forward(lambda x, p, mode, mask=None, generator=None: None)
    assert _verdict(capsys).count("[not attempted]") == 3


@pytest.mark.parametrize("wrong, hint", [
    (_forward(keep_rule=lambda u, p: u < p), "KEEP probability"),
    (_forward(scale=lambda p: 1.0), "forgot to scale by 1/p_keep"),
    (_forward(scale=lambda p: 1 / p), "the DROP probability"),
    (_forward(scale=lambda p: 1 - p), "DIVIDES"),
    (_forward(test=lambda x, p: x * (1 - p)), "scaled at test time too"),
    (_forward(test=lambda x, p: x / (1 - p)), "identity"),
    (_forward(test=lambda x, p: x * (torch.rand(x.shape) >= p)), "no unit is dropped"),
    (_forward(use_mask=False), "when a mask is given, use it"),
    (_forward(keep_rule=lambda u, p: u < 1 - p, use_mask=False), "when a mask is given, use it"),
    (_forward(use_generator=False), "generator passed in"),
    (_forward(returns_pair=False), "(out, cache)"),
    (_forward(in_place=True), "in place"),
    (lambda x, p, mode, mask=None, generator=None: (x * (1 - mask) / (1 - p), None) if mode == "train" else (x, None),
     "KEEPS"),
    (lambda x, p, mode, mask=None, generator=None: (x[:10], None), "shape"),
    (lambda x, p, mode, mask=None, generator=None: ([0.0], None), "must be a tensor"),
    (lambda x, p, mode: (x, None), "raised TypeError"),
])
def test_ex2_rejects_wrong_forward(capsys, wrong, hint):
    assert not ex03.check_dropout_forward(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_inverted_dropout(capsys):
    assert ex03.check_dropout_forward(right_forward)
    assert ex03.check_dropout_forward(library_forward)
    assert _verdict(capsys).count("[correct]") == 2


def test_ex2_and_ex3_leave_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    ex03.check_dropout_forward(right_forward)
    ex03.check_dropout_backward(right_forward, right_backward)
    assert torch.equal(torch.rand(3), expected)


def test_ex3_not_attempted(capsys):
    def untouched(dout, cache):
        raise NotImplementedError

    def forward_untouched(x, p, mode, mask=None, generator=None):
        raise NotImplementedError

    assert not ex03.check_dropout_backward(right_forward, None)
    assert not ex03.check_dropout_backward(right_forward, untouched)
    assert not ex03.check_dropout_backward(forward_untouched, untouched)
    assert not ex03.check_dropout_backward(right_forward, lambda dout, cache: None)
    assert _verdict(capsys).count("[not attempted]") == 4


def _redrawn(dout, cache):
    mask, p, mode = cache
    if mode == "test":
        return dout
    return dout * (torch.rand(dout.shape) >= p) / (1 - p)


def _test_scaled(dout, cache):
    mask, p, mode = cache
    return dout * (1 - p) if mode == "test" else dout * mask / (1 - p)


def _test_masked(dout, cache):
    mask, p, mode = cache
    return dout * (torch.rand(dout.shape) >= p) if mode == "test" else dout * mask / (1 - p)


@pytest.mark.parametrize("wrong, hint", [
    (lambda dout, cache: dout, "multiply dout by the mask"),
    (lambda dout, cache: dout * cache[0] if cache[2] == "train" else dout, "forgot the 1/(1 - p) factor"),
    (lambda dout, cache: dout * cache[0] / cache[1] if cache[2] == "train" else dout, "the drop probability"),
    (lambda dout, cache: dout * cache[0] * (1 - cache[1]) if cache[2] == "train" else dout, "divided by it"),
    (_redrawn, "use the mask saved in the cache"),
    (_test_scaled, "dx = dout (no scaling)"),
    (_test_masked, "dx = dout (no mask)"),
    (lambda dout, cache: dout.mul_(cache[0] / (1 - cache[1])) if cache[2] == "train" else dout, "in place"),
    (lambda dout, cache: (dout * cache[0] / (1 - cache[1]))[:5] if cache[2] == "train" else dout, "shape"),
    (lambda dout, cache: 0.0, "must return a tensor"),
])
def test_ex3_rejects_wrong_backward(capsys, wrong, hint):
    assert not ex03.check_dropout_backward(right_forward, wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_asks_to_fix_the_forward_first(capsys):
    assert not ex03.check_dropout_backward(_forward(scale=lambda p: 1.0), right_backward)
    assert "fix it first" in _verdict(capsys)


def test_ex3_accepts_the_gradient(capsys):
    assert ex03.check_dropout_backward(right_forward, right_backward)
    assert ex03.check_dropout_backward(library_forward, library_backward)
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 4
def right_mc(model, x, n_samples):
    was = model.training
    model.train()
    with torch.no_grad():
        probs = torch.stack([model(x).softmax(1) for _ in range(n_samples)]).mean(0)
    model.train(was)
    return probs


def test_ex4_not_attempted(capsys):
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
def test_ex4_rejects_wrong_averages(capsys, wrong, hint):
    assert not ex03.check_mc_average(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex4_rejects_an_average_of_the_wrong_thing(capsys):
    def sharpened(model, x, n):  # averages the probabilities of a different (tempered) model
        p = right_mc(model, x, n)
        return p.pow(3) / p.pow(3).sum(1, keepdim=True)

    assert not ex03.check_mc_average(sharpened)
    assert "away from a 1000-mask average" in _verdict(capsys)


def test_ex4_accepts_mc_dropout(capsys):
    from course_lib.dropout import mc_predict

    assert ex03.check_mc_average(right_mc)
    assert ex03.check_mc_average(mc_predict)
    assert _verdict(capsys).count("[correct]") == 2
