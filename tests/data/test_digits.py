"""The embedded digits dataset and the tensor loader contract (runs without any files)."""

import numpy as np
import pytest
import torch
from PIL import Image

from senet.data import DataConfig, build_loaders, load_image


def test_digits_split_and_info() -> None:
    train, val, info = build_loaders(DataConfig(), batch_size=100)
    assert (info.num_classes, info.in_chans, info.input_size) == (10, 1, 16)
    assert info.num_train + info.num_val == 1797 and info.num_val == 359
    assert len(train) == -(-info.num_train // 100) and len(val) == -(-info.num_val // 100)
    seen = 0
    for images, labels in train:
        assert (
            images.shape[1:] == (1, 16, 16) and images.dtype == torch.float32 and labels.dtype == torch.int64
        )
        seen += labels.shape[0]
    assert seen == info.num_train  # the last partial batch is kept
    images, _ = next(iter(val))
    assert images.shape == (100, 1, 16, 16)


def test_digits_normalised_eval_has_zero_mean_unit_std() -> None:
    _, val, _ = build_loaders(DataConfig(), batch_size=1000)
    images, _ = next(iter(val))
    assert abs(images.mean().item()) < 0.1 and abs(images.std().item() - 1) < 0.1


def test_set_epoch_is_deterministic() -> None:
    def first(epoch: int, seed: int = 0) -> torch.Tensor:
        train, _, _ = build_loaders(DataConfig(), batch_size=64, seed=seed)
        train.set_epoch(epoch)
        return next(iter(train))

    a, b, c = first(3), first(3), first(4)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[1], c[1])
    assert not torch.equal(first(3, seed=1)[1], a[1])


def test_load_image_grey_for_one_channel(tmp_path) -> None:  # noqa: ANN001
    _, val, info = build_loaders(DataConfig(), batch_size=4)
    path = tmp_path / "digit.png"
    Image.fromarray(np.full((24, 24, 3), 255, dtype=np.uint8)).save(path)
    x = load_image(path, info)
    assert x.shape == (1, 1, 16, 16)
    assert torch.allclose(x, torch.full_like(x, (1 - info.mean[0]) / info.std[0]), atol=1e-5)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_match_cpu() -> None:
    batches = []
    for device in ("cpu", "cuda"):
        train, _, _ = build_loaders(DataConfig(cutout=4), batch_size=64, device=device, seed=7)
        train.set_epoch(2)
        images, labels = next(iter(train))
        assert images.device.type == device and labels.device.type == device
        batches.append((images.cpu(), labels.cpu()))
    assert torch.equal(batches[0][1], batches[1][1]) and torch.allclose(
        batches[0][0], batches[1][0], atol=1e-5
    )
