"""Tests for course_lib.augment: transforms against torchvision / torch, noise statistics, label smoothing
against nn.CrossEntropyLoss, seeded generators, and every bad-input error (calibration: tests/test_metrics.py)."""

import math

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from torch import nn
from torch.nn import functional as F
from torchvision.transforms import v2

from course_lib.augment import (AugmentedLoader, BatchRandomAffine, BatchRandomFlip, BatchRandomRoll, GaussianNoise,
                                LabelSmoothingLoss, PerSample, RandomGaussianBlur, augmentation_pipeline, batch_affine,
                                epsilon_to_pytorch, label_smoothing_cross_entropy, lecture_transforms,
                                pytorch_to_epsilon, smooth_labels)
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


def test_lecture_transforms_run_at_the_smallest_accepted_size():
    img = torch.rand(3, 2, 2)
    for name, t in lecture_transforms(2).items():
        out = t(img)
        assert out.shape == img.shape and torch.isfinite(out).all(), name


@pytest.mark.parametrize("size, error, match", [
    ((0, 10), ValueError, r"size\[0\] must be an int in \[2, inf\), got 0"),
    (1, ValueError, r"size\[0\] must be an int in \[2, inf\), got 1"),
    ("big", TypeError, r"size must be an int or an \(H, W\) pair of ints, got str 'big'"),
    ((8, 8, 3), ValueError, r"size must be an int or an \(H, W\) pair of ints, got 3 values"),
    ((8.0, 8), TypeError, r"size\[0\] must be an int in \[2, inf\), got float 8.0"),
    (True, TypeError, r"size must be an int or an \(H, W\) pair of ints, got bool True"),
])
def test_lecture_transforms_bad_size(size, error, match):
    with pytest.raises(error, match=match):
        lecture_transforms(size)


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


@pytest.mark.parametrize("kwargs, error, match", [
    ({"flip": 1.5}, ValueError, r"flip must be a real number in \[0, 1\], got 1.5"),
    ({"flip": "0.5"}, TypeError, r"flip must be a real number in \[0, 1\], got str '0.5'"),
    ({"rotate": -5}, ValueError, r"rotate must be a real number in \[0, 180\], got -5"),
    ({"rotate": float("nan")}, ValueError, r"rotate must be a real number in \[0, 180\], got nan"),
    ({"translate": (0.1, 0.1)}, TypeError, r"translate must be a real number in \[0, 1\], got tuple \(0.1, 0.1\)"),
    ({"zoom": 1.0}, ValueError, r"zoom must be a real number in \[0, 1\), got 1.0"),
    ({"shear": 90}, ValueError, r"shear must be a real number in \[0, 90\), got 90"),
    ({"crop": 0.0}, ValueError, r"crop must be a real number in \(0, 1\], got 0.0"),
    ({"crop": 0.5}, ValueError, r"crop=0.5 needs the output size of the random crop: pass size=\(H, W\)"),
    ({"crop": 0.5, "size": 0}, ValueError, r"size\[0\] must be an int in \[1, inf\), got 0"),
    ({"crop": 0.5, "size": "8"}, TypeError, r"size must be an int or an \(H, W\) pair of ints, got str '8'"),
    ({"blur": -1}, ValueError, r"blur must be a real number in \[0, inf\), got -1"),
    ({"blur": float("inf")}, ValueError, r"blur must be a real number in \[0, inf\), got inf"),
    ({"blur": True}, TypeError, r"blur must be a real number in \[0, inf\), got bool True"),
    ({"brightness": 1.5}, ValueError, r"brightness must be a real number in \[0, 1\], got 1.5"),
    ({"saturation": None}, TypeError, r"saturation must be a real number in \[0, 1\], got NoneType None"),
    ({"hue": 0.7}, ValueError, r"hue must be a real number in \[0, 0.5\], got 0.7"),
])
def test_pipeline_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        augmentation_pipeline(**kwargs)


# every end of every accepted interval (the nearest float inside for an open end), and small blurs
_TINY = math.nextafter(0.0, 1.0)
PIPELINE_BOUNDARIES = {
    "flip": [0, 1], "rotate": [0, 180], "translate": [0, 1], "zoom": [0, math.nextafter(1.0, 0.0)],
    "shear": [0, math.nextafter(90.0, 0.0)], "crop": [_TINY, 1], "blur": [0, _TINY, 0.05, 0.1, 1e6],
    "brightness": [0, 1], "saturation": [0, 1], "hue": [0, 0.5],
}


@pytest.mark.parametrize("name, value", [(n, v) for n, values in PIPELINE_BOUNDARIES.items() for v in values])
@pytest.mark.parametrize("shape", [(3, 8, 8), (2, 1, 5, 7)], ids=["rgb-image", "grey-batch"])
def test_every_accepted_boundary_value_builds_a_pipeline_that_runs(name, value, shape):
    kwargs = {name: value, "size": (4, 6)} if name == "crop" else {name: value}
    x = torch.rand(shape)
    out = augmentation_pipeline(**kwargs)(x)
    expected = (*shape[:-2], 4, 6) if name == "crop" and value < 1 else shape
    assert out.shape == expected and out.dtype == x.dtype and torch.isfinite(out).all()


def test_pipeline_blur_draws_sigma_up_to_blur():
    blur = augmentation_pipeline(blur=0.05).transforms[0]
    assert isinstance(blur, RandomGaussianBlur) and blur.sigma == (0.05, 0.05)
    assert augmentation_pipeline(blur=2.0).transforms[0].sigma == (0.1, 2.0)


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
    with pytest.raises(TypeError, match="transform must be callable .*, got int 3"):
        PerSample(3)
    with pytest.raises(ValueError, match=r"x must be image tensors of shape \(N, C, H, W\), got shape \(4, 64\)"):
        PerSample(v2.Identity())(torch.rand(4, 64, device=device))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        PerSample(v2.Identity())([[0.0]])


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


@pytest.mark.parametrize("kwargs, error, match", [
    ({"p": -0.1}, ValueError, r"p must be a real number in \[0, 1\], got -0.1 \(the probability of mirroring"),
    ({"p": "0.5"}, TypeError, r"p must be a real number in \[0, 1\], got str '0.5'"),
    ({"horizontal": "yes"}, TypeError, r"horizontal must be True \(left-right\) or False \(top-bottom\), got str"),
    ({"generator": 0}, TypeError, "generator must be a torch.Generator or None, got int 0"),
])
def test_batch_flip_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchRandomFlip(**kwargs)


def test_batch_flip_rejects_bad_input(device):
    with pytest.raises(TypeError, match="x must be a float tensor .*got dtype torch.uint8"):
        BatchRandomFlip()(torch.zeros(2, 1, 4, 4, dtype=torch.uint8, device=device))
    with pytest.raises(ValueError, match=r"x must be image tensors of shape \(N, C, H, W\), got shape \(1, 4, 4\)"):
        BatchRandomFlip()(torch.zeros(1, 4, 4, device=device))


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
    ({"degrees": -1}, ValueError, r"degrees must be a real number in \[0, 180\], got -1"),
    ({"degrees": "ten"}, TypeError, r"degrees must be a number or a \(low, high\) pair, got str 'ten'"),
    ({"degrees": (10, -10)}, ValueError, r"degrees must be a \(low, high\) pair with low <= high, got \(10, -10\)"),
    ({"degrees": (1, 2, 3)}, ValueError, r"degrees must be a number or a \(low, high\) pair, got 3 values"),
    ({"degrees": (0, 200)}, ValueError, r"degrees\[1\] must be a real number in \[-180, 180\], got 200"),
    ({"translate": (0.1, 1.5)}, ValueError, r"translate\[1\] must be a real number in \[0, 1\], got 1.5"),
    ({"translate": 0.1}, TypeError, "translate must be a pair of numbers, got float 0.1"),
    ({"scale": (0.0, 1.2)}, ValueError, r"scale\[0\] must be a real number in \(0, inf\), got 0.0"),
    ({"scale": (1.2, 0.8)}, ValueError, r"scale must be a \(low, high\) pair with low <= high"),
    ({"scale": 1.2}, TypeError, r"scale must be a \(low, high\) pair of numbers, got float 1.2"),
    ({"shear": (-10, 10, -95, 0)}, ValueError, r"shear\[2\] must be a real number in \(-90, 90\), got -95"),
    ({"shear": (10, -10, 0, 0)}, ValueError, r"shear must be \(x_low, x_high, y_low, y_high\) with low <= high"),
    ({"shear": (1, 2, 3)}, ValueError, r"shear must be a number, a \(low, high\) pair or four numbers"),
    ({"shear": 90}, ValueError, r"shear must be a real number in \[0, 90\), got 90"),
    ({"interpolation": "bicubic"}, ValueError, "interpolation must be one of 'bilinear', 'nearest', got 'bicubic'"),
    ({"interpolation": 2}, TypeError, "interpolation must be one of 'bilinear', 'nearest', got int 2"),
    ({"fill": "white"}, TypeError, r"fill must be a real number in \(-inf, inf\), got str 'white'"),
    ({"generator": "seed"}, TypeError, "generator must be a torch.Generator or None, got str 'seed'"),
])
def test_batch_random_affine_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchRandomAffine(**kwargs)


def test_batch_random_affine_accepts_torchvision_interpolation_modes():
    assert BatchRandomAffine(interpolation=v2.InterpolationMode.NEAREST).interpolation == "nearest"


def test_batch_affine_rejects_non_images(device):
    with pytest.raises(ValueError, match=r"x must be image tensors of shape \(N, C, H, W\), got shape \(4, 64\)"):
        BatchRandomAffine(degrees=10)(torch.rand(4, 64, device=device))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        BatchRandomAffine(degrees=10)([[0.0]])
    with pytest.raises(TypeError, match="x must be a float tensor"):
        BatchRandomAffine(degrees=10)(torch.zeros(2, 3, 8, 8, dtype=torch.uint8, device=device))


def test_batch_affine_rejects_bad_parameters(device):
    x = images(device)
    good = {"angle": torch.zeros(6), "translate": torch.zeros(6, 2), "scale": torch.ones(6), "shear": torch.zeros(6, 2)}
    cases = [
        ({"interpolation": "cubic"}, ValueError, "interpolation must be one of 'bilinear', 'nearest', got 'cubic'"),
        ({"fill": float("nan")}, ValueError, "fill must be a real number"),
        ({"angle": 10.0}, TypeError, "angle must be a torch.Tensor, got float 10.0"),
        ({"angle": torch.zeros(5)}, ValueError, r"angle must hold 1 real number per image, shape \(6,\), got Tensor of shape \(5,\)"),
        ({"translate": torch.zeros(6)}, ValueError, r"translate must hold 2 real numbers per image, shape \(6, 2\)"),
        ({"translate": torch.full((6, 2), float("nan"))}, ValueError, "translate contains 12 non-finite values"),
        ({"scale": torch.zeros(6)}, ValueError, "scale must hold zoom factors > 0, got min 0"),
        ({"shear": torch.full((6, 2), 90.0)}, ValueError, r"shear must hold angles inside \(−90, 90\) degrees"),
    ]
    for change, error, match in cases:
        with pytest.raises(error, match=match):
            batch_affine(x, **{**good, **change})


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
    with pytest.raises(ValueError, match=r"max_shift must be an int in \[0, inf\), got -1"):
        BatchRandomRoll(-1)
    with pytest.raises(TypeError, match=r"max_shift must be an int in \[0, inf\), got float 2.5"):
        BatchRandomRoll(2.5)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 3"):
        BatchRandomRoll(2, generator=3)
    with pytest.raises(ValueError, match=r"x must be sequences of shape \(N, L\) or \(N, C, L\), got shape \(2, 1, 8, 8\)"):
        BatchRandomRoll(2)(torch.rand(2, 1, 8, 8, device=device))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        BatchRandomRoll(2)([[1.0, 2.0]])
    x = torch.rand(3, 10, device=device)
    with pytest.raises(TypeError, match="shifts must be an integer tensor, got dtype torch.float32"):
        BatchRandomRoll(2)(x, torch.zeros(3))
    with pytest.raises(ValueError, match=r"shifts must hold one shift per sequence, 3 values, got shape \(2,\)"):
        BatchRandomRoll(2)(x, torch.zeros(2, dtype=torch.long))


def test_batch_roll_of_empty_sequences(device):
    assert BatchRandomRoll(2)(torch.zeros(3, 0, device=device)).shape == (3, 0)


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
    with pytest.raises(ValueError, match=r"batch_size must be an int in \[1, inf\), got 0"):
        AugmentedLoader((x, y), v2.Identity(), batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be an int in \[1, inf\), got float 2.5"):
        AugmentedLoader((x, y), v2.Identity(), batch_size=2.5)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 0"):
        AugmentedLoader((x, y), v2.Identity(), generator=0)
    with pytest.raises(ValueError, match="generator shuffles a Split or an \\(x, y\\) pair; data is a DeviceLoader"):
        AugmentedLoader(DeviceLoader(x, y), v2.Identity(), generator=torch.Generator())


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


@pytest.mark.parametrize("std, error", [(-0.1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
                                        ("0.1", TypeError), (True, TypeError)])
def test_gaussian_noise_rejects_bad_std(std, error):
    with pytest.raises(error, match=r"std must be a real number in \[0, inf\), got"):
        GaussianNoise(std)


def test_gaussian_noise_rejects_bad_input(device):
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got dtype torch.int64"):
        GaussianNoise(0.1)(torch.zeros(3, dtype=torch.long, device=device))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        GaussianNoise(0.1)([0.5])
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 1"):
        GaussianNoise(0.1, generator=1)


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


@pytest.mark.parametrize("eps, error", [(-0.1, ValueError), (1.0, ValueError), (1.5, ValueError),
                                        (float("nan"), ValueError), ("0.1", TypeError), (None, TypeError)])
def test_bad_epsilon_is_rejected(device, eps, error):
    y = torch.tensor([0, 1], device=device)
    match = r"eps must be a real number in \[0, 1\), got .* \(ε is the probability mass moved"
    for call in (lambda: smooth_labels(y, 3, eps), lambda: LabelSmoothingLoss(eps),
                 lambda: label_smoothing_cross_entropy(torch.randn(2, 3, device=device), y, eps),
                 lambda: epsilon_to_pytorch(eps, 3)):
        with pytest.raises(error, match=match):
            call()


def test_bad_labels_and_classes_are_rejected(device):
    y = torch.tensor([0, 1, 9], device=device)
    logits = torch.randn(3, 10, device=device)
    cases = [
        (lambda: smooth_labels(y, 9, 0.1), ValueError, r"y must lie in 0\.\.8 for 9 classes, got values from 0 to 9"),
        (lambda: smooth_labels(torch.tensor([-1, 0], device=device), 3, 0.1), ValueError, r"y must lie in 0\.\.2"),
        (lambda: smooth_labels(y, 1, 0.1), ValueError, r"num_classes must be an int in \[2, inf\), got 1"),
        (lambda: smooth_labels(y, 10.0, 0.1), TypeError, r"num_classes must be an int in \[2, inf\), got float 10.0"),
        (lambda: smooth_labels(torch.tensor([0.0, 1.0], device=device), 3, 0.1), TypeError,
         "y must be an integer tensor, got dtype torch.float32; convert with .long()"),
        (lambda: smooth_labels(torch.tensor([[0, 1]], device=device), 3, 0.1), ValueError,
         r"y must be class labels of shape \(N,\), got shape \(1, 2\)"),
        (lambda: smooth_labels([0, 1], 3, 0.1), TypeError, "y must be a torch.Tensor, got list"),
        (lambda: smooth_labels(y, 10, 0.1, dtype=torch.long), TypeError,
         "dtype must be a floating-point torch.dtype .*, got dtype torch.int64"),
        (lambda: LabelSmoothingLoss(0.1, num_classes=5)(logits, y), ValueError,
         "expected logits for 5 classes, got 10 columns"),
        (lambda: LabelSmoothingLoss(0.1)(logits, torch.tensor([0, 1, 10], device=device)), ValueError,
         r"y must lie in 0\.\.9"),
        (lambda: label_smoothing_cross_entropy(torch.randn(10, device=device), y), ValueError,
         r"logits must have shape \(N, classes\), got shape \(10,\)"),
        (lambda: label_smoothing_cross_entropy(torch.ones(3, 10, dtype=torch.long, device=device), y), TypeError,
         "logits must be a floating-point tensor, got dtype torch.int64"),
        (lambda: label_smoothing_cross_entropy(torch.randn(3, 1, device=device), y), ValueError,
         r"needs logits for at least 2 classes .*got shape \(3, 1\)"),
        (lambda: label_smoothing_cross_entropy(logits, y[:2]), ValueError, "got 3 rows of logits but 2 labels"),
        (lambda: label_smoothing_cross_entropy(logits, y, 0.1, "avg"), ValueError,
         "reduction must be one of 'mean', 'sum', 'none', got 'avg'"),
        (lambda: LabelSmoothingLoss(0.1, reduction="avg"), ValueError, "reduction must be one of 'mean', 'sum', 'none'"),
        (lambda: LabelSmoothingLoss(0.1, reduction=None), TypeError, "reduction must be one of .*, got NoneType None"),
        (lambda: LabelSmoothingLoss(0.1, num_classes=1), ValueError, r"num_classes must be an int in \[2, inf\), got 1"),
        (lambda: epsilon_to_pytorch(0.6, 2), ValueError,
         r"PyTorch's label_smoothing can only express ε <= \(k − 1\)/k = 0.5"),
        (lambda: epsilon_to_pytorch(0.1, "10"), TypeError, r"num_classes must be an int in \[2, inf\), got str '10'"),
        (lambda: pytorch_to_epsilon(1.2, 10), ValueError,
         r"alpha must be a real number in \[0, 1\], got 1.2 \(PyTorch's label_smoothing\)"),
        (lambda: pytorch_to_epsilon("0.1", 10), TypeError, r"alpha must be a real number in \[0, 1\], got str '0.1'"),
        (lambda: pytorch_to_epsilon(0.1, 1), ValueError, r"num_classes must be an int in \[2, inf\), got 1"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


# --------------------------------------------------------------------------- Gaussian blur for every image size
def test_random_gaussian_blur_equals_torchvision_where_the_kernel_fits(device):
    x = images(device, n=2, h=20, w=20)
    torch.manual_seed(4)
    ours = RandomGaussianBlur(5, sigma=(0.5, 1.5))(x)
    torch.manual_seed(4)
    ref = v2.GaussianBlur(5, sigma=(0.5, 1.5))(x)
    torch.testing.assert_close(ours, ref)
    assert RandomGaussianBlur(sigma=1.2).kernel_size == 2 * math.ceil(2 * 1.2) + 1  # ±2σ by default


def test_random_gaussian_blur_cuts_its_kernel_to_small_images(device):
    x = torch.rand(3, 4, 4, device=device)
    out = RandomGaussianBlur(sigma=30.0)(x)  # a 121-pixel kernel: cut to 2·4 − 1 = 7
    torch.testing.assert_close(out, TF.gaussian_blur(x, [7, 7], [30.0, 30.0]))
    one_pixel = torch.rand(2, 3, 1, 1, device=device)
    assert torch.equal(RandomGaussianBlur(sigma=5.0)(one_pixel), one_pixel)
    assert torch.equal(RandomGaussianBlur(sigma=1e-300)(x), x)  # σ → 0: no blur (and no 0/0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"sigma": 0}, ValueError, r"sigma must be a real number in \(0, inf\), got 0"),
    ({"sigma": (2.0, 1.0)}, ValueError, r"sigma must be a \(low, high\) pair with low <= high"),
    ({"sigma": (0.0, 1.0)}, ValueError, r"sigma\[0\] must be a real number in \(0, inf\), got 0.0"),
    ({"sigma": "1"}, TypeError, r"sigma must be a real number in \(0, inf\), got str '1'"),
    ({"kernel_size": 4}, ValueError, "kernel_size must be odd .*, got 4"),
    ({"kernel_size": 0}, ValueError, r"kernel_size must be an int in \[1, inf\), got 0"),
    ({"generator": 1}, TypeError, "generator must be a torch.Generator or None, got int 1"),
])
def test_random_gaussian_blur_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RandomGaussianBlur(**kwargs)


def test_random_gaussian_blur_rejects_bad_input():
    with pytest.raises(ValueError, match=r"x must have 3 or 4 dimensions, got shape \(8, 8\)"):
        RandomGaussianBlur()(torch.rand(8, 8))
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        RandomGaussianBlur()([[0.0]])


# --------------------------------------------------------------------------- seeded generators
RANDOM_MODULES = {
    "flip": (lambda g: BatchRandomFlip(0.5, generator=g), (16, 3, 8, 8)),
    "affine": (lambda g: BatchRandomAffine(20, (0.1, 0.1), (0.9, 1.1), (-5, 5, -5, 5), generator=g), (16, 3, 8, 8)),
    "roll": (lambda g: BatchRandomRoll(3, generator=g), (16, 3, 20)),
    "noise": (lambda g: GaussianNoise(0.2, generator=g), (16, 3, 8, 8)),
    "blur": (lambda g: RandomGaussianBlur(sigma=(0.5, 2.0), generator=g), (16, 3, 8, 8)),
}


def _global_rng_states(device) -> list[torch.Tensor]:
    states = [torch.get_rng_state()]
    if device.type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return states


@pytest.mark.parametrize("name", RANDOM_MODULES)
def test_a_seeded_generator_repeats_the_batch_and_leaves_the_global_rng_alone(device, name):
    make, shape = RANDOM_MODULES[name]
    x = torch.rand(shape, device=device)
    for gen_device in {device.type, "cpu"}:  # a generator on the data's device, and a CPU one for any data
        before = _global_rng_states(device)
        a, b, c = (make(torch.Generator(device=gen_device).manual_seed(seed))(x) for seed in (5, 5, 6))
        assert all(torch.equal(s, t) for s, t in zip(before, _global_rng_states(device))), "global RNG advanced"
        assert a.device == x.device and a.shape == x.shape
        assert torch.equal(a, b), f"{name}: the same seed gave two different batches"
        assert not torch.equal(a, c), f"{name}: two seeds gave the same batch"


@pytest.mark.parametrize("name", RANDOM_MODULES)
def test_a_cpu_generator_draws_the_same_numbers_for_every_device(device, name):
    make, shape = RANDOM_MODULES[name]
    x = torch.rand(shape, device=device)
    on_device = make(torch.Generator().manual_seed(1))(x)
    on_cpu = make(torch.Generator().manual_seed(1))(x.cpu())
    torch.testing.assert_close(on_device.cpu(), on_cpu)


def test_augmented_loader_is_reproducible_with_seeded_generators(device):
    x = torch.rand(20, 1, 6, 6, device=device)
    y = torch.arange(20, device=device)

    def epoch(seed):
        order = torch.Generator().manual_seed(seed)
        loader = AugmentedLoader((x, y), BatchRandomFlip(generator=torch.Generator(device=device).manual_seed(seed)),
                                 batch_size=8, generator=order)
        assert loader.batches.generator is order  # the DeviceLoader shuffles with the loader's generator
        return [(xb, yb) for xb, yb in loader]

    before = _global_rng_states(device)
    a, b, c = epoch(1), epoch(1), epoch(2)
    assert all(torch.equal(s, t) for s, t in zip(before, _global_rng_states(device))), "global RNG advanced"
    assert all(torch.equal(xa, xb) and torch.equal(ya, yb) for (xa, ya), (xb, yb) in zip(a, b))
    assert not all(torch.equal(ya, yc) for (_, ya), (_, yc) in zip(a, c))


def test_importing_the_module_leaves_torchvision_for_first_use():
    """torchvision takes seconds to import; notebooks that only use the batch augmenters skip it."""
    import subprocess
    import sys
    code = ("import sys, course_lib.augment as a; assert 'torchvision' not in sys.modules; "
            "a.BatchRandomAffine(degrees=10); assert 'torchvision' not in sys.modules; "
            "a.augmentation_pipeline(flip=0.5); assert 'torchvision.transforms.v2' in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
