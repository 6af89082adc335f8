# %% [markdown]
# # 03 · Dropout
#
# **Learning objectives.** After this notebook you can
# 1. **explain** the dropout mask and translate between the lecture's keep probability $p_{\text{keep}}$ and PyTorch's drop probability $p$;
# 2. **implement** inverted dropout, forward and backward, and say where vanilla and inverted dropout put the scaling;
# 3. **interpret** dropout as an ensemble of $2^n$ weight-sharing sub-networks and **compare** Monte-Carlo averaging with weight scaling;
# 4. **measure** dropout's effect on the train/validation gap, on training time, on co-adaptation and on sparse activations;
# 5. **choose** where to place dropout (fully connected layers; element-wise or channel dropout in a CNN) and **describe** DropConnect.
#
# *Lecture:* "Regularization and more topics related to training" (dropout as a layer, the $n = 10$ mask example, prediction
# time, inverted dropout, where to put it, DropConnect); "Regularization, batchnorm and dropout" (dropout as an ensemble,
# co-adaptation, sparse representations, longer training, the typical rates); "Regularization" (vanilla vs inverted dropout
# code); "How to Train ConvNets" and "Regularization and Optimization of DNNs" (the $2^{4096}$ sub-networks, `nn.Dropout`).
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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST, the wider baseline network and
# longer runs (see the README).

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import evaluate, fit, setup_notebook, show_source
from course_lib.baseline import BASELINE, baseline_model, baseline_optimizer, load_baseline
from course_lib.dropout import (DropConnectLinear, InvertedDropout, InvertedDropout2d, VanillaDropout, dropout_mask,
                                enable_dropout, inverted_dropout, mc_predict, use_generator, vanilla_dropout)
from course_lib.exercises import ex03 as ex
from course_lib.device import shifted_seed
from course_lib.models import reset_parameters
from course_lib.training import LambdaCallback

ctx = setup_notebook(seed=0)
RECIPE = BASELINE[ctx.profile]                       # the regularization baseline shared by notebooks 02-05
EPOCHS = ctx.epochs(fast=60, full=RECIPE["epochs"])  # the baseline trains 150 epochs; 60 show dropout's effects here
FIT_LEVEL = 0.8                                      # "fitted the training set": this training accuracy reached
CNN_EPOCHS = ctx.epochs(fast=35, full=20)
SEEDS = [0, 1]
MC_SAMPLES = 50
COLORS = {"plain": "C3", "dropout": "C2", "channel": "C4", "dropconnect": "C1"}

# %% [markdown]
# ## 1. The mask and the keep probability
# On every forward pass in training, each unit $h_i$ of a layer is kept or switched off by a coin flip:
#
# $$m_i \sim \text{Bernoulli}(p_{\text{keep}}), \qquad d = m \odot h ,$$
#
# so a dropped unit outputs 0 and passes nothing to the next layer. A **new mask is drawn on every forward pass**.
#
# **Two conventions for "p".** The lecture slides and Srivastava et al. (2014) write $p$ (or `keep_prob`) for the probability of
# *keeping* a unit. PyTorch's `nn.Dropout(p)` and everything in `course_lib.dropout` take the probability of *dropping* it:
#
# | | keep probability | drop probability |
# | --- | --- | --- |
# | lecture / paper | $p_{\text{keep}}$ ("p = 0.5 for hidden units, 0.8 for inputs") | $1 - p_{\text{keep}}$ |
# | PyTorch, `course_lib` | $1 - p$ | $p$ (`nn.Dropout(0.5)`, `nn.Dropout(0.2)`) |

# %% [markdown]
# ### A worked example: $n = 10$ units, $p_{\text{keep}} = 0.6$
# The lecture draws `u = rand(n)` and keeps unit $i$ where $u_i < p_{\text{keep}}$. Four masks:

# %%
# NBVAL_CHECK_OUTPUT
n, p_keep = 10, 0.6
g = ctx.rng(0)
for _ in range(4):
    u = torch.rand(n, generator=g)
    mask = (u < p_keep).int()
    print("u =", " ".join(f"{v:.2f}" for v in u.tolist()), "  mask =", mask.tolist(), f"  kept {int(mask.sum())}/10")

# %% [markdown]
# Not every mask keeps exactly 60% of the units; only the *average* is 60%. `course_lib.dropout.dropout_mask` draws the same
# Bernoulli mask (with `bernoulli_`, the way `F.dropout` draws it on the CPU), shaped like its input, and takes PyTorch's drop
# probability $p = 1 - p_{\text{keep}} = 0.4$:

# %% {"tags": ["listing"]}
show_source(dropout_mask)

# %% [markdown]
# ### How many units does a mask keep?

# %% {"tags": ["plot"]}
masks = dropout_mask(torch.ones(20_000, n), p=0.4, generator=ctx.rng(1))  # 20 000 masks
kept = masks.sum(dim=1)
counts = torch.bincount(kept.long(), minlength=n + 1) / len(kept)

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.bar(range(n + 1), counts.tolist(), color="C0", label="20 000 random masks")
ax.axvline(p_keep * n, color="k", ls="--", label=r"mean $n\,p_{keep}$ = 6")
ax.set(xlabel="units kept (out of 10)", ylabel="fraction of masks", title="How many units a mask keeps",
       xticks=range(n + 1))
ax.legend()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print(f"mean fraction kept: {masks.mean().item():.3f}  (p_keep = {p_keep})")
ctx.claim(abs(masks.mean().item() - p_keep), "<", 0.005, "the fraction of kept units should be close to p_keep")

# %% [markdown]
# ## 2. Vanilla vs inverted dropout: where the scaling goes
# A mask changes the *size* of what the next layer receives: $\mathbb{E}[m_i h_i] = p_{\text{keep}}\, h_i$. At prediction time we
# want a deterministic network whose activations have the size the next layer saw in training. Two ways:
#
# | | training | prediction |
# | --- | --- | --- |
# | **vanilla** dropout | $d = m \odot h$ | $d = p_{\text{keep}}\, h$ (scale at test time) |
# | **inverted** dropout | $d = m \odot h \,/\, p_{\text{keep}}$ | $d = h$ (nothing to do) |
#
# Both make the prediction-time output equal to the expected training-time output. Inverted dropout is the one used in
# practice (and by `nn.Dropout`): the scaling lives in training, so the deployed network is just the plain network.

# %% {"tags": ["listing"]}
show_source(vanilla_dropout)
show_source(inverted_dropout)

# %% [markdown]
# The layers `VanillaDropout` and `InvertedDropout` wrap these functions and follow `model.train()` / `model.eval()`, like
# `nn.Dropout`. Our inverted dropout draws the mask exactly like `F.dropout` on the CPU, so with the same seed they agree to the bit:

# %%
# NBVAL_CHECK_OUTPUT
x = torch.randn(1000, generator=ctx.rng(5))
torch.manual_seed(shifted_seed(7))       # F.dropout draws from the global generator, seeded as ctx.rng(7) is ...
theirs = F.dropout(x, p=0.4, training=True)
ours = inverted_dropout(x, p=0.4, generator=ctx.rng(7))   # ... ours from a generator with the same seed
print("inverted_dropout == F.dropout (same seed):", torch.equal(ours, theirs))
layer = InvertedDropout(p=0.4)
print(layer, "| eval mode is the identity:", torch.equal(layer.eval()(x), x))
print(VanillaDropout(p=0.4), "| eval mode scales by p_keep:", torch.allclose(VanillaDropout(0.4).eval()(x), 0.6 * x))
assert torch.equal(ours, theirs)

# %% [markdown]
# ### Checking the claim: inverted dropout keeps $\mathbb{E}[\text{output}] = \text{input}$
# Average the training-mode output of ten fixed units over many masks. Vanilla dropout's average converges to
# $p_{\text{keep}}\,h$ (its test-time output); inverted dropout's converges to $h$ itself. The standard error of the mean of $K$
# samples of $m h / p_{\text{keep}}$ is $|h|\sqrt{(1-p_{\text{keep}})/(p_{\text{keep}} K)}$; we ask every unit to be within 5 of them.

# %% {"tags": ["plot"]}
K, p = 20_000, 0.4
h = torch.linspace(0.5, 3.0, n, device=ctx.device)
gen = ctx.rng(2, device=ctx.device)
inv = inverted_dropout(h.expand(K, n), p, generator=gen)  # one independent mask per row
van = vanilla_dropout(h.expand(K, n), p, generator=gen)
steps = torch.arange(1, K + 1, device=ctx.device).unsqueeze(1)
run_inv, run_van = (inv.cumsum(0) / steps).cpu(), (van.cumsum(0) / steps).cpu()

fig, ax = plt.subplots(figsize=(7, 4))
unit = n - 1
ax.plot(run_inv[:, unit], label="inverted: running mean")
ax.plot(run_van[:, unit], label="vanilla: running mean")
ax.axhline(h[unit].item(), color="C0", ls="--", label=f"input $h$ = {h[unit].item():.1f} (inverted at test time)")
ax.axhline(p_keep * h[unit].item(), color="C1", ls="--", label=r"$p_{keep}\,h$ (vanilla at test time)")
ax.set(xscale="log", xlabel="number of masks averaged", ylabel="mean output of one unit",
       title="Training-time output, averaged over masks")
ax.legend(fontsize=12)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
se = h * math.sqrt(p / (p_keep * K))
z_inv = ((inv.mean(0) - h).abs() / se).max().item()
z_van = ((van.mean(0) - p_keep * h).abs() / (h * math.sqrt(p * p_keep / K))).max().item()
print(f"inverted: max |mean - h| = {z_inv:.1f} standard errors;  vanilla: max |mean - p_keep h| = {z_van:.1f} standard errors")
ctx.claim(z_inv, "<", 5, "inverted dropout should keep the expected output equal to the input")
ctx.claim(z_van, "<", 5, "vanilla dropout's expected output should be p_keep times the input")

# %% [markdown]
# **Backward.** $d = m \odot h / p_{\text{keep}}$ is linear in $h$ for a fixed mask, so
# $\partial L/\partial h = m \odot (\partial L/\partial d) / p_{\text{keep}}$: only the kept units receive a gradient (and are
# updated) on a step, scaled like the forward pass, and the backward pass must reuse the forward pass's mask.
# Exercises 2 and 3 ask you to write this forward and backward pass yourself; the tests in `tests/test_dropout.py` check
# the library's outputs and gradients against `F.dropout`.

# %% [markdown]
# ## 3. The lecture's $p = 0.5$ on the regularization baseline
# Notebooks 02–05 measure every regularizer against one baseline (`course_lib.baseline`): scikit-learn's 8×8 digits, **500
# training images of which 30% carry a random label**, 500 clean validation images, and the MLP 64-256-256-10 trained with
# Adam (learning rate $2\cdot10^{-3}$, batch 50), for 150 epochs in the baseline. Noisy labels are what a network memorizes
# when nothing stops it. A network that had learned the true digits perfectly would score only about $0.7 + 0.3/10 = 73\%$
# on these training labels (a random label is right one time in ten): training accuracy above that is memorized noise.
#
# We add dropout after each hidden layer with the paper's hidden-unit rate, $p_{\text{keep}} = 0.5$ (`dropout=0.5`), and train
# both networks on two seeds (each seed draws its own split, label noise, initialization and masks) for `EPOCHS` = 60
# epochs: about twice as long as the plain network needs to fit 80% of its training labels, so dropout gets the longer
# training the lecture says it needs. Training accuracy is measured in eval mode (`eval_train=True`), so the gap compares
# like with like.
#
# `nn.Dropout` draws its masks from PyTorch's global random generator. To make every run reproducible on its own, we swap it
# for `InvertedDropout`, which computes the same thing (bit for bit, section 2) but takes a generator; `use_generator` does
# that for a whole model. The helpers:

# %% {"tags": ["listing"]}
show_source(use_generator)


def train(model, data, seed, epochs=EPOCHS):
    """The baseline recipe (Adam, batch size, epochs) for any model; returns the History."""
    return fit(model, data.train, data.val, epochs=epochs, batch_size=RECIPE["batch_size"], seed=seed,
               eval_train=True, optimizer=baseline_optimizer(ctx.profile))


def mlp_run(p_drop, seed):
    """The baseline MLP with dropout p_drop after each hidden layer, trained on the seed's data: (model, history)."""
    model = baseline_model(datasets[seed], ctx.profile, dropout=p_drop, generator=ctx.rng(seed))
    model = use_generator(model, ctx.rng(100 + seed, device=ctx.device))
    return model, train(model, datasets[seed], seed)


# %%
P_HALF = 0.5
datasets = {seed: load_baseline(ctx.profile, seed=seed, device=ctx.device) for seed in SEEDS}
print(datasets[0])
runs = {(p_drop, seed): mlp_run(p_drop, seed) for seed in SEEDS for p_drop in (0.0, P_HALF)}
print(runs[(P_HALF, 0)][0])

# %% [markdown]
# ### Learning curves, seed 0

# %% {"tags": ["plot"]}
def plot_curves(ax, histories, labels, title):
    """Training (dashed) and validation (solid) accuracy per epoch; one colour per model."""
    for name, hist in histories.items():
        ax.plot(hist.epoch, hist.train_acc, "--", color=COLORS[name])
        ax.plot(hist.epoch, hist.val_acc, "-", color=COLORS[name])
    ax.axhline(0.73, color="grey", ls=":")
    handles = [plt.Line2D([], [], color=COLORS[name], lw=3, label=labels[name]) for name in histories]
    handles += [plt.Line2D([], [], color="k", ls="--", label="train (noisy labels)"),
                plt.Line2D([], [], color="k", ls="-", label="validation (clean)"),
                plt.Line2D([], [], color="grey", ls=":", label="73%: right training labels")]
    ax.legend(handles=handles, loc="lower right", ncol=2, fontsize=12)
    ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0.45, 1.01), title=title)


fig, ax = plt.subplots(figsize=(10, 5))
plot_curves(ax, {"plain": runs[(0.0, 0)][1], "dropout": runs[(P_HALF, 0)][1]},
            {"plain": "no dropout", "dropout": f"dropout p = {P_HALF}"}, "Baseline MLP, seed 0: dropout slows memorization")
plt.show()

# %% [markdown]
# ### The numbers on both seeds
# For each run: final training and validation accuracy, their gap, test accuracy, the best validation accuracy on the way
# (and its epoch), and how many epochs it took to reach 80% training accuracy (`FIT_LEVEL`).

# %% {"tags": ["listing"]}
def epochs_to(values, level):
    """The first epoch (1-based) at which values reaches level, or inf if it never does."""
    return next((i + 1 for i, v in enumerate(values) if v >= level), math.inf)


def summary(model, hist, data):
    """The numbers of one run, as a dict."""
    return {"train": hist.train_acc[-1], "val": hist.val_acc[-1], "gap": hist.train_acc[-1] - hist.val_acc[-1],
            "test": evaluate(model, data.test)["acc"], "best": max(hist.val_acc),
            "best_at": hist.val_acc.index(max(hist.val_acc)) + 1, "fit": epochs_to(hist.train_acc, FIT_LEVEL)}


def print_table(results, names):
    print(f"{'model':>17s} seed  train   val    gap   test | best val (epoch) | epochs to {FIT_LEVEL:.0%} train")
    for (key, seed), r in results.items():
        fit = r["fit"] if r["fit"] < math.inf else "not reached"
        print(f"{names[key]:>17s} {seed:4d}  {r['train']:.3f}  {r['val']:.3f} {r['gap']:+.3f}  {r['test']:.3f} |"
              f"    {r['best']:.3f} ({r['best_at']:3d})  | {fit}")


# %%
results = {key: summary(model, hist, datasets[key[1]]) for key, (model, hist) in runs.items()}
print_table(results, {0.0: "no dropout", P_HALF: f"dropout {P_HALF}"})
print(f"training time: {sum(sum(h.seconds) for _, h in runs.values()):.0f} s for {len(runs)} runs")

# %% [markdown]
# ### Checking the claims: dropout narrows the gap, raises validation accuracy, and trains longer
# On **every** seed: the gap shrinks by more than 0.1 and validation accuracy rises by more than 0.05. Averaged over the
# seeds, dropout needs more than 1.3 times as many epochs to reach 80% training accuracy (1.6 to 2.0 times in our runs).

# %%
for seed in SEEDS:
    plain, drop = results[(0.0, seed)], results[(P_HALF, seed)]
    ctx.claim(plain["gap"] - drop["gap"], ">", 0.1, f"seed {seed}: dropout should narrow the train/val gap clearly")
    ctx.claim(drop["val"] - plain["val"], ">", 0.05, f"seed {seed}: dropout should raise validation accuracy clearly")
slower = sum(results[(P_HALF, seed)]["fit"] / results[(0.0, seed)]["fit"] for seed in SEEDS) / len(SEEDS)
print(f"epochs to {FIT_LEVEL:.0%} training accuracy, dropout / no dropout, mean over the seeds: {slower:.2f}")
ctx.claim(slower, ">", 1.3, f"dropout should take longer to reach {FIT_LEVEL:.0%} training accuracy (mean ratio over the seeds)")

# %% [markdown]
# What the run shows:
# (The ranges below are those we saw on both seeds, across CPU kernel sets and five seed offsets.)
# - **The gap and validation accuracy.** Without dropout the network ends at 95–99% training accuracy: it has memorized
#   almost every random label, and validation accuracy sinks from 0.89–0.92 at its best to 0.71–0.79. With dropout,
#   training accuracy still ends above the 73% of right labels (at 0.80–0.85: dropout slows memorization, it does not stop
#   it), but the gap is far smaller (between −0.10 and +0.03, usually negative: the noisy training labels score below the
#   clean validation ones) and validation accuracy higher by 0.09–0.17 on each seed.
# - **Longer training.** The lecture warns that dropout makes training longer, because every update is computed on a
#   random, noisier sub-network. Here dropout needs 42–55 epochs to reach 80% training accuracy, against 24–30 without it:
#   1.6 to 2.0 times as many, averaged over the seeds. On noisy labels that slowness is the point: much of what is slow to
#   fit is the noise.
# - **Early peaks.** Both validation curves peak early (the "best val" column: epochs 6–14 without dropout, 15–28 with it)
#   and then fall as the noise is memorized: the case for early stopping, notebook 05.
#
# The drop rate is a hyperparameter (per layer, as "How to Train ConvNets" stresses), tuned on the validation set like any
# other; notebook 05 compares this run with the other regularizers of the baseline.

# %% [markdown]
# ## 4. Dropout as an ensemble of $2^n$ weight-sharing networks
# Each mask selects a sub-network; a layer of $n$ units has $2^n$ of them (an FC layer of 4096 units: $2^{4096}\approx 10^{1233}$).
# All share the same weights, and each training step updates the sub-network of its mask. At prediction time the ideal is the
# ensemble average over all masks,
#
# $$\mathbb{E}[d] = \sum_{i=1}^{2^n} p(\text{mask}_i)\, d_i(x, \text{mask}_i), \qquad
# p(\text{mask}) = p_{\text{keep}}^{\,k}\,(1-p_{\text{keep}})^{\,n-k}\ \ (k \text{ units kept}),$$
#
# which is far too expensive. **Weight scaling** replaces it by one pass of the full network with scaled activations
# (that is what `model.eval()` does). For $n = 10$ we can still enumerate all $2^{10} = 1024$ masks exactly.

# %%
# NBVAL_CHECK_OUTPUT
g = ctx.rng(3)
h10 = torch.rand(n, dtype=torch.float64, generator=g) * 2                 # ten hidden activations
W = torch.randn(3, n, dtype=torch.float64, generator=g)                   # a 3-class read-out
b = torch.zeros(3, dtype=torch.float64)
all_masks = torch.tensor([[(i >> j) & 1 for j in range(n)] for i in range(2**n)], dtype=torch.float64)  # (1024, 10)
k = all_masks.sum(1)
p_mask = p_keep**k * (1 - p_keep) ** (n - k)          # probability of each mask; they sum to 1
logits = (all_masks * h10) @ W.T + b                  # vanilla dropout: d = mask * h, one row per sub-network

exact_logits = (p_mask[:, None] * logits).sum(0)      # E[logits] over all 1024 sub-networks
scaled_logits = (p_keep * h10) @ W.T + b              # weight scaling: one pass with p_keep * h
arith = (p_mask[:, None] * logits.softmax(1)).sum(0)  # ensemble average of the predicted probabilities
geo = torch.exp((p_mask[:, None] * logits.log_softmax(1)).sum(0))
geo = geo / geo.sum()                                 # normalised (weighted) geometric mean of the predictions
print(f"sum of p(mask) = {p_mask.sum():.6f}")
print("E[logits] over 1024 masks:", [round(v, 4) for v in exact_logits.tolist()])
print("weight-scaled logits:     ", [round(v, 4) for v in scaled_logits.tolist()])
print("arithmetic mean of probs: ", [round(v, 4) for v in arith.tolist()])
print("softmax(scaled logits):   ", [round(v, 4) for v in scaled_logits.softmax(0).tolist()])
print("geometric mean of probs:  ", [round(v, 4) for v in geo.tolist()])
assert torch.allclose(exact_logits, scaled_logits) and torch.allclose(geo, scaled_logits.softmax(0))

# %% [markdown]
# Through a *linear* layer weight scaling is exact: $\mathbb{E}[W(m\odot h)] = p_{\text{keep}} W h$. After the softmax it equals
# the (normalised) **geometric** mean of the $2^n$ predictions exactly, and approximates their arithmetic mean. In a deep
# network with ReLUs between the layers it is an approximation.

# %% [markdown]
# ### Monte-Carlo dropout
# How good is the approximation? **Monte-Carlo dropout** estimates the arithmetic
# ensemble average by keeping dropout on at test time and averaging $K$ random sub-networks:
#
# $$\hat p(y\mid x) = \frac1K \sum_{k=1}^{K} \operatorname{softmax}\big(f(x;\, \text{mask}_k)\big).$$

# %% {"tags": ["listing"]}
show_source(mc_predict)

# %% [markdown]
# We compare it with weight scaling on the two dropout networks of section 3, on their test sets. One loop draws all $K$
# passes; the running mean gives the estimate for every $K \le$ `MC_SAMPLES` at once.

# %% {"tags": ["listing"]}
@torch.no_grad()
def mc_running_mean(model, x, K):
    """Softmax outputs of K random sub-networks and their running mean, shape (K, N, classes)."""
    enable_dropout(model)
    samples = torch.stack([model(x).softmax(dim=1) for _ in range(K)])
    model.eval()
    return samples.cumsum(0) / torch.arange(1, K + 1, device=x.device).view(-1, 1, 1)


ks = torch.unique(torch.logspace(0, math.log10(MC_SAMPLES), 25).round().long()).tolist()
compare = {}
for seed in SEEDS:
    model, test = runs[(P_HALF, seed)][0].eval(), datasets[seed].test
    with torch.no_grad():
        ws = model(test.x).softmax(dim=1)             # weight scaling: one pass in eval mode
    running = mc_running_mean(use_generator(model, ctx.rng(200 + seed, device=ctx.device)), test.x, MC_SAMPLES)
    compare[seed] = {
        "ws_acc": (ws.argmax(1) == test.y).float().mean().item(),
        "mc_acc": [(running[k - 1].argmax(1) == test.y).float().mean().item() for k in ks],
        "agree": [(running[k - 1].argmax(1) == ws.argmax(1)).float().mean().item() for k in ks],
        "mad": [(running[k - 1] - ws).abs().mean().item() for k in ks],
    }

# the library function computes the same running average (same generator seed, same masks)
model, x_test = runs[(P_HALF, 0)][0], datasets[0].test.x
by_library = mc_predict(use_generator(model, ctx.rng(300, device=ctx.device)), x_test, n_samples=5)
by_hand = mc_running_mean(use_generator(model, ctx.rng(300, device=ctx.device)), x_test, 5)[-1]
assert torch.allclose(by_library, by_hand) and not model.training

# %% [markdown]
# ### Monte-Carlo average vs weight scaling

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
for seed, color in zip(SEEDS, ("C2", "C8")):
    c = compare[seed]
    axes[0].plot(ks, c["mc_acc"], "-", color=color, label=f"MC average, seed {seed}")
    axes[0].axhline(c["ws_acc"], color=color, ls="--", lw=1.5, label=f"weight scaling, seed {seed}")
    axes[1].plot(ks, c["agree"], "-", color=color, label=f"seed {seed}")
axes[0].set(xscale="log", xlabel="K (masks averaged)", ylabel="test accuracy", title="MC average vs weight scaling")
axes[1].set(xscale="log", xlabel="K (masks averaged)", ylabel="same class as weight scaling",
            title="Agreement with weight scaling")
axes[0].legend(fontsize=12)
axes[1].legend(fontsize=12)
plt.show()

# %% [markdown]
# ### Checking the claim: weight scaling ≈ the Monte-Carlo average of many masks
# With `MC_SAMPLES` masks, on both seeds: the two predictions pick different classes on fewer than 5% of the test inputs
# (1–3% in our runs) and have accuracies within 0.02 (at most 0.01 apart), while one random sub-network is clearly worse (by
# more than 0.03; 0.045–0.09). Their probabilities differ by about 0.017 on average, and that difference shrinks by less
# than 20% between $K \approx 25$ and $K$ = `MC_SAMPLES` = 50 (by 2–4% in our runs), where Monte-Carlo noise alone would
# shrink by about 30% ($1 - \sqrt{25/50}$).

# %%
k_half = ks.index(min(ks, key=lambda v: abs(v - MC_SAMPLES / 2)))
for seed, c in compare.items():
    print(f"seed {seed}: test accuracy weight scaling {c['ws_acc']:.3f}, MC ({MC_SAMPLES}) {c['mc_acc'][-1]:.3f}, "
          f"one mask {c['mc_acc'][0]:.3f} | same class {c['agree'][-1]:.3f} | "
          f"mean |Δprob| at K = {ks[k_half]}: {c['mad'][k_half]:.3f}, at K = {ks[-1]}: {c['mad'][-1]:.3f}")
    ctx.claim(1 - c["agree"][-1], "<", 0.05, f"seed {seed}: weight scaling should pick the MC average's class "
              "(they should disagree on fewer than 5% of the test images)")
    ctx.claim(abs(c["mc_acc"][-1] - c["ws_acc"]), "<", 0.02, f"seed {seed}: both should be about as accurate")
    ctx.claim(c["mc_acc"][-1] - c["mc_acc"][0], ">", 0.03, f"seed {seed}: many sub-networks should beat a single one")
    ctx.claim(c["mad"][-1], "<", 0.05, f"seed {seed}: the probability difference should be small")
    ctx.claim(1 - c["mad"][-1] / c["mad"][k_half], "<", 0.2, f"seed {seed}: the probability difference should stop "
              f"shrinking with K (by less than 20% from K = {ks[k_half]} to {ks[-1]}; noise alone would shrink by about 30%)")

# %% [markdown]
# A single random sub-network is clearly worse; the average of a few dozen picks the same class as weight scaling almost
# always, at a few dozen times the cost. Weight scaling gets that ensemble in **one** pass. The small difference in
# probabilities that remains is weight scaling's approximation error (it is exact only through linear layers, and ours have
# ReLUs between them), not Monte-Carlo noise: more masks do not remove it. MC dropout is still useful when you want the *spread* of
# the sub-networks' predictions (an uncertainty estimate), which one pass cannot give.

# %% [markdown]
# ## 5. Co-adaptation and sparse activations
# In a network trained jointly, a unit can come to rely on others to correct its mistakes (**co-adaptation**). Dropout makes every
# other unit unreliable, so each unit has to be useful on its own: a **redundant** representation. A side effect reported by
# Srivastava et al. is **sparser** activations. Both can be measured on the networks of section 3.
#
# **Redundancy.** Remove a random fraction $r$ of the hidden units of a trained network at test time (inverted scaling on the
# rest) and watch the test accuracy. A co-adapted network should break down faster. (The dropout network was trained under
# exactly such removals at $r = 0.5$: that it copes is what training with dropout asks of it.)

# %%
@torch.no_grad()
def accuracy_with_units_removed(model, data, r, generator, repeats=3):
    """Test accuracy when each hidden unit is removed with probability r (mean over random removals)."""
    if r == 0:
        return evaluate(model, data.test)["acc"]
    layers = []
    for layer in model:                      # the same trained layers, with removal of rate r after each hidden ReLU
        if not isinstance(layer, (nn.Dropout, InvertedDropout)):
            layers.append(layer)
        if isinstance(layer, nn.ReLU):
            layers.append(InvertedDropout(r, generator=generator))
    ablated = nn.Sequential(*layers)
    enable_dropout(ablated)                  # eval mode, but the removal layers stay random
    x, y = data.test.x, data.test.y
    return sum((ablated(x).argmax(1) == y).float().mean().item() for _ in range(repeats)) / repeats


rates = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7]
robust = {key: [accuracy_with_units_removed(model, datasets[key[1]], r, ctx.rng(5, device=ctx.device)) for r in rates]
          for key, (model, _) in runs.items()}

# %% [markdown]
# ### Robustness to losing units

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.4))
for (p_drop, seed), accs in robust.items():
    name = "plain" if p_drop == 0 else "dropout"
    label = ("no dropout" if p_drop == 0 else f"dropout p = {p_drop}") + f", seed {seed}"
    ax.plot(rates, accs, "o-" if seed == 0 else "s--", color=COLORS[name], label=label)
ax.set(xlabel="fraction r of hidden units removed at test time", ylabel="test accuracy",
       title="Robustness to losing units")
ax.legend(fontsize=12)
plt.show()

# %%
half = rates.index(0.5)
loss_at_half = {key: accs[0] - accs[half] for key, accs in robust.items()}
for (p_drop, seed), loss in loss_at_half.items():
    print(f"p = {p_drop}, seed {seed}: accuracy {robust[(p_drop, seed)][0]:.3f} -> {robust[(p_drop, seed)][half]:.3f} "
          f"with half the hidden units removed (loss {loss:.3f})")
saved = sum(loss_at_half[(0.0, seed)] - loss_at_half[(P_HALF, seed)] for seed in SEEDS) / len(SEEDS)
print(f"mean over the seeds: dropout loses {saved:.3f} less accuracy with half the units removed")
ctx.claim(saved, ">", 0.08, "dropout-trained units should depend far less on each other (mean over the seeds)")

# %% [markdown]
# With half the hidden units removed, the plain networks lost 0.19–0.27 of their test accuracy and the dropout networks
# 0.06–0.09, on both seeds, every kernel set and seed offset we ran: the claim asks for a difference above 0.08 on average.

# %% [markdown]
# ### Sparse activations
# The fraction of hidden ReLU outputs that are exactly zero on the test set, per hidden layer:

# %%
@torch.no_grad()
def hidden_activations(model, x):
    """Outputs of every ReLU of the model (eval mode) for the inputs x."""
    model.eval()
    outs = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: outs.append(out)) for m in model if isinstance(m, nn.ReLU)]
    model(x)
    for hook in hooks:
        hook.remove()
    return outs


acts = {key: hidden_activations(model, datasets[key[1]].test.x) for key, (model, _) in runs.items()}
zero_frac = {key: [(a == 0).float().mean().item() for a in outs] for key, outs in acts.items()}
for (p_drop, seed), fracs in zero_frac.items():
    print(f"p = {p_drop}, seed {seed}: fraction of zero activations in hidden layers 1, 2:", [round(v, 3) for v in fracs])
for seed in SEEDS:
    ctx.claim(zero_frac[(P_HALF, seed)][0] - zero_frac[(0.0, seed)][0], ">", 0.2,
              f"seed {seed}: dropout should make the first hidden layer much sparser")
second = sum(zero_frac[(P_HALF, seed)][1] - zero_frac[(0.0, seed)][1] for seed in SEEDS) / len(SEEDS)
print(f"layer 2, change in the fraction of zeros with dropout, mean over the seeds: {second:+.3f}")
ctx.claim(second, "<", 0.03, "the second hidden layer should not become clearly sparser (mean over the seeds)")

# %% [markdown]
# ### The first hidden layer's activations, seed 0

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.2))
first = {p_drop: acts[(p_drop, 0)][0].flatten().cpu() for p_drop in (0.0, P_HALF)}
bins = torch.linspace(0, float(max(a.max() for a in first.values())), 40).tolist()
for p_drop, name in ((0.0, "plain"), (P_HALF, "dropout")):
    label = "no dropout" if p_drop == 0 else f"dropout p = {p_drop}"
    ax.hist(first[p_drop].numpy(), bins=bins, histtype="stepfilled", color=COLORS[name], alpha=0.5, label=label)
ax.set(yscale="log", xlabel="activation of a hidden unit (layer 1)", ylabel="count (test images × units)",
       title="Hidden activations with and without dropout")
ax.legend()
plt.show()

# %% [markdown]
# With dropout the first hidden layer's units are zero far more often (0.64–0.69 of its outputs, against 0.34–0.40 without,
# across seeds, kernel sets and seed offsets): a sparser code, as the lecture says. The second hidden layer did not become
# sparser: its fraction of zeros (0.39–0.50 either way) changed by −0.05 to +0.01 averaged over the two seeds, by −0.07 to
# +0.03 on a single seed. So "sparser" held here for one of the two layers, not for every layer.

# %% [markdown]
# ## 6. Where to put dropout
# The lecture's advice: use dropout mainly on the **large fully connected layers** (AlexNet and VGG put it there), rarely on
# convolutional ones: a conv layer shares its weights across positions, so every position is almost a separate training
# example for them, and conv layers overfit less.
#
# **Where the parameters are.** Overfitting capacity sits in the parameters, and in classic CNNs most of them are in the FC head.
# VGG-16's layer list is enough to count them:

# %%
# NBVAL_CHECK_OUTPUT
vgg16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
conv_params, c_in = 0, 3
for c_out in (v for v in vgg16 if v != "M"):
    conv_params += c_in * c_out * 3 * 3 + c_out     # 3x3 kernels + biases
    c_in = c_out
fc_sizes = [512 * 7 * 7, 4096, 4096, 1000]
fc_params = sum(a * b + b for a, b in zip(fc_sizes[:-1], fc_sizes[1:]))
print(f"VGG-16: conv layers {conv_params / 1e6:.1f} M parameters, FC layers {fc_params / 1e6:.1f} M "
      f"({fc_params / (conv_params + fc_params):.0%} of all)")

# %% [markdown]
# ### Dropout on conv feature maps: element-wise or per channel?
# When dropout *is* used on conv maps, there are two kinds.
# `nn.Dropout` drops single activations. `nn.Dropout2d` ("spatial dropout", Tompson et al. 2015) flips one coin per example
# and **channel** and zeroes the whole feature map: the argument is that in a smooth, large map the neighbours of a dropped
# activation still carry its information, so only dropping a feature *everywhere* hides it. `nn.Dropout2d` is inverted dropout
# with a mask of shape (N, C, 1, 1), broadcast over height and width. `course_lib`'s `InvertedDropout2d` does this with a
# generator for its masks, and gives exactly what PyTorch's gives for the same seed:

# %% {"tags": ["listing"]}
show_source(InvertedDropout2d.forward)

# %%
fmap = torch.rand(2, 4, 8, 8, generator=ctx.rng(8)) + 0.5                       # 2 examples, 4 channels of 8x8
torch.manual_seed(shifted_seed(9))                                             # seeded as ctx.rng(9) is
assert torch.equal(F.dropout2d(fmap, 0.5, training=True), InvertedDropout2d(0.5, generator=ctx.rng(9))(fmap))
print("InvertedDropout2d == F.dropout2d (same seed): True")

# %% [markdown]
# ### The two masks on the same four feature maps

# %% {"tags": ["plot"]}
def tile(maps):
    """Four 8x8 maps side by side, separated by a blank column."""
    blank = torch.full((8, 1), float("nan"))
    return torch.cat([torch.cat([m, blank], dim=1) for m in maps], dim=1)[:, :-1]


element = InvertedDropout(0.5, generator=ctx.rng(10))(fmap)[0]
channel = InvertedDropout2d(0.5, generator=ctx.rng(12))(fmap)[0]
fig, axes = plt.subplots(2, 1, figsize=(9, 5))
for ax, maps, title in ((axes[0], element, "nn.Dropout(0.5): single activations dropped"),
                        (axes[1], channel, "nn.Dropout2d(0.5): whole channels dropped")):
    ax.imshow(tile(maps), cmap="viridis", vmin=0, vmax=3)
    ax.set(title=title, xticks=[], yticks=[], xlabel="channels 1-4 of one example (dark = 0)")
    ax.grid(False)
plt.show()

# %% [markdown]
# ### Training the three CNNs
# We compare them trained, on the baseline's noisy digits seen as $1\times8\times8$ images, in a small CNN:
# conv 3×3 (8 channels) → ReLU → *dropout* → conv 3×3 (16) → ReLU → max-pool → *dropout* → linear. Three variants with the
# same seeds: no dropout, `nn.Dropout(0.3)` and `nn.Dropout2d(0.3)` at both places. To keep the runs short, the CNN trains
# with a larger learning rate and batch than the baseline (Adam, $2\cdot10^{-2}$, batch 100): the plain CNN then starts to
# memorize the noisy labels within 35 epochs. Validation accuracy wobbles from epoch to epoch, so we compare its mean over
# the last 5 epochs; and the difference between the two kinds of dropout is of the size of the seed-to-seed spread, so we
# train each variant on four seeds (`CNN_SEEDS`: the two of section 3 and two more) and compare the means.

# %% {"tags": ["listing"]}
def small_cnn(data, drop, generator):
    """conv(8) -> ReLU -> drop -> conv(16) -> ReLU -> max-pool(2) -> drop -> linear; drop() makes a dropout layer or None."""
    c, height, width = data.input_shape
    extra = (lambda: [drop()]) if drop is not None else (lambda: [])
    model = nn.Sequential(nn.Conv2d(c, 8, 3, padding=1), nn.ReLU(), *extra(),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), *extra(),
                          nn.Flatten(), nn.Linear(16 * (height // 2) * (width // 2), data.num_classes))
    # channels-last memory layout: the same network, faster convolutions on a CPU
    return reset_parameters(model, generator).to(ctx.device, memory_format=torch.channels_last)


def train_cnn(model, data, seed):
    """Adam (CNN_LR, batch CNN_BATCH) for CNN_EPOCHS epochs; validation accuracy averaged over the last LAST epochs."""
    val_acc = []
    record = LambdaCallback(on_epoch_end=lambda state: val_acc.append(evaluate(model, data.val)["acc"])
                            if state.epoch > CNN_EPOCHS - LAST else None)
    fit(model, data.train, epochs=CNN_EPOCHS, batch_size=CNN_BATCH, seed=seed, callbacks=[record],
        optimizer=lambda params: torch.optim.Adam(params, lr=CNN_LR, fused=True))
    return {"train": evaluate(model, data.train)["acc"], "val": sum(val_acc) / len(val_acc), "last_val": val_acc[-1],
            "test": evaluate(model, data.test)["acc"]}


# %%
P_CONV, LAST = 0.3, 5
CNN_LR, CNN_BATCH = ctx.pick(fast=2e-2, full=RECIPE["lr"]), ctx.pick(fast=100, full=RECIPE["batch_size"])
cnn_names = {"plain": "no dropout", "dropout": f"nn.Dropout({P_CONV})", "channel": f"nn.Dropout2d({P_CONV})"}
CNN_SEEDS = ctx.pick(fast=[0, 1, 2, 3], full=SEEDS)  # the CNNs are cheap: more seeds for a steadier comparison
cnn_data = {seed: datasets[seed] if seed in datasets else load_baseline(ctx.profile, seed=seed, device=ctx.device)
            for seed in CNN_SEEDS}
cnn_results = {}
for seed in CNN_SEEDS:
    masks_from = ctx.rng(400 + seed, device=ctx.device)
    variants = {"plain": None, "dropout": lambda: InvertedDropout(P_CONV, generator=masks_from),
                "channel": lambda: InvertedDropout2d(P_CONV, generator=masks_from)}
    for name, drop in variants.items():
        cnn_results[(name, seed)] = train_cnn(small_cnn(cnn_data[seed], drop, ctx.rng(seed)), cnn_data[seed], seed)
mean = {(name, key): sum(cnn_results[(name, s)][key] for s in CNN_SEEDS) / len(CNN_SEEDS)
        for name in cnn_names for key in ("train", "val", "test")}
print(f"{'model':>17s}  val (mean of last {LAST}) on seeds {CNN_SEEDS} | mean: val  train (noisy)  test")
for name in cnn_names:
    per_seed = " ".join(f"{cnn_results[(name, s)]['val']:.3f}" for s in CNN_SEEDS)
    print(f"{cnn_names[name]:>17s}  {per_seed:>37s} |     {mean[(name, 'val')]:.3f}  "
          f"{mean[(name, 'train')]:.3f}          {mean[(name, 'test')]:.3f}")

# %% [markdown]
# ### The three CNNs on each seed: validation and training accuracy

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
width = 0.27
for i, name in enumerate(cnn_names):
    for ax, key in zip(axes, ("val", "train")):
        ax.bar([seed + (i - 1) * width for seed in CNN_SEEDS], [cnn_results[(name, seed)][key] for seed in CNN_SEEDS], width,
               color=COLORS[name], label=cnn_names[name])
axes[1].axhline(0.73, color="grey", ls=":", label="73%: right training labels")
axes[0].set(ylabel="validation accuracy (clean labels)", title=f"Validation: mean of the last {LAST} epochs")
axes[1].set(ylabel="training accuracy (noisy labels)", title=f"Training, after {CNN_EPOCHS} epochs (eval mode)")
for ax in axes:
    ax.set(xticks=CNN_SEEDS, xticklabels=[f"seed {seed}" for seed in CNN_SEEDS], ylim=(0.6, 1.0))
fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=12)
plt.show()

# %% [markdown]
# Training accuracy is measured on the *noisy* labels, validation accuracy on clean ones: a network that ignores the noise
# scores only about 73% on the former, so a training accuracy below the validation accuracy is no bug.
#
# ### Checking the claims: both help, element-wise dropout more
# Validation accuracy averaged over the last `LAST` epochs and over the `CNN_SEEDS`: both kinds of dropout beat no dropout
# by more than 0.05, and element-wise dropout beats channel dropout by more than 0.02.

# %%
val = {name: mean[(name, "val")] for name in cnn_names}
ctx.claim(val["channel"] - val["plain"], ">", 0.05, "channel dropout should beat no dropout (mean over the seeds)")
ctx.claim(val["dropout"] - val["plain"], ">", 0.05, "element-wise dropout should beat no dropout (mean over the seeds)")
ctx.claim(val["dropout"] - val["channel"], ">", 0.02, "element-wise dropout should beat channel dropout (mean over the seeds)")

# %% [markdown]
# On these images, at the same rate, **element-wise dropout regularized more strongly than channel dropout**: its mean
# training accuracy on the noisy labels is lower and its mean validation accuracy higher, by 0.03–0.05 averaged over the
# four seeds, on every kernel set and seed offset we ran. On a single seed the difference varies more (0.03–0.07 on seeds 0
# and 1 across kernel sets and offsets 1–5, close to 0.02 averaged over those two seeds on one offset we checked), which
# is why the claim is on the mean. Both beat no dropout by far more: 0.12–0.15 (channel) and 0.17–0.19 (element-wise) on
# the mean. That does not
# contradict the argument for spatial dropout, which is about large, smooth feature maps: ours are 8×8 and 4×4, where a
# dropped activation has few neighbours to stand in for it. We measured one rate and one small CNN; on large images the
# ranking can differ, which is why `nn.Dropout2d` exists. The lecture's default stands: dropout on the big FC layers
# ($p = 0.5$ in AlexNet/VGG), data augmentation (notebook 04) and weight decay for the conv layers.

# %% [markdown]
# ## 7. DropConnect: drop connections, not units
# DropConnect (Wan et al., 2013) zeroes random **weights** instead of units. For a linear layer $y = Wx + b$ with
# $W \in \mathbb{R}^{\text{out}\times\text{in}}$:
#
# $$\text{training: } y = \Big(\frac{M \odot W}{p_{\text{keep}}}\Big)x + b,\quad M_{ij}\sim\text{Bernoulli}(p_{\text{keep}});
# \qquad \text{test: } y = Wx + b .$$
#
# Dropout on the inputs of this layer is the special case where $M$ drops whole **columns** of $W$ (every connection leaving a
# dropped unit); DropConnect drops single entries. As with inverted dropout, dividing by $p_{\text{keep}}$ makes the expected
# training output equal to the plain layer. `DropConnectLinear` draws **one mask per forward pass**, shared by the whole
# mini-batch (the cheap variant; Wan et al. draw one per example).

# %% {"tags": ["listing"]}
show_source(DropConnectLinear)

# %% [markdown]
# ### Which weights are kept

# %% {"tags": ["plot"]}
layer = reset_parameters(DropConnectLinear(12, 8, p=0.5, generator=ctx.rng(4)), ctx.rng(4))
layer(torch.ones(1, 12))                                              # draws layer.mask, (8, 12)
unit_mask = dropout_mask(torch.ones(1, 12), p=0.5, generator=ctx.rng(6)).expand(8, 12)  # dropout on the 12 inputs

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, m, title in ((axes[0], unit_mask, "dropout on the inputs"), (axes[1], layer.mask, "DropConnect")):
    ax.imshow(m, cmap="Greys", vmin=0, vmax=1.6)
    ax.set(xlabel="input unit j", ylabel="output unit i", title=f"{title}: kept $W_{{ij}}$ (dark)")
    ax.grid(False)
plt.show()

# %% [markdown]
# ### Test time and the expectation
# In eval mode the layer is the plain `nn.Linear`; in training mode the average over many
# masks converges to it:

# %%
# NBVAL_CHECK_OUTPUT
plain_layer = nn.Linear(12, 8)
plain_layer.load_state_dict(layer.state_dict())
x_in = torch.randn(4, 12, generator=ctx.rng(7))
with torch.no_grad():
    eval_equal = torch.equal(layer.eval()(x_in), plain_layer(x_in))
    layer.train()
    avg = sum(layer(x_in) for _ in range(4000)) / 4000
    se = torch.sqrt((x_in.square() @ plain_layer.weight.square().T) * (0.5 / 0.5) / 4000)
    z = ((avg - plain_layer(x_in)).abs() / se).max().item()
print("eval mode equals nn.Linear:", eval_equal, f"| training-mode mean over 4000 masks: max deviation {z:.1f} standard errors")
assert eval_equal
ctx.claim(z, "<", 5, "the training-mode mean of DropConnect should converge to the plain layer")

# %% [markdown]
# ### DropConnect in the baseline network
# The same MLP, seeds and recipe as in section 3, with DropConnect at the same rate $p = 0.5$ in
# the two layers whose inputs dropout masked there (the 256→256 and 256→10 layers):

# %% {"tags": ["listing"]}
def with_dropconnect(model, p_drop, generator):
    """Replace every Linear layer after the first by a DropConnectLinear with the same weights."""
    linears = [i for i, layer in enumerate(model) if type(layer) is nn.Linear]
    for i in linears[1:]:
        old = model[i]
        new = DropConnectLinear(old.in_features, old.out_features, p=p_drop, generator=generator)
        new.load_state_dict(old.state_dict())
        model[i] = new.to(old.weight.device)
    return model


# %%
for seed in SEEDS:
    model = with_dropconnect(baseline_model(datasets[seed], ctx.profile, generator=ctx.rng(seed)), P_HALF,
                             ctx.rng(500 + seed, device=ctx.device))
    runs[("dropconnect", seed)] = (model, train(model, datasets[seed], seed))
    results[("dropconnect", seed)] = summary(model, runs[("dropconnect", seed)][1], datasets[seed])
print(f"training time: {sum(sum(runs[('dropconnect', s)][1].seconds) for s in SEEDS):.0f} s for {len(SEEDS)} runs")
print_table(results, {0.0: "no dropout", P_HALF: f"dropout {P_HALF}", "dropconnect": f"DropConnect {P_HALF}"})

# %% [markdown]
# ### Checking the claim: at the same rate, DropConnect regularizes more weakly than dropout here
# On every seed the gap with DropConnect is larger than with dropout by more than 0.03.

# %%
for seed in SEEDS:
    ctx.claim(results[("dropconnect", seed)]["gap"] - results[(P_HALF, seed)]["gap"], ">", 0.03,
              f"seed {seed}: DropConnect (p = 0.5, one mask per mini-batch) should leave a larger gap than dropout")

# %% [markdown]
# At the same rate, DropConnect with one mask per mini-batch narrowed the gap too (to between −0.01 and +0.11, from
# 0.16–0.28 without dropout), but less than dropout did (−0.10 to +0.03): its gap was 0.06–0.13 larger than dropout's, its
# validation accuracy 0.02–0.09 lower, and it fitted the noisy labels 3–9 epochs sooner (the last column), on both seeds,
# every kernel set and seed offset we ran. Two differences can explain it, and this run does not
# separate them: dropout removes a unit from **every** unit of the next layer at once, while DropConnect removes single
# connections, so each feature still reaches most of the next layer; and our DropConnect shares one mask across the 50
# examples of a mini-batch, while dropout draws a fresh one per example. Wan et al. draw a mask per example and use a
# sampling-based rule at test time, at a far higher cost than dropout, which is one reason dropout is what you will see in
# practice.

# %% [markdown]
# ## Summary
# - Dropout multiplies each unit by a fresh $\text{Bernoulli}(p_{\text{keep}})$ mask on every training pass. PyTorch's `p` is the
#   **drop** probability, $p = 1 - p_{\text{keep}}$; the lecture's and the paper's $p$ is the keep probability.
# - **Vanilla** dropout scales by $p_{\text{keep}}$ at test time; **inverted** dropout (`nn.Dropout`) divides by $p_{\text{keep}}$
#   in training, so that $\mathbb{E}[\text{output}] = \text{input}$ and test time is the identity. The backward pass reuses the
#   mask: $\partial L/\partial h = m \odot \partial L/\partial d \,/\, p_{\text{keep}}$.
# - On the noisy-label baseline, dropout $p = 0.5$ narrowed the train/validation gap and raised validation accuracy on both
#   seeds, and took 1.6 to 2 times as many epochs to reach 80% training accuracy (the lecture's "longer training").
# - Dropout trains $2^n$ weight-sharing sub-networks; weight scaling (one pass) picked the same class as a 50-mask
#   Monte-Carlo average on 97–99% of the test images, and is exact for a linear layer. Dropout-trained units depended far
#   less on each other, and the first hidden layer became much sparser.
# - Put dropout on the large fully connected layers. In our small CNN, element-wise dropout beat channel dropout
#   (`nn.Dropout2d`) at the same rate, by a few points averaged over the seeds; DropConnect (one mask per mini-batch) regularized more weakly than dropout at the same rate.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — how often is a mask "unlucky"?
# In the lecture's example ($n = 10$ units, $p_{\text{keep}} = 0.6$) the number $K$ of kept units varies from mask to mask. What is
# the probability that a mask keeps **at most 5** of the 10 units? Give the exact value (4 decimals are enough).

# %% {"tags": ["exercise"]}
answer_1 = None  # replace None with a number

# %%
ex.check_at_most_five_kept(answer_1)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Each unit is kept independently with probability 0.6, so $K \sim \text{Binomial}(10, 0.6)$ and
# $P(K \le 5) = \sum_{k=0}^{5} \binom{10}{k} 0.6^k\, 0.4^{10-k} \approx 0.3669$. More than a third of the masks keep half of the
# units or fewer: the 60% holds only on average, as the histogram in section 1 shows.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
solution_1 = sum(math.comb(10, k) * 0.6**k * 0.4 ** (10 - k) for k in range(6))
assert ex.check_at_most_five_kept(solution_1)

# %% [markdown]
# ### Exercise 2 — dropout, forward pass
# Write the forward pass of inverted dropout as a function, in the style of a layer's `forward` that also returns what its
# backward pass will need:
#
# - `x`: a tensor of any shape; `p`: the **drop** probability (PyTorch's convention, keep probability $1 - p$);
#   `mode`: `"train"` or `"test"`;
# - `mask`: a 0/1 **keep** mask shaped like `x` (1 = keep). When it is `None`, draw one: each entry is 1 with probability
#   $1 - p$, drawn from `generator` (for example `torch.rand(x.shape, generator=generator)`), a fresh one on every call;
# - return `(out, cache)`: `out` shaped like `x`; `cache` anything you like, for exercise 3.
#
# In training, `out` $= \text{mask} \odot x / (1 - p)$; at test time `out = x`. Do not modify `x` in place. The check compares
# your output with `course_lib.dropout.inverted_dropout` on the same mask, and tests your own masks and the test mode.

# %% {"tags": ["exercise"]}
def dropout_forward(x, p, mode, mask=None, generator=None):
    raise NotImplementedError  # your code here


# %%
ex.check_dropout_forward(dropout_forward)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# In test mode return `x` itself: inverted dropout did its scaling in training. In training, draw the keep mask where none is
# given (keep where a uniform number is at least `p`, which happens with probability $1 - p$), multiply by it and divide by
# the keep probability $1 - p$. Keep the mask (and `p`, `mode`) in the cache. The usual slips: `torch.rand(...) < p` keeps with
# probability $p$ (the lecture's convention, not PyTorch's); forgetting the division is vanilla dropout, which would then need
# `x * (1 - p)` at test time; scaling in both places counts the factor twice.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_dropout_forward(x, p, mode, mask=None, generator=None):
    if mode == "test":
        return x, (None, p, mode)
    if mask is None:
        mask = (torch.rand(x.shape, generator=generator) >= p).to(x)  # 1 with probability 1 - p
    return x * mask / (1 - p), (mask, p, mode)


assert ex.check_dropout_forward(solution_dropout_forward)

# %% [markdown]
# ### Exercise 3 — dropout, backward pass
# Write `dropout_backward(dout, cache)`: given `dout` $= \partial L/\partial\,\text{out}$ (shaped like `x`) and the `cache` your
# `dropout_forward` returned, return `dx` $= \partial L/\partial x$. For a fixed mask the forward pass is linear in `x`, so the
# chain rule needs no more than the mask, `p` and the mode. The check compares your `dx` with autograd's gradient through
# `inverted_dropout` on the same mask, and uses your `dropout_forward` from exercise 2 (it must pass first).

# %% {"tags": ["exercise"]}
def dropout_backward(dout, cache):
    raise NotImplementedError  # your code here


# %%
ex.check_dropout_backward(dropout_forward, dropout_backward)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# In training, $\text{out}_i = m_i x_i / (1-p)$, so $\partial\,\text{out}_i/\partial x_i = m_i/(1-p)$ and $dx = dout \odot m / (1-p)$:
# dropped units get no gradient, kept ones the same factor as in the forward pass, and the mask must be the one the forward
# pass used (from the cache, never a new draw). In test mode the layer is the identity, so $dx = dout$.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_dropout_backward(dout, cache):
    mask, p, mode = cache
    if mode == "test":
        return dout
    return dout * mask / (1 - p)


assert ex.check_dropout_backward(solution_dropout_forward, solution_dropout_backward)

# %% [markdown]
# ### Exercise 4 — Monte-Carlo dropout by hand
# Write `my_mc_average(model, x, n_samples)` returning the average of the **softmax probabilities** of `n_samples` forward
# passes with dropout switched **on**, shape `(N, classes)`. Leave the model in the train/eval mode you found it in, and do not
# track gradients. (The checker's model has only `Linear`, `ReLU` and `Dropout` layers.)

# %% {"tags": ["exercise"]}
def my_mc_average(model, x, n_samples):
    raise NotImplementedError  # your code here


# %%
ex.check_mc_average(my_mc_average)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# `model.train()` switches dropout on (fine here: no batch norm; `course_lib.dropout.mc_predict` switches on only the dropout
# layers). Run `n_samples` passes under `torch.no_grad()`, each with a fresh mask, take the softmax of each and average them;
# then restore the mode with `model.train(was_training)`. Averaging logits instead of probabilities gives rows that do not sum
# to 1; forgetting `model.train()` averages `n_samples` copies of the weight-scaled prediction.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_mc_average(model, x, n_samples):
    was_training = model.training
    model.train()  # dropout on
    with torch.no_grad():
        probs = torch.stack([model(x).softmax(dim=1) for _ in range(n_samples)]).mean(dim=0)
    model.train(was_training)
    return probs


assert ex.check_mc_average(solution_mc_average)
