# %% [markdown]
# # 03 · Dropout
#
# **Learning objectives.** After this notebook you can
# 1. **explain** the dropout mask and translate between the lecture's keep probability $p_{\text{keep}}$ and PyTorch's drop probability $p$;
# 2. **implement** vanilla and inverted dropout and say where each one puts the scaling;
# 3. **interpret** dropout as an ensemble of $2^n$ weight-sharing sub-networks and **compare** Monte-Carlo averaging with weight scaling;
# 4. **measure** dropout's effect on the train/validation gap, on sparse activations and on co-adaptation;
# 5. **choose** where to place dropout (fully connected vs convolutional layers) and **describe** DropConnect.
#
# *Lecture:* deck 000 (dropout as a layer, the $n=10$ mask example, prediction time, inverted dropout, where to put it, DropConnect),
# deck 004 (dropout as an ensemble, co-adaptation, sparse representations), deck 003 (vanilla vs inverted code), decks 001/002.
# *Runs in:* about 30 s on a laptop CPU (fast profile).

# %% [markdown]
# ## Set-up
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST, a wider network and
# longer runs (see the README).

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.dropout import (DropConnectLinear, InvertedDropout, VanillaDropout, dropout_mask, enable_dropout,
                                inverted_dropout, mc_predict, vanilla_dropout)
from course_lib.exercises import ex03 as ex

ctx = setup_notebook(seed=0)
DATASET = ctx.pick(fast="mnist1d", full="mnist")
HIDDEN = ctx.pick(fast=[128, 128], full=[512, 512])
EPOCHS = ctx.pick(fast=30, full=40)
SEEDS = [0, 1, 2]
MC_SAMPLES = ctx.pick(fast=200, full=500)

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
g = torch.Generator().manual_seed(0)
for _ in range(4):
    u = torch.rand(n, generator=g)
    mask = (u < p_keep).int()
    print("u =", " ".join(f"{v:.2f}" for v in u.tolist()), "  mask =", mask.tolist(), f"  kept {int(mask.sum())}/10")

# %% [markdown]
# Not every mask keeps exactly 60% of the units; only the *average* is 60%. `course_lib.dropout.dropout_mask` draws the same
# Bernoulli mask (with `bernoulli_`, the way `F.dropout` draws it on the CPU), shaped like its input, and takes PyTorch's drop
# probability $p = 1 - p_{\text{keep}} = 0.4$:

# %%
show_source(dropout_mask)

# %%
masks = dropout_mask(torch.ones(20_000, n), p=0.4, generator=torch.Generator().manual_seed(1))  # 20 000 masks
kept = masks.sum(dim=1)
counts = torch.bincount(kept.long(), minlength=n + 1) / len(kept)

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.bar(range(n + 1), counts.tolist(), color="tab:blue", label="20 000 random masks")
ax.axvline(p_keep * n, color="k", ls="--", label=r"mean $n\,p_{keep}$ = 6")
ax.set(xlabel="units kept (out of 10)", ylabel="fraction of masks", title="How many units a mask keeps",
       xticks=range(n + 1))
ax.legend()
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print(f"mean fraction kept: {masks.mean().item():.3f}  (p_keep = {p_keep})")
assert abs(masks.mean().item() - p_keep) < 0.005

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

# %%
show_source(vanilla_dropout)
show_source(inverted_dropout)

# %% [markdown]
# The layers `VanillaDropout` and `InvertedDropout` wrap these functions and follow `model.train()` / `model.eval()`, like
# `nn.Dropout`. Our inverted dropout draws the mask exactly like `F.dropout` on the CPU, so with the same seed they agree to the bit:

# %%
# NBVAL_CHECK_OUTPUT
x = torch.randn(1000)
torch.manual_seed(7)
ours = inverted_dropout(x, p=0.4)
torch.manual_seed(7)
theirs = F.dropout(x, p=0.4, training=True)
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

# %%
K, p = 20_000, 0.4
h = torch.linspace(0.5, 3.0, n, device=ctx.device)
gen = torch.Generator(device=ctx.device).manual_seed(2)
inv = inverted_dropout(h.expand(K, n), p, generator=gen)  # one independent mask per row
van = vanilla_dropout(h.expand(K, n), p, generator=gen)
steps = torch.arange(1, K + 1, device=ctx.device).unsqueeze(1)
run_inv, run_van = (inv.cumsum(0) / steps).cpu(), (van.cumsum(0) / steps).cpu()

fig, ax = plt.subplots(figsize=(7, 4))
unit = n - 1
ax.plot(run_inv[:, unit], label="inverted: running mean")
ax.plot(run_van[:, unit], label="vanilla: running mean")
ax.axhline(h[unit].item(), color="tab:blue", ls="--", label=f"input $h$ = {h[unit].item():.1f} (inverted at test time)")
ax.axhline(p_keep * h[unit].item(), color="tab:orange", ls="--", label=r"$p_{keep}\,h$ (vanilla at test time)")
ax.set(xscale="log", xlabel="number of masks averaged", ylabel="mean output of one unit",
       title="Training-time output, averaged over masks")
ax.legend(fontsize=10)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
se = h * math.sqrt(p / (p_keep * K))
z_inv = ((inv.mean(0) - h).abs() / se).max().item()
z_van = ((van.mean(0) - p_keep * h).abs() / (h * math.sqrt(p * p_keep / K))).max().item()
print(f"inverted: max |mean - h| = {z_inv:.1f} standard errors;  vanilla: max |mean - p_keep h| = {z_van:.1f} standard errors")
assert z_inv < 5, "inverted dropout should keep the expected output equal to the input"
assert z_van < 5, "vanilla dropout's expected output should be p_keep times the input"

# %% [markdown]
# Gradients follow the same rule: $\partial d_i / \partial h_i = m_i / p_{\text{keep}}$, so only the kept units receive a gradient
# (and are updated) on a step. The tests in `tests/test_dropout.py` check outputs and gradients against `F.dropout`.

# %% [markdown]
# ## 3. Dropout in a network: the train/validation gap
# The MLP {40}-128-128-10 overfits MNIST-1D strongly (section 01). We train it with and without "light" dropout
# (`nn.Dropout(0.1)` after each hidden layer, $p_{\text{keep}} = 0.9$) on three seeds, and once with heavy dropout
# ($p = 0.5$, the paper's hidden-unit setting) for the later sections. Accuracy on the training set is measured in eval mode
# (`eval_train=True`), so the gap compares like with like.

# %%
data = load_dataset(DATASET, device=ctx.device)
print(data)


def train(p_drop, seed):
    """A fresh MLP with dropout p_drop after each hidden layer, trained with Adam; returns (model, history)."""
    torch.manual_seed(seed)
    model = mlp(data.num_features, HIDDEN, data.num_classes, dropout=p_drop).to(ctx.device)
    history = fit(model, data.train, data.val, epochs=EPOCHS, batch_size=128, seed=seed, eval_train=True,
                  optimizer=lambda params: torch.optim.Adam(params, lr=2e-3))
    return model, history


P_LIGHT, P_HEAVY = 0.1, 0.5
runs = {(p_drop, seed): train(p_drop, seed) for p_drop in (0.0, P_LIGHT) for seed in SEEDS}
runs[(P_HEAVY, 0)] = train(P_HEAVY, 0)

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
for (p_drop, color) in ((0.0, "tab:red"), (P_LIGHT, "tab:blue"), (P_HEAVY, "tab:green")):
    hist = runs[(p_drop, 0)][1]
    ax.plot(hist.epoch, hist.train_acc, "-", color=color, label=f"p = {p_drop}: train")
    ax.plot(hist.epoch, hist.val_acc, "--", color=color, label=f"p = {p_drop}: validation")
ax.set(xlabel="epoch", ylabel="accuracy", title=f"MLP on {DATASET}, seed 0: dropout shrinks the gap")
ax.legend(ncol=3, fontsize=9, loc="lower right")
plt.show()

# %%
def final(p_drop, seed):
    """(train, val, test) accuracy at the end of a run."""
    model, hist = runs[(p_drop, seed)]
    return hist.train_acc[-1], hist.val_acc[-1], evaluate(model, data.test)["acc"]


def mean(p_drop, i):
    """Mean over the seeds of final(...)[i] (0 train, 1 val, 2 test)."""
    return sum(final(p_drop, s)[i] for s in SEEDS) / len(SEEDS)



print("   p  seed  train   val   test   gap")
gaps = {}
for p_drop in (0.0, P_LIGHT):
    for seed in SEEDS:
        tr, va, te = final(p_drop, seed)
        gaps[(p_drop, seed)] = tr - va
        print(f"{p_drop:4.1f}  {seed:4d}  {tr:.3f}  {va:.3f}  {te:.3f}  {tr - va:.3f}")
tr, va, te = final(P_HEAVY, 0)
print(f"{P_HEAVY:4.1f}  {0:4d}  {tr:.3f}  {va:.3f}  {te:.3f}  {tr - va:.3f}")
print(f"mean over seeds: val {mean(0.0, 1):.3f} -> {mean(P_LIGHT, 1):.3f}, test {mean(0.0, 2):.3f} -> {mean(P_LIGHT, 2):.3f}")

# %% [markdown]
# ### Checking the claim: dropout narrows the train/validation gap
# On every seed the gap with dropout must be smaller by a clear margin, and dropout must not cost validation accuracy on
# average.

# %%
for seed in SEEDS:
    assert gaps[(P_LIGHT, seed)] < gaps[(0.0, seed)] - 0.03, f"seed {seed}: dropout should narrow the gap clearly"
assert mean(P_LIGHT, 1) > mean(0.0, 1), "light dropout should not lower the mean validation accuracy"

# %% [markdown]
# Heavy dropout ($p=0.5$) narrows the gap most, but in the same number of epochs it has not caught up on validation accuracy:
# the lecture's warning that dropout makes the updates noisier and **training longer**. The drop rate is a hyperparameter
# per layer, tuned like any other.

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
torch.manual_seed(3)
h10 = torch.rand(n, dtype=torch.float64) * 2          # ten hidden activations
W, b = torch.randn(3, n, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)  # a 3-class read-out
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
# network with ReLUs between the layers it is an approximation. How good? **Monte-Carlo dropout** estimates the arithmetic
# ensemble average by keeping dropout on at test time and averaging $K$ random sub-networks:
#
# $$\hat p(y\mid x) = \frac1K \sum_{k=1}^{K} \operatorname{softmax}\big(f(x;\, \text{mask}_k)\big).$$

# %%
show_source(mc_predict)

# %% [markdown]
# We compare it with weight scaling on the trained networks, on the test set: the three light-dropout seeds and the heavy one.
# One loop draws all $K$ passes; the running mean gives the estimate for every $K \le$ `MC_SAMPLES` at once.

# %%
x_test, y_test = data.test.x, data.test.y


@torch.no_grad()
def mc_running_mean(model, x, K):
    """Softmax outputs of K random sub-networks and their running mean, shape (K, N, classes)."""
    enable_dropout(model)
    samples = torch.stack([model(x).softmax(dim=1) for _ in range(K)])
    model.eval()
    return samples.cumsum(0) / torch.arange(1, K + 1, device=x.device).view(-1, 1, 1)


ks = torch.unique(torch.logspace(0, math.log10(MC_SAMPLES), 25).round().long()).tolist()
compare = {}
for key in [(P_LIGHT, s) for s in SEEDS] + [(P_HEAVY, 0)]:
    model = runs[key][0].eval()
    with torch.no_grad():
        ws = model(x_test).softmax(dim=1)             # weight scaling: one pass in eval mode
    torch.manual_seed(100 + key[1])
    running = mc_running_mean(model, x_test, MC_SAMPLES)
    compare[key] = {
        "ws_acc": (ws.argmax(1) == y_test).float().mean().item(),
        "mc_acc": [(running[k - 1].argmax(1) == y_test).float().mean().item() for k in ks],
        "agree": [(running[k - 1].argmax(1) == ws.argmax(1)).float().mean().item() for k in ks],
        "mad": [(running[k - 1] - ws).abs().mean().item() for k in ks],
    }

# the library function computes the same running average (same seed, same masks)
model = runs[(P_LIGHT, 0)][0]
torch.manual_seed(100)
by_library = mc_predict(model, x_test, n_samples=5)
torch.manual_seed(100)
assert torch.allclose(by_library, mc_running_mean(model, x_test, 5)[-1]) and not model.training

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for key, color in zip(compare, ("tab:blue", "tab:cyan", "tab:purple", "tab:green")):
    c = compare[key]
    lbl = f"p = {key[0]}, seed {key[1]}"
    axes[0].plot(ks, c["mc_acc"], "-", color=color, label=f"MC, {lbl}")
    axes[0].axhline(c["ws_acc"], color=color, ls="--", lw=1.5)
    axes[1].plot(ks, c["agree"], "-", color=color, label=lbl)
axes[0].set(xscale="log", xlabel="K (masks averaged)", ylabel="test accuracy",
            title="MC average (solid) vs weight scaling (dashed)")
axes[1].set(xscale="log", xlabel="K (masks averaged)", ylabel="same argmax as weight scaling",
            title="Agreement with weight scaling")
axes[0].legend(fontsize=9)
axes[1].legend(fontsize=9)
plt.show()

# %% [markdown]
# ### Checking the claim: weight scaling ≈ the Monte-Carlo average of many masks
# With `MC_SAMPLES` masks the two predictions must pick the same class on at least 95% of the test inputs (light dropout;
# 90% for heavy dropout, where the sub-networks differ more), differ by little in probability, and have nearly the same accuracy.

# %%
for key, c in compare.items():
    print(f"p = {key[0]}, seed {key[1]}: accuracy weight scaling {c['ws_acc']:.3f}, MC ({MC_SAMPLES}) {c['mc_acc'][-1]:.3f}, "
          f"single mask {c['mc_acc'][0]:.3f} | argmax agreement {c['agree'][-1]:.3f} | mean |Δprob| {c['mad'][-1]:.3f}")
    assert c["agree"][-1] >= (0.95 if key[0] == P_LIGHT else 0.90), "weight scaling should pick the MC average's class"
    assert c["mad"][-1] < 0.02, "weight-scaled probabilities should be close to the MC average"
    assert abs(c["mc_acc"][-1] - c["ws_acc"]) < 0.02, "both should be about as accurate"
    assert c["mc_acc"][-1] > c["mc_acc"][0], "the average of many sub-networks should beat a single one"

# %% [markdown]
# A single random sub-network is clearly worse; the average of a few dozen matches weight scaling, at a few dozen times the
# cost. Weight scaling gets the ensemble in **one** pass. MC dropout is still useful when you want the *spread* of the
# sub-networks' predictions (an uncertainty estimate), which one pass cannot give.

# %% [markdown]
# ## 5. Co-adaptation and sparse activations
# In a network trained jointly, a unit can come to rely on others to correct its mistakes (**co-adaptation**). Dropout makes every
# other unit unreliable, so each unit has to be useful on its own: a **redundant** representation. A side effect reported by
# Srivastava et al. is **sparser** activations. Both can be measured on the networks trained above.
#
# **Redundancy.** Remove a random fraction $r$ of the hidden units of a trained network at test time (inverted scaling on the
# rest) and watch the accuracy. A co-adapted network should break down faster.

# %%
@torch.no_grad()
def accuracy_with_units_removed(model, r, repeats=10):
    """Test accuracy when each hidden unit is removed with probability r (mean over random removals)."""
    if r == 0:
        return evaluate(model, data.test)["acc"]
    layers = []
    for layer in model:                      # the same trained layers, with removal of rate r after each hidden ReLU
        if not isinstance(layer, nn.Dropout):
            layers.append(layer)
        if isinstance(layer, nn.ReLU):
            layers.append(InvertedDropout(r))
    ablated = nn.Sequential(*layers)
    enable_dropout(ablated)                  # eval mode, but the removal layers stay random
    return sum((ablated(x_test).argmax(1) == y_test).float().mean().item() for _ in range(repeats)) / repeats


rates = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7]
torch.manual_seed(5)
robust = {p_drop: [accuracy_with_units_removed(runs[(p_drop, 0)][0], r) for r in rates]
          for p_drop in (0.0, P_LIGHT, P_HEAVY)}

fig, ax = plt.subplots(figsize=(7, 4))
for p_drop, color in ((0.0, "tab:red"), (P_LIGHT, "tab:blue"), (P_HEAVY, "tab:green")):
    ax.plot(rates, robust[p_drop], "o-", color=color, label=f"trained with p = {p_drop}")
ax.set(xlabel="fraction r of hidden units removed at test time", ylabel="test accuracy",
       title="Robustness to losing units (seed 0)")
ax.legend()
plt.show()

# %%
loss_at_half = {p_drop: robust[p_drop][0] - robust[p_drop][rates.index(0.5)] for p_drop in robust}
for p_drop, loss in loss_at_half.items():
    print(f"trained with p = {p_drop}: accuracy {robust[p_drop][0]:.3f} -> {robust[p_drop][rates.index(0.5)]:.3f} "
          f"with half the hidden units removed (loss {loss:.3f})")
assert loss_at_half[P_HEAVY] < loss_at_half[0.0] - 0.05, "dropout-trained units should depend less on each other"

# %% [markdown]
# **Sparsity.** The fraction of hidden ReLU outputs that are exactly zero on the test set, per layer, and the distribution of the
# second layer's activations:

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


zero_frac = {key: [(a == 0).float().mean().item() for a in hidden_activations(m, x_test)]
             for key, (m, _) in runs.items()}
acts = {p_drop: hidden_activations(runs[(p_drop, 0)][0], x_test)[1].flatten().cpu() for p_drop in (0.0, P_HEAVY)}

fig, ax = plt.subplots(figsize=(7, 4))
bins = torch.linspace(0, float(max(a.max() for a in acts.values())), 40).tolist()
for p_drop, color in ((0.0, "tab:red"), (P_HEAVY, "tab:green")):
    ax.hist(acts[p_drop].tolist(), bins=bins, color=color, alpha=0.5, label=f"trained with p = {p_drop}")
ax.set(yscale="log", xlabel="activation of a hidden unit (layer 2)", ylabel="count (test set × units)",
       title="Hidden activations with and without dropout")
ax.legend()
plt.show()

# %%
for p_drop in (0.0, P_LIGHT):
    per_layer = [sum(zero_frac[(p_drop, s)][i] for s in SEEDS) / len(SEEDS) for i in range(len(HIDDEN))]
    print(f"p = {p_drop}: fraction of zero activations per hidden layer (mean of 3 seeds):", [round(v, 3) for v in per_layer])
print(f"p = {P_HEAVY}: fraction of zero activations per hidden layer (seed 0):", [round(v, 3) for v in zero_frac[(P_HEAVY, 0)]])
print(f"mean activation of layer 2: p = 0.0: {acts[0.0].mean():.3f},  p = {P_HEAVY}: {acts[P_HEAVY].mean():.3f}")
sparser = [zero_frac[(P_LIGHT, s)][-1] - zero_frac[(0.0, s)][-1] for s in SEEDS]
assert min(sparser) > 0.02, "dropout should make the last hidden layer's activations sparser on every seed"
assert zero_frac[(P_HEAVY, 0)][-1] > zero_frac[(P_LIGHT, 0)][-1], "more dropout, sparser activations"

# %% [markdown]
# ## 6. Where to put dropout: fully connected vs convolutional layers
# The lecture's advice: use dropout mainly on the **large fully connected layers** (AlexNet and VGG put it there), rarely on
# convolutional ones. Two reasons, each with a small measurement.
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
# **Neighbouring conv activations carry the same information.** A convolution shares its weights across positions, so every
# position is like a separate training example for them, and the maps are spatially smooth. If element-wise dropout removes one
# position, its neighbours still say almost the same thing, and the next $3$-wide kernel sees them: little information is
# really hidden. We measure how well a unit is predicted by the mean of its two neighbours, in a conv feature map (first layer of
# a conv net on MNIST-1D) and, for comparison, among the units of an FC layer:

# %%
signals = load_dataset("mnist1d").test.x[:500]                      # (500, 40) on the CPU: a fixed, small demo
torch.manual_seed(0)
conv, fc = nn.Conv1d(1, 16, kernel_size=3, padding=1), nn.Linear(40, 128)
with torch.no_grad():
    fmap = torch.relu(conv(signals.unsqueeze(1)))                   # (500, 16 channels, 40 positions)
    fc_units = torch.relu(fc(signals))                              # (500, 128 units)


def neighbour_correlation(a):
    """Correlation between each entry a[..., i] and the mean of its neighbours a[..., i-1], a[..., i+1]."""
    centre, neighbours = a[..., 1:-1].flatten(), ((a[..., :-2] + a[..., 2:]) / 2).flatten()
    return torch.corrcoef(torch.stack([centre, neighbours]))[0, 1].item()


corr_conv, corr_fc = neighbour_correlation(fmap), neighbour_correlation(fc_units)

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
channel = fmap[0, 3]
keep = dropout_mask(channel, p=0.5, generator=torch.Generator().manual_seed(1)).bool()
pos = torch.arange(len(channel))
guess = np.interp(pos[~keep].numpy(), pos[keep].numpy(), channel[keep].numpy())  # fill in from the kept neighbours
axes[0].plot(pos, channel, "-", color="grey", lw=1.5, label="feature map (one channel)")
axes[0].plot(pos[keep], channel[keep], "o", color="tab:orange", ms=6, label="kept by element-wise dropout")
axes[0].plot(pos[~keep], guess, "x", color="tab:blue", ms=8, mew=2, label="dropped, guessed from neighbours")
axes[0].set(xlabel="position", ylabel="activation", title="Dropped positions are easy to fill in")
axes[0].legend(fontsize=10)
axes[1].bar(["conv map\n(neighbouring positions)", "FC layer\n(neighbouring units)"], [corr_conv, corr_fc],
            color=["tab:orange", "tab:blue"])
axes[1].set(ylabel="correlation with neighbours", title="How much the neighbours know", ylim=(0, 1))
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
print(f"correlation with the neighbours' mean: conv map {corr_conv:.2f}, FC layer {corr_fc:.2f}")
assert corr_conv > 0.8 > 0.3 > corr_fc

# %% [markdown]
# So element-wise dropout on a conv map is a weak regularizer. When dropout is used in conv nets it usually drops **whole channels**
# (`nn.Dropout1d/2d`, "spatial dropout"), which does hide a feature everywhere at once. The default advice stands: dropout on the
# big FC layers ($p = 0.5$ in AlexNet/VGG), data augmentation and weight decay for the conv layers.

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
# training output equal to the plain layer.

# %%
show_source(DropConnectLinear)

# %%
torch.manual_seed(4)
layer = DropConnectLinear(12, 8, p=0.5)
x_in = torch.ones(1, 12)
layer(x_in)
unit_mask = dropout_mask(torch.ones(1, 12), p=0.5).expand(8, 12)   # dropout on the 12 inputs, seen on W

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for ax, m, title in ((axes[0], unit_mask, "dropout on the inputs"), (axes[1], layer.mask, "DropConnect")):
    ax.imshow(m, cmap="Greys", vmin=0, vmax=1.6)
    ax.set(xlabel="input unit j", ylabel="output unit i", title=f"{title}: kept $W_{{ij}}$ (dark)")
    ax.grid(False)
plt.show()

# %% [markdown]
# **Test time and the expectation.** In eval mode the layer is the plain `nn.Linear`; in training mode the average over many
# masks converges to it:

# %%
# NBVAL_CHECK_OUTPUT
plain = nn.Linear(12, 8)
plain.load_state_dict(layer.state_dict())
x_in = torch.randn(4, 12)
with torch.no_grad():
    eval_equal = torch.equal(layer.eval()(x_in), plain(x_in))
    layer.train()
    avg = sum(layer(x_in) for _ in range(4000)) / 4000
    se = torch.sqrt((x_in.square() @ plain.weight.square().T) * (0.5 / 0.5) / 4000)
    z = ((avg - plain(x_in)).abs() / se).max().item()
print("eval mode equals nn.Linear:", eval_equal, f"| training-mode mean over 4000 masks: max deviation {z:.1f} standard errors")
assert eval_equal and z < 5

# %% [markdown]
# And in a network: the same MLP with DropConnect in its two hidden layers ($p = 0.1$), seed 0, next to plain and dropout:

# %%
torch.manual_seed(0)
widths = [data.num_features, *HIDDEN]
layers = [nn.Flatten()]
for w_in, w_out in zip(widths[:-1], widths[1:]):
    layers += [DropConnectLinear(w_in, w_out, p=P_LIGHT), nn.ReLU()]
dc_model = nn.Sequential(*layers, nn.Linear(widths[-1], data.num_classes)).to(ctx.device)
dc_hist = fit(dc_model, data.train, data.val, epochs=EPOCHS, batch_size=128, seed=0, eval_train=True,
              optimizer=lambda params: torch.optim.Adam(params, lr=2e-3))
for name, hist in (("plain", runs[(0.0, 0)][1]), ("dropout 0.1", runs[(P_LIGHT, 0)][1]), ("DropConnect 0.1", dc_hist)):
    print(f"{name:16s} train {hist.train_acc[-1]:.3f}  val {hist.val_acc[-1]:.3f}  gap {hist.train_acc[-1] - hist.val_acc[-1]:.3f}")
assert dc_hist.train_acc[-1] - dc_hist.val_acc[-1] < gaps[(0.0, 0)], "DropConnect should narrow the gap too"

# %% [markdown]
# DropConnect regularizes too, but more weakly at the same rate: with one mask per mini-batch (as here, the cheap variant)
# a unit only loses a fraction of its inputs, never all of them. Wan et al. draw a mask per example and use a sampling-based
# rule at test time; it costs far more than dropout, which is why dropout is what you will see in practice.

# %% [markdown]
# ## Summary
# - Dropout multiplies each unit by a fresh $\text{Bernoulli}(p_{\text{keep}})$ mask on every training pass. PyTorch's `p` is the
#   **drop** probability, $p = 1 - p_{\text{keep}}$; the lecture's and the paper's $p$ is the keep probability.
# - **Vanilla** dropout scales by $p_{\text{keep}}$ at test time; **inverted** dropout (`nn.Dropout`) divides by $p_{\text{keep}}$
#   in training so that $\mathbb{E}[\text{output}] = \text{input}$ and test time is the identity (checked to 5 standard errors).
# - Dropout trains $2^n$ weight-sharing sub-networks; weight scaling (one pass) agreed with a 200-mask Monte-Carlo average on
#   ≥95% of test inputs, and is exact for a linear layer and for the geometric mean of a softmax read-out.
# - Light dropout narrowed the train/validation gap on every seed; dropout also made the hidden units sparser and less dependent on
#   each other (removing half of them hurt far less).
# - Put dropout on the large fully connected layers; conv maps are spatially redundant (drop whole channels there if at all).
#   DropConnect drops weights instead of units.

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
solution_1 = sum(math.comb(10, k) * 0.6**k * 0.4 ** (10 - k) for k in range(6))
assert ex.check_at_most_five_kept(solution_1)

# %% [markdown]
# ### Exercise 2 — inverted dropout from scratch
# Write `my_inverted_dropout(x, p, training)` with PyTorch's convention: `p` is the **drop** probability. In training, draw a fresh
# mask (for example with `torch.rand_like`), zero the dropped units and scale the kept ones so that the expected output equals
# `x`; at test time return `x` unchanged. Do not modify `x` in place.

# %% {"tags": ["exercise"]}
def my_inverted_dropout(x, p, training=True):
    raise NotImplementedError  # your code here

# %%
ex.check_inverted_dropout(my_inverted_dropout)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Keep a unit where a uniform number is at least `p` (probability $1 - p$), multiply by that 0/1 mask and divide by the keep
# probability $1 - p$. Then $\mathbb{E}[\text{out}] = x \cdot (1-p)/(1-p) = x$, and the test-time network needs no change.
# Multiplying without dividing is vanilla dropout, which would need `x * (1 - p)` at test time instead.
# </details>

# %% {"tags": ["solution"]}
def solution_inverted_dropout(x, p, training=True):
    if not training:
        return x
    mask = (torch.rand_like(x) >= p).to(x.dtype)  # 1 with probability 1 - p
    return x * mask / (1 - p)


assert ex.check_inverted_dropout(solution_inverted_dropout)

# %% [markdown]
# ### Exercise 3 — Monte-Carlo dropout by hand
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
def solution_mc_average(model, x, n_samples):
    was_training = model.training
    model.train()  # dropout on
    with torch.no_grad():
        probs = torch.stack([model(x).softmax(dim=1) for _ in range(n_samples)]).mean(dim=0)
    model.train(was_training)
    return probs


assert ex.check_mc_average(solution_mc_average)
