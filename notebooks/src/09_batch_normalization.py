# %% [markdown]
# # 09 · Batch normalization
#
# **Learning objectives.** After this notebook you can
# 1. **write** batch norm's training-time forward pass (batch mean and variance, normalize, scale and shift) and its
#    backward pass, and **check** them against `nn.BatchNorm`;
# 2. **explain** train vs eval mode: the running averages, and what goes wrong when a prediction uses the statistics of
#    its own batch;
# 3. **place** batch norm between a layer and its nonlinearity, and **show** why the layer's bias is then useless;
# 4. **measure** what batch norm buys: training at a learning rate where the plain network fails, and a far weaker
#    dependence on the initial weight scale; and what it costs with tiny batches;
# 5. **choose** between batch, layer, instance and group norm by the axes they normalize over.
#
# *Lecture:* "Regularization, batchnorm and dropout" (Emanuele Rodolà: the transformation, mini-batches, test time, the
# normalizations of Wu & He), "How to Train ConvNets" (Stephen Baek: Algorithm 1, placement before the nonlinearity,
# advantages and disadvantages). *Runs in:* about 30 s on one CPU core (fast profile).

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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST and longer runs (see the README).

# %%
import copy
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from course_lib import evaluate, fit, load_dataset, setup_notebook, show_source
from course_lib.exercises import ex09 as ex
from course_lib.models import reset_parameters
from course_lib.normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm, batch_norm,
                                      batch_norm_backward, batch_norm_forward)
from course_lib.training import DivergenceWarning

ctx = setup_notebook(seed=0)
SEEDS = [0, 1]
DATASET = ctx.pick(fast="digits", full="mnist")
datasets = {seed: load_dataset(DATASET, seed=seed, device=ctx.device) for seed in SEEDS}
BATCH = 50
STEPS_EPOCHS = ctx.epochs(fast=22, full=10)          # digits: 23 steps an epoch, 22 epochs ≈ 500 steps
COLORS = {"plain": "C3", "batch norm": "C0", "group norm": "C2"}
print(datasets[0])

# %% [markdown]
# ## 1. The algorithm
# For one feature and a mini-batch $\{x_1, \dots, x_m\}$ of its values (Ioffe & Szegedy, Algorithm 1):
#
# $$\mu_B = \frac1m\sum_{i=1}^m x_i, \qquad \sigma_B^2 = \frac1m\sum_{i=1}^m (x_i-\mu_B)^2, \qquad
# \hat x_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\varepsilon}}, \qquad y_i = \gamma\,\hat x_i + \beta .$$
#
# Each feature is made zero-mean and unit-variance over the batch, then the learned $\gamma$ and $\beta$ give it back
# whatever scale and offset training finds useful ($\gamma = \sqrt{\sigma^2+\varepsilon}$, $\beta = \mu$ would undo the
# normalization). For an input of shape $(N, D)$ there are $D$ features, each with its own $\mu, \sigma^2, \gamma, \beta$.
# Written with tensor operations, cs231n-style, returning what the backward pass needs:

# %% {"tags": ["listing"]}
show_source(batch_norm_forward)

# %% [markdown]
# ### The same numbers as `nn.BatchNorm1d`
# The layer `course_lib.normalization.BatchNorm1d` uses the same algorithm (`batch_norm`, below) and is a drop-in for
# `nn.BatchNorm1d`: same arguments, same parameter and buffer names. We train both for five steps on the same batches,
# then compare them in eval mode.

# %%
# NBVAL_CHECK_OUTPUT
ours, theirs = BatchNorm1d(4), nn.BatchNorm1d(4)
g = ctx.rng(1)
for step in range(5):
    x = torch.randn(32, 4, generator=g) * torch.tensor([1.0, 5.0, 0.1, 2.0]) + torch.tensor([0.0, 3.0, -1.0, 10.0])
    y = ours(x)                                                              # one training step each
    assert torch.allclose(y, theirs(x), atol=1e-5)                           # training mode: batch statistics
    assert torch.allclose(batch_norm_forward(x, ours.weight, ours.bias)[0], y, atol=1e-5)
assert torch.allclose(ours.running_mean, theirs.running_mean) and torch.allclose(ours.running_var, theirs.running_var)
ours.eval(), theirs.eval()
assert torch.allclose(ours(x), theirs(x), atol=1e-5)                         # eval mode: running averages
print(ours)
print("train and eval outputs, running_mean, running_var equal to nn.BatchNorm1d: True")
print("state_dict keys:", list(ours.state_dict()))

# %% [markdown]
# ### The backward pass
# Autograd could differentiate the forward pass for us, but the chain rule by hand shows something important: every $x_i$
# moves $\mu_B$ and $\sigma_B^2$, and through them every output of its feature. With $d\hat x = dy\cdot\gamma$ and sums
# over the batch,
#
# $$\frac{\partial L}{\partial\beta} = \sum_i dy_i,\qquad \frac{\partial L}{\partial\gamma} = \sum_i dy_i\,\hat x_i,\qquad
# \frac{\partial L}{\partial x_i} = \frac{1}{m\sqrt{\sigma_B^2+\varepsilon}}\Big(m\,d\hat x_i - \sum_j d\hat x_j
# - \hat x_i\sum_j d\hat x_j\,\hat x_j\Big).$$
#
# The two sums are $\gamma\,\partial L/\partial\beta$ and $\gamma\,\partial L/\partial\gamma$, which the backward pass
# computes anyway. The course's `BatchNorm1d/2d` use this formula as their backward pass in training: it needs about half
# the full-size operations that autograd spends differentiating the forward pass step by step (`make bench` measures it).

# %% {"tags": ["listing"]}
show_source(batch_norm_backward)

# %%
# NBVAL_CHECK_OUTPUT
x = (torch.randn(16, 3, generator=ctx.rng(2), dtype=torch.float64) * 3 + 1).requires_grad_()
gamma = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
beta = torch.tensor([0.0, -1.0, 1.0], dtype=torch.float64, requires_grad=True)
dy = torch.randn(16, 3, generator=ctx.rng(3), dtype=torch.float64)
out, cache = batch_norm_forward(x, gamma, beta)
by_hand = batch_norm_backward(dy, cache)
by_autograd = torch.autograd.grad(out, (x, gamma, beta), dy)
for name, a, b in zip(("dx", "dgamma", "dbeta"), by_hand, by_autograd):
    print(f"{name:6s} max |by hand - autograd| < 1e-12: {(a - b).abs().max().item() < 1e-12}")
    assert torch.allclose(a, b, atol=1e-12)
print("sum of dx over the batch, per feature:", [round(v, 12) + 0.0 for v in by_hand[0].sum(0).tolist()])

# %% [markdown]
# The gradient of each feature sums to zero over the batch: moving all of a feature's inputs by the same amount moves
# $\mu_B$ with them and changes no output. That is the *mean's contribution* to $dx$; forgetting it is the classic slip
# (exercise 2).

# %% [markdown]
# ## 2. Train vs eval: the running averages
# A prediction should not depend on which other examples share its batch, and a single example has no batch statistics
# at all. So in training the layer also keeps running averages (PyTorch's `momentum` is the weight of the new batch,
# 0.1 by default; `momentum=None` is the plain cumulative average),
#
# $$\mu_{\text{run}} \leftarrow (1-\text{momentum})\,\mu_{\text{run}} + \text{momentum}\,\mu_B,\qquad
# \sigma^2_{\text{run}} \leftarrow (1-\text{momentum})\,\sigma^2_{\text{run}} + \text{momentum}\,\tfrac{m}{m-1}\sigma_B^2,$$
#
# (the *unbiased* batch variance, as PyTorch does), and `model.eval()` normalizes with $\mu_{\text{run}},
# \sigma^2_{\text{run}}$: a fixed affine map per feature. The whole layer, training and eval:

# %% {"tags": ["listing"]}
show_source(batch_norm)

# %% [markdown]
# ### A batch of one
# In training mode a batch with one value per feature has $\sigma_B^2 = 0$ and $\hat x = 0$: every output would be $\beta$.
# The layer refuses, and says what to do instead:

# %%
try:
    BatchNorm1d(4)(torch.randn(1, 4))
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ### A skewed batch
# What if a model used batch statistics at test time? We train a batch-norm MLP (3 hidden layers of 100 ReLU units),
# then predict the test set in batches of 50 in three ways: eval mode (running averages), batch statistics on shuffled
# batches, and batch statistics on batches that each hold **one class only** (sorted by label), as a stream of images
# from one source might. The helpers (the network, the training run, and prediction with batch statistics):

# %% {"tags": ["listing"]}
def make_net(data, norm=None, activation=nn.ReLU, width=100, depth=3, init_std=None, generator=None):
    """Flatten -> [Linear -> norm -> activation] x depth -> Linear. norm: None, "batch" or "group" (10 groups).

    Weights as PyTorch draws them (from ``generator``), or N(0, init_std²) with zero biases when init_std is given.
    """
    layers, fan_in = [nn.Flatten()], math.prod(data.input_shape)
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if norm == "batch":
            layers.append(BatchNorm1d(width))
        elif norm == "group":
            layers.append(GroupNorm(10, width))
        layers.append(activation())
        fan_in = width
    model = reset_parameters(nn.Sequential(*layers, nn.Linear(fan_in, data.num_classes)), generator)
    if init_std is not None:
        with torch.no_grad():
            for layer in model:
                if isinstance(layer, nn.Linear):
                    layer.weight.normal_(0.0, init_std, generator=generator)
                    layer.bias.zero_()
    return model.to(ctx.device)


def train(model, data, seed, lr, epochs=STEPS_EPOCHS, batch_size=BATCH, train_split=None):
    """Plain SGD (fit's default) with the given learning rate; a divergence is recorded, not raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        return fit(model, data.train if train_split is None else train_split, epochs=epochs, lr=lr,
                   batch_size=batch_size, seed=seed, drop_last=True)


@torch.no_grad()
def accuracy_with_batch_stats(model, x, y, order, batch_size=50):
    """Test accuracy when every batch norm layer uses the statistics of the batch it is given (train mode)."""
    probe = copy.deepcopy(model).train()          # a copy: the model's running averages stay as they are
    correct = sum((probe(x[idx]).argmax(1) == y[idx]).sum().item() for idx in order.split(batch_size))
    return correct / len(y)


# %%
skew = {}
for seed in SEEDS:
    data = datasets[seed]
    model = make_net(data, "batch", generator=ctx.rng(seed))
    train(model, data, seed, lr=0.5, epochs=ctx.epochs(fast=10, full=3))
    test = data.test
    skew[seed] = {"eval mode": evaluate(model, test)["acc"],
                  "batch stats, shuffled": accuracy_with_batch_stats(
                      model, test.x, test.y, torch.randperm(len(test.y), generator=ctx.rng(seed)).to(ctx.device)),
                  "batch stats, one class per batch": accuracy_with_batch_stats(
                      model, test.x, test.y, torch.argsort(test.y, stable=True))}
    print(f"seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in skew[seed].items()))

# %% [markdown]
# ### Checking the claim: batch statistics of a skewed batch ruin the predictions
# On both seeds the one-class batches lose more than 20 points of test accuracy against eval mode, while shuffled
# batches of 50 stay within 5 points of it.

# %%
for seed, acc in skew.items():
    ctx.claim(acc["eval mode"] - acc["batch stats, one class per batch"], ">", 0.2,
              f"seed {seed}: batch statistics of one-class batches should hurt badly "
              f"({acc['batch stats, one class per batch']:.3f} vs {acc['eval mode']:.3f} in eval mode)")
    ctx.claim(abs(acc["batch stats, shuffled"] - acc["eval mode"]), "<", 0.05,
              f"seed {seed}: batch statistics of shuffled batches should be close to eval mode "
              f"({acc['batch stats, shuffled']:.3f} vs {acc['eval mode']:.3f})")

# %% [markdown]
# In a one-class batch, every feature that marks that class is pulled to the batch mean, *subtracted away*: the very
# evidence for the class is normalized out. Eval mode is immune, since the running averages are fixed. Hence: always
# `model.eval()` before predicting (`course_lib.evaluate` does it), and keep BN layers in eval mode when you predict one
# image at a time.

# %% [markdown]
# ## 3. Where to put it, and the absorbed bias
# The lecture places batch norm after the fully connected or convolutional layer and **before the nonlinearity**:
# `Linear -> BatchNorm -> ReLU`, so the ReLU (or sigmoid) sees inputs centred on its interesting region. Then the
# layer's bias $b$ is pointless: $W x + b$ has batch mean $W\mu_x + b$, and subtracting the mean removes $b$ exactly.
# $\beta$ takes over its role. Shown with a real gradient:

# %%
# NBVAL_CHECK_OUTPUT
layer, bn = nn.Linear(8, 5), BatchNorm1d(5)
reset_parameters(layer, ctx.rng(4))
xb = torch.randn(32, 8, generator=ctx.rng(5))
out = bn(layer(xb))
loss = (out * torch.randn(32, 5, generator=ctx.rng(6))).sum()
loss.backward()
with torch.no_grad():
    layer.bias.add_(10.0)                                 # move the bias far away ...
    moved = bn(layer(xb))                                 # ... and the output does not change
print(f"largest |gradient| of the Linear layer's bias below 1e-5: {layer.bias.grad.abs().max().item() < 1e-5}")
print(f"largest |gradient| of its weights:                       {layer.weight.grad.abs().max().item():.1f}")
print(f"output change after bias += 10 below 1e-4:               {(moved - out).abs().max().item() < 1e-4}")
assert layer.bias.grad.abs().max() < 1e-5 and (moved - out).abs().max() < 1e-4

# %% [markdown]
# So write `nn.Linear(..., bias=False)` or `nn.Conv2d(..., bias=False)` before a batch norm layer: it saves parameters
# and an optimizer's work on them. (With weight decay, a bias before BN would even slowly decay to 0 for nothing.)

# %% [markdown]
# ## 4. Feature maps: one $\mu, \sigma^2, \gamma, \beta$ per channel
# A convolution applies the same filter at every position, so `BatchNorm2d` normalizes every position of a feature map
# the same way: the statistics of channel $c$ are taken over the batch **and** all positions, $m = N\cdot H\cdot W$
# values. A conv layer with 8 output channels gets 8 pairs $(\gamma, \beta)$, not $8\cdot H\cdot W$.

# %%
# NBVAL_CHECK_OUTPUT
conv, bn2d = nn.Conv2d(1, 8, 3, padding=1, bias=False), BatchNorm2d(8)
reset_parameters(conv, ctx.rng(7))
features = conv(datasets[0].train.x[:64].cpu())                   # (64, 8, H, W)
maps = bn2d(features)
print("input to BatchNorm2d:", tuple(conv(datasets[0].train.x[:2].cpu()).shape), "-> parameters gamma, beta:",
      tuple(bn2d.weight.shape), tuple(bn2d.bias.shape))
per_channel = maps.mean(dim=(0, 2, 3)), maps.std(dim=(0, 2, 3), correction=0)
per_position = maps.mean(dim=0)                                   # (8, H, W): one mean per channel and position
print(f"per channel over (N, H, W): |mean| < 1e-5: {per_channel[0].abs().max().item() < 1e-5}, "
      f"std in [{per_channel[1].min().item():.3f}, {per_channel[1].max().item():.3f}]")
print(f"per channel AND position, over N only: means from {per_position.min().item():.2f} to "
      f"{per_position.max().item():.2f}")
v = features.var(dim=(0, 2, 3), correction=0)                     # std is exactly √(σ² / (σ² + ε)), just under 1
assert per_channel[0].abs().max() < 1e-5 and torch.allclose(per_channel[1], torch.sqrt(v / (v + 1e-5)), atol=1e-4)
nn.BatchNorm2d(8).load_state_dict(bn2d.state_dict())              # a drop-in, both ways

# %% [markdown]
# ## 5. What batch norm buys: a higher learning rate
# The paper's MNIST network: 3 fully connected hidden layers of 100 **sigmoid** units, plain SGD. Here on
# scikit-learn's digits (MNIST in the full profile), with learning rate 0.1 and about 500 steps of batch 50, with and
# without batch norm (two seeds). We add a second setting the plain network cannot survive: the same network with ReLU
# units at learning rate 3. For the ReLU networks we also count the **dead** units of the last hidden layer: those whose
# output is 0 on every training image (notebook 06).

# %% {"tags": ["listing"]}
@torch.no_grad()
def dead_fraction(model, x):
    """Fraction of the last hidden layer's ReLU units that output 0 for every input in x (eval mode)."""
    model.eval()
    relus = [m for m in model if isinstance(m, nn.ReLU)]
    if not relus:
        return float("nan")
    out = model[:list(model).index(relus[-1]) + 1](x)
    return (out == 0).all(dim=0).float().mean().item()


# %%
settings = {"sigmoid, lr 0.1": dict(activation=nn.Sigmoid, lr=0.1), "ReLU, lr 3": dict(activation=nn.ReLU, lr=3.0)}
speed = {}
for name, s in settings.items():
    for seed in SEEDS:
        for norm in (None, "batch"):
            model = make_net(datasets[seed], norm, s["activation"], generator=ctx.rng(seed))
            hist = train(model, datasets[seed], seed, s["lr"])
            acc = float("nan") if hist.diverged else evaluate(model, datasets[seed].test)["acc"]
            speed[(name, seed, norm)] = (hist, acc, dead_fraction(model, datasets[seed].train.x))
steps = len(datasets[0].train.y) // BATCH * STEPS_EPOCHS
print(f"test accuracy after {STEPS_EPOCHS} epochs ({steps} steps of batch {BATCH}):")
for (name, seed, norm), (hist, acc, dead) in speed.items():
    status = "diverged (loss not finite)" if hist.diverged else f"{acc:.3f}"
    dead = "" if math.isnan(dead) else f"   dead ReLUs in the last hidden layer: {dead:.0%}"
    print(f"  {name:16s} seed {seed}  {'batch norm' if norm else 'plain':10s}  {status}{dead}")

# %% [markdown]
# ### Training loss, seed 0

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
for ax, name in zip(axes, settings):
    for norm in (None, "batch"):
        hist = speed[(name, 0, norm)][0]
        label = "batch norm" if norm else "plain"
        ax.plot(hist.epoch, hist.train_loss, color=COLORS[label], label=label)
    ax.axhline(math.log(10), color="grey", ls=":", label="ln 10: guessing")
    ax.set(xlabel="epoch", title=name, yscale="log")
axes[0].set_ylabel("training loss")
axes[0].legend()
plt.show()

# %% [markdown]
# ### Checking the claim: batch norm trains where the plain network fails
# On both seeds and in both settings: without batch norm at most 30% test accuracy (or a diverged run), with it more than
# 60 points higher; at learning rate 3, more than half of the plain network's last hidden ReLUs are dead, and fewer than half
# of the batch-norm network's.

# %%
for (name, seed, norm), (hist, acc, dead) in speed.items():
    if norm:                                      # a diverged run has acc nan, which fails the claim
        plain = speed[(name, seed, None)]
        plain_acc = 0.0 if plain[0].diverged else plain[1]
        ctx.claim(acc - plain_acc, ">", 0.6, f"{name}, seed {seed}: the batch-norm network should train where the plain "
                  f"one fails (test acc {acc:.3f} vs {plain_acc:.3f})")
        if not math.isnan(dead):
            ctx.claim(dead, "<", 0.5, f"{name}, seed {seed}: most ReLUs should stay alive with BN ({dead:.0%} dead)")
    else:                                         # a diverged run counts as failed: accuracy 0, every unit dead
        ctx.claim(0.0 if hist.diverged else acc, "<=", 0.3,
                  f"{name}, seed {seed}: the plain network should fail at this rate (test acc {acc:.3f})")
        if not math.isnan(dead):
            ctx.claim(1.0 if hist.diverged else dead, ">", 0.5,
                      f"{name}, seed {seed}: most last-layer ReLUs should be dead "
                      f"({'diverged' if hist.diverged else f'{dead:.0%} dead'})")

# %% [markdown]
# With sigmoids at learning rate 0.1, the plain network's loss is still flat at $\ln 10$ after 500 steps (chance
# accuracy): the sigmoid's derivative is at most 1/4 (notebook 06), so the gradient shrinks layer by layer and the
# first layers barely move. With batch norm it is above 95% in the same 500 steps (0.958–0.983 on every seed and kernel set
# we tried).
#
# At learning rate 3 the plain ReLU network does not produce NaNs here; it fails in the other way a too-large step
# fails: the first updates push every ReLU of the last hidden layer into the region where it outputs 0 for every image
# (100% dead on both seeds), and the loss stays at $\ln 10$ (on one of the other seeds we tried it diverged instead). With
# batch norm each ReLU's input is re-centred and rescaled on every batch; most units stay alive (9% and 30% dead here, at
# most 30% on every seed and kernel set we tried) and the same step size trains.

# %% [markdown]
# ## 6. Less sensitive to the initial weight scale
# Weights drawn from $\mathcal N(0, s^2)$ for a range of scales $s$ (biases 0), the ReLU network, SGD at learning rate 0.1
# for 10 epochs. Without normalization, $s$ decides whether the signal vanishes or explodes over the layers (notebook
# 08); batch norm rescales every layer's output whatever $W$'s scale: $\mathrm{BN}(aWx) = \mathrm{BN}(Wx)$ for $a>0$.

# %%
SCALES = [0.01, 0.1, 1.0]
init_acc = {}
for seed in SEEDS:
    for s in SCALES:
        for norm in (None, "batch"):
            model = make_net(datasets[seed], norm, init_std=s, generator=ctx.rng(seed))
            hist = train(model, datasets[seed], seed, lr=0.1, epochs=ctx.epochs(fast=10, full=3))
            init_acc[(seed, s, norm)] = 0.0 if hist.diverged else evaluate(model, datasets[seed].test)["acc"]

# %% [markdown]
# ### Final accuracy against the initial weight scale

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.2))
for norm, label in ((None, "plain"), ("batch", "batch norm")):
    for seed, marker in zip(SEEDS, ("o-", "s--")):
        ax.plot(SCALES, [init_acc[(seed, s, norm)] for s in SCALES], marker, color=COLORS[label],
                label=f"{label}, seed {seed}")
ax.set(xscale="log", xlabel="initial weight std $s$", ylabel="test accuracy (diverged: 0)",
       title="Sensitivity to the initial weight scale", ylim=(0, 1.02))
ax.legend()
plt.show()

# %% [markdown]
# ### Checking the claim
# On both seeds: with batch norm every scale reaches at least 70% test accuracy (its worst scale: 0.88–0.92 across the
# seeds and kernel sets we tried); without it the smallest and the largest scale stay at or below 20% (diverged counts as
# 0), more than 60 points behind batch norm.

# %%
for seed in SEEDS:
    for s in SCALES:
        print(f"seed {seed}, s = {s:<5}: plain {init_acc[(seed, s, None)]:.3f}, batch norm {init_acc[(seed, s, 'batch')]:.3f}")
    worst_bn = min(init_acc[(seed, s, "batch")] for s in SCALES)
    ctx.claim(worst_bn, ">=", 0.7, f"seed {seed}: BN should train at every scale (worst {worst_bn:.3f})")
    gap = min(init_acc[(seed, s, "batch")] - init_acc[(seed, s, None)] for s in (SCALES[0], SCALES[-1]))
    ctx.claim(gap, ">", 0.6, f"seed {seed}: at the extreme scales BN should be far ahead of the plain network "
              f"(smallest gap {gap:.3f})")
    best_extreme = max(init_acc[(seed, SCALES[0], None)], init_acc[(seed, SCALES[-1], None)])
    ctx.claim(best_extreme, "<=", 0.2, f"seed {seed}: the plain network should fail at the extreme scales "
              f"(best of the two {best_extreme:.3f})")

# %% [markdown]
# Not perfectly flat: at $s = 1$ the batch-norm network is several points behind its best (7 to 9 here). The output does not depend on $W$'s
# scale, but the gradient does: $\partial\,\mathrm{BN}(aWx)/\partial W$ is $1/a$ times smaller, so large weights learn
# with a smaller effective step.

# %% [markdown]
# ## 7. Small batches hurt batch norm
# Batch norm's statistics are estimates from the batch; with 2 examples they are very noisy, and the running averages
# used at test time no longer match what the network saw in training. Group norm (section 8) normalizes each example
# on its own. Same network (ReLU), same number of epochs, learning rate 0.02 (the full profile uses 1000 training
# images here, to keep batches of 2 affordable):

# %%
SMALL_EPOCHS = ctx.epochs(fast=2, full=1)
small_train = {seed: datasets[seed].train.subset(min(ctx.pick(fast=10**9, full=1000), len(datasets[seed].train.y)),
                                                 generator=ctx.rng(seed)) for seed in SEEDS}
small = {}
for seed in SEEDS:
    for norm, batch_size in (("batch", 2), ("batch", 32), ("group", 2)):
        model = make_net(datasets[seed], norm, generator=ctx.rng(seed))
        train(model, datasets[seed], seed, lr=0.02, epochs=SMALL_EPOCHS, batch_size=batch_size,
              train_split=small_train[seed])
        small[(seed, norm, batch_size)] = evaluate(model, datasets[seed].test)["acc"]
        print(f"seed {seed}: {norm} norm, batch size {batch_size:2d}: test accuracy {small[(seed, norm, batch_size)]:.3f}")

# %% [markdown]
# ### Checking the claim
# Batch norm with batches of 2 is a chaotic run: its test accuracy moved between 0.35 and 0.66 across the seeds and kernel
# sets we tried (batch norm with batches of 32: 0.90–0.94; group norm with batches of 2: 0.78–0.94). So the claim is on
# the mean over the two seeds: batch norm with batches of 2 more than 20 points behind batch norm with batches of 32
# (which took 16 times fewer steps), and group norm with batches of 2 more than 20 points ahead of it.

# %%
mean = lambda norm, batch_size: sum(small[(seed, norm, batch_size)] for seed in SEEDS) / len(SEEDS)  # noqa: E731
bn2, bn32, gn2 = mean("batch", 2), mean("batch", 32), mean("group", 2)
ctx.claim(bn32 - bn2, ">", 0.2, f"batch 2 should hurt BN (mean over the seeds {bn2:.3f} vs {bn32:.3f} with batch 32)")
ctx.claim(gn2 - bn2, ">", 0.2, f"GN should not mind batch 2 (mean over the seeds {gn2:.3f} vs BN {bn2:.3f})")

# %% [markdown]
# The lecture's list of disadvantages says it: batch norm depends on the batch size, and behaves differently in
# training and at test time. Detection and segmentation networks, whose high-resolution images allow only a few per
# GPU, were the motivation for group norm.

# %% [markdown]
# ## 8. Layer, instance and group norm
# All compute $\hat x = (x-\mu)/\sqrt{\sigma^2+\varepsilon}$ and $y = \gamma\hat x + \beta$ (per channel); they differ in the
# set of values that share one $\mu, \sigma^2$. For a feature map of shape $(N, C, H, W)$:
#
# | layer | $\mu,\sigma^2$ over | one per | running averages | use it for |
# | --- | --- | --- | --- | --- |
# | `BatchNorm2d(C)` | $N, H, W$ | channel | yes | CNNs with batches of ~16 or more |
# | `LayerNorm([C, H, W])` | $C, H, W$ | example | no | transformers, RNNs (`LayerNorm(d)` on the last axis) |
# | `InstanceNorm2d(C)` | $H, W$ | example and channel | no | style transfer, image generation |
# | `GroupNorm(G, C)` | $C/G$ channels, $H, W$ | example and group | no | CNNs with small batches |
#
# Only batch norm mixes the examples of a batch; the other three do the same thing in training and at test time.
# Drawn like the group-norm paper's figure, with $H, W$ flattened into one axis (blue: the values of **one** $\mu,
# \sigma^2$):

# %% {"tags": ["listing"]}
def draw_norm_set(ax, selected, title):
    """A (N, C, H·W) block of cells; ``selected`` (bool, same shape) marks the values sharing one mean."""
    colors = np.empty(selected.shape, dtype=object)
    colors[selected] = "#1f77b4cc"
    colors[~selected] = "#d9d9d940"
    ax.voxels(np.ones(selected.shape, bool), facecolors=colors, edgecolor="#555555", linewidth=0.3)
    ax.set(xlabel="N (examples)", ylabel="C (channels)", zlabel="H, W", xticks=[], yticks=[], zticks=[], title=title)
    ax.view_init(elev=22, azim=-58)


N_, C_, HW_ = 4, 6, 4
sets = np.zeros((4, N_, C_, HW_), bool)
sets[0][:, 0, :] = True                 # batch norm: one channel, all examples and positions
sets[1][0, :, :] = True                 # layer norm: one example, all channels and positions
sets[2][0, 0, :] = True                 # instance norm: one example, one channel
sets[3][0, :2, :] = True                # group norm: one example, one group of C/G = 2 channels (G = 3)

# %% [markdown]
# ### Batch norm and layer norm

# %% {"tags": ["plot"]}
fig = plt.figure(figsize=(11, 4.6))
for i, title in enumerate(("Batch norm", "Layer norm")):
    draw_norm_set(fig.add_subplot(1, 2, i + 1, projection="3d"), sets[i], title)
plt.show()

# %% [markdown]
# ### Instance norm and group norm

# %% {"tags": ["plot"]}
fig = plt.figure(figsize=(11, 4.6))
for i, title in enumerate(("Instance norm", "Group norm (G = 3)")):
    draw_norm_set(fig.add_subplot(1, 2, i + 1, projection="3d"), sets[i + 2], title)
plt.show()

# %% [markdown]
# ### The same numbers as PyTorch's, and the two extremes of group norm
# Group norm with one group is layer norm over $(C, H, W)$; with $C$ groups it is instance norm.

# %%
# NBVAL_CHECK_OUTPUT
xm = torch.randn(4, 6, 5, 5, generator=ctx.rng(8)) * 2 + 1
pairs = {"LayerNorm([6, 5, 5])": (LayerNorm([6, 5, 5]), nn.LayerNorm([6, 5, 5])),
         "InstanceNorm2d(6)": (InstanceNorm2d(6), nn.InstanceNorm2d(6)),
         "GroupNorm(3, 6)": (GroupNorm(3, 6), nn.GroupNorm(3, 6))}
for name, (a, b) in pairs.items():
    assert torch.allclose(a(xm), b(xm), atol=1e-5)
    print(f"{name:21s} equals torch.nn's: True")
assert torch.allclose(GroupNorm(1, 6)(xm), LayerNorm([6, 5, 5])(xm), atol=1e-5)
assert torch.allclose(GroupNorm(6, 6)(xm), InstanceNorm2d(6, affine=True)(xm), atol=1e-5)
print("GroupNorm(1, 6) = LayerNorm([6, 5, 5]) and GroupNorm(6, 6) = InstanceNorm2d(6, affine=True): True")
try:
    GroupNorm(4, 6)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## Summary
# - Batch norm standardizes each feature with the mini-batch's mean and (biased) variance, $\varepsilon$ inside the square
#   root, then scales and shifts with learned $\gamma, \beta$; for feature maps, one set per channel over $N, H, W$. Ours
#   equals `nn.BatchNorm1d/2d` in training and eval, and the hand-written backward equals autograd.
# - In training it updates running averages (unbiased variance, `momentum` = weight of the new batch); `model.eval()` uses
#   them. Batch statistics at test time made one-class batches lose more than 20 points of accuracy here.
# - Put it between the layer and the nonlinearity, and drop the layer's bias: its gradient is 0 and it changes nothing.
# - On digits it trained the paper's sigmoid network at learning rate 0.1 and a ReLU network at learning rate 3, where the
#   plain networks stayed at chance; it trained at every initial weight scale from 0.01 to 1.
# - With batches of 2 it fell far behind; group norm, which normalizes each example on its own (like layer and instance
#   norm), did not.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — batch norm, forward pass
# Write the training-time forward pass for `x` of shape $(N, D)$, as in cs231n's assignment 2: `gamma`, `beta` of shape
# $(D,)$, return `(out, cache)` where `out` has the shape of `x` and `cache` holds what your backward pass (exercise 2)
# will need. Use tensor operations only (no `nn.BatchNorm1d`, no `F.batch_norm`). The check compares `out` with PyTorch's
# batch norm on inputs whose features have very different scales.

# %% {"tags": ["exercise"]}
def bn_forward(x, gamma, beta, eps=1e-5):
    raise NotImplementedError  # your code here


# %%
ex.check_bn_forward(bn_forward)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Follow the four lines of the algorithm with reductions over axis 0 (the batch), keeping the per-feature results
# broadcastable against `x`. The variance is the *biased* one (divide by $m$), and $\varepsilon$ goes under the square
# root. Keep $\hat x$, $\gamma$ and $1/\sqrt{\sigma^2+\varepsilon}$ in the cache: the backward pass is written in terms
# of them.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_bn_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(dim=0)
    var = ((x - mu) ** 2).mean(dim=0)
    inv_std = 1.0 / torch.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


assert ex.check_bn_forward(solution_bn_forward)

# %% [markdown]
# ### Exercise 2 — batch norm, backward pass
# Write `bn_backward(dout, cache)` returning `(dx, dgamma, dbeta)`: `dout` $=\partial L/\partial\,\text{out}$ of shape
# $(N, D)$, `cache` from your `bn_forward`. Derive it with the chain rule through $\hat x$, $\sigma^2_B$ and $\mu_B$
# (do not call autograd). The check compares all three with autograd's gradients through PyTorch's batch norm.

# %% {"tags": ["exercise"]}
def bn_backward(dout, cache):
    raise NotImplementedError  # your code here


# %%
ex.check_bn_backward(bn_forward, bn_backward)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# $\beta$ and $\gamma$ are used by every example, so their gradients are sums over the batch, of `dout` and of
# `dout` times $\hat x$. For $x$, the chain rule has three paths: directly through $\hat x_i$, through $\sigma^2_B$ and
# through $\mu_B$; collected, they give the formula of section 1. A useful check: each column of `dx` sums to zero.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_bn_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    m = dout.shape[0]
    dx_hat = dout * gamma
    dx = inv_std / m * (m * dx_hat - dx_hat.sum(dim=0) - x_hat * (dx_hat * x_hat).sum(dim=0))
    return dx, (dout * x_hat).sum(dim=0), dout.sum(dim=0)


assert ex.check_bn_backward(solution_bn_forward, solution_bn_backward)

# %% [markdown]
# ### Exercise 3 — which axes?
# For an input of shape $(N, C, H, W)$ (axes 0, 1, 2, 3), over which axes does each layer compute one mean? Give a dict
# of tuples, for example `{"BatchNorm2d": (...), "LayerNorm": (...), "InstanceNorm2d": (...)}`, with `LayerNorm` built
# as `LayerNorm([C, H, W])`. You can test your answer on a tensor: the mean of the output over the right axes is 0.

# %% {"tags": ["exercise"]}
answer_3 = None  # replace None with your dict

# %%
ex.check_norm_axes(answer_3)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Read the table of section 8: what a layer keeps *one statistic per* is what it does not average over. Batch norm keeps
# one per channel, layer norm one per example, instance norm one per example and channel.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
solution_3 = {"BatchNorm2d": (0, 2, 3), "LayerNorm": (1, 2, 3), "InstanceNorm2d": (2, 3)}
assert ex.check_norm_axes(solution_3)
