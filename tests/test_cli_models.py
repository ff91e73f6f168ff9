"""``senet models``: names, parameters, GFLOPs at the model's own size and pretrained tags."""

import json

import pytest

from senet.cli import main
from senet.commands.models import select
from senet.weights.pretrained import PRETRAINED


def test_models_table_lists_tags_with_reported_top1(capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "se_resnet50", "resnet50", "se_resnet20_cifar"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["model", "input", "params", "(M)", "GFLOPs"]
    first = lines[1].split()
    assert first[:4] == ["se_resnet50", "224", "28.1", "3.87"] and first[4:6] == [
        "*se_resnet50.cadene",
        "77.64",
    ]
    assert "prefix ce0d4300 only" in lines[1]
    tags = [line.split()[0] for line in lines[2:6]]
    assert tags == [
        "se_resnet50.timm_ra2",
        "se_resnet50.timm_a1",
        "se_resnet50.timm_a2",
        "se_resnet50.timm_a3",
    ]
    assert lines[6].split() == ["resnet50", "224", "25.6", "3.86", "-"]
    assert lines[7].split()[:2] == ["se_resnet20_cifar", "32"]  # the model's own input size


def test_models_pretrained_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "se_resnet5*", "resnet*", "--pretrained", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in rows] == ["se_resnet50"]  # no plain resnet has weights
    row = rows[0]
    assert row["input_size"] == 224 and row["params"] == 28088024 and 3.8 < row["gmacs"] < 3.9
    by_tag = {w["tag"]: w for w in row["pretrained"]}
    assert by_tag["se_resnet50.cadene"]["default"] and not by_tag["se_resnet50.timm_ra2"]["default"]
    assert by_tag["se_resnet50.timm_ra2"]["layout"] == "timm"
    assert by_tag["se_resnet50.timm_ra2"]["preprocessing"]["interpolation"] == "bicubic"
    assert by_tag["se_resnet50.cadene"]["verification"] == "prefix only"
    assert by_tag["se_resnet50.cadene"]["urls"][0].startswith("https://")


def test_models_pretrained_selects_exactly_the_models_with_weights(capsys: pytest.CaptureFixture) -> None:
    assert select((), pretrained=True) == sorted(PRETRAINED)
    assert main(["models", "nothing_like_this*"]) == 2
    assert "no model matches" in capsys.readouterr().err
