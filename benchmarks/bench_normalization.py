"""Benchmark of the from-scratch batch norm against ``torch.nn.BatchNorm2d``, in the same run.

One training step of the layer alone: forward and backward (input, γ and β gradients) on the
same tensor, for ``course_lib.normalization.BatchNorm2d`` (the lecture's algorithm written with
tensor operations, with the lecture's closed-form backward pass) and for ``nn.BatchNorm2d`` (PyTorch's fused
kernel). Reported as the time ratio ours / torch (goal: median <= 2).

**Spread.** The repetitions are interleaved (ours, torch, ours, torch, ...), so that a change in
machine load hits neighbours alike; each repetition gives its own ratio, and each figure is printed
as min – median – max. The goal applies to the median.

Usage: python benchmarks/bench_normalization.py [--repeats 30] [--shape 64,32,16,16] [--device cpu] [--threads 1]
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
from course_lib.normalization import BatchNorm2d  # noqa: E402


def bench_batchnorm(device: torch.device, shape: tuple[int, ...], repeats: int, inner: int = 5) -> dict:
    """``repeats`` interleaved rounds; each round times ``inner`` forward+backward steps of each layer."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g).mul_(2).add_(1).to(device).requires_grad_()
    upstream = torch.randn(shape, generator=g).to(device)
    layers = {"ours": BatchNorm2d(shape[1]).to(device), "torch": nn.BatchNorm2d(shape[1]).to(device)}

    def step(layer):
        x.grad = None
        layer.zero_grad(set_to_none=True)
        layer(x).backward(upstream)

    # the two agree before they are timed
    step(layers["torch"])
    ref_grad = x.grad.clone()
    step(layers["ours"])
    torch.testing.assert_close(x.grad, ref_grad, rtol=1e-4, atol=1e-4)

    times = interleaved({name: (lambda layer=layer: step(layer)) for name, layer in layers.items()}, device, repeats,
                        inner, warm_up=False)
    return {"repeats": repeats, "ratio": ratios(times["ours"], times["torch"]),
            **{f"{k}_ms": [t * 1e3 for t in v] for k, v in times.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="interleaved rounds of ours / torch")
    parser.add_argument("--shape", default="64,32,16,16", help="input shape N,C,H,W")
    add_machine_options(parser)
    args = parser.parse_args(argv)
    shape = tuple(int(s) for s in args.shape.split(","))
    if len(shape) != 4:
        parser.error(f"--shape must be N,C,H,W, got {args.shape!r}")
    device = machine(args)
    r = bench_batchnorm(device, shape, args.repeats)
    print(f"BatchNorm2d forward + backward on {shape}, {r['repeats']} interleaved rounds:")
    print(f"  from scratch {fmt(r['ours_ms'], '.3f', ' ms')} | nn.BatchNorm2d {fmt(r['torch_ms'], '.3f', ' ms')}")
    print(f"  ratio ours / torch   {fmt(r['ratio'])}   (goal: median <= 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
