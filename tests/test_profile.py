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


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_fast_profile_on_cpu_uses_one_thread_unless_told(monkeypatch, capsys, restore_threads):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.delenv("COURSE_NUM_THREADS", raising=False)
    torch.set_num_threads(2)
    setup_notebook(seed=0, profile="fast", deterministic=False, style=False)
    assert torch.get_num_threads() == 1
    assert "device=cpu (1 thread)" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_NUM_THREADS", "2")
    setup_notebook(seed=0, profile="fast", deterministic=False, style=False)
    assert torch.get_num_threads() == 2
    assert "device=cpu (2 threads)" in capsys.readouterr().out


def test_full_profile_keeps_pytorchs_thread_count(monkeypatch, restore_threads):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.delenv("COURSE_NUM_THREADS", raising=False)
    torch.set_num_threads(2)
    setup_notebook(seed=0, profile="full", deterministic=False, style=False, verbose=False)
    assert torch.get_num_threads() == 2
