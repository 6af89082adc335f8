"""Execute the notebooks in the full profile on offline stand-in data: a dry run.

``COURSE_PROFILE=full`` switches every notebook to MNIST, Fashion-MNIST and CIFAR-10 and to
longer runs. Without internet those datasets cannot be fetched, so this script writes small
stand-ins in the datasets' own file formats (``tools/standin_data.py``) into a temporary
``COURSE_DATA`` folder and executes each notebook there with::

    COURSE_PROFILE=full COURSE_DRY_RUN=1 COURSE_DATA=<stand-ins> COURSE_PROGRESS=0 MPLBACKEND=Agg

The data goes through the course's real loading code (``course_lib.data.load_dataset`` and
``torchvision.datasets``); ``COURSE_DRY_RUN=1`` caps the epoch counts that notebooks take from
``ctx.epochs(...)`` at ``COURSE_MAX_EPOCHS`` (default 2) and makes ``ctx.claim(...)`` report a
claim that depends on the real data instead of asserting it (see ``course_lib/profile.py``).
Every cell must still run without an error: a dry run shows that the full profile's code works,
not what it measures.

The executed notebooks are not written anywhere. For each notebook the script prints the time
and OK, or the failing cell (its number, source and traceback; with ``--keep-going`` every
failing cell); then how many claims held, the ones that did not (reported, not asserted),
and the slowest cells. The exit status is 1 when any notebook failed.

Usage::

    python tools/dry_run_full.py                       # every notebooks/NN_*.ipynb
    python tools/dry_run_full.py 01 notebooks/03_dropout.ipynb
    python tools/dry_run_full.py --timeout 180         # give up on a notebook after 3 minutes
    python tools/dry_run_full.py --keep-going          # every failing cell, not just the first
    python tools/dry_run_full.py --data DIR            # stand-ins written (once) into DIR, kept
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tools"))
from standin_data import MANIFEST, write_standins  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DEFAULT_TIMEOUT = 600  # seconds a notebook may take


@dataclass
class Failure:
    """A cell that raised, or that was running when the notebook's time ran out."""

    cell: int       # 1-based position among all cells, markdown included
    code_cell: int  # 1-based position among the code cells
    summary: str    # one line: the exception, or the timeout
    detail: str     # the cell's source and the traceback


@dataclass
class Result:
    """The outcome of one notebook's dry run."""

    notebook: Path
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)               # the "[dry run ...]" lines it printed
    cell_seconds: dict[int, float] = field(default_factory=dict)  # cell number -> seconds
    executed: nbformat.NotebookNode | None = None                  # the notebook with its new outputs

    @property
    def ok(self) -> bool:
        return not self.failures

    def slowest(self, n: int = 3) -> list[tuple[int, float]]:
        return sorted(self.cell_seconds.items(), key=lambda kv: -kv[1])[:n]


def dry_run_environment(data_dir: str | Path, max_epochs: int | None = None) -> dict[str, str]:
    """The environment of a dry-run kernel: this process's, plus the dry-run settings."""
    env = dict(os.environ)
    env.update(COURSE_PROFILE="full", COURSE_DRY_RUN="1", COURSE_DATA=str(data_dir),
               COURSE_PROGRESS="0", MPLBACKEND="Agg")
    if max_epochs is not None:
        env["COURSE_MAX_EPOCHS"] = str(max_epochs)
    return env


def find_notebooks(selection: list[str] | None = None) -> list[Path]:
    """``notebooks/NN_*.ipynb``, or those named: a path, or the start of a name (``01``, ``03_drop``)."""
    every = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return every
    chosen: list[Path] = []
    for item in selection:
        path = Path(item)
        matches = [path.resolve()] if path.suffix == ".ipynb" and path.is_file() else \
            [p for p in every if p.name.startswith(item)]
        if not matches:
            raise SystemExit(f"no notebook matches {item!r}; notebooks: {', '.join(p.name for p in every)}")
        chosen += [p for p in matches if p not in chosen]
    return chosen


def _this_interpreter_kernel_manager() -> type:
    """An ``AsyncKernelManager`` class whose kernels run this very interpreter (this environment),
    whatever kernel name a notebook asks for (as nbval's ``--nbval-current-env`` does)."""
    from ipykernel.kernelspec import get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisInterpreterSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            spec = get_kernel_dict()
            return KernelSpec(argv=spec["argv"], display_name=spec["display_name"], language=spec["language"],
                              metadata=spec.get("metadata", {}))

    class ThisInterpreterKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return ThisInterpreterSpecs(data_dir=self.data_dir)

    return ThisInterpreterKernelManager


def _text(outputs: list) -> str:
    return "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")


def _indented(source: str) -> str:
    return "\n".join("    " + line for line in source.splitlines())


def _cell_failure(nb: nbformat.NotebookNode, index: int, summary: str | None = None) -> Failure:
    """The failure of cell ``index`` (1-based): its error output, or ``summary`` when it has none."""
    cell = nb.cells[index - 1]
    code_cell = sum(c.cell_type == "code" for c in nb.cells[:index])
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        error = errors[-1]
        first = (str(error.get("evalue", "")).strip().splitlines() or [""])[0]
        summary = summary or f"{error.get('ename', 'Error')}: {first}"
        trace = ANSI.sub("", "\n".join(error.get("traceback", []))).strip()
    else:
        trace = summary or "failed"
    return Failure(index, code_cell, summary or trace, f"cell {index}:\n{_indented(cell.source)}\n{trace}")


def run_notebook(path: Path, env: dict[str, str], timeout: float = DEFAULT_TIMEOUT,
                 keep_going: bool = False, workdir: Path | None = None) -> Result:
    """Execute ``path`` in a fresh kernel with ``env``, in memory, giving up after ``timeout`` seconds.

    The kernel starts in ``workdir`` (default: the notebook's folder).

    It stops at the first cell that raises, or with ``keep_going`` runs every cell and reports
    each one that raised (later failures may follow from earlier ones).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    result = Result(path)
    started = time.monotonic()
    deadline = started + timeout
    current: dict[str, float | int | None] = {"index": None, "start": started}

    def before(cell, cell_index, **_):
        current.update(index=cell_index + 1, start=time.monotonic())

    def after(cell, cell_index, **_):
        result.cell_seconds[cell_index + 1] = time.monotonic() - float(current["start"])

    client = NotebookClient(
        nb, kernel_manager_class=_this_interpreter_kernel_manager(),
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())), allow_errors=keep_going,
        startup_timeout=120, shutdown_kernel="immediate", resources={"metadata": {"path": str(workdir or path.parent)}},
        on_cell_execute=before, on_cell_executed=after,
    )
    stopped: str | None = None
    try:
        client.execute(env=env)
    except CellExecutionError:
        pass  # the cell's error output says what went wrong
    except CellTimeoutError:
        stopped = f"stopped after {timeout:.0f} s (the --timeout)"
    except Exception as exc:  # noqa: BLE001 - a dead kernel, a kernel that did not start
        stopped = f"{type(exc).__name__}: {ANSI.sub('', str(exc)).strip()}"
    result.seconds = time.monotonic() - started
    raised = [i for i, c in enumerate(nb.cells, 1) if c.cell_type == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    result.failures = [_cell_failure(nb, i) for i in raised]
    if stopped is not None:
        index = current["index"]
        if index is None:
            result.failures.append(Failure(0, 0, stopped, stopped))
        elif index not in raised:
            result.failures.append(_cell_failure(nb, int(index), stopped))
    result.executed = nb
    result.claims = [line for cell in nb.cells if cell.cell_type == "code"
                     for line in _text(cell.get("outputs", [])).splitlines() if line.startswith("[dry run")]
    return result


def report(result: Result, slowest: int = 3) -> str:
    """A few lines on one notebook: status and time, failures, the claims it could not assert, slowest cells."""
    if result.ok:
        status = "OK"
    else:
        first = result.failures[0]
        status = "FAILED" + (f" in cell {first.cell} (code cell {first.code_cell})" if first.cell else "")
        if len(result.failures) > 1:
            status += f" and {len(result.failures) - 1} more cell(s)"
    lines = [f"{result.notebook.name}: {status} after {result.seconds:.1f} s"]
    for failure in result.failures:
        lines += [f"  - {failure.summary}", _indented(failure.detail)]
    if result.claims:
        unasserted = [claim for claim in result.claims if claim.startswith("[dry run, not asserted]")]
        lines.append(f"    claims: {len(result.claims) - len(unasserted)} hold, {len(unasserted)} not asserted"
                     + (":" if unasserted else ""))
        lines += [f"      {claim}" for claim in unasserted]
    if slowest and result.cell_seconds:
        lines.append("    slowest cells: " + ", ".join(f"{i} ({s:.1f} s)" for i, s in result.slowest(slowest)))
    return "\n".join(lines)


def dry_run(notebooks: list[Path], data_dir: Path, timeout: float = DEFAULT_TIMEOUT, max_epochs: int | None = None,
            keep_going: bool = False, slowest: int = 3, out=sys.stdout) -> list[Result]:
    """Write the stand-ins into ``data_dir`` (unless already there) and dry-run each notebook, printing as it goes."""
    if not all((data_dir / folder / MANIFEST).is_file() for folder in ("MNIST", "FashionMNIST", "cifar-10-batches-py")):
        write_standins(data_dir)
    from course_lib.profile import DEFAULT_MAX_EPOCHS

    env = dry_run_environment(data_dir, max_epochs)
    cap = env.get("COURSE_MAX_EPOCHS", DEFAULT_MAX_EPOCHS)
    print(f"dry run of the full profile on stand-in data in {data_dir}: ctx.epochs capped at {cap}, "
          f"at most {timeout:.0f} s a notebook", file=out, flush=True)
    results = []
    for path in notebooks:
        results.append(run_notebook(path, env, timeout, keep_going))
        print(report(results[-1], slowest), file=out, flush=True)
    failed = [r.notebook.name for r in results if not r.ok]
    total = sum(r.seconds for r in results)
    print(f"{len(results) - len(failed)} of {len(results)} notebooks ran in the full-profile dry run "
          f"({total:.0f} s)" + (f"; failed: {', '.join(failed)}" if failed else ""), file=out, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook paths or name prefixes (default: all)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds a notebook may take before it counts as failed (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="epoch cap of the dry run (COURSE_MAX_EPOCHS; default: the library's, 2)")
    parser.add_argument("--data", type=Path, default=None,
                        help="folder for the stand-in files, kept afterwards (default: a temporary folder)")
    parser.add_argument("--keep-going", action="store_true",
                        help="run every cell after a failure too, and report each cell that fails")
    parser.add_argument("--slowest", type=int, default=3, help="how many of the slowest cells to list (default 3)")
    args = parser.parse_args(argv)
    if args.max_epochs is not None and args.max_epochs < 1:
        parser.error(f"--max-epochs must be positive, got {args.max_epochs}")
    notebooks = find_notebooks(args.notebooks)
    if args.data is not None:
        args.data.mkdir(parents=True, exist_ok=True)
        results = dry_run(notebooks, args.data.resolve(), args.timeout, args.max_epochs, args.keep_going, args.slowest)
    else:
        with tempfile.TemporaryDirectory(prefix="course-standins-") as tmp:
            results = dry_run(notebooks, Path(tmp), args.timeout, args.max_epochs, args.keep_going, args.slowest)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
