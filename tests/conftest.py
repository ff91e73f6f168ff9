"""Fixtures shared by test folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from senet.data import DataConfig, build_loaders
from senet.train.checkpoint import save_checkpoint
from senet.train.config import TrainConfig
from senet.train.models import build_model


@pytest.fixture(scope="module")
def untrained_digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained se_resnet20_cifar (seed 0) saved as a training checkpoint for the digits at 8x8."""
    run = tmp_path_factory.mktemp("run")
    config = TrainConfig(
        model="se_resnet20_cifar", data=DataConfig(dataset="digits", input_size=8, workers=0)
    )
    _, _, info = build_loaders(config.data, batch_size=32)
    torch.manual_seed(0)
    model = build_model(config, info)
    save_checkpoint(run, epoch=1, model=model, state={}, config=config.to_dict(), data_info=info.to_dict())
    return run
