"""course_lib.init against torch.nn.init (same draws with the same generator) and against the formulas."""

import math

import pytest
import torch
from torch import nn

from course_lib import init as ci

SHAPES = [(300, 200), (64, 16, 3, 3), (40, 8, 5), (20, 6, 2, 3, 3)]  # Linear, Conv2d, Conv1d, Conv3d weights


def _gen(device, seed=0):
    return torch.Generator(device=device).manual_seed(seed)


def _fans(shape):
    k = math.prod(shape[2:])
    return shape[1] * k, shape[0] * k


# ----------------------------------------------------------------- fans and gains
@pytest.mark.parametrize("layer, fans", [
    (nn.Linear(30, 20), (30, 20)),
    (nn.Conv1d(4, 6, 5), (4 * 5, 6 * 5)),
    (nn.Conv2d(3, 16, 3), (3 * 9, 16 * 9)),
    (nn.Conv2d(8, 4, (3, 5)), (8 * 15, 4 * 15)),
    (nn.Conv3d(2, 5, 3), (2 * 27, 5 * 27)),
])
def test_fans_of_linear_and_conv_weights(layer, fans):
    assert ci.fan_in_and_fan_out(layer.weight) == fans  # fan_in = in_channels * kernel area
    assert ci.fan_in_and_fan_out(layer.weight) == nn.init._calculate_fan_in_and_fan_out(layer.weight)


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                 ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("selu", None)])
def test_gain_equals_torch(nonlinearity, param):
    assert ci.calculate_gain(nonlinearity, param) == pytest.approx(nn.init.calculate_gain(nonlinearity, param))


def test_gain_conventions():
    assert ci.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert ci.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert ci.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))  # kaiming's default = ReLU


# ----------------------------------------------------------------- same draws as torch.nn.init
def _pairs():
    return [
        ("xavier_uniform_", lambda t, g: ci.xavier_uniform_(t, generator=g),
         lambda t, g: nn.init.xavier_uniform_(t, generator=g)),
        ("xavier_uniform_ gain", lambda t, g: ci.xavier_uniform_(t, gain=5 / 3, generator=g),
         lambda t, g: nn.init.xavier_uniform_(t, gain=5 / 3, generator=g)),
        ("xavier_normal_", lambda t, g: ci.xavier_normal_(t, 0.5, g), lambda t, g: nn.init.xavier_normal_(t, 0.5, g)),
        ("kaiming_uniform_", lambda t, g: ci.kaiming_uniform_(t, generator=g),
         lambda t, g: nn.init.kaiming_uniform_(t, generator=g)),
        ("kaiming_uniform_ a=sqrt5", lambda t, g: ci.kaiming_uniform_(t, a=math.sqrt(5), generator=g),
         lambda t, g: nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g)),
        ("kaiming_normal_ relu fan_out", lambda t, g: ci.kaiming_normal_(t, 0, "fan_out", "relu", g),
         lambda t, g: nn.init.kaiming_normal_(t, 0, "fan_out", "relu", g)),
        ("kaiming_normal_ tanh", lambda t, g: ci.kaiming_normal_(t, nonlinearity="tanh", generator=g),
         lambda t, g: nn.init.kaiming_normal_(t, nonlinearity="tanh", generator=g)),
        ("lecun_normal_", lambda t, g: ci.lecun_normal_(t, g),
         lambda t, g: nn.init.kaiming_normal_(t, nonlinearity="linear", generator=g)),
        ("small_normal_", lambda t, g: ci.small_normal_(t, generator=g),
         lambda t, g: nn.init.normal_(t, 0.0, 0.01, generator=g)),
        ("constant_", lambda t, g: ci.constant_(t, 0.3), lambda t, g: nn.init.constant_(t, 0.3)),
        ("orthogonal_", lambda t, g: ci.orthogonal_(t, generator=g), lambda t, g: nn.init.orthogonal_(t, generator=g)),
        ("orthogonal_ gain", lambda t, g: ci.orthogonal_(t, 5 / 3, g), lambda t, g: nn.init.orthogonal_(t, 5 / 3, g)),
    ]


@pytest.mark.parametrize("name, ours, theirs", _pairs(), ids=[p[0] for p in _pairs()])
@pytest.mark.parametrize("shape", SHAPES[:3])
def test_same_generator_same_tensor_as_torch(device, name, ours, theirs, shape):
    a = torch.empty(shape, device=device)
    b = torch.empty(shape, device=device)
    out = ours(a, _gen(device, 3))
    theirs(b, _gen(device, 3))
    assert out is a, "in place: returns the tensor it was given"
    assert torch.equal(a, b)


def test_initializers_work_in_place_on_parameters_without_recording_grad(device):
    layer = nn.Linear(50, 40).to(device)
    before = layer.weight
    out = ci.kaiming_normal_(layer.weight, nonlinearity="relu", generator=_gen(device))
    assert out is before and layer.weight.grad_fn is None and layer.weight.requires_grad
    layer(torch.randn(3, 50, device=device)).sum().backward()  # still a leaf that trains
    assert layer.weight.grad is not None


def test_a_cpu_generator_fills_a_tensor_on_any_device(device):
    a = ci.xavier_normal_(torch.empty(30, 20, device=device), generator=_gen("cpu", 1))
    b = nn.init.xavier_normal_(torch.empty(30, 20), generator=_gen("cpu", 1))
    assert a.device.type == device.type
    assert torch.equal(a.cpu(), b)


def test_same_distribution_as_torch_without_a_generator_two_sample_ks():
    # Different draws (global generator, advanced between the calls): same distribution by a KS test.
    torch.manual_seed(0)
    a = ci.kaiming_uniform_(torch.empty(400, 250), nonlinearity="relu").flatten()
    b = nn.init.kaiming_uniform_(torch.empty(400, 250), nonlinearity="relu").flatten()
    grid = torch.cat([a, b]).sort().values
    cdf = lambda s: torch.searchsorted(s.sort().values, grid, right=True) / s.numel()  # noqa: E731
    d = (cdf(a) - cdf(b)).abs().max().item()
    n = a.numel()
    critical = 1.95 * math.sqrt(2 / n)  # alpha = 0.001
    assert d < critical and not torch.equal(a, b)


# ----------------------------------------------------------------- the formulas
def _std_bound(std, n):
    """A 6-standard-error band for an empirical std of n normal draws: se(s) ≈ std / sqrt(2 n)."""
    return 6 * std / math.sqrt(2 * n)


@pytest.mark.parametrize("shape", SHAPES)
def test_normal_initializers_have_the_lecture_variance(device, shape):
    fan_in, fan_out = _fans(shape)
    n = math.prod(shape)
    cases = {
        "xavier_normal_": (ci.xavier_normal_(torch.empty(shape, device=device), generator=_gen(device)),
                           math.sqrt(1 / ((fan_in + fan_out) / 2))),                      # 1/fan_avg
        "kaiming_normal_ (He)": (ci.kaiming_normal_(torch.empty(shape, device=device), nonlinearity="relu",
                                                    generator=_gen(device)), math.sqrt(2 / fan_in)),  # 2/fan_in
        "lecun_normal_": (ci.lecun_normal_(torch.empty(shape, device=device), generator=_gen(device)),
                          math.sqrt(1 / fan_in)),                                          # 1/fan_in
        "small_normal_": (ci.small_normal_(torch.empty(shape, device=device), generator=_gen(device)), 0.01),
    }
    for name, (w, std) in cases.items():
        assert abs(w.std().item() - std) < _std_bound(std, n), name
        assert abs(w.mean().item()) < 6 * std / math.sqrt(n), name


def test_variance_chi_square_bound_on_a_large_tensor(device):
    # n s² / σ² ~ χ²(n) for normal draws with known mean 0: within its 0.1% and 99.9% quantiles.
    w = ci.xavier_normal_(torch.empty(1000, 800, device=device, dtype=torch.float64), generator=_gen(device, 5))
    sigma2 = 2 / (1000 + 800)
    n = w.numel()
    stat = (w.square().sum() / sigma2).item()
    z = 3.29  # two-sided 0.1%: chi²(n) ≈ N(n, 2n) for this n
    assert n - z * math.sqrt(2 * n) < stat < n + z * math.sqrt(2 * n)


@pytest.mark.parametrize("shape", SHAPES)
def test_uniform_initializers_respect_their_bounds_and_variance(device, shape):
    fan_in, fan_out = _fans(shape)
    n = math.prod(shape)
    r_xavier = math.sqrt(6 / (fan_in + fan_out))  # = sqrt(3 / fan_avg)
    assert r_xavier == pytest.approx(math.sqrt(3 / ((fan_in + fan_out) / 2)))
    r_he = math.sqrt(6 / fan_in)                  # sqrt(3) * sqrt(2 / fan_in)
    for w, r in ((ci.xavier_uniform_(torch.empty(shape, device=device), generator=_gen(device)), r_xavier),
                 (ci.kaiming_uniform_(torch.empty(shape, device=device), nonlinearity="relu",
                                      generator=_gen(device)), r_he),
                 (ci.xavier_uniform_(torch.empty(shape, device=device), gain=2.0, generator=_gen(device)),
                  2 * r_xavier)):
        assert w.abs().max().item() <= r * (1 + 1e-6)
        assert w.abs().max().item() > r * (1 - 20 / n)  # the draws reach the bound
        var = r ** 2 / 3                                 # U(-r, r); Var(w²) = r⁴/5 - r⁴/9
        se = math.sqrt((r ** 4 / 5 - r ** 4 / 9) / n)
        assert abs(w.square().mean().item() - var) < 6 * se


def test_constant_makes_every_entry_equal(device):
    w = ci.constant_(torch.empty(7, 5, device=device), 0.25)
    assert torch.equal(w, torch.full((7, 5), 0.25, device=device))
    assert torch.equal(ci.zeros_(w), torch.zeros(7, 5, device=device))


@pytest.mark.parametrize("shape", [(200, 200), (300, 200), (64, 16, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_the_gain(device, shape):
    w = ci.orthogonal_(torch.empty(shape, device=device, dtype=torch.float64), gain=1.5, generator=_gen(device, 5))
    m = w.reshape(shape[0], -1) / 1.5
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m   # the smaller side is orthonormal
    assert torch.allclose(gram, torch.eye(gram.shape[0], dtype=torch.float64, device=device), atol=1e-10)
    if m.shape[0] == m.shape[1]:  # square: every singular value is the gain, so products of layers keep all norms
        assert torch.allclose(torch.linalg.svdvals(w.reshape(shape[0], -1)), torch.full((shape[0],), 1.5,
                              dtype=torch.float64, device=device))


def test_zero_element_tensor_is_a_no_op_with_a_warning():
    with pytest.warns(UserWarning, match="zero-element"):
        ci.kaiming_normal_(torch.empty(0, 4))


# ----------------------------------------------------------------- initialize(model, scheme)
def _model():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 20), nn.Tanh(),
                         nn.Conv1d(1, 2, 3), nn.Linear(20, 5, bias=False))


def test_initialize_applies_the_scheme_to_every_weight_and_zeroes_biases(device):
    model = _model().to(device)
    ci.initialize(model, "kaiming_normal", generator=_gen(device, 2))
    ref = _model().to(device)
    g = _gen(device, 2)
    for m in ref.modules():
        if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=g)
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        if name.endswith("bias"):
            assert torch.equal(p, torch.zeros_like(p)), name
        else:
            assert torch.equal(p, q), name


@pytest.mark.parametrize("scheme, kwargs, check", [
    ("constant", dict(val=0.5), lambda w, fi, fo: bool((w == 0.5).all())),
    ("small_normal", dict(std=1.0), lambda w, fi, fo: abs(w.std().item() - 1.0) < 0.05),
    ("xavier_normal", dict(nonlinearity="tanh"),
     lambda w, fi, fo: abs(w.std().item() / (5 / 3 * math.sqrt(2 / (fi + fo))) - 1) < 0.05),
    ("xavier_uniform", {}, lambda w, fi, fo: w.abs().max().item() <= math.sqrt(6 / (fi + fo)) + 1e-7),
    ("kaiming_uniform", {}, lambda w, fi, fo: w.abs().max().item() <= math.sqrt(6 / fi) + 1e-7),
    ("lecun_normal", {}, lambda w, fi, fo: abs(w.std().item() * math.sqrt(fi) - 1) < 0.05),
])
def test_initialize_schemes(scheme, kwargs, check):
    layer = nn.Linear(400, 300)
    ci.initialize(layer, scheme, generator=_gen("cpu"), **kwargs)
    assert check(layer.weight.detach(), 400, 300)
    assert torch.equal(layer.bias.detach(), torch.zeros(300))


def test_initialize_with_a_function_and_reproducibility():
    a = ci.initialize(_model(), ci.xavier_normal_, generator=_gen("cpu", 4))
    b = ci.initialize(_model(), "xavier_normal", generator=_gen("cpu", 4))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_initialize_calls_a_function_without_a_generator_with_the_weight_only():
    seen = []
    model = ci.initialize(_model(), lambda w: seen.append(tuple(w.shape)) or nn.init.constant_(w, 0.25))
    assert seen == [(8, 3, 3, 3), (20, 288), (2, 1, 3), (5, 20)]  # model.modules() order
    assert all(torch.all(p == (0.25 if name.endswith("weight") else 0.0)) for name, p in model.named_parameters())


def test_initialize_orthogonal_with_the_tanh_gain():
    layer = ci.initialize(nn.Linear(50, 50), "orthogonal", nonlinearity="tanh", generator=_gen("cpu", 6))
    ref = nn.init.orthogonal_(torch.empty(50, 50), gain=5 / 3, generator=_gen("cpu", 6))
    assert torch.equal(layer.weight.detach(), ref) and torch.all(layer.bias == 0)


# ----------------------------------------------------------------- LSUV
def _lsuv_net(bias):
    return nn.Sequential(nn.Linear(30, 40, bias=bias), nn.Tanh(), nn.Linear(40, 40, bias=bias), nn.ReLU(),
                         nn.Unflatten(1, (4, 10)), nn.Conv1d(4, 6, 3, bias=bias), nn.Tanh(), nn.Flatten(),
                         nn.Linear(48, 5, bias=bias))


@pytest.mark.parametrize("bias", [False, True])
def test_lsuv_gives_every_layer_unit_output_variance_on_the_batch(device, bias):
    x = 3.0 * torch.randn(256, 30, generator=_gen("cpu", 7)).to(device) + 1.0
    model = ci.lsuv_(_lsuv_net(bias).to(device), x, tol=1e-3, generator=_gen(device, 8))
    outputs = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: outputs.append(out.var().item()))
             for m in model.modules() if isinstance(m, ci.WEIGHTED)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    assert len(outputs) == 4 and all(abs(v - 1) < 1e-3 for v in outputs), outputs
    if bias:
        assert all(torch.all(m.bias == 0) for m in model.modules() if isinstance(m, ci.WEIGHTED))


def test_lsuv_starts_from_orthogonal_weights_rescaled_per_layer():
    x = torch.randn(128, 30, generator=_gen("cpu", 9))
    model = ci.lsuv_(_lsuv_net(False), x, generator=_gen("cpu", 10))
    ortho = ci.initialize(_lsuv_net(False), "orthogonal", generator=_gen("cpu", 10))
    for m, o in zip(model.modules(), ortho.modules()):
        if isinstance(m, ci.WEIGHTED):  # the same directions, one positive factor per layer
            ratio = m.weight / o.weight
            assert ratio.min().item() > 0 and torch.allclose(ratio, ratio.mean(), rtol=1e-4)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, exc, match", [
    (lambda: ci.fan_in_and_fan_out(torch.empty(5)), ValueError, "at least 2 dimensions.*got shape \\(5,\\)"),
    (lambda: ci.xavier_uniform_(torch.empty(5)), ValueError, "a bias has no fans"),
    (lambda: ci.kaiming_normal_(torch.zeros(())), ValueError, "at least 2 dimensions"),
    (lambda: ci.kaiming_normal_(torch.empty(3, 4), mode="fan_avg"), ValueError,
     "mode must be one of 'fan_in', 'fan_out', got 'fan_avg'"),
    (lambda: ci.kaiming_uniform_(torch.empty(3, 4), nonlinearity="swish"), ValueError,
     "nonlinearity must be one of .*'tanh'.*got 'swish'"),
    (lambda: ci.calculate_gain("softplus"), ValueError, "nonlinearity must be one of"),
    (lambda: ci.calculate_gain("leaky_relu", "0.2"), TypeError, "negative slope"),
    (lambda: ci.small_normal_(torch.empty(3, 4), std=-0.01), ValueError, "std must be a real number in \\[0, inf\\)"),
    (lambda: ci.small_normal_(torch.empty(3, 4), std="0.01"), TypeError, "std must be a real number"),
    (lambda: ci.xavier_normal_(torch.empty(3, 4), gain=-1.0), ValueError, "gain must be a real number in \\[0"),
    (lambda: ci.constant_(torch.empty(3), float("nan")), ValueError, "val must be a real number"),
    (lambda: ci.xavier_normal_([[1.0, 2.0]]), TypeError, "tensor must be a torch.Tensor"),
    (lambda: ci.lecun_normal_(torch.empty(3, 4), generator=0), TypeError, "generator must be a torch.Generator"),
    (lambda: ci.initialize("model", "xavier_normal"), TypeError, "model must be an nn.Module"),
    (lambda: ci.initialize(nn.Linear(2, 2), "glorot"), ValueError,
     "scheme must be one of .*got 'glorot': did you mean 'xavier_normal'\\?"),
    (lambda: ci.initialize(nn.Linear(2, 2), "He"), ValueError, "got 'He': did you mean 'kaiming_normal'\\?"),
    (lambda: ci.initialize(nn.Linear(2, 2), "glorot_uniform"), ValueError, "did you mean 'xavier_uniform'\\?"),
    (lambda: ci.initialize(nn.Linear(2, 2), "swish"), ValueError, "scheme must be one of .*got 'swish'$"),
    (lambda: ci.initialize(nn.Linear(2, 2), 3), TypeError, "scheme must be one of .*got int 3"),
    (lambda: ci.initialize(nn.Linear(2, 2), nn.init.kaiming_normal_, nonlinearity="tanh"), ValueError,
     "nonlinearity='tanh': only a scheme given by name takes nonlinearity, std or val"),
    (lambda: ci.initialize(nn.Linear(2, 2), ci.small_normal_, std=0.1), ValueError,
     "std=0.1: only a scheme given by name"),
    (lambda: ci.initialize(nn.Linear(2, 2), nn.init.constant_, val=0.5), ValueError, "val=0.5: only a scheme"),
    (lambda: ci.initialize(nn.Linear(2, 2), "xavier_normal", std=0.1), ValueError,
     "std only applies to the 'small_normal' scheme, not to 'xavier_normal'"),
    (lambda: ci.initialize(nn.Linear(2, 2), "kaiming_normal", val=1.0), ValueError,
     "val only applies to the 'constant' scheme"),
    (lambda: ci.orthogonal_(torch.empty(4)), ValueError, "orthogonal_ needs a weight with at least 2 dimensions"),
    (lambda: ci.orthogonal_(torch.empty(4, 4), gain=-1), ValueError, "gain must be a real number in \\[0"),
    (lambda: ci.lsuv_(nn.Linear(3, 2), [[1.0, 2.0, 3.0]]), TypeError, "x must be a torch.Tensor"),
    (lambda: ci.lsuv_("model", torch.ones(2, 3)), TypeError, "model must be an nn.Module"),
    (lambda: ci.lsuv_(nn.Tanh(), torch.ones(2, 3)), ValueError, "model has no nn.Linear or nn.Conv"),
    (lambda: ci.lsuv_(nn.Linear(3, 1), torch.ones(4, 3)), ValueError, "has variance 0.0 on x"),
    (lambda: ci.lsuv_(nn.Linear(3, 2), torch.randn(4, 3), max_iter=0), ValueError, "max_iter must be an int"),
    (lambda: ci.initialize(nn.Linear(2, 2), "kaiming_normal", nonlinearity="swish"), ValueError,
     "nonlinearity must be one of"),
    (lambda: ci.initialize(nn.Linear(2, 2), "constant", nonlinearity="relu"), ValueError,
     "nonlinearity only applies"),
])
def test_bad_input_has_clear_messages(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
