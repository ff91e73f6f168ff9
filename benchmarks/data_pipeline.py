"""Data-pipeline throughput: folder decode+augment images/s per worker, and batched tensor augmentation.

Prints figures; records nothing by itself (docs/data.md lists results with the command that made them).

    python benchmarks/data_pipeline.py --root ../shared/data/imagenette-mini --images 400 --workers 1 2

1. per worker: one process runs the training transform (decode JPEG, random-resized crop, flip, to uint8
   CHW) and the eval transform (decode, resize shorter side, centre crop) over ``--images`` files;
2. DataLoader: the full FolderLoader (workers, collation, normalisation) for each ``--workers`` value;
3. tensor datasets: BatchAugment (pad-crop-flip-normalise-Cutout) on a CIFAR-sized uint8 batch on each
   available device.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from senet.data import DataConfig, build_loaders
from senet.data.augment import BatchAugment, Normalize, pad_uint8
from senet.data.folder import folder_splits
from senet.data.sampling import subset_indices
from senet.data.transforms import EvalTransform, TrainTransform


def per_worker(paths: list[str], transform: TrainTransform | EvalTransform) -> float:
    """Images/s of ``transform`` in this one process."""
    transform(paths[0], 0)  # warm the decoder
    tic = time.perf_counter()
    for i, path in enumerate(paths):
        transform(path, i)
    return len(paths) / (time.perf_counter() - tic)


def loader_rate(root: str, *, workers: int, images: int, size: int, batch_size: int) -> float:
    """Images/s of the training FolderLoader over ``images`` files with ``workers`` processes (after warm-up)."""
    config = DataConfig(
        dataset="folder", root=root, input_size=size, workers=workers, limit_train=images, limit_val=1
    )
    train, _, _ = build_loaders(config, batch_size=batch_size)
    train.set_epoch(0)
    it = iter(train)
    first = next(it)[1].shape[0]  # workers started, first batch decoded
    tic = time.perf_counter()
    count = sum(labels.shape[0] for _, labels in it)
    elapsed = time.perf_counter() - tic
    return count / elapsed if count else first / elapsed


def tensor_rate(device: torch.device, *, batch: int = 512, reps: int = 20) -> float:
    """Images/s of CIFAR training augmentation (pad 4, crop 32, flip, normalise, Cutout 16) on ``device``."""
    images = pad_uint8(torch.randint(0, 256, (batch, 3, 32, 32), dtype=torch.uint8), 4).to(device)
    augment = BatchAugment("cifar", 32, 4, 16, Normalize((0.49, 0.48, 0.45), (0.25, 0.24, 0.26)))
    generator = torch.Generator().manual_seed(0)
    augment(images, generator)
    if device.type == "cuda":
        torch.cuda.synchronize()
    tic = time.perf_counter()
    for _ in range(reps):
        out = augment(images, generator)
    if device.type == "cuda":
        torch.cuda.synchronize()
    assert out.shape == (batch, 3, 32, 32)
    return batch * reps / (time.perf_counter() - tic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "imagenette-mini"),
    )
    parser.add_argument(
        "--images", type=int, default=400, help="files per measurement (evenly spread over classes)"
    )
    parser.add_argument("--size", type=int, default=224, help="network input size")
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[1, 2], help="DataLoader worker counts to time"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the main process")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, torch {torch.__version__}"
    )
    if Path(args.root).is_dir():
        train, _ = folder_splits(args.root, train_split="train", val_split="val")
        paths = [train.paths[i] for i in subset_indices(len(train), args.images)]
        resize = {224: 256, 299: 352}.get(args.size, round(args.size / 0.875))
        rate = per_worker(paths, TrainTransform(args.size))
        print(
            f"per worker  train transform (decode + random-resized crop {args.size} + flip): {rate:8.1f} images/s"
        )
        rate = per_worker(paths, EvalTransform(args.size, resize))
        print(
            f"per worker  eval transform (decode + resize {resize} + centre crop {args.size}):  {rate:8.1f} images/s"
        )
        for workers in args.workers:
            rate = loader_rate(
                args.root, workers=workers, images=args.images, size=args.size, batch_size=args.batch_size
            )
            print(
                f"FolderLoader train, {workers} worker(s), batch {args.batch_size}: {rate:8.1f} images/s ({rate / max(workers, 1):.1f} per worker)"
            )
    else:
        print(f"(no folder data at {args.root}: folder figures skipped)")
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        print(
            f"tensor augment (CIFAR pad-crop-flip-normalise-Cutout, batch 512) on {device}: {tensor_rate(device):10.0f} images/s"
        )


if __name__ == "__main__":
    main()
