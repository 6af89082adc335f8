# %% [markdown]
# # 09 · Batch normalization
#
# **Learning objectives.** After this notebook you can
# 1. **write** batch norm's training-time forward pass (batch mean and variance, normalize, scale and shift) and its
#    backward pass, and **check** them against `nn.BatchNorm`;
# 2. **explain** train vs eval mode: the running averages, and what goes wrong when a prediction uses the statistics of
#    its own batch;
# 3. **place** batch norm between a layer and its nonlinearity, and **show** why the layer's bias is then useless;
# 4. **measure** what batch norm buys: a saturating network that trains, training at a learning rate where the plain
#    network fails, and a far weaker dependence on the initial weight scale; and what it costs with tiny batches;
# 5. **explain** the noise of the batch statistics and **measure** how much it regularizes on the course's noisy-label
#    baseline (not enough to rely on);
# 6. **choose** between batch, layer, instance and group norm by the axes they normalize over, and **fold** batch norm
#    into the preceding layer for inference.
#
# *Lecture:* "Regularization, batchnorm and dropout" (Emanuele Rodolà: internal covariate shift, the transformation,
# mini-batches, test time, the normalizations of Wu & He), "How to Train ConvNets" (Stephen Baek: Algorithm 1, placement
# before the nonlinearity, advantages and disadvantages), "Regularization and more topics related to training" (Quinton &
# Chin: batch norm's regularization effect). *Runs in:* about 30 s on one CPU core (fast profile).

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
from matplotlib.colors import to_rgba
import numpy as np
import torch
from torch import nn

from course_lib import evaluate, fit, load_dataset, setup_notebook, show_source
from course_lib.activations import dead_fraction as dead_fractions
from course_lib.baseline import BASELINE, baseline_optimizer, load_baseline
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
COLORS = {"plain": "C3", "batch norm": "C0", "group norm": "C2", "plain, lr 0.1": "C5"}
print(datasets[0])

# %% [markdown]
# ## Why normalize inside the network?
# Notebook 08 showed that training goes better when every layer's inputs have a sensible scale, and chose the initial
# weights for that. But training changes the weights, so the distribution of each layer's inputs keeps moving: Ioffe &
# Szegedy (2015) called this **internal covariate shift** (covariate shift: a model's inputs distributed differently
# from what it was fitted on, Shimodaira 2000), and proposed to normalize each layer's inputs on every mini-batch, as part
# of the network, so that later layers need not chase the moving statistics of earlier ones.
#
# It works (this notebook measures how well), but the explanation did not last. Santurkar et al. (2018, "How does batch
# normalization help optimization?") added noise *after* batch norm that shifted the distributions more than any plain
# network does, and training was still fast; and in their measurements batch norm did not reduce a natural definition of
# the shift. What it does change is the loss landscape: the loss and its gradient change more slowly along the gradient
# direction (smaller Lipschitz constants), so larger steps are safe. "How to Train ConvNets" and "Regularization,
# batchnorm and dropout" give the first motivation and cite the second view.

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
same_stats = torch.allclose(ours.running_mean, theirs.running_mean) and torch.allclose(ours.running_var,
                                                                                      theirs.running_var)
ours.eval(), theirs.eval()
same_eval = torch.allclose(ours(x), theirs(x), atol=1e-5)                    # eval mode: running averages
assert same_stats and same_eval
print(ours)
print(f"running_mean, running_var and eval outputs equal to nn.BatchNorm1d's: {same_stats and same_eval}")
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
# \sigma^2_{\text{run}}$: a fixed affine map per feature (exercise 4 writes both). Beware when porting code: Keras and
# TensorFlow call the weight of the *old* value the momentum (default 0.99), so PyTorch's `momentum=0.1` is their
# `momentum=0.9`; and an optimizer's momentum (notebook 10) is a different thing again. The whole layer, training and
# eval:

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
# then predict the test set in batches of (at most) 50 in three ways: eval mode (running averages), batch statistics on
# shuffled batches, and batch statistics on batches that each hold **one class only** (each class's test images cut into
# batches on their own), as a stream of images from one source might. The helpers (the network, the training run, and
# prediction with batch statistics):

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


def one_class_batches(y, batch_size=50):
    """Index batches of at most batch_size that each hold one class: every class's indices, cut on their own."""
    batches = []
    for c in y.unique():
        parts = list((y == c).nonzero().flatten().split(batch_size))
        if len(parts) > 1 and len(parts[-1]) == 1:                # no batch of one: join it to the one before
            parts[-2:] = [torch.cat(parts[-2:])]
        batches += parts
    return batches


@torch.no_grad()
def accuracy_with_batch_stats(model, x, y, batches):
    """Accuracy when every batch norm layer uses the statistics of the batch it is given (train mode)."""
    probe = copy.deepcopy(model).train()          # a copy: the model's running averages stay as they are
    batches = [idx for idx in batches if len(idx) > 1]            # (a batch of one has no batch statistics)
    correct = sum((probe(x[idx]).argmax(1) == y[idx]).sum().item() for idx in batches)
    return correct / sum(len(idx) for idx in batches)


# %%
skew = {}
for seed in SEEDS:
    data = datasets[seed]
    model = make_net(data, "batch", generator=ctx.rng(seed))
    train(model, data, seed, lr=0.5, epochs=ctx.epochs(fast=10, full=3))
    test = data.test
    skew[seed] = {"eval mode": evaluate(model, test)["acc"],
                  "batch stats, shuffled": accuracy_with_batch_stats(
                      model, test.x, test.y, torch.randperm(len(test.y), generator=ctx.rng(seed)).to(ctx.device)
                      .split(50)),
                  "batch stats, one class per batch": accuracy_with_batch_stats(
                      model, test.x, test.y, one_class_batches(test.y))}
    print(f"seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in skew[seed].items()))
batches = one_class_batches(datasets[0].test.y)
single = all(len(datasets[0].test.y[idx].unique()) == 1 for idx in batches)
assert single
print(f"seed 0: {len(batches)} batches of {min(map(len, batches))} to {max(map(len, batches))} test images, "
      f"each of a single class: {single}")

# %% [markdown]
# ### Checking the claim: batch statistics of a skewed batch ruin the predictions
# On both seeds the one-class batches lose more than 50 points of test accuracy against eval mode (they end close to
# chance), while shuffled batches of 50 stay within 5 points of it.

# %%
for seed, acc in skew.items():
    ctx.claim(acc["eval mode"] - acc["batch stats, one class per batch"], ">", 0.5,
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
#
# "Before the nonlinearity" is the paper's and the decks' placement, not a settled rule: many practitioners put batch
# norm *after* the ReLU (`Linear -> ReLU -> BatchNorm`), so the next layer receives normalized inputs, and report results
# as good or better. The bias argument then does not apply (the ReLU sits in between), and which order wins depends on
# the network; try both if it matters.

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
# ## 5. What batch norm buys (1): a saturating network trains
# The paper's MNIST network: 3 fully connected hidden layers of 100 **sigmoid** units, plain SGD. Here on scikit-learn's
# digits (MNIST in the full profile), at learning rate 0.1 for about 500 steps of batch 50, with and without batch norm
# (two seeds), both from PyTorch's default initialization: $W \sim U(\pm 1/\sqrt{\text{fan\_in}})$, a standard deviation of
# $1/\sqrt{3\,\text{fan\_in}}$. First, what the forward pass does to the signal at that initialization: the spread of each
# layer's outputs across the test images.

# %%
@torch.no_grad()
def spread_per_layer(model, x):
    """For each activation layer: the std over the inputs x of each unit's output, averaged over the units."""
    spreads, h = [], x
    for layer in model:
        h = layer(h)
        if isinstance(layer, (nn.Sigmoid, nn.ReLU)):
            spreads.append(h.std(dim=0).mean().item())
    return spreads


x_test = datasets[0].test.x
spread = {norm: spread_per_layer(make_net(datasets[0], norm, nn.Sigmoid, generator=ctx.rng(0)).train(), x_test)
          for norm in (None, "batch")}               # train mode: batch norm uses the statistics of these images
for norm, values in spread.items():
    ratios = [b / a for a, b in zip(values, values[1:])]
    print(f"{'batch norm' if norm else 'plain':10s} spread of the sigmoid outputs, layers 1-3: "
          + ", ".join(f"{v:.4f}" for v in values) + "   ratio layer to layer: " + ", ".join(f"{r:.2f}" for r in ratios))

# %% [markdown]
# The plain network loses about 6/7 of the signal in every layer. A unit sums $\text{fan\_in}$ inputs, each varying across
# images by some $\delta$, with weights of standard deviation $1/\sqrt{3\,\text{fan\_in}}$: its input varies by about
# $\sqrt{\text{fan\_in}}\cdot\delta/\sqrt{3\,\text{fan\_in}} = \delta/\sqrt 3$, and the sigmoid, whose slope is at most $1/4$
# (about 0.24 near its centre), passes on $\approx 0.24\,\delta/\sqrt3 \approx 0.14\,\delta$. After three layers the last
# hidden layer is almost the same vector for every image, so even the output layer, which trains fastest, has next to
# nothing to classify with; and the backward pass shrinks by the same factors, so the first layers barely move either.
# Batch norm rescales each unit's variation across the batch to 1 before every sigmoid, so nothing is lost (the ratio
# stays near 1).

# %%
spread_ratio = spread[None][-1] / spread[None][-2]
ctx.claim(spread_ratio, "<", 0.25, f"the plain sigmoid network should lose most of the signal per layer "
          f"(ratio {spread_ratio:.3f}; about 0.14 expected)")
ctx.claim(spread["batch"][-1] / spread[None][-1], ">", 20, "with batch norm the last hidden layer should vary far more "
          "across images")

# %% [markdown]
# ### Training, and the ReLU runs of section 6
# The training runs of this section and the next, with a helper that counts the **dead** units of the last hidden ReLU
# layer: those whose output is 0 on every training image (notebook 06).

# %% {"tags": ["listing"]}
@torch.no_grad()
def dead_fraction(model, x):
    """Fraction of the last hidden layer's ReLU units that output 0 for every input in x (notebook 06's count)."""
    if not any(isinstance(m, nn.ReLU) for m in model):
        return float("nan")
    return list(dead_fractions(model, x, layer_types=(nn.ReLU,)).values())[-1]


# %%
settings = {"sigmoid, lr 0.1": dict(activation=nn.Sigmoid, lr=0.1, norms=(None, "batch")),
            "ReLU, lr 0.1": dict(activation=nn.ReLU, lr=0.1, norms=(None,)),
            "ReLU, lr 3": dict(activation=nn.ReLU, lr=3.0, norms=(None, "batch"))}
speed = {}
for name, s in settings.items():
    for seed in SEEDS:
        for norm in s["norms"]:
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
# ### Training loss of the sigmoid network, seed 0

# %% {"tags": ["plot"]}
def plot_losses(ax, runs, title):
    """Training loss per epoch of seed 0's runs; runs maps a label (a COLORS key) to a speed key."""
    for label, key in runs.items():
        hist = speed[key][0]
        ax.plot(hist.epoch, hist.train_loss, color=COLORS[label], label=label)
    ax.axhline(math.log(10), color="grey", ls=":", label="ln 10: guessing")
    ax.set(xlabel="epoch", ylabel="training loss", title=title, yscale="log")
    ax.legend()


fig, ax = plt.subplots(figsize=(8, 4.2))
plot_losses(ax, {"plain": ("sigmoid, lr 0.1", 0, None), "batch norm": ("sigmoid, lr 0.1", 0, "batch")},
            "Sigmoid network, learning rate 0.1")
plt.show()

# %% [markdown]
# ### Checking the claim: batch norm trains the saturating network within the budget
# On both seeds: within these 500 steps the plain sigmoid network stays at or below 30% test accuracy, and batch norm is
# more than 60 points higher.

# %%
for seed in SEEDS:
    _, acc, _ = speed[("sigmoid, lr 0.1", seed, "batch")]
    plain_hist, plain_acc, _ = speed[("sigmoid, lr 0.1", seed, None)]
    plain_acc = 0.0 if plain_hist.diverged else plain_acc
    ctx.claim(plain_acc, "<=", 0.3, f"seed {seed}: the plain sigmoid network should not train in {steps} steps "
              f"(test acc {plain_acc:.3f})")
    ctx.claim(acc - plain_acc, ">", 0.6, f"seed {seed}: the batch-norm sigmoid network should train in the same steps "
              f"(test acc {acc:.3f} vs {plain_acc:.3f})")

# %% [markdown]
# Within 500 steps the plain network's loss stays flat at $\ln 10$ (chance accuracy), while with batch norm it is above
# 95% (0.958–0.983 on every seed and kernel set we tried). This is about *speed*, not a learning rate the plain network
# cannot survive: a larger rate would help it, and the paper's plain sigmoid baseline does reach high accuracy on MNIST,
# after 50 000 steps. Batch norm removes the slow start that the collapsing signal causes.

# %% [markdown]
# ## 6. What batch norm buys (2): a higher learning rate
# The same network with ReLU units, same initialization: at learning rate 0.1 the plain network trains well; at learning
# rate 3 it fails, and batch norm trains at that rate.

# %% [markdown]
# ### Training loss of the ReLU network, seed 0

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.2))
plot_losses(ax, {"plain, lr 0.1": ("ReLU, lr 0.1", 0, None), "plain": ("ReLU, lr 3", 0, None),
                 "batch norm": ("ReLU, lr 3", 0, "batch")}, "ReLU network: plain at 0.1, plain and batch norm at 3")
plt.show()

# %% [markdown]
# ### Checking the claim: batch norm trains where the plain network fails
# On both seeds: the plain network trains at learning rate 0.1 (above 60% test accuracy) but not at 3 (at most 30%, or a
# diverged run), where more than half of its last hidden ReLUs are dead; with batch norm at rate 3 it is more than 60
# points higher, and fewer than half of the units are dead.

# %%
for seed in SEEDS:
    hist, acc, dead = speed[("ReLU, lr 3", seed, "batch")]
    slow_hist, slow_acc, _ = speed[("ReLU, lr 0.1", seed, None)]
    plain_hist, plain_acc, plain_dead = speed[("ReLU, lr 3", seed, None)]
    plain_acc, plain_dead = (0.0, 1.0) if plain_hist.diverged else (plain_acc, plain_dead)  # diverged: failed, all dead
    ctx.claim(0.0 if slow_hist.diverged else slow_acc, ">", 0.6,
              f"seed {seed}: the plain ReLU network should train at lr 0.1 (test acc {slow_acc:.3f})")
    ctx.claim(plain_acc, "<=", 0.3, f"seed {seed}: the plain ReLU network should fail at lr 3 (test acc {plain_acc:.3f})")
    ctx.claim(plain_dead, ">", 0.5, f"seed {seed}: most of the plain network's last-layer ReLUs should be dead at lr 3 "
              f"({plain_dead:.0%})")
    ctx.claim(acc - plain_acc, ">", 0.6, f"seed {seed}: batch norm should train at lr 3 (test acc {acc:.3f} vs "
              f"{plain_acc:.3f})")
    ctx.claim(dead, "<", 0.5, f"seed {seed}: most ReLUs should stay alive with BN at lr 3 ({dead:.0%} dead)")

# %% [markdown]
# At learning rate 3 the plain ReLU network does not produce NaNs here; it fails in the other way a too-large step
# fails: the first updates push every ReLU of the last hidden layer into the region where it outputs 0 for every image
# (100% dead on both seeds), and the loss stays at $\ln 10$ (on one of the other seeds we tried it diverged instead). With
# batch norm each ReLU's input is re-centred and rescaled on every batch; most units stay alive (13% and 26% dead here,
# at most 31% on every seed and kernel set we tried) and the same step size trains. As in section 5, "fails" means within
# these 500 steps, at this rate.

# %% [markdown]
# ## 7. Less sensitive to the initial weight scale
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
# Not perfectly flat: at $s = 1$ the batch-norm network is several points behind its best (7 to 9 here), for two
# reasons. The hidden layers' output does not depend on $W$'s scale, but the gradient does: $\partial\,\mathrm{BN}(aWx)/
# \partial W$ is $1/a$ times smaller, so large weights learn with a smaller effective step. And the output layer, which
# no batch norm follows, is drawn from $\mathcal N(0, 1)$ too: its 100 inputs are ReLUs of unit-variance features
# ($E[\mathrm{ReLU}(z)^2] = 1/2$), so the initial logits have a standard deviation of about $\sqrt{100/2} \approx 7$, a
# saturated softmax whose first predictions are confidently wrong.

# %% [markdown]
# ## 8. Batch norm as a regularizer
# In training, an example's output depends on the other examples of its batch: $\mu_B$ and $\sigma_B$ are estimates from
# $m$ random examples, so each time the example comes round its features are shifted and scaled a little differently. For
# a batch of $m$ drawn from $N$ examples, the batch mean of a feature varies from batch to batch with a standard deviation
# of $\sigma\sqrt{(N-m)/(m(N-1))}$, about $\sigma/\sqrt m$; so with $m = 50$ every feature is shifted by some $\pm 13\%$ of its
# own spread, and its scale varies by some $\pm 9\%$ (measured below). Like dropout's masks (notebook 03), this noise makes the exact
# fit of every training label harder to reach. Four of the five decks mention it ("Noise statistics among batch: slight
# regularization effect", "The stochastic uncertainty of the batch stats is a regularizer"), and "Regularization and more
# topics related to training" adds the advice: **"Don't rely on BatchNorm for regularization, but it is a bonus."**
#
# How big is the bonus? On the course's noisy-label baseline (notebooks 02–05: 500 training digits, 30% of them with a
# random label, the MLP 64-256-256-10, Adam, batch 50), the baseline network and the same network with batch norm before
# each ReLU (`Linear(bias=False) -> BatchNorm1d -> ReLU`), two seeds, 60 epochs as notebook 03's dropout runs, training
# accuracy measured in eval mode. The helpers:

# %% {"tags": ["listing"]}
REG = BASELINE[ctx.profile]
REG_EPOCHS = ctx.epochs(fast=60, full=REG["epochs"])           # as notebook 03's dropout runs
reg_data = {seed: load_baseline(ctx.profile, seed=seed, device=ctx.device) for seed in SEEDS}


def baseline_net(data, norm, generator):
    """The baseline MLP (hidden widths of course_lib.baseline), with the course's BatchNorm1d before each ReLU if norm."""
    layers, fan_in = [nn.Flatten()], data.num_features
    for width in REG["hidden"]:
        layers += [nn.Linear(fan_in, width, bias=norm is None)] + ([BatchNorm1d(width)] if norm else []) + [nn.ReLU()]
        fan_in = width
    return reset_parameters(nn.Sequential(*layers, nn.Linear(fan_in, data.num_classes)), generator).to(ctx.device)


def epochs_to(values, level):
    """The first epoch (1-based) at which values reaches level, or inf if it never does."""
    return next((i + 1 for i, v in enumerate(values) if v >= level), math.inf)


# %% [markdown]
# ### The noise of the batch statistics, measured
# In the first batch norm layer of the network at initialization, over 20 epochs' worth of random batches:

# %%
with torch.no_grad():
    train_x = reg_data[0].train.x
    first = baseline_net(reg_data[0], "batch", ctx.rng(0))[:2](train_x)          # Flatten, Linear: BN's input
    order = torch.cat([torch.randperm(len(train_x), generator=ctx.rng(50 + k)) for k in range(20)]).to(ctx.device)
    means = torch.stack([first[idx].mean(0) for idx in order.split(REG["batch_size"])])     # 200 batches' means
    stds = torch.stack([first[idx].std(0, correction=0) for idx in order.split(REG["batch_size"])])
    mean_noise = (means.std(0) / first.std(0)).mean().item()
    std_noise = (stds.std(0) / first.std(0)).mean().item()
n, m = len(train_x), REG["batch_size"]
print(f"over 200 batches of {m}: batch mean varies by {mean_noise:.3f} of the feature's std "
      f"(formula {math.sqrt((n - m) / (m * (n - 1))):.3f}), batch std by {std_noise:.3f} of it")
ctx.claim(mean_noise, ">", 0.1, f"the batch means should vary by about 1/√m of the feature's spread ({mean_noise:.3f})")
ctx.claim(mean_noise, "<", 0.17, f"the batch means should vary by about 1/√m of the feature's spread ({mean_noise:.3f})")

# %% [markdown]
# ### Both networks on the noisy labels

# %%
reg_runs = {}
for seed in SEEDS:
    for norm in (None, "batch"):
        model = baseline_net(reg_data[seed], norm, ctx.rng(seed))
        reg_runs[(seed, norm)] = fit(model, reg_data[seed].train, reg_data[seed].val, epochs=REG_EPOCHS,
                                     batch_size=REG["batch_size"], seed=seed, eval_train=True, drop_last=True,
                                     optimizer=baseline_optimizer(ctx.profile))
FIT_LEVEL = 0.8
print(f"{'':10s} seed  train   val    gap  | best val (epoch) | epochs to {FIT_LEVEL:.0%} train")
for (seed, norm), h in reg_runs.items():
    best = max(h.val_acc)
    print(f"{'batch norm' if norm else 'plain':10s} {seed:4d}  {h.train_acc[-1]:.3f}  {h.val_acc[-1]:.3f} "
          f"{h.train_acc[-1] - h.val_acc[-1]:+.3f} |    {best:.3f} ({h.val_acc.index(best) + 1:3d})  | "
          f"{epochs_to(h.train_acc, FIT_LEVEL)}")

# %% [markdown]
# ### Learning curves on the noisy labels, seed 0

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(10, 4.6))
for norm, label in ((None, "plain"), ("batch", "batch norm")):
    h = reg_runs[(0, norm)]
    ax.plot(h.epoch, h.train_acc, "--", color=COLORS[label])
    ax.plot(h.epoch, h.val_acc, "-", color=COLORS[label])
ax.axhline(0.73, color="grey", ls=":")
handles = [plt.Line2D([], [], color=COLORS[k], lw=3, label=k) for k in ("plain", "batch norm")]
handles += [plt.Line2D([], [], color="k", ls="--", label="train (noisy labels)"),
            plt.Line2D([], [], color="k", ls="-", label="validation (clean)"),
            plt.Line2D([], [], color="grey", ls=":", label="73%: right training labels")]
ax.legend(handles=handles, loc="lower right", ncol=2, fontsize=12)
ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0.45, 1.01),
       title="Baseline MLP, seed 0: batch norm memorizes the noise sooner")
plt.show()

# %% [markdown]
# ### Checking the claims: here the bonus is nil
# Averaged over the seeds: with batch norm the network reaches 80% training accuracy (memorized noise) more than 3 times
# sooner, the final train/validation gap stays above 0.15, and it is not smaller than without batch norm by more than
# 0.1 (dropout, in notebook 03, narrowed it by more than 0.1 on every seed).

# %%
mean_of = lambda f, norm: sum(f(reg_runs[(seed, norm)]) for seed in SEEDS) / len(SEEDS)  # noqa: E731
gap = lambda h: h.train_acc[-1] - h.val_acc[-1]  # noqa: E731
gap_plain, gap_bn = mean_of(gap, None), mean_of(gap, "batch")
sooner = mean_of(lambda h: epochs_to(h.train_acc, FIT_LEVEL), None) / mean_of(
    lambda h: epochs_to(h.train_acc, FIT_LEVEL), "batch")
print(f"mean over the seeds: gap {gap_plain:.3f} plain, {gap_bn:.3f} batch norm; "
      f"epochs to {FIT_LEVEL:.0%} training accuracy, plain / batch norm: {sooner:.1f}")
ctx.claim(sooner, ">", 3, f"batch norm should fit the noisy labels much sooner (ratio {sooner:.1f})")
ctx.claim(gap_bn, ">", 0.15, f"batch norm alone should not close the gap (mean gap {gap_bn:.3f})")
ctx.claim(gap_bn - gap_plain, ">", -0.1, f"batch norm's gap should not be much smaller ({gap_bn:.3f} vs {gap_plain:.3f})")

# %% [markdown]
# Batch norm's noise did not stop the memorization: the network with batch norm fits 100% of the noisy training labels
# within about 10 epochs, and ends with a gap about as large as the plain network's (averaged over the two seeds, 0.22
# to 0.26 with batch norm and 0.19 to 0.28 without, across the kernel sets and seed offsets we tried), where dropout
# (notebook 03) narrowed it by more than 0.1. What this comparison measures is the net
# effect: the noise is there (shifts of some 13% of every feature's spread), but batch norm also makes the optimization much faster, and
# on noisy labels a faster optimizer memorizes sooner. The regularizing effect reported in the literature (Hoffer et al.
# 2017, Luo et al. 2019) is small and depends on the batch size (smaller batches, more noise) and on the rest of the
# recipe. Hence the deck's advice: use batch norm to train, and a real regularizer (notebooks 02–05) to generalize.

# %% [markdown]
# ## 9. Small batches hurt batch norm
# Batch norm's statistics are estimates from the batch; with 2 examples they are as noisy as they can be. For $m = 2$,
# $\hat x = \pm(x_1 - x_2)/|x_1 - x_2| = \pm 1$ (up to $\varepsilon$): in training every feature only says which of the two
# examples is larger, while in eval mode it carries continuous values. Two things can then go wrong: the network learns
# little from such features, or the running averages used at test time do not match what training saw. To tell them
# apart we also recompute the statistics after training on large batches of training images ("precise BN": running
# averages replaced by the statistics of the trained network, no training step). Group norm (section 10) normalizes each
# example on its own. Same network (ReLU), same number of epochs, learning rate 0.02 (the full profile uses 1000 training
# images here, to keep batches of 2 affordable):

# %% {"tags": ["listing"]}
@torch.no_grad()
def precise_bn(model, x, batch_size=500):
    """A copy of model whose batch norm running averages are the mean statistics of x, in batches of batch_size."""
    probe = copy.deepcopy(model).train()
    for layer in probe.modules():
        if isinstance(layer, BatchNorm1d):
            layer.reset_running_stats()
            layer.momentum = None                      # cumulative average over the batches below
    for idx in torch.arange(len(x), device=x.device).split(batch_size):
        if len(idx) > 1:
            probe(x[idx])
    return probe.eval()

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
        precise = ""
        if (norm, batch_size) == ("batch", 2):
            small[(seed, "precise", 2)] = evaluate(precise_bn(model, small_train[seed].x), datasets[seed].test)["acc"]
            precise = f", with precise BN statistics {small[(seed, 'precise', 2)]:.3f}"
        print(f"seed {seed}: {norm} norm, batch size {batch_size:2d}: test accuracy "
              f"{small[(seed, norm, batch_size)]:.3f}{precise}")

# %% [markdown]
# ### Checking the claim
# Batch norm with batches of 2 is a chaotic run: its test accuracy moved between 0.35 and 0.66 across the seeds and kernel
# sets we tried (batch norm with batches of 32: 0.90–0.94; group norm with batches of 2: 0.78–0.94). So the claim is on
# the mean over the two seeds: batch norm with batches of 2 more than 20 points behind batch norm with batches of 32
# (which took 16 times fewer steps), and group norm with batches of 2 more than 20 points ahead of it. Precise BN
# statistics win back less than half of the 2-vs-32 difference (at most about a quarter of it, often almost nothing, in
# our runs).

# %%
mean = lambda norm, batch_size: sum(small[(seed, norm, batch_size)] for seed in SEEDS) / len(SEEDS)  # noqa: E731
bn2, bn32, gn2 = mean("batch", 2), mean("batch", 32), mean("group", 2)
ctx.claim(bn32 - bn2, ">", 0.2, f"batch 2 should hurt BN (mean over the seeds {bn2:.3f} vs {bn32:.3f} with batch 32)")
ctx.claim(gn2 - bn2, ">", 0.2, f"GN should not mind batch 2 (mean over the seeds {gn2:.3f} vs BN {bn2:.3f})")
precise2 = mean("precise", 2)
ctx.claim((precise2 - bn2) / (bn32 - bn2), "<", 0.5, f"recomputed statistics should win back little of the loss "
          f"(mean {precise2:.3f} vs {bn2:.3f} and {bn32:.3f})")

# %% [markdown]
# So the running averages are not the main culprit here: even with statistics that match the trained network, it stays
# far behind. The network trained with batches of 2 learned little, because its features were reduced to $\pm 1$
# comparisons of two examples. The lecture's list of disadvantages says it: batch norm depends on the batch size, and
# behaves differently in training and at test time. Detection and segmentation networks, whose high-resolution images allow only a few per
# GPU, were the motivation for group norm.

# %% [markdown]
# ## 10. Layer, instance and group norm
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
    colors = np.where(selected[..., None], to_rgba("C0", 0.8), to_rgba("grey", 0.15))   # RGBA per cell
    ax.voxels(np.ones(selected.shape, bool), facecolors=colors, edgecolor="grey", linewidth=0.3)
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
    same = torch.allclose(a(xm), b(xm), atol=1e-5)
    assert same
    print(f"{name:21s} equals torch.nn's: {same}")
extremes = (torch.allclose(GroupNorm(1, 6)(xm), LayerNorm([6, 5, 5])(xm), atol=1e-5)
            and torch.allclose(GroupNorm(6, 6)(xm), InstanceNorm2d(6, affine=True)(xm), atol=1e-5))
assert extremes
print(f"GroupNorm(1, 6) = LayerNorm([6, 5, 5]) and GroupNorm(6, 6) = InstanceNorm2d(6, affine=True): {extremes}")
try:
    GroupNorm(4, 6)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# ## 11. What batch norm costs, and folding it away for inference
# The decks list the price ("How to Train ConvNets": surprisingly expensive computationally, memory overhead;
# "Regularization and Optimization of DNNs": more model complexity, slower at test time):
# - **Compute.** Every batch norm layer adds a few passes over its input: two reductions (mean and variance) and the
#   normalize-scale-shift in the forward pass, two more reductions and an elementwise update in the backward. They are
#   cheap in FLOPs but limited by memory bandwidth, so on a GPU they can take a sizeable fraction of a convolutional
#   network's step time (`make bench` measures the course's layer against PyTorch's fused kernel).
# - **Memory.** The backward pass needs $\hat x$ (or $x$) and $1/\sqrt{\sigma^2+\varepsilon}$ of every batch norm layer: one
#   more activation-sized tensor per layer kept until the backward pass.
# - **Inference.** In eval mode batch norm is a fixed affine map per feature, $y = s\odot(z - \mu_{\text{run}}) + \beta$ with
#   $s = \gamma/\sqrt{\sigma^2_{\text{run}}+\varepsilon}$. Following a Linear layer $z = Wx + b$, the two are one Linear
#   layer: $W' = \operatorname{diag}(s)\,W$ (row $j$ of $W$ times $s_j$) and $b' = s\odot(b - \mu_{\text{run}}) + \beta$. The
#   same holds per output channel for a convolution. Deployed networks fold batch norm this way, so it costs nothing at
#   inference; exercise 5 writes it.
# - **Batch dependence.** Training and inference compute different functions (section 2), and small batches hurt
#   (section 9).

# %% [markdown]
# ## Summary
# - Batch norm was proposed against internal covariate shift; the later view (Santurkar et al. 2018) is that it smooths
#   the loss landscape, and the shift is not why it works.
# - It standardizes each feature with the mini-batch's mean and (biased) variance, $\varepsilon$ inside the square root,
#   then scales and shifts with learned $\gamma, \beta$; for feature maps, one set per channel over $N, H, W$. Ours equals
#   `nn.BatchNorm1d/2d` in training and eval, and the hand-written backward equals autograd.
# - In training it updates running averages (unbiased variance, `momentum` = weight of the new batch, the opposite of
#   Keras's convention); `model.eval()` uses them. Batch statistics at test time made one-class batches lose more than 50
#   points of accuracy here.
# - Put it between the layer and the nonlinearity (the paper's choice; after it is common too), and drop the layer's
#   bias: its gradient is 0 and it changes nothing.
# - On digits, within 500 steps, it trained the paper's sigmoid network at learning rate 0.1, whose plain version's
#   signal shrank about 7-fold per layer and stayed at chance; and a ReLU network at learning rate 3, where the plain
#   network (which trains at 0.1) stayed at chance. It trained at every initial weight scale from 0.01 to 1.
# - Its batch noise is a regularizer in principle, but on the noisy-label baseline it did not narrow the train/validation
#   gap (the network memorized the noise sooner): don't rely on it.
# - With batches of 2 it fell far behind, and recomputing the statistics did not rescue it; group norm, which normalizes
#   each example on its own (like layer and instance norm), did not mind.
# - It costs compute and memory in training, and nothing at inference once folded into the preceding layer.

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
# Read the table of section 10: what a layer keeps *one statistic per* is what it does not average over. Batch norm keeps
# one per channel, layer norm one per example, instance norm one per example and channel.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
solution_3 = {"BatchNorm2d": (0, 2, 3), "LayerNorm": (1, 2, 3), "InstanceNorm2d": (2, 3)}
assert ex.check_norm_axes(solution_3)

# %% [markdown]
# ### Exercise 4 — the running averages and eval mode
# Write `bn_update(x, running_mean, running_var, momentum)`, which returns the new `(running_mean, running_var)` after one
# training step on the batch `x` of shape $(N, D)$, with PyTorch's convention; and `bn_eval(x, running_mean, running_var,
# gamma, beta, eps)`, batch norm's eval-mode output. The check runs your update for six steps from PyTorch's starting
# values (mean 0, variance 1) and compares the averages, and then your eval output, with `nn.BatchNorm1d`'s.

# %% {"tags": ["exercise"]}
def bn_update(x, running_mean, running_var, momentum):
    raise NotImplementedError  # your code here


def bn_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    raise NotImplementedError  # your code here


# %%
ex.check_running_averages(bn_update, bn_eval)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Section 2's two update equations: `momentum` weights the *new* batch's statistic, and the variance averaged is the
# unbiased one (`correction=1`), although the batch itself is normalized with the biased one. Eval mode uses no
# statistic of `x` at all: it normalizes with the running averages, $\varepsilon$ under the square root, then scales and
# shifts.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_bn_update(x, running_mean, running_var, momentum):
    mean = (1 - momentum) * running_mean + momentum * x.mean(dim=0)
    var = (1 - momentum) * running_var + momentum * x.var(dim=0, correction=1)
    return mean, var


def solution_bn_eval(x, running_mean, running_var, gamma, beta, eps=1e-5):
    return gamma * (x - running_mean) / torch.sqrt(running_var + eps) + beta


assert ex.check_running_averages(solution_bn_update, solution_bn_eval)

# %% [markdown]
# ### Exercise 5 — fold batch norm into the Linear layer before it
# Write `fold_bn(linear, bn)`, which returns a new `nn.Linear` computing `bn(linear(x))` with `bn` in eval mode
# (section 11), without changing the two layers it is given. The check compares it with the eval-mode pair on a layer
# with trained statistics.

# %% {"tags": ["exercise"]}
def fold_bn(linear, bn):
    raise NotImplementedError  # your code here


# %%
ex.check_fold_bn(fold_bn)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Write eval-mode batch norm as $s\odot(z - \mu_{\text{run}}) + \beta$ with $s = \gamma/\sqrt{\sigma^2_{\text{run}}+\varepsilon}$,
# and substitute $z = Wx + b$: every output feature $j$ is row $j$ of $W$ times $s_j$, and the Linear layer's bias goes
# through the normalization too. `weight[:, None]` scales rows; `bn.running_var` is already the variance eval mode uses.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_fold_bn(linear, bn):
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)          # s, one per output feature
    folded = nn.Linear(linear.in_features, linear.out_features, dtype=linear.weight.dtype)
    with torch.no_grad():
        folded.weight.copy_(scale[:, None] * linear.weight)
        folded.bias.copy_(scale * (linear.bias - bn.running_mean) + bn.bias)
    return folded


assert ex.check_fold_bn(solution_fold_bn)
