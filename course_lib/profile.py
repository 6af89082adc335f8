"""The scale switch and the one-call set-up that opens every notebook.

Two profiles:

``fast`` (default)  offline data (digits, MNIST-1D, synthetic sets), small models, few
                    epochs: every notebook runs in well under a minute on two CPU cores.
``full``            the real datasets (MNIST, Fashion-MNIST, CIFAR-10 via torchvision),
                    more epochs, on the GPU when one is present.

Choose with the environment variable ``COURSE_PROFILE`` before starting Jupyter
(``COURSE_PROFILE=full make lab``) or pass ``profile=`` to :func:`setup_notebook`.
Every notebook's first code cell is::

    from course_lib import setup_notebook
    ctx = setup_notebook(seed=0)
    EPOCHS = ctx.epochs(fast=20, full=100)

Dry run of the full profile
---------------------------
Where the real datasets cannot be downloaded, ``tools/dry_run_full.py`` executes the
notebooks in the full profile on small stand-in files in the datasets' own formats
(``tools/standin_data.py``) to show that every full-profile branch runs. It sets
``COURSE_DRY_RUN=1``, which (in the full profile only; ignored in the fast one) makes
:attr:`Setup.dry_run` true and changes two things:

- :meth:`Setup.epochs` caps the full epoch count at ``COURSE_MAX_EPOCHS`` (default 2), so a
  dry run takes minutes; :meth:`Setup.pick` is unchanged and returns the full value.
- :meth:`Setup.claim` reports instead of asserting. A notebook checks a claim that depends on
  the real data with ``ctx.claim(value, op, bound, "message")`` (``op`` one of ``> >= < <=``): in a
  normal run that is ``assert value op bound, "message"``, recorded with its margin; in a dry run it prints ``[dry run] claim holds: message``
  or ``[dry run, not asserted] message`` and carries on. Claims about the code itself (an
  implementation equals PyTorch's) stay plain ``assert`` statements and hold in a dry run too.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from .device import get_device, seed_everything, seed_offset, set_deterministic, set_num_threads, shifted_seed

__all__ = ["PROFILES", "DEFAULT_MAX_EPOCHS", "get_profile", "Claim", "Setup", "setup_notebook"]

PROFILES = ("fast", "full")
DEFAULT_MAX_EPOCHS = 2  # epoch cap of a dry run unless COURSE_MAX_EPOCHS says otherwise
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def get_profile(name: str | None = None) -> str:
    """Return the profile in force: ``name`` if given, else ``COURSE_PROFILE``, else ``'fast'``."""
    raw = name if name is not None else os.environ.get("COURSE_PROFILE", "fast")
    value = str(raw).strip().lower() or "fast"
    if value not in PROFILES:
        source = "profile" if name is not None else "COURSE_PROFILE"
        raise ValueError(f"unknown {source} {raw!r}; choose one of {', '.join(PROFILES)}")
    return value


def _dry_run_from_environment() -> bool:
    """``COURSE_DRY_RUN`` as a bool: 1/true/yes/on or 0/false/no/off (unset: off)."""
    raw = os.environ.get("COURSE_DRY_RUN", "")
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(f"COURSE_DRY_RUN must be 1 or 0 (or true/false, yes/no, on/off), got {raw!r}")
    return value in _TRUE


def _max_epochs_from_environment() -> int:
    """``COURSE_MAX_EPOCHS`` (default :data:`DEFAULT_MAX_EPOCHS`), a positive int."""
    raw = os.environ.get("COURSE_MAX_EPOCHS", "").strip()
    if not raw:
        return DEFAULT_MAX_EPOCHS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"COURSE_MAX_EPOCHS must be a positive integer, got {raw!r}")
    return value


def _epoch_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive number of epochs, got {type(value).__name__} {value!r}")
    return int(value)


@dataclass
class Setup:
    """What a notebook needs to know about its run: profile, device, seed, and whether it is a dry run.

    ``dry_run`` is only ever true in the full profile; ``max_epochs`` is the cap that
    :meth:`epochs` applies in a dry run.
    """

    profile: str
    device: torch.device
    seed: int
    dry_run: bool = False
    max_epochs: int = DEFAULT_MAX_EPOCHS
    seed_offset: int = 0
    claims: list["Claim"] = field(default_factory=list, repr=False)

    def rng(self, seed: int | None = None, device: torch.device | str = "cpu") -> torch.Generator:
        """A fresh ``torch.Generator`` seeded with ``seed`` (default: the notebook's seed).

        Pass it as ``generator=`` to anything random (subsets, masks, augmenters, model
        initialization, batch order) so every draw of a notebook is reproducible on its own,
        whatever ran before it, without reseeding the global generator by hand. The seed is
        shifted by ``COURSE_SEED_OFFSET`` (:func:`course_lib.device.shifted_seed`).
        """
        s = self.seed if seed is None else seed
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise TypeError(f"seed must be a non-negative int, got {type(s).__name__} {s!r}")
        return torch.Generator(device=device).manual_seed(shifted_seed(s))

    @property
    def full(self) -> bool:
        """True in the full profile."""
        return self.profile == "full"

    def pick(self, fast: Any, full: Any) -> Any:
        """Return ``fast`` or ``full`` according to the profile (a dataset name, a width, a list of seeds)."""
        return full if self.full else fast

    def epochs(self, fast: int, full: int) -> int:
        """The number of epochs for this profile: ``fast`` or ``full``, and in a dry run
        ``min(full, max_epochs)`` (``COURSE_MAX_EPOCHS``, default 2).

        Use it for every epoch count of a training run, so that a dry run stays short.
        """
        fast, full = _epoch_count("fast", fast), _epoch_count("full", full)
        n = self.pick(fast, full)
        return min(n, self.max_epochs) if self.dry_run else n

    def claim(self, value: Any, op: str | None = None, bound: Any = None, message: str | None = None, *,
              scale: float | None = None) -> None:
        """Check a claim the notebook demonstrates with a run: ``value op bound``, for example
        ``ctx.claim(val_acc_l2 - val_acc_plain, ">", 0.08, "L2 should raise validation accuracy")``.

        ``op`` is one of ``>``, ``>=``, ``<``, ``<=``. Every claim is recorded in :attr:`claims`
        (a :class:`Claim`: the value, the bound and the margin between them), so a run can list
        each claim with its margin; ``COURSE_CLAIM_LOG=path`` also appends each one to that file,
        a JSON object per line (``tools/numerics_matrix.py`` reads it). The **relative margin** is
        how far the value lies on the right side of the bound, as a share of ``scale`` (default
        ``|bound|``; a bound of 0 needs an explicit ``scale``, the size of an effect that would
        matter): 0.5 means the value could move by half the bound before the claim fails.

        Normally a failing claim stops the notebook with ``AssertionError(message)``. With
        ``COURSE_CLAIMS=record`` it is recorded and printed instead, so that one run finds every
        failing claim. In a dry run (stand-in data, capped epochs) every claim is reported:
        ``[dry run] claim holds: message`` or ``[dry run, not asserted] message``. Returns nothing,
        so a notebook cell ending with a claim shows no extra line. Exact identities (an
        implementation equals PyTorch's) are plain ``assert`` statements, not claims.
        """
        if bound is None and message is None and isinstance(op, str) and op not in OPS:
            raise TypeError("ctx.claim(condition, message) records no margin: give the measured value, the "
                            "comparison and its bound instead, e.g. ctx.claim(acc, '>', 0.9, message) in place of "
                            f"ctx.claim(acc > 0.9, message); got ctx.claim({value!r}, {op!r})")
        if bound is None or not isinstance(message, str):
            raise TypeError("ctx.claim(value, op, bound, message): give the measured value, the comparison "
                            "('>', '>=', '<', '<='), its bound and a message, e.g. ctx.claim(gap, '>', 0.25, "
                            f"'the gap should be wide'); got ctx.claim({value!r}, {op!r}, {bound!r}, {message!r})")
        else:
            c = Claim.of(value, op, bound, message, scale=scale)
        self.claims.append(c)
        _log_claim(c)
        if self.dry_run:
            print(f"[dry run] claim holds: {message}" if c.holds else f"[dry run, not asserted] {message}")
        elif not c.holds:
            if _claim_mode() == "record":
                print(f"[claim fails, recorded] {message} ({c.describe()})")
            else:
                raise AssertionError(message)


OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _real(value: Any, name: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"claim {name} must be one number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"claim {name} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


@dataclass(frozen=True)
class Claim:
    """One claim of a run: ``value op bound``, whether it holds, and by how much.

    ``margin`` is the distance to the bound on the side the claim wants (negative: it fails);
    ``relative_margin`` is ``margin / scale`` (``scale`` defaults to ``|bound|``).
    """

    message: str
    value: float
    op: str
    bound: float
    scale: float
    holds: bool
    margin: float
    relative_margin: float

    @classmethod
    def of(cls, value: Any, op: str, bound: Any, message: str, *, scale: float | None = None) -> "Claim":
        if op not in OPS:
            raise ValueError(f"claim op must be one of {', '.join(OPS)}, got {op!r}")
        v, b = _real(value, "value"), _real(bound, "bound")
        if scale is None:
            if b == 0:
                raise ValueError(f"claim {message!r}: a bound of 0 has no relative margin; give scale=, the size "
                                 "of an effect that would matter (or compare with a non-zero bound)")
            s = abs(b)
        else:
            s = _real(scale, "scale")
            if not s > 0:
                raise ValueError(f"claim scale must be positive, got {scale!r}")
        if math.isnan(v):  # a NaN (a diverged run's loss) never satisfies a claim
            return cls(message, v, op, b, s, False, -math.inf, -math.inf)
        margin = (v - b) if op in (">", ">=") else (b - v)  # ±inf where the value is infinite, as it should
        return cls(message, v, op, b, s, bool(OPS[op](v, b)), margin, margin / s)

    def describe(self) -> str:
        """``value 0.9040 > 0.8220: margin +0.0820 (+10.0 % of 0.8220)``."""
        return (f"value {self.value:.4g} {self.op} {self.bound:.4g}: margin {self.margin:+.4g} "
                f"({self.relative_margin:+.1%} of {self.scale:.4g})")


def _claim_mode() -> str:
    raw = os.environ.get("COURSE_CLAIMS", "").strip().lower() or "assert"
    if raw not in ("assert", "record"):
        raise ValueError(f"COURSE_CLAIMS must be 'assert' or 'record', got {raw!r}")
    return raw


def _log_claim(c: Claim) -> None:
    path = os.environ.get("COURSE_CLAIM_LOG", "").strip()
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(c)) + "\n")


def setup_notebook(seed: int = 0, *, profile: str | None = None, device: str | None = None,
                   deterministic: bool = True, style: bool = True, verbose: bool = True,
                   dry_run: bool | None = None) -> Setup:
    """Seed everything, pick the device and profile, and set the plotting style.

    On the CPU in the fast profile PyTorch gets one thread unless ``COURSE_NUM_THREADS`` says
    otherwise (same numbers on every machine, no contention); in the full profile it keeps its
    own default. ``dry_run`` (default: ``COURSE_DRY_RUN``) takes effect in the full profile only;
    see the module docstring. Returns a :class:`Setup`; prints one line saying what was chosen
    when ``verbose``.
    """
    chosen = get_profile(profile)
    dry = chosen == "full" and (_dry_run_from_environment() if dry_run is None else bool(dry_run))
    max_epochs = _max_epochs_from_environment() if dry else DEFAULT_MAX_EPOCHS
    dev = get_device(device)
    # The fast profile's models are tiny: one CPU thread is as quick as several, gives the same
    # numbers on every machine, and does not fight other processes for cores. COURSE_NUM_THREADS wins.
    default_threads = 1 if chosen == "fast" and dev.type == "cpu" else None
    threads = set_num_threads(None if os.environ.get("COURSE_NUM_THREADS", "").strip() else default_threads)
    set_deterministic(deterministic)
    offset = seed_offset()
    _claim_mode()  # a bad COURSE_CLAIMS stops here, not at the first claim
    seed_everything(seed)
    if style:
        from .plots import use_course_style

        use_course_style()
    if verbose:
        where = f"{dev} ({threads} thread{'s' if threads > 1 else ''})" if dev.type == "cpu" else str(dev)
        dry_note = f"  DRY RUN: epochs capped at {max_epochs}, claims reported, not asserted" if dry else ""
        offset_note = f" (COURSE_SEED_OFFSET={offset}: every seed shifted)" if offset else ""
        print(f"profile={chosen}  device={where}  seed={seed}{offset_note}  torch={torch.__version__}{dry_note}")
    return Setup(profile=chosen, device=dev, seed=seed, dry_run=dry, max_epochs=max_epochs, seed_offset=offset)
