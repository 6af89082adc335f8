"""Checkers for the exercises of notebook 07 (data preprocessing)."""

from __future__ import annotations

import torch

from . import NotAttempted, require, run_check
from ..preprocessing import PCA, ZCA, StandardScaler

__all__ = ["exercise_data", "check_pca_whitening", "check_zca_whitening", "check_standardize_splits"]

EPS = 0.1  # the epsilon the whitening exercises use


def exercise_data(n: int = 200) -> torch.Tensor:
    """(n, 4) float64 data: correlated features, far from zero mean, one direction of tiny variance (≈ 0.004)."""
    g = torch.Generator().manual_seed(7)
    z = torch.randn(n, 4, generator=g, dtype=torch.float64) * torch.tensor([3.0, 1.5, 0.7, 0.06], dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    return z @ q + torch.tensor([5.0, -2.0, 10.0, 1.0], dtype=torch.float64)


def _eig(x: torch.Tensor, ddof: int = 1, center: bool = True):
    """Eigenvalues (descending) and eigenvectors (COLUMNS) of the covariance, as a student would compute them."""
    xc = x - x.mean(0) if center else x
    values, vectors = torch.linalg.eigh(xc.T @ xc / (len(x) - ddof))
    return values.flip(0), vectors.flip(1), xc


def _pca_variants(x: torch.Tensor, eps: float) -> dict[str, torch.Tensor]:
    """PCA whitening with one classic slip each (compared up to the sign of each column)."""
    lam, u, xc = _eig(x)
    lam_n, u_n, _ = _eig(x, ddof=0)
    raw_lam, raw_u, raw = _eig(x, center=False)
    return {
        "not centred": ((x @ u) / torch.sqrt(lam + eps),
                        "the data was not centred before projecting: subtract the mean of each feature (column) "
                        "first, x - x.mean(dim=0)"),
        "uncentred covariance": ((raw @ raw_u) / torch.sqrt(raw_lam + eps),
                                 "the covariance was computed without subtracting the mean: xᵀx / (N - 1) is the "
                                 "covariance only for centred data"),
        "no eps": ((xc @ u) / torch.sqrt(lam),
                   f"the smallest-variance direction is blown up: you divide by sqrt(λ) instead of sqrt(λ + eps) "
                   f"(eps = {eps})"),
        "eps outside": ((xc @ u) / (torch.sqrt(lam) + eps),
                        "eps goes inside the square root: divide by sqrt(λ + eps), not sqrt(λ) + eps"),
        "variance": ((xc @ u) / (lam + eps),
                     "you divided by the variance λ + eps; whitening divides by the standard deviation "
                     "sqrt(λ + eps)"),
        "rows": ((xc @ u.T) / torch.sqrt(lam + eps),
                 "the eigenvectors are the COLUMNS of the matrix torch.linalg.eigh returns (vectors[:, i]), not "
                 "its rows: project with xc @ vectors"),
        "N": ((xc @ u_n) / torch.sqrt(lam_n + eps),
              "the covariance was divided by N; divide by N - 1 as course_lib, torch.cov and scikit-learn do"),
        "ascending": ((xc @ u.flip(1)) / torch.sqrt(lam.flip(0) + eps),
                      "your columns come in order of INCREASING variance: torch.linalg.eigh sorts the eigenvalues "
                      "in ascending order; PCA lists the directions from the largest variance down (flip both)"),
    }


def _zca_variants(x: torch.Tensor, eps: float) -> dict[str, tuple[torch.Tensor, str]]:
    lam, u, xc = _eig(x)
    lam_n, u_n, _ = _eig(x, ddof=0)

    def zca(data, vecs, vals, scale=torch.sqrt):
        return data @ vecs @ torch.diag(1 / scale(vals)) @ vecs.T

    return {
        "not centred": (zca(x, u, lam + eps),
                        "the data was not centred: subtract the mean of each feature (column) before whitening"),
        "no eps": (zca(xc, u, lam), f"you divide by sqrt(λ) instead of sqrt(λ + eps) (eps = {eps}): the direction "
                                    f"of tiny variance is blown up"),
        "variance": (zca(xc, u, lam + eps, scale=lambda v: v),
                     "you divided by the variance λ + eps; whitening divides by the standard deviation "
                     "sqrt(λ + eps)"),
        "N": (zca(xc, u_n, lam_n + eps), "the covariance was divided by N; divide by N - 1 as course_lib, "
                                         "torch.cov and scikit-learn do"),
        "rows": (xc @ u.T @ torch.diag(1 / torch.sqrt(lam + eps)) @ u,
                 "the rotations are the wrong way round: the eigenvectors are the COLUMNS of U "
                 "(torch.linalg.eigh), rotate in with xc @ U and back with @ U.T"),
        "same rotation twice": (xc @ u @ torch.diag(1 / torch.sqrt(lam + eps)) @ u,
                                "the rotation back must undo the first one: after xc @ U comes @ U.T (U is "
                                "orthogonal, so U.T is its inverse), not @ U again"),
    }


def _align(answer: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Flip each column of ``answer`` to the sign of ``ref``'s (an eigenvector's sign is arbitrary)."""
    signs = torch.sign((answer * ref).sum(0))
    signs[signs == 0] = 1
    return answer * signs


def _as_output(out, x: torch.Tensor, what: str) -> torch.Tensor:
    if out is None:
        raise NotAttempted
    require(isinstance(out, torch.Tensor), f"return a torch.Tensor (the {what} data), got {type(out).__name__}")
    require(tuple(out.shape) == tuple(x.shape),
            f"return the {what} data with one row per example and one column per feature, shape "
            f"{tuple(x.shape)}; got shape {tuple(out.shape)}"
            + (" (did you take the eigenvectors of x xᵀ, an N x N matrix, instead of the D x D covariance "
               "xᵀx / (N - 1)?)" if out.ndim == 2 and out.shape[1] == x.shape[0] else ""))
    out = out.detach().to(torch.float64)
    require(bool(torch.isfinite(out).all()), f"your {what} data holds NaN or inf values")
    return out


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return bool(torch.allclose(a, b, rtol=1e-4, atol=1e-4))


def _diagnose(out, ref, variants, *, up_to_sign: bool, name: str) -> None:
    fix = (lambda t: _align(out, t)) if up_to_sign else (lambda t: out)
    if _close(fix(ref), ref):
        return
    for candidate, message in variants.values():
        if _close(fix(candidate), candidate):
            require(False, message)
    cov = torch.cov(out.T)
    decorrelated = torch.allclose(cov, torch.diag(torch.diagonal(cov)), atol=1e-4)
    require(False, f"your output differs from course_lib's {name} by up to {(fix(ref) - ref).abs().max().item():.3g}"
                   + ("" if decorrelated else "; it is not even decorrelated (its covariance has off-diagonal "
                                              "entries)")
                   + ". Check: centre, covariance xcᵀxc / (N - 1), torch.linalg.eigh, sort descending, "
                     "divide by sqrt(λ + eps)")


def check_pca_whitening(fn) -> bool:
    """``fn(x, eps)``: PCA whitening of ``x`` (N, D) → (N, D), compared with ``PCA(whiten=True, eps=eps)``."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(x, eps), got {type(fn).__name__}")
        x = exercise_data()
        out = _as_output(fn(x.clone(), EPS), x, "PCA-whitened")
        ref = PCA(whiten=True, eps=EPS).fit_transform(x)
        _diagnose(out, ref, _pca_variants(x, EPS), up_to_sign=True, name=f"PCA(whiten=True, eps={EPS})")

    return run_check("Exercise 1 (PCA whitening)", check,
                     "centre, rotate onto the eigenvectors, divide by sqrt(λ + eps): the same as "
                     "PCA(whiten=True, eps=eps) up to the sign of each column")


def check_zca_whitening(fn) -> bool:
    """``fn(x, eps)``: ZCA whitening of ``x`` (N, D) → (N, D), compared with ``ZCA(eps=eps)`` (no sign freedom)."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(x, eps), got {type(fn).__name__}")
        x = exercise_data()
        out = _as_output(fn(x.clone(), EPS), x, "ZCA-whitened")
        ref = ZCA(eps=EPS).fit_transform(x)
        if not _close(out, ref):
            pca_white = PCA(whiten=True, eps=EPS).fit_transform(x)
            lam, u, xc = _eig(x)
            require(not _close(_align(out, pca_white), pca_white)
                    and not _close(_align(out, xc @ u.flip(1) / torch.sqrt(lam.flip(0) + EPS)),
                                   xc @ u.flip(1) / torch.sqrt(lam.flip(0) + EPS)),
                    "this is PCA whitening: ZCA rotates the whitened data back into the original axes "
                    "(multiply by the transpose of the eigenvector matrix)")
        _diagnose(out, ref, _zca_variants(x, EPS), up_to_sign=False, name=f"ZCA(eps={EPS})")

    return run_check("Exercise 2 (ZCA whitening)", check,
                     "W = U diag(1/sqrt(λ + eps)) Uᵀ is symmetric, and the output equals ZCA(eps=eps)")


# --------------------------------------------------------------------------- exercise 3
def _splits():
    g = torch.Generator().manual_seed(3)
    scales = torch.tensor([1.0, 50.0, 0.01, 0.0, 3.0])
    offsets = torch.tensor([0.0, 400.0, 1.0, 2.0, -5.0])
    make = lambda n, shift: torch.randn(n, 5, generator=g) * scales + offsets + shift  # noqa: E731
    return make(60, 0.0), make(25, 0.5), make(30, -0.5)  # val/test drawn a little shifted, as real splits are


def check_standardize_splits(fn) -> bool:
    """``fn(x_train, x_val, x_test)`` → the three splits standardized with statistics of the TRAINING split only."""

    def check() -> None:
        if fn is None:
            raise NotAttempted
        require(callable(fn), f"give a function fn(x_train, x_val, x_test), got {type(fn).__name__}")
        train, val, test = _splits()
        result = fn(train.clone(), val.clone(), test.clone())
        if result is None:
            raise NotAttempted
        require(isinstance(result, (tuple, list)) and len(result) == 3,
                f"return the three standardized splits (train, val, test), got {type(result).__name__}")
        outs = []
        for name, out, x in zip(("train", "val", "test"), result, (train, val, test)):
            if out is None:
                raise NotAttempted
            require(isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(x.shape),
                    f"the {name} split must come back as a tensor of shape {tuple(x.shape)}, got "
                    + (f"shape {tuple(out.shape)}" if isinstance(out, torch.Tensor) else type(out).__name__))
            outs.append(out.detach().double())
        require(all(bool(torch.isfinite(o).all()) for o in outs),
                "NaN or inf in your output: column 3 is constant in the training split (standard deviation 0). "
                "Give such a feature the scale 1, as StandardScaler does")
        scaler = StandardScaler().fit(train)
        refs = [scaler.transform(x.double()) for x in (train, val, test)]
        if all(torch.allclose(o, r, rtol=1e-4, atol=1e-4) for o, r in zip(outs, refs)):
            return
        every = StandardScaler().fit(torch.cat([train, val, test]))
        require(not all(torch.allclose(o, every.transform(x.double()), rtol=1e-4, atol=1e-4)
                        for o, x in zip(outs, (train, val, test))),
                "your statistics come from all the data (train + val + test): the mean and scale must be "
                "computed on the training split only, then applied unchanged to the others")
        own = [StandardScaler().fit(x).transform(x.double()) for x in (train, val, test)]
        require(not all(torch.allclose(o, r, rtol=1e-4, atol=1e-4) for o, r in zip(outs[1:], own[1:])),
                "each split was standardized with its own statistics: val and test must use the TRAINING "
                "split's mean and scale (they are not exactly centred afterwards, and that is right)")
        mean, std = train.mean(0), train.std(0)  # torch's default: unbiased, N - 1
        std = torch.where(std == 0, torch.ones_like(std), std)
        require(not torch.allclose(outs[0], ((train - mean) / std).double(), rtol=1e-4, atol=1e-4),
                "x.std(dim=0) divides by N - 1; StandardScaler uses the population standard deviation "
                "(divide by N: x.std(dim=0, correction=0))")
        worst = max(range(3), key=lambda i: (outs[i] - refs[i]).abs().max().item())
        require(False, f"the {('train', 'val', 'test')[worst]} split differs from StandardScaler fitted on the "
                       f"training split by up to {(outs[worst] - refs[worst]).abs().max().item():.3g}: compute "
                       f"the mean and the (population) standard deviation of each column of x_train, then "
                       f"(x - mean) / std for every split")

    return run_check("Exercise 3 (statistics from the training split)", check,
                     "one mean and one scale per feature, from the training split, applied to all three")
