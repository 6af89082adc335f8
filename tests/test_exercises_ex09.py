"""Each checker of notebook 09 says not-attempted, names the typical slip, and accepts the right answer."""

import pytest
import torch

from course_lib.exercises import ex09
from course_lib.normalization import batch_norm_backward, batch_norm_forward


def _out(capsys):
    return capsys.readouterr().out.strip()


def _forward(var="biased", eps="inside", axis=0, affine=True, swap=False):
    def fn(x, gamma, beta, eps_value=1e-5):
        mu = x.mean(axis, keepdim=True)
        v = x.var(axis, keepdim=True, correction=0 if var == "biased" else 1)
        xh = (x - mu) / (torch.sqrt(v + eps_value) if eps == "inside" else torch.sqrt(v) + eps_value)
        g, b = (beta, gamma) if swap else (gamma, beta)
        out = g * xh + b if affine else xh
        return out, (x, xh, gamma, mu, v, eps_value)
    return fn


def right_forward(x, gamma, beta, eps=1e-5):
    return _forward()(x, gamma, beta, eps)


def _backward(dx_kind="right", dgamma_kind="right", dbeta_kind="right"):
    def fn(dout, cache):
        x, xh, gamma, mu, var, eps = cache
        m = x.shape[0]
        inv = 1 / torch.sqrt(var + eps)
        dxh = dout * gamma
        dx = {"right": inv * (dxh - dxh.mean(0) - xh * (dxh * xh).mean(0)),
              "constants": dxh * inv,
              "no_mean": inv * (dxh - xh * (dxh * xh).mean(0)),
              "no_var": inv * (dxh - dxh.mean(0))}[dx_kind]
        dgamma = {"right": (dout * xh).sum(0), "no_xhat": dout.sum(0), "mean": (dout * xh).mean(0),
                  "axis": (dout * xh).sum(1)}[dgamma_kind]
        dbeta = {"right": dout.sum(0), "mean": dout.mean(0), "axis": dout.sum(1)}[dbeta_kind]
        return dx, dgamma, dbeta
    return fn


def test_forward_not_attempted(capsys):
    def stub(x, gamma, beta, eps=1e-5):
        raise NotImplementedError

    assert ex09.check_bn_forward(None).status == "not attempted"
    assert ex09.check_bn_forward(stub).status == "not attempted"


def test_forward_right_answers_pass(capsys):
    assert ex09.check_bn_forward(right_forward)
    assert ex09.check_bn_forward(batch_norm_forward)
    assert _out(capsys).count("[correct]") == 2


@pytest.mark.parametrize("kwargs, hint", [
    (dict(var="unbiased"), "divides by m − 1"),
    (dict(eps="outside"), "eps is added outside the square root"),
    (dict(axis=1), "wrong axis"),
    (dict(affine=False), "scale and shift"),
    (dict(swap=True), "swapped"),
])
def test_forward_slips_get_their_hint(capsys, kwargs, hint):
    assert not ex09.check_bn_forward(_forward(**kwargs))
    out = _out(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_forward_bad_returns(capsys):
    assert not ex09.check_bn_forward(lambda x, g, b, e: x)
    assert "return a pair (out, cache)" in _out(capsys)
    assert not ex09.check_bn_forward(lambda x, g, b, e: (x[:3], None))
    assert "out must have the shape of x" in _out(capsys)
    assert not ex09.check_bn_forward(lambda x, g, b, e: (x * 2, None))
    assert "differs from torch's batch norm" in _out(capsys)


def test_backward_right_answers_pass(capsys):
    assert ex09.check_bn_backward(right_forward, _backward())
    assert ex09.check_bn_backward(batch_norm_forward, batch_norm_backward)
    assert _out(capsys).count("[correct]") == 2


def test_backward_not_attempted_and_needs_a_right_forward(capsys):
    def stub(dout, cache):
        raise NotImplementedError

    assert ex09.check_bn_backward(right_forward, None).status == "not attempted"
    assert ex09.check_bn_backward(right_forward, stub).status == "not attempted"
    assert not ex09.check_bn_backward(_forward(var="unbiased"), _backward())
    assert "make exercise 1 pass first" in _out(capsys)


@pytest.mark.parametrize("kwargs, hint", [
    (dict(dx_kind="constants"), "treats μ and σ² as constants"),
    (dict(dx_kind="no_mean"), "missing the path through the mean"),
    (dict(dx_kind="no_var"), "missing the path through the variance"),
    (dict(dgamma_kind="no_xhat"), "dgamma is the sum of dout"),
    (dict(dgamma_kind="mean"), "dgamma is a mean over the batch"),
    (dict(dgamma_kind="axis"), "summed over the wrong axis"),
    (dict(dbeta_kind="mean"), "dbeta is a mean over the batch"),
    (dict(dbeta_kind="axis"), "summed over the wrong axis"),
])
def test_backward_slips_get_their_hint(capsys, kwargs, hint):
    assert not ex09.check_bn_backward(right_forward, _backward(**kwargs))
    out = _out(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_backward_bad_returns(capsys):
    assert not ex09.check_bn_backward(right_forward, lambda d, c: d)
    assert "return a triple (dx, dgamma, dbeta)" in _out(capsys)


def test_axes(capsys):
    assert ex09.check_norm_axes(None).status == "not attempted"
    assert ex09.check_norm_axes({"BatchNorm2d": None, "LayerNorm": None, "InstanceNorm2d": None}).status == \
        "not attempted"
    assert ex09.check_norm_axes(dict(ex09.NORM_AXES))
    assert ex09.check_norm_axes({"BatchNorm2d": [0, -2, -1], "LayerNorm": {1, 2, 3}, "InstanceNorm2d": (2, 3)})
    wrong = [({"BatchNorm2d": (0, 1, 2, 3), "LayerNorm": (1, 2, 3), "InstanceNorm2d": (2, 3)},
              "BatchNorm2d: it does not average over axis 1"),
             ({"BatchNorm2d": (0, 2, 3), "LayerNorm": (2, 3), "InstanceNorm2d": (2, 3)},
              "LayerNorm: it also averages over axis 1"),
             ({"BatchNorm2d": (0, 2, 3), "LayerNorm": (1, 2, 3), "InstanceNorm2d": (0, 2, 3)},
              "InstanceNorm2d: it does not average over axis 0"),
             ({"BatchNorm2d": (0, 2, 3)}, "missing ['InstanceNorm2d', 'LayerNorm']"),
             ({"BatchNorm2d": "0, 2, 3", "LayerNorm": (1, 2, 3), "InstanceNorm2d": (2, 3)}, "tuple of ints"),
             ([0, 2, 3], "give a dict")]
    capsys.readouterr()
    for answer, hint in wrong:
        assert not ex09.check_norm_axes(answer)
        out = _out(capsys)
        assert out.startswith("[wrong]") and hint in out, out
