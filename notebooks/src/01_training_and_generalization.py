# %% [markdown]
# # 01 · Training and generalization
#
# **Learning objectives.** After this notebook you can
# 1. **write** the mini-batch training loop that tracks training and validation loss and accuracy,
#    and **explain** why the test set is touched only once, at the very end;
# 2. **read** learning curves, over epochs and over training-set size, and **tell** underfitting from overfitting;
# 3. **measure** the bias and the variance of a model family by refitting it on resampled training sets;
# 4. **explain** why the data loss alone does not pick one set of weights (W or 2W?), which is why the
#    rest of the course adds regularizers.
#
# *Lecture:* "Regularization and Optimization of DNNs" (training loop with train/validation tracking,
# learning curves, bias-variance trade-off, the MNIST test result) and the "W or 2W?" slide on
# regularization. *Runs in:* about 35 s on one CPU core (fast profile).

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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to the real
# MNIST for the first experiment, more seeds and more training-set sizes (see the README).

# %%
import copy
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from course_lib import count_parameters, evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.data import make_polynomial, polynomial_target
from course_lib.exercises import ex01 as ex
from course_lib.plots import plot_history, plot_learning_curve, plot_regression_fit
from course_lib.training import LambdaCallback, train_epoch

ctx = setup_notebook(seed=0)
EPOCHS = ctx.epochs(fast=30, full=30)              # passes over the training set
SEEDS = ctx.pick(fast=(0, 1), full=(0, 1, 2, 3, 4))
COLORS = {"tiny": "C1", "wide": "C0"}  # one colour per model size, in every figure


def adam(lr):
    """An optimizer factory for fit(): Adam with learning rate lr.

    fused=True: PyTorch's one-kernel implementation of the same update, faster on CPU and GPU."""
    return lambda params: torch.optim.Adam(params, lr=lr, fused=True)

# %% [markdown]
# ## 1. The training loop
# Training minimizes the average loss over the $m$ training examples,
# $$J(\theta) = \frac{1}{m}\sum_{i=1}^{m} L\big(f(x_i;\theta),\, y_i\big),$$
# but never computes it in one go. **Mini-batch gradient descent** shuffles the training set once per
# *epoch*, cuts it into batches $B$ of, say, 128 examples, and after each batch takes a step
# $$\theta \leftarrow \theta - \alpha\, \nabla_\theta \frac{1}{|B|}\sum_{i \in B} L\big(f(x_i;\theta),\, y_i\big).$$
#
# The data is split three ways, and each part has one job:
#
# | split | used for | updates $\theta$? |
# | --- | --- | --- |
# | training | the gradient steps | yes |
# | validation | watching generalization during training; choosing epochs, models, hyperparameters | **never** |
# | test | one final, unbiased number, after every choice has been made | **never**, and looked at once |
#
# If you pick a model because it scores best on some data, that score is no longer an honest estimate
# for new data. That is why the validation set does the choosing and the test set stays locked away.

# %% [markdown]
# ### The loop of the lecture
# One epoch, in PyTorch:
#
# ```python
# model.train()
# for x, y in batches:                   # a fresh shuffle every epoch
#     optimizer.zero_grad()              # forget the previous batch's gradients
#     output = model(x)
#     loss = loss_fn(output, y)          # J(θ) on this batch
#     loss.backward()                    # ∂J/∂θ by backpropagation
#     optimizer.step()                   # θ ← θ − α ∂J/∂θ
#     totals.add(loss, output, y)        # running sums for the epoch's loss and accuracy
# ```
#
# then `model.eval()` and the same forward pass over the validation set, without gradients.

# %% [markdown]
# ### Three details that matter
#
# 1. **Accumulate numbers, not tensors.** `total += loss` keeps every batch's computation graph alive
#    for the whole epoch; `total += loss.detach()` (or `.item()`) does not.
# 2. **Count the samples that are there.** The last batch of an epoch is usually smaller. Adding
#    `batch_size` for every batch (as the slide does) over-counts it; add `len(y)`.
# 3. **The running training accuracy is an average over a moving target.** It mixes predictions made by
#    the weights at the start of the epoch with those at its end, in train mode (dropout on). For an
#    exact number, evaluate the whole training set in eval mode after the epoch (`fit(..., eval_train=True)`).
#
# In `course_lib` this loop is `train_epoch` (below, with the hooks where later notebooks plug in penalties,
# gradient clipping and schedules). `fit` calls it once per epoch and does the rest around it: checks the data,
# puts model and data on one device, cuts the shuffled batches, evaluates on the validation set, records a
# `History`, and stops a run whose loss becomes NaN or infinite.

# %% {"tags": ["listing"]}
show_source(train_epoch)

# %% [markdown]
# ### A first run
# An MLP with two hidden layers of 256 units, trained with Adam on MNIST-1D (fast profile: 40-sample
# 1-D signals of the ten digits, generated offline) or on MNIST (full profile). We record exact
# training metrics with `eval_train=True`.

# %%
data = load_dataset(ctx.pick(fast="mnist1d", full="mnist"), device=ctx.device)
print(data)

model = mlp(data.num_features, [256, 256], data.num_classes, generator=ctx.rng())
print(model)
print(f"{count_parameters(model):,} parameters, {len(data.train):,} training examples")
history = fit(model, data.train, data.val, epochs=EPOCHS, batch_size=128, optimizer=adam(2e-3),
              seed=ctx.seed, eval_train=True)
print(history)

# %% [markdown]
# ### The learning curves of the first run

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot_history(history, "loss", ax=axes[0], title=f"Loss on {data.name}")
plot_history(history, "acc", ax=axes[1], title=f"Accuracy on {data.name}")
fig.tight_layout()
plt.show()

# %% [markdown]
# The training loss falls all the way; the validation loss falls for a while, then **rises** while the
# validation accuracy stalls. The network keeps learning things that are true only of its training
# examples. Everything is now decided, so we look at the test set, once:

# %%
test = evaluate(model, data.test)
val = evaluate(model, data.val)
print(f"validation accuracy {val['acc']:.3f}, test accuracy {test['acc']:.3f} (test loss {test['loss']:.3f})")
print(ctx.pick(fast="MNIST-1D reference (Greydanus & Kobak): an MLP reaches about 0.68 test accuracy",
               full="the lecture's MNIST MLP: test accuracy 0.9762 (loss 0.0828)"))
ctx.claim(1 - test["acc"], "<", ctx.pick(fast=0.5, full=0.03), f"test error {1 - test['acc']:.3f} is unexpectedly high")
ctx.claim(abs(test["acc"] - val["acc"]), "<", 0.06,
          f"validation should predict the test accuracy closely (they differ by {abs(test['acc'] - val['acc']):.3f})")

# %% [markdown]
# The validation accuracy predicted the test accuracy well: neither set was ever used for a gradient
# step. (We did not *choose* anything with the validation set here; once we do, only the test set stays
# unbiased.)

# %% [markdown]
# ## 2. Underfitting and overfitting
# How far a model can bend to its training data is its **capacity**. We compare two MLPs on the same
# MNIST-1D data (in both profiles: it is where an MLP overfits within seconds):
#
# * **tiny**: 40 → 2 → 10. Every signal is squeezed through two numbers: too little capacity.
# * **wide**: 40 → 256 → 256 → 10, the network above: tens of thousands of parameters for 3,200 examples.
#
# Each is trained for the same number of epochs, with a learning rate that suits it, on two seeds (five in the full profile).

# %%
m1d = data if data.name == "mnist1d" else load_dataset("mnist1d", device=ctx.device)
MODELS = {"tiny": ([2], 1e-2), "wide": ([256, 256], 2e-3)}   # hidden sizes, Adam learning rate


def train_mlp(name, train, val=None, *, seed, epochs=EPOCHS):
    """Train model `name` of MODELS on `train`; returns (model, history)."""
    hidden, lr = MODELS[name]
    net = mlp(m1d.num_features, hidden, m1d.num_classes, generator=ctx.rng(seed))
    hist = fit(net, train, val, epochs=epochs, batch_size=128, optimizer=adam(lr), seed=seed,
               eval_train=val is not None)
    return net, hist


runs = {name: [train_mlp(name, m1d.train, m1d.val, seed=s) for s in SEEDS] for name in MODELS}
for name, (hidden, _) in MODELS.items():
    print(f"{name}: {count_parameters(runs[name][0][0]):,} parameters")

# %% [markdown]
# ### Learning curves over epochs

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for name, color in COLORS.items():
    hist = runs[name][0][1]
    plot_history(hist, "loss", ax=axes[0], label=name, color=color, title="Loss (seed 0)")
    plot_history(hist, "acc", ax=axes[1], label=name, color=color, title="Accuracy (seed 0)")
axes[1].set_ylim(0, 1.02)
fig.tight_layout()
plt.show()

# %% [markdown]
# * **tiny** (orange) *underfits*: training and validation curves stay together and flatten early, at a
#   poor accuracy. The model is as good on new data as on its training data — and bad on both.
# * **wide** (blue) *overfits*: it reaches ~100% training accuracy while validation accuracy stops near
#   60%, and its validation loss climbs after its minimum. The gap between the curves is the overfitting.

# %% [markdown]
# ### Checking the claim
# Final accuracies measured with `evaluate` (eval mode, the whole split), for every seed:

# %%
rows = {}
for name in MODELS:
    for seed, (net, hist) in zip(SEEDS, runs[name]):
        train_acc, val_acc = evaluate(net, m1d.train)["acc"], evaluate(net, m1d.val)["acc"]
        rows[name, seed] = train_acc, val_acc, hist
        print(f"{name:>4} seed {seed}: train {train_acc:.3f}  val {val_acc:.3f}  gap {train_acc - val_acc:+.3f}")

for seed in SEEDS:
    wide_train, wide_val, wide_hist = rows["wide", seed]
    tiny_train, tiny_val, tiny_hist = rows["tiny", seed]
    # over-parameterized: (almost) memorizes the training set, with a clear validation gap
    ctx.claim(1 - wide_train, "<", 0.02, f"seed {seed}: wide model training error {1 - wide_train:.3f}, not ≈ 0")
    ctx.claim(wide_train - wide_val, ">", 0.25, f"seed {seed}: wide model gap only {wide_train - wide_val:.3f}")
    rise = np.mean(wide_hist.val_loss[-5:]) / min(wide_hist.val_loss) - 1   # last 5 epochs against the lowest
    ctx.claim(rise, ">", 0.1, f"seed {seed}: the validation loss should rise again (by {rise:.0%} over its lowest)")
    # too small: train ≈ val (a gap that is a small fraction of the wide model's), far below the wide model,
    # and no longer improving
    gap_share = abs(tiny_train - tiny_val) / (wide_train - wide_val)
    ctx.claim(gap_share, "<", 0.25, f"seed {seed}: tiny model gap {tiny_train - tiny_val:+.3f}, "
                                    f"{gap_share:.0%} of the wide model's")
    ctx.claim(wide_train - tiny_train, ">", 0.5,
              f"seed {seed}: the tiny model should fit the training set far worse ({tiny_train:.3f} vs {wide_train:.3f})")
    last = tiny_hist.train_acc[-10:]
    ctx.claim(max(last) - min(last), "<", 0.05,
              f"seed {seed}: the tiny model's training accuracy should have plateaued (range {max(last) - min(last):.3f})")

# %% [markdown]
# ## 3. Learning curves over training-set size
# The lecture's second kind of learning curve varies the amount of training data instead of the
# epochs. Each model is trained on random subsets of growing size, always for the same number of
# gradient steps (so that small sets are not under-trained), and both errors are measured at the end.

# %%
STEPS = EPOCHS * math.ceil(len(m1d.train) / 128)       # as many steps as a run on the full set
SIZES = ctx.pick(fast=[100, 300, 1000], full=[100, 200, 400, 800, 1600])
curves = {name: ([], []) for name in MODELS}           # train errors, validation errors
for n in SIZES:
    subset = m1d.train.subset(n, generator=ctx.rng(n))
    for name in MODELS:
        net, _ = train_mlp(name, subset, seed=0, epochs=math.ceil(STEPS / math.ceil(n / 128)))
        curves[name][0].append(1 - evaluate(net, subset)["acc"])
        curves[name][1].append(1 - evaluate(net, m1d.val)["acc"])
for name in MODELS:  # the full training set: the seed-0 runs of section 2
    train_acc, val_acc, _ = rows[name, 0]
    curves[name][0].append(1 - train_acc)
    curves[name][1].append(1 - val_acc)
sizes = SIZES + [len(m1d.train)]

# %% [markdown]
# ### Error against training-set size

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(7, 4.2))
for name in MODELS:
    plot_learning_curve(sizes, *curves[name], ax=ax, ylabel="error (1 − accuracy)", label=name,
                        title="Learning curves over training-set size")
    for line in ax.lines[-2:]:  # this model's train and validation curves, in its colour
        line.set_color(COLORS[name])
ax.legend()
ax.set_xscale("log")
ax.set_ylim(0, 1)
plt.show()

# %% [markdown]
# This is the lecture's pair of pictures in one plot.
#
# * **Underfitting (tiny):** the training error *rises* with more data (a small set is easy to fit, a large
#   one is not), the validation error falls a little, and the two meet at a high plateau. More data
#   does not help; more capacity would.
# * **Overfitting (wide):** the training error stays at zero, the validation error falls steadily but
#   stays far above it. More data *does* help: it is the surest way to close the gap, and the
#   regularizers of the next notebooks are the way when data cannot be had.

# %%
wide_gain = curves["wide"][1][0] - curves["wide"][1][-1]
tiny_gain = curves["tiny"][1][0] - curves["tiny"][1][-1]
print(f"validation error from {sizes[0]} to {sizes[-1]} examples: wide falls by {wide_gain:.2f}, "
      f"tiny by {tiny_gain:.2f}")
ctx.claim(wide_gain - tiny_gain, ">", 0.1, "more data should help the overfitting model much more")
tiny_rise = curves["tiny"][0][-1] - curves["tiny"][0][0]
ctx.claim(tiny_rise, ">", 0.05, f"the underfitting model's training error should rise with n (by {tiny_rise:.2f})")

# %% [markdown]
# ## 4. Bias and variance: polynomial regression
# A model's error on new data has three sources:
#
# * **bias** — wrong assumptions: even fitted on endless data, the model family misses the truth
#   (underfitting);
# * **variance** — sensitivity to the particular training sample: refit on another sample, get a
#   different model (overfitting);
# * **irreducible error** — the noise in the targets themselves, which no model removes.
#
# The `poly` dataset makes all three visible: $y = f(x) + \varepsilon$ with the cubic
# $f(x) = 1.5x^3 - x^2 - x + 0.5$ and noise $\varepsilon \sim \mathcal N(0, 0.3^2)$. A polynomial of degree
# $d$ is linear in its parameters, so least squares fits it exactly, no gradient descent needed:
# $$\Phi = \big[\,1,\ x',\ x'^2,\ \dots,\ x'^d\,\big] \in \mathbb R^{N \times (d+1)},\qquad
# \hat\theta = \arg\min_\theta \lVert \Phi\theta - y \rVert^2,\qquad \hat y = \Phi\hat\theta,$$
# with $x' = x/1.5 \in [-1, 1]$ so that high powers stay of moderate size.

# %%
poly = load_dataset("poly")           # 38 train / 10 val / 12 test points; CPU, float64 for least squares
print(poly)


def features(x, degree):
    """Φ: columns 1, x', ..., x'^degree with x' = x / 1.5.  x: (..., N, 1) -> (..., N, degree + 1)."""
    x = x.double() / 1.5
    return torch.cat([x**k for k in range(degree + 1)], dim=-1)


def fit_poly(x, y, degree):
    """Least-squares coefficients θ of shape (..., degree + 1, 1); batched over leading dimensions."""
    return torch.linalg.lstsq(features(x, degree), y.double()).solution


def mse(theta, split):
    degree = theta.shape[-2] - 1
    return ((features(split.x, degree) @ theta - split.y.double()) ** 2).mean().item()


grid = torch.linspace(-1.5, 1.5, 300).unsqueeze(1)
f_grid = polynomial_target(grid).double()
DEGREE_COLORS = {1: "C1", 3: "C2", 10: "C4", 15: "C3"}  # one colour per degree

# %% [markdown]
# ### Three fits: too simple, right, too flexible

# %% {"tags": ["plot"]}
shown = {}
for degree in (1, 3, 15):
    theta = fit_poly(poly.train.x, poly.train.y, degree)
    shown[f"degree {degree}"] = (grid.squeeze(1).numpy(), (features(grid, degree) @ theta).squeeze(1).numpy())
shown["true f(x)"] = (grid.squeeze(1).numpy(), f_grid.squeeze(1).numpy())
ax = plot_regression_fit(poly.train.x, poly.train.y, shown, ylim=(-4, 4), title="Least-squares polynomial fits")
for line, degree in zip(ax.lines[-4:-1], (1, 3, 15)):
    line.set_color(DEGREE_COLORS[degree])
ax.lines[-1].set(linestyle="--", color="k", linewidth=1.5)
ax.legend()
plt.show()

# %% [markdown]
# Degree 1 cannot bend (bias); degree 15 passes close to every training point and swings between them,
# most wildly near the ends where points are sparse (variance). Degree 3 has the true shape.
# Training and validation error against the degree:

# %%
# NBVAL_CHECK_OUTPUT
DEGREES = range(16)
train_mse, val_mse = [], []
for degree in DEGREES:
    theta = fit_poly(poly.train.x, poly.train.y, degree)
    train_mse.append(mse(theta, poly.train))
    val_mse.append(mse(theta, poly.val))
best = int(np.argmin(val_mse))
for degree in (0, 1, 2, 3, 6, 10, 15):
    print(f"degree {degree:2d}: train MSE {train_mse[degree]:.3f}  validation MSE {val_mse[degree]:.3f}")
test_mse = mse(fit_poly(poly.train.x, poly.train.y, best), poly.test)
print(f"lowest validation error at degree {best}; its test MSE is {test_mse:.3f} (noise variance 0.09)")

# %% [markdown]
# ### Error against model capacity

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(DEGREES, train_mse, "o-", label="train")
ax.plot(DEGREES, val_mse, "s--", label="validation")
ax.axvline(best, color="gray", linestyle=":", label=f"best validation (degree {best})")
ax.set(yscale="log", xlabel="polynomial degree", ylabel="mean squared error", title="Error against model capacity")
ax.legend()
plt.show()

# %%
# more parameters never raise the least-squares training error (each model contains the smaller ones)
assert all(b <= a + 1e-9 for a, b in zip(train_mse, train_mse[1:])), "training error must not rise with degree"
too_simple = val_mse[1] / val_mse[best]
ctx.claim(too_simple, ">", 2, f"the straight line should be far worse on validation than the best degree (×{too_simple:.1f})")

# %% [markdown]
# The training error only goes down with capacity; the validation error goes down (less bias), then up
# (more variance). The best degree is picked on the validation set, and only *then* the test set is
# used once. The validation set is tiny here (10 points), so its curve is noisy: on other draws of the
# 60 points (other seeds) the lowest validation error fell at any degree from 3 to 15, and the degree-15
# fit was sometimes no worse than the best. Choosing among many models with few validation points is
# itself a source of overfitting. The *expected* error, averaged over many training sets, is not noisy;
# that is what we compute next.
#
# ### Measuring bias and variance by resampling
# Bias and variance are statements about what happens *across* training sets. We can simulate that:
# draw $R$ fresh training sets of the same size, fit each, and look at the $R$ fitted curves
# $\hat f_1, \dots, \hat f_R$ with mean $\bar f = \frac1R \sum_r \hat f_r$. Averaged over $x$,
# $$\underbrace{\mathbb E\big[(\hat f(x) - y)^2\big]}_{\text{expected test error}}
#   = \underbrace{\big(\mathbb E[\hat f(x)] - f(x)\big)^2}_{\text{bias}^2}
#   + \underbrace{\operatorname{Var}\big[\hat f(x)\big]}_{\text{variance}}
#   + \underbrace{\sigma^2}_{\text{noise}} .$$
#
# **A trap in the estimate.** The plug-in estimate $(\bar f - f)^2$ of the bias² is itself biased upwards:
# $\bar f$ is an average of only $R$ fits, so $\mathbb E[(\bar f - f)^2] = \text{bias}^2 + \operatorname{Var}[\hat f]/R$.
# Where the variance is large (high degrees) this Monte-Carlo error makes a model that is unbiased *look*
# biased, more so the more flexible it is. Subtracting it gives an unbiased estimate,
# $$\widehat{\text{bias}^2} = (\bar f - f)^2 - \frac{s^2}{R}, \qquad s^2 = \frac{1}{R-1}\sum_r (\hat f_r - \bar f)^2,$$
# which is zero on average wherever the true bias is zero (and can then come out slightly negative).

# %%
R = ctx.pick(fast=300, full=2000)
sigma = 0.3
g = ctx.rng(1)
X, Y = (torch.stack(t) for t in zip(*[make_polynomial(len(poly.train), sigma, generator=g) for _ in range(R)]))
y_new = f_grid + sigma * torch.randn(R, *f_grid.shape, generator=g, dtype=torch.float64)  # fresh test targets

BV_DEGREES = range(11)
bias2, plug_in, variance, test_err, fits = [], [], [], [], {}
for degree in BV_DEGREES:
    preds = features(grid, degree) @ fit_poly(X, Y, degree)         # (R, grid points, 1): one curve per set
    mean_fit = preds.mean(0)
    s2 = preds.var(0, unbiased=True)                                 # s², per grid point
    plug_in.append(((mean_fit - f_grid) ** 2).mean().item())         # (f̄ − f)²: biased upwards by Var/R
    bias2.append(((mean_fit - f_grid) ** 2 - s2 / R).mean().item())  # unbiased
    variance.append(s2.mean().item())
    test_err.append(((preds - y_new) ** 2).mean().item())
    fits[degree] = preds.squeeze(-1)

# %% [markdown]
# ### Many fits of each degree

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8), sharey=True)
for ax, degree in zip(axes, (1, 3, 10)):
    for curve in fits[degree][:25]:
        ax.plot(grid, curve, color=DEGREE_COLORS[degree], alpha=0.25, linewidth=1)
    ax.plot(grid, fits[degree].mean(0), color="k", label="mean fit $\\bar f$")
    ax.plot(grid, f_grid, "--", color="gray", linewidth=2, label="true $f$")
    ax.set(ylim=(-4, 4), xlabel="x", title=f"degree {degree}: 25 of {R} fits")
axes[0].set_ylabel("y")
axes[0].legend(loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# Left: every fit is wrong in the same way (bias). Middle: the fits scatter tightly around the truth.
# Right: on average the fits are right, but each one is far off somewhere (variance).

# %% [markdown]
# ### Bias², variance and the test error

# %% {"tags": ["plot"]}
total = np.array(bias2) + np.array(variance) + sigma**2   # = mean over the R sets of (f̂_r − f)², + σ²
fig, ax = plt.subplots(figsize=(7, 4.6))
ax.plot(BV_DEGREES, plug_in, ":", color="C7", label="plug-in $(\\bar f - f)^2$ (biased)")
band = 2 * np.array(variance) / R + 1e-4                                  # the estimate's Monte-Carlo error
ax.fill_between(BV_DEGREES, -band, band, color="C0", alpha=0.15, label="±2·Var/R (Monte-Carlo error)")
ax.plot(BV_DEGREES, bias2, "o-", color="C0", label="bias$^2$ (unbiased estimate)")
ax.plot(BV_DEGREES, variance, "s-", color="C1", label="variance")
ax.plot(BV_DEGREES, total, "k-", label="bias$^2$ + variance + $\\sigma^2$")
ax.plot(BV_DEGREES, test_err, "x", color="C3", markersize=10, label="measured test error")
ax.axhline(sigma**2, color="gray", linestyle=":", label="noise $\\sigma^2$")
ax.set_yscale("symlog", linthresh=1e-2)   # logarithmic above 10⁻², linear around 0 (estimates can be < 0)
ax.set_ylim(-0.2, 30)
ax.set(xlabel="polynomial degree", ylabel="squared error", title=f"Bias-variance trade-off ({R} training sets)")
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
for degree in (1, 2, 3, 6, 7, 10):
    print(f"degree {degree:2d}: bias² {bias2[degree]:+.4f} (plug-in {plug_in[degree]:.4f})  variance "
          f"{variance[degree]:.4f}  sum + σ² {total[degree]:.4f}  measured {test_err[degree]:.4f}")
mismatch = max(abs(t - m) / m for t, m in zip(total, test_err))
ctx.claim(mismatch, "<", 0.03, f"bias² + variance + noise should match the measured error (worst: {mismatch:.1%} apart)")
# the cubic is outside the family below degree 3: the bias dominates the variance
dominance = min(bias2[d] / variance[d] for d in range(3))
ctx.claim(dominance, ">", 3, f"below degree 3 bias² should dominate the variance (smallest ratio {dominance:.1f})")
# from degree 3 on the cubic is inside: bias² is zero up to the Monte-Carlo error Var/R of the estimate,
# pooled over degrees 3 to 10 (one degree alone is a noisy number: its estimate scatters by about Var/R)
high = slice(3, None)
z_bias = sum(bias2[high]) / sum(np.array(variance[high]) / R)
ctx.claim(abs(z_bias), "<", 2, f"from degree 3 on, bias² should be 0 within its Monte-Carlo error ({z_bias:+.2f} × Var/R)")
# the plug-in estimate instead creeps upwards with the variance (its excess is Var/R)
creep = np.mean(plug_in[8:]) / np.mean(plug_in[3:6])
ctx.claim(creep, ">", 5, f"the plug-in estimate should grow with the degree (degrees 8-10 vs 3-5: ×{creep:.0f})")
growth = variance[10] / variance[3]
ctx.claim(growth, ">", 30, f"the variance should grow steeply from degree 3 to 10 (×{growth:.0f})")
# the expected test error above the noise floor (bias² + variance) is lowest for the true degree
excess = total - sigma**2
runner_up = min(excess[d] / excess[3] for d in BV_DEGREES if d != 3)
ctx.claim(runner_up, ">", 1, f"the expected test error should be lowest at degree 3 (next best ×{runner_up:.2f})")

# %% [markdown]
# * Below degree 3 the error is almost all **bias**. From degree 3 on the cubic is inside the model
#   family, so the bias is zero: the unbiased estimate scatters around 0 by about its Monte-Carlo error (shaded;
#   at a single degree it may stray outside the ±2·Var/R band, so the check pools degrees 3 to 10), while the
#   plug-in $(\bar f - f)^2$ (dotted) creeps upwards with the variance, an artefact of averaging only
#   $R$ fits, not a property of the model.
# * From degree 3 on, **variance** grows with the degree, a hundredfold and more by degree 10 (over the seeds we
#   tried, not always at every single step: with 38 points, one unlucky draw of $x$ values can make a fit wild).
#   (Below 3 the variance is not small either: how a wrong model misses depends on where its 38
#   points happen to fall.)
# * The measured test error (red crosses) equals bias² + variance + σ²; its minimum, the best
#   trade-off, is at the true degree. The noise floor σ² = 0.09 is out of every model's reach.

# %% [markdown]
# ## 5. Why the data loss is not enough: W or 2W?
# Take a linear classifier with scores $s = Wx + b$ and the multiclass hinge (SVM) loss
# $$L_i = \frac1C \sum_{j \neq y_i} \max\big(0,\ 1 - (s_{y_i} - s_j)\big)$$
# (`nn.MultiMarginLoss`). Suppose some $W$ gives $L = 0$: every correct score beats every other by a
# margin of at least 1. Then $2W$ (with $2b$) doubles every margin, so **$2W$ has $L = 0$ as well** —
# and so has $cW$ for every $c \ge 1$. The data loss cannot tell them apart; both classify identically.
#
# With cross-entropy it is worse: once all margins are positive, scaling $W$ up *always* lowers
# $L_i = \log\big(1 + \sum_{j\ne y_i} e^{-(s_{y_i} - s_j)}\big)$, towards 0 as $c \to \infty$. There is no
# minimizer, and gradient descent just keeps growing the weights.
#
# A **regularizer** adds a preference that does not depend on the data,
# $$J(W) = \frac1m \sum_i L_i(W) + \frac{\lambda}{2} R(W), \qquad R(W) = \lVert W\rVert^2 = \sum_{k,l} W_{kl}^2$$
# (the ½ makes the gradient of the penalty exactly $\lambda W$; notebook 02 uses the same convention),
# and $R(2W) = 4R(W)$: between two equally good fits it prefers the smaller weights. We check the
# claims on 100 MNIST-1D examples, few enough for a linear model to separate them perfectly.

# %% [markdown]
# ### A linear classifier with zero hinge loss, scaled

# %%
few = m1d.train.subset(100, generator=ctx.rng(0))
hinge, cross_entropy = nn.MultiMarginLoss(), nn.CrossEntropyLoss()


def stop_at_zero_loss(state):
    if state.logs["train_loss"] == 0.0:
        state.stop = True


linear = mlp(m1d.num_features, [], m1d.num_classes, generator=ctx.rng(0))  # no hidden layer: s = Wx + b
hinge_hist = fit(linear, few, epochs=3000, batch_size=len(few), lr=2.0, loss_fn=hinge, seed=0,
                 callbacks=[LambdaCallback(on_epoch_end=stop_at_zero_loss)])
print(f"hinge loss reached {hinge_hist.last('train_loss')} after {len(hinge_hist)} full-batch steps")
ctx.claim(len(hinge_hist), "<", 3000, "100 examples: a linear classifier should reach zero hinge loss within 3000 steps")

# %% [markdown]
# ### The same classifier at four scales

# %%
def scaled(net, c):
    """A copy of `net` with every parameter multiplied by c (W → cW, b → cb)."""
    net = copy.deepcopy(net)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(c)
    return net


table = {}
for c in (0.5, 1, 2, 4):
    net = scaled(linear, c)
    table[c] = (evaluate(net, few, hinge)["loss"], evaluate(net, few, cross_entropy)["loss"],
                evaluate(net, few)["acc"], net[-1].weight.pow(2).sum().item())
    print(f"{c:>3}·W: hinge {table[c][0]:.4f}  cross-entropy {table[c][1]:.4f}  "
          f"train acc {table[c][2]:.2f}  R(W) = ΣW² {table[c][3]:7.1f}")

# %% [markdown]
# ### Checking the claims
# $W$ and $2W$ both have zero hinge loss and make the same predictions; cross-entropy keeps falling as $W$ grows;
# and the penalty grows fourfold.

# %%
assert table[1][0] == 0.0 and table[2][0] == 0.0, "W and 2W should both have exactly zero hinge loss"
with torch.no_grad():
    same = all(torch.equal(linear(m1d.val.x).argmax(1), scaled(linear, c)(m1d.val.x).argmax(1)) for c in (0.5, 2, 4))
assert same, "scaling W by c > 0 must not change a single prediction"
assert table[0.5][1] > table[1][1] > table[2][1] > table[4][1], "cross-entropy keeps falling as W grows"
assert math.isclose(table[2][3], 4 * table[1][3], rel_tol=1e-5), "R(2W) = 4 R(W)"

# %% [markdown]
# ### What gradient descent does about it
# Train the same linear model with cross-entropy, without and with
# an L2 penalty $\frac{\lambda}{2} \sum W^2$ (added to the loss by a callback; notebook 02 is all about it), and
# watch $\lVert W \rVert$.

# %%
norms = {}
for lam in (0.0, 2e-2):
    net = mlp(m1d.num_features, [], m1d.num_classes, generator=ctx.rng(0))
    norms[lam] = []
    callbacks = [LambdaCallback(on_epoch_end=lambda s, out=norms[lam]: out.append(s.model[-1].weight.norm().item()))]
    if lam:
        callbacks.append(LambdaCallback(extra_loss=lambda s, lam=lam: lam / 2 * s.model[-1].weight.pow(2).sum()))
    fit(net, few, epochs=ctx.pick(fast=400, full=400), batch_size=len(few), lr=1.0, seed=0, callbacks=callbacks)
    print(f"λ = {lam}: ‖W‖ = {norms[lam][-1]:.2f}, train accuracy {evaluate(net, few)['acc']:.2f}")

# %% [markdown]
# ### Scaling W, and what gradient descent does with the norm

# %% {"tags": ["plot"]}
c_grid = np.linspace(0.05, 4, 80)
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for loss_fn, label in ((hinge, "hinge (SVM)"), (cross_entropy, "cross-entropy")):
    axes[0].plot(c_grid, [evaluate(scaled(linear, c), few, loss_fn)["loss"] for c in c_grid], label=label)
axes[0].axvline(1, color="gray", linestyle=":", label="W found by training")
axes[0].set(xlabel="scale c", ylabel="training loss of cW", title="Same classifier, different losses")
axes[0].legend()
for lam, label in ((0.0, "no penalty"), (2e-2, "L2 penalty, λ = 0.02")):
    axes[1].plot(range(1, len(norms[lam]) + 1), norms[lam], label=label)
axes[1].set(xlabel="epoch (one full-batch step)", ylabel="‖W‖", title="Weight norm under cross-entropy")
axes[1].legend()
fig.tight_layout()
plt.show()

# %%
half = len(norms[0.0]) // 2
print(f"no penalty: ‖W‖ {norms[0.0][half - 1]:.2f} at step {half} → {norms[0.0][-1]:.2f} at step {2 * half}")
print(f"L2 penalty: ‖W‖ {norms[2e-2][half - 1]:.2f} at step {half} → {norms[2e-2][-1]:.2f} at step {2 * half}")
free_growth = norms[0.0][-1] / norms[0.0][half - 1] - 1
penalized_drift = abs(norms[2e-2][-1] / norms[2e-2][half - 1] - 1)
ctx.claim(free_growth, ">", 0.1, f"without a penalty the weights should keep growing (by {free_growth:.1%})")
ctx.claim(penalized_drift / free_growth, "<", 0.1,
          f"with the penalty the norm should settle (it moved {penalized_drift:.2%}, the free norm {free_growth:.1%})")

# %% [markdown]
# Without a penalty the norm never settles: every step makes the same predictions more confident.
# With the penalty, the weights settle where the pull of the data loss balances the pull towards zero.
# The data chose *what* to predict; the regularizer chose *one* $W$ among all that predict it.

# %% [markdown]
# ## Summary
# - A training loop has three data splits with three jobs: training data moves the weights, validation
#   data watches generalization and makes the choices, test data is used once for the final number.
#   Count real batch sizes, accumulate detached numbers, and evaluate in eval mode without gradients.
# - **Underfitting**: training and validation error close together and high; more data does not help,
#   more capacity does. **Overfitting**: a large gap, training error near zero; more data or
#   regularization helps. Learning curves over epochs and over training-set size show which one you have.
# - Expected test error = bias² + variance + noise. More capacity trades bias for variance; the
#   validation error finds the balance (degree 3 for the cubic).
# - The data loss does not pick a unique $W$: $W$ and $2W$ classify identically, and cross-entropy even
#   rewards growing $W$ forever. A regularizer $\frac{\lambda}{2} R(W)$ breaks the tie — the subject of the next notebooks.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — counting parameters
# Write `n_params(in_features, hidden, out_features)` that returns the number of trainable parameters of
# `mlp(in_features, hidden, out_features)` (for example `hidden = [256, 256]`), **without** building the
# network. The check compares it with `count_parameters` on several shapes.

# %% {"tags": ["exercise"]}
def n_params(in_features, hidden, out_features):
    raise NotImplementedError  # replace with your code

# %%
ex.check_parameter_count(n_params)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# A `Linear(a, b)` layer has an $a \times b$ weight matrix and $b$ biases: $(a + 1)\,b$ parameters.
# The layer sizes are `[in_features, *hidden, out_features]`; sum $(a+1)\,b$ over consecutive pairs.
# For 40 → 256 → 256 → 10: $41\cdot256 + 257\cdot256 + 257\cdot10 = 78{,}858$, about 25 parameters per
# training example. That such a network *can* memorize its training set is no surprise.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def n_params_solution(in_features, hidden, out_features):
    sizes = [in_features, *hidden, out_features]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


assert ex.check_parameter_count(n_params_solution)

# %% [markdown]
# ### Exercise 2 — the training loop
# Write the loop of section 1 yourself: `my_train(model, x, y, epochs, batch_size, lr, generator)` trains
# `model` in place with plain SGD (`torch.optim.SGD(model.parameters(), lr=lr)`) and cross-entropy, and returns a
# list with the **mean training loss of each epoch** (every sample counted once). At the start of every epoch
# shuffle with `order = torch.randperm(len(x), generator=generator)` and take the batches
# `order[i : i + batch_size]` in turn. The check runs your loop and `fit` on the same model, data and generator:
# the loss curves and the final weights must agree.

# %% {"tags": ["exercise"]}
def my_train(model, x, y, epochs, batch_size, lr, generator):
    raise NotImplementedError  # replace with your code

# %%
ex.check_training_loop(my_train)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# One optimizer for the whole run; per epoch one new permutation; per batch the five steps `zero_grad`, forward,
# loss, `backward`, `step`; and for the record `loss.item() * len(idx)` summed and divided by `len(x)`, so the short
# last batch (the check uses 107 samples in batches of 25) weighs what it holds. Forgetting `zero_grad` adds up the
# gradients of all earlier batches; averaging the batch means over-weights the last batch; shuffling once (or never)
# gives other batches than `fit`. The check names whichever of these it sees.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def my_train_solution(model, x, y, epochs, batch_size, lr, generator):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
    return losses


assert ex.check_training_loop(my_train_solution)

# %% [markdown]
# ### Exercise 3 — an evaluation function
# Write `my_evaluate(model, x, y, batch_size)` returning `{"loss": ..., "acc": ...}`: the mean
# cross-entropy and the accuracy over **all** samples of `(x, y)`, computed batch by batch. It must
# switch the model to eval mode, track no gradients, work when `batch_size` does not divide the number of
# samples, and leave the model in the mode it found it in. (The check uses a model with dropout and 203
# samples in batches of 50.)

# %% {"tags": ["exercise"]}
def my_evaluate(model, x, y, batch_size):
    raise NotImplementedError  # replace with your code

# %%
ex.check_evaluate(my_evaluate, device=ctx.device)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Remember the mode, call `model.eval()`, and loop under `torch.no_grad()`. For each batch add
# `loss * len(yb)` (the batch's *summed* loss) and the number of correct arg-maxes; divide both by the
# number of samples at the end. Dividing by `number_of_batches * batch_size`, or averaging the batch means,
# gives the small last batch the wrong weight. Finally `model.train(was_training)`. This is what
# `course_lib.training.evaluate` does.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def my_evaluate_solution(model, x, y, batch_size):
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            logits = model(xb)
            total_loss += nn.functional.cross_entropy(logits, yb).item() * len(yb)
            correct += (logits.argmax(dim=1) == yb).sum().item()
    model.train(was_training)
    return {"loss": total_loss / len(x), "acc": correct / len(x)}


assert ex.check_evaluate(my_evaluate_solution, device=ctx.device)

# %% [markdown]
# ### Exercise 4 — diagnose the learning curves
# Three models were trained on growing training sets. Label each one `"underfitting"`,
# `"overfitting"` or `"good fit"`.

# %%
ex.plot_diagnosis_curves()
plt.show()

# %% {"tags": ["exercise"]}
diagnosis = {"A": None, "B": None, "C": None}  # replace None by "underfitting", "overfitting" or "good fit"

# %%
ex.check_diagnosis(diagnosis)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# **A** overfits: training error near zero, validation error far above it; the gap narrows only slowly
# with more data. **B** fits well: the curves end close together at a low error. **C** underfits: the
# training error itself climbs to a high plateau and the validation error meets it there; more data will
# not help C, a bigger model will.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
diagnosis_solution = {"A": "overfitting", "B": "good fit", "C": "underfitting"}
assert ex.check_diagnosis(diagnosis_solution)
