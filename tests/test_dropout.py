"""course_lib.dropout against torch.nn.functional.dropout and against dropout's defining properties."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.dropout import (DropConnectLinear, InvertedDropout, InvertedDropout2d, VanillaDropout,
                                check_probability, dropout_mask, enable_dropout, inverted_dropout, is_dropout_layer,
                                mc_predict, use_generator, vanilla_dropout)

PS = [0.1, 0.5, 0.8]


def _gen(device, seed=0):
    return torch.Generator(device=device).manual_seed(seed)


def _nonzero(shape, device, seed=0):
    """Random inputs without zeros, so a zero in the output can only come from the mask."""
    x = torch.randn(shape, generator=_gen("cpu", seed))
    return (x + torch.sign(x)).to(device)  # |x| >= 1


# ----------------------------------------------------------------- the mask
@pytest.mark.parametrize("p", PS)
def test_mask_is_bernoulli_keep_probability(device, p):
    x = torch.zeros(200_000, device=device, dtype=torch.float64)
    m = dropout_mask(x, p, generator=_gen(device))
    assert m.shape == x.shape and m.dtype == x.dtype and m.device == x.device
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    keep = 1 - p
    se = math.sqrt(keep * (1 - keep) / x.numel())
    assert abs(m.mean().item() - keep) < 5 * se  # P(m = 1) = p_keep = 1 - p


def test_mask_is_reproducible_with_a_generator(device):
    x = torch.zeros(1000, device=device)
    a = dropout_mask(x, 0.4, generator=_gen(device, 7))
    b = dropout_mask(x, 0.4, generator=_gen(device, 7))
    c = dropout_mask(x, 0.4, generator=_gen(device, 8))
    assert torch.equal(a, b) and not torch.equal(a, c)


# ----------------------------------------------------------------- inverted dropout vs F.dropout
@pytest.mark.parametrize("p", PS)
def test_inverted_dropout_equals_F_dropout_with_the_same_seed_on_cpu(p):
    # On the CPU F.dropout draws noise = bernoulli_(1 - p), divides it by 1 - p and multiplies:
    # the same seed gives the same mask, so outputs AND gradients are bit-for-bit equal.
    x = torch.randn(64, 33)
    g = torch.randn(64, 33)
    xr, xo, xm = (x.clone().requires_grad_() for _ in range(3))
    torch.manual_seed(123)
    ref = F.dropout(xr, p, training=True)
    torch.manual_seed(123)
    ours = inverted_dropout(xo, p, training=True)
    torch.manual_seed(123)
    layer_out = InvertedDropout(p)(xm)
    assert torch.equal(ours, ref) and torch.equal(layer_out, ref)
    ref.backward(g)
    ours.backward(g)
    layer_out.backward(g)
    assert torch.equal(xo.grad, xr.grad) and torch.equal(xm.grad, xr.grad)


@pytest.mark.parametrize("p", PS)
def test_inverted_dropout_follows_F_dropouts_rule_through_the_mask(device, p):
    # On any device: both outputs are x * mask / (1 - p) for their own mask, with keep rate 1 - p.
    x = _nonzero((400, 250), device)
    ref = F.dropout(x, p, training=True)
    ref_mask = (ref != 0).to(x.dtype)
    torch.testing.assert_close(ref, x * ref_mask / (1 - p))
    layer = InvertedDropout(p).to(device)
    out = layer(x)
    assert torch.equal(out != 0, layer.mask.bool())
    torch.testing.assert_close(out, x * layer.mask / (1 - p))
    torch.testing.assert_close(out[out != 0], x[out != 0] / (1 - p))  # the scale rule: kept units × 1/p_keep
    se = math.sqrt(p * (1 - p) / x.numel())
    for mask in (ref_mask, layer.mask):
        assert abs(mask.mean().item() - (1 - p)) < 5 * se


def test_inverted_module_matches_nn_dropout_in_both_modes_on_cpu():
    x = torch.randn(8, 16)
    ours, ref = InvertedDropout(0.3), nn.Dropout(0.3)
    torch.manual_seed(5)
    a = ours(x)
    torch.manual_seed(5)
    b = ref(x)
    assert torch.equal(a, b)
    ours.eval()
    ref.eval()
    assert torch.equal(ours(x), ref(x)) and torch.equal(ours(x), x)


# ----------------------------------------------------------------- expectations
@pytest.mark.parametrize("p", PS)
def test_inverted_dropout_keeps_the_expectation(device, p):
    # E[m x / p_keep] = x; each entry of the mean of K samples has standard error |x| sqrt(p / (p_keep K)).
    K, n = 20_000, 50
    x = torch.linspace(-2, 3, n, device=device, dtype=torch.float64)
    samples = inverted_dropout(x.expand(K, n), p, generator=_gen(device))  # an independent mask per row
    se = x.abs() * math.sqrt(p / ((1 - p) * K))
    assert ((samples.mean(0) - x).abs() <= 5 * se + 1e-12).all()


@pytest.mark.parametrize("p", PS)
def test_vanilla_dropout_expectation_is_the_test_time_scaling(device, p):
    # E[m x] = p_keep x, which is exactly what vanilla dropout outputs at test time.
    K, n = 20_000, 50
    x = torch.linspace(-2, 3, n, device=device, dtype=torch.float64)
    samples = vanilla_dropout(x.expand(K, n), p, generator=_gen(device))
    test_time = vanilla_dropout(x, p, training=False)
    torch.testing.assert_close(test_time, (1 - p) * x)
    se = x.abs() * math.sqrt(p * (1 - p) / K)
    assert ((samples.mean(0) - test_time).abs() <= 5 * se + 1e-12).all()


def test_vanilla_and_inverted_differ_only_by_the_scale(device):
    x = torch.randn(100, device=device)
    v = vanilla_dropout(x, 0.3, generator=_gen(device, 3))
    i = inverted_dropout(x, 0.3, generator=_gen(device, 3))
    torch.testing.assert_close(v / 0.7, i)


# ----------------------------------------------------------------- train() / eval()
@pytest.mark.parametrize("p", PS)
def test_eval_mode_identity_and_scaling(device, p):
    x = torch.randn(32, 10, device=device)
    inv, van = InvertedDropout(p).to(device), VanillaDropout(p).to(device)
    assert inv.training and van.training
    assert (inv(x) == 0).any() and (van(x) == 0).any()  # random in training mode
    inv.eval()
    van.eval()
    assert torch.equal(inv(x), x)  # inverted: identity
    torch.testing.assert_close(van(x), (1 - p) * x)  # vanilla: scale by p_keep
    assert torch.equal(inverted_dropout(x, p, training=False), x)
    torch.testing.assert_close(vanilla_dropout(x, p, training=False), (1 - p) * x)


def test_layers_follow_the_model_mode(device):
    model = nn.Sequential(nn.Linear(5, 20), InvertedDropout(0.5), nn.Linear(20, 3)).to(device)
    x = torch.randn(4, 5, device=device)
    model.eval()
    a, b = model(x), model(x)
    assert torch.equal(a, b)  # deterministic at test time
    model.train()
    c, d = model(x), model(x)
    assert not torch.equal(c, d)  # a fresh mask on every forward pass


def test_p_zero_is_the_identity_in_training(device):
    x = torch.randn(50, device=device)
    assert torch.equal(inverted_dropout(x, 0.0), x) and torch.equal(vanilla_dropout(x, 0.0), x)
    assert torch.equal(InvertedDropout(0.0)(x), x) and torch.equal(VanillaDropout(0.0)(x), x)


# ----------------------------------------------------------------- gradients
@pytest.mark.parametrize("p", PS)
def test_gradient_flows_only_through_kept_units(device, p):
    x = torch.randn(30, 40, device=device, requires_grad=True)
    g = torch.randn(30, 40, device=device)
    layer = InvertedDropout(p).to(device)
    layer(x).backward(g)
    m = layer.mask
    torch.testing.assert_close(x.grad, g * m / (1 - p))  # ∂d/∂x = m / p_keep
    assert (x.grad[m == 0] == 0).all()

    x.grad = None
    vanilla = VanillaDropout(p).to(device)
    vanilla(x).backward(g)
    torch.testing.assert_close(x.grad, g * vanilla.mask)  # ∂d/∂x = m


def test_eval_mode_gradients(device):
    x = torch.randn(10, device=device, requires_grad=True)
    InvertedDropout(0.4).eval()(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.ones_like(x))
    x.grad = None
    VanillaDropout(0.4).eval()(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 0.6))


# ----------------------------------------------------------------- DropConnect
def _linear_pair(device, p=0.5):
    torch.manual_seed(1)
    dc = DropConnectLinear(12, 5, p=p).to(device)
    plain = nn.Linear(12, 5).to(device)
    plain.load_state_dict(dc.state_dict())
    return dc, plain


def test_dropconnect_eval_is_the_plain_linear_layer(device):
    dc, plain = _linear_pair(device)
    dc.eval()
    x = torch.randn(7, 12, device=device)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    a, b = dc(x1), plain(x2)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    a.square().sum().backward()
    b.square().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(dc.weight.grad, plain.weight.grad)
    torch.testing.assert_close(dc.bias.grad, plain.bias.grad)


def test_dropconnect_drops_weights_not_units(device):
    dc, plain = _linear_pair(device, p=0.3)
    x = torch.randn(6, 12, device=device)
    y = dc(x)
    assert dc.mask.shape == dc.weight.shape  # one entry per connection, shared by the mini-batch
    torch.testing.assert_close(y, F.linear(x, dc.weight * dc.mask / 0.7, dc.bias))
    assert not (y == 0).any()  # a unit only loses some of its inputs, it is not switched off
    g = torch.randn_like(y)
    y.backward(g)
    torch.testing.assert_close(dc.weight.grad, (g.T @ x) * dc.mask / 0.7)
    assert (dc.weight.grad[dc.mask == 0] == 0).all()  # dropped connections get no update


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropconnect_training_expectation_is_the_plain_layer(device, p):
    dc, plain = _linear_pair(device, p=p)
    dc.double()
    plain.double()
    x = torch.randn(3, 12, device=device, dtype=torch.float64)
    K = 3000
    with torch.no_grad():
        mean = sum(dc(x) for _ in range(K)) / K
        expected = plain(x)
        # Var[y_j] = Σ_i x_i² W_ji² p / p_keep for one mask
        se = torch.sqrt((x.square() @ plain.weight.square().T) * p / (1 - p) / K)
    assert ((mean - expected).abs() <= 5 * se).all()


def test_dropconnect_repr_and_p_zero(device):
    dc, plain = _linear_pair(device, p=0.0)
    x = torch.randn(2, 12, device=device)
    assert torch.equal(dc(x), plain(x))
    assert "p=0.25 (keep 0.75)" in repr(DropConnectLinear(3, 2, p=0.25))
    assert "in_features=3, out_features=2" in repr(DropConnectLinear(3, 2, p=0.25))


# ----------------------------------------------------------------- Monte-Carlo prediction
def test_mc_predict_of_a_linear_readout_converges_to_weight_scaling(device):
    # Dropout followed by a linear layer: E_mask[output] equals the eval-mode output exactly.
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(6, 30), nn.ReLU(), nn.Dropout(0.5), nn.Linear(30, 4)).to(device)
    x = torch.randn(5, 6, device=device)
    K = 1000
    mc = mc_predict(model, x, n_samples=K, probs=False)
    model.eval()
    with torch.no_grad():
        scaled = model(x)
        h = model[1](model[0](x))
        se = torch.sqrt((h.square() @ model[3].weight.square().T) * 1.0 / K)  # Var of one pass: Σ h² W² p/p_keep
    assert ((mc - scaled).abs() <= 5 * se + 1e-5).all()
    assert (mc - scaled).abs().max() > 0  # and it really was random


def test_mc_predict_probs_restores_modes_and_keeps_batchnorm_in_eval(device):
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), VanillaDropout(0.5),
                          nn.Linear(16, 3)).to(device)
    model.train()
    before = model[1].running_mean.clone()
    x = torch.randn(10, 4, device=device)
    probs = mc_predict(model, x, n_samples=20)
    assert probs.shape == (10, 3)
    torch.testing.assert_close(probs.sum(1), torch.ones(10, device=device))
    assert torch.equal(model[1].running_mean, before)  # batch norm used its running statistics
    assert all(m.training for m in model.modules())  # train mode restored
    model.eval()
    mc_predict(model, x, n_samples=2)
    assert not any(m.training for m in model.modules())  # eval mode restored


def test_mc_predict_is_random_but_seeded(device):
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3)).to(device)
    x = torch.randn(10, 4, device=device)
    torch.manual_seed(0)
    a = mc_predict(model, x, n_samples=3)
    torch.manual_seed(0)
    b = mc_predict(model, x, n_samples=3)
    c = mc_predict(model, x, n_samples=3)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_enable_dropout_and_is_dropout_layer():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.1), InvertedDropout(0.2),
                          VanillaDropout(0.2), DropConnectLinear(4, 4), nn.Dropout2d(0.1))
    assert enable_dropout(model) == 5
    assert [m.training for m in model] == [False, False, True, True, True, True, True]
    assert not is_dropout_layer(nn.Linear(2, 2)) and is_dropout_layer(nn.AlphaDropout(0.1))


# ----------------------------------------------------------------- the device rule
def _mc_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))


def test_mc_predict_computes_where_the_data_lives(device):
    model, x = _mc_net(), torch.randn(5, 4, device=device)  # model built on the CPU
    probs = mc_predict(model, x, n_samples=3)
    assert probs.device == x.device and probs.shape == (5, 3)
    assert next(model.parameters()).device == x.device  # the model was moved to the data


def test_mc_predict_explicit_device_wins(device):
    model, x = _mc_net(), torch.randn(5, 4)  # both on the CPU
    probs = mc_predict(model, x, n_samples=3, device=device)
    assert probs.device == device and next(model.parameters()).device == device
    torch.testing.assert_close(probs.sum(1), torch.ones(5, device=device))


def test_mc_predict_on_the_cpu():
    model, x = _mc_net(), torch.randn(5, 4)
    probs = mc_predict(model, x, n_samples=3)
    assert probs.device.type == "cpu" and next(model.parameters()).device.type == "cpu"


def test_mc_predict_asking_for_cuda_without_it_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="device 'cuda' was asked for but CUDA is not available here"):
        mc_predict(_mc_net(), torch.randn(5, 4), device="cuda")


# ----------------------------------------------------------------- generators on another device
def test_a_cpu_generator_gives_the_same_mask_on_every_device(device):
    x = torch.zeros(1000, device=device)
    on_device = dropout_mask(x, 0.3, generator=_gen("cpu", 7))
    assert on_device.device == x.device
    assert torch.equal(on_device.cpu(), dropout_mask(x.cpu(), 0.3, generator=_gen("cpu", 7)))
    layer = InvertedDropout(0.3, generator=_gen("cpu", 7))
    assert torch.equal(layer(torch.ones(1000, device=device)).cpu(), on_device.cpu() / 0.7)


def test_a_generator_leaves_the_global_rng_alone(device):
    x = torch.ones(100, 12, device=device)
    layer = DropConnectLinear(12, 4, generator=_gen(device)).to(device)  # its weights come from the global RNG
    before = torch.get_rng_state()
    cuda_before = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    inverted_dropout(x, 0.5, generator=_gen(device))
    vanilla_dropout(x, 0.5, generator=_gen("cpu"))
    layer(x)
    assert torch.equal(torch.get_rng_state(), before)
    if cuda_before is not None:
        assert torch.equal(torch.cuda.get_rng_state(device), cuda_before)


# ----------------------------------------------------------------- bad input
_DROPPING = r"\(p is the probability of DROPPING a unit, as in nn.Dropout; the keep probability is 1 - p\)"


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan")])
def test_probability_outside_0_1_is_rejected(bad):
    msg = r"p must be a real number in \[0, 1\), got .* " + _DROPPING
    for make in (lambda: InvertedDropout(bad), lambda: VanillaDropout(bad), lambda: DropConnectLinear(3, 2, p=bad),
                 lambda: inverted_dropout(torch.ones(3), bad), lambda: vanilla_dropout(torch.ones(3), bad),
                 lambda: dropout_mask(torch.ones(3), bad), lambda: check_probability(bad)):
        with pytest.raises(ValueError, match=msg):
            make()


@pytest.mark.parametrize("bad", ["0.5", None, True, torch.tensor([0.5, 0.5])])
def test_probability_of_the_wrong_type_is_rejected(bad):
    msg = r"p must be a real number in \[0, 1\), got .* " + _DROPPING
    with pytest.raises(TypeError, match=msg):
        InvertedDropout(bad)
    with pytest.raises(TypeError, match=msg):
        inverted_dropout(torch.ones(3), bad)


def test_check_probability_accepts_ints_numpy_floats_and_0_dim_tensors():
    import numpy as np

    assert check_probability(0) == 0.0 and check_probability(np.float32(0.25)) == 0.25
    assert check_probability(torch.tensor(0.5)) == 0.5 and isinstance(check_probability(torch.tensor(0.5)), float)


def test_check_probability_names_its_argument():
    with pytest.raises(ValueError, match=r"p_hidden must be a real number in \[0, 1\), got 1.0 \(p_hidden is the"):
        check_probability(1.0, "p_hidden")
    with pytest.raises(TypeError, match="name must be a str .*, got int 3"):
        check_probability(0.5, 3)


def test_bad_inputs_are_rejected():
    cases = [
        (lambda: inverted_dropout(torch.ones(3, dtype=torch.long), 0.5), TypeError,
         "x must be a floating-point tensor, got dtype torch.int64; convert with .float()"),
        (lambda: vanilla_dropout([1.0, 2.0], 0.5), TypeError, r"x must be a torch.Tensor, got list \[1.0, 2.0\]"),
        (lambda: InvertedDropout(0.5)(torch.ones(3, dtype=torch.long)), TypeError, "x must be a floating-point tensor"),
        (lambda: VanillaDropout(0.5)("x"), TypeError, "x must be a torch.Tensor, got str 'x'"),
        (lambda: dropout_mask(torch.ones(3, dtype=torch.long), 0.5), TypeError, "x must be a floating-point tensor"),
        (lambda: inverted_dropout(torch.ones(3), 0.5, training="no"), TypeError,
         "training must be True or False, got str 'no'"),
        (lambda: vanilla_dropout(torch.ones(3), 0.5, training=1), TypeError, "training must be True or False, got int 1"),
        (lambda: dropout_mask(torch.ones(3), 0.5, generator=0), TypeError,
         "generator must be a torch.Generator or None, got int 0"),
        (lambda: InvertedDropout(0.5, generator="seed"), TypeError, "generator must be a torch.Generator or None"),
        (lambda: DropConnectLinear(0, 3), ValueError, r"in_features must be an int in \[1, inf\), got 0"),
        (lambda: DropConnectLinear(3, 2.5), TypeError, r"out_features must be an int in \[1, inf\), got float 2.5"),
        (lambda: DropConnectLinear(3, 2, bias="yes"), TypeError, "bias must be True or False, got str 'yes'"),
        (lambda: DropConnectLinear(3, 2, dtype=torch.long), TypeError,
         "dtype must be a floating-point torch.dtype or None, got dtype torch.int64"),
        (lambda: DropConnectLinear(3, 2, generator=1), TypeError, "generator must be a torch.Generator or None"),
        (lambda: DropConnectLinear(3, 2)(torch.ones(4, 5)), ValueError,
         r"x must have in_features = 3 entries in its last dimension, got shape \(4, 5\)"),
        (lambda: DropConnectLinear(3, 2)(torch.ones(4, 3, dtype=torch.long)), TypeError,
         "x must be a floating-point tensor, got dtype torch.int64"),
        (lambda: is_dropout_layer("dropout"), TypeError, "module must be an nn.Module, got str 'dropout'"),
        (lambda: enable_dropout(None), TypeError, "model must be an nn.Module, got NoneType None"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_mc_predict_bad_arguments():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    x = torch.randn(3, 2)
    cases = [
        (lambda: mc_predict(model, x, n_samples=0), ValueError, r"n_samples must be an int in \[1, inf\), got 0"),
        (lambda: mc_predict(model, x, n_samples=10.0), TypeError, r"n_samples must be an int in \[1, inf\), got float"),
        (lambda: mc_predict(lambda t: t, x), TypeError, "model must be an nn.Module, got function"),
        (lambda: mc_predict(model, [[1.0, 2.0]]), TypeError, "x must be a torch.Tensor, got list"),
        (lambda: mc_predict(model, x, probs="yes"), TypeError, "probs must be True or False, got str 'yes'"),
        (lambda: mc_predict(model, x, device=0), TypeError, "device must be a str or torch.device, got int 0"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    plain = nn.Sequential(nn.Linear(2, 2))
    plain.train()
    with pytest.raises(ValueError, match="no dropout layer"):
        mc_predict(plain, x)
    assert plain.training  # mode restored even after the error


def test_repr_states_both_probabilities():
    assert repr(InvertedDropout(0.2)) == "InvertedDropout(p=0.2 (keep 0.8))"
    assert repr(VanillaDropout(0.5)) == "VanillaDropout(p=0.5 (keep 0.5))"
    assert InvertedDropout(0.2).p_keep == pytest.approx(0.8)


# --------------------------------------------------------------------------- channel dropout, generators for a model
def test_inverted_dropout2d_equals_f_dropout2d_forward_and_backward():
    x = (torch.rand(3, 5, 6, 6) + 0.5).requires_grad_()
    torch.manual_seed(9)
    ref = F.dropout2d(x, 0.4, training=True)
    layer = InvertedDropout2d(0.4, generator=torch.Generator().manual_seed(9))
    out = layer(x)
    assert torch.equal(out, ref)
    assert layer.mask.shape == (3, 5, 1, 1)
    g = torch.randn_like(out)
    (ours,) = torch.autograd.grad(out, x, g)
    (theirs,) = torch.autograd.grad(ref, x, g)
    assert torch.equal(ours, theirs)
    assert torch.equal(layer.eval()(x), x)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got shape \(3, 5\)"):
        InvertedDropout2d(0.4).train()(torch.ones(3, 5))


def test_use_generator_swaps_torch_dropout_and_makes_runs_reproducible():
    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Dropout2d(0.3), nn.Flatten(),
                             nn.Sequential(nn.Linear(36, 8), nn.Dropout(0.5)), DropConnectLinear(8, 2, p=0.5))

    a = use_generator(model(), torch.Generator().manual_seed(1))
    assert isinstance(a[1], InvertedDropout2d) and a[1].p == 0.3
    assert isinstance(a[3][1], InvertedDropout) and a[3][1].p == 0.5           # nested layers too
    assert a[4].generator is not None
    x = torch.rand(4, 1, 5, 5)
    out_a = a(x)
    torch.rand(10)                                                            # the global generator moves on
    b = use_generator(model(), torch.Generator().manual_seed(1))
    assert torch.equal(out_a, b(x))
    assert torch.equal(a.eval()(x), use_generator(model(), None).eval()(x))   # eval: plain layers
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 1"):
        use_generator(model(), 1)
