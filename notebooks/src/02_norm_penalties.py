# %% [markdown]
# # 02 · Norm penalties
#
# **Learning objectives.** After this notebook you can
# 1. **write** the penalized cost $J(\theta) = L(\theta) + \lambda R(\theta)$ for the L2, L1, elastic-net and $L_q$ penalties,
#    and **derive** the weight-decay form of one gradient step with L2;
# 2. **explain** with the geometry of the constraint regions why L1 gives sparse weights and L2 only small ones, and
#    **measure** it in a network;
# 3. **choose** the strength $\lambda$ on a log scale from train/validation curves;
# 4. **decide** which parameters to penalize (weights, not biases or normalization parameters) and **apply** a max-norm
#    constraint per layer;
# 5. **tell** L2 regularization from decoupled weight decay, and **show** why they differ under Adam.
#
# *Lecture:* deck 001 (parameter norm penalties, the weight-decay step, the geometry of L2 and L1, elastic net, the $L_q$
# family), deck 002 (ridge, LASSO and the elastic net with its mixing ratio $r$), deck 004 (shrinkage vs sparsity, the
# bounded per-layer norm), deck 000 (L2 as "weight decay", not regularizing biases), deck 003 (L1, L2, elastic net).
# *Runs in:* about 20 s on a laptop CPU (fast profile).

# %% [markdown]
# ## Set-up
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST, a wider network and longer runs
# (see the README).

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from course_lib import fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.exercises import ex02 as ex
from course_lib.regularizers import (DecoupledWeightDecay, MaxNorm, Penalty, ProximalL1, elastic_net_penalty,
                                     l1_penalty, l2_penalty, lq_penalty, max_norm_, penalized_parameters,
                                     sgd_weight_decay_step_, soft_threshold_, weight_decay_groups)

ctx = setup_notebook(seed=0)
DATASET = ctx.pick(fast="mnist1d", full="mnist")
HIDDEN = ctx.pick(fast=[128, 128], full=[512, 512])
EPOCHS = ctx.pick(fast=20, full=30)
SEEDS = [0, 1]

# %% [markdown]
# ## 1. A penalty on the size of the weights
# The data loss $L(\theta)$ alone does not care how large the weights are. A **norm penalty** adds a term that does:
#
# $$J(\theta) = \underbrace{L(\theta)}_{\text{data loss}} + \lambda\,\underbrace{R(\theta)}_{\text{norm penalty}},
# \qquad \lambda \ge 0 .$$
#
# $\lambda = 0$ is no regularization; a very large $\lambda$ ignores the data and drives the weights to 0. In between, the two
# terms compete: data fidelity against model complexity. The penalties of the lectures, for the weights
# $w = (w_1, \dots, w_n)$ taken together:
#
# | name | $R(w)$ | $\partial R / \partial w_i$ | effect |
# | --- | --- | --- | --- |
# | L2, ridge, Tikhonov | $\tfrac12\lVert w\rVert_2^2 = \tfrac12\sum_i w_i^2$ | $w_i$ | shrinkage |
# | L1, LASSO | $\lVert w\rVert_1 = \sum_i \lvert w_i\rvert$ | $\operatorname{sign}(w_i)$ | sparsity (weight selection) |
# | elastic net | $r\,\lVert w\rVert_2^2 + \tfrac{1-r}{2}\,\lVert w\rVert_1$ | $2 r\, w_i + \tfrac{1-r}{2}\operatorname{sign}(w_i)$ | both |
# | $L_q$ family | $\lVert w\rVert_q^q = \sum_i \lvert w_i\rvert^q$ | $q\,\lvert w_i\rvert^{q-1}\operatorname{sign}(w_i)$ | $q \le 1$: sparse, $q > 1$: smooth |
#
# **Conventions differ between decks; check before you compare numbers.** The ½ in front of the L2 term (deck 001) makes its
# gradient exactly $\lambda w$; deck 000 writes $\lambda\sum w^2$, whose gradient is $2\lambda w$. For the elastic net we follow
# deck 002: the mixing ratio $r$ multiplies the **ridge** term, so $r = 0$ is LASSO and $r = 1$ is ridge. Deck 001 puts $r$ on
# the L1 term instead (and scikit-learn's `l1_ratio` too). `course_lib.regularizers` implements the table:

# %%
show_source(l2_penalty)
show_source(elastic_net_penalty)

# %% [markdown]
# Each function takes a model (then it penalizes the model's weights, see section 6), one tensor or a list of tensors. Values by
# hand for $w = (3, -4)$:

# %%
# NBVAL_CHECK_OUTPUT
w = torch.tensor([3.0, -4.0])
print(f"L2 ½‖w‖²          = {l2_penalty(w).item():.2f}   (½ (9 + 16))")
print(f"L1 ‖w‖₁           = {l1_penalty(w).item():.2f}    (3 + 4)")
print(f"L_q, q = 0.5      = {lq_penalty(w, 0.5).item():.4f}  (√3 + √4)")
print(f"elastic net r=0.25 = {elastic_net_penalty(w, 0.25).item():.3f}  (0.25·25 + 0.375·7)")
assert math.isclose(elastic_net_penalty(w, 0.25).item(), 0.25 * 25 + 0.375 * 7, rel_tol=1e-6)

# %% [markdown]
# ## 2. L2 and its weight-decay form
# With $R(w) = \tfrac12\lVert w\rVert^2$ the gradient of the cost is $\nabla J = \nabla L + \lambda w$, so one gradient-descent
# step with learning rate $\alpha$ is
#
# $$w \leftarrow w - \alpha\,(\nabla L + \lambda w) = \underbrace{(1 - \alpha\lambda)}_{<\,1}\, w - \alpha\, \nabla L .$$
#
# Every step first **shrinks** the weights by the factor $1 - \alpha\lambda$ and then follows the data gradient: that is why
# L2 regularization is also called **weight decay**. `torch.optim.SGD(weight_decay=λ)` implements the right-hand side, and so does:

# %%
show_source(sgd_weight_decay_step_)

# %% [markdown]
# ### Checking the claim: the L2 step equals the weight-decay step
# One step on a mini-batch of MNIST-1D with an MLP, computed three ways from the same initial weights: (a) autograd on
# $L + \lambda\,\tfrac12\lVert w\rVert^2$ and a plain step $w \leftarrow w - \alpha\nabla J$; (b) the weight-decay form above on
# the data gradient only; (c) `torch.optim.SGD` with `weight_decay=λ` on the weights (biases get plain SGD in all three).

# %%
data = load_dataset(DATASET, device=ctx.device)
print(data)
x_batch, y_batch = data.train.x[:128], data.train.y[:128]
alpha, lam = 0.1, 0.05


def fresh_mlp(seed=0):
    """The notebook's MLP, initialized from a seed."""
    torch.manual_seed(seed)
    return mlp(data.num_features, HIDDEN, data.num_classes).to(ctx.device)


net_a, net_b, net_c = fresh_mlp(), fresh_mlp(), fresh_mlp()
# (a) gradient of the penalized cost, then w <- w - alpha * grad J
(F.cross_entropy(net_a(x_batch), y_batch) + lam * l2_penalty(net_a)).backward()
with torch.no_grad():
    for p in net_a.parameters():
        p -= alpha * p.grad
# (b) the weight-decay form on the weights, w <- (1 - alpha*lam) w - alpha * grad L; plain SGD on the biases
F.cross_entropy(net_b(x_batch), y_batch).backward()
weights_b = penalized_parameters(net_b)
sgd_weight_decay_step_(weights_b, alpha, lam)
sgd_weight_decay_step_([p for p in net_b.parameters() if all(p is not q for q in weights_b)], alpha, 0.0)
# (c) torch.optim.SGD(weight_decay=lam) for the weights, 0 for the rest
opt = torch.optim.SGD(weight_decay_groups(net_c, lam), lr=alpha)
F.cross_entropy(net_c(x_batch), y_batch).backward()
opt.step()

diff_ab = max((pa - pb).abs().max().item() for pa, pb in zip(net_a.parameters(), net_b.parameters()))
diff_ac = max((pa - pc).abs().max().item() for pa, pc in zip(net_a.parameters(), net_c.parameters()))
moved = max((pa - p0).abs().max().item() for pa, p0 in zip(net_a.parameters(), fresh_mlp().parameters()))
print(f"largest change of a weight in the step: {moved:.2e}")
print(f"max |(a) - (b)| = {diff_ab:.1e},  max |(a) - (c)| = {diff_ac:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
print("(a) = (b) = (c) to float32 precision:", diff_ab < 1e-6 and diff_ac < 1e-6)
assert diff_ab < 1e-6 and diff_ac < 1e-6, "the L2 step and the weight-decay step should agree to float precision"
assert moved > 1e3 * max(diff_ab, diff_ac), "the step itself must be far larger than the disagreement"

# %% [markdown]
# The three agree up to float32 rounding (weights of size $\approx 0.1$ are stored to about $10^{-8}$), while the step itself
# moved the weights by up to $\approx 10^{-2}$: the two forms are the same update, not merely close ones. With deck 000's $\lambda\sum w^2$ (no ½) the same step needs
# `weight_decay = 2λ`.

# %% [markdown]
# ## 3. Geometry: why L1 makes zeros and L2 does not
# Minimizing $L(w) + \lambda R(w)$ is equivalent to minimizing $L(w)$ inside a ball $\{R(w) \le t\}$, for a radius $t$ that
# depends on $\lambda$. The solution is where the smallest loss contour touches the ball. For L2 the ball is a disc: the contour
# touches it at a generic point, both weights shrink but stay non-zero. For L1 the ball is a **diamond** whose corners lie on the
# axes: an elongated contour usually touches a corner first, so one weight is **exactly 0**.
#
# We take a quadratic loss $L(w) = \tfrac12 (w - w^*)^\top H (w - w^*)$ in two weights and compute the penalized solutions for
# many $\lambda$: ridge in closed form, $w_{\text{L2}}(\lambda) = (H + \lambda I)^{-1} H w^*$, LASSO by proximal gradient
# descent (a gradient step, then the soft-thresholding of section 4).

# %%
w_star = torch.tensor([2.0, 0.7], dtype=torch.float64)
H = torch.tensor([[1.0, 0.45], [0.45, 0.5]], dtype=torch.float64)
lams = torch.logspace(-2, 0.5, 60, dtype=torch.float64)


def quad_loss(w):
    """L(w) = ½ (w − w*)ᵀ H (w − w*) for a batch of points w of shape (..., 2)."""
    d = w - w_star
    return 0.5 * ((d @ H) * d).sum(-1)


ridge_path = torch.stack([torch.linalg.solve(H + lam_ * torch.eye(2, dtype=torch.float64), H @ w_star) for lam_ in lams])
step = 1.0 / torch.linalg.eigvalsh(H).max()
lasso_path = w_star.repeat(len(lams), 1)
for _ in range(3000):  # proximal gradient, all λ at once: gradient step, then soft-threshold by step·λ
    z = lasso_path - step * (lasso_path - w_star) @ H
    lasso_path = z.sign() * (z.abs() - step * lams[:, None]).clamp_min(0.0)

k = int((lams - 0.5).abs().argmin())  # the λ ≈ 0.5 shown on the left
w_l1, w_l2 = lasso_path[k], ridge_path[k]
g1, g2 = torch.meshgrid(torch.linspace(-2.0, 3.2, 200, dtype=torch.float64),
                        torch.linspace(-2.0, 3.6, 200, dtype=torch.float64), indexing="xy")
grid = torch.stack([g1, g2], -1)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
ax = axes[0]
ax.contour(g1, g2, quad_loss(grid), levels=sorted([quad_loss(w_l1).item(), quad_loss(w_l2).item(), 0.8, 1.4, 2.2]),
           colors="grey", linewidths=1)
t1, t2 = w_l1.abs().sum().item(), w_l2.norm().item()
ax.plot([t1, 0, -t1, 0, t1], [0, t1, 0, -t1, 0], color="tab:red", label=r"L1 ball $\|w\|_1 \leq t$")
theta = torch.linspace(0, 2 * math.pi, 200)
ax.plot(t2 * torch.cos(theta), t2 * torch.sin(theta), color="tab:blue", label=r"L2 ball $\|w\|_2 \leq t$")
ax.plot(*w_star.tolist(), "k*", ms=12, label="$w^*$ (no penalty)")
ax.plot(*w_l1.tolist(), "o", color="tab:red", ms=9, label=f"L1 solution ({w_l1[0]:.2f}, {w_l1[1]:.2f})")
ax.plot(*w_l2.tolist(), "s", color="tab:blue", ms=8, label=f"L2 solution ({w_l2[0]:.2f}, {w_l2[1]:.2f})")
ax.axhline(0, color="k", lw=0.5)
ax.axvline(0, color="k", lw=0.5)
ax.set(xlabel="$w_1$", ylabel="$w_2$", title=fr"Loss contours and the balls ($\lambda$ = {lams[k].item():.2f})",
       aspect="equal", xlim=(-2.0, 3.2), ylim=(-2.0, 3.6))
ax.legend(fontsize=8, loc="upper left", ncol=2)
ax = axes[1]
for i, ls in ((0, "-"), (1, "--")):
    ax.plot(lams, lasso_path[:, i], ls, color="tab:red", label=f"L1: $w_{i + 1}$")
    ax.plot(lams, ridge_path[:, i], ls, color="tab:blue", label=f"L2: $w_{i + 1}$")
ax.axhline(0, color="k", lw=0.5)
ax.set(xscale="log", xlabel=r"penalty strength $\lambda$", ylabel="weight at the optimum",
       title="Regularization paths: L1 hits 0, L2 only shrinks")
ax.legend(fontsize=9)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
first_zero = lams[(lasso_path[:, 1] == 0).nonzero()[0, 0]].item()
print(f"λ = {lams[k].item():.2f}: L1 solution ({w_l1[0]:.3f}, {w_l1[1]:.3f}),  L2 solution ({w_l2[0]:.3f}, {w_l2[1]:.3f})")
print(f"L1 sets w2 exactly to 0 from λ = {first_zero:.3f} on; smallest |w2| on the L2 path: {ridge_path[:, 1].abs().min():.3f}")
assert w_l1[1] == 0 and w_l1[0] > 0.5, "the L1 solution should sit on the w1 axis"
assert (ridge_path.abs() > 0.05).all(), "L2 shrinks both weights but sets neither to zero"

# %% [markdown]
# ### The $L_q$ family and the elastic net
# $R_q(w) = \sum_i |w_i|^q$ gives a whole family of balls. For $q > 1$ they are round and smooth (no corners on the axes, no
# exact zeros); $q = 1$ is the smallest $q$ that still gives a **convex** penalty, the only one both convex and with corners;
# $q < 1$ has even sharper corners (sparser solutions), but the penalty is no longer convex and the optimization gets
# hard. The elastic net's ball (here $r = 0.5$) has the corners of L1 and the rounded sides of L2: it selects weights like LASSO
# but keeps groups of correlated weights together like ridge.

# %%
show_source(lq_penalty)

# %%
G = torch.linspace(-1.6, 1.6, 321)
u1, u2 = torch.meshgrid(G, G, indexing="xy")
fig, ax = plt.subplots(figsize=(7, 4.6))
for q, color in ((0.5, "tab:purple"), (1.0, "tab:red"), (1.5, "tab:orange"), (2.0, "tab:blue"), (4.0, "tab:green")):
    ax.contour(u1, u2, u1.abs() ** q + u2.abs() ** q, levels=[1.0], colors=color)
    ax.plot([], [], color=color, label=f"$q$ = {q:g}")
en_level = elastic_net_penalty(torch.tensor([1.0, 0.0]), 0.5).item()  # the ball through (1, 0)
ax.contour(u1, u2, 0.5 * (u1**2 + u2**2) + 0.25 * (u1.abs() + u2.abs()), levels=[en_level], colors="k",
           linestyles="--")
ax.plot([], [], "k--", label="elastic net, $r$ = 0.5")
ax.set(xlabel="$w_1$", ylabel="$w_2$", title=r"Unit balls $\sum_i |w_i|^q \leq 1$", aspect="equal")
ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1.0))
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
corner, diagonal = torch.tensor([1.0, 0.0]), torch.tensor([1.0, 1.0]) / 2 ** 0.5  # two points with ‖w‖₂ = 1
for q in (0.5, 1.0, 2.0, 4.0):
    print(f"q = {q:3g}:  R_q(on an axis) = {lq_penalty(corner, q).item():.3f},  R_q(on the diagonal) = "
          f"{lq_penalty(diagonal, q).item():.3f}")
assert lq_penalty(diagonal, 0.5) > lq_penalty(corner, 0.5) and lq_penalty(diagonal, 4.0) < lq_penalty(corner, 4.0)

# %% [markdown]
# At equal Euclidean length, $q < 2$ charges more for spreading weight over both coordinates than for putting it all on one
# axis, so it pushes solutions onto the axes; $q > 2$ does the opposite.

# %% [markdown]
# ## 4. L1 and sparsity in a network
# Deck 004's argument, in numbers: the L2 gradient $\lambda w_i$ vanishes as $w_i \to 0$, so L2 barely bothers with weights
# already smaller than 1 ("sparsity is discouraged"). The L1 gradient $\lambda\operatorname{sign}(w_i)$ has the same size for every
# weight, large or small, and pushes each one all the way to 0 unless the data gradient holds it back.
#
# We train the MLP on MNIST-1D with SGD (momentum 0.9), once with the L1 penalty and once with L2, at the **same** strength
# $\lambda = 3\cdot 10^{-4}$, and count the weights that end up at 0. The subgradient step does not land
# exactly on 0 (a weight jitters around it by about one step, $\alpha\lambda/(1-\beta) = 3\cdot 10^{-4}$), so "zero" here means
# $|w| < 10^{-3}$; the exact zeros come next.

# %%
runs = {}


def train(kind, lam, seed, callbacks=None):
    """Train a fresh MLP with penalty `kind` ('l2' or 'l1') of strength lam (cached); returns (model, history)."""
    key = (kind, lam, seed)
    if key not in runs:
        model = fresh_mlp(seed)
        cbs = callbacks if callbacks is not None else ([Penalty(lam, kind)] if lam > 0 else [])
        history = fit(model, data.train, data.val, epochs=EPOCHS, batch_size=128, seed=seed, eval_train=True,
                      optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), callbacks=cbs)
        runs[key] = (model, history)
    return runs[key]


def zero_fraction(model, tol=1e-3):
    """Fraction of the penalized weights with |w| < tol."""
    ws = penalized_parameters(model)
    return sum(int((p.abs() < tol).sum()) for p in ws) / sum(p.numel() for p in ws)


LAM_SPARSE = 3e-4
sparsity = {kind: zero_fraction(train(kind, LAM_SPARSE, 0)[0]) for kind in ("l1", "l2")}

fig, ax = plt.subplots(figsize=(7, 4))
bins = torch.linspace(-0.5, 0.5, 101).tolist()
for kind, color in (("l2", "tab:blue"), ("l1", "tab:red")):
    values = torch.cat([p.detach().flatten().cpu() for p in penalized_parameters(train(kind, LAM_SPARSE, 0)[0])])
    ax.hist(values.clamp(-0.5, 0.5).tolist(), bins=bins, color=color, alpha=0.5, label=f"{kind.upper()}, λ = {LAM_SPARSE:g}")
ax.set(yscale="log", xlabel="weight value (clipped to [-0.5, 0.5])", ylabel="number of weights",
       title="Weights after training: L1 piles them up at 0")
ax.legend()
plt.show()

# %% [markdown]
# ### Checking the claim: L1 zeroes far more weights than L2 at equal strength
# The margin asked for is wide (a quarter of the weights at least, and ten times as many as L2), so one seed cannot flip it
# (a second seed, tried while writing this notebook, gives 40% against 0.6%).

# %%
print(f"|w| < 1e-3 for {sparsity['l1']:.0%} of the weights with L1, {sparsity['l2']:.1%} with L2")
assert sparsity["l1"] > 0.25, "L1 should zero a large share of the weights"
assert sparsity["l1"] > 10 * sparsity["l2"], "L1 should zero far more weights than L2"

# %% [markdown]
# ### Exact zeros: the proximal step (soft-thresholding)
# The subgradient step $w \leftarrow w - \alpha(\nabla L + \lambda\operatorname{sign}(w))$ overshoots 0 and flips sign back and
# forth. **Proximal gradient descent** (ISTA) splits the step: a gradient step on the data loss, then the exact minimizer of
# $\tfrac{1}{2\alpha}\lVert v - z\rVert^2 + \lambda\lVert v\rVert_1$, which is soft-thresholding by $t = \alpha\lambda$:
#
# $$w_i \leftarrow \operatorname{sign}(z_i)\,\max(|z_i| - t,\ 0), \qquad z = w - \alpha\nabla L(w).$$
#
# Every weight with $|z_i| \le \alpha\lambda$ lands **exactly** on 0. The callback `ProximalL1` does this after each step of `fit`.

# %%
show_source(soft_threshold_)

# %% [markdown]
# On a regression with 20 features of which only 3 matter, `fit` with full batches and `ProximalL1` is ISTA. It finds the
# LASSO solution (scikit-learn's coordinate descent is the reference) with the 17 irrelevant weights at exactly 0; the
# subgradient method at the same $\lambda$ leaves them small but non-zero.

# %%
g = torch.Generator().manual_seed(0)
n_reg, d_reg = 200, 20
x_reg = torch.randn(n_reg, d_reg, generator=g)
w_true = torch.zeros(d_reg)
w_true[:3] = torch.tensor([2.0, -1.5, 1.0])
y_reg = (x_reg @ w_true + 0.5 + 0.3 * torch.randn(n_reg, generator=g)).unsqueeze(1)
x_reg, y_reg = x_reg.to(ctx.device), y_reg.to(ctx.device)

lasso_models = {}
LAM_LASSO = 0.2
for name, cb in (("proximal (ISTA)", ProximalL1(LAM_LASSO)), ("subgradient", Penalty(LAM_LASSO, "l1"))):
    torch.manual_seed(0)
    model = torch.nn.Linear(d_reg, 1).to(ctx.device)
    fit(model, (x_reg, y_reg), epochs=200, batch_size=n_reg, seed=0, callbacks=[cb],
        optimizer=torch.optim.SGD(model.parameters(), lr=0.2))
    lasso_models[name] = model.weight.detach().cpu().flatten()
# the reference: scikit-learn's LASSO minimizes 1/(2n)‖y − Xw − b‖² + a‖w‖₁, i.e. our problem with a = λ/2
from sklearn.linear_model import Lasso

sk_lasso = Lasso(alpha=LAM_LASSO / 2, tol=1e-10).fit(x_reg.cpu().double().numpy(), y_reg.cpu().double().numpy().ravel())
lasso_models["scikit-learn Lasso"] = torch.tensor(sk_lasso.coef_, dtype=torch.float32)

fig, ax = plt.subplots(figsize=(7, 3.8))
idx = torch.arange(d_reg)
ax.bar(idx - 0.2, lasso_models["proximal (ISTA)"].abs(), width=0.4, color="tab:red", label="proximal (ISTA) at the LASSO solution")
ax.bar(idx + 0.2, lasso_models["subgradient"].abs(), width=0.4, color="tab:orange", label="subgradient")
is_zero = lasso_models["proximal (ISTA)"] == 0
ax.plot(idx[is_zero] - 0.2, torch.full((int(is_zero.sum()),), 2e-6), "x", color="tab:red", ms=7, label="exactly 0 (proximal)")
ax.plot(idx[:3], w_true[:3].abs(), "k_", ms=14, mew=2, label="true |weight|")
ax.set(yscale="log", ylim=(1e-6, 1e3), xticks=idx.tolist(), xlabel="feature", ylabel="|weight| (log scale)",
       title=fr"L1 with $\lambda$ = {LAM_LASSO:g}: only 3 of 20 features matter")
ax.legend(ncol=2, fontsize=9, loc="upper right")
plt.show()

# %%
exact = {name: int((w_ == 0).sum()) for name, w_ in lasso_models.items()}
ista_vs_sklearn = (lasso_models["proximal (ISTA)"] - lasso_models["scikit-learn Lasso"]).abs().max().item()
print("exact zeros among the 20 weights:", exact)
print(f"ISTA agrees with scikit-learn's LASSO to 1e-4: {ista_vs_sklearn < 1e-4}")
print("largest irrelevant weight with the subgradient:", f"{lasso_models['subgradient'][3:].abs().max():.0e}")
assert ista_vs_sklearn < 1e-4, "proximal gradient descent should converge to the LASSO solution"
assert exact["proximal (ISTA)"] == exact["scikit-learn Lasso"] == 17 and (lasso_models["proximal (ISTA)"][:3] != 0).all()
assert exact["subgradient"] == 0, "the subgradient step should leave no weight exactly at 0"

# %% [markdown]
# ## 5. Choosing $\lambda$: a sweep on a log scale
# The useful values of $\lambda$ span orders of magnitude, so we try them on a log scale (here from $10^{-4}$ to $10^{-2}$, plus
# $\lambda = 0$ as the reference) with L2 and watch training and validation accuracy. Small $\lambda$: the network overfits as
# without a penalty. Large $\lambda$: the penalty wins and the network underfits (both accuracies drop). In between the gap
# closes.

# %%
LAMS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
sweep = {lam_: train("l2", lam_, 0)[1] for lam_ in [0.0, *LAMS]}

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
ax = axes[0]
ax.plot(LAMS, [sweep[l_].train_acc[-1] for l_ in LAMS], "o-", color="tab:blue", label="train")
ax.plot(LAMS, [sweep[l_].val_acc[-1] for l_ in LAMS], "s-", color="tab:orange", label="validation")
ax.axhline(sweep[0.0].train_acc[-1], color="tab:blue", ls=":", label=r"train, $\lambda$ = 0")
ax.axhline(sweep[0.0].val_acc[-1], color="tab:orange", ls=":", label=r"validation, $\lambda$ = 0")
ax.set(xscale="log", xlabel=r"L2 strength $\lambda$ (log scale)", ylabel="accuracy after training",
       title="Sweeping the penalty strength")
ax.legend(fontsize=9)
ax = axes[1]
for lam_, color in ((0.0, "tab:red"), (3e-3, "tab:green"), (1e-2, "tab:purple")):
    ax.plot(sweep[lam_].epoch, sweep[lam_].train_acc, "-", color=color, label=fr"$\lambda$ = {lam_:g}: train")
    ax.plot(sweep[lam_].epoch, sweep[lam_].val_acc, "--", color=color, label=fr"$\lambda$ = {lam_:g}: validation")
ax.set(xlabel="epoch", ylabel="accuracy", title="Learning curves for three strengths", ylim=(0.0, 1.0))
ax.legend(fontsize=8, ncol=3, loc="lower right")
plt.show()

# %% [markdown]
# ### Checking the claim: regularization shrinks the validation gap
# The gap (train minus validation accuracy, both in eval mode, averaged over the last 3 epochs to smooth out the epoch-to-epoch
# noise) with $\lambda = 3\cdot 10^{-3}$ against no penalty, on two seeds:

# %%
LAM_GOOD = 3e-3


def last3(values):
    """Mean of the last 3 epochs."""
    return sum(values[-3:]) / 3


for seed in SEEDS:
    h0, h1 = train("l2", 0.0, seed)[1], train("l2", LAM_GOOD, seed)[1]
    gap0, gap1 = last3(h0.train_acc) - last3(h0.val_acc), last3(h1.train_acc) - last3(h1.val_acc)
    print(f"seed {seed}: gap {gap0:.2f} without penalty -> {gap1:.2f} with λ = {LAM_GOOD:g} "
          f"(val {last3(h0.val_acc):.2f} -> {last3(h1.val_acc):.2f})")
    assert gap1 < gap0 - 0.07, f"seed {seed}: L2 should clearly shrink the train/validation gap"
    assert last3(h1.val_acc) > last3(h0.val_acc) - 0.08, f"seed {seed}: the gap must not close by underfitting"

# %% [markdown]
# The gap roughly halves, mostly because training accuracy drops: the penalty stops the network from memorizing the training
# set, while validation accuracy stays within a few points. How much regularization *gains* on validation depends on the
# problem; on MNIST-1D the MLP's real limit is its architecture (a CNN reaches ≈ 94%). Choose $\lambda$ by validation accuracy
# (here the small $\lambda = 10^{-4}$ did best on seed 0), never by the test set.

# %% [markdown]
# ## 6. Which parameters to penalize
# A norm penalty acts on the **weights** of the affine layers (linear and convolutional). Biases are usually left out: a bias
# only shifts a unit's output and does not make the model more flexible, and there are orders of magnitude fewer biases than
# weights, so penalizing them buys almost no regularization but can cost fit. The scale and shift ($\gamma$, $\beta$) of
# normalization layers are left out for the same reason. `penalized_parameters` makes that choice, and every function and
# callback in `course_lib.regularizers` uses it when given a model:

# %%
show_source(penalized_parameters)

# %%
# NBVAL_CHECK_OUTPUT
bn_net = mlp(data.num_features, HIDDEN, data.num_classes, norm="batch")
chosen = penalized_parameters(bn_net)
n_weights = sum(p.numel() for p in chosen)
n_total = sum(p.numel() for p in bn_net.parameters())
print(bn_net)
print(f"penalized: {len(chosen)} weight tensors, {n_weights} numbers; left out: {n_total - n_weights} biases and BN γ, β")

# %% [markdown]
# **What goes wrong if the bias is penalized.** A linear fit $y \approx w x + b$ to data with a large offset ($y = 5 + 0.5x$ plus
# noise), with a strong L2 penalty on $w$ only, and on $w$ and $b$. Both are ridge regression in closed form,
# $\hat\theta = (X^\top X/n + \lambda D)^{-1} X^\top y/n$, with $D$ the diagonal 0/1 matrix of penalized parameters:

# %%
g = torch.Generator().manual_seed(3)
x_off = torch.linspace(-1, 1, 50, dtype=torch.float64)
y_off = 5 + 0.5 * x_off + 0.2 * torch.randn(50, generator=g, dtype=torch.float64)
X = torch.stack([x_off, torch.ones_like(x_off)], 1)  # columns: weight, bias
lam_off = 1.0
fits = {}
for name, D in (("weight only", torch.diag(torch.tensor([1.0, 0.0]))), ("weight and bias", torch.eye(2))):
    theta = torch.linalg.solve(X.T @ X / 50 + lam_off * D.double(), X.T @ y_off / 50)
    fits[name] = (theta, ((X @ theta - y_off) ** 2).mean().item())

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x_off, y_off, "k.", label="data")
xs = torch.linspace(-1, 1, 2, dtype=torch.float64)
for (name, (theta, mse)), color in zip(fits.items(), ("tab:blue", "tab:red")):
    ax.plot(xs, theta[0] * xs + theta[1], color=color, label=f"L2 on {name}: w = {theta[0]:.2f}, b = {theta[1]:.2f}")
ax.set(xlabel="x", ylabel="y", title=fr"Strong L2 ($\lambda$ = {lam_off:g}) with and without the bias", ylim=(0, 6.5))
ax.legend(fontsize=9)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
for name, (theta, mse) in fits.items():
    print(f"L2 on {name:15s}: w = {theta[0]:.3f}, b = {theta[1]:.3f}, training MSE = {mse:.3f}")
assert fits["weight and bias"][1] > 10 * fits["weight only"][1], "penalizing the bias should cost the fit dearly"

# %% [markdown]
# The penalty on $w$ only shrinks the slope; the penalty on $b$ also drags the whole line towards $y = 0$, although the
# offset says nothing about how complex the model is. (With a strong $\lambda$ the effect is exaggerated; with a network's
# small $\lambda$ it is small, but it buys nothing.)

# %% [markdown]
# ## 7. Max-norm: a bound on each layer's weights
# Instead of a penalty, a **constraint**: keep the weights of each layer $\ell$ inside a ball,
# $\lVert W^{(\ell)}\rVert_F \le c^{(\ell)}$ (deck 004), or, as Srivastava et al. use it with dropout, bound the incoming weight
# vector of every unit, $\lVert w_i\rVert_2 \le c$ for each row $i$ of $W$. After each optimizer step, rows (or layers) outside the
# ball are scaled back onto it:
#
# $$w_i \leftarrow w_i \cdot \min\Big(1, \frac{c}{\lVert w_i\rVert_2}\Big).$$
#
# The weights can never grow without bound, however large the learning rate; inside the ball nothing happens at all.

# %%
show_source(max_norm_)

# %%
C_MAX = 2.0
maxnorm_model, _ = train("maxnorm", C_MAX, 0, callbacks=[MaxNorm(C_MAX)])
free_model, _ = train("l2", 0.0, 0)
row_norms = {name: [w_.detach().norm(dim=1).cpu() for w_ in penalized_parameters(m)]
             for name, m in (("no constraint", free_model), (f"max-norm c = {C_MAX:g}", maxnorm_model))}

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=False)
for layer, ax in enumerate(axes):
    top = max(norms[layer].max().item() for norms in row_norms.values())
    layer_bins = torch.linspace(0, top * 1.02, 41).tolist()
    for (name, norms), color in zip(row_norms.items(), ("tab:red", "tab:green")):
        ax.hist(norms[layer].tolist(), bins=layer_bins, color=color, alpha=0.6, label=name)
    ax.axvline(C_MAX, color="k", ls="--", label=f"c = {C_MAX:g}")
    ax.set(xlabel=r"row norm $\|w_i\|_2$", ylabel="number of units", title=f"layer {layer + 1}")
axes[0].legend(fontsize=9)
fig.suptitle("Norms of each unit's incoming weights after training", y=1.04)
plt.show()

# %%
worst = max(n_.max().item() for n_ in row_norms[f"max-norm c = {C_MAX:g}"])
free_max = max(n_.max().item() for n_ in row_norms["no constraint"])
print(f"largest row norm: {free_max:.2f} without the constraint, {worst:.3f} with max-norm c = {C_MAX:g}")
assert worst <= C_MAX * (1 + 1e-6), "every row must stay within the bound"
assert free_max > 1.2 * C_MAX, "the bound must have been active (the free network's rows grow past it)"

# %% [markdown]
# `MaxNorm(c, mode="frobenius")` bounds the whole layer instead, and `MaxNorm([c1, c2, c3])` takes one bound per layer.

# %% [markdown]
# ## 8. L2 regularization vs decoupled weight decay under Adam
# For SGD, "add $\tfrac\lambda2\lVert w\rVert^2$ to the loss" and "shrink $w \leftarrow (1-\alpha\lambda)w$ every step" are the same
# thing (section 2). For **Adam** they are not. Adam divides each gradient coordinate by the root of its running second moment,
#
# $$w \leftarrow w - \alpha\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}, \qquad m, v \text{ averages of } g = \nabla L + \lambda w
# \text{ and } g^2,$$
#
# so the penalty's gradient $\lambda w$ is **normalized away**: every weight moves by about $\alpha$ per step whatever its size
# and whatever $\lambda$ is. **Decoupled weight decay** (Loshchilov & Hutter; `torch.optim.AdamW`) takes the shrinkage out of the
# gradient, $w \leftarrow (1-\alpha\lambda)w$, and lets Adam handle only $\nabla L$:

# %%
show_source(DecoupledWeightDecay)

# %% [markdown]
# The cleanest test has **no data gradient at all**: $\nabla L = 0$, three weights $w = (100, 1, 0.01)$, $\alpha = 0.1$, 10 steps.
# Weight decay should multiply each weight by $(1 - \alpha\lambda)^{10}$.

# %%
w0 = torch.tensor([100.0, 1.0, 0.01], dtype=torch.float64)


def ten_steps(make_opt, lam_, penalty_in_loss):
    """The trajectory of 10 steps with zero data gradient; L2 in the loss or weight decay in the optimizer."""
    w_ = w0.clone().requires_grad_()
    opt_ = make_opt([w_])
    path = [w_.detach().clone()]
    for _ in range(10):
        opt_.zero_grad()
        loss = (w_ * 0).sum() + (lam_ * l2_penalty(w_) if penalty_in_loss else 0.0)
        loss.backward()
        opt_.step()
        path.append(w_.detach().clone())
    return torch.stack(path)


paths = {}
for lam_ in (0.01, 0.1, 1.0):
    paths[("SGD + L2", lam_)] = ten_steps(lambda p: torch.optim.SGD(p, lr=0.1), lam_, True)
    paths[("AdamW", lam_)] = ten_steps(lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=lam_), lam_, False)
    paths[("Adam + L2", lam_)] = ten_steps(lambda p: torch.optim.Adam(p, lr=0.1), lam_, True)

fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
for i, ax in enumerate(axes):
    for (name, lam_), path in paths.items():
        if name == "Adam + L2":  # the same path for every λ: one black line
            label = r"Adam + L2, every $\lambda$" if lam_ == 1.0 else None
            ax.plot(path[:, i] / w0[i], "--", color="k", label=label)
            continue
        style = {"SGD + L2": "-", "AdamW": "o"}[name]
        color = {0.01: "tab:blue", 0.1: "tab:orange", 1.0: "tab:green"}[lam_]
        ax.plot(path[:, i] / w0[i], style, color=color, ms=5, label=fr"{name}, $\lambda$ = {lam_:g}")
    ax.set(xlabel="step", ylabel=r"$w_t / w_0$", title=f"$w_0$ = {w0[i].item():g}")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9, bbox_to_anchor=(0.5, -0.2))
fig.suptitle(r"Zero data gradient, 10 steps with $\alpha$ = 0.1: SGD + L2 and AdamW shrink by $(1-\alpha\lambda)^t$", y=1.04)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
for lam_ in (0.01, 0.1, 1.0):
    decay = (1 - 0.1 * lam_) ** 10 * w0
    print(f"λ = {lam_:4g}: (1-αλ)^10·w0 = {[round(v, 4) for v in decay.tolist()]}, "
          f"AdamW {[round(v, 4) for v in paths[('AdamW', lam_)][-1].tolist()]}, "
          f"Adam + L2 {[round(v, 3) for v in paths[('Adam + L2', lam_)][-1].tolist()]}")
    assert torch.allclose(paths[("SGD + L2", lam_)][-1], decay) and torch.allclose(paths[("AdamW", lam_)][-1], decay)
assert torch.allclose(paths[("Adam + L2", 0.01)][-1], paths[("Adam + L2", 1.0)][-1], atol=1e-3), "Adam + L2 ignores λ"

# %% [markdown]
# Adam + L2 moves every weight by about $\alpha = 0.1$ per step: the weight of 100 hardly decays (to 99), the weight of 1 drops to
# 0.08 and the weight of 0.01 overshoots to $-0.04$; and a hundredfold change of $\lambda$ changes nothing. That is why, with
# Adam, use AdamW (or `Adam` + `DecoupledWeightDecay`), and tune its `weight_decay` separately from an SGD L2 strength. On a
# network the two forms of decoupled decay are the same update, to float precision:

# %%
net_adam, net_adamw = fresh_mlp(5), fresh_mlp(5)
sub = data.train.subset(512, generator=torch.Generator().manual_seed(0))
fit(net_adam, sub, epochs=2, batch_size=128, seed=0, optimizer=torch.optim.Adam(net_adam.parameters(), lr=1e-3),
    callbacks=[DecoupledWeightDecay(0.1)])
fit(net_adamw, sub, epochs=2, batch_size=128, seed=0,
    optimizer=torch.optim.AdamW(weight_decay_groups(net_adamw, 0.1), lr=1e-3))

# %%
# NBVAL_CHECK_OUTPUT
same = max((a - b).abs().max().item() for a, b in zip(net_adam.parameters(), net_adamw.parameters()))
print("Adam + DecoupledWeightDecay == AdamW (weights only) to 1e-6:", same < 1e-6)
assert same < 1e-6

# %% [markdown]
# ## Summary
# - A norm penalty adds $\lambda R(w)$ to the loss. **L2** ($\tfrac12\lVert w\rVert^2$) makes each SGD step
#   $w \leftarrow (1-\alpha\lambda)w - \alpha\nabla L$: weight decay, identical to `SGD(weight_decay=λ)` to float precision.
# - **L1** gives sparse weights: its ball has corners on the axes, and its gradient does not fade for small weights. At equal
#   strength it zeroed about 40% of the network's weights, L2 under 1%; the proximal step (soft-thresholding) makes the zeros exact.
#   The **elastic net** mixes both ($r = 0$ LASSO, $r = 1$ ridge); the **$L_q$** family is sparse for $q \le 1$, convex for $q \ge 1$.
# - Sweep $\lambda$ on a log scale: too small overfits, too large underfits. A moderate L2 ($3\cdot 10^{-3}$) roughly halved the
#   train/validation gap on every seed, with validation accuracy within a few points.
# - Penalize the **weights**, not biases or normalization parameters. **Max-norm** bounds each unit's (or layer's) weight norm
#   by projecting after every step.
# - With **Adam**, L2 in the loss is not weight decay (the penalty is normalized away); use **decoupled** weight decay (AdamW).

# %% [markdown]
# ## Exercises
# ### Exercise 1 — the elastic net by hand
# Compute the lecture's elastic-net penalty (deck 002's convention, section 1) for $w = (3, -4, 0, 1)$ with mixing ratio
# $r = 0.25$, by hand or with plain arithmetic (not with `elastic_net_penalty`).

# %% {"tags": ["exercise"]}
answer_1 = None  # replace None with a number

# %%
ex.check_elastic_net_value(answer_1)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# $R_{\text{ridge}} = \lVert w\rVert_2^2 = 9 + 16 + 0 + 1 = 26$ and $R_{\text{LASSO}} = \lVert w\rVert_1 = 3 + 4 + 0 + 1 = 8$, so
# $R = r\cdot 26 + \tfrac{1-r}{2}\cdot 8 = 6.5 + 3 = 9.5$. Putting $r$ on the L1 term (deck 001's convention) gives a
# different number: always check which convention a formula uses.
# </details>

# %% {"tags": ["solution"]}
solution_1 = 0.25 * (9 + 16 + 0 + 1) + (1 - 0.25) / 2 * (3 + 4 + 0 + 1)
assert ex.check_elastic_net_value(solution_1)

# %% [markdown]
# ### Exercise 2 — soft-thresholding
# Write `my_soft_threshold(w, t)`, the proximal step of $t\lVert w\rVert_1$: move every entry of `w` towards 0 by `t`, and set
# it to exactly 0 if it would cross 0. Return a new tensor (do not change `w`), and do not call `F.softshrink` or
# `course_lib`.

# %% {"tags": ["exercise"]}
def my_soft_threshold(w, t):
    raise NotImplementedError  # your code here

# %%
ex.check_soft_threshold(my_soft_threshold)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# $\operatorname{sign}(w)\max(|w| - t, 0)$: the magnitude shrinks by $t$ and is clipped at 0, the sign is kept. Common slips:
# `(w - t).clamp(min=0)` wipes out every negative weight; `w - t * w.sign()` lets small weights cross 0 (that is the
# subgradient step, no exact zeros); `w * (w.abs() > t)` is *hard* thresholding, which keeps large weights unshrunk.
# </details>

# %% {"tags": ["solution"]}
def solution_soft_threshold(w, t):
    return w.sign() * (w.abs() - t).clamp(min=0)


assert ex.check_soft_threshold(solution_soft_threshold)

# %% [markdown]
# ### Exercise 3 — the max-norm projection
# Write `my_max_norm_rows(W, c)` for a weight matrix `W` of shape `(out, in)`: return a new tensor in which every row whose
# Euclidean norm exceeds `c` is scaled down to norm exactly `c`, and every other row is left unchanged.

# %% {"tags": ["exercise"]}
def my_max_norm_rows(W, c):
    raise NotImplementedError  # your code here

# %%
ex.check_max_norm_rows(my_max_norm_rows)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# The norm of each row is `W.norm(dim=1, keepdim=True)` (shape `(out, 1)`), and each row is multiplied by
# $\min(1, c/\lVert w_i\rVert)$, which is `(c / norms).clamp(max=1)`. Dividing every row by its norm and multiplying by `c`
# would also blow *up* the rows inside the ball; `dim=0` would bound the columns (a unit's outgoing weights) instead.
# </details>

# %% {"tags": ["solution"]}
def solution_max_norm_rows(W, c):
    norms = W.norm(dim=1, keepdim=True)
    return W * (c / norms).clamp(max=1.0)


assert ex.check_max_norm_rows(solution_max_norm_rows)
