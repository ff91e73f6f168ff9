"""Export with dynamic batch and spatial size: ONNX vs onnxruntime, TorchScript, ExportedProgram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from weight_fixtures import randomize, small_config

from senet.cli import main
from senet.models.resnet import ResNet
from senet.weights.export import export_model

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
