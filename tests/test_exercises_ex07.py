"""Each checker of notebook 07 says not-attempted, names the typical slips, and accepts the right answer."""

import pytest
import torch

from course_lib.exercises import ex07


def _verdict(capsys):
    return capsys.readouterr().out.strip()


def _eig(x, ddof=1, center=True):
    xc = x - x.mean(0) if center else x
    lam, u = torch.linalg.eigh(xc.T @ xc / (len(x) - ddof))
    return lam.flip(0), u.flip(1), xc


# ----------------------------------------------------------------- exercise 1: PCA whitening
def right_pca(x, eps):
    lam, u, xc = _eig(x)
    return xc @ u / torch.sqrt(lam + eps)


def right_pca_other_signs(x, eps):
    out = right_pca(x, eps)
    return out * torch.tensor([1.0, -1.0, -1.0, 1.0], dtype=out.dtype)


def right_pca_float32(x, eps):
    return right_pca(x.float(), eps)


def _pca(kind):
    def fn(x, eps):
        lam, u, xc = _eig(x)
        if kind == "not centred":
            return x @ u / torch.sqrt(lam + eps)
        if kind == "no eps":
            return xc @ u / torch.sqrt(lam)
        if kind == "eps outside":
            return xc @ u / (torch.sqrt(lam) + eps)
        if kind == "variance":
            return xc @ u / (lam + eps)
        if kind == "rows":
            return xc @ u.T / torch.sqrt(lam + eps)
        if kind == "N":
            lam, u, xc = _eig(x, ddof=0)
            return xc @ u / torch.sqrt(lam + eps)
        if kind == "ascending":
            lam, u = torch.linalg.eigh(xc.T @ xc / (len(x) - 1))
            return xc @ u / torch.sqrt(lam + eps)
        if kind == "uncentred covariance":
            lam, u, raw = _eig(x, center=False)
            return raw @ u / torch.sqrt(lam + eps)
        if kind == "gram":
            lam, u = torch.linalg.eigh(xc @ xc.T)
            return u
        if kind == "other":
            return right_pca(x, eps) * 1.5
        raise AssertionError(kind)
    return fn


def test_ex1_not_attempted(capsys):
    def untouched(x, eps):
        raise NotImplementedError

    assert not ex07.check_pca_whitening(None)
    assert not ex07.check_pca_whitening(untouched)
    assert not ex07.check_pca_whitening(lambda x, eps: None)
    assert _verdict(capsys).count("[not attempted]") == 3


@pytest.mark.parametrize("kind, hint", [
    ("not centred", "not centred before projecting"),
    ("uncentred covariance", "without subtracting the mean"),
    ("no eps", "instead of sqrt(λ + eps)"),
    ("eps outside", "eps goes inside the square root"),
    ("variance", "divided by the variance"),
    ("rows", "COLUMNS"),
    ("N", "divided by N; divide by N - 1"),
    ("ascending", "INCREASING variance"),
    ("gram", "x xᵀ, an N x N matrix"),
    ("other", "differs from course_lib's PCA(whiten=True, eps=0.1) by up to"),
])
def test_ex1_names_the_slip(capsys, kind, hint):
    assert not ex07.check_pca_whitening(_pca(kind))
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


@pytest.mark.parametrize("wrong, hint", [
    (3, "give a function"),
    (lambda x, eps: x.numpy(), "return a torch.Tensor"),
    (lambda x, eps: x[:, :2], "shape (200, 4)"),
    (lambda x, eps: x / 0, "NaN or inf"),
    (lambda x, eps: [][0], "raised IndexError"),
])
def test_ex1_rejects_malformed_answers(capsys, wrong, hint):
    assert not ex07.check_pca_whitening(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


@pytest.mark.parametrize("fn", [right_pca, right_pca_other_signs, right_pca_float32])
def test_ex1_accepts_the_right_answer_with_any_signs(capsys, fn):
    assert ex07.check_pca_whitening(fn)
    assert _verdict(capsys).startswith("[correct]")


# ----------------------------------------------------------------- exercise 2: ZCA whitening
def right_zca(x, eps):
    lam, u, xc = _eig(x)
    return xc @ u @ torch.diag(1 / torch.sqrt(lam + eps)) @ u.T


def _zca(kind):
    def fn(x, eps):
        lam, u, xc = _eig(x)
        if kind == "pca":
            return right_pca(x, eps)
        if kind == "pca ascending":
            return _pca("ascending")(x, eps)
        if kind == "not centred":
            return x @ u @ torch.diag(1 / torch.sqrt(lam + eps)) @ u.T
        if kind == "no eps":
            return xc @ u @ torch.diag(1 / torch.sqrt(lam)) @ u.T
        if kind == "variance":
            return xc @ u @ torch.diag(1 / (lam + eps)) @ u.T
        if kind == "N":
            lam, u, xc = _eig(x, ddof=0)
            return xc @ u @ torch.diag(1 / torch.sqrt(lam + eps)) @ u.T
        if kind == "rows":
            return xc @ u.T @ torch.diag(1 / torch.sqrt(lam + eps)) @ u
        if kind == "twice":
            return xc @ u @ torch.diag(1 / torch.sqrt(lam + eps)) @ u
        if kind == "other":
            return right_zca(x, eps) + 0.01
        raise AssertionError(kind)
    return fn


def test_ex2_not_attempted(capsys):
    def untouched(x, eps):
        raise NotImplementedError

    assert not ex07.check_zca_whitening(None)
    assert not ex07.check_zca_whitening(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("kind, hint", [
    ("pca", "this is PCA whitening"),
    ("pca ascending", "this is PCA whitening"),
    ("not centred", "not centred"),
    ("no eps", "instead of sqrt(λ + eps)"),
    ("variance", "divided by the variance"),
    ("N", "divided by N; divide by N - 1"),
    ("rows", "rotations are the wrong way round"),
    ("twice", "must undo the first one"),
    ("other", "differs from course_lib's ZCA(eps=0.1) by up to"),
])
def test_ex2_names_the_slip(capsys, kind, hint):
    assert not ex07.check_zca_whitening(_zca(kind))
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_the_right_answer(capsys):
    assert ex07.check_zca_whitening(right_zca)
    assert _verdict(capsys).startswith("[correct]")


# ----------------------------------------------------------------- exercise 3: statistics from the training split
def right_splits(train, val, test):
    mean, std = train.mean(0), train.std(0, correction=0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((x - mean) / std for x in (train, val, test))


def _all_data(train, val, test):
    every = torch.cat([train, val, test])
    mean, std = every.mean(0), every.std(0, correction=0)
    return tuple((x - mean) / std for x in (train, val, test))


def _own(train, val, test):
    return tuple(right_splits(x, x, x)[0] for x in (train, val, test))


def _unbiased(train, val, test):
    mean, std = train.mean(0), train.std(0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((x - mean) / std for x in (train, val, test))


def _no_constant_fix(train, val, test):
    mean, std = train.mean(0), train.std(0, correction=0)
    return tuple((x - mean) / std for x in (train, val, test))


def test_ex3_not_attempted(capsys):
    def untouched(train, val, test):
        raise NotImplementedError

    assert not ex07.check_standardize_splits(None)
    assert not ex07.check_standardize_splits(untouched)
    assert not ex07.check_standardize_splits(lambda a, b, c: (None, None, None))
    assert _verdict(capsys).count("[not attempted]") == 3


@pytest.mark.parametrize("wrong, hint", [
    (_all_data, "from all the data"),
    (_own, "its own statistics"),
    (_unbiased, "divides by N - 1"),
    (_no_constant_fix, "column 3 is constant"),
    (lambda a, b, c: (a, b, c), "differs from StandardScaler"),
    (lambda a, b, c: a, "return the three standardized splits"),
    (lambda a, b, c: (a, b, c[:3]), "the test split must come back as a tensor of shape (30, 5)"),
])
def test_ex3_names_the_slip(capsys, wrong, hint):
    assert not ex07.check_standardize_splits(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_accepts_the_right_answer(capsys):
    assert ex07.check_standardize_splits(right_splits)
    assert _verdict(capsys).startswith("[correct]")
