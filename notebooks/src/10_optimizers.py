# %% [markdown]
# # 10 · Optimizers
#
# **Learning objectives.** After this notebook you can
# 1. **compare** full-batch gradient descent with mini-batch SGD: the cost of a step against the noise of its gradient;
# 2. **explain** why a large condition number makes a long, narrow valley, why the largest curvature caps the learning rate,
#    and why gradient descent stalls at saddle points and local minima;
# 3. **write** the update rules of momentum, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam (with its bias correction) and NAdam,
#    and **check** an implementation against `torch.optim`;
# 4. **measure** the optimizers on a real network, each at a learning rate chosen for it, over more than one seed.
#
# *Lecture:* "How to Train ConvNets" (SGD and its problems, the long narrow valley and the condition number, local minima and
# saddle points, momentum, Nesterov, AdaGrad, RMSProp, Adam and its bias correction, the history of optimizers);
# "Regularization and Optimization of DNNs" (gradient descent vs mini-batch SGD, momentum, NAG, AdaGrad, RMSProp, Adam).
# *Runs in:* about 30 s on one CPU core (fast profile).

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
import math
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from IPython.display import HTML, display

from course_lib import load_dataset, mlp, setup_notebook, show_source
from course_lib import optim as co
from course_lib.exercises import ex10 as ex
from course_lib.landscapes import (narrow_valley, plot_side_by_side, plot_trajectories, rosenbrock, saddle,
                                   six_hump_camel, trajectory, trajectory_animation_html)
from course_lib.plots import show_as_jpeg

ctx = setup_notebook(seed=0)
DATA = ctx.pick(fast="mnist1d", full="mnist")
HIDDEN = ctx.pick(fast=[128, 128], full=[256, 256])
SEEDS = [0, 1]
JPEG_QUALITY = 65                                # the landscape figures: small enough to keep the notebook under 1 MB
# one colour per optimizer, in every figure of the notebook
COLORS = {"GD": "C0", "SGD": "C0", "momentum": "C1", "Nesterov": "C3", "RMSProp": "C2", "Adam": "C4", "AdaGrad": "C9",
          "NAdam": "C5", "AdaDelta": "C7"}
LINES_JPEG_QUALITY = 75                          # the line plots: JPEG too, to keep the notebook under 1 MB

# %% [markdown]
# ## 1. Gradient descent vs mini-batch SGD
# The loss of a network is an average over the $N$ training examples, $J(\theta) = \frac1N \sum_i \ell_i(\theta)$.
# **Gradient descent** (GD) uses all of them for every step; **mini-batch SGD** estimates the gradient from a random batch
# $\mathcal{B}$ of $B$ examples:
#
# $$\theta \leftarrow \theta - \alpha\, \frac{1}{B}\sum_{i\in\mathcal{B}} \nabla \ell_i(\theta) .$$
#
# A step then costs $B$ examples instead of $N$, and its gradient is noisy: its error shrinks only like $1/\sqrt{B}$.
# The network: an MLP with two hidden layers of 128 ReLU units on MNIST-1D (3200 training sequences of length 40,
# 10 classes), every run with plain SGD at $\alpha = 0.1$; the seed draws the initial weights and the batch order.

# %%
data = load_dataset(DATA, device=ctx.device)
X, Y = data.train.x.flatten(1), data.train.y
N, D_IN = X.shape
print(f"{DATA}: {N} training examples with {D_IN} features, {int(Y.max()) + 1} classes")

# %% [markdown]
# The helpers: a fresh network per seed, the loss on the whole training set, and the lecture's loop with a log of that loss.

# %% {"tags": ["listing"]}
def new_model(seed):
    """The notebook's network, its weights drawn from the seed (PyTorch's default initialization)."""
    return mlp(D_IN, HIDDEN, 10, generator=ctx.rng(seed)).to(ctx.device)


@torch.no_grad()
def train_loss(model):
    """The loss on the whole training set: what the optimizer is minimizing."""
    return F.cross_entropy(model(X), Y).item()


@torch.no_grad()
def val_accuracy(model):
    """The share of the validation set the model classifies right."""
    return (model(data.val.x.flatten(1)).argmax(1) == data.val.y).float().mean().item()


def train(optimizer, seed, *, batch_size, steps, log_every=1, model=None):
    """Mini-batch training for `steps` steps (batch order from the seed); the training loss every `log_every` steps.

    `optimizer`: a factory params -> Optimizer. Returns {"step": [...], "loss": [...], "cpu_s": CPU seconds,
    "val_acc": the validation accuracy at the end}."""
    model = new_model(seed) if model is None else model
    opt = optimizer(model.parameters())
    gen, order, pos = ctx.rng(100 + seed), None, N
    log = {"step": [0], "loss": [train_loss(model)]}
    start = time.process_time()
    for step in range(1, steps + 1):
        if pos + batch_size > N:                       # a new epoch: reshuffle (a last partial batch is dropped)
            order, pos = torch.randperm(N, generator=gen).to(ctx.device), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), Y[idx]).backward()
        opt.step()
        if step % log_every == 0 or step == steps:
            log["step"].append(step)
            log["loss"].append(train_loss(model))
    log["cpu_s"] = time.process_time() - start
    log["val_acc"] = val_accuracy(model)
    return log


# %% [markdown]
# ### Three batch sizes
# $B = 32$ and $B = 256$ train for 8 epochs (800 and 96 steps); full-batch GD ($B = N$) for 60 steps, which is 60 epochs.

# %%
SGD_EPOCHS = ctx.epochs(fast=8, full=4)
GD_STEPS = ctx.epochs(fast=60, full=100)
BATCHES = {"B = 32": 32, "B = 256": 256, f"GD (B = {N})": N}
BATCH_COLORS = dict(zip(BATCHES, ["C0", "C9", "C7"]))
runs_b = {}
for seed in SEEDS:
    for name, b in BATCHES.items():
        steps = GD_STEPS if b == N else SGD_EPOCHS * (N // b)
        runs_b[name, seed] = train(lambda p: co.SGD(p, lr=0.1), seed, batch_size=b, steps=steps,
                                   log_every={32: 10, 256: 4}.get(b, 2))
print(f"CPU time: {sum(r['cpu_s'] for r in runs_b.values()):.1f} s for {len(runs_b)} runs")

# %% [markdown]
# ### Per step, or per example?

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
for name, b in BATCHES.items():
    r = runs_b[name, 0]
    steps = torch.tensor(r["step"], dtype=torch.float64)
    axes[0].plot(steps, r["loss"], color=BATCH_COLORS[name], label=name)
    axes[1].plot(steps * b / N, r["loss"], color=BATCH_COLORS[name], label=name)
axes[0].set(xscale="symlog", xlabel="steps (log scale)", ylabel="training loss", title="Loss per step")
axes[1].set(xlim=(0, SGD_EPOCHS), xlabel="epochs (examples processed / N)", ylabel="training loss",
            title="Loss per example processed")
for ax in axes:
    ax.legend()
fig.suptitle("Plain SGD, lr 0.1, seed 0")
show_as_jpeg(fig, LINES_JPEG_QUALITY)

# %% [markdown]
# ### Cost per step and noise of the gradient
# At the initial weights of seed 0 we draw 20 batches of each size and measure how far their gradient is from the full one,
# $\lVert g_{\mathcal B} - g\rVert / \lVert g \rVert$, and the CPU time of one step.

# %%
def flat_grad(model, idx):
    model.zero_grad()
    F.cross_entropy(model(X[idx]), Y[idx]).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


model0 = new_model(0)
g_full = flat_grad(model0, torch.arange(N, device=ctx.device))
gen = ctx.rng(7)
noise, cost = {}, {}
for b in [32, 256, 1024, N]:
    batches = [torch.randperm(N, generator=gen)[:b].to(ctx.device) for _ in range(20)]
    start = time.process_time()
    grads = [flat_grad(model0, idx) for idx in batches]
    cost[b] = (time.process_time() - start) / 20
    noise[b] = torch.stack([(g - g_full).norm() / g_full.norm() for g in grads]).mean().item()
    print(f"B = {b:5d}: gradient error {noise[b]:.3f}   CPU time of a forward + backward pass {1e3 * cost[b]:6.2f} ms")

# %% [markdown]
# Sampling $B$ of the $N$ examples without replacement, the error of the mean gradient has standard deviation proportional
# to $\sqrt{(N - B)/(B\,(N-1))}$: from $B = 32$ to $B = 256$ it should shrink about $2.9\times$ (and vanish at $B = N$).

# %%
ratio = noise[32] / noise[256]
expected = math.sqrt((N - 32) / 32 / ((N - 256) / 256))
print(f"gradient error, B = 32 / B = 256: {ratio:.2f} (theory {expected:.2f})")
ctx.claim(ratio, ">", 2.2, f"the gradient error should shrink like 1/sqrt(B) (ratio {ratio:.2f}, not much less)")
ctx.claim(ratio, "<", 3.8, f"the gradient error should shrink like 1/sqrt(B) (ratio {ratio:.2f}, not much more)")
assert noise[N] < 1e-5, "the full batch gives the full gradient (up to rounding)"

# %% [markdown]
# ### Checking the claims
# On both seeds: **per example processed**, $B = 32$ ends 8 epochs far lower than GD after the same 8 epochs (8 steps),
# by more than 0.3; **per step**, early in training and at this rate, the exact gradient buys little: after 50 steps GD
# is within 0.05 of $B = 32$, for 100 times the examples.

# %%
def loss_at(run, step):
    """The training loss logged at `step` (or at the last logged step before it)."""
    return run["loss"][max(i for i, s in enumerate(run["step"]) if s <= step)]


PER_STEP = min(50, GD_STEPS)


for seed in SEEDS:
    sgd32, gd = runs_b["B = 32", seed], runs_b[f"GD (B = {N})", seed]
    per_example = (sgd32["loss"][-1], loss_at(gd, SGD_EPOCHS))
    per_step = (loss_at(sgd32, PER_STEP), loss_at(gd, PER_STEP))
    print(f"seed {seed}: after {SGD_EPOCHS} epochs  B=32 {per_example[0]:.3f}  GD {per_example[1]:.3f}   |   "
          f"after {PER_STEP} steps  B=32 {per_step[0]:.3f}  GD {per_step[1]:.3f}")
    ctx.claim(per_example[1] - per_example[0], ">", 0.3, f"seed {seed}: per example, small batches should win "
                                                         f"clearly (by {per_example[1] - per_example[0]:.3f})")
    ctx.claim(abs(per_step[1] - per_step[0]), "<", 0.05, f"seed {seed}: per step, GD should be close to B = 32 "
                                                         f"(gap {abs(per_step[1] - per_step[0]):.3f})")

# %% [markdown]
# Each GD step here costs 100 times the examples of a $B = 32$ step, and on a CPU also far more time (table above), for
# no visible gain per step over the first 50 steps (left panel). Later in training the noise of small batches sets a
# floor that GD does not have, so per step GD eventually wins; per example it loses by far. That is why the lecture's
# loop is mini-batch SGD: many cheap, noisy steps move further for the same work than a few exact ones. (On a GPU a batch
# of 256 often costs little more than one of 32: the batch size is then chosen by the memory and the noise, not the
# arithmetic.)

# %% [markdown]
# ## 2. The long, narrow valley
# Near a minimum the loss is roughly quadratic, $f(w) \approx \tfrac12 w^\top H w$. Along an eigenvector of the Hessian $H$
# with curvature $\lambda$, a gradient step multiplies the distance to the minimum by $1 - \alpha\lambda$. Every direction
# must shrink, $|1 - \alpha\lambda| < 1$, so
#
# $$\alpha < \frac{2}{\lambda_{\max}} ,$$
#
# the **largest curvature caps the learning rate**, and along the flattest direction each step gains at most
# $\alpha\lambda_{\min} < 2/\kappa$, with the **condition number** $\kappa = \lambda_{\max}/\lambda_{\min}$. A large $\kappa$
# is a long, narrow valley: steep walls, a nearly flat floor. `narrow_valley(condition=100)` is such a quadratic in 2-D,
# with $\lambda_{\max} = 1$, so $\alpha < 2$.

# %%
VALLEY = narrow_valley(condition=100.0)
lam_min, lam_max = torch.linalg.eigvalsh(VALLEY.hessian).tolist()
print(VALLEY, f"| curvatures {lam_min:.3f} and {lam_max:.3f}, condition number {lam_max / lam_min:.0f}")
gd_paths = {f"lr {lr}": trajectory(VALLEY, co.SGD, VALLEY.start, steps, lr=lr) for lr, steps in ((2.05, 12), (1.9, 40),
                                                                                                  (0.5, 40))}
for name, run in gd_paths.items():
    print(f"{name}: loss {run.losses[0]:.2f} -> {run.losses[-1]:.3g} after {len(run.losses) - 1} steps")

# %% [markdown]
# ### Gradient descent on either side of $2/\lambda_{\max}$

# %% {"tags": ["plot"]}
show_as_jpeg(plot_trajectories(VALLEY, gd_paths,
                               title=r"GD: $\alpha$ = 0.5 crawls, 1.9 zig-zags, 2.05 diverges").figure, JPEG_QUALITY)

# %% [markdown]
# Below the limit, a small $\alpha$ slides down the wall and then crawls along the floor; $\alpha$ just under 2 jumps from
# wall to wall (the zig-zag of SGD, $1 - \alpha\lambda_{\max} = -0.9$) and still crawls along the floor; at 2.05 the
# zig-zag grows by 5% a step and the run diverges (12 steps shown).

# %% [markdown]
# ### Momentum and Nesterov
# The lecture builds up a velocity: $\rho$ ("friction", typically 0.9 or 0.99) keeps most of it from step to step,
#
# $$v_{t+1} = \rho\, v_t + \nabla f(\theta_t), \qquad \theta_{t+1} = \theta_t - \alpha\, v_{t+1} .$$
#
# Along the floor of the valley the gradients agree, and the velocity grows to $1/(1-\rho)$ times a single gradient: on
# a steady slope the step is that of plain GD at the **effective rate** $\alpha/(1-\rho)$. Across the floor the gradients
# alternate in sign and cancel. Some write the velocity as an average, $v_{t+1} = \rho v_t + (1-\rho)\nabla f(\theta_t)$
# (CSCI 497P's "Regularization" deck: $v = (1-b)v + b\,dx$): the same iterates as the sum form at rate $\alpha(1-\rho)$.
# PyTorch calls the factor `dampening` $= \tau$, $v_{t+1} = \rho v_t + (1-\tau)\nabla f$; $\tau = \rho$ is the average
# (PyTorch's first step is $v_1 = \nabla f$, undamped).

# %% [markdown]
# ### Nesterov's look-ahead, in PyTorch's variables
# **Nesterov** takes the gradient where the velocity is about to carry us (the lecture's form, after Sutskever et al.
# 2013; its velocity holds the step itself):
#
# $$v_{t+1} = \rho v_t - \alpha\nabla f(\theta_t + \rho v_t), \qquad \theta_{t+1} = \theta_t + v_{t+1} .$$
#
# Write it in the look-ahead point $\tilde\theta_t = \theta_t + \rho v_t$, where the gradient is taken, and in the sum
# of gradients $v'_t = -v_t/\alpha$. Then it needs only the gradient at the current parameters, and it is PyTorch's
# rule:
#
# $$v'_{t+1} = \rho\, v'_t + \nabla f(\tilde\theta_t), \qquad
# \tilde\theta_{t+1} = \tilde\theta_t - \alpha\,\big(\nabla f(\tilde\theta_t) + \rho\, v'_{t+1}\big) .$$
#
# So the parameters PyTorch holds are the lecture's look-ahead point $\tilde\theta$, and its velocity `momentum_buffer`
# is $-1/\alpha$ times the lecture's. `course_lib.optim.SGD` does both, with the names and state of `torch.optim.SGD`:

# %% {"tags": ["listing"]}
show_source(co.SGD)

# %% [markdown]
# ### GD, momentum and Nesterov in the valley
# 60 steps at $\alpha = 0.5$, $\rho = 0.9$ (all three share their first step: the velocity starts as the gradient):

# %% {"tags": ["plot"]}
momentum_runs = {"GD": trajectory(VALLEY, co.SGD, VALLEY.start, 60, lr=0.5),
                 "momentum": trajectory(VALLEY, co.SGD, VALLEY.start, 60, lr=0.5, momentum=0.9),
                 "Nesterov": trajectory(VALLEY, co.SGD, VALLEY.start, 60, lr=0.5, momentum=0.9, nesterov=True)}
show_as_jpeg(plot_trajectories(VALLEY, momentum_runs, colors=COLORS,
                               title=r"Valley, 60 steps, $\alpha$ = 0.5, $\rho$ = 0.9").figure, JPEG_QUALITY)

# %%
for name, run in momentum_runs.items():
    print(f"{name:>9s}: loss after 60 steps {run.losses[-1].item():.2e}")

# %% [markdown]
# Momentum swings across the valley, but it travels its length in a few dozen steps, where GD has covered only part of it;
# after 60 steps its loss is 35 times lower than GD's. Nesterov's look-ahead brakes before each overshoot, swings much less,
# and ends lower still.

# %% [markdown]
# ### Steps to the minimum as a function of the learning rate
# How many steps does each learning rate need until the loss **stays** below $10^{-6}$ (from 1.2)? A momentum path
# spirals in and can cross the threshold and come back above it, so we count from the last step above it. To try 40
# learning rates at once, `steps_to_reach` runs them as the rows of one parameter: row $i$ minimizes $\alpha_i f$ with
# learning rate 1, which is the same update, $w \leftarrow w - \alpha_i \nabla f(w)$, with or without momentum.

# %% {"tags": ["listing"]}
THRESHOLD = 1e-6


def steps_to_reach(fn, lrs, max_steps, threshold=THRESHOLD, start=None, **optimizer_kwargs):
    """For each learning rate, the first step after which fn(w) stays below threshold, with co.SGD: 1 + the last
    step at which it was not below (inf if it is still not below at max_steps, or diverged)."""
    lrs = torch.as_tensor(lrs, dtype=torch.float64)
    start = torch.tensor(fn.start if start is None else start, dtype=torch.float64)
    w = torch.nn.Parameter(start.repeat(len(lrs), 1))
    opt = co.SGD([w], lr=1.0, **optimizer_kwargs)
    last_above = torch.zeros(len(lrs), dtype=torch.float64)
    for t in range(max_steps + 1):
        opt.zero_grad()
        loss = fn(w)                                      # one loss per row
        last_above = torch.where(loss < threshold, last_above, float(t))
        if t == max_steps or ((loss < 1e-3 * threshold) | ~(loss < 1e6)).all():  # every row far below, or diverged
            break
        (lrs * loss.detach().isfinite() * loss.nan_to_num(0.0)).sum().backward()
        opt.step()
    return torch.where(last_above >= t, math.inf, last_above + 1)


# %%
LRS = torch.cat([torch.logspace(-1, math.log10(3.9), 40, dtype=torch.float64), torch.tensor([2 / (lam_min + lam_max)])])
LRS = LRS.sort().values
MOMENTA = [0.5, 0.7, 0.9]
valley_steps = {"GD": steps_to_reach(VALLEY, LRS, 800)}
for rho in MOMENTA:
    valley_steps[f"momentum {rho}"] = steps_to_reach(VALLEY, LRS, 300, momentum=rho)
best = {name: (s.min().item(), LRS[s.argmin()].item()) for name, s in valley_steps.items()}
for name, (n_steps, lr) in best.items():
    print(f"{name:>13s}: best lr {lr:.2f}, {n_steps:.0f} steps")

# %% [markdown]
# ### Steps until the loss stays below $10^{-6}$, for GD and three momenta

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(11, 4.8), layout="constrained")
styles = {"GD": ("-", "o"), "momentum 0.5": (":", "^"), "momentum 0.7": ("--", "s"), "momentum 0.9": ("-.", "D")}
for name, s in valley_steps.items():
    ls, marker = styles[name]
    ax.plot(LRS, s.nan_to_num(posinf=float("nan")), ls=ls, marker=marker, ms=4, lw=2,
            color=COLORS["GD" if name == "GD" else "momentum"], label=name)
ax.axvline(2 / lam_max, color=COLORS["GD"], ls="--", lw=1, label=r"GD's limit $2/\lambda_{max}$")
ax.axvline(2 * 1.9 / lam_max, color=COLORS["momentum"], ls=":", lw=1,
           label=r"momentum 0.9's limit $2(1+\rho)/\lambda_{max}$")
ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\alpha$", ylabel=f"steps until loss stays < {THRESHOLD:g}",
       title="Narrow valley, κ = 100: steps to the minimum")
ax.yaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
ax.yaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
ax.set_yticks([20, 50, 100, 200, 500])
ax.xaxis.set_major_formatter(plt.matplotlib.ticker.ScalarFormatter())
ax.xaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
ax.set_xticks([0.1, 0.2, 0.5, 1, 2, 3.9])
ax.legend(fontsize=12, loc="upper left", bbox_to_anchor=(1.01, 1.0))
show_as_jpeg(fig, LINES_JPEG_QUALITY)

# %% [markdown]
# A missing point: not within the budget of steps, or diverged. GD's best learning rate sits just below its limit of 2.
# Theory gives $2/(\lambda_{\min} + \lambda_{\max}) \approx 1.98$, the minimax rate that shrinks the steepest and the
# flattest direction by the same factor per step, $|1-\alpha\lambda_{\min}| = |1-\alpha\lambda_{\max}|$ (for the flat
# direction alone a larger $\alpha$ is better, up to 2). From this start most of the loss lies in the steep direction,
# which 1.98 shrinks only by 0.98 a step, so a slightly smaller rate was a little faster. Even at its best rate GD needs
# about 300 steps: each step gains at most about $2/\kappa$ along the floor. Momentum is stable up to
# $\alpha < 2(1 + \rho)/\lambda_{\max}$, and its velocity builds up along the floor.

# %% [markdown]
# ### How the speed-up grows with the condition number
# For heavy-ball momentum with its best $\alpha$ and $\rho$, the distance shrinks per step by about $1 - 2/\sqrt\kappa$,
# against GD's $1 - 2/\kappa$, so the speed-up should grow like $\sqrt\kappa$ (about $(\kappa+1)/(\sqrt\kappa+1)$).
# The same count on valleys with $\kappa \in \{10, 30, 100, 300\}$, every valley and learning rate a row of one parameter,
# GD against momentum with the best of $\rho \in \{0.3, 0.5, 0.7, 0.8, 0.9\}$, each at its best rate:

# %%
KAPPAS = [10, 30, 100, 300]
SWEEP_LRS = torch.cat([torch.logspace(0, math.log10(3.9), 30, dtype=torch.float64), torch.tensor([1.9, 1.95, 1.98])])
hessians = torch.cat([narrow_valley(condition=k).hessian.expand(len(SWEEP_LRS), 2, 2) for k in KAPPAS])


def valleys(w):
    """Row r: the quadratic of valley r // len(SWEEP_LRS) (all share VALLEY's start and direction)."""
    return 0.5 * ((w.unsqueeze(1) @ hessians).squeeze(1) * w).sum(-1)


sweep_lrs = SWEEP_LRS.repeat(len(KAPPAS))
gd_sweep = steps_to_reach(valleys, sweep_lrs, 1200, start=VALLEY.start).view(len(KAPPAS), -1).min(1).values
SWEEP_MOMENTA = [0.3, 0.5, 0.7, 0.8, 0.9]
momentum_sweep, best_rho = torch.stack([steps_to_reach(valleys, sweep_lrs, 300, start=VALLEY.start, momentum=rho)
                                        .view(len(KAPPAS), -1).min(1).values for rho in SWEEP_MOMENTA]).min(0)
speedup = gd_sweep / momentum_sweep
for kappa, g, m, s, r in zip(KAPPAS, gd_sweep, momentum_sweep, speedup, best_rho):
    theory_rho = ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2
    print(f"κ = {kappa:3d}: GD {g:4.0f} steps, momentum {m:3.0f} steps (best ρ {SWEEP_MOMENTA[r]}, theory "
          f"{theory_rho:.2f}), speed-up {s:4.1f} = {s / math.sqrt(kappa):.2f} √κ")

# %% [markdown]
# ### Momentum's speed-up against $\sqrt\kappa$

# %% {"tags": ["plot"]}
roots = torch.tensor(KAPPAS, dtype=torch.float64).sqrt()
fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained")
ax.plot(roots, speedup, "o-", color=COLORS["momentum"], lw=2, ms=7, label="measured: GD steps / momentum steps")
ax.plot(roots, (roots**2 + 1) / (roots + 1), "k--", label=r"asymptotic rates: $(\kappa+1)/(\sqrt{\kappa}+1)$")
for kappa, r, s in zip(KAPPAS, roots, speedup):
    ax.annotate(f"κ = {kappa}", (r, s), textcoords="offset points", xytext=(6, -14), fontsize=12)
ax.set(xlabel=r"$\sqrt{\kappa}$", ylabel="speed-up of momentum over GD", xlim=(0, 19), ylim=(0, 19),
       title="Each at its best rate: the speed-up grows like √κ")
ax.legend(loc="upper left")
show_as_jpeg(fig, LINES_JPEG_QUALITY)

# %% [markdown]
# ### Checking the claims
# First, `steps_to_reach` agrees with a plain `trajectory` run for GD's best learning rate, an exact check of the row
# trick. Then: on the valley above, momentum (best of $\rho \in \{0.5, 0.7, 0.9\}$) needs more than $5\times$ fewer
# steps than GD, each at its best rate; over the sweep the speed-up grows more than $3\times$ from $\kappa = 10$ to
# $300$ (while $\sqrt\kappa$ grows $5.5\times$) and stays between $0.5\sqrt\kappa$ and $\sqrt\kappa$.

# %%
gd_best_lr = best["GD"][1]
check = trajectory(VALLEY, co.SGD, VALLEY.start, 800, lr=gd_best_lr)
assert int((check.losses >= THRESHOLD).nonzero()[-1]) + 1 == best["GD"][0], "the row trick must reproduce trajectory()"
speedup_100 = best["GD"][0] / min(best[f"momentum {rho}"][0] for rho in MOMENTA)
print(f"κ = 100: momentum needs {speedup_100:.1f}x fewer steps than GD; over κ = 10 ... 300 the speed-up grows "
      f"{speedup[-1] / speedup[0]:.1f}x, from {min(speedup / roots):.2f} √κ to {max(speedup / roots):.2f} √κ")
ctx.claim(speedup_100, ">", 5, f"κ = 100: momentum should need far fewer steps than GD ({speedup_100:.1f}x)")
ctx.claim(speedup[-1] / speedup[0], ">", 3, "the speed-up should grow with κ")
ctx.claim(min(speedup / roots), ">", 0.5, "the speed-up should grow like √κ (not much below)")
ctx.claim(max(speedup / roots), "<", 1.0, "the speed-up should grow like √κ (not above)")

# %% [markdown]
# On the valley of the figures ($\kappa = 100$) momentum at its best rate and $\rho = 0.7$ needs about 7 times fewer
# steps than GD at its best rate. The speed-up grows with $\kappa$, from about 2.6 at $\kappa = 10$ to 11 at
# $\kappa = 300$, about $0.6$ to $0.8\sqrt\kappa$: slower than the asymptotic rates promise, because both counts also
# pay for the start. The best $\rho$ grows with $\kappa$ too, close to the theory's
# $((\sqrt\kappa-1)/(\sqrt\kappa+1))^2$ (0.67 at $\kappa = 100$). The more ill-conditioned the problem, the more
# momentum buys, and the more momentum it wants.

# %% [markdown]
# ## 3. A learning rate per parameter: AdaGrad, RMSProp, AdaDelta, Adam
# Scale each coordinate of the gradient by the root of a running sum of its squares (lecture: "element-wise scaling"):
#
# | | accumulator | update |
# | --- | --- | --- |
# | AdaGrad | $s \leftarrow s + g^2$ | $\theta \leftarrow \theta - \alpha\, g / (\sqrt{s} + \epsilon)$ |
# | RMSProp | $s \leftarrow \beta s + (1-\beta)\, g^2$ | $\theta \leftarrow \theta - \alpha\, g / (\sqrt{s} + \epsilon)$ |
# | AdaDelta | $s \leftarrow \rho s + (1-\rho)\, g^2$, then $u \leftarrow \rho u + (1-\rho)\Delta^2$ | $\Delta = \sqrt{u+\epsilon}/\sqrt{s+\epsilon}\; g$ (old $u$), $\theta \leftarrow \theta - \alpha\Delta$ |
#
# In the lecture's picture, steep directions have large $s$ and get damped, flat ones get boosted. AdaGrad's sum only
# grows, so its steps shrink towards zero; RMSProp forgets old gradients ($\beta$ = `alpha` = 0.99 in PyTorch) and does
# not. AdaDelta replaces the learning rate by a running size $\sqrt u$ of its past updates, one decay rate $\rho$ for both
# averages, and $\Delta$ uses $u$ from before this step; $u$ starts at 0, so the first steps are about $\sqrt{\epsilon}$.
# PyTorch keeps a factor `lr` $= \alpha$ (default 1) in front of $\Delta$.

# %% [markdown]
# ### Per coordinate: a valley along the axes and the same valley rotated
# The scaling is **per coordinate**. It undoes the conditioning when the valley runs along the axes, not when it is
# rotated. The valley ($\kappa = 100$) twice, along $w_1$ and rotated by 30°, 60 steps of GD ($\alpha = 1.9$),
# AdaGrad ($\alpha = 1$) and RMSProp ($\alpha = 0.1$), and AdaDelta (printed only):

# %%
aligned = narrow_valley(condition=100.0, angle=0.0)
adaptive = {"GD": (co.SGD, dict(lr=1.9)), "AdaGrad": (co.Adagrad, dict(lr=1.0)), "RMSProp": (co.RMSprop, dict(lr=0.1)),
            "AdaDelta": (co.Adadelta, dict(lr=1.0))}
valley_pair = {"aligned": aligned, "rotated": VALLEY}
adaptive_runs = {(name, where): trajectory(fn, cls, fn.start, 60, **kw)
                 for where, fn in valley_pair.items() for name, (cls, kw) in adaptive.items()}
for name in adaptive:
    steps = (adaptive_runs[name, "rotated"].path[1:] - adaptive_runs[name, "rotated"].path[:-1]).norm(dim=1)
    print(f"{name:>8s}: loss after 60 steps {adaptive_runs[name, 'aligned'].losses[-1]:.1e} (along the axis), "
          f"{adaptive_runs[name, 'rotated'].losses[-1]:.1e} (rotated); step lengths at t = 1, 10, 60: "
          f"{steps[0]:.3f}, {steps[9]:.3f}, {steps[-1]:.3f}")

# %% [markdown]
# ### Per-coordinate step sizes: along the axes vs rotated (AdaGrad and RMSProp take the same path)

# %% {"tags": ["plot"]}
show_as_jpeg(plot_side_by_side([(fn, {name: adaptive_runs[name, where] for name in ["GD", "AdaGrad", "RMSProp"]})
                                for where, fn in valley_pair.items()],
                               ["valley along the axis", "the same, rotated by 30°"], colors=COLORS), JPEG_QUALITY)

# %% [markdown]
# ### Checking the claim: per-coordinate scaling fixes an axis-aligned valley only
# After 60 steps, AdaGrad and RMSProp are below $10^{-6}$ on the aligned valley and still above $10^{-3}$ on the rotated
# one.

# %%
# NBVAL_CHECK_OUTPUT
for name in ["AdaGrad", "RMSProp"]:
    aligned_loss, rotated_loss = (adaptive_runs[name, where].losses[-1].item() for where in valley_pair)
    print(f"{name}: aligned {aligned_loss < 1e-6}, rotated above 1e-3 {rotated_loss > 1e-3}")
    assert aligned_loss < 1e-6 and rotated_loss > 1e-3, f"{name}: the scaling should help along the axes only"

# %% [markdown]
# Along the axes, each coordinate is one eigen-direction, and dividing by its own gradient size equalizes the
# curvatures: both reach the minimum within 60 steps (loss $10^{-10}$ and below). Rotated, each coordinate mixes the
# steep and the flat direction, and they do no better than GD.
#
# AdaGrad and RMSProp take nearly the same path here. AdaGrad's first step moves every coordinate by exactly its
# $\alpha = 1$ ($g/\sqrt{g^2} = \pm 1$). RMSProp's first step moves every coordinate by 10 times *its own* $\alpha = 0.1$:
# after one step $s = 0.01\,g^2$, so it divides by $0.1\,|g|$. That is the start-up bias that Adam corrects
# (section 5). Both first steps are 1 per coordinate, and later both shrink as the run converges.
#
# AdaDelta (printed above, not drawn), with PyTorch's default $\epsilon = 10^{-6}$, starts with steps of about
# $\sqrt{\epsilon}$ and has hardly moved in 60 steps: it needs many more steps on a problem this small. Network
# weights are not aligned with the eigen-directions of the Hessian either. Still, on the network of section 6,
# RMSProp and Adam beat plain SGD.

# %% [markdown]
# ### AdaGrad's step size decays to zero
# In the valley above the gradients vanish as the run converges, so AdaGrad's sum $s$ stops growing. On a network they
# do not vanish: a mini-batch gradient keeps its noise to the end (section 1). Here is the same rotated valley with
# noisy gradients, $g = \nabla f(w) + \sigma\xi$ with $\sigma = 0.1$ and $\xi$ standard normal: 16 runs side by side,
# each started at the minimum, for 2000 steps at the rates above. We record each coordinate's **effective learning
# rate** $\alpha/(\sqrt{s} + \epsilon)$.

# %%
NOISE, LONG_STEPS = 0.1, 2000


def effective_rates(cls, lr, state_key, runs=16, seed=5):
    """The effective rate lr / (sqrt(s) + eps) at every step, averaged over the runs: (LONG_STEPS, 2)."""
    w = torch.nn.Parameter(torch.zeros(runs, 2, dtype=torch.float64))          # at the minimum
    opt, gen, rates = cls([w], lr=lr), ctx.rng(seed), []
    for _ in range(LONG_STEPS):
        noise = torch.randn(runs, 2, generator=gen, dtype=torch.float64)
        w.grad = VALLEY.gradient(w.detach()) + NOISE * noise   # the gradient, and the noise of a mini-batch
        opt.step()
        rates.append((lr / (opt.state[w][state_key].sqrt() + opt.defaults["eps"])).mean(0))
    return torch.stack(rates), VALLEY(w.detach()).mean().item()


long_runs = {"AdaGrad": effective_rates(co.Adagrad, 1.0, "sum"),
             "RMSProp": effective_rates(co.RMSprop, 0.1, "square_avg")}
for name, (rates, loss) in long_runs.items():
    print(f"{name:>8s}: effective rate (w1, w2) at step 20: {rates[19, 0]:.3f}, {rates[19, 1]:.3f}; at step "
          f"{LONG_STEPS}: {rates[-1, 0]:.3f}, {rates[-1, 1]:.3f}; mean loss at the end {loss:.1e}")

# %% [markdown]
# ### The effective learning rate over 2000 noisy steps

# %% {"tags": ["plot"]}
steps_axis = torch.arange(1, LONG_STEPS + 1)
fig, ax = plt.subplots(figsize=(9, 4.6), layout="constrained")
for (name, (rates, _)), lw in zip(long_runs.items(), [4, 1.8]):   # AdaGrad thick below: they start equal
    for k, ls in ((0, "-"), (1, "--")):
        ax.plot(steps_axis, rates[:, k], ls, color=COLORS[name], lw=lw, label=f"{name}, $w_{k + 1}$")
ax.plot(steps_axis, 1.0 / (NOISE * steps_axis.double().sqrt()), "k:", label=r"$\alpha/(\sigma\sqrt{t})$")
ax.set(xscale="log", yscale="log", xlabel="step t", ylabel=r"effective rate $\alpha/(\sqrt{s}+\epsilon)$",
       title="Noisy gradients: AdaGrad's rate keeps falling, RMSProp's levels off")
ax.legend(ncol=2, fontsize=12)
show_as_jpeg(fig, LINES_JPEG_QUALITY)

# %% [markdown]
# ### Checking the claim: AdaGrad's rate falls like $1/\sqrt t$, RMSProp's does not
# From step 200 to step 2000, AdaGrad's effective rate should fall by nearly $\sqrt{10} \approx 3.2$ in both
# coordinates (asserted: by more than 2), RMSProp's by less than 1.3.

# %%
falls = {name: rates[199] / rates[-1] for name, (rates, _) in long_runs.items()}
for name, fall in falls.items():
    print(f"{name:>8s}: effective rate at step 200 / at step {LONG_STEPS}: w1 {fall[0]:.2f}, w2 {fall[1]:.2f}")
ctx.claim(falls["AdaGrad"].min().item(), ">", 2.0, "AdaGrad's effective rate should keep falling like 1/sqrt(t)")
ctx.claim(falls["RMSProp"].max().item(), "<", 1.3, "RMSProp's effective rate should level off")

# %% [markdown]
# With persistent gradients AdaGrad's $s$ grows about like $t\sigma^2$, so its rate falls like $\alpha/(\sigma\sqrt t)$,
# whatever the loss is doing. (A little less than $\sqrt{10}$ from step 200 to 2000, 2.4 to 2.9 here: part of each
# gradient comes from the spread of $w$ around the minimum, and that shrinks as the rate falls.) RMSProp's average forgets: its $s$ settles at the recent mean of $g^2$, and the rate stays.
# On this stationary problem AdaGrad's falling rate even averages out the noise (its final loss is lower), like a
# learning-rate schedule (notebook 11). But it is a schedule nobody chose that cannot be undone: on a network, whose
# loss landscape changes as it trains, AdaGrad can "stop too early" (the lecture).

# %% [markdown]
# ### Adam: momentum + RMSProp, with bias correction
# The lecture's last listing, in `course_lib.optim.Adam` (its state is `exp_avg` = $m$, `exp_avg_sq` = $v$,
# `step` = $t$):
#
# $$m \leftarrow \beta_1 m + (1-\beta_1)\, g,\quad v \leftarrow \beta_2 v + (1-\beta_2)\, g^2,\quad
# \hat m = \frac{m}{1-\beta_1^t},\quad \hat v = \frac{v}{1-\beta_2^t},\quad
# \theta \leftarrow \theta - \alpha\frac{\hat m}{\sqrt{\hat v}+\epsilon}.$$
#
# AdamW decouples the weight decay (notebook 02). What every optimizer shares (the loop over parameters, the gradient,
# the weight decay) is written once, in `step`; each class's `update` is its rule for one parameter:

# %% {"tags": ["listing"]}
show_source(co.Adam.update)

# %% [markdown]
# ### NAdam: Adam with Nesterov's look-ahead
# Adam's step $\hat m$ mixes the new gradient (weight $1-\beta_1$) with the old average (weight $\beta_1$). NAdam
# (Dozat 2016; lecture: "NADAM: RMSProp + NAG") takes the old average one step ahead, as Nesterov does: it weights it
# with *next* step's momentum. With a momentum $\mu_t = \beta_1(1 - \tfrac12\, 0.96^{\,t\psi})$ that warms up slowly
# ($\psi$ = `momentum_decay` = 0.004) and bias corrections by the products of the $\mu$'s:
#
# $$\theta \leftarrow \theta - \alpha\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g}{\sqrt{\hat v}+\epsilon}
# - \alpha\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m}{\sqrt{\hat v}+\epsilon} ,$$
#
# with $m$, $v$ and $\hat v$ as in Adam (`course_lib.optim.NAdam`, = `torch.optim.NAdam`).

# %% [markdown]
# ### The banana: Rosenbrock's function
# $(1 - w_1)^2 + 100\,(w_2 - w_1^2)^2$: a curved valley with steep walls, minimum at $(1, 1)$. 300 steps each, at
# learning rates picked by hand from a few trials. For Adam and NAdam, $\alpha = 0.2$ is far above the usual $10^{-3}$:
# in 2-D, with a valley a few units long, a step of $10^{-3}$ per coordinate would take thousands of steps.

# %%
BANANA = rosenbrock()
banana_runs = {"momentum": trajectory(BANANA, co.SGD, BANANA.start, 300, lr=1e-3, momentum=0.9),
               "Adam": trajectory(BANANA, co.Adam, BANANA.start, 300, lr=0.2),
               "NAdam": trajectory(BANANA, co.NAdam, BANANA.start, 300, lr=0.2),
               "RMSProp": trajectory(BANANA, co.RMSprop, BANANA.start, 300, lr=0.03)}  # drawn last: on top of Adam
for name, run in banana_runs.items():
    print(f"{name:>9s}: after 300 steps at ({run.path[-1, 0]:+.3f}, {run.path[-1, 1]:+.3f}), loss {run.losses[-1]:.4f}")

# %% [markdown]
# ### Momentum, Adam, NAdam and RMSProp on Rosenbrock's function

# %% {"tags": ["plot"]}
show_as_jpeg(plot_trajectories(BANANA, banana_runs, colors=COLORS, title="Rosenbrock, 300 steps").figure,
             JPEG_QUALITY)

# %% [markdown]
# All four first drop into the valley, then follow its curved floor. After 300 steps momentum and Adam are near
# $(1, 1)$ (losses 0.012 and 0.028), NAdam and RMSProp about half-way (0.46 and 0.55); NAdam's path jumps across the
# valley twice. One function and a few hand-picked rates rank nothing in general: on this one, momentum's velocity
# along the floor did best, and NAdam's look-ahead did not help Adam at Adam's rate.

# %% [markdown] {"slideshow": {"slide_type": "skip"}}
# ### The same runs, step by step
# An animation (in the notebook only, not on the slides): 10 frames over the 300 steps.

# %% {"tags": ["animation"], "slideshow": {"slide_type": "skip"}}
display(HTML(trajectory_animation_html(BANANA, banana_runs, frames=10, quality=50, title="Rosenbrock, 300 steps",
                                       colors=COLORS)))

# %% [markdown]
# ## 4. Saddle points and local minima
# Where the gradient is zero, gradient descent stops, whether it is a minimum or not. On the saddle
# $f(w) = w_1^2 - w_2^2$ the origin is a minimum along $w_1$ and a maximum along $w_2$. From a start just off the $w_1$
# axis, GD's update along $w_2$ is $w_2 \leftarrow (1 + 2\alpha)\, w_2$: the push away from the saddle grows from almost
# nothing, so GD slides in and lingers there. 60 steps of GD, momentum and Adam, all at $\alpha = 0.1$:

# %%
SADDLE = saddle()
saddle_runs = {"GD": trajectory(SADDLE, co.SGD, SADDLE.start, 60, lr=0.1),
               "momentum": trajectory(SADDLE, co.SGD, SADDLE.start, 60, lr=0.1, momentum=0.9),
               "Adam": trajectory(SADDLE, co.Adam, SADDLE.start, 60, lr=0.1)}


def escape_step(run, distance=1.0):
    """The first step at which |w2| > distance (inf if never)."""
    out = (run.path[:, 1].abs() > distance).nonzero()
    return int(out[0]) if len(out) else math.inf


# %% [markdown]
# ### GD, momentum and Adam at a saddle point

# %% {"tags": ["plot"]}
show_as_jpeg(plot_trajectories(SADDLE, saddle_runs, colors=COLORS,
                               title="A saddle point: 60 steps from (-1.8, 0.001)").figure, JPEG_QUALITY)

# %%
# NBVAL_CHECK_OUTPUT
w2 = saddle_runs["GD"].path[:, 1]
assert torch.allclose(w2, 1e-3 * 1.2 ** torch.arange(61, dtype=torch.float64), rtol=1e-12), "w2 grows as (1 + 2 lr)^t"
for name, run in saddle_runs.items():
    print(f"{name:>9s}: leaves the saddle (|w2| > 1) at step {escape_step(run)}")
assert escape_step(saddle_runs["Adam"]) < escape_step(saddle_runs["GD"]) / 3, "Adam should leave in under a third"
assert escape_step(saddle_runs["momentum"]) < 0.6 * escape_step(saddle_runs["GD"]), "momentum in about half the time"

# %% [markdown]
# GD needs $\ln(1000)/\ln 1.2 \approx 38$ steps to leave, and a start exactly on the axis would never leave. Momentum
# gathers speed along $w_2$ and leaves in half the time (and first overshoots the saddle along $w_1$). Adam divides each
# coordinate by the size of its own gradients, so the tiny $w_2$ gradient gets a full-size step, and Adam leaves in less
# than a third of GD's time. In high dimensions, points with zero gradient are mostly saddles, with directions of both
# kinds, rather than bad local minima (Dauphin et al., 2014).

# %% [markdown]
# ### Local minima: where you start decides where you end
# The six-hump camel has six minima of three different heights. GD ($\alpha = 0.02$, 300 steps) from four starts:

# %%
CAMEL = six_hump_camel()
camel_starts = [(-1.9, 1.1), (-0.3, 1.0), (1.2, -1.0), (2.0, 0.5)]
camel_runs = {f"start {i + 1}": trajectory(CAMEL, co.SGD, s, 300, lr=0.02) for i, s in enumerate(camel_starts)}

# %% [markdown]
# ### Six-hump camel: GD from four starts

# %% {"tags": ["plot"]}
show_as_jpeg(plot_trajectories(CAMEL, camel_runs, title="Six-hump camel: GD from four starts").figure, JPEG_QUALITY)


# %%
# NBVAL_CHECK_OUTPUT
ends = {}
for name, run in camel_runs.items():
    end = run.path[-1]
    nearest = (CAMEL.minima - end).norm(dim=1).argmin()
    ends[name] = CAMEL.min_values[nearest].item()
    print(f"{name}: ends at ({end[0]:+.3f}, {end[1]:+.3f}), the minimum with f = {ends[name]:+.4f}")
assert min(ends.values()) < -1.03 and max(ends.values()) > -0.3, "GD should stop in minima of different heights"

# %% [markdown]
# Every run stopped at a point with zero gradient, but only some at the lowest one: gradient descent is a local
# method. Momentum can roll through a shallow basin, and the noise of mini-batches can shake a run out of one; neither
# guarantees the global minimum. For large networks this matters less than one would fear: their local minima tend to
# have losses close to the global one (Choromanska et al., 2015).

# %% [markdown]
# ## 5. Why Adam corrects its bias
# The lecture's first Adam listing has no correction. $m$ and $v$ start at 0, so after the first step
# $m = (1-\beta_1)\, g$ and $v = (1-\beta_2)\, g^2$, and the uncorrected step is
#
# $$\alpha\,\frac{m}{\sqrt{v}} = \alpha\,\frac{1-\beta_1}{\sqrt{1-\beta_2}}\,\operatorname{sign}(g)
# \approx 3.16\,\alpha\,\operatorname{sign}(g) \quad (\beta_1 = 0.9,\ \beta_2 = 0.999),$$
#
# while the corrected one is $\alpha\,\operatorname{sign}(g)$. For a constant gradient the ratio at step $t$ is
# $(1-\beta_1^t)/\sqrt{1-\beta_2^t}$: it *grows* to about 6.5 around $t = 10$ and decays to 1 only over thousands of
# steps. `co.Adam(..., bias_correction=False)` (the course's switch) runs the uncorrected rule. Both from the same
# initial network, on the same batches, 200 steps at $\alpha = 10^{-2}$ (about the best rate for Adam here, section 6),
# recording the size of every update and the training loss at the end:

# %% {"tags": ["listing"]}
def adam_run(bias_correction, steps=200, seed=0, lr=1e-2, eps=1e-8):
    """Adam with or without the bias correction: the norm of every update of all the network's weights, the first
    gradient, and the training loss after the last step."""
    model = new_model(seed)
    opt = co.Adam(model.parameters(), lr=lr, eps=eps, bias_correction=bias_correction)
    gen, sizes, first_grad = ctx.rng(100 + seed), [], None
    for _ in range(steps):
        idx = torch.randint(0, N, (64,), generator=gen).to(ctx.device)
        before = [p.detach().clone() for p in model.parameters()]
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), Y[idx]).backward()
        if first_grad is None:
            first_grad = torch.cat([p.grad.flatten() for p in model.parameters()]).double()
        opt.step()
        sizes.append(torch.sqrt(sum(((p.detach() - b) ** 2).sum() for p, b in zip(model.parameters(), before))).item())
    return torch.tensor(sizes, dtype=torch.float64), first_grad, train_loss(model)


# %%
t = torch.arange(1, 201, dtype=torch.float64)
formula = (1 - 0.9**t) / torch.sqrt(1 - 0.999**t)
ratios, end_loss = {}, {}
for seed in SEEDS:
    (plain, g, end_plain), (corrected, _, end_corrected) = adam_run(False, seed=seed), adam_run(True, seed=seed)
    ratios[seed], end_loss[seed] = plain / corrected, (end_plain, end_corrected)
    g = g.abs()  # step 1, elementwise: α(1−β1)|g|/(√(1−β2)|g| + ε) without, α|g|/(|g| + ε) with the correction
    predicted = ((0.1 * g / (math.sqrt(0.001) * g + 1e-8)).norm() / (g / (g + 1e-8)).norm()).item()
    print(f"seed {seed}: update size without / with correction at t = 1: {ratios[seed][0]:.4f} (this gradient: "
          f"{predicted:.4f}, formula without ε: {formula[0]:.4f}); largest {ratios[seed].max():.2f}; "
          f"training loss after 200 steps: {end_plain:.3f} without, {end_corrected:.3f} with the correction")
    assert abs(ratios[seed][0] / predicted - 1) < 1e-4, "step 1 must follow the update rule exactly"

# %% [markdown]
# ### The size of the first updates

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(9, 4.6), layout="constrained")
ax.plot(t, formula, "k--", label=r"constant gradient: $(1-\beta_1^t)/\sqrt{1-\beta_2^t}$")
for seed, ls in zip(SEEDS, ["-", ":"]):
    ax.plot(t, ratios[seed], ls, color=COLORS["Adam"], lw=2, label=f"MLP, seed {seed}: measured")
ax.axhline(1, color="gray", lw=1)
ax.set(xlabel="step t", ylabel="uncorrected / corrected update size",
       title="Adam without bias correction takes too large first steps")
ax.legend()
show_as_jpeg(fig, LINES_JPEG_QUALITY)

# %% [markdown]
# ### Checking the claim: without the correction, training is slower at this rate
# Averaged over both seeds, the training loss after 200 steps without the correction is more than 0.2 above the loss
# with it.

# %%
gap = sum(plain - corrected for plain, corrected in end_loss.values()) / len(end_loss)
print(f"training loss after 200 steps, without - with the correction, mean over the seeds: {gap:.3f}")
ctx.claim(gap, ">", 0.2, f"without the bias correction Adam should train clearly slower at lr 1e-2 (by {gap:.3f})")

# %% [markdown]
# At step 1 the ratio is the formula's 3.16 within 0.5%: exactly what the rule predicts for this gradient once
# $\epsilon$ is counted ($\epsilon = 10^{-8}$ is not negligible next to $\sqrt{1-\beta_2}\,|g|$ for the weights with
# the tiniest gradients). After it, the two runs follow different paths and the gradients are no longer constant, so
# the measured ratio departs from the dashed line: the uncorrected updates are largest, about 5 times the corrected
# ones, within the first 10 steps, and close to them after about 100. Those first steps cost: at $\alpha = 10^{-2}$ the
# uncorrected runs end 200 steps with a training loss of about 1.4, against about 1.0 with the correction (the gap on
# the mean over the seeds ranged from 0.34 to 0.48 across CPU kernel sets and seed offsets). Too large first steps
# throw the network off exactly when it is most fragile. In trials at $3\times 10^{-2}$ the uncorrected
# rule did not train at all in 200 steps, while at $10^{-3}$, a rate too small for these 200 steps, its larger first
# steps even helped: the correction matters at the rate one would choose for Adam.

# %% [markdown]
# ## 6. The optimizers on a real network
# The MLP of section 1 on MNIST-1D, batch 64, for 6 epochs, with SGD, momentum ($\rho = 0.9$), Nesterov, RMSProp and Adam.
# A comparison at one shared learning rate would mostly compare learning rates, so each optimizer gets the best of three
# values (for momentum the grid is the same *effective* rates $\alpha/(1-\rho)$ as SGD's). Every rate runs on both seeds,
# and each is judged by its **final loss**: the training loss averaged over the last three logs (the last 50 steps, so
# that one bounce of an erratic run does not decide) and over the seeds. We also record the validation accuracy at the
# end, since the optimizer that fits the training set best need not generalize best.

# %%
EPOCHS = ctx.epochs(fast=6, full=10)
STEPS = EPOCHS * (N // 64)
GRID = {"SGD": (lambda lr: lambda p: co.SGD(p, lr=lr), [0.3, 1.0, 3.0]),
        "momentum": (lambda lr: lambda p: co.SGD(p, lr=lr, momentum=0.9), [0.03, 0.1, 0.3]),
        "Nesterov": (lambda lr: lambda p: co.SGD(p, lr=lr, momentum=0.9, nesterov=True), [0.03, 0.1, 0.3]),
        "RMSProp": (lambda lr: lambda p: co.RMSprop(p, lr=lr), [1e-3, 3e-3, 1e-2]),
        "Adam": (lambda lr: lambda p: co.Adam(p, lr=lr), [3e-3, 1e-2, 3e-2])}
grid_runs = {(name, lr, seed): train(make(lr), seed, batch_size=64, steps=STEPS, log_every=25)
             for name, (make, lrs) in GRID.items() for lr in lrs for seed in SEEDS}


def final_loss(name, lr):
    """The training loss over the last 3 logs (50 steps), averaged over the seeds; inf if a run diverged."""
    ends = [sum(grid_runs[name, lr, seed]["loss"][-3:]) / 3 for seed in SEEDS]
    return sum(ends) / len(ends) if all(math.isfinite(e) for e in ends) else math.inf


chosen = {name: min(lrs, key=lambda lr: final_loss(name, lr)) for name, (_, lrs) in GRID.items()}
net_runs = {(name, seed): grid_runs[name, lr, seed] for name, lr in chosen.items() for seed in SEEDS}
print(f"CPU time: {sum(r['cpu_s'] for r in grid_runs.values()):.1f} s for {len(grid_runs)} runs")
for name, (_, lrs) in GRID.items():
    losses = "  ".join(f"lr {lr:g}: {final_loss(name, lr):.3f}" for lr in lrs)
    print(f"{name:>9s} | final loss {losses} | chosen {chosen[name]:g}")

# %% [markdown]
# ### Learning curves at the chosen learning rates

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
for name in GRID:
    for seed, style in zip(SEEDS, ["-", "--"]):
        r = net_runs[name, seed]
        ax.plot([s / (N // 64) for s in r["step"]], r["loss"], style, color=COLORS[name],
                label=f"{name} (lr {chosen[name]:g})" if seed == 0 else None)
ax.plot([], [], "k-", label="seed 0")
ax.plot([], [], "k--", label="seed 1")
ax.set(xlabel="epoch", ylabel="training loss", title=f"MLP on {DATA}, batch 64, each optimizer at its chosen rate")
ax.legend(ncol=2, fontsize=12)
show_as_jpeg(fig, LINES_JPEG_QUALITY)

# %% [markdown]
# ### Checking the claims
# Each optimizer at its chosen rate, by the final loss (the last 50 steps, averaged over both seeds): Nesterov, RMSProp and
# Adam each end more than 0.05 below plain SGD.

# %%
final = {name: final_loss(name, lr) for name, lr in chosen.items()}
for name, lr in chosen.items():
    accs = [grid_runs[name, lr, seed]["val_acc"] for seed in SEEDS]
    print(f"{name:>9s} (lr {lr:g}): final training loss {final[name]:.3f}, validation accuracy "
          + ", ".join(f"{a:.3f}" for a in accs) + f" (seeds {SEEDS[0]}, {SEEDS[1]})")
for name in ["Nesterov", "RMSProp", "Adam"]:
    gain = final["SGD"] - final[name]
    ctx.claim(gain, ">", 0.05, f"{name} should end well below plain SGD, averaged over the seeds (by {gain:.3f})")

# %% [markdown]
# In the stored run every optimizer's best rate lies inside its grid: three times larger and its loss went up (SGD at 3
# stayed near chance, $\ln 10 \approx 2.30$). At its best rate plain SGD is erratic, close to the edge of stability.
# Nesterov, RMSProp and Adam ended 0.12 to 0.35 below it across the CPU kernel sets and seed offsets we tried.
#
# Momentum's best *effective* rate, $0.1/(1 - 0.9) = 1$, is the same as plain SGD's (section 2: on a steady slope
# the velocity is $1/(1-\rho)$ gradients). It usually ended lower too, but by as little as 0.05 on some seeds: at the
# same effective rate, heavy-ball momentum is close to plain SGD, and Nesterov's look-ahead made the difference here.
# Between Nesterov, RMSProp and Adam this run gives no reliable ranking beyond Adam usually ending lowest.
#
# The ranking is by training loss. The validation accuracies (printed above) follow it only roughly: in the stored run
# plain SGD is lowest, and among the others the differences are a few points, about as large as those between the two
# seeds. Wilson
# et al. (2017) found that adaptive methods (AdaGrad, RMSProp, Adam) can fit the training set as well or better and
# still generalize worse than well-tuned SGD with momentum ("Regularization and Optimization of DNNs": "a separate
# study shows that Momentum or Nesterov may be better").
# Which optimizer generalizes best is a question for the validation set, asked at each one's tuned rate.
# "If you have no idea: Adam" (the lecture) is a good default because it works at $10^{-3}$ to $10^{-2}$ on many
# problems, not because it wins every race.

# %% [markdown]
# ## 7. Every from-scratch optimizer follows `torch.optim`
# Each `course_lib.optim` class is a drop-in for its `torch.optim` namesake. From the same initial network, on the same 30
# batches, each pair must end with the same weights. The two compute the same formula with the operations in a different
# order, so their rounding differs; training can amplify such differences (centered RMSProp divides by
# $\sqrt{s - \bar g^2}$, which is tiny for a weight whose gradient hardly varies), so the comparison runs in float64, where
# they stay far below the tolerance. `SutskeverSGD` writes momentum with the velocity $v \leftarrow \rho v - \alpha g$,
# $\theta \leftarrow \theta + v$; with a constant $\alpha$ it must follow `torch.optim.SGD` too.

# %% {"tags": ["listing"]}
PAIRS = {
    "SGD": (co.SGD, torch.optim.SGD, dict(lr=0.1)),
    "SGD momentum, dampening, L2": (co.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    "SGD Nesterov": (co.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "SutskeverSGD momentum": (co.SutskeverSGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9)),
    "SutskeverSGD Nesterov": (co.SutskeverSGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
    "Adagrad": (co.Adagrad, torch.optim.Adagrad, dict(lr=0.05, lr_decay=1e-3)),
    "RMSprop": (co.RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
    "RMSprop centered, momentum": (co.RMSprop, torch.optim.RMSprop, dict(lr=1e-3, momentum=0.9, centered=True)),
    "Adadelta": (co.Adadelta, torch.optim.Adadelta, dict(lr=1.0)),
    "Adam": (co.Adam, torch.optim.Adam, dict(lr=1e-3)),
    "Adam amsgrad, L2": (co.Adam, torch.optim.Adam, dict(lr=1e-3, amsgrad=True, weight_decay=1e-2)),
    "AdamW": (co.AdamW, torch.optim.AdamW, dict(lr=1e-3)),
    "NAdam": (co.NAdam, torch.optim.NAdam, dict(lr=2e-3)),
}

# %% [markdown]
# ### Same weights after 30 steps

# %% {"tags": ["listing"]}
DTYPE = torch.float32 if ctx.device.type == "mps" else torch.float64  # Apple's MPS has no float64
X64 = X.to(DTYPE)
TOLERANCE = dict(rtol=1e-6, atol=1e-9) if DTYPE == torch.float64 else dict(rtol=1e-4, atol=1e-5)


def weights_after(optimizer, steps=30, seed=3):
    """All weights of the notebook's network (in DTYPE) after `steps` steps on the seed's batches."""
    model = new_model(seed).to(DTYPE)
    opt, gen = optimizer(model.parameters()), ctx.rng(100 + seed)
    for _ in range(steps):
        idx = torch.randint(0, N, (64,), generator=gen).to(ctx.device)
        opt.zero_grad()
        F.cross_entropy(model(X64[idx]), Y[idx]).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# %%
start = time.process_time()
initial = torch.cat([p.detach().flatten() for p in new_model(3).to(DTYPE).parameters()])
for name, (ours, theirs, kwargs) in PAIRS.items():
    mine, reference = (weights_after(lambda p: cls(p, **kwargs)) for cls in (ours, theirs))
    print(f"{name:>27s}: weights moved up to {(reference - initial).abs().max():.1e}, "
          f"max |ours - torch| = {(mine - reference).abs().max():.1e}")
    assert torch.allclose(mine, reference, **TOLERANCE), f"{name} must follow torch.optim"
print(f"CPU time: {time.process_time() - start:.1f} s")

# %% [markdown]
# ## Summary
# - **GD vs SGD.** A mini-batch gradient costs $B$ examples and carries noise that shrinks like $1/\sqrt{B}$. Here, per
#   example processed, batches of 32 went far lower than full-batch GD; over the first 50 steps at this rate GD was no
#   better per step, at 100 times the cost.
# - **Ill-conditioning.** GD is stable only for $\alpha < 2/\lambda_{\max}$, and then gains about $2/\kappa$ per step
#   along the flattest direction. In a valley with $\kappa = 100$, GD at its best rate needed about 300 steps, momentum
#   about 7 times fewer, and the speed-up grew like $\sqrt\kappa$ (0.6 to 0.8 $\sqrt\kappa$ for $\kappa$ = 10 to 300).
# - **The rules.** Momentum and Nesterov add a velocity (effective rate $\alpha/(1-\rho)$); AdaGrad, RMSProp and
#   AdaDelta scale each coordinate by its gradient history, which fixes an axis-aligned valley only; AdaGrad's rate
#   falls like $1/\sqrt t$ when the gradients persist. Adam does both, NAdam adds Nesterov's look-ahead. Adam's bias
#   correction keeps the first steps from being $3.16\times$ (later up to $6.5\times$) too large, and without it
#   training at $\alpha = 10^{-2}$ was clearly slower. All of them in `course_lib.optim` follow `torch.optim`.
# - **Zero gradients.** At a saddle point GD lingers (its escape grows only like $(1+2\alpha)^t$); at a local minimum it
#   stops, wherever its start put it.
# - **On a real network,** each at its chosen learning rate and averaged over two seeds, Nesterov, RMSProp and Adam
#   clearly beat plain SGD on the training loss; momentum at SGD's effective rate was only a little better; Nesterov,
#   RMSProp and Adam were not ranked reliably among themselves, and the validation accuracy is another race.

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 — the learning rates of a valley
# GD runs on $f(w) = \tfrac12 w^\top H w$ with Hessian eigenvalues $\lambda_{\min} = 0.04$ and $\lambda_{\max} = 4$. Give
# `(largest, best)`: the learning rate above which GD diverges, and the constant learning rate with the smallest worst-case
# contraction factor per step, $\max_\lambda |1 - \alpha\lambda|$ over the two eigenvalues (the fastest guaranteed
# convergence).

# %% {"tags": ["exercise"]}
answer_1 = None  # replace None with a pair of numbers (largest, best)

# %%
ex.check_valley_learning_rates(answer_1)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# A direction with curvature $\lambda$ is multiplied by $1 - \alpha\lambda$ per step, and all must shrink:
# $|1 - \alpha\lambda_{\max}| < 1$ gives $\alpha < 2/\lambda_{\max} = 0.5$. The worst factor $\max(|1-\alpha\lambda_{\min}|,
# |1 - \alpha\lambda_{\max}|)$ is smallest where the two are equal, $1 - \alpha\lambda_{\min} = \alpha\lambda_{\max} - 1$:
# $\alpha = 2/(\lambda_{\min}+\lambda_{\max}) \approx 0.495$, just under the limit, as in section 2. The factor is then
# $(\kappa-1)/(\kappa+1) = 99/101$ per step: slow.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
lam_small, lam_big = 0.04, 4.0
solution_1 = (2 / lam_big, 2 / (lam_small + lam_big))
assert ex.check_valley_learning_rates(solution_1)

# %% [markdown]
# ### Exercise 2 — write Adam's update
# Write `adam_step(theta, grad, state, lr, betas, eps)`: one step of Adam **with bias correction** for one tensor of
# parameters. `theta` and `grad` are tensors of the same shape; `state` is a dict, empty before the first step, in which you
# keep what you need between steps (the moments and the step count); `betas = (beta1, beta2)`. Return the new `theta`
# (a new tensor, or `theta` updated in place). The check runs your function for several steps against `torch.optim.Adam`
# on the same gradients, with hyperparameters other than the defaults, and says what differs.

# %% {"tags": ["exercise"]}
def adam_step(theta, grad, state, lr, betas, eps):
    raise NotImplementedError  # your code here


# %%
ex.check_adam_step(adam_step)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Keep `m`, `v` (zeros like `theta`) and the step count `t` in the state. Each call: `t` += 1 *first* (so the first step has
# $t = 1$); update $m$ with $g$ and $v$ with $g^2$; divide them by $1 - \beta_1^t$ and $1 - \beta_2^t$; step by
# $\alpha\,\hat m/(\sqrt{\hat v} + \epsilon)$, with $\epsilon$ outside the square root, as `torch.optim.Adam`.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_adam_step(theta, grad, state, lr, betas, eps):
    beta1, beta2 = betas
    if not state:
        state.update(m=torch.zeros_like(theta), v=torch.zeros_like(theta), t=0)
    state["t"] += 1
    state["m"] = beta1 * state["m"] + (1 - beta1) * grad
    state["v"] = beta2 * state["v"] + (1 - beta2) * grad**2
    m_hat = state["m"] / (1 - beta1 ** state["t"])
    v_hat = state["v"] / (1 - beta2 ** state["t"])
    return theta - lr * m_hat / (v_hat.sqrt() + eps)


assert ex.check_adam_step(solution_adam_step)

# %% [markdown]
# ### Exercise 3 — write momentum's update
# Write `momentum_step(theta, grad, state, lr, momentum, dampening)`: one step of SGD with momentum in PyTorch's form
# (section 2), with dampening $\tau$: the velocity $v \leftarrow \rho v + (1-\tau)\,g$, then
# $\theta \leftarrow \theta - \alpha v$. `state` is a dict, empty before the first step, in which you keep the velocity.
# Return the new `theta`. The check runs your function for several steps against `torch.optim.SGD` on the same
# gradients, with `momentum` and `dampening` other than the defaults, and says what differs.

# %% {"tags": ["exercise"]}
def momentum_step(theta, grad, state, lr, momentum, dampening):
    raise NotImplementedError  # your code here


# %%
ex.check_momentum_step(momentum_step)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# On the first step there is no velocity yet, and `torch.optim.SGD` sets $v = g$ (a copy, without the dampening
# factor); from then on $v \leftarrow \rho v + (1-\tau)\,g$. Update $v$ *before* the step, and step against it:
# $\theta \leftarrow \theta - \alpha v$. With $\tau = \rho$ the velocity is an average of the gradients (the sum form at
# rate $\alpha(1-\rho)$, section 2).
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_momentum_step(theta, grad, state, lr, momentum, dampening):
    if "v" not in state:
        state["v"] = grad.clone()                                  # first step: v = g
    else:
        state["v"] = momentum * state["v"] + (1 - dampening) * grad
    return theta - lr * state["v"]


assert ex.check_momentum_step(solution_momentum_step)

# %% [markdown]
# ### Exercise 4 — write RMSProp's update
# Write `rmsprop_step(theta, grad, state, lr, alpha, eps)`: one step of RMSProp as `torch.optim.RMSprop` takes it
# (no momentum, not centered; section 3's table, with PyTorch's name `alpha` for the decay rate $\beta$). Keep the
# running average of the squared gradients in `state` (empty before the first step) and return the new `theta`. The
# check runs several steps against `torch.optim.RMSprop` with hyperparameters other than the defaults.

# %% {"tags": ["exercise"]}
def rmsprop_step(theta, grad, state, lr, alpha, eps):
    raise NotImplementedError  # your code here


# %%
ex.check_rmsprop_step(rmsprop_step)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# $s$ starts at 0. Each call: update it first, $s \leftarrow \alpha s + (1-\alpha)\,g^2$ (alpha weighs the *old*
# average), then step by $\alpha_{\rm lr}\, g / (\sqrt{s} + \epsilon)$, with $\epsilon$ outside the square root. There is
# no bias correction: the first step is $\alpha_{\rm lr}/\sqrt{1-\alpha}$ per coordinate, the start-up bias of
# section 3.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_rmsprop_step(theta, grad, state, lr, alpha, eps):
    if "s" not in state:
        state["s"] = torch.zeros_like(theta)
    state["s"] = alpha * state["s"] + (1 - alpha) * grad**2
    return theta - lr * grad / (state["s"].sqrt() + eps)


assert ex.check_rmsprop_step(solution_rmsprop_step)
