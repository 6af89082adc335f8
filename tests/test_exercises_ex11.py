"""Each checker of notebook 11 says not-attempted, rejects wrong answers with a useful message, accepts the right
one."""

import math

import pytest
import torch
from torch.optim import lr_scheduler as T

from course_lib.exercises import ex11
from course_lib.schedules import ReduceLROnPlateau


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def test_ex1_not_attempted_and_right(capsys):
    assert ex11.check_deck_gamma(None).status == "not attempted"
    assert ex11.check_deck_gamma(0.1 ** (1 / ex11.DECK_N))
    assert ex11.check_deck_gamma(torch.tensor(0.8913))
    out = _verdict(capsys)
    assert out.count("[correct]") == 2


def test_ex1_the_answer_reproduces_the_deck_with_exponential_lr():
    gamma = 10 ** (-1 / ex11.DECK_N)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = T.ExponentialLR(opt, gamma)
    for _ in range(2 * ex11.DECK_N):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01, rel=1e-9)  # a tenth every N epochs, twice


@pytest.mark.parametrize("wrong, hint", [
    (0.1, "every N = 20 epochs"),
    (10 ** (1 / 20), "would GROW"),
    (10, "the deck's γ"),
    (1 - 0.1 / 20, "as if the decay were linear"),
    (0.005, "N-th ROOT"),
    (1.5, "between 0 and 1"),
    (0.95, "0.3585 × η₀"),
    ("0.89", "must be a number"),
    (torch.ones(2), "one number"),
])
def test_ex1_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex11.check_deck_gamma(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 2
def _scheduler(formula=None, *, touch_base=False, compound=False, as_float=False):
    """A warm-up + cosine scheduler; ``formula(t, lr0, self)`` replaces the right rate to make a slip."""

    class Student(T.LRScheduler):
        def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0, last_epoch=-1):
            self.warmup_steps, self.total_steps = warmup_steps, total_steps
            self.start_factor, self.eta_min = start_factor, eta_min
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            t = self.last_epoch
            rates = []
            for i, lr0 in enumerate(self.base_lrs):
                if formula is not None:
                    rate = formula(t, lr0, self)
                else:
                    rate = ex11.warmup_cosine_reference(t, lr0, self.warmup_steps, self.total_steps,
                                                        self.start_factor, self.eta_min)
                if compound and t > 0:
                    rate *= self.optimizer.param_groups[i]["lr"] / lr0
                if touch_base and t == self.warmup_steps:
                    self.base_lrs[i] = lr0 * 0.5
                rates.append(rate)
            return rates[0] if as_float else rates

    return Student


def _ref(t, lr0, s, shift=0, start=None):
    return ex11.warmup_cosine_reference(t + shift, lr0, s.warmup_steps, s.total_steps,
                                        s.start_factor if start is None else start, s.eta_min)


def right_scheduler():
    """Written as a student would: the formula in get_lr, nothing else."""

    class WarmupCosineLR(T.LRScheduler):
        def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0, last_epoch=-1):
            self.warmup_steps, self.total_steps = warmup_steps, total_steps
            self.start_factor, self.eta_min = start_factor, eta_min
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            t, w, n = self.last_epoch, self.warmup_steps, self.total_steps
            if t < w:
                return [lr0 * (self.start_factor + (1 - self.start_factor) * t / w) for lr0 in self.base_lrs]
            t = min(t, n)
            return [self.eta_min + 0.5 * (lr0 - self.eta_min) * (1 + math.cos(math.pi * (t - w) / (n - w)))
                    for lr0 in self.base_lrs]

    return WarmupCosineLR


def test_ex2_reference_equals_pytorch_sequential_lr():
    """The formula is PyTorch's LinearLR then CosineAnnealingLR, chained by SequentialLR, up to total_steps."""
    w, n, s, eta_min = 5, 25, 0.2, 0.003
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.4)
    sched = T.SequentialLR(opt, [T.LinearLR(opt, start_factor=s, total_iters=w),
                                 T.CosineAnnealingLR(opt, T_max=n - w, eta_min=eta_min)], milestones=[w])
    for t in range(n + 1):
        assert opt.param_groups[0]["lr"] == pytest.approx(ex11.warmup_cosine_reference(t, 0.4, w, n, s, eta_min),
                                                          rel=1e-9, abs=1e-12), t
        opt.step()
        sched.step()


def test_ex2_not_attempted(capsys):
    assert ex11.check_warmup_cosine(None).status == "not attempted"
    assert ex11.check_warmup_cosine(_scheduler(lambda t, lr0, s: (_ for _ in ()).throw(NotImplementedError))).status \
        == "not attempted"


def test_ex2_accepts_the_right_scheduler(capsys):
    assert ex11.check_warmup_cosine(right_scheduler())
    assert ex11.check_warmup_cosine(_scheduler())
    assert _verdict(capsys).count("[correct]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (_scheduler(lambda t, lr0, s: _ref(t, lr0, s, shift=1)), "one step AHEAD"),
    (_scheduler(lambda t, lr0, s: _ref(max(t - 1, 0), lr0, s)), "one step BEHIND"),
    (_scheduler(lambda t, lr0, s: _ref(t, lr0, s, start=0.0)), "warm-up starts from 0"),
    (_scheduler(lambda t, lr0, s: _ref(t, lr0, s) if t < s.warmup_steps else
                0.5 * lr0 * (1 + math.cos(math.pi * min(t - s.warmup_steps, s.total_steps - s.warmup_steps)
                                          / (s.total_steps - s.warmup_steps)))), "ends at 0, not at eta_min"),
    (_scheduler(lambda t, lr0, s: _ref(t, lr0, s) if t < s.warmup_steps else
                s.eta_min + 0.5 * (lr0 - s.eta_min) * (1 + math.cos(math.pi * min(t, s.total_steps) / s.total_steps))),
     "your rate jumps"),
    (_scheduler(lambda t, lr0, s: s.eta_min + 0.5 * (lr0 - s.eta_min) * (1 + math.cos(
        math.pi * (t - s.warmup_steps) / (s.total_steps - s.warmup_steps)))
        if t >= s.warmup_steps else _ref(t, lr0, s)), "rises again"),
    (_scheduler(lambda t, lr0, s: _ref(t, s.base_lrs[0], s)), "first group's rates"),
    (_scheduler(touch_base=True), "self.base_lrs changed"),
    (_scheduler(compound=True), "times the CURRENT rate"),
    (_scheduler(lambda t, lr0, s: _ref(t, lr0, s) * (1.01 if t == 7 else 1.0)), "at t = 7 (cosine decay)"),
    (_scheduler(as_float=True), "must return a LIST"),
    (lambda opt: None, "give the class itself"),
])
def test_ex2_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex11.check_warmup_cosine(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 3
def right_plateau(val_losses, lr, factor, patience):
    best, bad, out = math.inf, 0, []
    for v in val_losses:
        if v < best:
            best, bad = v, 0
        else:
            bad += 1
        if bad > patience:
            lr, bad = lr * factor, 0
        out.append(lr)
    return out


def test_ex3_not_attempted_and_right(capsys):
    def stub(*args):
        raise NotImplementedError

    assert ex11.check_plateau_lrs(None).status == "not attempted"
    assert ex11.check_plateau_lrs(stub).status == "not attempted"
    assert ex11.check_plateau_lrs(right_plateau)
    assert _verdict(capsys).endswith("same rates as ReduceLROnPlateau")


def test_ex3_reference_is_the_library_scheduler():
    for losses, patience in ex11._CURVES:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=ex11._LR)
        sched = T.ReduceLROnPlateau(opt, factor=ex11._FACTOR, patience=patience, threshold=0.0)
        rates = []
        for v in losses:
            sched.step(v)
            rates.append(opt.param_groups[0]["lr"])
        assert rates == pytest.approx(right_plateau(losses, ex11._LR, ex11._FACTOR, patience))
        assert rates == pytest.approx(ex11._plateau_reference(losses, ex11._LR, ex11._FACTOR, patience))
        assert isinstance(ReduceLROnPlateau(opt), ReduceLROnPlateau)


@pytest.mark.parametrize("kwargs, hint", [
    (dict(cut_at="patience"), "MORE than patience"),
    (dict(cut_at="late"), "one epoch late"),
    (dict(vs_previous=True), "compare with the BEST"),
    (dict(reset_after_cut=False), "restart from 0"),
    (dict(reset_on_improvement=False), "must reset the count"),
    (dict(ties_improve=True), "EQUAL to the best"),
])
def test_ex3_typical_slips_get_their_hint(capsys, kwargs, hint):
    def student(val_losses, lr, factor, patience):
        options = dict(kwargs)
        if options.get("cut_at") == "patience":
            options["cut_at"] = patience
        elif options.get("cut_at") == "late":
            options["cut_at"] = patience + 2
        return ex11._plateau_variant(val_losses, lr, factor, patience, **options)

    assert not ex11.check_plateau_lrs(student)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


@pytest.mark.parametrize("wrong, hint", [
    (lambda v, lr, f, p: 0.1, "one learning rate per epoch"),
    (lambda v, lr, f, p: [lr] * (len(v) - 1), "one learning rate per epoch"),
    (lambda v, lr, f, p: [str(lr)] * len(v), "must be a number"),
    (lambda v, lr, f, p: [r * 2 if i == 5 else r for i, r in enumerate(right_plateau(v, lr, f, p))],
     "after epoch 6"),
    ("not a function", "give a function"),
])
def test_ex3_rejects_other_wrong_answers(capsys, wrong, hint):
    assert not ex11.check_plateau_lrs(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out
