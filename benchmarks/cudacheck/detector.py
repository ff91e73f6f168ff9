"""Stage ``detector``: torchvision's Faster R-CNN on an SE-ResNet-50 FPN trunk (Sec. 6.2, Table 6).

The paper swaps the trunk of Faster R-CNN for SE-ResNet-50 on COCO. Here the trunk is senet's
:class:`senet.weights.features.FeatureExtractor` (the outputs of ``layer1..layer4``, strides 4
to 32) with its BN layers frozen (torchvision's ``FrozenBatchNorm2d``, as for any detection
trunk), under torchvision's ``FeaturePyramidNetwork`` (256 channels, plus a max-pooled level for
the largest anchors); the RPN, RoI heads and losses are torchvision's. The data is synthetic and
COCO-format (``images`` / ``annotations`` with ``bbox = [x, y, w, h]`` / ``categories``): each
box is painted into its image in its category's colour, so there is something to learn. The
check takes a few SGD steps (finite losses) and evaluates: detections well-formed, and the
best IoU of each ground-truth box with a detection recorded.

torchvision is imported only inside these functions: without it the stage is skipped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cudacheck.common import Record, Skip, run_check, stage_report
from senet.api import create_model
from senet.weights.features import FeatureExtractor


class SEFPNBackbone(nn.Module):
    """senet's feature extractor (BN frozen) under an FPN: ``{"0".."3", "pool"}`` maps of 256 channels."""

    def __init__(self, name: str = "se_resnet50", fpn_channels: int = 256) -> None:
        super().__init__()
        from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

        self.body = FeatureExtractor(create_model(name), names=("0", "1", "2", "3"))
        freeze_batch_norms(self.body)
        self.fpn = FeaturePyramidNetwork(
            self.body.out_channels, fpn_channels, extra_blocks=LastLevelMaxPool()
        )
        self.out_channels = fpn_channels  # what FasterRCNN reads

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.fpn(self.body(x))  # "0": (N, 256, H/4, W/4) ... "pool": (N, 256, H/64, W/64)


def freeze_batch_norms(module: nn.Module) -> int:
    """Replace every ``BatchNorm2d`` below ``module`` by torchvision's ``FrozenBatchNorm2d`` with
    the same statistics and affine parameters; returns how many were replaced."""
    from torchvision.ops.misc import FrozenBatchNorm2d

    count = 0
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps)
            with torch.no_grad():
                for key in ("weight", "bias", "running_mean", "running_var"):
                    getattr(frozen, key).copy_(getattr(child, key))
            setattr(module, name, frozen.to(child.weight.device))
            count += 1
        else:
            count += freeze_batch_norms(child)
    return count


def faster_rcnn(
    name: str = "se_resnet50", *, num_classes: int, min_size: int = 800, max_size: int = 1333
) -> nn.Module:
    """Faster R-CNN with the SE FPN trunk; ``num_classes`` counts the background (class 0)."""
    from torchvision.models.detection import FasterRCNN

    return FasterRCNN(SEFPNBackbone(name), num_classes=num_classes, min_size=min_size, max_size=max_size)


def synthetic_coco(images: int, size: int, categories: int, *, seed: int = 0) -> dict[str, Any]:
    """A COCO-format annotation dict: 1-3 boxes per image, category ids from 1."""
    gen = torch.Generator().manual_seed(seed)
    coco: dict[str, Any] = {"images": [], "annotations": [],
                            "categories": [{"id": c + 1, "name": f"class{c + 1}"} for c in range(categories)]}  # fmt: skip
    for image_id in range(1, images + 1):
        coco["images"].append({"id": image_id, "width": size, "height": size, "file_name": f"{image_id}.png"})
        for _ in range(int(torch.randint(1, 4, (1,), generator=gen))):
            w, h = (int(v) for v in torch.randint(size // 8, size // 2, (2,), generator=gen))
            x, y = (
                int(torch.randint(0, size - w, (1,), generator=gen)),
                int(torch.randint(0, size - h, (1,), generator=gen)),
            )
            coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": image_id, "iscrowd": 0,
                                        "category_id": int(torch.randint(1, categories + 1, (1,), generator=gen)),
                                        "bbox": [x, y, w, h], "area": w * h})  # fmt: skip
    return coco


def to_tensors(
    coco: dict[str, Any], device: torch.device
) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """Images (3, H, W) in [0, 1] with each box painted in its category's colour over noise, and
    torchvision targets: ``boxes`` (K, 4) as x1, y1, x2, y2 and ``labels`` (K,)."""
    gen = torch.Generator().manual_seed(1)
    colours = torch.rand(len(coco["categories"]) + 1, 3, generator=gen)
    images, targets = [], []
    for info in coco["images"]:
        image = 0.2 * torch.rand(3, info["height"], info["width"], generator=gen)
        anns = [a for a in coco["annotations"] if a["image_id"] == info["id"]]
        boxes = torch.tensor(
            [[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)], dtype=torch.float32
        )
        labels = torch.tensor([a["category_id"] for a in anns], dtype=torch.int64)
        for (x1, y1, x2, y2), label in zip(boxes.int().tolist(), labels.tolist(), strict=True):
            image[:, y1:y2, x1:x2] = colours[label][:, None, None]
        images.append(image.to(device))
        targets.append({"boxes": boxes.to(device), "labels": labels.to(device)})
    return images, targets


def train_and_evaluate(
    device: torch.device, *, steps: int, size: int, images: int, batch: int
) -> dict[str, Any]:
    """Build, take ``steps`` SGD steps on batches of the synthetic set, evaluate on it."""
    from torchvision.ops import box_iou

    coco = synthetic_coco(images, size, categories=5)
    data, targets = to_tensors(coco, device)
    torch.manual_seed(0)
    model = faster_rcnn(num_classes=6, min_size=size, max_size=size).to(device)
    features = model.backbone(torch.zeros(1, 3, size, size, device=device))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    model.train()
    losses, tic = [], time.perf_counter()
    for step in range(steps):
        pick = [(step * batch + i) % images for i in range(batch)]
        parts = model(
            [data[i] for i in pick], [targets[i] for i in pick]
        )  # loss_classifier, loss_box_reg, ...
        loss = sum(parts.values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append({k: round(v.item(), 4) for k, v in parts.items()})
        if not torch.isfinite(loss):
            raise FloatingPointError(f"step {step}: non-finite loss {losses[-1]}")
    train_s = time.perf_counter() - tic
    model.eval()
    with torch.no_grad():
        found = model(data)
    best_iou = []
    for det, target in zip(found, targets, strict=True):
        assert set(det) == {"boxes", "labels", "scores"} and det["boxes"].shape[1:] == (4,)
        assert torch.isfinite(det["boxes"]).all() and ((det["scores"] >= 0) & (det["scores"] <= 1)).all()
        assert ((det["labels"] >= 1) & (det["labels"] <= 5)).all()
        if len(det["boxes"]):
            best_iou += box_iou(target["boxes"], det["boxes"]).max(1).values.tolist()
        else:
            best_iou += [0.0] * len(target["boxes"])
    return {"feature_maps": {k: list(v.shape) for k, v in features.items()},
            "trainable_params": sum(p.numel() for p in params), "steps": steps, "batch": batch, "image_size": size,
            "train_s": round(train_s, 2), "loss_first": losses[0], "loss_last": losses[-1],
            "detections_per_image": [len(d["boxes"]) for d in found],
            "mean_best_iou": round(sum(best_iou) / len(best_iou), 4), "gt_boxes": len(best_iou)}  # fmt: skip


def run(out: Path, *, dry_run: bool, limit_s: float) -> dict[str, Any]:
    records: list[Record] = []
    cuda = torch.cuda.is_available() and not dry_run

    def check() -> dict[str, Any]:
        try:
            import torchvision
        except Exception as err:  # noqa: BLE001 (a CUDA-built torchvision on a CPU torch raises OSError ...)
            raise Skip(f"torchvision is not usable here ({type(err).__name__}: {str(err)[:200]})") from None
        if not cuda:
            torch.set_num_threads(1)
        sizes = (
            dict(steps=20, size=512, images=16, batch=4)
            if cuda
            else dict(steps=2, size=96, images=2, batch=1)
        )
        return {"torchvision": torchvision.__version__,
                **train_and_evaluate(torch.device("cuda" if cuda else "cpu"), **sizes)}  # fmt: skip

    run_check("faster_rcnn se_resnet50 fpn", check, records)
    return stage_report("detector", records)
