"""Export with dynamic batch and spatial size: ONNX vs onnxruntime, TorchScript, ExportedProgram."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from weight_fixtures import randomize, small_config

from senet.api import create_model
from senet.cli import main
from senet.commands import export as export_command
from senet.models.resnet import ResNet
from senet.weights import Converted, Preprocessing
from senet.weights.export import export_model
from senet.weights.onnx_export import OnnxCheck, check_onnx, check_shapes, read_metadata

SHAPES = [(1, 64), (3, 96)]  # (batch, side): two batch sizes and two spatial sizes


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return randomize(ResNet(small_config("seresnet", stem_pool_ceil=True)))  # thin SE-ResNet, 10 classes


def test_onnx_matches_onnxruntime(model: torch.nn.Module, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    path = export_model(model, "onnx", tmp_path / "m.onnx", input_size=64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    for batch, side in SHAPES:
        x = torch.randn(batch, 3, side, side + 16)  # non-square too
        (got,) = session.run(None, {"input": x.numpy()})
        with torch.no_grad():
            want = model(x).numpy()
        assert got.shape == (batch, 10)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fmt", ["torchscript", pytest.param("exported-program", marks=pytest.mark.slow)])
def test_torchscript_and_exported_program_match_eager(
    model: torch.nn.Module, tmp_path: Path, fmt: str
) -> None:
    path = export_model(model, fmt, tmp_path / "m.bin", input_size=64)
    loaded = torch.jit.load(str(path)) if fmt == "torchscript" else torch.export.load(str(path)).module()
    for batch, side in SHAPES:
        x = torch.randn(batch, 3, side, side)
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), model(x), rtol=1e-5, atol=1e-5)


def test_export_command(tmp_path: Path) -> None:
    out = tmp_path / "r.pt"
    argv = f"export resnet18 --format torchscript --out {out} --input-size 32 --num-classes 3".split()
    assert main(argv) == 0
    assert torch.jit.load(str(out))(torch.randn(2, 3, 48, 40)).shape == (2, 3)
    missing = tmp_path / "no.pth"
    assert main(f"export resnet18 --format torchscript --out {out} --weights {missing}".split()) == 2


# ONNX through torch.export (dynamo), the legacy exporter behind a flag, metadata and --check.
# Each dynamo export takes several seconds here, so each test exports one model once.


def onnx_dims(path: Path) -> tuple[list[str | int], list[str | int]]:
    """The (input, output) shapes of an ONNX file: dim names where symbolic, else sizes."""
    onnx = pytest.importorskip("onnx")
    graph = onnx.load(str(path), load_external_data=False).graph
    return tuple(  # type: ignore[return-value]
        [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in (graph.input[0], graph.output[0])
    )


def run_onnxruntime(path: Path, x: torch.Tensor) -> np.ndarray:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x.numpy()})
    return got


@pytest.fixture(scope="module")
def se_resnet18_onnx(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    model = create_model("se_resnet18").eval()
    out = tmp_path_factory.mktemp("se18") / "se18.onnx"
    export_model(model, "onnx", out, input_size=64, metadata={"senet.model": "se_resnet18", "k": "v"})
    return model, out


def test_dynamo_onnx_round_trips_se_resnet18(se_resnet18_onnx: tuple[torch.nn.Module, Path]) -> None:
    model, path = se_resnet18_onnx
    assert onnx_dims(path) == (["batch", 3, "height", "width"], ["batch", 1000])
    assert sorted(p.name for p in path.parent.iterdir()) == ["se18.onnx"]  # weights inside the one file
    assert read_metadata(path) == {"senet.model": "se_resnet18", "k": "v"}
    for batch, h, w in [(2, 64, 64), (1, 96, 80), (3, 40, 56)]:
        x = torch.randn(batch, 3, h, w)
        with torch.no_grad():
            want = model(x).numpy()
        got = run_onnxruntime(path, x)
        assert got.shape == (batch, 1000)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_check_onnx_passes_the_export_and_fails_a_different_model(
    se_resnet18_onnx: tuple[torch.nn.Module, Path],
) -> None:
    model, path = se_resnet18_onnx
    shapes = check_shapes(64)
    assert shapes == [(2, 3, 64, 64), (1, 3, 96, 80)]
    results = check_onnx(path, model, shapes)
    assert [r.shape for r in results] == shapes and all(r.ok for r in results)
    assert all(r.max_abs_diff <= 1e-4 * r.scale for r in results)
    other = copy.deepcopy(model)
    with torch.no_grad():
        other.fc.bias[3] += 1e-3  # one logit moved by 1e-3: well above the tolerance
    bad = check_onnx(path, other, shapes)
    assert not any(r.ok for r in bad) and all(r.max_abs_diff == pytest.approx(1e-3, rel=1e-2) for r in bad)
    assert "FAILED" in str(bad[0]) and "ok" in str(results[0])


def test_export_command_onnx_defaults_to_the_model_input_size_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("onnxscript")
    out = tmp_path / "c.onnx"
    torch.manual_seed(0)
    assert main(f"export se_resnet20_cifar --out {out} --check".split()) == 0  # no --input-size
    printed = capsys.readouterr().out
    assert "via torch.export, input size 32," in printed
    checks = [line for line in printed.splitlines() if line.startswith("check: ")]
    assert len(checks) == 2 and all(line.endswith(" ok") for line in checks)
    assert "input 2x3x32x32: max |onnxruntime - eager| = " in checks[0] and "input 1x3x48x40" in checks[1]
    assert onnx_dims(out) == (["batch", 3, "height", "width"], ["batch", 10])
    meta = read_metadata(out)
    assert meta["senet.model"] == "se_resnet20_cifar" and meta["senet.input_size"] == "32"
    assert meta["senet.mean"] == "0.485,0.456,0.406" and meta["senet.std"] == "0.229,0.224,0.225"
    assert meta["senet.preprocessing"] == "ImageNet defaults" and "senet.label_order" not in meta
    torch.manual_seed(0)  # the same random initialisation as the command's
    model = create_model("se_resnet20_cifar").eval()
    for batch, side in [(1, 32), (4, 40)]:  # independent of --check: other batch and size
        x = torch.randn(batch, 3, side, side)
        with torch.no_grad():
            np.testing.assert_allclose(run_onnxruntime(out, x), model(x).numpy(), rtol=1e-4, atol=1e-4)


def test_export_command_legacy_onnx_with_external_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "legacy.onnx"
    argv = f"export se_resnet20_cifar --out {out} --legacy-onnx --external-data --check --num-classes 7"
    assert main(argv.split()) == 0
    printed = capsys.readouterr().out
    assert "via the TorchScript exporter, input size 32," in printed
    assert printed.count("check: input") == 2 and " FAILED" not in printed
    assert (tmp_path / "legacy.onnx.data").stat().st_size > out.stat().st_size  # the weights beside it
    assert onnx_dims(out) == (["batch", 3, "height", "width"], ["batch", 7])
    assert read_metadata(out)["senet.model"] == "se_resnet20_cifar"
    assert run_onnxruntime(out, torch.randn(3, 3, 24, 40)).shape == (3, 7)
    size = (tmp_path / "legacy.onnx.data").stat().st_size
    assert main(argv.split()) == 0  # writing again replaces the data file rather than appending to it
    assert (tmp_path / "legacy.onnx.data").stat().st_size == size
    assert run_onnxruntime(out, torch.randn(1, 3, 32, 32)).shape == (1, 7)


def test_export_command_check_failure_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disagree(path: Path, model: torch.nn.Module, shapes: list, *, rtol: float) -> list[OnnxCheck]:
        return [OnnxCheck(tuple(s), 0.5, 2.0, rtol) for s in shapes]

    monkeypatch.setattr(export_command, "check_onnx", disagree)
    out = tmp_path / "m.onnx"
    assert main(f"export resnet20_cifar --out {out} --legacy-onnx --check".split()) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out
    assert "ONNX check failed: onnxruntime differs from eager PyTorch by 0.5 > 0.0001 x 2" in captured.err


def test_export_command_input_size_defaults_to_the_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: dict[str, int] = {}

    def fake_export(model: torch.nn.Module, fmt: str, out: str, *, input_size: int, **kwargs: object) -> Path:
        sizes[out] = input_size
        return Path(out)

    monkeypatch.setattr(export_command, "create_model", lambda name, **kwargs: torch.nn.Identity())
    monkeypatch.setattr(export_command, "export_model", fake_export)
    for name in ("se_inception_resnet_v2", "se_resnet56_cifar", "se_resnet50"):
        assert main(f"export {name} --format torchscript --out {name}".split()) == 0
    assert main("export se_resnet56_cifar --format torchscript --out given --input-size 48".split()) == 0
    assert sizes == {"se_inception_resnet_v2": 299, "se_resnet56_cifar": 32, "se_resnet50": 224, "given": 48}


@pytest.mark.parametrize("flag", ["--check", "--legacy-onnx", "--external-data"])
def test_export_command_refuses_onnx_flags_for_other_formats(tmp_path: Path, flag: str) -> None:
    assert main(f"export resnet20_cifar --format torchscript --out {tmp_path / 'm.pt'} {flag}".split()) == 2


def test_export_command_writes_the_weights_preprocessing(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("se_resnet18", num_classes=4)
    prep = Preprocessing(
        mean=(0.5, 0.25, 0.125), std=(0.1, 0.2, 0.3), crop_fraction=0.9, interpolation="bicubic"
    )
    weights = Converted(model.state_dict(), model.config, "se_resnet18", prep, "test").save(
        tmp_path / "w.safetensors"
    )
    out = tmp_path / "w.onnx"
    assert (
        main(f"export se_resnet18 --weights {weights} --out {out} --legacy-onnx --input-size 64".split()) == 0
    )
    meta = read_metadata(out)
    assert meta["senet.preprocessing"] == "weights" and meta["senet.input_size"] == "64"
    assert meta["senet.mean"] == "0.5,0.25,0.125" and meta["senet.std"] == "0.1,0.2,0.3"
    assert meta["senet.crop_fraction"] == "0.9" and meta["senet.interpolation"] == "bicubic"
    assert meta["senet.label_order"] == "sorted-wnid"
    x = torch.randn(2, 3, 72, 64)
    with torch.no_grad():
        np.testing.assert_allclose(run_onnxruntime(out, x), model.eval()(x).numpy(), rtol=1e-4, atol=1e-4)
