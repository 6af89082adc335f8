# %% [markdown]
# # 14 · Model ensembles
#
# **Learning objectives.** After this notebook you can
# 1. **build** an ensemble that averages the predicted probabilities of several networks, and **use** it like one model;
# 2. **explain** why the average beats its average member (partly independent errors; Jensen's inequality for the log loss)
#    and **measure** how accuracy grows with the number of members;
# 3. **collect** a snapshot ensemble from one training run with warm restarts, and **compare** it with independent models
#    at the same number of epochs;
# 4. **check** the calibration of a model and an ensemble (expected calibration error, reliability diagram);
# 5. **relate** dropout to an implicit ensemble (notebook 03) and **weigh** the cost: M times the training and inference.
#
# *Lecture:* "How to Train ConvNets" and "Regularization and more topics related to training" (model ensembles: train several
# independent models, average their predictions at test time, typically about 2 % better); "Regularization, batchnorm and
# dropout" (snapshot ensembles with cyclic learning rates; dropout as a cheap ensemble). Huang et al. (2017), *Snapshot
# ensembles: train 1, get M for free*; Loshchilov and Hutter (2017), *SGDR*.
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
# The **shared regularization baseline** of notebooks 02–05 (`course_lib.baseline`): 500 training digits of which 30 % carry a
# random label, 500 clean validation and 797 clean test images, the MLP 64-256-256-10 trained with Adam. Each member is trained
# for a shortened budget of `EPOCHS` epochs: long enough to start memorizing the noisy labels, and each seed memorizes them in
# its own way, which is what an ensemble averages out. A *data seed* draws the split and the label noise; within it each member
# gets its own initialization and batch order.

# %%
import itertools
import time

import matplotlib.pyplot as plt
import torch

from course_lib import fit, setup_notebook, show_source
from course_lib.baseline import BASELINE, baseline_model, baseline_optimizer, load_baseline
from course_lib.dropout import mc_predict, use_generator
from course_lib.ensembles import Ensemble, SnapshotCallback, cycle_ends, ensemble_probs, log_loss
from course_lib.exercises import ex14 as ex
from course_lib.metrics import expected_calibration_error, reliability_diagram
from course_lib.schedules import CosineAnnealingWarmRestarts, SchedulerCallback
from course_lib.training import evaluate

ctx = setup_notebook(seed=0)
CFG = BASELINE[ctx.profile]
EPOCHS = ctx.epochs(fast=40, full=20)     # the budget of one member (and of one snapshot run)
M = 5                                     # members of an ensemble
DATA_SEEDS = ctx.pick(fast=[0, 1, 2, 3], full=[0, 1])
CYCLE = max(1, EPOCHS // M)               # the period of the warm restarts: M cycles in one run (>= 1 in a capped run)
datasets = {s: load_baseline(ctx.profile, seed=s, device=ctx.device) for s in DATA_SEEDS}
print(datasets[0])
print(f"members of {EPOCHS} epochs; snapshot run of {EPOCHS} epochs with cycles of {CYCLE}")

# %% [markdown]
# ## 1. The ensemble average
# Train $M$ models independently (different random initializations and batch orders), and at test time average what they
# predict. For classifiers the natural average is over the **probabilities**:
#
# $$\hat p(y \mid x) = \frac1M \sum_{m=1}^{M} \operatorname{softmax}\big(f_m(x)\big)_y .$$
#
# Not the logits (their scales differ between members, and the mean of logits is not a mixture of the members' beliefs) and not
# a majority vote of the argmaxes (which throws away how sure each member is). `Ensemble` is an `nn.Module` that does this, so it
# can be evaluated, moved to a device and even trained like a model; `ensemble_probs` is the same average in eval mode.

# %% {"tags": ["listing"]}
show_source(Ensemble)

# %% {"tags": ["listing"]}
show_source(ensemble_probs)

# %% [markdown]
# ### Training the members
# Five members per data seed; the seeds of member $m$ on data seed $s$ are $100s + m$.

# %%
def train_member(data, seed, epochs=EPOCHS, dropout=0.0):
    net = baseline_model(data, ctx.profile, dropout=dropout, generator=ctx.rng(seed))
    fit(net, data.train, epochs=epochs, optimizer=baseline_optimizer(ctx.profile), batch_size=CFG["batch_size"],
        seed=seed, progress=False)
    return net.eval()


def acc_of(probs, y):
    return (probs.argmax(dim=1) == y).float().mean().item()


start = time.perf_counter()
members = {s: [train_member(datasets[s], 100 * s + m) for m in range(M)] for s in DATA_SEEDS}
member_seconds = (time.perf_counter() - start) / (M * len(DATA_SEEDS))
probs = {s: [ensemble_probs([net], datasets[s].test.x) for net in members[s]] for s in DATA_SEEDS}  # each member alone
print(f"{M * len(DATA_SEEDS)} members trained, {member_seconds:.2f} s each")

# %% [markdown]
# ### The ensemble against its members
# For each data seed: the test accuracy and log loss of each member, of their mean, and of the ensemble.

# %%
rows = {}
for s in DATA_SEEDS:
    test = datasets[s].test
    p_ens = ensemble_probs(members[s], test.x)
    assert torch.allclose(Ensemble(members[s])(test.x), p_ens, atol=1e-6)   # the module and the function agree
    accs = [acc_of(p, test.y) for p in probs[s]]
    nlls = [log_loss(p, test.y) for p in probs[s]]
    rows[s] = {"member_acc": sum(accs) / M, "ens_acc": acc_of(p_ens, test.y), "best_acc": max(accs),
               "member_nll": sum(nlls) / M, "ens_nll": log_loss(p_ens, test.y)}
    r = rows[s]
    print(f"data seed {s}: members {min(accs):.3f}..{max(accs):.3f} (mean {r['member_acc']:.3f})  ensemble "
          f"{r['ens_acc']:.3f}   log loss: members {r['member_nll']:.3f}, ensemble {r['ens_nll']:.3f}")
acc_gain = sum(r["ens_acc"] - r["member_acc"] for r in rows.values()) / len(rows)
nll_gain = sum(r["member_nll"] - r["ens_nll"] for r in rows.values()) / len(rows)
print(f"mean over data seeds: ensemble - average member = {acc_gain:+.3f} accuracy, {-nll_gain:+.3f} log loss")

# %% [markdown]
# ### Checking the claim: the ensemble beats its average member
# Averaged over the data seeds, the ensemble of five is clearly more accurate than its average member (the decks' "typically
# about 2 %" is of that order), and its log loss is lower. How many points it gains varies with the seed and the kernels: the
# numbers above are this run's.

# %%
ctx.claim(acc_gain, ">", 0.012, f"the ensemble should beat its average member in accuracy, got {acc_gain:+.3f}")
ctx.claim(nll_gain, ">", 0.02, f"the ensemble should have a lower log loss than its average member, got {-nll_gain:+.3f}")
ctx.claim(min(r["ens_acc"] - r["member_acc"] for r in rows.values()), ">", 0.004,
          "the ensemble should beat its average member on every data seed", scale=0.01)

# %% [markdown]
# ## 2. Why averaging helps
# **The log loss, exactly.** $-\log$ is convex, so by Jensen's inequality, for every example,
#
# $$-\log \frac1M \sum_m p_m(y \mid x) \;\le\; \frac1M \sum_m -\log p_m(y \mid x),$$
#
# with equality only where all members give the label the same probability. Averaged over the test set: the ensemble's log loss
# is at most the mean of its members' log losses, **whatever** the members are. That is an identity, so it is an `assert`:

# %%
for s in DATA_SEEDS:
    y = datasets[s].test.y
    p_ens = ensemble_probs(members[s], datasets[s].test.x)
    per_example_ens = -p_ens.gather(1, y[:, None]).log().squeeze(1)
    per_example_members = torch.stack([-p.gather(1, y[:, None]).log().squeeze(1) for p in probs[s]]).mean(0)
    assert (per_example_ens <= per_example_members + 1e-6).all()
    assert rows[s]["ens_nll"] <= rows[s]["member_nll"] + 1e-6
print("Jensen: on every test example of every data seed, -log of the mean probability <= the mean of -log")

# %% [markdown]
# **Accuracy** has no such guarantee (a vote of members that all make the same mistake makes it too). It improves when the
# members' errors are **partly independent**. If two members erred independently, both would be wrong on a fraction
# $e_1 e_2$ of the examples; members trained on the same data share part of their errors, so the overlap is larger, but far
# from complete:

# %%
for s in DATA_SEEDS[:2]:
    y = datasets[s].test.y
    wrong = torch.stack([p.argmax(1) != y for p in probs[s]]).float()      # (M, N)
    pairs = list(itertools.combinations(range(M), 2))
    both = sum((wrong[i] * wrong[j]).mean().item() for i, j in pairs) / len(pairs)
    indep = sum(wrong[i].mean().item() * wrong[j].mean().item() for i, j in pairs) / len(pairs)
    one = wrong.mean().item()
    print(f"data seed {s}: a member errs on {one:.1%} of the test set; two members both err on {both:.1%} "
          f"(independent errors: {indep:.1%}, identical errors: {one:.1%})")

# %% [markdown]
# ### Accuracy against the number of members
# From the five members of a data seed, every subset of size $k$ makes an ensemble; the curve is the mean over the subsets and
# the data seeds. Most of the gain comes from the first few members; each further one adds less.

# %%
ks = list(range(1, M + 1))
curve_acc, curve_nll = [], []
for k in ks:
    a, n = [], []
    for s in DATA_SEEDS:
        y = datasets[s].test.y
        for subset in itertools.combinations(range(M), k):
            p = torch.stack([probs[s][i] for i in subset]).mean(0)
            a.append(acc_of(p, y))
            n.append(log_loss(p, y))
    curve_acc.append(sum(a) / len(a))
    curve_nll.append(sum(n) / len(n))
print("members k:  " + "  ".join(f"{k:5d}" for k in ks))
print("accuracy:   " + "  ".join(f"{v:.3f}" for v in curve_acc))
print("log loss:   " + "  ".join(f"{v:.3f}" for v in curve_nll))

# %% [markdown]
# ### Test accuracy grows with the number of averaged members

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(ks, curve_acc, "o-", color="C0", label="ensemble of k members")
ax.axhline(curve_acc[0], color="grey", ls="--", label="one member (k = 1)")
ax.set_xlabel("number of members k")
ax.set_ylabel("test accuracy")
ax.set_xticks(ks)
ax.set_title("Averaging more members: larger gains first, then smaller")
ax.legend()
plt.show()

# %%
ctx.claim(curve_acc[-1] - curve_acc[1], ">", 0.003, "five members should beat two on average", scale=0.01)
ctx.claim(curve_nll[1] - curve_nll[-1], ">", 0.01, "five members should have a lower log loss than two")

# %% [markdown]
# ## 3. Snapshot ensembles: M models from one run
# Independent members cost $M$ training runs. A **snapshot ensemble** (Huang et al. 2017; "Regularization, batchnorm and
# dropout") takes its members from **one** run with a cyclic schedule: cosine annealing with warm restarts (SGDR, notebook 11),
#
# $$\eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})\big(1 + \cos(\pi\, T_{cur}/T_i)\big),$$
#
# restarted every $T_i$ epochs. At the end of each cycle the rate is near $\eta_{\min}$ and the weights sit in a minimum; the
# restart to $\eta_0$ throws them out towards another one. `SnapshotCallback` keeps a copy of the weights at each cycle end
# (`cycle_ends(T_0, T_mult, epochs)` lists those epochs) and `.ensemble()` averages them.

# %% {"tags": ["listing"]}
show_source(SnapshotCallback)

# %% [markdown]
# ### One run, M snapshots
# The baseline's Adam, its rate annealed from $\eta_0$ to 0 by the cosine and restarted every `CYCLE` epochs; the snapshot
# callback sits next to the scheduler's.

# %%
def snapshot_run(data, seed):
    net = baseline_model(data, ctx.profile, generator=ctx.rng(seed))
    opt = baseline_optimizer(ctx.profile)(net.parameters())
    schedule = CosineAnnealingWarmRestarts(opt, T_0=CYCLE)
    snaps = SnapshotCallback(schedule)
    hist = fit(net, data.train, data.val, epochs=EPOCHS, optimizer=opt, batch_size=CFG["batch_size"], seed=seed,
               progress=False, callbacks=[SchedulerCallback(schedule), snaps])
    return snaps, hist


# %% [markdown]
# ### For each data seed: the snapshots, and independent members at the same total epochs
# The same total budget is also spent on $M$ **independent** members of `CYCLE` epochs each (with the baseline's constant
# rate). Accuracy / log loss on the test set.

# %%
snap = {}
for s in DATA_SEEDS:
    data, y, x = datasets[s], datasets[s].test.y, datasets[s].test.x
    snaps, hist = snapshot_run(data, 100 * s + 50)
    assert snaps.epochs == cycle_ends(CYCLE, 1, EPOCHS)
    singles, p_snap = [ensemble_probs([n], x) for n in snaps.snapshots], ensemble_probs(snaps.snapshots, x)
    short = [train_member(data, 100 * s + 60 + m, epochs=CYCLE) for m in range(M)]  # same total epochs
    p_short = ensemble_probs(short, x)
    short_member_acc = sum(acc_of(ensemble_probs([n], x), y) for n in short) / M
    p_ind = ensemble_probs(members[s], x)                                          # M times the epochs
    snap[s] = {"epochs": snaps.epochs, "hist": hist, "singles": singles, "p_snap": p_snap,
               "snap_accs": [acc_of(p, y) for p in singles],
               "last_acc": acc_of(singles[-1], y), "snap_acc": acc_of(p_snap, y),
               "last_nll": log_loss(singles[-1], y), "snap_nll": log_loss(p_snap, y),
               "short_acc": acc_of(p_short, y), "short_member_acc": short_member_acc, "short_nll": log_loss(p_short, y),
               "ind_acc": acc_of(p_ind, y), "ind_nll": log_loss(p_ind, y)}
    r = snap[s]
    print(f"data seed {s}: snapshots at epochs {r['epochs']}: " + " ".join(f"{a:.3f}" for a in r["snap_accs"]))
    print(f"   last snapshot {r['last_acc']:.3f}/{r['last_nll']:.3f}  snapshot ensemble {r['snap_acc']:.3f}/"
          f"{r['snap_nll']:.3f}  {M}x{CYCLE} epochs {r['short_acc']:.3f}/{r['short_nll']:.3f}  {M}x{EPOCHS} epochs "
          f"{r['ind_acc']:.3f}/{r['ind_nll']:.3f}")

# %% [markdown]
# ### The warm-restart schedule and the snapshots it keeps

# %% {"tags": ["plot"]}
s0 = DATA_SEEDS[0]
h = snap[s0]["hist"]
fig, ax = plt.subplots(figsize=(9, 4.2))
ax.plot(h.epoch, h.val_acc, color="C0", label="validation accuracy of the running weights")
ax.plot(snap[s0]["epochs"], [h.val_acc[e - 1] for e in snap[s0]["epochs"]], "o", color="C1", ms=8,
        label="snapshot (end of a cycle)")
ax.set_xlabel("epoch")
ax.set_ylabel("validation accuracy")
ax2 = ax.twinx()
ax2.plot(h.epoch, h.lr, color="grey", ls=":", label="learning rate")
ax2.set_ylabel("learning rate (at the start of the epoch)")
ax.set_title(f"One run, cosine annealing restarted every {CYCLE} epochs")
lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
ax.legend(lines, [l.get_label() for l in lines], loc="lower right")
plt.show()

# %% [markdown]
# ### What the snapshots give, and what they do not
# First an honest caveat about section 1: members of `EPOCHS` epochs are past their best on these noisy labels (notebook 05:
# early stopping), which is why independent members of only `CYCLE` epochs can do better, alone and averaged; the last line
# below shows that their ensemble also beats its average member, by less. Each snapshot is trained at a small rate at the end of its cycle, and with these noisy labels the later cycles memorize more
# of them. Averaging the snapshots gives back accuracy the last one lost. The claim below is the one that holds on every seed
# and kernel set we tried: the **snapshot ensemble is more accurate than its last snapshot**. Against independent models the
# picture depends on the budget and the seed, so it is printed, not claimed: at this scale the snapshots of one run are
# alike (their errors overlap more than those of independent models), and the comparison with independent members at the same
# total epochs moves with the cycle length.

# %%
snap_gain = sum(r["snap_acc"] - r["last_acc"] for r in snap.values()) / len(snap)
snap_nll_gain = sum(r["last_nll"] - r["snap_nll"] for r in snap.values()) / len(snap)
vs_short = sum(r["snap_acc"] - r["short_acc"] for r in snap.values()) / len(snap)
vs_ind = sum(r["snap_acc"] - r["ind_acc"] for r in snap.values()) / len(snap)
print(f"mean over data seeds: snapshot ensemble - last snapshot = {snap_gain:+.3f} accuracy, {-snap_nll_gain:+.3f} log loss")
print(f"snapshot ensemble - {M} independent members of {CYCLE} epochs (same total epochs) = {vs_short:+.3f} accuracy")
short_gain = sum(r["short_acc"] - r["short_member_acc"] for r in snap.values()) / len(snap)
print(f"members of {CYCLE} epochs: their ensemble - their average member = {short_gain:+.3f} accuracy")
print(f"snapshot ensemble - {M} independent members of {EPOCHS} epochs ({M}x the epochs) = {vs_ind:+.3f} accuracy")
ctx.claim(snap_gain, ">", 0.01, f"the snapshot ensemble should beat its last snapshot in accuracy, got {snap_gain:+.3f}")

# %% [markdown]
# ## 4. Calibration: is the ensemble's confidence honest?
# A model is **calibrated** when, among its predictions made with confidence 0.8, 80 % are right. The expected calibration
# error sorts predictions into $B$ confidence bins and averages the gap (`course_lib.metrics`, from notebook 03's family of
# metrics):
#
# $$\mathrm{ECE} = \sum_{b=1}^{B} \frac{|B_b|}{N}\,\big|\operatorname{acc}(B_b) - \operatorname{conf}(B_b)\big| .$$
#
# Averaging probabilities lowers the confidence wherever the members disagree. That cures an **over**-confident model, and makes
# an **under**-confident one worse; which one we have is printed below (confidence minus accuracy: positive means
# over-confident).

# %%
def conf_of(p):
    return p.max(dim=1).values.mean().item()


ece_gap = []
for s in DATA_SEEDS:
    y = datasets[s].test.y
    p_ens = ensemble_probs(members[s], datasets[s].test.x)
    member_ece = sum(expected_calibration_error(p, y) for p in probs[s]) / M
    member_gap = sum(conf_of(p) - acc_of(p, y) for p in probs[s]) / M
    r = snap[s]
    print(f"data seed {s}: ECE member {member_ece:.3f} (conf - acc {member_gap:+.3f}), ensemble "
          f"{expected_calibration_error(p_ens, y):.3f} ({conf_of(p_ens) - acc_of(p_ens, y):+.3f});  last snapshot "
          f"{expected_calibration_error(r['singles'][-1], y):.3f}, snapshot ensemble "
          f"{expected_calibration_error(r['p_snap'], y):.3f} ({conf_of(r['p_snap']) - r['snap_acc']:+.3f})")
    ece_gap.append(expected_calibration_error(p_ens, y) - member_ece)
print(f"mean over data seeds: ECE of the ensemble - mean ECE of its members = {sum(ece_gap) / len(ece_gap):+.3f}")

# %% [markdown]
# ### Checking it: here averaging makes the calibration worse
# Trained on labels of which 30 % are random and tested on clean ones, the members are **under**-confident (their confidence is
# below their accuracy), and averaging lowers the confidence further: the ensemble's ECE is higher than its members'. With clean
# labels and longer training (over-confident members) the same averaging lowers the ECE; the direction is a property of the
# members, not of ensembling.

# %%
ctx.claim(sum(ece_gap) / len(ece_gap), ">", 0.015, "with under-confident members the ensemble's ECE should be higher")

# %% [markdown]
# ### Reliability diagrams: one member and the ensemble of five
# Bars above the diagonal: right more often than the confidence says (under-confident); below: over-confident. The ensemble's
# predictions move to lower confidence bins, and its bars sit further above the diagonal.

# %% {"tags": ["plot"]}
s0 = DATA_SEEDS[0]
y0 = datasets[s0].test.y
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
reliability_diagram(probs[s0][0], y0, ax=axes[0], label="one member")
reliability_diagram(ensemble_probs(members[s0], datasets[s0].test.x), y0, ax=axes[1], label=f"ensemble of {M}")
for a in axes:
    a.set_xlabel("confidence")
    a.set_ylabel("accuracy")
    a.legend(fontsize=12, loc="upper left")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Dropout as an implicit ensemble
# Notebook 03 showed the other way to get many models for the price of one: a network trained with dropout is a family of
# $2^n$ thinned sub-networks sharing weights. At test time, weight scaling (`model.eval()`) approximates their average in one
# pass; the Monte-Carlo average `course_lib.dropout.mc_predict` estimates it with $K$ random masks (notebook 03, section on
# Monte-Carlo dropout). Here we only put the three kinds of ensemble side by side on one data seed.

# %%
s0 = DATA_SEEDS[0]
data = datasets[s0]
dropout_net = train_member(data, 100 * s0 + 90, dropout=0.5)
p_ws = ensemble_probs([dropout_net], data.test.x)
p_mc = mc_predict(use_generator(dropout_net, ctx.rng(7, device=ctx.device)), data.test.x, n_samples=30)
y = data.test.y
print(f"dropout net, weight scaling:      accuracy {acc_of(p_ws, y):.3f}, log loss {log_loss(p_ws, y):.3f}")
print(f"dropout net, 30 random masks:     accuracy {acc_of(p_mc, y):.3f}, log loss {log_loss(p_mc, y):.3f}")
print(f"one plain member:                 accuracy {rows[s0]['member_acc']:.3f} (mean of {M}), "
      f"log loss {rows[s0]['member_nll']:.3f}")
print(f"ensemble of {M} plain members:      accuracy {rows[s0]['ens_acc']:.3f}, log loss {rows[s0]['ens_nll']:.3f}")

# %% [markdown]
# Dropout's sub-networks are trained **together** and share every weight, so their errors are far from independent; its
# Monte-Carlo average is an ensemble of one training run, like the snapshots. It pays at inference ($K$ passes), not in training.

# %% [markdown]
# ## 6. The cost
# An ensemble of $M$ independent models costs $M$ times the training **and** $M$ times the inference (memory and time): the
# price of the decks' "+2 %". A snapshot ensemble removes the training factor and keeps the inference one. Measured here:

# %%
x = datasets[DATA_SEEDS[0]].test.x
ens_module = Ensemble(members[DATA_SEEDS[0]]).eval()
with torch.no_grad():
    t0 = time.perf_counter()
    for _ in range(20):
        members[DATA_SEEDS[0]][0](x)
    t1 = time.perf_counter()
    for _ in range(20):
        ens_module(x)
    t2 = time.perf_counter()
print(f"training: {member_seconds:.2f} s per member, {M * member_seconds:.2f} s for an ensemble of {M}")
print(f"inference on {len(x)} test images: one member {(t1 - t0) / 20 * 1e3:.2f} ms, the ensemble "
      f"{(t2 - t1) / 20 * 1e3:.2f} ms")
print(f"the ensemble as a model: evaluate(Ensemble(members, output='log_probs'), test) = "
      f"{evaluate(Ensemble(members[DATA_SEEDS[0]], output='log_probs'), datasets[DATA_SEEDS[0]].test)}")

# %% [markdown]
# ## Summary
# - An ensemble averages the members' **probabilities**: $\hat p = \frac1M\sum_m \operatorname{softmax}(f_m(x))$. Here five
#   baseline networks from different seeds beat their average member by two to three points of accuracy (mean over four
#   data seeds) and in log loss.
# - Its log loss is never worse than the members' mean (Jensen's inequality: an identity, asserted above); its accuracy gains
#   because the members' errors are only partly shared. Most of the gain comes from the first few members.
# - A snapshot ensemble takes $M$ members from one run with warm restarts: the training cost of one model. Here it beats its own
#   last snapshot by three to four points of accuracy; whether it matches independent models depends on the budget and the seed.
# - Averaging lowers the confidence: it helps an over-confident model's calibration and can hurt an under-confident one (check
#   with the ECE and a reliability diagram, do not assume).
# - Dropout is an implicit ensemble of weight-sharing sub-networks (notebook 03). Every explicit ensemble costs $M$ times the
#   inference.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — the ensemble average
# Write `average_probs(models, x)`: the ensemble's prediction, shape `(N, classes)`, for a list of classifiers that output logits
# `(N, classes)`. The models come straight from training (in training mode, and they contain dropout). Do not use `course_lib`.

# %% {"tags": ["exercise"]}
def average_probs(models, x):
    ...  # your code here: return a tensor (N, classes)
    return None


# %%
ex.check_ensemble_average(average_probs)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Put every model in eval mode (dropout off, so the prediction is deterministic), take the softmax of each model's logits over
# the classes (`dim=1`), stack them to `(M, N, classes)` and take the mean over the models (`dim=0`). Averaging logits, voting
# with the argmaxes or summing give different answers; the checker says which one it recognises.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_average_probs(models, x):
    with torch.no_grad():
        for model in models:
            model.eval()
        return torch.stack([model(x).softmax(dim=1) for model in models]).mean(dim=0)


assert ex.check_ensemble_average(solution_average_probs)

# %% [markdown]
# ### Exercise 2 — when are the snapshots taken?
# A snapshot run of 40 epochs uses `CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)`, stepped once per epoch, and a
# `SnapshotCallback`. After which epochs (counted from 1) does it keep a snapshot? Give a list of ints (work it out by hand;
# `course_lib.ensembles.cycle_ends` is what the checker uses).

# %% {"tags": ["exercise"]}
snapshot_epochs = None  # e.g. [1, 2, 3]

# %%
ex.check_snapshot_epochs(snapshot_epochs)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# The periods are 4, 8, 16, 32, ... epochs long; each snapshot is taken at the end of a period, at the running sums 4, 4 + 8 = 12,
# 12 + 16 = 28. The next period would end at 60, past the 40 epochs, so epochs 29–40 (a period cut short, at a still high
# rate) add no snapshot.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
solution_snapshot_epochs = [4, 12, 28]
assert ex.check_snapshot_epochs(solution_snapshot_epochs)
