"""Each checker of notebook 02 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import pytest
import torch
import torch.nn.functional as F

from course_lib.exercises import ex02


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def _en(w, r):
    return r * (w**2).sum() + (1 - r) / 2 * w.abs().sum()


def test_ex1_not_attempted(capsys):
    def untouched(w, r):
        raise NotImplementedError

    assert not ex02.check_elastic_net(None)
    assert not ex02.check_elastic_net(untouched)
    assert not ex02.check_elastic_net(lambda w, r: None)
    assert _verdict(capsys).count("[not attempted]") == 3


def _en_in_place(w, r):
    value = _en(w, r)
    w.zero_()
    return value


@pytest.mark.parametrize("wrong, hint", [
    (lambda w, r: r * w.abs().sum() + (1 - r) * (w**2).sum(), "How to Train ConvNets"),
    (lambda w, r: r * w.abs().sum() + (1 - r) / 2 * (w**2).sum(), "swapped"),
    (lambda w, r: r * (w**2).sum() + (1 - r) * w.abs().sum(), "(1 - r)/2, not (1 - r)"),
    (lambda w, r: r * w.norm() + (1 - r) / 2 * w.abs().sum(), "SQUARED norm"),
    (lambda w, r: r * (w**2).sum() / 2 + (1 - r) / 2 * w.abs().sum(), "without a ½"),
    (lambda w, r: r * (w**2).sum() + (1 - r) / 2 * w.sum(), "ABSOLUTE values"),
    (lambda w, r: r * (w**2).sum() + (1 - r) / 2 * w.abs().sum(dim=-1).max(), "EVERY entry"),
    (lambda w, r: r * (w**2).sum(-1) + (1 - r) / 2 * w.abs().sum(-1), "ONE number"),
    (lambda w, r: _en(w, 0.25), "ratio r you are given"),
    (lambda w, r: _en(w, r) + 1.0, "elastic_net_penalty gives"),
    (_en_in_place, "in place"),
    (lambda w, r: [1.0], "return a number"),
    (lambda w, r: True, "return a number"),
    (3.0, "give a function"),
])
def test_ex1_rejects_wrong_penalties(capsys, wrong, hint):
    assert not ex02.check_elastic_net(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_accepts_the_lecture_penalty(capsys):
    from course_lib.regularizers import elastic_net_penalty

    assert ex02.check_elastic_net(_en)
    assert ex02.check_elastic_net(elastic_net_penalty)
    assert ex02.check_elastic_net(lambda w, r: float(_en(w, r)))  # a plain float is fine too
    assert _verdict(capsys).count("[correct]") == 3


# ----------------------------------------------------------------- exercise 2
def test_ex2_not_attempted(capsys):
    def untouched(w, t):
        raise NotImplementedError

    assert not ex02.check_soft_threshold(None)
    assert not ex02.check_soft_threshold(untouched)
    assert not ex02.check_soft_threshold(lambda w, t: None)
    assert _verdict(capsys).count("[not attempted]") == 3


def _in_place(w, t):
    w.copy_(w.sign() * (w.abs() - t).clamp(min=0))
    return w


@pytest.mark.parametrize("wrong, hint", [
    (lambda w, t: (w - t).clamp(min=0), "negative weight became 0"),
    (lambda w, t: w - t * w.sign(), "exactly 0"),
    (lambda w, t: w * (w.abs() > t), "hard thresholding"),
    (lambda w, t: w.sign() * (w.abs() - 0.3).clamp(min=0), "threshold t you are given"),
    (lambda w, t: w.sign() * (w.abs() - t).clamp(min=0) * (w.abs() != t) + (w.abs() == t) * w, "at |w| = t"),
    (_in_place, "in place"),
    (lambda w, t: w.flatten().sign() * (w.flatten().abs() - t).clamp(min=0), "shape"),
    (lambda w, t: [0.0], "return a tensor"),
    (3.0, "give a function"),
])
def test_ex2_rejects_wrong_thresholds(capsys, wrong, hint):
    assert not ex02.check_soft_threshold(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_soft_thresholding(capsys):
    assert ex02.check_soft_threshold(lambda w, t: w.sign() * (w.abs() - t).clamp(min=0))
    assert ex02.check_soft_threshold(lambda w, t: F.softshrink(w, t))
    assert _verdict(capsys).count("[correct]") == 2


# ----------------------------------------------------------------- exercise 3
def test_ex3_not_attempted(capsys):
    def untouched(W, c):
        raise NotImplementedError

    assert not ex02.check_max_norm_rows(None)
    assert not ex02.check_max_norm_rows(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


def _max_norm_in_place(W, c):
    W.mul_((c / W.norm(dim=1, keepdim=True)).clamp(max=1.0))
    return W


@pytest.mark.parametrize("wrong, hint", [
    (lambda W, c: W / W.norm(dim=1, keepdim=True) * c, "exactly c: rows already inside"),
    (lambda W, c: torch.renorm(W, 2, 1, c), "COLUMNS"),
    (lambda W, c: W * min(1.0, c / W.norm().item()), "Frobenius"),
    (lambda W, c: W.clone(), "norm above c"),
    (lambda W, c: torch.where(W.norm(dim=1, keepdim=True) > c, W / W.norm(dim=1, keepdim=True), W), "norm exactly c"),
    (lambda W, c: torch.where(W.norm(dim=1, keepdim=True) > c, W * 0.5 * c / W.norm(dim=1, keepdim=True), W),
     "norm exactly c"),
    (lambda W, c: W * 0.5, "stay exactly as they are"),
    (_max_norm_in_place, "in place"),
    (lambda W, c: W[:3], "shape"),
    (lambda W, c: W.tolist(), "return a tensor"),
])
def test_ex3_rejects_wrong_projections(capsys, wrong, hint):
    assert not ex02.check_max_norm_rows(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_accepts_the_row_projection(capsys):
    from course_lib.regularizers import max_norm_

    assert ex02.check_max_norm_rows(lambda W, c: W * (c / W.norm(dim=1, keepdim=True)).clamp(max=1.0))
    assert ex02.check_max_norm_rows(lambda W, c: max_norm_(W.clone(), c, "row"))
    assert ex02.check_max_norm_rows(lambda W, c: torch.renorm(W, 2, 0, c))
    assert _verdict(capsys).count("[correct]") == 3


# ----------------------------------------------------------------- exercise 4
def test_ex4_not_attempted(capsys):
    assert not ex02.check_sklearn_to_lecture(None)
    assert _verdict(capsys).startswith("[not attempted]")


@pytest.mark.parametrize("wrong, hint", [
    ((0.05, 0.2), "l1_ratio is not r"),
    ((0.08, 0.2), "l1_ratio is not r"),
    ((0.08, 0.8), "1 - l1_ratio"),
    ((0.05, 0.5), "alpha is not λ"),
    ((0.04, 0.5), "half of λ"),
    ((0.125, 0.5), "inverts the forward formula"),
    ((0.5, 0.08), "order is (lam, r)"),
    ((0.1, 0.5), "λ = 0.1 is not it"),
    ((0.08, 0.3), "r = 0.3 is not it"),
    (0.08, "pair"),
    ((0.08, 0.5, 1.0), "pair"),
    (("0.08", "0.5"), "two numbers"),
])
def test_ex4_rejects_wrong_conversions(capsys, wrong, hint):
    assert not ex02.check_sklearn_to_lecture(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex4_accepts_the_conversion_and_it_reaches_the_same_solution(capsys):
    from sklearn.linear_model import ElasticNet

    from course_lib.regularizers import elastic_net_penalty

    lam, r = 0.05 * (1 + 3 * 0.2), (1 - 0.2) / (1 + 3 * 0.2)
    assert ex02.check_sklearn_to_lecture((lam, r))
    assert ex02.check_sklearn_to_lecture([0.08, 0.5])
    assert _verdict(capsys).count("[correct]") == 2
    # the accepted answer really is the same problem: scikit-learn's solution minimizes MSE + λ·R_en(w; r)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 5, generator=g, dtype=torch.float64)
    y = X @ torch.tensor([1.5, 0.0, -2.0, 0.0, 0.3], dtype=torch.float64) + 0.1 * torch.randn(60, generator=g,
                                                                                                dtype=torch.float64)
    w = ElasticNet(alpha=0.05, l1_ratio=0.2, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X.numpy(), y.numpy())
    w = torch.tensor(w.coef_, requires_grad=True)
    (F.mse_loss(X @ w, y) + lam * elastic_net_penalty(w, r)).backward()
    nz = w.detach() != 0
    assert w.grad[nz].abs().max() < 1e-8
    assert (w.grad[~nz].abs() <= lam * (1 - r) / 2 + 1e-8).all()
