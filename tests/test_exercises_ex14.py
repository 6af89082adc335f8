"""Each checker of notebook 14 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import pytest
import torch

from course_lib.exercises import ex14


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def _right(models, x):
    with torch.no_grad():
        for m in models:
            m.eval()
        return torch.stack([m(x).softmax(dim=1) for m in models]).mean(dim=0)


def _logits(models, x, eval_mode=True):
    with torch.no_grad():
        for m in models:
            m.train(not eval_mode)
        return torch.stack([m(x) for m in models])


WRONG = {
    "mean logits then softmax": (lambda ms, x: _logits(ms, x).mean(0).softmax(1), "averaged the logits and then"),
    "mean logits": (lambda ms, x: _logits(ms, x).mean(0), "rows of logits are not probabilities"),
    "vote fractions": (lambda ms, x: torch.nn.functional.one_hot(_logits(ms, x).argmax(2), 4).float().mean(0),
                       "vote fractions"),
    "majority vote": (lambda ms, x: torch.nn.functional.one_hot(
        torch.nn.functional.one_hot(_logits(ms, x).argmax(2), 4).sum(0).argmax(1), 4).float(), "majority vote"),
    "sum": (lambda ms, x: _logits(ms, x).softmax(2).sum(0), "you summed"),
    "softmax over examples": (lambda ms, x: _logits(ms, x).softmax(1).mean(0), "dim=1"),
    "dropout on": (lambda ms, x: _logits(ms, x, eval_mode=False).softmax(2).mean(0), "dropout is still ON"),
    "mean over examples": (lambda ms, x: _logits(ms, x).softmax(2).mean(1), "not over the examples"),
    "numpy": (lambda ms, x: _right(ms, x).numpy(), "return a tensor"),
    "wrong values": (lambda ms, x: _right(ms, x).roll(1, dims=0), "differ from the mean"),
    "not a probability": (lambda ms, x: _right(ms, x) * 1.1, "summing to 1"),
}


def test_ex1_right_answer(capsys):
    assert ex14.check_ensemble_average(_right)
    assert _verdict(capsys).startswith("[correct]")


@pytest.mark.parametrize("answer", [None, lambda ms, x: None])
def test_ex1_not_attempted(capsys, answer):
    assert not ex14.check_ensemble_average(answer)
    assert _verdict(capsys).startswith("[not attempted]")


@pytest.mark.parametrize("name", list(WRONG))
def test_ex1_recognises_slips(capsys, name):
    fn, hint = WRONG[name]
    assert not ex14.check_ensemble_average(fn)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_not_callable_and_raising(capsys):
    assert not ex14.check_ensemble_average(3)
    assert "give a function" in _verdict(capsys)

    def broken(models, x):
        raise RuntimeError("oops")
    assert not ex14.check_ensemble_average(broken)
    assert "raised RuntimeError: oops" in _verdict(capsys)


# ----------------------------------------------------------------- exercise 2
def test_ex2_right_answer(capsys):
    assert ex14.check_snapshot_epochs([4, 12, 28])
    assert _verdict(capsys).startswith("[correct]")


def test_ex2_not_attempted(capsys):
    assert not ex14.check_snapshot_epochs(None)
    assert _verdict(capsys).startswith("[not attempted]")


@pytest.mark.parametrize("answer, hint", [
    ([3, 11, 27], "0-based"),
    ([5, 13, 29], "restarts"),
    ([4, 8, 12, 16, 20, 24, 28, 32, 36, 40], "periods grow"),
    ([4, 12, 28, 40], "middle of a period"),
    ([4, 8, 16], "LENGTHS"),
    ([28, 12, 4], "increasing order"),
    ([4, 12, 28, 44], "from 1 to 40"),
    ([4, 12], "expected 3 snapshots"),
    ([4, 12, 24], "not the ends"),
    ("4, 12, 28", "list of epoch numbers"),
    ([4.0, 12.0, 28.0], "list of epoch numbers"),
])
def test_ex2_rejects_wrong_answers(capsys, answer, hint):
    assert not ex14.check_snapshot_epochs(answer)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out
