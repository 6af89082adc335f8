# %% [markdown]
# # 02 · Norm penalties
#
# **Learning objectives.** After this notebook you can
# 1. **write** the penalized cost $J(\theta) = L(\theta) + \lambda R(\theta)$ for the L2, L1, elastic-net and $L_q$ penalties,
#    **derive** the weight-decay form of one gradient step with L2, and **translate** the lecture's elastic net into
#    scikit-learn's `ElasticNet(alpha, l1_ratio)`;
# 2. **explain** with the geometry of the norm balls why L1 gives sparse weights, L2 small and spread ones, and the elastic
#    net sparse weights that keep correlated features together, and **measure** each of these;
# 3. **choose** the strength $\lambda$ on a log scale on the validation set, and evaluate the test set once;
# 4. **decide** which parameters to penalize (weights, not biases or normalization parameters) and **apply** a max-norm
#    constraint per layer;
# 5. **tell** L2 regularization from decoupled weight decay, and **show** why they differ under Adam.
#
# *Lecture:* "How to Train ConvNets" (Stephen Baek: parameter norm penalties, the weight-decay step, the geometry of L2
# and L1, elastic net, the $L_q$ family), "Regularization and Optimization of DNNs" (Applied Machine Learning: ridge,
# LASSO and the elastic net with its mixing ratio $r$), "Regularization, batchnorm and dropout" (Emanuele Rodolà:
# shrinkage vs sparsity, the bounded per-layer norm), "Regularization and more topics related to training" (L2 as weight
# decay, "discourages a subset of weights dominating", not regularizing biases), "Regularization" (Computer Vision: L1,
# L2, elastic net). *Runs in:* about 30 s on one CPU core (fast profile).

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
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to MNIST, wider networks and longer runs
# (see the README).

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from sklearn.linear_model import ElasticNet, Lasso

from course_lib import evaluate, fit, load_dataset, mlp, setup_notebook, show_source
from course_lib.baseline import BASELINE, baseline_model, baseline_optimizer, load_baseline
from course_lib.exercises import ex02 as ex
from course_lib.regularizers import (DecoupledWeightDecay, MaxNorm, Penalty, ProximalL1, elastic_net_penalty,
                                     l1_penalty, l2_penalty, lq_penalty, max_norm_, penalized_parameters,
                                     sgd_weight_decay_step_, soft_threshold_, weight_decay_groups)

ctx = setup_notebook(seed=0)
SEEDS = [0, 1]
BASE = BASELINE[ctx.profile]  # the shared baseline of notebooks 02-05: data, MLP, Adam, batch size
EPOCHS = ctx.epochs(fast=75, full=BASELINE["full"]["epochs"])  # the baseline trains 150 (fast); section 5 says why 75
LAST = 5                                                        # the last epochs a final accuracy or loss averages

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
# **Conventions differ between decks; check before you compare numbers.** The ½ in front of the L2 term ("How to Train
# ConvNets") makes its gradient exactly $\lambda w$; "Regularization and more topics related to training" writes
# $\lambda\sum w^2$, whose gradient is $2\lambda w$. For the elastic net we follow "Regularization and Optimization of DNNs":
# the mixing ratio $r$ multiplies the **ridge** term, so $r = 0$ is LASSO and $r = 1$ is ridge. "How to Train ConvNets" puts
# $r$ on the L1 term instead, and so does scikit-learn's `l1_ratio` (section 3 translates between them).
# `course_lib.regularizers` implements the table:

# %% {"tags": ["listing"]}
show_source(l2_penalty)
show_source(elastic_net_penalty)

# %% [markdown]
# Each function takes a model (then it penalizes the model's weights, see section 6), one tensor or a list of tensors. Values by
# hand for $w = (3, -4)$:

# %%
# NBVAL_CHECK_OUTPUT
w = torch.tensor([3.0, -4.0])
print(f"L2 ½‖w‖²           = {l2_penalty(w).item():.2f}   (½ (9 + 16))")
print(f"L1 ‖w‖₁            = {l1_penalty(w).item():.2f}    (3 + 4)")
print(f"L_q, q = 0.5       = {lq_penalty(w, 0.5).item():.4f}  (√3 + √4)")
print(f"elastic net r=0.25 = {elastic_net_penalty(w, 0.25).item():.3f}  (0.25·25 + 0.375·7)")
assert math.isclose(elastic_net_penalty(w, 0.25).item(), 0.25 * 25 + 0.375 * 7, rel_tol=1e-6)

# %% [markdown]
# ### L2 prefers to spread the weight, L1 does not care
# "Regularization and more topics related to training" asks why L2 reduces overfitting and answers: it *discourages a
# subset of weights dominating*. One unit $z = w^\top x$ with input $x = (1, 1, 1, 1)$ and two weight vectors that compute the
# same $z$, so the data loss cannot tell them apart: $w_a = (1, 0, 0, 0)$ puts everything on one input, $w_b = (0.25, 0.25,
# 0.25, 0.25)$ spreads it.

# %%
# NBVAL_CHECK_OUTPUT
x_unit = torch.ones(4)
w_a, w_b = torch.tensor([1.0, 0.0, 0.0, 0.0]), torch.full((4,), 0.25)
for name, w_ in (("w_a (one input)", w_a), ("w_b (spread)", w_b)):
    print(f"{name:16s}: z = wᵀx = {(w_ @ x_unit).item():.2f},  L2 ½‖w‖² = {l2_penalty(w_).item():.3f},  "
          f"L1 ‖w‖₁ = {l1_penalty(w_).item():.2f}")
assert (w_a @ x_unit).item() == (w_b @ x_unit).item() == 1.0, "same output, so the same data loss"
assert l2_penalty(w_b).item() == l2_penalty(w_a).item() / 4, "L2 charges the spread vector 4 times less"
assert l1_penalty(w_b).item() == l1_penalty(w_a).item(), "L1 charges both the same"
w_deck = torch.tensor([0.2, 0.1, 0.1, 0.2, 0.3, 0.1])  # the deck's six-input version, also z = 1 for x = 1
print(f"the deck's six inputs: ½‖(1,0,0,0,0,0)‖² = 0.500, ½‖w‖² = {l2_penalty(w_deck).item():.3f}, ‖w‖₁ = "
      f"{l1_penalty(w_deck).item():.2f} for both")

# %% [markdown]
# With the same fit, L2 picks the vector that uses all inputs a little (a quarter of the penalty), so no single input can
# dominate the unit's output; L1 charges both the same: it has no preference between spreading and concentrating, which
# leaves room for the sparse solutions of section 3.

# %% [markdown]
# ## 2. L2 and its weight-decay form
# With $R(w) = \tfrac12\lVert w\rVert^2$ the gradient of the cost is $\nabla J = \nabla L + \lambda w$, so one gradient-descent
# step with learning rate $\alpha$ is
#
# $$w \leftarrow w - \alpha\,(\nabla L + \lambda w) = \underbrace{(1 - \alpha\lambda)}_{<\,1}\, w - \alpha\, \nabla L .$$
#
# Every step first **shrinks** the weights by the factor $1 - \alpha\lambda$ and then follows the data gradient: that is why
# L2 regularization is also called **weight decay**. `torch.optim.SGD(weight_decay=λ)` implements the right-hand side, and so does:

# %% {"tags": ["listing"]}
show_source(sgd_weight_decay_step_)

# %% [markdown]
# ### Checking the claim: the L2 step equals the weight-decay step
# Most of the notebook's networks train on the **baseline** that notebooks 02–05 share (`course_lib.baseline`): scikit-learn's
# 8×8 digits, 500 training images of which 30 % carry a random label, 500 clean validation and 797 clean test images, and an
# MLP 64-256-256-10. One SGD step on a mini-batch, computed three ways from the same initial weights: (a) autograd on
# $L + \lambda\,\tfrac12\lVert w\rVert^2$ and a plain step $w \leftarrow w - \alpha\nabla J$; (b) the weight-decay form above on
# the data gradient only; (c) `torch.optim.SGD` with `weight_decay=λ` on the weights (biases get plain SGD in all three).

# %% {"tags": ["listing"]}
baseline_splits = {}


def baseline_data(seed):
    """The baseline's data for a seed (split and label noise depend on it), loaded once."""
    if seed not in baseline_splits:
        baseline_splits[seed] = load_baseline(ctx.profile, seed=seed, device=ctx.device)
    return baseline_splits[seed]


data = baseline_data(0)
print(data)

# %%
x_batch, y_batch = data.train.x[:BASE["batch_size"]], data.train.y[:BASE["batch_size"]]
alpha, lam = 0.1, 0.05
net_a, net_b, net_c, net_0 = (baseline_model(data, ctx.profile, generator=ctx.rng(0)) for _ in range(4))
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
moved = max((pa - p0).abs().max().item() for pa, p0 in zip(net_a.parameters(), net_0.parameters()))
print(f"largest change of a weight in the step: {moved:.2e}")
print(f"max |(a) - (b)| = {diff_ab:.1e},  max |(a) - (c)| = {diff_ac:.1e}")

# %%
# NBVAL_CHECK_OUTPUT
print("(a) = (b) = (c) to float32 precision:", diff_ab < 1e-6 and diff_ac < 1e-6)
assert diff_ab < 1e-6 and diff_ac < 1e-6, "the L2 step and the weight-decay step should agree to float precision"
assert moved > 1e3 * max(diff_ab, diff_ac), "the step itself must be far larger than the disagreement"

# %% [markdown]
# The three agree up to float32 rounding, while the step itself moved the weights by orders of magnitude more: the two forms
# are the same update, not merely close ones. With the $\lambda\sum w^2$ of "Regularization and more topics related to
# training" (no ½) the same step needs `weight_decay = 2λ`.

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

# %% [markdown]
# ### The loss contours touch the L1 ball at a corner
# Left: the balls that contain the two solutions at $\lambda \approx 0.5$. Right: each weight at the optimum as $\lambda$ grows.

# %% {"tags": ["plot"]}
g1, g2 = torch.meshgrid(torch.linspace(-2.0, 3.2, 200, dtype=torch.float64),
                        torch.linspace(-2.0, 3.6, 200, dtype=torch.float64), indexing="xy")
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
ax = axes[0]
ax.contour(g1, g2, quad_loss(torch.stack([g1, g2], -1)),
           levels=sorted([quad_loss(w_l1).item(), quad_loss(w_l2).item(), 0.8, 1.4, 2.2]), colors="grey", linewidths=1)
t1, t2 = w_l1.abs().sum().item(), w_l2.norm().item()
ax.plot([t1, 0, -t1, 0, t1], [0, t1, 0, -t1, 0], color="C3", label=r"L1 ball")
theta = torch.linspace(0, 2 * math.pi, 200)
ax.plot(t2 * torch.cos(theta), t2 * torch.sin(theta), color="C0", label=r"L2 ball")
ax.plot(*w_star.tolist(), "k*", ms=14, label="$w^*$ (no penalty)")
ax.plot(*w_l1.tolist(), "o", color="C3", ms=10, label="L1 solution")
ax.plot(*w_l2.tolist(), "s", color="C0", ms=9, label="L2 solution")
ax.axhline(0, color="k", lw=0.5)
ax.axvline(0, color="k", lw=0.5)
ax.set(xlabel="$w_1$", ylabel="$w_2$", title=fr"Loss contours and balls, $\lambda$ = {lams[k].item():.2f}",
       aspect="equal", xlim=(-2.0, 3.2), ylim=(-2.0, 3.6))
ax.legend(loc="upper left")
ax = axes[1]
for i, ls in ((0, "-"), (1, "--")):
    ax.plot(lams, lasso_path[:, i], ls, color="C3", label=f"L1: $w_{i + 1}$")
    ax.plot(lams, ridge_path[:, i], ls, color="C0", label=f"L2: $w_{i + 1}$")
ax.axhline(0, color="k", lw=0.5)
ax.set(xscale="log", xlabel=r"penalty strength $\lambda$", ylabel="weight at the optimum",
       title="Paths: L1 hits 0, L2 only shrinks")
ax.legend(fontsize=12)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
first_zero = lams[(lasso_path[:, 1] == 0).nonzero()[0, 0]].item()
print(f"λ = {lams[k].item():.2f}: L1 solution ({w_l1[0]:.3f}, {w_l1[1]:.3f}),  L2 solution ({w_l2[0]:.3f}, {w_l2[1]:.3f})")
print(f"L1 sets w2 exactly to 0 from λ = {first_zero:.3f} on; smallest |w2| on the L2 path: {ridge_path[:, 1].abs().min():.3f}")
assert w_l1[1] == 0 and w_l1[0] > 0.5, "the L1 solution should sit on the w1 axis"
assert (ridge_path.abs() > 0.05).all(), "L2 shrinks both weights but sets neither to zero"

# %% [markdown]
# ### The $L_q$ family
# $R_q(w) = \sum_i |w_i|^q$ gives a whole family of balls. For $q > 1$ they are round and smooth (no corners on the axes, no
# exact zeros); $q = 1$ is the smallest $q$ that still gives a **convex** penalty, the only one both convex and with corners;
# $q < 1$ has even sharper corners (sparser solutions), but the penalty is no longer convex and the optimization gets hard.

# %% {"tags": ["listing"]}
show_source(lq_penalty)

# %% [markdown]
# ### Unit balls of the $L_q$ family

# %% {"tags": ["plot"]}
G = torch.linspace(-1.6, 1.6, 201)
u1, u2 = torch.meshgrid(G, G, indexing="xy")
fig, ax = plt.subplots(figsize=(7.5, 5))
for q, color in ((0.5, "C4"), (1.0, "C3"), (1.5, "C1"), (2.0, "C0"), (4.0, "C2")):
    ax.contour(u1, u2, u1.abs() ** q + u2.abs() ** q, levels=[1.0], colors=color, linewidths=2)
    ax.plot([], [], color=color, lw=2, label=f"$q$ = {q:g}")
ax.set(xlabel="$w_1$", ylabel="$w_2$", title=r"Unit balls $\sum_i |w_i|^q \leq 1$", aspect="equal")
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=12)
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
# axis, so it pushes solutions onto the axes; $q > 2$ does the opposite; $q = 2$ is indifferent to the direction.

# %% [markdown]
# ### The elastic net's ball: corners of L1, rounded sides of L2
# Each ball drawn through the point $(1, 0)$, on its own panel, with the other two faint for comparison. The elastic net here
# has $r = 0.2$ (the lecture's convention: 20 % ridge). Its ball keeps L1's corners on the axes (so it still sets weights
# exactly to 0), but its sides bulge outwards like L2's: the penalty is strictly convex, so among weight vectors that fit
# equally well it prefers the spread one, as L2 does (section 1), where L1 is indifferent.

# %% {"tags": ["plot"]}
R_EN = 0.2  # the elastic net's mixing ratio in this section (lecture convention: r on the ridge term)
ball_values = {  # R(w) on the grid, and its value at (1, 0): the ball {R <= R(1, 0)}
    "L1": (u1.abs() + u2.abs(), 1.0),
    "L2": (u1**2 + u2**2, 1.0),
    f"elastic net, r = {R_EN:g}": (R_EN * (u1**2 + u2**2) + (1 - R_EN) / 2 * (u1.abs() + u2.abs()),
                                   elastic_net_penalty(torch.tensor([1.0, 0.0]), R_EN).item()),
}
ball_colors = dict(zip(ball_values, ("C3", "C0", "C2")))
fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
for ax, (name, (values, level)) in zip(axes, ball_values.items()):
    for other, (v_other, l_other) in ball_values.items():
        if other != name:
            ax.contour(u1, u2, v_other, levels=[l_other], colors=ball_colors[other], linewidths=1, alpha=0.35)
    ax.contourf(u1, u2, values, levels=[-1.0, level], colors=[ball_colors[name]], alpha=0.25)
    ax.contour(u1, u2, values, levels=[level], colors=ball_colors[name], linewidths=3)
    ax.set(xlabel="$w_1$", ylabel="$w_2$", title=name, aspect="equal", xlim=(-1.3, 1.3), ylim=(-1.3, 1.3))
fig.suptitle("Three balls through (1, 0): the filled one is the panel's", y=1.0)
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
en_level = elastic_net_penalty(torch.tensor([1.0, 0.0]), R_EN).item()
# where each ball crosses the diagonal w1 = w2 = a: L1 at a = 0.5, L2 at 1/√2, the elastic net in between
a_en = (-(1 - R_EN) + math.sqrt((1 - R_EN) ** 2 + 8 * R_EN * en_level)) / (4 * R_EN)  # 2r a² + (1 - r) a = level
print(f"the balls cross the diagonal at a = {0.5:.3f} (L1), {a_en:.3f} (elastic net), {1 / math.sqrt(2):.3f} (L2)")
assert math.isclose(elastic_net_penalty(torch.tensor([a_en, a_en], dtype=torch.float64), R_EN).item(), en_level)
assert 0.5 + 0.05 < a_en < 1 / math.sqrt(2) - 0.05, "the elastic net's ball lies clearly between L1's and L2's"

# %% [markdown]
# ### scikit-learn's `ElasticNet`: the same penalty in other words
# scikit-learn writes the elastic net for linear regression with a strength `alpha` and a ratio `l1_ratio` on the **L1**
# term:
#
# $$\frac{1}{2n}\lVert y - Xw\rVert^2 + \alpha\,\rho\,\lVert w\rVert_1 + \frac{\alpha(1-\rho)}{2}\lVert w\rVert_2^2,
# \qquad \rho = \texttt{l1\_ratio}.$$
#
# The course's problem is the mean squared error plus the lecture's penalty,
# $\tfrac1n\lVert y - Xw\rVert^2 + \lambda\big(r\lVert w\rVert_2^2 + \tfrac{1-r}{2}\lVert w\rVert_1\big)$. Halve it (that does not
# move the minimum) and match the two coefficients: $\alpha\rho = \lambda(1-r)/4$ and $\alpha(1-\rho) = \lambda r$, so
#
# $$\alpha = \frac{\lambda\,(1 + 3r)}{4}, \qquad \rho = \texttt{l1\_ratio} = \frac{1 - r}{1 + 3r}.$$
#
# ($r = 0$: `Lasso(alpha=λ/4)`; $r = 1$: `l1_ratio = 0`, ridge.) We check it on a regression with 8 features, the first three
# nearly identical copies of one another (correlation ≈ 0.99): at scikit-learn's solution the subgradient of the course's cost,
# written with `elastic_net_penalty`, must contain 0 (for a convex cost that is the definition of the minimum): the gradient
# vanishes on every non-zero weight, and on a zero weight the data gradient is within the L1 term's reach
# $\lambda(1-r)/2$.

# %% {"tags": ["listing"]}
def elastic_net_to_sklearn(lam, r):
    """scikit-learn's ElasticNet parameters for the course's MSE + lam * elastic_net_penalty(w, r)."""
    return {"alpha": lam * (1 + 3 * r) / 4, "l1_ratio": (1 - r) / (1 + 3 * r)}


def group_data(seed, n=100, d=8, copies=3):
    """y = 3 x_0 + x_3 + noise, where x_1, x_2 are near copies of x_0; centred, so no intercept is needed."""
    g = ctx.rng(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X[:, 1:copies] = X[:, :1] + 0.1 * torch.randn(n, copies - 1, generator=g, dtype=torch.float64)
    y = 3 * X[:, 0] + X[:, copies] + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)
    return X - X.mean(0), y - y.mean()


def course_cost(w, X, y, lam, r):
    """The course's elastic-net problem: mean squared error + lam * elastic_net_penalty(w, r)."""
    return F.mse_loss(X @ w, y) + lam * elastic_net_penalty(w, r)


def sklearn_solution(X, y, **params):
    model = ElasticNet(**params, fit_intercept=False, tol=1e-12, max_iter=100_000)
    return torch.tensor(model.fit(X.numpy(), y.numpy()).coef_)

# %%
LAM_EN = 0.3
X_g, y_g = group_data(0)
print("correlation of the copies:", torch.corrcoef(X_g[:, :3].T)[0, 1:].numpy().round(3))
w_sk = sklearn_solution(X_g, y_g, **elastic_net_to_sklearn(LAM_EN, R_EN)).requires_grad_()
course_cost(w_sk, X_g, y_g, LAM_EN, R_EN).backward()  # at w = 0, autograd's sign(0) = 0: the data gradient alone
nonzero = w_sk.detach() != 0
print(f"λ = {LAM_EN}, r = {R_EN}: ElasticNet{elastic_net_to_sklearn(LAM_EN, R_EN)} -> w = {w_sk.detach().numpy().round(3)}")
print(f"largest |∂J/∂w| on the non-zero weights: {w_sk.grad[nonzero].abs().max():.1e}; on the zero weights: "
      f"{w_sk.grad[~nonzero].abs().max():.3f} <= λ(1 - r)/2 = {LAM_EN * (1 - R_EN) / 2:.3f}")
naive = sklearn_solution(X_g, y_g, alpha=LAM_EN, l1_ratio=1 - R_EN)  # "r on ridge = 1 - l1_ratio", alpha = λ
print(f"course cost J at scikit-learn's solution {course_cost(w_sk, X_g, y_g, LAM_EN, R_EN).item():.4f}; "
      f"with the naive alpha = λ, l1_ratio = 1 - r: {course_cost(naive, X_g, y_g, LAM_EN, R_EN).item():.4f}")

# %%
assert w_sk.grad[nonzero].abs().max() < 1e-8, "the gradient of J vanishes on the non-zero weights"
assert (~nonzero).any() and (w_sk.grad[~nonzero].abs() <= LAM_EN * (1 - R_EN) / 2 + 1e-8).all(), "zero weights: KKT"
naive_excess = (course_cost(naive, X_g, y_g, LAM_EN, R_EN) - course_cost(w_sk, X_g, y_g, LAM_EN, R_EN)).item()
ctx.claim(naive_excess, ">", 0.03, f"the naive translation must solve a visibly different problem (J higher by {naive_excess:.3f})")
sk = elastic_net_to_sklearn(LAM_EN, R_EN)
assert math.isclose(sk["alpha"] * (1 + 3 * sk["l1_ratio"]), LAM_EN) and \
    math.isclose((1 - sk["l1_ratio"]) / (1 + 3 * sk["l1_ratio"]), R_EN), "the way back"

# %% [markdown]
# The converted parameters reach the course's minimum (the gradient on the non-zero weights is at rounding level); the
# tempting one-to-one reading, `alpha = λ` and `l1_ratio = 1 - r`, solves a different problem, with a higher course cost.
# The way back is the same formula the other way round: from `ElasticNet(alpha=a, l1_ratio=ρ)`, $\lambda = a\,(1 + 3\rho)$
# and $r = (1 - \rho)/(1 + 3\rho)$ (the map between $r$ and $\rho$ is its own inverse).

# %% [markdown]
# ### The elastic net keeps correlated features together
# Now the reason for the elastic net, on the same kind of data: three nearly identical features carry the signal. LASSO
# ($r = 0$) is indifferent between spreading and concentrating (section 1), so it puts the group's weight on one copy and
# (mostly) drops the others; the ridge part of the elastic net ($r = 0.2$) prefers spreading, so the copies share the weight
# evenly, while the irrelevant features 4–7 are still set to 0. Ridge ($r = 1$, closed form
# $w = (X^\top X/n + \lambda I)^{-1} X^\top y / n$) spreads too, but sets nothing to 0. Three data sets (seeds 0, 1, 2):

# %% {"tags": ["listing"]}
def share(w, group=slice(0, 3)):
    """Each copy's share of the group's total absolute weight."""
    a = w[group].abs()
    return a / a.sum()

# %%
group_fits = {}
for seed in (0, 1, 2):
    X_s, y_s = group_data(seed)
    ridge = torch.linalg.solve(X_s.T @ X_s / len(y_s) + LAM_EN * torch.eye(X_s.shape[1], dtype=X_s.dtype),
                               X_s.T @ y_s / len(y_s))
    group_fits[seed] = {"LASSO (r = 0)": sklearn_solution(X_s, y_s, **elastic_net_to_sklearn(LAM_EN, 0.0)),
                        f"elastic net (r = {R_EN:g})": sklearn_solution(X_s, y_s, **elastic_net_to_sklearn(LAM_EN, R_EN)),
                        "ridge (r = 1)": ridge}
for seed, fits_ in group_fits.items():
    print(f"seed {seed}: " + ";  ".join(f"{name} shares {share(w_).numpy().round(2)}" for name, w_ in fits_.items()))

# %% [markdown]
# ### LASSO picks a copy, the elastic net shares (seed 0)

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(10, 4.6))
idx = torch.arange(8)
for i, ((name, w_), color) in enumerate(zip(group_fits[0].items(), ("C3", "C2", "C0"))):
    ax.bar(idx + (i - 1) * 0.27, w_, width=0.27, color=color, label=name)
ax.axvspan(-0.5, 2.5, color="grey", alpha=0.12)
ax.text(1.0, 2.75, "three near copies", ha="center", fontsize=12)
ax.axhline(0, color="k", lw=0.5)
ax.set(xticks=idx.tolist(), xlabel="feature", ylabel="weight", ylim=(-0.3, 3.1),
       title=fr"$y = 3x_0 + x_3$ + noise, $x_1 \approx x_2 \approx x_0$; $\lambda$ = {LAM_EN:g}")
ax.legend(loc="upper right", fontsize=12)
plt.show()

# %%
for seed, fits_ in group_fits.items():
    lasso_w, en_w, ridge_w = fits_.values()
    zeros = {name: int((w_[3 + 1:] == 0).sum()) for name, w_ in fits_.items()}  # among the 4 irrelevant features
    print(f"seed {seed}: largest share LASSO {share(lasso_w).max():.2f}, smallest share elastic net "
          f"{share(en_w).min():.2f}; exact zeros among features 4-7: {zeros}")
    contrast = share(lasso_w).max() - share(en_w).max()   # the largest copy's share: LASSO's against the elastic net's
    ctx.claim(contrast, ">", 0.3, f"seed {seed}: LASSO should put far more of the group's weight on one copy than the "
              f"elastic net ({share(lasso_w).max():.2f} vs {share(en_w).max():.2f})")
    ctx.claim(share(en_w).min(), ">", 0.25, f"seed {seed}: the elastic net should give every copy about a third")
    ctx.claim(zeros[f"elastic net (r = {R_EN:g})"], ">", 1, f"seed {seed}: the elastic net should zero at least 2 of the 4 "
              "irrelevant features")
    assert zeros["ridge (r = 1)"] == 0, "ridge shrinks but sets nothing exactly to 0"

# %% [markdown]
# ## 4. L1 and sparsity in a network
# The argument of "Regularization, batchnorm and dropout", in numbers: the L2 gradient $\lambda w_i$ vanishes as $w_i \to 0$,
# so L2 barely bothers with weights already smaller than 1 ("sparsity is discouraged"). The L1 gradient
# $\lambda\operatorname{sign}(w_i)$ has the same size for every weight, large or small, and pushes each one all the way to 0
# unless the data gradient holds it back.
#
# The argument is about gradient steps, so this comparison uses SGD, whose steps are those gradients (Adam rescales every
# gradient coordinate; under Adam even L2 moves small weights towards 0 at a fixed pace, section 8). Its own set-up: an MLP
# on MNIST-1D with SGD (momentum 0.9), trained once with the L1 penalty and once with L2 at the **same** strength
# $\lambda = 3\cdot 10^{-4}$, from the same initialization (seed 0). We count the weights that end up at 0. The subgradient
# step does not land exactly on 0 (a weight jitters around it by about one step, $\alpha\lambda/(1-\beta) = 3\cdot 10^{-4}$),
# so "zero" here means $|w| < 10^{-3}$; the exact zeros come next.

# %% {"tags": ["listing"]}
sparse_data = load_dataset(ctx.pick(fast="mnist1d", full="mnist"), device=ctx.device)
SPARSE_HIDDEN = ctx.pick(fast=[128, 128], full=[512, 512])
SPARSE_EPOCHS = ctx.epochs(fast=12, full=30)
LAM_SPARSE = 3e-4


def train_sgd(kind, seed):
    """A fresh MLP on sparse_data trained with SGD + momentum and the penalty `kind` ('l1' or 'l2') at LAM_SPARSE."""
    model = mlp(sparse_data.num_features, SPARSE_HIDDEN, sparse_data.num_classes, generator=ctx.rng(seed))
    fit(model, sparse_data.train, epochs=SPARSE_EPOCHS, batch_size=128, seed=seed,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, fused=True),
        callbacks=[Penalty(LAM_SPARSE, kind)])
    return model


def zero_fraction(model, tol=1e-3):
    """Fraction of the penalized weights with |w| < tol."""
    ws = penalized_parameters(model)
    return sum(int((p.abs() < tol).sum()) for p in ws) / sum(p.numel() for p in ws)

# %%
SPARSE_SEEDS = [0]  # one seed: L1 leaves over 30 times as many zeros as L2, a gap no seed comes close to closing
sparse_models = {(kind, seed): train_sgd(kind, seed) for seed in SPARSE_SEEDS for kind in ("l1", "l2")}

# %% [markdown]
# ### Weights after training: L1 piles them up at 0 (seed 0)

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.4))
bins = torch.linspace(-0.5, 0.5, 101).tolist()
for kind, color in (("l2", "C0"), ("l1", "C3")):
    values = torch.cat([p.detach().flatten().cpu() for p in penalized_parameters(sparse_models[(kind, 0)])])
    ax.hist(values.clamp(-0.5, 0.5).numpy(), bins=bins, color=color, alpha=0.5, label=f"{kind.upper()}, λ = {LAM_SPARSE:g}")
ax.set(yscale="log", xlabel="weight value (clipped to [-0.5, 0.5])", ylabel="number of weights",
       title="Weights after training with SGD")
ax.legend()
plt.show()

# %% [markdown]
# ### Checking the claim: L1 zeroes far more weights than L2 at equal strength
# The margin asked for is wide: a fifth of the weights at least, and ten times as many as L2.

# %%
for seed in SPARSE_SEEDS:
    frac = {kind: zero_fraction(sparse_models[(kind, seed)]) for kind in ("l1", "l2")}
    print(f"seed {seed}: |w| < 1e-3 for {frac['l1']:.0%} of the weights with L1, {frac['l2']:.1%} with L2")
    ctx.claim(frac["l1"], ">", 0.2, f"seed {seed}: L1 should zero a large share of the weights")
    ratio = frac["l1"] / max(frac["l2"], 1e-4)   # L2 may leave no weight at all below 1e-3
    ctx.claim(ratio, ">", 10, f"seed {seed}: L1 should zero far more weights than L2 (×{ratio:.0f})")

# %% [markdown]
# ### Exact zeros: the proximal step (soft-thresholding)
# The subgradient step $w \leftarrow w - \alpha(\nabla L + \lambda\operatorname{sign}(w))$ overshoots 0 and flips sign back and
# forth. **Proximal gradient descent** (ISTA) splits the step: a gradient step on the data loss, then the exact minimizer of
# $\tfrac{1}{2\alpha}\lVert v - z\rVert^2 + \lambda\lVert v\rVert_1$, which is soft-thresholding by $t = \alpha\lambda$:
#
# $$w_i \leftarrow \operatorname{sign}(z_i)\,\max(|z_i| - t,\ 0), \qquad z = w - \alpha\nabla L(w).$$
#
# Every weight with $|z_i| \le \alpha\lambda$ lands **exactly** on 0. The callback `ProximalL1` does this after each step of `fit`.

# %% {"tags": ["listing"]}
show_source(soft_threshold_)

# %% [markdown]
# On a regression with 20 features of which only 3 matter, `fit` with full batches and `ProximalL1` is ISTA. It finds the
# LASSO solution (scikit-learn's coordinate descent is the reference) with the 17 irrelevant weights at exactly 0; the
# subgradient method at the same $\lambda$ leaves them small but non-zero.

# %%
g = ctx.rng(0)
n_reg, d_reg = 200, 20
x_reg = torch.randn(n_reg, d_reg, generator=g)
w_true = torch.zeros(d_reg)
w_true[:3] = torch.tensor([2.0, -1.5, 1.0])
y_reg = (x_reg @ w_true + 0.5 + 0.3 * torch.randn(n_reg, generator=g)).unsqueeze(1)
x_reg, y_reg = x_reg.to(ctx.device), y_reg.to(ctx.device)

lasso_models = {}
LAM_LASSO = 0.2
for name, cb in (("proximal (ISTA)", ProximalL1(LAM_LASSO)), ("subgradient", Penalty(LAM_LASSO, "l1"))):
    model = torch.nn.Linear(d_reg, 1).to(ctx.device)
    torch.nn.init.zeros_(model.weight), torch.nn.init.zeros_(model.bias)  # start from w = 0, b = 0
    fit(model, (x_reg, y_reg), epochs=200, batch_size=n_reg, seed=0, callbacks=[cb],
        optimizer=torch.optim.SGD(model.parameters(), lr=0.2))
    lasso_models[name] = model.weight.detach().cpu().flatten()
# the reference: scikit-learn's Lasso minimizes 1/(2n)‖y − Xw − b‖² + a‖w‖₁, i.e. MSE + λ‖w‖₁ with a = λ/2
sk_lasso = Lasso(alpha=LAM_LASSO / 2, tol=1e-10).fit(x_reg.cpu().double().numpy(), y_reg.cpu().double().numpy().ravel())
lasso_models["scikit-learn Lasso"] = torch.tensor(sk_lasso.coef_, dtype=torch.float32)

# %% [markdown]
# ### Proximal steps give exact zeros, subgradient steps do not

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(10, 4.4))
idx = torch.arange(d_reg)
ax.bar(idx - 0.2, lasso_models["proximal (ISTA)"].abs(), width=0.4, color="C3", label="proximal (ISTA)")
ax.bar(idx + 0.2, lasso_models["subgradient"].abs(), width=0.4, color="C1", label="subgradient")
is_zero = lasso_models["proximal (ISTA)"] == 0
ax.plot(idx[is_zero] - 0.2, torch.full((int(is_zero.sum()),), 2e-6), "x", color="C3", ms=8, label="exactly 0 (proximal)")
ax.plot(idx[:3], w_true[:3].abs(), "k_", ms=16, mew=2, label="true |weight|")
ax.set(yscale="log", ylim=(1e-6, 1e3), xticks=idx.tolist(), xlabel="feature", ylabel="|weight| (log scale)",
       title=fr"L1 with $\lambda$ = {LAM_LASSO:g}: only 3 of 20 features matter")
ax.legend(ncol=2, loc="upper right", fontsize=12)
plt.show()

# %%
exact = {name: int((w_ == 0).sum()) for name, w_ in lasso_models.items()}
ista_vs_sklearn = (lasso_models["proximal (ISTA)"] - lasso_models["scikit-learn Lasso"]).abs().max().item()
print("exact zeros among the 20 weights:", exact)
print(f"ISTA agrees with scikit-learn's Lasso to 1e-4: {ista_vs_sklearn < 1e-4}")
print("largest irrelevant weight with the subgradient:", f"{lasso_models['subgradient'][3:].abs().max():.0e}")
ctx.claim(ista_vs_sklearn, "<", 1e-4, "proximal gradient descent should converge to the LASSO solution")
irrelevant_left = int((lasso_models["proximal (ISTA)"][3:] != 0).sum())
ctx.claim(irrelevant_left, "<", 1, f"ISTA should set all 17 irrelevant weights exactly to 0 ({irrelevant_left} are not)")
ctx.claim(abs(exact["proximal (ISTA)"] - exact["scikit-learn Lasso"]), "<", 1, "ISTA and scikit-learn: the same zeros")
ctx.claim(lasso_models["proximal (ISTA)"][:3].abs().min().item(), ">", 0.5, "the 3 relevant weights should stay clearly non-zero")
ctx.claim(exact["subgradient"], "<", 1, "the subgradient step should leave no weight exactly at 0")

# %% [markdown]
# ## 5. L2 on the shared baseline: choosing $\lambda$ on validation
# Now the question that matters: does L2 make a network **generalize** better? On the baseline the unregularized MLP can fit
# all 500 training labels, the 30 % wrong ones included, and the memorized noise costs it on the clean validation set. To keep
# the notebook fast we train for 75 epochs instead of the baseline's 150: by then the unregularized network fits (nearly) all
# of its noisy training labels, the wrong ones included (measured below). We add the L2 penalty $\tfrac\lambda2\lVert w\rVert^2$ on the weights only
# and sweep $\lambda$ on a log scale, $10^{-3}$, $10^{-2}$ and $10^{-1}$ (the last one deliberately too strong), plus
# $\lambda = 0$, on seed 0. We **choose $\lambda$ by validation accuracy** at the end of training (its mean over the last
# `LAST` = 5 epochs: from one epoch to the next it wobbles by a point or two), evaluate the **test set once**, at that
# $\lambda$, and check the gain on a second seed (its own label noise, split and initialization).

# %% [markdown]
# ### L2 inside Adam: the optimizer's `weight_decay` is the same penalty
# With Adam the penalty is cheapest inside the optimizer: `torch.optim.Adam(..., weight_decay=λ)` adds $\lambda w$ to the
# gradient *before* Adam's moments, which is exactly the gradient of $\tfrac\lambda2\lVert w\rVert^2$, so it is the update of
# `Penalty(λ, "l2")` in the loss without the extra autograd work (in spite of its name it is L2 regularization, not the
# decoupled weight decay of section 8). `weight_decay_groups` gives $\lambda$ to the weights and 0 to the biases. One epoch
# both ways from the same start:

# %%
def l2_adam(model, lam_):
    """The baseline's Adam with weight_decay = lam_ on the model's weights, 0 on the biases (fused: one kernel per step)."""
    return torch.optim.Adam(weight_decay_groups(model, lam_), lr=BASE["lr"], fused=True)


net_pen, net_wd, net_free = (baseline_model(data, ctx.profile, generator=ctx.rng(0)) for _ in range(3))
for net_, opt_, cbs in ((net_pen, baseline_optimizer(ctx.profile), [Penalty(0.01, "l2")]),
                        (net_wd, l2_adam(net_wd, 0.01), []), (net_free, baseline_optimizer(ctx.profile), [])):
    fit(net_, data.train, epochs=1, batch_size=BASE["batch_size"], seed=0, optimizer=opt_, callbacks=cbs)
gap = max((a - b).abs().max().item() for a, b in zip(net_pen.parameters(), net_wd.parameters()))
effect = max((a - b).abs().max().item() for a, b in zip(net_pen.parameters(), net_free.parameters()))
print(f"one epoch, λ = 0.01: the penalty changes the weights by up to {effect:.1e}; "
      f"Penalty(λ, 'l2') and Adam's weight_decay = λ differ by {gap:.0e}")
assert gap < 1e-5 and effect > 1e3 * gap, "L2 in the loss and Adam's weight_decay should be the same update"

# %% {"tags": ["listing"]}
runs = {}


def train_baseline(seed, name, callbacks=(), l2=0.0):
    """The baseline MLP on baseline_data(seed): Adam, with L2 of strength l2 on the weights (through Adam's
    weight_decay) and extra callbacks; cached by (name, seed)."""
    if (name, seed) not in runs:
        d = baseline_data(seed)
        model = baseline_model(d, ctx.profile, generator=ctx.rng(seed))
        history = fit(model, d.train, d.val, epochs=EPOCHS, batch_size=BASE["batch_size"], seed=seed,
                      optimizer=l2_adam(model, l2) if l2 > 0 else baseline_optimizer(ctx.profile),
                      callbacks=list(callbacks))
        runs[(name, seed)] = (model, history)
    return runs[(name, seed)]


def train_l2(lam_, seed):
    return train_baseline(seed, f"L2 {lam_:g}", l2=lam_)

# %% [markdown]
# ### The sweep on seed 0: $\lambda$ chosen on validation, the test set evaluated once

# %%
LAMS = [0.0, 1e-3, 1e-2, 1e-1]
sweep = {lam_: train_l2(lam_, 0)[1] for lam_ in LAMS}


def settled(h, key):
    """The mean of history field `key` over the last LAST epochs: the end of training, without one epoch's wobble."""
    return sum(getattr(h, key)[-LAST:]) / LAST


LAM_BEST = max(LAMS, key=lambda l_: settled(sweep[l_], "val_acc"))  # chosen on validation, never on the test set
for lam_, h in sweep.items():
    print(f"λ = {lam_:<6g}: train acc {h.train_acc[-1]:.3f} (noisy labels), val acc {settled(h, 'val_acc'):.3f}, "
          f"val loss {settled(h, 'val_loss'):.3f}" + ("   <- chosen" if lam_ == LAM_BEST else ""))
test = evaluate(train_l2(LAM_BEST, 0)[0], data.test)
print(f"test set, once, at λ = {LAM_BEST:g}: accuracy {test['acc']:.3f}, loss {test['loss']:.3f}")

# %% [markdown]
# ### Sweeping the strength: too little memorizes, too much underfits

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
nonzero_lams = LAMS[1:]
for ax, metric, ylabel in ((axes[0], "acc", "accuracy after training"), (axes[1], "loss", "validation loss")):
    if metric == "acc":
        ax.plot(nonzero_lams, [sweep[l_].train_acc[-1] for l_ in nonzero_lams], "o-", color="C0",
                label="train (noisy labels)")
        ax.axhline(sweep[0.0].train_acc[-1], color="C0", ls=":", label=r"train, $\lambda$ = 0")
    ax.plot(nonzero_lams, [settled(sweep[l_], f"val_{metric}") for l_ in nonzero_lams], "s-", color="C1",
            label=f"validation (last {LAST} epochs)")
    ax.axhline(settled(sweep[0.0], f"val_{metric}"), color="C1", ls=":", label=r"validation, $\lambda$ = 0")
    ax.axvline(LAM_BEST, color="C2", lw=6, alpha=0.25, label=fr"chosen $\lambda$ = {LAM_BEST:g}")
    ax.set(xscale="log", xlabel=r"L2 strength $\lambda$ (log scale)", ylabel=ylabel)
    ax.legend()
axes[0].set_title("Accuracy (seed 0)")
axes[1].set_title("Validation loss (seed 0)")
plt.show()

# %% [markdown]
# ### Learning curves: without L2 the network memorizes the noisy labels

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(9, 4.6))
for lam_, color in ((0.0, "C3"), (LAM_BEST, "C2")):
    h = sweep[lam_]
    ax.plot(h.epoch, h.train_acc, "-", color=color, label=fr"$\lambda$ = {lam_:g}: train (noisy labels)")
    ax.plot(h.epoch, h.val_acc, "--", color=color, label=fr"$\lambda$ = {lam_:g}: validation")
ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0.0, 1.02), title="Baseline with and without L2 (seed 0)")
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# ### Checking the claim: L2 raises validation accuracy and lowers validation loss
# At the chosen $\lambda$ against $\lambda = 0$, both averaged over the last 5 epochs: validation accuracy up by more than 5
# points on each seed and by more than 8 points on the mean over the two seeds (one seed's gain varies more: from 9 to 18
# points across the seeds and kernel sets we tried), and validation loss down by more than 10 % on each seed. We also count how many of the training images with a wrong label the network predicts *with* that
# wrong label, i.e. has memorized.

# %% {"tags": ["listing"]}
@torch.no_grad()
def fits_wrong_labels(models, seed):
    """For each model, the share of the training images with a wrong (replaced) label that it predicts with that label."""
    train = baseline_data(seed).train
    true_y = load_baseline(ctx.profile, seed=seed, device=ctx.device, label_noise=0.0).train.y  # same split, clean
    wrong = train.y != true_y
    return [(m.eval()(train.x[wrong]).argmax(1) == train.y[wrong]).float().mean().item() for m in models]

# %%
h_free = sweep[0.0]
peak = max(h_free.val_acc)
print(f"λ = 0, seed 0: validation accuracy peaks at {peak:.3f} (epoch {h_free.epoch[h_free.val_acc.index(peak)]}), "
      f"ends at {settled(h_free, 'val_acc'):.3f} (mean of the last {LAST} epochs)")
acc_gain = []
for seed in SEEDS:
    (m0, h0), (m1, h1) = train_l2(0.0, seed), train_l2(LAM_BEST, seed)
    fitted0, fitted1 = fits_wrong_labels([m0, m1], seed)
    acc0, acc1 = settled(h0, "val_acc"), settled(h1, "val_acc")
    loss0, loss1 = settled(h0, "val_loss"), settled(h1, "val_loss")
    print(f"seed {seed} (λ = 0 -> {LAM_BEST:g}): val acc {acc0:.3f} -> {acc1:.3f},  val loss {loss0:.3f} -> {loss1:.3f},  "
          f"wrong training labels fitted {fitted0:.0%} -> {fitted1:.0%}")
    ctx.claim(acc1 - acc0, ">", 0.05, f"seed {seed}: L2 should raise validation accuracy ({acc1 - acc0:+.3f})")
    ctx.claim(loss1 / loss0, "<", 0.9, f"seed {seed}: L2 should lower validation loss clearly (×{loss1 / loss0:.2f})")
    acc_gain.append(acc1 - acc0)
ctx.claim(sum(acc_gain) / len(acc_gain), ">", 0.08,
          f"L2 should raise validation accuracy clearly on average over the seeds ({sum(acc_gain) / len(acc_gain):+.3f})")

# %% [markdown]
# What the run shows: the sweep picks $\lambda = 10^{-2}$ on validation (on every seed and kernel set we tried; $10^{-3}$ still
# memorizes most of the noisy labels, $10^{-1}$ is so strong that the network predicts at chance level). On both seeds it
# raises validation accuracy by 9 to 18 points and lowers the validation loss by 25 to 43 % (the ranges over the seeds and
# kernel sets we tried; this run's numbers are printed above), and it does so by **not** fitting the wrong labels: without
# the penalty the network reproduces nearly every wrong training label and reaches a training accuracy of 0.98–1.00 on the
# noisy labels, with it only a small share, at a training accuracy of about 0.73 (a clean-label fit scores about that). The
# test accuracy, measured once at the chosen $\lambda$, is printed above (other images; we do not go back and re-choose).
# Two caveats:
# - Without the penalty, validation accuracy passes through a higher peak early in training (printed above) before the
#   memorization sets in; stopping there (early stopping, notebook 05) is another regularizer, and notebook 05 compares them
#   all on this baseline.
# - The gain needs something to prevent. With **clean** labels (200 training images, a wider MLP 64-512-512-10, 300 epochs; a
#   run not repeated in this notebook) L2 hardly moves validation accuracy on this network (0.922 at $\lambda = 0$, 0.924 at
#   $10^{-3}$, 0.930 at $10^{-2}$ on seed 0: differences under a point); it lowers the validation loss (0.33 → 0.25 at
#   $10^{-3}$), i.e. it makes the network less over-confident.

# %% [markdown]
# ## 6. Which parameters to penalize
# A norm penalty acts on the **weights** of the affine layers (linear and convolutional). Biases are usually left out: a bias
# only shifts a unit's output and does not make the model more flexible, and there are orders of magnitude fewer biases than
# weights, so penalizing them buys almost no regularization but can cost fit. The scale and shift ($\gamma$, $\beta$) of
# normalization layers are left out for the same reason. `penalized_parameters` makes that choice, and every function and
# callback in `course_lib.regularizers` uses it when given a model:

# %% {"tags": ["listing"]}
show_source(penalized_parameters)

# %%
# NBVAL_CHECK_OUTPUT
bn_net = mlp(data.num_features, list(BASE["hidden"]), data.num_classes, norm="batch", generator=ctx.rng(0))
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
g = ctx.rng(3)
x_off = torch.linspace(-1, 1, 50, dtype=torch.float64)
y_off = 5 + 0.5 * x_off + 0.2 * torch.randn(50, generator=g, dtype=torch.float64)
X_off = torch.stack([x_off, torch.ones_like(x_off)], 1)  # columns: weight, bias
lam_off = 1.0
fits = {}
for name, D in (("weight only", torch.diag(torch.tensor([1.0, 0.0]))), ("weight and bias", torch.eye(2))):
    theta = torch.linalg.solve(X_off.T @ X_off / 50 + lam_off * D.double(), X_off.T @ y_off / 50)
    fits[name] = (theta, ((X_off @ theta - y_off) ** 2).mean().item())

# %% [markdown]
# ### A penalty on the bias drags the whole line down

# %% {"tags": ["plot"]}
fig, ax = plt.subplots(figsize=(8, 4.4))
ax.plot(x_off, y_off, "k.", label="data")
xs = torch.linspace(-1, 1, 2, dtype=torch.float64)
for (name, (theta, mse)), color in zip(fits.items(), ("C0", "C3")):
    ax.plot(xs, theta[0] * xs + theta[1], color=color, label=f"L2 on {name}: w = {theta[0]:.2f}, b = {theta[1]:.2f}")
ax.set(xlabel="x", ylabel="y", title=fr"Strong L2 ($\lambda$ = {lam_off:g}) with and without the bias", ylim=(0, 6.5))
ax.legend(fontsize=12, loc="lower right")
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
# $\lVert W^{(\ell)}\rVert_F \le c^{(\ell)}$ ("Regularization, batchnorm and dropout"), or, as Srivastava et al. use it with
# dropout, bound the incoming weight vector of every unit, $\lVert w_i\rVert_2 \le c$ for each row $i$ of $W$. After each
# optimizer step, rows (or layers) outside the ball are scaled back onto it:
#
# $$w_i \leftarrow w_i \cdot \min\Big(1, \frac{c}{\lVert w_i\rVert_2}\Big).$$
#
# The weights can never grow without bound, however large the learning rate; inside the ball nothing happens at all. On the
# baseline (seed 0) with $c = 1$:

# %% {"tags": ["listing"]}
show_source(max_norm_)

# %%
C_MAX = 1.0
maxnorm_model, maxnorm_history = train_baseline(0, f"max-norm {C_MAX:g}", [MaxNorm(C_MAX)])
free_model, free_history = train_l2(0.0, 0)
row_norms = {name: [w_.detach().norm(dim=1).cpu() for w_ in penalized_parameters(m)]
             for name, m in (("no constraint", free_model), (f"max-norm c = {C_MAX:g}", maxnorm_model))}

# %% [markdown]
# ### Each unit's incoming weights, with and without the bound

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for layer, ax in enumerate(axes):
    top = max(norms[layer].max().item() for norms in row_norms.values())
    layer_bins = torch.linspace(0, top * 1.02, 31).tolist()
    for (name, norms), color in zip(row_norms.items(), ("C3", "C2")):
        ax.hist(norms[layer].tolist(), bins=layer_bins, color=color, alpha=0.6, label=name)
    ax.axvline(C_MAX, color="k", ls="--", label=f"c = {C_MAX:g}")
    ax.set(xlabel=r"row norm $\|w_i\|_2$", ylabel="number of units" if layer == 0 else None, title=f"layer {layer + 1}")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=12, bbox_to_anchor=(0.5, -0.1))
plt.show()

# %%
worst = max(n_.max().item() for n_ in row_norms[f"max-norm c = {C_MAX:g}"])
free_max = max(n_.max().item() for n_ in row_norms["no constraint"])
print(f"largest row norm: {free_max:.2f} without the constraint, {worst:.3f} with max-norm c = {C_MAX:g}")
print(f"seed 0, validation accuracy: {free_history.val_acc[-1]:.3f} without, {maxnorm_history.val_acc[-1]:.3f} with max-norm")
assert worst <= C_MAX * (1 + 1e-6), "every row must stay within the bound"
ctx.claim(free_max / C_MAX, ">", 1.2, f"the bound must have been active (the free network's rows grow to {free_max:.2f})")

# %% [markdown]
# Every row of the constrained network ends on or inside the ball, while the free network's rows grew well past it. What
# the bound does to validation accuracy is printed above for this one run and is not checked here; notebook 05 puts it in
# the table with the other regularizers. `MaxNorm(c, mode="frobenius")` bounds the whole layer instead, and `MaxNorm([c1, c2, c3])` takes one bound
# per layer.

# %% [markdown]
# ## 8. L2 regularization vs decoupled weight decay under Adam
# For SGD, "add $\tfrac\lambda2\lVert w\rVert^2$ to the loss" and "shrink $w \leftarrow (1-\alpha\lambda)w$ every step" are the same
# thing (section 2). For **Adam** they are not. Adam divides each gradient coordinate by the root of its running second moment,
#
# $$w \leftarrow w - \alpha\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}, \qquad m, v \text{ averages of } g = \nabla L + \lambda w
# \text{ and } g^2,$$
#
# so the penalty's gradient $\lambda w$ is **normalized away**: a weight with no data gradient moves by about $\alpha$ per step
# whatever its size and whatever $\lambda$ is. (The L2 of section 5, Adam's own `weight_decay`, was exactly this, L2 in Adam's
# loss; it helped there, but its $\lambda$ is not a weight-decay rate.) **Decoupled weight decay** (Loshchilov & Hutter;
# `torch.optim.AdamW`) takes the shrinkage out of the gradient, $w \leftarrow (1-\alpha\lambda)w$, and lets Adam handle only
# $\nabla L$:

# %% {"tags": ["listing"]}
show_source(DecoupledWeightDecay)

# %% [markdown]
# The cleanest test has **no data gradient at all**: $\nabla L = 0$, three weights $w = (100, 1, 0.01)$, $\alpha = 0.1$, 10 steps.
# Weight decay should multiply each weight by $(1 - \alpha\lambda)^{10}$.

# %% {"tags": ["listing"]}
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

# %%
paths = {}
for lam_ in (0.01, 0.1, 1.0):
    paths[("SGD + L2", lam_)] = ten_steps(lambda p: torch.optim.SGD(p, lr=0.1), lam_, True)
    paths[("AdamW", lam_)] = ten_steps(lambda p: torch.optim.AdamW(p, lr=0.1, weight_decay=lam_), lam_, False)
    paths[("Adam + L2", lam_)] = ten_steps(lambda p: torch.optim.Adam(p, lr=0.1), lam_, True)

# %% [markdown]
# ### Zero data gradient: SGD + L2 and AdamW decay, Adam + L2 does not

# %% {"tags": ["plot"]}
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for i, ax in enumerate(axes):
    for (name, lam_), path in paths.items():
        if name == "Adam + L2":  # the same path for every λ: one black line
            label = r"Adam + L2, every $\lambda$" if lam_ == 1.0 else None
            ax.plot(path[:, i] / w0[i], "--", color="k", lw=2.5, label=label)
            continue
        style = {"SGD + L2": "-", "AdamW": "o"}[name]
        color = {0.01: "C0", 0.1: "C1", 1.0: "C2"}[lam_]
        ax.plot(path[:, i] / w0[i], style, color=color, ms=6, label=fr"{name}, $\lambda$ = {lam_:g}")
    ax.set(xlabel="step", ylabel=r"$w_t / w_0$" if i == 0 else None, title=f"$w_0$ = {w0[i].item():g}")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.16))
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
assert torch.allclose(paths[("Adam + L2", 0.1)][-1], torch.tensor([99.0, 0.076, -0.041], dtype=torch.float64), atol=2e-3)

# %% [markdown]
# Adam + L2 moves every weight by about $\alpha = 0.1$ per step: the weight of 100 hardly decays (to 99), the weight of 1 drops to
# 0.08 and the weight of 0.01 overshoots to $-0.04$; and a hundredfold change of $\lambda$ changes nothing. That is why, with
# Adam, use AdamW (or `Adam` + `DecoupledWeightDecay`), and tune its `weight_decay` separately from an SGD L2 strength. On the
# baseline network the two forms of decoupled decay are the same update, to float precision:

# %%
net_adam, net_adamw = (baseline_model(data, ctx.profile, generator=ctx.rng(5)) for _ in range(2))
fit(net_adam, data.train, epochs=2, batch_size=BASE["batch_size"], seed=0,
    optimizer=torch.optim.Adam(net_adam.parameters(), lr=1e-3), callbacks=[DecoupledWeightDecay(0.1)])
fit(net_adamw, data.train, epochs=2, batch_size=BASE["batch_size"], seed=0,
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
#   At equal fit it prefers weights spread over many inputs (a quarter of the penalty for four equal weights); L1 is indifferent.
# - **L1** gives sparse weights: its ball has corners on the axes, and its gradient does not fade for small weights. At equal
#   strength it zeroed about 28 % of an SGD-trained network's weights, L2 under 1 %; the proximal step (soft-thresholding)
#   makes the zeros exact. The **elastic net** ($r = 0$ LASSO, $r = 1$ ridge) keeps L1's zeros but shares weight among
#   near-identical features where LASSO picks one; in scikit-learn it is `ElasticNet(alpha=λ(1+3r)/4, l1_ratio=(1-r)/(1+3r))`.
# - Choose $\lambda$ on a log scale **on the validation set**, then test once. On the noisy-label baseline, L2 with
#   $\lambda = 10^{-2}$ raised validation accuracy by 9 to 18 points (over the seeds we tried) by refusing to memorize the wrong labels;
#   with clean labels it hardly moves accuracy here, only lowers the validation loss.
# - Penalize the **weights**, not biases or normalization parameters. **Max-norm** bounds each unit's (or layer's) weight norm
#   by projecting after every step.
# - With **Adam**, L2 in the loss is not weight decay (the penalty is normalized away); use **decoupled** weight decay (AdamW).

# %% [markdown]
# ## Exercises
# ### Exercise 1 — the elastic net as code
# Write `my_elastic_net(w, r)`: the lecture's elastic-net penalty $R(w) = r\lVert w\rVert_2^2 + \tfrac{1-r}{2}\lVert w\rVert_1$
# ("Regularization and Optimization of DNNs": $r$ on the ridge term) of a tensor `w` of any shape, summed over all its
# entries, returned as a 0-dim tensor. Use plain tensor operations, not `elastic_net_penalty`. The check compares it with
# `course_lib` on several tensors and ratios, and names the slip if it finds one (hint: for $w = (3, -4, 0, 1)$ and
# $r = 0.25$ the value is 9.5).

# %% {"tags": ["exercise"]}
def my_elastic_net(w, r):
    raise NotImplementedError  # your code here

# %%
ex.check_elastic_net(my_elastic_net)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Two sums over every entry: $\lVert w\rVert_2^2 = \sum_i w_i^2$ (the *squared* norm, without a ½ in this convention) and
# $\lVert w\rVert_1 = \sum_i |w_i|$, weighted by $r$ and $(1-r)/2$. Putting $r$ on the L1 term is the convention of "How to
# Train ConvNets" and of scikit-learn's `l1_ratio`: a different penalty for the same letter.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
def solution_elastic_net(w, r):
    return r * (w**2).sum() + (1 - r) / 2 * w.abs().sum()


assert ex.check_elastic_net(solution_elastic_net)

# %% [markdown]
# ### Exercise 2 — soft-thresholding
# Write `my_soft_threshold(w, t)`, the proximal step of $t\lVert w\rVert_1$ (section 4): move every entry of `w` towards 0 by
# `t`, and set it to exactly 0 if it would cross 0. Return a new tensor (do not change `w`), and do not call `F.softshrink` or
# `course_lib`. The check compares it with `course_lib.regularizers.soft_threshold_`.

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
# Solution: expand to see
def solution_soft_threshold(w, t):
    return w.sign() * (w.abs() - t).clamp(min=0)


assert ex.check_soft_threshold(solution_soft_threshold)

# %% [markdown]
# ### Exercise 3 — the max-norm projection
# Write `my_max_norm_rows(W, c)` for a weight matrix `W` of shape `(out, in)`: return a new tensor in which every row whose
# Euclidean norm exceeds `c` is scaled down to norm exactly `c`, and every other row is left unchanged (section 7). The check
# compares it with `course_lib.regularizers.max_norm_`.

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
# Solution: expand to see
def solution_max_norm_rows(W, c):
    norms = W.norm(dim=1, keepdim=True)
    return W * (c / norms).clamp(max=1.0)


assert ex.check_max_norm_rows(solution_max_norm_rows)

# %% [markdown]
# ### Exercise 4 — from scikit-learn back to the lecture
# A colleague reports that `ElasticNet(alpha=0.05, l1_ratio=0.2)` worked well on a regression (scikit-learn's cost, section 3).
# Which $\lambda$ and which mixing ratio $r$ give the same solution for the course's cost, mean squared error
# $+\ \lambda\big(r\lVert w\rVert_2^2 + \tfrac{1-r}{2}\lVert w\rVert_1\big)$? Give the pair `(lam, r)`.

# %% {"tags": ["exercise"]}
answer_4 = None  # replace None with (lam, r)

# %%
ex.check_sklearn_to_lecture(answer_4)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Halving the course's cost and matching coefficients gave $\alpha\rho = \lambda(1-r)/4$ and $\alpha(1-\rho) = \lambda r$. Adding
# them: $\lambda = \alpha(1 + 3\rho)$; then $r = \alpha(1-\rho)/\lambda = (1-\rho)/(1+3\rho)$. Reading `l1_ratio` as $r$ (or
# $1 - r$) and `alpha` as $\lambda$ ignores both the ½ in scikit-learn's data term and the $\tfrac{1-r}{2}$ of the lecture's
# L1 weight.
# </details>

# %% {"tags": ["solution"]}
# Solution: expand to see
alpha_sk, rho_sk = 0.05, 0.2
solution_4 = (alpha_sk * (1 + 3 * rho_sk), (1 - rho_sk) / (1 + 3 * rho_sk))
assert ex.check_sklearn_to_lecture(solution_4)
