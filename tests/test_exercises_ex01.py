"""Each checker of notebook 01 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import copy

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

from course_lib.exercises import ex01


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1
def right_count(n_in, hidden, n_out):
    sizes = [n_in, *hidden, n_out]
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


def test_ex1_not_attempted(capsys):
    def untouched(n_in, hidden, n_out):
        raise NotImplementedError

    assert not ex01.check_parameter_count(None)
    assert not ex01.check_parameter_count(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, h, b: sum(x * y for x, y in zip([a, *h], [*h, b])), "counts the weights only"),
    (lambda a, h, b: right_count(a, h[:-1], h[-1]) if h else 0, "leaves out the output layer"),
    (lambda a, h, b: right_count(a, h, b) + 1, "A Linear(a, b) layer holds"),
    (lambda a, h, b: float(right_count(a, h, b)), "whole number"),
    (lambda a, h, b: [][0], "raised IndexError"),
    (42, "give a function"),
])
def test_ex1_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex01.check_parameter_count(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex1_accepts_the_right_count(capsys):
    assert ex01.check_parameter_count(right_count)
    assert _verdict(capsys).startswith("[correct]")


# ----------------------------------------------------------------- exercise 2
def right_evaluate(model, x, y, batch_size):
    was = model.training
    model.eval()
    total, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            logits, yb = model(x[i:i + batch_size]), y[i:i + batch_size]
            total += nn.functional.cross_entropy(logits, yb, reduction="sum").item()
            correct += (logits.argmax(1) == yb).sum().item()
    model.train(was)
    return {"loss": total / len(x), "acc": correct / len(x)}


def _variant(*, mode="restore", loss_weight="len", acc_div="n", no_grad=True, backward=False):
    """right_evaluate with one of the classic mistakes switched on."""
    def fn(model, x, y, batch_size):
        was = model.training
        if mode != "train":
            model.eval()
        losses, sizes, correct = [], [], 0
        ctx = torch.no_grad() if no_grad else torch.enable_grad()
        with ctx:
            for i in range(0, len(x), batch_size):
                logits, yb = model(x[i:i + batch_size]), y[i:i + batch_size]
                loss = nn.functional.cross_entropy(logits, yb)
                if backward:
                    loss.backward()
                losses.append(loss.item() if no_grad or backward else loss)
                sizes.append(len(yb))
                correct += (logits.argmax(1) == yb).sum().item()
        if mode == "restore":
            model.train(was)
        n_batches = len(sizes)
        if loss_weight == "len":
            loss = sum(l * s for l, s in zip(losses, sizes)) / len(x)
        elif loss_weight == "batch_size":
            loss = sum(l * batch_size for l in losses) / len(x)
        else:  # mean of batch means
            loss = sum(losses) / n_batches
        acc = correct / (len(x) if acc_div == "n" else n_batches * batch_size)
        return {"loss": loss, "acc": acc}
    return fn


def test_ex2_not_attempted(capsys):
    def untouched(model, x, y, batch_size):
        raise NotImplementedError

    assert not ex01.check_evaluate(None)
    assert not ex01.check_evaluate(untouched)
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    (_variant(mode="leave_eval"), "restore it at the end"),
    (_variant(mode="train"), "dropout is still active"),
    (_variant(acc_div="batches"), "Count len(y) of each batch"),
    (_variant(loss_weight="batch_size"), "weight by len(y)"),
    (_variant(loss_weight="mean_of_means"), "plain average of the 5 batch means"),
    (_variant(no_grad=False), "still tracks gradients"),
    (_variant(no_grad=False, backward=True), "must not call backward()"),
    (lambda m, x, y, b: (0.5, 0.5), "return a dict"),
    (lambda m, x, y, b: {"loss": 1.0, "acc": 3.0}, "fraction in [0, 1]"),
])
def test_ex2_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex01.check_evaluate(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_accepts_the_right_function(capsys, device):
    assert ex01.check_evaluate(right_evaluate, device=device)
    assert _verdict(capsys).startswith("[correct]")


# ----------------------------------------------------------------- exercise 3
def test_ex3_curves_match_their_labels():
    """The generated curves must really look like what the answer key says they are."""
    curves = ex01.diagnosis_curves()
    gap = {k: va[-1] - tr[-1] for k, (_, tr, va) in curves.items()}
    assert gap["A"] > 0.3 and curves["A"][1][-1] < 0.1          # overfitting: low train error, big gap
    assert gap["B"] < 0.1 and curves["B"][2][-1] < 0.2          # good fit: small gap, low error
    assert gap["C"] < 0.1 and curves["C"][1][-1] > 0.5          # underfitting: small gap, high error
    assert curves["C"][1][-1] > curves["C"][1][0]               # its training error rises with data


def test_ex3_plot_has_three_labelled_panels():
    matplotlib.use("Agg")
    fig = ex01.plot_diagnosis_curves()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Model A", "Model B", "Model C"]
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes[:1])


def test_ex3_not_attempted(capsys):
    assert not ex01.check_diagnosis(None)
    assert not ex01.check_diagnosis({"A": None, "B": None, "C": None})
    assert _verdict(capsys).count("[not attempted]") == 2


@pytest.mark.parametrize("wrong, hint", [
    ({"A": "underfitting", "B": "good fit", "C": "underfitting"}, "model A is not underfitting"),
    ({"A": "overfitting", "B": "overfitting", "C": "underfitting"}, "both curves end close together AND low"),
    ({"A": "overfitting", "B": "good fit", "C": "good fit"}, "where does the TRAINING error end up"),
    ({"A": "overfitting", "B": "good fit"}, "missing ['C']"),
    ({"A": "overfitting", "B": "great", "C": "underfitting"}, "'great' is not one of"),
    (["overfitting"], "give a dict"),
])
def test_ex3_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex01.check_diagnosis(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_accepts_the_right_labels_in_any_spelling(capsys):
    assert ex01.check_diagnosis({"A": "overfitting", "B": "good fit", "C": "underfitting"})
    assert ex01.check_diagnosis({"A": "Over-fit", "B": "good_fit", "C": " UNDERFITTING "})
    assert _verdict(capsys).count("[correct]") == 2


def test_ex3_answer_key_is_consistent():
    assert set(ex01.DIAGNOSES) == {"underfitting", "overfitting", "good fit"}
    assert np.all([len(v[0]) == len(v[1]) == len(v[2]) for v in ex01.diagnosis_curves().values()])


# ----------------------------------------------------------------- the training loop
def _student_loop(zero_grad=True, reshuffle=True, weighted=True, shuffle=True, in_place=True):
    def train(model, x, y, epochs, batch_size, lr, generator):
        net = model if in_place else copy.deepcopy(model)
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        order = None if reshuffle else torch.randperm(len(x), generator=generator)
        losses = []
        for _ in range(epochs):
            if reshuffle:
                order = torch.randperm(len(x), generator=generator)
            idx_all = order if shuffle else torch.arange(len(x))
            total, means = 0.0, []
            for start in range(0, len(x), batch_size):
                idx = idx_all[start:start + batch_size]
                if zero_grad:
                    opt.zero_grad()
                loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
                means.append(loss.item())
            losses.append(total / len(x) if weighted else sum(means) / len(means))
        return losses
    return train


def test_training_loop_right_answer_passes(capsys):
    assert ex01.check_training_loop(_student_loop())
    assert "[correct]" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, hint", [
    (dict(zero_grad=False), "zero_grad"),
    (dict(weighted=False), "plain average of the batch means"),
    (dict(shuffle=False), "stored order"),
    (dict(reshuffle=False), "shuffled once"),
    (dict(in_place=False), "final weights differ"),
])
def test_training_loop_typical_slips_get_their_hint(kwargs, hint, capsys):
    assert not ex01.check_training_loop(_student_loop(**kwargs))
    out = capsys.readouterr().out
    assert out.startswith("[wrong]") and hint in out


def test_training_loop_not_attempted_and_bad_returns(capsys):
    def stub(*args):
        raise NotImplementedError

    assert ex01.check_training_loop(None).status == "not attempted"
    assert ex01.check_training_loop(stub).status == "not attempted"
    assert not ex01.check_training_loop(lambda *a: 0.5)
    assert "one mean training loss per epoch" in capsys.readouterr().out
    assert not ex01.check_training_loop(lambda *a: [1.0, 1.0, 1.0])
    assert "epoch 1: your mean training loss is 1.00000" in capsys.readouterr().out
