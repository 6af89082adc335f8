"""Data preprocessing: zero-centring, standardization, PCA, PCA and ZCA whitening.

The data is a matrix ``X`` of shape ``(N, D)``: one example per row, one feature per column
(flatten images first: ``x.flatten(1)``). With the per-feature mean and covariance of the
**training** split,

    μ = (1/N) Σ_n x_n                         (D,)
    σ_j² = (1/N) Σ_n (x_nj − μ_j)²            (D,)   the variance of feature j (as StandardScaler)
    C = (1/(N−1)) (X − μ)ᵀ (X − μ) = U Λ Uᵀ    (D, D) covariance and its eigendecomposition,
                                                    λ_1 ≥ λ_2 ≥ … ≥ 0 on the diagonal of Λ,

the transforms are, for every example x (a row):

====================  =========================================  ===================================
transform             x ↦                                        covariance of the transformed data
====================  =========================================  ===================================
zero-centring         x − μ                                      C
standardization       (x − μ) / σ        (per feature)           ≈ correlation matrix (see below)
PCA (decorrelation)   (x − μ) U          (rotate to the axes)    Λ, diagonal
PCA whitening         (x − μ) U Λ^(−1/2)                         I
ZCA whitening         (x − μ) U Λ^(−1/2) Uᵀ  (rotate back)       I
====================  =========================================  ===================================

Standardization gives the correlation matrix only up to a factor: σ is the population standard
deviation (ddof 0, as scikit-learn's StandardScaler), while C divides by N − 1, so the covariance
of the standardized training data is N/(N − 1) times the correlation matrix (diagonal N/(N − 1);
exactly the correlation matrix only if both use the same N).

ZCA is PCA whitening followed by the rotation back into the original axes, so its matrix
``W = U Λ^(−1/2) Uᵀ = C^(−1/2)`` is symmetric, and of all the transforms that whiten the data it
keeps the result closest to the (centred) input: it minimizes E‖(x − μ) − z‖² (Bell & Sejnowski
1997; Kessy, Lewin & Strimmer 2018). Whitened images therefore stay images, pixel for pixel;
PCA-whitened data is a list of coordinates along the principal axes instead.

**Fit on train, apply everywhere.** Each class has a scikit-learn interface: ``fit(x_train)``
computes the statistics (the fitted attributes end in ``_``: ``mean_``, ``var_``, ``scale_``,
``components_``, ``explained_variance_``, …, with scikit-learn's names), ``transform(x)`` applies
them to any split without refitting, ``fit_transform`` does both on the training split and
``inverse_transform`` undoes a transform. Fitting on the validation or test split, or on all the
data at once, lets information about those splits leak into the model.

**Near-zero variances.** Some features never vary (the border pixels of scikit-learn's digits are
0 in every image). Dividing by their σ = 0 gives ``nan``. :class:`StandardScaler` does what
scikit-learn's does: a constant feature keeps the scale 1 (it is centred to 0 and left there);
``eps`` adds a small constant to every variance, ``σ = √(σ² + ε)``, as batch normalization does.
Whitening divides by √λ for every direction, and data with constant features or fewer examples
than features has directions with λ = 0: :class:`PCA` (``whiten=True``) and :class:`ZCA` then
refuse to fit with ``eps = 0`` and say so; with ``eps > 0`` they divide by √(λ + ε) instead
(the regularized whitening ``Xrot / np.sqrt(S + 1e-5)`` of the cs231n notes), which damps the
directions of variance below ε rather than blowing them up (the covariance of the output is then
Λ/(Λ + ε), close to I only along directions with λ ≫ ε).

**Precision and devices.** Statistics are computed in float64 (on the input's device; on the
CPU for Apple's MPS, which has no float64) and stored in float64, like scikit-learn's. ``transform``
accepts data on any device: the statistics are moved there, the arithmetic is done in float64, and
the result has the dtype and device of the input.
"""

from __future__ import annotations

import numbers

import torch
from torch import Tensor

from ._checks import describe, finite, flag, integer, real, tensor

__all__ = ["NotFittedError", "covariance", "StandardScaler", "PCA", "ZCA"]

_EPS64 = torch.finfo(torch.float64).eps


class NotFittedError(ValueError, AttributeError):
    """``transform`` (or ``inverse_transform``) called before ``fit``, as scikit-learn's ``NotFittedError``."""


def _stat_device(x: Tensor) -> torch.device:
    """Where float64 statistics can be computed: the input's device, or the CPU for MPS (no float64 there)."""
    return torch.device("cpu") if x.device.type == "mps" else x.device


def _check_data(x, name: str = "x", *, min_samples: int = 1) -> Tensor:
    """A finite floating-point tensor of shape (N, D) with N >= min_samples and D >= 1."""
    tensor(x, name)
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a floating-point tensor of shape (N, D), got dtype {x.dtype}; "
                        f"convert with .float()")
    if x.ndim != 2:
        hint = "; flatten images first with x.flatten(1)" if x.ndim > 2 else ""
        raise ValueError(f"{name} must have shape (N, D): one example per row, one feature per column; "
                         f"got shape {tuple(x.shape)}{hint}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least 1 feature, got shape {tuple(x.shape)}")
    if x.shape[0] < min_samples:
        raise ValueError(f"{name} must have at least {min_samples} example{'s' if min_samples > 1 else ''} "
                         f"(rows) to fit, got shape {tuple(x.shape)}")
    finite(x, name)
    return x


def _as64(x: Tensor) -> Tensor:
    return x.to(device=_stat_device(x), dtype=torch.float64)


def covariance(x: Tensor) -> Tensor:
    """The covariance matrix of the columns of ``x``: ``C = (X − μ)ᵀ (X − μ) / (N − 1)``.

    ``x``: ``(N, D)``, N ≥ 2 → ``(D, D)`` float64 (on ``x``'s device; the CPU for MPS). The
    ``N − 1`` is ``numpy.cov``'s and ``torch.cov``'s default (and what :class:`PCA` uses).
    """
    x = _as64(_check_data(x, min_samples=2))
    xc = x - x.mean(dim=0)
    return xc.T @ xc / (x.shape[0] - 1)


def _sorted_eigh(c: Tensor, n_samples: int) -> tuple[Tensor, Tensor]:
    """Eigenvalues (descending, ≥ 0) and eigenvectors as ROWS ``(D, D)`` of a covariance ``c``.

    Eigenvalues below ``λ_max · max(N, D) · eps64`` (numpy's ``matrix_rank`` tolerance) are
    round-off on a zero-variance direction and are set to exactly 0. Each eigenvector's sign is
    chosen so that its entry of largest magnitude is positive (scikit-learn's ``svd_flip``).
    """
    values, vectors = torch.linalg.eigh(c)                 # ascending; eigenvectors in the COLUMNS
    values, vectors = values.flip(0), vectors.flip(1).T    # descending; eigenvectors in the rows
    tol = values[0].clamp(min=0) * max(n_samples, c.shape[0]) * _EPS64
    values = torch.where(values > tol, values, torch.zeros_like(values))
    biggest = vectors.abs().argmax(dim=1)
    signs = torch.sign(vectors[torch.arange(len(vectors), device=vectors.device), biggest])
    return values, vectors * signs.unsqueeze(1)


class _Transformer:
    """The shared scikit-learn interface: fit / transform / fit_transform / inverse_transform."""

    def _check_fitted(self, action: str) -> None:
        if getattr(self, "n_features_in_", None) is None:
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet: call {name.lower()}.fit(x_train) on the "
                                 f"training split before {action}")

    def _check_input(self, x, action: str) -> Tensor:
        self._check_fitted(action)
        _check_data(x)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"x has {x.shape[1]} features, but this {type(self).__name__} was fitted on "
                             f"{self.n_features_in_} features; got shape {tuple(x.shape)}")
        return x

    @staticmethod
    def _output(result: Tensor, like: Tensor) -> Tensor:
        return result.to(device=like.device, dtype=like.dtype)

    @staticmethod
    def _on(stat: Tensor, like: Tensor) -> Tensor:
        return stat.to(_stat_device(like))

    def fit(self, x: Tensor, y=None) -> "_Transformer":  # pragma: no cover - overridden
        raise NotImplementedError

    def transform(self, x: Tensor) -> Tensor:  # pragma: no cover - overridden
        raise NotImplementedError

    def fit_transform(self, x: Tensor, y=None) -> Tensor:
        """``fit(x)`` then ``transform(x)``: for the TRAINING split only (transform the others)."""
        return self.fit(x).transform(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._params()})"

    def _params(self) -> str:  # pragma: no cover - overridden
        return ""


class StandardScaler(_Transformer):
    """Zero-centring and standardization per feature, fitted on the training split.

    ``x``: ``(N, D)`` → ``(N, D)``:   ``z = (x − μ) / s``   with, from the data given to :meth:`fit`,

    * ``mean_`` μ (D,): the mean of each feature (subtracted when ``with_mean``);
    * ``var_`` σ² (D,): its variance, ``(1/N) Σ (x − μ)²`` (``ddof = 0``, as scikit-learn);
    * ``scale_`` s (D,): ``√(σ² + eps)`` (divided by when ``with_std``); a constant feature (σ² = 0
      up to round-off, scikit-learn's test) gets ``s = 1`` when ``eps = 0``.

    ``with_mean=True, with_std=False`` is plain zero-centring. The same arguments, defaults and
    fitted attributes as ``sklearn.preprocessing.StandardScaler`` (without ``copy``: nothing is
    changed in place), plus ``eps``. ``n_features_in_`` and ``n_samples_seen_`` are set by ``fit``.
    """

    def __init__(self, *, with_mean: bool = True, with_std: bool = True, eps: float = 0.0) -> None:
        self.with_mean = flag(with_mean, "with_mean")
        self.with_std = flag(with_std, "with_std")
        self.eps = real(eps, "eps", low=0.0)
        self.mean_: Tensor | None = None
        self.var_: Tensor | None = None
        self.scale_: Tensor | None = None
        self.n_features_in_: int | None = None
        self.n_samples_seen_: int | None = None

    def _params(self) -> str:
        return f"with_mean={self.with_mean}, with_std={self.with_std}, eps={self.eps:g}"

    def fit(self, x: Tensor, y=None) -> "StandardScaler":
        """Compute ``mean_``, ``var_``, ``scale_`` from ``x`` (N, D), the training split; returns ``self``."""
        x64 = _as64(_check_data(x))
        n = x64.shape[0]
        mean = x64.mean(dim=0)
        var = ((x64 - mean) ** 2).mean(dim=0)
        # scikit-learn's test for a constant feature (sklearn.preprocessing._data._is_constant_feature)
        constant = var <= n * _EPS64 * var + (n * mean * _EPS64) ** 2
        var = torch.where(constant, torch.zeros_like(var), var)
        scale = torch.sqrt(var + self.eps)
        scale = torch.where(scale == 0, torch.ones_like(scale), scale)
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        self.scale_ = scale if self.with_std else None
        self.n_features_in_, self.n_samples_seen_ = x64.shape[1], n
        return self

    def transform(self, x: Tensor) -> Tensor:
        """``z = (x − mean_) / scale_`` with the fitted statistics (no refitting). ``(M, D)`` → ``(M, D)``."""
        self._check_input(x, "transform")
        z = _as64(x)
        if self.with_mean:
            z = z - self._on(self.mean_, x)
        if self.with_std:
            z = z / self._on(self.scale_, x)
        return self._output(z, x)

    def inverse_transform(self, z: Tensor) -> Tensor:
        """``x = z · scale_ + mean_``: back to the original units. ``(M, D)`` → ``(M, D)``."""
        self._check_input(z, "inverse_transform")
        x = _as64(z)
        if self.with_std:
            x = x * self._on(self.scale_, z)
        if self.with_mean:
            x = x + self._on(self.mean_, z)
        return self._output(x, z)


def _zero_variance_error(name: str, n_zero: int, d: int, eps_hint: str, kept: str = "") -> ValueError:
    return ValueError(f"{name}: {n_zero} of the {d} directions{kept} have zero variance (constant features, or "
                      f"fewer examples than features), and whitening divides by the square root of each "
                      f"variance; pass eps > 0 (it divides by sqrt(variance + eps) instead){eps_hint}")


class PCA(_Transformer):
    """Principal component analysis, optionally whitening, fitted on the training split.

    ``x``: ``(N, D)`` → ``(N, k)``:   ``z = (x − μ) Vᵀ``,  and with ``whiten=True``
    ``z = (x − μ) Vᵀ diag(1 / √(λ + eps))``, where from the data given to :meth:`fit`

    * ``mean_`` μ (D,);
    * ``components_`` V (k, D): the eigenvectors of the covariance C (:func:`covariance`, ``N − 1``)
      as ROWS, by decreasing eigenvalue; each one's largest-magnitude entry is positive;
    * ``explained_variance_`` λ (k,): their eigenvalues, the variance of the data along each;
      ``explained_variance_ratio_`` λ / trace(C); ``singular_values_`` √(λ (N − 1));
    * ``n_components_`` k: ``n_components`` if an int, the smallest k explaining at least that
      fraction of the variance if a float in (0, 1), ``min(N, D)`` if None.

    Same arguments, defaults, transform and fitted attributes as ``sklearn.decomposition.PCA``
    (``n_components``, ``whiten``; without ``copy`` and the solver options: the covariance is
    diagonalized with ``torch.linalg.eigh`` in float64), plus ``eps`` for whitening. The
    whitened training data has covariance I (with ``eps = 0``). ``inverse_transform`` maps back to
    ``(N, D)``: exactly when k = D, the projection onto the k components otherwise.
    """

    def __init__(self, n_components: int | float | None = None, *, whiten: bool = False, eps: float = 0.0) -> None:
        if n_components is not None:
            if isinstance(n_components, bool) or not isinstance(n_components, numbers.Real):
                raise TypeError(f"n_components must be None, an int >= 1 (how many components) or a float in "
                                f"(0, 1) (the fraction of variance to keep), got {describe(n_components)}")
            if isinstance(n_components, numbers.Integral):
                n_components = integer(n_components, "n_components", low=1)
            else:
                n_components = real(n_components, "n_components (a fraction of the variance)", low=0.0,
                                    high=1.0, low_open=True, high_open=True)
        self.n_components = n_components
        self.whiten = flag(whiten, "whiten")
        self.eps = real(eps, "eps", low=0.0)
        self.mean_: Tensor | None = None
        self.components_: Tensor | None = None
        self.explained_variance_: Tensor | None = None
        self.explained_variance_ratio_: Tensor | None = None
        self.singular_values_: Tensor | None = None
        self.n_components_: int | None = None
        self.n_features_in_: int | None = None
        self.n_samples_: int | None = None

    def _params(self) -> str:
        return f"n_components={self.n_components!r}, whiten={self.whiten}, eps={self.eps:g}"

    def fit(self, x: Tensor, y=None) -> "PCA":
        """Compute ``mean_``, ``components_``, ``explained_variance_``, … from ``x`` (N, D); returns ``self``."""
        x64 = _as64(_check_data(x, min_samples=2))
        n, d = x64.shape
        k_max = min(n, d)
        if isinstance(self.n_components, int) and self.n_components > k_max:
            raise ValueError(f"n_components={self.n_components} must be at most min(n_samples, n_features) = "
                             f"min({n}, {d}) = {k_max}")
        mean = x64.mean(dim=0)
        xc = x64 - mean
        values, vectors = _sorted_eigh(xc.T @ xc / (n - 1), n)
        total = values.sum()
        ratio = values / total if total > 0 else torch.zeros_like(values)
        if self.n_components is None:
            k = k_max
        elif isinstance(self.n_components, int):
            k = self.n_components
        else:  # the smallest k whose cumulative ratio reaches the fraction (scikit-learn's rule)
            k = int(torch.searchsorted(ratio.cumsum(0), torch.tensor(self.n_components, dtype=torch.float64,
                                                                      device=ratio.device), right=True)) + 1
            k = min(k, k_max)
        values, vectors, ratio = values[:k], vectors[:k], ratio[:k]
        if self.whiten and self.eps == 0 and bool((values == 0).any()):
            raise _zero_variance_error("PCA(whiten=True)", int((values == 0).sum()), k,
                                       ", or keep fewer components (n_components)", kept=" kept")
        self.mean_, self.components_ = mean, vectors
        self.explained_variance_, self.explained_variance_ratio_ = values, ratio
        self.singular_values_ = torch.sqrt(values * (n - 1))
        self.n_components_, self.n_features_in_, self.n_samples_ = k, d, n
        return self

    def _whitening_scale(self, like: Tensor) -> Tensor:
        return self._on(torch.sqrt(self.explained_variance_ + self.eps), like)

    def transform(self, x: Tensor) -> Tensor:
        """``z = (x − mean_) components_ᵀ`` (÷ √(λ + eps) when whitening). ``(M, D)`` → ``(M, k)``."""
        self._check_input(x, "transform")
        z = (_as64(x) - self._on(self.mean_, x)) @ self._on(self.components_, x).T
        if self.whiten:
            z = z / self._whitening_scale(x)
        return self._output(z, x)

    def inverse_transform(self, z: Tensor) -> Tensor:
        """``x = z (· √(λ + eps)) components_ + mean_``. ``(M, k)`` → ``(M, D)``."""
        self._check_fitted("inverse_transform")
        _check_data(z, "z")
        if z.shape[1] != self.n_components_:
            raise ValueError(f"z has {z.shape[1]} columns, but this PCA keeps {self.n_components_} components "
                             f"(inverse_transform takes the output of transform); got shape {tuple(z.shape)}")
        z64 = _as64(z)
        if self.whiten:
            z64 = z64 * self._whitening_scale(z)
        x = z64 @ self._on(self.components_, z) + self._on(self.mean_, z)
        return self._output(x, z)


class ZCA(_Transformer):
    """ZCA ("zero-phase") whitening: PCA whitening rotated back into the original axes.

    ``x``: ``(N, D)`` → ``(N, D)``:   ``z = (x − μ) W``,   ``W = Vᵀ diag(1 / √(λ + eps)) V``
    ``= C^(−1/2)`` for ``eps = 0``, with V and λ all D eigenvectors (rows) and eigenvalues of the
    covariance C of the training data, exactly as in ``PCA(whiten=True, eps=eps)``. When the
    training data has N ≥ D rows, ``transform(x)`` equals
    ``PCA(whiten=True, eps=eps).fit(x_train).transform(x) @ components_``; with N < D, PCA keeps
    only min(N, D) components while ZCA keeps all D (with ``eps > 0``), so the two differ.

    Fitted attributes: ``mean_`` (D,), ``components_`` V (D, D), ``explained_variance_`` λ (D,),
    ``whitening_matrix_`` W (D, D, symmetric) and ``n_features_in_``. The whitened training data
    has covariance I (``eps = 0``); with ``eps > 0``, V diag(λ / (λ + eps)) Vᵀ. scikit-learn has no
    ZCA; the arguments follow :class:`PCA`'s.
    """

    def __init__(self, *, eps: float = 0.0) -> None:
        self.eps = real(eps, "eps", low=0.0)
        self.mean_: Tensor | None = None
        self.components_: Tensor | None = None
        self.explained_variance_: Tensor | None = None
        self.whitening_matrix_: Tensor | None = None
        self.n_features_in_: int | None = None

    def _params(self) -> str:
        return f"eps={self.eps:g}"

    def fit(self, x: Tensor, y=None) -> "ZCA":
        """Compute ``mean_``, ``components_``, ``explained_variance_``, ``whitening_matrix_``; returns ``self``."""
        x64 = _as64(_check_data(x, min_samples=2))
        n, d = x64.shape
        mean = x64.mean(dim=0)
        xc = x64 - mean
        values, vectors = _sorted_eigh(xc.T @ xc / (n - 1), n)   # all D directions, rows of `vectors`
        if self.eps == 0 and bool((values == 0).any()):
            raise _zero_variance_error("ZCA", int((values == 0).sum()), d, "")
        root = torch.sqrt(values + self.eps)
        self.mean_, self.components_, self.explained_variance_ = mean, vectors, values
        self.whitening_matrix_ = vectors.T @ (vectors / root.unsqueeze(1))       # Vᵀ diag(1/√(λ+ε)) V
        self._dewhitening = vectors.T @ (vectors * root.unsqueeze(1))           # its inverse
        self.n_features_in_ = d
        return self

    def transform(self, x: Tensor) -> Tensor:
        """``z = (x − mean_) W`` with the fitted ``W = whitening_matrix_`` (no refitting). ``(M, D)`` → ``(M, D)``."""
        self._check_input(x, "transform")
        z = (_as64(x) - self._on(self.mean_, x)) @ self._on(self.whitening_matrix_, x)
        return self._output(z, x)

    def inverse_transform(self, z: Tensor) -> Tensor:
        """``x = z W⁻¹ + mean_``,  ``W⁻¹ = Vᵀ diag(√(λ + eps)) V``. ``(M, D)`` → ``(M, D)``."""
        self._check_input(z, "inverse_transform")
        x = _as64(z) @ self._on(self._dewhitening, z) + self._on(self.mean_, z)
        return self._output(x, z)
