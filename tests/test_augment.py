"""Tests for course_lib.augment: transforms against torchvision / torch, noise statistics, label smoothing
against nn.CrossEntropyLoss, calibration error on hand-made cases, and every bad-input error."""

import math

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torch import nn
from torch.nn import functional as F
from torchvision.transforms import v2

from course_lib.augment import (AugmentedLoader, BatchRandomAffine, BatchRandomFlip, BatchRandomRoll, GaussianNoise,
                                LabelSmoothingLoss, PerSample, augmentation_pipeline, batch_affine, calibration_bins,
                                epsilon_to_pytorch, expected_calibration_error, label_smoothing_cross_entropy,
                                lecture_transforms, pytorch_to_epsilon, smooth_labels)
from course_lib.data import DeviceLoader, Split
from course_lib.training import fit


def images(device, n=6, c=3, h=12, w=16, dtype=torch.float32):
    return torch.rand(n, c, h, w, device=device, dtype=dtype)


# --------------------------------------------------------------------------- lecture transforms
def test_lecture_transforms_keep_shape_dtype_device(device):
    img = torch.rand(3, 40, 60, device=device)
    transforms = lecture_transforms((40, 60))
    assert list(transforms) == ["original", "mirror", "rotate", "crop", "zoom", "shear", "blur", "brightness",
                                "saturation", "hue"]
    for name, t in transforms.items():
        out = t(img)
        assert out.shape == img.shape and out.dtype == img.dtype and out.device == img.device, name
        assert torch.isfinite(out).all(), name
        if name != "original":
            assert not torch.equal(out, img), f"{name} left the image unchanged"
    assert torch.equal(transforms["original"](img), img)
    assert torch.equal(transforms["mirror"](img), torch.flip(img, dims=[-1]))


def test_lecture_transforms_bad_size():
    with pytest.raises(ValueError, match="size must be a positive int"):
        lecture_transforms((0, 10))
    with pytest.raises(ValueError, match="size must be a positive int"):
        lecture_transforms("big")


def test_pipeline_keeps_shape_dtype_device_and_flip_is_exact(device):
    x = images(device)
    pipe = augmentation_pipeline(flip=0.5, rotate=20, translate=0.1, zoom=0.1, shear=10, blur=1.0, brightness=0.2,
                                 saturation=0.2, hue=0.05)
    out = pipe(x)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert torch.equal(augmentation_pipeline(flip=1.0)(x), torch.flip(x, dims=[-1]))
    assert torch.equal(augmentation_pipeline()(x), x)  # nothing asked for: identity
    cropped = augmentation_pipeline(crop=0.5, size=(8, 8))(x)
    assert cropped.shape == (6, 3, 8, 8)


def test_pipeline_reproduces_the_lecture_example():
    pipe = augmentation_pipeline(flip=0.5, rotate=20, saturation=0.05, hue=0.05)
    kinds = [type(t) for t in pipe.transforms]
    assert kinds == [v2.RandomHorizontalFlip, v2.RandomAffine, v2.ColorJitter]
    affine, jitter = pipe.transforms[1], pipe.transforms[2]
    assert affine.degrees == [-20.0, 20.0]
    assert jitter.saturation == (0.95, 1.05) and jitter.hue == (-0.05, 0.05) and jitter.brightness is None


@pytest.mark.parametrize("kwargs, match", [
    ({"flip": 1.5}, "flip must be a probability"),
    ({"rotate": -5}, "rotate must be a number in"),
    ({"hue": 0.7}, "hue must be a number in"),
    ({"zoom": 1.0}, "zoom must be a number in"),
    ({"translate": (0.1, 0.1)}, "translate must be a number in"),
    ({"crop": 0.0}, "crop must be the smallest kept area fraction"),
    ({"crop": 0.5}, "a random crop needs the output size"),
])
def test_pipeline_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augmentation_pipeline(**kwargs)


def test_v2_shares_parameters_over_a_batch_but_per_sample_does_not(device):
    x = torch.rand(1, 1, 10, 10, device=device).repeat(8, 1, 1, 1)  # eight copies of one image
    rotate = v2.RandomRotation(30, interpolation=v2.InterpolationMode.BILINEAR)
    shared = rotate(x)
    assert all(torch.equal(shared[0], shared[i]) for i in range(8))  # one angle for the whole batch
    own = PerSample(rotate)(x)
    assert own.shape == x.shape and own.device == x.device
    assert len({tuple(o.flatten().tolist()) for o in own}) > 1  # different angles per image


def test_per_sample_matches_a_deterministic_transform(device):
    x = images(device)
    assert torch.equal(PerSample(v2.RandomHorizontalFlip(p=1.0))(x), torch.flip(x, dims=[-1]))


def test_per_sample_rejects_bad_input(device):
    with pytest.raises(TypeError, match="transform must be callable"):
        PerSample(3)
    with pytest.raises(ValueError, match=r"image tensors of shape \(N, C, H, W\)"):
        PerSample(v2.Identity())(torch.rand(4, 64, device=device))


# --------------------------------------------------------------------------- per-image flips, affine, roll
def test_batch_flip_is_exact_and_per_image(device):
    x = images(device, n=200, c=1, h=5, w=7)
    assert torch.equal(BatchRandomFlip(p=1.0)(x), torch.flip(x, dims=[-1]))
    assert torch.equal(BatchRandomFlip(p=1.0, horizontal=False)(x), torch.flip(x, dims=[-2]))
    assert torch.equal(BatchRandomFlip(p=0.0)(x), x)
    out = BatchRandomFlip(p=0.5)(x)
    flipped = torch.tensor([torch.equal(o, torch.flip(xi, dims=[-1])) for o, xi in zip(out, x)])
    kept = torch.tensor([torch.equal(o, xi) for o, xi in zip(out, x)])
    assert bool((flipped | kept).all())  # each image is either mirrored exactly or untouched
    assert 60 < int(flipped.sum()) < 140  # about half of them, drawn per image (binomial(200, 0.5))
    assert out.dtype == x.dtype and out.device == x.device


def test_batch_flip_rejects_bad_input(device):
    with pytest.raises(ValueError, match="flip probability p must be a probability"):
        BatchRandomFlip(p=-0.1)
    with pytest.raises(TypeError, match="must be a float tensor"):
        BatchRandomFlip()(torch.zeros(2, 1, 4, 4, dtype=torch.uint8, device=device))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill", [0.0, 0.5])
def test_batch_affine_equals_torchvision_per_image(device, interpolation, fill):
    x = images(device, n=5, c=3, h=9, w=12)
    module = BatchRandomAffine(degrees=30, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-10, 10, -5, 5))
    p = module.make_params(x)
    out = batch_affine(x, **p, interpolation=interpolation, fill=fill)
    mode = TF.InterpolationMode.BILINEAR if interpolation == "bilinear" else TF.InterpolationMode.NEAREST
    for i in range(len(x)):
        ref = TF.affine(x[i], angle=p["angle"][i].item(), translate=[int(t) for t in p["translate"][i].tolist()],
                        scale=p["scale"][i].item(), shear=p["shear"][i].tolist(), interpolation=mode, fill=fill)
        if interpolation == "bilinear":
            torch.testing.assert_close(out[i], ref, atol=1e-5, rtol=0)
        else:  # a sampling point on a pixel boundary may round either way; almost all must agree exactly
            assert (out[i] == ref).float().mean() > 0.97


def test_batch_affine_identity_and_gradients(device):
    x = images(device, dtype=torch.float64).requires_grad_()
    n = len(x)
    out = batch_affine(x, torch.zeros(n), torch.zeros(n, 2), torch.ones(n), torch.zeros(n, 2))
    torch.testing.assert_close(out, x)
    assert out.dtype == torch.float64 and out.device == x.device
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.ones_like(x))


def test_batch_random_affine_params_and_per_image_randomness(device):
    x = torch.rand(1, 1, 8, 8, device=device).repeat(300, 1, 1, 1)
    module = BatchRandomAffine(degrees=10, translate=(0.125, 0.25), scale=(0.9, 1.1), shear=5)
    p = module.make_params(x)
    assert p["angle"].abs().max() <= 10 and p["angle"].std() > 3
    assert torch.equal(p["translate"], p["translate"].round())
    assert p["translate"][:, 0].abs().max() <= 1 and p["translate"][:, 1].abs().max() <= 2
    assert set(p["translate"][:, 0].tolist()) == {-1.0, 0.0, 1.0}
    assert 0.9 <= p["scale"].min() and p["scale"].max() <= 1.1
    assert p["shear"][:, 0].abs().max() <= 5 and torch.equal(p["shear"][:, 1], torch.zeros(300, device=device))
    out = module(x)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert len({tuple(o.flatten().tolist()) for o in out}) > 250  # (almost) every copy transformed differently
    assert "degrees=(-10.0, 10.0)" in repr(module)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"degrees": -1}, ValueError, r"degrees must be in \[0.0, 180.0\]"),
    ({"degrees": "ten"}, TypeError, "degrees must be a number or a"),
    ({"translate": (0.1, 1.5)}, ValueError, "translate must be a pair of fractions"),
    ({"scale": (0.0, 1.2)}, ValueError, "scale factors must be positive"),
    ({"scale": (1.2, 0.8)}, ValueError, "low <= high"),
    ({"shear": (-10, 10, -95, 0)}, ValueError, "shear angles must lie strictly inside"),
    ({"interpolation": "bicubic"}, ValueError, "interpolation must be 'bilinear' or 'nearest'"),
])
def test_batch_random_affine_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchRandomAffine(**kwargs)


def test_batch_affine_rejects_non_images(device):
    with pytest.raises(ValueError, match=r"got shape \(4, 64\)"):
        BatchRandomAffine(degrees=10)(torch.rand(4, 64, device=device))
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        BatchRandomAffine(degrees=10)([[0.0]])
    with pytest.raises(TypeError, match="must be a float tensor"):
        BatchRandomAffine(degrees=10)(torch.zeros(2, 3, 8, 8, dtype=torch.uint8, device=device))
    with pytest.raises(ValueError, match="interpolation must be"):
        batch_affine(images(device), torch.zeros(6), torch.zeros(6, 2), torch.ones(6), torch.zeros(6, 2), "cubic")


@pytest.mark.parametrize("shape", [(7, 20), (7, 3, 20)])
def test_batch_roll_equals_torch_roll(device, shape):
    x = torch.randn(*shape, device=device)
    roll = BatchRandomRoll(max_shift=4)
    shifts = roll.make_params(x)
    assert shifts.abs().max() <= 4 and shifts.device == x.device
    out = roll(x, shifts)
    for i in range(len(x)):
        assert torch.equal(out[i], torch.roll(x[i], int(shifts[i]), dims=-1))
    assert torch.equal(BatchRandomRoll(0)(x), x)
    many = roll.make_params(torch.zeros(2000, 5, device=device))
    assert set(many.tolist()) == set(range(-4, 5))  # every shift in {-4, ..., 4} occurs


def test_batch_roll_rejects_bad_input(device):
    with pytest.raises(ValueError, match="max_shift must be a non-negative int"):
        BatchRandomRoll(-1)
    with pytest.raises(ValueError, match="max_shift must be a non-negative int"):
        BatchRandomRoll(2.5)
    with pytest.raises(ValueError, match=r"sequences of shape \(N, L\) or \(N, C, L\)"):
        BatchRandomRoll(2)(torch.rand(2, 1, 8, 8, device=device))


# --------------------------------------------------------------------------- AugmentedLoader
def test_augmented_loader_transforms_each_batch(device):
    x = torch.arange(10, dtype=torch.float32, device=device).view(10, 1).repeat(1, 3)
    y = torch.arange(10, device=device)
    loader = AugmentedLoader(Split(x, y), lambda b: -b, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert len(loader) == 3
    seen = []
    for xb, yb in loader:
        assert xb.device == x.device
        assert torch.equal(xb, -x[yb])  # labels travel with their (transformed) inputs
        seen += yb.tolist()
    assert sorted(seen) == list(range(10))
    wrapped = AugmentedLoader(DeviceLoader(x, y, batch_size=5, shuffle=False), GaussianNoise(0.0))
    assert len(wrapped) == 2 and "AugmentedLoader(2 batches" in repr(wrapped)
    assert torch.equal(torch.cat([xb for xb, _ in wrapped]), x)


def test_augmented_loader_trains_with_fit(device):
    torch.manual_seed(0)
    x = torch.rand(64, 1, 8, 8, device=device)
    y = (x.mean(dim=(1, 2, 3)) > 0.5).long()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2)).to(device)
    train = AugmentedLoader((x, y), BatchRandomAffine(degrees=10, translate=(0.125, 0.125)), batch_size=16)
    history = fit(model, train, (x, y), epochs=2, lr=0.1, progress=False)
    assert len(history) == 2 and all(math.isfinite(v) for v in history.train_loss + history.val_loss)


def test_augmented_loader_rejects_bad_input(device):
    x, y = torch.rand(8, 1, 4, 4, device=device), torch.zeros(8, dtype=torch.long, device=device)
    with pytest.raises(TypeError, match="transform must be callable"):
        AugmentedLoader((x, y), "flip")
    with pytest.raises(TypeError, match="data must be a Split"):
        AugmentedLoader(x, v2.Identity())
    with pytest.raises(TypeError, match="data must be a Split"):
        AugmentedLoader(5, v2.Identity())
    with pytest.raises(ValueError, match=r"must keep the batch shape \(4, 1, 4, 4\)"):
        next(iter(AugmentedLoader((x, y), lambda b: b[:, :, :2], batch_size=4)))


# --------------------------------------------------------------------------- input noise
def test_gaussian_noise_equals_torchvision_draw(device):
    x = images(device)
    torch.manual_seed(3)
    ours = GaussianNoise(0.2)(x)
    torch.manual_seed(3)
    ref = v2.GaussianNoise(mean=0.0, sigma=0.2, clip=False)(x)
    torch.testing.assert_close(ours, ref)


def test_gaussian_noise_has_the_stated_std_and_is_off_in_eval(device):
    x = torch.rand(400, 500, device=device)
    layer = GaussianNoise(0.3)
    noise = layer(x) - x
    n = noise.numel()
    # the sample std of n = 2e5 normals has a standard error of σ/√(2n) ≈ 0.0005: allow ±1 %
    assert abs(noise.std().item() - 0.3) < 0.003
    assert abs(noise.mean().item()) < 5 * 0.3 / math.sqrt(n)
    assert noise.dtype == x.dtype and noise.device == x.device
    layer.eval()
    assert layer(x) is x
    assert GaussianNoise(0.0)(x) is x
    double = torch.rand(3, 4, dtype=torch.float64, device=device)
    assert GaussianNoise(0.1)(double).dtype == torch.float64
    assert repr(layer) == "GaussianNoise(std=0.3)"


@pytest.mark.parametrize("std", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_gaussian_noise_rejects_bad_std(std):
    with pytest.raises(ValueError, match="noise std must be a finite number >= 0"):
        GaussianNoise(std)


def test_gaussian_noise_rejects_integer_input(device):
    with pytest.raises(TypeError, match="needs a float tensor, got torch.int64"):
        GaussianNoise(0.1)(torch.zeros(3, dtype=torch.long, device=device))


def test_noise_is_l2_for_a_linear_model():
    # E_ε[(wᵀ(x + σε) − y)²] = (wᵀx − y)² + σ²‖w‖², checked by Monte Carlo on one (x, y, w)
    torch.manual_seed(1)
    w, x, y, sigma = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64), 0.7, 0.4
    noisy = GaussianNoise(sigma)(x.expand(400_000, 5))
    mc = ((noisy @ w - y) ** 2).mean()
    exact = (w @ x - y) ** 2 + sigma**2 * (w @ w)
    assert abs(mc - exact) / exact < 0.01


# --------------------------------------------------------------------------- label smoothing
def test_smooth_labels_values_and_rows_sum_to_one(device):
    y = torch.tensor([0, 3, 2, 3], device=device)
    q = smooth_labels(y, num_classes=4, eps=0.3)
    assert q.shape == (4, 4) and q.device == y.device and q.dtype == torch.float32
    torch.testing.assert_close(q.sum(dim=1), torch.ones(4, device=device))
    expected = torch.full((4, 4), 0.1, device=device)
    expected[torch.arange(4), y] = 0.7
    torch.testing.assert_close(q, expected)
    assert torch.equal(smooth_labels(y, 4, 0.0), F.one_hot(y, 4).float())
    assert smooth_labels(y, 4, 0.1, dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.1, 0.3, 0.9])
def test_loss_equals_pytorch_label_smoothing(device, eps):
    k = 10
    logits = torch.randn(16, k, device=device, dtype=torch.float64, requires_grad=True)
    ref_logits = logits.detach().clone().requires_grad_()
    y = torch.randint(0, k, (16,), device=device)
    ours = LabelSmoothingLoss(eps, num_classes=k)(logits, y)
    ref = nn.CrossEntropyLoss(label_smoothing=epsilon_to_pytorch(eps, k))(ref_logits, y)
    torch.testing.assert_close(ours, ref)
    ours.backward()
    ref.backward()
    torch.testing.assert_close(logits.grad, ref_logits.grad)
    # the same loss as cross-entropy against the smoothed target distribution
    torch.testing.assert_close(ours, F.cross_entropy(logits, smooth_labels(y, k, eps, dtype=torch.float64)))


def test_loss_reductions(device):
    logits, y = torch.randn(5, 3, device=device), torch.tensor([0, 1, 2, 1, 0], device=device)
    alpha = epsilon_to_pytorch(0.2, 3)
    for reduction in ("none", "sum", "mean"):
        torch.testing.assert_close(label_smoothing_cross_entropy(logits, y, 0.2, reduction),
                                   F.cross_entropy(logits, y, label_smoothing=alpha, reduction=reduction))
    assert repr(LabelSmoothingLoss(0.1, num_classes=3)) == "LabelSmoothingLoss(eps=0.1, num_classes=3)"


def test_epsilon_conventions():
    # PyTorch's α = 0.1 with k = 10: true class 1 − α + α/k = 0.91, others α/k = 0.01 = ε/(k − 1) with ε = 0.09
    assert pytorch_to_epsilon(0.1, 10) == pytest.approx(0.09)
    assert epsilon_to_pytorch(0.09, 10) == pytest.approx(0.1)
    assert epsilon_to_pytorch(0.5, 2) == pytest.approx(1.0)  # ε = (k − 1)/k: the uniform target
    for eps, k in [(0.0, 2), (0.1, 10), (0.25, 4), (0.6, 7)]:
        assert pytorch_to_epsilon(epsilon_to_pytorch(eps, k), k) == pytest.approx(eps)


@pytest.mark.parametrize("eps", [-0.1, 1.0, 1.5, float("nan"), "0.1", None])
def test_bad_epsilon_is_rejected(device, eps):
    y = torch.tensor([0, 1], device=device)
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\)"):
        smooth_labels(y, 3, eps)
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\)"):
        LabelSmoothingLoss(eps)


def test_bad_labels_and_classes_are_rejected(device):
    y = torch.tensor([0, 1, 9], device=device)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.8 for 9 classes, got values from 0 to 9"):
        smooth_labels(y, 9, 0.1)
    with pytest.raises(ValueError, match="labels must lie in 0..2"):
        smooth_labels(torch.tensor([-1, 0], device=device), 3, 0.1)
    with pytest.raises(ValueError, match="num_classes >= 2"):
        smooth_labels(torch.tensor([0, 0], device=device), 1, 0.1)
    with pytest.raises(TypeError, match="integer class indices"):
        smooth_labels(torch.tensor([0.0, 1.0], device=device), 3, 0.1)
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\)"):
        smooth_labels(torch.tensor([[0, 1]], device=device), 3, 0.1)
    with pytest.raises(TypeError, match="labels must be a torch.Tensor"):
        smooth_labels([0, 1], 3, 0.1)
    logits = torch.randn(3, 10, device=device)
    with pytest.raises(ValueError, match="expected logits for 5 classes, got 10 columns"):
        LabelSmoothingLoss(0.1, num_classes=5)(logits, y)
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        LabelSmoothingLoss(0.1)(logits, torch.tensor([0, 1, 10], device=device))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, classes\)"):
        label_smoothing_cross_entropy(torch.randn(10, device=device), y)
    with pytest.raises(ValueError, match="got 3 rows of logits but 2 labels"):
        label_smoothing_cross_entropy(logits, y[:2])
    with pytest.raises(ValueError, match="reduction must be"):
        LabelSmoothingLoss(0.1, reduction="avg")
    with pytest.raises(ValueError, match="num_classes must be an int >= 2 or None"):
        LabelSmoothingLoss(0.1, num_classes=1)
    with pytest.raises(ValueError, match=r"PyTorch's label_smoothing can only express ε <= \(k − 1\)/k = 0.5"):
        epsilon_to_pytorch(0.6, 2)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\]"):
        pytorch_to_epsilon(1.2, 10)
    with pytest.raises(ValueError, match="num_classes must be an int >= 2"):
        pytorch_to_epsilon(0.1, 1)


# --------------------------------------------------------------------------- calibration
def test_ece_on_hand_made_cases(device):
    y = torch.tensor([0, 0, 0, 0], device=device)
    certain = torch.tensor([[1.0, 0.0]] * 4, device=device)
    assert expected_calibration_error(certain, y) == pytest.approx(0.0)
    # confidence 0.8 everywhere, 3 of 4 right: |0.75 − 0.8| = 0.05
    probs = torch.tensor([[0.8, 0.2]] * 3 + [[0.2, 0.8]], device=device)
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0.05, abs=1e-6)
    # two bins: conf 0.6 (1 of 2 right) and conf 0.95 (2 of 2 right): (2/4)·0.1 + (2/4)·0.05
    probs = torch.tensor([[0.6, 0.4], [0.4, 0.6], [0.95, 0.05], [0.95, 0.05]], device=device)
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0.075, abs=1e-6)
    bins = calibration_bins(probs, y, n_bins=10)
    assert bins["count"].sum() == 4 and bins["count"][5] == 2 and bins["count"][9] == 2
    torch.testing.assert_close(bins["accuracy"][[5, 9]], torch.tensor([0.5, 1.0], device=device))
    assert bins["edges"].shape == (11,) and bins["confidence"].device == y.device


def test_ece_of_a_calibrated_predictor_is_small():
    g = torch.Generator().manual_seed(0)
    conf = torch.rand(50_000, generator=g) * 0.5 + 0.5  # confidence of class 0 in (0.5, 1)
    y = (torch.rand(50_000, generator=g) >= conf).long()  # class 0 is right with probability conf
    probs = torch.stack([conf, 1 - conf], dim=1)
    assert expected_calibration_error(probs, y) < 0.01
    overconfident = torch.stack([torch.full_like(conf, 0.99), torch.full_like(conf, 0.01)], dim=1)
    assert expected_calibration_error(overconfident, y) == pytest.approx(0.99 - 0.75, abs=0.01)


def test_ece_rejects_bad_input(device):
    y = torch.tensor([0, 1], device=device)
    with pytest.raises(ValueError, match="rows must be probabilities"):
        expected_calibration_error(torch.tensor([[2.0, -1.0], [0.5, 0.5]], device=device), y)
    with pytest.raises(ValueError, match="rows must be probabilities"):
        expected_calibration_error(torch.tensor([[3.0, 1.0], [0.5, 0.5]], device=device), y)
    with pytest.raises(ValueError, match=r"probs must be a float tensor of shape \(N, classes\)"):
        expected_calibration_error(torch.tensor([0.5, 0.5], device=device), y)
    with pytest.raises(ValueError, match="need as many labels as rows"):
        expected_calibration_error(torch.tensor([[0.5, 0.5]] * 3, device=device), y)
    with pytest.raises(ValueError, match="n_bins must be a positive int"):
        expected_calibration_error(torch.tensor([[0.5, 0.5]] * 2, device=device), y, n_bins=0)
