"""The official SE-BN-Inception Caffe model converts, and gives the Caffe network's logits.

``tests/fixtures/se_bn_inception_prototxt.json`` is the layer graph of the release's
``models/SE-BN-Inception.prototxt`` (github.com/hujie-frank/SENet, commit 2c51ece0; every layer
in file order with its bottoms, tops and layer parameters). A .caffemodel is written with random
weights under exactly those layer names, and the reference below runs that graph as Caffe does
-- an interpreter of the layer list in float64 (Caffe's ceil pooling and its AVE divisor,
BatchNorm with its scale factor, Scale, Concat, the SE layers' Reshape and two-bottom Scale) --
knowing nothing of senet's BNInception.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from caffe_writer import BGR_MEAN, Layer, encode_net

import senet
from senet.api import create_model
from senet.cli import main
from senet.weights.convert import convert_file

GRAPH: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "se_bn_inception_prototxt.json").read_text()
)


def _pool(x: torch.Tensor, p: dict[str, Any]) -> torch.Tensor:
    """Caffe's PoolingLayer: ceil-mode output size, MAX over the window clipped to the image,
    AVE divided by the window clipped to the *padded* image (pooling_layer.cpp)."""
    h, w = x.shape[-2:]
    k, s, pad = p.get("kernel_size", 1), p.get("stride", 1), p.get("pad", 0)
    if p.get("global_pooling") == "true":
        k, s, pad = h, 1, 0
    oh, ow = (math.ceil((n + 2 * pad - k) / s) + 1 for n in (h, w))
    if pad:
        oh, ow = oh - ((oh - 1) * s >= h + pad), ow - ((ow - 1) * s >= w + pad)
    rows = []
    for i in range(oh):
        row = []
        for j in range(ow):
            h0, w0 = i * s - pad, j * s - pad
            h1, w1 = min(h0 + k, h + pad), min(w0 + k, w + pad)
            window = x[..., max(h0, 0) : min(h1, h), max(w0, 0) : min(w1, w)]
            if p["pool"] == "MAX":
                row.append(window.amax((-2, -1)))
            else:
                row.append(window.sum((-2, -1)) / ((h1 - h0) * (w1 - w0)))
        rows.append(torch.stack(row, -1))
    return torch.stack(rows, -2)


def caffe_run(
    blobs: dict[str, list[np.ndarray]], bgr255: torch.Tensor, *, calibrate: bool = False
) -> torch.Tensor:
    """The prototxt's graph on a BGR 0..255 batch, in float64; returns the ``classifier`` output.
    ``calibrate`` first sets each BatchNorm's statistics to the batch's (so that random weights
    keep unit-scale activations through the 69 conv layers)."""
    blob = {name: [torch.from_numpy(b).double() for b in bs] for name, bs in blobs.items()}
    t = {"data": bgr255.double() - torch.from_numpy(BGR_MEAN).double()[:, None, None]}
    for layer in GRAPH:
        kind, p, w = layer["type"], layer.get("param", {}), blob.get(layer["name"], [])
        x = [t[b] for b in layer["bottom"]]
        if kind in ("Input", "Softmax"):
            continue
        if kind == "Convolution":
            y = F.conv2d(x[0], w[0], w[1] if len(w) > 1 else None, p.get("stride", 1), p.get("pad", 0))
        elif kind == "BatchNorm":
            if calibrate:
                factor = float(blobs[layer["name"]][2][0])
                blobs[layer["name"]][0][:] = x[0].mean((0, 2, 3)).numpy() * factor
                var = x[0].var((0, 2, 3), unbiased=False) + 0.1  # near-dead channels not blown up
                blobs[layer["name"]][1][:] = var.numpy() * factor
                w = [torch.from_numpy(b).double() for b in blobs[layer["name"]]]
            mean, var = (v / w[2][0] for v in w[:2])
            y = (x[0] - mean[:, None, None]) / torch.sqrt(var[:, None, None] + 1e-5)
        elif kind == "Scale" and len(x) == 2:  # axis 0: (N, C) scales of the SE block
            y = x[0] * x[1][:, :, None, None]
        elif kind == "Scale":
            y = x[0] * w[0][:, None, None] + w[1][:, None, None]
        elif kind == "ReLU":
            y = torch.relu(x[0])
        elif kind == "Sigmoid":
            y = torch.sigmoid(x[0])
        elif kind == "Pooling":
            y = _pool(x[0], p)
        elif kind == "Concat":
            y = torch.cat(x, 1)
        elif kind == "Reshape":  # shape { dim: 0 dim: 0 }: keep N and C
            y = x[0].reshape(x[0].shape[:2])
        elif kind == "InnerProduct":
            y = x[0].flatten(1) @ w[0].T + w[1]
        else:
            raise AssertionError(f"layer type {kind} not in the prototxt")
        for top in layer["top"]:
            t[top] = y
    return t["classifier"]


def random_blobs(seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Random float32 weights for every weighted layer of the graph, shaped from its parameters."""
    rng = np.random.default_rng(seed)
    channels = {"data": 3}
    blobs: dict[str, list[np.ndarray]] = {}
    for layer in GRAPH:
        kind, p, name = layer["type"], layer.get("param", {}), layer["name"]
        cin = sum(channels.get(b, 0) for b in layer["bottom"])
        cout = 3 if kind == "Input" else cin
        if kind == "Convolution":
            cout, k = p["num_output"], p.get("kernel_size", 1)
            w = rng.normal(0, math.sqrt(2 / (cin * k * k)), (cout, cin, k, k))
            blobs[name] = [w] + ([rng.normal(0, 0.5, cout)] if p.get("bias_term") != "false" else [])
        elif kind == "BatchNorm":  # statistics set by calibration; the moving-average factor random
            blobs[name] = [np.zeros(cin), np.ones(cin), np.array([rng.uniform(0.5, 10.0)])]
        elif kind == "Scale" and len(layer["bottom"]) == 1:
            blobs[name] = [rng.uniform(0.5, 1.5, cin), rng.normal(0, 0.2, cin)]
        elif kind == "InnerProduct":
            cout = p["num_output"]
            blobs[name] = [rng.normal(0, 0.05, (cout, cin)), rng.normal(0, 0.1, cout)]
        elif kind == "Reshape" or (kind == "Scale" and len(layer["bottom"]) == 2):
            cout = channels[layer["bottom"][0]]
        for top in layer["top"]:
            channels[top] = cout
    return {name: [b.astype(np.float32) for b in bs] for name, bs in blobs.items()}


def write_caffemodel(
    path: Path,
    blobs: dict[str, list[np.ndarray]],
    strides: dict[str, int] | None = None,
    without: tuple[str, ...] = (),
) -> Path:
    """Every layer of the graph in file order (the weightless ones too, as a real .caffemodel)
    but those whose names end with one of ``without``; ``strides`` replaces the prototxt's
    stride of the layers it names."""
    layers = []
    for layer in (g for g in GRAPH if not g["name"].endswith(without) or not without):
        p = layer.get("param", {})
        stride, pad = (strides or {}).get(layer["name"], p.get("stride", 1)), p.get("pad", 0)
        layers.append(Layer(layer["name"], layer["type"], blobs.get(layer["name"], []), stride, pad))
    path.write_bytes(encode_net(layers))
    return path


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[np.ndarray]], Path]:
    blobs = random_blobs()
    torch.set_num_threads(1)
    with torch.no_grad():
        caffe_run(blobs, _inputs()[1], calibrate=True)  # realistic BN statistics, float32 again below
    blobs = {name: [b.astype(np.float32) for b in bs] for name, bs in blobs.items()}
    return blobs, write_caffemodel(tmp_path_factory.mktemp("caffe") / "SE-BN-Inception.caffemodel", blobs)


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """(RGB in [0, 1], BGR in 0..255) at 224, the one size the prototxt runs at (pool5 is 7 x 7)."""
    rgb = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    return rgb, rgb[:, [2, 1, 0]] * 255.0


def test_every_weighted_layer_of_the_prototxt_is_mapped(official: tuple[dict, Path]) -> None:
    blobs, path = official
    kinds = [layer["type"] for layer in GRAPH]
    assert (kinds.count("Convolution"), kinds.count("BatchNorm"), len(blobs)) == (89, 69, 89 + 69 + 69 + 1)
    converted = convert_file(path, source="caffe")  # raises on any weighted layer left without a place
    assert converted.model_name == "se_bn_inception"
    want = senet.create_model("se_bn_inception").state_dict()
    assert converted.state_dict.keys() == want.keys()
    assert all(converted.state_dict[k].shape == want[k].shape for k in want)
    assert torch.equal(
        converted.state_dict["blocks.9.se.fc2.bias"], torch.from_numpy(blobs["inception_5b_1x1_up"][1])
    )


@pytest.mark.slow
def test_converted_model_gives_the_caffe_logits(official: tuple[dict, Path]) -> None:
    blobs, path = official
    converted = convert_file(path, source="caffe")
    model = converted.build()
    rgb, bgr = _inputs()
    prep = converted.preprocessing
    x = (rgb - torch.tensor(prep.mean)[:, None, None]) / torch.tensor(prep.std)[:, None, None]
    with torch.no_grad():
        got, want = model(x).double(), caffe_run(blobs, bgr)
    assert want.abs().max() > 0.5 and want.std() > 0.2  # logits of a working network, not ~0
    assert (got - want).abs().max() <= 1e-4


def test_plain_bn_inception_converts_without_the_se_layers(
    tmp_path: Path, official: tuple[dict, Path]
) -> None:
    path = write_caffemodel(tmp_path / "bn.caffemodel", official[0], without=("_1x1_down", "_1x1_up"))
    converted = convert_file(path, source="caffe")
    assert converted.model_name == "bn_inception" and converted.config.se is None
    converted.build()  # loads strictly


def test_a_moved_stride_is_named(tmp_path: Path, official: tuple[dict, Path]) -> None:
    bad = write_caffemodel(tmp_path / "bad.caffemodel", official[0], strides={"inception_4e/3x3": 1})
    with pytest.raises(ValueError, match=r"inception_4e/3x3 \(stride 1\)"):
        convert_file(bad, source="caffe")


@pytest.mark.parametrize("target", ["se_bn_inception.safetensors", "folder"])
def test_cli_conversion_loads_by_name(tmp_path: Path, official: tuple[dict, Path], target: str) -> None:
    out = tmp_path / target
    argv = f"convert --from caffe {official[1]} --to {out} --model se_bn_inception".split()
    assert main(argv) == 0
    model = create_model("se_bn_inception", weights=out)
    direct = convert_file(official[1], source="caffe")
    assert model.preprocessing == direct.preprocessing and model.preprocessing.std == (1 / 255.0,) * 3
    got = model.state_dict()
    assert all(torch.equal(got[k], v) for k, v in direct.state_dict.items())
    if target.endswith(".safetensors"):
        assert convert_file(out).config == direct.config  # BNInceptionConfig from the file's metadata
    with pytest.raises(ValueError, match="se_bn_inception"):
        create_model("bn_inception", weights=out)
