"""Each checker of notebook 08 says not-attempted, names the typical slip, and accepts the right answer."""

import math

import pytest
import torch

from course_lib import init as ci
from course_lib.exercises import ex08


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1: He initialization
def _he(fan=lambda w: w.shape[1] * math.prod(w.shape[2:]), formula=lambda f: math.sqrt(2 / f), uniform=False,
        no_grad=True, in_place=True, use_generator=True):
    def fn(tensor, generator=None):
        std = formula(fan(tensor))
        g = generator if use_generator else None
        ctx = torch.no_grad() if no_grad else torch.enable_grad()
        with ctx:
            if not in_place:
                return torch.randn(tensor.shape, generator=g) * std
            if uniform:
                return tensor.uniform_(-math.sqrt(3) * std, math.sqrt(3) * std, generator=g)
            return tensor.normal_(0, std, generator=g)
    return fn


def test_ex1_right_answers_pass(capsys):
    assert ex08.check_kaiming_normal(_he())
    assert ex08.check_kaiming_normal(lambda w, generator=None: ci.kaiming_normal_(w, nonlinearity="relu",
                                                                                 generator=generator))
    assert _verdict(capsys).count("[correct]") == 2


def test_ex1_not_attempted(capsys):
    def stub(tensor, generator=None):
        raise NotImplementedError

    assert ex08.check_kaiming_normal(None).status == "not attempted"
    assert ex08.check_kaiming_normal(stub).status == "not attempted"
    assert ex08.check_kaiming_normal(lambda t, generator=None: None).status == "not attempted"


@pytest.mark.parametrize("wrong, hint", [
    (_he(fan=lambda w: w.shape[0] * math.prod(w.shape[2:])), "number of OUTPUTS"),
    (_he(fan=lambda w: w.shape[1]), "kernel area"),
    (_he(fan=lambda w: w.shape[1] * (w.shape[2] if w.dim() > 2 else 1)), "one side of the kernel"),
    (_he(formula=lambda f: 2 / f), "VARIANCE"),
    (_he(formula=lambda f: math.sqrt(1 / f)), "gain"),
    (_he(formula=lambda f: 2 / math.sqrt(f)), "the 2 belongs under the square root"),
    (_he(formula=lambda f: math.sqrt(f / 2)), "instead of multiplying"),
    (_he(fan=lambda w: ci.fan_in_and_fan_out(w)[0] / 2 + ci.fan_in_and_fan_out(w)[1] / 2), "average of the fans"),
    (_he(uniform=True), "uniform draws"),
    (_he(no_grad=False), "torch.no_grad()"),
    (_he(in_place=False), "IN PLACE"),
    (_he(use_generator=False), "generator=generator"),
    (42, "give a function"),
])
def test_ex1_typical_slips_get_their_hint(capsys, wrong, hint):
    assert not ex08.check_kaiming_normal(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_slips_are_distinguishable_from_the_right_std():
    for shape in (ex08._LINEAR, ex08._CONV):
        fan_in = shape[1] * math.prod(shape[2:])
        right = math.sqrt(2 / fan_in)
        for bad, _ in ex08._slips(shape):
            assert abs(bad / right - 1) > 0.1, (shape, bad)


# ----------------------------------------------------------------- exercise 2: the collapse
F2 = 0.005 * math.sqrt(1000)


def test_ex2_answer_key_matches_a_simulation():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(500, 1000, generator=g)
    for _ in range(ex08.COLLAPSE_LAYERS):
        h = torch.tanh(h @ (ex08.COLLAPSE_STD * torch.randn(1000, 1000, generator=g)))
    assert abs(math.log10(h.std().item() / F2 ** 10)) < 0.05


def test_ex2_right_answer_passes(capsys):
    assert ex08.check_collapse((F2, F2 ** 10))
    assert ex08.check_collapse([0.158, 1e-8])
    assert _verdict(capsys).count("[correct]") == 2


def test_ex2_not_attempted(capsys):
    assert ex08.check_collapse(None).status == "not attempted"
    assert ex08.check_collapse((None, None)).status == "not attempted"


@pytest.mark.parametrize("wrong, hint", [
    ((0.005, 1e-23), "std of ONE weight"),
    ((5.0, 1e7), "adds up standard deviations"),
    ((0.025, 1e-16), "factor of the VARIANCE"),
    ((0.3, 1e-5), "is not it"),
    ((F2, F2 ** 11), "once too often"),
    ((F2, F2 ** 9), "one time too few"),
    ((F2, 1e-3), "off by a factor"),
    ((F2,), "give a pair"),
    (("0.16", 1e-8), "must be a number"),
    ((F2, -1.0), "positive number"),
])
def test_ex2_wrong_answers_get_their_hint(capsys, wrong, hint):
    assert not ex08.check_collapse(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 3: clipping by norm
def _clip(per_tensor=False, scale_up=False, return_after=False, in_place=True, skip_none=True):
    def fn(parameters, max_norm):
        params = list(parameters)
        grads = [p.grad for p in params if p.grad is not None] if skip_none else [p.grad for p in params]
        total = math.sqrt(sum(g.square().sum().item() for g in grads))
        for p in params:
            if p.grad is None:
                continue
            norm = p.grad.norm().item() if per_tensor else total
            coef = max_norm / (norm + 1e-6)
            if not scale_up:
                coef = min(1.0, coef)
            if in_place:
                p.grad.mul_(coef)
            else:
                p.grad * coef
        if return_after:
            return math.sqrt(sum(p.grad.square().sum().item() for p in params if p.grad is not None))
        return total
    return fn


def test_ex3_right_answers_pass(capsys):
    assert ex08.check_clip_grad_norm(_clip())
    assert ex08.check_clip_grad_norm(lambda ps, m: torch.nn.utils.clip_grad_norm_(ps, m))
    assert _verdict(capsys).count("[correct]") == 2


def test_ex3_not_attempted(capsys):
    def stub(parameters, max_norm):
        raise NotImplementedError

    assert ex08.check_clip_grad_norm(None).status == "not attempted"
    assert ex08.check_clip_grad_norm(stub).status == "not attempted"


@pytest.mark.parametrize("wrong, hint", [
    (_clip(per_tensor=True), "each parameter's gradient separately"),
    (_clip(scale_up=True), "never scales up"),
    (_clip(return_after=True), "norm AFTER clipping"),
    (_clip(in_place=False), "did not change"),
    (_clip(skip_none=False), "raised"),
    ("clip", "give a function"),
])
def test_ex3_typical_slips_get_their_hint(capsys, wrong, hint):
    assert not ex08.check_clip_grad_norm(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 4: LSUV
@torch.no_grad()
def _lsuv(model, x, *, sequential=True, power=0.5, after_activation=False, in_place=True, keep_direction=True):
    """A student's LSUV step 2, right by default, or with one slip."""
    layers = list(model)
    linear = [i for i, m in enumerate(layers) if isinstance(m, torch.nn.Linear)]

    def var_of(i):
        h = x
        for j, m in enumerate(layers[: i + 1 + (after_activation and i + 1 < len(layers))]):
            h = m(h)
        return h.var(correction=0)       # the biased variance passes too

    first = {i: var_of(i) for i in linear}
    for i in linear:
        w = layers[i].weight
        if not keep_direction:
            torch.nn.init.normal_(w)
        factor = (var_of(i) if sequential else first[i]) ** power
        if in_place:
            w.div_(factor)
    return model


def test_ex4_right_answers_pass(capsys):
    def with_hooks(model, x):
        with torch.no_grad():
            for layer in [m for m in model.modules() if isinstance(m, torch.nn.Linear)]:
                out = {}
                hook = layer.register_forward_hook(lambda mod, inp, y: out.update(y=y))
                model(x)
                hook.remove()
                layer.weight.div_(out["y"].std())
        return model

    assert ex08.check_lsuv(_lsuv)
    assert ex08.check_lsuv(with_hooks)
    assert _verdict(capsys).count("[correct]") == 2


def test_ex4_not_attempted():
    def stub(model, x):
        raise NotImplementedError

    assert ex08.check_lsuv(None).status == "not attempted"
    assert ex08.check_lsuv(stub).status == "not attempted"


@pytest.mark.parametrize("wrong, hint", [
    (lambda m, x: _lsuv(m, x, sequential=False), "one forward pass before rescaling any"),
    (lambda m, x: _lsuv(m, x, power=1.0), "divide by the standard deviation"),
    (lambda m, x: _lsuv(m, x, after_activation=True), "before the activation"),
    (lambda m, x: _lsuv(m, x, in_place=False), "the weights did not change"),
    (lambda m, x: _lsuv(m, x, keep_direction=False), "not a positive multiple of the orthogonal weight"),
    (lambda m, x: torch.nn.Sequential(*m), "return the model you were given"),
    ("lsuv", "give a function"),
])
def test_ex4_typical_slips_get_their_hint(capsys, wrong, hint):
    assert not ex08.check_lsuv(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex4_the_case_starts_far_from_unit_variance_and_slips_differ_from_the_answer():
    model, x = ex08.lsuv_case(0)
    assert all(abs(v - 1) > 0.2 for v in ex08._linear_variances(model, x))
    right = ex08._lsuv_variant(model, x)
    for kwargs in (dict(sequential=False), dict(power=1.0), dict(after_activation=True)):
        slip = ex08._lsuv_variant(model, x, **kwargs)
        assert not all(torch.allclose(a, b, rtol=0.05) for a, b in zip(right, slip)), kwargs
