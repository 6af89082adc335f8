# %% [markdown]
# # 04 · Data augmentation, noise and label smoothing
#
# **Learning objectives.** After this notebook you can
# 1. **apply** the lecture's transforms (mirror, crop, rotation, shear, zoom, blur, brightness, saturation and hue jitter)
#    with `torchvision.transforms.v2` to image tensors, on any device, and **decide** which of them keep the label;
# 2. **explain** augmentation as a regularizer and **measure** how much it raises validation accuracy on a small training set;
# 3. **inject** Gaussian noise into the inputs and **relate** it to L2 regularization;
# 4. **implement** label smoothing (targets $\varepsilon/(k-1)$ and $1-\varepsilon$), **translate** it to PyTorch's
#    `label_smoothing`, and **measure** its effect on confidence and calibration.
#
# *Lecture:* deck 000 ("Data augmentation": mirror, rotate, blur, saturation, crops, "views of the same thing", the list of
# generic transforms), deck 001 ("Is this a cat?", random rotation/scale/crop/colour, stochasticity, "Injecting noise and
# label smoothing"), deck 003 (the `torchvision` `Compose` example). *Runs in:* about 20 s on a laptop CPU (fast profile).

# %% [markdown]
# ## Set-up
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` runs the experiments with more seeds and epochs
# (see the README).

# %%
import math

import matplotlib.pyplot as plt
import torch
import torchvision.transforms.v2.functional as TF
from torch import nn
from torchvision.transforms import v2

from course_lib import evaluate, fit, load_dataset, load_photo, mlp, predict, setup_notebook, show_source
from course_lib.augment import (AugmentedLoader, BatchRandomAffine, BatchRandomRoll, GaussianNoise, LabelSmoothingLoss,
                                augmentation_pipeline, batch_affine, calibration_bins, epsilon_to_pytorch,
                                expected_calibration_error, lecture_transforms, pytorch_to_epsilon, smooth_labels)
from course_lib.exercises import ex04 as ex
from course_lib.plots import plot_images, show_as_jpeg

ctx = setup_notebook(seed=0)
N_TRAIN = 500                                  # a deliberately small training set
EPOCHS = ctx.pick(fast=40, full=60)
SEEDS = ctx.pick(fast=(0, 1, 2), full=(0, 1, 2, 3, 4))


def adam(lr):
    """An optimizer factory for fit(): Adam with learning rate lr."""
    return lambda params: torch.optim.Adam(params, lr=lr)

# %% [markdown]
# ## 1. New training data from old: the lecture's transforms
# A network trained on a few hundred images memorises them, pixel by pixel. But we know more than the pixels: a cat seen in a
# mirror, a little rotated, zoomed, cropped, blurred or under different light is **still a cat**. Augmentation turns that
# knowledge into training data: in every epoch each image $x$ is replaced by a random, label-preserving transform of it,
#
# $$\tilde x = T(x), \quad T \sim \mathcal{T}, \qquad \text{train on } \big(T(x_i),\, y_i\big) \text{ instead of } (x_i, y_i).$$
#
# The network sees a fresh "view" of the same object each time and cannot fit the particular view it was given; that is
# what makes augmentation a **regularizer**. In PyTorch the transforms live in `torchvision.transforms.v2`; they work on
# image tensors `(C, H, W)` or batches `(N, C, H, W)`, on the CPU or the GPU. `course_lib.augment.lecture_transforms` makes
# one of each kind from the lecture, strong enough to see:

# %%
show_source(lecture_transforms)

# %% [markdown]
# We apply them to scikit-image's cat, a `uint8` tensor `(3, 300, 451)`, converted to floats in $[0, 1]$ and moved to the
# compute device first:

# %%
cat = v2.ToDtype(torch.float32, scale=True)(load_photo("cat", device=ctx.device))   # (3, 300, 451) in [0, 1]
transforms = lecture_transforms(cat.shape[-2:])
views = {name: t(cat) for name, t in transforms.items()}
show_as_jpeg(plot_images(list(views.values()), list(views), ncols=5,
                         suptitle="One photo, ten views: the label 'cat' survives them all"))

# %%
# NBVAL_CHECK_OUTPUT
for name, view in views.items():
    same = view.shape == cat.shape and view.dtype == cat.dtype and view.device == cat.device
    print(f"{name:11s} shape {tuple(view.shape)}  dtype, device kept: {same}")
    assert same, f"{name} changed the shape, dtype or device"
assert torch.equal(views["mirror"], cat.flip(-1)), "the mirror is an exact left-right flip"

# %% [markdown]
# ### The lecture's pipeline: random, and different every time
# Real augmentation *composes* random transforms, each with random strength, and draws new parameters at every call. The
# lecture's example is `Compose([ColorJitter(hue=.05, saturation=.05), RandomHorizontalFlip(), RandomRotation(20)])`
# (deck 003); `augmentation_pipeline` builds such a `v2.Compose` from the strengths you ask for, and skips what you leave at 0.

# %%
show_source(augmentation_pipeline)

# %% [markdown]
# The lecture's pipeline, plus a random crop of at least half the area and a little zoom, applied to the cat eight times
# ("Is this a cat? How about now?"):

# %%
pipeline = augmentation_pipeline(flip=0.5, rotate=20, zoom=0.1, saturation=0.05, hue=0.05, crop=0.5, size=cat.shape[-2:])
print(pipeline)
show_as_jpeg(plot_images([pipeline(cat) for _ in range(8)], [f"draw {i + 1}" for i in range(8)], ncols=4, width=2.2,
                         suptitle="augmentation_pipeline(flip=0.5, rotate=20, zoom=0.1, crop=0.5, ...): eight random draws"))

# %% [markdown]
# **Which transforms keep the label depends on the data.** A mirrored cat is a cat; a mirrored "3" is not a digit, and a
# "6" turned upside down is a "9". Hue jitter is harmless for cats and harmful if colour *is* the class (ripe vs unripe
# fruit). Augmentation encodes an invariance you believe in; choosing one that is false teaches the network something wrong
# (Exercise 3).

# %% [markdown]
# ## 2. One draw per batch or one per image?
# Training works on batches, and here is a trap: a `v2` transform called on a batch `(N, C, H, W)` draws **one** set of
# random parameters and applies it to every image of the batch. Each step then sees a single view, not $N$ different ones.
# `BatchRandomAffine` (rotation, shift, zoom, shear) and `BatchRandomFlip` draw their parameters **per image** and transform
# the whole batch with one `grid_sample` call, on the batch's device. Eight copies of one digit (scikit-learn's $8\times 8$
# digits) through each:

# %%
digits = load_dataset("digits", device=ctx.device)
eight_copies = digits.train.x[:1].repeat(8, 1, 1, 1)                      # (8, 1, 8, 8): the same image 8 times
shared = v2.RandomAffine(degrees=15, translate=(0.15, 0.15), interpolation=v2.InterpolationMode.BILINEAR)(eight_copies)
per_image_affine = BatchRandomAffine(degrees=15, translate=(0.15, 0.15))
per_image = per_image_affine(eight_copies)
print(per_image_affine)
fig, axes = plt.subplots(2, 9, figsize=(12, 3.4), gridspec_kw={"width_ratios": [2.2] + [1] * 8})
for row, (batch, label) in enumerate(((shared, "v2.RandomAffine\non the batch:\none draw"),
                                      (per_image, "BatchRandomAffine:\none draw\nper image"))):
    axes[row, 0].text(1.0, 0.5, label, ha="right", va="center", fontsize=13, transform=axes[row, 0].transAxes)
    for ax, img in zip(axes[row, 1:], batch):
        ax.imshow(img[0].cpu(), cmap="gray_r", vmin=0, vmax=1)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle("Eight copies of one digit, augmented as a batch")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
distinct = lambda batch: len({tuple(img.flatten().tolist()) for img in batch})
print(f"different images in the batch: v2 on the batch {distinct(shared)}, BatchRandomAffine {distinct(per_image)}")
assert distinct(shared) == 1 and distinct(per_image) == 8

# %% [markdown]
# `BatchRandomAffine` computes the same thing as torchvision: with the parameters it drew, each image equals
# `v2.functional.affine` applied to that image alone, with `fill=0` for the pixels that come from outside the image as in
# `v2.RandomAffine` (the tests in `tests/test_augment.py` check this on every device):

# %%
# NBVAL_CHECK_OUTPUT
x = digits.train.x[:16]
params = per_image_affine.make_params(x)
batched = batch_affine(x, **params)            # what per_image_affine(x) computes with these parameters
reference = torch.stack([TF.affine(x[i], angle=params["angle"][i].item(), translate=params["translate"][i].int().tolist(),
                                   scale=params["scale"][i].item(), shear=params["shear"][i].tolist(),
                                   interpolation=v2.InterpolationMode.BILINEAR, fill=0.0) for i in range(len(x))])
max_diff = (batched - reference).abs().max().item()
print(f"max |batch_affine - v2.functional.affine| over 16 images: {'< 1e-5' if max_diff < 1e-5 else max_diff}")
assert max_diff < 1e-5

# %% [markdown]
# ## 3. Augmentation as regularization: a small training set
# **The data.** MNIST-1D (Greydanus & Kobak) draws ten 1-D templates of "digits" as signals of length 40, then scales,
# shears and **translates** each example and adds correlated noise. A small MLP overfits it badly, and with only
# 500 training examples it sees each template at few positions. The label-preserving transform that matches how the data was
# made is a **shift**: `BatchRandomRoll(4)` moves each signal by its own random number of steps in $\{-4, \dots, 4\}$, the
# 1-D version of translating an image.

# %%
show_source(BatchRandomRoll)

# %%
data = load_dataset("mnist1d", device=ctx.device)
print(data)
roll = BatchRandomRoll(4)
signal = data.train.x[:1].expand(4, -1)
shifted = roll(signal, shifts=torch.tensor([0, -4, 2, 4], device=ctx.device)).cpu()
fig, ax = plt.subplots(figsize=(7, 3.8))
for s, row in zip((0, -4, 2, 4), shifted):
    ax.plot(row, lw=2.4 if s == 0 else 1.4, alpha=1 if s == 0 else 0.8, label="original" if s == 0 else f"shift {s:+d}")
ax.set(xlabel="position", ylabel="signal", title=f"One MNIST-1D example (class {data.train.y[0].item()}), rolled")
ax.legend(ncol=4, fontsize=10, loc="lower left")
plt.show()

# %% [markdown]
# **The training loop does not change.** `AugmentedLoader` wraps the training split: every epoch it shuffles, cuts batches,
# and passes each batch through the transform (without gradients). It goes to `fit` in place of the training data; the
# validation data stays untouched, because we want to measure accuracy on real examples.

# %%
show_source(AugmentedLoader)

# %% [markdown]
# **The experiment.** The same MLP 40-128-128-10, Adam, batches of 64, trained on 500 examples for `EPOCHS` epochs, three ways:
# plain; with Gaussian input noise ($\sigma = 0.5$, section 4); with random shifts. Each arm runs on three seeds, and the seed also
# picks the 500 training examples.

# %%
def train_run(seed, transform=None, loss_fn=None):
    """A fresh MLP trained on a seeded subset of N_TRAIN examples; returns (model, history, training subset)."""
    torch.manual_seed(seed)
    train = data.train.subset(N_TRAIN, generator=torch.Generator().manual_seed(seed))
    batches = train if transform is None else AugmentedLoader(train, transform, batch_size=64,
                                                              generator=torch.Generator().manual_seed(seed))
    model = mlp(data.num_features, [128, 128], data.num_classes).to(ctx.device)
    history = fit(model, batches, data.val, epochs=EPOCHS, batch_size=64, seed=seed, loss_fn=loss_fn, optimizer=adam(3e-3))
    return model, history, train


arms = {"plain": None, "noise σ=0.5": GaussianNoise(0.5), "shift ±4": BatchRandomRoll(4)}
runs = {(arm, seed): train_run(seed, transform) for arm, transform in arms.items() for seed in SEEDS}

# %%
colors = {"plain": "tab:red", "noise σ=0.5": "tab:orange", "shift ±4": "tab:blue"}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for arm, color in colors.items():
    hist = runs[(arm, 0)][1]
    axes[0].plot(hist.epoch, hist.train_acc, "-", color=color, label=f"{arm}: train")
    axes[0].plot(hist.epoch, hist.val_acc, "--", color=color, label=f"{arm}: validation")
axes[0].set(xlabel="epoch", ylabel="accuracy", title=f"{N_TRAIN} training examples, seed 0", ylim=(-0.05, 1.05))
axes[0].legend(fontsize=8.5, loc="lower right", ncol=2)
for i, arm in enumerate(arms):
    vals = [runs[(arm, s)][1].val_acc[-1] for s in SEEDS]
    axes[1].scatter([i] * len(vals), vals, color=colors[arm], s=60, zorder=3, label="one seed" if i == 0 else None)
    axes[1].hlines(sum(vals) / len(vals), i - 0.25, i + 0.25, color="k", lw=2, label="mean" if i == 0 else None)
axes[1].set(xticks=range(len(arms)), xticklabels=list(arms), ylabel="final validation accuracy", xlim=(-0.6, 2.6),
            title="Validation accuracy after training")
axes[1].legend(fontsize=10)
plt.show()
print("(training accuracy is measured on the batches the network saw: augmented ones for noise and shifts)")

# %%
final = {key: (evaluate(model, train)["acc"], hist.val_acc[-1]) for key, (model, hist, train) in runs.items()}
print(f"{'arm':12s} seed  train (clean)   val")
for (arm, seed), (tr, va) in final.items():
    print(f"{arm:12s} {seed:4d}  {tr:13.3f}  {va:.3f}")
mean_val = {arm: sum(final[(arm, s)][1] for s in SEEDS) / len(SEEDS) for arm in arms}
print("mean validation accuracy:", {arm: round(v, 3) for arm, v in mean_val.items()})

# %% [markdown]
# ### Checking the claim: augmentation improves validation accuracy on a small training set
# On every seed the shifted training data must beat plain training by at least 5 points of validation accuracy.

# %%
gains = [final[("shift ±4", s)][1] - final[("plain", s)][1] for s in SEEDS]
print("validation gain from shifts per seed:", [round(g, 3) for g in gains])
assert min(gains) > 0.05, f"augmentation should raise validation accuracy clearly on every seed, got gains {gains}"

# %% [markdown]
# Plain and noisy training fit the 500 clean training examples (almost) perfectly. Shifted training does not even reach
# 80% on them in the same number of epochs, yet it generalizes far better: its train/validation gap is a fraction of the
# others'. It has to learn each template at every position instead of memorising the 500 positions it happened to be shown,
# which is the regularization we wanted. Noise helped a little at best: it says
# "small perturbations do not matter", which is true but says nothing about *where* the digit is. **The more an augmentation
# encodes a real invariance of the data, the more it is worth.**

# %% [markdown]
# ## 4. Injecting noise into the inputs
# The simplest augmentation knows nothing about the data: add Gaussian noise to every input during training,
#
# $$\tilde x = x + \sigma \epsilon, \qquad \epsilon \sim \mathcal N(0, I), \qquad \text{and } \tilde x = x \text{ at test time.}$$
#
# `GaussianNoise` is that as a layer: put it first in a model and `model.eval()` switches it off (the same draw as
# `v2.GaussianNoise(sigma=σ, clip=False)`).

# %%
show_source(GaussianNoise)

# %% [markdown]
# **Noise is L2 in disguise** (Bishop, 1995). For a linear model under squared error the cross term has zero mean, so
#
# $$\mathbb E_\epsilon\big[(w^\top(x+\sigma\epsilon) - y)^2\big] = (w^\top x - y)^2 + \sigma^2\lVert w\rVert^2 ,$$
#
# and least squares on noisy copies of the data converges to **ridge regression** with $\lambda = \sigma^2$:
# $w = (X^\top X + n\sigma^2 I)^{-1} X^\top y$ for the mean loss over $n$ examples. We check this on a small regression problem:
# 40 examples, 10 correlated features, 2000 noisy copies of each.

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
n, d, sigma, copies = 40, 10, 0.5, 2000
X = torch.randn(n, d, dtype=torch.float64) @ torch.randn(d, d, dtype=torch.float64) / 3   # correlated features
y = X @ torch.randn(d, dtype=torch.float64) + 0.5 * torch.randn(n, dtype=torch.float64)
noisy_X = GaussianNoise(sigma)(X.repeat(copies, 1))                                       # (80 000, 10)
w_noisy = torch.linalg.lstsq(noisy_X, y.repeat(copies)).solution
w_ridge = torch.linalg.solve(X.T @ X + n * sigma**2 * torch.eye(d, dtype=torch.float64), X.T @ y)
w_plain = torch.linalg.lstsq(X, y).solution
rel = ((w_noisy - w_ridge).norm() / w_ridge.norm()).item()
print(f"|w| least squares {w_plain.norm():.2f}   noisy least squares {w_noisy.norm():.2f}   ridge (λ = σ²) {w_ridge.norm():.2f}")
print(f"relative distance noisy vs ridge: {rel:.3f}")
assert rel < 0.05, "least squares on noisy inputs should match ridge regression"

# %% [markdown]
# The noisy fit shrinks the weights exactly as the penalty does. In the MLP above noise shrank the first layer's weights too,
# the same way (a deep net is not linear, so it is only L2-*like*):

# %%
first_layer_norm = {key: model[1].weight.norm().item() for key, (model, _, _) in runs.items()}
for arm in ("plain", "noise σ=0.5"):
    print(f"{arm:12s} first-layer weight norm per seed:", [round(first_layer_norm[(arm, s)], 2) for s in SEEDS])
assert all(first_layer_norm[("noise σ=0.5", s)] < first_layer_norm[("plain", s)] for s in SEEDS)

# %% [markdown]
# How big should $\sigma$ be? Relative to the spread of the inputs: MNIST-1D's features have standard deviation about 1,
# so $\sigma=0.5$ is strong noise; for images in $[0, 1]$ a few hundredths is typical. Noise can also be injected into hidden
# units (dropout is multiplicative noise, notebook 03) and, as we see next, into the labels.

# %% [markdown]
# ## 5. Label smoothing
# Cross-entropy with one-hot targets is minimised only when the true class gets probability 1, i.e. when its logit is
# infinitely larger than the others: the network is pushed to ever larger weights and ever more confident predictions. And if
# a label is **wrong** (datasets have mislabelled examples), maximising $\log p(y \mid x)$ for it is harmful. The lecture's fix
# models the label noise: assume a label is correct with probability $1-\varepsilon$ and otherwise one of the other $k-1$
# classes. The target for example $i$ with label $y_i$ becomes
#
# $$q_{ic} = \begin{cases} 1-\varepsilon & c = y_i \\[2pt] \dfrac{\varepsilon}{k-1} & c \ne y_i \end{cases},
# \qquad J = -\frac1N \sum_{i=1}^N \sum_{c=1}^k q_{ic} \log \operatorname{softmax}(z_i)_c .$$

# %%
show_source(smooth_labels)

# %%
# NBVAL_CHECK_OUTPUT
q = smooth_labels(torch.tensor([2, 0, 3]), num_classes=4, eps=0.3)
print("labels [2, 0, 3], k = 4, ε = 0.3:")
print(q)
print("row sums:", q.sum(dim=1).tolist())

# %% [markdown]
# ### Checking the claim: smoothed targets sum to 1
# $(1-\varepsilon) + (k-1)\cdot\frac{\varepsilon}{k-1} = 1$: every row is a probability distribution, for any $k$ and
# $\varepsilon$. Checked on the whole MNIST-1D training set and a range of $\varepsilon$ and $k$:

# %%
# NBVAL_CHECK_OUTPUT
worst = 0.0
for eps in (0.0, 0.05, 0.1, 0.3, 0.5):
    for k in (2, 10, 100):
        labels = data.train.y % k
        rows = smooth_labels(labels, k, eps, dtype=torch.float64)
        assert (rows >= 0).all() and rows.shape == (len(labels), k)
        worst = max(worst, (rows.sum(dim=1) - 1).abs().max().item())
print(f"largest |row sum - 1| over {len(data.train.y)} labels, 5 values of ε and k in (2, 10, 100): {worst:.1e}")
assert worst < 1e-12, "smoothed targets must sum to 1"

# %% [markdown]
# ### Two conventions for ε
# PyTorch has label smoothing built in, `nn.CrossEntropyLoss(label_smoothing=α)`, but its α means something else: it mixes
# the one-hot target with the **uniform** distribution over all $k$ classes, $(1-\alpha)\,\text{onehot} + \alpha/k$. So the
# true class gets $1-\alpha+\alpha/k$ and each wrong class $\alpha/k$. The two agree when $\alpha/k = \varepsilon/(k-1)$:
#
# $$\alpha = \frac{k}{k-1}\,\varepsilon, \qquad \varepsilon = \frac{k-1}{k}\,\alpha .$$
#
# With 10 classes the lecture's $\varepsilon = 0.1$ is PyTorch's $\alpha = 0.111$. `LabelSmoothingLoss(eps)` is the
# lecture's version; it gives the same loss and gradients as PyTorch's once $\alpha$ is converted:

# %%
show_source(epsilon_to_pytorch)

# %%
# NBVAL_CHECK_OUTPUT
k, eps = 10, 0.1
torch.manual_seed(1)
logits = torch.randn(64, k, dtype=torch.float64, requires_grad=True)
labels = torch.randint(0, k, (64,))
alpha = epsilon_to_pytorch(eps, k)
ours = LabelSmoothingLoss(eps)(logits, labels)
(g_ours,) = torch.autograd.grad(ours, logits)
theirs = nn.CrossEntropyLoss(label_smoothing=alpha)(logits, labels)
(g_theirs,) = torch.autograd.grad(theirs, logits)
print(f"ε = {eps} (lecture) ↔ α = {alpha:.4f} (PyTorch); back: ε = {pytorch_to_epsilon(alpha, k):.4f}")
print(f"loss: ours {ours.item():.6f}, nn.CrossEntropyLoss {theirs.item():.6f}")
print("losses equal:", torch.allclose(ours, theirs), "| gradients equal:", torch.allclose(g_ours, g_theirs))
assert torch.allclose(ours, theirs) and torch.allclose(g_ours, g_theirs)

# %% [markdown]
# ### What it does to the network: bounded logits
# With smoothed targets the best prediction is the target itself, $\operatorname{softmax}(z) = q$, which needs only a
# **finite** gap between the true logit and each wrong one:
#
# $$z_{y} - z_{c} = \log\frac{1-\varepsilon}{\varepsilon/(k-1)} = \log\frac{0.9 \cdot 9}{0.1} = \log 81 \approx 4.39
# \qquad (k = 10,\ \varepsilon = 0.1).$$
#
# We train the plain MLP of section 3 again with `LabelSmoothingLoss(0.1)` on the same three seeds and compare the logit gap
# on the training examples (which both networks fit) with the plain runs:

# %%
LS_EPS = 0.1
ls_runs = {seed: train_run(seed, loss_fn=LabelSmoothingLoss(LS_EPS)) for seed in SEEDS}


def logit_gaps(model, split):
    """z_true − mean of the other logits, per example."""
    z = predict(model, split.x)
    true = z.gather(1, split.y.view(-1, 1)).squeeze(1)
    return true - (z.sum(1) - true) / (z.shape[1] - 1)


gap_plain = logit_gaps(runs[("plain", 0)][0], runs[("plain", 0)][2]).cpu()
gap_ls = logit_gaps(ls_runs[0][0], ls_runs[0][2]).cpu()
target_gap = math.log((1 - LS_EPS) * 9 / LS_EPS)
fig, ax = plt.subplots(figsize=(7, 4))
bins = torch.linspace(min(gap_plain.min(), gap_ls.min()).item(), gap_plain.max().item(), 50).tolist()
ax.hist(gap_plain.tolist(), bins=bins, alpha=0.6, color="tab:red", label="one-hot targets")
ax.hist(gap_ls.tolist(), bins=bins, alpha=0.6, color="tab:green", label=f"label smoothing ε = {LS_EPS}")
ax.axvline(target_gap, color="k", ls="--", label=f"log 81 = {target_gap:.2f}")
ax.set(xlabel="true logit − mean other logit", ylabel="training examples", title="Logit gaps on the training set, seed 0")
ax.legend()
plt.show()
print(f"median logit gap: one-hot {gap_plain.median():.1f}, smoothed {gap_ls.median():.2f} (optimum {target_gap:.2f})")
assert abs(gap_ls.median().item() - target_gap) < 1.0 < gap_plain.median().item() - target_gap

# %% [markdown]
# ### Confidence and calibration
# A classifier is **calibrated** if, among the predictions it makes with confidence $0.8$, 80% are right. The
# **expected calibration error** bins the validation predictions by confidence $\max_c p_c$ into $M$ bins $B_m$ and averages
# the mismatch:
#
# $$\text{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N}\,\big|\operatorname{acc}(B_m) - \operatorname{conf}(B_m)\big| .$$
#
# The overfitted plain MLP is far more confident than it is right. Label smoothing caps its confidence:

# %%
def calibration(model):
    """(ECE, accuracy, mean confidence, reliability bins) on the validation set."""
    probs = predict(model, data.val.x).softmax(dim=1)
    conf, pred = probs.max(dim=1)
    return (expected_calibration_error(probs, data.val.y), (pred == data.val.y).float().mean().item(),
            conf.mean().item(), calibration_bins(probs, data.val.y, n_bins=10))


cal = {("plain", s): calibration(runs[("plain", s)][0]) for s in SEEDS}
cal.update({("smoothed", s): calibration(ls_runs[s][0]) for s in SEEDS})

fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for ax, name, color in ((axes[0], "plain", "tab:red"), (axes[1], "smoothed", "tab:green")):
    ece, acc, conf, bins = cal[(name, 0)]
    centers = ((bins["edges"][:-1] + bins["edges"][1:]) / 2).cpu()
    filled = (bins["count"] > 0).cpu()
    ax.bar(centers[filled], bins["accuracy"].cpu()[filled], width=0.09, color=color, alpha=0.7, label="accuracy in bin")
    ax.plot(bins["confidence"].cpu()[filled], bins["accuracy"].cpu()[filled], "ko", ms=5, label="(confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "k--", lw=1.2, label="perfect calibration")
    label = "one-hot targets" if name == "plain" else f"label smoothing ε = {LS_EPS}"
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (max probability)", ylabel="accuracy",
           title=f"{label}: ECE = {ece:.2f}")
    ax.legend(fontsize=10, loc="upper left")
plt.show()

# %%
print("        seed   val acc   mean confidence   ECE")
for (name, seed), (ece, acc, conf, _) in cal.items():
    print(f"{name:8s} {seed:4d}   {acc:.3f}     {conf:.3f}            {ece:.3f}")

# %% [markdown]
# ### Checking the effect: better calibration at about the same accuracy
# On every seed label smoothing must cut the calibration error by at least 0.1, and on average it must not cost more than
# 3 points of validation accuracy.

# %%
ece_drop = [cal[("plain", s)][0] - cal[("smoothed", s)][0] for s in SEEDS]
acc_change = sum(cal[("smoothed", s)][1] - cal[("plain", s)][1] for s in SEEDS) / len(SEEDS)
print("ECE reduction per seed:", [round(v, 3) for v in ece_drop], f"| mean accuracy change {acc_change:+.3f}")
assert min(ece_drop) > 0.1, "label smoothing should make the network clearly better calibrated"
assert acc_change > -0.03, "label smoothing should hardly change accuracy"

# %% [markdown]
# The smoothed network is still over-confident (its bars sit below the diagonal): label smoothing removes the push towards
# infinite logits, not the overfitting of 500 examples, which augmentation addresses. The two combine.
#
# Müller et al. (2019, "When does label smoothing help?") report the same pattern on ImageNet: accuracy about unchanged, ECE
# 0.150 → 0.024. Smoothing does not make every model calibrated (an already under-confident model gets worse), and it
# removes information from the logits that distillation would use; $\varepsilon = 0.1$ is the usual choice.

# %% [markdown]
# ## Summary
# - **Augmentation** trains on random label-preserving transforms $T(x)$ of each example, a fresh one each epoch:
#   `torchvision.transforms.v2` has the lecture's mirror, crop, rotation, shear, zoom, blur and colour jitter, working on image
#   tensors on any device. Which transforms keep the label is a property of the data (mirror a cat, never a "3").
# - A v2 transform on a batch draws **one** set of parameters; `BatchRandomAffine` / `BatchRandomFlip` / `BatchRandomRoll`
#   draw one per example and `AugmentedLoader` feeds them to the ordinary `fit`.
# - With 500 MNIST-1D examples, random shifts raised validation accuracy by well over 5 points on every seed; Gaussian
#   input noise, which encodes no invariance of the data, helped far less.
# - **Input noise** $x + \sigma\epsilon$ is L2 in disguise: for a linear model least squares on noisy copies equals ridge
#   regression with $\lambda = \sigma^2$ (checked to within 5%).
# - **Label smoothing** trains on targets $1-\varepsilon$ and $\varepsilon/(k-1)$ (rows sum to 1); PyTorch's
#   `label_smoothing=α` is the same with $\alpha = \varepsilon k/(k-1)$. It bounds the logit gap at
#   $\log\frac{(1-\varepsilon)(k-1)}{\varepsilon}$ and made the network much better calibrated at about the same accuracy.

# %% [markdown]
# ## Exercises
# ### Exercise 1 — smoothed targets from scratch
# Write `my_smooth(y, num_classes, eps)` that turns integer labels `y` of shape `(N,)` into the lecture's smoothed targets of
# shape `(N, num_classes)`: $1-\varepsilon$ for the true class, $\varepsilon/(k-1)$ for every other one.

# %% {"tags": ["exercise"]}
def my_smooth(y, num_classes, eps):
    raise NotImplementedError  # your code here

# %%
ex.check_exercise_1(my_smooth)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Start from a matrix filled with $\varepsilon/(k-1)$ and write $1-\varepsilon$ into the true class of each row (with
# `scatter_` or fancy indexing). Each row then sums to $(1-\varepsilon) + (k-1)\cdot\varepsilon/(k-1) = 1$. Giving the wrong
# classes $\varepsilon/k$ and the true one $1-\varepsilon+\varepsilon/k$ is PyTorch's convention (uniform mixing), not the
# lecture's.
# </details>

# %% {"tags": ["solution"]}
def solution_smooth(y, num_classes, eps):
    q = torch.full((len(y), num_classes), eps / (num_classes - 1), device=y.device)
    return q.scatter(1, y.view(-1, 1), 1 - eps)


assert ex.check_exercise_1(solution_smooth)

# %% [markdown]
# ### Exercise 2 — reading PyTorch's α
# A colleague trains a 10-class model with `nn.CrossEntropyLoss(label_smoothing=0.1)`. What probability does its target give
# the true class, and what is the lecture's $\varepsilon$ for this loss? Answer with a pair `(p_true, eps)`.

# %% {"tags": ["exercise"]}
answer_2 = None  # replace None with (p_true, eps)

# %%
ex.check_exercise_2(answer_2)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# PyTorch mixes the one-hot target with the uniform distribution: each class gets $\alpha/k = 0.01$ from the uniform part and
# the true class also keeps $1-\alpha = 0.9$, so $p_{\text{true}} = 0.91$. The lecture's $\varepsilon$ is the total mass on the
# wrong classes, $9 \times 0.01 = 0.09 = \alpha (k-1)/k$ (`pytorch_to_epsilon(0.1, 10)`).
# </details>

# %% {"tags": ["solution"]}
solution_2 = (1 - 0.1 + 0.1 / 10, pytorch_to_epsilon(0.1, 10))
assert ex.check_exercise_2(solution_2)

# %% [markdown]
# ### Exercise 3 — which augmentations keep a handwritten digit's label?
# `ex.DIGIT_TRANSFORMS` lists six transforms one could apply to handwritten digits: `mirror`, `upside_down`, `rotate_10`
# (degrees), `rotate_180`, `shift_1px` and `small_noise`. Give the **set** of names that keep the label of every digit. (Try
# them on `digits.train.x` with `TF.hflip`, `TF.vflip` and `TF.rotate` if unsure.)

# %% {"tags": ["exercise"]}
answer_3 = None  # replace None with a set of names, e.g. {"rotate_10"}

# %%
ex.check_exercise_3(answer_3)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Small rotations, one-pixel shifts and a little noise are changes a writer or a scanner could make, so the digit stays the
# same: these are good augmentations for digits. A left-right mirror turns most digits into shapes that are not digits, an
# upside-down flip turns a 6 into something like a 9, and a half turn swaps 6 and 9. The cat of section 1 may be mirrored;
# a digit may not: label preservation depends on the data.
# </details>

# %% {"tags": ["solution"]}
solution_3 = {"rotate_10", "shift_1px", "small_noise"}
assert ex.check_exercise_3(solution_3)
