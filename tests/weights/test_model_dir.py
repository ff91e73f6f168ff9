"""The model format (config.json + model.safetensors + README.md) and fine-tuning from any weights."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import senet
from senet.config import ConfigError
from senet.weights.adapt import adapt_channels
from senet.weights.card import ModelCard
from senet.weights.model_dir import read_source
from senet.weights.preprocessing import Preprocessing

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from data_fixtures import write_tree  # noqa: E402

X = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))


def _trained_like(name: str = "se_resnet18", **kwargs: object) -> torch.nn.Module:
    torch.manual_seed(0)
    model = senet.create_model(name, **kwargs).eval()
    for m in model.modules():  # BN statistics that are not the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model


def test_a_model_folder_round_trips(tmp_path: Path) -> None:
    model = _trained_like(num_classes=7)
    prep = Preprocessing(input_size=64, crop_fraction=0.8, interpolation="bicubic")
    folder = senet.save_pretrained(
        model,
        tmp_path / "m",
        name="se_resnet18",
        preprocessing=prep,
        labels=tuple("abcdefg"),
        source="a test",
    )
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    assert not (tmp_path / "m.partial").exists()
    config = json.loads((folder / "config.json").read_text())
    assert (config["name"], config["num_classes"], config["in_chans"]) == ("se_resnet18", 7, 3)
    assert config["preprocessing"]["interpolation"] == "bicubic" and config["labels"][0] == "a"
    loaded = senet.create_model(weights=folder)  # the card names the network
    with torch.no_grad():
        assert torch.equal(loaded(X), model(X))
    assert loaded.card.labels == tuple("abcdefg") and loaded.preprocessing == prep
    with pytest.raises(ValueError, match="holds weights for 'se_resnet18', not 'se_resnet34'"):
        senet.create_model("se_resnet34", weights=folder)


def test_fine_tuning_keeps_the_backbone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _trained_like()
    folder = senet.save_pretrained(model, tmp_path / "m", name="se_resnet18")
    tuned = senet.create_model("se_resnet18", weights=folder, num_classes=10)
    assert "fc: classifier re-initialised for 10 classes (the weights have 1000)" in capsys.readouterr().err
    own, new = model.state_dict(), tuned.state_dict()
    assert all(torch.equal(own[k], new[k]) for k in own if not k.startswith("fc."))
    assert tuned.fc.weight.shape == (10, 512) and tuned.card.labels is None
    grey = senet.create_model("se_resnet18", weights=folder, in_chans=1)
    assert "conv1.weight: filters adapted from 3 to 1 input channels" in capsys.readouterr().err
    image = torch.rand(1, 1, 64, 64)
    with torch.no_grad():  # a grey image gives the response of the same image in RGB
        assert torch.allclose(grey(image), model(image.expand(1, 3, 64, 64)), atol=1e-4)


def test_more_input_channels_keep_the_response_to_equal_channels() -> None:
    weight = torch.randn(8, 3, 3, 3)
    for channels in (1, 3, 6, 9):  # exact where the channels are whole copies of RGB
        adapted = adapt_channels(weight, channels)
        assert adapted.shape == (8, channels, 3, 3)
        assert torch.allclose(adapted.sum(1), weight.sum(1), atol=1e-5)  # same response to (x, x, ...)
    assert adapt_channels(weight, 4).shape == (8, 4, 3, 3)
    assert torch.equal(adapt_channels(weight, 4)[:, 3], weight[:, 0] * 0.75)  # cyclic, scaled by 3 / 4


def test_training_checkpoints_old_and_new_load_anywhere(tmp_path: Path) -> None:
    from senet.data import DataConfig
    from senet.train import TrainConfig, fit

    data = DataConfig(dataset="digits", input_size=8, limit_train=64, limit_val=32, workers=0)
    run = tmp_path / "run"
    fit(
        TrainConfig(model="se_resnet20_cifar", data=data, epochs=1, batch_size=32, out_dir=str(run)),
        quiet=True,
    )
    checkpoint = next((run / "checkpoints").iterdir())
    state, card = read_source(checkpoint)
    assert (card.name, card.num_classes, card.in_chans) == ("se_resnet20_cifar", 10, 1)
    assert card.preprocessing.input_size == 8 and card.labels == tuple(str(i) for i in range(10))
    model = senet.create_model(weights=checkpoint)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])
    with pytest.raises(ConfigError, match="is a training run folder: give one of its checkpoints"):
        senet.create_model(weights=run)


def test_bad_cards_name_the_file_and_field(tmp_path: Path) -> None:
    folder = senet.save_pretrained(_trained_like("se_resnet20_cifar"), tmp_path / "m")
    raw = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(raw | {"family": "Transformer"}))
    with pytest.raises(ConfigError, match=r"config.json: unknown network family 'Transformer'"):
        read_source(folder)
    raw["config"]["se"]["gate"] = "soft"
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"config.json: config.se.gate='soft'"):
        read_source(folder)
    with pytest.raises(ConfigError, match="not a senet model folder"):
        ModelCard.from_dict({"format": "other"})


def test_eval_and_predict_take_a_model_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from senet.cli import main

    write_tree(tmp_path / "tree", classes=("cat", "dog"), split="val", per_class=2)
    write_tree(tmp_path / "tree", classes=("cat", "dog"), split="train", per_class=2)
    model = _trained_like("se_resnet18", num_classes=3)
    prep = Preprocessing(input_size=32, crop_fraction=1.0)
    folder = senet.save_pretrained(model, tmp_path / "m", name="se_resnet18", preprocessing=prep,
                                   labels=("dog", "bird", "cat"), reported_top1=50.0)  # fmt: skip
    argv = [
        "eval",
        "--weights",
        str(folder),
        "--data",
        "folder",
        "--data-root",
        str(tmp_path / "tree"),
        "--json",
    ]
    assert main([*argv, "--workers", "0", "--threads", "1"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["val_images"] == 4 and scored["reported_top1"] == 50.0 and scored["model"] == "se_resnet18"
    image = str(tmp_path / "tree" / "val" / "cat" / "0.jpg")
    assert main(["predict", image, "--weights", str(folder), "--top", "3", "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)[0]["top"]
    assert sorted(r["class"] for r in ranked) == ["bird", "cat", "dog"]


def test_convert_writes_a_model_folder_every_command_reads(tmp_path: Path) -> None:
    from senet.cli import main

    sys.path.insert(0, str(Path(__file__).parent))
    from weight_fixtures import randomize, to_cadene

    ref = randomize(senet.create_model("se_resnet18", stem_pool_ceil=True, relu_before_se=True))
    torch.save(to_cadene(ref.state_dict(), deep_stem=False), tmp_path / "legacy.pth")
    assert (
        main(["convert", str(tmp_path / "legacy.pth"), "--from", "cadene", "--to", str(tmp_path / "m")]) == 0
    )
    card = json.loads((tmp_path / "m" / "config.json").read_text())
    assert card["name"] == "se_resnet18" and card["config"]["relu_before_se"] is True
    loaded = senet.create_model(weights=tmp_path / "m")
    with torch.no_grad():
        torch.testing.assert_close(loaded(X), ref(X), rtol=1e-5, atol=1e-5)


def test_eval_of_a_model_folder_matches_labels_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from senet.cli import main

    write_tree(tmp_path / "tree", classes=("dog", "fish"), split="val", per_class=1)
    folder = senet.save_pretrained(_trained_like("se_resnet18", num_classes=2), tmp_path / "m",
                                   name="se_resnet18", preprocessing=Preprocessing(input_size=32),
                                   labels=("ants", "bees"))  # fmt: skip
    argv = ["eval", "--weights", str(folder), "--data", "folder", "--data-root", str(tmp_path / "tree")]
    assert main([*argv, "--workers", "0", "--threads", "1"]) == 2  # not scored by position
    err = capsys.readouterr().err
    assert "'dog', 'fish'" in err and "'ants', 'bees'" in err


def test_predict_refuses_non_finite_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from senet.cli import main

    model = _trained_like("se_resnet18", num_classes=3)
    with torch.no_grad():
        model.fc.weight[0, 0] = float("nan")
    folder = senet.save_pretrained(model, tmp_path / "m", name="se_resnet18",
                                   preprocessing=Preprocessing(input_size=32))  # fmt: skip
    (image,) = write_tree(tmp_path / "tree", classes=("cat",), per_class=1)
    assert main(["predict", str(image), "--weights", str(folder)]) == 2
    captured = capsys.readouterr()
    assert "not finite" in captured.err and "nan%" not in captured.out
