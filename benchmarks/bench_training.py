"""Benchmarks of the training core, each against its plain-PyTorch reference in the same run.

1. ``fit`` vs a hand-written PyTorch loop: same MLP, data, batch size and number of steps.
   The reference does the same job as ``fit`` (shuffle, step, and the epoch's training loss and
   accuracy, accumulated on the device as the lecture's loop does), written as tightly as plain
   PyTorch allows. Reported as throughput ratio fit / plain (goal >= 0.95: the loop adds no
   overhead). The ratio against a bare loop that records nothing is printed too, for reference.
2. Device-resident batching (``DeviceLoader``) vs a torchvision ``Dataset`` + ``DataLoader``
   pipeline (per-sample ``__getitem__`` with a transform, collation), one epoch over a
   60,000-sample MNIST-size set. Reported as speed-up (goal >= 10x).

Usage: python benchmarks/bench_training.py [--repeats 5] [--device cpu]
The MNIST-size set is written as IDX files to a temporary folder and read with
``torchvision.datasets.MNIST``, so the reference is the pipeline students usually write.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_lib import DeviceLoader, fit, get_device, load_dataset, mlp  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _time(fn, device, repeats: int, warmup: bool = True) -> float:
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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

    # interleave the three so that a change in machine load hits all of them alike
    times = {"plain": [], "bare": [], "fit": []}
    runs = {"plain": plain, "bare": lambda: plain(record=False), "fit": course}
    for fn in runs.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in runs.items():
            times[name].append(_time(fn, device, 1, warmup=False))
    t_plain, t_bare, t_fit = (statistics.median(times[k]) for k in ("plain", "bare", "fit"))
    samples = epochs * len(x)
    return {"plain_samples_per_s": samples / t_plain, "fit_samples_per_s": samples / t_fit,
            "bare_samples_per_s": samples / t_bare, "ratio": t_plain / t_fit, "bare_ratio": t_bare / t_fit}


def _write_idx(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


def bench_batching(device: torch.device, repeats: int, batch_size: int = 128, n: int = 60_000) -> dict:
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

        t_ref = _time(epoch_dataloader, device, max(1, repeats // 2))
        t_dev = _time(epoch_device, device, repeats)
    return {"dataloader_s": t_ref, "device_loader_s": t_dev, "speedup": t_ref / t_dev}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    device = get_device(args.device)
    print(f"device={device}  torch={torch.__version__}  threads={torch.get_num_threads()}")
    f = bench_fit(device, args.repeats)
    print(f"fit vs plain loop (MNIST-1D, MLP 40-256-256-10, batch 64): plain {f['plain_samples_per_s']:,.0f} "
          f"samples/s, fit {f['fit_samples_per_s']:,.0f} samples/s, ratio {f['ratio']:.3f} (goal >= 0.95); "
          f"against a bare loop that records nothing ({f['bare_samples_per_s']:,.0f} samples/s) {f['bare_ratio']:.3f}")
    b = bench_batching(device, args.repeats)
    print(f"one epoch of 60,000 MNIST-size samples, batch 128: torchvision Dataset + DataLoader "
          f"{b['dataloader_s']:.3f} s, DeviceLoader {b['device_loader_s'] * 1000:.1f} ms, "
          f"speed-up {b['speedup']:.0f}x (goal >= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
