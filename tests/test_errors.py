"""The error boundary: each expected failure of the ``senet`` command is one line on stderr that
names the file, field or value, with the documented exit code; a bug keeps its traceback.

One test per case of issue 13's list (unwritable or file ``--out``, disk full, truncated or foreign
weights, truncated or hostile ``state.pt``, ``--device tpu``, ``--input-size 0``,
``--resume RUN --model OTHER``), each with small data made here.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError
from safetensors.torch import save_file

import senet.commands.complexity as complexity_cmd
import senet.weights.safe_load as safe_load
from senet.api import create_model
from senet.cli import build_parser, main
from senet.errors import NonFiniteError, OutputError, SenetError, WeightsFileError
from senet.runtime import pick_device, prepare_output
from senet.weights.safe_load import (
    UnsafeCheckpointError,
    load_torch_file,
    read_safetensors,
    save_safetensors_file,
    save_torch_file,
)

TINY = ["--set", "data.input_size=8", "--set", "data.limit_train=64", "--set", "data.limit_val=32"]
TINY += ["--batch-size", "32", "--epochs", "1", "--quiet", "--deterministic", "--threads", "1"]
TRAIN = ["train", "--model", "se_resnet20_cifar", *TINY]


def one_line_error(capsys: pytest.CaptureFixture, *names: str) -> str:
    """The captured stderr, checked to be one ``senet X: error: ...`` line naming every ``names``."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("senet ") and ": error: " in lines[0], err
    for name in names:
        assert str(name) in lines[0], (name, err)
    assert "Traceback" not in err and "weights_only=False" not in err
    return lines[0]


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A folder nothing can be created in: read-only for a normal user; as root (who ignores
    permissions) a path in sysfs, which refuses new entries."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if not Path("/sys/kernel").is_dir():
        pytest.skip("needs a read-only folder: run as a normal user or on Linux")
    yield Path("/sys/senet-test-unwritable")


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    return path


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 1-epoch run of se_resnet20_cifar on 64 digits at 8x8."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert main([*TRAIN, "--out", str(out)]) == 0
    return out


def _copy_run(run_folder: Path, tmp_path: Path) -> tuple[Path, Path]:
    run = tmp_path / "run"
    shutil.copytree(run_folder, run)
    (result := run / "result.json").unlink(missing_ok=True)  # a stopped run, to be resumed
    assert not result.exists()
    return run, next((run / "checkpoints").glob("*/state.pt"))


# --------------------------------------------------------------------------- exit codes


def test_exit_codes_are_documented() -> None:
    help_text = build_parser().format_help()
    for code in ("0 success", "1 unexpected", "2 bad input", "3 training stopped", "130 interrupted"):
        assert code in " ".join(help_text.split())
    assert "Exit codes of every command" in Path(__file__).parents[1].joinpath("README.md").read_text()
    assert SenetError("x").exit_code == 2 and NonFiniteError("x").exit_code == 3
    assert issubclass(SenetError, ValueError) and issubclass(OutputError, OSError)


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(complexity_cmd, "run", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["complexity", "resnet18"])


def test_a_senet_error_sets_its_exit_code(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def stops(args: argparse.Namespace) -> int:
        raise NonFiniteError("loss is nan at epoch 2\n(kept epoch 1)")

    monkeypatch.setattr(complexity_cmd, "run", stops)
    assert main(["complexity", "resnet18"]) == 3
    assert one_line_error(capsys, "epoch 2", "(kept epoch 1)")


# --------------------------------------------------------------------------- unwritable --out


def test_train_unwritable_out(unwritable: Path, capsys) -> None:
    assert main([*TRAIN, "--out", str(unwritable / "run")]) == 2
    one_line_error(capsys, unwritable)


def test_train_out_is_a_file(a_file: Path, capsys) -> None:
    assert main([*TRAIN, "--out", str(a_file)]) == 2
    one_line_error(capsys, a_file, "is a file")


def test_export_unwritable_out(unwritable: Path, capsys) -> None:
    assert main(["export", "resnet18", "--format", "torchscript", "--out", str(unwritable / "m.pt")]) == 2
    one_line_error(capsys, unwritable)


def test_export_out_under_a_file(a_file: Path, capsys) -> None:
    assert main(["export", "resnet18", "--format", "torchscript", "--out", str(a_file / "m.pt")]) == 2
    one_line_error(capsys, a_file, "is a file")


def test_convert_unwritable_out(unwritable: Path, tmp_path: Path, capsys) -> None:
    save_file({"w": torch.zeros(1)}, str(tmp_path / "in.safetensors"))
    assert (
        main(["convert", str(tmp_path / "in.safetensors"), "--from", "timm", "--to", str(unwritable / "m")])
        == 2
    )
    one_line_error(capsys, unwritable)


def test_bench_json_unwritable(unwritable: Path, capsys) -> None:
    argv = ["bench", "resnet20_cifar", "--reps", "1", "--warmup", "0", "--batch", "2", "--dtypes", "fp32"]
    assert main([*argv, "--image-size", "8", "--json", str(unwritable / "bench.json")]) == 2
    one_line_error(capsys, unwritable)


def test_ablate_unwritable_out(unwritable: Path, capsys) -> None:
    assert (
        main(["ablate", "--grid", "table10", "--variants", "r=16", *TINY, "--out", str(unwritable / "ab")])
        == 2
    )
    one_line_error(capsys, unwritable)


def test_ablate_out_is_a_file(a_file: Path, capsys) -> None:
    assert main(["ablate", "--grid", "table10", "--variants", "r=16", *TINY, "--out", str(a_file)]) == 2
    one_line_error(capsys, a_file, "is a file")


def test_analyze_unwritable_out(run_folder: Path, unwritable: Path, capsys) -> None:
    argv = ["analyze", "--weights", str(run_folder), "--limit-batches", "1", "--no-importance"]
    assert main([*argv, "--out", str(unwritable / "analysis")]) == 2
    one_line_error(capsys, unwritable)


def test_prepare_output(tmp_path: Path, a_file: Path) -> None:
    assert prepare_output(tmp_path / "a" / "b", folder=True).is_dir()
    assert prepare_output(tmp_path / "c" / "x.json", folder=False) == tmp_path / "c" / "x.json"
    assert (tmp_path / "c").is_dir()
    with pytest.raises(OutputError, match="is a file"):
        prepare_output(a_file, folder=True)
    with pytest.raises(OutputError, match="is a folder"):
        prepare_output(tmp_path, folder=False)


# --------------------------------------------------------------------------- disk full


# torch's and safetensors' own errors when a 64 KiB tmpfs filled up during the write
TORCH_DISK_FULL = "[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"
SAFETENSORS_DISK_FULL = "Error while serializing: I/O error: No space left on device (os error 28)"


def _torch_disk_full(obj: object, f: object, *args: object, **kwargs: object) -> None:
    raise RuntimeError(TORCH_DISK_FULL)


def test_disk_full_is_an_output_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def safetensors_disk_full(*args: object, **kwargs: object) -> None:
        raise SafetensorError(SAFETENSORS_DISK_FULL)

    monkeypatch.setattr(torch, "save", _torch_disk_full)
    monkeypatch.setattr(safe_load, "save_file", safetensors_disk_full)
    with pytest.raises(
        OutputError, match=r"state\.pt: cannot write the training state .*unexpected pos.*MiB free"
    ):
        save_torch_file({"w": torch.zeros(10)}, tmp_path / "state.pt")
    with pytest.raises(OutputError, match=r"model\.safetensors: cannot write the weights .*No space left"):
        save_safetensors_file({"w": torch.zeros(10)}, tmp_path / "model.safetensors")


def test_train_disk_full_during_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(torch, "save", _torch_disk_full)
    assert main([*TRAIN, "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys, tmp_path / "run", "state.pt", "unexpected pos")


# --------------------------------------------------------------------------- bad weights files


@pytest.fixture
def bad_safetensors(tmp_path: Path) -> dict[str, Path]:
    save_file(
        {"conv1.weight": torch.zeros(16, 3, 3, 3), "fc.weight": torch.zeros(10, 64)}, str(tmp_path / "ok")
    )
    data = (tmp_path / "ok").read_bytes()
    (truncated := tmp_path / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    (foreign := tmp_path / "foreign.safetensors").write_bytes(b"<html>not found</html>")
    return {"truncated": truncated, "foreign": foreign}


@pytest.mark.parametrize("kind", ["truncated", "foreign"])
def test_convert_bad_safetensors(bad_safetensors: dict[str, Path], kind: str, tmp_path: Path, capsys) -> None:
    path = bad_safetensors[kind]
    assert main(["convert", str(path), "--from", "timm", "--to", str(tmp_path / "out")]) == 2
    one_line_error(capsys, path)


@pytest.mark.parametrize("kind", ["truncated", "foreign"])
def test_export_bad_safetensors(bad_safetensors: dict[str, Path], kind: str, tmp_path: Path, capsys) -> None:
    path = bad_safetensors[kind]
    argv = ["export", "se_resnet20_cifar", "--weights", str(path), "--format", "torchscript"]
    assert main([*argv, "--out", str(tmp_path / "m.pt")]) == 2
    one_line_error(capsys, path)


@pytest.mark.parametrize("kind", ["truncated", "foreign"])
def test_create_model_bad_safetensors(bad_safetensors: dict[str, Path], kind: str) -> None:
    path = bad_safetensors[kind]
    with pytest.raises(SenetError, match=path.name):
        create_model("se_resnet20_cifar", weights=str(path))
    with pytest.raises(WeightsFileError, match=path.name):
        read_safetensors(path)


# --------------------------------------------------------------------------- state.pt on resume


def test_load_torch_file_truncated_or_hostile(tmp_path: Path) -> None:
    torch.save({"epoch": 1, "t": torch.ones(3)}, tmp_path / "state.pt")
    assert load_torch_file(tmp_path / "state.pt")["epoch"] == 1
    data = (tmp_path / "state.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFileError, match=r"cut\.pt: cannot read the training state: truncated"):
        load_torch_file(tmp_path / "cut.pt", "training state")
    torch.save({"epoch": 1, "x": argparse.Namespace(a=1)}, tmp_path / "evil.pt")
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pt: refused to load the training state") as err:
        load_torch_file(tmp_path / "evil.pt", "training state")
    assert "weights_only=False" not in str(err.value) and "Nothing from it was run" in str(err.value)


def test_resume_truncated_state(run_folder: Path, tmp_path: Path, capsys) -> None:
    run, state = _copy_run(run_folder, tmp_path)
    state.write_bytes(state.read_bytes()[:1000])
    assert main(["train", "--resume", str(run), "--set", "epochs=2", "--quiet"]) == 2
    one_line_error(capsys, state)


def test_resume_hostile_state(run_folder: Path, tmp_path: Path, capsys) -> None:
    run, state = _copy_run(run_folder, tmp_path)
    torch.save({"epoch": 1, "payload": argparse.Namespace(a=1)}, state)
    assert main(["train", "--resume", str(run), "--set", "epochs=2", "--quiet"]) == 2
    one_line_error(capsys, state, "refused to load")


def test_resume_with_another_model(run_folder: Path, tmp_path: Path, capsys) -> None:
    run, _ = _copy_run(run_folder, tmp_path)
    assert (
        main(["train", "--resume", str(run), "--model", "resnet20_cifar", "--set", "epochs=2", "--quiet"])
        == 2
    )
    one_line_error(capsys, "model.name='resnet20_cifar'", "se_resnet20_cifar")


# --------------------------------------------------------------------------- bad values


def test_device_tpu(tmp_path: Path, capsys) -> None:
    assert main([*TRAIN, "--device", "tpu", "--out", str(tmp_path / "run")]) == 2
    one_line_error(capsys, "device='tpu'")
    with pytest.raises(SenetError, match="not a device name"):
        pick_device("tpu")


@pytest.mark.parametrize("command", [["export", "resnet18", "--out", "x.onnx"], ["complexity", "resnet18"]])
def test_input_size_zero(command: list[str], capsys) -> None:
    assert main([*command, "--input-size", "0"]) == 2
    one_line_error(capsys, "--input-size", "0")
