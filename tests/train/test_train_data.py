"""Training and evaluation on awkward data trees: every image unreadable, skip counts in the metrics,
classes matched by name on another folder, a test-only folder, relative roots (issue 13)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from train_fixtures import tiny_config

from senet.cli import main
from senet.data import DataConfig, DataError
from senet.train import fit
from senet.train.sources import load_weights_and_data

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from data_fixtures import write_tree  # noqa: E402


def _folder(root: Path, **changes: object) -> DataConfig:
    return DataConfig(dataset="folder", root=str(root), input_size=8, workers=0, **changes)


@pytest.fixture(scope="module")
def ants_bees(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-epoch run on a folder of ants and bees."""
    tmp = tmp_path_factory.mktemp("antsbees")
    for split in ("train", "val"):
        write_tree(tmp / "data", classes=("ants", "bees"), per_class=2, split=split)
    fit(tiny_config(tmp / "run", data=_folder(tmp / "data"), epochs=1), quiet=True)
    return tmp / "run"


def test_every_image_unreadable_stops_the_run(tmp_path: Path) -> None:
    for path in write_tree(tmp_path / "data", per_class=2) + write_tree(tmp_path / "data", split="val"):
        path.write_bytes(b"not an image")
    config = tiny_config(tmp_path / "run", data=_folder(tmp_path / "data", skip_bad_images=True), epochs=1)
    with pytest.raises(DataError, match=r"no training image could be read: all 4 were skipped"):
        fit(config, quiet=True)
    assert not (tmp_path / "run" / "result.json").exists()


def test_skipped_files_are_counted_by_reason_in_the_metrics(tmp_path: Path) -> None:
    write_tree(tmp_path / "data", per_class=2)
    write_tree(tmp_path / "data", per_class=1, split="val")
    (tmp_path / "data" / "train" / "cat" / "bad.jpg").write_bytes(b"not an image")
    (tmp_path / "data" / "train" / "dog" / "._0.jpg").write_bytes(b"resource fork")
    config = tiny_config(tmp_path / "run", data=_folder(tmp_path / "data", skip_bad_images=True), epochs=1)
    result = fit(config, quiet=True)
    (row,) = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert row["skipped_images"] == 1 and row["train_images"] == 4
    assert row["skipped"] == {"hidden file": 1, "unreadable (UnidentifiedImageError)": 1}
    assert result.skipped == row["skipped"]  # and in result.json
    assert json.loads((tmp_path / "run" / "result.json").read_text())["skipped"] == row["skipped"]


def test_a_relative_data_root_is_stored_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path / "data", per_class=1)
    write_tree(tmp_path / "data", per_class=1, split="val")
    monkeypatch.chdir(tmp_path)
    fit(tiny_config("run", data=_folder(Path("data")), epochs=1), quiet=True)
    stored = json.loads((tmp_path / "run" / "config.json").read_text())["data"]["root"]
    assert stored == str(tmp_path / "data")


def _eval(run: Path, root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["eval", "--weights", str(run), "--data-root", str(root), "--workers", "0", "--json", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_eval_on_other_classes_is_refused_with_both_names(ants_bees, tmp_path, capsys) -> None:
    write_tree(tmp_path, classes=("dog", "fish"), per_class=1, split="val")
    write_tree(tmp_path, classes=("dog", "fish"), per_class=1, split="train")
    code, _, err = _eval(ants_bees, tmp_path, capsys)
    assert code == 2 and "'dog', 'fish'" in err and "'ants', 'bees'" in err


def test_eval_maps_classes_by_name(ants_bees, tmp_path) -> None:
    images = write_tree(tmp_path, classes=("ants", "bees"), per_class=1, split="val")
    for split in ("train", "val"):
        (tmp_path / f"{split}.txt").write_text(f"{images[1]} 0\n{images[0]} 1\n")  # bees first: label 0
    (tmp_path / "classes.txt").write_text("bees\nants\n")
    args = _parser_args(["--weights", str(ants_bees), "--data", "filelist", "--data-root", str(tmp_path)])
    loaded = load_weights_and_data(args)
    assert [t for _, labels in loaded.loader for t in labels.tolist()] == [1, 0]  # the model's indices


def test_eval_of_a_test_only_folder(ants_bees, tmp_path, capsys) -> None:
    write_tree(tmp_path, classes=("bees",), per_class=2, split="val")  # no train/, one of the classes
    code, out, err = _eval(ants_bees, tmp_path, capsys)
    assert code == 0, err
    assert json.loads(out)["val_images"] == 2
    loaded = load_weights_and_data(_parser_args(["--weights", str(ants_bees), "--data-root", str(tmp_path)]))
    assert [t for _, labels in loaded.loader for t in labels.tolist()] == [1, 1]  # bees is the model's 1


def _parser_args(argv: list[str]):  # noqa: ANN202
    from senet.cli import build_parser

    return build_parser().parse_args(["eval", *argv, "--workers", "0"])
