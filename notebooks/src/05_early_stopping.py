# %% [markdown]
# # 05 · Early stopping
#
# **Learning objectives.** After this notebook you can
# 1. **explain** why the validation loss of a large network turns upwards while its training loss keeps falling, and where to stop;
# 2. **run** the lecture's patience algorithm (evaluate every $n$ steps, keep $\theta^*$ and $i^*$, stop after $p$ evaluations
#    without improvement) and **predict** the step at which it stops;
# 3. **restore** the best weights and **use** early stopping as model selection over a whole run;
# 4. **choose** the patience, a minimum improvement and the metric to watch;
# 5. **relate** early stopping to L2 regularization ($\lambda \approx 1/(\alpha\tau)$) and **compare** it with an L2 sweep.
#
# *Lecture:* deck 001 (early stopping, algorithm 7.1, its properties and the link to L2), deck 002 (early stopping and model
# selection), deck 004 (detecting overfitting on the validation set). *Runs in:* about 30 s on a laptop CPU (fast profile).

# %% [markdown]
# ## Set-up
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST, a wider network and longer runs
# (see the README).

# %%
import math

import matplotlib.pyplot as plt
import torch

from course_lib import evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.early_stopping import EarlyStopper, EarlyStopping, equivalent_l2, gd_filter, ridge_filter
from course_lib.exercises import ex05 as ex
from course_lib.training import LambdaCallback

ctx = setup_notebook(seed=0)
DATASET = ctx.pick(fast="mnist1d", full="mnist")
HIDDEN = ctx.pick(fast=[256, 256], full=[1024, 1024])   # a wide MLP: plenty of capacity to overfit
EPOCHS = ctx.pick(fast=40, full=60)                     # the whole training budget
BATCH, LR, MOMENTUM = 256, 0.1, 0.9                     # SGD with momentum throughout
EVERY = ctx.pick(fast=10, full=100)                     # n: optimizer steps between two evaluations
PATIENCE = 5                                            # p: evaluations without improvement before stopping
SEEDS = [0, 1, 2]
LAMBDAS = [3e-3, 1e-2, 3e-2]                            # the L2 sweep of section 6 (λ = 0 is the plain run)


def sgd(weight_decay=0.0):
    """An optimizer factory for fit(): SGD with momentum, optionally with L2 through weight_decay."""
    return lambda params: torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=weight_decay)

# %% [markdown]
# ## 1. Where to stop
# A network with enough capacity to memorize its training set shows a typical picture: the **training** error falls steadily,
# while the **validation** error falls, bottoms out and rises again. The weights at the bottom are the ones we want; everything
# after it fits the particular training examples, not the task. Early stopping keeps those weights and stops paying for the rest
# of the run. It is the most widely used regularizer in deep learning: training itself is unchanged, we only watch it.
#
# ### The patience algorithm (deck 001, Goodfellow et al., algorithm 7.1)
# Validation curves are noisy, so "stop at the first increase" would stop at the first wiggle. Instead we wait for $p$
# evaluations (the **patience**) without a new best. With $n$ the number of steps between evaluations and $\theta_o$ the initial
# parameters:
#
# $$\theta \leftarrow \theta_o,\quad i \leftarrow 0,\quad j \leftarrow 0,\quad v \leftarrow \infty,\quad
#   \theta^* \leftarrow \theta,\quad i^* \leftarrow i$$
#
# **while** $j < p$:
# 1. update $\theta$ by running the training algorithm for $n$ steps; $i \leftarrow i + n$
# 2. $v' \leftarrow \text{ValidationSetError}(\theta)$
# 3. **if** $v' < v$: $\;j \leftarrow 0,\ \theta^* \leftarrow \theta,\ i^* \leftarrow i,\ v \leftarrow v'$ (a new best: remember it)
# 4. **else**: $\;j \leftarrow j + 1$ (one more evaluation without improvement)
#
# The result is the best parameters $\theta^*$ and the best number of steps $i^*$. Because $j$ is reset at every improvement, the
# loop ends **exactly $p$ evaluations after the best one**, at step $i = i^* + p\,n$.
#
# Two common extras: a **minimum improvement** $\delta$ (`min_delta`: count $v' < v - \delta$ only), so that tiny noisy gains do
# not reset the patience, and watching a metric to **maximize** (accuracy: $v' > v + \delta$).

# %% [markdown]
# ### The bookkeeping, on plain numbers
# `EarlyStopper` is the algorithm without a model: `update(v', i)` records one evaluation and returns `True` when the patience has
# run out.

# %%
show_source(EarlyStopper)

# %% [markdown]
# A scripted run: validation losses measured every $n = 10$ steps, patience $p = 3$. Follow $j$, $i^*$ and $v$ row by row.

# %%
# NBVAL_CHECK_OUTPUT
script = [0.90, 0.72, 0.65, 0.67, 0.61, 0.63, 0.62, 0.64, 0.55]


def trace(values, patience, every, min_delta=0.0):
    """Feed the values to an EarlyStopper and print the state after each evaluation."""
    stopper = EarlyStopper(patience, min_delta=min_delta)
    print("   i     v'   new best?   j    i*     v")
    for k, value in enumerate(values, 1):
        stop = stopper.update(value, k * every)
        print(f"{k * every:4d}  {value:.2f}   {'yes' if stopper.improved else 'no ':>6}     {stopper.wait}  {stopper.best_step:4d}  "
              f"{stopper.best:.2f}")
        if stop:
            print(f"stop at i = {stopper.stop_step} = i* + p·n = {stopper.best_step} + {patience}·{every}")
            break
    return stopper


demo = trace(script, patience=3, every=10)
assert demo.stop_step == demo.best_step + 3 * 10 == 80

# %% [markdown]
# The last value, 0.55, would have been a new best, but the run never gets there: patience is a bet that the curve has turned. With
# a minimum improvement of $\delta = 0.05$, the step from 0.65 to 0.61 no longer counts, and the run stops earlier:

# %%
# NBVAL_CHECK_OUTPUT
demo_delta = trace(script, patience=3, every=10, min_delta=0.05)
assert demo_delta.best_step == 30 and demo_delta.stop_step == 60

# %% [markdown]
# ## 2. Early stopping as a callback for `fit`
# `EarlyStopping` wraps the same bookkeeping into a `Callback` and adds the weights: after every $n$-th optimizer step it asks
# `fit` for the validation loss (`state.evaluate()`), keeps a copy of the `state_dict` whenever the value is a new best
# ($\theta^* \leftarrow \theta$), sets `state.stop` when $j$ reaches $p$, and loads $\theta^*$ back into the model when training
# ends. With `every_n_steps=None` it evaluates once per epoch instead (then $i$ counts epochs); with `patience=None` it never
# stops and only keeps the best weights: that is **model selection** over the whole run (deck 002).

# %%
show_source(EarlyStopping)

# %% [markdown]
# ## 3. The experiment: a wide MLP that overfits MNIST-1D
# The MLP 40-256-256-10 has about 79 000 weights for 3 200 training signals; trained with SGD (learning rate 0.1, momentum 0.9,
# batches of 256) it starts to overfit after a few hundred steps. We train it twice from the same seed:
#
# * **the whole budget** (`EPOCHS` = 40 epochs) with `EarlyStopping(patience=None)`, to see the full curve and to do model selection;
# * **with early stopping**, patience $p = 5$ evaluations, one evaluation every $n = 10$ steps.
#
# A `LambdaCallback` placed *before* the early-stopping callback sees the weights at the moment training stops, before $\theta^*$
# is restored: it records how good the last weights were.

# %%
data = load_dataset(DATASET, device=ctx.device)
print(data)


def train(seed, patience, weight_decay=0.0, epochs=EPOCHS):
    """A fresh MLP trained with SGD; returns (model, history, early-stopping callback, metrics of the last weights)."""
    torch.manual_seed(seed)
    model = mlp(data.num_features, HIDDEN, data.num_classes).to(ctx.device)
    last = {}
    record_last = LambdaCallback(on_fit_end=lambda state: last.update(val=evaluate(state.model, data.val),
                                                                      test=evaluate(state.model, data.test)))
    stopping = EarlyStopping(monitor="val_loss", patience=patience, every_n_steps=EVERY)
    history = fit(model, data.train, data.val, epochs=epochs, batch_size=BATCH, seed=seed,
                  optimizer=sgd(weight_decay), callbacks=[record_last, stopping])
    return model, history, stopping, last


full_model, full_hist, full_cb, full_last = train(0, patience=None)     # whole budget, keep the best (model selection)
es_model, es_hist, es_cb, es_last = train(0, patience=PATIENCE)         # early stopping
STEPS_PER_EPOCH = math.ceil(len(data.train) / BATCH)
print(f"whole budget: {full_cb.steps[-1]} steps; early stopping: stopped at step {es_cb.stop_step}, "
      f"best step i* = {es_cb.best_step}")

# %%
def mark_run(ax, cb, color="k"):
    """Mark i* and θ* (the best evaluation) and the patience window up to the stop on a curve of val loss over steps."""
    ax.axvspan(cb.best_step, cb.stop_step, color="tab:orange", alpha=0.15,
               label=f"patience: {PATIENCE} evaluations without a new best")
    ax.axvline(cb.stop_step, color="tab:orange", lw=2, label=f"stop at step {cb.stop_step}")
    ax.plot([cb.best_step], [cb.best_value], "*", color=color, ms=16, zorder=5,
            label=rf"$\theta^*$ at $i^*$ = {cb.best_step} (val loss {cb.best_value:.3f})")


fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
train_steps = [min(e * STEPS_PER_EPOCH, full_cb.steps[-1]) for e in full_hist.epoch]
ax = axes[0]
ax.plot(train_steps, full_hist.train_loss, "-", color="tab:blue", label="training loss (whole budget)")
ax.plot(full_cb.steps, full_cb.values, "-", color="tab:red", alpha=0.35, label="validation loss (whole budget)")
ax.plot(es_cb.steps, es_cb.values, ".-", color="tab:red", label=f"validation loss, every n = {EVERY} steps")
mark_run(ax, es_cb)
ax.set(xlabel="optimizer step i", ylabel="cross-entropy loss", title="Early stopping on the validation loss",
       ylim=(0, 1.5 * full_cb.values[0]))
ax.legend(fontsize=8.5, loc="upper right")

ax = axes[1]
val_acc_steps = [min(e * STEPS_PER_EPOCH, full_cb.steps[-1]) for e in full_hist.epoch]
ax.plot(val_acc_steps, full_hist.val_acc, "-", color="tab:red", label="validation accuracy (end of each epoch)")
ax.axvline(es_cb.best_step, color="k", ls=":", label=f"$i^*$ = {es_cb.best_step} (chosen on the loss)")
ax.axvline(es_cb.stop_step, color="tab:orange", lw=2, label="stop")
ax.set(xlabel="optimizer step i", ylabel="accuracy", title="Validation accuracy of the same run")
ax.legend(fontsize=9, loc="lower right")
plt.show()

# %% [markdown]
# ## 4. Checking the claim: it stops after `patience` non-improving evaluations and restores the best weights
# Four things must hold on the real run:
# 1. it stopped at $i^* + p\,n$, and the last $p$ evaluations were all no better than $v$;
# 2. it evaluated every $n$ steps, and its evaluations are **exactly the first ones of the whole-budget run**: early stopping does
#    not change training, it cuts it short;
# 3. the model it returns has the validation loss of the best evaluation (it *is* $\theta^*$, to float precision);
# 4. that loss beats the one of the weights at the stop.

# %%
after_best = es_cb.values[es_cb.steps.index(es_cb.best_step) + 1:]
restored = evaluate(es_model, data.val)
print(f"i* = {es_cb.best_step}, stop = {es_cb.stop_step} = i* + {PATIENCE}·{EVERY};  evaluations after i*: {len(after_best)}")
print(f"best recorded val loss v = {es_cb.best_value:.4f};  restored model: {restored['loss']:.4f};  "
      f"weights at the stop: {es_last['val']['loss']:.4f}")
print(f"steps trained: {es_cb.stop_step} of {full_cb.steps[-1]} ({es_cb.stop_step / full_cb.steps[-1]:.0%} of the budget)")
assert es_cb.stop_step == es_cb.best_step + PATIENCE * EVERY
assert len(after_best) == PATIENCE and min(after_best) >= es_cb.best_value, "exactly p evaluations, none a new best"
assert es_cb.steps == list(range(EVERY, es_cb.stop_step + 1, EVERY))
assert es_cb.values == full_cb.values[:len(es_cb.values)], "the early-stopped run is the start of the whole run"
assert math.isclose(restored["loss"], es_cb.best_value, rel_tol=1e-5), "the restored weights are θ*"
assert restored["loss"] < es_last["val"]["loss"] - 0.02, "θ* must beat the weights at the stop"

# %% [markdown]
# The same on three seeds, and a look at the **test** set (used only here, for reporting): is the restored model also better on
# data that played no part in choosing it?

# %%
es_runs = {0: (es_model, es_hist, es_cb, es_last)}
es_runs.update({seed: train(seed, patience=PATIENCE) for seed in SEEDS[1:]})
print("seed   i*  stop   val loss: best  restored  at stop    test loss: restored  at stop   test acc: restored  at stop")
test_gain = []
for seed, (model, hist, cb, last) in es_runs.items():
    val_restored, test_restored = evaluate(model, data.val), evaluate(model, data.test)
    print(f"{seed:4d} {cb.best_step:4d} {cb.stop_step:5d}    {cb.best_value:14.3f} {val_restored['loss']:9.3f} "
          f"{last['val']['loss']:8.3f} {test_restored['loss']:20.3f} {last['test']['loss']:8.3f} "
          f"{test_restored['acc']:19.3f} {last['test']['acc']:8.3f}")
    assert cb.stop_step == cb.best_step + PATIENCE * EVERY
    assert math.isclose(val_restored["loss"], cb.best_value, rel_tol=1e-5)
    assert val_restored["loss"] < last["val"]["loss"]
    test_gain.append(last["test"]["loss"] - test_restored["loss"])
print(f"mean test-loss gain of restoring: {sum(test_gain) / len(test_gain):.3f}")
assert sum(test_gain) / len(test_gain) > 0.02, "restoring θ* should also lower the test loss on average"

# %% [markdown]
# ## 5. Model selection, patience and what to watch
# **Model selection.** Deck 002's alternative: train for the whole budget, keep the best weights seen, and use those. That is the
# whole-budget run above (`patience=None`): it finds the global minimum of the recorded validation curve, at the price of training
# to the end.

# %%
selected = evaluate(full_model, data.val)
print(f"model selection over {full_cb.steps[-1]} steps: best at step {full_cb.best_step}, val loss {full_cb.best_value:.4f} "
      f"(restored: {selected['loss']:.4f}); the last weights: {full_last['val']['loss']:.4f}")
print(f"early stopping (p = {PATIENCE}): best at step {es_cb.best_step}, val loss {es_cb.best_value:.4f}, "
      f"after {es_cb.stop_step} steps")
assert full_cb.stop_step is None and full_cb.best_value == min(full_cb.values)
assert math.isclose(selected["loss"], full_cb.best_value, rel_tol=1e-5)
assert es_cb.best_value >= full_cb.best_value

# %% [markdown]
# **Choosing the patience.** Because the early-stopped run is the beginning of the whole run (checked above), we can replay the
# recorded validation curve through `EarlyStopper` for every patience at no extra training cost. A small patience stops at the
# first wiggle; a large one finds a better minimum but trains longer (and keeps training after the turn):

# %%
patiences = list(range(1, 21))
replays = []
for p in patiences:
    stopper = EarlyStopper(p)
    for step, value in zip(full_cb.steps, full_cb.values):
        if stopper.update(value, step):
            break
    replays.append((stopper.stop_step or full_cb.steps[-1], stopper.best))

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(patiences, [r[0] for r in replays], "o-", color="tab:blue", label="steps trained")
ax.set(xlabel="patience p (evaluations)", ylabel="steps trained", title="The price and the gain of patience")
ax2 = ax.twinx()
ax2.plot(patiences, [r[1] for r in replays], "s--", color="tab:red", label="best val loss found")
ax2.set_ylabel("best validation loss found")
ax2.grid(False)
lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
ax.legend(lines, [line.get_label() for line in lines], loc="center right")
plt.show()

# %%
for p in (1, 2, PATIENCE, 10, 20):
    stop, best = replays[p - 1]
    print(f"p = {p:2d}: stops at step {stop:3d}, best val loss {best:.3f}")
assert replays[PATIENCE - 1] == (es_cb.stop_step, es_cb.best_value), "the replay reproduces the real run"
assert all(a[0] <= b[0] and a[1] >= b[1] for a, b in zip(replays, replays[1:])), "more patience: later stop, never worse"

# %% [markdown]
# **What to watch.** The right panel of the figure in section 3 holds a surprise: the validation **accuracy** keeps creeping up
# long after the validation **loss** has turned. The network keeps getting a few more examples right, but grows more and more
# confident on the ones it gets wrong, and the cross-entropy punishes confident mistakes heavily. So the step with the lowest loss
# (the best-calibrated model) is not the step with the highest accuracy. Watch the metric you will be judged on:
# `EarlyStopping(monitor="val_acc")` maximizes accuracy instead (accuracy moves in steps of $1/N_{\text{val}}$ and plateaus,
# so it needs a larger patience).

# %%
best_loss_epoch, best_acc_epoch = full_hist.best_epoch("val_loss"), full_hist.best_epoch("val_acc")
print(f"lowest val loss at epoch {best_loss_epoch} ({min(full_hist.val_loss):.3f}, accuracy "
      f"{full_hist.val_acc[best_loss_epoch - 1]:.3f}); highest val accuracy at epoch {best_acc_epoch} "
      f"({max(full_hist.val_acc):.3f}, loss {full_hist.val_loss[best_acc_epoch - 1]:.3f})")
assert best_acc_epoch > best_loss_epoch + 5, "the accuracy should peak well after the loss"

# %% [markdown]
# ## 6. Early stopping acts like L2 regularization
# Deck 001: early stopping "is equivalent to L2 regularization". The argument (Goodfellow et al., section 7.8) uses a quadratic
# approximation of the loss around its minimum $w^*$, with Hessian $H = Q\Lambda Q^\top$ (eigenvalues $\lambda_k$):
#
# $$J(w) \approx J(w^*) + \tfrac12 (w - w^*)^\top H (w - w^*).$$
#
# **Gradient descent** from $w^{(0)} = 0$ with step $\alpha$ shrinks the remaining error along each eigenvector by
# $(1 - \alpha\lambda_k)$ per step, so after $\tau$ steps
#
# $$Q^\top w^{(\tau)} = \big[I - (I - \alpha\Lambda)^{\tau}\big]\, Q^\top w^* .$$
#
# **L2 regularization**, minimizing $J(w) + \tfrac{\lambda}{2}\lVert w\rVert^2$, gives
#
# $$Q^\top \tilde w = (\Lambda + \lambda I)^{-1}\Lambda\, Q^\top w^* = \big[I - (\Lambda + \lambda I)^{-1}\lambda\big]\, Q^\top w^*.$$
#
# Both keep a fraction $f_k$ of $w^*$ along each direction. They agree when $(1-\alpha\lambda_k)^\tau \approx \lambda/(\lambda_k+\lambda)$;
# for small $\alpha\lambda_k$ and $\lambda_k \ll \lambda$, taking logs gives $-\tau\alpha\lambda_k \approx -\lambda_k/\lambda$, that is
#
# $$\boxed{\;\lambda \approx \frac{1}{\alpha\,\tau}\;}$$
#
# Training longer (larger $\tau$) is like a weaker penalty. Directions with a large curvature $\lambda_k$ are learned early
# ($f_k \to 1$); flat directions, where the data say little, stay near zero: the same thing L2 does.

# %%
show_source(gd_filter)
show_source(ridge_filter)
show_source(equivalent_l2)

# %% [markdown]
# A two-dimensional quadratic with one steep and one flat direction makes it visible. We run real gradient descent
# (`torch.optim.SGD`) from $w = 0$, and draw the path of the L2 solutions $\tilde w(\lambda)$ as $\lambda$ goes from $\infty$ to
# 0. The markers pair the GD iterate after $\tau$ steps with the L2 solution for $\lambda = 1/(\alpha\tau)$.

# %%
theta = torch.tensor(0.5)
Q = torch.tensor([[torch.cos(theta), -torch.sin(theta)], [torch.sin(theta), torch.cos(theta)]], dtype=torch.float64)
eigs = torch.tensor([1.0, 0.04], dtype=torch.float64)
H = Q @ torch.diag(eigs) @ Q.T
w_star = torch.tensor([1.0, 1.5], dtype=torch.float64)
alpha, TAUS = 0.2, [2, 10, 40, 150]

w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
opt = torch.optim.SGD([w], lr=alpha)
path = [w.detach().clone()]
for _ in range(max(TAUS)):
    opt.zero_grad()
    (0.5 * (w - w_star) @ H @ (w - w_star)).backward()
    opt.step()
    path.append(w.detach().clone())
path = torch.stack(path)


def ridge_solution(lam):
    """The minimizer of J(w) + (λ/2)||w||² through the eigen-decomposition: Q diag(f) Qᵀ w*."""
    return Q @ (ridge_filter(eigs, lam) * (Q.T @ w_star))


lams = torch.logspace(-4, 3, 400).tolist()
ridge_path = torch.stack([ridge_solution(lam) for lam in lams])

fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
ax = axes[0]
grid = torch.linspace(-0.6, 2.2, 120, dtype=torch.float64)
W1, W2 = torch.meshgrid(grid, grid, indexing="xy")
D = torch.stack([W1 - w_star[0], W2 - w_star[1]], dim=-1)
ax.contour(W1, W2, 0.5 * torch.einsum("...i,ij,...j->...", D, H, D), levels=12, colors="grey", linewidths=0.6)
ax.plot(path[:, 0], path[:, 1], ".-", color="tab:blue", ms=3, label=rf"gradient descent, $\alpha$ = {alpha}")
ax.plot(ridge_path[:, 0], ridge_path[:, 1], "-", color="tab:red", lw=2, alpha=0.7, label=r"L2 solutions $\tilde w(\lambda)$")
for tau in TAUS:
    ax.plot(*path[tau], "o", color="tab:blue", ms=8)
    ax.plot(*ridge_solution(equivalent_l2(alpha, tau)), "x", color="tab:red", ms=10, mew=2)
    ax.annotate(rf"$\tau$={tau}", path[tau].tolist(), textcoords="offset points", xytext=(6, -12), fontsize=10)
ax.plot(*w_star, "k*", ms=14, label="$w^*$ (no regularization)")
ax.set(xlabel="$w_1$", ylabel="$w_2$", title=r"GD after $\tau$ steps (o) vs L2 with $\lambda = 1/(\alpha\tau)$ (x)", aspect="equal")
ax.legend(fontsize=9, loc="lower right")

ax = axes[1]
spectrum = torch.logspace(-5, 0, 200, dtype=torch.float64)
for tau, color in zip((10, 100, 1000), ("tab:green", "tab:purple", "tab:brown")):
    ax.plot(spectrum, gd_filter(spectrum, alpha, tau), "-", color=color, label=rf"GD, $\tau$ = {tau}")
    ax.plot(spectrum, ridge_filter(spectrum, equivalent_l2(alpha, tau)), "--", color=color,
            label=rf"L2, $\lambda = 1/(\alpha\tau)$ = {equivalent_l2(alpha, tau):g}")
ax.set(xscale="log", xlabel=r"curvature $\lambda_k$ of a direction", ylabel=r"fraction $f_k$ of $w^*_k$ kept",
       title="Both filter out the flat directions")
ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# ### Checking the link on the quadratic
# The GD iterates follow `gd_filter` to float precision. For each $\tau$ we search the L2 path for the solution closest to the GD
# iterate: the approximation is rough, but the matching $\lambda$ stays within a small factor of $1/(\alpha\tau)$ while $\tau$
# grows 75-fold, and the two points are close.

# %%
# NBVAL_CHECK_OUTPUT
for tau in TAUS:
    predicted = Q @ (gd_filter(eigs, alpha, tau) * (Q.T @ w_star))
    assert torch.allclose(path[tau], predicted, atol=1e-12), "real GD follows the eigen-decomposition formula"
    lam = equivalent_l2(alpha, tau)
    dist = [(path[tau] - point).norm().item() / w_star.norm().item() for point in ridge_path]
    closest = min(range(len(lams)), key=dist.__getitem__)
    at_lam = (path[tau] - ridge_solution(lam)).norm().item() / w_star.norm().item()
    print(f"tau = {tau:3d}: 1/(alpha tau) = {lam:7.4f};  closest L2 solution at lambda = {lams[closest]:7.4f} "
          f"(ratio {lams[closest] / lam:.2f}, distance {dist[closest]:.3f} |w*|);  distance at 1/(alpha tau): {at_lam:.3f} |w*|")
    assert 1 / 4 < lams[closest] / lam < 4 and dist[closest] < 0.1 and at_lam < 0.25

# %% [markdown]
# ## 7. Early stopping vs an L2 sweep on the MLP
# The lecture's second half of the claim: early stopping is *better* than L2 in one respect, because it finds the amount of
# regularization **in one run**, while $\lambda$ must be tuned by training once per candidate value. We train the same MLP to the
# end of the budget with L2 for three values of $\lambda$ (SGD's `weight_decay=λ` adds $\lambda w$ to the gradient, which is
# exactly the L2 penalty $\tfrac{\lambda}{2}\lVert w\rVert^2$ for SGD, notebook 02; it also decays the biases here), plus
# $\lambda = 0$, which is the whole-budget run from section 3. Each L2 run is judged by its **last** weights, as it would be without
# early stopping.
#
# With momentum $\beta$, a steady gradient moves the weights by $\alpha/(1-\beta)$ per step, so the effective step in
# $\lambda \approx 1/(\alpha\tau)$ is $\alpha_{\text{eff}} = 0.1/(1-0.9) = 1$.

# %%
l2_runs = {0.0: (full_hist, full_last)}
for lam in LAMBDAS:
    _, hist, _, last = train(0, patience=None, weight_decay=lam)
    l2_runs[lam] = (hist, last)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
ax = axes[0]
for (lam, (hist, _)), color in zip(l2_runs.items(), ("tab:red", "tab:olive", "tab:green", "tab:blue")):
    ax.plot([min(e * STEPS_PER_EPOCH, full_cb.steps[-1]) for e in hist.epoch], hist.val_loss, "-", color=color,
            label=rf"L2 $\lambda$ = {lam:g}")
ax.plot([es_cb.best_step], [es_cb.best_value], "k*", ms=16, label=rf"early stopping: $\theta^*$ at $i^*$ = {es_cb.best_step}")
ax.axvline(es_cb.stop_step, color="tab:orange", lw=2, label="early stopping: stop")
all_val = [v for hist, _ in l2_runs.values() for v in hist.val_loss]
ax.set(xlabel="optimizer step", ylabel="validation loss", title="L2 runs vs one early-stopped run",
       ylim=(0.9 * min(all_val), 1.2 * max(all_val)))
ax.legend(fontsize=9)

ax = axes[1]
lam_axis = [1e-3] + LAMBDAS                            # λ = 0 drawn at the left edge of the log axis
ax.plot(lam_axis, [l2_runs[lam][1]["val"]["loss"] for lam in l2_runs], "o-", color="tab:blue", label="L2: val loss at the end")
ax.axhline(es_cb.best_value, color="k", ls="--", label="early stopping (one run)")
alpha_eff = LR / (1 - MOMENTUM)
lam_equiv = equivalent_l2(alpha_eff, es_cb.best_step)
ax.axvline(lam_equiv, color="tab:orange", ls=":", lw=2, label=rf"$1/(\alpha_{{eff}}\, i^*)$ = {lam_equiv:.4f}")
ax.set(xscale="log", xlabel=r"L2 strength $\lambda$ (leftmost point: $\lambda$ = 0)", ylabel="validation loss",
       title="The L2 sweep")
ax.legend(fontsize=9)
plt.show()

# %% [markdown]
# ### Checking the claim: one early-stopped run comes close to the best of the sweep
# The sweep's best $\lambda$ is chosen on the validation loss, like $i^*$. We compare validation loss and accuracy (margins: 0.15
# in loss, 5 points in accuracy), then report the test numbers of both chosen models once.

# %%
best_lam = min(LAMBDAS + [0.0], key=lambda lam: l2_runs[lam][1]["val"]["loss"])
best_l2 = l2_runs[best_lam][1]
es_val, es_test = evaluate(es_model, data.val), evaluate(es_model, data.test)
print("                       steps   val loss  val acc   test loss  test acc")
for lam, (hist, last) in l2_runs.items():
    print(f"L2 lambda = {lam:<8g}   {full_cb.steps[-1]:5d}   {last['val']['loss']:8.3f} {last['val']['acc']:8.3f} "
          f"{last['test']['loss']:11.3f} {last['test']['acc']:9.3f}")
print(f"early stopping        {es_cb.stop_step:5d}   {es_val['loss']:8.3f} {es_val['acc']:8.3f} "
      f"{es_test['loss']:11.3f} {es_test['acc']:9.3f}")
print(f"best L2: lambda = {best_lam:g} after {len(l2_runs)} runs of {full_cb.steps[-1]} steps;  early stopping: one run of "
      f"{es_cb.stop_step} steps, acting like lambda = 1/(alpha_eff i*) = {lam_equiv:.4f}")
assert best_lam > 0, "some L2 should beat no regularization at the end of the budget"
assert es_val["loss"] < best_l2["val"]["loss"] + 0.15, "early stopping should come close to the best L2 on val loss"
assert es_val["acc"] > best_l2["val"]["acc"] - 0.05, "...and on val accuracy"
assert es_val["loss"] < l2_runs[0.0][1]["val"]["loss"] - 0.2, "and clearly beat training to the end without regularization"
assert best_lam / 10 < lam_equiv < best_lam * 10, "the sweep's best λ should be of the order of 1/(α_eff i*)"

# %% [markdown]
# The two regularizers land in the same region: the sweep's best $\lambda$ is of the order of $1/(\alpha_{\text{eff}}\, i^*)$
# (within a factor of a few, like on the quadratic), and the early-stopped network has the accuracy of the best L2 network and a
# validation loss about 10% higher, after **one run of half the budget instead of four full runs**. The equivalence is only
# approximate for a deep network: the loss is not quadratic, and its curvature changes during training.
#
# Two honest remarks on the table. A well-tuned $\lambda$ does reach a lower loss here: the sweep bought that with its extra runs.
# And judged by **accuracy**, the unregularized network trained to the end wins on this data set: as section 5 showed, its
# validation loss rises through over-confidence while its accuracy still creeps up. The criterion you stop (or tune) on decides
# what you get. In practice the two regularizers are combined: some weight decay, **and** keep the best checkpoint.

# %% [markdown]
# ## Summary
# - A large network's validation loss falls, bottoms out and rises while its training loss keeps falling; the weights at the
#   bottom, $\theta^*$ at step $i^*$, are the ones to keep.
# - The patience algorithm evaluates every $n$ steps and stops after $p$ evaluations without a new best, at step $i^* + p\,n$
#   (checked on the MLP: stopped at $i^* + 5\cdot 10$ and restored a model with exactly the best validation loss, better than the
#   weights at the stop, on three seeds). `min_delta` ignores tiny gains; `monitor="val_acc"` watches accuracy.
# - Early stopping does not change training, it cuts it short: the stopped run was the start of the whole run. Model selection
#   (`patience=None`) trains to the end and keeps the best weights. More patience never finds a worse minimum but trains longer.
# - The validation loss can turn long before the accuracy does (growing over-confidence): watch the metric that matters.
# - For a quadratic loss, gradient descent stopped after $\tau$ steps is L2 regularization with $\lambda \approx 1/(\alpha\tau)$;
#   on the MLP one early-stopped run came within about 10% of the best validation loss of a four-run L2 sweep, at equal accuracy, and
#   the sweep's best $\lambda$ was of the order of $1/(\alpha_{\text{eff}} i^*)$.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — where does it stop?
# A run is evaluated every $n = 20$ optimizer steps, with patience $p = 3$. The validation losses at steps $20, 40, \dots, 200$ are
#
# `1.00, 0.80, 0.70, 0.72, 0.69, 0.71, 0.70, 0.69, 0.73, 0.60`
#
# At which step $i^*$ were the best weights taken, and at which step does training stop? Answer with a pair of step numbers
# `(i_star, i_stop)`, working by hand (no `EarlyStopper`).

# %% {"tags": ["exercise"]}
answer_1 = (None, None)  # replace with (i_star, i_stop)

# %%
ex.check_stop_step(answer_1)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# The values 1.00, 0.80, 0.70 are new bests ($i^* = 60$); 0.72 is not ($j = 1$); 0.69 is ($i^* = 100$, $j = 0$). Then 0.71
# ($j = 1$), 0.70 ($j = 2$) and 0.69 ($j = 3$: a tie is **not** an improvement, the test is $v' < v$) and the loop ends at
# $i = 160 = i^* + p\,n = 100 + 3\cdot 20$. The 0.60 at step 200 would have been better, but the run never sees it.
# </details>

# %% {"tags": ["solution"]}
solution_1 = (100, 160)
assert ex.check_stop_step(solution_1)

# %% [markdown]
# ### Exercise 2 — the patience loop from scratch
# Write `my_patience(values, patience, min_delta)` that walks through a list of validation losses (one per evaluation) and returns
# `(i_star, i_stop)`, **counted in evaluations** ($1, 2, \dots$): the evaluation with the best value seen before stopping
# ($0$ if none improved on $v = \infty$), and the evaluation at which the patience ran out (`None` if the values end first).
# An improvement is $v' < v - \delta$.

# %% {"tags": ["exercise"]}
def my_patience(values, patience, min_delta=0.0):
    raise NotImplementedError  # your code here

# %%
ex.check_patience_loop(my_patience)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Keep $v$, $i^*$ and $j$; for each value test $v' < v - \delta$ (strictly: a tie does not reset the patience), reset $j$ and
# remember $i^*$ on an improvement, otherwise increase $j$; return as soon as $j$ reaches $p$. The checker compares with
# `EarlyStopper` on sequences with ties, a `nan` (never an improvement, since every comparison with `nan` is false), a minimum
# improvement, and a better value that comes only after the stop.
# </details>

# %% {"tags": ["solution"]}
def solution_patience(values, patience, min_delta=0.0):
    best, i_star, wait = math.inf, 0, 0
    for k, value in enumerate(values, 1):
        if value < best - min_delta:      # a new best: j ← 0, i* ← i, v ← v'
            best, i_star, wait = value, k, 0
        else:                             # j ← j + 1
            wait += 1
        if wait >= patience:              # the loop runs while j < p
            return i_star, k
    return i_star, None


assert ex.check_patience_loop(solution_patience)

# %% [markdown]
# ### Exercise 3 — which L2 strength is it like?
# A network trained with `torch.optim.SGD(params, lr=0.05, momentum=0.9)` reached its best validation loss at step $i^* = 400$.
# Roughly which L2 strength $\lambda$ (PyTorch's `weight_decay`) does this early stopping act like? Give one number.

# %% {"tags": ["exercise"]}
answer_3 = None  # replace None with a number

# %%
ex.check_equivalent_l2(answer_3)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# With momentum the effective step is $\alpha_{\text{eff}} = \alpha/(1-\beta) = 0.05/0.1 = 0.5$, so
# $\lambda \approx 1/(\alpha_{\text{eff}}\,\tau) = 1/(0.5 \cdot 400) = 0.005$. Forgetting the momentum gives 0.05, ten times
# too strong. Had the run stopped at step 800 instead, the equivalent penalty would halve: training longer regularizes less.
# </details>

# %% {"tags": ["solution"]}
solution_3 = equivalent_l2(0.05 / (1 - 0.9), 400)
assert ex.check_equivalent_l2(solution_3)
