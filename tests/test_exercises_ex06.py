"""Each checker of notebook 06 says not-attempted, rejects typical wrong answers with their hint, accepts the right one."""

import pytest
import torch

from course_lib.exercises import ex06


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1: ELU
def right_elu(x, alpha):
    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


def right_elu_derivative(x, alpha):
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(x))


def right_derivative_right_at_zero(x, alpha):  # the right-hand derivative at the kink is accepted too
    return torch.where(x >= 0, torch.ones_like(x), alpha * torch.exp(x))


def test_ex1_not_attempted(capsys):
    def stub(x, alpha):
        raise NotImplementedError

    assert ex06.check_elu(None, None).status == "not attempted"
    assert ex06.check_elu(stub, stub).status == "not attempted"
    assert ex06.check_elu(right_elu, stub).status == "not attempted"
    assert _verdict(capsys).count("[not attempted]") == 3


@pytest.mark.parametrize("derivative", [right_elu_derivative, right_derivative_right_at_zero])
def test_ex1_accepts_the_right_answer(capsys, derivative):
    assert ex06.check_elu(right_elu, derivative)
    assert _verdict(capsys).startswith("[correct]")


def _inplace_elu(x, alpha):
    x[x < 0] = alpha * (torch.exp(x[x < 0]) - 1)
    return x


@pytest.mark.parametrize("forward, hint", [
    (lambda x, a: torch.where(x > 0, x, torch.exp(x) - 1), "alpha is ignored"),
    (lambda x, a: torch.where(x > 0, x, a * torch.exp(x)), "the '- 1' is missing"),
    (lambda x, a: torch.where(x > 0, x, torch.zeros_like(x)), "that is ReLU"),
    (lambda x, a: torch.where(x < 0, x, a * (torch.exp(x) - 1)), "branches are swapped"),
    (lambda x, a: torch.where(x > 0, torch.zeros_like(x), a * (torch.exp(x) - 1)), "ELU is the identity there"),
    (lambda x, a: torch.where(x > 0, x, a * (torch.exp(x) - 1.1)), "differs from course_lib's elu for x < 0 (e.g. x ="),
    (lambda x, a: right_elu(x, a)[:-1], "shaped like x"),
    (lambda x, a: right_elu(x, a).tolist(), "must return a tensor, got list"),
    (_inplace_elu, "changed its input x in place"),
])
def test_ex1_forward_slips_get_their_hint(capsys, forward, hint):
    assert not ex06.check_elu(forward, right_elu_derivative)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


@pytest.mark.parametrize("derivative, hint", [
    (lambda x, a: torch.where(x > 0, torch.ones_like(x), torch.exp(x)), "the factor alpha is missing"),
    (lambda x, a: torch.where(x > 0, torch.ones_like(x), a * (torch.exp(x) - 1)), "is ELU(x) itself"),
    (lambda x, a: (x > 0).double(), "your derivative is 0 (ReLU's)"),
    (lambda x, a: torch.where(x > 0, x, a * torch.exp(x)), "your derivative is x"),
    (lambda x, a: torch.where(x < 0, torch.ones_like(x), a * torch.exp(x)), "branches are swapped"),
    (lambda x, a: torch.where(x > 0, torch.ones_like(x), a * torch.exp(x)).index_fill(0, torch.tensor([100]), 0.5 * (1 + a)),
     "at x = 0 your derivative is"),
    (lambda x, a: torch.where(x > 0, torch.ones_like(x), 1.01 * a * torch.exp(x)), "differs from autograd's for x < 0"),
])
def test_ex1_derivative_slips_get_their_hint(capsys, derivative, hint):
    assert not ex06.check_elu(right_elu, derivative)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 2: dead ReLUs
def right_dead_fraction(h):
    return (h == 0).all(dim=0).float().mean().item()


def test_ex2_not_attempted_and_right(capsys):
    def stub(h):
        raise NotImplementedError

    assert ex06.check_dead_fraction(None).status == "not attempted"
    assert ex06.check_dead_fraction(stub).status == "not attempted"
    assert ex06.check_dead_fraction(right_dead_fraction)
    assert ex06.check_dead_fraction(lambda h: 1 - (h > 0).any(0).double().mean())  # a 0-dim tensor is fine
    out = _verdict(capsys)
    assert out.count("[not attempted]") == 2 and out.count("[correct]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (lambda h: int((h == 0).all(0).sum()), "NUMBER of dead units"),
    (lambda h: (h == 0).double().mean(), "fraction of ENTRIES"),
    (lambda h: (h == 0).any(0).double().mean(), "at least ONE example"),
    (lambda h: (h > 0).any(0).double().mean(), "active at least once"),
    (lambda h: (h.mean(0) < 1e-3).double().mean(), "active on one single example"),
    (lambda h: (h == 0).all(0).double(), "take the mean over the units"),
    (lambda h: 0.5, "is not 0.500"),
    (lambda h: "0.24", "return a number, got str"),
])
def test_ex2_slips_get_their_hint(capsys, wrong, hint):
    assert not ex06.check_dead_fraction(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 3: PReLU's slope gradient
def right_slope_grad(z, grad_out):
    return (grad_out * torch.clamp(z, max=0)).sum()


def test_ex3_not_attempted_and_right(capsys):
    def stub(z, g):
        raise NotImplementedError

    assert ex06.check_prelu_slope_grad(None).status == "not attempted"
    assert ex06.check_prelu_slope_grad(stub).status == "not attempted"
    assert ex06.check_prelu_slope_grad(right_slope_grad)
    assert ex06.check_prelu_slope_grad(lambda z, g: float((g * z)[z < 0].sum()))
    out = _verdict(capsys)
    assert out.count("[not attempted]") == 2 and out.count("[correct]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, g: (g * z).sum(), "grad_out by z everywhere"),
    (lambda z, g: (g * z.clamp(min=0)).sum(), "used the positive side"),
    (lambda z, g: z.clamp(max=0).sum(), "you forgot grad_out"),
    (lambda z, g: (g * z.clamp(max=0)).mean(), "you took the mean"),
    (lambda z, g: (g * 0.25 * z.clamp(max=0)).sum(), "does not contain a"),
    (lambda z, g: g * z.clamp(max=0), "ONE number shared by all units"),
    (lambda z, g: 1.0, "dL/da should be"),
])
def test_ex3_slips_get_their_hint(capsys, wrong, hint):
    assert not ex06.check_prelu_slope_grad(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out
