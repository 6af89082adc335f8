"""Each checker of notebook 13 says not-attempted, rejects wrong answers with a useful message, accepts the right
one."""

import math

import pytest
import torch
from torch import nn

from course_lib.exercises import ex13
from course_lib.monitor import histogram
from course_lib.training import Callback


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def test_ex1_not_attempted_and_right(capsys):
    assert ex13.check_initial_loss(None).status == "not attempted"
    assert ex13.check_initial_loss(math.log)
    assert ex13.check_initial_loss(lambda k: torch.log(torch.tensor(float(k))))
    assert _verdict(capsys).count("[correct]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (math.log10, "base 10"), (math.log2, "base 2"), (lambda k: 1 / k, "minus the log"),
    (lambda k: -math.log(k), "the sign"), (lambda k: 1 - 1 / k, "error rate"), (lambda k: k, "−log of the right"),
    (lambda k: "ln k", "must return a number"), (2.3, "must be a function"),
])
def test_ex1_wrong_answers(wrong, hint, capsys):
    v = ex13.check_initial_loss(wrong)
    assert v.status == "wrong" and v.message.startswith("[wrong]") and hint in v.message, v.message


# ----------------------------------------------------------------- exercise 2
def make_monitor(*, remove=True, on_exception=True, grad_when="after_backward", ratio="right", clone=True):
    class Monitor(Callback):
        def __init__(self, bins):
            self.bins = bins

        def on_fit_start(self, state):
            self.act_hists, self.grad_hists, self.ratios, self.handles = {}, {}, {}, []
            self.linears = {n: m for n, m in state.model.named_modules() if isinstance(m, nn.Linear)}
            for n in self.linears:
                self.grad_hists[n], self.ratios[n] = [], []
            for n, m in state.model.named_modules():
                if isinstance(m, nn.ReLU):
                    self.act_hists[n] = []
                    self.handles.append(m.register_forward_hook(self.hook(n)))

        def hook(self, n):
            def f(module, inputs, output):
                if self.first:
                    self.act_hists[n].append(histogram(output, self.bins)[0])
            return f

        def on_epoch_start(self, state):
            self.first = True
            if grad_when == "epoch_start" and state.epoch > 1:
                for n, m in self.linears.items():
                    self.grad_hists[n].append(histogram(m.weight.grad, self.bins)[0])

        def on_after_backward(self, state):
            if self.first:
                if grad_when == "after_backward":
                    for n, m in self.linears.items():
                        self.grad_hists[n].append(histogram(m.weight.grad, self.bins)[0])
                self.first = False
            self.before = {n: (m.weight.detach().clone() if clone else m.weight) for n, m in self.linears.items()}
            self.grad_ratio = {n: (m.weight.grad.norm() / m.weight.norm()).item() for n, m in self.linears.items()}

        def on_step_end(self, state):
            for n, m in self.linears.items():
                r = ((m.weight.detach() - self.before[n]).norm() / self.before[n].norm()).item()
                self.ratios[n].append({"right": r, "inverted": 1 / r if r else math.inf,
                                       "no_lr": self.grad_ratio[n]}[ratio])

        def on_fit_end(self, state):
            if remove:
                for h in self.handles:
                    h.remove()

        def on_exception(self, state, exc):
            if on_exception:
                self.on_fit_end(state)

    return Monitor


def test_ex2_not_attempted_and_right(capsys):
    assert ex13.check_monitor(None).status == "not attempted"
    assert ex13.check_monitor(make_monitor())
    assert "[correct]" in _verdict(capsys)


@pytest.mark.parametrize("kwargs, hint", [
    (dict(remove=False), "after training the model still has forward hooks"),
    (dict(on_exception=False), "on_exception"),
    (dict(grad_when="epoch_start"), "before backward"),
    (dict(ratio="inverted"), "inverted"),
    (dict(ratio="no_lr"), "leaves out the learning rate"),
    (dict(clone=False), "clone"),
])
def test_ex2_typical_slips(kwargs, hint):
    v = ex13.check_monitor(make_monitor(**kwargs))
    assert v.status == "wrong" and v.message.startswith("[wrong]") and hint in v.message, v.message


def test_ex2_an_instance_instead_of_the_class():
    v = ex13.check_monitor(make_monitor()(12))
    assert v.status == "wrong" and "the class itself" in v.message
