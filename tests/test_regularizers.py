"""course_lib.regularizers against hand computation, autograd, torch.optim and torch's own norm functions."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.regularizers import (DecoupledWeightDecay, MaxNorm, Penalty, ProximalL1, decoupled_weight_decay_,
                                     elastic_net_penalty, l1_penalty, l2_penalty, lq_penalty, max_norm_,
                                     penalized_parameters, penalty, sgd_weight_decay_step_, soft_threshold_,
                                     weight_decay_groups)
from course_lib.training import fit


def _tensors(device, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(5, 3, generator=g, dtype=dtype).to(device), torch.randn(7, generator=g, dtype=dtype).to(device)]


def _net(device, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).to(device)


def _batch(device, n=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=g).to(device), torch.randint(0, 3, (n,), generator=g).to(device)


# ----------------------------------------------------------------- values by hand
def test_penalty_values_by_hand(device):
    w = torch.tensor([3.0, -4.0], device=device)
    assert l2_penalty(w).item() == pytest.approx(12.5)                  # ½ (9 + 16)
    assert l1_penalty(w).item() == pytest.approx(7.0)                   # 3 + 4
    assert lq_penalty(w, 2).item() == pytest.approx(25.0)               # ‖w‖₂²
    assert lq_penalty(w, 3).item() == pytest.approx(27.0 + 64.0)
    assert lq_penalty(w, 0.5).item() == pytest.approx(math.sqrt(3) + 2.0)
    # the lecture's elastic net: r·‖w‖₂² + (1 − r)/2·‖w‖₁
    assert elastic_net_penalty(w, 0.25).item() == pytest.approx(0.25 * 25 + 0.375 * 7)
    assert elastic_net_penalty(w, 1.0).item() == pytest.approx(25.0)   # r = 1: ridge
    assert elastic_net_penalty(w, 0.0).item() == pytest.approx(3.5)    # r = 0: LASSO (with the lecture's ½)
    out = l2_penalty(w)
    assert out.ndim == 0 and out.device == w.device and out.dtype == w.dtype


@pytest.mark.parametrize("q", [0.5, 1.0, 1.5, 2.0, 3.0])
def test_lq_penalty_equals_torch_vector_norm_to_the_q(device, q):
    ts = _tensors(device, torch.float64)
    ref = sum(torch.linalg.vector_norm(t, ord=q) ** q for t in ts)
    torch.testing.assert_close(lq_penalty(ts, q), ref)
    torch.testing.assert_close(l1_penalty(ts), sum(torch.linalg.vector_norm(t, 1) for t in ts))
    torch.testing.assert_close(l2_penalty(ts), 0.5 * sum(torch.linalg.vector_norm(t, 2) ** 2 for t in ts))


def test_penalty_by_name_dispatches(device):
    ts = _tensors(device)
    torch.testing.assert_close(penalty(ts, "l2"), l2_penalty(ts))
    torch.testing.assert_close(penalty(ts, "l1"), l1_penalty(ts))
    torch.testing.assert_close(penalty(ts, "lq", q=3), lq_penalty(ts, 3))
    torch.testing.assert_close(penalty(ts, "elastic_net", r=0.3), elastic_net_penalty(ts, 0.3))


# ----------------------------------------------------------------- gradients
def _grad(fn, t):
    t = t.clone().requires_grad_()
    fn(t).backward()
    return t.grad


@pytest.mark.parametrize("r", [0.0, 0.3, 1.0])
def test_gradients_match_the_closed_forms(device, r):
    w = torch.randn(4, 6, dtype=torch.float64, device=device)
    torch.testing.assert_close(_grad(l2_penalty, w), w)                                   # ∇ ½‖w‖² = w
    torch.testing.assert_close(_grad(l1_penalty, w), w.sign())                            # ∇ ‖w‖₁ = sign(w)
    torch.testing.assert_close(_grad(lambda t: elastic_net_penalty(t, r), w),
                               2 * r * w + (1 - r) / 2 * w.sign())
    for q in (0.5, 1.5, 3.0):
        torch.testing.assert_close(_grad(lambda t: lq_penalty(t, q), w), q * w.abs() ** (q - 1) * w.sign())


def test_lq_gradients_pass_gradcheck():
    w = (torch.rand(3, 4, dtype=torch.float64) + 0.2) * torch.tensor([1.0, -1.0]).repeat(6).view(3, 4).double()
    for q in (0.5, 1.0, 1.5, 2.0, 3.0):
        assert torch.autograd.gradcheck(lambda t: lq_penalty(t, q), (w.clone().requires_grad_(),))
    assert torch.autograd.gradcheck(lambda t: elastic_net_penalty(t, 0.4), (w.clone().requires_grad_(),))


@pytest.mark.parametrize("q", [0.3, 0.5, 1.0])
def test_gradient_at_zero_is_zero_not_nan(device, q):
    w = torch.tensor([0.0, 2.0, -1.0], device=device)
    g = _grad(lambda t: lq_penalty(t, q), w)
    assert torch.isfinite(g).all() and g[0] == 0
    assert lq_penalty(w, q).item() == pytest.approx(2.0**q + 1.0)


# ----------------------------------------------------------------- which parameters
def test_penalized_parameters_are_the_affine_weights_only(device):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5),
                          nn.LayerNorm(5), nn.Linear(5, 2)).to(device)
    chosen = penalized_parameters(model)
    assert [p.shape for p in chosen] == [model[0].weight.shape, model[4].weight.shape, model[6].weight.shape]
    assert all(p is q for p, q in zip(chosen, (model[0].weight, model[4].weight, model[6].weight)))
    with_bias = penalized_parameters(model, include_bias=True)
    assert len(with_bias) == 6 and any(p is model[4].bias for p in with_bias)
    assert not any(p is model[1].weight or p is model[5].bias for p in with_bias)  # norm layers: never
    # a model passed to a penalty means its weights
    torch.testing.assert_close(l2_penalty(model), 0.5 * sum((p**2).sum() for p in chosen))


def test_shared_and_frozen_weights():
    a = nn.Linear(3, 3)
    b = nn.Linear(3, 3)
    b.weight = a.weight  # tied
    frozen = nn.Linear(3, 2)
    frozen.weight.requires_grad_(False)
    chosen = penalized_parameters(nn.Sequential(a, b, frozen))
    assert len(chosen) == 1 and chosen[0] is a.weight


def test_weight_decay_groups_split_every_parameter_once(device):
    model = _net(device)
    groups = weight_decay_groups(model, 0.01)
    assert groups[0]["weight_decay"] == 0.01 and groups[1]["weight_decay"] == 0.0
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    assert {id(p) for p in groups[0]["params"]} == {id(model[0].weight), id(model[3].weight)}
    torch.optim.AdamW(groups, lr=1e-3)  # accepted by torch


# ----------------------------------------------------------------- L2 step = weight-decay step = torch SGD
def test_one_sgd_step_with_l2_equals_the_weight_decay_form_and_torch_sgd(device):
    lr, lam = 0.1, 0.05
    x, y = _batch(device)
    nets = [_net(device) for _ in range(3)]
    # (a) gradient descent on J = L + λ/2 ‖w‖² (weights only)
    a = nets[0]
    (F.cross_entropy(a(x), y) + lam * l2_penalty(a)).backward()
    with torch.no_grad():
        for p in a.parameters():
            p -= lr * p.grad
    # (b) the weight-decay form w ← (1 − αλ) w − α ∇L, biases with plain SGD
    b = nets[1]
    F.cross_entropy(b(x), y).backward()
    sgd_weight_decay_step_(penalized_parameters(b), lr, lam)
    others = [p for p in b.parameters() if all(p is not q for q in penalized_parameters(b))]
    sgd_weight_decay_step_(others, lr, 0.0)
    # (c) torch.optim.SGD(weight_decay=λ) on the weights only
    c = nets[2]
    opt = torch.optim.SGD(weight_decay_groups(c, lam), lr=lr)
    F.cross_entropy(c(x), y).backward()
    opt.step()
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(pa, pc, rtol=1e-6, atol=1e-7)


def test_penalty_callback_in_fit_equals_sgd_weight_decay(device):
    x, y = _batch(device, n=96)
    lam = 0.02
    a, c = _net(device), _net(device)
    fit(a, (x, y), epochs=2, optimizer=torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9), batch_size=32,
        callbacks=[Penalty(lam)], seed=3, progress=False)
    fit(c, (x, y), epochs=2, optimizer=torch.optim.SGD(weight_decay_groups(c, lam), lr=0.1, momentum=0.9),
        batch_size=32, seed=3, progress=False)
    for pa, pc in zip(a.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pc, rtol=1e-5, atol=1e-6)


def test_penalty_callback_adds_lambda_times_R(device):
    model = _net(device)
    cb = Penalty(0.3, "elastic_net", r=0.4)

    class S:  # the callback only needs the model at fit start
        pass

    s = S()
    s.model = model
    cb.on_fit_start(s)
    torch.testing.assert_close(cb.extra_loss(s), 0.3 * elastic_net_penalty(penalized_parameters(model), 0.4))
    zero = Penalty(0.0)
    zero.on_fit_start(s)
    assert zero.extra_loss(s) is None
    with pytest.raises(RuntimeError, match="no parameters yet"):
        Penalty(0.1).value()
    assert repr(cb) == "Penalty(lam=0.3, kind='elastic_net', r=0.4)"


# ----------------------------------------------------------------- decoupled weight decay vs AdamW
def test_adam_plus_decoupled_decay_equals_adamw_in_fit(device):
    x, y = _batch(device, n=96)
    lam, lr = 0.1, 0.01
    a, c = _net(device), _net(device)
    fit(a, (x, y), epochs=3, optimizer=torch.optim.Adam(a.parameters(), lr=lr), batch_size=32,
        callbacks=[DecoupledWeightDecay(lam)], seed=5, progress=False)
    fit(c, (x, y), epochs=3, optimizer=torch.optim.AdamW(weight_decay_groups(c, lam), lr=lr), batch_size=32,
        seed=5, progress=False)
    for pa, pc in zip(a.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pc, rtol=1e-5, atol=1e-6)


def test_sgd_plus_decoupled_decay_equals_sgd_weight_decay(device):
    x, y = _batch(device, n=64)
    a, c = _net(device), _net(device)
    fit(a, (x, y), epochs=2, optimizer=torch.optim.SGD(a.parameters(), lr=0.05), batch_size=32,
        callbacks=[DecoupledWeightDecay(0.2)], seed=1, progress=False)
    fit(c, (x, y), epochs=2, optimizer=torch.optim.SGD(weight_decay_groups(c, 0.2), lr=0.05), batch_size=32,
        seed=1, progress=False)
    for pa, pc in zip(a.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pc, rtol=1e-5, atol=1e-6)


def _ten_steps(opt_cls, w0, lam, lr=0.1, penalty_in_loss=False, **kw):
    """10 steps with zero data gradient; L2 either in the loss (λ/2‖w‖²) or in the optimizer."""
    w = w0.clone().requires_grad_()
    opt = opt_cls([w], lr=lr, **kw)
    for _ in range(10):
        opt.zero_grad()
        loss = (w * 0).sum() + (lam * l2_penalty(w) if penalty_in_loss else 0)
        loss.backward()
        opt.step()
    return w.detach()


@pytest.mark.parametrize("lam", [0.01, 0.1, 1.0])
def test_adam_l2_is_not_weight_decay(device, lam):
    w0 = torch.tensor([100.0, 1.0, 0.01], dtype=torch.float64, device=device)
    shrink = (1 - 0.1 * lam) ** 10 * w0
    torch.testing.assert_close(_ten_steps(torch.optim.SGD, w0, lam, penalty_in_loss=True), shrink)
    torch.testing.assert_close(_ten_steps(torch.optim.AdamW, w0, 0.0, weight_decay=lam), shrink)
    w = w0.clone()
    for _ in range(10):  # Adam's step is 0 for a zero gradient: only the decoupled decay acts
        decoupled_weight_decay_(w, 0.1, lam)
    torch.testing.assert_close(w, shrink)
    # Adam + L2: the gradient λw is normalized away, the same path for every λ
    adam_l2 = _ten_steps(torch.optim.Adam, w0, lam, penalty_in_loss=True)
    torch.testing.assert_close(adam_l2, torch.tensor([99.0, 0.0760, -0.0409], dtype=torch.float64, device=device),
                               atol=6e-4, rtol=1e-3)
    torch.testing.assert_close(_ten_steps(torch.optim.Adam, w0, 0.0, weight_decay=lam), adam_l2)  # torch's own L2


# ----------------------------------------------------------------- L1 by soft-thresholding
def test_soft_threshold_equals_torch_softshrink(device):
    w = torch.randn(50, 20, device=device)
    ref = F.softshrink(w, 0.3)
    soft_threshold_(w, 0.3)
    torch.testing.assert_close(w, ref)
    assert (w == 0).float().mean() > 0.1


def _sparse_regression(device, n=200, d=20, seed=0):
    """y = x·w* + 0.5 + noise with only 3 of the d features informative (float64)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    w_true = torch.zeros(d, dtype=torch.float64)
    w_true[:3] = torch.tensor([2.0, -1.5, 1.0], dtype=torch.float64)
    y = x @ w_true + 0.5 + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    return x.to(device), y.unsqueeze(1).to(device)


def test_proximal_l1_makes_exact_zeros_where_subgradient_does_not(device):
    """ISTA (gradient step + soft-threshold) on MSE + λ‖w‖₁ converges to the LASSO solution, with its exact zeros;
    the subgradient step λ·sign(w) on the same problem only makes the irrelevant weights jitter around 0."""
    from sklearn.linear_model import Lasso

    x, y = _sparse_regression(device)
    n, d = x.shape
    lam = 0.1
    kw = dict(epochs=200, batch_size=n, seed=0, progress=False)  # full batch: proximal gradient descent
    torch.manual_seed(0)
    a = nn.Linear(d, 1).double().to(device)
    b = nn.Linear(d, 1).double().to(device)
    b.load_state_dict(a.state_dict())
    fit(a, (x, y), optimizer=torch.optim.SGD(a.parameters(), lr=0.2), callbacks=[ProximalL1(lam)], **kw)
    fit(b, (x, y), optimizer=torch.optim.SGD(b.parameters(), lr=0.2), callbacks=[Penalty(lam, "l1")], **kw)
    # scikit-learn minimizes 1/(2n)‖y − Xw − c‖² + α‖w‖₁ = ½ (MSE + 2α‖w‖₁): the same problem with α = λ/2
    ref = Lasso(alpha=lam / 2, tol=1e-12, max_iter=100_000).fit(x.cpu().numpy(), y.cpu().numpy().ravel())
    w_ref = torch.tensor(ref.coef_, dtype=torch.float64)
    torch.testing.assert_close(a.weight.detach().cpu().ravel(), w_ref, rtol=0, atol=1e-6)
    assert a.bias.item() == pytest.approx(ref.intercept_, abs=1e-6)  # the bias is fitted, not penalized
    zeros_prox = int((a.weight == 0).sum())
    zeros_sub = int((b.weight == 0).sum())
    assert zeros_prox == int((w_ref == 0).sum()) == d - 3       # exactly the 17 irrelevant features
    assert zeros_sub == 0                                        # no exact zeros from the subgradient
    assert b.weight[0, 3:].abs().max() < 0.05                    # ... only small weights jittering around 0


def test_proximal_l1_in_a_network_zeroes_weights_not_biases(device):
    x, y = _batch(device, n=96)
    model = _net(device)
    fit(model, (x, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), callbacks=[ProximalL1(0.2)],
        epochs=20, batch_size=32, seed=2, progress=False)
    weights = penalized_parameters(model)
    zeros = sum(int((p == 0).sum()) for p in weights)
    assert zeros > 0.5 * sum(p.numel() for p in weights)
    assert (model[0].bias != 0).all() and (model[1].weight != 0).all()  # biases and BN scales are not penalized


# ----------------------------------------------------------------- max-norm
def test_row_max_norm_equals_torch_renorm_and_keeps_inside_rows(device):
    w = torch.randn(10, 30, device=device)
    w[:3] *= 0.05  # rows well inside the ball
    inside = w[:3].clone()
    c = 2.0
    ref = torch.renorm(w, p=2, dim=0, maxnorm=c)
    out = max_norm_(w, c, "row")
    assert out is w
    torch.testing.assert_close(w, ref)
    assert torch.equal(w[:3], inside)  # untouched, bit for bit
    assert (w.norm(dim=1) <= c * (1 + 1e-6)).all()
    outside = w[3:].norm(dim=1)
    torch.testing.assert_close(outside, torch.full_like(outside, c))  # projected onto the sphere


def test_row_max_norm_on_conv_filters(device):
    w = torch.randn(6, 3, 3, 3, device=device) * 3
    ref = torch.renorm(w, 2, 0, 1.5)
    max_norm_(w, 1.5)
    torch.testing.assert_close(w, ref)
    assert (w.flatten(1).norm(dim=1) <= 1.5 * (1 + 1e-6)).all()


def test_frobenius_max_norm(device):
    w = torch.randn(8, 5, device=device)
    before = w.clone()
    max_norm_(w, 1.0, "frobenius")
    assert w.norm().item() == pytest.approx(1.0, rel=1e-6)
    torch.testing.assert_close(w / w.norm(), before / before.norm())  # same direction
    small = torch.randn(8, 5, device=device) * 0.01
    kept = small.clone()
    max_norm_(small, 1.0, "frobenius")
    assert torch.equal(small, kept)
    vec = torch.randn(7, device=device) * 10
    max_norm_(vec, 2.0, "frobenius")  # 1-D weights are fine in this mode
    assert vec.norm().item() == pytest.approx(2.0, rel=1e-6)


def test_max_norm_callback_keeps_every_row_within_its_bound(device):
    x, y = _batch(device, n=96)
    model = _net(device)
    cb = MaxNorm([0.5, 0.8])  # one bound per layer
    fit(model, (x, y), optimizer=torch.optim.SGD(model.parameters(), lr=1.0), callbacks=[cb], epochs=3,
        batch_size=32, seed=0, progress=False)
    for w, c in zip(penalized_parameters(model), [0.5, 0.8]):
        assert (w.norm(dim=1) <= c * (1 + 1e-6)).all()
    free = _net(device)
    fit(free, (x, y), optimizer=torch.optim.SGD(free.parameters(), lr=1.0), epochs=3, batch_size=32, seed=0,
        progress=False)
    assert free[0].weight.norm(dim=1).max() > 0.5  # the bound was active
    frob = MaxNorm(1.0, "frobenius", params=[model[3].weight])
    model[3].weight.data.mul_(10)
    frob.apply()
    assert model[3].weight.norm().item() == pytest.approx(1.0, rel=1e-6)
    assert repr(frob) == "MaxNorm(max_norm=1.0, mode='frobenius')"


# ----------------------------------------------------------------- bad input
def _raises(cases):
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


def test_bad_strengths_are_rejected():
    w = torch.randn(3)
    _raises([
        (lambda: Penalty(-0.1), ValueError, r"lam must be a real number in \[0, inf\), got -0.1"),
        (lambda: Penalty(float("nan")), ValueError, r"lam must be a real number in \[0, inf\), got nan"),
        (lambda: Penalty("0.1"), TypeError, r"lam must be a real number in \[0, inf\), got str '0.1'"),
        (lambda: ProximalL1(True), TypeError, "lam must be a real number .*, got bool True"),
        (lambda: DecoupledWeightDecay(-1e-3), ValueError, r"weight_decay must be a real number in \[0, inf\), got -0.001"),
        (lambda: weight_decay_groups(nn.Linear(2, 2), -1.0), ValueError, "weight_decay must be a real number in"),
        (lambda: weight_decay_groups(nn.Linear(2, 2), "1e-2"), TypeError, "weight_decay must be .*, got str '1e-2'"),
        (lambda: sgd_weight_decay_step_(w, -0.1, 0.1), ValueError, r"lr must be a real number in \[0, inf\), got -0.1"),
        (lambda: sgd_weight_decay_step_(w, "0.1", 0.1), TypeError, r"lr must be a real number .*, got str '0.1'"),
        (lambda: decoupled_weight_decay_(w, 0.1, None), TypeError, "weight_decay must be .*, got NoneType None"),
        (lambda: decoupled_weight_decay_(w, float("inf"), 0.1), ValueError, "lr must be .*, got inf"),
        (lambda: soft_threshold_(w, -1.0), ValueError, r"threshold must be a real number in \[0, inf\), got -1.0"),
        (lambda: soft_threshold_(w, [0.1]), TypeError, r"threshold must be a real number .*, got list \[0.1\]"),
    ])


@pytest.mark.parametrize("q, error", [(0, ValueError), (-1.0, ValueError), (float("inf"), ValueError),
                                      ("2", TypeError), (None, TypeError)])
def test_bad_q_is_rejected(q, error):
    match = r"q must be a real number in \(0, inf\), got"
    with pytest.raises(error, match=match):
        lq_penalty(torch.randn(3), q)
    if q is not None:
        with pytest.raises(error, match=match):
            Penalty(0.1, "lq", q=q)


@pytest.mark.parametrize("r, error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                      ("0.5", TypeError)])
def test_bad_mixing_ratio_is_rejected(r, error):
    match = r"r must be a real number in \[0, 1\], got .* \(the elastic-net mixing ratio: r=0 is LASSO, r=1 is ridge\)"
    with pytest.raises(error, match=match):
        elastic_net_penalty(torch.randn(3), r)
    with pytest.raises(error, match=match):
        Penalty(0.1, "elastic_net", r=r)


def test_missing_or_useless_q_and_r_are_rejected():
    _raises([
        (lambda: Penalty(0.1, "lq"), ValueError, r"kind='lq' needs q \(q > 0\)"),
        (lambda: Penalty(0.1, "elastic_net"), ValueError, "kind='elastic_net' needs the mixing ratio r"),
        (lambda: penalty(torch.randn(2), "lq"), ValueError, "kind='lq' needs q"),
        (lambda: penalty(torch.randn(2), "elastic_net"), ValueError, "kind='elastic_net' needs the mixing ratio r"),
        (lambda: Penalty(0.1, "l2", q=3), ValueError, "q is the exponent of kind='lq' and has no effect on kind='l2'"),
        (lambda: penalty(torch.randn(2), "l1", r=0.5), ValueError,
         "r is the mixing ratio of kind='elastic_net' and has no effect on kind='l1'"),
    ])


@pytest.mark.parametrize("c, error", [(0, ValueError), (-1.0, ValueError), (float("inf"), ValueError),
                                      ("3", TypeError)])
def test_bad_max_norm_bound_is_rejected(c, error):
    with pytest.raises(error, match=r"max_norm must be a real number in \(0, inf\), got"):
        max_norm_(torch.randn(3, 3), c)
    with pytest.raises(error, match=r"max_norm must be a real number in \(0, inf\), got"):
        MaxNorm(c)
    with pytest.raises(error, match=r"max_norm\[1\] must be a real number in \(0, inf\), got"):
        MaxNorm([1.0, c])


def test_unknown_modes_are_rejected():
    _raises([
        (lambda: Penalty(0.1, "l3"), ValueError, "kind must be one of 'l2', 'l1', 'elastic_net', 'lq', got 'l3'"),
        (lambda: penalty(torch.randn(2), "ridge"), ValueError, "kind must be one of .*, got 'ridge'"),
        (lambda: penalty(torch.randn(2), 2), TypeError, "kind must be one of .*, got int 2"),
        (lambda: max_norm_(torch.randn(3, 3), 1.0, "column"), ValueError,
         "mode must be one of 'row', 'frobenius', got 'column'"),
        (lambda: MaxNorm(1.0, mode="spectral"), ValueError, "mode must be one of 'row', 'frobenius', got 'spectral'"),
        (lambda: MaxNorm(1.0, mode=None), TypeError, "mode must be one of 'row', 'frobenius', got NoneType None"),
    ])
    assert Penalty(0.1, "L2").kind == "l2"  # names are case-insensitive


def test_bad_parameters_are_rejected():
    _raises([
        (lambda: l2_penalty(3.0), TypeError, "params must be an nn.Module, a tensor or an iterable of tensors, got float 3.0"),
        (lambda: l2_penalty("weights"), TypeError, "params must be an nn.Module, a tensor or an iterable of tensors, got str"),
        (lambda: l1_penalty([torch.randn(2), [1.0, 2.0]]), TypeError, r"params must contain tensors only, got list \[1.0, 2.0\]"),
        (lambda: l2_penalty([]), ValueError, "params is empty: no tensors to penalize or update"),
        (lambda: l2_penalty(torch.arange(3)), TypeError,
         "params must be floating-point tensors .*, got dtype torch.int64; convert with .float()"),
        (lambda: sgd_weight_decay_step_([torch.ones(2, dtype=torch.int32)], 0.1, 0.1), TypeError,
         "params must be floating-point tensors .*, got dtype torch.int32"),
        (lambda: l2_penalty(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3))), ValueError, "has no Linear/Conv weights"),
        (lambda: penalized_parameters([torch.randn(2)]), TypeError, "model must be an nn.Module, got list"),
        (lambda: penalized_parameters(nn.Linear(2, 2), include_bias="yes"), TypeError,
         "include_bias must be True or False, got str 'yes'"),
        (lambda: weight_decay_groups("net", 0.1), TypeError, "model must be an nn.Module, got str 'net'"),
        (lambda: max_norm_(torch.randn(5), 1.0, "row"), ValueError, r"mode='row' .* got shape \(5,\)"),
        (lambda: max_norm_(torch.ones(2, 2, dtype=torch.long), 1.0), TypeError,
         "weight must be a floating-point tensor, got dtype torch.int64; convert with .float()"),
        (lambda: max_norm_([[1.0, 2.0]], 1.0), TypeError, r"weight must be a torch.Tensor, got list \[\[1.0, 2.0\]\]"),
        (lambda: MaxNorm([1.0, 2.0], params=[torch.randn(3, 3)]), ValueError, "2 bounds but there are 1 weights"),
        (lambda: MaxNorm([]), ValueError, "max_norm is an empty list of bounds"),
        (lambda: Penalty(0.1, params=[torch.arange(3)]), TypeError, "params must be floating-point tensors"),
    ])
    model = _net("cpu")
    x, y = _batch("cpu")
    with pytest.raises(ValueError, match="3 bounds but there are 2 weights"):
        fit(model, (x, y), epochs=1, callbacks=[MaxNorm([1.0, 1.0, 1.0])], progress=False)
