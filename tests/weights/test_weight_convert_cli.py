"""``senet convert`` round trips and ``create_model(name, weights=PATH)``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from caffe_writer import encode_net, tiny_se_resnet
from safetensors import safe_open
from weight_fixtures import randomize, to_cadene

from senet.api import create_model
from senet.cli import main
from senet.weights.convert import convert_file


def test_cadene_file_round_trip(tmp_path: Path) -> None:
    # the legacy SE-ResNet-18 network: ceil-mode stem pool and the ReLU before SE (layouts.md)
    ref = randomize(create_model("se_resnet18", stem_pool_ceil=True, relu_before_se=True, num_classes=10))
    torch.save(to_cadene(ref.state_dict(), deep_stem=False, counters=True), tmp_path / "legacy.pth")
    out = tmp_path / "se_resnet18.safetensors"
    argv = f"convert --from cadene {tmp_path / 'legacy.pth'} --to {out} --model se_resnet18".split()
    assert main(argv) == 0
    with safe_open(str(out), framework="pt") as fh:
        assert fh.metadata()["senet.model"] == "se_resnet18" and fh.metadata()["senet.source"] == "cadene"
    model = create_model("se_resnet18", weights=out)
    assert model.config.stem_pool_ceil is True and model.config.num_classes == 10
    x = torch.randn(2, 3, 57, 57)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="se_resnet18"):
        create_model("se_resnet34", weights=out)
    assert main(argv[:-1] + ["se_resnet50"]) == 2  # --model names another network


def test_caffe_cli_round_trip_keeps_preprocessing(tmp_path: Path) -> None:
    (tmp_path / "net.caffemodel").write_bytes(encode_net(list(tiny_se_resnet().values())))
    synsets = tmp_path / "synsets.txt"
    synsets.write_text("".join(f"n0{i:07d}\n" for i in (5, 3, 9, 1, 0, 2, 8, 7, 4, 6)))
    out = tmp_path / "caffe.safetensors"
    model_file = tmp_path / "net.caffemodel"
    assert main(f"convert --from caffe {model_file} --to {out} --synsets {synsets}".split()) == 0
    direct = convert_file(tmp_path / "net.caffemodel", source="caffe", synsets=synsets)
    loaded = convert_file(out)  # a senet file: config and preprocessing from its metadata
    assert loaded.source == "caffe" and loaded.config == direct.config
    assert loaded.preprocessing == direct.preprocessing and loaded.preprocessing.label_order == "sorted-wnid"
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.build()(x), direct.build()(x))


def test_plain_state_dict_loads_into_registered_model(tmp_path: Path) -> None:
    ref = randomize(create_model("resnet18", num_classes=5))
    torch.save(ref.state_dict(), tmp_path / "plain.pth")
    model = create_model("resnet18", weights=tmp_path / "plain.pth", num_classes=5)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x))
    # 1000 classes vs 5 in the file: fine-tuning (issue 12) keeps the backbone, re-initialises the head
    tuned = create_model("resnet18", weights=tmp_path / "plain.pth")
    assert tuned.fc.out_features == 1000 and torch.equal(tuned.conv1.weight, ref.conv1.weight)
    with pytest.raises(ValueError, match="do not fit"):
        create_model("resnet34", weights=tmp_path / "plain.pth")  # another network: an error
