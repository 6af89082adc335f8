"""tools/numerics_matrix.py: which settings a CPU can run, one real run of a small notebook, the table."""

import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import numerics_matrix as nm  # noqa: E402


def test_every_setting_is_a_kernel_choice_or_a_seed_offset():
    known = {"ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA", "COURSE_SEED_OFFSET"}
    assert all(set(env) <= known for env in nm.SETTINGS.values())
    assert set(nm.CI_SETTINGS) <= set(nm.SETTINGS) and set(nm.DEFAULT_SETTINGS) <= set(nm.SETTINGS)
    # CI's offset is one the full table does not use: nobody tunes a notebook on it
    ci_offsets = {s for s in nm.CI_SETTINGS if s.startswith("offset")}
    assert ci_offsets and not ci_offsets & set(nm.DEFAULT_SETTINGS)
    assert nm.SETTINGS["generic"] == {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}


def test_settings_this_cpu_cannot_run_are_named_with_the_reason():
    def probe(env):  # a CPU whose best ATen kernels are AVX2, with MKL
        return {"cap": "AVX2" if env.get("ATEN_CPU_CAPABILITY", "avx2") != "default" else "DEFAULT", "mkl": True}

    flags = {"avx", "avx2", "fma"}
    assert nm.unsupported("aten-avx512", flags, probe) == \
        "ATEN_CPU_CAPABILITY=avx512 asked for, but this CPU runs AVX2 kernels"
    assert nm.unsupported("aten-default", flags, probe) is None
    assert nm.unsupported("mkl-avx2", flags, probe) is None
    assert nm.unsupported("offset1", flags, probe) is None
    assert "needs avx2, which this CPU lacks" in nm.unsupported("onednn-avx2", {"avx"}, probe)
    assert nm.unsupported("mkl-compatible", flags, lambda env: {"cap": "DEFAULT", "mkl": False}) == \
        "this torch has no MKL, so MKL_CBWR changes nothing"


SOURCE = [
    "from course_lib import setup_notebook\nctx = setup_notebook(seed=0)\nimport torch",
    "ctx.claim(0.9, '>', 0.5, 'holds with room')\nctx.claim(0.51, '>', 0.5, 'a knife edge')",
    "ctx.claim(float(torch.rand(1, generator=ctx.rng(1))), '>', 2.0, 'never holds')",
    "# NBVAL_CHECK_OUTPUT\nprint('stable')",
    "# NBVAL_CHECK_OUTPUT\nprint(round(float(torch.rand(1, generator=ctx.rng(0))), 3))",
    "raise RuntimeError('a broken cell')",
]


@pytest.fixture(scope="module")
def small_notebook(tmp_path_factory):
    path = tmp_path_factory.mktemp("nb") / "99_small.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in SOURCE])
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="stable\n")]
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.123\n")]  # not what it prints
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("setting", ["native", "offset1"])
def test_a_run_records_every_claim_errors_and_changed_checked_output(small_notebook, setting):
    run = nm.run_one(small_notebook, setting, timeout=120)
    assert [c["message"] for c in run.claims] == ["holds with room", "a knife edge", "never holds"]
    assert [c["holds"] for c in run.claims] == [True, True, False], "a failing claim is recorded, the run goes on"
    assert run.smallest == pytest.approx(min(c["relative_margin"] for c in run.claims)) and run.smallest < 0
    assert any("a broken cell" in e for e in run.errors)
    assert not run.ok and nm.cell(run).startswith("ERROR")
    # checked output: compared for the kernel settings (seeds as written), not under a seed offset
    assert run.output_diffs == ([5] if setting == "native" else [])


def test_the_table_marks_failures_and_the_smallest_margin():
    good = nm.Run("01_x", "native", claims=[{"holds": True, "relative_margin": 0.4, "message": "a", "value": 1.4,
                                              "op": ">", "bound": 1.0}])
    bad = nm.Run("01_x", "generic", claims=[{"holds": False, "relative_margin": -0.1, "message": "b", "value": 0.9,
                                              "op": ">", "bound": 1.0}])
    text = nm.table([good, bad], ["01_x"], ["native", "generic", "aten-avx512"], {"aten-avx512": "no AVX-512"})
    header, row = text.splitlines()
    assert "aten-avx512" not in header and "native" in header and "generic" in header
    assert "ok +40%" in row and "FAIL1 -10%" in row and row.endswith("-10%")
    assert any("FAIL 0.9 > 1  margin -10.0%  b" in line for line in nm.details([good, bad]))
