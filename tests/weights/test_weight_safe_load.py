"""Safe loading: safetensors and plain tensors load; a pickle that carries code is refused."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from senet.weights.safe_load import UnsafeCheckpointError, load_state_dict_file


class WritesAFile:
    """Unpickling this would create ``target`` -- if the loader ever ran pickled code."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple:
        return (Path.write_text, (self.target, "code ran"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_pickle_with_code_is_refused_and_not_run(tmp_path: Path, writer: str) -> None:
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pth"
    payload = {"conv1.weight": torch.zeros(1), "extra": WritesAFile(marker)}
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        with open(path, "wb") as fh:
            pickle.dump(payload, fh)
    assert not marker.exists()
    with pytest.raises(UnsafeCheckpointError, match=r"evil\.pth: refused to load.*Nothing from it was run"):
        load_state_dict_file(path)
    assert not marker.exists()


def test_plain_checkpoints_load(tmp_path: Path) -> None:
    sd = {"conv1.weight": torch.randn(2, 3, 1, 1), "fc.bias": torch.randn(4)}
    torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}, "epoch": 3}, tmp_path / "a.pth")
    save_file(sd, str(tmp_path / "b.safetensors"), metadata={"senet.model": "x"})
    (loaded_a, meta_a), (loaded_b, meta_b) = (
        load_state_dict_file(tmp_path / n) for n in ("a.pth", "b.safetensors")
    )
    assert meta_a == {} and meta_b == {"senet.model": "x"}
    for loaded in (loaded_a, loaded_b):
        assert loaded.keys() == sd.keys() and all(torch.equal(loaded[k], sd[k]) for k in sd)


def test_missing_or_foreign_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothere.pth"):
        load_state_dict_file(tmp_path / "nothere.pth")
    (tmp_path / "model.caffemodel").write_bytes(b"\x0a\x04tiny")  # a protobuf, not a pickle
    with pytest.raises(
        ValueError, match=r"model\.caffemodel: not a safetensors or PyTorch checkpoint"
    ) as err:
        load_state_dict_file(tmp_path / "model.caffemodel")
    assert not isinstance(err.value, UnsafeCheckpointError)
