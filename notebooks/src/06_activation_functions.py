# %% [markdown]
# # 06 · Activation functions
#
# **Learning objectives.** After this notebook you can
# 1. **write** sigmoid, tanh, ReLU, Leaky ReLU, PReLU, ELU and Maxout and their derivatives, and **draw** them;
# 2. **explain** with numbers why a deep sigmoid net does not train: $\sigma' \le 1/4$ shrinks both the signal going up and the
#    gradient coming down, layer after layer, and a saturated unit passes no gradient at all;
# 3. **explain** why inputs that are all positive (sigmoid outputs) force every weight of a unit to move the same way, and
#    **show** the zig-zag path this causes;
# 4. **produce** and **count** dead ReLUs (a large negative bias, a too-large learning rate);
# 5. **compare** the activations, Maxout and PReLU included, on a real network over two seeds, **time** what an exponential
#    costs, and **choose** one (and know what SELU's self-normalization is).
#
# *Lecture:* "How to Train ConvNets" (Stephen Baek: the activation functions and their formulas, "kills off gradients when
# saturated", the non-negative inputs question, dead ReLUs from a large negative bias, Leaky ReLU, PReLU, ELU, Maxout, the
# TL;DR); "Regularization" (Computer Vision: ReLU as the design choice that avoids vanishing gradients in deep nets);
# "Regularization and Optimization of DNNs" (dying ReLUs and the variants, Randomized Leaky ReLU, SELU, which initialization goes
# with which activation). The cs231n notes ("Neural Networks Part 1") for dead ReLUs caused by a too-large learning rate.
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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches the experiments on real data to MNIST and
# wider networks (see the README).

# %%
import math
import timeit
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.activations import (ELU, PReLU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh, active_fraction, dead_fraction,
                                    elu, elu_derivative, leaky_relu, leaky_relu_derivative, prelu, prelu_derivative,
                                    relu, relu_derivative, sigmoid, sigmoid_derivative, tanh, tanh_derivative)
from course_lib.device import shifted_seed
from course_lib.exercises import ex06 as ex
from course_lib.init import lecun_normal_
from course_lib.training import DivergenceWarning, LambdaCallback

ctx = setup_notebook(seed=0)
SEEDS = [0, 1]
DATASET = ctx.pick(fast="digits", full="mnist")
WIDTH = ctx.pick(fast=64, full=256)
BATCH = ctx.pick(fast=32, full=128)
COLORS = {"sigmoid": "C3", "tanh": "C1", "relu": "C0", "leaky_relu": "C2",
          "prelu": "C8", "elu": "C4", "maxout": "C9"}
LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU (0.1)",
          "prelu": "PReLU (a = 0.25)", "elu": "ELU (α = 1)", "maxout": "Maxout (k = 2)"}

# %% [markdown]
# ## 1. The functions and their derivatives
# A unit computes $h = f(z)$ of its pre-activation $z = w^\top x + b$. Backpropagation multiplies the gradient arriving at $h$ by
# $f'(z)$, so the derivative decides how much gradient a unit passes back:
#
# | name | $f(z)$ | $f'(z)$ | range |
# | --- | --- | --- | --- |
# | sigmoid | $\sigma(z) = \dfrac{1}{1+e^{-z}}$ | $\sigma(z)\,(1-\sigma(z))$ | $(0, 1)$ |
# | tanh | $\tanh(z) = 2\sigma(2z) - 1$ | $1 - \tanh^2(z)$ | $(-1, 1)$ |
# | ReLU | $\max(0, z)$ | $1$ if $z>0$, else $0$ | $[0, \infty)$ |
# | Leaky ReLU | $\max(a z, z)$, $a$ fixed (0.01 in PyTorch, 0.1 in the deck) | $1$ or $a$ | $\mathbb{R}$ |
# | PReLU | $\max(a z, z)$, $a$ **learned** by backprop | $1$ or $a$; $\;\partial f/\partial a = \min(0, z)$ | $\mathbb{R}$ |
# | ELU | $z$ if $z>0$, else $\alpha(e^{z}-1)$ | $1$, else $\alpha e^{z} = f(z) + \alpha$ | $(-\alpha, \infty)$ |
# | Maxout | $\max(w_1^\top x + b_1,\ w_2^\top x + b_2)$ | to the winning piece only | $\mathbb{R}$ |
#
# `course_lib.activations` implements each one with the names and arguments of PyTorch (`sigmoid(input)` like
# `torch.sigmoid`, `elu(input, alpha=1.0, inplace=False)` like `F.elu`, layers `ELU(alpha=1.0)`, `PReLU(num_parameters=1,
# init=0.25)`, ...), and the derivatives for plotting. Two of them:

# %% {"tags": ["listing"]}
show_source(sigmoid)
show_source(elu)
show_source(elu_derivative)

# %% [markdown]
# ### Every function with its derivative

# %% {"tags": ["plot"]}
z = torch.linspace(-4, 4, 801)
a_prelu = torch.tensor([0.25])
curves = {"sigmoid": (sigmoid(z), sigmoid_derivative(z)), "tanh": (tanh(z), tanh_derivative(z)),
          "relu": (relu(z), relu_derivative(z)),
          "leaky_relu": (leaky_relu(z, 0.1), leaky_relu_derivative(z, 0.1)),
          "prelu": (prelu(z, a_prelu), prelu_derivative(z, a_prelu)), "elu": (elu(z), elu_derivative(z))}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
for name, (f, d) in curves.items():
    style = dict(color=COLORS[name], label=LABELS[name], lw=2.2, ls="--" if name == "prelu" else "-")
    axes[0].plot(z, f, **style)
    axes[1].plot(z, d, **style)
axes[0].set(xlabel="z", ylabel="f(z)", title="Activation functions", ylim=(-1.5, 3))
axes[1].set(xlabel="z", ylabel="f'(z)", title="Their derivatives", ylim=(-0.1, 1.15))
axes[1].axhline(0.25, color="C3", ls=":", lw=1)
axes[0].legend(loc="upper left")
plt.show()

# %% [markdown]
# Read the right panel as "how much gradient passes": the sigmoid never passes more than a quarter (dotted line), the tanh at
# most 1 but only near 0, both fade to 0 on either side. The rectifiers pass the gradient unchanged for $z > 0$; for $z < 0$
# ReLU passes nothing, Leaky ReLU and PReLU a fixed or learned fraction, ELU a fraction $e^{z}$ that fades for very negative $z$.
# ReLU's derivative jumps at 0 (PyTorch, like us, uses the left value there: $\text{ReLU}'(0) = 0$).
#
# ### Checking the derivatives against autograd and the functions against PyTorch
# Each derivative equals the gradient autograd computes through PyTorch's own function, and each function equals PyTorch's
# (the tests in `tests/test_activations.py` do the same on every device, for the layers too, and for the gradients):

# %%
# NBVAL_CHECK_OUTPUT
z64 = torch.linspace(-30, 30, 6001, dtype=torch.float64)  # includes z = 0 and saturated values
pairs = {"sigmoid": (sigmoid, torch.sigmoid, sigmoid_derivative, {}), "tanh": (tanh, torch.tanh, tanh_derivative, {}),
         "relu": (relu, F.relu, relu_derivative, {}), "leaky_relu": (leaky_relu, F.leaky_relu, leaky_relu_derivative,
                                                                     {"negative_slope": 0.1}),
         "elu": (elu, F.elu, elu_derivative, {"alpha": 0.5})}
for name, (ours, torchs, derivative, kw) in pairs.items():
    zz = z64.clone().requires_grad_()
    torchs(zz, **kw).sum().backward()
    value_err = (ours(z64, **kw) - torchs(z64, **kw)).abs().max().item()
    grad_err = (derivative(z64, **kw) - zz.grad).abs().max().item()
    print(f"{name:10s}  ours = torch: {value_err < 1e-12}   derivative = autograd: {grad_err < 1e-12}   (to 1e-12)")
    assert value_err < 1e-12 and grad_err < 1e-12

# %% [markdown]
# ### PReLU: a drop-in for `nn.PReLU`, with a learned slope
# The slope is a parameter named `weight`, as in PyTorch, so state dicts load both ways. Ten SGD steps on negative inputs
# whose target slope is 0.6 move it from its initial 0.25:

# %%
# NBVAL_CHECK_OUTPUT
ours = PReLU(num_parameters=1, init=0.25)
print(ours, dict(ours.named_parameters()).keys())
theirs = nn.PReLU()
theirs.load_state_dict(ours.state_dict())                      # ours -> torch
z_neg = -torch.rand(200, generator=ctx.rng(3)) * 3
opt = torch.optim.SGD(ours.parameters(), lr=0.1)
for step in range(10):
    opt.zero_grad()
    F.mse_loss(ours(z_neg), 0.6 * z_neg).backward()             # the slope should become 0.6
    opt.step()
print(f"learned slope after 10 steps: {ours.weight.item():.3f}")
theirs.load_state_dict(ours.state_dict())
assert torch.equal(theirs(z_neg), ours(z_neg))                 # exact: the same function and parameter
ctx.claim(abs(ours.weight.item() - 0.6), "<", 0.05, "ten SGD steps should bring the slope within 0.05 of 0.6")

# %% [markdown]
# He et al. (2015) learn one slope per channel (`num_parameters=C`) and do not put weight decay on it: decay would pull
# every slope towards 0, i.e. towards ReLU.
#
# ### Maxout: the max of $k$ learned linear pieces
# A Maxout unit (Goodfellow et al., 2013) computes $h(x) = \max_{j=1..k}(w_j^\top x + b_j)$: a learned, convex,
# piecewise-linear function. ReLU is the special case $k = 2$ with one piece fixed at 0, Leaky ReLU the case
# $(w, b)$ and $(a w, a b)$. The unit as a whole never saturates (some piece always passes the gradient with its slope), at
# the price of $k$ times the parameters; a single piece can still stop winning on every example, and then it gets no
# gradient, like a dead ReLU.

# %% {"tags": ["listing"]}
show_source(Maxout)

# %% [markdown]
# ### A Maxout unit of one input, with 4 random pieces

# %% {"tags": ["plot"]}
unit = Maxout(1, 1, pieces=4, generator=ctx.rng(7))
with torch.no_grad():
    unit.weight.mul_(3)                                         # steeper pieces, for a readable picture
    xs = torch.linspace(-3, 3, 301).unsqueeze(1)
    pieces = F.linear(xs, unit.weight, unit.bias)               # (301, 4): each piece
    out = unit(xs)
fig, ax = plt.subplots(figsize=(8, 4.2))
for j in range(4):
    ax.plot(xs, pieces[:, j], ls="--", lw=1.5, label=f"piece {j + 1}: $w_{j + 1} x + b_{j + 1}$")
ax.plot(xs, out, color="k", lw=3.5, alpha=0.6, label="Maxout: the max")
ax.set(xlabel="x", ylabel="output", title="Maxout with k = 4: a learned convex function", ylim=(-4, 6))
ax.legend(ncol=2, loc="upper center")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
assert torch.equal(out, pieces.max(dim=1, keepdim=True).values)     # the definition
relu_like = Maxout(5, 3, pieces=2, generator=ctx.rng(8))
linear = nn.Linear(5, 3)
with torch.no_grad():                                                # piece 1: a linear map, piece 2: 0
    relu_like.weight[0::2], relu_like.bias[0::2] = linear.weight, linear.bias
    relu_like.weight[1::2], relu_like.bias[1::2] = 0.0, 0.0
x5 = torch.randn(100, 5, generator=ctx.rng(9))
print("Maxout with pieces (w, b) and 0 equals ReLU(w x + b):", torch.allclose(relu_like(x5), F.relu(linear(x5))))
assert torch.allclose(relu_like(x5), F.relu(linear(x5)))

# %% [markdown]
# ## 2. The sigmoid passes at most a quarter, and nothing when saturated
# $\sigma'(z) = \sigma(z)(1 - \sigma(z))$ is largest at $z = 0$, where $\sigma = 1/2$ and $\sigma' = 1/4$. Away from 0 the unit
# **saturates**: its output is stuck near 0 or 1 and $\sigma'(z) \approx e^{-|z|}$. The chain rule
# $\partial L/\partial z = \partial L/\partial \sigma \cdot \sigma'(z)$ then passes almost nothing back, whatever the loss says.
# Even an unsaturated unit passes at most a quarter.

# %%
# NBVAL_CHECK_OUTPUT
points = torch.tensor([0.0, 1.0, 2.0, 5.0, 10.0, -10.0], dtype=torch.float64)
for p, s, d, t in zip(points.tolist(), sigmoid(points).tolist(), sigmoid_derivative(points).tolist(),
                      tanh_derivative(points).tolist()):
    print(f"z = {p:5.1f}:  sigma(z) = {s:.5f}   sigma'(z) = {d:.2e}   tanh'(z) = {t:.2e}")
grid = torch.arange(-50_000, 50_001, dtype=torch.float64) / 1000                # z in [-50, 50], step 0.001
d_grid = sigmoid_derivative(grid)
print(f"max over z in [-50, 50] of sigma'(z) = {d_grid.max().item():.6f} at z = {grid[d_grid.argmax()].item():g}")
assert d_grid.max().item() <= 0.25 + 1e-15 and abs(d_grid.max().item() - 0.25) < 1e-12
assert (d_grid[grid.abs() >= 10] < 5e-5).all(), "saturated: the gradient vanishes"

# %% [markdown]
# ### Through several layers: a quarter per layer, up and down
# In a stack of sigmoid layers the gradient reaching layer $l$ contains one factor $\sigma'$ per
# layer above it (times the weights). Even at the best point $z = 0$ that is at most
#
# $$\left(\tfrac14\right)^{L}:\qquad L = 2: 0.0625, \quad L = 5: 9.8\cdot10^{-4}, \quad L = 10: 9.5\cdot10^{-7}.$$
#
# The same factor acts on the way **up**: near $z = 0$, $\sigma(z) \approx \tfrac12 + \tfrac14 z$, so the variation of a
# layer's outputs from one example to the next is a quarter of its pre-activation's. With weights that keep the variance
# ($\text{Var}(W) = 1/\text{fan}$), each sigmoid layer divides the input's variation by about 4: the deep layers carry almost
# no information about the input, and the output layer, whose gradient is intact, has nothing to read. tanh's factor is at
# most 1 (at $z = 0$), ReLU's exactly 1 for every active unit. We measure both directions: an MLP with five hidden layers of
# the same width, initialized as the lecture recommends for each activation (Xavier, $\text{Var}(W) = 1/\text{fan}_\text{avg}$,
# for sigmoid and tanh; He, $2/\text{fan}_\text{in}$, for the rectifiers; notebook 08 explains both). The helpers that build
# these networks:

# %% {"tags": ["listing"]}
def init_for(name, generator):
    """The lecture's initialization for an activation: Xavier for sigmoid/tanh, He for the rectifiers."""
    if name in ("sigmoid", "tanh"):
        return lambda w: nn.init.xavier_normal_(w, generator=generator)
    return lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=generator)


ACTIVATION_LAYERS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": lambda: LeakyReLU(0.1),
                     "prelu": PReLU, "elu": ELU}


def deep_net(name, data, seed, depth=5):
    """An MLP with `depth` hidden layers of WIDTH units and activation `name` (or Maxout layers), drawn from seed."""
    g = ctx.rng(seed)
    if name == "maxout":   # each hidden layer: Maxout with k = 2 pieces, every piece drawn with Var(W) = 1/fan_in
        widths = [data.num_features] + [WIDTH] * depth
        net = nn.Sequential(nn.Flatten(), *[Maxout(a, b, pieces=2) for a, b in zip(widths, widths[1:])],
                            nn.Linear(WIDTH, data.num_classes))
        for m in net[1:]:
            lecun_normal_(m.weight, generator=g)
            nn.init.zeros_(m.bias)
        return net.to(ctx.device)
    return mlp(data.num_features, [WIDTH] * depth, data.num_classes, activation=ACTIVATION_LAYERS[name],
               generator=g, init=init_for(name, g)).to(ctx.device)


# %% [markdown]
# ### Measuring the signal and the gradient of each layer
# One forward and one backward pass per network, on (up to) 2000 training examples, both seeds. The **signal** of a layer is
# how much its outputs vary from one example to the next: the standard deviation of each unit across the examples, averaged
# over the units. The **gradient** is the norm of $\partial L/\partial W$ of each layer's weights.

# %%
def signal_and_gradient(net, x, y):
    """Per-unit std across examples of the input, of each hidden layer and of the logits; ‖∂L/∂W‖ of each layer."""
    h = x.flatten(1)
    signal = [h.std(dim=0).mean().item()]
    for m in net[1:]:
        h = m(h)
        if not isinstance(m, nn.Linear) or m is net[-1]:          # after each activation, and the logits
            signal.append(h.std(dim=0).mean().item())
    F.cross_entropy(h, y).backward()
    return signal, [m.weight.grad.norm().item() for m in net if isinstance(m, nn.Linear)]


datasets = {seed: load_dataset(DATASET, seed=seed, device=ctx.device) for seed in SEEDS}
print(datasets[0])
layer_signal, layer_grads = {}, {}
for seed in SEEDS:
    x_tr, y_tr = datasets[seed].train.x[:2000], datasets[seed].train.y[:2000]
    for name in ("sigmoid", "tanh", "relu"):
        layer_signal[(name, seed)], layer_grads[(name, seed)] = signal_and_gradient(deep_net(name, datasets[seed], seed),
                                                                                    x_tr, y_tr)

# %% [markdown]
# ### The signal going up and the gradient coming down, at initialization

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
for name in ("sigmoid", "tanh", "relu"):
    for seed in SEEDS:
        style = dict(color=COLORS[name], alpha=1 if seed == 0 else 0.45, label=LABELS[name] if seed == 0 else None)
        axes[0].plot(range(7), layer_signal[(name, seed)], "o-", **style)
        axes[1].plot(range(1, 7), layer_grads[(name, seed)], "o-", **style)
layers_axis = torch.arange(1, 7)
axes[0].plot(layers_axis[:5], layer_signal[("sigmoid", 0)][1] * 0.25 ** (layers_axis[:5] - 1), "k:",
             label=r"layer 1 $\times (1/4)^{\mathrm{layers\ below}}$")
axes[1].plot(layers_axis, layer_grads[("sigmoid", 0)][-1] * 0.25 ** (6 - layers_axis), "k:",
             label=r"output $\times (1/4)^{\mathrm{layers\ above}}$")
axes[0].set(yscale="log", xlabel="layer (0 = input, 1-5 hidden, 6 = logits)", ylabel="std across examples, per unit",
            title="Signal going up")
axes[1].set(yscale="log", xlabel="layer (1 = first, 6 = output)", ylabel=r"$\|\partial L / \partial W\|$",
            title="Gradient coming down")
for ax in axes:
    ax.legend(fontsize=12)
fig.suptitle("Five hidden layers at initialization (both seeds)")
plt.show()

# %% [markdown]
# ### The numbers, on both seeds

# %%
up = {(n, seed): layer_signal[(n, seed)][5] / layer_signal[(n, seed)][1] for n in ("sigmoid", "tanh", "relu")
      for seed in SEEDS}
down = {(n, seed): layer_grads[(n, seed)][0] / layer_grads[(n, seed)][-1] for n in ("sigmoid", "tanh", "relu")
        for seed in SEEDS}
for seed in SEEDS:
    print(f"seed {seed}: signal, layer 5 / layer 1: " +
          ",  ".join(f"{LABELS[n]} {up[(n, seed)]:.1e}" for n in ("sigmoid", "tanh", "relu")))
    print(f"        gradient, layer 1 / output:  " +
          ",  ".join(f"{LABELS[n]} {down[(n, seed)]:.1e}" for n in ("sigmoid", "tanh", "relu")))
    print(f"        the sigmoid net's logits vary by {layer_signal[('sigmoid', seed)][-1]:.1e} across examples "
          f"(tanh's by {layer_signal[('tanh', seed)][-1]:.2f})")

# %% [markdown]
# ### The claims: the sigmoid's signal and gradient collapse, tanh's and ReLU's do not

# %%
for seed in SEEDS:
    up_s = {n: up[(n, seed)] for n in ("sigmoid", "tanh", "relu")}
    down_s = {n: down[(n, seed)] for n in ("sigmoid", "tanh", "relu")}
    ctx.claim(up_s["sigmoid"], "<", 1e-2, f"seed {seed}: the sigmoid net's signal should collapse going up "
                                          f"(layer 5 varies < 1% as much as layer 1)")
    ctx.claim(layer_signal[("sigmoid", seed)][-1], "<", 1e-3,
              f"seed {seed}: the sigmoid net's logits should barely depend on the input")
    ctx.claim(min(up_s["tanh"], up_s["relu"]), ">", 0.3, f"seed {seed}: tanh and ReLU should keep the signal going up")
    ctx.claim(down_s["sigmoid"], "<", 1e-2, f"seed {seed}: the sigmoid net's first layer should get < 1% of the "
                                            f"output layer's gradient")
    ctx.claim(max(max(down_s[n], 1 / down_s[n]) for n in ("tanh", "relu")), "<", 3,
              f"seed {seed}: tanh and ReLU should keep the gradient within a factor 3 across the layers")

# %% [markdown]
# These sigmoid units are not saturated: at initialization their $|z|$ stays mostly below 1, where $\sigma'$ is between 0.2
# and 0.25 (the table above). The loss per layer is the quarter ceiling itself, in both directions (the dotted lines are
# exactly $(1/4)^{\text{layers}}$). Going up, each
# sigmoid layer divides the variation across examples by about 4, so layer 5 varies about $3\cdot10^{-3}$ times as much as
# layer 1 and the logits by 2 to $3\cdot10^{-4}$: the network computes almost the same output for every digit. Coming down, the
# first layer receives about $10^{-3}$ of the output layer's gradient. The output layer gets a full gradient, but it reads
# an almost constant input, so the loss cannot fall below that of guessing the class frequencies ($\ln 10 \approx 2.30$), and the
# early layers that would have to restore the signal hardly move. With tanh and ReLU both stay level: the signal keeps about
# half of its size or more over the five layers, the gradient stays within a factor 3. This is the "vanishing gradient" that made
# ReLU "a necessary design choice" for deep networks (AlexNet, in the "Regularization" deck).
#
# ### The quarter is partly the initialization's doing
# The sigmoid nets above use Xavier with gain 1, as the table of the "Regularization and Optimization of DNNs" deck pairs
# them. Scaling the weights by 4 $= 1/\sigma'(0)$ (an old recommendation for the logistic) undoes much of the collapse (93 to
# 140 times more signal at layer 5, across seed offsets and kernel sets); but the outputs of the sigmoid are centred on
# $\tfrac12$, not 0, so larger weights also push many units off the centre, and the signal still shrinks from layer to layer:

# %%
signal_gain4 = {}
for seed in SEEDS:
    g = ctx.rng(seed)
    net = mlp(datasets[seed].num_features, [WIDTH] * 5, datasets[seed].num_classes, activation=Sigmoid, generator=g,
              init=lambda w: nn.init.xavier_normal_(w, gain=4.0, generator=g)).to(ctx.device)
    signal_gain4[seed], _ = signal_and_gradient(net, datasets[seed].train.x[:2000], datasets[seed].train.y[:2000])
    print(f"seed {seed}: sigmoid signal per hidden layer, gain 1: " +
          " ".join(f"{v:.1e}" for v in layer_signal[("sigmoid", seed)][1:6]) +
          ";  gain 4: " + " ".join(f"{v:.1e}" for v in signal_gain4[seed][1:6]))
    ctx.claim(signal_gain4[seed][5] / layer_signal[("sigmoid", seed)][5], ">", 10,
              f"seed {seed}: gain 4 should keep far more of the signal at layer 5 than gain 1")
    ctx.claim(signal_gain4[seed][5] / signal_gain4[seed][1], "<", 0.5,
              f"seed {seed}: with gain 4 the sigmoid's signal should still shrink over the layers")

# %% [markdown]
# ## 3. Outputs that are all positive: every weight of a unit moves the same way
# A sigmoid's outputs are all in $(0, 1)$: the next layer only ever sees **positive inputs**. For a unit
# $f = \sum_j w_j x_j + b$ the chain rule gives, for one example,
#
# $$\frac{\partial L}{\partial w_j} = \underbrace{\frac{\partial L}{\partial f}}_{\text{one scalar}} \cdot\; x_j ,
# \qquad x_j > 0 \text{ for every } j ,$$
#
# so every component of the update $-\alpha\,\partial L/\partial w$ has the sign of $-\partial L/\partial f$: on a step with one
# example **all the weights of the unit go up together, or all go down**. If the best weights need $w_1$ up and $w_2$ down,
# the unit has to get there by alternating steps in the $(+,+)$ and $(-,-)$ quadrants: a zig-zag. This holds exactly for a
# batch of one. A mini-batch sums $\sum_n \frac{\partial L}{\partial f_n} x_n$ over its examples, whose signs can differ, so
# its update can mix signs: batching softens the restriction (cs231n notes) without removing its cause, the large common
# component of the inputs.
#
# **A 2-D toy.** One linear unit, two inputs that are sigmoid outputs, $x_j = \sigma(u_j)$ with $u_j \sim N(0, 2^2)$,
# targets $y = x_1 - x_2$, so the optimum is $w^* = (1, -1)$; squared error, SGD one example at a time (batch size 1, where
# the rule is exact) from $w = (0, 0)$.
# Against it, the same inputs **zero-centred**, $x_j - \tfrac12$ (values in $(-\tfrac12, \tfrac12)$, like $\tfrac12\tanh$).
# The finding, in short: the positive inputs force the zig-zag, but what it costs is a **learning rate three to four times
# smaller** before SGD diverges; at equal learning rates both take about as many steps.

# %% {"tags": ["listing"]}
W_STAR = torch.tensor([1.0, -1.0], dtype=torch.float64)


def toy_data(centred, generator, n=200):
    """n inputs x = sigmoid(u), u ~ N(0, 2²) in 2-D (minus 1/2 when centred), and targets y = x @ W_STAR."""
    x = sigmoid(2 * torch.randn(n, 2, generator=generator, dtype=torch.float64))   # all in (0, 1)
    if centred:
        x = x - 0.5
    return x, x @ W_STAR


def toy_sgd(centred, seed, lr, steps=400):
    """SGD, one example per step, on the squared error ½(x·w − y)²; returns the path of w, (steps + 1, 2)."""
    g = ctx.rng(seed)
    x, y = toy_data(centred, g)
    w, path = torch.zeros(2, dtype=torch.float64), []
    for i in torch.randint(0, len(x), (steps,), generator=g).tolist():
        path.append(w)
        w = w - lr * (x[i] @ w - y[i]) * x[i]                                 # dL/dw = (f - y) x
    return torch.stack(path + [w])


def same_sign_fraction(path):
    """Fraction of the (non-zero) updates whose two components have the same sign."""
    steps = path.diff(dim=0)
    moving = steps.abs().min(dim=1).values > 1e-12
    return (steps[moving, 0].sign() == steps[moving, 1].sign()).double().mean().item()


# %% [markdown]
# ### The path of SGD with positive and with zero-centred inputs

# %% {"tags": ["plot"]}
LR_TOY, SHOWN = 1.0, 40
fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
w1, w2 = torch.meshgrid(torch.linspace(-0.6, 1.6, 120, dtype=torch.float64),
                        torch.linspace(-1.6, 0.6, 120, dtype=torch.float64), indexing="xy")
grid_w = torch.stack([w1.flatten(), w2.flatten()], dim=1)                     # (14400, 2)
for ax, centred, title in ((axes[0], False, "inputs all positive (sigmoid outputs)"),
                           (axes[1], True, "inputs zero-centred")):
    x_toy, y_toy = toy_data(centred, ctx.rng(0))
    loss = 0.5 * ((grid_w @ x_toy.T - y_toy) ** 2).mean(dim=1).reshape(w1.shape)
    ax.contour(w1, w2, loss.sqrt(), levels=10, colors="grey", linewidths=0.8, alpha=0.6)
    if not centred:
        ax.fill_between([0, 1.6], 0, 0.6, color="C2", alpha=0.12, label="update directions allowed")
        ax.fill_between([-0.6, 0], -1.6, 0, color="C2", alpha=0.12)
    path = toy_sgd(centred, 0, LR_TOY)[:SHOWN + 1]
    ax.plot(path[:, 0], path[:, 1], "o-", ms=3.5, lw=1.4, color="C3" if not centred else "C0",
            label=f"first {SHOWN} SGD steps from (0, 0), {'centred' if centred else 'positive'} inputs")
    ax.plot(*W_STAR.tolist(), "k*", ms=18, label="optimum $w^* = (1, -1)$")
    ax.set(xlabel="$w_1$", title=title, xlim=(-0.6, 1.6), ylim=(-1.6, 0.6), aspect="equal")
axes[0].set_ylabel("$w_2$")
handles = {h.get_label(): h for ax in axes for h in ax.get_legend_handles_labels()[0]}
fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=2)      # below the panels, off the paths
fig.subplots_adjust(bottom=0.25)
plt.show()

# %% [markdown]
# The shaded quadrants, drawn at the start, are the directions an update may take when the inputs are all positive. On the
# left every step goes up-right or down-left, and the path to $w^* = (1, -1)$ is a zig-zag; on the right the steps point in
# any direction. The grey contours of the loss show the other face of the same problem: with positive inputs the loss is a
# long narrow valley along $(1, -1)$, with centred inputs a round bowl.

# %% [markdown]
# ### The zig-zag in numbers
# Both seeds, learning rate 1, 400 steps: the share of updates that move $w_1$ and $w_2$ the same way, and the length of the
# path travelled:

# %%
# NBVAL_CHECK_OUTPUT
toy = {(centred, seed): toy_sgd(centred, seed, LR_TOY) for centred in (False, True) for seed in SEEDS}
for (centred, seed), path in toy.items():
    length = path.diff(dim=0).norm(dim=1).sum().item()
    print(f"{'zero-centred' if centred else 'positive    '} seed {seed}: updates with w1, w2 moving the same way: "
          f"{same_sign_fraction(path):.0%};  path length {length:.2f} (straight line: {W_STAR.norm().item():.2f})")
for seed in SEEDS:
    assert same_sign_fraction(toy[(False, seed)]) == 1.0                  # exact: x > 0 forces the same sign
    ctx.claim(same_sign_fraction(toy[(True, seed)]), "<", 0.75,
              f"seed {seed}: with centred inputs the two weights should often move in opposite directions")
    lengths = {c: toy[(c, seed)].diff(dim=0).norm(dim=1).sum().item() for c in (False, True)}
    ctx.claim(lengths[False] / lengths[True], ">", 1.3, f"seed {seed}: the zig-zag path should be much longer")

# %% [markdown]
# With positive inputs 100% of the updates move both weights the same way, an exact consequence of the chain rule above; with
# centred inputs about half do (45% to 57% across seeds and seed offsets). The zig-zag path is 1.7 to 3 times as long as
# the centred one. A longer path does not by itself cost steps, though: what the positive inputs really cost is a smaller
# stable learning rate.

# %% [markdown]
# ### The cost: a smaller stable learning rate
# At one learning rate both units reach the optimum in about as many steps in this toy (the table below: 65 against 66 steps
# at 0.5). The price of all-positive inputs is the learning rate they tolerate: every example is $x = \bar{x} + \text{noise}$,
# and the large common part $\bar{x}$ makes the error surface steep along $(1, 1)$ (the largest eigenvalue of
# $\mathbb{E}[x x^\top]$ grows by about $\lVert \bar{x} \rVert^2$), so SGD diverges at a smaller learning rate. We find the largest
# rate that still converges (bisection; converged: within 0.1 of $w^*$ over the last 50 of 400 steps), and count the
# steps until $\lVert w - w^*\rVert < 0.1$ for a range of rates, averaged over four seeds:

# %% {"tags": ["listing"]}
LRS, TOY_SEEDS = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0], [0, 1, 2, 3]


def converges(centred, seed, lr):
    return bool(((toy_sgd(centred, seed, lr)[-50:] - W_STAR).norm(dim=1) < 0.1).all())


def largest_stable_lr(centred, seed, low=0.5, high=32.0, halvings=7):
    """Bisection on a log scale for the largest learning rate at which SGD converges (low converges, high does not)."""
    for _ in range(halvings):
        mid = math.sqrt(low * high)
        low, high = (mid, high) if converges(centred, seed, mid) else (low, mid)
    return low


def steps_to_reach(path, radius=0.1):
    inside = ((path - W_STAR).norm(dim=1) < radius).nonzero()
    return inside[0].item() if len(inside) else math.inf          # not reached in 400 steps, or diverged


# %%
# NBVAL_CHECK_OUTPUT
edge = {c: sum(largest_stable_lr(c, s) for s in TOY_SEEDS) / len(TOY_SEEDS) for c in (False, True)}
mean_steps = {}
for centred in (False, True):
    for lr in LRS:
        mean_steps[(centred, lr)] = sum(steps_to_reach(toy_sgd(centred, s, lr)) for s in TOY_SEEDS) / len(TOY_SEEDS)
    row = " ".join(f"{mean_steps[(centred, lr)]:5.1f}" for lr in LRS)
    print(f"{'zero-centred' if centred else 'positive    '}  largest stable lr {edge[centred]:4.1f} | steps at lr "
          f"{'/'.join(f'{lr:g}' for lr in LRS)}: {row}")
best = {c: min(mean_steps[(c, lr)] for lr in LRS) for c in (False, True)}
print(f"fewest steps: positive {best[False]:.1f}, zero-centred {best[True]:.1f}")
ctx.claim(edge[True] / edge[False], ">", 2, "centred inputs should tolerate a far larger learning rate")
ctx.claim(best[True] / best[False], "<", 0.7, "at its best learning rate the centred unit should need far fewer steps")

# %% [markdown]
# (`inf`: on at least one seed $w$ did not come within 0.1 of $w^*$ in 400 steps; here that means it diverged.) With positive
# inputs SGD stops converging above a learning rate of about 2.6, with centred inputs only above about 9.5: a rate 3.6 to 3.9
# times larger (across the seed offsets we tried). At equal learning rates the step counts agree; the centred unit needs
# fewer steps only because it can take larger ones. Its fewest are at a rate of 4, inside the grid (larger rates take more
# steps again, 12 diverges), and there it needs less than half the steps of the positive unit at its best (0.28 to 0.45
# times as many across the seed offsets). This is why "How to Train ConvNets" asks for zero-centred data (notebook 07),
# why tanh (zero-centred) is preferred to the sigmoid, and part of why ELU's outputs, closer to zero mean (section 5
# measures it), help. ReLU's outputs are not zero-centred either; the remedy inside a network is normalization (notebook 09).

# %% [markdown]
# ## 4. Dead ReLUs
# A ReLU unit whose pre-activation $z = w^\top x + b$ is negative for **every** training example outputs 0 and passes a gradient
# of 0 for all of them: its weights never change again, and it plays no part in the network. The deck: it "happens when a large
# negative bias term is developed", the unit's "decision plane" lies outside the data. `course_lib.activations.dead_fraction`
# counts such units with forward hooks: the fraction of units of each ReLU layer that are never active on a data set.

# %% {"tags": ["listing"]}
show_source(active_fraction)

# %% [markdown]
# ### A large negative bias kills units
# The ReLU net of section 2 (five hidden layers, He initialization, zero biases). We shift every bias of the first hidden layer
# by $-b$ and count the units of that layer that are never active on the whole training set:

# %%
SHIFTS = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0]


def shifted_net(seed, shift):
    net = deep_net("relu", datasets[seed], seed)
    with torch.no_grad():
        net[1].bias -= shift                      # net[0] is Flatten, net[1] the first Linear layer
    return net


dead_by_shift = {(seed, shift): dead_fraction(shifted_net(seed, shift), datasets[seed].train.x)["2"]
                 for seed in SEEDS for shift in SHIFTS}

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.2))
for seed in SEEDS:
    ax.plot(SHIFTS, [dead_by_shift[(seed, s)] for s in SHIFTS], "o-", color="C0", alpha=1 if seed == 0 else 0.5,
            label=f"seed {seed}")
ax.set(xlabel="bias shift b (first hidden layer's biases = -b)", ylabel="fraction of units never active",
       title="Dead ReLUs in the first hidden layer", ylim=(-0.03, 1.03))
ax.legend()
plt.show()

# %% [markdown]
# ### Counting them

# %%
for seed in SEEDS:
    z1 = shifted_net(seed, 0.0)[1](datasets[seed].train.x.flatten(1))      # first-layer pre-activations w·x, no bias
    print(f"seed {seed}: " + "  ".join(f"b={s:g}: {dead_by_shift[(seed, s)]:.0%}" for s in SHIFTS) +
          f"   | w·x: std {z1.std().item():.2f}, largest {z1.max().item():.1f}")
    ctx.claim(dead_by_shift[(seed, 0.0)], "<=", 0.1, f"seed {seed}: with zero biases almost no unit should be dead")
    ctx.claim(dead_by_shift[(seed, 2.0)], ">=", 0.7, f"seed {seed}: a bias of -2 should kill most units of layer 1")

# %% [markdown]
# With zero biases at most a few percent of the first layer's units are dead on the training set; a bias of $-2$ kills
# 88% to 100% of them (across the seeds, seed offsets and kernel sets we tried), and $-4$ all or nearly all of them. What sets
# the scale is the weights: He's $\text{std}(W) = \sqrt{2/64} \approx 0.18$ on these pixels gives pre-activations $w^\top x$ with
# a standard deviation of 0.6 to 0.7 (printed above), so a bias of $-2$ leaves only the rare units and examples with
# $w^\top x > 2$ active.
#
# ### Dead units stay dead
# Train the network with the bias shift $b = 1$ (40% to 55% of the first layer dead) for a few epochs. A dead unit of the first
# layer gets exactly zero gradient, so its weights and bias do not move at all, and it is still dead at the end, while the
# rest of the network learns:

# %%
EPOCHS_DEAD = ctx.epochs(fast=5, full=2)
net = shifted_net(0, 1.0)
x_train = datasets[0].train.x
dead_before = active_fraction(net, x_train)["2"] == 0
w_before = net[1].weight.detach().clone()
hist = fit(net, datasets[0].train, datasets[0].val, epochs=EPOCHS_DEAD, lr=0.05, batch_size=BATCH, seed=0,
           progress=False)
dead_after = active_fraction(net, x_train)["2"] == 0
unchanged = (net[1].weight.detach() == w_before).all(dim=1).cpu()
print(f"dead before: {int(dead_before.sum())} of {len(dead_before)} units; after {EPOCHS_DEAD} epochs: "
      f"{int(dead_after.sum())};  weights of the dead units unchanged: {bool(unchanged[dead_before].all())};  "
      f"val acc {hist.val_acc[-1]:.2f}")
assert unchanged[dead_before].all() and dead_after[dead_before].all()

# %% [markdown]
# The units that were dead at the start kept their weights to the bit and are all still dead (sometimes one more dies during
# training); the network learned with the units it had left, and had to do without the dead ones for good.

# %% [markdown]
# ### A too-large learning rate kills units too
# A second cause, not in the deck (the cs231n notes, "Neural Networks Part 1"): with a too-large learning rate one update can
# push a unit's weights and bias so far that it never fires again. The same ReLU net, zero biases, plain SGD for ten epochs at
# a usual learning rate (0.05) and a large one (0.5), counting the dead units of every hidden layer:

# %%
EPOCHS_LR = ctx.epochs(fast=10, full=3)
LR_DEAD = [0.05, 0.5]
dead_by_lr = {}
for seed in SEEDS:
    for lr in LR_DEAD:
        net = deep_net("relu", datasets[seed], seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            hist = fit(net, datasets[seed].train, datasets[seed].val, epochs=EPOCHS_LR, lr=lr, batch_size=BATCH,
                       seed=seed, progress=False)
        per_layer = dead_fraction(net, datasets[seed].train.x)
        dead_by_lr[(seed, lr)] = (per_layer, sum(per_layer.values()) / len(per_layer), hist)
        print(f"seed {seed}, lr {lr:g}: dead per layer " + " ".join(f"{v:4.0%}" for v in per_layer.values()) +
              f"  | all layers {dead_by_lr[(seed, lr)][1]:.0%} | val acc {hist.val_acc[-1] if hist.val_acc else 0:.2f}")

# %% [markdown]
# ### The dead units, on the mean over the seeds

# %%
best_acc_large = sum(max(dead_by_lr[(seed, 0.5)][2].val_acc, default=0.0) for seed in SEEDS) / len(SEEDS)
ctx.claim(best_acc_large, ">", 0.25, "lr 0.5 should not diverge: dead units, not NaN, the net still learns "
                                     "(best validation accuracy, mean over the seeds; chance is 0.1)")
mean_dead = {lr: sum(dead_by_lr[(seed, lr)][0]["2"] for seed in SEEDS) / len(SEEDS) for lr in LR_DEAD}
mean_all = {lr: sum(dead_by_lr[(seed, lr)][1] for seed in SEEDS) / len(SEEDS) for lr in LR_DEAD}
print("mean over the seeds, first layer: " + "  ".join(f"lr {lr:g}: {mean_dead[lr]:.0%}" for lr in LR_DEAD) +
      ";  all layers: " + "  ".join(f"lr {lr:g}: {mean_all[lr]:.0%}" for lr in LR_DEAD))
ctx.claim(mean_dead[0.05], "<=", 0.1, "lr 0.05 should leave few first-layer units dead (mean over the seeds)")
ctx.claim(mean_dead[0.5] - mean_dead[0.05], ">", 0.2,
          "lr 0.5 should kill far more first-layer units than lr 0.05 (mean over the seeds)")
ctx.claim(mean_all[0.5] - mean_all[0.05], ">", 0.1,
          "lr 0.5 should leave many more dead units over all layers (mean over the seeds)")

# %% [markdown]
# At learning rate 0.05 a few percent of the first layer's units died (some more in the deeper layers). At 0.5, without
# diverging, a large share died, with a lower validation accuracy. The run at 0.5 is **chaotic**: a rounding difference in a
# CPU kernel changes which units die, and how many, as much as a change of seed does, so the numbers printed above differ
# from one machine to the next: on the mean over the two seeds the first layer lost from about 40% to 75% of its units,
# and the best validation accuracy (mean over the seeds) ranged from about 0.35 to 0.75, across the seed offsets and kernel
# sets we tried. The claims therefore compare the mean over the seeds, with bounds far from what either
# learning rate gives. Leaky ReLU, PReLU and ELU do not die this way: for moderately negative $z$ their gradient is not
# zero, so a unit pushed below 0 on every example still gets a gradient that can bring it back. They are not immune: ELU's
# gradient $\alpha e^{z}$ fades for very negative $z$, and a PReLU's learned slope can shrink to 0. The "Regularization and
# Optimization of DNNs" deck also lists **Randomized Leaky ReLU** (RReLU, Xu et al. 2015): in training each negative input
# gets a slope drawn uniformly from $[l, u]$ (PyTorch's `nn.RReLU`, $l = 1/8$, $u = 1/3$), at test time the fixed mean
# slope $(l + u)/2$, a Leaky ReLU:

# %%
# NBVAL_CHECK_OUTPUT
rrelu = nn.RReLU(lower=1 / 8, upper=1 / 3)
z_test = torch.linspace(-3, 3, 61)
torch.manual_seed(shifted_seed(ctx.seed))       # nn.RReLU draws its training slopes from the global generator
slopes = rrelu.train()(-torch.ones(10_000)).neg()
print(f"training: slopes drawn in [{slopes.min().item():.3f}, {slopes.max().item():.3f}];  eval: "
      f"equals leaky_relu with slope (l + u)/2 = {(1 / 8 + 1 / 3) / 2:.4f}: "
      f"{torch.allclose(rrelu.eval()(z_test), leaky_relu(z_test, (1 / 8 + 1 / 3) / 2))}")
assert 1 / 8 <= slopes.min().item() and slopes.max().item() <= 1 / 3
assert torch.allclose(rrelu.eval()(z_test), leaky_relu(z_test, (1 / 8 + 1 / 3) / 2))

# %% [markdown]
# ## 5. The comparison on a real network
# The MLP of section 2, five hidden layers of 64 units, with each activation: sigmoid and tanh (Xavier initialization), ReLU,
# Leaky ReLU (slope 0.1, as in the deck), PReLU (one learned slope per layer, from 0.25) and ELU (He initialization), and
# Maxout with $k = 2$ pieces per unit. Each Maxout piece is drawn with $\text{Var}(W) = 1/\text{fan}_\text{in}$ (LeCun): the
# max of two independent symmetric pieces has the same second moment as one piece, so this keeps the signal's size from
# layer to layer as He's factor 2 does for ReLU. The same data, plain SGD (learning rate 0.05, batch 32; 128 in the full
# profile), two seeds; after every epoch the loss is evaluated on the whole training set.

# %% {"tags": ["listing"]}
EPOCHS_CMP = ctx.epochs(fast=12, full=5)
NAMES = ["sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "maxout"]
RECTIFIER_NAMES = ["relu", "leaky_relu", "prelu", "elu", "maxout"]


def whole_train_loss(net, split, record):
    """A callback: after every epoch, the loss on the whole training split in one pass (eval mode), appended to record."""
    @torch.no_grad()
    def measure(state):
        net.eval()
        record.append(F.cross_entropy(net(split.x), split.y).item())
        net.train()
    return LambdaCallback(on_epoch_end=measure)


# %%
runs, nets, train_loss = {}, {}, {}
for seed in SEEDS:
    for name in NAMES:
        nets[(name, seed)] = net = deep_net(name, datasets[seed], seed)
        train_loss[(name, seed)] = []
        runs[(name, seed)] = fit(net, datasets[seed].train, datasets[seed].val, epochs=EPOCHS_CMP, lr=0.05,
                                 batch_size=BATCH, seed=seed, progress=False,
                                 callbacks=[whole_train_loss(net, datasets[seed].train, train_loss[(name, seed)])])
n_params = {name: sum(p.numel() for p in nets[(name, 0)].parameters()) for name in ("relu", "prelu", "maxout")}
print("parameters: " + ",  ".join(f"{LABELS[n]} {k:,}" for n, k in n_params.items()))

# %% [markdown]
# ### Learning curves

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
for ax, seed in zip(axes, SEEDS):
    for name in NAMES:
        ax.plot(runs[(name, seed)].epoch, train_loss[(name, seed)], color=COLORS[name], lw=2.2, label=LABELS[name],
                ls="--" if name in ("prelu", "maxout") else "-")
    ax.axhline(math.log(10), color="grey", ls=":", label="chance: ln 10")
    ax.set(yscale="log", xlabel="epoch", title=f"seed {seed}")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
axes[0].set_ylabel("training loss (whole training set)")
fig.suptitle(f"Five hidden layers of {WIDTH} units, SGD lr 0.05")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4)
fig.subplots_adjust(bottom=0.3)
plt.show()

# %% [markdown]
# ### The numbers and the claims
# The lowest training loss reached (evaluated on the whole training set after each epoch, so a noisy last epoch does not
# decide) and the final validation accuracy:

# %%
def best_loss(key):
    return min(train_loss[key])


for seed in SEEDS:
    print(f"seed {seed}: " + "  ".join(f"{LABELS[n].split(' (')[0]} {best_loss((n, seed)):.3f} / "
                                       f"{runs[(n, seed)].val_acc[-1]:.2f}" for n in NAMES))
vs_tanh = {name: sum(best_loss((name, seed)) / best_loss(("tanh", seed)) for seed in SEEDS) / len(SEEDS)
           for name in RECTIFIER_NAMES}
print("training loss / tanh's, mean over the seeds: " + ",  ".join(f"{LABELS[n].split(' (')[0]} {r:.2f}"
                                                                   for n, r in vs_tanh.items()))

# %% [markdown]
# ### The claims: sigmoid at chance, every rectifier ahead of tanh

# %%
for seed in SEEDS:
    loss = {name: best_loss((name, seed)) for name in NAMES}
    ctx.claim(loss["sigmoid"], ">", 1.8, f"seed {seed}: the 5-layer sigmoid net should still be near chance")
    for name in RECTIFIER_NAMES:
        ctx.claim(loss[name] / loss["sigmoid"], "<", 0.25, f"seed {seed}: {name} should train far faster than sigmoid")
for name in RECTIFIER_NAMES:
    ctx.claim(vs_tanh[name], "<", 0.8, f"{name} should reach a lower training loss than tanh (ratio, mean over the seeds)")

# %% [markdown]
# On both seeds, after 12 epochs, the sigmoid net has not left chance level (loss ≈ ln 10 = 2.30): its output still hardly
# depends on its input, the collapse of section 2. tanh trains; the five rectifiers, Maxout and PReLU included, reach a
# training loss 0.25 to 0.55 times tanh's (the ratio averaged over the two seeds, across seed offsets and kernel sets), ELU and
# Maxout among the lowest. On validation accuracy tanh and the rectifiers end close together (above 0.9 in the run printed
# above), the sigmoid at chance: the difference here is the speed of training. Maxout gets there with about twice the parameters of the ReLU net.
# This is one architecture, one learning rate and a short run; it matches the deck's TL;DR, not a universal ranking:
# "never" use sigmoid in hidden layers, ReLU is a good starting point, then try Leaky ReLU, PReLU, ELU, Maxout.
#
# ### ELU's outputs are closer to zero mean
# "How to Train ConvNets" credits ELU with a "close to zero-mean output" (its negative side reaches down to $-\alpha$). The
# mean output of each hidden layer of the trained ReLU and ELU nets, on the training set:

# %%
def layer_means(net, x):
    """The mean output of each activation layer of `net` on x."""
    means = []
    handles = [m.register_forward_hook(lambda m, i, o: means.append(o.mean().item()))
               for m in net if isinstance(m, (ReLU, ELU))]
    with torch.no_grad():
        net(x)
    for h in handles:
        h.remove()
    return means


means = {(name, seed): layer_means(nets[(name, seed)], datasets[seed].train.x) for name in ("relu", "elu") for seed in SEEDS}
for seed in SEEDS:
    print(f"seed {seed}: mean output per layer, ReLU " + " ".join(f"{v:.2f}" for v in means[("relu", seed)]) +
          ";  ELU " + " ".join(f"{v:.2f}" for v in means[("elu", seed)]))
elu_vs_relu = sum(sum(means[("elu", s)]) / sum(means[("relu", s)]) for s in SEEDS) / len(SEEDS)
ctx.claim(elu_vs_relu, "<", 0.75, "ELU's mean output should be well below ReLU's (ratio, mean over layers and seeds)")

# %% [markdown]
# In both nets the mean output grows with depth, but ELU's stays at about half of ReLU's: closer to zero, not at zero.
# (The deck also credits ELU's "negative saturation" with robustness to noise; we do not test that here.)

# %% [markdown]
# ## 6. What an exponential costs, and SELU
# The deck lists "exponential, computationally expensive" against sigmoid, tanh and ELU, and "computationally super
# efficient" for ReLU. One call of each on a tensor of 16 384 values (a batch of 256 examples of a 64-unit layer, small
# enough to stay in the CPU's cache, so that the arithmetic shows rather than the memory traffic), PyTorch's own functions,
# the best of five repetitions. A timing depends on the machine and its load, so the numbers here are this run's and
# nothing is asserted about them:

# %%
x_time = torch.randn(256 * 64, generator=ctx.rng(11))
timed = {"ReLU": torch.relu, "Leaky ReLU": lambda t: F.leaky_relu(t, 0.1), "sigmoid": torch.sigmoid,
         "tanh": torch.tanh, "ELU": F.elu, "exp alone": torch.exp}
seconds = {name: min(timeit.repeat(lambda f=f: f(x_time), number=200, repeat=5)) / 200 for name, f in timed.items()}
print("  ".join(f"{name} {t * 1e6:.1f} µs ({t / seconds['ReLU']:.1f}× ReLU)" for name, t in seconds.items()))

# %% [markdown]
# On the machine that built this notebook the functions with an exponential cost a few times ReLU's, ELU the most (its kernel
# computes $e^{z}$ for every entry). The CPU vector units compute an exponential in a few instructions, so on large tensors,
# where moving the data dominates, the gap shrinks, and in a whole network the matrix products cost far more than any
# activation. The cost is real but rarely decides the choice.
#
# ### SELU: an ELU scaled so that the signal normalizes itself
# SELU (Klambauer et al. 2017; the deck's table pairs it with LeCun's initialization) is an ELU with fixed constants,
# $\text{SELU}(z) = \lambda z$ for $z > 0$ and $\lambda\alpha(e^{z} - 1)$ otherwise, $\lambda \approx 1.0507$, $\alpha \approx 1.6733$.
# They are chosen so that, with weights of $\text{Var}(W) = 1/\text{fan}_\text{in}$ (`course_lib.init.lecun_normal_`), mean 0 and
# variance 1 are a stable fixed point of a layer: a network of SELU layers keeps its activations **self-normalizing**,
# without a normalization layer (notebook 09). (Klambauer et al. and Keras draw the weights from a truncated normal;
# `lecun_normal_` here uses a plain normal.) Twenty layers of 256 units at initialization, on unit-Gaussian inputs:

# %%
x_selu = torch.randn(1000, 256, generator=ctx.rng(12))
selu_std = {}
for name, act in (("SELU", nn.SELU), ("ELU", ELU), ("ReLU", ReLU)):
    g, h, selu_std[name] = ctx.rng(13), x_selu, []
    with torch.no_grad():
        for _ in range(20):
            layer = nn.Linear(256, 256, bias=False)
            lecun_normal_(layer.weight, generator=g)
            h = act()(layer(h))
            selu_std[name].append(h.std().item())
    print(f"{name:4s} with lecun_normal_: std of the activations at layers 1, 5, 10, 20: " +
          " ".join(f"{selu_std[name][i - 1]:.2f}" for i in (1, 5, 10, 20)) + f";  mean at layer 20 {h.mean().item():+.2f}")
ctx.claim(max(abs(v - 1) for v in selu_std["SELU"]), "<", 0.1, "SELU should keep the std near 1 in all 20 layers")
ctx.claim(selu_std["ELU"][-1], "<", 0.5, "a plain ELU with the same weights should let the std shrink")

# %% [markdown]
# SELU keeps the standard deviation at 1 through the twenty layers, and the mean at 0; ELU and ReLU with the same weights
# shrink (ReLU would need He's factor 2). The property holds for fully connected layers with this initialization; with
# dropout SELU needs its own variant (`nn.AlphaDropout`).

# %% [markdown]
# ## Summary
# - Sigmoid, tanh, ReLU, Leaky ReLU, PReLU, ELU and Maxout, and their derivatives, are in `course_lib.activations`, with
#   PyTorch's names and arguments; the derivatives equal autograd's.
# - $\sigma'(z) \le 1/4$ and $\approx e^{-|z|}$ when saturated. A 5-layer sigmoid net fails even without saturation: each layer
#   divides the signal going up by about 4 (its logits vary by a few $10^{-4}$ across examples, so its output ignores the
#   input) and the gradient coming down by about 4 (the first layer gets about $10^{-3}$ of the output layer's). tanh and
#   ReLU keep both level. Part of it is the initialization: a gain of 4 restores much of the signal.
# - All-positive inputs (sigmoid outputs) make every single-example update of a unit's weights share one sign (a mini-batch
#   softens this): the path zig-zags, and SGD diverges at a learning rate three to four times smaller than with centred
#   inputs; at equal learning rates both take about as many steps.
# - A ReLU unit that is never active on the data is dead for good: a bias of $-2$ killed 88% to 100% of a layer; a learning
#   rate of 0.5 killed many units too, in a chaotic way (from about 30% to 60% of the first layer). Leaky ReLU, PReLU, ELU and
#   RReLU keep a gradient for moderately negative inputs.
# - On digits, a 5-layer MLP trained with SGD: the rectifiers (ReLU, Leaky ReLU, PReLU, ELU, Maxout) trained fastest, tanh
#   next, and sigmoid not at all in 12 epochs, on both seeds. ELU's mean output is about half of ReLU's.
# - The exponentials cost a few times a ReLU per call on this machine, small next to the matrix products. SELU, with
#   `lecun_normal_` weights, keeps mean 0 and standard deviation 1 through the layers by itself.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — ELU and its derivative
# Write `my_elu(x, alpha)` ($x$ if $x > 0$, else $\alpha(e^{x} - 1)$) and `my_elu_derivative(x, alpha)`, element-wise on a
# tensor `x`, without using `F.elu` or `course_lib`. The check compares both with `course_lib.activations.elu` and with
# autograd's gradient through it, for $\alpha$ = 1, 0.5 and 2, on $x \in [-5, 5]$, and says in which region they differ.

# %% {"tags": ["exercise"]}
def my_elu(x, alpha):
    raise NotImplementedError  # your code here


def my_elu_derivative(x, alpha):
    raise NotImplementedError  # your code here


# %%
ex.check_elu(my_elu, my_elu_derivative)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Use `torch.where(x > 0, ..., ...)` with the identity on one side and the exponential branch on the other. The derivative of
# the identity is 1; the derivative of $\alpha(e^x - 1)$ is $\alpha e^x$, which tends to $\alpha$ at 0 from the left: unless
# $\alpha = 1$ the derivative jumps at 0 (either one-sided value is accepted there). The usual slips: forgetting the $-1$ (then
# ELU itself jumps at 0), forgetting $\alpha$ in the derivative, and writing the derivative as $\alpha(e^x - 1)$.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_elu(x, alpha):
    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1))


def solution_elu_derivative(x, alpha):
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(x))


assert ex.check_elu(solution_elu, solution_elu_derivative)

# %% [markdown]
# ### Exercise 2 — count the dead units
# Write `dead_fraction_of(h)`: `h` holds the outputs of one ReLU layer on a data set, shape `(N examples, units)`. Return
# the fraction of units that are dead on it, as one number.

# %% {"tags": ["exercise"]}
def dead_fraction_of(h):
    raise NotImplementedError  # your code here


# %%
ex.check_dead_fraction(dead_fraction_of)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# A unit is a column of `h`; it is dead when that column is 0 on every row. `(h == 0).all(dim=0)` marks those columns; their
# mean is the fraction. The fraction of zero entries is a different quantity (a healthy ReLU layer has many zeros), and so is
# the fraction of units that are zero on *some* example. A unit active on a single example still gets a gradient from it.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_dead_fraction(h):
    return (h == 0).all(dim=0).float().mean().item()


assert ex.check_dead_fraction(solution_dead_fraction)

# %% [markdown]
# ### Exercise 3 — the gradient of PReLU's slope
# A PReLU layer with one shared slope $a$ computes $f_i = z_i$ if $z_i > 0$, else $a z_i$, for every unit and example $i$. Given
# the pre-activations `z` and the gradient arriving at the outputs, `grad_out` $= \partial L/\partial f$ (same shape), return
# $\partial L/\partial a$ as one number. The check compares it with autograd's gradient of `F.prelu`'s `weight`.

# %% {"tags": ["exercise"]}
def slope_grad(z, grad_out):
    raise NotImplementedError  # your code here


# %%
ex.check_prelu_slope_grad(slope_grad)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# $\partial f_i/\partial a$ is $z_i$ where $z_i < 0$ and 0 elsewhere, i.e. $\min(0, z_i)$. By the chain rule each unit
# contributes $\partial L/\partial f_i \cdot \min(0, z_i)$, and since every unit shares the same $a$ the contributions are
# **summed**. That is how the slope learns: units with negative inputs vote on how steep the negative side should be.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_slope_grad(z, grad_out):
    return (grad_out * torch.clamp(z, max=0)).sum().item()


assert ex.check_prelu_slope_grad(solution_slope_grad)
