"""The official Caffe release (hujie-frank/SENet): read a ``.caffemodel`` and fold it into senet.

The file is a protobuf ``NetParameter`` (caffe.proto): ``layer`` (field 100, LayerParameter:
name 1, type 2, blobs 7, convolution_param 106, batch_norm_param 139) or, in old files,
``layers`` (field 2, V1LayerParameter: name 4, type 5, blobs 6, convolution_param 10). A
BlobProto holds ``shape`` 7 (BlobShape.dim 1), ``data`` 5, ``double_data`` 8 or the legacy
num/channels/height/width 1-4. Read with :mod:`senet.weights.protobuf`; no Caffe needed.

Conversion (the release's names: stem ``conv1/7x7_s2``, or SENet-154's ``conv1_1/3x3_s2``,
``conv1_2/3x3``, ``conv1_3/3x3``; blocks ``conv{s}_{b}_*`` with stages numbered from
conv2 = layer1; grouped 3x3 convolutions read from the blob shapes):

- Caffe BatchNorm keeps (mean, variance, s): the statistics are mean / s and variance / s;
  its epsilon (default 1e-5) is folded into the variance for ``nn.BatchNorm2d``'s 1e-5; the
  following Scale layer holds gamma and beta.
- The network takes BGR in 0..255 minus the per-channel mean: the channel swap is folded into
  ``conv1`` exactly, and the declared preprocessing becomes mean = mean_rgb / 255,
  std = 1 / 255 (so x = 255 rgb - mean_rgb, bit for bit Caffe's input, zero padding included).
- Caffe rounds pooling output sizes up: ``stem_pool_ceil=True``.
- SE-BN-Inception (layers ``inception_3a/1x1`` ...) maps onto ``BNInception`` by the names of
  :mod:`senet.weights.caffe_inception`; everything above but the stride placement holds for it.
- The classifier follows the devkit label order; given the devkit-ordered WNID list its rows
  are permuted to sorted-WNID order.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from senet.errors import WeightsFileError
from senet.models.inception import BNInceptionConfig
from senet.models.resnet import ResNetConfig
from senet.weights.caffe_inception import (
    FIRST_CONV,
    check_strides,
    inception_config,
    inception_target,
    is_bn_inception,
)
from senet.weights.detect import infer_config
from senet.weights.preprocessing import Preprocessing
from senet.weights.protobuf import ProtobufError, as_float, as_floats, as_ints, as_string, fields

CAFFE_BGR_MEAN = (104.0, 117.0, 123.0)
_V1_TYPES = {4: "Convolution", 14: "InnerProduct", 17: "Pooling", 18: "ReLU", 19: "Sigmoid"}
_BLOCK = re.compile(r"conv(\d+)_(\d+)_(1x1_reduce|3x3|1x1_increase|1x1_proj|1x1_down|1x1_up)")
# Caffe suffix -> (senet conv, senet BN or None)
_BLOCK_PARTS = {
    "1x1_reduce": ("conv1", "bn1"),
    "3x3": ("conv2", "bn2"),
    "1x1_increase": ("conv3", "bn3"),
    "1x1_proj": ("downsample.0", "downsample.1"),
    "1x1_down": ("se.fc1", None),  # W1 of Eq. 3
    "1x1_up": ("se.fc2", None),  # W2 of Eq. 3
}
# Stem convolutions -> (senet conv, senet BN): the 7x7 of SE-ResNet / SE-ResNeXt, or the three
# 3x3 convolutions of SENet-154 (conv1_1 stride 2, 64; conv1_2, 64; conv1_3, 128).
_STEM = {
    "conv1/7x7_s2": ("conv1", "bn1"),
    "conv1_1/3x3_s2": ("conv1.0", "conv1.1"),
    "conv1_2/3x3": ("conv1.3", "conv1.4"),
    "conv1_3/3x3": ("conv1.6", "bn1"),
}


@dataclass
class CaffeLayer:
    """One layer of a .caffemodel: its blobs and the few parameters the converter checks."""

    name: str
    type: str
    blobs: list[np.ndarray] = field(default_factory=list)
    stride: int = 1
    pad: int = 0
    group: int = 1
    bn_eps: float = 1e-5


def _blob(raw: memoryview) -> np.ndarray:
    f = fields(raw)
    data = as_floats(f.get(5)) if 5 in f else as_floats(f.get(8), double=True).astype(np.float32)
    if 7 in f:
        shape = as_ints(fields(f[7][-1][1]).get(1))
    else:
        shape = [d for d in (as_ints(f.get(n)) for n in (1, 2, 3, 4)) for d in d] or [data.size]
    if int(np.prod(shape)) != data.size:
        raise ValueError(f"blob of shape {shape} holds {data.size} values")
    return data.reshape(shape)


def _layer(raw: memoryview, v1: bool) -> CaffeLayer:
    f = fields(raw)
    name_f, type_f, blobs_f, conv_f = (4, 5, 6, 10) if v1 else (1, 2, 7, 106)
    if v1:
        code = as_ints(f.get(type_f))
        kind = _V1_TYPES.get(code[-1], f"V1:{code[-1]}") if code else ""
    else:
        kind = as_string(f.get(type_f))
    layer = CaffeLayer(as_string(f.get(name_f)), kind, [_blob(b) for _, b in f.get(blobs_f, [])])
    if conv_f in f:
        conv = fields(f[conv_f][-1][1])
        layer.stride = (as_ints(conv.get(6)) or as_ints(conv.get(13)) or [1])[0]
        layer.pad = (as_ints(conv.get(3)) or as_ints(conv.get(9)) or [0])[0]
        layer.group = (as_ints(conv.get(5)) or [1])[0]
    if not v1 and 139 in f:
        layer.bn_eps = as_float(fields(f[139][-1][1]).get(3), 1e-5)
    return layer


# The first tag of a NetParameter: name (field 1), V1 layers (field 2) or layer (field 100).
_NET_TAGS = (b"\x0a", b"\x12", b"\xa2\x06")


def is_caffemodel(path: str | Path) -> bool:
    """Whether ``path`` is a ``.caffemodel``: by its suffix, or by content for a file that is
    neither safetensors (8-byte length, then ``{``), a zip (``PK``) nor a pickle (``0x80``) and
    starts with the tag of a NetParameter field."""
    path = Path(path)
    if path.suffix == ".caffemodel":
        return True
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        head = fh.read(9)
    if len(head) < 2 or head[8:9] == b"{" or head[:2] == b"PK" or head[:1] == b"\x80":
        return False
    return head.startswith(_NET_TAGS)


def read_caffemodel(path: str | Path) -> dict[str, CaffeLayer]:
    """Every layer of a .caffemodel by name (``layer`` field 100, or V1 ``layers`` field 2)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"caffemodel not found: {path}")
    try:
        net = fields(path.read_bytes())
        entries, v1 = (net[100], False) if 100 in net else (net.get(2, []), True)
        layers = {}
        for wire, raw in entries:
            if not isinstance(raw, memoryview):
                raise ProtobufError(f"layer field with wire type {wire}, not a message")
            layer = _layer(raw, v1)
            layers[layer.name] = layer
    except (ValueError, TypeError, IndexError, OverflowError, struct.error) as err:  # the bytes, not a bug
        raise WeightsFileError(f"{path}: not a readable .caffemodel ({err})") from err
    if not layers:
        raise WeightsFileError(f"{path}: no layers (NetParameter fields 100 / 2) found")
    return layers


def _bn(layers: dict[str, CaffeLayer], conv: str, channels: int, used: set[str]) -> dict[str, torch.Tensor]:
    """senet BN tensors from Caffe's ``conv/bn`` (BatchNorm) and ``conv/bn/scale`` (Scale)."""
    bn, scale = layers.get(f"{conv}/bn"), layers.get(f"{conv}/bn/scale")
    if bn is None or len(bn.blobs) < 2:
        raise ValueError(f"convolution {conv!r} has no BatchNorm layer '{conv}/bn' with mean and variance")
    used.update(n for n in (f"{conv}/bn", f"{conv}/bn/scale") if n in layers)
    factor = float(bn.blobs[2].reshape(-1)[0]) if len(bn.blobs) > 2 else 1.0
    factor = 0.0 if factor == 0 else 1.0 / factor  # Caffe's moving-average scale factor
    mean = bn.blobs[0].reshape(-1) * factor
    var = bn.blobs[1].reshape(-1) * factor + (bn.bn_eps - 1e-5)  # fold eps into nn.BatchNorm2d's 1e-5
    gamma = scale.blobs[0].reshape(-1) if scale and scale.blobs else np.ones(channels, np.float32)
    beta = scale.blobs[1].reshape(-1) if scale and len(scale.blobs) > 1 else np.zeros(channels, np.float32)
    t = {"weight": gamma, "bias": beta, "running_mean": mean, "running_var": var}
    out = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in t.items()}
    out["num_batches_tracked"] = torch.tensor(0)
    return out


def _target(name: str) -> tuple[str, str | None] | None:
    """The senet (conv, BN) prefixes of a Caffe convolution name, or None if not a network conv."""
    if name in _STEM:
        return _STEM[name]
    m = _BLOCK.fullmatch(name)
    if m is None:
        return None
    stage, block, part = int(m.group(1)), int(m.group(2)), m.group(3)
    if not 2 <= stage <= 5 or block < 1:
        raise ValueError(f"layer {name!r}: stage must be 2..5 and block >= 1")
    conv, bn = _BLOCK_PARTS[part]
    prefix = f"layer{stage - 1}.{block - 1}."
    return prefix + conv, None if bn is None else prefix + bn


Target = Callable[[str], tuple[str, str | None] | None]
"""A Caffe convolution's name -> its senet (conv, BN) prefixes (BN None: an SE layer), or None."""


def caffe_state_dict(layers: dict[str, CaffeLayer], target_of: Target = _target) -> dict[str, torch.Tensor]:
    """The state dict in senet names of Caffe layers named as ``target_of`` reads them (the
    SE-ResNet / SENet-154 names by default); BN + Scale folded, the classifier to ``fc``."""
    sd: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    for name, layer in layers.items():
        target = target_of(name)
        if target is None or not layer.blobs:
            continue
        used.add(name)
        conv, bn = target
        weight = torch.from_numpy(np.ascontiguousarray(layer.blobs[0], dtype=np.float32))
        if weight.ndim == 2:  # an InnerProduct used as SE FC: (C', C) -> (C', C, 1, 1)
            weight = weight[:, :, None, None]
        sd[conv + ".weight"] = weight
        bias = (
            torch.from_numpy(layer.blobs[1].reshape(-1).astype(np.float32)) if len(layer.blobs) > 1 else None
        )
        if bn is None:
            if bias is None:
                raise ValueError(f"SE layer {name!r} has no bias blob; the released SE FCs carry one")
            sd[conv + ".bias"] = bias
            continue
        if layer.pad != weight.shape[-1] // 2 and layer.type == "Convolution":
            raise ValueError(
                f"convolution {name!r} pads {layer.pad}, senet pads kernel // 2 = {weight.shape[-1] // 2}"
            )
        stats = _bn(layers, name, weight.shape[0], used)
        if bias is not None:  # BN(Wx + b) with mean m == BN(Wx) with mean m - b
            stats["running_mean"] = stats["running_mean"] - bias
        sd.update({f"{bn}.{k}": v for k, v in stats.items()})
    fc = [n for n, layer in layers.items() if layer.type == "InnerProduct" and layer.blobs and n not in used]
    if len(fc) != 1:
        raise ValueError(f"expected one InnerProduct classifier, found {fc}")
    weight, *bias = layers[fc[0]].blobs
    classes = weight.shape[0] if weight.ndim == 2 else int(np.prod(weight.shape[:-1]))
    sd["fc.weight"] = torch.from_numpy(np.ascontiguousarray(weight.reshape(classes, -1), dtype=np.float32))
    sd["fc.bias"] = torch.from_numpy(bias[0].reshape(-1).astype(np.float32)) if bias else torch.zeros(classes)
    used.add(fc[0])
    leftover = sorted(n for n, layer in layers.items() if layer.blobs and n not in used)
    if leftover:
        raise ValueError(f"Caffe layers with weights that senet has no place for: {leftover[:6]}")
    return sd


def _stride_in_1x1(layers: dict[str, CaffeLayer]) -> bool:
    """Where the first block of conv3 (layer2) strides: its 1x1 reduce or its 3x3."""
    reduce, conv3 = layers.get("conv3_1_1x1_reduce"), layers.get("conv3_1_3x3")
    if reduce is not None and reduce.stride == 2:
        return True
    if conv3 is not None and conv3.stride == 2:
        return False
    raise ValueError("neither conv3_1_1x1_reduce nor conv3_1_3x3 has stride 2 (no convolution_param?)")


def read_synsets(path: str | Path) -> list[str]:
    """WNIDs, one per line (``n01440764`` or ``n01440764 tench, ...``), in the file's order."""
    path = Path(path)
    wnids = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    bad = [w for w in wnids if not re.fullmatch(r"n\d{8}", w)]
    if bad:
        raise ValueError(f"{path}: not WNIDs (nXXXXXXXX): {bad[:3]}")
    if len(set(wnids)) != len(wnids):
        raise ValueError(f"{path}: repeated WNIDs")
    return wnids


def devkit_to_sorted(wnids: list[str]) -> torch.Tensor:
    """Row permutation p with new_row[j] = old_row[p[j]]: devkit order -> sorted-WNID order."""
    return torch.tensor(sorted(range(len(wnids)), key=wnids.__getitem__))


def from_caffe(
    path: str | Path,
    *,
    synsets: list[str] | None = None,
    bgr_mean: tuple[float, float, float] = CAFFE_BGR_MEAN,
) -> tuple[dict[str, torch.Tensor], ResNetConfig | BNInceptionConfig, Preprocessing]:
    """(state dict, config, preprocessing) of an official SE .caffemodel, taking RGB input: the
    SE-ResNet / SE-ResNeXt / SENet-154 family, or SE-BN-Inception (:mod:`caffe_inception`)."""
    layers = read_caffemodel(path)
    config: ResNetConfig | BNInceptionConfig
    if is_bn_inception(layers):
        check_strides({n: layer.stride for n, layer in layers.items() if layer.type == "Convolution"})
        sd = caffe_state_dict(layers, inception_target)
        config, first = inception_config(sd), FIRST_CONV
    else:
        sd = caffe_state_dict(layers)
        config = infer_config(sd, stride_in_1x1=_stride_in_1x1(layers), stem_pool_ceil=True)
        first = "conv1.0.weight" if "conv1.0.weight" in sd else "conv1.weight"
    sd[first] = sd[first].flip(1).contiguous()  # BGR -> RGB input channels
    order = "devkit"
    if synsets is not None:
        if len(synsets) != sd["fc.weight"].shape[0]:
            raise ValueError(f"{len(synsets)} synsets for a classifier of {sd['fc.weight'].shape[0]} classes")
        perm = devkit_to_sorted(synsets)
        sd["fc.weight"], sd["fc.bias"] = sd["fc.weight"][perm], sd["fc.bias"][perm]
        order = "sorted-wnid"
    rgb_mean = tuple(m / 255.0 for m in reversed(bgr_mean))
    prep = Preprocessing(mean=rgb_mean, std=(1 / 255.0,) * 3, interpolation="bilinear", label_order=order)
    return sd, config, prep
