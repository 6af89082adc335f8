import pytest
import torch

from course_lib.profile import PROFILES, Setup, get_profile, setup_notebook


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


# ----------------------------------------------------------------- dry run of the full profile
def _setup(monkeypatch, profile, **env):
    """setup_notebook on the CPU with the given COURSE_* variables (others unset), quietly."""
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setenv("COURSE_NUM_THREADS", str(torch.get_num_threads()))  # leave the thread count alone
    for name in ("COURSE_DRY_RUN", "COURSE_MAX_EPOCHS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return setup_notebook(seed=0, profile=profile, deterministic=False, style=False, verbose=False)


def test_dry_run_is_off_unless_asked(monkeypatch):
    assert not _setup(monkeypatch, "full").dry_run
    assert not _setup(monkeypatch, "full", COURSE_DRY_RUN="0").dry_run
    ctx = _setup(monkeypatch, "full", COURSE_DRY_RUN=" True ")
    assert ctx.dry_run and ctx.full and ctx.max_epochs == 2


def test_dry_run_only_applies_to_the_full_profile(monkeypatch):
    ctx = _setup(monkeypatch, "fast", COURSE_DRY_RUN="1")
    assert not ctx.dry_run and ctx.epochs(fast=3, full=50) == 3
    with pytest.raises(AssertionError, match="asserted in the fast profile"):
        ctx.claim(False, "asserted in the fast profile")


def test_dry_run_argument_overrides_the_environment(monkeypatch):
    _setup(monkeypatch, "full", COURSE_DRY_RUN="1")  # sets the environment up
    quiet = dict(deterministic=False, style=False, verbose=False)
    assert not setup_notebook(seed=0, profile="full", dry_run=False, **quiet).dry_run
    monkeypatch.delenv("COURSE_DRY_RUN")
    assert setup_notebook(seed=0, profile="full", dry_run=True, **quiet).dry_run
    assert not setup_notebook(seed=0, profile="fast", dry_run=True, **quiet).dry_run


def test_bad_dry_run_settings_say_what_is_wrong(monkeypatch):
    with pytest.raises(ValueError, match="COURSE_DRY_RUN must be 1 or 0 .* got 'maybe'"):
        _setup(monkeypatch, "full", COURSE_DRY_RUN="maybe")
    for bad in ("0", "-1", "two"):
        with pytest.raises(ValueError, match=f"COURSE_MAX_EPOCHS must be a positive integer, got '{bad}'"):
            _setup(monkeypatch, "full", COURSE_DRY_RUN="1", COURSE_MAX_EPOCHS=bad)
    # outside a dry run the cap is not read, so a stale value cannot break a normal run
    assert _setup(monkeypatch, "full", COURSE_MAX_EPOCHS="two").epochs(fast=1, full=9) == 9


def test_epochs_follow_the_profile_and_are_capped_in_a_dry_run(monkeypatch):
    assert _setup(monkeypatch, "fast").epochs(fast=20, full=100) == 20
    assert _setup(monkeypatch, "full").epochs(fast=20, full=100) == 100
    dry = _setup(monkeypatch, "full", COURSE_DRY_RUN="1")
    assert dry.epochs(fast=20, full=100) == 2 and dry.epochs(fast=20, full=1) == 1
    assert dry.pick(fast=20, full=100) == 100, "pick is not capped"
    assert _setup(monkeypatch, "full", COURSE_DRY_RUN="1", COURSE_MAX_EPOCHS="5").epochs(fast=3, full=100) == 5


@pytest.mark.parametrize("fast, full", [(0, 10), (10, -1), (2.5, 10), (10, True), (10, "20")])
def test_epochs_must_be_positive_ints(fast, full):
    ctx = Setup(profile="fast", device=torch.device("cpu"), seed=0)
    with pytest.raises(ValueError, match="must be a positive number of epochs"):
        ctx.epochs(fast=fast, full=full)


def test_claim_asserts_in_a_normal_run(capsys):
    for profile in PROFILES:
        ctx = Setup(profile=profile, device=torch.device("cpu"), seed=0)
        assert ctx.claim(torch.tensor(0.9) > 0.5, "accuracy above 0.5") is None
        with pytest.raises(AssertionError, match=r"^accuracy 0.300 is too low$"):
            ctx.claim(0.3 > 0.5, "accuracy 0.300 is too low")
    assert capsys.readouterr().out == "", "a normal run prints nothing for a claim"


def test_claim_reports_in_a_dry_run(capsys):
    ctx = Setup(profile="full", device=torch.device("cpu"), seed=0, dry_run=True)
    assert ctx.claim(torch.tensor(True), "holds") is None
    assert ctx.claim(0.3 > 0.97, "test accuracy 0.300 <= 0.97") is None
    out = capsys.readouterr().out.splitlines()
    assert out == ["[dry run] claim holds: holds", "[dry run, not asserted] test accuracy 0.300 <= 0.97"]


def test_setup_line_announces_a_dry_run(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setenv("COURSE_NUM_THREADS", str(torch.get_num_threads()))
    monkeypatch.setenv("COURSE_DRY_RUN", "1")
    monkeypatch.setenv("COURSE_MAX_EPOCHS", "3")
    setup_notebook(seed=0, profile="full", deterministic=False, style=False)
    assert "profile=full" in (out := capsys.readouterr().out) and "DRY RUN: epochs capped at 3" in out
    setup_notebook(seed=0, profile="fast", deterministic=False, style=False)
    assert "DRY RUN" not in capsys.readouterr().out


def test_setup_rng_gives_independent_reproducible_generators():
    from course_lib.profile import setup_notebook

    ctx = setup_notebook(seed=3, verbose=False, style=False)
    a = torch.rand(4, generator=ctx.rng())
    torch.rand(100)  # the global generator moving on changes nothing
    assert torch.equal(a, torch.rand(4, generator=ctx.rng()))
    assert torch.equal(torch.rand(4, generator=ctx.rng(7)), torch.rand(4, generator=torch.Generator().manual_seed(7)))
    with pytest.raises(TypeError, match="seed must be a non-negative int, got str '1'"):
        ctx.rng("1")
