"""course_lib.optim against torch.optim: whole training trajectories, state_dicts both ways, and bad hyperparameters."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import optim as ours
from course_lib.models import mlp

STEPS = 60      # steps per trajectory
N_BATCHES = 6   # the fixed batch sequence cycles through this many mini-batches

# (class name, hyperparameters): every flag of every optimizer, with a learning rate that moves the
# weights a long way in STEPS steps. Non-default eps values make the place of ε in each formula visible.
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.05, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-2)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.05, maximize=True)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, eps=1e-3)),
    ("RMSprop", dict(lr=1e-3, centered=True)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.9, weight_decay=0.05)),
    ("Adadelta", dict()),
    ("Adadelta", dict(rho=0.5, eps=1e-4)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.05)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-3)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, amsgrad=True)),
    ("Adam", dict(lr=1e-2, maximize=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.2, amsgrad=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, momentum_decay=0.05, eps=1e-3)),
    ("NAdam", dict(weight_decay=0.1)),
    ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
]
CLASSES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam"]
# One stateful setting per class, for the tests that need only one.
STATEFUL = {"SGD": dict(lr=0.1, momentum=0.9, nesterov=True), "Adagrad": dict(lr=0.1, lr_decay=0.05),
            "RMSprop": dict(lr=1e-3, centered=True, momentum=0.9), "Adadelta": dict(rho=0.8),
            "Adam": dict(lr=1e-2, amsgrad=True), "AdamW": dict(lr=1e-2), "NAdam": dict(lr=1e-2)}


def _ids(cases):
    return [f"{name}-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults") for name, kw in cases]


# --------------------------------------------------------------------------- the problem
def _batches(device, dtype, seed=0):
    """A fixed sequence of mini-batches: 20 Gaussian inputs, labels of a random linear teacher."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N_BATCHES, 32, 20, generator=g, dtype=torch.float64)
    teacher = torch.randn(20, 5, generator=g, dtype=torch.float64)
    y = (x @ teacher).argmax(-1)
    return x.to(device=device, dtype=dtype), y.to(device)


def _model(device, dtype, seed=0):
    """A real small network: MLP 20-32-32-5 with tanh (smooth, so float rounding cannot flip a kink)."""
    return mlp(20, [32, 32], 5, activation="tanh", generator=torch.Generator().manual_seed(seed)).to(device, dtype)


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _train(model, opt, batches, steps, start=0, closure=False):
    """Run ``steps`` steps from batch ``start`` on; return the parameters after each step, stacked."""
    x, y = batches
    trajectory = []
    for i in range(start, start + steps):
        xb, yb = x[i % N_BATCHES], y[i % N_BATCHES]

        def loss_fn():
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            return loss

        if closure:
            opt.step(loss_fn)
        else:
            loss_fn()
            opt.step()
        trajectory.append(_flat(model))
    return torch.stack(trajectory)


def _pair(device, dtype, name, kw, seed=0):
    """Two identical models, one with our optimizer and one with torch's."""
    a, b = _model(device, dtype, seed), _model(device, dtype, seed)
    return (a, getattr(ours, name)(a.parameters(), **kw)), (b, getattr(torch.optim, name)(b.parameters(), **kw))


def _skip_float64_on_mps(device):
    if device.type == "mps":
        pytest.skip("MPS has no float64")


def _tolerance(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-11)


def _assert_same_trajectory(device, dtype, name, kw, closure=False):
    batches = _batches(device, dtype)
    (m1, o1), (m2, o2) = _pair(device, dtype, name, kw)
    start = _flat(m2)
    t1 = _train(m1, o1, batches, STEPS, closure=closure)
    t2 = _train(m2, o2, batches, STEPS, closure=closure)
    moved = (t2[-1] - start).abs().max().item()
    assert moved > 0.05, f"the reference barely moved ({moved:.3g}): the comparison would prove nothing"
    torch.testing.assert_close(t1, t2, **_tolerance(dtype))


# --------------------------------------------------------------------------- trajectories
@pytest.mark.parametrize("name, kw", CASES, ids=_ids(CASES))
def test_follows_torch_trajectory_in_float32(device, name, kw):
    _assert_same_trajectory(device, torch.float32, name, kw)


@pytest.mark.parametrize("name, kw", CASES, ids=_ids(CASES))
def test_follows_torch_trajectory_in_float64(device, name, kw):
    # In double precision rounding is ~1e-16, so a tolerance of 1e-9 leaves no room for a different formula
    # (eps inside or outside a square root, a missing bias-correction factor) hiding behind float32 noise.
    _skip_float64_on_mps(device)
    _assert_same_trajectory(device, torch.float64, name, kw)


@pytest.mark.parametrize("name, kw, other", [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("RMSprop", dict(lr=1e-2, eps=1e-3), dict(lr=1e-2, eps=1.1e-3)),
    ("Adam", dict(lr=1e-2), dict(lr=1e-2, betas=(0.9, 0.99))),
    ("NAdam", dict(lr=1e-2), dict(lr=1e-2, momentum_decay=5e-3)),
])
def test_the_comparison_sees_a_small_change_of_a_hyperparameter(name, kw, other):
    batches = _batches("cpu", torch.float64)
    a, b = _model("cpu", torch.float64), _model("cpu", torch.float64)
    t1 = _train(a, getattr(ours, name)(a.parameters(), **kw), batches, STEPS)
    t2 = _train(b, getattr(torch.optim, name)(b.parameters(), **other), batches, STEPS)
    assert (t1 - t2).abs().max() > 1e3 * _tolerance(torch.float64)["atol"]


@pytest.mark.parametrize("name", CLASSES)
def test_param_groups_with_their_own_hyperparameters(device, name):
    kw = STATEFUL[name]
    lr = kw.get("lr", 1.0)
    batches = _batches(device, torch.float32)
    runs = []
    for module in (ours, torch.optim):
        model = _model(device, torch.float32)
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
        opt = getattr(module, name)([{"params": weights, "weight_decay": 0.05},
                                     {"params": biases, "lr": lr / 4}], **kw)
        runs.append(_train(model, opt, batches, STEPS))
    torch.testing.assert_close(runs[0], runs[1], **_tolerance(torch.float32))


@pytest.mark.parametrize("name", CLASSES)
def test_closure_is_called_and_its_loss_returned(device, name):
    _assert_same_trajectory(device, torch.float32, name, STATEFUL[name], closure=True)
    model = _model(device, torch.float32)
    opt = getattr(ours, name)(model.parameters(), **STATEFUL[name])
    x, y = _batches(device, torch.float32)
    calls = []

    def closure():
        calls.append(torch.is_grad_enabled())
        opt.zero_grad()
        loss = F.cross_entropy(model(x[0]), y[0])
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert calls == [True]  # called once, with gradients enabled although step runs under no_grad
    assert isinstance(loss, torch.Tensor) and loss.ndim == 0
    assert opt.step() is None


def test_works_with_a_torch_lr_scheduler(device):
    batches = _batches(device, torch.float32)
    runs = []
    for module in (ours, torch.optim):
        model = _model(device, torch.float32)
        opt = module.SGD(model.parameters(), lr=0.2, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        trajectory = []
        for k in range(5):
            trajectory.append(_train(model, opt, batches, 10, start=10 * k))
            sched.step()
        runs.append(torch.cat(trajectory))
        assert opt.param_groups[0]["lr"] == pytest.approx(0.2 * 0.5 ** 5)
    torch.testing.assert_close(runs[0], runs[1], **_tolerance(torch.float32))


def test_a_tensor_learning_rate_is_kept_and_used(device):
    batches = _batches(device, torch.float32)
    a, b = _model(device, torch.float32), _model(device, torch.float32)
    opt = ours.Adam(a.parameters(), lr=torch.tensor(1e-2))
    assert isinstance(opt.param_groups[0]["lr"], torch.Tensor)
    torch.testing.assert_close(_train(a, opt, batches, 20),
                               _train(b, torch.optim.Adam(b.parameters(), lr=1e-2), batches, 20))


# --------------------------------------------------------------------------- state: names and state_dicts
@pytest.mark.parametrize("name", CLASSES)
def test_state_has_torchs_names_types_and_devices(device, name):
    (m1, o1), (m2, o2) = _pair(device, torch.float32, name, STATEFUL[name])
    batches = _batches(device, torch.float32)
    _train(m1, o1, batches, 3)
    _train(m2, o2, batches, 3)
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert s1["state"].keys() == s2["state"].keys()
    for i in s2["state"]:
        assert s1["state"][i].keys() == s2["state"][i].keys()
        for key, ref in s2["state"][i].items():
            mine = s1["state"][i][key]
            assert (mine.shape, mine.dtype, mine.device) == (ref.shape, ref.dtype, ref.device), (i, key)
        if "step" in s2["state"][i]:
            assert s1["state"][i]["step"].item() == s2["state"][i]["step"].item() == 3
    for g1, g2 in zip(s1["param_groups"], s2["param_groups"]):
        extra = {"bias_correction"} if name in ("Adam", "AdamW") else set()
        assert set(g1) == set(g2) | extra
        assert all(g1[k] == g2[k] for k in g2)  # the same hyperparameters, the defaults included


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "NAdam"])
def test_parameters_without_a_gradient_get_no_state(name):
    (m1, o1), (m2, o2) = _pair("cpu", torch.float32, name, STATEFUL[name])
    for model in (m1, m2):
        model[1].weight.requires_grad_(False)  # freeze the first layer's weight
    batches = _batches("cpu", torch.float32)
    t1, t2 = _train(m1, o1, batches, 5), _train(m2, o2, batches, 5)
    torch.testing.assert_close(t1, t2)
    assert o1.state_dict()["state"].keys() == o2.state_dict()["state"].keys()
    assert m1[1].weight not in o1.state


def test_adagrad_creates_its_state_in_the_constructor_as_torch_does():
    a, b = _model("cpu", torch.float32), _model("cpu", torch.float32)
    s1 = ours.Adagrad(a.parameters(), initial_accumulator_value=0.3).state_dict()
    s2 = torch.optim.Adagrad(b.parameters(), initial_accumulator_value=0.3).state_dict()
    assert s1["state"].keys() == s2["state"].keys() == set(range(len(list(a.parameters()))))
    for i in s2["state"]:
        assert torch.equal(s1["state"][i]["sum"], s2["state"][i]["sum"])
        assert torch.equal(s1["state"][i]["step"], s2["state"][i]["step"])


def test_a_param_group_added_later(device):
    batches = _batches(device, torch.float32)
    runs = []
    for module in (ours, torch.optim):
        model = _model(device, torch.float32)
        last = list(model[-1].parameters())
        for p in last:
            p.requires_grad_(False)
        opt = module.Adagrad([p for p in model.parameters() if p.requires_grad], lr=0.1)
        first = _train(model, opt, batches, 10)
        for p in last:
            p.requires_grad_(True)
        opt.add_param_group({"params": last, "lr": 0.05})
        runs.append(torch.cat([first, _train(model, opt, batches, 10, start=10)]))
    torch.testing.assert_close(runs[0], runs[1], **_tolerance(torch.float32))


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("direction", ["torch_to_ours", "ours_to_torch"])
def test_state_dict_loads_mid_run_and_the_run_continues_on_the_same_trajectory(device, name, direction):
    kw = STATEFUL[name]
    batches = _batches(device, torch.float32)
    # Reference: torch's optimizer (or ours) all the way.
    first = torch.optim if direction == "torch_to_ours" else ours
    second = ours if direction == "torch_to_ours" else torch.optim
    ref_model = _model(device, torch.float32)
    ref_opt = getattr(first, name)(ref_model.parameters(), **kw)
    _train(ref_model, ref_opt, batches, 20)
    at_20 = _flat(ref_model)
    saved_model = copy.deepcopy(ref_model.state_dict())
    saved_opt = copy.deepcopy(ref_opt.state_dict())
    ref_rest = _train(ref_model, ref_opt, batches, 30, start=20)
    # Switch: a new model and the other implementation, both loaded from the checkpoint at step 20.
    model = _model(device, torch.float32, seed=1)
    model.load_state_dict(saved_model)
    opt = getattr(second, name)(model.parameters(), **kw)
    opt.load_state_dict(saved_opt)
    for group in opt.param_groups:
        if name in ("Adam", "AdamW"):
            assert group.get("bias_correction", True) is True
    rest = _train(model, opt, batches, 30, start=20)
    torch.testing.assert_close(rest, ref_rest, **_tolerance(torch.float32))
    assert (rest[-1] - at_20).abs().max() > 0.01  # the continued run really moved


def test_a_loaded_state_dict_keeps_the_courses_own_switch():
    model = _model("cpu", torch.float32)
    ref = torch.optim.Adam(model.parameters())
    _train(model, ref, _batches("cpu", torch.float32), 2)
    opt = ours.Adam(model.parameters(), bias_correction=False)
    opt.load_state_dict(ref.state_dict())  # torch's state_dict has no bias_correction key
    assert opt.param_groups[0]["bias_correction"] is False
    opt = ours.AdamW(model.parameters())
    opt.load_state_dict(ref.state_dict())  # Adam's groups say decoupled_weight_decay=False; AdamW stays AdamW
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_deepcopy_of_an_optimizer_keeps_running():
    model = _model("cpu", torch.float32)
    opt = ours.NAdam(model.parameters(), lr=1e-2)
    batches = _batches("cpu", torch.float32)
    _train(model, opt, batches, 3)
    model2 = copy.deepcopy(model)
    opt2 = ours.NAdam(model2.parameters(), lr=1e-2)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
    torch.testing.assert_close(_train(model2, opt2, batches, 5, start=3), _train(model, opt, batches, 5, start=3))


# --------------------------------------------------------------------------- Adam's bias correction switch
def _constant_gradient_run(device, cls, steps, **kw):
    """Minimize f(θ) = c·θ (gradient c, the same on every step); return the step taken at t = 1..steps."""
    c = torch.tensor([3.0, -0.5, 1e-3, 20.0], dtype=torch.float64, device=device)
    theta = torch.zeros(4, dtype=torch.float64, device=device, requires_grad=True)
    opt = cls([theta], **kw)
    deltas = []
    for _ in range(steps):
        before = theta.detach().clone()
        opt.zero_grad()
        (c * theta).sum().backward()
        opt.step()
        deltas.append(theta.detach() - before)
    return c, torch.stack(deltas)


@pytest.mark.parametrize("cls", [ours.Adam, ours.AdamW])
def test_adam_without_bias_correction_follows_the_formula(device, cls):
    _skip_float64_on_mps(device)
    # With a constant gradient c: m_t = (1 − β₁ᵗ) c and v_t = (1 − β₂ᵗ) c². So
    #   bias-corrected (torch):  θ_t − θ_{t−1} = −α c / (|c| + ε)
    #   uncorrected:             θ_t − θ_{t−1} = −α (1 − β₁ᵗ) c / (√(1 − β₂ᵗ) |c| + ε)
    lr, (b1, b2), eps, steps = 0.01, (0.9, 0.999), 1e-8, 5
    kw = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=0.0)
    c, corrected = _constant_gradient_run(device, cls, steps, **kw)
    _, reference = _constant_gradient_run(device, getattr(torch.optim, cls.__name__), steps, **kw)
    _, uncorrected = _constant_gradient_run(device, cls, steps, bias_correction=False, **kw)
    t = torch.arange(1, steps + 1, dtype=torch.float64, device=device)[:, None]
    torch.testing.assert_close(corrected, reference, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(corrected, (-lr * c / (c.abs() + eps)).expand(steps, -1), rtol=1e-12, atol=1e-15)
    expected = -lr * (1 - b1 ** t) * c / ((1 - b2 ** t).sqrt() * c.abs() + eps)
    torch.testing.assert_close(uncorrected, expected, rtol=1e-12, atol=1e-15)
    # The first uncorrected step is (1 − β₁)/√(1 − β₂) ≈ 3.16 times Adam's (where |c| >> ε).
    ratio = uncorrected[0] / corrected[0]
    torch.testing.assert_close(ratio[[0, 1, 3]], torch.full((3,), (1 - b1) / math.sqrt(1 - b2), dtype=torch.float64,
                                                             device=device), rtol=1e-5, atol=0)
    assert (ratio[[0, 1, 3]] > 3.1).all()


def test_bias_correction_switch_in_a_real_run_differs_from_torch():
    batches = _batches("cpu", torch.float32)
    a, b = _model("cpu", torch.float32), _model("cpu", torch.float32)
    t1 = _train(a, ours.Adam(a.parameters(), lr=1e-3, bias_correction=False), batches, 10)
    t2 = _train(b, torch.optim.Adam(b.parameters(), lr=1e-3), batches, 10)
    assert (t1 - t2).abs().max() > 1e-3


# --------------------------------------------------------------------------- the two momentum forms
def _quadratic(theta):
    """A long narrow valley: f(x, y) = ½ (x² + 25 y²)."""
    return 0.5 * (theta[0] ** 2 + 25 * theta[1] ** 2)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sutskever_momentum_gives_pytorchs_iterates_for_a_constant_lr(device, nesterov):
    kw = dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
    batches = _batches(device, torch.float32)
    a, b = _model(device, torch.float32), _model(device, torch.float32)
    sut, pt = ours.SutskeverSGD(a.parameters(), **kw), torch.optim.SGD(b.parameters(), **kw)
    t1, t2 = _train(a, sut, batches, STEPS), _train(b, pt, batches, STEPS)
    torch.testing.assert_close(t1, t2, **_tolerance(torch.float32))
    for pa, pb in zip(a.parameters(), b.parameters()):  # velocity = −α · momentum_buffer
        torch.testing.assert_close(sut.state[pa]["velocity"], -0.1 * pt.state[pb]["momentum_buffer"],
                                   rtol=1e-4, atol=1e-6)


def test_sutskever_and_pytorch_momentum_differ_once_the_lr_changes(device):
    _skip_float64_on_mps(device)
    # After switching α → α': PyTorch's step is −α'(ρ b + g) = (α'/α) ρ v − α' g with v = −α b,
    # Sutskever's is ρ v − α' g: the old velocity keeps the old step size.
    rho, lr, new_lr = 0.9, 0.1, 0.02
    thetas = [torch.tensor([1.0, 1.0], dtype=torch.float64, device=device, requires_grad=True) for _ in range(2)]
    opts = [ours.SutskeverSGD([thetas[0]], lr=lr, momentum=rho), ours.SGD([thetas[1]], lr=lr, momentum=rho)]
    for _ in range(5):
        for theta, opt in zip(thetas, opts):
            opt.zero_grad()
            _quadratic(theta).backward()
            opt.step()
    torch.testing.assert_close(thetas[0], thetas[1], rtol=1e-12, atol=1e-14)
    v = opts[0].state[thetas[0]]["velocity"].clone()
    g = torch.stack([thetas[0][0], 25 * thetas[0][1]]).detach()  # ∇f at the common point
    before = thetas[0].detach().clone()
    for theta, opt in zip(thetas, opts):
        opt.param_groups[0]["lr"] = new_lr
        opt.zero_grad()
        _quadratic(theta).backward()
        opt.step()
    torch.testing.assert_close(thetas[0].detach() - before, rho * v - new_lr * g, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(thetas[1].detach() - before, new_lr / lr * rho * v - new_lr * g, rtol=1e-12, atol=1e-14)
    assert (thetas[0] - thetas[1]).abs().max() > 0.01


def test_nesterov_is_the_lectures_look_ahead(device):
    _skip_float64_on_mps(device)
    # The lecture: v ← ρv − α∇f(x + ρv), x ← x + v. With x̃ = x + ρv the optimizers follow x̃.
    rho, lr = 0.9, 0.03
    x = torch.tensor([2.0, 1.0], dtype=torch.float64, device=device)
    v = torch.zeros_like(x)
    theta = (x + rho * v).clone().requires_grad_(True)
    theta_pt = theta.detach().clone().requires_grad_(True)
    sut = ours.SutskeverSGD([theta], lr=lr, momentum=rho, nesterov=True)
    pt = ours.SGD([theta_pt], lr=lr, momentum=rho, nesterov=True)
    for _ in range(40):
        ahead = (x + rho * v).requires_grad_(True)
        (grad,) = torch.autograd.grad(_quadratic(ahead), ahead)
        v = rho * v - lr * grad
        x = x + v
        for p, opt in ((theta, sut), (theta_pt, pt)):
            opt.zero_grad()
            _quadratic(p).backward()
            opt.step()
        torch.testing.assert_close(theta.detach(), x + rho * v, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(theta_pt.detach(), x + rho * v, rtol=1e-10, atol=1e-12)
    assert x.abs().max() < 0.5  # and it did travel down the valley


# --------------------------------------------------------------------------- bad hyperparameters
def _params():
    return [nn.Parameter(torch.zeros(3))]


_REAL = r"must be a real number in "
BAD = [
    (lambda: ours.SGD(_params(), lr=-0.1), ValueError, r"^lr " + _REAL + r"\[0, inf\), got -0.1$"),
    (lambda: ours.Adagrad(_params(), lr=-1), ValueError, r"^lr " + _REAL + r"\[0, inf\), got -1$"),
    (lambda: ours.RMSprop(_params(), lr=-1e-3), ValueError, r"^lr " + _REAL),
    (lambda: ours.Adadelta(_params(), lr=-1.0), ValueError, r"^lr " + _REAL),
    (lambda: ours.Adam(_params(), lr=-1e-3), ValueError, r"^lr " + _REAL),
    (lambda: ours.AdamW(_params(), lr=-1e-3), ValueError, r"^lr " + _REAL),
    (lambda: ours.NAdam(_params(), lr=-1e-3), ValueError, r"^lr " + _REAL),
    (lambda: ours.SutskeverSGD(_params(), lr=-1e-3), ValueError, r"^lr " + _REAL),
    (lambda: ours.SGD(_params(), lr=float("nan")), ValueError, r"^lr " + _REAL + r".*got nan"),
    (lambda: ours.SGD(_params(), lr="0.1"), TypeError, r"^lr " + _REAL + r"\[0, inf\), got str '0.1'"),
    (lambda: ours.SGD(_params(), lr=torch.tensor([0.1, 0.2])), ValueError,
     r"lr must be a real number in \[0, inf\) or a 1-element tensor, got Tensor of shape \(2,\)"),
    (lambda: ours.Adam(_params(), betas=(1.0, 0.999)), ValueError, r"^betas\[0\] " + _REAL + r"\[0, 1\), got 1.0$"),
    (lambda: ours.Adam(_params(), betas=(-0.1, 0.999)), ValueError, r"^betas\[0\] " + _REAL + r"\[0, 1\), got -0.1"),
    (lambda: ours.Adam(_params(), betas=(0.9, 1.0)), ValueError, r"^betas\[1\] " + _REAL + r"\[0, 1\), got 1.0$"),
    (lambda: ours.AdamW(_params(), betas=(0.9, 1.5)), ValueError, r"^betas\[1\] " + _REAL + r"\[0, 1\)"),
    (lambda: ours.NAdam(_params(), betas=(1.2, 0.999)), ValueError, r"^betas\[0\] " + _REAL + r"\[0, 1\)"),
    (lambda: ours.Adam(_params(), betas=0.9), TypeError, r"betas must be a pair \(beta1, beta2\) .*got float 0.9"),
    (lambda: ours.Adam(_params(), betas=(0.9, 0.99, 0.999)), TypeError, r"betas must be a pair"),
    (lambda: ours.Adam(_params(), eps=-1e-8), ValueError, r"^eps " + _REAL + r"\[0, inf\), got -1e-08$"),
    (lambda: ours.RMSprop(_params(), eps=-1.0), ValueError, r"^eps " + _REAL),
    (lambda: ours.Adagrad(_params(), eps=-1.0), ValueError, r"^eps " + _REAL),
    (lambda: ours.Adadelta(_params(), eps=-1.0), ValueError, r"^eps " + _REAL),
    (lambda: ours.NAdam(_params(), eps=-1.0), ValueError, r"^eps " + _REAL),
    (lambda: ours.SGD(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL + r"\[0, inf\)"),
    (lambda: ours.Adam(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL),
    (lambda: ours.AdamW(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL),
    (lambda: ours.Adagrad(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL),
    (lambda: ours.RMSprop(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL),
    (lambda: ours.Adadelta(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL),
    (lambda: ours.NAdam(_params(), weight_decay=-0.01), ValueError, r"^weight_decay " + _REAL),
    (lambda: ours.SGD(_params(), momentum=-0.9), ValueError, r"^momentum " + _REAL + r"\[0, inf\), got -0.9$"),
    (lambda: ours.RMSprop(_params(), momentum=-0.9), ValueError, r"^momentum " + _REAL),
    (lambda: ours.SutskeverSGD(_params(), momentum=-0.9), ValueError, r"^momentum " + _REAL),
    (lambda: ours.SGD(_params(), momentum=0.9, dampening=1.5), ValueError, r"^dampening " + _REAL + r"\[0, 1\]"),
    (lambda: ours.SGD(_params(), nesterov=True), ValueError,
     r"nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.0 and dampening=0.0"),
    (lambda: ours.SGD(_params(), momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     r"nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.9 and dampening=0.1"),
    (lambda: ours.SutskeverSGD(_params(), momentum=0, nesterov=True), ValueError, r"nesterov=True needs momentum > 0"),
    (lambda: ours.SGD(_params(), momentum=0.9, nesterov="yes"), TypeError, r"nesterov must be True or False, got str"),
    (lambda: ours.RMSprop(_params(), alpha=1.5), ValueError, r"^alpha " + _REAL + r"\[0, 1\], got 1.5$"),
    (lambda: ours.RMSprop(_params(), centered=1), TypeError, r"centered must be True or False, got int 1"),
    (lambda: ours.Adadelta(_params(), rho=1.1), ValueError, r"^rho " + _REAL + r"\[0, 1\], got 1.1$"),
    (lambda: ours.Adadelta(_params(), rho=-0.1), ValueError, r"^rho " + _REAL),
    (lambda: ours.Adagrad(_params(), lr_decay=-0.1), ValueError, r"^lr_decay " + _REAL + r"\[0, inf\)"),
    (lambda: ours.Adagrad(_params(), initial_accumulator_value=-0.1), ValueError,
     r"^initial_accumulator_value " + _REAL + r"\[0, inf\)"),
    (lambda: ours.NAdam(_params(), momentum_decay=-4e-3), ValueError, r"^momentum_decay " + _REAL + r"\[0, inf\)"),
    (lambda: ours.Adam(_params(), amsgrad=None), TypeError, r"amsgrad must be True or False, got NoneType None"),
    (lambda: ours.Adam(_params(), bias_correction="no"), TypeError, r"bias_correction must be True or False"),
    (lambda: ours.Adam(_params(), foreach="yes"), TypeError, r"foreach must be True or False"),
    (lambda: ours.Adam(_params(), differentiable=True), ValueError,
     r"differentiable=True is not supported by the course's optimizers .*use the torch.optim class"),
    (lambda: ours.RMSprop(_params(), capturable=True), ValueError, r"capturable=True is not supported"),
    (lambda: ours.SGD([{"params": _params()}, {"params": _params(), "lr": -0.5}], lr=0.1), ValueError,
     r"^lr \(in param group 1\) " + _REAL + r"\[0, inf\), got -0.5$"),
    (lambda: ours.Adam([{"params": _params(), "betas": (0.9, 1.0)}]), ValueError,
     r"^betas\[1\] \(in param group 0\) " + _REAL),
    (lambda: ours.SGD([{"params": _params(), "nesterov": True}], lr=0.1), ValueError,
     r"nesterov=True needs momentum > 0 and dampening = 0 \(in param group 0\)"),
]


@pytest.mark.parametrize("make, error, match", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_hyperparameters_are_rejected_with_a_message_naming_them(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_torch_rejects_what_we_reject():
    # The same values are errors in torch.optim too (its messages differ: "Invalid learning rate: -0.1").
    for make in (lambda m: m.SGD(_params(), lr=-0.1), lambda m: m.Adam(_params(), betas=(0.9, 1.0)),
                 lambda m: m.Adam(_params(), eps=-1.0), lambda m: m.SGD(_params(), weight_decay=-1.0),
                 lambda m: m.SGD(_params(), momentum=-0.5), lambda m: m.SGD(_params(), nesterov=True),
                 lambda m: m.SGD(_params(), momentum=0.9, dampening=0.5, nesterov=True),
                 lambda m: m.Adadelta(_params(), rho=1.1), lambda m: m.NAdam(_params(), momentum_decay=-1.0)):
        for module in (torch.optim, ours):
            with pytest.raises(ValueError):
                make(module)


def test_add_param_group_checks_the_new_group():
    opt = ours.RMSprop(_params())
    with pytest.raises(ValueError, match=r"^alpha \(in param group 1\) must be a real number in \[0, 1\], got 2"):
        opt.add_param_group({"params": _params(), "alpha": 2})
    opt.add_param_group({"params": _params(), "lr": 0.5})
    assert opt.param_groups[-1]["lr"] == 0.5 and opt.param_groups[-1]["alpha"] == 0.99


def test_sparse_and_complex_gradients_are_refused_clearly():
    emb = nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="do not support sparse gradients; use torch.optim"):
        ours.SGD(emb.parameters(), lr=0.1).step()
    z = nn.Parameter(torch.zeros(2, dtype=torch.complex64))
    z.grad = torch.ones_like(z)
    with pytest.raises(RuntimeError, match="do not support complex parameters"):
        ours.Adam([z]).step()


def test_defaults_are_torchs():
    import inspect

    for name in CLASSES:
        mine = inspect.signature(getattr(ours, name).__init__).parameters
        theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
        extra = ["bias_correction"] if name in ("Adam", "AdamW") else []
        assert list(mine) == list(theirs) + extra, name
        for key, p in theirs.items():
            assert (mine[key].default, mine[key].kind) == (p.default, p.kind), (name, key)


# --------------------------------------------------------------------------- state_dict structure, refused flags
@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, weight_decay=0.05, maximize=True),
                                dict(lr=0.1, momentum=0.9)], ids=["plain", "decay", "momentum"])
def test_sgd_state_dict_is_torchs_keys_and_structure(kw):
    (m1, o1), (m2, o2) = _pair("cpu", torch.float32, "SGD", kw)
    batches = _batches("cpu", torch.float32)
    _train(m1, o1, batches, 3), _train(m2, o2, batches, 3)
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert s1["state"].keys() == s2["state"].keys()            # plain SGD: {} in both, no {0: {}, 1: {}, ...}
    if kw.get("momentum"):
        assert len(s2["state"]) == len(list(m2.parameters()))
    else:
        assert s1["state"] == {} == s2["state"]
    for i in s2["state"]:
        assert s1["state"][i].keys() == s2["state"][i].keys()
        torch.testing.assert_close(s1["state"][i]["momentum_buffer"], s2["state"][i]["momentum_buffer"])
    assert s1["param_groups"] == s2["param_groups"]            # the same keys and values, params included


def test_sgd_keeps_state_only_for_the_groups_with_momentum_as_torch():
    runs = {}
    for module in (ours, torch.optim):
        model = _model("cpu", torch.float32)
        layers = [m for m in model if isinstance(m, nn.Linear)]
        opt = module.SGD([{"params": layers[0].parameters(), "momentum": 0.9},
                          {"params": [p for m in layers[1:] for p in m.parameters()]}], lr=0.1)
        runs[module] = (_train(model, opt, _batches("cpu", torch.float32), 4), opt.state_dict())
    assert runs[ours][1]["state"].keys() == runs[torch.optim][1]["state"].keys() == {0, 1}
    assert runs[ours][1]["param_groups"] == runs[torch.optim][1]["param_groups"]
    torch.testing.assert_close(runs[ours][0], runs[torch.optim][0])


_FUSED = ["SGD", "Adagrad", "Adam", "AdamW"]   # the course classes whose torch namesake takes fused


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("key", ["fused", "foreach"])
def test_fused_and_foreach_true_are_refused_not_ignored(name, key):
    import inspect

    if key not in inspect.signature(getattr(ours, name).__init__).parameters:
        assert name not in _FUSED and key == "fused"
        return
    assert (key == "foreach") or name in _FUSED
    getattr(torch.optim, name)(_params(), **{key: True})      # torch accepts it (on the CPU, in torch 2.14) ...
    with pytest.raises(ValueError, match=rf"^{key}=True is not supported by the course's optimizers: they always "
                                         rf"run one readable loop .*pass {key}=None \(the default\) or use the "
                                         rf"torch.optim class"):
        getattr(ours, name)(_params(), **{key: True})          # ... ours would run its own loop: refused
    for value in (None, False):                                # the default and an explicit no are fine
        assert getattr(ours, name)(_params(), **{key: value}).defaults[key] is value
    opt = getattr(ours, name)(_params())
    with pytest.raises(ValueError, match=rf"^{key} \(in param group 1\)=True is not supported"):
        opt.add_param_group({"params": _params(), key: True})


def test_a_loaded_state_that_asks_for_fused_is_refused():
    model = _model("cpu", torch.float32)
    ref = torch.optim.Adam(model.parameters(), fused=True)
    _train(model, ref, _batches("cpu", torch.float32), 2)
    opt = ours.Adam(model.parameters())
    with pytest.raises(ValueError, match=r"fused \(in param group 0 of the loaded state\)=True is not supported"):
        opt.load_state_dict(ref.state_dict())


def test_adagrad_group_added_later_starts_its_sum_from_its_own_value():
    runs = {}
    for module in (ours, torch.optim):
        model = _model("cpu", torch.float32)
        last = list(model[-1].parameters())
        opt = module.Adagrad([p for p in model.parameters() if all(p is not q for q in last)], lr=0.1,
                             initial_accumulator_value=0.1)
        opt.add_param_group({"params": last, "initial_accumulator_value": 0.7})
        assert all(p not in opt.state for p in last)            # created at the first step, as torch
        opt.zero_grad()
        F.cross_entropy(model(_batches("cpu", torch.float32)[0][0]), _batches("cpu", torch.float32)[1][0]).backward()
        grads = [p.grad.clone() for p in last]
        opt.step()
        runs[module] = [opt.state[p]["sum"] - g * g for p, g in zip(last, grads)]   # s₀ = s − g²
    for s0 in runs[ours]:                                       # the group's own initial_accumulator_value
        torch.testing.assert_close(s0, torch.full_like(s0, 0.7))
    for s0 in runs[torch.optim]:                                # torch 2.14 takes the constructor's (documented)
        torch.testing.assert_close(s0, torch.full_like(s0, 0.1))
