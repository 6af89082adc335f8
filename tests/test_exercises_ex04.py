"""The checkers of notebook 04: not attempted, wrong (with a useful message), and right."""

import torch
from torch.nn import functional as F

from course_lib.augment import smooth_labels
from course_lib.exercises import ex04


def verdict(capsys) -> str:
    return capsys.readouterr().out.strip()


# --------------------------------------------------------------------------- exercise 1
def test_exercise_1_not_attempted(capsys):
    def untouched(y, num_classes, eps):
        raise NotImplementedError

    assert not ex04.check_exercise_1(None)
    assert verdict(capsys).startswith("[not attempted]")
    assert not ex04.check_exercise_1(untouched)
    assert verdict(capsys).startswith("[not attempted]")


def test_exercise_1_rejects_pytorch_convention(capsys):
    def pytorch_style(y, k, eps):  # wrong classes get ε/k
        q = torch.full((len(y), k), eps / k)
        return q.scatter(1, y.view(-1, 1), 1 - eps + eps / k)

    assert not ex04.check_exercise_1(pytorch_style)
    out = verdict(capsys)
    assert out.startswith("[wrong]") and "PyTorch's convention" in out and "ε/(k − 1) = 0.15" in out


def test_exercise_1_rejects_other_mistakes(capsys):
    def no_smoothing(y, k, eps):
        return F.one_hot(y, k).float()

    def swapped(y, k, eps):  # ε on the true class, 1 − ε spread over the others
        q = torch.full((len(y), k), (1 - eps) / (k - 1))
        return q.scatter(1, y.view(-1, 1), eps)

    def wrong_shape(y, k, eps):
        return smooth_labels(y, k, eps)[:, 1:]

    assert not ex04.check_exercise_1(no_smoothing)
    assert "each row must sum to 1" not in (msg := verdict(capsys)) and "1 − ε = 0.7" in msg
    assert not ex04.check_exercise_1(swapped)
    assert "the true class gets 1 − ε = 0.7" in verdict(capsys)
    assert not ex04.check_exercise_1(wrong_shape)
    assert "have shape (3, 3), yours (3, 2)" in verdict(capsys)
    assert not ex04.check_exercise_1(lambda y, k, eps: [0.0])
    assert "return a tensor, got list" in verdict(capsys)
    assert not ex04.check_exercise_1("smooth")
    assert "give a function" in verdict(capsys)


def test_exercise_1_accepts_the_answer(capsys):
    def mine(y, k, eps):
        q = torch.full((len(y), k), eps / (k - 1))
        q[torch.arange(len(y)), y] = 1 - eps
        return q

    assert ex04.check_exercise_1(mine)
    assert verdict(capsys).startswith("[correct]")
    assert ex04.check_exercise_1(smooth_labels)


# --------------------------------------------------------------------------- exercise 2
def test_exercise_2(capsys):
    assert not ex04.check_exercise_2(None)
    assert verdict(capsys).startswith("[not attempted]")
    assert not ex04.check_exercise_2((0.9, 0.09))
    assert "also gives the true class its share" in verdict(capsys)
    assert not ex04.check_exercise_2((0.91, 0.1))
    assert "ε is not α" in verdict(capsys)
    assert not ex04.check_exercise_2((0.91, 0.05))
    assert "1 − p_true" in verdict(capsys)
    assert not ex04.check_exercise_2("0.91")
    assert "give a pair of numbers" in verdict(capsys)
    assert ex04.check_exercise_2((0.91, 0.09))
    assert verdict(capsys).startswith("[correct]")


# --------------------------------------------------------------------------- exercise 3
def test_exercise_3(capsys):
    assert not ex04.check_exercise_3(None)
    assert verdict(capsys).startswith("[not attempted]")
    assert not ex04.check_exercise_3({"rotate_10", "shift_1px", "small_noise", "mirror"})
    assert "mirror: a left-right mirror" in verdict(capsys)
    assert not ex04.check_exercise_3({"rotate_10", "shift_1px", "small_noise", "rotate_180"})
    assert "swaps 6 and 9" in verdict(capsys)
    assert not ex04.check_exercise_3({"rotate_10"})
    assert "shift_1px, small_noise also keep the label" in verdict(capsys)
    assert not ex04.check_exercise_3({"rotate_10", "zoom"})
    assert "unknown names ['zoom']" in verdict(capsys)
    assert not ex04.check_exercise_3("rotate_10")
    assert "give a set of transform names" in verdict(capsys)
    assert ex04.check_exercise_3(["small_noise", "rotate_10", "shift_1px"])
    assert verdict(capsys).startswith("[correct]")
