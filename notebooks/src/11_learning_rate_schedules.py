# %% [markdown]
# # 11 · Learning-rate schedules and gradient clipping
#
# **Learning objectives.** After this notebook you can
# 1. **write** the common schedules as formulas (step, piecewise constant, exponential, 1/t, cosine, warm restarts,
#    cyclic) and **use** them as `torch.optim.lr_scheduler` objects, stepped per epoch or per batch;
# 2. **compare** a constant learning rate with decaying and cyclic schedules on a real network;
# 3. **use** performance scheduling (`ReduceLROnPlateau`) and say exactly when it cuts the rate;
# 4. **find** a learning rate with the range test, and **recognise** a rate that is too small or too large;
# 5. **stop** an exploding run with gradient clipping, and **monitor** the update/weight ratio $\|\Delta w\|/\|w\|$.
#
# *Lecture:* "Regularization and Optimization of DNNs" (the learning rate too high or too low, piecewise constant and
# exponential scheduling, `StepLR`, performance scheduling with `ReduceLROnPlateau`, gradient clipping); "Regularization"
# (Computer Vision: step, exponential and 1/t decay; snapshot ensembles with cyclic schedules); "How to Train ConvNets"
# (find the learning rate: too low, the loss does not go down; too high, it explodes).
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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST, a wider network and longer runs
# (see the README).

# %%
import math
import time
import warnings

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.optim import lr_scheduler as T

from course_lib import evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.exercises import ex11 as ex
from course_lib.gradients import clip_grad_norm_
from course_lib.schedules import (CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialDecayLR,
                                  InverseTimeLR, MultiStepLR, ReduceLROnPlateau, SchedulerCallback, StepLR, lr_curve,
                                  lr_range_test)
from course_lib.training import Callback, DivergenceWarning

ctx = setup_notebook(seed=0)
SEEDS = [0, 1]
DATASET = ctx.pick(fast="mnist1d", full="mnist")
HIDDEN = ctx.pick(fast=[128, 128], full=[256, 256])
BATCH, MOMENTUM = 128, 0.9
LR = ctx.pick(fast=0.3, full=0.1)                # high on purpose: a constant rate this large keeps bouncing
EPOCHS = ctx.epochs(fast=20, full=30)
data = {seed: load_dataset(DATASET, seed=seed, device=ctx.device) for seed in SEEDS}
N_IN, STEPS_PER_EPOCH = data[0].train.x[0].numel(), math.ceil(len(data[0].train.y) / BATCH)
print(data[0], f"| {STEPS_PER_EPOCH} steps an epoch")

# %% [markdown]
# ## 1. Why change the learning rate while training?
# The learning rate $\eta$ has to be chosen with care: too high and the loss never settles (or explodes), too low and
# training takes forever. A good rate early in training is not a good rate late in training: far from a minimum, large
# steps make fast progress; close to it, the noise of mini-batch gradients makes a large step bounce around the minimum
# instead of settling in. So we **start high and decay**: $\eta$ becomes a function $\eta_t$ of the epoch (or step) $t$.
#
# | schedule | $\eta_t$ | PyTorch |
# | --- | --- | --- |
# | step decay | $\eta_0\,\gamma^{\lfloor t/s\rfloor}$ | `StepLR(opt, step_size=s, gamma)` |
# | piecewise constant | $\eta_0\,\gamma^{\#\{m_i \le t\}}$ | `MultiStepLR(opt, milestones, gamma)` |
# | exponential | $\eta_0\,\gamma^{t}$ or $\eta_0\,\gamma^{t/N}$ | `ExponentialLR(opt, gamma)` |
# | 1/t | $\eta_0 / (1 + k t)$ | `LambdaLR(opt, lambda t: 1 / (1 + k * t))` |
# | cosine | $\eta_{\min} + \tfrac12(\eta_0-\eta_{\min})(1+\cos(\pi t/T))$ | `CosineAnnealingLR(opt, T_max=T)` |
# | warm restarts (SGDR) | the cosine, restarted after $T_0, T_0 T_{\text{mult}}, \dots$ epochs | `CosineAnnealingWarmRestarts` |
# | cyclic | a triangle between $\eta_{\text{base}}$ and $\eta_{\max}$, per batch | `CyclicLR(opt, base_lr, max_lr)` |
# | on plateau | $\eta \leftarrow \text{factor}\cdot\eta$ when the validation loss stalls | `ReduceLROnPlateau(opt)` |
#
# The deck writes the exponential schedule as $\eta(n) = \eta_0/\gamma^{n/N}$ with $\gamma = 10$ ("a tenth every $N$
# epochs"); PyTorch *multiplies* by its `gamma`, so the deck's $\gamma$ is PyTorch's `1 / gamma` (exercise 1).

# %% [markdown]
# ### The code: each schedule is its formula
# `course_lib.schedules` has a drop-in for each `torch.optim.lr_scheduler` class, plus the two the deck names that PyTorch
# lacks (`InverseTimeLR` for 1/t, `ExponentialDecayLR` for $\eta_0\gamma^{t/N}$). Each subclasses PyTorch's
# `LRScheduler`, which counts the calls to `step()` in `last_epoch` ($t$) and keeps each group's $\eta_0$ in `base_lrs`;
# the subclass only says what the rate at $t$ is, in `get_lr()`:

# %% {"tags": ["listing"]}
show_source(InverseTimeLR)
show_source(CosineAnnealingLR)

# %% [markdown]
# ## 2. Every schedule, over the epochs
# ### Decaying schedules
# All start from $\eta_0 = 0.1$. The deck's piecewise-constant example (0.1, then $10^{-4}$ from epoch 50) is
# `MultiStepLR(milestones=[50], gamma=0.001)`; its `StepLR` example divides by ten every 30 epochs.

# %% {"tags": ["plot"]}
LR0, HORIZON = 0.1, 100
DECAYS = {  # name: (ours, PyTorch's)
    "step: StepLR(30, 0.1)": (lambda o: StepLR(o, 30, 0.1), lambda o: T.StepLR(o, 30, 0.1)),
    "piecewise: MultiStepLR([50], 0.001)": (lambda o: MultiStepLR(o, [50], 0.001),
                                            lambda o: T.MultiStepLR(o, [50], 0.001)),
    "exponential: ÷10 every 40": (lambda o: ExponentialDecayLR(o, 0.1, step_size=40),
                                  lambda o: T.ExponentialLR(o, 0.1 ** (1 / 40))),
    "1/t: k = 0.1": (lambda o: InverseTimeLR(o, k=0.1), lambda o: T.LambdaLR(o, lambda t: 1 / (1 + 0.1 * t))),
    "cosine: T_max = 100": (lambda o: CosineAnnealingLR(o, T_max=100), lambda o: T.CosineAnnealingLR(o, T_max=100)),
}
fig, axes = plt.subplots(1, 2, figsize=(13, 5.6), layout="constrained")
for i, (name, (ours, _)) in enumerate(DECAYS.items()):
    curve = lr_curve(ours, HORIZON, lr=LR0)
    for ax in axes:
        ax.plot(range(HORIZON + 1), curve, color=f"C{i}", label=name, drawstyle="steps-post")
axes[0].set(xlabel="epoch", ylabel="learning rate", title="Decay schedules (linear axis)")
axes[1].set(xlabel="epoch", ylabel="learning rate (log scale)", yscale="log", title="The same, log axis")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
plt.show()

# %% [markdown]
# On the log axis the exponential schedule is a straight line and step decay its staircase; 1/t falls fast at first and
# then ever more slowly (after 100 epochs it is still $\eta_0/11$); the cosine stays near $\eta_0$ for a long time, then
# drops to 0 at $T_{\max}$.

# %% [markdown]
# ### Periodic schedules: warm restarts and cyclic rates
# Warm restarts (SGDR, Loshchilov & Hutter) run the cosine down and jump back to $\eta_0$; each restart lasts
# $T_{\text{mult}}$ times longer. A cyclic schedule (Smith) goes up and down linearly, usually once per *batch*.
# The "Regularization" deck takes a snapshot of the weights at the bottom of each cycle: an ensemble for the price of one
# run (notebook 14).

# %% {"tags": ["plot"]}
PERIODIC = {
    "warm restarts: T_0 = 10, T_mult = 2": (lambda o: CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
                                            lambda o: T.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2)),
    "cyclic: triangular, 10 up / 10 down": (
        lambda o: CyclicLR(o, base_lr=0.01, max_lr=LR0, step_size_up=10, cycle_momentum=False),
        lambda o: T.CyclicLR(o, base_lr=0.01, max_lr=LR0, step_size_up=10, cycle_momentum=False)),
    "cyclic: triangular2 (height halves)": (
        lambda o: CyclicLR(o, base_lr=0.01, max_lr=LR0, step_size_up=10, mode="triangular2", cycle_momentum=False),
        lambda o: T.CyclicLR(o, base_lr=0.01, max_lr=LR0, step_size_up=10, mode="triangular2", cycle_momentum=False)),
}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.3), sharey=True)
for i, (name, (ours, _)) in enumerate(PERIODIC.items()):
    ax = axes[0] if i == 0 else axes[1]
    ax.plot(range(71), lr_curve(ours, 70, lr=LR0), color=f"C{i + 5}", label=name.split(": ")[1])
axes[0].set(xlabel="epoch", ylabel="learning rate", title="Warm restarts (per epoch)", ylim=(0, 0.15))
axes[1].set(xlabel="step (batch)", title="Cyclic, base 0.01, max 0.1 (per batch)")
for ax in axes:
    ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# ### Checking: each schedule gives PyTorch's rates
# `lr_curve(make_scheduler, steps)` steps a schedule on a throw-away optimizer and returns its rates. PyTorch computes
# most rates recursively ($\eta_t = \gamma\,\eta_{t-1}$, ...), ours in closed form, so they agree to float rounding.
# The two schedules PyTorch lacks are compared with `LambdaLR` and `ExponentialLR`, which give the same curves.

# %%
# NBVAL_CHECK_OUTPUT
for name, (ours, theirs) in {**DECAYS, **PERIODIC}.items():
    a, b = lr_curve(ours, 200, lr=LR0), lr_curve(theirs, 200, lr=LR0)
    gap = ((a - b).abs().max() / LR0).item()
    print(f"{name:<38} 200 steps: same rates as PyTorch's (largest difference below 1e-12 × η₀: {gap < 1e-12})")
    assert gap < 1e-12, name

# %% [markdown]
# ### In the training loop
# Step an epoch-wise scheduler once per epoch, **after** the optimizer's steps (PyTorch warns if the order is reversed);
# a per-batch one (cyclic) after every `optimizer.step()`. With `fit`, `SchedulerCallback(scheduler, interval="epoch" or
# "step")` does it:
#
# ```python
# opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
# scheduler = StepLR(opt, step_size=7, gamma=0.1)              # or torch.optim.lr_scheduler.StepLR
# for epoch in range(epochs):
#     train_epoch(model, batches, loss_fn, opt)
#     scheduler.step()
# # the same with fit:
# fit(model, train, val, optimizer=opt, callbacks=[SchedulerCallback(scheduler)])
# ```

# %% [markdown]
# ## 3. A real run: constant rate vs four schedules
# An MLP (two hidden layers of 128 ReLUs) on MNIST-1D, SGD with momentum 0.9, batches of 128, 20 epochs, all arms starting
# from the same high rate $\eta_0 = 0.3$ and the same initial weights:
#
# - **constant**: $\eta = 0.3$ throughout;
# - **step**: ÷10 after half and after three quarters of the budget, epochs 10 and 15 (`MultiStepLR(milestones=[10, 15])`,
#   the classic piecewise-constant recipe);
# - **cosine**: to 0 over the 20 epochs (`CosineAnnealingLR(T_max=EPOCHS)`);
# - **1/t**: $0.3/(1 + 0.3\,t)$ (`InverseTimeLR(k=0.3)`), down to $\eta_0/7$;
# - **cyclic**: triangles between 0.03 and 0.3, three cycles, stepped per batch, ending at the bottom.
#
# A schedule has to beat a *fair* constant rate, not only the one that is too high: we also train at constant
# $\eta_0/3 = 0.1$ and $\eta_0/10 = 0.03$ and take the best of the three as the **tuned constant rate**. And a constant
# rate's validation accuracy bounces from epoch to epoch, so we judge it by its mean over the last 5 epochs (its typical
# level, not one lucky or unlucky epoch), and every comparison by its mean over the seeds.

# %%
MILESTONES = sorted({max(1, EPOCHS // 2), max(1, 3 * EPOCHS // 4)})   # [10, 15] for 20 epochs
ARMS = {
    "constant": None,
    "step": lambda o: SchedulerCallback(MultiStepLR(o, milestones=MILESTONES, gamma=0.1)),
    "cosine": lambda o: SchedulerCallback(CosineAnnealingLR(o, T_max=EPOCHS)),
    "1/t": lambda o: SchedulerCallback(InverseTimeLR(o, k=0.3)),
    "cyclic": lambda o: SchedulerCallback(CyclicLR(o, base_lr=LR / 10, max_lr=LR, cycle_momentum=False,
                                                   step_size_up=max(1, STEPS_PER_EPOCH * EPOCHS // 6)),
                                          interval="step"),
}
CONSTANTS = {"constant": LR, "constant ÷3": LR / 3, "constant ÷10": LR / 10}   # the grid for the tuned constant
COLORS = {"constant": "C7", "step": "C0", "cosine": "C2", "1/t": "C1",
          "cyclic": "C4"}

# %% [markdown]
# ### The runs
# One helper trains the MLP from the seed's initial weights; a schedule is a function optimizer → callback.

# %%

def train(seed, lr, schedule=None, epochs=EPOCHS, callbacks=(), may_diverge=False):
    """The MLP with the seed's initial weights, trained with SGD + momentum at `lr`; returns (model, history)."""
    model = mlp(N_IN, HIDDEN, 10, generator=ctx.rng(seed)).to(ctx.device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    callbacks = [*callbacks, *([schedule(opt)] if schedule else [])]
    with warnings.catch_warnings():
        if may_diverge:
            warnings.simplefilter("ignore", DivergenceWarning)
        hist = fit(model, data[seed].train, data[seed].val, epochs=epochs, optimizer=opt, batch_size=BATCH,
                   callbacks=callbacks, seed=seed)
    return model, hist


CPU = {}                                         # CPU seconds of each experiment
start = time.process_time()
runs = {(name, seed): train(seed, LR, arm) for seed in SEEDS for name, arm in ARMS.items()}
runs.update({(name, seed): train(seed, lr) for seed in SEEDS for name, lr in CONSTANTS.items() if name != "constant"})
CPU["schedules"] = time.process_time() - start
print(f"{len(runs)} runs, {CPU['schedules']:.1f} s of CPU time")

# %% [markdown]
# ### Learning curves, seed 0
# Left, the rate each arm used (per batch for the cyclic one); middle and right, the training loss and the validation
# accuracy after each epoch.

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
for name, arm in ARMS.items():
    hist = runs[(name, 0)][1]
    steps = EPOCHS * STEPS_PER_EPOCH if name == "cyclic" else EPOCHS
    rates = lr_curve(lambda o: arm(o).scheduler, steps, lr=LR) if arm else torch.full((EPOCHS + 1,), LR)
    x = torch.arange(steps + 1) / (STEPS_PER_EPOCH if name == "cyclic" else 1)
    axes[0].plot(x[:-1], rates[:-1], color=COLORS[name], label=name, drawstyle="steps-post")
    axes[1].plot(hist.epoch, hist.train_loss, color=COLORS[name], label=name)
    axes[2].plot(hist.epoch, hist.val_acc, color=COLORS[name], label=name)
axes[0].set(xlabel="epoch", ylabel="learning rate", yscale="log", title="The schedules")
axes[1].set(xlabel="epoch", ylabel="training loss", yscale="log", title="Training loss")
axes[2].set(xlabel="epoch", ylabel="validation accuracy", title="Validation accuracy")
axes[0].legend(loc="lower left")
plt.show()

# %% [markdown]
# ### The numbers on both seeds
# Final training loss, validation loss and accuracy after the last epoch, the mean validation accuracy over the last 5
# epochs, the best along the way, and test accuracy of the final weights. The two extra constant rates are the grid for
# the tuned constant.

# %%
LAST = 5                                          # a constant rate is judged by its mean over the last 5 epochs
results = {}
for (name, seed), (model, hist) in runs.items():
    results[(name, seed)] = dict(train=hist.train_loss[-1], val_loss=hist.val_loss[-1], val=hist.val_acc[-1],
                                 last=sum(hist.val_acc[-LAST:]) / LAST, best=max(hist.val_acc),
                                 last_loss=sum(hist.val_loss[-LAST:]) / LAST,
                                 test=evaluate(model, data[seed].test)["acc"])
print(f"seed  arm           train loss  val loss  val acc  last {LAST}  (best)  test acc")
for (name, seed), r in results.items():
    print(f"{seed:>4}  {name:<12} {r['train']:>10.3f} {r['val_loss']:>9.3f} {r['val']:>8.3f} {r['last']:>7.3f}"
          f"  ({r['best']:.3f}) {r['test']:>8.3f}")

# %% [markdown]
# ### Checking the claims, averaged over the seeds
# A single last epoch of a bouncing run lands anywhere in a band of several points, so the claims compare means over the
# seeds, against the fair baseline. Step decay and cosine annealing, both ending at small rates, end more than 0.02 above
# the *tuned* constant rate (its last-5-epoch mean). And every schedule fits the training set far better than the
# constant $\eta_0$ it starts from: its final training loss is less than 1/1.6 of the constant rate's, the cosine's less
# than a fifth.

# %%
def seed_mean(name, key):
    return sum(results[(name, seed)][key] for seed in SEEDS) / len(SEEDS)


TUNED = max(CONSTANTS, key=lambda name: seed_mean(name, "last"))
print(f"tuned constant rate: {TUNED} (η = {CONSTANTS[TUNED]:g}), its mean validation accuracy over the last {LAST} "
      f"epochs and the seeds {seed_mean(TUNED, 'last'):.3f}")
for name in ("step", "cosine"):
    gain = seed_mean(name, "val") - seed_mean(TUNED, "last")
    ctx.claim(gain, ">", 0.02, f"{name} should end above the tuned constant rate ({TUNED}), averaged over the seeds "
                               f"(gain {gain:+.3f})")
for name, factor in (("step", 1.6), ("cosine", 5), ("1/t", 1.6), ("cyclic", 1.6)):
    ratio = seed_mean("constant", "train") / seed_mean(name, "train")
    ctx.claim(ratio, ">", factor, f"{name} should end with a far lower training loss than the constant η₀, averaged "
                                  f"over the seeds (ratio {ratio:.1f})")

# %% [markdown]
# At $\eta = 0.3$ the constant rate makes quick progress and then bounces: its training loss stalls and its validation
# accuracy jumps from epoch to epoch. A third of that rate is the best constant of the three here, yet it still bounces.
# Step decay and the cosine spend their last epochs at small rates, settle, and end above even the tuned constant rate:
# by 0.035 to 0.07 (averaged over the seeds) across the seeds and CPU kernel sets we tried. 1/t and the cyclic rate fit
# the training set better than the constant $\eta_0$ too, but their validation accuracy is not reliably above the tuned
# constant's: 1/t with $k = 0.3$ still ends at $\eta_0/7$, and the cyclic rate passes through high rates until its last
# epochs. Look at the "(best)" column too: the constant rates *passed through* weights about as good as some schedules'
# final ones; they just did not stay there. The ranking among the schedules depends on the budget and on $\eta_0$; we
# measured one network, one $\eta_0$ and 20 epochs.

# %% [markdown]
# ## 4. Performance scheduling: `ReduceLROnPlateau`
# Instead of fixing the epochs of the cuts in advance, watch the validation loss: after more than `patience` epochs in a
# row without improvement on the best value so far, multiply the rate by `factor`. We train at the constant
# $\eta_0 = 0.3$ of section 3 with `ReduceLROnPlateau(opt, factor=0.1, patience=3)` (`SchedulerCallback` passes it the
# validation loss after each epoch).

# %%
PATIENCE = 3
start = time.process_time()
plateau = {seed: train(seed, LR, lambda o: SchedulerCallback(ReduceLROnPlateau(o, factor=0.1, patience=PATIENCE)))[1]
           for seed in SEEDS}
CPU["plateau"] = time.process_time() - start


def cut_epochs(hist):
    """The epochs (1-based) at whose end the rate was cut: history.lr holds the rate each epoch trained with."""
    return [e for e, (a, b) in enumerate(zip(hist.lr, hist.lr[1:]), start=1) if b < a]


for seed, hist in plateau.items():
    print(f"seed {seed}: rate cut after epochs {cut_epochs(hist)}; final rate {hist.lr[-1]:g}; final val loss "
          f"{hist.val_loss[-1]:.3f} (constant rate: {results[('constant', seed)]['val_loss']:.3f})")

# %% [markdown]
# ### The rate drops when the validation loss stalls

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(14, 4.6), layout="constrained")
for ax, (seed, hist) in zip(axes, plateau.items()):
    ax.plot(hist.epoch, hist.val_loss, "o-", color="C3", label="validation loss")
    best_so_far = [min(hist.val_loss[:i + 1]) for i in range(len(hist))]
    ax.plot(hist.epoch, best_so_far, ":", color="C3", label="best so far")
    for e in cut_epochs(hist):
        ax.axvline(e + 0.5, color="k", ls="--", lw=1.5)
    ax.set(xlabel="epoch", ylabel="validation loss", title=f"Seed {seed} (dashed: the rate is cut)")
    twin = ax.twinx()
    twin.step(hist.epoch, hist.lr, where="mid", color="C0", label="learning rate")
    twin.set(yscale="log", ylabel="learning rate")
    twin.grid(False)
fig.legend(handles=ax.get_lines()[:2] + twin.get_lines(), loc="outside lower center", ncol=3)
plt.show()

# %% [markdown]
# ### Checking: when the cut comes, and what it buys
# The rule is exact, so we check it with `assert`: every cut comes after exactly `patience + 1` = 4 epochs in a row that
# did not improve on the best loss so far (by the default relative threshold $10^{-4}$), counting from the last
# improvement or the last cut. What it buys depends on the run, so the claims are: on each seed the rate was cut at least
# once, and, averaged over the seeds, the final validation loss is more than 0.15 below the constant rate's (section 3;
# its mean over the last 5 epochs, since it bounces).

# %%
for seed, hist in plateau.items():
    best, improved = math.inf, []                 # improved[i]: epoch i + 1 beat the best before it
    for v in hist.val_loss:
        improved.append(v < best * (1 - 1e-4))
        best = v if improved[-1] else best
    cuts = cut_epochs(hist)
    for e in cuts:              # epochs e - PATIENCE .. e did not improve; the one before did (or was a cut)
        assert not any(improved[e - PATIENCE - 1:e]) and (improved[e - PATIENCE - 2] or e - PATIENCE - 1 in cuts)
    ctx.claim(len(cuts), ">", 0.5, f"seed {seed}: the validation loss should stall and the rate be cut "
                                   f"({len(cuts)} cuts)", scale=1)
    if cuts:
        before, after = min(hist.val_loss[:cuts[0]]), min(hist.val_loss[cuts[0]:], default=math.inf)
        print(f"seed {seed}: first cut after epoch {cuts[0]}; best val loss before it {before:.3f}, "
              f"after it {after:.3f}")
drop = sum(results[("constant", seed)]["last_loss"] - hist.val_loss[-1] for seed, hist in plateau.items()) / len(SEEDS)
ctx.claim(drop, ">", 0.15, f"the final validation loss should be well below the constant rate's, averaged over the "
                           f"seeds (by {drop:.3f})")

# %% [markdown]
# At 0.3 the validation loss bounced around a plateau; four epochs without a new best triggered the cut to 0.03. On most
# seeds we tried, the epochs after the cut beat the old best by about 0.1; on a few the plateau's best was a lucky epoch
# and the cut only held the loss near it. Later the validation loss often crept up again and the rate was cut once more.
# Averaged over the two seeds, the final validation loss ended 0.26 to 0.44 below the constant rate's (across the seeds
# and CPU kernel sets we tried): the cut stops the bouncing.

# %% [markdown]
# ## 5. Choosing the rate: the range test
# "How to Train ConvNets": start with a small rate and find the one that makes an observable change; too low and the loss
# does not go down, too high and it explodes. The **range test** (Smith; fast.ai's `lr_find`) does this in one short run:
# train for 100 mini-batches while the rate grows exponentially from $10^{-4}$ to 10, record the (smoothed) loss, and stop
# when it explodes. The suggestion is the rate where the loss falls fastest. Weights and optimizer are restored afterwards.

# %% {"tags": ["listing"]}
show_source(lr_range_test)

# %%
start = time.process_time()
sgd = lambda params: torch.optim.SGD(params, lr=1e-4, momentum=MOMENTUM)  # noqa: E731 (the rate is overwritten)
ranges = {seed: lr_range_test(mlp(N_IN, HIDDEN, 10, generator=ctx.rng(seed)).to(ctx.device), data[seed].train,
                              optimizer=sgd, lr_min=1e-4, lr_max=10, steps=100, batch_size=BATCH,
                              generator=ctx.rng(seed))
          for seed in SEEDS}
for seed, r in ranges.items():
    print(f"seed {seed}: suggestion {r.suggestion:.3g}, lowest loss at {r.min_loss_lr:.3g}, "
          f"explodes at {r.exploded_at if r.exploded_at is None else format(r.exploded_at, '.3g')}")

# %% [markdown]
# ### The range test, seed 0

# %% {"tags": ["plot"]}
ax = ranges[0].plot(title="Range test: MLP on MNIST-1D, SGD + momentum")
ax.figure.set_size_inches(9, 4.6)
plt.show()

# %% [markdown]
# ### Does the suggested rate train well?
# Eight epochs at a constant rate, three rates per seed: the suggestion, 1/100 of it, and the rate at which the test saw
# the loss explode (its largest rate if it did not).

# %%
RATES = {"suggested": lambda r: r.suggestion, "too small (÷100)": lambda r: r.suggestion / 100,
         "too large (explosion)": lambda r: r.exploded_at or r.lrs[-1]}
RATE_COLORS = {"suggested": "C2", "too small (÷100)": "C0", "too large (explosion)": "C3"}
lr_runs = {(name, seed): train(seed, pick(ranges[seed]), epochs=ctx.epochs(fast=8, full=3), may_diverge=True)[1]
           for seed in SEEDS for name, pick in RATES.items()}
CPU["range test"] = time.process_time() - start
for (name, seed), hist in lr_runs.items():
    final = "diverged" if hist.diverged else f"train loss {hist.train_loss[-1]:.3f}, val acc {hist.val_acc[-1]:.3f}"
    print(f"seed {seed} {name:<22} lr {RATES[name](ranges[seed]):<8.3g} {final}")

# %% [markdown]
# ### Training loss at the three rates, seed 0

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(9, 4.5))
for name in RATES:
    hist = lr_runs[(name, 0)]
    label = f"{name}: {RATES[name](ranges[0]):.3g}" + (" (diverged)" if hist.diverged else "")
    ax.plot(hist.epoch, hist.train_loss, "o-", color=RATE_COLORS[name], label=label)
ax.axhline(math.log(10), color="k", ls=":", label="chance: ln 10")
ax.set(xlabel="epoch", ylabel="training loss", title="Constant rates chosen from the range test")
ax.legend(fontsize=12)
plt.show()

# %% [markdown]
# ### Checking the claims
# After the same eight epochs, averaged over the seeds, the suggested rate's training loss is more than 0.4 below the
# small rate's; and on each seed the large rate either diverged or ended more than 0.5 above the suggested rate's loss.

# %%
leads = []
for seed in SEEDS:
    good, small, large = (lr_runs[(name, seed)] for name in RATES)
    leads.append(-math.inf if good.diverged else small.train_loss[-1] - good.train_loss[-1])  # diverged: no lead
    excess = math.inf if large.diverged else large.train_loss[-1] - good.train_loss[-1]   # diverged: infinitely worse
    ctx.claim(excess, ">", 0.5, f"seed {seed}: the rate where the range test exploded should diverge or train far "
                                f"worse (training loss higher by {excess:.3f})")
lead = sum(leads) / len(leads)
ctx.claim(lead, ">", 0.4, f"the suggested rate should train much faster than 1/100 of it, averaged over the seeds "
                          f"(lower training loss by {lead:.3f})")

# %% [markdown]
# The suggestion (0.15 to 0.22 on most seeds we tried) trained steadily; 1/100 of it barely moved the loss in eight
# epochs; at the explosion point the network either produced NaN or got stuck at about the chance level $\ln 10$, with a
# validation accuracy near 0.1: its first huge steps wrecked the weights. The test is a heuristic, not an oracle: on one
# seed of the twelve we tried it suggested 0.55, which trained little better than the small rate in eight epochs. In
# section 3 the arms started from 0.3, slightly above the usual suggestion: decaying from a rate a little too high for a
# constant schedule is what schedules are for.

# %% [markdown]
# ## 6. Gradient clipping: a regression with outliers
# "Regularization and Optimization of DNNs": when the gradient becomes too large, clip it before the step,
# between `loss.backward()` and `optimizer.step()` (notebook 08 shows clipping on an exploding initialization). Here the
# large gradients come from the **data**: a regression whose targets contain a few gross outliers. With the squared error,
# an outlier of size 100 contributes a gradient about 100 times larger than a typical example, and with momentum and a high
# rate one such batch can throw the weights so far that the next gradients are larger still.
#
# 2000 examples of 8 inputs, target $2\tanh(x^\top w)$ plus noise, 3% of the training targets shifted by $100\cdot\mathcal N(0,1)$;
# a clean validation set. MLP 8-64-64-1, SGD with momentum 0.9 at $\eta = 0.05$ with a cosine decay over 20 epochs,
# batches of 32, with and without `clip_grad_norm_(model.parameters(), max_norm=0.25)` (`course_lib.gradients`, a drop-in for
# `torch.nn.utils.clip_grad_norm_`). The callback:

# %%
class ClipGradNorm(Callback):
    """Clip the total gradient norm to max_norm after backward(); record the norm before clipping (inf: only record)."""

    def __init__(self, max_norm=math.inf):
        self.max_norm, self.norms = max_norm, []

    def on_after_backward(self, state):
        self.norms.append(clip_grad_norm_(state.model.parameters(), self.max_norm).item())


def outlier_regression(seed, n=2000, d=8, share=0.03, size=100.0):
    """(train, val) pairs: y = 2 tanh(x·w) + 0.1 noise; a `share` of the training targets shifted by size·N(0, 1)."""
    g = ctx.rng(seed)
    w = torch.randn(d, 1, generator=g)
    x, xv = torch.randn(n, d, generator=g), torch.randn(500, d, generator=g)
    y, yv = 2 * torch.tanh(x @ w) + 0.1 * torch.randn(n, 1, generator=g), 2 * torch.tanh(xv @ w)
    outliers = torch.rand(n, generator=g) < share
    y[outliers] += size * torch.randn(int(outliers.sum()), 1, generator=g)
    return (x.to(ctx.device), y.to(ctx.device)), (xv.to(ctx.device), yv.to(ctx.device))

# %% [markdown]
# ### Two runs per seed

# %%
MAX_NORM, CLIP_LR, CLIP_EPOCHS = 0.25, 0.05, ctx.epochs(fast=20, full=20)
start = time.process_time()
clip_runs = {}
for seed in SEEDS:
    train_xy, val_xy = outlier_regression(seed)
    for name, max_norm in (("no clipping", math.inf), (f"clip at {MAX_NORM}", MAX_NORM)):
        model = mlp(8, [64, 64], 1, generator=ctx.rng(seed)).to(ctx.device)
        opt = torch.optim.SGD(model.parameters(), lr=CLIP_LR, momentum=MOMENTUM)
        clip = ClipGradNorm(max_norm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)      # divergence is the point here
            hist = fit(model, train_xy, val_xy, epochs=CLIP_EPOCHS, optimizer=opt, batch_size=32, seed=seed,
                       callbacks=[clip, SchedulerCallback(CosineAnnealingLR(opt, T_max=CLIP_EPOCHS))])
        clip_runs[(name, seed)] = (hist, clip.norms, val_xy[1].var().item())
        end = f"diverged at epoch {hist.diverged_at[0]}, step {hist.diverged_at[1]}" if hist.diverged else \
            f"final val MSE {hist.val_loss[-1]:.3f}"
        clipped = sum(n > MAX_NORM for n in clip.norms) / len(clip.norms)
        print(f"seed {seed} {name:<12}: largest gradient norm {max(clip.norms):8.3g}, {clipped:4.0%} of the steps "
              f"above max_norm; {end} (predicting the mean: {val_xy[1].var().item():.2f})")
CPU["clipping"] = time.process_time() - start

# %% [markdown]
# ### Gradient norms and validation error, seed 0

# %% {"tags": ["plot"]}
CLIP_COLORS = {"no clipping": "C3", f"clip at {MAX_NORM}": "C9"}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
for name, color in CLIP_COLORS.items():
    hist, norms, var = clip_runs[(name, 0)]
    axes[0].plot(range(1, len(norms) + 1), norms, color=color, lw=1, label=name)
    if len(hist):
        axes[1].plot(hist.epoch, hist.val_loss, "o-", color=color, label=name)
axes[0].axhline(MAX_NORM, color="k", ls=":", label="max_norm")
axes[1].axhline(var, color="k", ls=":", label="predicting the mean")
axes[0].set(xlabel="step", ylabel="‖g‖ before clipping", yscale="log", title="Gradient norm")
axes[1].set(xlabel="epoch", ylabel="validation MSE (clean targets)", yscale="log", title="Validation error")
axes[0].legend()
axes[1].legend()
plt.show()

# %% [markdown]
# ### Checking the claims, on both seeds
# Without clipping the run fails: either its loss becomes NaN or infinite (`history.diverged`), or it ends no better than
# half the error of predicting the mean. With clipping it does not diverge, and its final validation MSE is below 0.15 of
# the variance of the clean targets (the error of predicting their mean).

# %%
for seed in SEEDS:
    plain, clipped = clip_runs[("no clipping", seed)][0], clip_runs[(f"clip at {MAX_NORM}", seed)][0]
    var = clip_runs[("no clipping", seed)][2]
    plain_share = math.inf if plain.diverged else plain.val_loss[-1] / var      # diverged: infinitely bad
    ctx.claim(plain_share, ">", 0.5, f"seed {seed}: without clipping the run should diverge or collapse "
                                     f"(val MSE / variance {plain_share:.3f})")
    clipped_share = math.inf if clipped.diverged else clipped.val_loss[-1] / var
    ctx.claim(clipped_share, "<", 0.15, f"seed {seed}: with clipping the run should converge to a good fit of the clean "
                                       f"targets (val MSE / variance {clipped_share:.3f})")

# %% [markdown]
# Without clipping, the gradient norm grows by orders of magnitude within the first epochs (to between $10^3$ and
# overflow, across the seeds we tried): either the loss overflows, or the weights are thrown so far that the network ends
# no better than predicting the mean. With
# clipping, the gradient norm stays above `max_norm` on most steps of the whole run (the outliers keep pulling), and every
# gradient that enters the momentum buffer has norm at most `max_norm`: one outlier batch can no longer throw the weights
# far, and the network fits the clean function (validation MSE between 1% and 6% of the variance across the seeds and
# kernel sets we tried). Clipping does not make the squared error robust to outliers (a Huber
# loss would); it keeps one bad batch from wrecking the run. The deck's snippet clips by value
# (`clip_grad_value_(params, 100)`), entry by entry; clipping by norm scales all gradients by one factor and keeps the
# direction of the step.

# %% [markdown]
# ## 7. Monitoring the update/weight ratio
# A rule of thumb from cs231n: per step, the size of the update relative to the weights,
# $\|\Delta W\|/\|W\|$ for each layer's weight matrix, should be "around $10^{-3}$"; much lower and the rate is
# probably too small, much higher and it is too large. A callback measures it: copy the weights after `backward()`,
# compare after `optimizer.step()`.

# %%
class UpdateRatio(Callback):
    """‖ΔW‖ / ‖W‖ of every Linear layer's weight, at every optimizer step: self.ratios[layer name] is a list."""

    def on_fit_start(self, state):
        self.weights = {name: m.weight for name, m in state.model.named_modules() if isinstance(m, nn.Linear)}
        self.ratios = {name: [] for name in self.weights}

    def on_after_backward(self, state):
        self.before = {name: w.detach().clone() for name, w in self.weights.items()}

    def on_step_end(self, state):
        for name, w in self.weights.items():
            self.ratios[name].append(((w.detach() - self.before[name]).norm() / self.before[name].norm()).item())


# %% [markdown]
# ### Three rates, three epochs each
# The range test's suggestion, 1/100 of it, and ten times it:

# %%
RATIO_RATES = {"suggested": 1.0, "÷100": 0.01, "×10": 10.0}
RATIO_COLORS = {"suggested": "C2", "÷100": "C0", "×10": "C3"}
start = time.process_time()
ratio_runs = {}
for seed in SEEDS:
    for name, scale in RATIO_RATES.items():
        monitor = UpdateRatio()
        hist = train(seed, scale * ranges[seed].suggestion, epochs=ctx.epochs(fast=3, full=1), callbacks=[monitor],
                     may_diverge=True)[1]
        first_epoch = torch.tensor([r[:STEPS_PER_EPOCH] for r in monitor.ratios.values()])   # (layers, steps)
        ratio_runs[(name, seed)] = (monitor.ratios, first_epoch.nan_to_num(math.inf).median().item(), hist)
CPU["update ratio"] = time.process_time() - start
for (name, seed), (_, median, hist) in ratio_runs.items():
    final = "diverged" if hist.diverged else f"train loss {hist.train_loss[-1]:.3f}"
    print(f"seed {seed} {name:<9}: median ‖ΔW‖/‖W‖ in epoch 1 {median:.1e}  ({median / 1e-3:6.2f} × 1e-3), {final}")

# %% [markdown]
# ### The ratio per layer and step, seed 0

# %% {"tags": ["plot"]}
layers = list(ratio_runs[("suggested", 0)][0])
sizes = [N_IN, *HIDDEN, 10]
fig, axes = plt.subplots(1, len(layers), figsize=(15, 4.3), sharey=True)
for i, (ax, layer) in enumerate(zip(axes, layers)):
    for name, color in RATIO_COLORS.items():
        values = ratio_runs[(name, 0)][0][layer]
        ax.plot(range(1, len(values) + 1), values, color=color, lw=1.5, label=f"{name} rate")
    ax.axhspan(1e-4, 1e-2, color="0.9", zorder=0)
    ax.axhline(1e-3, color="k", ls=":")
    ax.set(xlabel="step", yscale="log", title=f"model[{layer}]: Linear {sizes[i]}→{sizes[i + 1]}")
axes[0].set_ylabel("‖ΔW‖ / ‖W‖ per step")
axes[0].legend(loc="lower right")
plt.show()

# %% [markdown]
# The dotted line is $10^{-3}$, the grey band a factor 10 either way.
#
# ### Checking the claims, on both seeds
# The median ratio over the first epoch (all layers and steps) moves with the rate: the small rate's is more than 10 times
# below the suggested rate's, the large rate's more than 3 times above it. The suggested rate's lies *above* $10^{-3}$, by a
# factor between 3 and 100.

# %%
for seed in SEEDS:
    good, small, large = (ratio_runs[(name, seed)][1] for name in RATIO_RATES)
    ctx.claim(good / small, ">", 10, f"seed {seed}: the too-small rate should give a far smaller update/weight ratio "
                                     f"({good / small:.1f} times smaller)")
    ctx.claim(large / good, ">", 3, f"seed {seed}: the too-large rate should give a far larger update/weight ratio "
                                    f"({large / good:.1f} times larger)")
    ctx.claim(good, ">", 3e-3, f"seed {seed}: the suggested rate's ratio should lie above 1e-3 ({good:.2g})")
    ctx.claim(good, "<", 1e-1, f"seed {seed}: the suggested rate's ratio should stay below 1e-1 ({good:.2g})")

# %% [markdown]
# What the run shows, and what it does not: the ratio moves with the rate, and the two bad rates stand out; the small
# rate's updates are 60 to 80 times smaller than the suggested rate's, and the large rate's early updates are almost a
# fifth of the weights themselves (later they shrink by about 0.9 per step: the momentum coasting on a nearly zero
# gradient, the network wrecked). But the rate that trains best here sits at about $2\cdot10^{-2}$ per step (up to
# $5\cdot10^{-2}$ on some seeds), *above* the
# rule's $10^{-3}$, and the too-small rate near $3\cdot10^{-4}$, inside the factor-10 band. With momentum 0.9 each step moves the weights by about ten gradients' worth, and this network is small; the
# $10^{-3}$ is an order of magnitude to start from, not a target. Watch the ratio for the jumps between settings, not for a
# magic number.

# %% [markdown]
# ## Summary
# - A schedule makes the rate a function of the epoch or step: step, piecewise constant, exponential, 1/t and cosine decay
#   start high and end low; warm restarts and cyclic rates go up again (and give snapshot ensembles). Each is a
#   `torch.optim.lr_scheduler` object, stepped after the optimizer, per epoch or per batch; ours give the same rates.
# - On MNIST-1D from a high starting rate, every schedule fitted the training set far better than that constant rate;
#   step decay (at 1/2 and 3/4 of the budget) and cosine annealing also ended above the best of three constant rates in
#   validation accuracy, averaged over the seeds. A fair baseline is a tuned constant rate, judged over its last epochs.
# - `ReduceLROnPlateau` cuts the rate after more than `patience` epochs without a new best validation loss; here it ended
#   with a far lower validation loss than the constant rate.
# - The range test found in 100 batches a rate that usually trained well; 1/100 of it hardly trained in the same budget,
#   and the rate where the test saw the loss explode diverged or trained to nothing.
# - Clipping the gradient norm turned a run that diverged (a regression with outliers, high rate) into one that fitted the
#   clean function. The update/weight ratio moves with the rate and exposes rates far off; its $10^{-3}$ is an order of
#   magnitude, not a target.

# %%
print("CPU seconds:", ", ".join(f"{k} {v:.1f}" for k, v in CPU.items()), f"| total {sum(CPU.values()):.1f}")

# %% [markdown]
# ## Exercises
# ### Exercise 1 — the deck's exponential schedule in PyTorch
# The deck writes $\eta(n) = \eta_0/\gamma^{n/N}$ with $\gamma = 10$, a tenth every $N$ epochs. With $N = 20$: which `gamma`
# do you pass to `ExponentialLR(opt, gamma)` (stepped once per epoch) to get the same rates? Give the number.

# %% {"tags": ["exercise"]}
answer_1 = None  # replace None with a number

# %%
ex.check_deck_gamma(answer_1)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# `ExponentialLR` multiplies the rate by `gamma` once per epoch, so after $n$ epochs the rate is $\eta_0\,\text{gamma}^n$.
# The deck's rate is $\eta_0\,10^{-n/N}$. Equal for every $n$ when $\text{gamma} = 10^{-1/N} = 10^{-1/20} \approx 0.891$:
# twenty multiplications by it give 0.1. (`StepLR(step_size=20, gamma=0.1)` gives the staircase version.)
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
solution_1 = 10 ** (-1 / 20)
assert ex.check_deck_gamma(solution_1)

# %% [markdown]
# ### Exercise 2 — warm-up, then cosine: write the scheduler
# Large rates at the very start, when the weights are random and the gradients large, can throw a network off; a common
# remedy is a short **linear warm-up** before the decay. Write `get_lr` of an `LRScheduler` with $t$ = `self.last_epoch`
# (0 before the first `step()`), $W$ = `warmup_steps`, $T$ = `total_steps`, $s$ = `start_factor` and, for each parameter
# group, its initial rate $\eta_0$ from `self.base_lrs`:
#
# $$\eta_t = \begin{cases} \eta_0\,\big(s + (1-s)\,t/W\big) & t < W \\
# \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\big(1 + \cos(\pi\,(t - W)/(T - W))\big) & W \le t \le T \\
# \eta_{\min} & t > T \end{cases}$$
#
# Return a list with one rate per parameter group. The check runs your scheduler on an optimizer with two groups and
# compares every rate with this formula.

# %% {"tags": ["exercise"]}
class WarmupCosineLR(T.LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0, last_epoch=-1):
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.start_factor, self.eta_min = start_factor, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        raise NotImplementedError  # your code here: one rate per entry of self.base_lrs


# %%
ex.check_warmup_cosine(WarmupCosineLR)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Read $t$ from `self.last_epoch` without shifting it (PyTorch's constructor already calls `step()` once, which sets it to
# 0), compute every rate from `self.base_lrs` (never from the current `group["lr"]`, and never write to `base_lrs`), and
# clamp $t$ at $T$ so the cosine does not rise again. Measuring the cosine's phase from the end of the warm-up makes it
# start at $\eta_0$, where the warm-up ends: no jump. Up to $T$ this is PyTorch's
# `SequentialLR(opt, [LinearLR(opt, start_factor=s, total_iters=W), CosineAnnealingLR(opt, T_max=T - W, eta_min=...)],
# milestones=[W])`.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
class SolutionWarmupCosineLR(T.LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, start_factor=0.1, eta_min=0.0, last_epoch=-1):
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        self.start_factor, self.eta_min = start_factor, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, w, total, s = self.last_epoch, self.warmup_steps, self.total_steps, self.start_factor
        if t < w:
            return [lr0 * (s + (1 - s) * t / w) for lr0 in self.base_lrs]
        phase = math.pi * (min(t, total) - w) / (total - w)
        return [self.eta_min + 0.5 * (lr0 - self.eta_min) * (1 + math.cos(phase)) for lr0 in self.base_lrs]


assert ex.check_warmup_cosine(SolutionWarmupCosineLR)

# %% [markdown]
# ### Exercise 3 — `ReduceLROnPlateau` by hand
# Write `plateau_lrs(val_losses, lr, factor, patience)`: the learning rate in force after each epoch, when a
# `ReduceLROnPlateau(opt, factor=factor, patience=patience, threshold=0)` is stepped with the validation losses one by one
# (a list as long as `val_losses`). With threshold 0, an epoch improves when its loss is strictly below the best so far.
# The check compares your rates with `course_lib.schedules.ReduceLROnPlateau` on several validation curves.

# %% {"tags": ["exercise"]}
def plateau_lrs(val_losses, lr, factor, patience):
    raise NotImplementedError  # your code here


# %%
ex.check_plateau_lrs(plateau_lrs)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Keep the best loss so far and a count of epochs without improvement. An improvement resets the count; otherwise it grows.
# When the count *exceeds* `patience`, multiply the rate by `factor` and reset the count (PyTorch's `cooldown`, 0 by
# default, would also pause the counting). The best loss is not reset by a cut, and a loss equal to the best is no
# improvement.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_plateau_lrs(val_losses, lr, factor, patience):
    best, bad, rates = math.inf, 0, []
    for loss in val_losses:
        if loss < best:
            best, bad = loss, 0
        else:
            bad += 1
        if bad > patience:
            lr, bad = lr * factor, 0
        rates.append(lr)
    return rates


assert ex.check_plateau_lrs(solution_plateau_lrs)
