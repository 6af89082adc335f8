"""course_lib.schedules against torch.optim.lr_scheduler (rates, momentum, state dicts both ways), the
schedules torch lacks against their formulas, the range test on a quadratic with a known stability
limit, the fit callback, and every bad argument."""

import copy
import math
import warnings

import pytest
import torch
from torch import Tensor, nn
from torch.optim import lr_scheduler as T

from course_lib import schedules as S
from course_lib.schedules import (ExponentialDecayLR, InverseTimeLR, RangeTestResult, SchedulerCallback, lr_curve,
                                  lr_range_test)
from course_lib.training import fit

LRS = (0.1, 0.02, 0.5)  # three parameter groups with different initial rates
STEPS = 100

CASES = [
    ("StepLR", dict(step_size=7)),
    ("StepLR", dict(step_size=10, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[3, 10, 40])),
    ("MultiStepLR", dict(milestones=[0, 50], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("ExponentialLR", dict(gamma=1.02)),
    ("CosineAnnealingLR", dict(T_max=30)),                       # past T_max the cosine rises again
    ("CosineAnnealingLR", dict(T_max=17, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=10)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=3, eta_min=0.01)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=10)),
    ("CyclicLR", dict(base_lr=[0.01, 0.001, 0.05], max_lr=[0.1, 0.2, 0.3], step_size_up=5, step_size_down=8,
                      mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.97)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=9, base_momentum=0.7,
                      max_momentum=[0.95, 0.9, 0.85])),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, cycle_momentum=False)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def _metrics(seed=0, n=STEPS):
    """A validation curve that falls, flattens and wobbles: it triggers several cuts."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, generator=g, dtype=torch.float64)
    return [1.0 / (1 + 0.3 * t) + 0.05 * float(u) for t, u in enumerate(noise)]


PLATEAU_CASES = [
    dict(patience=2),
    dict(patience=0, factor=0.5),
    dict(patience=1, threshold_mode="abs", threshold=0.01),
    dict(mode="max", patience=1, factor=0.5),
    dict(mode="max", patience=2, threshold_mode="abs", threshold=0.005, cooldown=3, factor=0.7),
    dict(patience=1, cooldown=2, min_lr=[0.01, 0.001, 0.2], factor=0.5),
    dict(patience=1, min_lr=0.004, factor=0.3, eps=1e-3),
]


def _optimizer(device="cpu", kind="sgd", lrs=LRS):
    params = [nn.Parameter(torch.zeros(2, device=device)) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs)]
    if kind == "adam":
        return torch.optim.Adam(groups)
    return torch.optim.SGD(groups, momentum=0.9)


def _lrs(opt):
    return [float(g["lr"]) for g in opt.param_groups]


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _run(opt, sched, steps, metrics=None, start=0):
    """Step ``steps`` times (optimizer first, as in training); the (lrs, momenta) after each step."""
    rates, momenta = [], []
    for t in range(start, start + steps):
        opt.step()
        sched.step(metrics[t]) if metrics is not None else sched.step()
        rates.append(_lrs(opt))
        momenta.append(_momenta(opt))
        assert sched.get_last_lr() == pytest.approx(rates[-1], rel=1e-12)
    return rates, momenta


def _close(a, b):
    torch.testing.assert_close(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64),
                               rtol=1e-9, atol=1e-15)


def _pair(name, kwargs, device="cpu", kind="sgd"):
    ref_opt, our_opt = _optimizer(device, kind), _optimizer(device, kind)
    return ref_opt, getattr(T, name)(ref_opt, **kwargs), our_opt, getattr(S, name)(our_opt, **kwargs)


# ----------------------------------------------------------------- the same rates as torch, step by step
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_rates_equal_torch_over_a_run(device, name, kwargs):
    ref_opt, ref, our_opt, ours = _pair(name, kwargs, device)
    assert _lrs(our_opt) == pytest.approx(_lrs(ref_opt)) and ours.get_last_lr() == pytest.approx(ref.get_last_lr())
    ref_rates, ref_m = _run(ref_opt, ref, STEPS)
    our_rates, our_m = _run(our_opt, ours, STEPS)
    _close(our_rates, ref_rates)
    _close(our_m, ref_m)                                   # CyclicLR moves the momentum too
    assert len({tuple(r) for r in ref_rates}) >= 2         # the schedule really changes the rates
    assert ours.base_lrs == pytest.approx(ref.base_lrs) and ours.last_epoch == ref.last_epoch


@pytest.mark.parametrize("kwargs", [CASES[12][1], CASES[13][1]], ids=["triangular2", "exp_range"])
def test_cyclic_cycles_adams_beta1_like_torch(kwargs):
    ref_opt, ref, our_opt, ours = _pair("CyclicLR", kwargs, kind="adam")
    ref_rates, ref_m = _run(ref_opt, ref, 60)
    our_rates, our_m = _run(our_opt, ours, 60)
    _close(our_rates, ref_rates)
    _close(our_m, ref_m)
    assert min(min(m) for m in our_m) < 0.85 < 0.89 < max(max(m) for m in our_m)


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=[str(i) for i in range(len(PLATEAU_CASES))])
def test_plateau_equals_torch(device, kwargs):
    metrics = _metrics()
    if kwargs.get("mode") == "max":
        metrics = [2.0 - m for m in metrics]  # an accuracy-like curve that rises and flattens
    ref_opt, our_opt = _optimizer(device), _optimizer(device)
    ref, ours = T.ReduceLROnPlateau(ref_opt, **kwargs), S.ReduceLROnPlateau(our_opt, **kwargs)
    ref_rates, _ = _run(ref_opt, ref, STEPS, metrics)
    our_rates, _ = _run(our_opt, ours, STEPS, metrics)
    assert our_rates == ref_rates                               # the same decisions: equal to the last bit
    assert len({tuple(r) for r in ref_rates}) >= 3              # at least two cuts
    assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (ref.best, ref.num_bad_epochs,
                                                                        ref.cooldown_counter)


def test_plateau_takes_tensors_and_nan_like_torch():
    ref_opt, our_opt = _optimizer(), _optimizer()
    ref, ours = T.ReduceLROnPlateau(ref_opt, patience=1), S.ReduceLROnPlateau(our_opt, patience=1)
    values = [torch.tensor(1.0), torch.tensor(0.5), float("nan"), float("nan"), torch.tensor(0.4), math.inf]
    for v in values:
        ref.step(v)
        ours.step(v)
        assert _lrs(our_opt) == _lrs(ref_opt)
    assert _lrs(our_opt) == pytest.approx([lr * 0.1 for lr in LRS])


# ----------------------------------------------------------------- state dicts, both ways, mid-run
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
@pytest.mark.parametrize("direction", ["ours_to_torch", "torch_to_ours"])
def test_state_dict_round_trip_mid_run(name, kwargs, direction):
    ref_opt, ref, our_opt, ours = _pair(name, kwargs)
    assert set(ours.state_dict()) == set(ref.state_dict())      # the same entries
    expected, _ = _run(ref_opt, ref, STEPS)                     # one uninterrupted torch run
    first = (_optimizer(), _optimizer())
    src_cls, dst_cls = (S, T) if direction == "ours_to_torch" else (T, S)
    src = getattr(src_cls, name)(first[0], **kwargs)
    _run(first[0], src, 37)
    dst_opt = _optimizer()
    dst = getattr(dst_cls, name)(dst_opt, **kwargs)             # a fresh scheduler: the saved state overrides it
    dst_opt.load_state_dict(copy.deepcopy(first[0].state_dict()))
    dst.load_state_dict(copy.deepcopy(src.state_dict()))
    assert dst.get_last_lr() == pytest.approx(expected[36], rel=1e-12)
    rest, _ = _run(dst_opt, dst, STEPS - 37, start=37)
    _close(rest, expected[37:])


@pytest.mark.parametrize("direction", ["ours_to_torch", "torch_to_ours"])
def test_plateau_state_dict_round_trip_mid_run(direction):
    kwargs, metrics = dict(patience=1, cooldown=2, factor=0.5, min_lr=0.001), _metrics(1)
    ref_opt = _optimizer()
    expected, _ = _run(ref_opt, T.ReduceLROnPlateau(ref_opt, **kwargs), STEPS, metrics)
    src_cls, dst_cls = (S, T) if direction == "ours_to_torch" else (T, S)
    opt = _optimizer()
    src = src_cls.ReduceLROnPlateau(opt, **kwargs)
    _run(opt, src, 41, metrics)
    assert set(src.state_dict()) == set(T.ReduceLROnPlateau(_optimizer(), **kwargs).state_dict())
    dst_opt = _optimizer()
    dst = dst_cls.ReduceLROnPlateau(dst_opt, **kwargs)
    dst_opt.load_state_dict(copy.deepcopy(opt.state_dict()))
    dst.load_state_dict(copy.deepcopy(src.state_dict()))
    rest, _ = _run(dst_opt, dst, STEPS - 41, metrics, start=41)
    assert rest == expected[41:]


def test_cyclic_state_dict_keeps_a_callable_objects_scale_fn():
    class Halve:
        def __init__(self):
            self.base = 0.5

        def __call__(self, x):
            return self.base ** x

    ref_opt, our_opt = _optimizer(), _optimizer()
    kw = dict(base_lr=0.01, max_lr=0.1, step_size_up=3)
    ref, ours = T.CyclicLR(ref_opt, scale_fn=Halve(), **kw), S.CyclicLR(our_opt, scale_fn=Halve(), **kw)
    _close(_run(our_opt, ours, 20)[0], _run(ref_opt, ref, 20)[0])
    state = ours.state_dict()
    assert state["_scale_fn_custom"] == {"base": 0.5} == ref.state_dict()["_scale_fn_custom"]
    other = S.CyclicLR(_optimizer(), scale_fn=Halve(), **kw)
    other._scale_fn_custom.base = 0.9
    other.load_state_dict(ref.state_dict())
    assert other._scale_fn_custom.base == 0.5 and other.last_epoch == 20
    assert S.CyclicLR(_optimizer(), scale_fn=lambda x: 1.0, **kw).state_dict()["_scale_fn_custom"] is None


def test_warm_restarts_with_fractional_epochs_like_torch():
    ref_opt, ref, our_opt, ours = _pair("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2, eta_min=0.01))
    batches = 4
    for epoch in range(12):
        for i in range(batches):
            ref_opt.step(), our_opt.step()
            ref.step(epoch + i / batches)
            ours.step(epoch + i / batches)
            _close(_lrs(our_opt), _lrs(ref_opt))
    for _ in range(5):  # plain steps after explicit ones continue from there, as in torch
        ref.step(), ours.step()
        _close(_lrs(our_opt), _lrs(ref_opt))


# ----------------------------------------------------------------- the forms torch lacks, by their formula
def test_inverse_time_decay_formula():
    k = 0.25
    rates = lr_curve(lambda opt: InverseTimeLR(opt, k=k), 40, lr=0.3)
    expected = torch.tensor([0.3 / (1 + k * t) for t in range(41)], dtype=torch.float64)
    torch.testing.assert_close(rates, expected, rtol=1e-12, atol=0)
    assert rates[4].item() == pytest.approx(0.15)     # halved at t = 1/k
    assert rates[36].item() == pytest.approx(0.03)    # a tenth at t = 9/k


def test_exponential_decay_smooth_and_staircase():
    gamma, n = 0.1, 10
    smooth = lr_curve(lambda opt: ExponentialDecayLR(opt, gamma=gamma, step_size=n), 50, lr=0.5)
    stairs = lr_curve(lambda opt: ExponentialDecayLR(opt, gamma=gamma, step_size=n, staircase=True), 50, lr=0.5)
    t = torch.arange(51, dtype=torch.float64)
    torch.testing.assert_close(smooth, 0.5 * gamma ** (t / n), rtol=1e-12, atol=0)
    torch.testing.assert_close(stairs, 0.5 * gamma ** torch.div(t, n, rounding_mode="floor"), rtol=1e-12, atol=0)
    # the deck's η₀ / γ^(n/N) with γ = 10: a factor of ten every N epochs
    assert smooth[n].item() == pytest.approx(0.05) and smooth[2 * n].item() == pytest.approx(0.005)
    # staircase = torch's StepLR; step_size=1 = torch's ExponentialLR
    torch.testing.assert_close(stairs, lr_curve(lambda opt: T.StepLR(opt, step_size=n, gamma=gamma), 50, lr=0.5))
    torch.testing.assert_close(lr_curve(lambda opt: ExponentialDecayLR(opt, gamma=0.9), 50),
                               lr_curve(lambda opt: T.ExponentialLR(opt, gamma=0.9), 50))


def test_lr_curve_reads_a_schedule():
    rates = lr_curve(lambda opt: S.StepLR(opt, step_size=3, gamma=0.5), 7, lr=1.0)
    assert rates.tolist() == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    rates = lr_curve(lambda opt: S.ReduceLROnPlateau(opt, patience=0), 3, metrics=[1.0, 2.0, 3.0])
    assert rates.tolist() == pytest.approx([1.0, 1.0, 0.1, 0.01])
    with pytest.raises(ValueError, match="needs metrics with one value per step"):
        lr_curve(lambda opt: S.ReduceLROnPlateau(opt), 3)


# ----------------------------------------------------------------- the range test
def _quadratic_problem(seed, a=2.0, n=512):
    """Predict y ~ N(3, 1) with ŷ = w·a: loss mean((a w − y)²) has curvature 2a² on EVERY batch,
    so SGD is stable exactly for lr < 2 / (2a²) = 1/a²; the batch noise keeps w moving."""
    g = torch.Generator().manual_seed(seed)
    x = torch.full((n, 1), a)
    y = torch.randn(n, 1, generator=g) + 3.0
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    return model, (x, y), 1.0 / a**2


@pytest.mark.parametrize("seed", [0, 1])
def test_range_test_finds_the_stability_limit_and_restores_everything(seed):
    model, data, limit = _quadratic_problem(seed)                 # plain SGD: stable for lr < 2 / curvature
    beta = 0.5
    limit *= 1 + beta                                              # heavy ball: stable for lr < 2 (1 + β) / curvature
    opt = torch.optim.SGD(model.parameters(), lr=0.123, momentum=beta)
    model(data[0][:4]).pow(2).mean().backward()
    opt.step()                                                     # a momentum buffer to restore
    opt.zero_grad()
    model.eval()
    weights, opt_state = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    r = lr_range_test(model, data, optimizer=opt, lr_min=1e-4, lr_max=10.0, steps=200, batch_size=16,
                      generator=torch.Generator().manual_seed(seed))
    assert isinstance(r, RangeTestResult)
    assert r.exploded_at is not None and limit < r.exploded_at < 2 * limit     # blows up just past 2/curvature
    assert len(r.lrs) < 200 and r.lrs[-1] == r.exploded_at
    assert r.suggestion < limit / 10 and r.min_loss_lr / 10 < limit / 2         # both suggestions are safe
    assert r.losses[-1] > 4 * min(r.losses)
    lrs = torch.tensor(r.lrs)
    torch.testing.assert_close(lrs[1:] / lrs[:-1], torch.full((len(lrs) - 1,), (1e5) ** (1 / 199)))
    # everything restored: weights, optimizer state (momentum buffer, lr), eval mode
    assert torch.equal(model.weight, weights["weight"]) and not model.training
    state = opt.state_dict()
    assert state["param_groups"][0]["lr"] == 0.123
    assert torch.equal(state["state"][0]["momentum_buffer"], opt_state["state"][0]["momentum_buffer"])


def test_range_test_without_explosion_and_with_a_factory(device):
    model, (x, y), limit = _quadratic_problem(0)
    data = (x.to(device), y.to(device))                        # the data's device decides; the model follows
    r = lr_range_test(model, data, optimizer=lambda p: torch.optim.SGD(p, lr=1.0), lr_min=1e-4, lr_max=0.1,
                      steps=60, generator=torch.Generator().manual_seed(0))
    assert r.exploded_at is None and len(r.lrs) == 60 and r.lrs[-1] == pytest.approx(0.1)
    assert r.losses[-1] < r.losses[0] / 2                      # the loss fell while the rate grew
    assert model.weight.item() == 0.0
    import matplotlib

    matplotlib.use("Agg")
    ax = r.plot()
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "learning rate" and ax.get_legend() is not None


# ----------------------------------------------------------------- with fit
def _regression(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(n, 1, generator=g)
    return x, y


def test_callback_steps_a_schedule_per_epoch_with_fit(device):
    torch.manual_seed(0)
    model = nn.Linear(3, 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    h = fit(model, _regression(), _regression(seed=1), epochs=6, optimizer=opt, batch_size=16,
            callbacks=[SchedulerCallback(sched)], seed=0, device=device)
    assert h.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert sched.last_epoch == 6


@pytest.mark.parametrize("cls", [S.ReduceLROnPlateau, T.ReduceLROnPlateau], ids=["ours", "torch"])
def test_callback_feeds_plateau_the_monitored_metric(cls):
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)  # too large: the loss soon stops improving
    sched = cls(opt, patience=0, factor=0.5)
    h = fit(model, _regression(), _regression(seed=1), epochs=12, optimizer=opt, batch_size=8,
            callbacks=[SchedulerCallback(sched, monitor="val_loss")], seed=0)
    replay_opt = _optimizer(lrs=(0.5,))
    replay = T.ReduceLROnPlateau(replay_opt, patience=0, factor=0.5)
    expected = [0.5]
    for v in h.val_loss[:-1]:
        replay.step(v)
        expected.append(_lrs(replay_opt)[0])
    assert h.lr == pytest.approx(expected)
    assert min(h.lr) < 0.5                                         # it did cut the rate


def test_callback_per_step_with_cyclic():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = S.CyclicLR(opt, base_lr=0.001, max_lr=0.05, step_size_up=3)
    fit(model, _regression(), epochs=2, optimizer=opt, batch_size=16, callbacks=[SchedulerCallback(sched, "step")],
        seed=0)
    assert sched.last_epoch == 8                                   # 2 epochs × 4 batches
    assert sched.get_last_lr()[0] == pytest.approx(0.001 + 0.049 * 2 / 3)  # t = 8: falling, 2/3 of the way up


def test_callback_errors():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="different optimizer from the one fit trains with"):
        fit(model, _regression(), epochs=1, lr=0.1, callbacks=[SchedulerCallback(S.StepLR(opt, 2))])
    with pytest.raises(ValueError, match="needs 'val_loss' at the end of every epoch"):
        fit(model, _regression(), epochs=1, optimizer=opt, callbacks=[SchedulerCallback(S.ReduceLROnPlateau(opt))])
    with pytest.raises(ValueError, match="use interval='epoch'"):
        SchedulerCallback(S.ReduceLROnPlateau(opt), interval="step")
    with pytest.raises(TypeError, match="scheduler must be a learning-rate scheduler .*, got str"):
        SchedulerCallback("StepLR")
    with pytest.raises(ValueError, match="monitor must be one of"):
        SchedulerCallback(S.StepLR(opt, 2), monitor="val_error")


# ----------------------------------------------------------------- bad arguments
def _opt():
    return _optimizer()


BAD = [
    (lambda: S.StepLR(_opt(), step_size=0), ValueError, r"step_size must be an int in \[1, inf\), got 0"),
    (lambda: S.StepLR(_opt(), step_size=2.5), TypeError, "step_size must be an int .*, got float 2.5"),
    (lambda: S.StepLR(_opt(), step_size=3, gamma=-0.1), ValueError, r"gamma must be a real number in \(0, inf\)"),
    (lambda: S.StepLR("sgd", step_size=3), TypeError, "optimizer must be a torch.optim.Optimizer, got str"),
    (lambda: S.StepLR(_opt(), 3, last_epoch=-2), ValueError, "last_epoch must be an int in"),
    (lambda: S.CyclicLR(_opt(), 0.01, 0.1, base_momentum="0.8"), TypeError, "base_momentum must be a real number"),
    (lambda: S.MultiStepLR(_opt(), milestones=30), TypeError, "milestones must be a list"),
    (lambda: S.MultiStepLR(_opt(), milestones=[-1, 3]), ValueError, r"milestones\[\] must be an int in \[0, inf\)"),
    (lambda: S.ExponentialLR(_opt(), gamma=0), ValueError, "gamma must be a real number in"),
    (lambda: S.ExponentialLR(_opt(), gamma="0.9"), TypeError, "gamma must be a real number .*, got str"),
    (lambda: S.ExponentialDecayLR(_opt(), gamma=0.1, step_size=0), ValueError, "step_size must be"),
    (lambda: S.ExponentialDecayLR(_opt(), gamma=0.1, staircase=1), TypeError, "staircase must be True or False"),
    (lambda: S.InverseTimeLR(_opt(), k=-1), ValueError, r"k must be a real number in \[0, inf\), got -1"),
    (lambda: S.CosineAnnealingLR(_opt(), T_max=0), ValueError, "T_max must be an int in"),
    (lambda: S.CosineAnnealingLR(_opt(), T_max=10, eta_min=-0.1), ValueError, "eta_min must be"),
    (lambda: S.CosineAnnealingWarmRestarts(_opt(), T_0=0), ValueError, "T_0 must be an int in"),
    (lambda: S.CosineAnnealingWarmRestarts(_opt(), T_0=5, T_mult=0), ValueError, "T_mult must be an int in"),
    (lambda: S.CosineAnnealingWarmRestarts(_opt(), T_0=5, T_mult=1.5), TypeError, "T_mult must be an int"),
    (lambda: S.CyclicLR(_opt(), 0.01, 0.1, mode="triangle"), ValueError,
     "mode must be one of 'triangular', 'triangular2', 'exp_range', got 'triangle'"),
    (lambda: S.CyclicLR(_opt(), 0.01, 0.1, step_size_up=0), ValueError, "step_size_up must be an int in"),
    (lambda: S.CyclicLR(_opt(), 0.01, 0.1, step_size_down=-3), ValueError, "step_size_down must be an int in"),
    (lambda: S.CyclicLR(_opt(), 0.01, [0.1, 0.2]), ValueError, "one value per parameter group .3., got 2 values"),
    (lambda: S.CyclicLR(_opt(), 0.01, 0.1, scale_mode="epochs"), ValueError, "scale_mode must be one of"),
    (lambda: S.CyclicLR(_opt(), 0.01, 0.1, scale_fn=3), TypeError, "scale_fn must be a function"),
    (lambda: S.CyclicLR(torch.optim.Rprop([nn.Parameter(torch.zeros(1))]), 0.01, 0.1), ValueError,
     "cycle_momentum=True needs an optimizer with momentum"),
    (lambda: S.ReduceLROnPlateau(_opt(), mode="minimum"), ValueError, "mode must be one of 'min', 'max'"),
    (lambda: S.ReduceLROnPlateau(_opt(), factor=1.0), ValueError, r"factor must be a real number in \(0, 1\)"),
    (lambda: S.ReduceLROnPlateau(_opt(), patience=-1), ValueError, "patience must be an int in"),
    (lambda: S.ReduceLROnPlateau(_opt(), threshold_mode="relative"), ValueError, "threshold_mode must be one of"),
    (lambda: S.ReduceLROnPlateau(_opt(), cooldown=-1), ValueError, "cooldown must be an int in"),
    (lambda: S.ReduceLROnPlateau(_opt(), min_lr=[0.1]), ValueError, "min_lr must be a number or a list"),
    (lambda: S.ReduceLROnPlateau(_opt(), min_lr=-0.1), ValueError, "min_lr must be a real number"),
    (lambda: S.ReduceLROnPlateau(_opt()).step("low"), TypeError, "metrics must be a number"),
    (lambda: lr_curve("StepLR", 10), TypeError, "make_scheduler must be a function"),
]


@pytest.mark.parametrize("make,error,match", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_are_rejected(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_range_test_says_whether_it_reached_the_end():
    model, data, limit = _quadratic_problem(0)
    gen = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    stopped = lr_range_test(model, data, lr_min=1e-4, lr_max=10.0, steps=200, batch_size=16, generator=gen())
    assert stopped.exploded_at is not None and not stopped.reached_end and len(stopped.lrs) < 200
    assert "stopped early" in str(stopped) and "exploded at" in str(stopped)
    ran = lr_range_test(model, data, lr_min=1e-4, lr_max=0.1, steps=30, generator=gen())
    assert ran.exploded_at is None and ran.reached_end and "reached the end, no explosion" in ran.summary()
    calls = []

    def last_step_blows_up(output, target):  # a finite loss until the very last step of the test
        calls.append(1)
        loss = (output - target).pow(2).mean()
        return loss * math.inf if len(calls) == 30 else loss

    last = lr_range_test(model, data, loss_fn=last_step_blows_up, lr_min=1e-4, lr_max=0.1, steps=30, generator=gen())
    assert last.exploded_at == last.lrs[-1] == pytest.approx(0.1) and last.reached_end and len(last.lrs) == 30
    assert "reached the end" in str(last) and "(on the last step)" in str(last)
    assert "reached_end=True" in repr(last) and "lrs=" not in repr(last)


@pytest.mark.parametrize("layer", ["torch", "course"])
def test_range_test_leaves_out_a_last_batch_of_one(layer):
    from course_lib import normalization

    bn = nn.BatchNorm1d(4) if layer == "torch" else normalization.BatchNorm1d(4)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(33, 3, generator=g), torch.randint(0, 2, (33,), generator=g)  # 33 = 2 x 16 + 1
    model = nn.Sequential(nn.Linear(3, 4), bn, nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises((ValueError, RuntimeError)):                    # what the test would meet otherwise
        model.train()(x[32:])
    r = lr_range_test(model, (x, y), lr_min=1e-4, lr_max=1e-2, steps=9, batch_size=16, generator=g)
    assert r.reached_end and len(r.lrs) == 9
    batches = [(x[:16], y[:16]), (x[16:32], y[16:32]), (x[32:], y[32:])]  # given batches: the batch of one skipped
    r = lr_range_test(model, batches, lr_min=1e-4, lr_max=1e-2, steps=9, generator=g)
    assert r.reached_end and len(r.lrs) == 9
    ones = [(x[i:i + 1], y[i:i + 1]) for i in range(3)]                # batches that are all of one: kept
    r = lr_range_test(nn.Linear(3, 2), ones, lr_min=1e-4, lr_max=1e-2, steps=5, generator=g)
    assert r.reached_end and len(r.lrs) == 5


def test_range_test_plot_caps_the_top_near_the_starting_loss():
    import matplotlib

    matplotlib.use("Agg")
    model, data, _ = _quadratic_problem(0)
    r = lr_range_test(model, data, lr_min=1e-4, lr_max=10.0, steps=200, batch_size=16,
                      generator=torch.Generator().manual_seed(0))
    assert max(r.losses) > 2 * r.losses[0]                             # the explosion goes far above the start
    ax = r.plot()
    low, high = ax.get_ylim()
    assert high <= 1.5 * r.losses[0] + 0.05 * (high - low) + 1e-9       # ... and runs off the top
    assert low <= min(r.raw_losses)                                    # the batch losses are not cut off below
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_range_test_bad_arguments():
    model, data, _ = _quadratic_problem(0)
    with pytest.raises(ValueError, match="lr_max must be larger than lr_min"):
        lr_range_test(model, data, lr_min=1.0, lr_max=0.1)
    with pytest.raises(ValueError, match=r"steps must be an int in \[2, inf\), got 1"):
        lr_range_test(model, data, steps=1)
    with pytest.raises(ValueError, match=r"diverge_factor must be a real number in \(1, inf\)"):
        lr_range_test(model, data, diverge_factor=1.0)
    with pytest.raises(ValueError, match=r"smoothing must be a real number in \[0, 1\)"):
        lr_range_test(model, data, smoothing=1.0)
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        lr_range_test("net", data)
    with pytest.raises(TypeError, match="not an iterator"):
        lr_range_test(model, iter([data]))


def test_no_warnings_in_the_usual_loop():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, kwargs in CASES:
            _, _, opt, sched = _pair(name, kwargs)
            _run(opt, sched, 5)


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_resuming_with_last_epoch(name, kwargs):
    # the older way to resume: load the optimizer (it carries initial_lr), then pass last_epoch
    ref_opt = _optimizer()
    expected, _ = _run(ref_opt, getattr(T, name)(ref_opt, **kwargs), 53)   # one uninterrupted run
    runs = {}
    for module in (T, S):
        opt = _optimizer()
        _run(opt, getattr(module, name)(opt, **kwargs), 23)
        resumed = _optimizer()
        resumed.load_state_dict(copy.deepcopy(opt.state_dict()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about the initial step before optimizer.step()
            later = getattr(module, name)(resumed, last_epoch=22, **kwargs)
        runs[module] = [_lrs(resumed)] + _run(resumed, later, 30)[0]
    _close(runs[S], expected[22:])
    if name == "CosineAnnealingWarmRestarts" and kwargs.get("T_mult", 1) > 1:
        # torch restarts the count from T_i = T_0 here, off the uninterrupted schedule; ours resumes on it
        assert not torch.allclose(torch.tensor(runs[T]), torch.tensor(expected[22:]))
    else:
        _close(runs[T], expected[22:])


# ----------------------------------------------------------------- chainable, as torch's: composition with others
# (id, the course's scheduler, torch's twin); for the two schedules torch lacks, the torch scheduler that steps alike
def _inverse_time_twin(k):
    return lambda opt: T.MultiplicativeLR(opt, lambda t: (1 + k * (t - 1)) / (1 + k * t))


def _closed_form_twin(case):
    """The torch scheduler to compare with inside SequentialLR, which restarts a schedule from its closed form
    at its milestone: torch's twin, or for 1/t LambdaLR (MultiplicativeLR has no closed form)."""
    if case[0] == "InverseTimeLR":
        return lambda opt: T.LambdaLR(opt, lambda t: 1 / (1 + 0.3 * t))
    return case[2]


CHAIN_CASES = [(f"{name}-{i}", (lambda o, n=name, kw=kw: getattr(S, n)(o, **kw)),
                (lambda o, n=name, kw=kw: getattr(T, n)(o, **kw))) for i, (name, kw) in enumerate(CASES)] + [
    ("ExponentialDecayLR-smooth", lambda o: ExponentialDecayLR(o, gamma=0.1, step_size=8),
     lambda o: T.ExponentialLR(o, gamma=0.1 ** (1 / 8))),
    ("ExponentialDecayLR-staircase", lambda o: ExponentialDecayLR(o, gamma=0.5, step_size=4, staircase=True),
     lambda o: T.StepLR(o, step_size=4, gamma=0.5)),
    ("InverseTimeLR", lambda o: InverseTimeLR(o, k=0.3), _inverse_time_twin(0.3)),
]
CHAIN_IDS = [c[0] for c in CHAIN_CASES]
CHAIN_STEPS = 30


def _tight(a, b):
    """Two lr trajectories equal to 1e-12, relative."""
    torch.testing.assert_close(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64),
                               rtol=1e-12, atol=0)


def _trajectory(build, steps=CHAIN_STEPS, edit=None, tensor_lr=False):
    """Build schedulers on a fresh optimizer (``build(opt)`` returns the ones to step, in order), step them
    together ``steps`` times; the rates before the first step and after each one. ``edit(opt, t)`` may change
    the rates by hand before step t."""
    lrs = [torch.tensor(lr, dtype=torch.float64) for lr in LRS] if tensor_lr else LRS
    opt = _optimizer(lrs=lrs)
    schedulers = build(opt)
    rates = [_lrs(opt)]
    for t in range(steps):
        if edit is not None:
            edit(opt, t)
        opt.step()
        for s in schedulers:
            s.step()
        rates.append(_lrs(opt))
    return rates


def test_the_issue_examples_compose_as_in_torch():
    for module in (S, T):
        opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.05)
        step, multi = module.StepLR(opt, 3, 0.1), module.MultiStepLR(opt, [3], 0.1)
        for _ in range(3):
            opt.step(), step.step(), multi.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.0005, rel=1e-12)   # both cut at epoch 3
        opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.05)
        T.ChainedScheduler([T.LinearLR(opt, start_factor=0.4, total_iters=4), module.MultiStepLR(opt, [10])])
        assert opt.param_groups[0]["lr"] == pytest.approx(0.02, rel=1e-12)    # the warm-up's start is kept


@pytest.mark.parametrize("case", CHAIN_CASES, ids=CHAIN_IDS)
def test_stacked_on_another_scheduler_like_torch(case):
    _, ours, theirs = case
    for second in ("MultiStepLR", "ExponentialLR"):          # a second scheduler on the same optimizer
        kw = dict(milestones=[4, 9, 9], gamma=0.5) if second == "MultiStepLR" else dict(gamma=0.93)
        got = _trajectory(lambda o: [ours(o), getattr(S, second)(o, **kw)])
        expected = _trajectory(lambda o: [theirs(o), getattr(T, second)(o, **kw)])
        _tight(got, expected)
        _tight(_trajectory(lambda o: [getattr(S, second)(o, **kw), ours(o)]),  # the other order too
               _trajectory(lambda o: [getattr(T, second)(o, **kw), theirs(o)]))


@pytest.mark.parametrize("case", CHAIN_CASES, ids=CHAIN_IDS)
def test_in_torchs_chained_scheduler_like_torch(case):
    _, ours, theirs = case

    def chained(make):
        return lambda o: [T.ChainedScheduler([T.LinearLR(o, start_factor=0.2, total_iters=6), make(o),
                                              T.ExponentialLR(o, gamma=0.97)])]

    _tight(_trajectory(chained(ours)), _trajectory(chained(theirs)))


@pytest.mark.parametrize("case", CHAIN_CASES, ids=CHAIN_IDS)
def test_in_torchs_sequential_lr_after_a_warm_up_and_before_another(case):
    _, ours, theirs = case[0], case[1], _closed_form_twin(case)

    def warm_up_then(make):  # the usual warm-up: LinearLR for 5 steps, then the schedule
        return lambda o: [T.SequentialLR(o, [T.LinearLR(o, start_factor=0.1, total_iters=5), make(o)],
                                         milestones=[5])]

    def then_exponential(make):  # the schedule first, then another from epoch 12
        return lambda o: [T.SequentialLR(o, [make(o), T.ExponentialLR(o, gamma=0.9)], milestones=[12])]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's warning about the order of the first steps in SequentialLR
        for wrap in (warm_up_then, then_exponential):
            _tight(_trajectory(wrap(ours)), _trajectory(wrap(theirs)))


@pytest.mark.parametrize("case", CHAIN_CASES, ids=CHAIN_IDS)
def test_a_rate_set_by_hand_mid_run_like_torch(case):
    _, ours, theirs = case

    def edit(opt, t):
        if t in (10, 17):
            for g in opt.param_groups:
                g["lr"] = g["lr"] * 0.3 + 0.001

    got, expected = _trajectory(lambda o: [ours(o)], edit=edit), _trajectory(lambda o: [theirs(o)], edit=edit)
    _tight(got, expected)


@pytest.mark.parametrize("case", CHAIN_CASES, ids=CHAIN_IDS)
def test_tensor_rates_are_updated_in_place_like_torch(case):
    _, ours, theirs = case
    opts = {}
    for key, make in (("ours", ours), ("torch", theirs)):
        opt = _optimizer(lrs=[torch.tensor(lr, dtype=torch.float64) for lr in LRS])
        tensors = [g["lr"] for g in opt.param_groups]
        sched = make(opt)
        for _ in range(CHAIN_STEPS):
            opt.step()
            sched.step()
            assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors))   # the same tensor objects
            last = sched.get_last_lr()
            assert all(isinstance(v, Tensor) and v is not t for v, t in zip(last, tensors))  # copies
        opts[key] = opt
    _tight(_lrs(opts["ours"]), _lrs(opts["torch"]))
    _tight(_trajectory(lambda o: [ours(o)], tensor_lr=True), _trajectory(lambda o: [theirs(o)], tensor_lr=True))


def test_plateau_fills_a_tensor_rate_in_place_like_torch():
    metrics = _metrics()
    rates = {}
    for module in (S, T):
        opt = _optimizer(lrs=[torch.tensor(lr, dtype=torch.float64) for lr in LRS])
        tensors = [g["lr"] for g in opt.param_groups]
        sched = module.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        rates[module] = _run(opt, sched, 40, metrics)[0]
        assert all(g["lr"] is t for g, t in zip(opt.param_groups, tensors))
        assert all(isinstance(v, Tensor) and v is not t for v, t in zip(sched.get_last_lr(), tensors))
    assert rates[S] == rates[T] and len({tuple(r) for r in rates[T]}) >= 3


CLOSED_FORM = {  # the formula, to check step(epoch) against it
    "StepLR": lambda lr0, t, kw: lr0 * kw.get("gamma", 0.1) ** (t // kw["step_size"]),
    "MultiStepLR": lambda lr0, t, kw: lr0 * kw.get("gamma", 0.1) ** sum(m <= t for m in kw["milestones"]),
    "ExponentialLR": lambda lr0, t, kw: lr0 * kw["gamma"] ** t,
    "CosineAnnealingLR": lambda lr0, t, kw: (kw.get("eta_min", 0.0) + (lr0 - kw.get("eta_min", 0.0))
                                             * (1 + math.cos(math.pi * t / kw["T_max"])) / 2),
}


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] in CLOSED_FORM] +
                         [("MultiStepLR", dict(milestones=[9, 3, 3, 20], gamma=0.5))])
def test_step_with_an_epoch_uses_the_closed_form_like_torch(name, kwargs):
    epochs = [5, 17, 3, 40, 41, 0, 29, 60]
    ref_opt, ref, our_opt, ours = _pair(name, kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated in torch
        for epoch in epochs:
            ref.step(epoch), ours.step(epoch)
            _tight(_lrs(our_opt), _lrs(ref_opt))
            _tight(_lrs(our_opt), [CLOSED_FORM[name](lr0, epoch, kwargs) for lr0 in LRS])
            for _ in range(3):  # plain steps go on from there
                ref.step(), ours.step()
                _tight(_lrs(our_opt), _lrs(ref_opt))


def test_the_closed_form_of_the_schedules_torch_lacks():
    for make, formula in ((lambda o: ExponentialDecayLR(o, gamma=0.1, step_size=8), lambda t: 0.1 ** (t / 8)),
                          (lambda o: ExponentialDecayLR(o, gamma=0.5, step_size=4, staircase=True),
                           lambda t: 0.5 ** (t // 4)),
                          (lambda o: InverseTimeLR(o, k=0.3), lambda t: 1 / (1 + 0.3 * t))):
        opt = _optimizer()
        sched = make(opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (7, 30, 2, 0, 13):
                sched.step(epoch)
                _tight(_lrs(opt), [lr0 * formula(epoch) for lr0 in LRS])


def test_get_lr_outside_step_warns_as_torch():
    for module in (S, T):
        sched = module.StepLR(_optimizer(), step_size=3)
        with pytest.warns(UserWarning, match="get_last_lr"):
            sched.get_lr()


def test_multistep_accepts_repeated_and_unsorted_milestones_like_torch():
    kwargs = dict(milestones=[12, 3, 7, 3, 12, 12], gamma=0.5)     # 3 twice, 12 three times
    ref_opt, ref, our_opt, ours = _pair("MultiStepLR", kwargs)
    assert ours.milestones == ref.milestones
    got, expected = _run(our_opt, ours, CHAIN_STEPS)[0], _run(ref_opt, ref, CHAIN_STEPS)[0]
    _tight(got, expected)
    assert got[3][0] == pytest.approx(0.1 * 0.25) and got[12][0] == pytest.approx(0.1 * 0.5 ** 6)


def test_cyclic_accepts_momenta_above_one_like_torch():
    kwargs = dict(base_lr=0.01, max_lr=0.1, step_size_up=4, base_momentum=1.0, max_momentum=12.0)
    ref_opt, ref, our_opt, ours = _pair("CyclicLR", kwargs)
    ref_rates, ref_m = _run(ref_opt, ref, CHAIN_STEPS)
    our_rates, our_m = _run(our_opt, ours, CHAIN_STEPS)
    _tight(our_rates, ref_rates)
    _tight(our_m, ref_m)
    assert max(max(m) for m in our_m) == pytest.approx(12.0) and min(min(m) for m in our_m) == pytest.approx(1.0)


@pytest.mark.parametrize("T_mult", [1, 2])
def test_warm_restarts_take_a_hand_set_T_cur_modulo_the_period_like_torch(T_mult):
    ref_opt, ref, our_opt, ours = _pair("CosineAnnealingWarmRestarts", dict(T_0=10, T_mult=T_mult))
    for _ in range(3):
        ref_opt.step(), our_opt.step()
        ref.step(), ours.step()
    ref.T_cur = ours.T_cur = 34                                # more than three periods past: wraps to 35 % 10
    for _ in range(CHAIN_STEPS):
        ref_opt.step(), our_opt.step()
        ref.step(), ours.step()
        _tight(_lrs(our_opt), _lrs(ref_opt))
        assert (ours.T_cur, ours.T_i) == (ref.T_cur, ref.T_i)


# ----------------------------------------------------------------- cases after PyTorch's own scheduler tests
# (test/optim/test_lrscheduler.py), run on the course's classes: their optimizer has two groups, one with a
# float rate 0.05 and one with a tensor rate 0.5, and the expected rates are written out.
def _torch_test_optimizer():
    return torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(2))]},
                            {"params": [nn.Parameter(torch.zeros(2))], "lr": torch.tensor(0.5)}], lr=0.05)


def _expect(opt, schedulers, single, epochs=None, factor=10.0):
    """Step ``schedulers`` together; before each step the rates must be ``single[t]`` (group 0) and
    ``factor · single[t]`` (group 1, the tensor rate)."""
    epochs = len(single) if epochs is None else epochs
    tensor = opt.param_groups[1]["lr"]
    for t in range(epochs):
        got = _lrs(opt)
        # float32 tensor: rel 1e-6; the recursive cosine scaled by another schedule is the product of the
        # two formulas only up to eta_min's share (torch's own test allows 1e-5 absolute)
        assert got == pytest.approx([single[t], factor * single[t]], rel=1e-6, abs=1e-9), t
        opt.step()
        for s in schedulers:
            s.step()
    assert opt.param_groups[1]["lr"] is tensor                      # the tensor rate was updated in place


def _cosine_targets(epochs, eta_min=1e-10, lr0=0.05):
    return [eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * x / epochs)) / 2 for x in range(epochs)]


COMPOUND = {  # name: (the schedulers on the optimizer, from module M, the rates of group 0 before each step)
    "step+multistep": (lambda o, M: [M.StepLR(o, gamma=0.1, step_size=3),
                                     M.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])],
                       [0.05] * 2 + [0.005] + [5e-4] * 2 + [5e-5] + [5e-6] * 3 + [5e-8]),
    "step+exp": (lambda o, M: [M.StepLR(o, gamma=0.1, step_size=3), M.ExponentialLR(o, gamma=0.9)],
                 [0.05 * 0.1 ** (x // 3) * 0.9 ** x for x in range(10)]),
    "exp+multistep": (lambda o, M: [M.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]), M.ExponentialLR(o, gamma=0.9)],
                      [0.05 * 0.1 ** sum(x >= m for m in (2, 5, 9)) * 0.9 ** x for x in range(10)]),
    "step+constant": (lambda o, M: [M.StepLR(o, gamma=0.1, step_size=3), T.ConstantLR(o, factor=0.4, total_iters=4)],
                      [0.05 * 0.4] * 3 + [0.005 * 0.4] + [0.005] * 2 + [0.0005] * 3 + [0.00005]),
    "multistep+linear": (lambda o, M: [M.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
                                    T.LinearLR(o, start_factor=0.4, total_iters=4)],
                         [lr * (0.4 + min(i, 4) / 4 * 0.6) for i, lr in
                          enumerate([0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005])]),
    "cosine+step": (lambda o, M: [M.CosineAnnealingLR(o, T_max=10, eta_min=1e-10), M.StepLR(o, gamma=0.1, step_size=3)],
                    [x * 0.1 ** (i // 3) for i, x in enumerate(_cosine_targets(10))]),
    "cosine+multistep": (lambda o, M: [M.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
                                    M.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])],
                         [x * m for x, m in zip(_cosine_targets(10), [1] * 2 + [0.1] * 3 + [0.01] * 4 + [0.001])]),
    "cosine+exp": (lambda o, M: [M.CosineAnnealingLR(o, T_max=10, eta_min=1e-10), M.ExponentialLR(o, gamma=0.1)],
                   [x * 0.1 ** i for i, x in enumerate(_cosine_targets(10))]),
    "linear+cosine": (lambda o, M: [T.LinearLR(o, start_factor=0.4, total_iters=4),
                                 M.CosineAnnealingLR(o, T_max=10, eta_min=1e-10)],
                      [x * (0.4 + min(i, 4) / 4 * 0.6) for i, x in enumerate(_cosine_targets(10))]),
    "chained: linear, multistep": (
        lambda o, M: [T.ChainedScheduler([T.LinearLR(o, start_factor=0.4, total_iters=3),
                                       M.MultiStepLR(o, milestones=[4, 8, 10], gamma=0.1)])],
        [0.02, 0.03, 0.04, 0.05] + [0.005] * 4 + [0.0005] * 2),
    "chained: exp, constant, step": (
        lambda o, M: [T.ChainedScheduler([M.ExponentialLR(o, gamma=0.9), T.ConstantLR(o, factor=0.2, total_iters=4),
                                       M.StepLR(o, gamma=0.1, step_size=3)])],
        [0.05 * 0.2 * 0.9 ** x for x in range(3)] + [0.05 * 0.2 * 0.9 ** 3 * 0.1]
        + [0.05 * 0.9 ** x * 0.1 for x in range(4, 6)] + [0.05 * 0.9 ** x * 0.01 for x in range(6, 9)]),
    "sequential: exp, then step": (
        lambda o, M: [T.SequentialLR(o, [M.ExponentialLR(o, gamma=0.8), M.StepLR(o, gamma=0.1, step_size=4)], [3])],
        [0.05, 0.04, 0.032] + [0.05] * 4 + [0.005] * 4 + [0.0005] * 4 + [0.00005] * 4),
    "sequential: constant, exp, step": (
        lambda o, M: [T.SequentialLR(o, [T.ConstantLR(o, factor=0.1, total_iters=3), M.ExponentialLR(o, gamma=0.8),
                                      M.StepLR(o, gamma=0.1, step_size=2)], [3, 6])],
        [0.005] * 3 + [0.05, 0.04, 0.032] + [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005]),
}


@pytest.mark.parametrize("key", list(COMPOUND))
def test_torchs_compound_and_chained_cases(key):
    make, single = COMPOUND[key]
    rates = {}
    for module in (S, T):
        opt = _torch_test_optimizer()
        with warnings.catch_warnings():
            warnings.simplefilter("error")          # and no warning along the way (torch's no-warnings test)
            _expect(opt, make(opt, module), single)
        rates[module] = _lrs(opt)
    _tight(rates[S], rates[T])                      # and torch's classes in their place give the same rates


def test_torchs_plateau_compound_with_step_and_a_tensor_rate():
    opt = _torch_test_optimizer()
    opt.param_groups[0]["lr"] = 0.5
    opt.param_groups[1]["lr"].fill_(0.5)
    plateau = S.ReduceLROnPlateau(opt, threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5)
    step = S.StepLR(opt, gamma=0.1, step_size=3)
    metrics = [10 - i * 0.0167 for i in range(20)]
    for epoch in range(10):
        opt.step()
        plateau.step(metrics[epoch])
        step.step()
        assert _lrs(opt) == pytest.approx([0.5 * 0.1 ** ((epoch + 1) // 3)] * 2, rel=1e-6)
    assert all(type(g["lr"]) is t for g, t in zip(opt.param_groups, (float, Tensor)))   # types preserved


@pytest.mark.parametrize("mode,single,momenta", [
    ("triangular", [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3], [5, 4, 3, 2, 1, 2, 3, 4, 5, 4, 3]),
    ("triangular2", [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2, 2.5, 3, 2.5, 2, 1.5, 1, 1.25, 1.5, 1.75, 2, 1.75],
     [5, 4, 3, 2, 1, 2, 3, 4, 5, 4.5, 4, 3.5, 3, 3.5, 4, 4.5, 5, 4.75, 4.5, 4.25, 4, 4.25]),
])
def test_torchs_cyclic_cases_with_momenta_from_1_to_5(mode, single, momenta):
    opt = _torch_test_optimizer()
    sched = S.CyclicLR(opt, base_lr=1, max_lr=5, step_size_up=4, base_momentum=1, max_momentum=5, mode=mode)
    for t in range(len(single)):
        assert _lrs(opt) == pytest.approx([single[t]] * 2) and _momenta(opt) == pytest.approx([momenta[t]] * 2)
        opt.step()
        sched.step()


def test_torchs_cyclic_exp_range_case_up_to_12():
    opt = _torch_test_optimizer()
    sched = S.CyclicLR(opt, base_lr=[1, 5], max_lr=[5, 12], step_size_up=4, base_momentum=[1, 5],
                       max_momentum=[5, 12], mode="exp_range", gamma=0.9)
    xs = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1]
    for i, x in enumerate(xs):
        assert _lrs(opt) == pytest.approx([1 + x * 4 * 0.9 ** i, 5 + x * 7 * 0.9 ** i])
        assert _momenta(opt) == pytest.approx([5 - x * 4 * 0.9 ** i, 12 - x * 7 * 0.9 ** i])
        opt.step()
        sched.step()


@pytest.mark.parametrize("T_mult,epochs,T_curs,T_is", [
    (1, [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13], [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3], [10] * 12),
    (2, [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3], [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3],
     [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10]),
    (3, [0, 0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50],
     [0.1, 0.2, 0.3, 1.3, 2.3, 7.5, 8.5, 9.5, 19.5, 20.5, 21.5, 10], [10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30, 90]),
])
def test_torchs_warm_restarts_with_epochs_given_in_any_order(T_mult, epochs, T_curs, T_is):
    opt = _torch_test_optimizer()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=T_mult, eta_min=1e-10)
    expected = [0.05] + [1e-10 + (0.05 - 1e-10) * (1 + math.cos(math.pi * c / i)) / 2 for c, i in zip(T_curs, T_is)]
    for epoch, lr in zip(epochs, expected):
        sched.step(epoch)
        assert _lrs(opt) == pytest.approx([lr, 10 * lr], rel=1e-6, abs=1e-9)


def test_torchs_warm_restarts_T_cur_reset():
    sched = S.CosineAnnealingWarmRestarts(_torch_test_optimizer(), T_0=4)
    for epoch in (7, 8, 9):
        sched.T_cur = epoch
        sched.step()
        assert sched.T_cur == (epoch + 1) % 4


@pytest.mark.parametrize("make", [lambda o: S.StepLR(o, 2), lambda o: S.ExponentialLR(o, gamma=0.9),
                                  lambda o: S.MultiStepLR(o, [1, 3]), lambda o: S.CosineAnnealingLR(o, T_max=5)],
                         ids=["step", "exp", "multistep", "cosine"])
def test_torchs_rate_is_constant_for_a_constant_epoch(make):
    opt = _torch_test_optimizer()
    sched = make(opt)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(10):
            opt.step()
            sched.step(2)
            seen.append(_lrs(opt))
    assert all(s == seen[0] for s in seen)


@pytest.mark.parametrize("make", [lambda o, **kw: S.ExponentialLR(o, gamma=0.999, **kw),
                                  lambda o, **kw: S.StepLR(o, step_size=30, **kw),
                                  lambda o, **kw: S.MultiStepLR(o, milestones=[30, 80], **kw),
                                  lambda o, **kw: S.CosineAnnealingLR(o, T_max=10, **kw),
                                  lambda o, **kw: S.CosineAnnealingWarmRestarts(o, T_0=20, **kw),
                                  lambda o, **kw: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, **kw)],
                         ids=["exp", "step", "multistep", "cosine", "warm-restarts", "cyclic"])
def test_torchs_checkpoint_case_resumes_at_the_saved_rate(make):
    model = nn.Linear(3, 3)
    opt = torch.optim.AdamW(model.parameters())
    sched = make(opt)
    opt.step()
    sched.step()
    opt2 = torch.optim.AdamW(model.parameters())
    opt2.load_state_dict(opt.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed = make(opt2, last_epoch=0)
    assert resumed.get_last_lr()[0] == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


@pytest.mark.parametrize("make", [lambda o: S.StepLR(o, step_size=30), lambda o: S.MultiStepLR(o, [30, 80]),
                                  lambda o: S.ExponentialLR(o, gamma=0.9), lambda o: S.CosineAnnealingLR(o, T_max=10),
                                  lambda o: S.CosineAnnealingWarmRestarts(o, T_0=20),
                                  lambda o: ExponentialDecayLR(o, gamma=0.5, step_size=3),
                                  lambda o: InverseTimeLR(o, k=0.5)],
                         ids=["step", "multistep", "exp", "cosine", "warm-restarts", "exp-decay", "1/t"])
def test_torchs_initial_lr_does_not_alias_a_tensor_rate(make):
    lr = torch.as_tensor(0.1)
    opt = torch.optim.SGD([nn.Parameter(torch.randn(1))], lr=lr)
    sched = make(opt)
    initial = copy.deepcopy(opt.param_groups[0]["initial_lr"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(2):
            opt.step()
            sched.step(i)
            lr.multiply_(0.1)                         # the user's tensor changes: base_lrs and initial_lr do not
            assert opt.param_groups[0]["initial_lr"] == initial and sched.base_lrs == [0.1]
            assert sched.base_lrs[0] is not opt.param_groups[0]["initial_lr"]
