"""Faster R-CNN with senet's SE-ResNet-50 FPN trunk (benchmarks/cudacheck/detector.py): builds,
trains a step and evaluates on synthetic COCO-format targets; skipped without torchvision."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from cuda_fixtures import DEVICES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # the cudacheck package


def _torchvision() -> None:
    try:
        import torchvision.ops  # noqa: F401
    except Exception as err:  # noqa: BLE001 (a CUDA-built torchvision on a CPU-only torch raises OSError ...)
        pytest.skip(f"needs a working torchvision ({type(err).__name__})")


@pytest.mark.parametrize("device", DEVICES)
def test_faster_rcnn_with_the_se_fpn_trunk(device: str) -> None:
    _torchvision()
    from cudacheck.detector import train_and_evaluate

    found = train_and_evaluate(torch.device(device), steps=2, size=96, images=2, batch=1)
    assert list(found["feature_maps"]) == ["0", "1", "2", "3", "pool"]
    assert [shape[2] for shape in found["feature_maps"].values()] == [24, 12, 6, 3, 2]  # strides 4..32, pool
    assert all(v == v and abs(v) < 1e4 for v in found["loss_last"].values())  # finite
    assert found["gt_boxes"] >= 2 and 0.0 <= found["mean_best_iou"] <= 1.0


def test_frozen_batch_norms_keep_the_statistics() -> None:
    _torchvision()
    from cudacheck.detector import SEFPNBackbone

    torch.manual_seed(0)
    backbone = SEFPNBackbone("se_resnet18", fpn_channels=32).eval()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in backbone.modules())
    out = backbone(torch.randn(1, 3, 64, 64))
    assert backbone.out_channels == 32 and out["0"].shape == (1, 32, 16, 16)
