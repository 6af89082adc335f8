"""What every benchmark here shares: interleaved timing and the min – median – max report.

Each benchmark runs the course's piece and its PyTorch reference in turn (ours, reference, ours,
reference, ...), so that a change in machine load hits neighbours alike; every round gives its own
ratio, and each figure is reported as min – median – max over the rounds. Goals apply to the median.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so that a timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_once(fn, device: torch.device, inner: int = 1) -> float:
    """Seconds per call of ``fn``, averaged over ``inner`` calls."""
    sync(device)
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    sync(device)
    return (time.perf_counter() - start) / inner


def interleaved(runs: dict, device: torch.device, repeats: int, inner: int = 1, warm_up: bool = True
                ) -> dict[str, list[float]]:
    """Run every function once (warm-up), then ``repeats`` rounds of each in turn; seconds per call."""
    if warm_up:
        for fn in runs.values():
            fn()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            times[name].append(time_once(fn, device, inner))
    return times


def ratios(numerator: list[float], denominator: list[float]) -> list[float]:
    """One ratio per round."""
    return [a / b for a, b in zip(numerator, denominator)]


def spread(values) -> tuple[float, float, float]:
    """(min, median, max)."""
    return min(values), statistics.median(values), max(values)


def fmt(values, spec: str = ".3f", unit: str = "") -> str:
    """``min – median – max`` of ``values``."""
    lo, mid, hi = spread(values)
    return f"{lo:{spec}}{unit} – {mid:{spec}}{unit} – {hi:{spec}}{unit}"


def add_machine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch CPU threads (default: PyTorch's own); 1 on a machine shared with other jobs")


def machine(args, what: str = "") -> torch.device:
    """Apply ``--threads``, pick the device, print the header line; returns the device."""
    from course_lib import get_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    print(f"device={device}  torch={torch.__version__}  threads={torch.get_num_threads()}  {what}"
          f"(each figure: min – median – max over the repetitions)")
    return device
