import json
import math

import pytest
import torch

from course_lib.profile import Claim, PROFILES, Setup, get_profile, setup_notebook


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
        ctx.claim(0.2, ">", 0.5, "asserted in the fast profile")


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


def test_claim_asserts_in_a_normal_run(capsys, monkeypatch):
    monkeypatch.delenv("COURSE_CLAIMS", raising=False)
    monkeypatch.delenv("COURSE_CLAIM_LOG", raising=False)
    for profile in PROFILES:
        ctx = Setup(profile=profile, device=torch.device("cpu"), seed=0)
        assert ctx.claim(torch.tensor(0.9), ">", 0.5, "accuracy above 0.5") is None
        with pytest.raises(AssertionError, match=r"^accuracy 0.300 is too low$"):
            ctx.claim(0.3, ">", 0.5, "accuracy 0.300 is too low")
        with pytest.raises(AssertionError, match="equal is not above"):
            ctx.claim(0.5, ">", 0.5, "equal is not above")
        ctx.claim(0.5, ">=", 0.5, "equal is at least")
        with pytest.raises(AssertionError, match="NaN never holds"):
            ctx.claim(float("nan"), "<", 1.0, "NaN never holds")
        ctx.claim(math.inf, ">", 0.5, "a diverged run's loss is above any bound")
        with pytest.raises(AssertionError, match="but not below one"):
            ctx.claim(math.inf, "<", 0.5, "but not below one")
    assert ctx.claims[-2].relative_margin == math.inf and ctx.claims[-1].relative_margin == -math.inf
    assert capsys.readouterr().out == "", "a normal run prints nothing for a claim"


def test_claim_records_value_bound_and_margin():
    ctx = Setup(profile="fast", device=torch.device("cpu"), seed=0)
    ctx.claim(0.904 - 0.742, ">", 0.08, "L2 raises validation accuracy")
    ctx.claim(torch.tensor(0.6), "<", 0.8, "the ratio is small")
    ctx.claim(0.01, ">", 0.0, "positive", scale=0.05)
    up, down, zero = ctx.claims
    assert isinstance(up, Claim) and up.holds and up.op == ">" and up.bound == 0.08
    assert up.margin == pytest.approx(0.082) and up.relative_margin == pytest.approx(0.082 / 0.08)
    assert down.value == pytest.approx(0.6) and down.margin == pytest.approx(0.2)
    assert down.relative_margin == pytest.approx(0.25)
    assert zero.relative_margin == pytest.approx(0.2) and zero.scale == 0.05
    assert "margin +0.082" in up.describe()


def test_claim_failing_margin_is_negative_and_record_mode_carries_on(monkeypatch, tmp_path, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS", "record")
    monkeypatch.setenv("COURSE_CLAIM_LOG", str(log))
    ctx = Setup(profile="fast", device=torch.device("cpu"), seed=0)
    ctx.claim(0.02, ">", 0.03, "cyclic should beat the constant rate")   # fails, recorded, no raise
    ctx.claim(3.0, "<=", 4.0, "at most four")
    assert "[claim fails, recorded] cyclic should beat the constant rate" in capsys.readouterr().out
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["holds"] for r in rows] == [False, True]
    assert rows[0]["relative_margin"] == pytest.approx(-1 / 3) and rows[1]["relative_margin"] == pytest.approx(0.25)
    assert rows[0]["message"] == "cyclic should beat the constant rate"


def test_bad_claims_say_what_is_wrong(monkeypatch):
    ctx = Setup(profile="fast", device=torch.device("cpu"), seed=0)
    with pytest.raises(TypeError, match=r"ctx.claim\(value, op, bound, message\)"):
        ctx.claim(0.9, ">", 0.5)
    with pytest.raises(TypeError, match=r"ctx.claim\(condition, message\) records no margin"):
        ctx.claim(0.9 > 0.5, "the condition form is refused: it has no margin to report")
    assert ctx.claims == [], "a refused claim is not recorded"
    with pytest.raises(ValueError, match="claim op must be one of >, >=, <, <=, got '=='"):
        ctx.claim(1.0, "==", 1.0, "equal")
    with pytest.raises(ValueError, match="a bound of 0 has no relative margin; give scale="):
        ctx.claim(0.1, ">", 0, "above zero")
    with pytest.raises(ValueError, match="claim scale must be positive"):
        ctx.claim(0.1, ">", 0, "above zero", scale=0)
    with pytest.raises(TypeError, match="claim value must be a real number, got str"):
        ctx.claim("0.9", ">", 0.5, "a string")
    with pytest.raises(ValueError, match=r"claim value must be one number, got a tensor of shape \(2,\)"):
        ctx.claim(torch.ones(2), ">", 0.5, "two numbers")
    monkeypatch.setenv("COURSE_CLAIMS", "sometimes")
    with pytest.raises(ValueError, match="COURSE_CLAIMS must be 'assert' or 'record', got 'sometimes'"):
        setup_notebook(seed=0, deterministic=False, style=False, verbose=False)


def test_claim_reports_in_a_dry_run(capsys):
    ctx = Setup(profile="full", device=torch.device("cpu"), seed=0, dry_run=True)
    assert ctx.claim(torch.tensor(0.99), ">", 0.5, "holds") is None
    assert ctx.claim(0.3, ">", 0.97, "test accuracy 0.300 <= 0.97") is None
    out = capsys.readouterr().out.splitlines()
    assert out == ["[dry run] claim holds: holds", "[dry run, not asserted] test accuracy 0.300 <= 0.97"]
    assert [c.holds for c in ctx.claims] == [True, False]


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


# ----------------------------------------------------------------- unseen seeds: COURSE_SEED_OFFSET
def _draws(monkeypatch, offset):
    """Every kind of seeded draw a notebook makes, under COURSE_SEED_OFFSET=offset."""
    from course_lib.baseline import load_baseline
    from course_lib.data import load_dataset
    from course_lib.models import mlp
    from course_lib.training import fit

    if offset is None:
        monkeypatch.delenv("COURSE_SEED_OFFSET", raising=False)
    else:
        monkeypatch.setenv("COURSE_SEED_OFFSET", str(offset))
    ctx = setup_notebook(seed=0, deterministic=False, style=False, verbose=False)
    moons = load_dataset("moons", n_samples=100, seed=1)
    base = load_baseline("fast", seed=1)
    net = mlp(2, [4], 2, generator=ctx.rng(5))
    w0 = torch.cat([p.detach().flatten() for p in net.parameters()])
    h = fit(net, moons.train, epochs=1, batch_size=8, lr=0.1, seed=3)
    return {"global": torch.rand(3), "rng": torch.rand(3, generator=ctx.rng(2)), "init": w0,
            "moons": moons.train.x, "baseline_split": base.train.x, "baseline_noise": base.train.y,
            "batches": torch.tensor(h.train_loss), "offset": ctx.seed_offset}


def test_seed_offset_moves_every_seeded_draw_and_zero_changes_nothing(monkeypatch):
    plain, zero, one, again, two = (_draws(monkeypatch, k) for k in (None, 0, 1, 1, 2))
    for key in plain:
        if key == "offset":
            continue
        assert torch.equal(plain[key], zero[key]), f"offset 0 must keep {key} as written"
        assert torch.equal(one[key], again[key]), f"offset 1 must be reproducible ({key})"
        assert not torch.equal(plain[key], one[key]), f"offset 1 must move {key}"
        assert not torch.equal(one[key], two[key]), f"offsets 1 and 2 must differ ({key})"
    assert (plain["offset"], one["offset"], two["offset"]) == (0, 1, 2)


def test_shifted_seeds_never_meet_the_written_ones(monkeypatch):
    from course_lib.device import shifted_seed

    monkeypatch.setenv("COURSE_SEED_OFFSET", "3")
    written = set(range(1000))
    shifted = {shifted_seed(s) for s in written}
    assert not shifted & written and len(shifted) == len(written) and max(shifted) < 2**32
    monkeypatch.setenv("COURSE_SEED_OFFSET", "0")
    assert shifted_seed(17) == 17


@pytest.mark.parametrize("bad", ["-1", "one", "1.5"])
def test_bad_seed_offset_says_what_is_wrong(monkeypatch, bad):
    monkeypatch.setenv("COURSE_SEED_OFFSET", bad)
    with pytest.raises(ValueError, match=f"COURSE_SEED_OFFSET must be a non-negative integer, got '{bad}'"):
        setup_notebook(seed=0, deterministic=False, style=False, verbose=False)


def test_setup_line_names_the_seed_offset(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setenv("COURSE_NUM_THREADS", str(torch.get_num_threads()))
    monkeypatch.setenv("COURSE_SEED_OFFSET", "4")
    setup_notebook(seed=0, deterministic=False, style=False)
    assert "seed=0 (COURSE_SEED_OFFSET=4: every seed shifted)" in capsys.readouterr().out
    monkeypatch.delenv("COURSE_SEED_OFFSET")
    setup_notebook(seed=0, deterministic=False, style=False)
    assert "OFFSET" not in capsys.readouterr().out
