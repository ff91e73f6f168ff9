"""Figs. 6 and 7 (Sec. 7.2): the per-class standard deviation against a hand computation, the
fig6 preset on an ImageNet-layout folder (its four WNID classes, 50 images each), its error
naming the missing class folders, and the Fig. 7 picture and numbers."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from senet.analysis.report import FIG6, select_images
from senet.analysis.stats import class_stds
from senet.cli import main
from senet.data import DataConfig, build_loaders
from senet.train.checkpoint import save_checkpoint
from senet.train.config import TrainConfig
from senet.train.models import build_model

WNIDS = [wnid for wnid, _ in FIG6.classes]


def test_class_stds_against_a_hand_computation() -> None:
    s = torch.tensor([[0.2, 0.4], [0.4, 0.6], [0.9, 0.1], [0.6, 0.3], [0.5, 0.5]])  # (N, C)
    stds = class_stds(s, torch.tensor([0, 0, 1, 0, 2]), 4)
    # class 0: values (0.2, 0.4, 0.6) and (0.4, 0.6, 0.3); sample sd: sqrt(sum (x - mean)^2 / 2)
    first = math.sqrt(((0.2 - 0.4) ** 2 + 0 + (0.6 - 0.4) ** 2) / 2)
    second = math.sqrt(((0.4 - 13 / 30) ** 2 + (0.6 - 13 / 30) ** 2 + (0.3 - 13 / 30) ** 2) / 2)
    assert stds[0].tolist() == pytest.approx([first, second])
    assert torch.isnan(stds[1:]).all()  # one image (class 1, 2) or none (class 3): no sample sd
    assert torch.allclose(class_stds(s, torch.zeros(5, dtype=torch.long), 1)[0], s.std(dim=0))
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        class_stds(s, torch.tensor([0, 0, 2, 0, 1]), 2)


def _folder(root: Path, classes: list[str], images: int) -> Path:
    for split in ("train", "val"):
        for n, name in enumerate(classes):
            (root / split / name).mkdir(parents=True)
            for i in range(images):
                colour = (40 * n % 256, 90 + i * 7 % 100, 200 - 30 * n % 200)
                Image.new("RGB", (10, 10), colour).save(root / split / name / f"img{i:03d}.png")
    return root


def test_the_preset_names_every_missing_class_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _folder(tmp_path / "data", [WNIDS[0], "n01440764"], images=2)
    with pytest.raises(
        ValueError, match=r"n02110958 \(pug\), n02690373 \(plane \(airliner\)\), n09246464 \(cliff\)"
    ):
        select_images(root, FIG6)
    argv = ["analyze", "--preset", "fig6", "--checkpoint", str(tmp_path / "nowhere"), "--data", "folder",
            "--data-root", str(root / "val"), "--out", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "needs the class folders n02110958 (pug)" in err and "n09246464 (cliff)" in err
    assert "goldfish" not in err  # that one is there
    assert main(argv[:-4] + ["--out", str(tmp_path / "out")]) == 2
    assert "give --data-root" in capsys.readouterr().err


def test_the_preset_takes_the_first_images_of_each_class(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data", WNIDS, images=3)
    small = FIG6.__class__(FIG6.name, FIG6.figure, FIG6.classes, per_class=2)
    chosen = select_images(root / "val", small)  # the class folders themselves
    assert [(p.parent.name, p.name, k) for p, k in chosen][:3] == [
        (WNIDS[0], "img000.png", 0), (WNIDS[0], "img001.png", 0), (WNIDS[1], "img000.png", 1)]  # fmt: skip
    assert select_images(root, small) == chosen  # or the folder holding val/


@pytest.fixture(scope="module")
def wnid_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An untrained se_resnet20_cifar checkpoint for a folder of 5 classes: the four WNIDs + one more."""
    tmp = tmp_path_factory.mktemp("fig6")
    root = _folder(tmp / "data", ["n01440764", *WNIDS], images=3)
    config = TrainConfig(model="se_resnet20_cifar", data=DataConfig(dataset="folder", root=str(root),
                                                                   input_size=8, workers=0))  # fmt: skip
    _, _, info = build_loaders(config.data, batch_size=8)
    torch.manual_seed(0)
    model = build_model(config, info)
    save_checkpoint(
        tmp / "run", epoch=1, model=model, state={}, config=config.to_dict(), data_info=info.to_dict()
    )
    return tmp / "run", root


def test_fig6_preset_and_fig7_on_an_imagenet_layout_folder(
    wnid_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, root = wnid_run
    out = tmp_path / "fig6"
    argv = ["analyze", "--preset", "fig6", "--checkpoint", str(run), "--data", "folder", "--data-root",
            str(root / "val"), "--out", str(out), "--threads", "1", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "12 images" in printed  # 4 classes x 3 images; the fifth class is left out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["classes"] == WNIDS and summary["images"] == 12
    last = summary["blocks"][-1]
    assert last["importance"] is None  # the preset skips the re-evaluations
    assert len(last["class_means"]) == 4 and len(last["class_stds"]) == 4 and len(last["class_stds"][0]) == 64
    for name in ("class_means.png", "class_spread.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((out / "class_spread.csv").open()))
    assert {r["block"] for r in rows} == {"layer3.0.se", "layer3.1.se", "layer3.2.se"}  # the last stage
    assert {r["class"] for r in rows} == set(WNIDS) and len(rows) == 3 * 4 * 50
    one = next(
        r for r in rows if r["block"] == "layer3.2.se" and r["class"] == WNIDS[2] and r["channel"] == "63"
    )
    assert float(one["mean"]) == last["class_means"][2][63] and float(one["std"]) == last["class_stds"][2][63]
    fig6 = {r["block"] for r in csv.DictReader((out / "class_means.csv").open())}
    assert fig6 == {"layer1.2.se", "layer2.2.se", "layer3.0.se", "layer3.1.se", "layer3.2.se"}


def test_fig7_std_in_the_report_is_the_instances_std(
    wnid_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the preset, on the run's own validation split: the classes by name, and the report's
    std of one block equals the sample std of the excitations recorded with the hooks."""
    from senet.analysis.report import collect
    from senet.data import build_eval_loader
    from senet.train.models import load_trained

    run, root = wnid_run
    out = tmp_path / "a"
    argv = ["analyze", "--checkpoint", str(run), "--out", str(out), "--threads", "1", "--quiet",
            "--no-importance", "--classes", WNIDS[3], "0"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["images"] == 15 and len(summary["classes"]) == 5
    model, config, _ = load_trained(str(run))
    loader, _ = build_eval_loader(config.data, batch_size=8)
    data = collect(model, loader)
    s, y = data.excitations["layer3.1.se"], data.labels  # (15, 64), (15,)
    expected = s[y == 4].double().std(dim=0)  # the sample sd over the 3 images of class 4
    block = next(b for b in summary["blocks"] if b["name"] == "layer3.1.se")
    assert block["class_stds"][4] == pytest.approx(expected.tolist(), abs=1e-5)
    classes = {r["class"] for r in csv.DictReader((out / "class_spread.csv").open())}
    assert classes == {WNIDS[3], "n01440764"}
