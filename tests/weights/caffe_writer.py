"""A protobuf ENCODER for tiny .caffemodel files, and a reference of the Caffe computation.

Independent of senet.weights: the encoder writes caffe.proto field numbers directly, and
:func:`caffe_forward` runs the Caffe graph (BGR, mean-subtracted input; BatchNorm with its
moving-average scale factor; Scale; ceil-mode max-pool; SE; Axpy) with plain torch ops.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from senet.weights.caffe import CaffeLayer as Layer  # a plain record of name, type, blobs, params

BGR_MEAN = np.array([104.0, 117.0, 123.0], np.float32)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _ld(field_no: int, payload: bytes) -> bytes:  # length-delimited
    return _varint(field_no << 3 | 2) + _varint(len(payload)) + payload


def _int(field_no: int, value: int) -> bytes:
    return _varint(field_no << 3) + _varint(value)


def encode_blob(arr: np.ndarray, *, legacy_shape: bool = False) -> bytes:
    data = _ld(5, arr.astype("<f4").tobytes())  # packed float data
    if legacy_shape:  # num / channels / height / width (fields 1-4)
        dims = (1,) * (4 - arr.ndim) + arr.shape
        return b"".join(_int(i + 1, d) for i, d in enumerate(dims)) + data
    return _ld(7, _ld(1, b"".join(_varint(d) for d in arr.shape))) + data  # BlobShape.dim, packed


_V1_CODES = {"Convolution": 4, "InnerProduct": 14}


def encode_net(layers: list[Layer], *, v1: bool = False) -> bytes:
    """NetParameter with ``layer`` (field 100) or V1 ``layers`` (field 2) entries."""
    out = [_ld(1, b"tiny-se-resnet")]  # joined once: a full-size net is tens of MB
    for layer in layers:
        if v1:
            body = _ld(4, layer.name.encode()) + _int(5, _V1_CODES.get(layer.type, 0))
            body += b"".join(_ld(6, encode_blob(b, legacy_shape=True)) for b in layer.blobs)
        else:
            body = _ld(1, layer.name.encode()) + _ld(2, layer.type.encode())
            body += b"".join(_ld(7, encode_blob(b)) for b in layer.blobs)
        if layer.type == "Convolution":
            w = layer.blobs[0]
            conv = _int(1, w.shape[0]) + _int(2, int(len(layer.blobs) > 1)) + _int(3, layer.pad)
            conv += _int(4, w.shape[-1]) + _int(6, layer.stride) + _int(5, layer.group)
            body += _ld(10 if v1 else 106, conv)
        out.append(_ld(2 if v1 else 100, body))
    return b"".join(out)


def tiny_se_resnet(
    *, num_classes: int = 10, blocks: tuple[int, ...] = (1, 2, 1, 1), senet154: bool = False, seed: int = 0
) -> dict[str, Layer]:
    """A thin SE-ResNet in the release's layer names (stride on the 1x1 reduce), or with
    ``senet154`` a thin SENet-154: three-conv stem, grouped 3x3 (4 groups) carrying the stride,
    first 1x1 at half the 3x3 width, 3x3 stride-2 projections."""
    rng = np.random.default_rng(seed)
    layers: dict[str, Layer] = {}

    def conv(
        name: str,
        cin: int,
        cout: int,
        k: int,
        stride: int = 1,
        *,
        group: int = 1,
        bias: bool = False,
        bn: bool = True,
    ) -> None:
        w = rng.normal(0, math.sqrt(2.0 * group / (cin * k * k)), (cout, cin // group, k, k)).astype(
            np.float32
        )
        blobs = [w] + ([rng.normal(0, 0.1, cout).astype(np.float32)] if bias else [])
        layers[name] = Layer(name, "Convolution", blobs, stride, k // 2, group)
        if bn:
            factor = np.float32(rng.uniform(0.5, 10.0))  # Caffe's moving-average scale factor
            mean = rng.normal(0, 0.1, cout).astype(np.float32) * factor
            var = rng.uniform(0.5, 1.5, cout).astype(np.float32) * factor
            layers[name + "/bn"] = Layer(
                name + "/bn", "BatchNorm", [mean, var, np.array([factor], np.float32)]
            )
            gamma, beta = rng.uniform(0.5, 1.5, cout), rng.normal(0, 0.1, cout)
            layers[name + "/bn/scale"] = Layer(
                name + "/bn/scale", "Scale", [gamma.astype(np.float32), beta.astype(np.float32)]
            )

    if senet154:
        conv("conv1_1/3x3_s2", 3, 64, 3, 2)
        conv("conv1_2/3x3", 64, 64, 3)
        conv("conv1_3/3x3", 64, 128, 3)
        cin, groups = 128, 4
    else:
        conv("conv1/7x7_s2", 3, 64, 7, 2, bias=True)
        cin, groups = 64, 1
    for s, n in enumerate(blocks, start=2):
        mid, out = 8 * groups * 2 ** (s - 2), 32 * 2 ** (s - 2)
        reduce = mid // 2 if senet154 else mid
        for b in range(1, n + 1):
            p, stride = f"conv{s}_{b}", 2 if (b == 1 and s > 2) else 1
            s1, s3 = (1, stride) if senet154 else (stride, 1)
            conv(p + "_1x1_reduce", cin, reduce, 1, s1)
            conv(p + "_3x3", reduce, mid, 3, s3, group=groups)
            conv(p + "_1x1_increase", mid, out, 1)
            conv(p + "_1x1_down", out, out // 16, 1, bias=True, bn=False)
            conv(p + "_1x1_up", out // 16, out, 1, bias=True, bn=False)
            if b == 1:
                conv(p + "_1x1_proj", cin, out, 3 if senet154 and stride == 2 else 1, stride)
            cin = out
    w = rng.normal(0, 0.05, (num_classes, cin)).astype(np.float32)
    layers["classifier"] = Layer(
        "classifier", "InnerProduct", [w, rng.normal(0, 0.1, num_classes).astype(np.float32)]
    )
    return layers


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def caffe_max_pool(x: torch.Tensor, k: int = 3, s: int = 2) -> torch.Tensor:
    """Caffe pooling without padding: ceil((H - k) / s) + 1 outputs, last window clipped."""
    h, w = x.shape[-2:]
    oh, ow = math.ceil((h - k) / s) + 1, math.ceil((w - k) / s) + 1
    x = F.pad(x, (0, (ow - 1) * s + k - w, 0, (oh - 1) * s + k - h), value=-math.inf)
    return F.max_pool2d(x, k, s)


def caffe_forward(layers: dict[str, Layer], bgr255: torch.Tensor) -> torch.Tensor:
    """Logits of the Caffe net for a BGR 0..255 batch (N, 3, H, W)."""

    def conv(x: torch.Tensor, name: str) -> torch.Tensor:
        L = layers[name]
        bias = _t(L.blobs[1]) if len(L.blobs) > 1 else None
        return F.conv2d(x, _t(L.blobs[0]), bias, L.stride, L.pad, 1, L.group)

    def bn(x: torch.Tensor, name: str) -> torch.Tensor:
        mean, var, factor = layers[name + "/bn"].blobs
        s = 0.0 if factor[0] == 0 else 1.0 / float(factor[0])
        gamma, beta = layers[name + "/bn/scale"].blobs
        y = (x - _t(mean * s)[:, None, None]) / torch.sqrt(_t(var * s)[:, None, None] + 1e-5)
        return y * _t(gamma)[:, None, None] + _t(beta)[:, None, None]

    x = bgr255 - _t(BGR_MEAN)[:, None, None]
    for stem in ("conv1/7x7_s2", "conv1_1/3x3_s2", "conv1_2/3x3", "conv1_3/3x3"):
        if stem in layers:
            x = torch.relu(bn(conv(x, stem), stem))
    x = caffe_max_pool(x)
    s = 2
    while f"conv{s}_1_1x1_reduce" in layers:
        b = 1
        while (p := f"conv{s}_{b}") + "_1x1_reduce" in layers:
            y = torch.relu(bn(conv(x, p + "_1x1_reduce"), p + "_1x1_reduce"))
            y = torch.relu(bn(conv(y, p + "_3x3"), p + "_3x3"))
            y = bn(conv(y, p + "_1x1_increase"), p + "_1x1_increase")
            z = y.mean((2, 3), keepdim=True)  # conv{s}_{b}_global_pool
            z = torch.sigmoid(conv(torch.relu(conv(z, p + "_1x1_down")), p + "_1x1_up"))  # _prob
            shortcut = bn(conv(x, p + "_1x1_proj"), p + "_1x1_proj") if p + "_1x1_proj" in layers else x
            x = torch.relu(z * y + shortcut)  # Axpy, then ReLU
            b += 1
        s += 1
    w, bias = layers["classifier"].blobs
    return x.mean((2, 3)) @ _t(w).T + _t(bias)
