"""course_lib.preprocessing against scikit-learn (StandardScaler, PCA) and against the defining properties of whitening."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import StandardScaler as SkStandardScaler

from course_lib.preprocessing import PCA, ZCA, NotFittedError, StandardScaler, covariance


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _data(n=300, d=5, seed=0, device="cpu", dtype=torch.float32):
    """Correlated features with very different means and scales (a full-rank covariance)."""
    g = _gen(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64)
    x = torch.randn(n, d, generator=g, dtype=torch.float64) @ mix
    x = x * torch.logspace(-1, 2, d, dtype=torch.float64) + torch.linspace(-50, 300, d, dtype=torch.float64)
    return x.to(device=device, dtype=dtype)


def _digits(device="cpu"):
    """scikit-learn's digits as (1797, 64) pixels in [0, 1]; three pixels are 0 in every image."""
    return torch.tensor(load_digits().data / 16.0, dtype=torch.float32, device=device)


def _np(t):
    return t.detach().cpu().double().numpy()


def _cov(z):
    return covariance(z)


def _eye(d, like):
    return torch.eye(d, dtype=torch.float64, device=like.device)


# ----------------------------------------------------------------- StandardScaler vs scikit-learn
@pytest.mark.parametrize("with_mean, with_std", [(True, True), (True, False), (False, True)])
def test_standard_scaler_equals_sklearn(device, with_mean, with_std):
    x, x_test = _data(device=device), _data(n=50, seed=1, device=device)
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(x)
    ref = SkStandardScaler(with_mean=with_mean, with_std=with_std).fit(_np(x))
    np.testing.assert_allclose(_np(ours.mean_), ref.mean_, rtol=1e-12)
    if with_std:
        np.testing.assert_allclose(_np(ours.var_), ref.var_, rtol=1e-10)
        np.testing.assert_allclose(_np(ours.scale_), ref.scale_, rtol=1e-10)
    else:
        assert ours.var_ is None and ours.scale_ is None and ref.scale_ is None
    assert ours.n_features_in_ == ref.n_features_in_ == 5 and ours.n_samples_seen_ == ref.n_samples_seen_ == 300
    z = ours.transform(x_test)
    assert z.dtype == x_test.dtype and z.device == x_test.device and z.shape == x_test.shape
    np.testing.assert_allclose(_np(z), ref.transform(_np(x_test)), rtol=1e-5, atol=1e-5)


def test_standard_scaler_statistics_are_float64_and_centre_and_scale(device):
    x = _data(device=device)
    s = StandardScaler()
    z = s.fit_transform(x)
    assert s.mean_.dtype == s.var_.dtype == s.scale_.dtype == torch.float64
    z64 = z.double()
    torch.testing.assert_close(z64.mean(0), torch.zeros(5, dtype=torch.float64, device=z.device), atol=1e-5, rtol=0)
    torch.testing.assert_close(z64.std(0, unbiased=False), torch.ones(5, dtype=torch.float64, device=z.device),
                               atol=1e-5, rtol=0)


def test_constant_features_keep_scale_one_as_in_sklearn(device):
    x = _digits(device)
    ours, ref = StandardScaler().fit(x), SkStandardScaler().fit(_np(x))
    constant = _np(ours.var_) == 0
    assert constant.sum() == 3  # digits: three pixels are 0 in every image
    np.testing.assert_allclose(_np(ours.scale_), ref.scale_, rtol=1e-10)
    assert (_np(ours.scale_)[constant] == 1).all()
    z = ours.transform(x)
    assert torch.isfinite(z).all() and (z[:, torch.as_tensor(constant, device=z.device)] == 0).all()
    np.testing.assert_allclose(_np(z), ref.transform(_np(x)), atol=1e-5)


def test_eps_is_added_to_every_variance(device):
    x = _digits(device)
    s = StandardScaler(eps=1e-2).fit(x)
    torch.testing.assert_close(s.scale_, torch.sqrt(s.var_ + 1e-2))
    assert torch.isfinite(s.transform(x)).all()


def test_transform_does_not_refit(device):
    train, test = _data(device=device), _data(n=40, seed=3, device=device) * 2 + 7
    for model in (StandardScaler(), PCA(whiten=True), ZCA()):
        model.fit(train)
        before = {k: v.clone() for k, v in vars(model).items() if isinstance(v, torch.Tensor)}
        z = model.transform(test)
        after = {k: v for k, v in vars(model).items() if isinstance(v, torch.Tensor)}
        assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
        # test statistics are not used: the transformed test split is NOT centred (its own mean differs)
        assert z.double().mean(0).abs().max() > 0.5
        refit = type(model)(**({"whiten": True} if isinstance(model, PCA) else {})).fit(test)
        assert not torch.allclose(refit.transform(test), z, atol=1e-3)


def test_inverse_transform_round_trips(device):
    x = _data(device=device, dtype=torch.float64)
    for model in (StandardScaler(), StandardScaler(with_std=False), StandardScaler(eps=0.3), PCA(), PCA(whiten=True),
                  PCA(whiten=True, eps=0.5), ZCA(), ZCA(eps=0.5)):
        back = model.inverse_transform(model.fit_transform(x))
        torch.testing.assert_close(back, x, rtol=1e-9, atol=1e-8)


def test_inverse_of_a_truncated_pca_is_the_projection(device):
    x = _data(device=device, dtype=torch.float64)
    p = PCA(n_components=2).fit(x)
    back = p.inverse_transform(p.transform(x))
    ref = SkPCA(n_components=2, svd_solver="full").fit(_np(x))
    np.testing.assert_allclose(_np(back), ref.inverse_transform(ref.transform(_np(x))), rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(p.transform(back), p.transform(x))  # projecting twice changes nothing


# ----------------------------------------------------------------- PCA vs scikit-learn
def _align_signs(ours, ref):
    """Flip each of our components to the sign of scikit-learn's (the sign of an eigenvector is arbitrary)."""
    return np.sign(np.sum(ours * ref, axis=1, keepdims=True))


@pytest.mark.parametrize("n_components", [None, 3, 0.9])
@pytest.mark.parametrize("whiten", [False, True])
def test_pca_equals_sklearn(device, n_components, whiten):
    x, x_test = _data(device=device), _data(n=50, seed=1, device=device)
    ours = PCA(n_components, whiten=whiten).fit(x)
    ref = SkPCA(n_components, whiten=whiten, svd_solver="full").fit(_np(x))
    assert ours.n_components_ == ref.n_components_ and ours.n_features_in_ == 5 and ours.n_samples_ == 300
    np.testing.assert_allclose(_np(ours.mean_), ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(_np(ours.explained_variance_), ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(_np(ours.explained_variance_ratio_), ref.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(_np(ours.singular_values_), ref.singular_values_, rtol=1e-8)
    signs = _align_signs(_np(ours.components_), ref.components_)
    assert (np.abs(signs) == 1).all()
    np.testing.assert_allclose(_np(ours.components_) * signs, ref.components_, atol=1e-8)
    z = ours.transform(x_test)
    assert z.shape == (50, ours.n_components_) and z.dtype == x_test.dtype and z.device == x_test.device
    np.testing.assert_allclose(_np(z) * signs.T, ref.transform(_np(x_test)), rtol=1e-4, atol=1e-4)


def test_pca_on_digits_equals_sklearn_with_the_same_signs():
    x = _digits()
    ours, ref = PCA(n_components=20, whiten=True).fit(x), SkPCA(20, whiten=True, svd_solver="full").fit(_np(x))
    np.testing.assert_allclose(_np(ours.components_), ref.components_, atol=1e-8)  # svd_flip's sign rule
    np.testing.assert_allclose(_np(ours.transform(x)), ref.transform(_np(x)), atol=1e-4)


def test_components_are_orthonormal_and_sorted(device):
    p = PCA().fit(_data(device=device))
    v = p.components_
    torch.testing.assert_close(v @ v.T, _eye(5, v))
    assert (p.explained_variance_[:-1] >= p.explained_variance_[1:]).all()
    biggest = v.abs().argmax(1)
    assert (v[torch.arange(5, device=v.device), biggest] > 0).all()


# ----------------------------------------------------------------- whitening's defining properties
def test_decorrelated_data_has_the_eigenvalues_as_diagonal_covariance(device):
    x = _data(device=device, dtype=torch.float64)
    p = PCA().fit(x)
    torch.testing.assert_close(_cov(p.transform(x)), torch.diag(p.explained_variance_), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("make", [lambda: PCA(whiten=True), lambda: ZCA()])
def test_whitened_training_data_has_identity_covariance(device, make):
    x = _data(device=device, dtype=torch.float64)
    z = make().fit_transform(x)
    torch.testing.assert_close(_cov(z), _eye(5, z), rtol=0, atol=1e-10)
    torch.testing.assert_close(z.mean(0), torch.zeros(5, dtype=torch.float64, device=z.device), rtol=0, atol=1e-10)


def test_whitened_digits_have_identity_covariance_on_the_kept_components():
    x = _digits().double()
    z = PCA(n_components=40, whiten=True).fit_transform(x)
    torch.testing.assert_close(_cov(z), _eye(40, z), rtol=0, atol=1e-10)


def test_whitening_with_eps_gives_lambda_over_lambda_plus_eps(device):
    x = _data(device=device, dtype=torch.float64)
    eps = 0.7
    p = PCA(whiten=True, eps=eps).fit(x)
    lam = p.explained_variance_
    torch.testing.assert_close(_cov(p.transform(x)), torch.diag(lam / (lam + eps)), rtol=1e-9, atol=1e-10)
    z = ZCA(eps=eps).fit(x)
    v = z.components_
    torch.testing.assert_close(_cov(z.transform(x)), v.T @ torch.diag(lam / (lam + eps)) @ v, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_zca_is_pca_whitening_rotated_back(device, eps):
    x, x_test = _data(device=device, dtype=torch.float64), _data(n=30, seed=5, device=device, dtype=torch.float64)
    pca, zca = PCA(whiten=True, eps=eps).fit(x), ZCA(eps=eps).fit(x)
    torch.testing.assert_close(zca.transform(x_test), pca.transform(x_test) @ pca.components_)
    w = zca.whitening_matrix_
    torch.testing.assert_close(w, w.T, rtol=0, atol=1e-12)  # symmetric
    if eps == 0:  # W = C^(-1/2): W C W = I
        torch.testing.assert_close(w @ covariance(x) @ w, _eye(5, w), rtol=0, atol=1e-9)


def test_zca_and_rotated_pca_whitening_differ_with_fewer_examples_than_features():
    """With N < D, PCA keeps min(N, D) components and ZCA all D: the identity holds on the training
    data (nothing of it lies outside the kept span) but not on new data."""
    x, x_test = _data(n=4, d=6, dtype=torch.float64), _data(n=3, d=6, seed=5, dtype=torch.float64)
    pca, zca = PCA(whiten=True, eps=0.1).fit(x), ZCA(eps=0.1).fit(x)
    assert pca.n_components_ == 4 and zca.components_.shape == (6, 6)
    torch.testing.assert_close(zca.transform(x), pca.transform(x) @ pca.components_)
    assert not torch.allclose(zca.transform(x_test), pca.transform(x_test) @ pca.components_, atol=1e-3)


def test_standardized_covariance_is_n_over_n_minus_1_times_the_correlation():
    x = _data(n=20, dtype=torch.float64)
    c = covariance(StandardScaler().fit_transform(x))
    torch.testing.assert_close(c, torch.corrcoef(x.T) * 20 / 19, rtol=1e-10, atol=1e-12)


def test_zca_is_the_whitening_closest_to_the_data(device):
    # Any whitening is Q·W_zca for an orthogonal Q; ZCA minimizes the mean squared distance to the centred data.
    x = _data(device=device, dtype=torch.float64)
    zca = ZCA().fit(x)
    xc = x - zca.mean_
    z = zca.transform(x)
    d_zca = ((xc - z) ** 2).sum(1).mean()
    pca_white = PCA(whiten=True).fit_transform(x)
    assert d_zca < ((xc - pca_white) ** 2).sum(1).mean()
    g = _gen(9)
    for _ in range(20):
        q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g, dtype=torch.float64))
        other = z @ q.to(z.device)
        torch.testing.assert_close(_cov(other), _eye(5, other), rtol=0, atol=1e-9)  # still white
        assert d_zca < ((xc - other) ** 2).sum(1).mean()


def test_zca_with_eps_handles_constant_pixels():
    x = _digits()
    z = ZCA(eps=0.01).fit(x)
    out = z.transform(x)
    assert torch.isfinite(out).all() and out.dtype == torch.float32
    assert int((z.explained_variance_ == 0).sum()) == 3


def test_float32_input_on_float64_statistics_is_precise(device):
    # a large offset: naive float32 statistics would lose digits; ours are float64
    x = _data(device=device, dtype=torch.float64) + 1e4
    ours = StandardScaler().fit(x.float())
    ref = SkStandardScaler().fit(_np(x.float()))
    np.testing.assert_allclose(_np(ours.var_), ref.var_, rtol=1e-9)


def test_fitted_on_cpu_transforms_on_the_device(device):
    x = _data()
    for model in (StandardScaler(), PCA(whiten=True), ZCA()):
        model.fit(x)
        torch.testing.assert_close(model.transform(x.to(device)).cpu(), model.transform(x))


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("make", [StandardScaler, PCA, ZCA])
def test_transform_before_fit_raises_a_clear_error(make):
    model = make()
    with pytest.raises(NotFittedError, match=rf"this {make.__name__} is not fitted yet: call .*fit\(x_train\)"):
        model.transform(torch.zeros(3, 2))
    with pytest.raises(NotFittedError, match="before inverse_transform"):
        model.inverse_transform(torch.zeros(3, 2))
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


@pytest.mark.parametrize("make", [StandardScaler, PCA, ZCA])
def test_wrong_feature_count_names_both_numbers(make):
    model = make().fit(_data())
    with pytest.raises(ValueError, match=r"x has 4 features, but this .* was fitted on 5 features"):
        model.transform(torch.zeros(3, 4))


def test_pca_inverse_transform_wants_the_component_count():
    p = PCA(2).fit(_data())
    with pytest.raises(ValueError, match=r"z has 5 columns, but this PCA keeps 2 components"):
        p.inverse_transform(torch.zeros(3, 5))


@pytest.mark.parametrize("make", [StandardScaler, PCA, ZCA])
def test_bad_data(make):
    model = make()
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got ndarray"):
        model.fit(np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"floating-point tensor of shape \(N, D\), got dtype torch.int64"):
        model.fit(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"shape \(N, D\).*got shape \(10, 1, 8, 8\); flatten images first"):
        model.fit(torch.zeros(10, 1, 8, 8))
    with pytest.raises(ValueError, match=r"got shape \(5,\)"):
        model.fit(torch.zeros(5))
    bad = torch.ones(4, 2)
    bad[1, 0] = float("nan")
    with pytest.raises(ValueError, match=r"x contains 1 non-finite value \(NaN; first at index \(1, 0\)\)"):
        model.fit(bad)


def test_pca_and_zca_need_two_examples():
    for model in (PCA(), ZCA()):
        with pytest.raises(ValueError, match=r"at least 2 examples \(rows\) to fit, got shape \(1, 3\)"):
            model.fit(torch.zeros(1, 3))
    s = StandardScaler().fit(torch.ones(1, 3))  # one example: every feature is constant, scale 1
    assert torch.equal(s.scale_, torch.ones(3, dtype=torch.float64))


def test_whitening_zero_variance_directions_needs_eps():
    x = _digits()
    with pytest.raises(ValueError, match=r"PCA\(whiten=True\): 3 of the 64 directions kept have zero variance.*"
                                         r"pass eps > 0.*n_components"):
        PCA(whiten=True).fit(x)
    with pytest.raises(ValueError, match=r"ZCA: 3 of the 64 directions have zero variance.*eps > 0"):
        ZCA().fit(x)
    with pytest.raises(ValueError, match="ZCA: 8 of the 10 directions"):
        ZCA().fit(torch.randn(3, 10, generator=_gen()))  # 3 centred examples span only 2 directions
    PCA().fit(x)  # without whitening, zero variance is fine
    PCA(n_components=50, whiten=True).fit(x)  # so is keeping only directions that vary


def test_pca_n_components_out_of_range():
    with pytest.raises(ValueError, match=r"n_components=7 must be at most min\(n_samples, n_features\) = "
                                         r"min\(300, 5\) = 5"):
        PCA(7).fit(_data())


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_components=0), ValueError, r"n_components must be an int in \[1, inf\), got 0"),
    (dict(n_components=1.5), ValueError, r"n_components \(a fraction of the variance\) must be a real number in "
                                         r"\(0, 1\), got 1.5"),
    (dict(n_components="mle"), TypeError, r"n_components must be None, an int >= 1 .* got str 'mle'"),
    (dict(n_components=True), TypeError, "n_components must be None"),
    (dict(whiten=1), TypeError, "whiten must be True or False, got int 1"),
    (dict(eps=-1e-3), ValueError, r"eps must be a real number in \[0, inf\), got -0.001"),
    (dict(eps="1e-5"), TypeError, "eps must be a real number"),
])
def test_pca_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        PCA(**kwargs)


@pytest.mark.parametrize("make, kwargs, error, message", [
    (StandardScaler, dict(with_mean="yes"), TypeError, "with_mean must be True or False, got str 'yes'"),
    (StandardScaler, dict(with_std=None), TypeError, "with_std must be True or False"),
    (StandardScaler, dict(eps=float("nan")), ValueError, r"eps must be a real number in \[0, inf\)"),
    (ZCA, dict(eps=-1.0), ValueError, r"eps must be a real number in \[0, inf\), got -1.0"),
])
def test_scaler_and_zca_bad_arguments(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(**kwargs)


def test_positional_arguments_follow_sklearn():
    with pytest.raises(TypeError):
        StandardScaler(False)  # keyword-only, as in scikit-learn
    assert PCA(3).n_components == 3
    with pytest.raises(TypeError):
        PCA(3, True)


def test_repr_and_covariance():
    assert repr(PCA(3, whiten=True)) == "PCA(n_components=3, whiten=True, eps=0)"
    assert repr(StandardScaler()) == "StandardScaler(with_mean=True, with_std=True, eps=0)"
    assert repr(ZCA(eps=0.01)) == "ZCA(eps=0.01)"
    x = _data()
    np.testing.assert_allclose(_np(covariance(x)), np.cov(_np(x), rowvar=False), rtol=1e-10)
    torch.testing.assert_close(covariance(x), torch.cov(x.double().T))
