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


# ----------------------------------------------------------------- exercise 4: running averages and eval mode
def _update(weight="new", correction=1):
    def update(x, running_mean, running_var, momentum):
        w = momentum if weight == "new" else 1 - momentum
        return ((1 - w) * running_mean + w * x.mean(0),
                (1 - w) * running_var + w * x.var(0, correction=correction))
    return update


def _eval(kind="running"):
    def eval_forward(x, running_mean, running_var, gamma, beta, eps=1e-5):
        if kind == "batch":
            running_mean, running_var = x.mean(0), x.var(0, correction=0)
        denom = torch.sqrt(running_var) if kind == "no_eps" else torch.sqrt(running_var + eps)
        return gamma * (x - running_mean) / denom + beta
    return eval_forward


def test_running_averages_right_answer_passes(capsys):
    assert ex09.check_running_averages(_update(), _eval())
    assert _out(capsys).startswith("[correct]")


def test_running_averages_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    assert ex09.check_running_averages(None, None).status == "not attempted"
    assert ex09.check_running_averages(stub, stub).status == "not attempted"
    assert ex09.check_running_averages(_update(), stub).status == "not attempted"


@pytest.mark.parametrize("update, eval_forward, hint", [
    (_update(weight="old"), _eval(), "momentum convention is reversed"),
    (_update(correction=0), _eval(), "biased batch variance"),
    (_update(), _eval("batch"), "normalizes with the statistics of the batch it is given"),
    (_update(), _eval("no_eps"), "eps is missing"),
    (lambda x, m, v, mom: (m, v), _eval(), "running_mean differs from nn.BatchNorm1d's"),
    (lambda x, m, v, mom: m, _eval(), "must return the pair (running_mean, running_var)"),
])
def test_running_averages_slips_get_their_hint(capsys, update, eval_forward, hint):
    assert not ex09.check_running_averages(update, eval_forward)
    out = _out(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 5: folding batch norm into a Linear
def _fold(kind="right", as_module=False):
    def fold(linear, bn):
        w, b = linear.weight.detach(), linear.bias.detach()
        var = bn.running_var + (0 if kind == "no_eps" else bn.eps)
        std = var if kind == "var" else torch.sqrt(var)
        s = bn.weight.detach() / std
        bias = {"right": s * (b - bn.running_mean) + bn.bias.detach(), "no_eps": None, "var": None,
                "lost_bias": bn.bias.detach() - s * bn.running_mean,
                "unscaled_bias": b - s * bn.running_mean + bn.bias.detach(),
                "no_beta": s * (b - bn.running_mean)}[kind]
        if bias is None:
            bias = s * (b - bn.running_mean) + bn.bias.detach()
        weight = s[:, None] * w
        if not as_module:
            return weight, bias
        out = torch.nn.Linear(w.shape[1], w.shape[0]).double()
        with torch.no_grad():
            out.weight.copy_(weight)
            out.bias.copy_(bias)
        return out
    return fold


def test_fold_right_answers_pass(capsys):
    assert ex09.check_fold_bn(_fold())
    assert ex09.check_fold_bn(_fold(as_module=True))
    assert _out(capsys).count("[correct]") == 2


def test_fold_not_attempted(capsys):
    def stub(linear, bn):
        raise NotImplementedError

    assert ex09.check_fold_bn(None).status == "not attempted"
    assert ex09.check_fold_bn(stub).status == "not attempted"


@pytest.mark.parametrize("fold, hint", [
    (_fold("no_eps"), "eps is missing"),
    (_fold("var"), "divides by the variance"),
    (_fold("lost_bias"), "bias is lost"),
    (_fold("unscaled_bias"), "added unscaled"),
    (_fold("no_beta"), "beta is missing"),
    (lambda linear, bn: (linear.weight.detach().T, linear.bias.detach()), "(out_features, in_features)"),
    (lambda linear, bn: (linear.weight.detach() * 2, linear.bias.detach()), "differs from bn(linear(x))"),
    (lambda linear, bn: linear, "differs from bn(linear(x))"),
])
def test_fold_slips_get_their_hint(capsys, fold, hint):
    assert not ex09.check_fold_bn(fold)
    out = _out(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_fold_must_not_change_the_given_layers(capsys):
    def in_place(linear, bn):
        weight, bias = _fold()(linear, bn)
        with torch.no_grad():
            linear.weight.copy_(weight)
        return weight, bias

    assert not ex09.check_fold_bn(in_place)
    assert "fold changed the given Linear layer's weight" in _out(capsys)
