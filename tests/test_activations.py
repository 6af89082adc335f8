"""course_lib.activations against torch's functions and modules, and Maxout against its definition."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.activations import (ELU, PReLU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh, active_fraction,
                                    dead_fraction, elu, elu_derivative, leaky_relu, leaky_relu_derivative, maxout,
                                    prelu, prelu_derivative, relu, relu_derivative, sigmoid, sigmoid_derivative,
                                    tanh, tanh_derivative)

DTYPES = [torch.float32, torch.float64]


def _inputs(device, dtype=torch.float64, shape=(7, 5, 3), seed=0):
    """Random values of all sizes, plus the kink 0 and saturated values, so every branch is exercised."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=dtype) * 4
    flat = x.view(-1)
    flat[:8] = torch.tensor([0.0, -0.0, 1e-8, -1e-8, 50.0, -50.0, 120.0, -120.0], dtype=dtype)
    return x.to(device)


# (ours, torch's, kwargs, our derivative) for every element-wise function
PAIRS = [
    (sigmoid, torch.sigmoid, {}, sigmoid_derivative),
    (tanh, torch.tanh, {}, tanh_derivative),
    (relu, F.relu, {}, relu_derivative),
    (leaky_relu, F.leaky_relu, {}, leaky_relu_derivative),
    (leaky_relu, F.leaky_relu, {"negative_slope": 0.1}, leaky_relu_derivative),
    (leaky_relu, F.leaky_relu, {"negative_slope": -0.3}, leaky_relu_derivative),
    (elu, F.elu, {}, elu_derivative),
    (elu, F.elu, {"alpha": 0.5}, elu_derivative),
    (elu, F.elu, {"alpha": 2.0}, elu_derivative),
    (elu, F.elu, {"alpha": 0.0}, elu_derivative),
]
IDS = [f"{ours.__name__}{kw}" for ours, _, kw, _ in PAIRS]


# ----------------------------------------------------------------- functions vs torch: values and gradients
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ours, theirs, kwargs, _d", PAIRS, ids=IDS)
def test_function_and_gradient_equal_torch(device, dtype, ours, theirs, kwargs, _d):
    x = _inputs(device, dtype)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(1), dtype=dtype).to(device)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ya, yb = ours(a, **kwargs), theirs(b, **kwargs)
    assert ya.shape == x.shape and ya.dtype == dtype and ya.device == x.device
    torch.testing.assert_close(ya, yb)
    ya.backward(g)
    yb.backward(g)
    assert torch.isfinite(a.grad).all(), "no NaN/inf gradient, even for saturated inputs"
    torch.testing.assert_close(a.grad, b.grad)


@pytest.mark.parametrize("ours, theirs, kwargs, derivative", PAIRS, ids=IDS)
def test_derivative_equals_autograd(device, ours, theirs, kwargs, derivative):
    x = _inputs(device).requires_grad_()
    theirs(x, **kwargs).sum().backward()  # d/dx of sum f(x_i) is f'(x_i), element by element
    d = derivative(x.detach(), **kwargs)
    assert d.shape == x.shape and d.device == x.device
    torch.testing.assert_close(d, x.grad)


def test_derivatives_at_the_kink_follow_autograd(device):
    zero = torch.zeros(3, device=device, dtype=torch.float64)
    assert relu_derivative(zero).tolist() == [0.0] * 3
    assert leaky_relu_derivative(zero, 0.2).tolist() == [0.2] * 3
    assert elu_derivative(zero, 0.5).tolist() == [0.5] * 3          # ELU' jumps from alpha to 1 unless alpha = 1
    assert sigmoid_derivative(zero).tolist() == [0.25] * 3
    assert tanh_derivative(zero).tolist() == [1.0] * 3


def test_sigmoid_derivative_is_at_most_a_quarter_and_vanishes_when_saturated(device):
    z = torch.linspace(-30, 30, 60001, device=device, dtype=torch.float64)
    d = sigmoid_derivative(z)
    assert d.max().item() == pytest.approx(0.25) and d.argmax().item() == 30000  # at z = 0
    assert (d <= 0.25).all()
    assert (d[z.abs() >= 10] < 5e-5).all()
    torch.testing.assert_close(tanh_derivative(z), 4 * sigmoid_derivative(2 * z))  # tanh(z) = 2 sigma(2z) - 1


@pytest.mark.parametrize("ours, theirs, kwargs", [(relu, F.relu, {}), (leaky_relu, F.leaky_relu, {"negative_slope": 0.2}),
                                                  (elu, F.elu, {"alpha": 0.7})])
def test_inplace_overwrites_the_input_like_torch(device, ours, theirs, kwargs):
    x = _inputs(device)
    w = torch.ones_like(x)
    results = []
    for f in (ours, theirs):
        leaf = x.clone().requires_grad_()
        mid = leaf * w                                  # a non-leaf, which may be overwritten
        out = f(mid, inplace=True, **kwargs)
        assert out.data_ptr() == mid.data_ptr()
        out.square().sum().backward()
        results.append((mid.detach().clone(), leaf.grad))
    torch.testing.assert_close(results[0][0], results[1][0])
    torch.testing.assert_close(results[0][1], results[1][1])
    before = x.clone()
    ours(x, **kwargs)                                   # the default leaves the input alone
    assert torch.equal(x, before)


# ----------------------------------------------------------------- PReLU
@pytest.mark.parametrize("num_parameters", [1, 5])
def test_prelu_function_and_gradients_equal_torch(device, num_parameters):
    x = _inputs(device, shape=(6, 5, 4))
    weight = torch.linspace(-0.2, 0.6, num_parameters, dtype=torch.float64, device=device)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    wa, wb = weight.clone().requires_grad_(), weight.clone().requires_grad_()
    ya, yb = prelu(xa, wa), F.prelu(xb, wb)
    torch.testing.assert_close(ya, yb)
    g = torch.randn_like(ya)
    ya.backward(g)
    yb.backward(g)
    torch.testing.assert_close(xa.grad, xb.grad)
    torch.testing.assert_close(wa.grad, wb.grad)                   # the learned slope gets the same gradient
    torch.testing.assert_close(prelu_derivative(x, weight), xb.grad / g)
    expected = (g * x.clamp(max=0)).sum((0, 2)) if num_parameters > 1 else (g * x.clamp(max=0)).sum().reshape(1)
    torch.testing.assert_close(wa.grad, expected)                  # df/da = min(0, z), summed over its units


@pytest.mark.parametrize("num_parameters, init", [(1, 0.25), (3, -0.1), (8, 0.0)])
def test_prelu_module_is_a_drop_in_for_nn_prelu(device, num_parameters, init):
    ours = PReLU(num_parameters, init).to(device)
    theirs = nn.PReLU(num_parameters, init).to(device)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["weight"]
    torch.testing.assert_close(ours.weight, theirs.weight)
    assert repr(ours).endswith(f"PReLU(num_parameters={num_parameters})") and repr(theirs) == repr(ours)
    with torch.no_grad():
        theirs.weight.copy_(torch.linspace(-0.3, 0.7, num_parameters))
    ours.load_state_dict(theirs.state_dict())                      # torch -> ours
    x = _inputs(device, dtype=torch.float32, shape=(4, num_parameters, 6))
    torch.testing.assert_close(ours(x), theirs(x))
    fresh = nn.PReLU(num_parameters).to(device)
    fresh.load_state_dict(ours.state_dict())                        # ours -> torch
    torch.testing.assert_close(fresh(x), ours(x))
    ours.reset_parameters()
    assert (ours.weight == init).all()


def test_prelu_default_and_device_dtype_arguments():
    layer = PReLU(dtype=torch.float64)
    assert layer.weight.shape == (1,) and layer.weight.dtype == torch.float64 and layer.weight.item() == 0.25
    assert layer.num_parameters == 1 and layer.init == 0.25


def test_prelu_learns_its_slope(device):
    layer = PReLU().to(device)
    x = -torch.rand(100, device=device) - 0.5                        # negative inputs only
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(50):
        opt.zero_grad()
        F.mse_loss(layer(x), 0.8 * x).backward()                      # target slope 0.8
        opt.step()
    assert layer.weight.item() == pytest.approx(0.8, abs=1e-3)


# ----------------------------------------------------------------- modules vs torch's
MODULES = [
    (Sigmoid(), nn.Sigmoid()),
    (Tanh(), nn.Tanh()),
    (ReLU(), nn.ReLU()),
    (ReLU(inplace=True), nn.ReLU(inplace=True)),
    (LeakyReLU(), nn.LeakyReLU()),
    (LeakyReLU(0.2, inplace=True), nn.LeakyReLU(0.2, inplace=True)),
    (ELU(), nn.ELU()),
    (ELU(alpha=0.5, inplace=True), nn.ELU(alpha=0.5, inplace=True)),
]


@pytest.mark.parametrize("ours, theirs", MODULES, ids=lambda m: repr(m))
def test_modules_equal_torch_in_a_network(device, ours, theirs):
    assert repr(ours) == repr(theirs)                                # same name, arguments and print
    torch.manual_seed(3)
    net_a = nn.Sequential(nn.Linear(6, 9), ours, nn.Linear(9, 2)).to(device)
    net_b = nn.Sequential(nn.Linear(6, 9), theirs, nn.Linear(9, 2)).to(device)
    net_b.load_state_dict(net_a.state_dict())
    net_a.load_state_dict(net_b.state_dict())                       # state_dicts load both ways
    x = torch.randn(16, 6, device=device) * 3
    ya, yb = net_a(x), net_b(x)
    torch.testing.assert_close(ya, yb)
    ya.square().sum().backward()
    yb.square().sum().backward()
    for pa, pb in zip(net_a.parameters(), net_b.parameters()):
        torch.testing.assert_close(pa.grad, pb.grad)


def test_default_arguments_match_torch():
    assert LeakyReLU().negative_slope == nn.LeakyReLU().negative_slope == 0.01
    assert ELU().alpha == nn.ELU().alpha == 1.0
    assert not ReLU().inplace and not LeakyReLU().inplace and not ELU().inplace
    assert PReLU().init == nn.PReLU().init == 0.25


# ----------------------------------------------------------------- Maxout, by its definition
def _pieces_of(layer, x):
    """The k linear maps of every unit, computed one by one: (N, out, k)."""
    w = layer.weight.reshape(layer.out_features, layer.pieces, layer.in_features)
    b = layer.bias.reshape(layer.out_features, layer.pieces)
    return torch.stack([x @ w[:, j].T + b[:, j] for j in range(layer.pieces)], dim=-1)


@pytest.mark.parametrize("pieces", [2, 3, 5])
def test_maxout_is_the_max_of_its_linear_pieces(device, pieces):
    layer = Maxout(7, 4, pieces, generator=torch.Generator().manual_seed(0)).to(device)
    x = torch.randn(20, 7, device=device)
    out = layer(x)
    assert out.shape == (20, 4)
    torch.testing.assert_close(out, _pieces_of(layer, x).max(-1).values)


@pytest.mark.parametrize("pieces", [2, 3])
def test_maxout_gradient_flows_only_to_the_winning_piece(device, pieces):
    layer = Maxout(5, 3, pieces, generator=torch.Generator().manual_seed(1)).to(device)
    x = torch.randn(1, 5, device=device)                             # one example: one winner per unit
    g = torch.randn(1, 3, device=device)
    layer(x).backward(g)
    winner = _pieces_of(layer, x).argmax(-1)[0]                     # (out,)
    wgrad = layer.weight.grad.reshape(3, pieces, 5)
    bgrad = layer.bias.grad.reshape(3, pieces)
    for i in range(3):
        for j in range(pieces):
            if j == winner[i]:
                torch.testing.assert_close(wgrad[i, j], g[0, i] * x[0])
                torch.testing.assert_close(bgrad[i, j], g[0, i])
            else:
                assert (wgrad[i, j] == 0).all() and bgrad[i, j] == 0


def test_maxout_with_a_zero_piece_is_relu(device):
    torch.manual_seed(2)
    linear = nn.Linear(6, 4).to(device)
    layer = Maxout(6, 4, pieces=2).to(device)
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
        layer.weight[0::2] = linear.weight                           # piece 0: w, b; piece 1: 0
        layer.bias[0::2] = linear.bias
    x = torch.randn(30, 6, device=device)
    torch.testing.assert_close(layer(x), F.relu(linear(x)))


def test_maxout_with_pieces_w_and_a_w_is_leaky_relu_and_w_minus_w_is_abs(device):
    torch.manual_seed(3)
    linear = nn.Linear(6, 4).to(device)
    x = torch.randn(30, 6, device=device)
    for scale, expected in ((0.1, F.leaky_relu(linear(x), 0.1)), (-1.0, linear(x).abs())):
        layer = Maxout(6, 4, pieces=2).to(device)
        with torch.no_grad():
            layer.weight[0::2], layer.bias[0::2] = linear.weight, linear.bias
            layer.weight[1::2], layer.bias[1::2] = scale * linear.weight, scale * linear.bias
        torch.testing.assert_close(layer(x), expected)


def test_maxout_is_convex_in_its_input(device):
    layer = Maxout(3, 5, pieces=4, generator=torch.Generator().manual_seed(4)).to(device)
    a, b = torch.randn(50, 3, device=device), torch.randn(50, 3, device=device)
    t = torch.rand(50, 1, device=device)
    assert (layer(t * a + (1 - t) * b) <= t * layer(a) + (1 - t) * layer(b) + 1e-5).all()


def test_maxout_init_generator_state_dict_and_repr(device):
    a = Maxout(10, 3, 2, generator=torch.Generator().manual_seed(5))
    b = Maxout(10, 3, 2, generator=torch.Generator().manual_seed(5))
    c = Maxout(10, 3, 2, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)
    assert a.weight.shape == (6, 10) and a.bias.shape == (6,)
    assert a.weight.abs().max() <= 10 ** -0.5 and a.bias.abs().max() <= 10 ** -0.5
    assert set(a.state_dict()) == {"weight", "bias"}
    c.load_state_dict(a.state_dict())
    assert torch.equal(c.weight, a.weight)
    assert repr(a) == "Maxout(in_features=10, out_features=3, pieces=2, bias=True)"
    nobias = Maxout(4, 2, 3, bias=False).to(device)
    assert nobias.bias is None and nobias(torch.randn(2, 4, device=device)).shape == (2, 2)
    assert Maxout(4, 2, dtype=torch.float64).weight.dtype == torch.float64


def test_maxout_draws_the_same_weights_on_every_device(device):
    cpu = Maxout(6, 4, 3, generator=torch.Generator().manual_seed(7))
    there = Maxout(6, 4, 3, device=device, generator=torch.Generator().manual_seed(7))
    assert there.weight.device.type == torch.device(device).type
    torch.testing.assert_close(there.weight.cpu(), cpu.weight, rtol=0, atol=0)
    torch.testing.assert_close(there.bias.cpu(), cpu.bias, rtol=0, atol=0)


def test_maxout_function_on_feature_maps(device):
    x = torch.randn(2, 6, 4, 4, device=device)
    out = maxout(x, 3)                                               # channels 0-2 -> 0, 3-5 -> 1
    assert out.shape == (2, 2, 4, 4)
    torch.testing.assert_close(out[:, 1], x[:, 3:6].max(1).values)
    torch.testing.assert_close(maxout(x, 2, dim=-1), x.reshape(2, 6, 4, 2, 2).max(-1).values)


# ----------------------------------------------------------------- dead units
def test_active_and_dead_fraction_count_units_never_active(device):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 6), ReLU(), nn.Linear(6, 2)).to(device)
    with torch.no_grad():
        model[0].bias[:3] = -100.0                                   # three units of layer 1 can never fire
    x = torch.randn(500, 4, device=device)
    model.train()
    fractions = active_fraction(model, x, batch_size=64)
    assert model.training                                            # mode restored
    assert list(fractions) == ["1", "3"] and fractions["1"].shape == (10,)
    h = F.relu(model[0](x))
    torch.testing.assert_close(fractions["1"], (h > 0).double().mean(0).cpu())
    dead = dead_fraction(model, x)
    assert dead["1"] == pytest.approx((h > 0).sum(0).eq(0).double().mean().item())
    assert dead["1"] >= 0.3
    # a dead unit passes no gradient: its incoming weights get none
    F.cross_entropy(model(x), torch.zeros(500, dtype=torch.long, device=device)).backward()
    assert (model[0].weight.grad[:3] == 0).all() and (model[0].bias.grad[:3] == 0).all()
    assert set(active_fraction(model, x, layer_types=(nn.Linear,))) == {"0", "2", "4"}


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda: sigmoid([1.0, 2.0]), TypeError, "input must be a torch.Tensor, got list"),
    (lambda: relu(torch.tensor([1, 2])), TypeError, "input must be a floating-point tensor, got dtype torch.int64"),
    (lambda: relu(torch.ones(2), inplace=1), TypeError, "inplace must be True or False, got int 1"),
    (lambda: leaky_relu(torch.ones(2), "0.1"), TypeError, r"negative_slope must be a real number .* got str '0.1'"),
    (lambda: leaky_relu(torch.ones(2), float("nan")), ValueError, "negative_slope must be a real number"),
    (lambda: elu(torch.ones(2), -1.0), ValueError, r"alpha must be a real number in \[0, inf\), got -1.0 .*saturate"),
    (lambda: ELU(alpha=-0.5), ValueError, r"alpha must be a real number in \[0, inf\), got -0.5"),
    (lambda: ELU(alpha=None), TypeError, "alpha must be a real number"),
    (lambda: LeakyReLU(negative_slope=[0.1]), TypeError, "negative_slope must be a real number"),
    (lambda: ReLU(inplace="yes"), TypeError, "inplace must be True or False"),
    (lambda: PReLU(num_parameters=0), ValueError, r"num_parameters must be an int in \[1, inf\), got 0"),
    (lambda: PReLU(num_parameters=-3), ValueError, r"num_parameters must be an int in \[1, inf\), got -3"),
    (lambda: PReLU(num_parameters=2.0), TypeError, "num_parameters must be an int"),
    (lambda: PReLU(init="a"), TypeError, "init must be a real number"),
    (lambda: prelu(torch.ones(4, 3), torch.ones(5)), ValueError, r"5 slopes, one per channel, .* has 3 channels"),
    (lambda: prelu(torch.ones(4), torch.ones(4)), ValueError, "has no channel dimension"),
    (lambda: prelu(torch.ones(4, 3), torch.ones(3, 1)), ValueError, "weight must have 0 or 1 dimensions"),
    (lambda: PReLU(3)(torch.ones(2, 4)), ValueError, "3 slopes, one per channel"),
    (lambda: Maxout(4, 3, pieces=1), ValueError, r"pieces must be an int in \[2, inf\), got 1 .*k = 1 is a plain"),
    (lambda: Maxout(4, 3, pieces=0), ValueError, r"pieces must be an int in \[2, inf\), got 0"),
    (lambda: Maxout(4, 3, pieces=2.5), TypeError, "pieces must be an int"),
    (lambda: Maxout(0, 3), ValueError, r"in_features must be an int in \[1, inf\), got 0"),
    (lambda: Maxout(4, -1), ValueError, r"out_features must be an int in \[1, inf\), got -1"),
    (lambda: Maxout(4, 2, bias=1), TypeError, "bias must be True or False"),
    (lambda: Maxout(4, 2, generator=0), TypeError, "generator must be a torch.Generator or None"),
    (lambda: Maxout(4, 2)(torch.ones(3, 5)), ValueError, "in_features = 4 entries in its last dimension, got shape"),
    (lambda: maxout(torch.ones(2, 5), 2), ValueError, "multiple of pieces = 2 features along dim 1, got 5"),
    (lambda: maxout(torch.ones(2, 4), 2, dim=3), ValueError, r"dim must be in \[-2, 1\]"),
    (lambda: active_fraction("model", torch.ones(2, 2)), TypeError, "model must be an nn.Module, got str"),
    (lambda: active_fraction(nn.Linear(2, 2), torch.ones(2, 2)), ValueError, "model has no layer of type ReLU"),
    (lambda: active_fraction(nn.ReLU(), torch.ones(0, 2)), ValueError, "non-empty batch"),
    (lambda: active_fraction(nn.ReLU(), torch.ones(3, 2), layer_types=nn.ReLU), TypeError, "tuple of nn.Module"),
    (lambda: dead_fraction(nn.ReLU(), torch.ones(3, 2), batch_size=0), ValueError, "batch_size must be an int"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------- NaN and precision, as torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ours, theirs, kwargs, _d", PAIRS, ids=IDS)
def test_nan_propagates_like_torch(device, dtype, ours, theirs, kwargs, _d):
    x = torch.tensor([float("nan"), -1.0, 0.0, 2.0, float("nan")], dtype=dtype, device=device)
    got, want = ours(x, **kwargs), theirs(x, **kwargs)
    assert torch.isnan(got[[0, 4]]).all(), f"{ours.__name__} must keep NaN, not turn it into a number"
    torch.testing.assert_close(got, want, equal_nan=True)


def test_nan_propagates_through_prelu_and_the_layers(device):
    x = torch.tensor([[float("nan"), -1.0, 2.0]], device=device)
    for layer in (Sigmoid(), Tanh(), ReLU(), LeakyReLU(0.1), ELU(), PReLU().to(device)):
        assert torch.isnan(layer(x)[0, 0]) and torch.isfinite(layer(x)[0, 1:]).all(), type(layer).__name__
    assert torch.isnan(relu(x.clone(), inplace=True)[0, 0])
    assert torch.isnan(sigmoid_derivative(x)[0, 0]) and torch.isnan(tanh_derivative(x)[0, 0])


def test_a_nan_unit_is_not_counted_as_dead(device):
    model = nn.Sequential(nn.Linear(2, 3), ReLU()).to(device)
    with torch.no_grad():
        model[0].weight[0] = float("nan")                          # unit 0 computes NaN
        model[0].bias[1:] = -100.0                                 # units 1 and 2 are dead
    out = model(torch.randn(10, 2, device=device))
    assert torch.isnan(out[:, 0]).all() and (out[:, 1:] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_keeps_its_relative_precision_near_zero(device, dtype):
    tiny = torch.tensor([1e-30, 1e-12, 1e-9, 1e-6, 1e-4, 1e-2, 0.3], dtype=dtype)
    x = torch.cat([tiny, -tiny]).to(device)
    got, want = tanh(x), torch.tanh(x.double()).to(dtype)
    rel = ((got - want).abs() / want.abs()).max().item()
    assert rel < 4 * torch.finfo(dtype).eps, f"relative error {rel:.2e} near 0"
    assert torch.equal(tanh(torch.zeros(1, dtype=dtype)), torch.zeros(1, dtype=dtype))
    big = torch.tensor([-1e4, -20.0, 20.0, 1e4, float("inf"), -float("inf")], dtype=dtype)
    torch.testing.assert_close(tanh(big), torch.tanh(big))


def test_active_fraction_per_channel_on_feature_maps(device):
    conv = nn.Conv2d(1, 3, 3).to(device)
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.copy_(torch.tensor([-1.0, 1.0, 0.0]))            # channel 0 and 2 never > 0, channel 1 always
        conv.weight[2, 0, 1, 1] = 1.0                              # channel 2 > 0 where the centre pixel is
    model = nn.Sequential(conv, nn.ReLU()).to(device)
    x = -torch.ones(4, 1, 5, 5, device=device)
    x[0, 0, 2, 2] = 1.0                                            # one positive pixel, in example 0 only
    per_channel = active_fraction(model, x, per_channel=True)["1"]
    assert per_channel.tolist() == [0.0, 1.0, 0.25]
    assert dead_fraction(model, x, per_channel=True)["1"] == pytest.approx(1 / 3)
    assert active_fraction(model, x)["1"].shape == (3 * 3 * 3,)   # the default counts positions
    with pytest.raises(ValueError, match="per_channel=True needs outputs with a channel dimension"):
        active_fraction(nn.ReLU(), torch.ones(3), per_channel=True)
