"""Official-Caffe layout: a tiny .caffemodel written here loads with the Caffe logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from caffe_writer import Layer, caffe_forward, encode_net, tiny_se_resnet

from senet.weights.caffe import read_caffemodel
from senet.weights.convert import convert_file

WNIDS = ["n04592741", "n01440764", "n09999999", "n02085620", "n03000134",
         "n01530575", "n07248320", "n02999410", "n04152593", "n01443537"]  # fmt: skip


def _write(tmp_path: Path, layers: dict[str, Layer], v1: bool = False) -> Path:
    path = tmp_path / ("v1.caffemodel" if v1 else "net.caffemodel")
    path.write_bytes(encode_net(list(layers.values()), v1=v1))
    return path


def _inputs() -> tuple[torch.Tensor, torch.Tensor]:
    rgb = torch.rand(
        2, 3, 57, 57, generator=torch.Generator().manual_seed(0)
    )  # odd size: Caffe's ceil-mode pooling differs from floor
    return rgb, rgb[:, [2, 1, 0]] * 255.0  # (RGB in [0, 1], BGR in 0..255)


def _assert_close(got: torch.Tensor, want: torch.Tensor) -> None:
    """Float32 rounding relative to the logit scale: inputs are 0..255, so logits reach ~1e3."""
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5 * float(want.abs().max()))


def _senet_input(rgb: torch.Tensor, prep: object) -> torch.Tensor:
    mean = torch.tensor(prep.mean)[:, None, None]
    std = torch.tensor(prep.std)[:, None, None]
    return (rgb - mean) / std


@pytest.mark.parametrize("senet154", [False, True], ids=["se-resnet", "senet154-style"])
def test_caffe_model_gives_caffe_logits(tmp_path: Path, senet154: bool) -> None:
    layers = tiny_se_resnet(senet154=senet154)
    converted = convert_file(_write(tmp_path, layers), source="caffe")
    assert converted.config.stride_in_1x1 is not senet154 and converted.config.stem_pool_ceil is True
    assert (converted.config.stem, converted.config.groups) == (("deep", 4) if senet154 else ("7x7", 1))
    assert converted.preprocessing.label_order == "devkit"
    rgb, bgr = _inputs()
    with torch.no_grad():
        got = converted.build()(_senet_input(rgb, converted.preprocessing))
    _assert_close(got, caffe_forward(layers, bgr))


def test_classifier_rows_follow_sorted_wnids(tmp_path: Path) -> None:
    layers = tiny_se_resnet()
    synsets = tmp_path / "synsets.txt"
    synsets.write_text("".join(f"{w} class {i}\n" for i, w in enumerate(WNIDS)))
    converted = convert_file(_write(tmp_path, layers), source="caffe", synsets=synsets)
    assert converted.preprocessing.label_order == "sorted-wnid"
    rgb, bgr = _inputs()
    with torch.no_grad():
        got = converted.build()(_senet_input(rgb, converted.preprocessing))
    order = np.argsort(WNIDS)  # sorted position j holds devkit class order[j]
    _assert_close(got, caffe_forward(layers, bgr)[:, order])


def test_v1_layers_decode_like_v2(tmp_path: Path) -> None:
    layers = tiny_se_resnet()
    new, old = read_caffemodel(_write(tmp_path, layers)), read_caffemodel(_write(tmp_path, layers, v1=True))
    assert list(new) == list(old) == list(layers)
    for name, layer in layers.items():
        assert old[name].stride == new[name].stride == layer.stride
        for a, b in zip(old[name].blobs, layer.blobs, strict=True):
            np.testing.assert_array_equal(a.reshape(-1), b.reshape(-1))
    sd_new = convert_file(tmp_path / "net.caffemodel", source="caffe").state_dict
    sd_old = convert_file(tmp_path / "v1.caffemodel", source="caffe").state_dict
    assert sd_new.keys() == sd_old.keys()
    assert all(torch.equal(sd_new[k], sd_old[k]) for k in sd_new)


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    layers = tiny_se_resnet()
    layers["mystery"] = Layer("mystery", "Convolution", [np.zeros((4, 4, 1, 1), np.float32)])
    with pytest.raises(ValueError, match="mystery"):
        convert_file(_write(tmp_path, layers), source="caffe")
    synsets = tmp_path / "synsets.txt"
    synsets.write_text("n01440764\nnot-a-wnid\n")
    with pytest.raises(ValueError, match="not-a-wnid"):
        convert_file(_write(tmp_path, tiny_se_resnet()), source="caffe", synsets=synsets)
