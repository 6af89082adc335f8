# %% [markdown]
# # 13 · The training recipe and diagnostics
#
# **Learning objectives.** After this notebook you can
# 1. **follow** the lecture's recipe for a new problem: preprocess, pick an architecture, check the initial loss,
#    overfit a tiny subset, find a learning rate, then train;
# 2. **monitor** a run: per-layer histograms of activations, gradients and weights, and the update/weight ratio
#    $\|\Delta W\|/\|W\|$, live and in TensorBoard;
# 3. **read** a cost curve: recognise a learning rate too large, a bad initialization, a plateau, a learning rate
#    decayed too soon, overfitting and underfitting, and say what to do about each.
#
# *Lecture:* "How to Train ConvNets" (the recipe: preprocess, choose the architecture, check that the loss is
# reasonable, overfit a small piece of the data, find the learning rate; monitor activations, gradients and the
# update/weight ratio); "Regularization and more topics related to training" (general advice on training, looking at cost
# curves). *Builds on:* notebook 11 (the range test and the update/weight ratio). *Runs in:* about 15 s on one CPU core
# (fast profile).


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
# Profile, seed and device are set in one place. Both profiles use MNIST-1D here: the cost-curve gallery is tuned to it
# (`COURSE_PROFILE=full` only trains the main run longer).

# %%
import math
import os
import shutil
import time
import warnings

import matplotlib.pyplot as plt
import torch
from torch import nn

from course_lib import evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.data import DatasetSplits, Split
from course_lib.exercises import ex13 as ex
from course_lib.monitor import TrainingMonitor, histogram, read_events, run_dir, update_ratio
from course_lib.preprocessing import StandardScaler
from course_lib.schedules import SchedulerCallback, StepLR, lr_range_test
from course_lib.training import Callback, DivergenceWarning

ctx = setup_notebook(seed=0)
HIDDEN, BATCH, MOMENTUM = [128, 128], 128, 0.9
MAIN_EPOCHS = ctx.epochs(fast=15, full=40)
raw = load_dataset("mnist1d", seed=0, device=ctx.device)
K = raw.num_classes
CPU = {}
print(raw)

# %% [markdown]
# ## 1. The recipe
# "How to Train ConvNets" gives an order of work for a new problem, each step a check that the next one can trust:
#
# 1. **preprocess** the data (zero-centre, scale: notebook 07);
# 2. **choose the architecture** (start small and standard: here an MLP 40-128-128-10 with ReLU);
# 3. **check that the loss is reasonable** at initialization, with regularization off;
# 4. **overfit a tiny subset** of the training data (about 20 examples) to 100 % training accuracy, no regularization;
# 5. **find a learning rate** that makes the loss go down (notebook 11's range test), then search coarse to fine;
# 6. **train and watch**: the cost curves, the per-layer histograms, the update/weight ratio.
#
# "Regularization and more topics related to training" adds the general advice: get the training accuracy high first
# (if it cannot get there, the model lacks capacity or the set-up has a bug), then close the gap to validation; and look
# at the cost curves. Section 3 is a gallery of what they look like when something is wrong.

# %% [markdown]
# ### Step 1: preprocess
# Standardize every feature with the training set's mean and standard deviation (`StandardScaler`, notebook 07), and
# apply the same transform to validation and test.

# %%
scaler = StandardScaler().fit(raw.train.x)
data = DatasetSplits(raw.name, *(Split(scaler.transform(s.x), s.y) for s in (raw.train, raw.val, raw.test)),
                     num_classes=K, classes=raw.classes)
N_IN = data.train.x[0].numel()
print(f"train mean {data.train.x.mean():.3f}, std {data.train.x.std():.3f} | val mean {data.val.x.mean():.3f}")

# %% [markdown]
# ### Steps 2 and 3: the architecture, and the loss it starts from
# A fresh classifier knows nothing, so it should give every one of the $k$ classes about the same probability $1/k$;
# the cross-entropy $-\log p_{\text{right class}}$ is then
#
# $$L_0 \approx -\log\tfrac1k = \ln k, \qquad \ln 10 \approx 2.303 .$$
#
# A clearly different start means the output layer's scale is off (too large initial weights give confident,
# often wrong, predictions and a loss far above $\ln k$) or the loss is wired wrongly. With regularization on, the loss
# should then go *up* by the penalty ("crank up regularization: the loss goes up"); we check with it off.

# %%
def make_model(seed, hidden=HIDDEN, **kwargs):
    return mlp(N_IN, hidden, K, generator=ctx.rng(seed), **kwargs).to(ctx.device)


initial = evaluate(make_model(0), data.train)["loss"]
penalty = 1e-2 * sum((m.weight ** 2).sum().item() for m in make_model(0) if isinstance(m, nn.Linear))
print(f"initial loss {initial:.3f}, ln {K} = {math.log(K):.3f}; with an L2 penalty λ = 1e-2 it would start at "
      f"{initial + penalty:.3f}")
ctx.claim(abs(initial - math.log(K)), "<", 0.1, f"the fresh network's loss should be close to ln {K} "
                                               f"(off by {abs(initial - math.log(K)):.3f})")

# %% [markdown]
# ### Step 4: overfit a tiny subset
# Twenty training examples, no regularization, the plain loop: if the network cannot reach 100 % training accuracy on
# them, something is broken (a bug in the data pipeline, the loss, the model, or a learning rate far off), and no amount
# of tuning on the full set will help. The loss on these twenty should go to nearly 0; the validation accuracy will be
# poor, which is the point.

# %%
tiny = data.train.subset(20, generator=ctx.rng(1))
start = time.process_time()
tiny_model = make_model(0)
tiny_hist = fit(tiny_model, tiny, data.val, epochs=ctx.epochs(fast=150, full=150), seed=0, batch_size=20,
                optimizer=torch.optim.SGD(tiny_model.parameters(), lr=0.05, momentum=MOMENTUM), progress=False)
CPU["tiny subset"] = time.process_time() - start
tiny_acc = evaluate(tiny_model, tiny)["acc"]
errors = round((1 - tiny_acc) * len(tiny))
print(f"after {len(tiny_hist)} epochs: train loss {tiny_hist.train_loss[-1]:.4f}, train accuracy {tiny_acc:.0%} "
      f"({errors} of {len(tiny)} wrong); validation accuracy {tiny_hist.val_acc[-1]:.0%}")
ctx.claim(errors, "<", 0.5, f"the network should fit the 20 examples perfectly ({errors} wrong)", scale=1)
ctx.claim(tiny_hist.train_loss[-1], "<", 0.05, f"the training loss on the tiny subset should be near 0 "
                                              f"({tiny_hist.train_loss[-1]:.4f})")

# %% [markdown]
# ### Step 5: find a learning rate
# Notebook 11 built the **range test** (`lr_range_test`: a short run whose rate grows exponentially, keeping the rate
# where the smoothed loss falls fastest) and showed that its suggestion trains well on MNIST-1D. We run it once on the
# full training set and keep its suggestion, bounded to $[10^{-2}, 0.2]$ in case the test misreads the curve. The deck's
# coarse-to-fine search (a few epochs per try over a wide log range, then longer runs in the best region) is notebook
# 12's topic.

# %%
result = lr_range_test(make_model(0), data.train, optimizer=lambda p: torch.optim.SGD(p, lr=1e-7, momentum=MOMENTUM),
                       lr_min=1e-4, lr_max=10.0, steps=100, batch_size=BATCH, generator=ctx.rng(2))
suggested = result.suggestion if math.isfinite(result.suggestion) else 0.05
LR = min(max(suggested, 1e-2), 0.2)
print(f"range test: steepest descent at lr ≈ {suggested:.3g}; we train at {LR:.3g}")

# %% [markdown]
# ## 2. Step 6: train while watching
# ### The monitor
# `course_lib.monitor.TrainingMonitor` is a `fit` callback. Once per epoch it takes the histograms of each activation
# layer's output and of each weight's gradient $\partial L/\partial W_l$ on the epoch's first batch (right after
# `backward()`), and of each weight $W_l$ at the epoch's end; at every step it measures the update/weight ratio
#
# $$r_l = \frac{\|W_l^{\text{after}} - W_l^{\text{before}}\|}{\|W_l^{\text{before}}\|} = \frac{\|\Delta W_l\|}{\|W_l\|}
# \quad\Big(= \eta\,\frac{\|\partial L/\partial W_l\|}{\|W_l\|}\ \text{for plain SGD}\Big),$$
#
# measured rather than computed from the gradient, so that it holds for momentum and Adam too. Its forward hooks are
# removed when training ends, also when it raises (`on_exception`), and given a `log_dir` it writes everything to
# TensorBoard.

# %% {"tags": ["listing"]}
show_source(TrainingMonitor)

# %% [markdown]
# ### The run, logged to TensorBoard
# The log folder is `data_root()/runs/13_training_recipe/<process id>` (`data_root()` is the course's cache,
# `~/.cache/course_lib` unless `COURSE_DATA` says otherwise): each run of the notebook writes into its own folder and
# removes the folders of earlier runs whose process has ended. Watch it, while or after the notebook runs, with
#
# ```
# tensorboard --logdir ~/.cache/course_lib/runs/13_training_recipe
# ```
#
# and open http://localhost:6006: the *Histograms* and *Distributions* tabs show `activation/…`, `gradient/…` and
# `weight/…` per epoch, *Scalars* the losses and `update_ratio/…` per step.

# %%
def alive(pid):
    if os.name == "nt":       # on Windows os.kill(pid, 0) would stop the process: assume it runs
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError, OverflowError):
        return False
    return True


RUNS = run_dir("13_training_recipe")
for old in RUNS.glob("pid*") if RUNS.is_dir() else []:
    if old.name[3:].isdigit() and int(old.name[3:]) != os.getpid() and not alive(int(old.name[3:])):
        shutil.rmtree(old, ignore_errors=True)
LOG_DIR = RUNS / f"pid{os.getpid()}"

start = time.process_time()
main_model = make_model(0)
monitor = TrainingMonitor(bins=40, log_dir=LOG_DIR, clear=True)
main_hist = fit(main_model, data.train, data.val, epochs=MAIN_EPOCHS, batch_size=BATCH, seed=0, callbacks=[monitor],
                optimizer=torch.optim.SGD(main_model.parameters(), lr=LR, momentum=MOMENTUM), progress=False)
CPU["monitored run"] = time.process_time() - start
assert sum(len(m._forward_hooks) for m in main_model.modules()) == 0      # the monitor removed its hooks
events = read_events(LOG_DIR)                                             # TensorBoard's own reader
h, mine = events["histograms"]["gradient/3"][0], monitor.gradients["3"][0]
assert h[2] == mine.counts.tolist() and sum(h[2]) == main_model[3].weight.numel()   # the same counts, every entry
print(f"{main_hist}\nTensorBoard events: {len(events['histograms'])} histogram tags, {len(events['scalars'])} scalar "
      f"tags, {sum(len(v) for v in events['scalars'].values())} scalar values")

# %% [markdown]
# ### Histograms of the second hidden layer, over the epochs
# Left to right: the ReLU's output $h_2$ (first batch of the epoch), the gradient of the layer's weight
# $\partial L/\partial W_2$ (same batch), and the weight $W_2$ (end of the epoch; epoch 0 is the initialization), at the
# first, middle and last epoch.

# %% {"tags": ["plot"]}
def draw(ax, hists, title, xlabel, log=False):
    picks = sorted({0, len(hists) // 2, len(hists) - 1})
    for color, i in zip(("C0", "C1", "C2"), picks):
        hh = hists[i]
        widths = hh.edges[1:] - hh.edges[:-1]
        density = hh.counts / (hh.counts.sum() * widths)
        ax.stairs(density.numpy(), hh.edges.numpy(), color=color, lw=2, label=f"epoch {hh.epoch}")
    ax.set(title=title, xlabel=xlabel, ylabel="density", yscale="log" if log else "linear")
    ax.legend(fontsize=12)


fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), layout="constrained")
draw(axes[0], monitor.activations["4"], "Activations h₂ (ReLU output)", "value", log=True)
draw(axes[1], monitor.gradients["3"], "Gradient ∂L/∂W₂", "value")
draw(axes[2], monitor.weights["3"], "Weight W₂", "value")
plt.show()

# %% [markdown]
# What to look for: activations that are all 0 (dead ReLUs) or all saturated, gradients that shrink to nothing or blow
# up layer by layer (notebooks 06 and 08), weights that do not move at all or grow without bound. Here the ReLU output
# keeps a spike at 0 and a tail that widens as the network learns; the gradient's spread changes from epoch to epoch; the
# weights spread out slowly from their initialization. Nothing is dead or exploding.

# %% [markdown]
# ### The update/weight ratio per step and layer
# The rule of thumb (cs231n, in "How to Train ConvNets") says about $10^{-3}$; notebook 11 measured about $10^{-2}$ at
# the range test's rate on this data set and found it trains well: the rule is an order of magnitude, not a target.

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(11, 4.4))
for color, (layer, values) in zip(("C0", "C1", "C2"), monitor.ratios.items()):
    ax.plot(monitor.ratio_steps, values, color=color, lw=1, label=f"layer {layer}")
ax.axhline(1e-3, color="k", ls=":", label="rule of thumb 1e-3")
ax.set(xlabel="optimizer step", ylabel="‖ΔW‖ / ‖W‖", yscale="log", title=f"Update/weight ratio at lr = {LR:.3g}")
ax.legend(fontsize=12, ncol=4)
plt.show()

# %%
for layer, med in monitor.median_ratio().items():
    print(f"layer {layer}: median update/weight ratio {med:.2g}")

# %% [markdown]
# In the stored run the ratio rises over the first steps while momentum builds up (the output layer's, layer 5, peaks
# highest), then settles and slowly falls as the gradients shrink. Compare the printed medians with the rule's $10^{-3}$ and with notebook 11's measurement at its good rate (about
# $2\cdot10^{-2}$). The gallery below shows how much larger the ratio is when the rate is far too large.

# %% [markdown]
# ## 3. The cost-curve gallery
# "Regularization and more topics related to training" shows the cost curves of runs gone wrong. Each panel below is a
# real run on the same data (MNIST-1D, standardized), 20 epochs, SGD with momentum 0.9, batches of 128 unless said:
#
# | run | what we changed |
# | --- | --- |
# | good | MLP 40-128-128-10, $\eta = 0.05$, the rate cut to a tenth at epoch 15 |
# | learning rate too large | $\eta = 1$ |
# | bad initialization | a tanh MLP with four hidden layers of 64, every weight scaled down to 0.3 of its default |
# | plateau | $\eta = 0.3$ with batches of 64 for 13 epochs, then a tenth of it |
# | decayed too soon | the good run, but the rate cut to a tenth after epoch 2 |
# | overfitting | a wider MLP (256-256) on 400 training examples |
# | underfitting | a linear model (no hidden layer) |

# %% [markdown]
# ### The seven runs
# One helper trains each; a diverging run is kept (it is one of the exhibits). Two runs also carry a `TrainingMonitor`,
# without a log folder, for their update/weight ratios.

# %%
G_EPOCHS = ctx.epochs(fast=20, full=20)
CUT, PLATEAU_CUT, EARLY_CUT = max(1, 3 * G_EPOCHS // 4), max(1, 2 * G_EPOCHS // 3), 2


def gallery_run(model, lr, *, train=None, cut=None, batch=BATCH, monitor=None):
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    callbacks = [SchedulerCallback(StepLR(opt, step_size=cut, gamma=0.1))] if cut else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)      # a diverging run is one of the exhibits
        return fit(model, data.train if train is None else train, data.val, epochs=G_EPOCHS, optimizer=opt,
                   batch_size=batch, seed=0, callbacks=callbacks + ([monitor] if monitor else []), progress=False)


def small_init(seed, scale=0.3):
    model = make_model(seed, hidden=[64] * 4, activation="tanh")
    with torch.no_grad():
        for m in model:
            if isinstance(m, nn.Linear):
                m.weight.mul_(scale)
    return model


# %% [markdown]
# ### Training the seven
# Each run takes well under a second on one core (`CPU["gallery"]` at the end sums them).

# %%
start = time.process_time()
ratio_mon = {"good": TrainingMonitor(), "too large": TrainingMonitor()}
gallery = {
    "good": gallery_run(make_model(0), 0.05, cut=CUT, monitor=ratio_mon["good"]),
    "learning rate too large": gallery_run(make_model(0), 1.0, monitor=ratio_mon["too large"]),
    "bad initialization": gallery_run(small_init(0), 0.1),
    "plateau": gallery_run(make_model(0), 0.3, batch=64, cut=PLATEAU_CUT),
    "decayed too soon": gallery_run(make_model(0), 0.05, cut=EARLY_CUT),
    "overfitting": gallery_run(make_model(0, hidden=[256, 256]), 0.05, train=data.train.subset(400, generator=ctx.rng(3)),
                               batch=64),
    "underfitting": gallery_run(make_model(0, hidden=[]), 0.05),
}
CPU["gallery"] = time.process_time() - start

# %% [markdown]
# ### Seven cost curves: a good run and six runs gone wrong
# Training loss (solid) and validation loss (dashed) per epoch; the dotted line is $\ln 10$, the loss of guessing.

# %% {"tags": ["plot"]}
DIAGNOSIS = {
    "good": "falls, then drops again at the cut",
    "learning rate too large": "jumps up to chance and stays:\nlower the rate",
    "bad initialization": "flat at ln 10, then falls:\nfix the init (He/Xavier, notebook 08)",
    "plateau": "stalls at a high loss, falls at the cut:\ndecay the rate (on plateau)",
    "decayed too soon": "flattens early, too high:\ndecay later",
    "overfitting": "train ↓, val ↑, the gap grows:\nregularize, more data, stop early",
    "underfitting": "train high, close to val:\na bigger model",
}
fig, axes = plt.subplots(2, 4, figsize=(16, 7.6), layout="constrained", sharex=True)
for ax, (name, hist) in zip(axes.flat, gallery.items()):
    ax.plot(hist.epoch, hist.train_loss, "-", color="C0", lw=2, label="train")
    ax.plot(hist.epoch, hist.val_loss, "--", color="C1", lw=2, label="validation")
    ax.axhline(math.log(K), color="grey", ls=":")
    ax.set_title(name, fontsize=13)
    ax.text(0.97, 0.96, DIAGNOSIS[name], transform=ax.transAxes, ha="right", va="top", fontsize=12)
    ax.set(ylim=(0, 3.2), xlabel="epoch", ylabel="loss")
axes.flat[0].legend(fontsize=12, loc="lower left")
axes.flat[-1].axis("off")
plt.show()

# %% [markdown]
# ### Checking each signature
# Each curve's signature is checked on the quantity that carries it:
# - **too large**: the training loss goes back up to about $\ln 10$ (or the run diverges) and its best late epochs
#   stay there; its update/weight ratio is far above the good run's;
# - **bad initialization**: the first four epochs stay within 0.05 of $\ln 10$, then the loss falls by more than 0.3;
# - **plateau**: the mean loss of epochs 11–13 is within 0.25 of that of epochs 6–8 (it stalls), and the last three
#   epochs, after the cut, are more than 0.5 lower;
# - **decayed too soon**: the final training loss is well above the well-timed run's (the good one);
# - **overfitting**: the train/validation gap at the end is far larger than at the best validation epoch;
# - **underfitting**: the training loss stays far above the good run's, and close to the validation loss.

# %%
g = gallery
L0 = math.log(K)
large = g["learning rate too large"]
late = large.train_loss[len(large) // 2:] if len(large) else []
ctx.claim(math.inf if large.diverged or not late else min(late), ">", 0.8 * L0,
          f"the too-large rate should throw the loss back to chance (best late loss {min(late, default=math.nan):.2f})")
good_med = ratio_mon["good"].median_ratio(50)                        # the first 50 steps
large_med = ratio_mon["too large"].median_ratio(50)
ratio_factor = min(large_med[k] / good_med[k] for k in good_med)
ctx.claim(ratio_factor, ">", 2.5, f"the too-large rate's update/weight ratio should be far above the good run's, "
                                  f"in every layer (by at least {ratio_factor:.1f}x)")
bad = g["bad initialization"].train_loss
flat = max(abs(v - L0) for v in bad[:4])
ctx.claim(flat, "<", 0.05, f"the bad initialization should stay flat near ln 10 at first (off by {flat:.3f})")
fall = bad[min(3, len(bad) - 1)] - bad[-1]
ctx.claim(fall, ">", 0.3, f"... and then the loss should fall (by {fall:.2f} from epoch 4 to the end)")

# %% [markdown]
# ### The plateau and the early decay

# %%
plat = g["plateau"].train_loss


def mean(values):
    return sum(values) / len(values) if values else math.nan


early, pre, post = (mean(plat[max(0, PLATEAU_CUT - 8):max(0, PLATEAU_CUT - 5)]),
                    mean(plat[max(0, PLATEAU_CUT - 3):PLATEAU_CUT]), mean(plat[-3:]))
stall, drop = early - pre, pre - post     # means of 3 epochs: 6-8 vs 11-13 before the cut, 18-20 after it
ctx.claim(abs(stall), "<", 0.25, f"the plateau: before the cut the loss should stall (it moved by {stall:.2f})")
ctx.claim(drop, ">", 0.5, f"the plateau: after the cut the loss should fall far (by {drop:.2f})")
too_soon = g["decayed too soon"].train_loss[-1] / g["good"].train_loss[-1]
ctx.claim(too_soon, ">", 1.5, f"decayed too soon: the final training loss should be well above the well-timed run's "
                              f"({too_soon:.2f} times)")

# %% [markdown]
# ### Overfitting and underfitting, and all the signatures' numbers

# %%
over = g["overfitting"]
best = over.best_epoch("val_loss") - over.epoch[0]
gap_best, gap_end = over.val_loss[best] - over.train_loss[best], over.val_loss[-1] - over.train_loss[-1]
ctx.claim(gap_end - gap_best, ">", 0.8, f"overfitting: the train/val gap should grow after the best validation "
                                        f"epoch ({gap_best:.2f} there, {gap_end:.2f} at the end)")
under = g["underfitting"]
ctx.claim(under.train_loss[-1] / g["good"].train_loss[-1], ">", 1.5,
          f"underfitting: the training loss should stay far above the good run's "
          f"({under.train_loss[-1]:.2f} against {g['good'].train_loss[-1]:.2f})")
ctx.claim(abs(under.val_loss[-1] - under.train_loss[-1]) / under.train_loss[-1], "<", 0.2,
          f"underfitting: the validation loss should be close to the training loss "
          f"({under.val_loss[-1]:.2f} against {under.train_loss[-1]:.2f})")
print(f"too large: best late loss {min(late, default=math.nan):.2f}, ratio {ratio_factor:.0f}x the good run's | bad init: "
      f"flat within {flat:.3f}, then falls {fall:.2f} | plateau: moves {stall:.2f} before the cut, falls {drop:.2f} after | "
      f"too soon: {too_soon:.1f}x | overfitting: gap {gap_best:.2f} -> {gap_end:.2f} | underfitting: train "
      f"{under.train_loss[-1]:.2f}, val {under.val_loss[-1]:.2f}")

# %% [markdown]
# What each run shows, and what to do:
# - **Learning rate too large.** The loss falls for a moment, then is thrown back to about $\ln 10$ and stays: the
#   steps overshoot and the network ends up guessing. Over the first 50 steps its median update/weight ratio was 3 to 5
#   times the good run's in every layer (across the seeds and CPU kernel sets we tried): the monitor sees it from the
#   first steps. Lower the rate (the range test).
# - **Bad initialization.** Weights too small make every layer's signal and gradient small (notebook 08): the loss sits at
#   $\ln 10$ for several epochs, until the weights have grown enough; then it falls. Use a scaled initialization
#   (Xavier for tanh, He for ReLU) or batch norm (notebook 09).
# - **Plateau.** A rate that is fine at first is too large for the noise of small batches later: the loss stalls well
#   above what the network can reach, and cutting the rate makes it drop at once. Decay the rate, or cut it when the
#   validation loss stalls (`ReduceLROnPlateau`, notebook 11).
# - **Decayed too soon.** The same run as the good one, with the cut after epoch 2: the loss flattens early and far
#   higher; the rate became too small to make progress. Cut later, when the loss has stopped improving.
# - **Overfitting.** The training loss goes towards 0 while the validation loss turns and climbs: the gap grows.
#   Regularize (weight decay, dropout, augmentation: notebooks 02–04), get more data, or stop early (notebook 05).
# - **Underfitting.** Train and validation losses high and close together: the model lacks capacity (here it is linear).
#   More data does not help; a bigger model does.

# %% [markdown]
# ## Summary
# - The recipe is a chain of checks: standardize the data; at initialization the loss is $\ln k$ (here $\ln 10$); with
#   no regularization the network fits 20 examples perfectly; the range test (notebook 11) gives a rate; then train
#   and watch.
# - `TrainingMonitor` records, per layer, histograms of activations, gradients and weights once per epoch and the
#   update/weight ratio $\|\Delta W\|/\|W\|$ at every step, writes them to TensorBoard, and removes its hooks even when
#   training raises. The rule of thumb's $10^{-3}$ is an order of magnitude; a rate far too large shows as a ratio many
#   times larger.
# - Each pathology of the cost-curve gallery was produced by a real run and has its signature: a rate too large throws
#   the loss back to chance; a bad initialization gives a long flat start; a plateau ends when the rate is cut; a decay
#   too soon flattens too high; overfitting opens a growing train/validation gap; underfitting keeps both high and
#   close.

# %%
print("CPU seconds:", ", ".join(f"{k} {v:.1f}" for k, v in CPU.items()), f"| total {sum(CPU.values()):.1f}")

# %% [markdown]
# ## Exercises
# ### Exercise 1 — the loss to expect at the start
# Write `initial_loss(k)`: the cross-entropy of a fresh classifier that gives each of `k` classes the same probability.
# The check tries several `k`.

# %% {"tags": ["exercise"]}
def initial_loss(k):
    raise NotImplementedError  # your code here


# %%
ex.check_initial_loss(initial_loss)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Every class, the right one included, gets probability $1/k$, and the cross-entropy of one example is $-\log$ of the
# right class's probability: $-\log(1/k) = \ln k$, with the natural logarithm as in `nn.CrossEntropyLoss`. For the ten
# digits 2.303, for two classes 0.693.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_initial_loss(k):
    return math.log(k)


assert ex.check_initial_loss(solution_initial_loss)

# %% [markdown]
# ### Exercise 2 — a histogram monitor
# Write a `fit` callback `Monitor(bins)` that records, for the model it trains:
# - `self.act_hists[name]`: for each `nn.ReLU`, once per epoch, the histogram counts
#   (`course_lib.monitor.histogram(output, bins)[0]`) of its output on the epoch's **first** batch (a forward hook);
# - `self.grad_hists[name]`: for each `nn.Linear`, once per epoch, the counts of its weight's gradient on the same batch;
# - `self.ratios[name]`: for each `nn.Linear`, at every optimizer step, $\|\Delta W\|/\|W\|$ (a float).
#
# Names as in `model.named_modules()`. Leave no hook behind, also when training raises. The check trains a small model
# with your callback and with `TrainingMonitor` and compares.

# %% {"tags": ["exercise"]}
class Monitor(Callback):
    def __init__(self, bins):
        self.bins = bins

    def on_fit_start(self, state):
        raise NotImplementedError  # your code here: the dicts, the hooks; and the other hooks of fit you need


# %%
ex.check_monitor(Monitor)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# A flag set in `on_epoch_start` tells the forward hooks to record, and `on_after_backward` (after `backward()`, before
# the step) reads `.grad` and clears the flag. The weights before the step must be a copy, `weight.detach().clone()`:
# the tensor itself changes in place with the step, and the ratio would be 0. The ratio is the update over the weight,
# measured after the step: for SGD it contains the learning rate. Keep the handles of `register_forward_hook` and remove
# them in `on_fit_end` and in `on_exception`.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
class SolutionMonitor(Callback):
    def __init__(self, bins):
        self.bins = bins

    def on_fit_start(self, state):
        self.linears = {n: m for n, m in state.model.named_modules() if isinstance(m, nn.Linear)}
        self.grad_hists = {n: [] for n in self.linears}
        self.ratios = {n: [] for n in self.linears}
        self.act_hists, self.handles, self.first = {}, [], False
        for n, m in state.model.named_modules():
            if isinstance(m, nn.ReLU):
                self.act_hists[n] = []
                self.handles.append(m.register_forward_hook(self.hook(n)))

    def hook(self, name):
        def record(module, inputs, output):
            if self.first:
                self.act_hists[name].append(histogram(output, self.bins)[0])
        return record

    def on_epoch_start(self, state):
        self.first = True

    def on_after_backward(self, state):
        if self.first:
            for n, m in self.linears.items():
                self.grad_hists[n].append(histogram(m.weight.grad, self.bins)[0])
            self.first = False
        self.before = {n: m.weight.detach().clone() for n, m in self.linears.items()}

    def on_step_end(self, state):
        for n, m in self.linears.items():
            self.ratios[n].append(update_ratio(self.before[n], m.weight))

    def on_fit_end(self, state):
        for h in self.handles:
            h.remove()
        self.handles = []

    def on_exception(self, state, exc):
        self.on_fit_end(state)


assert ex.check_monitor(SolutionMonitor)
