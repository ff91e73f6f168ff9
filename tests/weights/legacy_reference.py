"""The Cadene / timm-legacy SE networks written out with plain torch.nn.functional, from
layouts.md, and random state dicts in their key names. Independent of senet.models: it reads
every tensor by its Cadene name and applies the legacy blocks as the port defines them:

- stem: ``layer0.conv1`` 7x7 / 2, ``layer0.bn1``, ReLU, 3x3 / 2 max-pool with ceil mode, no padding;
- basic block: conv1-bn1-ReLU-conv2-bn2-ReLU-SE, then relu(. + shortcut);
- bottleneck: conv1 (1x1) -bn1-ReLU-conv2 (3x3, grouped for SE-ResNeXt) -bn2-ReLU-conv3 (1x1)
  -bn3-SE, then relu(. + shortcut); the stride sits on the first 1x1 for SE-ResNet, on the
  3x3 when it is grouped (SE-ResNeXt);
- SE as ``se_module.fc1`` / ``fc2``: 1x1 convolutions with bias on the spatial mean, ReLU, sigmoid;
- head: spatial mean (the port's fixed 7x7 average pool is the same at 224 x 224) and ``last_linear``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def legacy_state_dict(
    blocks: tuple[int, ...], *, bottleneck: bool, width: int = 64, groups: int = 1, seed: int = 0
) -> dict[str, Tensor]:
    """Random weights of a legacy SE-ResNet / SE-ResNeXt (10 classes) with non-trivial BN
    statistics and affine, so that no BN is the identity. Stage s has 3x3 width
    ``width * 2**s`` and C = 4 x 64 x 2**s (bottleneck) or 64 x 2**s (basic) output channels."""
    gen = torch.Generator().manual_seed(seed)
    sd: dict[str, Tensor] = {}

    def conv(key: str, cout: int, cin: int, k: int, *, bias: bool = False) -> None:
        sd[key + ".weight"] = torch.randn(cout, cin, k, k, generator=gen) * (1.0 / (cin * k * k)) ** 0.5
        if bias:
            sd[key + ".bias"] = torch.randn(cout, generator=gen) * 0.1

    def bn(key: str, c: int) -> None:
        sd[key + ".weight"] = torch.rand(c, generator=gen) * 0.5 + 0.75
        sd[key + ".bias"] = torch.randn(c, generator=gen) * 0.1
        sd[key + ".running_mean"] = torch.randn(c, generator=gen) * 0.1
        sd[key + ".running_var"] = torch.rand(c, generator=gen) + 0.5

    conv("layer0.conv1", 64, 3, 7)
    bn("layer0.bn1", 64)
    cin = 64
    for s, n in enumerate(blocks):
        mid, out = width * 2**s, (256 if bottleneck else 64) * 2**s
        for i in range(n):
            p = f"layer{s + 1}.{i}."
            if bottleneck:
                conv(p + "conv1", mid, cin, 1)
                conv(p + "conv2", mid, mid // groups, 3)
                conv(p + "conv3", out, mid, 1)
            else:
                conv(p + "conv1", out, cin, 3)
                conv(p + "conv2", out, out, 3)
            for j, c in enumerate((mid, mid, out) if bottleneck else (out, out), start=1):
                bn(f"{p}bn{j}", c)
            conv(p + "se_module.fc1", out // 16, out, 1, bias=True)
            conv(p + "se_module.fc2", out, out // 16, 1, bias=True)
            if i == 0 and (cin != out or s > 0):
                conv(p + "downsample.0", out, cin, 1)
                bn(p + "downsample.1", out)
            cin = out
    sd["last_linear.weight"] = torch.randn(10, cin, generator=gen) * cin**-0.5
    sd["last_linear.bias"] = torch.randn(10, generator=gen) * 0.1
    return sd


def _bn(x: Tensor, sd: dict[str, Tensor], key: str) -> Tensor:
    return F.batch_norm(
        x, sd[key + ".running_mean"], sd[key + ".running_var"], sd[key + ".weight"], sd[key + ".bias"],
        training=False, eps=1e-5,
    )  # fmt: skip


def _se(x: Tensor, sd: dict[str, Tensor], key: str) -> Tensor:
    z = x.mean((2, 3), keepdim=True)  # (N, C, 1, 1)
    z = F.relu(F.conv2d(z, sd[key + ".fc1.weight"], sd[key + ".fc1.bias"]))  # (N, C', 1, 1)
    return x * torch.sigmoid(F.conv2d(z, sd[key + ".fc2.weight"], sd[key + ".fc2.bias"]))


def _shortcut(x: Tensor, sd: dict[str, Tensor], p: str, stride: int) -> Tensor:
    if p + "downsample.0.weight" not in sd:
        return x
    return _bn(F.conv2d(x, sd[p + "downsample.0.weight"], stride=stride), sd, p + "downsample.1")


def legacy_basic(x: Tensor, sd: dict[str, Tensor], p: str, stride: int) -> Tensor:
    out = F.relu(_bn(F.conv2d(x, sd[p + "conv1.weight"], stride=stride, padding=1), sd, p + "bn1"))
    out = F.relu(_bn(F.conv2d(out, sd[p + "conv2.weight"], padding=1), sd, p + "bn2"))  # ReLU before SE
    return F.relu(_se(out, sd, p + "se_module") + _shortcut(x, sd, p, stride))


def legacy_bottleneck(x: Tensor, sd: dict[str, Tensor], p: str, stride: int) -> Tensor:
    w1, w2 = sd[p + "conv1.weight"], sd[p + "conv2.weight"]
    groups = w1.shape[0] // w2.shape[1]
    s1, s3 = (1, stride) if groups > 1 else (stride, 1)
    out = F.relu(_bn(F.conv2d(x, w1, stride=s1), sd, p + "bn1"))
    out = F.relu(_bn(F.conv2d(out, w2, stride=s3, padding=1, groups=groups), sd, p + "bn2"))
    out = _bn(F.conv2d(out, sd[p + "conv3.weight"]), sd, p + "bn3")
    return F.relu(_se(out, sd, p + "se_module") + _shortcut(x, sd, p, stride))


@torch.no_grad()
def legacy_forward(sd: dict[str, Tensor], x: Tensor) -> Tensor:
    """Logits (N, 10) of the legacy network whose Cadene state dict is ``sd``."""
    x = F.relu(_bn(F.conv2d(x, sd["layer0.conv1.weight"], stride=2, padding=3), sd, "layer0.bn1"))
    x = F.max_pool2d(x, 3, 2, ceil_mode=True)
    for s in range(1, 5):
        n = len({k.split(".")[1] for k in sd if k.startswith(f"layer{s}.")})
        for i in range(n):
            p = f"layer{s}.{i}."
            block = legacy_bottleneck if p + "conv3.weight" in sd else legacy_basic
            x = block(x, sd, p, 2 if i == 0 and s > 1 else 1)
    return F.linear(x.mean((2, 3)), sd["last_linear.weight"], sd["last_linear.bias"])
