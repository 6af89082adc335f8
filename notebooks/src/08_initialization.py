# %% [markdown]
# # 08 · Weight initialization and gradient flow
#
# **Learning objectives.** After this notebook you can
# 1. **explain** why a constant initialization keeps every unit of a layer identical, however long you train;
# 2. **derive** $\mathrm{Var}(Y) = n\,\mathrm{Var}(W)\,\mathrm{Var}(X)$ and from it the scales of Xavier/Glorot, He and LeCun
#    initialization, with the fans of Linear and convolutional weights;
# 3. **reproduce** the lecture's 10-layer tanh experiment, and **predict** it layer by layer from one Gaussian integral:
#    activations that collapse (0.01·randn), saturate (1.0·randn), or decay slowly enough for ten layers (Xavier, gain 1);
#    ReLU activations kept level by He initialization, whose deep units still die as the examples' representations align;
# 4. **use** orthogonal initialization and LSUV, and place them in the lecture's list of open research;
# 5. **measure** vanishing and exploding gradients layer by layer with forward/backward hooks, and what they do to training;
# 6. **use** gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) to bound the step of an exploding gradient.
#
# *Lecture:* "Regularization" (Computer Vision: constant init, small random numbers, the 10-layer tanh experiment and its
# activation statistics, the fan-in-scaled init for ReLU, "proper initialization is an active area of research");
# "Regularization and more topics related to training" (the "Slow Start – Bad Initialization" curve); "How to Train
# ConvNets" (Stephen Baek: weights that move in the same direction, the derivation of $\mathrm{Var}(Y)$, Xavier and He);
# "Regularization and Optimization of DNNs" (Applied Machine Learning: vanishing/exploding gradients, Xavier with
# $\text{fan}_{\text{avg}}$, the table of initializations per activation, gradient clipping).
# *Runs in:* about 25 s on one CPU core (fast profile).

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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches the training experiments (sections 1, 6 and
# 7) to MNIST; the activation experiments are synthetic and the same in both profiles.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parameters_to_vector

from course_lib import evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.exercises import ex08 as ex
from course_lib.gradients import clip_grad_norm_, clip_grad_value_, format_stats, layer_stats
from course_lib.init import (calculate_gain, fan_in_and_fan_out, initialize, kaiming_normal_, lsuv_, orthogonal_,
                             xavier_uniform_)

ctx = setup_notebook(seed=0)
SEEDS = [0, 1]
DATASET = ctx.pick(fast="digits", full="mnist")
COLORS = {"constant": "C7", "small": "C0", "large": "C3", "xavier": "C2",
          "xavier53": "C8", "he": "C4", "relu_xavier": "C1", "clipped": "C9", "orthogonal": "C5", "lsuv": "C6"}

# %% [markdown]
# ## 1. Constant initialization: every unit stays the same
# What happens when every weight starts at the same value $c$ (zero being the extreme case)? All hidden units of a layer then
# compute the **same** function of the input, so they get the **same** gradient, take the same step, and are equal again after
# it. By induction this holds after any number of steps, whatever the optimizer (SGD, Adam: all work entry by entry): the
# "weight values move in the same direction", and a layer of 32 units behaves like a layer of one. Random initialization
# **breaks the symmetry**.
#
# We train the same MLP (two tanh layers of 32 units, Adam, learning rate $10^{-3}$) on the 8×8 digits twice: once with every
# weight $= 0.1$ (`constant_`), once with Xavier initialization with PyTorch's tanh gain 5/3 ("Xavier × 5/3": `xavier_normal`
# with `nonlinearity="tanh"`; section 4 compares it with gain 1), biases zero in both.

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
                   lr=1e-3, batch_size=50, seed=seed, progress=False)
        W1 = model[1].weight.detach()
        sym_runs[(name, seed)] = dict(W1=W1.cpu(), spread=(W1 - W1[0]).abs().max().item(), val=hist.val_acc[-1])
        print(f"seed {seed}  {name:>8}: max |row i - row 0| of W1 = {sym_runs[(name, seed)]['spread']:.2e}"
              f"   val acc = {hist.val_acc[-1]:.3f}")

# %% [markdown]
# ### The first layer's weights after training (seed 0)

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for ax, name, title in ((axes[0], "constant", "constant init (0.1)"), (axes[1], "xavier", "Xavier × 5/3 init")):
    W = sym_runs[(name, 0)]["W1"]
    lim = W.abs().max().item()
    im = ax.imshow(W[:, :64], cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto")
    shown = "input pixel j" + (f" (first 64 of {W.shape[1]})" if W.shape[1] > 64 else "")  # all 64 on the digits
    ax.set(xlabel=shown, ylabel="hidden unit i", title=f"{title}: $W_{{ij}}$ after training")
    ax.grid(False)
    fig.colorbar(im, ax=ax)
plt.show()

# %% [markdown]
# Every row of the constant-init layer is the same row: 32 hidden units, one feature.

# %% [markdown]
# ### Checking the claim
# After training, the rows of the constant-init layer are equal to float precision (an identity: every unit computes the same
# numbers, so it is asserted exactly, up to $10^{-6}$), while the Xavier × 5/3 rows differ by more than 0.5; and the
# symmetric network is far worse: below 50% validation accuracy, and at least 0.4 behind the Xavier one, on both seeds. (Over
# the seeds and kernel sets we tried, the constant-init net ended at 0.16–0.27 and the Xavier one at 0.92–0.98.)

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
# ($U(-r, r)$ has variance $r^2/3$.)
#
# ### Why Xavier averages the fans: the backward pass
# The forward pass needs $\text{fan}_{\text{in}}\,\mathrm{Var}(W) = 1$ (section 2). Backpropagation through $y = Wx$ runs the
# same kind of sum the other way: the gradient reaching input $j$ is
#
# $$\frac{\partial L}{\partial x_j} = \sum_{i=1}^{\text{fan}_{\text{out}}} W_{ij}\,\frac{\partial L}{\partial y_i}
# \quad\Longrightarrow\quad \mathrm{Var}\Big(\frac{\partial L}{\partial x}\Big) = \text{fan}_{\text{out}}\,\mathrm{Var}(W)\,
# \mathrm{Var}\Big(\frac{\partial L}{\partial y}\Big),$$
#
# a sum of $\text{fan}_{\text{out}}$ products of independent zero-mean factors, by the same rule. Keeping the gradient's
# variance from layer to layer needs $\text{fan}_{\text{out}}\,\mathrm{Var}(W) = 1$ ("Regularization and Optimization of
# DNNs" states both conditions). They agree only when $\text{fan}_{\text{in}} = \text{fan}_{\text{out}}$; Glorot and Bengio
# take the compromise $\mathrm{Var}(W) = 2/(\text{fan}_{\text{in}} + \text{fan}_{\text{out}}) = 1/\text{fan}_{\text{avg}}$.
# He et al. show that for ReLU nets either condition alone is enough and use $\text{fan}_{\text{in}}$ (PyTorch's `mode`).
#
# **Three errors in the decks' formulas.** (1) "How to Train ConvNets" gives He as "$\text{std}(W) = 2/\sqrt{n}$": a typo,
# the variance is $2/n$, so $\text{std} = \sqrt{2/n}$. (2) "Regularization" (Computer Vision) codes it as
# `randn(fan_in, fan_out) / np.sqrt(2/fan_in)`: it divides where it must multiply (`* np.sqrt(2/fan_in)`); as written the std
# is $\sqrt{\text{fan}_{\text{in}}/2}$, about 16 for 500 inputs. (3) "How to Train ConvNets" gives Xavier as
# "$\text{std}(W) = 1/\sqrt{n}$" with $n$ the number of inputs: that is the $\text{fan}_{\text{in}}$ form,
# $\mathrm{Var}(W) = 1/\text{fan}_{\text{in}}$, which is LeCun's scale (and what Caffe's filler named "xavier" draws), not
# Glorot's $1/\text{fan}_{\text{avg}}$ of the table above. For a square layer, as in section 4, the two coincide; they
# differ wherever the width changes, for instance in the first and last layers of a net.
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
# (Two more, orthogonal and LSUV, join them after the claims.)
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
         "orthogonal": dict(scheme="orthogonal"), "lsuv": None,
         "he": dict(scheme="kaiming_normal"), "relu_xavier": dict(scheme="xavier_normal")}
LABELS = {"small": "0.01·randn", "large": "1.0·randn", "xavier": "Xavier", "xavier53": "Xavier × 5/3",
          "orthogonal": "orthogonal", "lsuv": "LSUV", "he": "He (ReLU)", "relu_xavier": "Xavier (ReLU)"}


def deep_run(name, seed):
    """Statistics of the 10 activation layers and 10 Linear layers for init `name` on the seed's unit-Gaussian batch."""
    act = nn.ReLU if name in ("he", "relu_xavier") else nn.Tanh
    x = torch.randn(1000, 500, generator=ctx.rng(seed)).to(ctx.device)
    if name == "lsuv":                                   # data-dependent: scaled on this batch (section 4, below)
        model = lsuv_(deep_net(act).to(ctx.device), x, generator=ctx.rng(100 + seed))
    else:
        model = initialize(deep_net(act), generator=ctx.rng(100 + seed), **INITS[name]).to(ctx.device)
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
# ### What the formula predicts, layer by layer
# These numbers follow from section 2 and one Gaussian integral. With $\mathrm{Var}(W) = \sigma_w^2$, the pre-activation
# $z_l$ of a unit of layer $l$ sums 500 products, so it is close to Gaussian (central limit theorem) with variance
# $q_l = 500\,\sigma_w^2\,\mathbb{E}[h_{l-1}^2]$, and the activations' mean stays 0, so their variance is
#
# $$\mathbb{E}[h_l^2] = \mathbb{E}_{u \sim N(0, 1)}\big[\tanh^2(\sqrt{q_l}\,u)\big].$$
#
# - **0.01·randn**: $q$ is tiny and $\tanh z \approx z$, so each layer multiplies the std by $\sqrt{500}\cdot 0.01 = 0.224$
#   exactly as a linear layer would; ten layers give $0.224^{10} = 3\cdot10^{-7}$.
# - **Xavier, gain 1**: $500\,\sigma_w^2 = 1$, so $q_1 = 1$ and layer 1's std is $\sqrt{\mathbb{E}[\tanh^2 u]} = \sqrt{0.394} =
#   0.628$. Iterating $q_{l+1} = \mathbb{E}[\tanh^2(\sqrt{q_l}\,u)]$ gives the whole column (computed below with Gauss–Hermite
#   quadrature), down to 0.23 at layer 10. For small $q$, $\tanh^2 x \approx x^2 - \tfrac23 x^4$ gives $q_{l+1} \approx q_l -
#   2q_l^2$, so $q_l \approx 1/(2l)$: the std decays like $1/\sqrt{2l}$ **without bound**, 0.07 at layer 100 and 0.02 at
#   layer 1000. Xavier with gain 1 looks healthy here only because ten layers are few.
# - **Xavier × 5/3**: $q_{l+1} = (5/3)^2\,\mathbb{E}[\tanh^2(\sqrt{q_l}\,u)]$ has a fixed point ($q^* \approx 1.18$, std 0.65):
#   the gain compensates for $\tanh' < 1$, and the std holds at any depth.
# - **1.0·randn**: $q_1 = 500$, std 22: almost every $z$ lands where $\tanh = \pm 1$.

# %% {"tags": ["listing"]}
import numpy as np

NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(80)   # ∫ f(u) N(u; 0, 1) du ≈ Σ w_k f(u_k) / Σ w_k
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def predicted_std(gain, depth=10):
    """std of h_1..h_depth of the square tanh net, Var(W) = gain²/500: q_{l+1} = gain²·E[tanh²(√q_l u)], q_1 = gain²."""
    second_moment, stds = 1.0, []                             # E[h_0²] = 1: the unit-Gaussian input
    for _ in range(depth):
        q = gain ** 2 * second_moment                         # 500 · Var(W) · E[h²]
        second_moment = float(np.sum(WEIGHTS * np.tanh(math.sqrt(q) * NODES) ** 2))
        stds.append(math.sqrt(second_moment))
    return stds


PREDICTED = {"xavier": predicted_std(1.0), "xavier53": predicted_std(5 / 3)}

# %%
print("layer   Xavier: measured  predicted  |  Xavier × 5/3: measured  predicted     (seed 0)")
for i in range(10):
    print(f"{i + 1:5d}  {deep[('xavier', 0)]['acts'][i].std:17.4f} {PREDICTED['xavier'][i]:10.4f}  |"
          f" {deep[('xavier53', 0)]['acts'][i].std:23.4f} {PREDICTED['xavier53'][i]:10.4f}")
print("prediction for layers 100 and 1000 (gain 1):", [round(predicted_std(1.0, depth=d)[-1], 3) for d in (100, 1000)])

# %% [markdown]
# ### Checking the claims, on both seeds
# Against these derivations, not against a stored run: 0.01·randn shrinks by 0.224 per layer (within 10%) to below
# $10^{-6}$ at layer 10; 1.0·randn saturates most units; both Xavier columns match the Gaussian recursion within 3% in every
# layer; and, as structure a broken experiment would miss, gain 1 loses more than half its std over ten layers while gain
# 5/3 holds it level. Each statistic averages 500 000 values: over seeds 0–7 they moved in the third decimal only.

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
    for name, measured in (("xavier", xav), ("xavier53", xav53)):
        off = max(abs(m / p - 1) for m, p in zip(measured, PREDICTED[name]))
        ctx.claim(off, "<", 0.03, f"seed {seed}: {LABELS[name]}: every layer's std should match the Gaussian recursion "
                  f"(largest relative difference {off:.2%})")
    ctx.claim(xav[-1] / xav[0], "<", 0.5, f"seed {seed}: Xavier should decay over the ten layers "
              f"({xav[0]:.3f} -> {xav[-1]:.3f})")
    ctx.claim(min(xav53) / max(xav53), ">", 0.7, f"seed {seed}: Xavier with gain 5/3 should hold the std level "
              f"({min(xav53):.3f}–{max(xav53):.3f})")

# %% [markdown]
# ### Orthogonal initialization and LSUV
# Two initializations from the lecture's list of research ("Regularization", Computer Vision):
#
# - **Orthogonal** (Saxe et al. 2013, `nn.init.orthogonal_`): $W = \text{gain}\cdot Q$ with $Q$ a random orthogonal matrix
#   (from the QR decomposition of a Gaussian one). Each row has norm exactly 1, so a unit's $\mathrm{Var}(Y)$ is that of
#   Xavier for a square layer, and the tanh column should follow the same recursion. The difference is in the *directions*:
#   all singular values of $Q$ are 1, so a product of orthogonal layers stretches no direction and squashes none, while a
#   product of Gaussian layers of the right variance does both (measured in the next cell). For deep linear nets Saxe et al.
#   show this makes the training time independent of depth.
# - **LSUV** (layer-sequential unit variance; Mishkin & Matas 2015, "All you need is a good init"): start orthogonal, then,
#   layer after layer, run a batch through the net and divide the layer's weights by the std of its output, until that
#   output has variance 1 on the batch. It needs data but no formula for the gain: it works for any activation. Here every
#   pre-activation gets variance 1, so every tanh layer should sit at layer 1's 0.628.

# %% {"tags": ["listing"]}
show_source(lsuv_)

# %%
print("std of the tanh activations, seed 0")
print("layer" + "".join(f"{LABELS[n]:>14s}" for n in ("xavier", "orthogonal", "lsuv", "xavier53")))
for i in range(10):
    print(f"{i + 1:5d}" + "".join(f"{deep[(n, 0)]['acts'][i].std:14.4f}" for n in ("xavier", "orthogonal", "lsuv", "xavier53")))

# %% [markdown]
# ### Standard deviation per layer: measured and predicted (seed 0)

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(11, 4.5))
for name, marker in (("xavier", "o"), ("orthogonal", "x"), ("lsuv", "s"), ("xavier53", "^")):
    ax.plot(layers, [r.std for r in deep[(name, 0)]["acts"]], marker, color=COLORS[name], label=LABELS[name], ms=10,
            mew=2.5)
ax.plot(layers, PREDICTED["xavier"], "k:", label="predicted, gain 1")
ax.plot(layers, PREDICTED["xavier53"], "k--", label="predicted, gain 5/3")
ax.axhline(0.628, color="grey", lw=1, label="std of tanh(N(0, 1)) = 0.628")
ax.set(xlabel="layer", ylabel="std of the tanh activations", title="10 tanh layers of 500 units", ylim=(0, 0.85))
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.tight_layout()
plt.show()

# %% [markdown]
# Orthogonal with gain 1 falls on Xavier's curve: the std per layer sees only the norm of the rows. LSUV holds every layer at
# 0.628 by construction on this batch.

# %% [markdown]
# ### What orthogonality buys: the singular values of a product of layers
# Ten $500 \times 500$ layers without activation, $W_{10}\cdots W_1$, Gaussian with $\mathrm{Var}(W) = 1/500$ or orthogonal:

# %%
spread = {}
for seed in SEEDS:
    g = ctx.rng(300 + seed)
    gauss, ortho = torch.eye(500, dtype=torch.float64), torch.eye(500, dtype=torch.float64)
    for _ in range(10):
        gauss = torch.randn(500, 500, generator=g, dtype=torch.float64) / math.sqrt(500) @ gauss
        ortho = orthogonal_(torch.empty(500, 500, dtype=torch.float64), generator=g) @ ortho
    spread[seed] = (torch.linalg.svdvals(gauss), torch.linalg.svdvals(ortho))
sv_gauss, sv_ortho = spread[0]
print(f"singular values of a product of 10 layers (seed 0): Gaussian (Var 1/500) from {sv_gauss.max().item():.2f} down "
      f"to {sv_gauss.min().item():.0e}, median {sv_gauss.median().item():.3f};\n"
      f"orthogonal: all in [{sv_ortho.min().item():.6f}, {sv_ortho.max().item():.6f}]")

# %% [markdown]
# Ten Gaussian layers, each of the "right" variance, make an end-to-end map that stretches a few directions by about 5 and
# squashes most by orders of magnitude; ten orthogonal layers keep every direction's length (an identity, asserted to
# $10^{-9}$). Gradients travel back through the transposed product, so they inherit the same spread.

# %%
for seed in SEEDS:
    lsuv = [r.std for r in deep[("lsuv", seed)]["acts"]]
    off = max(abs(v / 0.628 - 1) for v in lsuv)
    ctx.claim(off, "<", 0.02, f"seed {seed}: LSUV should put every tanh layer at std(tanh(N(0,1))) = 0.628 "
              f"(largest relative difference {off:.2%})")
    ortho = [r.std for r in deep[("orthogonal", seed)]["acts"]]
    off = max(abs(m / p - 1) for m, p in zip(ortho, PREDICTED["xavier"]))
    ctx.claim(off, "<", 0.03, f"seed {seed}: orthogonal (gain 1) should follow Xavier's recursion (off by {off:.2%})")
    sv_gauss, sv_ortho = spread[seed]
    assert (sv_ortho - 1).abs().max() < 1e-9, "a product of orthogonal matrices is orthogonal"
    ratio = (sv_gauss.max() / sv_gauss.median()).item()
    ctx.claim(ratio, ">", 30, f"seed {seed}: a product of Gaussian layers should stretch some directions far more than "
              f"the typical one (largest / median singular value {ratio:.0f})")

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
# He keeps the variance only on average: each layer multiplies it by a random factor close to 1 (500 units is a finite
# sample), so the std drifts a little from layer to layer, in either direction.

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
# ### Dead units at initialization: the examples' representations align
# The table above also counts **dead** units: units that output 0 on all 1000 examples. There are none in the first layers and
# dozens of the 500 by layer 10, before any training. The std does not explain this: it stays level. The cause is the
# *direction* of the representations. A unit of layer $l+1$ is dead on the batch when $w_i^\top h_l(x) \le 0$ for every
# example $x$: its hyperplane through the origin leaves the whole cloud of representations on its negative side, the dead
# ReLU of notebook 06 (section 4: the decision plane outside the data). At the input the 1000 examples point in independent
# directions and no such hyperplane exists. But ReLU outputs are non-negative, so two examples' representations share more
# direction after every layer. With He's scale and no bias, the cosine $\rho$ between two examples' representations follows
# the ReLU kernel (Cho & Saul 2009),
#
# $$\rho_{l+1} = \frac{\sqrt{1 - \rho_l^2} + (\pi - \arccos\rho_l)\,\rho_l}{\pi}, \qquad \rho_0 \approx 0,\ \rho_1 =
# 1/\pi \approx 0.32,$$
#
# which increases towards 1 with depth: the cloud narrows into a cone, and a random hyperplane misses a narrow cone more and
# more often. Lu et al. (2019, "Dying ReLU and initialization") show that in bias-free ReLU nets of fixed width the
# probability that the whole net is dead at initialization goes to 1 as the depth grows. We measure the mean cosine over all
# pairs of the 1000 examples in each layer of the He net:

# %% {"tags": ["listing"]}
def relu_kernel(rho):
    return (math.sqrt(max(0.0, 1 - rho ** 2)) + (math.pi - math.acos(min(1.0, rho))) * rho) / math.pi


@torch.no_grad()
def mean_cosines(seed):
    """Mean cosine similarity over all pairs of examples of h_1..h_10 in the He/ReLU net of seed `seed`."""
    model = initialize(deep_net(nn.ReLU), generator=ctx.rng(100 + seed), **INITS["he"]).to(ctx.device)  # same weights
    h, cosines = torch.randn(1000, 500, generator=ctx.rng(seed)).to(ctx.device), []
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.ReLU):
            unit = h / h.norm(dim=1, keepdim=True)
            gram = unit @ unit.T
            cosines.append(((gram.sum() - gram.diagonal().sum()) / (len(h) * (len(h) - 1))).item())
    return cosines


# %%
cosines = {seed: mean_cosines(seed) for seed in SEEDS}
theory, rho = [], 0.0
for _ in range(10):
    rho = relu_kernel(rho)
    theory.append(rho)
print("layer  mean cosine: seed 0  seed 1  ReLU kernel | dead units: seed 0  seed 1")
for i in range(10):
    print(f"{i + 1:5d}  {cosines[0][i]:19.3f} {cosines[1][i]:7.3f} {theory[i]:12.3f} | "
          f"{deep[('he', 0)]['acts'][i].dead:18d} {deep[('he', 1)]['acts'][i].dead:7d}")

# %% [markdown]
# The measured cosines follow the kernel's recursion, and the dead units appear as the cosine climbs. So depth alone, with no
# bias and no training step, kills units; notebook 06 needed a large negative bias or a too-large learning rate for the
# same state. Batch normalization (notebook 09) prevents it: it centres each unit's pre-activation over the batch, so every
# unit is positive on part of it.
#
# **Bias initialization.** Every scheme here sets the biases to zero (`initialize` does): the weights already break the
# symmetry, and zero is the common default. For ReLU units a small positive bias (0.01, say) is sometimes used so that every
# unit starts active on most inputs; the cs231n notes say it is not clear that this helps consistently. It does not stop
# the alignment above either: a bias adds the same vector to every example's pre-activation. A *large negative* bias is the
# way to dead units that "How to Train ConvNets" names.

# %%
for seed in SEEDS:
    dead = [r.dead for r in deep[("he", seed)]["acts"]]
    ctx.claim(abs(cosines[seed][0] - 1 / math.pi), "<", 0.03, f"seed {seed}: layer 1's mean cosine should be the kernel's "
              f"1/π = 0.318 ({cosines[seed][0]:.3f})")
    ctx.claim(cosines[seed][-1], ">", 0.65, f"seed {seed}: the representations should align with depth "
              f"(layer 10 mean cosine {cosines[seed][-1]:.3f})")
    ctx.claim(dead[0], "<", 1, f"seed {seed}: no unit of layer 1 should be dead on independent inputs ({dead[0]})")
    ctx.claim(dead[-1], ">=", 25, f"seed {seed}: dozens of layer 10's units should be dead at initialization ({dead[-1]})")

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
# layer, $10^{-6}$ at layer 1. The weight gradients, though, are about the same tiny norm in every layer (right panel):
# $\partial L/\partial W_l = (\partial L/\partial z_l)^\top h_{l-1}$, and one layer further down the first factor is 0.224 times
# smaller while the activations $h_{l-1}$ are 1/0.224 times larger, so the product stays put, near $0.224^{9}$ of its
# healthy size in every layer. Early layers do not get smaller weight gradients here; every layer gets too small ones.
# With 1.0·randn it **explodes**: each layer multiplies it by $\sqrt{500}$ times the small derivative of the saturated tanh,
# about 3.5 here, so layer 1 receives $7\cdot10^{4}$ times the top gradient and its weight gradient is $10^{8}$. That seems to
# contradict "saturation kills the gradient", but both hold at once: the 90% of saturated units pass almost nothing back
# ($\tanh' \approx 0$: per unit the gradient vanishes), and the few unsaturated ones, multiplied by weights of std 1 instead
# of $1/\sqrt{500}$, more than make up for it in the norm. With Xavier the gradient changes by a factor of about 2.5 over
# the ten layers.

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
# notebook 13); here the first and last layers of the He/ReLU net of section 5. The `layer` column is the module's name in
# the `nn.Sequential`: its Linear layers are 0, 2, …, 18, its ReLUs 1, 3, …, 19.

# %%
print(format_stats(deep[("he", 0)]["acts"][:2] + deep[("he", 0)]["linears"][-1:] + deep[("he", 0)]["acts"][-1:]))

# %% [markdown]
# ### What it does to training: the slow start
# The lecture's cost-curve gallery ("Regularization and more topics related to training") shows a "slow start" from a bad
# initialization. We train the three tanh nets for real: ten tanh layers of 100 units (narrower than above, to keep the run
# short: 0.01·randn now shrinks by $0.01\sqrt{100} = 0.1$ per layer) plus a linear output layer, on the digits, with SGD
# (momentum 0.9, learning rate 0.05, batches of 50), two seeds each. Adam would partly hide the effect: it divides each
# gradient by its own recent size, so a uniformly tiny gradient still gives full-size steps. Notebook 13 builds the whole
# gallery of cost curves; here only this one.

# %%
def tanh_mlp(n_in, n_classes, name, seed):
    model = mlp(n_in, [100] * 10, n_classes, activation="tanh")
    return initialize(model, generator=ctx.rng(400 + seed), **INITS[name]).to(ctx.device)


def sgd_momentum(params):
    return torch.optim.SGD(params, lr=0.05, momentum=0.9)


train_runs = {}
for seed in SEEDS:
    data = load_dataset(DATASET, seed=seed, device=ctx.device)
    n_in, n_classes = data.train.x[0].numel(), 10
    for name in ("small", "large", "xavier"):
        hist = fit(tanh_mlp(n_in, n_classes, name, seed), data.train, data.val, epochs=ctx.epochs(fast=15, full=3),
                   optimizer=sgd_momentum, batch_size=50, seed=seed, progress=False)
        train_runs[(name, seed)] = hist
        print(f"seed {seed} {LABELS[name]:>10}: training loss per epoch {hist.train_loss[0]:6.3f} -> "
              f"{hist.train_loss[-1]:6.3f}, final val acc {hist.val_acc[-1]:.3f}")

# %% [markdown]
# ### Training loss of the three tanh nets (both seeds)

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(11, 4.5))
for name in ("small", "large", "xavier"):
    for seed, style in zip(SEEDS, ("o-", "s--")):
        loss = train_runs[(name, seed)].train_loss
        ax.plot(range(1, len(loss) + 1), loss, style, color=COLORS[name], label=f"{LABELS[name]}, seed {seed}")
ax.axhline(math.log(10), color="k", ls=":", label="chance: ln 10")
ax.set(xlabel="epoch", ylabel="training loss (mean over the epoch)", yscale="log",
       title="Ten tanh layers on the digits, SGD with momentum")
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
fig.tight_layout()
plt.show()

# %% [markdown]
# The 0.01·randn net never starts: its loss stays at the chance level $\ln 10 = 2.303$ in every epoch. Its last hidden layer
# carries no trace of the input ($0.1^{10}$ of it), so the output layer can only learn the class frequencies, and the
# gradient reaching the hidden layers is as small. The 1.0·randn net starts far *above* chance (its saturated $\pm 1$
# activations times weights of std 1 give logits of std about 10, confidently wrong) and then wanders around chance level
# without learning: its units sit where $\tanh' \approx 0$ and its gradient norm is huge. The Xavier net learns at once
# (over the seeds and kernel sets we tried: final validation accuracy 0.89–0.97, against 0.06–0.13 for 1.0·randn). In
# this run neither bad net recovers within the epochs we train; with a wider net, Adam or many more epochs, the 0.01·randn net
# can eventually leave the plateau, which is the lecture's "slow start".

# %%
for seed in SEEDS:
    small, large, xav = (train_runs[(n, seed)] for n in ("small", "large", "xavier"))
    stuck = max(abs(v - math.log(10)) for v in small.train_loss)
    ctx.claim(stuck, "<", 0.05, f"seed {seed}: 0.01·randn should stay at the chance loss ln 10 in every epoch "
              f"(largest distance {stuck:.4f})")
    ctx.claim(large.val_acc[-1], "<", 0.3, f"seed {seed}: 1.0·randn should not learn (val acc {large.val_acc[-1]:.3f})")
    last = sum(xav.train_loss[-3:]) / 3
    ctx.claim(last, "<", 0.5, f"seed {seed}: Xavier should train (mean loss of the last three epochs {last:.3f})")
    ctx.claim(xav.val_acc[-1], ">", 0.75, f"seed {seed}: Xavier should generalize (val acc {xav.val_acc[-1]:.3f})")

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
# peaks in the tens, printed below, without harm), so what happens to the 1.5 × He net is the initialization's doing. The
# network:

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
# slowly than the one with He's own scale, which trains without clipping. (Its gradient norm also rises above `max_norm` at
# times, peaking in the tens as printed above: clipping at 1 would have cut some of its steps too, but at this learning rate
# they do no harm.) Ten epochs of a 10-layer net without normalization
# are a noisy run, so we compare the best epoch of each (over the seeds and kernel sets we tried: the clipped net 0.67–0.83,
# He's own scale 0.91–0.98, and at least 0.13 between them).

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
# standard for recurrent networks and transformers (clipping the norm at 1 is in most training recipes), and a cheap safety
# net elsewhere.

# %% [markdown]
# ## 8. Initialization is an active area of research
# The lecture's list ("Regularization", Computer Vision) goes beyond what we ran: Glorot & Bengio (2010) and He et al. (2015)
# (sections 3–5); Saxe et al. (2013), orthogonal weights (section 4); Sussillo & Abbott (2014), **random-walk
# initialization**, which picks the scale that keeps the log of the gradient norm a random walk without drift in very deep
# nets; Krähenbühl et al. (2015), **data-dependent initialization**, which, like Mishkin & Matas's **LSUV** (2015, section
# 4), sets the scales from a batch of data; **Fixup** (Zhang et al. 2019), which scales the residual branches of a ResNet so
# that it trains without normalization layers; and the **Lottery Ticket Hypothesis** (Frankle & Carbin 2019): a large net
# contains a sparse subnetwork that, reset to its *original* initial weights, trains to the same accuracy, so the initial
# values matter beyond their scale. The most effective initialization in practice is often not random at all: the weights
# of a network trained on a large related task, **transfer learning**, the subject of notebook 15.

# %% [markdown]
# ## Summary
# - A **constant** initialization gives every unit of a layer the same gradient forever: after training, all rows of our
#   constant-init layer were still identical and the network stayed below 50% validation accuracy. Random init breaks the symmetry.
# - $\mathrm{Var}(Y) = n\,\mathrm{Var}(W)\,\mathrm{Var}(X)$: each layer multiplies the variance by $n\,\mathrm{Var}(W)$.
#   **Xavier** ($1/\text{fan}_{\text{avg}}$) suits tanh/linear units, **He** ($2/\text{fan}_{\text{in}}$) ReLU, **LeCun**
#   ($1/\text{fan}_{\text{in}}$) SELU; for a conv weight the fans include the kernel area.
# - Xavier's $\text{fan}_{\text{avg}}$ is the compromise between the forward condition ($\text{fan}_{\text{in}}\mathrm{Var}(W) = 1$)
#   and the backward one ($\text{fan}_{\text{out}}\mathrm{Var}(W) = 1$); $\mathrm{std} = 1/\sqrt{n}$ over the inputs is LeCun's.
# - In the lecture's 10 × 500 tanh net, 0.01·randn collapsed the std by $0.01\sqrt{500} = 0.224$ per layer to
#   $3\cdot10^{-7}$, 1.0·randn saturated 90% of the units, Xavier decayed from $\text{std}(\tanh N(0, 1)) = 0.628$ to 0.23,
#   as the Gaussian recursion $q_{l+1} = \mathbb{E}\tanh^2(\sqrt{q_l}u)$ predicts, and it keeps decaying like $1/\sqrt{2l}$ in
#   deeper nets: healthy only relative to ten layers. The tanh gain 5/3 has a fixed point; LSUV pins every layer at 0.628;
#   orthogonal weights keep every direction of a product of layers.
# - With ReLU, He kept layer 10's std within 0.8–1.35 times layer 1's on every seed we tried, where Xavier lost more than
#   90% of the std by layer 10. Still, tens of He units are dead at layer 10 at initialization: without biases the examples'
#   representations align with depth (mean cosine from 0.32 at layer 1 to 0.83–0.91 at layer 10), and a hyperplane misses the narrow cone.
# - The gradients follow: they **vanished** (to $10^{-6}$ at layer 1) with 0.01·randn and **exploded** ($\times 7\cdot10^4$)
#   with 1.0·randn; `course_lib.gradients.layer_stats` measures them with hooks. Trained with SGD, the 0.01·randn net stayed
#   at the chance loss and the 1.0·randn net did not learn, while the Xavier net trained at once.
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


# %% [markdown]
# ### Exercise 4 — write LSUV's rescaling
# Write `my_lsuv_(model, x)`, LSUV's second step (section 4): `model` is an `nn.Sequential` whose `nn.Linear` layers (no
# biases) already hold orthogonal weights. For each `nn.Linear` in order, run the batch `x` through the model, measure the
# variance of **that layer's output** (before its activation), and divide the layer's weight **in place** by the square root
# of it. Afterwards every Linear output must have variance 1 on `x`. Use `torch.no_grad()`; do not call `course_lib.init`.
# The check builds a small tanh/ReLU net and a batch with mean 1 and std 3 (`ex.lsuv_case()`).

# %% {"tags": ["exercise"]}
def my_lsuv_(model, x):
    raise NotImplementedError  # your code here


# %%
ex.check_lsuv(my_lsuv_)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Multiplying $W$ by $c$ multiplies the layer's output by $c$ and its variance by $c^2$, so dividing by the **std** gives
# variance 1 exactly (no bias). Do it layer by layer, with a new forward pass each time: once layer $k$ is rescaled, the
# layers above it see a different input, so their variances measured before no longer hold. A forward hook on the layer
# (or running the `nn.Sequential` up to it) gives its output.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
@torch.no_grad()
def solution_lsuv_(model, x):
    for layer in [m for m in model.modules() if isinstance(m, nn.Linear)]:
        seen = {}
        hook = layer.register_forward_hook(lambda module, inputs, output: seen.update(y=output))
        model(x)
        hook.remove()
        layer.weight.div_(seen["y"].std())
    return model


assert ex.check_lsuv(solution_lsuv_)
