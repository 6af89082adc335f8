# %% [markdown]
# # 08 · Weight initialization and gradient flow
#
# **Learning objectives.** After this notebook you can
# 1. **explain** why a constant initialization keeps every unit of a layer identical, however long you train;
# 2. **derive** $\mathrm{Var}(Y) = n\,\mathrm{Var}(W)\,\mathrm{Var}(X)$ and from it the scales of Xavier/Glorot, He and LeCun
#    initialization, with the fans of Linear and convolutional weights;
# 3. **reproduce** the lecture's 10-layer tanh experiment: activations that collapse (0.01·randn), saturate (1.0·randn) or stay
#    healthy (Xavier), and ReLU activations kept level by He initialization;
# 4. **measure** vanishing and exploding gradients layer by layer with forward/backward hooks;
# 5. **use** gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) to bound the step of an exploding gradient.
#
# *Lecture:* "Regularization" (Computer Vision: constant init, small random numbers, the 10-layer tanh experiment and its
# activation statistics, the fan-in-scaled init for ReLU); "How to Train ConvNets" (Stephen Baek: weights that move in the
# same direction, the derivation of $\mathrm{Var}(Y)$, Xavier and He); "Regularization and Optimization of DNNs" (Applied
# Machine Learning: vanishing/exploding gradients, Xavier with $\text{fan}_{\text{avg}}$, the table of initializations per
# activation, gradient clipping).
# *Runs in:* about 20 s on one CPU core (fast profile).

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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches the two training experiments (sections 1 and
# 7) to MNIST; the activation experiments are synthetic and the same in both profiles.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector

from course_lib import evaluate, fit, load_dataset, setup_notebook, show_source
from course_lib.exercises import ex08 as ex
from course_lib.gradients import clip_grad_norm_, clip_grad_value_, format_stats, layer_stats
from course_lib.init import calculate_gain, fan_in_and_fan_out, initialize, kaiming_normal_, xavier_uniform_

ctx = setup_notebook(seed=0)
SEEDS = [0, 1]
DATASET = ctx.pick(fast="digits", full="mnist")
COLORS = {"constant": "C7", "small": "C0", "large": "C3", "xavier": "C2",
          "xavier53": "C8", "he": "C4", "relu_xavier": "C1", "clipped": "C9"}

# %% [markdown]
# ## 1. Constant initialization: every unit stays the same
# What happens when every weight starts at the same value $c$ (zero being the extreme case)? All hidden units of a layer then
# compute the **same** function of the input, so they get the **same** gradient, take the same step, and are equal again after
# it. By induction this holds after any number of steps, whatever the optimizer (SGD, Adam: all work entry by entry): the
# "weight values move in the same direction", and a layer of 32 units behaves like a layer of one. Random initialization
# **breaks the symmetry**.
#
# We train the same MLP (two tanh layers of 32 units, Adam, learning rate $10^{-2}$) on the 8×8 digits twice: once with every
# weight $= 0.1$ (`constant_`), once with Xavier initialization, biases zero in both.

# %%
def digits_mlp(n_in, n_classes, width=32):
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in, width), nn.Tanh(), nn.Linear(width, width), nn.Tanh(),
                         nn.Linear(width, n_classes))


sym_runs = {}
for seed in SEEDS:
    data = load_dataset(DATASET, seed=seed, device=ctx.device)
    n_in, n_classes = data.train.x[0].numel(), 10
    for name, scheme, kw in (("constant", "constant", dict(val=0.1)),
                             ("xavier", "xavier_normal", dict(nonlinearity="tanh"))):
        model = initialize(digits_mlp(n_in, n_classes), scheme, generator=ctx.rng(seed), **kw)
        hist = fit(model, data.train, data.val, epochs=ctx.epochs(fast=20, full=3), optimizer=torch.optim.Adam,
                   lr=1e-2, batch_size=50, seed=seed, progress=False)
        W1 = model[1].weight.detach()
        sym_runs[(name, seed)] = dict(W1=W1.cpu(), spread=(W1 - W1[0]).abs().max().item(), val=hist.val_acc[-1])
        print(f"seed {seed}  {name:>8}: max |row i - row 0| of W1 = {sym_runs[(name, seed)]['spread']:.2e}"
              f"   val acc = {hist.val_acc[-1]:.3f}")

# %% [markdown]
# ### The first layer's weights after training (seed 0)

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for ax, name, title in ((axes[0], "constant", "constant init (0.1)"), (axes[1], "xavier", "Xavier init")):
    W = sym_runs[(name, 0)]["W1"]
    lim = W.abs().max().item()
    im = ax.imshow(W[:, :64], cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto")
    ax.set(xlabel="input pixel j (first 64)", ylabel="hidden unit i", title=f"{title}: $W_{{ij}}$ after training")
    ax.grid(False)
    fig.colorbar(im, ax=ax)
plt.show()

# %% [markdown]
# Every row of the constant-init layer is the same row: 32 hidden units, one feature.

# %% [markdown]
# ### Checking the claim
# After training, the rows of the constant-init layer are equal to float precision (an identity: every unit computes the same
# numbers, so it is asserted exactly, up to $10^{-6}$), while the Xavier rows differ by more than 0.5; and the symmetric
# network is far worse: below 50% validation accuracy, and at least 0.4 behind the Xavier one, on both seeds. (Over the
# seeds and kernel sets we tried, the constant-init net ended at 0.16–0.27 and the Xavier one at 0.92–0.98.)

# %%
for seed in SEEDS:
    const, xav = sym_runs[("constant", seed)], sym_runs[("xavier", seed)]
    assert const["spread"] < 1e-6, "constant init: the hidden units should stay identical"
    ctx.claim(xav["spread"], ">", 0.5, f"seed {seed}: the Xavier rows should differ (max |row i - row 0| "
              f"{xav['spread']:.2f})")
    ctx.claim(const["val"], "<", 0.5, f"seed {seed}: the symmetric net should stay below 50% (val acc {const['val']:.3f})")
    ctx.claim(xav["val"] - const["val"], ">", 0.4, f"seed {seed}: the symmetric net should be far worse than Xavier "
              f"(val acc {const['val']:.3f} vs {xav['val']:.3f})")

# %% [markdown]
# ## 2. How the scale of the weights propagates
# So the weights must be random. How large? Take one unit $Y = \sum_{i=1}^{n} W_i X_i$ with independent $W_i$, $X_i$,
# $\mathbb{E}[W_i] = 0$. Variances of independent terms add, and for independent $W$ and $X$
#
# $$\mathrm{Var}(W X) = \mathrm{Var}(W)\mathrm{Var}(X) + \mathrm{Var}(W)\,\mathbb{E}[X]^2 + \mathbb{E}[W]^2\,\mathrm{Var}(X),$$
#
# so with $\mathbb{E}[W] = \mathbb{E}[X] = 0$
#
# $$\boxed{\mathrm{Var}(Y) = n\,\mathrm{Var}(W)\,\mathrm{Var}(X)}.$$
#
# Each layer multiplies the variance of its signal by $n\,\mathrm{Var}(W)$. Keeping it at 1 needs $\mathrm{Var}(W) = 1/n$.
# A numerical check, with $X$ unit-Gaussian and also with $\mathbb{E}[X] = 1$, where the formula with the mean term applies:

# %%
# NBVAL_CHECK_OUTPUT
g = ctx.rng(3)
print("   n  std(W)  E[X] | Var(Y) measured  n·Var(W)·(Var(X) + E[X]²)")
for n, std_w, mean_x in ((10, 0.3, 0.0), (100, 0.1, 0.0), (500, 0.01, 0.0), (500, 1 / math.sqrt(500), 0.0),
                         (500, 1 / math.sqrt(500), 1.0)):
    X = torch.randn(4000, n, generator=g) + mean_x
    W = std_w * torch.randn(n, 300, generator=g)
    Y = X @ W                                    # 300 units, each a sum of n products
    predicted = n * std_w ** 2 * (X.var() + X.mean() ** 2).item()
    print(f"{n:4d}  {std_w:6.4f}  {mean_x:4.1f} | {Y.var().item():15.3f}  {predicted:10.3f}")
    ctx.claim(abs(Y.var().item() / predicted - 1), "<", 0.1, f"n = {n}, std(W) = {std_w:.4f}, E[X] = {mean_x}: "
              f"Var(Y) = {Y.var().item():.3f} should match the formula {predicted:.3f} within 10%")

# %% [markdown]
# ## 3. Fans and the initializers
# A weight of shape `(out, in)` (`nn.Linear`) or `(out_channels, in_channels, k_h, k_w)` (`nn.Conv2d`) has
#
# $$\text{fan}_{\text{in}} = \text{in\_channels}\cdot k_h k_w, \qquad \text{fan}_{\text{out}} = \text{out\_channels}\cdot k_h k_w,
# \qquad \text{fan}_{\text{avg}} = (\text{fan}_{\text{in}} + \text{fan}_{\text{out}})/2 :$$
#
# each output of a convolution sums over all input channels *and* the kernel window. The lecture's table
# ("Regularization and Optimization of DNNs"):
#
# | initialization | activations | $\mathrm{Var}(W)$ | normal | uniform $U(-r, r)$ |
# | --- | --- | --- | --- | --- |
# | Glorot / Xavier | linear, tanh, logistic, softmax | $1/\text{fan}_{\text{avg}}$ | `xavier_normal_` | $r = \sqrt{3/\text{fan}_{\text{avg}}} = \sqrt{6/(\text{fan}_{\text{in}}+\text{fan}_{\text{out}})}$ |
# | He / Kaiming | ReLU and variants | $2/\text{fan}_{\text{in}}$ | `kaiming_normal_` | $r = \sqrt{6/\text{fan}_{\text{in}}}$ |
# | LeCun | SELU | $1/\text{fan}_{\text{in}}$ | `lecun_normal_` | |
#
# ($U(-r, r)$ has variance $r^2/3$.) Xavier's $\text{fan}_{\text{avg}}$ is a compromise between keeping the variance of the
# activations (forward, $\text{fan}_{\text{in}}$) and of the gradients (backward, $\text{fan}_{\text{out}}$). Two slides
# write these scales loosely: "$\text{std}(W) = 2/\sqrt{n}$" for He means variance $2/n$, i.e. $\text{std} = \sqrt{2/n}$, and
# `randn(fan_in, fan_out) / np.sqrt(2/fan_in)` should multiply by $\sqrt{2/\text{fan}_{\text{in}}}$.
#
# `course_lib.init` implements them as drop-ins for `torch.nn.init` (same names and arguments, in place, same draws from the
# same generator):

# %% {"tags": ["listing"]}
show_source(fan_in_and_fan_out)
show_source(xavier_uniform_)
show_source(kaiming_normal_)

# %% [markdown]
# ### Fans and gains in practice
# PyTorch's `gain` multiplies the standard deviation: `calculate_gain("relu")` $= \sqrt 2$ turns $1/\text{fan}_{\text{in}}$ into
# the lecture's He variance $2/\text{fan}_{\text{in}}$; for tanh PyTorch recommends $5/3$.

# %%
# NBVAL_CHECK_OUTPUT
for layer in (nn.Linear(784, 300), nn.Conv1d(8, 16, 5), nn.Conv2d(3, 16, 3)):
    fan_in, fan_out = fan_in_and_fan_out(layer.weight)
    print(f"{str(layer):<58} weight {str(tuple(layer.weight.shape)):<15} fan_in {fan_in:4d}  fan_out {fan_out:4d}")
print("gains: tanh", round(calculate_gain("tanh"), 4), " relu", round(calculate_gain("relu"), 4),
      " linear", calculate_gain("linear"))
w_ours = kaiming_normal_(torch.empty(16, 3, 3, 3), nonlinearity="relu", generator=ctx.rng(1))
w_torch = nn.init.kaiming_normal_(torch.empty(16, 3, 3, 3), nonlinearity="relu", generator=ctx.rng(1))
print("kaiming_normal_ == torch.nn.init.kaiming_normal_ (same generator):", torch.equal(w_ours, w_torch))
assert torch.equal(w_ours, w_torch)

# %% [markdown]
# ## 4. The lecture's experiment: 10 tanh layers of 500 units
# Unit-Gaussian input (1000 examples × 500 features), 10 layers $h_l = \tanh(W_l h_{l-1})$ of 500 units without bias, and four
# initializations of the $500 \times 500$ weights:
#
# - **small**: $W = 0.01\cdot\text{randn}$, the lecture's first idea; each layer multiplies the std by about
#   $0.01\sqrt{500} \approx 0.22$;
# - **large**: $W = 1.0\cdot\text{randn}$; the pre-activations have std $\approx\sqrt{500} \approx 22$;
# - **Xavier**: $\mathrm{Var}(W) = 1/\text{fan}_{\text{avg}} = 1/500$ (`xavier_normal_`, gain 1, as in the lecture);
# - **Xavier × 5/3**: the same with PyTorch's tanh gain.
#
# `course_lib.gradients.layer_stats` runs the batch through the model with forward hooks on the chosen layer types and, with a
# backward pass, records the gradient reaching each of them (section 6). Here we read the statistics of the tanh outputs.

# %% {"tags": ["listing"]}
show_source(layer_stats)


def deep_net(act=nn.Tanh, depth=10, width=500):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, bias=False), act()]
    return nn.Sequential(*layers)


INITS = {"small": dict(scheme="small_normal", std=0.01), "large": dict(scheme="small_normal", std=1.0),
         "xavier": dict(scheme="xavier_normal"), "xavier53": dict(scheme="xavier_normal", nonlinearity="tanh"),
         "he": dict(scheme="kaiming_normal"), "relu_xavier": dict(scheme="xavier_normal")}
LABELS = {"small": "0.01·randn", "large": "1.0·randn", "xavier": "Xavier", "xavier53": "Xavier × 5/3",
          "he": "He (ReLU)", "relu_xavier": "Xavier (ReLU)"}


def deep_run(name, seed):
    """Statistics of the 10 activation layers and 10 Linear layers for init `name` on the seed's unit-Gaussian batch."""
    act = nn.ReLU if name in ("he", "relu_xavier") else nn.Tanh
    model = initialize(deep_net(act), generator=ctx.rng(100 + seed), **INITS[name]).to(ctx.device)
    x = torch.randn(1000, 500, generator=ctx.rng(seed)).to(ctx.device)
    top_grad = torch.randn(1000, 500, generator=ctx.rng(200 + seed)).to(ctx.device)  # ∂L/∂(output), unit Gaussian
    recs = layer_stats(model, x, grad_output=top_grad, layer_types=(nn.Linear, act), hist_range=(-1, 1), bins=41)
    return {"acts": [r for r in recs if r.kind != "Linear"], "linears": [r for r in recs if r.kind == "Linear"]}


# %%
deep = {(name, seed): deep_run(name, seed) for seed in SEEDS for name in INITS}
print("input: mean 0, std 1 (unit Gaussian)      std of the tanh activations, seed 0")
print("layer " + "".join(f"{LABELS[n]:>14s}" for n in ("small", "large", "xavier", "xavier53")) + "   saturated (1.0·randn)")
for i in range(10):
    row = "".join(f"{deep[(n, 0)]['acts'][i].std:14.3g}" for n in ("small", "large", "xavier", "xavier53"))
    print(f"{i + 1:5d} {row}   {deep[('large', 0)]['acts'][i].saturated:8.1%}")

# %% [markdown]
# ### Means and standard deviations per layer (seed 0)

# %% {"tags": ["plot"]}
layers = range(1, 11)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for name in ("small", "large", "xavier", "xavier53"):
    acts = deep[(name, 0)]["acts"]
    axes[0].plot(layers, [r.mean for r in acts], "o-", color=COLORS[name], label=LABELS[name])
    axes[1].plot(layers, [r.std for r in acts], "o-", color=COLORS[name], label=LABELS[name])
axes[0].set(xlabel="layer", ylabel="mean of the activations", title="Layer mean", ylim=(-0.05, 0.05))
axes[1].set(xlabel="layer", ylabel="std of the activations (log scale)", title="Layer std", yscale="log")
axes[1].legend(loc="lower left")
plt.show()

# %% [markdown]
# The means stay at 0 in all four (tanh is odd and the weights symmetric). The standard deviations tell them apart:
# 0.01·randn loses a factor $\approx 0.22$ per layer, down to $3\cdot10^{-7}$ at layer 10 ("activations become zero"); 1.0·randn
# stays at $\approx 0.98$ because 90% of the outputs sit at $\pm 1$; Xavier decays gently from 0.63 to 0.23; PyTorch's tanh
# gain $5/3$ holds it at about 0.65.

# %% [markdown]
# ### The distributions, layer by layer (seed 0)

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
shades = {1: 0.35, 3: 0.55, 6: 0.75, 10: 1.0}
for ax, name in zip(axes, ("small", "large", "xavier")):
    for layer, alpha in shades.items():
        rec = deep[(name, 0)]["acts"][layer - 1]
        centers = ((rec.edges[:-1] + rec.edges[1:]) / 2).numpy()
        ax.plot(centers, (rec.hist / rec.hist.sum()).numpy(), color=COLORS[name], alpha=alpha, label=f"layer {layer}")
    ax.set(xlabel="activation value", ylabel="fraction of values", title=LABELS[name], yscale="log", ylim=(1e-4, 1.5))
    ax.legend()
plt.show()

# %% [markdown]
# With 0.01·randn the values pile up at 0: from layer 3 on, nearly all of them fall in the central bin (width 0.05); with
# 1.0·randn almost everything sits in the outer bins, where $\tanh' \approx 0$; Xavier's distributions narrow from layer to
# layer but stay spread out.

# %% [markdown]
# ### Checking the claims, on both seeds
# Against the formula (0.01·randn: each layer multiplies the std by $0.01\sqrt{500} \approx 0.224$, the lecture's
# $\approx 0.22$) and COURSE's reference run (Xavier $\approx 0.63 \to 0.23$), with margins a broken experiment would miss.
# These statistics average over 500 000 values each: over seeds 0–7 they moved in the third decimal only.

# %%
FACTOR_SMALL = 0.01 * math.sqrt(500)                 # n·Var(W) = 500 · 0.01², as a factor on the std
for seed in SEEDS:
    small, large, xav, xav53 = ([r.std for r in deep[(n, seed)]["acts"]] for n in ("small", "large", "xavier", "xavier53"))
    factors = [small[0]] + [b / a for a, b in zip(small, small[1:])]     # layer 1: the input has std 1
    worst = max(abs(f / FACTOR_SMALL - 1) for f in factors)
    ctx.claim(worst, "<", 0.1, f"seed {seed}: 0.01·randn should shrink the std by ≈{FACTOR_SMALL:.3f} in every layer "
              f"(factors {min(factors):.3f}–{max(factors):.3f})")
    ctx.claim(small[-1], "<", 1e-6, f"seed {seed}: 0.01·randn should collapse to ≈0 by layer 10 (std {small[-1]:.1e})")
    saturated = min(r.saturated for r in deep[("large", seed)]["acts"])
    ctx.claim(saturated, ">", 0.75, f"seed {seed}: 1.0·randn should saturate most units in every layer "
              f"(at least {saturated:.1%})")
    ctx.claim(min(large), ">", 0.8, f"seed {seed}: 1.0·randn: the activations should sit near ±1 (std ≥ {min(large):.3f})")
    ctx.claim(abs(xav[0] - 0.63), "<", 0.1, f"seed {seed}: Xavier: layer 1 std should be ≈0.63 ({xav[0]:.3f})")
    ctx.claim(xav[-1] / xav[0], "<", 0.5, f"seed {seed}: Xavier should decay over the ten layers "
              f"({xav[0]:.3f} -> {xav[-1]:.3f})")
    ctx.claim(xav[-1], ">", 0.15, f"seed {seed}: Xavier should not collapse (layer 10 std {xav[-1]:.3f})")
    ctx.claim(min(xav53) / max(xav53), ">", 0.7, f"seed {seed}: Xavier with gain 5/3 should hold the std level "
              f"({min(xav53):.3f}–{max(xav53):.3f})")
print("seed 0, Xavier: layer 1", round(deep[("xavier", 0)]["acts"][0].std, 3), "-> layer 10",
      round(deep[("xavier", 0)]["acts"][-1].std, 3))

# %% [markdown]
# ## 5. ReLU needs He initialization
# Xavier's derivation assumes a unit that is linear near 0. A ReLU zeroes the negative half of its input, which halves the
# second moment that reaches the next layer: with $\mathrm{Var}(W) = 1/n$ the signal shrinks by $\sqrt{1/2}$ per layer. He et
# al. (2015) double the variance, $\mathrm{Var}(W) = 2/\text{fan}_{\text{in}}$ (`kaiming_normal_(w, nonlinearity="relu")`, the
# default of `initialize(model, "kaiming_normal")`). The same 10 × 500 net with ReLU:

# %%
print("layer   He: mean    std  dead units | Xavier: std")
for i in range(10):
    he, xr = deep[("he", 0)]["acts"][i], deep[("relu_xavier", 0)]["acts"][i]
    print(f"{i + 1:5d}  {he.mean:10.3f} {he.std:6.3f} {he.dead:6d}     | {xr.std:10.4f}")

# %% [markdown]
# ### ReLU activations per layer (seed 0)

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for name in ("he", "relu_xavier"):
    acts = deep[(name, 0)]["acts"]
    axes[0].plot(layers, [r.mean for r in acts], "o-", color=COLORS[name], label=LABELS[name])
    axes[1].plot(layers, [r.std for r in acts], "o-", color=COLORS[name], label=LABELS[name])
axes[0].set(xlabel="layer", ylabel="mean of the activations", title="Layer mean (ReLU)", ylim=(0, 0.7))
axes[1].set(xlabel="layer", ylabel="std of the activations", title="Layer std (ReLU)", ylim=(0, 1.0))
axes[1].legend()
plt.show()

# %% [markdown]
# ### Checking the claim
# With He initialization layer 10's std stays within a factor 2 of layer 1's, no layer's std falls below 0.5 and no
# layer's mean below 0.3 (over the seeds and kernel sets we tried: layer 10 / layer 1 between 0.83 and 1.32, smallest layer
# std 0.68–0.83, smallest layer mean 0.44–0.56; the lecture's run: means 0.55–0.62, stds 0.81–0.89); with Xavier the ReLU
# net loses more than 90% of it ($\sqrt{1/2}^{\,9} \approx 0.04$).
# The deeper He layers wander a little (a random walk of 500 units per layer) and some units die: the table above counts
# units that output 0 on all 1000 examples.

# %%
for seed in SEEDS:
    he, xr = deep[("he", seed)]["acts"], deep[("relu_xavier", seed)]["acts"]
    kept = he[-1].std / he[0].std
    ctx.claim(abs(math.log(kept)), "<", math.log(2), f"seed {seed}: He should keep the ReLU std level, within a factor 2 "
              f"(layer 10 / layer 1 = {kept:.2f})")
    ctx.claim(min(r.std for r in he), ">", 0.5, f"seed {seed}: He: every layer's std should stay large")
    ctx.claim(min(r.mean for r in he), ">", 0.3, f"seed {seed}: He: every layer's mean should stay large")
    ctx.claim(xr[-1].std / xr[0].std, "<", 0.1, f"seed {seed}: Xavier should let the ReLU activations shrink "
              f"(layer 10 / layer 1 = {xr[-1].std / xr[0].std:.3f})")

# %% [markdown]
# ## 6. Vanishing and exploding gradients
# Backpropagation runs the same chain the other way: through layer $l$ the gradient is multiplied by $W_l^\top$ and by
# $\tanh'(z_l) = 1 - \tanh^2(z_l)$. We inject a unit-Gaussian gradient $\partial L/\partial h_{10}$ at the top of each net of
# section 4 and read, per layer, the std of $\partial L/\partial h_l$ and the norm of the weight gradient
# $\partial L/\partial W_l = (\partial L/\partial z_l)^\top h_{l-1}$, which is what SGD uses:

# %%
print("layer    std of dL/dh_l:  0.01·randn    1.0·randn       Xavier  |  ‖dL/dW_l‖: 0.01·randn   1.0·randn     Xavier")
for i in range(10):
    g_std = "".join(f"{deep[(n, 0)]['acts'][i].grad_std:13.3g}" for n in ("small", "large", "xavier"))
    w_norm = "".join(f"{deep[(n, 0)]['linears'][i].weight_grad_norm:12.3g}" for n in ("small", "large", "xavier"))
    print(f"{i + 1:5d}  {g_std}  | {w_norm}")

# %% [markdown]
# ### Gradients per layer (seed 0)

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for name in ("small", "large", "xavier"):
    rec = deep[(name, 0)]
    axes[0].plot(layers, [r.grad_std for r in rec["acts"]], "o-", color=COLORS[name], label=LABELS[name])
    axes[1].plot(layers, [r.weight_grad_norm for r in rec["linears"]], "o-", color=COLORS[name], label=LABELS[name])
axes[0].set(xlabel="layer", ylabel=r"std of $\partial L/\partial h_l$", title="Gradient reaching each layer", yscale="log")
axes[1].set(xlabel="layer", ylabel=r"$\|\partial L/\partial W_l\|$", title="Gradient of each weight matrix", yscale="log")
axes[0].legend()
plt.show()

# %% [markdown]
# Read the left panel from right to left, the way the gradient travels. With 0.01·randn it **vanishes**: $\times 0.22$ per
# layer, $10^{-6}$ at layer 1, and the weight gradients are tiny in every layer (they are also multiplied by the collapsed
# activations $h_{l-1}$). With 1.0·randn it **explodes**: each layer multiplies it by $\sqrt{500}$ times the small derivative
# of the saturated tanh, about 3.5 here, so layer 1 receives $7\cdot10^{4}$ times the top gradient and its weight gradient is
# $10^{8}$. With Xavier the gradient changes by a factor of about 2.5 over the ten layers.

# %% [markdown]
# ### Checking the claims, on both seeds

# %%
for seed in SEEDS:
    g = {n: [r.grad_std for r in deep[(n, seed)]["acts"]] for n in ("small", "large", "xavier")}
    w = {n: [r.weight_grad_norm for r in deep[(n, seed)]["linears"]] for n in ("small", "large", "xavier")}
    ctx.claim(g["small"][0] / g["small"][-1], "<", 1e-4, f"seed {seed}: 0.01·randn: the gradient should vanish")
    ctx.claim(max(a / b for a, b in zip(w["small"], w["xavier"])), "<", 1e-3,
              f"seed {seed}: 0.01·randn: tiny weight gradients in every layer")
    ctx.claim(g["large"][0] / g["large"][-1], ">", 1e3, f"seed {seed}: 1.0·randn: the gradient should explode")
    ctx.claim(w["large"][0] / w["xavier"][0], ">", 1e3, f"seed {seed}: 1.0·randn: huge first-layer weight gradient")
    shrink = g["xavier"][-1] / g["xavier"][0]
    ctx.claim(shrink, "<", 4, f"seed {seed}: Xavier: the gradient should change by less than a factor 4 ({shrink:.2f})")
    ctx.claim(shrink, ">", 1, f"seed {seed}: Xavier: the gradient should still shrink towards layer 1 ({shrink:.2f})")

# %% [markdown]
# `format_stats` prints the records of `layer_stats` as one table (the same records serve the training diagnostics of
# notebook 13); here the first and last layers of the He/ReLU net of section 5 (its Linear layers are numbered 0, 2, …, its ReLUs
# 1, 3, …):

# %%
print(format_stats(deep[("he", 0)]["acts"][:2] + deep[("he", 0)]["linears"][-1:] + deep[("he", 0)]["acts"][-1:]))

# %% [markdown]
# ## 7. Gradient clipping
# An exploding gradient makes one SGD step $\theta \leftarrow \theta - \alpha g$ huge, and the next forward pass can overflow.
# **Gradient clipping** caps the gradient between `loss.backward()` and `optimizer.step()`:
#
# - by norm, `clip_grad_norm_(params, max_norm)`: $g \leftarrow g\cdot\min\!\big(1, \tfrac{\text{max\_norm}}{\|g\| + 10^{-6}}\big)$,
#   one factor for all parameters, so the direction is kept and the step is at most $\alpha\cdot\text{max\_norm}$;
# - by value, `clip_grad_value_(params, clip_value)` (the lecture's snippet): each entry clamped to $[-c, c]$.
#
# Both are drop-ins for `torch.nn.utils`' (tested equal, including the returned norm):

# %% {"tags": ["listing"]}
show_source(clip_grad_norm_)

# %% [markdown]
# ### An exploding network
# A 10-layer ReLU MLP of width 100 whose weights are 1.5 times He's std: the activations grow by $\approx 1.5$ per layer and so
# do the gradients. Plain SGD (learning rate 0.03, batches of 50) on the digits, with and without `clip_grad_norm_(…, 1.0)`,
# and He's own scale for comparison. The learning rate sits well inside the stable region of the He net (its gradient norm
# never exceeds about 25 there), so what happens to the 1.5 × He net is the initialization's doing. The network:

# %% {"tags": ["listing"]}
def exploding_mlp(n_in, n_classes, scale, seed, depth=10, width=100):
    sizes = [n_in] + [width] * depth
    layers = [nn.Flatten()]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(width, n_classes))
    he_times = lambda w, generator: kaiming_normal_(w, nonlinearity="relu", generator=generator).mul_(scale)  # noqa: E731
    return initialize(model, he_times, generator=ctx.rng(seed)).to(ctx.device)


# %% [markdown]
# ### The training loop: one extra line

# %%
def train_sgd(model, data, *, lr=0.03, max_norm=math.inf, epochs, seed):
    """Mini-batch SGD; returns per-step gradient norm (before clipping), step length ‖Δθ‖ and loss, and the validation
    accuracy after each epoch. Stops on NaN/inf."""
    opt, g = torch.optim.SGD(model.parameters(), lr=lr), ctx.rng(seed)
    log = {"grad_norm": [], "step": [], "loss": [], "val": []}
    for _ in range(epochs):
        for idx in torch.randperm(len(data.train.y), generator=g).split(50):
            x, y = data.train.x[idx.to(ctx.device)], data.train.y[idx.to(ctx.device)]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = clip_grad_norm_(model.parameters(), max_norm)    # max_norm = inf: only measures
            before = parameters_to_vector(model.parameters()).detach().clone()
            opt.step()
            log["step"].append((parameters_to_vector(model.parameters()).detach() - before).norm().item())
            log["grad_norm"].append(norm.item())
            log["loss"].append(loss.item())
            if not math.isfinite(loss.item()):
                return log                                           # diverged
        log["val"].append(evaluate(model, data.val)["acc"])
    return log


# %% [markdown]
# ### Three runs per seed

# %%
MAX_NORM, LR = 1.0, 0.03
clip_runs = {}
for seed in SEEDS:
    data = load_dataset(DATASET, seed=seed, device=ctx.device)
    n_in, n_classes = data.train.x[0].numel(), 10
    for name, scale, max_norm in (("he", 1.0, math.inf), ("large", 1.5, math.inf), ("clipped", 1.5, MAX_NORM)):
        model = exploding_mlp(n_in, n_classes, scale, seed)
        log = train_sgd(model, data, lr=LR, max_norm=max_norm, epochs=ctx.epochs(fast=10, full=3), seed=seed)
        log["best_val"] = max(log["val"]) if math.isfinite(log["loss"][-1]) else float("nan")   # best epoch
        clip_runs[(name, seed)] = log
        print(f"seed {seed} {name:>8}: {len(log['loss']):4d} steps, largest gradient norm {max(log['grad_norm']):9.3g},"
              f" largest step {max(log['step']):9.3g}, final loss {log['loss'][-1]:8.3g},"
              f" best val acc {log['best_val']:.3f}")

# %% [markdown]
# ### Gradient norms and losses per step (seed 0)

# %% {"tags": ["plot"]}
CLIP_LABELS = {"he": "He scale, no clipping", "large": "1.5 × He, no clipping", "clipped": f"1.5 × He, clip at {MAX_NORM:g}"}
CLIP_COLORS = {"he": COLORS["he"], "large": COLORS["large"], "clipped": COLORS["clipped"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for name in ("he", "large", "clipped"):
    log = clip_runs[(name, 0)]
    steps = range(1, len(log["loss"]) + 1)
    marker = "o" if name == "large" else None
    axes[0].plot(steps, log["grad_norm"], color=CLIP_COLORS[name], label=CLIP_LABELS[name], marker=marker)
    axes[1].plot(steps, log["loss"], color=CLIP_COLORS[name], label=CLIP_LABELS[name], marker=marker)
axes[0].axhline(MAX_NORM, color="k", ls=":", label="max_norm")
axes[0].set(xlabel="step (log scale)", ylabel="‖g‖ before clipping", title="Gradient norm", xscale="log", yscale="log")
axes[1].set(xlabel="step (log scale)", ylabel="training loss (batch)", title="Loss", xscale="log", yscale="log")
axes[0].legend()
plt.show()

# %% [markdown]
# Without clipping, the 1.5 × He network's gradient norm grows by many orders of magnitude within a few steps and the loss
# becomes NaN (the run stops there). With clipping its gradient norm starts in the hundreds and stays above `max_norm` for the
# whole run (printed below), so every step is cut to length $\alpha\cdot\text{max\_norm} = 0.03$: the network trains, more
# slowly than the one with He's own scale, which never needed clipping. Ten epochs of a 10-layer net without normalization
# are a noisy run, so we compare the best epoch of each (over the seeds and kernel sets we tried: the clipped net 0.67–0.83,
# He's own scale 0.92–0.97, and at least 0.14 between them).

# %% [markdown]
# ### Checking the claims, on both seeds
# The bound on the step is an identity of SGD without momentum ($\|\Delta\theta\| = \alpha\|g_{\text{clipped}}\| \le
# \alpha\cdot\text{max\_norm}$); the rest depends on the run.

# %%
for seed in SEEDS:
    he, large, clipped = (clip_runs[(n, seed)] for n in ("he", "large", "clipped"))
    assert max(clipped["step"]) <= LR * MAX_NORM * (1 + 1e-4), "clipping by norm bounds every step"
    diverged_at = len(large["loss"]) if not math.isfinite(large["loss"][-1]) else math.inf
    ctx.claim(diverged_at, "<", 50, f"seed {seed}: without clipping, the 1.5 × He net should diverge within 50 steps "
              f"(NaN at step {diverged_at})")
    ctx.claim(min(clipped["grad_norm"]) / MAX_NORM, ">", 5, f"seed {seed}: clipping should cut every step "
              f"(smallest gradient norm {min(clipped['grad_norm']):.3g})")
    ctx.claim(clipped["best_val"], ">", 0.5, f"seed {seed}: the clipped run should train "
              f"(best val acc {clipped['best_val']:.3f})")
    ctx.claim(he["best_val"], ">", 0.75, f"seed {seed}: the He run should train (best val acc {he['best_val']:.3f})")
    ctx.claim(he["best_val"] - clipped["best_val"], ">", 0.1, f"seed {seed}: clipped steps should train more slowly "
              f"than He's own scale ({clipped['best_val']:.3f} vs {he['best_val']:.3f})")
    clipped_share = sum(n > MAX_NORM for n in clipped["grad_norm"]) / len(clipped["grad_norm"])
    print(f"seed {seed}: clipped run: {clipped_share:.0%} of the steps clipped, smallest gradient norm "
          f"{min(clipped['grad_norm']):.3g}; longest step {max(clipped['step']):.4f} <= lr·max_norm = {LR * MAX_NORM}")

# %% [markdown]
# ### Clipping by norm keeps the direction, clipping by value does not
# One batch's gradient of the 1.5 × He network, clipped both ways (copies of the same gradients):

# %%
# NBVAL_CHECK_OUTPUT
model = exploding_mlp(n_in, n_classes, 1.5, seed=0)
data = load_dataset(DATASET, seed=0, device=ctx.device)
F.cross_entropy(model(data.train.x[:50]), data.train.y[:50]).backward()
grads = [p.grad.clone() for p in model.parameters()]
g0 = torch.cat([g.flatten() for g in grads])
a, b = [nn.Parameter(p.detach().clone()) for p in grads], [nn.Parameter(p.detach().clone()) for p in grads]
for p, grad in zip(a + b, grads + grads):
    p.grad = grad.clone()
clip_grad_norm_(a, 1.0)
clip_grad_value_(b, 0.01)
for name, ps in (("clip_grad_norm_(…, 1.0)", a), ("clip_grad_value_(…, 0.01)", b)):
    g1 = torch.cat([p.grad.flatten() for p in ps])
    cos = F.cosine_similarity(g0, g1, dim=0).item()
    print(f"{name:<26} norm {g0.norm().item():.3g} -> {g1.norm().item():.3g}   cosine with the original {cos:.3f}")
    if "norm" in name:
        assert cos > 0.9999, "clipping by norm only rescales the gradient"
    else:
        ctx.claim(cos, "<", 0.95, f"clipping by value should turn the gradient (cosine {cos:.3f})")

# %% [markdown]
# Clipping by value flattens the large entries more than the small ones, so the clipped step points elsewhere; clipping by
# norm only shortens it. The lecture notes that batch normalization (notebook 09) is usually preferred; clipping remains
# standard for recurrent networks and a cheap safety net elsewhere.

# %% [markdown]
# ## Summary
# - A **constant** initialization gives every unit of a layer the same gradient forever: after training, all rows of our
#   constant-init layer were still identical and the network stayed below 50% validation accuracy. Random init breaks the symmetry.
# - $\mathrm{Var}(Y) = n\,\mathrm{Var}(W)\,\mathrm{Var}(X)$: each layer multiplies the variance by $n\,\mathrm{Var}(W)$.
#   **Xavier** ($1/\text{fan}_{\text{avg}}$) suits tanh/linear units, **He** ($2/\text{fan}_{\text{in}}$) ReLU, **LeCun**
#   ($1/\text{fan}_{\text{in}}$) SELU; for a conv weight the fans include the kernel area.
# - In the lecture's 10 × 500 tanh net, 0.01·randn collapsed the std by 0.22 per layer to $3\cdot10^{-7}$, 1.0·randn saturated
#   90% of the units, Xavier decayed from 0.63 to 0.23; with ReLU, He kept layer 10's std within 0.8–1.35 times layer 1's on
#   every seed we tried, where Xavier lost more than 90% of the std by layer 10.
# - The gradients follow: they **vanished** (to $10^{-6}$ at layer 1) with 0.01·randn and **exploded** ($\times 7\cdot10^4$)
#   with 1.0·randn; `course_lib.gradients.layer_stats` measures them with hooks.
# - `clip_grad_norm_` bounds every SGD step by $\alpha\cdot\text{max\_norm}$: a net that diverged in a few steps without it
#   trained with it.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — write He initialization
# Write `my_kaiming_normal_(tensor, generator=None)`: fill `tensor` **in place** with draws from $N(0, \sigma^2)$,
# $\sigma^2 = 2/\text{fan}_{\text{in}}$, and return it. It must work for a Linear weight `(out, in)` and for a convolution
# weight `(out_channels, in_channels, k_h, k_w)`, on a layer's weight (a parameter that requires grad), and draw from
# `generator`. Do not call `nn.init` or `course_lib.init`. The check measures the std of your weights on `nn.Linear(800, 300)`
# and `nn.Conv2d(32, 48, 3)` and compares it with the formula.

# %% {"tags": ["exercise"]}
def my_kaiming_normal_(tensor, generator=None):
    raise NotImplementedError  # your code here


# %%
ex.check_kaiming_normal(my_kaiming_normal_)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# $\text{fan}_{\text{in}}$ is the number of inputs each output sums: `tensor.shape[1]` times the kernel area (the product of
# `tensor.shape[2:]`, 1 for a Linear weight). The standard deviation is $\sqrt{2/\text{fan}_{\text{in}}}$ (the square root of
# the variance; the 2 is ReLU's gain squared). Fill with `tensor.normal_(0, std, generator=generator)` inside
# `torch.no_grad()`, so that it also works on a parameter, and return `tensor`.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_kaiming_normal_(tensor, generator=None):
    fan_in = tensor.shape[1] * math.prod(tensor.shape[2:])
    with torch.no_grad():
        return tensor.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)


assert ex.check_kaiming_normal(solution_kaiming_normal_)

# %% [markdown]
# ### Exercise 2 — predict the collapse
# A different net from section 4: 10 tanh layers of **1000** units, weights $0.005\cdot\text{randn}$, no bias, unit-Gaussian
# input. Without running it, give (a) the factor by which each layer multiplies the standard deviation of the activations
# (use $\mathrm{Var}(Y) = n\,\mathrm{Var}(W)\,\mathrm{Var}(X)$ and $\tanh z \approx z$ for small $z$), and (b) the std of layer 10.
# Answer with a pair `(factor, std10)`.

# %% {"tags": ["exercise"]}
answer_2 = None  # replace None with (factor, std10)

# %%
ex.check_collapse(answer_2)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Each unit sums $n = 1000$ products, so the variance is multiplied by $n\,\mathrm{Var}(W) = 1000 \cdot 0.005^2 = 0.025$ and the
# std by $\sqrt{0.025} \approx 0.158$; tanh barely changes values this small. Ten layers from std 1 give $0.158^{10} \approx
# 10^{-8}$. Running the net (the test of this checker does) agrees within 5%.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
factor = math.sqrt(1000 * 0.005 ** 2)
solution_2 = (factor, factor ** 10)
assert ex.check_collapse(solution_2)

# %% [markdown]
# ### Exercise 3 — clipping by norm
# Write `my_clip_grad_norm_(parameters, max_norm)` for the 2-norm: compute the total norm $\|g\|$ of **all** gradients as one
# vector, multiply every `p.grad` in place by $\min(1, \text{max\_norm}/(\|g\| + 10^{-6}))$, skip parameters whose `.grad` is
# `None`, and return $\|g\|$ (before clipping). The check compares with `course_lib.gradients.clip_grad_norm_`.

# %% {"tags": ["exercise"]}
def my_clip_grad_norm_(parameters, max_norm):
    raise NotImplementedError  # your code here


# %%
ex.check_clip_grad_norm(my_clip_grad_norm_)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Collect the gradients that exist, compute $\|g\| = \sqrt{\sum_p \|g_p\|^2}$, then one coefficient for all of them, capped at 1
# so that small gradients are left alone. Clipping each tensor by its own norm would change the direction of the whole update;
# returning the norm after clipping would hide how large the gradient was (the value you want to log).
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_clip_grad_norm_(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum(g.square().sum() for g in grads))
    coef = min(1.0, max_norm / (total.item() + 1e-6))
    with torch.no_grad():
        for g in grads:
            g.mul_(coef)
    return total


assert ex.check_clip_grad_norm(solution_clip_grad_norm_)
