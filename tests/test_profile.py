import pytest
import torch

from course_lib.profile import PROFILES, get_profile, setup_notebook


def test_default_profile_is_fast(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert get_profile() == "fast"


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", " FULL ")
    assert get_profile() == "full"


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "medium")
    with pytest.raises(ValueError, match="unknown COURSE_PROFILE 'medium'; choose one of fast, full"):
        get_profile()
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        get_profile("huge")


def test_setup_notebook_seeds_and_picks(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    ctx = setup_notebook(seed=7, deterministic=False)
    first = torch.rand(2)
    assert "profile=fast" in capsys.readouterr().out
    assert ctx.pick(fast=1, full=2) == 1 and not ctx.full
    assert ctx.device == torch.device("cpu") and ctx.seed == 7
    ctx2 = setup_notebook(seed=7, profile="full", deterministic=False, verbose=False)
    assert torch.equal(torch.rand(2), first)
    assert ctx2.full and ctx2.pick(fast=1, full=2) == 2
    assert set(PROFILES) == {"fast", "full"}
