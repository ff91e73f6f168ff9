"""A foreign layout given to ``create_model(name, weights=FILE)`` is detected and converted, or
refused with the command that converts it; never loaded silently into the wrong network."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import torch
from caffe_writer import encode_net, tiny_se_resnet
from weight_fixtures import randomize

from senet.api import create_model
from senet.cli import main
from senet.layers.se import SEConfig
from senet.weights.convert import AmbiguousLayoutError, convert_state_dict, read_weights_file
from senet.weights.detect import has_timm_se_widths, stride_is_ambiguous
from senet.zoo import MODELS

TIMM_SE = SEConfig(divisor=8)  # timm: C / 16 rounded to a multiple of 8, at least 8


def _meta_sd(name: str, **overrides: object) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return create_model(name, **overrides).state_dict()


def test_timm_se_widths_are_told_apart_where_they_differ() -> None:
    assert has_timm_se_widths(_meta_sd("se_resnet18", se=TIMM_SE))  # C = 64: 8, not 4
    assert not has_timm_se_widths(_meta_sd("se_resnet18"))
    assert not has_timm_se_widths(_meta_sd("resnet50"))  # no SE blocks
    # every C a multiple of 128: both rules give the same widths, which then prove nothing
    assert not has_timm_se_widths(_meta_sd("se_resnet50", se=TIMM_SE))


def test_stride_is_ambiguous_only_where_it_changes_the_network() -> None:
    sd = _meta_sd("se_resnet50")
    assert stride_is_ambiguous(sd, MODELS.get("se_resnet50").config)  # senet: 1x1, timm: 3x3
    assert stride_is_ambiguous(sd, MODELS.get("resnet50").config)
    assert not stride_is_ambiguous(sd, MODELS.get("se_resnext50_32x4d").config)  # 3x3 in both
    assert not stride_is_ambiguous(_meta_sd("se_resnet18"), MODELS.get("se_resnet18").config)  # no bottleneck
    assert not stride_is_ambiguous(sd, None)  # not a ResNet-family target


def test_timm_se_resnet18_file_is_recognised(tmp_path: Path) -> None:
    ref = randomize(create_model("se_resnet18", se=TIMM_SE, num_classes=10))
    torch.save(ref.state_dict(), tmp_path / "seresnet18.pth")
    model = create_model("se_resnet18", weights=tmp_path / "seresnet18.pth")
    assert model.config.se.divisor == 8 and model.config.relu_before_se is False
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref(x), rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def raw_se_resnet50(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, torch.Tensor]]:
    """A state dict in torchvision / timm names, no metadata: timm's or senet's, nobody can tell."""
    torch.manual_seed(0)
    sd = randomize(create_model("se_resnet50", num_classes=10)).state_dict()
    path = tmp_path_factory.mktemp("raw") / "seresnet50.pth"
    torch.save(sd, path)
    return path, sd


def _logits(model: torch.nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2)))


def test_ambiguous_bottleneck_file_is_refused_with_the_command(
    tmp_path: Path, raw_se_resnet50: tuple[Path, dict[str, torch.Tensor]]
) -> None:
    path, sd = raw_se_resnet50
    with pytest.raises(AmbiguousLayoutError) as err:
        create_model("se_resnet50", weights=path)
    message = str(err.value)
    assert str(path) in message and "timm" in message and "senet" in message
    command = re.search(r"senet convert --from timm \S+ --to \S+", message)
    assert command is not None and command.group(0).split()[4] == str(path)
    out = tmp_path / "converted.safetensors"
    argv = shlex.split(command.group(0))[1:]
    argv[-1] = str(out)  # the suggested command, writing into this test's folder
    assert main(argv) == 0
    model = create_model("se_resnet50", weights=out)
    assert model.config.stride_in_1x1 is False  # timm's network
    timm_net = create_model("se_resnet50", num_classes=10, stride_in_1x1=False)
    timm_net.load_state_dict(sd)
    torch.testing.assert_close(_logits(model), _logits(timm_net))


def test_caller_can_state_the_layout(raw_se_resnet50: tuple[Path, dict[str, torch.Tensor]]) -> None:
    path, sd = raw_se_resnet50
    own = create_model("se_resnet50", num_classes=10)
    own.load_state_dict(sd)
    as_senet = create_model("se_resnet50", weights=path, layout="senet", num_classes=10)
    assert as_senet.config.stride_in_1x1 is True
    torch.testing.assert_close(_logits(as_senet), _logits(own))
    as_timm = create_model("se_resnet50", weights=path, layout="timm")
    stated = create_model("se_resnet50", weights=path, stride_in_1x1=False, num_classes=10)
    assert as_timm.config.stride_in_1x1 is False and stated.config.stride_in_1x1 is False
    torch.testing.assert_close(_logits(as_timm), _logits(stated))
    assert (_logits(as_timm) - _logits(own)).abs().max() > 1e-3  # the two readings differ


def test_caffemodel_is_detected_by_content(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"  # no .caffemodel suffix
    path.write_bytes(encode_net(list(tiny_se_resnet().values())))
    _, converted = read_weights_file(path)
    assert converted is not None and converted.source == "caffe"


def test_senet_file_is_not_read_as_another_layout(tmp_path: Path) -> None:
    ref = create_model("se_resnet18", num_classes=10)
    out = convert_state_dict(ref.state_dict(), "timm").save(tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="senet checkpoint"):
        read_weights_file(out, layout="cadene")
