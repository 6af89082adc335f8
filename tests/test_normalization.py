"""course_lib.normalization against torch.nn's normalization layers: forward, backward, running statistics, state_dicts."""

import warnings

import pytest
import torch
from torch import nn

from course_lib.normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, batch_norm,
                                      batch_norm_backward, batch_norm_forward)

BN_CASES = [(BatchNorm1d, nn.BatchNorm1d, (16, 5)), (BatchNorm1d, nn.BatchNorm1d, (8, 5, 7)),
            (BatchNorm2d, nn.BatchNorm2d, (6, 5, 4, 3))]
IDS = ["bn1d-NC", "bn1d-NCL", "bn2d"]


def _pair(ours_cls, ref_cls, *args, device, **kwargs):
    """Our layer and torch's, with the same random γ, β (so the affine part is really tested)."""
    ref = ref_cls(*args, **kwargs).to(device)
    ours = ours_cls(*args, **kwargs).to(device)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape) * 0.5 + 1.0)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def _batch(shape, device, seed):
    g = torch.Generator().manual_seed(seed)
    scale = torch.rand(shape[1], generator=g) * 3 + 0.2                     # features on different scales
    shift = torch.randn(shape[1], generator=g) * 2
    x = torch.randn(shape, generator=g) * scale.view(1, -1, *[1] * (len(shape) - 2)) \
        + shift.view(1, -1, *[1] * (len(shape) - 2))
    return x.to(device)


def _step(ours, ref, x, seed=0):
    """Forward and backward through both layers with the same upstream gradient; compare everything."""
    xo, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
    yo, yr = ours(xo), ref(xr)
    torch.testing.assert_close(yo, yr)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)).to(x.device)
    yo.backward(g)
    yr.backward(g)
    torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-4, atol=1e-4)
    for (name, p), q in zip(ours.named_parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-4, msg=f"gradient of {name}")
        p.grad, q.grad = None, None


def _same_buffers(ours, ref):
    for (name, b), c in zip(ours.named_buffers(), ref.buffers()):
        torch.testing.assert_close(b, c, msg=f"buffer {name}")


# ----------------------------------------------------------------- batch norm against torch
@pytest.mark.parametrize("ours_cls, ref_cls, shape", BN_CASES, ids=IDS)
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batchnorm_train_steps_running_stats_and_eval(device, ours_cls, ref_cls, shape, momentum):
    ours, ref = _pair(ours_cls, ref_cls, 5, momentum=momentum, device=device)
    for step in range(4):                                      # several steps: running averages accumulate
        _step(ours, ref, _batch(shape, device, step), seed=step)
        _same_buffers(ours, ref)                               # unbiased running variance, cumulative for None
    assert int(ours.num_batches_tracked) == 4
    ours.eval()
    ref.eval()
    _step(ours, ref, _batch(shape, device, 10))                # eval: the running averages
    _same_buffers(ours, ref)                                   # and no update in eval mode
    assert int(ours.num_batches_tracked) == 4


@pytest.mark.parametrize("ours_cls, ref_cls, shape", BN_CASES, ids=IDS)
def test_batchnorm_without_affine_and_without_running_stats(device, ours_cls, ref_cls, shape):
    ours, ref = _pair(ours_cls, ref_cls, 5, affine=False, device=device)
    assert ours.weight is None and ours.bias is None and not list(ours.parameters())
    _step(ours, ref, _batch(shape, device, 1))
    _same_buffers(ours, ref)
    ours, ref = _pair(ours_cls, ref_cls, 5, track_running_stats=False, device=device)
    assert ours.running_mean is None and ours.num_batches_tracked is None
    assert set(ours.state_dict()) == {"weight", "bias"}
    _step(ours, ref, _batch(shape, device, 2))
    ours.eval()
    ref.eval()
    x = _batch(shape, device, 3)
    _step(ours, ref, x)                                        # eval without running stats: batch statistics
    y = ours(x)
    dims = [0, *range(2, x.ndim)]
    torch.testing.assert_close(((y - ours.bias.view(1, -1, *[1] * (x.ndim - 2))).mean(dims)),
                               torch.zeros(5, device=device), atol=1e-5, rtol=0)


def test_batchnorm_no_bias_keyword(device):
    ours, ref = _pair(BatchNorm2d, nn.BatchNorm2d, 5, bias=False, device=device)
    assert ours.bias is None and set(ours.state_dict()) == set(ref.state_dict())
    _step(ours, ref, _batch((4, 5, 3, 3), device, 0))
    assert repr(ours) == repr(ref).replace("nn.", "")


def test_batchnorm_float64_and_factory_kwargs(device):
    ours = BatchNorm2d(3, device=device, dtype=torch.float64)
    ref = nn.BatchNorm2d(3, device=device, dtype=torch.float64)
    for (n, a), (m, b) in zip(ours.state_dict().items(), ref.state_dict().items()):
        assert n == m and a.dtype == b.dtype and a.device == b.device and torch.equal(a, b)
    _step(ours, ref, _batch((4, 3, 2, 2), device, 0).double())


@pytest.mark.parametrize("ours_cls, ref_cls, shape", BN_CASES, ids=IDS)
def test_state_dict_loads_both_ways(device, ours_cls, ref_cls, shape):
    ours, ref = _pair(ours_cls, ref_cls, 5, device=device)
    _step(ours, ref, _batch(shape, device, 0))
    trained_ref = ref_cls(5).to(device)
    trained_ref.load_state_dict(ours.state_dict())             # ours -> torch
    fresh = ours_cls(5).to(device)
    fresh.load_state_dict(ref.state_dict())                    # torch -> ours
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert ours._version == ref._version
    for a, b in ((trained_ref, ref), (fresh, ours)):
        a.eval()
        b.eval()
    x = _batch(shape, device, 5)
    torch.testing.assert_close(trained_ref(x), ours.eval()(x))
    torch.testing.assert_close(fresh(x), ref(x))


def test_repr_matches_torch():
    pairs = [(BatchNorm1d(4), nn.BatchNorm1d(4)), (BatchNorm2d(8, eps=1e-3, momentum=None, affine=False),
                                                  nn.BatchNorm2d(8, eps=1e-3, momentum=None, affine=False)),
             (LayerNorm([3, 4], elementwise_affine=False), nn.LayerNorm([3, 4], elementwise_affine=False)),
             (LayerNorm(5, bias=False), nn.LayerNorm(5, bias=False)), (GroupNorm(2, 6), nn.GroupNorm(2, 6)),
             (InstanceNorm2d(3), nn.InstanceNorm2d(3)), (InstanceNorm2d(3, affine=True), nn.InstanceNorm2d(3, affine=True))]
    for ours, ref in pairs:
        assert repr(ours) == repr(ref)


def test_batchnorm_in_a_model_swaps_in_one_line(device):
    def net(bn):
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(2, 4, 3), bn(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3), BatchNorm1d(3)
                             if bn is BatchNorm2d else nn.BatchNorm1d(3)).to(device)

    a, b = net(BatchNorm2d), net(nn.BatchNorm2d)
    x = torch.randn(5, 2, 4, 4, device=device)
    torch.testing.assert_close(a(x), b(x))
    b.load_state_dict(a.state_dict())
    a.load_state_dict(b.state_dict())


# ----------------------------------------------------------------- the lecture's functions
@pytest.mark.parametrize("shape", [(10, 4), (6, 4, 5), (3, 4, 5, 2)])
def test_explicit_backward_equals_autograd(device, shape):
    x = _batch(shape, device, 0).double().requires_grad_()
    gamma = (torch.rand(4, dtype=torch.float64) + 0.5).to(device).requires_grad_()
    beta = torch.randn(4, dtype=torch.float64).to(device).requires_grad_()
    out, cache = batch_norm_forward(x, gamma, beta)
    ref = nn.functional.batch_norm(x, None, None, gamma, beta, training=True)
    torch.testing.assert_close(out, ref)
    dout = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).to(device)
    dx, dgamma, dbeta = batch_norm_backward(dout, cache)
    ex, egamma, ebeta = torch.autograd.grad(ref, (x, gamma, beta), dout)
    torch.testing.assert_close(dx, ex)
    torch.testing.assert_close(dgamma, egamma)
    torch.testing.assert_close(dbeta, ebeta)
    assert dx.shape == x.shape and dgamma.shape == dbeta.shape == (4,)


def test_explicit_backward_sums_to_zero_per_channel(device):
    # the mean's contribution: shifting every x_i of a channel by the same amount changes nothing
    x = torch.randn(32, 3, device=device, dtype=torch.float64)
    _, cache = batch_norm_forward(x, torch.ones(3, device=device, dtype=torch.float64),
                                  torch.zeros(3, device=device, dtype=torch.float64))
    dx, _, _ = batch_norm_backward(torch.randn(32, 3, device=device, dtype=torch.float64), cache)
    torch.testing.assert_close(dx.sum(0), torch.zeros(3, device=device, dtype=torch.float64))


def test_functional_batch_norm_matches_f_batch_norm(device):
    x = _batch((7, 3, 4), device, 0)
    rm, rv = torch.zeros(3, device=device), torch.ones(3, device=device)
    rm2, rv2 = rm.clone(), rv.clone()
    w, b = torch.rand(3, device=device), torch.randn(3, device=device)
    torch.testing.assert_close(batch_norm(x, rm, rv, w, b, True, 0.2),
                               nn.functional.batch_norm(x, rm2, rv2, w, b, True, 0.2))
    torch.testing.assert_close((rm, rv), (rm2, rv2))
    torch.testing.assert_close(batch_norm(x, rm, rv, None, None, False), nn.functional.batch_norm(x, rm2, rv2))


def test_layer_backward_is_once_differentiable_and_says_so():
    # the closed-form backward saves x̂ and 1/√(σ² + ε) without a graph: a second derivative through it would be
    # silently wrong, so it must raise instead; eval mode (autograd all the way) supports it as torch's does
    x = _batch((8, 3), "cpu", 0).double().requires_grad_()
    layer = BatchNorm1d(3).double()
    (g,) = torch.autograd.grad((layer(x) ** 3).sum(), x, create_graph=True)     # first derivatives are fine
    ref = nn.BatchNorm1d(3).double()
    (gr,) = torch.autograd.grad((ref(x) ** 3).sum(), x, create_graph=True)
    torch.testing.assert_close(g, gr)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    layer.eval()
    (ge,) = torch.autograd.grad((layer(x) ** 3).sum(), x, create_graph=True)
    (he,) = torch.autograd.grad(ge.sum(), x)
    (gre,) = torch.autograd.grad((ref.eval()(x) ** 3).sum(), x, create_graph=True)
    torch.testing.assert_close(he, torch.autograd.grad(gre.sum(), x)[0])


def test_functional_batch_norm_bad_arguments():
    x, rm, rv = torch.randn(4, 3), torch.zeros(3), torch.ones(3)
    cases = [
        (lambda: batch_norm(x, None, None), ValueError,
         r"training=False normalizes with running_mean and running_var, got running_mean and running_var = None"),
        (lambda: batch_norm(x, rm, None, training=False), ValueError, r"got running_var = None.*training=True"),
        (lambda: batch_norm([1.0], rm, rv), TypeError, r"x must be a torch.Tensor, got list"),
        (lambda: batch_norm(torch.ones(4, 3, dtype=torch.long), rm, rv), TypeError,
         "x must be a floating-point tensor"),
        (lambda: batch_norm(torch.randn(4), None, None, training=True), ValueError,
         r"x must have shape \(N, C\) or \(N, C, \*\), got shape \(4,\)"),
        (lambda: batch_norm(x, rm, rv, eps=0.0), ValueError, r"eps must be a real number in \(0, inf\), got 0"),
        (lambda: batch_norm(x, rm, rv, training=True, momentum=1.5), ValueError,
         r"momentum must be a real number in \[0, 1\], got 1.5"),
        (lambda: batch_norm(x, rm, rv, training=True, momentum=None), TypeError, "momentum must be a real number"),
        (lambda: batch_norm(x, rm, rv, training=1), TypeError, "training must be True or False"),
        (lambda: batch_norm(x, torch.zeros(4), rv), ValueError,
         r"running_mean must have shape \(3,\), one entry per channel .*got shape \(4,\)"),
        (lambda: batch_norm(x, rm, rv, torch.ones(2)), ValueError, r"weight must have shape \(3,\)"),
        (lambda: batch_norm(torch.randn(1, 3), None, None, training=True), ValueError,
         "Expected more than 1 value per channel when training"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    assert batch_norm(x, None, None, training=True).shape == x.shape       # training needs no running averages


def test_a_layer_checks_the_batch_of_one_once_per_forward(monkeypatch):
    import course_lib.normalization as normalization

    calls = []
    original = normalization._check_batch_of_one
    monkeypatch.setattr(normalization, "_check_batch_of_one", lambda *a, **k: calls.append(1) or original(*a, **k))
    BatchNorm1d(3)(torch.randn(4, 3))
    assert len(calls) == 1
    BatchNorm1d(3).eval()(torch.randn(4, 3))                                # eval mode: no batch statistics
    assert len(calls) == 1


# ----------------------------------------------------------------- layer, group and instance norm
@pytest.mark.parametrize("normalized, shape", [(6, (4, 6)), ([3, 4, 4], (2, 3, 4, 4)), ((4, 4), (2, 5, 4, 4))])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layernorm_matches_torch(device, normalized, shape, affine, bias):
    ours, ref = _pair(LayerNorm, nn.LayerNorm, normalized, elementwise_affine=affine, bias=bias, device=device)
    for mode in ("train", "eval"):                             # no running statistics: both modes alike
        getattr(ours, mode)()
        getattr(ref, mode)()
        _step(ours, ref, _batch(shape, device, 0))
    fresh = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias).to(device)
    fresh.load_state_dict(ours.state_dict())
    ours.load_state_dict(ref.state_dict())


# Every (groups, shape) pair with more than one value per group: with one (6 groups of a (4, 6)
# input) the variance is 0 and the output is β whatever the input, which compares nothing.
_GROUP_CASES = [(g, s) for g in (1, 2, 3, 6) for s in ((4, 6), (3, 6, 5), (2, 6, 4, 4))
                if 6 // g * torch.Size(s[2:]).numel() > 1]


@pytest.mark.parametrize("groups, shape", _GROUP_CASES)
def test_groupnorm_matches_torch(device, groups, shape):
    ours, ref = _pair(GroupNorm, nn.GroupNorm, groups, 6, device=device)
    _step(ours, ref, _batch(shape, device, groups))
    ours2, ref2 = _pair(GroupNorm, nn.GroupNorm, groups, 6, affine=False, device=device)
    _step(ours2, ref2, _batch(shape, device, 7))
    nn.GroupNorm(groups, 6).to(device).load_state_dict(ours.state_dict())


def test_groupnorm_extremes_are_layer_and_instance_norm(device):
    x = _batch((3, 4, 5, 5), device, 0)
    torch.testing.assert_close(GroupNorm(1, 4, affine=False)(x), LayerNorm([4, 5, 5], elementwise_affine=False)(x))
    torch.testing.assert_close(GroupNorm(4, 4, affine=False)(x), InstanceNorm2d(4)(x))


@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True), (False, True)])
def test_instancenorm_matches_torch(device, affine, track):
    ours, ref = _pair(InstanceNorm2d, nn.InstanceNorm2d, 4, affine=affine, track_running_stats=track, device=device)
    for step in range(3):
        _step(ours, ref, _batch((3, 4, 5, 6), device, step))
        _same_buffers(ours, ref)
    ours.eval()
    ref.eval()
    _step(ours, ref, _batch((3, 4, 5, 6), device, 9))
    x = _batch((4, 5, 6), device, 3)                            # one example without a batch dimension
    torch.testing.assert_close(ours(x), ref(x))
    assert set(ours.state_dict()) == set(ref.state_dict())
    ref.load_state_dict(ours.state_dict())
    ours.load_state_dict(ref.state_dict())


def test_instancenorm_defaults_are_torchs():
    layer = InstanceNorm2d(3)
    assert not layer.affine and not layer.track_running_stats and layer.weight is None
    assert layer.state_dict() == {}


def test_instancenorm_channel_count_warns_without_parameters_like_torch():
    with pytest.warns(UserWarning, match="num_features = 3, the input has 5 channels"):
        InstanceNorm2d(3)(torch.randn(2, 5, 4, 4))
    with pytest.raises(ValueError, match="expected num_features = 3 channels .* got 5"):
        InstanceNorm2d(3, affine=True)(torch.randn(2, 5, 4, 4))


# ----------------------------------------------------------------- bad input
def test_wrong_channel_count_names_both_numbers():
    for layer, x in ((BatchNorm1d(3), torch.randn(4, 5)), (BatchNorm1d(3), torch.randn(4, 5, 2)),
                     (BatchNorm2d(3), torch.randn(4, 5, 2, 2))):
        with pytest.raises(ValueError, match=r"expected num_features = 3 channels \(input dimension 1\), got 5"):
            layer(x)
        with pytest.raises(ValueError, match="got 5"):
            layer.eval()(x)
    with pytest.raises(ValueError, match=r"GroupNorm expected num_channels = 6 channels .*got 4"):
        GroupNorm(2, 6)(torch.randn(3, 4, 2))
    with pytest.raises(ValueError, match=r"last 1 dimension\(s\) to be \(6,\), got \(4,\)"):
        LayerNorm(6)(torch.randn(3, 4))
    with pytest.raises(ValueError, match=r"to be \(3, 4\), got \(4, 4\)"):
        LayerNorm([3, 4])(torch.randn(2, 4, 4))


@pytest.mark.parametrize("layer, x", [(BatchNorm1d(3), torch.randn(1, 3)), (BatchNorm1d(3), torch.randn(1, 3, 1)),
                                      (BatchNorm2d(3), torch.randn(1, 3, 1, 1)),
                                      (BatchNorm1d(3, track_running_stats=False).eval(), torch.randn(1, 3))])
def test_a_training_batch_of_one_says_what_to_do(layer, x):
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training") as info:
        layer(x)
    for advice in ("model.eval()", "a larger batch", "drop_last=True", "GroupNorm / LayerNorm"):
        assert advice in str(info.value)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(torch.randn(1, 3))                   # torch raises the same error type


def test_a_batch_of_one_is_fine_in_eval_mode_and_with_positions():
    layer = BatchNorm1d(3)
    layer(torch.randn(1, 3, 4))                                # one example, four positions: four values
    assert layer.eval()(torch.randn(1, 3)).shape == (1, 3)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        InstanceNorm2d(3)(torch.randn(2, 3, 1, 1))


def test_wrong_rank():
    cases = [(BatchNorm1d(3), torch.randn(2, 3, 4, 4), r"expected 2D or 3D input \(got 4D input .*use BatchNorm2d"),
             (BatchNorm2d(3), torch.randn(2, 3), r"expected 4D input \(got 2D input .*use BatchNorm1d"),
             (InstanceNorm2d(3), torch.randn(2, 3), r"expected 3D or 4D input \(got 2D"),
             (GroupNorm(1, 3), torch.randn(3), r"\(N, C, \*\), got shape \(3,\)")]
    for layer, x, match in cases:
        with pytest.raises(ValueError, match=match):
            layer(x)


def test_groupnorm_channels_not_divisible():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\).*one of \[1, 2, 3, 6\]"):
        GroupNorm(4, 6)


def test_bad_constructor_arguments():
    cases = [
        (lambda: BatchNorm2d(0), ValueError, r"num_features must be an int in \[1, inf\), got 0"),
        (lambda: BatchNorm2d(3.0), TypeError, "num_features must be an int"),
        (lambda: BatchNorm1d(3, eps=0), ValueError, r"eps must be a real number in \(0, inf\), got 0"),
        (lambda: BatchNorm1d(3, eps="1e-5"), TypeError, "eps must be a real number"),
        (lambda: BatchNorm1d(3, momentum=1.5), ValueError, r"momentum must be a real number in \[0, 1\], got 1.5 or None"),
        (lambda: BatchNorm1d(3, momentum="0.1"), TypeError, "momentum must be a real number .* or None"),
        (lambda: BatchNorm1d(3, affine=1), TypeError, "affine must be True or False, got int 1"),
        (lambda: BatchNorm1d(3, track_running_stats="no"), TypeError, "track_running_stats must be True or False"),
        (lambda: BatchNorm1d(3, dtype=torch.long), TypeError, "dtype must be a floating-point torch.dtype"),
        (lambda: InstanceNorm2d(3, affine=None), TypeError, "affine must be True or False"),
        (lambda: LayerNorm("5"), TypeError, "normalized_shape must be an int or a sequence of ints, got str"),
        (lambda: LayerNorm([3, 0]), ValueError, r"normalized_shape entries must be an int in \[1, inf\), got 0"),
        (lambda: LayerNorm([]), ValueError, "at least one dimension"),
        (lambda: LayerNorm(4, elementwise_affine="yes"), TypeError, "elementwise_affine must be True or False"),
        (lambda: GroupNorm(0, 4), ValueError, r"num_groups must be an int in \[1, inf\), got 0"),
        (lambda: GroupNorm(2, 4.0), TypeError, "num_channels must be an int"),
        (lambda: GroupNorm(2, 4, eps=-1.0), ValueError, "eps must be a real number"),
    ]
    for make, error, match in cases:
        with pytest.raises(error, match=match):
            make()


def test_bad_inputs():
    cases = [
        (lambda: BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.long)), TypeError,
         "input must be a floating-point tensor, got dtype torch.int64"),
        (lambda: BatchNorm2d(3)([1.0]), TypeError, r"input must be a torch.Tensor, got list"),
        (lambda: LayerNorm(3)("x"), TypeError, "input must be a torch.Tensor"),
        (lambda: batch_norm_forward(torch.randn(4, 3), torch.ones(2), torch.zeros(3)), ValueError,
         "gamma must have one entry per channel: expected 3, got 2"),
        (lambda: batch_norm_forward(torch.randn(4), torch.ones(4), torch.zeros(4)), ValueError,
         r"x must have shape \(N, C\) or \(N, C, \*\)"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_no_warning_in_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BatchNorm2d(3)(torch.randn(2, 3, 2, 2))
        InstanceNorm2d(3)(torch.randn(2, 3, 2, 2))
