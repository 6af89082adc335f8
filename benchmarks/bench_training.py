"""Benchmarks of the training core, each against its plain-PyTorch reference in the same run.

1. ``fit`` vs a hand-written PyTorch loop: same MLP, data, batch size and number of steps.
   The reference does the same job as ``fit`` (shuffle, step, and the epoch's training loss and
   accuracy, accumulated on the device as the lecture's loop does), written as tightly as plain
   PyTorch allows. Reported as throughput ratio fit / plain (goal >= 0.95: the loop adds no
   overhead). The ratio against a bare loop that records nothing is printed too, for reference.
2. Device-resident batching (``DeviceLoader``) vs a torchvision ``Dataset`` + ``DataLoader``
   pipeline (per-sample ``__getitem__`` with a transform, collation), one epoch over a
   60,000-sample MNIST-size set. Reported as speed-up (goal >= 10x).

**Spread.** On a shared or busy machine one run can be several percent off the next. The runs
are therefore interleaved (fit, plain, bare, fit, plain, bare, ...; DataLoader, DeviceLoader,
...), so that a change in load hits neighbours alike; each repetition gives its own ratio, and
every ratio is printed as min – median – max over the repetitions. The goal applies to the
median; a regression moves the whole range, noise widens it.

Usage: python benchmarks/bench_training.py [--repeats 7] [--loader-repeats 3] [--device cpu] [--threads 1]
On a CPU that other jobs share, PyTorch's threads fight them for the cores and the loops can
run ten times slower, erratically; ``--threads 1`` keeps the comparison meaningful there.
The MNIST-size set is written as IDX files to a temporary folder and read with
``torchvision.datasets.MNIST``, so the reference is the pipeline students usually write.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import add_machine_options, fmt, interleaved, machine  # noqa: E402
from course_lib import DeviceLoader, fit, load_dataset, mlp  # noqa: E402


def bench_fit(device: torch.device, repeats: int, epochs: int = 3, batch_size: int = 64) -> dict:
    data = load_dataset("mnist1d", device=device)
    x, y = data.train.x, data.train.y
    torch.manual_seed(0)
    init = mlp(40, [256, 256], 10).to(device).state_dict()

    def plain(record: bool = True):
        model = mlp(40, [256, 256], 10).to(device)
        model.load_state_dict(init)
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        loss_fn = nn.CrossEntropyLoss()
        g = torch.Generator().manual_seed(0)
        history = []
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(x), generator=g).to(device)
            xs, ys = x[order], y[order]
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            for i in range(0, len(xs), batch_size):
                xb, yb = xs[i:i + batch_size], ys[i:i + batch_size]
                opt.zero_grad(set_to_none=True)
                out = model(xb)
                loss = loss_fn(out, yb)
                loss.backward()
                opt.step()
                if record:
                    loss_sum += loss.detach() * len(yb)
                    correct += (out.detach().argmax(dim=1) == yb).sum()
            history.append((loss_sum.item() / len(xs), correct.item() / len(xs)))
        return history

    def course():
        model = mlp(40, [256, 256], 10).to(device)
        model.load_state_dict(init)
        fit(model, data.train, epochs=epochs, lr=0.05, batch_size=batch_size, seed=0, progress=False)

    # interleaved (fit, plain, bare, fit, ...): a change in machine load hits neighbours alike,
    # and each round gives its own ratio
    times = interleaved({"fit": course, "plain": plain, "bare": lambda: plain(record=False)}, device, repeats)
    samples = epochs * len(x)
    ratio = [p / f for p, f in zip(times["plain"], times["fit"])]
    bare_ratio = [b / f for b, f in zip(times["bare"], times["fit"])]
    return {"repeats": repeats, "ratio": ratio, "bare_ratio": bare_ratio,
            **{f"{k}_samples_per_s": [samples / t for t in v] for k, v in times.items()}}


def _write_idx(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def bench_batching(device: torch.device, repeats: int, batch_size: int = 128, n: int = 60_000) -> dict:
    """One epoch through each pipeline, ``repeats`` interleaved pairs after a warm-up."""
    import torchvision.datasets as tvd
    from torchvision.transforms import v2

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as root:
        raw = Path(root) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        _write_idx(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        _write_idx(raw / "train-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
        _write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (10, 28, 28), dtype=np.uint8))
        _write_idx(raw / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 10, dtype=np.uint8))
        to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
        dataset = tvd.MNIST(root, train=True, download=False, transform=to_tensor)
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                             generator=torch.Generator().manual_seed(0))
        x_dev = (dataset.data.float() / 255).unsqueeze(1).to(device)
        y_dev = dataset.targets.to(device)
        device_loader = DeviceLoader(x_dev, y_dev, batch_size=batch_size, generator=torch.Generator().manual_seed(0))

        def epoch_dataloader():
            for xb, yb in loader:
                xb, yb = xb.to(device), yb.to(device)

        def epoch_device():
            for xb, yb in device_loader:
                pass

        times = interleaved({"dataloader": epoch_dataloader, "device_loader": epoch_device}, device, repeats)
    speedup = [r / d for r, d in zip(times["dataloader"], times["device_loader"])]
    return {"repeats": repeats, "dataloader_s": times["dataloader"], "device_loader_s": times["device_loader"],
            "speedup": speedup}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds of fit / plain / bare")
    parser.add_argument("--loader-repeats", type=int, default=3,
                        help="interleaved DataLoader / DeviceLoader epochs (a DataLoader epoch takes seconds)")
    add_machine_options(parser)
    args = parser.parse_args(argv)
    device = machine(args)
    f = bench_fit(device, args.repeats)
    print(f"fit vs plain loop (MNIST-1D, MLP 40-256-256-10, batch 64, 3 epochs), {f['repeats']} interleaved rounds:")
    print(f"  samples/s   fit {fmt(f['fit_samples_per_s'], ',.0f')} | plain {fmt(f['plain_samples_per_s'], ',.0f')}"
          f" | bare {fmt(f['bare_samples_per_s'], ',.0f')}")
    print(f"  ratio fit / plain loop   {fmt(f['ratio'])}   (goal: median >= 0.95)")
    print(f"  ratio fit / bare loop    {fmt(f['bare_ratio'])}   (for reference: the bare loop records nothing)")
    b = bench_batching(device, args.loader_repeats)
    print(f"one epoch of 60,000 MNIST-size samples, batch 128, {b['repeats']} interleaved pairs:")
    print(f"  torchvision Dataset + DataLoader {fmt(b['dataloader_s'], '.2f', ' s')} | "
          f"DeviceLoader {fmt([t * 1000 for t in b['device_loader_s']], '.0f', ' ms')}")
    print(f"  speed-up                 {fmt(b['speedup'], '.0f', 'x')}   (goal: median >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
