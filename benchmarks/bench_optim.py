"""Benchmark of the from-scratch optimizers against their ``torch.optim`` namesakes, in the same run.

One ``optimizer.step()`` on the parameters of the same model, with the same gradients, for each
class of ``course_lib.optim`` (the lecture's update rule, one readable loop per parameter) and its
``torch.optim`` namesake with default settings and ``foreach=True`` (PyTorch's multi-tensor
implementation, its default on the GPU). Reported as the time ratio ours / torch (goal: median
<= 1.5).

**Spread.** The repetitions are interleaved (ours, torch, ours, torch, ...), so that a change in
machine load hits neighbours alike; each repetition gives its own ratio, and each figure is printed
as min – median – max. The goal applies to the median.

Usage: python benchmarks/bench_optim.py [--repeats 20] [--widths 40,256,256,10] [--device cpu] [--threads 1]
On a CPU that other jobs share, ``--threads 1`` keeps the comparison meaningful.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import add_machine_options, fmt, interleaved, machine, ratios  # noqa: E402
from course_lib import optim as ours  # noqa: E402

# class name -> constructor keywords (defaults, except a learning rate where torch has none)
OPTIMIZERS = {
    "SGD": {"lr": 0.01, "momentum": 0.9},
    "Adagrad": {},
    "RMSprop": {},
    "Adadelta": {},
    "Adam": {},
    "AdamW": {},
    "NAdam": {},
}


def _model(widths, device, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to(device)
    g = torch.Generator().manual_seed(seed + 1)
    for p in model.parameters():                      # fixed gradients: only the update is timed
        p.grad = torch.randn(p.shape, generator=g).to(device)
    return model


def bench_optimizer(name: str, kwargs: dict, widths, device: torch.device, repeats: int, inner: int = 20) -> dict:
    """``repeats`` interleaved rounds; each round times ``inner`` steps of each optimizer."""
    models = {"ours": _model(widths, device, 0), "torch": _model(widths, device, 0)}
    optimizers = {"ours": getattr(ours, name)(models["ours"].parameters(), **kwargs),
                  "torch": getattr(torch.optim, name)(models["torch"].parameters(), foreach=True, **kwargs)}
    for opt in optimizers.values():                   # first steps create the state: not timed
        opt.step()
    for p, q in zip(models["ours"].parameters(), models["torch"].parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)   # the two agree before they are timed
    times = interleaved({k: opt.step for k, opt in optimizers.items()}, device, repeats, inner, warm_up=False)
    return {"ratio": ratios(times["ours"], times["torch"]), **{f"{k}_ms": [t * 1e3 for t in v] for k, v in times.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20, help="interleaved rounds of ours / torch")
    parser.add_argument("--widths", default="40,256,256,10", help="layer widths of the MLP whose parameters step")
    add_machine_options(parser)
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    device = machine(args, f"MLP {widths}, {args.repeats} interleaved rounds  ")
    print(f"{'optimizer':10s} {'course_lib.optim':>26s} {'torch.optim, foreach':>26s}   ratio ours / torch (goal: median <= 1.5)")
    for name, kwargs in OPTIMIZERS.items():
        r = bench_optimizer(name, kwargs, widths, device, args.repeats)
        print(f"{name:10s} {fmt(r['ours_ms'], '.3f', ' ms'):>26s} {fmt(r['torch_ms'], '.3f', ' ms'):>26s}   "
              f"{fmt(r['ratio'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
