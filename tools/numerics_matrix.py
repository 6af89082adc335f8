"""Execute every notebook under several numerical settings and seed offsets: do its claims hold?

Machines round differently. PyTorch picks its own CPU kernels by instruction set (ATen:
``ATEN_CPU_CAPABILITY``), its BLAS (MKL: ``MKL_CBWR``) and oneDNN (``ONEDNN_MAX_CPU_ISA``) pick
theirs, and a GPU differs again. A rounding difference early in a training run acts like a change
of seed, so a claim that holds only for the seeds it was written on fails on somebody's laptop.
This tool runs each notebook (fast profile, from its source in ``notebooks/src/``, nothing written)
under each setting, with ``COURSE_CLAIMS=record`` so that one run finds every failing claim, and
prints a table: notebook x setting -> pass or FAIL and the smallest relative margin of its claims
(``ctx.claim``'s margin: how far a value lies on the right side of its bound, as a share of the
bound). Settings with ``COURSE_SEED_OFFSET=k`` run the notebook on seeds nobody tuned it on.

For the settings that keep the seeds (offset 0) it also compares the output of every
``# NBVAL_CHECK_OUTPUT`` cell with the stored notebook, as nbval does in ``make test``: such a cell
must print the same under every kernel set.

Usage::

    python tools/numerics_matrix.py                         # every notebook, every setting
    python tools/numerics_matrix.py 08 11 --settings native generic offset1
    python tools/numerics_matrix.py --ci                    # the slice CI runs: generic, avx2, offset 7
    python tools/numerics_matrix.py --list                  # the settings, and which this CPU cannot run
    python tools/numerics_matrix.py 03 --claims             # every claim of every run with its margin

Two notebooks run at a time (``--jobs``), each on one thread. The exit status is 1 when a claim
failed or a notebook raised under a setting this CPU can run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_notebooks import SRC_DIR, parse_source, to_notebook  # noqa: E402
from dry_run_full import find_notebooks, run_notebook  # noqa: E402

AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
SETTINGS: dict[str, dict[str, str]] = {
    "native": {},                                              # what this machine picks
    "aten-avx512": {"ATEN_CPU_CAPABILITY": "avx512"},
    "aten-avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl-avx2": {"MKL_CBWR": "AVX2"},
    "mkl-compatible": {"MKL_CBWR": "COMPATIBLE"},
    "onednn-avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx2": AVX2,                                              # all three at AVX2
    "generic": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"},
    **{f"offset{k}": {"COURSE_SEED_OFFSET": str(k)} for k in range(1, 8)},
}
# aten-avx512 is what an AVX-512 machine picks anyway (native there); offsets 6 and 7 are kept unseen
DEFAULT_SETTINGS = [name for name in SETTINGS if name not in ("aten-avx512", "offset6", "offset7")]
CI_SETTINGS = ["generic", "avx2", "offset7"]  # offset 7: a shift the full table does not use
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ------------------------------------------------------------------------------ what this CPU can run
def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith(("flags", "Features"))), "")
    return set(line.split(":", 1)[-1].split())


def _probe(env: dict[str, str]) -> dict:
    code = ("import json, torch; print(json.dumps({'cap': torch.backends.cpu.get_cpu_capability(), "
            "'mkl': torch.backends.mkl.is_available(), 'mkldnn': torch.backends.mkldnn.is_available()}))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def unsupported(name: str, flags: set[str] | None = None, probe=_probe) -> str | None:
    """Why this machine cannot run setting ``name`` (a sentence), or None when it can."""
    env = SETTINGS[name]
    flags = cpu_flags() if flags is None else flags
    want = env.get("ATEN_CPU_CAPABILITY")
    if want:
        got = probe({"ATEN_CPU_CAPABILITY": want})
        if "error" in got:
            return f"torch does not start with ATEN_CPU_CAPABILITY={want}: {got['error']}"
        if got["cap"].lower() != want.lower():
            return f"ATEN_CPU_CAPABILITY={want} asked for, but this CPU runs {got['cap']} kernels"
    needs = {"avx2": "avx2", "avx512": "avx512f"}
    for var in ("MKL_CBWR", "ONEDNN_MAX_CPU_ISA"):
        value = env.get(var)
        if not value:
            continue
        if var == "MKL_CBWR" and not probe({}).get("mkl", False):
            return "this torch has no MKL, so MKL_CBWR changes nothing"
        flag = needs.get(value.lower())
        if flag and flags and flag not in flags:
            return f"{var}={value} needs {flag}, which this CPU lacks"
    return None


# ------------------------------------------------------------------------------ one run
@dataclass
class Run:
    notebook: str
    setting: str
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)          # cells that raised
    claims: list[dict] = field(default_factory=list)         # ctx.claim records
    output_diffs: list[int] = field(default_factory=list)    # NBVAL_CHECK_OUTPUT cells that differ

    @property
    def failed_claims(self) -> list[dict]:
        return [c for c in self.claims if not c["holds"]]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed_claims

    @property
    def smallest(self) -> float | None:
        margins = [c["relative_margin"] for c in self.claims if c["relative_margin"] == c["relative_margin"]]
        return min(margins, default=None)  # claims given as a bare condition (NaN margin) are left out


def source_notebook(stored: Path) -> nbformat.NotebookNode:
    """The notebook built from its source (``notebooks/src/NN_topic.py``), or the stored one if it has none."""
    src = SRC_DIR / (stored.stem + ".py")
    return to_notebook(parse_source(src.read_text())) if src.is_file() else nbformat.read(stored, as_version=4)


def _sanitizers() -> list[tuple[re.Pattern, str]]:
    text = (ROOT / "tests" / "nbval_sanitize.cfg").read_text()
    pairs = re.findall(r"^regex: (.*)\nreplace: (.*)$", text, flags=re.M)
    return [(re.compile(rx), rep) for rx, rep in pairs]


def _checked_text(cell, subs) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            parts.append("".join(o.get("text", "")))
        elif o.get("output_type") in ("execute_result", "display_data"):
            parts.append("".join(o.get("data", {}).get("text/plain", "")))
    text = ANSI.sub("", "".join(parts))
    for rx, rep in subs:
        text = rx.sub(rep, text)
    return text


def output_differences(executed: nbformat.NotebookNode, stored: nbformat.NotebookNode) -> list[int]:
    """Code-cell numbers (1-based) of ``# NBVAL_CHECK_OUTPUT`` cells whose text differs from the stored one."""
    subs = _sanitizers()
    ran = [c for c in executed.cells if c.cell_type == "code"]
    kept = [c for c in stored.cells if c.cell_type == "code"]
    return [i for i, (a, b) in enumerate(zip(ran, kept), 1)
            if "NBVAL_CHECK_OUTPUT" in a.source and _checked_text(a, subs) != _checked_text(b, subs)]


def run_one(stored: Path, setting: str, timeout: float) -> Run:
    with tempfile.TemporaryDirectory(prefix="course-matrix-") as tmp:
        log = Path(tmp) / "claims.jsonl"
        nb_path = Path(tmp) / stored.name
        nbformat.write(source_notebook(stored), nb_path)
        env = {k: v for k, v in os.environ.items() if k not in ("COURSE_SEED_OFFSET", "COURSE_NUM_THREADS",
                                                                 "COURSE_DEVICE", *AVX2)}
        env.update(COURSE_PROFILE="fast", COURSE_DRY_RUN="0", COURSE_CLAIMS="record", COURSE_CLAIM_LOG=str(log),
                   COURSE_PROGRESS="0", MPLBACKEND="Agg", COURSE_DEVICE="cpu", **SETTINGS[setting])
        result = run_notebook(nb_path, env, timeout=timeout, keep_going=True, workdir=stored.parent)
        run = Run(stored.stem, setting, result.seconds, [f.summary for f in result.failures])
        if log.exists():
            run.claims = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        if "COURSE_SEED_OFFSET" not in SETTINGS[setting] and result.executed is not None:
            run.output_diffs = output_differences(result.executed, nbformat.read(stored, as_version=4))
        return run


# ------------------------------------------------------------------------------ the table
def cell(run: Run) -> str:
    small = run.smallest
    margin = "" if small is None else f" {small:+.0%}"
    if run.errors:
        return "ERROR" + margin
    return ("ok" if run.ok else f"FAIL{len(run.failed_claims)}") + margin


def table(runs: list[Run], notebooks: list[str], settings: list[str], skipped: dict[str, str]) -> str:
    by = {(r.notebook, r.setting): r for r in runs}
    cols = [s for s in settings if s not in skipped]
    width = max(10, *(len(s) for s in cols))
    lines = ["notebook".ljust(34) + "".join(s.rjust(width + 1) for s in cols) + "  smallest"]
    for nb in notebooks:
        row = [by[nb, s] for s in cols if (nb, s) in by]
        margins = [r.smallest for r in row if r.smallest is not None]
        lines.append(nb.ljust(34) + "".join(cell(by[nb, s]).rjust(width + 1) if (nb, s) in by else "-".rjust(width + 1)
                                            for s in cols)
                     + (f"  {min(margins):+.0%}" if margins else ""))
    return "\n".join(lines)


def details(runs: list[Run], every_claim: bool = False) -> list[str]:
    lines = []
    for r in runs:
        shown = r.claims if every_claim else r.failed_claims
        if not (shown or r.errors or r.output_diffs):
            continue
        lines.append(f"{r.notebook} [{r.setting}] ({r.seconds:.0f} s):")
        lines += [f"  raised: {e}" for e in r.errors]
        for c in shown:
            mark = "ok  " if c["holds"] else "FAIL"
            lines.append(f"  {mark} {c['value']:.4g} {c['op']} {c['bound']:.4g}  margin {c['relative_margin']:+.1%}  "
                         f"{c['message']}")
        if r.output_diffs:
            lines.append(f"  NBVAL_CHECK_OUTPUT cells printing other text than the stored notebook: code cells "
                         f"{', '.join(map(str, r.output_diffs))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook paths or name prefixes (default: all)")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=None,
                        help=f"settings to run (default: {' '.join(DEFAULT_SETTINGS)})")
    parser.add_argument("--ci", action="store_true", help=f"the slice CI runs: {' '.join(CI_SETTINGS)}")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at a time (default 2)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a notebook may take (default 600)")
    parser.add_argument("--claims", action="store_true", help="list every claim of every run, not only failures")
    parser.add_argument("--json", type=Path, default=None, help="also write every run's record to this file")
    parser.add_argument("--list", action="store_true", help="list the settings and which this CPU cannot run")
    args = parser.parse_args(argv)
    settings = CI_SETTINGS if args.ci else (args.settings or DEFAULT_SETTINGS)
    flags = cpu_flags()
    skipped = {s: why for s in settings if (why := unsupported(s, flags))}
    if args.list:
        for s in SETTINGS:
            why = unsupported(s, flags)
            env = " ".join(f"{k}={v}" for k, v in SETTINGS[s].items()) or "(as the machine picks)"
            print(f"{s:15s} {env}" + (f"  -- cannot run here: {why}" if why else ""))
        return 0
    import torch

    print(f"torch {torch.__version__}; this CPU's ATen kernels: {torch.backends.cpu.get_cpu_capability()}; "
          f"MKL: {torch.backends.mkl.is_available()}", flush=True)
    for s, why in skipped.items():
        print(f"setting {s} skipped: {why}", flush=True)
    notebooks = find_notebooks(args.notebooks)
    jobs = [(nb, s) for s in settings if s not in skipped for nb in notebooks]
    started = time.monotonic()
    runs: list[Run] = []

    def one(job):
        run = run_one(job[0], job[1], args.timeout)
        print(f"  {run.notebook} [{run.setting}]: {cell(run)} ({run.seconds:.0f} s)", flush=True)
        return run

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        runs = list(pool.map(one, jobs))
    print()
    print(table(runs, [nb.stem for nb in notebooks], settings, skipped))
    print("\ncell: ok / FAILn (n claims failed) / ERROR (a cell raised), then the smallest relative margin of "
          "the run's claims")
    lines = details(runs, args.claims)
    if lines:
        print("\n" + "\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in runs], indent=1))
    bad = [r for r in runs if not r.ok]
    diffs = [r for r in runs if r.output_diffs]
    n_claims = sum(len(r.claims) for r in runs)
    print(f"\n{len(runs) - len(bad)} of {len(runs)} runs passed ({n_claims} claims checked) in "
          f"{time.monotonic() - started:.0f} s" + (f"; {len(diffs)} run(s) printed other text in checked cells"
                                                   if diffs else ""))
    return 1 if bad or diffs else 0


if __name__ == "__main__":
    sys.exit(main())
