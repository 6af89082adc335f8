"""The checkers of notebook 04: not attempted, wrong (with a useful message), and right."""

import torch
from torch.nn import functional as F

from course_lib.augment import BatchRandomAffine, smooth_labels
from course_lib.exercises import ex04


def verdict(capsys) -> str:
    return capsys.readouterr().out.strip()


# --------------------------------------------------------------------------- exercise 1: random shift
def shift_by(x, shifts, m):
    """Image i of x moved right by shifts[i, 0] and down by shifts[i, 1], zeros shifted in."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (m, m, m, m))
    return torch.stack([padded[i, :, m - dy:m - dy + h, m - dx:m - dx + w] for i, (dx, dy) in enumerate(shifts.tolist())])


def right_answer(x, max_shift, generator=None):
    shifts = torch.randint(-max_shift, max_shift + 1, (len(x), 2), generator=generator)
    return shift_by(x, shifts, max_shift)


def test_random_shift_accepts_the_answer(capsys):
    assert ex04.check_random_shift(right_answer)
    assert verdict(capsys).startswith("[correct]")


def test_random_shift_accepts_a_vectorized_answer(capsys):
    def gathered(x, max_shift, generator=None):  # one gather instead of a loop over the images
        n, c, h, w = x.shape
        m = max_shift
        s = torch.randint(-m, m + 1, (n, 2), generator=generator)
        rows = torch.arange(h).view(1, h, 1) - s[:, 1].view(n, 1, 1) + m
        cols = torch.arange(w).view(1, 1, w) - s[:, 0].view(n, 1, 1) + m
        padded = F.pad(x, (m, m, m, m))
        return padded[torch.arange(n).view(n, 1, 1), :, rows, cols].permute(0, 3, 1, 2)

    assert ex04.check_random_shift(gathered)
    assert verdict(capsys).startswith("[correct]")


def test_random_shift_not_attempted(capsys):
    def untouched(x, max_shift, generator=None):
        raise NotImplementedError

    assert ex04.check_random_shift(None).status == "not attempted"
    assert verdict(capsys).startswith("[not attempted]")
    assert ex04.check_random_shift(untouched).status == "not attempted"
    assert verdict(capsys).startswith("[not attempted]")


def test_random_shift_rejects_randint_with_exclusive_high(capsys):
    def off_by_one(x, max_shift, generator=None):
        shifts = torch.randint(-max_shift, max_shift, (len(x), 2), generator=generator)
        return shift_by(x, shifts, max_shift)

    result = ex04.check_random_shift(off_by_one)
    assert result.status == "wrong"
    out = verdict(capsys)
    assert out.startswith("[wrong]") and "never equals +2" in out and "max_shift + 1" in out


def test_random_shift_rejects_one_shift_per_batch(capsys):
    def per_batch(x, max_shift, generator=None):
        dx, dy = torch.randint(-max_shift, max_shift + 1, (2,), generator=generator).tolist()
        return shift_by(x, torch.tensor([[dx, dy]] * len(x)), max_shift)

    assert not ex04.check_random_shift(per_batch)
    out = verdict(capsys)
    assert out.startswith("[wrong]") and "one shift per image" in out


def test_random_shift_rejects_wrap_around(capsys):
    def rolled(x, max_shift, generator=None):
        s = torch.randint(-max_shift, max_shift + 1, (len(x), 2), generator=generator).tolist()
        return torch.stack([torch.roll(img, (dy, dx), dims=(-2, -1)) for img, (dx, dy) in zip(x, s)])

    assert not ex04.check_random_shift(rolled)
    out = verdict(capsys)
    assert "wrap around (torch.roll)" in out and "zeros" in out


def test_random_shift_rejects_the_global_random_state(capsys):
    def global_rng(x, max_shift, generator=None):
        return right_answer(x, max_shift)  # ignores the generator

    assert not ex04.check_random_shift(global_rng)
    assert "global random state" in verdict(capsys)


def test_random_shift_rejects_other_mistakes(capsys):
    def horizontal_only(x, max_shift, generator=None):
        s = torch.randint(-max_shift, max_shift + 1, (len(x), 2), generator=generator)
        s[:, 1] = 0
        return shift_by(x, s, max_shift)

    def same_dx_dy(x, max_shift, generator=None):
        d = torch.randint(-max_shift, max_shift + 1, (len(x), 1), generator=generator)
        return shift_by(x, d.repeat(1, 2), max_shift)

    def too_far(x, max_shift, generator=None):
        s = torch.randint(-max_shift - 1, max_shift + 2, (len(x), 2), generator=generator)
        return shift_by(x, s, max_shift + 1)

    def channels_apart(x, max_shift, generator=None):  # each channel gets its own shift
        return torch.cat([right_answer(x[:, i:i + 1], max_shift, generator) for i in range(x.shape[1])], 1)

    def in_place(x, max_shift, generator=None):
        x.mul_(1.0).add_(0.0)
        x[:, :, 0] = 0
        return x

    def always_right(x, max_shift, generator=None):  # not uniform: only shifts 0 or +max_shift
        s = torch.randint(0, 2, (len(x), 2), generator=generator) * max_shift
        return shift_by(x, s, max_shift)

    def affine_not_whole(x, max_shift, generator=None):  # a rotation is not a shift
        return BatchRandomAffine(degrees=20, generator=generator)(x)

    cases = [(horizontal_only, "no image moved up or down"), (same_dx_dy, "draw them independently"),
             (too_far, "more than max_shift = 2"), (channels_apart, "every channel"),
             (in_place, "changed its input x in place"), (always_right, "never takes the values [-2, -1, 1]"),
             (affine_not_whole, "not the input moved by whole pixels"),
             (lambda x, m, generator=None: x.clone(), "returned the images unchanged"),
             (lambda x, m, generator=None: x[:, :, 1:], "keeps the shape of x"),
             (lambda x, m, generator=None: x.tolist(), "as a tensor, got list"),
             (lambda x, m: x, "raised TypeError"),
             ("shift", "give a function")]
    for answer, message in cases:
        assert ex04.check_random_shift(answer).status == "wrong", message
        out = verdict(capsys)
        assert out.startswith("[wrong]") and message in out, (message, out)


# --------------------------------------------------------------------------- exercise 2: smoothed targets
def test_smooth_labels_not_attempted(capsys):
    def untouched(y, num_classes, eps):
        raise NotImplementedError

    assert not ex04.check_smooth_labels(None)
    assert verdict(capsys).startswith("[not attempted]")
    assert not ex04.check_smooth_labels(untouched)
    assert verdict(capsys).startswith("[not attempted]")


def test_smooth_labels_rejects_pytorch_convention(capsys):
    def pytorch_style(y, k, eps):  # wrong classes get ε/k
        q = torch.full((len(y), k), eps / k)
        return q.scatter(1, y.view(-1, 1), 1 - eps + eps / k)

    assert not ex04.check_smooth_labels(pytorch_style)
    out = verdict(capsys)
    assert out.startswith("[wrong]") and "PyTorch's convention" in out and "ε/(k − 1) = 0.15" in out


def test_smooth_labels_rejects_other_mistakes(capsys):
    def no_smoothing(y, k, eps):
        return F.one_hot(y, k).float()

    def swapped(y, k, eps):  # ε on the true class, 1 − ε spread over the others
        q = torch.full((len(y), k), (1 - eps) / (k - 1))
        return q.scatter(1, y.view(-1, 1), eps)

    def wrong_shape(y, k, eps):
        return smooth_labels(y, k, eps)[:, 1:]

    assert not ex04.check_smooth_labels(no_smoothing)
    assert "each row must sum to 1" not in (msg := verdict(capsys)) and "1 − ε = 0.7" in msg
    assert not ex04.check_smooth_labels(swapped)
    assert "the true class gets 1 − ε = 0.7" in verdict(capsys)
    assert not ex04.check_smooth_labels(wrong_shape)
    assert "have shape (3, 3), yours (3, 2)" in verdict(capsys)
    assert not ex04.check_smooth_labels(lambda y, k, eps: [0.0])
    assert "return a tensor, got list" in verdict(capsys)
    assert not ex04.check_smooth_labels("smooth")
    assert "give a function" in verdict(capsys)


def test_smooth_labels_accepts_the_answer(capsys):
    def mine(y, k, eps):
        q = torch.full((len(y), k), eps / (k - 1))
        q[torch.arange(len(y)), y] = 1 - eps
        return q

    assert ex04.check_smooth_labels(mine)
    assert verdict(capsys).startswith("[correct]")
    assert ex04.check_smooth_labels(smooth_labels)


# --------------------------------------------------------------------------- exercise 3: PyTorch's α
def test_pytorch_alpha(capsys):
    assert not ex04.check_pytorch_alpha(None)
    assert verdict(capsys).startswith("[not attempted]")
    assert not ex04.check_pytorch_alpha((0.9, 0.09))
    assert "also gives the true class its share" in verdict(capsys)
    assert not ex04.check_pytorch_alpha((0.91, 0.1))
    assert "ε is not α" in verdict(capsys)
    assert not ex04.check_pytorch_alpha((0.91, 0.05))
    assert "1 − p_true" in verdict(capsys)
    assert not ex04.check_pytorch_alpha("0.91")
    assert "give a pair of numbers" in verdict(capsys)
    assert ex04.check_pytorch_alpha((0.91, 0.09))
    assert verdict(capsys).startswith("[correct]")


# --------------------------------------------------------------------------- exercise 4: label-preserving transforms
def test_label_preserving(capsys):
    assert not ex04.check_label_preserving(None)
    assert verdict(capsys).startswith("[not attempted]")
    assert not ex04.check_label_preserving({"rotate_10", "shift_1px", "small_noise", "mirror"})
    assert "mirror: a left-right mirror" in verdict(capsys)
    assert not ex04.check_label_preserving({"rotate_10", "shift_1px", "small_noise", "rotate_180"})
    assert "swaps 6 and 9" in verdict(capsys)
    assert not ex04.check_label_preserving({"rotate_10"})
    assert "shift_1px, small_noise also keep the label" in verdict(capsys)
    assert not ex04.check_label_preserving({"rotate_10", "zoom"})
    assert "unknown names ['zoom']" in verdict(capsys)
    assert not ex04.check_label_preserving("rotate_10")
    assert "give a set of transform names" in verdict(capsys)
    assert ex04.check_label_preserving(["small_noise", "rotate_10", "shift_1px"])
    assert verdict(capsys).startswith("[correct]")
