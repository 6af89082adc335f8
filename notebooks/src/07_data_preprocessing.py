# %% [markdown]
# # 07 · Data preprocessing
#
# **Learning objectives.** After this notebook you can
# 1. **apply** zero-centring and standardization with statistics **fitted on the training split only**, and explain why
#    the validation and test splits are transformed, never refitted, and **measure** what fitting on all the data does to
#    a test metric (little for an unsupervised scaler on many examples, a lot for a fit that uses the labels);
# 2. **compute** PCA from the eigendecomposition of the covariance matrix, and **implement** PCA and ZCA whitening,
#    including the $\varepsilon$ that keeps constant features from dividing by zero;
# 3. **verify** that whitened data has identity covariance and that ZCA is the whitening closest to the original data;
# 4. **explain** with the condition number of $X^\top X$ why features on very different scales make a long, narrow loss
#    valley, and **measure** how many more gradient steps the raw features cost, for linear models and for an MLP.
#
# *Lecture:* "How to Train ConvNets" (Stephen Baek: data normalization and whitening, zero-centred inputs, standard
# normalization, PCA whitening, and preprocessing as the first step of the training recipe), "Regularization" (Computer
# Vision: the $N \times D$ data matrix, a loss that is hard to optimize before normalization and easier after, mean-image
# subtraction). *Runs in:* about 15 s on one CPU core (fast profile).

# %% {"tags": ["colab"]}
# Google Colab only (detected, not assumed): install course_lib and the packages Colab lacks,
# about a minute once per session. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import importlib
    import subprocess
    REPOSITORY = ""  # the course's public git address (pyproject.toml: [project.urls])
    if not REPOSITORY:
        raise RuntimeError("this copy of the course names no public repository to install course_lib from "
                           "(pyproject.toml, [project.urls] Repository). Upload the course folder to Colab "
                           "and run: pip install '<folder>[colab]'")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"course_lib[colab] @ git+{REPOSITORY}"],
                   check=True)
    importlib.invalidate_caches()

# %% [markdown]
# ## Set-up
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches the image part to MNIST and runs the
# conditioning experiment on more seeds (see the README).

# %%
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_wine

from course_lib import fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.data import Split
from course_lib.training import DivergenceWarning
from course_lib.exercises import ex07 as ex
from course_lib.preprocessing import PCA, ZCA, StandardScaler, covariance

ctx = setup_notebook(seed=0)
IMAGES = ctx.pick(fast="digits", full="mnist")        # the image data set of sections 4, 5 and 8
N_IMAGES = ctx.pick(fast=None, full=10_000)          # training images used for the statistics (None: all)
SEEDS = ctx.pick(fast=[0, 1], full=[0, 1, 2])       # seeds of the leak, conditioning and MLP experiments
N_MLP = ctx.pick(fast=None, full=10_000)             # training images of the MLP runs of section 8 (None: all)
COLORS = {"raw": "C3", "centred": "C1", "standardized": "C2", "whitened": "C0"}

# %% [markdown]
# ## 1. Why preprocess the inputs?
# A unit computes $f(\sum_i w_i x_i + b)$, and the gradient of the loss with respect to $w_i$ is $x_i$ times one number shared by
# all the inputs of the unit. When every $x_i \ge 0$ (raw pixels, prices, counts), the gradient of one example moves all the
# $w_i$ of a unit in the same direction, and reaching a weight vector with mixed signs takes a zig-zag: the lecture's argument
# for **zero-centred** data (the same one as for zero-centred activations, notebook 06). This is exact for a batch of one
# example only: a mini-batch sums the per-example gradients, whose shared factors can differ in sign, so the update's signs
# can differ too (the cs231n notes: batching is "somewhat mitigating this issue"). What batching does not remove is the
# second effect: data far from the origin, or features on very different scales, make the loss far more sensitive to
# some weight directions than to others, and no single learning rate suits both (section 6 makes this precise with the
# condition number of $X^\top X$). That is the lecture's picture "before normalization the loss is very sensitive to
# small changes in the weight matrix" (Regularization / CNNs: Practicalities) in the language of conditioning: a large
# eigenvalue of the Hessian $X^\top X / N$ means a small step along its direction changes the loss a lot.

# %% [markdown]
# ### The transforms
# Preprocessing uses statistics of the data $X \in \mathbb{R}^{N \times D}$ (one example per row):
#
# | transform | $x \mapsto$ | covariance afterwards |
# | --- | --- | --- |
# | zero-centring | $x - \mu$ | $C$ |
# | standardization | $(x - \mu) / \sigma$ (per feature) | $\approx$ the correlation matrix |
# | PCA (decorrelation) | $(x - \mu)\, U$ | $\Lambda$ (diagonal) |
# | PCA whitening | $(x - \mu)\, U \Lambda^{-1/2}$ | $I$ |
# | ZCA whitening | $(x - \mu)\, U \Lambda^{-1/2} U^\top$ | $I$ |
#
# with $\mu$ the mean of each feature, $\sigma$ its standard deviation, and $C = \frac{1}{N-1}(X-\mu)^\top(X-\mu) = U \Lambda U^\top$
# the covariance matrix and its eigendecomposition (eigenvectors in the columns of $U$). ($\approx$: $\sigma$ is the population
# standard deviation, divided by $N$ as in scikit-learn, while $C$ divides by $N - 1$, so the covariance of standardized data is
# $\frac{N}{N-1}$ times the correlation matrix.) **Min-max scaling**, $(x - \min x) / (\max x - \min x)$ per feature, maps
# each feature to $[0, 1]$ (the lecture lists minimum and maximum among the statistics to look at, How to Train ConvNets):
# enough for images, whose pixels already share a range (the course's loaders give pixels in $[0, 1]$), but it neither
# centres the data nor protects against one outlier squeezing every other value into a corner of the range;
# standardization does the first and is less sensitive to the second.

# %% [markdown]
# ## 2. Zero-centring and standardization on 2-D data
# `course_lib.preprocessing.StandardScaler` works like scikit-learn's: `fit` computes the statistics, `transform` applies them,
# on torch tensors (statistics in float64):

# %% {"tags": ["listing"]}
show_source(StandardScaler)

# %%
# NBVAL_CHECK_OUTPUT
g = ctx.rng(0)
angle = math.radians(30)
rotation = torch.tensor([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]], dtype=torch.float64)
points = torch.randn(500, 2, generator=g, dtype=torch.float64) * torch.tensor([3.0, 0.6], dtype=torch.float64) @ rotation
points = points + torch.tensor([6.0, 4.0], dtype=torch.float64)   # float64, so identities hold to ~1e-15
scaler = StandardScaler().fit(points)
print(scaler)
print("mean_ =", [round(v, 2) for v in scaler.mean_.tolist()], "  scale_ =", [round(v, 2) for v in scaler.scale_.tolist()])
print(f"correlation of the two features: {torch.corrcoef(points.T)[0, 1].item():.2f}")
centred = StandardScaler(with_std=False).fit_transform(points)
normalized = scaler.transform(points)

# %% [markdown]
# ### Original, zero-centred, normalized
# Colour marks each point's position along the cloud, so you can follow it from panel to panel.

# %% {"tags": ["plot"]}
def scatter_panels(panels, title, colour, limit=None):
    """One scatter plot per (name, data, axis name) triple, equal axes through the origin; one figure."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 4.4))
    for ax, (name, data, axis) in zip(axes, panels):
        data = data.cpu()
        ax.scatter(data[:, 0], data[:, 1], c=colour, cmap="coolwarm", s=9, alpha=0.8)
        ax.axhline(0, color="k", lw=0.8)
        ax.axvline(0, color="k", lw=0.8)
        lim = limit or 1.1 * data.abs().max().item()
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=name, xlabel=f"{axis} 1", ylabel=f"{axis} 2")
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


colour = PCA(1).fit_transform(points)[:, 0]   # each point's coordinate along the cloud's main axis
scatter_panels([("original", points, "feature"), ("zero-centred: x − μ", centred, "feature"),
                ("normalized: (x − μ) / σ", normalized, "feature")],
               "Zero-centring moves the cloud to the origin; standardization gives each feature variance 1", colour)

# %% [markdown]
# Standardization rescales each feature on its own: the cloud is still tilted, its two features still correlated
# (standardization keeps the correlation: 0.90 here, 0.89–0.91 on the other seeds we tried). To remove the correlation we need the directions of the cloud.

# %% [markdown]
# ## 3. PCA, PCA whitening and ZCA whitening
# The eigenvectors of the covariance matrix $C = U \Lambda U^\top$ are the axes of the cloud, the eigenvalues $\lambda_1 \ge
# \lambda_2 \ge \dots$ its variance along each. Rotating onto them **decorrelates** the data (PCA); dividing each coordinate by
# $\sqrt{\lambda_k}$ **whitens** it (covariance $I$); rotating back with $U^\top$ gives **ZCA** whitening, the whitened data
# that stays as close as possible to the original. `course_lib`'s `PCA` has scikit-learn's interface and attributes
# (`components_` holds the eigenvectors as **rows**, i.e. $U^\top$; `explained_variance_` the $\lambda_k$); `ZCA` is PCA
# whitening rotated back:

# %% {"tags": ["listing"]}
show_source(PCA.fit)
show_source(PCA.transform)
show_source(ZCA.fit)

# %%
# NBVAL_CHECK_OUTPUT
pca = PCA().fit(points)
decorrelated = pca.transform(points)
pca_white = PCA(whiten=True).fit_transform(points)
zca = ZCA().fit(points)
zca_white = zca.transform(points)
print("components_ (rows):", np.round(pca.components_.numpy(), 3).tolist())
print("explained_variance_:", np.round(pca.explained_variance_.numpy(), 3).tolist())
print("ZCA whitening matrix W (symmetric):", np.round(zca.whitening_matrix_.numpy(), 3).tolist())

# %% [markdown]
# ### Decorrelated, PCA-whitened, ZCA-whitened
# The first two panels are coordinates along the principal components; ZCA rotates back to the original features.

# %% {"tags": ["plot"]}
scatter_panels([("decorrelated: (x − μ) U", decorrelated, "component"),
                ("PCA-whitened: (x − μ) U Λ^(−1/2)", pca_white, "component"),
                ("ZCA-whitened: … U Λ^(−1/2) Uᵀ", zca_white, "feature")],
               "PCA rotates onto the axes of the cloud; whitening makes it round", colour)

# %% [markdown]
# ### Checking the claim: whitened data has identity covariance
# This is an identity, not an experiment: $\operatorname{cov}(X_c U \Lambda^{-1/2}) = \Lambda^{-1/2} U^\top C U \Lambda^{-1/2} =
# \Lambda^{-1/2} \Lambda \Lambda^{-1/2} = I$, and the same with $U^\top$ on both sides for ZCA. We assert it to float precision.
# We also check ZCA's defining property: $W = U\Lambda^{-1/2}U^\top$ is symmetric, and among all whitenings (any rotation $Q$ of
# a whitened cloud is still white) ZCA's output is the closest to the centred data.

# %%
eye = torch.eye(2, dtype=torch.float64)
for name, white in [("PCA", pca_white), ("ZCA", zca_white)]:
    error = (covariance(white) - eye).abs().max().item()
    print(f"{name}-whitened: max |cov - I| = {error:.1e}")
    assert error < 1e-12
x_c = points.double() - zca.mean_
distance = lambda z: ((x_c - z.double()) ** 2).sum(1).mean().item()  # noqa: E731
angles = torch.linspace(0, 2 * math.pi, 73)[1:-1]
rotated = [zca_white.double() @ torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]],
                                             dtype=torch.float64) for a in angles.tolist()]
print(f"mean squared distance to the centred data: ZCA {distance(zca_white):.3f}, PCA-whitened {distance(pca_white):.3f}, "
      f"best of 71 other rotations {min(map(distance, rotated)):.3f}")
assert torch.allclose(zca.whitening_matrix_, zca.whitening_matrix_.T, atol=1e-12)
assert distance(zca_white) < min(distance(pca_white), min(map(distance, rotated)))

# %% [markdown]
# ## 4. Images: the mean image, eigen-digits and ZCA
# Pixels are features too. The lecture's practice for images: subtract the **mean image** (computed on the training images);
# dividing by the per-pixel standard deviation is less common, since all pixels already share one scale. We use the
# fast profile's scikit-learn 8×8 digits (the full profile: MNIST, 28×28), pixels in $[0, 1]$, **fit on the training split
# only**, and flatten each image into a row of $D$ features (`x.flatten(1)`; the cell prints the shapes).

# %%
# NBVAL_CHECK_OUTPUT
images = load_dataset(IMAGES, seed=0)
n_images = len(images.train) if N_IMAGES is None else min(N_IMAGES, len(images.train))
train_images = images.train.subset(n_images, generator=ctx.rng(0)).x if n_images < len(images.train) else images.train.x
side = train_images.shape[-1]
x_train, x_test = train_images.flatten(1), images.test.x.flatten(1)
pixel_scaler = StandardScaler().fit(x_train)
constant = pixel_scaler.var_ == 0
print(f"{IMAGES}: x_train {tuple(x_train.shape)}, x_test {tuple(x_test.shape)}")
print(f"pixels that are constant in every training image: {int(constant.sum())}, value(s) "
      f"{sorted(set(pixel_scaler.mean_[constant].tolist()))}, their scale_: {sorted(set(pixel_scaler.scale_[constant].tolist()))}")
assert torch.isfinite(pixel_scaler.transform(x_test)).all()

# %% [markdown]
# Some border pixels are 0 in every training image: their standard deviation is 0, and $(x - \mu)/\sigma$ would be $0/0 =$
# `nan`. `StandardScaler` does what scikit-learn's does: a constant feature keeps the scale 1 (it is centred to 0 and left
# there); `StandardScaler(eps=...)` instead adds $\varepsilon$ to every variance, as batch normalization does (notebook 09).

# %% [markdown]
# ### The mean image and the per-pixel standard deviation

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(8.5, 4.2))
for ax, (name, values) in zip(axes, [("mean image μ", pixel_scaler.mean_), ("per-pixel std σ", pixel_scaler.scale_.where(~constant, 0))]):
    shown = ax.imshow(values.reshape(side, side).numpy(), cmap="gray")
    ax.set(title=name, xticks=[], yticks=[])
    fig.colorbar(shown, ax=ax, fraction=0.046)
fig.suptitle("Training-split statistics (black σ: the constant pixels)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Eigen-digits: the principal components as images
# Each row of `components_` is a direction in pixel space, so it can be drawn as an image: a pattern of pixels that tend to
# be bright together (red) while others are dark (blue). How many components explain half, 90 % and 99 % of the pixel
# variance (of the $D$ directions; the numbers depend on the data set, so the cell prints them):

# %%
# NBVAL_CHECK_OUTPUT
image_pca = PCA().fit(x_train)
cumulative = image_pca.explained_variance_ratio_.cumsum(0)
for level in (0.5, 0.9, 0.99):
    print(f"{level:.0%} of the pixel variance: {int((cumulative < level).sum()) + 1} of {x_train.shape[1]} components")
print("directions with zero variance:", int((image_pca.explained_variance_ == 0).sum()))

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(2, 6, figsize=(11, 4.4))
for k, ax in enumerate(axes.flat):
    component = image_pca.components_[k].reshape(side, side)
    limit = component.abs().max().item()
    ax.imshow(component.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set(xticks=[], yticks=[], title=f"#{k + 1}: {image_pca.explained_variance_ratio_[k].item():.1%}")
fig.suptitle("The first 12 principal components (red +, blue −) and their share of the variance")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Whitening images: where $\varepsilon$ matters
# Whitening divides by $\sqrt{\lambda_k}$ for every direction, and the constant pixels give directions with $\lambda = 0$
# (see the count above): plain whitening of all $D$ directions is a division by zero, and `PCA(whiten=True)` and `ZCA()` refuse
# it with a message. Two ways out: keep only the directions that vary (`n_components`; we keep those with a variance above
# $10^{-6}$ of the largest, since whitening a direction of round-off-sized variance magnifies the round-off), or divide by
# $\sqrt{\lambda_k + \varepsilon}$. The first gives an exact identity covariance; the second gives $\Lambda / (\Lambda + \varepsilon)$, close to
# 1 along directions with $\lambda \gg \varepsilon$ and damped below that, which also keeps pixel noise from being amplified.

# %%
try:
    ZCA().fit(x_train)
except ValueError as error:
    print("ZCA() refuses:", error)
lam_all = image_pca.explained_variance_
k_varying = int((lam_all > 1e-6 * lam_all[0]).sum())   # directions that clearly vary
white_train = PCA(n_components=k_varying, whiten=True).fit_transform(x_train.double())
error = (covariance(white_train) - torch.eye(k_varying, dtype=torch.float64)).abs().max().item()
print(f"PCA-whitened training images, {k_varying} components: max |cov - I| = {error:.1e}")
assert error < 1e-9
zca_images = {eps: ZCA(eps=eps).fit(x_train) for eps in (1e-2, 1e-1)}
lam, v = zca_images[1e-1].explained_variance_, zca_images[1e-1].components_
assert torch.allclose(covariance(zca_images[1e-1].transform(x_train.double())), v.T @ torch.diag(lam / (lam + 1e-1)) @ v,
                      atol=1e-9)
print(f"total pixel variance {lam.sum().item():.2f}, largest eigenvalue {lam[0].item():.3f}")
for eps in sorted(zca_images, reverse=True):
    print(f"eps = {eps:g}: {int((lam > eps).sum())} of {len(lam)} eigenvalues exceed eps (whitened almost fully), "
          f"{int((lam < eps / 10).sum())} are below eps / 10 (kept at less than a tenth of their variance)")

# %% [markdown]
# ### Regularized whitening: the variance left along each component
# Along component $k$ the output variance is $\lambda_k / (\lambda_k + \varepsilon)$: about 1 (fully whitened) where
# $\lambda_k \gg \varepsilon$, about $\lambda_k / \varepsilon$ (damped, not amplified) where $\lambda_k \ll \varepsilon$. The counts above
# say how strongly each $\varepsilon$ regularizes: only the directions above it are really whitened, and where few are,
# the output's covariance is far from $I$. Lowering $\varepsilon$ whitens more of the faint directions, which is where pixel noise lives.

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(9, 4.4))
for (eps, z), colour_ in zip(sorted(zca_images.items(), reverse=True), ["C0", "C1"]):
    ax.plot(torch.arange(1, len(lam) + 1).numpy(), (lam / (lam + eps)).numpy(), "o-", ms=3, color=colour_,
            label=f"ε = {eps:g}: {int((lam > eps).sum())} of {len(lam)} above ε")
ax.axhline(0.5, color="grey", ls=":", label="λ = ε")
ax.set(xscale="log", xlabel="principal component k (by decreasing variance)", ylabel="variance after whitening",
       title="λ / (λ + ε): the top components are whitened, the faint ones damped")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ### ZCA-whitened digits
# ZCA keeps each pixel where it was, so whitened images are still images (PCA-whitened data is a list of coordinates along
# the components, not an image). Below: eight test images, transformed with the statistics of the **training** split;
# each image is scaled to its own range for display (grey = 0). The large bright and dark blobs of the centred images,
# which many digits share (the first components), are toned down, and the edges of the strokes stand out. With the
# smaller $\varepsilon$ the faint directions get more weight and the pictures get noisier. On the fast profile's 8×8 digits
# the two rows differ little and several digits are hard to read in both: the figure shows what ZCA does to an image, not
# that it keeps every digit recognizable; the effect of $\varepsilon$ is clearer in the curve above than in tiny images.

# %% {"tags": ["plot"]}
shown = x_test[:8]
rows = [("test images", shown), ("centred x − μ", shown - pixel_scaler.mean_.float())]
rows += [(f"ZCA, ε = {eps:g}", z.transform(shown)) for eps, z in sorted(zca_images.items(), reverse=True)]
fig, axes = plt.subplots(len(rows), len(shown), figsize=(10, 5.6))
for r, (name, batch) in enumerate(rows):
    for c in range(len(shown)):
        limit = batch[c].abs().max().item()
        axes[r, c].imshow(batch[c].reshape(side, side).numpy(), cmap="gray", vmin=0 if r == 0 else -limit, vmax=limit)
        axes[r, c].set(xticks=[], yticks=[])
    axes[r, 0].set_ylabel(name)
fig.suptitle("ZCA-whitened test digits are still images, with the blobs many digits share toned down")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Statistics come from the training split only
# `transform` never refits: validation and test images are centred with the **training** mean, so they are not exactly
# centred themselves, and that is right. At deployment there is no "test mean" to compute, and the test split stands for
# data the model has never seen: its accuracy estimates the accuracy on new data only if nothing about it, its labels
# least of all, shaped the model. The mistake is fitting the preprocessing on **all the data** (or on train + test) before
# splitting. How much it changes a test metric depends on what the fit learns. First the scaler and PCA of section 4,
# fitted on the training split or on all the images, followed by the same classifier (ridge regression on one-hot labels,
# trained on the training split), on every seed:

# %% {"tags": ["listing"]}
def ridge_accuracy(z_train, y_train, z_test, y_test, n_classes, lam=1.0):
    """Fit ridge regression from features (plus a bias column) to one-hot labels on the training split,
    in float64, and return the test accuracy of its argmax."""
    ones = lambda z: torch.cat([z.double(), torch.ones(len(z), 1, dtype=torch.float64)], 1)  # noqa: E731
    a, b = ones(z_train), ones(z_test)
    w = torch.linalg.solve(a.T @ a + lam * torch.eye(a.shape[1], dtype=torch.float64),
                           a.T @ F.one_hot(y_train, n_classes).double())
    return ((b @ w).argmax(1) == y_test).double().mean().item()


def scaler_pca_accuracy(fit_on, split, k=20):
    """StandardScaler then PCA(k), both fitted on `fit_on`; the ridge classifier's test accuracy."""
    scaler_ = StandardScaler().fit(fit_on)
    pca_ = PCA(k).fit(scaler_.transform(fit_on))
    z = lambda x: pca_.transform(scaler_.transform(x.flatten(1).double()))  # noqa: E731
    return ridge_accuracy(z(split.train.x), split.train.y, z(split.test.x), split.test.y, split.num_classes)


# %%
leak = {}
for seed in SEEDS:
    data = images if seed == 0 else load_dataset(IMAGES, seed=seed)
    own = data.train.x.flatten(1).double()
    every = torch.cat([own, data.val.x.flatten(1).double(), data.test.x.flatten(1).double()])
    leak[seed] = (scaler_pca_accuracy(own, data), scaler_pca_accuracy(every, data))
    print(f"seed {seed}: test accuracy, scaler + PCA fitted on the training split {leak[seed][0]:.3f}, on all the "
          f"data {leak[seed][1]:.3f}: {round((leak[seed][1] - leak[seed][0]) * len(data.test)):+d} of {len(data.test)} "
          "test images")
ctx.claim(max(abs(b - a) for a, b in leak.values()), "<", 0.025,
          "an unsupervised fit on all the data should change the test accuracy by less than 2.5 points here")

# %% [markdown]
# ### A small effect here, and where it is large
# With many more training images than pixels, the test images hardly move the mean, the variances or the top components,
# and the test accuracy changes by a few test images, up or down (printed above): here the leak is real but small, and
# the reported number is still a fair estimate. It grows when the fit learns more from the extra rows, above all when
# the fit **uses the labels** and there are many features and few examples. The classic case (Hastie, Tibshirani and Friedman,
# *The Elements of Statistical Learning*, "the wrong way to do cross-validation"): pure noise, 2000 features, 100
# examples with random labels, and a preprocessing step that keeps the 20 features most correlated with the label,
# selected on all the data or on the training half only; then the same ridge classifier, on 20 draws per seed:

# %% {"tags": ["listing"]}
def selection_leak(seed, n=100, d=2000, keep=20, draws=20):
    """Mean test accuracy on pure noise with random labels, the features selected on the training half or on all."""
    g, accuracy = ctx.rng(seed), {"training half": [], "all the data": []}
    for _ in range(draws):
        x = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randint(0, 2, (n,), generator=g)
        train, test = slice(0, n // 2), slice(n // 2, n)
        for name, rows in [("training half", train), ("all the data", slice(0, n))]:
            xc, yc = x[rows] - x[rows].mean(0), y[rows].double() - y[rows].double().mean()
            chosen = ((xc * yc[:, None]).sum(0).abs() / xc.norm(dim=0)).topk(keep).indices   # |correlation| up to 1/|yc|
            accuracy[name].append(ridge_accuracy(x[train][:, chosen], y[train], x[test][:, chosen], y[test], 2))
    return {name: sum(a) / len(a) for name, a in accuracy.items()}


# %%
selection = {seed: selection_leak(seed) for seed in SEEDS}
for seed, acc in selection.items():
    print(f"seed {seed}: test accuracy on noise (chance 0.5), features selected on "
          + ", on ".join(f"{name} {value:.2f}" for name, value in acc.items()))
honest = sum(a["training half"] for a in selection.values()) / len(selection)
leaked = sum(a["all the data"] for a in selection.values()) / len(selection)
ctx.claim(leaked - honest, ">", 0.15, "selecting features with the test labels should raise the test accuracy on "
          f"noise far above chance ({honest:.2f} -> {leaked:.2f})")
ctx.claim(abs(honest - 0.5), "<", 0.1, f"the honest pipeline should stay at chance on noise ({honest:.2f})")

# %% [markdown]
# Selected on the training half, the features are noise and the accuracy stays at chance (0.47 to 0.51 on every kernel
# set and seed offset we tried); selected with the test labels, the same pipeline reports about 0.8 on data with nothing
# to learn. The unsupervised fit above is the
# mild form of the same mistake. (A separate question is **refitting on the test split**, normalizing the test data with
# its own statistics. Say the test images came from a scanner with a grey background: the training-split scaler shows
# the shift, a refit on the test split hides it. Whether hiding it is harmful is debatable: renormalizing with test
# statistics is a known test-time adaptation that can raise the accuracy under a shift, but it needs a batch of test data
# and changes the inputs the model was trained on. The rule "fit on train, transform elsewhere" is the default.)

# %%
# NBVAL_CHECK_OUTPUT
print(f"test split after the training-split scaler: mean of its pixels {pixel_scaler.transform(x_test).mean().item():+.3f} (not 0, correctly)")
shifted = x_test.clamp(min=0.1)  # say the test images come from a scanner with a grey background
print(f"mean of the shifted test pixels, scaler fitted on train: {pixel_scaler.transform(shifted).mean().item():+.3f}; "
      f"refitted on the test split itself: {StandardScaler().fit_transform(shifted).mean().item():+.3f} (the shift is hidden)")

# %% [markdown]
# ## 6. Conditioning: why standardized inputs train faster
# Take linear regression with two weights and the mean squared error $L(w) = \frac{1}{2N}\lVert Xw - y\rVert^2$. Its Hessian is
# $H = X^\top X / N$, and gradient descent with learning rate $\alpha$ converges only for $\alpha < 2/\lambda_{\max}(H)$, while
# the error along the flattest direction shrinks by a factor $(1 - \alpha\lambda_{\min})$ per step: the number of steps grows
# with the **condition number** $\kappa = \lambda_{\max}/\lambda_{\min}$ of $X^\top X$. If feature 2 is measured on a scale
# 10 times larger than feature 1, $\kappa$ is about $10^2$: the loss surface is a long, narrow valley. Standardizing the
# features makes $\kappa$ close to 1 (exactly 1 if they are uncorrelated).
#
# Below: feature 1 ~ $\mathcal{N}(0, 1)$, feature 2 ten times larger and correlated with it, $y = 2x_1 + 0.1x_2 + $ noise.
# For each input scaling we run gradient descent from $w = 0$ at every learning rate of a grid and keep the one that reaches
# $L - L^* \le 10^{-3}(L(0) - L^*)$ in the fewest steps.

# %% {"tags": ["listing"]}
LR_GRID = torch.logspace(-4, 1, 26, dtype=torch.float64)   # 10^-4 ... 10, five per decade
MAX_STEPS = 2000


def regression_data(seed, n=200):
    """Two zero-mean features on scales 1 and 10 (correlation 0.4) and a linear target; float64."""
    g = ctx.rng(seed)
    x1 = torch.randn(n, generator=g, dtype=torch.float64)
    x2 = 10 * (0.4 * x1 + math.sqrt(1 - 0.4**2) * torch.randn(n, generator=g, dtype=torch.float64))
    x = torch.stack([x1, x2], 1)
    return x, 2 * x1 + 0.1 * x2 + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)


def gd_paths(x, y, lrs=LR_GRID, steps=MAX_STEPS):
    """Gradient descent on L(w) = |Xw - y|^2 / 2N from w = 0, one run per learning rate: weights (steps + 1, len(lrs), 2)."""
    h, b = x.T @ x / len(x), x.T @ y / len(x)          # the gradient is H w - b
    w = torch.zeros(len(lrs), 2, dtype=torch.float64)
    path = [w]
    for _ in range(steps):
        w = w - lrs.unsqueeze(1) * (w @ h - b)
        path.append(w)
    return torch.stack(path)


def best_run(x, y, tol=1e-3):
    """(steps, lr, path) for the learning rate that first reaches L - L* <= tol (L(0) - L*); steps is inf if none does."""
    w_star = torch.linalg.lstsq(x, y.unsqueeze(1)).solution[:, 0]
    paths = gd_paths(x, y)
    d = paths - w_star
    excess = 0.5 * ((d @ (x.T @ x / len(x))) * d).sum(-1)   # L(w) - L* = (w - w*)ᵀ H (w - w*) / 2: (steps + 1, len(lrs))
    done = excess <= tol * excess[0]
    first = torch.where(done.any(0), done.float().argmax(0).double(), torch.tensor(math.inf, dtype=torch.float64))
    best = int(torch.argmin(first))                     # ties: the smallest such learning rate
    steps = first[best].item()
    return (int(steps) if math.isfinite(steps) else steps), LR_GRID[best].item(), paths[:, best]


# %%
# NBVAL_CHECK_OUTPUT
regression = {}
for seed in SEEDS:
    x, y = regression_data(seed)
    x_std = StandardScaler().fit_transform(x)
    for name, inputs in [("raw", x), ("standardized", x_std)]:
        steps, lr, path = best_run(inputs, y)
        kappa = torch.linalg.cond(inputs.T @ inputs).item()
        regression[name, seed] = dict(x=inputs, y=y, steps=steps, lr=lr, path=path, kappa=kappa)
        print(f"seed {seed}  {name:>12}:  cond(XᵀX) = {kappa:6.1f}   best lr = {lr:.3g}   steps = {steps}")

# %% [markdown]
# ### The loss valley before and after standardization (seed 0)

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
for ax, name in zip(axes, ["raw", "standardized"]):
    run = regression[name, 0]
    x, y, path = run["x"], run["y"], run["path"][:41]
    w_star = torch.linalg.lstsq(x, y.unsqueeze(1)).solution[:, 0]
    centre, span = w_star / 2, 0.75 * w_star.abs().max().item() + 0.3
    grid = torch.linspace(-span, span, 201, dtype=torch.float64)
    w1, w2 = torch.meshgrid(centre[0] + grid, centre[1] + grid, indexing="xy")
    weights = torch.stack([w1.flatten(), w2.flatten()], 1)
    loss = ((x @ weights.T - y.unsqueeze(1)) ** 2).mean(0).reshape(w1.shape) / 2
    ax.contour(w1.numpy(), w2.numpy(), loss.numpy(), levels=np.geomspace(loss.min().item() + 1e-3, loss.max().item(), 14),
               cmap="viridis", linewidths=1)
    ax.plot(path[:, 0], path[:, 1], "o-", color=COLORS[name], ms=3, lw=1.2, label=f"gradient descent, lr {run['lr']:.2g}")
    ax.plot(*w_star.tolist(), "k*", ms=14, label="minimum")
    ax.set(xlabel="$w_1$", ylabel="$w_2$", aspect="equal",
           title=f"{name}: cond(XᵀX) = {run['kappa']:.0f}, {run['steps']} steps")
    ax.legend(loc="lower right")
fig.suptitle("Loss contours and the first 40 gradient-descent steps")
fig.tight_layout()
plt.show()

# %% [markdown]
# On the raw features the contours are long thin ellipses: the best learning rate is limited by the steep direction
# (larger ones diverge), and along the valley floor the steps are tiny. On standardized features the contours are nearly
# round and gradient descent heads almost straight for the minimum.

# %%
ratios = [regression["raw", s]["steps"] / regression["standardized", s]["steps"] for s in SEEDS]
print("steps raw / steps standardized, per seed:", [round(r, 1) for r in ratios])
for seed, ratio in zip(SEEDS, ratios):
    ctx.claim(ratio, ">=", 10, f"seed {seed}: standardizing should cut the gradient-descent steps at least 10-fold "
              f"({regression['raw', seed]['steps']} -> {regression['standardized', seed]['steps']})")

# %% [markdown]
# ## 7. The same on real data: the wine data set
# scikit-learn's wine data set has 13 chemical measurements of 178 wines from 3 cultivars, on wildly different scales:
# proline is in the hundreds to over a thousand, hue around 1, non-flavanoid phenols around 0.3. We train the same softmax
# regression (a linear layer 13 → 3, cross-entropy) with plain full-batch gradient descent on four versions of the inputs:
# raw, zero-centred, standardized and PCA-whitened, each preprocessor fitted on the training split (70%, drawn per seed).
# For each version we try every learning rate of a grid (all of them at once: one weight matrix per learning rate) and
# count the steps until the training loss reaches 0.1. Each seed draws its own split and initial weights.

# %% {"tags": ["listing"]}
WINE = load_wine()
WINE_X, WINE_Y = torch.tensor(WINE.data, dtype=torch.float32), torch.tensor(WINE.target)
WINE_LRS = torch.logspace(-7, 1, 17)   # 1e-7 ... 10, two per decade
WINE_STEPS, TARGET = 500, 0.1


def wine_split(seed):
    order = torch.randperm(len(WINE_X), generator=ctx.rng(seed))
    n_train = int(0.7 * len(order))
    return (WINE_X[order[:n_train]], WINE_Y[order[:n_train]]), (WINE_X[order[n_train:]], WINE_Y[order[n_train:]])


def train_softmax_all_lrs(x, y, lrs, steps, seed):
    """Full-batch gradient descent on softmax regression, one model per learning rate (same initial weights).

    Gradient of the mean cross-entropy: dL/dlogits = (softmax(logits) - onehot(y)) / N, so dL/dW = xᵀ(...), dL/db = Σ(...).
    Returns the training loss at steps 0..steps, (steps + 1, len(lrs)), and the final weights and biases.
    """
    n_lr, (n, d) = len(lrs), x.shape
    w = (torch.randn(d, 3, generator=ctx.rng(100 + seed)) * 0.01).expand(n_lr, d, 3).clone()
    b = torch.zeros(n_lr, 1, 3)
    onehot, lr = F.one_hot(y, 3).float(), lrs.view(-1, 1, 1)
    losses, threads = [], torch.get_num_threads()
    torch.set_num_threads(1)               # tiny matrices: more threads only add overhead (the full profile uses several)
    try:
        for _ in range(steps + 1):
            log_p = torch.log_softmax(x @ w + b, dim=-1)                # (n_lr, N, 3)
            losses.append(-(log_p * onehot).sum(-1).mean(-1))
            g = (log_p.exp() - onehot) / n
            w, b = w - lr * (x.T @ g), b - lr * g.sum(1, keepdim=True)
    finally:
        torch.set_num_threads(threads)
    return torch.stack(losses), w, b


def first_hit(curve, target=TARGET):
    hits = (curve <= target).nonzero()
    return hits[0].item() if len(hits) else math.inf


# %%
wine = {}
for seed in SEEDS:
    (x_tr, y_tr), (x_te, y_te) = wine_split(seed)
    versions = {"raw": None, "centred": StandardScaler(with_std=False), "standardized": StandardScaler(),
                "whitened": PCA(whiten=True)}
    for name, prep in versions.items():
        fitted = prep.fit(x_tr) if prep is not None else None           # statistics of the training split only
        a, b_ = (fitted.transform(x_tr), fitted.transform(x_te)) if fitted else (x_tr, x_te)
        curves, w, b = train_softmax_all_lrs(a, y_tr, WINE_LRS, WINE_STEPS, seed)
        curves = curves.nan_to_num(nan=math.inf)
        hits = [first_hit(curves[:, i]) for i in range(len(WINE_LRS))]
        best = min(range(len(WINE_LRS)), key=lambda i: (hits[i], curves[-1, i].item()))
        test_acc = ((b_ @ w[best] + b[best]).argmax(1) == y_te).float().mean().item()
        gram = torch.cat([a, torch.ones(len(a), 1)], 1).double()
        wine[name, seed] = dict(steps=hits[best], lr=WINE_LRS[best].item(), curve=curves[:, best],
                                final=curves[-1, best].item(), test_acc=test_acc,
                                kappa=torch.linalg.cond(gram.T @ gram).item())

# %% [markdown]
# ### Training loss at each version's best learning rate (seed 0)

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(9, 4.6))
for name in COLORS:
    run = wine[name, 0]
    ax.plot(run["curve"].numpy(), color=COLORS[name],
            label=f"{name}: lr {run['lr']:.0e}, cond(XᵀX) {run['kappa']:.0e}")
ax.axhline(TARGET, color="grey", ls=":", label=f"target loss {TARGET}")
ax.set_xscale("symlog", linthresh=1)
ax.set(xlim=(0, WINE_STEPS), yscale="log", xlabel="gradient-descent step", ylabel="training cross-entropy",
       title="Softmax regression on wine: the same model, four preprocessings")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ### Checking the claim: standardized inputs train faster
# The loss at step 0, steps to reach the target loss at the best learning rate of the grid (`inf`: not reached in 500
# steps at any learning rate), the best learning rate, the loss after 500 steps, test accuracy, and the condition number of $X^\top X$ (with a
# column of ones for the bias):

# %%
for seed in SEEDS:
    for name in COLORS:
        r = wine[name, seed]
        print(f"seed {seed} {name:>12}: start {r['curve'][0].item():.2f}  steps {r['steps']:>4}  lr {r['lr']:.0e}  "
              f"final loss {r['final']:.3f}  "
              f"test acc {r['test_acc']:.2f}  cond {r['kappa']:.1e}")
for seed in SEEDS:
    raw_steps = min(wine["raw", seed]["steps"], WINE_STEPS + 1)       # not reached: count the whole budget
    ctx.claim(raw_steps / wine["standardized", seed]["steps"], ">=", 10,
              f"seed {seed}: standardized inputs should reach loss {TARGET} in at most a tenth of the steps raw inputs take "
              f"({wine['standardized', seed]['steps']} steps at lr {wine['standardized', seed]['lr']:.0e}, whitened "
              f"{wine['whitened', seed]['steps']}, centred {wine['centred', seed]['steps']}, raw {wine['raw', seed]['steps']})")
    ctx.claim(wine["raw", seed]["final"] / TARGET, ">", 3,
              f"seed {seed}: raw inputs should stay far above the target after {WINE_STEPS} steps "
              f"(loss {wine['raw', seed]['final']:.3f})")

# %% [markdown]
# On every seed the standardized (and the whitened) inputs reach the target within a few steps (two here; two or three,
# whitened one, on every seed and kernel set we tried), at the largest learning rates of the grid, 3 and 10 (the three cultivars are linearly separable, so large steps only help), while on the raw
# inputs no learning rate of the grid gets there within 500 steps: a learning rate small enough not to diverge along proline
# barely moves the weights of the small features. Centring alone helps but not enough: it removes the huge offset of
# proline, not its scale. Whitening makes $X^\top X$ almost perfectly conditioned. (This is a linear model, where the
# condition number of $X^\top X$ governs the speed directly; section 8 trains a network.)
#
# Two details of the figure. The raw and centred runs sit at their best rate, which is the largest one that does not
# diverge along proline, at the edge of stability: a curve that wiggles (depending on the seed, the raw or the centred
# one) is that steep direction bouncing across the valley. And the curves start at different losses
# (the `start` column: above $\ln 3 \approx 1.1$ raw and centred, $\ln 3$ standardized and whitened) because the initial
# weights $0.01 \cdot \mathcal{N}(0, 1)$ are not scaled to the inputs: on proline-sized inputs the first logits are already far
# from 0. "Steps to 0.1" partly reflects that start; the plateau of the raw and centred runs does not.

# %% [markdown]
# ## 8. A network: an MLP on raw, centred and standardized pixels
# The experiments above use linear models, where $X^\top X$ is the whole story. Notebooks 06 and 08 train MLPs on the raw
# pixels in $[0, 1]$, all positive, with a mean far from 0. Here one MLP (two hidden ReLU layers of 64 units, plain SGD,
# batches of 32, PyTorch's default initialization drawn from the seed) trains on the image data set of section 4 three
# times: on the raw pixels, on the centred pixels ($x - \mu$) and on the standardized pixels, each with the statistics of
# the training split. A different input scale calls for a different learning rate, so each version gets the best rate of
# a small grid (the lowest mean training loss after the last epoch, over the seeds); the loss is measured on the whole
# training split after each epoch (`eval_train=True`).

# %% {"tags": ["listing"]}
MLP_LRS = [0.1, 0.3, 1.0, 3.0]
MLP_EPOCHS = ctx.epochs(fast=8, full=3)


def mlp_curve(inputs, labels, n_classes, lr, seed):
    """Train a fresh MLP (initialization drawn from `seed`) with SGD; the training loss after each epoch, inf once diverged."""
    net = mlp(inputs.shape[1], [64, 64], n_classes, activation="relu", generator=ctx.rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)        # a diverged run counts as an infinite loss
        hist = fit(net, Split(inputs, labels), epochs=MLP_EPOCHS, lr=lr, batch_size=32, seed=seed, eval_train=True,
                   progress=False, device=ctx.device)
    curve = hist.train_loss + [math.inf] * (MLP_EPOCHS - len(hist.train_loss))
    return [v if math.isfinite(v) else math.inf for v in curve]


# %%
mlp_runs = {}
for seed in SEEDS:
    data = load_dataset(IMAGES, seed=seed)
    train = data.train if N_MLP is None or N_MLP >= len(data.train) else data.train.subset(N_MLP, generator=ctx.rng(seed))
    flat = train.x.flatten(1)
    for name, prep in [("raw", None), ("centred", StandardScaler(with_std=False)), ("standardized", StandardScaler())]:
        inputs = flat if prep is None else prep.fit(flat).transform(flat)      # statistics of the training split
        if seed == SEEDS[0]:
            top = torch.linalg.eigvalsh(inputs.double().T @ inputs.double() / len(inputs))[-1].item()
            print(f"{name:>12}: largest eigenvalue of XᵀX / N = {top:.2f}")
        for lr in MLP_LRS:
            mlp_runs[name, lr, seed] = mlp_curve(inputs, train.y, data.num_classes, lr, seed)

mean_final = {(name, lr): sum(mlp_runs[name, lr, s][-1] for s in SEEDS) / len(SEEDS)
              for name, lr, _ in mlp_runs}
best_lr = {name: min(MLP_LRS, key=lambda lr: mean_final[name, lr]) for name in ("raw", "centred", "standardized")}
for name, lr in best_lr.items():
    print(f"{name:>12}: mean training loss after {MLP_EPOCHS} epochs at lr " +
          ", ".join(f"{r:g}: {mean_final[name, r]:.3f}" for r in MLP_LRS) + f"  -> best lr {lr:g}")

# %% [markdown]
# ### MLP training loss at each version's best learning rate (seed 0)

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(9, 4.6))
epochs_axis = torch.arange(1, MLP_EPOCHS + 1).numpy()
for name, lr in best_lr.items():
    ax.plot(epochs_axis, mlp_runs[name, lr, SEEDS[0]], "o-", color=COLORS[name], label=f"{name}: lr {lr:g}")
ax.set(yscale="log", xlabel="epoch", ylabel="training cross-entropy (whole split)",
       title="The same MLP on raw, centred and standardized pixels")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# ### Checking the claim: the network trains faster on preprocessed inputs

# %%
final = {name: mean_final[name, lr] for name, lr in best_lr.items()}
print("mean training loss after the last epoch at the best lr:", {k: round(v, 4) for k, v in final.items()})
for name in ("centred", "standardized"):
    ctx.claim(final["raw"] / final[name], ">", 4, f"the MLP on {name} pixels should end with at most a quarter of the "
              f"training loss of raw pixels at each one's best learning rate ({final[name]:.4f} vs {final['raw']:.4f})")

# %% [markdown]
# Raw pixels train worst even at their own best rate (their loss ended 8 to 28 times higher on every kernel set and seed
# offset we tried): a larger rate fails (the loss stays near its starting value), a smaller one is slow. The first layer
# sees the same matrix as the linear models of section 6: its stable step is limited by the largest eigenvalue of
# $X^\top X / N$ (printed above), and for positive pixels that comes from the mean image: $X^\top X / N$ is the
# covariance plus $\mu\mu^\top$, whose eigenvalue $\lVert\mu\rVert^2$ is far above any variance. Centring removes it, so a
# larger rate is stable: centring does the work. Standardizing on top scales the low-variance pixels up, which raises the
# largest eigenvalue again (the pixels are correlated) and moves the best rate back down. Here it adds nothing over centring: at its best rate the standardized run
# ended as low as the centred one or up to about 2.5 times higher, depending on the kernel set and seed offset, in line
# with the lecture's remark that dividing by the standard deviation is less needed for images. One architecture and one
# optimizer (plain SGD); batch normalization (notebook 09) applies the same normalization to the inputs of every layer.

# %% [markdown]
# ## Summary
# - Zero-centre, and usually standardize, every input feature with the mean and standard deviation of the **training split**;
#   apply the fitted transform, never a refit, to the validation and test splits (`fit` on train, `transform` elsewhere).
#   Fitting the scaler and PCA on all the digits changed the test accuracy by a few images only; selecting features with
#   the labels of all the data made pure noise look learnable, far above chance. Min-max scaling to $[0, 1]$ suffices
#   when the features share a range (pixels), but does not centre them.
# - A constant feature has $\sigma = 0$: `StandardScaler` (like scikit-learn's) leaves it at scale 1; whitening needs an
#   $\varepsilon$ (divide by $\sqrt{\lambda + \varepsilon}$) or fewer components.
# - PCA rotates onto the eigenvectors of the covariance (decorrelation); PCA whitening also divides by $\sqrt{\lambda}$, so the
#   covariance becomes $I$ (asserted to float precision); ZCA rotates back, $W = U\Lambda^{-1/2}U^\top$, symmetric and the
#   whitening closest to the original data, so whitened images still look like images.
# - Features on very different scales make $X^\top X$ ill-conditioned, a long narrow valley: on two-feature regression
#   standardization cut the gradient-descent steps by more than 10× on every seed, and on the wine data softmax regression
#   reached loss 0.1 in a few steps on standardized inputs and not within 500 on raw ones. The same holds for a network:
#   an MLP on centred or standardized pixels ended with a fraction of the training loss of raw pixels, each at its best
#   rate, since for positive inputs the mean image dominates $X^\top X$. The same-sign argument for centring is exact
#   only for a batch of one; the conditioning argument holds for any batch.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — PCA whitening from the eigendecomposition
# Write `pca_whiten(x, eps)`: `x` is a float tensor of shape $(N, D)$, one example per row. Return the PCA-whitened data,
# shape $(N, D)$: centre each feature, compute the covariance $C = X_c^\top X_c / (N-1)$, its eigendecomposition with
# `torch.linalg.eigh`, project onto the eigenvectors **sorted by decreasing eigenvalue**, and divide each coordinate by
# $\sqrt{\lambda_k + \varepsilon}$. The check compares your output with `PCA(whiten=True, eps=eps)` on data with one
# direction of tiny variance (the sign of each column is free: an eigenvector's sign is arbitrary).

# %% {"tags": ["exercise"]}
def pca_whiten(x, eps):
    raise NotImplementedError  # your code here


# %%
ex.check_pca_whitening(pca_whiten)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# `torch.linalg.eigh` returns the eigenvalues in *ascending* order and the eigenvectors as the *columns* of its second
# output; flip both so the largest variance comes first. Projecting the centred data onto the columns gives the decorrelated
# coordinates, whose variances are the eigenvalues; dividing by their square roots (plus $\varepsilon$ inside the root)
# whitens them. The typical slips: not centring, the rows of the eigenvector matrix instead of its columns, dividing by the
# variance instead of the standard deviation, and dividing the covariance by $N$ instead of $N-1$.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_pca_whiten(x, eps):
    xc = x - x.mean(dim=0)
    values, vectors = torch.linalg.eigh(xc.T @ xc / (len(x) - 1))
    values, vectors = values.flip(0), vectors.flip(1)        # largest variance first
    return xc @ vectors / torch.sqrt(values + eps)


assert ex.check_pca_whitening(solution_pca_whiten)

# %% [markdown]
# ### Exercise 2 — ZCA whitening
# Write `zca_whiten(x, eps)`, same input and output shapes: PCA whitening followed by the rotation back into the original
# axes. The check compares your output with `ZCA(eps=eps)`; here there is no sign freedom (why?).

# %% {"tags": ["exercise"]}
def zca_whiten(x, eps):
    raise NotImplementedError  # your code here


# %%
ex.check_zca_whitening(zca_whiten)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# After whitening in the eigenvector basis, multiply by the transpose of the eigenvector matrix: the whole map is
# $X_c\,U\Lambda^{-1/2}U^\top$. Flipping the sign of an eigenvector $u_k$ changes $u_k u_k^\top$ not at all, and the order of
# the eigenvectors does not matter either, so ZCA is unique: $W = C^{-1/2}$ (for $\varepsilon = 0$), a symmetric matrix.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_zca_whiten(x, eps):
    xc = x - x.mean(dim=0)
    values, vectors = torch.linalg.eigh(xc.T @ xc / (len(x) - 1))
    return xc @ vectors @ torch.diag(1 / torch.sqrt(values + eps)) @ vectors.T


assert ex.check_zca_whitening(solution_zca_whiten)

# %% [markdown]
# ### Exercise 3 — statistics from the training split
# Write `standardize_splits(x_train, x_val, x_test)` without `StandardScaler`: return the three splits standardized with
# the mean and the standard deviation of each feature of the **training** split (the population standard deviation, as
# `StandardScaler` computes it). One feature of the check's data is constant in the training split: give it the scale 1.

# %% {"tags": ["exercise"]}
def standardize_splits(x_train, x_val, x_test):
    raise NotImplementedError  # your code here


# %%
ex.check_standardize_splits(standardize_splits)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Compute the mean and standard deviation of the columns of `x_train` once and apply the same two vectors to all three
# splits. Two details: `x.std(dim=0)` divides by $N - 1$ by default (pass `correction=0` for the population value), and a
# standard deviation of 0 must be replaced by 1. Computing the statistics on all the data, or on each split separately, is
# the leak this exercise is about.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_standardize_splits(x_train, x_val, x_test):
    mean, std = x_train.mean(dim=0), x_train.std(dim=0, correction=0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((x - mean) / std for x in (x_train, x_val, x_test))


assert ex.check_standardize_splits(solution_standardize_splits)
