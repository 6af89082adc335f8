"""course_lib.gradients: per-layer statistics against direct computation, clipping against torch.nn.utils."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.gradients import (DEFAULT_LAYER_TYPES, LayerStats, clip_grad_norm_, clip_grad_value_, format_stats,
                                  layer_stats)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _net(device, act=nn.Tanh, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), act(), nn.Linear(8, 8), act(), nn.Linear(8, 3)).to(device)


# ----------------------------------------------------------------- layer_stats
def test_activation_statistics_equal_a_direct_computation(device):
    model = _net(device)
    x = torch.randn(32, 6, generator=_gen(), device="cpu").to(device)
    recs = layer_stats(model, x, hist_range=(-1, 1), bins=10)
    assert [r.name for r in recs] == ["1", "3"] and all(isinstance(r, LayerStats) for r in recs)
    with torch.no_grad():
        h1 = model[1](model[0](x))
        h2 = model[3](model[2](h1))
    for r, h in zip(recs, (h1, h2)):
        assert r.kind == "Tanh" and r.units == 8
        assert r.mean == pytest.approx(h.mean().item(), abs=1e-6)
        assert r.std == pytest.approx(h.std(unbiased=False).item(), rel=1e-5)
        assert torch.equal(r.hist, torch.histc(h.cpu(), bins=10, min=-1, max=1))
        assert r.hist.sum().item() == h.numel() and r.edges.shape == (11,)
        assert r.saturated == pytest.approx((h.abs() > 0.99).float().mean().item())
        assert r.dead is None and r.grad_std is None  # forward only


def test_gradients_equal_autograd_and_leave_param_grads_alone(device):
    model = _net(device)
    x = torch.randn(32, 6, generator=_gen(1)).to(device)
    y = torch.randint(0, 3, (32,), generator=_gen(2)).to(device)
    recs = layer_stats(model, x, y, layer_types=(nn.Tanh, nn.Linear))
    assert all(p.grad is None for p in model.parameters())
    # the reference: retain the activations' gradients in a plain forward/backward
    h = x
    acts = []
    for m in model:
        h = m(h)
        h.retain_grad()
        acts.append(h)
    F.cross_entropy(h, y).backward()
    assert [r.name for r in recs] == ["0", "1", "2", "3", "4"]
    for r, a, m in zip(recs, acts, model):
        assert r.grad_std == pytest.approx(a.grad.std(unbiased=False).item(), rel=1e-5)
        assert r.grad_norm == pytest.approx(a.grad.norm().item(), rel=1e-5)
        assert r.grad_mean == pytest.approx(a.grad.mean().item(), abs=1e-7)
        if isinstance(m, nn.Linear):
            assert r.weight_grad_norm == pytest.approx(m.weight.grad.norm().item(), rel=1e-5)
        else:
            assert r.weight_grad_norm is None


def test_grad_output_and_loss_fn_give_the_same_backward(device):
    model = _net(device)
    x = torch.randn(16, 6, generator=_gen(3)).to(device)
    g = torch.randn(16, 3, generator=_gen(4)).to(device)
    a = layer_stats(model, x, grad_output=g)
    b = layer_stats(model, x, loss_fn=lambda out: (out * g).sum())
    assert [r.grad_std for r in a] == pytest.approx([r.grad_std for r in b])


def test_dead_relu_units_are_counted(device):
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU()).to(device)
    with torch.no_grad():
        model[0].bias[:2] = -100.0  # units 0 and 1 are negative on every input: dead
        model[0].bias[2:] = 100.0   # the others alive
    recs = layer_stats(model, torch.randn(50, 4, generator=_gen()).to(device))
    assert recs[0].dead == 2 and recs[0].saturated is None


def test_sigmoid_saturation_counts_both_ends(device):
    model = nn.Sequential(nn.Linear(1, 3), nn.Sigmoid()).to(device)
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([-10.0, 0.0, 10.0]))  # near 0, 0.5, near 1
    recs = layer_stats(model, torch.randn(20, 1).to(device))
    assert recs[0].saturated == pytest.approx(2 / 3)


def test_conv_feature_maps_and_model_mode_kept(device):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 2)).to(device).eval()
    recs = layer_stats(model, torch.randn(5, 1, 8, 8).to(device), torch.tensor([0, 1, 0, 1, 1]).to(device))
    assert recs[0].units == 4 * 6 * 6 and recs[0].grad_std is not None
    assert not model.training
    assert all(not m._forward_hooks for m in model.modules()), "hooks are removed"


def test_vanishing_gradients_show_in_a_deep_tanh_net():
    layers = []
    for _ in range(6):
        layers += [nn.Linear(200, 200, bias=False), nn.Tanh()]
    model = nn.Sequential(*layers)
    for m in model[::2]:
        nn.init.normal_(m.weight, 0, 0.01, generator=_gen(5))
    x = torch.randn(300, 200, generator=_gen(6))
    recs = layer_stats(model, x, grad_output=torch.randn(300, 200, generator=_gen(7)))
    stds = [r.std for r in recs]
    grads = [r.grad_std for r in recs]
    factor = 0.01 * math.sqrt(200)
    for a, b in zip(stds, stds[1:]):
        assert b / a == pytest.approx(factor, rel=0.1)  # forward: × 0.01·√n per layer
    for a, b in zip(grads, grads[1:]):
        assert a / b == pytest.approx(factor, rel=0.1)  # backward: the same factor, going down


def test_format_stats_is_a_readable_table():
    model = _net("cpu", act=nn.ReLU)
    text = format_stats(layer_stats(model, torch.randn(10, 6), grad_output=torch.randn(10, 3)))
    lines = text.splitlines()
    assert len(lines) == 3 and "dead" in lines[0] and "saturated" in lines[0]


@pytest.mark.parametrize("call, exc, match", [
    (lambda m, x: layer_stats("net", x), TypeError, "model must be an nn.Module"),
    (lambda m, x: layer_stats(m, [1.0]), TypeError, "x must be a torch.Tensor"),
    (lambda m, x: layer_stats(m, x, layer_types=(nn.Conv2d,)), ValueError, "no layer of the types watched"),
    (lambda m, x: layer_stats(m, x, layer_types=("Tanh",)), TypeError, "layer_types must be"),
    (lambda m, x: layer_stats(m, x, bins=0), ValueError, "bins must be an int in \\[1, inf\\)"),
    (lambda m, x: layer_stats(m, x, hist_range=(1, -1)), ValueError, "low < high"),
    (lambda m, x: layer_stats(m, x, saturation=1.5), ValueError, "saturation must be"),
    (lambda m, x: layer_stats(m, x, grad_output=torch.ones(2, 2)), ValueError, "shape of the model's output"),
    (lambda m, x: layer_stats(m, x, loss_fn="mse"), TypeError, "loss_fn must be a function"),
])
def test_layer_stats_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call(_net("cpu"), torch.randn(4, 6))


def test_default_layer_types_are_activations():
    assert nn.Tanh in DEFAULT_LAYER_TYPES and nn.ReLU in DEFAULT_LAYER_TYPES and nn.Linear not in DEFAULT_LAYER_TYPES


# ----------------------------------------------------------------- clipping vs torch.nn.utils
def _params_with_grads(device, scale=1.0, seed=0, none_at=None):
    g = _gen(seed)
    shapes = [(5, 4), (4,), (3, 5), (7,)]
    ps = []
    for i, s in enumerate(shapes):
        p = torch.randn(s, generator=g).to(device).requires_grad_()
        if i != none_at:
            p.grad = (scale * torch.randn(s, generator=g)).to(device)
        ps.append(p)
    return ps


def _twins(device, **kw):
    a = _params_with_grads(device, **kw)
    b = [p.detach().clone().requires_grad_() for p in a]
    for p, q in zip(a, b):
        q.grad = None if p.grad is None else p.grad.clone()
    return a, b


@pytest.mark.parametrize("max_norm", [0.5, 1.0, 100.0, math.inf])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
def test_clip_grad_norm_equals_torch(device, max_norm, norm_type):
    a, b = _twins(device, scale=3.0)
    ours = clip_grad_norm_(a, max_norm, norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(b, max_norm, norm_type)
    assert isinstance(ours, torch.Tensor) and ours.dim() == 0
    torch.testing.assert_close(ours, theirs)
    for p, q in zip(a, b):
        torch.testing.assert_close(p.grad, q.grad)


def test_clip_grad_norm_bounds_the_norm_and_keeps_the_direction(device):
    a = _params_with_grads(device, scale=10.0)
    before = torch.cat([p.grad.flatten() for p in a]).clone()
    total = clip_grad_norm_(a, 1.0)
    after = torch.cat([p.grad.flatten() for p in a])
    assert total.item() == pytest.approx(before.norm().item(), rel=1e-6)
    assert after.norm().item() <= 1.0 + 1e-5
    assert F.cosine_similarity(before, after, dim=0).item() == pytest.approx(1.0, abs=1e-6)
    small = _params_with_grads(device, scale=1e-3)
    g0 = [p.grad.clone() for p in small]
    clip_grad_norm_(small, 1.0)
    assert all(torch.equal(p.grad, g) for p, g in zip(small, g0)), "never scales up"


def test_clip_grad_norm_single_tensor_generator_and_missing_grads(device):
    a, b = _twins(device, none_at=1)
    torch.testing.assert_close(clip_grad_norm_(a[0], 0.1), torch.nn.utils.clip_grad_norm_(b[0], 0.1))
    torch.testing.assert_close(a[0].grad, b[0].grad)
    a, b = _twins(device, none_at=2)
    torch.testing.assert_close(clip_grad_norm_((p for p in a), 0.3), torch.nn.utils.clip_grad_norm_(iter(b), 0.3))
    assert a[2].grad is None
    for p, q in zip(a, b):
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad)
    p = torch.zeros(3, requires_grad=True)
    assert torch.equal(clip_grad_norm_([p], 1.0), torch.nn.utils.clip_grad_norm_([p], 1.0))  # no grads: 0
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((q for q in []), 1.0)


def test_clip_grad_norm_error_if_nonfinite(device):
    a, b = _twins(device)
    a[0].grad[0, 0] = float("inf")
    b[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(a, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(b, 1.0, error_if_nonfinite=True)
    ours, theirs = clip_grad_norm_(a, 1.0), torch.nn.utils.clip_grad_norm_(b, 1.0)  # default: scales anyway
    assert torch.isinf(ours) and torch.isinf(theirs)
    for p, q in zip(a, b):
        torch.testing.assert_close(p.grad, q.grad, equal_nan=True)


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 10.0])
def test_clip_grad_value_equals_torch(device, clip_value):
    a, b = _twins(device, none_at=3)
    assert clip_grad_value_(a, clip_value) is None
    torch.nn.utils.clip_grad_value_(b, clip_value)
    for p, q in zip(a, b):
        assert (p.grad is None and q.grad is None) or torch.equal(p.grad, q.grad)
    assert all(p.grad.abs().max().item() <= clip_value * (1 + 1e-6) for p in a if p.grad is not None)
    c, d = _twins(device)
    clip_grad_value_(c[0], clip_value)
    torch.nn.utils.clip_grad_value_(d[0], clip_value)
    assert torch.equal(c[0].grad, d[0].grad)


def test_clippers_work_on_a_model_between_backward_and_step(device):
    model = _net(device)
    twin = _net(device)
    x = torch.randn(8, 6).to(device)
    for m in (model, twin):
        (m(x) * 100).sum().backward()
    clip_grad_norm_(model.parameters(), 1.0)
    torch.nn.utils.clip_grad_norm_(twin.parameters(), 1.0)
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p.grad, q.grad)


@pytest.mark.parametrize("call, exc, match", [
    (lambda ps: clip_grad_norm_(ps, -1.0), ValueError, "max_norm must be a real number in \\[0, inf\\)"),
    (lambda ps: clip_grad_norm_(ps, float("nan")), ValueError, "max_norm must be a real number"),
    (lambda ps: clip_grad_norm_(ps, "1"), TypeError, "max_norm must be a real number"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0), ValueError, "norm_type must be a positive number or 'inf'"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type="two"), ValueError, "norm_type must be"),
    (lambda ps: clip_grad_norm_(ps, 1.0, error_if_nonfinite=1), TypeError, "error_if_nonfinite must be True or False"),
    (lambda ps: clip_grad_norm_(ps, 1.0, foreach="yes"), TypeError, "foreach must be True or False"),
    (lambda ps: clip_grad_norm_(3.0, 1.0), TypeError, "parameters must be a tensor or an iterable"),
    (lambda ps: clip_grad_norm_([1.0], 1.0), TypeError, "parameters must contain tensors"),
    (lambda ps: clip_grad_value_(ps, -0.5), ValueError, "clip_value must be a real number in \\[0, inf\\)"),
    (lambda ps: clip_grad_value_(nn.Linear(2, 2), 0.5), TypeError, "parameters must be a tensor or an iterable"),
])
def test_clipping_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call(_params_with_grads("cpu"))


# ----------------------------------------------------------------- course_lib's layers, in-place layers, the table
def test_course_lib_activation_layers_are_watched(device):
    from course_lib.activations import RECTIFIERS, SATURATING, ReLU, Sigmoid, Tanh
    assert all(t in DEFAULT_LAYER_TYPES for t in (Tanh, Sigmoid, ReLU)) and ReLU in RECTIFIERS and Tanh in SATURATING
    model = nn.Sequential(nn.Linear(4, 6), ReLU(), nn.Linear(6, 6), Tanh(), nn.Linear(6, 3), Sigmoid()).to(device)
    with torch.no_grad():
        model[0].bias[:2] = -100.0                                  # two dead units
        model[2].bias[:3] = 100.0                                   # three saturated tanh units
    recs = layer_stats(model, torch.randn(40, 4, generator=_gen()).to(device))
    assert [(r.name, r.kind) for r in recs] == [("1", "ReLU"), ("3", "Tanh"), ("5", "Sigmoid")]
    assert recs[0].dead == 2 and recs[0].saturated is None
    assert recs[1].saturated == pytest.approx(0.5) and recs[1].dead is None
    assert recs[2].saturated is not None
    # the same numbers as with PyTorch's layers
    twin = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 3), nn.Sigmoid())
    twin.load_state_dict(model.state_dict())
    theirs = layer_stats(twin.to(device), torch.randn(40, 4, generator=_gen()).to(device))
    for a, b in zip(recs, theirs):
        assert (a.dead, a.saturated) == (b.dead, b.saturated) and a.mean == pytest.approx(b.mean)


@pytest.mark.parametrize("inplace_relu", [lambda: nn.ReLU(inplace=True), "ours"])
def test_an_inplace_activation_does_not_overwrite_the_layer_before(device, inplace_relu):
    from course_lib.activations import ReLU
    act = ReLU(inplace=True) if inplace_relu == "ours" else inplace_relu()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), act, nn.Linear(8, 3)).to(device)
    x = torch.randn(32, 6, generator=_gen(1)).to(device)
    y = torch.randint(0, 3, (32,), generator=_gen(2)).to(device)
    recs = layer_stats(model, x, y, layer_types=(nn.Linear, type(act)))
    z = model[0](x).detach().requires_grad_()                       # the reference, with no in-place layer
    h = torch.relu(z)
    h.retain_grad()
    F.cross_entropy(model[2](h), y).backward()
    lin, relu_rec = recs[0], recs[1]
    assert lin.mean == pytest.approx(z.mean().item(), abs=1e-6) and lin.mean < relu_rec.mean
    assert relu_rec.mean == pytest.approx(h.mean().item(), abs=1e-6)
    assert lin.grad_norm == pytest.approx(z.grad.norm().item(), rel=1e-5)
    assert relu_rec.grad_norm == pytest.approx(h.grad.norm().item(), rel=1e-5)
    out = model(x)                                                   # the model itself is unchanged
    torch.testing.assert_close(out, model[2](torch.relu(model[0](x))))


def test_format_stats_columns_line_up_and_name_each_layer_once():
    model = _net("cpu", act=nn.ReLU)
    recs = layer_stats(model, torch.randn(10, 6), layer_types=(nn.Linear, nn.ReLU))   # forward only: many "-"
    lines = format_stats(recs).splitlines()
    assert lines[0].split()[:2] == ["layer", "type"]
    assert len({len(line) for line in lines}) == 1, "every row as wide as the header"
    assert [line.split()[:2] for line in lines[1:]] == [[r.name, r.kind] for r in recs]
    for col in ("saturated", "dead", "|dL/dW|"):                   # each '-' right-aligned under its header
        end = lines[0].index(col) + len(col)
        assert all(line[end - 1] in "-0123456789" for line in lines[1:]), col
